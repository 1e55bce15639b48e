"""Invariants checked with hypothesis, and the loaders fuzzed with generated files.

- name folding is idempotent and blind to Unicode normalisation form;
- distances are non-negative and the same (within 1 m) whatever CRS the sites come in;
- verdicts never get worse as the buffer grows;
- a closer candidate never scores lower, for every decay;
- geocoding a unit's own name (any case, with or without diacritics, prefix spelled out or abbreviated)
  returns that unit, for all 121 legacy communes and the 36 communes of 2025;
- the loaders (read_table, prepare_sites, read_corridor_file) let only vpgeo's own typed errors escape
  on 10,000 generated files in the full hypothesis profile, 1,000 in ci (``VPGEO_FUZZ_EXAMPLES`` sets the number).

Example counts below are the full profile's (``VPGEO_HYPOTHESIS=full``); the default ci profile runs a share of
them (tests/conftest.py), derandomized.
"""

from __future__ import annotations

import json
import os
import unicodedata
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from shapely.geometry import Point

import vpgeo
from vpgeo.errors import CRSWarning, VpgeoError
from vpgeo.gazetteer import communes_2025, legacy_communes
from vpgeo.geocoding import match_name
from vpgeo.measure import corridor_distances
from vpgeo.rules import VERDICTS, check_priority_rule, verdict
from vpgeo.scoring import DECAYS, score_candidates
from vpgeo.text import fold, key


def hypothesis_examples(full: int) -> int:
    """``full`` examples in the full profile; the same share of it as the active profile's count otherwise."""
    active = settings.default.max_examples
    try:
        reference = settings.get_profile("full").max_examples
    except InvalidArgument:  # run without tests/conftest.py: hypothesis' own default profile
        return full
    if active >= reference:
        return full
    return max(min(full, 10), round(full * active / reference))


# The province's extent (former Vĩnh Phúc), well inside its bounding box.
LON = (105.35, 105.85)
LAT = (21.15, 21.55)
RANK = {"no": 0, "uncertain": 1, "yes": 2}

lon_st = st.floats(*LON, allow_nan=False)
lat_st = st.floats(*LAT, allow_nan=False)
points_st = st.lists(st.tuples(lon_st, lat_st), min_size=2, max_size=25)


# ---------------------------------------------------------------------------------------------- text


@settings(max_examples=hypothesis_examples(2000))
@given(st.text(max_size=60))
def test_fold_and_key_are_nfc_stable(text: str) -> None:
    folded = fold(text)
    for form in ("NFC", "NFD"):
        assert fold(unicodedata.normalize(form, text)) == folded
        assert key(unicodedata.normalize(form, text)) == key(text)
    assert unicodedata.is_normalized("NFC", folded) and folded == folded.strip() and "  " not in folded
    assert " " not in key(text)


def test_key_idempotent_known_case() -> None:
    assert key(key("B:Y")) == key("B:Y")  # joining words formed a new y-as-i syllable


def test_fold_idempotent_punctuation_case() -> None:
    assert fold(fold(":X:À")) == fold(":X:À")  # leading punctuation no longer hides a prefix


def test_fold_strips_one_prefix_like_word_from_plain_text_by_design() -> None:
    # With diacritics "Phương" is a name, not "Phường" (a prefix); typed without them it cannot be told apart,
    # so fold is not idempotent on such names while key, the normalised form, is.
    assert fold("Xã Phương Khoan") == "phuong khoan"
    assert fold("phuong khoan") == "khoan"
    assert key(key("Xã Phương Khoan")) == key("Xã Phương Khoan") == "phuongkhoan"


VIET_WORDS = ["Hội Thịnh", "Đồng Văn", "Tề Lỗ", "Vĩnh Yên", "Xuân Hòa", "Thị trấn Hương Canh", "Phường Khai Quang"]


