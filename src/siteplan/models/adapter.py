"""GeoDataFrame adapter: run a location model on demand/candidate tables, return ids."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from siteplan.errors import InputError
from siteplan.models._result import LocationResult


@dataclass(frozen=True)
class PlacedResult:
    """A :class:`LocationResult` with the ids of the tables it was solved on.

    Attributes
    ----------
    result : LocationResult
    selected_ids : list of str
        ``candidate_id`` of the open sites (sorted by candidate position).
    demand : pandas.DataFrame
        One row per demand point: the demand id column, ``covered``, ``site_id`` ("" if none),
        ``travel`` (cost to the assigned site; NaN if none).
    """

    result: LocationResult
    selected_ids: list[str]
    demand: pd.DataFrame



def _od_matrices(od: Any, n: int, m: int, value: str, max_value: float) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """(cost, coverage) CSR matrices, shape (n, m), from ``od``: a ``(C, A)`` tuple as is, or an
    OD table / ODCosts (``origin``, ``dest``, ``value``) through :func:`od_to_matrices`."""
    if isinstance(od, tuple):
        return sp.csr_matrix(od[0]), sp.csr_matrix(od[1])
    get = (lambda k: od[k]) if isinstance(od, (pd.DataFrame, dict)) else (lambda k: getattr(od, k))
    return od_to_matrices(get("origin"), get("dest"), get(value), n, m, max_value)

def od_to_matrices(origin: Any, dest: Any, value: Any, n_demand: int, n_candidates: int,
                   max_value: float | None = None) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Sparse cost and coverage matrices from index-aligned OD arrays.

    Parameters
    ----------
    origin, dest : array_like of int, shape (n_pairs,)
        Demand and candidate positions (``ODCosts.origin`` / ``ODCosts.dest``).
    value : array_like of float, shape (n_pairs,)
        Travel time (s) or distance (m). Zero values are kept as explicit entries.
    n_demand, n_candidates : int
    max_value : float, optional
        Service standard in the unit of ``value``; coverage = ``value <= max_value``
        (default: every listed pair covers).

    Returns
    -------
    cost : scipy.sparse.csr_matrix, shape (n_demand, n_candidates)
    cover : scipy.sparse.csr_matrix of bool, shape (n_demand, n_candidates)
    """
    o = np.asarray(origin, dtype=np.int64)
    d = np.asarray(dest, dtype=np.int64)
    v = np.asarray(value, dtype=np.float64)
    cost = sp.csr_matrix((v, (o, d)), shape=(n_demand, n_candidates))  # duplicates would sum: reject
    if cost.nnz != len(v) and len(np.unique(o * n_candidates + d)) != len(v):
        raise InputError("OD pairs must be unique (origin, dest)")
    # keep explicit zeros: build with the structure directly
    order = np.lexsort((d, o))
    indptr = np.concatenate([[0], np.cumsum(np.bincount(o, minlength=n_demand))])
    cost = sp.csr_matrix((v[order], d[order], indptr), shape=(n_demand, n_candidates))
    k = v[order] <= (np.inf if max_value is None else max_value)
    cov = sp.csr_matrix((np.ones(int(k.sum()), bool), (o[order][k], d[order][k])), shape=(n_demand, n_candidates))
    return cost, cov


