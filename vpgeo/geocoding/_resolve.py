"""Resolution of one address or commune name, in named steps."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import vpgeo.geocoding._schema as _schema
from vpgeo.errors import GeocodeError
from vpgeo.geocoding._index import _Index, _index, _Unit
from vpgeo.geocoding._schema import EMPTY_ROW
from vpgeo.geocoding._tokens import _C, _D, _DP, _MAX_TEXT, _P, _Free, _has_marks, _tkey, _Token, _tokenize
from vpgeo.text import nfc

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
    for score, k in idx.fuzzy_commune.search(q, _schema.FUZZY_THRESHOLD):
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


_TYPE_RANK = {"Xã": 0, "Thị trấn": 1, "Phường": 2}
_PROV = frozenset({"province", "province_other"})
_DIST = frozenset({"district", "district_other"})
_COMM = frozenset({"commune", "pt_other"})


def _type_fits(written: str | None, unit: _Unit, how: str) -> bool:
    """A written type fits the unit's, or an upgrade explains it (a xã becomes a thị trấn or phường)."""
    if written is None or how == "historical" or unit.type == written:
        return True
    return _TYPE_RANK.get(written, 0) < _TYPE_RANK.get(unit.type, 0)


class _Reader:
    """Resolve one address (``mode="address"``) or commune name (``mode="commune"``), in named steps.

    1. :meth:`screen`: commune readings that the text itself contradicts are dropped (tones written
       differently from ours when the written name exists elsewhere; a unit type that does not fit); a name
       after the commune's place in the address is a district or province, not a second commune.
    2. :meth:`find_province`, 3. :meth:`find_district`: another province or a district elsewhere makes the
       row ``outside`` (before any commune homonym is considered).
    4. :meth:`find_commune`: exact names first (commune-marked, then names standing alone in their part),
       consistent with the district; fuzzy matching only when no name fits exactly.
    """

    def __init__(self, text: str, district_text: str, mode: str) -> None:
        self.idx = _index()
        self.mode = mode
        self.district_text = district_text
        self.notes: list[str] = []
        tokens, self.free = _tokenize(text, self.idx.all_keys)
        self.tokens = [t for t in tokens if not t.skipped]
        self.skipped = [t for t in tokens if t.skipped]
        self.entries = [list(self.idx.communes.get(t.key, [])) for t in self.tokens]
        self.roles: list[set[str]] = []
        self.used: set[int] = set()
        self.province: tuple[str, str] | None = None
        self.district: int | None = None
        self.either: int | None = None
        self.fuzzy_cache: dict[int | None, tuple[_Free, float, list[tuple[int, str]]] | None] = {}
        self.fuzzy_notes: list[str] = []
        self.foreign = False  # a marked commune is none of ours but a unit of that type elsewhere

    # ---------------------------------------------------------------------------------- 1. screening
    def screen(self) -> None:
        for i, tok in enumerate(self.tokens):
            if self.entries[i]:
                self.entries[i] = self._tones_fit(tok, self.entries[i])
            if self.entries[i] and tok.type_hint:
                self.entries[i] = self._types_fit(tok, self.entries[i])
        self.roles = [self._roles(i) for i in range(len(self.tokens))]
        for i, tok in enumerate(self.tokens):
            if self.mode == "address" and self.roles[i] and tok.glued and tok.hint is None and " " in tok.text:
                self.notes.append(f"{tok.text!r} begins a longer name (a street or a person), not read as a unit")
                self.roles[i] = set()
        if self.mode == "address":
            self._by_position()

    def _tones_fit(self, tok: _Token, entries: list[tuple[int, str]]) -> list[tuple[int, str]]:
        if not _has_marks(tok.text):
            return entries
        units = self.idx.units
        written = _tkey(tok.text)
        same = [e for e in entries if e[1] == "historical" or units[e[0]].tonal == written]
        if same:
            return same
        other = self.idx.elsewhere_tonal.get(written)
        if other is not None:
            self.notes.append(
                f"{tok.text!r} is not {units[entries[0][0]].name} (tone marks differ); {other} has that name"
            )
            return []
        self.notes.append(f"{tok.text!r} read as {units[entries[0][0]].name} (tone marks differ)")
        return entries

    def _types_fit(self, tok: _Token, entries: list[tuple[int, str]]) -> list[tuple[int, str]]:
        units = self.idx.units
        fit = [e for e in entries if _type_fits(tok.type_hint, units[e[0]], e[1])]
        if not fit:
            idx = self.idx
            self.foreign = tok.key in idx.elsewhere or tok.key in idx.pt_other or tok.key in idx.district_other
            have = ", ".join(dict.fromkeys(units[e[0]].label() for e in entries))
            self.notes.append(f"no {tok.type_hint} {tok.text.title()} in the former Vĩnh Phúc (only {have})")
        elif not [e for e in fit if units[e[0]].type == tok.type_hint]:
            self.notes.append(f"written {tok.type_hint} {tok.text.title()}: {units[fit[0][0]].name} since an upgrade")
        return fit

    def _roles(self, i: int) -> set[str]:
        tok, idx, k = self.tokens[i], self.idx, self.tokens[i].key
        have = {"commune"} if self.entries[i] else set()
        for role, table in (
            ("district", idx.districts),
            ("province", idx.province_ours),
            ("province_other", idx.province_other),
            ("district_other", idx.district_other),
            ("pt_other", idx.pt_other),
        ):
            if k in table:
                have.add(role)
        if "district_other" in have and _has_marks(tok.text) and _tkey(tok.text) not in idx.district_other_tonal[k]:
            have.discard("district_other")  # "Hoàng Hoa" is not Hoằng Hóa
        if "district" in have and _has_marks(tok.text):
            written, own = _tkey(tok.text), idx.units[idx.districts[k]]
            if written != own.tonal and written in idx.elsewhere_tonal:
                have.discard("district")  # "Tam Đường" (Lai Châu) is not Tam Dương
                self.notes.append(f"{tok.text!r} is not {own.name} (tone marks differ)")
        allowed = {_C: _COMM, _D: _DIST, _DP: _DIST | _PROV, _P: _PROV}
        if tok.hint in allowed:
            return have & allowed[tok.hint]
        return have

    def _by_position(self) -> None:
        """After the commune's place (its marked name, else the first name), names are districts or provinces."""
        marked = [t.pos for t in self.tokens if t.hint == _C] + [f.pos for f in self.free if f.hint == _C]
        firsts = [t.pos for t in self.tokens] + [f.pos for f in self.free]
        if not firsts:
            return
        start = min(marked) if marked else min(firsts)
        for i, tok in enumerate(self.tokens):
            r = self.roles[i]
            if tok.pos > start and tok.hint is None and r & (_DIST | _PROV) and r & _COMM:
                self.roles[i] = r - _COMM

    # ----------------------------------------------------------------------------------- 2. province
    def lone_name(self) -> _Result | None:
        """A lone bare name that is both a commune and a province ("Vĩnh Phúc", "Bình Định") is not guessed."""
        if self.mode != "address" or len(self.tokens) != 1 or self.tokens[0].hint or len(self.free):
            return None
        if self.tokens[0].seg > 0:  # a province name at the end of an address is the province
            return None
        r = self.roles[0]
        if "commune" not in r or not r & _PROV:
            return None
        tok = self.tokens[0]
        res = _choose(tok, self.entries[0], None, None, self.notes)
        k = tok.key
        where = "the whole province" if k in self.idx.province_ours else f"tỉnh {self.idx.province_other[k]} (outside)"
        own = [self.idx.units[res.unit].label()] if res.unit is not None else []
        return _Result("ambiguous", candidates=[*res.candidates, *own, where], notes=self.notes)

    def find_province(self) -> _Result | None:
        last = len(self.tokens) - 1
        if last > 0 and last not in self.used and self._truncated_province(last):
            self.notes.append(f"{self.tokens[last].text!r} at the end read as Vĩnh Phúc (cut short)")
            self.province = ("ours", "vinhphuc")
            self.used.add(last)
            return None
        admin = [i for i, r in enumerate(self.roles) if r and i not in self.used]
        for i in reversed(admin):
            r, tok = self.roles[i], self.tokens[i]
            if not r & _PROV:
                continue
            hinted = tok.hint in (_P, _DP)
            last = i == admin[-1] and (len(admin) > 1 or tok.seg > 0) and not tok.hint
            if hinted or last or (not (r - _PROV - {"district_other"}) and not tok.hint):
                self.province = ("ours", tok.key) if "province" in r else ("other", tok.key)
                self.used.add(i)
                break
        if self.province is None:
            self._fuzzy_province()
        if self.province is not None and self.province[0] == "other":
            return self.outside(f"names {self.idx.province_other[self.province[1]]} (another province)")
        return None

    def _truncated_province(self, last: int) -> bool:
        """ "…, Yên Lạc, Vĩnh": Vĩnh Phúc cut short, when written with its tone or after one of our districts."""
        tok = self.tokens[last]
        ours_named = any("district" in r for r in self.roles[:last])
        return _truncated_ours(tok) and (ours_named or _has_marks(tok.text))

    def _fuzzy_province(self) -> None:
        for f in self.free:  # "tỉnh Vinh Phucc"
            if f.hint == _P:
                hits = self.idx.fuzzy_province.search("".join(f.words), _schema.FUZZY_THRESHOLD)
                if _unique_best(hits):
                    k = hits[0][1]
                    self.province = ("ours", k) if k in self.idx.province_ours else ("other", k)
                    return

    def outside(self, why: str) -> _Result:
        return _Result("outside", notes=[*self.notes, why])

    # ----------------------------------------------------------------------------------- 3. district
    def district_column(self) -> _Result | None:
        if not self.district_text:
            return None
        dres = _resolve_district(self.district_text)
        if dres.status == "outside":
            return dres
        if dres.unit is not None:
            self.district = dres.unit
            self.notes.extend(dres.notes)
        else:
            self.notes.append(f"district {self.district_text!r} not recognised; ignored")
        return None

    def fuzzy_commune(self, d: int | None) -> tuple[_Free, float, list[tuple[int, str]]] | None:
        """The first free span that fuzzily names a commune (commune-marked spans first)."""
        if d not in self.fuzzy_cache:
            order = [f for f in self.free if f.hint == _C]
            order += [f for f in self.free if f.hint is None and (self.mode == "commune" or f.whole_segment)]
            found = None
            for f in order:
                hit = _fuzzy_units("".join(f.words), d, self.fuzzy_notes)
                if hit is not None:
                    found = (f, *hit)
                    break
            self.fuzzy_cache[d] = found
        return self.fuzzy_cache[d]

    def _pick_district(self) -> int | None:
        d_toks = [i for i, r in enumerate(self.roles) if i not in self.used and r & _DIST]
        hinted = [i for i in d_toks if self.tokens[i].hint in (_D, _DP)]
        if hinted:
            return hinted[-1]
        c_toks = [i for i, r in enumerate(self.roles) if i not in self.used and r & _COMM]
        for i in reversed(d_toks):
            r = self.roles[i]
            if self.tokens[i].hint == _C or ("district" not in r and r & _COMM):
                continue  # a commune here that shares its name with a district elsewhere
            if not r & _COMM:
                if "district" in r or len(self.tokens) > 1 or self.free:
                    return i  # a district elsewhere counts when the text has more than its name
                continue
            if self._district_not_commune(i, c_toks):
                return i
            self.either = i
        return None

    def _district_not_commune(self, i: int, c_toks: list[int]) -> bool:
        spans = [f for f in self.free if f.hint == _C or (f.hint is None and f.whole_segment)]
        return bool(
            self.mode == "commune"
            or [j for j in c_toks if j != i]
            or spans
            or self.fuzzy_commune(self.idx.districts[self.tokens[i].key]) is not None
        )

    def find_district(self) -> _Result | None:
        pick = self._pick_district()
        if pick is not None:
            self.used.add(pick)
            tok = self.tokens[pick]
            if "district" in self.roles[pick]:
                uid = self.idx.districts[tok.key]
                if self.district is not None and uid != self.district:
                    self.notes.append(
                        f"the address names {self.idx.units[uid].name}; the district column's "
                        f"{self.idx.units[self.district].name} is used"
                    )
                elif self.district is None:
                    self.district = uid
            elif self.district is None:
                return self.outside(f"names {self.idx.district_other[tok.key]}")
        if self.district is None:
            self._fuzzy_district()
        unknown = [f for f in self.free if f.hint in (_D, _DP)]
        if self.district is None and unknown:  # every district of ours is known: a marked other one is not
            words = unknown[0].text or " ".join(unknown[0].words)
            return _Result("unmatched", notes=[*self.notes, f"district {words!r} is not one of the former Vĩnh Phúc's"])
        return None

    def _fuzzy_district(self) -> None:
        for f in self.free:
            if f.hint in (_D, _DP):
                hits = self.idx.fuzzy_district.search("".join(f.words), _schema.FUZZY_THRESHOLD)
                if _unique_best(hits):
                    self.district = self.idx.districts[hits[0][1]]
                    self.notes.append(f"district {' '.join(f.words)!r} read as {self.idx.units[self.district].name}")
                    return

    # ------------------------------------------------------------------------------------ 4. commune
    def commune_token(self, first: int | None) -> int | None:
        if first is not None:
            return first
        rest = [i for i, r in enumerate(self.roles) if i not in self.used and r & _COMM]
        hinted = [i for i in rest if self.tokens[i].hint == _C]
        alone = [i for i in rest if self.tokens[i].alone]
        # the more specific unit wins: "Sân Golf Tam Đảo, Hợp Châu, Tam Đảo" is in Hợp Châu
        return next(iter(hinted or alone or rest), None)

    def exact_commune(self, i: int) -> _Result:
        tok, r, idx = self.tokens[i], self.roles[i], self.idx
        if "commune" not in r:  # a Phú Thọ commune outside the former Vĩnh Phúc
            return self._pt_other(tok)
        res = _choose(tok, self.entries[i], self.district, self.province, self.notes)
        if i == self.either:
            d = idx.units[idx.districts[tok.key]]
            labels = res.candidates or ([idx.units[res.unit].label()] if res.unit is not None else [])
            same = res.unit is None or idx.units[res.unit].district_code == d.code
            return _Result(
                "ambiguous",
                candidates=[*labels, f"{d.name} (the district)"],
                district=idx.districts[tok.key] if same else None,
                notes=[*self.notes, f"{tok.text!r} names a district and a commune"],
            )
        if self.province is not None and self.province[1] == "phutho" and res.unit is not None:
            other = self._phu_tho_homonym(tok, idx.units[res.unit])
            if other is not None:
                cands = [idx.units[res.unit].label(), other + " (outside)"]
                return _Result("ambiguous", candidates=cands, notes=self.notes)
        return res

    def _phu_tho_homonym(self, tok: _Token, unit: _Unit) -> str | None:
        """With the province Phú Thọ, a legacy name of ours that Phú Thọ also has (then or now) is not decided."""
        if unit.level != "legacy" or self.district is not None:
            return None
        return self.idx.pt_other.get(tok.key) or self.idx.pt_legacy.get(tok.key)

    def _pt_other(self, tok: _Token) -> _Result:
        where = self.idx.pt_other[tok.key]
        if self.district is not None:  # "Xã Thanh Sơn, Huyện Yên Lạc": the district is named, the commune unknown
            return self.district_only(
                f"{tok.text!r} is not a commune of {self.idx.units[self.district].name} ({where} has that name)"
            )
        if self.province is not None or self.mode == "commune" or tok.hint == _C:
            return self.outside(f"names {where}")
        return _Result(
            "unmatched",
            notes=[
                *self.notes,
                f"{tok.text!r} is a commune of Phú Thọ outside the former Vĩnh Phúc; give the province to be sure",
            ],
        )

    def district_only(self, why: str) -> _Result:
        assert self.district is not None
        d = self.idx.units[self.district]
        return _Result(
            "ambiguous",
            candidates=[f"any of the {len(d.members)} communes of {d.name}"],
            district=self.district,
            notes=[*self.notes, why],
        )

    def fuzzy(self) -> _Result | None:
        found = self.fuzzy_commune(self.district)
        if found is None:
            return None
        f, best, entries = found
        tok = _Token("", " ".join(f.words), f.hint, f.type_hint, f.seg, fuzzy=best)
        res = _choose(tok, entries, self.district, self.province, self.notes)
        if res.status in ("exact", "historical"):
            res.notes.append(f"{tok.text!r} read as {self.idx.units[res.unit or 0].name}")
            res.status = "fuzzy"
        res.score = best
        return res

    def leftovers(self) -> _Result:
        """Nothing named a commune: the district alone, a district inside a park's name, or unmatched."""
        self.notes.extend(self.fuzzy_notes)
        if self.district is not None and self.foreign and (self.province is None or self.province[0] != "ours"):
            return _Result("unmatched", notes=[*self.notes, "the commune named is not ours: the district may be too"])
        if self.district is not None:
            return self.district_only("only the district is named")
        hit = self._district_in_skipped()
        if hit is not None:
            self.district = hit
            return self.district_only(f"only {self.idx.units[hit].name} is named (in a park's or street's name)")
        if self.province is not None:
            return _Result("unmatched", notes=[*self.notes, "only the province is named"])
        for i, t in enumerate(self.tokens):
            if i not in self.used and t.key in self.idx.district_other:
                self.notes.append(f"{t.text!r} names {self.idx.district_other[t.key]}; give the province to be sure")
        fz = self.idx.fuzzy_commune
        best = max((h[0][0] for f in self.free if (h := fz.search("".join(f.words), 0.5))), default=math.nan)
        return _Result("unmatched", score=best, notes=self.notes)

    def _district_in_skipped(self) -> int | None:
        """One of our districts inside a park's or street's name ("KCN Phúc Yên, Vĩnh Phúc"), when the
        province is ours and nothing else is named."""
        if self.province is None or self.province[0] != "ours":
            return None
        found = {self.idx.districts[t.key] for t in self.skipped if t.key in self.idx.districts}
        return next(iter(found)) if len(found) == 1 else None

    # --------------------------------------------------------------------------------------- driver
    def run(self) -> _Result:
        self.screen()
        lone = self.lone_name()
        if lone is not None:
            return lone
        first: int | None = None
        if self.mode == "commune":  # the commune field's own commune comes first
            first = next((i for i, r in enumerate(self.roles) if r & _COMM), None)
            if first is not None:
                self.used.add(first)
        for step in (self.find_province, self.district_column, self.find_district):
            res = step()
            if res is not None:
                return res
        i = self.commune_token(first)
        if i is not None:
            return self.exact_commune(i)
        return self.fuzzy() or self.leftovers()


