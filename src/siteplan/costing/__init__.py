"""Costing of a site plan: cost catalogue, capex/opex/staffing, phasing, workbook.

Public API
----------
load_catalogue, catalogue_from_dict, CostCatalogue
    The cost catalogue (``data/guangyuan/costs.toml``): unit costs with sources.
candidate_costs
    Capital cost per candidate site (shared with the location models).
cost_plan, CostResult
    Costs of a plan, phasing, present value, sensitivity.
write_workbook
    The ``costs.xlsx`` workbook.
"""

from siteplan.costing.catalogue import (
    DEFAULT_CATALOGUE,
    CostCatalogue,
    CostItem,
    catalogue_from_dict,
    load_catalogue,
)
from siteplan.costing.compute import CostResult, candidate_costs, cost_plan
from siteplan.costing.phasing import phase_sites, priority_order
from siteplan.costing.workbook import write_workbook

__all__ = [
    "DEFAULT_CATALOGUE",
    "CostCatalogue",
    "CostItem",
    "CostResult",
    "candidate_costs",
    "catalogue_from_dict",
    "cost_plan",
    "load_catalogue",
    "phase_sites",
    "priority_order",
    "write_workbook",
]
