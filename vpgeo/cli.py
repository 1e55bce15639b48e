"""The ``vpgeo`` command line: ``report``, ``geocode``, ``score`` and ``data``.

Exit codes: 0 done; 2 bad input or usage, with one line on stderr naming the file, row, field and fix;
1 internal error (one line too; set ``VPGEO_DEBUG=1`` for the traceback); 130 interrupted (Ctrl-C), with
nothing partial left behind.

Start-up stays light: this module imports only the standard library and vpgeo's light modules; a
subcommand's machinery (geopandas, folium, …) is imported inside the function that runs it, so
``vpgeo --help`` and ``vpgeo data list`` load none of it.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import signal
import sys
import threading
import traceback
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn, TextIO

from vpgeo.errors import CRSWarning, InputError, VpgeoError

__all__ = ["main"]

#: Which rule sites the priority rule applies to by default (kept equal to vpgeo.rules.DEFAULT_APPLIES_TO,
#: which a test checks; the CLI does not import the rule machinery to print its help).
DEFAULT_APPLIES_TO = "KCN:new_2030|2031_2050|older_plan|unknown"
#: Every file ``vpgeo report`` can write (removed by ``--force`` from a folder that has no manifest).
REPORT_FILES = ("sites.csv", "compliance.json", "compliance.md", "index.html", "map.png", "report.html", "rejects.csv")
#: Output extensions of ``geocode`` / ``score`` (vpgeo.io.WRITE_EXTENSIONS, checked before any work).
OUT_EXTENSIONS = (".csv", ".xlsx", ".geojson", ".json", ".gpkg", ".shp", ".parquet")
# Largest distance, km, any distance option accepts: the province spans ~100 km.
_MAX_KM = 1000.0


def show_default(value: object) -> str:
    """A default as the user would type it: ``2 5 10`` for a list of km."""
    if isinstance(value, list | tuple):
        return " ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in value)
    return f"{value:g}" if isinstance(value, float) else str(value)


class _Help(argparse.HelpFormatter):
    """Every option's default after its help, unless the help already says what the default is."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        quiet = action.default in (None, False, argparse.SUPPRESS) or action.required or not action.option_strings
        if quiet or "default" in text:
            return text
        return f"{text} (default: {show_default(action.default)})".replace("%", "%%")


