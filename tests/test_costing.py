"""Tests of siteplan.costing: catalogue validation, cost_plan, candidate_costs, phasing."""

from __future__ import annotations

import copy
import math
import tomllib

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from siteplan.costing import (
    DEFAULT_CATALOGUE,
    candidate_costs,
    catalogue_from_dict,
    cost_plan,
    load_catalogue,
    phase_sites,
)
from siteplan.errors import CostCatalogueError, CostingError
from siteplan.scenario import FACILITY_TYPES, CostingConfig

PY = 2024


@pytest.fixture(scope="module")
def raw() -> dict:
    return tomllib.loads(DEFAULT_CATALOGUE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def cat():
    return load_catalogue()


def towns() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "town_code": ["510802001", "510802002", "510824101"],
            "town_name": ["东坝街道", "嘉陵街道", "陵江镇"],
            "county_code": ["510802", "510802", "510824"],
            "county_name": ["利州区", "利州区", "苍溪县"],
        }
    )


def villages(children=(120, 80, 199, 1, 0)) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "village_code": ["510802001001", "510802001002", "510802002001", "510824101001", "510824101002"],
            "town_code": ["510802001", "510802001", "510802002", "510824101", "510824101"],
            "county_code": ["510802", "510802", "510802", "510824", "510824"],
            "children": list(children),
        }
    )


def sites() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "site_id": ["001", "002", "003", "004", "005", "006"],
            "name": ["a", "b", "c", "d", "e", "f"],
            "site_type": ["childrens_home", "childrens_home", "school_care_home",
                          "minors_protection_station", "day_care", "childrens_home"],
            "action": ["new", "upgrade", "upgrade", "new", "existing", "upgrade"],
            "town_code": ["510802001", "510802001", "510802002", "510824101", "510824101", "510824101"],
            "county_code": ["510802", "510802", "510802", "510824", "510824", "510824"],
            "children_covered": [40, 25, 60, 30, 0, 5],
        }
    )


# ----------------------------------------------------------------- catalogue
def test_default_catalogue_is_complete(cat):
    assert set(cat.site_types) == {"childrens_home", "school_care_home", "day_care", "minors_protection_station"}
    assert set(cat.site_types) <= set(FACILITY_TYPES)
    for key, it in cat.items.items():
        assert it.source, key
        assert it.low <= it.central <= it.high
        if "assumption" in it.source:
            assert it.reason.strip(), key
    for t in cat.site_types:
        assert cat.site_capex(t, "new", "central", PY) > cat.site_capex(t, "upgrade", "central", PY) > 0
        assert cat.site_capex(t, "existing", "central", PY) == 0
        assert cat.site_opex(t, "central", PY) > 0
    # school home equipment is itemised (phone, computers, books, sports)
    assert {"equip_family_phone", "equip_computers", "equip_books", "equip_sports"} <= set(
        cat.site_types["school_care_home"].upgrade
    )
    # staffing items follow the sourced rows: R4 floor 600/yr, R17 178/month
    a = cat.items["children_director_allowance"]
    assert a.low == 600 and a.high == pytest.approx(178 * 12)
    assert cat.items["township_staff"].central == pytest.approx(113655 * 0.80, rel=1e-3)


def test_price_factor_chains_cpi(cat):
    pct = cat.price_index.annual_pct
    f = cat.price_factor(2020, 2024)
    assert f == pytest.approx(math.prod(1 + pct[y] / 100 for y in (2021, 2022, 2023, 2024)))
    assert cat.price_factor(2024, 2020) == pytest.approx(1 / f)
    assert cat.price_factor(2024, 2024) == 1.0
    assert cat.unit_cost("childrens_home_fitout", "central", 2024) == pytest.approx(24000 * f)
    with pytest.raises(CostCatalogueError, match="outside the price index"):
        cat.price_factor(1990, 2024)


def _err(raw: dict) -> str:
    with pytest.raises(CostCatalogueError) as ei:
        catalogue_from_dict(raw, source_file="costs.toml")
    return str(ei.value)


def test_unknown_key_names_closest(raw):
    bad = copy.deepcopy(raw)
    bad["items"]["childrens_home_fitout"]["centrl"] = bad["items"]["childrens_home_fitout"].pop("central")
    msg = _err(bad)
    assert "costs.toml" in msg and "childrens_home_fitout" in msg
    assert "unknown key 'centrl'" in msg and "did you mean 'central'" in msg
    assert "'central' is missing" in msg


