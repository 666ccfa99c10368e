"""The main job end to end on the embedded default data, and its failure behaviour."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from typer.testing import CliRunner

import siteplan
from siteplan.cli import app
from siteplan.errors import InfeasibleError
from siteplan.pipeline import run
from siteplan.scenario import DEFAULT_SCENARIO, load_scenario


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("outputs")
    result = run(load_scenario(), out_dir=out)
    return result, out / "guangyuan-default"


def test_default_run_writes_every_output(default_run):
    result, folder = default_run
    for name in ("siteplan.gpkg", "villages.csv", "targets.csv", "sites_proposed.csv", "response.csv",
                 "under_served.csv", "costs.xlsx", "summary.md", "manifest.json", "maps/city.html",
                 "atlas.pdf", "shapefile/data_dictionary.csv"):
        assert (folder / name).is_file(), name
    # no temp folder left (.cache holds the OD cache shared by runs)
    assert [p.name for p in folder.parent.iterdir() if p.name != ".cache"] == ["guangyuan-default"]
    assert list((folder.parent / ".cache" / "od").glob("*.npz")), "OD costs cached for re-runs"
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert set(manifest["stage_seconds"]) >= {"load", "network", "travel", "coverage", "plan",
                                              "response", "costs", "outputs"}
    hashed = {Path(i["path"]).name for i in manifest["inputs"]}
    assert {"villages.csv", "facilities.csv", "roads.gpkg", "costs.toml"} <= hashed
    assert all(len(i["sha256"]) == 64 for i in manifest["inputs"])
    assert manifest["packages"]["highspy"] != "missing"


def test_default_run_uses_only_embedded_data(default_run):
    result, _ = default_run
    data_dir = DEFAULT_SCENARIO.parent
    for f in result.inputs.files:
        assert Path(f).resolve().is_relative_to(data_dir), f


def test_every_village_has_coverage_and_response_fields(default_run):
    result, folder = default_run
    v = result.villages
    assert len(v) == 1735 and int(v["children"].sum()) == 29251
    for col in ("status", "walk_30min_covered", "walk_30min_time_s", "drive_15min_covered",
                "nearest_care_site_id", "access_2sfca", "police_time_s", "police_backup_time_s",
                "police_within_15min", "escort_rescue_station_time_s", "escort_welfare_home_time_s"):
        assert col in v.columns, col
        assert v[col].notna().all(), col
    assert set(v["status"]) <= {"covered", "under_served", "unreachable", "off_network"}
    layer = gpd.read_file(folder / "siteplan.gpkg", layer="villages")
    assert len(layer) == 1735 and layer["village_code"].str.len().eq(12).all()


def test_plan_meets_targets_and_summary_agrees(default_run):
    result, folder = default_run
    f = result.figures
    sc = result.scenario
    assert result.plan.model.status == "optimal"
    city = result.targets_after.set_index("county_code").loc["all"]
    assert city["villages_within_share"] >= sc.model.village_target
    assert city["townships_with_site_share"] >= sc.model.township_target
    # per-county scope: every county meets the village target
    counties = result.targets_after[result.targets_after["county_code"] != "all"]
    assert (counties["villages_within_share"] >= sc.model.village_target - 1e-12).all()
    assert f["villages_covered_after"] >= f["villages_covered_before"]
    assert f["n_proposed"] == len(result.plan.proposed) > 0
    # the plan's capex and the costing agree (one catalogue, one function)
    assert f["capex_cny"] == pytest.approx(result.plan.proposed["capex_cny"].sum(), rel=1e-9)
    text = (folder / "summary.md").read_text(encoding="utf-8")
    assert "MODELLED" in text and "OpenStreetMap" in text and "Tianditu" in text


def test_handed_out_counts_are_suppressed(default_run):
    _, folder = default_run
    v = pd.read_csv(folder / "villages.csv", dtype=str)
    small = v["children"].isin([str(i) for i in range(1, 10)])
    assert not small.any(), "a count from 1 to 9 is shown"
    assert (v["children"] == "<10").any() or (v["children"].str.isdigit()).all()
    small = [str(i) for i in range(1, 10)]
    p = pd.read_csv(folder / "sites_proposed.csv", dtype=str)
    assert not p["children_newly_covered"].isin(small).any()
    layer = gpd.read_file(folder / "siteplan.gpkg", layer="sites_proposed")
    assert not layer["children_newly_covered"].astype(str).isin(small).any()


def test_failed_late_stage_keeps_previous_outputs(default_run, monkeypatch):
    """A run that dies while writing outputs leaves the previous set byte for byte."""
    _, folder = default_run
    before = {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    import siteplan.outputs.atlas as atlas

    def crash(out_dir, *args, **kwargs):
        (Path(out_dir) / "atlas.pdf").write_bytes(b"half-written")
        raise RuntimeError("killed midway through the atlas")

    monkeypatch.setattr(atlas, "write_atlas", crash)
    sc = load_scenario(model={"kind": "mclp", "p": 3})
    with pytest.raises(RuntimeError, match="killed midway"):
        run(sc, out_dir=folder.parent)
    after = {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    assert after == before
    assert [p.name for p in folder.parent.iterdir() if p.name != ".cache"] == ["guangyuan-default"]


def test_input_failing_in_plan_stage_keeps_previous_outputs(default_run):
    """An input that only fails at the location model: no candidate sites beyond the existing
    ones, so the 80% village target cannot be met; the error says which targets and units."""
    _, folder = default_run
    before = {p.relative_to(folder): p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()}
    sc = load_scenario(candidates={"upgrade_types": [], "cluster_new_sites": False})
    with pytest.raises(InfeasibleError) as e:
        run(sc, out_dir=folder.parent)
    assert "village" in str(e.value)
    assert e.value.uncoverable, "the villages no candidate can cover are listed"
    after = {p.relative_to(folder): p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()}
    assert after == before


def test_public_entry_point():
    assert siteplan.run is run
    assert siteplan.load_scenario is load_scenario


runner = CliRunner()


def test_cli_validate_default_ok():
    r = runner.invoke(app, ["validate"])
    assert r.exit_code == 0, r.output
    assert "OK" in r.output and "1735" in r.output.replace(",", "")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("[model]\nknd = 'mclp'\n", "unknown key 'model.knd'; did you mean 'kind'"),
        ("[data]\nvillages = 'missing.csv'\n", "data.villages: file not found"),
        ("[care_sites]\ntypes = ['day_cares']\n", "unknown facility type 'day_cares'"),
    ],
)
def test_cli_validate_three_distinct_clear_errors(tmp_path, text, expected):
    p = tmp_path / "scenario.toml"
    p.write_text(text, encoding="utf-8")
    r = runner.invoke(app, ["validate", str(p), "--data", str(DEFAULT_SCENARIO.parent)])
    assert r.exit_code == 2, r.output
    flat = r.output.replace("\n", "")
    assert expected in flat
    assert "Traceback" not in r.output
    assert str(p) in flat


def test_cli_debug_shows_traceback(tmp_path):
    p = tmp_path / "scenario.toml"
    p.write_text("[model]\nknd = 1\n", encoding="utf-8")
    r = runner.invoke(app, ["--debug", "validate", str(p)])
    assert r.exit_code != 0 and r.exception is not None
