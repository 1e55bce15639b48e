"""vpgeo: industrial-land analysis for Vĩnh Phúc (load → geocode → measure → judge → render).

Examples
--------
>>> import vpgeo
>>> sites = vpgeo.load_sites()
>>> result = vpgeo.check_priority_rule(sites, buffer_km=5)
>>> sorted(result.counts["applicable"])
['no', 'uncertain', 'yes']
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("vpgeo")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0+unknown"

from vpgeo.boundaries import crosswalk, load_communes, load_districts
from vpgeo.corridors import CORRIDOR_SETS, read_corridor_file, select_corridors
from vpgeo.crs import CRSWarning, check_crs, to_metric
from vpgeo.datasets import load_access_points, load_corridors, load_sites
from vpgeo.errors import CRSError, DataSourceError, GeocodeError, InputError, VpgeoError
from vpgeo.geocode import geocode
from vpgeo.io import read_table, write_table
from vpgeo.maps import plan_map, save_map, save_png
from vpgeo.measure import corridor_distances, corridor_rings
from vpgeo.nearest import LineIndex
from vpgeo.rules import PLAN, RuleResult, check_priority_rule
from vpgeo.scoring import plot_sensitivity, score_candidates, sensitivity
from vpgeo.sites import build_sites, prepare_sites
from vpgeo.surface import suitability_surface

__all__ = [
    "CORRIDOR_SETS",
    "PLAN",
    "CRSError",
    "CRSWarning",
    "DataSourceError",
    "GeocodeError",
    "InputError",
    "LineIndex",
    "RuleResult",
    "VpgeoError",
    "__version__",
    "build_sites",
    "check_crs",
    "check_priority_rule",
    "corridor_distances",
    "corridor_rings",
    "crosswalk",
    "geocode",
    "load_access_points",
    "load_communes",
    "load_corridors",
    "load_districts",
    "load_sites",
    "plan_map",
    "plot_sensitivity",
    "prepare_sites",
    "read_corridor_file",
    "read_table",
    "save_map",
    "save_png",
    "score_candidates",
    "select_corridors",
    "sensitivity",
    "suitability_surface",
    "to_metric",
    "write_table",
]
