"""Pinned downloads: third-party data fetched at a fixed commit, verified by sha256, cached per user.

vpgeo never ships third-party geometry; layers that need it (official boundaries) download it once with
:mod:`pooch` from ``https://raw.githubusercontent.com/<owner>/<repo>/<commit>/<path>``, check the sha256
and keep it in a user cache folder. Downloads are only ever parsed as JSON: never executed or unpickled.

Environment
-----------
``VPGEO_DATA_DIR``
    Cache folder (default: ``pooch.os_cache("vpgeo")``, e.g. ``~/.cache/vpgeo`` on Linux).
``VPGEO_DATA_MIRROR``
    Replaces ``https://raw.githubusercontent.com/``: another http(s) base URL, or a ``file://`` folder laid
    out as ``<owner>/<repo>/<commit>/<path>`` (for offline machines and CI).

Examples
--------
>>> [s["name"] for s in list_sources() if s["kind"] == "download"]
['districts-dvhcvn', 'communes2025-vietnam3dmap']
>>> info = source_info("districts-dvhcvn")
>>> info["licence"], info["sha256"][:8]
('GPL-3.0', 'dd01cc41')
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import urllib.parse
import urllib.request
import warnings
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from vpgeo.errors import DataSourceError

__all__ = [
    "GITHUB_RAW",
    "PinnedSource",
    "cache_dir",
    "fetch",
    "is_cached",
    "list_sources",
    "mirror_base",
    "provenance",
    "register_source",
    "source_info",
    "source_url",
]

GITHUB_RAW = "https://raw.githubusercontent.com/"
# Connect/read timeouts (s): an offline machine must fall back quickly, not hang.
DEFAULT_TIMEOUT = (5.0, 60.0)


@dataclass(frozen=True)
class PinnedSource:
    """A file in a public GitHub repository, pinned to a commit and a sha256.

    ``kind`` is ``"download"`` for pinned downloads and ``"shipped"`` for files embedded in vpgeo (then
    ``path`` is relative to vpgeo's ``data/`` and the other location fields are empty).
    """

    name: str
    description: str
    licence: str
    vintage: str
    path: str
    sha256: str = ""
    owner: str = ""
    repo: str = ""
    commit: str = ""
    kind: str = "download"
    precision_m: int | None = None

    @property
    def relpath(self) -> str:
        """``<owner>/<repo>/<commit>/<path>``, the layout under the base URL, the mirror and the cache."""
        return f"{self.owner}/{self.repo}/{self.commit}/{self.path}"


_SOURCES: dict[str, PinnedSource] = {}


def register_source(source: PinnedSource) -> PinnedSource:
    """Add a source to the registry (other vpgeo layers call this for their own pinned files)."""
    _SOURCES[source.name] = source
    return source


register_source(
    PinnedSource(
        name="districts-dvhcvn",
        description="Vĩnh Phúc's 9 districts (official polygons, level2s of province 26)",
        licence="GPL-3.0",
        vintage="2019 (geometry from the government map service gis.chinhphu.vn, Oct 2019)",
        owner="daohoangson",
        repo="dvhcvn",
        commit="4b1b6b59c5880c620722663bcb48c5c105364be5",
        path="data/gis/26.json",
        sha256="dd01cc419e3f3c647a3f8011a3fd49092239275528ee460d1469fafa19e17abb",
        precision_m=100,  # observed: vertices about 120 m apart (median), a generalised cadastral line
    )
)
register_source(
    PinnedSource(
        name="communes2025-vietnam3dmap",
        description="Communes and wards of Phú Thọ (2025); vpgeo keeps the 36 of the former Vĩnh Phúc",
        licence="MIT (repository); upstream geometry gis.vn, terms unknown",
        vintage="2025 (units in force since 1 July 2025)",
        owner="lamngockhuong",
        repo="vietnam-3d-map",
        commit="dc6095c45a49279d6c24f4de6cf00f4b2b04a90d",
        path="public/wards/25.json",
        sha256="c9fbdea795a8704998caf7e1e0a19ad1071a17299bca161000db6507eb20efaa",
        precision_m=100,  # simplified by its author; 5-decimal coordinates, vertices ~250 m apart
    )
)
_WOF = (
    "CC0-1.0: Data from Who's On First (https://whosonfirst.org/docs/licenses/), whosonfirst-data-admin-vn @ 36f4852c"
)
for _layer, _what, _from, _licence in (
    ("districts", "the 9 districts", "Who's On First's district polygons", _WOF),
    (
        "communes2025",
        "the 36 communes of 2025",
        "the gazetteer inside Who's On First's districts",
        f"MIT (vietnamadminunits) and {_WOF}",
    ),
    (
        "communes_legacy",
        "the 121 legacy communes",
        "the gazetteer inside Who's On First's districts",
        f"MIT (vietnamadminunits) and {_WOF}",
    ),
):
    register_source(
        PinnedSource(
            name=f"{_layer.replace('_', '-')}-approximate",
            description=f"APPROXIMATE polygons of {_what}, derived by vpgeo from {_from} (shipped)",
            licence=_licence,
            vintage="gazetteer vietnamadminunits 1.0.4; Who's On First admin-vn @ 36f4852c",
            path=f"boundaries/{_layer}_approximate.geojson",
            kind="shipped",
        )
    )


def _get(name: str) -> PinnedSource:
    try:
        return _SOURCES[name]
    except KeyError:
        raise DataSourceError(
            f"unknown data source {name!r}; known: {', '.join(sorted(_SOURCES))} (see `vpgeo data list`)"
        ) from None


def _pooch() -> ModuleType:
    """pooch, imported only when a download happens.

    pooch imports ``tqdm.auto``, which in a Jupyter kernel without ipywidgets warns "IProgress not found"
    (TqdmWarning) although vpgeo never shows a progress bar; that one warning of that one import is not
    shown.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="IProgress not found")
        import pooch
    mod: ModuleType = pooch
    return mod


