"""Vĩnh Phúc's administrative units from the MIT gazetteer in the PyPI package ``vietnamadminunits``.

Three tables, each a :class:`pandas.DataFrame` with codes, NFC names and points (EPSG:4326):

- :func:`districts`: the 9 district-level units before 1 July 2025 (the plan's language);
- :func:`legacy_communes`: their 121 communes, wards and towns, with historical names merged into them
  and the 2025 commune each became part of;
- :func:`communes_2025`: the 36 communes and wards of Phú Thọ that cover the former province.

The package's points are geocoder output, not surveyed centroids. Points that fall outside the province,
outside their district's extent, or that several communes share are flagged in ``point_status`` and
replaced by the point of the 2025 commune they belong to, with the precision that follows.

Examples
--------
>>> len(districts()), len(legacy_communes()), len(communes_2025())
(9, 121, 36)
>>> row = legacy_communes().set_index("name").loc["Thị trấn Hương Canh"]
>>> row["district"], row["commune_2025"]
('Huyện Bình Xuyên', 'Xã Bình Nguyên')
"""

from __future__ import annotations

import json
import math
import sqlite3
from functools import lru_cache
from importlib import resources

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.geometry
from pyproj import Transformer

from vpgeo.text import key, nfc

__all__ = ["PROVINCE_CODE", "SOURCE", "check_points", "communes_2025", "districts", "legacy_communes", "point_ok"]

PROVINCE_CODE = "26"
NEW_PROVINCE_CODE = "25"
SOURCE = "vietnamadminunits 1.0.4 (PyPI, MIT): dataset.db, converter_2025.json"
# Geocoded points are not centroids; allow for elongated units beyond the equal-area radius.
_ELONGATION = 1.5
# A legacy commune lies inside its 2025 commune: a point farther than this many equal-area radii from the
# 2025 commune's point cannot be its own (measured: 119 of 121 points lie within 1.7 radii; Tây Sơn 4.0,
# Lương Điền 25.9).
_FAR_RADII = 3.0
_TOLERANCE_M = 200.0  # official polygons are generalised; closer than this to one counts as inside

_to_metric = Transformer.from_crs("EPSG:4326", "EPSG:5897", always_xy=True)


def _db() -> sqlite3.Connection:
    path = resources.files("vietnamadminunits") / "data" / "dataset.db"
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    return conn


def _bounds(text: str | None) -> tuple[float, float, float, float]:
    """'lat1,lon1 – lat2,lon2' → (minx, miny, maxx, maxy)."""
    if not text:
        return (math.nan,) * 4  # type: ignore[return-value]
    a, b = (part.strip() for part in text.split("–"))
    lat1, lon1 = (float(v) for v in a.split(","))
    lat2, lon2 = (float(v) for v in b.split(","))
    return (min(lon1, lon2), min(lat1, lat2), max(lon1, lon2), max(lat1, lat2))


def _aliases(text: object, own: str) -> list[str]:
    """Keys (see :func:`vpgeo.text.key`) of names merged into a unit, without its own name."""
    if not isinstance(text, str):
        return []
    out: list[str] = []
    for name in json.loads(text):
        for prefix in ("thitran", "phuong", "xa"):
            if name.startswith(prefix):
                name = name[len(prefix) :]
                break
        if name != own and name not in out:
            out.append(name)
    return out


def _round_up(metres: float, step: int = 100) -> int:
    return int(math.ceil(metres / step) * step)


@lru_cache(maxsize=1)
def _legacy_rows() -> pd.DataFrame:
    with _db() as conn:
        rows = conn.execute(
            "SELECT * FROM admin_units_legacy WHERE provinceCode = ? ORDER BY wardCode", (PROVINCE_CODE,)
        ).fetchall()
    return pd.DataFrame([dict(r) for r in rows])


@lru_cache(maxsize=1)
def _new_rows() -> pd.DataFrame:
    conv_path = resources.files("vietnamadminunits") / "data" / "converter_2025.json"
    conv = json.loads(conv_path.read_text(encoding="utf-8"))
    groups = conv["DICT_PROVINCE_WARD_NO_DIVIDED"]["tinhphutho"]
    legacy_to_new = {old: new for new, olds in groups.items() for old in olds if old.startswith("tinhvinhphuc_")}
    with _db() as conn:
        rows = conn.execute("SELECT * FROM admin_units WHERE provinceCode = ?", (NEW_PROVINCE_CODE,)).fetchall()
    new = pd.DataFrame([dict(r) for r in rows])
    new = new[new["wardKey"].isin(set(legacy_to_new.values()))].copy()
    new.attrs["legacy_to_new"] = legacy_to_new
    return new


