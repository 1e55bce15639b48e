"""Reading and writing users' tables: CSV, XLSX, GeoJSON, GeoPackage, Shapefile and (Geo)Parquet.

Every CLI verb reads its input with :func:`read_table` and writes with :func:`write_table`, so the file-level
checks live here once. A file that cannot be used raises :class:`~vpgeo.errors.InputError` naming the file,
the problem and the fix; row-level oddities are repaired where unambiguous and listed in
``df.attrs["io_notes"]``.

Decisions
---------
- **Rows**: every returned frame has an ``_row`` column, the 1-based position of the record among the
  file's data records (the header is not counted), so callers can report rejects by input row.
  Fully empty spreadsheet/CSV lines are not records; their number is noted in ``io_notes``.
- **Encodings** (CSV): UTF-8 with or without BOM, UTF-16 with BOM (Excel "Unicode text"); otherwise
  Windows-1258 (the legacy Vietnamese code page), NFC-normalised and noted. Text that decodes to something
  that is not Vietnamese (e.g. TCVN3/VNI font encodings) raises.
- **Delimiter** (CSV): ``;``, ``,``, tab or ``|``, sniffed from the first lines. With ``;`` or tab, numbers
  written with the Vietnamese decimal comma (``52,6``; ``1.234,5``) are read as numbers, and noted.
  Columns whose values keep leading zeros (codes such as ``08707``) stay text.
- **XLSX headers**: leading title rows (a single value, often merged across the sheet) are skipped. When merged
  cells show that the header spans several rows, the header rows are combined into one name per column
  (``"Diện tích / Tổng"``): the last header row names the column and the merged parent above it is prefixed.
  Both are noted.
- **Swapped longitude/latitude** is a file-level mistake: when most valid rows have a "latitude" near 105 and
  a "longitude" near 21, :func:`read_table` raises and says to swap the column options (or to fix the file's
  coordinate order). It never swaps silently.
- **Absurdly long text** is a row-level problem, not a file-level one: a value longer than
  :data:`MAX_TEXT` (10,000 characters) is cut there (ending in ``…``) and its row flagged, so a megabyte
  pasted into a name cannot bloat every map popup and table. A *multi-line* value over 100,000 characters is
  a missing closing quote that swallowed the rest of a CSV: that raises.
- **Invalid geometries** (self-intersecting "bow-tie" polygons, rings with too few points) are repaired
  with ``shapely.make_valid(method="structure")``, which keeps their dimension; a geometry that collapses
  (a polygon of zero area) becomes null. Each such row is flagged.
- **Row flags**: what was done to single rows (cut text, repaired geometry) is in ``attrs["row_flags"]``,
  a dict from ``_row`` to a list of plain-language flags; :func:`vpgeo.prepare_sites`, ``vpgeo geocode``
  and ``vpgeo score`` copy them into the output's ``flags`` column.
- **Projected coordinates without a CRS** (e.g. VN-2000 metres in a GeoJSON, which by RFC 7946 is always
  longitude/latitude) raise and suggest ``--crs EPSG:5897``. :func:`read_table` does not reproject: the frame
  is in the file's CRS, or ``crs=`` when the file has none.

Examples
--------
>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / "sites.csv").write_bytes(_to_cp1258("tên;kinh độ;vĩ độ\\nKCN Bá Thiện;105,7;21,35\\n"))
>>> df = read_table(d / "sites.csv", lon_col="kinh độ", lat_col="vĩ độ")
>>> df["tên"][0], df.crs.to_epsg(), round(float(df.geometry.x[0]), 2)
('KCN Bá Thiện', 4326, 105.7)
>>> "Windows-1258" in " ".join(df.attrs["io_notes"])
True
>>> write_table(df, d / "out.csv").read_bytes()[:3] == b"\\xef\\xbb\\xbf"
True
"""

from __future__ import annotations

import codecs
import contextlib
import contextvars
import csv
import io as _stdio
import json
import math
import re
import unicodedata
import warnings
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.errors
from numpy.typing import NDArray

from vpgeo._validate import VN_LAT, VN_LON, impossible, looks_projected, looks_swapped
from vpgeo.crs import WGS84, check_crs
from vpgeo.errors import CRSError, InputError
from vpgeo.text import fold, nfc

__all__ = [
    "CSV_EXTENSIONS",
    "FAST_CSV_ROWS",
    "FORMULA_START",
    "MAX_TEXT",
    "READ_EXTENSIONS",
    "SHP_TEXT_BYTES",
    "WRITE_EXTENSIONS",
    "check_geojson",
    "check_input_file",
    "check_out_dir",
    "parse_coordinate",
    "points_from_columns",
    "read_table",
    "selecting",
    "write_rejects",
    "write_table",
]

CSV_EXTENSIONS = frozenset({".csv", ".txt", ".tsv"})
_XLSX = frozenset({".xlsx", ".xlsm"})
_GEOJSON = frozenset({".geojson", ".json"})
_OGR = frozenset({".gpkg", ".shp"})
_PARQUET = frozenset({".parquet", ".geoparquet"})
READ_EXTENSIONS = CSV_EXTENSIONS | _XLSX | _GEOJSON | _OGR | _PARQUET
WRITE_EXTENSIONS = frozenset({".csv", ".xlsx", ".geojson", ".json", ".gpkg", ".shp", ".parquet"})

_Frame = TypeVar("_Frame", bound=pd.DataFrame)
_ROW = "_row"
# A multi-line field longer than this is almost surely a broken file (a missing quote swallowing lines).
_MAX_FIELD = 100_000
#: Text values longer than this are cut (and the row flagged): no name, address or note needs more, and a
#: megabyte in one cell would be copied into every map popup and report table.
MAX_TEXT = 10_000
_VOWELS = "aăâeêioôơuưy"
_VIET_LETTERS = frozenset(
    unicodedata.normalize("NFC", base + tone)
    for base in _VOWELS + _VOWELS.upper()
    for tone in ("", "\u0300", "\u0301", "\u0303", "\u0309", "\u0323")
) | frozenset("đĐ")


def _fail(path: Path | str, problem: str, fix: str) -> InputError:
    return InputError(f"{problem}; {fix}", path=str(path))


# --------------------------------------------------------------------------------------------- numbers


_NUM_DOT = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")
_NUM_COMMA = re.compile(r"^[+-]?\d{1,3}(?:\.\d{3})*,\d+$|^[+-]?\d+,\d+$")
_DMS = re.compile(
    r"^\s*(?P<d>\d+(?:[.,]\d+)?)\s*[°º:\s]\s*(?:(?P<m>\d+(?:[.,]\d+)?)\s*['′’:\s]?\s*)?"
    r"(?:(?P<s>\d+(?:[.,]\d+)?)\s*(?:\"|″|”|''|’’)?\s*)?(?P<h>[NSEWnsew])?\s*$"
)


