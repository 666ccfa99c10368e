"""New-user review of the main job: p checked in scenario terms, heuristic rejected where it
does nothing, capacity advice, the CLI error prefix, gap digits, the village-share label and
argument checks of the capacitated models."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from siteplan.cli import _fail
from siteplan.errors import InfeasibleError, InputError, ScenarioError
from siteplan.models.capacitated import solve_capacitated_mclp, solve_capacitated_pmedian
from siteplan.pipeline import _capacitated_pmedian, _check_p
from siteplan.report import _gap_pct, format_figures
from siteplan.scenario import ModelConfig, load_scenario


# ---- 1. model.p against the candidates, in the user's terms
@pytest.mark.parametrize("kind", ["pmedian", "mclp", "pcenter"])
def test_p_too_large_names_file_key_existing_and_candidates(kind):
    sc = load_scenario(model={"kind": kind, "p": 100000})
    with pytest.raises(ScenarioError) as e:
        _check_p(sc, n_candidates=2665, n_required=638)
    msg = str(e.value)
    assert str(sc.source_file) in msg and "model.p = 100000" in msg
    assert "638 existing" in msg and "required_in_p = false" in msg and "2665 candidate" in msg
    assert "1 and 2027" in msg  # 2665 candidates - 638 existing kept = at most 2027 new sites


def test_p_counting_existing_sites_must_hold_them():
    sc = load_scenario(model={"kind": "pmedian", "p": 20, "required_in_p": True, "capacitated": True})
    with pytest.raises(ScenarioError, match=r"required_in_p = true.*638 and 2665"):
        _check_p(sc, n_candidates=2665, n_required=638)
    _check_p(sc.model_copy(update={"model": sc.model.model_copy(update={"p": 700})}), 2665, 638)


def test_p_within_range_and_budget_only_pass():
    _check_p(load_scenario(model={"kind": "pmedian", "p": 2027}), 2665, 638)
    _check_p(load_scenario(model={"kind": "budget_mclp", "budget_cny": 1e6}), 2665, 638)


def test_main_job_rejects_large_p_before_solving():
    from siteplan.pipeline import run

    sc = load_scenario(model={"kind": "pmedian", "p": 100000},
                       outputs={"maps": False, "atlas": False, "shapefile": False, "workbook": False})
    with pytest.raises(ScenarioError, match=r"model\.p = 100000.*candidate"):
        run(sc, out_dir=None)


# ---- 2. heuristic where it does nothing
@pytest.mark.parametrize("model", [
    {"kind": "lscp", "heuristic": True},
    {"kind": "lscp", "heuristic": True, "capacitated": True},
    {"kind": "budget_mclp", "budget_cny": 1e6, "heuristic": True},
    {"kind": "budget_mclp", "budget_cny": 1e6, "heuristic": True, "capacitated": True},
    {"kind": "mclp", "budget_cny": 1e6, "heuristic": True},
    {"kind": "pcenter", "p": 3, "heuristic": True},
])
def test_heuristic_rejected_where_ignored(model):
    with pytest.raises(ScenarioError, match=r"model\.heuristic"):
        load_scenario(model=model)


def test_heuristic_still_allowed_for_mclp_and_pmedian():
    load_scenario(model={"kind": "mclp", "p": 3, "heuristic": True})
    load_scenario(model={"kind": "pmedian", "p": 3, "heuristic": True})


# ---- 3. capacity advice and the CLI prefix
def test_capacitated_pmedian_shortfall_gives_the_lscp_advice():
    import pandas as pd
    import scipy.sparse as sp

    A = sp.csr_matrix(np.array([[1, 1], [1, 0]], dtype=np.int8))
    D = sp.csr_matrix(np.array([[60.0, 90.0], [30.0, 0]]))
    cands = pd.DataFrame({"capacity": [0, 0]})
    with pytest.raises(InfeasibleError, match="raise model.default_capacity or the capacities") as e:
        _capacitated_pmedian(D, A, cands, np.array([85.0, 10.0]), 2, np.zeros(2, bool),
                             ModelConfig(default_capacity=40), {"time_limit_s": 10.0, "mip_gap": 0.0},
                             np.array(["v0", "v1"]))
    assert "v0 (85 children > 80 places)" in str(e.value)


def test_library_capacitated_pmedian_shortfall_gives_advice():
    with pytest.raises(InfeasibleError, match="raise the capacities"):
        solve_capacitated_pmedian(np.array([[1.0, 2.0]]), [85.0], 2, [40.0, 40.0])


def test_cli_error_prefix_is_lower_case_and_message_kept_verbatim():
    import typer

    app = typer.Typer()

    @app.command()
    def boom() -> None:
        _fail(ScenarioError("model.p = 5 [model] required_in_p = false [/] counts", file="s.toml"))

    out = CliRunner().invoke(app, [])
    assert out.exit_code == 2
    text = out.output
    assert text.startswith("error: s.toml: model.p = 5 [model] required_in_p = false [/] counts")
    assert "Error" not in text


def test_default_capacity_doc_warns_about_default_data():
    doc = ModelConfig.model_fields["default_capacity"].description or ""
    import inspect

    src = inspect.getsource(ModelConfig)
    assert "85" in src and "infeasible" in src
    del doc


# ---- 4. gap digits
def test_gap_shows_small_gaps():
    assert _gap_pct(0.000315) == "0.032%"
    assert _gap_pct(0.0) == "0%"
    assert _gap_pct(0.0123) == "1.2%"
    assert _gap_pct(0.25) == "25%"
    assert _gap_pct(None) == "n/a"
    text = format_figures({"model": "mclp", "model_status": "feasible", "model_gap": 0.000315})
    assert "feasible, gap 0.032%" in text and "gap 0.0%" not in text


# ---- 5. the village-share label
def test_village_share_label_says_within_the_standard():
    text = format_figures({"standard": "walk_30min", "village_share_after": 0.802, "village_target": 0.8,
                           "village_target_met": True})
    line = next(ln for ln in text.splitlines() if "80.2%" in ln)
    assert line.startswith("  villages within standard 80.2%")
    assert "a care site within walk_30min" in line
    assert len(line) <= 100  # one console line, not a paragraph
    assert "villages with a site" not in text


# ---- 6. argument checks of the capacitated models
def test_capacitated_pmedian_arguments_in_wrong_order():
    D, w, cap = np.ones((3, 4)), np.ones(3), np.full(4, 10.0)
    with pytest.raises(InputError, match=r"p must be an integer"):
        solve_capacitated_pmedian(D, w, cap, 3)
    with pytest.raises(InputError, match="weights"):
        solve_capacitated_pmedian(D, np.ones(4), 2, cap)
    with pytest.raises(InputError, match="capacity"):
        solve_capacitated_pmedian(D, w, 2, np.ones(3))
    with pytest.raises(InputError, match=r"\bp\b"):
        solve_capacitated_pmedian(D, w, 0, cap)
    with pytest.raises(InputError, match=r"\bp\b"):
        solve_capacitated_pmedian(D, w, 2.5, cap)
    assert solve_capacitated_pmedian(D, w, np.int64(2), cap).n_selected == 2


def test_capacitated_mclp_arguments_in_wrong_order():
    A, w, cap = np.ones((3, 4), bool), np.ones(3), np.full(4, 10.0)
    with pytest.raises(InputError, match=r"p must be an integer"):
        solve_capacitated_mclp(A, w, cap, p=cap)
    with pytest.raises(InputError, match="capacity"):
        solve_capacitated_mclp(A, w, 3, p=2)
    with pytest.raises(InputError, match="weights"):
        solve_capacitated_mclp(A, np.ones(4), cap, p=2)
    with pytest.raises(InputError, match=r"\bp\b"):
        solve_capacitated_mclp(A, w, cap, p=0)
    assert solve_capacitated_mclp(A, w, cap, p=2).objective == pytest.approx(3.0)


def test_capacitated_mclp_rejects_budget_without_cost_bad_budget_and_too_large_p():
    A = np.ones((3, 5), dtype=bool)
    w, cap = np.ones(3), np.full(5, 10.0)
    with pytest.raises(InputError, match="budget needs cost"):
        solve_capacitated_mclp(A, w, cap, budget=10)
    with pytest.raises(InputError, match="budget must be a number >= 0"):
        solve_capacitated_mclp(A, w, cap, budget=-1, cost=np.ones(5))
    with pytest.raises(InputError, match="p must be between 1 and 5"):
        solve_capacitated_mclp(A, w, cap, p=9)
    assert solve_capacitated_mclp(A, w, cap, p=5).objective == 3.0


def test_cost_matrix_passed_as_coverage_is_refused():
    from siteplan.models import solve_lscp, solve_mclp

    D = np.array([[120.0, 900.0], [0.0, 1.0]])
    for fn, kw in ((solve_capacitated_mclp, dict(weights=np.ones(2), capacity=np.ones(2), p=1)),
                   (solve_mclp, dict(weights=np.ones(2), p=1)), (solve_lscp, {})):
        with pytest.raises(InputError, match="0/1"):
            fn(D, **kw)
    assert solve_lscp(np.array([[1.0, 0.0], [0.0, 1.0]])).n_selected == 2  # 0/1 floats are fine


@pytest.mark.parametrize("key", ["capacitated", "required_in_p", "heuristic"])
def test_scenario_switches_must_be_true_or_false(key):
    """TOML has booleans: a text such as "yes" or "no" is refused, not read as true/false."""
    with pytest.raises(ScenarioError, match=f"model.{key}"):
        load_scenario(model={"kind": "mclp", "p": 3, key: "no"})
