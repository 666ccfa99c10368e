"""Fuzzing the readers: whatever the bytes, only SiteplanError escapes (never a traceback)."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from siteplan.errors import SiteplanError
from siteplan.io import GUANGYUAN_BOUNDS, aggregate_ledger, load_facilities, load_villages

HEADER = "village_code,village_name,lon,lat,children,children_0_5,children_6_13,children_14_16"
GOOD_ROW = ["510802001001", "翠屏社区", "105.84", "32.44", "3", "1", "1", "1"]

cell = st.one_of(
    st.sampled_from(["", "-1", "1.5", "1e400", "nan", "inf", "5.10802001001e+11", "510802001001",
                     "105°50′", "abc", "，", '"', "0x10", "99999999999999999999", "-0", "+3", "3.0"]),
    st.text(max_size=6),
)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _call(fn, path: Path, **kw) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            fn(path, **kw)
        except SiteplanError:
            pass


@SETTINGS
@given(data=st.binary(max_size=300))
def test_random_bytes(tmp_path: Path, data: bytes) -> None:
    p = tmp_path / "v.csv"
    p.write_bytes(data)
    _call(load_villages, p, region_bounds=GUANGYUAN_BOUNDS)
    _call(aggregate_ledger, p)


@SETTINGS
@given(rows=st.lists(st.lists(cell, min_size=0, max_size=10), min_size=0, max_size=4),
       encoding=st.sampled_from(["utf-8", "gb18030", "utf-8-sig"]))
def test_random_cells(tmp_path: Path, rows: list[list[str]], encoding: str) -> None:
    lines = [HEADER, ",".join(GOOD_ROW)] + [",".join(r) for r in rows]
    text = "\n".join(lines) + "\n"
    p = tmp_path / "v.csv"
    try:
        p.write_bytes(text.encode(encoding))
    except UnicodeEncodeError:
        return
    _call(load_villages, p, region_bounds=GUANGYUAN_BOUNDS)
    _call(load_facilities, p)
    _call(aggregate_ledger, p)


@pytest.mark.parametrize("text", ["\n\n\n", ",,,\n,,,\n", "village_code\n", '"unterminated\n', "\x00\x00"])
def test_degenerate_files(tmp_path: Path, text: str) -> None:
    p = tmp_path / "v.csv"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(SiteplanError):
        load_villages(p)
