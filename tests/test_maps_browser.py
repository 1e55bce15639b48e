"""The saved map in a real browser (Debian chromium + chromium-driver, headless, network off).

Skipped where /usr/bin/chromium or chromedriver are missing: ``apt-get install -y chromium chromium-driver``.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import LineString, Point, box

from vpgeo.maps import plan_map, save_map

webdriver_wait = pytest.importorskip("selenium.webdriver.support.wait")
WebDriverWait = webdriver_wait.WebDriverWait

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
HOSTILE = "<img src=x onerror=alert(1)>"

if not CHROMIUM.exists() or not Path(CHROMEDRIVER).exists():
    pytest.skip("needs /usr/bin/chromium and chromedriver (apt-get install chromium chromium-driver)",
                allow_module_level=True)  # fmt: skip


@pytest.fixture(scope="module")
def driver(chromium: Any) -> Iterator[Any]:
    with chromium("1200,900") as drv:
        yield drv


def _open(drv: Any, path: Path) -> list[dict[str, Any]]:
    """Load the file and wait until the first frames after adding the layers are drawn; return log entries."""
    drv.get_log("browser")  # drop entries of the previous page
    drv.get(path.as_uri())
    WebDriverWait(drv, 60).until(lambda d: d.execute_script("return !!(window.vpgeo && vpgeo.drawn)"))
    return list(drv.get_log("browser"))


def _severe(log: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in log if e.get("level") == "SEVERE"]


@pytest.fixture(scope="module")
def full_map(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(7)
    sites = gpd.GeoDataFrame(
        {
            "site_id": ["S1", "S2", "S3"],
            "name": ["KCN Khai Quang", HOSTILE, "CCN Hợp Thịnh"],
            "kind": ["KCN", "CCN", "CCN"],
            "area_ha": [221.46, 50.0, 30.5],
            "within_buffer": ["yes", "no", "uncertain"],
        },
        geometry=[Point(105.633, 21.308), Point(105.55, 21.25), Point(105.70, 21.35)],
        crs="EPSG:4326",
    )
    corridors = gpd.GeoDataFrame(
        {"name": ["CT.05", "QL2"], "kind": ["expressway", "national_road"], "status": ["built", "planned"],
         "precision_m": [200, 1000]},
        geometry=[LineString([(105.74, 21.25), (105.60, 21.357)]), LineString([(105.72, 21.24), (105.42, 21.3)])],
        crs="EPSG:4326",
    )  # fmt: skip
    districts = gpd.GeoDataFrame(
        {"name": ["Vĩnh Yên", "Bình Xuyên"], "source": ["official", "approximate"], "industrial_ha": [300.0, 800.0]},
        geometry=[box(105.55, 21.25, 105.65, 21.35), box(105.65, 21.2, 105.75, 21.35)],
        crs="EPSG:4326",
    )
    n = 5000
    candidates = gpd.GeoDataFrame(
        {"score": rng.random(n), "rank": np.arange(1, n + 1)},
        geometry=gpd.points_from_xy(rng.uniform(105.4, 105.8, n), rng.uniform(21.15, 21.45, n)),
        crs="EPSG:4326",
    )
    m = plan_map(
        sites=sites, corridors=corridors, districts=districts, candidates=candidates, choropleth="industrial_ha",
        provenance={"source": HOSTILE}, title="Bản đồ thử / Test map",
    )  # fmt: skip
    return save_map(m, tmp_path_factory.mktemp("map") / "index.html")


def test_map_opens_offline_with_leaflet_and_no_errors(driver: Any, full_map: Path) -> None:
    log = _open(driver, full_map)
    assert driver.execute_script("return typeof window.L") == "object"
    assert driver.execute_script("return L.version") == "1.9.3"
    assert _severe(log) == []
    # The layer control lists every overlay, the legend and provenance panel are in the page.
    labels = driver.execute_script(
        "return Array.from(document.querySelectorAll('.leaflet-control-layers-overlays label'))"
        ".map(function (l) { return l.textContent.trim(); });"
    )
    assert len(labels) == 6  # choropleth, districts, corridors, candidates, sites, sites_verdict
    assert any("APPROXIMATE" in lbl or "approximate" in lbl for lbl in labels)
    assert driver.execute_script("return !!document.getElementById('vpgeo-legend')")


def test_features_drawn(driver: Any, full_map: Path) -> None:
    _open(driver, full_map)
    counts = driver.execute_script(
        "var out = {}; for (var k in vpgeo.layers) {"
        " out[k] = [vpgeo.layers[k].getLayers().length, vpgeo.map.hasLayer(vpgeo.layers[k])]; } return out;"
    )
    assert counts == {
        "choropleth": [2, True],
        "districts": [2, True],
        "corridors": [4, True],  # 2 lines + their 2 uncertainty bands
        "candidates": [5000, True],
        "sites": [3, True],
        "sites_verdict": [3, False],  # the second site layer starts hidden
    }
    # The candidates are really painted: their canvas has non-transparent pixels.
    painted = driver.execute_script(
        "var c = vpgeo.map.getPane('vpgeo-candidates').querySelector('canvas');"
        "var d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data, n = 0;"
        "for (var i = 3; i < d.length; i += 4) { if (d[i] > 0) { n++; } } return n;"
    )
    assert painted > 5000
    # A click next to a candidate opens its popup with its score and rank (one handler for the whole layer).
    popup = driver.execute_script(
        "var ll = vpgeo.layers.candidates.getLayers()[0].getLatLng();"
        "var p = vpgeo.map.latLngToContainerPoint(ll);"
        "vpgeo.map.fire('click', {latlng: vpgeo.map.containerPointToLatLng([p.x + 1, p.y + 1])});"
        "var el = document.querySelector('.leaflet-popup-content'); return el ? el.textContent : null;"
    )
    assert popup is not None and "Score" in popup and "Rank" in popup


def test_hostile_name_is_text(driver: Any, full_map: Path) -> None:
    _open(driver, full_map)
    # Open every site's tooltip and popup: the name must appear as text, no <img> may be created.
    texts = driver.execute_script(
        "var out = [];"
        "vpgeo.layers.sites.eachLayer(function (l) { l.openTooltip(); l.openPopup();"
        " out.push(l.getPopup().getElement().textContent); out.push(l.getTooltip().getElement().textContent); });"
        "return out;"
    )
    assert any(HOSTILE in t for t in texts)
    assert driver.execute_script("return document.querySelectorAll('img').length") == 0
    assert driver.execute_script("return document.getElementById('vpgeo-provenance').textContent").count(HOSTILE) == 1
    assert _severe(driver.get_log("browser")) == []


HOSTILE_NAMES = [
    "{{7*7}}", "{# x", "{{B", "</script><script>window.__pwned = 1;</script>", "\"'><svg onload=\"window.__pwned=3\">",
    "A\u2028B", "javascript:alert(1)", "<img src=x onerror=alert(1)>", "{{ lipsum.__globals__ }}",
]  # fmt: skip


def test_hostile_names_render_as_text_and_run_nothing(driver: Any, tmp_path: Path) -> None:
    n = len(HOSTILE_NAMES)
    sites = gpd.GeoDataFrame(
        {"site_id": [f"S{i}" for i in range(n)], "name": HOSTILE_NAMES, "kind": ["KCN"] * n, "area_ha": [50.0] * n},
        geometry=[Point(105.5 + 0.02 * i, 21.3) for i in range(n)], crs="EPSG:4326",
    )  # fmt: skip
    corridors = gpd.GeoDataFrame(
        {"name": HOSTILE_NAMES, "kind": ["expressway"] * n},
        geometry=[LineString([(105.4, 21.2 + 0.01 * i), (105.8, 21.2 + 0.01 * i)]) for i in range(n)], crs=4326,
    )
    m = plan_map(sites=sites, corridors=corridors, title=HOSTILE_NAMES[3], provenance={"file": HOSTILE_NAMES[4]})
    log = _open(driver, save_map(m, tmp_path / "hostile.html"))
    assert driver.execute_script("return typeof window.__pwned") == "undefined"
    texts = driver.execute_script(
        "var out = [];"
        "vpgeo.layers.sites.eachLayer(function (l) {"
        " l.openPopup(); out.push(l.getPopup().getElement().textContent); });"
        "return out;"
    )
    for name in HOSTILE_NAMES:
        assert any(name in t for t in texts), name
    assert driver.execute_script("return document.title") == HOSTILE_NAMES[3]
    assert HOSTILE_NAMES[4] in driver.execute_script("return document.getElementById('vpgeo-provenance').textContent")
    assert driver.execute_script("return document.querySelectorAll('img, svg[onload], a[href^=\"javascript\"]')"
                                 ".length") == 0  # fmt: skip
    assert _severe(log + driver.get_log("browser")) == []
    # no alert() ran (an open alert would make this call raise UnexpectedAlertPresentException)
    assert driver.execute_script("return 1") == 1


@pytest.fixture(scope="module")
def planner_map(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A map as the report draws it: sites, all three corridor kinds, bands, provenance with the rule."""
    sites = gpd.GeoDataFrame(
        {"site_id": ["S1", "S2", "S3"], "name": ["KCN Khai Quang", "CCN Hợp Thịnh", "KCN Bá Thiện II"],
         "kind": ["KCN", "CCN", "KCN"], "area_ha": [221.0, 50.0, 308.0], "within_buffer": ["yes", "no", "uncertain"]},
        geometry=[Point(105.633, 21.308), Point(105.55, 21.25), Point(105.70, 21.35)], crs="EPSG:4326",
    )  # fmt: skip
    corridors = gpd.GeoDataFrame(
        {"name": ["CT.05", "QL2", "RR5"], "kind": ["expressway", "national_road", "ring_road"],
         "status": ["built", "planned", "under_construction"]},
        geometry=[LineString([(105.74, 21.25), (105.60, 21.357)]), LineString([(105.72, 21.24), (105.42, 21.3)]),
                  LineString([(105.5, 21.2), (105.7, 21.2)])], crs="EPSG:4326",
    )  # fmt: skip
    rings = gpd.GeoDataFrame(
        {"band": ["0–2 km", "2–5 km"], "inner_km": [0.0, 2.0], "outer_km": [2.0, 5.0]},
        geometry=[box(105.6, 21.28, 105.66, 21.33), box(105.57, 21.25, 105.69, 21.36).difference(
            box(105.6, 21.28, 105.66, 21.33))], crs="EPSG:4326",
    )  # fmt: skip
    prov = {"rule": "buffer 5 km; corridors CT05", "sites": "vpgeo facts 2026-11", "generated_at": "2026-12-03T05:00"}
    m = plan_map(sites=sites, corridors=corridors, rings=rings, provenance=prov)
    return save_map(m, tmp_path_factory.mktemp("planner") / "index.html")