@lru_cache(maxsize=1)
def _communes_2025() -> pd.DataFrame:
    new = _new_rows()
    out = pd.DataFrame(
        {
            "code": new["wardCode"],
            "name": new["ward"].map(nfc),
            "short": new["wardShort"].map(nfc),
            "type": new["wardType"],
            "lon": new["wardLon"].astype(float),
            "lat": new["wardLat"].astype(float),
            "area_km2": new["wardAreaKm2"].astype(float),
            "key": new["wardShort"].map(key),
            "_pkg_key": new["wardKey"],
        }
    )
    r = np.sqrt(out["area_km2"] * 1e6 / math.pi) * _ELONGATION
    out["precision_m"] = [_round_up(v) for v in r]
    out["source"] = SOURCE
    return out.sort_values("code").reset_index(drop=True)


def communes_2025() -> pd.DataFrame:
    """The 36 communes and wards (``xã``/``phường``) of 2025 covering the former Vĩnh Phúc.

    Columns: ``code`` (GSO 2025 code), ``name``, ``short``, ``type``, ``lon``, ``lat``, ``area_km2``,
    ``precision_m`` (how far a site placed at the point may be from the truth), ``key``, ``source``.

    Examples
    --------
    >>> c = communes_2025()
    >>> round(c["area_km2"].sum())  # the province's official 1,236 km²
    1236
    """
    return _communes_2025().copy()


@lru_cache(maxsize=1)
def _districts() -> pd.DataFrame:
    legacy = _legacy_rows()
    first = legacy.drop_duplicates("districtCode")
    bounds = first["districtBounds"].map(_bounds)
    return pd.DataFrame(
        {
            "code": first["districtCode"].to_numpy(),
            "name": first["district"].map(nfc).to_numpy(),
            "short": first["districtShort"].map(nfc).to_numpy(),
            "type": first["districtType"].to_numpy(),
            "lon": first["districtLon"].astype(float).to_numpy(),
            "lat": first["districtLat"].astype(float).to_numpy(),
            "bbox": list(bounds),
            "source": SOURCE,
        }
    ).sort_values("code", ignore_index=True)


def districts() -> pd.DataFrame:
    """The 9 district-level units of Vĩnh Phúc before 1 July 2025 (abolished since; the plan uses them).

    Examples
    --------
    >>> sorted(districts()["short"])[:3]
    ['Bình Xuyên', 'Lập Thạch', 'Phúc Yên']
    """
    return _districts().copy()


_NOTES = {
    "ok": "",
    "outside_province": "the package's point lies outside the province; the 2025 commune's point is used",
    "outside_district": "the package's point lies outside its district's extent; the 2025 commune's point is used",
    "outside_district_polygon": (
        "the package's point lies outside its district's outline (beyond the outline's precision); the 2025 "
        "commune's point is used"
    ),
    "far_from_2025_commune": (
        "the package's point lies more than 3 equal-area radii from its 2025 commune's point (in another "
        "commune); the 2025 commune's point is used"
    ),
    "shared_point": "several communes share the package's point; the 2025 commune's point is used",
    "outside_official_2025_commune": "the package's point lies outside its 2025 commune's official polygon",
}


