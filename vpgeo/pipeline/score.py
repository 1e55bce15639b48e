"""``score_file``: candidates from a file (or a Parquet dataset folder) scored and written back.

The file-in/file-out workflow of :func:`vpgeo.score_candidates`: reading (CSV, XLSX, GeoJSON, GeoPackage,
Shapefile, (Geo)Parquet; addresses geocoded first), per-row flags, rejects, the summary the CLI prints,
and, with ``engine="dask"`` on a Parquet dataset, the distributed path of :func:`score_dataset`.
"""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from vpgeo._format import decimals_for, round_to
from vpgeo.crs import to_metric
from vpgeo.errors import InputError
from vpgeo.scoring import score_candidates

__all__ = ["OUTSIDE_MARGIN_M", "PROGRESS_ROWS", "rounded", "score_dataset", "score_file"]

_OP = "score_candidates"


def _read_any(path: Path, **kw: Any) -> pd.DataFrame:
    from vpgeo.io import read_table

    return read_table(path, **kw)


_LON = ("lon", "lng", "long", "longitude", "x", "kinh do", "kinh_do", "kinhdo")
_LAT = ("lat", "latitude", "y", "vi do", "vi_do", "vido")


def _guess(columns: Sequence[str], names: Sequence[str]) -> str | None:
    from vpgeo.text import fold

    folded = {fold(str(col)).replace("_", " "): col for col in columns}
    # a merged two-row XLSX header is read as "Tọa độ / Kinh độ": its lower row names the column
    lower = {fold(str(col).rsplit(" / ", 1)[1]).replace("_", " "): col for col in columns if " / " in str(col)}
    for table in (folded, lower):
        for n in names:
            hit = table.get(n.replace("_", " "))
            if hit is not None:
                return str(hit)
    return None


#: Distance beyond the (approximate, ±1.5 km) provincial boundary at which a candidate is flagged.
OUTSIDE_MARGIN_M = 2_000.0


def _row_flags(df: pd.DataFrame, result: gpd.GeoDataFrame) -> pd.Series:
    """Per-row flags for ``vpgeo score``: what the reader did (text cut, geometry repaired) and positions
    more than :data:`OUTSIDE_MARGIN_M` outside the province (scored all the same, but likely a mistake)."""
    from vpgeo.boundaries import load_districts

    reader = df.attrs.get("row_flags") or {}
    flags: dict[int, list[str]] = {}  # position → flags; most rows have none
    if reader and "_row" in df.columns:
        rows = df["_row"].to_numpy()
        for i in np.flatnonzero(df["_row"].isin(list(reader)).to_numpy()):
            flags[int(i)] = list(reader.get(int(rows[i]), []))
    geoms = result.geometry
    present = (geoms.notna() & ~geoms.is_empty).to_numpy()
    for i in np.flatnonzero(~present):
        flags.setdefault(int(i), []).append("no_position: not scored or ranked")
    if present.any() and geoms.crs is not None:
        province = to_metric(
            load_districts(source="approx"), operation="flagging candidates outside the province", warn=False
        )
        area = shapely.buffer(shapely.union_all(province.geometry.to_numpy()), OUTSIDE_MARGIN_M)
        shapely.prepare(area)
        metric = to_metric(gpd.GeoSeries(geoms[present].to_numpy(), crs=geoms.crs), operation=_OP, warn=False)
        inside = shapely.intersects(area, metric.to_numpy())
        outside = f"outside_province: more than {OUTSIDE_MARGIN_M / 1000:g} km outside Vĩnh Phúc (scored anyway)"
        for i in np.flatnonzero(present)[~inside]:
            flags.setdefault(int(i), []).append(outside)
    out = np.full(len(result), "", dtype=object)
    for pos, f in flags.items():
        out[pos] = ";".join(f)
    return pd.Series(out, index=result.index, dtype=object)


#: A score is a unitless number known to ~0.01: printed with 3 decimals (``round_to(s, 0.01, unit_m=1)``).
_SCORE_PRECISION = 0.01
_EXACT_M = 1.0  # rows without a precision_m: distances to the metre


