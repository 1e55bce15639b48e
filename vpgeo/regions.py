"""Where a site must lie: its position as a region, and distance intervals from regions to corridors.

A site is rarely known as a point. The facts say "in commune X", "in district Y", or give an unverified
point; :func:`site_regions` turns that into the region the site must lie in (metric work in EPSG:5897):

- a surveyed, published or user point → the disc of its ``precision_m`` about the point;
- a user polygon → the polygon;
- "in commune(s) X" → the union of those communes: each legacy commune lies inside its 2025 commune, so the
  region is the 2025 commune widened by its ``precision_m``, intersected with the legacy approximation
  widened by its ``precision_m`` (the shipped one is measured to contain an independent polygon of the
  commune, see ``intersect_legacy``); a 2025 commune alone → that commune widened;
- a district only → the district widened by its ``precision_m``; nothing → the province (all districts).

Each site keeps a best point inside its region (for display and scoring) and ``precision_m`` becomes the
region's radius about that point, so the disc of ``precision_m`` about the point contains the region: it
bounds the truth by construction.

:func:`distance_intervals` gives, for each region and corridor, the interval ``[dmin, dmax]`` its true
distance lies in, widened by each section's precision: ``dmin = min_s max(0, d(R, s) - p_s)`` and ``dmax`` =
the smallest ``r`` such that the region is covered by the union of the sections' buffers of ``r - p_s``
(found by bisection to :data:`DMAX_TOLERANCE_M`, always rounded up, and exact at the buffer asked for).

Examples
--------
>>> import geopandas as gpd
>>> from shapely.geometry import LineString, Point
>>> line = gpd.GeoDataFrame({"corridor_id": ["A"], "precision_m": [100.0]}, crs="EPSG:5897",
...                         geometry=[LineString([(500000, 2350000), (510000, 2350000)])])
>>> disc = gpd.GeoSeries([Point(505000, 2353000).buffer(1000)], crs="EPSG:5897")
>>> iv = distance_intervals(disc, line, buffer_m=5000)
>>> round(float(iv["A"].dmin[0])), 4100 <= float(iv["A"].dmax[0]) <= 4100 + DMAX_TOLERANCE_M
(1900, True)
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from vpgeo.crs import check_crs, to_metric
from vpgeo.text import key

__all__ = [
    "DMAX_TOLERANCE_M",
    "REGION_CRS",
    "Interval",
    "best_point",
    "distance_intervals",
    "point_regions",
    "share_within",
    "site_regions",
    "sites_with_regions",
]

REGION_CRS = "EPSG:5897"
#: dmax is found to within this many metres (always rounded up, so it still bounds the truth).
DMAX_TOLERANCE_M = 25.0
_QUAD_SEGS = 16
# A buffer polygon is inscribed in the true buffer; dividing the radius by this factor makes it circumscribed,
# so a region built from buffers contains the true one.
_CIRCUMSCRIBE = math.cos(math.pi / (4 * _QUAD_SEGS))
_POINT_METHODS = ("published_point", "user_point", "surveyed_point")


def _metric(data: gpd.GeoDataFrame | gpd.GeoSeries, what: str) -> Any:
    return to_metric(data, operation=what, crs=REGION_CRS, warn=False)


def _widen(geom: BaseGeometry, metres: float) -> BaseGeometry:
    """``geom`` grown by ``metres`` so the polygon contains the true (round) buffer."""
    if not metres > 0:
        return geom
    return shapely.buffer(geom, metres / _CIRCUMSCRIBE, quad_segs=_QUAD_SEGS)


# ----------------------------------------------------------------------------------------------- layers
@dataclass(frozen=True)
class _Layers:
    """Boundary layers in EPSG:5897, each polygon already widened by its own ``precision_m``."""

    legacy: dict[str, tuple[BaseGeometry | None, str]]  # code → (widened polygon or None, 2025 code)
    c2025: dict[str, BaseGeometry]
    districts: dict[str, BaseGeometry]  # folded name and short name → widened polygon
    province: BaseGeometry | None
    source_2025: str
    intersect_legacy: bool = True


def _widened(layer: gpd.GeoDataFrame, what: str) -> list[BaseGeometry]:
    m = _metric(layer, what)
    prec = pd.to_numeric(m.get("precision_m", pd.Series(0.0, index=m.index)), errors="coerce").fillna(0.0)
    return [_widen(g, float(p)) for g, p in zip(m.geometry, prec, strict=True)]


def _layers(
    communes_legacy: gpd.GeoDataFrame | None,
    communes_2025: gpd.GeoDataFrame | None,
    districts: gpd.GeoDataFrame | None,
    intersect_legacy: bool = True,
) -> _Layers:
    legacy: dict[str, tuple[BaseGeometry | None, str]] = {}
    if communes_legacy is not None and len(communes_legacy):
        geoms = _widened(communes_legacy, "site regions (legacy communes)")
        for code, c25, g, raw in zip(
            communes_legacy["code"].astype(str),
            communes_legacy["commune_2025_code"].astype(str),
            geoms,
            communes_legacy.geometry,
            strict=True,
        ):
            # a legacy unit drawn as a Point has an untrusted gazetteer point: no polygon to intersect with
            legacy[code] = (g if raw is not None and raw.geom_type != "Point" else None, c25)
    c2025: dict[str, BaseGeometry] = {}
    source = "none"
    if communes_2025 is not None and len(communes_2025):
        c2025 = dict(zip(communes_2025["code"].astype(str), _widened(communes_2025, "site regions"), strict=True))
        source = str(communes_2025["source"].iloc[0]) if "source" in communes_2025 else "user"
    dist: dict[str, BaseGeometry] = {}
    province = None
    if districts is not None and len(districts):
        geoms = _widened(districts, "site regions (districts)")
        for col in ("name", "short"):
            if col in districts:
                dist.update({_district_key(n): g for n, g in zip(districts[col].astype(str), geoms, strict=True)})
        province = shapely.union_all(geoms)
    return _Layers(legacy, c2025, dist, province, source, intersect_legacy)


def _codes(value: object) -> list[str]:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return []
    return [c.strip() for c in str(value).split(";") if c.strip()]


def _commune_region(legacy_codes: Sequence[str], codes_2025: Sequence[str], layers: _Layers) -> BaseGeometry | None:
    """Union over the named communes of (2025 commune ∩ legacy approximation), each widened by its precision."""
    parts: list[BaseGeometry] = []
    for code in legacy_codes:
        leg, c25 = layers.legacy.get(code, (None, ""))
        outer = layers.c2025.get(c25)
        if outer is None and leg is None:
            return None  # a named commune the layers do not know: no bound from communes
        if outer is None or (leg is not None and layers.intersect_legacy):
            parts.append(leg if outer is None else shapely.intersection(outer, leg) if leg is not None else outer)
        else:
            parts.append(outer)
    if not legacy_codes:
        for code in codes_2025:
            outer = layers.c2025.get(code)
            if outer is None:
                return None
            parts.append(outer)
    return shapely.union_all(parts) if parts else None


_DISTRICT_PREFIX = re.compile(r"^(huyen|thanh pho|thi xa|quan|tp|tx|h)\b\.?\s*")


def _district_key(name: str) -> str:
    """'Huyện Vĩnh Tường', 'H. Vĩnh Tường', 'Vĩnh Tường' → one key."""
    return _DISTRICT_PREFIX.sub("", key(name)).strip()


def _district_region(value: object, layers: _Layers) -> BaseGeometry | None:
    names = [n.strip() for n in str(value or "").split(";") if n.strip() and str(value) != "nan"]
    if not names:
        return None
    found = [layers.districts.get(_district_key(n)) for n in names]
    if any(g is None for g in found):
        return None
    return shapely.union_all([g for g in found if g is not None])


def point_regions(geoms: gpd.GeoSeries, precision_m: Sequence[float] | np.ndarray) -> gpd.GeoSeries:
    """Regions of geometries known to ``precision_m``: a point → its disc, a polygon or line → itself widened.

    A point with an unknown (NaN) precision has no region (None): nothing bounds where it is.
    """
    m = _metric(geoms, "site regions")
    prec = np.asarray(precision_m, dtype=float)
    out: list[BaseGeometry | None] = []
    for g, p in zip(m, prec, strict=True):
        if g is None or g.is_empty or (g.geom_type in ("Point", "MultiPoint") and not (p >= 0)):
            out.append(None)
        else:
            out.append(_widen(g, p) if p > 0 else g)
    return gpd.GeoSeries(out, index=geoms.index, crs=REGION_CRS)


def best_point(region: BaseGeometry, hint: BaseGeometry | None = None) -> tuple[Point, float]:
    """A point inside ``region`` and the region's radius about it (max distance to any of its points).

    Candidates are ``hint`` (e.g. the facts' own point) when it lies in the region, the centroid when it
    does, and a point on the surface; the one with the smallest radius wins. The farthest point of a polygon
    from a point is one of its vertices, so the radius is exact for the polygon.
    """
    candidates = [shapely.point_on_surface(region)]
    for c in (hint, shapely.centroid(region)):
        if c is not None and not c.is_empty and shapely.covers(region, c):
            candidates.append(c)
    scored = [(float(shapely.hausdorff_distance(c, region)), i, c) for i, c in enumerate(candidates)]
    radius, _, point = min(scored, key=lambda t: (t[0], t[1]))
    return Point(point.x, point.y), radius


# ----------------------------------------------------------------------------------------------- sites
def _region_of(row: pd.Series, geom: BaseGeometry | None, layers: _Layers) -> tuple[BaseGeometry | None, str]:
    method = str(row.get("location_method") or "none")
    prec = pd.to_numeric(pd.Series([row.get("precision_m")]), errors="coerce").iloc[0]
    if geom is not None and not geom.is_empty and method != "commune_centroid":
        if geom.geom_type in ("Point", "MultiPoint"):
            return (None, "point_without_precision") if not (prec >= 0) else (_widen(geom, float(prec)), "point_disc")
        return geom, "polygon"
    commune = _commune_region(_codes(row.get("commune_code")), _codes(row.get("commune_2025_code")), layers)
    if commune is not None:
        return commune, f"communes_{layers.source_2025}"
    if method == "commune_centroid" and geom is not None and prec >= 0:
        return _widen(geom, float(prec)), "point_disc"
    district = _district_region(row.get("district"), layers)
    if district is not None:
        return district, "district"
    if layers.province is not None:
        return layers.province, "province"
    return None, "none"


def site_regions(
    sites: gpd.GeoDataFrame,
    communes_legacy: gpd.GeoDataFrame | None,
    communes_2025: gpd.GeoDataFrame | None,
    districts: gpd.GeoDataFrame | None,
    *,
    intersect_legacy: bool = True,
) -> gpd.GeoDataFrame:
    """Give every site the region it must lie in, a best point inside it and ``precision_m`` = its radius.

    Parameters
    ----------
    sites : GeoDataFrame
        Any CRS; uses ``location_method``, ``precision_m``, ``commune_code`` / ``commune_2025_code``
        (``;``-separated legacy and 2025 commune codes) and ``district`` where present.
    communes_legacy, communes_2025, districts : GeoDataFrame or None
        Boundary layers (e.g. :func:`vpgeo.boundaries.load_communes` / ``load_districts``) with ``code``
        (districts: ``name``/``short``), ``precision_m`` and, for legacy communes, ``commune_2025_code``.
    intersect_legacy : bool
        Intersect each 2025 commune with the legacy commune's polygon widened by its ``precision_m``
        (default): tighter, and as sound as that precision. The shipped approximation's ``precision_m`` is
        measured per legacy commune to make it contain an independent polygon of the commune (the union of
        its former communes for a merged one), plus an allowance for that polygon's own error (see
        ``scripts/build_boundaries.py``); a legacy commune drawn as a Point has no polygon and is not
        intersected. ``False``: the 2025 commune alone. A legacy commune not in the 2025 layer uses the
        legacy polygon alone.

    Returns
    -------
    GeoDataFrame
        ``sites`` (same rows, order and CRS) with ``geometry`` the best point, ``precision_m`` the region's
        radius about it (rounded up to 10 m), ``region`` (shapely geometries in the frame's CRS, recorded in
        ``attrs["region_crs"]``; None when nothing bounds the site), ``region_method`` (``point_disc``,
        ``polygon``, ``communes_official``, ``communes_approximate``, ``district``, ``province``, ``none``)
        and ``region_area_km2``.
    """
    check_crs(sites.crs, operation="site regions", argument="sites.crs")
    layers = _layers(communes_legacy, communes_2025, districts, intersect_legacy)
    metric = _metric(sites, "site regions")
    regions: list[BaseGeometry | None] = []
    points: list[BaseGeometry | None] = []
    radii: list[float] = []
    methods: list[str] = []
    for (_, row), geom in zip(metric.iterrows(), metric.geometry, strict=True):
        region, how = _region_of(row, geom, layers)
        methods.append(how)
        regions.append(region)
        if region is None:
            points.append(geom)
            radii.append(float("nan"))
            continue
        if how == "point_disc":  # the point itself, with its own precision: exact
            points.append(geom)
            radii.append(float(row.get("precision_m")))
            continue
        # not the facts' own point: for a commune that is the gazetteer point, which corridor waypoints drawn
        # through commune points share, and a distance of 0 by construction would follow
        point, radius = best_point(region)
        points.append(point if geom is None or geom.geom_type in ("Point", "MultiPoint") else geom)
        radii.append(math.ceil(radius / 10.0) * 10.0)
    out = sites.copy()
    reg = gpd.GeoSeries(regions, index=sites.index, crs=REGION_CRS)
    out["region_area_km2"] = np.round(reg.area.to_numpy() / 1e6, 3)
    pts = gpd.GeoSeries(points, index=sites.index, crs=REGION_CRS).to_crs(sites.crs)
    keep_own = [m in ("polygon",) for m in methods]  # a user polygon keeps its own geometry
    out = out.set_geometry(
        gpd.GeoSeries(np.where(keep_own, sites.geometry.to_numpy(), pts.to_numpy()), index=sites.index, crs=sites.crs)
    )
    out["precision_m"] = radii
    out["region_method"] = methods
    out["region"] = list(reg.to_crs(sites.crs))
    out.attrs["region_crs"] = sites.crs.to_string()
    return out


def sites_with_regions(
    sites: gpd.GeoDataFrame, *, boundaries: Literal["auto", "official", "approx"] = "approx"
) -> gpd.GeoDataFrame:
    """Public wrapper of :func:`site_regions` resolving the default boundary layers.

    ``boundaries`` chooses the 2025 communes and the districts (``official`` from the pinned download,
    ``approx`` the shipped approximation, ``auto`` official when available); legacy communes are always the
    shipped approximation, intersected with the 2025 commune (see ``intersect_legacy``).
    """
    from vpgeo.boundaries import load_communes, load_districts

    return site_regions(
        sites,
        load_communes(vintage="legacy", source="approx"),
        load_communes(vintage=2025, source=boundaries),
        load_districts(source=boundaries),
    )


# ----------------------------------------------------------------------------------------------- distances
@dataclass(frozen=True)
class Interval:
    """Distance interval (m) from each region to one corridor, widened by the corridor's precision."""

    dmin: np.ndarray
    dmax: np.ndarray


