"""Sites: the facts table, the builder, the shipped GeoJSON, and user site tables."""

from __future__ import annotations

import csv
import json
import math
import unicodedata
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Transformer
from shapely.geometry import Point

from vpgeo.datasets import load_sites
from vpgeo.errors import CRSError, InputError
from vpgeo.gazetteer import legacy_communes
from vpgeo.sites import SITE_COLUMNS, build_sites, prepare_sites, write_sites_geojson

ROOT = Path(__file__).resolve().parent.parent
FACTS = ROOT / "data" / "facts" / "sites.csv"
GEOJSON = ROOT / "data" / "sites.geojson"
TO_M = Transformer.from_crs("EPSG:4326", "EPSG:5897", always_xy=True)

# The plan's named new CCN (plan.md / seed article), hectares by 2030.
PLAN_NEW_CCN = {
    "CCN Kim Xá": 30,
    "CCN Đại Đồng": 75,
    "CCN làng nghề Yên Phương": 45,
    "CCN làng nghề Tề Lỗ 2": 70,
    "CCN làng nghề Đồng Văn 3": 50,
    "CCN Duy Phiên": 75,
    "CCN Vân Hội": 60,
    "CCN Xuân Lôi": 57,
    "CCN Văn Quán – Triệu Đề": 50,
    "CCN Thanh Lãng": 52.6,
    "CCN Bá Hiến – Trung Mỹ": 50,
    "CCN Sơn Lôi": 56,
    "CCN Hợp Thành": 50,
    "CCN Yên Chung": 50,
}


@pytest.fixture(scope="module")
def facts_rows() -> list[dict[str, str]]:
    with FACTS.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def sites() -> gpd.GeoDataFrame:
    return build_sites()


def _by_id(sites: gpd.GeoDataFrame, site_id: str) -> pd.Series:
    hit = sites[sites["site_id"] == site_id]
    assert len(hit) == 1, site_id
    return hit.iloc[0]


# ---- the facts table ----------------------------------------------------------------------------------


def test_facts_table_is_nfc_utf8_with_ascii_unique_ids(facts_rows: list[dict[str, str]]) -> None:
    text = FACTS.read_text(encoding="utf-8")
    assert unicodedata.normalize("NFC", text) == text
    ids = [r["site_id"] for r in facts_rows]
    assert len(ids) == len(set(ids))
    assert all(i.isascii() and i == i.upper() for i in ids)


def test_site_count_matches_facts(sites: gpd.GeoDataFrame, facts_rows: list[dict[str, str]]) -> None:
    assert len(facts_rows) >= 60
    assert len(sites) == len(facts_rows)
    assert list(sites["site_id"]) == [r["site_id"] for r in facts_rows]


def test_kind_counts(sites: gpd.GeoDataFrame) -> None:
    # sites_facts.csv holds 24 KCN and 36 CCN; every one of them is carried over.
    assert (sites["kind"] == "KCN").sum() == 24
    assert (sites["kind"] == "CCN").sum() == 36


def test_named_new_ccn_areas_equal_plan(sites: gpd.GeoDataFrame) -> None:
    new = sites[(sites["kind"] == "CCN") & (sites["phase"] == "new_2030")].set_index("name")
    assert set(PLAN_NEW_CCN) <= set(new.index)
    for name, ha in PLAN_NEW_CCN.items():
        assert new.loc[name, "area_ha"] == pytest.approx(ha), name
    assert new.loc["CCN Xuân Lôi", "area_ha_2050"] == 75
    # The 14 named areas sum to 770.6 ha of the plan's ~1,247 ha of new CCN.
    assert new.loc[list(PLAN_NEW_CCN), "area_ha"].sum() == pytest.approx(770.6)


def test_unmatched_names_have_no_position(sites: gpd.GeoDataFrame) -> None:
    for sid in ("CCN-HOPTHANH-2030", "CCN-YENCHUNG-2030"):
        row = _by_id(sites, sid)
        assert row["geometry"] is None
        assert row["location_method"] == "none"
        assert pd.isna(row["precision_m"])
        assert pd.isna(row["commune"])
        assert "no position" in row["notes"]