def _point_flags(out: pd.DataFrame, new: pd.DataFrame, province_bbox: tuple[float, ...]) -> list[str]:
    """Each legacy point's verdict: the first check it fails, or ``ok`` (see :func:`check_points`)."""
    district_bbox = dict(zip(_districts()["code"], _districts()["bbox"], strict=True))
    dup = out.duplicated(["gazetteer_lon", "gazetteer_lat"], keep=False).to_numpy()
    px, py = _to_metric.transform(out["gazetteer_lon"].to_numpy(), out["gazetteer_lat"].to_numpy())
    c25 = new.loc[out["commune_2025_code"]]
    nx, ny = _to_metric.transform(c25["lon"].to_numpy(), c25["lat"].to_numpy())
    radius = np.sqrt(c25["area_km2"].to_numpy() * 1e6 / math.pi)
    far_off = np.hypot(px - nx, py - ny) > _FAR_RADII * radius
    off_district = _off_district_polygon(out, np.asarray(px), np.asarray(py))
    pminx, pminy, pmaxx, pmaxy = province_bbox
    pad = 0.01  # ~1 km: bboxes are rounded geocoder extents
    flags = []
    for i, (x, y, dcode) in enumerate(
        zip(out["gazetteer_lon"], out["gazetteer_lat"], out["district_code"], strict=True)
    ):
        dminx, dminy, dmaxx, dmaxy = district_bbox[dcode]
        checks = (
            ("outside_province", not (pminx <= x <= pmaxx and pminy <= y <= pmaxy)),
            ("outside_district", not (dminx - pad <= x <= dmaxx + pad and dminy - pad <= y <= dmaxy + pad)),
            ("outside_district_polygon", off_district[i]),
            ("far_from_2025_commune", far_off[i]),
            ("shared_point", dup[i]),
        )
        flags.append(next((name for name, failed in checks if failed), "ok"))
    return flags


def _off_district_polygon(out: pd.DataFrame, px: np.ndarray, py: np.ndarray) -> np.ndarray:
    """Points farther from their district's shipped outline (Who's On First) than its precision."""
    from vpgeo._data import data_file  # the shipped district outlines (CC0), not derived from these points

    raw = json.loads(data_file("boundaries/districts_approximate.geojson").read_text(encoding="utf-8"))
    shapes = {}
    for f in raw["features"]:
        geom = shapely.geometry.shape(f["geometry"])
        metric = shapely.transform(geom, lambda xy: np.column_stack(_to_metric.transform(xy[:, 0], xy[:, 1])))
        shapes[str(f["properties"]["code"])] = (metric, f["properties"])
    off = np.zeros(len(out), dtype=bool)
    for i, code in enumerate(out["district_code"]):
        geom, props = shapes[str(code)]
        off[i] = shapely.distance(geom, shapely.Point(px[i], py[i])) > float(props.get("precision_m") or 0)
    return off


@lru_cache(maxsize=1)
def _legacy_communes() -> pd.DataFrame:
    legacy = _legacy_rows()
    new = _communes_2025().set_index("_pkg_key")
    legacy_to_new = _new_rows().attrs["legacy_to_new"]
    province_bbox = _bounds(legacy["provinceBounds"].iloc[0])
    out = pd.DataFrame(
        {
            "code": legacy["wardCode"],
            "name": legacy["ward"].map(nfc),
            "short": legacy["wardShort"].map(nfc),
            "type": legacy["wardType"],
            "district_code": legacy["districtCode"],
            "district": legacy["district"].map(nfc),
            "district_short": legacy["districtShort"].map(nfc),
            "gazetteer_lon": legacy["wardLon"].astype(float),
            "gazetteer_lat": legacy["wardLat"].astype(float),
            "bbox": legacy["wardBounds"].map(_bounds),
            "historical_keys": [
                _aliases(a, key(n)) for a, n in zip(legacy["wardAlias"], legacy["wardShort"], strict=True)
            ],
        }
    )
    keys = "tinhvinhphuc_" + legacy["districtKey"] + "_" + legacy["wardKey"]
    new_keys = keys.map(legacy_to_new)
    out["commune_2025_code"] = new_keys.map(new["code"]).to_numpy()
    out["commune_2025"] = new_keys.map(new["name"]).to_numpy()

    # Share of the 2025 commune's area, for an equal-area radius when the package's bbox is unusable.
    siblings = out.groupby("commune_2025_code")["code"].transform("count")
    area_est = new_keys.map(new["area_km2"]).to_numpy() / siblings.to_numpy()

    flags = _point_flags(out, new.set_index("code"), province_bbox)
    status, lon, lat, prec = [], [], [], []
    for i, row in out.iterrows():
        x, y = row["gazetteer_lon"], row["gazetteer_lat"]
        flag = flags[i]
        if flag == "ok":
            px, py = _to_metric.transform(x, y)
            minx, miny, maxx, maxy = row["bbox"]
            cx, cy = _to_metric.transform([minx, maxx, minx, maxx], [miny, miny, maxy, maxy])
            bbox_area = (max(cx) - min(cx)) * (max(cy) - min(cy)) / 1e6
            if 0.5 * area_est[i] <= bbox_area <= 3.0 * area_est[i]:
                far = max(math.hypot(px - qx, py - qy) for qx, qy in zip(cx, cy, strict=True))
            else:
                far = math.sqrt(area_est[i] * 1e6 / math.pi) * _ELONGATION
            status.append(flag)
            lon.append(x)
            lat.append(y)
            prec.append(_round_up(far))
        else:
            fallback = new.loc[new_keys.iloc[i]]
            status.append(flag)
            lon.append(float(fallback["lon"]))
            lat.append(float(fallback["lat"]))
            prec.append(int(fallback["precision_m"]))
    out["lon"], out["lat"], out["precision_m"], out["point_status"] = lon, lat, prec, status
    out["point_ok"] = out["point_status"] == "ok"
    out["point_note"] = [_NOTES[s_] for s_ in status]
    out["area_km2_est"] = np.round(area_est, 2)
    out["key"] = out["short"].map(key)
    out["source"] = SOURCE
    return out


