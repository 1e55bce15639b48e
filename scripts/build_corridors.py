"""Rebuild data/corridors.geojson and data/access_points.geojson from data/facts/corridor_points.csv.

Usage: python scripts/build_corridors.py [--points CSV] [--out DIR]

The output is deterministic: running it twice gives identical files (tests/test_corridors.py checks that the
committed files are what this script writes).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from vpgeo.corridors import build_corridors, write_corridor_layers
from vpgeo.errors import VpgeoError

REPO = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=Path, default=REPO / "data" / "facts" / "corridor_points.csv")
    parser.add_argument("--out", type=Path, default=REPO / "data")
    args = parser.parse_args(argv)
    try:
        lines, access = build_corridors(args.points)
        paths = write_corridor_layers(lines, access, args.out)
    except VpgeoError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for path in paths:
        print(f"wrote {path}")
    summary = lines.groupby("corridor_id", sort=False).agg(
        sections=("section", "size"), length_km=("length_km", "sum"), precision_m=("precision_m", "max")
    )
    print(summary.to_string())
    print(f"{len(access)} access points")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