def _row_precision(row: pd.Series) -> float:
    p = pd.to_numeric(pd.Series([row.get("precision_m", np.nan)]), errors="coerce").iloc[0]
    return float(p) if pd.notna(p) and p > 0 else _EXACT_M


def rounded(result: pd.DataFrame) -> pd.DataFrame:
    """The scored table as written: distances rounded to what each row's ``precision_m`` supports (to the
    metre without one), scores to 3 decimals, through :func:`vpgeo._format.round_to` (the one formatter)."""
    out = result.copy()
    if "precision_m" in out.columns:
        prec = pd.to_numeric(out["precision_m"], errors="coerce").to_numpy(dtype=float)
        prec = np.where(prec > 0, prec, _EXACT_M)
    else:
        prec = np.full(len(out), _EXACT_M)
    km_cols = [
        c for c in out.columns if c in ("distance_km", "access_km") or (c.startswith("dist_") and c.endswith("_km"))
    ]
    for p in np.unique(prec):
        rows = prec == p
        decimals = decimals_for(float(p))
        for col in km_cols:
            out.loc[rows, col] = np.round(out.loc[rows, col].to_numpy(dtype=float), decimals)
    for col in ("score", "score_lo", "score_hi"):
        if col in out.columns:
            out[col] = np.round(out[col].to_numpy(dtype=float), decimals_for(_SCORE_PRECISION, unit_m=1.0))
    return out


#: Stage lines (``vpgeo score: read 200,000 rows from c.csv in 0.4 s``) are printed, with ``progress``, for
#: stages of this many rows (the measuring bar's threshold, too) or stages taking :data:`_SLOW_S` or more.
PROGRESS_ROWS = 50_000
_SLOW_S = 2.0
_BIG_FILE = 1_000_000  # bytes (about PROGRESS_ROWS rows of a three-column CSV): announced on a terminal


@dataclass
class _Stage:
    text: str = ""  # what was done, e.g. "read 200,000 rows from c.csv"
    rows: int = 0


class _Progress:
    """One line per stage on stderr: what was done, to how many rows, in how long (only when enabled).

    On a terminal a long stage is announced while it runs and its line then replaces the announcement.
    """

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    @contextmanager
    def stage(self, announce: str | None = None) -> Iterator[_Stage]:
        st = _Stage()
        if not self.enabled:
            yield st
            return
        stream = sys.stderr
        live = announce is not None and stream.isatty()
        if live:
            stream.write(f"vpgeo score: {announce} …")
            stream.flush()
        start = time.perf_counter()
        try:
            yield st
        except BaseException:
            if live:
                stream.write("\n")
            raise
        took = time.perf_counter() - start
        lead = "\r\x1b[K" if live else ""
        if st.text and (st.rows >= PROGRESS_ROWS or took >= _SLOW_S):
            stream.write(f"{lead}vpgeo score: {st.text} in {took:.1f} s\n")
        else:
            stream.write(lead)
        stream.flush()


def _geocoded(src: Path, address_col: str, progress: _Progress) -> gpd.GeoDataFrame:
    """Candidates given by address: placed at their commune's point; unplaced rows keep no geometry."""
    from vpgeo.geocoding import geocode
    from vpgeo.io import read_table

    with progress.stage(_reading(src)) as st:
        raw = read_table(src)
        st.text, st.rows = f"read {len(raw):,} rows from {src}", len(raw)
    with progress.stage(f"geocoding {len(raw):,} rows" if len(raw) >= PROGRESS_ROWS else None) as st:
        placed = geocode(raw, address=address_col)
        x, y = placed["lon"].to_numpy(dtype=float), placed["lat"].to_numpy(dtype=float)
        ok = pd.notna(placed["lon"]).to_numpy() & pd.notna(placed["lat"]).to_numpy()
        geoms = np.full(len(placed), None, dtype=object)
        geoms[ok] = shapely.points(x[ok], y[ok])
        st.text, st.rows = f"geocoded {len(placed):,} rows ({int(ok.sum()):,} placed)", len(placed)
    out = gpd.GeoDataFrame(placed, geometry=geoms, crs="EPSG:4326")
    out.attrs.update(raw.attrs)
    return out


