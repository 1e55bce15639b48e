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
``precision_m`` is the coarsest precision of the layers used (a point closer than that to a boundary may
belong to the neighbour; ``match_note`` says when it is). A point outside every district is ``outside``.
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

import math
import re
import sqlite3
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from vpgeo import gazetteer
from vpgeo.crs import WGS84, check_crs, to_metric
from vpgeo.errors import CRSError, GeocodeError, InputError
from vpgeo.io import parse_coordinate, read_table, write_table
from vpgeo.text import nfc

__all__ = [
    "FUZZY_THRESHOLD",
    "MATCH_STATUSES",
    "OUTPUT_COLUMNS",
    "geocode",
    "geocode_file",
    "match_name",
]

FUZZY_THRESHOLD = 0.8
MATCH_STATUSES = ("exact", "fuzzy", "historical", "ambiguous", "unmatched", "outside", "empty")
OUTPUT_COLUMNS = (
    "commune",
    "commune_code",
    "district",
    "district_code",
    "commune_2025",
    "commune_2025_code",
    "lon",
    "lat",
    "precision_m",
    "match_status",
    "match_score",
    "candidates",
    "boundary_source",
    "shares",
    "match_note",
)
_MAX_SPAN = 5  # words in the longest name looked up ("Bà Rịa Vũng Tàu", "Sao Đại Việt")
_MAX_TEXT = 500  # characters of one address read; longer text is cut (and noted)

# ------------------------------------------------------------------------------------------ text keys


def _ascii(word: str) -> str:
    decomposed = unicodedata.normalize("NFD", word.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


def _ckey(text: str) -> str:
    """Compact matching key: ASCII, no spaces, ``y`` read as ``i`` (``Hợp Lý`` = ``Hợp Lí`` = ``hopli``).

    Coarser than :func:`vpgeo.text.key` on purpose: the package's keys of merged-away names are compact
    already (``lynhan``), so the y/i rule cannot look at syllables there.
    """
    return re.sub(r"[^0-9a-z]", "", _ascii(text)).replace("y", "i")


_WORD = re.compile(r"\w+")
_SEPARATORS = re.compile(r"[,;/\\|()\[\]{}\n\r\t\-–—:]+")

# Keywords, as word tuples with diacritics (always keywords) or ASCII (keywords only where no name starts).
_C, _D, _DP, _P, _SUB, _SKIP = "commune", "district", "district_or_province", "province", "sub", "skip"
_KW_VI: dict[tuple[str, ...], tuple[str, str | None]] = {
    ("xã",): (_C, "Xã"),
    ("phường",): (_C, "Phường"),
    ("thị", "trấn"): (_C, "Thị trấn"),
    ("huyện",): (_D, None),
    ("quận",): (_D, None),
    ("thị", "xã"): (_D, None),
    ("thành", "phố"): (_DP, None),
    ("tỉnh",): (_P, None),
    ("việt", "nam"): (_SKIP, None),
}
for _w in (
    "thôn",
    "xóm",
    "tổ",
    "khu",
    "ấp",
    "bản",
    "làng",
    "đường",
    "phố",
    "số",
    "ngõ",
    "ngách",
    "hẻm",
    "lô",
    "thửa",
    "dự",
    "cụm",
    "nhà",
    "tòa",
    "tầng",
    "quốc",
    "tỉnh lộ",
    "đội",
    "khối",
    "km",
):
    _KW_VI[tuple(_w.split())] = (_SUB, None)
_KW_ASCII: dict[tuple[str, ...], tuple[str, str | None]] = {
    ("xa",): (_C, "Xã"),
    ("x",): (_C, "Xã"),
    ("phuong",): (_C, "Phường"),
    ("p",): (_C, "Phường"),
    ("thi", "tran"): (_C, "Thị trấn"),
    ("tt",): (_C, "Thị trấn"),
    ("ttr",): (_C, "Thị trấn"),
    ("huyen",): (_D, None),
    ("h",): (_D, None),
    ("quan",): (_D, None),
    ("q",): (_D, None),
    ("thi", "xa"): (_D, None),
    ("tx",): (_D, None),
    ("thanh", "pho"): (_DP, None),
    ("tp",): (_DP, None),
    ("tinh",): (_P, None),
    ("viet", "nam"): (_SKIP, None),
    ("vietnam",): (_SKIP, None),
    ("vn",): (_SKIP, None),
}
for _w in (
    "thon",
    "xom",
    "to",
    "khu",
    "kp",
    "tdp",
    "ap",
    "ban",
    "lang",
    "duong",
    "pho",
    "so",
    "ngo",
    "ngach",
    "kcn",
    "ccn",
    "km",
    "ql",
    "tl",
    "dt",
    "lo",
    "thua",
    "du an",
    "cum",
    "nha",
    "toa",
    "tang",
    "quoc lo",
    "tinh lo",
    "doi",
    "khoi",
    "kdc",
    "kdt",
    "cn",
):
    _KW_ASCII[tuple(_w.split())] = (_SUB, None)
_KW_LEN = max(len(k) for k in (*_KW_VI, *_KW_ASCII))

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
    fuzzy_commune: _Fuzzy
    fuzzy_district: _Fuzzy
    fuzzy_province: _Fuzzy
    by_code: dict[str, int] = field(default_factory=dict)


class _Fuzzy:
    """Edit-distance search over a few hundred keys, pruned by a deletion-neighbourhood index.

    Every key is indexed under all its variants with up to two letters deleted; two strings within
    edit distance 2 share such a variant, so only those candidates are scored (SymSpell's idea).
    """

    def __init__(self, keys: Iterable[str]) -> None:
        self.keys = sorted(set(keys))
        self.index: dict[str, set[str]] = defaultdict(set)
        for k in self.keys:
            for v in _deletions(k, 2):
                self.index[v].add(k)

    def search(self, query: str, threshold: float) -> list[tuple[float, str]]:
        """Keys with similarity ≥ threshold, best first."""
        if not query:
            return []
        cands: set[str] = set()
        for v in _deletions(query, 2):
            cands |= self.index.get(v, set())
        out = []
        for k in cands:
            s = 1.0 - _osa(query, k) / max(len(query), len(k))
            if s >= threshold:
                out.append((s, k))
        out.sort(key=lambda t: (-t[0], t[1]))
        return out


def _deletions(word: str, depth: int) -> set[str]:
    out = {word}
    frontier = {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1 :] for w in frontier for i in range(len(w)) if len(w) > 1}
        out |= frontier
    return out


