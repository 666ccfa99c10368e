"""Tests of siteplan.network on tiny hand-computed networks.

Unless stated, the drive speed is 36 km/h = 10 m/s everywhere, so time_s = length_m / 10,
and the off-road speed is 3.6 km/h = 1 m/s, so access time = access metres.
"""

from __future__ import annotations

import math

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, Point

import siteplan.network as netmod
from siteplan.errors import CRSError, NetworkError
from siteplan.network import (
    TravelNetwork,
    component_of,
    components,
    nearest,
    od_costs,
    pair_costs,
    parse_maxspeed,
    parse_oneway,
    snap,
)
from siteplan.scenario import ModeSpeeds, NetworkConfig

CRS = "EPSG:32648"
CFG = NetworkConfig(drive=ModeSpeeds(default_kph=36.0), walk=ModeSpeeds(default_kph=3.6))
OFF = 3.6  # off-road km/h -> 1 m/s


def roads(lines, **cols):
    return gpd.GeoDataFrame(cols, geometry=[LineString(c) for c in lines], crs=CRS)


def pts(*xy, index=None):
    return gpd.GeoDataFrame(geometry=[Point(p) for p in xy], crs=CRS, index=index)


@pytest.fixture
def triangle():
    """A(0,0) -> B(1000,0) one-way; B-C(1000,1000) two-way 1000 m; C-A two-way 3000 m.

    Hand-computed drive times: A->B 100 s; B->A = B->C->A = 100 + 300 = 400 s;
    A->C = min(A->B->C 200, A-C 300) = 200 s; C->A 300 s; C->B 100 s; B->C 100 s.
    """
    r = roads([[(0, 0), (1000, 0)], [(1000, 0), (1000, 1000)], [(1000, 1000), (0, 0)]],
              road_class=["x", "x", "x"], oneway=["yes", "no", "no"], length_m=[1000.0, 1000.0, 3000.0])
    return TravelNetwork.from_roads(r, CFG)


A, B, C = (0, 0), (1000, 0), (1000, 1000)


# ------------------------------------------------------------------ building


def test_build_one_way_edges(triangle):
    net = triangle
    assert net.n_nodes == 3
    assert net.n_edges == 5  # 1 + 2 + 2
    pairs = set(zip(net.edge_u.tolist(), net.edge_v.tolist(), strict=True))
    assert (0, 1) in pairs and (1, 0) not in pairs
    assert np.allclose(sorted(net.time_s["drive"]), [100, 100, 100, 300, 300])


def test_oneway_minus_one_reverses():
    r = roads([[A, B]], oneway=["-1"])
    net = TravelNetwork.from_roads(r, CFG)
    assert net.edge_u.tolist() == [1] and net.edge_v.tolist() == [0]


def test_endpoints_within_one_metre_are_joined():
    r = roads([[A, B], [(1000.6, 0.3), (2000, 0)], [(2005, 0), (3000, 0)]])
    net = TravelNetwork.from_roads(r, CFG)
    assert net.n_nodes == 5  # B and (1000.6, 0.3) joined; 2000 and 2005 not
    assert net.node_x[1] == 1000.0  # first endpoint's coordinates kept


def test_uv_columns_used():
    r = roads([[A, B], [B, C]], u=["a", "b"], v=["b", "c"])
    net = TravelNetwork.from_roads(r, CFG)
    assert list(net.node_id) == ["a", "b", "c"]
    assert net.n_edges == 4


def test_geometric_length_and_geographic_input():
    r = gpd.GeoDataFrame(geometry=[LineString([(105.8, 32.4), (105.81, 32.4)])], crs="EPSG:4326")
    net = TravelNetwork.from_roads(r, CFG, crs=CRS)
    # 0.01 degree of longitude at 32.4 N is about 939 m
    assert 930 < net.length_m[0] < 950
    assert net.time_s["drive"][0] == pytest.approx(net.length_m[0] / 10)


def test_roads_without_crs_rejected():
    r = gpd.GeoDataFrame(geometry=[LineString([A, B])])
    with pytest.raises(CRSError):
        TravelNetwork.from_roads(r, CFG)


def test_geographic_target_crs_rejected():
    with pytest.raises(CRSError):
        TravelNetwork.from_roads(roads([[A, B]]), CFG, crs="EPSG:4326")


@pytest.mark.parametrize("bad", [np.nan, 0.0, -5.0, np.inf])
def test_bad_length_rejected_naming_edge(bad):
    r = roads([[A, B], [B, C]], length_m=[1000.0, bad])
    r.index = ["r0", "r7"]
    with pytest.raises(NetworkError, match=r"road row 'r7', u=1, v=2"):
        TravelNetwork.from_roads(r, CFG)


def test_nan_speed_rejected_naming_edge():
    r = roads([[A, B], [B, C]], speed_kph=[40.0, np.nan])
    with pytest.raises(NetworkError, match=r"edge 1 .*u=1, v=2.*drive speed nan"):
        TravelNetwork.from_roads(r, CFG)


def test_nan_class_speed_rejected():
    bad = NetworkConfig.model_construct(
        drive=ModeSpeeds.model_construct(default_kph=float("nan"), by_class_kph={}), walk=CFG.walk)
    with pytest.raises(NetworkError, match=r"edge 0 .*u=0, v=1"):
        TravelNetwork.from_roads(roads([[A, B]]), bad)


def test_zero_length_geometry_rejected():
    with pytest.raises(NetworkError, match="edge 0"):
        TravelNetwork.from_roads(roads([[A, A], [A, B]]), CFG)


