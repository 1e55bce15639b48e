"""Maps: the rendered HTML and its embedded JSON (no browser; see test_maps_browser.py for one)."""

from __future__ import annotations

import base64
import html
import json
import math
import re
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pytest
from pyproj import Transformer
from shapely.geometry import LineString, Point, box, shape

from vpgeo._style import SITE_KIND
from vpgeo.errors import CRSError, InputError
from vpgeo.maps import layer_features, plan_map, save_map, save_png

HOSTILE = "<img src=x onerror=alert(1)>"
# Any <script src=...> or <link href=...> that would reach the network (http:, https: or //host).
REMOTE = re.compile(r"""<(script|link)\b[^>]*\b(src|href)\s*=\s*["']?(https?:)?//""", re.IGNORECASE)


def layers_in(page: str) -> dict[str, Any]:
    """The JSON payload of every vpgeo layer in a rendered page, by layer key."""
    pattern = r'<script type="application/json" id="[^"]+" data-vpgeo-layer="([^"]+)">(.*?)</script>'
    return {k: json.loads(v) for k, v in re.findall(pattern, page, flags=re.S)}


@pytest.fixture()
def sites() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "site_id": ["S1", "S2", "S3", "S4"],
            "name": ["KCN Khai Quang", HOSTILE, "CCN Hợp Thịnh", "KCN Sông Lô II"],
            "kind": ["KCN", "CCN", "CCN", "KCN"],
            "area_ha": [221.46, 50.0, 30.5, 200.0],
            "within_buffer": ["yes", "no", "uncertain", "yes"],
            "distance_km": [1.2, 5.3, 2.9, None],
        },
        geometry=[Point(105.633, 21.308), Point(105.55, 21.25), Point(105.70, 21.35), None],
        crs="EPSG:4326",
    )


@pytest.fixture()
def corridors() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "corridor_id": ["CT05", "QL2", "RR5"],
            "name": ["Cao tốc Nội Bài–Lào Cai", "Quốc lộ 2", "Vành đai 5"],
            "kind": ["expressway", "national_road", "ring_road"],
            "status": ["built", "under_construction", "planned"],
            "precision_m": [200.0, 1000.0, None],
        },
        geometry=[
            LineString([(105.74, 21.25), (105.67, 21.28), (105.60, 21.357)]),
            LineString([(105.72, 21.24), (105.60, 21.31)]),
            LineString([(105.40, 21.20), (105.70, 21.15)]),
        ],
        crs="EPSG:4326",
    )


@pytest.fixture()
def districts() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "code": ["243", "246", "247"],
            "name": ["Vĩnh Yên", "Bình Xuyên", "Tam Dương"],
            "source": ["approximate", "approximate", "approximate"],
            "precision_m": [500, 800, 800],
            "industrial_ha": [300.0, 800.0, 10.0],
        },
        geometry=[
            box(105.55, 21.25, 105.65, 21.35),
            box(105.65, 21.2, 105.75, 21.35),
            box(105.5, 21.35, 105.65, 21.45),
        ],
        crs="EPSG:4326",
    )


def test_layers_counts_and_offline_file(
    tmp_path: Path, sites: gpd.GeoDataFrame, corridors: gpd.GeoDataFrame, districts: gpd.GeoDataFrame
) -> None:
    m = plan_map(sites=sites, corridors=corridors, districts=districts, provenance={"source": "facts"})
    page = save_map(m, tmp_path / "index.html").read_text(encoding="utf-8")
    data = layers_in(page)
    # One feature per drawable row; the site without a position is left out and said so.
    assert len(data["sites"]["features"]) == 3
    assert len(data["sites_verdict"]["features"]) == 3
    assert len(data["districts"]["features"]) == 3
    lines = [f for f in data["corridors"]["features"] if f["geometry"]["type"] == "LineString"]
    assert len(lines) == 3
    assert layer_features(m) == {"districts": 3, "corridors": 3, "sites": 3, "sites_verdict": 3}
    assert "KCN Sông Lô II" in html.unescape(page)  # named in the provenance panel's not_drawn note
    assert m.vpgeo_provenance["not_drawn"] == ["sites: 1 không có vị trí / without a position: KCN Sông Lô II"]
    # Offline: Leaflet 1.9.3 inline, nothing fetched.
    assert REMOTE.search(page) is None
    assert "Leaflet 1.9.3" in page
    assert "jquery" not in page.lower() and "bootstrap" not in page.lower()
    assert '<details open class="vp-panel vp-legend" id="vpgeo-legend">' in page
    assert "L.control.layers" in page


