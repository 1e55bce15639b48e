"""The layers of the interactive map: data in, escaped popups/tooltips and compact JSON out.

Every string from data is HTML-escaped here (:func:`esc`) before it becomes popup or tooltip HTML; plain
names for the search box and the site labels travel as JSON strings and are written into the page by the
runtime with ``textContent``. Numbers print through :mod:`vpgeo._format`, as in the report and the CSV.
"""

from __future__ import annotations

import base64
import html as _html
import math
import re
import struct
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import mapping

from vpgeo import _leaflet as _lf
from vpgeo import _style as st
from vpgeo._format import decimals_for, fmt_km, fmt_number, is_missing
from vpgeo.crs import check_crs, to_metric, to_wgs84
from vpgeo.errors import InputError

DIGITS = 5  # 1e-5° ≈ 1.1 m: far finer than any position vpgeo knows
LABEL_MIN_ZOOM = 12  # site names are written on the map from this zoom on
Legend = list[str]


# --------------------------------------------------------------------------------------------------------
# Text


def display(value: object) -> str:
    """A value as display text (not yet escaped): strings as given, numbers via vpgeo._format."""
    if isinstance(value, str):
        return value
    return fmt_number(value)


def esc(value: object) -> str:
    """HTML-escape a value for the page (quotes included), formatting numbers and missing values.

    Examples
    --------
    >>> esc('<img src=x onerror="alert(1)">')
    '&lt;img src=x onerror=&quot;alert(1)&quot;&gt;'
    >>> esc(221.456), esc(None), esc(3.0), esc(0.5), esc(12345.6), esc("007")
    ('221.5', '—', '3', '0.5', '12 346', '007')
    """
    return _html.escape(display(value), quote=True)


def plain(rec: Mapping[str, Any], *cols: str) -> str:
    """The first non-empty of ``cols`` as plain (unescaped) text, or ''."""
    for c in cols:
        v = rec.get(c)
        if not is_missing(v) and str(v).strip():
            return str(v)
    return ""


def name_of(rec: Mapping[str, Any], *cols: str) -> str:
    """The first non-empty of ``cols``, escaped, or a dash."""
    return _html.escape(plain(rec, *cols), quote=True) or "—"


def table(title: str, rows: Iterable[tuple[str, str]]) -> str:
    """A popup: ``title`` and (label, value) rows, all already escaped."""
    body = "".join(f"<tr><th>{label}</th><td>{value}</td></tr>" for label, value in rows)
    return f'<div class="vp-pop"><div class="vp-pop-title">{title}</div><table>{body}</table></div>'


