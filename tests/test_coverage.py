"""Tests of siteplan.coverage on hand-made OD triplets with hand-computed answers."""

from __future__ import annotations

import math
from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point

from siteplan.coverage import (
    as_od,
    nearest_village,
    plan_targets,
    two_step_fca,
    under_served,
    village_coverage,
)
from siteplan.errors import InputError
from siteplan.scenario import ModelConfig, ServiceStandard

WALK30 = ServiceStandard(name="walk_30min", mode="walk", max_time_min=30)
DRIVE15 = ServiceStandard(name="drive_15min", mode="drive", max_time_min=15)
CARE = ["childrens_home", "school_care_home", "day_care", "minors_protection_station"]


def od(origin, dest, time_s, dist_m=None, n_origins=None, n_dest=None):
    """An ODCosts-like object (the siteplan.network contract)."""
    if dist_m is None:
        dist_m = [t * 1.4 for t in time_s]  # walking at 1.4 m/s
    return SimpleNamespace(
        origin=np.asarray(origin, dtype=np.int64),
        dest=np.asarray(dest, dtype=np.int64),
        time_s=np.asarray(time_s, dtype=float),
        dist_m=np.asarray(dist_m, dtype=float),
        n_origins=n_origins,
        n_dest=n_dest,
    )


@pytest.fixture
def five():
    villages = pd.DataFrame(
        {
            "village_code": [
                "510800000001",
                "510800000002",
                "510800000003",
                "510800000004",
                "510800000005",
            ],
            "village_name": ["甲", "乙", "丙", "丁", "戊"],
            "town_code": ["510800001"] * 5,
            "county_code": ["510802"] * 5,
            "children": [10, 10, 7, 4, 20],
        },
        index=[10, 11, 12, 13, 14],  # labels deliberately not positions
    )
    sites = pd.DataFrame(
        {
            "facility_id": ["F1", "F2", "P1"],
            "facility_type": ["childrens_home", "school_care_home", "police"],
        }
    )
    # a: F1 exactly at 30 min; b: F1 0.5 s beyond; c: only a police station (not a care site);
    # d: off network although the OD has a short pair; e: F1 2000 s, F2 1000 s.
    walk = od(
        origin=[0, 1, 2, 3, 4, 4],
        dest=[0, 0, 2, 0, 0, 1],
        time_s=[1800.0, 1800.5, 10.0, 100.0, 2000.0, 1000.0],
        n_origins=5,
        n_dest=3,
    )
    drive = od(
        origin=[0, 1, 4],
        dest=[0, 0, 1],
        time_s=[300.0, 901.0, 900.0],
        dist_m=[4000.0, 9000.0, 8000.0],
        n_origins=5,
        n_dest=3,
    )
    off = np.array([False, False, False, True, False])
    return villages, sites, walk, drive, off


def test_status_and_inclusive_standard(five):
    villages, sites, walk, drive, off = five
    cov = village_coverage(
        villages, sites, {"walk": walk, "drive": drive}, [WALK30, DRIVE15], CARE, off_network=off
    )
    assert cov.index.equals(villages.index)
    assert cov["status"].tolist() == [
        "covered",
        "under_served",
        "unreachable",
        "off_network",
        "covered",
    ]
    assert cov["walk_30min_covered"].tolist() == [True, False, False, False, True]
    assert cov["walk_30min_site_id"].tolist() == ["F1", "F1", "", "F1", "F2"]
    assert cov["walk_30min_time_s"].iloc[2] == math.inf
    assert cov["walk_30min_children_covered"].tolist() == [10, 0, 0, 0, 20]
    assert cov["walk_30min_children_not_covered"].tolist() == [0, 10, 7, 4, 0]
    # drive: 900 s exactly is covered, 901 s is not
    assert cov["drive_15min_covered"].tolist() == [True, False, False, False, True]
    assert cov["drive_15min_dist_m"].iloc[4] == 8000.0
    # nearest of any care type (primary mode = walk) and per type group
    assert cov["nearest_site_id"].tolist() == ["F1", "F1", "", "F1", "F2"]
    assert cov["nearest_site_type"].iloc[4] == "school_care_home"
    assert cov["nearest_time_s"].iloc[4] == 1000.0
    assert cov["nearest_childrens_home_site_id"].iloc[4] == "F1"
    assert cov["nearest_childrens_home_time_s"].iloc[4] == 2000.0
    assert cov["nearest_day_care_site_id"].tolist() == [""] * 5
    assert cov.attrs["primary_standard"] == "walk_30min"


