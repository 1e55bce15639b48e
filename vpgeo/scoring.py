"""Score and rank candidate sites by how close they sit to the plan's corridors.

For every candidate, :func:`score_candidates` measures the exact metric distance (EPSG:5897, via
:func:`vpgeo.crs.to_metric`) to each corridor with the one measurement engine,
:class:`vpgeo.measure.CorridorSet`, turns distances into a score in [0, 1] with a decay function, and ranks
the candidates.

Decisions
---------
- **Corridor**: all sections sharing a ``corridor_id`` form one corridor; its distance is the minimum over
  its sections. ``corridors=None`` takes the embedded layer restricted to ``corridor_set`` (default
  ``"plan"``: CT.05, Ring Road 4, Ring Road 5, the plan's priority corridors); a user's layer is used whole
  unless ``corridor_set`` is given. Ties between corridors (a shared segment) go to the lowest id.
- **Access points**: as :func:`vpgeo.corridor_distances` (same engine): interchanges and junctions, never
  a mainline toll plaza; ``nearest_access`` is an access id, ``nearest_access_name`` its name.
- **Decay** ``f(d)`` (``d`` in km, ``f(0) = 1``, never increasing, 0 beyond ``max_km``):
  ``linear`` ``1 - d/max_km`` (0.5 at ``max_km/2``); ``exponential`` ``0.5 ** (d/half)`` and
  ``gaussian`` ``0.5 ** (d/half)²`` (both 0.5 at ``half_distance_km``); ``step`` 1 up to ``max_km``
  inclusive. A callable mapping km to [0, 1] is accepted too.
- **Score** = ``max`` over corridors of ``w_c · f(d_c)``: a site is as good as its best corridor. Weights
  are keyed by corridor id, else by corridor ``kind``, else ``"*"`` (default 1); the key ``"access"`` adds
  the nearest access point (interchange) as one more term. Weights are divided by the largest, so the
  score stays in [0, 1]. Without weights the score is ``f(distance_km)``.
- **Uncertainty**: a candidate with a ``precision_m`` (e.g. geocoded to a commune) is somewhere within
  that radius: ``score_lo``/``score_hi`` are its scores at ``d + p`` and ``max(0, d - p)``. Values stay
  exact here (the same engine as the rule); files written by :func:`vpgeo.pipeline.score.score_file`
  round distances to what ``p`` supports (:func:`vpgeo._format.round_to`).
- **Rank** 1 is best: by score (high first), then ``distance_km`` (near first); rows equal in both share
  a rank (``method="min"``: 1, 1, 3). Excluded rows and rows without geometry get no rank.
- **Search bound** ``search_km`` (optional, ≥ ``max_km``): corridors farther are not searched; their
  distance is NaN and ``beyond_km`` says "farther than this" (their score is 0 anyway).
- **Exclusions** are the user's polygon layers only (existing parks, protected land such as Tam Đảo
  National Park). An excluded row keeps its distances, gets ``score`` 0, no rank and ``excluded_reason``.
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
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from vpgeo.crs import METRIC, metric_xy, to_metric
from vpgeo.errors import InputError
from vpgeo.measure import CorridorSet, Measurement, embedded_access_points

__all__ = [
    "DECAYS",
    "decay_score",
    "plot_sensitivity",
    "score_candidates",
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


def _decay_callable(decay: Callable[[NDArray[np.float64]], NDArray[np.float64]], d: NDArray[np.float64]) -> Any:
    with np.errstate(invalid="ignore"):
        out = np.asarray(decay(d), dtype=np.float64)
    finite = out[~np.isnan(d)]
    if out.shape != d.shape or not np.all((finite >= 0) & (finite <= 1)):
        raise InputError("a decay function must return one value in [0, 1] per distance", field="decay")
    return np.where(np.isnan(d), np.nan, out)


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
        result_c: NDArray[np.float64] = _decay_callable(decay, d)
        return result_c
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


def _load_embedded(corridor_set: str | Sequence[str] | None) -> gpd.GeoDataFrame:
    from vpgeo.corridors import select_corridors
    from vpgeo.datasets import load_corridors

    return select_corridors(load_corridors(), corridor_set or "plan")


def _as_frame(data: Any, what: str) -> gpd.GeoDataFrame:
    if isinstance(data, str | Path):
        if what == "corridors":
            from vpgeo.corridors import read_corridor_file

            return read_corridor_file(data)
        from vpgeo.io import read_table

        frame = read_table(Path(data))
        if not isinstance(frame, gpd.GeoDataFrame):
            raise InputError(f"{what} must be a spatial layer (points or polygons)", path=str(data))
        return frame
    if isinstance(data, gpd.GeoSeries):
        return gpd.GeoDataFrame(geometry=data)
    if isinstance(data, gpd.GeoDataFrame):
        return data
    raise InputError(f"{what} must be a GeoDataFrame, a GeoSeries or a file path, got {type(data).__name__}")


def prepare_corridors(
    corridors: Any = None, corridor_set: str | Sequence[str] | None = None, access_points: Any = True
) -> CorridorSet:
    """The :class:`~vpgeo.measure.CorridorSet` :func:`score_candidates` measures against.

    ``corridors=None``: the embedded layer in ``corridor_set`` (default ``"plan"``); ``access_points=True``:
    the embedded access points of those corridors; a layer of your own; ``False``/``None``: none.
    """
    if corridors is None:
        frame = _load_embedded(corridor_set)
    else:
        frame = _as_frame(corridors, "corridors")
        if corridor_set is not None:
            from vpgeo.corridors import select_corridors

            frame = select_corridors(frame, corridor_set)
    access = None
    if access_points is True:
        ids = frame["corridor_id"].astype(str).unique().tolist() if "corridor_id" in frame.columns else []
        access = embedded_access_points(ids)
    elif access_points is not False and access_points is not None:
        access = _as_frame(access_points, "access_points")
    return CorridorSet(frame, access)


_prepare_corridors = prepare_corridors  # the surface and benchmarks use the private name


# -------------------------------------------------------------------------------------------- measures


@dataclass
class _Measured:
    """Distances of every row (metres), the inputs of every re-scoring."""

    m: Measurement
    missing: NDArray[np.bool_]
    excluded_reason: NDArray[Any]  # object: None or text
    precision_m: NDArray[np.float64]  # the candidate's own position precision (NaN: exact / unknown)
    search_km: float | None = None


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
        _exclude_layer(geoms, frame, label, source, reasons)
    return reasons


def _exclude_layer(geoms: NDArray[Any], frame: gpd.GeoDataFrame, label: str, source: Any, reasons: Any) -> None:
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


def _precision(candidates: pd.DataFrame) -> NDArray[np.float64]:
    if "precision_m" not in candidates.columns:
        return np.full(len(candidates), np.nan)
    p = pd.to_numeric(candidates["precision_m"], errors="coerce").to_numpy(dtype=float)
    return np.where(p > 0, p, np.nan)


def _measure(
    candidates: gpd.GeoDataFrame,
    c: CorridorSet,
    exclude: Any,
    progress: bool,
    engine: str,
    search_km: float | None = None,
    **dask_opts: Any,
) -> _Measured:
    if engine not in ("local", "dask"):
        raise InputError(f"unknown engine {engine!r}; use 'local' or 'dask'", field="engine")
    raw = candidates.geometry.to_numpy()
    missing = shapely.is_missing(raw) | shapely.is_empty(raw)
    bound = None if search_km is None else search_km * 1000.0
    kinds = shapely.get_type_id(raw[~missing])
    if engine == "local" and bool((kinds == 0).all()):
        # Points: reprojected as coordinates, measured without building a single geometry.
        xy = metric_xy(candidates, operation=_OP)
        with _progress(len(xy), progress) as tick:
            m = c.measure_points(xy, max_distance_m=bound, progress=tick)
        geoms = shapely.points(xy) if exclude is not None else raw
    else:
        metric = to_metric(candidates, operation=_OP, warn=False)
        geoms = metric.geometry.to_numpy()
        if engine == "local":
            with _progress(len(geoms), progress) as tick:
                m = c.measure(geoms, max_distance_m=bound, progress=tick)
        else:
            m = measure_dask(geoms, metric.crs, c, max_distance_m=bound, **dask_opts)
    reasons = _exclusion_reasons(geoms, exclude)
    reasons[missing] = "no geometry"
    return _Measured(m, missing, reasons, _precision(candidates), search_km)


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


# -------------------------------------------------------------------------------------------- scoring


def _resolve_weights(weights: Mapping[str, float] | None, c: CorridorSet) -> tuple[NDArray[np.float64], float]:
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
    if not c.has_access and access > 0:
        raise InputError("weight 'access' given but access points are off or empty", field="weights")
    top = max(float(w.max()), access)
    if top <= 0:
        raise InputError("all weights are 0: nothing would score", field="weights")
    return w / top, access / top


@dataclass(frozen=True)
class _Params:
    decay: Decay
    half_distance_km: float
    max_km: float
    weights: Mapping[str, float] | None


def _terms(km: NDArray[np.float64], access_km: Any, c: CorridorSet, p: _Params) -> tuple[Any, list[str]]:
    """Per-corridor (and access) score terms; NaN where not measured."""
    w, w_access = _resolve_weights(p.weights, c)
    kw = {"decay": p.decay, "half_distance_km": p.half_distance_km, "max_km": p.max_km}
    terms = decay_score(km, **kw) * w  # type: ignore[arg-type]
    labels = list(c.ids)
    if access_km is not None and w_access > 0:
        a = decay_score(access_km, **kw)  # type: ignore[arg-type]
        terms = np.column_stack([terms, a * w_access])
        labels.append("access")
    return terms, labels


def _best_term(terms: NDArray[np.float64], beyond: NDArray[np.bool_] | None) -> tuple[Any, Any]:
    """The best term of each row and which one; a corridor beyond the search bound scores 0."""
    if beyond is not None:
        pad = np.zeros((len(terms), terms.shape[1] - beyond.shape[1]), dtype=bool)
        terms = np.where(np.column_stack([beyond, pad]), 0.0, terms)
    with np.errstate(invalid="ignore"):
        best = np.nanargmax(np.where(np.isnan(terms), -1.0, terms), axis=1) if terms.shape[1] else None
    if best is None:
        return np.full(len(terms), np.nan), np.zeros(len(terms), dtype=np.intp)
    return terms[np.arange(len(terms)), best], best


def _shifted(km: Any, precision_m: NDArray[np.float64], sign: float) -> Any:
    if km is None:
        return None
    p = np.nan_to_num(precision_m, nan=0.0) / 1000.0
    p = p[:, None] if np.ndim(km) == 2 else p
    return np.maximum(km + sign * p, 0.0)


def _score_range(meas: _Measured, c: CorridorSet, p: _Params, km: Any, access_km: Any) -> tuple[Any, Any]:
    """Scores at the far and near ends of each candidate's precision (``score_lo``, ``score_hi``)."""
    out = []
    for sign in (1.0, -1.0):  # farther: the low score; nearer: the high one
        terms = _terms(_shifted(km, meas.precision_m, sign), _shifted(access_km, meas.precision_m, sign), c, p)[0]
        out.append(_best_term(terms, meas.m.beyond)[0])
    return out[0], out[1]


