"""The print atlas: an A3 landscape page for the city and for every county (matplotlib).

Each page (420 x 297 mm) shows county boundaries, main roads, villages by coverage status,
existing care sites and proposed sites (with rank), a Chinese title, a legend, a true scale bar
(the map is drawn in EPSG:32648, UTM zone 48N, metres, so matplotlib-scalebar measures
metres), a north arrow, the data sources and date, "modelled" labels for modelled layers, and
the reminder that a map for public release needs a map-review number (审图号) from the
natural-resources authority. No national borders and no China-wide insets are drawn.

Chinese text needs a CJK font: :func:`find_cjk_font` looks for Noto Sans CJK (Debian package
``fonts-noto-cjk``) or another installed CJK sans font via :mod:`matplotlib.font_manager`
and raises :class:`~siteplan.errors.OutputError` if there is none -- a page of empty boxes is
never written.

Outputs: ``atlas.pdf`` (all pages, city first) and ``atlas/<county_code>.png`` /
``atlas/city.png`` (150 dpi by default). Inputs are GeoDataFrames in EPSG:4326.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib_scalebar.scalebar import ScaleBar

from siteplan.errors import CRSError, OutputError
from siteplan.outputs.maps import STATUS_STYLE, _count_class, _in_county
from siteplan.outputs.privacy import SECONDARY_MARK, small_cell_label, suppress_village_counts
from siteplan.scenario import DEFAULT_CARE_SITE_TYPES

#: A3 landscape in inches (420 x 297 mm).
A3_LANDSCAPE_IN = (420 / 25.4, 297 / 25.4)
#: Projected CRS the pages are drawn in (metres; the scale bar is true).
ATLAS_CRS = "EPSG:32648"
#: CJK fonts tried in order (regular weight).
CJK_FONT_NAMES = (
    "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN",
    "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "Microsoft YaHei", "SimHei", "PingFang SC",
    "Noto Sans CJK TC", "Noto Sans CJK JP",
)
#: Road classes drawn as the background ("main roads").
MAIN_ROAD_CLASSES = ("motorway", "trunk", "primary", "secondary", "tertiary", "county_road")
_ROAD_STYLE = {"motorway": (1.6, "#a05a2c"), "trunk": (1.4, "#a05a2c"), "primary": (1.1, "#b07a4c"),
               "secondary": (0.9, "#9a9a9a"), "tertiary": (0.7, "#a8a8a8"),
               "county_road": (0.7, "#a8a8a8")}
_PROBE = "广元市留守儿童关爱服务站点规划图审图号"
RELEASE_NOTE = ("本图为规划工作用图，不作公开出版；公开使用须报自然资源主管部门审核并取得审图号。"
                "  Working map, not for publication: public release needs a map-review number "
                "(审图号) from the natural-resources authority.")


def find_cjk_font(names: Sequence[str] = CJK_FONT_NAMES) -> tuple[str, Path]:
    """Find an installed CJK sans-serif font that has glyphs for Chinese text.

    Parameters
    ----------
    names : sequence of str
        Family names to try, in order of preference.

    Returns
    -------
    (str, Path)
        The family name (for ``font.family``) and the font file.

    Raises
    ------
    OutputError
        No CJK font is installed (install ``fonts-noto-cjk``); Chinese text would render as
        empty boxes otherwise.
    """
    from matplotlib.ft2font import FT2Font

    entries = {}
    for f in font_manager.fontManager.ttflist:
        if f.weight in (400, "normal", "regular") and f.style == "normal":
            entries.setdefault(f.name, f)
    for name in names:
        f = entries.get(name)
        if f is None:
            continue
        try:
            cmap = FT2Font(f.fname).get_charmap()
        except Exception:  # pragma: no cover - unreadable font file
            continue
        if all(ord(c) in cmap for c in _PROBE):
            return name, Path(f.fname)
    raise OutputError(
        "no CJK font found for the atlas (tried: " + ", ".join(names) + "); "
        "install one, e.g. `apt-get install fonts-noto-cjk`, then delete matplotlib's font "
        "cache (~/.cache/matplotlib) so it is found"
    )


def _rc(font_name: str) -> dict:
    return {
        # explicit family (not "sans-serif"): texts keep it after the rc context ends
        "font.family": [font_name, "DejaVu Sans"],
        "axes.unicode_minus": False,
        "pdf.fonttype": 3,
        "svg.fonttype": "path",
    }


def _to_atlas(name: str, gdf: gpd.GeoDataFrame | None, crs: Any = ATLAS_CRS) -> gpd.GeoDataFrame | None:
    if gdf is None:
        return None
    if gdf.crs is None:
        raise CRSError(f"atlas layer '{name}' has no CRS (expected EPSG:4326)")
    return gdf.to_crs(crs)


def atlas_crs(counties: gpd.GeoDataFrame) -> Any:
    """Projected CRS of the atlas pages: the UTM zone of the region (EPSG:32648 for Guangyuan),
    so the scale bar is true; :data:`ATLAS_CRS` when the zone cannot be estimated."""
    try:
        crs = counties.estimate_utm_crs()
    except Exception:  # noqa: BLE001 - empty or degenerate layer: keep the default
        return ATLAS_CRS
    return crs if crs is not None else ATLAS_CRS


def _size(text: str, threshold: int) -> float:
    """Marker area (pt^2) from the display text of a count, never the exact value."""
    return (6.0, 12.0, 20.0, 36.0, 56.0)[_count_class(text, threshold)]


def _north_arrow(ax) -> None:
    ax.annotate("", xy=(0.965, 0.975), xytext=(0.965, 0.905), xycoords="axes fraction",
                arrowprops={"facecolor": "black", "edgecolor": "black", "width": 4,
                            "headwidth": 13, "headlength": 13})
    ax.text(0.965, 0.985, "北 N", transform=ax.transAxes, ha="center", va="bottom",
            fontsize=12, fontweight="bold")


def render_page(
    counties: gpd.GeoDataFrame,
    townships: gpd.GeoDataFrame | None,
    villages: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame | None = None,
    sites_proposed: gpd.GeoDataFrame | None = None,
    roads: gpd.GeoDataFrame | None = None,
    labels: dict | None = None,
    *,
    catchments: gpd.GeoDataFrame | None = None,
    county_code: str | None = None,
    threshold: int = 10,
    care_types: Sequence[str] = tuple(DEFAULT_CARE_SITE_TYPES),
    font: str | None = None,
    _shown: pd.Series | None = None,
) -> Figure:
    """Draw one A3 landscape atlas page (the city, or one county).

    Parameters
    ----------
    counties, townships, villages, facilities, sites_proposed, roads : GeoDataFrame
        The layers in EPSG:4326 (reprojected to EPSG:32648 for drawing). ``villages`` needs
        ``status`` and ``children``; ``roads`` needs ``road_class`` (main classes drawn).
    labels : dict, optional
        ``attribution``, ``modelled`` (list of modelled layers), ``scenario``, ``date``,
        ``region_name`` (or ``region``).
    catchments : GeoDataFrame, optional
        ``kind`` ("existing"/"proposed"), Polygon geometry; proposed catchments are drawn as
        dashed outlines on county pages.
    county_code : str, optional
        The county to draw; default the city overview.
    threshold : int
        Small-cell threshold (marker sizes use suppressed classes only).
    care_types : sequence of str
        Facility types drawn as existing care sites.
    font : str, optional
        CJK font family; default :func:`find_cjk_font`.

    Returns
    -------
    matplotlib.figure.Figure
        420 x 297 mm, with an Agg canvas attached (call ``savefig``).

    Raises
    ------
    OutputError
        No CJK font; unknown ``county_code``.
    CRSError
        A layer has no CRS.
    """
    labels = dict(labels or {})
    font = font or find_cjk_font()[0]
    if _shown is None:
        _shown = suppress_village_counts(villages, threshold)["children"]
    if counties.crs is None:
        raise CRSError("atlas layer 'counties' has no CRS (expected EPSG:4326)")
    crs = atlas_crs(counties)
    cty = _to_atlas("counties", counties, crs)
    vil = _to_atlas("villages", villages, crs)
    twn = _to_atlas("townships", townships, crs)
    fac = _to_atlas("facilities", facilities, crs)
    sp = _to_atlas("sites_proposed", sites_proposed, crs)
    rd = _to_atlas("roads", roads, crs)
    region = str(labels.get("region_name") or labels.get("region") or "广元市")
    cat = _to_atlas("catchments", catchments, crs)
    from pyproj import CRS as _CRS

    crs_label = f"{_CRS.from_user_input(crs).name} (EPSG:{_CRS.from_user_input(crs).to_epsg()})"
    release_note = labels.get("release_note", RELEASE_NOTE)

    import matplotlib as mpl

    with mpl.rc_context(_rc(font)):
        fig = Figure(figsize=A3_LANDSCAPE_IN)
        FigureCanvasAgg(fig)
        ax = fig.add_axes((0.02, 0.085, 0.70, 0.80))
        if county_code is not None:
            county_code = str(county_code)
            sel = cty[cty["county_code"].astype(str) == county_code]
            if sel.empty:
                raise OutputError(f"unknown county_code '{county_code}'")
            cname = str(sel["county_name"].iloc[0])
            title = f"{region}{cname} 农村留守儿童关爱服务站点规划图"
            keep = (vil["county_code"].astype(str) == county_code).to_numpy()
            vil, shown = vil[keep], _shown[keep]
            if twn is not None:
                twn = twn[twn["county_code"].astype(str) == county_code]
            area = sel.geometry.union_all()
            if sp is not None:
                sp = _in_county(sp, county_code, area)
            if fac is not None:
                fac = fac[fac.geometry.intersects(area)]
            cty.plot(ax=ax, facecolor="#ececec", edgecolor="#9a9a9a", linewidth=0.8, zorder=1)
            sel.plot(ax=ax, facecolor="#fbfaf6", edgecolor="#222", linewidth=2.2, zorder=2)
            bounds = np.asarray(area.bounds)
        else:
            title = f"{region} 农村留守儿童关爱服务站点规划图（全市）"
            shown = _shown
            cty.plot(ax=ax, facecolor="#fbfaf6", edgecolor="#333", linewidth=1.4, zorder=2)
            bounds = cty.total_bounds
        # view: bounds + margin, widened to the axes' aspect so the page is filled
        minx, miny, maxx, maxy = bounds
        w, h = maxx - minx, maxy - miny
        cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
        ax_w, ax_h = 0.70 * A3_LANDSCAPE_IN[0], 0.80 * A3_LANDSCAPE_IN[1]
        half_w, half_h = 0.53 * w, 0.53 * h
        if half_w / half_h < ax_w / ax_h:
            half_w = half_h * ax_w / ax_h
        else:
            half_h = half_w * ax_h / ax_w
        ax.set_xlim(cx - half_w, cx + half_w)
        ax.set_ylim(cy - half_h, cy + half_h)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_xlabel("")
        ax.set_ylabel("")
        ax.set_facecolor("#dfe6ea")

        if rd is not None and len(rd):
            view = rd.cx[cx - half_w: cx + half_w, cy - half_h: cy + half_h]
            for cls, (lw, col) in _ROAD_STYLE.items():
                part = view[view["road_class"].astype(str) == cls]
                if len(part):
                    part.plot(ax=ax, color=col, linewidth=lw, zorder=3)

        if county_code is not None and cat is not None and len(cat):
            pc = cat[(cat["kind"].astype(str) == "proposed").to_numpy()]
            if sp is not None and "site_id" in sp.columns and "site_id" in pc.columns:
                pc = pc[pc["site_id"].astype(str).isin(sp["site_id"].astype(str))]
            else:
                pc = pc[pc.geometry.intersects(area)]
            if len(pc):
                pc.boundary.plot(ax=ax, color="#d7301f", linewidth=0.8, linestyle="--", zorder=4)

        # villages by status, sized by suppressed class
        sizes = np.array([_size(s, threshold) for s in shown])
        status = vil["status"].astype(str).to_numpy()
        for key, (col, _lbl) in STATUS_STYLE.items():
            m = status == key
            if m.any():
                ax.scatter(vil.geometry.x[m], vil.geometry.y[m], s=sizes[m], c=col,
                           edgecolors="#333", linewidths=0.3, zorder=5)

        # facilities: existing care sites; rescue stations and welfare home
        if fac is not None and len(fac):
            ft = fac["facility_type"].astype(str)
            care = fac[ft.isin(list(care_types)).to_numpy()]
            ax.scatter(care.geometry.x, care.geometry.y, marker="s", s=22, c="#1b7837",
                       edgecolors="white", linewidths=0.5, zorder=6)
            for t, mk, col in (("rescue_station", "P", "#c51b7d"), ("welfare_home", "H", "#c51b7d")):
                part = fac[(ft == t).to_numpy()]
                ax.scatter(part.geometry.x, part.geometry.y, marker=mk, s=90, c=col,
                           edgecolors="white", linewidths=0.6, zorder=7)

        # township seats and names (county pages); county names (city page)
        if county_code is not None and twn is not None and len(twn):
            ax.scatter(twn.geometry.x, twn.geometry.y, s=10, c="black", marker="o", zorder=8)
            for x, y, n in zip(twn.geometry.x, twn.geometry.y, twn["town_name"], strict=True):
                ax.text(x, y + 0.004 * (2 * half_h), str(n), fontsize=7, ha="center", parse_math=False,
                        va="bottom", color="#222", zorder=9,
                        bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none",
                              "alpha": 0.6})
        if county_code is None:
            for _, r in cty.iterrows():
                p = r.geometry.representative_point()
                ax.text(p.x, p.y, str(r["county_name"]), fontsize=15, ha="center", va="center",
                        parse_math=False,
                        color="#111", fontweight="bold", zorder=9,
                        bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "#666",
                              "alpha": 0.8})

        # proposed sites: red squares with the rank (county pages) or stars (city page)
        if sp is not None and len(sp):
            sps = sp.assign(_r=pd.to_numeric(sp["rank"], errors="coerce").fillna(0)).sort_values(
                "_r", ascending=False)
            if county_code is not None:
                ax.scatter(sps.geometry.x, sps.geometry.y, s=170, marker="s", c="#d7301f",
                           edgecolors="black", linewidths=0.9, zorder=10)
                for x, y, rk in zip(sps.geometry.x, sps.geometry.y, sps["_r"], strict=True):
                    ax.text(x, y, str(int(rk)), fontsize=6.5, ha="center", va="center",
                            color="white", fontweight="bold", zorder=11)
            else:
                ax.scatter(sps.geometry.x, sps.geometry.y, s=170, marker="*", c="#d7301f",
                           edgecolors="black", linewidths=0.7, zorder=10)

        ax.add_artist(ScaleBar(1, "m", location="lower left", box_alpha=0.85,
                               font_properties={"size": 11}, length_fraction=0.2))
        _north_arrow(ax)
        ax.set_xlabel("")  # (geopandas labels the axes with the CRS; a map needs none)
        ax.set_ylabel("")
        modelled = labels.get("modelled") or []
        if modelled:  # above the legend column, wrapped: never hides data or the subtitle
            import textwrap

            text = textwrap.fill("模拟数据 MODELLED: " + "、".join(map(str, modelled)), width=44)
            fig.text(0.745, 0.925, text, ha="left", va="center", fontsize=10, color="#b2182b",
                     parse_math=False, linespacing=1.3,
                     bbox={"fc": "white", "ec": "#b2182b", "boxstyle": "round,pad=0.3"})

        # title
        fig.text(0.02, 0.955, title, fontsize=24, fontweight="bold", ha="left", va="center",
                 parse_math=False)
        sub = f"方案 scenario: {labels.get('scenario', '')}    日期 date: {labels.get('date', '')}"
        fig.text(0.02, 0.912, sub, fontsize=12, ha="left", va="center", color="#444",
                 parse_math=False)

        # legend panel
        dot = {"marker": "o", "linestyle": "none", "markeredgecolor": "#333",
               "markeredgewidth": 0.4}
        handles = [Line2D([], [], markerfacecolor=c, markersize=8, label=lbl, **dot)
                   for c, lbl in STATUS_STYLE.values()]
        handles += [
            Line2D([], [], marker="s", linestyle="none", markerfacecolor="#1b7837",
                   markeredgecolor="white", markersize=8, label="现有关爱站点 existing care site"),
            Line2D([], [], marker="s" if county_code is not None else "*", linestyle="none",
                   markerfacecolor="#d7301f", markeredgecolor="black", markersize=11,
                   label=("拟建站点（数字为优先序） proposed site (rank)" if county_code is not None
                          else "拟建站点 proposed site")),
            Line2D([], [], marker="P", linestyle="none", markerfacecolor="#c51b7d",
                   markeredgecolor="white", markersize=10, label="救助管理站 rescue station"),
            Line2D([], [], marker="H", linestyle="none", markerfacecolor="#c51b7d",
                   markeredgecolor="white", markersize=10, label="儿童福利院 child welfare home"),
            Line2D([], [], marker="o", linestyle="none", color="black", markersize=4,
                   label="乡镇驻地 township seat"),
            Line2D([], [], color="#b07a4c", linewidth=1.2, label="主要道路 main road"),
            Patch(facecolor="#fbfaf6", edgecolor="#222", label="县界 county boundary"),
        ]
        if county_code is not None and cat is not None and len(cat):
            handles.append(Line2D([], [], color="#d7301f", linewidth=1.0, linestyle="--",
                                  label="拟建站点服务范围 proposed catchment"))
        lax = fig.add_axes((0.74, 0.42, 0.245, 0.46))
        lax.axis("off")
        leg = lax.legend(handles=handles, loc="upper left", frameon=True, fontsize=10.5,
                         title="图例 Legend", title_fontsize=13, borderpad=0.9,
                         labelspacing=0.85)
        # place the notes just below the legend box, whatever its height
        bb = leg.get_window_extent(renderer=fig.canvas.get_renderer())
        below = fig.transFigure.inverted().transform((bb.x0, bb.y0))[1] - 0.015
        size_note = (f"村点大小表示留守儿童数分级；\"{small_cell_label(threshold)}\" 与 "
                     f"\"{SECONDARY_MARK}\" 为隐去的小数。\n"
                     "Village dot size = class of child count; small counts suppressed.")
        fig.text(0.745, below, size_note, fontsize=9, va="top", ha="left", color="#333",
                 wrap=True)

        # summary numbers (suppressed) for the page
        n_vil = len(vil)
        cov = {k: int((status == k).sum()) for k in STATUS_STYLE}
        lines = [f"村数 villages: {n_vil}"]
        lines += [f"{STATUS_STYLE[k][1]}: {v}" for k, v in cov.items()]
        if sp is not None:
            lines.append(f"拟建站点 proposed sites: {len(sp)}")
            capex = pd.to_numeric(sp.get("capex_cny"), errors="coerce")
            if capex is not None and len(sp) and capex.notna().any():
                lines.append(f"投资 capex: {float(capex.sum()) / 1e4:,.0f} 万元")
        fig.text(0.745, below - 0.06, "\n".join(lines), fontsize=10, va="top", ha="left",
                 linespacing=1.5)

        # footer: sources, modelled, release note
        foot = (f"数据来源 Sources: {labels.get('attribution', '')}"
                + (f"\n模拟图层 Modelled layers: {'、'.join(map(str, modelled))}（非实测 not surveyed）"
                   if modelled else "")
                + f"\n坐标系 CRS: {crs_label}。{release_note}")
        fig.text(0.02, 0.012, foot, fontsize=8.5, va="bottom", ha="left", color="#333",
                 linespacing=1.45, parse_math=False)
    return fig


def write_atlas(
    out_dir: str | Path,
    counties: gpd.GeoDataFrame,
    townships: gpd.GeoDataFrame | None,
    villages: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame | None = None,
    sites_proposed: gpd.GeoDataFrame | None = None,
    roads: gpd.GeoDataFrame | None = None,
    labels: dict | None = None,
    *,
    catchments: gpd.GeoDataFrame | None = None,
    dpi: int = 150,
    counties_to_draw: Sequence[str] | None = None,
    **kwargs,
) -> list[Path]:
    """Write ``atlas.pdf`` (city page first, then every county) and one PNG per page.

    Parameters
    ----------
    out_dir : str or Path
        The run's output folder: ``out_dir/atlas.pdf`` and ``out_dir/atlas/<code>.png``
        (``atlas/city.png`` for the overview).
    counties, townships, villages, facilities, sites_proposed, roads, labels, catchments
        As for :func:`render_page` (EPSG:4326).
    dpi : int
        Resolution of the PNGs (the PDF is vector).
    counties_to_draw : sequence of str, optional
        County codes to draw (default all, sorted).
    **kwargs
        Passed to :func:`render_page` (``threshold``, ``care_types``).

    Returns
    -------
    list of Path
        The PDF, then the PNGs in page order.

    Raises
    ------
    OutputError
        No CJK font, or a glyph is missing from the chosen font while drawing.
    """
    font, _ = find_cjk_font()
    out_dir = Path(out_dir)
    png_dir = out_dir / "atlas"
    png_dir.mkdir(parents=True, exist_ok=True)
    threshold = kwargs.get("threshold", 10)
    shown = suppress_village_counts(villages, threshold)["children"]
    codes: list[str | None] = [None, *(counties_to_draw if counties_to_draw is not None
                                       else sorted(counties["county_code"].astype(str)))]
    pdf_path = out_dir / "atlas.pdf"
    pngs = []
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=r"Glyph .* missing from")
        try:
            with PdfPages(pdf_path) as pdf:
                for code in codes:
                    fig = render_page(counties, townships, villages, facilities, sites_proposed,
                                      roads, labels, catchments=catchments, county_code=code,
                                      font=font, _shown=shown, **kwargs)
                    png = png_dir / f"{code or 'city'}.png"
                    fig.savefig(png, dpi=dpi)
                    pdf.savefig(fig)
                    pngs.append(png)
                d = pdf.infodict()
                d["Title"] = f"{(labels or {}).get('region_name', '广元市')} 留守儿童关爱服务站点规划图集"
                d["Creator"] = "siteplan"
        except UserWarning as w:
            raise OutputError(f"atlas text cannot be drawn with font '{font}': {w}") from None
    return [pdf_path, *pngs]