def test_title_block_and_scale_bar(driver: Any, planner_map: Path) -> None:
    log = _open(driver, planner_map)
    assert driver.execute_script("return document.title").startswith("Khu/cụm công nghiệp")
    block = driver.find_element("id", "vpgeo-title")
    assert block.is_displayed()
    text = block.text
    assert "Buffer: 5 km" in text and "2026-12-03" in text and "vpgeo facts 2026-11" in text
    scale = driver.execute_script("return document.querySelector('.leaflet-control-scale-line').textContent")
    assert re.fullmatch(r"\d+ (km|m)", scale)
    assert _severe(log) == []


def test_legend_is_bilingual_with_no_raw_codes(driver: Any, planner_map: Path) -> None:
    _open(driver, planner_map)
    legend = driver.execute_script("return document.getElementById('vpgeo-legend').textContent")
    for code in ("expressway", "national_road", "ring_road", "under_construction"):
        assert code not in legend
    for label in ("Cao tốc / Expressway", "Quốc lộ / National road", "Đường vành đai / Ring road",
                  "Trong vùng đệm / Within buffer", "0–2 km", "2–5 km"):  # fmt: skip
        assert label in legend


def test_site_labels_appear_at_zoom_12(driver: Any, planner_map: Path) -> None:
    _open(driver, planner_map)
    count = "return document.querySelectorAll('.vp-label').length"
    driver.execute_script("vpgeo.map.setView([21.31, 105.62], 10, {animate: false});")
    zoom = WebDriverWait(driver, 20).until(lambda d: d.execute_script("return vpgeo.map.getZoom()") <= 10.5)
    assert zoom
    assert driver.execute_script(count) == 0
    driver.execute_script("vpgeo.map.setView([21.31, 105.62], 12, {animate: false});")
    WebDriverWait(driver, 20).until(lambda d: d.execute_script(count) == 3)
    names = driver.execute_script(
        "return Array.from(document.querySelectorAll('.vp-label')).map(function (e) { return e.textContent; });"
    )
    assert sorted(names) == ["CCN Hợp Thịnh", "KCN Bá Thiện II", "KCN Khai Quang"]


