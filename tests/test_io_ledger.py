"""Ledger aggregation: counts per village, age bands, flags, privacy (names/IDs never read)."""

from __future__ import annotations

import datetime as dt
import warnings
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

import siteplan.io.ledger as ledger_mod
from siteplan.errors import InputError, InputWarning
from siteplan.io import aggregate_ledger, apply_ledger, load_villages

GOOD = Path(__file__).resolve().parent / "bad_inputs" / "good"
AS_OF = dt.date(2024, 6, 1)
SECRETS = ["张小明", "李小红", "王小刚", "510802201501011234", "51080220180301123X", "510802200901011234"]


def test_good_ledger_counts_and_bands() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", InputWarning)  # nobody is 16 or over
        out = aggregate_ledger(GOOD / "ledger.csv", as_of=AS_OF)
    # as of 2024-06-01: 张小明 9 (2015-01-01), 李小红 6 (2018-03-01), 王小刚 15 (2009-01-01)
    assert out["village_code"].tolist() == ["510802001001", "510802101201"]
    row = out.set_index("village_code")
    assert row.loc["510802001001", "children"] == 2
    assert row.loc["510802001001", "children_6_13"] == 2
    assert row.loc["510802001001", "alone"] == 1
    assert row.loc["510802001001", "boarding_pupils"] == 1
    assert row.loc["510802101201", "children_14_16"] == 1
    assert row.loc["510802101201", "guardian_unable"] == 1
    assert row.loc["510802101201", "out_of_school"] == 1


def _write_csv(tmp_path: Path, text: str, encoding: str = "utf-8") -> Path:
    p = tmp_path / "ledger.csv"
    p.write_bytes(text.encode(encoding))
    return p


def test_ages_bands_and_16_plus_excluded(tmp_path: Path) -> None:
    p = _write_csv(tmp_path, "name,id_number,village_code,age,guardian\n"
                   "a,510802201501011234,510802001001,0,grandparents\n"
                   "b,510802201501011235,510802001001,5岁,alone\n"
                   "c,510802201501011236,510802001001,6,\n"
                   "d,510802201501011237,510802001001,13,guardian unable to care\n"
                   "e,510802201501011238,510802001001,14,\n"
                   "f,510802201501011239,510802001001,15,\n"
                   "g,510802201501011230,510802001001,16,\n"
                   "h,510802201501011231,510802001002,17,\n")
    with pytest.warns(InputWarning, match="2 ledger row"):
        out = aggregate_ledger(p, as_of=AS_OF)
    r = out.set_index("village_code").loc["510802001001"]
    assert (r["children"], r["children_0_5"], r["children_6_13"], r["children_14_16"]) == (6, 2, 2, 2)
    assert (r["alone"], r["guardian_unable"]) == (1, 1)
    assert out.attrs["excluded_16_plus"] == 2
    assert "510802001002" not in out["village_code"].tolist()


@pytest.mark.parametrize("value,age", [
    ("2015-03-02", 9), ("2015/3/2", 9), ("2015.03.02", 9), ("20150302", 9), ("2015年3月2日", 9),
    ("2014-06-02", 9), ("2014-06-01", 10), ("2015-03", 9), ("2015年3月", 9), ("2015-03-02 00:00:00", 9),
    ("42065", 9),  # Excel serial of 2015-03-02
])
def test_birth_date_formats(tmp_path: Path, value: str, age: int) -> None:
    p = _write_csv(tmp_path, f"村代码,出生日期\n510802001001,{value}\n")
    out = aggregate_ledger(p, as_of=AS_OF)
    band = "children_0_5" if age <= 5 else "children_6_13"
    assert out[band].iloc[0] == 1 and out["children"].iloc[0] == 1
    assert ledger_mod._age_on(ledger_mod._parse_date(value), AS_OF) == age


def test_birth_date_after_as_of(tmp_path: Path) -> None:
    p = _write_csv(tmp_path, "村代码,出生日期\n510802001001,2030-01-01\n")
    with pytest.raises(InputError, match="after 2024-06-01") as e:
        aggregate_ledger(p, as_of=AS_OF)
    assert e.value.row == 2


