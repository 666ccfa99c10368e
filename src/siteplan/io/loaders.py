"""Loaders returning the contract tables of ``docs/architecture.md`` in EPSG:4326.

Each loader accepts the default CSV layout (``lon``/``lat`` columns; Chinese headers such
as 经度/纬度, 村代码, 留守儿童数 are renamed) or the same table as GeoJSON, GeoPackage,
Shapefile (geometry instead of lon/lat) or ``.xlsx``. Codes are always text. Every problem
is reported as :class:`~siteplan.errors.InputError` naming the file, the row (spreadsheet
style for tables: header = row 1; feature number for GIS layers) and the column.
"""

from __future__ import annotations

import difflib
import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from siteplan.errors import InputError, InputWarning
from siteplan.io.geo import check_in_region, convert_geometries, points_from_table, read_layer
from siteplan.io.tables import (
    TABLE_SUFFIXES,
    _floaty_codes,
    check_codes,
    raise_all,
    read_table,
    rename_aliases,
    require_columns,
    to_bool,
    to_float,
    to_int,
)
from siteplan.scenario import FACILITY_TYPES

__all__ = [
    "COUNTY_ALIASES",
    "FACILITY_ALIASES",
    "FACILITY_TYPE_ALIASES",
    "ROAD_ALIASES",
    "TOWNSHIP_ALIASES",
    "VILLAGE_ALIASES",
    "load_counties",
    "load_facilities",
    "load_roads",
    "load_townships",
    "load_villages",
    "normalise_facility_type",
]

_COORD_ALIASES = {
    "lon": ["经度", "longitude", "lng", "long", "x", "经度(wgs84)", "lon_wgs84"],
    "lat": ["纬度", "latitude", "y", "纬度(wgs84)", "lat_wgs84"],
}

#: Accepted alternative headers of the villages table (contract name → alternatives).
VILLAGE_ALIASES: dict[str, list[str]] = {
    "village_code": ["村代码", "村级代码", "村(社区)代码", "村居代码", "行政村代码", "统计用区划代码", "区划代码"],
    "village_name": ["村名称", "村名", "村(社区)名称", "村居名称", "行政村", "村(社区)"],
    "kind": ["类型", "村居类型"],
    "town_code": ["乡镇代码", "乡镇(街道)代码", "乡镇街道代码"],
    "town_name": ["乡镇", "乡镇名称", "乡镇(街道)", "乡镇街道"],
    "county_code": ["县区代码", "区县代码", "县代码"],
    "county_name": ["县区", "区县", "县区名称", "区县名称"],
    "children": ["留守儿童数", "留守儿童人数", "留守儿童", "儿童数", "n_children"],
    "children_0_5": ["0-5岁", "0至5岁", "children_0_5_years"],
    "children_6_13": ["6-13岁", "6至13岁"],
    "children_14_16": ["14-16岁", "14至16岁", "14-15岁"],
    "location_source": ["位置来源"],
    "children_source": ["人数来源"],
    **_COORD_ALIASES,
}

#: Accepted alternative headers of the townships table.
TOWNSHIP_ALIASES: dict[str, list[str]] = {
    "town_code": ["乡镇代码", "乡镇(街道)代码", "代码", "code"],
    "town_name": ["乡镇", "乡镇名称", "乡镇(街道)", "名称", "name"],
    "county_code": ["县区代码", "区县代码"],
    "county_name": ["县区", "区县", "县区名称"],
    "town_type": ["type", "类型", "乡镇类型"],
    "seat_source": ["source", "来源"],
    **_COORD_ALIASES,
}

#: Accepted alternative headers of the facilities table.
FACILITY_ALIASES: dict[str, list[str]] = {
    "facility_id": ["id", "编号", "设施编号", "设施代码"],
    "name": ["名称", "设施名称", "facility_name"],
    "facility_type": ["type", "类型", "设施类型", "kind"],
    "town_code": ["乡镇代码"],
    "county_code": ["县区代码", "区县代码"],
    "capacity": ["容量", "床位", "可容纳人数", "capacity_children"],
    "boarding": ["寄宿", "是否寄宿"],
    "source": ["来源"],
    **_COORD_ALIASES,
}

#: Accepted alternative headers of the counties layer (Tianditu/Amap files use adcode, name).
COUNTY_ALIASES: dict[str, list[str]] = {
    "county_code": ["adcode", "县区代码", "区县代码", "code"],
    "county_name": ["name", "县区", "区县", "县区名称"],
}