def test_search_box_finds_a_site(driver: Any, planner_map: Path) -> None:
    _open(driver, planner_map)
    box_ = driver.find_element("id", "vpgeo-search")
    box_.send_keys("hop thinh")  # without diacritics, as users type
    results = driver.find_element("id", "vpgeo-search-results")
    WebDriverWait(driver, 20).until(lambda d: len(results.find_elements("tag name", "li")) == 1)
    hit = results.find_elements("tag name", "li")[0]
    assert hit.text == "CCN Hợp Thịnh"
    hit.click()
    WebDriverWait(driver, 20).until(
        lambda d: d.execute_script("var e = document.querySelector('.leaflet-popup-content'); return !!e;")
    )
    popup = driver.execute_script("return document.querySelector('.leaflet-popup-content').textContent")
    assert "CCN Hợp Thịnh" in popup
    WebDriverWait(driver, 20).until(lambda d: d.execute_script("return vpgeo.map.getZoom()") >= 14)


def test_regions_and_per_corridor_popups_in_the_browser(driver: Any, tmp_path: Path) -> None:
    x0, y0 = 560000.0, 2356000.0
    sites = gpd.GeoDataFrame(
        {"site_id": ["R1", "R2"], "name": ["KCN Đình Chu", "CCN Triệu Đề"], "kind": ["KCN", "CCN"],
         "precision_m": [2600.0, 500.0], "within_buffer": ["uncertain", "yes"], "verdict_CT05": ["uncertain", "yes"],
         "dmin_CT05_km": [2.04, 0.51], "dmax_CT05_km": [9.17, 3.87], "p_within": [0.374, 1.0],
         "region": [box(x0 - 3000, y0 - 2000, x0 + 3000, y0 + 2500), None]},
        geometry=[Point(x0, y0), Point(x0 + 8500, y0)], crs="EPSG:5897",
    )  # fmt: skip
    log = _open(driver, save_map(plan_map(sites=sites), tmp_path / "regions.html"))
    assert driver.execute_script("return vpgeo.layers.regions.getLayers().length") == 1
    # The outline encloses its site's point.
    assert driver.execute_script(
        "var r = vpgeo.layers.regions.getLayers()[0].getBounds(), p = null;"
        "vpgeo.layers.sites.eachLayer(function (l) {"
        " if (l.feature.properties.n === 'KCN Đình Chu') { p = l.getLatLng(); } });"
        "return r.contains(p);"
    )
    popup = driver.execute_script(
        "var out = null; vpgeo.layers.sites.eachLayer(function (l) {"
        " if (l.feature.properties.n === 'KCN Đình Chu') {"
        "  l.openPopup(); out = l.getPopup().getElement().textContent; }"
        "}); return out;"
    )
    assert "Verdict CT05" in popup and "Chưa chắc chắn / Uncertain (2.0–9.2 km)" in popup and "37 %" in popup
    assert _severe(log) == []