def test_forbidden_class_is_inf_for_walk_only():
    cfg = NetworkConfig(drive=ModeSpeeds(default_kph=36.0),
                        walk=ModeSpeeds(default_kph=3.6, by_class_kph={"motorway": 0.001}))
    r = roads([[A, B], [B, C]], road_class=["motorway", "residential"])
    net = TravelNetwork.from_roads(r, cfg)
    t = net.time_s["walk"]
    assert np.isinf(t[net.road_class == "motorway"]).all()
    assert np.allclose(t[net.road_class == "residential"], 1000.0)
    assert np.isfinite(net.time_s["drive"]).all()
    # walking from A to C is impossible (only a motorway leaves A); driving is 200 s
    res = nearest(net, pts(A), pts(C), "walk", max_snap_m=10)
    # with mode="walk" A may only snap to the residential road, 1000 m away > 10 m
    assert res.loc[0, "reason"] == "off network" and res.loc[0, "dest_1"] == -1
    far = nearest(net, pts(A), pts(C), "walk", max_snap_m=2000, off_road_speed_kph=OFF)
    assert far.loc[0, "time_s_1"] == 1000 + 1000  # 1000 m off-road at 1 m/s + B->C walking
    s = snap(net, pts((500, 10)), 100, mode="walk")
    assert s.loc[0, "off_network"]  # the motorway is not a walking road
    d = od_costs(net, pts(A), pts(C), "drive", off_road_speed_kph=OFF)
    assert d.time_s.tolist() == [200.0]


@pytest.mark.parametrize(
    "raw, kph",
    [
        ("50", 50.0),
        ("50 km/h", 50.0),
        ("50 mph", 80.4672),
        ("10 knots", 18.52),
        ("70;100", 70.0),
        ("70|100", 70.0),
        (["60", "40"], 40.0),
        ("RU:urban", 60.0),
        ("RU:rural", 90.0),
        ("DE:urban", 50.0),
        ("XX:urban", 50.0),
        ("walk", 5.0),
        ("none", None),
        ("signals", None),
        ("", None),
        (None, None),
        (float("nan"), None),
        ("0", None),
        ("fast", None),
        (30, 30.0),
    ],
)
def test_parse_maxspeed(raw, kph):
    got = parse_maxspeed(raw)
    if kph is None:
        assert got is None
    else:
        assert got == pytest.approx(kph)


@pytest.mark.parametrize(
    "raw, fb",
    [("yes", (True, False)), ("true", (True, False)), ("1", (True, False)), (True, (True, False)),
     ("-1", (False, True)), ("no", (True, True)), ("", (True, True)), (None, (True, True)),
     (float("nan"), (True, True)), (False, (True, True)), ("reversible", (True, True)), (1, (True, False))],
)
def test_parse_oneway(raw, fb):
    assert parse_oneway(raw) == fb


def test_maxspeed_used_for_drive_and_rules():
    r = roads([[A, B], [B, C]], road_class=["primary", "primary"], maxspeed=["72", None])
    cfg = NetworkConfig(drive=ModeSpeeds(default_kph=36.0, by_class_kph={"primary": 36.0}))
    net = TravelNetwork.from_roads(r, cfg)
    t = dict(zip(net.edge_seg.tolist(), net.time_s["drive"].tolist(), strict=True))
    assert t[0] == pytest.approx(50.0)  # 1000 m at 72 km/h = 20 m/s
    assert t[1] == pytest.approx(100.0)  # class speed
    cap = TravelNetwork.from_roads(r, cfg.model_copy(update={"maxspeed_rule": "cap"}))
    assert cap.time_s["drive"][cap.edge_seg == 0][0] == pytest.approx(100.0)


def test_from_osmnx_small_graph():
    G = nx.MultiDiGraph(crs=CRS)
    G.add_node(1, x=0.0, y=0.0)
    G.add_node(2, x=1000.0, y=0.0)
    G.add_node(3, x=1000.0, y=1000.0)
    G.add_edge(1, 2, key=0, length=1000.0, highway="primary", maxspeed=["36", "72"], oneway=True)
    G.add_edge(2, 3, key=0, length=1000.0, highway=["residential", "service"], oneway=False)
    G.add_edge(3, 2, key=0, length=1000.0, highway="residential", oneway=False)
    net = TravelNetwork.from_osmnx(G, CFG)
    assert net.n_edges == 3
    assert sorted(net.node_id.tolist()) == [1, 2, 3]
    e12 = [i for i in range(3) if net.node_id[net.edge_u[i]] == 1][0]
    assert net.time_s["drive"][e12] == pytest.approx(100.0)  # min of the list: 36 km/h
    od = od_costs(net, pts(A, B), pts(A, B, C), "drive")
    df = od.to_dataframe()
    assert df[(df.origin == 1) & (df.dest == 0)].empty  # no way back from 2 to 1


# ------------------------------------------------------------------ snapping


def test_snap_to_nearest_point_on_edge(triangle):
    s = snap(triangle, pts((300, 40), (800, -30), (5000, 5000)), max_snap_m=100)
    assert s.loc[0, "node"] == 0 and s.loc[0, "snap_m"] == pytest.approx(40)
    assert s.loc[0, "along_m"] == pytest.approx(300)
    assert s.loc[1, "node"] == 1 and s.loc[1, "along_m"] == pytest.approx(200)
    assert s.loc[2, "off_network"] and s.loc[2, "node"] == -1 and math.isnan(s.loc[2, "snap_m"])
    assert s["node"].dtype == np.int64


def test_snap_geographic_points_and_missing_crs(triangle):
    p = pts((300, 40)).to_crs("EPSG:4326")
    s = snap(triangle, p, 100)
    assert s.loc[0, "snap_m"] == pytest.approx(40, abs=1e-3)
    with pytest.raises(CRSError):
        snap(triangle, gpd.GeoDataFrame(geometry=[Point(0, 0)]), 100)


def test_access_time_added_both_ends(triangle):
    # (300, 40): 40 m off-road at 1 m/s + 300 m along A-B at 10 m/s = 70 s to A; A->C 200 s
    od = od_costs(triangle, pts((300, 40)), pts(C), "drive", off_road_speed_kph=OFF)
    assert od.time_s.tolist() == [pytest.approx(70 + 200)]
    assert od.dist_m.tolist() == [pytest.approx(340 + 2000)]


# ------------------------------------------------------------------ OD and direction


