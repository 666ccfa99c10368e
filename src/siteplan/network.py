"""Road travel network: graph, speeds, snapping, OD costs and nearest queries.

The network is a directed graph held as plain numpy arrays (:class:`TravelNetwork`);
shortest paths use a bounded 4-ary-heap Dijkstra [1]_ compiled with numba (one search per
source, cost proportional to the nodes it reaches), never Python loops over networkx;
scipy's csgraph is used for components and reachability only.

Conventions
-----------
* Lengths in metres, times in seconds, speeds in km/h. ``time_s = length_m / (kph / 3.6)``.
* Coordinates in the network's projected CRS (metres); geographic inputs are transformed.
* Direction matters: a one-way road is only usable in its direction, and
  :func:`od_costs` computes origin -> destination times on the graph as it is. Nothing is
  symmetrised unless ``directed=False`` is passed.
* A mode may forbid a road class: a class speed ``<= FORBIDDEN_KPH`` (0.01 km/h; e.g. the
  default walk speed of 0.001 km/h on motorways) gives ``time_s = np.inf`` and the edge is
  left out of that mode's graph. Every other travel time must be finite and > 0.
* Access: a point is snapped to the nearest point on the nearest road segment (within
  ``max_snap_m``), then to the nearer end node of that segment. Its access cost is the
  straight off-road distance ``snap_m`` at ``off_road_speed_kph`` plus the along-road
  remainder ``along_m`` at the segment's speed for the mode (direction of the one-way is
  ignored for this short stretch). Access is added at both ends of every trip.
  Two points snapped to the same node may also go straight to each other off-road when that
  is quicker, so a candidate exactly on a village gets time 0.
* Performance: Dijkstra runs from the side with fewer distinct nodes. Before searching,
  the graph is reduced for the call's sources and targets (dead-end trees without any of
  them removed, degree-2 chains bridged by one edge; exact). Each search resets only the
  nodes it touched, so with a cutoff its cost follows the area within reach, not the
  network size, and the non-minimised quantity is summed in the same pass. With a cutoff
  and many sources, nodes from which no target is within the remaining budget are not
  queued (one extra search gives each node's distance to its nearest target; exact).
  Sources are searched in blocks on ``n_threads()`` threads (module setting ``THREADS``,
  else the ``SITEPLAN_THREADS`` environment variable, else ``numba.get_num_threads()``);
  blocks are joined in source order, so the result does not depend on the thread count.
  The kernels
  are compiled on first use (``numba.njit(cache=True)``: a few seconds once, then loaded
  from numba's cache). See ``benchmarks/bench_od.py`` for measured times against networkx
  and pandana.
* Ties: among paths with the same minimised quantity the one with the smallest other
  quantity is reported (e.g. the shorter of two equally fast routes), and among equally
  good destinations of :func:`nearest` the lowest position. Along a bridged chain the
  weights are summed chain-first, so values can differ from a hop-by-hop sum in the last
  bits (relative ~1e-15); integer-valued weights are exact.
* Caching: :func:`od_costs` with ``cache_dir`` stores results as ``.npz`` keyed by a SHA-256
  of the network arrays, the snapped points, the mode and every parameter.

References
----------
.. [1] Dijkstra, E. W. (1959). A note on two problems in connexion with graphs.
   Numerische Mathematik 1, 269-271.
.. [2] Lam, S. K., Pitrou, A., Seibert, S. (2015). Numba: a LLVM-based Python JIT compiler.
   Proc. LLVM-HPC 2015.
.. [3] OpenStreetMap wiki, Key:maxspeed and Key:oneway.
.. [4] Boeing, G. (2017). OSMnx. Computers, Environment and Urban Systems 65, 126-139.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import tempfile
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numba import njit
from scipy.sparse.csgraph import breadth_first_order, connected_components

from siteplan.errors import CRSError, InputWarning, NetworkError

__all__ = [
    "FORBIDDEN_KPH",
    "TravelNetwork",
    "ODCosts",
    "parse_maxspeed",
    "parse_oneway",
    "snap",
    "od_costs",
    "nearest",
    "pair_costs",
    "components",
    "component_of",
    "n_threads",
]

#: Class speeds at or below this (km/h) mean "this mode may not use this road class".
FORBIDDEN_KPH = 0.01
#: Highest plausible posted speed limit, km/h: a ``maxspeed`` outside (0, MAXSPEED_MAX_KPH]
#: is a data error and ignored (the road-class speed is used). China caps expressway limits
#: at 120 km/h (Road Traffic Safety Law of the PRC, art. 67; Implementing Regulations,
#: art. 78); 150 leaves room for the 130-140 km/h motorway limits of some other countries
#: while rejecting typos such as "1000".
MAXSPEED_MAX_KPH = 150.0
#: Former memory budget of a scipy Dijkstra chunk; still accepted as ``chunk_bytes`` but
#: unused: the numba searches hold O(n_nodes + n_edges) working memory whatever the sources.
DEFAULT_CHUNK_BYTES = 96 * 2**20
_CACHE_VERSION = "od-v2"  # v2: numba kernel; equal-time ties -> shortest
_INVALID = "invalid"  # _parse_one_speed: a number outside the plausible range
_MPH = 1.609344
_KNOT = 1.852

# Implicit speed zones (OSM wiki "Default speed limits"); km/h.
_ZONE_KPH = {
    "urban": 50.0,
    "rural": 90.0,
    "motorway": 110.0,
    "living_street": 20.0,
    "walk": 5.0,
    "ru:urban": 60.0,
    "ru:rural": 90.0,
    "ru:motorway": 110.0,
    "de:urban": 50.0,
    "de:rural": 100.0,
    "de:motorway": 130.0,
    "fr:urban": 50.0,
    "fr:rural": 80.0,
    "cn:urban": 50.0,
    "cn:rural": 70.0,
    "cn:motorway": 120.0,
}


# --------------------------------------------------------------------------- parsing


def _parse_one_speed(text: str) -> float | str | None:
    """km/h, None (no value or no numeric limit) or ``_INVALID`` (number out of range)."""
    t = text.strip().lower()
    if not t:
        return None
    if t in _ZONE_KPH:
        return _ZONE_KPH[t]
    if ":" in t:  # unknown country zone, e.g. "XX:urban" -> generic zone value
        zone = t.split(":", 1)[1].strip()
        return _ZONE_KPH.get(zone)
    m = re.fullmatch(r"([+-]?(?:[0-9]+(?:[.,][0-9]+)?|nan|inf(?:inity)?))\s*(mph|knots|kn|km/h|kmh|kph)?", t)
    if not m:
        return None  # "none", "signals", "variable", garbage
    v = float(m.group(1).replace(",", "."))
    unit = m.group(2)
    if unit == "mph":
        v *= _MPH
    elif unit in ("knots", "kn"):
        v *= _KNOT
    return _in_range(v)


def _in_range(v: float) -> float | str:
    return v if 0 < v <= MAXSPEED_MAX_KPH else _INVALID  # NaN fails both


def _maxspeed(value: Any) -> tuple[float | None, bool]:
    """(km/h or None, whether an implausible number was ignored); see parse_maxspeed."""
    if value is None:
        return None, False
    if isinstance(value, (list, tuple, np.ndarray)):
        got = [_maxspeed(v) for v in value]
        vals = [v for v, _ in got if v is not None]
        return (min(vals) if vals else None), any(b for _, b in got)
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        if math.isnan(float(value)):
            return None, False
        vals = [_in_range(float(value))]
    else:
        try:
            if pd.isna(value):
                return None, False
        except (TypeError, ValueError):
            pass
        vals = [_parse_one_speed(p) for p in re.split(r"[;|]", str(value))]
    bad = any(v is _INVALID for v in vals)
    ok = [v for v in vals if v is not None and v is not _INVALID]
    return (min(ok) if ok else None), bad


def parse_maxspeed(value: Any) -> float | None:
    """Parse an OpenStreetMap ``maxspeed`` value to km/h.

    Parameters
    ----------
    value : str, number, list of str, None or NaN
        Raw tag value, or a list of values as osmnx gives for merged edges.

    Returns
    -------
    float or None
        Speed in km/h, or None when the value gives no usable speed (missing, empty,
        ``"none"``, ``"signals"``, ``"variable"``, unknown zone, garbage, or a number outside
        the plausible range); the caller then uses the road-class speed.

    Notes
    -----
    * Plausible range: above 0 and at most ``MAXSPEED_MAX_KPH`` = 150 km/h (after unit
      conversion). China caps expressway limits at 120 km/h (Road Traffic Safety Law of
      the PRC, art. 67; Implementing Regulations, art. 78); 150 leaves room for other
      countries' motorway limits. ``"0"``, ``"-30"``, ``"NaN"``, ``"1000"``, ``"100 mph"``
      (161 km/h) are data errors and give None (in a list such as ``"1000;60"`` only the
      implausible part is dropped: 60); :meth:`TravelNetwork.from_roads` counts
      them and warns (:class:`~siteplan.errors.InputWarning`). A missing value (None, NaN,
      ``""``) is not an error.
    * ``"50"`` -> 50; ``"50 km/h"`` -> 50; ``"50 mph"`` -> 80.47; ``"10 knots"`` -> 18.52.
    * Several values (``"70;100"``, ``"70|100"`` lanes, an osmnx list) -> the **minimum**
      (the conservative choice: longer travel times).
    * Zone codes: ``"RU:urban"`` -> 60, ``"RU:rural"`` -> 90, ``"DE:urban"`` -> 50,
      ``"CN:urban"`` -> 50, generic ``"XX:urban"`` -> 50, ``"XX:rural"`` -> 90,
      ``"walk"`` -> 5, ``"XX:living_street"`` -> 20.

    References
    ----------
    .. [1] OpenStreetMap wiki, Key:maxspeed; Default speed limits.
    """
    return _maxspeed(value)[0]


_ONEWAY_FWD = {"yes", "true", "1", "t", "y"}
_ONEWAY_BWD = {"-1", "reverse"}


def parse_oneway(value: Any) -> tuple[bool, bool]:
    """Directions a road segment can be travelled in.

    Parameters
    ----------
    value : str, bool, number, None
        OSM ``oneway`` value.

    Returns
    -------
    (forward, backward) : tuple of bool
        ``"yes"``/``"true"``/``"1"``/True -> (True, False) (only u -> v, the drawing
        direction); ``"-1"``/``"reverse"`` -> (False, True); anything else (``"no"``, empty,
        missing, ``"reversible"``, ``"alternating"``) -> (True, True).
    """
    if value is None:
        return True, True
    if isinstance(value, (bool, np.bool_)):
        return (True, False) if value else (True, True)
    if isinstance(value, (list, tuple)):
        value = value[0] if value else None
        return parse_oneway(value)
    try:
        if pd.isna(value):
            return True, True
    except (TypeError, ValueError):
        pass
    if isinstance(value, (int, float, np.integer, np.floating)):
        value = str(int(value)) if float(value).is_integer() else str(value)
    t = str(value).strip().lower()
    if t in _ONEWAY_FWD:
        return True, False
    if t in _ONEWAY_BWD:
        return False, True
    return True, True


# --------------------------------------------------------------------------- network


def _metric_crs(crs: Any, what: str) -> Any:
    from pyproj import CRS

    c = CRS.from_user_input(crs)
    if not c.is_projected:
        raise CRSError(f"{what} CRS {c.to_string()} is not projected; metric work needs metres",
                       hint="use a UTM CRS such as EPSG:32648")
    unit = (c.axis_info[0].unit_name or "").lower()
    if unit not in ("metre", "meter", "m"):
        raise CRSError(f"{what} CRS {c.to_string()} has units '{unit}', not metres")
    return c


@dataclass(frozen=True, eq=False)
class TravelNetwork:
    """A directed road network with per-mode travel times.

    Build it with :meth:`from_roads` or :meth:`from_osmnx`.

    Attributes
    ----------
    crs : pyproj.CRS
        Projected CRS in metres of all coordinates.
    node_x, node_y : ndarray, shape (n_nodes,), float64
        Node coordinates, metres.
    node_id : ndarray, shape (n_nodes,)
        Original node ids (``u``/``v`` values or OSM ids); positions 0..n-1 otherwise.
    edge_u, edge_v : ndarray, shape (n_edges,), int64
        Directed edges as node positions (a two-way road gives two edges).
    length_m : ndarray, shape (n_edges,), float64
        Edge length, metres (> 0, finite).
    road_class : ndarray, shape (n_edges,), object
        Road class (OSM ``highway`` value or a Chinese road grade).
    time_s : dict of str to ndarray, shape (n_edges,), float64
        Travel time per mode, seconds; ``np.inf`` = the mode may not use the edge.
    edge_seg : ndarray, shape (n_edges,), int64
        Road segment (input row position) each directed edge comes from.
    seg_geom : ndarray, shape (n_segments,), object
        Segment LineStrings (drawing direction), in ``crs``.
    seg_u, seg_v : ndarray, shape (n_segments,), int64
        Node positions at the start and end of each segment geometry.
    seg_length_m : ndarray, shape (n_segments,), float64
        Segment length, metres.
    seg_label : ndarray, shape (n_segments,), object
        Input row label (DataFrame index value) of each segment, for messages.
    """

    crs: Any
    node_x: np.ndarray
    node_y: np.ndarray
    node_id: np.ndarray
    edge_u: np.ndarray
    edge_v: np.ndarray
    length_m: np.ndarray
    road_class: np.ndarray
    time_s: dict[str, np.ndarray]
    edge_seg: np.ndarray
    seg_geom: np.ndarray
    seg_u: np.ndarray
    seg_v: np.ndarray
    seg_length_m: np.ndarray
    seg_label: np.ndarray
    _memo: dict = field(default_factory=dict, repr=False, compare=False)

    # ------------------------------------------------------------------ properties
    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return int(self.node_x.shape[0])

    @property
    def n_edges(self) -> int:
        """Number of directed edges."""
        return int(self.edge_u.shape[0])

    @property
    def modes(self) -> list[str]:
        """Travel modes with a time array."""
        return list(self.time_s)

    def _check_mode(self, mode: str) -> None:
        if mode not in self.time_s:
            raise NetworkError(f"unknown travel mode '{mode}' (network has: {', '.join(self.time_s)})")

    def content_hash(self) -> str:
        """SHA-256 of the node, edge, length and time arrays (hex), memoised."""
        h = self._memo.get("hash")
        if h is None:
            d = hashlib.sha256()
            for a in (self.node_x, self.node_y, self.edge_u, self.edge_v, self.length_m,
                      self.edge_seg, self.seg_u, self.seg_v, self.seg_length_m):
                d.update(np.ascontiguousarray(a).tobytes())
            for m in sorted(self.time_s):
                d.update(m.encode())
                d.update(np.ascontiguousarray(self.time_s[m]).tobytes())
            d.update(str(self.crs.to_string()).encode())
            h = d.hexdigest()
            self._memo["hash"] = h
        return h

    # ------------------------------------------------------------------ builders
    @classmethod
    def from_roads(cls, roads: Any, network_config: Any = None, crs: Any = None, *,
                   source: str | Path | None = None) -> TravelNetwork:
        """Build the network from a roads GeoDataFrame.

        Parameters
        ----------
        roads : geopandas.GeoDataFrame
            LineString rows (the ``roads`` table of ``docs/architecture.md``), any CRS.
            Optional columns: ``road_class`` (default ``"unclassified"``), ``maxspeed``
            (raw OSM text; drive mode only), ``oneway`` (see :func:`parse_oneway`),
            ``u``/``v`` (node ids; otherwise endpoints closer than 1 m are joined into one
            node), ``length_m`` (metres; otherwise the geometric length in ``crs``, times
            ``network_config.circuity`` for rows with ``source == "modelled"``),
            ``speed_kph`` (explicit drive speed, overrides maxspeed and class).
        network_config : siteplan.scenario.NetworkConfig, optional
            Speed tables per mode (``drive``, ``walk``); default ``NetworkConfig()``.
        crs : CRS-like, optional
            Projected CRS in metres to work in (e.g. ``"EPSG:32648"``); default: the roads'
            CRS if projected, else its UTM zone.
        source : str or Path, optional
            The file the roads were read from (:func:`siteplan.io.load_roads`). Messages
            then name it and give rows as the loader does: integer label n is ``row n + 1``
            (feature n + 1 of the layer). Without it a row is named by its label.

        Returns
        -------
        TravelNetwork

        Raises
        ------
        CRSError
            Roads without a CRS, or a non-metric target CRS.
        NetworkError
            No usable rows, non-LineString geometry, or an edge whose length or travel time
            is NaN, zero, negative or infinite where not allowed. The message names the
            file and row (with ``source``; else the row label), the column (``length_m``,
            ``speed_kph``, ...) and the edge with its u, v nodes, e.g.
            ``roads.gpkg, row 4, column 'length_m': edge 3 (u=0, v=4): length nan m is ...``.

        Warns
        -----
        InputWarning
            ``maxspeed`` values outside the plausible range (:func:`parse_maxspeed`) were
            ignored; the count and the first row are named.

        Notes
        -----
        Speeds: drive = ``speed_kph`` column, else parsed ``maxspeed``
        (:func:`parse_maxspeed`), else ``by_class_kph[road_class]``, else ``default_kph``;
        walk (and other modes) = class table only. Segments are only joined at their
        endpoints: crossing roads without a shared endpoint are not connected.
        """
        import geopandas as gpd
        import shapely
        from scipy.spatial import cKDTree

        cfg = _config(network_config)
        if not isinstance(roads, gpd.GeoDataFrame):
            raise NetworkError("roads must be a GeoDataFrame of LineStrings")
        if roads.crs is None:
            raise CRSError("roads layer has no CRS", hint="set it, e.g. roads.set_crs('EPSG:4326')")
        if len(roads) == 0:
            raise NetworkError("roads layer is empty: no edges to build a network from")
        if crs is None:
            crs = roads.crs if roads.crs.is_projected else roads.estimate_utm_crs()
        crs = _metric_crs(crs, "network")
        r = roads.to_crs(crs) if not roads.crs.equals(crs) else roads
        geom = np.asarray(r.geometry.values, dtype=object)
        gtype = shapely.get_type_id(geom)
        labels = np.asarray(r.index, dtype=object)
        where = _Where(source, labels)
        for i in np.flatnonzero((gtype != 1) | shapely.is_empty(geom)):
            raise where.error(
                i, f"{where.label(i)}geometry must be a non-empty LineString, "
                f"got {shapely.get_type_id(geom[i]) if geom[i] is not None else None}"
                " (explode MultiLineStrings first)")
        n = len(r)
        glen = shapely.length(geom)
        if "length_m" in r.columns:
            length = pd.to_numeric(r["length_m"], errors="coerce").to_numpy(dtype=float)
        else:
            length = glen.astype(float).copy()
            if "source" in r.columns:
                mod = r["source"].astype(str).to_numpy() == "modelled"
                length[mod] *= float(getattr(cfg, "circuity", 1.0))
        start = shapely.get_coordinates(shapely.get_point(geom, 0))
        end = shapely.get_coordinates(shapely.get_point(geom, -1))
        if "u" in r.columns and "v" in r.columns:
            ids = pd.concat([r["u"], r["v"]], ignore_index=True)
            codes, uniq = pd.factorize(ids)
            seg_u = codes[:n].astype(np.int64)
            seg_v = codes[n:].astype(np.int64)
            nn = len(uniq)
            xy = np.full((nn, 2), np.nan)
            both = np.vstack([end, start])
            who = np.concatenate([seg_v, seg_u])  # start coords win (written last)
            xy[who] = both
            node_id = np.asarray(uniq, dtype=object)
        else:
            pts = np.empty((2 * n, 2))
            pts[0::2], pts[1::2] = start[:, :2], end[:, :2]  # row order: u0, v0, u1, v1, ...
            tree = cKDTree(pts)
            pairs = tree.query_pairs(r=1.0, output_type="ndarray")
            m = len(pts)
            if len(pairs):
                adj = sp.coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(m, m))
                _, lab = connected_components(adj, directed=False)
            else:
                lab = np.arange(m)
            # number clusters in order of first appearance -> deterministic node positions
            _, first, inv = np.unique(lab, return_index=True, return_inverse=True)
            order = np.argsort(first)
            rank = np.empty_like(order)
            rank[order] = np.arange(len(order))
            node_of = rank[inv].astype(np.int64)
            nn = len(order)
            xy = np.empty((nn, 2))
            xy[node_of[::-1]] = pts[::-1]  # first endpoint of each cluster gives the coords
            seg_u, seg_v = node_of[0::2], node_of[1::2]
            node_id = np.arange(nn, dtype=np.int64)
        road_class = (r["road_class"].astype(object).where(r["road_class"].notna(), "unclassified")
                      .astype(str).to_numpy(dtype=object)
                      if "road_class" in r.columns else np.full(n, "unclassified", dtype=object))
        maxspeed = r["maxspeed"].to_numpy(dtype=object) if "maxspeed" in r.columns else None
        speed = (pd.to_numeric(r["speed_kph"], errors="coerce").to_numpy(dtype=float)
                 if "speed_kph" in r.columns else None)
        if "oneway" in r.columns:
            fb = np.array(_map_unique(r["oneway"].to_numpy(dtype=object), parse_oneway), dtype=bool)
            fwd, bwd = fb[:, 0], fb[:, 1]
        else:
            fwd = bwd = np.ones(n, dtype=bool)
        return _assemble(crs, xy[:, 0], xy[:, 1], node_id, geom, seg_u, seg_v, length, labels,
                         road_class, maxspeed, speed, fwd, bwd, cfg, where,
                         "length_m" if "length_m" in r.columns else None)

    @classmethod
    def from_osmnx(cls, G: Any, network_config: Any = None, crs: Any = None) -> TravelNetwork:
        """Build the network from an osmnx ``MultiDiGraph``.

        Parameters
        ----------
        G : networkx.MultiDiGraph
            osmnx graph (any CRS in ``G.graph["crs"]``); each edge is one direction, as
            osmnx already stores two-way roads as two edges.
        network_config : siteplan.scenario.NetworkConfig, optional
            Speed tables; default ``NetworkConfig()``.
        crs : CRS-like, optional
            Projected target CRS in metres; default: the graph's CRS if projected, else its
            UTM zone (osmnx ``project_graph``).

        Returns
        -------
        TravelNetwork
            ``node_id`` holds the OSM node ids; ``road_class`` the first ``highway`` value.

        Raises
        ------
        CRSError, NetworkError
            As :meth:`from_roads`.
        """
        import geopandas as gpd
        import osmnx as ox

        if "crs" not in G.graph:
            raise CRSError("osmnx graph has no 'crs' attribute")
        if crs is None:
            Gp = G if ox.projection.is_projected(G.graph["crs"]) else ox.projection.project_graph(G)
        else:
            Gp = ox.projection.project_graph(G, to_crs=crs)
        if Gp.number_of_edges() == 0:
            raise NetworkError("osmnx graph has no edges")
        edges = ox.convert.graph_to_gdfs(Gp, nodes=False, edges=True, fill_edge_geometry=True)
        edges = edges.reset_index()
        hw = edges["highway"] if "highway" in edges.columns else pd.Series("unclassified", index=edges.index)
        hw = hw.map(lambda v: v[0] if isinstance(v, (list, tuple)) and v else v)
        data = {
            "u": edges["u"].to_numpy(),
            "v": edges["v"].to_numpy(),
            "road_class": hw.to_numpy(dtype=object),
            "oneway": np.full(len(edges), "yes", dtype=object),
        }
        if "length" in edges.columns:
            data["length_m"] = pd.to_numeric(edges["length"], errors="coerce").to_numpy()
        if "maxspeed" in edges.columns:
            data["maxspeed"] = edges["maxspeed"].to_numpy(dtype=object)
        gdf = gpd.GeoDataFrame(data, geometry=edges.geometry.values, crs=Gp.graph["crs"])
        gdf.index = pd.Index([f"({a}, {b}, {k})" for a, b, k in zip(edges["u"], edges["v"], edges["key"], strict=True)],
                             dtype=object)
        return cls.from_roads(gdf, network_config, crs=Gp.graph["crs"])

    # ------------------------------------------------------------------ graphs
    def _seg_time(self, mode: str) -> np.ndarray:
        key = ("segtime", mode)
        if key not in self._memo:
            t = np.full(len(self.seg_u), np.inf)
            np.minimum.at(t, self.edge_seg, self.time_s[mode])
            self._memo[key] = t
        return self._memo[key]

    def _graph(self, mode: str, weight: str, reverse: bool, directed: bool = True) -> _Graph:
        key = ("graph", mode, weight, reverse, directed)
        g = self._memo.get(key)
        if g is None:
            g = _Graph.build(self, mode, weight, reverse, directed)
            self._memo[key] = g
        return g


def _map_unique(values: np.ndarray, fn: Any) -> list:
    """fn applied to each value, computed once per distinct value (lists handled)."""
    try:
        codes, uniq = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=False)
    except TypeError:  # unhashable values (osmnx lists)
        return [fn(v) for v in values]
    res = [fn(u) for u in uniq]
    return [res[c] for c in codes]


def _config(network_config: Any) -> Any:
    if network_config is None:
        from siteplan.scenario import NetworkConfig

        return NetworkConfig()
    return network_config


def _class_speed(spec: Any, cls: str) -> float:
    return float(spec.by_class_kph.get(cls, spec.default_kph))


class _Where:
    """Names a roads row in messages the way the loaders do (file, 1-based row, column)."""

    def __init__(self, source: str | Path | None, labels: np.ndarray) -> None:
        self.source = None if source is None else str(source)
        self.labels = labels

    def row(self, i: int) -> int | None:
        """File row of position i: label + 1 (feature number) when a file is named."""
        lab = self.labels[i]
        if self.source is None or isinstance(lab, (bool, np.bool_)):
            return None
        return int(lab) + 1 if isinstance(lab, (int, np.integer)) else None

    def label(self, i: int) -> str:
        """'road row LABEL: ' when the row cannot be given as a file row, else ''."""
        return "" if self.row(i) is not None else f"road row {self.labels[i]!r}: "

    def edge(self, i: int, u: Any, v: Any) -> str:
        if self.row(i) is not None:
            return f"edge {i} (u={u}, v={v})"
        return f"edge {i} (road row {self.labels[i]!r}, u={u}, v={v})"

    def at(self, i: int) -> str:
        r = self.row(i)
        return f"row {r}" if r is not None else f"road row {self.labels[i]!r}"

    def error(self, i: int, message: str, column: str | None = None) -> NetworkError:
        return NetworkError(message, file=self.source, row=self.row(i), column=column)


def _warn_implausible(bad: np.ndarray, maxspeed: np.ndarray, where: _Where) -> None:
    """One InputWarning naming how many maxspeed values were ignored and the first one."""
    if not bad.any():
        return
    i = int(np.flatnonzero(bad)[0])
    warnings.warn(
        f"{where.source or 'roads'}: {int(bad.sum())} maxspeed value(s) outside the plausible range "
        f"(above 0, at most {MAXSPEED_MAX_KPH:g} km/h) in column 'maxspeed' ignored, the road-class "
        f"speed is used instead (first on {where.at(i)}: {maxspeed[i]!r})",
        InputWarning,
        stacklevel=4,
    )


def _assemble(crs, nx_, ny_, node_id, geom, seg_u, seg_v, length, labels, road_class,
              maxspeed, speed, fwd, bwd, cfg, where=None, length_col=None) -> TravelNetwork:
    where = where if where is not None else _Where(None, labels)

    def edge(i: int) -> str:
        return where.edge(i, node_id[seg_u[i]], node_id[seg_v[i]])

    bad = ~np.isfinite(length) | (length <= 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise where.error(i, f"{edge(i)}: length {length[i]} m is missing, zero, negative or infinite",
                          length_col)
    if not (fwd | bwd).all():
        i = int(np.flatnonzero(~(fwd | bwd))[0])
        raise where.error(i, f"{edge(i)}: no travel direction", "oneway")
    modes: dict[str, np.ndarray] = {}
    mode_specs = {m: getattr(cfg, m) for m in ("drive", "walk") if hasattr(cfg, m)}
    for m, spec in mode_specs.items():
        table = {c: _class_speed(spec, c) for c in pd.unique(road_class)}
        kph = np.array([table[c] for c in road_class], dtype=float)
        speed_col = None  # the column the speed came from (None: the class table)
        if m == "drive":
            rule = getattr(cfg, "maxspeed_rule", "use")
            if maxspeed is not None and speed is None and rule in ("use", "cap"):
                parsed = _map_unique(maxspeed, _maxspeed)
                ms = np.array([np.nan if p is None else p for p, _ in parsed], dtype=float)
                _warn_implausible(np.array([b for _, b in parsed], dtype=bool), maxspeed, where)
                use = np.isfinite(ms) & (kph > FORBIDDEN_KPH)
                if rule == "cap":
                    kph[use] = np.minimum(kph[use], ms[use])
                else:
                    kph[use] = ms[use]
            if speed is not None:
                kph = speed.copy()
                speed_col = "speed_kph"
        badk = ~np.isfinite(kph) | (kph <= 0)
        if badk.any():
            i = int(np.flatnonzero(badk)[0])
            raise where.error(i, f"{edge(i)}: {m} speed {kph[i]} km/h is missing, zero or negative"
                              + ("" if speed_col else f" (road class '{road_class[i]}' in the {m} speed table)"),
                              speed_col)
        with np.errstate(divide="ignore", invalid="ignore"):
            t = length / (kph / 3.6)
        t[kph <= FORBIDDEN_KPH] = np.inf
        badt = ~(t > 0) | np.isnan(t) | (np.isinf(t) & (kph > FORBIDDEN_KPH))
        if badt.any():
            i = int(np.flatnonzero(badt)[0])
            raise where.error(i, f"{edge(i)}: {m} travel time {t[i]} s is NaN, zero, negative or infinite "
                              f"(length {length[i]} m at {kph[i]} km/h)", length_col)
        modes[m] = t
    if not modes:
        raise NetworkError("network_config has no travel mode (drive/walk)")
    # directed edges; self-loops are useless for shortest paths and dropped
    keep_f = fwd & (seg_u != seg_v)
    keep_b = bwd & (seg_u != seg_v)
    sf, sb = np.flatnonzero(keep_f), np.flatnonzero(keep_b)
    seg_of = np.concatenate([sf, sb]).astype(np.int64)
    eu = np.concatenate([seg_u[sf], seg_v[sb]]).astype(np.int64)
    ev = np.concatenate([seg_v[sf], seg_u[sb]]).astype(np.int64)
    if len(eu) == 0:
        raise NetworkError("network has no edges (all rows are self-loops)")
    return TravelNetwork(
        crs=crs,
        node_x=np.ascontiguousarray(nx_, dtype=float),
        node_y=np.ascontiguousarray(ny_, dtype=float),
        node_id=np.asarray(node_id),
        edge_u=eu,
        edge_v=ev,
        length_m=np.asarray(length, dtype=float)[seg_of],
        road_class=np.asarray(road_class, dtype=object)[seg_of],
        time_s={m: t[seg_of] for m, t in modes.items()},
        edge_seg=seg_of,
        seg_geom=np.asarray(geom, dtype=object),
        seg_u=np.asarray(seg_u, dtype=np.int64),
        seg_v=np.asarray(seg_v, dtype=np.int64),
        seg_length_m=np.asarray(length, dtype=float),
        seg_label=np.asarray(labels, dtype=object),
    )


@dataclass(frozen=True, eq=False)
class _Graph:
    """One mode/weight/direction of the network as CSR arrays for the Dijkstra kernels.

    Parallel edges are reduced to the one with the smallest primary weight (then the
    smallest secondary weight). Row ``u`` of the CSR lists the edges leaving ``u`` in the
    search direction (the transposed graph when ``reverse``).

    Attributes
    ----------
    csr : scipy.sparse.csr_matrix, shape (n, n)
        Primary weights (for :mod:`scipy.sparse.csgraph` components and reachability).
    indptr : ndarray, shape (n + 1,), int64
        CSR row pointers.
    indices : ndarray, shape (nnz,), int64
        Head node of each edge (column index), sorted within each row.
    w1, w2 : ndarray, shape (nnz,), float64
        Primary weight (the minimised quantity: seconds or metres) and secondary weight (the
        other quantity, measured along the chosen path) of each edge; both > 0.
    n : int
        Number of nodes.
    reverse : bool
        True when the edges are transposed (searches run from destinations).
    ratio : float
        Largest primary / secondary weight over the edges (inf without edges).
    und_ptr, und_idx : ndarray, int64
        CSR of the distinct neighbours of each node in either direction (for
        :func:`_contract_kernel`).
    core : _Core
        Its point-independent reduction for the multi-source searches (built on first
        use, then kept with the graph).
    """

    csr: sp.csr_matrix
    indptr: np.ndarray
    indices: np.ndarray
    w1: np.ndarray
    w2: np.ndarray
    n: int
    reverse: bool
    ratio: float
    und_ptr: np.ndarray
    und_idx: np.ndarray

    @cached_property
    def core(self) -> _Core:
        """The point-independent reduction (:class:`_Core`), computed on first use."""
        return _Core.build(self)

    @staticmethod
    def build(net: TravelNetwork, mode: str, weight: str, reverse: bool, directed: bool) -> _Graph:
        t = net.time_s[mode]
        ok = np.isfinite(t)
        u, v = net.edge_u[ok], net.edge_v[ok]
        tt, ll = t[ok], net.length_m[ok]
        w1, w2 = (tt, ll) if weight == "time" else (ll, tt)
        if not directed:
            u, v = np.concatenate([u, v]), np.concatenate([v, u])
            w1, w2 = np.concatenate([w1, w1]), np.concatenate([w2, w2])
        n = net.n_nodes
        ru, rv = (v, u) if reverse else (u, v)
        keys = ru.astype(np.int64) * n + rv
        order = np.lexsort((w2, w1, keys))
        keys, w1, w2 = keys[order], w1[order], w2[order]
        first = np.ones(len(keys), dtype=bool)
        first[1:] = keys[1:] != keys[:-1]
        keys = keys[first]
        w1 = np.ascontiguousarray(w1[first], dtype=np.float64)
        w2 = np.ascontiguousarray(w2[first], dtype=np.float64)
        ru, rv = keys // n, keys % n  # sorted by (row, column)
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(ru, minlength=n), out=indptr[1:])
        indices = np.ascontiguousarray(rv, dtype=np.int64)
        csr = sp.csr_matrix((w1.copy(), indices.copy(), indptr.copy()), shape=(n, n))
        ratio = float(np.max(w1 / w2)) if len(w1) else np.inf
        both = np.sort(np.concatenate([keys, rv * n + ru]))  # (node, neighbour), sorted
        both = both[np.r_[True, both[1:] != both[:-1]]] if len(both) else both
        und_ptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(both // n, minlength=n), out=und_ptr[1:])
        und_idx = np.ascontiguousarray(both % n, dtype=np.int64)
        return _Graph(csr=csr, indptr=indptr, indices=indices, w1=w1, w2=w2, n=n, reverse=reverse,
                      ratio=ratio, und_ptr=und_ptr, und_idx=und_idx)


# --------------------------------------------------------------------------- snapping


def _to_net_crs(net: TravelNetwork, points: Any, what: str = "points") -> Any:
    import geopandas as gpd

    if isinstance(points, gpd.GeoSeries):
        points = gpd.GeoDataFrame(geometry=points)
    if not isinstance(points, gpd.GeoDataFrame):
        raise TypeError(f"{what} must be a GeoDataFrame or GeoSeries")
    if points.crs is None:
        raise CRSError(f"{what} have no CRS", hint="set it, e.g. .set_crs('EPSG:4326')")
    if not points.crs.equals(net.crs):
        points = points.to_crs(net.crs)
    return points


_SNAP_COLUMNS = ["node", "snap_m", "along_m", "edge", "off_network", "x", "y"]


def snap(net: TravelNetwork, points: Any, max_snap_m: float = 3000.0, mode: str | None = None) -> pd.DataFrame:
    """Attach points to the road network.

    Each point goes to the nearest point on the nearest road segment (shapely STRtree),
    then to the nearer end node of that segment.

    Parameters
    ----------
    net : TravelNetwork
    points : geopandas.GeoDataFrame or GeoSeries
        Point geometries, any CRS (transformed to ``net.crs``).
    max_snap_m : float
        Largest straight-line distance (metres) from a point to a road; farther points are
        ``off_network`` and never attached.
    mode : str, optional
        Only consider segments this mode may use (e.g. no motorways for ``"walk"``).

    Returns
    -------
    pandas.DataFrame
        Aligned to ``points.index``; columns ``node`` (int64 node position, -1 off network),
        ``snap_m`` (perpendicular off-road distance, metres; NaN off network), ``along_m``
        (along-road distance from the snap point to ``node``, metres), ``edge`` (segment
        position, -1 off network), ``off_network`` (bool), ``x``, ``y`` (point coordinates
        in ``net.crs``, metres).

    Raises
    ------
    CRSError
        Points without a CRS.
    """
    import shapely

    pts = _to_net_crs(net, points)
    geom = np.asarray(pts.geometry.values, dtype=object)
    m = len(geom)
    node = np.full(m, -1, dtype=np.int64)
    edge = np.full(m, -1, dtype=np.int64)
    snap_m = np.full(m, np.nan)
    along = np.full(m, np.nan)
    valid = ~(shapely.is_missing(geom) | shapely.is_empty(geom))
    xy = np.full((m, 2), np.nan)
    if valid.any():
        xy[valid] = shapely.get_coordinates(shapely.centroid(geom[valid]))[:, :2]
    if mode is not None:
        net._check_mode(mode)
        cand = np.flatnonzero(np.isfinite(net._seg_time(mode)))
    else:
        cand = np.arange(len(net.seg_geom))
    if valid.any() and len(cand):
        tree = shapely.STRtree(net.seg_geom[cand])
        vi = np.flatnonzero(valid)
        res, dist = tree.query_nearest(shapely.points(xy[vi]), max_distance=float(max_snap_m),
                                       return_distance=True, all_matches=False)
        pi, si = vi[res[0]], cand[res[1]]
        ok = dist <= max_snap_m
        pi, si, dist = pi[ok], si[ok], dist[ok]
        g = net.seg_geom[si]
        a = shapely.line_locate_point(g, shapely.points(xy[pi]))
        gl = shapely.length(g)
        frac = np.where(gl > 0, a / np.where(gl > 0, gl, 1.0), 0.0)
        from_u = frac * net.seg_length_m[si]
        to_v = net.seg_length_m[si] - from_u
        use_u = from_u <= to_v
        node[pi] = np.where(use_u, net.seg_u[si], net.seg_v[si])
        along[pi] = np.where(use_u, from_u, to_v)
        snap_m[pi] = dist
        edge[pi] = si
    out = pd.DataFrame({"node": node, "snap_m": snap_m, "along_m": along, "edge": edge,
                        "off_network": node < 0, "x": xy[:, 0], "y": xy[:, 1]}, index=points.index)
    return out


def _as_snap(net: TravelNetwork, pts: Any, max_snap_m: float | None, mode: str) -> pd.DataFrame:
    if isinstance(pts, pd.DataFrame) and "geometry" not in pts.columns and {"node", "snap_m", "off_network"} <= set(pts.columns):
        missing = [(c, d) for c, d in (("along_m", 0.0), ("edge", -1), ("x", np.nan), ("y", np.nan))
                   if c not in pts.columns]
        if not missing:  # already a snapped table: used as is (read only)
            return pts
        s = pts.copy()
        for c, d in missing:
            s[c] = d
        return s
    from siteplan.scenario import NetworkConfig

    msm = NetworkConfig().max_snap_m if max_snap_m is None else max_snap_m
    return snap(net, pts, msm, mode=mode)


def _access(net: TravelNetwork, s: pd.DataFrame, mode: str, off_road_speed_kph: float) -> tuple[np.ndarray, np.ndarray]:
    """Access (time_s, dist_m) per snapped point; NaN for off-network points."""
    if not off_road_speed_kph > 0:
        raise ValueError("off_road_speed_kph must be > 0")
    v_off = off_road_speed_kph / 3.6
    snap_m = s["snap_m"].to_numpy(dtype=float)
    along = np.nan_to_num(s["along_m"].to_numpy(dtype=float), nan=0.0)
    edge = s["edge"].to_numpy(dtype=np.int64)
    t_along = along / v_off
    has = edge >= 0
    if has.any():
        st = net._seg_time(mode)[edge[has]]
        sl = net.seg_length_m[edge[has]]
        t_road = np.where(np.isfinite(st), along[has] * st / sl, along[has] / v_off)
        t_along[has] = t_road
    t = snap_m / v_off + t_along
    d = snap_m + along
    off = s["off_network"].to_numpy(dtype=bool)
    t[off] = np.nan
    d[off] = np.nan
    return t, d


# --------------------------------------------------------------------------- OD


@dataclass(frozen=True, eq=False)
class ODCosts:
    """Sparse origin-destination travel costs.

    Attributes
    ----------
    origin, dest : ndarray, shape (n_pairs,), int64
        Positions (0-based) in the origin and destination tables.
    time_s : ndarray, shape (n_pairs,), float64
        Travel time, seconds, access at both ends included; may be exactly 0.
    dist_m : ndarray, shape (n_pairs,), float64
        Distance, metres (network + access at both ends).
    n_origins, n_dest : int
        Table sizes (the matrix shape).
    origin_index, dest_index : pandas.Index or None
        Labels of the origin and destination tables.

    Notes
    -----
    Only pairs within the cutoff are present; unreachable pairs are absent (never 0).
    Pairs are sorted by (origin, dest).
    """

    origin: np.ndarray
    dest: np.ndarray
    time_s: np.ndarray
    dist_m: np.ndarray
    n_origins: int
    n_dest: int
    origin_index: pd.Index | None = None
    dest_index: pd.Index | None = None

    def __len__(self) -> int:
        return int(self.origin.shape[0])

    def to_dataframe(self, labels: bool = False) -> pd.DataFrame:
        """Pairs as a DataFrame ``origin, dest, time_s, dist_m``.

        Parameters
        ----------
        labels : bool
            Add ``origin_id`` and ``dest_id`` columns from the table indexes.
        """
        df = pd.DataFrame({"origin": self.origin, "dest": self.dest,
                           "time_s": self.time_s, "dist_m": self.dist_m})
        if labels and self.origin_index is not None and self.dest_index is not None:
            df.insert(2, "origin_id", np.asarray(self.origin_index)[self.origin])
            df.insert(3, "dest_id", np.asarray(self.dest_index)[self.dest])
        return df

    def to_csr(self, value: str = "time_s", offset: float = 0.0) -> sp.csr_matrix:
        """Costs as a CSR matrix of shape (n_origins, n_dest).

        Parameters
        ----------
        value : {"time_s", "dist_m"}
        offset : float
            Added to every stored value. Zero-cost pairs are stored as **explicit zeros**
            with ``offset=0``; code that treats the sparsity structure as "reachable" must
            not call ``eliminate_zeros`` or use ``.nonzero()`` - pass e.g. ``offset=1.0``
            if it does, or use :meth:`within`.
        """
        data = getattr(self, value) + offset
        m = sp.csr_matrix((data, (self.origin, self.dest)), shape=(self.n_origins, self.n_dest))
        return m

    def within(self, time_s: float | None = None, dist_m: float | None = None) -> sp.csr_matrix:
        """Boolean coverage matrix: True where the pair is within the limits (inclusive).

        Parameters
        ----------
        time_s : float, optional
            Covered iff ``time_s <= limit`` (a pair exactly at the standard is covered).
        dist_m : float, optional
            Covered iff ``dist_m <= limit``.

        Returns
        -------
        scipy.sparse.csr_matrix, shape (n_origins, n_dest), bool
            Zero-time pairs are included.
        """
        ok = np.ones(len(self), dtype=bool)
        if time_s is not None:
            ok &= self.time_s <= time_s
        if dist_m is not None:
            ok &= self.dist_m <= dist_m
        m = sp.csr_matrix((np.ones(int(ok.sum()), dtype=bool), (self.origin[ok], self.dest[ok])),
                          shape=(self.n_origins, self.n_dest))
        return m


def _groups(nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unique nodes, and points grouped by node: (uniq, order, starts) with counts via diff."""
    order = np.argsort(nodes, kind="stable")
    sn = nodes[order]
    uniq, starts = np.unique(sn, return_index=True)
    return uniq, order, np.append(starts, len(sn))


