"""The costing workbook (``costs.xlsx``), written with XlsxWriter.

Sheets: 汇总 Summary (headline totals, sensitivity, by type / department / county, sources
note, "modelled data" label, attribution), one sheet per county (townships and sites), 站点
Sites, 人员 Staffing, 分期 Phasing and 假设 Assumptions (every unit cost with its source row id
and price year, the price index and the settings). Codes are written as text so leading
zeros survive; money has thousands separators and a yuan format; headers are frozen.
Child counts from 1 to ``small_cell - 1`` are shown as "<small_cell" (primary suppression
only). The file is written to a temporary file beside ``path`` and moved into place.
"""

from __future__ import annotations

import math
import os
import re
import tempfile
import unicodedata
from pathlib import Path
from typing import Any

import pandas as pd
import xlsxwriter

from siteplan.costing.compute import CostResult
from siteplan.errors import OutputError

ATTRIBUTION = "© OpenStreetMap contributors, Tianditu, GeoNames"
MODELLED_LABEL = (
    "模拟数据 modelled data: village child counts, site locations and unit costs are modelled "
    "or taken from public figures of other places, not from Guangyuan's budget."
)
SOURCES_NOTE = (
    "Unit costs: public figures, rows R1..R31 of unit-cost-sources.md, or stated assumptions "
    "(see sheet 假设 Assumptions). Money in yuan (CNY) at constant prices of the price year."
)

#: Default column labels (Chinese + English). Override any with ``labels=``.
LABELS: dict[str, str] = {
    "site_id": "站点编码 site id",
    "name": "名称 name",
    "site_type": "类型 type",
    "type_label": "类型说明 type",
    "action": "新建/改造 action",
    "county_code": "县区代码 county code",
    "county_name": "县区 county",
    "town_code": "乡镇代码 town code",
    "town_name": "乡镇 township",
    "department": "牵头部门 lead dept.",
    "children_covered": "新增覆盖儿童 children newly covered",
    "capex": "建设投资 capex (元)",
    "opex_per_year": "运行费/年 opex (元/年)",
    "town_staff": "乡镇专职人员 township staff (乡镇级,勿求和 township-level, do not sum)",
    "build_year": "建设年份 build year",
    "flag": "标记 flag",
    "children": "留守儿童 children",
    "villages": "村(儿童主任) villages (directors)",
    "director_allowance": "儿童主任补贴 allowances (元/年)",
    "township_staff": "专职人员 staff (人)",
    "township_staff_cost": "专职人员费用 staff cost (元/年)",
    "staff_per_year": "人员费用 staffing (元/年)",
    "annual_total": "年度经常费 annual total (元/年)",
    "sites_new": "新建 new",
    "sites_upgrade": "改造 upgrade",
    "sites_existing": "现有 existing",
    "year": "年份 year",
    "phase": "阶段 phase",
    "opex": "运行费 opex (元)",
    "staff": "人员费用 staffing (元)",
    "total": "合计 total (元)",
    "sites_built": "当年建成 sites built",
    "sites_open": "运行站点 sites open",
    "children_covered_cumulative": "累计覆盖儿童 children covered (cum.)",
    "discount_factor": "折现系数 discount factor",
    "pv": "现值 present value (元)",
    "level": "情景 level",
    "pv_total": "现值合计 present value (元)",
    "children_covered_new": "新增覆盖儿童 children newly covered",
    "capex_per_child": "每名新增儿童建设投资 capex per child (元)",
    "opex_proposed_per_child": "每名新增儿童运行费 opex per child (元/年)",
    "item": "项目 item",
    "unit": "单位 unit",
    "low": "低 low (元)",
    "central": "中 central (元)",
    "high": "高 high (元)",
    "price_year": "价格年 price year",
    "price_factor": "价格系数 price factor",
    "source": "来源 source (row id)",
    "reason": "理由 reason",
    "note": "说明 note",
    "key": "代码 key",
    "label": "指标 item",
    "value": "数值 value",
    "total_label": "合计 Total",
}

