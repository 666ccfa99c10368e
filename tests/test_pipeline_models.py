"""Every location model is reachable from the scenario file and reported by the main job."""

from __future__ import annotations

import pytest

from siteplan.pipeline import run
from siteplan.report import format_figures
from siteplan.scenario import load_scenario

QUIET = {"maps": False, "atlas": False, "shapefile": False, "workbook": False}


@pytest.mark.parametrize(
    "model",
    [
        {"kind": "mclp", "p": 30},
        {"kind": "pmedian", "p": 15},
        {"kind": "pcenter", "p": 15},
        {"kind": "budget_mclp", "budget_cny": 1_500_000},
        {"kind": "lscp"},
    ],
    ids=lambda m: m["kind"],
)
def test_model_from_scenario(model):
    r = run(load_scenario(model=model, outputs=QUIET), out_dir=None)
    res = r.plan.model
    assert res.status == "optimal" and res.gap < 1e-9
    assert r.figures["model"] == model["kind"] and r.figures["model_status"] == "optimal"
    text = format_figures(r.figures)
    assert f"{model['kind']}: optimal" in text
    proposed = r.plan.proposed
    if "p" in model:  # p new sites besides the existing ones kept open
        assert len(proposed) == model["p"]
    if model["kind"] == "budget_mclp":
        assert proposed["capex_cny"].sum() <= model["budget_cny"] + 1e-6
        assert r.costs.total("capex_total") == pytest.approx(proposed["capex_cny"].sum())
    if model["kind"] == "lscp":  # every village a candidate can cover is covered
        assert r.figures["villages_covered_after"] == pytest.approx(
            1 - r.figures["n_unreachable"] / r.figures["n_villages"])
    assert r.figures["children_covered_after"] >= r.figures["children_covered_before"]


def test_capacitated_needs_a_capacitated_kind():
    # lscp, pmedian, mclp and budget_mclp respect capacities (tests/test_pipeline_capacity.py)
    from siteplan.errors import ScenarioError

    with pytest.raises(ScenarioError, match="capacitated"):
        run(load_scenario(model={"kind": "pcenter", "p": 3, "capacitated": True}, outputs=QUIET), out_dir=None)