class _Parser(argparse.ArgumentParser):
    """argparse that exits 2 with one line, like every other bad input, and shows every default."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Help)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"{self.prog}: error: {message} (see '{self.prog} --help')\n")
        raise SystemExit(2)


# -------------------------------------------------------------------------------------------- numbers


def _number(text: str, *, low: float, high: float, what: str) -> float:
    """A finite number in [low, high]; the decimal comma (``5,5``) is read as a decimal point."""
    try:
        value = float(text.strip().replace(",", "."))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
    if not math.isfinite(value) or not low <= value <= high:
        raise argparse.ArgumentTypeError(f"expected {what} between {low:g} and {high:g}, got {text!r}")
    return value


def _km(text: str) -> float:
    return _number(text, low=0.0, high=_MAX_KM, what="kilometres (e.g. 5 or 5,5)")


def _positive_km(text: str) -> float:
    value = _km(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a distance above 0 km, got {text!r}")
    return value


def _metres(text: str) -> float:
    return _number(text, low=0.0, high=100_000.0, what="metres (e.g. 50)")


def _count(text: str) -> int:
    value = _number(text, low=1, high=100_000, what="a whole number of partitions")
    if value != int(value):
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}")
    return int(value)


def _km_list(text: str) -> list[float]:
    """Distances like ``2 5 10``, ``2;5;10`` or ``2,5;5`` (with ``;``/spaces, a comma is a decimal comma)."""
    parts = text.replace(";", " ").replace("/", " ").split()
    if len(parts) == 1 and "," in parts[0] and not re.fullmatch(r"\d+,\d+", parts[0]):
        parts = parts[0].split(",")  # "2,5,10": commas as separators
    values = [_positive_km(v) for v in parts]
    if not values:
        raise argparse.ArgumentTypeError("give at least one distance in km")
    return values


def _weights(text: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, value = part.partition("=")
        if not sep:
            raise argparse.ArgumentTypeError(f"expected NAME=WEIGHT, got {part!r}")
        out[name.strip()] = _number(value, low=0.0, high=1e6, what="a weight like 'CT05=1' or 'ring_road=0.8'")
    return out


# --------------------------------------------------------------------------------------------- parser


def _add_reading(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("--sheet", help=f"workbook sheet of {what} (default: the sheet holding the data)")
    p.add_argument("--layer", help=f"GeoPackage layer of {what} (default: the layer holding the data)")


def _report_parser(sub: Any) -> None:
    r = sub.add_parser("report", help="check the plan and write the report folder (map, tables, compliance)")
    r.add_argument("--out", required=True, type=Path, help="folder to write (refused when not empty)")
    r.add_argument("--force", action="store_true", help="overwrite a non-empty --out (files of the last run go)")
    r.add_argument("--buffer-km", type=_km, default=5.0, help="buffer B of the priority rule, km")
    r.add_argument("--rings", type=_km_list, default=[2.0, 5.0, 10.0], help="distance bands, km")
    r.add_argument(
        "--corridor-set",
        default=None,
        help="plan (CT.05, Capital Ring Road 4, Ring Road 5), plan-provincial-rr4 (the province's own ring "
        "road IV), expressway, all; or comma-separated corridor ids (default: plan, or every priority "
        "corridor of a --corridors file)",
    )
    r.add_argument("--applies-to", default=DEFAULT_APPLIES_TO, help="sites the rule applies to")
    r.add_argument(
        "--sites",
        type=Path,
        help="your own site table (CSV, XLSX, GeoJSON, GeoPackage, Shapefile) (default: the embedded sites)",
    )
    _add_reading(r, "--sites")
    r.add_argument(
        "--corridors",
        type=Path,
        help="your own corridor lines, any CRS, VN-2000 included (default: the embedded corridors)",
    )
    r.add_argument(
        "--point-precision-m",
        type=_metres,
        default=50.0,
        help="precision assumed for --sites coordinates without a precision_m column, m (flagged)",
    )
    r.add_argument(
        "--no-place-by-commune",
        action="store_true",
        help="leave --sites rows without coordinates unplaced instead of at their commune's point",
    )
    r.add_argument("--boundaries", default="auto", help="auto, official, approx, or a polygon file")
    r.add_argument("--tiles", choices=["none", "osm", "carto"], default="none", help="basemap tiles (none: offline)")
    r.add_argument("--no-png", action="store_true", help="skip map.png")


def _geocode_parser(sub: Any) -> None:
    g = sub.add_parser("geocode", help="place addresses, commune names or coordinates in districts and communes")
    g.add_argument("input", type=Path, help="table to geocode (CSV, XLSX, GeoJSON, GeoPackage, Shapefile, Parquet)")
    g.add_argument("--out", required=True, type=Path, help="output file (CSV, XLSX, GeoJSON, GeoPackage, Shapefile)")
    _add_reading(g, "the input")
    how = g.add_mutually_exclusive_group()
    how.add_argument("--address-col", help="column with a free-text Vietnamese address (default: none)")
    how.add_argument("--commune-col", help="column with a commune/ward name (default: none)")
    how.add_argument(
        "--lon-col", help="longitude column, with --lat-col (default: none; a spatial file is placed by its geometry)"
    )
    g.add_argument("--district-col", help="district column, with --commune-col (default: none)")
    g.add_argument("--lat-col", help="latitude column, with --lon-col (default: none)")
    g.add_argument(
        "--boundaries",
        default="auto",
        choices=["auto", "official", "approx"],
        help="district/commune polygons: official (downloaded), approx (shipped), auto (official when cached)",
    )
    g.add_argument("--force", action="store_true", help="overwrite an existing --out file")


def _score_parser(sub: Any) -> None:
    s = sub.add_parser("score", help="score and rank candidate sites by corridor proximity")
    s.add_argument("input", type=Path, help="candidate sites (CSV, XLSX, GeoJSON, GeoPackage, Shapefile, Parquet)")
    s.add_argument("--out", required=True, type=Path, help="output file (CSV, XLSX, GeoJSON, GeoPackage, Parquet)")
    _add_reading(s, "the input")
    s.add_argument("--lon-col", help="longitude column of a CSV (default: found by name)")
    s.add_argument("--lat-col", help="latitude column of a CSV (default: found by name)")
    s.add_argument(
        "--address-col", help="address column: candidates are geocoded first, at commune precision (default: none)"
    )
    s.add_argument("--corridors", type=Path, help="your own corridor lines (default: the embedded ones)")
    s.add_argument(
        "--corridor-set",
        default=None,
        help="for the embedded corridors: plan, plan-provincial-rr4, expressway, all, or ids; a --corridors "
        "file is used whole unless this is given (default: plan)",
    )
    s.add_argument(
        "--crs",
        help="CRS of the input coordinates when the file does not say, e.g. EPSG:5897 "
        "(default: the file's, else EPSG:4326)",
    )
    s.add_argument(
        "--rejects", type=Path, help="write rows that could not be scored here, with the reason (default: not written)"
    )
    s.add_argument("--npartitions", type=_count, help="partitions for --engine dask (default: one per core)")
    s.add_argument(
        "--decay", choices=["linear", "exponential", "gaussian", "step"], default="linear", help="score vs distance"
    )
    s.add_argument("--half-distance-km", type=_positive_km, default=5.0, help="distance where the score is 0.5, km")
    s.add_argument("--max-km", type=_positive_km, default=10.0, help="distance beyond which the score is 0, km")
    s.add_argument("--weights", type=_weights, help="corridor weights, e.g. 'CT05=1,RR5=0.5' (default: all 1)")
    s.add_argument("--no-access-points", action="store_true", help="do not measure access points")
    s.add_argument("--exclude", type=Path, action="append", help="polygons to exclude, repeatable (default: none)")
    s.add_argument("--engine", choices=["local", "dask"], default="local", help='dask needs: pip install "vpgeo[dask]"')
    s.add_argument("--scheduler", help="dask scheduler address for --engine dask (default: a local cluster)")
    s.add_argument(
        "--no-progress",
        action="store_true",
        help="no progress on stderr (else, from 50,000 rows: a line per stage with rows and seconds, and a bar)",
    )
    s.add_argument("--force", action="store_true", help="overwrite an existing --out (and --rejects) file")


def _parser() -> argparse.ArgumentParser:
    from vpgeo._version import __version__

    p = _Parser(prog="vpgeo", description="Industrial-land analysis for Vĩnh Phúc (KCN/CCN and corridors).")
    p.add_argument("--version", action="version", version=f"vpgeo {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    _report_parser(sub)
    _geocode_parser(sub)
    _score_parser(sub)
    d = sub.add_parser("data", help="official boundary downloads: list, fetch, info")
    dsub = d.add_subparsers(dest="data_command", required=True, parser_class=_Parser)
    dsub.add_parser("list", help="the pinned sources and whether they are cached")
    f = dsub.add_parser("fetch", help="download, verify and cache a source")
    f.add_argument("name", help="source name (see 'vpgeo data list')")
    i = dsub.add_parser("info", help="a source's URL, sha256, licence, vintage, cache path")
    i.add_argument("name", help="source name (see 'vpgeo data list')")
    return p


def command_parsers(parser: argparse.ArgumentParser | None = None) -> dict[str, argparse.ArgumentParser]:
    """Each subcommand's parser by name (``"data list"`` for nested ones); used by the tests of messages."""
    parser = parser or _parser()
    out: dict[str, argparse.ArgumentParser] = {}
    for action in parser._subparsers._group_actions if parser._subparsers else []:
        for name, sub in getattr(action, "choices", {}).items():
            out[name] = sub
            for nested in sub._subparsers._group_actions if sub._subparsers else []:
                for n2, s2 in getattr(nested, "choices", {}).items():
                    out[f"{name} {n2}"] = s2
    return out


