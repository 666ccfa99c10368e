"""Road-network input checks: errors name the file, row and column; cutoffs are validated;
implausible ``maxspeed`` values are ignored with a warning.

Rows are numbered as the loaders number them (:mod:`siteplan.io`): feature n of a GIS
layer is ``row n`` (1-based), i.e. DataFrame label + 1 of the loaded roads table.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import LineString, Point
from typer.testing import CliRunner

from siteplan.cli import app
from siteplan.errors import InputWarning, NetworkError
from siteplan.network import TravelNetwork, nearest, od_costs, parse_maxspeed
from siteplan.scenario import DEFAULT_SCENARIO, ModeSpeeds, NetworkConfig

CRS = "EPSG:32648"
CFG = NetworkConfig(drive=ModeSpeeds(default_kph=36.0), walk=ModeSpeeds(default_kph=3.6))
CHAIN = [[(i * 1000.0, 0.0), ((i + 1) * 1000.0, 0.0)] for i in range(5)]


def roads(lines, **cols):
    return gpd.GeoDataFrame(cols, geometry=[LineString(c) for c in lines], crs=CRS)


# ------------------------------------------------------------------ errors name file, row, column


def test_nan_length_names_file_row_and_column():
    r = roads(CHAIN, length_m=[1000.0, 1000.0, 1000.0, np.nan, 1000.0])
    with pytest.raises(NetworkError) as e:
        TravelNetwork.from_roads(r, CFG, source="data/roads.gpkg")
    msg = str(e.value)
    assert msg.startswith("data/roads.gpkg, row 4, column 'length_m': edge 3 (u=3, v=4): length nan m")
    assert (e.value.file, e.value.row, e.value.column) == ("data/roads.gpkg", 4, "length_m")


def test_nan_speed_names_file_row_and_column():
    r = roads(CHAIN, speed_kph=[40.0, 40.0, 40.0, np.nan, 40.0])
    with pytest.raises(NetworkError, match=r"^roads\.gpkg, row 4, column 'speed_kph': edge 3 \(u=3, v=4\): "
                                           r"drive speed nan km/h"):
        TravelNetwork.from_roads(r, CFG, source=Path("roads.gpkg"))


def test_without_source_the_row_label_is_named():
    r = roads(CHAIN[:2], length_m=[1000.0, np.nan])
    r.index = ["a", "b"]
    with pytest.raises(NetworkError, match=r"^column 'length_m': edge 1 \(road row 'b', u=1, v=2\)"):
        TravelNetwork.from_roads(r, CFG)


def test_bad_geometry_names_file_and_row():
    r = gpd.GeoDataFrame(geometry=[LineString(CHAIN[0]), Point(0, 0)], crs=CRS)
    with pytest.raises(NetworkError, match=r"^r\.geojson, row 2: .*non-empty LineString"):
        TravelNetwork.from_roads(r, CFG, source="r.geojson")


@pytest.mark.parametrize("second", ["multipart", "zero_length"])
def test_rows_are_the_file_features_after_a_multipart_or_a_dropped_line(tmp_path, second):
    """The loader splits a MultiLineString into parts and drops zero-length lines; the rows
    it and the network name stay those of the file's features."""
    from shapely.geometry import MultiLineString

    from siteplan.io import load_roads

    lines = [LineString([(105.8 + i * 0.01, 32.4), (105.8 + (i + 1) * 0.01, 32.4)]) for i in range(6)]
    if second == "multipart":
        lines[1] = MultiLineString([[(105.81, 32.4), (105.815, 32.4)], [(105.815, 32.4), (105.82, 32.4)]])
    else:
        lines[1] = LineString([(105.81, 32.4), (105.81, 32.4)])
    g = gpd.GeoDataFrame({"length_m": [900.0, 900.0, 900.0, 900.0, np.nan, 900.0]}, geometry=lines,
                         crs="EPSG:4326")
    path = tmp_path / "roads.gpkg"
    g.to_file(path, layer="roads")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InputWarning)
        r = load_roads(path)
    with pytest.raises(NetworkError) as e:
        TravelNetwork.from_roads(r.to_crs(CRS), CFG, source=path)
    assert (e.value.row, e.value.column) == (5, "length_m"), str(e.value)


# ------------------------------------------------------------------ cutoffs


@pytest.fixture(scope="module")
def chain_net():
    return TravelNetwork.from_roads(roads(CHAIN), CFG)


def _pts(*xy):
    return gpd.GeoDataFrame(geometry=[Point(p) for p in xy], crs=CRS)


@pytest.mark.parametrize("arg", ["cutoff_s", "cutoff_m"])
@pytest.mark.parametrize("bad", [-1, -0.5, float("nan"), "ten"])
def test_od_costs_rejects_bad_cutoff(chain_net, arg, bad):
    p = _pts((0, 0), (3000, 0))
    with pytest.raises(ValueError, match=rf"{arg} must be a number >= 0.*got {bad!r}"):
        od_costs(chain_net, p, p, "drive", **{arg: bad})


@pytest.mark.parametrize("bad", [-1, float("nan")])
def test_nearest_rejects_bad_cutoff(chain_net, bad):
    p = _pts((0, 0), (3000, 0))
    for k in (1, 2):
        with pytest.raises(ValueError, match=rf"cutoff_s must be a number >= 0.*got {bad!r}"):
            nearest(chain_net, p, p, "drive", k=k, cutoff_s=bad)


