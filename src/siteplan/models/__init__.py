"""Location models: pure cores on sparse coverage / cost matrices, solved with HiGHS.

Every function takes matrices shaped ``(n_demand, n_candidates)`` and returns a frozen
:class:`LocationResult`. :func:`from_geodataframe` runs them on tables with ids.
"""

from siteplan.models._result import LocationResult
from siteplan.models.adapter import (
    PlacedResult,
    from_geodataframe,
    od_to_matrices,
    solve_with_config,
)
from siteplan.models.capacitated import solve_capacitated_mclp, solve_capacitated_pmedian
from siteplan.models.heuristics import heuristic_mclp, heuristic_pmedian
from siteplan.models.lscp import smallest_covering_standard, solve_lscp
from siteplan.models.mclp import solve_mclp
from siteplan.models.pmedian import solve_pcenter, solve_pmedian
from siteplan.models.targets import cost_target_curve, solve_targets
from siteplan.models.ufl import solve_capacitated_lscp, solve_ufl

__all__ = [
    "LocationResult",
    "PlacedResult",
    "cost_target_curve",
    "from_geodataframe",
    "heuristic_mclp",
    "heuristic_pmedian",
    "od_to_matrices",
    "smallest_covering_standard",
    "solve_capacitated_lscp",
    "solve_capacitated_mclp",
    "solve_capacitated_pmedian",
    "solve_lscp",
    "solve_mclp",
    "solve_pcenter",
    "solve_pmedian",
    "solve_targets",
    "solve_ufl",
    "solve_with_config",
]
