"""Measure sites against corridor lines, in metres, in EPSG:5897: the one measurement engine.

:class:`CorridorSet` is the engine every distance in vpgeo goes through (the priority rule, scoring, the
surface): the corridors' line index (:class:`vpgeo.nearest.LineIndex`, exact), the access-point tree, one
toll policy and one meaning of ``nearest_access``. :func:`corridor_distances` gives every site its
distance to every corridor, to the nearest corridor of the chosen set, and to the nearest access point (a
limited-access road is reachable only there). :func:`corridor_rings` draws non-overlapping distance bands
around a corridor set.

Decisions
---------
- **Access points**: a mainline toll plaza (``kind == "toll"``) is no way onto the road, whatever layer it
  comes from, so it is never an access point. ``nearest_access`` is the point's ``access_id`` (else its
  ``name``, else its row label); ``nearest_access_name`` gives the name.
- **Ties** (two corridors sharing a segment, equidistant access points): within :data:`TIE_M` the lowest
  corridor id (resp. access id) wins, so the answer does not depend on the input CRS or row order.

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

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from vpgeo.crs import to_metric, to_wgs84
from vpgeo.errors import InputError
from vpgeo.nearest import LineIndex, default_workers

__all__ = [
    "TIE_M",
    "CorridorSet",
    "Measurement",
    "corridor_distances",
    "corridor_rings",
    "distance_column",
    "embedded_access_points",
]

#: Distances closer than this (metres) are ties, broken by corridor id / access id.
TIE_M = 1e-3
#: The toll policy, recorded in provenance.
ACCESS_POLICY = "interchanges and junctions only: a mainline toll plaza (kind 'toll') is no way onto the road"


def distance_column(corridor_id: str) -> str:
    """Name of the per-corridor distance column, e.g. ``dist_CT05_km``."""
    return f"dist_{corridor_id}_km"


def embedded_access_points(corridor_ids: Sequence[str]) -> gpd.GeoDataFrame:
    """The embedded access points of the given corridors (toll plazas are dropped by :class:`CorridorSet`)."""
    from vpgeo.datasets import load_access_points

    pts = load_access_points()
    return pts[pts["corridor_id"].astype(str).isin([str(c) for c in corridor_ids])]


def _missing(geoms: NDArray[Any]) -> NDArray[np.bool_]:
    out: NDArray[np.bool_] = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    return out


def _ids(frame: pd.DataFrame) -> NDArray[Any]:
    if "corridor_id" in frame.columns:
        return np.asarray(frame["corridor_id"].astype(str).to_numpy(), dtype=object)
    if "name" in frame.columns:
        return np.asarray(frame["name"].astype(str).to_numpy(), dtype=object)
    return np.array([f"c{i + 1}" for i in range(len(frame))], dtype=object)


@dataclass(frozen=True)
class Measurement:
    """Distances of N metric geometries to a :class:`CorridorSet`, in metres.

    Attributes
    ----------
    per_corridor_m : (N, M) float64
        Distance to each corridor; NaN without geometry or beyond the search bound.
    section : (N, M) intp
        Row (in :attr:`CorridorSet.sections`) of each corridor's nearest section; -1 where NaN.
    beyond : (N, M) bool or None
        With a search bound: the corridor is farther than it.
    access_m, access_idx : (N,) or None
        Distance to the nearest access point and its position in :attr:`CorridorSet.access_ids` (-1: none).
    """

    per_corridor_m: NDArray[np.float64]
    section: NDArray[np.intp]
    beyond: NDArray[np.bool_] | None
    access_m: NDArray[np.float64] | None
    access_idx: NDArray[np.intp] | None


@dataclass
class CorridorSet:
    """Corridors and their access points, prepared once for exact metric measurement.

    Parameters
    ----------
    corridors : GeoDataFrame
        Corridor sections in any CRS; ``corridor_id`` groups sections into corridors (else ``name``, else
        one corridor per row), ``kind`` and ``precision_m`` are used when present.
    access_points : GeoDataFrame, optional
        Points where the corridors can be entered (any CRS); rows of ``kind`` ``"toll"`` are dropped.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import LineString, Point
    >>> roads = gpd.GeoDataFrame({"corridor_id": ["B", "A"]}, crs="EPSG:5897",
    ...     geometry=[LineString([(0, 0), (100, 0)]), LineString([(0, 0), (100, 0)])])
    >>> cs = CorridorSet(roads)
    >>> m = cs.measure(shapely.points([[50.0, 30.0]]))
    >>> m.per_corridor_m.tolist(), cs.nearest(m.per_corridor_m)[1].tolist()  # a shared segment: A wins
    ([[30.0, 30.0]], [1])
    """

    corridors: gpd.GeoDataFrame
    access_points: gpd.GeoDataFrame | None = None
    ids: list[str] = field(init=False)
    kinds: list[str] = field(init=False)
    geoms: list[Any] = field(init=False)
    provenance: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        metric = to_metric(self.corridors, operation="measuring corridors", warn=False)
        g = metric.geometry.to_numpy()
        usable = ~_missing(g)
        if not usable.any():
            raise InputError("the corridor layer has no geometry to measure to", field="geometry")
        ids = _ids(metric)
        kinds = metric["kind"].astype(str).to_numpy() if "kind" in metric.columns else np.full(len(metric), "")
        prec = pd.to_numeric(metric.get("precision_m", pd.Series(np.nan, index=metric.index)), errors="coerce")
        self.ids = list(dict.fromkeys(ids[usable]))
        pos = {c: j for j, c in enumerate(self.ids)}
        self.sections = metric[usable]
        self.section_corridor = np.array([pos[c] for c in ids[usable]], dtype=np.intp)
        self.section_precision = prec.to_numpy(dtype=float)[usable]
        self.kinds = [str(kinds[usable & (ids == c)][0]) for c in self.ids]
        self.geoms = [shapely.GeometryCollection(list(g[usable & (ids == c)])) for c in self.ids]
        self.index = LineIndex(list(g[usable]), groups=self.section_corridor)
        # Tie order: position of each corridor when sorted by id.
        self.tie_order = np.argsort(np.argsort(np.array(self.ids, dtype=object), kind="stable"), kind="stable")
        self.provenance = dict(self.corridors.attrs.get("provenance", {}))
        self._prepare_access()

    def _prepare_access(self) -> None:
        self.access_ids = np.empty(0, dtype=object)
        self.access_names = np.empty(0, dtype=object)
        self.access_tree: cKDTree | None = None
        if self.access_points is None or not len(self.access_points):
            return
        pts = to_metric(self.access_points, operation="measuring access points", warn=False)
        if "kind" in pts.columns:
            pts = pts[pts["kind"].astype(str).str.lower() != "toll"]
        g = pts.geometry.to_numpy()
        pts, g = pts[~_missing(g)], g[~_missing(g)]
        if not len(pts):
            return
        names = pts["name"] if "name" in pts.columns else pd.Series(pts.index, index=pts.index)
        ids = pts["access_id"] if "access_id" in pts.columns else names
        ids_a = np.asarray(ids.astype(str).to_numpy(), dtype=object)
        order = np.argsort(ids_a, kind="stable")  # the lowest id first: it wins ties
        self.access_ids = ids_a[order]
        self.access_names = np.asarray(names.astype(str).to_numpy(), dtype=object)[order]
        self.access_xy = shapely.get_coordinates(shapely.centroid(g[order]))
        self.access_tree = cKDTree(self.access_xy)

    @property
    def has_access(self) -> bool:
        """Whether access points are measured."""
        return self.access_tree is not None

    def measure(
        self,
        geoms: NDArray[Any],
        *,
        max_distance_m: float | None = None,
        workers: int | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> Measurement:
        """Exact distances (metres) of metric geometries (EPSG:5897) to every corridor and access point.

        Points go through the line index; other geometries through GEOS (0 when touching). With
        ``max_distance_m`` the corridor search stops there (``beyond`` flags what is farther).
        """
        n, m = len(geoms), len(self.ids)
        table = np.full((n, m), np.nan)
        section = np.full((n, m), -1, dtype=np.intp)
        beyond = np.zeros((n, m), dtype=bool) if max_distance_m is not None else None
        missing = _missing(geoms)
        is_point = ~missing & (shapely.get_type_id(geoms) == 0)
        if is_point.any():
            xy = np.column_stack([shapely.get_x(geoms[is_point]), shapely.get_y(geoms[is_point])])
            self._lines_at(xy, is_point, table, section, beyond, max_distance_m, workers, progress)
        other = ~missing & ~is_point
        if other.any():
            self._measure_shapes(geoms, other, table, section, beyond, max_distance_m)
            if progress is not None:
                progress(int(other.sum()))
        ok = ~missing
        access_m, access_idx = self._access(shapely.get_coordinates(shapely.point_on_surface(geoms[ok])), ok, workers)
        return Measurement(table, section, beyond, access_m, access_idx)

    def measure_points(
        self,
        xy: NDArray[np.float64],
        *,
        max_distance_m: float | None = None,
        workers: int | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> Measurement:
        """:meth:`measure` of metric point coordinates, shape (N, 2) (a NaN row: no geometry), the fast path
        for points: no geometry objects at all (see :func:`vpgeo.crs.metric_xy`)."""
        n, m = len(xy), len(self.ids)
        table = np.full((n, m), np.nan)
        section = np.full((n, m), -1, dtype=np.intp)
        beyond = np.zeros((n, m), dtype=bool) if max_distance_m is not None else None
        ok = np.asarray(np.isfinite(xy).all(axis=1), dtype=bool)
        self._lines_at(xy[ok], ok, table, section, beyond, max_distance_m, workers, progress)
        if progress is not None and not ok.all():
            progress(int((~ok).sum()))
        access_m, access_idx = self._access(xy[ok], ok, workers)
        return Measurement(table, section, beyond, access_m, access_idx)

    def _lines_at(
        self,
        xy: NDArray[np.float64],
        rows: NDArray[np.bool_],
        table: NDArray[np.float64],
        section: NDArray[np.intp],
        beyond: NDArray[np.bool_] | None,
        bound: float | None,
        workers: int | None,
        progress: Callable[[int], None] | None,
    ) -> None:
        """Exact distances of points ``xy`` (rows ``rows`` of the tables) to every corridor."""
        res = self.index.query(xy, per_line=True, max_distance=bound, workers=workers, progress=progress)
        assert res.per_line is not None and res.part is not None
        table[rows], section[rows] = res.per_line, res.part
        if beyond is not None and res.beyond is not None:
            beyond[rows] = res.beyond

    def _measure_shapes(
        self,
        geoms: NDArray[Any],
        rows: NDArray[np.bool_],
        table: NDArray[np.float64],
        section: NDArray[np.intp],
        beyond: NDArray[np.bool_] | None,
        bound: float | None,
    ) -> None:
        """Polygons and lines: GEOS distance to every section, the nearest per corridor."""
        sec = self.sections.geometry.to_numpy()
        d = shapely.distance(geoms[rows][:, None], sec[None, :])
        idx = np.flatnonzero(rows)
        for j in range(len(self.ids)):
            cols = np.flatnonzero(self.section_corridor == j)
            k = np.argmin(d[:, cols], axis=1)
            dj = d[np.arange(len(idx)), cols[k]]
            far = dj > bound if bound is not None else np.zeros(len(dj), dtype=bool)
            table[idx, j] = np.where(far, np.nan, dj)
            section[idx, j] = np.where(far, -1, cols[k])
            if beyond is not None:
                beyond[idx, j] = far

    def _access(
        self, rep: NDArray[np.float64], ok: NDArray[np.bool_], workers: int | None
    ) -> tuple[NDArray[np.float64] | None, NDArray[np.intp] | None]:
        """Nearest access point of the rows ``ok`` (at ``rep``: the point itself, or the representative point
        of another shape); ties within :data:`TIE_M` go to the lowest id."""
        if self.access_tree is None:
            return None, None
        n = len(ok)
        access_m, access_idx = np.full(n, np.nan), np.full(n, -1, dtype=np.intp)
        if len(rep):
            k = min(4, len(self.access_ids))
            d, i = self.access_tree.query(rep, k=k, workers=default_workers() if workers is None else workers)
            d, i = d.reshape(len(rep), k), i.reshape(len(rep), k)
            tie = d <= d[:, :1] + TIE_M
            pick = np.argmin(np.where(tie, i, np.iinfo(np.intp).max), axis=1)
            access_m[ok] = d[np.arange(len(rep)), pick]
            access_idx[ok] = i[np.arange(len(rep)), pick]
        return access_m, access_idx

    def nearest(
        self, per_corridor_m: NDArray[np.float64], among: Sequence[int] | None = None
    ) -> tuple[NDArray[np.float64], NDArray[np.intp]]:
        """Distance to the nearest corridor (of ``among``, positions in :attr:`ids`) and its position.

        Ties within :data:`TIE_M` go to the lowest corridor id; NaN / -1 where no corridor is measured.
        """
        cols = np.arange(len(self.ids)) if among is None else np.asarray(among, dtype=np.intp)
        n = len(per_corridor_m)
        if not cols.size:
            return np.full(n, np.nan), np.full(n, -1, dtype=np.intp)
        sub = per_corridor_m[:, cols]
        filled = np.where(np.isnan(sub), np.inf, sub)
        dmin = filled.min(axis=1)
        near = filled <= dmin[:, None] + TIE_M
        k = np.argmin(np.where(near, self.tie_order[cols][None, :], np.iinfo(np.intp).max), axis=1)
        dist = filled[np.arange(n), k]
        has = np.isfinite(dist)
        return np.where(has, dist, np.nan), np.where(has, cols[k], -1)


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


def _access_layer(access_points: gpd.GeoDataFrame | bool | None, chosen_ids: Sequence[str]) -> Any:
    if access_points is True:
        return embedded_access_points(chosen_ids)
    if access_points is None or access_points is False:
        return None
    return access_points


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
        the selected corridors; ``None``/``False`` skips ``access_km``. Toll plazas never count.

    Returns
    -------
    GeoDataFrame
        ``sites`` (same rows, order, CRS) plus ``dist_<corridor_id>_km`` for every corridor given,
        ``distance_km`` and ``nearest_corridor`` over the selected set (ties: lowest corridor id),
        ``corridor_precision_m`` (precision of the nearest section), and ``access_km``/``nearest_access``
        (an access id) / ``nearest_access_name`` when asked.
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
    chosen_ids = list(dict.fromkeys(chosen["corridor_id"].astype(str)))
    cs = CorridorSet(corridors, _access_layer(access_points, chosen_ids))
    site_m = to_metric(sites, operation="corridor_distances")
    meas = cs.measure(site_m.geometry.to_numpy())
    return _distance_table(sites, cs, meas, chosen_ids, access=access_points is not None and access_points is not False)


def _distance_table(
    sites: gpd.GeoDataFrame, cs: CorridorSet, meas: Measurement, chosen_ids: Sequence[str], *, access: bool
) -> tuple[gpd.GeoDataFrame, dict[str, np.ndarray]]:
    out = sites.copy()
    prec = np.where(meas.section >= 0, cs.section_precision[np.maximum(meas.section, 0)], np.nan)
    best_prec: dict[str, np.ndarray] = {}
    for j, cid in enumerate(cs.ids):
        out[distance_column(cid)] = meas.per_corridor_m[:, j] / 1000.0
        best_prec[cid] = prec[:, j]
    among = [cs.ids.index(c) for c in chosen_ids if c in cs.ids]
    dist, k = cs.nearest(meas.per_corridor_m, among)
    has = k >= 0
    out["distance_km"] = dist / 1000.0
    names = pd.Series(np.array(cs.ids, dtype=object)[np.maximum(k, 0)], index=out.index)
    out["nearest_corridor"] = names.where(has, None)
    out["corridor_precision_m"] = np.where(has, prec[np.arange(len(prec)), np.maximum(k, 0)], np.nan)
    if access:
        _access_columns(out, cs, meas)
    return out, best_prec


def _access_columns(out: pd.DataFrame, cs: CorridorSet, meas: Measurement) -> None:
    """``access_km``, ``nearest_access`` (id) and ``nearest_access_name``, NaN/None where not measured."""
    if meas.access_m is None or meas.access_idx is None:
        out["access_km"], out["nearest_access"], out["nearest_access_name"] = np.nan, None, None
        return
    i = meas.access_idx
    out["access_km"] = meas.access_m / 1000.0
    out["nearest_access"] = pd.Series(cs.access_ids[np.maximum(i, 0)], index=out.index).where(i >= 0, None)
    out["nearest_access_name"] = pd.Series(cs.access_names[np.maximum(i, 0)], index=out.index).where(i >= 0, None)


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