def precision_of(rec: Mapping[str, Any]) -> float | None:
    """The row's ``precision_m`` as a float, or None when missing or not a number."""
    try:
        value = float(rec.get("precision_m"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(value) else value


def _cell(col: str, value: object, rec: Mapping[str, Any]) -> str:
    """Escaped display text of one popup cell; kinds, verdicts and statuses translated, km per precision."""
    if is_missing(value):
        return "—"
    words = st.value_label(col, value)
    if words is not None:
        return esc(words)
    if col.endswith("_km") and not isinstance(value, str):
        return esc(fmt_km(value, precision_of(rec)))
    if col == "p_within" and not isinstance(value, str):
        return esc(fmt_number(100 * float(value), 0) + " %")  # type: ignore[arg-type]
    return esc(value)


def row_table(title: str, rec: Mapping[str, Any], cols: Sequence[str]) -> str:
    return table(title, [(_html.escape(st.column_label(c)), _cell(c, rec[c], rec)) for c in cols if c in rec])


# --------------------------------------------------------------------------------------------------------
# Input


def prepare(gdf: object, argument: str) -> tuple[gpd.GeoDataFrame, list[int]]:
    """Validate a layer and return it in EPSG:4326 (with its ``region`` column, if any), plus the rows
    without geometry."""
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise InputError(f"expected a GeoDataFrame, got {type(gdf).__name__}", field=argument)
    out = to_wgs84(gdf, operation=f"plan_map({argument}=...)")
    if "region" in gdf.columns and gdf.geometry.name != "region":
        col = gdf["region"]
        crs = col.crs if isinstance(col, gpd.GeoSeries) and col.crs is not None else gdf.crs
        region = gpd.GeoSeries(np.asarray(col, dtype=object), crs=crs, index=gdf.index)
        out = out.assign(region=region.to_crs(4326).to_numpy())
    empty = out.geometry.isna() | out.geometry.is_empty
    return out, [int(i) for i in np.flatnonzero(empty.to_numpy())]


def _round_geoms(geoms: Iterable[Any]) -> list[dict[str, Any]]:
    rounded = shapely.transform(np.asarray(list(geoms), dtype=object), lambda c: np.round(c, DIGITS))
    return [mapping(g) for g in rounded]


def collection(
    gdf: gpd.GeoDataFrame,
    *,
    style: Callable[[Mapping[str, Any]], int],
    styles: list[dict[str, Any]],
    tip: Callable[[Mapping[str, Any]], str],
    pop: Callable[[Mapping[str, Any]], str],
    extra: Callable[[Mapping[str, Any]], dict[str, Any]] | None = None,
    geometry: str | None = None,
) -> dict[str, Any]:
    """A compact GeoJSON FeatureCollection; properties: s (style index), t (tooltip), p (popup) + ``extra``."""
    geoms = gdf.geometry if geometry is None else gpd.GeoSeries(gdf[geometry].to_numpy(), index=gdf.index)
    ok = (~(geoms.isna() | geoms.is_empty)).to_numpy()
    rows = gdf[ok]
    drop = [c for c in {gdf.geometry.name, "region"} if c in rows.columns]
    features = []
    for rec, g in zip(rows.drop(columns=drop).to_dict("records"), _round_geoms(geoms[ok]), strict=True):
        props: dict[str, Any] = {"s": style(rec), "t": tip(rec), "p": pop(rec)}
        if extra is not None:
            props.update(extra(rec))
        features.append({"type": "Feature", "geometry": g, "properties": props})
    return {"type": "FeatureCollection", "styles": styles, "features": features}


def add_layer(m: folium.Map, key: str, name: str, data: Mapping[str, Any], *, n: int | None = None,
              fn: str = "vector", show: bool = True) -> None:  # fmt: skip
    count = len(data["features"]) if n is None else n
    _lf.DataLayer(key, name, data, n=count, fn=fn, show=show).add_to(m)


# --------------------------------------------------------------------------------------------------------
# Legend swatches (colours are vpgeo's own constants, texts are escaped by the callers)


def swatch_point(colour: str, r: float = 6, stroke: str = "#333") -> str:
    d = int(2 * r + 4)
    return (
        f'<svg width="{d}" height="{d}"><circle cx="{d / 2}" cy="{d / 2}" r="{r}" fill="{colour}" '
        f'fill-opacity="0.8" stroke="{stroke}" stroke-width="1"/></svg>'
    )


def swatch_line(colour: str, dash: str | None, width: int = 3) -> str:
    dash_attr = f' stroke-dasharray="{dash}" stroke-linecap="round"' if dash else ""
    return (
        f'<svg width="34" height="12"><line x1="2" y1="6" x2="32" y2="6" stroke="{colour}" '
        f'stroke-width="{width}"{dash_attr}/></svg>'
    )


def swatch_fill(colour: str, stroke: str = "#555", dash: str | None = None, opacity: float = 0.7) -> str:
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
    return (
        f'<svg width="20" height="14"><rect x="1" y="1" width="18" height="12" fill="{colour}" '
        f'fill-opacity="{opacity}" stroke="{stroke}"{dash_attr}/></svg>'
    )


def legend_row(swatch: str, text: str) -> str:
    return f'<div class="row">{swatch}<span>{text}</span></div>'


def legend_block(title: str, rows: Iterable[str]) -> str:
    return f"<h4>{title}</h4>" + "".join(rows)


# --------------------------------------------------------------------------------------------------------
# Classes


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


def classify(values: np.ndarray, *, k: int, scheme: str) -> tuple[np.ndarray, list[float]]:
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


def palette(colours: Sequence[str], k: int) -> list[str]:
    if k <= 0:
        return []
    idx = np.linspace(0, len(colours) - 1, k).round().astype(int) if k > 1 else np.array([len(colours) - 1])
    return [colours[i] for i in idx]


def classes_text(bins: Sequence[float], lo: float, counts: Sequence[int]) -> list[str]:
    out, prev = [], lo
    for b, n in zip(bins, counts, strict=True):
        out.append(f"{esc(b)} ({n})" if esc(prev) == esc(b) else f"{esc(prev)} – {esc(b)} ({n})")
        prev = b
    return out


# --------------------------------------------------------------------------------------------------------
# Districts, choropleth, communes, rings, access points


def _is_official(value: object) -> bool:
    return str(value).strip().lower() == "official"


def _district_layer_name(n_approx: int, n: int) -> str:
    if n_approx == 0:
        return "Huyện (ranh giới chính thức) / Districts (official boundaries)"
    if n_approx == n:
        return "Huyện (ranh giới GẦN ĐÚNG) / Districts (APPROXIMATE boundaries)"
    return f"Huyện ({n_approx}/{n} ranh giới gần đúng) / Districts ({n_approx} of {n} boundaries approximate)"


def _district_tip(r: Mapping[str, Any]) -> str:
    if _is_official(r.get("source", "")):
        return f"<b>{name_of(r, 'name')}</b><br>ranh giới chính thức / official boundary"
    prec = r.get("precision_m")
    prec_txt = f" (±{esc(prec)} m)" if not is_missing(prec) else ""
    what = f"ranh giới GẦN ĐÚNG / APPROXIMATE boundary{prec_txt} – {esc(r.get('source'))}"
    return f"<b>{name_of(r, 'name')}</b><br>{what}"


def add_districts(m: folium.Map, d: gpd.GeoDataFrame, legend: Legend) -> None:
    src = d["source"] if "source" in d.columns else pd.Series(["not stated"] * len(d), index=d.index)
    n_approx = int((~src.map(_is_official).astype(bool)).sum())
    styles = [
        {"color": "#333", "weight": 2, "fill": True, "fillOpacity": 0.0},
        {"color": "#555", "weight": 2, "dashArray": "8 5", "fill": True, "fillOpacity": 0.0},
    ]
    cols = ["code", "name", "short", "source", "precision_m"]
    cols += [c for c in d.columns if c not in (*cols, d.geometry.name)]
    fc = collection(
        d, style=lambda r: 0 if _is_official(r.get("source", "")) else 1, styles=styles, tip=_district_tip,
        pop=lambda r: row_table(name_of(r, "name"), r, cols),
    )  # fmt: skip
    add_layer(m, "districts", _district_layer_name(n_approx, len(d)), fc)
    legend.append(legend_block("Huyện / Districts", [
        legend_row(swatch_line("#333", None, 2), "chính thức / official"),
        legend_row(swatch_line("#555", "8 5", 2), "gần đúng / approximate"),
    ]))  # fmt: skip


def _numeric_column(d: gpd.GeoDataFrame, column: str) -> pd.Series:
    if column not in d.columns:
        numeric = ", ".join(str(c) for c in d.columns if pd.api.types.is_numeric_dtype(d[c]))
        raise InputError(f"no column {column!r} in districts; numeric columns: {numeric}", field="choropleth")
    values = pd.to_numeric(d[column], errors="coerce")
    bad = values.isna() & d[column].notna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0]) + 1
        raise InputError(f"non-numeric value {d[column][bad].iloc[0]!r}; use numbers", row=row, field=column)
    return values