#: Accepted alternative headers of the roads layer.
ROAD_ALIASES: dict[str, list[str]] = {
    "road_class": ["highway", "class", "道路等级", "等级"],
    "maxspeed": ["max_speed", "限速"],
    "oneway": ["one_way", "单行"],
    "source": ["来源"],
    "length_m": ["length", "长度"],
}


#: Short dBase field names written by ``siteplan.outputs`` (``SHAPEFILE_FIELDS``), so a
#: shapefile siteplan wrote can be read back.
_OUTPUT_SHORT = {
    "village_code": "vill_code", "village_name": "vill_name", "county_code": "cnty_code",
    "county_name": "cnty_name", "seat_source": "seat_src", "children_0_5": "child_0_5",
    "children_6_13": "child_6_13", "children_14_16": "chld_14_16", "guardian_unable": "guard_unab",
    "location_source": "loc_src", "children_source": "child_src", "facility_id": "fac_id",
    "facility_type": "fac_type",
}


def _with_short_names(aliases: dict[str, list[str]]) -> dict[str, list[str]]:
    """Add shapefile forms of the contract names: cut to 10 characters by GDAL
    (``village_name`` → ``village_na``) and siteplan's own output names."""
    out = {}
    for canon, alts in aliases.items():
        extra = [canon[:10]] if len(canon) > 10 else []
        if canon in _OUTPUT_SHORT:
            extra.append(_OUTPUT_SHORT[canon])
        out[canon] = [*alts, *extra]
    return out


VILLAGE_ALIASES = _with_short_names(VILLAGE_ALIASES)
TOWNSHIP_ALIASES = _with_short_names(TOWNSHIP_ALIASES)
FACILITY_ALIASES = _with_short_names(FACILITY_ALIASES)
COUNTY_ALIASES = _with_short_names(COUNTY_ALIASES)
ROAD_ALIASES = _with_short_names(ROAD_ALIASES)


def _label_aliases() -> dict[str, str]:
    out: dict[str, str] = {}
    for key, label in FACILITY_TYPES.items():
        zh = label.split(" (")[0]
        for part in zh.split("/"):
            out[part.strip()] = key
    out.update(
        {
            "公安派出所": "police",
            "村卫生室": "health_centre",
            "卫生室": "health_centre",
            "乡镇卫生院": "health_centre",
            "小学": "school",
            "中学": "school",
            "初中": "school",
            "中心校": "school",
            "寄宿学校": "boarding_school",
            "福利院": "welfare_home",
            "救助站": "rescue_station",
            "村委会": "village_committee",
            "居委会": "village_committee",
            "未保站": "minors_protection_station",
            "health_center": "health_centre",
            "childrens_center": "childrens_home",
        }
    )
    return out


#: Chinese labels and spellings accepted for facility types (value → key of FACILITY_TYPES).
FACILITY_TYPE_ALIASES: dict[str, str] = _label_aliases()


def normalise_facility_type(value: str) -> str | None:
    """Map a facility-type cell to a key of :data:`siteplan.scenario.FACILITY_TYPES`.

    Parameters
    ----------
    value : str
        ``"police"``, ``"Police"``, ``"health centre"``, ``"派出所"``, ...

    Returns
    -------
    str or None
        The key, or None when the value is not recognised.
    """
    v = value.strip()
    if v in FACILITY_TYPES:
        return v
    k = re.sub(r"[\s\-]+", "_", v.lower()).strip("_").replace("'", "")
    if k in FACILITY_TYPES:
        return k
    return FACILITY_TYPE_ALIASES.get(v) or FACILITY_TYPE_ALIASES.get(k)


# ----------------------------------------------------------------------------- helpers


def _text(s: pd.Series) -> pd.Series:
    """Attribute column of a GIS layer as text (codes never become floats)."""
    if pd.api.types.is_bool_dtype(s):
        return s.map(lambda v: "" if pd.isna(v) else ("true" if v else "false")).astype(str)
    if pd.api.types.is_integer_dtype(s):
        return s.map(lambda v: "" if pd.isna(v) else str(int(v))).astype(str)
    if pd.api.types.is_float_dtype(s):
        def f(v: float) -> str:
            if pd.isna(v):
                return ""
            if float(v).is_integer() and abs(v) < 2**53:
                return str(int(v))
            return repr(float(v))

        return s.map(f).astype(str)
    if pd.api.types.is_datetime64_any_dtype(s):
        return s.map(lambda v: "" if pd.isna(v) else v.isoformat()).astype(str)
    return s.map(lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v).strip()).astype(str)


