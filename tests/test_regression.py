"""The README's tour, the notebooks and the CLI give the same results as before the refactor (issue 13).

Golden values in tests/data/golden/*.json were computed by scripts/capture_golden.py from the code before the
architecture refactor (each file records its commit). This test recomputes them with the same functions and
compares key by key:

- every key must still be produced, with the same structure (type, length, ids); lists of columns, files and
  keys may gain entries but not lose any;
- computing them emits no warning (recorded so that the values are still compared, then reported);
- every value must match exactly (floats to 1e-6, the precision they were stored with), unless its key is
  listed in ``EXPECTED_CHANGES`` with the reason it changed on purpose. Those keys still get the structure
  check, and a listed key that no longer exists in the golden files fails (no stale excuses);
- a stable quantity that changed on purpose is listed in ``PINNED`` with its exact new value (or in ``ROUNDED``
  when it is only written rounded now) and the reason: it is still compared exactly.

Stable by construction (never list them): geocoding results, scoring against user-given corridors and points,
row counts, columns, ids, CLI exit codes.
"""

from __future__ import annotations

import fnmatch
import importlib.util
import json
import math
import re
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "data" / "golden"
SECTIONS = ("tour", "notebooks", "cli")

#: key (or fnmatch pattern) -> why its value changed on purpose. The value is then not compared (its structure
#: still is: type, ids, and a mapping may gain keys but not lose any). Never a stable quantity: see PINNED.
_REGIONS = (
    "position = region (vpgeo.regions): each site is the region it must lie in (communes' union, district or "
    "province) with a best point inside and precision_m its radius; distance_km ± uncertainty_m is the region's "
    "[dmin, dmax] interval to the corridors, verdicts yes only if dmax <= B"
)
_CT05 = (
    "CT.05 rebuilt from Travel Mapping waypoints (300-500 m per section: the offsets measured from three OSM nodes "
    "to each section's line): sections and lengths"
)
_ACCESS = (
    "one measurement engine: toll plazas are not access points, nearest_access is an access id; access points "
    "follow the rebuilt CT.05 exits"
)
_SCORES = f"scores follow the distances: {_CT05}; {_ACCESS}; ties share a rank"
_TARGETS = (
    "plan targets by evidence level: only confirmed KCN are compared (older-plan and unknown beside them); areas "
    "rounded to 10 ha"
)
_WOF = "Who's On First offline district outlines (CC0, pinned) replace the gazetteer approximation"
_FACTS = (
    "data/facts/sites.csv gained the communes of 5 sites (CAOMINH, DONGSOC, THANHLANG-OLD, LAPTHACH1, NAMBINHXUYEN)"
)
_GRID = (
    "sensitivity's default grid redesigned: only what can reorder (weights per corridor and for access, max_km; "
    "decay and half-distance only when terms are mixed)"
)
EXPECTED_CHANGES: dict[str, str] = {
    # the position model (tour, notebooks 2 and 4, CLI report)
    "rule.table.within_buffer": _REGIONS + " (CCN-SONLOI-2030: the whole 2025 commune Bình Nguyên, 5.4 km radius)",
    "rule.table.distance_km": _REGIONS + "; " + _CT05,
    "rule.table.uncertainty_m": _REGIONS,
    "rule.table.nearest_corridor": _REGIONS + "; " + _CT05,
    "rule.counts": _REGIONS + "; per-corridor verdict counts added (per_corridor)",
    "rule.json_keys": "compliance.json says whether the sites are the embedded list (embedded_sites); no key lost",
    "sites.precision_m": _REGIONS,
    "sites.xy_5897": _REGIONS + "; every site has a best point (20 sites without a position before)",
    "sites.with_geometry": _REGIONS + ": a site with no known commune gets its district's or the province's region",
    "nb2.counts_by_buffer.*": _REGIONS,
    "nb2.rule": _REGIONS + " (the precision_policy text)",
    "nb4.table.distance_km": _REGIONS,
    "nb4.table.uncertainty_m": _REGIONS,
    "nb4.table.within_buffer": _REGIONS
    + "; a commune's region is its 2025 commune ∩ its legacy polygon widened by a measured containment bound"
    + " (KCN Ứng viên A, Xã Đạo Tú: yes; vietnam63's Đạo Tú lies within 2.8 km of CT.05)",
    "cli.report.compliance.counts": _REGIONS + "; per-corridor verdict counts added (per_corridor)",
    "cli.report.sites_csv.distance_km": _REGIONS + "; " + _CT05 + "; rounded to what uncertainty_m supports",
    "cli.report.sites_csv.nearest_corridor": _REGIONS + "; " + _CT05,
    "cli.report.sites_csv.within_buffer": _REGIONS,
    # the facts
    "sites.commune_2025": _FACTS + " (each checked: the 2025 communes of the named legacy communes)",
    "sites.location_method_counts": _FACTS + ": 5 sites placed by commune instead of none",
    # plan targets
    "rule.targets": _TARGETS,
    "nb2.targets": _TARGETS,
    "nb2.coverage.statement_en": _TARGETS + " (the statement counts confirmed KCN)",
    "cli.report.compliance.targets.in_data": _TARGETS,
    # CT.05
    "corridors.corridor_id": _CT05 + ": 4 CT05 sections instead of 5",
    "corridors.section": _CT05 + ": s0_hanoi and s1_km6_ic3 became s1_exit1_ic3",
    "corridors.length_km": _CT05,
    "corridors.precision_m": _CT05,
    # access points and scores
    "rule.table.access_km": _ACCESS,
    "rule.table.nearest_access": _ACCESS,
    "score.embedded.access_km": _ACCESS,
    "score.embedded.nearest_access": _ACCESS,
    "score.embedded.distance_km": _SCORES,
    "score.embedded.score": _SCORES,
    "score.embedded.rank": _SCORES,
    "cli.score.embedded.distance_km": _SCORES + "; score_file rounds what it writes (3 decimals)",
    "cli.score.embedded.score": _SCORES + "; score_file rounds what it writes (3 decimals)",
    "cli.score.embedded.rank": _SCORES,
    "nb3.scored.top10.*": _SCORES + "; candidates drawn in the new district outlines (" + _WOF + ")",
    "nb3.decay.*": _SCORES + "; candidates drawn in the new district outlines (" + _WOF + ")",
    "nb3.surface.mean_score": _SCORES + "; the grid covers the new district outlines",
    "nb3.sensitivity.parameter": _GRID,
    "nb3.sensitivity.spearman": _GRID,
    # boundaries
    "districts.area_km2": _WOF,
    "nb3.surface.shape": _WOF + ": the grid covers their bounds",
    "nb3.surface.transform": _WOF + ": the grid covers their bounds",
    "nb3.surface.valid_cells": _WOF + ": the grid covers their area",
}