def add_choropleth(m: folium.Map, d: gpd.GeoDataFrame, column: str, legend: Legend) -> None:
    values = _numeric_column(d, column)
    cls, bins = classify(values.to_numpy(dtype=float), k=5, scheme="fisher_jenks")
    colours = palette(st.CHORO, len(bins))
    styles = [{"color": "#666", "weight": 1, "fill": True, "fillColor": c, "fillOpacity": 0.7} for c in colours]
    styles.append({"color": "#666", "weight": 1, "fill": True, "fillColor": "#d9d9d9", "fillOpacity": 0.5})
    col_label = esc(st.column_label(column))
    fc = collection(
        d.assign(_cls=cls),
        style=lambda r: int(r["_cls"]) if r["_cls"] >= 0 else len(colours),
        styles=styles,
        tip=lambda r: f"<b>{name_of(r, 'name')}</b><br>{col_label}: {esc(r.get(column))}",
        pop=lambda r: table(name_of(r, "name"), [(col_label, esc(r.get(column)))]),
    )
    add_layer(m, "choropleth", f"Phân cấp / Choropleth: {col_label}", fc)
    finite = values.to_numpy(dtype=float)
    finite = finite[np.isfinite(finite)]
    counts = [int((cls == i).sum()) for i in range(len(bins))]
    texts = classes_text(bins, float(finite.min()) if finite.size else 0.0, counts)
    rows = [legend_row(swatch_fill(c), t) for c, t in zip(colours, texts, strict=True)]
    if (cls < 0).any():
        rows.append(legend_row(swatch_fill("#d9d9d9"), "không có số liệu / no data"))
    legend.append(legend_block(col_label, [f"<div>Fisher–Jenks, k = {len(bins)}</div>", *rows]))