def test_every_site_cites_an_http_source(sites: gpd.GeoDataFrame) -> None:
    for sid, src in zip(sites["site_id"], sites["source"], strict=True):
        parts = src.split(";")
        assert parts and all(p.startswith(("http://", "https://")) for p in parts), sid


def test_positioned_sites_have_positive_precision(sites: gpd.GeoDataFrame) -> None:
    placed = sites[sites.geometry.notna()]
    assert len(placed) == (sites["location_method"] != "none").sum()
    assert (placed["precision_m"] > 0).all()
    assert sites.loc[sites.geometry.isna(), "precision_m"].isna().all()


def test_location_methods_follow_the_facts(sites: gpd.GeoDataFrame, facts_rows: list[dict[str, str]]) -> None:
    for r, (_, s) in zip(facts_rows, sites.iterrows(), strict=True):
        if r["lon"]:
            assert s["location_method"] == "published_point"
            assert (s.geometry.x, s.geometry.y) == (float(r["lon"]), float(r["lat"]))
        elif r["communes"]:
            assert s["location_method"] == "commune_centroid"
        else:
            assert s["location_method"] == "none"


def test_published_point_precision() -> None:
    # 2 km geocoding allowance + 1.5 x radius of a disc of the park's area, rounded up to 100 m.
    row = _by_id(build_sites(), "KCN-KHAIQUANG")
    expected = math.ceil((2000 + 1.5 * math.sqrt(221.46e4 / math.pi)) / 100) * 100
    assert row["precision_m"] == expected == 3300


def test_single_commune_site_sits_on_gazetteer_point(sites: gpd.GeoDataFrame) -> None:
    g = legacy_communes().set_index("name")
    row = _by_id(sites, "CCN-KIMXA-2030")
    assert row["commune"] == "Xã Kim Xá"
    assert (row.geometry.x, row.geometry.y) == (g.loc["Xã Kim Xá", "lon"], g.loc["Xã Kim Xá", "lat"])
    assert row["precision_m"] == g.loc["Xã Kim Xá", "precision_m"]


def test_multi_commune_precision_covers_every_commune(sites: gpd.GeoDataFrame) -> None:
    g = legacy_communes().set_index("name")
    row = _by_id(sites, "KCN-SONLOI")
    names = row["commune"].split(";")
    assert names == ["Xã Sơn Lôi", "Xã Tam Hợp", "Thị trấn Bá Hiến", "Thị trấn Hương Canh"]
    xy = [TO_M.transform(g.loc[n, "lon"], g.loc[n, "lat"]) for n in names]
    mx, my = sum(x for x, _ in xy) / len(xy), sum(y for _, y in xy) / len(xy)
    reach = max(math.hypot(x - mx, y - my) + g.loc[n, "precision_m"] for (x, y), n in zip(xy, names, strict=True))
    assert row["precision_m"] == math.ceil(reach / 100) * 100
    px, py = TO_M.transform(row.geometry.x, row.geometry.y)
    assert math.hypot(px - mx, py - my) < 0.01
    assert row["commune_2025"] == "Xã Bình Nguyên;Xã Bình Tuyền"


def test_former_commune_names_resolve(sites: gpd.GeoDataFrame) -> None:
    van_hoi = _by_id(sites, "CCN-VANHOI-2030")
    assert van_hoi["commune"] == "Xã Hội Thịnh"
    assert van_hoi["commune_2025"] == "Xã Hội Thịnh"
    assert van_hoi["district"] == "Huyện Tam Dương"
    assert "Xã Vân Hội is a former commune merged into Xã Hội Thịnh" in van_hoi["notes"]
    assert _by_id(sites, "CCN-TANTIEN")["commune"] == "Xã Đại Đồng"
    assert _by_id(sites, "CCN-TRIEUDE")["commune"] == "Xã Tây Sơn"
    assert _by_id(sites, "CCN-VIETXUAN")["commune"] == "Xã Sao Đại Việt"