def from_geodataframe(
    demand: pd.DataFrame,
    candidates: pd.DataFrame,
    od: Any,
    model: str = "mclp",
    *,
    demand_id: str = "village_code",
    candidate_id: str = "facility_id",
    weight: str | None = "children",
    max_value: float | None = None,
    value: str = "time_s",
    cost: str | None = None,
    required: str | None = None,
    **kwargs: Any,
) -> PlacedResult:
    """Run a model on demand and candidate (Geo)DataFrames and an OD table.

    Parameters
    ----------
    demand : (Geo)DataFrame, n_demand rows
        Demand points in the row order the OD positions refer to.
    candidates : (Geo)DataFrame, n_candidates rows
    od : ODCosts-like (``origin``, ``dest`` and ``value`` attributes/columns) or a
        ``(cost, cover)`` pair of sparse matrices shaped (n_demand, n_candidates)
    model : {"lscp", "mclp", "pmedian", "pcenter", "targets"}
    demand_id, candidate_id : str
        Id columns (str codes).
    weight : str or None
        Demand weight column (children); None = 1 each.
    max_value : float, optional
        Service standard in the unit of ``value`` (seconds for ``time_s``).
    value : str
        OD attribute used as cost (``"time_s"`` or ``"dist_m"``).
    cost : str, optional
        Candidate column with the opening cost (CNY).
    required : str, optional
        Boolean candidate column: existing sites kept open.
    **kwargs
        Passed to the model function (``p``, ``budget``, ``unit_of_demand``, ...).

    Returns
    -------
    PlacedResult

    Raises
    ------
    InputError
        Unknown model or missing column; plus whatever the model raises.
    """
    from siteplan.models import solve_lscp, solve_mclp, solve_pcenter, solve_pmedian, solve_targets

    n, m = len(demand), len(candidates)
    C, A = _od_matrices(od, n, m, value, max_value)
    for col, df in ((demand_id, demand), (candidate_id, candidates)):
        if col not in df.columns:
            raise InputError(f"column '{col}' not found", column=col)
    w = demand[weight].to_numpy(dtype=float) if weight else np.ones(n)
    c = candidates[cost].to_numpy(dtype=float) if cost else None
    req = candidates[required].to_numpy(dtype=bool) if required else None
    ids = demand[demand_id].astype(str).tolist()
    if model == "lscp":
        r = solve_lscp(A, c, req, demand_ids=ids, travel_cost=C, **kwargs)
    elif model == "mclp":
        r = solve_mclp(A, w, cost=c, required=req, **kwargs)
    elif model == "pmedian":
        r = solve_pmedian(C, w, required=req, demand_ids=ids, **kwargs)
    elif model == "pcenter":
        r = solve_pcenter(C, required=req, weights=w, demand_ids=ids, **kwargs)
    elif model == "targets":
        r = solve_targets(A, cost=c, required=req, **kwargs)
    else:
        raise InputError(f"unknown model '{model}' (lscp, mclp, pmedian, pcenter, targets)")
    cid = candidates[candidate_id].astype(str).to_numpy()
    a = r.assignment
    travel = np.full(n, np.nan)
    has = a >= 0
    if has.any():
        travel[has] = np.asarray(C[np.flatnonzero(has), a[has]]).ravel()
    table = pd.DataFrame({demand_id: ids, "covered": r.covered,
                          "site_id": np.where(has, cid[np.maximum(a, 0)], ""), "travel": travel})
    return PlacedResult(r, [str(cid[j]) for j in r.selected], table)


