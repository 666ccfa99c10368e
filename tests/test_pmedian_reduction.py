"""Lagrangian bound and reduction tests of the p-median (siteplan.models._lagrangian)."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from siteplan.errors import InputError
from siteplan.models import solve_pmedian
from siteplan.models._lagrangian import lagrangian_reduce

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def instances(draw, max_n=9, max_m=7):
    """Small p-median instances: integer or fractional costs with ties, zero weights, pairs
    cut off (inf), required sites."""
    n = draw(st.integers(1, max_n))
    m = draw(st.integers(2, max_m))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    D = rng.integers(0, draw(st.sampled_from([4, 30])), (n, m)).astype(float)  # ties on purpose
    if draw(st.booleans()):
        D = D + rng.choice([0.0, 0.25, 0.5], (n, m))
    cut = draw(st.sampled_from([0.0, 0.0, 0.3, 0.5]))
    D[rng.random((n, m)) < cut] = np.inf
    w = rng.integers(0, 6, n).astype(float)
    if draw(st.booleans()):
        w = w * draw(st.sampled_from([1.0, 0.5, 1.3]))
    p = draw(st.integers(1, m))
    n_req = draw(st.integers(0, min(p, 2)))
    req = np.zeros(m, bool)
    req[rng.choice(m, n_req, replace=False)] = True
    return D, w, p, req


def _value(D, w, S):
    """p-median value of the open set S (inf when a weighted demand has no allowed site)."""
    if len(S) == 0:
        return np.inf if (w > 0).any() else 0.0
    best = D[:, list(S)].min(axis=1)
    k = w > 0
    return float((w[k] * best[k]).sum()) if np.all(np.isfinite(best[k])) else np.inf


def _brute(D, w, p, req, closed=None, fixed=None):
    m = D.shape[1]
    closed = np.zeros(m, bool) if closed is None else closed
    fixed = req if fixed is None else fixed
    vals = [
        _value(D, w, S) for S in combinations(range(m), p)
        if fixed[list(S)].sum() == fixed.sum() and not closed[list(S)].any()
    ]
    return min(vals, default=np.inf)


def _pairs(D, w):
    """Weighted allowed pairs sorted by (row, cost, candidate) as solve_pmedian passes them."""
    i, j = np.nonzero(np.isfinite(D) & (w[:, None] > 0))
    d = D[i, j]
    o = np.lexsort((j, d, i))
    i, j, d = i[o], j[o], d[o]
    dem, rows = np.unique(i, return_inverse=True)
    return dem, rows, j, w[i] * d, d


def _feasible(D, w, p, req):
    return np.isfinite(_brute(D, w, p, req))


@SETTINGS
@given(instances())
def test_reduced_solve_equals_unreduced_and_brute_force(inst):
    D, w, p, req = inst
    if not _feasible(D, w, p, req) or not (w > 0).any():
        return
    best = _brute(D, w, p, req)
    for f in ("classic", "radius"):
        r = solve_pmedian(D, w, p, required=req, reduce="lagrangian", formulation=f)
        r0 = solve_pmedian(D, w, p, required=req, reduce="none", formulation=f)
        assert r.status == r0.status == "optimal"
        assert r.objective == pytest.approx(best, abs=1e-6)
        assert r0.objective == pytest.approx(best, abs=1e-6)
        assert r.n_selected == p and req[r.selected].sum() == req.sum()
        assert _value(D, w, r.selected) == pytest.approx(r.objective, abs=1e-6)
        assert r.bound <= best + 1e-6 and r.gap <= 1e-9
        assert r.extra["reduce"] == "lagrangian"
        assert r.extra["lagrangian_bound"] <= best + 1e-6


@SETTINGS
@given(instances(), st.integers(0, 2**31 - 1))
def test_reduction_keeps_an_optimal_solution(inst, seed):
    """Whatever the incumbent (optimal or not), the reduced problem - candidates closed or
    fixed open, pairs beyond a fixed site dropped - still has the optimum, and the Lagrangian
    bound is a lower bound, at most the LP bound of the reduced problem (it may exceed the
    original LP bound once candidates are closed or fixed: that is what the reduction buys)."""
    D, w, p, req = inst
    m = D.shape[1]
    if not _feasible(D, w, p, req) or not (w > 0).any():
        return
    best = _brute(D, w, p, req)
    feas = [S for S in combinations(range(m), p)
            if req[list(S)].sum() == req.sum() and np.isfinite(_value(D, w, S))]
    rng = np.random.default_rng(seed)
    opt_sets = [S for S in feas if _value(D, w, S) <= best + 1e-9]
    dem, rows, jj, cc, dd = _pairs(D, w)
    integral = bool(np.all(cc == np.round(cc)))
    for S in (opt_sets[0], feas[rng.integers(len(feas))], None):
        # None: no incumbent given (matrix too large for Teitz-Bart); the Lagrangian solutions
        # supply one, or nothing is reduced
        inc = None
        if S is not None:
            inc = np.zeros(m, bool)
            inc[list(S)] = True
        red = lagrangian_reduce(rows, jj, cc, m, p, req, inc, integral=integral)
        assert red.bound <= best + 1e-6
        if S is not None:
            assert red.ub <= _value(D, w, S) + 1e-9
        elif not np.isfinite(red.ub):
            assert not red.closed.any() and not (red.fixed & ~req).any() and red.keep.all()
            continue
        assert red.ub == pytest.approx(_value(D, w, np.flatnonzero(red.incumbent)), abs=1e-6)
        assert red.fixed[req].all() and not (red.closed & red.fixed).any()
        assert red.incumbent.sum() == p and red.fixed.sum() <= p
        # the incumbent stays in the reduced problem
        assert not (red.closed & red.incumbent).any() and red.incumbent[red.fixed].all()
        if red.proven:
            assert red.ub == pytest.approx(best, abs=1e-6)
        # optimum of the reduced problem (closed / fixed candidates, pairs dropped by the pair
        # test or beyond a fixed site), costs over the kept pairs only
        keep = red.keep
        Dk = np.full_like(D, np.inf)
        Dk[dem[rows[keep]], jj[keep]] = dd[keep]
        Dk[w == 0] = D[w == 0]
        assert _brute(Dk, w, p, req, red.closed, red.fixed) == pytest.approx(best, abs=1e-6)
        # weak duality on the reduced problem: the bound is at most its LP bound
        Dk[:, red.closed] = np.inf
        lp_red = solve_pmedian(Dk, w, p, required=red.fixed, relax=True, formulation="classic").objective
        assert red.bound <= lp_red + 1e-6 * max(1.0, abs(lp_red))


@SETTINGS
@given(instances())
def test_required_sites_stay_open_and_sparse_matrix(inst):
    D, w, p, req = inst
    if not _feasible(D, w, p, req) or not (w > 0).any():
        return
    C = sp.csr_matrix(np.where(np.isfinite(D), D + 1.0, 0.0))  # +1 keeps zero-cost pairs explicit
    C.data -= 1.0
    r = solve_pmedian(C, w, p, required=np.flatnonzero(req), reduce="lagrangian")
    assert r.status == "optimal" and req[r.selected].sum() == req.sum()
    assert r.objective == pytest.approx(_brute(D, w, p, req), abs=1e-6)


def test_bound_proves_incumbent_without_milp():
    # pmed1-like small instance where the Lagrangian bound closes the gap: no MILP is built
    rng = np.random.default_rng(3)
    xy = rng.random((60, 2)) * 100
    D = np.round(np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)))
    r = solve_pmedian(D, np.ones(60), 3, reduce="lagrangian")
    r0 = solve_pmedian(D, np.ones(60), 3, reduce="none")
    assert r.objective == r0.objective and r.status == "optimal"
    if r.extra["proven_by_bound"]:
        assert r.n_variables == 0 and r.bound == r.objective


def test_reduce_option_checked_and_recorded():
    D = np.array([[0.0, 3, 5], [3, 0, 4], [5, 4, 0], [2, 2, 2]])
    with pytest.raises(InputError):
        solve_pmedian(D, np.ones(4), 1, reduce="yes")
    r = solve_pmedian(D, np.ones(4), 1, reduce="lagrangian")
    assert r.objective == 9.0 and list(r.selected) == [1]
    for key in ("lagrangian_bound", "n_closed", "n_fixed_open", "lagrangian_iterations", "reduction_time_s"):
        assert key in r.extra
    assert solve_pmedian(D, np.ones(4), 1, reduce="none").extra["reduce"] == "none"


def test_reduction_deterministic():
    rng = np.random.default_rng(7)
    D = rng.integers(1, 50, (80, 40)).astype(float)
    w = rng.integers(0, 4, 80).astype(float)
    a = solve_pmedian(D, w, 4, reduce="lagrangian")
    b = solve_pmedian(D, w, 4, reduce="lagrangian")
    assert a.objective == b.objective and np.array_equal(a.selected, b.selected)
    assert a.extra["lagrangian_bound"] == b.extra["lagrangian_bound"]
    assert a.extra["n_closed"] == b.extra["n_closed"]


def test_pmed_reduced_with_time_limit_stays_honest():
    """pmed6 (200 vertices, p = 5): whether or not HiGHS finishes in 3 s, the status, bound
    and gap are consistent and the bound is at least the Lagrangian one."""
    from pathlib import Path

    from siteplan.models.orlib import read_pmed

    folder = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "pmed"
    if not (folder / "pmed6.txt").exists():
        pytest.skip(f"shared benchmarks not found at {folder}")
    D, p = read_pmed(folder / "pmed6.txt")
    r = solve_pmedian(D, np.ones(len(D)), p, time_limit_s=3.0)
    opt = 7824.0  # pmedopt.txt
    assert r.extra["reduce"] == "lagrangian" and r.extra["n_closed"] > 100
    assert r.extra["lagrangian_bound"] <= opt
    assert r.bound <= opt <= r.objective and r.n_selected == p
    if r.status == "optimal":
        assert r.objective == opt and r.gap == 0
    else:
        assert r.status == "feasible" and r.bound >= r.extra["lagrangian_bound"] - 1e-9 and r.gap > 0
