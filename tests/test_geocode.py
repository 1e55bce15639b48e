"""vpgeo.geocoding: real names, addresses and points of Vĩnh Phúc; ambiguous, outside and typo'd cases."""

from __future__ import annotations

import random
import sqlite3
import unicodedata
from collections import Counter
from importlib import resources
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, box

from vpgeo import gazetteer
from vpgeo.crs import to_metric
from vpgeo.errors import GeocodeError, InputError
from vpgeo.geocoding import MATCH_STATUSES, OUTPUT_COLUMNS, geocode, geocode_file, match_name
from vpgeo.io import read_table
from vpgeo.text import key

LEGACY = gazetteer.legacy_communes()
NEW = gazetteer.communes_2025()
DISTRICTS = gazetteer.districts()


def _plain(text: str) -> str:
    d = unicodedata.normalize("NFD", text.replace("Đ", "D").replace("đ", "d"))
    return "".join(c for c in d if not unicodedata.combining(c))


# ------------------------------------------------------------------------------------------ invariants


def test_every_legacy_commune_full_name_with_district_geocodes_to_itself() -> None:
    for r in LEGACY.itertuples():
        got = match_name(r.name, district=r.district, mode="commune")
        assert (got["commune"], got["commune_code"], got["match_status"]) == (r.name, r.code, "exact"), r.name
        assert got["commune_2025"] == r.commune_2025
        assert (got["lon"], got["lat"], got["precision_m"]) == (r.lon, r.lat, r.precision_m)


def test_bare_legacy_names_resolve_unless_duplicated() -> None:
    # The only legacy names shared by two units, computed independently from the gazetteer's keys.
    dup = {k for k, n in Counter(LEGACY["short"].map(key)).items() if n > 1}
    assert dup == {"xuanhoa"}
    for r in LEGACY.itertuples():
        got = match_name(r.short, mode="commune")
        if key(r.short) in dup:
            assert got["match_status"] == "ambiguous" and got["commune"] is None
            assert "Phường Xuân Hòa (Phúc Yên)" in got["candidates"] and "Xã Xuân Hòa (Lập Thạch)" in got["candidates"]
        else:
            assert got["commune"] == r.name, r.short


def test_every_2025_commune_in_a_2025_address() -> None:
    for r in NEW.itertuples():
        got = match_name(f"{r.name}, tỉnh Phú Thọ")
        assert (got["commune_2025"], got["match_status"]) == (r.name, "exact"), r.name
        assert got["commune"] is None or LEGACY.set_index("name").loc[got["commune"], "commune_2025"] == r.name


@settings(max_examples=200, deadline=None)
@given(
    i=st.integers(0, len(LEGACY) - 1),
    strip=st.booleans(),
    upper=st.booleans(),
    prefix=st.sampled_from(["", "full", "abbr"]),
    dprefix=st.sampled_from(["", "huyện ", "H. "]),
    sep=st.sampled_from([", ", " - ", " / ", " "]),
)
def test_variants_of_a_units_own_name_return_that_unit(
    i: int, strip: bool, upper: bool, prefix: str, dprefix: str, sep: str
) -> None:
    r = LEGACY.iloc[i]
    abbr = {"Xã": "X.", "Phường": "P.", "Thị trấn": "TT."}[r["type"]]
    name = {"": r["short"], "full": r["name"], "abbr": f"{abbr} {r['short']}"}[prefix]
    text = f"{name}{sep}{dprefix}{r['district_short']}"
    if strip:
        text = _plain(text)
    if upper:
        text = text.upper()
    got = match_name(text)
    assert got["commune"] == r["name"], text
    assert got["district"] == r["district"]


# ------------------------------------------------------------------------------------------ real cases


