"""Run every benchmark in its small mode, as CI does, so that no benchmark rots (issue 18 item 3).

Each ``benchmarks/bench_*.py`` is run with ``--small`` in its own interpreter (from the repository root, with
the repository first on ``PYTHONPATH``); the last lines of its output are printed. The exit status is 1 when
any benchmark fails (non-zero exit, or over the time limit), 0 otherwise. Small mode means seconds, and
ratios measured in one process, never absolute timings asserted.

Usage: python benchmarks/run_small.py [--timeout SECONDS] [--lines N] [NAME ...]
(NAME: e.g. ``scoring`` for bench_scoring.py; default all)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def benchmarks(names: list[str]) -> list[Path]:
    found = sorted(HERE.glob("bench_*.py"))
    if not names:
        return found
    wanted = {n.removeprefix("bench_").removesuffix(".py") for n in names}
    chosen = [p for p in found if p.stem.removeprefix("bench_") in wanted]
    unknown = wanted - {p.stem.removeprefix("bench_") for p in chosen}
    if unknown:
        raise SystemExit(f"run_small: no benchmark named {', '.join(sorted(unknown))} in {HERE}")
    return chosen


def run(path: Path, timeout: float, lines: int) -> bool:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)}
    start = time.perf_counter()
    try:
        p = subprocess.run(
            [sys.executable, str(path), "--small"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        code, out = p.returncode, (p.stdout + p.stderr)
    except subprocess.TimeoutExpired as exc:
        code = -1
        out = f"{exc.stdout or ''}{exc.stderr or ''}\ntimed out after {timeout:.0f} s"
        out = out if isinstance(out, str) else out.decode(errors="replace")
    took = time.perf_counter() - start
    ok = code == 0
    print(f"== {path.name} --small: {'ok' if ok else f'FAILED (exit {code})'} in {took:.1f} s")
    tail = [ln for ln in out.splitlines() if ln.strip()][-lines:]
    for ln in tail:
        print(f"   {ln}")
    return ok


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    ap.add_argument("--timeout", type=float, default=300.0, help="per benchmark, seconds (default 300)")
    ap.add_argument("--lines", type=int, default=8, help="last output lines shown per benchmark (default 8)")
    args = ap.parse_args(argv)
    paths = benchmarks(args.names)
    if not paths:
        print(f"run_small: no bench_*.py in {HERE}", file=sys.stderr)
        return 1
    failed = [p.name for p in paths if not run(p, args.timeout, args.lines)]
    print(
        f"{len(paths) - len(failed)}/{len(paths)} benchmarks ran in small mode"
        + (f"; failed: {', '.join(failed)}" if failed else "")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
