"""Contract loaders on good inputs: GBK, BOM, xlsx with Chinese headers, GIS layers,
defaults, aliases; and on the default dataset and the shared public data."""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, MultiLineString, Point

from siteplan.errors import InputError
from siteplan.io import (
    GUANGYUAN_BOUNDS,
    load_counties,
    load_facilities,
    load_roads,
    load_townships,
    load_villages,
    normalise_facility_type,
)
from siteplan.io.coords import wgs84_to_gcj02
from siteplan.scenario import FACILITY_TYPES

ROOT = Path(__file__).resolve().parents[1]
GOOD = ROOT / "tests" / "bad_inputs" / "good"
DATA = ROOT / "data" / "guangyuan"
SHARED = ROOT.parent / "shared" / "data" / "guangyuan"

VILLAGE_COLUMNS = [
    "village_code", "village_name", "kind", "town_code", "town_name", "county_code", "county_name",
    "children", "children_0_5", "children_6_13", "children_14_16", "location_source", "children_source",
    "geometry",
]


@pytest.mark.parametrize("name", ["villages_gbk.csv", "villages_utf8bom.csv"])
def test_villages_csv_encodings(name: str) -> None:
    v = load_villages(GOOD / name, region_bounds=GUANGYUAN_BOUNDS, townships=GOOD / "townships.csv")
    assert list(v.columns) == VILLAGE_COLUMNS
    assert v.crs.to_epsg() == 4326
    assert v["village_name"].tolist() == ["翠屏社区居民委员会", "将军桥社区居民委员会", "小稻村村民委员会"]
    assert v["village_code"].tolist() == ["510802001001", "510802002001", "510802101201"]
    assert v["children"].tolist() == [12, 5, 20] and v["children"].dtype == "int64"
    assert v["children_0_5"].tolist() == [3, 1, 6]
    assert v.geometry.x.iloc[0] == pytest.approx(105.8431)


def test_villages_xlsx_chinese_headers_and_defaults() -> None:
    v = load_villages(GOOD / "villages_zh_headers.xlsx", region_bounds=GUANGYUAN_BOUNDS,
                      townships=load_townships(GOOD / "townships.csv"))
    assert list(v.columns) == VILLAGE_COLUMNS
    assert v["village_code"].tolist() == ["510802001001", "510802101201"]
    assert v["kind"].tolist() == ["community", "village"]  # from the names
    assert v["county_code"].tolist() == ["510802", "510802"]  # from the village code
    assert v["town_name"].tolist() == ["东坝街道", "大石镇"]  # from the townships table
    assert v["county_name"].tolist() == ["利州区", "利州区"]
    assert v["location_source"].tolist() == ["user", "user"]
    assert v["children"].tolist() == [12, 20]
    assert v["children_0_5"].isna().all()


def test_villages_geojson_layer() -> None:
    v = load_villages(GOOD / "villages.geojson", region_bounds=GUANGYUAN_BOUNDS)
    assert v["village_code"].tolist() == ["510802001001", "510802101201"]
    assert v["town_code"].tolist() == ["510802001", "510802101"]
    assert v["children"].tolist() == [12, 20]


def test_villages_layer_with_numeric_codes(tmp_path: Path) -> None:
    p = tmp_path / "v.gpkg"
    gpd.GeoDataFrame({"village_code": [510802001001.0], "village_name": ["x村"], "children": [3.0]},
                     geometry=[Point(105.84, 32.44)], crs=4326).to_file(p)
    v = load_villages(p)
    assert v["village_code"].tolist() == ["510802001001"] and v["children"].tolist() == [3]


def test_villages_gcj02_converted(tmp_path: Path) -> None:
    x, y = wgs84_to_gcj02(105.8431, 32.4412)
    p = tmp_path / "v.csv"
    p.write_text(f"village_code,village_name,lon,lat,children\n510802001001,翠屏社区,{float(x)},{float(y)},3\n",
                 encoding="utf-8")
    v = load_villages(p, coordinate_system="gcj02", region_bounds=GUANGYUAN_BOUNDS)
    assert v.geometry.x.iloc[0] == pytest.approx(105.8431, abs=1e-7)
    assert v.geometry.y.iloc[0] == pytest.approx(32.4412, abs=1e-7)


def test_villages_without_children_when_ledger_supplies_them(tmp_path: Path) -> None:
    p = tmp_path / "v.csv"
    p.write_text("村代码,村名称,经度,纬度\n510802001001,翠屏社区,105.84,32.44\n", encoding="gbk")
    with pytest.raises(InputError, match="'children'"):
        load_villages(p)
    v = load_villages(p, require_children=False)
    assert v["children"].tolist() == [0] and v["children_source"].tolist() == ["ledger-pending"]