def _osa(a: str, b: str) -> int:
    """Optimal string alignment distance (Levenshtein plus adjacent transpositions).

    >>> _osa("hoithinh", "hoithnih"), _osa("telo", "tello"), _osa("abc", "")
    (1, 1, 3)
    """
    if a == b:
        return 0
    la, lb = len(a), len(b)
    if not la or not lb:
        return la or lb
    prev2: list[int] = []
    prev = list(range(lb + 1))
    for i in range(1, la + 1):
        cur = [i] + [0] * lb
        ai = a[i - 1]
        for j in range(1, lb + 1):
            cost = 0 if ai == b[j - 1] else 1
            v = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and ai == b[j - 2] and a[i - 2] == b[j - 1]:
                v = min(v, prev2[j - 2] + 1)
            cur[j] = v
        prev2, prev = prev, cur
    return prev[lb]


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
            )
        )
        districts[_ckey(r.short)] = uid

    province_other: dict[str, str] = {}
    district_other: dict[str, str] = {}
    pt_other: dict[str, str] = {}
    elsewhere: dict[str, str] = {}
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
        fuzzy_commune=_Fuzzy(communes),
        fuzzy_district=_Fuzzy(districts),
        fuzzy_province=_Fuzzy([*province_ours, *province_other]),
    )
    idx.by_code = {f"{u.level}:{u.code}": i for i, u in enumerate(units)}
    return idx


# -------------------------------------------------------------------------------------------- parsing


@dataclass
class _Token:
    key: str
    text: str
    hint: str | None
    type_hint: str | None
    seg: int
    fuzzy: float = 1.0  # similarity when found by fuzzy search


@dataclass
class _Free:
    words: list[str]
    hint: str | None
    type_hint: str | None
    seg: int
    whole_segment: bool = False


def _tokenize(text: str) -> tuple[list[_Token], list[_Free]]:
    idx = _index()
    tokens: list[_Token] = []
    free: list[_Free] = []
    for seg_no, segment in enumerate(_SEPARATORS.split(text.replace(".", " . "))):
        words = [w for w in _WORD.findall(segment.lower())]
        if not words:
            continue
        asc = [_ascii(w).replace("y", "i") for w in words]
        plain = [_ascii(w) == w for w in words]
        hint: str | None = None
        type_hint: str | None = None
        skipping = False
        run: list[str] = []
        seg_tokens_before = len(tokens)
        seg_free: list[_Free] = []

        i, n = 0, len(words)
        while i < n:
            kw = _keyword(words, i, _KW_VI)
            if kw is None:
                span = _name_span(asc, i, idx.all_keys)
                if span and not skipping:
                    _flush(run, seg_free, hint, type_hint, seg_no)
                    tokens.append(
                        _Token("".join(asc[i : i + span]), " ".join(words[i : i + span]), hint, type_hint, seg_no)
                    )
                    hint, type_hint = None, None
                    i += span
                    continue
                kw = _keyword(asc, i, _KW_ASCII)
                if kw is not None and any(not plain[j] for j in range(i, i + kw[0])):
                    kw = None  # "Phương" is a name, only an unaccented "phuong" may mean "phường"
            if kw is not None:
                length, (kind, tname) = kw
                _flush(run, seg_free, hint, type_hint, seg_no)
                if kind == _SKIP:
                    pass
                elif kind == _SUB:
                    skipping = True
                else:
                    skipping = False
                    hint, type_hint = kind, tname
                i += length
                continue
            if not skipping:
                run.append(asc[i])
            i += 1
        _flush(run, seg_free, hint, type_hint, seg_no)
        if len(seg_free) == 1 and len(tokens) == seg_tokens_before:
            seg_free[0].whole_segment = True
        free.extend(seg_free)
    return tokens, free


