"""Distances and rings against independent computations (pyproj.Geod, closed-form areas)."""

from __future__ import annotations

import math
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Geod
from shapely.geometry import LineString, Point, Polygon

from vpgeo.crs import CRSWarning
from vpgeo.errors import CRSError, InputError
from vpgeo.measure import CorridorSet, corridor_distances, corridor_rings

GEOD = Geod(ellps="WGS84")


def _meridian_corridor(lon: float = 105.5) -> gpd.GeoDataFrame:
    # A line along a meridian: the geodesic foot of a perpendicular from a nearby point is on the
    # same parallel, so pyproj.Geod gives an independent distance.
    lats = np.linspace(21.1, 21.6, 51)
    return gpd.GeoDataFrame(
        {"corridor_id": ["M"], "name": ["meridian"], "precision_m": [10.0], "priority": [True]},
        geometry=[LineString([(lon, lat) for lat in lats])],
        crs="EPSG:4326",
    )


@pytest.mark.parametrize("dlon", [0.01, 0.05, 0.1, 0.2])
def test_distance_matches_geodesic(dlon: float) -> None:
    corridor = _meridian_corridor()
    site = gpd.GeoDataFrame({"site_id": ["s"]}, geometry=[Point(105.5 + dlon, 21.35)], crs="EPSG:4326")
    with pytest.warns(CRSWarning, match="corridor_distances"):
        got = corridor_distances(site, corridor, corridor_set=None, access_points=None)
    _, _, expected_m = GEOD.inv(105.5 + dlon, 21.35, 105.5, 21.35)
    # TM-3 scale error within 60 km of 105°E is below 1e-4; plus the chord between vertices.
    assert got.loc[0, "distance_km"] * 1000 == pytest.approx(expected_m, rel=2e-4, abs=1.0)
    assert got.loc[0, "dist_M_km"] == got.loc[0, "distance_km"]


def test_distance_is_crs_independent_and_keeps_rows() -> None:
    corridor = _meridian_corridor()
    sites = gpd.GeoDataFrame(
        {"site_id": ["a", "b", "c"]},
        geometry=[Point(105.6, 21.3), None, Point(105.45, 21.4)],
        crs="EPSG:4326",
    )
    with pytest.warns(CRSWarning, match="corridor_distances"):
        a = corridor_distances(sites, corridor, corridor_set=None, access_points=None)
    b = corridor_distances(
        sites.to_crs("EPSG:32648"), corridor.to_crs("EPSG:5897"), corridor_set=None, access_points=None
    )
    assert list(a["site_id"]) == ["a", "b", "c"]
    assert math.isnan(a.loc[1, "distance_km"]) and pd.isna(a.loc[1, "nearest_corridor"])
    # UTM 48N and TM-3 differ by their scale factors only: well under 1 m at these distances
    assert abs(a.loc[0, "distance_km"] - b.loc[0, "distance_km"]) * 1000 < 1.0
    assert b.crs.to_epsg() == 32648


def test_polygon_distance_is_to_its_edge() -> None:
    line = gpd.GeoDataFrame(
        {"corridor_id": ["A"], "precision_m": [0.0]},
        crs="EPSG:5897",
        geometry=[LineString([(500000, 2350000), (510000, 2350000)])],
    )
    square = Polygon([(504000, 2352000), (506000, 2352000), (506000, 2354000), (504000, 2354000)])
    crossing = Polygon([(504000, 2349000), (506000, 2349000), (506000, 2351000), (504000, 2351000)])
    sites = gpd.GeoDataFrame({"site_id": ["sq", "x"]}, geometry=[square, crossing], crs="EPSG:5897")
    d = corridor_distances(sites, line, corridor_set=None, access_points=None)
    assert list(d["distance_km"]) == [2.0, 0.0]


def test_sections_of_one_corridor_take_the_nearest_and_its_precision() -> None:
    lines = gpd.GeoDataFrame(
        {"corridor_id": ["A", "A", "B"], "precision_m": [100.0, 3000.0, 50.0]},
        geometry=[
            LineString([(500000, 2350000), (505000, 2350000)]),
            LineString([(505000, 2350000), (510000, 2360000)]),
            LineString([(500000, 2340000), (510000, 2340000)]),
        ],
        crs="EPSG:5897",
    )
    sites = gpd.GeoDataFrame({"site_id": ["near-2nd"]}, geometry=[Point(509000, 2356000)], crs="EPSG:5897")
    d = corridor_distances(sites, lines, corridor_set=None, access_points=None)
    # the second section is nearer than the first: its own distance, and its precision, decide
    x, y = 509000.0, 2356000.0
    expected = shapely.distance(Point(x, y), LineString([(505000, 2350000), (510000, 2360000)]))
    assert d.loc[0, "nearest_corridor"] == "A"
    assert d.loc[0, "dist_A_km"] * 1000 == pytest.approx(expected)
    assert d.loc[0, "corridor_precision_m"] == 3000.0
    assert d.loc[0, "dist_B_km"] == pytest.approx(16.0)


