"""GIS outputs: one GeoPackage with a table per layer, and Shapefiles with a data dictionary.

Everything is written in EPSG:4326 (WGS 84 longitude/latitude, degrees), the CRS named in the
data dictionary; layers in another CRS are reprojected, layers without a CRS are refused.
Administrative codes and IDs are text (``village_code`` "510802106200" keeps its leading
digits and is never a number).

Shapefile limits handled here: dBase field names are at most 10 ASCII characters, so every
column gets a stable short name (:data:`SHAPEFILE_FIELDS`, e.g. ``village_code`` ->
``vill_code``; unknown columns are shortened by a fixed rule), listed with its full name,
description and unit in ``data_dictionary.csv``; text is UTF-8 and a ``.cpg`` file says so, so
Chinese names survive in QGIS and ArcGIS. Text longer than 254 bytes is cut by the format.
"""

from __future__ import annotations

import os
import re
import tempfile
import warnings
from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import pandas as pd

from siteplan.errors import CRSError, OutputError

OUTPUT_CRS = "EPSG:4326"

#: Stable shapefile (dBase) field names of known columns (<= 10 ASCII characters).
SHAPEFILE_FIELDS: dict[str, str] = {
    "village_code": "vill_code", "village_name": "vill_name", "kind": "kind",
    "town_code": "town_code", "town_name": "town_name", "town_type": "town_type",
    "county_code": "cnty_code", "county_name": "cnty_name", "seat_source": "seat_src",
    "children": "children", "children_0_5": "child_0_5", "children_6_13": "child_6_13",
    "children_14_16": "chld_14_16", "alone": "alone", "guardian_unable": "guard_unab",
    "location_source": "loc_src", "children_source": "child_src", "status": "status",
    "nearest_care_time_s": "care_t_s", "nearest_care_dist_m": "care_d_m",
    "nearest_care_site_id": "care_site", "police_time_s": "police_t_s",
    "police_station_id": "police_id", "facility_id": "fac_id", "name": "name",
    "facility_type": "fac_type", "capacity": "capacity", "boarding": "boarding",
    "source": "source", "site_id": "site_id", "site_type": "site_type", "action": "action",
    "rank": "rank", "capex_cny": "capex_cny", "opex_cny_yr": "opex_cny",
    "children_newly_covered": "child_new", "minutes": "minutes", "road_class": "road_class",
    "maxspeed": "maxspeed", "oneway": "oneway",
}

#: Full name -> (description, unit) for the data dictionary.
FIELD_DOCS: dict[str, tuple[str, str]] = {
    "village_code": ("village committee code, 12 digits (统计用区划代码)", "text"),
    "village_name": ("village or community name", "text"),
    "kind": ("village / community / other; for catchments: existing / proposed", "text"),
    "town_code": ("township code, 9 digits", "text"),
    "town_name": ("township name (乡镇/街道)", "text"),
    "town_type": ("镇 / 乡 / 街道", "text"),
    "county_code": ("county code, 6 digits (GB/T 2260)", "text"),
    "county_name": ("county name", "text"),
    "seat_source": ("where the township seat location comes from", "text"),
    "children": ("left-behind children under 16 (small counts suppressed: '<10', 'x')", "children"),
    "children_0_5": ("left-behind children aged 0-5", "children"),
    "children_6_13": ("left-behind children aged 6-13", "children"),
    "children_14_16": ("left-behind children aged 14-16", "children"),
    "alone": ("children living alone (ledger)", "children"),
    "guardian_unable": ("children whose guardian cannot care (ledger)", "children"),
    "location_source": ("modelled / user: where the village location comes from", "text"),
    "children_source": ("modelled / ledger / user: where the child count comes from", "text"),
    "status": ("coverage: covered / under_served / unreachable / off_network", "text"),
    "nearest_care_time_s": ("travel time to the nearest care site (inf = none reachable)", "s"),
    "nearest_care_dist_m": ("road distance to the nearest care site", "m"),
    "nearest_care_site_id": ("facility_id or site_id of the nearest care site", "text"),
    "police_time_s": ("police response drive time from the nearest station", "s"),
    "police_station_id": ("facility_id of the nearest police station", "text"),
    "facility_id": ("facility identifier", "text"),
    "name": ("name", "text"),
    "facility_type": ("facility type (siteplan.scenario.FACILITY_TYPES)", "text"),
    "capacity": ("capacity, children (0 = unknown)", "children"),
    "boarding": ("boarding facility (1 = yes)", "bool"),
    "source": ("modelled / osm / user", "text"),
    "site_id": ("site identifier (existing facility_id or new site id)", "text"),
    "site_type": ("care-site type of the proposed site", "text"),
    "action": ("new (build) / upgrade (existing building)", "text"),
    "rank": ("priority rank of the proposed site (1 = first)", "rank"),
    "capex_cny": ("capital cost", "CNY"),
    "opex_cny_yr": ("running cost per year", "CNY/year"),
    "children_newly_covered": ("children newly covered by the site (rounded/suppressed)", "children"),
    "minutes": ("travel-time limit of the catchment", "min"),
    "road_class": ("OSM highway value or county_road / township_road / village_road", "text"),
    "maxspeed": ("posted speed limit as in the source", "text"),
    "oneway": ("yes / no / -1", "text"),
}