def test_sites_placed_from_2025_or_cross_district_sources() -> None:
    # baophutho (2025) names only the 2025 communes of KCN Nam Bình Xuyên: the legacy units the facts list
    # must merge into exactly those two, so the region is what the source says
    s = build_sites().set_index("site_id")
    assert set(s.loc["KCN-NAMBINHXUYEN", "commune_2025"].split(";")) == {"Xã Bình Nguyên", "Xã Xuân Lãng"}
    # the 1/500 plan of KCN Lập Thạch I spans two legacy districts; the district is derived from the communes
    assert s.loc["KCN-LAPTHACH1", "district"] == "Huyện Lập Thạch;Huyện Sông Lô"
    assert s.loc["KCN-LAPTHACH1", "location_method"] == "commune_centroid"


def test_district_only_sites_keep_their_district(sites: gpd.GeoDataFrame) -> None:
    row = _by_id(sites, "KCN-TAMDUONG2-A")
    assert row["district"] == "Huyện Tam Dương"
    assert row["location_method"] == "none"
    # KCN Kim Hoa: the pages give its district (Honda Vietnam's plant in Phúc Yên), not its ward
    kim_hoa = _by_id(sites, "KCN-KIMHOA")
    assert kim_hoa["district"] == "Thành phố Phúc Yên" and kim_hoa["location_method"] == "none"
    assert pd.isna(_by_id(sites, "KCN-YENBINH")["district"])


def test_site_placed_from_its_2025_commune() -> None:
    # the page names only the 2025 commune Sông Lô for KCN Sông Lô I: the legacy communes the facts list must
    # be exactly those merged into it (per the gazetteer), so the region is the 2025 commune and no more
    s = build_sites().set_index("site_id")
    assert s.loc["KCN-SONGLO1", "commune_2025"] == "Xã Sông Lô"
    assert s.loc["KCN-SONGLO1", "location_method"] == "commune_centroid"
    c = legacy_communes()
    merged = set(c.loc[c["commune_2025"] == "Xã Sông Lô", "name"])
    assert set(s.loc["KCN-SONGLO1", "commune"].split(";")) == merged


def test_output_column_order(sites: gpd.GeoDataFrame) -> None:
    assert list(sites.columns) == [*SITE_COLUMNS, "geometry"]
    assert sites.crs.to_epsg() == 4326


# ---- the shipped GeoJSON ------------------------------------------------------------------------------


def test_rebuild_reproduces_shipped_geojson(tmp_path: Path) -> None:
    out = write_sites_geojson(build_sites(), tmp_path / "sites.geojson")
    assert out.read_bytes() == GEOJSON.read_bytes()


def test_shipped_geojson_is_deterministic_and_sorted() -> None:
    doc = json.loads(GEOJSON.read_text(encoding="utf-8"))
    ids = [f["properties"]["site_id"] for f in doc["features"]]
    assert ids == sorted(ids)
    meta = doc["metadata"]
    assert meta["layer"] == "sites" and meta["built_from"] == "data/facts/sites.csv" and meta["crs"] == "EPSG:4326"
    assert "vietnamadminunits" in meta["gazetteer"] and "precision" in meta and "licence" in meta
    for f in doc["features"]:
        if f["geometry"] is not None:
            for v in f["geometry"]["coordinates"]:
                assert round(v, 6) == v


def test_load_sites_reads_provenance() -> None:
    s = load_sites()
    prov = s.attrs["provenance"]
    assert prov["layer"] == "sites" and prov["built_from"] == "data/facts/sites.csv"
    assert prov["counts"]["sites"] == len(s) == 60
    assert list(s.columns)[:15] == list(SITE_COLUMNS[:15])
    # with regions (default) every site has one and a point inside it; the facts alone leave 'none' unplaced
    assert s["region"].notna().all() and s.geometry.notna().all()
    raw = load_sites(regions=False)
    # 14 facts rows name neither a point nor a commune (counted from the facts table itself)
    facts = pd.read_csv(FACTS, dtype=str, keep_default_na=False)
    unplaced = int(((facts["lon"] == "") & (facts["communes"] == "")).sum())
    assert raw.geometry.isna().sum() == (raw["location_method"] == "none").sum() == unplaced == 14
    assert set(s.loc[raw["location_method"] == "none", "region_method"]) == {"district", "province"}