#: stable quantities that changed on purpose: key -> (the exact value now, why). Still compared exactly, with
#: this value, so any further change fails.
PINNED: dict[str, tuple[Any, str]] = {
    "corridors.rows": (15, _CT05 + ": 4 CT05 sections instead of 5"),
    "nb3.candidates.rows": (1620, _WOF + ": the random points are kept inside the new outlines"),
    # checked by hand: (105.62, 21.33) lies in Khai Quang ward (KCN Khai Quang, NE of Vĩnh Yên), 1.6 km from its
    # point and 2.1 km from Liên Bảo's; (105.45, 21.40) lies 390 m inside the new Sông Lô outline (precision
    # 700 m), 1.4 km S-SW of Lập Thạch town across the Phó Đáy boundary: a boundary case the match_note states
    "geocode.lonlat.commune": (
        ["Phường Khai Quang", "Phường Ngô Quyền", "Xã Cao Minh", "Xã Yên Thạch", None],
        _WOF + "; points near a boundary go to the outline they lie in (checked by hand)",
    ),
    "geocode.lonlat.commune_2025": (
        ["Phường Vĩnh Phúc", "Phường Vĩnh Phúc", "Phường Xuân Hòa", "Xã Sông Lô", None],
        _WOF + ": (105.45, 21.40) is in Huyện Sông Lô's Xã Yên Thạch, hence Xã Sông Lô (checked by hand)",
    ),
    "geocode.lonlat.district": (
        ["Thành phố Vĩnh Yên", "Thành phố Vĩnh Yên", "Thành phố Phúc Yên", "Huyện Sông Lô", None],
        _WOF + ": (105.45, 21.40) is 390 m inside the Sông Lô outline (checked by hand)",
    ),
}