# --------------------------------------------------------------------------------------------- advice

# What to say instead of a flag the command does not have (the library's messages name the flags of the
# commands that have them). Keys: (flag); values: wording for a command without it.
_INSTEAD = {
    "--crs": "a CRS in the file itself (e.g. save it as GeoPackage in EPSG:5897)",
    "--lon-col": "longitude/latitude columns named lon/lat (or kinh độ/vĩ độ)",
    "--lat-col": "longitude/latitude columns named lon/lat (or kinh độ/vĩ độ)",
    "--force": "another output name",
}
_FLAG = re.compile(r"--[a-z][a-z0-9-]*")


def fit_advice(message: str, parser: argparse.ArgumentParser) -> str:
    """``message`` with every flag the command lacks replaced by advice it can follow.

    >>> p = argparse.ArgumentParser(); _ = p.add_argument("--out")
    >>> fit_advice("projected; give --crs EPSG:5897 and --out x", p)
    'projected; give a CRS in the file itself (e.g. save it as GeoPackage in EPSG:5897) and --out x'
    """
    have = {s for a in parser._actions for s in a.option_strings}

    def swap(m: re.Match[str]) -> str:
        flag = m.group(0)
        return flag if flag in have else _INSTEAD.get(flag, "a corrected file")

    text = message
    # "--lon-col 'a' --lat-col 'b'" with its values, for commands that cannot take them
    if "--crs" not in have:
        text = re.sub(r"--crs \S+", "--crs", text)
    if "--lon-col" not in have:
        text = re.sub(r"--lon-col '[^']*' --lat-col '[^']*'", "swapped column names in the file", text)
    return _FLAG.sub(swap, text)


