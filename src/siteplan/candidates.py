"""Candidate sites for the location models.

Three kinds of candidate, in this order in the output:

* ``"existing"`` — care sites that already exist (facility types of ``care_types``); the
  models keep them open (``required``);
* ``"upgrade"`` — facilities of ``CandidatesConfig.upgrade_types`` (schools, boarding schools,
  village committees) that could host a care site of ``upgrade_site_type``;
* ``"new"`` — new builds of ``new_site_type`` at the centres of a child-weighted k-means
  clustering of the under-served villages, each moved to the nearest under-served village
  so that it lies on an inhabited place (the road snap happens later, in
  :mod:`siteplan.network`).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from siteplan.coverage import nearest_village
from siteplan.errors import CRSError, InputError
from siteplan.scenario import DEFAULT_CARE_SITE_TYPES, CandidatesConfig

__all__ = ["CANDIDATE_COLUMNS", "ACTIONS", "generate_candidates"]

#: Columns of the candidates table, in order (``geometry`` last, EPSG:4326).
CANDIDATE_COLUMNS = [
    "candidate_id",
    "name",
    "site_type",
    "action",
    "required",
    "host_facility_id",
    "host_facility_type",
    "town_code",
    "county_code",
    "village_code",
    "capacity",
    "cluster_children",
]

#: Values of the ``action`` column.
ACTIONS = ("existing", "upgrade", "new")

#: Straight-line distance (metres) within which a facility is placed in a village when the
#: facilities table has no ``village_code`` (see :func:`siteplan.coverage.nearest_village`).
VILLAGE_MATCH_M = 500.0

#: k-means restarts (fixed so that results are reproducible with the seed).
KMEANS_N_INIT = 4


def _str_col(df: pd.DataFrame, col: str) -> np.ndarray:
    if col not in df.columns:
        return np.full(len(df), "", dtype=object)
    return df[col].astype(object).where(df[col].notna(), "").astype(str).to_numpy(dtype=object)


def _facility_rows(
    fac: gpd.GeoDataFrame,
    villages: gpd.GeoDataFrame,
    action: str,
    site_type: np.ndarray,
    work_crs: Any,
) -> pd.DataFrame:
    fid = _str_col(fac, "facility_id")
    vcode = _str_col(fac, "village_code")
    need = vcode == ""
    if need.any():
        vcode[need] = nearest_village(fac[need], villages, work_crs, VILLAGE_MATCH_M).to_numpy(
            dtype=object
        )
    town = _str_col(fac, "town_code")
    county = _str_col(fac, "county_code")
    # fill missing town/county codes from the matched village
    by_code = villages.assign(_vc=_str_col(villages, "village_code")).set_index("_vc")
    for arr, col in ((town, "town_code"), (county, "county_code")):
        miss = (arr == "") & (vcode != "")
        if miss.any() and col in by_code.columns:
            arr[miss] = by_code.loc[vcode[miss], col].astype(str).to_numpy(dtype=object)
    cap = (
        pd.to_numeric(fac["capacity"], errors="coerce").fillna(0).astype(np.int64).to_numpy()
        if "capacity" in fac.columns
        else np.zeros(len(fac), np.int64)
    )
    return pd.DataFrame(
        {
            "candidate_id": [f"{action}:{f}" for f in fid],
            "name": _str_col(fac, "name"),
            "site_type": site_type,
            "action": action,
            "required": action == "existing",
            "host_facility_id": fid,
            "host_facility_type": _str_col(fac, "facility_type"),
            "town_code": town,
            "county_code": county,
            "village_code": vcode,
            "capacity": cap,
            "cluster_children": 0,
            "geometry": fac.geometry.to_crs("EPSG:4326").to_numpy(),
        }
    )


def generate_candidates(
    villages: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    under_served_mask: Sequence[bool] | np.ndarray | pd.Series,
    config: CandidatesConfig | None = None,
    work_crs: Any = "EPSG:32648",
    snap_fn: Callable[[gpd.GeoDataFrame], pd.DataFrame] | None = None,
    *,
    care_types: Sequence[str] | None = None,
) -> gpd.GeoDataFrame:
    """Candidate sites: existing care sites, upgrades of host facilities, and new builds.

    Parameters
    ----------
    villages : GeoDataFrame, n_v rows, any CRS
        Villages (``village_code``, ``village_name``, ``town_code``, ``county_code``,
        ``children``, point geometry).
    facilities : GeoDataFrame, any CRS
        Facilities (``facility_id``, ``name``, ``facility_type``, ``town_code``,
        ``county_code``, ``capacity``, optional ``village_code``, point geometry).
    under_served_mask : bool array, shape (n_v,)
        True for villages not covered by the model's standard (e.g.
        ``~coverage[f"{standard}_covered"]``). Only these seed new-build candidates.
    config : CandidatesConfig, optional
        Upgrade types, clustering switch and size, site types and seed; default
        ``CandidatesConfig()``.
    work_crs : CRS-like, default "EPSG:32648"
        Projected CRS (metres) in which clustering and the 500 m village match are done;
        ``"auto"`` = UTM zone of the villages.
    snap_fn : callable, optional
        ``snap_fn(candidates) -> DataFrame`` aligned to the candidates (e.g.
        ``lambda g: siteplan.network.snap(net, g, max_snap_m)``); its columns ``node``,
        ``snap_m`` and ``off_network`` are added to the output.
    care_types : sequence of str, optional
        Facility types that are existing care sites; default the default care-site types.

    Returns
    -------
    GeoDataFrame, EPSG:4326
        One row per candidate, columns :data:`CANDIDATE_COLUMNS` + geometry (+ snap
        columns): ``candidate_id`` (unique str: ``"existing:<facility_id>"``,
        ``"upgrade:<facility_id>"``, ``"new:<NNN>"``), ``name``, ``site_type`` (the
        facility type for existing sites; ``upgrade_site_type`` / ``new_site_type``),
        ``action`` ("existing" | "upgrade" | "new"), ``required`` (True for existing),
        ``host_facility_id`` / ``host_facility_type`` ("" for new builds),
        ``town_code``, ``county_code``, ``village_code`` (the facility's ``village_code``,
        else the nearest village within 500 m, else ""; the host village of a new build),
        ``capacity`` (children; the facility's for existing sites, 0 = unknown otherwise),
        ``cluster_children`` (children of the under-served villages in a new build's
        cluster).

    Notes
    -----
    New builds: the under-served villages with at least one child are clustered by k-means
    (:class:`sklearn.cluster.KMeans`, ``sample_weight`` = children, ``n_init`` =
    :data:`KMEANS_N_INIT`, ``random_state`` = ``config.seed``) in ``work_crs``, with
    ``k = min(config.n_cluster_candidates, number of such villages, distinct locations)``.
    Each centre moves to the nearest clustered village; two centres landing on the same
    village give one candidate. The result is deterministic for a fixed seed and input
    order. A facility that already hosts a care site is still offered as an upgrade
    (it cannot be told apart without a link between the two records).

    Raises
    ------
    InputError
        Missing columns, or a mask of the wrong length.
    CRSError
        A layer without a CRS, or a ``work_crs`` that is not projected.
    """
    cfg = config or CandidatesConfig()
    care_types = list(care_types) if care_types is not None else list(DEFAULT_CARE_SITE_TYPES)
    for df, what, cols in (
        (villages, "villages", ["village_code", "children"]),
        (facilities, "facilities", ["facility_id", "facility_type"]),
    ):
        missing = [c for c in cols if c not in df.columns]
        if missing:
            raise InputError(f"{what} lacks column(s) {missing}", column=missing[0])
        if df.crs is None:
            raise CRSError(f"{what} have no CRS", hint="set it with .set_crs('EPSG:4326')")
    mask = np.asarray(under_served_mask, dtype=bool).ravel()
    if mask.shape != (len(villages),):
        raise InputError(f"under_served_mask has {mask.size} values for {len(villages)} villages")
    crs = villages.estimate_utm_crs() if work_crs in (None, "auto") else work_crs
    from pyproj import CRS

    if not CRS.from_user_input(crs).is_projected:
        raise CRSError(f"work CRS {crs} is not projected (metres needed)")

    ftype = facilities["facility_type"].astype(str).to_numpy(dtype=object)
    parts = []
    existing = facilities[np.isin(ftype, care_types)]
    if len(existing):
        parts.append(
            _facility_rows(
                existing,
                villages,
                "existing",
                existing["facility_type"].astype(str).to_numpy(dtype=object),
                crs,
            )
        )
    hosts = facilities[np.isin(ftype, list(cfg.upgrade_types))]
    if len(hosts):
        parts.append(
            _facility_rows(
                hosts,
                villages,
                "upgrade",
                np.full(len(hosts), cfg.upgrade_site_type, dtype=object),
                crs,
            )
        )
    if cfg.cluster_new_sites and cfg.n_cluster_candidates > 0:
        new = _new_builds(villages, mask, cfg, crs)
        if len(new):
            parts.append(new)

    if parts:
        df = pd.concat(parts, ignore_index=True)
    else:
        df = pd.DataFrame(
            {c: pd.Series([], dtype=object) for c in CANDIDATE_COLUMNS + ["geometry"]}
        )
    for c in (
        "candidate_id",
        "name",
        "site_type",
        "action",
        "host_facility_id",
        "host_facility_type",
        "town_code",
        "county_code",
        "village_code",
    ):
        df[c] = df[c].astype("str")
    df["required"] = df["required"].astype(bool)
    df["capacity"] = df["capacity"].astype(np.int64)
    df["cluster_children"] = df["cluster_children"].astype(np.int64)
    dup = df["candidate_id"].duplicated()
    if dup.any():
        raise InputError(
            f"duplicate facility_id(s) give duplicate candidates: "
            f"{sorted(set(df.loc[dup, 'candidate_id']))[:5]}",
            column="facility_id",
        )
    out = gpd.GeoDataFrame(df, geometry="geometry", crs="EPSG:4326")
    if snap_fn is not None and len(out):
        s = snap_fn(out)
        for c in ("node", "snap_m", "off_network"):
            if c in s.columns:
                out[c] = s[c].to_numpy()
    return out


def _new_builds(
    villages: gpd.GeoDataFrame, mask: np.ndarray, cfg: CandidatesConfig, crs: Any
) -> pd.DataFrame:
    from sklearn.cluster import KMeans

    children = pd.to_numeric(villages["children"], errors="coerce").fillna(0).to_numpy(float)
    pos = np.flatnonzero(mask & (children > 0))
    if len(pos) == 0:
        return pd.DataFrame()
    v = villages.iloc[pos]
    g = v.geometry.to_crs(crs)
    xy = np.column_stack([g.x.to_numpy(), g.y.to_numpy()])
    w = children[pos]
    n_distinct = len(np.unique(xy, axis=0))
    k = int(min(cfg.n_cluster_candidates, len(pos), n_distinct))
    if k == len(pos):
        labels = np.arange(len(pos))
        centres = xy.copy()
    else:
        km = KMeans(n_clusters=k, n_init=KMEANS_N_INIT, random_state=cfg.seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=RuntimeWarning)
            km.fit(xy, sample_weight=w)
        labels = km.labels_
        centres = km.cluster_centers_
    from scipy.spatial import cKDTree

    _, host = cKDTree(xy).query(centres)
    # one candidate per host village (first cluster wins); children summed over clusters
    cluster_children = np.bincount(labels, weights=w, minlength=k)
    order = np.argsort(host, kind="stable")
    uniq, first = np.unique(host[order], return_index=True)
    kids = np.add.reduceat(cluster_children[order], first) if len(order) else np.array([])
    # keep candidates in cluster order of their first appearance for stable ids
    first_cluster = order[first]
    seq = np.argsort(first_cluster, kind="stable")
    uniq, kids = uniq[seq], kids[seq]
    hv = v.iloc[uniq]
    vname = _str_col(hv, "village_name")
    return pd.DataFrame(
        {
            "candidate_id": [f"new:{i + 1:03d}" for i in range(len(uniq))],
            "name": [f"新建候选点 {n}" if n else "新建候选点" for n in vname],
            "site_type": cfg.new_site_type,
            "action": "new",
            "required": False,
            "host_facility_id": "",
            "host_facility_type": "",
            "town_code": _str_col(hv, "town_code"),
            "county_code": _str_col(hv, "county_code"),
            "village_code": _str_col(hv, "village_code"),
            "capacity": 0,
            "cluster_children": np.rint(kids).astype(np.int64),
            "geometry": hv.geometry.to_crs("EPSG:4326").to_numpy(),
        }
    )
