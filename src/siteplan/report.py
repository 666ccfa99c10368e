"""The run's key figures in words: ``summary.md``, ``manifest.json`` and the CLI summary.

Nothing here computes a planning figure; it formats what the pipeline measured.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import math
import platform
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ATTRIBUTION = "© OpenStreetMap contributors; 天地图 Tianditu; GeoNames (CC BY 4.0)"

_PACKAGES = (
    "siteplan", "numpy", "pandas", "scipy", "geopandas", "shapely", "pyogrio", "pyproj",
    "networkx", "osmnx", "highspy", "scikit-learn", "folium", "matplotlib", "xlsxwriter",
    "openpyxl", "pydantic", "pyrosm",
)


def file_sha256(path: str | Path) -> str:
    """SHA-256 hex digest of a file's bytes (read in 1 MiB blocks)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def package_versions() -> dict[str, str]:
    """Installed versions of the packages a run depends on (``"missing"`` if absent)."""
    out = {}
    for name in _PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "missing"
    return out


def write_manifest(
    path: str | Path,
    *,
    scenario: Mapping[str, Any],
    inputs: list[Path],
    stage_seconds: Mapping[str, float],
    figures: Mapping[str, Any],
    modelled_layers: list[str],
    outputs: list[str],
) -> None:
    """Write ``manifest.json``: scenario, input hashes, versions, stage times, key figures.

    Parameters
    ----------
    path : str or Path
        File to write (UTF-8 JSON).
    scenario : mapping
        The validated scenario as plain data (``Scenario.model_dump(mode="json")``).
    inputs : list of Path
        Input files read by the run; each is hashed (SHA-256).
    stage_seconds : mapping of str to float
        Wall-clock seconds per pipeline stage.
    figures : mapping
        The run's key figures (aggregated; never child-level data).
    modelled_layers : list of str
        Layers that are modelled rather than observed.
    outputs : list of str
        Output files, relative to the run folder.
    """
    doc = {
        "siteplan_run": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "scenario": scenario,
        "inputs": [{"path": str(p), "sha256": file_sha256(p), "bytes": Path(p).stat().st_size} for p in inputs],
        "packages": package_versions(),
        "stage_seconds": {k: round(float(v), 3) for k, v in stage_seconds.items()},
        "figures": figures,
        "modelled_layers": modelled_layers,
        "attribution": figures.get("attribution", ATTRIBUTION),
        "outputs": sorted(outputs),
    }
    Path(path).write_text(json.dumps(doc, ensure_ascii=False, indent=2, default=str), encoding="utf-8")


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


def _gap_pct(x: float | None) -> str:
    """A relative MIP gap as a percentage with two significant digits (0.000315 -> "0.032%"),
    so a small non-zero gap never reads as "0.0%"."""
    if x is None or x != x:
        return "n/a"
    if x == 0:
        return "0%"
    pct = 100 * abs(x)
    decimals = max(0, 1 - math.floor(math.log10(pct)))
    return f"{pct:.{decimals}f}%"


def _minutes(s: float | None) -> str:
    if s is None or s != s or s == float("inf"):
        return "unreachable"
    return f"{s / 60:.1f} min"


def _cny(x: float | None) -> str:
    return "n/a" if x is None else f"{x:,.0f} CNY"


