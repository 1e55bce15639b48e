"""A province-wide suitability surface: every grid cell scored like a candidate site.

The grid is in EPSG:5897 (VN-2000 / TM-3 105°00′, metres). Corridors are burned into the grid (sampled every
``resolution_m / 20`` along the line) and :func:`scipy.ndimage.distance_transform_edt` gives each cell
centre the distance to the nearest burned cell centre. That distance differs from the exact distance to the
line by at most half a cell diagonal plus half the sampling step (``resolution_m · (√2/2 + 1/40)``, 0.73
cell): :attr:`Surface.max_error_m`. Use :func:`vpgeo.scoring.score_candidates` on cell centres where exact
values matter.

The grid covers the province outline (the union of :func:`vpgeo.boundaries.load_districts`, approximate
shipped boundaries) and cells outside it are NaN; without the boundaries module, or with ``bounds`` given,
the rectangle is scored unmasked. The distance transform runs over the grid extended by ``max_km`` so that
corridors just outside the province (Ring Road 4 lies in Hà Nội) count; beyond ``max_km`` every decay is 0,
so ``distance_km`` there is reported as ``inf``.

Examples
--------
>>> import geopandas as gpd
>>> from shapely.geometry import LineString
>>> road = gpd.GeoDataFrame({"corridor_id": ["A"]}, geometry=[LineString([(0, 250), (10000, 250)])],
...                         crs="EPSG:5897")
>>> s = suitability_surface(resolution_m=500, corridors=road, bounds=(0, 0, 10000, 6000), max_km=5)
>>> s.score.shape, s.transform
((12, 20), (500.0, 0.0, 0.0, 0.0, -500.0, 6000.0))
>>> float(s.distance_km[-3, 3]), round(float(s.score[-3, 3]), 3)  # a cell centre 1 km from the road
(1.0, 0.8)
"""

from __future__ import annotations

import base64
import math
import struct
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from pyproj import CRS, Transformer
from scipy import ndimage

from vpgeo.crs import METRIC, to_metric
from vpgeo.errors import InputError
from vpgeo.scoring import Decay, _check_params, _resolve_weights, decay_score, prepare_corridors

__all__ = ["Surface", "suitability_surface"]

_SAMPLE = 20  # samples per cell along the lines


