"""Site regions: every site lies in its region (checked against third-party polygons vpgeo does not ship)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import LineString, Point, Polygon

from vpgeo.boundaries import load_communes, load_districts, load_mergers
from vpgeo.datasets import load_sites
from vpgeo.regions import (
    DMAX_TOLERANCE_M,
    best_point,
    distance_intervals,
    point_regions,
    share_within,
    site_regions,
)
from vpgeo.text import key

ROOT = Path(__file__).resolve().parent.parent
FACTS = ROOT / "data" / "facts" / "sites.csv"
MEASURED = ROOT / "data" / "boundaries" / "precision_measured.json"
# vietnam63's commune polygons are coarse (21-66 vertices, neighbours overlap 9.4 km² in all): a polygon of it
# may stick out of the true commune by a few hundred metres, so containment is tested after shrinking it by
# this much (an allowance for the oracle's own error, not for vpgeo's).
ORACLE_SLACK_M = 300.0


@pytest.fixture(scope="module")
def official(shared_dir: Path) -> dict[str, gpd.GeoDataFrame]:
    mp = pytest.MonkeyPatch()
    mp.setenv("VPGEO_DATA_MIRROR", (shared_dir / "data" / "mirror").as_uri() + "/")
    try:
        return {
            "c2025": load_communes(vintage=2025, source="official"),
            "districts": load_districts(source="official"),
        }
    finally:
        mp.undo()


def _reference_communes(reference_dir: Path) -> gpd.GeoDataFrame:
    ref = gpd.read_file(reference_dir / "vinhphuc_communes_vietnam63.geojson").to_crs("EPSG:5897")
    ref["k"] = [key(n) for n in ref["commune_vn"]]
    ref["dk"] = [key(n) for n in ref["district_vn"]]
    return ref


def _named_polygons(ref: gpd.GeoDataFrame, facts_row: pd.Series) -> list[tuple[str, object]]:
    """Reference polygons of the communes a facts row names (a merged commune: its former parts)."""
    mergers = load_mergers()
    out = []
    dk = key(facts_row["district"]) if facts_row["district"] else None
    for name in [n.strip() for n in facts_row["communes"].split(";") if n.strip()]:
        pool = ref if dk is None else ref[ref["dk"] == dk]
        hit = pool[pool["k"] == key(name)]
        if hit.empty:  # formed by a merger after the oracle's vintage: the union of its former communes
            former = mergers.loc[mergers["commune"].map(key) == key(name), "merged_name"].map(key)
            hit = pool[pool["k"].isin(set(former))]
        if hit.empty:
            continue
        out.append((name, shapely.union_all(hit.geometry.to_numpy())))
    return out


def _containment_failures(sites: gpd.GeoDataFrame, reference_dir: Path) -> list[str]:
    ref = _reference_communes(reference_dir)
    facts = pd.read_csv(FACTS, dtype=str, keep_default_na=False).set_index("site_id")
    regions = gpd.GeoSeries(sites["region"].to_numpy(), crs=sites.crs).to_crs("EPSG:5897")
    bad, checked = [], 0
    for sid, region, method in zip(sites["site_id"], regions, sites["location_method"], strict=True):
        if method != "commune_centroid":
            continue
        for name, poly in _named_polygons(ref, facts.loc[sid]):
            checked += 1
            core = shapely.buffer(poly, -ORACLE_SLACK_M)
            if not shapely.covers(region, core):
                out = shapely.difference(core, region)
                bad.append(f"{sid} / {name}: {out.area / 1e6:.2f} km² outside")
    assert checked >= 30, checked  # the oracle names most of the commune-placed sites
    return bad


def _legacy_oracle(ref: gpd.GeoDataFrame, legacy: gpd.GeoDataFrame) -> dict[str, shapely.Geometry]:
    """vietnam63's polygon of each legacy commune: its name in its district, or its former communes' union."""
    mergers = load_mergers()
    out = {}
    for code, short, district in zip(legacy["code"], legacy["short"], legacy["district"], strict=True):
        names = {key(short)} | set(mergers.loc[mergers["code"] == code, "merged_name"].map(key))
        hit = ref[(ref["dk"] == key(district)) & ref["k"].isin(names)]
        if not hit.empty:
            out[code] = shapely.union_all(hit.geometry.to_numpy())
    return out


def test_widened_legacy_approximation_contains_independent_polygons(reference_dir: Path) -> None:
    """Every legacy polygon's precision_m is a containment bound: widened by it (an inscribed buffer, so
    tighter than the regions' own widening), it holds vietnam63's polygon of the commune with no slack."""
    ref = _reference_communes(reference_dir)
    legacy = load_communes(vintage="legacy", source="approx").to_crs("EPSG:5897")
    polys = legacy[legacy.geom_type != "Point"].set_index("code")
    measured = json.loads(MEASURED.read_text(encoding="utf-8"))["communes_legacy"]
    assert sorted(measured) == sorted(polys.index)  # every polygon is measured, none falls back
    assert (polys["precision_m"] == pd.Series(measured).reindex(polys.index)).all()
    oracle = _legacy_oracle(ref, legacy)
    assert len(oracle) == len(legacy) == 121
    assert set().union(*[set(ref.index[ref.geometry.within(g.buffer(1.0))]) for g in oracle.values()]) == set(
        ref.index
    )  # every one of the 137 oracle communes belongs to a legacy commune
    widened = shapely.buffer(polys.geometry.to_numpy(), polys["precision_m"].to_numpy(dtype=float), quad_segs=16)
    bad = [
        f"{c}: {shapely.difference(oracle[c], w).area / 1e6:.3f} km² outside"
        for c, w in zip(polys.index, widened, strict=True)
        if not shapely.covers(w, oracle[c])
    ]
    assert bad == []
    # the former precision, the 2025 commune's outline error, did not bound the inner edges
    old = load_communes(vintage=2025, source="approx").set_index("code")["precision_m"]
    old_widened = shapely.buffer(
        polys.geometry.to_numpy(), old.reindex(polys["commune_2025_code"]).to_numpy(dtype=float), quad_segs=16
    )
    assert sum(not shapely.covers(w, oracle[c]) for c, w in zip(polys.index, old_widened, strict=True)) >= 20


def test_legacy_oracle_allowance_covers_vietnam63_error(reference_dir: Path) -> None:
    """The allowance for vietnam63's own error is at least how far the official 2025 communes reach out of
    vietnam63's union of their legacy communes (checked at 5 m steps along the official outlines)."""
    ref = _reference_communes(reference_dir)
    legacy = load_communes(vintage="legacy", source="approx").to_crs("EPSG:5897")
    oracle = _legacy_oracle(ref, legacy)
    official = gpd.read_file(reference_dir / "vinhphuc_communes2025_vietnam3dmap.geojson").to_crs("EPSG:5897")
    reach = 0.0
    for code, geom in zip(official["id"].astype(str), official.geometry, strict=True):
        union = shapely.union_all([oracle[c] for c in legacy.loc[legacy["commune_2025_code"] == code, "code"]])
        pts = shapely.line_interpolate_point(geom.boundary, np.arange(0.0, geom.boundary.length, 5.0))
        reach = max(reach, float(shapely.distance(pts, union).max()))
    allowance = json.loads(MEASURED.read_text(encoding="utf-8"))["communes_legacy_oracle_allowance_m"]
    assert 500.0 < reach <= allowance  # vietnam63 is coarse: its error is real and is allowed for


