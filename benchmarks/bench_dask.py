"""The distributed path: a 2-worker LocalCluster vs the local engine, and the client's memory as data grow.

Part 1 (time, identical results): N candidate points (EPSG:4326, a GeoParquet dataset of 4 files) scored
against the embedded plan corridors. Local engine: ``geopandas.read_parquet`` + ``score_candidates`` +
``to_parquet`` in this process. Distributed: ``vpgeo.pipeline.score.score_dataset`` on a running
2-worker LocalCluster (one thread each, separate processes), folder in, folder out. Every column of the two
outputs is compared.

Part 2 (client memory): datasets of M1 and M2 rows are generated *by the workers* (the client never holds
them) and scored with ``score_dataset``; a thread samples this process's resident memory (psutil) during
each run and the peak increase over the start is printed. Flat means the client holds neither input nor
result.

Usage: python benchmarks/bench_dask.py [--n 300000] [--sizes 1000000 5000000] [--small]
       (--small: 30,000 points and 100,000 → 300,000 rows, < 30 s on an idle 2-core machine)
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import psutil
import shapely

BOX = (105.35, 21.1, 105.85, 21.55)  # lon/lat box over Vĩnh Phúc


def warm() -> None:
    """Import vpgeo's scoring stack on a worker (a running cluster has it loaded)."""
    import vpgeo.pipeline.score
    import vpgeo.scoring  # noqa: F401


def make_part(folder: str, number: int, rows: int, seed: int) -> int:
    """One input file (runs on a worker)."""
    rng = np.random.default_rng(seed + number)
    xy = np.column_stack([rng.uniform(BOX[0], BOX[2], rows), rng.uniform(BOX[1], BOX[3], rows)])
    frame = gpd.GeoDataFrame({"cand": np.arange(rows) + number * rows}, geometry=shapely.points(xy), crs=4326)
    frame.to_parquet(Path(folder) / f"part.{number:05d}.parquet", index=False)
    return rows


def make_dataset(client: Any, folder: Path, rows: int, parts: int, seed: int) -> None:
    folder.mkdir(parents=True)
    per = rows // parts
    futures = client.map(make_part, [str(folder)] * parts, range(parts), [per] * parts, [seed] * parts, pure=False)
    client.gather(futures)


class PeakRSS:
    """Peak resident memory of this process while the block runs, sampled every 20 ms."""

    def __enter__(self) -> PeakRSS:
        self.proc = psutil.Process()
        self.start = self.proc.memory_info().rss
        self.peak = self.start
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self.proc.memory_info().rss)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def increase_mib(self) -> float:
        return (self.peak - self.start) / 2**20


def _same(a: pd.Series, b: pd.Series) -> bool:
    """Equal values (NaN = NaN, None = NaN for text), whatever the dtype the Parquet round trip gave."""
    x, y = a.reset_index(drop=True), b.reset_index(drop=True)
    if pd.api.types.is_numeric_dtype(x) and pd.api.types.is_numeric_dtype(y):
        return bool(np.array_equal(x.to_numpy(float), y.to_numpy(float), equal_nan=True))
    return x.astype(object).where(x.notna(), None).tolist() == y.astype(object).where(y.notna(), None).tolist()


def timing(client: Any, tmp: Path, n: int) -> None:
    from vpgeo.pipeline.score import score_dataset
    from vpgeo.scoring import score_candidates

    src = tmp / "time_in"
    make_dataset(client, src, n, 4, seed=1)
    t = time.perf_counter()
    frame = pd.concat([gpd.read_parquet(f) for f in sorted(src.glob("*.parquet"))], ignore_index=True)
    local = score_candidates(frame)
    local.to_parquet(tmp / "local.parquet", index=False)
    t_local = time.perf_counter() - t
    t = time.perf_counter()
    score_dataset(src, tmp / "time_out", scheduler=client)
    t_dask = time.perf_counter() - t
    got = pd.concat([pd.read_parquet(f) for f in sorted((tmp / "time_out").glob("*.parquet"))])
    got = got.sort_values("_row").reset_index(drop=True)
    cols = [c for c in local.columns if c not in ("geometry", "rank")]
    differ = [c for c in cols if not _same(got[c], local[c])]
    same = not differ
    same_rank = got["rank"].astype("Int64").tolist() == local["rank"].tolist()
    print(f"{n:,} points, 2-worker LocalCluster (1 thread each, processes):")
    print(f"  local engine (read, score_candidates, write): {t_local:7.2f} s")
    print(f"  score_dataset on the cluster:                 {t_dask:7.2f} s   dask / local = {t_dask / t_local:.2f}")
    print(f"  identical results: every column {same} {differ or ''}, ranks {same_rank}")


def memory(client: Any, tmp: Path, sizes: list[int]) -> None:
    from vpgeo.pipeline.score import score_dataset

    for rows in sizes:
        src, out = tmp / f"mem_in_{rows}", tmp / f"mem_out_{rows}"
        make_dataset(client, src, rows, max(4, rows // 250_000), seed=2)
        with PeakRSS() as rss:
            t = time.perf_counter()
            summary = score_dataset(src, out, scheduler=client)
            t_run = time.perf_counter() - t
        print(
            f"  {rows:>10,} rows: client peak RSS increase {rss.increase_mib:7.1f} MiB "
            f"({summary['npartitions']} partitions, {t_run:.1f} s)"
        )
        shutil.rmtree(src)
        shutil.rmtree(out)


def main() -> None:
    import distributed

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=300_000)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 5_000_000])
    ap.add_argument("--small", action="store_true", help="a CI smoke run under 30 s")
    a = ap.parse_args()
    n, sizes = (30_000, [100_000, 300_000]) if a.small else (a.n, a.sizes)
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0")
    with cluster, distributed.Client(cluster) as client, tempfile.TemporaryDirectory() as tmp:
        client.run(warm)
        timing(client, Path(tmp), n)
        print("client memory as the input grows (the workers read, score and write):")
        memory(client, Path(tmp), sizes)


if __name__ == "__main__":
    main()
