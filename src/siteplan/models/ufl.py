"""Uncapacitated and capacitated facility location (fixed costs + assignment costs)."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import scipy.sparse as sp

from siteplan.errors import InfeasibleError, InputError
from siteplan.models._result import LocationResult, as_mask, as_vector, rel_gap
from siteplan.models._solver import round_binary, solve_milp
from siteplan.models.pmedian import _pairs


def solve_ufl(
    fixed_cost: Any,
    assign_cost: Any,
    demand: Any = None,
    *,
    capacity: Any = None,
    cover: Any = None,
    required: Any = None,
    single_source: bool = False,
    time_limit_s: float = 120.0,
    mip_gap: float = 0.0,
) -> LocationResult:
    r"""Facility location with fixed opening costs: uncapacitated (UFL) or capacitated (CFLP).

    .. math::

        \min \sum_j f_j y_j + \sum_{(i,j) \in P} c_{ij} x_{ij} \quad\text{s.t.}\quad
        \sum_{j:(i,j)\in P} x_{ij} = 1 \;\forall i,\qquad x_{ij} \le y_j \;\forall (i,j) \in P,

    .. math::

        \sum_{i:(i,j)\in P} d_i x_{ij} \le Q_j y_j \;\forall j \;\text{(capacitated only)},\qquad
        y \in \{0,1\},\; 0 \le x \le 1 \;(x \in \{0,1\} \text{ if single\_source}).

    :math:`x_{ij}` exists only for allowed pairs :math:`P`: finite (dense) or present (sparse)
    entries of ``assign_cost``, further restricted to ``cover`` when given, so no demand is
    ever assigned beyond the service standard.

    Parameters
    ----------
    fixed_cost : array_like, shape (n_candidates,)
        Cost of opening each site (e.g. CNY).
    assign_cost : ndarray or scipy.sparse matrix, shape (n_demand, n_candidates)
        Cost of serving ALL of demand ``i`` from site ``j`` (OR-Library convention; multiply a
        per-unit travel cost by the demand first). Dense ``inf`` / sparse absent = not allowed.
    demand : array_like, shape (n_demand,), optional
        Demand quantities (children); needed with ``capacity``; default 1.
    capacity : array_like, shape (n_candidates,), optional
        Site capacities in the unit of ``demand``; None = uncapacitated.
    cover : bool matrix or sparse, shape (n_demand, n_candidates), optional
        Service standard: only covered pairs may be assigned.
    required : bool mask or positions, optional
        Sites forced open (their fixed cost is included).
    single_source : bool
        Each demand served by exactly one site (binary ``x``).
    time_limit_s, mip_gap : float

    Returns
    -------
    LocationResult
        ``model`` "ufl" or "cflp"; ``assignment`` = site with the largest share of each demand;
        ``extra["x"]`` = sparse assignment shares, shape (n_demand, n_candidates).

    Raises
    ------
    InfeasibleError
        A demand has no allowed site (``uncoverable``), or capacities cannot hold the demand.
    SolverError
        The solver fails or stops without a solution.

    References
    ----------
    Balinski, M. L. (1965). Integer programming: methods, uses, computation. *Management
    Science* 12(3), 253-313.
    Beasley, J. E. (1988). An algorithm for solving large capacitated warehouse location
    problems. *European Journal of Operational Research* 33(3), 314-325.
    """
    t0 = time.perf_counter()
    i, j, c, (n, m) = _pairs(assign_cost)
    f = as_vector(fixed_cost, m, "fixed_cost", 0.0)
    d = as_vector(demand, n, "demand")
    req = as_mask(required, m)
    if cover is not None:
        from siteplan.models._result import as_cover

        C = as_cover(cover)
        if C.shape != (n, m):
            raise InputError(f"cover has shape {C.shape}, expected {(n, m)}")
        ok = np.asarray(C[i, j]).ravel().astype(bool)
        i, j, c = i[ok], j[ok], c[ok]
    has = np.zeros(n, bool)
    has[i] = True
    if not has.all():
        bad = np.flatnonzero(~has)
        raise InfeasibleError(
            f"{len(bad)} demand point(s) have no allowed site: " + ", ".join(map(str, bad[:20])),
            uncoverable=[str(int(b)) for b in bad],
        )
    cap = None if capacity is None else as_vector(capacity, m, "capacity")
    E = len(i)
    # variables: y (m) | x (E)
    e = np.arange(E)
    r_assign = sp.csr_matrix((np.ones(E), (i, m + e)), shape=(n, m + E))
    r_link = sp.csr_matrix((np.concatenate([np.ones(E), -np.ones(E)]),
                            (np.concatenate([e, e]), np.concatenate([m + e, j]))), shape=(E, m + E))
    blocks = [r_assign, r_link]
    lo = [np.ones(n), np.full(E, -np.inf)]
    hi = [np.ones(n), np.zeros(E)]
    if cap is not None:
        r_cap = sp.csr_matrix((np.concatenate([d[i], -cap]), (np.concatenate([j, np.arange(m)]),
                                                             np.concatenate([m + e, np.arange(m)]))),
                              shape=(m, m + E))
        blocks.append(r_cap)
        lo.append(np.full(m, -np.inf))
        hi.append(np.zeros(m))
        # aggregate capacity (valid inequality, speeds up the bound)
        blocks.append(sp.csr_matrix(np.concatenate([cap, np.zeros(E)])[None, :]))
        lo.append([d.sum()])
        hi.append([np.inf])
    M = sp.vstack(blocks, format="csr")
    col_lo = np.zeros(m + E)
    col_lo[:m][req] = 1
    integer = np.concatenate([np.ones(m, bool), np.full(E, bool(single_source))])
    build = time.perf_counter() - t0
    sol = solve_milp(np.concatenate([f, c]), M, np.concatenate(lo), np.concatenate(hi), col_lo,
                     np.ones(m + E), integer, time_limit_s=time_limit_s, mip_gap=mip_gap,
                     infeasible_message="no set of sites can serve all demand within the capacities")
    sel = round_binary(sol.x[:m])
    xv = sol.x[m:]
    X = sp.csr_matrix((xv, (i, j)), shape=(n, m))
    X.eliminate_zeros()
    Xd = X.toarray() if n * m <= 5_000_000 else None
    if Xd is not None:
        assign = np.where(Xd.max(axis=1) > 1e-9, Xd.argmax(axis=1), -1)
    else:
        assign = np.full(n, -1)
        for r in range(n):
            s, t = X.indptr[r], X.indptr[r + 1]
            if t > s:
                assign[r] = X.indices[s + int(np.argmax(X.data[s:t]))]
    obj = float(sol.objective)
    bound = obj if sol.status == "optimal" else sol.bound
    return LocationResult(
        model="ufl" if cap is None else "cflp", status=sol.status, objective=obj, bound=float(bound),
        gap=rel_gap(obj, bound), selected=sel.astype(np.int64), covered=assign >= 0,
        assignment=assign.astype(np.int64), solve_time_s=sol.solve_time_s, build_time_s=build,
        n_variables=sol.n_variables, n_constraints=sol.n_constraints,
        extra={"x": X, "fixed": float(f[sel].sum()), "assignment_cost": obj - float(f[sel].sum())},
    )


def solve_capacitated_lscp(
    cover: Any,
    demand: Any,
    capacity: Any,
    cost: Any = None,
    required: Any = None,
    *,
    single_source: bool = False,
    time_limit_s: float = 120.0,
    mip_gap: float = 0.0,
) -> LocationResult:
    r"""Capacitated set covering: least-cost sites serving every coverable demand within capacity.

    .. math::

        \min \sum_j c_j y_j \;\text{s.t.}\; \sum_{j \in N_i} x_{ij} = 1 \;\forall i \in I_c,\;
        x_{ij} \le y_j,\; \sum_{i: j \in N_i} d_i x_{ij} \le Q_j y_j,\; y_j = 1 \,(j \in R),\;
        y \in \{0,1\},\; 0 \le x \le 1

    i.e. :func:`solve_ufl` with zero assignment cost and ``x`` only on covering pairs
    (:math:`N_i`), so nobody is assigned beyond the service standard. Demand no candidate
    covers is left out and reported in ``uncoverable``.

    Parameters
    ----------
    cover : bool matrix or sparse, shape (n_demand, n_candidates)
    demand : array_like, shape (n_demand,)
        Children per demand point.
    capacity : array_like, shape (n_candidates,)
        Children a site can serve.
    cost : array_like, shape (n_candidates,), optional
        Opening cost (CNY); default 1 (= fewest sites).
    required : bool mask or positions, optional
    single_source : bool
        All children of a demand point go to one site (default: may be split).
    time_limit_s, mip_gap : float

    Returns
    -------
    LocationResult
        ``model="cflp"``; positions refer to the full demand set.

    Raises
    ------
    InfeasibleError
        The capacities cannot hold the coverable demand.
    SolverError
        The solver fails or stops without a solution.

    References
    ----------
    Toregas, C., Swain, R., ReVelle, C. & Bergman, L. (1971). The location of emergency
    service facilities. *Operations Research* 19(6), 1363-1373.
    Current, J. R. & Storbeck, J. E. (1988). Capacitated covering models. *Environment and
    Planning B* 15(2), 153-163.
    """
    from siteplan.models._result import as_cover

    A = as_cover(cover)
    n, m = A.shape
    d = as_vector(demand, n, "demand")
    rows = np.flatnonzero((np.diff(A.indptr) > 0) & (d > 0))
    sub = A[rows]
    C = sp.csr_matrix((np.zeros(sub.nnz), sub.indices, sub.indptr), shape=sub.shape)
    C.data[:] = 0.0  # explicit zeros = allowed pairs at zero cost
    r = solve_ufl(as_vector(cost, m, "cost"), C, d[rows], capacity=capacity, required=required,
                  single_source=single_source, time_limit_s=time_limit_s, mip_gap=mip_gap)
    assign = np.full(n, -1, np.int64)
    assign[rows] = r.assignment
    return LocationResult(
        model="cflp", status=r.status, objective=r.objective, bound=r.bound, gap=r.gap, selected=r.selected,
        covered=assign >= 0, assignment=assign, solve_time_s=r.solve_time_s, build_time_s=r.build_time_s,
        n_variables=r.n_variables, n_constraints=r.n_constraints,
        uncoverable=np.flatnonzero(np.diff(A.indptr) == 0).astype(np.int64), extra={"demand_rows": rows, **r.extra},
    )
