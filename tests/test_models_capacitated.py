"""Capacitated p-median and capacitated MCLP: spopt's published value, errors, adapter."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from siteplan.errors import InfeasibleError, InputError
from siteplan.models import (
    solve_capacitated_mclp,
    solve_capacitated_pmedian,
    solve_mclp,
    solve_pmedian,
    solve_with_config,
)
from siteplan.scenario import ModelConfig

SHARED = Path(__file__).resolve().parents[2] / "shared"
SPOPT = SHARED / "benchmarks" / "spopt-sf"
needs_spopt = pytest.mark.skipif(not (SPOPT / "example_subject_schools.csv").exists(),
                                 reason=f"spopt school test data not found at {SPOPT}")


# --------------------------------------------------------------------------- spopt's instance
def _schools(missing: str = "spopt"):
    """spopt's test_c_p_median.py instance (TestRealWorldLocate).

    Cost matrix = journeys pivoted to students x schools (``sort=False``: order of first
    appearance, which equals the schools file order) with ``fill_value=10000`` for the 5
    missing pairs, cast to int, as spopt builds it; ``missing="inf"`` makes them not allowed
    instead. Weights 1 per student; capacities = schools ``Count``; predefined (required)
    schools = positions with ``priority == 1``; p = 10.
    """
    t = pd.read_csv(SPOPT / "example_subject_student_school_journeys.csv")
    schools = pd.read_csv(SPOPT / "example_subject_schools.csv")
    students = pd.read_csv(SPOPT / "example_subject_students.csv")
    if missing == "spopt":
        C = t.pivot_table(columns="school", fill_value=10000, index="student", sort=False,
                          values="time").astype(int)
    else:
        C = t.pivot_table(columns="school", index="student", sort=False, values="time")
    assert list(C.columns) == schools["SE2 PP: Code"].tolist()  # capacities align with columns
    D = C.to_numpy(dtype=float).copy()
    D[np.isnan(D)] = np.inf
    w = np.ones(len(students))
    cap = schools["Count"].to_numpy(dtype=float)
    req = np.array(schools.index[schools["priority"] == 1].tolist())
    return D, w, cap, req, schools


@needs_spopt
@pytest.mark.parametrize("single_source", [True, False], ids=["single_source", "split"])
@pytest.mark.parametrize("missing", ["spopt", "inf"])
def test_spopt_school_capacitated_pmedian_mean_time(single_source, missing):
    D, w, cap, req, _ = _schools(missing)
    assert D.shape == (10, 74) and len(req) == 7
    r = solve_capacitated_pmedian(D, w, 10, cap, req, fill_required=True, single_source=single_source)
    assert r.status == "optimal" and r.gap == pytest.approx(0.0, abs=1e-12)
    assert r.objective == pytest.approx(872.0, abs=1e-6)
    assert round(r.extra["mean_cost"], 9) == 87.2  # spopt: pmedian.mean_dist == 87.2
    assert r.n_selected == 10 and set(req) <= set(r.selected)
    load = r.extra["load"]
    assert np.allclose(load[req], cap[req])  # predefined schools filled to capacity
    assert np.all(load <= cap + 1e-9)
    X = r.extra["x"].toarray()
    assert np.allclose(X.sum(axis=1), 1.0)
    assert not np.any((X > 1e-9) & ~np.isfinite(D))
    assert float(np.where(X > 0, D, 0.0).sum()) == pytest.approx(872.0)  # no 10000-min fill-in pair used


@needs_spopt
def test_spopt_school_without_fill_is_siteplans_default():
    # siteplan does not force existing sites full by default: the same sites, kept open but
    # free to take fewer children, give a lower mean time
    D, w, cap, req, _ = _schools()
    r = solve_capacitated_pmedian(D, w, 10, cap, req)
    assert r.status == "optimal"
    assert r.extra["mean_cost"] == pytest.approx(81.6)
    assert set(req) <= set(r.selected) and np.all(r.extra["load"] <= cap + 1e-9)


@needs_spopt
def test_spopt_school_infeasible_cases():
    D, w, cap, req, schools = _schools()
    with pytest.raises(InputError, match="p must be"):  # spopt: p = 0 is infeasible
        solve_capacitated_pmedian(D, w, 0, cap)
    prio3 = np.array(schools.index[schools["priority"] == 3].tolist())
    with pytest.raises(InfeasibleError, match="cannot be filled to capacity"):
        solve_capacitated_pmedian(D, w, 20, cap, prio3, fill_required=True)
    with pytest.raises(InfeasibleError, match="largest capacities"):  # spopt: "highest possible capacity"
        solve_capacitated_pmedian(D, np.full(10, 5.0), 10, cap, req, fill_required=True)


# --------------------------------------------------------------------------- p-median
INF = np.inf


def test_capacity_moves_children_to_the_next_site_within_reach():
    D = np.array([[1.0, 5.0, INF], [1.0, 4.0, 9.0], [INF, 2.0, 1.0]])
    w = np.array([30.0, 30.0, 10.0])
    free = solve_pmedian(D, w, 2)
    r = solve_capacitated_pmedian(D, w, 2, [40, 100, 100])
    assert r.model == "cpmedian" and r.status == "optimal"
    assert r.objective > free.objective
    X = r.extra["x"].toarray()
    assert np.all(X[~np.isfinite(D)] == 0)  # never beyond the cut-off
    assert np.all(r.extra["load"] <= np.array([40, 100, 100]) + 1e-9)
    assert np.allclose(X.sum(axis=1), 1.0)
    assert r.extra["placed"] == pytest.approx(70.0)


def test_single_source_never_beats_split():
    D = np.array([[1.0, 2.0], [1.0, 3.0]])
    w = np.array([6.0, 6.0])
    split = solve_capacitated_pmedian(D, w, 2, [8, 8])
    whole = solve_capacitated_pmedian(D, w, 2, [8, 8], single_source=True)
    # row 1 (dearer elsewhere) takes site 0; row 0 is split 2 at site 0, 4 at site 1
    assert split.objective == pytest.approx(6 * 1 + 2 * 1 + 4 * 2)
    assert split.extra["n_split"] == 1
    assert whole.objective == pytest.approx(6 * 1 + 6 * 2)  # row 0 whole at site 1
    assert whole.objective >= split.objective
    assert set(np.unique(whole.extra["x"].data)) == {1.0}


def test_service_standard_cover_restricts_pairs():
    D = np.array([[1.0, 2.0], [1.0, 3.0]])
    cover = np.array([[True, False], [True, True]])
    r = solve_capacitated_pmedian(D, [5, 5], 2, [10, 10], cover=cover)
    assert r.extra["x"].toarray()[0, 1] == 0
    with pytest.raises(InfeasibleError, match="more children than all sites within reach") as e:
        solve_capacitated_pmedian(D, [12, 1], 2, [10, 10], cover=cover, demand_ids=["v0", "v1"])
    assert "v0 (12 children > 10 places)" in str(e.value) and e.value.uncoverable == ["v0"]


def test_demand_without_allowed_pair_is_named_or_dropped():
    D = np.array([[1.0, INF], [INF, INF], [2.0, 1.0]])
    w = np.array([1.0, 4.0, 1.0])
    with pytest.raises(InfeasibleError, match="no allowed site") as e:
        solve_capacitated_pmedian(D, w, 1, [10, 10], demand_ids=["a", "b", "c"])
    assert e.value.uncoverable == ["b"]
    r = solve_capacitated_pmedian(D, w, 1, [10, 10], drop_uncoverable=True)
    assert list(r.uncoverable) == [1] and r.assignment[1] == -1 and not r.covered[1]
    assert r.covered[[0, 2]].all() and r.extra["placed"] == pytest.approx(2.0)
    # zero-weight demand without a pair is simply ignored
    assert solve_capacitated_pmedian(D, [1, 0, 1], 1, [10, 10]).status == "optimal"


def test_infeasible_explanations():
    D = np.array([[1.0, 2.0, INF], [1.0, 2.0, INF], [INF, INF, 1.0]])
    # a and b share sites 0 and 1 (4 + 4 places) but have 5 + 5 children
    with pytest.raises(InfeasibleError, match="even with every candidate open") as e:
        solve_capacitated_pmedian(D, [5, 5, 1], 3, [4, 4, 40], demand_ids=["a", "b", "c"])
    assert set(e.value.uncoverable) <= {"a", "b"} and e.value.uncoverable
    # everything fits with all three open, not with two
    with pytest.raises(InfeasibleError, match="too few"):
        solve_capacitated_pmedian(D, [4, 4, 1], 2, [4, 4, 40])
    with pytest.raises(InfeasibleError, match="largest capacities"):
        solve_capacitated_pmedian(D, [4, 4, 1], 1, [4, 4, 5])


def test_required_sites_open_and_counted_in_p():
    D = np.array([[1.0, 9.0, 9.0], [9.0, 1.0, 9.0], [9.0, 9.0, 1.0]])
    r = solve_capacitated_pmedian(D, [1, 1, 1], 2, [5, 5, 5], required=[2])
    assert 2 in r.selected and r.n_selected == 2
    with pytest.raises(InputError):
        solve_capacitated_pmedian(D, [1, 1, 1], 1, [5, 5, 5], required=[0, 2])


def test_fill_required_forces_existing_sites_full():
    D = np.array([[1.0, 3.0], [1.0, 2.0], [2.0, 1.0]])
    w = [2.0, 2.0, 2.0]
    free = solve_capacitated_pmedian(D, w, 2, [4, 6], required=[1])
    full = solve_capacitated_pmedian(D, w, 2, [4, 6], required=[1], fill_required=True)
    assert free.extra["load"][1] == pytest.approx(2.0)
    assert full.extra["load"][1] == pytest.approx(6.0) and full.objective >= free.objective


def test_sparse_cost_matrix_explicit_zero_is_allowed():
    C = sp.csr_matrix((np.array([0.0, 5.0]), (np.array([0, 0]), np.array([0, 1]))), shape=(1, 2))
    r = solve_capacitated_pmedian(C, [3], 1, [3, 3])
    assert r.objective == 0.0 and r.assignment[0] == 0


# --------------------------------------------------------------------------- MCLP
def test_capacitated_mclp_partial_coverage():
    A = np.array([[1, 1, 0], [1, 0, 0], [0, 1, 1], [0, 0, 0]], bool)
    w = np.array([50.0, 30.0, 30.0, 5.0])
    r = solve_capacitated_mclp(A, w, [40, 40, 40], p=1)
    assert r.model == "cmclp" and r.objective == pytest.approx(40.0)
    assert solve_mclp(A, w, p=1).objective == pytest.approx(80.0)  # uncapacitated counts 50 + 30
    assert r.extra["n_partial"] == 1 and not r.covered.any()
    r3 = solve_capacitated_mclp(A, w, [40, 40, 40], p=3)
    assert r3.objective == pytest.approx(110.0) and list(r3.uncoverable) == [3]
    assert np.all(r3.extra["load"] <= 40 + 1e-9)
    assert np.all(r3.extra["x"].toarray()[~A] == 0)
    whole = solve_capacitated_mclp(A, w, [40, 40, 40], p=2, single_source=True)
    assert whole.objective == pytest.approx(60.0)  # 50 fits nowhere whole


def test_capacitated_mclp_budget_required_and_p_rules():
    A = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1]], bool)
    w = np.array([10.0, 20.0, 30.0])
    r = solve_capacitated_mclp(A, w, [100, 100, 100], budget=5, cost=[1, 4, 6], required=[0])
    assert list(r.selected) == [0, 1] and r.objective == pytest.approx(30.0)
    r = solve_capacitated_mclp(A, w, [100, 100, 100], p=1, required=[0], required_in_p=False)
    assert list(r.selected) == [0, 2]
    with pytest.raises(InputError):
        solve_capacitated_mclp(A, w, [1, 1, 1], p=1, required=[0, 1])
    with pytest.raises(InputError):
        solve_capacitated_mclp(A, w, [1, 1, 1])
    with pytest.raises(InputError):
        solve_capacitated_mclp(A, w, None, p=1)


# --------------------------------------------------------------------------- adapter + scenario
def _tables():
    demand = pd.DataFrame({"village_code": ["a", "b", "c"], "children": [30, 20, 30],
                           "town_code": ["t"] * 3, "county_code": ["k"] * 3})
    cand = pd.DataFrame({"facility_id": ["X", "Y", "Z"], "cap": [40, 40, 0], "old": [False, False, True]})
    od = pd.DataFrame({"origin": [0, 1, 1, 2, 2], "dest": [0, 0, 1, 1, 2],
                       "time_s": [10.0, 20, 10, 10, 5000]})
    return demand, cand, od


def test_solve_with_config_capacitated_pmedian_and_mclp():
    demand, cand, od = _tables()
    cfg = ModelConfig(kind="pmedian", p=2, capacitated=True, default_capacity=25)
    r = solve_with_config(cfg, demand, cand, od, max_value=1800, capacity="cap")
    assert r.result.model == "cpmedian" and r.selected_ids == ["X", "Y"]
    assert list(r.result.uncoverable) == []  # c reaches Y within 1800 s; Z only at 5000 s
    assert (r.demand["travel"] <= 1800).all()
    cfg = ModelConfig(kind="mclp", p=1, capacitated=True)
    r = solve_with_config(cfg, demand, cand, od, max_value=1800, capacity="cap")
    assert r.result.model == "cmclp" and r.result.objective == pytest.approx(40.0)
    cfg = ModelConfig(kind="pmedian", p=2, capacitated=True, required_in_p=False)
    r = solve_with_config(cfg, demand, cand, od, max_value=1800, capacity="cap", required="old")
    assert r.selected_ids == ["X", "Y", "Z"]  # p new sites besides the required one
    cfg = ModelConfig(kind="pmedian", p=1, capacitated=True, required_in_p=False)
    with pytest.raises(InfeasibleError, match="too few"):
        solve_with_config(cfg, demand, cand, od, max_value=1800, capacity="cap", required="old")
    with pytest.raises(InputError):
        solve_with_config(ModelConfig(kind="mclp", p=1, capacitated=True), demand, cand, od, max_value=1800)


def test_scenario_accepts_capacitated_kinds():
    for kind, extra in (("pmedian", {"p": 3}), ("mclp", {"p": 3}), ("budget_mclp", {"budget_cny": 1e6}),
                        ("lscp", {})):
        assert ModelConfig(kind=kind, capacitated=True, **extra).capacitated
    from siteplan.scenario import _check_model

    with pytest.raises(ValueError, match="capacitated"):
        _check_model(ModelConfig(kind="pcenter", p=3, capacitated=True))
    with pytest.raises(ValueError, match="heuristic"):
        _check_model(ModelConfig(kind="pmedian", p=3, capacitated=True, heuristic=True))