def format_figures(f: Mapping[str, Any]) -> str:
    """The CLI's closing summary: a short block of key figures (plain text).

    Parameters
    ----------
    f : mapping
        The figures dict built by the pipeline (see ``siteplan.pipeline.RunResult.figures``).
    """
    lines = [
        f"siteplan — {f.get('scenario', '')}  ({f.get('region', '')})",
        f"  villages in scope        {f.get('n_villages', 0):,}   children {f.get('n_children', 0):,}"
        + ("  [MODELLED counts]" if f.get("children_modelled") else ""),
        f"  standard                 {f.get('standard', '')}",
        f"  covered now              villages {_pct(f.get('villages_covered_before'))}  children {_pct(f.get('children_covered_before'))}",
        f"  covered with the plan    villages {_pct(f.get('villages_covered_after'))}  children {_pct(f.get('children_covered_after'))}",
        f"  townships with a site    {_pct(f.get('township_share_after'))} (target {_pct(f.get('township_target'))}) "
        f"{'MET' if f.get('township_target_met') else 'NOT MET'}  [a care site in the township]",
        f"  villages within standard {_pct(f.get('village_share_after'))} (target {_pct(f.get('village_target'))}) "
        f"{'MET' if f.get('village_target_met') else 'NOT MET'}  [a care site within {f.get('standard', '')}]",
        f"  model                    {f.get('model', '')}: {f.get('model_status', '')}"
        + (f", gap {_gap_pct(f.get('model_gap'))}" if f.get("model_gap") else "")
        + (f", objective {f.get('model_objective'):,.0f} {f.get('model_objective_unit', '')}".rstrip()
           if isinstance(f.get("model_objective"), (int, float)) else ""),
        *([f"  capacities               respected: no site serves more children than its capacity, all "
           f"within {f.get('standard', '')}; "
           + (f"{f['children_placed_within_capacity']:,.0f} children placed ({_pct(f.get('children_placed_share'))})"
              if isinstance(f.get("children_placed_within_capacity"), (int, float)) else "children placed: n/a")]
          if f.get("model_capacitated") else []),
        f"  new sites proposed       {f.get('n_proposed', 0)} ({f.get('n_new', 0)} new builds, {f.get('n_upgrade', 0)} upgrades)",
        f"  capex                    {_cny(f.get('capex_cny'))}",
        f"  opex per year            {_cny(f.get('opex_cny_per_year'))}",
        f"  staffing per year        {_cny(f.get('staff_cny_per_year'))}",
        (f"  police response          median {_minutes(f.get('police_median_s'))}, worst {_minutes(f.get('police_worst_s'))}"
         + (f" ({f.get('police_worst_village', '')})" if f.get("police_worst_village") else ""))
        if f.get("police_median_s") is not None else
        ("  police response          no village reachable from a police station"
         + (" (no police station in the data)" if f.get("n_police_stations") == 0 else "")),
    ]
    within = [(float(k.removeprefix("police_share_within_").removesuffix("min")), v)
              for k, v in f.items() if k.startswith("police_share_within_")]
    for mins, v in sorted(within):
        lines.append(f"  police within {mins:g} min".ljust(27) + f"villages {_pct(v)}")
    if f.get("n_unreachable"):
        lines.append(f"  unreachable villages     {f['n_unreachable']} (see villages.csv 'status')")
    if f.get("out_dir"):
        lines.append(f"  outputs                  {f['out_dir']}")
    lines.append(f"  data: {f.get('attribution', ATTRIBUTION)}; modelled layers: "
                 f"{', '.join(f.get('modelled_layers', [])) or 'none'}")
    return "\n".join(lines)


def write_summary_md(path: str | Path, f: Mapping[str, Any], tables: Mapping[str, str]) -> None:
    """Write ``summary.md``: the key figures and small tables in Markdown.

    Parameters
    ----------
    path : str or Path
        File to write (UTF-8).
    f : mapping
        Key figures (see :func:`format_figures`).
    tables : mapping of str to str
        Section title -> a Markdown table (already privacy-suppressed).
    """
    text = [f"# siteplan summary — {f.get('scenario', '')}", ""]
    text.append(f"Region: {f.get('region', '')}. Run: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.")
    text.append("")
    text.append("```")
    text.append(format_figures({k: v for k, v in f.items() if k != "out_dir"}))
    text.append("```")
    text.append("")
    for title, table in tables.items():
        text += [f"## {title}", "", table, ""]
    text.append("## Data and attribution")
    text.append("")
    text.append(f"{f.get('attribution', ATTRIBUTION)}.")
    if f.get("modelled_layers"):
        text.append(
            "MODELLED layers (no public source; estimated by siteplan's own code and replaceable "
            f"by your own files through the scenario): {', '.join(f['modelled_layers'])}."
        )
    text.append(
        "Child counts are aggregated per village; counts from 1 to 9 are shown as \"<10\" in "
        "handed-out tables and maps."
    )
    Path(path).write_text("\n".join(text) + "\n", encoding="utf-8")