def _sections(corridors: gpd.GeoDataFrame) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    m = _metric(corridors, "distance intervals (corridors)")
    prec = pd.to_numeric(m.get("precision_m", pd.Series(np.nan, index=m.index)), errors="coerce")
    # an unknown precision bounds nothing
    prec = prec.fillna(np.inf).to_numpy(dtype=float)
    ids = m["corridor_id"].astype(str).to_numpy()
    geoms = m.geometry.to_numpy()
    return {cid: (geoms[ids == cid], prec[ids == cid]) for cid in dict.fromkeys(ids)}


def _covered(region: BaseGeometry, secs: np.ndarray, prec: np.ndarray, r: float) -> bool:
    reach = r - prec
    use = reach >= 0
    if not use.any():
        return False
    buf = shapely.union_all(shapely.buffer(secs[use], reach[use], quad_segs=_QUAD_SEGS))
    return bool(shapely.covers(buf, region))


def _dmax(region: BaseGeometry, secs: np.ndarray, prec: np.ndarray, buffer_m: float | None) -> float:
    """Smallest r (to DMAX_TOLERANCE_M, rounded up) with the region covered by the sections' r - p buffers."""
    finite = np.isfinite(prec)
    if not finite.any():
        return math.inf
    secs, prec = secs[finite], prec[finite]
    lo = float(np.min(shapely.distance(region, secs) + prec))
    # any point q of a section bounds the distance to it, and the farthest point of a region from q is a vertex
    first = shapely.points(np.array([shapely.get_coordinates(s)[0] for s in secs]))
    hi = float(np.min(shapely.hausdorff_distance(region, first) + prec)) + DMAX_TOLERANCE_M
    if buffer_m is not None and lo <= buffer_m < hi:  # decide exactly at the buffer asked for
        if _covered(region, secs, prec, buffer_m):
            hi = buffer_m
        else:
            lo = buffer_m
    while hi - lo > DMAX_TOLERANCE_M:
        mid = (lo + hi) / 2.0
        if _covered(region, secs, prec, mid):
            hi = mid
        else:
            lo = mid
    return hi


