"""Statistical disclosure control for child counts, and a scan of written outputs.

Counts of left-behind children leave siteplan only per village or above. Two safeguards:

1. :func:`suppress_counts` / :func:`suppress_totals` -- *primary* suppression of small cells
   and *secondary* (complementary) suppression so that the published township, county and
   city totals cannot give a suppressed value back (threshold rule and complementary
   suppression, Hundepool et al., *Statistical Disclosure Control*, Wiley 2012, sections
   4.2 "sensitivity rules" and 4.3-4.4 "secondary cell suppression" / protection intervals).
2. :func:`assert_no_child_records` -- a last check over the files a run wrote: no child name,
   ID number or other ledger value may appear in any of them.

Display conventions (one place, used by every writer):

* ``0`` is shown as ``"0"``. An absence of children in a village says nothing about an
  individual child; most SDC practice treats zeros as non-sensitive (Hundepool et al. 2012,
  4.2). Zeros are never used as secondary suppressions either (they add no protection).
* ``1 .. threshold-1`` (primary) is shown as ``"<10"`` (for threshold 10).
* A cell hidden only to protect another cell (secondary) is shown as ``"x"``.
* A cell of ``threshold`` or more is shown as its number.

The secondary-suppression rule, applied group by group bottom-up along ``group_cols``
(villages within townships, townships within counties, counties within the city): whenever a
group's total is published exactly, an intruder who knows the total, the shown cells and the
bounds implied by the display (``"<10"`` means 1..9; ``"x"`` means at least ``threshold``)
must not be able to narrow any ``"<10"`` cell below the full range 1..threshold-1. Cells are
added as secondary suppressions (the smallest cell that makes the group safe; otherwise the
largest and try again). If even hiding every non-zero cell cannot protect a group, the group's
own total is hidden (``"x"``) and protected one level up. This is a group-by-group heuristic
(as in the hierarchical procedures of tau-ARGUS), not an optimal or LP-audited pattern; columns
that add up to another column (age bands summing to ``children``) are protected row by row
too when ``row_total`` is given (iterating rows and columns until the pattern settles).
"""

from __future__ import annotations

import html
import re
import sqlite3
import warnings
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from siteplan.errors import PrivacyError

#: Display value of a cell hidden only to protect another cell (secondary suppression).
SECONDARY_MARK = "x"

_SHOWN, _PRIMARY, _SECONDARY = 0, 1, 2


def small_cell_label(threshold: int = 10) -> str:
    """The display text of a primary-suppressed count, e.g. ``"<10"``."""
    return f"<{threshold}"


def _check_counts(values: pd.Series, col: str) -> np.ndarray:
    v = pd.to_numeric(values, errors="coerce")
    if v.isna().any():
        raise PrivacyError(f"count column '{col}' has missing or non-numeric values; cannot suppress")
    arr = v.to_numpy(dtype=float)
    if (arr < 0).any() or (arr != np.round(arr)).any():
        raise PrivacyError(f"count column '{col}' must hold whole numbers >= 0")
    return arr.astype(np.int64)


def _group_safe(value, status, lo, sens, t) -> bool:
    """Whether every sensitive suppressed cell keeps its protection interval.

    Bounds an intruder knows: primary cells [1, t-1]; secondary cells [t, inf);
    cells hidden because their own group was unsafe [lo, inf) with ``sens`` True.
    """
    sup = status != _SHOWN
    if not sup.any():
        return True
    hi = np.where(status == _PRIMARY, t - 1, np.inf)
    lo_b = np.where(status == _PRIMARY, 1, np.where(sens, lo, t)).astype(float)
    r = float(value[sup].sum())
    lo_sum = lo_b[sup].sum()
    for i in np.flatnonzero(sup & sens):
        others = sup.copy()
        others[i] = False
        others_hi = hi[others].sum() if others.any() else 0.0  # inf if any is unbounded
        f_lo = max(lo_b[i], r - others_hi)
        f_hi = min(hi[i], r - (lo_sum - lo_b[i]))
        if f_lo > lo_b[i] or f_hi < lo_b[i] + t - 2:
            return False
    return True


