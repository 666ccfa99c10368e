"""Police response and escort travel times on the road network.

* Police response runs **station -> village** (the police drive out), on the directed
  graph: one-way roads are respected in that direction.
* Escort runs **village -> facility** (a child is taken from the village to a rescue
  station, welfare home, health centre or the village committee).

A village is within a standard iff ``time_s <= standard`` (inclusive: a village exactly at
15 min counts as within 15 min). Unreachable villages get ``inf`` time, no id, and a reason
(``"off network"``, ``"different component"``, ``"no police station"``...), never 0.

References
----------
.. [1] Ministry of Public Security rural policing guidance: 15 min dispatch in the
   countryside (scenario reference R28).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from siteplan.network import TravelNetwork, _as_snap, nearest, pair_costs

__all__ = ["police_response", "response_summary", "escort_times", "ResponseSummary", "standard_column"]

DEFAULT_ESCORT_TYPES = ("rescue_station", "welfare_home", "health_centre", "village_committee")


def standard_column(minutes: float) -> str:
    """Column name of a police standard, e.g. 15 -> ``"police_within_15min"``."""
    m = float(minutes)
    txt = str(int(m)) if m.is_integer() else f"{m:g}"
    return f"police_within_{txt}min"


def _ids(points: Any, id_column: str) -> np.ndarray:
    if id_column in getattr(points, "columns", ()):
        return points[id_column].astype(str).to_numpy(dtype=object)
    return np.asarray(points.index.astype(str), dtype=object)


def _take(ids: np.ndarray, pos: np.ndarray) -> pd.Series:
    out = np.full(len(pos), None, dtype=object)
    ok = pos >= 0
    out[ok] = ids[pos[ok]]
    return pd.array(out, dtype="string")


def police_response(
    net: TravelNetwork,
    villages: Any,
    stations: Any,
    standards_min: Sequence[float] = (15, 30),
    mode: str = "drive",
    *,
    max_snap_m: float | None = None,
    off_road_speed_kph: float = 3.0,
    id_column: str = "facility_id",
) -> pd.DataFrame:
    """Police travel time from the quickest and second-quickest station to each village.

    Parameters
    ----------
    net : TravelNetwork
    villages : geopandas.GeoDataFrame
        Demand points (any CRS; transformed to ``net.crs``).
    stations : geopandas.GeoDataFrame
        Police stations; if it has a ``facility_type`` column only ``"police"`` rows are used.
    standards_min : sequence of float
        Response standards in minutes (default 15 and 30, R28).
    mode : str
        Travel mode (default ``"drive"``).
    max_snap_m : float, optional
        Snap distance, metres (default ``NetworkConfig().max_snap_m``).
    off_road_speed_kph : float
        Speed over off-road access, km/h.
    id_column : str
        Station id column (default ``facility_id``; the index if absent).

    Returns
    -------
    pandas.DataFrame
        Aligned to ``villages.index``: ``police_station_id`` (string, NA if none),
        ``police_time_s`` (seconds, inf if unreachable), ``police_dist_m`` (metres),
        ``police_backup_id``, ``police_backup_time_s`` (second station), one bool
        ``police_within_<m>min`` per standard (``time_s <= 60 m``), and ``police_reason``
        ("" when reached).

    Raises
    ------
    CRSError
        Points without a CRS.
    NetworkError
        Unknown mode.
    """
    st = stations
    if "facility_type" in getattr(st, "columns", ()):
        st = st[st["facility_type"].astype(str) == "police"]
    n = len(villages)
    out = pd.DataFrame(index=villages.index)
    if len(st) == 0:
        out["police_station_id"] = pd.array([None] * n, dtype="string")
        out["police_time_s"] = np.inf
        out["police_dist_m"] = np.inf
        out["police_backup_id"] = pd.array([None] * n, dtype="string")
        out["police_backup_time_s"] = np.inf
        for s in standards_min:
            out[standard_column(s)] = False
        out["police_reason"] = pd.array(["no police station"] * n, dtype="string")
        return out
    res = nearest(net, villages, st, mode, k=2, from_destinations=True,
                  max_snap_m=max_snap_m, off_road_speed_kph=off_road_speed_kph)
    ids = _ids(st, id_column)
    out["police_station_id"] = _take(ids, res["dest_1"].to_numpy())
    out["police_time_s"] = res["time_s_1"].to_numpy()
    out["police_dist_m"] = res["dist_m_1"].to_numpy()
    out["police_backup_id"] = _take(ids, res["dest_2"].to_numpy())
    out["police_backup_time_s"] = res["time_s_2"].to_numpy()
    t = out["police_time_s"].to_numpy()
    for s in standards_min:
        out[standard_column(s)] = t <= float(s) * 60.0
    out["police_reason"] = res["reason"].to_numpy()
    out["police_reason"] = out["police_reason"].astype("string")
    return out


@dataclass(frozen=True)
class ResponseSummary:
    """Summary of a police response table.

    Attributes
    ----------
    by_standard : pandas.DataFrame
        One row per standard: ``standard_min``, ``villages``, ``villages_within``,
        ``share_villages``, ``children``, ``children_within``, ``share_children``.
    median_time_s : float
        Median police time over all villages, seconds (unreachable count as inf).
    reachable_median_time_s : float
        Median over reached villages only, seconds.
    worst : pandas.DataFrame
        The slowest villages (unreachable first): ``village``, ``name``, ``time_s``,
        ``children``, ``reason``.
    unreachable : pandas.DataFrame
        Villages no station reaches, same columns, with the reason.
    """

    by_standard: pd.DataFrame
    median_time_s: float
    reachable_median_time_s: float
    worst: pd.DataFrame
    unreachable: pd.DataFrame

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (for JSON / the run summary)."""
        return {
            "by_standard": self.by_standard.to_dict(orient="records"),
            "median_time_s": self.median_time_s,
            "reachable_median_time_s": self.reachable_median_time_s,
            "worst": self.worst.to_dict(orient="records"),
            "unreachable": self.unreachable.to_dict(orient="records"),
        }