def _reading(src: Path) -> str | None:
    """The announcement of reading a big file (None for a small one)."""
    try:
        size = src.stat().st_size
    except OSError:
        return None
    return f"reading {src} ({size / 1e6:.1f} MB)" if size >= _BIG_FILE else None


def _candidates(src: Path, options: dict[str, Any], progress: _Progress) -> pd.DataFrame:
    """The input table with point geometry (read once; addresses geocoded); the options it uses removed."""
    lon_col, lat_col, crs = options.pop("lon_col", None), options.pop("lat_col", None), options.pop("crs", None)
    address_col = options.pop("address_col", None)
    if address_col is not None:
        return _geocoded(src, address_col, progress)
    with progress.stage(_reading(src)) as st:
        df = _read_any(src, lon_col=lon_col, lat_col=lat_col, crs=crs)
        if not isinstance(df, gpd.GeoDataFrame):
            lon, lat = _guess(df.columns, _LON), _guess(df.columns, _LAT)
            if lon is None or lat is None:
                raise InputError(
                    "no geometry and no longitude/latitude columns found; give --lon-col and --lat-col "
                    "(for addresses, run 'vpgeo geocode' first and score its output)",
                    path=str(src),
                )
            from vpgeo.io import points_from_columns

            df = points_from_columns(df, lon, lat, crs=crs)  # the table read above: no second reading
        st.text, st.rows = f"read {len(df):,} rows from {src}", len(df)
    return df


def _write_result(result: gpd.GeoDataFrame, output: str | Path, rejects_path: Any, progress: _Progress) -> Path:
    from vpgeo.io import write_rejects, write_table

    n = len(result)
    with progress.stage(f"writing {n:,} rows to {output}" if n >= PROGRESS_ROWS else None) as st:
        written = write_table(rounded(result), output)
        st.text, st.rows = f"wrote {n:,} rows to {written}", n
        if rejects_path is not None:
            skipped = result[result["rank"].isna()].copy()
            skipped["reason"] = skipped["excluded_reason"].fillna("not ranked")
            if "_row" not in skipped.columns:
                skipped["_row"] = np.flatnonzero(result["rank"].isna().to_numpy()) + 1
            if write_rejects(skipped, rejects_path) is not None:
                st.text += f" and {len(skipped):,} rejected rows to {rejects_path}"
    return written