def _protect(value, status, lo, sens, t) -> tuple[np.ndarray, bool]:
    """Add secondary suppressions in one group; return (status, safe)."""
    status = status.copy()
    while not _group_safe(value, status, lo, sens, t):
        cand = np.flatnonzero((status == _SHOWN) & (value > 0))
        if cand.size == 0:
            return status, False
        order = cand[np.argsort(value[cand], kind="stable")]
        chosen = None
        for j in order:
            trial = status.copy()
            trial[j] = _SECONDARY
            if _group_safe(value, trial, lo, sens, t):
                chosen = j
                break
        status[chosen if chosen is not None else order[-1]] = _SECONDARY
    return status, True


def _pattern(
    df: pd.DataFrame, col: str, group_cols: Sequence[str], threshold: int,
    forced: np.ndarray | None = None,
) -> list[pd.DataFrame]:
    """Suppression pattern per level: [rows of df, totals per group_cols[0], ..., city].

    Each level is a DataFrame (index = unit) with ``value`` and ``status``.
    """
    t = int(threshold)
    if t < 1:
        raise PrivacyError("threshold must be >= 1")
    values = _check_counts(df[col], col)
    keys = [df[g].astype(str).to_numpy() for g in group_cols]
    parents: list[dict[str, str]] = []  # unit of group_cols[k] -> unit of group_cols[k+1]
    for k in range(len(group_cols) - 1):
        pair = pd.DataFrame({"a": keys[k], "b": keys[k + 1]})
        if (pair.groupby("a")["b"].nunique() > 1).any():
            raise PrivacyError(
                f"'{group_cols[k]}' units span several '{group_cols[k + 1]}' units; "
                "the grouping must be nested"
            )
        parents.append(pair.drop_duplicates("a").set_index("a")["b"].to_dict())

    cells = pd.DataFrame({"value": values, "hidden": False, "lo_known": 0.0})
    levels = []
    for k in range(len(group_cols) + 1):
        if k == 0:
            group = keys[0] if group_cols else np.zeros(len(cells), dtype=object)
        elif k < len(group_cols):
            group = np.array([parents[k - 1][u] for u in cells.index], dtype=object)
        else:
            group = np.zeros(len(cells), dtype=object)  # the city
        value = cells["value"].to_numpy()
        hid = cells["hidden"].to_numpy(dtype=bool)
        status = np.where((value > 0) & (value < t), _PRIMARY, _SHOWN)
        if k == 0 and forced is not None:  # hidden to protect a cell in the same row
            status = np.where(forced & (status == _SHOWN), _SECONDARY, status)
        sens = (status == _PRIMARY) | hid
        if k == 0 and forced is not None:
            # a cell hidden to protect its row's parts must not be recoverable from the group
            # total either, or the parts it protects are exposed again
            sens = sens | forced
        lo = np.where(hid, cells["lo_known"].to_numpy(), np.where(status == _PRIMARY, 1, t))
        status = np.where(hid, _SECONDARY, status)
        hidden_groups: dict = {}
        gser = pd.Series(group)
        for g, idx in gser.groupby(gser, sort=False).groups.items():
            ii = np.asarray(idx)
            total = int(value[ii].sum())
            if 0 < total < t:
                continue  # the total itself is shown as "<t": nothing exact to subtract from
            st, ok = _protect(value[ii], status[ii], lo[ii], sens[ii], t)
            status[ii] = st
            if not ok:
                if k == len(group_cols):
                    raise PrivacyError(
                        f"cannot protect small '{col}' counts against the published city "
                        "total; publish these counts at a coarser level"
                    )
                lo_b = np.where(st == _PRIMARY, 1, np.where(st == _SHOWN, value[ii], t))
                hidden_groups[g] = float(lo_b.sum())
        cells = cells.assign(status=status, group=group)
        levels.append(cells)
        if k < len(group_cols):
            tot = pd.Series(value).groupby(group, sort=False).sum()
            cells = pd.DataFrame({
                "value": tot.astype(np.int64),
                "hidden": [g in hidden_groups for g in tot.index],
                "lo_known": [hidden_groups.get(g, 0.0) for g in tot.index],
            }, index=tot.index.rename(None))
    return levels


