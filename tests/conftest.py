"""Shared fixtures: the third-party oracle data in ../shared, used only when present; hypothesis profiles.

Hypothesis profiles (``VPGEO_HYPOTHESIS=ci|full``, or hypothesis' own ``--hypothesis-profile NAME``):

- ``ci`` (the default): few examples, derandomized (the same examples on every run, so CI is reproducible
  and fast), no deadline (the shared 2-core machine makes timings noise), no example database;
- ``full``: many random examples, with the example database: run it before a release, or after touching
  text folding, geocoding, measurement or the loaders.

A test that sets ``@settings(max_examples=N)`` overrides the profile's count; write
``max_examples=hypothesis_examples(N)`` instead (see ``HYPOTHESIS_FULL_EXAMPLES`` below and the copy of that
helper in tests/test_properties.py): N in the full profile, scaled down in ci. Test modules cannot import this
file (``--import-mode=importlib``), so they read the active profile from ``hypothesis.settings.default``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

_HERE = Path(__file__).resolve().parent

try:
    from hypothesis import HealthCheck, settings
except ImportError:  # hypothesis is a test dependency; without it the property tests are not collected
    pass
else:
    #: the full profile's default count; a ci run uses CI_EXAMPLES / HYPOTHESIS_FULL_EXAMPLES of each test's N
    HYPOTHESIS_FULL_EXAMPLES = 1000
    CI_EXAMPLES = 50
    settings.register_profile(
        "ci",
        max_examples=CI_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        print_blob=True,
        suppress_health_check=[HealthCheck.too_slow],
    )
    settings.register_profile("full", max_examples=HYPOTHESIS_FULL_EXAMPLES, deadline=None, print_blob=True)
    # hypothesis' pytest plugin applies --hypothesis-profile after this, so the option wins over the variable
    settings.load_profile(os.environ.get("VPGEO_HYPOTHESIS", "ci"))


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


# ------------------------------------------------------------------------------------- the real browser
CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="session")
def chromium() -> Any:
    """Open headless Debian chromium, network off: ``with chromium("1400,900", *flags) as drv: ...``.

    Skips when chromium, chromedriver or selenium is missing.
    """
    import shutil
    import tempfile
    from contextlib import contextmanager

    driver_path = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    if not CHROMIUM.exists() or not Path(driver_path).exists():
        pytest.skip("needs /usr/bin/chromium and chromedriver (apt-get install chromium chromium-driver)")
    pytest.importorskip("selenium")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    @contextmanager
    def open_browser(window: str, *extra: str) -> Iterator[Any]:
        profile = tempfile.mkdtemp(prefix="vpgeo-chromium-")
        opts = webdriver.ChromeOptions()
        opts.binary_location = str(CHROMIUM)
        for flag in (
            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
            f"--user-data-dir={profile}",
            # Network off: every request goes to a dead proxy and no name resolves.
            "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            f"--window-size={window}", *extra,
        ):  # fmt: skip
            opts.add_argument(flag)
        opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        drv = webdriver.Chrome(service=Service(driver_path), options=opts)
        drv.set_page_load_timeout(60)
        try:
            yield drv
        finally:
            drv.quit()
            shutil.rmtree(profile, ignore_errors=True)

    return open_browser
