"""The README's tour, the notebooks and the CLI give the same results as before the refactor (issue 13).

Golden values in tests/data/golden/*.json were computed by scripts/capture_golden.py from the code before the
architecture refactor (each file records its commit). This test recomputes them with the same functions and
compares key by key:

- every key must still be produced, with the same structure (type, length, ids); lists of columns, files and
  keys may gain entries but not lose any;
- computing them emits no warning (recorded so that the values are still compared, then reported);
- every value must match exactly (floats to 1e-6, the precision they were stored with), unless its key is
  listed in ``EXPECTED_CHANGES`` with the reason it changed on purpose. Those keys still get the structure
  check, and a listed key that no longer exists in the golden files fails (no stale excuses).

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

#: key (or fnmatch pattern) -> why its value changed on purpose. The lead fills this at merge; the entries
#: below are the changes the issues announce, so a reviewer sees them in one place.
EXPECTED_CHANGES: dict[str, str] = {
    # placeholders for the announced changes, to be confirmed (or removed) at merge:
    # "rule.table.within_buffer": "#14 positional truth: new position model changes verdicts",
    # "rule.table.access_km": "#13 one measurement engine: toll plazas are not access points",
    # "corridors.length_km": "CT.05 geometry redrawn",
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
    for key, value in golden.items():
        reason = _expected_change(key)
        if key not in current:
            problems.append(f"{key}: no longer computed")
        elif _SUPERSET.search(key) and isinstance(value, list) and isinstance(current[key], list):
            lost = sorted(set(map(str, value)) - set(map(str, current[key])))
            if lost:  # a new column or file is fine; a lost one breaks users' scripts
                problems.append(f"{key}: no longer present: {lost}")
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
