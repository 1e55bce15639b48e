"""Judge the plan: the priority-along-corridors rule, and the plan's targets against the data.

Decision 158/QĐ-TTg (6 Feb 2024) puts new industrial parks along the Hà Nội–Lào Cai expressway, Ring Road 4
and Ring Road 5. :func:`check_priority_rule` gives every site a verdict with buffer ``B``, distance ``d`` and
combined positional uncertainty ``p`` (the site's precision plus that of the corridor section):
``yes`` if ``d + p <= B``, ``no`` if ``d - p > B``, else ``uncertain``; a site without a position is
``uncertain``. With several corridors a site is ``yes`` when any corridor surely is within ``B``, and ``no``
only when none can be.

Examples
--------
>>> verdict(900.0, 100.0, 1000.0), verdict(1050.0, 100.0, 1000.0), verdict(1101.0, 100.0, 1000.0)
('yes', 'uncertain', 'no')
"""

from __future__ import annotations

import json
import math
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from vpgeo.crs import WGS84, to_metric
from vpgeo.errors import InputError
from vpgeo.measure import _corridor_distances
from vpgeo.regions import REGION_CRS, Interval, distance_intervals, point_regions, share_within
from vpgeo.sites import PHASES
from vpgeo.text import fold, nfc

__all__ = [
    "DEFAULT_APPLIES_TO",
    "PLAN",
    "RuleResult",
    "check_priority_rule",
    "parse_applies_to",
    "verdict",
]

PLAN_SOURCE = "Decision 158/QĐ-TTg (6 Feb 2024), Vĩnh Phúc provincial plan 2021–2030, vision 2050"
#: The plan's figures checked here (../shared/facts/plan.md; the seed article).
PLAN: dict[str, dict[str, Any]] = {
    "kcn_2030": {
        "value": 24,
        "unit": "KCN",
        "label_en": "Industrial parks planned by 2030",
        "label_vi": "Khu công nghiệp quy hoạch đến 2030",
    },
    "ccn_2030": {
        "value": 47,
        "unit": "CCN",
        "label_en": "Industrial clusters by 2030",
        "label_vi": "Cụm công nghiệp đến 2030",
    },
    "ccn_2050": {
        "value": 51,
        "unit": "CCN",
        "label_en": "Industrial clusters by 2050",
        "label_vi": "Cụm công nghiệp đến 2050",
    },
    "ccn_new_2030": {
        "value": 31,
        "unit": "CCN",
        "label_en": "New industrial clusters by 2030",
        "label_vi": "Cụm công nghiệp thành lập mới đến 2030",
    },
    "ccn_new_area_ha": {
        "value": 1247.0,
        "unit": "ha",
        "label_en": "Area of the new clusters (~)",
        "label_vi": "Diện tích các cụm công nghiệp mới (~)",
    },
    "industrial_land_after_2030_ha": {
        "value": 7000.0,
        "unit": "ha",
        "label_en": "Industrial-park land after 2030",
        "label_vi": "Nhu cầu đất khu công nghiệp sau 2030",
    },
    "industrial_land_2050_ha": {
        "value": 10000.0,
        "unit": "ha",
        "label_en": "Industrial-park land by 2050",
        "label_vi": "Đất khu công nghiệp tầm nhìn 2050",
    },
}

#: KCN that are new or planned (not ``existing``), the rule's default scope.
DEFAULT_APPLIES_TO = "KCN:new_2030|2031_2050|older_plan|unknown"

VERDICTS = ("yes", "no", "uncertain")


def verdict(distance_m: float, uncertainty_m: float, buffer_m: float) -> str:
    """The rule's verdict for one site and one corridor (NaN distance → ``uncertain``)."""
    if math.isnan(distance_m) or math.isnan(uncertainty_m):
        return "uncertain"
    if distance_m + uncertainty_m <= buffer_m:
        return "yes"
    if distance_m - uncertainty_m > buffer_m:
        return "no"
    return "uncertain"