def _keyword(
    words: Sequence[str], i: int, table: dict[tuple[str, ...], tuple[str, str | None]]
) -> tuple[int, tuple[str, str | None]] | None:
    for length in range(min(_KW_LEN, len(words) - i), 0, -1):
        hit = table.get(tuple(words[i : i + length]))
        if hit is not None:
            return length, hit
    return None


def _flush(run: list[str], out: list[_Free], hint: str | None, type_hint: str | None, seg: int) -> None:
    if run:
        out.append(_Free(list(run), hint, type_hint, seg))
        run.clear()


def _name_span(asc: Sequence[str], i: int, keys: frozenset[str]) -> int:
    for length in range(min(_MAX_SPAN, len(asc) - i), 0, -1):
        if "".join(asc[i : i + length]) in keys:
            return length
    return 0


# ------------------------------------------------------------------------------------------ resolving


@dataclass
class _Result:
    status: str
    unit: int | None = None
    score: float = math.nan
    candidates: list[str] = field(default_factory=list)
    district: int | None = None  # known district when ambiguous
    commune_2025: int | None = None  # known 2025 commune when ambiguous
    notes: list[str] = field(default_factory=list)


def _roles(tok: _Token, idx: _Index) -> set[str]:
    k = tok.key
    have = set()
    if k in idx.communes:
        have.add("commune")
    if k in idx.districts:
        have.add("district")
    if k in idx.province_ours:
        have.add("province")
    if k in idx.province_other:
        have.add("province_other")
    if k in idx.district_other:
        have.add("district_other")
    if k in idx.pt_other:
        have.add("pt_other")
    allowed = {
        _C: {"commune", "pt_other"},
        _D: {"district", "district_other"},
        _DP: {"district", "district_other", "province", "province_other"},
        _P: {"province", "province_other"},
    }
    if tok.hint in allowed:
        return have & allowed[tok.hint]
    return have


def _unique_best(hits: list[tuple[float, str]]) -> bool:
    return bool(hits) and (len(hits) == 1 or hits[0][0] > hits[1][0])


def _in_district(unit: _Unit, district: _Unit) -> bool:
    if unit.level == "legacy":
        return unit.district_code == district.code
    return bool(set(unit.members) & set(district.members))


def _fuzzy_units(q: str, district: int | None, notes: list[str]) -> tuple[float, list[tuple[int, str]]] | None:
    """Fuzzy commune entries for the folded key ``q``: (similarity, entries) or None.

    Without a district, a key that is a real commune or district name elsewhere in Viet Nam is that place's
    name, not a typo of ours, and is not matched. Within a known district only its communes are candidates.
    """
    idx = _index()
    if len(q) < 3:
        return None
    if district is None and q in idx.elsewhere:
        notes.append(f"{q!r} is the name of {idx.elsewhere[q]} and others elsewhere, not read as a typo")
        return None
    for score, k in idx.fuzzy_commune.search(q, FUZZY_THRESHOLD):
        entries = idx.communes[k]
        if district is not None:
            entries = [e for e in entries if _in_district(idx.units[e[0]], idx.units[district])]
        if entries:
            same = [
                e
                for s2, k2 in idx.fuzzy_commune.search(q, score)
                if s2 == score
                for e in idx.communes[k2]
                if district is None or _in_district(idx.units[e[0]], idx.units[district])
            ]
            return score, same
    return None


