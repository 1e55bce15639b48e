"""vpgeo: industrial-land analysis for Vĩnh Phúc (load → geocode → measure → judge → render)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("vpgeo")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0+unknown"

from vpgeo.crs import check_crs, to_metric
from vpgeo.datasets import load_access_points, load_corridors, load_sites
from vpgeo.errors import CRSError, DataSourceError, GeocodeError, InputError, VpgeoError

__all__ = [
    "CRSError",
    "DataSourceError",
    "GeocodeError",
    "InputError",
    "VpgeoError",
    "__version__",
    "check_crs",
    "load_access_points",
    "load_corridors",
    "load_sites",
    "to_metric",
]
