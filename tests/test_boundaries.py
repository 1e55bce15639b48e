"""Boundaries: official layers via the mirror, the shipped approximation, the crosswalk and the mergers."""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from vpgeo import boundaries, gazetteer
from vpgeo.crs import to_metric
from vpgeo.datasets import data_file
from vpgeo.errors import DataSourceError, InputError
from vpgeo.text import fold

# Floors measured with `python scripts/build_boundaries.py --measure ../shared/data/reference`
# (per district IoU 0.696–0.849, mean 0.799; 2025 communes 0.545–, mean 0.666; the plain Voronoi baseline
# below gets 0.632–0.858, mean 0.769), a little below to allow rebuilds.
DISTRICT_IOU_FLOOR = 0.69
DISTRICT_IOU_MEAN_FLOOR = 0.79
COMMUNE_IOU_MEAN_FLOOR = 0.65


def _metric(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return to_metric(gdf, operation="test", warn=False)


def _iou(a: shapely.Geometry, b: shapely.Geometry) -> float:
    return float(a.intersection(b).area / a.union(b).area)


def _boundary_distances(a: shapely.Geometry, b: shapely.Geometry) -> np.ndarray:
    out = []
    for s, t in ((a, b), (b, a)):
        pts = shapely.line_interpolate_point(s.boundary, np.arange(0, s.boundary.length, 50.0))
        out.append(shapely.distance(pts, t.boundary))
    return np.concatenate(out)


def _boundary_p90(a: shapely.Geometry, b: shapely.Geometry) -> float:
    return float(np.percentile(_boundary_distances(a, b), 90))


@pytest.fixture()
def via_mirror(mirror_url: str, data_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VPGEO_DATA_MIRROR", mirror_url)


@pytest.fixture(scope="module")
def ref_districts(reference_dir: Path) -> gpd.GeoDataFrame:
    ref = gpd.read_file(reference_dir / "vinhphuc_districts_dvhcvn.geojson")
    return _metric(ref).set_index("level2_id")


@pytest.fixture(scope="module")
def ref_communes(reference_dir: Path) -> gpd.GeoDataFrame:
    ref = gpd.read_file(reference_dir / "vinhphuc_communes2025_vietnam3dmap.geojson")
    return _metric(ref).set_index("id")


# --- official layers ---------------------------------------------------------------------------------


@pytest.mark.usefixtures("via_mirror")
def test_official_districts_equal_reference(ref_districts: gpd.GeoDataFrame) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # auto must not warn when the official file is reachable
        d = boundaries.load_districts()
    assert list(d.columns) == ["code", "name", "short", "source", "precision_m", "geometry"]
    assert d.crs.to_epsg() == 4326 and set(d["source"]) == {"official"}
    assert sorted(d["code"]) == sorted(gazetteer.districts()["code"])
    m = _metric(d).set_index("code")
    for code, geom in ref_districts.geometry.items():
        assert _iou(m.geometry[code], geom) == pytest.approx(1.0, abs=1e-9), code
    assert m.area.sum() / 1e6 == pytest.approx(1233.3, abs=2.0)
    prov = d.attrs["provenance"]
    assert prov["licence"] == "GPL-3.0" and prov["sha256"].startswith("dd01cc41")
    assert "2019" in prov["vintage"] and prov["retrieved"]


@pytest.mark.usefixtures("via_mirror")
def test_official_communes_2025(ref_communes: gpd.GeoDataFrame) -> None:
    c = boundaries.load_communes(vintage=2025, source="official")
    assert list(c.columns) == ["code", "name", "short", "type", "area_km2", "source", "precision_m", "geometry"]
    assert list(c["code"]) == list(gazetteer.communes_2025()["code"])
    assert set(c["source"]) == {"official"} and c.attrs["provenance"]["licence"].startswith("MIT")
    m = _metric(c).set_index("code")
    assert m.area.sum() / 1e6 == pytest.approx(1234.25, abs=2.0)
    assert c["area_km2"].sum() == pytest.approx(gazetteer.communes_2025()["area_km2"].sum(), abs=0.5)
    for code, geom in ref_communes.geometry.items():
        assert _iou(m.geometry[code], geom) > 0.999, code


@pytest.fixture()
def fresh_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    """A process that has not warned yet (the offline warning is given once per process)."""
    monkeypatch.setattr(boundaries, "_WARNED", set())
    monkeypatch.setattr(boundaries, "_UNAVAILABLE", {})


@pytest.mark.usefixtures("fresh_warning")
def test_auto_falls_back_with_one_short_warning(
    tmp_path: Path, data_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty-mirror"
    empty.mkdir()
    monkeypatch.setenv("VPGEO_DATA_MIRROR", empty.as_uri())
    with pytest.warns(UserWarning) as record:
        d = boundaries.load_districts()
        c = boundaries.load_communes()
    assert set(d["source"]) == {"approximate"} and len(d) == 9
    assert set(c["source"]) == {"approximate"} and len(c) == 36
    assert len(record) == 1  # one line for the process, not one per layer
    msg = str(record[0].message)
    assert "\n" not in msg and 'source="approx"' in msg and "unavailable" in msg and "lacks" in msg
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        boundaries.load_districts()  # no second warning
    with pytest.raises(DataSourceError, match="lacks"):
        boundaries.load_districts(source="official")


@pytest.mark.usefixtures("fresh_warning")
def test_auto_tries_the_network_once_per_process(
    tmp_path: Path, data_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VPGEO_DATA_MIRROR", (tmp_path / "unreachable").as_uri())
    calls: list[str] = []

    def failing_fetch(name: str, **_: object) -> Path:
        calls.append(name)
        raise DataSourceError(f"{name}: cannot reach the mirror")

    monkeypatch.setattr(boundaries, "fetch", failing_fetch)
    with pytest.warns(UserWarning, match="cannot reach the mirror"):
        assert set(boundaries.load_districts()["source"]) == {"approximate"}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(2):
            assert set(boundaries.load_districts()["source"]) == {"approximate"}
    assert calls == ["districts-dvhcvn"]
    with pytest.raises(DataSourceError):  # asking for the official layer still tries again
        boundaries.load_districts(source="official")
    assert calls == ["districts-dvhcvn", "districts-dvhcvn"]


@pytest.mark.usefixtures("fresh_warning")
def test_unwritable_cache_falls_back_to_the_shipped_layer(
    tmp_path: Path, mirror_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be", encoding="utf-8")
    monkeypatch.setenv("VPGEO_DATA_DIR", str(blocker / "cache"))  # cannot be created
    monkeypatch.setenv("VPGEO_DATA_MIRROR", mirror_url)
    with pytest.warns(UserWarning, match="cannot write the cache"):
        d = boundaries.load_districts()
    assert set(d["source"]) == {"approximate"} and len(d) == 9
    with pytest.raises(DataSourceError, match="VPGEO_DATA_DIR"):
        boundaries.load_districts(source="official")


def test_pooch_and_tqdm_are_not_imported_by_loading() -> None:
    """pooch imports tqdm.auto (a TqdmWarning in notebooks without ipywidgets): only a download imports it."""
    import subprocess
    import sys

    code = (
        "import sys, vpgeo.boundaries as b; b.load_districts(source='approx'); "
        "print('pooch' in sys.modules, 'tqdm' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"], out.stderr


def test_bad_arguments() -> None:
    with pytest.raises(InputError, match="source='best'"):
        boundaries.load_districts(source="best")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="vintage=2019"):
        boundaries.load_communes(vintage=2019)
    with pytest.raises(InputError, match="no official polygons of the legacy communes"):
        boundaries.load_communes(vintage="legacy", source="official")


# --- the shipped approximation ------------------------------------------------------------------------


def test_approximation_files_are_labelled_and_consistent() -> None:
    gaz_total = gazetteer.communes_2025()["area_km2"].sum()
    for layer, n in (("districts", 9), ("communes2025", 36), ("communes_legacy", 121)):
        name = f"boundaries/{layer}_approximate.geojson"
        raw = json.loads(data_file(name).read_text(encoding="utf-8"))
        assert raw["metadata"]["source"] == "approximate" and raw["metadata"]["approximate"] is True
        assert "approximate" in raw["metadata"]["layer"]
        assert len(raw["features"]) == n
        assert len(data_file(name).read_bytes()) < 120_000  # small: simplified, 4-decimal coordinates
    d = _metric(boundaries.load_districts(source="approx"))
    c = _metric(boundaries.load_communes(source="approx"))
    for layer in (d, c):
        assert layer.is_valid.all() and set(layer["source"]) == {"approximate"}
        # A partition: no overlaps, and the total close to the sum of the official commune areas.
        union = layer.union_all().area
        assert layer.area.sum() == pytest.approx(union, rel=1e-6)
        assert union / 1e6 == pytest.approx(gaz_total, rel=0.03)
    # Areas near the known ones (the solver takes a few balancing steps inside the district outlines).
    known = gazetteer.communes_2025().set_index("code")["area_km2"]
    err = (c.set_index("code").area / 1e6 - known).abs() / known
    assert err.max() < 0.20 and err.mean() < 0.06


def test_legacy_communes_are_polygons_where_the_point_is_trusted() -> None:
    leg = boundaries.load_communes(vintage="legacy")
    assert list(leg.columns) == [
        "code", "name", "short", "district_code", "district", "commune_2025_code", "commune_2025",
        "source", "precision_m", "geometry",
    ]  # fmt: skip
    gaz = gazetteer.legacy_communes().set_index("code")
    assert sorted(leg["code"]) == sorted(gaz.index)
    is_point = leg.set_index("code").geom_type == "Point"
    untrusted = gaz["point_status"] != "ok"
    assert (is_point == untrusted.reindex(is_point.index)).all()
    polys = _metric(leg[~leg.geom_type.eq("Point")])
    assert polys.is_valid.all()
    assert polys.area.sum() == pytest.approx(polys.union_all().area, rel=1e-6)
    # Legacy polygons nest in their 2025 commune and district (same coverage, dissolved).
    d = _metric(boundaries.load_districts(source="approx")).set_index("code")
    for code, grp in polys.groupby("district_code"):
        assert _iou(grp.union_all(), d.geometry[code]) > 0.95, code


def _plain_voronoi_districts() -> dict[str, shapely.Geometry]:
    """The baseline of issue 3: Voronoi of the 121 legacy points, clipped to the union of their bboxes."""
    leg = gazetteer.legacy_communes()
    pts = _metric(gpd.GeoDataFrame(leg, geometry=gpd.points_from_xy(leg["lon"], leg["lat"]), crs=4326))
    boxes = _metric(gpd.GeoDataFrame(geometry=[shapely.box(*b) for b in leg["bbox"]], crs=4326))
    outline = boxes[leg["point_status"].eq("ok").to_numpy()].union_all()
    cells = shapely.voronoi_polygons(shapely.MultiPoint(list(pts.geometry)), extend_to=outline.envelope)
    cell_gdf = gpd.GeoDataFrame(geometry=list(cells.geoms), crs=pts.crs)
    joined = gpd.sjoin(cell_gdf, pts[["district_code", "geometry"]], predicate="contains")
    return {code: grp.union_all().intersection(outline) for code, grp in joined.groupby("district_code")}


def test_approximation_iou_per_district(ref_districts: gpd.GeoDataFrame) -> None:
    approx = _metric(boundaries.load_districts(source="approx")).set_index("code")
    baseline = _plain_voronoi_districts()
    ious, base, p90 = {}, {}, {}
    for code, geom in ref_districts.geometry.items():
        ious[code] = _iou(approx.geometry[code], geom)
        base[code] = _iou(baseline[code], geom)
        p90[code] = _boundary_p90(approx.geometry[code], geom)
    report = pd.DataFrame({"iou": ious, "voronoi_iou": base, "boundary_p90_m": p90}).round(3)
    print("\n" + report.to_string())
    assert min(ious.values()) >= DISTRICT_IOU_FLOOR, report
    assert np.mean(list(ious.values())) >= DISTRICT_IOU_MEAN_FLOOR
    assert np.mean(list(ious.values())) > np.mean(list(base.values())) + 0.02
    assert min(ious.values()) > min(base.values()) + 0.04
    # precision_m bounds each district's measured outline error: its largest distance stays within it
    for code, geom in ref_districts.geometry.items():
        worst = _boundary_distances(approx.geometry[code], geom).max()
        assert worst <= approx.at[code, "precision_m"] < worst + 200, code


def test_approximation_iou_communes_2025(ref_communes: gpd.GeoDataFrame) -> None:
    approx = _metric(boundaries.load_communes(source="approx")).set_index("code")
    ious = [_iou(approx.geometry[c], g) for c, g in ref_communes.geometry.items()]
    p90 = [_boundary_p90(approx.geometry[c], g) for c, g in ref_communes.geometry.items()]
    assert np.mean(ious) >= COMMUNE_IOU_MEAN_FLOOR
    assert min(ious) > 0.5
    assert np.median(p90) < 1500
    for code, geom in ref_communes.geometry.items():
        worst = _boundary_distances(approx.geometry[code], geom).max()
        assert worst <= approx.at[code, "precision_m"] < worst + 200, code


def test_shipped_districts_are_who_s_on_first(shared_dir: Path) -> None:
    """The shipped district layer is derived from the pinned WOF files (joined on meso:local_id)."""
    root = shared_dir / "data" / "mirror" / "whosonfirst-data" / "whosonfirst-data-admin-vn"
    root = root / "36f4852c8e50b5637c140715b5d896c01baf2dd1"
    files = sorted(root.glob("data/110/878/*/*/*.geojson"))
    assert len(files) == 9 and (root / "LICENSE.md").is_file()
    approx = _metric(boundaries.load_districts(source="approx")).set_index("code")
    by_hasc: dict[str, list[str]] = {}
    for f in files:
        raw = json.loads(f.read_text(encoding="utf-8"))
        code = raw["properties"]["meso:local_id"][2:]
        by_hasc.setdefault(raw["properties"]["wof:concordances"]["hasc:id"], []).append(code)
        wof = _metric(gpd.GeoDataFrame(geometry=[shapely.geometry.shape(raw["geometry"])], crs=4326)).geometry[0]
        assert _iou(approx.geometry[code], wof) > 0.98, code
    codes = gazetteer.districts().set_index("short")["code"]
    # hasc:id would merge Lập Thạch and Sông Lô
    assert sorted(by_hasc["VN.VC.LT"]) == sorted([codes["Lập Thạch"], codes["Sông Lô"]])
    meta = boundaries.load_districts(source="approx").attrs["provenance"]
    assert meta["credit"] == "Data from Who's On First" and "whosonfirst.org/docs/licenses" in meta["licence_url"]
    assert "36f4852c8e50b5637c140715b5d896c01baf2dd1" in meta["derived_from"]


def test_random_points_offline(reference_dir: Path) -> None:
    """20,000 uniform points inside the province, geocoded with the shipped layers, against the official ones."""
    from vpgeo.geocoding import geocode

    province = _metric(gpd.read_file(reference_dir / "vinhphuc_province_dvhcvn.geojson")).union_all()
    rng = np.random.default_rng(15)
    x0, y0, x1, y1 = province.bounds
    cand = shapely.points(rng.uniform(x0, x1, 40_000), rng.uniform(y0, y1, 40_000))
    pts = gpd.GeoSeries(cand[shapely.contains(province, cand)][:20_000], crs=5897)
    assert len(pts) == 20_000
    ref_d = _metric(gpd.read_file(reference_dir / "vinhphuc_districts_dvhcvn.geojson"))
    ref_c = _metric(gpd.read_file(reference_dir / "vinhphuc_communes2025_vietnam3dmap.geojson"))
    truth_d = gpd.sjoin(gpd.GeoDataFrame(geometry=pts), ref_d[["level2_id", "geometry"]], predicate="within")
    truth_c = gpd.sjoin(gpd.GeoDataFrame(geometry=pts), ref_c[["id", "geometry"]], predicate="within")
    ll = pts.to_crs(4326)
    got = geocode(pd.DataFrame({"lon": ll.x, "lat": ll.y}), lon="lon", lat="lat", boundaries="approx")
    td = truth_d.groupby(level=0)["level2_id"].first().reindex(range(len(pts))).astype(str)
    tc = truth_c.groupby(level=0)["id"].first().reindex(range(len(pts))).astype(str)
    assert (got["district_code"].to_numpy() == td.to_numpy()).mean() >= 0.95
    assert (got["commune_2025_code"].to_numpy() == tc.to_numpy()).mean() >= 0.85
    assert (got["match_status"] == "outside").mean() <= 0.01
    # a point placed from beyond an outline says so
    beyond = got["match_note"].fillna("").str.contains("outside the district outline")
    assert beyond.sum() > 0 and (got.loc[beyond, "match_status"] == "exact").all()


# --- crosswalk and mergers ------------------------------------------------------------------------------


def test_crosswalk_cases() -> None:
    cw = boundaries.crosswalk()
    assert len(cw) == 121 and cw["commune_2025_code"].nunique() == 36
    assert set(cw["commune_2025_code"]) == set(gazetteer.communes_2025()["code"])
    by_name = cw.set_index("name")
    assert by_name.loc["Thị trấn Hương Canh", "commune_2025"] == "Xã Bình Nguyên"
    assert by_name.loc["Xã Duy Phiên", "commune_2025"] == "Xã Hội Thịnh"
    assert by_name.loc["Phường Khai Quang", "commune_2025"] == "Phường Vĩnh Phúc"
    assert by_name.loc["Xã Đại Đồng", "historical_names"] == ("Tân Tiến",)
    assert by_name.loc["Xã Lương Điền", "point_status"] == "outside_province"


def test_crosswalk_matches_reference_mapping(reference_dir: Path) -> None:
    ref = pd.read_csv(reference_dir / "vinhphuc_commune_2025_mapping.csv", dtype=str)
    cw = boundaries.crosswalk().set_index("code")
    ref = ref.set_index("old_commune_code")
    assert sorted(ref.index) == sorted(cw.index)
    agree = (cw.loc[ref.index, "commune_2025_code"] == ref["new_commune_code"]).mean()
    assert agree == 1.0


def test_mergers_table_matches_gazetteer_and_cites_sources() -> None:
    m = boundaries.load_mergers()
    gaz = gazetteer.legacy_communes().set_index("code")
    assert set(m["confidence"]) <= {"confirmed", "probable", "unknown"}
    for row in m.itertuples():
        assert gaz.at[row.code, "name"] == row.commune and gaz.at[row.code, "district"] == row.district
        assert row.source_url.startswith("https://")
        assert row.effective_date == "unknown" or re.fullmatch(r"\d{4}-\d{2}-\d{2}", row.effective_date)
    # Exactly the gazetteer's historical names, no more, no fewer.
    ours = sorted((r.code, fold(r.merged_name).replace(" ", "")) for r in m.itertuples())
    theirs = sorted((c, k) for c, keys in gaz["historical_keys"].items() for k in keys)
    assert ours == theirs
    pairs = set(zip(m["commune"], m["merged_name"], strict=True))
    assert {("Xã Hội Thịnh", "Vân Hội"), ("Xã Hội Thịnh", "Hợp Thịnh"), ("Xã Đại Đồng", "Tân Tiến")} <= pairs
    assert {("Phường Hai Bà Trưng", "Trưng Trắc"), ("Phường Hai Bà Trưng", "Trưng Nhị")} <= pairs
