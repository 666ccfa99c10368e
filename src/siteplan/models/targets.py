"""The city plan's coverage targets as constraints, at least cost; cost-vs-target curve."""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from siteplan.errors import InfeasibleError, InputError
from siteplan.models._result import (
    LocationResult,
    as_cover,
    as_mask,
    as_vector,
    first_cover_assignment,
    rel_gap,
)
from siteplan.models._solver import round_binary, solve_milp


def _is_missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or (isinstance(v, str) and v == "") or (
        isinstance(v, (int, np.integer)) and v < 0
    )


def _levels(unit_of_demand: Any, groups: Any, min_share_units: Any, n: int):
    """Normalise the three arguments to {level: (unit labels (n,), group labels (n,) | None, share)}."""
    if isinstance(unit_of_demand, Mapping):
        names = list(unit_of_demand)
        units = {k: unit_of_demand[k] for k in names}
    else:
        names = ["units"]
        units = {"units": unit_of_demand}
    out = {}
    for k in names:
        u = np.asarray(units[k], dtype=object)
        if u.shape != (n,):
            raise InputError(f"unit_of_demand['{k}'] has length {len(u)}, expected {n} (one per demand point)")
        g = groups.get(k) if isinstance(groups, Mapping) else groups
        if g is not None:
            g = np.asarray(g, dtype=object)
            if g.shape != (n,):
                raise InputError(f"groups for '{k}' must have one label per demand point ({n})")
        s = min_share_units.get(k) if isinstance(min_share_units, Mapping) else min_share_units
        if s is None or not (0 <= float(s) <= 1):
            raise InputError(f"min_share_units for '{k}' must be in [0, 1], got {s}")
        out[k] = (u, g, float(s))
    return out


