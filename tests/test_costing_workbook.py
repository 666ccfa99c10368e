"""The costing workbook: sums equal the run's totals, codes stay text, headers frozen."""

from __future__ import annotations

import openpyxl
import pandas as pd
import pytest

from siteplan.costing import cost_plan, load_catalogue, write_workbook
from siteplan.costing.workbook import ATTRIBUTION, LABELS
from siteplan.errors import OutputError
from siteplan.scenario import CostingConfig


@pytest.fixture(scope="module")
def result():
    towns = pd.DataFrame(
        {
            "town_code": ["010802001", "010802002", "510824101"],
            "town_name": ["东坝街道", "嘉陵街道", "陵江镇"],
            "county_code": ["010802", "010802", "510824"],
            "county_name": ["利州区", "利州区", "苍溪县"],
        }
    )
    villages = pd.DataFrame(
        {
            "village_code": ["010802001001", "010802001002", "010802002001", "510824101001"],
            "town_code": ["010802001", "010802001", "010802002", "510824101"],
            "county_code": ["010802", "010802", "010802", "510824"],
            "children": [150, 60, 30, 400],
        }
    )
    sites = pd.DataFrame(
        {
            "site_id": ["0001", "0002", "0003", "0004"],
            "name": ["甲", "乙", "丙", "丁"],
            "site_type": ["childrens_home", "school_care_home", "minors_protection_station", "day_care"],
            "action": ["new", "upgrade", "upgrade", "existing"],
            "town_code": ["010802001", "010802002", "510824101", "510824101"],
            "county_code": ["010802", "010802", "510824", "510824"],
            "children_covered": [40, 3, 120, 0],
        }
    )
    cfg = CostingConfig(annual_budget_cny=300_000, build_years=[2026, 2027, 2028])
    return cost_plan(sites, villages, towns, load_catalogue(), cfg)


def _table(ws, first_col_label):
    """Rows of the table whose header row starts with ``first_col_label``, until the total row."""
    rows = list(ws.iter_rows(values_only=True))
    h = next(i for i, r in enumerate(rows) if r[0] == first_col_label)
    header = rows[h]
    data, total = [], None
    for r in rows[h + 1 :]:
        if r[0] is None:
            break
        if r[0] == LABELS["total_label"]:
            total = dict(zip(header, r, strict=False))
            break
        data.append(dict(zip(header, r, strict=False)))
    return data, total


def test_workbook_sums_codes_and_layout(result, tmp_path):
    path = write_workbook(result, tmp_path / "out" / "costs.xlsx")
    assert path.exists()
    assert [p.name for p in path.parent.iterdir()] == ["costs.xlsx"]  # temp file moved, none left
    wb = openpyxl.load_workbook(path)
    names = wb.sheetnames
    assert all(len(n) <= 31 for n in names)
    assert {"利州区", "苍溪县", "站点 Sites", "人员 Staffing", "分期 Phasing", "假设 Assumptions"} <= set(names)

    summary = wb[names[0]]
    texts = [c for row in summary.iter_rows(values_only=True) for c in row if isinstance(c, str)]
    assert ATTRIBUTION in texts
    assert any("modelled data" in t for t in texts)

    sites, total = _table(wb["站点 Sites"], LABELS["site_id"])
    capex = sum(r[LABELS["capex"]] for r in sites)
    opex = sum(r[LABELS["opex_per_year"]] for r in sites)
    assert capex == pytest.approx(result.total("capex_total"))
    assert total[LABELS["capex"]] == pytest.approx(result.total("capex_total"))
    assert opex == pytest.approx(result.total("opex_per_year"))
    # codes as text with leading zeros
    assert [r[LABELS["site_id"]] for r in sites] == ["0001", "0002", "0003", "0004"]
    assert sites[0][LABELS["town_code"]] == "010802001"
    assert sites[0][LABELS["county_code"]] == "010802"
    # small child counts suppressed, larger ones kept
    by_id = {r[LABELS["site_id"]]: r for r in sites}
    assert by_id["0002"][LABELS["children_covered"]] == "<10"
    assert by_id["0003"][LABELS["children_covered"]] == 120

    staff, stotal = _table(wb["人员 Staffing"], LABELS["county_code"])
    assert sum(r[LABELS["staff_per_year"]] for r in staff) == pytest.approx(result.total("staff_per_year"))
    assert stotal[LABELS["staff_per_year"]] == pytest.approx(result.total("staff_per_year"))
    assert staff[0][LABELS["town_code"]] == "010802001"

    phase, ptotal = _table(wb["分期 Phasing"], LABELS["year"])
    assert ptotal[LABELS["pv"]] == pytest.approx(result.total("pv_total"))
    assert ptotal[LABELS["capex"]] == pytest.approx(result.total("capex_total") - result.total("capex_unscheduled"))

    # county sheets add up to the city totals
    county_capex = 0.0
    for name in ("利州区", "苍溪县"):
        towns, t = _table(wb[name], LABELS["town_code"])
        county_capex += t[LABELS["capex"]]
        assert all(isinstance(r[LABELS["town_code"]], str) for r in towns)
    assert county_capex == pytest.approx(result.total("capex_total"))

    assump, _ = _table(wb["假设 Assumptions"], LABELS["item"])
    assert len(assump) == len(result.assumptions)
    assert all(r[LABELS["source"]] and r[LABELS["price_year"]] for r in assump)

    for name in names[1:]:
        assert wb[name].freeze_panes == "A2", name
    ws = wb["站点 Sites"]
    col = [c.column_letter for c in ws[1] if c.value == LABELS["capex"]][0]
    assert "#,##0" in ws[f"{col}2"].number_format and "¥" in ws[f"{col}2"].number_format
    assert ws.column_dimensions["B"].width > 8


def test_workbook_failure_leaves_old_file(result, tmp_path):
    path = tmp_path / "costs.xlsx"
    path.write_bytes(b"old")
    bad = result.__class__(**{**result.__dict__, "sites": result.sites.drop(columns=["capex"])})
    with pytest.raises(OutputError):
        write_workbook(bad, path)
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["costs.xlsx"]


def test_labels_override(result, tmp_path):
    path = write_workbook(result, tmp_path / "c.xlsx", labels={"capex": "Investment"})
    ws = openpyxl.load_workbook(path)["站点 Sites"]
    assert "Investment" in [c.value for c in ws[1]]
