"""The plan's industrial parks (KCN) and clusters (CCN) as points with provenance, and user site tables.

:func:`build_sites` turns the facts table ``data/facts/sites.csv`` (authored by the project, one row per
site, each with its sources) into points. A site is placed only from what the facts say:

- ``published_point``: the facts give a longitude/latitude (an unverified point from a public demo map);
- ``commune_centroid``: the facts name one or more pre-2025 communes; the site sits at the gazetteer point
  of the commune (or the mean of several), with a precision covering every listed commune;
- ``none``: neither; the geometry stays null. No position is ever invented.

:func:`write_sites_geojson` writes the result deterministically (``data/sites.geojson``, read back by
:func:`vpgeo.datasets.load_sites`). :func:`prepare_sites` cleans a user's own table for ``vpgeo report``.

Examples
--------
>>> s = build_sites()
>>> s.loc[s["site_id"] == "CCN-VANHOI-2030", ["commune", "commune_2025", "location_method"]].values.tolist()
[['Xã Hội Thịnh', 'Xã Hội Thịnh', 'commune_centroid']]
>>> sorted(s["location_method"].unique())
['commune_centroid', 'none', 'published_point']
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from io import StringIO
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.errors
from shapely.geometry import Point, mapping

from vpgeo._data import data_file
from vpgeo.crs import WGS84, check_crs, to_metric, to_wgs84
from vpgeo.errors import CRSError, InputError
from vpgeo.gazetteer import SOURCE as GAZETTEER_SOURCE
from vpgeo.gazetteer import districts, legacy_communes
from vpgeo.text import key, nfc

__all__ = [
    "FACTS_COLUMNS",
    "KINDS",
    "LOCATION_METHODS",
    "PHASES",
    "SITE_COLUMNS",
    "build_sites",
    "prepare_sites",
    "write_sites_geojson",
]

KINDS = ("KCN", "CCN")
PHASES = ("existing", "new_2030", "2031_2050", "older_plan", "unknown")
LOCATION_METHODS = ("published_point", "commune_centroid", "none")
FACTS_COLUMNS = (
    "site_id",
    "name",
    "kind",
    "phase",
    "status",
    "area_ha",
    "area_ha_2050",
    "communes",
    "district",
    "lon",
    "lat",
    "coord_source",
    "source",
    "confidence",
    "notes",
)
SITE_COLUMNS = (
    "site_id",
    "name",
    "kind",
    "phase",
    "status",
    "area_ha",
    "area_ha_2050",
    "commune",
    "district",
    "commune_2025",
    "source",
    "location_method",
    "precision_m",
    "confidence",
    "notes",
    "commune_code",
    "commune_2025_code",
)
FACTS_REL = "data/facts/sites.csv"

# Published points come from an anonymous public demo map of industrial-park points, apparently geocoded
# by name and never checked against an outline. Each lies 0.6-2.1 km from the gazetteer point of the
# commune the facts tie it to, i.e. inside that commune's extent; nothing better can be verified. We allow
# 2 km for a name-level geocode missing the park, plus the park's own half-extent (radius of a disc of its
# area, x1.5 for elongated parks as the gazetteer does for communes): 2.6-3.6 km for the 42-326 ha parks,
# about as coarse as a commune centroid, which is the honest level for an unverified point.
_GEOCODE_ALLOWANCE_M = 2000.0
_ELONGATION = 1.5
#: The former Vĩnh Phúc (1,236 km²): no site can be larger.
PROVINCE_AREA_HA = 123_600.0
_UNKNOWN_AREA_HA = 400.0  # larger than any single KCN zone in the facts: a generous extent when area is blank
_ID_RE = re.compile(r"^[A-Z0-9]+(?:-[A-Z0-9]+)*$")
_URL_RE = re.compile(r"https?://[^\s;]+")
# Loose box around northern Vietnam: catches swapped or projected coordinates, not a province test.
_VN_BOX = (102.0, 8.0, 110.0, 24.0)

_PRECISION_TEXT = (
    "Points are approximate. precision_m is the radius around the point within which the site is expected. "
    "published_point: an unverified, apparently geocoded point from an anonymous public demo map "
    f"(precision {_GEOCODE_ALLOWANCE_M:.0f} m plus 1.5 x the radius of a disc of the site's area); "
    "commune_centroid: the gazetteer point of the commune named by the facts (for several communes their "
    "mean, with a precision covering every listed commune); none: position unknown, null geometry."
)
_LICENCE_TEXT = (
    "Authored by the vpgeo project from public facts (every row cites its sources) and distributed under "
    "vpgeo's MIT licence; commune points derived from the MIT-licensed PyPI package vietnamadminunits. "
    "No third-party geometry is included."
)


def _round_up(metres: float, step: int = 100) -> int:
    return int(math.ceil(metres / step) * step)


def _published_precision(area_ha: float | None) -> int:
    """Precision (m) of a published point for a site of ``area_ha`` (see the comment on the constants).

    >>> _published_precision(221.46), _published_precision(None)
    (3300, 3700)
    """
    area = _UNKNOWN_AREA_HA if area_ha is None or math.isnan(area_ha) else area_ha
    half_extent = math.sqrt(area * 1e4 / math.pi) * _ELONGATION
    return _round_up(_GEOCODE_ALLOWANCE_M + half_extent)


# --------------------------------------------------------------------------------------------------------
# Commune resolution
# --------------------------------------------------------------------------------------------------------


def _district_name(text: str) -> str | None:
    """Full legacy district name for ``text`` ('Huyện Vĩnh Tường', 'H. Vĩnh Tường', 'TP Vĩnh Yên' …)."""
    d = districts()
    exact = d[d["name"] == text]
    if len(exact) == 1:
        return str(exact["name"].iloc[0])
    hit = d[d["short"].map(key) == key(text)]
    return str(hit["name"].iloc[0]) if len(hit) == 1 else None


def _resolve_commune(name: str, district: str | None) -> tuple[pd.Series, str | None]:
    """Find the legacy commune called ``name`` (current or former name); return it and a note if former.

    Raises LookupError with a message when the name is unknown or ambiguous.
    """
    c = legacy_communes()
    c_d = c[c["district"] == district] if district else c
    k = key(name)
    for pool in (c_d[c_d["name"] == name], c_d[c_d["key"] == k]):
        if len(pool) == 1:
            return pool.iloc[0], None
        if len(pool) > 1:
            raise LookupError(
                f"commune name {name!r} is ambiguous ({', '.join(pool['name'] + ' / ' + pool['district'])}); "
                "give the full name with its prefix or fill the district column"
            )
    former = c_d[c_d["historical_keys"].map(lambda ks: k in ks)]
    if len(former) == 1:
        row = former.iloc[0]
        return row, f"{name} is a former commune merged into {row['name']} before 2025"
    if len(former) > 1:
        raise LookupError(f"former commune name {name!r} matches several units; fill the district column")
    where = f" in {district}" if district else ""
    raise LookupError(
        f"unknown commune {name!r}{where}: not among the 121 pre-2025 communes of Vĩnh Phúc nor their former "
        "names; spell it as the gazetteer does (e.g. 'Xã Kim Xá', 'Thị trấn Hương Canh') or leave it blank"
    )


def _unique(values: Iterable[str]) -> list[str]:
    out: list[str] = []
    for v in values:
        if v not in out:
            out.append(v)
    return out


# --------------------------------------------------------------------------------------------------------
# build_sites
# --------------------------------------------------------------------------------------------------------


def _facts_path(facts: str | Path | None) -> tuple[Path, str]:
    if facts is not None:
        path = Path(facts)
        if not path.is_file():
            raise InputError("facts table not found; give the path of a sites facts CSV", path=str(path))
        return path, str(facts)
    return Path(str(data_file("facts/sites.csv"))), FACTS_REL


def _parse_area(text: str, *, path: str, row: int, fld: str) -> float | None:
    if text == "":
        return None
    try:
        value = float(text)
    except ValueError:
        raise InputError(
            f"area {text!r} is not a number; write hectares with a decimal point (52.6), or leave it blank "
            "and put a range or bound ('>200') in notes",
            path=path,
            row=row,
            field=fld,
        ) from None
    if not math.isfinite(value) or value <= 0 or value > PROVINCE_AREA_HA:
        raise InputError(
            f"area {text!r} must be a positive number of hectares, at most the province's {PROVINCE_AREA_HA:,.0f}",
            path=path,
            row=row,
            field=fld,
        )
    return value


def _parse_coord(text: str, *, path: str, row: int, fld: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise InputError(
            f"{fld} {text!r} is not a number; give decimal degrees (EPSG:4326)", path=path, row=row, field=fld
        ) from None


def _read_facts(path: Path, shown: str) -> pd.DataFrame:
    try:
        raw = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 ({exc.reason}); save the table as UTF-8", path=shown) from None
    table = pd.read_csv(StringIO(raw), dtype=str, keep_default_na=False)
    missing = [c for c in FACTS_COLUMNS if c not in table.columns]
    if missing:
        raise InputError(
            f"missing column(s) {missing}; a facts table needs {', '.join(FACTS_COLUMNS)}",
            path=shown,
            field=missing[0],
        )
    return table.map(nfc)


_Err = Callable[[str, str], InputError]  # builds the error of one facts row (message, field)


def _check_fact_row(r: dict[str, str], i: int, seen: dict[str, int], err: _Err) -> list[str]:
    """Validate a facts row's id, name, kind, phase and sources; return its source URLs."""
    sid = r["site_id"]
    if not _ID_RE.match(sid):
        raise err(f"site_id {sid!r} must be upper-case ASCII words joined by '-', e.g. CCN-KIMXA-2030", "site_id")
    if sid in seen:
        raise err(f"duplicate site_id {sid!r} (first on row {seen[sid]}); site ids are never reused", "site_id")
    seen[sid] = i
    if not r["name"]:
        raise err("empty name; give the site's Vietnamese name", "name")
    if r["kind"] not in KINDS:
        raise err(f"unknown kind {r['kind']!r}; use KCN or CCN", "kind")
    if r["phase"] not in PHASES:
        raise err(f"unknown phase {r['phase']!r}; use one of {', '.join(PHASES)}", "phase")
    urls = [u.strip() for u in r["source"].split(";") if u.strip()]
    bad = [u for u in urls if not _URL_RE.fullmatch(u)]
    if not urls or bad:
        raise err(
            f"source must be http(s) URLs separated by ';' (got {bad[0] if bad else 'nothing'!r}); every "
            "site cites where its facts come from, other provenance goes in notes",
            "source",
        )
    return urls


