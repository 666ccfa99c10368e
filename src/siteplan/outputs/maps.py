"""Interactive web maps (folium/Leaflet): one for the city and one per county.

A map shows villages coloured by coverage status and sized by (suppressed) child counts,
existing care sites, schools (boarding schools marked), police stations, rescue stations, the
child welfare home, the proposed sites with rank, type and cost, catchments (existing vs
proposed), and police response time classes as a second village layer; with a layer switcher,
a legend, a scale bar, the attribution of every source and a "modelled data" note.

Safety and size:

* every text that comes from data is :func:`html.escape`-d before it reaches folium (tooltips
  and popups are inserted as HTML by Leaflet);
* child counts appear only as display text from :func:`siteplan.outputs.privacy.suppress_counts`
  (``"<10"``, ``"x"``), and marker sizes come from those display classes, never the exact count;
* coordinates are rounded to 5 decimals (about 1 m) and polygons simplified in metres
  (EPSG:32648) so that a city map of 1,735 villages stays around a few MB;
* ``tiles="none"`` draws no web tiles (county boundaries as the background) for intranets,
  and Leaflet itself is inlined into the page by default (``assets="inline"``), so a map
  opens without any internet access.

All inputs are GeoDataFrames in EPSG:4326 (longitude/latitude, degrees).
"""

from __future__ import annotations

import html
import math
import re
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, MacroElement, Template

from siteplan.errors import CRSError, OutputError
from siteplan.outputs.privacy import SECONDARY_MARK, small_cell_label, suppress_village_counts
from siteplan.scenario import DEFAULT_CARE_SITE_TYPES

#: Coverage status -> (colour, label). Colour-blind-safe-ish diverging palette.
STATUS_STYLE: dict[str, tuple[str, str]] = {
    "covered": ("#1a9850", "已覆盖 covered"),
    "under_served": ("#f39c12", "服务不足 under-served"),
    "unreachable": ("#d73027", "不可达 unreachable"),
    "off_network": ("#7b3294", "不在路网 off network"),
}
#: Police-time classes: colours from fast to slow, then "none reachable".
POLICE_COLOURS = ["#2166ac", "#67a9cf", "#ef8a62", "#b2182b", "#7f7f7f"]

#: Facility groups drawn as symbols: key -> (label, symbol, colour).
FACILITY_GROUPS: dict[str, tuple[str, str, str]] = {
    "care": ("现有关爱站点 existing care site", "■", "#1b7837"),
    "school": ("学校 school", "▲", "#2c7fb8"),
    "boarding": ("寄宿制学校 boarding school", "▲", "#08306b"),
    "police": ("派出所 police station", "●", "#253494"),
    "rescue_station": ("救助管理站 rescue station", "✚", "#c51b7d"),
    "welfare_home": ("儿童福利院 child welfare home", "♥", "#c51b7d"),
}
_SCHOOL_TYPES = ("school", "boarding_school", "kindergarten")
COORD_DECIMALS = 5


