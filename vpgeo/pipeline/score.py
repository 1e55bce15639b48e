"""``score_file``: candidates from a file (or a Parquet dataset folder) scored and written back.

The file-in/file-out workflow of :func:`vpgeo.score_candidates`: reading (CSV, XLSX, GeoJSON, GeoPackage,
Shapefile, (Geo)Parquet; addresses geocoded first), per-row flags, rejects, the summary the CLI prints,
and, with ``engine="dask"`` on a Parquet dataset, the distributed path of :func:`score_dataset`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from vpgeo._format import decimals_for, round_to
from vpgeo.crs import to_metric
from vpgeo.errors import InputError
from vpgeo.scoring import score_candidates

__all__ = ["OUTSIDE_MARGIN_M", "rounded", "score_file"]

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
    rows = df["_row"].tolist() if "_row" in df.columns else [None] * len(df)
    flags: list[list[str]] = [list(reader.get(r, [])) for r in rows]
    geoms = result.geometry
    present = (geoms.notna() & ~geoms.is_empty).to_numpy()
    for i in np.flatnonzero(~present):
        flags[i].append("no_position: not scored or ranked")
    if present.any() and geoms.crs is not None:
        province = to_metric(
            load_districts(source="approx"), operation="flagging candidates outside the province", warn=False
        )
        area = shapely.buffer(shapely.union_all(province.geometry.to_numpy()), OUTSIDE_MARGIN_M)
        shapely.prepare(area)
        metric = to_metric(gpd.GeoSeries(geoms[present].to_numpy(), crs=geoms.crs), operation=_OP, warn=False)
        inside = shapely.intersects(area, metric.to_numpy())
        for i, ok in zip(np.flatnonzero(present), inside, strict=True):
            if not ok:
                flags[i].append(
                    f"outside_province: more than {OUTSIDE_MARGIN_M / 1000:g} km outside Vĩnh Phúc (scored anyway)"
                )
    return pd.Series([";".join(f) for f in flags], index=result.index, dtype=object)


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


def _geocoded(src: Path, address_col: str) -> gpd.GeoDataFrame:
    """Candidates given by address: placed at their commune's point; unplaced rows keep no geometry."""
    from shapely.geometry import Point

    from vpgeo.geocoding import geocode
    from vpgeo.io import read_table

    raw = read_table(src)
    placed = geocode(raw, address=address_col)
    geoms = [
        Point(x, y) if pd.notna(x) and pd.notna(y) else None for x, y in zip(placed["lon"], placed["lat"], strict=True)
    ]
    out = gpd.GeoDataFrame(placed, geometry=geoms, crs="EPSG:4326")
    out.attrs.update(raw.attrs)
    return out


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
        ``exclude`` (paths or layers); ``rejects`` (path for rows not ranked, optional); everything else is
        passed to :func:`score_candidates`.

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
    from vpgeo.io import write_table

    src = Path(input)
    lon_col, lat_col, crs = options.pop("lon_col", None), options.pop("lat_col", None), options.pop("crs", None)
    rejects_path = options.pop("rejects", None)
    address_col = options.pop("address_col", None)
    if address_col is not None:
        df = _geocoded(src, address_col)
    else:
        df = _read_any(src, lon_col=lon_col, lat_col=lat_col, crs=crs)
    if not isinstance(df, gpd.GeoDataFrame):
        lon, lat = _guess(df.columns, _LON), _guess(df.columns, _LAT)
        if lon is None or lat is None:
            raise InputError(
                "no geometry and no longitude/latitude columns found; give --lon-col and --lat-col "
                "(for addresses, run 'vpgeo geocode' first and score its output)",
                path=str(src),
            )
        df = _read_any(src, lon_col=lon, lat_col=lat, crs=crs)
    notes = list(df.attrs.get("io_notes", []))
    exclude = options.pop("exclude", None)
    if isinstance(exclude, list | tuple) and not exclude:
        exclude = None
    options.setdefault("progress", True)
    result = score_candidates(df, options.pop("corridors", None), exclude=exclude, **options)
    if "flags" in result.columns:
        result = result.rename(columns={"flags": "flags_input"})
    result["flags"] = _row_flags(df, result)
    written = write_table(rounded(result), output)
    reasons = result["excluded_reason"].dropna().value_counts().to_dict()
    if rejects_path is not None:
        from vpgeo.io import write_rejects

        skipped = result[result["rank"].isna()].copy()
        skipped["reason"] = skipped["excluded_reason"].fillna("not ranked")
        if "_row" not in skipped.columns:
            skipped["_row"] = np.flatnonzero(result["rank"].isna().to_numpy()) + 1
        write_rejects(skipped, rejects_path)
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