@pytest.mark.parametrize(
    ("text", "commune", "district", "commune_2025", "status"),
    [
        # one address per legacy district
        (
            "Phường Khai Quang, TP. Vĩnh Yên, tỉnh Vĩnh Phúc",
            "Phường Khai Quang",
            "Thành phố Vĩnh Yên",
            "Phường Vĩnh Phúc",
            "exact",
        ),
        ("Xã Ngọc Thanh, Phúc Yên", "Xã Ngọc Thanh", "Thành phố Phúc Yên", "Phường Xuân Hòa", "exact"),
        ("thôn 3, xã Văn Quán, huyện Lập Thạch", "Xã Văn Quán", "Huyện Lập Thạch", "Xã Tiên Lữ", "exact"),
        ("TT. Hợp Hòa, H. Tam Dương", "Thị trấn Hợp Hòa", "Huyện Tam Dương", "Xã Tam Dương", "exact"),
        ("Xã Đạo Trù, huyện Tam Đảo, Vĩnh Phúc", "Xã Đạo Trù", "Huyện Tam Đảo", "Xã Đạo Trù", "exact"),
        ("KCN Bá Thiện, xã Thiện Kế, huyện Bình Xuyên", "Xã Thiện Kế", "Huyện Bình Xuyên", "Xã Bình Xuyên", "exact"),
        ("Đồng Văn, Yên Lạc, Vĩnh Phúc", "Xã Đồng Văn", "Huyện Yên Lạc", "Xã Tề Lỗ", "exact"),
        ("xa Chan Hung huyen Vinh Tuong tinh Vinh Phuc", "Xã Chấn Hưng", "Huyện Vĩnh Tường", "Xã Vĩnh An", "exact"),
        ("Xã Đồng Thịnh - Sông Lô", "Xã Đồng Thịnh", "Huyện Sông Lô", "Xã Sông Lô", "exact"),
        # the town that became part of Bình Nguyên
        ("Thị trấn Hương Canh", "Thị trấn Hương Canh", "Huyện Bình Xuyên", "Xã Bình Nguyên", "exact"),
        # historical names
        ("xã Vân Hội, huyện Tam Dương", "Xã Hội Thịnh", "Huyện Tam Dương", "Xã Hội Thịnh", "historical"),
        ("Hợp Thịnh", "Xã Hội Thịnh", "Huyện Tam Dương", "Xã Hội Thịnh", "historical"),
        ("Tân Tiến, Vĩnh Tường", "Xã Đại Đồng", "Huyện Vĩnh Tường", "Xã Vĩnh Hưng", "historical"),
        # 2025 names
        ("Xã Bình Nguyên, tỉnh Phú Thọ", None, "Huyện Bình Xuyên", "Xã Bình Nguyên", "exact"),
        ("Tam Dương Bắc", None, None, "Xã Tam Dương Bắc", "exact"),  # Tam Quan (Tam Đảo) + Tam Dương communes
        # typos and tone marks
        ("Tề Lổ", "Xã Tề Lỗ", "Huyện Yên Lạc", "Xã Tề Lỗ", "exact"),
        ("Hoi Thjnh, Tam Duong", "Xã Hội Thịnh", "Huyện Tam Dương", "Xã Hội Thịnh", "fuzzy"),
        ("xã Nguyệt Đứcc, huyện Yên Lạc", "Xã Nguyệt Đức", "Huyện Yên Lạc", "Xã Nguyệt Đức", "fuzzy"),
        # the type prefix decides between vintages
        ("Xã Tam Sơn", None, "Huyện Sông Lô", "Xã Tam Sơn", "exact"),
        ("Thị trấn Tam Sơn", "Thị trấn Tam Sơn", "Huyện Sông Lô", "Xã Tam Sơn", "exact"),
        # a name that is a district elsewhere is ours when bare
        ("Phường Hai Bà Trưng, Phúc Yên", "Phường Hai Bà Trưng", "Thành phố Phúc Yên", "Phường Phúc Yên", "exact"),
    ],
)
def test_addresses(text: str, commune: str | None, district: str | None, commune_2025: str, status: str) -> None:
    got = match_name(text)
    assert (got["commune"], got["district"], got["commune_2025"], got["match_status"]) == (
        commune,
        district,
        commune_2025,
        status,
    )
    assert got["precision_m"] > 0 and 105.2 < got["lon"] < 106.0 and 21.0 < got["lat"] < 21.7


def test_every_legacy_district_is_covered_by_the_cases() -> None:
    cases = test_addresses.pytestmark[0].args[1]
    assert {c[2] for c in cases} >= set(DISTRICTS["name"])


@pytest.mark.parametrize(
    ("text", "district", "expected_candidates"),
    [
        ("Xuân Hòa", None, {"Phường Xuân Hòa (Phúc Yên)", "Xã Xuân Hòa (Lập Thạch)"}),
        ("Tam Dương, Vĩnh Phúc", "Huyện Tam Dương", {"Xã Tam Dương (2025)", "Huyện Tam Dương (the district)"}),
        ("Vĩnh Tường", "Huyện Vĩnh Tường", {"Thị trấn Vĩnh Tường (Vĩnh Tường)", "Huyện Vĩnh Tường (the district)"}),
        ("Bình Định", None, {"Xã Bình Định (Yên Lạc)", "tỉnh Bình Định (outside)"}),
    ],
)
def test_ambiguous(text: str, district: str | None, expected_candidates: set[str]) -> None:
    got = match_name(text)
    assert got["match_status"] == "ambiguous"
    assert got["commune"] is None and pd.isna(got["lon"])
    assert set(got["candidates"].split("; ")) == expected_candidates
    assert got["district"] == district


