"""Exact planar distance from many points to a few polylines, fast.

The geopandas way (``GeoSeries.distance`` per line, then the minimum) walks every segment of the line for every
point: about 33 µs per point per 2,000-vertex line. :class:`LineIndex` instead samples each line at a spacing
``h`` (its vertices plus extra points on long segments), puts the samples in a :class:`scipy.spatial.cKDTree`,
and for each point measures exactly only the few segments that can hold the nearest point:

* let ``q`` be the nearest point of the polyline to ``p`` (distance ``d``), on segment ``s``. Segment ``s``
  carries a sample ``t`` with ``|q - t| <= h/2``; since ``p - q`` is perpendicular to ``s`` (or ``q`` is an
  end of ``s``, itself a sample), ``|p - t|² <= d² + h²/4 <= d₁² + h²/4 = R²`` where ``d₁`` is the distance
  to the nearest sample (an upper bound of ``d``);
* so the segments owning the samples within ``R`` of ``p`` contain the answer. The ``k`` nearest samples are
  enough when the ``k``-th lies beyond ``R``; points where it does not (rare: tight curves, crossings) are
  asked again with a larger ``k`` until it does, or every sample is taken.

The answer is therefore exact (the same point-segment formula GEOS uses, equal to shapely within float
rounding, ~1e-9 m), whatever the vertex density. Coordinates must be metric (EPSG:5897): the caller goes
through :func:`vpgeo.crs.to_metric` first.

The k-d tree walk grows with vertex density (a far point's search ball touches ever more leaves along a
dense line), and a few short lines are fastest measured by brute force in numpy. Each line therefore uses
the engine measured fastest for its size (see ``benchmarks/bench_nearest.py``): ``"direct"`` up to
:data:`DIRECT_MAX` segments; ``"quadtree"`` up to :data:`CHUNKED_MIN` (a quadtree over the *points* whose
cells keep only the segments that can be nearest to one of their points, :mod:`vpgeo._quadtree`: at 20 m
vertex spacing 2-3x the k-d tree, faster than a bare k-d tree query over the vertices; queries of fewer
than :data:`QUAD_MIN_POINTS` points use the k-d tree of the same segments, ``"kdtree"``); ``"chunked"``
beyond (runs of segments bounded by their chords: the k-d tree sees one chord per run, about ``V^0.5``
growth). A shapely :class:`~shapely.STRtree` over the segments (``"strtree"``) is available as a reference.
All are exact. With several quadtree lines, (batch, line) jobs run on a thread pool (``workers``).

An optional bound (``max_distance``) stops every search there: a line farther than the bound is reported
as *beyond* it (NaN distance and a ``beyond`` flag), never as a wrong number.

Examples
--------
>>> import numpy as np
>>> idx = LineIndex([np.array([[0.0, 0.0], [100.0, 0.0]]), np.array([[0.0, 50.0], [0.0, 80.0]])])
>>> res = idx.query(np.array([[50.0, 30.0], [-3.0, 84.0]]), per_line=True)
>>> res.distance.tolist(), res.line.tolist()
([30.0, 5.0], [0, 1])
>>> res.per_line.round(3).tolist()
[[30.0, 53.852], [84.054, 5.0]]
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from scipy.spatial import cKDTree

from vpgeo._quadtree import QuadSegments, ZOrder
from vpgeo.errors import InputError

__all__ = ["LineIndex", "NearestResult", "default_workers", "nearest_lines", "point_segment_distance"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

_CHUNK = 131_072  # points per batch: bounds the (chunk, 2k) temporaries to a few tens of MB
_MIN_JOB = 32_768  # points per quadtree job at least: its top levels are then a small share of its work
#: Points from which a query uses the quadtree engine rather than the k-d tree of the same segments (measured
#: crossover, 2k-20k vertices per line: 20,000-40,000 points; benchmarks/bench_nearest.py).
QUAD_MIN_POINTS = 40_000
#: Segments up to which a line is measured directly with GEOS (few short lines: no index pays).
DIRECT_MAX = 32
#: Segments from which runs of chords beat the quadtree (measured crossover, bench_nearest.py: the quadtree
#: keeps every segment crossing a cell's Voronoi strips, too many on lines with sub-metre vertex spacing).
CHUNKED_MIN = 50_000
_RUN = 16  # segments per run of the chunked engine (measured best from 20k to 100k vertices)
METHODS = ("auto", "direct", "quadtree", "kdtree", "chunked", "strtree")


def default_workers() -> int:
    """Threads for scipy k-d tree queries: 1 inside a dask task (dask's own threads use the cores), else
    ``OMP_NUM_THREADS`` when set, else the CPUs this process may use.

    Never ``-1``: a cluster started with ``--nthreads 1`` must not be oversubscribed.
    """
    if "distributed" in sys.modules:
        try:
            from distributed import get_worker

            get_worker()
            return 1
        except ValueError:
            pass
    env = os.environ.get("OMP_NUM_THREADS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1  # pragma: no cover - non-Linux


@dataclass(frozen=True)
class NearestResult:
    """What :meth:`LineIndex.query` returns.

    Attributes
    ----------
    distance : ndarray of float64, shape (N,)
        Distance (CRS units, metres) to the nearest line; NaN for NaN input points or when there are no lines.
    line : ndarray of intp, shape (N,)
        Index of the nearest line (the lowest one on exact ties); -1 where ``distance`` is NaN.
    per_line : ndarray of float64, shape (N, M), or None
        Distance to every line, when asked for (NaN beyond ``max_distance``).
    part : ndarray of intp, shape (N, M), or None
        With ``per_line``: which input item of each line (its section, see ``groups``) is the nearest.
    beyond : ndarray of bool, shape (N, M) with ``per_line`` else (N,), or None
        With ``max_distance``: the line (``per_line``) or every line is farther than the bound; the distance
        there is NaN.
    """

    distance: FloatArray
    line: IntArray
    per_line: FloatArray | None = None
    part: IntArray | None = None
    beyond: NDArray[np.bool_] | None = None


def point_segment_distance(
    px: FloatArray, py: FloatArray, ax: FloatArray, ay: FloatArray, bx: FloatArray, by: FloatArray
) -> FloatArray:
    """Exact distance from points to segments, element-wise (arrays broadcast).

    Examples
    --------
    >>> import numpy as np
    >>> f = lambda *v: np.array(v, dtype=float)
    >>> point_segment_distance(f(5, 12, 3), f(3, 0, 4), f(0, 0, 0), f(0, 0, 0), f(10, 10, 0), f(0, 0, 0))
    array([3., 2., 5.])
    """
    dx, dy = bx - ax, by - ay
    l2 = dx * dx + dy * dy
    with np.errstate(invalid="ignore", divide="ignore"):
        t = ((px - ax) * dx + (py - ay) * dy) / l2
    t = np.where(l2 > 0.0, np.clip(t, 0.0, 1.0), 0.0)  # a zero-length segment is its start point
    out: FloatArray = np.hypot(px - (ax + t * dx), py - (ay + t * dy))
    return out


def _parts(line: Any, i: int) -> tuple[list[FloatArray], BaseGeometryLike | None]:
    """The coordinate arrays of one line, and the polygon to test containment in (polygons only)."""
    if isinstance(line, shapely.Geometry):
        if line.is_empty:
            return [], None
        kind = shapely.get_type_id(line)
        if kind in (3, 6):  # Polygon, MultiPolygon: distance 0 inside, else to the boundary
            rings = shapely.get_rings(shapely.get_parts(line))
            return [np.asarray(shapely.get_coordinates(r), dtype=np.float64) for r in rings], line
        if kind not in (1, 2, 5, 0, 4, 7):
            raise InputError(f"line {i}: unsupported geometry type {line.geom_type}")
        parts = shapely.get_parts(line)
        if kind == 7:
            out: list[FloatArray] = []
            for g in parts:
                out += _parts(g, i)[0]
            polygonal = bool(np.isin(shapely.get_type_id(parts), [3, 6]).any())
            return out, (line if polygonal else None)
        coords = [np.asarray(shapely.get_coordinates(g), dtype=np.float64) for g in parts]
        return [c for c in coords if len(c)], None
    arr = np.asarray(line, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] < 2:
        raise InputError(f"line {i}: expected an (n, 2) coordinate array, got shape {arr.shape}")
    return ([arr[:, :2]] if len(arr) else []), None


BaseGeometryLike = Any


class _Segments:
    """The segments of one set of parts, their samples and the samples' k-d tree."""

    def __init__(self, parts: list[FloatArray], labels: list[int], spacing: float | None) -> None:
        starts, ends = [], []
        for p in parts:
            if not np.isfinite(p).all():
                raise InputError("line coordinates contain NaN or infinite values; drop or repair them")
            if len(p) == 1:
                p = np.vstack([p, p])  # a point: a zero-length segment
            starts.append(p[:-1])
            ends.append(p[1:])
        per_part = np.array([len(s) for s in starts], dtype=np.intp)
        self.label = np.repeat(np.asarray(labels, dtype=np.intp), per_part)  # line of each segment
        a = np.concatenate(starts) if starts else np.empty((0, 2))
        b = np.concatenate(ends) if ends else np.empty((0, 2))
        self.ax, self.ay, self.bx, self.by = a[:, 0].copy(), a[:, 1].copy(), b[:, 0].copy(), b[:, 1].copy()
        n = len(a)
        self.size = n
        if n == 0:
            return
        length = np.hypot(self.bx - self.ax, self.by - self.ay)
        positive = length[length > 0]
        if spacing is None:
            # Median segment length keeps the tree close to the vertex count on dense lines, and the
            # total/200k floor keeps it small on long schematic lines.
            med = float(np.median(positive)) if positive.size else 1.0
            spacing = max(med, float(length.sum()) / 200_000.0, 1e-9)
        count = np.maximum(1, np.ceil(length / spacing)).astype(np.intp)
        self.half2 = float(np.max(length / count) ** 2) / 4.0  # (h_eff / 2)²
        owner = np.repeat(np.arange(n), count)
        first = np.concatenate([[0], np.cumsum(count)[:-1]])
        j = np.arange(owner.size) - np.repeat(first, count)
        frac = j / count[owner]
        sx = self.ax[owner] + frac * (self.bx - self.ax)[owner]
        sy = self.ay[owner] + frac * (self.by - self.ay)[owner]
        # A segment's start sample is also the end of the previous segment of the same part.
        part_end = np.cumsum(per_part) - 1
        part_start = np.zeros(n, dtype=bool)
        part_start[part_end - per_part + 1] = True
        prev = owner.copy()
        at_start = (j == 0) & ~part_start[owner]
        prev[at_start] -= 1
        # The end point of each part's last segment.
        sx = np.concatenate([sx, self.bx[part_end]])
        sy = np.concatenate([sy, self.by[part_end]])
        self.owner = np.concatenate([owner, part_end])
        self.prev = np.concatenate([prev, part_end])
        self.dx, self.dy = self.bx - self.ax, self.by - self.ay
        l2 = self.dx**2 + self.dy**2
        # 1/L² with 0 for zero-length segments, whose nearest point is then their start (t = 0).
        self.inv_l2 = np.divide(1.0, l2, out=np.zeros_like(l2), where=l2 > 0)
        # Leaves of 64: far points see long stretches of line, and big leaves prune them cheaply.
        self.tree = cKDTree(np.column_stack([sx, sy]), leafsize=64)

    def query(
        self, px: FloatArray, py: FloatArray, bound: float | None = None, workers: int = 1
    ) -> tuple[FloatArray, IntArray]:
        """Exact distance from each point (no NaN) to these segments, and the nearest one's line label.

        On exact ties the lowest label wins. With ``bound``, points farther than it get ``inf`` and -1.
        """
        n_samples = self.owner.size
        dist = np.full(px.size, np.inf)
        line = np.full(px.size, -1, dtype=np.intp)
        # No sample within R_b = sqrt(bound² + h²/4) means the line is farther than the bound.
        upper = np.inf if bound is None else float(np.sqrt(bound * bound + self.half2) * (1 + 1e-9) + 1e-6)
        todo = np.arange(px.size)
        k = min(2, n_samples)
        while todo.size:
            qx, qy = px[todo], py[todo]
            d, i = self.tree.query(np.column_stack([qx, qy]), k=k, workers=workers, distance_upper_bound=upper)
            if k == 1:
                d, i = d[:, None], i[:, None]
            best2, best = self._best(qx, qy, i)
            # Certificate: every sample within R (R² = best² + h²/4) was among the k returned.
            r2 = best2 + self.half2
            ok = (d[:, -1] ** 2 > r2 * (1 + 1e-9) + 1e-9) | (k >= n_samples) | ~np.isfinite(best2)
            dist[todo[ok]] = np.sqrt(best2[ok])
            line[todo[ok]] = np.where(np.isfinite(best2[ok]), best[ok], -1)
            todo = todo[~ok]
            k = min(k * 4, n_samples)
        if bound is not None:
            far = dist > bound
            dist[far], line[far] = np.inf, -1
        return dist, line

    def _best(self, qx: FloatArray, qy: FloatArray, i: IntArray) -> tuple[FloatArray, IntArray]:
        """Squared distance to the nearest segment owning one of the samples ``i``, and its label."""
        n_samples = self.owner.size
        best2 = np.full(qx.size, np.inf)
        best = np.full(qx.size, np.iinfo(np.intp).max)
        for j in range(i.shape[1]):
            found = i[:, j] < n_samples  # missing neighbours (beyond the bound) are n_samples
            ij = np.where(found, i[:, j], 0)
            for segs in (self.owner[ij], self.prev[ij]):
                d2 = np.where(found, self._dist2(qx, qy, segs), np.inf)
                lab = self.label[segs]
                better = (d2 < best2) | ((d2 == best2) & (lab < best))
                best2[better] = d2[better]
                best[better] = lab[better]
        return best2, best

    def _dist2(self, px: FloatArray, py: FloatArray, segs: IntArray) -> FloatArray:
        """Squared distance from point j to segment ``segs[j]``."""
        ax, ay, dx, dy = self.ax[segs], self.ay[segs], self.dx[segs], self.dy[segs]
        ex, ey = px - ax, py - ay
        t = (ex * dx + ey * dy) * self.inv_l2[segs]
        np.clip(t, 0.0, 1.0, out=t)
        ex -= t * dx
        ey -= t * dy
        out: FloatArray = ex * ex + ey * ey
        return out


def _segment_arrays(parts: list[FloatArray]) -> tuple[FloatArray, FloatArray, NDArray[np.intp]]:
    """Start and end points of every segment of ``parts`` (a single point is a zero-length segment)."""
    starts, ends = [], []
    for p in parts:
        if not np.isfinite(p).all():
            raise InputError("line coordinates contain NaN or infinite values; drop or repair them")
        if len(p) == 1:
            p = np.vstack([p, p])
        starts.append(p[:-1])
        ends.append(p[1:])
    counts = np.array([len(a) for a in starts], dtype=np.intp)
    a = np.concatenate(starts) if starts else np.empty((0, 2))
    b = np.concatenate(ends) if ends else np.empty((0, 2))
    return a, b, counts


class _TreeSegments:
    """The segments of one line in a shapely STRtree (GEOS nearest search); scales best on dense lines."""

    def __init__(self, parts: list[FloatArray], labels: list[int]) -> None:
        a, b, counts = _segment_arrays(parts)
        self.label = np.repeat(np.asarray(labels, dtype=np.intp), counts)
        self.size = len(a)
        geoms = shapely.linestrings(np.stack([a, b], axis=1)) if len(a) else np.empty(0, dtype=object)
        zero = np.all(a == b, axis=1)
        if zero.any():
            geoms[zero] = shapely.points(a[zero])
        self.tree = shapely.STRtree(geoms)

    def query_geoms(self, pts: NDArray[Any], bound: float | None) -> tuple[FloatArray, IntArray]:
        dist = np.full(len(pts), np.inf)
        line = np.full(len(pts), -1, dtype=np.intp)
        (src, tgt), d = self.tree.query_nearest(pts, max_distance=bound, return_distance=True, all_matches=False)
        dist[src], line[src] = d, self.label[tgt]
        return dist, line


class _Direct:
    """A few short parts: every point against every segment in numpy (no index pays for itself on them)."""

    def __init__(self, parts: list[FloatArray], labels: list[int]) -> None:
        a, b, counts = _segment_arrays(parts)
        self.label = np.repeat(np.asarray(labels, dtype=np.intp), counts)
        self.size = len(a)
        self.ax, self.ay = a[:, 0].copy(), a[:, 1].copy()
        self.dx, self.dy = b[:, 0] - a[:, 0], b[:, 1] - a[:, 1]
        l2 = self.dx**2 + self.dy**2
        self.inv_l2 = np.divide(1.0, l2, out=np.zeros_like(l2), where=l2 > 0)

    def query(
        self, px: FloatArray, py: FloatArray, bound: float | None = None, workers: int = 1
    ) -> tuple[FloatArray, IntArray]:
        """Exact distance and nearest label (lowest on ties; inf and -1 beyond ``bound``)."""
        ex = px[:, None] - self.ax[None, :]
        ey = py[:, None] - self.ay[None, :]
        t = (ex * self.dx + ey * self.dy) * self.inv_l2
        np.clip(t, 0.0, 1.0, out=t)
        ex -= t * self.dx
        ey -= t * self.dy
        d2 = ex * ex + ey * ey
        # Segments are in label order within a line, so argmin's first minimum is the lowest label.
        j = np.argmin(d2, axis=1)
        dist = np.sqrt(d2[np.arange(px.size), j])
        line = self.label[j].copy()
        if bound is not None:
            far = dist > bound
            dist[far], line[far] = np.inf, -1
        return dist, line


class _Chunked:
    """Dense lines: runs of ``run`` consecutive segments, each bounded by its chord.

    A run lies within ``δ`` (its vertices' largest distance to the chord) of its chord and the chord within
    ``δ`` of the run (the run joins the chord's ends, so it crosses every perpendicular of the chord), so
    ``|dist(p, run) − dist(p, chord)| ≤ δ``. The chords form a coarse line, searched with the k-d tree
    engine for every chord within ``d_c + 2·δ_max`` of the point (``d_c``: the nearest chord); the runs
    of the chords with ``dist − δ_k`` not above the best ``dist + δ_k`` are then measured exactly, segment
    by segment. The k-d tree thus sees ``V / run`` chords instead of ``V`` vertices.
    """

    def __init__(self, parts: list[FloatArray], labels: list[int], run: int = 16) -> None:
        a, b, counts = _segment_arrays(parts)
        self.run = run
        self.size = len(a)
        self.label = np.repeat(np.asarray(labels, dtype=np.intp), counts)
        self.ax, self.ay = a[:, 0].copy(), a[:, 1].copy()
        self.dx, self.dy = b[:, 0] - a[:, 0], b[:, 1] - a[:, 1]
        l2 = self.dx**2 + self.dy**2
        self.inv_l2 = np.divide(1.0, l2, out=np.zeros_like(l2), where=l2 > 0)
        # Runs never cross parts: part j's segments [o_j, o_j + n_j) are cut every self.run.
        offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])
        starts = np.concatenate([o + np.arange(0, n, self.run) for o, n in zip(offsets, counts, strict=True)])
        ends = np.minimum(starts + self.run, np.repeat(offsets + counts, [len(range(0, n, self.run)) for n in counts]))
        self.run_start, self.run_len = starts.astype(np.intp), (ends - starts).astype(np.intp)
        coarse = [
            np.vstack([a[o + np.arange(0, n, self.run)], b[o + n - 1 : o + n]])
            for o, n in zip(offsets, counts, strict=True)
        ]
        self.coarse = _Segments(coarse, [0] * len(coarse), None)  # its segment r is run r
        run_of = np.repeat(np.arange(len(starts)), self.run_len)
        ca, cb = a[self.run_start], b[ends - 1]
        dev = np.maximum(
            point_segment_distance(a[:, 0], a[:, 1], ca[run_of, 0], ca[run_of, 1], cb[run_of, 0], cb[run_of, 1]),
            point_segment_distance(b[:, 0], b[:, 1], ca[run_of, 0], ca[run_of, 1], cb[run_of, 0], cb[run_of, 1]),
        )
        self.delta = np.maximum.reduceat(dev, self.run_start) * (1 + 1e-9) + 1e-9
        self.delta_max = float(self.delta.max())

    def query(
        self, px: FloatArray, py: FloatArray, bound: float | None = None, workers: int = 1
    ) -> tuple[FloatArray, IntArray]:
        """Exact distance and nearest label (lowest segment on ties; inf and -1 beyond ``bound``)."""
        c = self.coarse
        n_samples = c.owner.size
        dist = np.full(px.size, np.inf)
        line = np.full(px.size, -1, dtype=np.intp)
        slack = 2.0 * self.delta_max
        upper = np.inf if bound is None else float(np.sqrt((bound + slack) ** 2 + c.half2) * (1 + 1e-9) + 1e-6)
        todo = np.arange(px.size)
        k = min(2, n_samples)
        while todo.size:
            qx, qy = px[todo], py[todo]
            d, i = c.tree.query(np.column_stack([qx, qy]), k=k, workers=workers, distance_upper_bound=upper)
            d, i = d.reshape(len(todo), k), i.reshape(len(todo), k)
            found = np.concatenate([i < n_samples] * 2, axis=1)
            ij = np.where(i < n_samples, i, 0)
            runs = np.where(found, np.concatenate([c.owner[ij], c.prev[ij]], axis=1), -1)
            dc = np.sqrt(np.where(found, c._dist2(qx[:, None], qy[:, None], np.maximum(runs, 0)), np.inf))
            best = dc.min(axis=1)
            r2 = (best + slack) ** 2 + c.half2
            ok = (d[:, -1] ** 2 > r2 * (1 + 1e-9) + 1e-9) | (k >= n_samples) | ~np.isfinite(best)
            if ok.any():
                rows = todo[ok]
                dist[rows], line[rows] = self._refine(qx[ok], qy[ok], runs[ok], dc[ok])
            todo = todo[~ok]
            k = min(k * 4, n_samples)
        if bound is not None:
            far = dist > bound
            dist[far], line[far] = np.inf, -1
        return dist, line

    def _refine(self, px: FloatArray, py: FloatArray, runs: IntArray, dc: FloatArray) -> tuple[FloatArray, IntArray]:
        """Exact distance over the segments of the candidate runs (those that can hold the nearest point)."""
        delta = self.delta[np.maximum(runs, 0)]
        upper = np.min(np.where(runs >= 0, dc + delta, np.inf), axis=1)
        runs = np.where((runs >= 0) & (dc - delta <= upper[:, None]), runs, -1)
        runs = np.sort(runs, axis=1)
        runs[:, 1:][runs[:, 1:] == runs[:, :-1]] = -1  # each run once
        # Flat (point, run) pairs: only the candidates are measured.
        row, col = np.nonzero(runs >= 0)
        r = runs[row, col]
        qx, qy = px[row], py[row]
        start, length = self.run_start[r], self.run_len[r]
        best2 = np.full(row.size, np.inf)
        seg_best = np.full(row.size, np.iinfo(np.intp).max)
        for j in range(self.run):
            valid = j < length
            seg = np.where(valid, start + j, 0)
            ex, ey = qx - self.ax[seg], qy - self.ay[seg]
            t = np.clip((ex * self.dx[seg] + ey * self.dy[seg]) * self.inv_l2[seg], 0.0, 1.0)
            d2 = np.where(valid, (ex - t * self.dx[seg]) ** 2 + (ey - t * self.dy[seg]) ** 2, np.inf)
            better = (d2 < best2) | ((d2 == best2) & (seg < seg_best))
            best2[better], seg_best[better] = d2[better], seg[better]
        # The best pair of each point: lowest distance, then lowest segment.
        order = np.lexsort((seg_best, best2, row))
        first = order[np.r_[True, row[order][1:] != row[order][:-1]]] if row.size else order
        dist = np.full(px.size, np.inf)
        line = np.full(px.size, -1, dtype=np.intp)
        dist[row[first]] = np.sqrt(best2[first])
        line[row[first]] = self.label[seg_best[first]]
        return dist, line


