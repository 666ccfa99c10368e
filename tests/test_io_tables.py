"""read_table: encodings, codes as text, Excel, numeric conversion with row-precise errors."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from siteplan.errors import InputError, MultipleInputErrors
from siteplan.io import read_table, to_bool, to_float, to_int
from siteplan.io.tables import check_codes, decode_bytes, rename_aliases, require_columns

GOOD = Path(__file__).resolve().parent / "bad_inputs" / "good"
TEXT = "village_code,village_name,children\n510802001001,翠屏社区居民委员会,3\n510802101201,小稻村村民委员会,0\n"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_encodings_read_with_chinese_intact(tmp_path: Path, encoding: str) -> None:
    p = tmp_path / "v.csv"
    p.write_bytes(TEXT.encode(encoding))
    df = read_table(p)
    assert list(df.columns) == ["village_code", "village_name", "children"]
    assert df["village_name"].tolist() == ["翠屏社区居民委员会", "小稻村村民委员会"]
    assert df["village_code"].tolist() == ["510802001001", "510802101201"]


def test_gb18030_only_character(tmp_path: Path) -> None:
    # 𠀀 (U+20000) is in GB18030 but not GBK: a four-byte sequence.
    p = tmp_path / "v.csv"
    p.write_bytes("code,name\n1,𠀀村\n".encode("gb18030"))
    assert decode_bytes(p.read_bytes(), p)[1] == "gb18030"
    assert read_table(p)["name"].iloc[0] == "𠀀村"


def test_every_column_is_text_leading_zeros_and_long_numbers(tmp_path: Path) -> None:
    p = tmp_path / "f.csv"
    p.write_text("facility_id,id_number,capacity\n007,510802201501011234,\n0012,51080220180301123X,25\n", encoding="utf-8")
    df = read_table(p)
    assert df["facility_id"].tolist() == ["007", "0012"]
    assert df["id_number"].tolist() == ["510802201501011234", "51080220180301123X"]
    assert df["capacity"].tolist() == ["", "25"]
    assert all(pd.api.types.is_string_dtype(df[c]) for c in df.columns)


def test_tab_separated_and_fullwidth_headers(tmp_path: Path) -> None:
    p = tmp_path / "t.tsv"
    p.write_text("ｖｉｌｌａｇｅ_code\t children \n510802001001\t 3 \n", encoding="utf-8")
    df = read_table(p)
    assert list(df.columns) == ["village_code", "children"]
    assert df.iloc[0].tolist() == ["510802001001", "3"]


def test_undecodable_names_offset_and_row(tmp_path: Path) -> None:
    p = tmp_path / "bad.csv"
    p.write_bytes(b"a,b\n1,2\n3,\xff\xfe\n")
    with pytest.raises(InputError) as e:
        read_table(p)
    assert e.value.row == 3 and "offset 10" in str(e.value) and "bad.csv" in str(e.value)


def test_big5_read_as_gbk_is_not_silent_mojibake(tmp_path: Path) -> None:
    p = tmp_path / "big5.csv"
    p.write_bytes("村代碼,村名稱\n510802001001,翠屏社區居民委員會\n510802101201,小稻村村民委員會\n".encode("big5"))
    with pytest.raises(InputError, match="garbled"):
        read_table(p)  # private-use characters
    p.write_bytes("code,name\n510802001001,國家兒童之家\n510823001001,劍閣縣蒼溪縣\n".encode("big5"))
    with pytest.raises(InputError, match="rare or Japanese"):
        read_table(p)  # no error from the codec, but many characters outside GB2312


def test_shift_jis_is_rejected(tmp_path: Path) -> None:
    p = tmp_path / "sj.csv"
    p.write_bytes("村コード,名前\n510802001001,テスト村\n".encode("shift_jis"))
    with pytest.raises(InputError):
        read_table(p)


def test_excel_all_text(tmp_path: Path) -> None:
    p = tmp_path / "v.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["facility_id", "code", "capacity", "note"])
    ws.append(["007", 510802001001, 25, None])
    ws.append(["0012", "510802101201", 2.5, "x"])
    wb.save(p)
    df = read_table(p)
    assert df["facility_id"].tolist() == ["007", "0012"]
    assert df["code"].tolist() == ["510802001001", "510802101201"]
    assert df["note"].tolist() == ["", "x"]
    with pytest.raises(InputError) as e:
        to_int(df, "capacity", p, what="capacity")
    assert e.value.row == 3 and e.value.column == "capacity"


def test_good_xlsx_with_chinese_headers() -> None:
    df = read_table(GOOD / "villages_zh_headers.xlsx")
    assert df.columns[0] == "村代码" and df["村代码"].iloc[0] == "510802001001"


def test_float_code_in_id_column(tmp_path: Path) -> None:
    p = tmp_path / "v.csv"
    p.write_text("village_code,x\n510802001001,1\n5.10802001001E+11,2\n", encoding="utf-8")
    with pytest.raises(InputError) as e:
        read_table(p, id_columns=["village_code"])
    assert e.value.row == 3 and e.value.column == "village_code" and "float" in str(e.value)


def test_duplicate_header(tmp_path: Path) -> None:
    p = tmp_path / "v.csv"
    p.write_text("a,b,a\n1,2,3\n", encoding="utf-8")
    with pytest.raises(InputError, match="appears twice"):
        read_table(p)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="file not found"):
        read_table(tmp_path / "nope.csv")


def _df(values: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"n": pd.Series(values, dtype=str)})


def test_to_int_accepts_and_reports_all_rows() -> None:
    s = to_int(_df(["3", " 12 ", "1,234", "5.0", "+2"]), "n", "f.csv")
    assert s.tolist() == [3, 12, 1234, 5, 2] and s.dtype == "int64"
    with pytest.raises(MultipleInputErrors) as e:
        to_int(_df(["1", "-1", "x", "2.5", ""]), "n", "f.csv", what="children")
    rows = [err.row for err in e.value.errors]
    assert rows == [3, 4, 5, 6]
    assert "children must be >= 0" in str(e.value.errors[0])
    assert "not a number" in str(e.value.errors[1])
    assert "whole number" in str(e.value.errors[2])
    assert "missing children" in str(e.value.errors[3])
    assert to_int(_df(["", "4"]), "n", "f.csv", default=0).tolist() == [0, 4]


def test_to_float_and_bool() -> None:
    assert to_float(_df(["1.5", "-2", "1e3"]), "n", "f").tolist() == [1.5, -2.0, 1000.0]
    with pytest.raises(InputError, match="finite"):
        to_float(_df(["inf"]), "n", "f")
    assert to_bool(_df(["是", "否", "TRUE", "0", ""]), "n", "f").tolist() == [True, False, True, False, False]
    with pytest.raises(InputError) as e:
        to_bool(_df(["yes", "perhaps"]), "n", "f", row_offset=1)
    assert e.value.row == 2


def test_check_codes_and_aliases_and_required() -> None:
    df = pd.DataFrame({"村代码": pd.Series(["510802001001", "51080200100"], dtype=str), "经度": ["1", "2"]})
    df = rename_aliases(df, {"village_code": ["村代码"], "lon": ["经度", "x"]})
    assert list(df.columns) == ["village_code", "lon"]
    with pytest.raises(InputError) as e:
        check_codes(df, "village_code", 12, "v.csv")
    assert e.value.row == 3
    with pytest.raises(InputError, match="did you mean 'village_code'"):
        require_columns(df, ["village_cod"], "v.csv", "villages")


def test_title_rows_and_blank_rows_keep_row_numbers(tmp_path: Path) -> None:
    p = tmp_path / "t.csv"
    p.write_text("广元市留守儿童信息台账,,\n填报单位：利州区民政局,,\n村代码,年龄,备注\n510802001001,7,\n\n510802001002,x,\n",
                 encoding="gbk")
    df = read_table(p)
    assert list(df.columns) == ["村代码", "年龄", "备注"]
    assert (df.index + 2).tolist() == [4, 6]  # spreadsheet rows
    with pytest.raises(InputError) as e:
        to_int(df, "年龄", p)
    assert e.value.row == 6


def test_excel_title_row_blank_row_and_usecols(tmp_path: Path) -> None:
    p = tmp_path / "l.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["广元市留守儿童信息台账"])
    ws.append(["姓名", "身份证号", "村代码", "年龄"])
    ws.append(["张小明", "510802201501011234", "510802001001", 7])
    ws.append([])
    ws.append(["李小红", "51080220180301123X", "510802001002", "abc"])
    wb.save(p)
    df = read_table(p, usecols=lambda h: h in ("村代码", "年龄"))
    assert list(df.columns) == ["村代码", "年龄"]
    assert (df.index + 2).tolist() == [3, 5]
    assert "张小明" not in df.to_csv()
    with pytest.raises(InputError) as e:
        to_int(df, "年龄", p)
    assert e.value.row == 5


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_CJK = st.sampled_from(list("广元利州昭化朝天旺苍青川剑阁苍溪村社区居民委员会东坝嘉陵大石镇乡街道小稻"))


@settings(max_examples=40, deadline=None)
@given(
    codes=st.lists(st.from_regex(r"0{0,3}[0-9]{1,18}", fullmatch=True), min_size=1, max_size=5, unique=True),
    names=st.lists(st.text(_CJK, min_size=1, max_size=8), min_size=5, max_size=5),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "gbk", "gb18030"]),
)
def test_round_trip_codes_and_names(tmp_path_factory, codes, names, encoding) -> None:
    p = tmp_path_factory.mktemp("rt") / "t.csv"
    lines = ["code,name"] + [f"{c},{n}" for c, n in zip(codes, names, strict=False)]
    p.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    df = read_table(p)
    assert df["code"].tolist() == codes
    assert df["name"].tolist() == names[: len(codes)]


def test_short_gbk_that_is_valid_utf8_is_read_as_gbk(tmp_path: Path) -> None:
    p = tmp_path / "t.csv"
    p.write_bytes("code,name\n1,委\n".encode("gbk"))  # CE AF is also UTF-8 for "ί"
    assert read_table(p)["name"].tolist() == ["委"]


def test_utf8_with_symbols_stays_utf8(tmp_path: Path) -> None:
    p = tmp_path / "t.csv"
    p.write_text("code,name,note\n1,翠屏社区,坡度15°·寄宿√\n", encoding="utf-8")
    assert decode_bytes(p.read_bytes(), p)[1] == "utf-8"
    assert read_table(p)["note"].tolist() == ["坡度15°·寄宿√"]


def test_looks_floatified() -> None:
    from siteplan.io.tables import looks_floatified

    assert looks_floatified("5.10802001001e+11") and looks_floatified("510802001001.0")
    assert looks_floatified("510802201501011008")  # float(5.10802201501011e17) as an int
    assert not looks_floatified("510802201501011234")  # a real 18-digit number typed as text
    assert not looks_floatified("51080220180301123X") and not looks_floatified("510802001001")