# ------------------------------------------------------------------------------------------- warnings

_OFFLINE = "official boundaries unavailable"


def _offline_line(text: str, command: str) -> str:
    """The offline-boundaries warning as one line naming this interface's fix (not the Python argument)."""
    fetch = "vpgeo data list"
    line = "official boundaries unavailable (offline?); using the APPROXIMATE ones shipped with vpgeo"
    if command in {"report", "geocode"}:
        return f"{line}; pass --boundaries approx to choose them, or fetch the official ones ('{fetch}')"
    return f"{line}; fetch the official ones to use them ('{fetch}')"


@contextmanager
def _short_warnings(command: str, stream: TextIO) -> Iterator[None]:
    """Warnings as one short line each, once per run; restored on exit (nothing global is replaced)."""
    seen: set[str] = set()

    def show(message: Warning | str, category: type[Warning], *args: Any, **kwargs: Any) -> None:
        text = " ".join(str(message).split())
        key = text
        if _OFFLINE in text:  # once per run, whichever layer fell back first
            key, text = _OFFLINE, _offline_line(text, command)
        elif len(text) > 240:
            text = text[:237] + "…"
        if key not in seen:
            seen.add(key)
            stream.write(f"vpgeo: warning: {text}\n")

    with warnings.catch_warnings():
        warnings.simplefilter("default")
        warnings.simplefilter("ignore", ResourceWarning)  # for developers (e.g. a file left open by Ctrl-C)
        # the report states the CRS it measured in; the reprojection notice is for library users
        warnings.simplefilter("ignore", CRSWarning)
        warnings.showwarning = show
        yield


# -------------------------------------------------------------------------------------------- running


