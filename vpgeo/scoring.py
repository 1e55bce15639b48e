"""Score and rank candidate sites by how close they sit to the plan's corridors.

For every candidate, :func:`score_candidates` measures the exact metric distance (EPSG:5897, via
:func:`vpgeo.crs.to_metric`) to each corridor with :class:`vpgeo.nearest.LineIndex`, turns distances into a
score in [0, 1] with a decay function, and ranks the candidates.

Decisions
---------
- **Corridor**: all sections sharing a ``corridor_id`` form one corridor; its distance is the minimum over
  its sections. ``corridors=None`` takes the embedded layer restricted to ``corridor_set`` (default
  ``"plan"``: CT.05, Ring Road 4, Ring Road 5, the plan's priority corridors); a user's layer is used whole
  unless ``corridor_set`` is given.
- **Decay** ``f(d)`` (``d`` in km, ``f(0) = 1``, never increasing, 0 beyond ``max_km``):
  ``linear`` ``1 - d/max_km`` (0.5 at ``max_km/2``); ``exponential`` ``0.5 ** (d/half)`` and
  ``gaussian`` ``0.5 ** (d/half)²`` (both 0.5 at ``half_distance_km``); ``step`` 1 up to ``max_km``
  inclusive. A callable mapping km to [0, 1] is accepted too.
- **Score** = ``max`` over corridors of ``w_c · f(d_c)``: a site is as good as its best corridor. Weights
  are keyed by corridor id, else by corridor ``kind``, else ``"*"`` (default 1); the key ``"access"`` adds
  the nearest access point (interchange) as one more term. Weights are divided by the largest, so the
  score stays in [0, 1]. Without weights the score is ``f(distance_km)``.
- **Rank** 1 is best: by score (high first), then ``distance_km`` (near first), then input order, so
  ranks are unique and identical between engines. Excluded rows and rows without geometry get no rank.
- **Exclusions** are the user's polygon layers only (existing parks, protected land such as Tam Đảo
  National Park): the facts give no boundary of the park, and existing sites only as points known to
  ±km, too coarse to exclude by. An excluded row keeps its distances, gets ``score`` 0, no rank and
  ``excluded_reason``.
- **Rows**: every input row comes out, in order; a row without usable geometry gets NaN distances,
  ``excluded`` true and the reason ``"no geometry"``.

Examples
--------
>>> import geopandas as gpd
>>> from shapely.geometry import LineString, Point
>>> roads = gpd.GeoDataFrame({"corridor_id": ["A", "B"]}, crs="EPSG:5897",
...     geometry=[LineString([(500000, 2350000), (520000, 2350000)]),
...               LineString([(500000, 2360000), (520000, 2360000)])])
>>> sites = gpd.GeoDataFrame({"name": ["near A", "between", "far"]}, crs="EPSG:5897",
...     geometry=[Point(510000, 2351000), Point(510000, 2355000), Point(510000, 2380000)])
>>> out = score_candidates(sites, roads, access_points=False)
>>> out[["name", "distance_km", "nearest_corridor", "score", "rank"]]
      name  distance_km nearest_corridor  score  rank
0   near A          1.0                A    0.9     1
1  between          5.0                A    0.5     2
2      far         20.0                B    0.0     3
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from vpgeo.crs import METRIC, to_metric
from vpgeo.errors import InputError
from vpgeo.nearest import LineIndex

__all__ = [
    "DECAYS",
    "decay_score",
    "plot_sensitivity",
    "score_candidates",
    "score_file",
    "sensitivity",
]

DECAYS = ("linear", "exponential", "gaussian", "step")
Decay = str | Callable[[NDArray[np.float64]], NDArray[np.float64]]
_OP = "score_candidates"
_PROGRESS_MIN = 50_000  # rows below which no progress bar is shown


# ----------------------------------------------------------------------------------------------- decay


def _check_params(half_distance_km: float, max_km: float) -> None:
    for name, value in (("half_distance_km", half_distance_km), ("max_km", max_km)):
        if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
            raise InputError(f"{name} must be a positive number of kilometres, got {value!r}", field=name)


def decay_score(
    distance_km: Any, *, decay: Decay = "linear", half_distance_km: float = 5.0, max_km: float = 10.0
) -> NDArray[np.float64]:
    """Score in [0, 1] for distances in km (NaN stays NaN); see the module's decisions for the shapes.

    Examples
    --------
    >>> d = [0, 2.5, 5, 10, 10.01]
    >>> decay_score(d, decay="linear").round(3).tolist()
    [1.0, 0.75, 0.5, 0.0, 0.0]
    >>> decay_score(d, decay="exponential").round(3).tolist()
    [1.0, 0.707, 0.5, 0.25, 0.0]
    >>> decay_score(d, decay="gaussian").round(3).tolist()
    [1.0, 0.841, 0.5, 0.062, 0.0]
    >>> decay_score(d, decay="step").tolist()
    [1.0, 1.0, 1.0, 1.0, 0.0]
    """
    _check_params(half_distance_km, max_km)
    d = np.asarray(distance_km, dtype=np.float64)
    if callable(decay):
        with np.errstate(invalid="ignore"):
            out = np.asarray(decay(d), dtype=np.float64)
        finite = out[~np.isnan(d)]
        if out.shape != d.shape or not np.all((finite >= 0) & (finite <= 1)):
            raise InputError("a decay function must return one value in [0, 1] per distance", field="decay")
        return np.where(np.isnan(d), np.nan, out)
    with np.errstate(invalid="ignore"):
        if decay == "linear":
            out = np.clip(1.0 - d / max_km, 0.0, 1.0)
        elif decay == "exponential":
            out = np.where(d <= max_km, 0.5 ** (d / half_distance_km), 0.0)
        elif decay == "gaussian":
            out = np.where(d <= max_km, 0.5 ** ((d / half_distance_km) ** 2), 0.0)
        elif decay == "step":
            out = np.where(d <= max_km, 1.0, 0.0)
        else:
            raise InputError(f"unknown decay {decay!r}; use one of {', '.join(DECAYS)}", field="decay")
    result: NDArray[np.float64] = np.where(np.isnan(d), np.nan, out)
    return result


# ------------------------------------------------------------------------------------------- corridors


@dataclass
class _Corridors:
    ids: list[str]
    kinds: list[str]
    index: LineIndex
    geoms: list[Any]  # one metric geometry per corridor (its sections), for non-point candidates
    access_tree: cKDTree | None = None
    access_ids: NDArray[Any] | None = None
    provenance: dict[str, Any] = field(default_factory=dict)


def _load_embedded(corridor_set: str | Sequence[str] | None) -> gpd.GeoDataFrame:
    from vpgeo.datasets import load_corridors

    try:
        from vpgeo.corridors import select_corridors
    except ImportError:  # pragma: no cover - the corridors module ships with vpgeo
        return load_corridors(priority_only=True)
    return select_corridors(load_corridors(), corridor_set or "plan")


def _as_frame(data: Any, what: str) -> gpd.GeoDataFrame:
    if isinstance(data, str | Path):
        if what == "corridors":
            from vpgeo.corridors import read_corridor_file

            return read_corridor_file(data)
        return _read_any(Path(data))
    if isinstance(data, gpd.GeoSeries):
        return gpd.GeoDataFrame(geometry=data)
    if isinstance(data, gpd.GeoDataFrame):
        return data
    raise InputError(f"{what} must be a GeoDataFrame, a GeoSeries or a file path, got {type(data).__name__}")


def _prepare_corridors(corridors: Any, corridor_set: str | Sequence[str] | None, access_points: Any) -> _Corridors:
    if corridors is None:
        frame = _load_embedded(corridor_set)
    else:
        frame = _as_frame(corridors, "corridors")
        if corridor_set is not None:
            from vpgeo.corridors import select_corridors

            frame = select_corridors(frame, corridor_set)
    metric = to_metric(frame, operation=_OP, warn=False)
    geoms = metric.geometry.to_numpy()
    usable = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if not usable.any():
        raise InputError("the corridor layer has no geometry to measure to", field="geometry")
    if "corridor_id" in metric.columns:
        ids = metric["corridor_id"].astype(str).to_numpy()
    elif "name" in metric.columns:
        ids = metric["name"].astype(str).to_numpy()
    else:
        ids = np.array([f"c{i + 1}" for i in range(len(metric))])
    kinds = metric["kind"].astype(str).to_numpy() if "kind" in metric.columns else np.full(len(metric), "")
    order = list(dict.fromkeys(ids[usable]))
    grouped = [shapely.GeometryCollection(list(geoms[usable & (ids == c)])) for c in order]
    kind_of = [str(kinds[usable & (ids == c)][0]) for c in order]
    out = _Corridors(order, kind_of, LineIndex(grouped), grouped)
    out.provenance = dict(frame.attrs.get("provenance", {}))
    if access_points is not False and access_points is not None:
        _prepare_access(out, access_points, embedded=corridors is None)
    return out


def _prepare_access(c: _Corridors, access_points: Any, *, embedded: bool) -> None:
    if access_points is True:
        from vpgeo.datasets import load_access_points

        pts = load_access_points()
        # Embedded access points belong to embedded corridors: keep those of the corridors scored.
        if "corridor_id" in pts.columns:
            pts = pts[pts["corridor_id"].astype(str).isin(c.ids)]
    else:
        pts = _as_frame(access_points, "access_points")
    pts = to_metric(pts, operation=_OP, warn=False)
    g = pts.geometry.to_numpy()
    keep = ~(shapely.is_missing(g) | shapely.is_empty(g))
    if not keep.any():
        return
    xy = shapely.get_coordinates(shapely.centroid(g[keep]))
    c.access_tree = cKDTree(xy)
    ids = pts["access_id"] if "access_id" in pts.columns else pts.get("name", pd.Series(pts.index))
    c.access_ids = np.asarray(ids.astype(str).to_numpy()[keep], dtype=object)


# -------------------------------------------------------------------------------------------- measures


@dataclass
class _Measured:
    """Distances of every row (metres), the inputs of every re-scoring."""

    per_corridor: NDArray[np.float64]  # (N, M), NaN where no geometry
    access_m: NDArray[np.float64] | None
    access_idx: NDArray[np.intp] | None
    missing: NDArray[np.bool_]
    excluded_reason: NDArray[Any]  # object: None or text


def _measure_geoms(
    geoms: NDArray[Any], c: _Corridors, progress: Callable[[int], None] | None = None
) -> tuple[NDArray[np.float64], NDArray[np.float64] | None, NDArray[np.intp] | None]:
    """Per-corridor and access distances (metres) of metric geometries; NaN for missing ones."""
    n, m = len(geoms), len(c.ids)
    table = np.full((n, m), np.nan)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    is_point = ~missing & (shapely.get_type_id(geoms) == 0)
    if is_point.any():
        xy = np.column_stack([shapely.get_x(geoms[is_point]), shapely.get_y(geoms[is_point])])
        table[is_point] = c.index.query(xy, per_line=True, progress=progress).per_line
    other = ~missing & ~is_point
    if other.any():  # polygons, lines: GEOS distance, 0 when touching the corridor
        for j, g in enumerate(c.geoms):
            table[other, j] = shapely.distance(geoms[other], g)
        if progress is not None:
            progress(int(other.sum()))
    access_m = access_idx = None
    if c.access_tree is not None:
        access_m = np.full(n, np.nan)
        access_idx = np.full(n, -1, dtype=np.intp)
        ok = ~missing
        # Exact for points; for areas, the distance from their representative point.
        rep = shapely.get_coordinates(shapely.point_on_surface(geoms[ok]))
        if len(rep):
            d, i = c.access_tree.query(rep, workers=-1)
            access_m[ok], access_idx[ok] = d, i
    return table, access_m, access_idx


def _exclusion_reasons(geoms: NDArray[Any], exclude: Any) -> NDArray[Any]:
    """The first exclusion layer's reason for each geometry inside one of its polygons, else None."""
    reasons = np.full(len(geoms), None, dtype=object)
    if exclude is None:
        return reasons
    layers = list(exclude) if isinstance(exclude, list | tuple) else [exclude]
    for k, layer in enumerate(layers):
        if isinstance(layer, shapely.Geometry):
            layer = gpd.GeoSeries([layer], crs=METRIC)
        frame = to_metric(_as_frame(layer, "exclude"), operation=_OP, warn=False)
        source = frame.attrs.get("source_path") or (str(layer) if isinstance(layer, str | Path) else None)
        label = f"exclusion layer {k + 1}" + (f" ({Path(source).name})" if source else "")
        text_col = next((col for col in ("reason", "name", "ten") if col in frame.columns), None)
        polys = frame.geometry.to_numpy()
        bad = [i for i, g in enumerate(polys) if g is not None and shapely.get_type_id(g) not in (3, 6)]
        if bad:
            raise InputError(
                "exclusion layers must hold polygons; buffer points or lines first", path=source, row=bad[0] + 1
            )
        tree = shapely.STRtree(polys)
        cand, poly = tree.query(geoms, predicate="intersects")
        first = pd.Series(poly).groupby(cand).min()  # lowest polygon per candidate, stable
        for ci, pi in first.items():
            if reasons[ci] is None:
                name = frame[text_col].iloc[pi] if text_col else None
                reasons[ci] = f"inside {name} ({label})" if isinstance(name, str) and name else f"in {label}"
    return reasons