def test_hostile_name_is_escaped(tmp_path: Path, sites: gpd.GeoDataFrame) -> None:
    m = plan_map(sites=sites, provenance={HOSTILE: HOSTILE}, title=HOSTILE)
    page = save_map(m, tmp_path / "m.html").read_text(encoding="utf-8")
    assert HOSTILE not in page
    assert "<img" not in page
    escaped = html.escape(HOSTILE)
    hostile = [f for f in layers_in(page)["sites"]["features"] if escaped in f["properties"]["t"]]
    assert len(hostile) == 1 and escaped in hostile[0]["properties"]["p"]
    # Title and provenance key and value are escaped text in the page.
    assert page.count(f"<dt>{escaped}</dt><dd>{escaped}</dd>") == 1
    assert f'id="vpgeo-title"><h1>{escaped}</h1>' in page


def test_provenance_panel(tmp_path: Path, sites: gpd.GeoDataFrame) -> None:
    import vpgeo

    sites.attrs["provenance"] = {"layer": "sites", "file": "data/sites.geojson"}
    prov = {"sources": {"sites": "facts 2026-11", "corridors": "authored"}, "rule": {"buffer_km": 5}}
    page = save_map(plan_map(sites=sites, provenance=prov), tmp_path / "m.html").read_text(encoding="utf-8")
    panel = re.search(r'<details class="vp-panel vp-prov" id="vpgeo-provenance">(.*?)</details>', page, re.S)
    assert panel is not None
    dts = re.findall(r"<dt>(.*?)</dt>", panel.group(1))
    for key in ("sources", "rule", "buffer_km", "vpgeo_version", "generated_at", "crs", "layers", "file"):
        assert key in dts
    assert f"<dd>{vpgeo.__version__}</dd>" in panel.group(1)
    assert "EPSG:5897" in panel.group(1)


def test_reprojected_input_lands_in_place(sites: gpd.GeoDataFrame) -> None:
    metric = sites.iloc[:3].to_crs("EPSG:5897")
    page = plan_map(sites=metric).get_root().render()
    coords = sorted(tuple(f["geometry"]["coordinates"]) for f in layers_in(page)["sites"]["features"])
    expected = sorted((round(p.x, 5), round(p.y, 5)) for p in sites.geometry.iloc[:3])
    assert np.allclose(coords, expected, atol=2e-5)


def test_styles_by_kind_verdict_and_status(sites: gpd.GeoDataFrame, corridors: gpd.GeoDataFrame) -> None:
    page = plan_map(sites=sites, corridors=corridors).get_root().render()
    data = layers_in(page)

    def fills(key: str) -> dict[str, str]:
        layer = data[key]
        return {f["properties"]["t"].split("</b>")[0][3:]: layer["styles"][f["properties"]["s"]]["fillColor"]
                for f in layer["features"]}  # fmt: skip

    kinds = fills("sites")
    assert kinds["KCN Khai Quang"] != kinds["CCN Hợp Thịnh"] == kinds[html.escape(HOSTILE)]
    verdicts = fills("sites_verdict")
    assert len({verdicts["KCN Khai Quang"], verdicts["CCN Hợp Thịnh"], verdicts[html.escape(HOSTILE)]}) == 3
    # Bigger sites are drawn bigger.
    radius = {f["properties"]["t"].split("</b>")[0][3:]: f["properties"]["r"] for f in data["sites"]["features"]}
    assert radius["KCN Khai Quang"] > radius[html.escape(HOSTILE)] > radius["CCN Hợp Thịnh"]
    cor = data["corridors"]
    dash = {
        f["properties"]["t"].split("</b>")[0][3:]: cor["styles"][f["properties"]["s"]].get("dashArray")
        for f in cor["features"]
        if f["geometry"]["type"] == "LineString"
    }
    assert dash == {"Cao tốc Nội Bài–Lào Cai": None, "Quốc lộ 2": "10 7", "Vành đai 5": "1 8"}