def solve_targets(
    cover: Any,
    unit_of_demand: Any,
    groups: Any = None,
    min_share_units: Any = 0.8,
    cost: Any = None,
    required: Any = None,
    *,
    time_limit_s: float = 120.0,
    mip_gap: float = 0.0,
    demand_ids: Any = None,
) -> LocationResult:
    r"""Least-cost sites meeting "share of admin units with a care site" targets.

    A unit (village, township, ...) *has a care site* when at least one of its demand points
    is covered. For every target level :math:`t` (e.g. townships 90 %, villages 80 %) and
    every group :math:`g` of that level (a county, or the whole city), with :math:`U_{tg}` the
    units of the group and :math:`N(u)` the candidates covering any demand point of unit
    :math:`u`:

    .. math::

        \min \sum_j c_j y_j \quad\text{s.t.}\quad
        a_u \le \sum_{j \in N(u)} y_j \;\forall u,\qquad
        \sum_{u \in U_{tg}} a_u \ge \lceil s_t\, |U_{tg}| \rceil \;\forall t, g,

    .. math::

        y_j = 1 \;(j \in R),\quad y \in \{0,1\},\quad 0 \le a_u \le 1.

    :math:`a_u` may be continuous: for binary :math:`y` a feasible :math:`a` exists exactly
    when enough units have an open covering site.

    Parameters
    ----------
    cover : bool matrix or sparse, shape (n_demand, n_candidates)
        ``cover[i, j]`` True when candidate ``j`` serves demand ``i`` within the standard.
    unit_of_demand : array_like (n_demand,) or dict name -> array_like (n_demand,)
        Admin unit label of every demand point (e.g. ``{"village": village_code,
        "township": town_code}``); ``None``/``""``/negative = not in any unit.
    groups : array_like (n_demand,) or dict name -> array_like or None, optional
        Scope of each target: the group label (e.g. county code) of every demand point; a
        unit's group is that of its demand points. None = one city-wide group.
    min_share_units : float or dict name -> float
        Target share of units with a care site in every group, in [0, 1].
    cost : array_like, shape (n_candidates,), optional
        Cost of opening each candidate (CNY); default 1 (= fewest sites).
    required : bool mask or positions, optional
        Existing sites (forced open; their cost is included in the objective).
    time_limit_s, mip_gap : float
    demand_ids : sequence, optional
        Unused in the model; kept for error messages by callers.

    Returns
    -------
    LocationResult
        ``model="targets"``; ``extra["targets"]`` is a DataFrame with one row per level and
        group: ``level``, ``group``, ``n_units``, ``needed``, ``with_site``, ``share``,
        ``target``, ``max_possible``.

    Raises
    ------
    InfeasibleError
        A group cannot reach its target even with every candidate open; the message names the
        level and group, ``uncoverable`` lists the units that no candidate reaches.
    InputError
        Inconsistent argument lengths or shares outside [0, 1].
    SolverError
        The solver fails or stops without a solution.

    References
    ----------
    Toregas, C., Swain, R., ReVelle, C. & Bergman, L. (1971). The location of emergency
    service facilities. *Operations Research* 19(6), 1363-1373 (covering constraints).
    Church, R. & ReVelle, C. (1974). The maximal covering location problem. *Papers of the
    Regional Science Association* 32, 101-118.
    """
    t0 = time.perf_counter()
    A = as_cover(cover)
    n, m = A.shape
    c = as_vector(cost, m, "cost")
    req = as_mask(required, m)
    levels = _levels(unit_of_demand, groups, min_share_units, n)
    unit_rows = []  # per unit: row of unit x candidate
    meta = []  # (level, group, unit label)
    rules = []  # (level, group, member unit indices, needed)
    for lev, (u, g, s) in levels.items():
        valid = np.array([not _is_missing(v) for v in u])
        idx = np.flatnonzero(valid)
        labels, inv = np.unique(u[idx].astype(str), return_inverse=True)
        U = sp.csr_matrix((np.ones(len(idx)), (inv, idx)), shape=(len(labels), n))
        NU = (U @ A.astype(np.float64)).tocsr()
        NU.data[:] = 1.0
        if g is not None:
            gl = np.empty(len(labels), dtype=object)
            gl[inv] = g[idx]
            if len(set(zip(inv.tolist(), g[idx].tolist(), strict=True))) != len(labels):
                raise InputError(f"level '{lev}': a unit's demand points are in different groups")
            gl = gl.astype(str)
        else:
            gl = np.full(len(labels), "all", dtype=object)
        base = len(meta)
        unit_rows.append(NU)
        for k, lab in enumerate(labels):
            meta.append((lev, gl[k], lab))
        for grp in sorted(set(gl.tolist())):
            members = base + np.flatnonzero(gl == grp)
            need = int(math.ceil(s * len(members) - 1e-9))
            rules.append((lev, grp, members, need))
    NU = sp.vstack(unit_rows, format="csr") if unit_rows else sp.csr_matrix((0, m))
    n_units = NU.shape[0]
    reach = np.diff(NU.indptr) > 0
    for lev, grp, members, need in rules:
        possible = int(reach[members].sum())
        if possible < need:
            unc = [meta[u][2] for u in members if not reach[u]]
            raise InfeasibleError(
                f"target '{lev}' in group '{grp}' needs {need} of {len(members)} units with a care site "
                f"but only {possible} can be reached by any candidate; unreachable units: "
                + ", ".join(unc[:20]) + (" ..." if len(unc) > 20 else ""),
                uncoverable=unc,
            )
    # variables: y (m) | a (n_units)
    link = sp.hstack([-NU, sp.identity(n_units, format="csr")], format="csr")
    R = sp.csr_matrix(
        (np.ones(sum(len(r[2]) for r in rules)),
         (np.concatenate([np.full(len(r[2]), k) for k, r in enumerate(rules)]) if rules else np.zeros(0, int),
          m + np.concatenate([r[2] for r in rules]) if rules else np.zeros(0, int))),
        shape=(len(rules), m + n_units),
    )
    M = sp.vstack([link, R], format="csr")
    lo = np.concatenate([np.full(n_units, -np.inf), [r[3] for r in rules]])
    hi = np.concatenate([np.zeros(n_units), np.full(len(rules), np.inf)])
    col_lo = np.zeros(m + n_units)
    col_lo[:m][req] = 1
    col_hi = np.ones(m + n_units)
    col_hi[m:][~reach] = 0
    integer = np.concatenate([np.ones(m, bool), np.zeros(n_units, bool)])
    build = time.perf_counter() - t0
    sol = solve_milp(np.concatenate([c, np.zeros(n_units)]), M, lo, hi, col_lo, col_hi, integer,
                     time_limit_s=time_limit_s, mip_gap=mip_gap,
                     infeasible_message="the coverage targets cannot be met")
    sel = round_binary(sol.x[:m])
    open_mask = np.zeros(m, bool)
    open_mask[sel] = True
    covered, assign = first_cover_assignment(A, open_mask)
    has_site = np.asarray(NU @ open_mask.astype(np.float64)).ravel() > 0
    rows = []
    for lev, grp, members, need in rules:
        k = int(has_site[members].sum())
        rows.append({"level": lev, "group": grp, "n_units": len(members), "needed": need, "with_site": k,
                     "share": k / len(members) if len(members) else 1.0, "target": levels[lev][2],
                     "max_possible": int(reach[members].sum())})
    obj = float(c[open_mask].sum())
    bound = obj if sol.status == "optimal" else sol.bound
    return LocationResult(
        model="targets", status=sol.status, objective=obj, bound=float(bound), gap=rel_gap(obj, bound),
        selected=sel.astype(np.int64), covered=covered, assignment=assign, solve_time_s=sol.solve_time_s,
        build_time_s=build, n_variables=sol.n_variables, n_constraints=sol.n_constraints,
        uncoverable=np.flatnonzero(np.diff(A.indptr) == 0), extra={"targets": pd.DataFrame(rows)},
    )


