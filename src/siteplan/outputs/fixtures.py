"""Synthetic inputs for the output writers' tests and previews.

Everything here is made up (fixed seed): 7 counties shaped as Voronoi cells inside a wobbly
outline near Guangyuan, township seats, villages with modelled child counts and an analysis
``status``, facilities, proposed sites, circular "catchments" and a few roads. The tables
follow the column contracts of ``docs/architecture.md`` so that the writers can be tested
without the data and analysis modules. Nothing here is real data.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import LineString, Point, Polygon

#: The seven county-level divisions of Guangyuan (codes per GB/T 2260).
COUNTIES = [
    ("510802", "利州区"),
    ("510811", "昭化区"),
    ("510812", "朝天区"),
    ("510821", "旺苍县"),
    ("510822", "青川县"),
    ("510823", "剑阁县"),
    ("510824", "苍溪县"),
]

#: Approximate county seats (lon, lat), used as Voronoi seeds.
_SEEDS = [
    (105.84, 32.45), (105.63, 32.32), (106.05, 32.68), (106.29, 32.23),
    (105.15, 32.55), (105.45, 31.98), (105.93, 31.78),
]

_SYL = list("安宝成大东丰高和华金乐龙鸣平庆三石双太天文西新兴阳元中竹白沙河")


def _name(rng: np.random.Generator, suffix: str) -> str:
    return "".join(rng.choice(_SYL, size=2)) + suffix


def _split(n: int, weights: np.ndarray) -> np.ndarray:
    """n items over len(weights) bins, proportional, at least 1 each."""
    k = len(weights)
    if n < k:
        raise ValueError(f"need at least {k} items, got {n}")
    per = np.maximum(1, np.floor(n * weights / weights.sum()).astype(int))
    while per.sum() > n:
        per[np.argmax(per)] -= 1
    while per.sum() < n:
        per[np.argmax(n * weights / weights.sum() - per)] += 1
    return per


def synthetic_inputs(
    n_villages: int = 1735,
    n_townships: int = 146,
    seed: int = 7,
    hostile_name: bool = True,
) -> dict[str, Any]:
    """Build a full set of synthetic inputs for the output writers.

    Parameters
    ----------
    n_villages : int
        Number of villages (1,735 = the size of Guangyuan).
    n_townships : int
        Number of township seats (146 in Guangyuan), spread over the 7 counties (>= 7).
    seed : int
        Random seed; the result is deterministic.
    hostile_name : bool
        Give the first village the name ``<img src=x onerror=alert(1)>`` (escaping test).

    Returns
    -------
    dict
        ``counties``, ``townships``, ``villages``, ``facilities``, ``sites_proposed``,
        ``catchments``, ``roads`` (GeoDataFrames in EPSG:4326) and ``labels`` (dict).
    """
    rng = np.random.default_rng(seed)
    # wobbly outline around the seeds, in degrees (small area; fine for a fixture)
    ang = np.linspace(0, 2 * np.pi, 60, endpoint=False)
    r = 1.0 + 0.12 * np.sin(3 * ang) + 0.05 * rng.standard_normal(60)
    outline = Polygon(np.c_[105.72 + 0.95 * r * np.cos(ang), 32.25 + 0.62 * r * np.sin(ang)])
    seeds = shapely.MultiPoint([Point(p) for p in _SEEDS])
    cells = shapely.voronoi_polygons(seeds, extend_to=outline.buffer(1.0))
    polys = []
    for code_name, seed_pt in zip(COUNTIES, _SEEDS, strict=True):
        cell = next(c for c in cells.geoms if c.contains(Point(seed_pt)))
        polys.append((code_name[0], code_name[1], cell.intersection(outline)))
    counties = gpd.GeoDataFrame(
        {"county_code": [p[0] for p in polys], "county_name": [p[1] for p in polys]},
        geometry=[p[2] for p in polys],
        crs="EPSG:4326",
    )

    def sample_in(poly, n):
        minx, miny, maxx, maxy = poly.bounds
        out = []
        while len(out) < n:
            xs = rng.uniform(minx, maxx, 4 * n)
            ys = rng.uniform(miny, maxy, 4 * n)
            pts = shapely.points(xs, ys)
            ok = shapely.contains(poly, pts)
            out.extend(pts[ok].tolist())
        return out[:n]

    # townships: split n_townships across counties by area
    areas = counties.to_crs("EPSG:32648").geometry.area.to_numpy()
    per = _split(n_townships, areas)
    trows = []
    for (cc, cn, poly), k in zip(polys, per, strict=True):
        for i, pt in enumerate(sample_in(poly, int(k))):
            suffix = "镇" if i % 3 else "乡"
            trows.append({
                "town_code": f"{cc}{100 + i:03d}", "town_name": _name(rng, suffix),
                "county_code": cc, "county_name": cn,
                "town_type": suffix, "seat_source": "modelled", "geometry": pt,
            })
    townships = gpd.GeoDataFrame(trows, geometry="geometry", crs="EPSG:4326")

    # villages: by county area, assigned to the nearest seat in the same county
    vper = _split(n_villages, areas)
    vrows = []
    n_per_town: dict[str, int] = {}
    statuses = np.array(["covered", "under_served", "unreachable", "off_network"])
    for (cc, cn, poly), k in zip(polys, vper, strict=True):
        tw = townships[townships.county_code == cc]
        txy = np.c_[tw.geometry.x, tw.geometry.y]
        for pt in sample_in(poly, int(k)):
            j = int(np.argmin(((txy - [pt.x, pt.y]) ** 2).sum(axis=1)))
            trow = tw.iloc[j]
            n_in_town = n_per_town.get(trow.town_code, 0)
            n_per_town[trow.town_code] = n_in_town + 1
            # a heavy-tailed child count with many small cells (tests suppression)
            children = int(rng.choice([0, 1, 3, 6, 9, 12, 18, 25, 40, 70],
                                      p=[.06, .05, .07, .07, .05, .15, .2, .2, .1, .05]))
            a = int(rng.integers(0, children + 1))
            b = int(rng.integers(0, children - a + 1))
            st = rng.choice(statuses, p=[0.62, 0.25, 0.08, 0.05])
            t_care = {"covered": rng.uniform(120, 1700), "under_served": rng.uniform(1900, 5000),
                      "unreachable": np.inf, "off_network": np.inf}[st]
            police = rng.choice([rng.uniform(200, 900), rng.uniform(900, 1800),
                                 rng.uniform(1800, 4000), np.inf], p=[.45, .35, .15, .05])
            vrows.append({
                "village_code": f"{trow.town_code}{200 + n_in_town:03d}",
                "village_name": _name(rng, "村"),
                "kind": "village",
                "town_code": trow.town_code, "town_name": trow.town_name,
                "county_code": cc, "county_name": cn,
                "children": children, "children_0_5": a, "children_6_13": b,
                "children_14_16": children - a - b,
                "location_source": "modelled", "children_source": "modelled",
                "status": str(st),
                "nearest_care_time_s": float(t_care),
                "nearest_care_dist_m": float(t_care * 1.3) if np.isfinite(t_care) else np.inf,
                "nearest_care_site_id": "" if not np.isfinite(t_care) else f"F{j:04d}",
                "police_time_s": float(police),
                "police_station_id": f"P{trow.town_code}" if np.isfinite(police) else "",
                "walk_30min_covered": bool(st == "covered"),
                "drive_15min_covered": bool(st in ("covered", "under_served")),
                "geometry": pt,
            })
    villages = gpd.GeoDataFrame(vrows, geometry="geometry", crs="EPSG:4326")
    for c in ("village_code", "village_name", "town_code", "county_code", "status"):
        villages[c] = villages[c].astype(str)
    if hostile_name:
        villages.loc[villages.index[0], "village_name"] = "<img src=x onerror=alert(1)>"

    # facilities
    frows = []
    vx = villages.sample(frac=1.0, random_state=seed)
    kinds = (["childrens_home"] * 180 + ["school_care_home"] * 60 + ["school"] * 150
             + ["boarding_school"] * 40)
    for i, (ft, (_, v)) in enumerate(zip(kinds, vx.iterrows(), strict=False)):
        frows.append({"facility_id": f"F{i:04d}", "name": f"{v.village_name[:2]}{ft}",
                      "facility_type": ft, "town_code": v.town_code, "county_code": v.county_code,
                      "capacity": 0, "boarding": ft == "boarding_school", "source": "modelled",
                      "geometry": Point(v.geometry.x + 0.003, v.geometry.y + 0.002)})
    for _, t in townships.iterrows():
        frows.append({"facility_id": f"P{t.town_code}", "name": f"{t.town_name}派出所",
                      "facility_type": "police", "town_code": t.town_code,
                      "county_code": t.county_code, "capacity": 0, "boarding": False,
                      "source": "osm", "geometry": Point(t.geometry.x + 0.004, t.geometry.y)})
    for _, c in counties.iterrows():
        p = c.geometry.representative_point()
        frows.append({"facility_id": f"R{c.county_code}", "name": f"{c.county_name}救助管理站",
                      "facility_type": "rescue_station", "town_code": "",
                      "county_code": c.county_code, "capacity": 30, "boarding": True,
                      "source": "modelled", "geometry": p})
    frows.append({"facility_id": "W0001", "name": "广元市儿童福利院", "facility_type": "welfare_home",
                  "town_code": "", "county_code": "510802", "capacity": 120, "boarding": True,
                  "source": "modelled", "geometry": Point(105.85, 32.44)})
    facilities = gpd.GeoDataFrame(frows, geometry="geometry", crs="EPSG:4326")
    facilities["boarding"] = facilities["boarding"].astype(bool)

    # proposed sites: under-served villages, ranked
    us = villages[villages.status == "under_served"].sort_values("children", ascending=False)
    us = us.head(60)
    sites = gpd.GeoDataFrame({
        "site_id": [f"N{i + 1:03d}" for i in range(len(us))],
        "name": [f"{n}儿童之家" for n in us.village_name],
        "site_type": "childrens_home",
        "action": ["new" if i % 3 else "upgrade" for i in range(len(us))],
        "rank": np.arange(1, len(us) + 1),
        "capex_cny": rng.choice([150000.0, 320000.0, 650000.0], size=len(us)),
        "county_code": us.county_code.to_numpy(),
        "town_code": us.town_code.to_numpy(),
        "children_newly_covered": us.children.to_numpy() + rng.integers(0, 60, len(us)),
    }, geometry=us.geometry.to_numpy(), crs="EPSG:4326")

    # catchments: wobbly circles in metres around existing care sites and proposed sites
    care = facilities[facilities.facility_type.isin(["childrens_home", "school_care_home"])]
    pts = pd.concat([
        pd.DataFrame({"site_id": care.facility_id, "kind": "existing", "geometry": care.geometry}),
        pd.DataFrame({"site_id": sites.site_id, "kind": "proposed", "geometry": sites.geometry}),
    ], ignore_index=True)
    pts_m = gpd.GeoSeries(pts.geometry, crs="EPSG:4326").to_crs("EPSG:32648")
    polys_m = []
    a = np.linspace(0, 2 * np.pi, 96, endpoint=False)
    for p in pts_m:
        rr = 1800 * (1 + 0.35 * np.sin(5 * a + rng.uniform(0, 6)) + 0.1 * rng.standard_normal(96))
        polys_m.append(Polygon(np.c_[p.x + rr * np.cos(a), p.y + rr * np.sin(a)]).buffer(0))
    catchments = gpd.GeoDataFrame(
        {"site_id": pts.site_id.astype(str), "kind": pts.kind.astype(str), "minutes": 30.0},
        geometry=gpd.GeoSeries(polys_m, crs="EPSG:32648").to_crs("EPSG:4326").to_numpy(),
        crs="EPSG:4326",
    )

    # roads: seats chained to their nearest neighbours
    rrows = []
    txy = np.c_[townships.geometry.x, townships.geometry.y]
    for i in range(len(txy)):
        d = ((txy - txy[i]) ** 2).sum(axis=1)
        for j in np.argsort(d)[1:3]:
            if j > i:
                cls = "primary" if d[j] > 0.02 else "county_road"
                rrows.append({"road_class": cls, "maxspeed": "", "oneway": "no", "source": "modelled",
                              "geometry": LineString([txy[i], txy[j]])})
    roads = gpd.GeoDataFrame(rrows, geometry="geometry", crs="EPSG:4326")

    labels = {
        "attribution": "© OpenStreetMap contributors; 天地图 Tianditu; GeoNames (CC BY 4.0)",
        "modelled": ["village locations", "child counts", "catchments"],
        "scenario": "synthetic",
        "date": _dt.date(2026, 11, 29).isoformat(),
        "region_name": "广元市",
    }
    return {"counties": counties, "townships": townships, "villages": villages,
            "facilities": facilities, "sites_proposed": sites, "catchments": catchments,
            "roads": roads, "labels": labels}
