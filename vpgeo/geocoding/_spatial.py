"""Point and polygon placement in the boundary layers."""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any, cast

import geopandas as gpd
import numpy as np
import shapely

from vpgeo.crs import WGS84, to_metric
from vpgeo.errors import GeocodeError
from vpgeo.geocoding._schema import EMPTY_ROW
from vpgeo.text import nfc

# ----------------------------------------------------------------------------------- points & polygons


def _layers(source: str) -> dict[str, gpd.GeoDataFrame]:
    from vpgeo import boundaries as b  # lazy: name matching needs no polygons

    if source not in ("auto", "official", "approx"):
        raise GeocodeError(f"boundaries must be 'auto', 'official' or 'approx', not {source!r}")
    src = cast("b.Source", source)
    out = {
        "district": b.load_districts(source=src),
        # No official legacy commune polygons exist; the approximation is the only layer (its ``source`` says so).
        "commune": b.load_communes(vintage="legacy", source="approx" if src == "official" else src),
        "commune_2025": b.load_communes(vintage=2025, source=src),
    }
    return {k: (v.to_crs(WGS84) if v.crs is not None and not v.crs.equals(WGS84) else v) for k, v in out.items()}


def _place_geometries(geoms: gpd.GeoSeries, source: str) -> list[dict[str, Any]]:
    """Locate points and polygons (EPSG:4326) in the three boundary layers."""
    layers = _layers(source)
    n = len(geoms)
    out: list[dict[str, Any]] = [dict(EMPTY_ROW) for _ in range(n)]
    is_point = np.asarray(geoms.geom_type == "Point")
    pts = np.flatnonzero(is_point)
    polys = np.flatnonzero(~is_point)
    metric_pts = (
        to_metric(gpd.GeoSeries(geoms.to_numpy()[pts], crs=WGS84), operation="geocoding points", warn=False).to_numpy()
        if len(pts)
        else np.array([])
    )
    for col, gdf in layers.items():
        gdf = gdf.reset_index(drop=True)
        if len(pts):
            _place_points(geoms.to_numpy()[pts], metric_pts, [out[i] for i in pts], col, gdf)
        if len(polys):
            _place_polygons(geoms.to_numpy()[polys], [out[i] for i in polys], col, gdf)
    return _finish(geoms, out, is_point, polys, layers, pts)


def _place_points(
    g: np.ndarray, metric: np.ndarray, rows: list[dict[str, Any]], col: str, gdf: gpd.GeoDataFrame
) -> None:
    """Point in polygon; a point just outside every outline goes to the nearest unit within its precision."""
    tree = shapely.STRtree(gdf.geometry.to_numpy())
    pairs = tree.query(g, predicate="intersects")
    first: dict[int, int] = {}
    for a, b in zip(pairs[0], pairs[1], strict=True):
        first.setdefault(int(a), int(b))
    for a, b in first.items():
        _put(rows[a], col, gdf.iloc[b], 1.0)
    missing = [a for a in range(len(rows)) if a not in first]
    if not missing:
        return
    mg = to_metric(gdf, operation="nearest unit within precision", warn=False)
    polygonal = np.flatnonzero(np.asarray(mg.geom_type.isin(["Polygon", "MultiPolygon"])))
    if not len(polygonal):
        return
    mtree = shapely.STRtree(mg.geometry.to_numpy()[polygonal])
    near, dist = mtree.query_nearest(metric[missing], return_distance=True, all_matches=False)
    prec = _precisions(gdf)
    for a, b, d in zip(near[0], near[1], dist, strict=True):
        j = int(polygonal[b])
        if d <= prec[j]:
            row = rows[missing[int(a)]]
            _put(row, col, gdf.iloc[j], 1.0)
            note = (
                f"{d:.0f} m outside the {col.replace('_', ' ')} outline of {nfc(gdf.iloc[j]['name'])}, within its "
                f"precision ({prec[j]:.0f} m): the nearest unit"
            )
            row.setdefault("_notes", []).append(note)


def _precisions(gdf: gpd.GeoDataFrame) -> np.ndarray:
    if "precision_m" not in gdf.columns:
        return np.zeros(len(gdf))
    out: np.ndarray = np.nan_to_num(gdf["precision_m"].to_numpy(dtype=float), nan=0.0)
    return out


def _place_polygons(g: np.ndarray, rows: list[dict[str, Any]], col: str, gdf: gpd.GeoDataFrame) -> None:
    """Polygons go to the unit holding the largest share of their area (EPSG:5897)."""
    metric_layer = to_metric(gdf, operation="geocoding polygons by area share", warn=False)
    mpolys = to_metric(gpd.GeoSeries(g, crs=WGS84), operation="geocoding polygons by area share", warn=False)
    mtree = shapely.STRtree(metric_layer.geometry.to_numpy())
    pairs = mtree.query(mpolys.to_numpy(), predicate="intersects")
    areas = shapely.area(shapely.intersection(mpolys.to_numpy()[pairs[0]], metric_layer.geometry.to_numpy()[pairs[1]]))
    total = shapely.area(mpolys.to_numpy())
    by_poly: dict[int, list[tuple[float, int]]] = defaultdict(list)
    for a, b, ar in zip(pairs[0], pairs[1], areas, strict=True):
        if ar > 0:
            by_poly[int(a)].append((float(ar), int(b)))
    for a, row in enumerate(rows):
        parts = sorted(by_poly.get(a, []), reverse=True)
        tot = float(total[a]) or 1.0
        inside = sum(ar for ar, _ in parts) / tot
        row.setdefault("_inside", {})[col] = inside
        if not parts:
            continue
        best_share = parts[0][0] / tot
        if best_share >= 1 - inside:  # the outside part is not the largest share
            _put(row, col, gdf.iloc[parts[0][1]], best_share)
        shares = [(ar / tot, gdf.iloc[b]["name"]) for ar, b in parts if ar / tot >= 0.01]
        if inside < 0.99:
            shares.append((1 - inside, "outside"))
        if len(shares) > 1:
            text = ", ".join(f"{nm} {sh:.0%}" for sh, nm in shares)
            row["shares"] = f"{row['shares']}; {col}: {text}" if row["shares"] else f"{col}: {text}"


