"""The one map style (vpgeo._style): fixed per kind and verdict, bilingual, colour-blind safe (issue #17 item 5).

Colour-blind safety is checked by simulating dichromacy with the matrices of Machado, Oliveira & Fernandes
(2009, severity 1.0) in linear sRGB and measuring CIE76 ΔE in CIELAB between the colours a reader must tell
apart: every pair stays ≥ 15 ΔE (clearly distinct) for normal, protan, deutan and tritan vision.
"""

from __future__ import annotations

import html
import itertools
import json
import re

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import LineString, box

from vpgeo import _style as st
from vpgeo.maps import plan_map

MACHADO = {
    "normal": np.eye(3),
    "protan": np.array([[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                        [-0.003882, -0.048116, 1.051998]]),
    "deutan": np.array([[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                        [-0.011820, 0.042940, 0.968881]]),
    "tritan": np.array([[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602],
                        [0.004733, 0.691367, 0.303900]]),
}  # fmt: skip


def _lab(hex_colour: str, vision: str) -> np.ndarray:
    rgb = np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)]) / 255.0
    lin = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    lin = np.clip(MACHADO[vision] @ lin, 0, 1)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ lin
    t = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(t > (6 / 29) ** 3, np.cbrt(t), t / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def _min_delta_e(colours: list[str]) -> float:
    return min(
        float(np.linalg.norm(_lab(a, v) - _lab(b, v))) for v in MACHADO for a, b in itertools.combinations(colours, 2)
    )


def test_lab_conversion_matches_known_values() -> None:
    # sRGB white is L* = 100, a* = b* = 0; pure sRGB red is L* 53.24, a* 80.09, b* 67.20 (CIE76, D65).
    assert _lab("#FFFFFF", "normal") == pytest.approx([100, 0, 0], abs=0.05)
    assert _lab("#FF0000", "normal") == pytest.approx([53.24, 80.09, 67.20], abs=0.1)


@pytest.mark.parametrize(
    "group",
    [
        [s.colour for s in [*st.VERDICT.values(), st.VERDICT_NONE]],
        [s.colour for s in st.CORRIDOR_KIND.values()],
        [s.colour for s in [*st.SITE_KIND.values(), st.SITE_KIND_OTHER]],
        st.BANDS[:3],  # 0–2, 2–5, 5–10 km: the bands a planner compares
    ],
    ids=["verdicts", "corridor kinds", "site kinds", "bands"],
)
def test_colours_stay_apart_for_colour_blind_readers(group: list[str]) -> None:
    assert _min_delta_e(group) >= 15


def test_labels_are_bilingual_vietnamese_first() -> None:
    assert st.corridor_kind("expressway").label == "Cao tốc / Expressway"
    assert st.corridor_kind("national_road").label == "Quốc lộ / National road"
    assert st.corridor_kind("Ring road").label == "Đường vành đai / Ring road"
    for swatch in [*st.CORRIDOR_KIND.values(), *st.VERDICT.values(), *st.SITE_KIND.values()]:
        vi, en = swatch.label.split(" / ")
        assert vi and en and "_" not in swatch.label
    assert st.column_label("verdict_CT05") == "Kết luận CT05 / Verdict CT05"


def _corridor_colours(kinds: list[str]) -> dict[str, str]:
    lines = gpd.GeoDataFrame(
        {"name": [f"L{i}" for i in range(len(kinds))], "kind": kinds, "status": "built"},
        geometry=[LineString([(105.4, 21.2 + 0.01 * i), (105.8, 21.2 + 0.01 * i)]) for i in range(len(kinds))],
        crs="EPSG:4326",
    )
    page = plan_map(corridors=lines).get_root().render()
    payload = re.search(r'data-vpgeo-layer="corridors">(.*?)</script>', page, re.S)
    assert payload is not None
    fc = json.loads(payload.group(1))
    by_name = {f["properties"]["t"].split("</b>")[0][3:]: fc["styles"][f["properties"]["s"]]["color"]
               for f in fc["features"]}  # fmt: skip
    return {k: by_name[f"L{i}"] for i, k in enumerate(kinds)}


def test_corridor_colour_does_not_depend_on_the_kinds_present() -> None:
    # Before: colours followed the sorted kinds present, so a ring road alone took the first colour.
    alone = _corridor_colours(["ring_road"])
    together = _corridor_colours(["expressway", "national_road", "ring_road"])
    assert alone["ring_road"] == together["ring_road"] == "#009E73"
    assert len(set(together.values())) == 3


def test_legend_lists_every_kind_bilingual_and_no_raw_code() -> None:
    lines = gpd.GeoDataFrame({"name": ["RR5"], "kind": ["ring_road"], "status": ["under_construction"]},
                             geometry=[LineString([(105.4, 21.2), (105.8, 21.2)])], crs=4326)  # fmt: skip
    page = plan_map(corridors=lines).get_root().render()
    legend = re.search(r'id="vpgeo-legend">(.*?)</details>', page, re.S)
    assert legend is not None
    text = html.unescape(re.sub(r"<[^>]+>", " ", legend.group(1)))
    for label in ("Cao tốc / Expressway", "Quốc lộ / National road", "Đường vành đai / Ring road",
                  "Đang xây dựng / Under construction"):  # fmt: skip
        assert label in text
    for code in ("ring_road", "national_road", "expressway", "under_construction"):
        assert code not in text


def test_bands_0_2_and_2_5_km_differ_in_hue() -> None:
    rings = gpd.GeoDataFrame(
        {"band": ["0–2 km", "2–5 km"], "inner_km": [0.0, 2.0], "outer_km": [2.0, 5.0]},
        geometry=[box(105.6, 21.28, 105.66, 21.33), box(105.5, 21.2, 105.7, 21.4)], crs="EPSG:4326",
    )
    page = plan_map(rings=rings).get_root().render()
    payload = re.search(r'data-vpgeo-layer="rings">(.*?)</script>', page, re.S)
    assert payload is not None
    fc = json.loads(payload.group(1))
    fills = [fc["styles"][f["properties"]["s"]]["fillColor"] for f in fc["features"]]
    assert fills == [st.BANDS[0], st.BANDS[1]]
    assert _min_delta_e(fills) >= 15