_MONEY = {
    "capex", "opex_per_year", "director_allowance", "township_staff_cost", "staff_per_year",
    "annual_total", "opex", "staff", "total", "pv", "pv_total", "capex_per_child",
    "opex_proposed_per_child", "low", "central", "high",
}
_COUNT = {
    "sites_new", "sites_upgrade", "sites_existing", "villages", "township_staff", "town_staff",
    "sites_built", "sites_open",
}
_CHILD = {"children_covered", "children", "children_covered_cumulative", "children_covered_new"}
_TEXT = {"key", "site_id", "county_code", "town_code", "name", "county_name", "town_name", "site_type",
         "type_label", "action", "department", "flag", "phase", "level", "item", "unit", "source",
         "reason", "note", "label"}
_YEAR = {"year", "build_year", "price_year"}


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in str(text))


def _sheet_name(name: str, used: set[str]) -> str:
    base = re.sub(r"[\[\]:*?/\\]", "_", str(name)).strip("'") or "sheet"
    base = base[:31]
    out, k = base, 2
    while out.lower() in {u.lower() for u in used}:
        suffix = f" ({k})"
        out = base[: 31 - len(suffix)] + suffix
        k += 1
    used.add(out)
    return out


class _Writer:
    def __init__(self, wb: xlsxwriter.Workbook, labels: dict[str, str], small_cell: int) -> None:
        self.wb = wb
        self.labels = labels
        self.small_cell = small_cell
        self.f_head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "top"})
        self.f_money = wb.add_format({"num_format": '"¥"#,##0'})
        self.f_money_b = wb.add_format({"num_format": '"¥"#,##0', "bold": True, "top": 1})
        self.f_count = wb.add_format({"num_format": "#,##0"})
        self.f_count_b = wb.add_format({"num_format": "#,##0", "bold": True, "top": 1})
        self.f_text = wb.add_format({"num_format": "@"})
        self.f_bold = wb.add_format({"bold": True})
        self.f_title = wb.add_format({"bold": True, "font_size": 14})
        self.f_note = wb.add_format({"italic": True, "font_color": "#595959"})
        self.f_float = wb.add_format({"num_format": "0.0000"})
        self.f_pct = wb.add_format({"num_format": "0.0%"})
        self.f_year = wb.add_format({"num_format": "0"})
        self.f_total_lbl = wb.add_format({"bold": True, "top": 1})

    def label(self, col: str) -> str:
        return self.labels.get(col, col)

    def cell(self, ws: Any, r: int, c: int, col: str, v: Any) -> None:
        if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
            ws.write_blank(r, c, None)
        elif col in _TEXT:
            ws.write_string(r, c, str(v), self.f_text)
        elif col in _CHILD:
            n = int(v)
            if 0 < n < self.small_cell:
                ws.write_string(r, c, f"<{self.small_cell}")
            else:
                ws.write_number(r, c, n, self.f_count)
        elif col in _MONEY or col.startswith(("low_", "central_", "high_")):
            ws.write_number(r, c, float(v), self.f_money)
        elif col in _COUNT:
            ws.write_number(r, c, float(v), self.f_count)
        elif col in _YEAR:
            ws.write_number(r, c, int(v), self.f_year)
        elif col == "discount_factor" or col == "price_factor":
            ws.write_number(r, c, float(v), self.f_float)
        elif isinstance(v, int | float):
            ws.write_number(r, c, float(v))
        else:
            ws.write_string(r, c, str(v))

    def table(
        self,
        ws: Any,
        row0: int,
        df: pd.DataFrame,
        cols: list[str],
        *,
        total: bool = True,
        widths: dict[int, int] | None = None,
    ) -> int:
        """Write ``df[cols]`` with a header at ``row0``; returns the next free row."""
        widths = widths if widths is not None else {}
        for c, col in enumerate(cols):
            lab = self.label(col)
            ws.write_string(row0, c, lab, self.f_head)
            widths[c] = max(widths.get(c, 0), min(_width(lab), 28))
        r = row0 + 1
        for rec in df[cols].itertuples(index=False, name=None):
            for c, (col, v) in enumerate(zip(cols, rec, strict=True)):
                self.cell(ws, r, c, col, v)
                widths[c] = max(widths.get(c, 0), min(_width(v) + 2 if not isinstance(v, float) else 14, 50))
            r += 1
        if total and len(df):
            ws.write_string(r, 0, self.labels["total_label"], self.f_total_lbl)
            for c, col in enumerate(cols):
                if c == 0:
                    continue
                if col in _MONEY or col in ("sites_new", "sites_upgrade", "sites_existing", "villages",
                                            "township_staff", "sites_built"):
                    fmt = self.f_money_b if col in _MONEY else self.f_count_b
                    ws.write_number(r, c, float(pd.to_numeric(df[col]).sum()), fmt)
            r += 1
        for c, w in widths.items():
            ws.set_column(c, c, max(w, 8))
        return r


