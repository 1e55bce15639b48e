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
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from vpgeo.errors import InputError
from vpgeo.measure import _corridor_distances, distance_column
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
        }

    def to_json(self, *, indent: int = 2) -> str:
        """The ``compliance.json`` document."""
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent, default=_json_default)

    def to_markdown(self) -> str:
        """The ``compliance.md`` document, in Vietnamese and English."""
        from vpgeo.report import compliance_markdown

        return compliance_markdown(self)


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


def _verdicts(
    table: gpd.GeoDataFrame, corridor_ids: Sequence[str], precisions: dict[str, np.ndarray], buffer_m: float
) -> tuple[np.ndarray, np.ndarray]:
    site_p = (
        pd.to_numeric(table["precision_m"], errors="coerce").to_numpy(dtype=float)
        if ("precision_m" in table)
        else np.zeros(len(table))
    )
    lower = np.full(len(table), np.inf)
    upper = np.full(len(table), np.inf)
    for cid in corridor_ids:
        d = table[distance_column(cid)].to_numpy(dtype=float) * 1000.0
        p = site_p + np.nan_to_num(precisions[cid], nan=0.0)
        lower = np.fmin(lower, np.where(np.isnan(d), np.inf, d - p))
        upper = np.fmin(upper, np.where(np.isnan(d) | np.isnan(p), np.inf, d + p))
    out = np.where(upper <= buffer_m, "yes", np.where(lower > buffer_m, "no", "uncertain"))
    known = np.isfinite(lower) & ~np.isnan(site_p)
    return np.where(known, out, "uncertain"), site_p