def _expand(a_grp: np.ndarray, b_grp: np.ndarray, a_order, a_starts, b_order, b_starts):
    """Expand node-level pairs (group ids) to point-level pairs (positions)."""
    ca = a_starts[a_grp + 1] - a_starts[a_grp]
    cb = b_starts[b_grp + 1] - b_starts[b_grp]
    cnt = ca * cb
    tot = int(cnt.sum())
    pid = np.repeat(np.arange(len(a_grp)), cnt)
    off = np.arange(tot) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    cbp = cb[pid]
    ia = a_order[a_starts[a_grp[pid]] + off // cbp]
    ib = b_order[b_starts[b_grp[pid]] + off % cbp]
    return pid, ia, ib


# ------------------------------------------------------------- bounded Dijkstra kernels
#
# Heap (4-ary) Dijkstra [1] over the CSR arrays of a _Graph, compiled with numba. Per
# source, only the nodes it reaches are touched: distances live in arrays of n entries
# that are allocated once per call and reset through a list of touched nodes, so a search
# limited to a few hundred nodes costs a few hundred node visits, not O(n) set-up.
# Both quantities travel together: the secondary one (e.g. the distance along the fastest
# path) is carried in the same pass instead of walking predecessor trees afterwards.
#
# Ties: a node's label is the lexicographic minimum of (primary, secondary[, seed label])
# over its paths. All edge weights are > 0, so every predecessor on an equal-primary path
# is settled before the node itself and the rule is exact: among equally short paths the
# one with the smallest secondary quantity is reported (and, for several seeds, the
# lowest seed label). The heap is keyed on the primary quantity with lazy deletion; every
# edge is relaxed at most once per search, so it never holds more than nnz + seeds items.


@njit(cache=True, nogil=True)
def _heap_push(hk, hv, size, key, val):  # pragma: no cover - compiled
    """Add (key, val) to the 4-ary min-heap held in hk[:size], hv[:size]; return the new size."""
    i = size
    while i > 0:
        p = (i - 1) >> 2
        if hk[p] <= key:
            break
        hk[i] = hk[p]
        hv[i] = hv[p]
        i = p
    hk[i] = key
    hv[i] = val
    return size + 1


@njit(cache=True, nogil=True)
def _heap_pop(hk, hv, size):  # pragma: no cover - compiled
    """Remove the top item (the caller reads hk[0], hv[0] first); return the new size.

    4-ary heap: half the levels of a binary heap, and the four children share a cache line;
    about 25 % faster than a binary heap on the whole-graph searches of :func:`nearest`.
    """
    size -= 1
    key = hk[size]
    val = hv[size]
    i = 0
    while True:
        c = 4 * i + 1
        if c >= size:
            break
        b = c
        bk = hk[c]
        e = min(c + 4, size)
        for j in range(c + 1, e):
            if hk[j] < bk:
                bk = hk[j]
                b = j
        if bk >= key:
            break
        hk[i] = bk
        hv[i] = hv[b]
        i = b
    hk[i] = key
    hv[i] = val
    return size


@njit(cache=True, nogil=True)
def _grow(o_s, o_t, o_1, o_2, m):  # pragma: no cover - compiled
    """The four output arrays, doubled in size when full (m = items held)."""
    if m < o_s.shape[0]:
        return o_s, o_t, o_1, o_2
    cap = 2 * o_s.shape[0]
    n_s = np.empty(cap, np.int64)
    n_t = np.empty(cap, np.int64)
    n_1 = np.empty(cap)
    n_2 = np.empty(cap)
    n_s[:m] = o_s
    n_t[:m] = o_t
    n_1[:m] = o_1
    n_2[:m] = o_2
    return n_s, n_t, n_1, n_2


@njit(cache=True, nogil=True)
def _multi_kernel(indptr, indices, w1, w2, leaf, seed_node, seed_d1, seed_d2, seed_label,
                  lim):  # pragma: no cover - compiled
    """One Dijkstra search from many seeds: the best seed of every node.

    Parameters
    ----------
    indptr, indices, w1, w2, leaf
        As in :func:`_od_kernel`.
    seed_node : ndarray, shape (n_seed,), int64
        Node of each seed.
    seed_d1, seed_d2 : ndarray, shape (n_seed,), float64
        Initial primary and secondary quantities of each seed (e.g. access time, metres).
    seed_label : ndarray, shape (n_seed,), int64
        Label carried from each seed (e.g. the destination position).
    lim : float
        Largest primary distance kept (inclusive), seed value included.

    Returns
    -------
    d1, d2 : ndarray, shape (n,), float64
        Primary distance from the nearest seed and the secondary quantity along that path
        (inf where not reached within ``lim``).
    label : ndarray, shape (n,), int64
        Label of that seed (-1 where not reached).
    """
    n = indptr.shape[0] - 1
    d1 = np.full(n, np.inf)
    d2 = np.full(n, np.inf)
    lab = np.full(n, -1, np.int64)
    done = np.zeros(n, np.bool_)
    hcap = indices.shape[0] + seed_node.shape[0] + 1
    hk = np.empty(hcap)
    hv = np.empty(hcap, np.int64)
    size = 0
    for k in range(seed_node.shape[0]):
        v = seed_node[k]
        a = seed_d1[k]
        b = seed_d2[k]
        c = seed_label[k]
        if not a <= lim:
            continue
        if a < d1[v] or (a == d1[v] and (b < d2[v] or (b == d2[v] and c < lab[v]))):
            d1[v] = a
            d2[v] = b
            lab[v] = c
            size = _heap_push(hk, hv, size, a, v)
    while size > 0:
        u = hv[0]
        size = _heap_pop(hk, hv, size)
        if done[u]:
            continue
        done[u] = True
        du1 = d1[u]
        du2 = d2[u]
        lu = lab[u]
        for e in range(indptr[u], indptr[u + 1]):
            v = indices[e]
            nd1 = du1 + w1[e]
            if nd1 > lim:
                continue
            nd2 = du2 + w2[e]
            dv = d1[v]
            if nd1 < dv or (nd1 == dv and (nd2 < d2[v] or (nd2 == d2[v] and lu < lab[v]))):
                d1[v] = nd1
                d2[v] = nd2
                lab[v] = lu
                if not leaf[v]:  # a leaf is final now (a leaf seed is queued already)
                    size = _heap_push(hk, hv, size, nd1, v)
    return d1, d2, lab


@njit(cache=True, nogil=True)
def _contract_kernel(indptr, indices, w1, w2, und_ptr, und_idx, kept):  # pragma: no cover - compiled
    """Remove what no shortest path between kept nodes needs; bridge degree-2 chains.

    1. Dead ends: a node that is not kept and has at most one neighbour left (either
       direction) is removed, repeatedly, so whole dead-end trees without a kept node go:
       a simple path cannot pass through them.
    2. Chains: a remaining node that is not kept and has exactly two neighbours is an
       interior chain node. Each maximal chain between two other nodes ``x``, ``y`` becomes
       one edge ``x -> y`` (weights summed along the chain) when every step can be driven
       in that direction; likewise ``y -> x``. Chains ending where they start are dropped.
    3. Parallel edges keep the smallest (primary, secondary) pair, as :class:`_Graph` does.

    Every path between kept nodes of the result is a path of the input with the same
    weights, and every simple input path between kept nodes is represented, so shortest
    distances, the secondary quantity along them and the tie rule are unchanged (sums along
    a chain are formed chain-first, so values may differ in the last bits).

    Parameters
    ----------
    indptr, indices, w1, w2
        Search-direction CSR as in :func:`_od_kernel`.
    und_ptr, und_idx : ndarray, int64
        CSR of the distinct neighbours of each node in either direction.
    kept : ndarray, shape (n,), bool
        Nodes that must stay (sources, targets, seeds).

    Returns
    -------
    c_ptr, c_idx, c_w1, c_w2 : ndarray
        CSR of the reduced graph (m nodes).
    c_leaf : ndarray, shape (m,), bool
        Reduced nodes with one neighbour left (see :class:`_Graph`).
    new_id : ndarray, shape (n,), int64
        Position of each input node in the reduced graph, -1 if removed.
    """
    n = indptr.shape[0] - 1
    deg = np.empty(n, np.int64)
    alive = np.ones(n, np.bool_)
    stack = np.empty(n, np.int64)
    top = 0
    for v in range(n):
        deg[v] = und_ptr[v + 1] - und_ptr[v]
        if deg[v] <= 1 and not kept[v]:
            stack[top] = v
            top += 1
    while top > 0:  # every node is pushed at most once (when its degree first drops to <= 1)
        top -= 1
        v = stack[top]
        alive[v] = False
        for j in range(und_ptr[v], und_ptr[v + 1]):
            x = und_idx[j]
            if alive[x]:
                deg[x] -= 1
                if deg[x] == 1 and not kept[x]:
                    stack[top] = x
                    top += 1
    new_id = np.full(n, -1, np.int64)
    m = 0
    for v in range(n):
        if alive[v] and (kept[v] or deg[v] != 2):
            new_id[v] = m
            m += 1
    c_ptr = np.zeros(m + 1, np.int64)
    c_idx = np.empty(indices.shape[0], np.int64)  # one output edge per first edge at most
    c_w1 = np.empty(indices.shape[0])
    c_w2 = np.empty(indices.shape[0])
    c_leaf = np.zeros(m, np.bool_)
    mark = np.full(m, -1, np.int64)
    pos = np.empty(m, np.int64)
    k = 0
    for x in range(n):
        xn = new_id[x]
        if xn < 0:
            continue
        c_leaf[xn] = deg[x] == 1
        for e in range(indptr[x], indptr[x + 1]):
            cur = indices[e]
            if not alive[cur]:
                continue
            a1 = w1[e]
            a2 = w2[e]
            prev = x
            ok = True
            while new_id[cur] < 0:  # interior chain node: exactly two live neighbours
                nxt = -1
                for j in range(und_ptr[cur], und_ptr[cur + 1]):
                    z = und_idx[j]
                    if alive[z] and z != prev:
                        nxt = z
                        break
                f = -1
                for q in range(indptr[cur], indptr[cur + 1]):
                    if indices[q] == nxt:
                        f = q
                        break
                if f < 0:  # the chain cannot be driven this way
                    ok = False
                    break
                a1 += w1[f]
                a2 += w2[f]
                prev = cur
                cur = nxt
            if not ok or cur == x:
                continue
            yn = new_id[cur]
            if mark[yn] == xn:
                p = pos[yn]
                if a1 < c_w1[p] or (a1 == c_w1[p] and a2 < c_w2[p]):
                    c_w1[p] = a1
                    c_w2[p] = a2
            else:
                mark[yn] = xn
                pos[yn] = k
                c_idx[k] = yn
                c_w1[k] = a1
                c_w2[k] = a2
                k += 1
        c_ptr[xn + 1] = k
    return c_ptr, c_idx[:k].copy(), c_w1[:k].copy(), c_w2[:k].copy(), c_leaf, new_id


#: Sources per kernel call (Ctrl-C is only seen between calls).
_SOURCES_PER_CALL = 512
#: Threads for the per-source OD searches (:func:`od_costs`, :func:`nearest` with k > 1).
#: None = the ``SITEPLAN_THREADS`` environment variable if set, else
#: ``numba.get_num_threads()`` (all cores, or ``NUMBA_NUM_THREADS``). 1 = serial. Results
#: do not depend on it (see :func:`_search`).
THREADS: int | None = None
#: Fewest sources for which the searches are split over threads.
_MIN_PARALLEL_SOURCES = 64
#: Fewest sources for which bounded searches are pruned by the distance to the nearest
#: target (one extra multi-source search; see :func:`_to_targets`).
_MIN_PRUNE_SOURCES = 64


@njit(cache=True, nogil=True)
def _transpose_kernel(ptr, idx, w):  # pragma: no cover - compiled
    """CSR of the transposed graph (counting sort, O(nodes + edges); rows stay sorted)."""
    m = ptr.shape[0] - 1
    t_ptr = np.zeros(m + 1, np.int64)
    for e in range(idx.shape[0]):
        t_ptr[idx[e] + 1] += 1
    for v in range(m):
        t_ptr[v + 1] += t_ptr[v]
    pos = t_ptr[:m].copy()
    t_idx = np.empty(idx.shape[0], np.int64)
    t_w = np.empty(idx.shape[0])
    for u in range(m):
        for e in range(ptr[u], ptr[u + 1]):
            v = idx[e]
            p = pos[v]
            t_idx[p] = u
            t_w[p] = w[e]
            pos[v] = p + 1
    return t_ptr, t_idx, t_w


def n_threads() -> int:
    """Threads the OD searches will use (see :data:`THREADS`)."""
    if THREADS is not None:
        return max(1, int(THREADS))
    env = os.environ.get("SITEPLAN_THREADS", "").strip()
    if env:
        try:
            return max(1, int(env))
        except ValueError:
            raise ValueError(f"SITEPLAN_THREADS must be an integer, got {env!r}") from None
    import numba

    return max(1, int(numba.get_num_threads()))


@njit(cache=True, nogil=True)
def _piece_search(indptr, indices, w1, w2, comp, c, comp_nodes, c0, size, pos, done, out1, out2, base,
                  start, s1, s2, inside):  # pragma: no cover - compiled
    """Dijkstra inside one non-core component ``c`` (its ``size`` nodes at
    ``comp_nodes[c0:c0 + size]``), from ``start`` with values (s1, s2): a node of the
    component (``inside``) or a boundary node whose edges into the component are the first
    step. Lexicographic (primary, secondary) minima are written to ``out1/out2[base + k]``
    for component node ``k`` (initialised to inf by the caller). Components are small
    (chains and dead-end trees), so the next node is found by a linear scan.
    """
    if inside:
        out1[base + pos[start]] = s1
        out2[base + pos[start]] = s2
    else:
        for e in range(indptr[start], indptr[start + 1]):
            v = indices[e]
            if comp[v] == c:
                q = base + pos[v]
                n1 = s1 + w1[e]
                n2 = s2 + w2[e]
                if n1 < out1[q] or (n1 == out1[q] and n2 < out2[q]):
                    out1[q] = n1
                    out2[q] = n2
    for _ in range(size):
        best = -1
        for k in range(size):
            q = base + k
            if not done[comp_nodes[c0 + k]] and out1[q] < np.inf:
                if best < 0 or out1[q] < out1[base + best] or (out1[q] == out1[base + best]
                                                               and out2[q] < out2[base + best]):
                    best = k
        if best < 0:
            break
        u = comp_nodes[c0 + best]
        done[u] = True
        du1 = out1[base + best]
        du2 = out2[base + best]
        for e in range(indptr[u], indptr[u + 1]):
            v = indices[e]
            if comp[v] == c and not done[v]:
                q = base + pos[v]
                n1 = du1 + w1[e]
                n2 = du2 + w2[e]
                if n1 < out1[q] or (n1 == out1[q] and n2 < out2[q]):
                    out1[q] = n1
                    out2[q] = n2
    for k in range(size):
        done[comp_nodes[c0 + k]] = False


@njit(cache=True, nogil=True)
def _anchor_kernel(indptr, indices, w1, w2, comp, comp_ptr, comp_nodes, comp_pos, bnd_ptr,
                   bnd_nodes):  # pragma: no cover - compiled
    """Travel from each boundary node of every non-core component to each of its nodes,
    inside the component only (see :class:`_Core`); on the transposed graph, the travel
    from each node to each boundary node.

    Returns
    -------
    a_off : ndarray, shape (n_comp + 1,), int64
        Component ``c`` owns entries ``a_off[c] .. a_off[c + 1]``: boundary slot ``s``,
        component node ``k`` (its position in ``comp_nodes``) at ``a_off[c] + s * size + k``.
    a1, a2 : ndarray, float64
        Primary and secondary quantity of those paths (inf: none inside the component).
    """
    n = indptr.shape[0] - 1
    ncomp = comp_ptr.shape[0] - 1
    a_off = np.zeros(ncomp + 1, np.int64)
    for c in range(ncomp):
        a_off[c + 1] = a_off[c] + (comp_ptr[c + 1] - comp_ptr[c]) * (bnd_ptr[c + 1] - bnd_ptr[c])
    a1 = np.full(a_off[ncomp], np.inf)
    a2 = np.full(a_off[ncomp], np.inf)
    done = np.zeros(n, np.bool_)
    for c in range(ncomp):
        size = comp_ptr[c + 1] - comp_ptr[c]
        for sl in range(bnd_ptr[c + 1] - bnd_ptr[c]):
            _piece_search(indptr, indices, w1, w2, comp, c, comp_nodes, comp_ptr[c], size, comp_pos, done, a1, a2,
                          a_off[c] + sl * size, bnd_nodes[bnd_ptr[c] + sl], 0.0, 0.0, False)
    return a_off, a1, a2


@njit(cache=True, nogil=True)
def _core_seeds(seed_node, seed_d1, seed_d2, seed_label, core_id, comp, comp_ptr, comp_pos, bnd_ptr, bnd_nodes,
                o_off, o1, o2):  # pragma: no cover - compiled
    """Seeds of the core search: a seed on a core node as it is; a seed inside a non-core
    component moved to each boundary node it can reach inside the component, with that
    travel added (out-anchors ``o_*``, see :class:`_Core`)."""
    cap = 0
    for k in range(seed_node.shape[0]):
        c = comp[seed_node[k]]
        cap += 1 if c < 0 else bnd_ptr[c + 1] - bnd_ptr[c]
    node = np.empty(cap, np.int64)
    s1 = np.empty(cap)
    s2 = np.empty(cap)
    lab = np.empty(cap, np.int64)
    m = 0
    for k in range(seed_node.shape[0]):
        v = seed_node[k]
        c = comp[v]
        if c < 0:
            node[m] = core_id[v]
            s1[m] = seed_d1[k]
            s2[m] = seed_d2[k]
            lab[m] = seed_label[k]
            m += 1
            continue
        size = comp_ptr[c + 1] - comp_ptr[c]
        for sl in range(bnd_ptr[c + 1] - bnd_ptr[c]):
            q = o_off[c] + sl * size + comp_pos[v]
            if o1[q] < np.inf:
                node[m] = core_id[bnd_nodes[bnd_ptr[c] + sl]]
                s1[m] = seed_d1[k] + o1[q]
                s2[m] = seed_d2[k] + o2[q]
                lab[m] = seed_label[k]
                m += 1
    return node[:m], s1[:m], s2[:m], lab[:m]


@njit(cache=True, nogil=True)
def _core_read(d1, d2, lab, indptr, indices, w1, w2, core_id, comp, comp_ptr, comp_nodes, comp_pos, bnd_ptr,
               bnd_nodes, a_off, a1, a2, seed_node, seed_d1, seed_d2, seed_label, query,
               lim):  # pragma: no cover - compiled
    """Search results at ``query`` nodes from the core search (``d1, d2, lab`` per core node).

    A core node is read directly. A node inside a non-core component takes the best
    (primary, secondary, label) of: each boundary node's result plus the travel from it
    into the component (in-anchors ``a_*``), and, for a seed in the same component, the
    travel inside the component from that seed (:func:`_piece_search`).
    """
    n = indptr.shape[0] - 1
    nq = query.shape[0]
    q1 = np.full(nq, np.inf)
    q2 = np.full(nq, np.inf)
    ql = np.full(nq, -1, np.int64)
    has_seed = np.zeros(comp_ptr.shape[0], np.bool_)
    for k in range(seed_node.shape[0]):
        c = comp[seed_node[k]]
        if c >= 0:
            has_seed[c] = True
    any_local = False
    for t in range(nq):
        v = query[t]
        c = comp[v]
        if c < 0:
            r = core_id[v]
            if d1[r] <= lim:
                q1[t] = d1[r]
                q2[t] = d2[r]
                ql[t] = lab[r]
            continue
        any_local = any_local or has_seed[c]
        size = comp_ptr[c + 1] - comp_ptr[c]
        for sl in range(bnd_ptr[c + 1] - bnd_ptr[c]):
            b = core_id[bnd_nodes[bnd_ptr[c] + sl]]
            q = a_off[c] + sl * size + comp_pos[v]
            x1 = d1[b] + a1[q]
            if not x1 <= lim:
                continue
            x2 = d2[b] + a2[q]
            lb = lab[b]
            if x1 < q1[t] or (x1 == q1[t] and (x2 < q2[t] or (x2 == q2[t] and lb < ql[t]))):
                q1[t] = x1
                q2[t] = x2
                ql[t] = lb
    if any_local:  # paths that stay inside a component, from a seed in it
        done = np.zeros(n, np.bool_)
        for k in range(seed_node.shape[0]):
            s = seed_node[k]
            c = comp[s]
            if c < 0:
                continue
            size = comp_ptr[c + 1] - comp_ptr[c]
            o1 = np.full(size, np.inf)
            o2 = np.full(size, np.inf)
            _piece_search(indptr, indices, w1, w2, comp, c, comp_nodes, comp_ptr[c], size, comp_pos, done, o1, o2, 0,
                          s, seed_d1[k], seed_d2[k], True)
            lb = seed_label[k]
            for t in range(nq):
                v = query[t]
                if comp[v] != c:
                    continue
                x1 = o1[comp_pos[v]]
                if not x1 <= lim:
                    continue
                x2 = o2[comp_pos[v]]
                if x1 < q1[t] or (x1 == q1[t] and (x2 < q2[t] or (x2 == q2[t] and lb < ql[t]))):
                    q1[t] = x1
                    q2[t] = x2
                    ql[t] = lb
    return q1, q2, ql


@njit(cache=True, nogil=True)
def _od_prepare(sources, tgt_nodes, tgt_num, n_tgt, nc, core_id, comp, comp_ptr, comp_nodes, comp_pos, bnd_ptr,
                bnd_nodes, a_off, a1, a2, o1, o2, indptr, indices, w1, w2, lim):  # pragma: no cover - compiled
    """Sources and targets of the OD searches put onto the core (see :class:`_Core`).

    Returns
    -------
    src_ptr, seed_node, seed_d1, seed_d2
        CSR: source -> its core seeds (the source's core node at 0, or the boundary nodes
        of its component with the travel to them).
    tgt_core : ndarray, shape (nc,), int64
        Target number of each core node, -1 if none.
    att_ptr, att_tgt, att_d1, att_d2
        CSR: core node -> targets inside a component it bounds, with the travel into it.
    loc_ptr, loc_tgt, loc_d1, loc_d2
        CSR: source -> targets in its own component, by paths inside the component.
    """
    ns = sources.shape[0]
    src_ptr = np.zeros(ns + 1, np.int64)
    for i in range(ns):
        s = sources[i]
        c = comp[s]
        k = 0
        if c < 0:
            k = 1
        else:
            size = comp_ptr[c + 1] - comp_ptr[c]
            for sl in range(bnd_ptr[c + 1] - bnd_ptr[c]):
                if o1[a_off[c] + sl * size + comp_pos[s]] < np.inf:
                    k += 1
        src_ptr[i + 1] = src_ptr[i] + k
    seed_node = np.empty(src_ptr[ns], np.int64)
    seed_d1 = np.empty(src_ptr[ns])
    seed_d2 = np.empty(src_ptr[ns])
    for i in range(ns):
        s = sources[i]
        c = comp[s]
        k = src_ptr[i]
        if c < 0:
            seed_node[k] = core_id[s]
            seed_d1[k] = 0.0
            seed_d2[k] = 0.0
            continue
        size = comp_ptr[c + 1] - comp_ptr[c]
        for sl in range(bnd_ptr[c + 1] - bnd_ptr[c]):
            q = a_off[c] + sl * size + comp_pos[s]
            if o1[q] < np.inf:
                seed_node[k] = core_id[bnd_nodes[bnd_ptr[c] + sl]]
                seed_d1[k] = o1[q]
                seed_d2[k] = o2[q]
                k += 1
    tgt_core = np.full(nc, -1, np.int64)
    att_ptr = np.zeros(nc + 1, np.int64)
    ncomp = comp_ptr.shape[0] - 1
    ctp = np.zeros(ncomp + 1, np.int64)  # component -> its targets (CSR)
    for j in range(tgt_nodes.shape[0]):
        v = tgt_nodes[j]
        c = comp[v]
        if c < 0:
            tgt_core[core_id[v]] = tgt_num[j]
            continue
        ctp[c + 1] += 1
        size = comp_ptr[c + 1] - comp_ptr[c]
        for sl in range(bnd_ptr[c + 1] - bnd_ptr[c]):
            if a1[a_off[c] + sl * size + comp_pos[v]] < np.inf:
                att_ptr[core_id[bnd_nodes[bnd_ptr[c] + sl]] + 1] += 1
    for v in range(nc):
        att_ptr[v + 1] += att_ptr[v]
    for c in range(ncomp):
        ctp[c + 1] += ctp[c]
    att_tgt = np.empty(att_ptr[nc], np.int64)
    att_d1 = np.empty(att_ptr[nc])
    att_d2 = np.empty(att_ptr[nc])
    ct_node = np.empty(ctp[ncomp], np.int64)
    ct_num = np.empty(ctp[ncomp], np.int64)
    apos = att_ptr[:nc].copy()
    cpos = ctp[:ncomp].copy()
    for j in range(tgt_nodes.shape[0]):
        v = tgt_nodes[j]
        c = comp[v]
        if c < 0:
            continue
        ct_node[cpos[c]] = v
        ct_num[cpos[c]] = tgt_num[j]
        cpos[c] += 1
        size = comp_ptr[c + 1] - comp_ptr[c]
        for sl in range(bnd_ptr[c + 1] - bnd_ptr[c]):
            q = a_off[c] + sl * size + comp_pos[v]
            if a1[q] < np.inf:
                b = core_id[bnd_nodes[bnd_ptr[c] + sl]]
                att_tgt[apos[b]] = tgt_num[j]
                att_d1[apos[b]] = a1[q]
                att_d2[apos[b]] = a2[q]
                apos[b] += 1
    # paths inside a component, from a source to the targets in it
    loc_ptr = np.zeros(ns + 1, np.int64)
    cap = 0
    for i in range(ns):
        c = comp[sources[i]]
        if c >= 0:
            cap += ctp[c + 1] - ctp[c]
    loc_tgt = np.empty(cap, np.int64)
    loc_d1 = np.empty(cap)
    loc_d2 = np.empty(cap)
    done = np.zeros(indptr.shape[0] - 1, np.bool_)
    m = 0
    for i in range(ns):
        s = sources[i]
        c = comp[s]
        if c >= 0 and ctp[c + 1] > ctp[c]:
            size = comp_ptr[c + 1] - comp_ptr[c]
            l1 = np.full(size, np.inf)
            l2 = np.full(size, np.inf)
            _piece_search(indptr, indices, w1, w2, comp, c, comp_nodes, comp_ptr[c], size, comp_pos, done, l1, l2, 0,
                          s, 0.0, 0.0, True)
            for q in range(ctp[c], ctp[c + 1]):
                x1 = l1[comp_pos[ct_node[q]]]
                if x1 < np.inf and x1 <= lim:
                    loc_tgt[m] = ct_num[q]
                    loc_d1[m] = x1
                    loc_d2[m] = l2[comp_pos[ct_node[q]]]
                    m += 1
        loc_ptr[i + 1] = m
    return (src_ptr, seed_node, seed_d1, seed_d2, tgt_core, att_ptr, att_tgt, att_d1, att_d2, loc_ptr,
            loc_tgt[:m], loc_d1[:m], loc_d2[:m])


@njit(cache=True, nogil=True)
def _od_kernel(indptr, indices, w1, w2, i0, i1, src_ptr, seed_node, seed_d1, seed_d2, tgt_core, att_ptr, att_tgt,
               att_d1, att_d2, n_tgt, loc_ptr, loc_tgt, loc_d1, loc_d2, lim, h, hlim):  # pragma: no cover - compiled
    """One bounded Dijkstra search on the core per source ``i0 <= i < i1``; the pairs
    (source, target) found within ``lim`` (see :func:`_od_prepare` for the inputs).

    A source starts from its core seeds. A target on a core node is recorded when its node
    is settled; a target inside a component takes the best of the paths inside its
    component from the source (``loc_*``) and, for every boundary node settled, that node's
    distance plus the travel into the component (``att_*``).

    Parameters
    ----------
    indptr, indices, w1, w2
        CSR of the core in the search direction; primary (minimised) and secondary edge
        weights, > 0.
    lim : float
        Largest primary distance kept (inclusive); ``inf`` = no limit.
    h : ndarray, shape (nc,), float64
        Lower bound of the primary distance from each core node to the nearest target (inf
        if none within ``lim``; zeros = no pruning).
    hlim : float
        A node v reached at distance d is not queued when ``d + h[v] > hlim``: no target
        within ``lim`` can be reached through it. ``hlim`` is ``lim`` plus a relative
        margin of 1e-9 for rounding (the sums are formed in a different order), so pruning
        never drops a pair.

    Returns
    -------
    src, tgt : ndarray, shape (n_pairs,), int64
        Source position and target number of each pair found.
    d1, d2 : ndarray, shape (n_pairs,), float64
        Primary distance (minimum) and secondary quantity along that path.
    """
    n = indptr.shape[0] - 1
    d1 = np.full(n, np.inf)
    d2 = np.zeros(n)
    done = np.zeros(n, np.bool_)
    touched = np.empty(n, np.int64)
    b1 = np.full(n_tgt, np.inf)
    b2 = np.full(n_tgt, np.inf)
    bt = np.empty(n_tgt, np.int64)
    hcap = indices.shape[0] + src_ptr[i1] - src_ptr[i0] + 1
    hk = np.empty(hcap)
    hv = np.empty(hcap, np.int64)
    o_s = np.empty(1024, np.int64)
    o_t = np.empty(1024, np.int64)
    o_1 = np.empty(1024)
    o_2 = np.empty(1024)
    m = 0
    for i in range(i0, i1):
        nb = 0
        for q in range(loc_ptr[i], loc_ptr[i + 1]):
            t = loc_tgt[q]
            if b1[t] == np.inf:
                bt[nb] = t
                nb += 1
            b1[t] = loc_d1[q]
            b2[t] = loc_d2[q]
        nt = 0
        size = 0
        for k in range(src_ptr[i], src_ptr[i + 1]):
            v = seed_node[k]
            a = seed_d1[k]
            if not a <= lim:
                continue
            if a < d1[v] or (a == d1[v] and seed_d2[k] < d2[v]):
                if d1[v] == np.inf:
                    touched[nt] = v
                    nt += 1
                d1[v] = a
                d2[v] = seed_d2[k]
                size = _heap_push(hk, hv, size, a, v)
        while size > 0:
            u = hv[0]
            size = _heap_pop(hk, hv, size)
            if done[u]:
                continue
            done[u] = True
            du1 = d1[u]
            du2 = d2[u]
            t = tgt_core[u]
            if t >= 0:
                o_s, o_t, o_1, o_2 = _grow(o_s, o_t, o_1, o_2, m)
                o_s[m] = i
                o_t[m] = t
                o_1[m] = du1
                o_2[m] = du2
                m += 1
            for q in range(att_ptr[u], att_ptr[u + 1]):
                x1 = du1 + att_d1[q]
                if x1 > lim:
                    continue
                x2 = du2 + att_d2[q]
                t = att_tgt[q]
                if x1 < b1[t] or (x1 == b1[t] and x2 < b2[t]):
                    if b1[t] == np.inf:
                        bt[nb] = t
                        nb += 1
                    b1[t] = x1
                    b2[t] = x2
            for e in range(indptr[u], indptr[u + 1]):
                v = indices[e]
                nd1 = du1 + w1[e]
                if nd1 > lim or nd1 + h[v] > hlim:
                    continue
                # a settled v has d1[v] <= du1 < nd1 (weights > 0): no test of done[v] needed
                nd2 = du2 + w2[e]
                dv = d1[v]
                if nd1 < dv or (nd1 == dv and nd2 < d2[v]):
                    if dv == np.inf:
                        touched[nt] = v
                        nt += 1
                    d1[v] = nd1
                    d2[v] = nd2
                    size = _heap_push(hk, hv, size, nd1, v)
        for j in range(nt):
            v = touched[j]
            d1[v] = np.inf
            d2[v] = 0.0
            done[v] = False
        for j in range(nb):
            t = bt[j]
            o_s, o_t, o_1, o_2 = _grow(o_s, o_t, o_1, o_2, m)
            o_s[m] = i
            o_t[m] = t
            o_1[m] = b1[t]
            o_2[m] = b2[t]
            m += 1
            b1[t] = np.inf
            b2[t] = np.inf
    return o_s[:m].copy(), o_t[:m].copy(), o_1[:m].copy(), o_2[:m].copy()


@dataclass(frozen=True, eq=False)
class _Core:
    """The point-independent reduction of a :class:`_Graph`, computed once per graph.

    :func:`_contract_kernel` with no kept node: dead-end trees removed, degree-2 chains
    bridged. The removed nodes fall into non-core components (connected through removed
    nodes, either direction: a chain with the dead-end trees on it, or a dead-end tree on a
    core node), each touching at most two core nodes (its boundary). A multi-source
    search then runs on the core alone: seeds inside a component start at its boundary
    nodes with the travel to them added (out-anchors), and a query inside a component is
    read from its boundary nodes plus the travel into it (in-anchors), or from a seed in
    the same component along a path inside it. Every path leaves or enters a component
    through its boundary, so the results are those of the search on the whole graph
    (sums are formed in another order, so values may differ in the last bits).

    Attributes
    ----------
    ptr, idx, w1, w2 : ndarray
        CSR of the core graph (``nc`` nodes; no core node is a leaf).
    leaf : ndarray, shape (nc,), bool
        All False (for :func:`_multi_kernel`).
    core_id : ndarray, shape (n,), int64
        Core number of each node, -1 if removed.
    comp : ndarray, shape (n,), int64
        Non-core component of each removed node, -1 for core nodes.
    comp_ptr, comp_nodes : ndarray, int64
        CSR: component -> its removed nodes.
    comp_pos : ndarray, shape (n,), int64
        Position of each removed node in its component's ``comp_nodes`` slice.
    bnd_ptr, bnd_nodes : ndarray, int64
        CSR: component -> the core nodes adjacent to it (input node numbers).
    a_off, a1, a2 : ndarray
        In-anchors: travel from each boundary node into its component
        (:func:`_anchor_kernel`); ``o1, o2`` (same layout): out-anchors, travel from each
        component node to each boundary node.
    """

    ptr: np.ndarray
    idx: np.ndarray
    w1: np.ndarray
    w2: np.ndarray
    leaf: np.ndarray
    core_id: np.ndarray
    comp: np.ndarray
    comp_ptr: np.ndarray
    comp_nodes: np.ndarray
    comp_pos: np.ndarray
    bnd_ptr: np.ndarray
    bnd_nodes: np.ndarray
    a_off: np.ndarray
    a1: np.ndarray
    a2: np.ndarray
    o1: np.ndarray
    o2: np.ndarray

    @cached_property
    def transposed(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """CSR (ptr, idx, w1) of the transposed core (for the distance to the targets)."""
        return _transpose_kernel(self.ptr, self.idx, self.w1)

    def to_targets(self, tgt_core: np.ndarray, att_ptr: np.ndarray, att_d1: np.ndarray, lim: float) -> np.ndarray:
        """Primary distance from every core node to its nearest target within ``lim`` (inf
        beyond): one multi-source search on the transposed core, seeded at the targets' core
        nodes (0) and at the boundary nodes of components holding a target (the travel into
        the component). :func:`_od_kernel` skips nodes from which no target can be reached in
        time: a target t found through v has d(s, t) >= d(s, v) + h(v), so skipping v when
        that exceeds the limit loses no pair and changes no value."""
        t_ptr, t_idx, t_w = self.transposed
        direct = np.flatnonzero(tgt_core >= 0)
        has_att = np.flatnonzero(np.diff(att_ptr) > 0)
        att_min = np.minimum.reduceat(att_d1, att_ptr[has_att]) if len(has_att) else np.empty(0)
        seeds = np.concatenate([direct, has_att]).astype(np.int64)
        sd = np.concatenate([np.zeros(len(direct)), att_min])
        h, _, _ = _multi_kernel(t_ptr, t_idx, t_w, t_w, self.leaf, seeds, sd, sd,
                                np.zeros(len(seeds), dtype=np.int64), float(lim))
        return h

    @staticmethod
    def build(g: _Graph) -> _Core:
        ptr, idx, w1, w2, leaf, core_id = _contract_kernel(g.indptr, g.indices, g.w1, g.w2, g.und_ptr, g.und_idx,
                                                           np.zeros(g.n, dtype=bool))
        removed = core_id < 0
        a = np.repeat(np.arange(g.n), np.diff(g.und_ptr))
        b = g.und_idx
        both = removed[a] & removed[b]
        adj = sp.csr_matrix((np.ones(int(both.sum()), np.int8), (a[both], b[both])), shape=(g.n, g.n))
        rem = np.flatnonzero(removed)
        _, lab = connected_components(adj[rem][:, rem], directed=False)
        comp = np.full(g.n, -1, np.int64)
        comp[rem] = lab
        ncomp = int(lab.max()) + 1 if len(rem) else 0
        order = np.argsort(lab, kind="stable")
        comp_nodes = rem[order].astype(np.int64)
        comp_ptr = np.zeros(ncomp + 1, np.int64)
        np.cumsum(np.bincount(lab, minlength=ncomp), out=comp_ptr[1:])
        comp_pos = np.full(g.n, -1, np.int64)
        comp_pos[comp_nodes] = np.arange(len(comp_nodes)) - np.repeat(comp_ptr[:-1], np.diff(comp_ptr))
        edge = removed[a] & ~removed[b]
        keys = np.unique(comp[a[edge]] * g.n + b[edge])
        bnd_ptr = np.zeros(ncomp + 1, np.int64)
        np.cumsum(np.bincount(keys // g.n, minlength=ncomp), out=bnd_ptr[1:])
        bnd_nodes = (keys % g.n).astype(np.int64)
        a_off, a1, a2 = _anchor_kernel(g.indptr, g.indices, g.w1, g.w2, comp, comp_ptr, comp_nodes, comp_pos,
                                       bnd_ptr, bnd_nodes)
        # out-anchors: the same searches on the transposed graph
        rows = np.repeat(np.arange(g.n), np.diff(g.indptr))
        t_order = np.argsort(g.indices, kind="stable")
        t_ptr = np.zeros(g.n + 1, np.int64)
        np.cumsum(np.bincount(g.indices, minlength=g.n), out=t_ptr[1:])
        _, o1, o2 = _anchor_kernel(t_ptr, rows[t_order].astype(np.int64), g.w1[t_order], g.w2[t_order], comp,
                                   comp_ptr, comp_nodes, comp_pos, bnd_ptr, bnd_nodes)
        return _Core(ptr=ptr, idx=idx, w1=w1, w2=w2, leaf=leaf, core_id=core_id, comp=comp, comp_ptr=comp_ptr,
                     comp_nodes=comp_nodes, comp_pos=comp_pos, bnd_ptr=bnd_ptr, bnd_nodes=bnd_nodes, a_off=a_off,
                     a1=a1, a2=a2, o1=o1, o2=o2)


def _contract(g: _Graph, kept_nodes: np.ndarray):
    """Reduced graph for searches between ``kept_nodes`` (see :func:`_contract_kernel`)."""
    kept = np.zeros(g.n, dtype=bool)
    kept[kept_nodes] = True
    return _contract_kernel(g.indptr, g.indices, g.w1, g.w2, g.und_ptr, g.und_idx, kept)


def _search(g: _Graph, sources: np.ndarray, tgt_of: np.ndarray, lim: float):
    """Bounded single-source searches from every node in ``sources`` on ``g``.

    The searches run on the graph's core (:class:`_Core`: dead-end trees and degree-2
    chains reduced once per network and mode), with the sources and targets put onto it by
    :func:`_od_prepare`, by :func:`_od_kernel`: with a finite ``lim`` and at least
    ``_MIN_PRUNE_SOURCES`` sources, pruned by the distance to the nearest target
    (:meth:`_Core.to_targets`); with at least ``_MIN_PARALLEL_SOURCES`` sources, in blocks
    of consecutive sources on :func:`n_threads` threads (the kernel releases the GIL; each
    call has its own work arrays). Blocks are concatenated in source order, so the output is
    the same, element for element, whatever the thread count.

    Parameters
    ----------
    g : _Graph
    sources : ndarray, shape (n_src,), int64
        Source nodes.
    tgt_of : ndarray, shape (g.n,), int64
        Target number per node, -1 = not a target.
    lim : float
        Largest primary distance kept (inclusive; seconds or metres); ``inf`` = none.

    Returns
    -------
    (src, tgt, d1, d2) : tuple of ndarray, shape (n_pairs,)
        Position in ``sources`` (int64), target number (int64), primary distance and
        secondary quantity along that path (float64), one row per (source, target) reached.
    """
    src = np.ascontiguousarray(sources, dtype=np.int64)
    tgt_of = np.ascontiguousarray(tgt_of, dtype=np.int64)
    tn = np.flatnonzero(tgt_of >= 0).astype(np.int64)
    c = g.core
    lim = float(lim)
    nc = len(c.ptr) - 1
    n_tgt = int(tgt_of.max()) + 1 if len(tn) else 0
    (src_ptr, seed_node, seed_d1, seed_d2, tgt_core, att_ptr, att_tgt, att_d1, att_d2, loc_ptr, loc_tgt, loc_d1,
     loc_d2) = _od_prepare(src, tn, tgt_of[tn], n_tgt, nc, c.core_id, c.comp, c.comp_ptr, c.comp_nodes, c.comp_pos,
                           c.bnd_ptr, c.bnd_nodes, c.a_off, c.a1, c.a2, c.o1, c.o2, g.indptr, g.indices, g.w1, g.w2,
                           lim)
    h, hlim = np.zeros(nc), np.inf
    if np.isfinite(lim) and len(src) >= _MIN_PRUNE_SOURCES:
        h = c.to_targets(tgt_core, att_ptr, att_d1, lim)
        hlim = lim + abs(lim) * 1e-9
    nth = n_threads() if len(src) >= _MIN_PARALLEL_SOURCES else 1
    # blocks of consecutive sources; ~4 per thread balance uneven search sizes
    step = _SOURCES_PER_CALL if nth == 1 else max(8, min(_SOURCES_PER_CALL, -(-len(src) // (4 * nth))))
    starts = list(range(0, len(src), step))

    def run(c0: int):
        return _od_kernel(c.ptr, c.idx, c.w1, c.w2, c0, min(c0 + step, len(src)), src_ptr, seed_node, seed_d1,
                          seed_d2, tgt_core, att_ptr, att_tgt, att_d1, att_d2, n_tgt, loc_ptr, loc_tgt, loc_d1,
                          loc_d2, lim, h, float(hlim))

    if nth == 1 or len(starts) == 1:
        out = [run(c0) for c0 in starts]
    else:  # the kernel releases the GIL; map keeps block order, so the result is the serial one
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=min(nth, len(starts))) as ex:
            out = list(ex.map(run, starts))
    if not out:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0), np.empty(0)
    return tuple(np.concatenate([o[k] for o in out]) for k in range(4))


def _search_multi(g: _Graph, seed_node: np.ndarray, seed_d1: np.ndarray, seed_d2: np.ndarray,
                  seed_label: np.ndarray, lim: float, query: np.ndarray):
    """Multi-seed search on ``g`` (see :func:`_multi_kernel`), read at the ``query`` nodes.

    Returns
    -------
    d1, d2 : ndarray, shape (n_query,), float64
        Primary distance from the best seed and secondary quantity along that path (inf
        where not reached within ``lim``).
    label : ndarray, shape (n_query,), int64
        That seed's label (-1 where not reached).
    """
    seed_node = np.ascontiguousarray(seed_node, dtype=np.int64)
    query = np.ascontiguousarray(query, dtype=np.int64)
    c = g.core
    lim = float(lim)
    s_node, s1, s2, s_lab = _core_seeds(seed_node, np.ascontiguousarray(seed_d1, dtype=np.float64),
                                        np.ascontiguousarray(seed_d2, dtype=np.float64),
                                        np.ascontiguousarray(seed_label, dtype=np.int64), c.core_id, c.comp,
                                        c.comp_ptr, c.comp_pos, c.bnd_ptr, c.bnd_nodes, c.a_off, c.o1, c.o2)
    d1, d2, lab = _multi_kernel(c.ptr, c.idx, c.w1, c.w2, c.leaf, s_node, s1, s2, s_lab, lim)
    return _core_read(d1, d2, lab, g.indptr, g.indices, g.w1, g.w2, c.core_id, c.comp, c.comp_ptr, c.comp_nodes,
                      c.comp_pos, c.bnd_ptr, c.bnd_nodes, c.a_off, c.a1, c.a2, seed_node,
                      np.ascontiguousarray(seed_d1, dtype=np.float64), np.ascontiguousarray(seed_d2, dtype=np.float64),
                      np.ascontiguousarray(seed_label, dtype=np.int64), query, lim)


def _od_core(net, s_src, s_tgt, a1_src, a2_src, a1_tgt, a2_tgt, g_fwd_fn, g_rev_fn,
             cutoff1, same_xy, v_off, primary_is_time, chunk_bytes=None, secondary=True, cutoff2=None):
    """Point-level pairs src -> tgt: (isrc, itgt, primary, secondary).

    g_fwd_fn() gives the graph for searches starting at src nodes; g_rev_fn() the transposed
    graph (searches starting at tgt nodes). Sides are chosen by unique-node count.
    ``chunk_bytes`` is ignored (kept for callers; the kernel needs no distance matrix).
    """
    on_s = np.flatnonzero(~s_src["off_network"].to_numpy(dtype=bool))
    on_t = np.flatnonzero(~s_tgt["off_network"].to_numpy(dtype=bool))
    empty = (np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0), np.empty(0))
    if len(on_s) == 0 or len(on_t) == 0:
        return empty
    ns = s_src["node"].to_numpy(dtype=np.int64)[on_s]
    nt = s_tgt["node"].to_numpy(dtype=np.int64)[on_t]
    us, os_, ss = _groups(ns)
    ut, ot, st = _groups(nt)
    swap = len(ut) < len(us)
    if swap:  # search from targets on the transposed graph
        g = g_rev_fn()
        a_u, a_o, a_s, b_u, b_o, b_s = ut, ot, st, us, os_, ss
    else:
        g = g_fwd_fn()
        a_u, a_o, a_s, b_u, b_o, b_s = us, os_, ss, ut, ot, st
    lim = np.inf
    if cutoff1 is not None:
        lim = cutoff1 - np.nanmin(a1_src[on_s]) - np.nanmin(a1_tgt[on_t])
        if lim < 0:
            return empty
    elif cutoff2 is not None and np.isfinite(g.ratio):
        # only the other quantity is limited: a qualifying path has secondary <= net2, so
        # its primary is <= net2 x max(w1/w2) over the edges (exact bound, no pair lost)
        net2 = cutoff2 - np.nanmin(a2_src[on_s]) - np.nanmin(a2_tgt[on_t])
        if net2 < 0:
            return empty
        lim = net2 * g.ratio * (1 + 1e-12)
    tgt_of = np.full(g.n, -1, dtype=np.int64)
    tgt_of[b_u] = np.arange(len(b_u))
    ga, gb, w1, w2 = _search(g, a_u, tgt_of, lim)
    if not secondary:
        w2 = np.full(len(w1), np.nan)
    pid, ia, ib = _expand(ga, gb, a_o, a_s, b_o, b_s)
    if swap:
        isrc, itgt = on_s[ib], on_t[ia]
    else:
        isrc, itgt = on_s[ia], on_t[ib]
    p1 = w1[pid] + a1_src[isrc] + a1_tgt[itgt]
    p2 = w2[pid] + a2_src[isrc] + a2_tgt[itgt]
    # same node: straight off-road when quicker (coincident points -> 0)
    same = w1[pid] == 0
    if same.any() and same_xy is not None:
        (sx, sy), (tx, ty) = same_xy
        w = np.flatnonzero(same)
        e = np.hypot(sx[isrc[w]] - tx[itgt[w]], sy[isrc[w]] - ty[itgt[w]])
        e = np.where(np.isfinite(e), e, np.inf)
        e_time = e / v_off
        d1, d2 = (e_time, e) if primary_is_time else (e, e_time)
        better = d1 < p1[w]
        p1[w[better]] = d1[better]
        p2[w[better]] = d2[better]
    keep = np.ones(len(p1), dtype=bool) if cutoff1 is None else p1 <= cutoff1
    return isrc[keep], itgt[keep], p1[keep], p2[keep]


def _cache_key(net, s_o, s_d, mode, params) -> str:
    d = hashlib.sha256()
    d.update(_CACHE_VERSION.encode())
    d.update(net.content_hash().encode())
    for s in (s_o, s_d):
        for c in ("node", "snap_m", "along_m", "edge", "off_network", "x", "y"):
            d.update(np.ascontiguousarray(s[c].to_numpy()).tobytes())
    d.update(repr((mode, params)).encode())
    return d.hexdigest()


def _check_cutoff(name: str, value: Any, unit: str) -> float | None:
    """None, or the cutoff as a float >= 0 (inf allowed); ValueError for negative, NaN, text."""
    if value is None:
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = math.nan
    if isinstance(value, (bool, np.bool_)) or not v >= 0:
        raise ValueError(f"{name} must be a number >= 0 ({unit}) or None, got {value!r}")
    return v


def od_costs(
    net: TravelNetwork,
    origins: Any,
    destinations: Any,
    mode: str,
    cutoff_s: float | None = None,
    off_road_speed_kph: float = 3.0,
    directed: bool = True,
    *,
    cutoff_m: float | None = None,
    weight: str = "time",
    max_snap_m: float | None = None,
    cache_dir: str | Path | None = None,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    secondary: bool = True,
) -> ODCosts:
    """Travel costs from every origin to every destination within a cutoff.

    Parameters
    ----------
    net : TravelNetwork
    origins, destinations : GeoDataFrame or DataFrame
        Points (snapped here with ``max_snap_m`` and ``mode``) or the output of
        :func:`snap`. Positions in these tables are the ``origin``/``dest`` values.
    mode : str
        Travel mode (``"drive"``, ``"walk"``).
    cutoff_s : float, optional
        Keep pairs with ``time_s <= cutoff_s`` (seconds; inclusive; >= 0, 0 keeps only
        zero-cost pairs).
    off_road_speed_kph : float
        Speed over the straight off-road access distance, km/h (default 3 km/h).
    directed : bool
        True: one-way roads respected, costs are origin -> destination. False: every edge
        usable both ways (explicit opt-in; never done silently).
    cutoff_m : float, optional
        Keep pairs with ``dist_m <= cutoff_m`` (metres; inclusive; >= 0).
    weight : {"time", "distance"}
        Quantity minimised: fastest paths (default) or shortest paths on the roads ``mode``
        may use. The other quantity is measured along the chosen path.
    max_snap_m : float, optional
        Snap distance when points are given (default ``NetworkConfig().max_snap_m``).
    cache_dir : str or Path, optional
        Folder of an on-disk ``.npz`` cache keyed by a SHA-256 of the network arrays, the
        snapped points, mode and all parameters; None = no cache.
    chunk_bytes : int
        Accepted for compatibility and ignored (see Notes: memory no longer depends on it).
    secondary : bool
        Also measure the non-minimised quantity along each path (default; it is summed in
        the same search, at little cost). False leaves it NaN; the other quantity's cutoff
        is then not allowed.

    Returns
    -------
    ODCosts
        Pairs within the cutoff(s); unreachable and off-network points have no pairs.
        ``time_s`` and ``dist_m`` include access at both ends (off-road part at
        ``off_road_speed_kph``, along-road part at the segment speed).

    Raises
    ------
    NetworkError
        Unknown mode.
    CRSError
        Points without a CRS.
    ValueError
        A cutoff that is negative, NaN or not a number (the message names it).

    Notes
    -----
    Dijkstra [1]_ runs from the side with fewer distinct snapped nodes (points sharing a
    node are searched once), on the transposed graph when run from destinations; the
    result is the same. The search is limited to ``cutoff - min access`` (inclusive). When
    only the other quantity is cut (e.g. ``weight="time"`` with ``cutoff_m``), the search
    is still limited, to ``cutoff_m x max(time_s / length_m)`` over the edges: a path
    within ``cutoff_m`` cannot take longer than that, so no pair is lost.

    The searches run on the network's core, reduced once per network, mode and direction
    and kept with it (dead-end trees removed, chains of degree-2 nodes bridged; exact):
    an origin inside a removed piece starts from the piece's ends with the travel to them,
    a destination inside one is reached through the piece's ends or, from an origin in the
    same piece, along it. One compiled 4-ary-heap search per origin node visits only the
    core nodes within the limit and resets only those. The non-minimised
    quantity is carried along in the same search; among equally short paths the one with
    the smallest non-minimised quantity is reported (see the module notes on ties).

    With a cutoff and many sources, nodes from which no destination is within the
    remaining budget are not queued (exact). Sources are searched in blocks on
    :func:`n_threads` threads; the result does not depend on the thread count.

    Memory: no (sources x nodes) matrix is ever held. The graph of one mode, weight and
    direction with its core takes about 100 bytes per directed edge, built once (measured:
    14 MB for the 142,000-edge synthetic network of ``benchmarks/bench_od.py``); each
    search thread holds about 33 bytes per core node and 16 per core edge; each pair kept
    32 bytes. Guangyuan default (7,400 directed edges; 93,000 pairs within 15 km): under
    4 MB in all. A province-scale drive network (order of 2 million nodes and 5 million
    directed edges, e.g. Sichuan from OpenStreetMap; an estimate, not measured): about
    0.5 GB per graph direction (two when the search side is swapped) and 150 MB per
    thread, plus the pairs.

    References
    ----------
    .. [1] Dijkstra, E. W. (1959). A note on two problems in connexion with graphs.
       Numerische Mathematik 1, 269-271.
    """
    net._check_mode(mode)
    cutoff_s = _check_cutoff("cutoff_s", cutoff_s, "seconds")
    cutoff_m = _check_cutoff("cutoff_m", cutoff_m, "metres")
    if weight not in ("time", "distance"):
        raise ValueError("weight must be 'time' or 'distance'")
    if not secondary and (cutoff_m if weight == "time" else cutoff_s) is not None:
        raise ValueError("secondary=False cannot apply a cutoff on the non-minimised quantity")
    s_o = _as_snap(net, origins, max_snap_m, mode)
    s_d = _as_snap(net, destinations, max_snap_m, mode)
    oi = origins.index if hasattr(origins, "index") else None
    di = destinations.index if hasattr(destinations, "index") else None
    params = (cutoff_s, cutoff_m, float(off_road_speed_kph), bool(directed), weight, bool(secondary))
    path = None
    if cache_dir is not None:
        key = _cache_key(net, s_o, s_d, mode, params)
        path = Path(cache_dir) / f"{key}.npz"
        if path.exists():
            z = np.load(path)
            return ODCosts(z["origin"], z["dest"], z["time_s"], z["dist_m"], len(s_o), len(s_d), oi, di)
    t_o, d_o = _access(net, s_o, mode, off_road_speed_kph)
    t_d, d_d = _access(net, s_d, mode, off_road_speed_kph)
    v_off = off_road_speed_kph / 3.6
    if weight == "time":
        a1o, a2o, a1d, a2d, cut1, cut2 = t_o, d_o, t_d, d_d, cutoff_s, cutoff_m
    else:
        a1o, a2o, a1d, a2d, cut1, cut2 = d_o, t_o, d_d, t_d, cutoff_m, cutoff_s
    same_xy = ((s_o["x"].to_numpy(float), s_o["y"].to_numpy(float)),
               (s_d["x"].to_numpy(float), s_d["y"].to_numpy(float)))
    isrc, itgt, p1, p2 = _od_core(
        net, s_o, s_d, a1o, a2o, a1d, a2d,
        lambda: net._graph(mode, weight, False, directed),
        lambda: net._graph(mode, weight, True, directed),
        cut1, same_xy, v_off, weight == "time", chunk_bytes, secondary, cut2)
    if cut2 is not None:
        k = p2 <= cut2
        isrc, itgt, p1, p2 = isrc[k], itgt[k], p1[k], p2[k]
    t, d = (p1, p2) if weight == "time" else (p2, p1)
    # (origin, dest) pairs are unique, so sorting the combined key gives the lexsort order
    order = np.argsort(isrc.astype(np.int64) * max(len(s_d), 1) + itgt)
    res = ODCosts(isrc[order].astype(np.int64), itgt[order].astype(np.int64), t[order], d[order],
                  len(s_o), len(s_d), oi, di)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz.tmp")
        os.close(fd)
        with open(tmp, "wb") as f:
            np.savez(f, origin=res.origin, dest=res.dest, time_s=res.time_s, dist_m=res.dist_m)
        os.replace(tmp, path)
    return res


# --------------------------------------------------------------------------- components


def components(net: TravelNetwork, mode: str = "drive", connection: str = "strong") -> np.ndarray:
    """Connected-component label of every node for one mode.

    Parameters
    ----------
    net : TravelNetwork
    mode : str
        Only edges the mode may use count.
    connection : {"strong", "weak"}
        Strong: u and v share a label iff each can reach the other (one-way aware).

    Returns
    -------
    ndarray, shape (n_nodes,), int64
        Labels 0..k-1; label 0 is the largest component.
    """
    net._check_mode(mode)
    g = net._graph(mode, "time", False, True)
    _, lab = connected_components(g.csr, directed=True, connection=connection)
    cnt = np.bincount(lab)
    rank = np.empty_like(cnt)
    rank[np.argsort(-cnt, kind="stable")] = np.arange(len(cnt))
    return rank[lab].astype(np.int64)


def component_of(net: TravelNetwork, points: Any, mode: str = "drive", connection: str = "strong",
                 max_snap_m: float | None = None) -> pd.Series:
    """Component label of each point (-1 off network), aligned to ``points``.

    Points with different labels under ``connection="strong"`` cannot all reach each other;
    under ``"weak"`` they are not connected by any road at all.
    """
    s = _as_snap(net, points, max_snap_m, mode)
    lab = components(net, mode, connection)
    node = s["node"].to_numpy(dtype=np.int64)
    out = np.where(node >= 0, lab[np.clip(node, 0, None)], -1)
    return pd.Series(out, index=s.index, name="component")


def _reaches_any(g: _Graph, targets: np.ndarray) -> np.ndarray:
    """Bool per node of g: can the search from that node (in g's direction) reach a target."""
    n = g.n
    # reversed search graph with a super node n linked to all targets
    rt = g.csr.T.tocsr().tocoo()
    rows = np.concatenate([rt.row, np.full(len(targets), n)])
    cols = np.concatenate([rt.col, targets])
    h = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n + 1, n + 1))
    order = breadth_first_order(h, n, directed=True, return_predecessors=False)
    ok = np.zeros(n + 1, dtype=bool)
    ok[order] = True
    return ok[:n]


# --------------------------------------------------------------------------- nearest


def nearest(
    net: TravelNetwork,
    origins: Any,
    destinations: Any,
    mode: str,
    k: int = 1,
    cutoff_s: float | None = None,
    *,
    from_destinations: bool = False,
    off_road_speed_kph: float = 3.0,
    max_snap_m: float | None = None,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
) -> pd.DataFrame:
    """The k quickest destinations for every origin.

    Parameters
    ----------
    net : TravelNetwork
    origins, destinations : GeoDataFrame or snapped DataFrame
        As in :func:`od_costs`.
    mode : str
    k : int
        Number of destinations per origin (>= 1).
    cutoff_s : float, optional
        Ignore destinations farther than this (seconds, inclusive; >= 0).
    from_destinations : bool
        False: travel origin -> destination (e.g. village -> care site). True: travel
        destination -> origin (e.g. police station -> village); the table is still one row
        per origin.
    off_road_speed_kph, max_snap_m, chunk_bytes
        As in :func:`od_costs`.

    Returns
    -------
    pandas.DataFrame
        Aligned to ``origins.index``; for j = 1..k: ``dest_j`` (destination position, -1
        none), ``time_s_j`` (seconds, inf none), ``dist_m_j`` (metres, inf none), ordered by
        time; and ``reason``: "" when a destination was found, else ``"off network"``
        (origin not snapped), ``"different component"`` (no destination reachable in the
        travel direction at any time; one-way roads count), ``"beyond cutoff"`` or
        ``"no destination on the network"`` (none given, or all off network).

    Notes
    -----
    k = 1 is one multi-source Dijkstra [1]_ seeded at every destination's node with its
    access time (numba kernel); the search runs on the transposed graph for origin ->
    destination travel. It runs on the network's core, reduced once per network and mode
    (dead-end trees removed, degree-2 chains bridged) and kept with it: a destination inside
    a removed piece starts at the piece's ends with the travel to them, an origin inside one
    is read from the piece's ends plus the travel into it (see ``_Core``), so a call costs
    one search of the core and nothing proportional to the whole network. Ties: equal times -> the shorter distance along the path, then the lower
    destination position. k > 1 uses :func:`od_costs` (from the side with fewer nodes) and
    keeps the k best; without a cutoff that is a full search from every node of the
    smaller side.

    References
    ----------
    .. [1] Dijkstra, E. W. (1959). A note on two problems in connexion with graphs.
       Numerische Mathematik 1, 269-271.
    """
    net._check_mode(mode)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be an integer >= 1 (destinations per origin), got {k!r}")
    cutoff_s = _check_cutoff("cutoff_s", cutoff_s, "seconds")
    s_o = _as_snap(net, origins, max_snap_m, mode)
    s_d = _as_snap(net, destinations, max_snap_m, mode)
    n_o = len(s_o)
    dest = np.full((n_o, k), -1, dtype=np.int64)
    tt = np.full((n_o, k), np.inf)
    dd = np.full((n_o, k), np.inf)
    t_o, d_o = _access(net, s_o, mode, off_road_speed_kph)
    t_d, d_d = _access(net, s_d, mode, off_road_speed_kph)
    v_off = off_road_speed_kph / 3.6
    # columns read once (each DataFrame column access costs tens of microseconds)
    off_o = s_o["off_network"].to_numpy(dtype=bool)
    off_d = s_d["off_network"].to_numpy(dtype=bool)
    nodes_o = s_o["node"].to_numpy(np.int64)
    nodes_d = s_d["node"].to_numpy(np.int64)
    if k == 1:
        on_d = np.flatnonzero(~off_d)
        on_o = np.flatnonzero(~off_o)
        if len(on_d) and len(on_o):
            g = net._graph(mode, "time", reverse=not from_destinations)
            lim = np.inf if cutoff_s is None else cutoff_s - np.nanmin(t_o[on_o])
            node_o = nodes_o[on_o]
            nd_on = nodes_d[on_d]
            D1, D2, L = _search_multi(g, nd_on, t_d[on_d], d_d[on_d], on_d, max(lim, 0.0), node_o)
            reach = np.isfinite(D1)
            oo = on_o[reach]
            tt[oo, 0] = D1[reach] + t_o[oo]
            dd[oo, 0] = D2[reach] + d_o[oo]
            dest[oo, 0] = L[reach]
            # same-node straight shortcut (e.g. coincident points -> 0)
            hit = np.zeros(net.n_nodes, dtype=bool)
            hit[nd_on] = True
            sub = np.flatnonzero(hit[node_o])  # origins on a destination's node
            if len(sub):
                order = np.argsort(nd_on, kind="stable")
                sorted_nd = nd_on[order]
                lo = np.zeros(len(on_o), dtype=np.int64)
                cnt = np.zeros(len(on_o), dtype=np.int64)
                lo[sub] = np.searchsorted(sorted_nd, node_o[sub], side="left")
                cnt[sub] = np.searchsorted(sorted_nd, node_o[sub], side="right") - lo[sub]
                tot = int(cnt.sum())
                ox_, oy_ = s_o["x"].to_numpy(float), s_o["y"].to_numpy(float)
                dx_, dy_ = s_d["x"].to_numpy(float), s_d["y"].to_numpy(float)
                oi = np.repeat(np.arange(len(on_o)), cnt)
                po = on_o[oi]
                pd_ = on_d[order[lo[oi] + np.arange(tot) - np.repeat(np.cumsum(cnt) - cnt, cnt)]]
                pe = np.hypot(ox_[po] - dx_[pd_], oy_[po] - dy_[pd_])
                pte = pe / v_off
                first = np.lexsort((pd_, pte, po))  # per origin: quickest, then lowest position
                first = first[np.r_[True, po[first][1:] != po[first][:-1]]]
                po, pd_, pte, pe = po[first], pd_[first], pte[first], pe[first]
                b = pte < tt[po, 0]
                tt[po[b], 0] = pte[b]
                dd[po[b], 0] = pe[b]
                dest[po[b], 0] = pd_[b]
            if cutoff_s is not None:
                bad = tt[:, 0] > cutoff_s
                tt[bad, 0], dd[bad, 0], dest[bad, 0] = np.inf, np.inf, -1
    else:
        if from_destinations:
            od = od_costs(net, s_d, s_o, mode, cutoff_s, off_road_speed_kph, chunk_bytes=chunk_bytes)
            own, other = od.dest, od.origin
        else:
            od = od_costs(net, s_o, s_d, mode, cutoff_s, off_road_speed_kph, chunk_bytes=chunk_bytes)
            own, other = od.origin, od.dest
        order = np.lexsort((other, od.time_s, own))
        own, other, t, d = own[order], other[order], od.time_s[order], od.dist_m[order]
        if len(own):
            first = np.r_[0, np.flatnonzero(own[1:] != own[:-1]) + 1]
            rank = np.arange(len(own)) - np.repeat(first, np.diff(np.r_[first, len(own)]))
            sel = rank < k
            dest[own[sel], rank[sel]] = other[sel]
            tt[own[sel], rank[sel]] = t[sel]
            dd[own[sel], rank[sel]] = d[sel]
    # reasons
    reason = np.full(n_o, "", dtype=object)
    off = off_o
    none = (dest[:, 0] < 0) & ~off
    reason[off] = "off network"
    if none.any():
        tnodes = np.unique(nodes_d[~off_d])
        nodes = nodes_o
        if len(tnodes) == 0:
            reason[none] = "no destination on the network"
        elif cutoff_s is None:  # no cutoff: unreachable = not connected in that direction
            reason[none] = "different component"
        else:
            g = net._graph(mode, "time", reverse=from_destinations)
            ok = _reaches_any(g, tnodes)
            idx = np.flatnonzero(none)
            reason[idx] = np.where(ok[nodes[idx]], "beyond cutoff", "different component")
    cols: dict[str, Any] = {}
    for j in range(k):
        cols[f"dest_{j + 1}"] = dest[:, j]
        cols[f"time_s_{j + 1}"] = tt[:, j]
        cols[f"dist_m_{j + 1}"] = dd[:, j]
    cols["reason"] = pd.array(reason, dtype="string")  # an object array of str
    return pd.DataFrame(cols, index=s_o.index)


def pair_costs(
    net: TravelNetwork,
    origins: Any,
    destinations: Any,
    pairs_origin: Sequence[int] | np.ndarray,
    pairs_dest: Sequence[int] | np.ndarray,
    mode: str,
    *,
    off_road_speed_kph: float = 3.0,
    max_snap_m: float | None = None,
    first_limit_s: float = 3600.0,
) -> pd.DataFrame:
    """Costs of given (origin, destination) pairs, origin -> destination.

    Parameters
    ----------
    net : TravelNetwork
    origins, destinations : GeoDataFrame or snapped DataFrame
    pairs_origin, pairs_dest : array-like of int, shape (n_pairs,)
        Positions in ``origins`` and ``destinations``.
    mode : str
    off_road_speed_kph, max_snap_m
        As in :func:`od_costs`.
    first_limit_s : float
        Searches are first limited to this many seconds; pairs not found are searched again
        without a limit (most pairs, e.g. a village and its own committee, are close).

    Returns
    -------
    pandas.DataFrame
        One row per pair: ``time_s``, ``dist_m`` (inf when unreachable or off network).
    """
    po = np.asarray(pairs_origin, dtype=np.int64)
    pdst = np.asarray(pairs_dest, dtype=np.int64)
    s_o = _as_snap(net, origins, max_snap_m, mode)
    s_d = _as_snap(net, destinations, max_snap_m, mode)
    t = np.full(len(po), np.inf)
    d = np.full(len(po), np.inf)
    todo = np.arange(len(po))
    for lim in (first_limit_s, None):
        if not len(todo):
            break
        uo = np.unique(po[todo])
        ud = np.unique(pdst[todo])
        od = od_costs(net, s_o.iloc[uo], s_d.iloc[ud], mode, lim, off_road_speed_kph)
        key = pd.DataFrame({"o": uo[od.origin], "d": ud[od.dest], "t": od.time_s, "m": od.dist_m})
        want = pd.DataFrame({"o": po[todo], "d": pdst[todo], "i": todo})
        got = want.merge(key, on=["o", "d"], how="inner")
        t[got["i"].to_numpy()] = got["t"].to_numpy()
        d[got["i"].to_numpy()] = got["m"].to_numpy()
        todo = todo[~np.isfinite(t[todo])]
    return pd.DataFrame({"time_s": t, "dist_m": d})
