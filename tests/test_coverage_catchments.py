"""Catchment (isochrone) polygons on a tiny road network."""

from __future__ import annotations

from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, Point

from siteplan.coverage import catchments, village_coverage
from siteplan.errors import InputError
from siteplan.scenario import ServiceStandard

network = pytest.importorskip("siteplan.network")

UTM = "EPSG:32648"
X0, Y0 = 575000.0, 3585000.0


def _roads(oneway=("no", "no", "no")):
    # node 0 (X0,Y0) -1 km- node 1 -1 km- node 2, then 3 km north to node 3 (village roads)
    return gpd.GeoDataFrame(
        {"road_class": ["village_road"] * 3, "oneway": list(oneway)},
        geometry=[
            LineString([(X0, Y0), (X0 + 1000, Y0)]),
            LineString([(X0 + 1000, Y0), (X0 + 2000, Y0)]),
            LineString([(X0 + 2000, Y0), (X0 + 2000, Y0 + 3000)]),
        ],
        crs=UTM,
    )


def _utm_points(xy):
    return gpd.GeoSeries([Point(X0 + dx, Y0 + dy) for dx, dy in xy], crs=UTM)


@pytest.fixture
def net():
    return network.TravelNetwork.from_roads(_roads(), crs=UTM)


def test_catchment_contains_site_and_reachable_village(net):
    sites = gpd.GeoDataFrame({"facility_id": ["F1"]}, geometry=[Point(X0 + 10, Y0 + 20)], crs=UTM)
    snapped = network.snap(net, sites, 3000.0).assign(facility_id=["F1"])
    # walking 5 km/h: 1000 m = 720 s; in 1800 s: 2 km east then 500 m north
    c = catchments(net, snapped, "walk", 1800.0, "EPSG:4326")
    assert c.crs.to_epsg() == 4326
    assert c["site_id"].tolist() == ["F1"]
    assert c["n_nodes"].iloc[0] == 3
    poly = gpd.GeoSeries(c.geometry, crs=4326).to_crs(UTM).iloc[0]
    reachable, beyond = _utm_points([(2000, 400), (2000, 1500)])
    assert poly.contains(sites.geometry.iloc[0])
    assert poly.contains(reachable)
    assert not poly.contains(beyond)
    # the reached part ends 500 m up the north road: 300 m buffer -> about 800 m
    assert poly.contains(_utm_points([(2000, 750)]).iloc[0])
    assert not poly.contains(_utm_points([(2000, 900)]).iloc[0])


def test_catchment_matches_od_costs(net):
    """A village whose OD time (without access) is within the limit lies in the polygon."""
    villages = gpd.GeoDataFrame(geometry=_utm_points([(1000, 0), (2000, 0), (2000, 2500)]), crs=UTM)
    site = gpd.GeoDataFrame({"facility_id": ["S"]}, geometry=_utm_points([(0, 0)]), crs=UTM)
    od = network.od_costs(net, villages, site, "walk", cutoff_s=1800.0)
    inside = set(od.origin[od.time_s <= 1800.0].tolist())
    c = catchments(
        net, network.snap(net, site, 3000.0).assign(facility_id=["S"]), "walk", 1800.0, UTM
    )
    poly = c.geometry.iloc[0]
    got = {i for i, g in enumerate(villages.geometry) if poly.contains(g)}
    assert got == inside == {0, 1}


def test_direction_on_a_one_way_road():
    net = network.TravelNetwork.from_roads(_roads(oneway=("yes", "yes", "yes")), crs=UTM)
    snapped = pd.DataFrame({"node": [1], "site_id": ["mid"]})
    to_site = catchments(net, snapped, "drive", 200.0, UTM, direction="to_site").geometry.iloc[0]
    from_site = catchments(net, snapped, "drive", 200.0, UTM, direction="from_site").geometry.iloc[
        0
    ]
    west, east = _utm_points([(0, 0), (2000, 0)])
    assert to_site.contains(west) and not to_site.contains(east)
    assert from_site.contains(east) and not from_site.contains(west)


def test_off_network_site_gives_empty_polygon(net):
    snapped = pd.DataFrame({"node": [0, -1], "site_id": ["a", "b"]})
    c = catchments(net, snapped, "walk", 600.0, UTM)
    assert not c.geometry.iloc[0].is_empty
    assert c.geometry.iloc[1].is_empty
    assert c["n_nodes"].tolist() == [1, 0]


def test_concave_method_and_straight_line_fallback():
    # a network without road geometry (only the contract arrays): straight node-to-node lines
    bare = SimpleNamespace(
        crs=UTM,
        node_x=np.array([X0, X0 + 1000, X0 + 1000]),
        node_y=np.array([Y0, Y0, Y0 + 1000]),
        edge_u=np.array([0, 1, 1, 2]),
        edge_v=np.array([1, 0, 2, 1]),
        time_s={"walk": np.array([720.0, 720.0, 720.0, 720.0])},
    )
    snapped = pd.DataFrame({"node": [0]})
    for method in ("buffer", "concave"):
        poly = catchments(bare, snapped, "walk", 1080.0, UTM, method=method).geometry.iloc[0]
        assert poly.contains(_utm_points([(1000, 0)]).iloc[0])
        assert poly.contains(_utm_points([(1000, 400)]).iloc[0])  # half of the 2nd edge
        assert not poly.contains(_utm_points([(1000, 950)]).iloc[0])


def test_catchment_errors(net):
    with pytest.raises(InputError):
        catchments(net, pd.DataFrame({"node": [99]}), "walk", 600.0, UTM)
    with pytest.raises(InputError):
        catchments(net, pd.DataFrame({"node": [0]}), "cycle", 600.0, UTM)
    with pytest.raises(InputError):
        catchments(net, pd.DataFrame({"x": [0]}), "walk", 600.0, UTM)


def test_village_coverage_on_real_od_costs(net):
    """snap + od_costs from siteplan.network feed village_coverage without glue code."""
    villages = gpd.GeoDataFrame(
        {"village_code": ["near", "far", "off"], "children": [3, 4, 5]},
        geometry=_utm_points([(1000, 10), (2000, 2900), (-9000, 0)]),
        crs=UTM,
    )
    sites = gpd.GeoDataFrame(
        {"facility_id": ["F"], "facility_type": ["childrens_home"]},
        geometry=_utm_points([(0, 0)]),
        crs=UTM,
    )
    vs = network.snap(net, villages, 3000.0)
    ss = network.snap(net, sites, 3000.0)
    od = network.od_costs(net, vs, ss, "walk")
    std = ServiceStandard(name="walk_30min", max_time_min=30)
    cov = village_coverage(villages, sites, od, std, off_network=vs["off_network"])
    assert cov["status"].tolist() == ["covered", "under_served", "off_network"]
    assert cov["walk_30min_time_s"].iloc[0] == pytest.approx(720.0 + 10 / (3 / 3.6), rel=1e-6)
