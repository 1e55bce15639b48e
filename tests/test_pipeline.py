"""The pipeline layer: lazy exports, embedded defaults resolved here, user sites placed in their regions."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

import vpgeo.pipeline
from vpgeo.datasets import load_sites
from vpgeo.geocoding import match_name
from vpgeo.pipeline import ReportResult, build_report
from vpgeo.pipeline.report import is_embedded_sites

USER_CSV = (
    "Tên,Loại,Diện tích (ha),Xã,Huyện\n"
    "CCN Một,CCN,30,Hội Thịng,\n"  # a typo of Hội Thịnh
    "KCN Hai,KCN,200,Bình Nguyên,\n"  # a 2025 commune
    "CCN Ba,CCN,40,Hội Thịng; Bình Nguyên,\n"  # two communes: their union
    "CCN Bốn,CCN,10,Zzyzx Qwerty,\n"  # no such commune: kept, flagged, the province's region
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


def _metric_point(res: ReportResult, row: pd.Series) -> shapely.Point:
    """The row's best point in the CRS its region is recorded in."""
    crs = res.result.table.attrs["region_crs"]
    return gpd.GeoSeries([row.geometry], crs=res.result.table.crs).to_crs(crs).iloc[0]


def _hit_point(res: ReportResult, hit: dict[str, object]) -> shapely.Point:
    crs = res.result.table.attrs["region_crs"]
    return gpd.GeoSeries([shapely.Point(hit["lon"], hit["lat"])], crs="EPSG:4326").to_crs(crs).iloc[0]


def _covers_region(res: ReportResult, row: pd.Series) -> None:
    """The best point lies in the region and precision_m is its radius about it (rounded up to 10 m)."""
    pt, region = _metric_point(res, row), row["region"]
    assert region.covers(pt)
    radius = shapely.hausdorff_distance(pt, region)
    assert radius <= row["precision_m"] < radius + 10 + 1  # 1 m: the round trip through EPSG:4326


def test_commune_names_are_placed_through_the_geocoder(user_report: ReportResult) -> None:
    # one resolver: vpgeo.sites.prepare_sites reads the names through the geocoder; the rule gives the region
    cases = (("CCN Một", "Hội Thịng", "Xã Hội Thịnh"), ("KCN Hai", "Bình Nguyên", "Xã Bình Nguyên"))
    for name, commune, expected_2025 in cases:
        row = _row(user_report, name)
        hit = match_name(commune, mode="commune")
        assert row["commune_2025"] == expected_2025 == hit["commune_2025"]
        assert row["commune_2025_code"] == hit["commune_2025_code"]
        assert row["location_method"] == "commune_centroid"
        assert row["region_method"] == "communes_approximate"  # boundaries="approx"
        # the region is the 2025 commune: it holds the geocoder's point, and the disc of precision_m holds it
        _covers_region(user_report, row)
        assert row["region"].covers(_hit_point(user_report, hit))
        assert row["precision_m"] > hit["precision_m"]  # the whole commune, not the gazetteer point's disc
        assert "no_position" not in row["flags"]
    assert "commune_fuzzy_match" in _row(user_report, "CCN Một")["flags"]
    assert "commune_fuzzy_match" not in _row(user_report, "KCN Hai")["flags"]
    assert _row(user_report, "CCN Một")["commune"] == "Xã Hội Thịnh"  # the typo read as its commune


def test_several_communes_give_a_point_whose_precision_covers_them(user_report: ReportResult) -> None:
    row = _row(user_report, "CCN Ba")
    _covers_region(user_report, row)
    pt = _metric_point(user_report, row)
    for name in ("CCN Một", "KCN Hai"):  # each named commune's own region lies in the union
        one = _row(user_report, name)["region"]
        assert row["region"].buffer(1).covers(one)
        assert shapely.hausdorff_distance(pt, one) <= row["precision_m"]
    for name in ("Hội Thịng", "Bình Nguyên"):
        assert row["region"].covers(_hit_point(user_report, match_name(name, mode="commune")))
    # the units are the names' (the best point alone may lie in a third commune)
    assert row["commune_2025"] == "Xã Hội Thịnh;Xã Bình Nguyên"
    assert row["district"] == "Huyện Tam Dương;Huyện Bình Xuyên"