# ---- facts-table errors -------------------------------------------------------------------------------


def _facts_with(tmp_path: Path, facts_rows: list[dict[str, str]], row_index: int, **changes: str) -> Path:
    rows = [dict(r) for r in facts_rows[:5]]
    rows[row_index].update(changes)
    path = tmp_path / "facts.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(facts_rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


@pytest.mark.parametrize(
    ("changes", "fld", "words"),
    [
        ({"kind": "KHU"}, "kind", "unknown kind"),
        ({"phase": "soon"}, "phase", "unknown phase"),
        ({"communes": "Xã Hợp Thành"}, "communes", "unknown commune"),
        ({"site_id": "KCN-KHAIQUANG"}, "site_id", "duplicate site_id"),
        ({"area_ha": "52,6"}, "area_ha", "not a number"),
        ({"area_ha": ">200"}, "area_ha", "not a number"),
        ({"area_ha": "-3"}, "area_ha", "positive"),
        ({"district": "Huyện Mê Linh"}, "district", "unknown district"),
        ({"source": "the seed article"}, "source", "http"),
        ({"source": "https://a.vn/x;seed"}, "source", "http"),
    ],
)
def test_malformed_facts_rows_raise(
    tmp_path: Path, facts_rows: list[dict[str, str]], changes: dict[str, str], fld: str, words: str
) -> None:
    path = _facts_with(tmp_path, facts_rows, 2, **changes)
    with pytest.raises(InputError, match=words) as info:
        build_sites(path)
    assert info.value.row == 3 and info.value.field == fld and info.value.path == str(path)


def test_commune_outside_given_district_is_refused(tmp_path: Path, facts_rows: list[dict[str, str]]) -> None:
    path = _facts_with(tmp_path, facts_rows, 0, communes="Xã Kim Xá", district="Huyện Bình Xuyên", lon="", lat="")
    with pytest.raises(InputError, match="Kim Xá"):
        build_sites(path)


# ---- oracle: third-party district polygons (tests only) -----------------------------------------------


def test_commune_centroid_sites_lie_in_their_district(sites: gpd.GeoDataFrame, reference_dir: Path) -> None:
    ref = gpd.read_file(reference_dir / "vinhphuc_districts_dvhcvn.geojson").to_crs("EPSG:5897")
    polys = dict(zip(ref["name"], ref.geometry, strict=True))
    placed = sites[sites["location_method"].isin(["commune_centroid", "published_point"])].to_crs("EPSG:5897")
    assert len(placed) >= 40
    outside = []
    for _, s in placed.iterrows():
        # a site spanning districts (e.g. KCN Lập Thạch I) lies in the union of its districts
        poly = shapely.union_all([polys[d] for d in s["district"].split(";")])
        d = poly.distance(s.geometry)
        assert d <= s["precision_m"], (s["site_id"], d)
        if d > 0:
            outside.append(s["site_id"])
    # Gazetteer points are geocoder output; all of these happen to fall inside their district polygon.
    assert outside == []


# ---- prepare_sites -------------------------------------------------------------------------------------


def _vn_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Mã": ["A1", "A2", "A1", None, "A5", None],
            "Tên": ["CCN Thanh Lãng", "KCN Âm", "KCN Trùng", "Khu công nghiệp Mới", "CCN Vĩ độ sai", "  "],
            "Loại": ["cụm công nghiệp", "KCN", "khu công nghiệp", None, "ccn", "KCN"],
            "Diện tích (ha)": ["52,6 ha", "-5", "12", None, "1.236,5", "3"],
            "Xã": ["Thị trấn Thanh Lãng", None, None, "Xã Kim Xá", None, None],
            "Huyện": ["Huyện Bình Xuyên", None, None, None, None, None],
            "Kinh độ": ["105,70", None, 105.6, None, 21.3, None],
            "Vĩ độ": ["21,25", None, 21.3, None, 105.6, None],
        }
    )