def write_workbook(
    result: CostResult,
    path: str | Path,
    *,
    labels: dict[str, str] | None = None,
    small_cell: int = 10,
    title: str = "广元市 留守儿童关爱服务阵地 成本测算 Cost of care sites for left-behind children",
) -> Path:
    """Write the costing workbook (``costs.xlsx``).

    Parameters
    ----------
    result : CostResult
        From :func:`siteplan.costing.cost_plan` (money in CNY at ``result.price_year``).
    path : str or Path
        Output ``.xlsx`` file; replaced atomically (temp file in the same folder, then moved).
    labels : dict, optional
        Column labels to override (keys: column names such as ``"capex"``, or
        ``"total_label"``); defaults in :data:`LABELS`.
    small_cell : int, keyword-only
        Child counts 1..small_cell-1 are written as "<small_cell" (primary suppression; 1
        disables). Money figures are never suppressed.
    title : str, keyword-only
        Title on the summary sheet.

    Returns
    -------
    Path
        The written file.

    Raises
    ------
    OutputError
        The workbook could not be written (the previous file, if any, is left untouched).
    """
    path = Path(path)
    lab = {**LABELS, **(labels or {})}
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".costs-", suffix=".xlsx", dir=path.parent)
    os.close(fd)
    try:
        wb = xlsxwriter.Workbook(tmp, {"nan_inf_to_errors": True})
        _fill(wb, result, lab, small_cell, title)
        wb.close()
        os.chmod(tmp, 0o644)  # mkstemp makes the file private; a workbook is meant to be shared
        os.replace(tmp, path)
    except Exception as e:  # noqa: BLE001 - any failure becomes OutputError
        Path(tmp).unlink(missing_ok=True)
        raise OutputError(f"could not write workbook {path}: {e}") from e
    return path