def test_one_way_direction_in_od(triangle):
    od = od_costs(triangle, pts(A, B, C), pts(A, B, C), "drive")
    m = od.to_csr().toarray()
    expected = np.array([[0, 100, 200], [400, 0, 100], [300, 100, 0]], dtype=float)
    assert np.array_equal(m, expected)
    assert od.to_csr().nnz == 9  # the three zero diagonals are explicit entries
    dist = od.to_csr("dist_m").toarray()
    assert dist[1, 0] == 4000 and dist[0, 1] == 1000
    und = od_costs(triangle, pts(A, B), pts(A, B), "drive", directed=False)
    assert und.to_csr().toarray()[1, 0] == 100  # only when asked


def test_nearest_direction_one_way(triangle):
    # village at B, station at A: station -> village 100 s; village -> station 400 s
    v, s = pts(B), pts(A)
    to_station = nearest(triangle, v, s, "drive")
    from_station = nearest(triangle, v, s, "drive", from_destinations=True)
    assert to_station.loc[0, "time_s_1"] == 400
    assert to_station.loc[0, "dist_m_1"] == 4000
    assert from_station.loc[0, "time_s_1"] == 100
    assert from_station.loc[0, "dist_m_1"] == 1000
    # k=2 path (od_costs engine) agrees
    k2 = nearest(triangle, v, pts(A, C), "drive", k=2, from_destinations=True)
    assert k2.loc[0, ["dest_1", "time_s_1", "dest_2", "time_s_2"]].tolist() == [0, 100.0, 1, 100.0] or \
        k2.loc[0, ["dest_1", "time_s_1", "dest_2", "time_s_2"]].tolist() == [1, 100.0, 0, 100.0]
    k2b = nearest(triangle, v, pts(A, C), "drive", k=2)
    assert k2b.loc[0, ["dest_1", "time_s_1", "dest_2", "time_s_2"]].tolist() == [1, 100.0, 0, 400.0]


def test_fastest_path_distance_vs_shortest_distance():
    # A-B direct: 1000 m track at 3.6 km/h (1000 s); A-D-B: 2 x 1000 m at 36 km/h (200 s)
    cfg = NetworkConfig(drive=ModeSpeeds(default_kph=36.0, by_class_kph={"track": 3.6}))
    r = roads([[A, B], [A, (500, 800)], [(500, 800), B]], road_class=["track", "p", "p"],
              length_m=[1000.0, 1000.0, 1000.0])
    net = TravelNetwork.from_roads(r, cfg)
    t = od_costs(net, pts(A), pts(B), "drive")
    assert (t.time_s[0], t.dist_m[0]) == (200.0, 2000.0)
    d = od_costs(net, pts(A), pts(B), "drive", weight="distance")
    assert (d.time_s[0], d.dist_m[0]) == (1000.0, 1000.0)
    assert len(od_costs(net, pts(A), pts(B), "drive", weight="distance", cutoff_m=999)) == 0


def test_cutoff_inclusive_and_covered_at_standard(triangle):
    od = od_costs(triangle, pts(A, B), pts(B, C), "drive", cutoff_s=200)
    df = od.to_dataframe()
    # A->B 100, A->C 200 (exactly the cutoff: kept), B->B 0, B->C 100; nothing beyond
    assert sorted(zip(df.origin, df.dest, df.time_s, strict=True)) == [
        (0, 0, 100.0), (0, 1, 200.0), (1, 0, 0.0), (1, 1, 100.0)]
    cov = od.within(200).toarray()
    assert cov.tolist() == [[True, True], [True, True]]
    assert od.within(199.999).toarray().tolist() == [[True, False], [True, True]]
    none = od_costs(triangle, pts(B), pts(A), "drive", cutoff_s=399)
    assert len(none) == 0  # B->A is 400 s


def test_candidate_exactly_on_village_is_covered_at_zero(triangle):
    # both 50 m off the road at the same place: straight line between them is 0 m
    v = pts((500, 50), (0, 0))
    c = pts((500, 50))
    od = od_costs(triangle, v, c, "drive", cutoff_s=900, off_road_speed_kph=OFF)
    df = od.to_dataframe()
    assert df.loc[df.origin == 0, "time_s"].tolist() == [0.0]
    assert df.loc[df.origin == 0, "dist_m"].tolist() == [0.0]
    cov = od.within(0.0)
    assert cov[0, 0] and cov.nnz == 1
    csr = od.to_csr()
    assert csr.nnz == 2 and csr[0, 0] == 0.0  # explicit zero kept
    assert od.to_csr(offset=1.0)[0, 0] == 1.0
    n = nearest(triangle, v, c, "drive", off_road_speed_kph=OFF)
    assert n.loc[0, "time_s_1"] == 0.0 and n.loc[0, "dest_1"] == 0


def test_disconnected_piece_unreachable_not_zero(triangle):
    r = roads([[A, B], [B, C], [C, A], [(10000, 0), (11000, 0)]], length_m=[1000.0, 1000.0, 3000.0, 1000.0],
              oneway=["yes", "no", "no", "no"])
    net = TravelNetwork.from_roads(r, CFG)
    villages = pts((10000, 0), A, (50000, 50000), B)
    sites = pts(C)
    od = od_costs(net, villages, sites, "drive", max_snap_m=100)
    assert sorted(od.origin.tolist()) == [1, 3]  # island village and off-network one absent
    res = nearest(net, villages, sites, "drive", max_snap_m=100, cutoff_s=150)
    assert res["reason"].tolist() == ["different component", "beyond cutoff", "off network", ""]
    assert res["dest_1"].tolist() == [-1, -1, -1, 0]
    assert np.isinf(res["time_s_1"].iloc[:3]).all() and res["time_s_1"].iloc[3] == 100
    # one-way: from B the site A is only reachable the long way; from an island never
    lab = component_of(net, villages, "drive", max_snap_m=100)
    assert lab.iloc[2] == -1 and lab.iloc[0] != lab.iloc[1]
    assert len(np.unique(components(net, "drive", "weak"))) == 2