def _finish(candidates: gpd.GeoDataFrame, meas: _Measured, c: CorridorSet, **params: Any) -> gpd.GeoDataFrame:
    p = _Params(**params)
    m = meas.m
    km = m.per_corridor_m / 1000.0
    dist_m, nearest = c.nearest(m.per_corridor_m)
    dist_km = dist_m / 1000.0
    access_km = m.access_m / 1000.0 if m.access_m is not None else None
    terms, labels = _terms(km, access_km, c, p)
    score, best = _best_term(terms, m.beyond)
    excluded = ~pd.isna(meas.excluded_reason)
    skip = meas.missing | excluded
    score = np.where(meas.missing, np.nan, np.where(excluded, 0.0, score))

    out = candidates.copy()
    prec = meas.precision_m
    out["distance_km"] = dist_km
    out["nearest_corridor"] = pd.Series(np.array(c.ids, dtype=object)[np.maximum(nearest, 0)], index=out.index).where(
        nearest >= 0, None
    )
    for j, cid in enumerate(c.ids):
        out[f"dist_{cid}_km"] = km[:, j]
    if meas.search_km is not None and m.beyond is not None:
        out["beyond_km"] = np.where(m.beyond.all(axis=1) & ~meas.missing, meas.search_km, np.nan)
    if access_km is not None and m.access_idx is not None:
        out["access_km"] = access_km
        i = m.access_idx
        out["nearest_access"] = pd.Series(c.access_ids[np.maximum(i, 0)], index=out.index).where(i >= 0, None)
        out["nearest_access_name"] = pd.Series(c.access_names[np.maximum(i, 0)], index=out.index).where(i >= 0, None)
    out["score"] = score
    if np.isfinite(prec).any():
        lo, hi = _score_range(meas, c, p, km, access_km)
        out["score_lo"] = np.where(skip, score, lo)
        out["score_hi"] = np.where(skip, score, hi)
    out["score_from"] = pd.Series(np.array(labels, dtype=object)[best], index=out.index).where(~skip, None)
    out["rank"] = rank_scores(score, dist_km, skip)
    out["excluded"] = excluded
    out["excluded_reason"] = pd.Series(meas.excluded_reason, index=out.index, dtype=object)
    out.attrs = dict(candidates.attrs)
    out.attrs["scoring"] = _scoring_attrs(c, p, meas.search_km)
    return out