def test_corridor_uncertainty_band_width(corridors: gpd.GeoDataFrame) -> None:
    page = plan_map(corridors=corridors).get_root().render()
    bands = [f for f in layers_in(page)["corridors"]["features"] if f["geometry"]["type"] != "LineString"]
    assert len(bands) == 2  # the corridor without precision_m has no band
    # A ±1000 m band around a straight segment of length L has area 2·1000·L + π·1000².
    seg = corridors.iloc[[1]].to_crs("EPSG:5897").geometry.iloc[0]
    expected = 2 * 1000 * seg.length + math.pi * 1000**2
    areas = sorted(gpd.GeoSeries([shape(b["geometry"]) for b in bands], crs=4326).to_crs(5897).area)
    assert areas[1] == pytest.approx(expected, rel=0.01)


def test_districts_said_approximate_or_official(districts: gpd.GeoDataFrame) -> None:
    approx = plan_map(districts=districts).get_root().render()
    assert "Districts (APPROXIMATE boundaries)" in approx
    tips = [f["properties"]["t"] for f in layers_in(approx)["districts"]["features"]]
    assert all("APPROXIMATE" in t for t in tips) and "±800 m" in tips[1]
    official = plan_map(districts=districts.assign(source="official")).get_root().render()
    assert "Districts (official boundaries)" in official and "APPROXIMATE" not in official
    mixed = plan_map(districts=districts.assign(source=["official", "approximate", "official"])).get_root().render()
    assert "1 of 3 boundaries approximate" in mixed


def test_choropleth_natural_breaks() -> None:
    # Five tight groups: natural breaks with k = 5 must end each class at a group's maximum.
    values = [0.0, 0.5, 10.0, 11.0, 100.0, 101.0, 500.0, 505.0, 2000.0]
    cells = [box(105 + i * 0.1, 21, 105.1 + i * 0.1, 21.1) for i in range(len(values))]
    d = gpd.GeoDataFrame({"name": [f"D{i}" for i in range(9)], "industrial_ha": values}, geometry=cells, crs=4326)
    page = plan_map(districts=d, choropleth="industrial_ha").get_root().render()
    layer = layers_in(page)["choropleth"]
    fills = [layer["styles"][f["properties"]["s"]]["fillColor"] for f in layer["features"]]
    # Same class ⇔ same group.
    groups = [0, 0, 1, 1, 2, 2, 3, 3, 4]
    assert len(set(fills)) == 5
    assert all((fills[i] == fills[j]) == (groups[i] == groups[j]) for i in range(9) for j in range(9))
    legend = re.search(r'id="vpgeo-legend">(.*?)</details>', page, re.S)
    assert legend is not None
    for text in ("0 – 0.5 (2)", "0.5 – 11 (2)", "11 – 101 (2)", "101 – 505 (2)", "505 – 2 000 (1)"):
        assert text in legend.group(1)
    assert "Industrial land (ha)" in legend.group(1)


def test_choropleth_errors(districts: gpd.GeoDataFrame) -> None:
    with pytest.raises(InputError, match="no column 'missing'"):
        plan_map(districts=districts, choropleth="missing")
    with pytest.raises(InputError, match=r"row 2, field 'industrial_ha'.*non-numeric"):
        plan_map(districts=districts.assign(industrial_ha=[1, "lots", 3]), choropleth="industrial_ha")
    with pytest.raises(InputError, match="needs districts"):
        plan_map(choropleth="industrial_ha")


def test_bad_inputs(sites: gpd.GeoDataFrame) -> None:
    with pytest.raises(CRSError, match="no coordinate reference system"):
        plan_map(sites=sites.set_crs(None, allow_override=True))
    with pytest.raises(InputError, match=r"field 'sites'.*GeoDataFrame"):
        plan_map(sites=sites.drop(columns="geometry"))  # type: ignore[arg-type]
    with pytest.raises(InputError, match="unknown tiles"):
        plan_map(tiles="google")
    with pytest.raises(InputError, match="field 'score'"):
        plan_map(candidates=sites.iloc[:3])
    lines = gpd.GeoDataFrame({"score": [1.0]}, geometry=[LineString([(105, 21), (105.1, 21)])], crs=4326)
    with pytest.raises(InputError, match="must be points"):
        plan_map(candidates=lines)