def _resolve_text(text: str, district_text: str, mode: str) -> _Result:
    """Resolve one address (``mode="address"``) or commune name (``mode="commune"``)."""
    idx = _index()
    notes: list[str] = []
    tokens, free = _tokenize(text)
    roles = [_roles(t, idx) for t in tokens]
    used: set[int] = set()
    prov_roles = {"province", "province_other"}

    # A lone bare name that is both a commune and a province ("Vĩnh Phúc", "Bình Định") is not guessed.
    if (
        mode == "address"
        and len(tokens) == 1
        and not tokens[0].hint
        and "commune" in roles[0]
        and (roles[0] & prov_roles)
    ):
        res = _choose(tokens[0], idx.communes[tokens[0].key], None, None, notes)
        k = tokens[0].key
        where = "the whole province" if k in idx.province_ours else f"tỉnh {idx.province_other[k]} (outside)"
        return _Result(
            "ambiguous",
            candidates=[*res.candidates, *([idx.units[res.unit].label()] if res.unit is not None else []), where],
            notes=notes,
        )

    # The commune field's own commune comes first; an address is read from the province down.
    commune_tok: int | None = None
    if mode == "commune":
        commune_tok = next((i for i, r in enumerate(roles) if r & {"commune", "pt_other"}), None)
        if commune_tok is not None:
            used.add(commune_tok)

    # --- province: marked ``tỉnh``/``TP``, or the last of several names, or a name that is nothing else.
    province: tuple[str, str] | None = None  # ("ours"|"other", key)
    admin = [i for i, r in enumerate(roles) if r and i not in used]
    for i in reversed(admin):
        r = roles[i]
        if not r & prov_roles:
            continue
        hinted = tokens[i].hint in (_P, _DP)
        last = i == admin[-1] and len(admin) > 1 and not tokens[i].hint
        if hinted or last or (not (r - prov_roles - {"district_other"}) and not tokens[i].hint):
            province = ("ours", tokens[i].key) if "province" in r else ("other", tokens[i].key)
            used.add(i)
            break
    if province is None:
        for f in free:  # "tỉnh Vinh Phucc"
            if f.hint == _P:
                hits = idx.fuzzy_province.search("".join(f.words), FUZZY_THRESHOLD)
                if _unique_best(hits):
                    k = hits[0][1]
                    province = ("ours", k) if k in idx.province_ours else ("other", k)
                    break
    if province is not None and province[0] == "other":
        return _Result("outside", notes=[*notes, f"names {idx.province_other[province[1]]} (another province)"])

    # --- district: a district column wins over the address's own district.
    district: int | None = None
    if district_text:
        dres = _resolve_district(district_text)
        if dres.status == "outside":
            return dres
        if dres.unit is not None:
            district = dres.unit
            notes.extend(dres.notes)
        else:
            notes.append(f"district {district_text!r} not recognised; ignored")

    fuzzy_cache: dict[int | None, tuple[_Free, float, list[tuple[int, str]]] | None] = {}
    fuzzy_notes: list[str] = []

    def fuzzy_commune(d: int | None) -> tuple[_Free, float, list[tuple[int, str]]] | None:
        """The first free span that fuzzily names a commune (commune-marked spans first)."""
        if d not in fuzzy_cache:
            order = [f for f in free if f.hint == _C]
            order += [f for f in free if f.hint is None and (mode == "commune" or f.whole_segment)]
            found = None
            for f in order:
                hit = _fuzzy_units("".join(f.words), d, fuzzy_notes)
                if hit is not None:
                    found = (f, *hit)
                    break
            fuzzy_cache[d] = found
        return fuzzy_cache[d]

    d_toks = [i for i, r in enumerate(roles) if i not in used and r & {"district", "district_other"}]
    c_toks = [i for i, r in enumerate(roles) if i not in used and r & {"commune", "pt_other"}]
    pick: int | None = None
    either: int | None = None  # a bare name that may be the district or a commune
    hinted_d = [i for i in d_toks if tokens[i].hint in (_D, _DP)]
    if hinted_d:
        pick = hinted_d[-1]
    else:
        for i in reversed(d_toks):
            r = roles[i]
            if tokens[i].hint == _C or ("district" not in r and r & {"commune", "pt_other"}):
                continue  # a commune here that shares its name with a district elsewhere
            if not r & {"commune", "pt_other"}:
                if "district" in r or len(tokens) > 1 or free:
                    pick = i  # a district elsewhere counts when the text has more than its name
                    break
                continue
            spans = [f for f in free if f.hint == _C or (f.hint is None and f.whole_segment)]
            if (
                mode == "commune"
                or [j for j in c_toks if j != i]
                or spans
                or fuzzy_commune(idx.districts[tokens[i].key]) is not None
            ):
                pick = i
                break
            either = i
    if pick is not None:
        used.add(pick)
        r = roles[pick]
        if "district" in r:
            uid = idx.districts[tokens[pick].key]
            if district is not None and uid != district:
                notes.append(
                    f"the address names {idx.units[uid].name}; the district column's {idx.units[district].name} is used"
                )
            elif district is None:
                district = uid
        elif district is None:
            return _Result("outside", notes=[*notes, f"names {idx.district_other[tokens[pick].key]}"])
    if district is None:
        for f in free:
            if f.hint in (_D, _DP):
                hits = idx.fuzzy_district.search("".join(f.words), FUZZY_THRESHOLD)
                if _unique_best(hits):
                    district = idx.districts[hits[0][1]]
                    notes.append(f"district {' '.join(f.words)!r} read as {idx.units[district].name}")
                    break

    # --- commune
    if commune_tok is None:
        rest = [i for i in c_toks if i not in used]
        hinted_c = [i for i in rest if tokens[i].hint == _C]
        commune_tok = next(iter(hinted_c or rest), None)
    if commune_tok is not None:
        tok = tokens[commune_tok]
        r = roles[commune_tok]
        if "commune" not in r:  # a Phú Thọ commune outside the former Vĩnh Phúc
            if province is not None or mode == "commune" or tok.hint == _C:
                return _Result("outside", notes=[*notes, f"names {idx.pt_other[tok.key]}"])
            return _Result(
                "unmatched",
                notes=[
                    *notes,
                    f"{tok.text!r} is a commune of Phú Thọ outside the former Vĩnh Phúc; give the province to be sure",
                ],
            )
        res = _choose(tok, idx.communes[tok.key], district, province, notes)
        if commune_tok == either:
            d = idx.units[idx.districts[tok.key]]
            labels = res.candidates or ([idx.units[res.unit].label()] if res.unit is not None else [])
            return _Result(
                "ambiguous",
                candidates=[*labels, f"{d.name} (the district)"],
                district=(
                    idx.districts[tok.key] if res.unit is None or idx.units[res.unit].district_code == d.code else None
                ),
                notes=[*notes, f"{tok.text!r} names a district and a commune"],
            )
        if (
            province is not None
            and province[1] == "phutho"
            and tok.key in idx.pt_other
            and res.unit is not None
            and idx.units[res.unit].level == "legacy"
        ):
            return _Result(
                "ambiguous",
                candidates=[idx.units[res.unit].label(), idx.pt_other[tok.key] + " (outside)"],
                notes=notes,
            )
        return res

    found = fuzzy_commune(district)
    if found is not None:
        f, best, entries = found
        tok = _Token("", " ".join(f.words), f.hint, f.type_hint, f.seg, fuzzy=best)
        res = _choose(tok, entries, district, province, notes)
        if res.status in ("exact", "historical"):
            res.notes.append(f"{tok.text!r} read as {idx.units[res.unit or 0].name}")
            res.status = "fuzzy"
        res.score = best
        return res
    notes.extend(fuzzy_notes)

    if district is not None:
        d = idx.units[district]
        return _Result(
            "ambiguous",
            candidates=[f"any of the {len(d.members)} communes of {d.name}"],
            district=district,
            notes=[*notes, "only the district is named"],
        )
    if province is not None:
        return _Result("unmatched", notes=[*notes, "only the province is named"])
    for i, t in enumerate(tokens):
        if i not in used and t.key in idx.district_other:
            notes.append(f"{t.text!r} names {idx.district_other[t.key]}; give the province to be sure")
    best_any = max((h[0][0] for f in free if (h := idx.fuzzy_commune.search("".join(f.words), 0.5))), default=math.nan)
    return _Result("unmatched", score=best_any, notes=notes)