def _corridor_set(value: str | None) -> Any:
    if value and "," in value:
        return [c.strip() for c in value.split(",") if c.strip()]
    return value


@contextmanager
def _selected(path: Path | None, args: argparse.Namespace) -> Iterator[None]:
    """Pass --sheet/--layer to the reader of ``path`` (the command's main table)."""
    if path is None or (args.sheet is None and args.layer is None):
        yield
        return
    from vpgeo.io import selecting

    with selecting(path, sheet=args.sheet, layer=args.layer):
        yield


def _stage(command: str) -> Callable[[str], None] | None:
    """Stage names on a terminal's stderr ("vpgeo report: checking the rule …"); silent when piped."""
    if not sys.stderr.isatty():
        return None

    def say(what: str) -> None:
        sys.stderr.write(f"vpgeo {command}: {what} …\n")

    return say


def _run_report(args: argparse.Namespace, staging: Path) -> Any:
    from vpgeo.pipeline import build_report

    return build_report(
        staging,
        sites=args.sites,
        corridors=args.corridors,
        buffer_km=args.buffer_km,
        rings_km=args.rings,
        corridor_set=_corridor_set(args.corridor_set),
        applies_to=args.applies_to,
        boundaries=args.boundaries,
        tiles=args.tiles,
        force=False,
        png=not args.no_png,
        point_precision_m=args.point_precision_m,
        place_by_commune=not args.no_place_by_commune,
        progress=_stage("report"),
    )


def _report(args: argparse.Namespace) -> int:
    from vpgeo._output import OutputDir

    if (args.sheet or args.layer) and args.sites is None:
        raise VpgeoError("--sheet and --layer choose the part of --sites to read; give --sites too")
    with OutputDir(args.out, force=args.force, known=REPORT_FILES) as out, _selected(args.sites, args):
        try:
            res = _run_report(args, out.staging)
        except VpgeoError as exc:
            # a table whose every row is rejected: its rejects.csv is the run's one, complete output
            if sorted(p.name for p in out.staging.iterdir()) == ["rejects.csv"]:
                out.commit()
            raise VpgeoError(str(exc).replace(str(out.staging), str(args.out))) from None
        written = out.commit()
    c = res.result.counts["applicable"]
    print(
        f"vpgeo report: {len(res.result.table)} sites; rule (buffer {args.buffer_km:g} km) on "
        f"{sum(c.values())} sites: {c['yes']} yes, {c['no']} no, {c['uncertain']} uncertain; "
        f"{len(res.rejects)} rejected; wrote {', '.join(sorted(p.name for p in written))} to {args.out}"
    )
    return 0


@contextmanager
def _out_files(args: argparse.Namespace, *paths: Path | None) -> Iterator[None]:
    """Check the output files before any work and lock them for the run."""
    from contextlib import ExitStack

    from vpgeo._output import Lock, check_out_file, lock_for

    with ExitStack() as stack:
        for path in paths:
            if path is None:
                continue
            if path.suffix.lower() not in OUT_EXTENSIONS:
                raise InputError(
                    f"cannot write {path.suffix or '(no extension)'!r} files; name it "
                    + ", ".join(OUT_EXTENSIONS[:-1])
                    + f" or {OUT_EXTENSIONS[-1]}",
                    path=str(path),
                )
            check_out_file(path, force=args.force)
            stack.enter_context(Lock(lock_for(path), path))
        yield


def _geocode(args: argparse.Namespace) -> int:
    if (args.lon_col and not args.lat_col) or (args.lat_col and not args.lon_col):
        raise VpgeoError("--lon-col and --lat-col go together; give both")
    if args.district_col and not args.commune_col:
        raise VpgeoError("--district-col goes with --commune-col")
    with _out_files(args, args.out), _selected(args.input, args):
        from vpgeo.geocoding import geocode_file

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


