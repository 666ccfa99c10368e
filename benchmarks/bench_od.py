"""Benchmark: siteplan OD costs and nearest-station vs networkx and pandana.

A seeded synthetic mountain-county-like network (perturbed 245 x 245 grid, 520 m spacing,
random bond removal and diagonals, 5 % one-way, road length = 1.3 x straight line), with
2,500 villages, 3,000 candidate sites and 60 police stations at random points.

Measured in the same run:
1. OD villages -> candidates within 15 km network distance:
   siteplan ``od_costs(weight="distance", cutoff_m=15000)`` vs a networkx
   ``single_source_dijkstra_path_length(cutoff=15000)`` loop (one call per distinct village
   node) vs pandana ``Network.nodes_in_range(nodes, 15000)`` (contraction hierarchies;
   construction timed separately).
2. Nearest police station to every village, station -> village direction, by time:
   siteplan ``nearest(k=1, from_destinations=True)`` vs networkx
   ``multi_source_dijkstra_path_length`` (distances only) + a pass to find which station.

Threads: siteplan's OD searches run in blocks of sources on ``siteplan.network.n_threads()``
threads (``numba.get_num_threads()`` unless ``SITEPLAN_THREADS`` or ``THREADS`` says
otherwise); the script prints that number and also times the OD with one thread. The
networkx baseline is single-threaded (pure Python), and so is siteplan's nearest (one
multi-source search). Ratios against networkx with more than one thread are therefore
not like for like; the one-thread OD row is.

siteplan's searches are numba-compiled kernels: their one-time compile cost is reported
separately (a fresh process with an empty numba cache), and they are warmed up before the
timed runs, as the networkx and pandana graphs are built before theirs.

Points are snapped once (timed separately) and all three tools get the same snapped
nodes; the networkx/pandana results are checked against siteplan's node-to-node
distances. Peak memory: ``tracemalloc`` peak per step (numpy allocations are traced) and
the process peak RSS at the end.

Run:  python benchmarks/bench_od.py [--small] [--seed N]
"""

from __future__ import annotations

import argparse
import gc
import resource
import sys
import time
import tracemalloc

import numpy as np
import pandas as pd


def build(n_side: int, seed: int):
    import geopandas as gpd
    import shapely

    from siteplan.network import TravelNetwork
    from siteplan.scenario import ModeSpeeds, NetworkConfig

    rng = np.random.default_rng(seed)
    spacing = 520.0
    ii, jj = np.meshgrid(np.arange(n_side), np.arange(n_side), indexing="ij")
    x = jj.ravel() * spacing + rng.uniform(-150, 150, ii.size)
    y = ii.ravel() * spacing + rng.uniform(-150, 150, ii.size)
    node = (ii * n_side + jj)
    pairs = [
        (node[:, :-1].ravel(), node[:, 1:].ravel(), 0.55),   # east
        (node[:-1, :].ravel(), node[1:, :].ravel(), 0.55),   # north
        (node[:-1, :-1].ravel(), node[1:, 1:].ravel(), 0.06),  # diagonals
        (node[1:, :-1].ravel(), node[:-1, 1:].ravel(), 0.06),
    ]
    us, vs = [], []
    for a, b, p in pairs:
        keep = rng.random(a.size) < p
        us.append(a[keep])
        vs.append(b[keep])
    u = np.concatenate(us)
    v = np.concatenate(vs)
    length = np.hypot(x[u] - x[v], y[u] - y[v]) * 1.3
    oneway = np.where(rng.random(u.size) < 0.05, "yes", "no")
    cls = rng.choice(["county_road", "township_road", "village_road"], size=u.size, p=[0.15, 0.35, 0.5])
    geom = shapely.linestrings(np.stack([np.c_[x[u], y[u]], np.c_[x[v], y[v]]], axis=1))
    roads = gpd.GeoDataFrame({"u": u, "v": v, "length_m": length, "oneway": oneway, "road_class": cls},
                             geometry=geom, crs="EPSG:32648")
    cfg = NetworkConfig(drive=ModeSpeeds(default_kph=20.0, by_class_kph={
        "county_road": 30.0, "township_road": 20.0, "village_road": 20.0}))
    net = TravelNetwork.from_roads(roads, cfg)
    ext = n_side * spacing

    def rand_pts(k):
        return gpd.GeoDataFrame(geometry=gpd.points_from_xy(rng.uniform(0, ext, k), rng.uniform(0, ext, k)),
                                crs="EPSG:32648")

    return net, rand_pts


