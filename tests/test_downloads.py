"""Pinned downloads: mirror (file:// and http), checksum, missing files, no network, cache, provenance."""

from __future__ import annotations

import functools
import hashlib
import shutil
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from vpgeo import downloads
from vpgeo.errors import DataSourceError

NAME = "districts-dvhcvn"
SRC = downloads._get(NAME)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _leftovers(cache: Path) -> list[Path]:
    return [p for p in cache.rglob("*") if p.is_file()] if cache.exists() else []


@pytest.fixture()
def mirror_copy(tmp_path: Path, shared_dir: Path) -> Path:
    """A private copy of the pinned file in a mirror layout (so a test may tamper with it)."""
    root = tmp_path / "mirror"
    dst = root / SRC.relpath
    dst.parent.mkdir(parents=True)
    shutil.copyfile(shared_dir / "data" / "mirror" / SRC.relpath, dst)
    return root


@pytest.fixture()
def http_root(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A local http server over an empty folder: (folder, base URL)."""
    root = tmp_path / "http"
    root.mkdir()

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def test_registry_lists_both_pinned_sources() -> None:
    names = [s["name"] for s in downloads.list_sources()]
    assert names[:2] == ["districts-dvhcvn", "communes2025-vietnam3dmap"]
    assert {"districts-approximate", "communes2025-approximate", "communes-legacy-approximate"} <= set(names)
    info = downloads.source_info("communes2025-vietnam3dmap")
    assert info["upstream_url"] == (
        "https://raw.githubusercontent.com/lamngockhuong/vietnam-3d-map/"
        "dc6095c45a49279d6c24f4de6cf00f4b2b04a90d/public/wards/25.json"
    )
    # The hash published in issue 3 and in the mirror's README.
    assert info["sha256"] == "c9fbdea795a8704998caf7e1e0a19ad1071a17299bca161000db6507eb20efaa"


def test_unknown_source_is_a_clear_error() -> None:
    with pytest.raises(DataSourceError, match=r"unknown data source 'nope'.*districts-dvhcvn"):
        downloads.fetch("nope")


def test_mirror_env_replaces_github(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("VPGEO_DATA_MIRROR", raising=False)
    assert downloads.source_url(NAME).startswith("https://raw.githubusercontent.com/daohoangson/dvhcvn/4b1b6b59")
    monkeypatch.setenv("VPGEO_DATA_MIRROR", "https://example.org/raw")
    assert downloads.source_url(NAME) == "https://example.org/raw/" + SRC.relpath
    monkeypatch.setenv("VPGEO_DATA_MIRROR", str(tmp_path))  # a bare folder counts as file://
    assert downloads.source_url(NAME) == tmp_path.as_uri() + "/" + SRC.relpath


def test_cache_dir_follows_env(data_cache: Path) -> None:
    assert downloads.cache_dir() == data_cache


def test_fetch_from_file_mirror_verifies_and_caches(
    mirror_url: str, data_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VPGEO_DATA_MIRROR", mirror_url)
    assert not downloads.is_cached(NAME)
    path = downloads.fetch(NAME)
    assert path.is_relative_to(data_cache)
    assert _sha(path) == SRC.sha256
    assert downloads.is_cached(NAME)
    prov = downloads.provenance(NAME, path)
    assert prov["licence"] == "GPL-3.0" and prov["sha256"] == SRC.sha256
    assert prov["url"].startswith("https://raw.githubusercontent.com/")
    assert prov["retrieved_from"].startswith("file://") and prov["retrieved"][:2] == "20"
    # Once cached, the mirror is not needed any more.
    monkeypatch.setenv("VPGEO_DATA_MIRROR", (data_cache / "nowhere").as_uri())
    assert downloads.fetch(NAME) == path


def test_corrupt_cache_entry_is_replaced(mirror_url: str, data_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VPGEO_DATA_MIRROR", mirror_url)
    target = data_cache / SRC.relpath
    target.parent.mkdir(parents=True)
    target.write_text("{}", encoding="utf-8")
    assert not downloads.is_cached(NAME)
    assert _sha(downloads.fetch(NAME)) == SRC.sha256


def test_tampered_mirror_file_is_rejected_and_deleted(
    mirror_copy: Path, data_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with (mirror_copy / SRC.relpath).open("ab") as f:
        f.write(b" ")
    monkeypatch.setenv("VPGEO_DATA_MIRROR", mirror_copy.as_uri())
    with pytest.raises(DataSourceError, match=r"districts-dvhcvn: checksum mismatch .*deleted") as err:
        downloads.fetch(NAME)
    assert "\n" not in str(err.value)
    assert _leftovers(data_cache) == []


def test_mirror_without_the_file(tmp_path: Path, data_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("VPGEO_DATA_MIRROR", empty.as_uri())
    with pytest.raises(DataSourceError, match=r"lacks daohoangson/dvhcvn/4b1b6b59.*/data/gis/26\.json"):
        downloads.fetch(NAME)
    monkeypatch.setenv("VPGEO_DATA_MIRROR", (tmp_path / "absent").as_uri())
    with pytest.raises(DataSourceError, match=r"mirror folder .*absent does not exist"):
        downloads.fetch(NAME)
    assert _leftovers(data_cache) == []


def test_no_network_says_how_to_proceed(data_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Port 9 (discard) on localhost is closed on any sane machine: the connection is refused at once.
    monkeypatch.setenv("VPGEO_DATA_MIRROR", "http://127.0.0.1:9/")
    with pytest.raises(DataSourceError, match=r"cannot reach .*VPGEO_DATA_MIRROR.*source=\"approx\""):
        downloads.fetch(NAME, timeout=2)


def test_unsupported_scheme(monkeypatch: pytest.MonkeyPatch, data_cache: Path) -> None:
    monkeypatch.setenv("VPGEO_DATA_MIRROR", "ftp://example.org/")
    with pytest.raises(DataSourceError, match="unsupported scheme 'ftp'"):
        downloads.fetch(NAME)


def test_http_mirror_download_404_and_checksum(
    http_root: tuple[Path, str], mirror_copy: Path, data_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, url = http_root
    monkeypatch.setenv("VPGEO_DATA_MIRROR", url)
    with pytest.raises(DataSourceError, match="answered HTTP 404"):
        downloads.fetch(NAME, timeout=5)
    served = root / SRC.relpath
    served.parent.mkdir(parents=True)
    served.write_bytes((mirror_copy / SRC.relpath).read_bytes() + b"\n")
    with pytest.raises(DataSourceError, match=r"checksum mismatch .*deleted"):
        downloads.fetch(NAME, timeout=5)
    assert not (data_cache / SRC.relpath).exists()
    shutil.copyfile(mirror_copy / SRC.relpath, served)
    path = downloads.fetch(NAME, timeout=5)
    assert _sha(path) == SRC.sha256
    assert downloads.provenance(NAME, path)["retrieved_from"].startswith(url)


def test_shipped_sources_resolve_to_files() -> None:
    path = downloads.fetch("districts-approximate")
    assert path.name == "districts_approximate.geojson" and path.is_file()
    assert downloads.source_info("districts-approximate")["kind"] == "shipped"