def test_district_decides_between_duplicates() -> None:
    assert match_name("Xuân Hòa", district="Lập Thạch", mode="commune")["commune_code"] == "08794"
    assert match_name("Xuân Hòa", district="TP Phúc Yên", mode="commune")["commune_code"] == "08746"
    assert match_name("Xuân Hòa, Lập Thạch")["commune_code"] == "08794"
    assert match_name("Phường Xuân Hòa")["commune_code"] == "08746"
    wrong = match_name("Hội Thịnh", district="Bình Xuyên", mode="commune")
    assert wrong["match_status"] == "ambiguous" and "not in Huyện Bình Xuyên" in wrong["match_note"]


@pytest.mark.parametrize(
    "text",
    [
        "xã Tiền Phong, huyện Mê Linh, TP Hà Nội",
        "Tiền Phong, Mê Linh",  # Mê Linh left Vĩnh Phúc for Hà Nội in 2008
        "Phường Hai Bà Trưng, Hà Nội",
        "quận Đống Đa",  # Vĩnh Yên has a Phường Đống Đa; the quận is Hà Nội's
        "xã Đồng Văn, huyện Duy Tiên, tỉnh Hà Nam",  # Yên Lạc has a Xã Đồng Văn
        "Thái Nguyên",
        "Xã Hy Cương, tỉnh Phú Thọ",  # Phú Thọ outside the former Vĩnh Phúc
        "Xã Hội Thịnh, huyện Tam Dương, tỉnh Thái Nguyên",
    ],
)
def test_outside(text: str) -> None:
    got = match_name(text)
    assert got["match_status"] == "outside", got
    assert got["commune"] is None and got["commune_2025"] is None and pd.isna(got["lon"])


def test_other_provinces_names_never_snap() -> None:
    """Hà Nội's commune names (vietnamadminunits' national table) never become a Vĩnh Phúc commune."""
    path = resources.files("vietnamadminunits") / "data" / "dataset.db"
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        names = {r[0] for r in conn.execute("SELECT wardShort FROM admin_units_legacy WHERE provinceCode = '01'")}
    ours = set(LEGACY["short"].map(key)) | set(NEW["short"].map(key))
    ours |= {h for hs in LEGACY["historical_keys"] for h in hs}
    foreign = sorted(n for n in names if n and key(n) not in ours and not n.isdigit())
    assert len(foreign) > 400
    placed = [(n, match_name(n, mode="commune")) for n in foreign]
    snapped = [(n, r["commune"] or r["commune_2025"]) for n, r in placed if r["match_status"] in ("exact", "fuzzy")]
    assert snapped == []
    assert {r["match_status"] for _, r in placed} <= {"unmatched", "outside", "ambiguous"}


def test_unmatched_and_empty() -> None:
    assert match_name("Hoàn toàn không phải địa danh")["match_status"] == "unmatched"
    assert match_name("   ")["match_status"] == "empty"
    got = match_name("Số 12 đường Lê Lợi")
    assert got["match_status"] == "unmatched" and got["commune"] is None


# ------------------------------------------------------------------------------------------ DataFrame API


def test_geocode_keeps_rows_order_and_types() -> None:
    df = pd.DataFrame({"ten": ["A", "B", "C", "D"], "xa": ["Vân Hội", None, "Xuân Hòa", "Hà Nội"]}, index=[10, 3, 7, 1])
    out = geocode(df, commune="xa")
    assert list(out.index) == [10, 3, 7, 1] and out["ten"].tolist() == ["A", "B", "C", "D"]
    assert out["match_status"].tolist() == ["historical", "empty", "ambiguous", "outside"]
    assert list(out.columns) == ["ten", "xa", *OUTPUT_COLUMNS]
    assert set(out["match_status"]) <= set(MATCH_STATUSES)


def test_existing_output_columns_are_renamed_not_clobbered() -> None:
    df = pd.DataFrame({"commune": ["Tề Lỗ"], "lon": ["x"], "district": ["Yên Lạc"]})
    out = geocode(df, commune="commune", district="district")
    assert out["commune_input"].tolist() == ["Tề Lỗ"] and out["lon_input"].tolist() == ["x"]
    assert out["commune"].tolist() == ["Xã Tề Lỗ"] and out["district_input"].tolist() == ["Yên Lạc"]
    assert "input column 'commune' kept as 'commune_input'" in out.attrs["geocode_notes"]


