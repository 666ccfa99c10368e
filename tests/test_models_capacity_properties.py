"""Property tests of the capacitated p-median and capacitated MCLP on small random instances.

The brute force is independent of the MILPs: every child (integer weights) is a row and every
place at a site (integer capacities) a column of an assignment problem solved with
scipy's ``linear_sum_assignment`` for the split models, and plain enumeration of whole-village
assignments for ``single_source``.
"""

from __future__ import annotations

from itertools import combinations, product

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment

from siteplan.errors import InfeasibleError
from siteplan.models import (
    solve_capacitated_mclp,
    solve_capacitated_pmedian,
    solve_mclp,
    solve_pmedian,
)

SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
BIG = 1e6


@st.composite
def instances(draw, max_n=5, max_m=4, every_row_allowed=False):
    n = draw(st.integers(1, max_n))
    m = draw(st.integers(2, max_m))
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    D = rng.integers(0, 20, (n, m)).astype(float)  # ties on purpose
    allowed = rng.random((n, m)) < draw(st.sampled_from([0.5, 0.8, 1.0]))
    if every_row_allowed:
        allowed[np.arange(n), rng.integers(0, m, n)] = True
    D[~allowed] = np.inf
    w = rng.integers(0, 6, n).astype(float)
    cap = rng.integers(0, 11, m).astype(float)
    p = draw(st.integers(1, m))
    req = np.flatnonzero(rng.random(m) < 0.25)[:p]
    return D, w, cap, p, req


def _open_sets(m, p, req, exact=True):
    sizes = [p] if exact else range(len(req), p + 1)
    for k in sizes:
        for S in combinations(range(m), k):
            if set(req) <= set(S):
                yield list(S)


def _children_and_places(w, cap, S):
    kids = np.repeat(np.arange(len(w)), w.astype(int))
    places = np.concatenate([np.full(int(cap[j]), j, np.int64) for j in S]) if S else np.zeros(0, np.int64)
    return kids, places


def _brute_pmedian_split(D, w, cap, p, req):
    best = np.inf
    for S in _open_sets(D.shape[1], p, req):
        kids, places = _children_and_places(w, cap, S)
        if len(kids) == 0:
            return 0.0
        if len(places) < len(kids):
            continue
        C = D[np.ix_(kids, places)]
        C = np.where(np.isfinite(C), C, BIG)
        r, c = linear_sum_assignment(C)
        cost = C[r, c].sum()
        if cost < BIG:
            best = min(best, float(cost))
    return best


def _brute_pmedian_whole(D, w, cap, p, req):
    best = np.inf
    rows = np.flatnonzero(w > 0)
    for S in _open_sets(D.shape[1], p, req):
        for choice in product(S, repeat=len(rows)):
            load = np.zeros(D.shape[1])
            cost = 0.0
            for i, j in zip(rows, choice, strict=True):
                load[j] += w[i]
                cost += w[i] * D[i, j]
            if np.isfinite(cost) and np.all(load <= cap):
                best = min(best, cost)
    return 0.0 if len(rows) == 0 else best


def _brute_mclp_split(A, w, cap, p, req):
    best = 0.0
    for S in _open_sets(A.shape[1], p, req, exact=False):
        kids, places = _children_and_places(w, cap, S)
        if len(kids) == 0 or len(places) == 0:
            continue
        C = -A[np.ix_(kids, places)].astype(float)
        r, c = linear_sum_assignment(C)
        best = max(best, float(-C[r, c].sum()))
    return best


def _check_pmedian(r, D, w, cap, p, req):
    X = r.extra["x"].toarray()
    assert np.all(X[~np.isfinite(D)] == 0)  # no assignment beyond the allowed pairs
    assert np.all(r.extra["load"] <= cap + 1e-6)  # assigned <= capacity
    assert np.all((X * w[:, None]).sum(axis=0) <= cap + 1e-6)
    assert np.allclose(X.sum(axis=1)[w > 0], 1.0)  # every child placed
    assert r.n_selected == p and set(req) <= set(r.selected)
    assert np.all(X[:, np.setdiff1d(np.arange(D.shape[1]), r.selected)] == 0)


@SETTINGS
@given(instances(every_row_allowed=True), st.booleans())
def test_ample_capacity_equals_uncapacitated_pmedian(inst, single_source):
    D, w, _, p, req = inst
    cap = np.full(D.shape[1], w.sum())
    try:
        u = solve_pmedian(D, w, p, req)
    except InfeasibleError:  # p sites cannot reach everyone: capacities change nothing
        with pytest.raises(InfeasibleError):
            solve_capacitated_pmedian(D, w, p, cap, req, single_source=single_source)
        return
    r = solve_capacitated_pmedian(D, w, p, cap, req, single_source=single_source)
    assert r.status == "optimal"
    assert r.objective == pytest.approx(u.objective, abs=1e-6)
    _check_pmedian(r, D, w, cap, p, req)


@SETTINGS
@given(instances())
def test_capacitated_pmedian_matches_brute_force(inst):
    D, w, cap, p, req = inst
    for single_source, brute in ((False, _brute_pmedian_split), (True, _brute_pmedian_whole)):
        expect = brute(D, w, cap, p, req)
        try:
            r = solve_capacitated_pmedian(D, w, p, cap, req, single_source=single_source)
        except InfeasibleError:
            assert not np.isfinite(expect)
            continue
        assert np.isfinite(expect)
        assert r.objective == pytest.approx(expect, abs=1e-6)
        _check_pmedian(r, D, w, cap, p, req)


@SETTINGS
@given(instances())
def test_single_source_never_below_split(inst):
    D, w, cap, p, req = inst
    try:
        whole = solve_capacitated_pmedian(D, w, p, cap, req, single_source=True)
    except InfeasibleError:
        return
    split = solve_capacitated_pmedian(D, w, p, cap, req)
    assert whole.objective >= split.objective - 1e-6


@SETTINGS
@given(instances())
def test_capacitated_mclp_bounded_monotone_and_brute_force(inst):
    D, w, cap, _, req = inst
    A = np.isfinite(D)
    m = A.shape[1]
    prev = -1.0
    for p in range(max(1, len(req)), m + 1):
        r = solve_capacitated_mclp(A, w, cap, p=p, required=req)
        u = solve_mclp(A, w, p=p, required=req)
        assert r.status == "optimal"
        assert r.objective <= u.objective + 1e-6  # capacities only take coverage away
        assert r.objective >= prev - 1e-6  # non-decreasing in p
        prev = r.objective
        assert r.objective == pytest.approx(_brute_mclp_split(A, w, cap, p, req), abs=1e-6)
        X = r.extra["x"].toarray()
        assert np.all(X[~A] == 0) and np.all(r.extra["load"] <= cap + 1e-6)
        assert np.all(X.sum(axis=1) <= 1 + 1e-6)
        assert r.n_selected <= p and set(req) <= set(r.selected)
        whole = solve_capacitated_mclp(A, w, cap, p=p, required=req, single_source=True)
        assert whole.objective <= r.objective + 1e-6
        assert set(np.round(whole.extra["x"].data, 6)) <= {1.0}


@SETTINGS
@given(instances())
def test_capacitated_mclp_ample_capacity_equals_mclp(inst):
    D, w, _, p, req = inst
    A = np.isfinite(D)
    cap = np.full(A.shape[1], w.sum())
    r = solve_capacitated_mclp(A, w, cap, p=max(p, len(req)), required=req)
    u = solve_mclp(A, w, p=max(p, len(req)), required=req)
    assert r.objective == pytest.approx(u.objective, abs=1e-6)