def _resolve_district(text: str) -> _Result:
    idx = _index()
    tokens, free = _tokenize(text)
    for t in tokens:
        if t.key in idx.districts:
            return _Result("exact", unit=idx.districts[t.key], score=1.0)
    for t in tokens:
        if t.key in idx.district_other or t.key in idx.province_other:
            where = idx.district_other.get(t.key) or idx.province_other[t.key]
            return _Result("outside", notes=[f"district column names {where}"])
    for f in free:
        hits = idx.fuzzy_district.search("".join(f.words), FUZZY_THRESHOLD)
        if hits and (len(hits) == 1 or hits[0][0] > hits[1][0]):
            uid = idx.districts[hits[0][1]]
            return _Result(
                "fuzzy", unit=uid, score=hits[0][0], notes=[f"district {text!r} read as {idx.units[uid].name}"]
            )
    return _Result("unmatched")


def _collapse(cand: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """Current names before merged-away ones; a legacy unit absorbs its same-name 2025 commune."""
    units = _index().units
    own = [e for e in cand if e[1] == "own"]
    if own:
        cand = own
    legacy = [e for e in cand if units[e[0]].level == "legacy"]
    new = [e for e in cand if units[e[0]].level == "c2025"]
    if legacy and new:
        absorbed = {units[e[0]].commune_2025_code for e in legacy}
        cand = legacy + [e for e in new if units[e[0]].code not in absorbed]
    return list(dict.fromkeys(cand))


def _choose(
    tok: _Token,
    entries: list[tuple[int, str]],
    district: int | None,
    province: tuple[str, str] | None,
    notes: list[str],
) -> _Result:
    """Pick the unit among the entries of one name (see the module docstring's rules)."""
    idx = _index()
    units = idx.units
    cand = list(dict.fromkeys(entries))
    # 1. a type prefix that fits some candidates only
    if tok.type_hint:
        typed = [e for e in cand if units[e[0]].type == tok.type_hint]
        if typed:
            cand = typed
    # 2. the district
    if district is not None:
        dcode = units[district].code
        in_d = [e for e in cand if units[e[0]].level == "legacy" and units[e[0]].district_code == dcode]
        if not in_d:
            in_d = [
                e
                for e in cand
                if units[e[0]].level == "c2025"
                and any(units[idx.by_code["legacy:" + m]].district_code == dcode for m in units[e[0]].members)
            ]
        if not in_d:
            labels = [units[u].label() for u, _ in _collapse(cand)]
            return _Result(
                "ambiguous",
                candidates=labels,
                score=tok.fuzzy,
                notes=[*notes, f"{tok.text!r} is not in {units[district].name}"],
            )
        cand = in_d
    # 3. the 2025 province
    if province is not None and province[1] == "phutho" and district is None:
        new = [e for e in cand if units[e[0]].level == "c2025"]
        if new:
            cand = new
    cand = _collapse(cand)
    ids = list(dict.fromkeys(u for u, _ in cand))
    if len(ids) == 1:
        how = cand[0][1]
        res = _Result("historical" if how == "historical" else "exact", unit=ids[0], score=tok.fuzzy, notes=list(notes))
        if how == "historical":
            res.notes.append(f"{tok.text!r} was merged into {units[ids[0]].name}")
        return res
    chosen = [units[u] for u in ids]
    dcodes = {u.district_code for u in chosen}
    ncodes = {u.commune_2025_code for u in chosen}
    one_d = next(iter(dcodes)) if len(dcodes) == 1 else None
    one_n = next(iter(ncodes)) if len(ncodes) == 1 else None
    return _Result(
        "ambiguous",
        candidates=[u.label() for u in chosen],
        score=tok.fuzzy,
        district=idx.by_code.get(f"district:{one_d}") if one_d else None,
        commune_2025=idx.by_code.get(f"c2025:{one_n}") if one_n else None,
        notes=list(notes),
    )


def match_name(text: str, *, district: str = "", mode: str = "address") -> dict[str, Any]:
    """Match one address or commune name; the row :func:`geocode` would write for it.

    Parameters
    ----------
    text : str
        An address ("xã Đạo Tú, huyện Tam Dương") or, with ``mode="commune"``, a commune name.
    district : str
        A district name read as in a district column.
    mode : {"address", "commune"}

    Examples
    --------
    >>> r = match_name("Hoi Thjnh", mode="commune")
    >>> r["commune"], r["match_status"], round(r["match_score"], 2)
    ('Xã Hội Thịnh', 'fuzzy', 0.88)
    >>> match_name("Xuân Hòa", district="Lập Thạch", mode="commune")["commune_2025"]
    'Xã Lập Thạch'
    """
    if mode not in ("address", "commune"):
        raise GeocodeError(f"mode must be 'address' or 'commune', not {mode!r}")
    return dict(_row_for(nfc(text), nfc(district), mode))


@lru_cache(maxsize=65536)
def _row_for(text: str, district: str, mode: str) -> tuple[tuple[str, Any], ...]:
    if not text and not district:
        return tuple(_EMPTY.items())
    notes: list[str] = []
    if len(text) > _MAX_TEXT:
        notes.append(f"text cut to its first {_MAX_TEXT} characters")
        text = text[:_MAX_TEXT]
    if not text:
        res = _resolve_district(district)
        if res.unit is not None:
            res = _Result(
                "ambiguous",
                candidates=["a commune of " + _index().units[res.unit].name],
                district=res.unit,
                notes=[*res.notes, "no commune given, only the district"],
            )
    else:
        res = _resolve_text(text, district, mode)
    res.notes = notes + res.notes
    return tuple(_fields(res).items())


_EMPTY: dict[str, Any] = {
    "commune": None,
    "commune_code": None,
    "district": None,
    "district_code": None,
    "commune_2025": None,
    "commune_2025_code": None,
    "lon": math.nan,
    "lat": math.nan,
    "precision_m": math.nan,
    "match_status": "empty",
    "match_score": math.nan,
    "candidates": None,
    "boundary_source": None,
    "shares": None,
    "match_note": None,
}


def _fields(res: _Result) -> dict[str, Any]:
    idx = _index()
    out = dict(_EMPTY)
    out["match_status"] = res.status
    out["match_score"] = res.score if res.status not in ("exact", "historical") else 1.0
    if res.status in ("fuzzy", "exact", "historical") and res.unit is not None:
        u = idx.units[res.unit]
        if u.level == "legacy":
            out.update(commune=u.name, commune_code=u.code)
        if u.district_code:
            d = idx.units[idx.by_code["district:" + u.district_code]]
            out.update(district=d.name, district_code=d.code)
        if u.commune_2025_code:
            out.update(commune_2025=u.commune_2025, commune_2025_code=u.commune_2025_code)
        out.update(lon=u.lon, lat=u.lat, precision_m=u.precision_m)
        if u.level == "c2025":
            res.notes.append("a 2025 commune: the legacy commune is one of " + str(len(u.members)))
    elif res.status == "ambiguous":
        if res.district is not None:
            d = idx.units[res.district]
            out.update(district=d.name, district_code=d.code)
        if res.commune_2025 is not None:
            n = idx.units[res.commune_2025]
            out.update(commune_2025=n.name, commune_2025_code=n.code)
        out["candidates"] = "; ".join(res.candidates) or None
    if res.status == "outside":
        out["match_score"] = math.nan
    if res.candidates and res.status != "ambiguous":
        out["candidates"] = "; ".join(res.candidates)
    out["match_note"] = "; ".join(dict.fromkeys(res.notes)) or None
    return out


# ----------------------------------------------------------------------------------- points & polygons


def _layers(source: str) -> dict[str, gpd.GeoDataFrame]:
    from vpgeo import boundaries as b  # lazy: name matching needs no polygons

    if source not in ("auto", "official", "approx"):
        raise GeocodeError(f"boundaries must be 'auto', 'official' or 'approx', not {source!r}")
    src = cast("b.Source", source)
    out = {
        "district": b.load_districts(source=src),
        # No official legacy commune polygons exist; the approximation is the only layer (its ``source`` says so).
        "commune": b.load_communes(vintage="legacy", source="approx" if src == "official" else src),
        "commune_2025": b.load_communes(vintage=2025, source=src),
    }
    return {k: (v.to_crs(WGS84) if v.crs is not None and not v.crs.equals(WGS84) else v) for k, v in out.items()}


def _place_geometries(geoms: gpd.GeoSeries, source: str) -> list[dict[str, Any]]:
    """Locate points and polygons (EPSG:4326) in the three boundary layers."""
    layers = _layers(source)
    n = len(geoms)
    out: list[dict[str, Any]] = [dict(_EMPTY) for _ in range(n)]
    is_point = np.asarray(geoms.geom_type == "Point")
    pts = np.flatnonzero(is_point)
    polys = np.flatnonzero(~is_point)
    layer_src: dict[str, list[str]] = {}
    for col, gdf in layers.items():
        gdf = gdf.reset_index(drop=True)
        layer_src[col] = [str(s) for s in gdf.get("source", pd.Series(["unknown"] * len(gdf)))]
        tree = shapely.STRtree(gdf.geometry.to_numpy())
        if len(pts):
            g = geoms.to_numpy()[pts]
            pairs = tree.query(g, predicate="intersects")
            first: dict[int, int] = {}
            for a, b in zip(pairs[0], pairs[1], strict=True):
                first.setdefault(int(a), int(b))
            for a, b in first.items():
                _put(out[pts[a]], col, gdf.iloc[b], 1.0)
        if len(polys):
            metric_layer = to_metric(gdf, operation="geocoding polygons by area share", warn=False)
            mpolys = to_metric(
                gpd.GeoSeries(geoms.to_numpy()[polys], crs=WGS84),
                operation="geocoding polygons by area share",
                warn=False,
            )
            mtree = shapely.STRtree(metric_layer.geometry.to_numpy())
            pairs = mtree.query(mpolys.to_numpy(), predicate="intersects")
            areas = shapely.area(
                shapely.intersection(mpolys.to_numpy()[pairs[0]], metric_layer.geometry.to_numpy()[pairs[1]])
            )
            total = shapely.area(mpolys.to_numpy())
            by_poly: dict[int, list[tuple[float, int]]] = defaultdict(list)
            for a, b, ar in zip(pairs[0], pairs[1], areas, strict=True):
                if ar > 0:
                    by_poly[int(a)].append((float(ar), int(b)))
            for a in range(len(polys)):
                row = out[polys[a]]
                parts = sorted(by_poly.get(a, []), reverse=True)
                tot = float(total[a]) or 1.0
                inside = sum(ar for ar, _ in parts) / tot
                row.setdefault("_inside", {})[col] = inside
                if parts:
                    best_share = parts[0][0] / tot
                    if best_share >= 1 - inside:  # the outside part is not the largest share
                        _put(row, col, gdf.iloc[parts[0][1]], best_share)
                    shares = [(ar / tot, gdf.iloc[b]["name"]) for ar, b in parts if ar / tot >= 0.01]
                    if inside < 0.99:
                        shares.append((1 - inside, "outside"))
                    if len(shares) > 1:
                        text = ", ".join(f"{nm} {s:.0%}" for s, nm in shares)
                        row["shares"] = f"{row['shares']}; {col}: {text}" if row["shares"] else f"{col}: {text}"
    centroids = _centroids(geoms, polys)
    for i in range(n):
        row = out[i]
        inside = row.pop("_inside", None)
        g = geoms.iloc[i]
        if is_point[i]:
            row["lon"], row["lat"] = float(g.x), float(g.y)
        else:
            row["lon"], row["lat"] = centroids.get(i, (math.nan, math.nan))
        precs = [p for p in row.pop("_prec", []) if p == p]
        srcs = row.pop("_src", [])
        if row["district"] is None:
            row["match_status"] = "outside"
            row["match_note"] = "outside the province's districts"
            if inside is not None:
                row["match_note"] += f" ({inside.get('district', 0):.0%} of the area inside)"
        else:
            row["match_status"] = "exact"
            row["match_score"] = 1.0
            row["precision_m"] = max(precs) if precs else math.nan
            missing = [c for c in ("commune", "commune_2025") if row[c] is None]
            if missing:
                row["match_note"] = f"no {' or '.join(missing)} polygon covers it"
        # Layers are read independently (and may come from different sources): say when they disagree.
        cd = row.pop("_commune_district", None)
        if cd is not None and row["district"] is not None and cd[0] != row["district_code"]:
            note = f"the commune layer puts it in {cd[1]}, the district layer in {row['district']}"
            row["match_note"] = f"{row['match_note']}; {note}" if row["match_note"] else note
        row["boundary_source"] = "; ".join(srcs) if srcs else None
    if len(pts):
        _near_boundary_notes(geoms, pts, out, layers)
    return out


def _put(row: dict[str, Any], col: str, unit: Any, share: float) -> None:
    name = nfc(unit.get("name"))
    code = unit.get("code")
    row[col] = name or None
    row[f"{col}_code"] = None if code is None or code != code else str(code)
    if col == "commune" and unit.get("district_code") is not None:
        row["_commune_district"] = (str(unit.get("district_code")), nfc(unit.get("district")))
    prec = unit.get("precision_m")
    row.setdefault("_prec", []).append(float(prec) if prec is not None and prec == prec else math.nan)
    row.setdefault("_src", []).append(f"{col}: {unit.get('source', 'unknown')}")


def _centroids(geoms: gpd.GeoSeries, polys: np.ndarray) -> dict[int, tuple[float, float]]:
    if not len(polys):
        return {}
    m = to_metric(gpd.GeoSeries(geoms.to_numpy()[polys], crs=WGS84), operation="polygon centroid", warn=False)
    c = m.centroid.to_crs(WGS84)
    return {int(i): (float(p.x), float(p.y)) for i, p in zip(polys, c, strict=True)}


def _near_boundary_notes(
    geoms: gpd.GeoSeries, pts: np.ndarray, out: list[dict[str, Any]], layers: dict[str, gpd.GeoDataFrame]
) -> None:
    """Note points closer to their unit's edge than the boundary's precision."""
    metric_pts = to_metric(
        gpd.GeoSeries(geoms.to_numpy()[pts], crs=WGS84), operation="boundary margin", warn=False
    ).to_numpy()
    for col, gdf in layers.items():
        if "code" not in gdf.columns:
            continue
        mg = to_metric(gdf, operation="boundary margin", warn=False)
        by_code = {
            str(c): (g.boundary, p)
            for c, g, p in zip(
                mg["code"], mg.geometry, mg.get("precision_m", pd.Series([math.nan] * len(mg))), strict=True
            )
        }
        for k, i in enumerate(pts):
            code = out[i].get(f"{col}_code")
            if code is None or code not in by_code:
                continue
            edge, prec = by_code[code]
            if prec == prec and prec is not None:
                d = float(shapely.distance(metric_pts[k], edge))
                if d < float(prec):
                    note = f"{d:.0f} m from the {col.replace('_', ' ')} boundary (precision {float(prec):.0f} m)"
                    out[i]["match_note"] = f"{out[i]['match_note']}; {note}" if out[i]["match_note"] else note


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
    if not isinstance(data, pd.DataFrame):
        raise GeocodeError(f"geocode needs a DataFrame or GeoDataFrame, not {type(data).__name__}")
    if address is not None and commune is not None:
        raise GeocodeError("give address= or commune= (with district=), not both")
    if (lon is None) != (lat is None):
        raise GeocodeError("give both lon= and lat=, or neither")
    for col, opt in (
        (address, "--address-col"),
        (commune, "--commune-col"),
        (district, "--district-col"),
        (lon, "--lon-col"),
        (lat, "--lat-col"),
    ):
        _check_column(data, col, opt)
    use_geometry = (
        isinstance(data, gpd.GeoDataFrame)
        and lon is None
        and data.geometry.name in data.columns
        and ((address is None and commune is None) or data.geometry.notna().any())
    )
    if address is None and commune is None and lon is None and not use_geometry and district is None:
        raise GeocodeError(
            "nothing to geocode by: give address= (--address-col), commune= (--commune-col, optionally "
            "with --district-col) or lon=/lat= (--lon-col/--lat-col), or a GeoDataFrame with geometry"
        )
    n = len(data)
    rows: list[dict[str, Any] | None] = [None] * n

    # Coordinates first.
    geoms: list[Any] = [None] * n
    coord_notes: dict[int, str] = {}
    if lon is not None and lat is not None:
        xs = [parse_coordinate(v) for v in data[lon]]  # not Series.map: it would turn None into NaN
        ys = [parse_coordinate(v) for v in data[lat]]
        for i, (x, y) in enumerate(zip(xs, ys, strict=True)):
            raw_x, raw_y = data[lon].iloc[i], data[lat].iloc[i]
            if x is None or y is None:
                if nfc(raw_x) or nfc(raw_y):
                    coord_notes[i] = f"coordinates not readable: {nfc(raw_x)!r}, {nfc(raw_y)!r}"
                continue
            if 7.5 <= x <= 24 and 101 <= y <= 110.5:
                x, y = y, x
                coord_notes[i] = "longitude and latitude were swapped; read as lon/lat"
            if abs(x) > 180 or abs(y) > 90:
                coord_notes[i] = f"coordinates ({x}, {y}) are not degrees (projected metres need a CRS)"
                continue
            geoms[i] = shapely.Point(x, y)
    elif use_geometry:
        assert isinstance(data, gpd.GeoDataFrame)
        g = data.geometry
        if g.crs is None:
            raise GeocodeError("the geometry has no CRS; set one (e.g. gdf.set_crs('EPSG:4326'))")
        try:
            check_crs(g.crs, operation="geocoding")
        except CRSError as exc:
            raise GeocodeError(str(exc)) from None
        g = g.to_crs(WGS84) if not g.crs.equals(WGS84) else g
        for i, gg in enumerate(g):
            if gg is None or gg.is_empty:
                continue
            if not gg.is_valid:
                gg = shapely.make_valid(gg)
                coord_notes[i] = "invalid geometry repaired (make_valid)"
            if gg.geom_type in ("Point", "Polygon", "MultiPolygon"):
                geoms[i] = gg
            elif gg.geom_type == "MultiPoint":
                geoms[i] = gg.centroid
                coord_notes[i] = "multipoint: its centroid is used"
            else:
                geoms[i] = shapely.Polygon() if gg.geom_type == "GeometryCollection" else gg.buffer(1e-6)
                coord_notes[i] = f"{gg.geom_type}: placed by its area"
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
    for i in range(n):
        if rows[i] is None:
            rows[i] = dict(_row_for(texts[i], dists[i], mode))
        row = rows[i]
        assert row is not None
        if i in coord_notes:
            note = coord_notes[i]
            row["match_note"] = f"{note}; {row['match_note']}" if row["match_note"] else note
            if row["match_status"] == "empty" and "not" in note:
                row["match_status"] = "unmatched"

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