def _scoring_attrs(c: CorridorSet, p: _Params, search_km: float | None) -> dict[str, Any]:
    return {
        "corridors": list(c.ids),
        "decay": p.decay if isinstance(p.decay, str) else getattr(p.decay, "__name__", "callable"),
        "half_distance_km": p.half_distance_km,
        "max_km": p.max_km,
        "weights": dict(p.weights) if p.weights else None,
        "search_km": search_km,
        "corridor_provenance": c.provenance,
    }


def rank_scores(score: NDArray[np.float64], dist_km: NDArray[np.float64], skip: NDArray[np.bool_]) -> pd.Series:
    """1 = best: score descending, then distance ascending; equal rows share the lowest rank; NA if skipped.

    Examples
    --------
    >>> import numpy as np
    >>> rank_scores(np.array([0.5, 0.9, 0.5, 0.5]), np.array([2.0, 1.0, 2.0, 3.0]), np.zeros(4, bool)).tolist()
    [2, 1, 2, 4]
    """
    ranked = np.flatnonzero(~skip & ~np.isnan(score))
    d = np.where(np.isnan(dist_km[ranked]), np.inf, dist_km[ranked])
    s = score[ranked]
    order = np.lexsort((d, -s))  # stable: equal rows keep their input order
    so, do = s[order], d[order]
    new = np.ones(len(order), dtype=bool)
    new[1:] = (so[1:] != so[:-1]) | (do[1:] != do[:-1])
    first = np.maximum.accumulate(np.where(new, np.arange(len(order)), 0))
    values = np.zeros(len(score), dtype=np.int64)
    values[ranked[order]] = first + 1
    mask = np.ones(len(score), dtype=bool)
    mask[ranked] = False
    return pd.Series(pd.arrays.IntegerArray(values, mask))


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