def add_communes(m: folium.Map, c: gpd.GeoDataFrame, legend: Legend, *, show: bool) -> None:
    styles = [{"color": "#1b7837", "weight": 1, "dashArray": "3 4", "fill": True, "fillOpacity": 0.0}]
    fc = collection(
        c, style=lambda r: 0, styles=styles,
        tip=lambda r: f"<b>{name_of(r, 'name')}</b><br>xã/phường 2025 / commune (2025)",
        pop=lambda r: row_table(name_of(r, "name"), r, ["code", "name", "area_km2", "source"]),
    )  # fmt: skip
    name = "Xã/phường 2025 / Communes (2025)"
    add_layer(m, "communes", name, fc, show=show)
    legend.append(legend_block(name, [legend_row(swatch_line("#1b7837", "3 4", 1), "ranh giới / boundary")]))


def ring_order(r: gpd.GeoDataFrame) -> pd.Series:
    """Colour class of each band: 0 for the innermost distance, in order of ``inner_km``."""
    if "inner_km" not in r.columns:
        return pd.Series(range(len(r)), index=r.index)
    return pd.to_numeric(r["inner_km"], errors="coerce").rank(method="dense").fillna(1).astype(int) - 1


def band_label(rec: Mapping[str, Any]) -> str:
    """Escaped legend text of a distance band: its ``band`` value, else "inner–outer km"."""
    if plain(rec, "band"):
        return name_of(rec, "band")
    lo, hi = rec.get("inner_km"), rec.get("outer_km")
    return f"{esc(lo)}–{esc(hi)} km" if not (is_missing(lo) or is_missing(hi)) else "—"


def add_rings(m: folium.Map, r: gpd.GeoDataFrame, legend: Legend) -> None:
    order = ring_order(r)
    n_cls = int(order.max()) + 1 if len(order) else 0
    colours = [st.band_colour(i) for i in range(n_cls)]
    styles = [{"color": c, "weight": 1.5, "fill": True, "fillColor": c, "fillOpacity": 0.22} for c in colours]
    r2 = r.assign(_cls=order.to_numpy())
    fc = collection(
        r2, style=lambda x: int(x["_cls"]), styles=styles,
        tip=lambda x: f"<b>{band_label(x)}</b><br>dải khoảng cách tới hành lang / distance band to corridor",
        pop=lambda x: row_table(band_label(x), x, ["band", "inner_km", "outer_km"]),
    )  # fmt: skip
    name = "Vùng đệm / Buffers and rings"
    add_layer(m, "rings", name, fc)
    labels = r2.drop_duplicates("_cls").sort_values("_cls").to_dict("records")
    rows = [legend_row(swatch_fill(colours[int(x["_cls"])], colours[int(x["_cls"])], opacity=0.35), band_label(x))
            for x in labels]  # fmt: skip
    legend.append(legend_block(name, rows))


def add_access_points(m: folium.Map, a: gpd.GeoDataFrame, legend: Legend) -> None:
    styles = [{"color": "#111", "weight": 2, "fillColor": "#fff", "fillOpacity": 1, "radius": 5,
               "bubblingMouseEvents": False}]  # fmt: skip
    fc = collection(
        a, style=lambda r: 0, styles=styles,
        tip=lambda r: f"<b>{name_of(r, 'name')}</b><br>{esc(st.value_label('kind', r.get('kind')) or 'nút giao')}",
        pop=lambda r: row_table(name_of(r, "name"), r, ["access_id", "name", "corridor_id", "kind", "precision_m"]),
    )  # fmt: skip
    name = "Nút giao / Access points"
    add_layer(m, "access_points", name, fc)
    legend.append(legend_block(name, [legend_row(swatch_point("#fff", 5, "#111"), "nút giao / interchange")]))