class _Read:
    """A table read from any format: text attributes, maybe geometry, row numbering."""

    def __init__(self, df: pd.DataFrame, geometry: gpd.GeoSeries | None, row_offset: int) -> None:
        self.df = df
        self.geometry = geometry
        self.row_offset = row_offset


def _read_any(
    path: str | Path,
    what: str,
    aliases: Mapping[str, Sequence[str]],
    *,
    expected_geom: Sequence[str],
    crs: object,
    layer: str | None,
    repair: bool,
    id_columns: Sequence[str],
    table_ok: bool = True,
    drop_degenerate: bool = False,
) -> _Read:
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in TABLE_SUFFIXES:
        if not table_ok:
            raise InputError(
                f"the {what} need {' or '.join(expected_geom)} geometry; a {suffix} table cannot hold it",
                file=path,
                hint="give a GeoJSON, GeoPackage or Shapefile",
            )
        df = read_table(path)
        df = rename_aliases(df, aliases)
        if len(df) == 0:
            extra = " (the file has a header but no rows)" if len(df.columns) else " (the file is empty)"
            raise InputError(f"0 {what} read from {path}{extra}", file=path)
        return _Read(df, None, 2)
    gdf = read_layer(path, layer=layer, expected_geom=expected_geom, repair=repair, default_crs=crs,
                     drop_degenerate=drop_degenerate)
    if len(gdf) == 0:
        raise InputError(f"0 {what} read from {path} (the layer has no features)", file=path)
    attrs = pd.DataFrame({c: _text(gdf[c]) for c in gdf.columns if c != gdf.geometry.name})
    attrs.columns = [str(c).strip() for c in attrs.columns]
    attrs = rename_aliases(attrs, aliases)
    return _Read(attrs, gdf.geometry, 1)


def _check_unique(df: pd.DataFrame, column: str, file: str | Path, row_offset: int) -> None:
    dup = df[column].duplicated(keep=False) & (df[column] != "")
    if not dup.any():
        return
    errs = []
    for value, idx in df.loc[dup].groupby(column, sort=False).groups.items():
        rows = [int(i) + row_offset for i in idx]
        errs.append(
            InputError(
                f"duplicate {column} '{value}' in rows {rows[0]} and {rows[1]}"
                + (f" (and {len(rows) - 2} more)" if len(rows) > 2 else ""),
                file=file,
                row=rows[1],
                column=column,
            )
        )
    raise_all(errs[:20])


def _default(df: pd.DataFrame, column: str, value: str | pd.Series) -> None:
    """Fill ``column``'s empty cells (all of them when it is missing) from ``value``."""
    if column not in df.columns:
        df[column] = value
    else:
        df[column] = df[column].where(df[column] != "", value)


def _vocabulary(
    df: pd.DataFrame,
    column: str,
    name_column: str,
    table: Mapping[str, str],
    from_name: Callable[[str], str],
    choices: str,
    file: str | Path,
    row_offset: int,
) -> None:
    """Set ``column`` to canonical values: a key of ``table`` (as written or lower-cased) →
    its value, empty (or no column) → ``from_name`` of the ``name_column`` cell; any other
    value is an error naming the row and ``choices``."""
    if column not in df.columns:
        df[column] = ""
    errs, out = [], []
    for i, v, name in zip(df.index, df[column], df[name_column], strict=True):
        if v == "":
            out.append(from_name(name))
        elif v in table or v.lower() in table:
            out.append(table.get(v, table.get(v.lower(), "")))
        else:
            out.append("")
            errs.append(InputError(f"unknown {column} '{v}' (use {choices})", file=file,
                                   row=int(i) + row_offset, column=column))
    raise_all(errs[:20])
    df[column] = out


def _town_lookup(townships: gpd.GeoDataFrame | pd.DataFrame | str | Path | None) -> pd.DataFrame | None:
    if townships is None:
        return None
    if isinstance(townships, (str, Path)):
        townships = load_townships(townships)
    return pd.DataFrame(townships).set_index("town_code")