def _check_search(search_km: float | None, max_km: float) -> None:
    if search_km is None:
        return
    if not (isinstance(search_km, int | float) and math.isfinite(search_km) and search_km >= max_km):
        raise InputError(
            f"search_km must be a number of kilometres >= max_km ({max_km:g}), got {search_km!r}", field="search_km"
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
    search_km: float | None = None,
) -> gpd.GeoDataFrame:
    """Score and rank candidate sites by their distance to the corridors.

    Parameters
    ----------
    candidates : GeoDataFrame
        Points (exact and fast) or polygons/lines (GEOS distance, 0 when touching), any CRS; a GeoSeries or
        a DataFrame with ``lon``/``lat`` columns is accepted too. A ``precision_m`` column gives each
        row's position uncertainty (``score_lo``/``score_hi``).
    corridors : GeoDataFrame, path or CorridorSet, optional
        Corridor sections in any CRS (``corridor_id`` groups sections; ``kind`` keys weights), or a
        :class:`~vpgeo.measure.CorridorSet` prepared once. Default: the embedded corridors in ``corridor_set``.
    decay, half_distance_km, max_km
        The decay function and its parameters (see the module's decisions).
    weights : mapping, optional
        Weight per corridor id, per ``kind``, ``"*"`` (others) and ``"access"`` (score access points too).
    access_points : bool or GeoDataFrame
        ``True``: the embedded interchanges of the corridors scored; a layer of your own; ``False``: none.
    exclude : GeoDataFrame, path, shapely geometry, or a list of them
        Polygons whose candidates are excluded (reason from a ``reason`` or ``name`` column).
    engine : {"local", "dask"}
        ``"dask"`` measures partitions on a dask.distributed cluster; results are identical. For data
        larger than memory use :func:`vpgeo.pipeline.score.score_dataset`.
    corridor_set : str or sequence, optional
        Corridor set or ids (see :data:`vpgeo.corridors.CORRIDOR_SETS`); default ``"plan"`` for the
        embedded layer, every corridor of a user's layer.
    scheduler : str or distributed.Client, optional
        Scheduler address (``"tcp://host:8786"``) or a client; default a local threaded cluster.
    npartitions : int, optional
        Partitions for ``engine="dask"`` (default one per 250,000 rows).
    progress : bool
        Show a progress bar (tqdm if installed, else a counter on stderr) on runs of 50,000 rows or more.
    search_km : float, optional
        Stop the corridor search this far (≥ ``max_km``; faster); farther corridors get NaN distances and
        ``beyond_km``.

    Returns
    -------
    GeoDataFrame
        The candidates, every row in order and in their own CRS, with ``distance_km``,
        ``nearest_corridor``, ``dist_<corridor_id>_km`` per corridor, ``access_km``, ``nearest_access`` and
        ``nearest_access_name`` (when access points are on), ``score`` (``score_lo``/``score_hi`` with a
        ``precision_m`` column), ``score_from`` (the corridor, or ``"access"``, giving the score), ``rank``,
        ``excluded``, ``excluded_reason``; ``attrs["scoring"]`` records the parameters.

    Raises
    ------
    InputError
        Unknown decay, engine, corridor set or weight key; non-positive distances; bad exclusion layers.
    CRSError
        Candidates or corridors without a CRS.
    """
    _check_params(half_distance_km, max_km)
    _check_search(search_km, max_km)
    if isinstance(decay, str) and decay not in DECAYS:
        raise InputError(f"unknown decay {decay!r}; use one of {', '.join(DECAYS)}", field="decay")
    frame = _candidates_frame(candidates)
    c = corridors if isinstance(corridors, CorridorSet) else prepare_corridors(corridors, corridor_set, access_points)
    meas = _measure(frame, c, exclude, progress, engine, search_km, scheduler=scheduler, npartitions=npartitions)
    return _finish(frame, meas, c, decay=decay, half_distance_km=half_distance_km, max_km=max_km, weights=weights)