def test_one_way_dead_end_is_different_component():
    # A -> B one-way only: from B nothing leads back to A
    net = TravelNetwork.from_roads(roads([[A, B]], oneway=["yes"]), CFG)
    res = nearest(net, pts(B), pts(A), "drive")
    assert res.loc[0, "reason"] == "different component"
    assert nearest(net, pts(B), pts(A), "drive", from_destinations=True).loc[0, "time_s_1"] == 100
    strong = components(net, "drive", "strong")
    assert strong[0] != strong[1]


def test_chunking_gives_same_result(triangle):
    p = pts(A, B, C, (300, 40), (900, 900))
    a = od_costs(triangle, p, p, "drive")
    b = od_costs(triangle, p, p, "drive", chunk_bytes=1)
    for f in ("origin", "dest", "time_s", "dist_m"):
        assert np.array_equal(getattr(a, f), getattr(b, f))


def test_pair_costs(triangle):
    out = pair_costs(triangle, pts(A, B), pts(A, C), [0, 1, 1], [1, 0, 1], "drive", first_limit_s=150)
    assert out["time_s"].tolist() == [200.0, 400.0, 100.0]


def test_cache_hit_returns_identical(triangle, tmp_path, monkeypatch):
    p = pts(A, B, C, (300, 40))
    a = od_costs(triangle, p, p, "drive", cutoff_s=500, cache_dir=tmp_path)
    files = list(tmp_path.glob("*.npz"))
    assert len(files) == 1

    def boom(*args, **kwargs):
        raise AssertionError("shortest-path search called on a cache hit")

    monkeypatch.setattr(netmod, "_search", boom)
    b = od_costs(triangle, p, p, "drive", cutoff_s=500, cache_dir=tmp_path)
    for f in ("origin", "dest", "time_s", "dist_m"):
        assert np.array_equal(getattr(a, f), getattr(b, f))
    with pytest.raises(AssertionError, match="cache hit"):  # another cutoff is another key
        od_costs(triangle, p, p, "drive", cutoff_s=400, cache_dir=tmp_path)


# ------------------------------------------------------------------ property: equals networkx


@st.composite
def random_graphs(draw):
    n = draw(st.integers(2, 7))
    m = draw(st.integers(1, 14))
    edges = []
    for _ in range(m):
        u = draw(st.integers(0, n - 1))
        v = draw(st.integers(0, n - 1).filter(lambda x, u=u: x != u))
        length = draw(st.integers(1, 50)) * 10.0
        ow = draw(st.sampled_from(["yes", "no", "-1"]))
        edges.append((u, v, length, ow))
    cutoff = draw(st.one_of(st.none(), st.integers(0, 150).map(float)))
    return n, edges, cutoff


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_graphs())
def test_od_equals_networkx_dijkstra(g):
    n, edges, cutoff = g
    xy = [(i * 100.0, (i % 3) * 100.0) for i in range(n)]
    r = gpd.GeoDataFrame(
        {"u": [e[0] for e in edges], "v": [e[1] for e in edges], "length_m": [e[2] for e in edges],
         "oneway": [e[3] for e in edges]},
        geometry=[LineString([xy[e[0]], xy[e[1]]]) for e in edges], crs=CRS)
    net = TravelNetwork.from_roads(r, CFG)
    G = nx.DiGraph()
    for u, v, length, ow in edges:
        for a, b in ([(u, v)] if ow == "yes" else [(v, u)] if ow == "-1" else [(u, v), (v, u)]):
            if not G.has_edge(a, b) or G[a][b]["t"] > length / 10:
                G.add_edge(a, b, t=length / 10)
    used = sorted(set(r["u"]) | set(r["v"]))
    pos = {nid: i for i, nid in enumerate(net.node_id.tolist())}
    p = snap_frame(net, used)
    od = od_costs(net, p, p, "drive", cutoff_s=cutoff)
    got = {(used[o], used[d]): t for o, d, t in zip(od.origin, od.dest, od.time_s, strict=True)}
    want = {}
    for s in used:
        for t, val in nx.single_source_dijkstra_path_length(G, s, cutoff=cutoff, weight="t").items():
            want[(s, t)] = val
    assert got.keys() == want.keys()
    for k in want:
        assert got[k] == pytest.approx(want[k])
    # nearest (k=1, min_only path) agrees with the minimum over destinations
    dests = used[1:]
    if dests:
        res = nearest(net, p, snap_frame(net, dests), "drive", cutoff_s=cutoff)
        for i, s in enumerate(used):
            best = min((want[(s, d)] for d in dests if (s, d) in want), default=math.inf)
            assert res["time_s_1"].iloc[i] == pytest.approx(best)
    assert pos  # ids kept


def snap_frame(net, node_ids):
    pos = {nid: i for i, nid in enumerate(net.node_id.tolist())}
    nodes = np.array([pos[x] for x in node_ids], dtype=np.int64)
    return pd.DataFrame({"node": nodes, "snap_m": 0.0, "along_m": 0.0, "edge": -1,
                         "off_network": False, "x": net.node_x[nodes], "y": net.node_y[nodes]})


def grid_network(n=20, spacing=100.0, seed=1):
    rng = np.random.default_rng(seed)
    ii, jj = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    node = ii * n + jj
    x, y = (jj * spacing).ravel(), (ii * spacing).ravel()
    u = np.concatenate([node[:, :-1].ravel(), node[:-1, :].ravel()])
    v = np.concatenate([node[:, 1:].ravel(), node[1:, :].ravel()])
    length = spacing * rng.uniform(1.0, 1.5, len(u))
    oneway = rng.choice(["no", "yes", "-1"], size=len(u), p=[0.8, 0.1, 0.1])
    r = gpd.GeoDataFrame({"u": u, "v": v, "length_m": length, "oneway": oneway},
                         geometry=[LineString([(x[a], y[a]), (x[b], y[b])]) for a, b in zip(u, v, strict=True)],
                         crs=CRS)
    G = nx.DiGraph()
    for a, b, ln, ow in zip(u, v, length, oneway, strict=True):
        for p_, q_ in ([(a, b)] if ow == "yes" else [(b, a)] if ow == "-1" else [(a, b), (b, a)]):
            G.add_edge(int(p_), int(q_), t=ln / 10, d=ln)
    return TravelNetwork.from_roads(r, CFG), G