def _esc(v: Any) -> str:
    """HTML-escape a data value; also backticks and ``$`` (folium puts some HTML in JS
    template literals, where `` ` `` or ``${`` would break out)."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    return html.escape(str(v), quote=True).replace("`", "&#96;").replace("$", "&#36;")


def _round_geom(geoms: gpd.GeoSeries) -> np.ndarray:
    return shapely.transform(geoms.to_numpy(), lambda c: np.round(c, COORD_DECIMALS))


def _simplify(gdf: gpd.GeoDataFrame, tol_m: float) -> gpd.GeoDataFrame:
    if len(gdf) == 0 or tol_m <= 0:
        return gdf
    m = gdf.to_crs("EPSG:32648")
    m = m.set_geometry(m.geometry.simplify(tol_m, preserve_topology=True))
    return m.to_crs("EPSG:4326")


def _features(gdf: gpd.GeoDataFrame, props: pd.DataFrame) -> dict:
    """A GeoJSON FeatureCollection with rounded coordinates and feature ids 0..n-1."""
    geoms = _round_geom(gdf.geometry)
    recs = props.to_dict("records")
    feats = [
        {"type": "Feature", "id": i, "properties": p, "geometry": shapely.geometry.mapping(g)}
        for i, (g, p) in enumerate(zip(geoms, recs, strict=True))
        if g is not None and not g.is_empty
    ]
    return {"type": "FeatureCollection", "features": feats}


def _minutes(s: pd.Series) -> list[str]:
    out = []
    for v in pd.to_numeric(s, errors="coerce").to_numpy(dtype=float):
        out.append("—" if not np.isfinite(v) else f"{v / 60:.0f}")
    return out


def _count_class(text: str, threshold: int) -> int:
    """Size class 0-4 of a village's count, from its display text, never from the exact value.

    0 = none (``"0"`` or empty), 1 = suppressed (``"<10"`` or ``"x"``), 2 = under 30,
    3 = under 60, 4 = 60 or more. The web maps and the print atlas size markers by it.
    """
    if text in ("0", ""):
        return 0
    if text in (small_cell_label(threshold), SECONDARY_MARK):
        return 1
    n = int(text)
    return 2 if n < 30 else 3 if n < 60 else 4


def _size_class(text: str, threshold: int) -> int:
    """Marker radius (px) from the display text of a count, never from the exact value."""
    return (3, 4, 5, 7, 9)[_count_class(text, threshold)]


def police_class(time_s: pd.Series, minutes: Sequence[float] = (15, 30)) -> pd.Series:
    """Class index of a police response time: 0 = within the first standard, ..., last = none.

    Parameters
    ----------
    time_s : Series of float
        Drive time from the nearest police station, seconds (inf/NaN = none reachable).
    minutes : sequence of float
        Ascending response standards, minutes (scenario ``response.police_standards_min``).

    Returns
    -------
    Series of int
        0 .. len(minutes) for reachable villages, len(minutes) + 1 for none reachable.
    """
    t = pd.to_numeric(time_s, errors="coerce").to_numpy(dtype=float)
    edges = np.asarray(minutes, dtype=float) * 60.0
    cls = np.searchsorted(edges, t, side="left")
    cls = np.where(np.isfinite(t), cls, len(edges) + 1)
    return pd.Series(cls.astype(int), index=time_s.index)


def _police_labels(minutes: Sequence[float]) -> list[str]:
    m = [f"{x:g}" for x in minutes]
    labels = [f"≤{m[0]} 分钟 min"]
    labels += [f"{a}–{b} 分钟 min" for a, b in zip(m[:-1], m[1:], strict=True)]
    labels += [f">{m[-1]} 分钟 min", "无法到达 none reachable"]
    return labels


def _in_county(gdf: gpd.GeoDataFrame, county_code: str, area) -> gpd.GeoDataFrame:
    """Rows of one county: by ``county_code`` where filled in, else by location."""
    if "county_code" in gdf.columns:
        code = gdf["county_code"].astype(str).fillna("")
        return gdf[(code == county_code) | ((code == "") & gdf.geometry.intersects(area))]
    return gdf[gdf.geometry.intersects(area)]


def _check_crs(name: str, gdf: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
    if gdf is None:
        return None
    if gdf.crs is None:
        raise CRSError(f"map layer '{name}' has no CRS (expected EPSG:4326)")
    return gdf if gdf.crs.to_epsg() == 4326 else gdf.to_crs("EPSG:4326")


_STATIC = Path(__file__).parent / "static" / "leaflet"


def _inline_leaflet() -> tuple[str, str]:
    """Leaflet's JS and CSS (layer-control icons as data: URIs) for embedding in a page."""
    import base64

    js_path, css_path = _STATIC / "leaflet.js", _STATIC / "leaflet.css"
    if not js_path.exists() or not css_path.exists():
        raise OutputError(f"Leaflet files missing in {_STATIC}; reinstall siteplan or use "
                          "assets='cdn'")
    js = re.sub(r"//# sourceMappingURL=\S+", "", js_path.read_text(encoding="utf-8"))
    css = css_path.read_text(encoding="utf-8")
    for name in ("layers.png", "layers-2x.png"):
        png = _STATIC / "images" / name
        if png.exists():
            uri = "data:image/png;base64," + base64.b64encode(png.read_bytes()).decode("ascii")
            css = css.replace(f"url(images/{name})", f"url({uri})")
    return js, css