def test_primary_standard_changes_status(five):
    villages, sites, walk, drive, off = five
    cov = village_coverage(
        villages,
        sites,
        {"walk": walk, "drive": drive},
        [WALK30, DRIVE15],
        CARE,
        primary="drive_15min",
    )
    assert cov["status"].tolist() == [
        "covered",
        "under_served",
        "unreachable",
        "unreachable",
        "covered",
    ]
    assert cov.attrs["nearest_mode"] == "drive"


def test_standard_facility_types_restrict_sites(five):
    villages, sites, walk, _, _ = five
    only_home = ServiceStandard(name="home", max_time_min=30, facility_types=["childrens_home"])
    cov = village_coverage(villages, sites, walk, [only_home], CARE)
    # village e: F2 is a school_care_home, so F1 (2000 s) is the best and is too far
    assert cov["home_site_id"].iloc[4] == "F1"
    assert not cov["home_covered"].iloc[4]
    assert cov["status"].iloc[4] == "under_served"


def test_distance_standard_and_both_limits():
    v = pd.DataFrame({"village_code": ["a"], "children": [3]})
    s = pd.DataFrame({"facility_id": ["X", "Y"], "facility_type": ["day_care", "day_care"]})
    o = od([0, 0], [0, 1], [600.0, 900.0], [2500.0, 1500.0], 1, 2)
    dist = ServiceStandard(name="d2km", max_distance_m=2000)
    both = ServiceStandard(name="both", max_time_min=10, max_distance_m=2000)
    cov = village_coverage(v, s, o, [dist, both], CARE)
    assert cov["d2km_site_id"].iloc[0] == "Y" and cov["d2km_covered"].iloc[0]
    # X is quick enough but too far; Y is near enough but too slow
    assert not cov["both_covered"].iloc[0]
    assert cov["both_site_id"].iloc[0] == "X"


def test_single_od_with_two_modes_needs_dict(five):
    villages, sites, walk, drive, _ = five
    with pytest.raises(InputError, match="drive"):
        village_coverage(villages, sites, {"walk": walk}, [WALK30, DRIVE15], CARE)


def test_od_size_mismatch_is_an_error(five):
    villages, sites, _, _, _ = five
    with pytest.raises(InputError, match="origins"):
        village_coverage(villages, sites, od([0], [0], [1.0], n_origins=4, n_dest=3), WALK30, CARE)
    with pytest.raises(InputError, match="NaN"):
        as_od(od([0], [0], [np.nan], n_origins=1, n_dest=1))
    with pytest.raises(InputError, match="range"):
        as_od(od([0], [5], [1.0], n_origins=1, n_dest=2))


def test_zero_time_pair_is_covered():
    v = pd.DataFrame({"village_code": ["a"], "children": [1]})
    s = pd.DataFrame({"facility_id": ["X"], "facility_type": ["childrens_home"]})
    cov = village_coverage(v, s, od([0], [0], [0.0], [0.0], 1, 1), WALK30, CARE)
    assert cov["status"].iloc[0] == "covered"


# ------------------------------------------------------------------------ under_served


def test_under_served_ranking_and_risk_weights(five):
    villages, sites, walk, _, off = five
    villages = villages.assign(alone=[0, 0, 0, 0, 0], guardian_unable=[0, 0, 0, 0, 0])
    cov = village_coverage(villages, sites, walk, WALK30, CARE, off_network=off)
    r = under_served(villages, cov, WALK30)
    # uncovered: b (10 children, 0.5 s excess), c (7, unreachable), d (4, off network)
    # scores: c 7 x 3 = 21, d 4 x 3 = 12, b 10 x (1 + 0.5/1800) = 10.003
    assert r["village_code"].tolist() == ["510800000003", "510800000004", "510800000002"]
    assert r["rank"].tolist() == [1, 2, 3]
    assert r["children_not_covered"].tolist() == [7, 4, 10]
    assert r["children_not_covered"].dtype == np.int64
    assert r.loc[12, "score"] == pytest.approx(7 * 3.0)
    assert r.loc[11, "score"] == pytest.approx(10 * (1 + 0.5 / 1800))
    assert r.loc[13, "score"] == pytest.approx(4 * 3.0)
    assert r.loc[11, "excess"] == pytest.approx(0.5)
    assert r["status"].tolist() == ["unreachable", "off_network", "under_served"]
    # four children living alone in d lift it to the top: 4 + 1.0 * 4 = 8 weighted, x3 = 24
    villages.loc[13, "alone"] = 4
    r2 = under_served(villages, cov, WALK30)
    assert r2.iloc[0]["village_code"] == "510800000004"
    assert r2.loc[13, "weighted_children"] == pytest.approx(8.0)
    # weights are settings
    r3 = under_served(villages, cov, WALK30, risk_weights={"alone": 0.0})
    assert r3.loc[13, "weighted_children"] == pytest.approx(4.0)


