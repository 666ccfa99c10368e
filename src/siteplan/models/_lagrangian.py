r"""Lagrangian bound and reduction tests for the p-median (Beasley 1985, 1993).

Internal to :func:`siteplan.models.solve_pmedian`. The problem is

.. math::

    \min \sum_{(i,j)} c_{ij} x_{ij} \;\text{s.t.}\; \sum_j x_{ij} = 1,\;
    x_{ij} \le y_j,\; \sum_j y_j = p,\; y_j = 1\;(j \in F),\; y_j = 0\;(j \in C),

over the allowed pairs, with :math:`c_{ij} = w_i d_{ij}` (weighted demand only). Relaxing the
assignment rows with multipliers :math:`\lambda_i` gives, for any real :math:`\lambda`,

.. math::

    L(\lambda) = \sum_i \lambda_i + \min_{|Y| = p,\, F \subseteq Y,\, Y \cap C = \emptyset}
    \sum_{j \in Y} \rho_j, \qquad \rho_j = \sum_i \min(0,\, c_{ij} - \lambda_i),

a lower bound on the optimum (weak duality). Its best value equals the LP bound. The
multipliers are improved by subgradient optimisation (Held, Wolfe & Crowder 1974, step rule
of Beasley 1993). With the best :math:`\lambda` and the Lagrangian solution :math:`Y`
(:math:`k = p - |F|` free sites, :math:`\rho_{(k)}` the largest free :math:`\rho` in
:math:`Y`, :math:`\rho_{(k+1)}` the smallest outside):

* forcing a free :math:`j \notin Y` open costs at least :math:`L + \rho_j - \rho_{(k)}`;
* forcing a free :math:`j \in Y` closed costs at least :math:`L - \rho_j + \rho_{(k+1)}`.

* assigning demand :math:`i` to :math:`j` costs at least
  :math:`L + \max(0, c_{ij} - \lambda_i)`, plus :math:`\rho_j - \rho_{(k)}` when
  :math:`j \notin Y`.

When such a bound is not below the incumbent value ``ub`` (for an integer objective: above
``ub - 1``), no solution better than the incumbent opens (closes) :math:`j`, so :math:`j` is
closed (fixed open), or the pair is dropped. Pairs of closed candidates and pairs costlier than
the row's cheapest fixed-open candidate are dropped too. A candidate is never closed while
open in the incumbent, nor fixed open while closed in it, nor a pair of the incumbent's
assignment dropped, so the reduced problem always contains the incumbent, hence (every
better solution being kept) an optimal solution. Its Lagrangian bounds are therefore valid
bounds of the original problem. Comparisons carry a margin ``delta`` for rounding in the
sums, always in the direction that keeps candidates.

References
----------
Beasley, J. E. (1985). A note on solving large p-median problems. *European Journal of
Operational Research* 21(2), 270-273.
Beasley, J. E. (1993). Lagrangean heuristics for location problems. *European Journal of
Operational Research* 65(3), 383-399.
Held, M., Wolfe, P. & Crowder, H. P. (1974). Validation of subgradient optimization.
*Mathematical Programming* 6, 62-88.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numba import njit

# probing: first step factor and stall count before halving (measured on pmed36: 0.25 / 10
# left 197 of 800 candidates, 0.5 / 20 left 133 in about the same time)
_PROBE_STEP, _PROBE_STALL = 0.5, 20


@njit(cache=True)
def _rho(start, jj, cc, lam, m):  # pragma: no cover - compiled
    """rho_j = sum_i min(0, c_ij - lam_i); pairs of each row sorted by cost (early exit)."""
    rho = np.zeros(m)
    for r in range(len(start) - 1):
        lr = lam[r]
        for e in range(start[r], start[r + 1]):
            c = cc[e]
            if c >= lr:
                break
            rho[jj[e]] += c - lr
    return rho


@njit(cache=True)
def _assign_cost(start, jj, cc, open_mask):  # pragma: no cover - compiled
    """Cost of assigning every row to its cheapest open pair (inf if one has none)."""
    cost = 0.0
    for r in range(len(start) - 1):
        found = False
        for e in range(start[r], start[r + 1]):
            if open_mask[jj[e]]:
                cost += cc[e]
                found = True
                break
        if not found:
            return np.inf
    return cost


@njit(cache=True)
def _subgradient(start, jj, cc, lam, open_mask):  # pragma: no cover - compiled
    """g_i = 1 - #{j in Y: c_ij < lam_i}; also the assignment cost of Y (inf if some row has
    no open pair)."""
    nd = len(start) - 1
    g = np.empty(nd)
    for r in range(nd):
        lr = lam[r]
        cnt = 0
        for e in range(start[r], start[r + 1]):
            if cc[e] >= lr:
                break
            if open_mask[jj[e]]:
                cnt += 1
        g[r] = 1.0 - cnt
    return g, _assign_cost(start, jj, cc, open_mask)


@dataclass
class Reduction:
    """Outcome of :func:`lagrangian_reduce` (masks have shape (n_candidates,))."""

    closed: np.ndarray
    fixed: np.ndarray  # fixed open (required sites included)
    incumbent: np.ndarray
    ub: float
    bound: float  # best Lagrangian bound: a valid lower bound of the optimum
    proven: bool  # bound proves the incumbent optimal
    iterations: int
    rounds: int
    time_s: float
    keep: np.ndarray  # bool, shape (n_pairs,): pairs left in the reduced problem
    n_probed: int = 0  # candidates probed (bound re-optimised with the candidate forced)


def keep_pairs(rows: np.ndarray, jj: np.ndarray, cc: np.ndarray, nd: int, closed: np.ndarray,
               fixed: np.ndarray) -> np.ndarray:
    """Mask of the pairs that can still be an assignment: candidate not closed and cost not
    above that of the cheapest fixed-open candidate of the row (pairs sorted by row, cost)."""
    k = ~closed[jj]
    f = np.full(nd, np.inf)
    fx = fixed[jj]
    np.minimum.at(f, rows[fx], cc[fx])
    return k & (cc <= f[rows])


def lagrangian_reduce(
    rows: np.ndarray,
    jj: np.ndarray,
    cc: np.ndarray,
    m: int,
    p: int,
    required: np.ndarray,
    incumbent: np.ndarray | None,
    *,
    integral: bool,
    improve: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray] | None = None,
    rel_tol: float = 1e-9,
    probe: bool = True,
    max_rounds: int = 8,
    max_iter: int = 3000,
    probe_iter: int = 500,
    time_limit_s: float = 600.0,
) -> Reduction:
    """Subgradient optimisation of the Lagrangian bound, then reduction tests, repeated.

    Parameters
    ----------
    rows, jj, cc : ndarray, shape (n_pairs,)
        Allowed pairs sorted by (row, cost, candidate): demand row ``0..nd-1`` (every row
        present), candidate, weighted cost :math:`w_i d_{ij}`.
    m, p : int
        Number of candidates, number to open.
    required : ndarray of bool, shape (m,)
    incumbent : ndarray of bool, shape (m,), or None
        A feasible solution (``p`` open, required included), e.g. greedy + Teitz-Bart.
    integral : bool
        Every :math:`c_{ij}` is an integer (then every solution value is one).
    improve : callable, optional
        ``improve(open_mask, fixed_mask, closed_mask) -> open_mask``: local search (e.g.
        Teitz-Bart) applied to new incumbents; must keep fixed sites and not open closed ones.
    rel_tol : float
        Relative gap at which a fractional objective counts as proven.
    probe : bool
        When a round's tests remove nothing, probe: for each free candidate, re-optimise the
        multipliers (at most ``probe_iter`` steps, from the best ones) with it forced open
        (outside the Lagrangian solution) or closed (inside); a bound above the threshold
        closes (fixes) it. Valid for the same reason as the tests: every solution better
        than the incumbent lies in the current reduced problem.
    max_rounds, max_iter, probe_iter, time_limit_s
        Reduction rounds, subgradient steps per round and per probe, wall-clock budget (s).
    """
    t0 = time.perf_counter()
    nd = int(rows[-1]) + 1 if len(rows) else 0
    closed = np.zeros(m, bool)
    fixed = required.copy()
    start = np.searchsorted(rows, np.arange(nd + 1))
    st: dict = {"ub": np.inf, "inc": None, "new_inc": False, "iters": 0}
    if incumbent is not None:
        c0 = float(_assign_cost(start, jj, cc, incumbent))
        if np.isfinite(c0):
            st["ub"], st["inc"] = c0, incumbent.copy()
    # starting multipliers: cost of the second cheapest pair of the row (Beasley 1993 starts
    # from a row minimum; a slightly larger value makes rho non-trivial from the first step)
    lam = cc[np.minimum(start[:-1] + 1, start[1:] - 1)].astype(np.float64) if nd else np.zeros(0)
    best_bound = -np.inf
    best_delta = 0.0
    rounds = 0
    n_probed = 0
    proven = False

    def margin(lam_, rho_):
        ub = st["ub"]
        return 1e-9 * (float(np.abs(lam_).sum()) + float(np.abs(rho_).sum()) + (abs(ub) if np.isfinite(ub) else 0.0) + 1.0)

    def beats(bound, delta):
        """The bound shows that nothing is better than the incumbent."""
        ub = st["ub"]
        if not np.isfinite(ub):
            return False
        if integral:
            return bound - delta > ub - 1.0
        return bound - delta >= ub - rel_tol * max(1.0, abs(ub))

    def solve_sub(lam_, rho_, closed_, fixed_):
        free = np.flatnonzero(~closed_ & ~fixed_)
        k = p - int(fixed_.sum())
        if k < 0 or len(free) < k:  # pragma: no cover - callers keep 0 <= k <= len(free)
            raise ValueError("inconsistent fixed / closed candidates")
        order = free[np.argsort(rho_[free], kind="stable")]
        L = float(lam_.sum()) + float(rho_[fixed_].sum()) + float(rho_[order[:k]].sum())
        return L, order, k

    def ascent(lam_, closed_, fixed_, pairs, n_iter, f, stall_n, stop_early):
        """Subgradient steps; returns (best L, its delta, its multipliers). New incumbents
        (Lagrangian solutions cheaper than the incumbent) are kept in ``st``."""
        start_, jj_, cc_ = pairs
        best, best_d, best_l = -np.inf, 0.0, lam_
        stall = 0
        y = np.zeros(m, bool)
        for _ in range(n_iter):
            st["iters"] += 1
            rho = _rho(start_, jj_, cc_, lam_, m)
            L, order, k = solve_sub(lam_, rho, closed_, fixed_)
            y[:] = fixed_
            y[order[:k]] = True
            g, cost = _subgradient(start_, jj_, cc_, lam_, y)
            ub = st["ub"]
            if cost < ub - 1e-12 * max(1.0, abs(ub)) and int(y.sum()) == p:
                st["ub"], st["inc"], st["new_inc"] = float(cost), y.copy(), True
            if L > best + 1e-12 * max(1.0, abs(L)):
                best, best_d, best_l = L, margin(lam_, rho), lam_
                stall = 0
            else:
                stall += 1
            if stop_early(best, best_d):
                break
            gg = float(g @ g)
            if gg == 0.0:  # the Lagrangian solution satisfies the relaxed rows: optimal here
                break
            if stall >= stall_n:
                f *= 0.5
                stall = 0
                if f < 0.005:
                    break
            ub = st["ub"]
            target = 1.05 * ub if np.isfinite(ub) and ub > 0 else (abs(L) * 1.05 + 1.0)
            lam_ = lam_ + (f * max(target - L, 1e-9 * max(1.0, abs(L))) / gg) * g
            if time.perf_counter() - t0 > time_limit_s:
                break
        return best, best_d, best_l.copy()

    pairs = (start, jj, cc)
    alive = np.ones(len(rows), bool)
    probed = False
    while rounds < max_rounds and nd > 0:
        rounds += 1
        st["new_inc"] = False
        L, d_, lam = ascent(lam, closed, fixed, pairs, max_iter, 2.0, 30, beats)
        if L > best_bound:
            best_bound, best_delta = L, d_
        inc = st["inc"]
        if st["new_inc"] and improve is not None and inc is not None:
            better = improve(inc, fixed, closed)
            c2 = float(_assign_cost(pairs[0], pairs[1], pairs[2], better))
            if c2 < st["ub"] - 1e-12 * max(1.0, abs(st["ub"])):
                st["ub"], st["inc"] = c2, better.copy()
        if beats(best_bound, best_delta):
            proven = True
        if proven or st["inc"] is None or time.perf_counter() - t0 > time_limit_s:
            break
        inc, ub = st["inc"], st["ub"]
        jj_c, cc_c = pairs[1], pairs[2]
        rho = _rho(pairs[0], jj_c, cc_c, lam, m)
        L, order, k = solve_sub(lam, rho, closed, fixed)
        delta = margin(lam, rho)
        # a solution that the test removes costs > thr, hence at least ub
        thr = (ub - 1.0 + delta) if integral else (ub + delta)
        n_before = int(closed.sum()) + int(fixed.sum())
        inside, outside = order[:k], order[k:]
        if k == 0:
            closed[outside[~inc[outside]]] = True
        else:
            rk = rho[inside[-1]]
            lb_open = L + rho[outside] - rk
            closed[outside[(lb_open > thr) & ~inc[outside]]] = True
            lb_close = L - rho[inside] + rho[outside[0]] if len(outside) else np.full(len(inside), np.inf)
            fixed[inside[(lb_close > thr) & inc[inside]]] = True
        # pair test (same multipliers, pairs of this round)
        alive_idx = np.flatnonzero(alive)
        r_c = rows[alive_idx]
        y = fixed.copy()
        y[inside] = True
        extra = np.maximum(0.0, cc_c - lam[r_c])
        if k >= 1:
            extra = extra + np.where(y[jj_c], 0.0, rho[jj_c] - rho[inside[-1]])
        drop = L + extra > thr
        # protect the incumbent's assignment (cheapest open pair of each row)
        io = np.flatnonzero(inc[jj_c])
        if len(io):
            drop[io[np.r_[True, r_c[io][1:] != r_c[io][:-1]]]] = False
        n_dropped = int(drop.sum())
        changed = int(closed.sum()) + int(fixed.sum()) > n_before or n_dropped > 0
        if not changed and probe and not probed and k >= 1:
            # probing, most promising first (largest one-swap bounds)
            probed = True
            lb_out = L + rho[outside] - rho[inside[-1]]
            lb_in = L - rho[inside] + (rho[outside[0]] if len(outside) else np.inf)
            cand = np.concatenate([outside[np.argsort(-lb_out, kind="stable")], inside[np.argsort(-lb_in, kind="stable")]])
            for jx in cand:
                if time.perf_counter() - t0 > time_limit_s:
                    break
                inc = st["inc"]
                if closed[jx] or fixed[jx]:
                    continue
                if int(fixed.sum()) >= p:  # all p sites fixed: nothing else can open
                    closed |= ~fixed & ~inc
                    break
                n_probed += 1
                if not inc[jx]:  # force open
                    fx = fixed.copy()
                    fx[jx] = True
                    Lj, dj, _ = ascent(lam, closed, fx, pairs, probe_iter, _PROBE_STEP, _PROBE_STALL, beats)
                    if beats(Lj, dj) and not st["inc"][jx]:
                        closed[jx] = True
                else:  # force closed
                    cx = closed.copy()
                    cx[jx] = True
                    if int((~cx).sum()) < p:
                        continue
                    Lj, dj, _ = ascent(lam, cx, fixed, pairs, probe_iter, _PROBE_STEP, _PROBE_STALL, beats)
                    if beats(Lj, dj) and st["inc"][jx]:
                        fixed[jx] = True
            changed = int(closed.sum()) + int(fixed.sum()) > n_before
        elif changed:
            probed = False
        alive[alive_idx[drop]] = False
        alive &= keep_pairs(rows, jj, cc, nd, closed, fixed)
        if not changed:
            break
        rk_ = rows[alive]
        pairs = (np.searchsorted(rk_, np.arange(nd + 1)), jj[alive], cc[alive])
    inc = st["inc"]
    return Reduction(closed=closed, fixed=fixed, incumbent=inc if inc is not None else np.zeros(m, bool),
                     ub=float(st["ub"]), bound=float(best_bound), proven=proven, iterations=int(st["iters"]),
                     rounds=rounds, time_s=time.perf_counter() - t0, keep=alive, n_probed=n_probed)
