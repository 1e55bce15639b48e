"""The name index: every legacy commune, 2025 commune and district, and the names elsewhere in Viet Nam."""

from __future__ import annotations

import math
import sqlite3
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

from vpgeo import gazetteer
from vpgeo.geocoding._fuzzy import _Fuzzy
from vpgeo.geocoding._tokens import _ckey, _tkey

# ----------------------------------------------------------------------------------------------- index


@dataclass(frozen=True)
class _Unit:
    """One place a name can resolve to."""

    level: str  # "legacy" | "c2025" | "district"
    code: str
    name: str
    type: str
    district_code: str | None
    district: str | None
    commune_2025_code: str | None
    commune_2025: str | None
    lon: float
    lat: float
    precision_m: float
    members: tuple[str, ...] = ()  # legacy codes inside a 2025 commune / district
    tonal: str = ""  # tonal key of its short name (see _tkey)

    def label(self) -> str:
        if self.level == "legacy" and self.district:
            return f"{self.name} ({_short_district(self.district)})"
        if self.level == "c2025":
            return f"{self.name} (2025)"
        return self.name


def _short_district(name: str) -> str:
    for prefix in ("Thành phố ", "Huyện ", "Thị xã "):
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


@dataclass
class _Index:
    units: list[_Unit]
    communes: dict[str, list[tuple[int, str]]]  # key -> [(unit id, "own"|"historical")]
    districts: dict[str, int]  # key -> unit id
    province_ours: dict[str, str]  # key -> "legacy" | "2025"
    province_other: dict[str, str]  # key -> display name
    district_other: dict[str, str]  # key -> "Quận Ba Đình (Hà Nội)"
    pt_other: dict[str, str]  # 2025 Phú Thọ communes outside the former Vĩnh Phúc
    elsewhere: dict[str, str]  # keys of commune/district names elsewhere in Viet Nam -> an example
    all_keys: frozenset[str]
    elsewhere_tonal: dict[str, str]  # tonal keys of unit names outside the former province -> an example
    district_other_tonal: dict[str, set[str]]  # key of a district elsewhere -> its names' tonal keys
    fuzzy_commune: _Fuzzy
    fuzzy_district: _Fuzzy
    fuzzy_province: _Fuzzy
    by_code: dict[str, int] = field(default_factory=dict)


def _package_db() -> sqlite3.Connection:
    path = resources.files("vietnamadminunits") / "data" / "dataset.db"
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