def test_embedded_regions_contain_named_communes_approx(reference_dir: Path) -> None:
    sites = load_sites(boundaries="approx")
    assert _containment_failures(sites, reference_dir) == []


def test_embedded_regions_contain_named_communes_official(
    reference_dir: Path, official: dict[str, gpd.GeoDataFrame]
) -> None:
    sites = site_regions(
        load_sites(regions=False),
        load_communes(vintage="legacy", source="approx"),
        official["c2025"],
        official["districts"],
    )
    assert set(sites.loc[sites["location_method"] == "commune_centroid", "region_method"]) == {"communes_official"}
    assert _containment_failures(sites, reference_dir) == []


def test_intersecting_legacy_tightens_regions() -> None:
    raw = load_sites(regions=False)
    layers = (
        load_communes(vintage="legacy", source="approx"),
        load_communes(vintage=2025, source="approx"),
        load_districts(source="approx"),
    )
    loose, tight = site_regions(raw, *layers, intersect_legacy=False), site_regions(raw, *layers)
    placed = raw["location_method"] == "commune_centroid"
    assert (tight.loc[placed, "region_area_km2"] <= loose.loc[placed, "region_area_km2"] + 1e-6).all()
    assert (tight.loc[placed, "region_area_km2"] < loose.loc[placed, "region_area_km2"]).sum() >= 10


def test_official_regions_are_tighter_than_approx(official: dict[str, gpd.GeoDataFrame]) -> None:
    raw = load_sites(regions=False)
    legacy = load_communes(vintage="legacy", source="approx")
    off = site_regions(raw, legacy, official["c2025"], official["districts"])
    approx = load_sites(boundaries="approx")
    placed = raw["location_method"] == "commune_centroid"
    assert (off.loc[placed, "region_area_km2"] < approx.loc[placed, "region_area_km2"]).all()