def test_names_and_ids_never_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[pd.DataFrame] = []
    real = ledger_mod.read_table

    def spy(*a, **k):
        df = real(*a, **k)
        seen.append(df.copy())
        return df

    monkeypatch.setattr(ledger_mod, "read_table", spy)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        out = aggregate_ledger(GOOD / "ledger.csv", as_of=AS_OF)
    (df,) = seen
    assert set(df.columns) == {"村代码", "出生日期", "监护情况", "就学情况"}
    text = df.to_csv() + out.to_csv() + " ".join(str(x.message) for x in w)
    for s in SECRETS:
        assert s not in text


def test_xlsx_ledger_with_numeric_ids_and_dates(tmp_path: Path) -> None:
    p = tmp_path / "ledger.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["序号", "姓名", "公民身份号码", "村代码", "出生日期", "是否独居"])
    ws.append([1, "张小明", 510802201501011234, "510802001001", dt.datetime(2015, 3, 2), "是"])
    ws.append([2, "李小红", "51080220180301123X", 510802001001, dt.datetime(2019, 7, 1), "否"])
    wb.save(p)
    out = aggregate_ledger(p, as_of=AS_OF)
    assert out.to_dict("records") == [{
        "village_code": "510802001001", "children": 2, "children_0_5": 1, "children_6_13": 1,
        "children_14_16": 0, "alone": 1, "guardian_unable": 0, "out_of_school": 0, "boarding_pupils": 0,
    }]


def test_aligned_to_villages_and_apply() -> None:
    villages = load_villages(GOOD / "villages_gbk.csv")
    led = aggregate_ledger(GOOD / "ledger.csv", villages=villages, as_of=AS_OF)
    assert led["village_code"].tolist() == villages["village_code"].tolist()
    assert led["children"].tolist() == [2, 0, 1]
    v2 = apply_ledger(villages, led)
    assert v2["children"].tolist() == [2, 0, 1]
    assert (v2["children_source"] == "ledger").all()
    assert v2["alone"].tolist() == [1, 0, 0]
    assert (v2[["children_0_5", "children_6_13", "children_14_16"]].sum(axis=1) == v2["children"]).all()
    assert villages["children"].tolist() == [12, 5, 20]  # input untouched
    assert "out_of_school" not in v2.columns
    assert apply_ledger(villages, led, schooling=True)["out_of_school"].tolist() == [0, 0, 1]


def test_bad_alone_value_not_echoed(tmp_path: Path) -> None:
    p = _write_csv(tmp_path, "姓名,村代码,年龄,是否独居\n张小明,510802001001,7,张小明\n")
    with pytest.raises(InputError) as e:
        aggregate_ledger(p, as_of=AS_OF)
    assert e.value.row == 2 and e.value.column == "alone" and "张小明" not in str(e.value)


def test_ledger_by_village_name(tmp_path: Path) -> None:
    villages = load_villages(GOOD / "villages_gbk.csv")
    p = _write_csv(tmp_path, "姓名,所在乡镇,所在村,年龄\n张小明,大石镇,小稻村,7\n李小红,东坝街道办事处,翠屏社区,3\n"
                   "王小刚,大石镇,小稻村村民委员会,12\n")
    out = aggregate_ledger(p, villages=villages, as_of=AS_OF).set_index("village_code")
    assert out.loc["510802101201", "children"] == 2 and out.loc["510802001001", "children_0_5"] == 1
    p2 = _write_csv(tmp_path, "姓名,所在村,年龄\n张小明,大槐村,7\n")
    with pytest.raises(InputError) as e:
        aggregate_ledger(p2, villages=villages, as_of=AS_OF)
    assert e.value.row == 2 and "大槐村" in str(e.value) and "张小明" not in str(e.value)
    with pytest.raises(InputError, match="needs the villages table"):
        aggregate_ledger(p2, as_of=AS_OF)


def test_unknown_code_hints_at_merger(tmp_path: Path) -> None:
    villages = load_villages(GOOD / "villages_gbk.csv")
    p = _write_csv(tmp_path, "村代码,年龄\n510802101299,7\n")
    with pytest.raises(InputError, match="2019–2021 village merger"):
        aggregate_ledger(p, villages=villages, as_of=AS_OF)


def test_village_name_not_echoed_unless_place_like(tmp_path: Path) -> None:
    villages = load_villages(GOOD / "villages_gbk.csv")
    p = _write_csv(tmp_path, "所在村,年龄\n张小明,7\n")
    with pytest.raises(InputError) as e:
        aggregate_ledger(p, villages=villages, as_of=AS_OF)
    assert "张小明" not in str(e.value) and "value not shown" in str(e.value)
