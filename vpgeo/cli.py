"""The ``vpgeo`` command line: ``report``, ``geocode``, ``score`` and ``data``.

Exit codes: 0 done; 2 bad input or usage, with one line on stderr naming the file, row, field and fix;
1 internal error (one line too; set ``VPGEO_DEBUG=1`` for the traceback).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from vpgeo.crs import CRSWarning
from vpgeo.errors import InputError, VpgeoError

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    """argparse that exits 2 with one line, like every other bad input."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"{self.prog}: error: {message} (see '{self.prog} --help')\n")
        raise SystemExit(2)


def _km_list(text: str) -> list[float]:
    try:
        values = [float(v.replace(",", ".")) for v in text.replace(";", " ").replace("/", " ").split()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected kilometres like '2 5 10' or '2;5;10', got {text!r}") from None
    if not values:
        raise argparse.ArgumentTypeError("give at least one distance in km")
    return values


def _weights(text: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, value = part.partition("=")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected weights like 'CT05=1,RR5=0.5' or 'expressway=1', got {part!r}"
            ) from None
        if not sep:
            raise argparse.ArgumentTypeError(f"expected NAME=WEIGHT, got {part!r}")
    return out


def _parser() -> argparse.ArgumentParser:
    from vpgeo import __version__
    from vpgeo.rules import DEFAULT_APPLIES_TO

    p = _Parser(prog="vpgeo", description="Industrial-land analysis for Vĩnh Phúc (KCN/CCN and corridors).")
    p.add_argument("--version", action="version", version=f"vpgeo {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    r = sub.add_parser("report", help="check the plan and write the report folder (map, tables, compliance)")
    r.add_argument("--out", required=True, type=Path, help="folder to write (refused when not empty)")
    r.add_argument("--force", action="store_true", help="overwrite a non-empty --out folder")
    r.add_argument("--buffer-km", type=float, default=5.0, help="buffer B of the priority rule (default 5)")
    r.add_argument("--rings", type=_km_list, default=[2.0, 5.0, 10.0], help="distance bands, km (default '2 5 10')")
    r.add_argument(
        "--corridor-set",
        default=None,
        help="plan (default: CT.05, Capital Ring Road 4, Ring Road 5), plan-provincial-rr4 (the province's own "
        "ring road IV), expressway, all; or comma-separated corridor ids",
    )
    r.add_argument(
        "--applies-to",
        default=DEFAULT_APPLIES_TO,
        help=f"sites the rule applies to (default {DEFAULT_APPLIES_TO})",
    )
    r.add_argument("--sites", type=Path, help="your own site table (CSV, XLSX, GeoJSON, GeoPackage, Shapefile)")
    r.add_argument("--corridors", type=Path, help="your own corridor lines (any CRS, VN-2000 included)")
    r.add_argument(
        "--point-precision-m",
        type=float,
        default=50.0,
        help="precision assumed for --sites coordinates without a precision_m column (default 50 m; flagged)",
    )
    r.add_argument(
        "--no-place-by-commune",
        action="store_true",
        help="leave --sites rows without coordinates unplaced instead of at their commune's point",
    )
    r.add_argument("--boundaries", default="auto", help="auto (default), official, approx, or a polygon file")
    r.add_argument(
        "--tiles",
        choices=["none", "osm", "carto"],
        default="none",
        help="basemap tiles (default none: offline)",
    )
    r.add_argument("--no-png", action="store_true", help="skip map.png")

    g = sub.add_parser("geocode", help="place addresses, commune names or coordinates in districts and communes")
    g.add_argument("input", type=Path)
    g.add_argument("--out", required=True, type=Path, help="output file (CSV, XLSX, GeoJSON, GeoPackage, Shapefile)")
    how = g.add_mutually_exclusive_group()
    how.add_argument("--address-col", help="column with a free-text Vietnamese address")
    how.add_argument("--commune-col", help="column with a commune/ward name")
    how.add_argument("--lon-col", help="longitude column (with --lat-col)")
    g.add_argument("--district-col", help="district column (with --commune-col)")
    g.add_argument("--lat-col", help="latitude column (with --lon-col)")
    g.add_argument("--boundaries", default="auto", choices=["auto", "official", "approx"])
    g.add_argument("--force", action="store_true", help="overwrite an existing --out file")

    s = sub.add_parser("score", help="score and rank candidate sites by corridor proximity")
    s.add_argument("input", type=Path)
    s.add_argument("--out", required=True, type=Path)
    s.add_argument("--lon-col", help="longitude column of a CSV")
    s.add_argument("--lat-col", help="latitude column of a CSV")
    s.add_argument("--address-col", help="address column: candidates are geocoded first (commune precision)")
    s.add_argument("--corridors", type=Path, help="your own corridor lines")
    s.add_argument(
        "--corridor-set",
        default=None,
        help="for the embedded corridors: plan (default), plan-provincial-rr4, expressway, all, or ids; "
        "a --corridors file is used whole unless this is given",
    )
    s.add_argument("--crs", help="CRS of the input coordinates when the file does not say (e.g. EPSG:5897)")
    s.add_argument("--rejects", type=Path, help="write rows that could not be scored here, with the reason")
    s.add_argument("--npartitions", type=int, help="partitions for --engine dask")
    s.add_argument("--decay", choices=["linear", "exponential", "gaussian", "step"], default="linear")
    s.add_argument("--half-distance-km", type=float, default=5.0)
    s.add_argument("--max-km", type=float, default=10.0)
    s.add_argument("--weights", type=_weights, help="e.g. 'CT05=1,RR5=0.5' or 'expressway=1,ring_road=0.8'")
    s.add_argument("--no-access-points", action="store_true", help="do not measure access points")
    s.add_argument("--exclude", type=Path, action="append", help="polygons to exclude (repeatable)")
    s.add_argument("--engine", choices=["local", "dask"], default="local")
    s.add_argument("--scheduler", help="dask scheduler address (engine dask); default: a local cluster")
    s.add_argument("--no-progress", action="store_true")
    s.add_argument("--force", action="store_true", help="overwrite an existing --out (and --rejects) file")

    d = sub.add_parser("data", help="official boundary downloads: list, fetch, info")
    dsub = d.add_subparsers(dest="data_command", required=True, parser_class=_Parser)
    dsub.add_parser("list", help="the pinned sources and whether they are cached")
    f = dsub.add_parser("fetch", help="download, verify and cache a source")
    f.add_argument("name")
    i = dsub.add_parser("info", help="a source's URL, sha256, licence, vintage, cache path")
    i.add_argument("name")
    return p


def _refuse_overwrite(*paths: Path | None, force: bool) -> None:
    for path in paths:
        if path is not None and path.exists() and not force:
            raise InputError(f"{path} exists; pass --force to overwrite it, or choose another name")


def _run(args: argparse.Namespace) -> int:
    if args.command == "report":
        from vpgeo.report import build_report

        corridor_set: Any = args.corridor_set
        if corridor_set and "," in corridor_set:
            corridor_set = [c.strip() for c in corridor_set.split(",") if c.strip()]
        res = build_report(
            args.out,
            sites=args.sites,
            corridors=args.corridors,
            buffer_km=args.buffer_km,
            rings_km=args.rings,
            corridor_set=corridor_set,
            applies_to=args.applies_to,
            boundaries=args.boundaries,
            tiles=args.tiles,
            force=args.force,
            png=not args.no_png,
            point_precision_m=args.point_precision_m,
            place_by_commune=not args.no_place_by_commune,
        )
        c = res.result.counts["applicable"]
        print(
            f"vpgeo report: {len(res.result.table)} sites; rule (buffer {args.buffer_km:g} km) on "
            f"{sum(c.values())} sites: {c['yes']} yes, {c['no']} no, {c['uncertain']} uncertain; "
            f"{len(res.rejects)} rejected; wrote {', '.join(sorted(res.files))} to {res.out}"
        )
        return 0
    if args.command == "geocode":
        from vpgeo.geocoding import geocode_file

        _refuse_overwrite(args.out, force=args.force)
        if (args.lon_col and not args.lat_col) or (args.lat_col and not args.lon_col):
            raise VpgeoError("--lon-col and --lat-col go together; give both")
        if args.district_col and not args.commune_col:
            raise VpgeoError("--district-col goes with --commune-col")
        summary = geocode_file(
            args.input,
            args.out,
            address_col=args.address_col,
            commune_col=args.commune_col,
            district_col=args.district_col,
            lon_col=args.lon_col,
            lat_col=args.lat_col,
            boundaries=args.boundaries,
        )
        print(f"vpgeo geocode: {json.dumps(summary, ensure_ascii=False, default=str)}")
        return 0
    if args.command == "score":
        from vpgeo.scoring import score_file

        _refuse_overwrite(args.out, args.rejects, force=args.force)
        summary = score_file(
            args.input,
            args.out,
            lon_col=args.lon_col,
            lat_col=args.lat_col,
            address_col=args.address_col,
            crs=args.crs,
            rejects=args.rejects,
            npartitions=args.npartitions,
            corridors=args.corridors,
            corridor_set=args.corridor_set,
            decay=args.decay,
            half_distance_km=args.half_distance_km,
            max_km=args.max_km,
            weights=args.weights,
            access_points=not args.no_access_points,
            exclude=args.exclude,
            engine=args.engine,
            scheduler=args.scheduler,
            progress=not args.no_progress,
        )
        print(f"vpgeo score: {json.dumps(summary, ensure_ascii=False, default=str)}")
        return 0
    if args.command == "data":
        from vpgeo import boundaries

        if args.data_command == "list":
            print("name\tcached\tlicence\tvintage\tdescription")
            for src in boundaries.list_sources():
                print("\t".join(str(src.get(k, "")) for k in ("name", "cached", "licence", "vintage", "description")))
        elif args.data_command == "fetch":
            print(boundaries.fetch(args.name))
        else:
            print(json.dumps(boundaries.source_info(args.name), ensure_ascii=False, indent=2, default=str))
        return 0
    raise VpgeoError(f"unknown command {args.command!r}")  # argparse prevents this


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit code (0 done, 2 bad input, 1 internal error)."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("default")
            # the report states the CRS it measured in; the reprojection notice is for library users
            warnings.simplefilter("ignore", CRSWarning)
            warnings.formatwarning = lambda msg, cat, *a, **k: f"vpgeo: warning: {msg}\n"  # type: ignore[assignment]
            return _run(args)
    except VpgeoError as exc:
        sys.stderr.write(f"vpgeo {args.command}: error: {' '.join(str(exc).split())}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("vpgeo: interrupted\n")
        return 130
    except Exception as exc:  # a bug of ours: one line, traceback on request
        if os.environ.get("VPGEO_DEBUG"):
            traceback.print_exc()
        msg = " ".join(str(exc).split())[:300]
        sys.stderr.write(
            f"vpgeo {args.command}: internal error: {type(exc).__name__}: {msg} "
            "(set VPGEO_DEBUG=1 for the traceback and report it)\n"
        )
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
