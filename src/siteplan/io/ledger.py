"""The ledger (信息台账) of individual left-behind children, aggregated per village.

County civil-affairs offices keep a ledger with one row per child. siteplan needs only
counts per village, so :func:`aggregate_ledger` reads *only* the columns it needs (pandas
``usecols``): names (姓名), ID numbers (身份证号) and every other column are never parsed into
a DataFrame, never logged and never echoed in an error message. Errors about a row name the
row and column only, never a cell value (except a validated 12-digit village code).

Expected columns (Chinese or English headers; matching ignores case, spaces, ``_``, ``-``
and brackets):

==================  ==========================================================  ========
column              accepted headers                                            required
==================  ==========================================================  ========
``village_code``    村代码, 村级代码, 村(社区)代码, 所在村代码, 村居代码,          yes [1]_
                    行政村代码, 统计用区划代码, 区划代码
``village_name``    所在村, 村名称, 村名, 村(社区), 村居                         [1]_
``town_name``       所在乡镇, 乡镇, 乡镇名称, 乡镇(街道)                         no
``age``             年龄, 周岁 (whole years; "7岁" accepted)                      one of
``birth_date``      出生日期, 出生年月, 出生年月日, 生日, dob, date_of_birth       these
                    (2015-03-02, 2015/3/2, 2015.03.02, 20150302, 2015年3月2日,
                    2015-03 / 2015年3月 (day 1), Excel dates and serial numbers)
``guardian``        监护情况, 监护类型, 监护人情况, 监护方式, guardianship          no
``alone``           是否独居, 独居 (是/否, yes/no, 1/0)                             no
``schooling``       就学情况, 就读情况, 上学情况, 在校情况, school_status          no
==================  ==========================================================  ========

.. [1] Without ``village_code``, a ``village_name`` column is matched to the villages table
   (``villages=`` must be given): names are compared without 村民委员会/社区居民委员会/村/社区,
   within the town when ``town_name`` is given, else they must be unique in the city.

Flags per child: ``alone`` when ``guardian`` contains 独居 / 无人监护 / alone or the
``alone`` column is yes; ``guardian_unable`` when ``guardian`` contains 无监护能力 /
监护能力不足 / 缺乏监护能力 / 无力监护 / 监护缺失 / 不能履行监护 / unable;
``out_of_school`` when ``schooling`` contains 辍学 / 失学 / 未入学 / 未就学 / out of school /
dropout; ``boarding_pupils`` when ``schooling`` contains 寄宿 / boarding.
"""

from __future__ import annotations

import datetime as dt
import re
import warnings
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from siteplan.errors import InputError, InputWarning
from siteplan.io.tables import MAX_ERRORS, raise_all, read_table, rename_aliases

__all__ = ["LEDGER_ALIASES", "LEDGER_COUNT_COLUMNS", "aggregate_ledger", "apply_ledger"]

#: Contract column → accepted ledger headers.
LEDGER_ALIASES: dict[str, list[str]] = {
    "village_code": ["村代码", "村级代码", "村(社区)代码", "所在村代码", "村居代码", "行政村代码",
                     "统计用区划代码", "区划代码", "村代码(12位)"],
    "village_name": ["所在村", "村名称", "村名", "村(社区)", "村(社区)名称", "村居", "所在村(社区)"],
    "town_name": ["所在乡镇", "乡镇", "乡镇名称", "乡镇(街道)", "所在乡镇(街道)"],
    "age": ["年龄", "周岁", "年龄(岁)", "age_years"],
    "birth_date": ["出生日期", "出生年月", "出生年月日", "生日", "dob", "date_of_birth", "birthdate"],
    "guardian": ["监护情况", "监护类型", "监护人情况", "监护方式", "guardianship"],
    "alone": ["是否独居", "独居", "living_alone"],
    "schooling": ["就学情况", "就读情况", "上学情况", "在校情况", "school_status"],
}

#: Columns of the aggregated table, in order (after ``village_code``).
LEDGER_COUNT_COLUMNS = [
    "children", "children_0_5", "children_6_13", "children_14_16",
    "alone", "guardian_unable", "out_of_school", "boarding_pupils",
]

_ALONE = ("独居", "无人监护", "alone")
_UNABLE = ("无监护能力", "监护能力不足", "缺乏监护能力", "无力监护", "监护缺失", "不能履行监护", "unable")
_OUT = ("辍学", "失学", "未入学", "未就学", "out of school", "out_of_school", "dropout", "dropped out")
_BOARD = ("寄宿", "boarding")
_YES = {"是", "yes", "y", "true", "1", "√", "t"}
_NO = {"否", "no", "n", "false", "0", "", "×", "f"}