def test_small_cutoff_search_equals_networkx():
    """Small cutoff: each source reaches a few nodes; time and distance along path agree."""
    net, G = grid_network()
    rng = np.random.default_rng(7)
    nodes = rng.choice(net.n_nodes, size=150, replace=False)
    p = snap_frame(net, net.node_id[nodes].tolist())
    od = od_costs(net, p, p, "drive", cutoff_s=40.0)
    ids = net.node_id[nodes]
    got = {(int(ids[o]), int(ids[d])): (t, m) for o, d, t, m in zip(od.origin, od.dest, od.time_s, od.dist_m, strict=True)}
    want = {}
    for s in ids.tolist():
        dist, path = nx.single_source_dijkstra(G, s, cutoff=40.0, weight="t")
        for t in set(ids.tolist()) & set(dist):
            pth = path[t]
            want[(s, t)] = (dist[t], sum(G[a][b]["d"] for a, b in zip(pth[:-1], pth[1:], strict=True)))
    assert got.keys() == want.keys()
    for k, (t, m) in want.items():
        assert got[k][0] == pytest.approx(t)
        assert got[k][1] == pytest.approx(m)  # distance along the fastest path


def test_nearest_distance_along_path_matches_od():
    net, G = grid_network(12, seed=3)
    p = snap_frame(net, list(range(0, net.n_nodes, 7)))
    d = snap_frame(net, [5, 77, 130])
    near = nearest(net, p, d, "drive")
    od = od_costs(net, p, d, "drive").to_dataframe()
    best = od.sort_values(["origin", "time_s"]).drop_duplicates("origin").set_index("origin")
    reached = near["dest_1"] >= 0
    assert reached.sum() == len(best)
    for i in np.flatnonzero(reached):
        assert near["time_s_1"].iloc[i] == pytest.approx(best.loc[i, "time_s"])
        assert near["dist_m_1"].iloc[i] == pytest.approx(best.loc[i, "dist_m"])
    back = nearest(net, p, d, "drive", from_destinations=True)
    od2 = od_costs(net, d, p, "drive").to_dataframe()
    best2 = od2.sort_values(["dest", "time_s"]).drop_duplicates("dest").set_index("dest")
    for i in best2.index:
        assert back["time_s_1"].iloc[i] == pytest.approx(best2.loc[i, "time_s"])
        assert back["dist_m_1"].iloc[i] == pytest.approx(best2.loc[i, "dist_m"])


def test_nearest_without_destinations(triangle):
    res = nearest(triangle, pts(A, B), pts((9000, 9000)), "drive", max_snap_m=10)
    assert res["reason"].tolist() == ["no destination on the network"] * 2
    assert res["dest_1"].tolist() == [-1, -1]
    empty = od_costs(triangle, pts(A), pts((9000, 9000)), "drive", max_snap_m=10)
    assert len(empty) == 0 and empty.to_csr().shape == (1, 1) and empty.within(10).nnz == 0


def test_other_quantity_cutoff_is_exact_and_limited(monkeypatch):
    """cutoff_m with weight="time" limits the search but loses no pair."""
    net, _ = grid_network(15, seed=5)
    p = snap_frame(net, list(range(0, net.n_nodes, 3)))
    full = od_costs(net, p, p, "drive").to_dataframe()
    seen = []
    real = netmod._search

    def spy(g, sources, tgt_of, lim):
        seen.append(lim)
        return real(g, sources, tgt_of, lim)

    monkeypatch.setattr(netmod, "_search", spy)
    for cut in (150.0, 420.0):
        got = od_costs(net, p, p, "drive", cutoff_m=cut).to_dataframe().reset_index(drop=True)
        want = full[full.dist_m <= cut].reset_index(drop=True)
        pd.testing.assert_frame_equal(got, want)
        got_d = od_costs(net, p, p, "drive", weight="distance", cutoff_s=cut / 10).to_dataframe()
        assert (got_d.time_s <= cut / 10).all() and len(got_d) > 0
    assert seen and all(np.isfinite(x) for x in seen)


def test_bad_edge_named_with_original_node_ids():
    r = roads([[A, B], [B, C]], u=["osm1", "osm2"], v=["osm2", "osm3"], length_m=[1000.0, np.nan])
    with pytest.raises(NetworkError, match=r"edge 1 \(road row 1, u=osm2, v=osm3\)"):
        TravelNetwork.from_roads(r, CFG)


# ------------------------------------------------------------------ numba kernel vs scipy / networkx