# --------------------------------------------------------------------------------------------------------
# Corridors

CORRIDOR_COLS = ["corridor_id", "section", "name", "name_en", "kind", "status", "priority", "precision_m", "source"]


def status_key(value: object) -> str:
    key = "" if is_missing(value) else str(value).strip().lower().replace(" ", "_")
    return key if key in st.STATUS else "other"


class _Styles:
    """Style table of the corridor layer: one entry per (kind colour, status, band?)."""

    def __init__(self) -> None:
        self.styles: list[dict[str, Any]] = []
        self._index: dict[tuple[str, str, bool], int] = {}

    def of(self, rec: Mapping[str, Any], band: bool) -> int:
        colour = st.corridor_kind(rec.get("kind")).colour
        key = (colour, status_key(rec.get("status")), band)
        if key not in self._index:
            self._index[key] = len(self.styles)
            self.styles.append(self._style(colour, key[1], band))
        return self._index[key]

    @staticmethod
    def _style(colour: str, status: str, band: bool) -> dict[str, Any]:
        if band:
            return {"stroke": False, "fill": True, "fillColor": colour, "fillOpacity": 0.14, "interactive": False}
        dash = st.STATUS[status][0] if status in st.STATUS else "4 4"
        s: dict[str, Any] = {"color": colour, "weight": 4, "opacity": 0.95}
        if dash:
            s.update(dashArray=dash, lineCap="round")
        return s


def _corridor_tip(r: Mapping[str, Any]) -> str:
    prec = r.get("precision_m")
    prec_txt = f"<br>vị trí ±{esc(prec)} m / position ±{esc(prec)} m" if not is_missing(prec) else ""
    known = st.status(r.get("status"))
    status_txt = known[1] if known else f"{display(r.get('status'))} (không rõ / unknown status)"
    kind = st.corridor_kind(r.get("kind")).label
    return f"<b>{name_of(r, 'name', 'name_en', 'corridor_id')}</b><br>{esc(kind)} – {esc(status_txt)}{prec_txt}"


def corridor_bands(c: gpd.GeoDataFrame) -> gpd.GeoDataFrame | None:
    """±precision_m around each line (buffered in the metric CRS), in EPSG:4326; None when no line has one."""
    if "precision_m" not in c.columns:
        return None
    prec = pd.to_numeric(c["precision_m"], errors="coerce")
    has = prec.notna() & (prec > 0) & ~(c.geometry.isna() | c.geometry.is_empty)
    if not has.any():
        return None
    metric = to_metric(c[has], operation="corridor uncertainty band", warn=False)
    bands = gpd.GeoSeries(metric.geometry.buffer(prec[has].to_numpy()), crs=metric.crs).to_crs(4326)
    return c[has].set_geometry(gpd.GeoSeries(bands.simplify(1e-5).to_numpy(), index=c.index[has], crs=4326))


def corridor_legend(c: gpd.GeoDataFrame) -> list[str]:
    """Every corridor kind and status, fixed and bilingual (never the raw kind codes)."""
    rows = [legend_row(swatch_line(s.colour, None), esc(s.label)) for s in st.CORRIDOR_KIND.values()]
    if "kind" in c.columns and any(st.corridor_kind(k) is st.CORRIDOR_KIND_OTHER for k in c["kind"]):
        rows.append(legend_row(swatch_line(st.CORRIDOR_KIND_OTHER.colour, None), esc(st.CORRIDOR_KIND_OTHER.label)))
    rows += [legend_row(swatch_line("#444", dash), esc(label)) for dash, label in st.STATUS.values()]
    rows.append(legend_row(swatch_fill("#444", "none", opacity=0.14),
                           "dải sai số vị trí / position uncertainty (±precision_m)"))  # fmt: skip
    return rows