def test_under_served_default_weights_match_model_config():
    assert ModelConfig().risk_weights == {"alone": 1.0, "guardian_unable": 0.5}


# ------------------------------------------------------------------------ plan_targets

UTM = "EPSG:32648"
X0, Y0 = 575000.0, 3585000.0


def _pt(dx, dy):
    return Point(X0 + dx, Y0 + dy)


@pytest.fixture
def county_case():
    """12 villages: county A has townships T1 (v1..v6) and T2 (v7..v10); county B has T3."""
    codes = [f"5108000000{i:02d}" for i in range(1, 13)]
    towns = ["T1"] * 6 + ["T2"] * 4 + ["T3"] * 2
    counties = ["A"] * 10 + ["B"] * 2
    villages = gpd.GeoDataFrame(
        {
            "village_code": codes,
            "town_code": towns,
            "county_code": counties,
            "county_name": ["县A"] * 10 + ["县B"] * 2,
            "children": [10] * 12,
        },
        geometry=[_pt(2000 * i, 0) for i in range(12)],
        crs=UTM,
    ).to_crs("EPSG:4326")
    covered = [True] * 5 + [False] + [True] + [False] * 5
    coverage = pd.DataFrame({"walk_30min_covered": covered}, index=villages.index)
    facilities = gpd.GeoDataFrame(
        {
            "facility_id": ["F1", "F2", "F3", "P1", "S1", "S2", "S3"],
            "facility_type": [
                "childrens_home",
                "childrens_home",
                "school_care_home",
                "police",
                "boarding_school",
                "boarding_school",
                "boarding_school",
            ],
            "town_code": ["T1", "T1", "T3", "T2", "T1", "T3", "T2"],
            "county_code": ["A", "A", "B", "A", "A", "B", "A"],
            "village_code": [codes[0], "", "", "", "", "", ""],
        },
        geometry=[
            _pt(0, 0),  # F1 at v1 (given village_code)
            _pt(2000, 100),  # F2 100 m from v2 -> matched to v2
            _pt(0, 15000),  # F3 far from every village
            _pt(12000, 0),  # police at v7: not a care site
            _pt(0, 150),  # S1: 150 m from F1
            _pt(15000, 15000),  # S2: far, but a school_care_home shares T3
            _pt(25000, 15000),  # S3: nothing near, no school_care_home in T2
        ],
        crs=UTM,
    ).to_crs("EPSG:4326")
    return villages, coverage, facilities


def test_plan_targets_hand_counted(county_case):
    villages, coverage, facilities = county_case
    t = plan_targets(villages, coverage, facilities, WALK30, CARE, scope="county").set_index(
        "county_code"
    )
    assert list(t.index) == ["A", "B", "all"]
    a, b, c = t.loc["A"], t.loc["B"], t.loc["all"]
    assert (a.n_townships, a.n_villages, a.n_boarding_schools) == (2, 10, 2)
    # (a) within standard: T1 has 50 of 60 children covered (>= half), T2 10 of 40
    assert a.townships_within == 1 and a.townships_within_share == 0.5
    assert not a.townships_within_met and a.townships_within_gap == 1
    assert a.villages_within == 6 and a.villages_within_gap == 2 and not a.villages_within_met
    # (b) in the unit: T1 has F1/F2; villages v1 (code) and v2 (nearest within 500 m)
    assert a.townships_with_site == 1 and a.townships_with_site_gap == 1
    assert a.villages_with_site == 2 and a.villages_with_site_gap == 6
    assert a.boarding_with_site == 1 and a.boarding_with_site_share == 0.5
    assert (
        b.townships_with_site == 1 and b.townships_with_site_met and b.townships_with_site_gap == 0
    )
    assert b.townships_within == 0 and b.townships_within_gap == 1
    assert b.villages_with_site == 0 and b.villages_with_site_gap == 2
    assert b.boarding_with_site == 1
    assert b.county_name == "县B"
    assert (c.n_townships, c.n_villages, c.n_boarding_schools) == (3, 12, 3)
    assert c.townships_within == 1 and c.townships_within_gap == 2
    assert c.townships_with_site == 2 and c.townships_with_site_gap == 1
    assert c.villages_within == 6 and c.villages_within_gap == 4
    assert c.villages_with_site == 2 and c.villages_with_site_gap == 8
    assert c.boarding_with_site == 2
    assert c.townships_within_target == 0.9 and c.villages_within_target == 0.8
    assert not t.attrs["all_met"]


