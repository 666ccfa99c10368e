"""points_from_table and read_layer: CRS, swaps, region, GCJ-02/BD-09, geometry checks."""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Geod, Transformer
from shapely.geometry import LineString, Point, Polygon

from siteplan.errors import CRSError, InputError, InputWarning
from siteplan.io import GUANGYUAN_BOUNDS, check_in_region, points_from_table, read_layer
from siteplan.io.coords import wgs84_to_bd09, wgs84_to_gcj02

GEOD = Geod(ellps="WGS84")


def _table(lon: list, lat: list, **extra) -> pd.DataFrame:
    d = {"id": [str(i) for i in range(len(lon))], "lon": [str(v) for v in lon], "lat": [str(v) for v in lat]}
    d.update(extra)
    return pd.DataFrame({k: pd.Series(v, dtype=str) for k, v in d.items()})


def test_points_wgs84_ok() -> None:
    g = points_from_table(_table([105.84, 106.1], [32.44, 32.0]), "v.csv", region_bounds=GUANGYUAN_BOUNDS)
    assert g.crs.to_epsg() == 4326
    assert list(g.columns) == ["id", "geometry"]
    assert g.geometry.x.tolist() == [105.84, 106.1]


def test_points_nonnumeric_and_missing_name_row_and_column() -> None:
    with pytest.raises(InputError) as e:
        points_from_table(_table([105.84, "abc"], [32.44, 32.0]), "v.csv")
    assert (e.value.row, e.value.column) == (3, "lon")
    with pytest.raises(InputError) as e:
        points_from_table(_table([105.84, 105.9], [32.44, ""]), "v.csv")
    assert (e.value.row, e.value.column) == (3, "lat") and "missing" in str(e.value)


def test_projected_numbers_with_geographic_crs() -> None:
    with pytest.raises(CRSError) as e:
        points_from_table(_table([579330.2], [3589780.1]), "v.csv")
    assert "--crs" in str(e.value) and "data.crs" in str(e.value) and e.value.row == 2


def test_projected_crs_converted() -> None:
    t = Transformer.from_crs(4326, 32648, always_xy=True)
    x, y = t.transform([105.84, 106.1], [32.44, 32.0])
    g = points_from_table(_table(list(x), list(y)), "v.csv", crs="EPSG:32648", region_bounds=GUANGYUAN_BOUNDS)
    np.testing.assert_allclose(g.geometry.x, [105.84, 106.1], atol=1e-7)
    np.testing.assert_allclose(g.geometry.y, [32.44, 32.0], atol=1e-7)


def test_degrees_with_projected_crs_rejected() -> None:
    with pytest.raises(CRSError, match="look like degrees"):
        points_from_table(_table([105.84], [32.44]), "v.csv", crs="EPSG:32648")


def test_unknown_crs() -> None:
    with pytest.raises(CRSError, match="unknown CRS"):
        points_from_table(_table([105.84], [32.44]), "v.csv", crs="EPSG:999999")


def test_swapped_latitude_over_90() -> None:
    with pytest.raises(InputError) as e:
        points_from_table(_table([105.84, 32.0], [32.44, 106.1]), "v.csv")
    assert e.value.row == 3 and "latitude and longitude look swapped" in str(e.value)


def test_swapped_detected_by_region_when_latitude_is_plausible() -> None:
    # A region where both orderings are valid coordinates (lon 40–50, lat 10–20).
    bounds = (40.0, 10.0, 50.0, 20.0)
    with pytest.raises(InputError) as e:
        points_from_table(_table([45.0, 15.0], [15.0, 45.0]), "v.csv", region_bounds=bounds)
    assert e.value.row == 3 and "latitude and longitude look swapped" in str(e.value)


def test_outside_region_names_row() -> None:
    with pytest.raises(InputError) as e:
        points_from_table(_table([105.84, 104.06], [32.44, 30.66]), "v.csv", region_bounds=GUANGYUAN_BOUNDS)
    assert e.value.row == 3 and "outside the region" in str(e.value)
    # within the margin: accepted
    points_from_table(_table([104.87], [31.48]), "v.csv", region_bounds=GUANGYUAN_BOUNDS)


def test_check_in_region_reports_every_row() -> None:
    with pytest.raises(InputError) as e:
        check_in_region(np.array([1.0, 105.0, 2.0]), np.array([1.0, 32.0, 2.0]), "f", GUANGYUAN_BOUNDS)
    assert [x.row for x in e.value.errors] == [2, 4]


