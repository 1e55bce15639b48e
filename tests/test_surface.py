"""vpgeo.surface: raster distances vs exact ones, masking, weights and exports."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import LineString, Point

from vpgeo.errors import InputError
from vpgeo.scoring import decay_score, score_candidates
from vpgeo.surface import suitability_surface

X0, Y0 = 540_000.0, 2_340_000.0


@pytest.fixture()
def roads() -> gpd.GeoDataFrame:
    rng = np.random.default_rng(2)
    lines = [
        LineString(np.column_stack([X0 + np.linspace(0, 30_000, 40), Y0 + 8000 + rng.normal(0, 700, 40)])),
        LineString([(X0 + 5000, Y0 - 3000), (X0 + 25_000, Y0 + 22_000)]),
    ]
    return gpd.GeoDataFrame(
        {"corridor_id": ["A", "B"], "kind": ["expressway", "national_road"]}, geometry=lines, crs="EPSG:5897"
    )


@pytest.mark.parametrize("res", [50.0, 137.0])
def test_cell_centre_distance_within_half_a_diagonal(roads: gpd.GeoDataFrame, res: float) -> None:
    bounds = (X0, Y0, X0 + 30_000, Y0 + 20_000)
    s = suitability_surface(resolution_m=res, corridors=roads, bounds=bounds, max_km=40)
    assert s.max_error_m == pytest.approx(res * (np.sqrt(2) / 2 + 1 / 40))
    xs, ys = s.cell_centres()
    gx, gy = np.meshgrid(xs, ys)
    exact = shapely.distance(shapely.points(gx.ravel(), gy.ravel()), shapely.union_all(roads.geometry.to_numpy()))
    err = np.abs(s.distance_km.ravel().astype(float) * 1000 - exact)
    assert err.max() <= s.max_error_m + 0.01  # float32 storage: centimetres
    assert err.max() > 0.05 * res  # the bound is not vacuous: the transform really is approximate
    np.testing.assert_allclose(s.score, decay_score(s.distance_km.astype(float), max_km=40), atol=1e-6)


def test_weighted_surface_matches_scored_cell_centres(roads: gpd.GeoDataFrame) -> None:
    bounds = (X0, Y0, X0 + 45_000, Y0 + 15_000)
    w = {"expressway": 1.0, "national_road": 0.6}
    s = suitability_surface(resolution_m=250, corridors=roads, bounds=bounds, weights=w, decay="linear", max_km=10)
    xs, ys = s.cell_centres()
    gx, gy = np.meshgrid(xs, ys)
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(gx.ravel(), gy.ravel()), crs="EPSG:5897")
    exact = score_candidates(pts, roads, weights=w, decay="linear", max_km=10, access_points=False)["score"]
    # Linear decay changes by at most 1/max_km per km: the score error follows the distance error.
    assert np.abs(s.score.ravel() - exact.to_numpy()).max() <= s.max_error_m / 10_000 + 1e-6
    far = np.isinf(s.distance_km)
    assert far.any() and (s.score[far] == 0).all()


def test_default_surface_is_masked_to_the_province() -> None:
    s = suitability_surface(resolution_m=1000)
    assert s.meta["masked_to_province"] and s.meta["corridors"] == ["CT05", "RR4", "RR5"]
    a, _, c, _, e, f = s.transform

    def at(lon: float, lat: float) -> float:
        p = gpd.GeoSeries([Point(lon, lat)], crs="EPSG:4326").to_crs("EPSG:5897")[0]
        return float(s.score[int((p.y - f) // e), int((p.x - c) // a)])

    assert at(105.6061, 21.3573) > 0.9  # IC4 on CT.05 (facts corridors.md)
    assert np.isnan(s.score[0, 0]) and np.isnan(s.score[-1, -1])  # the bounding box's corners lie outside
    inside = np.isfinite(s.score).sum() * a * a / 1e6
    assert 1100 < inside < 1350  # the province is 1,236 km² (facts plan.md)


def test_exports(roads: gpd.GeoDataFrame, tmp_path: Path) -> None:
    s = suitability_surface(resolution_m=500, corridors=roads, bounds=(X0, Y0, X0 + 5000, Y0 + 3000))
    asc = s.to_asc(tmp_path / "s.asc")
    head = dict(line.split() for line in asc.read_text().splitlines()[:6])
    assert (int(head["ncols"]), int(head["nrows"]), float(head["cellsize"])) == (10, 6, 500.0)
    body = np.loadtxt(asc, skiprows=6)
    np.testing.assert_allclose(body, s.score, atol=1e-4)
    assert "Transverse_Mercator" in asc.with_suffix(".prj").read_text()
    npz = np.load(s.to_npz(tmp_path / "s.npz"))
    np.testing.assert_array_equal(npz["score"], s.score)
    wld = [float(v) for v in (tmp_path / "s.wld").read_text().split()]
    assert wld == [500.0, 0.0, 0.0, -500.0, X0 + 250, Y0 + 3000 - 250]
    img, bounds = s.to_image(max_size=64)
    assert img.dtype == np.uint8 and img.shape[2] == 4 and bounds[0][0] < bounds[1][0]
    if importlib.util.find_spec("rasterio") is None:
        with pytest.raises(InputError, match="rasterio"):
            s.to_geotiff(tmp_path / "s.tif")
    with pytest.raises(InputError, match="resolution_m"):
        suitability_surface(resolution_m=-1, corridors=roads)


def test_surface_shows_a_table_and_a_thumbnail_not_raw_arrays(roads: gpd.GeoDataFrame) -> None:
    """#17 item 9: notebooks show figures and a picture, and user text (corridor ids) stays text."""
    import base64
    import io

    mpimg = pytest.importorskip("matplotlib.image")
    roads = roads.assign(corridor_id=["A<b>", "B"])
    s = suitability_surface(resolution_m=500, corridors=roads, bounds=(X0, Y0, X0 + 30_000, Y0 + 20_000))
    page = s._repr_html_()
    assert "nan" not in page.lower() and "array(" not in page and "array(" not in repr(s)
    assert "A&lt;b&gt;" in page and "A<b>" not in page
    finite = s.score[np.isfinite(s.score)]
    assert f"{finite.mean():.3f}" in page and f"{(finite >= 0.5).mean():.1%}" in page
    png = base64.b64decode(page.split("base64,")[1].split("'")[0])
    img = mpimg.imread(io.BytesIO(png), format="png")  # an independent PNG decoder
    assert img.shape == (*s.score.shape, 4)
    # colour follows the score: the best cell is the darkest
    r, c = np.unravel_index(np.nanargmax(s.score), s.score.shape)
    assert img[r, c, :3].sum() == img[:, :, :3].reshape(-1, 3).sum(axis=1).min()
