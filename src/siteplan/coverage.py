"""Coverage of villages by care sites: service standards, plan targets, 2SFCA, catchments.

The core functions work on origin-destination (OD) triplets so that they can be tested
without a road network: an ``od`` argument is any object with the index-aligned arrays
``origin`` (village positions), ``dest`` (site positions), ``time_s`` (seconds) and
``dist_m`` (metres), plus ``n_origins`` and ``n_dest`` — the :class:`siteplan.network.ODCosts`
contract (``docs/architecture.md``). A mapping with those keys works too. A pair that is
absent means "no path" (or beyond the cutoff the OD was computed with); a zero time is a
real pair (the site is at the village).

Positions are row positions (0-based), not index labels: origin ``i`` is
``villages.iloc[i]`` and destination ``j`` is ``sites.iloc[j]``.

Only :func:`catchments` needs the road network (:class:`siteplan.network.TravelNetwork`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.sparse.csgraph import dijkstra

from siteplan.errors import CRSError, InputError
from siteplan.scenario import DEFAULT_CARE_SITE_TYPES, ModelConfig, ServiceStandard

__all__ = [
    "COVERAGE_TOLERANCE_S",
    "DEFAULT_RISK_WEIGHTS",
    "STATUSES",
    "OD",
    "as_od",
    "village_coverage",
    "under_served",
    "nearest_village",
    "plan_targets",
    "two_step_fca",
    "catchments",
]

#: A village is covered when its time is <= the standard + this tolerance (seconds). The
#: comparison is inclusive: a village exactly at the standard is covered; the tolerance only
#: absorbs floating-point rounding of summed edge times.
COVERAGE_TOLERANCE_S = 1e-6

#: Tolerance for distance standards (metres).
COVERAGE_TOLERANCE_M = 1e-6

#: Values of the ``status`` column of :func:`village_coverage`.
STATUSES = ("covered", "under_served", "unreachable", "off_network")

#: Extra weight per at-risk child in :func:`under_served` (a setting, see
#: ``ModelConfig.risk_weights``): weighted children = children + sum_k w_k * count_k, so a
#: child living alone counts 2 and a child whose guardian cannot care for them counts 1.5.
#: Ledger columns that are absent count as zero.
DEFAULT_RISK_WEIGHTS: dict[str, float] = dict(ModelConfig().risk_weights)

#: In :func:`under_served` the excess over the standard multiplies the score by at most
#: ``1 + UNDER_SERVED_MAX_EXCESS``; unreachable and off-network villages get that maximum.
UNDER_SERVED_MAX_EXCESS = 2.0


# --------------------------------------------------------------------------- OD triplets


@dataclass(frozen=True)
class OD:
    """OD triplets in a checked, normalised form (see :func:`as_od`).

    Attributes
    ----------
    origin, dest : ndarray of int64, shape (m,)
        Origin (village) and destination (site) positions.
    time_s : ndarray of float64, shape (m,)
        Travel time, seconds.
    dist_m : ndarray of float64, shape (m,)
        Travel distance, metres (NaN if the source gave none).
    n_origins, n_dest : int
        Number of origins and destinations.
    """

    origin: np.ndarray
    dest: np.ndarray
    time_s: np.ndarray
    dist_m: np.ndarray
    n_origins: int
    n_dest: int


def as_od(od: Any, n_origins: int | None = None, n_dest: int | None = None) -> OD:
    """Check and normalise OD triplets.

    Parameters
    ----------
    od : ODCosts-like or mapping
        Object with attributes (or mapping with keys) ``origin``, ``dest``, ``time_s``,
        optional ``dist_m``, ``n_origins``, ``n_dest`` — index-aligned arrays of shape (m,).
    n_origins, n_dest : int, optional
        Expected sizes (e.g. ``len(villages)``, ``len(sites)``); checked against ``od``.

    Returns
    -------
    OD

    Raises
    ------
    InputError
        Arrays of different lengths, positions out of range, NaN or negative times, or sizes
        that do not match the tables.
    """

    def get(name: str, default: Any = None) -> Any:
        if isinstance(od, Mapping):
            return od.get(name, default)
        return getattr(od, name, default)

    if get("origin") is None or get("dest") is None or get("time_s") is None:
        raise InputError("OD costs need 'origin', 'dest' and 'time_s' arrays")
    origin = np.asarray(get("origin"), dtype=np.int64).ravel()
    dest = np.asarray(get("dest"), dtype=np.int64).ravel()
    time_s = np.asarray(get("time_s"), dtype=np.float64).ravel()
    dist = get("dist_m")
    dist_m = (
        np.full(time_s.shape, np.nan)
        if dist is None
        else np.asarray(dist, dtype=np.float64).ravel()
    )
    if not (len(origin) == len(dest) == len(time_s) == len(dist_m)):
        raise InputError(
            f"OD arrays differ in length: origin {len(origin)}, dest {len(dest)}, "
            f"time_s {len(time_s)}, dist_m {len(dist_m)}"
        )
    no = get("n_origins")
    nd = get("n_dest")
    no = (
        int(no)
        if no is not None
        else (n_origins if n_origins is not None else int(origin.max(initial=-1)) + 1)
    )
    nd = (
        int(nd)
        if nd is not None
        else (n_dest if n_dest is not None else int(dest.max(initial=-1)) + 1)
    )
    if n_origins is not None and no != n_origins:
        raise InputError(f"OD costs have {no} origins but there are {n_origins} villages")
    if n_dest is not None and nd != n_dest:
        raise InputError(f"OD costs have {nd} destinations but there are {n_dest} sites")
    if len(origin) and (origin.min() < 0 or origin.max() >= no):
        raise InputError(f"OD origin position out of range 0..{no - 1}")
    if len(dest) and (dest.min() < 0 or dest.max() >= nd):
        raise InputError(f"OD destination position out of range 0..{nd - 1}")
    if np.isnan(time_s).any() or (time_s < 0).any():
        raise InputError("OD travel times must be >= 0 seconds and not NaN")
    return OD(origin, dest, time_s, dist_m, no, nd)


def _best_per_origin(od: OD, mask: np.ndarray, key: np.ndarray, tie: np.ndarray) -> np.ndarray:
    """Index into od arrays of the best pair per origin among ``mask`` (-1 if none).

    Best = smallest ``key``, then smallest ``tie``, then smallest destination position.
    """
    best = np.full(od.n_origins, -1, dtype=np.int64)
    idx = np.flatnonzero(mask)
    if len(idx) == 0:
        return best
    tie = np.nan_to_num(tie, nan=np.inf)
    order = np.lexsort((od.dest[idx], tie[idx], key[idx], od.origin[idx]))
    idx = idx[order]
    first = np.ones(len(idx), dtype=bool)
    first[1:] = od.origin[idx][1:] != od.origin[idx][:-1]
    best[od.origin[idx[first]]] = idx[first]
    return best


def _require(df: pd.DataFrame, cols: Sequence[str], what: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise InputError(f"{what} lacks column(s) {missing}", column=missing[0])


def _site_ids(sites: pd.DataFrame) -> np.ndarray:
    if "facility_id" in sites.columns:
        return sites["facility_id"].astype(str).to_numpy(dtype=object)
    if "site_id" in sites.columns:
        return sites["site_id"].astype(str).to_numpy(dtype=object)
    if "candidate_id" in sites.columns:
        return sites["candidate_id"].astype(str).to_numpy(dtype=object)
    raise InputError(
        "sites need a 'facility_id' (or 'site_id' / 'candidate_id') column", column="facility_id"
    )


def _site_types(sites: pd.DataFrame) -> np.ndarray:
    for col in ("facility_type", "site_type"):
        if col in sites.columns:
            return sites[col].astype(str).to_numpy(dtype=object)
    raise InputError("sites need a 'facility_type' (or 'site_type') column", column="facility_type")


def _limits(std: ServiceStandard) -> tuple[float, float]:
    t = std.max_time_min * 60.0 if std.max_time_min is not None else math.inf
    d = std.max_distance_m if std.max_distance_m is not None else math.inf
    return t, d


def _standard_types(std: ServiceStandard, care_types: Sequence[str]) -> list[str]:
    return list(std.facility_types) if std.facility_types else list(care_types)


def _od_for_mode(od: Any, mode: str) -> Any:
    if isinstance(od, Mapping) and not {"origin", "dest", "time_s"} <= set(od):
        if mode not in od:
            raise InputError(
                f"no OD costs for travel mode '{mode}' (have: {', '.join(map(str, od))})"
            )
        return od[mode]
    return od


# --------------------------------------------------------------------------- coverage


def village_coverage(
    villages: pd.DataFrame,
    sites: pd.DataFrame,
    od: Any,
    standards: ServiceStandard | Sequence[ServiceStandard],
    care_types: Sequence[str] | None = None,
    *,
    primary: str | None = None,
    off_network: Sequence[bool] | np.ndarray | pd.Series | None = None,
    groups: Mapping[str, Sequence[str]] | None = None,
) -> pd.DataFrame:
    """Nearest care sites and coverage of every village under one or more service standards.

    Parameters
    ----------
    villages : DataFrame, n_v rows
        The villages table (``village_code``, ``children``); row ``i`` is OD origin ``i``.
    sites : DataFrame, n_s rows
        Candidate or existing sites with ``facility_id`` (or ``site_id`` / ``candidate_id``)
        and ``facility_type`` (or ``site_type``); row ``j`` is OD destination ``j``. Rows whose
        type is not a care type (of the standard, or ``care_types``) are ignored, so the whole
        facilities table may be passed.
    od : ODCosts-like, or dict mode -> ODCosts-like
        Village-to-site travel costs (seconds, metres), see :func:`as_od`. With several
        standards of different modes pass a dict ``{"walk": od_walk, "drive": od_drive}``; a
        single object is used for every standard's mode.
    standards : ServiceStandard or sequence of ServiceStandard
        Each standard S gives columns ``{S}_site_id``, ``{S}_time_s``, ``{S}_dist_m``,
        ``{S}_covered``, ``{S}_children_covered`` and ``{S}_children_not_covered``.
        A standard with ``max_time_min`` covers a village iff the best site's time is
        <= ``60 * max_time_min`` seconds (inclusive, plus :data:`COVERAGE_TOLERANCE_S`); a
        standard with ``max_distance_m`` iff its network distance is <= the limit (metres);
        with both, a site must meet both. The best site is the quickest one meeting the
        standard, else the quickest (nearest for distance-only standards).
    care_types : sequence of str, optional
        The scenario's care-site types (``CareSitesConfig.types``); used by standards with
        empty ``facility_types`` and for the ``nearest_*`` columns. Default: the default
        care-site types.
    primary : str, optional
        Name of the standard that decides ``status`` and the ``nearest_*`` mode. Default: the
        first standard.
    off_network : bool array, shape (n_v,), optional
        True for villages farther than the maximum snap distance from any road (the
        ``off_network`` column of ``siteplan.network.snap``). Such a village has status
        ``"off_network"`` and is not covered by any standard, whatever ``od`` says.
    groups : mapping str -> sequence of str, optional
        Care-type groups for the ``nearest_{group}_*`` columns; default one group per care
        type.

    Returns
    -------
    DataFrame, n_v rows, index of ``villages``
        ``village_code``, ``children``; ``nearest_site_id`` (``""`` if none),
        ``nearest_site_type``, ``nearest_time_s`` (s, ``inf`` if none), ``nearest_dist_m``
        (m) — the quickest care site of any care type by the primary standard's mode;
        ``nearest_{group}_site_id`` / ``_time_s`` / ``_dist_m`` per group; the per-standard
        columns above; ``off_network``; and ``status``: ``"covered"``, ``"under_served"``
        (a care site is reachable but beyond the primary standard), ``"unreachable"`` (no
        path to any care site of the standard; if ``od`` was computed with a cutoff, none
        within the cutoff) or ``"off_network"``. ``attrs`` holds ``primary_standard`` and
        ``nearest_mode``.

    Raises
    ------
    InputError
        Missing columns, OD sizes that do not match the tables, or no OD for a mode.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> v = pd.DataFrame({"village_code": ["a", "b"], "children": [5, 7]})
    >>> s = pd.DataFrame({"facility_id": ["F1"], "facility_type": ["childrens_home"]})
    >>> od = SimpleNamespace(origin=[0], dest=[0], time_s=[1800.0], dist_m=[2500.0],
    ...                      n_origins=2, n_dest=1)
    >>> std = ServiceStandard(name="walk_30min", max_time_min=30)
    >>> village_coverage(v, s, od, std)["status"].tolist()
    ['covered', 'unreachable']
    """
    stds = [standards] if isinstance(standards, ServiceStandard) else list(standards)
    if not stds:
        raise InputError("village_coverage needs at least one service standard")
    care_types = list(care_types) if care_types is not None else list(DEFAULT_CARE_SITE_TYPES)
    _require(villages, ["village_code", "children"], "villages")
    n_v, n_s = len(villages), len(sites)
    site_id = _site_ids(sites) if n_s else np.array([], dtype=object)
    site_type = _site_types(sites) if n_s else np.array([], dtype=object)
    names = [s.name for s in stds]
    prim = stds[0] if primary is None else next((s for s in stds if s.name == primary), None)
    if prim is None:
        raise InputError(f"primary standard '{primary}' is not among {names}")

    if off_network is None:
        off = np.zeros(n_v, dtype=bool)
    else:
        off = np.asarray(off_network, dtype=bool).ravel()
        if off.shape != (n_v,):
            raise InputError(f"off_network has {off.size} values for {n_v} villages")

    children = pd.to_numeric(villages["children"], errors="coerce").fillna(0).to_numpy()
    out = pd.DataFrame(
        {"village_code": villages["village_code"].astype(str).to_numpy(), "children": children},
        index=villages.index,
    )
    ods: dict[str, OD] = {}

    def od_of(mode: str) -> OD:
        if mode not in ods:
            ods[mode] = as_od(_od_for_mode(od, mode), n_v, n_s)
        return ods[mode]

    def pick(
        o: OD,
        types: Sequence[str],
        key: np.ndarray,
        tie: np.ndarray,
        extra: np.ndarray | None = None,
    ) -> np.ndarray:
        ok = np.isin(site_type[o.dest], list(types)) if n_s else np.zeros(len(o.dest), bool)
        if extra is not None:
            ok &= extra
        return _best_per_origin(o, ok, key, tie)

    def fill(prefix: str, o: OD, best: np.ndarray, with_type: bool) -> None:
        has = best >= 0
        b = best[has]
        ids = np.full(n_v, "", dtype=object)
        ids[has] = site_id[o.dest[b]]
        t = np.full(n_v, np.inf)
        t[has] = o.time_s[b]
        d = np.full(n_v, np.inf)
        d[has] = o.dist_m[b]
        out[f"{prefix}site_id"] = ids
        if with_type:
            typ = np.full(n_v, "", dtype=object)
            typ[has] = site_type[o.dest[b]]
            out[f"{prefix}site_type"] = typ
        out[f"{prefix}time_s"] = t
        out[f"{prefix}dist_m"] = d

    # nearest care sites (primary mode)
    o = od_of(prim.mode)
    fill("nearest_", o, pick(o, care_types, o.time_s, o.dist_m), True)
    groups = groups if groups is not None else {t: [t] for t in care_types}
    for g, types in groups.items():
        fill(f"nearest_{g}_", o, pick(o, types, o.time_s, o.dist_m), False)

    # per standard
    for std in stds:
        o = od_of(std.mode)
        tmax, dmax = _limits(std)
        types = _standard_types(std, care_types)
        meets = (o.time_s <= tmax + COVERAGE_TOLERANCE_S) & (
            np.nan_to_num(o.dist_m, nan=np.inf) <= dmax + COVERAGE_TOLERANCE_M
            if math.isfinite(dmax)
            else True
        )
        if std.max_time_min is None:  # distance-only standard: nearest by distance
            key, tie = np.nan_to_num(o.dist_m, nan=np.inf), o.time_s
        else:
            key, tie = o.time_s, o.dist_m
        best_ok = pick(o, types, key, tie, extra=meets)
        best_any = pick(o, types, key, tie)
        best = np.where(best_ok >= 0, best_ok, best_any)
        fill(f"{std.name}_", o, best, False)
        covered = (best_ok >= 0) & ~off
        out[f"{std.name}_covered"] = covered
        out[f"{std.name}_children_covered"] = np.where(covered, children, 0)
        out[f"{std.name}_children_not_covered"] = np.where(covered, 0, children)

    out["off_network"] = off
    p = prim.name
    status = np.where(
        off,
        "off_network",
        np.where(
            out[f"{p}_covered"].to_numpy(),
            "covered",
            np.where(out[f"{p}_site_id"].to_numpy() == "", "unreachable", "under_served"),
        ),
    )
    out["status"] = pd.Series(status, index=out.index, dtype="str")
    out.attrs["primary_standard"] = p
    out.attrs["nearest_mode"] = prim.mode
    return out


def _standard_of(standard: ServiceStandard | str, coverage: pd.DataFrame) -> tuple[str, float, str]:
    """(name, limit, unit column suffix) of a standard for reading coverage columns."""
    if isinstance(standard, ServiceStandard):
        name = standard.name
        if standard.max_time_min is not None:
            limit, col = standard.max_time_min * 60.0, "time_s"
        else:
            limit, col = float(standard.max_distance_m), "dist_m"  # type: ignore[arg-type]
    else:
        raise InputError("pass the ServiceStandard object, not only its name")
    if f"{name}_covered" not in coverage.columns:
        raise InputError(f"coverage has no columns for standard '{name}'", column=f"{name}_covered")
    return name, limit, col


def under_served(
    villages: pd.DataFrame,
    coverage: pd.DataFrame,
    standard: ServiceStandard,
    risk_weights: Mapping[str, float] | None = None,
    *,
    min_children: int = 1,
) -> pd.DataFrame:
    """Rank the villages not covered by a standard, neediest first.

    Parameters
    ----------
    villages : DataFrame, n_v rows
        Villages table (``village_code``, ``village_name``, ``town_code``, ``county_code``,
        ``children``, optional ledger counts ``alone``, ``guardian_unable``).
    coverage : DataFrame, n_v rows, same index
        Output of :func:`village_coverage` that includes ``standard``.
    standard : ServiceStandard
        The standard to rank against.
    risk_weights : mapping column -> float, optional
        Extra weight per at-risk child (a setting: ``ModelConfig.risk_weights``; default
        :data:`DEFAULT_RISK_WEIGHTS`). Columns absent from ``villages`` count zero.
    min_children : int, default 1
        Villages with fewer left-behind children are left out.

    Returns
    -------
    DataFrame
        One row per uncovered village with >= ``min_children`` children, sorted by ``rank``
        (1 = neediest): ``village_code``, ``village_name``, ``town_code``, ``county_code``,
        ``status``, ``children_not_covered``, ``weighted_children`` (children + sum of
        weight x ledger count), ``time_s`` (s) / ``dist_m`` (m) to the best site,
        ``excess`` (seconds, or metres for a distance-only standard, beyond the standard;
        ``inf`` if unreachable or off network), ``score`` and ``rank``.

        ``score = weighted_children * (1 + min(excess / limit, 2))``; unreachable and
        off-network villages get the factor 3. Ties rank by children, then village code.

    Raises
    ------
    InputError
        The coverage lacks the standard's columns, or the tables do not align.
    """
    name, limit, col = _standard_of(standard, coverage)
    if len(coverage) != len(villages) or not coverage.index.equals(villages.index):
        raise InputError("coverage and villages must have the same rows (same index)")
    weights = dict(DEFAULT_RISK_WEIGHTS if risk_weights is None else risk_weights)
    children = pd.to_numeric(villages["children"], errors="coerce").fillna(0).to_numpy(float)
    weighted = children.copy()
    for c, w in weights.items():
        if w < 0:
            raise InputError(f"risk weight for '{c}' must be >= 0, got {w}")
        if c in villages.columns:
            weighted += w * pd.to_numeric(villages[c], errors="coerce").fillna(0).to_numpy(float)
    covered = coverage[f"{name}_covered"].to_numpy(bool)
    value = coverage[f"{name}_{col}"].to_numpy(float)
    off = (
        coverage["off_network"].to_numpy(bool)
        if "off_network" in coverage
        else np.zeros(len(covered), bool)
    )
    excess = np.where(off, np.inf, np.maximum(value - limit, 0.0))
    factor = 1.0 + np.minimum(excess / limit, UNDER_SERVED_MAX_EXCESS)
    if "status" in coverage.columns and coverage.attrs.get("primary_standard", name) == name:
        status = coverage["status"].astype(str).to_numpy(dtype=object)
    else:
        status = np.where(
            off,
            "off_network",
            np.where(np.isinf(value), "unreachable", np.where(covered, "covered", "under_served")),
        )
    df = pd.DataFrame(index=villages.index)
    for c in ("village_code", "village_name", "town_code", "county_code"):
        df[c] = villages[c].astype(str) if c in villages.columns else ""
    df["status"] = pd.Series(status, index=df.index, dtype="str")
    nc = np.where(covered, 0.0, children)
    df["children_not_covered"] = nc.astype(np.int64) if np.all(nc == np.rint(nc)) else nc
    df["weighted_children"] = weighted
    df["time_s"] = coverage[f"{name}_time_s"].to_numpy(float)
    df["dist_m"] = coverage[f"{name}_dist_m"].to_numpy(float)
    df["excess"] = excess
    df["score"] = weighted * factor
    df = df[(~covered) & (children >= min_children)]
    df = df.sort_values(
        ["score", "children_not_covered", "village_code"],
        ascending=[False, False, True],
        kind="mergesort",
    )
    df["rank"] = np.arange(1, len(df) + 1)
    df.attrs["standard"] = name
    df.attrs["risk_weights"] = weights
    return df


# --------------------------------------------------------------------------- targets


def _work_crs(gdf: gpd.GeoDataFrame, work_crs: Any) -> Any:
    if gdf.crs is None:
        raise CRSError("a GeoDataFrame has no CRS", hint="set it with .set_crs('EPSG:4326')")
    if work_crs in (None, "auto"):
        return gdf.estimate_utm_crs()
    return work_crs


def nearest_village(
    points: gpd.GeoDataFrame,
    villages: gpd.GeoDataFrame,
    work_crs: Any = "EPSG:32648",
    max_distance_m: float = 500.0,
) -> pd.Series:
    """Village code of the nearest village point within a straight-line distance.

    Parameters
    ----------
    points : GeoDataFrame, n rows (any CRS)
        Points to place (e.g. care sites).
    villages : GeoDataFrame, n_v rows (any CRS)
        Villages with ``village_code`` and point geometry.
    work_crs : CRS-like, default "EPSG:32648"
        Projected CRS (metres) to measure in; ``"auto"`` / None = UTM zone of the points.
    max_distance_m : float, default 500
        Farther points get ``""`` (metres, straight line).

    Returns
    -------
    Series of str aligned to ``points``: the village code or ``""``.

    Raises
    ------
    CRSError
        A layer has no CRS or ``work_crs`` is not projected.
    """
    out = pd.Series([""] * len(points), index=points.index, dtype="str")
    if len(points) == 0 or len(villages) == 0:
        return out
    crs = _work_crs(points, work_crs)
    p = points.to_crs(crs)
    v = villages.to_crs(crs)
    if not p.crs.is_projected:
        raise CRSError(f"work CRS {crs} is not projected (metres needed)")
    from scipy.spatial import cKDTree

    tree = cKDTree(np.column_stack([v.geometry.x, v.geometry.y]))
    ok = ~(p.geometry.is_empty | p.geometry.isna()).to_numpy()
    xy = np.column_stack([p.geometry.x.to_numpy()[ok], p.geometry.y.to_numpy()[ok]])
    dist, idx = tree.query(xy, distance_upper_bound=max_distance_m)
    codes = np.full(len(points), "", dtype=object)
    hit = np.isfinite(dist)
    sub = np.full(ok.sum(), "", dtype=object)
    sub[hit] = v["village_code"].astype(str).to_numpy(dtype=object)[idx[hit]]
    codes[ok] = sub
    out[:] = codes
    return out


def _facility_village_codes(
    sites: gpd.GeoDataFrame, villages: gpd.GeoDataFrame, work_crs: Any, max_m: float
) -> np.ndarray:
    codes = np.full(len(sites), "", dtype=object)
    if "village_code" in sites.columns:
        given = sites["village_code"].fillna("").astype(str).to_numpy(dtype=object)
        codes[:] = given
    need = codes == ""
    if (
        need.any()
        and isinstance(sites, gpd.GeoDataFrame)
        and isinstance(villages, gpd.GeoDataFrame)
    ):
        codes[need] = nearest_village(sites[need], villages, work_crs, max_m).to_numpy(dtype=object)
    return codes


def _gap(count: int, n: int, target: float) -> int:
    need = math.ceil(target * n - 1e-9)
    return max(0, need - count)


def plan_targets(
    villages: pd.DataFrame,
    coverage: pd.DataFrame,
    facilities: pd.DataFrame,
    standard: ServiceStandard,
    care_types: Sequence[str] | None = None,
    scope: Literal["county", "city"] = "county",
    *,
    config: ModelConfig | None = None,
    work_crs: Any = "EPSG:32648",
    township_share: float = 0.5,
    village_match_m: float = 500.0,
    school_adjacent_m: float = 200.0,
) -> pd.DataFrame:
    """Progress towards the city plan targets, per county and city-wide.

    The plan asks that ``township_target`` (90%) of townships (乡镇/街道) and
    ``village_target`` (80%) of village committees have a care site. Two readings are
    reported side by side:

    (a) *within the standard* — a village is counted when ``{standard}_covered`` is True in
        ``coverage``; a township when the villages covered by the standard hold at least
        ``township_share`` (half) of its left-behind children (a township without children
        counts when any of its villages is covered);
    (b) *in the unit itself* — a township when a care site has its ``town_code``; a village
        when a care site has its ``village_code``: the facility's ``village_code`` column
        where present and non-empty, else the nearest village point within
        ``village_match_m`` (500 m straight line in ``work_crs``).

    Every row of ``villages`` is a village committee (村委会 and 居委会 alike); pass
    ``villages[villages.kind == "village"]`` (and the matching coverage rows) to count
    only 村委会. A township with no village rows is not counted.

    Rural boarding schools (facility type ``boarding_school``) are counted as served when a
    care site lies within ``school_adjacent_m`` (200 m straight line) of the school, or a
    ``school_care_home`` shares its ``town_code``. No target applies to them (shares only).

    Parameters
    ----------
    villages : GeoDataFrame, n_v rows
        Villages (``village_code``, ``town_code``, ``county_code``, optional
        ``county_name``, ``children``, point geometry).
    coverage : DataFrame, n_v rows, same index
        Output of :func:`village_coverage` including ``standard``.
    facilities : GeoDataFrame
        Facilities (``facility_id``, ``facility_type``, ``town_code``, optional
        ``village_code``, point geometry). Care sites are the rows whose type is in the
        standard's ``facility_types`` (or ``care_types``); ``boarding_school`` rows are the
        schools.
    standard : ServiceStandard
        The standard of reading (a).
    care_types : sequence of str, optional
        The scenario's care-site types; default the default care-site types.
    scope : {"county", "city"}, default "county"
        "county": one row per county plus a city-wide row (``county_code`` "all");
        "city": the city-wide row only.
    config : ModelConfig, optional
        Gives ``township_target`` and ``village_target`` (default 0.9 and 0.8).
    work_crs : CRS-like, default "EPSG:32648"
        Projected CRS (metres) for the 500 m / 200 m matches; "auto" = UTM zone.
    township_share, village_match_m, school_adjacent_m : float
        Rules (a), (b) and the school rule above (share 0..1, metres, metres).

    Returns
    -------
    DataFrame
        Columns ``county_code``, ``county_name``, ``n_townships``, ``n_villages``,
        ``n_boarding_schools``; for each measure M in ``townships_within``,
        ``townships_with_site``, ``villages_within``, ``villages_with_site``: ``M`` (count),
        ``M_share`` (0..1), ``M_target``, ``M_met`` (bool, share >= target) and ``M_gap``
        (units still needed to meet the target, >= 0); ``boarding_with_site`` and
        ``boarding_with_site_share`` (NaN when there is no school). ``attrs["all_met"]`` is
        True when every measure in every row is met.

    Raises
    ------
    InputError
        Missing columns, or coverage not aligned to villages.
    CRSError
        A layer lacks a CRS (needed for the distance rules).
    """
    cfg = config or ModelConfig()
    care_types = list(care_types) if care_types is not None else list(DEFAULT_CARE_SITE_TYPES)
    _require(villages, ["village_code", "town_code", "county_code", "children"], "villages")
    _require(facilities, ["facility_type", "town_code"], "facilities")
    name = standard.name
    if f"{name}_covered" not in coverage.columns:
        raise InputError(f"coverage has no columns for standard '{name}'", column=f"{name}_covered")
    if len(coverage) != len(villages) or not coverage.index.equals(villages.index):
        raise InputError("coverage and villages must have the same rows (same index)")

    types = _standard_types(standard, care_types)
    ftype = facilities["facility_type"].astype(str)
    care = facilities[ftype.isin(types).to_numpy()]
    v = pd.DataFrame(
        {
            "village_code": villages["village_code"].astype(str).to_numpy(),
            "town_code": villages["town_code"].astype(str).to_numpy(),
            "county_code": villages["county_code"].astype(str).to_numpy(),
            "county_name": (
                villages["county_name"].astype(str).to_numpy()
                if "county_name" in villages.columns
                else villages["county_code"].astype(str).to_numpy()
            ),
            "children": pd.to_numeric(villages["children"], errors="coerce")
            .fillna(0)
            .to_numpy(float),
            "covered": coverage[f"{name}_covered"].to_numpy(bool),
        }
    )
    # (b) presence
    care_towns = set(care["town_code"].fillna("").astype(str)) - {""}
    care_villages = (
        set(_facility_village_codes(care, villages, work_crs, village_match_m)) - {""}
        if len(care)
        else set()
    )
    v["has_site"] = v["village_code"].isin(care_villages)

    # townships
    v["cov_children"] = np.where(v["covered"], v["children"], 0.0)
    t = v.groupby("town_code", sort=True).agg(
        county_code=("county_code", "first"),
        children=("children", "sum"),
        cov_children=("cov_children", "sum"),
        any_cov=("covered", "any"),
    )
    t["within"] = np.where(
        t["children"] > 0, t["cov_children"] >= township_share * t["children"] - 1e-9, t["any_cov"]
    )
    t["with_site"] = t.index.isin(list(care_towns))

    # boarding schools
    schools = facilities[(ftype == "boarding_school").to_numpy()]
    school_ok = np.zeros(len(schools), dtype=bool)
    if len(schools):
        sch_town = schools["town_code"].fillna("").astype(str).to_numpy()
        sch_towns_with_sch_care = set(
            care.loc[
                care["facility_type"].astype(str).to_numpy() == "school_care_home", "town_code"
            ]
            .fillna("")
            .astype(str)
        ) - {""}
        school_ok |= np.isin(sch_town, list(sch_towns_with_sch_care)) & (sch_town != "")
        if (
            len(care)
            and isinstance(schools, gpd.GeoDataFrame)
            and isinstance(care, gpd.GeoDataFrame)
        ):
            crs = _work_crs(schools, work_crs)
            s_xy = schools.to_crs(crs).geometry
            c_xy = care.to_crs(crs).geometry
            from scipy.spatial import cKDTree

            tree = cKDTree(np.column_stack([c_xy.x, c_xy.y]))
            d, _ = tree.query(
                np.column_stack([s_xy.x, s_xy.y]), distance_upper_bound=school_adjacent_m + 1e-9
            )
            school_ok |= np.isfinite(d)
        sch_county = (
            schools["county_code"].fillna("").astype(str).to_numpy()
            if "county_code" in schools.columns
            else np.full(len(schools), "")
        )
        # schools without county_code take the county of their township
        town_county = t["county_code"].to_dict()
        sch_county = np.array(
            [c or town_county.get(tc, "") for c, tc in zip(sch_county, sch_town, strict=True)],
            dtype=object,
        )
    else:
        sch_county = np.array([], dtype=object)

    targets = {"townships": cfg.township_target, "villages": cfg.village_target}
    names = v.groupby("county_code")["county_name"].first().to_dict()

    def row(code: str, vmask: np.ndarray, tmask: np.ndarray, smask: np.ndarray) -> dict[str, Any]:
        r: dict[str, Any] = {
            "county_code": code,
            "county_name": names.get(code, "全市" if code == "all" else ""),
            "n_townships": int(tmask.sum()),
            "n_villages": int(vmask.sum()),
            "n_boarding_schools": int(smask.sum()),
        }
        counts = {
            "townships_within": (
                int(t["within"].to_numpy()[tmask].sum()),
                int(tmask.sum()),
                "townships",
            ),
            "townships_with_site": (
                int(t["with_site"].to_numpy()[tmask].sum()),
                int(tmask.sum()),
                "townships",
            ),
            "villages_within": (
                int(v["covered"].to_numpy()[vmask].sum()),
                int(vmask.sum()),
                "villages",
            ),
            "villages_with_site": (
                int(v["has_site"].to_numpy()[vmask].sum()),
                int(vmask.sum()),
                "villages",
            ),
        }
        for m, (c, n, kind) in counts.items():
            tg = targets[kind]
            share = c / n if n else np.nan
            r[m] = c
            r[f"{m}_share"] = share
            r[f"{m}_target"] = tg
            r[f"{m}_met"] = bool(n == 0 or share >= tg - 1e-12)
            r[f"{m}_gap"] = _gap(c, n, tg)
        ns = int(smask.sum())
        r["boarding_with_site"] = int(school_ok[smask].sum())
        r["boarding_with_site_share"] = r["boarding_with_site"] / ns if ns else np.nan
        return r

    rows = []
    if scope == "county":
        for code in sorted(v["county_code"].unique()):
            rows.append(
                row(
                    code,
                    (v["county_code"] == code).to_numpy(),
                    (t["county_code"] == code).to_numpy(),
                    sch_county == code,
                )
            )
    elif scope != "city":
        raise InputError(f"scope must be 'county' or 'city', got '{scope}'")
    rows.append(
        row("all", np.ones(len(v), bool), np.ones(len(t), bool), np.ones(len(schools), bool))
    )
    out = pd.DataFrame(rows)
    met_cols = [c for c in out.columns if c.endswith("_met")]
    out.attrs["all_met"] = bool(out[met_cols].to_numpy().all())
    out.attrs["standard"] = name
    return out


# --------------------------------------------------------------------------- 2SFCA


def _decay_weights(
    t: np.ndarray, d0: float, decay: str | Callable[[np.ndarray], np.ndarray] | None
) -> np.ndarray:
    if decay is None or decay == "binary":
        return np.ones_like(t)
    if callable(decay):
        w = np.asarray(decay(t), dtype=float)
    elif decay == "linear":
        w = 1.0 - t / d0
    elif decay == "gaussian":
        e = math.exp(-0.5)
        w = (np.exp(-0.5 * (t / d0) ** 2) - e) / (1.0 - e)
    else:
        raise InputError(f"unknown decay '{decay}' (use None, 'gaussian', 'linear' or a function)")
    return np.clip(w, 0.0, 1.0)


def two_step_fca(
    od: Any,
    demand_weights: Sequence[float] | np.ndarray,
    capacities: Sequence[float] | np.ndarray,
    max_time_s: float,
    decay: Literal["gaussian", "linear"] | Callable[[np.ndarray], np.ndarray] | None = None,
    *,
    return_ratios: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Two-step floating catchment area (2SFCA) accessibility of every village.

    Step 1: for every site j, the supply-to-demand ratio
    ``R_j = S_j / sum_{i: t_ij <= d0} P_i W(t_ij)``; step 2: for every village i,
    ``A_i = sum_{j: t_ij <= d0} R_j W(t_ij)``. A site reached by many children thus counts for
    less. ``A_i`` is in capacity units (places) per child.

    Parameters
    ----------
    od : ODCosts-like
        Village-to-site travel times (seconds), see :func:`as_od`.
    demand_weights : array, shape (n_origins,)
        ``P_i``: demand per village (left-behind children), >= 0.
    capacities : array, shape (n_dest,)
        ``S_j``: capacity per site (places), >= 0. Replace unknown capacities (0 in the
        facilities table) before calling.
    max_time_s : float
        Catchment size ``d0``, seconds; a pair with ``t_ij <= d0`` (inclusive) is inside.
    decay : {None, "gaussian", "linear"} or callable, optional
        Distance decay ``W(t)`` inside the catchment: None = binary (W = 1, Luo & Wang 2003);
        "linear": ``W = 1 - t/d0``; "gaussian": ``W = (exp(-(t/d0)^2/2) - exp(-1/2)) /
        (1 - exp(-1/2))`` (1 at the site, 0 at d0) — continuous forms of the enhanced 2SFCA
        (Luo & Qi 2009); a callable maps times (s) to weights in [0, 1].
    return_ratios : bool, default False
        Also return ``R_j``.

    Returns
    -------
    A : ndarray of float64, shape (n_origins,)
        Accessibility per village; 0 where no site is within reach.
    R : ndarray of float64, shape (n_dest,)
        Only with ``return_ratios``: supply ratio per site; 0 for a site with no weighted
        demand in its catchment (the ratio is undefined there).

    Raises
    ------
    InputError
        Array sizes that do not match the OD, negative or NaN weights or capacities,
        ``max_time_s <= 0``, or an unknown decay.

    References
    ----------
    Luo, W., & Wang, F. (2003). Measures of spatial accessibility to health care in a GIS
    environment: synthesis and a case study in the Chicago region. *Environment and Planning
    B*, 30(6), 865-884.
    Luo, W., & Qi, Y. (2009). An enhanced two-step floating catchment area (E2SFCA) method
    for measuring spatial accessibility to primary care physicians. *Health & Place*, 15(4),
    1100-1107.
    """
    o = as_od(od)
    P = np.asarray(demand_weights, dtype=float).ravel()
    S = np.asarray(capacities, dtype=float).ravel()
    if P.shape != (o.n_origins,):
        raise InputError(f"demand_weights has {P.size} values for {o.n_origins} origins")
    if S.shape != (o.n_dest,):
        raise InputError(f"capacities has {S.size} values for {o.n_dest} sites")
    if np.isnan(P).any() or (P < 0).any() or np.isnan(S).any() or (S < 0).any():
        raise InputError("demand weights and capacities must be >= 0 and not NaN")
    if not (max_time_s > 0):
        raise InputError(f"max_time_s must be > 0, got {max_time_s}")
    inside = o.time_s <= max_time_s + COVERAGE_TOLERANCE_S
    oi, dj, t = o.origin[inside], o.dest[inside], o.time_s[inside]
    w = _decay_weights(t, max_time_s, decay)
    denom = np.bincount(dj, weights=P[oi] * w, minlength=o.n_dest)
    with np.errstate(divide="ignore", invalid="ignore"):
        R = np.where(denom > 0, S / denom, 0.0)
    A = np.bincount(oi, weights=R[dj] * w, minlength=o.n_origins)
    return (A, R) if return_ratios else A