def test_best_point_inside_and_precision_bounds_region() -> None:
    sites = load_sites()
    metric = sites.to_crs("EPSG:5897")
    regions = gpd.GeoSeries(sites["region"].to_numpy(), crs=sites.crs).to_crs("EPSG:5897")
    for p, r, prec in zip(metric.geometry, regions, sites["precision_m"], strict=True):
        assert shapely.covers(shapely.buffer(r, 1.0), p)
        # the disc of precision_m about the point holds the whole region (the test disc is inscribed: widen it;
        # a point's own disc region is circumscribed, by 1 / cos(pi / 64))
        disc = shapely.buffer(p, prec / math.cos(math.pi / 256) / math.cos(math.pi / 64) + 1.0, quad_segs=64)
        assert shapely.covers(disc, r)


def test_best_point_radius_brute_force() -> None:
    poly = Polygon([(0, 0), (4000, 0), (4000, 1000), (1000, 1000), (1000, 3000), (0, 3000)])
    point, radius = best_point(poly)
    assert shapely.covers(poly, point)
    xs, ys = np.meshgrid(np.linspace(0, 4000, 81), np.linspace(0, 3000, 61))
    pts = shapely.points(xs.ravel(), ys.ravel())
    inside = pts[shapely.covers(poly, pts)]
    assert radius == pytest.approx(float(np.max(shapely.distance(point, inside))), abs=1e-6)


def test_point_regions_unknown_precision_has_none() -> None:
    g = gpd.GeoSeries([Point(500000, 2350000), Point(501000, 2350000)], crs="EPSG:5897")
    reg = point_regions(g, [np.nan, 200.0])
    assert reg.iloc[0] is None
    assert reg.iloc[1].area == pytest.approx(math.pi * 200.0**2, rel=0.01)


def _brute_dmax(region: Polygon, lines: list[LineString], prec: list[float], step: float) -> float:
    minx, miny, maxx, maxy = region.bounds
    xs, ys = np.meshgrid(np.arange(minx, maxx + step, step), np.arange(miny, maxy + step, step))
    pts = shapely.points(xs.ravel(), ys.ravel())
    pts = np.concatenate([pts[shapely.covers(region, pts)], shapely.points(shapely.get_coordinates(region))])
    d = np.min([shapely.distance(pts, ln) + p for ln, p in zip(lines, prec, strict=True)], axis=0)
    return float(d.max())


def test_dmax_matches_brute_force_grid_within_50m() -> None:
    # two sections of one corridor with different precisions, and a region straddling both: the maximum is
    # inside the region (between the sections), not on its boundary
    lines = [LineString([(0, 0), (10000, 0)]), LineString([(0, 6000), (10000, 8000)])]
    prec = [300.0, 1200.0]
    corr = gpd.GeoDataFrame({"corridor_id": ["A", "A"], "precision_m": prec}, geometry=lines, crs="EPSG:5897")
    region = Polygon([(2000, -1000), (7000, -500), (8000, 7000), (3000, 6500)])
    iv = distance_intervals(gpd.GeoSeries([region], crs="EPSG:5897"), corr)["A"]
    brute = _brute_dmax(region, lines, prec, 20.0)
    assert brute - 1.0 <= iv.dmax[0] <= brute + DMAX_TOLERANCE_M + 30.0
    assert iv.dmin[0] == pytest.approx(0.0)


def test_dmin_is_region_distance_minus_precision() -> None:
    corr = gpd.GeoDataFrame(
        {"corridor_id": ["A"], "precision_m": [500.0]}, geometry=[LineString([(0, 0), (10000, 0)])], crs="EPSG:5897"
    )
    region = Point(5000, 4000).buffer(1000, quad_segs=64)
    iv = distance_intervals(gpd.GeoSeries([region], crs="EPSG:5897"), corr, buffer_m=5000)["A"]
    assert iv.dmin[0] == pytest.approx(3000 - 500, abs=1.0)
    # farthest point of the disc from the line: 5 km, plus the line's 500 m
    assert 5500 - 1 <= iv.dmax[0] <= 5500 + DMAX_TOLERANCE_M + 10


def test_share_within_half_disc() -> None:
    corr = gpd.GeoDataFrame(
        {"corridor_id": ["A"], "precision_m": [100.0]}, geometry=[LineString([(-1e4, 0), (1e4, 0)])], crs="EPSG:5897"
    )
    disc = gpd.GeoSeries([Point(0, 2000).buffer(2000, quad_segs=64)], crs="EPSG:5897")
    # within 2 km of the line: the lower half of the disc
    assert share_within(disc, corr, 2000.0)[0] == pytest.approx(0.5, abs=0.005)
    lo, hi = share_within(disc, corr, 2000.0, widen=-1)[0], share_within(disc, corr, 2000.0, widen=1)[0]
    assert lo < 0.5 < hi


