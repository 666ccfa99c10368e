"""Reading tables from county offices: CSV in UTF-8/UTF-8-BOM/GBK/GB18030, and Excel.

Every cell is read as text, so a code with a leading zero or an 18-digit number never becomes
a float; numeric columns are converted afterwards with :func:`to_int`, :func:`to_float` and
:func:`to_bool`, whose errors name the row (spreadsheet style: header = row 1) and column.

Encodings are tried strictly in this order: UTF-8 (with or without BOM), then GB18030 (a
superset of GBK and GB2312). A file that decodes as neither, or that mixes UTF-8 and GBK
lines, is rejected with the byte offset and row of the first bad byte, never decoded into
mojibake.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from siteplan.errors import InputError, MultipleInputErrors

__all__ = [
    "CODE_LENGTHS",
    "TABLE_SUFFIXES",
    "check_codes",
    "decode_bytes",
    "looks_floatified",
    "raise_all",
    "read_table",
    "rename_aliases",
    "require_columns",
    "to_bool",
    "to_float",
    "to_int",
]

#: File name endings read as tables (others are read as GIS layers).
TABLE_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".xls")

#: Digits of Chinese statistical area codes (统计用区划代码) by column.
CODE_LENGTHS = {"county_code": 6, "town_code": 9, "village_code": 12}

#: At most this many row errors are collected before raising.
MAX_ERRORS = 20

_FLOATY = re.compile(r"^[+-]?\d+(\.\d*)?[eE][+-]?\d+$|^\d+\.0+$")


def raise_all(errors: Sequence[InputError]) -> None:
    """Raise the collected errors: nothing, the single error, or :class:`MultipleInputErrors`.

    Parameters
    ----------
    errors : sequence of InputError
        Problems in file order.

    Raises
    ------
    InputError
        The only problem, or ``MultipleInputErrors`` listing all of them.
    """
    if not errors:
        return
    if len(errors) == 1:
        raise errors[0]
    raise MultipleInputErrors(errors)


def _row_of_offset(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def decode_bytes(data: bytes, file: str | Path) -> tuple[str, str]:
    """Decode a text file strictly as UTF-8 (BOM optional) or else GB18030.

    Parameters
    ----------
    data : bytes
        The file's content.
    file : str or Path
        Named in errors.

    Returns
    -------
    (str, str)
        The text (BOM removed) and the encoding used (``"utf-8"`` or ``"gb18030"``).

    Notes
    -----
    Short GBK text can be valid UTF-8 by chance (委 = ``CE AF`` = "ί"); when the UTF-8
    reading holds Greek/Cyrillic/Latin letters and the GB18030 reading is clean simplified
    Chinese, GB18030 is used.

    Raises
    ------
    InputError
        The bytes are neither valid UTF-8 nor valid GB18030, the file mixes UTF-8 and GBK
        lines, or the decoded text holds control characters (binary data); the message gives
        the byte offset and the row (line number) of the first bad byte.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        u_off = e.start
    else:
        if _odd_chars(text):
            # Short GBK text can be valid UTF-8 by chance ("委" = CE AF = "ί"): prefer GBK
            # when the UTF-8 reading has Greek/Cyrillic/Latin letters and GBK gives clean
            # simplified Chinese.
            try:
                gb = data.decode("gb18030")
            except UnicodeDecodeError:
                gb = None
            if gb is not None and _plain_chinese(gb):
                return gb, "gb18030"
        _check_text(text, data, file, "utf-8")
        return text, "utf-8"
    line_start = data.rfind(b"\n", 0, u_off) + 1
    prefix = data[:line_start].decode("utf-8-sig", errors="replace")
    if _plain_chinese(prefix):
        # Earlier lines are real UTF-8 Chinese: a file pasted together from two encodings.
        # Decoding it all as GB18030 would garble the UTF-8 lines.
        raise InputError(
            f"the file mixes text encodings: it starts as UTF-8 but the byte at offset {u_off} "
            f"(row {_row_of_offset(data, u_off)}) is not UTF-8 (probably GBK)",
            file=file,
            row=_row_of_offset(data, u_off),
            hint="re-save the whole file in one encoding, preferably UTF-8",
        )
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError as e:
        g_off = e.start
        guess = _guess_encoding(data)
        raise InputError(
            f"cannot decode the file as UTF-8 (bad byte at offset {u_off}, row "
            f"{_row_of_offset(data, u_off)}) or as GBK/GB18030 (bad byte at offset {g_off}, row "
            f"{_row_of_offset(data, g_off)})" + (f"; it may be {guess}" if guess else ""),
            file=file,
            row=_row_of_offset(data, u_off),
            hint="save it as CSV UTF-8 (Excel: 另存为 → CSV UTF-8)",
        ) from None
    _check_text(text, data, file, "gb18030")
    _check_mojibake(text, file)
    return text, "gb18030"