def _check_town_codes(
    df: pd.DataFrame, towns: pd.DataFrame, file: str | Path, row_offset: int, allow_empty: bool = False
) -> None:
    known = set(towns.index)
    errs = []
    for i, v in df["town_code"].items():
        if (v == "" and allow_empty) or v in known:
            continue
        close = difflib.get_close_matches(v, sorted(known), n=1, cutoff=0.8)
        errs.append(
            InputError(
                f"town_code '{v}' is not in the townships table",
                file=file,
                row=int(i) + row_offset,
                column="town_code",
                hint=f"did you mean '{close[0]}'?" if close else "codes are 9-digit NBS township codes",
            )
        )
        if len(errs) >= 20:
            break
    raise_all(errs)


def _points(
    r: _Read,
    path: str | Path,
    *,
    crs: object,
    coordinate_system: str,
    region_bounds: Sequence[float] | None,
    what: str,
) -> gpd.GeoDataFrame:
    if r.geometry is None:
        require_columns(r.df, ["lon", "lat"], path, what)
        return points_from_table(
            r.df, path, crs=crs, coordinate_system=coordinate_system, region_bounds=region_bounds, what=what
        )
    geom = convert_geometries(r.geometry, coordinate_system)
    if region_bounds is not None:
        check_in_region(
            geom.x.to_numpy(), geom.y.to_numpy(), path, region_bounds,
            rows=[int(i) + 1 for i in range(len(geom))], what=what,
        )
    return gpd.GeoDataFrame(r.df, geometry=geom.values, crs="EPSG:4326")


def _order(gdf: gpd.GeoDataFrame, first: Sequence[str], keep_index: bool = False) -> gpd.GeoDataFrame:
    geom = gdf.geometry.name
    rest = [c for c in gdf.columns if c not in first and c != geom]
    out = gpd.GeoDataFrame(gdf[[*first, *rest, geom]], geometry=geom, crs="EPSG:4326")
    return out if keep_index else out.reset_index(drop=True)


_KINDS = {"village": "village", "community": "community", "other": "other", "村": "village",
          "村民委员会": "village", "社区": "community", "社区居民委员会": "community", "居委会": "community"}


def _kind_from_name(name: str) -> str:
    if name.endswith("社区居民委员会") or name.endswith("社区") or name.endswith("居委会"):
        return "community"
    if name.endswith("村民委员会") or name.endswith("村"):
        return "village"
    return "other"


# ----------------------------------------------------------------------------- loaders