def score_file(input: str | Path, output: str | Path, **options: Any) -> dict[str, Any]:
    """Read candidates from a file, score them, write the result; return a summary for the CLI.

    Parameters
    ----------
    input : str or Path
        CSV/XLSX with longitude/latitude columns (found by name: lon/lat, longitude/latitude, x/y,
        kinh độ/vĩ độ, or given as ``lon_col``/``lat_col``) or with an address column (``address_col``:
        geocoded first with :func:`vpgeo.geocode`, at the precision of a commune), GeoJSON, GeoPackage,
        Shapefile or (Geo)Parquet.
    output : str or Path
        The result; its extension chooses the format (``.csv``, ``.geojson``, ``.gpkg``, ``.parquet`` …).
    **options
        ``lon_col``, ``lat_col``, ``crs`` (of the input's coordinates); ``corridors`` (a path or layer),
        ``exclude`` (paths or layers); ``rejects`` (path for rows not ranked, optional); ``progress`` (default
        True: on stderr, one line per stage (reading, geocoding, scoring, writing) with its rows and seconds
        for tables of :data:`PROGRESS_ROWS` rows or more or stages of 2 s or more, and the measuring bar);
        everything else is passed to :func:`score_candidates`. With ``engine="dask"`` and a Parquet dataset
        folder (or a ``.parquet`` file) in and a folder out (a path without extension), the work goes to
        :func:`score_dataset` on the cluster ``scheduler`` (an address or a client; default a local one),
        with ``npartitions``, ``corridors``, ``corridor_set``, ``access_points``, ``exclude``, ``decay``,
        ``half_distance_km``, ``max_km``, ``weights``, ``search_km``; ``progress`` is ignored there.

    Returns
    -------
    dict
        ``rows_in``, ``rows_out``, ``ranked``, ``excluded`` (count per reason), ``flagged`` (rows with a
        flag), ``corridors``, ``top`` (the best five rows' rank, distance and score), ``output``, ``notes``
        (from the reader).

    Notes
    -----
    Every input row is in the output, in order. Its ``flags`` column (empty when clean; an input column
    of that name is kept as ``flags_input``) says what was wrong with the row and what was done: text cut to
    :data:`vpgeo.io.MAX_TEXT` characters, an invalid geometry repaired, a position more than
    :data:`OUTSIDE_MARGIN_M` outside the province (scored anyway). Rows without a position are not ranked
    (``excluded_reason`` "no geometry") and go to ``rejects`` too when it is given.
    """
    src = Path(input)
    if options.get("engine") == "dask" and (_is_dataset(src) or not Path(output).suffix):
        return _score_file_dataset(src, Path(output), options)
    options.setdefault("progress", True)
    progress = _Progress(bool(options["progress"]))
    rejects_path = options.pop("rejects", None)
    df = _candidates(src, options, progress)
    notes = list(df.attrs.get("io_notes", []))
    exclude = options.pop("exclude", None)
    if isinstance(exclude, list | tuple) and not exclude:
        exclude = None
    with progress.stage() as st:
        result = score_candidates(df, options.pop("corridors", None), exclude=exclude, **options)
        if "flags" in result.columns:
            result = result.rename(columns={"flags": "flags_input"})
        result["flags"] = _row_flags(df, result)
        ranked = int(result["rank"].notna().sum())
        corridors = result.attrs["scoring"]["corridors"]
        st.text = f"scored {len(result):,} rows against {len(corridors)} corridors ({ranked:,} ranked)"
        st.rows = len(result)
    written = _write_result(result, output, rejects_path, progress)
    return _summary(src, written, df, result, notes)


def _summary(src: Path, written: Path, df: pd.DataFrame, result: gpd.GeoDataFrame, notes: list[str]) -> dict[str, Any]:
    reasons = result["excluded_reason"].dropna().value_counts().to_dict()
    ranked = result[result["rank"].notna()].sort_values("rank").head(5)
    name_col = next((col for col in ("name", "ten", "site", "id") if col in result.columns), None)
    top = [
        {
            **({"name": row[name_col]} if name_col else {}),
            "rank": int(row["rank"]),
            "distance_km": round_to(row["distance_km"], _row_precision(row)),
            "score": round_to(row["score"], _SCORE_PRECISION, unit_m=1.0),
        }
        for _, row in ranked.iterrows()
    ]
    return {
        "input": str(src),
        "output": str(written),
        "rows_in": len(df),
        "rows_out": len(result),
        "ranked": int(result["rank"].notna().sum()),
        "flagged": int((result["flags"] != "").sum()),
        "excluded": {str(k): int(v) for k, v in reasons.items()},
        "corridors": result.attrs["scoring"]["corridors"],
        "top": top,
        "notes": notes,
    }


# ------------------------------------------------------------------------------------------ distributed

_UNRANKED_KEY = 1e300  # sorts after every distance: excluded rows and rows without geometry
_BEYOND_KEY = 1e299  # score 0 and every corridor beyond the search bound: they tie among themselves