def _finish(
    geoms: gpd.GeoSeries,
    out: list[dict[str, Any]],
    is_point: np.ndarray,
    polys: np.ndarray,
    layers: dict[str, gpd.GeoDataFrame],
    pts: np.ndarray,
) -> list[dict[str, Any]]:
    """Status, point, precision, source and notes of every placed row."""
    centroids = _centroids(geoms, polys)
    for i, row in enumerate(out):
        g = geoms.iloc[i]
        row["lon"], row["lat"] = (float(g.x), float(g.y)) if is_point[i] else centroids.get(i, (math.nan, math.nan))
        _status(row, row.pop("_inside", None))
        notes = row.pop("_notes", [])
        # Layers are read independently (and may come from different sources): say when they disagree.
        cd = row.pop("_commune_district", None)
        if cd is not None and row["district"] is not None and cd[0] != row["district_code"]:
            notes.append(f"the commune layer puts it in {cd[1]}, the district layer in {row['district']}")
        if notes:
            row["match_note"] = "; ".join([*([row["match_note"]] if row["match_note"] else []), *notes])
        srcs = row.pop("_src", [])
        row["boundary_source"] = "; ".join(srcs) if srcs else None
    if len(pts):
        _near_boundary_notes(geoms, pts, out, layers)
    return out


def _status(row: dict[str, Any], inside: dict[str, float] | None) -> None:
    precs = [p for p in row.pop("_prec", []) if p == p]
    if row["district"] is None:
        row["match_status"] = "outside"
        row["match_note"] = "outside the province's districts, farther than the outlines' precision"
        if inside is not None:
            row["match_note"] += f" ({inside.get('district', 0):.0%} of the area inside)"
        return
    row["match_status"] = "exact"
    row["match_score"] = 1.0
    row["precision_m"] = max(precs) if precs else math.nan
    missing = [c for c in ("commune", "commune_2025") if row[c] is None]
    if missing:
        row["match_note"] = f"no {' or '.join(missing)} polygon covers it"


def _put(row: dict[str, Any], col: str, unit: Any, share: float) -> None:
    name = nfc(unit.get("name"))
    code = unit.get("code")
    row[col] = name or None
    row[f"{col}_code"] = None if code is None or code != code else str(code)
    if col == "commune" and unit.get("district_code") is not None:
        row["_commune_district"] = (str(unit.get("district_code")), nfc(unit.get("district")))
    prec = unit.get("precision_m")
    row.setdefault("_prec", []).append(float(prec) if prec is not None and prec == prec else math.nan)
    row.setdefault("_src", []).append(f"{col}: {unit.get('source', 'unknown')}")


def _centroids(geoms: gpd.GeoSeries, polys: np.ndarray) -> dict[int, tuple[float, float]]:
    if not len(polys):
        return {}
    m = to_metric(gpd.GeoSeries(geoms.to_numpy()[polys], crs=WGS84), operation="polygon centroid", warn=False)
    c = m.centroid.to_crs(WGS84)
    return {int(i): (float(p.x), float(p.y)) for i, p in zip(polys, c, strict=True)}


def _near_boundary_notes(
    geoms: gpd.GeoSeries, pts: np.ndarray, out: list[dict[str, Any]], layers: dict[str, gpd.GeoDataFrame]
) -> None:
    """Note points inside their unit but closer to its edge than the outline's measured error."""
    metric_pts = to_metric(
        gpd.GeoSeries(geoms.to_numpy()[pts], crs=WGS84), operation="boundary margin", warn=False
    ).to_numpy()
    for col, gdf in layers.items():
        if "code" not in gdf.columns:
            continue
        mg = to_metric(gdf, operation="boundary margin", warn=False)
        by_code = dict(zip(mg["code"].astype(str), zip(mg.geometry, _precisions(mg), strict=True), strict=True))
        for k, i in enumerate(pts):
            code = out[i].get(f"{col}_code")
            if code is None or code not in by_code:
                continue
            poly, prec = by_code[code]
            if prec <= 0 or not shapely.intersects(poly, metric_pts[k]):
                continue  # placed as the nearest unit: its note says so already
            d = float(shapely.distance(metric_pts[k], poly.boundary))
            if d < prec:
                note = f"{d:.0f} m from the {col.replace('_', ' ')} boundary (precision {prec:.0f} m)"
                out[i]["match_note"] = f"{out[i]['match_note']}; {note}" if out[i]["match_note"] else note