def load_villages(
    path: str | Path,
    *,
    crs: object = "EPSG:4326",
    coordinate_system: str = "wgs84",
    region_bounds: Sequence[float] | None = None,
    townships: gpd.GeoDataFrame | pd.DataFrame | str | Path | None = None,
    require_children: bool = True,
    layer: str | None = None,
    source: str = "user",
) -> gpd.GeoDataFrame:
    """Read the villages (demand points) table.

    Parameters
    ----------
    path : str or Path
        CSV/xlsx with ``lon``/``lat`` (or 经度/纬度) columns, or a point layer (GeoJSON,
        GeoPackage, Shapefile). Required columns: ``village_code`` (12 digits),
        ``village_name``, ``children`` (unless ``require_children=False``). Optional:
        ``kind`` (default from the name: …社区居民委员会 → community, …村民委员会 → village),
        ``town_code`` (default: first 9 digits of the village code), ``town_name``,
        ``county_code`` (default: first 6 digits), ``county_name``, the three age bands
        ``children_0_5``, ``children_6_13``, ``children_14_16`` (all or none; must sum to
        ``children``), ``location_source`` and ``children_source`` (default ``source``).
    crs : str, int or pyproj.CRS
        CRS of lon/lat columns and of layers without one (``data.crs``).
    coordinate_system : {"wgs84", "gcj02", "bd09"}
        Datum of the coordinates (``data.coordinate_system``); converted to WGS84.
    region_bounds : sequence of 4 float, optional
        ``(lon_min, lat_min, lon_max, lat_max)`` WGS84; points outside are rejected.
    townships : GeoDataFrame, DataFrame, str or Path, optional
        The townships table (or its file); every ``town_code`` must be in it, and missing
        town/county names are filled from it.
    require_children : bool
        Whether ``children`` is required (False when a ledger supplies the counts; then
        ``children`` is 0 and ``children_source`` "ledger-pending").
    layer : str, optional
        Layer of a GeoPackage.
    source : str
        Default ``location_source``/``children_source`` ("user"; the default data uses
        "modelled").

    Returns
    -------
    geopandas.GeoDataFrame
        The villages contract table (``docs/architecture.md``), one row per village, Point
        geometry, EPSG:4326; counts int64 (age bands nullable ``Int64``, NA when the file has
        none); extra columns kept after the contract columns.

    Warns
    -----
    InputWarning
        A ``village_code`` does not start with its ``town_code``.

    Raises
    ------
    InputError
        Empty file ("0 villages read from FILE"), missing column (closest existing one
        named), bad or float-ified code, duplicate ``village_code`` (both rows named),
        negative/fractional/non-numeric children, age bands not summing to ``children``,
        unknown ``kind``, ``town_code`` not in ``townships``, bad or out-of-region coordinates,
        swapped lat/lon.
    CRSError
        See :func:`siteplan.io.points_from_table` / :func:`siteplan.io.read_layer`.
    """
    what = "villages"
    r = _read_any(path, what, VILLAGE_ALIASES, expected_geom=("Point",), crs=crs, layer=layer,
                  repair=False, id_columns=("village_code", "town_code", "county_code"))
    df, off = r.df, r.row_offset
    required = ["village_code", "village_name"] + (["children"] if require_children else [])
    require_columns(df, required, path, what)
    check_codes(df, "village_code", 12, path, row_offset=off)
    _check_unique(df, "village_code", path, off)
    _default(df, "town_code", df["village_code"].str[:9])
    check_codes(df, "town_code", 9, path, row_offset=off)
    _default(df, "county_code", df["village_code"].str[:6])
    check_codes(df, "county_code", 6, path, row_offset=off)
    mismatch = df.index[(df["village_code"].str[:9] != df["town_code"]).to_numpy()]
    if len(mismatch):
        warnings.warn(
            f"{path}: {len(mismatch)} village code(s) do not start with their town_code (NBS codes "
            f"nest: village = town + 3 digits), first on row {int(mismatch[0]) + off}",
            InputWarning,
            stacklevel=2,
        )
    towns = _town_lookup(townships)
    if towns is not None:
        _check_town_codes(df, towns, path, off)
    for col in ("town_name", "county_name"):
        if col not in df.columns:
            df[col] = ""
        if towns is not None and col in towns.columns:
            df[col] = df[col].where(df[col] != "", df["town_code"].map(towns[col]).fillna("").astype(str))
    _vocabulary(df, "kind", "village_name", _KINDS, _kind_from_name, "village, community or other",
                path, off)
    if "children" in df.columns:
        df["children"] = to_int(df, "children", path, what="children (count)", row_offset=off)
        _default(df, "children_source", source)
    else:
        df["children"] = 0
        df["children_source"] = "ledger-pending"
    bands = ["children_0_5", "children_6_13", "children_14_16"]
    have = [b for b in bands if b in df.columns]
    if have:
        require_columns(df, bands, path, what)
        for b in bands:
            df[b] = to_int(df, b, path, what=f"children ({b})", row_offset=off)
        total = df[bands].sum(axis=1)
        bad = df.index[(total != df["children"]).to_numpy()]
        raise_all([
            InputError(
                f"age bands sum to {int(total.loc[i])} but children is {int(df.at[i, 'children'])}",
                file=path, row=int(i) + off, column="children",
                hint="children_0_5 + children_6_13 + children_14_16 must equal children",
            )
            for i in bad[:20]
        ])
        for b in bands:
            df[b] = df[b].astype("Int64")
    else:
        for b in bands:
            df[b] = pd.array([pd.NA] * len(df), dtype="Int64")
    _default(df, "location_source", source)
    gdf = _points(r, path, crs=crs, coordinate_system=coordinate_system, region_bounds=region_bounds,
                  what="village")
    gdf["children"] = gdf["children"].astype("int64")
    return _order(gdf, ["village_code", "village_name", "kind", "town_code", "town_name", "county_code",
                        "county_name", "children", *bands, "location_source", "children_source"])


_TOWN_TYPES = {"镇": "镇", "乡": "乡", "街道": "街道", "town": "镇", "township": "乡",
               "subdistrict": "街道", "street": "街道", "民族乡": "乡", "other": "other", "其他": "other"}


