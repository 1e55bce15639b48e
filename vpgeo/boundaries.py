"""Administrative units of Vĩnh Phúc as polygons: official ones by pinned download, or an approximation.

Two vintages:

- the 9 legacy districts and 121 legacy communes (before 1 July 2025; the provincial plan's language);
- the 36 communes and wards of 2025 that cover the former province (today's administration).

``source="official"`` downloads and verifies pinned third-party files (see :mod:`vpgeo.downloads`);
``source="approx"`` reads the offline approximation shipped in ``data/boundaries/``, built by
``scripts/build_boundaries.py``: the districts are Who's On First's (CC0; "Data from Who's On First",
https://whosonfirst.org/docs/licenses/), derived from pinned files; the communes are an area-balanced
power diagram of the gazetteer's points inside them. Each feature's ``precision_m`` is its outline's
measured error bound (the largest distance to the official outline); for a legacy commune, which has no
official outline, it is the widening measured to make the polygon contain an independent polygon of that
commune, plus an allowance for that polygon's own error (a Point row: its 2025 commune's). Everything is labelled
``approximate`` in its ``source`` column and provenance. ``source="auto"`` (default) uses the official
layer when it is cached or can be downloaded, else the approximation with one warning per process (also
when the cache folder cannot be written). Every layer is a GeoDataFrame in EPSG:4326 with a
``precision_m`` column and ``attrs["provenance"]`` (licence, vintage, URL, sha256, retrieval time).

Examples
--------
>>> d = load_districts(source="approx")
>>> len(d), d.crs.to_epsg(), d["source"].unique().tolist()
(9, 4326, ['approximate'])
>>> cw = crosswalk().set_index("name")
>>> cw.loc["Thị trấn Hương Canh", "commune_2025"]
'Xã Bình Nguyên'
"""

from __future__ import annotations

import copy
import json
import warnings
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import pandas as pd
from shapely.geometry import MultiPolygon, Polygon, shape

from vpgeo import gazetteer
from vpgeo._data import data_file
from vpgeo.downloads import cache_dir, fetch, list_sources, provenance, source_info, source_url
from vpgeo.errors import DataSourceError, InputError
from vpgeo.text import nfc

__all__ = [
    "crosswalk",
    "fetch",
    "list_sources",
    "load_communes",
    "load_districts",
    "load_mergers",
    "source_info",
]

Source = Literal["auto", "official", "approx"]
WGS84 = "EPSG:4326"
DISTRICTS_SOURCE = "districts-dvhcvn"
COMMUNES_SOURCE = "communes2025-vietnam3dmap"
_SOURCES = ("auto", "official", "approx")
_WARNED: set[str] = set()  # the offline warning is given once per process


def _check_source(source: str) -> str:
    if source not in _SOURCES:
        raise InputError(f"source={source!r}: use one of {', '.join(map(repr, _SOURCES))}", field="source")
    return source


def _read_approx(layer: str) -> gpd.GeoDataFrame:
    """The shipped approximate layer: parsed once per process, a fresh copy per call (callers may edit it)."""
    cached = _parse_approx(layer)
    out = cached.copy()
    out.attrs = copy.deepcopy(cached.attrs)
    return out


@lru_cache(maxsize=4)
def _parse_approx(layer: str) -> gpd.GeoDataFrame:
    name = f"boundaries/{layer}_approximate.geojson"
    raw = json.loads(data_file(name).read_text(encoding="utf-8"))
    gdf = gpd.GeoDataFrame.from_features(raw["features"], crs=WGS84)
    cols = list(raw["features"][0]["properties"])
    gdf = gdf[[*cols, "geometry"]]
    for col in ("code", "district_code", "commune_2025_code"):
        if col in gdf:
            gdf[col] = gdf[col].astype(str)
    gdf["precision_m"] = gdf["precision_m"].astype(int)
    meta: dict[str, Any] = dict(raw.get("metadata", {}))
    meta["file"] = f"data/{name}"
    gdf.attrs["provenance"] = meta
    return gdf


_UNAVAILABLE: dict[tuple[str, str, str], str] = {}


def _fetch_or_fallback(name: str, source: str, what: str) -> Path | None:
    """The official file's path, or None when ``auto`` must fall back to the approximation."""
    if source == "approx":
        return None
    if source == "official":
        return fetch(name)
    # auto: one failed attempt per source, mirror and cache folder is enough for the process; a report
    # loads districts and communes several times and must not wait on the network each time
    key = (name, source_url(name), str(cache_dir()))
    reason = _UNAVAILABLE.get(key)
    if reason is None:
        try:
            return fetch(name)
        except DataSourceError as exc:
            reason = _UNAVAILABLE[key] = str(exc)
    if not _WARNED:  # one short line per process, whichever layer meets it first
        _WARNED.add(name)
        short = reason.split(";")[0].split(" (")[0]
        warnings.warn(
            f"official boundaries unavailable ({short}); using vpgeo's approximate ones "
            '(pass source="approx" to choose them)',
            UserWarning,
            stacklevel=3,
        )
    return None