def test_access_points_distance() -> None:
    line = gpd.GeoDataFrame(
        {"corridor_id": ["A"], "precision_m": [0.0]},
        crs="EPSG:5897",
        geometry=[LineString([(500000, 2350000), (510000, 2350000)])],
    )
    access = gpd.GeoDataFrame(
        {"name": ["IC-W", "IC-E"], "corridor_id": ["A", "A"]},
        crs="EPSG:5897",
        geometry=[Point(500000, 2350000), Point(510000, 2350000)],
    )
    site = gpd.GeoDataFrame({"site_id": ["s"]}, geometry=[Point(507000, 2354000)], crs="EPSG:5897")
    d = corridor_distances(site, line, corridor_set=None, access_points=access)
    assert d.loc[0, "distance_km"] == pytest.approx(4.0)
    assert d.loc[0, "nearest_access"] == "IC-E"
    assert d.loc[0, "access_km"] == pytest.approx(5.0)  # 3-4-5 triangle


def test_rings_do_not_overlap_and_add_up() -> None:
    line = gpd.GeoDataFrame(
        {"corridor_id": ["A"]}, crs="EPSG:5897", geometry=[LineString([(500000, 2350000), (520000, 2350000)])]
    )
    rings = corridor_rings(line, rings_km=(2, 5, 10), corridor_set=None)
    assert list(rings["band"]) == ["0–2 km", "2–5 km", "5–10 km"]
    m = rings.to_crs("EPSG:5897")
    for i in range(3):
        for j in range(i + 1, 3):
            assert m.geometry.iloc[i].intersection(m.geometry.iloc[j]).area < 1.0
    # stadium of radius 10 km around a 20 km line: 20·20 + π·10² km²
    assert rings["area_km2"].sum() == pytest.approx(400 + math.pi * 100, rel=1e-3)


def test_rings_clip_to_the_area() -> None:
    line = gpd.GeoDataFrame(
        {"corridor_id": ["A"]}, crs="EPSG:5897", geometry=[LineString([(500000, 2350000), (520000, 2350000)])]
    )
    box = gpd.GeoDataFrame(geometry=[shapely.box(505000, 2350000, 515000, 2360000)], crs="EPSG:5897")
    rings = corridor_rings(line, rings_km=(2, 5), corridor_set=None, clip=box)
    assert rings["area_km2"].tolist() == pytest.approx([20.0, 30.0], rel=1e-6)


def test_bad_arguments() -> None:
    line = gpd.GeoDataFrame(
        {"corridor_id": ["A"]}, crs="EPSG:5897", geometry=[LineString([(500000, 2350000), (520000, 2350000)])]
    )
    with pytest.raises(InputError, match="strictly increasing"):
        corridor_rings(line, rings_km=(5, 2), corridor_set=None)
    no_crs = gpd.GeoDataFrame({"site_id": ["s"]}, geometry=[Point(505000, 2351000)])
    with pytest.raises(CRSError, match="no coordinate reference system"):
        corridor_distances(no_crs, line, corridor_set=None, access_points=None)
    with pytest.raises(InputError, match="corridor_id"):
        corridor_distances(
            no_crs.set_crs("EPSG:5897"),
            line.rename(columns={"corridor_id": "id"}),
            corridor_set=None,
            access_points=None,
        )


# ---------------------------------------------------------------------------------- one measurement engine


def test_rule_and_scoring_give_the_same_access_for_every_embedded_site() -> None:
    """#13 item 1: corridor_distances (the rule) and score_candidates measure with one engine."""
    from vpgeo.datasets import load_access_points, load_sites
    from vpgeo.scoring import score_candidates

    sites = load_sites()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CRSWarning)  # the embedded sites are in WGS 84, reprojected by design
        rule = corridor_distances(sites)
        scored = score_candidates(sites)
    for col in ("distance_km", "access_km"):
        np.testing.assert_allclose(rule[col].to_numpy(float), scored[col].to_numpy(float), rtol=0, atol=1e-9)
    for col in ("nearest_corridor", "nearest_access"):
        assert rule[col].fillna("-").tolist() == scored[col].fillna("-").tolist()
    # CCN-HUNGVUONG, by hand: the nearest interchange/junction of the plan's corridors, toll plazas excluded.
    i = int(np.flatnonzero(sites["site_id"] == "CCN-HUNGVUONG")[0])
    access = load_access_points().to_crs("EPSG:5897")
    site = sites.to_crs("EPSG:5897").geometry.iloc[i]
    plan = access["corridor_id"].isin(["CT05", "RR4", "RR5"])
    usable = access[plan & (access["kind"] != "toll")]
    d = shapely.distance(site, usable.geometry.to_numpy())
    assert scored["access_km"].iloc[i] * 1000 == pytest.approx(d.min(), abs=1e-6)
    assert scored["nearest_access"].iloc[i] == usable["access_id"].iloc[int(d.argmin())]
    # toll plazas never count (the embedded layer now lists none; test_corridor_set_drops_toll_plazas_from_any_layer
    # checks the policy on a layer that has one)
    assert not (access.loc[access["access_id"] == scored["nearest_access"].iloc[i], "kind"] == "toll").any()