def _canon(h: str) -> str | None:
    key = re.sub(r"[\s\-_()（）]", "", str(h)).lower()
    for canon, alts in LEDGER_ALIASES.items():
        for a in [canon, *alts]:
            if re.sub(r"[\s\-_()（）]", "", a).lower() == key:
                return canon
    return None


_DATE_PATTERNS = [
    re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
    re.compile(r"^(\d{4})[-/.年](\d{1,2})月?$"),
]


def _parse_date(s: str) -> dt.date | None:
    s = s.strip()
    for p in _DATE_PATTERNS:
        m = p.match(s)
        if m:
            y, mo = int(m.group(1)), int(m.group(2))
            d = int(m.group(3)) if m.lastindex and m.lastindex >= 3 else 1
            try:
                return dt.date(y, mo, d)
            except ValueError:
                return None
    if re.fullmatch(r"\d{5}(\.0+)?", s):  # Excel serial date
        n = int(float(s))
        if 10000 < n < 80000:
            return dt.date(1899, 12, 30) + dt.timedelta(days=n)
    return None


def _age_on(birth: dt.date, as_of: dt.date) -> int:
    return as_of.year - birth.year - ((as_of.month, as_of.day) < (birth.month, birth.day))


_SUFFIXES = ("村民委员会", "居民委员会", "社区居委会", "居委会", "委员会", "村委会")
_TOWN_SUFFIXES = ("人民政府", "办事处")


def _norm_village(name: str) -> str:
    n = re.sub(r"\s+", "", str(name))
    for suf in _SUFFIXES:
        if n.endswith(suf) and len(n) > len(suf):
            n = n[: -len(suf)]
            break
    if n.endswith("社区") and len(n) > 2:
        n = n[:-2]
    elif n.endswith("村") and len(n) > 1:
        n = n[:-1]
    return n


def _norm_town(name: str) -> str:
    n = re.sub(r"\s+", "", str(name))
    for suf in _TOWN_SUFFIXES:
        if n.endswith(suf) and len(n) > len(suf):
            n = n[: -len(suf)]
    for suf in ("街道", "镇", "乡"):
        if n.endswith(suf) and len(n) > len(suf):
            return n[: -len(suf)]
    return n


def _codes_from_names(df: pd.DataFrame, villages: pd.DataFrame, file: Path) -> pd.Series:
    """Village codes for a ledger that names villages instead of coding them.

    Names are compared without the suffixes 村民委员会/社区居民委员会/村/社区; with a town
    column the match is within the town, else it must be unique in the villages table.
    """
    v = pd.DataFrame({
        "code": villages["village_code"].astype(str).to_numpy(),
        "v": [_norm_village(n) for n in villages["village_name"]],
        "t": [_norm_town(n) for n in villages["town_name"]] if "town_name" in villages else "",
    })
    by_name = v.groupby("v")["code"].agg(list).to_dict()
    by_town = v.groupby(["t", "v"])["code"].agg(list).to_dict()
    out, errs = [], []
    use_town = "town_name" in df.columns
    for i in df.index:
        row = int(i) + 2
        vn = _norm_village(df.at[i, "village_name"])
        cands = by_town.get((_norm_town(df.at[i, "town_name"]), vn), []) if use_town else by_name.get(vn, [])
        if len(cands) == 1:
            out.append(cands[0])
            continue
        out.append("")
        raw = str(df.at[i, "village_name"])
        # echo only what looks like a place name (never a child's name in a misheaded column)
        shown = raw[:20] if re.search(r"(村|社区|委员会|居委会|组)$", raw) else "(value not shown)"
        if not cands:
            errs.append(InputError(f"village {shown!r} is not in the villages table", file=file,
                                   row=row, column="village_name",
                                   hint="add a village_code (村代码) column"))
        else:
            errs.append(InputError(
                f"village name {shown!r} matches {len(cands)} villages ({', '.join(cands[:3])})",
                file=file, row=row, column="village_name",
                hint="add a town column (所在乡镇) or a village_code (村代码) column"))
        if len(errs) >= MAX_ERRORS:
            break
    raise_all(errs)
    return pd.Series(out, index=df.index, dtype=str)