def _score_part(
    part: gpd.GeoDataFrame,
    cs: Any,
    params: dict[str, Any],
    exclude: Any,
    offsets: Sequence[int],
    partition_info: dict[str, Any] | None = None,
) -> gpd.GeoDataFrame:
    """Score one partition; ``_row`` is the global input position, ``_rank_key`` orders the ranking."""
    number = int(partition_info["number"]) if partition_info else 0
    out = score_candidates(part, cs, exclude=exclude, **params).drop(columns="rank")
    out["_row"] = np.arange(len(out), dtype=np.int64) + (int(offsets[number]) if len(offsets) else 0)
    score = out["score"].to_numpy(dtype=float)
    dist = out["distance_km"].to_numpy(dtype=float)
    ranked = ~out["excluded"].to_numpy(dtype=bool) & ~np.isnan(score)
    # (−score, distance) in one float: scores > 0 by −score (equal scores meet in one bucket and are
    # ordered by distance there), score 0 by distance.
    key = np.where(score > 0, -score, np.where(np.isnan(dist), _BEYOND_KEY, dist))
    out["_rank_key"] = np.where(ranked, key, _UNRANKED_KEY)
    out.attrs = {}  # per-partition attrs (scoring parameters, provenance) would be compared on every concat
    return out


# Fine bins of the ranking key, fixed in advance so every partition can count its rows per bin while it is
# scored (no extra pass): −score in [−1, 0) in 1,024 equal bins, distances 0–2,000 km (score 0) in 1,024
# bins growing geometrically, then "beyond the search bound" and "not ranked". Equal keys share a bin.
_SCORE_BINS = np.linspace(-1.0, 0.0, 1025)[1:-1]
_DIST_BINS = np.concatenate([[0.0], np.geomspace(1e-3, 2000.0, 1023)])
_EDGES = np.concatenate([_SCORE_BINS, _DIST_BINS, [_BEYOND_KEY, _UNRANKED_KEY]])
_N_BINS = len(_EDGES) + 1


def _fine_bin(keys: NDArray[np.float64]) -> NDArray[np.intp]:
    out: NDArray[np.intp] = np.searchsorted(_EDGES, keys, side="right")
    return out


