"""Tests of siteplan.candidates.generate_candidates."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

from siteplan.candidates import CANDIDATE_COLUMNS, generate_candidates
from siteplan.errors import CRSError, InputError
from siteplan.scenario import CandidatesConfig

UTM = "EPSG:32648"
X0, Y0 = 575000.0, 3585000.0


def _villages(xs, children, ys=None):
    ys = ys if ys is not None else [0.0] * len(xs)
    n = len(xs)
    return gpd.GeoDataFrame(
        {
            "village_code": [f"5108020010{i:02d}" for i in range(n)],
            "village_name": [f"村{i}" for i in range(n)],
            "town_code": ["510802001"] * n,
            "county_code": ["510802"] * n,
            "children": children,
        },
        geometry=[Point(X0 + x, Y0 + y) for x, y in zip(xs, ys, strict=True)],
        crs=UTM,
    ).to_crs("EPSG:4326")


def _facilities():
    return gpd.GeoDataFrame(
        {
            "facility_id": ["C1", "S1", "B1", "VC1", "P1"],
            "name": ["儿童之家一", "小学", "寄宿学校", "村委会", "派出所"],
            "facility_type": [
                "childrens_home",
                "school",
                "boarding_school",
                "village_committee",
                "police",
            ],
            "town_code": ["510802001", "", "510802001", "510802001", "510802001"],
            "county_code": ["510802", "", "510802", "510802", "510802"],
            "capacity": [40, 0, 0, 0, 0],
        },
        geometry=[
            Point(X0, Y0 + 100),
            Point(X0 + 1000, Y0 + 300),
            Point(X0 + 50000, Y0),
            Point(X0 + 2000, Y0),
            Point(X0, Y0),
        ],
        crs=UTM,
    ).to_crs("EPSG:4326")


def test_kinds_columns_and_codes():
    v = _villages([0, 1000, 2000, 3000], [5, 6, 7, 8])
    cfg = CandidatesConfig(n_cluster_candidates=2)
    c = generate_candidates(v, _facilities(), [False, False, True, True], cfg, UTM)
    assert list(c.columns) == CANDIDATE_COLUMNS + ["geometry"]
    assert c.crs.to_epsg() == 4326
    assert c["candidate_id"].is_unique
    assert c["action"].tolist() == ["existing", "upgrade", "upgrade", "upgrade", "new", "new"]
    ex = c.iloc[0]
    assert (ex.candidate_id, ex.site_type, ex.host_facility_id, ex.capacity, ex.required) == (
        "existing:C1",
        "childrens_home",
        "C1",
        40,
        True,
    )
    assert ex.village_code == v["village_code"].iloc[0]  # 100 m from village 0
    up = c.set_index("host_facility_id").loc[["S1", "B1", "VC1"]]
    assert set(up["site_type"]) == {"childrens_home"} and not up["required"].any()
    # S1 has no town/county code: taken from the village it stands in (300 m away)
    assert up.loc["S1", "village_code"] == v["village_code"].iloc[1]
    assert up.loc["S1", "town_code"] == "510802001" and up.loc["S1", "county_code"] == "510802"
    assert up.loc["B1", "village_code"] == ""  # 47 km from every village
    new = c[c["action"] == "new"]
    # k = 2 = number of under-served villages: one candidate at each
    assert sorted(new["village_code"]) == sorted(v["village_code"].iloc[2:])
    assert new["host_facility_id"].tolist() == ["", ""]
    assert new["cluster_children"].sum() == 15
    assert c["police" == c["host_facility_type"]].empty


def test_weighted_kmeans_pulls_the_centre_to_many_children():
    # unweighted mean x = 3200 (nearest village x=3000); child-weighted mean ~ 9960
    v = _villages([0, 1000, 2000, 3000, 10000], [1, 1, 1, 1, 1000])
    cfg = CandidatesConfig(n_cluster_candidates=1, upgrade_types=[])
    c = generate_candidates(v, _facilities().iloc[:0], np.ones(5, bool), cfg, UTM)
    assert len(c) == 1
    assert c["village_code"].iloc[0] == v["village_code"].iloc[4]
    assert c["cluster_children"].iloc[0] == 1004
    assert c.geometry.iloc[0].equals(v.geometry.iloc[4])
    # and the other way round: many children in the west
    v2 = _villages([0, 1000, 2000, 3000, 10000], [1000, 1, 1, 1, 1])
    c2 = generate_candidates(v2, _facilities().iloc[:0], np.ones(5, bool), cfg, UTM)
    assert c2["village_code"].iloc[0] == v2["village_code"].iloc[0]


def test_deterministic_for_a_fixed_seed():
    rng = np.random.default_rng(7)
    n = 200
    v = _villages(
        rng.uniform(0, 40000, n).tolist(),
        rng.integers(0, 60, n).tolist(),
        rng.uniform(0, 40000, n).tolist(),
    )
    mask = rng.random(n) < 0.6
    cfg = CandidatesConfig(n_cluster_candidates=12, seed=11)
    a = generate_candidates(v, _facilities(), mask, cfg, UTM)
    b = generate_candidates(v, _facilities(), mask, cfg, UTM)
    pd.testing.assert_frame_equal(
        pd.DataFrame(a.drop(columns="geometry")), pd.DataFrame(b.drop(columns="geometry"))
    )
    assert a.geometry.geom_equals(b.geometry).all()
    new = a[a["action"] == "new"]
    assert 1 <= len(new) <= 12
    # every new build sits on an under-served village with children
    seeded = set(v.loc[mask & (v["children"] > 0).to_numpy(), "village_code"])
    assert set(new["village_code"]) <= seeded
    assert new["cluster_children"].sum() == v.loc[mask, "children"].sum()


def test_covered_villages_do_not_seed_and_switch_off():
    v = _villages([0, 1000, 2000], [50, 50, 50])
    c = generate_candidates(v, _facilities(), [False, True, False], CandidatesConfig(), UTM)
    assert c.loc[c["action"] == "new", "village_code"].tolist() == [v["village_code"].iloc[1]]
    off = generate_candidates(
        v, _facilities(), [True, True, True], CandidatesConfig(cluster_new_sites=False), UTM
    )
    assert "new" not in set(off["action"])
    none = generate_candidates(v, _facilities(), [False, False, False], CandidatesConfig(), UTM)
    assert "new" not in set(none["action"])


def test_snap_fn_columns_are_added():
    v = _villages([0, 1000], [3, 4])

    def fake_snap(g):
        return pd.DataFrame(
            {"node": np.arange(len(g)), "snap_m": 1.0, "off_network": False}, index=g.index
        )

    c = generate_candidates(
        v, _facilities(), [True, True], CandidatesConfig(), UTM, snap_fn=fake_snap
    )
    assert c["node"].tolist() == list(range(len(c)))
    assert not c["off_network"].any()


def test_errors():
    v = _villages([0, 1000], [3, 4])
    with pytest.raises(InputError, match="mask"):
        generate_candidates(v, _facilities(), [True], CandidatesConfig(), UTM)
    with pytest.raises(CRSError):
        generate_candidates(v, _facilities(), [True, True], CandidatesConfig(), "EPSG:4326")
    dup = pd.concat([_facilities().iloc[:1]] * 2)
    with pytest.raises(InputError, match="duplicate"):
        generate_candidates(v, dup, [True, True], CandidatesConfig(), UTM)
