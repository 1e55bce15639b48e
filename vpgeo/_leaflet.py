"""The folium runtime of vpgeo's maps: safe elements, the offline page and the small JavaScript runtime.

Why this module exists (issue #12): branca's ``MacroElement.render`` wraps the text each macro produces in
``Element(text)``, and ``Element(text)`` compiles ``text`` as a *Jinja2 template*, which the page then
renders. So every string that reached a folium macro was evaluated a second time as template source: a
site named ``{{7*7}}`` printed 49, ``{{ lipsum.__globals__ ... }}`` ran code, ``{#`` crashed. Here:

* :class:`SafeMacro` renders its macros once and adds the result as :class:`Raw` text, which is written
  to the page as is and never compiled; every element vpgeo adds (and the folium classes it uses: the
  map, the layer control, tile and image layers) goes through it;
* :class:`Page`, the root of every vpgeo map, turns any plain ``Element(text)`` that other folium code adds
  to its header, body or script into :class:`Raw` text before it can be rendered (defence in depth);
* the templates of vpgeo's elements contain no user text, only ``{{ this.attribute }}`` slots filled with
  text that is already HTML-escaped or JSON made safe for ``<script>`` (:func:`js_json`).
"""

from __future__ import annotations

import html as _html
import json
from collections.abc import Mapping
from typing import Any

import folium
from branca.element import Element, Figure, MacroElement
from folium.map import Layer
from folium.raster_layers import ImageOverlay as _FoliumImageOverlay
from folium.raster_layers import TileLayer as _FoliumTileLayer
from folium.template import Template

from vpgeo import _assets

__all__ = [
    "DataLayer", "ImageOverlay", "LayerControl", "OfflineMap", "Page", "Panel", "Raw", "Ready", "Runtime",
    "SafeMacro", "TileLayer", "js_json",
]  # fmt: skip


def js_json(obj: object) -> str:
    """JSON safe inside ``<script>``: ``<``, ``>``, ``&`` and the JS line separators are escaped.

    Examples
    --------
    >>> js_json({"a": "</script><b>\\u2028"})
    '{"a":"\\\\u003c/script\\\\u003e\\\\u003cb\\\\u003e\\\\u2028"}'
    """
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for ch, rep in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(ch, rep)
    return text


class Raw(Element):
    """Final page text (HTML, CSS or JavaScript): rendered exactly as given, never compiled as a template.

    Examples
    --------
    >>> Raw("{{7*7}} {#").render()
    '{{7*7}} {#'
    """

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "Raw"
        self.text = str(text)

    def render(self, **kwargs: Any) -> str:
        return self.text


class _Slot(Element):
    """The header, body or script part of a :class:`Page`: a plain ``Element(text)`` added to it becomes Raw."""

    def add_child(self, child: Element, name: str | None = None, index: int | None = None) -> Element:
        if type(child) is Element and child._template_str is not None:
            child = Raw(child._template_str)
        return super().add_child(child, name=name, index=index)


class Page(Figure):
    """The HTML page of a vpgeo map: charset first, an escaped ``<title>``, and safe parts (see module doc)."""

    _template = Template(
        '<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8">\n'
        "<title>{{ this.title_html }}</title>\n"
        "{{ this.header.render(**kwargs) }}\n</head>\n<body>\n{{ this.html.render(**kwargs) }}\n</body>\n"
        "<script>\n{{ this.script.render(**kwargs) }}\n</script>\n</html>\n"
    )

    def __init__(self, title: str = "") -> None:
        super().__init__()
        for part in ("header", "html", "script"):
            slot = _Slot()
            slot._parent = self
            setattr(self, part, slot)
        self.title_html = _html.escape(title, quote=True)


class SafeMacro(MacroElement):
    """A MacroElement whose macros are rendered once, their text added as :class:`Raw` (no second Jinja pass)."""

    def render(self, **kwargs: Any) -> None:  # type: ignore[override]
        figure = self.get_root()
        if not isinstance(figure, Figure):  # pragma: no cover - folium's own check, kept
            raise TypeError("You cannot render this Element if it is not in a Figure.")
        module = self._template.module.__dict__
        for part in ("header", "html", "script"):
            macro = module.get(part)
            if macro is not None:
                getattr(figure, part).add_child(Raw(str(macro(self, kwargs))), name=self.get_name())
        for child in self._children.values():
            child.render(**kwargs)


class LayerControl(folium.LayerControl, SafeMacro):
    """folium's layer control, rendered safely; layer names must be HTML-escaped (Leaflet sets innerHTML)."""


class TileLayer(_FoliumTileLayer, SafeMacro):
    """folium's tile layer, rendered safely."""


class ImageOverlay(_FoliumImageOverlay, SafeMacro):
    """folium's image overlay, rendered safely."""


