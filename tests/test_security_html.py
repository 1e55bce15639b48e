"""User text is data, never template source (issue #12 item 1).

branca compiles the text every folium macro produces as a Jinja2 template; vpgeo's elements render their
macros once and hand the result over as raw text (vpgeo._leaflet). These tests feed hostile names through
every place where text reaches the page — sites, corridors, districts, the title, provenance keys and
values, the choropleth column, the surface label, the input file name — from Python and from the CLI, and
check that each name arrives as escaped text, nothing is evaluated and no code runs.
"""

from __future__ import annotations

import csv
import html
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
from shapely.geometry import LineString, Point, box

from vpgeo import _leaflet
from vpgeo.maps import plan_map, save_map

MARK = "VPGEO_PWNED"  # a payload that runs creates a folder of this name in the test's tmp dir


def hostile(tmp: Path) -> list[str]:
    """Names that break or exploit a page that treats them as template, HTML or script source."""
    target = str(tmp / MARK)
    return [
        "{{7*7}}",
        "KCN {{ 7*'7' }} Khai Quang",
        "{% for x in range(3) %}X{% endfor %}",
        "{# an unterminated comment",
        "{{B",
        "{%",
        "}} {{",
        f"{{{{ lipsum.__globals__['os'].makedirs('{target}') }}}}",
        f"{{{{ cycler.__init__.__globals__.os.makedirs('{target}') }}}}",
        "{{ config }}{{ self }}{{ this.__class__ }}",
        "</script><script>window.__pwned = 1;</script>",
        "</title><script>window.__pwned = 2;</script>",
        "\"'><svg onload=\"window.__pwned=3\">",
        "A\u2028B\u2029C",
        "javascript:alert(1)",
        "<!-- open comment",
        "${window.__pwned = 4}",
        "\\u003cscript\\u003e",
        "&lt;b&gt;already escaped&lt;/b&gt;",
        "KCN $x^2$ và $100",
    ]


def layers_in(page: str) -> dict[str, object]:
    pattern = r'<script type="application/json" id="[^"]+" data-vpgeo-layer="([^"]+)">(.*?)</script>'
    return {k: json.loads(v) for k, v in re.findall(pattern, page, flags=re.S)}


def tooltips(page: str, key: str) -> list[str]:
    layer = layers_in(page)[key]
    assert isinstance(layer, dict)
    return [f["properties"]["t"] for f in layer["features"]]


def scripts(page: str) -> list[str]:
    return re.findall(r"<script\b[^>]*>(.*?)</script>", page, flags=re.S | re.I)


