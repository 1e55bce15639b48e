"""Map size and time-to-drawn: vpgeo's plan_map/save_map vs geopandas' explore(), in headless chromium.

Both maps carry the same N scored candidate points (score, rank, distance_km). Both are opened offline
(network off) from file://; explore()'s page has its CDN links replaced by the inline Leaflet so it can
draw at all. "Drawn" = the page has loaded (every script run) and two animation frames have passed, which
is when Leaflet's canvas and SVG renderers have painted.

Usage::

    python benchmarks/bench_map.py              # N = 50,000 for both, plus vpgeo alone at 100,000
    python benchmarks/bench_map.py --n 20000 --big 0

Needs /usr/bin/chromium and chromedriver (apt-get install chromium chromium-driver).
"""

from __future__ import annotations

import argparse
import re
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np

from vpgeo import _assets
from vpgeo.maps import plan_map, save_map

WAIT_DRAWN = (
    "var done = arguments[arguments.length - 1];"
    "requestAnimationFrame(function () { requestAnimationFrame(function () { done(performance.now()); }); });"
)


def candidates(n: int, seed: int = 0) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    score = rng.random(n)
    return gpd.GeoDataFrame(
        {
            "score": score.round(4),
            "rank": (-score).argsort().argsort() + 1,
            "distance_km": (rng.random(n) * 12).round(2),
        },
        geometry=gpd.points_from_xy(rng.uniform(105.3, 105.8, n), rng.uniform(21.1, 21.5, n)),
        crs="EPSG:4326",
    )


def browser() -> tuple[Any, str]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="vpgeo-bench-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for flag in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
        f"--user-data-dir={profile}", "--proxy-server=http://127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND",
        "--window-size=1200,900",
    ):  # fmt: skip
        opts.add_argument(flag)
    drv = webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"), options=opts)
    drv.set_page_load_timeout(600)
    drv.set_script_timeout(600)
    return drv, profile


def time_to_drawn(drv: Any, path: Path) -> tuple[float, float]:
    """(wall seconds from navigation to drawn, in-page ms at drawn) for a fresh load of ``path``."""
    drv.get("about:blank")
    t0 = time.perf_counter()
    drv.get(path.as_uri())
    in_page = float(drv.execute_async_script(WAIT_DRAWN))
    return time.perf_counter() - t0, in_page


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=50_000, help="points in both maps (default 50,000)")
    ap.add_argument("--big", type=int, default=100_000, help="points in a vpgeo-only map (0: skip)")
    ap.add_argument("--out", type=Path, default=None, help="keep the HTML files here")
    args = ap.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="vpgeo-bench-maps-"))
    out.mkdir(parents=True, exist_ok=True)

    gdf = candidates(args.n)
    t = time.perf_counter()
    ours = save_map(plan_map(candidates=gdf), out / "vpgeo.html")
    ours_build = time.perf_counter() - t

    t = time.perf_counter()
    m = gdf.explore(tiles=None)  # no basemap, like the vpgeo map
    m.save(str(out / "explore_cdn.html"))
    explore_build = time.perf_counter() - t
    explore_cdn = out / "explore_cdn.html"
    explore = out / "explore_offline.html"
    explore.write_text(_assets.make_offline(explore_cdn.read_text(encoding="utf-8"), strict=False), encoding="utf-8")

    drv, profile = browser()
    try:
        time_to_drawn(drv, ours)  # warm the browser (first start compiles, loads fonts)
        ours_wall, ours_page = time_to_drawn(drv, ours)
        n_ours = drv.execute_script("return vpgeo.layers.candidates.getLayers().length")
        drv.get_log("browser")
        ex_wall, ex_page = time_to_drawn(drv, explore)
        ex_errors = [e["message"][:120] for e in drv.get_log("browser") if e["level"] == "SEVERE"][:3]
        var = re.search(r"var (geo_json_[0-9a-f]+) = L\.geoJson", explore.read_text(encoding="utf-8"))
        n_ex = drv.execute_script(f"return {var.group(1)}.getLayers().length") if var else "?"
        big = None
        if args.big:
            big_path = save_map(plan_map(candidates=candidates(args.big, seed=1)), out / "vpgeo_big.html")
            big_wall, big_page = time_to_drawn(drv, big_path)
            big = (big_path, big_wall, big_page, drv.execute_script("return vpgeo.counts.candidates"))
    finally:
        drv.quit()
        shutil.rmtree(profile, ignore_errors=True)

    mb = 1e6
    print(f"points: {args.n:,}   files in {out}")
    print(f"{'':28}{'file MB':>10}{'build s':>10}{'drawn s':>10}{'in-page s':>11}")
    print(f"{'vpgeo plan_map+save_map':28}{ours.stat().st_size / mb:10.2f}{ours_build:10.2f}{ours_wall:10.2f}"
          f"{ours_page / 1000:11.2f}   ({n_ours:,} markers)")  # fmt: skip
    print(f"{'geopandas explore() (CDN)':28}{explore_cdn.stat().st_size / mb:10.2f}{explore_build:10.2f}")
    print(
        f"{'  same, Leaflet inlined':28}{explore.stat().st_size / mb:10.2f}{'':10}{ex_wall:10.2f}"
        f"{ex_page / 1000:11.2f}   ({n_ex:,} features; JS errors: {ex_errors or 'none'})"
    )
    print(f"ratio explore/vpgeo: file size {explore_cdn.stat().st_size / ours.stat().st_size:.1f}x, "
          f"time to drawn {ex_wall / ours_wall:.1f}x, build {explore_build / ours_build:.1f}x")  # fmt: skip
    if big:
        path, wall, page, n = big
        size = path.stat().st_size / mb
        print(f"vpgeo with {n:,} points: {size:.2f} MB, drawn in {wall:.2f} s ({page / 1000:.2f} s in page)")


if __name__ == "__main__":
    main()
