"""A county's child ledger (信息台账) through the whole main job: counts come from the ledger,
and no name or ID number reaches any output file."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from siteplan.outputs.privacy import assert_no_child_records, is_valid_id_number
from siteplan.pipeline import run
from siteplan.scenario import DEFAULT_SCENARIO, load_scenario

_W = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def _id_number(rng: np.random.Generator, birth: str) -> str:
    body = "510824" + birth.replace("-", "") + f"{rng.integers(0, 1000):03d}"
    check = "10X98765432"[sum(int(c) * w for c, w in zip(body, _W, strict=True)) % 11]
    return body + check


@pytest.fixture(scope="module")
def ledger_run(tmp_path_factory):
    rng = np.random.default_rng(7)
    tmp = tmp_path_factory.mktemp("ledger")
    villages = pd.read_csv(DEFAULT_SCENARIO.parent / "villages.csv", dtype=str)
    county = villages[villages["county_code"] == "510824"].head(60)  # 60 villages of 苍溪县
    rows = []
    for code in county["village_code"]:
        for k in range(int(rng.integers(0, 25))):
            age = int(rng.integers(0, 16))
            birth = f"{2025 - age}-0{rng.integers(1, 10)}-1{rng.integers(0, 10)}"
            rows.append({
                "姓名": f"王测试{code[-4:]}{k:02d}",
                "身份证号": _id_number(rng, birth),
                "村代码": code,
                "出生日期": birth,
                "监护情况": "独居" if rng.random() < 0.05 else "祖辈监护",
                "就学情况": "在校",
            })
    ledger = pd.DataFrame(rows)
    assert all(is_valid_id_number(x) for x in ledger["身份证号"])
    path = tmp / "台账.csv"
    ledger.to_csv(path, index=False, encoding="gb18030")
    sc = load_scenario(data={"ledger": str(path), "ledger_as_of": "2026-01-01"},
                       model={"kind": "mclp", "p": 5}, outputs={"atlas": False})
    result = run(sc, out_dir=tmp / "out")
    return ledger, result


def test_counts_come_from_the_ledger(ledger_run):
    ledger, result = ledger_run
    v = result.villages.set_index("village_code")
    per_village = ledger.groupby("村代码").size()
    for code, n in per_village.items():
        assert int(v.loc[code, "children"]) == n
    assert "ledger" in set(v.loc[per_village.index, "children_source"])


def test_no_name_or_id_number_in_any_output(ledger_run):
    ledger, result = ledger_run
    scanned = assert_no_child_records(result.out_dir, ledger)
    assert any(p.suffix == ".gpkg" for p in scanned) and any(p.suffix == ".xlsx" for p in scanned)
    assert any(p.suffix == ".html" for p in scanned) and any(p.suffix == ".csv" for p in scanned)
    # and directly: not one planted name appears in any text output
    names = set(ledger["姓名"])
    for p in result.out_dir.rglob("*"):
        if p.suffix in (".csv", ".html", ".md", ".json"):
            text = p.read_text(encoding="utf-8-sig", errors="replace")
            assert not any(n in text for n in names), p