@pytest.mark.parametrize("system,fwd", [("gcj02", wgs84_to_gcj02), ("bd09", wgs84_to_bd09)])
def test_offset_systems_converted(system: str, fwd) -> None:
    lon, lat = np.array([105.84, 106.1]), np.array([32.44, 32.0])
    x, y = fwd(lon, lat)
    g = points_from_table(_table(list(x), list(y)), "v.csv", coordinate_system=system)
    d = GEOD.inv(g.geometry.x.to_numpy(), g.geometry.y.to_numpy(), lon, lat)[2]
    assert np.all(d < 0.05)
    with pytest.raises(CRSError, match="projected"):
        points_from_table(_table([579330.2], [3589780.1]), "v.csv", crs="EPSG:32648", coordinate_system=system)


# ----------------------------------------------------------------------------- read_layer


def _write(gdf: gpd.GeoDataFrame, path: Path, **kw) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # no-CRS and field-name laundering notices of the writer
        gdf.to_file(path, **kw)
    return path


def test_read_layer_reprojects_to_4326(tmp_path: Path) -> None:
    t = Transformer.from_crs(4326, 32648, always_xy=True)
    x, y = t.transform(105.84, 32.44)
    p = _write(gpd.GeoDataFrame({"a": [1]}, geometry=[Point(x, y)], crs="EPSG:32648"), tmp_path / "p.gpkg")
    g = read_layer(p)
    assert g.crs.to_epsg() == 4326
    assert g.geometry.x.iloc[0] == pytest.approx(105.84, abs=1e-7)


def test_read_layer_missing_crs(tmp_path: Path) -> None:
    p = _write(gpd.GeoDataFrame({"a": [1]}, geometry=[Point(105.84, 32.44)]), tmp_path / "p.shp")
    (tmp_path / "p.prj").unlink(missing_ok=True)
    with pytest.raises(CRSError) as e:
        read_layer(p)
    assert "no CRS" in str(e.value) and "EPSG:4326" in str(e.value)
    assert read_layer(p, default_crs="EPSG:4326").crs.to_epsg() == 4326
    assert read_layer(p, crs_override=4326).crs.to_epsg() == 4326


def test_read_layer_geojson_in_metres_and_override(tmp_path: Path) -> None:
    t = Transformer.from_crs(4326, 32648, always_xy=True)
    x, y = t.transform(105.84, 32.44)
    p = tmp_path / "m.geojson"
    p.write_text(gpd.GeoDataFrame({"a": [1]}, geometry=[Point(x, y)]).to_json(), encoding="utf-8")
    with pytest.raises(CRSError, match="look projected"):
        read_layer(p)
    g = read_layer(p, crs_override="EPSG:32648")
    assert g.geometry.x.iloc[0] == pytest.approx(105.84, abs=1e-7)


def test_read_layer_invalid_and_repair(tmp_path: Path) -> None:
    bowtie = Polygon([(105.5, 32.0), (105.7, 32.2), (105.7, 32.0), (105.5, 32.2), (105.5, 32.0)])
    ok = Polygon([(105.8, 32.4), (105.9, 32.4), (105.9, 32.5)])
    p = _write(gpd.GeoDataFrame({"a": [1, 2]}, geometry=[ok, bowtie], crs=4326), tmp_path / "c.geojson")
    with pytest.raises(InputError) as e:
        read_layer(p, expected_geom=("Polygon", "MultiPolygon"))
    assert e.value.row == 2 and "feature 2" in str(e.value)
    g = read_layer(p, expected_geom=("Polygon", "MultiPolygon"), repair=True)
    assert shapely.is_valid(g.geometry.values).all()
    assert g.geometry.iloc[1].geom_type == "MultiPolygon"
    assert g.geometry.iloc[1].area == pytest.approx(0.02, rel=1e-6)


def test_read_layer_wrong_type_and_null(tmp_path: Path) -> None:
    p = _write(gpd.GeoDataFrame({"a": [1, 2]}, geometry=[Point(105.8, 32.4), None], crs=4326), tmp_path / "x.gpkg")
    with pytest.raises(InputError) as e:
        read_layer(p, expected_geom=("LineString",))
    msgs = [str(x) for x in e.value.errors]
    assert "feature 2 has no geometry" in msgs[0] and "feature 1 is a Point" in msgs[1]


def test_read_layer_drops_zero_length_lines_with_warning(tmp_path: Path) -> None:
    lines = [LineString([(105.8, 32.4), (105.9, 32.5)]), LineString([(105.8, 32.4), (105.8, 32.4)])]
    p = _write(gpd.GeoDataFrame({"a": [1, 2]}, geometry=lines, crs=4326), tmp_path / "r.geojson")
    with pytest.raises(InputError, match="feature 2"):
        read_layer(p, expected_geom=("LineString",))
    with pytest.warns(InputWarning, match="1 zero-length"):
        g = read_layer(p, expected_geom=("LineString",), drop_degenerate=True)
    assert len(g) == 1