def _fact_district(r: dict[str, str], gaz_districts: set[str], err: _Err) -> str | None:
    if not r["district"]:
        return None
    found = r["district"] if r["district"] in gaz_districts else _district_name(r["district"])
    if found is None:
        raise err(
            f"unknown district {r['district']!r}; use a legacy district name such as 'Huyện Vĩnh Tường' "
            "or 'Thành phố Phúc Yên', or leave it blank",
            "district",
        )
    return found


def _fact_communes(r: dict[str, str], district: str | None, notes: list[str], err: _Err) -> list[pd.Series]:
    resolved: list[pd.Series] = []
    for name in _unique(n.strip() for n in r["communes"].split(";") if n.strip()):
        try:
            row, note = _resolve_commune(name, district)
        except LookupError as exc:
            raise err(str(exc), "communes") from None
        if row["code"] not in [x["code"] for x in resolved]:
            resolved.append(row)
        if note:
            notes.append(note)
    return resolved


def _fact_record(
    r: dict[str, str], urls: list[str], resolved: list[pd.Series], district_given: str | None, shown: str, i: int
) -> dict[str, Any]:
    district = ";".join(_unique(str(x["district"]) for x in resolved)) if resolved else district_given
    return {
        "site_id": r["site_id"],
        "name": r["name"],
        "kind": r["kind"],
        "phase": r["phase"],
        "status": r["status"] or None,
        "area_ha": _parse_area(r["area_ha"], path=shown, row=i, fld="area_ha"),
        "area_ha_2050": _parse_area(r["area_ha_2050"], path=shown, row=i, fld="area_ha_2050"),
        "commune": ";".join(str(x["name"]) for x in resolved) or None,
        "district": district or None,
        "commune_2025": ";".join(_unique(str(x["commune_2025"]) for x in resolved)) or None,
        "source": ";".join(urls),
        "confidence": r["confidence"] or None,
        "commune_code": ";".join(str(x["code"]) for x in resolved) or None,
        "commune_2025_code": ";".join(_unique(str(x["commune_2025_code"]) for x in resolved)) or None,
    }