def _joint_patterns(
    df: pd.DataFrame,
    count_cols: Sequence[str],
    group_cols: Sequence[str],
    threshold: int,
    row_total: str | None,
    row_parts: Sequence[str] | None = None,
) -> dict[str, list[pd.DataFrame]]:
    """Patterns of all columns; with ``row_total``, also protect each row's parts.

    Rows are protected like groups: where ``row_total`` is shown exactly, its parts
    (the other count columns, e.g. age bands summing to ``children``) must keep every
    ``"<10"`` part's full range; extra parts (or the row total) are hidden as needed, then the
    column patterns are recomputed, until nothing changes (the usual iterative heuristic for
    two-dimensional tables).
    """
    cols = list(dict.fromkeys(count_cols))
    if row_total is not None and row_total not in cols:
        cols.insert(0, row_total)
    t = int(threshold)
    forced = {c: np.zeros(len(df), dtype=bool) for c in cols}
    parts = [c for c in cols if c != row_total] if row_parts is None else list(row_parts)
    missing = [c for c in parts if c not in cols]
    if missing:
        raise PrivacyError(f"row_parts {missing} are not among the count columns")
    for _ in range(50):
        pats = {c: _pattern(df, c, group_cols, t, forced[c]) for c in cols}
        if row_total is None or not parts:
            return pats
        values = np.column_stack([_check_counts(df[c], c) for c in parts])
        totals = _check_counts(df[row_total], row_total)
        if (values.sum(axis=1) != totals).any():
            raise PrivacyError(f"columns {parts} do not add up to '{row_total}' in every row")
        st_tot = pats[row_total][0]["status"].to_numpy()
        status = np.column_stack([pats[c][0]["status"].to_numpy() for c in parts])
        changed = False
        for i in np.flatnonzero(st_tot == _SHOWN):
            v, st = values[i], status[i]
            if not (st != _SHOWN).any():
                continue
            # every hidden part is protected: a "<10" part keeps its full range 1..9, and an
            # "x" part (hidden to protect a cell elsewhere in its column) must not be the
            # total minus the shown parts, or the column's protection is undone
            sens = st != _SHOWN
            lo = np.where(st == _PRIMARY, 1, t).astype(float)
            new, ok = _protect(v, st, lo, sens, t)
            if not ok:
                forced[row_total][i] = True
                changed = True
                continue
            for j in np.flatnonzero((new == _SECONDARY) & (st != _SECONDARY)):
                forced[parts[j]][i] = True
                changed = True
        if not changed:
            return pats
    raise PrivacyError("suppression pattern did not settle; publish these counts at a coarser level")


def _display(value: np.ndarray, status: np.ndarray, threshold: int) -> list[str]:
    small = small_cell_label(threshold)
    return [
        SECONDARY_MARK if s == _SECONDARY else small if s == _PRIMARY else str(int(v))
        for v, s in zip(value, status, strict=True)
    ]


