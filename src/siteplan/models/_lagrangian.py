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
def _subgradient(start, jj, cc, lam, open_mask):  # pragma: no cover - compiled
    """g_i = 1 - #{j in Y: c_ij < lam_i}; also the assignment cost of Y (inf if some row has
    no open pair)."""
    nd = len(start) - 1
    g = np.empty(nd)
    cost = 0.0
    for r in range(nd):
        lr = lam[r]
        cnt = 0
        for e in range(start[r], start[r + 1]):
            if cc[e] >= lr:
                break
            if open_mask[jj[e]]:
                cnt += 1
        g[r] = 1.0 - cnt
        found = False
        for e in range(start[r], start[r + 1]):
            if open_mask[jj[e]]:
                cost += cc[e]
                found = True
                break
        if not found:
            cost = np.inf
    return g, cost


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
    max_rounds: int = 6,
    max_iter: int = 3000,
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
    max_rounds, max_iter, time_limit_s
        Reduction rounds, subgradient iterations per round, wall-clock budget (s).
    """
    t0 = time.perf_counter()
    nd = int(rows[-1]) + 1 if len(rows) else 0
    closed = np.zeros(m, bool)
    fixed = required.copy()
    ub = np.inf
    inc = None
    if incumbent is not None:
        inc = incumbent.copy()
        ub = float(_assign_cost(np.searchsorted(rows, np.arange(nd + 1)), jj, cc, inc))
        if not np.isfinite(ub):
            inc = None
    # starting multipliers: cost of the second cheapest pair of the row (Beasley 1993 starts
    # from a row minimum; a slightly larger value makes rho non-trivial from the first step)
    start = np.searchsorted(rows, np.arange(nd + 1))
    lam = cc[np.minimum(start[:-1] + 1, start[1:] - 1)].astype(np.float64) if nd else np.zeros(0)
    best_bound = -np.inf
    best_delta = 0.0
    iters = 0
    rounds = 0
    proven = False
    sel_mask = np.zeros(m, bool)

    def margin(lam_, rho_):
        return 1e-9 * (float(np.abs(lam_).sum()) + float(np.abs(rho_).sum()) + (abs(ub) if np.isfinite(ub) else 0.0) + 1.0)

    def is_proven(bound, delta):
        if not np.isfinite(ub):
            return False
        if integral:
            return bound - delta > ub - 1.0
        return bound - delta >= ub - rel_tol * max(1.0, abs(ub))

    def sel_best(order_, k_):
        y = fixed.copy()
        y[order_[:k_]] = True
        return y

    def solve_sub(lam_, rho_):
        free = np.flatnonzero(~closed & ~fixed)
        k = p - int(fixed.sum())
        order = free[np.argsort(rho_[free], kind="stable")]
        L = float(lam_.sum()) + float(rho_[fixed].sum()) + float(rho_[order[:k]].sum())
        return L, order, k

    jj_c, cc_c, start_c = jj, cc, start
    alive = np.ones(len(rows), bool)
    best_lam = lam.copy()
    while rounds < max_rounds and nd > 0:
        rounds += 1
        f = 2.0
        stall = 0
        round_best = -np.inf
        new_inc = False
        for _ in range(max_iter):
            iters += 1
            rho = _rho(start_c, jj_c, cc_c, lam, m)
            L, order, k = solve_sub(lam, rho)
            sel_mask[:] = fixed
            sel_mask[order[:k]] = True
            g, cost = _subgradient(start_c, jj_c, cc_c, lam, sel_mask)
            if cost < ub - 1e-12 * max(1.0, abs(ub)):
                ub, inc, new_inc = float(cost), sel_mask.copy(), True
            if L > round_best + 1e-12 * max(1.0, abs(L)):
                round_best = L
                stall = 0
                if L > best_bound:
                    best_bound, best_delta = L, margin(lam, rho)
                best_lam = lam.copy()
            else:
                stall += 1
            if is_proven(best_bound, best_delta):
                proven = True
                break
            gg = float(g @ g)
            if gg == 0.0:  # Lagrangian solution satisfies the relaxed rows: it is optimal for the reduced problem
                break
            if stall >= 30:
                f *= 0.5
                stall = 0
                if f < 0.005:
                    break
            target = 1.05 * ub if np.isfinite(ub) and ub > 0 else (abs(L) * 1.05 + 1.0)
            step = f * max(target - L, 1e-9 * max(1.0, abs(L))) / gg
            lam = lam + step * g
            if time.perf_counter() - t0 > time_limit_s:
                break
        if new_inc and improve is not None and inc is not None:
            better = improve(inc, fixed, closed)
            c2 = float(_assign_cost(start_c, jj_c, cc_c, better))
            if c2 < ub - 1e-12 * max(1.0, abs(ub)):
                ub, inc = c2, better.copy()
        lam = best_lam.copy()
        rho = _rho(start_c, jj_c, cc_c, lam, m)
        L, order, k = solve_sub(lam, rho)
        delta = margin(lam, rho)
        if is_proven(L, delta) or is_proven(best_bound, best_delta):
            proven = True
        if proven or inc is None:
            break
        # reduction tests at the best multipliers of this round
        thr = (ub - 1.0 + delta) if integral else (ub + delta)
        n_before = int(closed.sum()) + int(fixed.sum())
        inside, outside = order[:k], order[k:]
        if k == 0:
            closed[outside[~inc[outside]]] = True
        else:
            rk = rho[inside[-1]]
            lb_open = L + rho[outside] - rk
            closed[outside[(lb_open > thr) & ~inc[outside]]] = True
            if len(outside):
                lb_close = L - rho[inside] + rho[outside[0]]
            else:
                lb_close = np.full(len(inside), np.inf)
            fixed[inside[(lb_close > thr) & inc[inside]]] = True
        # pair test (at the same multipliers, on the pairs of this round)
        alive_idx = np.flatnonzero(alive)
        r_c = rows[alive_idx]
        in_y = sel_best(order, k)[jj_c]
        extra = np.maximum(0.0, cc_c - lam[r_c])
        if k >= 1:
            extra = extra + np.where(in_y, 0.0, rho[jj_c] - rho[inside[-1]])
        drop = L + extra > thr
        # protect the incumbent's assignment (cheapest open pair of each row)
        op = inc[jj_c]
        first_open = np.zeros(len(jj_c), bool)
        io = np.flatnonzero(op)
        if len(io):
            first_open[io[np.r_[True, r_c[io][1:] != r_c[io][:-1]]]] = True
        drop &= ~first_open
        n_dropped = int(drop.sum())
        alive[alive_idx[drop]] = False
        alive &= keep_pairs(rows, jj, cc, nd, closed, fixed)
        if (int(closed.sum()) + int(fixed.sum()) == n_before and n_dropped == 0) \
                or time.perf_counter() - t0 > time_limit_s:
            break
        jj_c, cc_c = jj[alive], cc[alive]
        start_c = np.searchsorted(rows[alive], np.arange(nd + 1))
    return Reduction(closed=closed, fixed=fixed, incumbent=inc if inc is not None else np.zeros(m, bool),
                     ub=float(ub), bound=float(best_bound), proven=proven, iterations=iters, rounds=rounds,
                     time_s=time.perf_counter() - t0, keep=alive)