@dataclass(repr=False)
class Surface:
    """A scored grid in EPSG:5897.

    Attributes
    ----------
    score : ndarray of float32, shape (rows, cols)
        Score in [0, 1]; NaN outside the mask. Row 0 is the northern edge.
    distance_km : ndarray of float32
        Distance to the nearest corridor (``inf`` beyond ``max_km``).
    transform : tuple of 6 floats
        GDAL affine ``(a, b, c, d, e, f)``: ``x = c + col·a``, ``y = f + row·e`` at the cell's upper-left
        corner (``a`` = resolution, ``e`` = −resolution).
    crs : str
        ``"EPSG:5897"``.
    max_error_m : float
        Bound of ``distance_km`` error from the distance transform, in metres.
    """

    score: NDArray[np.float32]
    distance_km: NDArray[np.float32]
    transform: tuple[float, float, float, float, float, float]
    crs: str = METRIC
    max_error_m: float = 0.0
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def resolution_m(self) -> float:
        """Cell size in metres."""
        return float(self.transform[0])

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(minx, miny, maxx, maxy)`` of the grid in EPSG:5897."""
        rows, cols = self.score.shape
        a, _, c, _, e, f = self.transform
        return (c, f + rows * e, c + cols * a, f)

    def cell_centres(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """x of each column's centre, y of each row's centre."""
        rows, cols = self.score.shape
        a, _, c, _, e, f = self.transform
        xs = np.asarray(c + (np.arange(cols) + 0.5) * a, dtype=np.float64)
        ys = np.asarray(f + (np.arange(rows) + 0.5) * e, dtype=np.float64)
        return xs, ys

    def to_asc(self, path: str | Path, *, layer: str = "score") -> Path:
        """Write an ESRI ASCII grid (``.asc``, no dependency) and its ``.prj``; NaN as -9999.

        Parameters
        ----------
        layer : {"score", "distance_km"}
        """
        data = self._layer(layer)
        rows, cols = data.shape
        minx, miny, _, _ = self.bounds
        p = Path(path)
        header = (
            f"ncols {cols}\nnrows {rows}\nxllcorner {minx:.3f}\nyllcorner {miny:.3f}\n"
            f"cellsize {self.resolution_m:.6g}\nNODATA_value -9999\n"
        )
        out = np.where(np.isfinite(data), data, -9999.0)
        with p.open("w", encoding="ascii") as fh:
            fh.write(header)
            np.savetxt(fh, out, fmt="%.5g")
        p.with_suffix(".prj").write_text(CRS.from_user_input(self.crs).to_wkt("WKT1_ESRI"), encoding="ascii")
        return p

    def to_npz(self, path: str | Path) -> Path:
        """Write both layers, the transform and the CRS to ``.npz``, plus a ``.wld`` world file beside it."""
        p = Path(path)
        np.savez_compressed(
            p,
            score=self.score,
            distance_km=self.distance_km,
            transform=np.array(self.transform),
            crs=np.array(self.crs),
        )
        a, b, c, d, e, f = self.transform
        # World files give the centre of the upper-left cell.
        wld = [a, d, b, e, c + a / 2 + b / 2, f + d / 2 + e / 2]
        p.with_suffix(".wld").write_text("\n".join(f"{v:.6f}" for v in wld) + "\n", encoding="ascii")
        return p

    def to_geotiff(self, path: str | Path, *, layer: str = "score") -> Path:
        """Write a GeoTIFF (needs rasterio; else use :meth:`to_asc` or :meth:`to_npz`)."""
        try:
            import rasterio
            from rasterio.transform import Affine
        except ImportError:
            raise InputError(
                "GeoTIFF export needs rasterio (pip install rasterio); to_asc() and to_npz() need nothing"
            ) from None
        data = self._layer(layer).astype(np.float32)
        a, b, c, d, e, f = self.transform
        with rasterio.open(
            Path(path),
            "w",
            driver="GTiff",
            height=data.shape[0],
            width=data.shape[1],
            count=1,
            dtype="float32",
            crs=self.crs,
            transform=Affine(a, b, c, d, e, f),
            nodata=np.nan,
            compress="deflate",
        ) as dst:
            dst.write(data, 1)
        return Path(path)

    def to_image(self, *, max_size: int = 1024) -> tuple[NDArray[np.uint8], list[list[float]]]:
        """An RGBA image resampled to longitude/latitude, and its ``[[south, west], [north, east]]`` bounds.

        For a web map overlay (e.g. ``folium.raster_layers.ImageOverlay(image, bounds)``); each pixel takes
        the nearest grid cell, so the TM-3 grid's rotation against the meridians is handled.
        """
        to_ll = Transformer.from_crs(self.crs, "EPSG:4326", always_xy=True)
        minx, miny, maxx, maxy = self.bounds
        lon, lat = to_ll.transform([minx, maxx, minx, maxx], [miny, miny, maxy, maxy])
        west, east, south, north = min(lon), max(lon), min(lat), max(lat)
        aspect = (north - south) / ((east - west) * math.cos(math.radians((north + south) / 2)))
        w = max_size if aspect <= 1 else max(1, int(max_size / aspect))
        h = max(1, int(w * aspect))
        glon, glat = np.meshgrid(
            west + (np.arange(w) + 0.5) * (east - west) / w, north - (np.arange(h) + 0.5) * (north - south) / h
        )
        x, y = Transformer.from_crs("EPSG:4326", self.crs, always_xy=True).transform(glon, glat)
        a, _, c, _, e, f = self.transform
        col = np.floor((x - c) / a).astype(np.intp)
        row = np.floor((y - f) / e).astype(np.intp)
        inside = (row >= 0) & (row < self.score.shape[0]) & (col >= 0) & (col < self.score.shape[1])
        v = np.full((h, w), np.nan, dtype=np.float32)
        v[inside] = self.score[row[inside], col[inside]]
        return _colour(v), [[south, west], [north, east]]

    def summary(self) -> dict[str, Any]:
        """The figures the notebook and ``repr`` show: size, coverage and the score distribution."""
        finite = self.score[np.isfinite(self.score)]
        rows, cols = self.score.shape
        return {
            "cells": f"{rows:,} × {cols:,} ({self.resolution_m:g} m)",
            "cells scored": int(finite.size),
            "score min / mean / max": (
                f"{finite.min():.3f} / {finite.mean():.3f} / {finite.max():.3f}" if finite.size else "—"
            ),
            "share scoring > 0": f"{(finite > 0).mean():.1%}" if finite.size else "—",
            "share scoring ≥ 0.5": f"{(finite >= 0.5).mean():.1%}" if finite.size else "—",
            "distance error bound": f"± {self.max_error_m:.0f} m",
            "corridors": ", ".join(str(c) for c in self.meta.get("corridors", [])),
            "decay": (
                f"{self.meta.get('decay')} (half {self.meta.get('half_distance_km')} km, "
                f"max {self.meta.get('max_km')} km)"
            ),
            "crs": self.crs,
        }

    def __repr__(self) -> str:
        info = self.summary()
        return (
            f"Surface({info['cells']}, {info['cells scored']:,} cells scored, score {info['score min / mean / max']})"
        )

    def _repr_html_(self) -> str:
        """A small table of the figures and a thumbnail of the score (for notebooks); text is escaped."""
        import html

        rows = "".join(
            f"<tr><th style='text-align:left'>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>"
            for k, v in self.summary().items()
        )
        thumb = base64.b64encode(_png(_colour(_thumbnail(self.score)))).decode("ascii")
        return (
            "<div style='display:flex;gap:1em;align-items:flex-start'>"
            f"<table><caption>Suitability surface</caption>{rows}</table>"
            f"<img alt='score thumbnail (pale: 0, dark red: 1)' src='data:image/png;base64,{thumb}'/></div>"
        )

    def _layer(self, layer: str) -> NDArray[np.float32]:
        if layer == "score":
            return self.score
        if layer == "distance_km":
            return self.distance_km
        raise InputError(f"unknown layer {layer!r}; use 'score' or 'distance_km'", field="layer")


def _thumbnail(v: NDArray[np.float32], size: int = 240) -> NDArray[np.float32]:
    """Every k-th cell so the longer side is at most ``size`` pixels."""
    step = max(1, math.ceil(max(v.shape) / size))
    out: NDArray[np.float32] = v[::step, ::step]
    return out


def _png(rgba: NDArray[np.uint8]) -> bytes:
    """A PNG file of an RGBA image (no dependency: zlib and the PNG chunk format)."""
    h, w = rgba.shape[:2]

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + rgba[r].tobytes() for r in range(h))  # filter type 0 per row
    header = struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b"")


def _colour(v: NDArray[np.float32]) -> NDArray[np.uint8]:
    """Score 0 → pale yellow, 1 → dark red; NaN transparent."""
    stops = np.array([[255, 255, 204], [254, 178, 76], [240, 59, 32], [128, 0, 38]], dtype=float)
    t = np.clip(np.nan_to_num(v, nan=0.0), 0, 1) * (len(stops) - 1)
    i = np.minimum(t.astype(int), len(stops) - 2)
    frac = (t - i)[..., None]
    rgb = stops[i] * (1 - frac) + stops[i + 1] * frac
    alpha = np.where(np.isnan(v), 0, 180)[..., None]
    return np.concatenate([rgb, alpha], axis=-1).astype(np.uint8)


def _outline() -> Any:
    """The province outline in EPSG:5897, or None when the boundaries module is unavailable."""
    try:
        from vpgeo.boundaries import load_districts

        districts = load_districts(source="approx")
    except Exception:  # the mask is optional: any failure means an unmasked rectangle
        return None
    return shapely.union_all(to_metric(districts, operation="suitability_surface", warn=False).geometry.to_numpy())


def _polygon_mask(geom: Any, x0: float, y_top: float, res: float, shape: tuple[int, int]) -> NDArray[np.bool_]:
    """Cells whose centre lies inside ``geom`` (even-odd scanline fill of all its rings)."""
    rows, cols = shape
    counts = np.zeros((rows, cols + 1), dtype=np.int32)
    for ring in shapely.get_rings(shapely.get_parts(geom)):
        xy = shapely.get_coordinates(ring)
        x1, y1, x2, y2 = xy[:-1, 0], xy[:-1, 1], xy[1:, 0], xy[1:, 1]
        # Rows whose centre y lies in [min(y1, y2), max(y1, y2)) for each edge.
        r_lo = np.ceil((y_top - np.maximum(y1, y2)) / res - 0.5).astype(np.int64)
        r_hi = np.ceil((y_top - np.minimum(y1, y2)) / res - 0.5).astype(np.int64)
        for k in np.flatnonzero(r_hi > r_lo):
            r = np.arange(max(r_lo[k], 0), min(r_hi[k], rows))
            if not r.size:
                continue
            yc = y_top - (r + 0.5) * res
            x = x1[k] + (yc - y1[k]) * (x2[k] - x1[k]) / (y2[k] - y1[k])
            c = np.clip(np.ceil((x - x0) / res - 0.5), 0, cols).astype(np.int64)  # first centre right of x
            np.add.at(counts, (r, c), 1)
    return (np.cumsum(counts, axis=1)[:, :cols] % 2).astype(bool)


def _burn(geom: Any, x0: float, y_top: float, res: float, shape: tuple[int, int]) -> NDArray[np.bool_]:
    """Cells containing a sample of the line (samples every ``res / _SAMPLE``)."""
    grid = np.zeros(shape, dtype=bool)
    dense = shapely.segmentize(geom, res / _SAMPLE)
    xy = shapely.get_coordinates(dense)
    col = np.floor((xy[:, 0] - x0) / res).astype(np.int64)
    row = np.floor((y_top - xy[:, 1]) / res).astype(np.int64)
    ok = (row >= 0) & (row < shape[0]) & (col >= 0) & (col < shape[1])
    grid[row[ok], col[ok]] = True
    return grid


def suitability_surface(
    *,
    resolution_m: float = 100.0,
    corridors: Any = None,
    decay: Decay = "linear",
    half_distance_km: float = 5.0,
    max_km: float = 10.0,
    weights: Mapping[str, float] | None = None,
    corridor_set: str | Sequence[str] | None = None,
    bounds: tuple[float, float, float, float] | None = None,
    mask: bool = True,
) -> Surface:
    """Score every cell of a grid by its distance to the corridors, as :func:`~vpgeo.scoring.score_candidates`.

    Parameters
    ----------
    resolution_m : float
        Cell size in metres (10 m gives ~12 million cells over the province, a few seconds).
    corridors, corridor_set, decay, half_distance_km, max_km, weights
        As in :func:`~vpgeo.scoring.score_candidates` (the ``"access"`` weight is not supported here).
    bounds : (minx, miny, maxx, maxy), optional
        Grid extent in EPSG:5897; default the province outline's bounds.
    mask : bool
        Set cells outside the province outline to NaN (when the outline is available and ``bounds`` is not
        given).

    Returns
    -------
    Surface
    """
    _check_params(half_distance_km, max_km)
    if not (isinstance(resolution_m, int | float) and math.isfinite(resolution_m) and resolution_m > 0):
        raise InputError(f"resolution_m must be a positive number, got {resolution_m!r}", field="resolution_m")
    if weights and "access" in weights:
        raise InputError("the 'access' weight is not supported by suitability_surface", field="weights")
    c = prepare_corridors(corridors, corridor_set, False)
    w, _ = _resolve_weights(weights, c)
    res = float(resolution_m)
    outline = _outline() if bounds is None else None
    if bounds is None:
        if outline is None:
            bounds = tuple(shapely.bounds(shapely.GeometryCollection(c.geoms)))  # type: ignore[assignment]
        else:
            bounds = tuple(shapely.bounds(outline))  # type: ignore[assignment]
    assert bounds is not None
    minx, miny, maxx, maxy = (float(v) for v in bounds)
    if not (maxx > minx and maxy > miny):
        raise InputError(f"bounds must be (minx, miny, maxx, maxy) with max > min, got {bounds!r}", field="bounds")
    x0, y_top = math.floor(minx / res) * res, math.ceil(maxy / res) * res
    cols, rows = math.ceil((maxx - x0) / res), math.ceil((y_top - miny) / res)
    if rows * cols > 400_000_000:
        raise InputError(f"{rows}×{cols} cells is too many; use a coarser resolution_m", field="resolution_m")
    # The distance transform runs over the grid plus a max_km margin (only where corridors lie).
    pad = math.ceil(max_km * 1000 / res) + 1
    near = shapely.clip_by_rect(
        shapely.GeometryCollection(c.geoms),
        x0 - pad * res,
        y_top - (rows + pad) * res,
        x0 + (cols + pad) * res,
        y_top + pad * res,
    )
    bx0, by0, bx1, by1 = shapely.bounds(near) if not near.is_empty else (x0, y_top, x0, y_top)
    left = 1 + max(0, math.ceil((x0 - bx0) / res))
    top = 1 + max(0, math.ceil((by1 - y_top) / res))
    right = 1 + max(0, math.ceil((bx1 - (x0 + cols * res)) / res))
    bottom = 1 + max(0, math.ceil(((y_top - rows * res) - by0) / res))
    ext_shape = (rows + top + bottom, cols + left + right)
    ex0, ey_top = x0 - left * res, y_top + top * res
    inner = (slice(top, top + rows), slice(left, left + cols))

    def distance_m(geom: Any) -> NDArray[np.float64]:
        burned = _burn(geom, ex0, ey_top, res, ext_shape)
        if not burned.any():
            return np.full((rows, cols), np.inf)
        d: NDArray[np.float64] = ndimage.distance_transform_edt(~burned, sampling=res)[inner]
        return d

    if np.all(w == w[0]):  # equal weights: the score only needs the nearest corridor
        nearest = distance_m(shapely.GeometryCollection(c.geoms))
        score = decay_score(nearest / 1000.0, decay=decay, half_distance_km=half_distance_km, max_km=max_km) * w[0]
    else:
        nearest = np.full((rows, cols), np.inf)
        score = np.zeros((rows, cols))
        for j, g in enumerate(c.geoms):
            d = distance_m(g)
            np.minimum(nearest, d, out=nearest)
            s = decay_score(d / 1000.0, decay=decay, half_distance_km=half_distance_km, max_km=max_km) * w[j]
            np.maximum(score, s, out=score)
    dist_km = (nearest / 1000.0).astype(np.float32)
    # Beyond max_km (+ the error bound) a corridor outside the margin could be nearer: not measured.
    max_error = res * (math.sqrt(2) / 2 + 0.5 / _SAMPLE)
    dist_km[dist_km * 1000.0 > max_km * 1000.0 + max_error] = np.inf
    out = score.astype(np.float32)
    masked = False
    if mask and outline is not None:
        inside = _polygon_mask(outline, x0, y_top, res, (rows, cols))
        out[~inside] = np.nan
        dist_km[~inside] = np.nan
        masked = True
    return Surface(
        out,
        dist_km,
        (res, 0.0, x0, 0.0, -res, y_top),
        METRIC,
        max_error,
        {
            "corridors": list(c.ids),
            "decay": decay if isinstance(decay, str) else "callable",
            "half_distance_km": half_distance_km,
            "max_km": max_km,
            "weights": dict(weights) if weights else None,
            "masked_to_province": masked,
        },
    )