def test_bad_calls() -> None:
    df = pd.DataFrame({"a": ["x"]})
    with pytest.raises(GeocodeError, match="nothing to geocode"):
        geocode(df)
    with pytest.raises(GeocodeError, match="not both"):
        geocode(df, address="a", commune="a")
    with pytest.raises(InputError, match="no column 'xa'"):
        geocode(df, commune="xa")
    with pytest.raises(GeocodeError, match="both lon= and lat="):
        geocode(df, lon="a")


# ------------------------------------------------------------------------------------------ coordinates

IC4_KIM_LONG = (105.6061, 21.3573)  # CT.05 interchange IC4 toll, old Tam Dương district
KM6_TOLL = (105.7397, 21.2528)  # Km 6 toll on the Nội Bài – Lào Cai road, in Hà Nội


def test_points_with_the_shipped_approximation() -> None:
    df = pd.DataFrame({"x": [IC4_KIM_LONG[0], KM6_TOLL[0], "abc", None], "y": [IC4_KIM_LONG[1], KM6_TOLL[1], 1, None]})
    out = geocode(df, lon="x", lat="y", boundaries="approx")
    assert out["district"][0] == "Huyện Tam Dương" and out["match_status"][0] == "exact"
    assert "approximate" in out["boundary_source"][0]
    assert out["precision_m"][0] > 0
    assert out["match_status"].tolist()[1:] == ["outside", "unmatched", "empty"]
    assert "not readable" in out["match_note"][2]