def _disc_interval(centre: BaseGeometry, radius: float, secs: np.ndarray, prec: np.ndarray) -> tuple[float, float]:
    """Exact for straight sections (and a bound otherwise): the disc's distances are the centre's ± radius."""
    d = shapely.distance(centre, secs)
    lower = np.where(np.isfinite(prec), d - prec, 0.0)
    return max(0.0, float(np.min(lower)) - radius), float(np.min(d + prec)) + radius


def distance_intervals(
    regions: gpd.GeoSeries,
    corridors: gpd.GeoDataFrame,
    *,
    buffer_m: float | None = None,
    discs: tuple[gpd.GeoSeries, np.ndarray] | None = None,
) -> dict[str, Interval]:
    """Per corridor, ``[dmin, dmax]`` (m) of the true distance from each region, corridor precision included.

    Parameters
    ----------
    regions : GeoSeries
        Any CRS; None or empty → NaN.
    corridors : GeoDataFrame
        Sections with ``corridor_id`` and ``precision_m`` (NaN → unknown: ``dmin`` 0, ``dmax`` inf).
    buffer_m : float, optional
        When given, ``dmax <= buffer_m`` is decided exactly (not to the bisection tolerance).
    discs : (GeoSeries of points, radii), optional
        Regions that are discs (a point and its precision; NaN radius: not a disc), measured from the centre.
    """
    reg = _metric(regions, "distance intervals").to_numpy()
    valid = ~(shapely.is_missing(reg) | shapely.is_empty(reg))
    centres, radii = (None, np.full(len(reg), np.nan)) if discs is None else discs
    cen = None if centres is None else _metric(centres, "distance intervals").to_numpy()
    out: dict[str, Interval] = {}
    for cid, (secs, prec) in _sections(corridors).items():
        dmin = np.full(len(reg), np.nan)
        dmax = np.full(len(reg), np.nan)
        for i in np.flatnonzero(valid):
            if cen is not None and np.isfinite(radii[i]) and cen[i] is not None:
                dmin[i], dmax[i] = _disc_interval(cen[i], float(radii[i]), secs, prec)
                continue
            d = shapely.distance(reg[i], secs) - prec
            dmin[i] = max(0.0, float(np.min(np.where(np.isfinite(d), d, 0.0))))
            dmax[i] = _dmax(reg[i], secs, prec, buffer_m)
        out[cid] = Interval(dmin, dmax)
    return out