def frames(names: list[str]) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    n = len(names)
    sites = gpd.GeoDataFrame(
        {"site_id": [f"S{i}" for i in range(n)], "name": names, "kind": ["KCN", "CCN"] * (n // 2) + ["KCN"] * (n % 2),
         "area_ha": np.linspace(10, 300, n), "within_buffer": ["yes", "no", "uncertain", None] * (n // 4) +
         ["yes"] * (n % 4)},
        geometry=[Point(105.45 + 0.02 * i, 21.2 + 0.01 * i) for i in range(n)], crs="EPSG:4326",
    )  # fmt: skip
    corridors = gpd.GeoDataFrame(
        {"corridor_id": names, "name": names, "kind": ["expressway"] * n, "status": names, "precision_m": 300.0},
        geometry=[LineString([(105.4, 21.1 + 0.02 * i), (105.8, 21.12 + 0.02 * i)]) for i in range(n)],
        crs="EPSG:4326",
    )
    districts = gpd.GeoDataFrame(
        {"name": names, "source": names, "industrial_ha": np.arange(n, dtype=float)},
        geometry=[box(105.4 + 0.02 * i, 21.1, 105.42 + 0.02 * i, 21.4) for i in range(n)],
        crs="EPSG:4326",
    )
    return sites, corridors, districts


def _check_page(page: str, names: list[str], tmp: Path) -> None:
    assert not (tmp / MARK).exists(), "a payload ran"
    # A name never ends an element (its '<' arrives as &lt; in HTML and \u003c in JSON).
    assert "<script>window.__pwned" not in page and "</title><script>" not in page
    for name in names:
        escaped = html.escape(name, quote=True)
        assert sum(escaped in t for t in tooltips(page, "sites")) >= 1, name
        assert sum(escaped in t for t in tooltips(page, "corridors")) >= 1, name
        assert sum(escaped in t for t in tooltips(page, "districts")) >= 1, name
    # No raw line separator inside a script (it ends a JS string in old engines), no live markup from data.
    assert not any("\u2028" in s or "\u2029" in s for s in scripts(page))
    assert "<svg onload" not in page and 'href="javascript:' not in page.lower()
    # {{7*7}} stayed text (the payloads name tmp, whose pytest counter may hold a "49" of its own)
    assert "49" not in "".join(tooltips(page, "sites")).replace(str(tmp), "")


def test_hostile_names_from_python_are_text(tmp_path: Path) -> None:
    names = hostile(tmp_path)
    sites, corridors, districts = frames(names)
    for name in names:
        col = name if name.strip() else "x"
        m = plan_map(
            sites=sites, corridors=corridors, districts=districts.assign(**{col: districts["industrial_ha"]}),
            choropleth=col, title=name, provenance={name: name, "file": f"/data/{name}.csv"},
            surface={"values": np.ones((2, 2)), "bounds": (105.4, 21.1, 105.8, 21.4), "label": name},
        )  # fmt: skip
        page = save_map(m, tmp_path / "index.html").read_text(encoding="utf-8")
        _check_page(page, names, tmp_path)
        escaped = html.escape(name, quote=True)
        assert re.search(r"<title>(.*?)</title>", page, re.S).group(1) == escaped  # type: ignore[union-attr]
        assert f"<dt>{escaped}</dt><dd>{escaped}</dd>" in page
        assert f"<dd>/data/{escaped}.csv</dd>" in page
        title_block = re.search(r'id="vpgeo-title">(.*?)</div>', page, re.S)
        assert title_block is not None and escaped in title_block.group(1)


def test_every_page_part_is_raw_text(tmp_path: Path) -> None:
    """After rendering, nothing in the page's header, body or script is left to be compiled as a template."""
    names = hostile(tmp_path)
    sites, corridors, districts = frames(names)
    m = plan_map(sites=sites, corridors=corridors, districts=districts, choropleth="industrial_ha", tiles="osm")
    page = m.get_root().render()
    root = m.get_root()
    parts = [c for part in (root.header, root.html, root.script) for c in part._children.values()]
    assert parts and all(isinstance(c, _leaflet.Raw) for c in parts)
    _check_page(page, names, tmp_path)


def test_template_syntax_in_names_does_not_crash(tmp_path: Path) -> None:
    # '{#' and '{{B' raised TemplateSyntaxError while the map was built.
    for name in ("{#", "{{B", "{% endfor %}", "{{ }}", "{% raw %}"):
        sites, corridors, _ = frames([name])
        page = plan_map(sites=sites, corridors=corridors, title=name).get_root().render()
        assert html.escape(name) in tooltips(page, "sites")[0]


def _cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """The CLI of the repository under test, as a user runs it (python -m vpgeo.cli)."""
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run([sys.executable, "-m", "vpgeo.cli", *args], cwd=cwd, capture_output=True, text=True,
                          env=env, timeout=600)  # fmt: skip


def test_hostile_names_through_the_cli(tmp_path: Path) -> None:
    names = hostile(tmp_path)
    src = tmp_path / "{{7*7}} {# sites.csv"
    with src.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["site_id", "name", "kind", "area_ha", "lon", "lat"])
        for i, name in enumerate(names):
            w.writerow([f"H{i}", name, "KCN" if i % 2 else "CCN", 20 + i, f"{105.45 + 0.015 * i:.4f}",
                        f"{21.22 + 0.008 * i:.4f}"])  # fmt: skip
    proc = _cli(["report", "--sites", str(src), "--out", "out", "--boundaries", "approx"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert not (tmp_path / MARK).exists(), "a payload ran"
    page = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    with (tmp_path / "out" / "sites.csv").open(encoding="utf-8-sig", newline="") as fh:
        written = [r["name"] for r in csv.DictReader(fh)]
    assert len(written) == len(names)
    tips = tooltips(page, "sites")
    for name in written:  # the names as the loader kept them (NFC, trimmed) appear escaped, unevaluated
        assert any(html.escape(name, quote=True) in t for t in tips), name
    assert "<script>window.__pwned" not in page
    assert "49" not in "".join(tips).replace(str(tmp_path), "")  # tmp_path's counter may hold a "49"
    # The input file name is shown as text in the provenance panel.
    assert html.escape(src.name) in page
    assert (tmp_path / "out" / "map.png").stat().st_size > 0
