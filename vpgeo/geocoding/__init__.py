"""Geocoding: Vietnamese addresses, commune names and coordinates to Vĩnh Phúc's administrative units.

Every input row comes back, in order, with the legacy commune and district (the plan's units, before
1 July 2025), the 2025 commune, a point with its precision, and a ``match_status`` saying how sure the
placement is. Nothing is guessed: a name that matches no unit closely enough is ``unmatched``; a name that
fits several units is ``ambiguous`` with its ``candidates``; an address in another province is ``outside``.

Output columns
--------------
``commune``, ``commune_code``, ``district``, ``district_code``, ``commune_2025``, ``commune_2025_code``,
``lon``, ``lat`` (EPSG:4326), ``precision_m`` (radius within which the true place lies), ``match_status``
(``exact`` | ``fuzzy`` | ``historical`` | ``ambiguous`` | ``unmatched`` | ``outside`` | ``empty``),
``match_score`` (1 for exact/historical, the similarity for fuzzy), ``candidates`` (``"; "``-joined, for
ambiguous rows), ``boundary_source`` and ``shares`` (coordinate/polygon rows), ``match_note`` (what was read
or repaired). An ambiguous row keeps what all its candidates agree on (e.g. the district).

If the input already has a column with one of these names, the input column is kept, renamed with the
suffix ``_input`` (``commune`` → ``commune_input``), and the rename is listed in
``attrs["geocode_notes"]``; output columns therefore always have the names above.

Name matching
-------------
Text is NFC-normalised and compared without diacritics (Đ/đ included), case, administrative prefixes or
abbreviations (``xã``, ``phường``, ``thị trấn``, ``TT.``, ``P.``, ``H.``, ``huyện``, ``TP``, ``thành phố``,
``tỉnh``) and separators (``,`` ``-`` ``/``), so tone-mark typos ("Tề Lổ") match exactly. Address strings
are read as Vietnamese addresses are written, smallest unit first ("thôn 3, xã Hội Thịnh, huyện Tam Dương,
tỉnh Vĩnh Phúc"); words after ``thôn``, ``xóm``, ``tổ``, ``khu``, ``KCN``, ``đường``, ``số`` … name places
below the commune and are skipped.

- **Historical names** (communes merged into another before 2025, e.g. Vân Hội and Hợp Thịnh → Hội Thịnh)
  resolve to the commune that absorbed them, status ``historical``.
- **2025 names** (e.g. Bình Nguyên, Tam Dương Bắc) resolve to the 2025 commune; the legacy commune is then
  unknown (several were merged) and the district is given only when all of them lay in one district.
- **Vintages**: 21 names are both a legacy and a 2025 commune (Hội Thịnh, Tề Lỗ, Xuân Hòa …). A type prefix
  decides when it fits only one (``Thị trấn Tam Sơn`` is legacy, ``Xã Tam Sơn`` is 2025), a legacy district
  decides for the legacy unit, the province Phú Thọ (the 2025 province) for the 2025 one. Otherwise the
  **legacy unit wins** when it lies inside the 2025 commune of the same name: it is the finer unit, carries
  the district, and its 2025 commune is the same either way. When it does not (legacy Xã Xuân Hòa of Lập
  Thạch became part of Xã Lập Thạch, not of Phường Xuân Hòa) the row is ``ambiguous``.
- **Duplicates**: a name is enough when it is unique in the province; Xuân Hòa (Phường, Phúc Yên; Xã, Lập
  Thạch) needs the district or the type prefix, else it is ``ambiguous``. A commune whose district
  contradicts the given district is ``ambiguous`` too (with a note), never silently moved.
- **Outside**: an address naming another province (Hà Nội, Thái Nguyên …) or a district elsewhere (``huyện
  Mê Linh``, ``quận Ba Đình``) is ``outside``, even when its commune name also exists in Vĩnh Phúc. With the
  province Phú Thọ (which absorbed Vĩnh Phúc in 2025), 2025 communes of the former Vĩnh Phúc resolve and the
  other Phú Thọ communes are ``outside``.

The whole address is evidence
-----------------------------
Resolution runs in named steps (``vpgeo.geocoding._resolve._Reader``): screen the names, then the province,
the district, the commune. What the text itself says overrides a homonym, and ``match_note`` says why:

- **Position**: a name after the commune's place (its ``xã``/``phường``/``thị trấn`` name, else the first
  name) is a district or province: "Xã Cảm Ân - Yên Bình" names Huyện Yên Bình (Yên Bái), not Xã Yên Bình of
  Vĩnh Tường; "Xóm Nà Đồng, Xã Tân Phú, Tân Sơn, Phú Thọ" names Huyện Tân Sơn.
- **Unit types agree**: "thị trấn Yên Lập" is not Xã Yên Lập; a written type may only be lower than today's
  (a xã upgraded to a thị trấn or phường keeps its old name in old addresses: "Xã Bá Hiến" → Thị trấn Bá
  Hiến, with a note); historical names carry no type.
- **Tones count when written**: "Đại Từ" is not Đại Tự, "Quảng Yên" not Quang Yên, "Liên Sơn" not Liễn Sơn
  when the written form is a unit's name elsewhere in Viet Nam; a tone typo that names nothing ("Tề Lổ")
  still matches, with a note. ``Hoà``/``Hòa`` are the same.
- **The named district decides**: a commune not in it is ``ambiguous``; an unknown commune in one of our
  districts ("Xã Thanh Sơn, Huyện Yên Lạc") is placed at the district (``ambiguous`` with the district);
  fuzzy matching is never tried across a named district that is not ours ("Xã Nham Sơn, H. Yên Dũng").
- **Streets and villages are not communes**: words after ``thôn``, ``khu``, ``đường``, ``số`` … and parts
  starting with a house number ("259 Mê Linh") are skipped, unless the rest of the part is two names or
  more ("Khu 5 Tiền Châu Phúc Yên": no commas); a name that begins a longer name ("Hoàng Hoa Thám") is not
  read; among several commune names the one standing alone in its part wins ("Sân Golf Tam Đảo, Hợp Châu,
  Tam Đảo" → Hợp Châu).
- **The end of an address is the province**: "KCN Phúc Yên, Vĩnh Phúc" is the province (and the city in
  the park's name), not Phường Vĩnh Phúc; a province cut short ("…, Yên Lạc, Vĩnh ") stays Vĩnh Phúc.
- Codenames as other packages write them (``xa_dao_tu``, ``huyen_tam_duong``) are read.

Measured on 347 addresses written for the tests (tests/data/addresses.csv: 130 in Vĩnh Phúc, 217 in Phú Thọ,
Tuyên Quang, Thái Nguyên, Hà Nội, Yên Bái and Bắc Giang, many of them homonyms): no wrong district or
commune, district right for all 130, none of the 217 placed inside.

Other modules resolve commune names through :func:`resolve_commune` (the same steps, a typed result).

Fuzzy matching
--------------
Names that match nothing exactly are compared with the commune names (legacy, historical, 2025) by
optimal-string-alignment edit distance on folded compact keys (``hoithinh``); similarity is
``1 - distance / max(len)``. A fuzzy match needs similarity ≥ :data:`FUZZY_THRESHOLD` (0.8) and one best
unit. Two guards keep it from snapping foreign names: when the district is known only that district's
communes are candidates; when it is not, a name that is a real commune or district name elsewhere in Viet
Nam (from ``vietnamadminunits``' national tables) is that place's name, not a typo, and stays ``unmatched``.
District names in a district column or after ``huyện`` get the same treatment.

Measured by ``python benchmarks/bench_geocode.py --threshold`` (600 one-letter typos of the 121 legacy names;
919 commune names of Hà Nội, Phú Thọ outside the former province and Thái Nguyên that are not ours, and one
typo of each):

========= ====================================== ==================================
threshold no district: recall / wrong / foreign  with district: recall / foreign
========= ====================================== ==================================
0.75      94.8 % / 2.8 % / 9.6 %                 99.7 % / 3.8 %
**0.80**  **92.5 % / 2.8 % / 2.7 %**             **97.3 % / 1.2 %**
0.85      74.5 % / 2.3 % / 1.0 %                 78.0 % / 0.7 %
========= ====================================== ==================================

("foreign": typo'd foreign names that snap to one of ours; the foreign names themselves never do, by the
guard above. "wrong": a typo that lands on another Vĩnh Phúc name.) Going from 0.80 to 0.75 gains 2 points
of recall for 3–4 times the foreign snaps; going to 0.85 loses 18 points of recall. Vietnamese commune
names are short and many differ by one letter (Tam Hồng/Tam Hưng), so no threshold separates them fully:
``match_note`` always says what a fuzzy match read.

Coordinates and polygons
------------------------
Points (``lon``/``lat`` columns or point geometry) are placed by point-in-polygon in the district, legacy
commune and 2025 commune layers of :mod:`vpgeo.boundaries` (``boundaries="auto"`` uses official boundaries
when available, the approximation otherwise). ``boundary_source`` says which layer came from where;
``precision_m`` is the coarsest precision of the layers used: each unit's measured outline error (a point
closer than that to a boundary may belong to the neighbour; ``match_note`` says when it is). A point beyond
every outline by less than the nearest unit's precision goes to that unit, with a note; farther, it is
``outside``.
Longitude and latitude swapped in one row (21.x, 105.x) are swapped back, with a note. Polygons go to the
unit holding the largest share of their area (measured in EPSG:5897); when a polygon straddles a boundary,
``shares`` lists each unit's share ("commune: Xã Tề Lỗ 62%, Xã Đồng Văn 38%"). Rows with both coordinates
and names are placed by their coordinates; names are used for rows without coordinates.

Examples
--------
>>> import pandas as pd
>>> df = pd.DataFrame({"dia_chi": ["Thôn Đông, xã Vân Hội, huyện Tam Dương, tỉnh Vĩnh Phúc",
...                                "TT. Hương Canh, Bình Xuyên", "Tề Lổ", "Xuân Hòa",
...                                "xã Tiền Phong, huyện Mê Linh, TP Hà Nội", ""]})
>>> out = geocode(df, address="dia_chi")
>>> out[["commune", "commune_2025", "match_status"]].values.tolist()  # doctest: +NORMALIZE_WHITESPACE
[['Xã Hội Thịnh', 'Xã Hội Thịnh', 'historical'],
 ['Thị trấn Hương Canh', 'Xã Bình Nguyên', 'exact'],
 ['Xã Tề Lỗ', 'Xã Tề Lỗ', 'exact'],
 [None, None, 'ambiguous'],
 [None, None, 'outside'],
 [None, None, 'empty']]
>>> out.loc[3, "candidates"]
'Phường Xuân Hòa (Phúc Yên); Xã Xuân Hòa (Lập Thạch)'
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

from vpgeo.crs import WGS84, check_crs
from vpgeo.errors import CRSError, GeocodeError, InputError
from vpgeo.geocoding._commune import CommuneMatch, resolve_commune
from vpgeo.geocoding._resolve import _row_for, match_name
from vpgeo.geocoding._schema import FUZZY_THRESHOLD, MATCH_STATUSES, OUTPUT_COLUMNS
from vpgeo.geocoding._spatial import _place_geometries
from vpgeo.io import parse_coordinate, read_table, write_table
from vpgeo.text import nfc

__all__ = [
    "FUZZY_THRESHOLD",
    "MATCH_STATUSES",
    "OUTPUT_COLUMNS",
    "CommuneMatch",
    "geocode",
    "geocode_file",
    "match_name",
    "resolve_commune",
]

# ---------------------------------------------------------------------------------------------- public


def _check_column(df: pd.DataFrame, col: str | None, option: str) -> None:
    if col is not None and col not in df.columns:
        cols = [c for c in df.columns if c not in ("_row", "geometry")]
        raise InputError(f"no column {col!r} (given as {option}); columns are {cols}", field=col)


def geocode(
    data: pd.DataFrame,
    *,
    address: str | None = None,
    commune: str | None = None,
    district: str | None = None,
    lon: str | None = None,
    lat: str | None = None,
    boundaries: str = "auto",
) -> pd.DataFrame:
    """Place every row of ``data`` in Vĩnh Phúc's legacy districts and communes and its 2025 communes.

    Parameters
    ----------
    data : DataFrame or GeoDataFrame
        The rows to place. A GeoDataFrame with geometry and no column options is placed by its geometry.
    address : str, optional
        Column of free-text addresses ("xã Đạo Tú, huyện Tam Dương, tỉnh Vĩnh Phúc").
    commune : str, optional
        Column of commune names (legacy, historical or 2025); not together with ``address``.
    district : str, optional
        Column of district names, deciding between communes of the same name.
    lon, lat : str, optional
        Columns of longitude and latitude (EPSG:4326); decimal commas and DMS are read.
    boundaries : {"auto", "official", "approx"}
        Boundary source for coordinates and polygons (see :mod:`vpgeo.boundaries`).

    Returns
    -------
    DataFrame or GeoDataFrame
        ``data`` (same type, rows and order) plus the columns listed in the module docstring; input columns
        with those names are renamed ``<name>_input``. ``attrs["geocode_notes"]`` lists such renames.

    Raises
    ------
    GeocodeError
        When no way to place rows is given, or ``address`` and ``commune`` are both given.
    InputError
        When a named column is missing.

    Examples
    --------
    >>> import pandas as pd
    >>> out = geocode(pd.DataFrame({"xa": ["Hợp Thịnh", "Bình Nguyên"], "huyen": ["Tam Dương", None]}),
    ...               commune="xa", district="huyen")
    >>> out[["commune", "district", "commune_2025", "match_status"]].values.tolist()
    [['Xã Hội Thịnh', 'Huyện Tam Dương', 'Xã Hội Thịnh', 'historical'],
     [None, 'Huyện Bình Xuyên', 'Xã Bình Nguyên', 'exact']]
    """
    use_geometry = _check_args(data, address, commune, district, lon, lat)
    n = len(data)
    rows: list[dict[str, Any] | None] = [None] * n
    # Coordinates first.
    if lon is not None and lat is not None:
        geoms, coord_notes = _read_coordinates(data, lon, lat)
    elif use_geometry:
        assert isinstance(data, gpd.GeoDataFrame)
        geoms, coord_notes = _read_geometry(data)
    else:
        geoms, coord_notes = [None] * n, {}
    have = [i for i, g in enumerate(geoms) if g is not None and not g.is_empty]
    if have:
        placed = _place_geometries(gpd.GeoSeries([geoms[i] for i in have], crs=WGS84), boundaries)
        for i, r in zip(have, placed, strict=True):
            rows[i] = r
    # Names for the rest.
    text_col = address if address is not None else commune
    mode = "address" if address is not None else "commune"
    texts = data[text_col].map(nfc).tolist() if text_col is not None else [""] * n
    dists = data[district].map(nfc).tolist() if district is not None else [""] * n
    done: list[dict[str, Any]] = []
    for i in range(n):
        row = rows[i] if rows[i] is not None else dict(_row_for(texts[i], dists[i], mode))
        assert row is not None
        if i in coord_notes:
            _add_coordinate_note(row, coord_notes[i])
        done.append(row)
    return _assemble(data, done)


def _check_args(
    data: pd.DataFrame,
    address: str | None,
    commune: str | None,
    district: str | None,
    lon: str | None,
    lat: str | None,
) -> bool:
    """Refuse impossible argument combinations; whether the rows are placed by their geometry."""
    if not isinstance(data, pd.DataFrame):
        raise GeocodeError(f"geocode needs a DataFrame or GeoDataFrame, not {type(data).__name__}")
    if address is not None and commune is not None:
        raise GeocodeError("give address= or commune= (with district=), not both")
    if (lon is None) != (lat is None):
        raise GeocodeError("give both lon= and lat=, or neither")
    for col, opt in (
        (address, "address="),
        (commune, "commune="),
        (district, "district="),
        (lon, "lon="),
        (lat, "lat="),
    ):
        _check_column(data, col, opt)
    use_geometry = (
        isinstance(data, gpd.GeoDataFrame)
        and lon is None
        and data.geometry.name in data.columns
        and ((address is None and commune is None) or bool(data.geometry.notna().any()))
    )
    if address is None and commune is None and lon is None and not use_geometry and district is None:
        raise GeocodeError(
            "nothing to geocode by: give address=, commune= (optionally with district=) or lon=/lat=, or a "
            "GeoDataFrame with geometry"
        )
    return use_geometry


def _read_coordinates(data: pd.DataFrame, lon: str, lat: str) -> tuple[list[Any], dict[int, str]]:
    """Points from lon/lat columns (decimal commas, DMS; a swapped pair is swapped back, with a note)."""
    geoms: list[Any] = [None] * len(data)
    notes: dict[int, str] = {}
    xs = [parse_coordinate(v) for v in data[lon]]  # not Series.map: it would turn None into NaN
    ys = [parse_coordinate(v) for v in data[lat]]
    for i, (x, y) in enumerate(zip(xs, ys, strict=True)):
        raw_x, raw_y = data[lon].iloc[i], data[lat].iloc[i]
        if x is None or y is None:
            if nfc(raw_x) or nfc(raw_y):
                notes[i] = f"coordinates not readable: {nfc(raw_x)!r}, {nfc(raw_y)!r}"
            continue
        if 7.5 <= x <= 24 and 101 <= y <= 110.5:
            x, y = y, x
            notes[i] = "longitude and latitude were swapped; read as lon/lat"
        if abs(x) > 180 or abs(y) > 90:
            notes[i] = f"coordinates ({x}, {y}) are not degrees (projected metres need a CRS)"
            continue
        geoms[i] = shapely.Point(x, y)
    return geoms, notes


def _read_geometry(data: gpd.GeoDataFrame) -> tuple[list[Any], dict[int, str]]:
    """Points and polygons from a GeoDataFrame's geometry, in EPSG:4326, repaired where needed."""
    g = data.geometry
    if g.crs is None:
        raise GeocodeError("the geometry has no CRS; set one (e.g. gdf.set_crs('EPSG:4326'))")
    try:
        check_crs(g.crs, operation="geocoding")
    except CRSError as exc:
        raise GeocodeError(str(exc)) from None
    g = g.to_crs(WGS84) if not g.crs.equals(WGS84) else g
    geoms: list[Any] = [None] * len(data)
    notes: dict[int, str] = {}
    for i, gg in enumerate(g):
        if gg is None or gg.is_empty:
            continue
        if not gg.is_valid:
            gg = shapely.make_valid(gg)
            notes[i] = "invalid geometry repaired (make_valid)"
        if gg.geom_type in ("Point", "Polygon", "MultiPolygon"):
            geoms[i] = gg
        elif gg.geom_type == "MultiPoint":
            geoms[i] = gg.centroid
            notes[i] = "multipoint: its centroid is used"
        else:
            geoms[i] = shapely.Polygon() if gg.geom_type == "GeometryCollection" else gg.buffer(1e-6)
            notes[i] = f"{gg.geom_type}: placed by its area"
    return geoms, notes