def test_plan_targets_city_scope_and_config(county_case):
    villages, coverage, facilities = county_case
    cfg = ModelConfig(township_target=0.6, village_target=0.5)
    t = plan_targets(villages, coverage, facilities, WALK30, CARE, scope="city", config=cfg)
    assert len(t) == 1 and t.iloc[0]["county_code"] == "all"
    assert t.iloc[0]["townships_with_site_met"]  # 2/3 >= 0.6
    assert t.iloc[0]["villages_within_met"]  # 6/12 >= 0.5, exactly at target
    assert t.iloc[0]["villages_within_gap"] == 0


def test_plan_targets_village_match_distance_is_a_setting(county_case):
    villages, coverage, facilities = county_case
    t = plan_targets(villages, coverage, facilities, WALK30, CARE, scope="city", village_match_m=50)
    assert t.iloc[0]["villages_with_site"] == 1  # F2 is 100 m from v2: no longer matched


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 60), data=st.data())
def test_gap_is_the_fewest_units_to_meet_the_target(n, data):
    k = data.draw(st.integers(0, n))
    target = data.draw(st.sampled_from([0.8, 0.9, 0.5, 1.0]))
    codes = [f"v{i:03d}" for i in range(n)]
    v = pd.DataFrame({"village_code": codes, "town_code": "T", "county_code": "C", "children": 1})
    cov = pd.DataFrame({"walk_30min_covered": [i < k for i in range(n)]})
    f = pd.DataFrame(
        {"facility_type": pd.Series([], dtype="str"), "town_code": pd.Series([], dtype="str")}
    )
    r = plan_targets(
        v, cov, f, WALK30, CARE, scope="city", config=ModelConfig(village_target=target)
    ).iloc[0]
    gap = r["villages_within_gap"]
    assert (k + gap) / n >= target - 1e-12
    assert gap == 0 or (k + gap - 1) / n < target - 1e-12
    assert r["villages_within_met"] == (gap == 0)


def test_nearest_village_within_limit():
    v = gpd.GeoDataFrame({"village_code": ["a", "b"]}, geometry=[_pt(0, 0), _pt(1000, 0)], crs=UTM)
    p = gpd.GeoDataFrame(geometry=[_pt(900, 0), _pt(0, 499), _pt(0, 501)], crs=UTM).to_crs(4326)
    assert nearest_village(p, v, UTM, 500).tolist() == ["b", "a", ""]


# ------------------------------------------------------------------------ 2SFCA


def _fca_case():
    # villages P = 100, 50, 50; sites A (10 places), B (20); d0 = 1800 s
    # v0-A 600; v1-A 1200; v1-B 900; v2-B 1800 (exactly at d0: inside); v2-A 2400 (outside)
    o = od(
        [0, 1, 1, 2, 2],
        [0, 0, 1, 1, 0],
        [600.0, 1200.0, 900.0, 1800.0, 2400.0],
        n_origins=3,
        n_dest=2,
    )
    return o, [100, 50, 50], [10, 20]


def test_2sfca_binary_exact():
    o, P, S = _fca_case()
    A, R = two_step_fca(o, P, S, 1800.0, return_ratios=True)
    # R_A = 10 / (100 + 50) = 1/15; R_B = 20 / (50 + 50) = 1/5
    np.testing.assert_allclose(R, [1 / 15, 1 / 5], rtol=1e-12)
    np.testing.assert_allclose(A, [1 / 15, 1 / 15 + 1 / 5, 1 / 5], rtol=1e-12)


def test_2sfca_linear_exact():
    o, P, S = _fca_case()
    A, R = two_step_fca(o, P, S, 1800.0, decay="linear", return_ratios=True)
    # W = 1 - t/1800: v0A 2/3, v1A 1/3, v1B 1/2, v2B 0
    # R_A = 10 / (100*2/3 + 50/3) = 0.12; R_B = 20 / (50*1/2) = 0.8
    np.testing.assert_allclose(R, [0.12, 0.8], rtol=1e-12)
    np.testing.assert_allclose(A, [0.08, 0.44, 0.0], atol=1e-12)