def test_unknown_top_level_and_site_type_keys(raw):
    bad = copy.deepcopy(raw)
    bad["site_typs"] = {}
    assert "did you mean 'site_types'" in _err(bad)
    bad = copy.deepcopy(raw)
    bad["site_types"]["childrens_home"]["upgarde"] = []
    assert "did you mean 'upgrade'" in _err(bad)


def test_negative_value_is_error(raw):
    bad = copy.deepcopy(raw)
    bad["items"]["township_staff"]["low"] = -1
    msg = _err(bad)
    assert "costs.toml" in msg and "item 'township_staff'" in msg and "negative" in msg


def test_missing_source_and_reason(raw):
    bad = copy.deepcopy(raw)
    del bad["items"]["equip_books"]["source"]
    msg = _err(bad)
    assert "item 'equip_books'" in msg and "'source' is missing" in msg
    bad = copy.deepcopy(raw)
    bad["items"]["equip_books"]["reason"] = ""
    assert "needs a 'reason'" in _err(bad)
    bad = copy.deepcopy(raw)
    bad["items"]["equip_books"]["source"] = "a newspaper"
    assert "not a row id" in _err(bad)


def test_bad_references_and_order(raw):
    bad = copy.deepcopy(raw)
    bad["site_types"]["day_care"]["upgrade"] = ["day_care_fitou"]
    assert "did you mean 'day_care_fitout'" in _err(bad)
    bad = copy.deepcopy(raw)
    bad["site_types"]["day_care"]["running"] = ["day_care_fitout"]
    assert "expected per_site_year" in _err(bad)
    bad = copy.deepcopy(raw)
    bad["items"]["equip_books"]["low"] = 99999
    assert "low <= central <= high" in _err(bad)
    bad = copy.deepcopy(raw)
    bad["site_types"]["daycare"] = bad["site_types"].pop("day_care")
    assert "did you mean 'day_care'" in _err(bad)


def test_load_catalogue_file_errors(tmp_path):
    with pytest.raises(CostCatalogueError, match="not found"):
        load_catalogue(tmp_path / "nope.toml")
    p = tmp_path / "c.toml"
    p.write_text("[items\n", encoding="utf-8")
    with pytest.raises(CostCatalogueError, match="not valid TOML"):
        load_catalogue(p)


# ----------------------------------------------------------------- cost_plan
def test_candidate_costs_match_plan_capex(cat):
    s = sites()
    cfg = CostingConfig()
    res = cost_plan(s, villages(), towns(), cat, cfg)
    cc = candidate_costs(s, cat, "central", cfg.price_year)
    assert cc[s["action"].eq("existing").to_numpy()].sum() == 0
    assert res.total("capex_total") == pytest.approx(cc.sum())
    assert res.sites["capex"].sum() == pytest.approx(cc.sum())
    assert res.by_county["capex"].sum() == pytest.approx(cc.sum())
    assert res.by_township["capex"].sum() == pytest.approx(cc.sum())
    assert res.by_type["capex"].sum() == pytest.approx(cc.sum())
    assert res.by_department["capex"].sum() == pytest.approx(cc.sum())
    assert res.phasing["capex"].sum() == pytest.approx(cc.sum())  # no budget: all scheduled
    lv = res.sensitivity.set_index("level")
    assert lv.loc["low", "capex"] < lv.loc["central", "capex"] < lv.loc["high", "capex"]
    assert lv.loc["central", "capex"] == pytest.approx(cc.sum())
    assert lv.loc["central", "capex_per_child"] == pytest.approx(cc.sum() / 160)
    # running years option adds opex
    c2 = candidate_costs(s, cat, "central", cfg.price_year, running_years=2)
    assert c2[0] == pytest.approx(cc[0] + 2 * cat.site_opex("childrens_home", "central", PY))