@lru_cache(maxsize=1)
def _index() -> _Index:
    legacy = gazetteer.legacy_communes()
    new = gazetteer.communes_2025()
    dist = gazetteer.districts()
    units: list[_Unit] = []
    communes: dict[str, list[tuple[int, str]]] = defaultdict(list)
    districts: dict[str, int] = {}
    members_2025: dict[str, list[str]] = defaultdict(list)
    districts_2025: dict[str, set[str]] = defaultdict(set)
    members_district: dict[str, list[str]] = defaultdict(list)
    for r in legacy.itertuples(index=False):
        members_2025[str(r.commune_2025_code)].append(str(r.code))
        districts_2025[str(r.commune_2025_code)].add(str(r.district_code))
        members_district[str(r.district_code)].append(str(r.code))
    dist_name = dict(zip(dist["code"].astype(str), dist["name"], strict=True))
    for r in legacy.itertuples(index=False):
        uid = len(units)
        units.append(
            _Unit(
                "legacy",
                str(r.code),
                r.name,
                r.type,
                str(r.district_code),
                r.district,
                str(r.commune_2025_code),
                r.commune_2025,
                float(r.lon),
                float(r.lat),
                float(r.precision_m),
                tonal=_tkey(r.short),
            )
        )
        communes[_ckey(r.short)].append((uid, "own"))
        for h in r.historical_keys:
            communes[h.replace("y", "i")].append((uid, "historical"))
    for r in new.itertuples(index=False):
        uid = len(units)
        dcodes = districts_2025[str(r.code)]
        dcode = next(iter(dcodes)) if len(dcodes) == 1 else None
        units.append(
            _Unit(
                "c2025",
                str(r.code),
                r.name,
                r.type,
                dcode,
                dist_name.get(dcode or ""),
                str(r.code),
                r.name,
                float(r.lon),
                float(r.lat),
                float(r.precision_m),
                tuple(members_2025[str(r.code)]),
                tonal=_tkey(r.short),
            )
        )
        communes[_ckey(r.short)].append((uid, "own"))
    for r in dist.itertuples(index=False):
        uid = len(units)
        minx, miny, maxx, maxy = r.bbox
        half_diag = math.hypot((maxx - minx) * 104_000, (maxy - miny) * 111_000) / 2
        units.append(
            _Unit(
                "district",
                str(r.code),
                r.name,
                r.type,
                str(r.code),
                r.name,
                None,
                None,
                float(r.lon),
                float(r.lat),
                float(math.ceil(half_diag / 100) * 100),
                tuple(members_district[str(r.code)]),
                tonal=_tkey(r.short),
            )
        )
        districts[_ckey(r.short)] = uid

    province_other: dict[str, str] = {}
    district_other: dict[str, str] = {}
    pt_other: dict[str, str] = {}
    elsewhere: dict[str, str] = {}
    tonal: dict[str, str] = {}
    district_other_tonal: dict[str, set[str]] = defaultdict(set)
    ours_2025 = set(new["code"].astype(str))
    with _package_db() as conn:
        for (short,) in conn.execute(
            "SELECT DISTINCT provinceShort FROM admin_units_legacy UNION SELECT DISTINCT provinceShort FROM admin_units"
        ):
            province_other[_ckey(short)] = short
        for d_type, d_short, p_short, p_code in conn.execute(
            "SELECT DISTINCT districtType, districtShort, provinceShort, provinceCode FROM admin_units_legacy"
        ):
            if p_code != gazetteer.PROVINCE_CODE:
                district_other.setdefault(_ckey(d_short), f"{d_type} {d_short} ({p_short})")
                district_other_tonal[_ckey(d_short)].add(_tkey(d_short))
        for ward, short, code in conn.execute(
            "SELECT ward, wardShort, wardCode FROM admin_units WHERE provinceCode = ?",
            (gazetteer.NEW_PROVINCE_CODE,),
        ):
            if code not in ours_2025:
                pt_other[_ckey(short)] = f"{ward} (Phú Thọ)"
        for ward, short, p_short in conn.execute(
            "SELECT ward, wardShort, provinceShort FROM admin_units_legacy WHERE provinceCode != ? "
            "UNION ALL SELECT ward, wardShort, provinceShort FROM admin_units",
            (gazetteer.PROVINCE_CODE,),
        ):
            if short:
                elsewhere.setdefault(_ckey(short), f"{ward} ({p_short})")
                tonal.setdefault(_tkey(short), f"{ward} ({p_short})")
        for d_type, d_short, p_short, p_code in conn.execute(
            "SELECT DISTINCT districtType, districtShort, provinceShort, provinceCode FROM admin_units_legacy"
        ):
            if p_code != gazetteer.PROVINCE_CODE:
                tonal.setdefault(_tkey(d_short), f"{d_type} {d_short} ({p_short})")
    province_ours = {"vinhphuc": "legacy", "phutho": "2025"}
    for k in province_ours:
        province_other.pop(k, None)
    province_other.update({"hcm": "Hồ Chí Minh", "tphcm": "Hồ Chí Minh", "saigon": "Hồ Chí Minh", "hn": "Hà Nội"})
    # Mê Linh belonged to Vĩnh Phúc until 2008; it is Hà Nội's now.
    all_keys = frozenset([*communes, *districts, *province_ours, *province_other, *district_other, *pt_other])
    idx = _Index(
        units=units,
        communes=dict(communes),
        districts=districts,
        province_ours=province_ours,
        province_other=province_other,
        district_other=district_other,
        pt_other=pt_other,
        elsewhere={k: v for k, v in elsewhere.items() if k not in communes},
        all_keys=all_keys,
        elsewhere_tonal=tonal,
        district_other_tonal=dict(district_other_tonal),
        fuzzy_commune=_Fuzzy(communes),
        fuzzy_district=_Fuzzy(districts),
        fuzzy_province=_Fuzzy([*province_ours, *province_other]),
    )
    idx.by_code = {f"{u.level}:{u.code}": i for i, u in enumerate(units)}
    return idx
