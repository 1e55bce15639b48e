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