def test_read_layer_layers(tmp_path: Path) -> None:
    p = tmp_path / "two.gpkg"
    g = gpd.GeoDataFrame({"a": [1]}, geometry=[Point(105.8, 32.4)], crs=4326)
    _write(g, p, layer="x")
    _write(g, p, layer="y")
    with pytest.raises(InputError, match="2 layers"):
        read_layer(p)
    assert len(read_layer(p, layer="y")) == 1
    with pytest.raises(InputError, match="no layer 'z'"):
        read_layer(p, layer="z")


def test_single_part_multipoint_accepted_as_point(tmp_path: Path) -> None:
    from shapely.geometry import MultiPoint

    geoms = [MultiPoint([(105.8, 32.4)]), Point(105.9, 32.5), MultiPoint([(105.8, 32.4), (105.9, 32.5)])]
    p = _write(gpd.GeoDataFrame({"a": [1, 2, 3]}, geometry=geoms, crs=4326), tmp_path / "m.gpkg")
    with pytest.raises(InputError) as e:
        read_layer(p)
    assert e.value.row == 3 and "MultiPoint" in str(e.value)
    g = read_layer(p, expected_geom=("Point", "MultiPoint"))  # left as stored
    assert len(g) == 3 and g.geometry.geom_type.iloc[2] == "MultiPoint"
    p2 = _write(gpd.GeoDataFrame({"a": [1]}, geometry=[geoms[0]], crs=4326), tmp_path / "m1.gpkg")
    assert read_layer(p2).geometry.geom_type.tolist() == ["Point"]


@pytest.mark.parametrize("text,value", [
    ("105°50′30″", 105 + 50 / 60 + 30 / 3600),
    ("105°50'30\"E", 105 + 50 / 60 + 30 / 3600),
    ("东经105度50分30秒", 105 + 50 / 60 + 30 / 3600),
    ("32°25.5′N", 32 + 25.5 / 60),
    ("北纬32度", 32.0),
    ("33°51′S", -(33 + 51 / 60)),
])
def test_parse_dms(text: str, value: float) -> None:
    from siteplan.io.geo import parse_dms

    assert parse_dms(text) == pytest.approx(value, abs=1e-12)


def test_dms_in_table_and_bad_dms_rejected() -> None:
    from siteplan.io.geo import parse_dms

    g = points_from_table(_table(["105°50′30″"], ["北纬32度26分"]), "v.csv", region_bounds=GUANGYUAN_BOUNDS)
    assert g.geometry.x.iloc[0] == pytest.approx(105.841667, abs=1e-6)
    assert g.geometry.y.iloc[0] == pytest.approx(32.433333, abs=1e-6)
    assert parse_dms("105°75′") is None
    with pytest.raises(InputError) as e:
        points_from_table(_table(["105°75′"], ["32.4"]), "v.csv")
    assert (e.value.row, e.value.column) == (2, "lon")


def test_gbk_shapefile_without_cpg_keeps_chinese(tmp_path: Path) -> None:
    g = gpd.GeoDataFrame({"village_name": ["翠屏社区居民委员会", "小稻村村民委员会"], "village_code": ["510802001001", "510802101201"]},
                         geometry=[Point(105.8, 32.4), Point(105.9, 32.3)], crs=4326)
    p = _write(g, tmp_path / "v.shp", encoding="GBK")
    (tmp_path / "v.cpg").unlink(missing_ok=True)
    out = read_layer(p)
    assert out["village_na"].tolist() == ["翠屏社区居民委员会", "小稻村村民委员会"]  # dBase: 10 chars
    # and a UTF-8 one without .cpg
    p2 = _write(g, tmp_path / "u.shp", encoding="UTF-8")
    (tmp_path / "u.cpg").unlink(missing_ok=True)
    assert read_layer(p2)["village_na"].tolist() == ["翠屏社区居民委员会", "小稻村村民委员会"]


def test_zone_prefixed_gauss_kruger_hint() -> None:
    t = Transformer.from_crs(4326, 4523, always_xy=True)  # CGCS2000 3-degree GK zone 35
    x, y = t.transform(105.84, 32.44)
    assert 35_000_000 < x < 36_000_000
    with pytest.raises(CRSError, match="EPSG:4523"):
        points_from_table(_table([x], [y]), "v.csv")
    g = points_from_table(_table([x], [y]), "v.csv", crs="EPSG:4523", region_bounds=GUANGYUAN_BOUNDS)
    assert g.geometry.x.iloc[0] == pytest.approx(105.84, abs=1e-6)