class _Quad:
    """Dense lines: a quadtree over the *points*, each cell keeping the segments that can be nearest to
    one of its points (see :mod:`vpgeo._quadtree`); grows with the points, hardly with the vertices."""

    def __init__(self, parts: list[FloatArray], labels: list[int], spacing: float | None = None) -> None:
        a, b, counts = _segment_arrays(parts)
        self.segs = QuadSegments(a, b, np.repeat(np.asarray(labels, dtype=np.intp), counts))
        self.size = self.segs.size
        self._parts, self._labels, self._spacing = parts, labels, spacing
        self._kd: _Segments | None = None

    def kdtree(self) -> _Segments:
        """The same segments in the k-d tree engine: faster than the quadtree for few points (see
        :data:`QUAD_MIN_POINTS`), built on first use."""
        if self._kd is None:
            self._kd = _Segments(self._parts, self._labels, self._spacing)
        return self._kd

    def query(
        self, px: FloatArray, py: FloatArray, bound: float | None = None, workers: int = 1, zorder: Any = None
    ) -> tuple[FloatArray, IntArray]:
        """Exact distance and nearest label (lowest on ties; inf and -1 beyond ``bound``)."""
        return self.segs.query(px, py, bound, zorder)


def _engine(parts: list[FloatArray], labels: list[int], method: str, spacing: float | None) -> Any:
    """The engine for one line: measured fastest for its number of segments (see the module's notes)."""
    n_seg = sum(max(len(p) - 1, 1) for p in parts)
    if method == "auto":
        method = "direct" if n_seg <= DIRECT_MAX else "chunked" if n_seg >= CHUNKED_MIN else "quadtree"
    if method == "direct":
        return _Direct(parts, labels)
    if method == "quadtree":
        return _Quad(parts, labels, spacing)
    if method == "chunked":
        return _Chunked(parts, labels, _RUN)
    if method == "strtree":
        return _TreeSegments(parts, labels)
    return _Segments(parts, labels, spacing)