class OfflineMap(folium.Map, SafeMacro):
    """A folium Map on a :class:`Page` that links nothing: Leaflet is written inline, no other library is used."""

    def __init__(self, *, title: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        Page(title=title).add_child(self)
        # Instance attributes shadow folium's CDN lists (jQuery, Bootstrap, awesome-markers...).
        self.default_js: list[tuple[str, str]] = []
        self.default_css: list[tuple[str, str]] = []

    def render(self, **kwargs: Any) -> None:  # type: ignore[override]
        figure = self.get_root()
        if isinstance(figure, Figure):
            figure.header.add_child(Raw(_assets.leaflet_tags()), name="leaflet", index=0)
        super().render(**kwargs)


RUNTIME_JS = r"""
window.vpgeo = window.vpgeo || {layers: {}, counts: {}, names: []};
vpgeo.data = function (id) { return JSON.parse(document.getElementById(id).textContent); };
vpgeo.decode = function (text, T) {  /* base64 little-endian bytes -> typed array */
  var bin = atob(text), n = bin.length, u = new Uint8Array(n);
  for (var i = 0; i < n; i++) { u[i] = bin.charCodeAt(i); }
  return new T(u.buffer);
};
vpgeo.fmt = function (v, d) {  /* as vpgeo._format.fmt_number(v, d): fixed decimals, space thousands */
  if (v === null || isNaN(v)) { return '\u2014'; }
  var parts = Math.abs(v).toFixed(d).split('.');
  parts[0] = parts[0].replace(/\B(?=(\d{3})+(?!\d))/g, ' ');
  return (v < 0 && Number(parts.join('.')) !== 0 ? '-' : '') + parts.join('.');
};
vpgeo.center = function (l) { return l.getLatLng ? l.getLatLng() : l.getBounds().getCenter(); };
vpgeo.vector = function (key, id) {
  var fc = vpgeo.data(id), styles = fc.styles;
  function st(f) {
    var s = styles[f.properties.s];
    return f.properties.r ? Object.assign({}, s, {radius: f.properties.r}) : s;
  }
  var layer = L.geoJSON(fc, {
    style: st,
    pointToLayer: function (f, ll) { return L.circleMarker(ll, st(f)); },
    onEachFeature: function (f, l) {
      if (f.properties.t) { l.bindTooltip(f.properties.t, {sticky: true}); }
      if (f.properties.p) { l.bindPopup(f.properties.p, {maxWidth: 420}); }
      if (key === 'sites' && f.properties.n) { vpgeo.names.push({name: f.properties.n, layer: l}); }
    }
  });
  vpgeo.layers[key] = layer;
  vpgeo.counts[key] = fc.features.length;
  return layer;
};
vpgeo.cloud = function (key, id, map) {
  var d = vpgeo.data(id), n = d.n, sc = d.scale, paneName = 'vpgeo-' + key;
  var lon = vpgeo.decode(d.lon, Int32Array), lat = vpgeo.decode(d.lat, Int32Array);
  var cls = vpgeo.decode(d.cls, Uint8Array);
  var vals = d.values.map(function (v) { return vpgeo.decode(v, Float32Array); });
  var pane = map.getPane(paneName) || map.createPane(paneName);
  pane.style.zIndex = 390;  /* under the interactive vector layers */
  pane.style.pointerEvents = 'none';
  var renderer = L.canvas({pane: paneName, padding: 0.25});
  var opts = d.colors.map(function (c) {
    return {renderer: renderer, radius: d.radius, stroke: false, fillColor: c, fillOpacity: 0.85,
            interactive: false};
  });
  var markers = new Array(n);
  for (var i = 0; i < n; i++) { markers[i] = L.circleMarker([lat[i] / sc, lon[i] / sc], opts[cls[i]]); }
  var group = L.layerGroup(markers);
  /* One click handler for the whole layer: the nearest point within a few pixels opens a popup. */
  function onClick(e) {
    var p = map.latLngToContainerPoint(e.latlng), tol = d.radius + 4, best = -1, bestD = tol * tol;
    var a = map.containerPointToLatLng([p.x - tol, p.y - tol]), b = map.containerPointToLatLng([p.x + tol, p.y + tol]);
    var s = Math.min(a.lat, b.lat) * sc, nn = Math.max(a.lat, b.lat) * sc;
    var w = Math.min(a.lng, b.lng) * sc, ee = Math.max(a.lng, b.lng) * sc;
    for (var j = 0; j < n; j++) {
      if (lat[j] < s || lat[j] > nn || lon[j] < w || lon[j] > ee) { continue; }
      var q = map.latLngToContainerPoint([lat[j] / sc, lon[j] / sc]), dx = q.x - p.x, dy = q.y - p.y;
      if (dx * dx + dy * dy <= bestD) { bestD = dx * dx + dy * dy; best = j; }
    }
    if (best < 0) { return; }
    var html = '<div class="vp-pop"><div class="vp-pop-title">' + d.title + '</div><table>';
    for (var k = 0; k < d.fields.length; k++) {
      html += '<tr><th>' + d.labels[k] + '</th><td>' + vpgeo.fmt(vals[k][best], d.decimals[k]) + '</td></tr>';
    }
    L.popup({maxWidth: 320}).setLatLng([lat[best] / sc, lon[best] / sc])
      .setContent(html + '</table></div>').openOn(map);
  }
  group.on('add', function () { map.on('click', onClick); });
  group.on('remove', function () { map.off('click', onClick); });
  vpgeo.layers[key] = group;
  vpgeo.counts[key] = n;
  return group;
};
/* Site names written on the map from a useful zoom on (text nodes: a name is never parsed as HTML). */
vpgeo.setupLabels = function (map, minZoom) {
  var group = L.layerGroup(), made = false;
  function make() {
    vpgeo.names.forEach(function (e) {
      var el = document.createElement('span');
      el.textContent = e.name;
      group.addLayer(L.marker(vpgeo.center(e.layer), {icon: L.divIcon({className: 'vp-label', html: el,
        iconSize: null, iconAnchor: [-9, 7]}), interactive: false, keyboard: false}));
    });
    made = true;
  }
  function update() {
    var on = map.getZoom() >= minZoom && ['sites', 'sites_verdict'].some(function (k) {
      return vpgeo.layers[k] && map.hasLayer(vpgeo.layers[k]);
    });
    if (on && !made) { make(); }
    if (on && !map.hasLayer(group)) { group.addTo(map); }
    if (!on && map.hasLayer(group)) { map.removeLayer(group); }
  }
  map.on('zoomend overlayadd overlayremove', update);
  update();
  vpgeo.labelLayer = group;
};
vpgeo.fold = function (s) {
  return String(s).normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/[đĐ]/g, 'd').toLowerCase();
};
vpgeo.search = function (q) {
  var f = vpgeo.fold(q).trim();
  if (!f) { return []; }
  return vpgeo.names.filter(function (e) { return vpgeo.fold(e.name).indexOf(f) >= 0; });
};
vpgeo.go = function (e) {
  var map = vpgeo.map, ll = vpgeo.center(e.layer);
  map.setView(ll, Math.max(map.getZoom(), 14));
  L.popup({maxWidth: 420}).setLatLng(ll).setContent(e.layer.getPopup().getContent()).openOn(map);
};
vpgeo.setupSearch = function (map) {
  var ctl = L.control({position: 'topleft'});
  ctl.onAdd = function () {
    var box = L.DomUtil.create('div', 'vp-search leaflet-bar');
    var input = L.DomUtil.create('input', '', box), list = L.DomUtil.create('ul', '', box);
    input.type = 'search';
    input.id = 'vpgeo-search';
    input.placeholder = 'Tìm khu/cụm… / Find a site…';
    input.setAttribute('aria-label', 'Tìm khu/cụm công nghiệp / Find an industrial site');
    list.id = 'vpgeo-search-results';
    L.DomEvent.disableClickPropagation(box);
    L.DomEvent.disableScrollPropagation(box);
    input.addEventListener('input', function () {
      list.textContent = '';
      vpgeo.search(input.value).slice(0, 12).forEach(function (e) {
        var li = document.createElement('li');
        li.textContent = e.name;
        li.tabIndex = 0;
        li.addEventListener('click', function () { vpgeo.go(e); });
        li.addEventListener('keydown', function (ev) { if (ev.key === 'Enter') { vpgeo.go(e); } });
        list.appendChild(li);
      });
    });
    input.addEventListener('keydown', function (ev) {
      var hits = ev.key === 'Enter' ? vpgeo.search(input.value) : [];
      if (hits.length) { vpgeo.go(hits[0]); }
    });
    return box;
  };
  ctl.addTo(map);
};
vpgeo.finish = function (map, labelZoom, bounds) {
  if (bounds) { map.fitBounds(bounds, {animate: false}); }  /* no zoom animation still running when drawn */
  if (vpgeo.names.length) { vpgeo.setupLabels(map, labelZoom); vpgeo.setupSearch(map); }
  requestAnimationFrame(function () { requestAnimationFrame(function () { vpgeo.drawn = performance.now(); }); });
};
"""

CSS = """
.vp-pop table { border-collapse: collapse; font-size: 12px; }
.vp-pop th { text-align: left; font-weight: normal; color: #555; padding: 1px 8px 1px 0; vertical-align: top; }
.vp-pop td { padding: 1px 0; }
.vp-pop-title { font-weight: bold; font-size: 13px; margin-bottom: 4px; }
.vp-panel { position: fixed; z-index: 1000; background: rgba(255,255,255,0.94); border-radius: 5px;
  box-shadow: 0 1px 5px rgba(0,0,0,0.4); font: 12px/1.35 "Helvetica Neue", Arial, sans-serif; padding: 6px 9px; }
.vp-legend { right: 10px; bottom: 24px; max-height: 55vh; max-width: 300px; overflow-y: auto; }
.vp-legend summary, .vp-prov summary { cursor: pointer; font-weight: bold; }
.vp-legend h4 { margin: 6px 0 3px; font-size: 12px; }
.vp-legend h4:first-child { margin-top: 0; }
.vp-legend .row { display: flex; align-items: center; gap: 6px; margin: 1px 0; }
.vp-legend svg { flex: none; }
.vp-prov { left: 10px; bottom: 46px; max-width: 420px; max-height: 60vh; overflow-y: auto; }
.vp-prov dl { margin: 4px 0 0 0; }
.vp-prov dt { font-weight: bold; margin-top: 3px; }
.vp-prov dd { margin: 0 0 0 10px; overflow-wrap: anywhere; }
.vp-title { left: 56px; top: 10px; max-width: min(560px, 45vw); }
.vp-title h1 { font-size: 15px; margin: 0 0 2px; }
.vp-title div { color: #333; overflow-wrap: anywhere; }
.vp-search { background: #fff; padding: 3px; width: 220px; }
.vp-search input { width: 100%; box-sizing: border-box; font-size: 12px; padding: 3px 5px; border: 1px solid #bbb; }
.vp-search ul { list-style: none; margin: 0; padding: 0; max-height: 40vh; overflow-y: auto; font-size: 12px; }
.vp-search li { padding: 2px 4px; cursor: pointer; }
.vp-search li:hover, .vp-search li:focus { background: #eef; }
.vp-label { font: bold 11px/1.2 "Helvetica Neue", Arial, sans-serif; color: #111; white-space: nowrap;
  text-shadow: -1px -1px 0 #fff, 1px -1px 0 #fff, -1px 1px 0 #fff, 1px 1px 0 #fff; pointer-events: none; }
.leaflet-top.leaflet-left .leaflet-control { clear: both; }
.leaflet-control-layers-expanded { font-size: 12px; line-height: 1.3; max-height: 45vh; overflow-y: auto; }
"""


class Runtime(SafeMacro):
    """vpgeo's CSS and JavaScript helpers, inline in the page header after Leaflet."""

    _template = Template(
        """
        {% macro header(this, kwargs) %}<style>{{ this.css }}</style><script>{{ this.js }}</script>{% endmacro %}
        {% macro script(this, kwargs) %}vpgeo.map = {{ this._parent.get_name() }};
        L.control.scale({imperial: false, maxWidth: 160}).addTo(vpgeo.map);{% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "VpgeoRuntime"
        self.css, self.js = CSS, RUNTIME_JS


class DataLayer(Layer, SafeMacro):
    """A layer whose data sit in a ``<script type="application/json">`` element and are drawn by the runtime."""

    _template = Template(
        """
        {% macro html(this, kwargs) %}<script type="application/json" id="{{ this.data_id }}" \
data-vpgeo-layer="{{ this.key }}">{{ this.payload }}</script>{% endmacro %}
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = vpgeo.{{ this.fn }}({{ this.key|tojson }}, {{ this.data_id|tojson }}, \
{{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, key: str, name: str, data: Mapping[str, Any], *, n: int, fn: str, show: bool = True) -> None:
        """``name``: HTML-escaped text for the layer control; ``key``/``fn``: vpgeo identifiers, not user text."""
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "VpgeoLayer"
        self.key, self.fn, self.n = key, fn, n
        self.data_id = f"vpgeo-data-{key}"
        self.payload = js_json(data)


class Panel(SafeMacro):
    """A fixed HTML panel (legend, provenance, title) whose content is already escaped."""

    _template = Template("{% macro html(this, kwargs) %}{{ this.content }}{% endmacro %}")

    def __init__(self, name: str, content: str) -> None:
        super().__init__()
        self._name = name
        self.content = content


class Ready(SafeMacro):
    """Added last: site labels and the search box, then marks when the first frames are drawn (``vpgeo.drawn``)."""

    _template = Template(
        """{% macro script(this, kwargs) %}
        vpgeo.finish({{ this._parent.get_name() }}, {{ this.label_zoom|int }}, {{ this.bounds_json }});
        {% endmacro %}"""
    )

    def __init__(self, label_zoom: int = 12, bounds: list[list[float]] | None = None) -> None:
        """``bounds``: [[south, west], [north, east]] to fit the view to, without animation."""
        super().__init__()
        self._name = "VpgeoReady"
        self.label_zoom = int(label_zoom)
        self.bounds_json = js_json([[float(v) for v in corner] for corner in bounds] if bounds else None)
