"""The pipeline layer: lazy exports, embedded defaults resolved here, user sites placed through the geocoder."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from pyproj import Geod

import vpgeo.pipeline
from vpgeo.datasets import load_sites
from vpgeo.geocoding import match_name
from vpgeo.pipeline import ReportResult, build_report
from vpgeo.pipeline.report import is_embedded_sites

USER_CSV = (
    "Tên,Loại,Diện tích (ha),Xã,Huyện\n"
    "CCN Một,CCN,30,Hội Thịng,\n"  # a typo of Hội Thịnh
    "KCN Hai,KCN,200,Bình Nguyên,\n"  # a 2025 commune
    "CCN Ba,CCN,40,Hội Thịng; Bình Nguyên,\n"  # two communes: the mean, covering both
    "CCN Bốn,CCN,10,Zzyzx Qwerty,\n"  # no such commune: kept, unplaced
    'CCN Năm,CCN,5,"xã Đạo Tú, huyện Tam Dương",\n'  # an address in the commune column
)


@pytest.fixture(scope="module")
def user_report(tmp_path_factory: pytest.TempPathFactory) -> ReportResult:
    d = tmp_path_factory.mktemp("user")
    (d / "mine.csv").write_text(USER_CSV, encoding="utf-8")
    return build_report(d / "out", sites=d / "mine.csv", boundaries="approx", png=False)


def _row(res: ReportResult, name: str) -> pd.Series:
    t = res.result.table
    return t[t["name"] == name].iloc[0]


def test_commune_names_are_placed_through_the_geocoder(user_report: ReportResult) -> None:
    cases = (("CCN Một", "Hội Thịng", "Xã Hội Thịnh"), ("KCN Hai", "Bình Nguyên", "Xã Bình Nguyên"))
    for name, commune, expected_2025 in cases:
        row = _row(user_report, name)
        hit = match_name(commune, mode="commune")
        pt = gpd.GeoSeries([row.geometry], crs=user_report.result.table.crs).to_crs("EPSG:4326").iloc[0]
        assert (pt.x, pt.y) == pytest.approx(
            (hit["lon"], hit["lat"]), abs=1e-7
        )  # 1e-7 degree ~ 1 cm: the round trip through the metric CRS
        assert row["precision_m"] == hit["precision_m"]
        assert row["commune_2025"] == expected_2025
        assert row["location_method"] == "commune_centroid"
        assert "commune_by_geocoder" in row["flags"] and "no_position" not in row["flags"]
    assert "commune_fuzzy_match" in _row(user_report, "CCN Một")["flags"]
    assert "commune_fuzzy_match" not in _row(user_report, "KCN Hai")["flags"]


def test_several_communes_give_a_point_whose_precision_covers_them(user_report: ReportResult) -> None:
    row = _row(user_report, "CCN Ba")
    pt = gpd.GeoSeries([row.geometry], crs=user_report.result.table.crs).to_crs("EPSG:4326").iloc[0]
    geod = Geod(ellps="GRS80")
    for name in ("Hội Thịng", "Bình Nguyên"):
        hit = match_name(name, mode="commune")
        _, _, d = geod.inv(pt.x, pt.y, hit["lon"], hit["lat"])
        assert d + hit["precision_m"] <= row["precision_m"] + 5  # 5 m: the projection vs the ellipsoid
    assert row["commune_2025"] == "Xã Hội Thịnh;Xã Bình Nguyên"


def test_unknown_commune_stays_unplaced_and_in_the_output(user_report: ReportResult) -> None:
    row = _row(user_report, "CCN Bốn")
    assert row.geometry is None or row.geometry.is_empty
    assert "no_position" in row["flags"]
    assert row["within_buffer"] == "uncertain"
    csv = pd.read_csv(user_report.files["sites.csv"], encoding="utf-8-sig")
    assert csv["name"].tolist() == ["CCN Một", "KCN Hai", "CCN Ba", "CCN Bốn", "CCN Năm"]  # every row, in order


def test_an_address_in_the_commune_column_is_read_as_one(user_report: ReportResult) -> None:
    row = _row(user_report, "CCN Năm")
    hit = match_name("xã Đạo Tú, huyện Tam Dương", mode="address")
    assert hit["commune"] == "Xã Đạo Tú" and row["commune"] == "Xã Đạo Tú"
    assert row["precision_m"] == hit["precision_m"] and "commune_by_geocoder" in row["flags"]


def test_user_report_speaks_of_the_table_given(user_report: ReportResult) -> None:
    page = user_report.files["report.html"].read_text(encoding="utf-8")
    md = user_report.files["compliance.md"].read_text(encoding="utf-8")
    for text in (page, md):
        assert "news and provincial pages" not in text and "báo chí" not in text
        assert "mine.csv" in text
    assert "Chênh lệch / Gap" not in page
    assert "<title>Kiểm tra quy tắc cho bảng của bạn / Rule check of your table — vpgeo</title>" in page
    doc = json.loads(user_report.files["compliance.json"].read_text(encoding="utf-8"))
    assert doc["coverage"]["scope"] == "user"
    assert doc["targets"]["kcn_2030"]["plan"] == 24  # the plan's figure, for reference
    assert all(t["gap"] is None and t["compared"] is False for t in doc["targets"].values())
    assert "5 sites (1 KCN, 4 CCN; 285 ha" in doc["coverage"]["statement_en"]


def test_is_embedded_sites() -> None:
    sites = load_sites()
    assert is_embedded_sites(None) and is_embedded_sites(sites)
    assert not is_embedded_sites(sites.iloc[:3])  # a part of the list is not the list
    user = sites.copy()
    user.attrs = {"provenance": {"layer": "sites", "file": "mine.csv", "supplied_by": "user"}}
    assert not is_embedded_sites(user)


def test_boundaries_file_without_geometry_is_refused(tmp_path: Path) -> None:
    from vpgeo.errors import InputError

    (tmp_path / "b.csv").write_text("name\nA\n", encoding="utf-8")
    with pytest.raises(InputError, match="no geometry") as exc:
        build_report(tmp_path / "out", boundaries=tmp_path / "b.csv", png=False)
    assert exc.value.path == str(tmp_path / "b.csv")


def test_a_table_with_every_row_rejected_says_so(tmp_path: Path) -> None:
    from vpgeo.errors import InputError

    (tmp_path / "bad.csv").write_text("Tên,Loại,Diện tích (ha)\nKCN X,KCN,-5\nCCN Y,CCN,0\n", encoding="utf-8")
    with pytest.raises(InputError, match="all 2 rows were rejected") as exc:
        build_report(tmp_path / "out", sites=tmp_path / "bad.csv", boundaries="approx", png=False)
    assert exc.value.path == str(tmp_path / "bad.csv") and "\n" not in str(exc.value)
    rejects = pd.read_csv(tmp_path / "out" / "rejects.csv", encoding="utf-8-sig")
    assert rejects["row"].tolist() == [1, 2] and rejects["reason"].str.contains("not positive").all()


def _fresh(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_pipeline_package_imports_lazily() -> None:
    loaded = _fresh(
        "import sys, vpgeo.pipeline; print(sorted(m for m in ('geopandas', 'pandas', 'folium', 'shapely') "
        "if m in sys.modules))"
    )
    assert loaded == "[]"
    assert vpgeo.pipeline.build_report is build_report
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        vpgeo.pipeline.nope  # noqa: B018
    assert "build_report" in dir(vpgeo.pipeline)


def test_report_renderer_does_not_import_the_rules() -> None:
    # the renderer takes a rule result as an argument: no rules <-> report cycle
    assert _fresh("import sys, vpgeo.report; print('vpgeo.rules' in sys.modules)") == "False"