def parse_coordinate(value: object) -> float | None:
    """Read one longitude or latitude as written by people: ``105.6``, ``105,6``, ``21°21'26"N``.

    Returns ``None`` for empty or unreadable values (the caller flags the row).

    Examples
    --------
    >>> parse_coordinate("105,6061"), parse_coordinate(" 21.3573 "), parse_coordinate(105)
    (105.6061, 21.3573, 105.0)
    >>> round(parse_coordinate("21°21'26.3\\"N"), 5), parse_coordinate("abc"), parse_coordinate(None)
    (21.35731, None, None)
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float | np.integer | np.floating):
        f = float(value)
        return f if math.isfinite(f) else None
    text = nfc(value)
    if not text:
        return None
    if _NUM_DOT.match(text):
        f = float(text)
        return f if math.isfinite(f) else None
    if re.fullmatch(r"[+-]?\d+,\d+", text):
        return float(text.replace(",", "."))
    m = _DMS.match(text)
    if m and (m["m"] or m["h"] or "°" in text):
        deg = float(m["d"].replace(",", "."))
        minutes = float(m["m"].replace(",", ".")) if m["m"] else 0.0
        seconds = float(m["s"].replace(",", ".")) if m["s"] else 0.0
        if minutes >= 60 or seconds >= 60:
            return None
        out = deg + minutes / 60 + seconds / 3600
        return -out if (m["h"] or "").upper() in {"S", "W"} else out
    return None


# Where Python's ``re`` and RE2 (pyarrow's regex engine) may answer differently for the patterns of this
# module: ``\d`` is any Unicode digit to Python, ASCII to RE2; Python's ``$`` also matches before a final
# newline. On ASCII values without a newline both engines agree.
_RE2_UNSURE = r"[^\x00-\x7f]|\n"


def _re2(texts: pd.Series, *patterns: re.Pattern[str]) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """(matches any of ``patterns`` by RE2, the values where RE2 may differ from Python's ``re``), per value.

    ``texts`` holds strings only (no missing values).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = pa.array(texts, type=pa.large_string())  # a pyarrow-backed column as it is
    pattern = "|".join(f"(?:{rx.pattern})" for rx in patterns)
    hit = np.asarray(pc.match_substring_regex(arr, pattern).to_numpy(zero_copy_only=False), dtype=bool)
    unsure = np.asarray(pc.match_substring_regex(arr, _RE2_UNSURE).to_numpy(zero_copy_only=False), dtype=bool)
    return hit, unsure


def _py_match(text: str, patterns: tuple[re.Pattern[str], ...]) -> bool:
    return any(rx.match(text) for rx in patterns)


def _matches(texts: pd.Series, *patterns: re.Pattern[str]) -> NDArray[np.bool_]:
    """``[any(rx.match(t) for rx in patterns) for t in texts]``, vectorised (Python's ``re`` decides where RE2
    might not agree)."""
    hit, unsure = _re2(texts, *patterns)
    ask = np.flatnonzero(unsure & ~hit)
    if len(ask):
        values = texts.to_numpy(dtype=object)
        hit[ask] = [_py_match(values[i], patterns) for i in ask]
    return hit


def _all_match(texts: pd.Series, *patterns: re.Pattern[str]) -> bool:
    """``all(any(rx.match(t) for rx in patterns) for t in texts)``, vectorised; stops at the first miss."""
    hit, unsure = _re2(texts, *patterns)
    if not (hit | unsure).all():  # an ASCII one-line value fails: both engines say so
        return False
    values = texts.to_numpy(dtype=object)
    return all(_py_match(values[i], patterns) for i in np.flatnonzero(~hit))


def _floats(texts: list[str] | NDArray[Any]) -> NDArray[np.float64]:
    """``[float(t) for t in texts]`` (numpy casts Python objects with ``float()`` itself)."""
    return np.asarray(np.asarray(texts, dtype=object).astype(np.float64), dtype=np.float64)


def _comma_floats(values: pd.Series) -> pd.Series:
    """Values written with a decimal point or a Vietnamese decimal comma (``1.234,5``) as floats."""
    raw = values.to_numpy(dtype=object)
    texts = [str(v).strip() if v is not None and v == v else "" for v in raw]
    filled = [i for i, t in enumerate(texts) if t]
    out = np.full(len(texts), np.nan)
    if filled:
        sub = [texts[i] for i in filled]
        comma = _matches(pd.Series(sub, dtype=object), _NUM_COMMA)
        points = [t.replace(".", "").replace(",", ".") if c else t for t, c in zip(sub, comma, strict=True)]
        out[filled] = _floats(points)
    return pd.Series(out, index=values.index, name=values.name, dtype=float)


def _numeric_column(values: pd.Series, *, decimal_comma: bool) -> tuple[pd.Series, bool] | None:
    """The column as floats/ints when every non-empty value is a number, else None; flag = comma used."""
    texts = values.dropna().astype(str).str.strip()
    texts = texts[texts != ""]
    if texts.empty:
        return None
    # Codes such as 08707 or phone numbers keep their leading zeros: stay text.
    if texts.str.match(r"^[+-]?0\d").any():
        return None
    if _all_match(texts, _NUM_DOT):
        out = pd.to_numeric(values.where(values.astype(str).str.strip() != ""), errors="coerce")
        return out, False
    if decimal_comma and _all_match(texts, _NUM_DOT, _NUM_COMMA):
        return _comma_floats(values), True
    return None


# ------------------------------------------------------------------------------------------------- CSV


_TONES = "\u0300\u0301\u0303\u0309\u0323"


def _to_cp1258(text: str) -> bytes:
    """Encode Vietnamese text in Windows-1258 (base letters precomposed, tone marks combining).

    The way legacy Vietnamese Windows software writes it; used to test the decoder.

    >>> raw = _to_cp1258("Lỗ")
    >>> len(raw), unicodedata.normalize("NFC", raw.decode("cp1258")) == "Lỗ"
    (3, True)
    """
    out = []
    for ch in unicodedata.normalize("NFC", text):
        try:
            out.append(ch.encode("cp1258"))
        except UnicodeEncodeError:
            parts = unicodedata.normalize("NFD", ch)
            tones = "".join(c for c in parts if c in _TONES)
            base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in _TONES))
            out.append((base + tones).encode("cp1258"))
    return b"".join(out)


def _check_vietnamese(text: str, path: Path, what: str) -> None:
    """Refuse text whose non-ASCII letters are not Vietnamese: a TCVN3/VNI font encoding read as a code page."""
    letters = [ch for ch in text if ch.isalpha() and not ch.isascii()]
    if letters and sum(ch in _VIET_LETTERS for ch in letters) / len(letters) < 0.9:
        raise _fail(
            path,
            f"{what} does not read as Vietnamese (a TCVN3/VNI font encoding?)",
            "convert it to Unicode (e.g. Unikey's converter: TCVN3/VNI → Unicode) and save it again",
        )


def _decode(raw: bytes, path: Path, notes: list[str]) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            raise _fail(
                path,
                "text starts with a UTF-16 mark but does not decode as UTF-16",
                "re-save it as UTF-8 (Excel: Save As → CSV UTF-8)",
            ) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        text = unicodedata.normalize("NFC", raw.decode("cp1258"))
    except UnicodeDecodeError:
        raise _fail(
            path, "text is neither UTF-8 nor Windows-1258", "re-save it as UTF-8 (Excel: Save As → CSV UTF-8)"
        ) from None
    _check_vietnamese(text, path, "text is not UTF-8 and in Windows-1258 it")
    notes.append("decoded as Windows-1258 (legacy Vietnamese code page), not UTF-8; normalised to NFC")
    return text


def _sniff_delimiter(text: str) -> str:
    head = "\n".join(text.splitlines()[:50])
    try:
        return csv.Sniffer().sniff(head, delimiters=",;\t|").delimiter
    except csv.Error:
        counts = {d: head.count(d) for d in (";", ",", "\t", "|")}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","


def _check_fields(text: str, sep: str, path: Path) -> tuple[list[str], bool]:
    """The header; refuse a record with more (non-empty) fields than the header (pandas would shift columns).

    Returns the header and whether some records carry extra *empty* trailing fields (harmless).
    """
    reader = csv.reader(_stdio.StringIO(text.lstrip("\ufeff")), delimiter=sep)
    try:  # the usual file: no record is wider than the header (counted in C, no Python per record)
        header = next(reader, [])
        if max(map(len, reader), default=0) <= len(header):
            return header, False
    except csv.Error:
        pass  # the exact pass below says where, or gives up as before
    reader = csv.reader(_stdio.StringIO(text.lstrip("\ufeff")), delimiter=sep)
    try:
        header = next(reader, [])
        width, trailing, record = len(header), False, 0
        for fields in reader:
            if not any(f.strip() for f in fields):
                continue
            record += 1
            if len(fields) > width:
                if any(f.strip() for f in fields[width:]):
                    raise _fail(
                        path,
                        f"record {record} (line {reader.line_num}) has {len(fields)} '{sep}'-separated fields but "
                        f"the header has {width}; every column after the extra one would shift",
                        "quote values that contain the separator, or add the missing header names",
                    )
                trailing = True
    except csv.Error:
        return [], False  # pandas read it; nothing more to check here
    return header, trailing


def _parse_csv(text: str, sep: str, path: Path, trailing: bool) -> pd.DataFrame:
    try:
        with warnings.catch_warnings():
            # extra fields were checked to be empty: dropping them loses nothing
            warnings.filterwarnings("ignore", category=pd.errors.ParserWarning)
            return pd.read_csv(
                _stdio.StringIO(text),
                sep=sep,
                dtype=str,
                keep_default_na=False,
                na_values=[""],
                skip_blank_lines=False,
                engine="c",
                index_col=False if trailing else None,
            )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, csv.Error) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise _fail(
            path,
            f"broken CSV ({first})",
            f"check quotes and that every line has the header's number of '{sep}'-separated fields",
        ) from None


def _text_lengths(s: pd.Series) -> NDArray[np.int64]:
    """``len(v)`` of every string value of ``s``, 0 for anything else (missing values, numbers)."""
    if str(s.dtype) in {"str", "string"}:
        return np.asarray(s.str.len().fillna(0).to_numpy(dtype=np.int64), dtype=np.int64)
    if isinstance(s.dtype, np.dtype) and s.dtype.kind in "biufcmM":
        return np.zeros(len(s), dtype=np.int64)
    values = s.to_numpy(dtype=object)
    return np.fromiter((len(v) if isinstance(v, str) else 0 for v in values), dtype=np.int64, count=len(values))


