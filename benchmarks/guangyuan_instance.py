"""Export the Guangyuan default location-model instance for benchmarks/bench_models.py.

Runs the main job's stages up to the location model on the embedded default data and writes
the village -> candidate travel times within the model's service standard (OD table, seconds)
with the children per village as weights::

    python benchmarks/guangyuan_instance.py outputs/guangyuan_instance.npz
    python benchmarks/bench_models.py --npz outputs/guangyuan_instance.npz --max-value 1800 --p 100
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from siteplan import pipeline as P
from siteplan.candidates import generate_candidates
from siteplan.network import TravelNetwork, od_costs, snap
from siteplan.scenario import load_scenario


def main(out: str) -> None:
    sc = load_scenario()
    std = sc.standard()
    inp = P.load_inputs(sc)
    villages = inp.villages.reset_index(drop=True)
    net = TravelNetwork.from_roads(inp.roads, sc.network, crs=inp.work_crs)
    vs = snap(net, villages, sc.network.max_snap_m, mode=std.mode)
    care = P._care_sites(inp.facilities, sc)
    cs = snap(net, care, sc.network.max_snap_m, mode=std.mode)
    cov = P._coverage(villages, care, {std.mode: od_costs(net, vs, cs, std.mode)}, sc.model_copy(
        update={"standards": [std]}), vs["off_network"].to_numpy(bool))
    under = ~cov[f"{std.name}_covered"].to_numpy(bool)
    cands = generate_candidates(villages, inp.facilities, under, sc.candidates, inp.work_crs).reset_index(drop=True)
    od = od_costs(net, vs, snap(net, cands, sc.network.max_snap_m, mode=std.mode), std.mode,
                  cutoff_s=std.max_time_min * 60, off_road_speed_kph=sc.network.off_road_speed_kph)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out, origin=od.origin, dest=od.dest, time_s=od.time_s, n_origins=od.n_origins,
                        n_dest=od.n_dest, weights=villages["children"].to_numpy(float),
                        required=(cands["action"] == "existing").to_numpy())
    print(f"{out}: {od.n_origins} villages x {od.n_dest} candidates, {len(od.time_s)} pairs "
          f"within {std.max_time_min:g} min ({std.name})")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "outputs/guangyuan_instance.npz")