def cache_dir() -> Path:
    """The download cache: ``$VPGEO_DATA_DIR`` or the user cache folder (``pooch.os_cache("vpgeo")``)."""
    env = os.environ.get("VPGEO_DATA_DIR")
    if env:
        return Path(env).expanduser()
    import platformdirs  # what pooch.os_cache uses, without importing pooch (and tqdm)

    return Path(platformdirs.user_cache_dir("vpgeo"))


def mirror_base() -> str:
    """The base URL downloads come from: ``$VPGEO_DATA_MIRROR`` or GitHub's raw host, ending in ``/``.

    Examples
    --------
    >>> mirror_base().endswith("/")
    True
    """
    base = os.environ.get("VPGEO_DATA_MIRROR", "").strip() or GITHUB_RAW
    if "://" not in base:  # a bare folder path is accepted as a file:// mirror
        base = Path(base).expanduser().resolve().as_uri()
    return base if base.endswith("/") else base + "/"


def source_url(name: str) -> str:
    """Where ``name`` is downloaded from (after applying ``VPGEO_DATA_MIRROR``)."""
    src = _get(name)
    if src.kind != "download":
        raise DataSourceError(f"{name!r} is shipped with vpgeo, not downloaded")
    return mirror_base() + src.relpath


def _cached_path(src: PinnedSource) -> Path:
    return cache_dir() / src.owner / src.repo / src.commit / src.path


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def is_cached(name: str) -> bool:
    """True when ``name`` is in the cache with the pinned sha256 (shipped files: always)."""
    src = _get(name)
    if src.kind != "download":
        return True
    path = _cached_path(src)
    return path.is_file() and _sha256(path) == src.sha256


def _stamp(src: PinnedSource, path: Path, url: str) -> None:
    """Record when and where the cached file was retrieved (a JSON sidecar, read back by provenance)."""
    meta = {"url": url, "retrieved": datetime.now(UTC).isoformat(timespec="seconds"), "sha256": src.sha256}
    path.with_name(path.name + ".retrieved.json").write_text(json.dumps(meta), encoding="utf-8")


def _fetch_file_mirror(src: PinnedSource, url: str, target: Path) -> None:
    """Copy from a ``file://`` mirror and verify (pooch's downloaders only speak http/ftp/doi)."""
    parsed = urllib.parse.urlparse(url)
    origin = Path(urllib.request.url2pathname(parsed.path))
    root = Path(urllib.request.url2pathname(urllib.parse.urlparse(mirror_base()).path))
    if not root.is_dir():
        raise DataSourceError(
            f"{src.name}: mirror folder {root} does not exist; fix VPGEO_DATA_MIRROR or unset it to download "
            "from GitHub"
        )
    if not origin.is_file():
        raise DataSourceError(
            f"{src.name}: mirror {root} lacks {src.relpath}; copy that file there (byte-identical) or unset "
            "VPGEO_DATA_MIRROR"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=target.name + ".", suffix=".part")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        shutil.copyfile(origin, tmp)
        got = _sha256(tmp)
        if got != src.sha256:
            raise DataSourceError(
                f"{src.name}: checksum mismatch for {origin} (sha256 {got}, expected {src.sha256}); the bad "
                "copy was deleted; replace the mirror's file with the pinned original"
            )
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)


