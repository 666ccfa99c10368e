"""Tests of the folium maps (siteplan.outputs.maps)."""

from __future__ import annotations

import re

import pytest

from siteplan.errors import OutputError
from siteplan.outputs.fixtures import synthetic_inputs
from siteplan.outputs.maps import html_text, make_map, police_class, write_maps

HOSTILE = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def full():
    d = synthetic_inputs()  # full size: 1,735 villages, 146 townships, 7 counties
    d.pop("roads")
    return d


@pytest.fixture(scope="module")
def written(tmp_path_factory, full):
    out = tmp_path_factory.mktemp("run")
    d = dict(full)
    labels = d.pop("labels")
    paths = write_maps(out, labels=labels, tiles="none", **d)
    return out, paths


def test_one_city_map_and_one_per_county(written, full):
    out, paths = written
    names = sorted(p.name for p in paths)
    expected = sorted(["city.html"] + [f"{c}.html" for c in full["counties"].county_code])
    assert names == expected
    assert paths[0].name == "city.html"
    assert all(p.parent == out / "maps" for p in paths)


def test_size_bound_with_full_size_data(written):
    _, paths = written
    sizes = {p.name: p.stat().st_size for p in paths}
    assert sizes["city.html"] < 10e6, sizes
    assert max(v for k, v in sizes.items() if k != "city.html") < 3e6, sizes


def test_hostile_village_name_is_escaped(written, full):
    out, _ = written
    county = full["villages"].county_code.iloc[0]  # the hostile village's county
    for name in ("city.html", f"{county}.html"):
        raw = (out / "maps" / name).read_text(encoding="utf-8")
        text = html_text(out / "maps" / name)  # \\u003c etc. decoded as the browser would
        assert HOSTILE not in raw
        assert HOSTILE not in text
        assert "&lt;img src=x onerror=alert(1)&gt;" in text


def test_page_declares_utf8_and_has_chinese_text(written):
    out, _ = written
    raw = (out / "maps" / "city.html").read_bytes()
    assert b'<meta charset="utf-8">' in raw[:1024]
    text = html_text(out / "maps" / "city.html")
    assert "广元市" in text and "已覆盖" in text


def test_legend_layers_scale_attribution_and_modelled_note(written, full):
    out, _ = written
    text = html_text(out / "maps" / "510821.html")
    for needle in ("L.control.layers", "L.control.scale", "siteplan-box",
                   "OpenStreetMap contributors", "天地图 Tianditu", "GeoNames (CC BY 4.0)",
                   "模拟数据 modelled data", "village locations", "审图号",
                   "村 警情响应时间", "拟建站点", "寄宿制学校", "派出所", "救助管理站",
                   "现有服务范围", "拟建服务范围"):
        assert needle in text, needle
    assert "tile.openstreetmap.org" not in text  # tile-less mode


def test_coordinates_rounded_to_5_decimals(written):
    out, _ = written
    raw = (out / "maps" / "510802.html").read_text(encoding="utf-8")
    coords = re.findall(r'"coordinates": \[(-?\d+\.\d+), (-?\d+\.\d+)\]', raw)
    assert coords
    assert all(len(x.split(".")[1]) <= 5 and len(y.split(".")[1]) <= 5 for x, y in coords)


def test_counts_shown_only_suppressed(full):
    d = dict(full)
    labels = d.pop("labels")
    v = d["villages"].copy()
    v.loc[v.index[1], ["children", "children_0_5", "children_6_13", "children_14_16"]] = [7, 2, 3, 2]
    d["villages"] = v
    m = make_map(labels=labels, county_code=v.county_code.iloc[1], tiles="osm", **d)
    text = re.sub(r"\\u([0-9a-fA-F]{4})", lambda g: chr(int(g.group(1), 16)),
                  m.get_root().render())
    assert '"children": "7"' not in text
    assert '"children": "&lt;10"' in text  # shown as "<10" by the tooltip
    assert "tile.openstreetmap.org" in text and "OpenStreetMap contributors" in text


def test_bad_arguments(full):
    d = dict(full)
    labels = d.pop("labels")
    with pytest.raises(OutputError, match="unknown county_code"):
        make_map(labels=labels, county_code="999999", **d)
    with pytest.raises(OutputError, match="tiles"):
        make_map(labels=labels, tiles="google", **d)


def test_police_classes():
    import numpy as np
    import pandas as pd

    s = pd.Series([60.0, 900.0, 901.0, 1800.0, 5000.0, np.inf, np.nan])
    assert police_class(s, (15, 30)).tolist() == [0, 0, 1, 1, 2, 3, 3]


def test_osm_mode_credits_openstreetmap_once(full):
    d = dict(full)
    labels = d.pop("labels")
    text = html_text_of(make_map(labels=labels, county_code="510802", tiles="osm", **d))
    assert text.count("© OpenStreetMap contributors") == 1 + text.count("数据来源 sources: © OpenStreetMap")
    assert "天地图 Tianditu; GeoNames (CC BY 4.0)" in text
    assert "L.control.scale" in text


def html_text_of(m) -> str:
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda g: chr(int(g.group(1), 16)), m.get_root().render())


def test_inline_assets_make_the_page_self_contained(written):
    out, _ = written  # written with the default assets="inline"
    raw = (out / "maps" / "510802.html").read_text(encoding="utf-8")
    assert not re.search(r'<script[^>]+src="https?:', raw)
    assert not re.search(r'<link[^>]+href="https?:', raw)
    assert "L.version" in raw or "Leaflet" in raw  # leaflet.js is in the page
    assert "data:image/png;base64," in raw  # layer-control icon inlined


def test_cdn_assets_option(full):
    d = dict(full)
    labels = d.pop("labels")
    raw = make_map(labels=labels, county_code="510802", assets="cdn", **d).get_root().render()
    assert re.search(r'<script[^>]+src="https://cdn.jsdelivr.net/npm/leaflet', raw)
    with pytest.raises(OutputError, match="assets"):
        make_map(labels=labels, county_code="510802", assets="ftp", **d)


def test_proposed_sites_show_rank_type_action_and_cost(written, full):
    out, _ = written
    sp = full["sites_proposed"].sort_values("rank").iloc[0]
    text = html_text(out / "maps" / f"{sp.county_code}.html")
    assert f"#{int(sp['rank'])} " in text
    assert f"{sp.capex_cny / 1e4:,.1f} 万元" in text
    assert "类型 type: childrens_home" in text
    assert "改建 upgrade" in text or "新建 new" in text