def solve_with_config(
    config: Any,
    demand: pd.DataFrame,
    candidates: pd.DataFrame,
    od: Any,
    *,
    max_value: float,
    value: str = "time_s",
    cost: str | None = None,
    required: str | None = None,
    demand_id: str = "village_code",
    candidate_id: str = "facility_id",
    weight: str | None = "children",
    capacity: str | None = None,
) -> PlacedResult:
    """Run the model a scenario's ``[model]`` section asks for (:class:`siteplan.scenario.ModelConfig`).

    ``kind`` maps to: ``"targets"`` -> :func:`solve_targets` with village (``village_code``) and
    township (``town_code``) units, per county (``county_code``) when ``target_scope="county"``;
    ``"lscp"``; ``"mclp"`` (``p``); ``"budget_mclp"`` (``budget_cny`` and the ``cost`` column);
    ``"pmedian"`` / ``"pcenter"`` (``p``). ``heuristic=True`` uses the greedy/interchange
    heuristics for MCLP and p-median. As in the main job, ``p`` counts the ``required``
    (existing) sites only when ``config.required_in_p`` is true; otherwise ``p`` new sites
    are opened besides them.

    Parameters
    ----------
    config : ModelConfig
    demand, candidates, od, value, cost, required, demand_id, candidate_id, weight
        As in :func:`from_geodataframe`.
    max_value : float
        The service standard in the unit of ``value`` (seconds for ``time_s``).
    capacity : str, optional
        Candidate column of capacities (children) for ``capacitated=True``: ``kind="lscp"`` ->
        :func:`solve_capacitated_lscp`; ``"pmedian"`` -> :func:`solve_capacitated_pmedian`
        (pairs within ``max_value`` only; demand no candidate reaches is left out and listed in
        ``uncoverable``); ``"mclp"`` / ``"budget_mclp"`` -> :func:`solve_capacitated_mclp`.
        ``p`` follows ``config.required_in_p``. 0 = unknown, replaced by
        ``config.default_capacity`` when the config has that field.

    Returns
    -------
    PlacedResult

    Raises
    ------
    InputError
        ``kind="none"``, a missing ``p``/``budget_cny``, or ``capacitated=True`` with a kind
        other than ``"lscp"``, ``"pmedian"``, ``"mclp"``, ``"budget_mclp"`` or without a
        capacity column.
    InfeasibleError
        Raised by the model (e.g. a capacitated p-median whose ``p`` sites cannot hold every
        child within the standard).
    """
    kind = config.kind
    common = dict(demand_id=demand_id, candidate_id=candidate_id, weight=weight, max_value=max_value,
                  value=value, cost=cost, required=required)
    lim = dict(time_limit_s=config.time_limit_s, mip_gap=config.mip_gap)
    if config.capacitated:
        return _capacitated(config, demand, candidates, od, capacity=capacity, **common, **lim)
    if kind == "none":
        raise InputError("model.kind = 'none': no location model to run")
    if kind in ("mclp", "pmedian", "pcenter") and config.p is None:
        raise InputError(f"model.kind = '{kind}' needs model.p")
    if kind == "targets":
        groups = demand["county_code"].astype(str).to_numpy() if config.target_scope == "county" else None
        return from_geodataframe(
            demand, candidates, od, "targets",
            unit_of_demand={"village": demand[demand_id].astype(str).to_numpy(),
                            "township": demand["town_code"].astype(str).to_numpy()},
            groups={"village": groups, "township": groups},
            min_share_units={"village": config.village_target, "township": config.township_target},
            **common, **lim,
        )
    if kind == "lscp":
        return from_geodataframe(demand, candidates, od, "lscp", **common, **lim)
    # p counts the required (existing) sites only with required_in_p, as in the main job
    n_req = int(candidates[required].to_numpy(dtype=bool).sum()) if required else 0
    p_all = None if config.p is None else (config.p if config.required_in_p else config.p + n_req)
    if kind in ("mclp", "budget_mclp"):
        if kind == "budget_mclp" and (config.budget_cny is None or cost is None):
            raise InputError("model.kind = 'budget_mclp' needs model.budget_cny and a candidate cost column")
        if config.heuristic and kind == "mclp":
            return _heuristic(demand, candidates, od, "mclp", p_all, **common)
        extra = {"p": config.p, "required_in_p": config.required_in_p}
        if kind == "budget_mclp":
            extra["budget"] = config.budget_cny
        return from_geodataframe(demand, candidates, od, "mclp", **common, **lim, **extra)
    if kind == "pmedian":
        if config.heuristic:
            return _heuristic(demand, candidates, od, "pmedian", p_all, **common)
        return from_geodataframe(demand, candidates, od, "pmedian", p=p_all, **common, **lim)
    if kind == "pcenter":
        return from_geodataframe(demand, candidates, od, "pcenter", p=p_all, **common,
                                 time_limit_s=config.time_limit_s)
    raise InputError(f"unknown model kind '{kind}'")