def _measure(
    candidates: gpd.GeoDataFrame, c: _Corridors, exclude: Any, progress: bool, engine: str, **dask_opts: Any
) -> _Measured:
    metric = to_metric(candidates, operation=_OP, warn=False)
    geoms = metric.geometry.to_numpy()
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if engine == "local":
        with _progress(len(geoms), progress) as tick:
            table, access_m, access_idx = _measure_geoms(geoms, c, tick)
    elif engine == "dask":
        table, access_m, access_idx = _measure_dask(metric, c, **dask_opts)
    else:
        raise InputError(f"unknown engine {engine!r}; use 'local' or 'dask'", field="engine")
    reasons = _exclusion_reasons(geoms, exclude)
    reasons[missing] = "no geometry"
    return _Measured(table, access_m, access_idx, missing, reasons)


# ----------------------------------------------------------------------------------------------- dask


def _partition_distances(part: pd.DataFrame, c: _Corridors) -> pd.DataFrame:
    table, access_m, access_idx = _measure_geoms(part.geometry.to_numpy(), c)
    out = pd.DataFrame(table, columns=[f"d{j}" for j in range(table.shape[1])], index=part.index)
    out["_pos"] = part["_pos"].to_numpy()
    if access_m is not None and access_idx is not None:
        out["_access_m"], out["_access_idx"] = access_m, access_idx
    return out