def _fill(wb: xlsxwriter.Workbook, res: CostResult, lab: dict[str, str], small_cell: int, title: str) -> None:
    w = _Writer(wb, lab, small_cell)
    used: set[str] = set()

    # ---------------------------------------------------------------- summary
    ws = wb.add_worksheet(_sheet_name("汇总 Summary", used))
    ws.write_string(0, 0, title, w.f_title)
    ws.write_string(1, 0, MODELLED_LABEL, w.f_note)
    ws.write_string(2, 0, f"价格年 price year {res.price_year}; 情景 level: {res.level}; 货币 currency: CNY (元)")
    ws.write_string(3, 0, SOURCES_NOTE, w.f_note)
    ws.write_string(4, 0, ATTRIBUTION, w.f_note)
    ws.freeze_panes(6, 0)
    widths: dict[int, int] = {}
    r = 6
    summ = res.summary.copy()
    money_keys = summ["unit"].isin(["CNY", "CNY/year", "CNY/child"])
    ws.write_string(r - 1, 0, "总计 Totals", w.f_bold)
    r = w.table(ws, r, summ.assign(key=summ["key"]), ["key", "label", "value", "unit"], total=False, widths=widths)
    # reformat values: money vs other
    for i, (key, val, unit, is_money) in enumerate(
        zip(summ["key"], summ["value"], summ["unit"], money_keys, strict=True)
    ):
        rr = 7 + i
        if isinstance(val, float) and math.isnan(val):
            ws.write_blank(rr, 2, None)
        elif is_money:
            ws.write_number(rr, 2, float(val), w.f_money)
        elif key == "discount_rate":
            ws.write_number(rr, 2, float(val), w.f_pct)
        elif key == "children_covered_new":
            w.cell(ws, rr, 2, "children_covered_new", val)
        else:
            ws.write_number(rr, 2, float(val), w.f_count if unit != "year" else w.f_year)
    r += 1
    ws.write_string(r, 0, "敏感性 Sensitivity (low / central / high unit costs, same schedule)", w.f_bold)
    r = w.table(ws, r + 1, res.sensitivity, list(res.sensitivity.columns), total=False, widths=widths) + 1
    ws.write_string(r, 0, "按类型 By facility type", w.f_bold)
    r = w.table(ws, r + 1, res.by_type, list(res.by_type.columns), widths=widths) + 1
    ws.write_string(r, 0, "按牵头部门 By lead department", w.f_bold)
    r = w.table(ws, r + 1, res.by_department, list(res.by_department.columns), widths=widths) + 1
    ws.write_string(r, 0, "按县区 By county", w.f_bold)
    cc = ["county_code", "county_name", "villages", "township_staff", "sites_new", "sites_upgrade",
          "sites_existing", "children_covered", "capex", "opex_per_year", "staff_per_year", "annual_total"]
    r = w.table(ws, r + 1, res.by_county, cc, widths=widths) + 1
    if res.warnings:
        ws.write_string(r, 0, "提示 Warnings", w.f_bold)
        for k, msg in enumerate(res.warnings):
            ws.write_string(r + 1 + k, 0, msg)

    # ---------------------------------------------------------------- counties
    tc = ["town_code", "town_name", "children", "villages", "township_staff", "sites_new",
          "sites_upgrade", "sites_existing", "children_covered", "capex", "opex_per_year",
          "staff_per_year", "annual_total"]
    sc = ["site_id", "name", "town_code", "town_name", "site_type", "action", "children_covered",
          "capex", "opex_per_year", "build_year", "flag"]
    for county_code, county_name in res.by_county[["county_code", "county_name"]].itertuples(index=False):
        ws = wb.add_worksheet(_sheet_name(county_name or county_code, used))
        ws.freeze_panes(1, 0)
        widths = {}
        towns = res.by_township[res.by_township["county_code"] == county_code]
        r = w.table(ws, 0, towns, tc, widths=widths) + 1
        ws.write_string(r, 0, f"{county_name} 站点 sites", w.f_bold)
        w.table(ws, r + 1, res.sites[res.sites["county_code"] == county_code], sc, widths=widths)

    # ---------------------------------------------------------------- sites
    ws = wb.add_worksheet(_sheet_name("站点 Sites", used))
    ws.freeze_panes(1, 0)
    sites = res.sites.copy()
    staff_by_town = res.staffing.set_index("town_code")["township_staff"]
    sites["town_staff"] = sites["town_code"].map(staff_by_town).fillna(0).astype("int64")
    cols = ["site_id", "name", "county_code", "county_name", "town_code", "town_name", "site_type",
            "type_label", "action", "department", "children_covered", "capex", "opex_per_year",
            "town_staff", "build_year", "flag"]
    w.table(ws, 0, sites, cols)

    # ---------------------------------------------------------------- staffing
    ws = wb.add_worksheet(_sheet_name("人员 Staffing", used))
    ws.freeze_panes(1, 0)
    w.table(ws, 0, res.staffing, list(res.staffing.columns))

    # ---------------------------------------------------------------- phasing
    ws = wb.add_worksheet(_sheet_name("分期 Phasing", used))
    ws.freeze_panes(1, 0)
    ph = res.phasing
    w.table(ws, 0, ph, list(ph.columns))

    # ---------------------------------------------------------------- assumptions
    ws = wb.add_worksheet(_sheet_name("假设 Assumptions", used))
    ws.freeze_panes(1, 0)
    a = res.assumptions
    py = res.price_year
    for lv in ("low", "central", "high"):
        w.labels.setdefault(f"{lv}_{py}", f"{lv} ({py} 元)")
    cols = ["item", "name", "unit", "low", "central", "high", "price_year", "source", "price_factor",
            f"low_{py}", f"central_{py}", f"high_{py}", "reason", "note"]
    r = w.table(ws, 0, a, cols, total=False) + 1
    ws.write_string(r, 0, "设置 Settings", w.f_bold)
    r = w.table(ws, r + 1, res.settings, ["key", "value", "note"], total=False) + 1
    ws.write_string(r, 0, SOURCES_NOTE, w.f_note)
    ws.write_string(r + 1, 0, MODELLED_LABEL, w.f_note)