def test_unknown_commune_stays_unplaced_and_in_the_output(user_report: ReportResult) -> None:
    row = _row(user_report, "CCN Bốn")
    # no commune known: the region is the province (no district given), not an invented precision
    assert row["region_method"] == "province"
    assert "commune_unknown" in row["flags"] and "no_position" in row["flags"]
    _covers_region(user_report, row)
    assert row["precision_m"] > 20_000  # the province's radius about its best point
    assert row["within_buffer"] == "uncertain"
    assert user_report.result.coverage["sites_without_position"] == 1
    csv = pd.read_csv(user_report.files["sites.csv"], encoding="utf-8-sig")
    assert csv["name"].tolist() == ["CCN Một", "KCN Hai", "CCN Ba", "CCN Bốn", "CCN Năm"]  # every row, in order
    assert csv.loc[3, "region_method"] == "province"


def test_an_address_in_the_commune_column_is_read_as_one(user_report: ReportResult) -> None:
    row = _row(user_report, "CCN Năm")
    hit = match_name("xã Đạo Tú, huyện Tam Dương", mode="address")
    assert hit["commune"] == "Xã Đạo Tú" and row["commune"] == "Xã Đạo Tú"
    assert row["commune_code"] == hit["commune_code"] and row["commune_2025"] == hit["commune_2025"]
    assert row["location_method"] == "commune_centroid" and "commune_from_address" in row["flags"]
    assert "no_position" not in row["flags"] and row["region_method"] == "communes_approximate"
    _covers_region(user_report, row)


def test_sites_csv_has_positions_not_regions(user_report: ReportResult) -> None:
    csv = pd.read_csv(user_report.files["sites.csv"], encoding="utf-8-sig")
    assert "region" not in csv.columns and "geometry" not in csv.columns
    assert {"lon", "lat", "precision_m", "region_method"} <= set(csv.columns)
    if "nearest_access_name" in user_report.result.table.columns:  # the id, then its name
        cols = list(csv.columns)
        assert cols.index("nearest_access_name") == cols.index("nearest_access") + 1


def test_user_report_speaks_of_the_table_given(user_report: ReportResult) -> None:
    page = user_report.files["report.html"].read_text(encoding="utf-8")
    md = user_report.files["compliance.md"].read_text(encoding="utf-8")
    for text in (page, md):
        assert "news and provincial pages" not in text and "báo chí" not in text
        assert "mine.csv" in text
    assert "Chênh lệch / Gap" not in page
    assert "<title>Kiểm tra quy tắc cho bảng của bạn / Rule check of your table — vpgeo</title>" in page
    doc = json.loads(user_report.files["compliance.json"].read_text(encoding="utf-8"))
    assert doc["coverage"]["scope"] == "user" and doc["embedded_sites"] is False
    assert doc["targets"] == {}  # a user's table is not compared with the plan's province-wide targets
    assert "not compared" in doc["coverage"]["targets_note_en"]
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


def test_report_tables_keep_formula_looking_names_as_text(tmp_path: Path) -> None:
    """#12 item 3: the report's sites.csv goes through the shared CSV writer (OWASP quoting), like every output."""
    name = '=HYPERLINK("http://x","y") {{7*7}} <b>x</b>'
    frame = pd.DataFrame({"Tên": [name, "+1+1"], "Loại": ["CCN", "CCN"], "Xã": ["Hội Thịnh", "Kim Long"]})
    frame.to_csv(tmp_path / "mine.csv", index=False)
    res = build_report(tmp_path / "out", sites=tmp_path / "mine.csv", boundaries="approx", png=False)
    names = pd.read_csv(res.files["sites.csv"], encoding="utf-8-sig")["name"].tolist()
    assert names == ["'" + name, "'+1+1"]  # quoted once, otherwise verbatim (no template evaluated: no 49)


# ------------------------------------------------------------------------------- vpgeo score's progress (#16)


def _candidates_csv(path: Path, n: int, unplaced: int) -> None:
    """``n`` candidates in the province's bounding box; the first ``unplaced`` have no latitude."""
    import csv

    import numpy as np

    rng = np.random.default_rng(16)
    lon, lat = 105.35 + rng.random(n) * 0.5, 21.15 + rng.random(n) * 0.3
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["name", "lon", "lat"])
        w.writerows(
            [f"c{i}", f"{x:.6f}", "" if i < unplaced else f"{y:.6f}"]
            for i, (x, y) in enumerate(zip(lon, lat, strict=True))
        )


