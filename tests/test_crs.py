"""The CRS gate: metric CRSes pass, VN-2000 without the datum shift is refused for the reason it claims."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import Geod, Transformer
from shapely.geometry import Point

from vpgeo.crs import CRSWarning, check_crs, metric_xy, to_metric, to_wgs84
from vpgeo.errors import CRSError, InputError

NO_SHIFT = "+proj=tmerc +lat_0=0 +lon_0=105 +k=0.9999 +x_0=500000 +y_0=0 +ellps=WGS84 +units=m +no_defs"
TOWGS84 = "-191.90441429,-39.30318279,-111.45032835,-0.00928836,0.01975479,-0.00427372,0.252906278"


def test_the_missing_shift_really_moves_points_about_224_m() -> None:
    # VN-2000 metres of a point near Vĩnh Yên, read back with and without the datum shift.
    lon, lat = 105.6, 21.31
    x, y = Transformer.from_crs("EPSG:4326", "EPSG:5897", always_xy=True).transform(lon, lat)
    wrong_lon, wrong_lat = Transformer.from_crs(NO_SHIFT, "EPSG:4326", always_xy=True).transform(x, y)
    _, _, offset = Geod(ellps="WGS84").inv(lon, lat, wrong_lon, wrong_lat)
    assert 180 < offset < 270
    with pytest.raises(CRSError, match="224 m"):
        check_crs(NO_SHIFT, operation="test")


@pytest.mark.parametrize("crs", ["EPSG:5897", "EPSG:4756", "EPSG:32648", "EPSG:4326", f"{NO_SHIFT} +towgs84={TOWGS84}"])
def test_safe_crses_pass(crs: str) -> None:
    assert check_crs(crs, operation="test") is not None


def test_vn2000_wkt_without_known_datum_is_refused() -> None:
    wkt = (
        'PROJCS["VN-2000 custom",GEOGCS["VN-2000 custom",DATUM["unknown",SPHEROID["WGS 84",6378137,298.257223563]],'
        'PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],'
        'PARAMETER["latitude_of_origin",0],PARAMETER["central_meridian",105],PARAMETER["scale_factor",0.9999],'
        'PARAMETER["false_easting",500000],PARAMETER["false_northing",0],UNIT["metre",1]]'
    )
    with pytest.raises(CRSError, match="datum shift"):
        check_crs(wkt, operation="test")


def test_missing_and_unreadable_crs_name_the_argument() -> None:
    with pytest.raises(CRSError, match=r"sites\.crs: no coordinate reference system"):
        check_crs(None, operation="distance", argument="sites.crs")
    with pytest.raises(CRSError, match="unreadable CRS"):
        check_crs("EPSG:999999", operation="distance")


def test_to_metric_reprojects_geographic_with_a_warning_naming_the_operation() -> None:
    g = gpd.GeoDataFrame(geometry=[Point(105.6, 21.31)], crs="EPSG:4326")
    with pytest.warns(CRSWarning, match="my_operation"):
        m = to_metric(g, operation="my_operation")
    assert m.crs.to_epsg() == 5897
    utm = g.to_crs("EPSG:32648")
    assert to_metric(utm, operation="x", crs="EPSG:32648") is utm  # already metric: unchanged
    back = to_wgs84(m)
    assert back.geometry.iloc[0].distance(Point(105.6, 21.31)) < 1e-7  # ~1 cm
    with pytest.raises(CRSError, match="not one of vpgeo's metric CRSes"):
        to_metric(g, operation="x", crs="EPSG:3857")


@pytest.mark.parametrize("crs", ["EPSG:4326", "EPSG:32648", "EPSG:5897"])
def test_metric_xy_gives_to_metric_coordinates_to_the_last_bit(crs: str) -> None:
    """The fast path for points: the same PROJ pipeline as ``to_crs``, NaN for missing or empty points, and the
    two-thread path for large inputs equal to the one-call path."""
    rng = np.random.default_rng(3)
    n = 250_000  # above the size transformed in two halves
    lon, lat = rng.uniform(105.3, 105.8, n), rng.uniform(21.0, 21.5, n)
    geoms = shapely.points(lon, lat)
    geoms[7], geoms[11] = None, shapely.Point()
    pts = gpd.GeoSeries(geoms, crs="EPSG:4326").to_crs(crs)
    got = metric_xy(pts, operation="test")
    ref = to_metric(gpd.GeoDataFrame(geometry=pts), operation="test", warn=False).geometry
    ok = ~(ref.isna() | ref.is_empty).to_numpy()
    np.testing.assert_array_equal(got[ok], shapely.get_coordinates(ref.to_numpy()[ok]))
    assert np.isnan(got[~ok]).all() and (~ok).sum() == 2
    small = metric_xy(pts.iloc[:1000], operation="test")
    np.testing.assert_array_equal(small[ok[:1000]], got[:1000][ok[:1000]])


def test_metric_xy_takes_points_only_and_keeps_the_gate() -> None:
    with pytest.raises(InputError, match="points only"):
        metric_xy(gpd.GeoSeries([Point(105.6, 21.3).buffer(0.01)], crs="EPSG:4326"), operation="test")
    with pytest.raises(CRSError, match="224 m"):
        metric_xy(gpd.GeoSeries([Point(500000, 2350000)], crs=NO_SHIFT), operation="test")
    with pytest.raises(CRSError, match="no coordinate reference system"):
        metric_xy(gpd.GeoSeries([Point(105.6, 21.3)]), operation="test")