def parse_applies_to(spec: str) -> dict[str, set[str]]:
    """Parse ``KIND[:PHASE|PHASE…][,KIND…]`` (or ``all``) into {kind: phases}.

    Examples
    --------
    >>> parse_applies_to("KCN:new_2030|older_plan,CCN") == {
    ...     "KCN": {"new_2030", "older_plan"}, "CCN": set(PHASES)}
    True
    """
    text = spec.strip()
    if text.lower() == "all":
        return {"KCN": set(PHASES), "CCN": set(PHASES)}
    out: dict[str, set[str]] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        kind, _, phases = part.partition(":")
        kind = kind.strip().upper()
        if kind not in {"KCN", "CCN"}:
            raise InputError(
                f"--applies-to: unknown kind {kind!r} in {spec!r}; use KCN or CCN, optionally with "
                f"phases, e.g. {DEFAULT_APPLIES_TO!r}, or 'all'"
            )
        chosen = {p.strip() for p in phases.split("|") if p.strip()} if phases else set(PHASES)
        bad = chosen - set(PHASES)
        if bad:
            raise InputError(
                f"--applies-to: unknown phase(s) {sorted(bad)} in {spec!r}; phases are {', '.join(PHASES)}"
            )
        out.setdefault(kind, set()).update(chosen)
    if not out:
        raise InputError(f"--applies-to: empty specification {spec!r}; e.g. {DEFAULT_APPLIES_TO!r}")
    return out


@dataclass
class RuleResult:
    """The rule's outcome: the site table, the counts, the targets, and what the data cover."""

    table: gpd.GeoDataFrame
    rule: dict[str, Any]
    counts: dict[str, Any]
    targets: dict[str, dict[str, Any]]
    coverage: dict[str, Any]
    by_district: pd.DataFrame
    by_commune_2025: pd.DataFrame
    data: dict[str, Any] = field(default_factory=dict)
    #: True when the sites are vpgeo's embedded plan list; a user's own sites are not compared with the plan.
    embedded_sites: bool = True

    def to_dict(self) -> dict[str, Any]:
        """Everything but the tables, JSON-ready."""
        return {
            "rule": self.rule,
            "counts": self.counts,
            "targets": self.targets,
            "coverage": self.coverage,
            "by_district": _records(self.by_district),
            "by_commune_2025": _records(self.by_commune_2025),
            "data": self.data,
            "embedded_sites": self.embedded_sites,
        }

    def to_json(self, *, indent: int = 2) -> str:
        """The ``compliance.json`` document."""
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent, default=_json_default)


def _json_default(value: object) -> object:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return None if np.isnan(value) else float(value)
    if isinstance(value, set | frozenset | tuple):
        return sorted(value)
    return str(value)


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    clean = df.astype(object).where(pd.notna(df), None)
    return [{str(k): v for k, v in row.items()} for row in clean.to_dict(orient="records")]


def _is_embedded(sites: gpd.GeoDataFrame) -> bool:
    """True for vpgeo's own site list (read by :func:`vpgeo.datasets.load_sites`), not a user's table."""
    prov = sites.attrs.get("provenance") or {}
    return prov.get("file") == "data/sites.geojson" and "supplied_by" not in prov


# Former Vĩnh Phúc (lon/lat box, a little generous): corridors farther than _FAR_M from it are suspicious.
_PROVINCE_BOX = (105.30, 21.10, 105.85, 21.60)
_FAR_M = 50_000.0


def _warn_far_corridors(chosen_m: gpd.GeoDataFrame) -> None:
    box = gpd.GeoSeries([shapely.box(*_PROVINCE_BOX)], crs=WGS84).to_crs(chosen_m.crs).iloc[0]
    for cid, grp in chosen_m.groupby(chosen_m["corridor_id"].astype(str), sort=True):
        far = float(shapely.distance(box, shapely.union_all(grp.geometry.to_numpy())))
        if far > _FAR_M:
            warnings.warn(
                f"corridor {cid!r} lies {far / 1000:,.0f} km from Vĩnh Phúc: wrong layer or wrong CRS? Its "
                "verdicts will all be 'no'",
                UserWarning,
                stacklevel=3,
            )