def _fact_position(
    r: dict[str, str],
    rec: dict[str, Any],
    resolved: list[pd.Series],
    notes: list[str],
    shown: str,
    i: int,
    err: _Err,
) -> Point | None:
    """Place a facts row (published point, else its communes, else nothing); sets method and precision."""
    if bool(r["lon"]) != bool(r["lat"]):
        raise err("give both lon and lat, or neither", "lon" if not r["lon"] else "lat")
    if r["lon"]:
        lon = _parse_coord(r["lon"], path=shown, row=i, fld="lon")
        lat = _parse_coord(r["lat"], path=shown, row=i, fld="lat")
        minx, miny, maxx, maxy = _VN_BOX
        if not (minx <= lon <= maxx and miny <= lat <= maxy):
            raise err(f"point ({lon}, {lat}) is not in northern Vietnam; swapped lon/lat?", "lon")
        rec["location_method"] = "published_point"
        rec["precision_m"] = _published_precision(rec["area_ha"])
        notes.append(
            "position: published point, unverified"
            + (f"; coordinates from: {r['coord_source']}" if r["coord_source"] else "")
        )
        return Point(lon, lat)
    if resolved:
        geom, prec, pnotes = _commune_position(resolved)
        rec["location_method"] = "commune_centroid"
        rec["precision_m"] = prec
        notes.extend(pnotes)
        return geom
    rec["location_method"] = "none"
    rec["precision_m"] = None
    district = rec["district"]
    notes.append(
        "no position: the facts give neither a point nor a commune"
        + (f" (district {district} only)" if district else "")
    )
    return None


def build_sites(facts: str | Path | None = None) -> gpd.GeoDataFrame:
    """Place every site of a facts table and return them as points in EPSG:4326.

    Parameters
    ----------
    facts : str or Path, optional
        A facts CSV with the columns of :data:`FACTS_COLUMNS`; ``data/facts/sites.csv`` by default.

    Returns
    -------
    GeoDataFrame
        One row per facts row, columns :data:`SITE_COLUMNS` then ``geometry`` (null where the position is
        unknown). ``commune`` and ``district`` are legacy (pre-2025) names, ``commune_2025`` the commune
        of Phú Thọ they became; several are joined with ``;``. ``attrs["provenance"]`` describes the layer.

    Raises
    ------
    InputError
        For a malformed row (unknown kind, phase, commune or district, duplicate or non-ASCII site_id,
        non-numeric area, half a coordinate pair, no http source), naming file, row and field.

    Examples
    --------
    >>> s = build_sites().set_index("site_id")
    >>> k = s.loc["KCN-KHAIQUANG"]
    >>> k["location_method"], int(k["precision_m"]), k["district"]
    ('published_point', 3300, 'Thành phố Vĩnh Yên')
    >>> s.loc["CCN-HOPTHANH-2030", "location_method"], s.loc["CCN-HOPTHANH-2030", "geometry"] is None
    ('none', True)
    """
    path, shown = _facts_path(facts)
    table = _read_facts(path, shown)
    gaz_districts = set(districts()["name"])
    seen: dict[str, int] = {}
    records: list[dict[str, Any]] = []
    geoms: list[Point | None] = []
    for i, r in enumerate(table.to_dict("records"), start=1):

        def err(message: str, fld: str, row: int = i) -> InputError:
            return InputError(message, path=shown, row=row, field=fld)

        urls = _check_fact_row(r, i, seen, err)
        district_given = _fact_district(r, gaz_districts, err)
        notes = [r["notes"]] if r["notes"] else []
        resolved = _fact_communes(r, district_given, notes, err)
        rec = _fact_record(r, urls, resolved, district_given, shown, i)
        geom = _fact_position(r, rec, resolved, notes, shown, i, err)
        rec["notes"] = "; ".join(notes)
        records.append(rec)
        geoms.append(geom)

    df = pd.DataFrame.from_records(records, columns=list(SITE_COLUMNS))
    df["area_ha"] = df["area_ha"].astype(float)
    df["area_ha_2050"] = df["area_ha_2050"].astype(float)
    df["precision_m"] = pd.array(df["precision_m"].tolist(), dtype="Int64")
    gdf = gpd.GeoDataFrame(df, geometry=gpd.GeoSeries(geoms, crs=WGS84), crs=WGS84)
    gdf.attrs["provenance"] = _provenance(gdf, shown, path.read_bytes())
    return gdf


def _commune_position(communes: Sequence[pd.Series]) -> tuple[Point, int, list[str]]:
    """Point and precision (m) for a site known only by its commune(s); metric work in EPSG:5897."""
    notes = []
    for c in communes:
        if c["point_status"] != "ok":
            notes.append(
                f"the gazetteer point of {c['name']} is unusable ({c['point_status']}); the point of its 2025 "
                f"commune {c['commune_2025']} is used"
            )
    if len(communes) == 1:
        c = communes[0]
        return Point(float(c["lon"]), float(c["lat"])), int(c["precision_m"]), notes
    pts = gpd.GeoSeries([Point(float(c["lon"]), float(c["lat"])) for c in communes], crs=WGS84)
    metric = to_metric(pts, operation="site position from several communes", warn=False)
    mean = Point(float(metric.x.mean()), float(metric.y.mean()))
    reach = max(mean.distance(p) + float(c["precision_m"]) for p, c in zip(metric, communes, strict=True))
    back = to_wgs84(gpd.GeoSeries([mean], crs=metric.crs))
    names = ", ".join(str(c["name"]) for c in communes)
    notes.append(f"position: mean of the gazetteer points of {names}")
    return back.iloc[0], _round_up(reach), notes


def _provenance(gdf: gpd.GeoDataFrame, built_from: str, facts_bytes: bytes) -> dict[str, Any]:
    return {
        "layer": "sites",
        "title": "Industrial parks (KCN) and clusters (CCN) of Vĩnh Phúc, 2021–2030 plan",
        "built_from": built_from,
        "built_from_sha256": hashlib.sha256(facts_bytes).hexdigest(),
        "builder": "scripts/build_sites.py (vpgeo.sites.build_sites, vpgeo.sites.write_sites_geojson)",
        "crs": WGS84,
        "precision": _PRECISION_TEXT,
        "licence": _LICENCE_TEXT,
        "gazetteer": GAZETTEER_SOURCE,
        "counts": {
            "sites": len(gdf),
            "kind": {k: int((gdf["kind"] == k).sum()) for k in KINDS},
            "location_method": {m: int((gdf["location_method"] == m).sum()) for m in LOCATION_METHODS},
        },
    }