def _buckets(counts: NDArray[np.int64], parts: int) -> NDArray[np.intp]:
    """Group consecutive fine bins into ``parts`` buckets of about equal rows: the bucket of each bin."""
    total = max(int(counts.sum()), 1)
    cum = np.cumsum(counts) - counts  # rows before each bin
    out: NDArray[np.intp] = np.minimum((cum * parts) // total, parts - 1).astype(np.intp)
    return out


def _rank_part(part: gpd.GeoDataFrame, offsets: np.ndarray) -> gpd.GeoDataFrame:
    """Ranks of the rows of whole buckets: the rows before the bucket, plus the rank inside it (ties: min)."""
    part = part.sort_values(["_bucket", "_rank_key", "distance_km", "_row"], na_position="last", kind="stable")
    b = part["_bucket"].to_numpy()
    key = part["_rank_key"].to_numpy(dtype=float)
    d = np.nan_to_num(part["distance_km"].to_numpy(dtype=float), nan=np.inf)
    pos = np.arange(len(part))
    new_bucket = np.r_[True, b[1:] != b[:-1]] if len(part) else np.zeros(0, dtype=bool)
    bucket_start = np.maximum.accumulate(np.where(new_bucket, pos, 0))
    new_tie = new_bucket | np.r_[True, (key[1:] != key[:-1]) | (d[1:] != d[:-1])] if len(part) else new_bucket
    tie_start = np.maximum.accumulate(np.where(new_tie, pos, 0))
    rank = offsets[b] + (tie_start - bucket_start) + 1
    out = part.drop(columns=["_bucket"])
    out["rank"] = pd.array(np.where(key >= _UNRANKED_KEY, pd.NA, rank), dtype="Int64")
    return out


def _files(folder: Path) -> list[str]:
    if folder.is_dir():
        files = sorted(str(f) for f in folder.glob("*.parquet"))
        if not files:
            raise InputError("the folder holds no .parquet files", path=str(folder))
        return files
    return [str(folder)]


def _read_part(path: str, columns: list[str] | None = None) -> Any:
    if columns is not None:
        return pd.read_parquet(path, columns=columns)
    return gpd.read_parquet(path)


def _read_dataset(folder: Path, columns: list[str] | None = None) -> Any:
    """A dask frame with one partition per Parquet file, read by the workers (pyarrow via geopandas)."""
    import dask.dataframe as dd
    import dask_geopandas

    files = _files(folder)
    if columns is not None:
        import pyarrow.parquet as pq

        meta = pq.read_schema(files[0]).empty_table().select(columns).to_pandas()
        return dd.from_map(_read_part, files, columns=columns, meta=meta)
    meta = dask_geopandas.read_parquet(files[0])._meta  # from the schema: no rows are read
    meta.attrs = {}  # dask-geopandas keeps its spatial partitions there; pandas compares attrs on concat
    return dask_geopandas.from_dask_dataframe(dd.from_map(_read_part, files, meta=meta))


_SUMMARY_META = pd.DataFrame(
    {"kind": pd.Series(dtype=object), "key": pd.Series(dtype=object), "n": pd.Series(dtype="int64")}
)


def _write_part(part: pd.DataFrame, folder: str, partition_info: dict[str, Any] | None = None) -> pd.DataFrame:
    """Write one partition as ``part.NNNNN.parquet`` and return what the ranking and the summary need:
    rows per fine bin of ``_rank_key`` (when scored), rows per exclusion reason, and the top-ranked rows."""
    number = int(partition_info["number"]) if partition_info else 0
    part.to_parquet(Path(folder) / f"part.{number:05d}.parquet", index=False)
    rows = [{"kind": "rows", "key": "", "n": len(part)}]
    if "_rank_key" in part.columns:
        bins = np.bincount(_fine_bin(part["_rank_key"].to_numpy(dtype=float)), minlength=_N_BINS)
        rows += [{"kind": "bin", "key": str(i), "n": int(v)} for i, v in enumerate(bins) if v]
    if "excluded_reason" in part.columns:
        for reason, v in part["excluded_reason"].dropna().value_counts().items():
            rows.append({"kind": "reason", "key": str(reason), "n": int(v)})
    if "rank" in part.columns:
        top = part[part["rank"].notna() & (part["rank"] <= 5)]
        for r, sc, d in zip(top["rank"], top["score"], top["distance_km"], strict=True):
            rows.append({"kind": "top", "key": f"{int(r)}|{float(sc)!r}|{float(d)!r}", "n": int(r)})
    return pd.DataFrame(rows, columns=list(_SUMMARY_META.columns)).astype(_SUMMARY_META.dtypes.to_dict())


def _write_dataset(ddf: Any, folder: Path) -> pd.DataFrame:
    folder.mkdir(parents=True, exist_ok=True)
    out: pd.DataFrame = ddf.map_partitions(_write_part, str(folder), meta=_SUMMARY_META).compute()
    return out


_DATASET_OPTIONS = {
    "scheduler",
    "npartitions",
    "corridors",
    "corridor_set",
    "access_points",
    "exclude",
    "decay",
    "half_distance_km",
    "max_km",
    "weights",
    "search_km",
}


def _is_dataset(path: Path) -> bool:
    return path.is_dir() or path.suffix.lower() in (".parquet", ".geoparquet")


def _score_file_dataset(src: Path, output: Path, options: dict[str, Any]) -> dict[str, Any]:
    """:func:`score_file` for Parquet datasets on a dask cluster (see :func:`score_dataset`)."""
    # Options left at None (as the CLI passes them) do not count as given.
    opts = {k: v for k, v in options.items() if k not in ("engine", "progress") and v is not None}
    unknown = sorted(set(opts) - _DATASET_OPTIONS)
    if unknown:
        raise InputError(
            f"option {unknown[0]!r} does not apply to a Parquet dataset scored on a cluster "
            "(the dataset needs a geometry column; excluded rows stay in the output with excluded_reason)",
            path=str(src),
        )
    if not _is_dataset(src):
        raise InputError("a cluster run reads a Parquet file or a folder of Parquet files", path=str(src))
    if isinstance(opts.get("exclude"), list | tuple) and not opts["exclude"]:
        opts["exclude"] = None
    summary = score_dataset(src, output, **opts)
    corridors = _corridor_ids(opts)
    return {
        "input": str(src),
        "output": summary["output"],
        "rows_in": summary["rows"],
        "rows_out": summary["rows"],
        "ranked": summary["ranked"],
        "flagged": 0,
        "excluded": summary["excluded"],
        "corridors": corridors,
        "top": summary["top"],
        "notes": [f"scored on a dask cluster in {summary['npartitions']} partitions"],
    }


def _corridor_ids(opts: dict[str, Any]) -> list[str]:
    from vpgeo.scoring import prepare_corridors

    return list(prepare_corridors(opts.get("corridors"), opts.get("corridor_set"), False).ids)


def _lengths(source: Any, ddf: Any) -> list[int]:
    """Rows per partition: from the Parquet footers when reading files (no data read), else computed."""
    import pyarrow.parquet as pq

    if isinstance(source, str | Path) and Path(source).suffix.lower() not in (".gpkg", ".geojson", ".shp"):
        try:
            return [int(pq.ParquetFile(f).metadata.num_rows) for f in _files(Path(source))]
        except (OSError, ValueError):
            pass
    return [int(v) for v in ddf.map_partitions(len, meta=(None, "int64")).compute()]


def _open_dataset(source: Any, npartitions: int | None) -> Any:
    import dask_geopandas

    if isinstance(source, dask_geopandas.GeoDataFrame):
        return source
    if isinstance(source, gpd.GeoDataFrame):
        return dask_geopandas.from_geopandas(source, npartitions=npartitions or 1)
    path = Path(source)
    if path.is_dir() or path.suffix.lower() in (".parquet", ".geoparquet"):
        return _read_dataset(path)
    return dask_geopandas.read_file(str(path), npartitions=npartitions or 1)


def score_dataset(
    source: Any,
    output: str | Path,
    *,
    scheduler: Any = None,
    npartitions: int | None = None,
    corridors: Any = None,
    corridor_set: str | Sequence[str] | None = None,
    access_points: Any = True,
    exclude: Any = None,
    **params: Any,
) -> dict[str, Any]:
    """Score a dataset larger than memory on a dask cluster and write it as a Parquet dataset folder.

    Workers read their partitions (``dask_geopandas.read_parquet`` of a file or folder, or the
    ``dask_geopandas.GeoDataFrame`` passed), measure and score them against one
    :class:`~vpgeo.measure.CorridorSet` sent to each worker once, and write them: the client holds
    neither the input nor the result. The ranking is global: the scored rows are written once to
    a staging folder beside ``output``, bucketed by quantiles of their ranking key (computed by dask from that one
    column), shuffled so each bucket is whole in one partition, ranked there (ties share the lowest rank)
    and offset by the rows of the buckets before; then the staging folder is removed.

    Parameters
    ----------
    source : path or dask_geopandas.GeoDataFrame or GeoDataFrame
        A (Geo)Parquet file or dataset folder (any CRS recorded in its metadata), another file
        ``dask_geopandas.read_file`` reads, or a frame.
    output : path
        A folder (created; must not exist or be empty): one ``part.N.parquet`` per partition, rows grouped
        by rank bucket (sorted by rank within each file), with ``_row`` the input position.
    scheduler : str or distributed.Client, optional
        The cluster (``"tcp://host:8786"``); default a local threaded cluster. Threads per worker follow
        the cluster's settings; inside tasks k-d tree queries use one thread each.
    npartitions : int, optional
        Partitions of the output (default: those of the input).
    corridors, corridor_set, access_points, exclude, **params
        As :func:`vpgeo.score_candidates` (``decay``, ``half_distance_km``, ``max_km``, ``weights``,
        ``search_km``).

    Returns
    -------
    dict
        ``rows``, ``ranked``, ``excluded`` (count per reason), ``npartitions``, ``output``, ``top`` (the
        best five rows).
    """
    from vpgeo.scoring import dask_client, prepare_corridors

    out_dir = Path(output)
    if out_dir.exists() and any(out_dir.iterdir()):
        raise InputError("the output folder exists and is not empty; choose a new folder", path=str(out_dir))
    cs = prepare_corridors(corridors, corridor_set, access_points)
    with dask_client(scheduler) as client:
        ddf = _open_dataset(source, npartitions)
        lengths = _lengths(source, ddf)
        offsets = np.concatenate([[0], np.cumsum(np.asarray(lengths, dtype=np.int64))[:-1]])
        meta = _score_part(ddf._meta, cs, params, exclude, [0])
        cs_f = client.scatter(cs, broadcast=True)
        ex_f = client.scatter(exclude, broadcast=True) if exclude is not None else None
        scored = ddf.map_partitions(_score_part, cs_f, params, ex_f, offsets, meta=meta, align_dataframes=False)
        stage = out_dir.with_name(out_dir.name + ".vpgeo-stage")
        shutil.rmtree(stage, ignore_errors=True)
        staged = _write_dataset(scored, stage)
        summary = _rank_stage(stage, out_dir, npartitions or ddf.npartitions, staged, lengths)
    shutil.rmtree(stage, ignore_errors=True)
    return summary


def _rank_stage(stage: Path, out_dir: Path, parts: int, staged: pd.DataFrame, lengths: list[int]) -> dict[str, Any]:
    """Global ranking of the staged rows (see :func:`score_dataset`) and the summary."""
    bins = staged[staged["kind"] == "bin"]
    counts = np.bincount(bins["key"].astype(int).to_numpy(), weights=bins["n"].to_numpy(), minlength=_N_BINS)
    counts = counts.astype(np.int64)
    bucket_of_bin = _buckets(counts, parts)
    per_bucket = np.bincount(bucket_of_bin, weights=counts, minlength=parts).astype(np.int64)
    offsets = np.concatenate([[0], np.cumsum(per_bucket)[:-1]])
    row_offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    # Only the ranking columns move: bucketed, shuffled so each bucket is whole, ranked, then sent back to
    # the partition holding each row (by input position) and attached to the staged rows there.
    keys = _read_dataset(stage, ["_row", "_rank_key", "distance_km"])
    keys["_bucket"] = keys["_rank_key"].map_partitions(_bucket_column, bucket_of_bin, meta=("_bucket", "int64"))
    keys = keys.shuffle(on="_bucket", npartitions=parts, shuffle_method="tasks")
    ranks = keys.map_partitions(_rank_part, offsets, meta=_rank_part(keys._meta, offsets))[["_row", "rank"]]
    bounds = [int(v) for v in row_offsets] + [int(row_offsets[-1] + lengths[-1] - 1)]
    ranks = ranks.set_index("_row", divisions=bounds, shuffle_method="tasks")
    full = _read_dataset(stage)
    final = full.map_partitions(_attach_rank, ranks, meta=_attach_rank(full._meta, ranks._meta), align_dataframes=False)
    written = _write_dataset(final.drop(columns=["_rank_key"]), out_dir)
    reasons = staged[staged["kind"] == "reason"].groupby("key")["n"].sum()
    top = sorted(tuple(k.split("|")) for k in written.loc[written["kind"] == "top", "key"])
    top = sorted(top, key=lambda t: int(t[0]))[:5]
    n_unranked = int(counts[-1])
    return {
        "rows": int(written.loc[written["kind"] == "rows", "n"].sum()),
        "ranked": int(counts.sum()) - n_unranked,
        "excluded": {str(k): int(v) for k, v in reasons.items()},
        "npartitions": parts,
        "output": str(out_dir),
        "top": [
            {"rank": int(r), "distance_km": round_to(float(d), _EXACT_M), "score": round(float(sc), 3)}
            for r, sc, d in top
        ],
    }


def _attach_rank(part: pd.DataFrame, ranks: pd.DataFrame) -> pd.DataFrame:
    """The staged rows of one partition with their global rank (ranks indexed by ``_row``)."""
    out = part.copy()
    out["rank"] = pd.array(ranks["rank"].reindex(part["_row"].to_numpy()).to_numpy(), dtype="Int64")
    out.attrs = {}
    return out


def _bucket_column(keys: pd.Series, bucket_of_bin: NDArray[np.intp]) -> pd.Series:
    return pd.Series(bucket_of_bin[_fine_bin(keys.to_numpy(dtype=float))], index=keys.index, dtype="int64")
