"""Write every output of a run into its (staged) output folder.

Handed-out tables, maps and GIS files carry child counts only per village or above, with
small cells suppressed (:func:`siteplan.outputs.privacy.suppress_counts`); a final scan
(:func:`siteplan.outputs.privacy.assert_no_child_records`) fails the run, leaving the
previous outputs in place, if anything that looks like a PRC ID number reached a file.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from siteplan.errors import PrivacyError
from siteplan.report import ATTRIBUTION, write_manifest, write_summary_md

if TYPE_CHECKING:  # pragma: no cover
    from siteplan.pipeline import RunResult

#: Child-count columns that are suppressed in handed-out outputs.
COUNT_COLUMNS = ("children", "children_0_5", "children_6_13", "children_14_16", "alone",
                 "guardian_unable")

#: Village columns handed out (besides the per-standard and response columns).
_VILLAGE_BASE = ["village_code", "village_name", "kind", "town_code", "town_name", "county_code",
                 "county_name", "location_source", "children_source", "status", "status_before",
                 "nearest_care_site_id", "nearest_site_type", "nearest_care_time_s",
                 "nearest_care_dist_m", "access_2sfca", "off_network"]


def labels_for(result: RunResult) -> dict[str, Any]:
    """Labels every map and sheet carries: attribution, modelled layers, scenario, date."""
    from datetime import date

    out = {
        "attribution": result.figures.get("attribution", ATTRIBUTION),
        "modelled": list(result.inputs.modelled_layers),
        "modelled_layers": ", ".join(result.inputs.modelled_layers),
        "scenario": result.scenario.name,
        "region": result.scenario.data.region_name,
        "date": date.today().isoformat(),
        "standard": result.scenario.standard().name,
    }
    if "Tianditu" not in out["attribution"]:  # not a Chinese region: no map-review (审图号) note
        out["release_note"] = "Working map, not for publication."
        out["release_note_web"] = "illustrative, not for publication"
    return out


def village_export(villages: gpd.GeoDataFrame, scenario: Any) -> gpd.GeoDataFrame:
    """The villages layer as handed out: chosen fields, counts suppressed, EPSG:4326.

    Parameters
    ----------
    villages : GeoDataFrame
        ``RunResult.villages``.
    scenario : Scenario
        Gives the small-cell threshold and the standards.

    Returns
    -------
    GeoDataFrame
        Count columns as text (``"<10"`` / ``"x"`` where suppressed); times in seconds,
        distances in metres.
    """
    from siteplan.outputs.privacy import suppress_village_counts

    std_cols = [c for c in villages.columns if any(c.startswith(f"{s.name}_") for s in scenario.standards)
                and not c.endswith(("children_covered", "children_not_covered"))]
    resp = [c for c in villages.columns if c.startswith(("police_", "escort_"))]
    cols = [c for c in _VILLAGE_BASE if c in villages.columns] + std_cols + resp
    counts = [c for c in COUNT_COLUMNS if c in villages.columns]
    v = villages[cols + counts + ["geometry"]].copy()
    # the one village pattern shared with the maps and atlas (bands protected jointly; a
    # column that cannot be protected against published totals is withheld, with a warning)
    v = suppress_village_counts(v, scenario.outputs.small_cell, count_cols=counts)
    for c in v.columns:
        if c == "geometry":
            continue
        if v[c].dtype == object:
            v[c] = v[c].astype(str)
        elif pd.api.types.is_float_dtype(v[c]):
            # seconds to 0.1 s, metres to 1 m, indices to 4 decimals: no false precision
            digits = 1 if c.endswith("_time_s") else 0 if c.endswith("_dist_m") else 4
            v[c] = v[c].round(digits)
    return gpd.GeoDataFrame(v, geometry="geometry", crs=villages.crs).to_crs("EPSG:4326")


def _md_table(df: pd.DataFrame, cols: list[str]) -> str:
    cols = [c for c in cols if c in df.columns]
    if not cols or df.empty:
        return "(none)"

    def fmt(x: Any) -> str:
        if isinstance(x, (float, np.floating)):
            return f"{x:.1%}" if 0 <= x <= 1 else f"{x:,.0f}"
        return str(x)

    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, r in df[cols].iterrows():
        lines.append("| " + " | ".join(fmt(r[c]) for c in cols) + " |")
    return "\n".join(lines)


def proposed_export(proposed: gpd.GeoDataFrame, threshold: int) -> gpd.GeoDataFrame:
    """Proposed sites as handed out: ``children_newly_covered`` suppressed like village counts.

    Counts 1 .. threshold-1 become ``"<10"``, with secondary suppression against the county
    totals (:func:`siteplan.outputs.privacy.suppress_counts`); if that cannot protect them,
    the column is withheld (``"x"``) with a warning.
    """
    from siteplan.outputs.privacy import SECONDARY_MARK, suppress_counts

    if len(proposed) == 0 or "children_newly_covered" not in proposed:
        return proposed
    try:
        out = suppress_counts(proposed, ["children_newly_covered"], group_cols=("county_code",),
                              threshold=threshold)
    except PrivacyError:
        warnings.warn("children newly covered per proposed site cannot be protected against the "
                      "county totals and are withheld ('x')", stacklevel=2)
        out = proposed.copy()
        out["children_newly_covered"] = pd.array([SECONDARY_MARK] * len(out), dtype="string")
    return gpd.GeoDataFrame(out, geometry="geometry", crs=proposed.crs)


def _site_layers(result: RunResult) -> dict[str, gpd.GeoDataFrame]:
    inp = result.inputs
    care_types = result.scenario.care_sites.types
    fac = inp.facilities.copy()
    fac["is_care_site"] = fac["facility_type"].isin(care_types)
    layers = {
        "counties": inp.counties,
        "townships": inp.townships,
        "facilities": fac,
        "sites_existing": fac[fac["is_care_site"]].reset_index(drop=True),
        "sites_proposed": proposed_export(result.plan.proposed, result.scenario.outputs.small_cell),
    }
    if result.catchments is not None and len(result.catchments):
        layers["catchments"] = result.catchments
    return layers


def write_all(folder: Path, result: RunResult, under_served: pd.DataFrame,
              stage_seconds: Callable[[], dict[str, float]] | None = None) -> list[str]:
    """Write the run's outputs into ``folder`` (the staged run folder).

    Parameters
    ----------
    folder : Path
        An empty folder (see :func:`siteplan.staging.staged_output_dir`).
    result : RunResult
        The run (``out_dir`` is where the folder will end up).
    under_served : DataFrame
        Ranked under-served villages (:func:`siteplan.coverage.under_served`).
    stage_seconds : callable, optional
        Returns seconds per stage so far (the running ``outputs`` stage included) for the
        manifest; default ``result.stage_seconds``.

    Returns
    -------
    list of str
        Written files relative to ``folder``.

    Raises
    ------
    PrivacyError
        An ID-number-like value reached an output file.
    """
    from siteplan.outputs import gis
    from siteplan.outputs.privacy import assert_no_child_records

    sc = result.scenario
    folder = Path(folder)
    labels = labels_for(result)
    v_out = village_export(result.villages, sc)
    layers = {"villages": v_out, **_site_layers(result)}
    gis.write_geopackage(folder / "siteplan.gpkg", layers)
    if sc.outputs.shapefile:
        gis.write_shapefiles(folder / "shapefile", layers)

    pd.DataFrame(v_out.drop(columns="geometry")).assign(
        lon=v_out.geometry.x.round(5), lat=v_out.geometry.y.round(5)
    ).to_csv(folder / "villages.csv", index=False, encoding="utf-8-sig")
    result.targets_before.to_csv(folder / "targets_before.csv", index=False, encoding="utf-8-sig")
    result.targets_after.to_csv(folder / "targets.csv", index=False, encoding="utf-8-sig")
    prop = result.plan.proposed  # numeric counts: the maps and atlas suppress them themselves
    prop_out = layers["sites_proposed"]
    pd.DataFrame(prop_out.drop(columns="geometry")).assign(
        lon=prop.geometry.x.round(5) if len(prop) else [], lat=prop.geometry.y.round(5) if len(prop) else []
    ).to_csv(folder / "sites_proposed.csv", index=False, encoding="utf-8-sig")
    resp_cols = ["village_code", "village_name", "town_code", "county_code"] + [
        c for c in result.villages.columns if c.startswith(("police_", "escort_"))]
    pd.DataFrame(result.villages[resp_cols]).to_csv(folder / "response.csv", index=False, encoding="utf-8-sig")
    # Under-served villages, ranked. Counts show the same suppressed display values as
    # villages.csv; the score and weighted count are derived from exact counts, so they stay
    # in memory (RunResult) and are not handed out.
    us = pd.DataFrame(under_served.drop(columns="geometry", errors="ignore")).copy()
    shown = v_out.set_index("village_code")["children"]
    us = us.drop(columns=[c for c in us.columns if c in ("score", "weighted_children")
                          or (c in COUNT_COLUMNS and c != "children")])
    for c in ("children", "children_not_covered"):
        if c in us.columns:  # an uncovered village's children are all not covered
            us[c] = us["village_code"].map(shown)
    us.to_csv(folder / "under_served.csv", index=False, encoding="utf-8-sig")
    if result.plan.cost_curve is not None:
        result.plan.cost_curve.to_csv(folder / "cost_curve.csv", index=False, encoding="utf-8-sig")

    if sc.outputs.workbook and result.costs is not None:
        from siteplan.costing import write_workbook

        write_workbook(result.costs, folder / "costs.xlsx", labels=labels, small_cell=sc.outputs.small_cell)

    # maps and atlas get the numeric counts and suppress them themselves (privacy.suppress_counts)
    maps_layers = dict(
        counties=result.inputs.counties, townships=result.inputs.townships, villages=result.villages,
        facilities=layers["facilities"], sites_proposed=prop, catchments=result.catchments,
        labels=labels,
    )
    if sc.outputs.maps:
        from siteplan.outputs.maps import write_maps

        write_maps(folder, tiles=None if sc.outputs.tiles == "none" else sc.outputs.tiles,
                   threshold=sc.outputs.small_cell, care_types=tuple(sc.care_sites.types),
                   police_minutes=tuple(sc.response.police_standards_min), **maps_layers)
    if sc.outputs.atlas:
        from siteplan.outputs.atlas import write_atlas

        write_atlas(folder, roads=result.inputs.roads, threshold=sc.outputs.small_cell, **maps_layers)

    f = result.figures
    tables = {
        "Targets with the plan (per county)": _md_table(result.targets_after, [
            "county_code", "county_name", "townships_with_site_share", "villages_within_share",
            "villages_with_site_share", "boarding_with_site_share"]),
        "Targets now (per county)": _md_table(result.targets_before, [
            "county_code", "county_name", "townships_with_site_share", "villages_within_share",
            "villages_with_site_share"]),
        "Proposed sites (top 20)": _md_table(prop.head(20), [
            "rank", "site_id", "name", "site_type", "action", "county_code", "capex_cny"]),
    }
    write_summary_md(folder / "summary.md", {**f, "out_dir": None}, tables)
    written = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    assert_no_child_records(folder)
    write_manifest(
        folder / "manifest.json",
        scenario=sc.model_dump(mode="json"),
        inputs=result.inputs.files,
        stage_seconds=stage_seconds() if stage_seconds else result.stage_seconds,
        figures={k: v for k, v in f.items() if k != "out_dir"},
        modelled_layers=list(result.inputs.modelled_layers),
        outputs=written + ["manifest.json"],
    )
    return written + ["manifest.json"]
