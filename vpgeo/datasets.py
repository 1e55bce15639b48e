"""The data embedded in vpgeo, found with :mod:`importlib.resources`.

In a wheel the files live in ``vpgeo/data/``; in a source checkout (editable install) they are read from the
repository's top-level ``data/``, the editable source of truth rebuilt by the scripts in ``scripts/``.

Every loader returns a GeoDataFrame in EPSG:4326 whose ``attrs["provenance"]`` says where the layer came
from and how precise it is.

Examples
--------
>>> sites = load_sites()
>>> sites.crs.to_epsg(), sites.attrs["provenance"]["layer"]
(4326, 'sites')
"""

from __future__ import annotations

import json
from typing import Any, Literal

import geopandas as gpd
import pandas as pd

from vpgeo._data import data_file

__all__ = ["data_file", "load_access_points", "load_corridors", "load_sites"]


def _read_geojson(name: str, layer: str) -> gpd.GeoDataFrame:
    f = data_file(name)
    raw = json.loads(f.read_text(encoding="utf-8"))
    features = raw.get("features", [])
    gdf = (
        gpd.GeoDataFrame.from_features(features, crs="EPSG:4326")
        if features
        else gpd.GeoDataFrame(geometry=[], crs="EPSG:4326")
    )
    # from_features orders columns by first appearance; keep the file's property order.
    if features:
        cols = list(features[0]["properties"].keys())
        gdf = gdf[[c for c in cols if c in gdf.columns] + ["geometry"]]
    meta: dict[str, Any] = dict(raw.get("metadata", {}))
    meta.setdefault("layer", layer)
    meta["file"] = f"data/{name}"
    gdf.attrs["provenance"] = meta
    return gdf


def load_sites(
    *, regions: bool = True, boundaries: Literal["auto", "official", "approx"] = "approx"
) -> gpd.GeoDataFrame:
    """The plan's industrial parks (KCN) and clusters (CCN), each with the region it must lie in.

    See ``data/facts/sites.csv`` for the facts table they are built from. With ``regions`` (default) every
    site gets a ``region`` (see :func:`vpgeo.regions.site_regions`): its commune(s), district or, when the
    facts say nothing, the province; ``geometry`` is then a best point inside the region and ``precision_m``
    the region's radius about it. Without, the facts' own points (null where they give none).

    Parameters
    ----------
    regions : bool
        Compute the regions (needs the boundary layers).
    boundaries : {"approx", "official", "auto"}
        The 2025 communes and districts the regions are cut from (see :func:`vpgeo.boundaries.load_communes`).

    Examples
    --------
    >>> s = load_sites()
    >>> sorted(s["kind"].unique())
    ['CCN', 'KCN']
    >>> bool((s["precision_m"].dropna() > 0).all()), bool(s["region"].notna().all())
    (True, True)
    """
    gdf = _read_geojson("sites.geojson", "sites")
    for col in ("area_ha", "area_ha_2050", "precision_m"):
        if col in gdf:
            gdf[col] = pd.to_numeric(gdf[col], errors="coerce")
    if not regions:
        return gdf
    from vpgeo.regions import sites_with_regions

    out = sites_with_regions(gdf, boundaries=boundaries)
    out.attrs["provenance"] = {**gdf.attrs["provenance"], "regions_from_boundaries": boundaries}
    return out


def load_corridors(*, priority_only: bool = False) -> gpd.GeoDataFrame:
    """The corridor lines (expressway, ring roads, national roads), one row per section.

    Parameters
    ----------
    priority_only : bool
        Keep only the plan's priority corridors (``priority`` true).
    """
    gdf = _read_geojson("corridors.geojson", "corridors")
    if priority_only:
        gdf = gdf[gdf["priority"].astype(bool)].reset_index(drop=True)
    return gdf


def load_access_points() -> gpd.GeoDataFrame:
    """Interchanges and other points where a limited-access corridor can be entered."""
    return _read_geojson("access_points.geojson", "access_points")