def _has(value: str, terms: Iterable[str]) -> bool:
    v = value.lower()
    return any(t in v for t in terms)


def aggregate_ledger(
    path: str | Path,
    villages: pd.DataFrame | None = None,
    *,
    as_of: dt.date | None = None,
) -> pd.DataFrame:
    """Count the children of a ledger per village, dropping names and ID numbers at read.

    Parameters
    ----------
    path : str or Path
        CSV (UTF-8/GBK) or ``.xlsx`` ledger, one row per child; columns in the module
        docstring. Only those columns are read (``usecols``).
    villages : pandas.DataFrame, optional
        The villages table (``village_code`` column). When given, every ledger village code
        must be in it, and the result has one row per village of it (zeros where the ledger
        has no child).
    as_of : datetime.date, optional
        Date at which ages are computed from birth dates; default today. Pass a fixed date
        for reproducible runs.

    Returns
    -------
    pandas.DataFrame
        One row per ``village_code`` (sorted, or in ``villages`` order), columns
        ``village_code`` (str) and int64 counts ``children``, ``children_0_5``,
        ``children_6_13``, ``children_14_16`` (ages 14 and 15: under 16), ``alone``,
        ``guardian_unable``, ``out_of_school``, ``boarding_pupils``. ``attrs["excluded_16_plus"]``
        holds the number of rows aged 16 or more.

    Warns
    -----
    InputWarning
        Children aged 16 or over were excluded (their count, never who).

    Raises
    ------
    InputError
        Empty ledger ("0 children read from FILE"), no village-code column or no age/birth
        date column (the closest header named), a village code that is not 12 digits, a
        village name that matches no village or several (without a code column), an age
        that is missing, not a whole number or negative, a birth date that cannot be read or
        is after ``as_of``, a yes/no cell that is neither, a village code not in ``villages``.
        No message contains a cell value from the ledger other than a valid village code or
        a village name.
    """
    path = Path(path)
    as_of = as_of or dt.date.today()
    df = read_table(path, usecols=lambda h: _canon(h) is not None)
    df = rename_aliases(df, LEDGER_ALIASES)
    if len(df) == 0:
        raise InputError(f"0 children read from {path}", file=path)
    if "village_code" not in df.columns:
        if "village_name" in df.columns and villages is not None:
            df["village_code"] = _codes_from_names(df, villages, path)
        else:
            raise InputError(
                "the ledger has no village-code column"
                + (" (a village-name column needs the villages table to match against)"
                   if "village_name" in df.columns else ""),
                file=path, row=1, column="village_code",
                hint="accepted headers: village_code, " + ", ".join(LEDGER_ALIASES["village_code"]),
            )
    if "age" not in df.columns and "birth_date" not in df.columns:
        raise InputError(
            "the ledger has neither an age nor a birth-date column",
            file=path, row=1, column="age",
            hint="accepted headers: age, 年龄, birth_date, 出生日期, 出生年月",
        )
    errs: list[InputError] = []
    code_ok = df["village_code"].str.fullmatch(r"\d{12}")
    for i in df.index[~code_ok][:MAX_ERRORS]:
        n = len(df.at[i, "village_code"])
        errs.append(InputError(
            f"village code is not 12 digits ({n} characters; value not shown)",
            file=path, row=int(i) + 2, column="village_code",
        ))
    raise_all(errs)
    ages = []
    for i in df.index:
        row = int(i) + 2
        b = df.at[i, "birth_date"] if "birth_date" in df.columns else ""
        a = df.at[i, "age"] if "age" in df.columns else ""
        if b:
            d = _parse_date(b)
            if d is None:
                errs.append(InputError("birth date cannot be read (value not shown)", file=path,
                                       row=row, column="birth_date",
                                       hint="use YYYY-MM-DD, e.g. 2015-03-02"))
                ages.append(-1)
            elif d > as_of:
                errs.append(InputError(f"birth date is after {as_of.isoformat()}", file=path,
                                       row=row, column="birth_date"))
                ages.append(-1)
            else:
                ages.append(_age_on(d, as_of))
        elif a:
            s = a.replace("岁", "").replace("周", "").strip()
            if re.fullmatch(r"\d+(\.0+)?", s) and int(float(s)) <= 120:
                ages.append(int(float(s)))
            else:
                why = "negative" if s.startswith("-") else "not a whole number of years"
                errs.append(InputError(f"age is {why} (value not shown)", file=path, row=row,
                                       column="age"))
                ages.append(-1)
        else:
            col = "birth_date" if "birth_date" in df.columns else "age"
            errs.append(InputError("missing age and birth date", file=path, row=row, column=col))
            ages.append(-1)
        if len(errs) >= MAX_ERRORS:
            break
    raise_all(errs)
    age = pd.Series(ages, index=df.index, dtype="int64")
    alone = pd.Series(False, index=df.index)
    unable = pd.Series(False, index=df.index)
    if "guardian" in df.columns:
        alone |= df["guardian"].map(lambda v: _has(v, _ALONE)).astype(bool)
        unable |= df["guardian"].map(lambda v: _has(v, _UNABLE)).astype(bool)
    if "alone" in df.columns:
        for i, v in df["alone"].items():
            k = v.strip().lower()
            if k in _YES:
                alone.at[i] = True
            elif k not in _NO:
                errs.append(InputError("not yes/no (use 是/否; value not shown)", file=path,
                                       row=int(i) + 2, column="alone"))
        raise_all(errs[:MAX_ERRORS])
    out_school = pd.Series(False, index=df.index)
    boarding = pd.Series(False, index=df.index)
    if "schooling" in df.columns:
        out_school = df["schooling"].map(lambda v: _has(v, _OUT)).astype(bool)
        boarding = df["schooling"].map(lambda v: _has(v, _BOARD)).astype(bool)
    keep = age < 16
    n_old = int((~keep).sum())
    if n_old:
        warnings.warn(
            f"{path}: {n_old} ledger row(s) aged 16 or over were excluded (left-behind children "
            "are counted under 16)",
            InputWarning,
            stacklevel=2,
        )
    rows = pd.DataFrame({
        "village_code": df["village_code"].astype(str),
        "children": 1,
        "children_0_5": (age <= 5).astype("int64"),
        "children_6_13": ((age >= 6) & (age <= 13)).astype("int64"),
        "children_14_16": ((age >= 14) & (age <= 15)).astype("int64"),
        "alone": alone.astype("int64"),
        "guardian_unable": unable.astype("int64"),
        "out_of_school": out_school.astype("int64"),
        "boarding_pupils": boarding.astype("int64"),
    }).loc[keep]
    del df
    agg = rows.groupby("village_code", sort=True)[LEDGER_COUNT_COLUMNS].sum()
    if villages is not None:
        known = set(villages["village_code"].astype(str))
        first_row = rows.reset_index().groupby("village_code")["index"].min()
        unknown = [c for c in agg.index if c not in known]
        raise_all([
            InputError(f"village code '{c}' is not in the villages table", file=path,
                       row=int(first_row[c]) + 2, column="village_code",
                       hint="ledgers from before Sichuan's 2019–2021 village merger use old codes: "
                            "map them to the current (NBS 2023) codes")
            for c in unknown[:MAX_ERRORS]
        ])
        agg = agg.reindex(villages["village_code"].astype(str), fill_value=0)
    out = agg.reset_index().rename(columns={"index": "village_code"})
    out["village_code"] = out["village_code"].astype(str)
    for c in LEDGER_COUNT_COLUMNS:
        out[c] = out[c].astype("int64")
    out.attrs["excluded_16_plus"] = n_old
    return out


def apply_ledger(villages: pd.DataFrame, ledger: pd.DataFrame, *, schooling: bool = False) -> pd.DataFrame:
    """Replace the villages' child counts by those of an aggregated ledger.

    Parameters
    ----------
    villages : pandas.DataFrame or geopandas.GeoDataFrame
        Villages contract table.
    ledger : pandas.DataFrame
        Output of :func:`aggregate_ledger`.
    schooling : bool
        Also add ``out_of_school`` and ``boarding_pupils`` (not contract columns; outputs do
        not suppress them, so they are left out by default).

    Returns
    -------
    same type as ``villages``
        A copy with ``children``, the three age bands, ``alone`` and ``guardian_unable`` from
        the ledger (0 for villages it does not list) and ``children_source = "ledger"``.
    """
    out = villages.copy()
    counts = ledger.set_index("village_code")
    codes = out["village_code"].astype(str)
    cols = LEDGER_COUNT_COLUMNS if schooling else LEDGER_COUNT_COLUMNS[:6]
    for c in cols:
        out[c] = codes.map(counts[c]).fillna(0).astype("int64").to_numpy()
    out["children_source"] = "ledger"
    return out