def _refuse_runaway_quote(df: pd.DataFrame, path: Path) -> None:
    """A quoted value running over many lines and characters is a missing closing quote that swallowed the
    rest of the file. A long single-line value is only long: read_table truncates and flags it."""
    for col in df.columns:
        over = np.flatnonzero(_text_lengths(df[col]) > _MAX_FIELD)
        values = df[col].to_numpy(dtype=object) if len(over) else None
        long = pd.Series(False, index=df.index)
        long.iloc[[i for i in over if values is not None and "\n" in values[i]]] = True
        if long.any():
            row = int(df.loc[long.idxmax(), _ROW])
            raise _fail(
                path,
                f"record {row}: a value of column {col!r} runs over several lines for "
                f"{len(df.loc[long.idxmax(), col]):,} characters (a missing closing quote?)",
                "close the quote or remove the stray quote character",
            )


def _numbers(df: pd.DataFrame, notes: list[str], *, decimal_comma: bool) -> None:
    used_comma = []
    for col in df.columns:
        if col == _ROW:
            continue
        conv = _numeric_column(df[col], decimal_comma=decimal_comma)
        if conv is not None:
            df[col] = conv[0]
            if conv[1]:
                used_comma.append(col)
    if used_comma:
        notes.append(f"decimal comma read as decimal point in column(s) {used_comma}")


def _read_csv(path: Path, notes: list[str]) -> pd.DataFrame:
    raw = path.read_bytes()
    text = _decode(raw, path, notes)
    if not text.strip("\ufeff \t\r\n"):
        raise _fail(path, "the file is empty", "give a file with a header row and data rows")
    if "\x00" in text:
        raise _fail(path, "the file contains NUL bytes (binary, not text)", "give a CSV text file")
    sep = _sniff_delimiter(text)
    header, trailing = _check_fields(text, sep, path)
    df = _parse_csv(text, sep, path, trailing)
    names = [nfc(c) for c in header]
    dup = sorted({c for c in names if names.count(c) > 1})
    if dup:  # pandas would silently rename the second one "name.1"
        raise _fail(path, f"duplicate column names {dup}", "give every column a distinct name")
    df.columns = [nfc(c) for c in df.columns]
    df = _drop_blank(df, notes)
    if len(text) > _MAX_FIELD:
        _refuse_runaway_quote(df, path)
    _numbers(df, notes, decimal_comma=sep != ",")
    return df


def _drop_blank(df: pd.DataFrame, notes: list[str]) -> pd.DataFrame:
    df.insert(0, _ROW, np.arange(1, len(df) + 1))
    data = df.drop(columns=[_ROW, "_sheet_row"], errors="ignore")
    blank = data.isna().all(axis=1) if len(data.columns) else pd.Series(False, index=df.index)
    if blank.any():
        notes.append(f"{int(blank.sum())} empty line(s) skipped")
        df = df[~blank].copy()
        df[_ROW] = np.arange(1, len(df) + 1)
    return df.reset_index(drop=True)


# ------------------------------------------------------------------------------------------------ XLSX


def _load_workbook(path: Path, *, data_only: bool) -> Any:
    import openpyxl

    try:
        with warnings.catch_warnings():
            # openpyxl warns about styles/data validation/extensions it does not read; the data are unaffected
            warnings.filterwarnings("ignore", category=UserWarning, module="openpyxl")
            return openpyxl.load_workbook(path, data_only=data_only)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        raise _fail(
            path,
            f"not a readable XLSX workbook ({type(exc).__name__}: {str(exc)[:120]})",
            "open it in Excel or LibreOffice and save it again as .xlsx",
        ) from None


def _data_rows(ws: Any) -> int:
    """Rows with two or more values: a header and its records (a notes sheet has one value per row)."""
    return sum(sum(v is not None and str(v).strip() != "" for v in row) >= 2 for row in ws.iter_rows(values_only=True))


def _choose_sheet(wb: Any, path: Path, sheet: str | None, notes: list[str]) -> Any:
    """The named sheet, else the one holding the data (the most rows of two or more values); others listed."""
    if sheet is not None:
        if sheet not in wb.sheetnames:
            raise _fail(path, f"no sheet {sheet!r}; sheets are {wb.sheetnames}", "give one of those sheet names")
        return wb[sheet]
    sizes = {ws.title: _data_rows(ws) for ws in wb.worksheets}
    best = max(sizes, key=lambda t: sizes[t]) if sizes else None
    if best is None or sizes[best] == 0:
        raise _fail(path, "the workbook has no data", "put a header row and data rows on a sheet")
    others = [t for t, n in sizes.items() if t != best and n > 0]
    if others:
        notes.append(
            f"read sheet {best!r} ({sizes[best]} rows with data); other sheets with data, not read: "
            f"{others} (choose one with sheet= / --sheet)"
        )
    elif len(sizes) > 1:
        notes.append(f"read sheet {best!r}, the only one with data of {len(sizes)}")
    return wb[best]


def _merged_parents(rows: list[list[Any]], merged: list[Any]) -> dict[tuple[int, int], Any]:
    """Every cell of a merged range → the range's value, so columns under a merged parent see its name."""
    parent_of: dict[tuple[int, int], Any] = {}
    for rng in merged:
        value = rows[rng.min_row - 1][rng.min_col - 1]
        for r in range(rng.min_row, rng.max_row + 1):
            for c in range(rng.min_col, rng.max_col + 1):
                parent_of[(r, c)] = value
    return parent_of


def _header_span(rows: list[list[Any]], merged: list[Any], path: Path, notes: list[str]) -> tuple[int, int]:
    """First and last sheet row (1-based) of the header: the first row of two values, down its merged cells."""
    header_at = next(
        (r for r, row in enumerate(rows, 1) if sum(v is not None and str(v).strip() != "" for v in row) >= 2), None
    )
    if header_at is None:
        raise _fail(
            path,
            "no header row found (no row with two or more values)",
            "put one header row with a name per column above the data",
        )
    if header_at > 1:
        notes.append(
            f"skipped {header_at - 1} title/blank row(s) above the header (sheet row {header_at} is the header)"
        )
    end = max([header_at, *(rng.max_row for rng in merged if rng.min_row <= header_at <= rng.max_row)])
    return header_at, end


def _header_names(rows: list[list[Any]], merged: list[Any], start: int, end: int, notes: list[str]) -> list[str]:
    parent_of = _merged_parents(rows, merged)
    names: list[str] = []
    for c in range(1, len(rows[0]) + 1):
        parts: list[str] = []
        for r in range(start, end + 1):
            t = nfc(parent_of.get((r, c), rows[r - 1][c - 1]))
            if t and t not in parts:
                parts.append(t)
        names.append(" / ".join(parts) if parts else f"column_{c}")
    if end > start:
        notes.append(
            f"merged header over sheet rows {start}–{end} combined into one name per column (e.g. {names[-1]!r})"
        )
    return names


def _unsaved_formulas(path: Path, title: str, rows: list[list[Any]], first: int) -> dict[int, list[int]]:
    """Sheet row → columns (0-based) of formula cells without a saved value (read as blank by data_only)."""
    wb = _load_workbook(path, data_only=False)
    out: dict[int, list[int]] = {}
    for r, row in enumerate(wb[title].iter_rows(min_row=first, values_only=True), first):
        for c, v in enumerate(row):
            if (
                isinstance(v, str)
                and v.startswith("=")
                and r - 1 < len(rows)
                and c < len(rows[r - 1])
                and rows[r - 1][c] is None
            ):
                out.setdefault(r, []).append(c)
    return out


def _flag_formulas(df: pd.DataFrame, unsaved: dict[int, list[int]], names: dict[int, str], notes: list[str]) -> None:
    flags: dict[int, list[str]] = {}
    for sheet_row, rec in zip(df.pop("_sheet_row"), df[_ROW], strict=True):
        cols = [names[c] for c in unsaved.get(int(sheet_row), []) if c in names]
        if cols:
            flags[int(rec)] = [f"formula in {c!r} has no saved value (read as blank)" for c in cols]
    if flags:
        notes.append(
            f"{len(flags)} row(s) hold formulas without a saved value, read as blank (rows {sorted(flags)[:10]}); "
            "open the workbook in Excel or LibreOffice, let it recalculate, and save it"
        )
        df.attrs["row_flags"] = flags


