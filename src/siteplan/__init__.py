"""siteplan: plan care and protection sites for rural left-behind children.

Road-network coverage, location models (LSCP, MCLP, p-median, p-center), police and rescue
response, costing, and maps, workbooks and GIS files for the people who decide.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__", "run", "load_scenario"]


def __getattr__(name: str):  # lazy: keep `import siteplan` cheap
    if name == "run":
        from siteplan.pipeline import run

        return run
    if name == "load_scenario":
        from siteplan.scenario import load_scenario

        return load_scenario
    raise AttributeError(name)