def test_one_unit_cost_change_moves_totals_exactly(raw):
    s, v, t, cfg = sites(), villages(), towns(), CostingConfig()
    base = cost_plan(s, v, t, catalogue_from_dict(raw), cfg)
    delta = 1000.0
    bumped = copy.deepcopy(raw)
    bumped["items"]["childrens_home_fitout"]["central"] += delta
    bumped["items"]["childrens_home_running"]["central"] += delta
    d_allow = 100.0  # stays below the item's high value
    bumped["items"]["children_director_allowance"]["central"] += d_allow
    new = cost_plan(s, v, t, catalogue_from_dict(bumped), cfg)
    cat = catalogue_from_dict(raw)
    f2020 = cat.price_factor(2020, PY)
    f2021 = cat.price_factor(2021, PY)
    n_ch_capex = int((s["site_type"].eq("childrens_home") & s["action"].ne("existing")).sum())  # 3
    n_ch_open = int(s["site_type"].eq("childrens_home").sum())  # 3
    assert new.total("capex_total") - base.total("capex_total") == pytest.approx(n_ch_capex * delta * f2020)
    assert new.total("opex_per_year") - base.total("opex_per_year") == pytest.approx(n_ch_open * delta * f2020)
    assert new.total("staff_per_year") - base.total("staff_per_year") == pytest.approx(len(v) * d_allow * f2021)
    # the low and high levels are untouched
    for lv in ("low", "high"):
        b = base.sensitivity.set_index("level").loc[lv, "capex"]
        assert new.sensitivity.set_index("level").loc[lv, "capex"] == pytest.approx(b)


@pytest.mark.parametrize("threshold", [1, 199, 200, 201])
def test_staffing_threshold_boundary(cat, threshold):
    # township children: 510802001 -> 200, 510802002 -> 199, 510824101 -> 1
    cfg = CostingConfig(staff_threshold_children=threshold, staff_per_large_township=2, staff_per_other_township=1)
    res = cost_plan(sites(), villages(), towns(), cat, cfg)
    st_ = res.staffing.set_index("town_code")
    children = st_["children"]
    assert children.to_dict() == {"510802001": 200, "510802002": 199, "510824101": 1}
    expect = np.where(children >= threshold, 2, 1)
    assert st_["township_staff"].tolist() == expect.tolist()
    staff_cost = cat.unit_cost("township_staff", "central", PY)
    allowance = cat.unit_cost("children_director_allowance", "central", PY)
    assert res.total("staff_per_year") == pytest.approx(expect.sum() * staff_cost + 5 * allowance)
    assert res.by_department.set_index("department").loc["民政", "staff_per_year"] == pytest.approx(
        res.total("staff_per_year")
    )


def test_phasing_respects_annual_budget(cat):
    s = sites()
    cc = candidate_costs(s, cat, "central", PY)
    budget = float(np.sort(cc)[-1]) + 1.0  # the dearest site just fits in a year
    cfg = CostingConfig(annual_budget_cny=budget, build_years=[2026, 2027, 2028, 2029, 2030])
    res = cost_plan(s, villages(), towns(), cat, cfg)
    built = res.sites.dropna(subset=["build_year"])
    per_year = built.groupby("build_year")["capex"].sum()
    assert (per_year <= budget + 1e-6).all()
    assert res.sites.loc[res.sites["action"] == "existing", "build_year"].isna().all()
    assert len(built) == 5  # all proposed sites scheduled within 5 years
    # the phasing table agrees with the sites table
    ph = res.phasing.set_index("year")
    for y, c in per_year.items():
        assert ph.loc[int(y), "capex"] == pytest.approx(c)
    assert ph["sites_open"].iloc[-1] == 6
    assert ph["children_covered_cumulative"].is_monotonic_increasing


def test_phasing_strict_priority_and_oversize(cat):
    s = sites()
    s["rank"] = [5, 4, 3, 2, 1, 1]
    cc = candidate_costs(s, cat, "central", PY)
    small = float(cc[s["action"] != "existing"].min())
    prop = s[s["action"] != "existing"].reset_index(drop=True)
    pc = cc[(s["action"] != "existing").to_numpy()]
    years, flags, warns = phase_sites(prop, pc, [2026, 2027], annual_budget_cny=small * 1.5)
    # site 004 (minors-protection station, rank 2) is dearer than a year: flagged
    i4 = prop.index[prop["site_id"] == "004"][0]
    assert flags[i4] == "over_budget" and np.isnan(years[i4])
    assert any("004" in w for w in warns)
    # strict order by rank: a scheduled site never comes before a better-ranked scheduled one
    sched = [(r, y) for r, y in zip(prop["rank"], years, strict=True) if not np.isnan(y)]
    sched.sort()
    assert [y for _, y in sched] == sorted(y for _, y in sched)
    with pytest.raises(CostingError, match="whole year's budget"):
        phase_sites(prop, pc, [2026, 2027], annual_budget_cny=small * 1.5, oversize_site="error")