def _read_xlsx(path: Path, notes: list[str], sheet: str | None = None) -> pd.DataFrame:
    wb = _load_workbook(path, data_only=True)
    ws = _choose_sheet(wb, path, sheet, notes)
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    width = max(len(r) for r in rows)
    rows = [r + [None] * (width - len(r)) for r in rows]
    merged = list(ws.merged_cells.ranges)
    start, end = _header_span(rows, merged, path, notes)
    names = _header_names(rows, merged, start, end, notes)
    body = rows[end:]
    keep = [i for i, n in enumerate(names) if not (n.startswith("column_") and all(r[i] is None for r in body))]
    by_index = {i: names[i] for i in keep}
    names = [names[i] for i in keep]
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise _fail(path, f"duplicate column names {dup}", "give every column a distinct name")
    df = pd.DataFrame([[r[i] for i in keep] for r in body], columns=names)
    df = df.replace({"": None}).infer_objects()
    df["_sheet_row"] = np.arange(end + 1, end + 1 + len(df))
    df = _drop_blank(df, notes)
    if any(v is None for r in body for v in r):  # a formula without a saved value reads as None
        _flag_formulas(df, _unsaved_formulas(path, ws.title, rows, end + 1), by_index, notes)
    df = df.drop(columns=["_sheet_row"], errors="ignore")
    for col in df.columns:
        vals = df[col].dropna() if _is_text_column(df[col]) else pd.Series([], dtype=object)
        if len(vals) and vals.map(lambda v: isinstance(v, str)).all():
            conv = _numeric_column(df[col], decimal_comma=True)
            if conv is not None and conv[1]:
                df[col] = conv[0]
                notes.append(f"decimal comma read as decimal point in column {col!r}")
    df.attrs["source_sheet"] = ws.title
    return df


# --------------------------------------------------------------------------------------------- spatial


_VN2000_FIX = "give --crs EPSG:5897 (VN-2000 / TM-3 105°00′, the province's grid) or the CRS they are in"