#: Non-ASCII, non-CJK characters normal in Chinese tables (·°×—‘’“”…√℃ and no-break space).
_OK_PUNCT = set("\u00a0\u00b7\u00b0\u00d7\u2014\u2013\u2018\u2019\u201c\u201d\u2026\u221a\u2103\u00b2\u00b3\u2032\u2033")


def _odd_chars(text: str) -> bool:
    """Letters from Latin-1 to Hangul-compatibility blocks (Greek, Cyrillic, ...)."""
    return any(0x80 <= ord(c) < 0x3000 and c not in _OK_PUNCT for c in text)


def _plain_chinese(text: str) -> bool:
    """Has CJK text and nothing odd: no replacement/control/private-use characters, no
    rare or Japanese characters, no Greek/Cyrillic/Latin letters."""
    has_cjk = False
    for c in text:
        o = ord(c)
        if o < 0x80:
            continue
        if c == "\ufffd" or unicodedata.category(c) in ("Cc", "Co"):
            return False
        if o >= 0x3040 and _suspicious(c):
            return False
        if 0x80 <= o < 0x3000 and c not in _OK_PUNCT:
            return False
        if 0x4E00 <= o <= 0x9FFF:
            has_cjk = True
    return has_cjk


def _suspicious(ch: str) -> bool:
    """A character that GBK text of Chinese place data almost never holds."""
    o = ord(ch)
    if 0x3040 <= o <= 0x30FF or 0x3100 <= o <= 0x312F or 0xFF61 <= o <= 0xFF9F or 0xFE30 <= o <= 0xFE6F:
        return True  # kana, bopomofo, half-width katakana, CJK compatibility/small forms
    if 0x3400 <= o <= 0x9FFF or o > 0xFFFF:
        try:
            ch.encode("gb2312")
        except UnicodeEncodeError:
            return True
    return False


def _check_mojibake(text: str, file: str | Path) -> None:
    """Reject GB18030-decoded text that is really another encoding (Big5, Shift-JIS).

    Such bytes often decode without error into rare characters: real GBK place data has
    almost only GB2312 characters (3 of 25,040 in the NBS village list of 广元市 are not).
    """
    cjk = [c for c in text if ord(c) >= 0x3040]
    if len(cjk) < 4:
        return
    bad = [i for i, c in enumerate(text) if ord(c) >= 0x3040 and _suspicious(c)]
    if len(bad) >= max(2, 0.2 * len(cjk)):
        row = text.count("\n", 0, bad[0]) + 1
        raise InputError(
            f"the file is not UTF-8 and reading it as GBK gives garbled text ({len(bad)} of "
            f"{len(cjk)} characters are rare or Japanese; first on row {row}): it is probably "
            "Big5, Shift-JIS or another encoding",
            file=file,
            row=row,
            hint="save it as CSV UTF-8",
        )


def _guess_encoding(data: bytes) -> str | None:
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(data[:65536]).best()
    except Exception:  # pragma: no cover - the guess is only a hint
        return None
    return best.encoding if best is not None else None


_BAD_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ue000-\uf8ff\U000f0000-\U0010ffff]")


def _check_text(text: str, data: bytes, file: str | Path, encoding: str) -> None:
    m = _BAD_CHARS.search(text)
    if m is None:
        return
    i, ch = m.start(), m.group()
    raise InputError(
        f"decoding as {encoding} gives a control or private-use character "
        f"(U+{ord(ch):04X}) at character {i}: the text would be garbled; the file is "
        "binary or in another encoding (Big5, Shift-JIS, ...)",
        file=file,
        row=text.count("\n", 0, i) + 1,
        hint="save it as CSV UTF-8",
    )


def _sniff_sep(lines: list[str]) -> str:
    best, best_n = ",", 0
    for sep in (",", "\t", ";", "|"):
        n = max((ln.count(sep) for ln in lines), default=0)
        if n > best_n:
            best, best_n = sep, n
    return best