class _Legend(MacroElement):
    """A fixed HTML box on the map (legend, title or note)."""

    _template = Template(
        """
        {% macro html(this, kwargs) %}
        <div class="siteplan-box" style="{{ this.css }}">{{ this.body }}</div>
        {% endmacro %}
        """
    )

    def __init__(self, body: str, css: str) -> None:
        super().__init__()
        self._name = "Legend"
        self.body = body
        self.css = css


class _Attribution(MacroElement):
    """Metric scale bar, and source attributions in Leaflet's attribution control."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        L.control.scale({imperial: false, maxWidth: 160}).addTo({{ this._parent.get_name() }});
        {{ this._parent.get_name() }}.attributionControl.setPrefix(false);
        {%- if this.text %}
        {{ this._parent.get_name() }}.attributionControl.addAttribution({{ this.text|tojson }});
        {%- endif %}
        {% endmacro %}
        """
    )

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "Attribution"
        self.text = text


def _legend_html(labels: dict, threshold: int, police_minutes: Sequence[float],
                 show_catchments: bool) -> str:
    dot = ('<span style="display:inline-block;width:11px;height:11px;border-radius:50%;'
           'background:{c};border:1px solid #333;margin-right:5px;vertical-align:middle"></span>')
    rows = ['<b>村 villages · 覆盖状态 coverage</b>']
    rows += [dot.format(c=c) + _esc(lbl) for c, lbl in STATUS_STYLE.values()]
    rows.append('<span style="color:#555">圆点大小 = 留守儿童数 (size = children; '
                f'"{_esc(small_cell_label(threshold))}" 与 "{SECONDARY_MARK}" 已隐去 suppressed)</span>')
    rows.append('<b>站点 sites</b>')
    for lbl, sym, col in FACILITY_GROUPS.values():
        rows.append(f'<span style="color:{col};font-size:14px;margin-right:5px">{sym}</span>{_esc(lbl)}')
    rows.append('<span style="display:inline-block;width:15px;height:15px;border-radius:3px;'
                'border:1px solid #000;background:#d7301f;color:#fff;font-size:10px;text-align:center;line-height:15px;'
                'margin-right:5px">1</span>拟建站点(优先序) proposed site (rank)')
    if show_catchments:
        rows.append('<span style="display:inline-block;width:14px;height:9px;background:#1b7837;'
                    'opacity:.35;margin-right:5px"></span>现有服务范围 existing catchment')
        rows.append('<span style="display:inline-block;width:14px;height:9px;border:2px dashed '
                    '#d7301f;margin-right:5px"></span>拟建服务范围 proposed catchment')
    rows.append('<b>警情响应 police response (layer)</b>')
    rows += [dot.format(c=c) + _esc(lbl)
             for c, lbl in zip(POLICE_COLOURS[-len(police_minutes) - 2:],
                               _police_labels(police_minutes), strict=True)]
    return "<br>".join(rows)