def test_prepare_sites_vietnamese_table() -> None:
    table = _vn_table()
    sites, rejects = prepare_sites(table)
    assert len(sites) + len(rejects) == len(table)
    assert rejects[["row", "reason"]].values.tolist() == [
        [2, "area -5.0 ha is not positive"],
        [6, "no name and no site_id"],
    ]
    s = sites.set_index("site_id")
    assert list(s.index) == ["A1", "A1-2", "USER-KCN-MOI", "A5"]
    first = s.loc["A1"]
    assert first["kind"] == "CCN" and first["area_ha"] == 52.6 and first["commune"] == "Thị trấn Thanh Lãng"
    assert (first.geometry.x, first.geometry.y) == (105.7, 21.25)
    assert "decimal_comma" in first["flags"].split(";")
    assert "duplicate_id_renamed" in s.loc["A1-2", "flags"]
    new = s.loc["USER-KCN-MOI"]
    assert new["kind"] == "KCN" and new.geometry is None and new["location_method"] == "none"
    assert set(new["flags"].split(";")) == {"kind_from_name", "area_missing", "no_position", "site_id_generated"}
    swapped = s.loc["A5"]
    assert swapped["area_ha"] == 1236.5 and (swapped.geometry.x, swapped.geometry.y) == (105.6, 21.3)
    assert "lonlat_swapped" in swapped["flags"]


def test_prepare_sites_duplicate_reject_mode() -> None:
    table = _vn_table()
    sites, rejects = prepare_sites(table, duplicates="reject")
    assert len(sites) + len(rejects) == len(table)
    assert [3, "duplicate site_id 'A1'"] in rejects[["row", "reason"]].values.tolist()
    assert "A1-2" not in set(sites["site_id"])


def test_prepare_sites_generated_ids_are_stable() -> None:
    a, _ = prepare_sites(_vn_table(), source="/tmp/x.csv", id_prefix="survey 2025")
    b, _ = prepare_sites(_vn_table().iloc[::-1], source="elsewhere.csv", id_prefix="survey 2025")
    assert "SURVEY-2025-KCN-MOI" in set(a["site_id"]) & set(b["site_id"])
    assert set(a["site_id"]) == set(b["site_id"])
    assert set(a["source"]) == {"/tmp/x.csv"}


def test_prepare_sites_point_precision_and_commune_placement() -> None:
    table = pd.DataFrame(
        {
            "Tên": ["CCN A", "CCN B", "CCN C", "CCN D"],
            "Xã": [None, "Xã Vân Hội", "Xã Xuân Hòa", "Xã Không Có"],
            "Huyện": [None, None, "Huyện Lập Thạch", None],
            "Kinh độ": [105.6, None, None, None],
            "Vĩ độ": [21.3, None, None, None],
        }
    )
    plain, _ = prepare_sites(table)
    assert plain["precision_m"].isna().all() and plain.geometry.notna().sum() == 1
    placed, rejects = prepare_sites(table, point_precision_m=50, place_by_commune=True)
    assert len(rejects) == 0
    g = legacy_communes().set_index("code")
    assert placed["location_method"].tolist() == ["user_point", "commune_centroid", "commune_centroid", "none"]
    assert placed["precision_m"].iloc[0] == 50
    hoi_thinh = g.loc["08905"]  # Xã Hội Thịnh took in Vân Hội
    b = placed.iloc[1]
    assert (b.geometry.x, b.geometry.y) == (hoi_thinh["lon"], hoi_thinh["lat"])
    assert b["precision_m"] == hoi_thinh["precision_m"]
    assert "commune_former_name" in b["flags"]
    xuan_hoa = g.loc["08794"]  # the Lập Thạch one, not Phường Xuân Hòa of Phúc Yên
    assert (placed.iloc[2].geometry.x, placed.iloc[2].geometry.y) == (xuan_hoa["lon"], xuan_hoa["lat"])
    assert set(placed.iloc[3]["flags"].split(";")) >= {"commune_unknown", "no_position"}