_COMPILE_PROBE = """
import time, geopandas as gpd
from shapely.geometry import LineString, Point
t0 = time.perf_counter()
from siteplan.network import TravelNetwork, nearest, od_costs
t1 = time.perf_counter()
r = gpd.GeoDataFrame(geometry=[LineString([(0, 0), (1000, 0)]), LineString([(1000, 0), (1000, 900)])],
                     crs="EPSG:32648")
net = TravelNetwork.from_roads(r)
p = gpd.GeoDataFrame(geometry=[Point(0, 0), Point(1000, 900)], crs="EPSG:32648")
t2 = time.perf_counter()
od_costs(net, p, p, "drive", cutoff_s=600)
nearest(net, p, p, "drive")
t3 = time.perf_counter()
od_costs(net, p, p, "drive", cutoff_s=600)
nearest(net, p, p, "drive")
t4 = time.perf_counter()
print(t1 - t0, t3 - t2, t4 - t3)
"""


def compile_cost() -> tuple[float, float, float]:
    """(import s, first od_costs + nearest s, second s) in a fresh process, empty numba cache."""
    import os
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, NUMBA_CACHE_DIR=tmp)
        out = subprocess.run([sys.executable, "-c", _COMPILE_PROBE], env=env, check=True,
                             capture_output=True, text=True).stdout.split()
    return float(out[0]), float(out[1]), float(out[2])


class Step:
    """Wall time of a block (no tracing: tracemalloc slows Python-heavy code a lot)."""

    def __init__(self, name: str):
        self.name = name
        self.peak = 0

    def __enter__(self):
        gc.collect()
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.t0
        print(f"  {self.name:<48s} {self.seconds:9.3f} s", flush=True)
        return False


def timed(name: str, fn, repeat: int):
    """Run fn `repeat` times; print and return (last result, best wall time in seconds).

    As :mod:`timeit` does, the garbage collector is off during each run (for every tool
    alike); it is not run between the runs, so a short call is timed with the caches its
    previous run left, as in a loop of calls.
    """
    best, res, first = np.inf, None, None
    gc.collect()
    for _ in range(repeat):
        gc.disable()
        try:
            t0 = time.perf_counter()
            res = fn()
            dt = time.perf_counter() - t0
            best = min(best, dt)
            first = dt if first is None else first
        finally:
            gc.enable()
    print(f"  {name:<48s} {best:9.4f} s  (best of {repeat}; first, caches cold after a gc pass: {first:.4f} s)",
          flush=True)
    return res, best


