"""Tests of siteplan.outputs.privacy: small-cell suppression and the output scan."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from siteplan.errors import PrivacyError
from siteplan.outputs.fixtures import synthetic_inputs
from siteplan.outputs.privacy import (
    SECONDARY_MARK,
    assert_no_child_records,
    is_valid_id_number,
    suppress_counts,
    suppress_totals,
)


def _frame(town_children: dict[str, list[int]], county: str = "c1") -> pd.DataFrame:
    rows = []
    for t, vals in town_children.items():
        for i, v in enumerate(vals):
            rows.append({"village_code": f"{t}{i:03d}", "town_code": t, "county_code": county,
                         "children": v})
    return pd.DataFrame(rows)


def _bounds(text: str, t: int = 10, cap: int = 10_000) -> tuple[int, int]:
    if text == f"<{t}":
        return 1, t - 1
    if text == SECONDARY_MARK:
        return t, cap
    return int(text), int(text)


def _reachable(bounds: list[tuple[int, int]], cap: int) -> set[int]:
    """All sums the intruder can form from the hidden cells (brute force, capped)."""
    sums = {0}
    for lo, hi in bounds:
        sums = {s + v for s in sums for v in range(lo, min(hi, cap) + 1) if s + v <= cap}
    return sums


def _assert_group_protected(cells: list[str], total_text: str, t: int = 10) -> None:
    """An intruder who knows the shown cells and the published total cannot narrow any
    "<10" cell below 1..t-1 (brute force over the hidden cells)."""
    if total_text in (f"<{t}", SECONDARY_MARK):
        return  # total not published exactly
    total = int(total_text)
    bounds = [_bounds(c, t, cap=total) for c in cells]
    for i, c in enumerate(cells):
        if c != f"<{t}":
            continue
        others = _reachable([b for j, b in enumerate(bounds) if j != i and b[0] != b[1]], total)
        shown = sum(b[0] for j, b in enumerate(bounds) if j != i and b[0] == b[1])
        feasible = {v for v in range(1, t) if total - shown - v in others}
        assert feasible == set(range(1, t)), (cells, total_text, i, sorted(feasible))


def test_primary_zero_and_large_cells():
    df = _frame({"t1": [0, 1, 9, 10, 55, 300]})
    out = suppress_counts(df, ["children"])
    assert out["children"].tolist()[0] == "0"
    assert out["children"].tolist()[1:3] == ["<10", "<10"]
    assert out["children"].tolist()[4:] == ["55", "300"]
    assert isinstance(out["children"].dtype, pd.StringDtype)
    # other columns untouched, input not modified
    assert out["village_code"].tolist() == df["village_code"].tolist()
    assert df["children"].dtype.kind == "i"


def test_single_small_cell_gets_a_secondary_suppression():
    df = _frame({"t1": [3, 12, 40, 80], "t2": [20, 30, 40]})
    out = suppress_counts(df, ["children"])["children"].tolist()
    assert out[0] == "<10"
    assert out[1:4].count(SECONDARY_MARK) >= 1, out
    assert out[4:] == ["20", "30", "40"]
    tot = suppress_totals(df, ["children"])
    _assert_group_protected(out[:4], tot["town_code"].loc["t1", "children"])


def test_two_tiny_cells_are_not_recoverable_from_total():
    # 1 + 1 with a published total of 2 would give both back; the total is itself <10 here
    df = _frame({"t1": [1, 1, 0], "t2": [50, 60]})
    tot = suppress_totals(df, ["children"])
    assert tot["town_code"].loc["t1", "children"] == "<10"
    # and the county-level total does not give t1's total back
    _assert_group_protected(tot["town_code"]["children"].tolist(),
                            tot["county_code"].loc["c1", "children"])


def test_threshold_parameter():
    df = _frame({"t1": [4, 5, 100, 200]})
    out = suppress_counts(df, ["children"], threshold=5)["children"].tolist()
    assert out == ["<5", SECONDARY_MARK, "100", "200"]  # 5 is not small at threshold 5


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_synthetic_city_every_group_is_protected(seed):
    v = synthetic_inputs(n_villages=400, n_townships=30, seed=seed, hostile_name=False)["villages"]
    cells = suppress_counts(v, ["children"])
    tot = suppress_totals(v, ["children"])
    assert (cells["children"] == "<10").sum() == ((v.children > 0) & (v.children < 10)).sum()
    for town, grp in cells.groupby("town_code"):
        _assert_group_protected(grp["children"].tolist(), tot["town_code"].loc[town, "children"])
    towns = tot["town_code"].join(
        v.drop_duplicates("town_code").set_index("town_code")["county_code"])
    for county, grp in towns.groupby("county_code"):
        _assert_group_protected(grp["children"].tolist(),
                                tot["county_code"].loc[county, "children"])
    _assert_group_protected(tot["county_code"]["children"].tolist(),
                            tot["total"].loc["total", "children"])


def test_the_brute_force_checker_can_fail():
    # one "<10" cell next to shown cells and an exact total: recoverable -> checker fails
    with pytest.raises(AssertionError):
        _assert_group_protected(["<10", "12", "40"], "55")


def test_bad_counts_and_non_nested_groups_raise():
    with pytest.raises(PrivacyError, match="whole numbers"):
        suppress_counts(_frame({"t1": [-1, 4]}), ["children"])
    df = _frame({"t1": [4, 5]})
    df.loc[0, "children"] = np.nan
    with pytest.raises(PrivacyError, match="missing"):
        suppress_counts(df, ["children"])
    df = pd.concat([_frame({"t1": [4, 50]}, "c1"), _frame({"t1": [30, 60]}, "c2")])
    with pytest.raises(PrivacyError, match="nested"):
        suppress_counts(df, ["children"])


# ------------------------------------------------------------------ output scan

def _id(body17: str) -> str:
    w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return body17 + "10X98765432"[sum(int(c) * k for c, k in zip(body17, w, strict=True)) % 11]


@pytest.fixture()
def ledger():
    return pd.DataFrame({
        "姓名": ["欧阳小花", "司马明轩"],
        "身份证号": [_id("51080220120304123"), _id("51082420150911002")],
        "guardian_name": ["诸葛大力", "上官婉清"],
        "village_name": ["阳文村", "中大村"],  # area column: legitimately in outputs
        "village_code": ["510802106200", "510802110200"],
        "age": [11, 9],
    })


def _write_clean_outputs(d, planted: str = ""):
    import geopandas as gpd
    from shapely.geometry import Point

    d.mkdir(parents=True, exist_ok=True)
    (d / "summary.md").write_text("# 摘要\n阳文村 <10\n", encoding="utf-8")
    pd.DataFrame({"village_name": ["阳文村", "中大村"], "children": ["<10", "25"]}).to_csv(
        d / "villages.csv", index=False, encoding="utf-8-sig")
    gdf = gpd.GeoDataFrame({"village_code": ["510802106200"], "note": ["ok"]},
                           geometry=[Point(105.8, 32.4)], crs="EPSG:4326")
    gdf.to_file(d / "siteplan.gpkg", layer="villages")
    (d / "shp").mkdir()
    gdf.rename(columns={"village_code": "vill_code"}).to_file(d / "shp" / "villages.shp",
                                                              encoding="UTF-8")
    pd.DataFrame({"a": ["x"]}).to_excel(d / "costs.xlsx", index=False)
    (d / "map.html").write_text('<meta charset="utf-8"><script>var d={"n":"\\u9633\\u6587\\u6751"}</script>',
                                encoding="utf-8")
    return d


def test_scan_passes_on_clean_outputs(tmp_path, ledger):
    d = _write_clean_outputs(tmp_path / "out")
    scanned = assert_no_child_records(d, ledger)
    names = {p.name for p in scanned}
    assert {"summary.md", "villages.csv", "siteplan.gpkg", "costs.xlsx", "map.html",
            "villages.dbf"} <= names


@pytest.mark.parametrize("fmt", ["csv", "html_json_escaped", "html_entities", "gpkg", "xlsx",
                                 "dbf", "id_number", "unlisted_id"])
def test_scan_finds_planted_records(tmp_path, ledger, fmt):
    import geopandas as gpd
    from shapely.geometry import Point

    d = _write_clean_outputs(tmp_path / "out")
    name = ledger["姓名"][0]
    if fmt == "csv":
        pd.DataFrame({"who": [ledger["guardian_name"][1]]}).to_csv(d / "extra.csv", index=False)
    elif fmt == "html_json_escaped":
        esc = "".join(f"\\u{ord(c):04x}" for c in name)
        (d / "m2.html").write_text(f'<script>var p={{"name":"{esc}"}}</script>', encoding="utf-8")
    elif fmt == "html_entities":
        ent = "".join(f"&#{ord(c)};" for c in name)
        (d / "m3.html").write_text(f"<div>{ent}</div>", encoding="utf-8")
    elif fmt == "gpkg":
        gpd.GeoDataFrame({"n": [name]}, geometry=[Point(105, 32)], crs="EPSG:4326").to_file(
            d / "siteplan.gpkg", layer="leak")
    elif fmt == "xlsx":
        pd.DataFrame({"n": [name]}).to_excel(d / "costs2.xlsx", index=False)
    elif fmt == "dbf":
        gpd.GeoDataFrame({"n": [name]}, geometry=[Point(105, 32)], crs="EPSG:4326").to_file(
            d / "shp" / "leak.shp", encoding="UTF-8")
    elif fmt == "id_number":
        (d / "notes.txt").write_text("id " + ledger["身份证号"][1], encoding="utf-8")
    elif fmt == "unlisted_id":
        (d / "notes.txt").write_text("id " + _id("11010519491231002"), encoding="utf-8")
    with pytest.raises(PrivacyError) as ei:
        assert_no_child_records([d], ledger)
    msg = str(ei.value)
    # the error names where, never the value
    for v in [*ledger["姓名"], *ledger["身份证号"], *ledger["guardian_name"]]:
        assert v not in msg


def test_id_checksum():
    assert is_valid_id_number("11010519491231002X")
    assert not is_valid_id_number("110105194912310021")
    assert not is_valid_id_number("510802106200")


def test_id_scan_ignores_decimal_fractions_but_finds_ids(tmp_path):
    """A float below 0.1 printed with 17 significant digits has 18 digits after the point,
    and folium's random hex element ids hold long digit runs; 1 in 11 such runs passes the ID
    checksum. Digits inside a decimal number or an identifier are not an ID number; an ID in
    text (at a sentence end, in a cell, next to Chinese characters) is."""
    ident = "110101199003074514"
    assert is_valid_id_number(ident)
    for text in ('{"share": 0.' + ident + ', "x": 105.8}',  # a decimal fraction
                 f'var circle_marker_a{ident}bc1 = L.circleMarker(', f"_{ident}f", f"x{ident}"):  # identifiers
        (tmp_path / "map.html").write_text(text, encoding="utf-8")
        assert_no_child_records([tmp_path])  # no false alarm
    for text in (f"child id {ident}.", f"<td>{ident}</td>", f'"id": "{ident}"', f"身份证{ident}号"):
        (tmp_path / "map.html").write_text(text, encoding="utf-8")
        with pytest.raises(PrivacyError):
            assert_no_child_records([tmp_path])


BANDS = ["children_0_5", "children_6_13", "children_14_16"]


def test_age_bands_without_row_total_can_leak_and_with_it_cannot():
    df = _frame({"t1": [25, 40, 60, 30]})
    df["children_0_5"] = [3, 10, 20, 10]
    df["children_6_13"] = [10, 15, 20, 10]
    df["children_14_16"] = [12, 15, 20, 10]
    cols = ["children", *BANDS]
    loose = suppress_counts(df, cols)
    # independent columns: 25 - 10 - 12 gives the "<10" back
    with pytest.raises(AssertionError):
        _assert_group_protected(loose.loc[0, BANDS].tolist(), loose.loc[0, "children"])
    tight = suppress_counts(df, cols, row_total="children")
    _assert_group_protected(tight.loc[0, BANDS].tolist(), tight.loc[0, "children"])


def test_row_total_synthetic_rows_and_columns_protected():
    v = synthetic_inputs(n_villages=300, n_townships=25, seed=11, hostile_name=False)["villages"]
    cols = ["children", *BANDS]
    cells = suppress_counts(v, cols, row_total="children")
    tot = suppress_totals(v, cols, row_total="children")
    for _, r in cells.iterrows():
        _assert_group_protected(r[BANDS].tolist(), r["children"])
    for c in cols:
        for town, grp in cells.groupby("town_code"):
            _assert_group_protected(grp[c].tolist(), tot["town_code"].loc[town, c])
    bad = v.assign(children=v["children"] + 1)
    with pytest.raises(PrivacyError, match="add up"):
        suppress_counts(bad, cols, row_total="children")


def test_row_parts_allow_subset_columns():
    v = synthetic_inputs(n_villages=120, n_townships=10, seed=4, hostile_name=False)["villages"]
    v = v.assign(alone=(v["children"] // 7).astype(int))  # a subset, not a part
    cols = ["children", *BANDS, "alone"]
    with pytest.raises(PrivacyError, match="add up"):
        suppress_counts(v, cols, row_total="children")
    out = suppress_counts(v, cols, row_total="children", row_parts=BANDS)
    for _, r in out.iterrows():
        _assert_group_protected(r[BANDS].tolist(), r["children"])
    with pytest.raises(PrivacyError, match="not among"):
        suppress_counts(v, cols, row_total="children", row_parts=["nope"])


def test_village_pattern_is_shared_by_the_maps(tmp_path):
    from siteplan.outputs.maps import make_map
    from siteplan.outputs.privacy import suppress_village_counts

    d = synthetic_inputs(n_villages=200, n_townships=12, seed=9, hostile_name=False)
    v = d["villages"]
    pattern = suppress_village_counts(v)
    # joint pattern: bands protected against the children total
    for _, r in pattern.iterrows():
        _assert_group_protected(r[BANDS].tolist(), r["children"])
    labels = d.pop("labels")
    d.pop("roads")
    html = make_map(labels=labels, **d).get_root().render()
    import html as _html
    import re as _re

    text = _html.unescape(_re.sub(r"\\u([0-9a-fA-F]{4})", lambda g: chr(int(g.group(1), 16)), html))
    shown = _re.findall(r'"children": "([^"]*)"', text)
    # villages appear in two layers (coverage and police time), each with the same pattern
    assert sorted(shown) == sorted(pattern["children"].tolist() * 2)


def test_default_villages_no_single_hidden_cell_behind_a_published_total():
    """On the real default table: no row with an exact total and exactly one hidden band, and no
    township with a published total (>= 10) and exactly one hidden village cell (either would
    be the total minus the shown cells)."""
    from pathlib import Path

    from siteplan.outputs.privacy import suppress_village_counts

    src = Path(__file__).resolve().parents[1] / "data" / "guangyuan" / "villages.csv"
    v = pd.read_csv(src, dtype={"village_code": str, "town_code": str, "county_code": str})
    out = suppress_village_counts(v, 10)
    bands = ["children_0_5", "children_6_13", "children_14_16"]
    shown = out[["children", *bands]].apply(lambda c: c.str.fullmatch(r"\d+"))
    exact_total = shown["children"]
    assert not (exact_total & ((~shown[bands]).sum(axis=1) == 1)).any()
    for col in ["children", *bands]:
        for town, idx in out.groupby("town_code").groups.items():
            total = int(v.loc[idx, col].sum())
            hidden = int((~shown.loc[idx, col]).sum())
            assert not (total >= 10 and hidden == 1), (col, town)