#: stable quantities now written rounded: key -> (decimals, why). The golden value rounded must match exactly.
ROUNDED: dict[str, tuple[int, str]] = {
    "cli.score.user.distance_km": (3, "score_file rounds what it writes (distances to the metre)"),
    "cli.score.user.score": (3, "score_file rounds what it writes (scores to 3 decimals)"),
}

_NUMBER = (int, float)
#: lists of names where new entries are allowed and only a lost one is a difference
_SUPERSET = re.compile(r"\.(columns|files|keys)$")
_STABLE = re.compile(r"(^|\.)(rows|columns|site_id|exit|files|crs|keys)$|^geocode\.|^cli\.geocode\.|\.user\.")


@cache
def _capture() -> ModuleType:
    path = ROOT / "scripts" / "capture_golden.py"
    if not path.is_file():
        pytest.skip("scripts/capture_golden.py is absent (installed package without the repository)")
    spec = importlib.util.spec_from_file_location("vpgeo_capture_golden", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _golden(section: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((GOLDEN / f"{section}.json").read_text(encoding="utf-8"))
    return doc


@cache
def _current(section: str) -> tuple[dict[str, Any], list[str]]:
    """The section's values now, and the warnings computing them emitted (recorded, then failed on below)."""
    values, caught = _capture().compute_with_warnings(section)
    return values, caught


def _rounded(value: Any, ndigits: int) -> Any:
    if isinstance(value, dict):
        return {k: _rounded(v, ndigits) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v, ndigits) for v in value]
    if isinstance(value, float):
        return round(value, ndigits)
    return value


def _expected_value(key: str, golden: Any) -> Any:
    """What ``key`` must be now: the golden value, or its pinned or rounded replacement."""
    if key in PINNED:
        return PINNED[key][0]
    if key in ROUNDED:
        return _rounded(golden, ROUNDED[key][0])
    return golden


def _expected_change(key: str) -> str | None:
    for pattern, reason in EXPECTED_CHANGES.items():
        if fnmatch.fnmatchcase(key, pattern):
            return reason
    return None


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, _NUMBER) and isinstance(b, _NUMBER):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1.5e-6)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return bool(a == b)


def _shape(value: Any, *, loose: bool = False) -> Any:
    """What must survive even a deliberate change: the type, the keys (ids) of mappings, the length of lists
    (``loose``: a list may change its length, e.g. a sensitivity table with more variations)."""
    if isinstance(value, dict):
        return ("dict", sorted(value))
    if isinstance(value, list):
        return ("list", None if loose else len(value))
    return "value"


def _differences(golden: Any, current: Any) -> str:
    """A short description of what differs (per id for mappings, per position for lists)."""
    if isinstance(golden, dict) and isinstance(current, dict):
        keys = sorted(set(golden) | set(current))
        diff = [
            f"{k}: {golden.get(k, '<absent>')!r} -> {current.get(k, '<absent>')!r}"
            for k in keys
            if not _same(golden.get(k), current.get(k))
        ]
    elif isinstance(golden, list) and isinstance(current, list) and len(golden) == len(current):
        diff = [
            f"[{i}]: {g!r} -> {c!r}" for i, (g, c) in enumerate(zip(golden, current, strict=True)) if not _same(g, c)
        ]
    else:
        return f"{golden!r} -> {current!r}"
    return "; ".join(diff[:6]) + (f"; … {len(diff) - 6} more" if len(diff) > 6 else "")


