"""Coordinate and header sanity checks shared by every reader: one definition of each.

- :data:`VN_BOX` — Viet Nam's extent with a margin (lon 101–110.5 E, lat 7.5–24 N): a coordinate outside
  it is not a Vietnamese site (a typo, a swapped pair, metres read as degrees).
- :func:`looks_swapped` — most valid (x, y) pairs read as (lat, lon) of Viet Nam: a file-level mistake.
- :func:`looks_projected` — values beyond ±180/±90: metres (VN-2000, UTM) without a CRS saying so.
- :func:`impossible` — per row: not finite or beyond ±180/±90 (that row only is rejected).
- :data:`LON_HEADERS`, :data:`LAT_HEADERS` — folded header names that mean longitude / latitude.

Only numpy is imported here.

Examples
--------
>>> import numpy as np
>>> looks_swapped(np.array([21.3, 21.4, 105.6]), np.array([105.6, 105.7, 21.3]))
True
>>> looks_projected(np.array([560_000.0, 105.6]), np.array([2_360_000.0, 21.3]))
False
>>> impossible(np.array([105.6, 1e300, np.nan]), np.array([21.3, 21.3, 21.3])).tolist()
[False, True, True]
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "LAT_HEADERS",
    "LON_HEADERS",
    "VN_BOX",
    "VN_LAT",
    "VN_LON",
    "impossible",
    "in_vietnam",
    "looks_projected",
    "looks_swapped",
]

#: Viet Nam's extent with a margin: (min lon, min lat, max lon, max lat), degrees.
VN_BOX = (101.0, 7.5, 110.5, 24.0)
VN_LON = (VN_BOX[0], VN_BOX[2])
VN_LAT = (VN_BOX[1], VN_BOX[3])

#: Folded (lower-case, no diacritics, ``_`` as space) headers that name longitude / latitude columns.
LON_HEADERS = ("lon", "lng", "long", "longitude", "x", "kinh do", "kinhdo")
LAT_HEADERS = ("lat", "latitude", "y", "vi do", "vido")


def _finite(x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    xa, ya = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    ok = np.isfinite(xa) & np.isfinite(ya)
    return xa[ok], ya[ok]


def in_vietnam(x: Any, y: Any) -> np.ndarray:
    """Per pair: inside :data:`VN_BOX` (longitude x, latitude y)."""
    xa, ya = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    with np.errstate(invalid="ignore"):
        inside: np.ndarray = (xa >= VN_LON[0]) & (xa <= VN_LON[1]) & (ya >= VN_LAT[0]) & (ya <= VN_LAT[1])
    return inside


def looks_swapped(x: Any, y: Any) -> bool:
    """More than half of the finite pairs are (latitude, longitude) of Viet Nam rather than (lon, lat)."""
    xa, ya = _finite(x, y)
    if not len(xa):
        return False
    return bool(in_vietnam(ya, xa).mean() > 0.5)


def impossible(x: Any, y: Any) -> np.ndarray:
    """Per pair: not a longitude/latitude at all (not finite, or beyond ±180 / ±90)."""
    xa, ya = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    with np.errstate(invalid="ignore"):
        good: np.ndarray = np.isfinite(xa) & np.isfinite(ya) & (np.abs(xa) <= 180) & (np.abs(ya) <= 90)
    return ~good


def looks_projected(x: Any, y: Any) -> bool:
    """More than half of the finite pairs are beyond ±180 / ±90: metres, not degrees.

    One absurd value among good rows is that row's problem (:func:`impossible`), not the file's.
    """
    xa, ya = _finite(x, y)
    if not len(xa):
        return False
    return bool(((np.abs(xa) > 180) | (np.abs(ya) > 90)).mean() > 0.5)
