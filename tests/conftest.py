"""Shared fixtures: the third-party oracle data in ../shared, used only when present."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

_HERE = Path(__file__).resolve().parent


def _shared_dir() -> Path | None:
    env = os.environ.get("VPGEO_SHARED")
    candidates = [Path(env)] if env else []
    candidates += [_HERE.parent.parent / "shared", _HERE.parent / "shared"]
    for c in candidates:
        if (c / "data").is_dir():
            return c
    return None


SHARED = _shared_dir()


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """../shared (or $VPGEO_SHARED); tests using it skip cleanly where it is absent."""
    if SHARED is None:
        pytest.skip("../shared is absent: third-party oracle data not available")
    return SHARED


@pytest.fixture(scope="session")
def reference_dir(shared_dir: Path) -> Path:
    return shared_dir / "data" / "reference"


@pytest.fixture(scope="session")
def mirror_url(shared_dir: Path) -> str:
    """A file:// URL that replaces https://raw.githubusercontent.com/ for offline pinned downloads."""
    return (shared_dir / "data" / "mirror").as_uri() + "/"


@pytest.fixture()
def data_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty VPGEO_DATA_DIR so downloads are exercised, not served from a user cache."""
    d = tmp_path / "vpgeo-cache"
    monkeypatch.setenv("VPGEO_DATA_DIR", str(d))
    return d