def test_pinned_build_year_and_no_budget(cat):
    s = sites()
    s["build_year"] = [2028, None, None, None, None, None]
    res = cost_plan(s, villages(), towns(), cat, CostingConfig(build_years=[2026, 2027, 2028]))
    by = res.sites.set_index("site_id")["build_year"]
    assert by["001"] == 2028
    assert by.drop(["005"]).notna().all()
    s["build_year"] = [2035, None, None, None, None, None]
    with pytest.raises(CostingError, match="not one of the build years"):
        cost_plan(s, villages(), towns(), cat, CostingConfig())


def test_present_value_by_hand(cat):
    cfg = CostingConfig(build_years=[2026], pv_running_years=1, discount_rate=0.05)
    res = cost_plan(sites(), villages(), towns(), cat, cfg)
    capex, opex, staff = res.total("capex_total"), res.total("opex_per_year"), res.total("staff_per_year")
    expect = (capex + opex + staff) + (opex + staff) / 1.05
    assert res.total("pv_total") == pytest.approx(expect)
    assert res.phasing["year"].tolist() == [2026, 2027]


def test_coverage_fn_columns(cat):
    def cov(open_ids, year):
        return {"township_share": len(open_ids) / 10}

    res = cost_plan(sites(), villages(), towns(), cat, CostingConfig(), coverage_fn=cov)
    assert "township_share" in res.phasing.columns
    assert res.phasing["township_share"].iloc[-1] == pytest.approx(0.6)


def test_bad_sites_are_rejected(cat):
    s = sites()
    s["town_code"] = s["town_code"].astype(float)
    with pytest.raises(CostingError, match="codes must be text"):
        cost_plan(s, villages(), towns(), cat, CostingConfig())
    s = sites()
    s.loc[2, "site_type"] = "school"
    with pytest.raises(CostingError, match="row 4.*no costs"):
        cost_plan(s, villages(), towns(), cat, CostingConfig())
    s = sites()
    s.loc[0, "action"] = "build"
    with pytest.raises(CostingError, match="unknown action"):
        cost_plan(s, villages(), towns(), cat, CostingConfig())
    v = villages()
    v.loc[0, "town_code"] = "999999999"
    with pytest.raises(CostingError, match="not in the townships"):
        cost_plan(sites(), v, towns(), cat, CostingConfig())


@settings(max_examples=40, deadline=None)
@given(
    costs=st.lists(st.floats(min_value=0, max_value=100), min_size=1, max_size=12),
    budget=st.floats(min_value=1, max_value=150),
    n_years=st.integers(min_value=1, max_value=4),
)
def test_phasing_budget_property(costs, budget, n_years):
    df = pd.DataFrame({"site_id": [f"{i:03d}" for i in range(len(costs))], "children_covered": 1})
    capex = np.array(costs)
    yrs = list(range(2026, 2026 + n_years))
    years, flags, _ = phase_sites(df, capex, yrs, budget)
    for y in yrs:
        assert capex[years == y].sum() <= budget + 1e-6
    for c, y, f in zip(capex, years, flags, strict=True):
        assert np.isnan(y) == bool(f)
        if c > budget + 1e-6:
            assert f == "over_budget"


def test_existing_sites_of_uncosted_type_and_unknown_codes(cat):
    s = sites()
    extra = pd.DataFrame(
        {"site_id": ["k1"], "name": ["幼儿园"], "site_type": ["kindergarten"], "action": ["existing"],
         "town_code": [""], "county_code": [""], "children_covered": [0]}
    )
    s = pd.concat([s, extra], ignore_index=True)
    cc = candidate_costs(s, cat, "central", PY)
    assert cc[-1] == 0.0
    res = cost_plan(s, villages(), towns(), cat, CostingConfig())
    row = res.sites.set_index("site_id").loc["k1"]
    assert row["capex"] == 0 and row["opex_per_year"] == 0
    assert row["county_name"] == "未知 unknown"
    assert any("kindergarten" in w for w in res.warnings)
    assert res.by_county["capex"].sum() == pytest.approx(res.total("capex_total"))
    assert res.by_county["opex_per_year"].sum() == pytest.approx(res.total("opex_per_year"))
    # a proposed site of an uncosted type is an error
    s.loc[s.index[-1], "action"] = "new"
    with pytest.raises(CostingError, match="no costs"):
        cost_plan(s, villages(), towns(), cat, CostingConfig())
