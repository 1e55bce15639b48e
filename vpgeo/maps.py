"""Interactive maps that open anywhere offline, and a static PNG of the same content.

:func:`plan_map` builds a :class:`folium.Map` (it displays inline in notebooks) with one layer per input, a
layer control, a fixed bilingual legend, a title block, a search box for site names, a km scale bar, site
names at useful zooms, bilingual tooltips and popups, a provenance panel and an optional choropleth per
district. :func:`save_map` writes it as ONE self-contained HTML file: Leaflet 1.9.3 is inlined from the
registry package ``xstatic-leaflet`` and nothing else is linked, so the file works from a USB stick with no
network (basemap tiles, when asked for, are the only network references). :func:`save_png` draws the same
content with matplotlib for print.

User text (site, corridor and district names, provenance, file names, the title) is data, never code: it is
HTML-escaped or written as script-safe JSON, and never becomes template source (see :mod:`vpgeo._leaflet`).
Colours and legend texts come from one style, :mod:`vpgeo._style`. Large candidate layers travel as typed
arrays (base64) drawn on their own canvas: 100,000 points make a file of about 3 MB.

Module map: ``maps`` (this, the public API) · ``_leaflet`` (folium runtime, safe elements, offline page) ·
``_layers`` (layers, popups, legend rows) · ``_png`` (static renderer) · ``_style`` (colours and labels).

Examples
--------
>>> import geopandas as gpd
>>> from shapely.geometry import Point
>>> sites = gpd.GeoDataFrame(
...     {"site_id": ["S1"], "name": ["KCN <b>Khai Quang</b>"], "kind": ["KCN"], "area_ha": [221.5]},
...     geometry=[Point(105.633, 21.308)], crs="EPSG:4326")
>>> m = plan_map(sites=sites, provenance={"source": "facts"})
>>> layer_features(m)
{'sites': 1}
>>> html = m.get_root().render()
>>> "<b>Khai Quang</b>" in html, "Khai Quang" in html
(False, True)
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np

from vpgeo import _assets
from vpgeo import _layers as _ly
from vpgeo import _leaflet as _lf
from vpgeo._layers import esc
from vpgeo._output import write_text
from vpgeo._version import __version__
from vpgeo.errors import InputError

__all__ = ["TILES", "esc", "layer_features", "plan_map", "save_map", "save_png"]

# Basemaps: offline the vector layers give the context, so none is the default.
TILES: dict[str, tuple[str, str] | None] = {
    "none": None,
    "osm": (
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors',
    ),
    "carto": (
        "https://{s}.basemaps.cartocdn.com/light_all/{z}/{x}/{y}{r}.png",
        '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors '
        '&copy; <a href="https://carto.com/attributions">CARTO</a>',
    ),
}

DEFAULT_TITLE = "Khu/cụm công nghiệp và hành lang giao thông / Industrial sites and corridors"
_HOME = (21.33, 105.55)  # former Vĩnh Phúc, shown when there is nothing to fit the view to
_ORDER = ("districts", "communes", "rings", "corridors", "access_points", "candidates", "sites")


# --------------------------------------------------------------------------------------------------------
# Provenance and the title block


def _prov_html(value: object, depth: int = 0) -> str:
    if isinstance(value, Mapping):
        if not value:
            return "—"
        items = "".join(f"<dt>{esc(k)}</dt><dd>{_prov_html(v, depth + 1)}</dd>" for k, v in value.items())
        return f"<dl>{items}</dl>"
    if isinstance(value, list | tuple) and depth < 6:
        return "<br>".join(_prov_html(v, depth + 1) for v in value) or "—"
    return esc(value)


def _provenance(
    provenance: Mapping[str, Any] | None, layers: Mapping[str, gpd.GeoDataFrame | None], notes: list[str]
) -> dict[str, Any]:
    prov: dict[str, Any] = dict(provenance or {})
    prov.setdefault("vpgeo_version", __version__)
    prov.setdefault("generated_at", dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat())
    prov.setdefault(
        "crs",
        "hiển thị / display: EPSG:4326 (WGS 84) trên / on Web Mercator; đo đạc / measurements: "
        "EPSG:5897 (VN-2000 / TM-3 105°00′)",
    )
    layer_prov = {name: gdf.attrs["provenance"] for name, gdf in layers.items()
                  if gdf is not None and getattr(gdf, "attrs", {}).get("provenance")}  # fmt: skip
    if layer_prov and "layers" not in prov:
        prov["layers"] = layer_prov
    if notes:
        prov["not_drawn"] = notes
    return prov


def _buffer_text(prov: Mapping[str, Any]) -> str | None:
    rule = prov.get("rule")
    value = prov.get("buffer_km", rule.get("buffer_km") if isinstance(rule, Mapping) else None)
    if value is None and isinstance(rule, str):
        found = re.search(r"buffer\s+([\d.,]+)\s*km", rule)
        value = found.group(1) if found else None
    return None if value is None else f"{_ly.display(value)} km"


def _title_block(title: str, prov: Mapping[str, Any]) -> str:
    """What, buffer, date and data, escaped; the block at the top of the map."""
    lines = []
    buffer = _buffer_text(prov)
    if buffer:
        lines.append(f"Vùng đệm / Buffer: {esc(buffer)}")
    lines.append(f"Ngày / Date: {esc(str(prov.get('generated_at', ''))[:10])}")
    data = [str(prov[k]) for k in ("sites", "corridors", "boundaries") if isinstance(prov.get(k), str) and prov[k]]
    if data:
        lines.append("Dữ liệu / Data: " + esc("; ".join(data)))
    body = "".join(f"<div>{line}</div>" for line in lines)
    return f'<div class="vp-panel vp-title" id="vpgeo-title"><h1>{esc(title)}</h1>{body}</div>'


def _panels(m: folium.Map, legend: list[str], prov: Mapping[str, Any], title: str) -> None:
    if legend:
        _lf.Panel(
            "VpgeoLegend",
            '<details open class="vp-panel vp-legend" id="vpgeo-legend"><summary>Chú giải / Legend</summary>'
            + "".join(legend) + "</details>",
        ).add_to(m)  # fmt: skip
    _lf.Panel(
        "VpgeoProvenance",
        '<details class="vp-panel vp-prov" id="vpgeo-provenance"><summary>Nguồn dữ liệu / Provenance</summary>'
        + _prov_html(prov) + "</details>",
    ).add_to(m)  # fmt: skip
    _lf.Panel("VpgeoTitle", _title_block(title, prov)).add_to(m)


# --------------------------------------------------------------------------------------------------------
# The map


def _prepare_all(inputs: Mapping[str, gpd.GeoDataFrame | None]) -> tuple[dict[str, gpd.GeoDataFrame], list[str]]:
    """Each given layer in EPSG:4326, and a note naming the rows that have no position (drawn = in − noted)."""
    prepared: dict[str, gpd.GeoDataFrame] = {}
    notes: list[str] = []
    for arg, gdf in inputs.items():
        if gdf is None:
            continue
        out, skipped = _ly.prepare(gdf, arg)
        prepared[arg] = out
        if skipped:
            names = [str(out.iloc[i]["name"]) if "name" in out.columns else f"row {i + 1}" for i in skipped[:20]]
            more = f" (+{len(skipped) - 20})" if len(skipped) > 20 else ""
            notes.append(f"{arg}: {len(skipped)} không có vị trí / without a position: {', '.join(names)}{more}")
    return prepared, notes


def _add_layers(m: folium.Map, prepared: Mapping[str, gpd.GeoDataFrame], choropleth: str | None) -> list[str]:
    legend: list[str] = []
    if "districts" in prepared:
        if choropleth is not None:
            _ly.add_choropleth(m, prepared["districts"], choropleth, legend)
        _ly.add_districts(m, prepared["districts"], legend)
    if "communes" in prepared:
        _ly.add_communes(m, prepared["communes"], legend, show="districts" not in prepared)
    adders = {"rings": _ly.add_rings, "corridors": _ly.add_corridors, "candidates": _ly.add_candidates,
              "access_points": _ly.add_access_points, "sites": _ly.add_sites}  # fmt: skip
    for key in ("rings", "corridors", "candidates", "access_points", "sites"):
        if key in prepared:
            adders[key](m, prepared[key], legend)
    return legend


def _bounds(prepared: Mapping[str, gpd.GeoDataFrame]) -> list[list[float]] | None:
    """[[south, west], [north, east]] of the data (in EPSG:4326 after preparation), or None."""
    frames = [g for g in prepared.values() if not g.empty]
    if not frames:
        return None
    b = np.array([g.geometry.total_bounds for g in frames], dtype=float)
    b = b[np.all(np.isfinite(b), axis=1)]
    if not b.size:
        return None
    return [[float(b[:, 1].min()), float(b[:, 0].min())], [float(b[:, 3].max()), float(b[:, 2].max())]]


def plan_map(
    *,
    sites: gpd.GeoDataFrame | None = None,
    corridors: gpd.GeoDataFrame | None = None,
    access_points: gpd.GeoDataFrame | None = None,
    districts: gpd.GeoDataFrame | None = None,
    communes: gpd.GeoDataFrame | None = None,
    rings: gpd.GeoDataFrame | None = None,
    candidates: gpd.GeoDataFrame | None = None,
    surface: Mapping[str, Any] | object | None = None,
    choropleth: str | None = None,
    provenance: Mapping[str, Any] | None = None,
    tiles: str = "none",
    title: str | None = None,
) -> folium.Map:
    """An interactive map of the plan's layers, ready for :func:`save_map` or inline display.

    Every layer is optional (``None`` leaves it out); GeoDataFrames may be in any CRS with a valid
    definition and are shown in EPSG:4326.

    Parameters
    ----------
    sites : GeoDataFrame, optional
        Industrial parks and clusters (``site_id, name, kind, area_ha, ...``); drawn sized by area and
        coloured by kind, and, when ``within_buffer`` is present, coloured by verdict in a second layer.
        Names are written on the map from zoom 12 and found by the search box. A column ``region`` of
        (Multi)Polygons in the frame's CRS (None allowed) is drawn as each site's position region (outline);
        per-corridor columns ``verdict_<ID>``, ``dmin_<ID>_km``, ``dmax_<ID>_km`` and ``p_within`` are shown
        in the popups.
    corridors : GeoDataFrame, optional
        Corridor lines (``name, status, precision_m, ...``): solid when built, dashed under construction,
        dotted when planned, over a translucent band ±``precision_m`` wide.
    access_points : GeoDataFrame, optional
        Interchanges (``access_id, name, corridor_id, kind``).
    districts : GeoDataFrame, optional
        District boundaries (``code, name, source, precision_m`` + numeric columns); ``source`` other than
        ``"official"`` is shown dashed and named approximate in the layer name and tooltip.
    communes : GeoDataFrame, optional
        The communes of 2025 (``code, name, area_km2, source``).
    rings : GeoDataFrame, optional
        Distance bands (``band, inner_km, outer_km``).
    candidates : GeoDataFrame, optional
        Scored candidate points (``score`` required; ``rank, distance_km`` shown when present).
    surface : mapping or vpgeo.surface.Surface, optional
        ``{"values": 2-D array (row 0 north), "bounds": (minx, miny, maxx, maxy), "crs": ...}`` (``crs``
        defaults to EPSG:4326; ``"label"`` names it in the legend), or any object with ``score``,
        ``bounds`` and ``crs``; resampled to longitude/latitude and drawn as an image overlay.
    choropleth : str, optional
        A numeric column of ``districts`` to classify (Fisher–Jenks natural breaks, k ≤ 5).
    provenance : mapping, optional
        Data sources and vintages, rule parameters...; shown escaped in a panel with the vpgeo version,
        the CRS and ``generated_at`` (added when missing), and each layer's ``attrs["provenance"]``.
    tiles : {"none", "osm", "carto"}
        Basemap; "none" keeps the file fully offline.
    title : str, optional
        The page's ``<title>`` and the heading of the title block (a bilingual default when None); the block
        also states the buffer (``provenance["rule"]`` or ``["buffer_km"]``), the date (``generated_at``) and
        the data (``provenance["sites"]``, ``["corridors"]``, ``["boundaries"]``) when given.

    Returns
    -------
    folium.Map
        Its attribute ``vpgeo_provenance`` holds the provenance shown in the panel, with ``not_drawn``
        naming the rows left off the map for want of a position (rows in = rows drawn + rows named there).

    Raises
    ------
    InputError
        For a layer that is not a GeoDataFrame, an unknown ``tiles``, a missing or non-numeric
        ``choropleth`` column, candidates without ``score`` or not points, or a malformed ``surface``.
    CRSError
        For a layer without a CRS or with an unsafe VN-2000 definition.

    Examples
    --------
    >>> m = plan_map(title="Vĩnh Phúc")
    >>> isinstance(m, folium.Map), layer_features(m)
    (True, {})
    """
    if tiles not in TILES:
        raise InputError(f"unknown tiles {tiles!r}; use one of {', '.join(TILES)}", field="tiles")
    if choropleth is not None and districts is None:
        raise InputError("a choropleth needs districts=...", field="choropleth")
    inputs = {"districts": districts, "communes": communes, "rings": rings, "corridors": corridors,
              "access_points": access_points, "candidates": candidates, "sites": sites}  # fmt: skip
    prepared, notes = _prepare_all(inputs)
    heading = str(title) if title is not None and str(title).strip() else DEFAULT_TITLE
    m = _lf.OfflineMap(title=heading, location=list(_HOME), zoom_start=10, tiles=None, prefer_canvas=True,
                       font_size="13px")  # fmt: skip
    tile = TILES[tiles]
    if tile is not None:
        _lf.TileLayer(tiles=tile[0], attr=tile[1], name=f"Nền / Basemap ({tiles})", max_zoom=19).add_to(m)
    _lf.Runtime().add_to(m)
    legend: list[str] = []
    if surface is not None:
        _ly.add_surface(m, surface, legend)
    legend += _add_layers(m, prepared, choropleth)
    prov = _provenance(provenance, inputs, notes)
    _panels(m, legend, prov, heading)
    _lf.LayerControl(collapsed=False).add_to(m)
    _lf.Ready(label_zoom=_ly.LABEL_MIN_ZOOM, bounds=_bounds(prepared)).add_to(m)
    m.vpgeo_provenance = prov  # type: ignore[attr-defined]
    return m


def layer_features(m: folium.Map) -> dict[str, int]:
    """Features per vpgeo layer of a map from :func:`plan_map` (corridors: lines, not their bands).

    Keys: ``districts, choropleth, communes, rings, corridors, candidates, access_points, regions, sites,
    sites_verdict`` for the layers present.
    """
    return {child.key: child.n for child in m._children.values() if isinstance(child, _lf.DataLayer)}


def save_map(m: folium.Map, path: str | os.PathLike[str]) -> Path:
    """Write ``m`` as one self-contained HTML file that works offline, and return its path.

    Leaflet is inlined from ``xstatic-leaflet``; folium's default CDN links (jQuery, Bootstrap,
    awesome-markers, Font Awesome) are dropped when the page does not use them, so a plain
    :class:`folium.Map` can be saved too.

    Raises
    ------
    InputError
        When the map uses a script or stylesheet with no offline copy (e.g. a folium plugin), or when
        the file cannot be written.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = save_map(plan_map(), Path(d) / "map.html")
    ...     page = p.read_text(encoding="utf-8")
    >>> _assets.remote_refs(page), "L.version" in page or "Leaflet 1.9.3" in page
    ([], True)
    """
    if not isinstance(m, folium.Map):
        raise InputError(f"expected a folium.Map, got {type(m).__name__}", field="m")
    out = Path(path)
    page = _assets.make_offline(m.get_root().render())
    left = _assets.remote_refs(page)
    if left:  # pragma: no cover - make_offline raises first
        raise InputError("remote scripts remain: " + ", ".join(left), path=str(out))
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        write_text(out, page)  # atomic, a link at ``out`` replaced, never followed
    except OSError as exc:
        raise InputError(f"cannot write the map: {exc.strerror}", path=str(out)) from None
    return out


def save_png(
    path: str | os.PathLike[str],
    *,
    sites: gpd.GeoDataFrame | None = None,
    corridors: gpd.GeoDataFrame | None = None,
    districts: gpd.GeoDataFrame | None = None,
    rings: gpd.GeoDataFrame | None = None,
    title: str | None = None,
    dpi: int = 200,
) -> Path:
    """A static PNG of the map for printed reports, drawn with matplotlib (Agg; no browser, no pyplot).

    Drawn in EPSG:5897 (VN-2000 / TM-3, km) so shapes and the scale bar are true: districts (dashed when
    approximate) with their names, rings, corridors coloured by kind and styled by status, sites sized by
    area, coloured by kind and outlined by rule verdict when ``within_buffer`` is present, and each site's
    position ``region`` outlined when the frame has one. Colours and legend texts are those of the HTML map
    (:mod:`vpgeo._style`); names are printed literally (no mathtext: ``$x$`` stays ``$x$``).

    Examples
    --------
    >>> import tempfile, geopandas as gpd
    >>> from shapely.geometry import Point
    >>> s = gpd.GeoDataFrame({"name": ["A"], "kind": ["KCN"], "area_ha": [100.0]},
    ...                      geometry=[Point(105.6, 21.3)], crs="EPSG:4326")
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = save_png(Path(d) / "map.png", sites=s, title="Test")
    ...     p.read_bytes()[:4]
    b'\\x89PNG'
    """
    from vpgeo import _png

    return _png.render(Path(path), sites=sites, corridors=corridors, districts=districts, rings=rings, title=title,
                       dpi=dpi)  # fmt: skip
