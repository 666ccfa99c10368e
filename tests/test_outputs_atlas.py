"""Tests of the print atlas (siteplan.outputs.atlas)."""

from __future__ import annotations

import io
import re
import warnings

import pytest
from matplotlib.figure import Figure
from matplotlib.ft2font import FT2Font

from siteplan.errors import OutputError
from siteplan.outputs.atlas import A3_LANDSCAPE_IN, find_cjk_font, render_page, write_atlas
from siteplan.outputs.fixtures import synthetic_inputs

CHINESE = "广元市旺苍县 农村留守儿童关爱服务站点规划图 审图号 北"


@pytest.fixture(scope="module")
def small():
    d = synthetic_inputs(n_villages=150, n_townships=14, seed=5)
    d.pop("catchments")
    return d


def _render(text: str, family: list[str]) -> None:
    fig = Figure(figsize=(4, 1))
    fig.text(0.05, 0.5, text, family=family)
    fig.savefig(io.BytesIO(), format="png", dpi=40)


def test_cjk_font_is_found_and_has_the_glyphs():
    name, path = find_cjk_font()
    assert "CJK" in name or "Han" in name or "Hei" in name
    cmap = FT2Font(str(path)).get_charmap()
    assert all(ord(c) in cmap for c in CHINESE if not c.isspace())


def test_chinese_renders_without_missing_glyphs():
    name, _ = find_cjk_font()
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=r"Glyph .* missing")
        _render(CHINESE, [name, "DejaVu Sans"])


def test_the_glyph_check_can_fail():
    # control: without a CJK font matplotlib warns (that is what boxes on a page look like)
    with pytest.warns(UserWarning, match=r"Glyph .* missing"):
        _render(CHINESE, ["DejaVu Sans"])


def test_missing_cjk_font_is_a_clear_error():
    with pytest.raises(OutputError, match="fonts-noto-cjk"):
        find_cjk_font(names=("No Such Font CJK",))


def test_page_is_a3_landscape_and_draws_all_text_with_real_glyphs(small):
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=r"Glyph .* missing")
        fig = render_page(county_code="510821", **small)
        fig.savefig(io.BytesIO(), format="png", dpi=30)
    w, h = fig.get_size_inches()
    assert (round(w * 25.4), round(h * 25.4)) == (420, 297)
    assert A3_LANDSCAPE_IN[0] > A3_LANDSCAPE_IN[1]
    texts = " ".join(t.get_text() for t in fig.texts)
    for needle in ("旺苍县", "审图号", "OpenStreetMap", "模拟图层", "scenario"):
        assert needle in texts, needle
    ax = fig.axes[0]
    assert any(type(a).__name__ == "ScaleBar" for a in ax.artists)
    assert any("北" in t.get_text() for t in ax.texts)
    assert any("MODELLED" in t.get_text() for t in fig.texts)


def test_write_atlas_pdf_and_pngs(tmp_path, small):
    paths = write_atlas(tmp_path, dpi=40, counties_to_draw=["510802", "510821"], **small)
    assert [p.name for p in paths] == ["atlas.pdf", "city.png", "510802.png", "510821.png"]
    pdf = paths[0].read_bytes()
    assert pdf.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 3  # city + 2 counties
    fonts = set(re.findall(rb"/BaseFont /([A-Za-z0-9+\-]+)", pdf))
    assert any(b"CJK" in f for f in fonts), fonts  # Chinese drawn with the CJK font
    from PIL import Image

    with Image.open(paths[2]) as im:
        w, h = im.size
    assert abs(w - 420 / 25.4 * 40) <= 1 and abs(h - 297 / 25.4 * 40) <= 1


def test_unknown_county(small):
    with pytest.raises(OutputError, match="unknown county_code"):
        render_page(county_code="000000", **small)


def test_dollar_signs_in_names_are_plain_text(small):
    d = dict(small)
    t = d["townships"].copy()
    t.loc[t.index[0], "town_name"] = "a$\\frac{1}{$b"
    d["townships"] = t
    code = t["county_code"].iloc[0]
    fig = render_page(county_code=code, **d)
    fig.savefig(io.BytesIO(), format="png", dpi=20)  # mathtext would raise on this name