def suppress_counts(
    df: pd.DataFrame,
    count_cols: Sequence[str],
    group_cols: Sequence[str] = ("town_code", "county_code"),
    threshold: int = 10,
    row_total: str | None = None,
    row_parts: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Village (row) counts as display text with primary and secondary suppression.

    Parameters
    ----------
    df : DataFrame or GeoDataFrame
        One row per unit (village); any CRS, geometry is kept untouched.
    count_cols : sequence of str
        Columns of whole numbers >= 0 (children) to suppress; each column separately.
    group_cols : sequence of str
        Nested grouping from finest to coarsest whose totals are published, e.g.
        ``("town_code", "county_code")``; the grand (city) total is always assumed published.
    threshold : int
        Counts ``1 .. threshold-1`` are primary-suppressed (scenario ``outputs.small_cell``).
    row_total : str, optional
        A count column that is the sum of the other count columns in every row (e.g.
        ``"children"`` with the age bands ``children_0_5``, ``children_6_13``,
        ``children_14_16``). Rows are then protected too, so a small band cannot be
        recovered as the total minus the other bands. Default: columns are independent.
    row_parts : sequence of str, optional
        The count columns that add up to ``row_total`` (default: all other count columns).
        Use it when other counts are subsets, not parts (e.g. ``alone``).

    Returns
    -------
    DataFrame
        A copy of ``df`` in which each count column holds text (pandas string dtype):
        ``"0"``, the number, ``"<10"`` (primary) or ``"x"`` (secondary). Other columns and the
        index are unchanged. The pattern agrees with :func:`suppress_totals`.

    Raises
    ------
    PrivacyError
        A count is missing, negative or fractional; the grouping is not nested; the parts do
        not add up to ``row_total``; or no suppression pattern can protect the small cells.
    KeyError
        A named column is missing.
    """
    out = df.copy()
    pats = _joint_patterns(df, count_cols, group_cols, threshold, row_total, row_parts)
    for col in count_cols:
        lv = pats[col][0]
        out[col] = pd.array(_display(lv["value"].to_numpy(), lv["status"].to_numpy(), threshold),
                            dtype="string")
    return out


def suppress_totals(
    df: pd.DataFrame,
    count_cols: Sequence[str],
    group_cols: Sequence[str] = ("town_code", "county_code"),
    threshold: int = 10,
    row_total: str | None = None,
    row_parts: Sequence[str] | None = None,
) -> dict[str, pd.DataFrame]:
    """Published totals per level, with the same suppression pattern as :func:`suppress_counts`.

    Parameters
    ----------
    df, count_cols, group_cols, threshold, row_total, row_parts
        As for :func:`suppress_counts` (pass the same values to get the same pattern).

    Returns
    -------
    dict of str to DataFrame
        One table per entry of ``group_cols`` plus ``"total"`` (the city): index = the unit
        code (``str``), one text column per count column (``"<10"``, ``"x"`` or the number).

    Raises
    ------
    PrivacyError
        As for :func:`suppress_counts`.
    """
    tables: dict[str, dict[str, list[str]]] = {}
    index: dict[str, list] = {}
    pats = _joint_patterns(df, count_cols, group_cols, threshold, row_total, row_parts)
    for col in count_cols:
        levels = pats[col]
        for name, lv in zip(group_cols, levels[1:], strict=True):
            tables.setdefault(name, {})[col] = _display(
                lv["value"].to_numpy(), lv["status"].to_numpy(), threshold
            )
            index[name] = [str(i) for i in lv.index]
        grand = int(levels[0]["value"].sum())
        tables.setdefault("total", {})[col] = _display(
            np.array([grand]), np.array([_PRIMARY if 0 < grand < threshold else _SHOWN]), threshold
        )
        index["total"] = ["total"]
    return {
        name: pd.DataFrame({c: pd.array(v, dtype="string") for c, v in cols.items()},
                           index=pd.Index(index[name], name=name))
        for name, cols in tables.items()
    }


#: Child-count columns of the villages table, and the age bands that add up to ``children``.
VILLAGE_COUNT_COLUMNS = ("children", "children_0_5", "children_6_13", "children_14_16", "alone",
                         "guardian_unable")
AGE_BANDS = ("children_0_5", "children_6_13", "children_14_16")


def suppress_village_counts(
    villages: pd.DataFrame,
    threshold: int = 10,
    count_cols: Sequence[str] | None = None,
    group_cols: Sequence[str] = ("town_code", "county_code"),
) -> pd.DataFrame:
    """The one suppression pattern for a villages table, shared by every output.

    Every writer (CSV, GeoPackage, Shapefile, maps, atlas) must show the same pattern: if
    one output hid a cell that another showed, together they would give it back. This
    applies :func:`suppress_counts` to the count columns present (default
    :data:`VILLAGE_COUNT_COLUMNS`), with ``row_total="children"`` and the age bands as
    ``row_parts`` when all three bands are present (so a band cannot be recovered as
    ``children`` minus the other bands).

    Parameters
    ----------
    villages : DataFrame or GeoDataFrame
        Villages with ``town_code``, ``county_code`` and the count columns (any CRS).
    threshold : int
        Small-cell threshold (scenario ``outputs.small_cell``).
    count_cols : sequence of str, optional
        Count columns to suppress (default: those of :data:`VILLAGE_COUNT_COLUMNS` present).
    group_cols : sequence of str
        Published aggregation levels, finest first.

    Returns
    -------
    DataFrame
        A copy with the count columns as display text (see :func:`suppress_counts`).

    Raises
    ------
    PrivacyError
        As for :func:`suppress_counts`.
    """
    cols = [c for c in (count_cols or VILLAGE_COUNT_COLUMNS) if c in villages.columns]
    groups = [g for g in group_cols if g in villages.columns]
    bands = [b for b in AGE_BANDS if b in cols]
    joint = "children" in cols and len(bands) == len(AGE_BANDS)
    try:
        return suppress_counts(villages, cols, group_cols=groups, threshold=threshold,
                               row_total="children" if joint else None,
                               row_parts=bands if joint else None)
    except PrivacyError:
        pass
    # Publish at a coarser level: keep the per-village total alone if it can be protected,
    # withhold every other count column ("x" in every row), and say so.
    kept: list[str] = []
    out = villages.copy()
    if "children" in cols:
        try:
            out = suppress_counts(villages, ["children"], group_cols=groups, threshold=threshold)
            kept = ["children"]
        except PrivacyError:
            pass
    withheld = [c for c in cols if c not in kept]
    for c in withheld:
        out[c] = pd.array([SECONDARY_MARK] * len(out), dtype="string")
    warnings.warn(
        f"village counts of {', '.join(withheld)} cannot be protected against the published "
        f"totals and are withheld ('{SECONDARY_MARK}') in every row",
        stacklevel=2,
    )
    return out


# ---------------------------------------------------------------------------------------------
# scan of written outputs

#: Ledger columns that hold personal data (matched case-insensitively against column names).
_PERSONAL_COL = re.compile(
    r"(^|_)(name|names|姓名|名字|id|id_?no|id_?number|idcard|身份证|身份证号|证件|证件号|guardian|"
    r"监护人|phone|mobile|tel|电话|手机|address|住址|地址|birth|birthday|dob|出生|出生日期)($|_)",
    re.IGNORECASE,
)
#: Area columns that legitimately appear in outputs (never used as needles).
_AREA_COL = re.compile(r"^(village|town|township|county|city|province|乡镇|村|县)", re.IGNORECASE)
# an ID stands apart from ASCII letters, digits, "_" and a decimal point: digits inside a
# decimal number or an identifier (e.g. folium's hex element ids) are not one; CJK text
# around an ID does not hide it
_ID18 = re.compile(r"(?<![0-9A-Za-z_.])\d{17}[\dXx](?![0-9A-Za-z_]|\.\d)")
_ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
_ID_CHECK = "10X98765432"
_TEXT_EXT = {".html", ".htm", ".csv", ".tsv", ".md", ".txt", ".json", ".geojson", ".xml", ".toml",
             ".cpg", ".prj", ".svg", ".js", ".log", ".yaml", ".yml"}
_SQLITE_EXT = {".gpkg", ".sqlite", ".db"}
_ZIPXML_EXT = {".xlsx", ".xlsm", ".docx", ".pptx", ".ods", ".kmz"}
_BINARY_UNSCANNABLE = {".png", ".jpg", ".jpeg", ".pdf", ".shx", ".shp", ".qix", ".sbn", ".sbx"}


def is_valid_id_number(s: str) -> bool:
    """Whether ``s`` is an 18-character PRC resident ID number with a valid check digit.

    Uses the ISO 7064 MOD 11-2 check of GB 11643-1999.
    """
    if not re.fullmatch(r"\d{17}[\dXx]", s):
        return False
    total = sum(int(c) * w for c, w in zip(s[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == s[17].upper()


def _needles(ledger: pd.DataFrame | None, columns: Iterable[str] | None) -> list[tuple[str, str]]:
    """(value, where) pairs to look for; ``where`` never contains the value itself."""
    if ledger is None or len(ledger) == 0:
        return []
    if columns is None:
        columns = [c for c in ledger.columns
                   if _PERSONAL_COL.search(str(c)) and not _AREA_COL.match(str(c))]
    out: dict[str, str] = {}
    for c in columns:
        for row, v in enumerate(ledger[c].tolist(), start=2):
            if v is None or (isinstance(v, float) and np.isnan(v)):
                continue
            s = str(v).strip()
            if isinstance(v, float) and v.is_integer():
                s = str(int(v))
            if len(s) < 2 or (s.isdigit() and len(s) < 6):
                continue
            out.setdefault(s, f"ledger column '{c}', row {row}")
    # any 18-digit ID number anywhere in the ledger
    for c in ledger.columns:
        for row, v in enumerate(ledger[c].astype(str).tolist(), start=2):
            for m in _ID18.findall(v):
                out.setdefault(m, f"an ID number in ledger column '{c}', row {row}")
    return sorted(out.items(), key=lambda kv: -len(kv[0]))


def _unescape(text: str) -> str:
    text = html.unescape(text)
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text)


def _texts_of(path: Path) -> list[str] | None:
    """Searchable texts of one file, or None if the format cannot be scanned."""
    ext = path.suffix.lower()
    raw = path.read_bytes()
    if ext in _SQLITE_EXT:
        parts = []
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
            for tname in tables:
                for row in con.execute(f'SELECT * FROM "{tname}"'):
                    parts.extend(str(v) for v in row if isinstance(v, str))
        finally:
            con.close()
        return ["\n".join(parts), raw.decode("utf-8", "replace")]
    if ext in _ZIPXML_EXT:
        parts = []
        with zipfile.ZipFile(path) as z:
            for n in z.namelist():
                parts.append(_unescape(z.read(n).decode("utf-8", "replace")))
        return parts
    if ext == ".dbf":
        return [raw.decode("utf-8", "replace"), raw.decode("gb18030", "replace")]
    if ext in _TEXT_EXT:
        text = raw.decode("utf-8-sig", "replace")
        return [text, _unescape(text), raw.decode("gb18030", "replace")]
    if ext in _BINARY_UNSCANNABLE:
        return None
    # unknown: raw text in both encodings
    return [raw.decode("utf-8", "replace"), raw.decode("gb18030", "replace")]


def assert_no_child_records(
    paths: str | Path | Iterable[str | Path],
    ledger_df: pd.DataFrame | None = None,
    *,
    columns: Iterable[str] | None = None,
    check_id_pattern: bool = True,
) -> list[Path]:
    """Check that no child-level record from a ledger appears in any written file.

    Call this at the end of a run on the output folder (before it is moved into place).

    Parameters
    ----------
    paths : path or iterable of paths
        Files and/or folders (searched recursively).
    ledger_df : DataFrame, optional
        The raw child ledger as read (before aggregation). Values of its personal columns
        (names, ID numbers, guardians, phones, addresses, birth dates; or ``columns``) and any
        18-digit ID number in it are searched for.
    columns : iterable of str, optional
        Ledger columns to search for instead of the automatic choice. Area columns
        (village/town/county names and codes) are never needles by default since they appear
        in outputs legitimately.
    check_id_pattern : bool
        Also fail on any 18-character string with a valid PRC ID check digit (GB 11643), even
        if it is not in the ledger.

    Returns
    -------
    list of Path
        The files that were scanned (text, CSV, HTML, GeoPackage/SQLite via sqlite3, xlsx via
        its XML, dBase). PNG, PDF and shapefile geometry files are not scannable and skipped
        (they carry no attribute text written by siteplan).

    Raises
    ------
    PrivacyError
        A ledger value or an ID number was found; the message names the file and the ledger
        column/row, never the value itself.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            files.extend(sorted(q for q in p.rglob("*") if q.is_file()))
        elif p.is_file():
            files.append(p)
    needles = _needles(ledger_df, columns)
    hits: list[str] = []
    scanned: list[Path] = []
    for f in files:
        texts = _texts_of(f)
        if texts is None:
            continue
        scanned.append(f)
        for value, where in needles:
            if any(value in t for t in texts):
                hits.append(f"{where} appears in {f}")
        if check_id_pattern:
            # SQLite files: only the parsed text cells; raw page bytes glue adjacent fields
            # together (a village code followed by other digits can look like an ID number)
            id_texts = texts[:1] if f.suffix.lower() in _SQLITE_EXT else texts[:2]
            for t in id_texts:
                if any(is_valid_id_number(m) for m in _ID18.findall(t)):
                    hits.append(f"an 18-digit ID number appears in {f}")
                    break
    if hits:
        more = f" (and {len(hits) - 5} more)" if len(hits) > 5 else ""
        raise PrivacyError("child-level data in outputs: " + "; ".join(hits[:5]) + more)
    return scanned