@settings(max_examples=hypothesis_examples(300))
@given(st.sampled_from(VIET_WORDS), st.sampled_from(["lower", "upper", "nfd", "title", "spaces"]))
def test_fold_ignores_case_form_and_spacing(name: str, how: str) -> None:
    variant = {
        "lower": name.lower(),
        "upper": name.upper(),
        "nfd": unicodedata.normalize("NFD", name),
        "title": name.title(),
        "spaces": "  " + name.replace(" ", "   ") + " ",
    }[how]
    assert fold(variant) == fold(name) and key(variant) == key(name)


# -------------------------------------------------------------------------------------------- distances


@pytest.fixture(scope="module")
def plan_corridors() -> gpd.GeoDataFrame:
    return vpgeo.load_corridors()


@settings(max_examples=hypothesis_examples(25), suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(points_st)
def test_distances_non_negative_and_crs_invariant(
    plan_corridors: gpd.GeoDataFrame, pts: list[tuple[float, float]]
) -> None:
    wgs = gpd.GeoDataFrame({"i": range(len(pts))}, geometry=[Point(p) for p in pts], crs="EPSG:4326")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CRSWarning)  # lon/lat input is reprojected by design and says so
        results = [
            corridor_distances(wgs.to_crs(crs), plan_corridors, corridor_set="all", access_points=False)
            for crs in ("EPSG:4326", "EPSG:5897", "EPSG:32648")
        ]
    cols = [c for c in results[0].columns if c.startswith("dist_") and c.endswith("_km")] + ["distance_km"]
    base = results[0][cols].to_numpy(dtype=float)
    assert np.isfinite(base).all() and (base >= 0).all()
    for other in results[1:]:
        np.testing.assert_allclose(other[cols].to_numpy(dtype=float), base, atol=0.001)  # 1 m
        # corridors share sections (CT.05 and RR5 near Kim Long), so ties may break either way: the nearest
        # named in one CRS is at the nearest distance in the other
        for i, cid in enumerate(other["nearest_corridor"]):
            assert abs(results[0][f"dist_{cid}_km"].iloc[i] - results[0]["distance_km"].iloc[i]) < 0.001


# ---------------------------------------------------------------------------------------------- verdicts


@given(
    st.floats(0, 50_000),
    st.floats(0, 10_000),
    st.floats(0, 30_000),
    st.floats(0, 30_000),
)
def test_verdict_monotone_in_buffer(d: float, p: float, b1: float, b2: float) -> None:
    lo, hi = sorted((b1, b2))
    assert RANK[verdict(d, p, lo)] <= RANK[verdict(d, p, hi)]
    assert verdict(d, p, hi) in VERDICTS


@settings(max_examples=hypothesis_examples(15), suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    points_st,
    st.lists(st.floats(0, 6000), min_size=25, max_size=25),
    st.floats(0.5, 15),
    st.floats(0.1, 10),
)
def test_priority_rule_verdicts_monotone(
    plan_corridors: gpd.GeoDataFrame, pts: list[tuple[float, float]], precision: list[float], b: float, extra: float
) -> None:
    sites = gpd.GeoDataFrame(
        {
            "site_id": [f"S{i}" for i in range(len(pts))],
            "name": [f"KCN {i}" for i in range(len(pts))],
            "kind": "KCN",
            "phase": "new_2030",
            "precision_m": precision[: len(pts)],
        },
        geometry=[Point(p) for p in pts],
        crs="EPSG:4326",
    ).to_crs("EPSG:5897")  # metric input: no reprojection warning
    small = check_priority_rule(sites, plan_corridors, buffer_km=b).table.set_index("site_id")["within_buffer"]
    big = check_priority_rule(sites, plan_corridors, buffer_km=b + extra).table.set_index("site_id")["within_buffer"]
    assert all(RANK[small[s]] <= RANK[big[s]] for s in small.index)


# ----------------------------------------------------------------------------------------------- scoring