def test_2sfca_gaussian_weights():
    o, P, S = _fca_case()
    e = math.exp(-0.5)

    def w(t):
        return (math.exp(-0.5 * (t / 1800) ** 2) - e) / (1 - e)

    A, R = two_step_fca(o, P, S, 1800.0, decay="gaussian", return_ratios=True)
    ra = 10 / (100 * w(600) + 50 * w(1200))
    rb = 20 / (50 * w(900))
    np.testing.assert_allclose(R, [ra, rb], rtol=1e-12)
    np.testing.assert_allclose(A, [ra * w(600), ra * w(1200) + rb * w(900), 0.0], atol=1e-12)


def test_2sfca_crowding_lowers_access():
    o, P, S = _fca_case()
    base = two_step_fca(o, P, S, 1800.0)
    crowded = two_step_fca(o, [1000, 50, 50], S, 1800.0)
    assert crowded[1] < base[1]


def test_2sfca_bad_inputs():
    o, P, S = _fca_case()
    with pytest.raises(InputError):
        two_step_fca(o, P[:2], S, 1800.0)
    with pytest.raises(InputError):
        two_step_fca(o, P, [10, -1], 1800.0)
    with pytest.raises(InputError, match="decay"):
        two_step_fca(o, P, S, 1800.0, decay="cubic")


@settings(max_examples=50, deadline=None)
@given(
    st.integers(1, 6),
    st.integers(1, 5),
    st.data(),
    st.sampled_from([None, "linear", "gaussian"]),
)
def test_2sfca_conserves_supply(n_o, n_d, data, decay):
    """sum_i P_i A_i = sum of the capacities of sites with weighted demand in reach."""
    pairs = data.draw(
        st.sets(st.tuples(st.integers(0, n_o - 1), st.integers(0, n_d - 1)), max_size=n_o * n_d)
    )
    pairs = sorted(pairs)
    times = data.draw(st.lists(st.floats(0, 3000), min_size=len(pairs), max_size=len(pairs)))
    P = np.array(data.draw(st.lists(st.integers(0, 50), min_size=n_o, max_size=n_o)), float)
    S = np.array(data.draw(st.lists(st.integers(0, 30), min_size=n_d, max_size=n_d)), float)
    o = od([p[0] for p in pairs], [p[1] for p in pairs], times, n_origins=n_o, n_dest=n_d)
    A, R = two_step_fca(o, P, S, 1800.0, decay=decay, return_ratios=True)
    served = R > 0
    assert np.all(A >= 0)
    assert (P * A).sum() == pytest.approx(S[served].sum(), rel=1e-9, abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 6), st.integers(1, 4), st.data())
def test_coverage_matches_brute_force(n_v, n_s, data):
    """covered <=> some care site (of the standard's types) has time <= limit; best = quickest."""
    pairs = sorted(data.draw(st.sets(st.tuples(st.integers(0, n_v - 1), st.integers(0, n_s - 1)))))
    times = data.draw(
        st.lists(
            st.sampled_from([0.0, 600.0, 1799.9, 1800.0, 1800.1, 4000.0]),
            min_size=len(pairs),
            max_size=len(pairs),
        )
    )
    types = data.draw(
        st.lists(
            st.sampled_from(["childrens_home", "day_care", "police"]), min_size=n_s, max_size=n_s
        )
    )
    off = data.draw(st.lists(st.booleans(), min_size=n_v, max_size=n_v))
    v = pd.DataFrame({"village_code": [f"v{i}" for i in range(n_v)], "children": 1})
    s = pd.DataFrame({"facility_id": [f"s{j}" for j in range(n_s)], "facility_type": types})
    o = od([p[0] for p in pairs], [p[1] for p in pairs], times, n_origins=n_v, n_dest=n_s)
    cov = village_coverage(v, s, o, WALK30, CARE, off_network=off)
    for i in range(n_v):
        ts = [t for (a, b), t in zip(pairs, times, strict=True) if a == i and types[b] != "police"]
        best = min(ts, default=math.inf)
        assert cov["walk_30min_time_s"].iloc[i] == best
        assert cov["walk_30min_covered"].iloc[i] == (best <= 1800.0 and not off[i])
        expect = (
            "off_network"
            if off[i]
            else "covered"
            if best <= 1800.0
            else "unreachable"
            if best == math.inf
            else "under_served"
        )
        assert cov["status"].iloc[i] == expect
