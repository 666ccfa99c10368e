"""p-median (minimise weighted travel) and p-center (minimise the longest travel)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from siteplan.errors import InfeasibleError, InputError, SolverError
from siteplan.models._result import LocationResult, as_mask, as_vector, rel_gap
from siteplan.models._solver import round_binary, solve_milp

#: ``reduce="auto"`` runs the Lagrangian reduction from this many weighted allowed pairs on
REDUCE_MIN_PAIRS = 10_000


def _pairs(cost_matrix: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[int, int]]:
    """Allowed (demand, candidate, cost) triples; sparse absent pairs and inf are not allowed."""
    if sp.issparse(cost_matrix):
        C = sp.coo_matrix(cost_matrix)
        # explicit zeros are allowed pairs (zero travel), kept by coo
        i, j, d = C.row.astype(np.int64), C.col.astype(np.int64), C.data.astype(np.float64)
        shape = C.shape
    else:
        D = np.asarray(cost_matrix, dtype=np.float64)
        if D.ndim != 2:
            raise InputError(f"cost matrix must be 2-D (n_demand, n_candidates), got shape {D.shape}")
        i, j = np.nonzero(np.isfinite(D))
        d = D[i, j]
        shape = D.shape
    if np.any(np.isnan(d)) or np.any(d < 0):
        raise InputError("cost matrix has NaN or negative entries")
    ok = np.isfinite(d)
    return i[ok], j[ok], d[ok], shape


def _inputs(
    cost_matrix: Any, weights: Any, required: Any, p: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[int, int], np.ndarray, np.ndarray]:
    """Checked inputs of the p-median and p-center models: the allowed pairs and shape
    (:func:`_pairs`), the weights, the required mask; ``p`` must lie between the number of
    required sites (at least 1) and the number of candidates."""
    i, j, d, (n, m) = _pairs(cost_matrix)
    w = as_vector(weights, n, "weights")
    req = as_mask(required, m)
    if not (max(1, int(req.sum())) <= p <= m):
        raise InputError(f"p must be between {max(1, int(req.sum()))} and {m}, got {p}")
    return i, j, d, (n, m), w, req


def _assign(i: np.ndarray, j: np.ndarray, d: np.ndarray, n: int, open_mask: np.ndarray):
    """Nearest open allowed candidate for every demand (-1 none) and its cost."""
    k = open_mask[j]
    ii, jj, dd = i[k], j[k], d[k]
    order = np.lexsort((jj, dd, ii))
    ii, jj, dd = ii[order], jj[order], dd[order]
    first = np.ones(len(ii), bool)
    first[1:] = ii[1:] != ii[:-1]
    assign = np.full(n, -1, np.int64)
    dist = np.full(n, np.inf)
    assign[ii[first]] = jj[first]
    dist[ii[first]] = dd[first]
    return assign, dist


def solve_pmedian(
    cost_matrix: Any,
    weights: Any,
    p: int,
    required: Any = None,
    *,
    time_limit_s: float = 120.0,
    mip_gap: float = 0.0,
    warm_start: bool = True,
    relax: bool = False,
    lp_first: bool = True,
    formulation: str = "auto",
    reduce: str = "auto",
    demand_ids: Sequence[Any] | None = None,
) -> LocationResult:
    r"""p-median: open exactly ``p`` sites minimising total weighted travel to the nearest one.

    Solved exactly with HiGHS, after an optional Lagrangian reduction (below), with the
    radius ("COBRA") formulation of Elloumi (2010) on the sparse allowed pairs (or the
    classic one, see ``formulation``). For demand :math:`i` let
    :math:`D_i^1 < \dots < D_i^{K_i}` be its distinct allowed costs and :math:`z_i^k = 1` when no site is open within :math:`D_i^k`:

    .. math::

        \min \sum_i w_i \Big( D_i^1 + \sum_{k=1}^{K_i-1} (D_i^{k+1} - D_i^k)\, z_i^k \Big)
        \quad \text{s.t.} \quad
        z_i^1 + \sum_{j: d_{ij} = D_i^1} y_j \ge 1,\;
        z_i^k - z_i^{k-1} + \sum_{j: d_{ij} = D_i^k} y_j \ge 0 \;(1 < k < K_i),

    .. math::

        -z_i^{K_i-1} + \sum_{j: d_{ij} = D_i^{K_i}} y_j \ge 0,\quad
        \sum_j y_j = p,\quad y_j = 1\;(j \in R),\quad y \in \{0,1\},\; z \ge 0.

    This is the telescoped (one non-zero per pair) form of Elloumi's constraints, so the
    matrix has one entry per allowed pair; its LP bound equals that of the classical
    formulation :math:`\min \sum w_i d_{ij} x_{ij}`, :math:`\sum_j x_{ij} = 1`,
    :math:`x_{ij} \le y_j` (ReVelle & Swain 1970). Levels beyond the first at which
    :math:`m - p + 1` candidates are within reach are dropped (García, Labbé & Marín 2011):
    one of them is always open.

    **Reduction** (``reduce``). Before the MILP, a Lagrangian bound (Beasley 1985, 1993):
    relaxing :math:`\sum_j x_{ij} = 1` with multipliers :math:`\lambda_i` gives
    :math:`L(\lambda) = \sum_i \lambda_i + \sum_{j \in Y} \rho_j`, where
    :math:`\rho_j = \sum_i \min(0, w_i d_{ij} - \lambda_i)` over the allowed pairs and
    :math:`Y` = the required sites plus the smallest :math:`\rho_j` up to ``p``; subgradient
    optimisation raises it towards the LP bound. The upper bound is greedy + Teitz-Bart,
    improved by the Lagrangian solutions (and Teitz-Bart from them). With the best
    :math:`\lambda`, a candidate whose forced opening (closing) provably costs at least the
    incumbent is closed (fixed open), and so is a demand-candidate pair whose forced use does;
    pairs of closed candidates and pairs costlier than the demand's nearest fixed-open site are
    dropped; this is repeated while it removes something. When a round removes nothing, each
    remaining candidate is probed once: the multipliers are re-optimised (up to 500 steps)
    with it forced open (closed), and a bound that reaches the incumbent closes (fixes) it
    (pmed38: 779 of 900 candidates closed by the tests, 94 more by probing). Nothing the incumbent uses is
    removed, so the reduced problem always contains an optimal solution. When every
    :math:`w_i d_{ij}` is an integer (checked), every solution value is one, so a bound above
    ``incumbent - 1`` suffices (tests and optimality; HiGHS then stops at an absolute gap of
    0.5); otherwise the bound must reach the incumbent (relative tolerance
    ``max(mip_gap, 1e-9)``), with a margin for rounding in the safe direction. If the bound
    proves the incumbent optimal no MILP is solved; otherwise the reduced MILP is. The result
    is always the better of the incumbent and the MILP answer; ``status="optimal"`` only when
    the bound or HiGHS proved it, and ``bound`` is the best proven one.

    Parameters
    ----------
    cost_matrix : ndarray or scipy.sparse matrix, shape (n_demand, n_candidates)
        Travel cost (metres or seconds). Dense: ``inf`` = not allowed. Sparse (cut-off
        matrix): absent pairs are not allowed, explicit zeros are zero-cost pairs.
    weights : array_like, shape (n_demand,)
        Demand weights (e.g. children); zero-weight demand is ignored in the model.
    p : int
        Number of sites to open, required sites included.
    required : bool mask (n_candidates,) or positions, optional
        Existing sites forced open (counted in ``p``).
    time_limit_s, mip_gap : float
        Wall-clock limit (s) of the whole call (the reduction may use a quarter of it; the LP
        and MILP get what is left, at least 1 s each) and relative gap tolerance.
    warm_start : bool
        Start HiGHS from the greedy + Teitz-Bart solution (dense matrices up to 4e6 cells).
    relax : bool
        Solve the LP relaxation only (``objective`` = lower bound).
    lp_first : bool
        Solve the LP relaxation first and stop if its ``y`` is integral (then optimal).
    formulation : {"auto", "radius", "classic"}
        ``"radius"`` as above; ``"classic"`` = ReVelle & Swain with :math:`x_{ij}` for the
        allowed pairs (same LP bound; HiGHS's branch and bound is faster on it when ``p`` is
        small); ``"auto"`` = classic for ``p <= 10``, radius otherwise.
    reduce : {"auto", "lagrangian", "none"}
        ``"lagrangian"``: the reduction above; ``"none"``: the MILP on all pairs; ``"auto"`` =
        lagrangian from :data:`REDUCE_MIN_PAIRS` weighted allowed pairs (10,000, i.e. 100 x
        100: on OR-Library pmed1-5 it costs at most 0.1-0.4 s more - mostly loading numba's
        cache on the first call - and saves up to 2 s; from n = 200 it pays clearly, e.g.
        pmed6 41 -> 0.2 s, pmed16 502 -> 3.6 s; see benchmarks/README.md).
        Ignored with ``relax=True``. Needs the dense matrix for Teitz-Bart (up to 4e6 cells);
        beyond that the upper bound comes from the Lagrangian solutions only.
    demand_ids : sequence, optional
        Labels used in the error when a demand has no allowed candidate.

    Returns
    -------
    LocationResult
        ``objective`` = :math:`\sum_i w_i d_{i,a(i)}`; ``assignment`` = nearest open site;
        ``extra["mean_cost"]`` = objective / total weight; ``extra["reduce"]``;
        with the reduction also ``lagrangian_bound`` (weighted cost units),
        ``lagrangian_iterations``, ``reduction_rounds``, ``n_probed``, ``reduction_time_s`` (s),
        ``n_closed``, ``n_fixed_open`` (beyond the required sites), ``n_pairs_left``,
        ``n_demand_constant`` (demand whose cost the fixed sites settle), ``incumbent_value``,
        ``proven_by_bound`` (no MILP solved) and ``integral_objective``.

    Raises
    ------
    InfeasibleError
        A weighted demand point has no allowed candidate (``uncoverable`` lists it).
    InputError
        ``p`` outside ``n_required..n_candidates``.
    SolverError
        The solver fails or stops without a solution.

    References
    ----------
    Hakimi, S. L. (1964). Optimum locations of switching centers and the absolute centers and
    medians of a graph. *Operations Research* 12(3), 450-459.
    ReVelle, C. S. & Swain, R. W. (1970). Central facilities location. *Geographical Analysis*
    2(1), 30-42.
    Elloumi, S. (2010). A tighter formulation of the p-median problem. *Journal of
    Combinatorial Optimization* 19(1), 69-83.
    García, S., Labbé, M. & Marín, A. (2011). Solving large p-median problems with a radius
    formulation. *INFORMS Journal on Computing* 23(4), 546-556.
    Beasley, J. E. (1985). A note on solving large p-median problems. *European Journal of
    Operational Research* 21(2), 270-273.
    Beasley, J. E. (1993). Lagrangean heuristics for location problems. *European Journal of
    Operational Research* 65(3), 383-399.
    """
    t0 = time.perf_counter()
    i, j, d, (n, m), w, req = _inputs(cost_matrix, weights, required, p)
    has = np.zeros(n, bool)
    has[i] = True
    bad = np.flatnonzero(~has & (w > 0))
    if len(bad):
        ids = [str(demand_ids[k]) if demand_ids is not None else str(int(k)) for k in bad]
        raise InfeasibleError(
            f"{len(bad)} demand point(s) have no allowed candidate site: " + ", ".join(ids[:20]),
            uncoverable=ids,
        )
    keep = w[i] > 0
    if not keep.any():  # nothing weighs: any p sites are optimal (required first, then lowest positions)
        sel = np.union1d(np.flatnonzero(req), np.setdiff1d(np.arange(m), np.flatnonzero(req))[: p - int(req.sum())])
        om = np.zeros(m, bool)
        om[sel] = True
        assign, _ = _assign(i, j, d, n, om)
        return LocationResult(model="pmedian", status="optimal", objective=0.0, bound=0.0, gap=0.0,
                              selected=sel.astype(np.int64), covered=assign >= 0, assignment=assign,
                              build_time_s=time.perf_counter() - t0, extra={"mean_cost": 0.0})
    ii, jj, dd = i[keep], j[keep], d[keep]
    order = np.lexsort((jj, dd, ii))
    ii, jj, dd = ii[order], jj[order], dd[order]
    if formulation not in ("auto", "classic", "radius"):
        raise InputError(f"formulation must be 'auto', 'classic' or 'radius', got '{formulation}'")
    if reduce not in ("auto", "lagrangian", "none"):
        raise InputError(f"reduce must be 'auto', 'lagrangian' or 'none', got '{reduce}'")
    use_classic = formulation == "classic" or (formulation == "auto" and p <= 10)
    cc = w[ii] * dd
    # without a solver bound each weighted demand still pays at least its cheapest allowed pair
    # (pairs sorted by demand, cost): a valid bound, so "no bound" never reads -inf
    trivial = float(cc[np.r_[True, ii[1:] != ii[:-1]]].sum()) if len(ii) else 0.0
    # every solution value is an integer (and exact in float64) when all w_i d_ij are
    integral = bool(np.all(cc == np.round(cc))) and float(cc.sum()) < 2.0**52
    do_reduce = not relax and (reduce == "lagrangian" or (reduce == "auto" and len(ii) >= REDUCE_MIN_PAIRS))
    inc = None
    D = None
    if not relax and n * m <= 4_000_000 and (warm_start or do_reduce):
        from siteplan.models.heuristics import _dense_cost, greedy_pmedian, teitz_bart

        D = _dense_cost(cost_matrix)
        inc = teitz_bart(D, w, greedy_pmedian(D, w, p, req), req, time_limit_s=0.25 * time_limit_s)
    closed = np.zeros(m, bool)
    fixed = req.copy()
    offset0 = 0.0
    red = None
    red_extra: dict[str, Any] = {}
    if do_reduce:
        from siteplan.models._lagrangian import lagrangian_reduce

        dem, rows = np.unique(ii, return_inverse=True)
        improve = None
        if D is not None:
            from siteplan.models.heuristics import teitz_bart

            def improve(open_mask, fixed_mask, closed_mask):
                Dm = np.where(closed_mask[None, :], np.inf, D) if closed_mask.any() else D
                return teitz_bart(Dm, w, open_mask, fixed_mask)

        red = lagrangian_reduce(rows, jj, cc, m, p, req, inc, integral=integral, improve=improve,
                                rel_tol=max(mip_gap, 1e-9), time_limit_s=0.25 * time_limit_s)
        red_extra = {"reduce": "lagrangian", "lagrangian_bound": red.bound, "n_closed": int(red.closed.sum()),
                     "n_fixed_open": int((red.fixed & ~req).sum()), "lagrangian_iterations": red.iterations,
                     "reduction_rounds": red.rounds, "n_probed": red.n_probed, "reduction_time_s": red.time_s,
                     "incumbent_value": red.ub, "proven_by_bound": red.proven, "integral_objective": integral}
        if np.isfinite(red.ub):
            inc = red.incumbent
        if red.proven:
            sel = np.flatnonzero(inc)
            assign, dist = _assign(i, j, d, n, inc)
            ok = assign >= 0
            obj = float((w[ok] * dist[ok]).sum())
            # integer objective: opt >= ceil(bound) = obj; otherwise the bound is within rel_tol
            bound = obj if integral else min(obj, red.bound)
            tw = float(w.sum())
            red_extra["n_pairs_left"] = int(red.keep.sum())
            return LocationResult(
                model="pmedian", status="optimal", objective=obj, bound=float(bound), gap=rel_gap(obj, bound),
                selected=sel.astype(np.int64), covered=ok, assignment=assign, solve_time_s=0.0,
                build_time_s=time.perf_counter() - t0, n_variables=0, n_constraints=0,
                extra={"mean_cost": obj / tw if tw > 0 else 0.0, "lp_integral": False, **red_extra},
            )
        closed, fixed = red.closed, red.fixed
        kp = red.keep
        ii, jj, dd, rr = ii[kp], jj[kp], dd[kp], rows[kp]
        # a demand whose cheapest remaining pair has the cost of its cheapest fixed-open site
        # always pays that cost: move it to the objective constant
        fcost = np.full(len(dem), np.inf)
        fx = fixed[jj]
        np.minimum.at(fcost, rr[fx], dd[fx])
        firsts = np.r_[True, rr[1:] != rr[:-1]] if len(rr) else np.zeros(0, bool)
        const_rows = rr[firsts][dd[firsts] >= fcost[rr[firsts]]]
        const = np.zeros(len(dem), bool)
        const[const_rows] = True
        offset0 = float((w[dem[const_rows]] * fcost[const_rows]).sum())
        kc = ~const[rr]
        ii, jj, dd = ii[kc], jj[kc], dd[kc]
        red_extra["n_pairs_left"] = int(len(ii))
        red_extra["n_demand_constant"] = int(len(const_rows))
    else:
        red_extra = {"reduce": "none", "integral_objective": integral}
    m_alive = m - int(closed.sum())
    E = len(ii)
    ws = None
    if use_classic:
        # variables: y (m) | x (E allowed pairs); rows: assignment (one per weighted demand),
        # x_ij <= y_j (E), sum y = p
        dem, dem_row = np.unique(ii, return_inverse=True)
        e = np.arange(E)
        nd = len(dem)
        r_idx = np.concatenate([dem_row, nd + e, nd + e, np.full(m, nd + E)])
        c_idx = np.concatenate([m + e, m + e, jj, np.arange(m)])
        vals = np.concatenate([np.ones(E), np.ones(E), -np.ones(E), np.ones(m)])
        M = sp.csr_matrix((vals, (r_idx, c_idx)), shape=(nd + E + 1, m + E))
        lo = np.concatenate([np.ones(nd), np.full(E, -np.inf), [p]])
        hi = np.concatenate([np.ones(nd), np.zeros(E), [p]])
        cobj = np.concatenate([np.zeros(m), w[ii] * dd])
        offset = offset0
        col_lo = np.zeros(m + E)
        col_lo[:m][fixed] = 1.0
        col_hi = np.ones(m + E)
        col_hi[:m][closed] = 0.0
        integer = None if relax else np.concatenate([np.ones(m, bool), np.zeros(E, bool)])
        if warm_start and not relax and inc is not None:
            g = inc
            # entries are sorted by (demand, cost, candidate): first open entry per demand
            op = g[jj]
            first_open = np.zeros(E, bool)
            idx = np.flatnonzero(op)
            firsts = idx[np.r_[True, ii[idx][1:] != ii[idx][:-1]]] if len(idx) else idx
            first_open[firsts] = True
            if len(np.unique(ii[firsts])) == nd:
                ws = np.concatenate([g.astype(np.float64), first_open.astype(np.float64)])
    else:
        row_start = np.ones(E, bool)
        row_start[1:] = ii[1:] != ii[:-1]
        new_level = row_start.copy()
        new_level[1:] |= dd[1:] != dd[:-1]
        lev = np.cumsum(new_level) - 1  # global level id per entry
        nL = int(lev[-1]) + 1 if E else 0
        lev_row = ii[new_level]
        lev_d = dd[new_level]
        lev_cnt = np.bincount(lev, minlength=nL)
        # entries of the row before each level
        cum = np.cumsum(lev_cnt)
        lev_first = np.ones(nL, bool)
        lev_first[1:] = lev_row[1:] != lev_row[:-1]
        row_base = np.maximum.accumulate(np.where(lev_first, cum - lev_cnt, 0))
        before = cum - lev_cnt - row_base
        # among m_alive - p + 1 candidates that may open, one is always open
        keep_lev = before < (m_alive - p + 1)
        # re-index kept levels
        new_id = np.cumsum(keep_lev) - 1
        ent_keep = keep_lev[lev]
        e_lev = new_id[lev[ent_keep]]
        e_j = jj[ent_keep]
        L_row, L_d, L_first = lev_row[keep_lev], lev_d[keep_lev], lev_first[keep_lev]
        nK = len(L_row)
        L_last = np.ones(nK, bool)
        L_last[:-1] = L_row[1:] != L_row[:-1]
        has_z = ~L_last
        zid = np.full(nK, -1, np.int64)
        nz = int(has_z.sum())
        zid[has_z] = m + np.arange(nz)
        nxt_d = np.empty(nK)
        nxt_d[:-1] = L_d[1:]
        if nK:
            nxt_d[-1] = 0.0
        cobj = np.zeros(m + nz)
        cobj[zid[has_z]] = w[L_row[has_z]] * (nxt_d[has_z] - L_d[has_z])
        offset = offset0 + float((w[L_row[L_first]] * L_d[L_first]).sum())
        levels = np.arange(nK)
        prev_has = ~L_first  # previous level in same row has a z (it is not last)
        r_idx = np.concatenate([e_lev, levels[has_z], levels[prev_has], np.full(m, nK)])
        c_idx = np.concatenate([e_j, zid[has_z], zid[levels[prev_has] - 1], np.arange(m)])
        vals = np.concatenate([np.ones(len(e_lev)), np.ones(nz), -np.ones(int(prev_has.sum())), np.ones(m)])
        M = sp.csr_matrix((vals, (r_idx, c_idx)), shape=(nK + 1, m + nz))
        lo = np.concatenate([np.where(L_first, 1.0, 0.0), [p]])
        hi = np.concatenate([np.full(nK, np.inf), [p]])
        col_lo = np.zeros(m + nz)
        col_lo[:m][fixed] = 1.0
        col_hi = np.ones(m + nz)
        col_hi[:m][closed] = 0.0
        integer = None if relax else np.concatenate([np.ones(m, bool), np.zeros(nz, bool)])
        if warm_start and not relax and inc is not None:
            g = inc
            opened_e = g[e_j].astype(np.float64)
            per_lev = np.bincount(e_lev, weights=opened_e, minlength=nK)
            cl = np.cumsum(per_lev)
            L_base = np.maximum.accumulate(np.where(L_first, cl - per_lev, 0))
            zval = ((cl - L_base) < 0.5).astype(np.float64)
            ws = np.concatenate([g.astype(np.float64), zval[has_z]])
    build = time.perf_counter() - t0
    sol = lp_sol = None
    lp_time = 0.0
    # an integer objective is proven optimal once the gap is below 1 (HiGHS stops at 0.5)
    abs_gap = 0.5 if integral and not relax else None
    infeasible_message = f"no {p} site(s) can serve every demand point through allowed pairs (raise p or the cost cut-off)"
    if lp_first and not relax:
        # The radius formulation's LP relaxation is often integral (pmed: most instances);
        # then it is a proven optimum and the MILP machinery is skipped.
        try:
            lp = solve_milp(cobj, M, lo, hi, col_lo, col_hi, None, offset=offset,
                            time_limit_s=max(1.0, time_limit_s - build), infeasible_message=infeasible_message)
        except InfeasibleError:
            raise
        except SolverError:  # LP stopped by the time limit: go on with the MILP
            lp = None
        if lp is not None:
            lp_time = lp.solve_time_s
            if lp.status == "optimal" and np.all(np.minimum(lp.x[:m], 1 - lp.x[:m]) < 1e-7):
                sol = lp_sol = lp
    if sol is None:
        sol = solve_milp(cobj, M, lo, hi, col_lo, col_hi, integer, offset=offset,
                         time_limit_s=max(1.0, time_limit_s - (time.perf_counter() - t0)), mip_gap=mip_gap,
                         mip_abs_gap=abs_gap, warm_start=ws, infeasible_message=infeasible_message)
    if relax:
        return LocationResult(
            model="pmedian-lp", status=sol.status, objective=sol.objective, bound=sol.objective, gap=0.0,
            selected=np.zeros(0, np.int64), covered=np.zeros(n, bool), assignment=np.full(n, -1),
            solve_time_s=sol.solve_time_s, build_time_s=build, n_variables=sol.n_variables,
            n_constraints=sol.n_constraints,
        )
    sel = round_binary(sol.x[:m])
    open_mask = np.zeros(m, bool)
    open_mask[sel] = True
    assign, dist = _assign(i, j, d, n, open_mask)
    ok = assign >= 0
    obj = float((w[ok] * dist[ok]).sum())
    if inc is not None and (not ok.all() or sol.status != "optimal"):
        # the solver stopped early (or its answer misses a demand): keep the better of it and the incumbent
        a2, d2 = _assign(i, j, d, n, inc)
        ok2 = a2 >= 0
        obj2 = float((w[ok2] * d2[ok2]).sum())
        if (ok2 | (w == 0)).all() and obj2 < obj:
            sel, assign, ok, obj = np.flatnonzero(inc), a2, ok2, obj2
    # The reduced problem always contains an optimal solution, so its solver bound (and the
    # Lagrangian bound) are bounds of the original problem.
    if sol.status == "optimal":
        bound = obj
    else:
        bound = min(obj, max(sol.bound, red.bound if red is not None else -np.inf, trivial))
    tw = float(w.sum())
    return LocationResult(
        model="pmedian", status=sol.status, objective=obj, bound=float(bound), gap=rel_gap(obj, bound),
        selected=sel.astype(np.int64), covered=ok, assignment=assign,
        solve_time_s=sol.solve_time_s + (lp_time if sol is not lp_sol else 0.0),
        build_time_s=build, n_variables=sol.n_variables, n_constraints=sol.n_constraints,
        extra={"mean_cost": obj / tw if tw > 0 else 0.0, "lp_integral": sol is lp_sol, **red_extra},
    )


def solve_pcenter(
    cost_matrix: Any,
    p: int,
    required: Any = None,
    *,
    weights: Any = None,
    time_limit_s: float = 120.0,
    demand_ids: Sequence[Any] | None = None,
) -> LocationResult:
    r"""p-center: open ``p`` sites minimising the longest travel of any demand point.

    Binary search over the sorted distinct costs :math:`r`; a radius is feasible when the set
    covering problem

    .. math::

        \min \sum_j y_j \;\text{s.t.}\; \sum_{j: d_{ij} \le r} y_j \ge 1 \;\forall i,\quad
        y_j = 1 \;(j \in R),\quad y \in \{0,1\}

    needs at most ``p`` sites. The smallest feasible :math:`r` is the optimum
    :math:`\min_{|S| = p} \max_i \min_{j \in S} d_{ij}`.

    Parameters
    ----------
    cost_matrix : ndarray or scipy.sparse matrix, shape (n_demand, n_candidates)
        Travel cost; ``inf`` / absent = not allowed.
    p : int
        Number of sites (required included).
    required : bool mask or positions, optional
    weights : array_like, shape (n_demand,), optional
        Demand with zero weight is ignored (default: all demand counts).
    time_limit_s : float
        Time limit of each set-covering solve.
    demand_ids : sequence, optional
        Labels used in the error when a demand has no allowed candidate.

    Returns
    -------
    LocationResult
        ``objective`` = the optimal radius; ``extra["radius"]`` the same.

    Raises
    ------
    InfeasibleError
        A demand point has no allowed candidate.
    SolverError
        A set-covering solve fails or hits the time limit.

    References
    ----------
    Hakimi, S. L. (1964). Optimum locations of switching centers and the absolute centers and
    medians of a graph. *Operations Research* 12(3), 450-459.
    Minieka, E. (1970). The m-center problem. *SIAM Review* 12(1), 138-139.
    """
    from siteplan.models.lscp import solve_lscp

    t0 = time.perf_counter()
    i, j, d, (n, m), w, req = _inputs(cost_matrix, weights, required, p)
    k = w[i] > 0
    i, j, d = i[k], j[k], d[k]
    need = np.flatnonzero(w > 0)
    best = np.full(n, np.inf)
    np.minimum.at(best, i, d)
    bad = need[~np.isfinite(best[need])]
    if len(bad):
        ids = [str(demand_ids[q]) if demand_ids is not None else str(int(q)) for q in bad]
        raise InfeasibleError(f"{len(bad)} demand point(s) have no allowed candidate site", uncoverable=ids)
    radii = np.unique(d)
    radii = radii[radii >= best[need].max()]
    solves = 0
    st = 0.0

    def feasible(r: float):
        nonlocal solves, st
        k = d <= r
        A = sp.csr_matrix((np.ones(int(k.sum()), bool), (i[k], j[k])), shape=(n, m))
        res = solve_lscp(A[need], required=req, time_limit_s=time_limit_s)
        solves += 1
        st += res.solve_time_s
        if res.status != "optimal":
            from siteplan.errors import SolverError

            raise SolverError("p-center: a set-covering subproblem hit the time limit")
        return res.n_selected <= p, res

    lo, hi = 0, len(radii) - 1
    ok, res = feasible(radii[hi])
    best_res = res
    while lo < hi:
        mid = (lo + hi) // 2
        ok, res = feasible(radii[mid])
        if ok:
            hi, best_res = mid, res
        else:
            lo = mid + 1
    sel = best_res.selected
    if len(sel) < p:  # pad with the lowest free positions so exactly p are open
        free = np.setdiff1d(np.arange(m), sel)[: p - len(sel)]
        sel = np.union1d(sel, free)
    open_mask = np.zeros(m, bool)
    open_mask[sel] = True
    ai, aj, ad = _pairs(cost_matrix)[:3]
    assign, dist = _assign(ai, aj, ad, n, open_mask)
    radius = float(radii[lo])
    return LocationResult(
        model="pcenter", status="optimal", objective=radius, bound=radius, gap=0.0,
        selected=sel.astype(np.int64), covered=assign >= 0, assignment=assign, solve_time_s=st,
        build_time_s=time.perf_counter() - t0 - st, n_variables=m, n_constraints=len(need),
        extra={"radius": radius, "n_set_cover_solves": solves},
    )
