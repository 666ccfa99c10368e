"""Capacitated p-median and capacitated maximal covering: no site serves more than its capacity.

Both models assign demand (children) to open sites through *allowed pairs* only: finite /
present entries of the cost matrix, further restricted to the service standard (``cover``)
when it is given. Nobody is ever assigned beyond the standard, and the children assigned to
a site never exceed its capacity. Existing sites (``required``) are always open and count
towards ``p``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from siteplan.errors import InfeasibleError, InputError, SolverError
from siteplan.models._result import LocationResult, as_cover, as_mask, as_vector, rel_gap
from siteplan.models._solver import round_binary, solve_milp
from siteplan.models.pmedian import _assign, _inputs

_TOL = 1e-6



def _shares(x: np.ndarray, m: int, ii: np.ndarray, jj: np.ndarray, rows: np.ndarray, n: int):
    """Open sites and assignment shares of a solution ``x = [y (m) | x (pairs)]``.

    Shares are clipped to [0, 1]; solver noise below 1e-9 and any share on a site that is
    not open are set to exactly 0 (HiGHS may leave ~1e-17 there). Returns ``(selected,
    open_mask (m,), shares (n_pairs,), X)`` with ``X`` the CSR shares, shape (n, m).
    """
    sel = round_binary(x[:m])
    open_mask = np.zeros(m, bool)
    open_mask[sel] = True
    xv = np.clip(np.asarray(x[m:], dtype=float), 0.0, 1.0)
    xv[(xv < 1e-9) | ~open_mask[jj]] = 0.0
    X = sp.csr_matrix((xv, (rows[ii], jj)), shape=(n, m))
    X.eliminate_zeros()
    X.sort_indices()
    return sel, open_mask, xv, X

def _check_p(p: Any, fn: str, order: str) -> int:
    """``p`` as an int >= 1; an InputError naming ``p`` and the argument order otherwise
    (an array passed where ``p`` goes must not reach numpy's "truth value is ambiguous")."""
    if isinstance(p, np.ndarray) and p.ndim == 0:
        p = p.item()
    ok = not isinstance(p, (bool, np.bool_)) and (
        isinstance(p, (int, np.integer)) or (isinstance(p, (float, np.floating)) and float(p).is_integer()))
    if not ok or int(p) < 1:
        got = (f"an array of shape {np.shape(p)}" if np.ndim(p) > 0 else repr(p))
        raise InputError(f"{fn}: p must be an integer >= 1 (the number of sites), got {got}; "
                         f"the arguments are {order}")
    return int(p)


def _label(k: int, ids: Sequence[Any] | None) -> str:
    return str(ids[k]) if ids is not None else str(int(k))


def _names(idx: np.ndarray, ids: Sequence[Any] | None, limit: int = 10) -> str:
    txt = ", ".join(_label(int(k), ids) for k in idx[:limit])
    return txt + (f" ... ({len(idx)} in all)" if len(idx) > limit else "")


def _restrict_to_cover(i, j, c, cover, n: int, m: int):
    """Keep the pairs of ``(i, j, c)`` that ``cover`` allows."""
    if cover is None:
        return i, j, c
    C = as_cover(cover)
    if C.shape != (n, m):
        raise InputError(f"cover has shape {C.shape}, expected {(n, m)}")
    ok = np.asarray(C[i, j]).ravel().astype(bool) if len(i) else np.zeros(0, bool)
    return i[ok], j[ok], c[ok]


def _assignment_from_x(X: sp.csr_matrix, n: int) -> np.ndarray:
    """Site with the largest share of each demand row (-1 when none)."""
    assign = np.full(n, -1, np.int64)
    for r in range(n):
        s, t = X.indptr[r], X.indptr[r + 1]
        if t > s:
            k = s + int(np.argmax(X.data[s:t]))
            if X.data[k] > 1e-9:
                assign[r] = X.indices[k]
    return assign


def _max_placeable(ii, jj, w, cap, nd: int, m: int, open_cols=None):
    """LP: most weight placeable when the sites in ``open_cols`` (default: all) are open.

    Returns the placed weight and the unplaced share of each of the ``nd`` demand rows.
    """
    open_mask = np.ones(m, bool) if open_cols is None else np.isin(np.arange(m), open_cols)
    keep = open_mask[jj]
    ii, jj = ii[keep], jj[keep]
    E = len(ii)
    if E == 0:
        return 0.0, np.ones(nd)
    e = np.arange(E)
    r_assign = sp.csr_matrix((np.ones(E), (ii, e)), shape=(nd, E))
    r_cap = sp.csr_matrix((w[ii], (jj, e)), shape=(m, E))
    M = sp.vstack([r_assign, r_cap], format="csr")
    sol = solve_milp(w[ii], M, np.full(nd + m, -np.inf), np.concatenate([np.ones(nd), cap]),
                     np.zeros(E), np.ones(E), None, maximize=True, time_limit_s=60.0)
    share = np.bincount(ii, weights=sol.x, minlength=nd)
    return float(sol.objective), np.clip(1.0 - share, 0.0, 1.0)


def solve_capacitated_pmedian(
    cost_matrix: Any,
    weights: Any,
    p: int,
    capacity: Any,
    required: Any = None,
    *,
    cover: Any = None,
    single_source: bool = False,
    fill_required: bool = False,
    drop_uncoverable: bool = False,
    time_limit_s: float = 120.0,
    mip_gap: float = 0.0,
    demand_ids: Sequence[Any] | None = None,
) -> LocationResult:
    r"""Capacitated p-median: ``p`` sites, every child placed within capacity, least travel.

    .. math::

        \min \sum_{(i,j) \in P} w_i d_{ij} x_{ij} \quad\text{s.t.}\quad
        \sum_{j:(i,j) \in P} x_{ij} = 1 \;\forall i,\qquad
        x_{ij} \le y_j \;\forall (i,j) \in P,\qquad
        \sum_{i:(i,j) \in P} w_i x_{ij} \le Q_j y_j \;\forall j,

    .. math::

        \sum_j y_j = p,\qquad y_j = 1 \;(j \in R),\qquad
        \sum_{i:(i,j) \in P} w_i x_{ij} = Q_j \;(j \in R,\ \text{only with fill\_required}),\qquad
        y \in \{0,1\},\; 0 \le x \le 1 \;(x \in \{0,1\} \text{ if single\_source}).

    :math:`x_{ij}` is the share of demand :math:`i` served by site :math:`j` and exists only
    for the allowed pairs :math:`P` (finite / present entries of ``cost_matrix``, further
    restricted to ``cover``), so nobody is assigned beyond the cut-off or the service
    standard. The valid inequality :math:`\sum_j Q_j y_j \ge \sum_i w_i` is added to tighten
    the relaxation. Demand with zero weight is left out of the model (its ``assignment`` is
    the nearest open allowed site).

    **Split or single-sourced.** By default (``single_source=False``) the children of a
    demand point may be split over several open sites: the unit served is a child, not a
    village, and for fixed open sites the assignment is then a transportation problem (with
    integer children and capacities it has an optimum that places whole children).
    ``single_source=True`` makes ``x`` binary: every child of a village goes to the same site,
    as in Mulvey & Beck (1984) and in spopt's ``PMedian`` with ``facility_capacities``
    (binary ``z``). The split optimum is never worse; the two coincide when every demand
    point weighs one (spopt's school test data: both give spopt's published mean of 87.2).

    **fill_required.** spopt's ``fulfill_predefined_fac=True`` requires every predefined
    (required) site to be filled exactly to its capacity. siteplan does not want that by
    default (an existing care site need not be full), so it is off unless asked for; it
    exists to reproduce spopt's published instance and for planners who must keep existing
    sites fully used (e.g. to justify their staffing).

    **Matching spopt.** spopt's school test (``test_c_p_median.py``: p = 10, capacities
    ``Count``, schools with ``priority == 1`` predefined and filled) builds the cost matrix
    with ``fill_value=10000`` for missing student-school pairs, i.e. allows them at a huge
    cost; siteplan reaches the published mean of 87.2 minutes (872 / 10 students) both on
    that matrix and with the missing pairs not allowed (``inf``), single-sourced or split,
    with ``fill_required=True``. Without it (siteplan's default) the mean is 81.6.

    Parameters
    ----------
    cost_matrix : ndarray or scipy.sparse matrix, shape (n_demand, n_candidates)
        Travel cost per child (seconds or metres). Dense ``inf`` / sparse absent = not
        allowed; sparse explicit zeros are zero-cost allowed pairs.
    weights : array_like, shape (n_demand,)
        Children per demand point (>= 0).
    p : int
        Number of open sites, required (existing) sites included.
    capacity : array_like, shape (n_candidates,)
        Children each site can serve (>= 0).
    required : bool mask (n_candidates,) or positions, optional
        Existing sites kept open (counted in ``p``).
    cover : bool matrix or sparse, shape (n_demand, n_candidates), optional
        Service standard: only covered pairs may be assigned.
    single_source : bool
        All children of a demand point go to one site (binary ``x``). Default: split allowed.
    fill_required : bool
        Every required site serves exactly its capacity (spopt's "fulfill predefined").
    drop_uncoverable : bool
        Leave weighted demand without any allowed pair out of the model and list it in
        ``uncoverable`` instead of raising :class:`InfeasibleError`.
    time_limit_s, mip_gap : float
        Solver time limit (s) and relative gap tolerance.
    demand_ids : sequence, optional
        Labels of the demand points used in error messages and ``uncoverable`` of errors.

    Returns
    -------
    LocationResult
        ``model="cpmedian"``; ``objective`` = :math:`\sum w_i d_{ij} x_{ij}` (child-seconds or
        child-metres); ``assignment`` = site with the largest share of each demand point;
        ``covered`` = demand point served; ``uncoverable`` = dropped demand positions.
        ``extra``: ``"x"`` sparse shares, shape (n_demand, n_candidates); ``"load"`` children
        served per site, shape (n_candidates,); ``"capacity"``; ``"mean_cost"`` = objective /
        children placed; ``"placed"`` children placed; ``"n_split"`` demand points served by
        more than one site; ``"single_source"``; ``"fill_required"``.

    Raises
    ------
    InputError
        ``p`` outside ``max(1, n_required)..n_candidates``, bad shapes, negative or NaN values.
    InfeasibleError
        Weighted demand without an allowed pair (unless ``drop_uncoverable``); a demand point
        with more children than the sites within reach can hold; the ``p`` largest
        capacities (required sites included) below the total demand; required capacity above
        the demand (``fill_required``); or, after the solve, no ``p`` sites can hold every
        child within reach - the message then names the demand that cannot be placed even
        with every candidate open, or says that ``p`` is too small. ``uncoverable`` lists the
        demand ids concerned.
    SolverError
        The solver fails or stops without a solution.

    References
    ----------
    Mulvey, J. M. & Beck, M. P. (1984). Solving capacitated clustering problems. *European
    Journal of Operational Research* 18(3), 339-348.
    ReVelle, C. S. & Swain, R. W. (1970). Central facilities location. *Geographical Analysis*
    2(1), 30-42.
    spopt (PySAL), ``spopt.locate.PMedian.from_cost_matrix`` with ``facility_capacities``,
    ``predefined_facilities_arr`` and ``fulfill_predefined_fac`` (test data
    ``test_c_p_median.py``).
    """
    t0 = time.perf_counter()
    p = _check_p(p, "solve_capacitated_pmedian", "(cost_matrix, weights, p, capacity, required)")
    i, j, d, (n, m), w, req = _inputs(cost_matrix, weights, required, p)
    if capacity is None:
        raise InputError("solve_capacitated_pmedian needs capacity (children per candidate)")
    cap = as_vector(capacity, m, "capacity")
    i, j, d = _restrict_to_cover(i, j, d, cover, n, m)
    has = np.zeros(n, bool)
    has[i] = True
    pos = w > 0
    bad = np.flatnonzero(pos & ~has)
    if len(bad) and not drop_uncoverable:
        raise InfeasibleError(
            f"{len(bad)} demand point(s) have no allowed site (none within the cut-off / standard): "
            + _names(bad, demand_ids),
            uncoverable=[_label(int(k), demand_ids) for k in bad],
        )
    rows = np.flatnonzero(pos & has)
    keep = pos[i] & has[i]
    ii_all, jj, dd = i[keep], j[keep], d[keep]
    dem_row = np.full(n, -1, np.int64)
    dem_row[rows] = np.arange(len(rows))
    ii = dem_row[ii_all]
    nd, E = len(rows), len(ii)
    wr = w[rows]
    W = float(wr.sum())
    n_req = int(req.sum())

    # ---- checks that name the cause before any solve
    if nd:
        if single_source:
            reach = np.zeros(nd)
            np.maximum.at(reach, ii, cap[jj])
        else:
            reach = np.bincount(ii, weights=cap[jj], minlength=nd)
        short = np.flatnonzero(wr > reach + _TOL)
        if len(short):
            what = "the largest site" if single_source else "all sites"
            names = [f"{_label(int(rows[k]), demand_ids)} ({wr[k]:g} children > {reach[k]:g} places)"
                     for k in short[:10]]
            raise InfeasibleError(
                f"{len(short)} demand point(s) have more children than {what} within reach can take: "
                + ", ".join(names) + (" ..." if len(short) > 10 else "")
                + "; raise the capacities or widen the standard",
                uncoverable=[_label(int(rows[k]), demand_ids) for k in short],
            )
    others = np.sort(cap[~req])[::-1]
    best = float(cap[req].sum() + others[: p - n_req].sum())
    if best + _TOL < W:
        raise InfeasibleError(
            f"the {p} site(s) with the largest capacities ({n_req} required) hold {best:g} children, "
            f"fewer than the {W:g} to place: raise p or the capacities"
        )
    if fill_required and n_req:
        need = float(cap[req].sum())
        if need > W + _TOL:
            raise InfeasibleError(
                f"the required sites cannot be filled to capacity: their capacity {need:g} exceeds "
                f"the total demand {W:g} (fill_required)"
            )
        reach_w = np.bincount(jj, weights=wr[ii], minlength=m)
        unfillable = np.flatnonzero(req & (reach_w + _TOL < cap))
        if len(unfillable):
            raise InfeasibleError(
                f"{len(unfillable)} required site(s) cannot be filled to capacity from the demand within "
                "reach (fill_required): " + ", ".join(
                    f"site {int(k)} ({reach_w[k]:g} children within reach < {cap[k]:g} places)"
                    for k in unfillable[:10])
            )

    # ---- the MILP: variables y (m) | x (E)
    e = np.arange(E)
    blocks = [
        sp.csr_matrix((np.ones(E), (ii, m + e)), shape=(nd, m + E)),  # assignment
        sp.csr_matrix((np.r_[np.ones(E), -np.ones(E)], (np.r_[e, e], np.r_[m + e, jj])),
                      shape=(E, m + E)),  # x_ij <= y_j
        sp.csr_matrix((np.r_[wr[ii], -cap], (np.r_[jj, np.arange(m)], np.r_[m + e, np.arange(m)])),
                      shape=(m, m + E)),  # capacity
        sp.csr_matrix((np.ones(m), (np.zeros(m, np.int64), np.arange(m))), shape=(1, m + E)),  # p
        sp.csr_matrix(np.r_[cap, np.zeros(E)][None, :]),  # aggregate capacity (valid inequality)
    ]
    cap_hi = np.zeros(m)
    cap_lo = np.full(m, -np.inf)
    if fill_required:
        cap_lo[req] = 0.0  # sum_i w_i x_ij - Q_j y_j = 0 for required j
    lo = np.concatenate([np.ones(nd), np.full(E, -np.inf), cap_lo, [p], [W]])
    hi = np.concatenate([np.ones(nd), np.zeros(E), cap_hi, [p], [np.inf]])
    M = sp.vstack(blocks, format="csr")
    col_lo = np.zeros(m + E)
    col_lo[:m][req] = 1.0
    integer = np.concatenate([np.ones(m, bool), np.full(E, bool(single_source))])
    cobj = np.concatenate([np.zeros(m), wr[ii] * dd])
    build = time.perf_counter() - t0
    try:
        sol = solve_milp(cobj, M, lo, hi, col_lo, np.ones(m + E), integer,
                         time_limit_s=time_limit_s, mip_gap=mip_gap)
    except InfeasibleError:
        raise _explain_pmedian(ii, jj, wr, cap, nd, m, rows, p, req, fill_required, single_source,
                               demand_ids) from None
    sel, open_mask, xv, X = _shares(sol.x, m, ii, jj, rows, n)
    assign = _assignment_from_x(X, n)
    # zero-weight demand: nearest open allowed site (reporting only)
    zero = ~pos & has
    if zero.any():
        a0, _ = _assign(i, j, d, n, open_mask)
        assign[zero] = a0[zero]
    load = np.bincount(jj, weights=wr[ii] * xv, minlength=m)
    obj = float(sol.objective)
    bound = obj if sol.status == "optimal" else float(sol.bound)
    n_split = int(np.sum(np.bincount(ii, weights=(xv > 1e-6).astype(float), minlength=nd) > 1))
    dropped = np.flatnonzero(pos & ~has).astype(np.int64)
    return LocationResult(
        model="cpmedian", status=sol.status, objective=obj, bound=bound, gap=rel_gap(obj, bound),
        selected=sel.astype(np.int64), covered=assign >= 0, assignment=assign,
        solve_time_s=sol.solve_time_s, build_time_s=build, n_variables=sol.n_variables,
        n_constraints=sol.n_constraints, uncoverable=dropped,
        extra={"x": X, "load": load, "capacity": cap, "placed": float(load.sum()),
               "mean_cost": obj / W if W > 0 else 0.0, "n_split": n_split,
               "single_source": bool(single_source), "fill_required": bool(fill_required)},
    )


def _explain_pmedian(ii, jj, wr, cap, nd, m, rows, p, req, fill_required, single_source, ids):
    """An :class:`InfeasibleError` that says why no ``p`` sites can place every child."""
    try:
        placed, unplaced = _max_placeable(ii, jj, wr, cap, nd, m)
    except SolverError:  # the diagnosis must not hide the infeasibility itself
        return InfeasibleError(f"no {p} site(s) can place every child within reach and capacity")
    total = float(wr.sum())
    if placed + _TOL < total:
        stuck = np.flatnonzero(unplaced > _TOL)
        return InfeasibleError(
            f"even with every candidate open, {total - placed:g} of {total:g} children cannot be placed "
            "within reach and capacity (the sites within reach of these demand points are shared and too "
            "small): " + _names(rows[stuck], ids) + "; raise the capacities or widen the standard",
            uncoverable=[_label(int(rows[k]), ids) for k in stuck],
        )
    why = [f"every child fits when all candidates are open, so p = {p} site(s) ({int(req.sum())} required) "
           "are too few to place them "
           "all within reach and capacity: raise p (the capacitated MCLP tells how many children p sites "
           "can place)"]
    if fill_required and req.any():
        why.append("or filling the required sites exactly to capacity (fill_required) conflicts with it")
    if single_source:
        why.append("or the whole-village assignment (single_source) does not fit")
    return InfeasibleError("; ".join(why))


def solve_capacitated_mclp(
    cover: Any,
    weights: Any,
    capacity: Any,
    p: int | None = None,
    budget: float | None = None,
    cost: Any = None,
    required: Any = None,
    *,
    required_in_p: bool = True,
    single_source: bool = False,
    time_limit_s: float = 120.0,
    mip_gap: float = 0.0,
) -> LocationResult:
    r"""Capacitated maximal covering: most children placed within the standard and capacities.

    .. math::

        \max \sum_{(i,j) \in N} w_i x_{ij} \quad\text{s.t.}\quad
        \sum_{j:(i,j) \in N} x_{ij} \le 1 \;\forall i,\qquad
        x_{ij} \le y_j,\qquad
        \sum_{i:(i,j) \in N} w_i x_{ij} \le Q_j y_j \;\forall j,

    .. math::

        \sum_j y_j \le p,\qquad \sum_{j \notin R} c_j y_j \le B,\qquad y_j = 1 \;(j \in R),\qquad
        y \in \{0,1\},\; 0 \le x \le 1 \;(x \in \{0,1\} \text{ if single\_source}).

    A child counts as covered only when it is *assigned* to an open site within the service
    standard (:math:`x_{ij}` exists only on covering pairs :math:`N`) and that site has room.
    **Partial coverage of a village is allowed** by default: ``x`` is the share of a village's
    children placed at a site, so a village of 50 children next to a site of 40 places counts
    40 covered. With ``single_source=True`` a village is covered whole by one site or not at
    all. Uncapacitated MCLP coverage is an upper bound (a village within reach of an open site
    counts whole there).

    Parameters
    ----------
    cover : bool array_like or scipy.sparse matrix, shape (n_demand, n_candidates)
        ``cover[i, j]`` True when candidate ``j`` serves demand ``i`` within the standard.
    weights : array_like, shape (n_demand,)
        Children per demand point (>= 0).
    capacity : array_like, shape (n_candidates,)
        Children each site can serve (>= 0).
    p : int, optional
        Maximum number of open sites; with ``required_in_p=True`` (default) the required sites
        count towards it, with False ``p`` new sites are added to them.
    budget : float, optional
        Maximum total ``cost`` of the opened non-required sites (e.g. CNY). At least one of
        ``p`` and ``budget`` is needed.
    cost : array_like, shape (n_candidates,), optional
        Opening cost; default 1.
    required : bool mask (n_candidates,) or positions, optional
        Existing sites kept open.
    required_in_p : bool
        Whether required sites count towards ``p``.
    single_source : bool
        A village is placed whole at one site or not at all (binary ``x``).
    time_limit_s, mip_gap : float
        Solver time limit (s) and relative gap tolerance.

    Returns
    -------
    LocationResult
        ``model="cmclp"``; ``objective`` = children placed (covered within capacity);
        ``covered`` = every child of the demand point placed; ``assignment`` = site with the
        largest share; ``uncoverable`` = demand no candidate covers. ``extra``: ``"x"`` sparse
        shares, shape (n_demand, n_candidates); ``"share"`` placed share of each demand point,
        shape (n_demand,); ``"load"`` children per site, shape (n_candidates,); ``"capacity"``;
        ``"covered_share"`` = objective / total children; ``"n_partial"`` demand points placed
        in part; ``"placed"``.

    Raises
    ------
    InputError
        Neither ``p`` nor ``budget``; ``p`` smaller than the number of required sites or more
        than the candidates; ``budget`` without ``cost`` or negative; bad shapes, negative or
        NaN values.
    SolverError
        The solver fails or stops without a solution.

    Notes
    -----
    Pirkul & Schilling (1991) also assign the demand *outside* the standard (to the nearest
    site with room, counting towards its workload); here only covered children use capacity,
    as in Current & Storbeck's capacitated MCLP. The model is always feasible (place nobody).

    References
    ----------
    Current, J. R. & Storbeck, J. E. (1988). Capacitated covering models. *Environment and
    Planning B* 15(2), 153-163.
    Pirkul, H. & Schilling, D. A. (1991). The maximal covering location problem with
    capacities on total workload. *Management Science* 37(2), 233-248.
    Church, R. & ReVelle, C. (1974). The maximal covering location problem. *Papers of the
    Regional Science Association* 32, 101-118.
    """
    t0 = time.perf_counter()
    A = as_cover(cover)
    n, m = A.shape
    w = as_vector(weights, n, "weights")
    if capacity is None:
        raise InputError("solve_capacitated_mclp needs capacity (children per candidate)")
    cap = as_vector(capacity, m, "capacity")
    c = as_vector(cost, m, "cost")
    req = as_mask(required, m)
    n_req = int(req.sum())
    if p is None and budget is None:
        raise InputError("solve_capacitated_mclp needs p (number of sites) or budget")
    if p is not None:
        p = _check_p(p, "solve_capacitated_mclp", "(cover, weights, capacity, p, budget, cost, required)")
    if budget is not None:
        if cost is None:
            raise InputError("solve_capacitated_mclp: budget needs cost (CNY per candidate)")
        if not (np.isfinite(float(budget)) and float(budget) >= 0):
            raise InputError(f"solve_capacitated_mclp: budget must be a number >= 0 (CNY), got {budget}")
    p_total = None if p is None else (int(p) if required_in_p else int(p) + n_req)
    if p_total is not None and p_total < n_req:
        raise InputError(f"p = {p} is smaller than the {n_req} required sites (required_in_p=True)")
    if p_total is not None and p_total > m:
        raise InputError(f"solve_capacitated_mclp: p must be between 1 and {m} (the candidates), got {p_total}"
                         + ("" if required_in_p else f" ({p} new + {n_req} required)"))
    uncov = np.flatnonzero(np.diff(A.indptr) == 0).astype(np.int64)
    rows = np.flatnonzero((np.diff(A.indptr) > 0) & (w > 0))
    sub = A[rows].tocoo()
    ii, jj = sub.row.astype(np.int64), sub.col.astype(np.int64)
    nd, E = len(rows), len(ii)
    wr = w[rows]
    col_hi = np.ones(m)
    if budget is not None:
        col_hi[(~req) & (c > budget + 1e-9)] = 0.0
    e = np.arange(E)
    blocks = [
        sp.csr_matrix((np.ones(E), (ii, m + e)), shape=(nd, m + E)),  # sum_j x_ij <= 1
        sp.csr_matrix((np.r_[np.ones(E), -np.ones(E)], (np.r_[e, e], np.r_[m + e, jj])),
                      shape=(E, m + E)),  # x_ij <= y_j
        sp.csr_matrix((np.r_[wr[ii], -cap], (np.r_[jj, np.arange(m)], np.r_[m + e, np.arange(m)])),
                      shape=(m, m + E)),  # capacity
    ]
    lo = [np.full(nd, -np.inf), np.full(E, -np.inf), np.full(m, -np.inf)]
    hi = [np.ones(nd), np.zeros(E), np.zeros(m)]
    if p_total is not None:
        blocks.append(sp.csr_matrix(np.r_[np.ones(m), np.zeros(E)][None, :]))
        lo.append([-np.inf])
        hi.append([float(p_total)])
    if budget is not None:
        blocks.append(sp.csr_matrix(np.r_[np.where(req, 0.0, c), np.zeros(E)][None, :]))
        lo.append([-np.inf])
        hi.append([float(budget)])
    M = sp.vstack(blocks, format="csr")
    col_lo = np.zeros(m + E)
    col_lo[:m][req] = 1.0
    integer = np.concatenate([np.ones(m, bool), np.full(E, bool(single_source))])
    cobj = np.concatenate([np.zeros(m), wr[ii]])
    build = time.perf_counter() - t0
    sol = solve_milp(cobj, M, np.concatenate(lo), np.concatenate(hi), col_lo,
                     np.concatenate([col_hi, np.ones(E)]), integer, maximize=True,
                     time_limit_s=time_limit_s, mip_gap=mip_gap,
                     infeasible_message="the required sites alone break the budget or p")
    sel, open_mask, xv, X = _shares(sol.x, m, ii, jj, rows, n)
    share = np.zeros(n)
    share[rows] = np.bincount(ii, weights=xv, minlength=nd)
    share = np.clip(share, 0.0, 1.0)
    assign = _assignment_from_x(X, n)
    load = np.bincount(jj, weights=wr[ii] * xv, minlength=m)
    obj = float(sol.objective)
    bound = obj if sol.status == "optimal" else float(sol.bound)
    total = float(w.sum())
    covered = share >= 1.0 - _TOL
    return LocationResult(
        model="cmclp", status=sol.status, objective=obj, bound=bound, gap=rel_gap(obj, bound),
        selected=sel.astype(np.int64), covered=covered, assignment=assign,
        solve_time_s=sol.solve_time_s, build_time_s=build, n_variables=sol.n_variables,
        n_constraints=sol.n_constraints, uncoverable=uncov,
        extra={"x": X, "share": share, "load": load, "capacity": cap, "placed": float(load.sum()),
               "covered_share": obj / total if total > 0 else 1.0,
               "n_partial": int(np.sum((share > _TOL) & ~covered)), "single_source": bool(single_source)},
    )