def _add_coordinate_note(row: dict[str, Any], note: str) -> None:
    row["match_note"] = f"{note}; {row['match_note']}" if row["match_note"] else note
    if row["match_status"] == "empty" and "not" in note:
        row["match_status"] = "unmatched"


def _assemble(data: pd.DataFrame, rows: list[dict[str, Any]]) -> pd.DataFrame:
    """``data`` plus the output columns; input columns of the same names are kept as ``<name>_input``."""
    result = pd.DataFrame(rows, columns=list(OUTPUT_COLUMNS), index=data.index)
    for c in OUTPUT_COLUMNS:
        if c in ("lon", "lat", "precision_m", "match_score"):
            result[c] = result[c].astype(float)
        else:
            result[c] = result[c].astype(object).where(result[c].notna(), None)
    out = data.copy()
    renames: dict[str, str] = {}
    for c in OUTPUT_COLUMNS:
        if c in out.columns:
            new = f"{c}_input"
            k = 2
            while new in out.columns or new in OUTPUT_COLUMNS:
                new = f"{c}_input{k}"
                k += 1
            renames[c] = new
    if renames:
        out = out.rename(columns=renames)
    for c in OUTPUT_COLUMNS:
        out[c] = result[c]
    out.attrs = dict(data.attrs)
    out.attrs["geocode_notes"] = [f"input column {a!r} kept as {b!r}" for a, b in renames.items()]
    return out