def make_map(
    counties: gpd.GeoDataFrame,
    townships: gpd.GeoDataFrame | None,
    villages: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame | None = None,
    sites_proposed: gpd.GeoDataFrame | None = None,
    catchments: gpd.GeoDataFrame | None = None,
    labels: dict | None = None,
    *,
    county_code: str | None = None,
    tiles: str | None = "osm",
    threshold: int = 10,
    care_types: Sequence[str] = tuple(DEFAULT_CARE_SITE_TYPES),
    police_minutes: Sequence[float] = (15.0, 30.0),
    simplify_m: float = 30.0,
    assets: str = "inline",
    _shown: pd.Series | None = None,
) -> folium.Map:
    """Build the interactive map of the city or of one county.

    Parameters
    ----------
    counties : GeoDataFrame
        ``county_code``, ``county_name``, Polygon geometry; EPSG:4326 (others reprojected).
    townships : GeoDataFrame or None
        ``town_code``, ``town_name``, ``county_code``, seat Point.
    villages : GeoDataFrame
        Village contract columns plus ``status``, ``nearest_care_time_s``, ``police_time_s``
        (seconds) and ``children`` (whole numbers; shown only suppressed).
    facilities : GeoDataFrame, optional
        ``facility_id``, ``name``, ``facility_type``, ``boarding``, ``source``.
    sites_proposed : GeoDataFrame, optional
        ``site_id``, ``name``, ``site_type``, ``action``, ``rank``, ``capex_cny`` (CNY),
        ``county_code``, ``children_newly_covered``.
    catchments : GeoDataFrame, optional
        ``site_id``, ``kind`` ("existing"/"proposed"), ``minutes``, Polygon geometry.
    labels : dict, optional
        ``attribution`` (text of every source), ``modelled`` (list of modelled layers),
        ``scenario``, ``date``, ``region_name``.
    county_code : str, optional
        Map one county (villages, sites and catchments that touch it); default the city.
    tiles : {"osm", "none", None}
        OpenStreetMap tiles, or no tiles (county boundaries as the background).
    threshold : int
        Small-cell threshold of the suppression (scenario ``outputs.small_cell``).
    care_types : sequence of str
        Facility types drawn as existing care sites.
    police_minutes : sequence of float
        Police response standards, minutes, for the police-time classes.
    simplify_m : float
        Tolerance for simplifying polygons, metres (in EPSG:32648).
    assets : {"inline", "cdn", "local"}
        Where the page gets Leaflet from: ``"inline"`` (default) embeds the Leaflet 1.9.3
        shipped in ``siteplan/outputs/static/leaflet`` (BSD-2) into the page, so the map works
        without internet (about 170 kB per page); ``"cdn"`` uses folium's CDN links (plus
        jQuery/Bootstrap); ``"local"`` loads ``lib/leaflet.js`` and ``lib/leaflet.css`` next to
        the HTML file (see :func:`write_maps` ``assets_dir``).

    Returns
    -------
    folium.Map

    Raises
    ------
    CRSError
        A layer has no CRS.
    OutputError
        ``county_code`` is unknown or ``tiles`` is not one of the allowed values.
    PrivacyError
        Child counts cannot be suppressed (see :func:`suppress_counts`).
    """
    labels = dict(labels or {})
    if tiles not in ("osm", "none", None):
        raise OutputError(f"tiles must be 'osm' or 'none', got {tiles!r}")
    counties = _check_crs("counties", counties)
    townships = _check_crs("townships", townships)
    villages = _check_crs("villages", villages)
    facilities = _check_crs("facilities", facilities)
    sites_proposed = _check_crs("sites_proposed", sites_proposed)
    catchments = _check_crs("catchments", catchments)

    # suppression over the whole city (one consistent pattern for every map)
    shown = (_shown if _shown is not None
             else suppress_village_counts(villages, threshold)["children"])
    region = str(labels.get("region_name") or labels.get("region") or "广元市")
    if county_code is not None:
        county_code = str(county_code)
        sel = counties[counties["county_code"].astype(str) == county_code]
        if sel.empty:
            raise OutputError(f"unknown county_code '{county_code}'")
        area = sel.geometry.union_all()
        keep = villages["county_code"].astype(str) == county_code
        villages, shown = villages[keep], shown[keep]
        if townships is not None:
            townships = townships[townships["county_code"].astype(str) == county_code]
        if facilities is not None:
            facilities = facilities[facilities.geometry.intersects(area)]
        if sites_proposed is not None:
            sites_proposed = _in_county(sites_proposed, county_code, area)
        if catchments is not None:
            catchments = catchments[catchments.geometry.intersects(area)]
        title = f"{region} {sel['county_name'].iloc[0]} 留守儿童关爱服务站点规划"
        bounds = sel.total_bounds
    else:
        title = f"{region} 留守儿童关爱服务站点规划"
        bounds = counties.total_bounds

    minx, miny, maxx, maxy = (float(b) for b in bounds)
    m = folium.Map(
        location=[(miny + maxy) / 2, (minx + maxx) / 2],
        zoom_start=9,
        tiles=None,
        control_scale=False,  # a metric-only scale is added below
        prefer_canvas=True,
    )
    if assets not in ("inline", "cdn", "local"):
        raise OutputError(f"assets must be 'inline', 'cdn' or 'local', got {assets!r}")
    if assets == "local":
        m.default_js = [("leaflet", "lib/leaflet.js")]
        m.default_css = [("leaflet_css", "lib/leaflet.css")]
    elif assets == "inline":
        m.default_js, m.default_css = [], []
        js, css = _inline_leaflet()
        m.get_root().header.add_child(Element(f"<style>{css}</style>"), name="leaflet_css")
        m.get_root().header.add_child(Element(f"<script>{js}</script>"), name="leaflet_js")
    m.get_root().header.add_child(Element('<meta charset="utf-8">'), name="meta_charset", index=0)
    m.get_root().header.add_child(Element(
        "<style>.siteplan-box{font:12px/1.45 'Noto Sans CJK SC','Microsoft YaHei',sans-serif;"
        "background:rgba(255,255,255,.93);border:1px solid #888;border-radius:4px;"
        "padding:6px 9px;position:fixed;z-index:1000;box-shadow:0 1px 4px rgba(0,0,0,.3)}"
        ".siteplan-site{background:#d7301f;color:#fff;border:1.5px solid #000;border-radius:3px;"
        "text-align:center;font:bold 10px/18px sans-serif;box-shadow:0 0 2px #000}"
        ".siteplan-sym{font-size:14px;line-height:14px;text-align:center;"
        "text-shadow:0 0 2px #fff,0 0 2px #fff}</style>"))
    if tiles == "osm":
        folium.TileLayer("OpenStreetMap", name="OpenStreetMap",
                         attr="© OpenStreetMap contributors", control=False).add_to(m)
    # keep the mapped area clear of the legend (left) and the title (top)
    m.fit_bounds([[miny, minx], [maxy, maxx]], padding_top_left=(330, 60),
                 padding_bottom_right=(10, 40))

    # --- county boundaries (the background in tile-less mode)
    cb = _simplify(counties, simplify_m)
    cprops = pd.DataFrame({"name": [_esc(n) for n in cb["county_name"]],
                           "code": [_esc(c) for c in cb["county_code"]]})
    fill = tiles in ("none", None)
    folium.GeoJson(
        _features(cb, cprops), name="县界 county boundaries",
        style_function=lambda f, fill=fill: {
            "color": "#444", "weight": 1.6, "fill": fill,
            "fillColor": "#f4f1ea", "fillOpacity": 1.0 if fill else 0.0},
        tooltip=folium.GeoJsonTooltip(["name"], aliases=["县 county"]) if county_code is None else None,
        control=False,
    ).add_to(m)
    if county_code is not None:
        # surrounding counties greyed for context, the mapped county outlined strongly
        folium.GeoJson(
            _features(cb[cb["county_code"].astype(str) == county_code], cprops[
                (cb["county_code"].astype(str) == county_code).to_numpy()]),
            style_function=lambda f: {"color": "#111", "weight": 3, "fill": False},
            control=False,
        ).add_to(m)

    # --- catchments
    if catchments is not None and len(catchments):
        cm = _simplify(catchments, simplify_m)
        for kind, label, style in (
            ("existing", "现有服务范围 existing catchments",
             {"color": "#1b7837", "weight": 0.5, "fillColor": "#1b7837", "fillOpacity": 0.15}),
            ("proposed", "拟建服务范围 proposed catchments",
             {"color": "#d7301f", "weight": 1.5, "dashArray": "5,4", "fillColor": "#d7301f",
              "fillOpacity": 0.08}),
        ):
            part = cm[cm["kind"].astype(str) == kind]
            if len(part) == 0:
                continue
            props = pd.DataFrame({"site": [_esc(s) for s in part["site_id"]],
                                  "min": [f"{x:g}" for x in part["minutes"]]})
            folium.GeoJson(_features(part, props), name=label,
                           style_function=lambda f, s=style: s,
                           tooltip=folium.GeoJsonTooltip(["site", "min"],
                                                         aliases=["站点 site", "分钟 minutes"]),
                           show=(kind == "proposed")).add_to(m)

    # --- villages by coverage status, and by police time (second layer)
    vt = villages
    vprops = pd.DataFrame({
        "name": [_esc(n) for n in vt["village_name"]],
        "town": [_esc(n) for n in vt.get("town_name", vt["town_code"])],
        "children": [_esc(s) for s in shown],
        "status": [_esc(STATUS_STYLE.get(str(s), ("", str(s)))[1]) for s in vt["status"]],
        "care_min": _minutes(vt["nearest_care_time_s"]),
        "police_min": _minutes(vt["police_time_s"]) if "police_time_s" in vt else "—",
        "src": [_esc(s) for s in vt.get("children_source", pd.Series("", index=vt.index))],
    })
    radius = [_size_class(s, threshold) for s in shown]
    colour = [STATUS_STYLE.get(str(s), ("#999999", ""))[0] for s in vt["status"]]
    style_of = {i: {"radius": r, "fill": True, "fillColor": c, "color": "#333", "weight": 0.6,
                    "fillOpacity": 0.9}
                for i, (r, c) in enumerate(zip(radius, colour, strict=True))}
    vfc = _features(vt, vprops)
    tip_fields = ["name", "town", "children", "status", "care_min", "police_min", "src"]
    tip_alias = ["村 village", "乡镇 township", "留守儿童 children", "覆盖 coverage",
                 "最近站点 nearest care (min)", "警情响应 police (min)", "儿童数来源 source"]
    folium.GeoJson(
        vfc, name="村 覆盖状态 villages by coverage",
        marker=folium.CircleMarker(),
        style_function=lambda f, s=style_of: s[f["id"]],
        tooltip=folium.GeoJsonTooltip(tip_fields, aliases=tip_alias, sticky=False),
    ).add_to(m)
    if "police_time_s" in vt:
        pcls = police_class(vt["police_time_s"], police_minutes).to_numpy()
        pal = POLICE_COLOURS[-len(police_minutes) - 2:]
        pstyle = {i: {"radius": r, "fill": True, "fillColor": pal[c], "color": "#333",
                      "weight": 0.6,
                      "fillOpacity": 0.9}
                  for i, (r, c) in enumerate(zip(radius, pcls, strict=True))}
        folium.GeoJson(
            vfc, name="村 警情响应时间 villages by police response time",
            marker=folium.CircleMarker(),
            style_function=lambda f, s=pstyle: s[f["id"]],
            tooltip=folium.GeoJsonTooltip(tip_fields, aliases=tip_alias, sticky=False),
            show=False,
        ).add_to(m)

    # --- township seats
    if townships is not None and len(townships):
        tprops = pd.DataFrame({"name": [_esc(n) for n in townships["town_name"]]})
        folium.GeoJson(
            _features(townships, tprops), name="乡镇驻地 township seats",
            marker=folium.CircleMarker(),
            style_function=lambda f: {"radius": 2.5, "color": "#000", "weight": 1, "fill": True,
                                      "fillColor": "#fff", "fillOpacity": 1},
            tooltip=folium.GeoJsonTooltip(["name"], aliases=["乡镇 township"]),
            show=county_code is not None,
        ).add_to(m)

    # --- facilities by group
    if facilities is not None and len(facilities):
        ft = facilities["facility_type"].astype(str)
        boarding = facilities.get("boarding", pd.Series(False, index=facilities.index))
        boarding = boarding.fillna(False).astype(bool)
        groups = {
            "care": ft.isin(list(care_types)),
            "school": ft.isin(_SCHOOL_TYPES) & ~boarding & ~ft.isin(list(care_types)),
            "boarding": ft.isin(_SCHOOL_TYPES) & boarding & ~ft.isin(list(care_types)),
            "police": ft == "police",
            "rescue_station": ft == "rescue_station",
            "welfare_home": ft == "welfare_home",
        }
        for key, mask in groups.items():
            part = facilities[mask.to_numpy()]
            if len(part) == 0:
                continue
            label, sym, col = FACILITY_GROUPS[key]
            props = pd.DataFrame({
                "name": [_esc(n) for n in part["name"]],
                "type": [_esc(t) for t in part["facility_type"]],
                "boarding": ["是 yes" if b else "否 no"
                             for b in part.get("boarding", pd.Series(False, index=part.index))
                             .fillna(False).astype(bool)],
                "src": [_esc(s) for s in part.get("source", pd.Series("", index=part.index))],
            })
            icon = folium.DivIcon(
                html=f'<div class="siteplan-sym" style="color:{col}">{sym}</div>',
                icon_size=(14, 14), icon_anchor=(7, 7), class_name="siteplan-icon")
            folium.GeoJson(
                _features(part, props), name=label,
                marker=folium.Marker(icon=icon),
                tooltip=folium.GeoJsonTooltip(["name", "type", "boarding", "src"],
                                              aliases=["名称 name", "类型 type",
                                                       "寄宿 boarding", "来源 source"]),
                show=key in ("care", "boarding", "rescue_station", "welfare_home")
                or county_code is not None,
            ).add_to(m)

    # --- proposed sites with rank
    if sites_proposed is not None and len(sites_proposed):
        fg = folium.FeatureGroup(name="拟建站点 proposed sites (rank)")
        sp = sites_proposed.assign(
            _r=pd.to_numeric(sites_proposed.get("rank"), errors="coerce")
        ).sort_values("_r", ascending=False)  # rank 1 drawn on top
        geoms = _round_geom(sp.geometry)
        for g, (_, r) in zip(geoms, sp.iterrows(), strict=True):
            rank_v = pd.to_numeric(pd.Series([r.get("rank")]), errors="coerce").iloc[0]
            rank = 0 if pd.isna(rank_v) else int(rank_v)
            capex = pd.to_numeric(pd.Series([r.get("capex_cny")]), errors="coerce").iloc[0]
            capex_txt = "—" if pd.isna(capex) else f"{float(capex) / 1e4:,.1f} 万元 (CNY 10k)"
            newly = pd.to_numeric(pd.Series([r.get("children_newly_covered")]),
                                  errors="coerce").iloc[0]
            newly_txt = "—" if pd.isna(newly) else (
                small_cell_label(threshold) if 0 < int(newly) < threshold else str(int(newly)))
            action = {"new": "新建 new", "upgrade": "改建 upgrade"}.get(str(r.get("action", "")),
                                                                      str(r.get("action", "")))
            body = (f"<b>#{rank} {_esc(r.get('name', ''))}</b><br>"
                    f"类型 type: {_esc(r.get('site_type', ''))}<br>"
                    f"方式 action: {_esc(action)}<br>"
                    f"投资 capex: {capex_txt}<br>"
                    f"新增覆盖儿童 children newly covered: {_esc(newly_txt)}<br>"
                    f"编号 id: {_esc(r.get('site_id', ''))}")
            size = 18 if rank < 100 else 24
            folium.Marker(
                [g.y, g.x],
                icon=folium.DivIcon(html=f'<div class="siteplan-site" style="width:{size}px;'
                                         f'height:{size}px;line-height:{size}px">{rank}</div>',
                                    icon_size=(size, size), icon_anchor=(size // 2, size // 2),
                                    class_name="siteplan-icon"),
                tooltip=folium.Tooltip(body),
            ).add_to(fg)
        fg.add_to(m)

    folium.LayerControl(collapsed=True, position="topright").add_to(m)

    # --- title, legend, notes, attribution
    modelled = labels.get("modelled") or []
    note = ""
    if modelled:
        note = ("<b>模拟数据 modelled data:</b> " + _esc(", ".join(map(str, modelled)))
                + " — 非实测 not surveyed<br>")
    scen = _esc(labels.get("scenario", ""))
    date = _esc(labels.get("date", ""))
    attribution = str(labels.get("attribution", "© OpenStreetMap contributors"))
    _Legend(f"<b style='font-size:15px'>{_esc(title)}</b><br>"
            f"<span style='color:#555'>方案 scenario: {scen} · {date}</span>",
            "top:10px;left:55px;max-width:60%").add_to(m)
    _Legend(_legend_html(labels, threshold, police_minutes,
                         catchments is not None and len(catchments) > 0),
            "bottom:42px;left:10px;max-height:72%;overflow:auto").add_to(m)
    release = labels.get("release_note_web", "示意图，非正式出版地图 (公开使用须取得审图号) — "
                                             "illustrative, not for publication")
    _Legend(note + "数据来源 sources: " + _esc(attribution) + (f"<br>{_esc(release)}" if release else ""),
            "bottom:30px;right:10px;max-width:34%;font-size:11px").add_to(m)
    parts = [a.strip() for a in attribution.split(";") if a.strip()]
    if tiles == "osm":  # the tile layer already credits OpenStreetMap
        parts = [a for a in parts if "OpenStreetMap" not in a]
    _Attribution(_esc("; ".join(parts))).add_to(m)
    return m


def write_maps(
    out_dir: str | Path,
    counties: gpd.GeoDataFrame,
    townships: gpd.GeoDataFrame | None,
    villages: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame | None = None,
    sites_proposed: gpd.GeoDataFrame | None = None,
    catchments: gpd.GeoDataFrame | None = None,
    labels: dict | None = None,
    *,
    tiles: str | None = "osm",
    assets_dir: str | Path | None = None,
    **kwargs: Any,
) -> list[Path]:
    """Write ``maps/city.html`` and ``maps/<county_code>.html`` for every county.

    Parameters
    ----------
    out_dir : str or Path
        The run's output folder; maps go into ``out_dir/maps``.
    counties, townships, villages, facilities, sites_proposed, catchments, labels
        As for :func:`make_map` (EPSG:4326).
    tiles : {"osm", "none", None}
        As for :func:`make_map` (scenario ``outputs.tiles``).
    assets_dir : str or Path, optional
        A folder with ``leaflet.js`` and ``leaflet.css`` (and ``images/``) to copy into
        ``maps/lib`` and load from there (``assets="local"``); default: Leaflet is inlined
        into every page (``assets="inline"``, works offline).
    **kwargs
        Passed to :func:`make_map` (``threshold``, ``care_types``, ``police_minutes``, ...).

    Returns
    -------
    list of Path
        The written HTML files, city first.

    Raises
    ------
    OutputError
        ``assets_dir`` lacks leaflet.js/leaflet.css; or as :func:`make_map`.
    """
    maps_dir = Path(out_dir) / "maps"
    maps_dir.mkdir(parents=True, exist_ok=True)
    assets = kwargs.pop("assets", "inline")
    if assets_dir is not None:
        src = Path(assets_dir)
        if not (src / "leaflet.js").exists() or not (src / "leaflet.css").exists():
            raise OutputError(f"assets_dir {src} must contain leaflet.js and leaflet.css")
        shutil.copytree(src, maps_dir / "lib", dirs_exist_ok=True)
        assets = "local"
    written = []
    codes: list[str | None] = [None, *sorted(counties["county_code"].astype(str))]
    shown = suppress_village_counts(villages, kwargs.get("threshold", 10))["children"]
    for code in codes:
        m = make_map(counties, townships, villages, facilities, sites_proposed, catchments,
                     labels, county_code=code, tiles=tiles, assets=assets, _shown=shown,
                     **kwargs)
        path = maps_dir / f"{code or 'city'}.html"
        m.save(str(path))
        written.append(path)
    return written


def html_text(path: str | Path) -> str:
    """The HTML of a written map with JSON ``\\uXXXX`` escapes decoded (for checks and tests)."""
    raw = Path(path).read_text(encoding="utf-8")
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), raw)
