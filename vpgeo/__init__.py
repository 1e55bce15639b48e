"""vpgeo: industrial-land analysis for Vĩnh Phúc (load → geocode → measure → judge → render).

The package imports lazily (PEP 562): ``import vpgeo`` loads none of geopandas, pandas, shapely,
folium, scipy or matplotlib; each public name imports its module on first use.

Examples
--------
>>> import vpgeo
>>> sites = vpgeo.load_sites()
>>> result = vpgeo.check_priority_rule(sites, buffer_km=5)
>>> sorted(result.counts["applicable"])
['no', 'uncertain', 'yes']
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from vpgeo._version import __version__

# public name -> the module that defines it (the user's concepts; machinery stays in private modules)
_EXPORTS: dict[str, str] = {
    "crosswalk": "boundaries",
    "load_communes": "boundaries",
    "load_districts": "boundaries",
    "CORRIDOR_SETS": "corridors",
    "read_corridor_file": "corridors",
    "select_corridors": "corridors",
    "check_crs": "crs",
    "to_metric": "crs",
    "load_access_points": "datasets",
    "load_corridors": "datasets",
    "load_sites": "datasets",
    "CRSError": "errors",
    "CRSWarning": "errors",
    "DataSourceError": "errors",
    "GeocodeError": "errors",
    "InputError": "errors",
    "VpgeoError": "errors",
    "geocode": "geocoding",
    "resolve_commune": "geocoding",
    "CommuneMatch": "geocoding",
    "read_table": "io",
    "write_table": "io",
    "plan_map": "maps",
    "save_map": "maps",
    "save_png": "maps",
    "corridor_distances": "measure",
    "corridor_rings": "measure",
    "LineIndex": "nearest",
    "build_report": "pipeline",
    "PLAN": "rules",
    "RuleResult": "rules",
    "check_priority_rule": "rules",
    "plot_sensitivity": "scoring",
    "score_candidates": "scoring",
    "sensitivity": "scoring",
    "prepare_sites": "sites",
    "suitability_surface": "surface",
}

__all__ = ["__version__", *sorted(_EXPORTS)]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'vpgeo' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"vpgeo.{module}"), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # static tools see the eager imports
    from vpgeo.boundaries import crosswalk, load_communes, load_districts
    from vpgeo.corridors import CORRIDOR_SETS, read_corridor_file, select_corridors
    from vpgeo.crs import check_crs, to_metric
    from vpgeo.datasets import load_access_points, load_corridors, load_sites
    from vpgeo.errors import CRSError, CRSWarning, DataSourceError, GeocodeError, InputError, VpgeoError
    from vpgeo.geocoding import CommuneMatch, geocode, resolve_commune
    from vpgeo.io import read_table, write_table
    from vpgeo.maps import plan_map, save_map, save_png
    from vpgeo.measure import corridor_distances, corridor_rings
    from vpgeo.nearest import LineIndex
    from vpgeo.pipeline import build_report
    from vpgeo.rules import PLAN, RuleResult, check_priority_rule
    from vpgeo.scoring import plot_sensitivity, score_candidates, sensitivity
    from vpgeo.sites import prepare_sites
    from vpgeo.surface import suitability_surface
