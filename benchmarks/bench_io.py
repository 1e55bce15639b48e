"""Reading and writing a big candidate table, against plain pandas in the same process (issue 16, progress).

Generates ``N`` candidates (name, lon, lat; CSV, as users give them) and times, best of a few runs:

- **read**: what ``vpgeo score`` does to read them: :func:`vpgeo.io.read_table` (code page, separator,
  field count, runaway quotes, numbers, NFC, long text) and :func:`vpgeo.io.points_from_columns` (coordinates
  checked per row, point geometry);
- **measure**: :func:`vpgeo.score_candidates` (the k-d tree / quadtree query and the scoring);
- **write**: :func:`vpgeo.io.write_table` of the scored table as CSV (formula-looking text quoted, UTF-8 BOM,
  pyarrow's writer);

and, as the baseline, plain ``pandas.read_csv`` of the same file and ``DataFrame.to_csv`` of the same scored
table (its lon/lat columns instead of the geometry). It prints the times and the ratio of vpgeo's
read + write to the baseline's: what vpgeo's checks cost over bare parsing and formatting.

    python benchmarks/bench_io.py            # 200,000 rows, best of 3
    python benchmarks/bench_io.py --small    # 20,000 rows, best of 2 (CI smoke, a few seconds)
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


def _table(path: Path, n: int) -> None:
    rng = np.random.default_rng(16)
    names = np.array(["KCN Bá Thiện", "CCN Hợp Thịnh", "Cụm Sơn Lôi", "site"], dtype=object)
    df = pd.DataFrame(
        {
            "name": [f"{names[i % 4]} {i}" for i in range(n)],
            "lon": 105.3 + rng.random(n) * 0.6,
            "lat": 21.1 + rng.random(n) * 0.4,
        }
    )
    df.to_csv(path, index=False)


def _best(fn: Callable[[], Any], runs: int) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(runs):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--small", action="store_true", help="20,000 rows, best of 2")
    ap.add_argument("--rows", type=int, help="rows (default 200,000; 20,000 with --small)")
    args = ap.parse_args()
    n = args.rows or (20_000 if args.small else 200_000)
    runs = 2 if args.small else 3

    from vpgeo import score_candidates
    from vpgeo.io import _geometry_as_columns, points_from_columns, read_table, write_table
    from vpgeo.pipeline.score import rounded

    with tempfile.TemporaryDirectory() as tmp:
        src, out, plain = Path(tmp) / "cands.csv", Path(tmp) / "scored.csv", Path(tmp) / "plain.csv"
        _table(src, n)
        t_read, df = _best(lambda: points_from_columns(read_table(src), "lon", "lat"), runs)
        t_measure, result = _best(lambda: score_candidates(df, progress=False), runs)
        table = rounded(result)
        t_write, _ = _best(lambda: write_table(table, out), runs)
        t_pd_read, _ = _best(lambda: pd.read_csv(src), runs)
        flat = _geometry_as_columns(table.drop(columns=["_row"]))  # the same columns vpgeo writes
        t_pd_write, _ = _best(lambda: flat.to_csv(plain, index=False), runs)
        size = src.stat().st_size / 1e6
    vp, base = t_read + t_write, t_pd_read + t_pd_write
    print(f"{n:,} candidates ({size:.1f} MB CSV in, {len(flat.columns)} columns out); best of {runs} runs")
    print(f"  vpgeo  read {t_read:6.3f} s   measure {t_measure:6.3f} s   write {t_write:6.3f} s")
    print(f"  pandas read {t_pd_read:6.3f} s   (read_csv)        write {t_pd_write:6.3f} s   (to_csv)")
    print(f"  read  / pandas read_csv: {t_read / t_pd_read:5.2f}x")
    print(f"  write / pandas to_csv:   {t_write / t_pd_write:5.2f}x")
    print(f"  read+write / pandas read_csv+to_csv: {vp / base:5.2f}x  (vpgeo {vp:.2f} s, pandas {base:.2f} s)")


if __name__ == "__main__":
    main()