def _outer_rings(rings: list[Any]) -> MultiPolygon:
    """A MultiPolygon from a list of outer rings (vietnam-3d-map's ``polygons``)."""
    return MultiPolygon([Polygon(r) for r in rings])


def _read_json(path: Path, name: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataSourceError(f"{name}: cannot read {path} as JSON: {exc}") from None


@lru_cache(maxsize=4)
def _official_districts(path_str: str) -> gpd.GeoDataFrame:
    path = Path(path_str)
    raw = _read_json(path, DISTRICTS_SOURCE)
    try:
        rows = [
            (str(d["level2_id"]), nfc(d["name"]), shape({"type": d["type"], "coordinates": d["coordinates"]}))
            for d in raw["level2s"]
        ]
    except (KeyError, TypeError, ValueError) as exc:
        raise DataSourceError(f"{DISTRICTS_SOURCE}: unexpected content in {path}: {exc!r}") from None
    codes, names, geoms = zip(*rows, strict=True)
    return gpd.GeoDataFrame({"code": list(codes), "name": list(names)}, geometry=list(geoms), crs=WGS84)


def load_districts(*, source: Source = "auto") -> gpd.GeoDataFrame:
    """The 9 districts of Vĩnh Phúc before 1 July 2025 as polygons.

    Parameters
    ----------
    source : {"auto", "official", "approx"}
        ``official``: the pinned dvhcvn file (GPL-3.0, 2019 government map service), downloaded and
        verified; ``approx``: the shipped approximation; ``auto``: official when cached or downloadable,
        else the approximation with a :class:`UserWarning`.

    Returns
    -------
    GeoDataFrame
        EPSG:4326; columns ``code`` (GSO district code), ``name``, ``short``, ``source``
        (``official``/``approximate``), ``precision_m``, ``geometry``.

    Raises
    ------
    DataSourceError
        ``source="official"`` and the file cannot be fetched or verified.

    Examples
    --------
    >>> d = load_districts(source="approx").set_index("short")
    >>> d.loc["Vĩnh Yên", "code"], int(d.loc["Vĩnh Yên", "precision_m"]) > 0
    ('243', True)
    """
    _check_source(source)
    path = _fetch_or_fallback(DISTRICTS_SOURCE, source, "load_districts")
    if path is None:
        return _read_approx("districts")
    gaz = gazetteer.districts().set_index("code")
    off = _official_districts(str(path))
    missing = set(gaz.index) - set(off["code"])
    if missing:
        raise DataSourceError(f"{DISTRICTS_SOURCE}: {path} lacks districts {sorted(missing)}")
    out = gpd.GeoDataFrame(
        {
            "code": off["code"],
            "name": off["name"],
            "short": off["code"].map(gaz["short"]),
            "source": "official",
            "precision_m": int(source_info(DISTRICTS_SOURCE)["precision_m"]),
        },
        geometry=off.geometry.to_numpy(),
        crs=WGS84,
    )
    out = out.sort_values("code", ignore_index=True)
    out.attrs["provenance"] = {"layer": "districts", **provenance(DISTRICTS_SOURCE, path)}
    return out


@lru_cache(maxsize=4)
def _official_communes(path_str: str) -> gpd.GeoDataFrame:
    path = Path(path_str)
    raw = _read_json(path, COMMUNES_SOURCE)
    codes = set(gazetteer.communes_2025()["code"])
    try:
        wards = [w for w in raw["wards"] if str(w["id"]) in codes]
        rows = [(str(w["id"]), float(w["area"]), _outer_rings(w["polygons"])) for w in wards]
    except (KeyError, TypeError, ValueError) as exc:
        raise DataSourceError(f"{COMMUNES_SOURCE}: unexpected content in {path}: {exc!r}") from None
    found = {r[0] for r in rows}
    if found != codes:
        raise DataSourceError(f"{COMMUNES_SOURCE}: {path} lacks communes {sorted(codes - found)}")
    c, a, g = zip(*rows, strict=True)
    return gpd.GeoDataFrame({"code": list(c), "area_km2": list(a)}, geometry=list(g), crs=WGS84)


def load_communes(*, vintage: int | str = 2025, source: Source = "auto") -> gpd.GeoDataFrame:
    """Communes as polygons: the 36 of 2025, or the 121 legacy ones (approximate only).

    Parameters
    ----------
    vintage : 2025 or "legacy"
        ``2025``: communes and wards in force since 1 July 2025 (columns ``code``, ``name``, ``short``,
        ``type``, ``area_km2``, ``source``, ``precision_m``, ``geometry``). ``"legacy"``: the 121 units
        before that date (columns ``code``, ``name``, ``short``, ``district_code``, ``district``,
        ``commune_2025_code``, ``commune_2025``, ``source``, ``precision_m``, ``geometry``); no official
        source is pinned, so these are always the approximation, and the few communes whose gazetteer
        point is untrustworthy are Points (their 2025 commune's point) rather than polygons.
    source : {"auto", "official", "approx"}
        As in :func:`load_districts` (the official 2025 file is vietnam-3d-map's, MIT).

    Examples
    --------
    >>> c = load_communes(vintage=2025, source="approx")
    >>> len(c), sorted(c["type"].unique())
    (36, ['Phường', 'Xã'])
    >>> legacy = load_communes(vintage="legacy")
    >>> len(legacy), int((legacy.geom_type == "Point").sum())
    (121, 5)
    """
    _check_source(source)
    if str(vintage).lower() == "legacy":
        if source == "official":
            raise InputError(
                'no official polygons of the legacy communes are pinned; use source="approx" (or "auto"), '
                "or vintage=2025 for official commune boundaries",
                field="source",
            )
        return _read_approx("communes_legacy")
    if str(vintage) != "2025":
        raise InputError(f'vintage={vintage!r}: use 2025 or "legacy"', field="vintage")
    path = _fetch_or_fallback(COMMUNES_SOURCE, source, "load_communes")
    if path is None:
        return _read_approx("communes2025")
    gaz = gazetteer.communes_2025().set_index("code")
    off = _official_communes(str(path)).set_index("code").loc[list(gaz.index)]
    out = gpd.GeoDataFrame(
        {
            "code": list(gaz.index),
            "name": gaz["name"].to_numpy(),
            "short": gaz["short"].to_numpy(),
            "type": gaz["type"].to_numpy(),
            "area_km2": off["area_km2"].to_numpy(),
            "source": "official",
            "precision_m": int(source_info(COMMUNES_SOURCE)["precision_m"]),
        },
        geometry=off.geometry.to_numpy(),
        crs=WGS84,
    )
    out.attrs["provenance"] = {"layer": "communes2025", **provenance(COMMUNES_SOURCE, path)}
    return out


def load_mergers() -> pd.DataFrame:
    """Communes merged before 2025 (``data/facts/commune_mergers.csv``), one row per former name.

    Columns: ``code`` and ``commune`` (the legacy unit the name was merged into), ``district``,
    ``merged_name``, ``resolution``, ``effective_date``, ``confidence`` (``confirmed``/``probable``/
    ``unknown``), ``source_url``, ``note``.

    Examples
    --------
    >>> m = load_mergers()
    >>> sorted(m.loc[m["commune"] == "Xã Hội Thịnh", "merged_name"])
    ['Hợp Thịnh', 'Vân Hội']
    """
    with data_file("facts/commune_mergers.csv").open("rb") as f:
        out = pd.read_csv(f, dtype=str, keep_default_na=False)
    for col in ("commune", "district", "merged_name"):
        out[col] = out[col].map(nfc)
    return out


def crosswalk() -> pd.DataFrame:
    """Legacy communes → communes of 2025, with the names merged into each legacy commune before 2025.

    One row per legacy commune (121): ``code``, ``name``, ``short``, ``district_code``, ``district``,
    ``commune_2025_code``, ``commune_2025``, ``historical_names`` (tuple of former names from
    :func:`load_mergers`), ``point_status`` (the gazetteer's verdict on its point: ``ok`` or why it is not
    trusted).

    Examples
    --------
    >>> cw = crosswalk().set_index("name")
    >>> cw.loc["Xã Duy Phiên", "commune_2025"], cw.loc["Phường Khai Quang", "commune_2025"]
    ('Xã Hội Thịnh', 'Phường Vĩnh Phúc')
    >>> cw.loc["Xã Hội Thịnh", "historical_names"]
    ('Vân Hội', 'Hợp Thịnh')
    """
    leg = gazetteer.legacy_communes()
    merged = load_mergers().groupby("code")["merged_name"].agg(tuple)
    out = leg[
        ["code", "name", "short", "district_code", "district", "commune_2025_code", "commune_2025", "point_status"]
    ].copy()
    out["historical_names"] = [merged.get(c, ()) for c in out["code"]]
    cols = ["code", "name", "short", "district_code", "district", "commune_2025_code", "commune_2025"]
    return out[[*cols, "historical_names", "point_status"]].reset_index(drop=True)