@pytest.fixture()
def official(mirror_url: str, data_cache: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("VPGEO_DATA_MIRROR", mirror_url)
    return "official"


def test_known_points_with_official_boundaries(official: str) -> None:
    df = pd.DataFrame(
        {"lon": [IC4_KIM_LONG[0], KM6_TOLL[0], "21,3573"], "lat": [IC4_KIM_LONG[1], KM6_TOLL[1], "105,6061"]}
    )
    out = geocode(df, lon="lon", lat="lat", boundaries=official)
    assert out["district"].tolist()[0] == "Huyện Tam Dương"
    assert out["commune_2025"][0] == "Xã Tam Dương"
    assert out["boundary_source"][0].startswith("district: official")
    assert out["match_status"].tolist() == ["exact", "outside", "exact"]
    assert "swapped" in out["match_note"][2] and out["district"][2] == "Huyện Tam Dương"
    assert out["lon_input"].tolist()[:2] == [IC4_KIM_LONG[0], KM6_TOLL[0]]


def test_gazetteer_points_agree_with_the_reference_polygons(official: str, reference_dir: Path) -> None:
    """Placing the trusted legacy points gives the district and 2025 commune the reference polygons give."""
    pts = LEGACY[LEGACY["point_status"] == "ok"]
    gdf = gpd.GeoDataFrame(
        pts[["name"]].reset_index(drop=True),
        geometry=[Point(x, y) for x, y in zip(pts["lon"], pts["lat"], strict=True)],
        crs=4326,
    )
    out = geocode(gdf, boundaries=official)
    ref_d = gpd.read_file(reference_dir / "vinhphuc_districts_dvhcvn.geojson")
    ref_n = gpd.read_file(reference_dir / "vinhphuc_communes2025_vietnam3dmap.geojson")
    exp_d = gpd.sjoin(gdf, ref_d[["name", "geometry"]].rename(columns={"name": "ref"}), predicate="within", how="left")
    exp_n = gpd.sjoin(gdf, ref_n[["id", "geometry"]], predicate="within", how="left")
    exp_d = exp_d[~exp_d.index.duplicated()]["ref"]
    exp_n = exp_n[~exp_n.index.duplicated()]["id"]
    assert (out["district"].fillna("-") == exp_d.fillna("-")).mean() > 0.99
    assert (out["commune_2025_code"].fillna("-") == exp_n.fillna("-")).mean() > 0.99
    assert (out["match_status"] == "exact").sum() == exp_d.notna().sum()


def test_polygon_straddling_two_districts(official: str, reference_dir: Path) -> None:
    site = box(105.60, 21.30, 105.65, 21.34)
    out = geocode(gpd.GeoDataFrame({"ten": ["X"]}, geometry=[site], crs=4326), boundaries=official)
    ref = to_metric(gpd.read_file(reference_dir / "vinhphuc_districts_dvhcvn.geojson"), operation="test", warn=False)
    msite = to_metric(gpd.GeoSeries([site], crs=4326), operation="test", warn=False).iloc[0]
    shares = (ref.geometry.intersection(msite).area / msite.area).round(2)
    expected = ref.loc[shares.idxmax(), "name"]
    assert out["district"][0] == expected
    text = out["shares"][0]
    for name, share in zip(ref["name"], shares, strict=True):
        if share >= 0.01:
            assert f"{name} {share:.0%}" in text


# ------------------------------------------------------------------------------------------ files


def test_geocode_file_csv_roundtrip(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text(
        "tên;địa chỉ\nA;xã Vân Hội, huyện Tam Dương\nB;\nC;Xuân Hòa\n"
        "D;Phường Phúc Xá, quận Ba Đình, Hà Nội\nE;TT Hương Canh\n",
        encoding="utf-8",
    )
    s = geocode_file(src, tmp_path / "out.csv", address_col="địa chỉ")
    assert s["rows_in"] == s["rows_out"] == 5
    assert s["status"] == {
        "exact": 1,
        "fuzzy": 0,
        "historical": 1,
        "ambiguous": 1,
        "unmatched": 0,
        "outside": 1,
        "empty": 1,
    }
    back = read_table(tmp_path / "out.csv")
    assert back["tên"].tolist() == ["A", "B", "C", "D", "E"]
    assert back["commune_2025"].tolist()[4] == "Xã Bình Nguyên"


def test_geocode_file_to_geojson_and_xlsx(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text("xa,huyen\nHội Thịnh,Tam Dương\nXuân Hòa,Lập Thạch\n", encoding="utf-8")
    geocode_file(src, tmp_path / "out.geojson", commune_col="xa", district_col="huyen")
    g = read_table(tmp_path / "out.geojson")
    row = LEGACY.set_index("name").loc["Xã Xuân Hòa"]
    assert g.geometry.x[1] == pytest.approx(row["lon"]) and g["commune"][1] == "Xã Xuân Hòa"
    geocode_file(src, tmp_path / "out.xlsx", commune_col="xa", district_col="huyen")
    assert read_table(tmp_path / "out.xlsx")["commune_2025"].tolist() == ["Xã Hội Thịnh", "Xã Lập Thạch"]


def test_geocode_file_errors_name_the_file(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text("a\n1\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"in\.csv.*no column 'xa'"):
        geocode_file(src, tmp_path / "o.csv", commune_col="xa")


def test_random_batch_rows_in_equal_rows_out() -> None:
    rng = random.Random(1)
    texts = [rng.choice([*LEGACY["name"], *NEW["name"], "", "Hà Nội", "???", "x" * 2000]) for _ in range(500)]
    out = geocode(pd.DataFrame({"a": texts}), address="a")
    assert len(out) == 500 and out["a"].tolist() == texts
    assert out["match_status"].isin(MATCH_STATUSES).all()


# ------------------------------------------------------------------------------------------ resolve_commune


def test_resolve_commune_is_the_geocoders_resolver() -> None:
    from vpgeo.geocoding import resolve_commune

    leg = LEGACY.set_index("name")
    typo = resolve_commune("Hội Thịng")  # a typo (issue 13: report --sites left it unplaced)
    assert typo.placed and typo.status == "fuzzy"
    assert typo.commune_code == leg.at["Xã Hội Thịnh", "code"] and "read as" in str(typo.note)
    new = resolve_commune("Bình Nguyên")  # a 2025 name
    n = NEW.set_index("name")
    assert new.placed and new.commune_2025_code == n.at["Xã Bình Nguyên", "code"] and new.commune_code is None
    assert (new.lon, new.lat) == (n.at["Xã Bình Nguyên", "lon"], n.at["Xã Bình Nguyên", "lat"])
    assert resolve_commune("Bình Nguyên", vintage="legacy").status == "ambiguous"
    hist = resolve_commune("Vân Hội", "Tam Dương")
    assert hist.status == "historical" and hist.commune == "Xã Hội Thịnh"
    # a commune whose gazetteer point failed validation says so, and its point is its 2025 commune's
    ts = resolve_commune("Tây Sơn", "Lập Thạch")
    assert ts.placed and ts.point_ok is False
    c25 = n.loc[leg.at["Xã Tây Sơn", "commune_2025"]]
    assert (ts.lon, ts.lat) == (c25["lon"], c25["lat"])
    assert resolve_commune("Xuân Hòa").status == "ambiguous"
    with pytest.raises(GeocodeError):
        resolve_commune("Tề Lỗ", vintage=2024)