def check_geojson(path: Path) -> dict[str, Any]:
    """Parse a GeoJSON file, refusing text that is not UTF-8, broken JSON, or JSON that is not GeoJSON.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.geojson"
    >>> _ = p.write_text('{"type": "FeatureCollection", "features": [', encoding="utf-8")
    >>> check_geojson(p)
    Traceback (most recent call last):
    ...
    vpgeo.errors.InputError: ...a.geojson: broken JSON (Expecting value at line 1, column 44); fix the JSON ...
    """
    try:
        raw = json.loads(path.read_bytes().decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise _fail(path, "GeoJSON is not UTF-8 text", "save it as UTF-8 (RFC 7946 requires it)") from None
    except json.JSONDecodeError as exc:
        raise _fail(
            path,
            f"broken JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})",
            "fix the JSON syntax (a validator such as geojsonlint.com shows where)",
        ) from None
    if not isinstance(raw, dict) or raw.get("type") not in {
        "FeatureCollection",
        "Feature",
        "Point",
        "MultiPoint",
        "LineString",
        "MultiLineString",
        "Polygon",
        "MultiPolygon",
        "GeometryCollection",
    }:
        raise _fail(
            path,
            "JSON but not GeoJSON (no FeatureCollection/Feature 'type')",
            "give a GeoJSON FeatureCollection, or a CSV/XLSX table",
        )
    return raw


def _shp_codec(path: Path) -> str | None:
    """The Python codec a Shapefile's ``.cpg`` declares; None for UTF-8 (GDAL reads that itself) or no .cpg."""
    cpg = next((path.with_suffix(s) for s in (".cpg", ".CPG") if path.with_suffix(s).exists()), None)
    if cpg is None:
        return ""  # undeclared: detected from the bytes
    text = cpg.read_text(encoding="ascii", errors="replace").strip().upper()
    if "UTF" in text.replace("-", "") or text == "65001":
        return None
    m = re.fullmatch(r"(?:CP|WINDOWS-|ANSI\s*|LDID/)?(\d{3,4})", text)
    name = f"cp{m.group(1)}" if m else text.lower()
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _recode_texts(gdf: pd.DataFrame, codec: str, path: Path, notes: list[str]) -> pd.DataFrame:
    """Values and names read byte-for-byte (as Latin-1) decoded with the declared or detected code page.

    GDAL's own CP1258 conversion drops the last character of every value and field name (its iconv keeps
    the last letter waiting for a tone mark), so vpgeo decodes the bytes itself.
    """

    def raw(v: str) -> bytes:
        return v.encode("latin-1", errors="replace")

    blob = (
        b"\n".join(raw(str(c)) for c in gdf.columns)
        + b"\n"
        + b"\n".join(raw(v) for col in gdf.columns if _is_text_column(gdf[col]) for v in gdf[col] if isinstance(v, str))
    )
    if not codec:  # no .cpg: UTF-8 when the bytes are, else Windows-1258 (checked to read as Vietnamese)
        try:
            blob.decode("utf-8")
            codec = "utf-8"
        except UnicodeDecodeError:
            codec = "cp1258"
    try:
        text = blob.decode(codec)
    except UnicodeDecodeError:
        raise _fail(
            path, f"the .dbf text does not decode as {codec}", "fix the .cpg file or re-save as GeoPackage"
        ) from None
    _check_vietnamese(unicodedata.normalize("NFC", text), path, f"the .dbf text (decoded as {codec})")
    if codec != "utf-8":
        notes.append(f"Shapefile text decoded as {codec}; normalised to NFC")

    def dec(v: object) -> object:
        return unicodedata.normalize("NFC", raw(v).decode(codec)) if isinstance(v, str) else v

    gdf = gdf.rename(columns={c: dec(c) for c in gdf.columns if c != "geometry"})
    for col in gdf.columns:
        if col != "geometry" and _is_text_column(gdf[col]):
            gdf[col] = gdf[col].map(dec)
    return gdf


def _choose_layer(path: Path, layer: str | None, notes: list[str]) -> str | None:
    """The named layer, else the one holding the data (most features) of a multi-layer file; others listed."""
    import pyogrio

    layers = [str(name) for name, _ in pyogrio.list_layers(path)]
    if layer is not None:
        if layer not in layers:
            raise _fail(path, f"no layer {layer!r}; layers are {layers}", "give one of those layer names")
        return layer
    if len(layers) <= 1:
        return None
    counts = {name: int(pyogrio.read_info(path, layer=name).get("features") or 0) for name in layers}
    best = max(layers, key=lambda n: counts[n])
    notes.append(
        f"read layer {best!r} ({counts[best]} features); other layers, not read: "
        f"{[n for n in layers if n != best]} (choose one with layer= / --layer)"
    )
    return best


def _gdal_notes(caught: list[warnings.WarningMessage], notes: list[str]) -> None:
    """GDAL/pyogrio warnings raised while reading become one note (reading never emits warnings)."""
    texts = list(dict.fromkeys(" ".join(str(w.message).split())[:160] for w in caught))
    if texts:
        more = f" (+{len(texts) - 3} more)" if len(texts) > 3 else ""
        notes.append(f"the reader reported: {'; '.join(texts[:3])}{more}")


def _read_file(path: Path, suffix: str, notes: list[str], layer: str | None) -> pd.DataFrame:
    import pyogrio

    if suffix in _PARQUET:
        try:
            return gpd.read_parquet(path)
        except ValueError as exc:
            if "geo" not in str(exc).lower():
                raise
            return pd.read_parquet(path)  # a plain table
    kwargs: dict[str, Any] = {}
    chosen = _choose_layer(path, layer, notes) if suffix == ".gpkg" else None
    if chosen is not None:
        kwargs["layer"] = chosen
    codec = _shp_codec(path) if suffix == ".shp" else None
    if codec is not None:
        kwargs["encoding"] = "ISO-8859-1"  # bytes as they are (GDAL knows this name, not "latin-1")
    gdf = gpd.read_file(path, engine="pyogrio", **kwargs)
    if codec is not None:
        gdf = _recode_texts(gdf, codec, path, notes)
    if chosen is not None:
        gdf.attrs["source_layer"] = chosen
    del pyogrio
    return gdf


_READ_ERRORS: tuple[type[BaseException], ...] = (
    shapely.errors.GEOSException,  # e.g. a polygon ring of one point
    OSError,
    ValueError,
    TypeError,
    RuntimeError,
)


def _read_geo(path: Path, suffix: str, notes: list[str], layer: str | None) -> pd.DataFrame:
    import pyogrio

    errors = (
        pyogrio.errors.DataSourceError,
        pyogrio.errors.DataLayerError,
        pyogrio.errors.FieldError,
        pyogrio.errors.GeometryError,
        pyogrio.errors.CRSError,
        *_READ_ERRORS,
    )
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            gdf = _read_file(path, suffix, notes, layer)
    except InputError:
        raise
    except errors as exc:
        msg = str(exc).replace(str(path), "").strip(" :")[:200]
        fix = (
            "keep the .shp with its .shx, .dbf and .prj side files"
            if suffix == ".shp"
            else "open it in QGIS to check it, and save it again"
        )
        raise _fail(path, f"cannot read {suffix} file ({msg})", fix) from None
    _gdal_notes(caught, notes)
    return gdf


def _check_positions(gdf: gpd.GeoDataFrame, path: Path, notes: list[str]) -> gpd.GeoDataFrame:
    """Refuse swapped or projected-without-CRS files; a row whose position is impossible loses its geometry."""
    geoms = gdf.geometry.to_numpy()
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if not present.any():
        return gdf
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # NaN coordinates: such rows are impossible()
        reps = shapely.point_on_surface(geoms[present])
        xs, ys = shapely.get_x(reps), shapely.get_y(reps)
    if looks_swapped(xs, ys):
        raise _fail(
            path,
            f"longitude and latitude are swapped (x≈{np.nanmedian(xs):.2f}, y≈{np.nanmedian(ys):.2f})",
            "write coordinates as [longitude, latitude]",
        )
    if looks_projected(xs, ys):
        raise _fail(
            path,
            f"coordinates look projected (x≈{np.nanmedian(xs):.0f}, y≈{np.nanmedian(ys):.0f} metres) "
            "but no CRS says so",
            _VN2000_FIX,
        )
    bad = np.zeros(len(gdf), dtype=bool)
    bad[np.flatnonzero(present)] = impossible(xs, ys)
    if bad.any():
        rows = gdf.loc[bad, _ROW].tolist()
        notes.append(f"{int(bad.sum())} row(s) with impossible coordinates have no geometry (rows {rows[:10]})")
        gdf.attrs.setdefault("row_flags", {}).update(
            {int(r): ["impossible coordinates (not a longitude/latitude): no geometry"] for r in rows}
        )
        gdf[gdf.geometry.name] = gpd.GeoSeries(np.where(bad, None, geoms), index=gdf.index, crs=gdf.crs)
    return gdf


def _settle_crs(gdf: gpd.GeoDataFrame, path: Path, suffix: str, crs: str | None, notes: list[str]) -> gpd.GeoDataFrame:
    file_crs = gdf.crs
    if crs is not None:
        target = _checked_crs(crs, path)
        if file_crs is None or suffix in _GEOJSON:
            gdf = gdf.set_crs(target, allow_override=True)
        elif not file_crs.equals(target):
            raise _fail(
                path,
                f"the file declares CRS {file_crs.to_string()} but --crs says {crs}",
                "drop --crs (the file's own CRS is used) or fix the file's CRS",
            )
    elif len(gdf):
        if file_crs is None or file_crs.is_geographic:
            gdf = _check_positions(gdf, path, notes)
        if file_crs is None:
            gdf = gdf.set_crs(WGS84)
            notes.append("no CRS in the file; longitude/latitude (EPSG:4326) assumed")
    if gdf.crs is not None:
        try:
            check_crs(gdf.crs, operation="reading", argument="file CRS")
        except CRSError as exc:
            raise InputError(str(exc), path=str(path)) from None
    return gdf


def _read_spatial(path: Path, suffix: str, notes: list[str], crs: str | None, layer: str | None = None) -> pd.DataFrame:
    if suffix in _GEOJSON:
        raw = check_geojson(path)
        if raw.get("type") == "FeatureCollection" and not raw.get("features"):
            return gpd.GeoDataFrame({_ROW: pd.Series([], dtype=int)}, geometry=[], crs=crs or WGS84)
    gdf = _read_geo(path, suffix, notes, layer)
    attrs = dict(gdf.attrs)
    gdf = gdf.reset_index(drop=True)
    gdf.insert(0, _ROW, np.arange(1, len(gdf) + 1))
    gdf.attrs.update(attrs)
    if not isinstance(gdf, gpd.GeoDataFrame):
        return gdf
    return _settle_crs(gdf, path, suffix, crs, notes)


def _checked_crs(crs: str, path: Path) -> Any:
    try:
        return check_crs(crs, operation="reading coordinates", argument="--crs")
    except CRSError as exc:
        raise InputError(str(exc), path=str(path)) from None


def _find_column(df: pd.DataFrame, name: str, path: Path, option: str, notes: list[str]) -> str:
    if name in df.columns:
        return name
    wanted = fold(name)
    hits = [c for c in df.columns if isinstance(c, str) and fold(c) == wanted]
    if not hits:  # a merged two-row XLSX header "Tọa độ / Kinh độ" answers to its lower row, "Kinh độ"
        hits = [c for c in df.columns if isinstance(c, str) and " / " in c and fold(c.rsplit(" / ", 1)[1]) == wanted]
    if len(hits) == 1:
        notes.append(f"column {name!r} read as {hits[0]!r}")
        return hits[0]
    cols = [c for c in df.columns if c != _ROW and c != "geometry"]
    raise InputError(f"no column {name!r} (given by {option}); columns are {cols}", path=str(path), field=name)


def _points(
    df: pd.DataFrame,
    lon_col: str,
    lat_col: str,
    crs: str | None,
    path: Path,
    notes: list[str],
    row_flags: dict[int, list[str]],
) -> gpd.GeoDataFrame:
    x = _coordinates(df[lon_col])
    y = _coordinates(df[lat_col])
    target = _checked_crs(crs, path) if crs is not None else None
    ok = np.isfinite(x) & np.isfinite(y)
    if target is None or target.is_geographic:
        if looks_swapped(x, y):
            raise _fail(
                path,
                f"columns {lon_col!r} (≈{np.nanmedian(x):.2f}) and {lat_col!r} "
                f"(≈{np.nanmedian(y):.2f}) look swapped: latitude in Viet Nam is {VN_LAT[0]:g}–{VN_LAT[1]:g}, "
                f"longitude {VN_LON[0]:g}–{VN_LON[1]:g}",
                f"swap them: --lon-col {lat_col!r} --lat-col {lon_col!r}",
            )
        big = ok & impossible(x, y)
        if looks_projected(x, y):
            hint = ""
            if np.nanmedian(x[big]) > 1e6 > np.nanmedian(y[big]):
                hint = f" (and VN-2000 X is northing: swap them, --lon-col {lat_col!r} --lat-col {lon_col!r})"
            raise _fail(
                path,
                f"{lon_col!r}/{lat_col!r} look like projected metres "
                f"(≈{np.nanmedian(x):.0f}, {np.nanmedian(y):.0f}), not degrees",
                _VN2000_FIX + hint,
            )
        ok &= ~impossible(x, y)  # one absurd row loses its geometry (and is rejected), not the file
    given = (df[lon_col].notna() | df[lat_col].notna()).to_numpy()
    if (~ok & given).any():
        rows = df.loc[~ok & given, _ROW].tolist()
        notes.append(
            f"{len(rows)} row(s) with unreadable or impossible coordinates have no geometry (rows {rows[:10]})"
        )
        for r in rows:
            row_flags.setdefault(int(r), []).append(f"coordinates in {lon_col!r}/{lat_col!r} not usable: no geometry")
    if np.isfinite(x).any() and _comma_not_point(df[lon_col]):
        notes.append(f"decimal comma read in {lon_col!r}/{lat_col!r}")
    geom = np.full(len(df), None, dtype=object)
    geom[ok] = shapely.points(x[ok], y[ok])
    return gpd.GeoDataFrame(df, geometry=geom, crs=target if target is not None else WGS84)


def _coordinates(values: pd.Series) -> NDArray[np.float64]:
    """:func:`parse_coordinate` of every value as floats (NaN where it gives None); numbers without Python."""
    if isinstance(values.dtype, np.dtype) and values.dtype.kind in "iuf":
        out: NDArray[np.float64] = values.to_numpy(dtype=np.float64, copy=True)
        out[~np.isfinite(out)] = np.nan
        return out
    parsed = [parse_coordinate(v) for v in values.to_numpy(dtype=object)]
    return np.array([np.nan if v is None else v for v in parsed], dtype=np.float64)


def _comma_not_point(values: pd.Series) -> bool:
    """Some value is text with a comma and no point (``"105,6"``)."""
    if isinstance(values.dtype, np.dtype) and values.dtype.kind in "biufcmM":
        return False
    texts = values.to_numpy(dtype=object)
    return any(isinstance(v, str) and "," in v and "." not in v for v in texts)


def _nfc_strings(s: pd.Series) -> pd.Series:
    """A string-dtype column NFC-normalised: only its non-ASCII values are looked at (ASCII is NFC)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    ascii_ = pc.fill_null(pc.string_is_ascii(pa.array(s, type=pa.large_string())), True)
    wide = np.flatnonzero(~np.asarray(ascii_.to_numpy(zero_copy_only=False), dtype=bool))
    if not len(wide):
        return s
    values = s.to_numpy(dtype=object)[wide]
    normal = [unicodedata.normalize("NFC", v) for v in values]
    changed = [i for i, (a, b) in enumerate(zip(values, normal, strict=True)) if a != b]
    if not changed:
        return s
    out = s.copy()
    out.iloc[wide[changed]] = [normal[i] for i in changed]
    return out


def _nfc_frame(df: pd.DataFrame) -> pd.DataFrame:
    for col in df.columns:
        if col == "geometry" or str(df[col].dtype) not in {"object", "string", "str"}:
            continue
        if str(df[col].dtype) == "object":
            df[col] = df[col].map(lambda v: unicodedata.normalize("NFC", v) if isinstance(v, str) else v)
        else:
            df[col] = _nfc_strings(df[col])
    df.columns = [unicodedata.normalize("NFC", c).strip() if isinstance(c, str) else c for c in df.columns]
    return df


# -------------------------------------------------------------------------------------------- public


def check_input_file(path: str | Path) -> Path:
    """The file-level checks every reader starts with: it exists, is a file, can be read, is not empty.

    Raises
    ------
    InputError
        Naming the file, the problem and the fix.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> check_input_file(tempfile.mkdtemp())
    Traceback (most recent call last):
    ...
    vpgeo.errors.InputError: ...: is a folder, not a file; give the file itself
    """
    p = Path(path)
    if not p.exists():
        raise _fail(p, "file not found", f"check the path (relative paths start from {Path.cwd()})")
    if p.is_dir():
        inside = sorted(f.name for f in p.iterdir() if f.suffix.lower() in READ_EXTENSIONS)[:3]
        hint = f" (e.g. {p / inside[0]})" if inside else ""
        raise _fail(p, "is a folder, not a file", f"give the file itself{hint}")
    try:
        size = p.stat().st_size
        with p.open("rb"):
            pass
    except OSError as exc:
        raise _fail(p, f"cannot be read ({exc.strerror})", "check its permissions") from None
    if size == 0:
        raise _fail(p, "the file is empty (0 bytes)", "give a file with data (was the export interrupted?)")
    return p


def read_table(
    path: str | Path,
    *,
    lon_col: str | None = None,
    lat_col: str | None = None,
    crs: str | None = None,
    sheet: str | None = None,
    layer: str | None = None,
) -> pd.DataFrame:
    """Read a user's table: CSV, XLSX, GeoJSON, GeoPackage, Shapefile or (Geo)Parquet.

    Parameters
    ----------
    path : str or Path
        The file. Its extension chooses the reader.
    lon_col, lat_col : str, optional
        Columns holding longitude and latitude (or x/y when ``crs`` is projected). When both are given,
        point geometry is built from them (rows whose values cannot be read get no geometry and are listed
        in ``attrs["io_notes"]``). Decimal commas and degrees-minutes-seconds are read.
    crs : str, optional
        CRS of ``lon_col``/``lat_col`` (EPSG:4326 by default), or of a spatial file that has none (a
        GeoJSON in VN-2000 metres: ``"EPSG:5897"``).
    sheet, layer : str, optional
        The workbook sheet / GeoPackage layer to read. By default the one holding the data (most rows with
        data / most features) is read, and the others are listed in ``attrs["io_notes"]``; the one read is in
        ``attrs["source_sheet"]`` / ``attrs["source_layer"]``. :func:`selecting` sets them for a path
        without passing them through callers.

    Returns
    -------
    DataFrame or GeoDataFrame
        A GeoDataFrame when the file has geometry or ``lon_col``/``lat_col`` are given, else a DataFrame;
        text NFC-normalised; an ``_row`` column (1-based input record); ``attrs["io_notes"]`` lists what
        was repaired or assumed, ``attrs["row_flags"]`` what was done to single rows (``{_row: [flag …]}``:
        text cut to :data:`MAX_TEXT` characters, invalid geometry repaired), ``attrs["source_path"]`` the file.

    Raises
    ------
    InputError
        Missing file, a folder, an empty file, broken CSV/JSON/XLSX, unknown extension, undecodable text,
        projected coordinates without a CRS, swapped longitude/latitude, a missing named column. The message
        names the file, the problem and the fix.

    Examples
    --------
    >>> read_table("no/such/file.csv")
    Traceback (most recent call last):
    ...
    vpgeo.errors.InputError: no/such/file.csv: file not found; check the path (relative paths start ...
    """
    p = check_input_file(path)
    suffix = _readable_suffix(p)
    if (lon_col is None) != (lat_col is None):
        raise InputError(
            "give both a longitude and a latitude column, or neither", path=str(p), field=lon_col or lat_col
        )
    chosen = _SELECTED.get().get(str(p.resolve()), {})
    sheet = sheet if sheet is not None else chosen.get("sheet")
    layer = layer if layer is not None else chosen.get("layer")
    notes: list[str] = []
    df = _read_any(p, suffix, notes, crs if lon_col is None else None, sheet, layer)
    attrs = {k: v for k, v in df.attrs.items() if k in {"row_flags", "source_sheet", "source_layer"}}
    df = _nfc_frame(df)
    row_flags: dict[int, list[str]] = {int(k): list(v) for k, v in attrs.pop("row_flags", {}).items()}
    if not (suffix in CSV_EXTENSIONS | _GEOJSON and p.stat().st_size <= MAX_TEXT):  # else nothing can be that long
        _truncate_long_text(df, notes, row_flags)
    if isinstance(df, gpd.GeoDataFrame):
        _repair_geometries(df, notes, row_flags)
    if lon_col is not None and lat_col is not None:
        df = _located(df, lon_col, lat_col, crs, p, notes, row_flags)
    return _with_provenance(df, attrs, notes, row_flags, p)


def _with_provenance(
    df: _Frame, attrs: dict[str, Any], notes: list[str], row_flags: dict[int, list[str]], p: Path
) -> _Frame:
    """``df`` carrying what reading it found: sheet/layer, notes, row flags, and the file it came from."""
    df.attrs.update(attrs)
    df.attrs["io_notes"] = notes
    df.attrs["row_flags"] = row_flags
    df.attrs["source_path"] = str(p)
    return df


def _located(
    df: pd.DataFrame,
    lon_col: str,
    lat_col: str,
    crs: str | None,
    p: Path,
    notes: list[str],
    row_flags: dict[int, list[str]],
) -> gpd.GeoDataFrame:
    lon_col = _find_column(df, lon_col, p, "--lon-col", notes)
    lat_col = _find_column(df, lat_col, p, "--lat-col", notes)
    if isinstance(df, gpd.GeoDataFrame):
        notes.append(f"the file's own geometry replaced by points from {lon_col!r}/{lat_col!r}")
        df = pd.DataFrame(df.drop(columns=df.geometry.name))
    return _points(df, lon_col, lat_col, crs, p, notes, row_flags)


def points_from_columns(df: pd.DataFrame, lon_col: str, lat_col: str, *, crs: str | None = None) -> gpd.GeoDataFrame:
    """Point geometry from two columns of a table :func:`read_table` returned, without reading it again.

    ``points_from_columns(read_table(path), lon, lat, crs=crs)`` is ``read_table(path, lon_col=lon,
    lat_col=lat, crs=crs)`` for a table without geometry of its own: same frame, notes, row flags and errors.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.csv"
    >>> _ = p.write_text("x,y\\n105.6,21.3\\n", encoding="utf-8")
    >>> float(points_from_columns(read_table(p), "x", "y").geometry.x[0])
    105.6
    """
    notes = list(df.attrs.get("io_notes", []))
    row_flags = {int(k): list(v) for k, v in (df.attrs.get("row_flags") or {}).items()}
    path = Path(str(df.attrs.get("source_path", "")))
    attrs = {k: v for k, v in df.attrs.items() if k in {"source_sheet", "source_layer"}}
    return _with_provenance(_located(df, lon_col, lat_col, crs, path, notes, row_flags), attrs, notes, row_flags, path)


def _readable_suffix(p: Path) -> str:
    suffix = p.suffix.lower()
    if suffix not in READ_EXTENSIONS:
        if suffix == ".xls":
            raise _fail(p, "old Excel .xls format is not read", "save it as .xlsx (Excel: Save As → Excel Workbook)")
        raise _fail(
            p,
            f"unknown file type {suffix or '(no extension)'!r}",
            "give a .csv, .xlsx, .geojson, .gpkg, .shp or .parquet file",
        )
    return suffix


def _read_any(
    p: Path, suffix: str, notes: list[str], crs: str | None, sheet: str | None, layer: str | None
) -> pd.DataFrame:
    if sheet is not None and suffix not in _XLSX:
        raise InputError(f"a sheet ({sheet!r}) is chosen but {p.name} is not a workbook", path=str(p), field="sheet")
    if layer is not None and suffix != ".gpkg":
        raise InputError(f"a layer ({layer!r}) is chosen but {p.name} is not a GeoPackage", path=str(p), field="layer")
    try:
        if suffix in CSV_EXTENSIONS:
            return _read_csv(p, notes)
        if suffix in _XLSX:
            return _read_xlsx(p, notes, sheet)
        return _read_spatial(p, suffix, notes, crs, layer)
    except PermissionError:
        raise _fail(p, "cannot be read (permission denied)", "check its permissions") from None


_SELECTED: contextvars.ContextVar[dict[str, dict[str, str | None]]] = contextvars.ContextVar("vpgeo_io_selected")
_SELECTED.set({})


@contextlib.contextmanager
def selecting(path: str | Path, *, sheet: str | None = None, layer: str | None = None) -> Iterator[None]:
    """Within the block, :func:`read_table` reads sheet ``sheet`` / layer ``layer`` of ``path``.

    For callers that read a file deep inside (``vpgeo score --sheet``) without a parameter for it.

    Examples
    --------
    >>> import tempfile, pathlib, openpyxl
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "two.xlsx"
    >>> wb = openpyxl.Workbook(); wb.active.title = "a"; wb.active.append(["x", "y"]); wb.active.append([1, 2])
    >>> ws = wb.create_sheet("b"); ws.append(["x", "y"]); ws.append([3, 4]); ws.append([5, 6]); wb.save(p)
    >>> read_table(p)["x"].tolist(), read_table(p).attrs["source_sheet"]
    ([3, 5], 'b')
    >>> with selecting(p, sheet="a"):
    ...     read_table(p)["x"].tolist()
    [1]
    """
    token = _SELECTED.set({**_SELECTED.get(), str(Path(path).resolve()): {"sheet": sheet, "layer": layer}})
    try:
        yield
    finally:
        _SELECTED.reset(token)


def _truncate_long_text(df: pd.DataFrame, notes: list[str], row_flags: dict[int, list[str]]) -> None:
    """Cut text values longer than :data:`MAX_TEXT`; flag each row and note the columns."""
    cut: dict[str, int] = {}
    for col in df.columns:
        if col == _ROW or str(df[col].dtype) not in {"object", "string", "str"}:
            continue
        lengths = pd.Series(_text_lengths(df[col]), index=df.index)
        long = lengths > MAX_TEXT
        if not long.any():
            continue
        cut[str(col)] = int(long.sum())
        for i in np.flatnonzero(long.to_numpy()):
            row = int(df[_ROW].iat[i])
            row_flags.setdefault(row, []).append(
                f"{col} truncated from {int(lengths.iat[i]):,} to {MAX_TEXT:,} characters"
            )
        df[col] = df[col].map(lambda v: v[: MAX_TEXT - 1] + "…" if isinstance(v, str) and len(v) > MAX_TEXT else v)
    if cut:
        notes.append(f"text longer than {MAX_TEXT:,} characters cut in column(s) {cut} (rows flagged)")


def _repair_geometries(gdf: gpd.GeoDataFrame, notes: list[str], row_flags: dict[int, list[str]]) -> None:
    """Repair invalid geometries in place (``make_valid``, keeping their dimension); flag each row."""
    geoms = gdf.geometry.to_numpy()
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if not present.any():
        return
    invalid = present.copy()
    invalid[present] = ~shapely.is_valid(geoms[present])
    if not invalid.any():
        return
    repaired = geoms.copy()
    for i in np.flatnonzero(invalid):
        reason = shapely.is_valid_reason(geoms[i])
        try:
            fixed = shapely.make_valid(geoms[i], method="structure", keep_collapsed=False)
        except shapely.errors.GEOSException:  # e.g. NaN coordinates
            fixed = None
        if fixed is None or fixed.is_empty:
            repaired[i] = None
            what = f"invalid geometry ({reason}) could not be repaired: no geometry"
        else:
            repaired[i] = fixed
            what = f"invalid geometry ({reason}) repaired with make_valid"
        row_flags.setdefault(int(gdf[_ROW].iat[i]), []).append(what)
    gdf[gdf.geometry.name] = gpd.GeoSeries(repaired, index=gdf.index, crs=gdf.crs)
    rows = gdf.loc[invalid, _ROW].tolist()
    notes.append(f"{int(invalid.sum())} invalid geometr(y/ies) repaired with make_valid (rows {rows[:10]})")


_PLAIN = (str, int, float, bool)


def _plain_values(s: pd.Series) -> bool:
    """Every value is None, text, a number or a boolean: nothing for :func:`_flat` to turn into text."""
    return all(t is type(None) or issubclass(t, _PLAIN) for t in set(map(type, s.to_numpy())))


def _flat(df: pd.DataFrame) -> pd.DataFrame:
    """Lists/dicts/objects as text, so every format can hold them."""
    out = df.copy()
    for col in out.columns:
        if col == getattr(out, "_geometry_column_name", None):
            continue
        s = out[col]
        if s.dtype == object and _plain_values(s):
            out[col] = s.infer_objects()  # what the map below gives when it changes no value, without Python
        elif s.dtype == object:
            out[col] = s.map(
                lambda v: (
                    v
                    if v is None or isinstance(v, str | int | float | bool) or (isinstance(v, float) and math.isnan(v))
                    else ("; ".join(map(str, v)) if isinstance(v, list | tuple) else str(v))
                )
            )
        elif isinstance(s.dtype, pd.DatetimeTZDtype):
            out[col] = s.dt.tz_localize(None)
    return out


def _geometry_as_columns(gdf: gpd.GeoDataFrame) -> pd.DataFrame:
    geom = gdf.geometry
    df = pd.DataFrame(gdf.drop(columns=geom.name))
    if geom.crs is not None and not geom.crs.equals(WGS84) and not geom.crs.is_geographic:
        geom = geom.to_crs(WGS84)
    valid = geom.notna() & ~geom.is_empty
    if not valid.any():
        return df
    if (geom[valid].geom_type == "Point").all():
        names = ("lon", "lat") if "lon" not in df and "lat" not in df else ("geometry_lon", "geometry_lat")
        if names == ("geometry_lon", "geometry_lat"):
            same = (
                np.allclose(pd.to_numeric(df["lon"], errors="coerce")[valid], geom[valid].x, equal_nan=True)
                if "lon" in df
                else False
            )
            if same:
                return df
        df[names[0]] = np.where(valid, geom.x.where(valid), np.nan)
        df[names[1]] = np.where(valid, geom.y.where(valid), np.nan)
    else:
        df["geometry_wkt"] = geom.to_wkt()
    return df


#: Text beginning with one of these is a formula to a spreadsheet (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: The most a Shapefile (dBASE) text field holds, in bytes.
SHP_TEXT_BYTES = 254


def _is_formula_text(v: object) -> bool:
    return isinstance(v, str) and v.startswith(FORMULA_START) and not _NUM_DOT.match(v)


def _is_text_column(s: pd.Series) -> bool:
    return str(s.dtype) in {"object", "string", "str"}


def _formula_cells(s: pd.Series) -> NDArray[np.intp]:
    """Positions of the values :func:`_is_formula_text` holds true for (strings only looked at where needed)."""
    if str(s.dtype) in {"str", "string"}:
        starts = np.asarray(s.str.startswith(FORMULA_START).fillna(False).to_numpy(dtype=bool), dtype=bool)
        candidates = np.flatnonzero(starts)
    else:
        candidates = np.flatnonzero([isinstance(v, str) and v.startswith(FORMULA_START) for v in s.to_numpy()])
    if not len(candidates):
        return candidates
    values = s.to_numpy(dtype=object)
    return np.array([i for i in candidates if _is_formula_text(values[i])], dtype=np.intp)


def _csv_safe(df: pd.DataFrame) -> pd.DataFrame:
    """Text cells a spreadsheet would run as a formula get a leading ``'`` (OWASP CSV-injection guidance)."""
    out = df.copy()
    for col in out.columns:
        if not _is_text_column(out[col]):
            continue
        cells = _formula_cells(out[col])
        if len(cells):
            out[col] = out[col].map(lambda v: "'" + v if _is_formula_text(v) else v)
    return out


#: From this many rows on, CSV is written by pyarrow's writer (~30× pandas'; text values are then quoted).
FAST_CSV_ROWS = 20_000


def _write_csv(flat: pd.DataFrame, tmp: Path) -> None:
    """UTF-8 with a BOM; large tables through pyarrow's CSV writer, others (and mixed columns) through pandas."""
    safe = _csv_safe(flat)
    if len(safe) >= FAST_CSV_ROWS:
        import pyarrow as pa
        import pyarrow.csv as pa_csv

        for col in safe.columns:  # booleans as pandas writes them (True/False), not true/false
            if safe[col].dtype == bool:
                safe[col] = safe[col].map({True: "True", False: "False"})
        try:
            table = pa.Table.from_pandas(safe, preserve_index=False)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            table = None  # a column of mixed types: pandas writes it
        if table is not None:
            with tmp.open("wb") as fh:
                fh.write(b"\xef\xbb\xbf")
                pa_csv.write_csv(table, fh, pa_csv.WriteOptions(quoting_style="needed"))
            return
    safe.to_csv(tmp, index=False, encoding="utf-8-sig")


def _write_xlsx(flat: pd.DataFrame, tmp: Path) -> None:
    """Every string is a text cell (never a formula); text that looks like one also gets Excel's quote prefix."""
    import openpyxl
    from openpyxl.cell import WriteOnlyCell

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("data")

    def cell(v: object) -> Any:
        if isinstance(v, np.generic):
            v = v.item()
        if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NaT:
            return None
        if not (isinstance(v, str) and v.startswith(FORMULA_START)):
            return v  # openpyxl writes other text as text already
        c = WriteOnlyCell(ws, value=v)
        c.data_type = "s"  # openpyxl would make "=..." a formula; user text is data
        c.quotePrefix = True  # and Excel keeps it text when the cell is edited
        return c

    ws.append([cell(str(c)) for c in flat.columns])
    for row in flat.itertuples(index=False, name=None):
        ws.append([cell(v) for v in row])
    wb.save(tmp)


def _check_shp_text(gdf: pd.DataFrame, p: Path) -> None:
    """A Shapefile cuts text at 254 bytes without a word: refuse such a table instead."""
    for col in gdf.columns:
        if not _is_text_column(gdf[col]):
            continue
        sizes = gdf[col].map(lambda v: len(v.encode("utf-8")) if isinstance(v, str) else 0)
        if (sizes > SHP_TEXT_BYTES).any():
            i = int(np.argmax(sizes.to_numpy() > SHP_TEXT_BYTES))
            raise _fail(
                p,
                f"column {col!r} holds text of {int(sizes.iat[i])} bytes (row {i + 1}); a Shapefile keeps "
                f"{SHP_TEXT_BYTES} and would cut it",
                "write a GeoPackage (.gpkg) instead",
            )


def _write_spatial(gdf: gpd.GeoDataFrame, suffix: str, p: Path, tmp: Path) -> None:
    gdf = _flat(gdf)
    if suffix in {".geojson", ".json"} and gdf.crs is not None and not gdf.crs.equals(WGS84):
        gdf = gdf.to_crs(WGS84)
    if suffix == ".parquet":
        gdf.to_parquet(tmp)
        return
    if suffix == ".shp":
        _check_shp_text(gdf, p)
    driver = {".geojson": "GeoJSON", ".json": "GeoJSON", ".gpkg": "GPKG", ".shp": "ESRI Shapefile"}
    with warnings.catch_warnings():
        # dBASE field names hold 10 characters: GDAL renames longer ones (documented for .shp output)
        warnings.filterwarnings("ignore", message=r".*(Normalized/laundered field name|truncated to \d+)")
        warnings.filterwarnings("ignore", message="Column names longer than 10 characters")
        gdf.to_file(tmp, driver=driver[suffix], engine="pyogrio", **({"encoding": "UTF-8"} if suffix == ".shp" else {}))


def _writer(df: pd.DataFrame, suffix: str, p: Path) -> Any:
    """The function writing ``df`` as ``suffix`` to a temporary path."""
    spatial = suffix in {".geojson", ".json", ".gpkg", ".shp"}
    if suffix in {".csv", ".xlsx"}:
        flat = _flat(_geometry_as_columns(df) if isinstance(df, gpd.GeoDataFrame) else pd.DataFrame(df))
        if suffix == ".csv":
            return lambda tmp: _write_csv(flat, tmp)
        return lambda tmp: _write_xlsx(flat, tmp)
    if spatial or (suffix == ".parquet" and isinstance(df, gpd.GeoDataFrame)):
        gdf = _as_geo(df, p) if spatial else df
        return lambda tmp: _write_spatial(gdf, suffix, p, tmp)
    return lambda tmp: _flat(pd.DataFrame(df)).to_parquet(tmp, index=False)


def write_table(df: pd.DataFrame, path: str | Path, *, keep_row: bool = False) -> Path:
    """Write ``df`` in the format its extension names; return the path written.

    CSV is UTF-8 with a BOM (Excel then shows diacritics), written by pyarrow from :data:`FAST_CSV_ROWS` rows
    on; CSV and XLSX carry point geometry as ``lon``/``lat``
    columns (other geometry as WKT); GeoJSON is written in EPSG:4326 (RFC 7946). A plain DataFrame written
    to a spatial format needs ``lon``/``lat`` columns. The ``_row`` provenance column is dropped unless
    ``keep_row``.

    User text stays text: XLSX cells are text cells (never formulas); in CSV, text a spreadsheet would run as
    a formula (starting with ``=``, ``+``, ``-``, ``@``, tab or CR and not a number) is prefixed with ``'``.
    The file is written to a temporary name and moved into place (:func:`vpgeo._output.atomic_write`): an
    interrupted run leaves no partial file, and a symbolic link at ``path`` is replaced, never followed.

    Raises
    ------
    InputError
        Unknown extension, no geometry for a spatial format, text too long for a Shapefile, unwritable path.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = write_table(pd.DataFrame({"xã": ["Hội Thịnh"], "lon": [105.6], "lat": [21.3]}),
    ...                 pathlib.Path(tempfile.mkdtemp()) / "a.geojson")
    >>> float(read_table(p).geometry.x[0])
    105.6
    """
    from vpgeo._output import atomic_write

    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in WRITE_EXTENSIONS:
        raise _fail(
            p,
            f"cannot write {suffix or '(no extension)'!r} files",
            "name the output .csv, .xlsx, .geojson, .gpkg, .shp or .parquet",
        )
    if p.is_dir() and not p.is_symlink():
        raise _fail(p, "is a folder", "give an output file name inside it")
    if not keep_row and _ROW in df.columns:
        df = df.drop(columns=[_ROW])
    writer = _writer(df, suffix, p)
    try:
        return atomic_write(p, writer)
    except PermissionError:
        raise _fail(
            p,
            "cannot be written (permission denied or open in another program)",
            "close it in Excel or choose another --out",
        ) from None


def _as_geo(df: pd.DataFrame, p: Path) -> gpd.GeoDataFrame:
    if isinstance(df, gpd.GeoDataFrame):
        return df
    if "lon" in df.columns and "lat" in df.columns:
        lon = pd.to_numeric(df["lon"], errors="coerce").astype(float).to_numpy()
        lat = pd.to_numeric(df["lat"], errors="coerce").astype(float).to_numpy()
        ok = np.isfinite(lon) & np.isfinite(lat)
        geom = np.full(len(df), None, dtype=object)
        geom[ok] = shapely.points(lon[ok], lat[ok])
        return gpd.GeoDataFrame(df, geometry=geom, crs=WGS84)
    raise _fail(
        p,
        "the table has no geometry and no lon/lat columns to write as a spatial file",
        "write it as .csv or .xlsx instead",
    )


def write_rejects(rejects: pd.DataFrame, path: str | Path) -> Path | None:
    """Write rejected rows (columns ``row``, ``reason``, then the original fields); nothing when empty.

    ``rejects`` needs a ``reason`` column and an input row number in ``row`` or ``_row``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> write_rejects(pd.DataFrame(columns=["_row", "reason"]), d / "rejects.csv") is None
    True
    >>> p = write_rejects(pd.DataFrame({"_row": [3], "reason": ["area not a number: 'abc'"], "ten": ["X"]}),
    ...                   d / "rejects.csv")
    >>> p.read_text(encoding="utf-8-sig").splitlines()[0]
    'row,reason,ten'
    """
    if rejects is None or len(rejects) == 0:
        return None
    df = (
        pd.DataFrame(rejects.drop(columns=rejects.geometry.name))
        if isinstance(rejects, gpd.GeoDataFrame)
        else rejects.copy()
    )
    if "row" not in df.columns:
        if _ROW not in df.columns:
            raise ValueError("write_rejects: rejects need a 'row' or '_row' column")  # a programming error
        df = df.rename(columns={_ROW: "row"})
    elif _ROW in df.columns:
        df = df.drop(columns=[_ROW])
    if "reason" not in df.columns:
        raise ValueError("write_rejects: rejects need a 'reason' column")
    rest = [c for c in df.columns if c not in {"row", "reason"}]
    return write_table(df[["row", "reason", *rest]], path)


def check_out_dir(out: str | Path, *, force: bool) -> Path:
    """Create the output folder; refuse a non-empty one unless ``force``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = check_out_dir(pathlib.Path(tempfile.mkdtemp()) / "out", force=False)
    >>> _ = (d / "a.csv").write_text("x")
    >>> check_out_dir(d, force=False)
    Traceback (most recent call last):
    ...
    vpgeo.errors.InputError: ...: output folder is not empty (1 file(s), e.g. a.csv); ... --force ...
    """
    p = Path(out)
    if p.exists() and not p.is_dir():
        raise _fail(p, "is a file, not a folder", "give --out a folder name (it is created if missing)")
    if p.is_dir():
        from vpgeo._output import LOCK, MANIFEST

        content = sorted(x.name for x in p.iterdir() if x.name not in {LOCK, MANIFEST})
        if content and not force:
            raise _fail(
                p,
                f"output folder is not empty ({len(content)} file(s), e.g. {content[0]})",
                "choose another --out, empty it, or add --force to overwrite files in it",
            )
    try:
        p.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _fail(p, f"cannot create the output folder ({exc.strerror})", "choose another --out") from None
    return p