def legacy_communes() -> pd.DataFrame:
    """The 121 communes, wards and towns of Vĩnh Phúc before 1 July 2025.

    Columns: ``code``, ``name``, ``short``, ``type``, ``district_code``, ``district``, ``district_short``,
    ``lon``/``lat`` (the point vpgeo trusts), ``gazetteer_lon``/``gazetteer_lat`` (the package's point),
    ``point_status`` (``ok``, ``outside_province``, ``outside_district`` (its bounding box),
    ``outside_district_polygon`` (its shipped outline), ``far_from_2025_commune`` or ``shared_point``;
    when not ``ok`` the point is that of the 2025 commune), ``point_ok`` (bool) and ``point_note`` (why
    not, in words), ``precision_m``, ``bbox``, ``area_km2_est``,
    ``historical_keys`` (folded names of communes merged into this one before 2025),
    ``commune_2025_code``, ``commune_2025``, ``source``.

    Examples
    --------
    >>> c = legacy_communes().set_index("name")
    >>> c.loc["Xã Lương Điền", "point_status"], c.loc["Xã Tây Sơn", "point_status"]
    ('outside_province', 'far_from_2025_commune')
    >>> c.loc["Xã Duy Phiên", "commune_2025"], c.loc["Phường Khai Quang", "commune_2025"]
    ('Xã Hội Thịnh', 'Phường Vĩnh Phúc')
    """
    return _legacy_communes().copy()


def point_ok(code: str) -> bool:
    """Whether the gazetteer's own point of legacy commune ``code`` may place anything (see :func:`check_points`).

    Examples
    --------
    >>> point_ok("08863")  # Xã Tây Sơn (Lập Thạch): its point lies 8 km off, in another commune
    False
    """
    ok = _legacy_communes().set_index("code")["point_ok"]
    return bool(ok.get(str(code), False))


def check_points(communes_2025_polygons: gpd.GeoDataFrame | None = None) -> pd.DataFrame:
    """Every legacy commune's gazetteer point checked: its status, ``point_ok`` and ``point_note``.

    Checks, in order: inside the province's and its district's extent, inside its district's outline (the
    shipped Who's On First districts, within their measured precision), within 3 equal-area radii of its 2025
    commune's point, not shared with another commune; and, when ``communes_2025_polygons`` is given (a
    GeoDataFrame with ``code`` and polygons, e.g. the official ones from
    ``vpgeo.boundaries.load_communes(source="official")``), inside its own 2025 commune's polygon (within 200 m).
    Callers place nothing from a point whose ``point_ok`` is False.
    """
    leg = _legacy_communes()
    out = leg[["code", "name", "district", "commune_2025_code", "point_status", "point_ok", "point_note"]].copy()
    if communes_2025_polygons is None:
        return out
    polys = communes_2025_polygons.to_crs("EPSG:5897").set_index("code").geometry
    px, py = _to_metric.transform(leg["gazetteer_lon"].to_numpy(), leg["gazetteer_lat"].to_numpy())
    geoms = polys.reindex(leg["commune_2025_code"].astype(str)).to_numpy()
    dist = shapely.distance(shapely.points(px, py), geoms)
    bad = out["point_ok"].to_numpy() & (np.nan_to_num(dist, nan=0.0) > _TOLERANCE_M)
    out.loc[bad, "point_ok"] = False
    out.loc[bad, "point_status"] = "outside_official_2025_commune"
    out.loc[bad, "point_note"] = _NOTES["outside_official_2025_commune"]
    return out
