"""Greedy and interchange heuristics (fast, no solver); also warm starts for the MILPs."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import scipy.sparse as sp

from siteplan.errors import InputError
from siteplan.models._result import (
    LocationResult,
    as_cover,
    as_mask,
    as_vector,
    first_cover_assignment,
    rel_gap,
)


def greedy_mclp(A: sp.csr_matrix, w: np.ndarray, p: int, required: np.ndarray | None = None,
                cost: np.ndarray | None = None, budget: float | None = None) -> np.ndarray:
    """Greedy adding for the MCLP: repeatedly open the site with the largest added weight.

    With ``budget``/``cost`` the ratio added weight / cost is maximised instead (sites that
    no longer fit are skipped). Ties go to the lowest position. Returns a bool mask, shape
    (n_candidates,).
    """
    n, m = A.shape
    At = sp.csc_matrix(A, dtype=np.float64)
    opened = np.zeros(m, bool) if required is None else required.copy()
    cnt = np.asarray(A.astype(np.int64) @ opened.astype(np.int64)).ravel()
    spent = 0.0
    while opened.sum() < p:
        unc = (cnt == 0) * w
        gain = np.asarray(At.T @ unc).ravel()
        gain[opened] = -1
        if budget is not None and cost is not None:
            fits = spent + cost <= budget + 1e-9
            gain[~fits] = -1
            score = np.where(cost > 0, gain / np.maximum(cost, 1e-12), np.where(gain > 0, np.inf, 0))
            score[gain <= 0] = -1
        else:
            score = gain
        j = int(np.argmax(score))
        if score[j] <= 0:
            break
        opened[j] = True
        if cost is not None:
            spent += cost[j]
        col = At.indices[At.indptr[j] : At.indptr[j + 1]]
        cnt[col] += 1
    return opened


def swap_mclp(A: sp.csr_matrix, w: np.ndarray, opened: np.ndarray, required: np.ndarray | None = None,
              max_rounds: int = 50) -> np.ndarray:
    """Swap improvement for the MCLP (best swap per open site until no improvement)."""
    m = A.shape[1]
    At = sp.csc_matrix(A, dtype=np.float64)
    req = np.zeros(m, bool) if required is None else required
    opened = opened.copy()
    for _ in range(max_rounds):
        improved = False
        for j in np.flatnonzero(opened & ~req):
            cnt = np.asarray(A.astype(np.int64) @ opened.astype(np.int64)).ravel()
            colj = At.indices[At.indptr[j] : At.indptr[j + 1]]
            cnt_wo = cnt.copy()
            cnt_wo[colj] -= 1
            loss = float(w[colj][cnt[colj] == 1].sum())
            gain = np.asarray(At.T @ ((cnt_wo == 0) * w)).ravel()
            gain[opened] = -1
            k = int(np.argmax(gain))
            if gain[k] > loss + 1e-9:
                opened[j] = False
                opened[k] = True
                improved = True
        if not improved:
            break
    return opened


def heuristic_mclp(cover: Any, weights: Any, p: int, required: Any = None, *, swap: bool = True,
                   lp_bound: bool = True) -> LocationResult:
    r"""Greedy + swap heuristic for the maximal covering location problem.

    Maximises :math:`\sum_i w_i z_i` like :func:`~siteplan.models.solve_mclp` (``p`` counts
    the required sites) without a MILP solver; the gap is measured against the LP relaxation.

    Parameters
    ----------
    cover : bool matrix or sparse, shape (n_demand, n_candidates)
    weights : array_like, shape (n_demand,)
        Demand weights (e.g. children).
    p : int
        Number of open sites, required ones included.
    required : mask or positions, optional
    swap : bool
        Improve the greedy solution by single swaps.
    lp_bound : bool
        Solve the LP relaxation with HiGHS to report a gap (``bound`` = LP value).

    Returns
    -------
    LocationResult
        ``status="heuristic"``.

    References
    ----------
    Church, R. & ReVelle, C. (1974). The maximal covering location problem. *Papers of the
    Regional Science Association* 32, 101-118.
    """
    t0 = time.perf_counter()
    A = as_cover(cover)
    n, m = A.shape
    w = as_vector(weights, n, "weights")
    req = as_mask(required, m)
    opened = greedy_mclp(A, w, p, req)
    if swap:
        opened = swap_mclp(A, w, opened, req)
    covered, assign = first_cover_assignment(A, opened)
    obj = float(w[covered].sum())
    bound = float("nan")
    if lp_bound:
        from siteplan.models.mclp import solve_mclp

        bound = solve_mclp(A, w, p=p, required=req, relax=True).objective
    return LocationResult(
        model="mclp-heuristic", status="heuristic", objective=obj, bound=bound,
        gap=rel_gap(obj, bound) if lp_bound else float("nan"),
        selected=np.flatnonzero(opened), covered=covered, assignment=assign,
        solve_time_s=time.perf_counter() - t0,
    )


def _dense_cost(cost: Any) -> np.ndarray:
    if sp.issparse(cost):
        C = sp.csr_matrix(cost)
        D = np.full(C.shape, np.inf)
        r = np.repeat(np.arange(C.shape[0]), np.diff(C.indptr))
        D[r, C.indices] = C.data
        return D
    return np.asarray(cost, dtype=np.float64)


def greedy_pmedian(D: np.ndarray, w: np.ndarray, p: int, required: np.ndarray | None = None) -> np.ndarray:
    """Greedy adding for the p-median on a dense cost matrix (``inf`` = not allowed).

    Returns a bool mask of open sites, shape (n_candidates,).
    """
    n, m = D.shape
    opened = np.zeros(m, bool) if required is None else required.copy()
    big = np.where(np.isfinite(D), D, 0).max() * 10 + 1 if np.isfinite(D).any() else 1.0
    Dc = np.where(np.isfinite(D), D, big * 10)
    best = Dc[:, opened].min(axis=1) if opened.any() else np.full(n, big * 100)
    while opened.sum() < p:
        tot = (w[:, None] * np.minimum(best[:, None], Dc)).sum(axis=0)
        tot[opened] = np.inf
        j = int(np.argmin(tot))
        opened[j] = True
        best = np.minimum(best, Dc[:, j])
    return opened


def _pmed_obj(Dc: np.ndarray, w: np.ndarray, opened: np.ndarray) -> float:
    return float((w * Dc[:, opened].min(axis=1)).sum())


def teitz_bart(D: np.ndarray, w: np.ndarray, opened: np.ndarray, required: np.ndarray | None = None,
               max_rounds: int = 100, time_limit_s: float | None = None) -> np.ndarray:
    """Teitz-Bart vertex substitution: apply the best improving swap for each closed site.

    Stops when no single swap (one open, non-required site for one closed site) lowers the
    weighted cost, after ``max_rounds`` passes, or once ``time_limit_s`` seconds have passed
    (checked before each candidate; the sites are then those of the last improving swap).
    Vectorised with the nearest / second-nearest open-site distances.
    """
    t_end = None if time_limit_s is None else time.perf_counter() + time_limit_s
    n, m = D.shape
    req = np.zeros(m, bool) if required is None else required
    fin = np.isfinite(D)
    big = (np.where(fin, D, 0).max() + 1) * 1e3 if fin.any() else 1.0
    Dc = np.where(fin, D, big)
    opened = opened.copy()
    for _ in range(max_rounds):
        improved = False
        for k in range(m):
            if opened[k]:
                continue
            if t_end is not None and time.perf_counter() > t_end:
                return opened
            op = np.flatnonzero(opened)
            Do = Dc[:, op]
            order = np.argsort(Do, axis=1, kind="stable")
            d1 = Do[np.arange(n), order[:, 0]]
            d2 = Do[np.arange(n), order[:, 1]] if len(op) > 1 else np.full(n, big * 10)
            near = order[:, 0]
            cur = float((w * d1).sum())
            dk = Dc[:, k]
            # cost if k added and op[r] removed, for each r
            base = w * np.minimum(d1, dk)  # if nearest kept
            alt = w * np.minimum(d2, dk)  # if nearest removed
            delta_nearest = np.bincount(near, weights=alt - base, minlength=len(op))
            totals = base.sum() + delta_nearest
            totals[req[op]] = np.inf
            r = int(np.argmin(totals))
            if totals[r] < cur - 1e-9 * max(1.0, abs(cur)):
                opened[op[r]] = False
                opened[k] = True
                improved = True
        if not improved:
            break
    return opened


def heuristic_pmedian(cost_matrix: Any, weights: Any, p: int, required: Any = None, *,
                      interchange: bool = True, lp_bound: bool = False) -> LocationResult:
    r"""Greedy + Teitz-Bart interchange heuristic for the p-median problem.

    Minimises :math:`\sum_i w_i \min_{j \in S} d_{ij}` over site sets :math:`|S| = p`
    (required sites included in ``p``). The result is a local optimum for single swaps.

    Parameters
    ----------
    cost_matrix : ndarray or sparse, shape (n_demand, n_candidates)
        Travel cost; sparse absent pairs (or ``inf``) are not allowed.
    weights : array_like, shape (n_demand,)
    p : int
    required : mask or positions, optional
    interchange : bool
        Run the Teitz-Bart substitution after the greedy start.
    lp_bound : bool
        Solve the LP relaxation of the exact model to report a gap.

    Returns
    -------
    LocationResult
        ``status="heuristic"``; ``objective`` is the weighted travel cost.

    References
    ----------
    Teitz, M. B. & Bart, P. (1968). Heuristic methods for estimating the generalized vertex
    median of a weighted graph. *Operations Research* 16(5), 955-961.
    """
    t0 = time.perf_counter()
    D = _dense_cost(cost_matrix)
    n, m = D.shape
    w = as_vector(weights, n, "weights")
    req = as_mask(required, m)
    if not 1 <= p <= m or req.sum() > p:
        raise InputError(f"p must be in {max(1, int(req.sum()))}..{m}, got {p}")
    opened = greedy_pmedian(D, w, p, req)
    if interchange:
        opened = teitz_bart(D, w, opened, req)
    sel = np.flatnonzero(opened)
    Ds = D[:, sel]
    a = np.argmin(Ds, axis=1)
    dmin = Ds[np.arange(n), a]
    ok = np.isfinite(dmin)
    assign = np.where(ok, sel[a], -1)
    obj = float((w * np.where(ok, dmin, 0)).sum()) if ok.all() else float("inf")
    bound = float("nan")
    if lp_bound:
        from siteplan.models.pmedian import solve_pmedian

        bound = solve_pmedian(cost_matrix, w, p, required=req, relax=True).objective
    return LocationResult(
        model="pmedian-heuristic", status="heuristic", objective=obj, bound=bound,
        gap=rel_gap(obj, bound) if lp_bound else float("nan"), selected=sel, covered=ok,
        assignment=assign.astype(np.int64), solve_time_s=time.perf_counter() - t0,
    )


def greedy_cover(A: sp.csr_matrix, cost: np.ndarray) -> np.ndarray:
    """Chvátal's greedy set cover (least cost per newly covered row), then redundant sites dropped.

    Every row of ``A`` must have a covering column. Returns a bool mask, shape (n_candidates,).
    Used as the LSCP warm start.
    """
    Ac = sp.csc_matrix(A, dtype=np.float64)
    n, m = Ac.shape
    unc = np.ones(n)
    y = np.zeros(m, bool)
    while unc.any():
        g = np.asarray(Ac.T @ unc).ravel()
        score = np.where(g > 0, cost / np.maximum(g, 1e-12), np.inf)
        j = int(np.argmin(score))
        if not np.isfinite(score[j]):
            break
        y[j] = True
        unc[Ac.indices[Ac.indptr[j] : Ac.indptr[j + 1]]] = 0
    cnt = np.asarray(Ac @ y.astype(np.float64)).ravel()
    for j in np.flatnonzero(y)[np.argsort(-cost[y], kind="stable")]:
        rows = Ac.indices[Ac.indptr[j] : Ac.indptr[j + 1]]
        if np.all(cnt[rows] >= 2):
            y[j] = False
            cnt[rows] -= 1
    return y