def test_villages_partial_bands_rejected(tmp_path: Path) -> None:
    p = tmp_path / "v.csv"
    p.write_text("village_code,village_name,lon,lat,children,children_0_5\n510802001001,a村,105.84,32.44,3,3\n",
                 encoding="utf-8")
    with pytest.raises(InputError, match="children_6_13"):
        load_villages(p)


def test_villages_errors_collect_rows(tmp_path: Path) -> None:
    p = tmp_path / "v.csv"
    p.write_text("village_code,village_name,lon,lat,children\n"
                 "510802001001,a村,105.84,32.44,-1\n510802001002,b村,105.84,32.44,2\n510802001003,c村,105.84,32.44,x\n",
                 encoding="utf-8")
    with pytest.raises(InputError) as e:
        load_villages(p)
    assert [x.row for x in e.value.errors] == [2, 4]


def test_townships_defaults_and_types(tmp_path: Path) -> None:
    t = load_townships(GOOD / "townships.csv", region_bounds=GUANGYUAN_BOUNDS)
    assert t.columns.tolist() == ["town_code", "town_name", "county_code", "county_name", "town_type",
                                  "seat_source", "geometry"]
    p = tmp_path / "t.csv"
    p.write_text("乡镇代码,乡镇名称,经度,纬度\n510802101,大石镇,105.9,32.35\n510802001,东坝街道,105.84,32.44\n"
                 "510812200,曾家乡,106.0,32.6\n", encoding="utf-8")
    t = load_townships(p)
    assert t["town_type"].tolist() == ["镇", "街道", "乡"]
    assert t["county_code"].tolist() == ["510802", "510802", "510812"]
    assert t["seat_source"].tolist() == ["user"] * 3


def test_facilities_leading_zeros_types_defaults() -> None:
    f = load_facilities(GOOD / "facilities.csv", region_bounds=GUANGYUAN_BOUNDS, townships=GOOD / "townships.csv")
    assert f["facility_id"].tolist() == ["007", "0012", "A-03"]
    assert f["boarding"].tolist() == [False, True, False] and f["boarding"].dtype == bool
    assert f["capacity"].tolist() == [0, 300, 25] and f["capacity"].dtype == "int64"
    assert set(f["facility_type"]) <= set(FACILITY_TYPES)


def test_facilities_minimal_and_chinese_types(tmp_path: Path) -> None:
    p = tmp_path / "f.csv"
    p.write_text("编号,类型,经度,纬度\n1,派出所,105.84,32.44\n2,Health Centre,105.85,32.45\n3,儿童之家,105.86,32.46\n",
                 encoding="gb18030")
    f = load_facilities(p)
    assert f["facility_type"].tolist() == ["police", "health_centre", "childrens_home"]
    assert f["name"].tolist() == ["", "", ""]
    assert f["capacity"].tolist() == [0, 0, 0] and f["boarding"].tolist() == [False] * 3
    assert f["source"].tolist() == ["user"] * 3 and f["town_code"].tolist() == [""] * 3


def test_normalise_facility_type() -> None:
    for k in FACILITY_TYPES:
        assert normalise_facility_type(k) == k
    assert normalise_facility_type("卫生院") == "health_centre"
    assert normalise_facility_type("Rescue-Station") == "rescue_station"
    assert normalise_facility_type("polce") is None


def test_roads_defaults_explode_oneway(tmp_path: Path) -> None:
    p = tmp_path / "r.gpkg"
    geoms = [LineString([(105.8, 32.4), (105.9, 32.5)]),
             MultiLineString([[(105.9, 32.5), (106.0, 32.5)], [(106.0, 32.5), (106.0, 32.6)]])]
    gpd.GeoDataFrame({"highway": ["primary", None], "oneway": ["True", ""]}, geometry=geoms, crs=4326).to_file(
        p, layer="roads")
    gpd.GeoDataFrame({"x": [1]}, geometry=[Point(105.8, 32.4)], crs=4326).to_file(p, layer="other")
    r = load_roads(p)
    assert r.columns.tolist() == ["road_class", "maxspeed", "oneway", "source", "geometry"]
    assert r["road_class"].tolist() == ["primary", "unclassified", "unclassified"]
    assert r["oneway"].tolist() == ["yes", "no", "no"]
    assert (r.geometry.geom_type == "LineString").all()