def traced_peak(fn) -> float:
    """tracemalloc peak (MB) of one call of fn (a separate, untimed run)."""
    gc.collect()
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def guangyuan_case():
    """The embedded Guangyuan default: its road network, villages, candidate sites (existing
    care sites, schools and village committees, as the main job generates them) and police
    stations, snapped as the main job snaps them (``drive`` mode)."""
    from siteplan import pipeline as P
    from siteplan.network import TravelNetwork
    from siteplan.scenario import load_scenario

    sc = load_scenario()
    inp = P.load_inputs(sc)
    net = TravelNetwork.from_roads(inp.roads, sc.network, crs=inp.work_crs)
    fac = inp.facilities
    kinds = fac["facility_type"].astype(str)
    cands = fac[kinds != "police"].reset_index(drop=True)
    stations = fac[kinds == "police"].reset_index(drop=True)
    return net, inp.villages.reset_index(drop=True), cands, stations, sc.network.max_snap_m


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--small", action="store_true", help="quick run (60 x 60 grid, few points)")
    ap.add_argument("--seed", type=int, default=20261129)
    ap.add_argument("--no-pandana", action="store_true")
    ap.add_argument("--repeat", type=int, default=3, help="best of N runs per timing (default 3)")
    ap.add_argument("--case", choices=["synthetic", "guangyuan", "both"], default="both",
                    help="the synthetic network, the embedded Guangyuan default, or both (default)")
    a = ap.parse_args(argv)
    import os

    from siteplan.network import n_threads

    print(f"siteplan OD benchmark (seed {a.seed}{', --small' if a.small else ''})")
    print(f"  siteplan threads for OD searches: {n_threads()} (os.cpu_count() {os.cpu_count()}, "
          f"SITEPLAN_THREADS={os.environ.get('SITEPLAN_THREADS', 'unset')}); networkx: 1 thread; "
          f"load average {os.getloadavg()[0]:.2f}")
    t_imp, t_cold, t_warm = compile_cost()
    print(f"  numba kernels, fresh process, empty cache: first od_costs + nearest {t_cold:.2f} s "
          f"(compile), second {t_warm:.3f} s; import siteplan.network {t_imp:.2f} s")
    if a.case in ("synthetic", "both"):
        n_side, n_v, n_c, n_s = (60, 300, 400, 10) if a.small else (245, 2500, 3000, 60)
        print(f"\n=== synthetic network ({n_side} x {n_side} grid)")
        with Step("build TravelNetwork.from_roads"):
            net, rand_pts = build(n_side, a.seed)
        run_case(net, rand_pts(n_v), rand_pts(n_c), rand_pts(n_s), 3000.0, a, t_cold, targets=not a.small)
    if a.case in ("guangyuan", "both"):
        print("\n=== Guangyuan default (data/guangyuan: modelled + OSM-derived roads)")
        with Step("load inputs + build TravelNetwork.from_roads"):
            net, villages, cands, stations, max_snap = guangyuan_case()
        run_case(net, villages, cands, stations, max_snap, a, t_cold, targets=False)
    return 0


