"""Writers of a run's outputs: privacy suppression, GIS files, web maps and the print atlas.

Submodules are imported lazily so that ``import siteplan.outputs`` stays cheap:

* :mod:`siteplan.outputs.privacy` -- ``suppress_counts``, ``suppress_totals``,
  ``assert_no_child_records``
* :mod:`siteplan.outputs.gis` -- ``write_geopackage``, ``write_shapefiles``, ``read_shapefiles``
* :mod:`siteplan.outputs.maps` -- ``make_map``, ``write_maps`` (folium)
* :mod:`siteplan.outputs.atlas` -- ``find_cjk_font``, ``render_page``, ``write_atlas``
  (matplotlib, A3)
* :mod:`siteplan.outputs.fixtures` -- ``synthetic_inputs`` (made-up data for tests/previews)
"""

from __future__ import annotations

import importlib

_WHERE = {
    "suppress_counts": "privacy", "suppress_totals": "privacy",
    "assert_no_child_records": "privacy",
    "write_geopackage": "gis", "write_shapefiles": "gis", "read_shapefiles": "gis",
    "make_map": "maps", "write_maps": "maps",
    "find_cjk_font": "atlas", "render_page": "atlas", "write_atlas": "atlas",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(importlib.import_module(f"siteplan.outputs.{_WHERE[name]}"), name)
    raise AttributeError(name)
