"""Capital, running and staffing costs of a site plan, with phasing, present value and
low / central / high sensitivity.

Every money figure is yuan (CNY) at the scenario's ``costing.price_year`` prices (constant
prices; the discount rate is therefore a real rate). Unit costs and their sources (row ids of
``unit-cost-sources.md``) come from the :class:`~siteplan.costing.catalogue.CostCatalogue`.

Rules
-----
* Capital cost (capex): proposed sites only (``action`` "new" or "upgrade"); "existing"
  sites cost nothing to build. Computed by :func:`candidate_costs`, the same function the
  location models use for their budget and fixed costs, so the plan and its costing agree.
* Running cost (opex): every site open, existing and proposed, per site-year. An existing
  site of a type the catalogue does not cost (e.g. a kindergarten counted as a care site)
  runs at 0, with a warning; a site with an empty or unknown town/county code is reported
  under "未知 unknown".
* Staffing per year: a 儿童福利主任 allowance for every village (every row of ``villages``),
  and dedicated staff in every township: ``staff_per_large_township`` where the township has
  at least ``staff_threshold_children`` left-behind children, else
  ``staff_per_other_township``. Staffing is charged to ``costing.staff_department``.
* Phasing: see :mod:`siteplan.costing.phasing`. A site runs (opex) from its build year on
  (a full year is counted in the build year: conservative).
* Present value: the yearly totals from the first build year to the last build year plus
  ``costing.pv_running_years`` running years, discounted at ``costing.discount_rate`` to
  the first build year (factor ``(1 + r) ** -(year - first_year)``). Unscheduled sites are
  not in the present value (their capex is reported separately).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from siteplan.costing.catalogue import LEVELS, CostCatalogue
from siteplan.costing.phasing import phase_sites
from siteplan.errors import CostingError
from siteplan.scenario import FACILITY_TYPES, CostingConfig

ACTIONS = ("new", "upgrade", "existing")
#: Town / county name shown for a site whose code is empty or not in the townships table.
UNKNOWN = "未知 unknown"
_SITE_COLS = ("site_id", "name", "site_type", "action", "town_code", "county_code", "children_covered")


@dataclass(frozen=True)
class CostResult:
    """The costs of a site plan. Money in CNY at ``price_year`` prices.

    Attributes
    ----------
    sites : DataFrame
        One row per site: ``site_id``, ``name``, ``site_type``, ``type_label``, ``action``,
        ``town_code``, ``town_name``, ``county_code``, ``county_name``, ``department``,
        ``children_covered``, ``capex`` (CNY), ``opex_per_year`` (CNY per site-year),
        ``build_year`` (Int64, <NA> for existing or unscheduled sites), ``flag``.
    by_county, by_township : DataFrame
        Per county / township: site counts, ``children_covered``, ``capex``,
        ``opex_per_year``, ``staff_per_year``, ``annual_total`` (opex + staff, CNY/year).
    by_type : DataFrame
        Per care-site type: counts, ``department``, ``capex``, ``opex_per_year``.
    by_department : DataFrame
        Per lead department: ``capex``, ``opex_per_year``, ``staff_per_year``,
        ``annual_total``.
    staffing : DataFrame
        Per township: ``children``, ``villages`` (= 儿童福利主任), ``director_allowance``,
        ``township_staff`` (persons), ``township_staff_cost``, ``staff_per_year`` (CNY/year).
    phasing : DataFrame
        Per year of the horizon: ``capex``, ``opex``, ``staff``, ``total``, ``sites_built``,
        ``sites_open``, ``children_covered_cumulative``, ``discount_factor``, ``pv``, plus
        any coverage columns from ``coverage_fn``.
    sensitivity : DataFrame
        Per level (low, central, high): ``capex``, ``opex_per_year``, ``staff_per_year``,
        ``annual_total``, ``pv_total``, ``children_covered_new``, ``capex_per_child`` (CNY
        per additional child covered) and ``opex_proposed_per_child`` (running cost of the
        proposed sites, CNY per additional child per year). Same build schedule at every
        level.
    assumptions : DataFrame
        Every unit cost with unit, price year, price factor, values at ``price_year`` and
        source row ids.
    summary : DataFrame
        ``key``, ``label``, ``value``, ``unit``: the headline totals.
    settings : DataFrame
        ``key``, ``value`` (text), ``note``: the costing settings and price index used.
    warnings : tuple of str
    price_year : int
    level : str
    """

    sites: pd.DataFrame
    by_county: pd.DataFrame
    by_township: pd.DataFrame
    by_type: pd.DataFrame
    by_department: pd.DataFrame
    staffing: pd.DataFrame
    phasing: pd.DataFrame
    sensitivity: pd.DataFrame
    assumptions: pd.DataFrame
    summary: pd.DataFrame
    settings: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["key", "value", "note"]))
    warnings: tuple[str, ...] = field(default_factory=tuple)
    price_year: int = 2024
    level: str = "central"

    def total(self, key: str) -> float:
        """A headline figure of :attr:`summary` by key (e.g. ``"capex_total"``)."""
        row = self.summary.loc[self.summary["key"] == key, "value"]
        if row.empty:
            raise KeyError(f"no total '{key}' (known: {', '.join(self.summary['key'])})")
        return float(row.iloc[0])


# --------------------------------------------------------------------------- helpers
def _require(df: pd.DataFrame, cols: Sequence[str], what: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise CostingError(f"{what} table lacks column(s) {missing} (has {list(df.columns)})")


def _codes(s: pd.Series, what: str, column: str) -> pd.Series:
    if s.isna().any():
        row = int(np.flatnonzero(s.isna().to_numpy())[0]) + 2
        raise CostingError(f"{what}: empty code", row=row, column=column)
    if column != "site_id" and (pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s)):
        raise CostingError(
            f"{what}: codes must be text, not numbers (leading zeros would be lost)",
            column=column,
            hint="read the file with dtype=str",
        )
    return s.astype(str).astype(object)


def candidate_costs(
    candidates: pd.DataFrame,
    catalogue: CostCatalogue,
    level: str = "central",
    price_year: int = CostingConfig().price_year,
    *,
    running_years: int = 0,
) -> np.ndarray:
    """Capital cost of each candidate site, CNY at ``price_year`` prices.

    The location models' budget and fixed-cost variants use exactly this function, and
    :func:`cost_plan` computes its capex with it, so a plan and its costing agree.

    Parameters
    ----------
    candidates : DataFrame
        With ``site_type`` (a ``[site_types]`` key of the catalogue) and ``action``
        ("new" | "upgrade" | "existing"; existing = 0).
    catalogue : CostCatalogue
    level : {"low", "central", "high"}
    price_year : int
        Price year of the result (default: ``CostingConfig().price_year``).
    running_years : int, keyword-only
        Add this many years of running cost (CNY per site-year, undiscounted), e.g. for a
        fixed cost that covers the first years of operation; default 0 (capital only).

    Returns
    -------
    ndarray of float64
        CNY per candidate, aligned with ``candidates``. Sources: the items' row ids
        (R1-R23, see ``catalogue.py``).

    Raises
    ------
    CostingError
        Missing column, unknown action.
    CostCatalogueError
        A site type the catalogue does not cost; unknown level; year outside the price index.
    """
    _require(candidates, ("site_type", "action"), "candidates")
    types = candidates["site_type"].astype(str).to_numpy()
    actions = candidates["action"].astype(str).to_numpy()
    bad = [a for a in set(actions) if a not in ACTIONS]
    if bad:
        raise CostingError(
            f"unknown action(s) {sorted(bad)} (use new, upgrade or existing)", column="action"
        )
    out = np.zeros(len(candidates), dtype=float)
    for t, a in {(t, a) for t, a in zip(types, actions, strict=True)}:
        if a == "existing" and (not running_years or t not in catalogue.site_types):
            continue  # an existing site costs nothing to build, whatever its type
        v = catalogue.site_capex(t, a, level, price_year)
        if running_years:
            v += running_years * catalogue.site_opex(t, level, price_year)
        out[(types == t) & (actions == a)] = v
    return out


def _site_opex(sites: pd.DataFrame, catalogue: CostCatalogue, level: str, py: int) -> np.ndarray:
    types = sites["site_type"].astype(str).to_numpy()
    out = np.zeros(len(sites))
    for t in set(types):
        if t in catalogue.site_types:  # existing sites of an uncosted type: 0 (warned)
            out[types == t] = catalogue.site_opex(t, level, py)
    return out


def _prepare_sites(sites: pd.DataFrame, catalogue: CostCatalogue) -> pd.DataFrame:
    _require(sites, _SITE_COLS, "sites")
    s = sites.copy().reset_index(drop=True)
    for c in ("site_id", "town_code", "county_code"):
        s[c] = _codes(s[c], "sites", c)
    if s["site_id"].duplicated().any():
        dup = s.loc[s["site_id"].duplicated(), "site_id"].iloc[0]
        raise CostingError(f"sites: duplicate site_id '{dup}'", column="site_id")
    s["name"] = s["name"].fillna("").astype(str).astype(object)
    s["site_type"] = s["site_type"].astype(str).astype(object)
    s["action"] = s["action"].astype(str).astype(object)
    for i, (t, a) in enumerate(zip(s["site_type"], s["action"], strict=True)):
        if a not in ACTIONS:
            raise CostingError(
                f"sites: unknown action '{a}' (use new, upgrade or existing)", row=i + 2, column="action"
            )
        if t not in catalogue.site_types and a != "existing":
            raise CostingError(
                f"sites: site type '{t}' has no costs in the catalogue "
                f"(costed: {', '.join(catalogue.site_types)})",
                row=i + 2,
                column="site_type",
            )
    ch = pd.to_numeric(s["children_covered"], errors="coerce")
    if ch.isna().any() or (ch < 0).any() or (ch != np.floor(ch)).any():
        row = int(np.flatnonzero((ch.isna() | (ch < 0) | (ch != np.floor(ch))).to_numpy())[0]) + 2
        raise CostingError("sites: children_covered must be an integer >= 0", row=row, column="children_covered")
    s["children_covered"] = ch.astype("int64")
    return s


def _staffing(
    villages: pd.DataFrame, townships: pd.DataFrame, catalogue: CostCatalogue, config: CostingConfig, level: str
) -> pd.DataFrame:
    _require(villages, ("village_code", "town_code", "county_code", "children"), "villages")
    _require(townships, ("town_code", "town_name", "county_code", "county_name"), "townships")
    v = villages[["village_code", "town_code", "children"]].copy()
    v["town_code"] = _codes(v["town_code"], "villages", "town_code")
    v["children"] = pd.to_numeric(v["children"], errors="coerce")
    if v["children"].isna().any() or (v["children"] < 0).any():
        row = int(np.flatnonzero((v["children"].isna() | (v["children"] < 0)).to_numpy())[0]) + 2
        raise CostingError("villages: children must be a number >= 0", row=row, column="children")
    t = townships[["town_code", "town_name", "county_code", "county_name"]].copy().reset_index(drop=True)
    for c in ("town_code", "county_code"):
        t[c] = _codes(t[c], "townships", c)
    for c in ("town_name", "county_name"):
        t[c] = t[c].fillna("").astype(str).astype(object)
    unknown = sorted(set(v["town_code"]) - set(t["town_code"]))
    if unknown:
        raise CostingError(
            f"villages: {len(unknown)} town_code(s) not in the townships table, e.g. '{unknown[0]}'",
            column="town_code",
        )
    agg = v.groupby("town_code").agg(villages=("village_code", "size"), children=("children", "sum"))
    t = t.join(agg, on="town_code")
    t["villages"] = t["villages"].fillna(0).astype("int64")
    t["children"] = t["children"].fillna(0).astype("int64")
    py = config.price_year
    allowance = catalogue.unit_cost(catalogue.staffing.director_allowance, level, py)
    staff_cost = catalogue.unit_cost(catalogue.staffing.township_staff, level, py)
    t["director_allowance"] = t["villages"] * allowance
    t["township_staff"] = np.where(
        t["children"] >= config.staff_threshold_children,
        config.staff_per_large_township,
        config.staff_per_other_township,
    ).astype("int64")
    t["township_staff_cost"] = t["township_staff"] * staff_cost
    t["staff_per_year"] = t["director_allowance"] + t["township_staff_cost"]
    return t


def _level_totals(
    s: pd.DataFrame,
    staffing: pd.DataFrame,
    years: np.ndarray,
    catalogue: CostCatalogue,
    config: CostingConfig,
    level: str,
) -> tuple[np.ndarray, np.ndarray, pd.DataFrame, float]:
    """capex, opex per site, staffing table and PV at ``level`` (schedule ``years`` fixed)."""
    capex = candidate_costs(s, catalogue, level, config.price_year)
    opex = _site_opex(s, catalogue, level, config.price_year)
    st = _staffing_cached(staffing, catalogue, config, level)
    ph = _phasing_table(s, capex, opex, years, float(st["staff_per_year"].sum()), config, None)
    return capex, opex, st, float(ph["pv"].sum())


def _staffing_cached(staffing: pd.DataFrame, catalogue: CostCatalogue, config: CostingConfig, level: str) -> pd.DataFrame:
    t = staffing.copy()
    py = config.price_year
    t["director_allowance"] = t["villages"] * catalogue.unit_cost(catalogue.staffing.director_allowance, level, py)
    t["township_staff_cost"] = t["township_staff"] * catalogue.unit_cost(catalogue.staffing.township_staff, level, py)
    t["staff_per_year"] = t["director_allowance"] + t["township_staff_cost"]
    return t


def _horizon(config: CostingConfig) -> list[int]:
    by = sorted(config.build_years)
    if not by:
        raise CostingError("costing.build_years is empty")
    return list(range(by[0], by[-1] + config.pv_running_years + 1))


def _phasing_table(
    s: pd.DataFrame,
    capex: np.ndarray,
    opex: np.ndarray,
    years: np.ndarray,
    staff_per_year: float,
    config: CostingConfig,
    coverage_fn: Callable[[list[str], int], Mapping[str, float]] | None,
) -> pd.DataFrame:
    existing = (s["action"] == "existing").to_numpy()
    ids = s["site_id"].tolist()
    children = s["children_covered"].to_numpy(dtype=float)
    horizon = _horizon(config)
    y0 = horizon[0]
    build = set(config.build_years)
    rows = []
    for y in horizon:
        built_now = (~existing) & (years == y)
        open_ = existing | ((~existing) & (years <= y))  # NaN <= y is False: unscheduled never open
        df = (1 + config.discount_rate) ** -(y - y0)
        total = capex[built_now].sum() + opex[open_].sum() + staff_per_year
        row = {
            "year": y,
            "phase": "build" if y in build else "running",
            "capex": float(capex[built_now].sum()),
            "opex": float(opex[open_].sum()),
            "staff": staff_per_year,
            "total": float(total),
            "sites_built": int(built_now.sum()),
            "sites_open": int(open_.sum()),
            "children_covered_cumulative": int(children[open_].sum()),
            "discount_factor": df,
            "pv": float(total * df),
        }
        if coverage_fn is not None:
            extra = coverage_fn([ids[i] for i in np.flatnonzero(open_)], y)
            row.update({str(k): float(v) for k, v in dict(extra).items()})
        rows.append(row)
    return pd.DataFrame(rows)


def _group(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    g = df.groupby(keys, sort=True, dropna=False)
    out = g.agg(
        sites_new=("action", lambda a: int((a == "new").sum())),
        sites_upgrade=("action", lambda a: int((a == "upgrade").sum())),
        sites_existing=("action", lambda a: int((a == "existing").sum())),
        children_covered=("children_covered", "sum"),
        capex=("capex", "sum"),
        opex_per_year=("opex_per_year", "sum"),
    )
    return out.reset_index()


# --------------------------------------------------------------------------- main
def cost_plan(
    sites: pd.DataFrame,
    villages: pd.DataFrame,
    townships: pd.DataFrame,
    catalogue: CostCatalogue,
    config: CostingConfig,
    *,
    coverage_fn: Callable[[list[str], int], Mapping[str, float]] | None = None,
) -> CostResult:
    """Cost a site plan: capex, opex, staffing, phasing, present value and sensitivity.

    Parameters
    ----------
    sites : DataFrame
        ``site_id``, ``name``, ``site_type`` (care-site type costed in the catalogue),
        ``action`` ("new" | "upgrade" | "existing"), ``town_code``, ``county_code`` (str),
        ``children_covered`` (int >= 0, children this site newly covers); optional ``rank``
        or ``priority`` (lower = earlier) and ``build_year`` (pins the site to that year).
    villages : DataFrame
        ``village_code``, ``town_code``, ``county_code``, ``children`` (one row per village
        committee; each gets a 儿童福利主任 allowance).
    townships : DataFrame
        ``town_code``, ``town_name``, ``county_code``, ``county_name`` (every township gets
        dedicated staff).
    catalogue : CostCatalogue
        Unit costs (yuan, with price years and source row ids R1..R23 or assumptions).
    config : CostingConfig
        ``price_year``, ``scenario_level``, ``discount_rate``, ``build_years``,
        ``annual_budget_cny`` (CNY per build year, capital only), staffing rule,
        ``departments``, ``staff_department``, ``pv_running_years``, ``oversize_site``.
    coverage_fn : callable, optional
        ``coverage_fn(open_site_ids, year) -> {column: value}``, e.g. the share of townships
        and villages covered by the sites open in that year; the values become columns of
        the phasing table.

    Returns
    -------
    CostResult
        All money in CNY at ``config.price_year`` prices; capex in CNY, opex and staffing in
        CNY per year; present value in CNY discounted to the first build year.

    Raises
    ------
    CostingError
        Missing columns, numeric or empty codes, duplicate site ids, unknown action or
        site type, negative children, villages in unknown townships, a pinned build year
        outside the build years, or an oversize site with ``oversize_site="error"``.
    CostCatalogueError
        A price year outside the catalogue's price index.
    """
    level = config.scenario_level
    py = config.price_year
    s = _prepare_sites(sites, catalogue)
    staffing = _staffing(villages, townships, catalogue, config, level)
    warnings: list[str] = []

    towns = staffing.set_index("town_code")["town_name"]
    counties = staffing.drop_duplicates("county_code").set_index("county_code")["county_name"]
    s["town_name"] = s["town_code"].map(towns).fillna("").astype(object)
    s["county_name"] = s["county_code"].map(counties).fillna(UNKNOWN).astype(object)
    s.loc[~s["town_code"].isin(towns.index), "town_name"] = UNKNOWN
    uncosted = sorted(set(s.loc[~s["site_type"].isin(list(catalogue.site_types)), "site_type"]))
    if uncosted:
        warnings.append(
            f"existing sites of type(s) {uncosted} have no running costs in the catalogue: counted as 0"
        )
    unknown_towns = sorted(set(s["town_code"]) - set(towns.index))
    if unknown_towns:
        warnings.append(f"{len(unknown_towns)} site town_code(s) not in the townships table, e.g. '{unknown_towns[0]}'")
    s["type_label"] = s["site_type"].map(FACILITY_TYPES).fillna("").astype(object)
    s["department"] = s["site_type"].map(lambda t: config.departments.get(t, "")).astype(object)
    if (s["department"] == "").any():
        missing = sorted(set(s.loc[s["department"] == "", "site_type"]))
        warnings.append(f"no lead department for site type(s) {missing} (costing.departments)")

    capex = candidate_costs(s, catalogue, level, py)
    opex = _site_opex(s, catalogue, level, py)
    s["capex"] = capex
    s["opex_per_year"] = opex

    proposed = (s["action"] != "existing").to_numpy()
    years = np.full(len(s), np.nan)
    flags = [""] * len(s)
    pidx = np.flatnonzero(proposed)
    py_years, pflags, pw = phase_sites(
        s.iloc[pidx].reset_index(drop=True),
        capex[pidx],
        config.build_years,
        config.annual_budget_cny,
        oversize_site=config.oversize_site,
    )
    years[pidx] = py_years
    for j, i in enumerate(pidx):
        flags[i] = pflags[j]
    warnings.extend(pw)
    s["build_year"] = pd.array([None if np.isnan(y) else int(y) for y in years], dtype="Int64")
    s["flag"] = pd.Series(flags, dtype=object)

    staff_total = float(staffing["staff_per_year"].sum())
    phasing = _phasing_table(s, capex, opex, years, staff_total, config, coverage_fn)

    # ----- groupings
    st_town = staffing.set_index("town_code")
    by_town = _group(s, ["town_code"]).set_index("town_code")
    by_township = st_town[["town_name", "county_code", "county_name", "children", "villages", "township_staff"]].join(
        by_town, how="outer"
    )
    by_township["staff_per_year"] = st_town["staff_per_year"].reindex(by_township.index).fillna(0.0)
    for c in ("sites_new", "sites_upgrade", "sites_existing", "children_covered"):
        by_township[c] = by_township[c].fillna(0).astype("int64")
    for c in ("capex", "opex_per_year"):
        by_township[c] = by_township[c].fillna(0.0)
    for c in ("town_name", "county_code", "county_name"):
        fill = s.drop_duplicates("town_code").set_index("town_code")
        if c in fill.columns:
            by_township[c] = by_township[c].fillna(fill[c].reindex(by_township.index))
        by_township[c] = by_township[c].fillna("").astype(object)
    for c in ("children", "villages", "township_staff"):
        by_township[c] = by_township[c].fillna(0).astype("int64")
    by_township["annual_total"] = by_township["opex_per_year"] + by_township["staff_per_year"]
    by_township = by_township.reset_index().rename(columns={"index": "town_code"})
    by_township = by_township.sort_values(["county_code", "town_code"]).reset_index(drop=True)

    num = ["children", "villages", "township_staff", "sites_new", "sites_upgrade", "sites_existing",
           "children_covered", "capex", "opex_per_year", "staff_per_year", "annual_total"]
    by_county = by_township.groupby(["county_code", "county_name"], sort=True)[num].sum().reset_index()

    by_type = _group(s, ["site_type"])
    by_type.insert(1, "type_label", by_type["site_type"].map(FACILITY_TYPES).fillna("").astype(object))
    by_type.insert(2, "department", by_type["site_type"].map(lambda t: config.departments.get(t, "")).astype(object))

    dep = s.groupby("department", sort=True)[["capex", "opex_per_year"]].sum()
    dep["staff_per_year"] = 0.0
    sd = config.staff_department
    if sd not in dep.index:
        dep.loc[sd] = [0.0, 0.0, 0.0]
    dep.loc[sd, "staff_per_year"] = staff_total
    dep["annual_total"] = dep["opex_per_year"] + dep["staff_per_year"]
    by_department = dep.reset_index().rename(columns={"index": "department"})

    # ----- sensitivity (schedule fixed by the scenario level)
    sens_rows = []
    children_new = int(s.loc[proposed, "children_covered"].sum())
    for lv in LEVELS:
        c_l, o_l, st_l, pv_l = _level_totals(s, staffing, years, catalogue, config, lv)
        cap = float(c_l[proposed].sum())
        staff_l = float(st_l["staff_per_year"].sum())
        sens_rows.append(
            {
                "level": lv,
                "capex": cap,
                "opex_per_year": float(o_l.sum()),
                "staff_per_year": staff_l,
                "annual_total": float(o_l.sum()) + staff_l,
                "pv_total": pv_l,
                "children_covered_new": children_new,
                "capex_per_child": cap / children_new if children_new else float("nan"),
                "opex_proposed_per_child": float(o_l[proposed].sum()) / children_new
                if children_new
                else float("nan"),
            }
        )
    sensitivity = pd.DataFrame(sens_rows)

    assumptions = pd.DataFrame(catalogue.table(py))

    horizon = _horizon(config)
    unscheduled = proposed & np.isnan(years)
    capex_total = float(capex[proposed].sum())
    opex_total = float(opex.sum())
    pv_total = float(phasing["pv"].sum())
    summary = pd.DataFrame(
        [
            ("capex_total", "capital cost of proposed sites", capex_total, "CNY"),
            ("capex_unscheduled", "capital cost of sites left unscheduled", float(capex[unscheduled].sum()), "CNY"),
            ("opex_per_year", "running cost of all sites open", opex_total, "CNY/year"),
            ("opex_existing_per_year", "running cost of existing sites", float(opex[~proposed].sum()), "CNY/year"),
            ("opex_proposed_per_year", "running cost of proposed sites", float(opex[proposed].sum()), "CNY/year"),
            ("director_allowance_per_year", "儿童福利主任 allowances", float(staffing["director_allowance"].sum()), "CNY/year"),
            ("township_staff_per_year", "dedicated township staff", float(staffing["township_staff_cost"].sum()), "CNY/year"),
            ("staff_per_year", "staffing total", staff_total, "CNY/year"),
            ("annual_total", "running + staffing", opex_total + staff_total, "CNY/year"),
            ("pv_total", f"present value {horizon[0]}-{horizon[-1]} at {config.discount_rate:.1%}", pv_total, "CNY"),
            ("children_covered_new", "children newly covered by proposed sites", children_new, "children"),
            ("capex_per_child", "capital cost per additional child covered",
             capex_total / children_new if children_new else float("nan"), "CNY/child"),
            ("sites_new", "new builds", int((s["action"] == "new").sum()), "sites"),
            ("sites_upgrade", "upgrades", int((s["action"] == "upgrade").sum()), "sites"),
            ("sites_existing", "existing sites", int((s["action"] == "existing").sum()), "sites"),
            ("sites_unscheduled", "proposed sites left unscheduled", int(unscheduled.sum()), "sites"),
            ("villages", "villages (儿童福利主任)", int(staffing["villages"].sum()), "villages"),
            ("township_staff", "dedicated township staff", int(staffing["township_staff"].sum()), "persons"),
            ("price_year", "price year", py, "year"),
            ("discount_rate", "discount rate (real)", config.discount_rate, "share"),
        ],
        columns=["key", "label", "value", "unit"],
    )
    summary["value"] = summary["value"].astype(float)
    staffing_out = staffing[
        ["county_code", "county_name", "town_code", "town_name", "children", "villages",
         "director_allowance", "township_staff", "township_staff_cost", "staff_per_year"]
    ].sort_values(["county_code", "town_code"]).reset_index(drop=True)
    sites_out = s[
        ["site_id", "name", "site_type", "type_label", "action", "county_code", "county_name",
         "town_code", "town_name", "department", "children_covered", "capex", "opex_per_year",
         "build_year", "flag"]
    ]
    pi = catalogue.price_index
    settings = pd.DataFrame(
        [
            ("catalogue", Path(catalogue.source_file).name if catalogue.source_file else "(in memory)",
             catalogue.title),
            ("price_year", str(py), "all money at constant prices of this year"),
            ("scenario_level", level, "unit-cost level of the headline figures"),
            ("price_index", pi.name, f"source: {', '.join(pi.source)}. {pi.reason} {pi.note}".strip()),
            ("price_index_pct", ", ".join(f"{y}: {v:+.1f}%" for y, v in sorted(pi.annual_pct.items())), "annual % change"),
            ("discount_rate", f"{config.discount_rate:.3f}", "real rate; present value to the first build year"),
            ("pv_horizon", f"{horizon[0]}-{horizon[-1]}", f"build years + {config.pv_running_years} running years"),
            ("build_years", ", ".join(str(y) for y in config.build_years), ""),
            ("annual_budget_cny", "none" if config.annual_budget_cny is None else f"{config.annual_budget_cny:,.0f}",
             "capital budget per build year"),
            ("staff_threshold_children", str(config.staff_threshold_children),
             f">= threshold: {config.staff_per_large_township} staff per township, else {config.staff_per_other_township}"),
            ("staff_department", config.staff_department, "lead department of staffing costs"),
            ("departments", ", ".join(f"{k}: {v}" for k, v in config.departments.items()), "lead department per site type"),
            ("opex_rule", "from build year", "a proposed site runs (full year) from its build year"),
        ],
        columns=["key", "value", "note"],
    )
    return CostResult(
        settings=settings,
        sites=sites_out,
        by_county=by_county,
        by_township=by_township,
        by_type=by_type,
        by_department=by_department,
        staffing=staffing_out,
        phasing=phasing,
        sensitivity=sensitivity,
        assumptions=assumptions,
        summary=summary,
        warnings=tuple(warnings),
        price_year=py,
        level=level,
    )