def _fetch_http(src: PinnedSource, url: str, target: Path, timeout: float | tuple[float, float]) -> None:
    import requests  # pooch's own dependency

    pooch = _pooch()
    downloader = pooch.HTTPDownloader(timeout=timeout, progressbar=False)
    logger = pooch.get_logger()
    level = logger.level
    logger.setLevel("WARNING")  # pooch announces every download at INFO
    try:
        pooch.retrieve(
            url,
            known_hash=f"sha256:{src.sha256}",
            fname=target.name,
            path=target.parent,
            downloader=downloader,
            progressbar=False,
        )
    except requests.exceptions.HTTPError as exc:
        status = exc.response.status_code if exc.response is not None else "?"
        raise DataSourceError(
            f"{src.name}: {url} answered HTTP {status}; the mirror lacks {src.relpath} or the URL is wrong "
            "(check VPGEO_DATA_MIRROR)"
        ) from None
    except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
        raise DataSourceError(
            f"{src.name}: cannot reach {url} ({type(exc).__name__}); no network? Set VPGEO_DATA_MIRROR to a "
            "reachable mirror (an http(s) URL or a file:// folder laid out as <owner>/<repo>/<commit>/<path>), "
            'or use source="approx" for the shipped approximation'
        ) from None
    except ValueError as exc:  # pooch: hash mismatch; it has already deleted the downloaded file
        if "hash" not in str(exc).lower():
            raise DataSourceError(f"{src.name}: download from {url} failed: {exc}") from None
        raise DataSourceError(
            f"{src.name}: checksum mismatch for the file from {url} (expected sha256 {src.sha256}); the bad "
            "download was deleted; the mirror serves a different file"
        ) from None
    except OSError as exc:
        raise DataSourceError(f"{src.name}: cannot write the cache {target.parent}: {exc}") from None
    finally:
        logger.setLevel(level)


def fetch(name: str, *, timeout: float | tuple[float, float] = DEFAULT_TIMEOUT) -> Path:
    """Return the local path of ``name``, downloading and verifying it first if needed.

    Parameters
    ----------
    name : str
        A source name from :func:`list_sources`.
    timeout : float or (connect, read) tuple
        Seconds before an http download gives up.

    Raises
    ------
    DataSourceError
        Unknown name, no network, a mirror without the file, or a checksum mismatch (the bad file is
        deleted). The message is one line saying what to do.
    """
    src = _get(name)
    if src.kind == "shipped":
        from vpgeo._data import data_file

        return Path(str(data_file(src.path)))
    target = _cached_path(src)
    if target.is_file():
        if _sha256(target) == src.sha256:
            return target
        target.unlink()  # a corrupt or stale cache entry: fetch again
    url = source_url(name)
    scheme = urllib.parse.urlparse(url).scheme
    try:
        if scheme == "file":
            _fetch_file_mirror(src, url, target)
        elif scheme in ("http", "https"):
            _fetch_http(src, url, target, timeout)
        else:
            raise DataSourceError(
                f"VPGEO_DATA_MIRROR={os.environ.get('VPGEO_DATA_MIRROR')!r}: unsupported scheme {scheme!r}; use "
                "an http(s) URL or a file:// folder"
            )
        _stamp(src, target, url)
    except OSError as exc:  # an unwritable cache (VPGEO_DATA_DIR) is a data-source problem, not a crash
        raise DataSourceError(
            f"{src.name}: cannot write the cache {cache_dir()} ({exc.strerror or exc}); set VPGEO_DATA_DIR to a "
            "writable folder"
        ) from None
    return target


def provenance(name: str, path: Path | None = None) -> dict[str, Any]:
    """Licence, vintage, URL, sha256 and retrieval time of a source, for a layer's ``attrs``."""
    src = _get(name)
    out: dict[str, Any] = {
        "source": name,
        "licence": src.licence,
        "vintage": src.vintage,
        "description": src.description,
    }
    if src.kind != "download":
        out["file"] = f"data/{src.path}"
        return out
    out.update(
        {
            "url": GITHUB_RAW + src.relpath,
            "sha256": src.sha256,
            "repository": f"https://github.com/{src.owner}/{src.repo}",
            "commit": src.commit,
        }
    )
    path = path or _cached_path(src)
    stamp = path.with_name(path.name + ".retrieved.json")
    if stamp.is_file():
        try:
            meta = json.loads(stamp.read_text(encoding="utf-8"))
            out["retrieved"], out["retrieved_from"] = meta.get("retrieved"), meta.get("url")
        except (OSError, ValueError):
            pass  # a damaged stamp only loses the retrieval time
    if "retrieved" not in out and path.is_file():
        out["retrieved"] = datetime.fromtimestamp(path.stat().st_mtime, UTC).isoformat(timespec="seconds")
    return out


def source_info(name: str) -> dict[str, Any]:
    """Everything known about a source: registry fields, URL, cache path and whether it is cached.

    Examples
    --------
    >>> source_info("communes2025-vietnam3dmap")["path"]
    'public/wards/25.json'
    """
    src = _get(name)
    info: dict[str, Any] = {k: v for k, v in asdict(src).items() if v not in ("", None)}
    if src.kind == "download":
        info["url"] = source_url(name)
        info["upstream_url"] = GITHUB_RAW + src.relpath
        info["cache_path"] = str(_cached_path(src))
    info["cached"] = is_cached(name)
    return info


def list_sources() -> list[dict[str, Any]]:
    """All registered sources (pinned downloads first, then shipped files), as :func:`source_info` dicts."""
    order = sorted(_SOURCES.values(), key=lambda s: s.kind != "download")
    return [source_info(s.name) for s in order]
