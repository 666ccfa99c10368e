"""Round trips of the GeoPackage and Shapefile writers (siteplan.outputs.gis)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from geopandas.testing import assert_geodataframe_equal
from shapely.geometry import Point

from siteplan.errors import CRSError, OutputError
from siteplan.outputs.fixtures import synthetic_inputs
from siteplan.outputs.gis import (
    read_shapefiles,
    shapefile_field_names,
    write_geopackage,
    write_shapefiles,
)


@pytest.fixture(scope="module")
def layers():
    d = synthetic_inputs(n_villages=120, n_townships=12, seed=3)
    v = d["villages"].copy()
    # a code with a leading zero must survive (real codes start with 51, test the rule)
    v.loc[v.index[1], "village_code"] = "010802106299"
    v.loc[v.index[2], "village_name"] = "青川县 乔庄镇 东河口村（地震遗址）"
    return {
        "villages": v,
        "townships": d["townships"],
        "counties": d["counties"],
        "sites_existing": d["facilities"],
        "sites_proposed": d["sites_proposed"],
        "catchments": d["catchments"],
    }


def _normalise(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    out = gdf.copy()
    for c in out.columns:
        if c != out.geometry.name and (out[c].dtype == object or isinstance(out[c].dtype, pd.StringDtype)):
            out[c] = out[c].astype("string").fillna("")
    return out.reset_index(drop=True)


def test_geopackage_round_trip(tmp_path, layers):
    path = write_geopackage(tmp_path / "siteplan.gpkg", layers)
    import pyogrio

    names = [n for n, _ in pyogrio.list_layers(path)]
    assert sorted(names) == sorted(layers)
    for name, gdf in layers.items():
        back = gpd.read_file(path, layer=name)
        assert back.crs.to_epsg() == 4326
        assert_geodataframe_equal(_normalise(back), _normalise(gdf), check_dtype=False,
                                  check_less_precise=True, normalize=True, check_geom_type=False)
    back = gpd.read_file(path, layer="villages")
    assert back["village_code"].iloc[1] == "010802106299"
    assert back["village_name"].iloc[2] == "青川县 乔庄镇 东河口村（地震遗址）"


def test_geopackage_reprojects_and_refuses_bad_layers(tmp_path, layers):
    t = layers["townships"].to_crs("EPSG:32648")
    path = write_geopackage(tmp_path / "a.gpkg", {"townships": t})
    assert gpd.read_file(path, layer="townships").crs.to_epsg() == 4326
    no_crs = layers["townships"].set_crs(None, allow_override=True)
    with pytest.raises(CRSError):
        write_geopackage(tmp_path / "b.gpkg", {"townships": no_crs})
    numeric = layers["townships"].assign(town_code=np.arange(len(layers["townships"])))
    with pytest.raises(OutputError, match="codes must be text"):
        write_geopackage(tmp_path / "c.gpkg", {"townships": numeric})


def test_field_names_short_ascii_unique_and_stable():
    cols = ["village_code", "village_name", "walk_30min_covered", "walk_30min_covered_x",
            "drive_15min_covered", "very_long_unknown_column", "very_long_unknown_colum2",
            "中文列", "children_14_16"]
    m = shapefile_field_names(cols)
    assert m["village_code"] == "vill_code"
    assert m["walk_30min_covered"] == "c_walk30mi"
    assert all(len(v) <= 10 and v.isascii() for v in m.values())
    assert len({v.lower() for v in m.values()}) == len(cols)
    assert shapefile_field_names(cols) == m


def test_shapefile_round_trip(tmp_path, layers):
    dd = write_shapefiles(tmp_path / "shp", layers)
    for name in layers:
        for ext in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
            assert (tmp_path / "shp" / f"{name}{ext}").exists(), (name, ext)
        assert (tmp_path / "shp" / f"{name}.cpg").read_text().strip() == "UTF-8"
    disk = pd.read_csv(tmp_path / "shp" / "data_dictionary.csv", dtype=str, encoding="utf-8-sig")
    assert list(disk.columns[:6]) == ["layer", "file", "shapefile_field", "full_name",
                                      "description", "unit"]
    assert len(disk) == len(dd)
    assert (disk.shapefile_field.str.len() <= 10).all()
    assert disk[disk.full_name == "geometry"].description.str.contains("EPSG:4326").all()
    row = disk[(disk.layer == "villages") & (disk.full_name == "village_code")].iloc[0]
    assert row.shapefile_field == "vill_code"

    back = read_shapefiles(tmp_path / "shp")
    for name, gdf in layers.items():
        b = back[name]
        assert b.crs.to_epsg() == 4326
        assert list(b.columns) == list(gdf.columns)
        assert_geodataframe_equal(_normalise(b), _normalise(gdf), check_dtype=False,
                                  check_less_precise=True, normalize=True, check_geom_type=False)
    v = back["villages"]
    assert v["village_code"].iloc[1] == "010802106299"
    assert v["village_name"].iloc[2] == "青川县 乔庄镇 东河口村（地震遗址）"
    assert v["walk_30min_covered"].dtype == bool


def test_shapefile_refuses_non_ascii_layer_name(tmp_path):
    g = gpd.GeoDataFrame({"a": ["1"]}, geometry=[Point(105, 32)], crs="EPSG:4326")
    with pytest.raises(OutputError, match="ASCII"):
        write_shapefiles(tmp_path, {"村": g})


def test_empty_layer_and_suppressed_text_counts(tmp_path, layers):
    from siteplan.outputs.privacy import suppress_village_counts

    empty = gpd.GeoDataFrame({c: [] for c in ["site_id", "name", "rank", "capex_cny"]},
                             geometry=[], crs="EPSG:4326")
    v = suppress_village_counts(layers["villages"])
    path = write_geopackage(tmp_path / "e.gpkg", {"villages": v, "sites_proposed": empty})
    assert len(gpd.read_file(path, layer="sites_proposed")) == 0
    back = gpd.read_file(path, layer="villages")
    assert back["children"].tolist() == v["children"].tolist()
    write_shapefiles(tmp_path / "shp", {"villages": v, "sites_proposed": empty})
    assert read_shapefiles(tmp_path / "shp")["villages"]["children"].tolist() == v["children"].tolist()


def test_every_pipeline_field_family_has_a_description():
    from siteplan.outputs.gis import field_doc

    for name in ("walk_30min_covered", "walk_30min_covered_before", "drive_15min_time_s",
                 "police_within_15min", "police_backup_id", "escort_rescue_station_time_s",
                 "escort_welfare_home_id", "escort_village_committee_own", "access_2sfca",
                 "nearest_site_type", "status_before", "is_care_site"):
        desc, _ = field_doc(name)
        assert desc, name
    assert field_doc("police_within_15min")[0] == "police reach the village within 15min"
    assert field_doc("no_such_field_xyz") == ("", "")
