"""Coordinate reference systems, and the one metric gate every measurement goes through.

EPSG:5897 (VN-2000 / TM-3 zone 482, central meridian 105°00′) is the province's official metric CRS and
vpgeo's working CRS. EPSG:32648 (UTM 48N) is accepted as metric too. Geographic data are reprojected by
:func:`to_metric`, which names the operation in its warning, so no distance is ever taken in degrees.

Examples
--------
>>> import geopandas as gpd
>>> from shapely.geometry import Point
>>> g = gpd.GeoDataFrame(geometry=[Point(105.6, 21.3)], crs=WGS84)
>>> m = to_metric(g, operation="test", warn=False)
>>> m.crs.to_epsg()
5897
>>> round(m.geometry.x[0] / 1000), round(m.geometry.y[0] / 1000)
(562, 2356)
"""

from __future__ import annotations

import warnings
from functools import lru_cache
from typing import Any, TypeVar

import geopandas as gpd
import numpy as np
from numpy.typing import NDArray
from pyproj import CRS, Transformer

from vpgeo.errors import CRSError, CRSWarning, InputError

__all__ = [
    "METRIC",
    "METRIC_CRSES",
    "UTM48N",
    "VN2000",
    "VN2000_TM3",
    "WGS84",
    "CRSWarning",
    "check_crs",
    "metric_xy",
    "to_metric",
    "to_wgs84",
]

WGS84 = "EPSG:4326"
VN2000 = "EPSG:4756"
VN2000_TM3 = "EPSG:5897"
UTM48N = "EPSG:32648"
METRIC = VN2000_TM3
METRIC_CRSES = frozenset({5897, 32648})

G = TypeVar("G", gpd.GeoDataFrame, gpd.GeoSeries)


def _is_vn2000_without_shift(crs: CRS) -> bool:
    """True for a VN-2000 definition that PROJ would transform to WGS 84 without the datum shift.

    Two shapes are caught: a CRS that names VN-2000 but carries neither a datum PROJ knows nor a
    towgs84 term, and the classic PROJ.4 string for the TM-3 grid (``+proj=tmerc +k=0.9999
    +ellps=WGS84``, no datum) that silently treats VN-2000 coordinates as WGS 84 ones.
    """
    if crs.is_bound:
        return False  # towgs84 present
    datum = (crs.datum.name if crs.datum is not None else "").lower()
    if "vietnam 2000" in datum or "vn-2000" in datum or "vn_2000" in datum:
        return False  # PROJ knows the official transformation for this datum
    text = crs.to_wkt().lower()
    if any(tag in text for tag in ("vn-2000", "vn_2000", "vn2000", "vietnam 2000", "vietnam_2000")):
        return True
    op = crs.coordinate_operation
    if not datum.startswith("unknown") or op is None or "transverse mercator" not in op.method_name.lower():
        return False
    scale = next((p.value for p in op.params if "scale" in p.name.lower()), None)
    return scale is not None and abs(float(scale) - 0.9999) < 1e-9


def check_crs(crs: object, *, operation: str, argument: str = "crs") -> CRS:
    """Validate a CRS for use in vpgeo and return it as a :class:`pyproj.CRS`.

    Parameters
    ----------
    crs : object
        Anything :meth:`pyproj.CRS.from_user_input` accepts.
    operation : str
        What the CRS is needed for, named in error messages.
    argument : str
        The argument or file the CRS came from, named in error messages.

    Raises
    ------
    CRSError
        When the CRS is missing, unreadable, or a VN-2000 definition without the datum shift to WGS 84
        (such a definition puts points about 224 m off).

    Examples
    --------
    >>> check_crs("EPSG:5897", operation="distance").to_epsg()
    5897
    >>> check_crs("+proj=tmerc +lon_0=105 +k=0.9999 +x_0=500000 +ellps=WGS84 +units=m",
    ...           operation="distance")
    Traceback (most recent call last):
    ...
    vpgeo.errors.CRSError: crs: VN-2000 CRS without a datum shift (towgs84) used for distance; ...
    """
    if crs is None:
        raise CRSError(
            f"{argument}: no coordinate reference system, needed for {operation}; set one "
            "(e.g. EPSG:4326 for longitude/latitude, EPSG:5897 for VN-2000 / TM-3 105°00′ metres)"
        )
    try:
        parsed = CRS.from_user_input(crs)
    except Exception as exc:  # pyproj raises its own CRSError, not ours
        raise CRSError(f"{argument}: unreadable CRS {str(crs)[:80]!r} for {operation}: {exc}") from None
    if _is_vn2000_without_shift(parsed):
        raise CRSError(
            f"{argument}: VN-2000 CRS without a datum shift (towgs84) used for {operation}; it puts points "
            "about 224 m off. Use EPSG:5897 (TM-3 105°00′), EPSG:4756, or add "
            "+towgs84=-191.90441429,-39.30318279,-111.45032835,-0.00928836,0.01975479,-0.00427372,0.252906278"
        )
    return parsed


