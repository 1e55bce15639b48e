"""The name index: every legacy commune, 2025 commune and district, and the names elsewhere in Viet Nam."""

from __future__ import annotations

import math
import re
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
    pt_legacy: dict[str, str]  # legacy communes of the old Phú Thọ province -> label
    fuzzy_commune: _Fuzzy
    fuzzy_district: _Fuzzy
    fuzzy_province: _Fuzzy
    by_code: dict[str, int] = field(default_factory=dict)


def _package_db() -> sqlite3.Connection:
    path = resources.files("vietnamadminunits") / "data" / "dataset.db"
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


_PAREN = re.compile(r"\s*\([^)]*\)\s*$")


@dataclass
class _Elsewhere:
    """Names of units outside the former Vĩnh Phúc, from the package's national tables."""

    province: dict[str, str] = field(default_factory=dict)  # key -> display name
    district: dict[str, str] = field(default_factory=dict)  # key -> "Quận Ba Đình (Hà Nội)"
    district_tonal: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    pt_other: dict[str, str] = field(default_factory=dict)  # 2025 Phú Thọ communes outside the former province
    names: dict[str, str] = field(default_factory=dict)  # commune/district keys -> an example
    tonal: dict[str, str] = field(default_factory=dict)  # tonal keys -> an example
    pt_legacy: dict[str, str] = field(default_factory=dict)  # legacy communes of the old Phú Thọ province


def _our_units() -> tuple[list[_Unit], dict[str, list[tuple[int, str]]], dict[str, int]]:
    """Every legacy commune, 2025 commune and district, with the commune and district name keys."""
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
        communes[_ckey(r.short)].append((len(units), "own"))
        for h in r.historical_keys:
            communes[h.replace("y", "i")].append((len(units), "historical"))
        units.append(
            _Unit(
                "legacy", str(r.code), r.name, r.type, str(r.district_code), r.district, str(r.commune_2025_code),
                r.commune_2025, float(r.lon), float(r.lat), float(r.precision_m), tonal=_tkey(r.short),
            )
        )  # fmt: skip
    for r in new.itertuples(index=False):
        dcodes = districts_2025[str(r.code)]
        dcode = next(iter(dcodes)) if len(dcodes) == 1 else None
        communes[_ckey(r.short)].append((len(units), "own"))
        units.append(
            _Unit(
                "c2025", str(r.code), r.name, r.type, dcode, dist_name.get(dcode or ""), str(r.code), r.name,
                float(r.lon), float(r.lat), float(r.precision_m), tuple(members_2025[str(r.code)]),
                tonal=_tkey(r.short),
            )
        )  # fmt: skip
    for r in dist.itertuples(index=False):
        minx, miny, maxx, maxy = r.bbox
        half_diag = math.hypot((maxx - minx) * 104_000, (maxy - miny) * 111_000) / 2
        districts[_ckey(r.short)] = len(units)
        units.append(
            _Unit(
                "district", str(r.code), r.name, r.type, str(r.code), r.name, None, None, float(r.lon),
                float(r.lat), float(math.ceil(half_diag / 100) * 100), tuple(members_district[str(r.code)]),
                tonal=_tkey(r.short),
            )
        )  # fmt: skip
    return units, communes, districts


def _elsewhere(ours_2025: set[str]) -> _Elsewhere:
    out = _Elsewhere()
    with _package_db() as conn:
        for (short,) in conn.execute(
            "SELECT DISTINCT provinceShort FROM admin_units_legacy UNION SELECT DISTINCT provinceShort FROM admin_units"
        ):
            out.province[_ckey(short)] = short
        for d_type, d_short, p_short, p_code in conn.execute(
            "SELECT DISTINCT districtType, districtShort, provinceShort, provinceCode FROM admin_units_legacy"
        ):
            if p_code != gazetteer.PROVINCE_CODE:
                d_short = _PAREN.sub("", d_short)  # "Long Mỹ (Thị xã)": the package's own disambiguation
                out.district.setdefault(_ckey(d_short), f"{d_type} {d_short} ({p_short})")
                out.district_tonal[_ckey(d_short)].add(_tkey(d_short))
                out.tonal.setdefault(_tkey(d_short), f"{d_type} {d_short} ({p_short})")
        for ward, short, code in conn.execute(
            "SELECT ward, wardShort, wardCode FROM admin_units WHERE provinceCode = ?",
            (gazetteer.NEW_PROVINCE_CODE,),
        ):
            if code not in ours_2025:
                out.pt_other[_ckey(short)] = f"{ward} (Phú Thọ)"
        for ward, short, p_short, code in conn.execute(
            "SELECT ward, wardShort, provinceShort, wardCode FROM admin_units_legacy WHERE provinceCode != ? "
            "UNION ALL SELECT ward, wardShort, provinceShort, wardCode FROM admin_units",
            (gazetteer.PROVINCE_CODE,),
        ):
            if short and code not in ours_2025:
                short = _PAREN.sub("", short)
                out.names.setdefault(_ckey(short), f"{ward} ({p_short})")
                out.tonal.setdefault(_tkey(short), f"{ward} ({p_short})")
        for ward, short, d_name in conn.execute(
            "SELECT ward, wardShort, district FROM admin_units_legacy WHERE provinceCode = ?",
            (gazetteer.NEW_PROVINCE_CODE,),
        ):
            if short:
                out.pt_legacy.setdefault(_ckey(_PAREN.sub("", short)), f"{ward} ({d_name}, Phú Thọ)")
    return out


@lru_cache(maxsize=1)
def _index() -> _Index:
    units, communes, districts = _our_units()
    other = _elsewhere({u.code for u in units if u.level == "c2025"})
    province_ours = {"vinhphuc": "legacy", "phutho": "2025"}
    for k in province_ours:
        other.province.pop(k, None)
    other.province.update({"hcm": "Hồ Chí Minh", "tphcm": "Hồ Chí Minh", "saigon": "Hồ Chí Minh", "hn": "Hà Nội"})
    # Mê Linh belonged to Vĩnh Phúc until 2008; it is Hà Nội's now.
    keys = [*communes, *districts, *province_ours, *other.province, *other.district, *other.pt_other]
    idx = _Index(
        units=units,
        communes=dict(communes),
        districts=districts,
        province_ours=province_ours,
        province_other=other.province,
        district_other=other.district,
        pt_other=other.pt_other,
        elsewhere={k: v for k, v in other.names.items() if k not in communes},
        all_keys=frozenset(keys),
        elsewhere_tonal=other.tonal,
        district_other_tonal=dict(other.district_tonal),
        pt_legacy=other.pt_legacy,
        fuzzy_commune=_Fuzzy(communes),
        fuzzy_district=_Fuzzy(districts),
        fuzzy_province=_Fuzzy([*province_ours, *other.province]),
    )
    idx.by_code = {f"{u.level}:{u.code}": i for i, u in enumerate(units)}
    return idx