def _capacitated(config, demand, candidates, od, *, capacity, demand_id, candidate_id, weight, max_value,
                 value, cost, required, time_limit_s, mip_gap):
    """Capacitated path of :func:`solve_with_config` (same output shape)."""
    from siteplan.models.capacitated import solve_capacitated_mclp, solve_capacitated_pmedian
    from siteplan.models.ufl import solve_capacitated_lscp

    kind = config.kind
    if kind not in ("lscp", "pmedian", "mclp", "budget_mclp") or capacity is None:
        raise InputError("model.capacitated needs kind = 'lscp', 'pmedian', 'mclp' or 'budget_mclp' and a "
                         "candidate capacity column")
    n, m = len(demand), len(candidates)
    C, A = _od_matrices(od, n, m, value, max_value)
    cap = candidates[capacity].to_numpy(dtype=float)
    default = getattr(config, "default_capacity", None)
    if default is not None:
        cap = np.where(cap > 0, cap, float(default))
    w = demand[weight].to_numpy(dtype=float) if weight else np.ones(n)
    c = candidates[cost].to_numpy(dtype=float) if cost else None
    req = candidates[required].to_numpy(dtype=bool) if required else None
    n_req = 0 if req is None else int(req.sum())
    lim = dict(time_limit_s=time_limit_s, mip_gap=mip_gap)
    ids = demand[demand_id].astype(str).tolist()
    if kind == "lscp":
        r = solve_capacitated_lscp(A, w, cap, c, req, **lim)
    elif kind == "pmedian":
        if config.p is None:
            raise InputError("model.kind = 'pmedian' needs model.p")
        p = config.p if config.required_in_p else config.p + n_req
        r = solve_capacitated_pmedian(C, w, p, cap, req, cover=A, drop_uncoverable=True, demand_ids=ids, **lim)
    else:
        if kind == "budget_mclp" and (config.budget_cny is None or cost is None):
            raise InputError("model.kind = 'budget_mclp' needs model.budget_cny and a candidate cost column")
        if config.p is None and config.budget_cny is None:
            raise InputError("model.kind = 'mclp' needs model.p or model.budget_cny")
        r = solve_capacitated_mclp(A, w, cap, p=config.p, budget=config.budget_cny, cost=c, required=req,
                                   required_in_p=config.required_in_p, **lim)
    cid = candidates[candidate_id].astype(str).to_numpy()
    a = r.assignment
    has = a >= 0
    travel = np.full(n, np.nan)
    if has.any():
        travel[has] = np.asarray(C[np.flatnonzero(has), a[has]]).ravel()
    table = pd.DataFrame({demand_id: ids, "covered": r.covered,
                          "site_id": np.where(has, cid[np.maximum(a, 0)], ""), "travel": travel})
    return PlacedResult(r, [str(cid[j]) for j in r.selected], table)


def _heuristic(demand, candidates, od, kind, p, **common):
    """Heuristic path of :func:`solve_with_config` (same output shape)."""
    from siteplan.models import heuristic_mclp, heuristic_pmedian

    n, m = len(demand), len(candidates)
    C, A = _od_matrices(od, n, m, common["value"], common["max_value"])
    w = demand[common["weight"]].to_numpy(dtype=float) if common["weight"] else np.ones(n)
    req = candidates[common["required"]].to_numpy(dtype=bool) if common["required"] else None
    if kind == "mclp":
        r = heuristic_mclp(A, w, p, req)
    else:
        r = heuristic_pmedian(C, w, p, req)
    cid = candidates[common["candidate_id"]].astype(str).to_numpy()
    a = r.assignment
    has = a >= 0
    travel = np.full(n, np.nan)
    if has.any():
        travel[has] = np.asarray(C[np.flatnonzero(has), a[has]]).ravel()
    table = pd.DataFrame({common["demand_id"]: demand[common["demand_id"]].astype(str).tolist(),
                          "covered": r.covered, "site_id": np.where(has, cid[np.maximum(a, 0)], ""),
                          "travel": travel})
    return PlacedResult(r, [str(cid[j]) for j in r.selected], table)
