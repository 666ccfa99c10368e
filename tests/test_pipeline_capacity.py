"""Capacities in the main job: model.capacitated with kind = "pmedian", "mclp", "budget_mclp"."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from siteplan.errors import InfeasibleError, ScenarioError
from siteplan.pipeline import _capacitated_pmedian, _capacities, run
from siteplan.report import format_figures
from siteplan.scenario import ModelConfig, load_scenario

QUIET = {"maps": False, "atlas": False, "shapefile": False, "workbook": False}
KW = {"time_limit_s": 30.0, "mip_gap": 0.0}


def test_pipeline_capacitated_pmedian_helper_stays_within_standard():
    # travel times exist beyond the standard (v0 -> c1 at 2400 s) but are never used
    A = sp.csr_matrix(np.array([[1, 0], [1, 1], [0, 0]], dtype=np.int8))
    D = sp.csr_matrix(np.array([[60.0, 2400.0], [600.0, 300.0], [0, 0]]))
    cands = pd.DataFrame({"capacity": [0, 20]})  # 0 = unknown -> default_capacity
    res = _capacitated_pmedian(D, A, cands, np.array([30.0, 30.0, 5.0]), 2, np.zeros(2, bool),
                               ModelConfig(default_capacity=40), KW, np.array(["v0", "v1", "v2"]))
    assert res.status == "optimal" and list(res.uncoverable) == [2]  # v2: no site within the standard
    X = res.extra["x"].toarray()
    assert np.all(X[A.toarray() == 0] == 0)
    assert np.all(res.extra["load"] <= _capacities(cands, ModelConfig(default_capacity=40)) + 1e-9)
    # v0 needs c0 (40 places) entirely, so 10 of v1 go to c0 and 20 to c1
    assert X[1, 0] == pytest.approx(1 / 3) and res.objective == pytest.approx(30 * 60 + 10 * 600 + 20 * 300)


def test_main_job_capacitated_mclp():
    r = run(load_scenario(model={"kind": "mclp", "p": 30, "capacitated": True}, outputs=QUIET), out_dir=None)
    res = r.plan.model
    assert res.model == "cmclp" and res.status == "optimal"
    assert r.figures["model"] == "mclp" and r.figures["model_capacitated"] is True
    cap = _capacities(r.plan.candidates, r.scenario.model)
    assert np.all(res.extra["load"] <= cap + 1e-6)
    assert r.figures["children_placed_within_capacity"] == pytest.approx(res.objective)
    assert len(r.plan.proposed) <= 30
    text = format_figures(r.figures)
    assert "mclp: optimal" in text and "capacities               respected" in text
    assert "children placed within capacity" in text and "children covered" not in text


def test_main_job_capacitated_pmedian():
    model = {"kind": "pmedian", "p": 400, "capacitated": True, "standard": "drive_15min",
             "default_capacity": 200}
    r = run(load_scenario(model=model, outputs=QUIET), out_dir=None)
    res = r.plan.model
    assert res.model == "cpmedian" and res.status == "optimal" and res.gap < 1e-9
    assert len(r.plan.proposed) == 400  # p new sites besides the existing ones kept open
    n_existing = int((r.plan.candidates["action"] == "existing").sum())
    assert res.n_selected == 400 + n_existing
    cap = _capacities(r.plan.candidates, r.scenario.model)
    assert np.all(res.extra["load"] <= cap + 1e-6)
    placed = r.figures["children_placed_within_capacity"]
    assert placed == pytest.approx(res.extra["placed"])
    assert r.figures["model"] == "pmedian" and "capacities" in format_figures(r.figures)


def test_main_job_capacitated_pmedian_too_few_sites_is_explained():
    model = {"kind": "pmedian", "p": 15, "capacitated": True, "default_capacity": 200}
    with pytest.raises(InfeasibleError, match="too few") as ei:
        run(load_scenario(model=model, outputs=QUIET), out_dir=None)
    # in the scenario's terms: model.p as written, plus the existing sites kept
    assert "model.p = 15 (plus the" in str(ei.value) and "model.required_in_p = false" in str(ei.value)


def test_capacitated_pcenter_is_rejected():
    with pytest.raises(ScenarioError, match="capacitated"):
        load_scenario(model={"kind": "pcenter", "p": 3, "capacitated": True}, outputs=QUIET)
