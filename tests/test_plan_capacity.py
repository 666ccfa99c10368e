"""The capacitated covering variant the main job runs for model.kind = "lscp", capacitated."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from siteplan.errors import InfeasibleError
from siteplan.models import solve_lscp
from siteplan.pipeline import _capacitated_lscp
from siteplan.scenario import ModelConfig

KW = {"time_limit_s": 30.0, "mip_gap": 0.0}


def _instance(cover, times, caps, cost):
    A = sp.csr_matrix(np.array(cover, dtype=np.int8))
    T = sp.csr_matrix(np.array(times, dtype=float))
    od = SimpleNamespace(to_csr=lambda value="time_s", offset=0.0: (T + A.multiply(offset)).tocsr())
    cands = pd.DataFrame({"capacity": caps})
    return A, od, cands, np.array(cost, dtype=float)


def test_capacity_binds_and_assignments_stay_within_the_standard():
    # c0 covers v0, v1 (40 places, 1 CNY); c1 covers v2 (40, 1 CNY); c2 covers all (100, 3 CNY)
    cover = [[1, 0, 1], [1, 0, 1], [0, 1, 1]]
    times = [[0.0, 0, 900], [600, 0, 300], [0, 0.0, 1200]]
    A, od, cands, cost = _instance(cover, times, [40, 40, 100], [1, 1, 3])
    w = np.array([30.0, 30.0, 10.0])
    required = np.zeros(3, bool)
    free = solve_lscp(A, cost=cost, required=required, **KW)
    assert free.objective == pytest.approx(2.0)  # uncapacitated: c0 + c1
    res = _capacitated_lscp(A, cands, w, cost, required, ModelConfig(default_capacity=40), KW,
                            np.array(["v0", "v1", "v2"]))
    assert res.status == "optimal"
    assert list(res.selected) == [2]  # capacitated: only c2 can take v0 + v1 (60 > 40)
    assert cost[res.selected].sum() == 3.0 and res.objective == pytest.approx(3.0)
    for i, j in enumerate(res.assignment):
        assert j >= 0 and A[i, j] == 1  # never assigned beyond the standard


def test_zero_time_pair_is_allowed():
    A, od, cands, cost = _instance([[1]], [[0.0]], [40], [1])
    res = _capacitated_lscp(A, cands, np.array([10.0]), cost, np.zeros(1, bool),
                            ModelConfig(), KW, np.array(["v0"]))
    assert res.covered.all() and res.assignment[0] == 0


def test_village_larger_than_reachable_capacity_is_named():
    A, od, cands, cost = _instance([[1, 0], [1, 1]], [[100, 0], [50, 60]], [0, 0], [1, 1])
    with pytest.raises(InfeasibleError) as e:
        _capacitated_lscp(A, cands, np.array([50.0, 5.0]), cost, np.zeros(2, bool),
                          ModelConfig(default_capacity=40), KW, np.array(["510824100201", "x"]))
    assert "510824100201 (50 children > 40 places)" in str(e.value)
    assert e.value.uncoverable == ["510824100201"]