def add_corridors(m: folium.Map, c: gpd.GeoDataFrame, legend: Legend) -> None:
    table_ = _Styles()
    features: list[dict[str, Any]] = []
    bands = corridor_bands(c)
    if bands is not None:
        features += collection(
            bands, style=lambda r: table_.of(r, True), styles=table_.styles, tip=lambda r: "", pop=lambda r: ""
        )["features"]
    lines = collection(
        c, style=lambda r: table_.of(r, False), styles=table_.styles, tip=_corridor_tip,
        pop=lambda r: row_table(name_of(r, "name", "corridor_id"), r, CORRIDOR_COLS),
    )["features"]  # fmt: skip
    fc = {"type": "FeatureCollection", "styles": table_.styles, "features": features + lines}
    name = "Hành lang / Corridors"
    add_layer(m, "corridors", name, fc, n=len(lines))
    legend.append(legend_block(name, corridor_legend(c)))


# --------------------------------------------------------------------------------------------------------
# Candidates: typed arrays, base64 (issue #16)


def b64(array: np.ndarray, dtype: str) -> str:
    """Little-endian bytes of ``array`` as ``dtype``, base64 (decoded in the page into a typed array)."""
    return base64.b64encode(np.ascontiguousarray(array, dtype=np.dtype(dtype).newbyteorder("<")).tobytes()).decode()


def _candidate_points(c: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, np.ndarray]:
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
        raise InputError("score must be a finite number", row=int(np.flatnonzero(ok.to_numpy())[bad]) + 1,
                         field="score")  # fmt: skip
    return rows, score


def candidate_data(rows: gpd.GeoDataFrame, score: np.ndarray, cls: np.ndarray, colours: list[str]) -> dict[str, Any]:
    """The candidate layer's payload: coordinates as Int32 of 1e-5°, classes as Uint8, values as Float32."""
    xy = shapely.get_coordinates(np.asarray(rows.geometry.values, dtype=object))
    scale = 10**DIGITS
    prec = pd.to_numeric(rows["precision_m"], errors="coerce").max() if "precision_m" in rows.columns else None
    km_decimals = 2 if prec is None or is_missing(prec) else decimals_for(float(prec))
    fields = [("score", score, 3)]
    for col, decimals in (("rank", 0), ("distance_km", km_decimals)):
        if col in rows.columns:
            fields.append((col, pd.to_numeric(rows[col], errors="coerce").to_numpy(dtype=float), decimals))
    return {
        "n": len(rows), "scale": scale, "radius": 3, "colors": colours, "title": "Ứng viên / Candidate",
        "lon": b64(np.round(xy[:, 0] * scale), "i4"), "lat": b64(np.round(xy[:, 1] * scale), "i4"),
        "cls": b64(cls, "u1"),
        "fields": [f for f, _, _ in fields], "decimals": [d for _, _, d in fields],
        "labels": [_html.escape(st.column_label(f)) for f, _, _ in fields],
        "values": [b64(v, "f4") for _, v, _ in fields],
    }  # fmt: skip


def add_candidates(m: folium.Map, c: gpd.GeoDataFrame, legend: Legend) -> None:
    rows, score = _candidate_points(c)
    cls, bins = classify(score, k=5, scheme="quantiles")
    colours = palette(st.CANDIDATE, len(bins))
    data = candidate_data(rows, score, cls, colours)
    name = f"Điểm ứng viên / Scored candidates ({fmt_number(len(rows))})"
    add_layer(m, "candidates", name, data, n=len(rows), fn="cloud")
    counts = [int((cls == i).sum()) for i in range(len(bins))]
    texts = classes_text(bins, float(score.min()) if score.size else 0.0, counts)
    legend.append(legend_block("Điểm ứng viên / Candidate score", [
        "<div>ngũ phân vị / quantiles</div>",
        *(legend_row(swatch_point(col, 4, "none"), t) for col, t in zip(colours, texts, strict=True)),
    ]))  # fmt: skip


# --------------------------------------------------------------------------------------------------------
# Sites (and their position regions, issue #14)

SITE_COLS = [
    "site_id", "name", "kind", "phase", "status", "area_ha", "district", "commune_2025", "precision_m",
    "location_method", "within_buffer", "p_within", "distance_km", "nearest_corridor", "uncertainty_m",
]  # fmt: skip
_PER_CORRIDOR = re.compile(r"^(verdict|dmin|dmax)_(.+?)(_km)?$")