_CODE_COL = re.compile(r"(_code|_id)$|^site_id$")

#: (regex on the full name, description template, unit) for families of fields whose names
#: carry a standard, a facility type or a time limit; ``{0}`` is the first group.
FIELD_PATTERNS: tuple[tuple[str, str, str], ...] = (
    (r"^(.+)_covered_before$", "covered under service standard '{0}' before the plan", "bool"),
    (r"^(.+)_covered$", "covered under service standard '{0}'", "bool"),
    (r"^(.+)_site_id$", "id of the care site that serves the village under '{0}'", "text"),
    (r"^(.+)_time_s$", "travel time ({0})", "s"),
    (r"^(.+)_dist_m$", "road distance ({0})", "m"),
    (r"^police_within_(.+)$", "police reach the village within {0}", "bool"),
    (r"^police_backup_id$", "facility_id of the second-nearest police station", "text"),
    (r"^police_(reason|dist_m)$", "police response: {0} (reason = why unreachable)", ""),
    (r"^escort_(.+)_id$", "nearest '{0}' a child is escorted to (village -> facility)", "text"),
    (r"^escort_(.+)_reason$", "why no '{0}' can be reached ('' = reached)", "text"),
    (r"^escort_village_committee_own$", "the village's own committee is the escort target", "bool"),
    (r"^(.+)_children_(not_)?covered$", "children (not) covered under '{0}' (suppressed)", "children"),
    (r"^nearest_(.+)_type$", "type of the nearest care site ({0})", "text"),
    (r"^status_before$", "coverage status before the plan (see status)", "text"),
    (r"^access_2sfca$", "2SFCA accessibility: site places per child within the standard "
                        "(Luo & Wang 2003)", "places/child"),
    (r"^off_network$", "farther than the maximum snap distance from any road", "bool"),
    (r"^is_care_site$", "facility type counts as a care site in this scenario", "bool"),
    (r"^host_facility_id$", "existing facility upgraded into the site ('' = new build)", "text"),
    (r"^(max_time_s|n_nodes|node|mode)$", "catchment: {0}", ""),
)


def field_doc(name: str) -> tuple[str, str]:
    """(description, unit) of an output field: :data:`FIELD_DOCS`, then :data:`FIELD_PATTERNS`."""
    if name in FIELD_DOCS:
        return FIELD_DOCS[name]
    for pattern, template, unit in FIELD_PATTERNS:
        m = re.match(pattern, name)
        if m:
            return template.format(*(g or "" for g in m.groups())), unit
    return "", ""