def to_metric(data: G, *, operation: str, crs: str = METRIC, warn: bool = True) -> G:
    """Return ``data`` in a metric CRS, the gate every distance, area and buffer goes through.

    Data already in EPSG:5897 or EPSG:32648 pass unchanged when ``crs`` is the default; anything else is
    reprojected to ``crs``. Data in another projected CRS are reprojected silently; geographic data are
    reprojected with a warning naming ``operation`` when ``warn`` is true.

    Parameters
    ----------
    data : GeoDataFrame or GeoSeries
    operation : str
        Named in the warning and in errors, e.g. ``"corridor_distances"``.
    crs : str
        Target metric CRS, EPSG:5897 by default.
    warn : bool
        Warn when geographic coordinates are reprojected.
    """
    src = check_crs(data.crs, operation=operation, argument="data.crs")
    target = CRS.from_user_input(crs)
    if target.to_epsg() not in METRIC_CRSES:
        raise CRSError(f"crs: {crs!r} is not one of vpgeo's metric CRSes (EPSG:5897, EPSG:32648)")
    if src.to_epsg() == target.to_epsg():
        return data
    if warn and src.is_geographic:
        warnings.warn(
            f"{operation}: geographic coordinates reprojected to {crs} before measuring",
            CRSWarning,
            stacklevel=3,
        )
    return data.to_crs(target)


def metric_xy(data: gpd.GeoSeries | gpd.GeoDataFrame, *, operation: str, crs: str = METRIC) -> NDArray[np.float64]:
    """The (N, 2) metric x, y of point geometries (NaN for missing or empty ones), without new geometries.

    The same gate and the same PROJ transformation as :func:`to_metric` (so the same numbers to the last bit),
    for points only: a million points reprojected in a third of the time ``to_crs`` takes to build new
    geometries. Large inputs are transformed in two halves side by side (PROJ releases the GIL).
    """
    import shapely

    src = check_crs(data.crs, operation=operation, argument="data.crs")
    target = CRS.from_user_input(crs)
    if target.to_epsg() not in METRIC_CRSES:
        raise CRSError(f"crs: {crs!r} is not one of vpgeo's metric CRSes (EPSG:5897, EPSG:32648)")
    geoms = data.geometry.to_numpy() if isinstance(data, gpd.GeoDataFrame) else data.to_numpy()
    types = shapely.get_type_id(geoms)
    if not np.all((types == 0) | (types == -1)):
        raise InputError(
            f"{operation}: metric_xy takes points only; use to_metric for other geometries", field="geometry"
        )
    x, y = np.full(len(geoms), np.nan), np.full(len(geoms), np.nan)  # NaN for None and empty points
    has = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    x[has], y[has] = shapely.get_x(geoms[has]), shapely.get_y(geoms[has])
    if src.to_epsg() != target.to_epsg():  # PROJ turns NaN into inf: transform the real points only
        x[has], y[has] = _transform(_transformer(src.to_wkt(), target.to_wkt()), x[has], y[has])
    return np.column_stack([x, y])


@lru_cache(maxsize=16)
def _transformer(src_wkt: str, target_wkt: str) -> Transformer:
    """One PROJ pipeline per pair of CRSes (building it costs about as much as moving 100,000 points)."""
    return Transformer.from_crs(CRS.from_wkt(src_wkt), CRS.from_wkt(target_wkt), always_xy=True)


def _transform(tr: Transformer, x: NDArray[np.float64], y: NDArray[np.float64]) -> tuple[Any, Any]:
    """``tr.transform(x, y)``, in two halves on two threads when the input is large."""
    from concurrent.futures import ThreadPoolExecutor

    from vpgeo.nearest import default_workers

    if len(x) < 200_000 or default_workers() < 2:
        return tr.transform(x, y)
    half = len(x) // 2
    with ThreadPoolExecutor(max_workers=2) as pool:
        parts = list(pool.map(lambda sl: tr.transform(x[sl], y[sl]), (slice(0, half), slice(half, None))))
    return np.concatenate([parts[0][0], parts[1][0]]), np.concatenate([parts[0][1], parts[1][1]])


def to_wgs84(data: G, *, operation: str = "display") -> G:
    """Return ``data`` in EPSG:4326 for display or export, validating its CRS first."""
    src = check_crs(data.crs, operation=operation, argument="data.crs")
    return data if src.to_epsg() == 4326 else data.to_crs(WGS84)
