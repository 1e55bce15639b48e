"""Time of the report on the embedded data, as ratios against reading the embedded data in the same process.

Prints, for ``build_report(out, boundaries="approx")`` on the embedded 60 sites:

- ``baseline``: reading the embedded sites and corridors (``load_sites()`` + ``load_corridors()``);
- ``first``: the first report of the process without the PNG (it pays the imports of folium & co., as a
  ``vpgeo report`` run does);
- ``report``: a later report without the PNG (median of the repeats);
- ``png extra``: what ``map.png`` adds (median of report-with-PNG minus report-without);

each in seconds and as a multiple of the baseline (the machine is shared: read the ratios). Targets (issue
#16): the report ≤ 3 s idle without the PNG, the PNG ≤ 2 s more.

Usage::

    python benchmarks/bench_report.py            # 5 repeats
    python benchmarks/bench_report.py --small    # 1 repeat (CI, a loaded machine)
    python benchmarks/bench_report.py --profile  # and the top of a cProfile of one report with the PNG
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path


def _time(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--small", action="store_true", help="one repeat")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--profile", action="store_true", help="print the top of a cProfile of one report")
    args = ap.parse_args(argv)
    repeats = 1 if args.small else max(1, args.repeats)

    from vpgeo.datasets import load_corridors, load_sites

    load_sites(), load_corridors()  # geopandas & co. imported: the baseline times reading, not importing
    baseline = statistics.median(_time(lambda: (load_sites(), load_corridors())) for _ in range(max(3, repeats)))

    from vpgeo.pipeline import build_report

    work = Path(tempfile.mkdtemp(prefix="vpgeo-bench-report-"))
    count = iter(range(10_000))

    def run(png: bool) -> float:
        return _time(lambda: build_report(work / f"r{next(count)}", boundaries="approx", png=png))

    first = run(False)
    plain = [run(False) for _ in range(repeats)]
    with_png = [run(True) for _ in range(repeats)]
    report = statistics.median(plain)
    png_extra = statistics.median(with_png) - report

    print(f"baseline (read embedded data)   {baseline:7.3f} s   1.0x")
    print(f"first report, no PNG (imports)  {first:7.3f} s   {first / baseline:6.1f}x")
    print(f"report, no PNG                  {report:7.3f} s   {report / baseline:6.1f}x   target <= 3 s idle")
    print(f"map.png extra                   {png_extra:7.3f} s   {png_extra / baseline:6.1f}x   target <= 2 s idle")
    if args.profile:
        prof = cProfile.Profile()
        prof.enable()
        build_report(work / "profiled", boundaries="approx", png=True)
        prof.disable()
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(25)
        print(out.getvalue())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