def _shared_segment_layers() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Corridors "B" and "A" (listed in that order) sharing the segment x 500-510 km; sites around it."""
    lines = gpd.GeoDataFrame(
        {"corridor_id": ["B", "A"], "precision_m": [100.0, 2000.0]},
        geometry=[
            LineString([(495000, 2352000), (500000, 2350000), (510000, 2350000)]),
            LineString([(500000, 2350000), (510000, 2350000), (515000, 2345000)]),
        ],
        crs="EPSG:5897",
    )
    rng = np.random.default_rng(3)
    xy = np.column_stack([rng.uniform(501000, 509000, 40), rng.uniform(2348000, 2352000, 40)])
    sites = gpd.GeoDataFrame({"site_id": [f"s{i}" for i in range(40)]}, geometry=shapely.points(xy), crs="EPSG:5897")
    return lines, sites


@pytest.mark.parametrize("crs", ["EPSG:4326", "EPSG:3405", "EPSG:5897"])
def test_ties_on_a_shared_segment_go_to_the_lowest_id_in_any_crs(crs: str) -> None:
    """#12 item 7: the same sites in EPSG:4326, 3405 and 5897 give the same nearest corridor and precision."""
    from vpgeo.scoring import score_candidates

    lines, sites = _shared_segment_layers()
    ref = corridor_distances(sites, lines, corridor_set=None, access_points=None)
    assert set(ref["nearest_corridor"]) == {"A"}  # equidistant from A and B: the lowest id
    assert set(ref["corridor_precision_m"]) == {2000.0}
    moved = sites.to_crs(crs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CRSWarning)  # 4326 is reprojected with a warning, by design
        got = corridor_distances(moved, lines.to_crs(crs), corridor_set=None, access_points=None)
        scored = score_candidates(moved, lines.to_crs(crs), access_points=False)
    assert got["nearest_corridor"].tolist() == ref["nearest_corridor"].tolist()
    assert scored["nearest_corridor"].tolist() == ref["nearest_corridor"].tolist()
    assert got["corridor_precision_m"].tolist() == ref["corridor_precision_m"].tolist()
    # Distances: the perpendicular offset from y = 2,350,000, within the reprojection round trip (< 1 mm).
    expected = np.abs(sites.geometry.y.to_numpy() - 2350000) / 1000
    np.testing.assert_allclose(got["distance_km"].to_numpy(float), expected, atol=1e-6)


def test_corridor_set_drops_toll_plazas_from_any_layer() -> None:
    lines, _ = _shared_segment_layers()
    access = gpd.GeoDataFrame(
        {"access_id": ["t", "i"], "name": ["Toll", "IC"], "kind": ["toll", "interchange"]},
        geometry=[Point(505000, 2350000), Point(510000, 2350000)],
        crs="EPSG:5897",
    )
    cs = CorridorSet(lines, access)
    m = cs.measure(shapely.points([[505000.0, 2353000.0]]))
    assert cs.access_ids.tolist() == ["i"]
    assert m.access_m is not None and m.access_m[0] == pytest.approx(math.hypot(5000, 3000))


def test_measure_points_equals_measure_of_point_geometries() -> None:
    """The coordinate fast path gives the very numbers of the geometry path, NaN rows included."""
    from vpgeo.datasets import load_access_points, load_corridors

    cs = CorridorSet(load_corridors(), load_access_points())
    rng = np.random.default_rng(8)
    xy = np.column_stack([rng.uniform(540_000, 590_000, 60_000), rng.uniform(2_330_000, 2_380_000, 60_000)])
    xy[5] = np.nan
    geoms = shapely.points(xy)
    geoms[5] = None
    a, b = cs.measure(geoms), cs.measure_points(xy)
    np.testing.assert_array_equal(a.per_corridor_m, b.per_corridor_m)
    np.testing.assert_array_equal(a.section, b.section)
    assert a.access_m is not None and b.access_m is not None and a.access_idx is not None
    np.testing.assert_array_equal(a.access_m, b.access_m)
    np.testing.assert_array_equal(a.access_idx, b.access_idx)
    assert np.isnan(b.per_corridor_m[5]).all() and b.access_idx is not None and b.access_idx[5] == -1
    # every distance is GEOS's (exact engine), here on a sample
    lines = to_metric_lines(cs)
    sample = rng.choice(len(xy), 300, replace=False)
    sample = sample[sample != 5]
    for j, line in enumerate(lines):
        np.testing.assert_allclose(b.per_corridor_m[sample, j], shapely.distance(geoms[sample], line), atol=1e-6)


def to_metric_lines(cs: CorridorSet) -> list[object]:
    """Each corridor's sections as one metric geometry, in the set's order."""
    sec = cs.sections.geometry.to_numpy()
    return [shapely.union_all(sec[cs.section_corridor == j]) for j in range(len(cs.ids))]
