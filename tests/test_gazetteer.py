"""The gazetteer against the official polygons (oracle, skipped without ../shared) and the crosswalk file."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from vpgeo import gazetteer
from vpgeo.gazetteer import communes_2025, districts, legacy_communes


def test_counts_and_codes() -> None:
    d, c, n = districts(), legacy_communes(), communes_2025()
    assert len(d) == 9 and len(c) == 121 and len(n) == 36
    assert c["code"].is_unique and n["code"].is_unique
    assert set(c["district_code"]) == set(d["code"])
    assert set(c["commune_2025_code"]) == set(n["code"])  # every 2025 unit is made of legacy ones


def test_bad_points_are_flagged_not_trusted() -> None:
    c = legacy_communes().set_index("name")
    assert c.loc["Xã Lương Điền", "point_status"] == "outside_province"
    # a flagged unit takes its 2025 commune's point and precision
    n = communes_2025().set_index("code")
    row = c.loc["Xã Lương Điền"]
    assert (row["lon"], row["lat"]) == (n.loc[row["commune_2025_code"], "lon"], n.loc[row["commune_2025_code"], "lat"])
    assert row["precision_m"] == n.loc[row["commune_2025_code"], "precision_m"]
    assert (c["point_status"] == "ok").sum() >= 115


def test_historical_names() -> None:
    c = legacy_communes().set_index("name")
    assert set(c.loc["Xã Hội Thịnh", "historical_keys"]) == {"vanhoi", "hopthinh"}
    assert "tantien" in c.loc["Xã Đại Đồng", "historical_keys"]


def test_crosswalk_equals_the_reference_mapping(reference_dir: Path) -> None:
    ref = pd.read_csv(reference_dir / "vinhphuc_commune_2025_mapping.csv", dtype=str)
    ours = legacy_communes().set_index("code")
    assert set(ref["old_commune_code"]) == set(ours.index)
    merged = ref.set_index("old_commune_code").join(ours)
    assert (merged["new_commune_code"] == merged["commune_2025_code"]).all()


def test_trusted_points_fall_in_their_official_units(reference_dir: Path) -> None:
    dist = gpd.read_file(reference_dir / "vinhphuc_districts_dvhcvn.geojson").to_crs("EPSG:5897")
    c = legacy_communes()
    pts = gpd.GeoDataFrame(c, geometry=gpd.points_from_xy(c["lon"], c["lat"]), crs="EPSG:4326").to_crs("EPSG:5897")
    joined = gpd.sjoin(pts, dist[["level2_id", "geometry"]], how="left", predicate="within")
    inside = joined["level2_id"] == joined["district_code"]
    # every point marked ok lies in its district, or within its stated precision of it
    for _, row in joined[~inside & (joined["point_status"] == "ok")].iterrows():
        own = dist[dist["level2_id"] == row["district_code"]].geometry.iloc[0]
        assert own.distance(row.geometry) <= row["precision_m"], row["name"]
    assert inside.sum() >= 118


def test_2025_points_and_areas_match_the_official_communes(reference_dir: Path) -> None:
    ref = gpd.read_file(reference_dir / "vinhphuc_communes2025_vietnam3dmap.geojson").to_crs("EPSG:5897")
    n = communes_2025()
    assert set(ref["id"]) == set(n["code"])
    pts = gpd.GeoDataFrame(n, geometry=gpd.points_from_xy(n["lon"], n["lat"]), crs="EPSG:4326").to_crs("EPSG:5897")
    joined = gpd.sjoin(pts, ref[["id", "geometry"]], how="left", predicate="within")
    assert (joined["id"] == joined["code"]).sum() >= 34
    areas = ref.set_index("id").geometry.area / 1e6
    rel = (n.set_index("code")["area_km2"] - areas).abs() / areas
    assert rel.max() < 0.05  # the package's areas agree with the polygons' to a few per cent
    assert n["area_km2"].sum() == pytest.approx(1236, abs=1)


# --- point validation (issue 14 item 4) ------------------------------------------------------------------


def test_points_off_their_commune_are_flagged() -> None:
    c = legacy_communes().set_index("name")
    # Tây Sơn's package point lies ~8 km off, in another commune; Lương Điền's ~70 km off, outside the province
    assert c.loc["Xã Tây Sơn", "point_status"] == "far_from_2025_commune"
    assert not c.loc["Xã Tây Sơn", "point_ok"] and not c.loc["Xã Lương Điền", "point_ok"]
    assert "2025 commune's point is used" in c.loc["Xã Tây Sơn", "point_note"]
    assert c.loc["Xã Tề Lỗ", "point_ok"] and c.loc["Xã Tề Lỗ", "point_note"] == ""
    assert (c["point_ok"] == (c["point_status"] == "ok")).all()
    # a flagged point is never the one used: the 2025 commune's point replaces it
    n = communes_2025().set_index("code")
    row = c.loc["Xã Tây Sơn"]
    assert (row["lon"], row["lat"]) == (n.at[row["commune_2025_code"], "lon"], n.at[row["commune_2025_code"], "lat"])
    assert gazetteer.point_ok(row["code"]) is False and gazetteer.point_ok(c.loc["Xã Tề Lỗ", "code"]) is True


def test_flagged_points_are_exactly_those_off_their_official_commune(reference_dir: Path) -> None:
    """Independent check: the official 2025 polygons (vietnam-3d-map) and the package's own points."""
    ref = gpd.read_file(reference_dir / "vinhphuc_communes2025_vietnam3dmap.geojson").rename(columns={"id": "code"})
    ref["code"] = ref["code"].astype(str)
    checked = gazetteer.check_points(ref).set_index("name")
    c = legacy_communes().set_index("name")
    pts = gpd.GeoSeries(gpd.points_from_xy(c["gazetteer_lon"], c["gazetteer_lat"]), crs=4326, index=c.index)
    own = ref.set_index("code").geometry.reindex(c["commune_2025_code"].astype(str)).to_numpy()
    dist = pts.to_crs(5897).distance(gpd.GeoSeries(own, crs=4326, index=c.index).to_crs(5897))
    off = dist > 200
    # every point more than 200 m outside its own official 2025 commune is not ok, by one check or another
    assert not checked.loc[off, "point_ok"].any(), checked.loc[off]
    assert off["Xã Tây Sơn"] and off["Xã Lương Điền"]
    # and the offline checks alone (no official polygons) already flag the far-off ones
    assert not c.loc[dist > 5000, "point_ok"].any()