def response_summary(
    response: pd.DataFrame,
    villages: Any = None,
    standards_min: Sequence[float] = (15, 30),
    *,
    children_column: str = "children",
    id_column: str = "village_code",
    name_column: str = "village_name",
    worst_n: int = 10,
) -> ResponseSummary:
    """Shares of villages and of children within each police standard.

    Parameters
    ----------
    response : pandas.DataFrame
        Output of :func:`police_response`.
    villages : DataFrame, optional
        Same index as ``response``; supplies children (weights), ids and names. Without it
        (or without the children column) the children figures are NaN.
    standards_min : sequence of float
        Standards, minutes (covered iff ``time_s <= 60 m``).
    children_column, id_column, name_column : str
        Column names in ``villages``.
    worst_n : int
        How many slowest villages to list.

    Returns
    -------
    ResponseSummary
    """
    t = response["police_time_s"].to_numpy(dtype=float)
    n = len(t)
    if villages is not None and children_column in villages.columns:
        ch = villages.loc[response.index, children_column].to_numpy(dtype=float)
    else:
        ch = np.full(n, np.nan)
    rows = []
    for s in standards_min:
        ok = t <= float(s) * 60.0
        tot_c = float(np.nansum(ch)) if not np.isnan(ch).all() else np.nan
        in_c = float(np.nansum(ch[ok])) if not np.isnan(ch).all() else np.nan
        rows.append({
            "standard_min": float(s),
            "villages": n,
            "villages_within": int(ok.sum()),
            "share_villages": float(ok.mean()) if n else np.nan,
            "children": tot_c,
            "children_within": in_c,
            "share_children": (in_c / tot_c) if tot_c and tot_c > 0 else np.nan,
        })
    by = pd.DataFrame(rows)
    ids = (villages.loc[response.index, id_column].astype(str).to_numpy(dtype=object)
           if villages is not None and id_column in villages.columns
           else np.asarray(response.index.astype(str), dtype=object))
    names = (villages.loc[response.index, name_column].astype(str).to_numpy(dtype=object)
             if villages is not None and name_column in villages.columns else np.full(n, "", dtype=object))
    table = pd.DataFrame({"village": ids, "name": names, "time_s": t, "children": ch,
                          "reason": response["police_reason"].astype(str).to_numpy(dtype=object)})
    worst = table.sort_values("time_s", ascending=False, kind="stable").head(worst_n).reset_index(drop=True)
    unreachable = table[~np.isfinite(t)].reset_index(drop=True)
    fin = t[np.isfinite(t)]
    return ResponseSummary(
        by_standard=by,
        median_time_s=float(np.median(t)) if n else np.nan,
        reachable_median_time_s=float(np.median(fin)) if len(fin) else np.nan,
        worst=worst,
        unreachable=unreachable,
    )


