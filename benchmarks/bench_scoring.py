"""Exact point-to-corridor distances and scoring: vpgeo vs the geopandas way, in one process.

Corridors: three 40 km lines with a vertex every 10-30 m (~2,000 vertices each), densified to ``--spacing``
metres (default 20 m, as a real centreline), across a 60 x 60 km square in EPSG:5897; points uniform in the
square, given in EPSG:4326 for the end-to-end run.

The geopandas way: ``to_crs`` to EPSG:5897, ``GeoSeries.distance`` per corridor, the minimum, a linear score
and a rank; timed on a subsample and extrapolated linearly (its cost is per point); the output says so.
vpgeo: ``score_candidates`` end to end from EPSG:4326 (reprojection, distances to every corridor, score,
rank), split into its stages (reprojection of coordinates, the exact query on every thread and on one), and
compared with a bare ``cKDTree`` k=1 query over the same vertices on the same threads (not an exact line
distance, the floor the issue names: vpgeo's quadtree engine beats it). Peak memory is measured with
tracemalloc in a separate run.

Usage: python benchmarks/bench_scoring.py [N_POINTS ...] [--spacing M] [--baseline-sample K] [--small]
       (default 150,000 and 1,000,000 points; --small: 20,000 points, < 30 s)
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import geopandas as gpd
import numpy as np
import shapely
from scipy.spatial import cKDTree

from vpgeo.crs import metric_xy
from vpgeo.nearest import LineIndex, default_workers


def corridors(rng: np.random.Generator) -> list[np.ndarray]:
    out = []
    for x0, y0, h0 in ((530_000, 2_335_000, 0.6), (560_000, 2_380_000, -1.2), (525_000, 2_355_000, 0.0)):
        h = h0 + np.cumsum(rng.normal(0, 0.05, 2000))
        s = rng.uniform(10, 30, 2000)
        xs = x0 + np.concatenate([[0], np.cumsum(s * np.cos(h))])
        ys = y0 + np.concatenate([[0], np.cumsum(s * np.sin(h))])
        out.append(np.column_stack([xs, ys]))
    return out


def geopandas_way(cands: gpd.GeoDataFrame, roads: gpd.GeoDataFrame) -> tuple[np.ndarray, float]:
    t = time.perf_counter()
    pts = cands.to_crs("EPSG:5897").geometry
    per = np.column_stack([pts.distance(g).to_numpy() for g in roads.geometry])
    d = per.min(axis=1) / 1000.0
    score = np.clip(1.0 - d / 10.0, 0, 1)
    np.lexsort((d, -score))
    return per, time.perf_counter() - t


def _bare_kd(lines: list[np.ndarray], xy: np.ndarray, workers: int) -> float:
    """Seconds of a bare k=1 ``cKDTree`` query per line over its vertices (not a line distance: the floor)."""
    t = time.perf_counter()
    for ln in lines:
        cKDTree(ln).query(xy, workers=workers)
    return time.perf_counter() - t


def run(n: int, lines: list[np.ndarray], sample: int, rng: np.random.Generator) -> None:
    from vpgeo.scoring import score_candidates

    roads = gpd.GeoDataFrame(
        {"corridor_id": ["L1", "L2", "L3"]}, geometry=[shapely.LineString(ln) for ln in lines], crs="EPSG:5897"
    )
    xy = np.column_stack([rng.uniform(520_000, 580_000, n), rng.uniform(2_325_000, 2_385_000, n)])
    cands = gpd.GeoDataFrame(geometry=shapely.points(xy), crs="EPSG:5897").to_crs("EPSG:4326")
    k = min(sample, n)
    ref, t_gpd = geopandas_way(cands.iloc[:k], roads)
    t_gpd *= n / k
    note = "" if k == n else f" (measured on {k:,} points, extrapolated)"
    print(f"\n{n:,} points from EPSG:4326, 3 corridors of {len(lines[0]):,} vertices, workers={default_workers()}")
    print(f"  geopandas way (to_crs, distance per corridor, min, score, rank): {t_gpd:8.2f} s{note}")

    t0 = time.perf_counter()
    out = score_candidates(cands, roads, access_points=False)
    t_score = time.perf_counter() - t0
    print(
        f"  vpgeo score_candidates end to end:                            {t_score:8.2f} s   "
        f"ratio {t_gpd / t_score:6.1f}x"
    )
    got = out[["dist_L1_km", "dist_L2_km", "dist_L3_km"]].to_numpy()[:k] * 1000
    print(f"  max abs difference vs geopandas on {k:,} points: {np.abs(got - ref).max():.2e} m")

    # How the time splits (the same stages score_candidates runs).
    t = time.perf_counter()
    mxy = metric_xy(cands, operation="bench")
    t_proj = time.perf_counter() - t
    t = time.perf_counter()
    idx = LineIndex(lines)
    t_build = time.perf_counter() - t
    t = time.perf_counter()
    idx.query(mxy, per_line=True)
    t_query = time.perf_counter() - t
    t = time.perf_counter()
    idx.query(mxy, per_line=True, workers=1)
    t_query1 = time.perf_counter() - t
    t = time.perf_counter()
    idx.query(mxy, per_line=True, max_distance=10_000.0)
    t_bound = time.perf_counter() - t
    t_kd, t_kd1 = (_bare_kd(lines, mxy, w) for w in (default_workers(), 1))
    rest = t_score - t_proj - t_build - t_query
    print(
        f"  split: reprojection {t_proj:.2f} s, index build {t_build:.2f} s, exact query {t_query:.2f} s "
        f"({idx.methods[0]}), scoring/ranking/frame {max(rest, 0):.2f} s"
    )
    print(f"  exact query bounded at 10 km (search_km): {t_bound:.2f} s ({t_query / t_bound:.1f}x faster)")
    print(
        f"  bare cKDTree k=1 over the same vertices:  {t_kd:.2f} s (exact query / bare = {t_query / t_kd:.2f}); "
        f"on one thread: exact {t_query1:.2f} s, bare {t_kd1:.2f} s ({t_query1 / t_kd1:.2f})"
    )

    del out
    tracemalloc.start()
    score_candidates(cands, roads, access_points=False)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"  peak memory of score_candidates (tracemalloc): {peak / 2**20:.0f} MiB")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", nargs="*", type=int, default=[150_000, 1_000_000])
    ap.add_argument("--spacing", type=float, default=20.0, help="vertex spacing of the corridors, metres")
    ap.add_argument("--baseline-sample", type=int, default=20_000)
    ap.add_argument("--small", action="store_true", help="20,000 points: a CI smoke run under 30 s")
    a = ap.parse_args()
    rng = np.random.default_rng(42)
    lines = [shapely.get_coordinates(shapely.segmentize(shapely.LineString(ln), a.spacing)) for ln in corridors(rng)]
    sizes = [20_000] if a.small else a.n
    sample = 2_000 if a.small else a.baseline_sample
    for n in sizes:
        run(n, lines, sample, rng)


if __name__ == "__main__":
    main()
