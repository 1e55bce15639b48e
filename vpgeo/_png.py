"""The static PNG renderer behind :func:`vpgeo.maps.save_png` (matplotlib Agg, no pyplot, no browser).

Drawn in EPSG:5897 kilometres, with the colours and bilingual texts of :mod:`vpgeo._style`. User text is
printed literally: every Text is created with ``parse_math=False`` and ``usetex=False``, so a name with
``$...$`` is not read as mathtext or TeX.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from vpgeo import _layers as _ly
from vpgeo import _style as st
from vpgeo._format import is_missing
from vpgeo._output import atomic_write
from vpgeo.crs import to_metric
from vpgeo.errors import InputError

LITERAL: dict[str, Any] = {"parse_math": False, "usetex": False}  # user text is text, never math
_MPL_DASH: dict[str, Any] = {"built": "-", "under_construction": (0, (6, 3)), "planned": (0, (1, 2.5))}


@dataclass
class _Canvas:
    """What the layer painters share: the axes, legend handles and the labels to place at the end."""

    fig: Any
    ax: Any
    handles: list[Any] = field(default_factory=list)
    fixed: list[tuple[float, float, str]] = field(default_factory=list)
    optional: list[tuple[float, float, str, float]] = field(default_factory=list)


def draw_polys(ax: Any, geoms: Iterable[Any], **kw: Any) -> None:
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path as MPath

    for g in geoms:
        if g is None or g.is_empty:
            continue
        for p in getattr(g, "geoms", [g]):
            if p.geom_type != "Polygon":
                continue
            rings = [p.exterior, *p.interiors]
            path = MPath.make_compound_path(*(MPath(np.asarray(r.coords)[:, :2] / 1000.0, closed=True) for r in rings))
            ax.add_patch(PathPatch(path, **kw))


def draw_lines(ax: Any, g: Any, **kw: Any) -> None:
    if g is None or g.is_empty:
        return
    for part in getattr(g, "geoms", [g]):
        if part.geom_type == "LineString":
            xy = np.asarray(part.coords)[:, :2] / 1000.0
            ax.plot(xy[:, 0], xy[:, 1], **kw)


def short(value: object, limit: int = 34) -> str:
    """A label for print: at most ``limit`` characters (printed literally, see LITERAL)."""
    text = _ly.display(value)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _line(**kw: Any) -> Any:
    from matplotlib.lines import Line2D

    return Line2D([], [], **kw)


# --------------------------------------------------------------------------------------------------------
# Layers


def _districts(cv: _Canvas, d: gpd.GeoDataFrame) -> None:
    src = d["source"] if "source" in d.columns else pd.Series(["?"] * len(d), index=d.index)
    official = src.astype(str).str.strip().str.lower().eq("official").to_numpy()
    for geom, ok in zip(d.geometry, official, strict=True):
        draw_polys(cv.ax, [geom], facecolor="#f7f7f2", edgecolor="#444" if ok else "#777", linewidth=1.2,
                   linestyle="-" if ok else (0, (5, 3)), zorder=1)  # fmt: skip
    label_col = "short" if "short" in d.columns else "name" if "name" in d.columns else None
    if label_col:
        for geom, lbl in zip(d.geometry, d[label_col], strict=True):
            if geom is not None and not geom.is_empty and not is_missing(lbl):
                p = geom.representative_point()
                cv.fixed.append((p.x / 1000, p.y / 1000, str(lbl)))
    if official.any():
        cv.handles.append(_line(color="#444", lw=1.2, label="Huyện / District (official)"))
    if not official.all():
        cv.handles.append(_line(color="#777", lw=1.2, ls=(0, (5, 3)), label="Huyện / District (approximate)"))


def _rings(cv: _Canvas, r: gpd.GeoDataFrame) -> None:
    from matplotlib.patches import Patch

    order = _ly.ring_order(r)
    for geom, i in zip(r.geometry, order, strict=True):
        colour = st.band_colour(int(i))
        draw_polys(cv.ax, [geom], facecolor=colour, edgecolor=colour, alpha=0.25, linewidth=0.8, zorder=2)
    seen = r.assign(_o=order.to_numpy()).drop_duplicates("_o").sort_values("_o")
    for rec in seen.drop(columns=seen.geometry.name).to_dict("records"):
        label = _ly.plain(rec, "band") or f"{_ly.display(rec.get('inner_km'))}–{_ly.display(rec.get('outer_km'))} km"
        cv.handles.append(Patch(facecolor=st.band_colour(int(rec["_o"])), alpha=0.4, label=f"Dải / Band {label}"))


def _corridors(cv: _Canvas, c: gpd.GeoDataFrame) -> None:
    from matplotlib.patches import Patch

    bands = _ly.corridor_bands(c)
    if bands is not None:  # the position uncertainty band, as on the interactive map
        metric = to_metric(bands, operation="save_png(corridors=...)", warn=False)
        for kind, geom in zip(metric.get("kind", pd.Series([None] * len(metric))), metric.geometry, strict=True):
            draw_polys(cv.ax, [geom], facecolor=st.corridor_kind(kind).colour, edgecolor="none", alpha=0.08,
                       zorder=2.5)  # fmt: skip
        cv.handles.append(Patch(facecolor="#444", alpha=0.12, label="Dải sai số vị trí / Position uncertainty"))
    kinds = c["kind"] if "kind" in c.columns else pd.Series([None] * len(c), index=c.index)
    status = c["status"] if "status" in c.columns else pd.Series([None] * len(c), index=c.index)
    for kind, stat, geom in zip(kinds, status, c.geometry, strict=True):
        draw_lines(cv.ax, geom, color=st.corridor_kind(kind).colour, lw=2.2,
                   ls=_MPL_DASH.get(_ly.status_key(stat), (0, (3, 3))), solid_capstyle="round", zorder=3)  # fmt: skip
    for swatch in st.CORRIDOR_KIND.values():
        cv.handles.append(_line(color=swatch.colour, lw=2.2, label=swatch.label))
    for key, ls in _MPL_DASH.items():
        cv.handles.append(_line(color="#444", lw=2.2, ls=ls, label=st.STATUS[key][1]))


def _regions(cv: _Canvas, s: gpd.GeoDataFrame) -> None:
    region = gpd.GeoSeries(np.asarray(s["region"], dtype=object), crs=s.crs, index=s.index)
    has = ~(region.isna() | region.is_empty)
    if not has.any():
        return
    kinds = s["kind"] if "kind" in s.columns else pd.Series([None] * len(s), index=s.index)
    for kind, geom in zip(kinds[has], region[has], strict=True):
        draw_polys(cv.ax, [geom], facecolor="none", edgecolor=st.site_kind(kind).colour, linewidth=1.4,
                   linestyle=(0, (4, 2.5)), zorder=4)  # fmt: skip
    cv.handles.append(_line(color="#333", lw=1.4, ls=(0, (4, 2.5)), label="Vùng vị trí / Position region"))


def _sites(cv: _Canvas, s: gpd.GeoDataFrame) -> None:
    if "region" in s.columns:
        _regions(cv, s)
    s = s[~(s.geometry.isna() | s.geometry.is_empty)]
    pts = s.geometry.representative_point()
    recs = s.drop(columns=[c for c in (s.geometry.name, "region") if c in s.columns]).to_dict("records")
    sizes = np.array([(_ly.site_radius(r) * 1.6) ** 2 for r in recs])
    has_verdict = "within_buffer" in s.columns
    edges = [st.verdict(r.get("within_buffer")).colour if has_verdict else "#222" for r in recs]
    cv.ax.scatter(pts.x / 1000, pts.y / 1000, s=sizes, c=[st.site_kind(r.get("kind")).colour for r in recs],
                  edgecolors=edges, linewidths=2.2 if has_verdict else 0.7, alpha=0.85, zorder=5)  # fmt: skip
    # Labels of the biggest sites first; a label that would hide another is left out (counted).
    for i in np.argsort(-sizes, kind="stable"):
        name = _ly.plain(recs[i], "name", "site_id")
        cv.optional.append((float(pts.x.iloc[i]) / 1000, float(pts.y.iloc[i]) / 1000, short(name),
                            math.sqrt(sizes[i]) / 2))  # fmt: skip
    for swatch in [*st.SITE_KIND.values(), st.SITE_KIND_OTHER]:
        cv.handles.append(_line(marker="o", ls="", markerfacecolor=swatch.colour, markeredgecolor="#222",
                                markersize=8, label=swatch.label))  # fmt: skip
    if has_verdict:
        for swatch in [*st.VERDICT.values(), st.VERDICT_NONE]:
            cv.handles.append(_line(marker="o", ls="", markerfacecolor="white", markeredgecolor=swatch.colour,
                                    markeredgewidth=2.2, markersize=8, label=swatch.label))  # fmt: skip


# --------------------------------------------------------------------------------------------------------
# Labels, frame, output


def _fits(bb: Any, frame: Any, occupied: list[Any], own: Any) -> bool:
    inside = frame.x0 <= bb.x0 and bb.x1 <= frame.x1 and frame.y0 <= bb.y0 and bb.y1 <= frame.y1
    return inside and not any(bb.overlaps(o) and not o.overlaps(own) for o in occupied)


def _try_place(cv: _Canvas, renderer: Any, frame: Any, occupied: list[Any], item: tuple[float, float, str, float],
               halo: list[Any]) -> bool:  # fmt: skip
    from matplotlib.transforms import Bbox

    x, y, text, r_pt = item
    g = r_pt + 1.5
    own = Bbox.from_extents(*(np.array(cv.ax.transData.transform((x, y))).tolist() * 2))
    for dx, dy, ha, va in ((g, 1, "left", "bottom"), (g, -1, "left", "top"), (-g, 1, "right", "bottom"),
                           (-g, -1, "right", "top")):  # fmt: skip
        t = cv.ax.annotate(text, (x, y), xytext=(dx, dy), textcoords="offset points", ha=ha, va=va, fontsize=6.5,
                           color="#222", path_effects=halo, zorder=8, **LITERAL)  # fmt: skip
        bb = t.get_window_extent(renderer)
        if _fits(bb, frame, occupied, own):
            occupied.append(bb)
            return True
        t.remove()
    return False


def place_labels(cv: _Canvas) -> int:
    """Draw district names, then site names where they hide nothing; return how many site names were left out."""
    from matplotlib import patheffects
    from matplotlib.transforms import Bbox

    renderer = cv.fig.canvas.get_renderer()
    cv.ax.apply_aspect()  # the equal-aspect box is only settled at draw time; label positions need it now
    frame = cv.ax.get_window_extent(renderer)
    px = cv.fig.dpi / 72.0
    occupied = []
    for x, y, _, r_pt in cv.optional:
        cx, cy = cv.ax.transData.transform((x, y))
        occupied.append(Bbox.from_extents(cx - r_pt * px, cy - r_pt * px, cx + r_pt * px, cy + r_pt * px))
    for x, y, text in cv.fixed:
        t = cv.ax.annotate(text, (x, y), ha="center", va="center", fontsize=9, color="#555", style="italic", zorder=6,
                           **LITERAL)  # fmt: skip
        occupied.append(t.get_window_extent(renderer))
    halo = [patheffects.withStroke(linewidth=2.2, foreground="white")]
    return sum(not _try_place(cv, renderer, frame, occupied, item, halo) for item in cv.optional)


def _frame(cv: _Canvas) -> None:
    ax = cv.ax
    ax.set_aspect("equal")
    ax.autoscale_view()
    ax.margins(0.03)
    ax.set_xlabel("x (km), EPSG:5897 VN-2000 / TM-3 105°00′")
    ax.set_ylabel("y (km)")
    ax.tick_params(labelsize=8)
    ax.grid(True, color="#ddd", lw=0.5, zorder=0)
    # Scale bar: 10 km (5 or 1 km on small extents) in the lower left.
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    bar = 10 if (x1 - x0) > 30 else 5 if (x1 - x0) > 8 else 1
    bx, by = x0 + 0.04 * (x1 - x0), y0 + 0.04 * (y1 - y0)
    ax.plot([bx, bx + bar], [by, by], color="black", lw=3, solid_capstyle="butt", zorder=7)
    ax.annotate(f"{bar} km", (bx + bar / 2, by), xytext=(0, 4), textcoords="offset points", ha="center", fontsize=9,
                zorder=7)  # fmt: skip
    ax.annotate("N ↑", (0.97, 0.96), xycoords="axes fraction", ha="right", va="top", fontsize=12, weight="bold")


def draw(
    *,
    sites: gpd.GeoDataFrame | None,
    corridors: gpd.GeoDataFrame | None,
    districts: gpd.GeoDataFrame | None,
    rings: gpd.GeoDataFrame | None,
    title: str | None,
    dpi: int,
) -> Any:
    """The matplotlib Figure of the map (Agg canvas attached), not yet saved."""  # fmt: skip
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 8), dpi=dpi)
    FigureCanvasAgg(fig)
    cv = _Canvas(fig, fig.add_subplot())
    painters = {"districts": _districts, "rings": _rings, "corridors": _corridors, "sites": _sites}
    for arg, gdf in (("districts", districts), ("rings", rings), ("corridors", corridors), ("sites", sites)):
        if gdf is not None:
            prepared, _ = _ly.prepare(gdf, arg)
            metric = to_metric(prepared, operation=f"save_png({arg}=...)", warn=False)
            if "region" in prepared.columns:
                region = gpd.GeoSeries(np.asarray(prepared["region"], dtype=object), crs=4326, index=prepared.index)
                metric = metric.assign(region=region.to_crs(metric.crs).to_numpy())
            painters[arg](cv, metric)
    _frame(cv)
    _finish(cv, place_labels(cv), title)
    return fig


def _finish(cv: _Canvas, hidden: int, title: str | None) -> None:
    if hidden:
        cv.ax.annotate(f"{hidden} nhãn bị ẩn do chồng lấn / {hidden} labels hidden where they would overlap",
                       (0.99, 0.01), xycoords="axes fraction", ha="right", va="bottom", fontsize=7,
                       color="#555")  # fmt: skip
    if title:
        cv.ax.set_title(title, fontsize=14, weight="bold", pad=10, **LITERAL)
    if cv.handles:
        leg = cv.ax.legend(handles=cv.handles, loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8.5,
                           frameon=False, borderaxespad=0.0)  # fmt: skip
        for text in leg.get_texts():
            text.set_parse_math(False)


def render(path: Path, *, dpi: int, **layers: Any) -> Path:
    """Draw the map (see :func:`draw`) and write it to ``path`` as PNG."""
    fig = draw(dpi=dpi, **layers)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=dpi, bbox_inches="tight", pad_inches=0.25))
    except OSError as exc:
        raise InputError(f"cannot write the PNG: {exc.strerror}", path=str(path)) from None
    return path
