"""Province-wide suitability surface: raster distance transform vs exact distances of every cell centre.

Times :func:`vpgeo.surface.suitability_surface` (embedded plan corridors, masked to the province) and, as the
baseline, exact scoring of the cell centres with vpgeo.nearest (measured on up to 1,000,000 centres and
extrapolated linearly; the output says so). Also prints the largest distance error found on those centres.

Usage: python benchmarks/bench_surface.py [RESOLUTION_M ...] [--small]   (default: 100 10; --small: 500 m, < 30 s)
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from vpgeo.scoring import prepare_corridors
from vpgeo.surface import suitability_surface


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("resolutions", nargs="*", type=float, default=[100.0, 10.0])
    ap.add_argument("--small", action="store_true", help="one 500 m grid: a CI smoke run under 30 s")
    a = ap.parse_args()
    resolutions = [500.0] if a.small else a.resolutions
    c = prepare_corridors(None, None, False)
    for res in resolutions:
        t = time.perf_counter()
        s = suitability_surface(resolution_m=res)
        t_edt = time.perf_counter() - t
        cells = int(np.isfinite(s.score).sum())
        xs, ys = s.cell_centres()
        rows, cols = np.nonzero(np.isfinite(s.score))
        k = min(cells, 1_000_000)
        pick = np.random.default_rng(0).choice(cells, k, replace=False)
        pts = np.column_stack([xs[cols[pick]], ys[rows[pick]]])
        t = time.perf_counter()
        exact = c.index.query(pts).distance
        t_exact = (time.perf_counter() - t) * cells / k
        got = s.distance_km[rows[pick], cols[pick]].astype(float) * 1000
        finite = np.isfinite(got)
        err = float(np.abs(got[finite] - exact[finite]).max())
        note = "" if k == cells else f" (measured on {k:,} centres, extrapolated)"
        print(
            f"{res:g} m: {s.score.shape[0]}x{s.score.shape[1]} grid, {cells:,} cells in the province; "
            f"surface {t_edt:.2f} s; exact nearest-distance of every centre {t_exact:.2f} s{note}; "
            f"ratio {t_exact / t_edt:.1f}x; max error {err:.1f} m (bound {s.max_error_m:.1f} m)"
        )


if __name__ == "__main__":
    main()