def test_prepare_sites_english_headers_and_bad_values() -> None:
    table = pd.DataFrame(
        {
            "name": ["a", "b", "c", "d", "e"],
            "kind": ["KCN", "factory", "CCN", "CCN", "KCN"],
            "area": ["abc", "10", "1,236,000", "0", "7"],
            "longitude": [None, None, None, None, 562000.0],
            "latitude": [None, None, None, None, 2356000.0],
        }
    )
    sites, rejects = prepare_sites(table)
    assert len(sites) + len(rejects) == 5
    reasons = dict(zip(rejects["row"], rejects["reason"], strict=True))
    assert reasons[1] == "area 'abc' is not a number"
    assert reasons[2].startswith("unknown kind 'factory'")
    assert "ambiguous" in reasons[3]
    assert reasons[4] == "area 0.0 ha is not positive"
    assert "projected metres" in reasons[5]
    assert len(sites) == 0 and list(sites.columns)[-2:] == ["flags", "geometry"]


def test_prepare_sites_missing_columns() -> None:
    with pytest.raises(InputError, match="no name column"):
        prepare_sites(pd.DataFrame({"Diện tích (ha)": [3]}))
    # No kind, area or position columns: rows are kept, flagged.
    sites, rejects = prepare_sites(pd.DataFrame({"Tên": ["KCN A", "Cụm công nghiệp B", "C"]}))
    assert len(sites) == 3 and len(rejects) == 0
    assert list(sites["kind"].fillna("-")) == ["KCN", "CCN", "-"]
    assert sites.geometry.isna().all()
    assert all("no_position" in f and "area_missing" in f for f in sites["flags"])
    assert "kind_missing" in sites["flags"].iloc[2]


def test_prepare_sites_geodataframe_input() -> None:
    pts = gpd.GeoDataFrame(
        {"name": ["KCN A", "KCN B"], "area_ha": [10, 20]},
        geometry=[Point(562000, 2356000), None],
        crs="EPSG:5897",
    )
    sites, rejects = prepare_sites(pts)
    assert len(rejects) == 0 and sites.crs.to_epsg() == 4326
    assert sites["location_method"].tolist() == ["user_geometry", "none"]
    assert 105.5 < sites.geometry.iloc[0].x < 105.7 and 21.2 < sites.geometry.iloc[0].y < 21.4
    with pytest.raises(CRSError):
        prepare_sites(gpd.GeoDataFrame({"name": ["x"]}, geometry=[Point(105, 21)]))


def test_prepare_sites_accepts_build_sites_output(sites: gpd.GeoDataFrame) -> None:
    out, rejects = prepare_sites(sites, source="vpgeo")
    assert len(out) + len(rejects) == len(sites)
    # Sites without an area are kept (flagged), so only rows with a real problem could be rejected: none.
    assert len(rejects) == 0
    assert list(out["site_id"]) == list(sites["site_id"])


_cell = st.one_of(
    st.none(),
    st.text(alphabet="0123456789,.- haKCNkcn", max_size=8),
    st.floats(allow_nan=True, allow_infinity=True),
)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.one_of(st.none(), st.sampled_from(["A", "B", "A"])),
            st.one_of(st.none(), st.text(max_size=6)),
            st.one_of(st.none(), st.sampled_from(["KCN", "CCN", "cụm công nghiệp", "x", ""])),
            _cell,
            _cell,
            _cell,
        ),
        max_size=12,
    ),
    st.sampled_from(["rename", "reject"]),
)
def test_prepare_sites_never_loses_rows(rows: list[tuple[object, ...]], mode: str) -> None:
    table = pd.DataFrame(rows, columns=["site_id", "Tên", "Loại", "Diện tích", "lon", "lat"])
    sites, rejects = prepare_sites(table, duplicates=mode)  # type: ignore[arg-type]
    assert len(sites) + len(rejects) == len(table)
    assert sites["site_id"].is_unique
    assert sorted([*rejects["row"].tolist()]) == sorted(set(rejects["row"].tolist()))
    assert (sites["area_ha"].dropna() > 0).all()