def site_radius(rec: Mapping[str, Any]) -> float:
    area = rec.get("area_ha")
    try:
        a = float(area)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 5.0
    if not math.isfinite(a) or a <= 0:
        return 5.0
    return float(min(16.0, max(4.0, 2.5 + 0.55 * math.sqrt(a))))


def corridor_ids(columns: Iterable[str]) -> list[str]:
    """Corridor IDs that have per-corridor columns (``verdict_<ID>``, ``dmin_<ID>_km``, ``dmax_<ID>_km``)."""
    ids = [m.group(2) for c in columns if (m := _PER_CORRIDOR.match(str(c))) and m.group(1) == "verdict"]
    return list(dict.fromkeys(ids))


def _per_corridor_rows(rec: Mapping[str, Any], ids: Sequence[str]) -> list[tuple[str, str]]:
    rows = []
    p = precision_of(rec)
    for cid in ids:
        text = esc(st.verdict(rec.get(f"verdict_{cid}")).label)
        lo, hi = rec.get(f"dmin_{cid}_km"), rec.get(f"dmax_{cid}_km")
        if not (is_missing(lo) and is_missing(hi)):
            text += f" ({esc(fmt_km(lo, p))}–{esc(fmt_km(hi, p))} km)"
        rows.append((esc(st.column_label(f"verdict_{cid}")), text))
    return rows


def site_popup(rec: Mapping[str, Any], cols: Sequence[str], ids: Sequence[str]) -> str:
    rows = [(_html.escape(st.column_label(c)), _cell(c, rec[c], rec)) for c in cols if c in rec]
    return table(name_of(rec, "name", "site_id"), rows + _per_corridor_rows(rec, ids))


def site_tip(rec: Mapping[str, Any]) -> str:
    extra = f"<br>{esc(st.verdict(rec.get('within_buffer')).label)}" if "within_buffer" in rec else ""
    area_txt = f" – {esc(rec.get('area_ha'))} ha" if not is_missing(rec.get("area_ha")) else ""
    return f"<b>{name_of(rec, 'name', 'site_id')}</b><br>{esc(st.site_kind(rec.get('kind')).label)}{area_txt}{extra}"


def _site_styles(swatches: Sequence[st.Swatch]) -> list[dict[str, Any]]:
    return [{"color": "#222", "weight": 1, "fillColor": s.colour, "fillOpacity": 0.85, "bubblingMouseEvents": False}
            for s in swatches]  # fmt: skip


def _kinds() -> list[st.Swatch]:
    return [*st.SITE_KIND.values(), st.SITE_KIND_OTHER]


def _verdicts() -> list[st.Swatch]:
    return [*st.VERDICT.values(), st.VERDICT_NONE]


def add_sites(m: folium.Map, s: gpd.GeoDataFrame, legend: Legend) -> None:
    # Large sites first so small ones stay clickable on top.
    area = pd.to_numeric(s["area_ha"], errors="coerce") if "area_ha" in s.columns else pd.Series(0.0, index=s.index)
    s = s.iloc[np.argsort(-area.fillna(0).to_numpy(), kind="stable")]
    cols, ids = [c for c in SITE_COLS if c in s.columns], corridor_ids(s.columns)
    kinds, verdicts = _kinds(), _verdicts()

    def extra(r: Mapping[str, Any]) -> dict[str, Any]:
        return {"r": round(site_radius(r), 1), "n": plain(r, "name", "site_id")}

    def build(style: Callable[[Mapping[str, Any]], int], styles: list[dict[str, Any]]) -> dict[str, Any]:
        return collection(s, style=style, styles=styles, tip=site_tip, pop=lambda r: site_popup(r, cols, ids),
                          extra=extra)  # fmt: skip

    if "region" in s.columns:
        add_regions(m, s, cols, ids, legend)
    name = "Khu/cụm công nghiệp theo loại / Sites by kind"
    add_layer(m, "sites", name, build(lambda r: kinds.index(st.site_kind(r.get("kind"))), _site_styles(kinds)))
    rows = [legend_row(swatch_point(k.colour, 6), esc(k.label)) for k in kinds]
    rows.append(legend_row(swatch_point("#fff", 4) + swatch_point("#fff", 9), "cỡ theo diện tích / size by area (ha)"))
    legend.append(legend_block(name, rows))
    if "within_buffer" in s.columns:
        vname = "Khu/cụm theo kết luận / Sites by rule verdict"
        fc = build(lambda r: verdicts.index(st.verdict(r.get("within_buffer"))), _site_styles(verdicts))
        add_layer(m, "sites_verdict", vname, fc, show=False)
        legend.append(legend_block(vname, [legend_row(swatch_point(v.colour, 6), esc(v.label)) for v in verdicts]))


