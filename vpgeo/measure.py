"""Measure sites against corridor lines, in metres, in EPSG:5897.

:func:`corridor_distances` gives every site its distance to every corridor, to the nearest corridor of
the chosen set, and to the nearest access point (a limited-access road is reachable only there).
:func:`corridor_rings` draws non-overlapping distance bands around a corridor set.

Examples
--------
>>> import geopandas as gpd
>>> from shapely.geometry import LineString, Point
>>> lines = gpd.GeoDataFrame(
...     {"corridor_id": ["A"], "name": ["A"], "precision_m": [100.0], "priority": [True]},
...     geometry=[LineString([(500000, 2350000), (510000, 2350000)])], crs="EPSG:5897")
>>> pts = gpd.GeoDataFrame({"site_id": ["s"], "precision_m": [50.0]},
...     geometry=[Point(505000, 2353000)], crs="EPSG:5897")
>>> d = corridor_distances(pts, lines, corridor_set=None, access_points=None)
>>> float(d.loc[0, "distance_km"]), d.loc[0, "nearest_corridor"], float(d.loc[0, "corridor_precision_m"])
(3.0, 'A', 100.0)
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from vpgeo.crs import to_metric, to_wgs84
from vpgeo.errors import InputError

__all__ = ["corridor_distances", "corridor_rings", "distance_column"]


def distance_column(corridor_id: str) -> str:
    """Name of the per-corridor distance column, e.g. ``dist_CT05_km``."""
    return f"dist_{corridor_id}_km"


def _select(corridors: gpd.GeoDataFrame, corridor_set: str | Sequence[str] | None) -> gpd.GeoDataFrame:
    if corridor_set is None:
        return corridors
    from vpgeo.corridors import select_corridors

    return select_corridors(corridors, corridor_set)


def _default_corridors(corridors: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
    if corridors is not None:
        missing = {"corridor_id"} - set(corridors.columns)
        if missing:
            raise InputError("corridors need a 'corridor_id' column naming each corridor", field="corridor_id")
        return corridors
    from vpgeo.datasets import load_corridors

    return load_corridors()


def corridor_distances(
    sites: gpd.GeoDataFrame,
    corridors: gpd.GeoDataFrame | None = None,
    *,
    corridor_set: str | Sequence[str] | None = "plan",
    access_points: gpd.GeoDataFrame | bool | None = True,
) -> gpd.GeoDataFrame:
    """Metric distances from each site (point or polygon) to the corridors.

    Parameters
    ----------
    sites : GeoDataFrame
        Any CRS; rows with empty or null geometry get NaN distances (they are kept, never dropped).
    corridors : GeoDataFrame, optional
        Corridor sections with ``corridor_id`` and ``precision_m``; the embedded corridors by default.
        Several rows may share a ``corridor_id`` (sections); a corridor's distance is the minimum.
    corridor_set : str or sequence of str or None
        Which corridors count for ``distance_km``/``nearest_corridor`` (see
        :data:`vpgeo.corridors.CORRIDOR_SETS`); ``None`` uses every corridor given.
    access_points : GeoDataFrame, bool or None
        Points where the corridors can be entered. ``True`` uses the embedded interchanges and junctions of
        the selected corridors (not mainline toll plazas); ``None``/``False`` skips ``access_km``.

    Returns
    -------
    GeoDataFrame
        ``sites`` (same rows, order, CRS) plus ``dist_<corridor_id>_km`` for every corridor given,
        ``distance_km`` and ``nearest_corridor`` over the selected set, ``corridor_precision_m``
        (precision of the nearest section), and ``access_km``/``nearest_access`` when asked.
    """
    return _corridor_distances(sites, corridors, corridor_set=corridor_set, access_points=access_points)[0]


def _corridor_distances(
    sites: gpd.GeoDataFrame,
    corridors: gpd.GeoDataFrame | None,
    *,
    corridor_set: str | Sequence[str] | None,
    access_points: gpd.GeoDataFrame | bool | None,
) -> tuple[gpd.GeoDataFrame, dict[str, np.ndarray]]:
    """:func:`corridor_distances`, plus the precision of each corridor's nearest section per site."""
    corridors = _default_corridors(corridors)
    chosen = _select(corridors, corridor_set)
    site_m = to_metric(sites, operation="corridor_distances")
    corr_m = to_metric(corridors, operation="corridor_distances", warn=False)
    geoms = site_m.geometry.to_numpy()
    valid = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))

    out = sites.copy()
    ids = list(dict.fromkeys(corr_m["corridor_id"].astype(str)))
    precision = pd.to_numeric(corr_m.get("precision_m", pd.Series(np.nan, index=corr_m.index)), "coerce")
    best_prec: dict[str, np.ndarray] = {}
    for cid in ids:
        rows = corr_m[corr_m["corridor_id"].astype(str) == cid]
        sec = rows.geometry.to_numpy()
        dist = np.full((len(geoms), len(sec)), np.nan)
        if valid.any():
            dist[valid] = shapely.distance(geoms[valid, None], sec[None, :])
        d_min = np.full(len(geoms), np.nan)
        p_min = np.full(len(geoms), np.nan)
        if len(sec) and valid.any():
            j = np.nanargmin(np.where(np.isnan(dist), np.inf, dist), axis=1)
            d_min = np.where(valid, dist[np.arange(len(geoms)), j], np.nan)
            p_min = np.where(valid, precision.loc[rows.index].to_numpy(dtype=float)[j], np.nan)
        out[distance_column(cid)] = d_min / 1000.0
        best_prec[cid] = p_min

    chosen_ids = list(dict.fromkeys(chosen["corridor_id"].astype(str)))
    if chosen_ids:
        stack = np.column_stack([out[distance_column(c)].to_numpy(dtype=float) for c in chosen_ids])
        filled = np.where(np.isnan(stack), np.inf, stack)
        k = filled.argmin(axis=1)
        has = np.isfinite(filled.min(axis=1))
        out["distance_km"] = np.where(has, stack[np.arange(len(stack)), k], np.nan)
        out["nearest_corridor"] = np.where(has, np.array(chosen_ids, dtype=object)[k], None)
        prec = np.column_stack([best_prec[c] for c in chosen_ids])
        out["corridor_precision_m"] = np.where(has, prec[np.arange(len(prec)), k], np.nan)
    else:
        out["distance_km"], out["nearest_corridor"], out["corridor_precision_m"] = np.nan, None, np.nan

    if access_points is True:
        from vpgeo.datasets import load_access_points

        access = load_access_points()
        # a mainline toll plaza is no way onto the road
        access = access[access["corridor_id"].astype(str).isin(chosen_ids) & (access["kind"] != "toll")]
    elif access_points is None or access_points is False:
        access = None
    else:
        access = access_points
    if access is not None and len(access):
        acc_m = to_metric(access, operation="corridor_distances (access points)", warn=False)
        tree = shapely.STRtree(acc_m.geometry.to_numpy())
        idx = np.full(len(geoms), -1)
        acc_dist: np.ndarray = np.full(len(geoms), np.nan)
        if valid.any():
            (src, tgt), d = tree.query_nearest(geoms[valid], return_distance=True, all_matches=False)
            vi = np.flatnonzero(valid)[src]
            idx[vi], acc_dist[vi] = tgt, d
        names = acc_m["name"].astype(str).to_numpy() if "name" in acc_m else acc_m.index.astype(str).to_numpy()
        out["access_km"] = acc_dist / 1000.0
        out["nearest_access"] = np.where(idx >= 0, names[np.maximum(idx, 0)], None)
    elif access is not None:
        out["access_km"], out["nearest_access"] = np.nan, None
    return out, best_prec