def test_prepare_sites_resolves_communes_through_the_geocoder() -> None:
    from vpgeo.boundaries import load_communes, load_districts
    from vpgeo.regions import site_regions

    df = pd.DataFrame(
        {
            "name": ["CCN A", "CCN B", "CCN C", "CCN D"],
            "kind": ["CCN"] * 4,
            "commune": ["Hội Thịng", "Bình Nguyên", "Vân Hội", "Không Có Xã Này"],
        }
    )
    sites, rejects = prepare_sites(df, place_by_commune=True)
    assert rejects.empty
    s = sites.set_index("name")
    # a typo (fuzzy), a 2025 name, a former name: placed; an unknown name: kept, unplaced, flagged
    assert s.loc["CCN A", "commune_code"] == "08905" and "commune_fuzzy_match" in s.loc["CCN A", "flags"]
    assert s.loc["CCN B", "commune_2025_code"] == "08935" and pd.isna(s.loc["CCN B", "commune_code"])
    assert s.loc["CCN C", "commune"] == "Xã Hội Thịnh" and "commune_former_name" in s.loc["CCN C", "flags"]
    assert list(s["location_method"]) == ["commune_centroid"] * 3 + ["none"]
    assert "commune_unknown" in s.loc["CCN D", "flags"]
    legacy = load_communes(vintage="legacy", source="approx")
    c25 = load_communes(vintage=2025, source="approx")
    r = site_regions(sites, legacy, c25, load_districts(source="approx")).set_index("name")
    # Bình Nguyên's region is its 2025 commune (widened by its precision): it holds the commune's polygon
    poly = c25.set_index("code").loc["08935", "geometry"]
    assert r.loc["CCN B", "region"].buffer(1e-9).covers(poly)
    assert r.loc["CCN D", "region_method"] == "province"


@pytest.mark.parametrize("area", ["1e300", "200000", "-5", "nan"])
def test_prepare_sites_rejects_absurd_areas_per_row(area: str) -> None:
    df = pd.DataFrame({"name": ["KCN A", "KCN B"], "kind": ["KCN", "KCN"], "area_ha": [area, "100"]})
    sites, rejects = prepare_sites(df)
    assert list(sites["name"]) == ["KCN B"] and list(rejects["row"]) == [1]
    assert "area" in rejects.loc[0, "reason"]


def test_regions_are_not_written_with_the_sites(tmp_path: Path) -> None:
    doc = json.loads(write_sites_geojson(load_sites(), tmp_path / "s.geojson").read_text(encoding="utf-8"))
    assert "region" not in doc["features"][0]["properties"]
    assert doc["features"][0]["properties"]["region_method"]


def test_prepare_sites_reads_an_address_in_the_commune_column() -> None:
    """An address where a commune name was expected is read once as a whole address (same resolver)."""
    from vpgeo.geocoding import resolve_commune

    df = pd.DataFrame({"Tên": ["CCN Năm"], "Loại": ["CCN"], "Xã": ["xã Đạo Tú, huyện Tam Dương"]})
    sites, rejects = prepare_sites(df, place_by_commune=True)
    expected = resolve_commune("Đạo Tú", "Tam Dương")
    assert len(sites) == 1 and len(rejects) == 0
    row = sites.iloc[0]
    assert row["commune_code"] == expected.commune_code and row["commune_2025_code"] == expected.commune_2025_code
    assert "commune_from_address" in row["flags"] and "commune_unknown" not in row["flags"]
