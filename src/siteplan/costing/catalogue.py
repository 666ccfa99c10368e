"""The cost catalogue: unit costs (low / central / high, yuan), their sources and a price index.

The catalogue is a TOML file (default ``data/guangyuan/costs.toml``) read with :mod:`tomllib`
and validated with pydantic. Every unit cost names its source: a row id of the public unit-cost
table ``shared/data/costs/unit-cost-sources.md`` (``"R4"``), several row ids, or
``"assumption"`` together with a ``reason``. A finance officer replaces any figure with their
own by editing the file; the workbook's assumptions sheet lists every figure used.

File layout
-----------
``[price_index]``
    ``annual_pct`` (year -> % change of the consumer price index over the previous year),
    ``source``/``reason``/``note``. Prices are brought from an item's ``price_year`` to the
    scenario's ``costing.price_year`` by chaining the yearly factors ``1 + pct/100``.
``[items.<key>]``
    ``name``, ``unit`` (``per_site``, ``per_m2``, ``per_site_year``, ``per_person_year``),
    ``low``, ``central``, ``high`` (yuan, >= 0, low <= central <= high), ``price_year``,
    ``source`` (str or list), ``reason`` (required for an assumption), ``note``.
``[site_types.<facility type>]``
    ``area_m2`` (floor area of a new build), ``new`` and ``upgrade`` (lists of capital items,
    ``per_site`` or ``per_m2``; a ``per_m2`` item is multiplied by ``area_m2``), ``running``
    (list of ``per_site_year`` items). An ``existing`` site has no capital cost.
``[staffing]``
    ``director_allowance`` (item paid once per village per year: 儿童福利主任) and
    ``township_staff`` (item per dedicated township staff member per year).

Defaults (data/guangyuan/costs.toml)
------------------------------------
No figure is specific to Guangyuan's budget; all are public figures from neighbouring or
comparable places (see the row ids), or stated assumptions.

* Price index: China national CPI, annual % change, as published in the NBS statistical
  communiqués -- entered from memory and **not verified against the originals in this
  repository**, so it is marked ``assumption``; 2025-2026 are placeholders (0 %). CPI is a
  consumer index, not a construction index; the error is small next to the spread of the
  unit costs.
* ``childrens_home_fitout`` (fit out a 儿童之家 in an existing village-committee room):
  low 18,000 (R5, Yilong county, Sichuan 2020, an upper bound of the average), high 30,000
  (R4, Yang county, Shaanxi 2019), central 24,000 = their midpoint; R3 (Gansu 2009, 20,000)
  agrees. Price year 2020.
* ``village_building`` (new building, per m²): central 1,333 = R1's 100,000 per 60 m² home
  less an R3-size fit-out (20,000), low 1,000 (assumption: simple rural masonry), high 3,000
  (R7/R8: 200,000-220,000 homes, less fit-out, over 60 m²). Price year 2014. A new
  儿童之家 = 60 m² (R1) x this + the fit-out: about 120,000 central in 2024 yuan, between
  R1 and R7/R8.
* School-based 留守儿童之家 (the city plan's equipment), itemised; no public unit prices
  of phones or computers were found, so each item is an assumption, checked in total
  against R2 (20,000 room subsidy with bookcase, sports kit, books; 2010-12) and R6 (74,000
  centre with computers, books, chess; 2017): the low sum (19,500) is close to R2 and the
  high sum (68,000) close to R6. Items: room fit-out (furniture, decoration), family phone
  (亲情电话), computers/video chat (亲情视频, central 3 PCs), books, sports gear.
* ``protection_station_fitout`` (未保站 in a township government room): low 120,000 (R4:
  county centre equipment), central 200,000 (R12: 儿童之家 + 未保站 together), high
  430,000 (R11: Neijiang demonstration stations, Sichuan 2023). Floor area 30 m² (R13).
* ``day_care_fitout``: no public source; assumption 50,000 / 100,000 / 200,000 (bracketed
  between a village home and a 未保站; R7 关爱之家 200,000 as the high). Area 120 m²
  (assumption).
* Running costs per site-year (utilities, activities, materials; staff are costed
  separately): village home low 5,000 / central 10,000 (assumptions: rural homes run on
  little money; R10 and R22 are school/urban comparators) / high 17,000 (R22); school home
  10,000 (assumption) / 15,000 (R10) / 17,000 (R22); 未保站 17,000 (R22) / 40,000
  (assumption: R21 without a full-time worker) / 65,000 (R21); day-care 32,700 (R23, one
  paid carer per village-year) / 65,000 (R21) / 146,000 (R14, a staffed social-work station).
* ``children_director_allowance`` (儿童福利主任, per village per year): low 600 (R4, a floor
  "≥ 600"), high 2,136 (R17: 178/month x 12, urban Xi'an), central 1,200 (assumption:
  100/month, between the two). Price year 2021.
* ``township_staff`` (dedicated staff, per person-year): low 49,600 = R14 62,000 national
  social-work worker-year x R20 Guangyuan/Sichuan wage ratio 0.80; central 90,900 = R19
  Sichuan health & social-work average wage 113,655 x 0.80; high 114,027 = R19 Sichuan public
  administration average, unadjusted (pay at the provincial average). Price year 2021. The
  wage ratio R20 dates from 2000: a stated adjustment, replace it with a current figure.
"""

