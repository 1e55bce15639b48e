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

import numpy as np
import pandas as pd
from pyproj import Transformer

from vpgeo.text import key, nfc

__all__ = ["PROVINCE_CODE", "SOURCE", "communes_2025", "districts", "legacy_communes"]

PROVINCE_CODE = "26"
NEW_PROVINCE_CODE = "25"
SOURCE = "vietnamadminunits 1.0.4 (PyPI, MIT): dataset.db, converter_2025.json"
# Geocoded points are not centroids; allow for elongated units beyond the equal-area radius.
_ELONGATION = 1.5

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
    district_bbox = dict(zip(_districts()["code"], _districts()["bbox"], strict=True))

    dup = out.duplicated(["gazetteer_lon", "gazetteer_lat"], keep=False)
    status, lon, lat, prec = [], [], [], []
    for i, row in out.iterrows():
        x, y = row["gazetteer_lon"], row["gazetteer_lat"]
        pminx, pminy, pmaxx, pmaxy = province_bbox
        dminx, dminy, dmaxx, dmaxy = district_bbox[row["district_code"]]
        pad = 0.01  # ~1 km: bboxes are rounded geocoder extents
        if not (pminx <= x <= pmaxx and pminy <= y <= pmaxy):
            flag = "outside_province"
        elif not (dminx - pad <= x <= dmaxx + pad and dminy - pad <= y <= dmaxy + pad):
            flag = "outside_district"
        elif dup.iloc[i]:
            flag = "shared_point"
        else:
            flag = "ok"
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
    out["area_km2_est"] = np.round(area_est, 2)
    out["key"] = out["short"].map(key)
    out["source"] = SOURCE
    return out


def legacy_communes() -> pd.DataFrame:
    """The 121 communes, wards and towns of Vĩnh Phúc before 1 July 2025.

    Columns: ``code``, ``name``, ``short``, ``type``, ``district_code``, ``district``, ``district_short``,
    ``lon``/``lat`` (the point vpgeo trusts), ``gazetteer_lon``/``gazetteer_lat`` (the package's point),
    ``point_status`` (``ok``, ``outside_province``, ``outside_district`` or ``shared_point``; when not
    ``ok`` the point is that of the 2025 commune), ``precision_m``, ``bbox``, ``area_km2_est``,
    ``historical_keys`` (folded names of communes merged into this one before 2025),
    ``commune_2025_code``, ``commune_2025``, ``source``.

    Examples
    --------
    >>> c = legacy_communes().set_index("name")
    >>> c.loc["Xã Lương Điền", "point_status"]
    'outside_province'
    >>> c.loc["Xã Duy Phiên", "commune_2025"], c.loc["Phường Khai Quang", "commune_2025"]
    ('Xã Hội Thịnh', 'Phường Vĩnh Phúc')
    """
    return _legacy_communes().copy()