def _town_type_from_name(name: str) -> str:
    if name.endswith("街道") or name.endswith("街道办事处"):
        return "街道"
    if name.endswith("镇"):
        return "镇"
    if name.endswith("乡"):
        return "乡"
    return ""


def load_townships(
    path: str | Path,
    *,
    crs: object = "EPSG:4326",
    coordinate_system: str = "wgs84",
    region_bounds: Sequence[float] | None = None,
    layer: str | None = None,
    source: str = "user",
) -> gpd.GeoDataFrame:
    """Read the townships table (one row per 乡/镇/街道, seat point geometry).

    Parameters
    ----------
    path : str or Path
        CSV/xlsx with ``lon``/``lat`` or a point layer. Required: ``town_code`` (9 digits),
        ``town_name``. Optional: ``county_code`` (default: first 6 digits), ``county_name``,
        ``town_type`` (镇/乡/街道, or ``other`` for reserves and farms in the NBS list; alias
        ``type``; default from the name's ending),
        ``seat_source`` (default ``source``).
    crs, coordinate_system, region_bounds, layer
        As in :func:`load_villages`.
    source : str
        Default ``seat_source``.

    Returns
    -------
    geopandas.GeoDataFrame
        The townships contract table, Point geometry (seat), EPSG:4326.

    Raises
    ------
    InputError
        Empty file, missing column, bad or duplicate ``town_code``, unknown ``town_type``,
        bad/out-of-region/swapped coordinates.
    CRSError
        See :func:`siteplan.io.points_from_table`.
    """
    what = "townships"
    r = _read_any(path, what, TOWNSHIP_ALIASES, expected_geom=("Point",), crs=crs, layer=layer,
                  repair=False, id_columns=("town_code", "county_code"))
    df, off = r.df, r.row_offset
    require_columns(df, ["town_code", "town_name"], path, what)
    check_codes(df, "town_code", 9, path, row_offset=off)
    _check_unique(df, "town_code", path, off)
    _default(df, "county_code", df["town_code"].str[:6])
    check_codes(df, "county_code", 6, path, row_offset=off)
    _default(df, "county_name", "")
    _vocabulary(df, "town_type", "town_name", _TOWN_TYPES, _town_type_from_name, "镇, 乡, 街道 or other",
                path, off)
    _default(df, "seat_source", source)
    gdf = _points(r, path, crs=crs, coordinate_system=coordinate_system, region_bounds=region_bounds,
                  what="township seat")
    return _order(gdf, ["town_code", "town_name", "county_code", "county_name", "town_type", "seat_source"])


