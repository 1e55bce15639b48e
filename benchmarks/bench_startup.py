"""Start-up cost of the CLI, as ratios measured in this one process (issue 16).

Runs fresh interpreters of this checkout and reports the median wall time of

- ``python -c pass`` (the baseline: the interpreter alone),
- ``vpgeo --help`` and ``vpgeo data list`` (must not load the geo stack),
- ``python -c "import geopandas"`` (what an eager CLI would pay),

and prints each as a ratio to the baseline, and ``vpgeo --help`` against importing geopandas.

    python benchmarks/bench_startup.py            # 15 runs each
    python benchmarks/bench_startup.py --small    # 3 runs each (CI smoke)
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

CASES = {
    "python -c pass": ["-c", "pass"],
    "vpgeo --help": ["-m", "vpgeo.cli", "--help"],
    "vpgeo data list": ["-m", "vpgeo.cli", "data", "list"],
    "import vpgeo": ["-c", "import vpgeo"],
    "import geopandas": ["-c", "import geopandas"],
}


def _time(args: list[str], runs: int, env: dict[str, str]) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True
        )
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--small", action="store_true", help="3 runs per case instead of 15")
    args = ap.parse_args()
    runs = 3 if args.small else 15
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "PYTHONPATH": str(REPO), "VPGEO_DATA_DIR": cache}
        for a in CASES.values():  # warm the OS file cache and .pyc files once
            subprocess.run([sys.executable, *a], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        medians = {name: _time(a, runs, env) for name, a in CASES.items()}
    base = medians["python -c pass"]
    print(f"start-up, median of {runs} runs; ratio to 'python -c pass' (the interpreter alone)")
    for name, t in medians.items():
        print(f"  {name:<18} {t / base:6.2f}x")
    print(
        f"vpgeo --help takes {medians['vpgeo --help'] / medians['import geopandas']:.2f}x the time of import geopandas"
    )


if __name__ == "__main__":
    main()
