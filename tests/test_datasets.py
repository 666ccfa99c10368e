"""Tests of siteplan.datasets: the Guangyuan default dataset built from ../shared."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components, minimum_spanning_tree
from scipy.spatial import distance_matrix

from siteplan import datasets as D
from siteplan.errors import InputError
from siteplan.scenario import FACILITY_TYPES

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(__file__).resolve().parents[2] / "shared"
SRC = SHARED / "data" / "guangyuan"
REFERENCE = SRC / "reference" / "township_seats_geocoded.csv"
COMMITTED = ROOT / "data" / "guangyuan"
BUILT_FILES = [
    "counties.geojson",
    "city.geojson",
    "townships.csv",
    "villages.csv",
    "roads.gpkg",
    "facilities.csv",
    "checksums.sha256",
]

needs_shared = pytest.mark.skipif(
    not (SRC / "townships_nbs2023.csv").exists(),
    reason=f"shared data not found at {SRC} (CI puts shared/ beside the checkout)",
)
_GEOD = Geod(ellps="WGS84")


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not (SRC / "townships_nbs2023.csv").exists():
        pytest.skip(f"shared data not found at {SRC}")
    out = tmp_path_factory.mktemp("guangyuan")
    paths = D.build_guangyuan(SHARED, out)
    assert set(p.name for p in paths.values()) == set(BUILT_FILES)
    return out


# --------------------------------------------------------------------------- pure helpers


@settings(max_examples=40, deadline=None)
@given(
    kinds=st.lists(st.sampled_from(["village", "community", "other"]), min_size=1, max_size=60),
    totals=st.tuples(*[st.integers(0, 5000)] * 3),
    seed=st.integers(0, 2**32 - 1),
)
def test_allocate_children_keeps_every_total(kinds, totals, seed):
    v = pd.DataFrame(
        {
            "kind": kinds,
            "town_code": ["510802001"] * (len(kinds) // 2)
            + ["510821100"] * (len(kinds) - len(kinds) // 2),
        }
    )
    tt = pd.Series({"510802001": "街道", "510821100": "镇"})
    tot = dict(zip(["children_0_5", "children_6_13", "children_14_16"], totals, strict=True))
    out = D.allocate_children(v, tt, tot, np.random.default_rng(seed))
    for col, n in tot.items():
        assert out[col].sum() == n
        assert (out[col] >= 0).all()
    assert (
        out["children"] == out[["children_0_5", "children_6_13", "children_14_16"]].sum(axis=1)
    ).all()
    assert out["children"].sum() == sum(totals)


def test_allocate_children_weights_villages_over_urban_communities():
    n = 400
    v = pd.DataFrame(
        {"kind": ["village"] * n + ["community"] * n, "town_code": ["A"] * n + ["B"] * n}
    )
    tt = pd.Series({"A": "乡", "B": "街道"})
    out = D.allocate_children(
        v,
        tt,
        {"children_0_5": 1000, "children_6_13": 3000, "children_14_16": 500},
        np.random.default_rng(1),
    )
    assert out["children"][:n].sum() > 10 * out["children"][n:].sum()


def test_rng_edges_contain_mst_and_connect():
    rng = np.random.default_rng(3)
    xy = rng.uniform(0, 10_000, (80, 2))
    e = D._rng_edges(xy)
    g = coo_matrix((np.ones(len(e)), (e[:, 0], e[:, 1])), shape=(80, 80))
    assert connected_components(g, directed=False)[0] == 1
    mst = minimum_spanning_tree(distance_matrix(xy, xy)).tocoo()
    mst_edges = {tuple(sorted(p)) for p in zip(mst.row, mst.col, strict=True)}
    assert mst_edges <= {tuple(p) for p in e.tolist()}
    assert len(e) < 2 * len(xy)  # sparse, far below the Delaunay's ~3n


def test_lloyd_keeps_fixed_and_spreads():
    rng = np.random.default_rng(0)
    samples = rng.uniform(0, 1000, (4000, 2))
    start = np.array([[10.0, 10.0], [20.0, 20.0], [30.0, 10.0]])
    out = D._lloyd(samples, np.array([[500.0, 500.0]]), start, 30)
    d = distance_matrix(out, out)[np.triu_indices(3, 1)]
    assert d.min() > 200  # started within 30 m of each other


def test_missing_shared_raises_input_error(tmp_path):
    with pytest.raises(InputError, match="not found"):
        D.build_guangyuan(tmp_path / "nowhere", tmp_path / "out")


# --------------------------------------------------------------------------- the built dataset


@needs_shared
def test_counts_codes_and_columns(built):
    t = _read(built / "townships.csv")
    v = _read(built / "villages.csv")
    assert len(t) == 146 and t["town_code"].is_unique
    assert len(v) == 1735 and v["village_code"].is_unique
    assert t["town_code"].str.fullmatch(r"\d{9}").all()
    assert v["village_code"].str.fullmatch(r"\d{12}").all()
    assert v["town_code"].isin(t["town_code"]).all()
    assert (v["village_code"].str[:9] == v["town_code"]).all()
    assert list(v.columns) == [
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
    assert set(v["location_source"]) == {"modelled"} and set(v["children_source"]) == {"modelled"}
    assert (t["seat_source"] == "geonames").sum() == 29
    assert set(t["seat_source"]) == {"geonames", "modelled"}
    c = gpd.read_file(built / "counties.geojson")
    assert c.crs.to_epsg() == 4326 and len(c) == 7
    assert c["county_code"].tolist() == sorted(t["county_code"].unique())
    assert len(gpd.read_file(built / "city.geojson")) == 1


@needs_shared
def test_points_inside_their_county(built):
    c = gpd.read_file(built / "counties.geojson").set_index("county_code")
    for name in ("villages.csv", "townships.csv"):
        df = _read(built / name)
        pts = shapely.points(df["lon"].astype(float), df["lat"].astype(float))
        polys = c.geometry.reindex(df["county_code"]).to_numpy()
        inside = shapely.contains(polys, pts)
        if name == "townships.csv":  # a GeoNames seat may sit on the simplified border
            near = shapely.distance(polys, pts) < 0.01
            inside = inside | ((df["seat_source"] == "geonames").to_numpy() & near)
        assert inside.all(), df.loc[~inside, df.columns[0]].tolist()


@needs_shared
def test_children_totals_exact(built):
    v = _read(built / "villages.csv")
    facts = json.loads((SRC / "left_behind_children.json").read_text(encoding="utf-8"))[
        "guangyuan_city"
    ]
    k = v[["children", "children_0_5", "children_6_13", "children_14_16"]].astype(int)
    assert (k >= 0).all().all()
    assert k["children"].sum() == facts["rural_left_behind_children_under16"] == 29251
    assert k["children_0_5"].sum() == facts["by_age"]["0-5"]
    assert k["children_6_13"].sum() == facts["by_age"]["6-13"]
    assert k["children_14_16"].sum() == facts["by_age"]["14-16"]
    assert (k["children"] == k.iloc[:, 1:].sum(axis=1)).all()
    by_kind = k["children"].groupby(v["kind"]).mean()
    assert by_kind["village"] > by_kind["community"]


@needs_shared
def test_road_network_connects_every_village_and_seat(built):
    r = gpd.read_file(built / "roads.gpkg", layer="roads")
    assert r.crs.to_epsg() == 4326
    assert set(r.geom_type) == {"LineString"}
    assert set(r["road_class"]) == {"primary", "county_road", "township_road", "village_road"}
    assert set(r["source"]) == {"osm", "modelled"}
    assert set(r["oneway"]) == {"no"} and set(r["maxspeed"]) == {""}
    assert 2000 < len(r) < 6000
    # nodes: endpoints joined within 1 m (the network builder's rule), in metres
    rm = r.to_crs(D.WORK_CRS)
    ends = np.vstack(
        [shapely.get_coordinates(shapely.get_point(rm.geometry.to_numpy(), i)) for i in (0, -1)]
    )
    from scipy.spatial import cKDTree

    tree = cKDTree(ends)
    n = len(ends)
    pairs = tree.query_pairs(1.0, output_type="ndarray")
    half = len(rm)
    rows = np.concatenate([np.arange(half), pairs[:, 0]])
    cols = np.concatenate([np.arange(half) + half, pairs[:, 1]])
    ncomp, lab = connected_components(
        coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n)), directed=False
    )
    assert len(np.unique(lab)) == 1, f"{ncomp} components"
    for name in ("villages.csv", "townships.csv"):
        df = _read(built / name)
        p = gpd.GeoSeries(
            gpd.points_from_xy(df["lon"].astype(float), df["lat"].astype(float)), crs=4326
        ).to_crs(D.WORK_CRS)
        d, _ = tree.query(shapely.get_coordinates(p.to_numpy()))
        assert d.max() < 1.0, f"{name}: a point is {d.max():.1f} m from the nearest road node"


@needs_shared
def test_modelled_road_length_is_straight_times_circuity(built):
    r = gpd.read_file(built / "roads.gpkg", layer="roads")
    m = r[r["source"] == "modelled"]
    xy = shapely.get_coordinates(m.geometry.to_numpy()).reshape(-1, 2, 2)
    _, _, geod = _GEOD.inv(xy[:, 0, 0], xy[:, 0, 1], xy[:, 1, 0], xy[:, 1, 1])
    ratio = m["length_m"].to_numpy() / geod
    assert np.all(np.abs(ratio - D.CIRCUITY) < 0.01)  # UTM scale factor < 0.1 % here
    assert (r["length_m"] > 0).all()


@needs_shared
def test_osm_skeleton_kept_whole(built):
    r = gpd.read_file(built / "roads.gpkg", layer="roads")
    sk = gpd.read_file(SRC / "roads_osm_skeleton.geojson")
    sk = sk[sk["in_gy_buffer10km"].astype(bool)]
    osm = r[r["source"] == "osm"]
    assert set(osm["road_class"]) == {"primary"}
    assert len(osm) >= len(sk) - 5  # split by seat links, a few closed edges dropped
    assert (
        abs(osm["length_m"].sum() - 1000 * sk["length_km"].sum())
        < 0.001 * 1000 * sk["length_km"].sum()
    )
    # every seat within SEAT_LINK_MAX_M of the skeleton has a county road to it
    assert (r["road_class"] == "county_road").sum() > 146


@needs_shared
def test_facilities(built):
    f = _read(built / "facilities.csv")
    t = _read(built / "townships.csv")
    v = _read(built / "villages.csv")
    assert f["facility_id"].is_unique
    assert set(f["facility_type"]) <= set(FACILITY_TYPES)
    n = f["facility_type"].value_counts()
    n_towns = int(t["town_type"].isin(["镇", "乡", "街道"]).sum())
    assert n["rescue_station"] == 7 and n["welfare_home"] == 1
    assert n["village_committee"] == 1735
    assert n["boarding_school"] + n["school"] == n_towns == n["police"] == n["health_centre"]
    assert n["school_care_home"] == n_towns
    assert n["school"] == (t["town_type"] == "街道").sum()
    assert 0.25 * 1735 < n["childrens_home"] < 0.35 * 1735
    assert f.loc[f["facility_type"] == "welfare_home", "county_code"].tolist() == ["510802"]
    assert set(f["source"]) == {"modelled"} and set(f["boarding"]) == {"True", "False"}
    assert (f.loc[f["facility_type"] == "boarding_school", "boarding"] == "True").all()
    assert (f.loc[f["facility_type"] == "childrens_home", "capacity"] == "40").all()
    # village committees stand at the village points
    vc = f[f["facility_type"] == "village_committee"].set_index("town_code", append=True)
    assert np.allclose(vc["lon"].astype(float).to_numpy(), v["lon"].astype(float).to_numpy())
    # a school care home is within 100 m of its township central school
    sch = f[f["facility_type"].isin(["boarding_school", "school"])].set_index("town_code")
    sch_home = f[f["facility_type"] == "school_care_home"].set_index("town_code").loc[sch.index]
    _, _, d = _GEOD.inv(
        sch["lon"].astype(float),
        sch["lat"].astype(float),
        sch_home["lon"].astype(float),
        sch_home["lat"].astype(float),
    )
    assert np.max(d) < 100
    assert f["name"].str.contains("派出所").sum() == n["police"]


@needs_shared
def test_rebuild_is_byte_identical_to_committed_files(built):
    missing = [n for n in BUILT_FILES if not (COMMITTED / n).exists()]
    if missing:
        pytest.skip(f"committed dataset incomplete: {missing}")
    for name in BUILT_FILES:
        a = hashlib.sha256((built / name).read_bytes()).hexdigest()
        b = hashlib.sha256((COMMITTED / name).read_bytes()).hexdigest()
        assert a == b, f"{name} differs from the committed file: run `siteplan build-data`"


@needs_shared
def test_seed_changes_the_modelled_layers(built, tmp_path):
    D.build_guangyuan(SHARED, tmp_path, seed=7)
    assert (tmp_path / "counties.geojson").read_bytes() == (built / "counties.geojson").read_bytes()
    assert (tmp_path / "villages.csv").read_bytes() != (built / "villages.csv").read_bytes()
    a, b = _read(tmp_path / "townships.csv"), _read(built / "townships.csv")
    g = a["seat_source"] == "geonames"
    assert (a.loc[g, "lon"] == b.loc[g, "lon"]).all()  # GeoNames seats do not move with the seed


# --------------------------------------------------------------------------- against the reference


def _seat_errors_km(t: pd.DataFrame, ref: pd.DataFrame) -> pd.DataFrame:
    m = t.merge(ref[["town_code", "lng_wgs84", "lat_wgs84"]], on="town_code")
    _, _, d = _GEOD.inv(
        m["lon"].astype(float),
        m["lat"].astype(float),
        m["lng_wgs84"].astype(float),
        m["lat_wgs84"].astype(float),
    )
    return m.assign(err_km=np.asarray(d) / 1000.0)


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    if not REFERENCE.exists():
        pytest.skip(f"reference seats not found at {REFERENCE}")
    ref = _read(REFERENCE)
    return ref[ref["lng_wgs84"] != ""]


@needs_shared
def test_seat_error_beats_random_placement(built, reference):
    t = _read(built / "townships.csv")
    m = _seat_errors_km(t, reference)
    med, p90 = m["err_km"].median(), m["err_km"].quantile(0.9)
    geon = m.loc[m["seat_source"] == "geonames", "err_km"].median()
    # baseline: each seat at a uniform random point of its county, median over 10 draws
    counties = gpd.read_file(built / "counties.geojson").to_crs(D.WORK_CRS).set_index("county_code")
    rng = np.random.default_rng(12345)
    base = []
    for _ in range(10):
        xy = np.array([D._sample_in(counties.geometry[c], 1, rng)[0] for c in m["county_code"]])
        ll = gpd.GeoSeries(shapely.points(xy), crs=D.WORK_CRS).to_crs(4326)
        rand = m.assign(lon=ll.x.to_numpy(), lat=ll.y.to_numpy())
        base.append(
            _seat_errors_km(rand[["town_code", "lon", "lat"]], reference)["err_km"].median()
        )
    print(
        f"seat error km: median {med:.1f}, p90 {p90:.1f}, geonames median {geon:.2f}; "
        f"random-in-county median {np.median(base):.1f} (min {np.min(base):.1f})"
    )
    readme = (COMMITTED / "README.md").read_text(encoding="utf-8")
    found = re.search(r"\| all \| (\d+) \| \*\*([\d.]+)\*\* \| \*\*([\d.]+)\*\* \|", readme)
    assert found, "data/guangyuan/README.md lost its seat error table"
    assert int(found[1]) == len(m)
    assert abs(float(found[2]) - med) < 0.05 and abs(float(found[3]) - p90) < 0.05, (
        "README statistics stale"
    )
    assert geon < 1.0
    assert med < np.min(base)  # better than every random draw
    assert med < 22.0 and p90 < 50.0  # README reports the values this bound guards


@needs_shared
def test_no_reference_copied(built, reference):
    t = _read(built / "townships.csv")
    m = _seat_errors_km(t, reference)
    assert (m["err_km"] > 0.01).all(), "a seat coincides with a reference coordinate"
    ref_bytes = REFERENCE.read_bytes()
    ref_lines = {ln for ln in REFERENCE.read_text(encoding="utf-8").splitlines()[1:] if ln}
    for p in sorted(COMMITTED.glob("*")) + sorted(built.glob("*")):
        if p.is_file():
            data = p.read_bytes()
            assert data != ref_bytes, f"{p} is a copy of the reference file"
            if p.suffix in (".csv", ".md", ".geojson"):
                text = data.decode("utf-8", errors="replace")
                assert not any(ln in text for ln in ref_lines), f"{p} contains a reference row"
