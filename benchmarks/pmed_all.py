"""Solve all 40 OR-Library p-median instances (pmed1..pmed40) to proven optimality.

Usage: python benchmarks/pmed_all.py [--shared PATH] [--only 1,2,3] [--time-limit 3600] [--reduce auto]

Prints, per instance, n, p, siteplan's objective, the published optimum, the status, build
and solve seconds, the total time, and what the Lagrangian reduction did (candidates closed
and fixed open, Lagrangian bound, whether the bound alone proved the optimum). Exact:
``solve_pmedian`` with its defaults - greedy + Teitz-Bart incumbent, Lagrangian bound with
reduction tests and probing (Beasley 1985, 1993), then the reduced MILP (classic
ReVelle-Swain model for p <= 10, radius formulation of Elloumi 2010 otherwise) with HiGHS
single-threaded, unless the bound already proves the incumbent optimal. ``build_s`` includes
the heuristic and the reduction. Add ``--reduce none`` for the plain MILP.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from siteplan.models.orlib import read_pmed
from siteplan.models.pmedian import solve_pmedian


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=str(Path(__file__).resolve().parents[2] / "shared"))
    ap.add_argument("--only", default="")
    ap.add_argument("--time-limit", type=float, default=3600.0)
    ap.add_argument("--reduce", default="auto", choices=["auto", "lagrangian", "none"])
    a = ap.parse_args()
    folder = Path(a.shared) / "benchmarks" / "pmed"
    opt = {}
    for line in (folder / "pmedopt.txt").read_text().splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0].startswith("pmed"):
            opt[parts[0]] = float(parts[1])
    ids = [int(x) for x in a.only.split(",")] if a.only else list(range(1, 41))
    total = 0.0
    bad = 0
    print(f"{'inst':7}{'n':>5}{'p':>5}{'objective':>11}{'published':>11}{'status':>9}{'build_s':>9}{'solve_s':>9}{'total_s':>9}", flush=True)
    for k in ids:
        name = f"pmed{k}"
        t0 = time.perf_counter()
        D, p = read_pmed(folder / f"{name}.txt")
        r = solve_pmedian(D, np.ones(len(D)), p, time_limit_s=a.time_limit, reduce=a.reduce)
        dt = time.perf_counter() - t0
        total += dt
        ok = r.status == "optimal" and abs(r.objective - opt[name]) < 0.5
        bad += not ok
        print(f"{name:7}{len(D):5d}{p:5d}{r.objective:11.0f}{opt[name]:11.0f}{r.status:>9}"
              f"{r.build_time_s:9.2f}{r.solve_time_s:9.2f}{dt:9.2f}{'' if ok else '  MISMATCH'}"
              + (f"  closed {x['n_closed']}, fixed {x['n_fixed_open']}, bound {x['lagrangian_bound']:.1f}"
                 f"{', proven by the bound' if x['proven_by_bound'] else ''}" if (x := r.extra).get("reduce") == "lagrangian" else ""),
              flush=True)
    print(f"total {total:.1f} s for {len(ids)} instances; {len(ids) - bad} at the published optimum", flush=True)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