def share_within(
    regions: gpd.GeoSeries, corridors: gpd.GeoDataFrame, buffer_m: float, *, widen: float = 0.0
) -> np.ndarray:
    """Share of each region's area within ``buffer_m + widen * precision_m`` of the corridors' centrelines.

    ``widen`` -1 and +1 give the bounds of the share when each section is only known to its precision
    (an unknown precision counts as 0 here). A region of no area (a point) scores 0 or 1; None → NaN.
    """
    reg = _metric(regions, "share within").to_numpy()
    m = _metric(corridors, "share within (corridors)")
    prec = pd.to_numeric(m.get("precision_m", pd.Series(0.0, index=m.index)), errors="coerce").fillna(0.0)
    reach = buffer_m + widen * prec.to_numpy(dtype=float)
    lines = m.geometry.to_numpy()
    use = reach >= 0
    zone = shapely.union_all(shapely.buffer(lines[use], reach[use], quad_segs=_QUAD_SEGS)) if use.any() else None
    out = np.full(len(reg), np.nan)
    for i, g in enumerate(reg):
        if g is None or g.is_empty:
            continue
        if zone is None or zone.is_empty:
            out[i] = 0.0
            continue
        area = float(shapely.area(g))
        if area > 0:
            out[i] = min(1.0, float(shapely.area(shapely.intersection(g, zone))) / area)
        else:
            out[i] = 1.0 if shapely.covers(zone, g) else 0.0
    return out