def add_regions(m: folium.Map, s: gpd.GeoDataFrame, cols: Sequence[str], ids: Sequence[str], legend: Legend) -> None:
    """The region each site must lie in (issue #14): outlines, coloured by kind, dashed, no fill."""
    kinds = _kinds()
    styles = [{"color": k.colour, "weight": 2, "dashArray": "6 4", "fill": True, "fillOpacity": 0.04,
               "bubblingMouseEvents": False} for k in kinds]  # fmt: skip
    fc = collection(
        s, style=lambda r: kinds.index(st.site_kind(r.get("kind"))), styles=styles,
        tip=lambda r: f"{site_tip(r)}<br>vùng vị trí / position region",
        pop=lambda r: site_popup(r, cols, ids), geometry="region",
    )  # fmt: skip
    name = "Vùng vị trí khu/cụm / Site position regions"
    add_layer(m, "regions", name, fc)
    text = "khu/cụm nằm trong vùng này / the site lies in this region"
    legend.append(legend_block(name, [legend_row(swatch_fill("#fff", "#333", "6 4", 0.0), text)]))


# --------------------------------------------------------------------------------------------------------
# Surface


def png_rgba(rgba: np.ndarray) -> bytes:
    """Encode an (h, w, 4) uint8 array as PNG (no imaging library needed)."""
    h, w, _ = rgba.shape
    raw = np.concatenate([np.zeros((h, 1), dtype=np.uint8), rgba.reshape(h, w * 4)], axis=1).tobytes()

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def surface_spec(surface: object) -> Mapping[str, Any]:
    """A surface as a mapping: given as one, or as an object with ``score``, ``bounds`` and ``crs``
    (:class:`vpgeo.surface.Surface`)."""
    if isinstance(surface, Mapping):
        return surface
    if all(hasattr(surface, a) for a in ("score", "bounds", "crs")):
        return {"values": surface.score, "bounds": surface.bounds, "crs": surface.crs}  # type: ignore[attr-defined]
    raise InputError(
        f"surface must be a mapping or a vpgeo.surface.Surface, got {type(surface).__name__}", field="surface"
    )


def surface_image(surface: Mapping[str, Any]) -> tuple[str, list[list[float]], float, float]:
    """Render a grid as a PNG data URL on WGS 84 bounds; returns (url, [[s, w], [n, e]], vmin, vmax)."""
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
    stops = np.array([[int(c[i : i + 2], 16) for i in (1, 3, 5)] for c in st.SURFACE], dtype=float)
    pos = np.linspace(0, 1, len(stops))
    rgba = np.zeros((h, w, 4), dtype=np.uint8)
    for ch in range(3):
        rgba[..., ch] = np.interp(t, pos, stops[:, ch]).round().astype(np.uint8)
    rgba[..., 3] = np.where(finite, 255, 0)
    url = "data:image/png;base64," + base64.b64encode(png_rgba(rgba)).decode("ascii")
    return url, [[miny, minx], [maxy, maxx]], vmin, vmax


def add_surface(m: folium.Map, surface: object, legend: Legend) -> None:
    spec = surface_spec(surface)
    url, bounds, vmin, vmax = surface_image(spec)
    label = esc(spec.get("label", "Bề mặt điểm / Score surface"))
    _lf.ImageOverlay(image=url, bounds=bounds, opacity=0.55, name=label).add_to(m)
    n = len(st.SURFACE) - 1
    ramp = "".join(f'<stop offset="{i / n:.3f}" stop-color="{c}"/>' for i, c in enumerate(st.SURFACE))
    legend.append(
        f"<h4>{label}</h4>"
        f'<div class="row"><svg width="120" height="12"><defs><linearGradient id="vpg">{ramp}</linearGradient>'
        f'</defs><rect width="120" height="12" fill="url(#vpg)"/></svg><span>{esc(vmin)} – {esc(vmax)}</span></div>'
    )