def _check_engine(engine: str) -> None:
    import importlib.util

    if engine == "dask" and any(importlib.util.find_spec(m) is None for m in ("dask_geopandas", "distributed")):
        raise VpgeoError('--engine dask needs dask-geopandas: pip install "vpgeo[dask]" (or use --engine local)')


def _dataset_out(args: argparse.Namespace) -> bool:
    """True for the distributed path (a Parquet folder in, a folder out); refuses an unsafe output folder."""
    if args.engine != "dask" or not (Path(args.input).is_dir() or not args.out.suffix):
        return False
    if args.out.suffix:
        raise InputError("a Parquet folder is scored into a folder: --out without an extension", path=str(args.out))
    if args.out.is_symlink() or (args.out.exists() and not args.out.is_dir()):
        raise InputError("--out must be a new or empty folder (not a link or a file)", path=str(args.out))
    if args.out.exists() and any(args.out.iterdir()):
        raise InputError("the output folder is not empty; choose a new or empty folder for --out", path=str(args.out))
    return True


def _score(args: argparse.Namespace) -> int:
    _check_engine(args.engine)
    outs = (args.rejects,) if _dataset_out(args) else (args.out, args.rejects)
    with _out_files(args, *outs), _selected(args.input, args):
        from vpgeo.pipeline.score import score_file

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


def _data(args: argparse.Namespace) -> int:
    from vpgeo import downloads as boundaries  # the download registry only: no geopandas for 'data list'

    if args.data_command == "list":
        print("name\tcached\tlicence\tvintage\tdescription")
        for src in boundaries.list_sources():
            print("\t".join(str(src.get(k, "")) for k in ("name", "cached", "licence", "vintage", "description")))
    elif args.data_command == "fetch":
        print(boundaries.fetch(args.name))
    else:
        print(json.dumps(boundaries.source_info(args.name), ensure_ascii=False, indent=2, default=str))
    return 0


_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "report": _report,
    "geocode": _geocode,
    "score": _score,
    "data": _data,
}


def _on_sigint(signum: int, frame: FrameType | None) -> None:
    """The first Ctrl-C interrupts; further ones are ignored so the clean-up runs to the end."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise KeyboardInterrupt


def _internal(command: str, exc: Exception) -> int:
    if os.environ.get("VPGEO_DEBUG"):
        traceback.print_exc()
    msg = " ".join(str(exc).split())[:300]
    sys.stderr.write(
        f"vpgeo {command}: internal error: {type(exc).__name__}: {msg} "
        "(set VPGEO_DEBUG=1 for the traceback and report it)\n"
    )
    return 1


def _main(argv: Sequence[str] | None) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0) if not isinstance(exc.code, str) else 2
    try:
        with _short_warnings(args.command, sys.stderr):
            return _COMMANDS[args.command](args)
    except VpgeoError as exc:
        name = args.command if args.command != "data" else f"data {args.data_command}"
        text = fit_advice(" ".join(str(exc).split()), command_parsers(parser)[name])
        sys.stderr.write(f"vpgeo {args.command}: error: {text}\n")
        return 2
    except OSError as exc:  # a file we could not write or read, outside vpgeo's own checks
        where = f" ({exc.filename})" if exc.filename else ""
        sys.stderr.write(f"vpgeo {args.command}: error: {exc.strerror or exc}{where}; check the path and permissions\n")
        return 2
    except Exception as exc:  # a bug of ours: one line, traceback on request
        return _internal(args.command, exc)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit code (0 done, 2 bad input, 1 internal error, 130 interrupted)."""
    previous = None
    try:
        main_thread = threading.current_thread() is threading.main_thread()
        if main_thread and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            previous = signal.signal(signal.SIGINT, _on_sigint)
        return _main(argv)
    except KeyboardInterrupt:
        sys.stderr.write("vpgeo: interrupted; nothing partial was left behind\n")
        return 130
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


if __name__ == "__main__":
    raise SystemExit(main())