def escort_times(
    net: TravelNetwork,
    villages: Any,
    facilities: Any,
    types: Sequence[str] = DEFAULT_ESCORT_TYPES,
    mode: str = "drive",
    *,
    max_snap_m: float | None = None,
    off_road_speed_kph: float = 3.0,
    id_column: str = "facility_id",
    village_code_column: str = "village_code",
) -> pd.DataFrame:
    """Escort time from each village to the nearest facility of each type.

    Parameters
    ----------
    net : TravelNetwork
    villages : geopandas.GeoDataFrame
        With ``village_code`` for the own-committee rule.
    facilities : geopandas.GeoDataFrame
        With ``facility_type`` and ``facility_id``; a ``village_code`` column links a
        village committee to its own village; without it, a 12-digit code at the end of
        ``facility_id`` (``"village_committee-510802001001"``, as in the default data) does.
    types : sequence of str
        Facility types (default rescue station, welfare home, health centre, village
        committee).
    mode : str
        Travel mode (default ``"drive"``); direction village -> facility.
    max_snap_m, off_road_speed_kph : float
        As in :func:`siteplan.network.od_costs`.
    id_column, village_code_column : str
        Column names.

    Returns
    -------
    pandas.DataFrame
        Aligned to ``villages.index``; per type ``t``: ``{t}_id`` (string, NA none),
        ``{t}_time_s`` (seconds, inf none), ``{t}_dist_m`` (metres), ``{t}_reason`` (""
        reached, "off network", "different component", "no facility of this type"). For
        ``village_committee`` also ``village_committee_own`` (bool): the village's own
        committee (same village code) is used when it exists and is reachable, else the
        nearest committee.
    """
    out = pd.DataFrame(index=villages.index)
    s_v = _as_snap(net, villages, max_snap_m, mode)
    ftype = facilities["facility_type"].astype(str).to_numpy()
    n = len(villages)
    for t in types:
        fac = facilities[ftype == t]
        if len(fac) == 0:
            out[f"{t}_id"] = pd.array([None] * n, dtype="string")
            out[f"{t}_time_s"] = np.inf
            out[f"{t}_dist_m"] = np.inf
            out[f"{t}_reason"] = pd.array(["no facility of this type"] * n, dtype="string")
            if t == "village_committee":
                out["village_committee_own"] = False
            continue
        s_f = _as_snap(net, fac, max_snap_m, mode)
        res = nearest(net, s_v, s_f, mode, off_road_speed_kph=off_road_speed_kph)
        ids = _ids(fac, id_column)
        pos = res["dest_1"].to_numpy().copy()
        time = res["time_s_1"].to_numpy().copy()
        dist = res["dist_m_1"].to_numpy().copy()
        reason = res["reason"].astype(str).to_numpy(dtype=object).copy()
        if t == "village_committee":
            own = np.zeros(n, dtype=bool)
            codes = None
            if village_code_column in fac.columns:
                codes = fac[village_code_column].astype(str).to_numpy()
            elif id_column in fac.columns:  # e.g. "village_committee-510802001001"
                codes = (fac[id_column].astype(str).str.extract(r"(\d{12})$", expand=False)
                         .fillna("").astype(str).to_numpy())
            if codes is not None and village_code_column in villages.columns:
                fcode = pd.Series(np.arange(len(fac)), index=codes)
                fcode = fcode[fcode.index != ""]
                fcode = fcode[~fcode.index.duplicated()]
                vcode = villages[village_code_column].astype(str).to_numpy()
                vi = np.flatnonzero(pd.Index(vcode).isin(fcode.index))
                if len(vi):
                    fj = fcode.loc[vcode[vi]].to_numpy()
                    pc = pair_costs(net, s_v, s_f, vi, fj, mode, off_road_speed_kph=off_road_speed_kph)
                    ok = np.isfinite(pc["time_s"].to_numpy())
                    vi, fj = vi[ok], fj[ok]
                    pos[vi] = fj
                    time[vi] = pc["time_s"].to_numpy()[ok]
                    dist[vi] = pc["dist_m"].to_numpy()[ok]
                    reason[vi] = ""
                    own[vi] = True
            out["village_committee_own"] = own
        out[f"{t}_id"] = _take(ids, pos)
        out[f"{t}_time_s"] = time
        out[f"{t}_dist_m"] = dist
        out[f"{t}_reason"] = pd.array(reason.astype(str), dtype="string")
    return out