def shapefile_field_names(columns: list[str]) -> dict[str, str]:
    """Stable short dBase field names (<= 10 ASCII characters, unique ignoring case).

    Known columns use :data:`SHAPEFILE_FIELDS`; ``<standard>_covered`` becomes
    ``c_<standard without underscores>`` cut to 10; other columns are made ASCII, stripped of
    underscores if too long and cut to 10. Clashes get a numeric suffix in column order.

    Parameters
    ----------
    columns : list of str
        Column names (without the geometry column).

    Returns
    -------
    dict of str to str
        Full name -> shapefile field name.
    """
    out: dict[str, str] = {}
    used: set[str] = set()
    for col in columns:
        if col in SHAPEFILE_FIELDS:
            short = SHAPEFILE_FIELDS[col]
        else:
            ascii_ = re.sub(r"[^A-Za-z0-9_]", "", str(col)) or "field"
            if ascii_.endswith("_covered"):
                short = ("c_" + ascii_[: -len("_covered")].replace("_", ""))[:10]
            elif len(ascii_) <= 10:
                short = ascii_
            else:
                short = ascii_.replace("_", "")[:10]
        base, n = short, 1
        while short.lower() in used:
            suffix = str(n)
            short = base[: 10 - len(suffix)] + suffix
            n += 1
        used.add(short.lower())
        out[col] = short
    return out