def _site_regions(
    sites: gpd.GeoDataFrame, sites_m: gpd.GeoDataFrame
) -> tuple[gpd.GeoSeries, tuple[gpd.GeoSeries, np.ndarray]]:
    """The sites' regions (EPSG:5897) and which of them are discs about a point (centre, radius).

    ``region`` holds geometries in the CRS recorded in ``attrs["region_crs"]`` (else the frame's).
    """
    prec = _num(sites_m, "precision_m").to_numpy(dtype=float)
    geoms = sites_m.geometry
    if "region" in sites.columns:
        src_crs = sites.attrs.get("region_crs") or sites.crs
        raw = gpd.GeoSeries(sites["region"].to_numpy(), index=sites.index, crs=src_crs)
        reg = to_metric(raw, operation="rule", crs=REGION_CRS, warn=False)
        method = sites.get("region_method", pd.Series("", index=sites.index)).astype(str)
        is_disc = (method == "point_disc").to_numpy()
    else:
        reg = point_regions(geoms, prec)
        is_disc = np.asarray(geoms.geom_type.isin(["Point"]).to_numpy() & np.isfinite(prec), dtype=bool)
    radii = np.where(is_disc, prec, np.nan)
    return reg, (geoms, radii)


def _interval_columns(
    table: gpd.GeoDataFrame, intervals: dict[str, Interval], buffer_m: float
) -> tuple[np.ndarray, np.ndarray]:
    """Add dmin_/dmax_/verdict_<id> columns; return the set's (dmin, dmax) in metres."""
    n = len(table)
    set_lo, set_hi = np.full(n, np.inf), np.full(n, np.inf)
    for cid in sorted(intervals):
        iv = intervals[cid]
        table[f"dmin_{cid}_km"] = iv.dmin / 1000.0
        table[f"dmax_{cid}_km"] = iv.dmax / 1000.0
        table[f"verdict_{cid}"] = _interval_verdict(iv.dmin, iv.dmax, buffer_m)
        set_lo = np.fmin(set_lo, np.where(np.isnan(iv.dmin), np.inf, iv.dmin))
        set_hi = np.fmin(set_hi, np.where(np.isnan(iv.dmax), np.inf, iv.dmax))
    return set_lo, set_hi


def _interval_verdict(dmin: np.ndarray, dmax: np.ndarray, buffer_m: float) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        out = np.where(dmax <= buffer_m, "yes", np.where(dmin > buffer_m, "no", "uncertain"))
    return np.where(np.isnan(dmin) | np.isnan(dmax), "uncertain", out).astype(object)


def _nearest(intervals: dict[str, Interval], n: int) -> np.ndarray:
    """The corridor whose interval is lowest (dmax, then dmin, to the metre; ties → the smaller id)."""
    best: list[str | None] = [None] * n
    keyv = [(math.inf, math.inf)] * n
    for cid in sorted(intervals):
        iv = intervals[cid]
        for i in range(n):
            if np.isnan(iv.dmax[i]):
                continue
            k = (round(float(iv.dmax[i])), round(float(iv.dmin[i])))
            if k < keyv[i]:
                keyv[i], best[i] = k, cid
    return np.array(best, dtype=object)


def _judge(
    sites: gpd.GeoDataFrame,
    chosen: gpd.GeoDataFrame,
    buffer_m: float,
    access_points: gpd.GeoDataFrame | bool | None,
) -> tuple[gpd.GeoDataFrame, dict[str, Interval]]:
    """The rule's table: per-corridor intervals and verdicts from the sites' regions, the set's verdict."""
    user = not _is_embedded(sites)
    sites_m = to_metric(sites, operation="check_priority_rule", crs=REGION_CRS, warn=user and len(sites) > 0)
    chosen_m = to_metric(chosen, operation="check_priority_rule", crs=REGION_CRS, warn=False)
    if len(chosen_m):
        _warn_far_corridors(chosen_m)
    table, _ = _corridor_distances(sites_m, chosen_m, corridor_set=None, access_points=access_points)
    table = table.set_geometry(gpd.GeoSeries(sites.geometry.to_numpy(), index=table.index, crs=sites.crs))
    regions, discs = _site_regions(sites, sites_m)
    intervals = distance_intervals(regions, chosen_m, buffer_m=buffer_m, discs=discs)
    lo, hi = _interval_columns(table, intervals, buffer_m)
    known = np.isfinite(lo) & np.isfinite(hi)
    table["point_distance_km"] = table["distance_km"]
    # the printed figure is the interval itself: distance_km ± uncertainty_m is exactly [dmin, dmax]
    table["distance_km"] = np.where(known, (np.where(known, hi, 0.0) + np.where(known, lo, 0.0)) / 2000.0, np.nan)
    table["uncertainty_m"] = np.where(known, (np.where(known, hi, 0.0) - np.where(known, lo, 0.0)) / 2.0, np.nan)
    table["nearest_corridor"] = _nearest(intervals, len(table))
    table["within_buffer"] = np.where(
        known, _interval_verdict(np.where(known, lo, np.nan), np.where(known, hi, np.nan), buffer_m), "uncertain"
    )
    table["p_within"] = share_within(regions, chosen_m, buffer_m) if len(chosen_m) else np.nan
    table["p_within_lo"] = share_within(regions, chosen_m, buffer_m, widen=-1) if len(chosen_m) else np.nan
    table["p_within_hi"] = share_within(regions, chosen_m, buffer_m, widen=1) if len(chosen_m) else np.nan
    table["has_region"] = ~(shapely.is_missing(regions.to_numpy()) | shapely.is_empty(regions.to_numpy()))
    return table, intervals