def test_score_prints_one_line_per_stage_with_rows_and_seconds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import csv
    import re

    from vpgeo.cli import main
    from vpgeo.pipeline.score import PROGRESS_ROWS

    n, unplaced = PROGRESS_ROWS, 7
    src, out, rej = tmp_path / "cands.csv", tmp_path / "scored.csv", tmp_path / "rejects.csv"
    _candidates_csv(src, n, unplaced)
    assert main(["score", str(src), "--out", str(out), "--rejects", str(rej)]) == 0
    captured = capsys.readouterr()
    corridors = len(json.loads(captured.out.split(": ", 1)[1])["corridors"])
    stages = [
        line for line in captured.err.splitlines() if re.match(r"vpgeo score: (read|geocoded|scored|wrote) ", line)
    ]
    expected = [
        f"vpgeo score: read {n:,} rows from {src}",
        f"vpgeo score: scored {n:,} rows against {corridors} corridors ({n - unplaced:,} ranked)",
        f"vpgeo score: wrote {n:,} rows to {out} and {unplaced:,} rejected rows to {rej}",
    ]
    assert [re.sub(r" in \d+\.\d s$", "", line) for line in stages] == expected
    assert all(re.search(r" in \d+\.\d s$", line) for line in stages)
    assert "rows/s" in captured.err or "%)" in captured.err  # the measuring bar (tqdm, or the counter)
    with out.open(encoding="utf-8-sig") as fh:
        assert sum(1 for _ in csv.DictReader(fh)) == n
    with rej.open(encoding="utf-8-sig") as fh:
        assert [r["name"] for r in csv.DictReader(fh)] == [f"c{i}" for i in range(unplaced)]


def test_score_progress_is_silent_when_not_asked_and_on_small_tables(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from vpgeo.cli import main
    from vpgeo.pipeline.score import score_file

    src = tmp_path / "small.csv"
    _candidates_csv(src, 500, 2)
    assert main(["score", str(src), "--out", str(tmp_path / "a.csv")]) == 0  # under PROGRESS_ROWS: quiet
    assert main(["score", str(src), "--out", str(tmp_path / "b.csv"), "--no-progress"]) == 0
    summary = score_file(src, tmp_path / "c.csv", progress=False)
    assert capsys.readouterr().err == "" and summary["rows_in"] == 500 and summary["ranked"] == 498


def test_score_announces_long_stages_on_a_terminal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from vpgeo.pipeline.score import PROGRESS_ROWS, score_file

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    src = tmp_path / "big.csv"
    _candidates_csv(src, PROGRESS_ROWS, 0)
    term = Terminal()
    monkeypatch.setattr(sys, "stderr", term)
    score_file(src, tmp_path / "s.csv", progress=True)
    text = term.getvalue()
    size = src.stat().st_size / 1e6
    assert text.startswith(
        f"vpgeo score: reading {src} ({size:.1f} MB) …\r\x1b[Kvpgeo score: read {PROGRESS_ROWS:,} rows"
    )
    assert f"vpgeo score: writing {PROGRESS_ROWS:,} rows to {tmp_path / 's.csv'} …\r\x1b[K" in text


def test_score_file_reads_its_table_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import vpgeo.io
    from vpgeo.pipeline.score import score_file

    src = tmp_path / "c.csv"
    src.write_text("ten,kinh độ,vĩ độ\nA,105.6,21.3\nB,105.7,\nC,105.5,21.25\n", encoding="utf-8")
    calls: list[object] = []
    real = vpgeo.io.read_table

    def counting(*args: object, **kw: object) -> pd.DataFrame:
        calls.append(args)
        return real(*args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(vpgeo.io, "read_table", counting)
    out = tmp_path / "s.csv"
    summary = score_file(src, out, progress=False)
    assert len(calls) == 1
    res = pd.read_csv(out, encoding="utf-8-sig")
    assert res["ten"].tolist() == ["A", "B", "C"] and summary["ranked"] == 2
    assert res["flags"].fillna("").tolist()[1].startswith("coordinates in 'kinh độ'/'vĩ độ' not usable")