# --------------------------------------------------------------------------------------------------------
# write_sites_geojson
# --------------------------------------------------------------------------------------------------------


def _json_value(value: object) -> object:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float | np.floating):
        return None if math.isnan(value) else float(value)
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    return str(value)


def _round_coords(obj: Any, ndigits: int = 6) -> Any:
    if isinstance(obj, float | int):
        return round(float(obj), ndigits)
    return [_round_coords(v, ndigits) for v in obj]


def _geometry_json(geom: object) -> dict[str, Any] | None:
    if geom is None or not isinstance(geom, shapely.Geometry) or geom.is_empty:
        return None
    g = dict(mapping(geom))
    g["coordinates"] = _round_coords(g["coordinates"])
    return {"type": g["type"], "coordinates": g["coordinates"]}


def write_sites_geojson(gdf: gpd.GeoDataFrame, path: str | Path) -> Path:
    """Write sites as a deterministic GeoJSON FeatureCollection with a top-level ``metadata`` object.

    Features are sorted by ``site_id``, coordinates rounded to 6 decimals (~0.1 m), text kept as UTF-8
    (``ensure_ascii=False``), ``indent=1``. The metadata come from ``gdf.attrs["provenance"]`` (set by
    :func:`build_sites`) completed with defaults, so the same facts always give the same bytes.

    Parameters
    ----------
    gdf : GeoDataFrame
        Sites, e.g. from :func:`build_sites`; reprojected to EPSG:4326 if needed.
    path : str or Path
        Output file.

    Returns
    -------
    Path
        ``path``.

    Examples
    --------
    >>> import tempfile, json
    >>> out = write_sites_geojson(build_sites(), Path(tempfile.mkdtemp()) / "s.geojson")
    >>> doc = json.loads(out.read_text(encoding="utf-8"))
    >>> doc["metadata"]["layer"], len(doc["features"]) == len(build_sites())
    ('sites', True)
    """
    if "site_id" not in gdf.columns:
        raise InputError("sites need a 'site_id' column to be written in a stable order", field="site_id")
    data = to_wgs84(gdf, operation="writing sites GeoJSON")
    data = data.sort_values("site_id", kind="stable").reset_index(drop=True)
    geom_col = data.geometry.name
    # a region (vpgeo.regions) is derived from the boundaries at load time, never stored with the facts
    props = [
        c
        for c in data.columns
        if c != geom_col and not any(isinstance(v, shapely.Geometry) for v in data[c].to_numpy()[:1])
    ]
    meta: dict[str, Any] = {
        "layer": "sites",
        "built_from": FACTS_REL,
        "builder": "vpgeo.sites.write_sites_geojson",
        "crs": WGS84,
        "precision": _PRECISION_TEXT,
        "licence": _LICENCE_TEXT,
        "gazetteer": GAZETTEER_SOURCE,
    }
    prov = dict(gdf.attrs.get("provenance", {}))
    meta = {**prov, **{k: v for k, v in meta.items() if k not in prov}}
    features = [
        {
            "type": "Feature",
            "properties": {c: _json_value(row[c]) for c in props},
            "geometry": _geometry_json(row[geom_col]),
        }
        for _, row in data.iterrows()
    ]
    doc = {"type": "FeatureCollection", "metadata": meta, "features": features}
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8", newline="\n") as fh:
        fh.write(json.dumps(doc, ensure_ascii=False, indent=1) + "\n")
    return out


# --------------------------------------------------------------------------------------------------------
# prepare_sites (user tables)
# --------------------------------------------------------------------------------------------------------

# Folded header → canonical column. Headers are folded without dropping "xa"/"huyen" (see _header_key).
_HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "site_id": ("site id", "id", "ma", "ma site", "ma khu", "code"),
    "name": ("name", "ten", "ten khu", "ten site", "site", "site name", "ten khu cum cong nghiep"),
    "kind": ("kind", "loai", "loai hinh", "type", "kcn ccn"),
    "phase": ("phase", "giai doan"),
    "status": ("status", "trang thai", "hien trang"),
    "area_ha": (
        "area ha",
        "area",
        "dien tich",
        "dien tich ha",
        "quy mo",
        "quy mo ha",
        "area hectares",
    ),
    "commune": ("commune", "communes", "xa", "xa phuong", "phuong xa", "ward", "xa phuong thi tran"),
    "district": ("district", "huyen", "quan huyen", "huyen thanh pho"),
    "lon": ("lon", "lng", "long", "longitude", "kinh do", "x"),
    "lat": ("lat", "latitude", "vi do", "y"),
    "source": ("source", "nguon", "sources"),
    "notes": ("notes", "note", "ghi chu"),
}
_ALIAS_TO_COL = {alias: col for col, aliases in _HEADER_ALIASES.items() for alias in aliases}
_KIND_WORDS = {
    "kcn": "KCN",
    "khu cong nghiep": "KCN",
    "industrial park": "KCN",
    "industrial zone": "KCN",
    "ip": "KCN",
    "ccn": "CCN",
    "cum cong nghiep": "CCN",
    "industrial cluster": "CCN",
    "cluster": "CCN",
    "cum cong nghiep lang nghe": "CCN",
}
# Columns prepare_sites computes; an input value is reused when it is valid (e.g. build_sites output).
_COMPUTED = ("location_method", "precision_m", "flags")
_KIND_PREFIX = re.compile(r"^(kcn|khu cong nghiep|ccn|cum cong nghiep)\b")
_AREA_UNITS = {"ha": 1.0, "hecta": 1.0, "hectare": 1.0, "hectares": 1.0, "m2": 1e-4, "km2": 100.0}


def _plain(text: object) -> str:
    """Lower-case ASCII words, keeping administrative words (unlike :func:`vpgeo.text.fold`)."""
    s = nfc(text).replace("Đ", "D").replace("đ", "d").replace("²", "2")
    s = "".join(ch for ch in unicodedata.normalize("NFD", s) if not unicodedata.combining(ch)).lower()
    return " ".join(re.sub(r"[^0-9a-z]+", " ", s).split())