def test_zero_and_infinite_cutoffs_stay_valid(chain_net):
    p = _pts((0, 0), (3000, 0))
    od = od_costs(chain_net, p, p, "drive", cutoff_s=0, off_road_speed_kph=3.6)
    assert sorted(zip(od.origin.tolist(), od.dest.tolist(), strict=True)) == [(0, 0), (1, 1)]
    assert len(od_costs(chain_net, p, p, "drive", cutoff_m=np.inf)) == 4
    n = nearest(chain_net, p, p, "drive", cutoff_s=0)
    assert n["dest_1"].tolist() == [0, 1]


# ------------------------------------------------------------------ maxspeed range


@pytest.mark.parametrize("raw", ["0", "-30", "NaN", "nan", "inf", "1000", "151", "100 mph", 0, -30, 1000,
                                 np.float64(1000.0), float("inf")])
def test_parse_maxspeed_out_of_range_is_none(raw):
    assert parse_maxspeed(raw) is None


@pytest.mark.parametrize("raw, kph", [("150", 150.0), ("120", 120.0), ("5", 5.0), ("1000;60", 60.0),
                                      (["0", "40"], 40.0), (150, 150.0)])
def test_parse_maxspeed_in_range(raw, kph):
    assert parse_maxspeed(raw) == pytest.approx(kph)


def test_implausible_maxspeed_falls_back_to_class_speed_with_a_warning():
    ms = ["1000", "0", "-30", "NaN", "72", ""]
    r = roads(CHAIN + [[(5000.0, 0.0), (6000.0, 0.0)]], maxspeed=ms)
    with pytest.warns(InputWarning) as rec:
        net = TravelNetwork.from_roads(r, CFG, source="roads.gpkg")
    assert len(rec) == 1
    msg = str(rec[0].message)
    assert msg.startswith("roads.gpkg: 4 maxspeed value(s) outside")
    assert "column 'maxspeed'" in msg and "first on row 1: '1000'" in msg and "class speed" in msg
    t = net.time_s["drive"][np.argsort(net.edge_seg)][::2]  # forward edge of each segment
    assert t.tolist() == pytest.approx([100.0, 100.0, 100.0, 100.0, 50.0, 100.0])


def test_implausible_maxspeed_without_source_names_the_row_label():
    r = roads(CHAIN[:2], maxspeed=["50", "1000"])
    with pytest.warns(InputWarning, match=r"^roads: 1 maxspeed value\(s\) .*road row 1: '1000'"):
        TravelNetwork.from_roads(r, CFG)


@pytest.mark.parametrize("how", ["speed_kph", "ignore"])
def test_no_maxspeed_warning_when_maxspeed_unused(how):
    extra = {"speed_kph": [40.0, 40.0]} if how == "speed_kph" else {}
    cfg = CFG.model_copy(update={"maxspeed_rule": "ignore"}) if how == "ignore" else CFG
    r = roads(CHAIN[:2], maxspeed=["50", "1000"], **extra)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        TravelNetwork.from_roads(r, cfg)


# ------------------------------------------------------------------ CLI one-line output


def _scenario_with_roads(tmp_path: Path, edit) -> Path:
    r = gpd.read_file(DEFAULT_SCENARIO.parent / "roads.gpkg", layer="roads")
    edit(r)
    roads_path = tmp_path / "roads_bad.gpkg"
    r.to_file(roads_path, layer="roads", driver="GPKG")
    p = tmp_path / "scenario.toml"
    p.write_text(f"[data]\nroads = '{roads_path.as_posix()}'\n", encoding="utf-8")
    return p


def test_cli_run_names_roads_file_row_and_column(tmp_path):
    def edit(r):
        r.loc[3, "length_m"] = np.nan

    p = _scenario_with_roads(tmp_path, edit)
    res = CliRunner().invoke(app, ["run", str(p), "--data", str(DEFAULT_SCENARIO.parent),
                                   "--out", str(tmp_path / "out"), "--quiet"])
    assert res.exit_code == 2, res.output
    flat = res.output.replace("\n", "")
    assert "Traceback" not in res.output
    assert "roads_bad.gpkg, row 4, column 'length_m': edge 3 (u=" in flat
    assert "length nan m is missing" in flat


def test_cli_validate_warns_about_implausible_maxspeed(tmp_path):
    def edit(r):
        r.loc[5, "maxspeed"] = "1000"

    p = _scenario_with_roads(tmp_path, edit)
    res = CliRunner().invoke(app, ["validate", str(p), "--data", str(DEFAULT_SCENARIO.parent)])
    assert res.exit_code == 0, res.output
    flat = res.output.replace("\n", "")
    assert "warning: " in flat and "roads_bad.gpkg: 1 maxspeed value(s) outside" in flat
    assert "first on row 6: '1000'" in flat


@pytest.mark.parametrize("k", [0, -1, 1.5, "2", None, True])
def test_nearest_k_must_be_a_positive_integer(k):
    from siteplan.network import TravelNetwork, nearest

    r = gpd.GeoDataFrame(geometry=[LineString([(0, 0), (1000, 0)])], crs="EPSG:32648")
    net = TravelNetwork.from_roads(r)
    p = gpd.GeoDataFrame(geometry=[Point(0, 0), Point(1000, 0)], crs="EPSG:32648")
    with pytest.raises(ValueError, match="k must be an integer >= 1"):
        nearest(net, p, p, "drive", k=k)
    assert len(nearest(net, p, p, "drive", k=np.int64(2))) == 2
