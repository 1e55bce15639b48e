"""Nearest-line search at any vertex density: vpgeo.nearest vs shapely STRtree over segments, in one process.

Part 1: N points against three ~40 km corridors densified to 2k, 20k and 100k vertices each (the same shapes,
so only the density changes). Baseline: shapely 2 ``STRtree`` over each line's segments,
``query_nearest(return_distance=True)`` (exact, vectorised), points built once. Reference: a bare
``cKDTree`` k=1 query over the same vertices (not an exact line distance; the floor the issue asks about).

Part 2: N points against the shipped corridors (3-10 vertices per section): vpgeo vs the geopandas way
(``GeoSeries.distance`` to each corridor's union).

Every vpgeo answer is checked against the baseline (max difference, must be <= 1 mm). Ratios > 1 mean
vpgeo is faster. Timings include building the index.

Usage: python benchmarks/bench_nearest.py [N_POINTS] [--small]   (--small: 5,000 points, < 30 s)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from scipy.spatial import cKDTree

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_scoring import corridors

from vpgeo.nearest import LineIndex, default_workers


def densified(base: list[np.ndarray], per_line: int) -> list[np.ndarray]:
    out = []
    for ln in base:
        g = shapely.LineString(ln)
        if per_line > len(ln):
            g = shapely.segmentize(g, g.length / per_line)
        out.append(shapely.get_coordinates(g))
    return out


def strtree_way(pts: np.ndarray, geoms: np.ndarray, lines: list[np.ndarray]) -> np.ndarray:
    out = np.empty((len(pts), len(lines)))
    for j, ln in enumerate(lines):
        tree = shapely.STRtree(shapely.linestrings(np.stack([ln[:-1], ln[1:]], axis=1)))
        (i, _), d = tree.query_nearest(geoms, return_distance=True, all_matches=False)
        out[i, j] = d
    return out


def density(n: int, rng: np.random.Generator) -> None:
    base = corridors(rng)
    pts = np.column_stack([rng.uniform(520_000, 580_000, n), rng.uniform(2_325_000, 2_385_000, n)])
    print(f"{n:,} points vs 3 corridors; workers={default_workers()}")
    print(
        f"{'vertices/line':>13} {'STRtree s':>9} {'vpgeo s':>8} {'engine':>8} {'vs STRtree':>10} "
        f"{'bare kd s':>9} {'vpgeo/bare':>10} {'max diff m':>10}"
    )
    for per_line in (2_000, 20_000, 100_000):
        lines = densified(base, per_line)
        t = time.perf_counter()
        geoms = shapely.points(pts)
        ref = strtree_way(pts, geoms, lines)
        t_str = time.perf_counter() - t
        t = time.perf_counter()
        idx = LineIndex(lines)
        res = idx.query(pts, per_line=True)
        t_vp = time.perf_counter() - t
        t = time.perf_counter()
        for ln in lines:
            cKDTree(ln).query(pts, workers=default_workers())
        t_kd = time.perf_counter() - t
        assert res.per_line is not None
        diff = float(np.abs(res.per_line - ref).max())
        assert diff <= 1e-3, diff
        print(
            f"{len(lines[0]):>13,} {t_str:9.2f} {t_vp:8.2f} {idx.methods[0]:>8} {t_str / t_vp:9.2f}x "
            f"{t_kd:9.2f} {t_vp / t_kd:9.2f}x {diff:10.1e}"
        )


def shipped(n: int, rng: np.random.Generator) -> None:
    from vpgeo.crs import to_metric
    from vpgeo.datasets import load_corridors

    frame = to_metric(load_corridors(), operation="bench", warn=False)
    ids = frame["corridor_id"].astype(str).to_numpy()
    order = list(dict.fromkeys(ids))
    g = frame.geometry.to_numpy()
    b = shapely.bounds(shapely.union_all(g))
    pts = np.column_stack([rng.uniform(b[0], b[2], n), rng.uniform(b[1], b[3], n)])
    t = time.perf_counter()
    s = gpd.GeoSeries(shapely.points(pts), crs=frame.crs)
    ref = np.column_stack([s.distance(shapely.union_all(g[ids == c])).to_numpy() for c in order])
    t_gpd = time.perf_counter() - t
    t = time.perf_counter()
    idx = LineIndex(list(g), groups=[order.index(c) for c in ids])
    res = idx.query(pts, per_line=True)
    t_vp = time.perf_counter() - t
    assert res.per_line is not None
    diff = float(np.abs(res.per_line - ref).max())
    assert diff <= 1e-3, diff
    print(
        f"shipped corridors ({len(g)} sections, {len(order)} corridors, engines {sorted(set(idx.methods))}): "
        f"geopandas {t_gpd:.2f} s, vpgeo {t_vp:.2f} s, ratio {t_gpd / t_vp:.2f}x, max diff {diff:.1e} m"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", nargs="?", type=int, default=200_000)
    ap.add_argument("--small", action="store_true", help="5,000 points: a CI smoke run under 30 s")
    a = ap.parse_args()
    n = 5_000 if a.small else a.n
    density(n, np.random.default_rng(42))
    shipped(n, np.random.default_rng(7))


if __name__ == "__main__":
    main()