def test_counties_aliases_and_repair(tmp_path: Path) -> None:
    from shapely.geometry import Polygon

    bowtie = Polygon([(105.5, 32.0), (105.7, 32.2), (105.7, 32.0), (105.5, 32.2), (105.5, 32.0)])
    p = tmp_path / "c.geojson"
    gpd.GeoDataFrame({"adcode": [510811], "name": ["昭化区"], "level": ["county"]}, geometry=[bowtie],
                     crs=4326).to_file(p)
    with pytest.raises(InputError, match="invalid geometry"):
        load_counties(p)
    c = load_counties(p, repair=True)
    assert c["county_code"].tolist() == ["510811"] and c.geometry.is_valid.all()


# ----------------------------------------------------------------------------- real data


@pytest.mark.skipif(not (DATA / "villages.csv").exists(), reason="default dataset not built")
def test_default_dataset_loads() -> None:
    c = load_counties(DATA / "counties.geojson")
    bounds = tuple(c.total_bounds)
    t = load_townships(DATA / "townships.csv", region_bounds=bounds)
    v = load_villages(DATA / "villages.csv", region_bounds=bounds, townships=t)
    f = load_facilities(DATA / "facilities.csv", region_bounds=bounds, townships=t)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = load_roads(DATA / "roads.gpkg")
    assert len(c) == 7 and len(t) == 146 and len(v) == 1735
    assert v["village_code"].is_unique and len(f) > 0 and len(r) > 0
    assert (v[["children_0_5", "children_6_13", "children_14_16"]].sum(axis=1) == v["children"]).all()


@pytest.mark.shared
@pytest.mark.skipif(not SHARED.exists(), reason="../shared not present")
def test_shared_counties_and_gbk_village_list(tmp_path: Path) -> None:
    c = load_counties(SHARED / "counties_tianditu.geojson")  # adcode/name, city outline dropped
    assert len(c) == 7 and set(c["county_code"]) == {"510802", "510811", "510812", "510821", "510822",
                                                     "510823", "510824"}
    v = pd.read_csv(SHARED / "villages_nbs2023.csv", dtype=str)
    rng = np.random.default_rng(1)
    pts = c.sample_points(size=300, rng=rng).explode().reset_index(drop=True)
    v["lon"] = [f"{pts.iloc[i % len(pts)].x:.6f}" for i in range(len(v))]
    v["lat"] = [f"{pts.iloc[i % len(pts)].y:.6f}" for i in range(len(v))]
    v["children"] = "1"
    p = tmp_path / "v.csv"
    p.write_bytes(v.to_csv(index=False).encode("gbk"))
    out = load_villages(p, region_bounds=tuple(c.total_bounds))
    assert len(out) == 1735
    assert out["village_name"].tolist() == v["village_name"].tolist()  # 3 non-GB2312 chars pass


def test_villages_shapefile_gbk_truncated_names(tmp_path: Path) -> None:
    g = gpd.GeoDataFrame(
        {"village_code": ["510802001001"], "village_name": ["翠屏社区居民委员会"], "children": [12],
         "children_0_5": [3], "children_6_13": [8], "children_14_16": [1]},
        geometry=[Point(105.8431, 32.4412)], crs=4326)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g.to_file(tmp_path / "v.shp", encoding="GBK")
    (tmp_path / "v.cpg").unlink(missing_ok=True)
    v = load_villages(tmp_path / "v.shp", region_bounds=GUANGYUAN_BOUNDS)
    assert v["village_name"].tolist() == ["翠屏社区居民委员会"]
    assert v["children_14_16"].tolist() == [1] and v["village_code"].tolist() == ["510802001001"]
    # siteplan's own output field names
    g2 = g.rename(columns={"village_code": "vill_code", "village_name": "vill_name", "children_14_16": "chld_14_16",
                           "children_0_5": "child_0_5", "children_6_13": "child_6_13"})
    g2.to_file(tmp_path / "o.gpkg")
    assert load_villages(tmp_path / "o.gpkg")["children_14_16"].tolist() == [1]


def test_village_code_not_nested_in_town_warns(tmp_path: Path) -> None:
    from siteplan.errors import InputWarning

    p = tmp_path / "v.csv"
    p.write_text("village_code,village_name,town_code,lon,lat,children\n510802001001,a村,510802002,105.84,32.44,1\n",
                 encoding="utf-8")
    with pytest.warns(InputWarning, match="row 2"):
        load_villages(p)
