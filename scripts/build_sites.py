"""Rebuild data/sites.geojson from the facts table data/facts/sites.csv.

Usage: python scripts/build_sites.py [--facts data/facts/sites.csv] [--out data/sites.geojson]

The output is deterministic: the same facts (and the same gazetteer package) give the same bytes, which
tests/test_sites.py checks.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from vpgeo.errors import VpgeoError
from vpgeo.sites import build_sites, write_sites_geojson

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--facts", type=Path, default=None, help="facts CSV (default: data/facts/sites.csv)")
    parser.add_argument("--out", type=Path, default=ROOT / "data" / "sites.geojson", help="output GeoJSON")
    args = parser.parse_args(argv)
    try:
        sites = build_sites(args.facts)
        out = write_sites_geojson(sites, args.out)
    except VpgeoError as exc:
        print(f"build_sites: {exc}", file=sys.stderr)
        return 1
    counts = sites.groupby(["kind", "location_method"]).size()
    print(f"wrote {out} ({len(sites)} sites)")
    for (kind, method), n in counts.items():
        print(f"  {kind} {method}: {n}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