@contextmanager
def _client(scheduler: Any) -> Iterator[Any]:
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise InputError(
            "engine='dask' needs dask-geopandas and dask.distributed: pip install 'vpgeo[dask]'", field="engine"
        ) from None
    if isinstance(scheduler, Client):
        yield scheduler
        return
    if scheduler is None:
        # Threads: numpy and the k-d tree release the GIL, and nothing has to be pickled.
        cluster = LocalCluster(processes=False, n_workers=1, threads_per_worker=os.cpu_count() or 1)
        with cluster, Client(cluster) as client:
            yield client
        return
    with Client(str(scheduler)) as client:
        yield client


def _measure_dask(
    metric: gpd.GeoDataFrame, c: _Corridors, *, scheduler: Any = None, npartitions: int | None = None
) -> tuple[NDArray[np.float64], NDArray[np.float64] | None, NDArray[np.intp] | None]:
    try:
        import dask_geopandas
    except ImportError:
        raise InputError("engine='dask' needs dask-geopandas: pip install 'vpgeo[dask]'", field="engine") from None
    n, m = len(metric), len(c.ids)
    geoms = metric.geometry.to_numpy()
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    table = np.full((n, m), np.nan)
    access_m = np.full(n, np.nan) if c.access_tree is not None else None
    access_idx = np.full(n, -1, dtype=np.intp) if c.access_tree is not None else None
    if not ok.any():
        return table, access_m, access_idx
    frame = gpd.GeoDataFrame({"_pos": np.flatnonzero(ok)}, geometry=geoms[ok], crs=metric.crs)
    parts = npartitions or max(1, min(int(ok.sum()) // 250_000 + 1, 512))
    ddf = dask_geopandas.from_geopandas(frame, npartitions=parts)
    if parts > 1:  # neighbours in one partition: the k-d tree walks the same branches
        ddf = ddf.spatial_shuffle(by="hilbert", npartitions=parts)
    meta = pd.DataFrame({f"d{j}": pd.Series(dtype=float) for j in range(m)})
    meta["_pos"] = pd.Series(dtype=np.int64)
    if c.access_tree is not None:
        meta["_access_m"] = pd.Series(dtype=float)
        meta["_access_idx"] = pd.Series(dtype=np.intp)
    lazy = ddf.map_partitions(_partition_distances, c, meta=meta)
    with _client(scheduler) as client:
        result = client.compute(lazy, sync=True)
    pos = result["_pos"].to_numpy()
    table[pos] = result[[f"d{j}" for j in range(m)]].to_numpy()
    if access_m is not None and access_idx is not None:
        access_m[pos] = result["_access_m"].to_numpy()
        access_idx[pos] = result["_access_idx"].to_numpy()
    return table, access_m, access_idx


# -------------------------------------------------------------------------------------------- scoring


def _resolve_weights(weights: Mapping[str, float] | None, c: _Corridors) -> tuple[NDArray[np.float64], float]:
    """Per-corridor weights and the access weight (0 = not scored), divided by the largest."""
    m = len(c.ids)
    if not weights:
        return np.ones(m), 0.0
    known = set(c.ids) | set(c.kinds) | {"*", "access"}
    for key, value in weights.items():
        if key not in known:
            raise InputError(
                f"weight key {key!r} is neither a corridor id ({', '.join(c.ids)}), a corridor kind "
                f"({', '.join(sorted(set(c.kinds) - {''}))}), '*' nor 'access'",
                field="weights",
            )
        if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
            raise InputError(f"weight of {key!r} must be a number >= 0, got {value!r}", field="weights")
    default = float(weights.get("*", 1.0))
    w = np.array([float(weights.get(i, weights.get(k, default))) for i, k in zip(c.ids, c.kinds, strict=True)])
    access = float(weights.get("access", 0.0))
    if c.access_tree is None and access > 0:
        raise InputError("weight 'access' given but access points are off or empty", field="weights")
    top = max(float(w.max()), access)
    if top <= 0:
        raise InputError("all weights are 0: nothing would score", field="weights")
    return w / top, access / top


def _finish(
    candidates: gpd.GeoDataFrame,
    meas: _Measured,
    c: _Corridors,
    *,
    decay: Decay,
    half_distance_km: float,
    max_km: float,
    weights: Mapping[str, float] | None,
) -> gpd.GeoDataFrame:
    w, w_access = _resolve_weights(weights, c)
    km = meas.per_corridor / 1000.0
    filled = np.where(np.isnan(km), np.inf, km)
    nearest = np.argmin(filled, axis=1) if km.shape[1] else np.zeros(len(km), dtype=np.intp)
    dist_km = filled[np.arange(len(km)), nearest] if km.shape[1] else np.full(len(km), np.inf)
    dist_km[~np.isfinite(dist_km)] = np.nan
    terms = decay_score(km, decay=decay, half_distance_km=half_distance_km, max_km=max_km) * w
    labels = list(c.ids)
    access_km = None
    if meas.access_m is not None:
        access_km = meas.access_m / 1000.0
        if w_access > 0:
            a = decay_score(access_km, decay=decay, half_distance_km=half_distance_km, max_km=max_km)
            terms = np.column_stack([terms, a * w_access])
            labels.append("access")
    with np.errstate(invalid="ignore"):
        best = np.nanargmax(np.where(np.isnan(terms), -1.0, terms), axis=1)
    score = terms[np.arange(len(terms)), best]
    reasons = meas.excluded_reason
    excluded = np.array([r is not None for r in reasons], dtype=bool)
    score = np.where(meas.missing, np.nan, np.where(excluded, 0.0, score))

    out = candidates.copy()
    out["distance_km"] = dist_km
    out["nearest_corridor"] = pd.Series(np.array(c.ids, dtype=object)[nearest], index=out.index).where(
        ~np.isnan(dist_km), None
    )
    for j, cid in enumerate(c.ids):
        out[f"dist_{cid}_km"] = km[:, j]
    if access_km is not None and meas.access_idx is not None and c.access_ids is not None:
        out["access_km"] = access_km
        out["nearest_access"] = pd.Series(c.access_ids[np.maximum(meas.access_idx, 0)], index=out.index).where(
            meas.access_idx >= 0, None
        )
    out["score"] = score
    out["score_from"] = pd.Series(np.array(labels, dtype=object)[best], index=out.index).where(
        ~meas.missing & ~excluded, None
    )
    out["rank"] = _rank(score, dist_km, excluded | meas.missing)
    out["excluded"] = excluded
    out["excluded_reason"] = pd.Series(reasons, index=out.index, dtype=object)
    out.attrs = dict(candidates.attrs)
    out.attrs["scoring"] = {
        "corridors": list(c.ids),
        "decay": decay if isinstance(decay, str) else getattr(decay, "__name__", "callable"),
        "half_distance_km": half_distance_km,
        "max_km": max_km,
        "weights": dict(weights) if weights else None,
        "corridor_provenance": c.provenance,
    }
    return out


def _rank(score: NDArray[np.float64], dist_km: NDArray[np.float64], skip: NDArray[np.bool_]) -> pd.Series:
    """1 = best: score descending, then distance ascending, then input order; NA for skipped rows."""
    rank = pd.array(np.full(len(score), pd.NA), dtype="Int64")
    ranked = np.flatnonzero(~skip & ~np.isnan(score))
    d = np.where(np.isnan(dist_km[ranked]), np.inf, dist_km[ranked])
    order = ranked[np.lexsort((ranked, d, -score[ranked]))]
    rank[order] = np.arange(1, len(order) + 1)
    return pd.Series(rank)


def _candidates_frame(candidates: Any) -> gpd.GeoDataFrame:
    if isinstance(candidates, gpd.GeoDataFrame):
        return candidates
    if isinstance(candidates, gpd.GeoSeries):
        return gpd.GeoDataFrame(geometry=candidates)
    if isinstance(candidates, pd.DataFrame) and {"lon", "lat"} <= set(candidates.columns):
        lon = pd.to_numeric(candidates["lon"], errors="coerce")
        lat = pd.to_numeric(candidates["lat"], errors="coerce")
        pts = gpd.points_from_xy(lon, lat)
        pts[(lon.isna() | lat.isna()).to_numpy()] = None
        return gpd.GeoDataFrame(candidates, geometry=pts, crs="EPSG:4326")
    raise InputError(
        "candidates must be a GeoDataFrame (any CRS), a GeoSeries, or a DataFrame with lon/lat columns",
        field="candidates",
    )


def score_candidates(
    candidates: Any,
    corridors: Any = None,
    *,
    decay: Decay = "linear",
    half_distance_km: float = 5.0,
    max_km: float = 10.0,
    weights: Mapping[str, float] | None = None,
    access_points: Any = True,
    exclude: Any = None,
    engine: str = "local",
    corridor_set: str | Sequence[str] | None = None,
    scheduler: Any = None,
    npartitions: int | None = None,
    progress: bool = False,
) -> gpd.GeoDataFrame:
    """Score and rank candidate sites by their distance to the corridors.

    Parameters
    ----------
    candidates : GeoDataFrame
        Points (exact and fast) or polygons/lines (GEOS distance, 0 when touching), any CRS; a GeoSeries or
        a DataFrame with ``lon``/``lat`` columns is accepted too.
    corridors : GeoDataFrame or path, optional
        Corridor sections in any CRS (``corridor_id`` groups sections; ``kind`` keys weights). Default: the
        embedded corridors in ``corridor_set``.
    decay, half_distance_km, max_km
        The decay function and its parameters (see the module's decisions).
    weights : mapping, optional
        Weight per corridor id, per ``kind``, ``"*"`` (others) and ``"access"`` (score access points too).
    access_points : bool or GeoDataFrame
        ``True``: the embedded interchanges of the corridors scored; a layer of your own; ``False``: none.
    exclude : GeoDataFrame, path, shapely geometry, or a list of them
        Polygons whose candidates are excluded (reason from a ``reason`` or ``name`` column).
    engine : {"local", "dask"}
        ``"dask"`` measures spatially sorted partitions on a dask.distributed cluster; results are identical.
    corridor_set : str or sequence, optional
        Corridor set or ids (see :data:`vpgeo.corridors.CORRIDOR_SETS`); default ``"plan"`` for the
        embedded layer, every corridor of a user's layer.
    scheduler : str or distributed.Client, optional
        Scheduler address (``"tcp://host:8786"``) or a client; default a local threaded cluster.
    npartitions : int, optional
        Partitions for ``engine="dask"`` (default one per 250,000 rows).
    progress : bool
        Show a progress bar (tqdm if installed, else a counter on stderr) on runs of 50,000 rows or more.

    Returns
    -------
    GeoDataFrame
        The candidates, every row in order and in their own CRS, with ``distance_km``,
        ``nearest_corridor``, ``dist_<corridor_id>_km`` per corridor, ``access_km`` and ``nearest_access``
        (when access points are on), ``score``, ``score_from`` (the corridor, or ``"access"``, giving the
        score), ``rank``, ``excluded``, ``excluded_reason``; ``attrs["scoring"]`` records the parameters.

    Raises
    ------
    InputError
        Unknown decay, engine, corridor set or weight key; non-positive distances; bad exclusion layers.
    CRSError
        Candidates or corridors without a CRS.
    """
    _check_params(half_distance_km, max_km)
    if isinstance(decay, str) and decay not in DECAYS:
        raise InputError(f"unknown decay {decay!r}; use one of {', '.join(DECAYS)}", field="decay")
    frame = _candidates_frame(candidates)
    c = _prepare_corridors(corridors, corridor_set, access_points)
    meas = _measure(frame, c, exclude, progress, engine, scheduler=scheduler, npartitions=npartitions)
    return _finish(frame, meas, c, decay=decay, half_distance_km=half_distance_km, max_km=max_km, weights=weights)


# ----------------------------------------------------------------------------------------- sensitivity


def _default_grid(half_distance_km: float, max_km: float, decay: Decay, c: _Corridors) -> dict[str, list[Any]]:
    grid: dict[str, list[Any]] = {
        "max_km": [max_km * f for f in (0.5, 0.75, 1.5, 2.0)],
        "half_distance_km": [half_distance_km * f for f in (0.5, 2.0)],
    }
    if isinstance(decay, str):
        grid["decay"] = [d for d in DECAYS if d != decay]
    # Distance ties are broken by distance, so without weights only weights can reorder the ranking:
    # favour each corridor in turn, and add the access points.
    weights: list[Any] = [{"*": 0.5, cid: 1.0} for cid in c.ids] if len(c.ids) > 1 else []
    if c.access_tree is not None:
        weights.append({"*": 1.0, "access": 1.0})
    if weights:
        grid["weights"] = weights
    return grid


def sensitivity(
    candidates: Any,
    corridors: Any = None,
    *,
    param_grid: Mapping[str, Sequence[Any]] | None = None,
    top_k: int = 10,
    **options: Any,
) -> pd.DataFrame:
    """How stable the ranking is when one parameter changes at a time.

    Distances are measured once; each variation of ``param_grid`` (``decay``, ``half_distance_km``,
    ``max_km``, ``weights``; by default halving/doubling the distances, the other decays, and weights
    favouring each corridor in turn and the access points) re-scores them and is compared with the
    baseline (``options``, else the defaults of :func:`score_candidates`) over the rows ranked in both.

    Returns
    -------
    DataFrame
        One row per variation: ``parameter``, ``value``, ``spearman`` (rank correlation with the baseline),
        ``top_k_overlap`` (share of the baseline's top ``top_k`` still in the top ``top_k``),
        ``mean_abs_rank_change``, ``n_ranked``; the first row is the baseline itself.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import LineString, Point
    >>> road = gpd.GeoDataFrame({"corridor_id": ["A"]}, geometry=[LineString([(0, 0), (30000, 0)])],
    ...                         crs="EPSG:5897")
    >>> pts = gpd.GeoDataFrame(geometry=[Point(1000 * i, 700 * i) for i in range(20)], crs="EPSG:5897")
    >>> t = sensitivity(pts, road, access_points=False, top_k=5, param_grid={"max_km": [5.0, 20.0]})
    >>> t[["parameter", "value", "spearman", "top_k_overlap"]]
      parameter     value  spearman  top_k_overlap
    0  baseline  baseline       1.0            1.0
    1    max_km       5.0       1.0            1.0
    2    max_km      20.0       1.0            1.0
    """
    from scipy.stats import spearmanr

    allowed = {"decay", "half_distance_km", "max_km", "weights"}
    base = {
        "decay": options.pop("decay", "linear"),
        "half_distance_km": options.pop("half_distance_km", 5.0),
        "max_km": options.pop("max_km", 10.0),
        "weights": options.pop("weights", None),
    }
    if top_k < 1:
        raise InputError(f"top_k must be >= 1, got {top_k}", field="top_k")
    frame = _candidates_frame(candidates)
    c = _prepare_corridors(corridors, options.pop("corridor_set", None), options.pop("access_points", True))
    grid = (
        dict(param_grid)
        if param_grid is not None
        else _default_grid(base["half_distance_km"], base["max_km"], base["decay"], c)
    )
    for key in grid:
        if key not in allowed:
            raise InputError(f"param_grid key {key!r} unknown; use {', '.join(sorted(allowed))}", field="param_grid")
    engine = options.pop("engine", "local")
    meas = _measure(frame, c, options.pop("exclude", None), options.pop("progress", False), engine, **options)
    baseline = _finish(frame, meas, c, **base)["rank"].to_numpy(dtype=float, na_value=np.nan)
    rows: list[dict[str, Any]] = []
    variations: list[tuple[str, Any]] = [("baseline", "baseline")]
    variations += [(key, value) for key, values in grid.items() for value in values]
    for key, value in variations:
        params = dict(base) if key == "baseline" else {**base, key: value}
        rank = _finish(frame, meas, c, **params)["rank"].to_numpy(dtype=float, na_value=np.nan)
        both = ~np.isnan(baseline) & ~np.isnan(rank)
        a, b = baseline[both], rank[both]
        rho = float(spearmanr(a, b).statistic) if both.sum() > 2 and a.std() > 0 and b.std() > 0 else np.nan
        k = min(top_k, int(both.sum())) or 1
        top_a = set(np.flatnonzero(both & (baseline <= k)))
        top_b = set(np.flatnonzero(both & (rank <= k)))
        rows.append(
            {
                "parameter": key,
                "value": value if isinstance(value, str | int | float) else repr(value),
                "spearman": round(rho, 6) if not math.isnan(rho) else rho,
                "top_k_overlap": len(top_a & top_b) / k,
                "mean_abs_rank_change": float(np.abs(a - b).mean()) if both.any() else np.nan,
                "n_ranked": int(both.sum()),
            }
        )
    table = pd.DataFrame(rows)
    table.attrs["top_k"] = top_k
    table.attrs["baseline"] = {k: (v if not callable(v) else repr(v)) for k, v in base.items()}
    return table


def plot_sensitivity(table: pd.DataFrame, path: str | Path) -> Path:
    """Bar charts of :func:`sensitivity`'s Spearman correlation and top-k overlap, saved to ``path`` (PNG, SVG …).

    Needs matplotlib (``pip install matplotlib``); uses the non-interactive Agg backend.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise InputError("plot_sensitivity needs matplotlib: pip install matplotlib") from None
    for col in ("parameter", "value", "spearman", "top_k_overlap"):
        if col not in table.columns:
            raise InputError(f"not a sensitivity table: column {col!r} missing", field=col)
    labels = [
        str(v) if p == "baseline" else f"{p} = {v}" for p, v in zip(table["parameter"], table["value"], strict=True)
    ]
    y = np.arange(len(table))
    fig, axes = plt.subplots(1, 2, figsize=(10, 0.4 * len(table) + 1.5), sharey=True)
    k = table.attrs.get("top_k", "k")
    for ax, col, title in (
        (axes[0], "spearman", "Spearman rank correlation"),
        (axes[1], "top_k_overlap", f"top-{k} overlap"),
    ):
        ax.barh(y, table[col].fillna(0).to_numpy(), color="#3b7dd8")
        ax.set_xlim(min(0.0, float(table[col].min(skipna=True) or 0)), 1.0)
        ax.set_title(title)
        ax.axvline(1.0, color="grey", lw=0.5)
    axes[0].set_yticks(y, labels)
    axes[0].invert_yaxis()
    fig.suptitle("Ranking stability vs the baseline")
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out


# ---------------------------------------------------------------------------------------------- files


def _read_any(path: Path, **kw: Any) -> pd.DataFrame:
    from vpgeo.io import read_table

    return read_table(path, **kw)


_LON = ("lon", "lng", "long", "longitude", "x", "kinh do", "kinh_do", "kinhdo")
_LAT = ("lat", "latitude", "y", "vi do", "vi_do", "vido")


def _guess(columns: Sequence[str], names: Sequence[str]) -> str | None:
    from vpgeo.text import fold

    folded = {fold(str(col)).replace("_", " "): col for col in columns}
    # a merged two-row XLSX header is read as "Tọa độ / Kinh độ": its lower row names the column
    lower = {fold(str(col).rsplit(" / ", 1)[1]).replace("_", " "): col for col in columns if " / " in str(col)}
    for table in (folded, lower):
        for n in names:
            hit = table.get(n.replace("_", " "))
            if hit is not None:
                return str(hit)
    return None


#: Distance beyond the (approximate, ±1.5 km) provincial boundary at which a candidate is flagged.
OUTSIDE_MARGIN_M = 2_000.0


def _row_flags(df: pd.DataFrame, result: gpd.GeoDataFrame) -> pd.Series:
    """Per-row flags for ``vpgeo score``: what the reader did (text cut, geometry repaired) and positions
    more than :data:`OUTSIDE_MARGIN_M` outside the province (scored all the same, but likely a mistake)."""
    from vpgeo.boundaries import load_districts

    reader = df.attrs.get("row_flags") or {}
    rows = df["_row"].tolist() if "_row" in df.columns else [None] * len(df)
    flags: list[list[str]] = [list(reader.get(r, [])) for r in rows]
    geoms = result.geometry
    present = (geoms.notna() & ~geoms.is_empty).to_numpy()
    for i in np.flatnonzero(~present):
        flags[i].append("no_position: not scored or ranked")
    if present.any() and geoms.crs is not None:
        province = to_metric(load_districts(source="approx"), operation="flagging candidates outside the province")
        area = shapely.buffer(shapely.union_all(province.geometry.to_numpy()), OUTSIDE_MARGIN_M)
        shapely.prepare(area)
        metric = to_metric(gpd.GeoSeries(geoms[present].to_numpy(), crs=geoms.crs), operation=_OP)
        inside = shapely.intersects(area, metric.to_numpy())
        for i, ok in zip(np.flatnonzero(present), inside, strict=True):
            if not ok:
                flags[i].append(
                    f"outside_province: more than {OUTSIDE_MARGIN_M / 1000:g} km outside Vĩnh Phúc (scored anyway)"
                )
    return pd.Series([";".join(f) for f in flags], index=result.index, dtype=object)


@contextmanager
def _progress(total: int, enabled: bool) -> Iterator[Callable[[int], None] | None]:
    """A callback advancing a progress bar: tqdm when installed, else a counter on stderr."""
    if not enabled or total < _PROGRESS_MIN:
        yield None
        return
    try:
        from tqdm import tqdm
    except ImportError:
        done = [0, 0]

        def tick(n: int) -> None:
            done[0] += n
            pct = 100 * done[0] // total
            if pct >= done[1] + 10 or done[0] >= total:
                done[1] = pct
                print(f"vpgeo score: {done[0]:,}/{total:,} rows ({pct}%)", file=sys.stderr, flush=True)

        yield tick
        return
    with tqdm(total=total, unit="rows", desc="vpgeo score", file=sys.stderr) as bar:
        yield bar.update


def _geocoded(src: Path, address_col: str) -> gpd.GeoDataFrame:
    """Candidates given by address: placed at their commune's point; unplaced rows keep no geometry."""
    from shapely.geometry import Point

    from vpgeo.geocoding import geocode
    from vpgeo.io import read_table

    raw = read_table(src)
    placed = geocode(raw, address=address_col)
    geoms = [
        Point(x, y) if pd.notna(x) and pd.notna(y) else None for x, y in zip(placed["lon"], placed["lat"], strict=True)
    ]
    out = gpd.GeoDataFrame(placed, geometry=geoms, crs="EPSG:4326")
    out.attrs.update(raw.attrs)
    return out


def score_file(input: str | Path, output: str | Path, **options: Any) -> dict[str, Any]:
    """Read candidates from a file, score them, write the result; return a summary for the CLI.

    Parameters
    ----------
    input : str or Path
        CSV/XLSX with longitude/latitude columns (found by name: lon/lat, longitude/latitude, x/y,
        kinh độ/vĩ độ, or given as ``lon_col``/``lat_col``) or with an address column (``address_col``:
        geocoded first with :func:`vpgeo.geocode`, at the precision of a commune), GeoJSON, GeoPackage,
        Shapefile or (Geo)Parquet.
    output : str or Path
        The result; its extension chooses the format (``.csv``, ``.geojson``, ``.gpkg``, ``.parquet`` …).
    **options
        ``lon_col``, ``lat_col``, ``crs`` (of the input's coordinates); ``corridors`` (a path or layer),
        ``exclude`` (paths or layers); ``rejects`` (path for rows not ranked, optional); everything else is
        passed to :func:`score_candidates`.

    Returns
    -------
    dict
        ``rows_in``, ``rows_out``, ``ranked``, ``excluded`` (count per reason), ``flagged`` (rows with a
        flag), ``corridors``, ``top`` (the best five rows' rank, distance and score), ``output``, ``notes``
        (from the reader).

    Notes
    -----
    Every input row is in the output, in order. Its ``flags`` column (empty when clean; an input column
    of that name is kept as ``flags_input``) says what was wrong with the row and what was done: text cut to
    :data:`vpgeo.io.MAX_TEXT` characters, an invalid geometry repaired, a position more than
    :data:`OUTSIDE_MARGIN_M` outside the province (scored anyway). Rows without a position are not ranked
    (``excluded_reason`` "no geometry") and go to ``rejects`` too when it is given.
    """
    from vpgeo.io import write_table

    src = Path(input)
    lon_col, lat_col, crs = options.pop("lon_col", None), options.pop("lat_col", None), options.pop("crs", None)
    rejects_path = options.pop("rejects", None)
    address_col = options.pop("address_col", None)
    if address_col is not None:
        df = _geocoded(src, address_col)
    else:
        df = _read_any(src, lon_col=lon_col, lat_col=lat_col, crs=crs)
    if not isinstance(df, gpd.GeoDataFrame):
        lon, lat = _guess(df.columns, _LON), _guess(df.columns, _LAT)
        if lon is None or lat is None:
            raise InputError(
                "no geometry and no longitude/latitude columns found; give --lon-col and --lat-col "
                "(for addresses, run 'vpgeo geocode' first and score its output)",
                path=str(src),
            )
        df = _read_any(src, lon_col=lon, lat_col=lat, crs=crs)
    notes = list(df.attrs.get("io_notes", []))
    exclude = options.pop("exclude", None)
    if isinstance(exclude, list | tuple) and not exclude:
        exclude = None
    options.setdefault("progress", True)
    result = score_candidates(df, options.pop("corridors", None), exclude=exclude, **options)
    if "flags" in result.columns:
        result = result.rename(columns={"flags": "flags_input"})
    result["flags"] = _row_flags(df, result)
    written = write_table(result, output)
    reasons = result["excluded_reason"].dropna().value_counts().to_dict()
    if rejects_path is not None:
        from vpgeo.io import write_rejects

        skipped = result[result["rank"].isna()].copy()
        skipped["reason"] = skipped["excluded_reason"].fillna("not ranked")
        if "_row" not in skipped.columns:
            skipped["_row"] = np.flatnonzero(result["rank"].isna().to_numpy()) + 1
        write_rejects(skipped, rejects_path)
    ranked = result[result["rank"].notna()].sort_values("rank").head(5)
    name_col = next((col for col in ("name", "ten", "site", "id") if col in result.columns), None)
    top = [
        {
            **({"name": row[name_col]} if name_col else {}),
            "rank": int(row["rank"]),
            "distance_km": round(float(row["distance_km"]), 3),
            "score": round(float(row["score"]), 4),
        }
        for _, row in ranked.iterrows()
    ]
    return {
        "input": str(src),
        "output": str(written),
        "rows_in": len(df),
        "rows_out": len(result),
        "ranked": int(result["rank"].notna().sum()),
        "flagged": int((result["flags"] != "").sum()),
        "excluded": {str(k): int(v) for k, v in reasons.items()},
        "corridors": result.attrs["scoring"]["corridors"],
        "top": top,
        "notes": notes,
    }
