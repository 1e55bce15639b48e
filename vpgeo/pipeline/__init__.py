"""The file-in/file-out workflows: read the user's files (or the embedded data), run the compute
functions, write the outputs, and speak to the user (progress, wording that names the interface).

- :func:`build_report` (``vpgeo report``): the report folder (:mod:`vpgeo.pipeline.report`);
- :func:`score_file` (``vpgeo score``): score a candidate file (:mod:`vpgeo.pipeline.score`);
- :func:`geocode_file` (``vpgeo geocode``): geocode a file (:mod:`vpgeo.geocoding`).

Compute modules (rules, measure, scoring, geocoding, maps) take their data as arguments; embedded
defaults are resolved here. Imports are lazy (PEP 562), so ``import vpgeo.pipeline`` is cheap and a
workflow whose module is absent does not break the others.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# public name -> the module that defines it
_EXPORTS: dict[str, str] = {
    "ReportResult": "vpgeo.pipeline.report",
    "build_report": "vpgeo.pipeline.report",
    "score_file": "vpgeo.pipeline.score",
    "geocode_file": "vpgeo.geocoding",
}

__all__ = ["ReportResult", "build_report", "geocode_file", "score_file"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'vpgeo.pipeline' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # static tools see the eager imports
    from vpgeo.geocoding import geocode_file
    from vpgeo.pipeline.report import ReportResult, build_report