def random_road_network(seed, n_core=25, integer=True):
    """Random directed network with chains (subdivided roads), dead-end trees and one-ways.

    Returns (net, edges) with edges = list of (u, v, length_m, oneway) in node ids.
    """
    rng = np.random.default_rng(seed)
    xy = {i: (float(rng.uniform(0, 5000)), float(rng.uniform(0, 5000))) for i in range(n_core)}
    nxt = n_core

    def length():
        return float(rng.integers(1, 40) * 10.0) if integer else float(rng.uniform(5.0, 400.0))

    edges = []
    for _ in range(2 * n_core):  # core roads, some subdivided into chains of 1-3 extra nodes
        a, b = (int(x) for x in rng.choice(n_core, 2, replace=False))
        ow = str(rng.choice(["no", "no", "yes", "-1"]))
        path = [a]
        for _k in range(int(rng.integers(0, 4))):
            xy[nxt] = (float(rng.uniform(0, 5000)), float(rng.uniform(0, 5000)))
            path.append(nxt)
            nxt += 1
        path.append(b)
        for p, q in zip(path[:-1], path[1:], strict=True):
            # a chain keeps its direction, but a step may be one-way on its own too
            edges.append((p, q, length(), ow if rng.random() < 0.8 else str(rng.choice(["no", "yes"]))))
    for _ in range(n_core // 2):  # dead-end trees
        root = int(rng.integers(0, nxt))
        for _k in range(int(rng.integers(1, 4))):
            xy[nxt] = (float(rng.uniform(0, 5000)), float(rng.uniform(0, 5000)))
            edges.append((root, nxt, length(), str(rng.choice(["no", "no", "yes"]))))
            root = nxt if rng.random() < 0.7 else root
            nxt += 1
    r = gpd.GeoDataFrame(
        {"u": [e[0] for e in edges], "v": [e[1] for e in edges], "length_m": [e[2] for e in edges],
         "oneway": [e[3] for e in edges]},
        geometry=[LineString([xy[e[0]], xy[e[1]]]) for e in edges], crs=CRS)
    return TravelNetwork.from_roads(r, CFG), edges


def reference_graph(edges):
    """networkx DiGraph of the drive network: attributes t (s, 10 m/s) and d (m); min time."""
    G = nx.DiGraph()
    for u, v, ln, ow in edges:
        for a, b in ([(u, v)] if ow == "yes" else [(v, u)] if ow == "-1" else [(u, v), (v, u)]):
            if not G.has_edge(a, b) or (ln / 10, ln) < (G[a][b]["t"], G[a][b]["d"]):
                G.add_edge(a, b, t=ln / 10, d=ln)
    return G


@pytest.mark.parametrize("seed", range(8))
def test_kernel_od_equals_scipy_at_cutoff_boundary(seed):
    """Integer seconds: every sum is exact, so a pair exactly at the cutoff must be kept."""
    from scipy.sparse.csgraph import dijkstra as sp_dijkstra

    net, edges = random_road_network(seed, integer=True)
    rng = np.random.default_rng(100 + seed)
    ids = net.node_id.tolist()
    orig = sorted(rng.choice(ids, size=max(2, len(ids) // 5), replace=False).tolist())
    dest = sorted(rng.choice(ids, size=max(2, len(ids) // 4), replace=False).tolist())
    g = net._graph("drive", "time", False, True)
    pos = {nid: i for i, nid in enumerate(ids)}
    D = sp_dijkstra(g.csr, directed=True, indices=[pos[o] for o in orig])
    sub = D[:, [pos[d] for d in dest]]
    fin = np.sort(sub[np.isfinite(sub) & (sub > 0)])
    assert len(fin) > 5
    cutoff = float(fin[len(fin) // 2])  # an attained value: the boundary pair is present
    od = od_costs(net, snap_frame(net, orig), snap_frame(net, dest), "drive", cutoff_s=cutoff)
    got = {(o, d): t for o, d, t in zip(od.origin.tolist(), od.dest.tolist(), od.time_s.tolist(), strict=True)}
    want = {(i, j): sub[i, j] for i in range(len(orig)) for j in range(len(dest)) if sub[i, j] <= cutoff}
    assert got.keys() == want.keys()
    assert any(v == cutoff for v in got.values())
    for k, v in want.items():
        assert got[k] == v  # integer seconds: exact
    # the same search from the other side (more origins than destinations -> transposed graph)
    od2 = od_costs(net, snap_frame(net, dest), snap_frame(net, orig), "drive", cutoff_s=cutoff,
                   directed=True)
    D2 = sp_dijkstra(g.csr, directed=True, indices=[pos[d] for d in dest])[:, [pos[o] for o in orig]]
    want2 = {(i, j) for i in range(len(dest)) for j in range(len(orig)) if D2[i, j] <= cutoff}
    assert set(zip(od2.origin.tolist(), od2.dest.tolist(), strict=True)) == want2


@pytest.mark.parametrize("seed", range(6))
def test_kernel_od_and_distance_along_path_equal_networkx(seed):
    """Float lengths (no ties): time and the distance along the fastest path, one-ways."""
    net, edges = random_road_network(seed, integer=False)
    G = reference_graph(edges)
    rng = np.random.default_rng(200 + seed)
    ids = net.node_id.tolist()
    orig = sorted(rng.choice(ids, size=8, replace=False).tolist())
    dest = sorted(rng.choice(ids, size=12, replace=False).tolist())
    for cutoff in (None, 60.0):
        od = od_costs(net, snap_frame(net, orig), snap_frame(net, dest), "drive", cutoff_s=cutoff)
        got = {(orig[o], dest[d]): (t, m) for o, d, t, m in
               zip(od.origin.tolist(), od.dest.tolist(), od.time_s.tolist(), od.dist_m.tolist(), strict=True)}
        want = {}
        for s in orig:
            dist, path = nx.single_source_dijkstra(G, s, cutoff=cutoff, weight="t")
            for t in set(dest) & set(dist):
                p = path[t]
                want[(s, t)] = (dist[t], sum(G[a][b]["d"] for a, b in zip(p[:-1], p[1:], strict=True)))
        assert got.keys() == want.keys()
        for k, (t, m) in want.items():
            assert got[k][0] == pytest.approx(t, rel=1e-12)
            assert got[k][1] == pytest.approx(m, rel=1e-12)
        # weight="distance": shortest paths, time measured along them
        odd = od_costs(net, snap_frame(net, orig), snap_frame(net, dest), "drive", weight="distance",
                       cutoff_m=None if cutoff is None else cutoff * 10)
        gd = {(orig[o], dest[d]): m for o, d, m in zip(odd.origin.tolist(), odd.dest.tolist(), odd.dist_m.tolist(),
                                                        strict=True)}
        wd = {}
        for s in orig:
            dist = nx.single_source_dijkstra_path_length(G, s, cutoff=None if cutoff is None else cutoff * 10,
                                                         weight="d")
            wd.update({(s, t): dist[t] for t in set(dest) & set(dist)})
        assert gd.keys() == wd.keys()
        assert all(gd[k] == pytest.approx(wd[k], rel=1e-12) for k in wd)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("from_destinations", [False, True])
def test_kernel_nearest_equals_networkx_multi_source(seed, from_destinations):
    net, edges = random_road_network(seed, integer=False)
    G = reference_graph(edges)
    if not from_destinations:
        G = G.reverse(copy=True)  # origin -> destination = search from destinations backwards
    rng = np.random.default_rng(300 + seed)
    ids = net.node_id.tolist()
    orig = sorted(rng.choice(ids, size=15, replace=False).tolist())
    dest = sorted(rng.choice(ids, size=4, replace=False).tolist())
    res = nearest(net, snap_frame(net, orig), snap_frame(net, dest), "drive",
                  from_destinations=from_destinations)
    dmin = nx.multi_source_dijkstra_path_length(G, set(dest), weight="t")
    for i, o in enumerate(orig):
        want = dmin.get(o, math.inf)
        assert res["time_s_1"].iloc[i] == pytest.approx(want, rel=1e-12)
        if math.isfinite(want):
            d = dest[res["dest_1"].iloc[i]]
            assert nx.dijkstra_path_length(G, d, o, weight="t") == pytest.approx(want, rel=1e-12)
        else:
            assert res["dest_1"].iloc[i] == -1


def test_equal_time_tie_reports_shorter_path():
    """Documented tie rule: among equally fast paths, the shortest distance is reported."""
    cfg = NetworkConfig(drive=ModeSpeeds(default_kph=36.0, by_class_kph={"fast": 54.0}))
    # A -> B via (500, 500): 2 x 1000 m at 10 m/s = 200 s; via (500, -500): 2 x 1500 m at 15 m/s = 200 s
    r = roads([[A, (500, 500)], [(500, 500), B], [A, (500, -500)], [(500, -500), B]],
              road_class=["slow", "slow", "fast", "fast"], length_m=[1000.0, 1000.0, 1500.0, 1500.0])
    net = TravelNetwork.from_roads(r, cfg)
    for mid in ([(500, 500)], [(500, -500)], []):  # mid nodes kept or bridged as a chain
        od = od_costs(net, pts(A, *mid), pts(B), "drive")
        assert (od.time_s[0], od.dist_m[0]) == (200.0, 2000.0)
    near = nearest(net, pts(A), pts(B), "drive")
    assert (near.loc[0, "time_s_1"], near.loc[0, "dist_m_1"]) == (200.0, 2000.0)
    # two equally near destinations: the lower position wins
    two = nearest(net, pts(A), pts(B, B), "drive")
    assert two.loc[0, "dest_1"] == 0


def test_contract_bridges_chains_and_drops_dead_ends():
    # 0 - 1 - 2 - 3 chain (1, 2 interior), 3 - 4 one-way chain step 4 -> 3, 2 - 5 - 6 dead end
    r = roads([[(0, 0), (100, 0)], [(100, 0), (200, 0)], [(200, 0), (300, 0)], [(300, 0), (400, 0)],
               [(400, 0), (0, 0)], [(200, 0), (200, 100)], [(200, 100), (200, 200)]],
              u=[0, 1, 2, 3, 4, 2, 5], v=[1, 2, 3, 4, 0, 5, 6], length_m=[100.0, 100.0, 100.0, 100.0, 400.0, 50.0, 50.0],
              oneway=["no", "no", "no", "-1", "no", "no", "no"])
    net = TravelNetwork.from_roads(r, CFG)
    g = net._graph("drive", "distance", False, True)
    ptr, idx, w1, w2, leaf, new_id = netmod._contract(g, np.array([0, 3]))
    assert (new_id >= 0).tolist() == [True, False, False, True, False, False, False]
    a, b = new_id[0], new_id[3]
    out = {(int(x), int(idx[e])): w1[e] for x in range(len(ptr) - 1) for e in range(ptr[x], ptr[x + 1])}
    # 0 <-> 3 along 1, 2 (300 m both ways); 3 -> 4 is not allowed, so 3 -> 0 only via the chain
    # and 0 -> 3 also via 4 -> 3 (400 + 100 = 500 m, the longer parallel edge is dropped)
    assert out == {(a, b): 300.0, (b, a): 300.0}
    keep6 = netmod._contract(g, np.array([0, 6]))[5]
    assert keep6[6] >= 0 and keep6[5] < 0  # the dead end leading to a kept node stays (bridged)


@pytest.mark.parametrize("seed", range(6))
def test_parallel_pruned_od_equals_serial_and_networkx(seed, monkeypatch):
    """Threaded searches (blocks of sources) and target-distance pruning change nothing.

    Integer lengths (exact sums), one-way roads and chains, cutoff at an attained value so
    that boundary pairs exist; both search sides (more origins or more destinations).
    """
    net, edges = random_road_network(seed, n_core=40, integer=True)
    G = reference_graph(edges)
    rng = np.random.default_rng(400 + seed)
    ids = net.node_id.tolist()
    orig = sorted(rng.choice(ids, size=len(ids) // 2, replace=False).tolist())
    dest = sorted(rng.choice(ids, size=len(ids) // 3, replace=False).tolist())
    want = {}
    for s in orig:
        for t, val in nx.single_source_dijkstra_path_length(G, s, weight="t").items():
            if t in set(dest):
                want[(s, t)] = val
    fin = sorted(v for v in want.values() if v > 0)
    cutoff = float(fin[len(fin) // 3])

    def run(threads, prune, o=orig, d=dest, **kw):
        monkeypatch.setattr(netmod, "THREADS", threads)
        monkeypatch.setattr(netmod, "_MIN_PARALLEL_SOURCES", 1)
        monkeypatch.setattr(netmod, "_MIN_PRUNE_SOURCES", 1 if prune else 10**9)
        return od_costs(net, snap_frame(net, o), snap_frame(net, d), "drive", **kw)

    for o, d in ((orig, dest), (dest, orig)):
        for kw in ({"cutoff_s": cutoff}, {"cutoff_s": None}, {"weight": "distance", "cutoff_m": cutoff * 10},
                   {"cutoff_m": cutoff * 10}):
            ref = run(1, False, o, d, **kw)
            for threads, prune in ((1, True), (2, False), (3, True)):
                got = run(threads, prune, o, d, **kw)
                for a in ("origin", "dest", "time_s", "dist_m"):
                    assert np.array_equal(getattr(got, a), getattr(ref, a)), (threads, prune, kw, a)
    # and the serial result is networkx's, boundary pairs included
    od = run(3, True, cutoff_s=cutoff)
    got = {(orig[i], dest[j]): t for i, j, t in zip(od.origin.tolist(), od.dest.tolist(), od.time_s.tolist(),
                                                    strict=True)}
    assert got == {k: v for k, v in want.items() if v <= cutoff}
    assert any(v == cutoff for v in got.values())


def test_n_threads_setting(monkeypatch):
    monkeypatch.setattr(netmod, "THREADS", None)
    monkeypatch.setenv("SITEPLAN_THREADS", "3")
    assert netmod.n_threads() == 3
    monkeypatch.setattr(netmod, "THREADS", 1)
    assert netmod.n_threads() == 1
    monkeypatch.setattr(netmod, "THREADS", None)
    monkeypatch.setenv("SITEPLAN_THREADS", "many")
    with pytest.raises(ValueError, match="SITEPLAN_THREADS"):
        netmod.n_threads()
    monkeypatch.delenv("SITEPLAN_THREADS")
    import numba

    assert netmod.n_threads() == numba.get_num_threads()


def _multi_reference(g, seeds, d1, d2, lab, lim, query):
    """The multi-source search on the whole graph reduced for these nodes (no core)."""
    c_ptr, c_idx, c_w1, c_w2, c_leaf, new_id = netmod._contract(g, np.concatenate([seeds, query]))
    a, b, c = netmod._multi_kernel(c_ptr, c_idx, c_w1, c_w2, c_leaf, new_id[seeds], d1, d2, lab, float(lim))
    q = new_id[query]
    return a[q], b[q], c[q]


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("integer", [True, False])
def test_core_search_equals_whole_graph_search(seed, integer):
    """The point-independent core (pieces with a seed restored, other queries read from their
    piece's boundary) gives the same times, distances along the path and labels, ties included,
    as the search on the graph reduced for the call; seeds and queries often share a chain or a
    dead-end tree, and some sit on other components."""
    net, _ = random_road_network(seed, n_core=12 + seed, integer=integer)
    rng = np.random.default_rng(900 + seed)
    for reverse in (False, True):
        g = net._graph("drive", "time", reverse, True)
        core = g.core
        removed = np.flatnonzero(core.core_id < 0)
        assert len(removed)  # chains and trees exist, so the core path is exercised
        for n_seed in (1, 3, 8):
            seeds = rng.choice(g.n, size=n_seed, replace=False).astype(np.int64)
            query = np.unique(np.concatenate([rng.choice(g.n, size=g.n // 2, replace=False),
                                              rng.choice(removed, size=min(len(removed), 6), replace=False)]))
            d1 = rng.integers(0, 3, n_seed).astype(float) * (1.0 if integer else rng.uniform(0.5, 1.5))
            d2 = d1 * 10
            lab = rng.permutation(n_seed).astype(np.int64)
            for lim in (np.inf, 40.0):
                got = netmod._search_multi(g, seeds, d1, d2, lab, lim, query)
                want = _multi_reference(g, seeds, d1, d2, lab, lim, query)
                np.testing.assert_allclose(got[0], want[0], rtol=1e-12)
                np.testing.assert_allclose(got[1], want[1], rtol=1e-12)
                if integer:  # exact sums: ties must break the same way (then the label)
                    np.testing.assert_array_equal(got[2], want[2])
                else:
                    assert np.array_equal(np.isfinite(got[0]), want[2] >= 0)


def test_core_components_have_at_most_two_boundary_nodes():
    net, _ = random_road_network(3, n_core=40)
    core = net._graph("drive", "time", False, True).core
    nb = np.diff(core.bnd_ptr)
    assert nb.max() <= 2 and (nb == 2).any() and (nb == 1).any()
    assert np.array_equal(np.sort(core.comp_nodes), np.flatnonzero(core.core_id < 0))


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("prune", [False, True])
def test_core_od_search_equals_scipy(seed, prune, monkeypatch):
    """The OD searches on the core (sources and targets inside chains and dead-end trees put
    onto it, paths inside one piece searched there) give every pair scipy finds on the whole
    graph, with the same distance (integer weights: exact, the cutoff boundary included)."""
    from scipy.sparse.csgraph import dijkstra as sp_dijkstra

    if prune:
        monkeypatch.setattr(netmod, "_MIN_PRUNE_SOURCES", 1)
        monkeypatch.setattr(netmod, "_MIN_PARALLEL_SOURCES", 1)
    net, _ = random_road_network(seed, n_core=10 + seed, integer=True)
    rng = np.random.default_rng(700 + seed)
    for reverse in (False, True):
        g = net._graph("drive", "time", reverse, True)
        removed = np.flatnonzero(g.core.core_id < 0)
        src = np.unique(np.concatenate([rng.choice(g.n, size=g.n // 3, replace=False),
                                        rng.choice(removed, size=min(len(removed), 8), replace=False)]))
        tgt = np.unique(np.concatenate([rng.choice(g.n, size=g.n // 3, replace=False),
                                        rng.choice(removed, size=min(len(removed), 8), replace=False)]))
        tgt_of = np.full(g.n, -1, dtype=np.int64)
        tgt_of[tgt] = np.arange(len(tgt))
        D = sp_dijkstra(g.csr, directed=True, indices=src)[:, tgt]
        fin = np.sort(D[np.isfinite(D)])
        for lim in (np.inf, float(fin[len(fin) // 2])):
            a, b, d1, d2 = netmod._search(g, src, tgt_of, lim)
            got = {(int(x), int(y)): v for x, y, v in zip(a, b, d1, strict=True)}
            assert len(got) == len(a)  # one row per pair
            want = {(i, j): D[i, j] for i, j in zip(*np.nonzero(np.isfinite(D) & (D <= lim)), strict=True)}
            assert got == want