def check_priority_rule(
    sites: gpd.GeoDataFrame | None = None,
    corridors: gpd.GeoDataFrame | None = None,
    *,
    buffer_km: float = 5.0,
    corridor_set: str | Sequence[str] = "plan",
    applies_to: str = DEFAULT_APPLIES_TO,
    access_points: gpd.GeoDataFrame | bool | None = True,
) -> RuleResult:
    """Check the priority-along-corridors rule for every site, and the plan's targets.

    Parameters
    ----------
    sites : GeoDataFrame, optional
        Sites with ``kind``, ``phase``, ``precision_m``; the embedded sites by default.
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

    Returns
    -------
    RuleResult
        ``table`` has ``distance_km``, ``nearest_corridor``, ``precision_m`` (the site's own),
        ``uncertainty_m`` (site plus nearest corridor section, the ``p`` used), ``within_buffer`` and
        ``rule_applies`` for every site; ``counts`` counts the verdicts of the sites the rule applies to.

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
    for col in ("kind", "phase"):
        if col not in sites.columns:
            raise InputError(f"sites need a {col!r} column for the rule's scope", field=col)
    from vpgeo.corridors import select_corridors

    chosen = select_corridors(corridors, corridor_set)
    chosen_ids = list(dict.fromkeys(chosen["corridor_id"].astype(str)))
    table, precisions = _corridor_distances(sites, chosen, corridor_set=None, access_points=access_points)
    buffer_m = buffer_km * 1000.0
    verdicts, site_p = _verdicts(table, chosen_ids, precisions, buffer_m)
    table["uncertainty_m"] = site_p + table["corridor_precision_m"].to_numpy(dtype=float)
    table["within_buffer"] = verdicts
    kinds = table["kind"].astype(str).str.upper()
    # a user table without phases: unknown, which the default scope includes
    phases = table["phase"].astype(object).where(table["phase"].notna(), "unknown").astype(str).replace({"": "unknown"})
    table["rule_applies"] = [k in scope and p in scope[k] for k, p in zip(kinds, phases, strict=True)]

    applicable = table[table["rule_applies"]]
    counts = {
        "applicable": {v: int((applicable["within_buffer"] == v).sum()) for v in VERDICTS},
        "all_sites": {v: int((table["within_buffer"] == v).sum()) for v in VERDICTS},
        "applicable_without_position": int(applicable.geometry.isna().sum() + applicable.geometry.is_empty.sum()),
    }
    rule = {
        "text_vi": "Ưu tiên phát triển khu công nghiệp mới dọc theo các trục giao thông huyết mạch: "
        "cao tốc Hà Nội – Lào Cai, đường vành đai 4, vành đai 5.",
        "text_en": "New industrial parks are prioritised along the arterial corridors: the Hà Nội–Lào Cai "
        "expressway, Ring Road 4 and Ring Road 5.",
        "source": PLAN_SOURCE,
        "buffer_km": float(buffer_km),
        "corridor_set": corridor_set if isinstance(corridor_set, str) else list(corridor_set),
        "corridors": chosen_ids,
        "applies_to": applies_to,
        "precision_policy": "p = site precision_m + precision_m of the nearest corridor section; "
        "yes if d + p <= B, no if d - p > B, else uncertain; no position -> uncertain; with several "
        "corridors: yes if any is surely within B, no only if none can be",
        "crs": "EPSG:5897 (VN-2000 / TM-3 105°00′)",
    }
    targets, coverage = plan_targets(table)
    return RuleResult(
        table=table,
        rule=rule,
        counts=counts,
        targets=targets,
        coverage=coverage,
        by_district=summarise(table, "district"),
        by_commune_2025=summarise(table, "commune_2025"),
        data=_data_block(sites, corridors),
    )


def _num(df: pd.DataFrame, col: str) -> pd.Series:
    """A numeric column, or NaNs when the table has none (user tables may lack optional columns)."""
    if col not in df.columns:
        return pd.Series(np.nan, index=df.index, dtype=float)
    return pd.to_numeric(df[col], errors="coerce")


def _area(df: pd.DataFrame) -> float:
    return float(_num(df, "area_ha").fillna(0).sum())


_ZONE_SUFFIX = re.compile(r"\s*\([^)]*\)|\s+[–-]\s+khu\b.*$", re.IGNORECASE)


def park_key(name: object) -> str:
    """The park a row belongs to: zones and phases of one park share a key.

    >>> park_key("KCN Tam Dương II – khu A") == park_key("KCN Tam Dương II – khu B")
    True
    >>> park_key('KCN Thái Hòa – Liễn Sơn – Liên Hòa (phân khu 1, "KCN Thái Hòa, Bắc Bình")')
    'thai hoa lien son lien hoa'
    """
    return fold(_ZONE_SUFFIX.sub("", nfc(name)).removeprefix("KCN ").removeprefix("CCN "))


def plan_targets(table: pd.DataFrame) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """Compare the plan's figures with what the data hold, and say what the data cover.

    The facts behind the embedded sites are not the plan's official list (its appendix could not be read),
    so a gap is a gap in the data as much as in the plan: the ``note`` of each target says which.
    """
    kind = table["kind"].astype(str).str.upper()
    phase = table["phase"].astype(str)
    kcn, ccn = table[kind == "KCN"], table[kind == "CCN"]
    ccn_2030 = ccn[phase[kind == "CCN"].isin(["existing", "new_2030"])]
    ccn_new = ccn[phase[kind == "CCN"] == "new_2030"]
    ccn_2050 = ccn[phase[kind == "CCN"].isin(["existing", "new_2030", "2031_2050"])]
    kcn_area = _area(kcn)
    kcn_area_2050 = float(_num(kcn, "area_ha_2050").fillna(_num(kcn, "area_ha")).fillna(0).sum())
    # without names every row counts as its own park
    keys = kcn["name"].map(park_key) if "name" in kcn.columns else pd.Series(kcn.index.astype(str), index=kcn.index)
    parks = kcn.assign(_park=keys).drop_duplicates("_park") if len(kcn) else kcn
    n_parks = len(parks)
    kcn_phase = parks["phase"].astype(str).value_counts().to_dict() if len(parks) else {}
    unconfirmed = int(kcn_phase.get("older_plan", 0))
    unknown = int(kcn_phase.get("unknown", 0))
    in_data: dict[str, tuple[float, str]] = {
        "kcn_2030": (n_parks, f"distinct KCN in the data ({len(kcn)} rows; zones of one park count once), all phases"),
        "ccn_2030": (len(ccn_2030), "CCN rows with phase existing or new_2030"),
        "ccn_2050": (len(ccn_2050), "CCN rows with phase existing, new_2030 or 2031_2050"),
        "ccn_new_2030": (len(ccn_new), "CCN rows with phase new_2030 (the plan's named list is cut off)"),
        "ccn_new_area_ha": (_area(ccn_new), "sum of area_ha of CCN with phase new_2030"),
        "industrial_land_after_2030_ha": (kcn_area, "sum of area_ha of all KCN rows"),
        "industrial_land_2050_ha": (kcn_area_2050, "sum of area_ha_2050 (else area_ha) of all KCN rows"),
    }
    targets: dict[str, dict[str, Any]] = {}
    for k, spec in PLAN.items():
        value, how = in_data[k]
        value = round(float(value), 2) if spec["unit"] == "ha" else int(value)
        targets[k] = {
            **spec,
            "plan": spec["value"],
            "in_data": value,
            "gap": round(float(spec["value"]) - float(value), 2),
            "share": round(float(value) / float(spec["value"]), 3),
            "how_counted": how,
        }
        del targets[k]["value"]
    no_area = int(_num(table, "area_ha").isna().sum())
    no_position = (
        int(table.geometry.isna().sum() + table.geometry.is_empty.sum()) if isinstance(table, gpd.GeoDataFrame) else 0
    )
    plan_kcn, plan_ccn = PLAN["kcn_2030"]["value"], PLAN["ccn_2030"]["value"]
    coverage = {
        "kcn_rows": len(kcn),
        "kcn_known": n_parks,
        "kcn_by_phase": kcn_phase,
        "kcn_plan": plan_kcn,
        "ccn_known": len(ccn),
        "ccn_known_2030": len(ccn_2030),
        "ccn_plan_2030": plan_ccn,
        "sites_without_area": no_area,
        "sites_without_position": no_position,
        "statement_en": f"{n_parks} KCN are known here against the plan's {plan_kcn} ({unconfirmed} only from earlier "
        f"plans and not confirmed for 2030, {unknown} of unknown status), and {len(ccn_2030)} of its {plan_ccn} CCN "
        "for 2030; the list is reconstructed from news and provincial pages, not the plan's appendix, so it cannot be "
        "matched to the plan one to one and is not complete.",
        "statement_vi": f"Dữ liệu có {n_parks} khu công nghiệp so với {plan_kcn} của quy hoạch ({unconfirmed} chỉ có "
        f"trong quy hoạch cũ, chưa xác nhận đến 2030; {unknown} chưa rõ tình trạng) và {len(ccn_2030)}/{plan_ccn} "
        "cụm công nghiệp đến 2030; danh sách được tổng hợp từ báo chí và trang của tỉnh, không phải phụ lục quy "
        "hoạch, nên chưa đối chiếu được từng khu và chưa đầy đủ.",
    }
    return targets, coverage


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
            "area_ha": _num(table, "area_ha"),
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