def run_case(net, villages, cands, stations, max_snap_m, a, t_cold, targets: bool) -> None:
    """Both comparisons on one network and point set; prints the timings and the summary
    (with issue 4's targets when ``targets``: they are set for the synthetic scale)."""
    cutoff_m = 15000.0
    n_v, n_s = len(villages), len(stations)

    import networkx as nx

    import siteplan.network as spnet
    from siteplan.network import n_threads, nearest, od_costs, snap

    nth = n_threads()
    print(f"  network: {net.n_nodes:,} nodes, {net.n_edges:,} directed edges")
    with Step("snap 3 x points (STRtree)"):
        sv = snap(net, villages, max_snap_m, mode="drive")
        sc = snap(net, cands, max_snap_m, mode="drive")
        ss = snap(net, stations, max_snap_m, mode="drive")
    print(f"  villages {n_v:,} ({sv.node.nunique():,} distinct nodes), candidates {len(cands):,} "
          f"({sc.node.nunique():,}), stations {n_s}")
    # node-level comparison: zero access so that every tool computes the same thing
    def at_node(s):
        z = s.copy()
        z["snap_m"] = 0.0
        z["along_m"] = 0.0
        z["edge"] = -1
        z["x"] = np.nan
        z["y"] = np.nan
        return z

    zv, zc, zs = at_node(sv), at_node(sc), at_node(ss)
    with Step("siteplan first call in this process (numba cache load)") as s_first:
        od_costs(net, zv.iloc[:2], zc.iloc[:2], "drive", weight="distance", cutoff_m=cutoff_m)
        nearest(net, zv.iloc[:2], zs.iloc[:2], "drive", from_destinations=True)

    # ---------------------------------------------------------------- 1. OD 15 km
    print(f"\n1. OD villages -> candidates within {cutoff_m / 1000:g} km network distance")
    net._memo.clear()
    with Step("siteplan graph build (CSR + core, once per network/mode)") as s_g:
        for rev in (False, True):
            _ = net._graph("drive", "distance", rev, True).core.transposed
    od, t_sp = timed("siteplan od_costs (dist + time along path)",
                     lambda: od_costs(net, zv, zc, "drive", weight="distance", cutoff_m=cutoff_m), a.repeat)
    saved = spnet.THREADS
    spnet.THREADS = 1
    od_1t, t_sp_1t = timed("siteplan od_costs, 1 thread (same, serial)",
                           lambda: od_costs(net, zv, zc, "drive", weight="distance", cutoff_m=cutoff_m), a.repeat)
    spnet.THREADS = saved
    assert all(np.array_equal(getattr(od_1t, k), getattr(od, k)) for k in ("origin", "dest", "time_s", "dist_m"))
    od1, t_sp1 = timed("siteplan od_costs secondary=False (dist only)",
                       lambda: od_costs(net, zv, zc, "drive", weight="distance", cutoff_m=cutoff_m,
                                        secondary=False), a.repeat)
    assert np.array_equal(od1.dist_m, od.dist_m)
    print(f"     pairs: {len(od):,}")
    od_peak = traced_peak(lambda: od_costs(net, zv, zc, "drive", weight="distance", cutoff_m=cutoff_m))
    print(f"     siteplan od_costs tracemalloc peak (separate run): {od_peak:.1f} MB")

    G = nx.DiGraph()
    ok = np.isfinite(net.time_s["drive"])
    for uu, vv, ll in zip(net.edge_u[ok].tolist(), net.edge_v[ok].tolist(), net.length_m[ok].tolist(), strict=True):
        if not G.has_edge(uu, vv) or G[uu][vv]["length"] > ll:
            G.add_edge(uu, vv, length=ll)
    vn = sv.node[~sv.off_network].to_numpy()
    cn = sc.node[~sc.off_network].to_numpy()
    uv, cset = np.unique(vn), set(np.unique(cn).tolist())
    def nx_loop():
        out = {}
        for src in uv.tolist():
            d = nx.single_source_dijkstra_path_length(G, src, cutoff=cutoff_m, weight="length")
            for t, val in d.items():
                if t in cset:
                    out[(src, t)] = val
        return out

    nx_pairs, t_nx = timed("networkx single_source_dijkstra loop", nx_loop, a.repeat)
    # check: node-level pairs agree
    vpos, cpos = zv.node.to_numpy(), zc.node.to_numpy()
    sp_pairs = {(int(vpos[o]), int(cpos[d])): t for o, d, t in zip(od.origin, od.dest, od.dist_m, strict=True)}
    agree = sp_pairs.keys() == nx_pairs.keys() and all(abs(sp_pairs[k] - nx_pairs[k]) < 1e-6 for k in nx_pairs)
    print(f"     node pairs siteplan {len(sp_pairs):,} networkx {len(nx_pairs):,}; identical: {agree}")

    s_pd = s_pdb = None
    if not a.no_pandana:
        try:
            import pandana

            nodes_df = pd.DataFrame({"x": net.node_x, "y": net.node_y})
            e = pd.DataFrame({"from": net.edge_u[ok], "to": net.edge_v[ok], "length": net.length_m[ok]})
            with Step("pandana Network() (contraction hierarchy)") as s_pdb:
                pnet = pandana.Network(nodes_df["x"], nodes_df["y"], e["from"], e["to"], e[["length"]],
                                       twoway=False)
            def pd_query():
                q = pnet.nodes_in_range(uv.tolist(), cutoff_m)
                return q[q.iloc[:, 1].isin(cset)]

            rr, t_pd = timed("pandana nodes_in_range + filter to candidates", pd_query, a.repeat)
            s_pd = True
            pd_pairs = {(int(a_), int(b_)): w for a_, b_, w in rr.itertuples(index=False, name=None)}
            agree_pd = pd_pairs.keys() == nx_pairs.keys() and all(
                abs(pd_pairs[k] - nx_pairs[k]) < 0.05 for k in nx_pairs)
            print(f"     pandana node pairs {len(pd_pairs):,}; same as networkx within 0.05 m (pandana single precision): {agree_pd}")
            if not agree_pd:
                common = pd_pairs.keys() & nx_pairs.keys()
                dev = max((abs(pd_pairs[k] - nx_pairs[k]) for k in common), default=0.0)
                print(f"     pandana: {len(common):,} common pairs, max |diff| {dev:.4f} m "
                      f"(pandana stores weights in single precision)")
        except Exception as err:  # noqa: BLE001 - report and keep going
            print(f"  pandana failed: {type(err).__name__}: {err}")
            s_pd = s_pdb = None

    # ---------------------------------------------------------------- 2. nearest station
    print("\n2. nearest police station to every village (station -> village, by time)")
    with Step("siteplan graph build (time weights: CSR + core, once per network/mode)") as s_gt:
        cores = [net._graph("drive", "time", False, True).core,
                 net._graph("drive", "time", True, True).core]
    print(f"     core: {len(cores[0].ptr) - 1:,} of {cores[0].core_id.size:,} nodes (dead-end trees removed, chains bridged)")
    ns, t_ns = timed("siteplan nearest(k=1, from_destinations=True)",
                     lambda: nearest(net, zv, zs, "drive", from_destinations=True), a.repeat)
    ns_peak = traced_peak(lambda: nearest(net, zv, zs, "drive", from_destinations=True))
    Gt = nx.DiGraph()
    t_drive = net.time_s["drive"]
    for uu, vv, tt in zip(net.edge_u[ok].tolist(), net.edge_v[ok].tolist(), t_drive[ok].tolist(), strict=True):
        if not Gt.has_edge(uu, vv) or Gt[uu][vv]["t"] > tt:
            Gt.add_edge(uu, vv, t=tt)
    src = set(ss.node[~ss.off_network].tolist())
    def nx_multi():
        dmin = nx.multi_source_dijkstra_path_length(Gt, src, weight="t")
        return np.array([dmin.get(int(n_), np.inf) for n_ in vpos])

    nx_near, t_nm = timed("networkx multi_source_dijkstra_path_length", nx_multi, a.repeat)
    same = np.allclose(ns["time_s_1"].to_numpy(), np.where(sv.off_network, np.inf, nx_near), equal_nan=True)
    print(f"     reached {np.isfinite(ns.time_s_1).sum():,} of {n_v:,}; same times as networkx: {same}")

    # ---------------------------------------------------------------- summary
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    tgt30 = " (target >= 30x)" if targets else ""
    print("\nsummary")
    print(f"  OD: siteplan {t_sp:.3f} s ({nth} thread{'s' if nth > 1 else ''}), networkx {t_nx:.3f} s "
          f"(1 thread) -> {t_nx / t_sp:.1f}x faster than networkx{tgt30}")
    print(f"      siteplan 1 thread {t_sp_1t:.3f} s -> {t_nx / t_sp_1t:.1f}x (like for like); "
          f"threads gave {t_sp_1t / t_sp:.2f}x")
    print(f"      siteplan dist-only {t_sp1:.3f} s -> {t_nx / t_sp1:.1f}x; "
          f"with graph build {s_g.seconds + t_sp:.3f} s -> {t_nx / (s_g.seconds + t_sp):.1f}x")
    if s_pd is not None:
        print(f"      pandana query {t_pd:.3f} s (+ {s_pdb.seconds:.3f} s CH build) -> siteplan "
              f"{t_pd / t_sp:.2f}x faster than pandana query, "
              f"{(t_pd + s_pdb.seconds) / t_sp:.2f}x pandana build+query")
    print(f"      siteplan OD peak traced memory {od_peak:.1f} MB{' (target < 300 MB)' if targets else ''}")
    print(f"  nearest station: siteplan {t_ns:.4f} s, networkx {t_nm:.3f} s (both 1 thread) -> "
          f"{t_nm / t_ns:.1f}x{tgt30}; peak {ns_peak:.1f} MB")
    print(f"      with the graph build (CSR + core, both directions) {s_gt.seconds + t_ns:.3f} s -> "
          f"{t_nm / (s_gt.seconds + t_ns):.1f}x")
    print(f"  numba compile once per machine (empty cache) {t_cold:.2f} s; first call of a process "
          f"(cache load) {s_first.seconds:.2f} s; neither is in the timings above")
    print(f"  process peak RSS {rss:.0f} MB (includes networkx/pandana graphs)")




if __name__ == "__main__":
    sys.exit(main())
