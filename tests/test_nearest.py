"""vpgeo.nearest against independent computations: shapely (GEOS) and pyproj.Geod."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod, Transformer
from shapely.geometry import LineString, MultiLineString, Point, Polygon

from vpgeo.errors import InputError
from vpgeo.nearest import CHUNKED_MIN, LineIndex, nearest_lines

# Millimetre grid: GEOS itself divides by zero on sub-femtometre segments, which no road has.
coord = st.integers(-5_000_000, 5_000_000).map(lambda v: v / 1000.0)
line_st = st.lists(st.tuples(coord, coord), min_size=2, max_size=30)


@settings(max_examples=60, deadline=None)
@given(lines=st.lists(line_st, min_size=1, max_size=4), pts=st.lists(st.tuples(coord, coord), min_size=1, max_size=40))
def test_equals_shapely_on_random_lines(lines: list, pts: list) -> None:
    arrays = [np.array(ln, dtype=float) for ln in lines]
    p = np.array(pts, dtype=float)
    res = LineIndex(arrays).query(p, per_line=True)
    geoms = [LineString(a) if len(np.unique(a, axis=0)) > 1 else Point(a[0]) for a in arrays]
    ref = np.column_stack([shapely.distance(shapely.points(p), g) for g in geoms])
    assert res.per_line is not None
    np.testing.assert_allclose(res.per_line, ref, rtol=0, atol=1e-6)
    np.testing.assert_allclose(res.distance, ref.min(axis=1), rtol=0, atol=1e-6)
    # The nearest line is a line at the minimum distance.
    assert np.all(ref[np.arange(len(p)), res.line] <= ref.min(axis=1) + 1e-6)


@settings(max_examples=30, deadline=None)
@given(line=line_st, spacing=st.floats(0.5, 3000))
def test_any_sample_spacing_is_exact(line: list, spacing: float) -> None:
    a = np.array(line, dtype=float)
    rng = np.random.default_rng(1)
    p = rng.uniform(-8000, 8000, (200, 2))
    got = LineIndex([a], spacing_m=spacing).query(p).distance
    ref = shapely.distance(shapely.points(p), LineString(a) if len(np.unique(a, axis=0)) > 1 else Point(a[0]))
    np.testing.assert_allclose(got, ref, atol=1e-6)


def test_dense_realistic_lines_match_shapely() -> None:
    """Three 40 km lines with a vertex every 10-30 m (the benchmark's shape), 20,000 random points."""
    rng = np.random.default_rng(7)
    lines = []
    for x0, y0, h0 in ((0, 0, 0.6), (20000, 30000, -1.2), (-10000, 15000, 0.0)):
        h = h0 + np.cumsum(rng.normal(0, 0.05, 2000))
        s = rng.uniform(10, 30, 2000)
        lines.append(
            np.column_stack([x0 + np.r_[0, np.cumsum(s * np.cos(h))], y0 + np.r_[0, np.cumsum(s * np.sin(h))]])
        )
    p = rng.uniform(-20000, 40000, (20000, 2))
    res = LineIndex(lines).query(p, per_line=True)
    ref = np.column_stack([shapely.distance(shapely.points(p), LineString(a)) for a in lines])
    assert res.per_line is not None
    assert np.abs(res.per_line - ref).max() < 1e-6
    np.testing.assert_array_equal(res.line, ref.argmin(axis=1))
    # The one-tree path (no per-line table) gives the very same numbers.
    fast = LineIndex(lines).query(p)
    np.testing.assert_array_equal(fast.distance, res.distance)
    np.testing.assert_array_equal(fast.line, res.line)


def test_known_points_against_geodesic_distance() -> None:
    """Metric EPSG:5897 distance to a short meridian segment vs the ellipsoidal distance (pyproj.Geod).

    A point 3 km east of a north-south segment: the planar TM-3 distance and the geodesic one agree within
    the projection's scale error (k = 0.9999 on the central meridian, < 1.5e-4 within 0.6° of it).
    """
    geod = Geod(ellps="WGS84")
    fwd = Transformer.from_crs("EPSG:4326", "EPSG:5897", always_xy=True)
    lon0, lat0 = 105.6, 21.30
    seg_ll = [(lon0, lat0 - 0.05), (lon0, lat0 + 0.05)]
    lon_p, lat_p, _ = geod.fwd(lon0, lat0, 90.0, 3000.0)  # 3 km due east of the segment's middle
    seg = np.array([fwd.transform(*ll) for ll in seg_ll])
    p = np.array([fwd.transform(lon_p, lat_p)])
    d = float(LineIndex([seg]).query(p).distance[0])
    assert abs(d - 3000.0) < 3000.0 * 1.5e-4
    # Beyond the segment's end the nearest point is the end vertex: compare with Geod.inv to it.
    lon_q, lat_q, _ = geod.fwd(lon0, lat0 + 0.05, 30.0, 5000.0)
    d2 = float(LineIndex([seg]).query(np.array([fwd.transform(lon_q, lat_q)])).distance[0])
    ref2 = geod.inv(lon0, lat0 + 0.05, lon_q, lat_q)[2]
    assert abs(d2 - ref2) < ref2 * 1.5e-4


def test_multilines_polygons_points_and_nan() -> None:
    lines = [
        MultiLineString([[(0, 0), (10, 0)], [(20, 0), (30, 0)]]),
        Polygon([(100, 100), (200, 100), (200, 200), (100, 200)]),
        Point(500, 500),
    ]
    p = np.array([[15.0, 0.0], [150.0, 150.0], [150.0, 90.0], [503.0, 504.0], [np.nan, 1.0]])
    res = LineIndex(lines).query(p, per_line=True)
    ref = np.column_stack([shapely.distance(shapely.points(p[:4]), g) for g in lines])
    assert res.per_line is not None
    np.testing.assert_allclose(res.per_line[:4], ref, atol=1e-9)
    assert res.distance[1] == 0.0 and res.line[1] == 1  # inside the polygon
    assert np.isnan(res.distance[4]) and res.line[4] == -1
    fast = LineIndex(lines).query(p)
    np.testing.assert_array_equal(fast.line, res.line)


def test_ties_pick_the_lowest_line_and_bad_input_raises() -> None:
    twins = [np.array([[0.0, 0.0], [10.0, 0.0]]), np.array([[0.0, 0.0], [10.0, 0.0]])]
    assert nearest_lines(np.array([[5.0, 3.0]]), twins).line.tolist() == [0]
    with pytest.raises(InputError, match="shape"):
        LineIndex(twins).query(np.zeros((3, 3)))
    with pytest.raises(InputError, match="NaN"):
        LineIndex([np.array([[0.0, np.nan], [1.0, 1.0]])])


def _wiggly(rng: np.random.Generator, n: int, x0: float, y0: float) -> np.ndarray:
    h = np.cumsum(rng.normal(0, 0.05, n))
    s = rng.uniform(10, 30, n)
    return np.column_stack([x0 + np.r_[0, np.cumsum(s * np.cos(h))], y0 + np.r_[0, np.cumsum(s * np.sin(h))]])


@pytest.mark.parametrize("method", ["direct", "quadtree", "kdtree", "chunked", "strtree", "auto"])
def test_every_engine_is_exact_with_sections_and_a_bound(method: str) -> None:
    """Each engine equals shapely within 1 mm; sections (groups) report their nearest part; a bound flags
    what lies beyond it and never gives a wrong number."""
    rng = np.random.default_rng(21)
    a, b, c = _wiggly(rng, 40, 0, 0), _wiggly(rng, 40, 800, 300), _wiggly(rng, 40, -500, 900)
    idx = LineIndex([a, b, c], groups=[0, 0, 1], method=method)
    p = rng.uniform(-2000, 2500, (3000, 2))
    pts = shapely.points(p)
    per_item = np.column_stack([shapely.distance(pts, LineString(x)) for x in (a, b, c)])
    ref = np.column_stack([per_item[:, :2].min(axis=1), per_item[:, 2]])
    res = idx.query(p, per_line=True)
    assert res.per_line is not None and res.part is not None
    assert np.abs(res.per_line - ref).max() < 1e-3
    assert np.all(res.part[:, 1] == 2)
    assert np.all(per_item[np.arange(len(p)), res.part[:, 0]] <= ref[:, 0] + 1e-6)  # the nearest section
    bounded = idx.query(p, per_line=True, max_distance=600.0)
    assert bounded.per_line is not None and bounded.beyond is not None
    np.testing.assert_array_equal(bounded.beyond, ref > 600.0)
    ok = ~bounded.beyond
    assert np.abs(bounded.per_line[ok] - ref[ok]).max() < 1e-3 and np.isnan(bounded.per_line[~ok]).all()
    near = idx.query(p, max_distance=600.0)
    assert near.beyond is not None
    np.testing.assert_array_equal(near.beyond, ref.min(axis=1) > 600.0)


def test_auto_picks_by_vertex_density() -> None:
    rng = np.random.default_rng(2)
    few = np.array([[0.0, 0.0], [10.0, 5.0], [20.0, 0.0]])
    mid = _wiggly(rng, 2000, 0, 0)
    dense = shapely.get_coordinates(shapely.segmentize(LineString(mid), 0.5))
    assert len(mid) - 1 < CHUNKED_MIN <= len(dense) - 1
    assert LineIndex([few, mid, dense]).methods == ["direct", "quadtree", "chunked"]
    p = rng.uniform(-5000, 30000, (2000, 2))
    res = LineIndex([dense]).query(p)
    ref = shapely.distance(shapely.points(p), LineString(dense))
    assert np.abs(res.distance - ref).max() < 1e-3


def test_default_workers_follow_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from vpgeo.nearest import default_workers

    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert default_workers() == 3
    monkeypatch.delenv("OMP_NUM_THREADS")
    assert default_workers() >= 1


@settings(max_examples=40, deadline=None)
@given(
    lines=st.lists(st.lists(st.tuples(coord, coord), min_size=2, max_size=120), min_size=1, max_size=3),
    pts=st.lists(st.tuples(coord, coord), min_size=1, max_size=30),
)
def test_chunked_and_quadtree_engines_equal_shapely_on_random_lines(lines: list, pts: list) -> None:
    """Runs of chords on zig-zag lines (large deviations from the chord) and the quadtree's pruning (cells
    of few points, repeated points, segments crossing cells) stay exact."""
    arrays = [np.array(ln, dtype=float) for ln in lines]
    p = np.array(pts, dtype=float)
    geoms = [LineString(a) if len(np.unique(a, axis=0)) > 1 else Point(a[0]) for a in arrays]
    ref = np.column_stack([shapely.distance(shapely.points(p), g) for g in geoms])
    for method in ("chunked", "quadtree"):
        res = LineIndex(arrays, method=method).query(p, per_line=True)
        assert res.per_line is not None
        np.testing.assert_allclose(res.per_line, ref, rtol=0, atol=1e-6)
        near = LineIndex(arrays, method=method).query(p)
        np.testing.assert_allclose(near.distance, ref.min(axis=1), rtol=0, atol=1e-6)


def test_quadtree_is_exact_on_a_dense_curve_for_near_far_and_repeated_points() -> None:
    """A 20 m-spaced wiggly line, points from on the line to 30 km away, 500 copies of one point (a cell that
    cannot split), and a bound: every distance equals GEOS's and the lowest section wins exact ties."""
    rng = np.random.default_rng(5)
    line = shapely.get_coordinates(shapely.segmentize(LineString(_wiggly(rng, 1500, 0, 0)), 20.0))
    on_line = line[rng.integers(0, len(line), 300)]
    p = np.vstack(
        [rng.uniform(-30_000, 60_000, (20_000, 2)), on_line, line[799:800], np.repeat([[1234.5, -678.9]], 500, axis=0)]
    )
    ref = shapely.distance(shapely.points(p), LineString(line))
    res = LineIndex([line[:800], line[799:]], groups=[0, 0], method="quadtree").query(p, per_line=True)
    assert res.per_line is not None and res.part is not None
    assert np.abs(res.per_line[:, 0] - ref).max() < 1e-6
    # the shared vertex 799 belongs to both sections: the tie goes to section 0
    shared = np.flatnonzero((p == line[799]).all(axis=1))
    assert shared.size and (res.part[shared, 0] == 0).all()
    bounded = LineIndex([line], method="quadtree").query(p, max_distance=5_000.0)
    assert bounded.beyond is not None
    np.testing.assert_array_equal(bounded.beyond, ref > 5_000.0)
    assert np.abs(bounded.distance[~bounded.beyond] - ref[~bounded.beyond]).max() < 1e-6