def load_facilities(
    path: str | Path,
    *,
    crs: object = "EPSG:4326",
    coordinate_system: str = "wgs84",
    region_bounds: Sequence[float] | None = None,
    townships: gpd.GeoDataFrame | pd.DataFrame | str | Path | None = None,
    layer: str | None = None,
    source: str = "user",
) -> gpd.GeoDataFrame:
    """Read the facilities table (existing schools, police stations, care sites, ...).

    Parameters
    ----------
    path : str or Path
        CSV/xlsx with ``lon``/``lat`` or a point layer. Required: ``facility_id`` (text,
        unique; leading zeros kept), ``facility_type`` (a key of
        :data:`siteplan.scenario.FACILITY_TYPES`; Chinese labels such as 派出所 or 儿童之家
        and spellings such as "Health Centre" are accepted). Optional: ``name`` (""),
        ``town_code`` ("" or 9 digits), ``county_code`` ("" or 6 digits; default from
        ``town_code``), ``capacity`` (int children >= 0, default 0 = unknown), ``boarding``
        (bool, default False), ``source`` (default ``source``).
    crs, coordinate_system, region_bounds, townships, layer
        As in :func:`load_villages` (``town_code`` may be empty).
    source : str
        Default ``source``.

    Returns
    -------
    geopandas.GeoDataFrame
        The facilities contract table, Point geometry, EPSG:4326.

    Raises
    ------
    InputError
        Empty file, missing column, duplicate ``facility_id``, unknown facility type (the
        value and the closest known type named), bad capacity/boarding, bad or unknown
        ``town_code``, bad/out-of-region/swapped coordinates.
    CRSError
        See :func:`siteplan.io.points_from_table`.
    """
    what = "facilities"
    r = _read_any(path, what, FACILITY_ALIASES, expected_geom=("Point",), crs=crs, layer=layer,
                  repair=False, id_columns=("town_code", "county_code"))
    df, off = r.df, r.row_offset
    require_columns(df, ["facility_id", "facility_type"], path, what)
    errs = []
    for i, v in df["facility_id"].items():
        if v == "":
            errs.append(InputError("empty facility_id", file=path, row=int(i) + off, column="facility_id"))
    raise_all(errs[:20])
    raise_all(_floaty_codes(df["facility_id"], path, "facility_id", off))
    _check_unique(df, "facility_id", path, off)
    types, errs = [], []
    keys = list(FACILITY_TYPES)
    for i, v in df["facility_type"].items():
        k = normalise_facility_type(v)
        if k is None:
            close = difflib.get_close_matches(v.strip().lower().replace(" ", "_"), keys, n=1, cutoff=0.5)
            if not close:
                close = [FACILITY_TYPE_ALIASES[c] for c in difflib.get_close_matches(
                    v.strip(), list(FACILITY_TYPE_ALIASES), n=1, cutoff=0.5)]
            errs.append(InputError(
                f"unknown facility type '{v}'" + (f"; did you mean '{close[0]}'?" if close else ""),
                file=path, row=int(i) + off, column="facility_type",
                hint="known types: " + ", ".join(keys),
            ))
            types.append("")
        else:
            types.append(k)
    raise_all(errs[:20])
    df["facility_type"] = types
    _default(df, "name", "")
    _default(df, "town_code", "")
    check_codes(df, "town_code", 9, path, allow_empty=True, row_offset=off)
    _default(df, "county_code", df["town_code"].str[:6])
    check_codes(df, "county_code", 6, path, allow_empty=True, row_offset=off)
    towns = _town_lookup(townships)
    if towns is not None:
        _check_town_codes(df, towns, path, off, allow_empty=True)
    if "capacity" in df.columns:
        df["capacity"] = to_int(df, "capacity", path, default=0, what="capacity (children)", row_offset=off)
    else:
        df["capacity"] = 0
    if "boarding" in df.columns:
        df["boarding"] = to_bool(df, "boarding", path, row_offset=off)
    else:
        df["boarding"] = False
    _default(df, "source", source)
    gdf = _points(r, path, crs=crs, coordinate_system=coordinate_system, region_bounds=region_bounds,
                  what="facility")
    gdf["capacity"] = gdf["capacity"].astype("int64")
    gdf["boarding"] = gdf["boarding"].astype(bool)
    return _order(gdf, ["facility_id", "name", "facility_type", "town_code", "county_code", "capacity",
                        "boarding", "source"])


def load_counties(
    path: str | Path,
    *,
    crs: object | None = None,
    coordinate_system: str = "wgs84",
    layer: str | None = None,
    repair: bool = False,
) -> gpd.GeoDataFrame:
    """Read the counties (区/县) polygons.

    Parameters
    ----------
    path : str or Path
        GeoJSON, GeoPackage or Shapefile with ``county_code`` (6 digits; alias ``adcode``)
        and ``county_name`` (alias ``name``). Rows whose ``level`` is ``city`` or
        ``province`` (outline features of Tianditu/Amap files) are dropped.
    crs : str, int or pyproj.CRS, optional
        CRS assumed when the file has none; None = such a file is an error.
    coordinate_system : {"wgs84", "gcj02", "bd09"}
        Datum of the coordinates; converted to WGS84.
    layer : str, optional
        Layer of a GeoPackage.
    repair : bool
        Repair invalid polygons with ``shapely.make_valid`` (``data.repair_geometry``).

    Returns
    -------
    geopandas.GeoDataFrame
        ``county_code``, ``county_name``, Polygon/MultiPolygon geometry, EPSG:4326.

    Raises
    ------
    InputError
        A table format (no polygons), empty layer, missing column, bad or duplicate code,
        invalid polygon (feature named) unless ``repair``.
    CRSError
        Missing CRS, or metres in a geographic CRS.
    """
    what = "counties"
    r = _read_any(path, what, COUNTY_ALIASES, expected_geom=("Polygon", "MultiPolygon"), crs=crs,
                  layer=layer, repair=repair, id_columns=("county_code",), table_ok=False)
    df, off = r.df, r.row_offset
    assert r.geometry is not None
    require_columns(df, ["county_code", "county_name"], path, what)
    keep = np.ones(len(df), dtype=bool)
    if "level" in df.columns:
        keep = ~df["level"].str.lower().isin(["city", "province", "country"]).to_numpy()
    df = df.loc[keep]
    geom = convert_geometries(r.geometry, coordinate_system).loc[keep]
    if len(df) == 0:
        raise InputError(f"0 counties read from {path} (only city/province outlines)", file=path)
    check_codes(df, "county_code", 6, path, row_offset=off)
    _check_unique(df, "county_code", path, off)
    gdf = gpd.GeoDataFrame(df, geometry=geom.values, crs="EPSG:4326")
    return _order(gdf, ["county_code", "county_name"])