def geocode_file(
    input: str | Path,
    output: str | Path,
    *,
    address_col: str | None = None,
    commune_col: str | None = None,
    district_col: str | None = None,
    lon_col: str | None = None,
    lat_col: str | None = None,
    boundaries: str = "auto",
) -> dict[str, Any]:
    """Geocode a file and write the result; the CLI's ``vpgeo geocode``.

    Returns
    -------
    dict
        ``rows_in``, ``rows_out`` (always equal: no row is dropped), ``status`` (count per match status, all
        seven keys), ``flagged`` (rows with a flag), ``output`` (path written), ``notes`` (what reading and
        geocoding repaired or assumed).

    Notes
    -----
    The output has every input row, in order, with a ``flags`` column (empty when clean; an input column of
    that name is kept as ``flags_input``) saying what the reader did to the row: text cut to
    :data:`vpgeo.io.MAX_TEXT` characters, an invalid geometry repaired. How each row was placed, and why
    not, is in ``match_status`` and ``match_note``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "in.csv").write_text("ten;xa\\nA;Vân Hội\\nB;Thị trấn Hương Canh\\nC;Hà Nội\\n", encoding="utf-8")
    >>> s = geocode_file(d / "in.csv", d / "out.csv", commune_col="xa")
    >>> s["rows_in"], s["rows_out"], s["status"]["historical"], s["status"]["exact"]
    (3, 3, 1, 1)
    """
    from vpgeo.io import _find_column

    lon_lat = lon_col is not None or lat_col is not None
    df = read_table(input, lon_col=lon_col, lat_col=lat_col) if lon_lat else read_table(input)
    # the column options answer to the file's headers as read_table matches them ("kinh do" → "Kinh độ",
    # "Kinh độ" → a merged XLSX header "Tọa độ / Kinh độ"); a missing one names the file
    cols = {
        opt: _find_column(df, col, Path(input), opt, []) if col is not None else None
        for opt, col in (
            ("--address-col", address_col),
            ("--commune-col", commune_col),
            ("--district-col", district_col),
            ("--lon-col", lon_col),
            ("--lat-col", lat_col),
        )
    }
    try:
        out = geocode(
            df,
            address=cols["--address-col"],
            commune=cols["--commune-col"],
            district=cols["--district-col"],
            lon=cols["--lon-col"] if lon_lat else None,
            lat=cols["--lat-col"] if lon_lat else None,
            boundaries=boundaries,
        )
    except InputError as exc:
        if exc.path is None:
            raise InputError(str(exc), path=str(input)) from None
        raise
    # what the reader did to single rows (text cut, geometry repaired); every row keeps its place
    reader = df.attrs.get("row_flags") or {}
    if "flags" in out.columns:
        out = out.rename(columns={"flags": "flags_input"})
    rows = out["_row"].tolist() if "_row" in out.columns else [None] * len(out)
    out["flags"] = [";".join(reader.get(r, [])) for r in rows]
    path = write_table(out, output)
    counts = Counter(out["match_status"])
    return {
        "rows_in": len(df),
        "rows_out": len(out),
        "status": {s: int(counts.get(s, 0)) for s in MATCH_STATUSES},
        "flagged": int((out["flags"] != "").sum()),
        "output": str(path),
        "notes": [*df.attrs.get("io_notes", []), *out.attrs.get("geocode_notes", [])],
    }