def _truncated_ours(tok: _Token) -> bool:
    """A last word like "Vĩnh" or "Vinh P" that is Vĩnh Phúc cut short."""
    return tok.key != "vinhphuc" and "vinhphuc".startswith(tok.key) and len(tok.key) >= 4 and tok.hint is None


def _resolve_text(text: str, district_text: str, mode: str) -> _Result:
    """Resolve one address (``mode="address"``) or commune name (``mode="commune"``)."""
    return _Reader(text, district_text, mode).run()


def _resolve_district(text: str) -> _Result:
    idx = _index()
    tokens, free = _tokenize(text, _index().all_keys)
    tokens = [t for t in tokens if not t.skipped]
    for t in tokens:
        if t.key in idx.districts:
            return _Result("exact", unit=idx.districts[t.key], score=1.0)
    for t in tokens:
        if t.key in idx.district_other or t.key in idx.province_other:
            where = idx.district_other.get(t.key) or idx.province_other[t.key]
            return _Result("outside", notes=[f"district column names {where}"])
    for f in free:
        hits = idx.fuzzy_district.search("".join(f.words), _schema.FUZZY_THRESHOLD)
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
        return tuple(EMPTY_ROW.items())
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


def _fields(res: _Result) -> dict[str, Any]:
    idx = _index()
    out = dict(EMPTY_ROW)
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
