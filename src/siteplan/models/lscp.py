"""Location set covering problem (LSCP)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from siteplan.errors import InfeasibleError
from siteplan.models._result import (
    LocationResult,
    as_cover,
    as_mask,
    as_vector,
    first_cover_assignment,
    rel_gap,
)
from siteplan.models._solver import round_binary, solve_milp


def unique_rows(A: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
    """Group identical rows of a CSR matrix.

    Returns
    -------
    first : ndarray of int, shape (n_unique,)
        A representative row position for each distinct row.
    inverse : ndarray of int, shape (n_rows,)
        Group of every row (``first[inverse[i]]`` has the same pattern as row ``i``).
    """
    keys: dict[bytes, int] = {}
    inverse = np.empty(A.shape[0], dtype=np.int64)
    first = []
    ip, ind = A.indptr, A.indices
    for i in range(A.shape[0]):
        k = ind[ip[i] : ip[i + 1]].tobytes()
        g = keys.get(k)
        if g is None:
            g = keys[k] = len(first)
            first.append(i)
        inverse[i] = g
    return np.asarray(first, dtype=np.int64), inverse


def _ids(positions: np.ndarray, demand_ids: Sequence[Any] | None) -> list[str]:
    if demand_ids is None:
        return [str(int(i)) for i in positions]
    return [str(demand_ids[int(i)]) for i in positions]


def smallest_covering_standard(travel_cost: Any, demand: np.ndarray) -> float:
    """Smallest service standard under which every listed demand point has a candidate.

    Parameters
    ----------
    travel_cost : ndarray or scipy.sparse matrix, shape (n_demand, n_candidates)
        Travel time or distance; for a sparse matrix absent pairs are unreachable.
    demand : ndarray of int
        Demand positions.

    Returns
    -------
    float
        ``max_i min_j travel_cost[i, j]`` over the listed demand (``inf`` if one is unreachable).
    """
    if len(demand) == 0:
        return 0.0
    if sp.issparse(travel_cost):
        T = sp.csr_matrix(travel_cost)[demand]
        best = []
        for r in range(T.shape[0]):
            row = T.data[T.indptr[r] : T.indptr[r + 1]]
            best.append(row.min() if len(row) else np.inf)
        return float(np.max(best))
    T = np.asarray(travel_cost, dtype=float)[demand]
    return float(np.max(np.min(T, axis=1)))


def solve_lscp(
    cover: Any,
    cost: Any = None,
    required: Any = None,
    *,
    strict: bool = False,
    travel_cost: Any = None,
    demand_ids: Sequence[Any] | None = None,
    time_limit_s: float = 120.0,
    mip_gap: float = 0.0,
) -> LocationResult:
    r"""Location set covering: fewest sites (or least cost) covering every coverable demand.

    .. math::

        \min \sum_j c_j y_j \quad \text{s.t.} \quad
        \sum_{j \in N_i} y_j \ge 1 \;\; \forall i \in I_c, \qquad
        y_j = 1 \;\; \forall j \in R, \qquad y_j \in \{0, 1\}

    where :math:`N_i` is the set of candidates covering demand :math:`i`, :math:`I_c` the
    coverable demand points (:math:`N_i \neq \emptyset`) and :math:`R` the required sites.
    Rows already covered by a required site and duplicate rows are removed before solving.

    Parameters
    ----------
    cover : array_like or scipy.sparse matrix of bool, shape (n_demand, n_candidates)
        ``cover[i, j]`` is True when candidate ``j`` serves demand ``i`` within the standard.
    cost : array_like, shape (n_candidates,), optional
        Cost of opening each candidate (e.g. CNY); default 1 (= count sites).
    required : bool mask shape (n_candidates,) or positions, optional
        Existing sites forced open; their cost is included in the objective (give them cost 0
        to count only new sites).
    strict : bool
        If True, demand points no candidate covers raise :class:`InfeasibleError` instead of
        being reported in ``result.uncoverable``.
    travel_cost : array_like or sparse, shape (n_demand, n_candidates), optional
        Travel times/distances; with ``strict``, the error names the smallest standard that
        would cover the uncoverable demand.
    demand_ids : sequence, optional
        Labels of the demand points, used in error messages.
    time_limit_s : float
        Solver time limit, seconds.
    mip_gap : float
        Relative MIP gap tolerance (0 = proven optimum).

    Returns
    -------
    LocationResult
        ``objective`` = total cost of open sites (number of sites for unit costs).

    Raises
    ------
    InfeasibleError
        ``strict=True`` and some demand has no covering candidate (``uncoverable`` lists ids).
    SolverError
        The solver fails or stops without a solution.

    References
    ----------
    Toregas, C., Swain, R., ReVelle, C. & Bergman, L. (1971). The location of emergency
    service facilities. *Operations Research* 19(6), 1363-1373.
    """
    t0 = time.perf_counter()
    A = as_cover(cover)
    n, m = A.shape
    c = as_vector(cost, m, "cost")
    req = as_mask(required, m)
    counts = np.diff(A.indptr)
    uncov = np.flatnonzero(counts == 0)
    if strict and len(uncov):
        msg = f"{len(uncov)} demand point(s) have no candidate site within the standard"
        if travel_cost is not None:
            r = smallest_covering_standard(travel_cost, uncov)
            msg += f"; the smallest standard that would cover them is {r:g}"
        msg += ": " + ", ".join(_ids(uncov[:20], demand_ids)) + (" ..." if len(uncov) > 20 else "")
        raise InfeasibleError(msg, uncoverable=_ids(uncov, demand_ids))
    covered_by_req, _ = first_cover_assignment(A, req)
    rows = np.flatnonzero((counts > 0) & ~covered_by_req)
    sub = A[rows]
    first, _ = unique_rows(sub)
    sub = sub[first]
    cols = np.setdiff1d(np.unique(sub.indices), np.flatnonzero(req))
    offset = float(c[req].sum())
    if sub.shape[0] == 0:
        sel = np.flatnonzero(req)
        obj = offset
        status, bound, gap, st, nv, nc = "optimal", obj, 0.0, 0.0, 0, 0
        build = time.perf_counter() - t0
    else:
        S = sub[:, cols].astype(np.float64)
        build = time.perf_counter() - t0
        sol = solve_milp(
            c[cols], S, np.ones(S.shape[0]), np.full(S.shape[0], np.inf),
            np.zeros(len(cols)), np.ones(len(cols)), np.ones(len(cols), bool),
            offset=offset, time_limit_s=time_limit_s, mip_gap=mip_gap,
        )
        sel = np.union1d(cols[round_binary(sol.x)], np.flatnonzero(req))
        open_mask = np.zeros(m, bool)
        open_mask[sel] = True
        obj = float(c[open_mask].sum())
        status, bound, st, nv, nc = sol.status, sol.bound, sol.solve_time_s, sol.n_variables, sol.n_constraints
        gap = rel_gap(obj, bound)
    open_mask = np.zeros(m, bool)
    open_mask[sel] = True
    covered, assign = first_cover_assignment(A, open_mask)
    return LocationResult(
        model="lscp", status=status, objective=obj, bound=bound, gap=gap,
        selected=np.sort(sel).astype(np.int64), covered=covered, assignment=assign,
        solve_time_s=st, build_time_s=build, n_variables=nv, n_constraints=nc,
        uncoverable=uncov.astype(np.int64),
    )