def _header_key(header: object) -> str:
    return _plain(header)


def _normalise_columns(columns: Sequence[object]) -> dict[object, str]:
    """Map the user's headers to canonical names; unknown headers are kept as they are (NFC)."""
    mapping_: dict[object, str] = {}
    taken: set[str] = set()
    for col in columns:
        canon = _ALIAS_TO_COL.get(_header_key(col))
        if canon is None and isinstance(col, str) and " / " in col:
            # a merged two-row XLSX header read as "Tọa độ / Kinh độ": the lower row names the column
            canon = _ALIAS_TO_COL.get(_header_key(col.rsplit(" / ", 1)[1]))
        if canon is not None and canon not in taken:
            mapping_[col] = canon
        else:
            # A second header for the same column (e.g. both "Tên" and "name") is kept under its own name.
            own = nfc(col) if isinstance(col, str) else str(col)
            while own in taken or own in _HEADER_ALIASES:
                own += "_2"
            mapping_[col] = own
        taken.add(mapping_[col])
    return mapping_


def _parse_number(value: object) -> tuple[float | None, list[str], str | None]:
    """Parse a number written by a person: returns (value, flags, error). Blank → (None, [], None).

    Vietnamese writes a decimal comma ("52,6"); a single comma is read as one and flagged. Several
    separators of one kind, or thousands groups, are refused as ambiguous rather than guessed.

    >>> _parse_number("52,6")
    (52.6, ['decimal_comma'], None)
    >>> _parse_number("1.236,5")
    (1236.5, ['decimal_comma'], None)
    >>> _parse_number("abc")[2]
    "'abc' is not a number"
    """
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None, [], None
    if isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool):
        return float(value), [], None
    text = nfc(value)
    if text == "":
        return None, [], None
    flags: list[str] = []
    t = text.replace(" ", "").replace("\u00a0", "")
    if t.count(",") and t.count("."):
        dec = "," if t.rfind(",") > t.rfind(".") else "."
        thou = "." if dec == "," else ","
        int_part, _, frac = t.rpartition(dec)
        if not re.fullmatch(r"[-+]?\d{1,3}(?:" + re.escape(thou) + r"\d{3})+", int_part):
            return None, [], f"{text!r} is not a number (mixed separators)"
        t = int_part.replace(thou, "") + "." + frac
        if dec == ",":
            flags.append("decimal_comma")
    elif t.count(",") == 1:
        t = t.replace(",", ".")
        flags.append("decimal_comma")
    elif t.count(",") > 1 or t.count(".") > 1:
        return None, [], f"{text!r} is ambiguous (several separators); write e.g. 1236.5"
    try:
        return float(t), flags, None
    except ValueError:
        return None, [], f"{text!r} is not a number"


def _parse_area_value(value: object) -> tuple[float | None, list[str], str | None]:
    """Area in hectares from a number or text such as '52,6 ha', '3 km²', '5000 m2'.

    >>> _parse_area_value("52,6 ha")
    (52.6, ['decimal_comma'], None)
    >>> _parse_area_value("5000 m2")
    (0.5, ['area_unit_m2'], None)
    >>> _parse_area_value("-3")[2]
    'area -3.0 ha is not positive'
    """
    flags: list[str] = []
    if isinstance(value, str):
        text = nfc(value)
        m = re.fullmatch(r"(.*?)\s*([A-Za-zéÉ²]+2?)\s*\.?", text.replace("m²", "m2").replace("km²", "km2"))
        if m and _plain(m.group(2)).replace(" ", "") in _AREA_UNITS:
            unit = _plain(m.group(2)).replace(" ", "")
            number, nflags, error = _parse_number(m.group(1))
            if number is not None and unit != "ha" and _AREA_UNITS[unit] != 1.0:
                number *= _AREA_UNITS[unit]
                nflags.append(f"area_unit_{unit}")
            value_ha, flags, err = number, nflags, error
        else:
            value_ha, flags, err = _parse_number(text)
    else:
        value_ha, flags, err = _parse_number(value)
    if err is not None:
        return None, [], f"area {err}"
    if value_ha is not None and (not math.isfinite(value_ha) or value_ha <= 0):
        return None, [], f"area {value_ha} ha is not positive"
    if value_ha is not None and value_ha > PROVINCE_AREA_HA:
        return None, [], f"area {value_ha:g} ha is larger than the whole province ({PROVINCE_AREA_HA:,.0f} ha)"
    return value_ha, flags, None


def _slug(text: str) -> str:
    return "-".join(_plain(text).upper().split()) or "SITE"


def _kind_of(value: object, name: str) -> tuple[str | None, list[str], str | None]:
    text = _plain(value)
    if text:
        kind = _KIND_WORDS.get(text)
        if kind is None:
            return None, [], f"unknown kind {nfc(value)!r}; use KCN (khu công nghiệp) or CCN (cụm công nghiệp)"
        return kind, [], None
    m = _KIND_PREFIX.match(_plain(name))
    if m:
        return _KIND_WORDS[m.group(1)], ["kind_from_name"], None
    return None, ["kind_missing"], None