def _unplaced(table: pd.DataFrame) -> pd.Series:
    """Sites whose position nothing bounds but the province (or nothing at all)."""
    method = table.get("region_method", pd.Series("", index=table.index)).astype(str)
    return ~table["has_region"].astype(bool) | method.isin(["province", "none"])


def _verdict_counts(table: pd.DataFrame, col: str) -> dict[str, int]:
    return {v: int((table[col] == v).sum()) for v in VERDICTS}


def _empty_sites(sites: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    out = sites.copy()
    for col in ("kind", "phase"):
        if col not in out.columns:
            out[col] = pd.Series([], dtype=object)
    return out


def check_priority_rule(
    sites: gpd.GeoDataFrame | None = None,
    corridors: gpd.GeoDataFrame | None = None,
    *,
    buffer_km: float = 5.0,
    corridor_set: str | Sequence[str] = "plan",
    applies_to: str = DEFAULT_APPLIES_TO,
    access_points: gpd.GeoDataFrame | bool | None = True,
    boundaries: Literal["auto", "official", "approx"] | None = "approx",
) -> RuleResult:
    """Check the priority-along-corridors rule for every site, and the plan's targets.

    Parameters
    ----------
    sites : GeoDataFrame, optional
        Sites with ``kind``, ``phase``, ``precision_m`` and, when known, ``region`` (see
        :func:`vpgeo.regions.site_regions`; without it a point's region is its disc of ``precision_m``, a
        polygon is its own region); the embedded sites (regions from the shipped boundaries) by default.
    corridors : GeoDataFrame, optional
        Corridor sections with ``corridor_id`` and ``precision_m``; the embedded corridors by default.
    buffer_km : float
        The buffer ``B`` within which a site counts as "along" a corridor.
    corridor_set : str or sequence of str
        The corridors the rule names (see :data:`vpgeo.corridors.CORRIDOR_SETS`).
    applies_to : str
        Which sites the rule applies to (see :func:`parse_applies_to`); verdicts are given for every site.
    access_points : GeoDataFrame, bool or None
        Passed to :func:`vpgeo.measure.corridor_distances`.
    boundaries : {"approx", "official", "auto"} or None
        When ``sites`` have no ``region`` column, the boundaries their regions are cut from (see
        :func:`vpgeo.regions.sites_with_regions`: communes named by code, districts, the province);
        ``None``: a point's region is its disc of ``precision_m`` and a site without one has none.

    Returns
    -------
    RuleResult
        ``table`` has, per corridor ``<id>`` of the set, ``dmin_<id>_km`` / ``dmax_<id>_km`` (the interval
        the true distance from the site's region lies in, corridor precision included) and ``verdict_<id>``
        (yes if dmax <= B, no if dmin > B); for the set, ``within_buffer`` (yes if any corridor says yes, no
        if all say no), ``distance_km`` ± ``uncertainty_m`` (= the set's interval), ``nearest_corridor``,
        ``point_distance_km`` (from the best point), ``p_within`` (share of the region within B of the
        centrelines) with ``p_within_lo`` / ``p_within_hi`` (at B ∓ the corridors' precision), and
        ``rule_applies``. ``counts`` counts the verdicts, overall and per corridor.

    Examples
    --------
    >>> r = check_priority_rule(buffer_km=5)
    >>> sum(r.counts["applicable"].values()) == int(r.table["rule_applies"].sum())
    True
    """
    if not (isinstance(buffer_km, int | float) and math.isfinite(buffer_km) and buffer_km >= 0):
        raise InputError(f"buffer_km must be a non-negative number of kilometres, got {buffer_km!r}")
    scope = parse_applies_to(applies_to)
    if sites is None:
        from vpgeo.datasets import load_sites

        sites = load_sites()
    if corridors is None:
        from vpgeo.datasets import load_corridors

        corridors = load_corridors()
    if len(sites) == 0:
        sites = _empty_sites(sites)
    elif boundaries is not None and "region" not in sites.columns:
        from vpgeo.regions import sites_with_regions

        sites = sites_with_regions(sites, boundaries=boundaries)
    for col in ("kind", "phase"):
        if col not in sites.columns:
            raise InputError(f"sites need a {col!r} column for the rule's scope", field=col)
    from vpgeo.corridors import select_corridors

    chosen = select_corridors(corridors, corridor_set)
    chosen_ids = sorted(dict.fromkeys(chosen["corridor_id"].astype(str)))
    buffer_m = buffer_km * 1000.0
    table, _ = _judge(sites, chosen, buffer_m, access_points)
    kinds = table["kind"].astype(str).str.upper()
    # a user table without phases: unknown, which the default scope includes
    phases = table["phase"].astype(object).where(table["phase"].notna(), "unknown").astype(str).replace({"": "unknown"})
    table["rule_applies"] = np.array(
        [k in scope and p in scope[k] for k, p in zip(kinds, phases, strict=True)], dtype=bool
    )
    applicable = table[table["rule_applies"]]
    counts = {
        "applicable": _verdict_counts(applicable, "within_buffer"),
        "all_sites": _verdict_counts(table, "within_buffer"),
        "applicable_without_position": int(_unplaced(applicable).sum()),
        "per_corridor": {
            cid: {
                "applicable": _verdict_counts(applicable, f"verdict_{cid}"),
                "all_sites": _verdict_counts(table, f"verdict_{cid}"),
            }
            for cid in chosen_ids
        },
    }
    embedded = _is_embedded(sites)
    targets, coverage = plan_targets(table, embedded=embedded)
    return RuleResult(
        table=table,
        rule=_rule_block(buffer_km, corridor_set, chosen_ids, applies_to),
        counts=counts,
        targets=targets,
        coverage=coverage,
        by_district=summarise(table, "district"),
        by_commune_2025=summarise(table, "commune_2025"),
        data=_data_block(sites, corridors),
        embedded_sites=embedded,
    )


def _rule_block(
    buffer_km: float, corridor_set: str | Sequence[str], chosen_ids: list[str], applies_to: str
) -> dict[str, Any]:
    return {
        "text_vi": "Ưu tiên phát triển khu công nghiệp mới dọc theo các trục giao thông huyết mạch: "
        "cao tốc Hà Nội – Lào Cai, đường vành đai 4, vành đai 5.",
        "text_en": "New industrial parks are prioritised along the arterial corridors: the Hà Nội–Lào Cai "
        "expressway, Ring Road 4 and Ring Road 5.",
        "source": PLAN_SOURCE,
        "buffer_km": float(buffer_km),
        "corridor_set": corridor_set if isinstance(corridor_set, str) else list(corridor_set),
        "corridors": chosen_ids,
        "applies_to": applies_to,
        "precision_policy": "each site is the region it must lie in (its disc of precision for a point, its "
        "commune(s), district or the province otherwise); per corridor, dmin/dmax = least/greatest distance "
        "from the region to the line, widened by the section's precision_m; yes if dmax <= B, no if dmin > B, "
        "else uncertain; the rule: yes if any corridor says yes, no if all say no; no region -> uncertain",
        "crs": "EPSG:5897 (VN-2000 / TM-3 105°00′)",
    }


def _num(df: pd.DataFrame, col: str) -> pd.Series:
    """A numeric column, or NaNs when the table has none (user tables may lack optional columns)."""
    if col not in df.columns:
        return pd.Series(np.nan, index=df.index, dtype=float)
    return pd.to_numeric(df[col], errors="coerce")


#: Larger than the whole former province (1,236 km²): such an area is an error, never summed.
MAX_AREA_HA = 123_600.0


def _clean_area(values: pd.Series) -> pd.Series:
    """Areas that can be true (0 < a <= the province); others → NaN (rejected upstream, never summed)."""
    return values.where((values > 0) & (values <= MAX_AREA_HA))


def _area(df: pd.DataFrame, col: str = "area_ha") -> float:
    return float(_clean_area(_num(df, col)).fillna(0).sum())


def _round_ha(value: float) -> int:
    """Totals of areas given to 1-10 ha, rounded to 10 ha: no more digits than the inputs carry."""
    return int(round(value / 10.0) * 10)


_ZONE_SUFFIX = re.compile(r"\s*\([^)]*\)|\s+[–-]\s+khu\b.*$", re.IGNORECASE)


def park_key(name: object) -> str:
    """The park a row belongs to: zones and phases of one park share a key.

    >>> park_key("KCN Tam Dương II – khu A") == park_key("KCN Tam Dương II – khu B")
    True
    >>> park_key('KCN Thái Hòa – Liễn Sơn – Liên Hòa (phân khu 1, "KCN Thái Hòa, Bắc Bình")')
    'thai hoa lien son lien hoa'
    """
    return fold(_ZONE_SUFFIX.sub("", nfc(name)).removeprefix("KCN ").removeprefix("CCN "))


#: How sure the data are that a park exists or is in the 2021-2030 plan, by phase.
EVIDENCE = {
    "existing": "confirmed",
    "new_2030": "confirmed",
    "2031_2050": "confirmed",
    "older_plan": "older_plan",
    "unknown": "unknown",
}
EVIDENCE_LEVELS = ("confirmed", "older_plan", "unknown")
_WHAT = {
    "kcn_2030": "number of KCN the plan lists for 2030 (existing and new together)",
    "ccn_2030": "number of CCN in the plan by 2030 (existing and new)",
    "ccn_2050": "number of CCN in the 2050 vision",
    "ccn_new_2030": "CCN to be newly established by 2030",
    "ccn_new_area_ha": "area of the CCN to be newly established by 2030",
    "industrial_land_after_2030_ha": "industrial-park land the province needs after 2030: a demand for land, "
    "compared with the area of the KCN that exist or are planned for 2030",
    "industrial_land_2050_ha": "industrial-park land in the 2050 vision: a different, larger quantity than the "
    "demand after 2030, compared with the 2050 extent of every KCN in the plan",
}


def _kcn_by_evidence(kcn: pd.DataFrame) -> dict[str, pd.DataFrame]:
    level = kcn["phase"].astype(str).map(EVIDENCE).fillna("unknown")
    return {lv: kcn[level == lv] for lv in EVIDENCE_LEVELS}


def _park_keys(kcn: pd.DataFrame) -> pd.Series:
    # without names every row counts as its own park
    if "name" in kcn.columns:
        return kcn["name"].map(park_key)
    return pd.Series(kcn.index.astype(str), index=kcn.index)


def _parks(kcn: pd.DataFrame) -> int:
    return int(_park_keys(kcn).nunique()) if len(kcn) else 0


def _parks_by_evidence(kcn: pd.DataFrame) -> dict[str, int]:
    """Distinct parks per evidence level; a park with zones at several levels counts at its best one."""
    if not len(kcn):
        return dict.fromkeys(EVIDENCE_LEVELS, 0)
    rank = kcn["phase"].astype(str).map(EVIDENCE).fillna("unknown").map(EVIDENCE_LEVELS.index)
    best = rank.groupby(_park_keys(kcn).to_numpy()).min()
    return {lv: int((best == i).sum()) for i, lv in enumerate(EVIDENCE_LEVELS)}


def _in_data(table: pd.DataFrame) -> dict[str, tuple[dict[str, float], str]]:
    """Per target: the value in the data by evidence level, and how it was counted."""
    kind = table["kind"].astype(str).str.upper()
    phase = table["phase"].astype(str)
    kcn, ccn = table[kind == "KCN"], table[kind == "CCN"]
    cph = phase[kind == "CCN"]
    by = _kcn_by_evidence(kcn)
    land_2030 = {lv: _area(d[d["phase"].astype(str) != "2031_2050"]) for lv, d in by.items()}
    land_2050 = {
        lv: float(_clean_area(_num(d, "area_ha_2050")).fillna(_clean_area(_num(d, "area_ha"))).fillna(0).sum())
        for lv, d in by.items()
    }
    return {
        "kcn_2030": (
            {k: float(v) for k, v in _parks_by_evidence(kcn).items()},
            "distinct KCN (zones of one park count once, at the best evidence of its zones)",
        ),
        "ccn_2030": (
            {"confirmed": int(cph.isin(["existing", "new_2030"]).sum())},
            "CCN with phase existing or new_2030",
        ),
        "ccn_2050": (
            {"confirmed": int(cph.isin(["existing", "new_2030", "2031_2050"]).sum())},
            "CCN with phase existing, new_2030 or 2031_2050",
        ),
        "ccn_new_2030": ({"confirmed": int((cph == "new_2030").sum())}, "CCN with phase new_2030"),
        "ccn_new_area_ha": ({"confirmed": _area(ccn[cph == "new_2030"])}, "area_ha of CCN with phase new_2030"),
        "industrial_land_after_2030_ha": (land_2030, "area_ha of KCN existing or planned for 2030"),
        "industrial_land_2050_ha": (land_2050, "area_ha_2050 (else area_ha) of every KCN"),
    }


def plan_targets(table: pd.DataFrame, *, embedded: bool = True) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """Compare the plan's figures with what the data hold, by evidence level, and say what the data cover.

    KCN count as ``confirmed`` (existing, or named for 2030 or 2031-2050), ``older_plan`` (only in earlier
    plans, not confirmed for 2030) or ``unknown``; only confirmed ones are compared with a target
    (``in_data``), the others are given beside it (``in_data_by_evidence``). Areas are totals rounded to
    10 ha. The facts behind the embedded sites are not the plan's official list (its appendix could not be
    read), so a gap is a gap in the data as much as in the plan. A user's own sites (``embedded`` false) are
    not compared with the plan at all: ``targets`` is empty and the coverage speaks of the data given.
    """
    coverage = _coverage(table, embedded=embedded)
    if not embedded:
        return {}, coverage
    targets: dict[str, dict[str, Any]] = {}
    for k, (values, how) in _in_data(table).items():
        spec = PLAN[k]
        ha = spec["unit"] == "ha"
        by_level = {lv: (_round_ha(v) if ha else int(v)) for lv, v in values.items()}
        value = by_level["confirmed"]
        targets[k] = {
            **{f: v for f, v in spec.items() if f != "value"},
            "plan": spec["value"],
            "what_it_counts": _WHAT[k],
            "in_data": value,
            "in_data_by_evidence": by_level,
            "gap": (_round_ha(spec["value"] - value) if ha else int(spec["value"] - value)),
            "share": round(float(value) / float(spec["value"]), 2),
            "how_counted": how + ("; confirmed only (older-plan and unknown beside it)" if len(by_level) > 1 else ""),
        }
    return targets, coverage


def _coverage(table: pd.DataFrame, *, embedded: bool) -> dict[str, Any]:
    kind = table["kind"].astype(str).str.upper()
    kcn, ccn = table[kind == "KCN"], table[kind == "CCN"]
    by = _parks_by_evidence(kcn)
    n_parks = _parks(kcn)
    no_area = int(_clean_area(_num(table, "area_ha")).isna().sum())
    no_position = int(_unplaced(table).sum()) if "has_region" in table else 0
    out: dict[str, Any] = {
        "embedded_sites": embedded,
        "kcn_rows": len(kcn),
        "kcn_known": n_parks,
        "kcn_by_evidence": by,
        "ccn_known": len(ccn),
        "sites_without_area": no_area,
        "sites_without_position": no_position,
    }
    if not embedded:
        out["statement_en"] = (
            f"{len(table)} sites given ({n_parks} KCN, {len(ccn)} CCN); the rule is checked for them. The "
            "plan's totals (24 KCN, 47 CCN, 7,000 / 10,000 ha) concern the whole province and are not compared "
            "with a list of selected sites."
        )
        out["statement_vi"] = (
            f"Đã nhập {len(table)} khu/cụm ({n_parks} khu công nghiệp, {len(ccn)} cụm công nghiệp); quy tắc được "
            "kiểm tra cho các khu này. Các chỉ tiêu tổng của quy hoạch (24 KCN, 47 CCN, 7.000 / 10.000 ha) là của "
            "cả tỉnh nên không so sánh với danh sách được chọn."
        )
        return out
    plan_kcn, plan_ccn = PLAN["kcn_2030"]["value"], PLAN["ccn_2030"]["value"]
    ccn_2030 = int(ccn["phase"].astype(str).isin(["existing", "new_2030"]).sum())
    out.update({"kcn_plan": plan_kcn, "ccn_known_2030": ccn_2030, "ccn_plan_2030": plan_ccn})
    out["statement_en"] = (
        f"{by['confirmed']} KCN are confirmed here against the plan's {plan_kcn} (and {by['older_plan']} only "
        f"from earlier plans, not confirmed for 2030, {by['unknown']} of unknown status), and {ccn_2030} of its "
        f"{plan_ccn} CCN for 2030; the list is reconstructed from news and provincial pages, not the plan's "
        "appendix, so it cannot be matched to the plan one to one and is not complete."
    )
    out["statement_vi"] = (
        f"Dữ liệu xác nhận {by['confirmed']} khu công nghiệp so với {plan_kcn} của quy hoạch (thêm "
        f"{by['older_plan']} chỉ có trong quy hoạch cũ, chưa xác nhận đến 2030; {by['unknown']} chưa rõ tình "
        f"trạng) và {ccn_2030}/{plan_ccn} cụm công nghiệp đến 2030; danh sách được tổng hợp từ báo chí và trang "
        "của tỉnh, không phải phụ lục quy hoạch, nên chưa đối chiếu được từng khu và chưa đầy đủ."
    )
    return out


def summarise(table: pd.DataFrame, by: str) -> pd.DataFrame:
    """Counts, hectares and rule verdicts per administrative unit (``district`` or ``commune_2025``).

    A site listed in several units (``"Xã A;Xã B"``) counts in the first only, so totals add up.
    """
    if by not in table.columns:
        return pd.DataFrame(columns=[by])
    t = pd.DataFrame(
        {
            by: table[by].fillna("(unknown)").astype(str).str.split(";").str[0].str.strip(),
            "kind": table["kind"].astype(str).str.upper(),
            "area_ha": _clean_area(_num(table, "area_ha")),
            "verdict": table.get("within_buffer"),
            "applies": table.get("rule_applies", False),
        }
    )
    g = t.groupby(by, sort=True)
    out = pd.DataFrame(
        {
            "n_kcn": g["kind"].agg(lambda s: int((s == "KCN").sum())),
            "n_ccn": g["kind"].agg(lambda s: int((s == "CCN").sum())),
            "kcn_ha": t[t["kind"] == "KCN"].groupby(by)["area_ha"].sum(min_count=1),
            "ccn_ha": t[t["kind"] == "CCN"].groupby(by)["area_ha"].sum(min_count=1),
        }
    )
    out[["kcn_ha", "ccn_ha"]] = out[["kcn_ha", "ccn_ha"]].fillna(0.0).round(2)
    out["industrial_ha"] = (out["kcn_ha"] + out["ccn_ha"]).round(2)
    applied = t[t["applies"].astype(bool)].groupby(by)["verdict"]
    for v in VERDICTS:
        n = applied.agg(lambda s, v=v: int((s == v).sum()))
        out[f"rule_{v}"] = n.reindex(out.index).astype(float).fillna(0).astype(int)
    return out.reset_index()


def _data_block(sites: gpd.GeoDataFrame, corridors: gpd.GeoDataFrame) -> dict[str, Any]:
    from vpgeo import __version__

    return {
        "sites": dict(sites.attrs.get("provenance", {"layer": "sites", "file": "user-supplied"})),
        "corridors": dict(corridors.attrs.get("provenance", {"layer": "corridors", "file": "user-supplied"})),
        "plan": PLAN_SOURCE,
        "vpgeo_version": __version__,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