#: Rows scanned for the header (title rows such as "广元市留守儿童信息台账" are skipped).
HEADER_SCAN_ROWS = 10


def _locate_header(rows: list[list[str]]) -> int:
    """Position of the header among the first rows: the first row with at least two
    non-empty cells and at least half as many as the widest of them (a merged title row has
    one)."""
    counts = [sum(1 for c in r if str(c).strip() not in ("", "nan", "None")) for r in rows]
    if not counts:
        return 0
    need = max(2, (max(counts) + 1) // 2)
    for i, n in enumerate(counts):
        if n >= need:
            return i
    return 0


def _clean_header(name: object) -> str:
    s = unicodedata.normalize("NFKC", str(name)).strip().strip("\ufeff").strip()
    return s


def read_table(
    path: str | Path,
    *,
    id_columns: Iterable[str] = (),
    text_columns: Iterable[str] = (),
    usecols: Callable[[str], bool] | None = None,
    sheet_name: str | int = 0,
) -> pd.DataFrame:
    """Read a CSV or Excel table with every cell as text.

    Parameters
    ----------
    path : str or Path
        A ``.csv``/``.txt``/``.tsv`` file (UTF-8, UTF-8 with BOM, GBK or GB18030; separator
        comma, tab, semicolon or ``|`` sniffed from the header) or an ``.xlsx``/``.xlsm``
        workbook (first sheet unless ``sheet_name``).
    id_columns : iterable of str
        Code/ID columns (after header clean-up): checked not to look like a number Excel
        turned into a float (``5.10802001001e+11``, ``510802001001.0``).
    text_columns : iterable of str
        Further columns that must stay text; all columns are text anyway, listed for
        documentation and kept for symmetry with the loaders.
    usecols : callable, optional
        Called with each cleaned header; only columns for which it returns True are kept.
        Used by the ledger reader so that names and ID numbers are never parsed.
    sheet_name : str or int
        Excel sheet.

    Returns
    -------
    pandas.DataFrame
        ``(n_rows, n_columns)``, every column of dtype ``str``; empty cells are ``""``;
        headers NFKC-normalised and stripped (full-width characters become ASCII), cell
        values stripped; columns with an empty header and completely empty rows dropped.
        The index is the record's position such that ``index + 2`` is its spreadsheet row
        (title rows above the header, e.g. a merged "广元市留守儿童信息台账" row, are skipped
        and counted; blank rows are skipped and counted).

    Raises
    ------
    InputError
        File missing or unreadable, bad encoding (byte offset and row named), malformed CSV
        (row named), not a valid workbook, duplicate header names, or a float-ified code in an
        ``id_columns`` column (row and column named).
    """
    path = Path(path)
    if not path.exists():
        raise InputError("file not found", file=path)
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        df = _read_excel(path, usecols, sheet_name)
    elif suffix == ".xls":
        raise InputError(
            "old Excel .xls workbooks are not read", file=path, hint="save it as .xlsx or CSV UTF-8"
        )
    else:
        df = _read_csv(path, usecols)
    del text_columns  # every column is text
    errors = []
    for col in id_columns:
        if col in df.columns:
            errors += _floaty_codes(df[col], path, col)
    raise_all(errors)
    return df


def _dedupe_check(cols: list[str], file: Path, row: int = 1) -> None:
    seen: dict[str, int] = {}
    for i, c in enumerate(cols):
        if c and c in seen:
            raise InputError(
                f"column name '{c}' appears twice (columns {seen[c] + 1} and {i + 1})", file=file, row=row
            )
        seen[c] = i


def _read_csv(path: Path, usecols: Callable[[str], bool] | None) -> pd.DataFrame:
    data = path.read_bytes()
    text, _enc = decode_bytes(data, path)
    del data
    if not text.strip():
        return pd.DataFrame()
    sep = _sniff_sep(text.split("\n", HEADER_SCAN_ROWS)[:HEADER_SCAN_ROWS])
    reader = csv.reader(io.StringIO(text), delimiter=sep)
    del text
    records: list[list[str]] = []
    errs: list[InputError] = []
    try:
        first = []
        for rec in reader:
            first.append(rec)
            if len(first) >= HEADER_SCAN_ROWS:
                break
        k = _locate_header(first)
        cleaned = [_clean_header(h) for h in first[k]]
        _dedupe_check(cleaned, path, k + 1)
        keep = [i for i, h in enumerate(cleaned) if h and (usecols is None or usecols(h))]
        n = len(cleaned)

        def take(rec: list[str], j: int) -> None:
            if len(rec) > n and any(x.strip() for x in rec[n:]):
                if len(errs) < MAX_ERRORS:
                    errs.append(InputError(
                        f"the row has {len(rec)} fields but the header has {n} (a separator "
                        f"'{sep}' inside a value that is not quoted?)",
                        file=path, row=k + j + 2,
                    ))
            records.append([rec[i] if i < len(rec) else "" for i in keep])

        j = 0
        for rec in first[k + 1:]:
            take(rec, j)
            j += 1
        del first
        for rec in reader:
            take(rec, j)
            j += 1
    except csv.Error as e:
        raise InputError(f"malformed CSV: {e}", file=path, row=reader.line_num or None) from None
    raise_all(errs)
    df = pd.DataFrame(records, columns=[cleaned[i] for i in keep], dtype=str)
    # index + 2 = the spreadsheet row (header on row k + 1; blank rows counted)
    df.index = pd.RangeIndex(k, k + len(df))
    return _strip(df)


def _read_excel(path: Path, usecols: Callable[[str], bool] | None, sheet_name: str | int) -> pd.DataFrame:
    opts = dict(sheet_name=sheet_name, dtype=str, keep_default_na=False, na_filter=False, engine="openpyxl")
    try:
        head = pd.read_excel(path, header=None, nrows=HEADER_SCAN_ROWS, **opts)
        k = _locate_header(head.astype(str).to_numpy().tolist())
        cleaned = [_clean_header(c) for c in head.iloc[k]] if len(head) else []
        del head
        _dedupe_check([c for c in cleaned if c], path, k + 1)
        keep = [i for i, h in enumerate(cleaned) if h and (usecols is None or usecols(h))]
        if not keep:
            return pd.DataFrame(columns=[])
        df = pd.read_excel(path, header=None, skiprows=k + 1, usecols=keep, **opts)
    except InputError:
        raise
    except Exception as e:  # openpyxl/zipfile raise many types for a broken workbook
        raise InputError(
            f"not a readable .xlsx workbook ({type(e).__name__}: {e})",
            file=path,
            hint="open it in Excel/WPS and save it again as .xlsx, or as CSV UTF-8",
        ) from None
    df.columns = [cleaned[i] for i in keep]
    df.index = pd.RangeIndex(k, k + len(df))
    return _strip(df.astype(str))


def _strip(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for c in out.columns:
        out[c] = out[c].astype(str).str.strip().replace({"nan": "", "None": "", "NaT": ""})
    # drop rows that are completely empty, keeping the row numbers of the others
    if len(out.columns):
        empty = (out == "").all(axis=1)
        out = out.loc[~empty]
    return out


def _excel_float_digits(v: str) -> bool:
    """A 16+ digit number that went through a float: Excel keeps 15 significant digits, so
    the rest are zeros or binary noise (510802201501011234 → 510802201501011008)."""
    if len(v) < 16 or not v.isdigit():
        return False
    f = float(v)
    mantissa = repr(f).split("e")[0].replace(".", "").lstrip("0").rstrip("0")
    return int(f) == int(v) and len(mantissa) <= 15


def looks_floatified(v: str) -> bool:
    """Whether a code cell looks like a number a spreadsheet turned into a float.

    ``5.10802001001e+11``, ``510802001001.0`` and 16+ digit numbers with at most 15
    significant digits (Excel's precision) are; text codes are not.

    Parameters
    ----------
    v : str
        A stripped cell value.

    Returns
    -------
    bool
    """
    return bool(_FLOATY.match(v)) or _excel_float_digits(v)


def _floaty_codes(s: pd.Series, file: Path | str, col: str, row_offset: int = 2) -> list[InputError]:
    errs = []
    for i, v in s.items():
        if looks_floatified(v):
            errs.append(
                InputError(
                    f"code '{v}' looks like a number converted to a float by a spreadsheet "
                    "(digits may be lost)",
                    file=file,
                    row=int(i) + row_offset,
                    column=col,
                    hint="format the column as Text (文本) before typing or pasting codes",
                )
            )
            if len(errs) >= MAX_ERRORS:
                break
    return errs


def check_codes(
    df: pd.DataFrame,
    column: str,
    digits: int,
    file: str | Path,
    *,
    allow_empty: bool = False,
    row_offset: int = 2,
) -> None:
    """Check that a code column holds exactly ``digits`` digits on every row.

    Parameters
    ----------
    df : pandas.DataFrame
        Table read by :func:`read_table` (index 0..n-1).
    column : str
        Code column, e.g. ``"village_code"``.
    digits : int
        Required number of digits (6 county, 9 township, 12 village).
    file : str or Path
        Named in errors.
    allow_empty : bool
        Whether ``""`` is allowed.
    row_offset : int
        Row number of index 0: 2 for tables (header = row 1), 1 for GIS features.

    Raises
    ------
    InputError
        Naming the row and column of each bad code (float-ified codes get their own message).
    """
    errs = []
    pat = re.compile(rf"^\d{{{digits}}}$")
    for i, v in df[column].items():
        if v == "" and allow_empty:
            continue
        if pat.match(v):
            continue
        if looks_floatified(v):
            errs += _floaty_codes(pd.Series([v], index=[i]), file, column, row_offset)
        else:
            errs.append(
                InputError(
                    f"'{v}' is not a {digits}-digit code" if v else f"empty {column}",
                    file=file,
                    row=int(i) + row_offset,
                    column=column,
                )
            )
        if len(errs) >= MAX_ERRORS:
            break
    raise_all(errs)


def rename_aliases(df: pd.DataFrame, aliases: Mapping[str, Iterable[str]]) -> pd.DataFrame:
    """Rename known alternative headers (Chinese or English) to the contract names.

    Parameters
    ----------
    df : pandas.DataFrame
        Any table.
    aliases : mapping of str to iterable of str
        Contract name → accepted alternative headers (matched case-insensitively, ignoring
        spaces, ``-`` and ``_``).

    Returns
    -------
    pandas.DataFrame
        A copy with columns renamed; a contract column already present is never overwritten.
    """
    def key(s: str) -> str:
        return re.sub(r"[\s\-_()（）]", "", str(s)).lower()

    lookup = {}
    for canon, alts in aliases.items():
        for a in [canon, *alts]:
            lookup.setdefault(key(a), canon)
    rename = {}
    present = set(df.columns)
    for c in df.columns:
        canon = lookup.get(key(c))
        if canon and canon != c and canon not in present and canon not in rename.values():
            rename[c] = canon
    return df.rename(columns=rename)


def require_columns(df: pd.DataFrame, required: Iterable[str], file: str | Path, what: str) -> None:
    """Check that required columns exist.

    Parameters
    ----------
    df : pandas.DataFrame
        Table after :func:`rename_aliases`.
    required : iterable of str
        Contract column names.
    file : str or Path
        Named in the error.
    what : str
        Table name for the message ("villages").

    Raises
    ------
    InputError
        Naming the first missing column and the closest existing column.
    """
    cols = [str(c) for c in df.columns]
    for col in required:
        if col not in cols:
            close = difflib.get_close_matches(col, cols, n=1, cutoff=0.6)
            hint = f"did you mean '{close[0]}'?" if close else "columns present: " + ", ".join(cols[:20])
            raise InputError(
                f"required column '{col}' is missing from the {what} table",
                file=file,
                row=1,
                column=col,
                hint=hint,
            )


_INT = re.compile(r"^[+-]?\d+(\.0*)?$")
_THOUSANDS = re.compile(r"^\d{1,3}(,\d{3})+$")


def _convert(
    df: pd.DataFrame,
    column: str,
    file: str | Path,
    parse: Callable[[str, str], tuple[Any, str | None]],
    *,
    default: Any,
    blank: Any,
    what: str,
    row_offset: int,
    dtype: str,
) -> pd.Series:
    """Convert a text column cell by cell for :func:`to_int` and :func:`to_float`.

    ``parse(v, s)`` gets the cell and the cell without spaces (never empty) and returns
    ``(value, problem)``: ``value`` None means the cell could not be read (``blank`` is
    stored instead and the error limit is not checked); a ``problem`` is reported for the
    row. Empty cells take ``default``, or are an error (and ``blank``) when it is None.
    """
    out = []
    errs: list[InputError] = []
    for i, v in df[column].items():
        row = int(i) + row_offset
        s = v.replace(" ", "")
        if s == "":
            if default is None:
                errs.append(InputError(f"missing {what}", file=file, row=row, column=column))
            out.append(default if default is not None else blank)
            continue
        value, problem = parse(v, s)
        if problem is not None:
            errs.append(InputError(problem, file=file, row=row, column=column))
        if value is None:
            out.append(blank)
            continue
        out.append(value)
        if len(errs) >= MAX_ERRORS:
            break
    raise_all(errs)
    return pd.Series(out, index=df.index, dtype=dtype, name=column)


def to_int(
    df: pd.DataFrame,
    column: str,
    file: str | Path,
    *,
    default: int | None = None,
    minimum: int | None = 0,
    what: str = "value",
    row_offset: int = 2,
) -> pd.Series:
    """Convert a text column to int64, naming the row of every bad value.

    Parameters
    ----------
    df : pandas.DataFrame
        Table read by :func:`read_table`.
    column : str
        Column to convert.
    file : str or Path
        Named in errors.
    default : int, optional
        Value for empty cells; None = an empty cell is an error.
    minimum : int, optional
        Smallest allowed value (default 0).
    what : str
        What the number is ("children"), for messages.
    row_offset : int
        Row number of index 0: 2 for tables (header = row 1), 1 for GIS features.

    Returns
    -------
    pandas.Series of int64
        Aligned to ``df``.

    Raises
    ------
    InputError
        A cell is empty (without default), not a number, not a whole number, or below
        ``minimum``; all bad rows (up to 20) are reported together.
    """

    def parse(v: str, s: str) -> tuple[int | None, str | None]:
        if _THOUSANDS.match(s):
            s = s.replace(",", "")
        if not _INT.match(s):
            try:
                f = float(s)
            except ValueError:
                return None, f"'{v}' is not a number ({what})"
            return None, f"{what} must be a whole number, got '{v}' ({f:g})"
        n = int(s.split(".")[0])
        if minimum is not None and n < minimum:
            return n, f"{what} must be >= {minimum}, got {n}"
        return n, None

    return _convert(
        df, column, file, parse, default=default, blank=0, what=what, row_offset=row_offset, dtype="int64"
    )


def to_float(
    df: pd.DataFrame,
    column: str,
    file: str | Path,
    *,
    default: float | None = None,
    what: str = "value",
    row_offset: int = 2,
) -> pd.Series:
    """Convert a text column to float64, naming the row of every bad value.

    Parameters
    ----------
    df : pandas.DataFrame
        Table read by :func:`read_table`.
    column : str
        Column to convert.
    file : str or Path
        Named in errors.
    default : float, optional
        Value for empty cells; None = an empty cell is an error.
    what : str
        What the number is, for messages.
    row_offset : int
        Row number of index 0: 2 for tables (header = row 1), 1 for GIS features.

    Returns
    -------
    pandas.Series of float64
        Aligned to ``df``.

    Raises
    ------
    InputError
        Empty (without default), not a number, or not finite; rows and column named.
    """

    def parse(v: str, s: str) -> tuple[float | None, str | None]:
        try:
            f = float(s)
        except ValueError:
            return None, f"'{v}' is not a number ({what})"
        if f != f or f in (float("inf"), float("-inf")):
            return f, f"{what} is not a finite number: '{v}'"
        return f, None

    return _convert(
        df, column, file, parse, default=default, blank=float("nan"), what=what, row_offset=row_offset, dtype="float64"
    )


_TRUE = {"true", "yes", "y", "1", "t", "是", "有", "对", "√"}
_FALSE = {"false", "no", "n", "0", "f", "否", "无", "", "×"}


def to_bool(df: pd.DataFrame, column: str, file: str | Path, *, row_offset: int = 2) -> pd.Series:
    """Convert a text column to bool (true/yes/1/是 and false/no/0/否/empty).

    Parameters
    ----------
    df : pandas.DataFrame
        Table read by :func:`read_table`.
    column : str
        Column to convert.
    file : str or Path
        Named in errors.
    row_offset : int
        Row number of index 0: 2 for tables (header = row 1), 1 for GIS features.

    Returns
    -------
    pandas.Series of bool

    Raises
    ------
    InputError
        A value that is neither (row and column named).
    """
    out = []
    errs = []
    for i, v in df[column].items():
        s = v.strip().lower()
        if s in _TRUE:
            out.append(True)
        elif s in _FALSE:
            out.append(False)
        else:
            out.append(False)
            errs.append(
                InputError(f"'{v}' is not yes/no (use true/false, 1/0 or 是/否)", file=file, row=int(i) + row_offset, column=column)
            )
    raise_all(errs[:MAX_ERRORS])
    return pd.Series(out, index=df.index, dtype=bool, name=column)