# ----------------------------------------------------------------------------------------------- dask


@contextmanager
def dask_client(scheduler: Any = None) -> Iterator[Any]:
    """A dask.distributed client: the one given, one connected to an address, or a threaded LocalCluster.

    The local cluster has one worker with a thread per CPU: numpy and the k-d tree release the GIL and
    nothing is pickled; inside its tasks every k-d tree query uses one thread
    (:func:`vpgeo.nearest.default_workers`), so dask's threads are the only parallelism.
    """
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
        cluster = LocalCluster(
            processes=False, n_workers=1, threads_per_worker=os.cpu_count() or 1, dashboard_address=":0"
        )
        with cluster, Client(cluster) as client:
            yield client
        return
    with Client(str(scheduler)) as client:
        yield client


def _measure_chunk(geoms: NDArray[Any], c: CorridorSet, max_distance_m: float | None) -> Measurement:
    return c.measure(geoms, max_distance_m=max_distance_m)


def _concat(parts: list[Measurement]) -> Measurement:
    def cat(name: str) -> Any:
        values = [getattr(p, name) for p in parts]
        return None if values[0] is None else np.concatenate(values)

    fields = ("per_corridor_m", "section", "beyond", "access_m", "access_idx")
    return Measurement(*(cat(f) for f in fields))