def cost_target_curve(
    cover: Any,
    unit_of_demand: Any,
    cost: Any = None,
    required: Any = None,
    *,
    shares: Any = None,
    groups: Any = None,
    fixed_targets: Mapping[str, tuple[Any, Any, float]] | None = None,
    time_limit_s: float = 60.0,
    mip_gap: float = 0.0,
) -> pd.DataFrame:
    r"""Least cost against the village-coverage target, for finance officers.

    Solves :func:`solve_targets` for each share (default 50 %, 55 %, ..., 100 %) of the units
    in ``unit_of_demand`` (optionally per group), with any ``fixed_targets`` held constant.

    Parameters
    ----------
    cover : bool matrix or sparse, shape (n_demand, n_candidates)
    unit_of_demand : array_like, shape (n_demand,)
        The unit whose share is varied (e.g. village codes).
    cost : array_like, shape (n_candidates,), optional
        Opening cost per candidate (CNY); default 1.
    required : bool mask or positions, optional
    shares : array_like of float, optional
        Target shares in [0, 1]; default ``0.50, 0.55, ..., 1.00``.
    groups : array_like (n_demand,), optional
        Group per demand point (per-county targets); None = city-wide.
    fixed_targets : dict name -> (unit_of_demand, groups, share), optional
        Other targets kept at their level along the curve (e.g. townships at 90 %).
    time_limit_s, mip_gap : float
        Per solve.

    Returns
    -------
    pandas.DataFrame
        One row per share: ``target_share``, ``cost`` (NaN when infeasible), ``n_sites``,
        ``achieved_share`` (of units city-wide), ``status`` ("optimal", "feasible",
        "infeasible"), ``gap``.

    Notes
    -----
    Each point is :math:`\min \sum_j c_j y_j` subject to the constraints of
    :func:`solve_targets` with :math:`s_{\text{main}}` set to the share; a share no set of
    candidates reaches is reported as ``"infeasible"`` instead of raising.

    Raises
    ------
    InputError
        Bad argument lengths or shares outside [0, 1].
    SolverError
        A solve fails.

    References
    ----------
    Church, R. & ReVelle, C. (1974). The maximal covering location problem. *Papers of the
    Regional Science Association* 32, 101-118 (the coverage-cost trade-off curve).
    """
    if shares is None:
        shares = np.round(np.arange(0.5, 1.0001, 0.05), 2)
    rows = []
    for s in shares:
        U: dict[str, Any] = {"main": unit_of_demand}
        G: dict[str, Any] = {"main": groups}
        S: dict[str, float] = {"main": float(s)}
        for k, (u, g, sh) in (fixed_targets or {}).items():
            U[k], G[k], S[k] = u, g, sh
        try:
            r = solve_targets(cover, U, G, S, cost, required, time_limit_s=time_limit_s, mip_gap=mip_gap)
        except InfeasibleError:
            rows.append({"target_share": float(s), "cost": np.nan, "n_sites": np.nan, "achieved_share": np.nan,
                         "status": "infeasible", "gap": np.nan})
            continue
        t = r.extra["targets"]
        t = t[t["level"] == "main"]
        rows.append({"target_share": float(s), "cost": r.objective, "n_sites": r.n_selected,
                     "achieved_share": float(t["with_site"].sum() / t["n_units"].sum()),
                     "status": r.status, "gap": r.gap})
    return pd.DataFrame(rows)
