"""Chinese offset coordinate systems: GCJ-02 (国测局, "Mars") and BD-09 (Baidu) to WGS84.

Maps and geocoders inside China (Amap/高德, Tencent, Baidu) publish GCJ-02 or BD-09
coordinates: WGS84 shifted by an obfuscating, non-linear offset (about 410–440 m in
Guangyuan for GCJ-02 and about 1.0–1.05 km for BD-09). Planners copying a point from such a map
must have it converted before it meets WGS84 data.

The forward WGS84→GCJ-02 formula is the widely published one (eviltransform /
coordtransform: Krasovsky 1940 ellipsoid ``a = 6378245``, ``ee = 0.00669342162296594323``);
the inverse has no closed form and is solved here by fixed-point iteration to better than
1e-9 degrees. BD-09 is GCJ-02 with Baidu's additional polar-coordinate offset; its inverse is
also iterated, so every round trip closes to well under 1 m.

Points outside China's rough bounding box (lon 72.004–137.8347, lat 0.8293–55.8271, as in
eviltransform) are returned unchanged, because the offset is applied only inside China.

All functions are vectorised: they take scalars or numpy arrays of any (equal) shape and
return float64 arrays of that shape, in degrees.

References
----------
- googollee/eviltransform (MIT) and wandergis/coordtransform (MIT): the published formulas.
- hujiulong/gcoord test vectors (MIT) used in ``tests/test_io_coords.py``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "in_china",
    "to_wgs84",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

_A = 6378245.0  # Krasovsky 1940 semi-major axis, metres
_EE = 0.00669342162296594323  # first eccentricity squared
_X_PI = np.pi * 3000.0 / 180.0
_TOL = 1e-10  # degrees; ~0.01 mm
_MAX_ITER = 50


def _arrays(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(lon, dtype="float64")
    y = np.asarray(lat, dtype="float64")
    x, y = np.broadcast_arrays(x, y)
    return x.copy(), y.copy()


def in_china(lon: ArrayLike, lat: ArrayLike) -> np.ndarray:
    """Whether points fall in the rough box where the GCJ-02 offset applies.

    Parameters
    ----------
    lon, lat : array_like of float, same shape
        Longitude and latitude in degrees.

    Returns
    -------
    numpy.ndarray of bool, same shape
        True inside lon 72.004–137.8347 and lat 0.8293–55.8271 (eviltransform's box).
    """
    x, y = _arrays(lon, lat)
    return (x >= 72.004) & (x <= 137.8347) & (y >= 0.8293) & (y <= 55.8271)


def _delta(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 offset (dlon, dlat) in degrees at WGS84 point(s)."""
    x = lon - 105.0
    y = lat - 35.0
    sqx = np.sqrt(np.abs(x))
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    t_lat = (
        -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqx
        + common
        + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
        + (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    )
    t_lon = (
        300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqx
        + common
        + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
        + (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    )
    rad = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (t_lat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (t_lon * 180.0) / (_A / sqrt_magic * np.cos(rad) * np.pi)
    return dlon, dlat


def _invert(
    forward: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]],
    tx: np.ndarray,
    ty: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    inside: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Solve ``forward(x, y) == (tx, ty)`` by fixed-point iteration from ``(x, y)``.

    Each step moves the guess by the residual (``w <- w - (forward(w) - t)``) until every
    point ``inside`` is within ``_TOL`` degrees (or ``_MAX_ITER`` steps); points outside
    are returned as the target, unchanged.
    """
    for _ in range(_MAX_ITER):
        fx, fy = forward(x, y)
        ex, ey = fx - tx, fy - ty
        x, y = x - ex, y - ey
        if np.all(np.abs(ex[inside]) < _TOL) and np.all(np.abs(ey[inside]) < _TOL):
            break
    return np.where(inside, x, tx), np.where(inside, y, ty)


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Convert WGS84 (EPSG:4326) coordinates to GCJ-02.

    Parameters
    ----------
    lon, lat : array_like of float, same shape
        WGS84 longitude and latitude, degrees.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        GCJ-02 longitude and latitude, degrees, float64, same shape; points outside China
        unchanged.
    """
    x, y = _arrays(lon, lat)
    inside = in_china(x, y)
    dlon, dlat = _delta(x, y)
    return np.where(inside, x + dlon, x), np.where(inside, y + dlat, y)


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Convert GCJ-02 coordinates to WGS84 by iterating the forward formula.

    Solves ``wgs84_to_gcj02(w) == g`` for ``w`` by fixed-point iteration
    (``w <- w - (forward(w) - g)``), which converges to < 1e-10 degrees in a few steps.

    Parameters
    ----------
    lon, lat : array_like of float, same shape
        GCJ-02 longitude and latitude, degrees.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        WGS84 longitude and latitude, degrees, float64, same shape; points outside China
        unchanged.
    """
    gx, gy = _arrays(lon, lat)
    inside = in_china(gx, gy)
    dlon, dlat = _delta(gx, gy)
    return _invert(wgs84_to_gcj02, gx, gy, gx - dlon, gy - dlat, inside)


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Convert GCJ-02 coordinates to BD-09 (Baidu).

    Parameters
    ----------
    lon, lat : array_like of float, same shape
        GCJ-02 longitude and latitude, degrees.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        BD-09 longitude and latitude, degrees; points outside China unchanged.
    """
    x, y = _arrays(lon, lat)
    inside = in_china(x, y)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    bx = z * np.cos(theta) + 0.0065
    by = z * np.sin(theta) + 0.006
    return np.where(inside, bx, x), np.where(inside, by, y)


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Convert BD-09 (Baidu) coordinates to GCJ-02.

    Starts from Baidu's published approximate inverse and refines it by iterating
    :func:`gcj02_to_bd09`, so the round trip closes to < 1e-10 degrees.

    Parameters
    ----------
    lon, lat : array_like of float, same shape
        BD-09 longitude and latitude, degrees.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        GCJ-02 longitude and latitude, degrees; points outside China unchanged.
    """
    bx, by = _arrays(lon, lat)
    inside = in_china(bx, by)
    x, y = bx - 0.0065, by - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return _invert(gcj02_to_bd09, bx, by, z * np.cos(theta), z * np.sin(theta), inside)


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Convert WGS84 coordinates to BD-09 (via GCJ-02).

    Parameters
    ----------
    lon, lat : array_like of float, same shape
        WGS84 longitude and latitude, degrees.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        BD-09 longitude and latitude, degrees; points outside China unchanged.
    """
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Convert BD-09 (Baidu) coordinates to WGS84 (via GCJ-02).

    Parameters
    ----------
    lon, lat : array_like of float, same shape
        BD-09 longitude and latitude, degrees.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        WGS84 longitude and latitude, degrees; points outside China unchanged.
    """
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def to_wgs84(lon: ArrayLike, lat: ArrayLike, system: str) -> tuple[np.ndarray, np.ndarray]:
    """Convert coordinates in ``system`` ("wgs84", "gcj02" or "bd09") to WGS84.

    Parameters
    ----------
    lon, lat : array_like of float, same shape
        Longitude and latitude in degrees, in ``system``.
    system : {"wgs84", "gcj02", "bd09"}
        The datum of the input (``DataConfig.coordinate_system``).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        WGS84 longitude and latitude, degrees.

    Raises
    ------
    ValueError
        ``system`` is not one of the three names.
    """
    s = str(system).lower().replace("-", "").replace("_", "")
    if s == "wgs84":
        return _arrays(lon, lat)
    if s == "gcj02":
        return gcj02_to_wgs84(lon, lat)
    if s == "bd09":
        return bd09_to_wgs84(lon, lat)
    raise ValueError(f"unknown coordinate system '{system}' (use wgs84, gcj02 or bd09)")
