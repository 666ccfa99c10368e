"""Tests of siteplan.response on a tiny hand-computed network.

Drive speed 36 km/h = 10 m/s: time_s = length_m / 10. Off-road 3.6 km/h = 1 m/s.

    P1(0,0) --one-way 9000 m--> V1(9000,0) --two-way 9000 m-- V2(9000,9000)
    P1 --two-way 30000 m-- V2          island road (50000,0)-(51000,0) with V3
    P2 (60000, 0) far away, off network.

Hand-computed police times (station -> village):
    P1 -> V1 = 900 s (exactly 15 min);  V1 -> P1 would be 9000+30000 = 3900 s.
    P1 -> V2 = min(900 + 900, 3000) = 1800 s (exactly 30 min).
    V3 on the island: unreachable ("different component").
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, Point

from siteplan.network import TravelNetwork
from siteplan.response import escort_times, police_response, response_summary, standard_column
from siteplan.scenario import ModeSpeeds, NetworkConfig

CRS = "EPSG:32648"
CFG = NetworkConfig(drive=ModeSpeeds(default_kph=36.0))


@pytest.fixture
def net():
    lines = [[(0, 0), (9000, 0)], [(9000, 0), (9000, 9000)], [(9000, 9000), (0, 0)],
             [(50000, 0), (51000, 0)]]
    r = gpd.GeoDataFrame({"oneway": ["yes", "no", "no", "no"],
                          "length_m": [9000.0, 9000.0, 30000.0, 1000.0]},
                         geometry=[LineString(c) for c in lines], crs=CRS)
    return TravelNetwork.from_roads(r, CFG)


@pytest.fixture
def villages():
    return gpd.GeoDataFrame(
        {"village_code": ["510802000001", "510802000002", "510802000003", "510802000004"],
         "village_name": ["一村", "二村", "岛村", "远村"],
         "children": [10, 20, 5, 7]},
        geometry=[Point(9000, 0), Point(9000, 9000), Point(50000, 0), Point(80000, 80000)],
        crs=CRS, index=[10, 11, 12, 13])


@pytest.fixture
def facilities():
    return gpd.GeoDataFrame(
        {"facility_id": ["P1", "P2", "H1", "VC1", "VC2"],
         "facility_type": ["police", "police", "health_centre", "village_committee", "village_committee"],
         "village_code": ["", "", "", "510802000002", "510802000001"]},
        geometry=[Point(0, 0), Point(60000, 0), Point(0, 0), Point(9000, 0), Point(0, 0)],
        crs=CRS)


def test_police_response_direction_and_standards(net, villages, facilities):
    res = police_response(net, villages, facilities, standards_min=(15, 30), max_snap_m=500)
    assert list(res.index) == [10, 11, 12, 13]
    assert res.loc[10, "police_station_id"] == "P1"
    assert res.loc[10, "police_time_s"] == 900.0  # station -> village along the one-way road
    assert res.loc[10, "police_dist_m"] == 9000.0
    assert res.loc[11, "police_time_s"] == 1800.0
    # exactly at the standard counts as within (time_s <= standard)
    assert res["police_within_15min"].tolist() == [True, False, False, False]
    assert res["police_within_30min"].tolist() == [True, True, False, False]
    assert np.isinf(res.loc[12, "police_time_s"]) and pd.isna(res.loc[12, "police_station_id"])
    assert res["police_reason"].tolist() == ["", "", "different component", "off network"]
    # P2 is off network (60 km from any road): no backup anywhere
    assert res["police_backup_id"].isna().all()
    assert np.isinf(res["police_backup_time_s"]).all()


def test_police_backup_station(net, villages):
    st = gpd.GeoDataFrame({"facility_id": ["A", "B"]},
                          geometry=[Point(0, 0), Point(9000, 9000)], crs=CRS)
    res = police_response(net, villages.iloc[:1], st, max_snap_m=500)
    # to V1: from B 900 s (B->V1 two-way), from A 900 s; both 900 -> both listed
    assert sorted([res.iloc[0]["police_station_id"], res.iloc[0]["police_backup_id"]]) == ["A", "B"]
    assert res.iloc[0]["police_backup_time_s"] == 900.0


def test_no_police_station(net, villages, facilities):
    res = police_response(net, villages, facilities[facilities.facility_type != "police"])
    assert (res["police_reason"] == "no police station").all()
    assert not res["police_within_15min"].any()


def test_standard_column_names():
    assert standard_column(15) == "police_within_15min"
    assert standard_column(7.5) == "police_within_7.5min"


def test_response_summary(net, villages, facilities):
    res = police_response(net, villages, facilities, max_snap_m=500)
    s = response_summary(res, villages, (15, 30), worst_n=2)
    by = s.by_standard.set_index("standard_min")
    assert by.loc[15.0, "villages_within"] == 1 and by.loc[15.0, "share_villages"] == 0.25
    assert by.loc[30.0, "children_within"] == 30 and by.loc[30.0, "share_children"] == pytest.approx(30 / 42)
    assert s.reachable_median_time_s == 1350.0
    assert np.isinf(s.median_time_s)  # half of the villages are unreachable
    assert s.worst["village"].tolist()[:2] == ["510802000003", "510802000004"]
    assert s.unreachable["reason"].tolist() == ["different component", "off network"]
    assert set(s.to_dict()) == {"by_standard", "median_time_s", "reachable_median_time_s", "worst", "unreachable"}


def test_escort_times_direction_and_own_committee(net, villages, facilities):
    esc = escort_times(net, villages, facilities, max_snap_m=500)
    # village -> health centre at P1: V1 -> P1 = 3900 s (against the one-way: long way round)
    assert esc.loc[10, "health_centre_time_s"] == 3900.0
    assert esc.loc[11, "health_centre_time_s"] == 3000.0
    assert esc.loc[12, "health_centre_reason"] == "different component"
    assert esc.loc[13, "health_centre_reason"] == "off network"
    assert (esc["rescue_station_reason"] == "no facility of this type").all()
    # V1's own committee VC2 is at (0,0): 3900 s, although VC1 sits on V1 (0 s)
    assert esc.loc[10, "village_committee_id"] == "VC2" and esc.loc[10, "village_committee_own"]
    assert esc.loc[10, "village_committee_time_s"] == 3900.0
    # V2's own committee VC1 at V1: V2 -> V1 900 s
    assert esc.loc[11, "village_committee_id"] == "VC1" and esc.loc[11, "village_committee_time_s"] == 900.0
    assert not esc.loc[12, "village_committee_own"]


def test_own_committee_from_facility_id(net, villages):
    fac = gpd.GeoDataFrame(
        {"facility_id": ["village_committee-510802000001", "village_committee-510802000002"],
         "facility_type": ["village_committee", "village_committee"]},
        geometry=[Point(0, 0), Point(9000, 0)], crs=CRS)
    esc = escort_times(net, villages, fac, types=("village_committee",), max_snap_m=500)
    # village ...001 (at V1) -> its own committee at P1 (0,0): 3900 s, not the one on V1
    assert esc.loc[10, "village_committee_id"] == "village_committee-510802000001"
    assert esc.loc[10, "village_committee_time_s"] == 3900.0
    assert esc["village_committee_own"].tolist() == [True, True, False, False]