def compare(golden: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """Every problem found, one line each (empty: the results are as before, or changed on purpose)."""
    problems = []
    for key, was in golden.items():
        reason = _expected_change(key)
        value = _expected_value(key, was)
        if key not in current:
            problems.append(f"{key}: no longer computed")
        elif _SUPERSET.search(key) and isinstance(value, list) and isinstance(current[key], list):
            lost = sorted(set(map(str, value)) - set(map(str, current[key])))
            if lost:  # a new column or file is fine; a lost one breaks users' scripts
                problems.append(f"{key}: no longer present: {lost}")
        elif reason is not None and isinstance(value, dict) and isinstance(current[key], dict):
            lost = sorted(set(value) - set(current[key]))  # a deliberate change may add keys, not lose them
            if lost:
                problems.append(f"{key}: no longer has {lost}")
        elif _shape(value, loose=reason is not None) != _shape(current[key], loose=reason is not None):
            problems.append(f"{key}: structure changed {_shape(value)} -> {_shape(current[key])}")
        elif reason is None and not _same(value, current[key]):
            problems.append(f"{key}: {_differences(value, current[key])}")
    return problems


# ------------------------------------------------------------------------------------------ the files


@pytest.mark.parametrize("section", SECTIONS)
def test_golden_file_records_where_it_came_from(section: str) -> None:
    doc = _golden(section)
    assert doc["section"] == section
    assert re.fullmatch(r"[0-9a-f]{40}", doc["commit"]), "capture golden values from a clean, committed tree"
    assert len(doc["values"]) >= 30


def test_expected_changes_name_existing_keys_and_give_reasons() -> None:
    keys = [k for s in SECTIONS for k in _golden(s)["values"]]
    for pattern, reason in EXPECTED_CHANGES.items():
        assert any(fnmatch.fnmatchcase(k, pattern) for k in keys), f"{pattern!r} matches no golden key"
        assert len(reason.strip()) >= 10, f"{pattern!r}: say why it changed"
        stable = [k for k in keys if fnmatch.fnmatchcase(k, pattern) and _STABLE.search(k)]
        assert not stable, f"{pattern!r} covers stable quantities {stable}: they must not change"


def test_pinned_and_rounded_changes_name_existing_keys_and_give_reasons() -> None:
    values = {k: v for s in SECTIONS for k, v in _golden(s)["values"].items()}
    for key, (now, reason) in PINNED.items():
        assert key in values, f"{key!r} is no golden key"
        assert len(reason.strip()) >= 10, f"{key!r}: say why it changed"
        assert not _same(values[key], now), f"{key!r}: pinned to its golden value (stale)"
        assert _expected_change(key) is None, f"{key!r}: pinned and excused at once"
    for key, (ndigits, reason) in ROUNDED.items():
        assert key in values and len(reason.strip()) >= 10 and ndigits >= 0
        assert not _same(values[key], _rounded(values[key], ndigits)), f"{key!r}: already rounded (stale)"


def test_compare_finds_a_changed_value_and_a_lost_key() -> None:
    golden = {"a.rows": 3, "b.score": {"P1": 0.5, "P2": 0.25}, "c.name": ["x", "y"]}
    assert compare(golden, dict(golden)) == []
    assert compare(golden, {**golden, "a.rows": 4}) == ["a.rows: 3 -> 4"]
    assert compare(golden, {**golden, "b.score": {"P1": 0.5, "P2": 0.2500001}}) == []  # stored precision
    assert compare(golden, {**golden, "b.score": {"P1": 0.5, "P2": 0.26}}) == ["b.score: P2: 0.25 -> 0.26"]
    assert compare(golden, {**golden, "c.name": ["x"]})[0].startswith("c.name: structure changed")
    assert compare(golden, {"a.rows": 3, "c.name": ["x", "y"]}) == ["b.score: no longer computed"]
    cols = {"t.columns": ["id", "score"]}
    assert compare(cols, {"t.columns": ["id", "score", "flags"]}) == []  # a new column is not a difference
    assert compare(cols, {"t.columns": ["id", "flags"]}) == ["t.columns: no longer present: ['score']"]


# ------------------------------------------------------------------------------------------ the results


@pytest.mark.slow
@pytest.mark.parametrize("section", SECTIONS)
def test_results_as_before_the_refactor(section: str) -> None:
    golden = _golden(section)
    values, caught = _current(section)
    problems = compare(golden["values"], values) + [f"warning: {w}" for w in caught]
    assert not problems, (
        f"{section}: results differ from the golden values of {golden['commit'][:10]} "
        "(list deliberate changes in EXPECTED_CHANGES with the reason):\n" + "\n".join(problems)
    )