@settings(max_examples=hypothesis_examples(20), suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(points_st, st.sampled_from(DECAYS), st.floats(0.5, 10), st.floats(1, 3))
def test_closer_candidates_never_score_lower(
    plan_corridors: gpd.GeoDataFrame, pts: list[tuple[float, float]], decay: str, half: float, factor: float
) -> None:
    cand = gpd.GeoDataFrame(geometry=[Point(p) for p in pts], crs="EPSG:4326")
    out = score_candidates(
        cand,
        decay=decay,
        half_distance_km=half,
        max_km=half * factor,
        access_points=False,  # type: ignore[arg-type]
    )
    d = out["distance_km"].to_numpy(dtype=float)
    s = out["score"].to_numpy(dtype=float)
    assert ((s >= 0) & (s <= 1)).all()
    closer = d[:, None] < d[None, :]
    assert (s[:, None] >= s[None, :] - 1e-12)[closer].all()
    ranked = out["rank"].to_numpy(dtype=float)
    better = s[:, None] > s[None, :]
    assert (ranked[:, None] < ranked[None, :])[better].all()


# ------------------------------------------------------------------------------------------------ geocoding

LEGACY = legacy_communes()
NEW = communes_2025()
ABBREVIATION = {"Xã": ["X.", "x ", "X. "], "Phường": ["P.", "p ", "P. "], "Thị trấn": ["TT.", "tt ", "TT "]}


def _strip(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.replace("Đ", "D").replace("đ", "d"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _variant(draw: st.DrawFn, unit_type: str, short: str) -> str:
    prefix = draw(st.sampled_from([unit_type, *ABBREVIATION[unit_type]]))
    name = f"{prefix.strip()} {short}" if not prefix.endswith(".") else f"{prefix}{short}"
    if draw(st.booleans()):
        name = _strip(name)
    case = draw(st.sampled_from(["as is", "lower", "upper", "random"]))
    if case == "lower":
        name = name.lower()
    elif case == "upper":
        name = name.upper()
    elif case == "random":
        flips = draw(st.lists(st.booleans(), min_size=len(name), max_size=len(name)))
        name = "".join(c.upper() if f else c.lower() for c, f in zip(name, flips, strict=True))
    if draw(st.booleans()):
        name = unicodedata.normalize("NFD", name)
    return name


@st.composite
def legacy_name(draw: st.DrawFn) -> tuple[str, str, str]:
    i = draw(st.integers(0, len(LEGACY) - 1))
    row = LEGACY.iloc[i]
    return _variant(draw, row["type"], row["short"]), str(row["district"]), str(row["code"])


@st.composite
def new_name(draw: st.DrawFn) -> tuple[str, str]:
    i = draw(st.integers(0, len(NEW) - 1))
    row = NEW.iloc[i]
    return _variant(draw, row["type"], row["short"]), str(row["code"])


def test_every_unit_by_its_own_name() -> None:
    assert len(LEGACY) == 121 and len(NEW) == 36
    for _, r in LEGACY.iterrows():  # names shared by two communes (Xuân Hòa) need their district
        assert match_name(r["name"], district=r["district"], mode="commune")["commune_code"] == r["code"], r["name"]
    for _, r in NEW.iterrows():
        assert match_name(r["name"], mode="commune")["commune_2025_code"] == r["code"], r["name"]


@settings(max_examples=hypothesis_examples(600))
@given(legacy_name(), st.sampled_from(["commune", "address"]))
def test_legacy_variants_geocode_to_their_unit(item: tuple[str, str, str], mode: str) -> None:
    text, district, code = item
    got = match_name(text, district=district, mode=mode)
    assert got["commune_code"] == code, (text, district, got["commune"], got["match_status"])


@settings(max_examples=hypothesis_examples(300))
@given(new_name(), st.sampled_from(["commune", "address"]))
def test_2025_variants_geocode_to_their_unit(item: tuple[str, str], mode: str) -> None:
    text, code = item
    got = match_name(text, mode=mode)
    assert got["commune_2025_code"] == code, (text, got["commune_2025"], got["match_status"])


# --------------------------------------------------------------------------------------------- loader fuzz

# Issue 9 asks for at least 10,000 generated files: the full profile's count (~2 min on the 2-core machine);
# ci runs 1,000 (~12 s). VPGEO_FUZZ_EXAMPLES sets the number whatever the profile.
FUZZ_EXAMPLES = int(os.environ.get("VPGEO_FUZZ_EXAMPLES", "0")) or max(1000, hypothesis_examples(10_000))

_coord = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(100, 110),
    st.floats(15, 25),
    st.integers(-(10**9), 10**9),
    st.text(max_size=4),
    st.none(),
)
_position = st.lists(_coord, min_size=0, max_size=3)
_geometry = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {"type": st.sampled_from(["Point", "Polygon", "Line", "MultiPoint"]), "coordinates": _position}
    ),
    st.fixed_dictionaries(
        {
            "type": st.sampled_from(["LineString", "MultiPoint", "Polygon", "MultiLineString"]),
            "coordinates": st.lists(st.one_of(_position, st.lists(_position, max_size=5)), max_size=6),
        }
    ),
)
_props = st.dictionaries(
    st.sampled_from(["name", "Tên", "kind", "loại", "area_ha", "lon", "lat", "precision_m", "priority", "status", ""]),
    st.one_of(st.text(max_size=8), st.integers(), st.floats(), st.booleans(), st.none(), st.lists(st.integers())),
    max_size=5,
)
_feature = st.fixed_dictionaries(
    {"type": st.just("Feature"), "properties": st.one_of(_props, st.none()), "geometry": _geometry}
)
_geojson = st.one_of(
    st.fixed_dictionaries({"type": st.just("FeatureCollection"), "features": st.lists(_feature, max_size=4)}),
    _feature,
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
).map(lambda doc: json.dumps(doc).encode())
_csv_text = st.lists(
    st.sampled_from([*",;\"\n\r\t |abcĐđệ1.5-{}[]:eE°'", "\ufeff", "\x00", "ten", "lon", "lat", "kind", "KCN", "52,6"]),
    max_size=120,
).map(lambda tokens: "".join(tokens).encode())
_cp1258_text = st.text(alphabet=st.sampled_from(list(",;\n aăâêôơưđ1.5KCN")), max_size=80).map(
    lambda t: t.encode("cp1258", errors="replace")
)
_files = st.one_of(
    st.tuples(st.sampled_from([".csv", ".txt", ".tsv"]), st.one_of(_csv_text, _cp1258_text, st.binary(max_size=200))),
    st.tuples(st.sampled_from([".geojson", ".json"]), st.one_of(_geojson, st.binary(max_size=200))),
    st.tuples(st.sampled_from([".xlsx", ".gpkg", ".shp", ".parquet", ".zip"]), st.binary(max_size=300)),
)


@settings(
    max_examples=FUZZ_EXAMPLES,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(_files)
def test_fuzz_loaders_raise_only_vpgeo_errors(tmp_path: Path, file: tuple[str, bytes]) -> None:
    ext, data = file
    path = tmp_path / f"fuzz{ext}"
    path.write_bytes(data)
    try:
        table = vpgeo.read_table(path)
    except VpgeoError as exc:
        assert path.name in str(exc)
    else:
        assert "_row" in table.columns
        try:
            sites, rejects = vpgeo.prepare_sites(table)
        except VpgeoError:
            pass
        else:
            assert len(sites) + len(rejects) == len(table)
    if ext in (".geojson", ".json", ".gpkg", ".shp"):
        try:
            lines = vpgeo.read_corridor_file(path)
        except VpgeoError as exc:
            assert path.name in str(exc)
        else:
            assume(len(lines) > 0)
            assert lines.crs is not None and lines.crs.to_epsg() == 4326
