"""Input readers and validation with Chinese data conventions.

- :func:`read_table`: CSV (UTF-8, UTF-8-BOM, GBK/GB18030) and ``.xlsx`` with every cell as
  text; never silent mojibake.
- :func:`points_from_table` and :func:`read_layer`: coordinates and GIS layers to EPSG:4326
  with CRS, lat/lon swap, region-extent and geometry checks.
- :mod:`siteplan.io.coords`: GCJ-02 / BD-09 ↔ WGS84.
- ``load_*``: the contract tables of ``docs/architecture.md``.
- :func:`aggregate_ledger`: the child ledger (信息台账) counted per village, names and ID
  numbers never read.

Errors are :class:`siteplan.errors.InputError` (or :class:`~siteplan.errors.CRSError`)
naming the file, the row (header = row 1 in tables; feature number in GIS layers) and the
column.
"""

from siteplan.io.coords import (
    bd09_to_gcj02,
    bd09_to_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    to_wgs84,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)
from siteplan.io.geo import GUANGYUAN_BOUNDS, check_in_region, points_from_table, read_layer
from siteplan.io.ledger import LEDGER_ALIASES, aggregate_ledger, apply_ledger
from siteplan.io.loaders import (
    load_counties,
    load_facilities,
    load_roads,
    load_townships,
    load_villages,
    normalise_facility_type,
)
from siteplan.io.tables import read_table, to_bool, to_float, to_int

__all__ = [
    "GUANGYUAN_BOUNDS",
    "LEDGER_ALIASES",
    "aggregate_ledger",
    "apply_ledger",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "check_in_region",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "load_counties",
    "load_facilities",
    "load_roads",
    "load_townships",
    "load_villages",
    "normalise_facility_type",
    "points_from_table",
    "read_layer",
    "read_table",
    "to_bool",
    "to_float",
    "to_int",
    "to_wgs84",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]