def measure_dask(
    geoms: NDArray[Any],
    crs: Any,
    c: CorridorSet,
    *,
    max_distance_m: float | None = None,
    scheduler: Any = None,
    npartitions: int | None = None,
) -> Measurement:
    """:meth:`CorridorSet.measure` of in-memory metric geometries, chunk by chunk on a dask cluster.

    The corridor set is sent to every worker once (``scatter(broadcast=True)``) and the chunks are
    scattered, so the task graph stays small. No spatial shuffle: measured, sorting 200,000 points costs
    more than it saves (see docs/scale-out.md).
    """
    n = len(geoms)
    parts = npartitions or max(1, min(n // 250_000 + 1, 512))
    bounds = np.linspace(0, n, parts + 1).astype(int)
    chunks = [geoms[a:b] for a, b in pairwise(bounds) if b > a]
    if not chunks:
        return c.measure(geoms, max_distance_m=max_distance_m)
    with dask_client(scheduler) as client:
        cs = client.scatter(c, broadcast=True)
        data = client.scatter(chunks)
        futures = client.map(_measure_chunk, data, c=cs, max_distance_m=max_distance_m, pure=False)
        results = client.gather(futures)
    return _concat(list(results))


# ----------------------------------------------------------------------------------------- sensitivity


#: A variation counts as "robust" when it keeps at least this rank correlation and top-k overlap.
ROBUST_SPEARMAN = 0.9
ROBUST_TOP_K = 0.8


def _default_grid(base: Mapping[str, Any], c: CorridorSet) -> dict[str, list[Any]]:
    """Variations that can change the ranking.

    Without weights the score is a decreasing function of the nearest distance, so decay shape and
    half-distance can only create or break ties: what reorders candidates is how corridors (and access
    points) are weighted against each other; the decay parameters matter once terms are mixed.
    """
    grid: dict[str, list[Any]] = {}
    weights: list[Any] = [{"*": 0.5, cid: 1.0} for cid in c.ids] if len(c.ids) > 1 else []
    if c.has_access:
        weights += [{"*": 1.0, "access": 1.0}, {"*": 1.0, "access": 0.5}]
    if weights:
        grid["weights"] = weights
    grid["max_km"] = [base["max_km"] * f for f in (0.5, 2.0)]
    mixed = bool(base["weights"]) and len(set(_resolve_weights(base["weights"], c)[0])) > 1
    if mixed or (base["weights"] or {}).get("access"):
        grid["half_distance_km"] = [base["half_distance_km"] * f for f in (0.5, 2.0)]
        if isinstance(base["decay"], str):
            grid["decay"] = [d for d in DECAYS if d != base["decay"]]
    return grid


def _compare(baseline: NDArray[np.float64], rank: NDArray[np.float64], top_k: int) -> dict[str, Any]:
    from scipy.stats import spearmanr

    both = ~np.isnan(baseline) & ~np.isnan(rank)
    a, b = baseline[both], rank[both]
    rho = float(spearmanr(a, b).statistic) if both.sum() > 2 and a.std() > 0 and b.std() > 0 else np.nan
    k = min(top_k, int(both.sum())) or 1
    top_a = set(np.flatnonzero(both & (baseline <= k)))
    top_b = set(np.flatnonzero(both & (rank <= k)))
    overlap = len(top_a & top_b) / k
    return {
        "spearman": round(rho, 6) if not math.isnan(rho) else rho,
        "top_k_overlap": overlap,
        "mean_abs_rank_change": float(np.abs(a - b).mean()) if both.any() else np.nan,
        "n_ranked": int(both.sum()),
        "robust": bool((math.isnan(rho) or rho >= ROBUST_SPEARMAN) and overlap >= ROBUST_TOP_K),
    }


def _summary(table: pd.DataFrame, top_k: int) -> str:
    varied = table[table["parameter"] != "baseline"]
    if varied.empty:
        return "No variation was tried."
    weak = varied[~varied["robust"]]
    if weak.empty:
        return (
            f"The ranking is robust: all {len(varied)} variations keep Spearman ≥ {ROBUST_SPEARMAN:g} and "
            f"≥ {ROBUST_TOP_K:.0%} of the top {top_k}."
        )
    names = ", ".join(f"{p} = {v}" for p, v in zip(weak["parameter"], weak["value"], strict=True))
    return f"The ranking depends on {len(weak)} of {len(varied)} variations: {names}."


def sensitivity(
    candidates: Any,
    corridors: Any = None,
    *,
    param_grid: Mapping[str, Sequence[Any]] | None = None,
    top_k: int = 10,
    **options: Any,
) -> pd.DataFrame:
    """How stable the ranking is when one parameter changes at a time, and whether it is robust.

    Distances are measured once; each variation of ``param_grid`` (``decay``, ``half_distance_km``,
    ``max_km``, ``weights``) re-scores them and is compared with the baseline (``options``, else the
    defaults of :func:`score_candidates`) over the rows ranked in both. The default grid varies what can
    change a ranking: weights favouring each corridor in turn and the access points, ``max_km``, and the
    decay shape and half-distance when the baseline mixes weighted terms (with one unweighted distance
    any decreasing decay gives the same order).

    Returns
    -------
    DataFrame
        One row per variation: ``parameter``, ``value``, ``spearman`` (rank correlation with the baseline),
        ``top_k_overlap`` (share of the baseline's top ``top_k`` still in the top ``top_k``),
        ``mean_abs_rank_change``, ``n_ranked``, ``robust`` (Spearman ≥ :data:`ROBUST_SPEARMAN` and
        overlap ≥ :data:`ROBUST_TOP_K`); the first row is the baseline itself. ``attrs["robust"]`` is
        true when every variation is, and ``attrs["summary"]`` says so in one sentence.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import LineString, Point
    >>> road = gpd.GeoDataFrame({"corridor_id": ["A"]}, geometry=[LineString([(0, 0), (30000, 0)])],
    ...                         crs="EPSG:5897")
    >>> pts = gpd.GeoDataFrame(geometry=[Point(1000 * i, 700 * i) for i in range(20)], crs="EPSG:5897")
    >>> t = sensitivity(pts, road, access_points=False, top_k=5, param_grid={"max_km": [5.0, 20.0]})
    >>> t[["parameter", "value", "spearman", "top_k_overlap", "robust"]]
      parameter     value  spearman  top_k_overlap  robust
    0  baseline  baseline       1.0            1.0    True
    1    max_km       5.0       1.0            1.0    True
    2    max_km      20.0       1.0            1.0    True
    >>> t.attrs["summary"]
    'The ranking is robust: all 2 variations keep Spearman ≥ 0.9 and ≥ 80% of the top 5.'
    """
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
    c = prepare_corridors(corridors, options.pop("corridor_set", None), options.pop("access_points", True))
    grid = dict(param_grid) if param_grid is not None else _default_grid(base, c)
    for key in grid:
        if key not in allowed:
            raise InputError(f"param_grid key {key!r} unknown; use {', '.join(sorted(allowed))}", field="param_grid")
    engine = options.pop("engine", "local")
    search = options.get("search_km")
    for value in grid.get("max_km", []) if search is not None else []:
        _check_search(search, value)  # a bound below a varied max_km would score corridors it never saw
    meas = _measure(frame, c, options.pop("exclude", None), options.pop("progress", False), engine, **options)
    baseline = _finish(frame, meas, c, **base)["rank"].to_numpy(dtype=float, na_value=np.nan)
    rows: list[dict[str, Any]] = []
    variations: list[tuple[str, Any]] = [("baseline", "baseline")]
    variations += [(key, value) for key, values in grid.items() for value in values]
    for key, value in variations:
        params = dict(base) if key == "baseline" else {**base, key: value}
        rank = _finish(frame, meas, c, **params)["rank"].to_numpy(dtype=float, na_value=np.nan)
        shown = value if isinstance(value, str | int | float) else repr(value)
        rows.append({"parameter": key, "value": shown, **_compare(baseline, rank, top_k)})
    table = pd.DataFrame(rows)
    table.attrs["top_k"] = top_k
    table.attrs["baseline"] = {k: (v if not callable(v) else repr(v)) for k, v in base.items()}
    table.attrs["robust"] = bool(table["robust"].all())
    table.attrs["summary"] = _summary(table, top_k)
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