def test_100k_candidates_small_file(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    n = 100_000
    lon, lat = rng.uniform(105.3, 105.8, n), rng.uniform(21.1, 21.5, n)
    cand = gpd.GeoDataFrame(
        {"score": rng.random(n), "rank": np.arange(1, n + 1), "distance_km": rng.random(n) * 12},
        geometry=gpd.points_from_xy(lon, lat),
        crs="EPSG:4326",
    )
    path = save_map(plan_map(candidates=cand), tmp_path / "big.html")
    assert path.stat().st_size < 5_000_000  # issue #16: ≤ 5 MB for 100,000 candidates
    data = layers_in(path.read_text(encoding="utf-8"))["candidates"]
    assert data["n"] == n and data["fields"] == ["score", "rank", "distance_km"]

    def decode(text: str, dtype: str) -> np.ndarray:
        return np.frombuffer(base64.b64decode(text), dtype=dtype)

    lon2, lat2 = decode(data["lon"], "<i4") / data["scale"], decode(data["lat"], "<i4") / data["scale"]
    assert np.allclose(lon2, lon, atol=5.1e-6, rtol=0) and np.allclose(lat2, lat, atol=5.1e-6, rtol=0)
    score2, rank2, dist2 = (decode(v, "<f4") for v in data["values"])
    assert rank2[:3].tolist() == [1, 2, 3] and np.allclose(score2, cand["score"], atol=1e-6)
    assert np.allclose(dist2, cand["distance_km"], rtol=1e-6)
    # Quantile classes: about a fifth of the points each, higher class ⇔ higher score.
    cls = decode(data["cls"], "u1").astype(int)
    assert np.bincount(cls).tolist() == [n // 5] * 5
    score = cand["score"].to_numpy()
    assert score[cls == 0].max() <= score[cls == 1].min()


def test_tiles_are_the_only_network_reference(tmp_path: Path, sites: gpd.GeoDataFrame) -> None:
    page = save_map(plan_map(sites=sites, tiles="osm"), tmp_path / "m.html").read_text(encoding="utf-8")
    assert REMOTE.search(page) is None
    assert "https://tile.openstreetmap.org/{z}/{x}/{y}.png" in page
    assert "OpenStreetMap\\u003c/a\\u003e contributors" in page  # the attribution, as a JS string


def test_save_plain_folium_map(tmp_path: Path) -> None:
    page = save_map(folium.Map(tiles=None), tmp_path / "plain.html").read_text(encoding="utf-8")
    assert REMOTE.search(page) is None and "Leaflet 1.9.3" in page
    m = folium.Map(tiles=None)
    folium.Marker([21.3, 105.6], icon=folium.Icon(icon="cloud")).add_to(m)
    with pytest.raises(InputError, match="awesome-markers"):
        save_map(m, tmp_path / "icons.html")


def test_surface_overlay_in_metric_crs() -> None:
    values = np.arange(12, dtype=float).reshape(3, 4)
    values[0, 0] = np.nan
    bounds = (560000.0, 2350000.0, 564000.0, 2353000.0)
    m = plan_map(surface={"values": values, "bounds": bounds, "crs": "EPSG:5897"})
    page = m.get_root().render()
    url = re.search(r'"data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert url is not None
    png = base64.b64decode(url.group(1))
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert int.from_bytes(png[16:20], "big") == 4 and int.from_bytes(png[20:24], "big") == 3
    to_ll = Transformer.from_crs("EPSG:5897", "EPSG:4326", always_xy=True)
    w, s = to_ll.transform(bounds[0], bounds[1])
    e, n = to_ll.transform(bounds[2], bounds[3])
    corners = re.search(r"L\.imageOverlay\(\s*\"data:[^\"]+\",\s*(\[\[.*?\]\])", page, re.S)
    assert corners is not None
    (s2, w2), (n2, e2) = json.loads(corners.group(1))
    # The lon/lat box encloses the metric grid's corners (it is slightly larger: the grid is rotated).
    assert s2 <= s + 1e-9 and w2 <= w + 1e-9 and n2 >= n - 1e-9 and e2 >= e - 1e-9
    assert abs(s2 - s) < 0.002 and abs(e2 - e) < 0.002


def test_save_png(
    tmp_path: Path, sites: gpd.GeoDataFrame, corridors: gpd.GeoDataFrame, districts: gpd.GeoDataFrame
) -> None:
    from matplotlib.image import imread

    out = save_png(tmp_path / "sub" / "map.png", sites=sites, corridors=corridors, districts=districts, title="T")
    img = imread(out)
    assert img.shape[0] > 800 and img.shape[1] > 1000
    rgb = (img[..., :3] * 255).round().astype(int).reshape(-1, 3)
    # The KCN colour of the shared style is painted (alpha 0.85 over white or the district fill shifts it a little).
    hexcol = SITE_KIND["KCN"].colour
    kcn = np.array([int(hexcol[i : i + 2], 16) for i in (1, 3, 5)])
    assert (np.abs(rgb - (0.85 * kcn + 0.15 * 255)).max(axis=1) <= 12).sum() > 50


def test_notebook_display_is_offline(sites: gpd.GeoDataFrame) -> None:
    frame = plan_map(sites=sites)._repr_html_()
    src = re.search(r'<iframe srcdoc="([^"]*)"', frame)
    assert src is not None
    inner = html.unescape(src.group(1))
    assert "Leaflet 1.9.3" in inner and REMOTE.search(inner) is None


def test_empty_layers(tmp_path: Path, sites: gpd.GeoDataFrame) -> None:
    empty = gpd.GeoDataFrame({"score": []}, geometry=[], crs="EPSG:4326")
    m = plan_map(candidates=empty, sites=sites.iloc[0:0])
    assert layer_features(m) == {"candidates": 0, "sites": 0, "sites_verdict": 0}
    assert REMOTE.search(save_map(m, tmp_path / "e.html").read_text(encoding="utf-8")) is None


def test_surface_object_and_bad_surface() -> None:
    from types import SimpleNamespace

    grid = SimpleNamespace(score=np.ones((2, 2)), bounds=(560000.0, 2350000.0, 562000.0, 2352000.0), crs="EPSG:5897")
    assert "L.imageOverlay" in plan_map(surface=grid).get_root().render()
    with pytest.raises(InputError, match="field 'surface'"):
        plan_map(surface=[[1, 2], [3, 4]])
    with pytest.raises(InputError, match="field 'surface'"):
        plan_map(surface={"values": np.ones((2, 2)), "bounds": (1, 1, 0, 0)})


@pytest.fixture()
def region_sites() -> gpd.GeoDataFrame:
    """Sites in EPSG:5897 carrying position regions and per-corridor intervals, as the rule produces them."""
    x0, y0 = 560000.0, 2356000.0
    return gpd.GeoDataFrame(
        {
            "site_id": ["R1", "R2", "R3"],
            "name": ["KCN Đình Chu", "CCN Triệu Đề", "KCN Sông Lô"],
            "kind": ["KCN", "CCN", "KCN"],
            "precision_m": [2600.0, 500.0, 300.0],
            "within_buffer": ["uncertain", "yes", "no"],
            "verdict_CT05": ["uncertain", "yes", "no"],
            "dmin_CT05_km": [2.04, 0.512, 7.3],
            "dmax_CT05_km": [9.17, 3.87, 9.9],
            "verdict_QL2C": ["no", "yes", "no"],
            "dmin_QL2C_km": [6.3, 1.0, 12.0],
            "dmax_QL2C_km": [11.0, 2.0, 15.0],
            "p_within": [0.374, 1.0, 0.0],
            "region": [
                box(x0 - 3000, y0 - 2000, x0 + 3000, y0 + 2500),
                box(x0 + 8000, y0 - 500, x0 + 9000, y0 + 500).union(box(x0 + 9500, y0, x0 + 10500, y0 + 800)),
                None,
            ],
        },
        geometry=[Point(x0, y0), Point(x0 + 8500, y0), Point(x0 - 9000, y0 + 4000)],
        crs="EPSG:5897",
    )


def test_regions_are_drawn_as_outlines_in_place(region_sites: gpd.GeoDataFrame) -> None:
    m = plan_map(sites=region_sites)
    assert layer_features(m)["regions"] == 2  # the site without a region has none drawn
    page = m.get_root().render()
    regions = layers_in(page)["regions"]
    first = shape(regions["features"][0]["geometry"])
    assert first.geom_type == "Polygon"
    assert regions["styles"][regions["features"][0]["properties"]["s"]]["fillOpacity"] < 0.1  # an outline
    # Every corner of the metric box lands where pyproj puts it (rounded to 1e-5°).
    to_ll = Transformer.from_crs("EPSG:5897", "EPSG:4326", always_xy=True)
    corners = np.array(region_sites["region"].iloc[0].exterior.coords)
    lon, lat = to_ll.transform(corners[:, 0], corners[:, 1])
    drawn = np.array(first.exterior.coords)
    for x, y in zip(lon, lat, strict=True):
        assert np.min(np.hypot(drawn[:, 0] - x, drawn[:, 1] - y)) < 1e-5
    assert shape(regions["features"][1]["geometry"]).geom_type == "MultiPolygon"


def test_popups_show_per_corridor_verdicts_and_intervals(region_sites: gpd.GeoDataFrame) -> None:
    from vpgeo._format import fmt_km

    page = plan_map(sites=region_sites).get_root().render()
    pops = {html.unescape(f["properties"]["t"]).split("</b>")[0][3:]: html.unescape(f["properties"]["p"])
            for f in layers_in(page)["sites"]["features"]}  # fmt: skip
    dinh_chu = pops["KCN Đình Chu"]
    # ±2.6 km supports one decimal of a km: 2.04 → 2.0, 9.17 → 9.2 (the CSV and report print the same).
    assert fmt_km(2.04, 2600) == "2.0" and fmt_km(9.17, 2600) == "9.2"
    assert "Kết luận CT05 / Verdict CT05</th><td>Chưa chắc chắn / Uncertain (2.0–9.2 km)" in dinh_chu
    assert "Kết luận QL2C / Verdict QL2C</th><td>Ngoài vùng đệm / Outside buffer (6.3–11.0 km)" in dinh_chu
    assert "within the buffer</th><td>37 %" in dinh_chu
    assert "(0.51–3.87 km)" in pops["CCN Triệu Đề"]  # ±500 m: two decimals
    assert "dmin_" not in dinh_chu and "verdict_" not in dinh_chu


def test_regions_in_the_png(tmp_path: Path, region_sites: gpd.GeoDataFrame) -> None:
    from matplotlib.image import imread

    def kcn_pixels(frame: gpd.GeoDataFrame, name: str) -> int:
        img = imread(save_png(tmp_path / name, sites=frame, dpi=100))
        rgb = (img[..., :3] * 255).round().astype(int).reshape(-1, 3)
        hexcol = SITE_KIND["KCN"].colour
        kcn = np.array([int(hexcol[i : i + 2], 16) for i in (1, 3, 5)])
        return int((np.abs(rgb - kcn).max(axis=1) <= 10).sum())

    # The dashed outlines of the two regions add pixels of the kind colour (the markers are the same).
    with_regions = kcn_pixels(region_sites, "with.png")
    without = kcn_pixels(region_sites.drop(columns="region"), "without.png")
    assert with_regions > without + 200


def test_png_prints_names_literally_not_as_mathtext(tmp_path: Path) -> None:
    from vpgeo import _png

    names = ["KCN $x^2$ và $100", r"CCN $\undefinedmacro{$", "KCN 50% $"]
    s = gpd.GeoDataFrame({"name": names, "kind": ["KCN", "CCN", "KCN"], "area_ha": [300.0, 200.0, 100.0]},
                         geometry=[Point(105.5, 21.3), Point(105.6, 21.35), Point(105.7, 21.25)], crs=4326)  # fmt: skip
    fig = _png.draw(sites=s, corridors=None, districts=None, rings=None, title=names[1], dpi=80)
    fig.canvas.draw()  # mathtext would raise on the undefined macro
    texts = [t for t in fig.findobj(lambda a: hasattr(a, "get_parse_math")) if t.get_text()]
    shown = {t.get_text() for t in texts}
    assert names[1] in shown  # the title, character for character (no "\$" escapes)
    assert all(not t.get_parse_math() for t in texts if "$" in t.get_text())
    assert any(t.get_text().startswith("KCN $x^2$") for t in texts)
    assert save_png(tmp_path / "m.png", sites=s, title=names[0]).stat().st_size > 0


def test_popups_put_codes_in_words(sites: gpd.GeoDataFrame, corridors: gpd.GeoDataFrame) -> None:
    methods = ["published_point", "commune_centroid", "published_point"]
    frame = sites.iloc[:3].assign(phase=["existing", "older_plan", "new_2030"], location_method=methods)
    page = plan_map(sites=frame, corridors=corridors).get_root().render()
    text = " ".join(html.unescape(f["properties"]["p"]) for key in ("sites", "corridors")
                    for f in layers_in(page)[key]["features"])  # fmt: skip
    expected = ["Hiện có / Existing", "Quy hoạch cũ / Older plan", "Điểm của xã / Commune point",
                "Cao tốc / Expressway", "Đường vành đai / Ring road", "Đang xây dựng / Under construction"]
    for words in expected:
        assert words in text
    for code in ("older_plan", "commune_centroid", "ring_road", "national_road", "under_construction"):
        assert code not in text
