"""Resolution of one address or commune name, in named steps."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from vpgeo.errors import GeocodeError
from vpgeo.geocoding._index import _Index, _index, _Unit
from vpgeo.geocoding._schema import EMPTY_ROW, FUZZY_THRESHOLD
from vpgeo.geocoding._tokens import _C, _D, _DP, _MAX_TEXT, _P, _Free, _Token, _tokenize
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
    tokens, free = _tokenize(text, _index().all_keys)
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
    tokens, free = _tokenize(text, _index().all_keys)
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