_ONEWAY = {"yes": "yes", "true": "yes", "1": "yes", "t": "yes", "是": "yes",
           "no": "no", "false": "no", "0": "no", "f": "no", "": "no", "否": "no",
           "-1": "-1", "reverse": "-1"}


def load_roads(
    path: str | Path,
    *,
    crs: object | None = None,
    coordinate_system: str = "wgs84",
    layer: str | None = None,
    repair: bool = False,
    source: str = "user",
) -> gpd.GeoDataFrame:
    """Read the road segments.

    Parameters
    ----------
    path : str or Path
        GeoPackage (layer ``roads`` when there are several), GeoJSON or Shapefile of
        LineString/MultiLineString. Optional columns: ``road_class`` (alias ``highway``;
        default/empty → ``unclassified``), ``maxspeed`` (raw text, default ""), ``oneway``
        (yes/no/-1, also true/false/1/0; default "no"), ``source`` (default ``source``),
        ``length_m`` (metres; converted to float when present).
    crs, coordinate_system, layer, repair
        As in :func:`load_counties`.
    source : str
        Default ``source``.

    Returns
    -------
    geopandas.GeoDataFrame
        The roads contract table, one LineString per row (MultiLineStrings split),
        EPSG:4326. The index is the feature's position in the file (0-based; the parts of a
        MultiLineString share it, dropped zero-length lines leave gaps), so that messages
        about a row (e.g. from :meth:`siteplan.network.TravelNetwork.from_roads`) name the
        file's feature.

    Warns
    -----
    InputWarning
        Zero-length segments (all vertices equal) were dropped.

    Raises
    ------
    InputError
        A table format, empty layer, wrong geometry type, invalid line, bad ``oneway`` or
        ``length_m``.
    CRSError
        Missing CRS, or metres in a geographic CRS.
    """
    what = "roads"
    p = Path(path)
    if layer is None and p.suffix.lower() == ".gpkg" and p.exists():
        import pyogrio

        try:
            names = [str(n) for n in pyogrio.list_layers(p)[:, 0]]
        except Exception:
            names = []
        if "roads" in names:
            layer = "roads"
    r = _read_any(path, what, ROAD_ALIASES, expected_geom=("LineString", "MultiLineString"), crs=crs,
                  layer=layer, repair=repair, id_columns=(), table_ok=False, drop_degenerate=True)
    df, off = r.df, r.row_offset
    assert r.geometry is not None
    _default(df, "road_class", "unclassified")
    _default(df, "maxspeed", "")
    if "oneway" not in df.columns:
        df["oneway"] = ""
    errs, ow = [], []
    for i, v in df["oneway"].items():
        k = _ONEWAY.get(v.strip().lower())
        if k is None:
            errs.append(InputError(f"oneway '{v}' is not yes, no or -1", file=path, row=int(i) + off,
                                   column="oneway"))
        ow.append(k or "no")
    raise_all(errs[:20])
    df["oneway"] = ow
    _default(df, "source", source)
    first = ["road_class", "maxspeed", "oneway", "source"]
    if "length_m" in df.columns:
        df["length_m"] = to_float(df, "length_m", path, default=float("nan"), what="length_m (metres)",
                                  row_offset=off)
        first.append("length_m")
    geom = convert_geometries(r.geometry, coordinate_system)
    gdf = gpd.GeoDataFrame(df, geometry=geom.values, crs="EPSG:4326")
    # the parts of a MultiLineString keep their feature's label (so the network names the
    # file's row); labels may repeat
    gdf = gdf.explode(index_parts=False)
    return _order(gdf, first, keep_index=True)