def _ask(eng: Any, px: FloatArray, py: FloatArray, bound: float | None, threads: int, z: ZOrder | None) -> Any:
    """One engine's answer; a quadtree gets the batch's Z order, a k-d tree the threads."""
    if isinstance(eng, _Quad):
        return eng.query(px, py, bound, 1, z)
    return eng.query(px, py, bound, threads)


class LineIndex:
    """M polylines prepared for exact nearest-distance queries from many points.

    Parameters
    ----------
    lines : sequence
        Each item is one line: an ``(n, 2)`` array of metric coordinates, or a shapely LineString,
        MultiLineString (its parts form one line), Point/MultiPoint, GeometryCollection, or Polygon /
        MultiPolygon (distance 0 inside, else to the boundary). Empty items are allowed (distance NaN).
    groups : sequence of int, optional
        Line number (0 … M-1) of each item: items sharing a number are sections of one line, and
        :attr:`NearestResult.part` tells which section is the nearest. Default: each item its own line.
    spacing_m : float, optional
        Sample spacing of the k-d tree engine; by default the median segment length. Any value gives exact
        results; it only trades tree size against candidates per point.
    method : {"auto", "direct", "quadtree", "kdtree", "chunked", "strtree"}
        Engine per line; ``"auto"`` picks by segment count (measured crossovers :data:`DIRECT_MAX`,
        :data:`CHUNKED_MIN`) and, for the quadtree, by the number of points queried
        (:data:`QUAD_MIN_POINTS`); ``"strtree"`` is the reference. All are exact.

    Examples
    --------
    >>> from shapely.geometry import LineString, MultiLineString
    >>> idx = LineIndex([MultiLineString([[(0, 0), (10, 0)], [(20, 0), (30, 0)]])])
    >>> idx.query(np.array([[15.0, 0.0], [12.0, 4.0]])).distance.round(4).tolist()
    [5.0, 4.4721]
    """

    def __init__(
        self,
        lines: Sequence[Any],
        *,
        groups: ArrayLike | None = None,
        spacing_m: float | None = None,
        method: str = "auto",
    ) -> None:
        if spacing_m is not None and not spacing_m > 0:
            raise InputError(f"spacing_m must be positive, got {spacing_m!r}")
        if method not in METHODS:
            raise InputError(f"unknown method {method!r}; use one of {', '.join(METHODS)}", field="method")
        parsed = [_parts(line, i) for i, line in enumerate(lines)]
        group = np.arange(len(parsed)) if groups is None else np.asarray(groups, dtype=np.intp)
        if group.shape != (len(parsed),) or (group.size and (group.min() < 0)):
            raise InputError("groups must give one line number >= 0 per item", field="groups")
        allc = [c for parts, _ in parsed for c in parts]
        # Work relative to the lines' centre: smaller numbers, less rounding in the squared terms.
        if allc:
            stacked = np.concatenate(allc)
            self.origin = (stacked[:, :2].min(axis=0) + stacked[:, :2].max(axis=0)) / 2.0
        else:
            self.origin = np.zeros(2)
        self._m = int(group.max()) + 1 if group.size else 0
        self._spacing, self._method = spacing_m, method
        self._shifted = [[p - self.origin for p in parts] for parts, _ in parsed]
        self._group = group
        self._lines = []
        for j in range(self._m):
            items = np.flatnonzero(group == j)
            parts = [p for i in items for p in self._shifted[i]]
            labels = [int(i) for i in items for _ in self._shifted[i]]
            self._lines.append(_engine(parts, labels, method, spacing_m) if parts else None)
        self._polygons = [(int(i), poly) for i, (_, poly) in enumerate(parsed) if poly is not None]
        self._all: _Segments | _Quad | None = None

    @property
    def n_lines(self) -> int:
        """Number of lines M."""
        return self._m

    @property
    def methods(self) -> list[str]:
        """The engine each line uses (``"direct"``, ``"quadtree"``, ``"kdtree"``, ``"chunked"``, ``"strtree"``
        or ``"empty"``)."""
        names = {
            _Direct: "direct",
            _Quad: "quadtree",
            _Segments: "kdtree",
            _Chunked: "chunked",
            _TreeSegments: "strtree",
        }
        return [names[type(e)] if e is not None else "empty" for e in self._lines]

    def _one_tree(self) -> _Segments | _Quad | None:
        """All lines in one engine (answers "which line is nearest" with one search), when they allow it."""
        kinds = set(self.methods) - {"empty"}
        if self._all is None and kinds and (kinds == {"kdtree"} or kinds <= {"quadtree", "direct"}):
            parts = [p for i in range(len(self._shifted)) for p in self._shifted[i]]
            labels = [int(self._group[i]) for i in range(len(self._shifted)) for _ in self._shifted[i]]
            self._all = (
                _Segments(parts, labels, self._spacing) if kinds == {"kdtree"} else _Quad(parts, labels, self._spacing)
            )
        return self._all

    def query(
        self,
        points: ArrayLike,
        *,
        per_line: bool = False,
        max_distance: float | None = None,
        chunk_size: int = _CHUNK,
        progress: Callable[[int], None] | None = None,
        workers: int | None = None,
    ) -> NearestResult:
        """Exact distance from every point to the nearest line (and to each line if ``per_line``).

        Parameters
        ----------
        points : array_like, shape (N, 2)
            Metric x, y. NaN rows give NaN distances and line -1.
        per_line : bool
            Also return the (N, M) matrix of distances to every line and the nearest section of each.
        max_distance : float, optional
            Search bound (metres): lines farther away are reported in ``beyond`` with NaN distance.
        chunk_size : int
            Points per batch (bounds memory).
        progress : callable, optional
            Called with the number of points finished after each batch.
        workers : int, optional
            Threads: lines measured side by side and k-d tree queries; default :func:`default_workers`
            (1 inside a dask task).
        """
        pts = np.asarray(points, dtype=np.float64)
        if pts.ndim != 2 or pts.shape[1] != 2:
            raise InputError(f"points must have shape (N, 2), got {pts.shape}")
        if max_distance is not None and not max_distance >= 0:
            raise InputError(f"max_distance must be >= 0, got {max_distance!r}", field="max_distance")
        threads = default_workers() if workers is None else max(1, int(workers))
        n, m = len(pts), self.n_lines
        table = np.full((n, m), np.inf) if per_line else None
        part = np.full((n, m), -1, dtype=np.intp) if per_line else None
        distance = np.full(n, np.inf)
        line = np.full(n, -1, dtype=np.intp)
        valid = np.asarray(np.isfinite(pts).all(axis=1), dtype=bool)
        one = None if per_line else self._one_tree()
        engines = [one] if one is not None else self._lines
        if self._method == "auto" and int(valid.sum()) < QUAD_MIN_POINTS:  # few points: a quadtree would not pay
            engines = [e.kdtree() if isinstance(e, _Quad) else e for e in engines]
            one = engines[0] if one is not None else None
        rows_all, zorder = self._order(pts, valid, engines)
        for rows, px, py, answers in self._answers(pts, rows_all, zorder, engines, max_distance, threads, chunk_size):
            if one is not None:
                d, lab = answers[0] if answers[0] is not None else (np.full(px.size, np.inf), np.full(px.size, -1))
                distance[rows], line[rows] = self._polygon_zero(px, py, d, lab, groups=True)
            else:
                dd, pp = self._per_line(px, py, answers)
                if table is not None and part is not None:
                    table[rows], part[rows] = dd, pp
                distance[rows], line[rows] = _reduce(dd)
            if progress is not None:
                progress(rows.size)
        if progress is not None and n > rows_all.size:
            progress(n - rows_all.size)  # rows without coordinates: answered (NaN) at once
        return _result(distance, line, table, part, valid, max_distance)

    def _order(
        self, pts: FloatArray, valid: NDArray[np.bool_], engines: Sequence[Any]
    ) -> tuple[IntArray, ZOrder | None]:
        """The rows to measure, in Z order when a quadtree measures them (each batch then a compact patch
        of the plane, as dense as the whole set), and that order."""
        rows = np.flatnonzero(valid)
        if not rows.size or not any(isinstance(e, _Quad) for e in engines):
            return rows, None
        z = ZOrder.of(pts[rows, 0] - self.origin[0], pts[rows, 1] - self.origin[1])
        return rows[z.order], z

    def _answers(
        self,
        pts: FloatArray,
        rows_all: IntArray,
        zorder: ZOrder | None,
        engines: Sequence[Any],
        bound: float | None,
        threads: int,
        chunk_size: int,
    ) -> Iterator[tuple[IntArray, FloatArray, FloatArray, list[Any]]]:
        """Each batch's rows, shifted coordinates and every engine's answer (None for an empty line), in order.

        Quadtree engines run as (batch, line) jobs on a thread pool: numpy releases the GIL in their array work,
        and many small jobs keep both cores busy; k-d tree engines use their own threads instead.
        """
        pooled = threads > 1 and any(isinstance(e, _Quad) for e in engines)
        pooled = pooled and all(e is None or isinstance(e, _Quad | _Direct) for e in engines)
        if pooled:
            chunk_size = min(chunk_size, max(_MIN_JOB, -(-rows_all.size // (4 * threads))))
        starts = list(range(0, rows_all.size, chunk_size))

        def batch(i: int) -> tuple[IntArray, FloatArray, FloatArray, ZOrder | None]:
            rows = rows_all[starts[i] : starts[i] + chunk_size]
            z = None if zorder is None else zorder.batch(starts[i], starts[i] + rows.size)
            return rows, pts[rows, 0] - self.origin[0], pts[rows, 1] - self.origin[1], z

        def job(item: tuple[int, int]) -> Any:
            eng = engines[item[1]]
            if eng is None:
                return None
            _, px, py, z = batch(item[0])
            if isinstance(eng, _TreeSegments):
                return eng.query_geoms(shapely.points(px, py), bound)
            return _ask(eng, px, py, bound, 1 if pooled else threads, z)

        jobs = [(i, j) for i in range(len(starts)) for j in range(len(engines))]
        if not pooled:
            results: Iterator[Any] = map(job, jobs)
            for i in range(len(starts)):
                rows, px, py, _ = batch(i)
                yield rows, px, py, [next(results) for _ in engines]
            return
        with ThreadPoolExecutor(max_workers=threads) as pool:
            results = pool.map(job, jobs)
            for i in range(len(starts)):
                rows, px, py, _ = batch(i)
                yield rows, px, py, [next(results) for _ in engines]

    def _per_line(self, px: FloatArray, py: FloatArray, answers: list[Any]) -> tuple[FloatArray, IntArray]:
        """(n, M) distances (inf beyond the bound, NaN for empty lines) and nearest items, 0 inside polygons."""
        dd = np.full((px.size, self._m), np.nan)
        pp = np.full((px.size, self._m), -1, dtype=np.intp)
        for j, ans in enumerate(answers):
            if ans is not None:
                dd[:, j], pp[:, j] = ans
        for item, _ in self._polygons:
            j = int(self._group[item])
            inside = self._inside(item, px, py)
            take = inside & ((dd[:, j] > 0.0) | (pp[:, j] > item))
            dd[take, j], pp[take, j] = 0.0, item
        return dd, pp

    def _polygon_zero(
        self, px: FloatArray, py: FloatArray, d: FloatArray, lab: IntArray, *, groups: bool
    ) -> tuple[FloatArray, IntArray]:
        """Nearest distance with 0 inside polygons (lowest line on ties)."""
        for item, _ in self._polygons:
            j = int(self._group[item]) if groups else item
            inside = self._inside(item, px, py)
            take = inside & ((d > 0.0) | (lab > j) | (lab < 0))
            d[take], lab[take] = 0.0, j
        return d, lab

    def _inside(self, item: int, px: FloatArray, py: FloatArray) -> NDArray[np.bool_]:
        """Points inside item ``item``'s polygon."""
        poly = dict(self._polygons)[item]
        out: NDArray[np.bool_] = shapely.contains_xy(poly, px + self.origin[0], py + self.origin[1])
        return out


def _result(
    distance: FloatArray,
    line: IntArray,
    table: FloatArray | None,
    part: IntArray | None,
    valid: NDArray[np.bool_],
    bound: float | None,
) -> NearestResult:
    """Turn the inf markers into NaN (no point / no line) and ``beyond`` flags (past the bound)."""
    beyond = None
    if bound is not None:
        src = table if table is not None else distance
        beyond = np.isinf(src) & (valid[:, None] if table is not None else valid)
    distance[~np.isfinite(distance)] = np.nan
    line[np.isnan(distance)] = -1
    if table is not None:
        table[~valid] = np.nan
        table[np.isinf(table)] = np.nan
    return NearestResult(distance, line, table, part, beyond)


def _reduce(table: FloatArray) -> tuple[FloatArray, IntArray]:
    """Row-wise min and argmin (lowest index on ties); NaN/-1 for all-NaN rows, inf/-1 when all are beyond."""
    if table.shape[1] == 0:
        return np.full(len(table), np.nan), np.full(len(table), -1, dtype=np.intp)
    filled = np.where(np.isnan(table), np.inf, table)
    line = np.argmin(filled, axis=1).astype(np.intp)
    distance = filled[np.arange(len(table)), line]
    distance[np.isnan(table).all(axis=1)] = np.nan
    line[~np.isfinite(distance)] = -1
    return distance, line


def nearest_lines(points: ArrayLike, lines: Sequence[Any], *, per_line: bool = False) -> NearestResult:
    """One-shot :meth:`LineIndex.query`; build a :class:`LineIndex` to query the same lines repeatedly.

    Examples
    --------
    >>> import numpy as np
    >>> nearest_lines(np.array([[3.0, 4.0]]), [np.array([[0.0, 0.0], [0.0, 10.0]])]).distance
    array([3.])
    """
    return LineIndex(lines).query(points, per_line=per_line)
