"""Where the embedded data files are: inside the installed package, or the source checkout's ``data/``.

A module of its own (standard library only) so that every loader can find a file without importing the
others: boundaries, gazetteer, downloads, sites and corridors all read through :func:`data_file`.
"""

from __future__ import annotations

from importlib import resources
from importlib.abc import Traversable
from pathlib import Path

from vpgeo.errors import DataSourceError

_REPO_DATA = Path(__file__).resolve().parent.parent / "data"


def data_file(name: str) -> Traversable:
    """Return the embedded data file ``name`` (a path relative to ``data/``).

    Raises
    ------
    DataSourceError
        If the file is in neither the installed package nor the source checkout.
    """
    packaged = resources.files("vpgeo") / "data" / name
    if packaged.is_file():
        return packaged
    local = _REPO_DATA / name
    if local.is_file():
        return local
    raise DataSourceError(
        f"embedded data file {name!r} not found in the vpgeo package or in {_REPO_DATA}; "
        "reinstall vpgeo (pip install .) or rebuild it with the scripts in scripts/"
    )
