"""Benchmark siteplan's exact MCLP and LSCP against spopt (pulp + CBC, pulp + HiGHS).

Usage::

    python benchmarks/bench_models.py                       # synthetic 2,500 x 3,000 instance
    python benchmarks/bench_models.py --npz od.npz --max-value 1800 --p 150
    python benchmarks/bench_models.py --solvers siteplan,highs   # skip CBC

The ``.npz`` holds either ``cover_data, cover_indices, cover_indptr, cover_shape`` (a CSR
coverage matrix) or an OD table ``origin, dest, time_s`` (or ``value``) with ``n_origins,
n_dest``; optional ``weights``. Prints build time, solve time, objective and the ratio of
each spopt run's total time to siteplan's. Not a test: the numbers are machine dependent.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import scipy.sparse as sp

from siteplan.models import solve_lscp, solve_mclp


def synthetic(n: int = 2500, m: int = 3000, radius: float = 4000.0, seed: int = 20261129):
    """Seeded instance like Guangyuan: clustered villages in a 160 x 110 km box, candidates near them.

    Returns (dense distance matrix (n, m) in metres with inf beyond 3 radii, weights (n,), radius).
    """
    rng = np.random.default_rng(seed)
    centres = rng.uniform([0, 0], [160_000, 110_000], size=(60, 2))
    v = centres[rng.integers(0, 60, n)] + rng.normal(0, 9000, (n, 2))
    c_near = v[rng.integers(0, n, m - m // 5)] + rng.normal(0, 1500, (m - m // 5, 2))
    c_far = rng.uniform([0, 0], [160_000, 110_000], size=(m // 5, 2))
    c = np.vstack([c_near, c_far])
    D = np.sqrt(((v[:, None, :] - c[None, :, :]) ** 2).sum(-1)) * 1.3  # circuity
    w = rng.poisson(20, n).astype(float)
    return D, w, radius


def load_npz(path: str, max_value: float | None):
    z = np.load(path, allow_pickle=False)
    if "cover_indptr" in z:
        A = sp.csr_matrix((z["cover_data"], z["cover_indices"], z["cover_indptr"]), shape=tuple(z["cover_shape"]))
        D = np.where(A.toarray(), 0.0, np.inf)
        radius = 1.0
    else:
        val = z["time_s"] if "time_s" in z else z["value"]
        n, m = int(z["n_origins"]), int(z["n_dest"])
        D = np.full((n, m), np.inf)
        D[z["origin"], z["dest"]] = val
        radius = float(max_value) if max_value is not None else float(np.nanmax(val))
    w = z["weights"].astype(float) if "weights" in z else np.ones(D.shape[0])
    return D, w, radius


def run_spopt(kind: str, D, w, radius, p, solver_name, time_limit):
    import pulp
    from spopt.locate import LSCP, MCLP

    if solver_name == "cbc":
        solver = pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit)
    else:
        solver = pulp.HiGHS(msg=False, timeLimit=time_limit, threads=1)
    Dm = np.where(np.isfinite(D), D, radius * 10 + 1)
    if kind == "lscp":
        # spopt's LSCP needs every client coverable: drop the ones no site covers (as siteplan reports them)
        keep = (Dm <= radius).any(axis=1)
        Dm = Dm[keep]
    t0 = time.perf_counter()
    if kind == "mclp":
        model = MCLP.from_cost_matrix(Dm, w, service_radius=radius, p_facilities=p)
    else:
        model = LSCP.from_cost_matrix(Dm, service_radius=radius)
    build = time.perf_counter() - t0
    t1 = time.perf_counter()
    model.solve(solver, results=False)
    solve = time.perf_counter() - t1
    prob = model.problem
    status = pulp.LpStatus[prob.status]
    obj = pulp.value(prob.objective)
    return build, solve, obj, status


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--npz")
    ap.add_argument("--max-value", type=float)
    ap.add_argument("--p", type=int, default=150)
    ap.add_argument("--models", default="mclp,lscp")
    ap.add_argument("--solvers", default="siteplan,highs,cbc")
    ap.add_argument("--time-limit", type=float, default=1800)
    a = ap.parse_args()
    t0 = time.perf_counter()
    D, w, radius = load_npz(a.npz, a.max_value) if a.npz else synthetic()
    cover = sp.csr_matrix(D <= radius)
    n, m = D.shape
    print(f"instance: {n} demand x {m} candidates, radius {radius:g}, {cover.nnz} covering pairs "
          f"({cover.nnz / n:.1f} per demand), {int((cover.getnnz(axis=1) == 0).sum())} uncoverable; "
          f"made in {time.perf_counter() - t0:.1f} s", flush=True)
    print(f"{'model':6}{'solver':16}{'build_s':>9}{'solve_s':>9}{'total_s':>9}{'objective':>14}{'status':>12}{'ratio':>8}", flush=True)
    for kind in a.models.split(","):
        base = None
        for s in a.solvers.split(","):
            if s == "siteplan":
                # siteplan starts from the dense matrix too: the sparse cover is part of its build
                tb = time.perf_counter()
                A = sp.csr_matrix(D <= radius)
                conv = time.perf_counter() - tb
                r = solve_mclp(A, w, p=a.p, time_limit_s=a.time_limit) if kind == "mclp" else \
                    solve_lscp(A, time_limit_s=a.time_limit)
                build, solve, obj, status = conv + r.build_time_s, r.solve_time_s, r.objective, r.status
                base = build + solve
                name = "siteplan/HiGHS"
            else:
                build, solve, obj, status = run_spopt(kind, D, w, radius, a.p, s, a.time_limit)
                name = "spopt/" + ("CBC" if s == "cbc" else "HiGHS")
            tot = build + solve
            ratio = f"{tot / base:8.1f}" if base else f"{'':8}"
            print(f"{kind:6}{name:16}{build:9.2f}{solve:9.2f}{tot:9.2f}{obj:14.1f}{status:>12}{ratio}", flush=True)


if __name__ == "__main__":
    main()
