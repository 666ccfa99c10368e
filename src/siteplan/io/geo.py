"""Coordinates and GIS layers: CRS checks, lat/lon swaps, region extent, invalid geometry.

Every function here returns data in EPSG:4326 (WGS84 longitude/latitude, degrees). Checks
are made on the numbers a user gave, so a mistake is reported on the row where it was made:

- a coordinate that is missing or not a number (row and column named);
- projected-looking numbers (``|x| > 180``) with a geographic CRS, or a layer without a CRS
  → :class:`~siteplan.errors.CRSError` suggesting ``--crs`` / ``data.crs``;
- latitude and longitude swapped (latitude > 90, or the point is outside the region but the
  swapped point is inside);
- a point outside the region's extent plus a margin.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from siteplan.errors import CRSError, InputError, InputWarning
from siteplan.io.coords import to_wgs84
from siteplan.io.tables import MAX_ERRORS, raise_all, to_float

__all__ = [
    "GUANGYUAN_BOUNDS",
    "check_in_region",
    "convert_geometries",
    "parse_dms",
    "parse_crs",
    "points_from_table",
    "read_layer",
]

#: Rough extent of 广元市 (lon_min, lat_min, lon_max, lat_max), degrees WGS84. The pipeline
#: passes the counties layer's ``total_bounds`` instead.
GUANGYUAN_BOUNDS = (104.9, 31.5, 106.6, 32.9)

#: Margin added around ``region_bounds``, degrees (about 5.5 km north–south).
DEFAULT_MARGIN_DEG = 0.05

_CRS_HINT = "pass --crs or set data.crs in the scenario to the file's real CRS, e.g. EPSG:32648 (UTM 48N) or EPSG:4544 (CGCS2000 3-degree Gauss-Kruger CM 105E)"


def _zone_note(x: float) -> str:
    """Chinese Gauss–Krüger eastings often carry the zone number in front (35579330)."""
    if 1e7 <= abs(x) < 1e8:
        zone = int(abs(x) // 1e6)
        if 25 <= zone <= 45:
            return (f"; x={x:.0f} looks like a Gauss-Kruger easting with zone {zone} in front: "
                    f"CGCS2000 3-degree zone {zone} is EPSG:{4513 + zone - 25}")
        if 13 <= zone <= 23:
            return (f"; x={x:.0f} looks like a Gauss-Kruger easting with zone {zone} in front: "
                    f"CGCS2000 6-degree zone {zone} is EPSG:{4491 + zone - 13}")
    return ""


def parse_crs(crs: object, file: str | Path | None = None) -> pyproj.CRS:
    """Parse a CRS given as ``"EPSG:4326"``, an EPSG int, WKT or a pyproj CRS.

    Parameters
    ----------
    crs : str, int or pyproj.CRS
        The CRS (``data.crs`` / ``--crs``).
    file : str or Path, optional
        Named in the error.

    Returns
    -------
    pyproj.CRS

    Raises
    ------
    CRSError
        The value is not a CRS pyproj knows.
    """
    try:
        return pyproj.CRS.from_user_input(crs)
    except pyproj.exceptions.CRSError as e:
        raise CRSError(f"unknown CRS '{crs}': {e}", file=file, hint="use an EPSG code such as EPSG:4326") from None


_DMS = re.compile(
    r"^(?P<pre>东经|北纬|西经|南纬|[NSEWnsew])?\s*(?P<d>\d+(?:\.\d+)?)\s*[°度]\s*"
    r"(?:(?P<m>\d+(?:\.\d+)?)\s*['′’分]\s*)?(?:(?P<s>\d+(?:\.\d+)?)\s*(?:[\"″”秒]|'')\s*)?"
    r"(?P<post>[NSEWnsew])?$"
)


def parse_dms(value: str) -> float | None:
    """Parse degrees–minutes–seconds text to decimal degrees.

    Accepts ``105°50′30″``, ``105°50'30"E``, ``东经105度50分30秒``, ``32°25.5′N``; a
    southern/western hemisphere mark (S, W, 南纬, 西经) gives a negative value.

    Parameters
    ----------
    value : str
        The cell text.

    Returns
    -------
    float or None
        Decimal degrees, or None if the text is not DMS (or minutes/seconds >= 60).
    """
    m = _DMS.match(value.strip())
    if not m:
        return None
    d = float(m.group("d"))
    mi = float(m.group("m") or 0)
    se = float(m.group("s") or 0)
    if mi >= 60 or se >= 60:
        return None
    sign = -1.0 if any(x and x.upper() in ("S", "W", "南纬", "西经") for x in (m.group("pre"), m.group("post"))) else 1.0
    return sign * (d + mi / 60.0 + se / 3600.0)


def _dms_columns(df: pd.DataFrame, cols: Sequence[str]) -> pd.DataFrame:
    out = df
    for c in cols:
        vals = df[c]
        conv = {}
        for i, v in vals.items():
            if any(ch in v for ch in "°度"):
                f = parse_dms(v)
                if f is not None:
                    conv[i] = repr(f)
        if conv:
            if out is df:
                out = df.copy()
            out.loc[list(conv), c] = list(conv.values())
    return out


def check_in_region(
    lon: np.ndarray,
    lat: np.ndarray,
    file: str | Path,
    region_bounds: Sequence[float],
    *,
    margin_deg: float = DEFAULT_MARGIN_DEG,
    rows: Sequence[int] | None = None,
    what: str = "point",
) -> None:
    """Check WGS84 points against the region's extent; detect swapped lat/lon.

    Parameters
    ----------
    lon, lat : numpy.ndarray of float, shape (n,)
        WGS84 degrees.
    file : str or Path
        Named in errors.
    region_bounds : sequence of 4 float
        ``(lon_min, lat_min, lon_max, lat_max)``, degrees WGS84 (e.g. the counties'
        ``total_bounds``; :data:`GUANGYUAN_BOUNDS` for 广元市).
    margin_deg : float
        Margin added on every side, degrees.
    rows : sequence of int, optional
        Row (or feature) number of each point for messages; default spreadsheet rows 2..n+1.
    what : str
        Noun for messages ("village").

    Raises
    ------
    InputError
        "latitude and longitude look swapped" when the swapped point is inside the region,
        else "outside the region's extent"; every bad row (up to 20) is reported.
    """
    x0, y0, x1, y1 = (float(v) for v in region_bounds)
    x0, y0, x1, y1 = x0 - margin_deg, y0 - margin_deg, x1 + margin_deg, y1 + margin_deg
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    rows = list(rows) if rows is not None else [i + 2 for i in range(len(lon))]
    inside = (lon >= x0) & (lon <= x1) & (lat >= y0) & (lat <= y1)
    swapped = (lat >= x0) & (lat <= x1) & (lon >= y0) & (lon <= y1)
    errs = []
    for i in np.flatnonzero(~inside):
        if swapped[i]:
            msg = (
                f"latitude and longitude look swapped: ({lon[i]:g}, {lat[i]:g}) is outside the "
                f"region but ({lat[i]:g}, {lon[i]:g}) is inside"
            )
            hint = "put longitude (经度, ~105) in the lon column and latitude (纬度, ~32) in lat"
        else:
            msg = (
                f"{what} at lon {lon[i]:g}, lat {lat[i]:g} is outside the region's extent "
                f"(lon {x0:g}–{x1:g}, lat {y0:g}–{y1:g})"
            )
            hint = "check the coordinates, the CRS (data.crs) and coordinate_system"
        errs.append(InputError(msg, file=file, row=rows[i], hint=hint))
        if len(errs) >= MAX_ERRORS:
            break
    raise_all(errs)


def convert_geometries(geoms: gpd.GeoSeries, system: str) -> gpd.GeoSeries:
    """Convert geometries in a Chinese offset system (GCJ-02/BD-09) to WGS84.

    Parameters
    ----------
    geoms : geopandas.GeoSeries
        Geometries whose coordinates are degrees in ``system``.
    system : {"wgs84", "gcj02", "bd09"}
        Datum of the coordinates.

    Returns
    -------
    geopandas.GeoSeries
        Same index, coordinates in WGS84, CRS EPSG:4326.
    """
    if system == "wgs84":
        return geoms

    def fn(xy: np.ndarray) -> np.ndarray:
        x, y = to_wgs84(xy[:, 0], xy[:, 1], system)
        return np.column_stack([x, y])

    out = shapely.transform(np.asarray(geoms.values), fn)
    return gpd.GeoSeries(out, index=geoms.index, crs="EPSG:4326")


def points_from_table(
    df: pd.DataFrame,
    file: str | Path,
    crs: object = "EPSG:4326",
    lon_col: str = "lon",
    lat_col: str = "lat",
    coordinate_system: str = "wgs84",
    region_bounds: Sequence[float] | None = None,
    *,
    margin_deg: float = DEFAULT_MARGIN_DEG,
    what: str = "point",
) -> gpd.GeoDataFrame:
    """Build WGS84 points from coordinate columns of a text table.

    Parameters
    ----------
    df : pandas.DataFrame
        Table from :func:`siteplan.io.read_table` (text cells, index 0..n-1).
    file : str or Path
        Named in errors.
    crs : str, int or pyproj.CRS
        CRS of the numbers in ``lon_col``/``lat_col`` (x/y for a projected CRS);
        ``data.crs`` of the scenario.
    lon_col, lat_col : str
        Coordinate columns (longitude/x and latitude/y): decimal numbers, or
        degrees–minutes–seconds text (``105°50′30″``, ``东经105度50分30秒``; see
        :func:`parse_dms`).
    coordinate_system : {"wgs84", "gcj02", "bd09"}
        Datum of geographic coordinates; GCJ-02 and BD-09 are converted to WGS84.
    region_bounds : sequence of 4 float, optional
        ``(lon_min, lat_min, lon_max, lat_max)`` WGS84 degrees; points outside (plus
        ``margin_deg``) are rejected. None = no extent check.
    margin_deg : float
        Margin around ``region_bounds``, degrees.
    what : str
        Noun for messages.

    Returns
    -------
    geopandas.GeoDataFrame
        ``df`` without the two coordinate columns, plus Point geometry, CRS EPSG:4326.

    Raises
    ------
    InputError
        A coordinate is missing or not a number (row and column named); latitude > 90 or the
        swapped point is inside the region ("latitude and longitude look swapped"); a point is
        outside the region.
    CRSError
        Projected-looking numbers (``|x| > 180``) with a geographic CRS, degree-looking numbers
        with a projected CRS, an unknown CRS, or GCJ-02/BD-09 with a projected CRS.
    """
    for c in (lon_col, lat_col):
        if c not in df.columns:
            raise InputError(f"coordinate column '{c}' is missing", file=file, row=1, column=c)
    df = _dms_columns(df, [lon_col, lat_col])
    errs: list[InputError] = []
    xs = ys = None
    try:
        xs = to_float(df, lon_col, file, what="longitude (x) coordinate")
    except InputError as e:
        errs.append(e)
    try:
        ys = to_float(df, lat_col, file, what="latitude (y) coordinate")
    except InputError as e:
        errs.append(e)
    raise_all(errs)
    assert xs is not None and ys is not None
    x = xs.to_numpy()
    y = ys.to_numpy()
    rows = [int(i) + 2 for i in df.index]
    the_crs = parse_crs(crs, file)
    system = str(coordinate_system).lower().replace("-", "").replace("_", "")
    if the_crs.is_geographic:
        big = np.flatnonzero((np.abs(x) > 180) | (np.abs(y) > 180))
        if len(big):
            i = big[0]
            raise CRSError(
                f"coordinates look projected (x={x[i]:g}, y={y[i]:g}; {len(big)} row(s) beyond "
                f"±180) but the CRS is {the_crs.to_string()} (degrees)" + _zone_note(x[i]),
                file=file,
                row=rows[i],
                column=lon_col if abs(x[i]) > 180 else lat_col,
                hint=_CRS_HINT,
            )
        bad = np.flatnonzero(np.abs(y) > 90)
        if len(bad):
            raise_all(
                [
                    InputError(
                        f"latitude {y[i]:g} is beyond ±90: latitude and longitude look swapped",
                        file=file,
                        row=rows[i],
                        column=lat_col,
                        hint=f"put longitude in '{lon_col}' and latitude in '{lat_col}'",
                    )
                    for i in bad[:MAX_ERRORS]
                ]
            )
        if not the_crs.equals(pyproj.CRS.from_epsg(4326)):
            t = pyproj.Transformer.from_crs(the_crs, 4326, always_xy=True)
            x, y = t.transform(x, y)
        if system != "wgs84":
            x, y = to_wgs84(x, y, system)
    else:
        if system != "wgs84":
            raise CRSError(
                f"coordinate_system '{coordinate_system}' applies to longitude/latitude, but the "
                f"CRS {the_crs.to_string()} is projected",
                file=file,
                hint="use data.crs = \"EPSG:4326\" with GCJ-02/BD-09 coordinates",
            )
        if len(x) and np.all(np.abs(x) <= 180) and np.all(np.abs(y) <= 90):
            raise CRSError(
                f"coordinates look like degrees (x={x[0]:g}, y={y[0]:g}) but the CRS "
                f"{the_crs.to_string()} is projected (metres)",
                file=file,
                row=rows[0],
                hint="set data.crs / --crs to EPSG:4326 for longitude/latitude",
            )
        t = pyproj.Transformer.from_crs(the_crs, 4326, always_xy=True)
        x, y = t.transform(x, y)
        notfin = np.flatnonzero(~(np.isfinite(x) & np.isfinite(y)))
        if len(notfin):
            i = notfin[0]
            raise CRSError(
                f"the point cannot be transformed from {the_crs.to_string()}",
                file=file,
                row=rows[i],
                hint=_CRS_HINT,
            )
    if region_bounds is not None:
        check_in_region(x, y, file, region_bounds, margin_deg=margin_deg, rows=rows, what=what)
    out = df.drop(columns=[lon_col, lat_col])
    return gpd.GeoDataFrame(out, geometry=gpd.points_from_xy(x, y), crs="EPSG:4326")


def _redecode_latin1(gdf: gpd.GeoDataFrame, path: Path) -> gpd.GeoDataFrame:
    """Decode text attributes read as Latin-1 from a shapefile without .cpg."""
    from siteplan.io.tables import decode_bytes

    geom = gdf.geometry.name
    for c in gdf.columns:
        if c == geom or not (pd.api.types.is_string_dtype(gdf[c]) or gdf[c].dtype == object):
            continue
        vals = [v if isinstance(v, str) else None for v in gdf[c]]
        raw = [v.encode("latin1") if v is not None else None for v in vals]
        if all(b is None or b.isascii() for b in raw):
            continue
        _, enc = decode_bytes(b"\n".join(b for b in raw if b is not None), f"{path} (.dbf, column '{c}')")
        gdf[c] = pd.Series([b.decode(enc) if b is not None else None for b in raw], index=gdf.index, dtype=object)
    return gdf


def _geom_ok(types: np.ndarray, expected: Sequence[str]) -> np.ndarray:
    return np.isin(types, list(expected))


def read_layer(
    path: str | Path,
    layer: str | None = None,
    expected_geom: Sequence[str] = ("Point",),
    crs_override: object | None = None,
    repair: bool = False,
    *,
    default_crs: object | None = None,
    drop_degenerate: bool = False,
) -> gpd.GeoDataFrame:
    """Read a GIS layer (GeoJSON, GeoPackage, Shapefile, ...) with pyogrio and check it.

    Parameters
    ----------
    path : str or Path
        The file (``.shp`` needs its ``.shx``/``.dbf``; ``.prj`` gives the CRS). A
        shapefile without ``.cpg`` has its text attributes decoded as UTF-8, else GB18030
        (GBK), never silently as Latin-1.
    layer : str, optional
        Layer name; required when a GeoPackage holds several layers.
    expected_geom : sequence of str
        Allowed geometry types, e.g. ``("Point",)``, ``("Polygon", "MultiPolygon")``,
        ``("LineString", "MultiLineString")``. Single-part MultiPoints are accepted as
        Points when only ``"Point"`` is allowed.
    crs_override : str, int or pyproj.CRS, optional
        CRS to use instead of the file's own (a wrong ``.prj``, or GeoJSON in metres).
    repair : bool
        Repair invalid geometries with ``shapely.make_valid`` (``method="structure"``)
        instead of rejecting them (``data.repair_geometry``).
    default_crs : str, int or pyproj.CRS, optional
        CRS assumed when the file has none (``data.crs``); None = a missing CRS is an error.
    drop_degenerate : bool
        Drop zero-length lines (all vertices equal; "Too few points") with an
        :class:`~siteplan.errors.InputWarning` instead of rejecting them (roads).

    Returns
    -------
    geopandas.GeoDataFrame
        Attributes as read (typed), geometry in EPSG:4326, index 0..n-1 (feature n+1).

    Raises
    ------
    InputError
        File missing/unreadable, several layers and none named, a null, empty, wrong-type or
        invalid geometry (feature number named; invalid only without ``repair``).
    CRSError
        No CRS and no ``default_crs`` (the message says whether the numbers look like
        degrees or metres), or projected-looking numbers with a geographic CRS.
    """
    import pyogrio

    path = Path(path)
    if not path.exists():
        raise InputError("file not found", file=path)
    try:
        layers = pyogrio.list_layers(path)
    except Exception as e:
        raise InputError(f"not a readable GIS file ({e})", file=path) from None
    names = [str(n) for n in layers[:, 0]] if len(layers) else []
    if layer is None and len(names) > 1:
        raise InputError(
            f"the file has {len(names)} layers ({', '.join(names)}); name the one to read",
            file=path,
        )
    if layer is not None and names and layer not in names:
        raise InputError(f"no layer '{layer}' (layers: {', '.join(names)})", file=path)
    no_cpg = path.suffix.lower() in (".shp", ".dbf") and not any(
        path.with_suffix(x).exists() for x in (".cpg", ".CPG")
    )
    try:
        if no_cpg:
            # No .cpg: GDAL would guess (often ISO-8859-1) and garble GBK names silently. Read
            # the bytes 1:1 as Latin-1 and decode them ourselves (UTF-8, else GB18030).
            gdf = gpd.read_file(path, layer=layer, engine="pyogrio", encoding="latin1")
        else:
            gdf = gpd.read_file(path, layer=layer, engine="pyogrio")
    except Exception as e:
        raise InputError(f"cannot read the layer: {e}", file=path) from None
    if no_cpg:
        gdf = _redecode_latin1(gdf, path)
    if not isinstance(gdf, gpd.GeoDataFrame) or "geometry" not in gdf.columns:
        raise InputError("the file has no geometry", file=path)
    gdf = gdf.reset_index(drop=True)
    if crs_override is not None:
        gdf = gdf.set_crs(parse_crs(crs_override, path), allow_override=True)
    nonempty = ~(gdf.geometry.isna() | gdf.geometry.is_empty)
    if len(gdf) and nonempty.any():
        x0, y0, x1, y1 = gdf.geometry[nonempty].total_bounds
        degrees = max(abs(x0), abs(x1)) <= 180 and max(abs(y0), abs(y1)) <= 90
    else:
        x0 = y0 = x1 = y1 = 0.0
        degrees = True
    if gdf.crs is None:
        if default_crs is None:
            look = (
                "the numbers look like longitude/latitude degrees: set data.crs = \"EPSG:4326\""
                if degrees
                else f"the numbers look projected (x {x0:.0f}–{x1:.0f}, y {y0:.0f}–{y1:.0f}): "
                + _CRS_HINT + _zone_note(x0)
            )
            raise CRSError(
                "the layer has no CRS (for a shapefile: the .prj file is missing)", file=path, hint=look
            )
        gdf = gdf.set_crs(parse_crs(default_crs, path))
    if gdf.crs.is_geographic and not degrees:
        raise CRSError(
            f"coordinates look projected (x {x0:.0f}–{x1:.0f}, y {y0:.0f}–{y1:.0f}) but the "
            f"layer's CRS is {gdf.crs.to_string()} (degrees; GeoJSON is always read as WGS84 "
            "unless it names another CRS)" + _zone_note(x0),
            file=path,
            hint=_CRS_HINT.replace("pass --crs", "pass --crs / crs_override"),
        )
    errs: list[InputError] = []
    if "Point" in expected_geom and "MultiPoint" not in expected_geom:
        # Shapefile writers often store points as single-part MultiPoints.
        arr = np.asarray(gdf.geometry.values)
        single = (shapely.get_type_id(arr) == 4) & (shapely.get_num_geometries(arr) == 1)
        if single.any():
            arr = arr.copy()
            arr[single] = shapely.get_geometry(arr[single], 0)
            gdf = gdf.set_geometry(gpd.GeoSeries(arr, index=gdf.index, crs=gdf.crs))
    geoms = gdf.geometry.values
    type_names = np.array(
        [g.geom_type if g is not None else "None" for g in geoms], dtype=object
    )
    for i in np.flatnonzero(~nonempty.to_numpy()):
        errs.append(InputError(f"feature {i + 1} has no geometry (null or empty)", file=path, row=i + 1))
    ok_type = _geom_ok(type_names, expected_geom) | ~nonempty.to_numpy()
    for i in np.flatnonzero(~ok_type)[:MAX_ERRORS]:
        errs.append(
            InputError(
                f"feature {i + 1} is a {type_names[i]}; expected {' or '.join(expected_geom)}",
                file=path,
                row=i + 1,
            )
        )
    raise_all(errs[:MAX_ERRORS])
    valid = shapely.is_valid(np.asarray(geoms))
    if drop_degenerate and not valid.all():
        arr = np.asarray(geoms)
        lines = np.isin(type_names, ["LineString", "MultiLineString"])
        degenerate = ~valid & lines & (shapely.length(arr) == 0)
        if degenerate.any():
            warnings.warn(
                f"{path}: {int(degenerate.sum())} zero-length line(s) dropped (features "
                + ", ".join(str(i + 1) for i in np.flatnonzero(degenerate)[:10])
                + (" ..." if degenerate.sum() > 10 else "") + ")",
                InputWarning,
                stacklevel=2,
            )
            # labels stay those of the file's features, so later rows are named as in the file
            gdf = gdf.loc[~degenerate]
            geoms = gdf.geometry.values
            valid = valid[~degenerate]
    if not valid.all():
        if repair:
            fixed = shapely.make_valid(np.asarray(geoms)[~valid], method="structure", keep_collapsed=False)
            g2 = np.asarray(geoms).copy()
            g2[~valid] = fixed
            gdf = gdf.set_geometry(gpd.GeoSeries(g2, index=gdf.index, crs=gdf.crs))
        else:
            bad = np.flatnonzero(~valid)
            raise_all(
                [
                    InputError(
                        f"feature {int(gdf.index[i]) + 1} has an invalid geometry: "
                        f"{shapely.is_valid_reason(geoms[i])}",
                        file=path,
                        row=int(gdf.index[i]) + 1,
                        hint="fix it in a GIS, or set data.repair_geometry = true",
                    )
                    for i in bad[:MAX_ERRORS]
                ]
            )
    if not gdf.crs.equals(pyproj.CRS.from_epsg(4326)):
        gdf = gdf.to_crs("EPSG:4326")
    return gdf