from __future__ import annotations

import difflib
import math
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from siteplan.errors import CostCatalogueError
from siteplan.scenario import FACILITY_TYPES, read_toml

#: The default catalogue shipped with the default data.
DEFAULT_CATALOGUE = Path(__file__).resolve().parents[3] / "data" / "guangyuan" / "costs.toml"

LEVELS = ("low", "central", "high")
CAPITAL_UNITS = ("per_site", "per_m2")
_SOURCE_RE = re.compile(r"^(R\d{1,3}|assumption)$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _sources(v: Any) -> tuple[str, ...]:
    """The ``source`` field of an item: a row id string or a list (or tuple) of them."""
    if not isinstance(v, str | list | tuple):
        raise ValueError("source must be a row id string or a list of them")
    items = [v] if isinstance(v, str) else list(v)
    items = [s.strip() for s in items if s.strip()]
    if not items:
        raise ValueError("source is empty: give a row id like 'R4' or 'assumption' with a reason")
    for s in items:
        if not _SOURCE_RE.match(s):
            raise ValueError(
                f"source '{s}' is not a row id like 'R4' (unit-cost-sources.md) or 'assumption'"
            )
    return tuple(items)


def _need_reason(source: tuple[str, ...], reason: str) -> None:
    if "assumption" in source and not reason.strip():
        raise ValueError("source 'assumption' needs a 'reason'")


class CostItem(_Strict):
    """One unit cost: low / central / high in yuan at ``price_year`` prices."""

    name: str = ""
    unit: Literal["per_site", "per_m2", "per_site_year", "per_person_year"]
    low: float = Field(ge=0)
    central: float = Field(ge=0)
    high: float = Field(ge=0)
    price_year: int = Field(ge=1990, le=2100)
    source: tuple[str, ...]
    reason: str = ""
    note: str = ""

    @field_validator("source", mode="before")
    @classmethod
    def _src(cls, v: Any) -> tuple[str, ...]:
        return _sources(v)

    @model_validator(mode="after")
    def _order(self) -> CostItem:
        if not (self.low <= self.central <= self.high):
            raise ValueError(
                f"need low <= central <= high, got {self.low}, {self.central}, {self.high}"
            )
        _need_reason(self.source, self.reason)
        return self

    def value(self, level: str) -> float:
        """The unit cost at ``level`` ("low", "central" or "high"), yuan at ``price_year``."""
        return float(getattr(self, level))


class PriceIndex(_Strict):
    """Yearly price changes (% over the previous year) used to move prices between years."""

    name: str = "CPI"
    annual_pct: dict[int, float]
    source: tuple[str, ...]
    reason: str = ""
    note: str = ""

    @field_validator("source", mode="before")
    @classmethod
    def _src(cls, v: Any) -> tuple[str, ...]:
        return _sources(v)

    @model_validator(mode="after")
    def _check(self) -> PriceIndex:
        years = sorted(self.annual_pct)
        if not years:
            raise ValueError("annual_pct is empty")
        if years != list(range(years[0], years[-1] + 1)):
            raise ValueError(f"annual_pct must cover consecutive years, got {years}")
        for y, p in self.annual_pct.items():
            if not (-50 < p < 100):
                raise ValueError(f"annual_pct {y} = {p} % is not plausible")
        _need_reason(self.source, self.reason)
        return self

    def factor(self, from_year: int, to_year: int) -> float:
        """Multiplier bringing a price of ``from_year`` to ``to_year`` prices.

        The index of year y is the product of ``1 + pct/100`` for the years after the first;
        a year before the first table year or after the last cannot be reached.

        Raises
        ------
        CostCatalogueError
            A year outside the index table.
        """
        first = min(self.annual_pct) - 1  # the year before the first % change is the base
        last = max(self.annual_pct)
        for y in (from_year, to_year):
            if not (first <= y <= last):
                raise CostCatalogueError(
                    f"price year {y} is outside the price index ({first}..{last})",
                    hint="extend [price_index.annual_pct]",
                )
        lo, hi = sorted((from_year, to_year))
        f = math.prod(1 + self.annual_pct[y] / 100 for y in range(lo + 1, hi + 1))
        return f if to_year >= from_year else 1 / f


class SiteTypeCosts(_Strict):
    """Which catalogue items make up the capital and running cost of one care-site type."""

    area_m2: float = Field(0.0, ge=0)
    new: list[str] = Field(default_factory=list)
    upgrade: list[str] = Field(default_factory=list)
    running: list[str] = Field(default_factory=list)


class StaffingItems(_Strict):
    """Catalogue items used for staffing costs."""

    director_allowance: str
    township_staff: str


class CostCatalogue(_Strict):
    """A validated cost catalogue. Build one with :func:`load_catalogue`."""

    title: str = ""
    currency: Literal["CNY"] = "CNY"
    price_index: PriceIndex
    items: dict[str, CostItem]
    site_types: dict[str, SiteTypeCosts]
    staffing: StaffingItems
    source_file: str | None = Field(default=None, exclude=True)

    @model_validator(mode="after")
    def _refs(self) -> CostCatalogue:
        problems = []
        for st, sc in self.site_types.items():
            if st not in FACILITY_TYPES:
                close = difflib.get_close_matches(st, list(FACILITY_TYPES), n=1)
                problems.append(
                    f"site_types.{st}: unknown facility type"
                    + (f"; did you mean '{close[0]}'?" if close else "")
                )
            for part in ("new", "upgrade", "running"):
                for key in getattr(sc, part):
                    item = self.items.get(key)
                    if item is None:
                        close = difflib.get_close_matches(key, list(self.items), n=1)
                        problems.append(
                            f"site_types.{st}.{part}: no item '{key}'"
                            + (f"; did you mean '{close[0]}'?" if close else "")
                        )
                        continue
                    want = CAPITAL_UNITS if part != "running" else ("per_site_year",)
                    if item.unit not in want:
                        problems.append(
                            f"site_types.{st}.{part}: item '{key}' has unit '{item.unit}', "
                            f"expected {' or '.join(want)}"
                        )
                    if item.unit == "per_m2" and sc.area_m2 <= 0:
                        problems.append(f"site_types.{st}: per_m2 item '{key}' needs area_m2 > 0")
        for part in ("director_allowance", "township_staff"):
            key = getattr(self.staffing, part)
            item = self.items.get(key)
            if item is None:
                close = difflib.get_close_matches(key, list(self.items), n=1)
                problems.append(
                    f"staffing.{part}: no item '{key}'"
                    + (f"; did you mean '{close[0]}'?" if close else "")
                )
            elif item.unit != "per_person_year":
                problems.append(f"staffing.{part}: item '{key}' must have unit 'per_person_year'")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    # ------------------------------------------------------------------ pricing
    def unit_cost(self, key: str, level: str = "central", price_year: int | None = None) -> float:
        """Unit cost of item ``key`` in yuan at ``price_year`` prices.

        Parameters
        ----------
        key : str
            Item key (``[items.<key>]``).
        level : {"low", "central", "high"}
        price_year : int, optional
            Target price year; default: the item's own price year (no indexation).

        Returns
        -------
        float
            Yuan per the item's unit (per site, per m², per site-year or per person-year).

        Raises
        ------
        CostCatalogueError
            Unknown item or level, or a year outside the price index.
        """
        if level not in LEVELS:
            raise CostCatalogueError(f"unknown cost level '{level}' (use low, central or high)")
        item = self.items.get(key)
        if item is None:
            close = difflib.get_close_matches(key, list(self.items), n=1)
            raise CostCatalogueError(
                f"no cost item '{key}'" + (f"; did you mean '{close[0]}'?" if close else ""),
                file=self.source_file,
            )
        f = 1.0 if price_year is None else self.price_factor(item.price_year, price_year)
        return item.value(level) * f

    def price_factor(self, from_year: int, to_year: int) -> float:
        """Price-index multiplier from ``from_year`` to ``to_year`` prices (see PriceIndex)."""
        try:
            return self.price_index.factor(from_year, to_year)
        except CostCatalogueError as e:
            raise CostCatalogueError(e.message, file=self.source_file, hint=e.hint) from None

    def _site_type(self, site_type: str) -> SiteTypeCosts:
        sc = self.site_types.get(site_type)
        if sc is None:
            close = difflib.get_close_matches(site_type, list(self.site_types), n=1)
            raise CostCatalogueError(
                f"no costs for site type '{site_type}'"
                + (f"; did you mean '{close[0]}'?" if close else "")
                + f" (costed types: {', '.join(self.site_types)})",
                file=self.source_file,
            )
        return sc

    def capex_components(self, site_type: str, action: str) -> list[tuple[str, float]]:
        """Capital items of one site and their quantities (1 site, or ``area_m2`` m²).

        Parameters
        ----------
        site_type : str
            Care-site type key (``[site_types.<key>]``).
        action : {"new", "upgrade", "existing"}

        Returns
        -------
        list of (item key, quantity)
            Empty for ``existing``.

        Raises
        ------
        CostCatalogueError
            Unknown site type or action.
        """
        sc = self._site_type(site_type)
        if action == "existing":
            return []
        if action not in ("new", "upgrade"):
            raise CostCatalogueError(f"unknown action '{action}' (use new, upgrade or existing)")
        return [
            (k, sc.area_m2 if self.items[k].unit == "per_m2" else 1.0) for k in getattr(sc, action)
        ]

    def site_capex(
        self, site_type: str, action: str, level: str = "central", price_year: int | None = None
    ) -> float:
        """Capital cost of one site, yuan at ``price_year`` prices (0 for ``existing``).

        Sum over the site type's ``new`` or ``upgrade`` items of unit cost x quantity x price
        factor. Sources: the items' row ids (see the module docstring).

        Raises
        ------
        CostCatalogueError
            Unknown site type, action or level; year outside the price index.
        """
        return sum(
            q * self.unit_cost(k, level, price_year)
            for k, q in self.capex_components(site_type, action)
        )

    def site_opex(self, site_type: str, level: str = "central", price_year: int | None = None) -> float:
        """Running cost of one open site, yuan per site-year at ``price_year`` prices.

        Raises
        ------
        CostCatalogueError
            Unknown site type or level; year outside the price index.
        """
        sc = self._site_type(site_type)
        return sum(self.unit_cost(k, level, price_year) for k in sc.running)

    def table(self, price_year: int) -> list[dict[str, Any]]:
        """Every item as a row (for the assumptions sheet): unit, low/central/high in the
        item's own price year, the price factor and the values at ``price_year``."""
        rows = []
        for key, it in self.items.items():
            f = self.price_factor(it.price_year, price_year)
            rows.append(
                {
                    "item": key,
                    "name": it.name,
                    "unit": it.unit,
                    "low": it.low,
                    "central": it.central,
                    "high": it.high,
                    "price_year": it.price_year,
                    "price_factor": f,
                    f"low_{price_year}": it.low * f,
                    f"central_{price_year}": it.central * f,
                    f"high_{price_year}": it.high * f,
                    "source": ", ".join(it.source),
                    "reason": it.reason,
                    "note": it.note,
                }
            )
        return rows


# ---------------------------------------------------------------------- loading
_MODELS: dict[str, type[BaseModel]] = {
    "items": CostItem,
    "site_types": SiteTypeCosts,
}


def _valid_keys(loc: tuple[Any, ...]) -> list[str]:
    """Valid field names at the location of an unknown key."""
    if len(loc) == 2 and loc[0] in ("price_index", "staffing"):
        model = PriceIndex if loc[0] == "price_index" else StaffingItems
    elif len(loc) == 3 and loc[0] in _MODELS:
        model = _MODELS[loc[0]]
    elif len(loc) == 1:
        model = CostCatalogue
    else:
        return []
    return [k for k, f in model.model_fields.items() if not f.exclude]


def _format(err: ValidationError, file: str | None) -> CostCatalogueError:
    problems = []
    for e in err.errors():
        loc = tuple(e["loc"])
        where = (
            f"item '{loc[1]}'"
            if len(loc) >= 2 and loc[0] == "items"
            else ".".join(str(p) for p in loc[:-1] or loc)
        )
        field = str(loc[-1]) if loc else ""
        if e["type"] == "extra_forbidden":
            valid = _valid_keys(loc)
            close = difflib.get_close_matches(field, valid, n=1, cutoff=0.5)
            hint = f"; did you mean '{close[0]}'?" if close else f" (valid keys: {', '.join(valid)})"
            problems.append(f"{where}: unknown key '{field}'{hint}" if len(loc) > 1 else f"unknown key '{field}'{hint}")
        elif e["type"] == "missing":
            problems.append(f"{where}: '{field}' is missing" if len(loc) > 1 else f"'{field}' is missing")
        else:
            msg = e["msg"].removeprefix("Value error, ")
            if e["type"] == "greater_than_equal":
                msg = f"must not be negative ({msg}), got {e.get('input')}"
            if len(loc) >= 2 and loc[0] == "items" and len(loc) == 2:
                problems.append(f"{where}: {msg}")
            elif len(loc) > 1:
                problems.append(f"{where}: '{field}' {msg}")
            else:
                problems.append(msg)
    return CostCatalogueError("; ".join(problems), file=file)


def catalogue_from_dict(raw: dict[str, Any], *, source_file: str | Path | None = None) -> CostCatalogue:
    """Validate a catalogue given as a dict (parsed TOML).

    Raises
    ------
    CostCatalogueError
        Unknown key (closest valid key suggested), missing or negative value, missing
        source or reason, low > central > high, or an item a site type names but the
        catalogue lacks; the message names the file and the item.
    """
    file = str(source_file) if source_file is not None else None
    try:
        cat = CostCatalogue.model_validate(raw)
    except ValidationError as e:
        raise _format(e, file) from None
    return cat.model_copy(update={"source_file": file})


def load_catalogue(path: str | Path | None = None) -> CostCatalogue:
    """Read and validate a cost catalogue TOML file.

    Parameters
    ----------
    path : str or Path, optional
        The catalogue; default: ``data/guangyuan/costs.toml`` (see the module docstring for
        each default figure and its source rows).

    Returns
    -------
    CostCatalogue

    Raises
    ------
    CostCatalogueError
        Missing file, not valid TOML, or invalid content (see :func:`catalogue_from_dict`).
    """
    path = Path(path) if path is not None else DEFAULT_CATALOGUE
    raw = read_toml(path, CostCatalogueError, "cost catalogue")
    return catalogue_from_dict(raw, source_file=path)