# --------------------------------------------------------------------------- catchments


def _graph(
    net: Any, mode: str
) -> tuple[sparse.csr_matrix, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """CSR of the network for a mode (parallel edges keep the quickest; zero times -> 1e-9)
    and the usable edges: (graph, edge position, u, v, time_s)."""
    try:
        times = np.asarray(net.time_s[mode], dtype=float)
    except KeyError:
        raise InputError(f"network has no travel times for mode '{mode}'") from None
    u = np.asarray(net.edge_u, dtype=np.int64)
    v = np.asarray(net.edge_v, dtype=np.int64)
    n = len(net.node_x)
    eid = np.flatnonzero(np.isfinite(times))
    u, v, t = u[eid], v[eid], times[eid]
    t = np.where(t <= 0, 1e-9, t)  # csgraph keeps explicit zeros as edges, but be safe
    order = np.lexsort((t, v, u))
    us, vs, ts = u[order], v[order], t[order]
    keep = np.ones(len(us), bool)
    keep[1:] = (us[1:] != us[:-1]) | (vs[1:] != vs[:-1])
    g = sparse.csr_matrix((ts[keep], (us[keep], vs[keep])), shape=(n, n))
    return g, eid, u, v, t


def _reached_lines(
    net: Any,
    eid: np.ndarray,
    anchor: np.ndarray,
    far: np.ndarray,
    frac: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
) -> np.ndarray:
    """Reached parts of edges (LineStrings in net.crs): road geometry when the network has
    it (``seg_geom``, ``edge_seg``, ``seg_u``), else straight node-to-node lines."""
    from shapely.ops import substring

    keep = frac > 0
    eid, anchor, far, frac = eid[keep], anchor[keep], far[keep], frac[keep]
    if len(eid) == 0:
        return np.array([], dtype=object)
    seg_geom = getattr(net, "seg_geom", None)
    edge_seg = getattr(net, "edge_seg", None)
    if seg_geom is None or edge_seg is None or getattr(net, "seg_u", None) is None:
        ax, ay = x[anchor], y[anchor]
        bx, by = ax + frac * (x[far] - ax), ay + frac * (y[far] - ay)
        return np.asarray(
            shapely.linestrings(
                np.stack([np.column_stack([ax, ay]), np.column_stack([bx, by])], axis=1)
            ),
            dtype=object,
        )
    seg = np.asarray(edge_seg, dtype=np.int64)[eid]
    full = frac >= 1.0 - 1e-12
    parts = [np.asarray(seg_geom, dtype=object)[np.unique(seg[full])]]
    seg_u = np.asarray(net.seg_u, dtype=np.int64)
    partial = []
    for s_, a_, f_ in zip(seg[~full], anchor[~full], frac[~full], strict=True):
        g = seg_geom[s_]
        if a_ == seg_u[s_]:
            partial.append(substring(g, 0.0, float(f_), normalized=True))
        else:
            partial.append(substring(g, 1.0 - float(f_), 1.0, normalized=True))
    parts.append(np.asarray(partial, dtype=object))
    return np.concatenate(parts)


def catchments(
    net: Any,
    sites_snap: pd.DataFrame,
    mode: str,
    max_time_s: float,
    crs: Any = "EPSG:4326",
    *,
    direction: Literal["to_site", "from_site"] = "to_site",
    method: Literal["buffer", "concave"] = "buffer",
    buffer_m: float = 300.0,
    concave_ratio: float = 0.3,
    simplify_m: float = 50.0,
    chunk: int = 64,
) -> gpd.GeoDataFrame:
    """Catchment (isochrone) polygon of every site on the road network.

    For each site, the network nodes whose travel time to the site (``direction="to_site"``,
    the child travels; or from it, ``"from_site"``) is <= ``max_time_s`` are found with
    :func:`scipy.sparse.csgraph.dijkstra` (``limit=max_time_s``). Every edge with a
    reachable end contributes its reachable part (a whole edge, or the fraction of the edge
    that the remaining time allows, at the edge's uniform speed), drawn with the road
    geometry when the network carries it (``seg_geom``/``edge_seg``, as
    :class:`siteplan.network.TravelNetwork` does), else as a straight node-to-node line.
    Times start at the site's snapped node: the off-road access legs that
    ``siteplan.network.od_costs`` adds are not included (the buffer stands for them), so a
    village inside the polygon may still be just beyond the standard in the OD costs, and
    the site itself is only inside when its snap distance is below ``buffer_m``.
    The polygon is the union of these
    segments buffered by ``buffer_m`` (``method="buffer"``, default 300 m: a band of
    off-road access along the roads), or the concave hull of their vertices
    (``shapely.concave_hull``, ``concave_ratio``) buffered by ``buffer_m / 3``; then
    simplified with tolerance ``simplify_m`` (topology preserving) and transformed to ``crs``.
    The site's own node is always included.

    Parameters
    ----------
    net : TravelNetwork
        Road network (:mod:`siteplan.network`): ``crs`` (projected, metres), ``node_x``,
        ``node_y`` (metres), ``edge_u``, ``edge_v`` (directed), ``time_s[mode]`` (seconds;
        ``inf`` = not allowed).
    sites_snap : DataFrame, n_s rows
        ``node`` (network node, -1 = off network) per site, as returned by
        ``siteplan.network.snap``; optional ``facility_id`` / ``site_id`` / ``candidate_id``
        to name the sites (default: the index as text).
    mode : str
        Travel mode ("walk" / "drive").
    max_time_s : float
        Time limit, seconds (inclusive).
    crs : CRS-like, default "EPSG:4326"
        CRS of the returned polygons.
    direction, method, buffer_m, concave_ratio, simplify_m
        See above (metres where a length).
    chunk : int, default 64
        Sites per Dijkstra call (bounds memory: chunk x n_nodes floats).

    Returns
    -------
    GeoDataFrame, n_s rows, index of ``sites_snap``, CRS ``crs``
        ``site_id``, ``node``, ``mode``, ``max_time_s``, ``n_nodes`` (reachable nodes),
        geometry (Polygon/MultiPolygon; empty for an off-network site).

    Raises
    ------
    InputError
        No ``node`` column, a node out of range, unknown mode, ``max_time_s <= 0``.
    CRSError
        The network has no projected CRS.

    References
    ----------
    Luo, W., & Wang, F. (2003). Measures of spatial accessibility to health care in a GIS
    environment. *Environment and Planning B*, 30(6), 865-884 (catchments of 2SFCA).
    """
    _require(sites_snap, ["node"], "sites_snap")
    if not (max_time_s > 0):
        raise InputError(f"max_time_s must be > 0, got {max_time_s}")
    net_crs = getattr(net, "crs", None)
    if net_crs is None:
        raise CRSError("the travel network has no CRS")
    from pyproj import CRS

    if not CRS.from_user_input(net_crs).is_projected:
        raise CRSError(f"the travel network CRS {net_crs} is not projected (metres needed)")
    g, eid, eu, ev, et = _graph(net, mode)
    x = np.asarray(net.node_x, float)
    y = np.asarray(net.node_y, float)
    n = len(x)
    nodes = np.asarray(sites_snap["node"], dtype=np.int64)
    if ((nodes < -1) | (nodes >= n)).any():
        raise InputError(f"site node out of range -1..{n - 1}", column="node")
    graph = g.T.tocsr() if direction == "to_site" else g
    if direction == "to_site":
        anchor, far = ev, eu  # time from a point on u->v to the site: via v
    elif direction == "from_site":
        anchor, far = eu, ev
    else:
        raise InputError(f"direction must be 'to_site' or 'from_site', got '{direction}'")
    if method not in ("buffer", "concave"):
        raise InputError(f"method must be 'buffer' or 'concave', got '{method}'")

    ids = None
    for col in ("facility_id", "site_id", "candidate_id"):
        if col in sites_snap.columns:
            ids = sites_snap[col].astype(str).to_numpy(dtype=object)
            break
    if ids is None:
        ids = np.array([str(i) for i in sites_snap.index], dtype=object)

    geoms = [shapely.Polygon() for _ in range(len(nodes))]
    n_nodes = np.zeros(len(nodes), dtype=np.int64)
    on = np.flatnonzero(nodes >= 0)
    for start in range(0, len(on), max(1, chunk)):
        pos = on[start : start + chunk]
        src = nodes[pos]
        uniq, inv = np.unique(src, return_inverse=True)
        dist = dijkstra(graph, directed=True, indices=uniq, limit=max_time_s)
        dist = np.atleast_2d(dist)
        for k, p in enumerate(pos):
            d = dist[inv[k]]
            reach = np.isfinite(d)
            n_nodes[p] = int(reach.sum())
            da = d[anchor]
            ok = np.isfinite(da)
            frac = np.clip((max_time_s - da[ok]) / et[ok], 0.0, 1.0)
            lines = _reached_lines(net, eid[ok], anchor[ok], far[ok], frac, x, y)
            site_pt = shapely.points(x[nodes[p]], y[nodes[p]])
            if method == "buffer":
                # buffering each part then one union is ~2x faster than buffering a collection
                if simplify_m > 0 and len(lines):
                    lines = shapely.simplify(lines, simplify_m / 2.0)
                parts = np.concatenate([lines, [site_pt]])
                poly = shapely.union_all(shapely.buffer(parts, buffer_m, quad_segs=4))
            else:
                pts = shapely.multipoints(
                    np.concatenate(
                        [
                            shapely.get_coordinates(lines).reshape(-1, 2),
                            [[x[nodes[p]], y[nodes[p]]]],
                        ]
                    )
                )
                poly = shapely.buffer(
                    shapely.concave_hull(pts, ratio=concave_ratio), buffer_m / 3.0
                )
            if simplify_m > 0:
                poly = shapely.simplify(poly, simplify_m, preserve_topology=True)
            geoms[p] = poly
    out = gpd.GeoDataFrame(
        {
            "site_id": pd.Series(ids, index=sites_snap.index, dtype="str"),
            "node": nodes,
            "mode": mode,
            "max_time_s": float(max_time_s),
            "n_nodes": n_nodes,
        },
        geometry=gpd.GeoSeries(geoms, index=sites_snap.index, crs=net_crs),
        crs=net_crs,
    )
    return out.to_crs(crs)