def prepare_sites(
    data: pd.DataFrame | gpd.GeoDataFrame,
    *,
    source: str = "user",
    duplicates: Literal["rename", "reject"] = "rename",
    id_prefix: str = "USER",
    point_precision_m: float | None = None,
    place_by_commune: bool = False,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Clean a user's site table for analysis; every input row ends up in exactly one of the two outputs.

    Column names are normalised (Vietnamese or English: "Tên"/"name", "Loại"/"kind", "Diện tích (ha)"/
    "area_ha", "Xã"/"commune", "Huyện"/"district", "Kinh độ"/"lon", "Vĩ độ"/"lat" …); text becomes NFC;
    kinds become ``KCN``/``CCN``; areas are parsed in hectares (a decimal comma such as "52,6 ha" is read
    and flagged); positions come from the geometry or from lon/lat columns (EPSG:4326), and optionally
    from the commune column as :func:`build_sites` does.

    Parameters
    ----------
    data : DataFrame or GeoDataFrame
        The user's table (a GeoDataFrame must carry a CRS).
    source : str
        Fills the ``source`` column where the table has none (e.g. the file name).
    duplicates : {"rename", "reject"}
        What to do with a site_id seen on an earlier row: suffix it (``-2``, ``-3`` …, flagged
        ``duplicate_id_renamed``) or reject the later row.
    id_prefix : str
        Prefix of generated site ids, which are ``PREFIX-KIND-NAME`` (ASCII) so they stay the same when
        rows move; clashes get ``-2``, ``-3`` ….
    point_precision_m : float, optional
        Precision (m) given to rows positioned by the user's geometry or lon/lat when the table has no
        valid ``precision_m``; unknown (null) by default, which rule checks treat as uncertain.
    place_by_commune : bool
        Place rows without a position at the gazetteer point of their legacy commune (``commune``, several
        separated by ``;``; ``district`` disambiguates), with the commune's precision, as
        ``commune_centroid``; unknown names are flagged ``commune_unknown`` and the row stays unplaced.

    Returns
    -------
    sites : GeoDataFrame
        Kept rows in input order (EPSG:4326), canonical columns first, other columns after, and ``flags``
        (``;``-separated: ``decimal_comma``, ``area_missing``, ``no_position``, ``site_id_generated`` …;
        empty when clean). Rows without a position keep a null geometry and ``location_method`` ``none``.
    rejects : DataFrame
        ``row`` (1-based input row), ``site_id``, ``name``, ``reason``.

    Raises
    ------
    InputError
        If the table has neither a name nor a site_id column.
    CRSError
        If a GeoDataFrame has no CRS.

    Examples
    --------
    >>> df = pd.DataFrame({"Tên": ["CCN Thanh Lãng", "KCN X"], "Loại": ["cụm công nghiệp", "KCN"],
    ...                    "Diện tích (ha)": ["52,6 ha", "-5"], "Kinh độ": [105.7, None],
    ...                    "Vĩ độ": [21.2, None]})
    >>> sites, rejects = prepare_sites(df)
    >>> sites[["site_id", "kind", "area_ha", "flags"]].values.tolist()
    [['USER-CCN-THANH-LANG', 'CCN', 52.6, 'decimal_comma;site_id_generated']]
    >>> rejects[["row", "reason"]].values.tolist()
    [[2, 'area -5.0 ha is not positive']]
    """
    if duplicates not in ("rename", "reject"):
        raise InputError(f"duplicates must be 'rename' or 'reject', not {duplicates!r}", field="duplicates")
    if point_precision_m is not None and not point_precision_m > 0:
        raise InputError(f"point_precision_m must be positive, not {point_precision_m!r}", field="point_precision_m")
    frame, geo_in, repaired = _split_geometry(data)
    frame = frame.rename(columns=_normalise_columns(list(frame.columns)))
    if "name" not in frame.columns and "site_id" not in frame.columns:
        found = ", ".join(str(c) for c in frame.columns if c != "_row") or "none"
        raise InputError(
            f"the site table has no name column (found: {found}); add a column 'name' (or 'Tên') naming each site",
            path=data.attrs.get("source_path"),  # set by vpgeo.io.read_table: the CLI's message names the file
            field="name",
        )
    ctx = _RowContext(
        extra=[c for c in frame.columns if c not in _HEADER_ALIASES and c not in _COMPUTED],
        point_precision_m=point_precision_m,
        place_by_commune=place_by_commune,
        source=source,
    )
    # what the reader did to single rows (vpgeo.io.read_table: text cut, geometry repaired), keyed by _row
    reader_flags: dict[Any, list[str]] = dict(data.attrs.get("row_flags") or {})
    kept: list[dict[str, Any]] = []
    kept_geoms: list[object] = []
    rejects: list[dict[str, Any]] = []
    for pos, (_, r) in enumerate(frame.iterrows()):
        flags: list[str] = [*reader_flags.get(r.get("_row"), [])] if reader_flags else []
        if pos in repaired:
            flags.append(repaired[pos])
        g = geo_in.iloc[pos] if geo_in is not None else None
        rec, geom, reason = _prepare_row(r, g, flags, ctx)
        rec["_pos"] = pos + 1
        if reason is not None:
            texts_sid, texts_name = nfc(r.get("site_id")), nfc(r.get("name"))
            rejects.append({"row": pos + 1, "site_id": texts_sid or None, "name": texts_name or None, "reason": reason})
            continue
        kept.append(rec)
        kept_geoms.append(geom)
    rejects += _assign_ids(kept, kept_geoms, duplicates, _slug(id_prefix))
    sites = _sites_frame(kept, kept_geoms, ctx.extra, source)
    rej = pd.DataFrame.from_records(rejects, columns=["row", "site_id", "name", "reason"])
    rej["row"] = rej["row"].astype(int)
    rej = rej.sort_values("row", kind="stable").reset_index(drop=True)
    if len(sites) + len(rej) != len(frame):  # pragma: no cover - guards the contract
        raise AssertionError("prepare_sites lost rows")
    return sites, rej


_SITE_OUT_COLUMNS = (
    "site_id",
    "name",
    "kind",
    "phase",
    "status",
    "area_ha",
    "commune",
    "district",
    "source",
    "location_method",
    "precision_m",
    "notes",
)
_CODE_COLUMNS = ("commune_2025", "commune_code", "commune_2025_code")


@dataclass
class _RowContext:
    extra: list[str]
    point_precision_m: float | None
    place_by_commune: bool
    source: str


def _split_geometry(
    data: pd.DataFrame | gpd.GeoDataFrame,
) -> tuple[pd.DataFrame, gpd.GeoSeries | None, dict[int, str]]:
    """The attribute table, the geometry in EPSG:4326 (repaired) if any, and a flag per repaired row."""
    if isinstance(data, gpd.GeoDataFrame) and data._geometry_column_name in data.columns:
        if data.crs is None:
            raise CRSError(
                "data.crs: the site table has a geometry but no coordinate reference system; set one "
                "(e.g. EPSG:4326 for longitude/latitude, EPSG:5897 for VN-2000 / TM-3 metres)"
            )
        check_crs(data.crs, operation="preparing sites", argument="data.crs")
        geo_in, repaired = _repaired(to_wgs84(data.geometry, operation="preparing sites"))
        return pd.DataFrame(data.drop(columns=data.geometry.name)), geo_in, repaired
    frame = pd.DataFrame(data)
    if "geometry" in frame.columns:
        raise CRSError(
            "data: a plain table with a 'geometry' column has no coordinate reference system; pass a "
            "GeoDataFrame with its CRS, or lon/lat columns in EPSG:4326"
        )
    return frame, None, {}


def _identity(
    r: pd.Series, texts: dict[str, str], flags: list[str]
) -> tuple[str, str | None, float | None, str | None]:
    """Name, kind and area of a row, or the reason it is rejected."""
    name, sid = texts["name"], texts["site_id"]
    if not name:
        if not sid:
            return "", None, None, "no name and no site_id"
        name = sid
        flags.append("name_from_site_id")
    kind, kflags, kerr = _kind_of(r.get("kind"), name)
    if kerr:
        return name, None, None, kerr
    flags += kflags
    area, aflags, aerr = _parse_area_value(r.get("area_ha"))
    if aerr:
        return name, kind, None, aerr
    flags += aflags
    if area is None:
        flags.append("area_missing")
    return name, kind, area, None


def _lonlat(r: pd.Series, flags: list[str]) -> tuple[Point | None, str | None]:
    """The row's lon/lat point (swapped pairs repaired and flagged), or the reason it is rejected."""
    lon, f1, e1 = _parse_number(r.get("lon"))
    lat, f2, e2 = _parse_number(r.get("lat"))
    if e1 or e2:
        return None, f"coordinate {e1 or e2}; give decimal degrees (EPSG:4326)"
    if (lon is None) != (lat is None):
        return None, "only one of lon/lat given; give both or neither"
    if lon is None or lat is None:
        return None, None
    minx, miny, maxx, maxy = _VN_BOX
    if miny <= lon <= maxy and minx <= lat <= maxx:
        lon, lat = lat, lon
        flags.append("lonlat_swapped")
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        return None, (
            f"coordinates ({lon}, {lat}) are not degrees (projected metres?); convert to EPSG:4326 "
            "or pass a GeoDataFrame with its CRS"
        )
    flags += sorted(set(f1 + f2))
    if not (minx <= lon <= maxx and miny <= lat <= maxy):
        flags.append("outside_vietnam")
    return Point(lon, lat), None


def _position(
    r: pd.Series, g: object, flags: list[str], ctx: _RowContext
) -> tuple[object, str, float | None, dict[str, Any], str | None]:
    """Geometry, location_method, precision, commune codes of a row, or the reason it is rejected."""
    geom: object = None
    method = "none"
    if g is not None and isinstance(g, shapely.Geometry) and not g.is_empty:
        geom, method = g, "user_geometry"
    else:
        geom, err = _lonlat(r, flags)
        if err:
            return None, "none", None, {}, err
        method = "user_point" if geom is not None else "none"
    precision, _, perr = _parse_number(r.get("precision_m"))
    codes: dict[str, Any] = {}
    if geom is not None:
        given = nfc(r.get("location_method"))
        method = given if given and given != "none" else method
        if perr or (precision is not None and not precision > 0):
            flags.append("precision_invalid")
            precision = None
        if precision is None and ctx.point_precision_m is not None:
            precision = float(ctx.point_precision_m)
            flags.append(f"precision_m assumed {ctx.point_precision_m:g}")
    elif ctx.place_by_commune and nfc(r.get("commune")):
        geom, precision, codes = _place_by_commune(nfc(r.get("commune")), nfc(r.get("district")), flags)
        method = "none" if geom is None else "commune_centroid"
    if geom is None:
        flags.append("no_position")
        precision = None
    return geom, method, precision, codes, None


def _prepare_row(
    r: pd.Series, g: object, flags: list[str], ctx: _RowContext
) -> tuple[dict[str, Any], object, str | None]:
    texts = {c: _capped(r.get(c), c, flags) for c in _TEXT_COLUMNS}
    name, kind, area, reason = _identity(r, texts, flags)
    if reason is not None:
        return {}, None, reason
    geom, method, precision, codes, reason = _position(r, g, flags, ctx)
    if reason is not None:
        return {}, None, reason
    rec: dict[str, Any] = {
        "site_id": texts["site_id"] or None,
        "name": name,
        "kind": kind,
        "phase": texts["phase"] or None,
        "status": texts["status"] or None,
        "area_ha": area,
        "commune": codes.get("commune") or texts["commune"] or None,
        "district": codes.get("district") or texts["district"] or None,
        "source": texts["source"] or ctx.source,
        "location_method": method,
        "precision_m": precision,
        "notes": texts["notes"] or None,
    }
    for c in ctx.extra:
        rec[c] = r.get(c)
    for c in _CODE_COLUMNS:  # placed here, else the input's own (e.g. a build_sites table)
        rec[c] = codes.get(c) or rec.get(c)
    rec["flags"] = flags
    return rec, geom, None


def _assign_ids(
    kept: list[dict[str, Any]], geoms: list[object], duplicates: str, src_prefix: str
) -> list[dict[str, Any]]:
    """Rename or reject repeated site_ids, generate the missing ones; returns the rejects (rows removed)."""
    used: set[str] = set()
    rejects: list[dict[str, Any]] = []
    pending: list[int] = []
    drop: list[int] = []
    for i, rec in enumerate(kept):
        sid = rec["site_id"]
        if not sid:
            pending.append(i)
            rec["flags"].append("site_id_generated")
            continue
        if sid in used:
            if duplicates == "reject":
                rejects.append(
                    {"row": rec["_pos"], "site_id": sid, "name": rec["name"], "reason": f"duplicate site_id {sid!r}"}
                )
                drop.append(i)
                continue
            n = 2
            while f"{sid}-{n}" in used:
                n += 1
            sid = rec["site_id"] = f"{sid}-{n}"
            rec["flags"].append("duplicate_id_renamed")
        used.add(sid)
    # Generated ids come last so they never take an id the user wrote on a later row.
    for idx in pending:
        rec = kept[idx]
        # at most 60 characters of the name: an id is a handle, not a copy of a (possibly absurd) name
        base = f"{src_prefix}-{_slug(str(rec['kind'] or '') + ' ' + _strip_kind(rec['name']))[:60].rstrip('-')}"
        sid, n = base, 2
        while sid in used:
            sid, n = f"{base}-{n}", n + 1
        used.add(sid)
        rec["site_id"] = sid
    for i in reversed(drop):
        del kept[i], geoms[i]
    return rejects


def _sites_frame(kept: list[dict[str, Any]], geoms: list[object], extra: list[str], source: str) -> gpd.GeoDataFrame:
    for rec in kept:
        rec["flags"] = ";".join(sorted(set(rec["flags"])))
        rec.pop("_pos", None)
    columns = [*_SITE_OUT_COLUMNS, *extra, *(c for c in _CODE_COLUMNS if c not in extra), "flags"]
    out = pd.DataFrame.from_records(kept, columns=columns)
    out["area_ha"] = pd.to_numeric(out["area_ha"], errors="coerce").astype(float)
    out["precision_m"] = pd.to_numeric(out["precision_m"], errors="coerce").astype(float)
    sites = gpd.GeoDataFrame(out, geometry=gpd.GeoSeries(geoms, crs=WGS84), crs=WGS84)
    sites.attrs["provenance"] = {"layer": "sites", "built_from": source, "crs": WGS84}
    return sites


_TEXT_COLUMNS = ("site_id", "name", "phase", "status", "commune", "district", "source", "notes")


def _capped(value: object, column: str, flags: list[str]) -> str:
    """NFC text cut to :data:`vpgeo.io.MAX_TEXT` characters (flagged), so no cell can bloat maps and tables."""
    from vpgeo.io import MAX_TEXT

    text = nfc(value)
    if len(text) <= MAX_TEXT:
        return text
    flags.append(f"{column} truncated from {len(text):,} to {MAX_TEXT:,} characters")
    return text[: MAX_TEXT - 1] + "…"


def _repaired(geoms: gpd.GeoSeries) -> tuple[gpd.GeoSeries, dict[int, str]]:
    """Invalid geometries made valid (keeping their dimension); {position: flag} for each one."""
    values = list(geoms)
    flags: dict[int, str] = {}
    for i, g in enumerate(values):
        if g is None or not isinstance(g, shapely.Geometry) or g.is_empty or g.is_valid:
            continue
        reason = shapely.is_valid_reason(g)
        try:
            fixed = shapely.make_valid(g, method="structure", keep_collapsed=False)
        except shapely.errors.GEOSException:  # e.g. NaN coordinates
            fixed = None
        if fixed is None or fixed.is_empty:
            values[i] = None
            flags[i] = f"invalid geometry ({reason}) could not be repaired: no geometry"
        else:
            values[i] = fixed
            flags[i] = f"invalid geometry ({reason}) repaired with make_valid"
    if not flags:
        return geoms, flags
    return gpd.GeoSeries(values, index=geoms.index, crs=geoms.crs), flags


def _place_by_commune(
    communes: str, district: str, flags: list[str]
) -> tuple[Point | None, float | None, dict[str, Any]]:
    """Position of a user's commune(s) through the geocoder's resolver (:func:`vpgeo.geocoding.match_name`).

    Legacy names, former names, 2025 names and near-misses ("Hội Thịng") resolve as the geocoder resolves
    them; several names give the mean point with a precision covering each. Returns (None, None, {}) and a
    flag when a name cannot be resolved. The codes returned let :func:`vpgeo.regions.site_regions` draw the
    region from the communes' polygons.
    """
    hits = _hits_by_name(communes, district, flags)
    if hits is None and "," in communes:
        hits = _hit_by_address(communes, district, flags)
    if not hits:
        return None, None, {}
    geom, precision = _mean_position(
        [Point(float(h["lon"]), float(h["lat"])) for h in hits], [float(h["precision_m"]) for h in hits]
    )
    legacy = [h for h in hits if h["commune_code"]]
    codes = {
        # a 2025 name has no legacy commune: its region is the whole 2025 commune
        "commune": ";".join(_unique(str(h["commune"]) for h in legacy)) or None,
        "commune_code": ";".join(_unique(str(h["commune_code"]) for h in legacy)) if len(legacy) == len(hits) else None,
        "commune_2025": ";".join(_unique(str(h["commune_2025"]) for h in hits)),
        "commune_2025_code": ";".join(_unique(str(h["commune_2025_code"]) for h in hits)),
        "district": ";".join(_unique(str(h["district"]) for h in hits if h["district"])) or None,
    }
    return geom, precision, codes


_PLACED = ("exact", "fuzzy", "historical")


def _hits_by_name(communes: str, district: str, flags: list[str]) -> list[dict[str, Any]] | None:
    """Each name of a ``;``/``,`` separated list resolved as a commune; None (and a flag) if one is not."""
    from vpgeo.geocoding import match_name

    hits: list[dict[str, Any]] = []
    for name in _unique(n.strip() for n in re.split(r"[;,]", communes) if n.strip()):
        m = match_name(name, district=district, mode="commune")
        if m["match_status"] not in _PLACED or not m["commune_2025_code"]:
            flags.append("commune_ambiguous" if m["match_status"] == "ambiguous" else "commune_unknown")
            return None
        flags.extend(
            {"fuzzy": ["commune_fuzzy_match"], "historical": ["commune_former_name"]}.get(m["match_status"], [])
        )
        hits.append(m)
    return hits


def _hit_by_address(text: str, district: str, flags: list[str]) -> list[dict[str, Any]] | None:
    """A commune column holding an address ("xã Đạo Tú, huyện Tam Dương") read once as a whole address."""
    from vpgeo.geocoding import match_name

    m = match_name(text, district=district)
    if m["match_status"] not in _PLACED or not m["commune_2025_code"] or not math.isfinite(float(m["lon"])):
        return None
    flags[:] = [f for f in flags if f not in ("commune_unknown", "commune_ambiguous")] + ["commune_from_address"]
    return [m]


def _mean_position(points: Sequence[Point], precisions: Sequence[float]) -> tuple[Point, float]:
    """Mean of points (in EPSG:5897) and a precision covering each point's own disc."""
    if len(points) == 1:
        return points[0], float(precisions[0])
    metric = to_metric(gpd.GeoSeries(list(points), crs=WGS84), operation="site position", warn=False)
    mean = Point(float(metric.x.mean()), float(metric.y.mean()))
    reach = max(mean.distance(p) + prec for p, prec in zip(metric, precisions, strict=True))
    back = to_wgs84(gpd.GeoSeries([mean], crs=metric.crs))
    return back.iloc[0], float(_round_up(reach))


def _strip_kind(name: object) -> str:
    """The site name without a leading KCN/CCN word, for generated ids."""
    text = _plain(name)
    return _KIND_PREFIX.sub("", text).strip() or text
