"""Interactive maps that open anywhere offline, and a static PNG of the same content.

:func:`plan_map` builds a :class:`folium.Map` (it displays inline in notebooks) with one layer per input, a
layer control, a legend, bilingual Vietnamese/English tooltips and popups, a provenance panel and an optional
choropleth per district. :func:`save_map` writes it as ONE self-contained HTML file: Leaflet 1.9.3 is
inlined from the registry package ``xstatic-leaflet`` and nothing else is linked, so the file works from a
USB stick with no network (basemap tiles, when asked for, are the only network references).

Every string that comes from data (site names, corridor names, provenance keys and values, the choropleth
column) is HTML-escaped before it reaches the page, and the embedded JSON escapes ``<``, ``>`` and ``&`` so
no value can end a ``<script>`` element.

Large candidate layers are drawn on their own canvas as circle markers from compact column arrays
(coordinates rounded to 1e-5°, about 1 m): 100,000 points make a file of a few megabytes.

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
import html as _html
import math
import os
import struct
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import mapping

from vpgeo import _assets
from vpgeo import _leaflet as _lf
from vpgeo.crs import check_crs, to_metric, to_wgs84
from vpgeo.errors import InputError

__all__ = ["TILES", "layer_features", "plan_map", "save_map", "save_png"]

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

_DEFAULT_TITLE = "Khu/cụm công nghiệp và hành lang giao thông / Industrial sites and corridors"

# Former Vĩnh Phúc, shown when there is nothing to fit the view to.
_HOME = (21.33, 105.55)
_DIGITS = 5  # 1e-5° ≈ 1.1 m: far finer than any position vpgeo knows

_KIND = {
    "KCN": ("#6a3d9a", "KCN – khu công nghiệp / industrial park"),
    "CCN": ("#e66101", "CCN – cụm công nghiệp / industrial cluster"),
}
_KIND_OTHER = ("#737373", "loại khác / other kind")
_VERDICT = {
    "yes": ("#1a9850", "trong vùng đệm / within buffer"),
    "no": ("#d73027", "ngoài vùng đệm / outside buffer"),
    "uncertain": ("#f6a800", "không chắc chắn / uncertain"),
}
_VERDICT_NONE = ("#969696", "chưa đánh giá / not judged")
_STATUS = {  # dash pattern, label
    "built": (None, "đã xây dựng / built"),
    "under_construction": ("10 7", "đang xây dựng / under construction"),
    "planned": ("1 8", "quy hoạch / planned"),
}
_CORRIDOR_COLOURS = ["#c51b7d", "#2166ac", "#1b7837", "#8c510a", "#01665e", "#542788", "#b35806"]
_RINGS = ["#08519c", "#3182bd", "#6baed6", "#9ecae1", "#c6dbef", "#deebf7"]
_CHORO = ["#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"]  # ColorBrewer YlOrRd-5
_CANDIDATE = ["#440154", "#3b528b", "#21918c", "#5ec962", "#fde725"]  # viridis-5, low → high score
_SURFACE = ["#440154", "#482878", "#3e4989", "#31688e", "#26828e", "#1f9e89", "#35b779", "#6ece58", "#fde725"]

_LABELS = {
    "site_id": "Mã / ID",
    "name": "Tên / Name",
    "name_en": "Tên tiếng Anh / English name",
    "kind": "Loại / Kind",
    "phase": "Giai đoạn / Phase",
    "status": "Tình trạng / Status",
    "area_ha": "Diện tích (ha) / Area (ha)",
    "district": "Huyện (trước 2025) / District (pre-2025)",
    "commune_2025": "Xã/phường 2025 / Commune (2025)",
    "precision_m": "Độ chính xác vị trí (m) / Position precision (m)",
    "location_method": "Cách định vị / Location method",
    "distance_km": "Khoảng cách tới hành lang (km) / Distance to corridor (km)",
    "nearest_corridor": "Hành lang gần nhất / Nearest corridor",
    "within_buffer": "Kết luận / Verdict",
    "uncertainty_m": "Sai số (m) / Uncertainty (m)",
    "corridor_id": "Mã hành lang / Corridor ID",
    "section": "Đoạn / Section",
    "priority": "Ưu tiên / Priority",
    "source": "Nguồn / Source",
    "access_id": "Mã / ID",
    "code": "Mã / Code",
    "short": "Tên ngắn / Short name",
    "area_km2": "Diện tích (km²) / Area (km²)",
    "band": "Dải / Band",
    "inner_km": "Từ (km) / From (km)",
    "outer_km": "Đến (km) / To (km)",
    "score": "Điểm / Score",
    "rank": "Hạng / Rank",
    "industrial_ha": "Đất công nghiệp (ha) / Industrial land (ha)",
    "n_kcn": "Số KCN / Industrial parks",
    "n_ccn": "Số CCN / Industrial clusters",
}
_SITE_COLS = [
    "site_id", "name", "kind", "phase", "status", "area_ha", "district", "commune_2025", "precision_m",
    "location_method", "within_buffer", "distance_km", "nearest_corridor", "uncertainty_m",
]  # fmt: skip
_CORRIDOR_COLS = ["corridor_id", "section", "name", "name_en", "kind", "status", "priority", "precision_m", "source"]


# --------------------------------------------------------------------------------------------------------
# Escaping and formatting


def _missing(value: object) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return False


def _fmt(value: object) -> str:
    """A value as display text (not yet escaped); numbers with sensible decimals, missing as a dash."""
    if _missing(value):
        return "—"
    if isinstance(value, bool | np.bool_):
        return "có / yes" if value else "không / no"
    if isinstance(value, int | np.integer):
        return f"{int(value):,}".replace(",", " ")
    if isinstance(value, float | np.floating):
        v = float(value)
        if v.is_integer() and abs(v) < 1e15:
            return f"{int(v):,}".replace(",", " ")
        digits = 0 if abs(v) >= 1000 else 1 if abs(v) >= 100 else 2 if abs(v) >= 1 else 3
        text = f"{v:,.{digits}f}".replace(",", " ")
        return text.rstrip("0").rstrip(".") if "." in text else text
    return str(value)


def esc(value: object) -> str:
    """HTML-escape a value for the page (quotes included), formatting numbers and missing values.

    Examples
    --------
    >>> esc('<img src=x onerror="alert(1)">')
    '&lt;img src=x onerror=&quot;alert(1)&quot;&gt;'
    >>> esc(221.456), esc(None), esc(3.0), esc(0.5), esc(12345.6)
    ('221.5', '—', '3', '0.5', '12 346')
    """
    return _html.escape(_fmt(value), quote=True)


def _table(title: str, rows: Iterable[tuple[str, object]]) -> str:
    """A popup: escaped title and a two-column table of (label, value), labels escaped too."""
    body = "".join(f"<tr><th>{_html.escape(label)}</th><td>{esc(v)}</td></tr>" for label, v in rows)
    return f'<div class="vp-pop"><div class="vp-pop-title">{title}</div><table>{body}</table></div>'


def _label(col: str) -> str:
    return _LABELS.get(col, col)


def _row_table(title: str, row: Mapping[str, Any], cols: Sequence[str], translate: Mapping[str, Any]) -> str:
    rows = []
    for c in cols:
        if c in row:
            v = row[c]
            if c in translate and not _missing(v):
                v = translate[c](v)
            rows.append((_label(c), v))
    return _table(title, rows)


# --------------------------------------------------------------------------------------------------------
# (the folium runtime and its safe elements are in vpgeo._leaflet)


# --------------------------------------------------------------------------------------------------------
# Input handling


def _prepare(gdf: object, argument: str) -> tuple[gpd.GeoDataFrame, list[int]]:
    """Validate a layer and return it in EPSG:4326 with its drawable rows, plus the rows without geometry."""
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise InputError(f"expected a GeoDataFrame, got {type(gdf).__name__}", field=argument)
    out = to_wgs84(gdf, operation=f"plan_map({argument}=...)")
    geom = out.geometry
    empty = geom.isna() | geom.is_empty
    skipped = [int(i) for i in np.flatnonzero(empty.to_numpy())]
    return out, skipped


def _round_geoms(geoms: gpd.GeoSeries) -> list[dict[str, Any]]:
    rounded = shapely.transform(np.asarray(geoms.values, dtype=object), lambda c: np.round(c, _DIGITS))
    return [mapping(g) for g in rounded]


def _collection(
    gdf: gpd.GeoDataFrame,
    *,
    style: Callable[[Mapping[str, Any]], int],
    styles: list[dict[str, Any]],
    tip: Callable[[Mapping[str, Any]], str],
    pop: Callable[[Mapping[str, Any]], str],
    radius: Callable[[Mapping[str, Any]], float] | None = None,
    geometries: gpd.GeoSeries | None = None,
) -> dict[str, Any]:
    """A compact GeoJSON FeatureCollection; properties: s (style index), t (tooltip), p (popup), r (radius)."""
    ok = ~(gdf.geometry.isna() | gdf.geometry.is_empty)
    rows = gdf[ok]
    geoms = _round_geoms(rows.geometry if geometries is None else geometries[ok])
    features = []
    for rec, g in zip(rows.drop(columns=rows.geometry.name).to_dict("records"), geoms, strict=True):
        props: dict[str, Any] = {"s": style(rec), "t": tip(rec), "p": pop(rec)}
        if radius is not None:
            props["r"] = round(radius(rec), 1)
        features.append({"type": "Feature", "geometry": g, "properties": props})
    return {"type": "FeatureCollection", "styles": styles, "features": features}


def _name(rec: Mapping[str, Any], *cols: str) -> str:
    for c in cols:
        v = rec.get(c)
        if not _missing(v) and str(v).strip():
            return esc(v)
    return "—"


def _site_radius(rec: Mapping[str, Any]) -> float:
    area = rec.get("area_ha")
    try:
        a = float(area)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 5.0
    if not math.isfinite(a) or a <= 0:
        return 5.0
    return float(min(16.0, max(4.0, 2.5 + 0.55 * math.sqrt(a))))


def _kind_of(value: object) -> tuple[str, str]:
    return _KIND.get(str(value).strip().upper(), _KIND_OTHER) if not _missing(value) else _KIND_OTHER


def _verdict_of(value: object) -> tuple[str, str]:
    return _VERDICT.get(str(value).strip().lower(), _VERDICT_NONE) if not _missing(value) else _VERDICT_NONE


def _status_of(value: object) -> tuple[str | None, str]:
    key = str(value).strip().lower().replace(" ", "_") if not _missing(value) else ""
    return _STATUS.get(key, (None, f"{_fmt(value)} (không rõ / unknown status)"))


_TRANSLATE: dict[str, Callable[[Any], Any]] = {
    "kind": lambda v: _kind_of(v)[1] if str(v).upper() in _KIND else v,
    "within_buffer": lambda v: _verdict_of(v)[1],
}
_CORRIDOR_TRANSLATE: dict[str, Callable[[Any], Any]] = {"status": lambda v: _status_of(v)[1]}


def _swatch_point(colour: str, r: float = 6, stroke: str = "#333") -> str:
    d = int(2 * r + 4)
    return (
        f'<svg width="{d}" height="{d}"><circle cx="{d / 2}" cy="{d / 2}" r="{r}" fill="{colour}" '
        f'fill-opacity="0.8" stroke="{stroke}" stroke-width="1"/></svg>'
    )


def _swatch_line(colour: str, dash: str | None, width: int = 3) -> str:
    dash_attr = f' stroke-dasharray="{dash}" stroke-linecap="round"' if dash else ""
    return (
        f'<svg width="34" height="12"><line x1="2" y1="6" x2="32" y2="6" stroke="{colour}" '
        f'stroke-width="{width}"{dash_attr}/></svg>'
    )


def _swatch_fill(colour: str, stroke: str = "#555", dash: str | None = None, opacity: float = 0.7) -> str:
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
    return (
        f'<svg width="20" height="14"><rect x="1" y="1" width="18" height="12" fill="{colour}" '
        f'fill-opacity="{opacity}" stroke="{stroke}"{dash_attr}/></svg>'
    )


def _legend_row(swatch: str, text: str) -> str:
    return f'<div class="row">{swatch}<span>{text}</span></div>'


def _classes_text(bins: Sequence[float], lo: float, counts: Sequence[int]) -> list[str]:
    out, prev = [], lo
    for b, n in zip(bins, counts, strict=True):
        out.append(f"{esc(b)} ({n})" if esc(prev) == esc(b) else f"{esc(prev)} – {esc(b)} ({n})")
        prev = b
    return out


def _jenks_bounds(y: np.ndarray, k: int) -> list[float]:
    """Exact Fisher–Jenks upper bounds of ``k`` classes of sorted ``y`` (dynamic programme, O(k·n²)).

    Written out because the map's classes are few and small, and importing mapclassify (and with it
    scipy.stats) costs seconds of start-up; tests check it against mapclassify.
    """
    n = y.size
    s1 = np.concatenate([[0.0], np.cumsum(y)])
    s2 = np.concatenate([[0.0], np.cumsum(y * y)])

    def ssd(i: np.ndarray, j: int) -> np.ndarray:  # within-class squared deviation of y[i:j]
        m = j - i
        return np.asarray(s2[j] - s2[i] - (s1[j] - s1[i]) ** 2 / m)

    cost = np.full((k + 1, n + 1), np.inf)
    back = np.zeros((k + 1, n + 1), dtype=int)
    cost[0, 0] = 0.0
    for c in range(1, k + 1):
        for j in range(c, n + 1):
            i = np.arange(c - 1, j)
            total = cost[c - 1, i] + ssd(i, j)
            best = int(np.argmin(total))
            cost[c, j], back[c, j] = total[best], i[best]
    ends, j = [], n
    for c in range(k, 0, -1):
        ends.append(j)
        j = back[c, j]
    return [float(y[e - 1]) for e in reversed(ends)]


def _classify(values: np.ndarray, *, k: int, scheme: str) -> tuple[np.ndarray, list[float]]:
    """Class index per value and the classes' upper bounds (NaN values: class -1).

    ``fisher_jenks`` for the few district values, ``quantiles`` for many candidates; a value equal to a
    bound falls in that bound's class, as in mapclassify.
    """
    cls = np.full(values.shape, -1, dtype=int)
    finite = np.isfinite(values)
    y = values[finite]
    if y.size == 0:
        return cls, []
    uniq = np.unique(y)
    k = int(min(k, uniq.size))
    if k <= 1:
        cls[finite] = 0
        return cls, [float(uniq[-1])]
    if scheme == "fisher_jenks":
        bins = _jenks_bounds(np.sort(y), k)
    else:
        bins = list(dict.fromkeys(float(q) for q in np.quantile(y, np.linspace(0, 1, k + 1)[1:])))
    cls[finite] = np.searchsorted(np.asarray(bins), y, side="left")
    return cls, bins


def _palette(colours: Sequence[str], k: int) -> list[str]:
    if k <= 0:
        return []
    idx = np.linspace(0, len(colours) - 1, k).round().astype(int) if k > 1 else np.array([len(colours) - 1])
    return [colours[i] for i in idx]


# --------------------------------------------------------------------------------------------------------
# Surface


def _png_rgba(rgba: np.ndarray) -> bytes:
    """Encode an (h, w, 4) uint8 array as PNG (no imaging library needed)."""
    h, w, _ = rgba.shape
    raw = np.concatenate([np.zeros((h, 1), dtype=np.uint8), rgba.reshape(h, w * 4)], axis=1).tobytes()

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def _surface_spec(surface: object) -> Mapping[str, Any]:
    """A surface as a mapping: given as one, or as an object with ``score``, ``bounds`` and ``crs``
    (:class:`vpgeo.surface.Surface`)."""
    if isinstance(surface, Mapping):
        return surface
    if all(hasattr(surface, a) for a in ("score", "bounds", "crs")):
        return {"values": surface.score, "bounds": surface.bounds, "crs": surface.crs}  # type: ignore[attr-defined]
    raise InputError(
        f"surface must be a mapping or a vpgeo.surface.Surface, got {type(surface).__name__}", field="surface"
    )


def _surface_image(surface: Mapping[str, Any]) -> tuple[str, list[list[float]], float, float]:
    """Render a grid as a PNG data URL on WGS 84 bounds; returns (url, [[s, w], [n, e]], vmin, vmax)."""
    import base64

    from pyproj import Transformer

    try:
        values = np.asarray(surface["values"], dtype=float)
        minx, miny, maxx, maxy = (float(v) for v in surface["bounds"])
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(
            "surface must be a mapping with 'values' (2-D array, row 0 = north) and 'bounds' "
            f"(minx, miny, maxx, maxy) and optionally 'crs' (default EPSG:4326): {exc}",
            field="surface",
        ) from None
    if values.ndim != 2 or min(values.shape) < 1 or not (maxx > minx and maxy > miny):
        raise InputError(f"surface: need a non-empty 2-D grid and bounds with max > min, got shape {values.shape}",
                         field="surface")  # fmt: skip
    crs = check_crs(surface.get("crs", "EPSG:4326"), operation="plan_map(surface=...)", argument="surface['crs']")
    h, w = values.shape
    if crs.to_epsg() != 4326:
        # Resample onto a lon/lat grid (nearest cell) so the overlay lies where the data are.
        fwd = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
        ex = np.linspace(minx, maxx, 50)
        ey = np.linspace(miny, maxy, 50)
        bx = np.concatenate([ex, ex, np.full(50, minx), np.full(50, maxx)])
        by = np.concatenate([np.full(50, miny), np.full(50, maxy), ey, ey])
        lon, lat = fwd.transform(bx, by)
        w0, s0, e0, n0 = float(np.min(lon)), float(np.min(lat)), float(np.max(lon)), float(np.max(lat))
        glon, glat = np.meshgrid(w0 + (np.arange(w) + 0.5) * (e0 - w0) / w, n0 - (np.arange(h) + 0.5) * (n0 - s0) / h)
        sx, sy = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(glon, glat)
        col = np.floor((sx - minx) / (maxx - minx) * w).astype(int)
        row = np.floor((maxy - sy) / (maxy - miny) * h).astype(int)
        inside = (col >= 0) & (col < w) & (row >= 0) & (row < h)
        grid = np.full((h, w), np.nan)
        grid[inside] = values[row[inside], col[inside]]
        values, (minx, miny, maxx, maxy) = grid, (w0, s0, e0, n0)
    finite = np.isfinite(values)
    vmin = float(np.min(values[finite])) if finite.any() else 0.0
    vmax = float(np.max(values[finite])) if finite.any() else 1.0
    t = np.where(finite, (values - vmin) / (vmax - vmin) if vmax > vmin else 0.5, 0.0)
    stops = np.array([[int(c[i : i + 2], 16) for i in (1, 3, 5)] for c in _SURFACE], dtype=float)
    pos = np.linspace(0, 1, len(stops))
    rgba = np.zeros((h, w, 4), dtype=np.uint8)
    for ch in range(3):
        rgba[..., ch] = np.interp(t, pos, stops[:, ch]).round().astype(np.uint8)
    rgba[..., 3] = np.where(finite, 255, 0)
    url = "data:image/png;base64," + base64.b64encode(_png_rgba(rgba)).decode("ascii")
    return url, [[miny, minx], [maxy, maxx]], vmin, vmax


# --------------------------------------------------------------------------------------------------------
# Provenance


def _prov_html(value: object, depth: int = 0) -> str:
    if isinstance(value, Mapping):
        if not value:
            return "—"
        items = "".join(f"<dt>{esc(k)}</dt><dd>{_prov_html(v, depth + 1)}</dd>" for k, v in value.items())
        return f"<dl>{items}</dl>"
    if isinstance(value, list | tuple) and depth < 6:
        return "<br>".join(_prov_html(v, depth + 1) for v in value) or "—"
    return esc(value)


def _provenance(provenance: Mapping[str, Any] | None, layers: Mapping[str, object], notes: list[str]) -> dict[str, Any]:
    import vpgeo

    prov: dict[str, Any] = dict(provenance or {})
    prov.setdefault("vpgeo_version", vpgeo.__version__)
    prov.setdefault("generated_at", dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat())
    prov.setdefault(
        "crs",
        "hiển thị / display: EPSG:4326 (WGS 84) trên / on Web Mercator; đo đạc / measurements: "
        "EPSG:5897 (VN-2000 / TM-3 105°00′)",
    )
    layer_prov = {}
    for name, gdf in layers.items():
        p = getattr(gdf, "attrs", {}).get("provenance")
        if p:
            layer_prov[name] = p
    if layer_prov and "layers" not in prov:
        prov["layers"] = layer_prov
    if notes:
        prov["not_drawn"] = notes
    return prov


# --------------------------------------------------------------------------------------------------------
# The map


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
        Shown at the top of the map.

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

    inputs = {
        "districts": districts,
        "communes": communes,
        "rings": rings,
        "corridors": corridors,
        "access_points": access_points,
        "candidates": candidates,
        "sites": sites,
    }
    prepared: dict[str, gpd.GeoDataFrame] = {}
    notes: list[str] = []
    for arg, gdf in inputs.items():
        if gdf is None:
            continue
        out, skipped = _prepare(gdf, arg)
        prepared[arg] = out
        if skipped:
            label_col = "name" if "name" in out.columns else None
            names = [str(out.iloc[i][label_col]) if label_col else f"row {i + 1}" for i in skipped[:20]]
            more = f" (+{len(skipped) - 20})" if len(skipped) > 20 else ""
            notes.append(f"{arg}: {len(skipped)} không có vị trí / without a position: {', '.join(names)}{more}")

    m = _lf.OfflineMap(
        title=title or _DEFAULT_TITLE, location=list(_HOME), zoom_start=10, tiles=None, prefer_canvas=True,
        font_size="13px",
    )
    tile = TILES[tiles]
    if tile is not None:
        _lf.TileLayer(tiles=tile[0], attr=tile[1], name=f"Nền / Basemap ({tiles})", max_zoom=19).add_to(m)
    _lf.Runtime().add_to(m)
    legend: list[str] = []

    if surface is not None:
        spec = _surface_spec(surface)
        url, bounds, vmin, vmax = _surface_image(spec)
        label = esc(spec.get("label", "Bề mặt điểm / Score surface"))
        _lf.ImageOverlay(image=url, bounds=bounds, opacity=0.55, name=label).add_to(m)
        ramp = "".join(
            f'<stop offset="{i / (len(_SURFACE) - 1):.3f}" stop-color="{c}"/>' for i, c in enumerate(_SURFACE)
        )
        legend.append(
            f"<h4>{label}</h4>"
            f'<div class="row"><svg width="120" height="12"><defs><linearGradient id="vpg">{ramp}</linearGradient>'
            f'</defs><rect width="120" height="12" fill="url(#vpg)"/></svg><span>{esc(vmin)} – {esc(vmax)}</span></div>'
        )

    if "districts" in prepared:
        d = prepared["districts"]
        if choropleth is not None:
            _add_choropleth(m, d, choropleth, legend)
        _add_districts(m, d, legend)
    if "communes" in prepared:
        c = prepared["communes"]
        styles = [{"color": "#1b7837", "weight": 1, "dashArray": "3 4", "fill": True, "fillOpacity": 0.0}]
        fc = _collection(
            c,
            style=lambda r: 0,
            styles=styles,
            tip=lambda r: f"<b>{_name(r, 'name')}</b><br>xã/phường 2025 / commune (2025)",
            pop=lambda r: _row_table(_name(r, "name"), r, ["code", "name", "area_km2", "source"], {}),
        )
        name = "Xã/phường 2025 / Communes (2025)"
        show = "districts" not in prepared
        _lf.DataLayer("communes", name, fc, n=len(fc["features"]), fn="vector", show=show).add_to(m)
        legend.append(f"<h4>{name}</h4>" + _legend_row(_swatch_line("#1b7837", "3 4", 1), "ranh giới / boundary"))
    if "rings" in prepared:
        _add_rings(m, prepared["rings"], legend)
    if "corridors" in prepared:
        _add_corridors(m, prepared["corridors"], legend)
    if "candidates" in prepared:
        _add_candidates(m, prepared["candidates"], legend)
    if "access_points" in prepared:
        a = prepared["access_points"]
        styles = [{"color": "#111", "weight": 2, "fillColor": "#fff", "fillOpacity": 1, "radius": 5,
                   "bubblingMouseEvents": False}]  # fmt: skip
        fc = _collection(
            a,
            style=lambda r: 0,
            styles=styles,
            tip=lambda r: f"<b>{_name(r, 'name')}</b><br>nút giao / access point ({esc(r.get('kind'))})",
            pop=lambda r: _row_table(
                _name(r, "name"), r, ["access_id", "name", "corridor_id", "kind", "precision_m"], {}
            ),
        )
        name = "Nút giao / Access points"
        _lf.DataLayer("access_points", name, fc, n=len(fc["features"]), fn="vector").add_to(m)
        legend.append(f"<h4>{name}</h4>" + _legend_row(_swatch_point("#fff", 5, "#111"), "nút giao / interchange"))
    if "sites" in prepared:
        _add_sites(m, prepared["sites"], legend)

    # Fit the view to the data (in EPSG:4326 after _prepare).
    frames = [g for g in prepared.values() if not g.empty]
    if frames:
        b = np.array([g.geometry.total_bounds for g in frames], dtype=float)
        b = b[np.all(np.isfinite(b), axis=1)]
        if b.size:
            m.fit_bounds([[float(b[:, 1].min()), float(b[:, 0].min())], [float(b[:, 3].max()), float(b[:, 2].max())]])

    if legend:
        _lf.Panel(
            "VpgeoLegend",
            '<details open class="vp-panel vp-legend" id="vpgeo-legend"><summary>Chú giải / Legend</summary>'
            + "".join(legend)
            + "</details>",
        ).add_to(m)
    prov = _provenance(provenance, inputs, notes)
    _lf.Panel(
        "VpgeoProvenance",
        '<details class="vp-panel vp-prov" id="vpgeo-provenance"><summary>Nguồn dữ liệu / Provenance</summary>'
        + _prov_html(prov)
        + "</details>",
    ).add_to(m)
    if title:
        _lf.Panel("VpgeoTitle", f'<div class="vp-panel vp-title" id="vpgeo-title">{esc(title)}</div>').add_to(m)
    _lf.LayerControl(collapsed=False).add_to(m)
    _lf.Ready().add_to(m)
    m.vpgeo_provenance = prov  # type: ignore[attr-defined]
    return m


def _add_districts(m: folium.Map, d: gpd.GeoDataFrame, legend: list[str]) -> None:
    src = d["source"] if "source" in d.columns else pd.Series(["not stated"] * len(d), index=d.index)
    official = src.astype(str).str.strip().str.lower().eq("official")
    n_approx = int((~official).sum())
    if n_approx == 0:
        name = "Huyện (ranh giới chính thức) / Districts (official boundaries)"
    elif n_approx == len(d):
        name = "Huyện (ranh giới GẦN ĐÚNG) / Districts (APPROXIMATE boundaries)"
    else:
        name = (
            f"Huyện ({n_approx}/{len(d)} ranh giới gần đúng) / "
            f"Districts ({n_approx} of {len(d)} boundaries approximate)"
        )
    styles = [
        {"color": "#333", "weight": 2, "fill": True, "fillOpacity": 0.0},
        {"color": "#555", "weight": 2, "dashArray": "8 5", "fill": True, "fillOpacity": 0.0},
    ]

    def tip(r: Mapping[str, Any]) -> str:
        ok = str(r.get("source", "")).strip().lower() == "official"
        prec = r.get("precision_m")
        what = (
            "ranh giới chính thức / official boundary"
            if ok
            else "ranh giới GẦN ĐÚNG / APPROXIMATE boundary"
            + (f" (±{esc(prec)} m)" if not _missing(prec) else "")
            + f" – {esc(r.get('source'))}"
        )
        return f"<b>{_name(r, 'name')}</b><br>{what}"

    extra = [c for c in d.columns if c not in ("code", "name", "short", "source", "precision_m", d.geometry.name)]
    fc = _collection(
        d,
        style=lambda r: 0 if str(r.get("source", "")).strip().lower() == "official" else 1,
        styles=styles,
        tip=tip,
        pop=lambda r: _row_table(_name(r, "name"), r, ["code", "name", "short", "source", "precision_m", *extra], {}),
    )
    _lf.DataLayer("districts", name, fc, n=len(fc["features"]), fn="vector").add_to(m)
    legend.append(
        "<h4>Huyện / Districts</h4>"
        + _legend_row(_swatch_line("#333", None, 2), "chính thức / official")
        + _legend_row(_swatch_line("#555", "8 5", 2), "gần đúng / approximate")
    )


def _add_choropleth(m: folium.Map, d: gpd.GeoDataFrame, column: str, legend: list[str]) -> None:
    if column not in d.columns:
        raise InputError(
            f"no column {column!r} in districts; numeric columns: "
            + ", ".join(c for c in d.columns if pd.api.types.is_numeric_dtype(d[c])),
            field="choropleth",
        )
    values = pd.to_numeric(d[column], errors="coerce")
    bad = values.isna() & d[column].notna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0]) + 1
        raise InputError(f"non-numeric value {d[column][bad].iloc[0]!r}; use numbers", row=row, field=column)
    cls, bins = _classify(values.to_numpy(dtype=float), k=5, scheme="fisher_jenks")
    colours = _palette(_CHORO, len(bins))
    styles = [{"color": "#666", "weight": 1, "fill": True, "fillColor": c, "fillOpacity": 0.7} for c in colours]
    styles.append({"color": "#666", "weight": 1, "fill": True, "fillColor": "#d9d9d9", "fillOpacity": 0.5})
    col_label = esc(_label(column))
    d2 = d.assign(_cls=cls)
    fc = _collection(
        d2,
        style=lambda r: int(r["_cls"]) if r["_cls"] >= 0 else len(colours),
        styles=styles,
        tip=lambda r: f"<b>{_name(r, 'name')}</b><br>{col_label}: {esc(r.get(column))}",
        pop=lambda r: _table(_name(r, "name"), [(_label(column), r.get(column))]),
    )
    name = f"Phân cấp / Choropleth: {col_label}"
    _lf.DataLayer("choropleth", name, fc, n=len(fc["features"]), fn="vector").add_to(m)
    finite = values.to_numpy(dtype=float)
    finite = finite[np.isfinite(finite)]
    counts = [int((cls == i).sum()) for i in range(len(bins))]
    rows = _classes_text(bins, float(finite.min()) if finite.size else 0.0, counts)
    legend.append(
        f"<h4>{col_label}</h4><div>Fisher–Jenks, k = {len(bins)}</div>"
        + "".join(_legend_row(_swatch_fill(c), t) for c, t in zip(colours, rows, strict=True))
        + (_legend_row(_swatch_fill("#d9d9d9"), "không có số liệu / no data") if (cls < 0).any() else "")
    )


def _ring_order(r: gpd.GeoDataFrame) -> pd.Series:
    """Colour class of each band: 0 for the innermost distance, in order of ``inner_km``."""
    if "inner_km" not in r.columns:
        return pd.Series(range(len(r)), index=r.index)
    return pd.to_numeric(r["inner_km"], errors="coerce").rank(method="dense").fillna(1).astype(int) - 1


def _add_rings(m: folium.Map, r: gpd.GeoDataFrame, legend: list[str]) -> None:
    order = _ring_order(r)
    n_cls = int(order.max()) + 1 if len(order) else 0
    colours = [_RINGS[min(i, len(_RINGS) - 1)] for i in range(n_cls)]
    styles = [{"color": c, "weight": 1, "fill": True, "fillColor": c, "fillOpacity": 0.16} for c in colours]
    r2 = r.assign(_cls=order.to_numpy())
    fc = _collection(
        r2,
        style=lambda x: int(x["_cls"]),
        styles=styles,
        tip=lambda x: f"<b>{_name(x, 'band')}</b><br>dải khoảng cách tới hành lang / distance band to corridor",
        pop=lambda x: _row_table(_name(x, "band"), x, ["band", "inner_km", "outer_km"], {}),
    )
    name = "Vùng đệm / Buffers and rings"
    _lf.DataLayer("rings", name, fc, n=len(fc["features"]), fn="vector").add_to(m)
    labels = r2.drop_duplicates("_cls").sort_values("_cls")
    rows = [
        _legend_row(_swatch_fill(colours[int(x["_cls"])], colours[int(x["_cls"])], opacity=0.3), _name(x, "band"))
        for x in labels.to_dict("records")
    ]
    legend.append(f"<h4>{name}</h4>" + "".join(rows))


def _add_corridors(m: folium.Map, c: gpd.GeoDataFrame, legend: list[str]) -> None:
    kinds = sorted({str(k) for k in c["kind"].dropna()}) if "kind" in c.columns else []
    kind_colour = {k: _CORRIDOR_COLOURS[i % len(_CORRIDOR_COLOURS)] for i, k in enumerate(kinds)}
    statuses = list(_STATUS)
    styles: list[dict[str, Any]] = []
    index: dict[tuple[str, str, bool], int] = {}

    def style_for(colour: str, status: str, band: bool) -> int:
        key = (colour, status, band)
        if key not in index:
            index[key] = len(styles)
            if band:
                styles.append(
                    {"stroke": False, "fill": True, "fillColor": colour, "fillOpacity": 0.14, "interactive": False}
                )
            else:
                dash = _STATUS.get(status, ("4 4", ""))[0]
                s: dict[str, Any] = {"color": colour, "weight": 4, "opacity": 0.95}
                if dash:
                    s.update(dashArray=dash, lineCap="round")
                styles.append(s)
        return index[key]

    def status_key(r: Mapping[str, Any]) -> str:
        v = r.get("status")
        k = str(v).strip().lower().replace(" ", "_") if not _missing(v) else ""
        return k if k in _STATUS else "other"

    def colour_of(r: Mapping[str, Any]) -> str:
        return kind_colour.get(str(r.get("kind")), "#444")

    def tip(r: Mapping[str, Any]) -> str:
        prec = r.get("precision_m")
        prec_txt = f"<br>vị trí ±{esc(prec)} m / position ±{esc(prec)} m" if not _missing(prec) else ""
        return f"<b>{_name(r, 'name', 'name_en', 'corridor_id')}</b><br>{esc(_status_of(r.get('status'))[1])}{prec_txt}"

    def pop(r: Mapping[str, Any]) -> str:
        return _row_table(_name(r, "name", "corridor_id"), r, _CORRIDOR_COLS, _CORRIDOR_TRANSLATE)

    # Uncertainty bands: ±precision_m around each line, buffered in the metric CRS.
    features: list[dict[str, Any]] = []
    if "precision_m" in c.columns:
        prec = pd.to_numeric(c["precision_m"], errors="coerce")
        has = prec.notna() & (prec > 0) & ~(c.geometry.isna() | c.geometry.is_empty)
        if has.any():
            metric = to_metric(c[has], operation="corridor uncertainty band", warn=False)
            bands = gpd.GeoSeries(metric.geometry.buffer(prec[has].to_numpy()), crs=metric.crs).to_crs(4326)
            bands = gpd.GeoSeries(bands.simplify(1e-5), crs=4326)
            band_fc = _collection(
                c[has].set_geometry(bands.to_numpy()),
                style=lambda r: style_for(colour_of(r), status_key(r), True),
                styles=styles,
                tip=lambda r: "",
                pop=lambda r: "",
            )
            features += band_fc["features"]
    line_fc = _collection(
        c, style=lambda r: style_for(colour_of(r), status_key(r), False), styles=styles, tip=tip, pop=pop
    )
    n_lines = len(line_fc["features"])
    fc = {"type": "FeatureCollection", "styles": styles, "features": features + line_fc["features"]}
    name = "Hành lang / Corridors"
    _lf.DataLayer("corridors", name, fc, n=n_lines, fn="vector").add_to(m)
    rows = [_legend_row(_swatch_line("#444", _STATUS[s][0]), _STATUS[s][1]) for s in statuses if s in _STATUS]
    rows += [_legend_row(_swatch_line(col, None), esc(k)) for k, col in kind_colour.items()]
    rows.append(
        _legend_row(
            _swatch_fill("#444", "none", opacity=0.14), "dải sai số vị trí / position uncertainty (±precision_m)"
        )
    )
    legend.append(f"<h4>{name}</h4>" + "".join(rows))


def _add_candidates(m: folium.Map, c: gpd.GeoDataFrame, legend: list[str]) -> None:
    if "score" not in c.columns:
        raise InputError("candidates need a 'score' column", field="score")
    geom = c.geometry
    ok = ~(geom.isna() | geom.is_empty)
    types = set(geom[ok].geom_type)
    if types - {"Point"}:
        raise InputError(f"candidates must be points, got {', '.join(sorted(types))}", field="geometry")
    rows = c[ok]
    score = pd.to_numeric(rows["score"], errors="coerce").to_numpy(dtype=float)
    if not np.isfinite(score).all():
        bad = int(np.flatnonzero(~np.isfinite(score))[0])
        raise InputError(
            "score must be a finite number", row=int(np.flatnonzero(ok.to_numpy())[bad]) + 1, field="score"
        )
    cls, bins = _classify(score, k=5, scheme="quantiles")
    colours = _palette(_CANDIDATE, len(bins))
    data: dict[str, Any] = {
        "lon": np.round(rows.geometry.x.to_numpy(), _DIGITS).tolist(),
        "lat": np.round(rows.geometry.y.to_numpy(), _DIGITS).tolist(),
        "cls": cls.tolist(),
        "colors": colours,
        "radius": 3,
        "title": "Ứng viên / Candidate",
        "fields": ["score"],
        "labels": [_html.escape(_label("score"))],
    }
    data["score"] = [round(float(v), 3) for v in score]
    for col, digits in (("rank", 0), ("distance_km", 2)):
        if col in rows.columns:
            v = pd.to_numeric(rows[col], errors="coerce").to_numpy(dtype=float)
            data[col] = [None if not math.isfinite(x) else (int(x) if digits == 0 else round(x, digits)) for x in v]
            data["fields"].append(col)
            data["labels"].append(_html.escape(_label(col)))
    name = f"Điểm ứng viên / Scored candidates ({len(rows):,})".replace(",", " ")
    _lf.DataLayer("candidates", name, data, n=len(rows), fn="cloud").add_to(m)
    counts = [int((cls == i).sum()) for i in range(len(bins))]
    texts = _classes_text(bins, float(score.min()) if score.size else 0.0, counts)
    legend.append(
        "<h4>Điểm ứng viên / Candidate score</h4><div>ngũ phân vị / quantiles</div>"
        + "".join(_legend_row(_swatch_point(col, 4, "none"), t) for col, t in zip(colours, texts, strict=True))
    )


def _add_sites(m: folium.Map, s: gpd.GeoDataFrame, legend: list[str]) -> None:
    # Large sites first so small ones stay clickable on top.
    area = pd.to_numeric(s["area_ha"], errors="coerce") if "area_ha" in s.columns else pd.Series(0.0, index=s.index)
    s = s.iloc[np.argsort(-area.fillna(0).to_numpy(), kind="stable")]
    cols = [c for c in _SITE_COLS if c in s.columns]

    def pop(r: Mapping[str, Any]) -> str:
        return _row_table(_name(r, "name", "site_id"), r, cols, _TRANSLATE)

    kind_colours = [*(v[0] for v in _KIND.values()), _KIND_OTHER[0]]
    kind_styles = [
        {"color": "#222", "weight": 1, "fillColor": c, "fillOpacity": 0.8, "bubblingMouseEvents": False}
        for c in kind_colours
    ]

    def kind_index(r: Mapping[str, Any]) -> int:
        return kind_colours.index(_kind_of(r.get("kind"))[0])

    def tip(r: Mapping[str, Any]) -> str:
        extra = ""
        if "within_buffer" in r:
            extra = f"<br>{esc(_verdict_of(r.get('within_buffer'))[1])}"
        area_txt = f" – {esc(r.get('area_ha'))} ha" if not _missing(r.get("area_ha")) else ""
        return f"<b>{_name(r, 'name', 'site_id')}</b><br>{esc(_kind_of(r.get('kind'))[1])}{area_txt}{extra}"

    fc = _collection(s, style=kind_index, styles=kind_styles, tip=tip, pop=pop, radius=_site_radius)
    name = "Khu/cụm công nghiệp theo loại / Sites by kind"
    _lf.DataLayer("sites", name, fc, n=len(fc["features"]), fn="vector").add_to(m)
    present = {_kind_of(k)[0] for k in s["kind"]} if "kind" in s.columns else {_KIND_OTHER[0]}
    rows = [_legend_row(_swatch_point(c, 6), lbl) for c, lbl in [*_KIND.values(), _KIND_OTHER] if c in present]
    rows.append(
        _legend_row(_swatch_point("#fff", 4) + _swatch_point("#fff", 9), "cỡ theo diện tích / size by area (ha)")
    )
    legend.append(f"<h4>{name}</h4>" + "".join(rows))

    if "within_buffer" in s.columns:
        v_colours = [*(v[0] for v in _VERDICT.values()), _VERDICT_NONE[0]]
        v_styles = [
            {"color": "#222", "weight": 1, "fillColor": c, "fillOpacity": 0.85, "bubblingMouseEvents": False}
            for c in v_colours
        ]
        fc = _collection(
            s,
            style=lambda r: v_colours.index(_verdict_of(r.get("within_buffer"))[0]),
            styles=v_styles,
            tip=tip,
            pop=pop,
            radius=_site_radius,
        )
        vname = "Khu/cụm theo kết luận / Sites by rule verdict"
        _lf.DataLayer("sites_verdict", vname, fc, n=len(fc["features"]), fn="vector", show=False).add_to(m)
        legend.append(
            f"<h4>{vname}</h4>"
            + "".join(_legend_row(_swatch_point(c, 6), lbl) for c, lbl in [*_VERDICT.values(), _VERDICT_NONE])
        )


def layer_features(m: folium.Map) -> dict[str, int]:
    """Features per vpgeo layer of a map from :func:`plan_map` (corridors: lines, not their bands).

    Keys: ``districts, choropleth, communes, rings, corridors, candidates, access_points, sites,
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
        out.write_text(page, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write the map: {exc.strerror}", path=str(out)) from None
    return out


# --------------------------------------------------------------------------------------------------------
# Static PNG


def _draw_polys(ax: Any, geoms: Iterable[Any], **kw: Any) -> None:
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path as MPath

    for g in geoms:
        if g is None or g.is_empty:
            continue
        polys = getattr(g, "geoms", [g])
        for p in polys:
            if p.geom_type != "Polygon":
                continue
            rings = [p.exterior, *p.interiors]
            path = MPath.make_compound_path(*(MPath(np.asarray(r.coords)[:, :2] / 1000.0, closed=True) for r in rings))
            ax.add_patch(PathPatch(path, **kw))


def _draw_lines(ax: Any, g: Any, **kw: Any) -> None:
    if g is None or g.is_empty:
        return
    for part in getattr(g, "geoms", [g]):
        if part.geom_type == "LineString":
            xy = np.asarray(part.coords)[:, :2] / 1000.0
            ax.plot(xy[:, 0], xy[:, 1], **kw)


def _short(value: object, limit: int = 34) -> str:
    """A label for print: at most ``limit`` characters, ``$`` escaped (matplotlib reads $...$ as math)."""
    text = _fmt(value)
    text = text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
    return text.replace("$", r"\$")


def _place_labels(
    fig: Any, ax: Any, fixed: list[tuple[float, float, str]], optional: list[tuple[float, float, str, float]]
) -> int:
    """Draw district names, then site names where they hide nothing; return how many site names were left out.

    ``optional`` holds (x, y, text, marker radius in points); each name tries four places around its marker.
    """
    from matplotlib import patheffects
    from matplotlib.transforms import Bbox

    renderer = fig.canvas.get_renderer()
    ax.apply_aspect()  # the equal-aspect box is only settled at draw time; label positions need it now
    frame = ax.get_window_extent(renderer)
    px = fig.dpi / 72.0
    occupied = []
    for x, y, r_pt in ((x, y, r) for x, y, _, r in optional):
        cx, cy = ax.transData.transform((x, y))
        occupied.append(Bbox.from_extents(cx - r_pt * px, cy - r_pt * px, cx + r_pt * px, cy + r_pt * px))
    for x, y, text in fixed:
        t = ax.annotate(text.replace("$", r"\$"), (x, y), ha="center", va="center", fontsize=9, color="#555",
                        style="italic", zorder=6)  # fmt: skip
        occupied.append(t.get_window_extent(renderer))
    halo = [patheffects.withStroke(linewidth=2.2, foreground="white")]
    hidden = 0
    for x, y, text, r_pt in optional:
        g = r_pt + 1.5
        for dx, dy, ha, va in ((g, 1, "left", "bottom"), (g, -1, "left", "top"), (-g, 1, "right", "bottom"),
                               (-g, -1, "right", "top")):  # fmt: skip
            t = ax.annotate(text, (x, y), xytext=(dx, dy), textcoords="offset points", ha=ha, va=va, fontsize=6.5,
                            color="#222", path_effects=halo, zorder=8)  # fmt: skip
            bb = t.get_window_extent(renderer)
            inside = frame.x0 <= bb.x0 and bb.x1 <= frame.x1 and frame.y0 <= bb.y0 and bb.y1 <= frame.y1
            own = Bbox.from_extents(*(np.array(ax.transData.transform((x, y))).tolist() * 2))
            if inside and not any(bb.overlaps(o) and not o.overlaps(own) for o in occupied):
                occupied.append(bb)
                break
            t.remove()
        else:
            hidden += 1
    return hidden


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
    approximate) with their names, rings, corridors styled by status, sites sized by area, coloured by
    kind and outlined by rule verdict when ``within_buffer`` is present.

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
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure as MplFigure
        from matplotlib.lines import Line2D
        from matplotlib.patches import Patch
    except ImportError as exc:  # pragma: no cover - matplotlib is a dependency
        raise InputError("save_png needs matplotlib (pip install matplotlib)") from exc

    layers: dict[str, gpd.GeoDataFrame] = {}
    for arg, gdf in (("districts", districts), ("rings", rings), ("corridors", corridors), ("sites", sites)):
        if gdf is not None:
            prepared, _ = _prepare(gdf, arg)
            layers[arg] = to_metric(prepared, operation=f"save_png({arg}=...)", warn=False)

    fig = MplFigure(figsize=(10, 8), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    handles: list[Any] = []
    district_labels: list[tuple[float, float, str]] = []
    site_labels: list[tuple[float, float, str, float]] = []

    if "districts" in layers:
        d = layers["districts"]
        src = d["source"] if "source" in d.columns else pd.Series(["?"] * len(d), index=d.index)
        for geom, s in zip(d.geometry, src, strict=True):
            official = str(s).strip().lower() == "official"
            _draw_polys(ax, [geom], facecolor="#f7f7f2", edgecolor="#444" if official else "#777",
                        linewidth=1.2, linestyle="-" if official else (0, (5, 3)), zorder=1)  # fmt: skip
        label_col = "short" if "short" in d.columns else "name" if "name" in d.columns else None
        if label_col:
            for geom, lbl in zip(d.geometry, d[label_col], strict=True):
                if geom is not None and not geom.is_empty and not _missing(lbl):
                    p = geom.representative_point() if geom.geom_type != "Point" else geom
                    district_labels.append((p.x / 1000, p.y / 1000, str(lbl)))
        n_approx = int((~src.astype(str).str.lower().eq("official")).sum())
        if n_approx < len(d):
            handles.append(Line2D([], [], color="#444", lw=1.2, label="Huyện / District (official)"))
        if n_approx:
            handles.append(Line2D([], [], color="#777", lw=1.2, ls=(0, (5, 3)), label="Huyện / District (approximate)"))
    if "rings" in layers:
        r = layers["rings"]
        order = _ring_order(r)
        for geom, i in zip(r.geometry, order, strict=True):
            colour = _RINGS[min(int(i), len(_RINGS) - 1)]
            _draw_polys(ax, [geom], facecolor=colour, edgecolor=colour, alpha=0.22, linewidth=0.6, zorder=2)
        seen = r.assign(_o=order.to_numpy()).drop_duplicates("_o").sort_values("_o")
        for rec in seen.to_dict("records"):
            colour = _RINGS[min(int(rec["_o"]), len(_RINGS) - 1)]
            handles.append(Patch(facecolor=colour, alpha=0.35, label=f"Dải / Band {_fmt(rec.get('band', rec['_o']))}"))
    if "corridors" in layers:
        c = layers["corridors"]
        kinds = sorted({str(k) for k in c["kind"].dropna()}) if "kind" in c.columns else []
        kind_colour = {k: _CORRIDOR_COLOURS[i % len(_CORRIDOR_COLOURS)] for i, k in enumerate(kinds)}
        mpl_dash = {"built": "-", "under_construction": (0, (6, 3)), "planned": (0, (1, 2.5))}
        if "precision_m" in c.columns:  # the position uncertainty band, as on the interactive map
            prec = pd.to_numeric(c["precision_m"], errors="coerce")
            has = prec.notna() & (prec > 0) & ~(c.geometry.isna() | c.geometry.is_empty)
            for rec, band in zip(c[has].to_dict("records"), c.geometry[has].buffer(prec[has].to_numpy()), strict=True):
                colour = kind_colour.get(str(rec.get("kind")), "#444")
                _draw_polys(ax, [band], facecolor=colour, edgecolor="none", alpha=0.07, zorder=2.5)
            if has.any():
                handles.append(Patch(facecolor="#444", alpha=0.12, label="dải sai số vị trí / position uncertainty"))
        for rec, geom in zip(c.drop(columns=c.geometry.name).to_dict("records"), c.geometry, strict=True):
            st = str(rec.get("status", "")).strip().lower().replace(" ", "_")
            _draw_lines(ax, geom, color=kind_colour.get(str(rec.get("kind")), "#444"), lw=2.2,
                        ls=mpl_dash.get(st, (0, (3, 3))), solid_capstyle="round", zorder=3)  # fmt: skip
        for st, ls in mpl_dash.items():
            handles.append(Line2D([], [], color="#444", lw=2.2, ls=ls, label=_STATUS[st][1]))
        for k, col in kind_colour.items():
            handles.append(Line2D([], [], color=col, lw=2.2, label=k))
    if "sites" in layers:
        s = layers["sites"]
        ok = ~(s.geometry.isna() | s.geometry.is_empty)
        s = s[ok]
        pts = s.geometry.representative_point()
        recs = s.drop(columns=s.geometry.name).to_dict("records")
        sizes = [(_site_radius(r) * 1.6) ** 2 for r in recs]
        faces = [_kind_of(r.get("kind"))[0] for r in recs]
        has_verdict = "within_buffer" in s.columns
        edges = [_verdict_of(r.get("within_buffer"))[0] if has_verdict else "#222" for r in recs]
        ax.scatter(pts.x / 1000, pts.y / 1000, s=sizes, c=faces, edgecolors=edges,
                   linewidths=2.2 if has_verdict else 0.7, alpha=0.85, zorder=5)  # fmt: skip
        # Labels of the biggest sites first; a label that would hide another is left out (counted below).
        for i in np.argsort([-z for z in sizes], kind="stable"):
            r = recs[i]
            site_labels.append((float(pts.x.iloc[i]) / 1000, float(pts.y.iloc[i]) / 1000,
                                _short(r.get("name", r.get("site_id"))), math.sqrt(sizes[i]) / 2))  # fmt: skip
        present = set(faces)
        for colour, label in [*_KIND.values(), _KIND_OTHER]:
            if colour in present:
                handles.append(Line2D([], [], marker="o", ls="", markerfacecolor=colour, markeredgecolor="#222",
                                      markersize=8, label=label))  # fmt: skip
        if has_verdict:
            for colour, label in [*_VERDICT.values(), _VERDICT_NONE]:
                handles.append(Line2D([], [], marker="o", ls="", markerfacecolor="white", markeredgecolor=colour,
                                      markeredgewidth=2.2, markersize=8, label=label))  # fmt: skip

    ax.set_aspect("equal")
    ax.autoscale_view()
    ax.margins(0.03)
    ax.set_xlabel("x (km), EPSG:5897 VN-2000 / TM-3 105°00′")
    ax.set_ylabel("y (km)")
    ax.tick_params(labelsize=8)
    ax.grid(True, color="#ddd", lw=0.5, zorder=0)
    # Scale bar: 10 km (5 km on small extents) in the lower left.
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    bar = 10 if (x1 - x0) > 30 else 5 if (x1 - x0) > 8 else 1
    bx, by = x0 + 0.04 * (x1 - x0), y0 + 0.04 * (y1 - y0)
    ax.plot([bx, bx + bar], [by, by], color="black", lw=3, solid_capstyle="butt", zorder=7)
    ax.annotate(
        f"{bar} km", (bx + bar / 2, by), xytext=(0, 4), textcoords="offset points", ha="center", fontsize=9, zorder=7
    )
    ax.annotate("N ↑", (0.97, 0.96), xycoords="axes fraction", ha="right", va="top", fontsize=12, weight="bold")
    hidden = _place_labels(fig, ax, district_labels, site_labels)
    if hidden:
        ax.annotate(
            f"{hidden} nhãn bị ẩn do chồng lấn / {hidden} labels hidden where they would overlap",
            (0.99, 0.01), xycoords="axes fraction", ha="right", va="bottom", fontsize=7, color="#555",
        )  # fmt: skip
    if title:
        ax.set_title(title, fontsize=14, weight="bold", pad=10)
    if handles:
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8.5, frameon=False,
                  borderaxespad=0.0)  # fmt: skip
    out = Path(path)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(out, format="png", dpi=dpi, bbox_inches="tight", pad_inches=0.25)
    except OSError as exc:
        raise InputError(f"cannot write the PNG: {exc.strerror}", path=str(out)) from None
    return out
