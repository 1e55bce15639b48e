"""Exact point-to-corridor distances: vpgeo.nearest vs the geopandas way, in one process.

Corridors: three 40 km lines with a vertex every 10-30 m (~2,000 vertices each, like a real road centreline),
across a 60 x 60 km square in EPSG:5897; points uniform in the square.

The geopandas way (``GeoSeries.distance`` per corridor, then the minimum) is timed on a subsample and
extrapolated linearly (its cost is per point); the output says so. Peak memory of the vpgeo run is measured
with tracemalloc (numpy reports its buffers there) in a separate run, so it does not slow the timed one.

Usage: python benchmarks/bench_scoring.py [N_POINTS] [--baseline-sample K] [--score]
"""

from __future__ import annotations

import argparse
import resource
import time
import tracemalloc

import geopandas as gpd
import numpy as np
import shapely

from vpgeo.nearest import LineIndex


def corridors(rng: np.random.Generator) -> list[np.ndarray]:
    out = []
    for x0, y0, h0 in ((530_000, 2_335_000, 0.6), (560_000, 2_380_000, -1.2), (525_000, 2_355_000, 0.0)):
        h = h0 + np.cumsum(rng.normal(0, 0.05, 2000))
        s = rng.uniform(10, 30, 2000)
        xs = x0 + np.concatenate([[0], np.cumsum(s * np.cos(h))])
        ys = y0 + np.concatenate([[0], np.cumsum(s * np.sin(h))])
        out.append(np.column_stack([xs, ys]))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", nargs="?", type=int, default=1_000_000)
    ap.add_argument("--baseline-sample", type=int, default=20_000)
    ap.add_argument("--score", action="store_true", help="also time score_candidates end to end")
    a = ap.parse_args()
    rng = np.random.default_rng(42)
    lines = corridors(rng)
    pts = np.column_stack([rng.uniform(520_000, 580_000, a.n), rng.uniform(2_325_000, 2_385_000, a.n)])
    print(f"{a.n:,} points, {len(lines)} corridors of {[len(ln) for ln in lines]} vertices")

    k = min(a.baseline_sample, a.n)
    sub = gpd.GeoSeries(shapely.points(pts[:k]), crs="EPSG:5897")
    corr = gpd.GeoSeries([shapely.LineString(ln) for ln in lines], crs="EPSG:5897")
    t = time.perf_counter()
    per = np.column_stack([sub.distance(g).to_numpy() for g in corr])
    gpd_min = per.min(axis=1)
    t_gpd = (time.perf_counter() - t) * a.n / k
    note = "" if k == a.n else f" (measured on {k:,} points, extrapolated linearly)"
    print(f"geopandas way (GeoSeries.distance per corridor, min): {t_gpd:8.2f} s{note}")

    t = time.perf_counter()
    index = LineIndex(lines)
    t_build = time.perf_counter() - t
    t = time.perf_counter()
    near = index.query(pts)
    t_near = time.perf_counter() - t
    t = time.perf_counter()
    full = index.query(pts, per_line=True)
    t_full = time.perf_counter() - t
    assert full.per_line is not None
    print(f"vpgeo.nearest build:                               {t_build:8.3f} s")
    print(
        f"vpgeo.nearest nearest distance + line:             {t_near:8.2f} s   ratio {t_gpd / (t_near + t_build):6.1f}x"
    )
    print(
        f"vpgeo.nearest + distance to every corridor:        {t_full:8.2f} s   ratio {t_gpd / (t_full + t_build):6.1f}x"
    )
    diff_min = float(np.abs(near.distance[:k] - gpd_min).max())
    diff_per = float(np.abs(full.per_line[:k] - per).max())
    print(f"max abs difference vs geopandas on {k:,} points: nearest {diff_min:.2e} m, per corridor {diff_per:.2e} m")
    same = np.array_equal(near.distance, full.distance) and np.array_equal(near.line, full.line)
    print(f"one-tree and per-corridor paths identical on all points: {same}")

    if a.score:
        from vpgeo.scoring import score_candidates

        cands = gpd.GeoDataFrame(geometry=shapely.points(pts), crs="EPSG:5897")
        roads = gpd.GeoDataFrame({"corridor_id": ["L1", "L2", "L3"]}, geometry=list(corr), crs="EPSG:5897")
        t = time.perf_counter()
        score_candidates(cands, roads, access_points=False)
        t_score = time.perf_counter() - t
        print(f"score_candidates end to end (distances, score, rank): {t_score:8.2f} s   ratio {t_gpd / t_score:6.1f}x")

    del near, full
    tracemalloc.start()
    LineIndex(lines).query(pts, per_line=True)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory of a per-corridor query (tracemalloc): {peak / 2**20:.0f} MiB; process max RSS {rss:.0f} MiB")


if __name__ == "__main__":
    main()
