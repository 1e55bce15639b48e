"""Offline web assets: Leaflet inlined from the registry package ``xstatic-leaflet``.

A saved map must open from a USB stick with no network, so nothing may be fetched: Leaflet's JavaScript and
CSS (with the control images as ``data:`` URIs) are read from ``xstatic.pkg.leaflet`` and written into the
page, and the other CDN links folium adds by default (jQuery, Bootstrap, awesome-markers, Font Awesome) are
dropped when the page does not use them. A page that needs a script we cannot ship is refused, not saved
half-broken.

Examples
--------
>>> "Leaflet 1.9.3" in leaflet_js()[:200]
True
>>> "data:image/png;base64," in leaflet_css()
True
>>> remote_refs('<script src="https://x.org/a.js"></script><link rel="stylesheet" href="b.css"/>')
['https://x.org/a.js']
"""

from __future__ import annotations

import base64
import re
from functools import lru_cache
from pathlib import Path

from vpgeo.errors import InputError

__all__ = ["LEAFLET_VERSION", "leaflet_css", "leaflet_js", "make_offline", "remote_refs"]

LEAFLET_VERSION = "1.9.3"

# <script src=...> and <link href=...> pointing at http(s): or protocol-relative // URLs.
_REMOTE_TAG = re.compile(
    r"""<script\b[^>]*?\bsrc\s*=\s*["']?(?P<js>(?:https?:)?//[^"'\s>]+)["']?[^>]*>\s*</script>"""
    r"""|<link\b[^>]*?\bhref\s*=\s*["']?(?P<css>(?:https?:)?//[^"'\s>]+)["']?[^>]*/?>""",
    re.IGNORECASE,
)

# Resources folium links by default, and the JavaScript token that shows a page really uses them.
_OPTIONAL = {
    "jquery": r"\$\(|jQuery",
    "bootstrap": r"bootstrap\.|data-bs-",
    "glyphicons": r"glyphicon",
    "awesome-markers": r"AwesomeMarkers",
    "fontawesome": r"AwesomeMarkers|\bfa-[a-z]",
    "leaflet.awesome.rotate": r"AwesomeMarkers",
}


def _leaflet_dir() -> Path:
    try:
        import xstatic.pkg.leaflet as xl
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise InputError(
            "offline maps need the package xstatic-leaflet (pip install 'xstatic-leaflet>=1.9.3')"
        ) from exc
    if not str(xl.VERSION).startswith(LEAFLET_VERSION):
        raise InputError(
            f"xstatic-leaflet carries Leaflet {xl.VERSION}, folium's templates need {LEAFLET_VERSION}; "
            f"install xstatic-leaflet=={LEAFLET_VERSION}.*"
        )
    return Path(xl.BASE_DIR)


@lru_cache(maxsize=1)
def leaflet_js() -> str:
    """Leaflet's minified JavaScript, without the source-map comment (nothing to fetch)."""
    text = (_leaflet_dir() / "leaflet.js").read_text(encoding="utf-8")
    return re.sub(r"//# sourceMappingURL=\S+", "", text)


@lru_cache(maxsize=1)
def leaflet_css() -> str:
    """Leaflet's CSS with its control images inlined as ``data:`` URIs."""
    base = _leaflet_dir()
    css = (base / "leaflet.css").read_text(encoding="utf-8")

    def inline(match: re.Match[str]) -> str:
        img = base / match.group(1)
        data = base64.b64encode(img.read_bytes()).decode("ascii")
        return f"url(data:image/png;base64,{data})"

    return re.sub(r"url\((images/[\w.-]+\.png)\)", inline, css)


def leaflet_tags() -> str:
    """``<style>`` and ``<script>`` elements carrying Leaflet inline."""
    # "</" cannot occur in Leaflet's code or CSS, checked so a future version cannot end the element early.
    js, css = leaflet_js(), leaflet_css()
    if "</script" in js.lower() or "</style" in css.lower():  # pragma: no cover - Leaflet 1.9.3 is clean
        raise InputError("xstatic-leaflet's files contain a closing tag and cannot be inlined")
    return f"<style>{css}</style>\n<script>{js}</script>"


def remote_refs(html: str) -> list[str]:
    """URLs of scripts and stylesheets a page would fetch from the network.

    Tile URLs inside JavaScript strings are not counted: they are data, fetched only when shown.
    """
    return [m.group("js") or m.group("css") for m in _REMOTE_TAG.finditer(html)]


def make_offline(html: str, *, strict: bool = True) -> str:
    """Return ``html`` with Leaflet inlined and folium's unused CDN links removed.

    Parameters
    ----------
    html : str
        A rendered folium page.
    strict : bool
        Refuse a page that needs a remote script or stylesheet we have no offline copy of. With ``False``
        such references are dropped anyway (used by the benchmark to run geopandas' ``explore()`` offline).

    Raises
    ------
    InputError
        When ``strict`` and the page needs a resource that only the network has.

    Examples
    --------
    >>> page = ('<head><script src="https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js"></script>'
    ...         '<script src="https://code.jquery.com/jquery-3.7.1.min.js"></script></head><body></body>')
    >>> out = make_offline(page)
    >>> remote_refs(out), "Leaflet 1.9.3" in out
    ([], True)
    """
    # Only the page's own code decides whether an optional library is needed, not the libraries.
    own_code = _REMOTE_TAG.sub("", html)
    leaflet_done = "Leaflet 1.9.3, a JS library" in html
    needed: list[str] = []

    def replace(match: re.Match[str]) -> str:
        nonlocal leaflet_done
        url = match.group("js") or match.group("css")
        name = url.rsplit("/", 1)[-1].lower()
        if re.search(r"/leaflet(@[\d.]+)?/dist/leaflet\.(js|css)$", url) or name in {"leaflet.js", "leaflet.css"}:
            if leaflet_done:
                return ""
            leaflet_done = True
            return leaflet_tags()
        for lib, token in _OPTIONAL.items():
            if lib in url.lower():
                if strict and re.search(token, own_code):
                    needed.append(url)
                return ""
        if strict:
            needed.append(url)
        return ""

    out = _REMOTE_TAG.sub(replace, html)
    if needed:
        raise InputError(
            "the map uses scripts or styles that only the network has and vpgeo cannot ship offline: "
            + ", ".join(sorted(set(needed)))
            + "; remove the plugin or markers that need them (vpgeo's own layers need only Leaflet)"
        )
    return out