def test_regions_do_not_depend_on_input_crs() -> None:
    raw = load_sites(regions=False)
    legacy = load_communes(vintage="legacy", source="approx")
    c25, dist = load_communes(vintage=2025, source="approx"), load_districts(source="approx")
    areas = [site_regions(raw.to_crs(crs), legacy, c25, dist)["region_area_km2"] for crs in (4326, 3405, 5897)]
    np.testing.assert_allclose(areas[0], areas[1], atol=0.01)
    np.testing.assert_allclose(areas[0], areas[2], atol=0.01)


def test_region_column_serialisable_crs_matches_frame() -> None:
    s = load_sites()
    assert all(g is None or isinstance(g, shapely.Geometry) for g in s["region"])
    minx, miny, maxx, maxy = shapely.total_bounds(s["region"].to_numpy())
    assert 105.0 < minx < maxx < 106.5 and 20.8 < miny < maxy < 21.8  # degrees, like the frame
    json.dumps([str(m) for m in s["region_method"]])


def test_no_site_point_coincides_with_a_corridor_waypoint() -> None:
    """Seven sites used to sit on corridor waypoints (both taken from one commune point): distance 0 by construction."""
    from vpgeo.corridors import read_corridor_points

    sites = load_sites().to_crs("EPSG:5897")
    pts = read_corridor_points()
    wp = gpd.GeoSeries(gpd.points_from_xy(pts["lon"], pts["lat"]), crs="EPSG:4326").to_crs("EPSG:5897")
    raw = load_sites(regions=False).to_crs("EPSG:5897")
    before = sum(bool((wp.distance(g) < 1.0).any()) for g in raw.geometry if g is not None)
    assert before == 7  # CCN Đại Đồng, Tân Tiến, Hợp Thịnh, Vân Hội, Hương Canh; KCN Chấn Hưng, Vĩnh Thịnh
    placed = sites[sites["region_method"] != "point_disc"]
    assert not any(bool((wp.distance(g) < 1.0).any()) for g in placed.geometry)


@pytest.mark.parametrize("source", ["official", "approx"])
@pytest.mark.parametrize("buffer_km", [2.0, 5.0, 10.0])
def test_ct05_verdicts_do_not_contradict_held_out_polygons(
    reference_dir: Path, official: dict[str, gpd.GeoDataFrame], buffer_km: float, source: str
) -> None:
    """A decided verdict must hold for the third-party polygons of the communes (districts) the facts name."""
    from vpgeo.datasets import load_corridors
    from vpgeo.rules import check_priority_rule

    layers = (
        (official["c2025"], official["districts"])
        if source == "official"
        else (load_communes(vintage=2025, source="approx"), load_districts(source="approx"))
    )
    sites = site_regions(load_sites(regions=False), load_communes(vintage="legacy", source="approx"), *layers)
    sites.attrs["provenance"] = {"file": "data/sites.geojson"}
    table = check_priority_rule(sites, buffer_km=buffer_km, access_points=None).table.set_index("site_id")
    corridors = load_corridors()
    ref = _reference_communes(reference_dir)
    districts = gpd.read_file(reference_dir / "vinhphuc_districts_vietnam63.geojson").to_crs("EPSG:5897")
    dcol = next(c for c in districts.columns if districts[c].astype(str).str.contains("Vĩnh Tường").any())
    facts = pd.read_csv(FACTS, dtype=str, keep_default_na=False).set_index("site_id")
    b = buffer_km * 1000.0
    decided = 0
    for sid, row in table.iterrows():
        verdict = row["verdict_CT05"]
        if verdict == "uncertain":
            continue
        decided += 1
        if row["location_method"] == "commune_centroid":
            polys = [p for _, p in _named_polygons(ref, facts.loc[sid])]
        elif row["region_method"] == "district":
            polys = list(districts.loc[districts[dcol].map(key) == key(str(row["district"])), "geometry"])
        else:
            continue
        cores = gpd.GeoSeries([shapely.buffer(p, -ORACLE_SLACK_M) for p in polys], crs="EPSG:5897")
        iv = distance_intervals(cores, corridors[corridors["corridor_id"] == "CT05"], buffer_m=b)["CT05"]
        if verdict == "yes":
            assert (iv.dmax <= b).all(), (sid, iv.dmax)
        else:
            assert (iv.dmin > b).all(), (sid, iv.dmin)
    assert decided >= 4
