"""Human-written addresses (tests/data/addresses.csv): the whole address is the evidence.

The file holds addresses written for this test from real unit names (the gazetteer's for Vĩnh Phúc, the
national tables of ``vietnamadminunits`` for Phú Thọ, Tuyên Quang, Thái Nguyên, Hà Nội, Yên Bái and Bắc
Giang, many of them homonyms of Vĩnh Phúc communes), in the forms lists use: prefixes written out,
abbreviated or dropped, no diacritics, " - " instead of commas, no commas at all, village and street parts.
The expected district and commune come from the gazetteer by name (not from the geocoder):
``expect`` = ``inside`` (district and legacy commune), ``district`` (the district only; the commune is not
known) or ``outside`` (must not be placed in the province).
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from vpgeo import gazetteer
from vpgeo.geocoding import match_name

DATA = Path(__file__).parent / "data" / "addresses.csv"


def _rows() -> list[dict[str, str]]:
    with DATA.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _expected_codes() -> tuple[dict[str, str], dict[tuple[str, str], str]]:
    dis = gazetteer.districts()
    leg = gazetteer.legacy_communes()
    d_code = dict(zip(dis["short"], dis["code"], strict=True))
    c_code = {(d, s): c for d, s, c in zip(leg["district_short"], leg["short"], leg["code"], strict=True)}
    return d_code, c_code


@pytest.fixture(scope="module")
def results() -> list[tuple[dict[str, str], dict[str, object]]]:
    return [(r, match_name(r["address"])) for r in _rows()]


def test_the_set_is_large_and_mostly_from_neighbours() -> None:
    rows = _rows()
    assert len(rows) >= 150
    assert sum(r["expect"] == "outside" for r in rows) >= 100
    d_code, c_code = _expected_codes()
    for r in rows:  # every expectation names a real unit of the gazetteer
        if r["expect"] != "outside":
            assert r["district"] in d_code, r
        if r["expect"] == "inside":
            assert (r["district"], r["commune"]) in c_code, r


def test_no_wrong_unit_inside_the_province(results: list[tuple[dict[str, str], dict[str, object]]]) -> None:
    d_code, c_code = _expected_codes()
    wrong = []
    for r, got in results:
        if r["expect"] == "outside":
            continue
        want_d = d_code[r["district"]]
        if got["district_code"] is not None and got["district_code"] != want_d:
            wrong.append((r["address"], "district", got["district"], got["match_note"]))
        want_c = c_code.get((r["district"], r["commune"]))
        if got["commune_code"] is not None and got["commune_code"] != want_c:
            wrong.append((r["address"], "commune", got["commune"], got["match_note"]))
    assert wrong == []


def test_district_right_for_98_percent(results: list[tuple[dict[str, str], dict[str, object]]]) -> None:
    d_code, c_code = _expected_codes()
    ours = [(r, got) for r, got in results if r["expect"] != "outside"]
    right = [got["district_code"] == d_code[r["district"]] for r, got in ours]
    missed = [
        (r["address"], got["match_status"], got["match_note"])
        for (r, got), ok in zip(ours, right, strict=True)
        if not ok
    ]
    assert sum(right) / len(right) >= 0.98, missed
    communes = [(r, got) for r, got in ours if r["expect"] == "inside"]
    c_right = [got["commune_code"] == c_code[(r["district"], r["commune"])] for r, got in communes]
    missed_c = [
        (r["address"], got["match_status"], got["match_note"])
        for (r, got), ok in zip(communes, c_right, strict=True)
        if not ok
    ]
    assert sum(c_right) / len(c_right) >= 0.95, missed_c


def test_outside_addresses_stay_outside(results: list[tuple[dict[str, str], dict[str, object]]]) -> None:
    outside = [(r, got) for r, got in results if r["expect"] == "outside"]
    placed = [
        (r["address"], got["match_status"], got["commune"] or got["district"] or got["commune_2025"], got["match_note"])
        for r, got in outside
        if got["district_code"] is not None or got["commune_2025_code"] is not None or got["commune_code"] is not None
    ]
    assert len(placed) <= 0.005 * len(outside), placed


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("Xã Cảm Ân - Yên Bình", "yên bình"),
        ("Xóm Nà Đồng, Xã Tân Phú, Tân Sơn, Phú Thọ", "tân sơn"),
        ("TT Đại Từ - Đại Từ", "đại từ"),
    ],
)
def test_the_note_says_why_a_homonym_is_outside(text: str, why: str) -> None:
    got = match_name(text)
    assert got["match_status"] == "outside"
    assert why in str(got["match_note"]).lower()


def _plain(text: str) -> str:
    import unicodedata

    d = unicodedata.normalize("NFD", text.replace("Đ", "D").replace("đ", "d"))
    return "".join(ch for ch in d if not unicodedata.combining(ch))


def test_generated_addresses_from_the_national_tables() -> None:
    """Addresses built from every province's units (not the file above): homonyms of our communes and random
    units, written in ten forms; none is placed inside, and our own communes in seven forms all resolve."""
    import random
    import sqlite3
    from importlib import resources

    from vpgeo.text import key

    rng = random.Random(2026)
    path = resources.files("vietnamadminunits") / "data" / "dataset.db"
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        rows = conn.execute(
            "SELECT provinceShort, districtType, districtShort, wardType, wardShort FROM admin_units_legacy "
            "WHERE provinceCode != ? AND wardShort IS NOT NULL AND districtShort NOT LIKE '%(%'",
            (gazetteer.PROVINCE_CODE,),
        ).fetchall()
    leg = gazetteer.legacy_communes()
    ours = set(leg["short"].map(key)) | set(gazetteer.communes_2025()["short"].map(key))
    homonyms = [r for r in rows if key(r[4]) in ours]
    placed = []
    for pv, dt, ds, wt, ws in rng.sample(homonyms, 150) + rng.sample(rows, 150):
        forms = [
            f"{wt} {ws}, {dt} {ds}, {pv}", f"{ws}, {ds}, {pv}", f"Thôn 1, {wt.lower()} {ws}, {dt.lower()} {ds}",
            _plain(f"{ws}, {ds}, {pv}"), f"{wt} {ws} - {ds} - {pv}", f"{ws.upper()}, {ds.upper()}, {pv.upper()}",
            f"{wt} {ws}, {dt} {ds}", f"{ws}, {ds}", f"{ws} {ds}", f"{ws} - {ds}",
        ]  # fmt: skip
        text = rng.choice(forms)
        got = match_name(text)
        if got["district_code"] is not None or got["commune_2025_code"] is not None:
            placed.append((text, got["match_status"], got["match_note"]))
    assert placed == []
    wrong, missed = [], []
    for r in leg.itertuples():
        forms = [
            f"Tổ dân phố Đình, {r.name}, {r.district}, Vĩnh Phúc", f"{r.short} - {r.district_short} - VP",
            f"{r.name.upper()}, {r.district.upper()}", f"Địa chỉ: thôn Nội, {r.short}, {r.district.lower()}, Vĩnh Phúc",
            f"{r.short} {r.district_short} Vĩnh Phúc", _plain(f"Thon 2 {r.name} {r.district} Vinh Phuc"),
            f"Số 7, ngõ 3, {r.name}, {r.district_short}",
        ]  # fmt: skip
        text = rng.choice(forms)
        got = match_name(text)
        if got["commune_code"] not in (None, r.code) or got["district_code"] not in (None, r.district_code):
            wrong.append((text, got["commune"], got["district"]))
        elif got["commune_code"] != r.code:
            missed.append((text, got["match_status"], got["match_note"]))
    assert wrong == []
    assert len(missed) <= 2, missed


@pytest.mark.parametrize(
    ("text", "status", "why"),
    [
        ("Khu Tân An II, thị trấn Yên Lập", "outside", "no thị trấn yên lập in the former vĩnh phúc"),
        ("Liên Sơn - Tân Yên", "outside", "tone marks differ"),
        ("Hoàng Hoa Thám", "unmatched", "begins a longer name"),
        ("Xã Thanh Sơn, Huyện Yên Lạc, Vĩnh Phúc", "ambiguous", "is not a commune of huyện yên lạc"),
        ("KCN Phúc Yên, Vĩnh Phúc", "ambiguous", "in a park's or street's name"),
        ("Thôn Nội, Trung Nguyên, Yên Lạc, Vĩnh ", "exact", "read as vĩnh phúc (cut short)"),
        ("Xã Nham Sơn, H. Yên Dũng", "unmatched", "'yên dũng' is not one of the former vĩnh phúc's"),
        ("Xã Bá Hiến, Bình Xuyên", "exact", "since an upgrade"),
    ],
)
def test_the_note_says_what_the_text_decided(text: str, status: str, why: str) -> None:
    got = match_name(text)
    assert got["match_status"] == status
    assert why in str(got["match_note"]).lower()