def corridor_rings(
    corridors: gpd.GeoDataFrame | None = None,
    *,
    rings_km: Sequence[float] = (2.0, 5.0, 10.0),
    corridor_set: str | Sequence[str] | None = "plan",
    clip: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Non-overlapping distance bands around the selected corridors (EPSG:4326, for display).

    Parameters
    ----------
    corridors : GeoDataFrame, optional
        Corridor lines; the embedded corridors by default.
    rings_km : sequence of float
        Strictly increasing outer distances in km; the first band starts at the line.
    corridor_set : str, sequence of str or None
        Corridors to buffer (see :func:`corridor_distances`).
    clip : GeoDataFrame, optional
        Polygons (e.g. the province's districts) the bands are clipped to for display.

    Returns
    -------
    GeoDataFrame
        One row per band with ``band`` (e.g. ``"2–5 km"``), ``inner_km``, ``outer_km``, ``area_km2``
        (after clipping, measured in EPSG:5897).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import LineString
    >>> line = gpd.GeoDataFrame({"corridor_id": ["A"]}, crs="EPSG:5897",
    ...                         geometry=[LineString([(500000, 2350000), (510000, 2350000)])])
    >>> r = corridor_rings(line, rings_km=(1, 2), corridor_set=None)
    >>> # a stadium: 10 km × 2r plus a disc of radius r; 0–1 km: 20 + π, 1–2 km: 40 + 4π − (20 + π)
    >>> list(r["band"]), [round(a, 1) for a in r["area_km2"]]
    (['0–1 km', '1–2 km'], [23.1, 29.4])
    """
    rings = [float(r) for r in rings_km]
    if not rings or any(r <= 0 for r in rings) or any(b <= a for a, b in pairwise(rings)):
        raise InputError(f"rings_km must be positive and strictly increasing, got {list(rings_km)}")
    chosen = _select(_default_corridors(corridors), corridor_set)
    lines = shapely.union_all(to_metric(chosen, operation="corridor_rings", warn=False).geometry.to_numpy())
    area = None
    if clip is not None:
        area = shapely.union_all(to_metric(clip, operation="corridor_rings (clip)", warn=False).geometry.to_numpy())
    rows, inner, previous = [], 0.0, None
    for outer in rings:
        disc = shapely.buffer(lines, outer * 1000.0, quad_segs=16)
        band = disc if previous is None else shapely.difference(disc, previous)
        if area is not None:
            band = shapely.intersection(band, area)
        rows.append(
            {
                "band": f"{inner:g}–{outer:g} km",
                "inner_km": inner,
                "outer_km": outer,
                "area_km2": float(shapely.area(band)) / 1e6,
                "geometry": band,
            }
        )
        previous, inner = disc, outer
    return to_wgs84(gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:5897"))