def _prepare(name: str, gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise OutputError(f"layer '{name}' is not a GeoDataFrame")
    if gdf.crs is None:
        raise CRSError(f"layer '{name}' has no CRS; cannot write GIS output",
                       hint="set the CRS of the layer (inputs are EPSG:4326)")
    out = gdf if gdf.crs.to_epsg() == 4326 else gdf.to_crs(OUTPUT_CRS)
    out = out.copy()
    for col in out.columns:
        if col == out.geometry.name:
            continue
        if _CODE_COL.search(str(col)):
            if (len(out) and pd.api.types.is_numeric_dtype(out[col])
                    and not pd.api.types.is_bool_dtype(out[col])):
                raise OutputError(
                    f"layer '{name}', column '{col}': codes must be text, got numbers "
                    "(leading zeros may already be lost)")
            out[col] = out[col].astype("string")
    return out


def write_geopackage(path: str | Path, layers: Mapping[str, gpd.GeoDataFrame]) -> Path:
    """Write layers into one GeoPackage, one table per layer, in EPSG:4326.

    Parameters
    ----------
    path : str or Path
        The ``.gpkg`` file; replaced if it exists (written to a temporary file first).
    layers : mapping of str to GeoDataFrame
        Layer (table) name -> layer. Any CRS; reprojected to EPSG:4326 (lon/lat degrees).
        Code and ID columns (``*_code``, ``*_id``) are written as text.

    Returns
    -------
    Path
        The written file.

    Raises
    ------
    CRSError
        A layer has no CRS.
    OutputError
        A layer is not a GeoDataFrame, a code column holds numbers, or writing failed.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    prepared = {name: _prepare(name, gdf) for name, gdf in layers.items()}
    fd, tmp = tempfile.mkstemp(suffix=".gpkg", dir=path.parent)
    os.close(fd)
    os.unlink(tmp)
    try:
        for name, gdf in prepared.items():
            gdf.to_file(tmp, layer=name, driver="GPKG", engine="pyogrio")
        os.replace(tmp, path)
    except OutputError:
        raise
    except Exception as e:  # pragma: no cover - depends on GDAL failures
        Path(tmp).unlink(missing_ok=True)
        raise OutputError(f"could not write GeoPackage {path}: {e}") from e
    return path


def write_shapefiles(
    directory: str | Path, layers: Mapping[str, gpd.GeoDataFrame]
) -> pd.DataFrame:
    """Write each layer as ``<layer>.shp`` (UTF-8, EPSG:4326) plus ``data_dictionary.csv``.

    Parameters
    ----------
    directory : str or Path
        Output folder (created). Existing files of the same layers are replaced.
    layers : mapping of str to GeoDataFrame
        Layer name (ASCII, used as file name) -> layer; one geometry type family per layer.
        Any CRS; reprojected to EPSG:4326 (lon/lat degrees).

    Returns
    -------
    DataFrame
        The data dictionary as written: ``layer``, ``file``, ``shapefile_field``,
        ``full_name``, ``description``, ``unit``, ``dtype`` (one row per field plus one
        ``geometry`` row per layer naming the CRS).

    Raises
    ------
    CRSError
        A layer has no CRS.
    OutputError
        A layer name is not ASCII, a code column holds numbers, or writing failed.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    rows = []
    for name, gdf in layers.items():
        if not re.fullmatch(r"[A-Za-z0-9_\-]+", name):
            raise OutputError(f"shapefile layer name '{name}' must be ASCII letters, digits, _ or -")
        gdf = _prepare(name, gdf)
        geom = gdf.geometry.name
        cols = [c for c in gdf.columns if c != geom]
        mapping = shapefile_field_names(cols)
        short = gdf.rename(columns=mapping)
        file = f"{name}.shp"
        for ext in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
            (directory / f"{name}{ext}").unlink(missing_ok=True)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                short.to_file(directory / file, driver="ESRI Shapefile", encoding="UTF-8",
                              engine="pyogrio")
        except Exception as e:
            raise OutputError(f"could not write shapefile {directory / file}: {e}") from e
        cpg = directory / f"{name}.cpg"
        if not cpg.exists() or cpg.read_text().strip().upper() != "UTF-8":
            cpg.write_text("UTF-8", encoding="ascii")
        for c in cols:
            desc, unit = field_doc(str(c))
            rows.append({"layer": name, "file": file, "shapefile_field": mapping[c],
                         "full_name": c, "description": desc, "unit": unit,
                         "dtype": str(gdf[c].dtype)})
        gtypes = ",".join(sorted(set(gdf.geom_type.dropna())))
        rows.append({"layer": name, "file": file, "shapefile_field": "(geometry)",
                     "full_name": "geometry",
                     "description": f"{gtypes or 'empty'} geometry, CRS EPSG:4326 (WGS 84 lon/lat)",
                     "unit": "degree", "dtype": "geometry"})
    dd = pd.DataFrame(rows, columns=["layer", "file", "shapefile_field", "full_name",
                                     "description", "unit", "dtype"])
    dd.to_csv(directory / "data_dictionary.csv", index=False, encoding="utf-8-sig")
    return dd


def read_shapefiles(directory: str | Path) -> dict[str, gpd.GeoDataFrame]:
    """Read shapefiles written by :func:`write_shapefiles` back with their full column names.

    Parameters
    ----------
    directory : str or Path
        Folder with ``data_dictionary.csv`` and the ``.shp`` files.

    Returns
    -------
    dict of str to GeoDataFrame
        Layer name -> layer in EPSG:4326; code columns as text.

    Raises
    ------
    OutputError
        ``data_dictionary.csv`` is missing.
    """
    directory = Path(directory)
    ddp = directory / "data_dictionary.csv"
    if not ddp.exists():
        raise OutputError(f"no data_dictionary.csv in {directory}")
    dd = pd.read_csv(ddp, dtype=str, encoding="utf-8-sig", keep_default_na=False)
    out = {}
    for name, grp in dd.groupby("layer", sort=False):
        fields = grp[grp.full_name != "geometry"]
        gdf = gpd.read_file(directory / grp.file.iloc[0], encoding="UTF-8", engine="pyogrio")
        gdf = gdf.rename(columns=dict(zip(fields.shapefile_field, fields.full_name, strict=True)))
        for c in fields.full_name:
            if _CODE_COL.search(c) and c in gdf:
                gdf[c] = gdf[c].astype("string")
        out[str(name)] = gdf
    return out
