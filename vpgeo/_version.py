"""The installed version of vpgeo (one place, read without importing the heavy stack)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("vpgeo")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0+unknown"
