"""Phasing: which proposed site is built in which year, within an optional annual budget.

Rules
-----
* Order: by ``rank`` (or ``priority``) ascending where given, otherwise by children newly
  covered per yuan of capital cost, highest first (a zero-cost site comes first); ties by
  ``site_id``. Sites with a ``build_year`` are pinned to that year.
* With ``annual_budget_cny``: the order is kept strictly. A site goes into the current year
  if it fits in what is left of that year's budget; otherwise it (and every site after it)
  waits for the next year, so a lower-priority site is never built before a higher one. A
  site dearer than a whole year's budget is flagged ``over_budget`` and left unscheduled
  (or raises, with ``oversize_site = "error"``); sites that do not fit into the build years
  are flagged ``beyond_build_years``.
* Without a budget: capital spending is spread evenly over the build years: a site goes to
  the year in which the cumulative capital cost before it falls (priority order kept).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from siteplan.errors import CostingError


def priority_order(sites: pd.DataFrame, capex: np.ndarray) -> np.ndarray:
    """Positions of ``sites`` in build order.

    Parameters
    ----------
    sites : DataFrame
        With ``site_id``, ``children_covered`` and optionally ``rank`` or ``priority``.
    capex : ndarray
        Capital cost per site, CNY (same order as ``sites``).

    Returns
    -------
    ndarray of int
        Row positions, first to build first.
    """
    n = len(sites)
    rank_col = next((c for c in ("rank", "priority") if c in sites.columns), None)
    rank = (
        pd.to_numeric(sites[rank_col], errors="coerce").to_numpy(dtype=float)
        if rank_col
        else np.full(n, np.nan)
    )
    children = sites["children_covered"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ratio = np.where(capex > 0, children / np.where(capex > 0, capex, 1.0), np.inf)
    ids = sites["site_id"].astype(str).to_numpy()
    has_rank = ~np.isnan(rank)
    # lexsort: last key is primary
    keys = (ids, -ratio, np.where(has_rank, rank, 0.0), ~has_rank)
    return np.lexsort(keys)


def phase_sites(
    sites: pd.DataFrame,
    capex: np.ndarray,
    build_years: Sequence[int],
    annual_budget_cny: float | None,
    *,
    oversize_site: str = "flag",
) -> tuple[np.ndarray, list[str], list[str]]:
    """Assign each proposed site a build year.

    Parameters
    ----------
    sites : DataFrame
        Proposed sites (``site_id``, ``children_covered``, optional ``rank``/``priority``,
        ``build_year``).
    capex : ndarray
        Capital cost per site, CNY at the scenario's price year.
    build_years : sequence of int
        The build years, in order.
    annual_budget_cny : float or None
        Capital budget per build year, CNY; None = no budget (spread evenly).
    oversize_site : {"flag", "error"}
        What to do with a site dearer than a whole year's budget.

    Returns
    -------
    years : ndarray of float
        Build year per site (NaN = unscheduled).
    flags : list of str
        Per site: "" or "over_budget" / "beyond_build_years" / "pinned_over_budget".
    warnings : list of str
        Human-readable notes about flagged sites.

    Raises
    ------
    CostingError
        No build years; a pinned ``build_year`` outside the build years; a site dearer than
        a year's budget with ``oversize_site="error"``.
    """
    years_list = sorted(int(y) for y in build_years)
    if not years_list:
        raise CostingError("costing.build_years is empty")
    n = len(sites)
    out = np.full(n, np.nan)
    flags = [""] * n
    warnings: list[str] = []
    if n == 0:
        return out, flags, warnings
    ids = sites["site_id"].astype(str).tolist()
    pinned = np.full(n, np.nan)
    if "build_year" in sites.columns:
        pinned = pd.to_numeric(sites["build_year"], errors="coerce").to_numpy(dtype=float)
    for i in np.flatnonzero(~np.isnan(pinned)):
        if int(pinned[i]) not in years_list:
            raise CostingError(
                f"site '{ids[i]}': build_year {int(pinned[i])} is not one of the build years "
                f"{years_list}",
                column="build_year",
            )
    order = [i for i in priority_order(sites, capex) if np.isnan(pinned[i])]
    spent = {y: 0.0 for y in years_list}
    for i in np.flatnonzero(~np.isnan(pinned)):
        out[i] = pinned[i]
        spent[int(pinned[i])] += capex[i]
    if annual_budget_cny is None:
        total = float(sum(capex[i] for i in order))
        share = total / len(years_list) if total > 0 else 0.0
        cum = 0.0
        for i in order:
            k = int(cum // share) if share > 0 else 0
            out[i] = years_list[min(k, len(years_list) - 1)]
            cum += capex[i]
        return out, flags, warnings
    budget = float(annual_budget_cny)
    for y in years_list:
        if spent[y] > budget + 1e-6:
            warnings.append(
                f"pinned sites in {y} cost {spent[y]:,.0f} CNY, over the annual budget {budget:,.0f}"
            )
            for i in np.flatnonzero(pinned == y):
                flags[i] = "pinned_over_budget"
    k = 0
    for i in order:
        c = float(capex[i])
        if c > budget + 1e-6:
            msg = (
                f"site '{ids[i]}' costs {c:,.0f} CNY, more than a whole year's budget "
                f"({budget:,.0f} CNY)"
            )
            if oversize_site == "error":
                raise CostingError(msg, hint="raise costing.annual_budget_cny or drop the site")
            flags[i] = "over_budget"
            warnings.append(msg + ": left unscheduled")
            continue
        while k < len(years_list) and spent[years_list[k]] + c > budget + 1e-6:
            k += 1
        if k == len(years_list):
            flags[i] = "beyond_build_years"
            continue
        out[i] = years_list[k]
        spent[years_list[k]] += c
    late = flags.count("beyond_build_years")
    if late:
        warnings.append(
            f"{late} site(s) do not fit into the build years {years_list} within the annual "
            f"budget {budget:,.0f} CNY: left unscheduled"
        )
    return out, flags, warnings
