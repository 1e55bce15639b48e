"""Big maps (issue #16): vpgeo's build time against the time headless chromium needs to draw the page.

For N scored candidates (score, rank, distance_km) it measures, in one process:

* build: ``plan_map(candidates=...)`` + ``save_map`` (Python, wall clock);
* draw: from navigation start to the page's ``vpgeo.drawn`` mark (two animation frames after every layer
  was added, i.e. painted), read from ``performance.now()`` in the page, so WebDriver overhead is excluded;
* the ratio build / draw (target ≤ 3) and the file size (target ≤ 5 MB at 100,000);
* the same for geopandas' ``explore()`` (its CDN links replaced by the inline Leaflet so it draws offline).

Usage::

    python benchmarks/bench_map.py --small      # 2,000 points, both maps, < 20 s (CI)
    python benchmarks/bench_map.py              # 100,000 points, both maps (explore() takes a while)
    python benchmarks/bench_map.py --n 500000 --no-explore

Needs /usr/bin/chromium and chromedriver (apt-get install chromium chromium-driver); without them only the
build side is printed.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np

from vpgeo import _assets
from vpgeo.maps import plan_map, save_map

CHROMIUM = Path("/usr/bin/chromium")
# explore() has no ready mark: two animation frames after load is when Leaflet's renderers have painted.
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
    opts.binary_location = str(CHROMIUM)
    for flag in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
        f"--user-data-dir={profile}", "--proxy-server=http://127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND",
        "--window-size=1200,900",
    ):  # fmt: skip
        opts.add_argument(flag)
    drv = webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"), options=opts)
    drv.set_page_load_timeout(900)
    drv.set_script_timeout(900)
    return drv, profile


def draw_vpgeo(drv: Any, path: Path) -> float:
    """Seconds from navigation start to ``vpgeo.drawn`` for a fresh load of ``path``."""
    from selenium.webdriver.support.wait import WebDriverWait

    drv.get("about:blank")
    drv.get(path.as_uri())
    ready = "return !!(window.vpgeo && vpgeo.drawn)"
    WebDriverWait(drv, 900, poll_frequency=0.05).until(lambda d: d.execute_script(ready))
    return float(drv.execute_script("return vpgeo.drawn")) / 1000


def draw_explore(drv: Any, path: Path) -> float:
    drv.get("about:blank")
    drv.get(path.as_uri())  # returns after the load event: every script has run
    return float(drv.execute_async_script(WAIT_DRAWN)) / 1000


def build_vpgeo(gdf: gpd.GeoDataFrame, path: Path) -> float:
    t = time.perf_counter()
    save_map(plan_map(candidates=gdf), path)
    return time.perf_counter() - t


def build_explore(gdf: gpd.GeoDataFrame, out: Path) -> tuple[float, Path, Path]:
    t = time.perf_counter()
    m = gdf.explore(tiles=None)  # no basemap, like the vpgeo map
    cdn = out / "explore_cdn.html"
    m.save(str(cdn))
    seconds = time.perf_counter() - t
    offline = out / "explore_offline.html"
    offline.write_text(_assets.make_offline(cdn.read_text(encoding="utf-8"), strict=False), encoding="utf-8")
    return seconds, cdn, offline


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--n", type=int, default=100_000, help="candidate points (default 100,000)")
    ap.add_argument("--small", action="store_true", help="2,000 points, for CI (< 20 s)")
    ap.add_argument("--no-explore", action="store_true", help="skip geopandas' explore()")
    ap.add_argument("--out", type=Path, default=None, help="keep the HTML files here")
    args = ap.parse_args()
    n = 2_000 if args.small else args.n
    out = args.out or Path(tempfile.mkdtemp(prefix="vpgeo-bench-maps-"))
    out.mkdir(parents=True, exist_ok=True)
    gdf = candidates(n)
    build_vpgeo(candidates(200, seed=2), out / "warm.html")  # first call imports and caches Leaflet
    ours = out / "vpgeo.html"
    ours_build = build_vpgeo(gdf, ours)
    explore = None if args.no_explore else build_explore(gdf, out)
    mb = 1e6
    print(f"points: {n:,}   files in {out}")
    print(f"{'':30}{'file MB':>9}{'build s':>9}{'draw s':>9}{'build/draw':>12}")
    if not CHROMIUM.exists():
        print(f"{'vpgeo plan_map+save_map':30}{ours.stat().st_size / mb:9.2f}{ours_build:9.2f}   (no chromium)")
        return
    drv, profile = browser()
    try:
        draw_vpgeo(drv, out / "warm.html")  # warm the browser (first start compiles, loads fonts)
        ours_draw = draw_vpgeo(drv, ours)
        drawn = drv.execute_script("return vpgeo.counts.candidates")
        ex_draw = draw_explore(drv, explore[2]) if explore else None
    finally:
        drv.quit()
        shutil.rmtree(profile, ignore_errors=True)
    print(f"{'vpgeo plan_map+save_map':30}{ours.stat().st_size / mb:9.2f}{ours_build:9.2f}{ours_draw:9.2f}"
          f"{ours_build / ours_draw:12.2f}   ({drawn:,} points drawn)")  # fmt: skip
    if explore and ex_draw is not None:
        ex_build, cdn, _ = explore
        print(f"{'geopandas explore()':30}{cdn.stat().st_size / mb:9.2f}{ex_build:9.2f}{ex_draw:9.2f}"
              f"{ex_build / ex_draw:12.2f}")  # fmt: skip
        size_ratio = cdn.stat().st_size / ours.stat().st_size
        print(f"explore()/vpgeo: file {size_ratio:.1f}x, build {ex_build / ours_build:.1f}x, "
              f"draw {ex_draw / ours_draw:.1f}x")  # fmt: skip
    verdict = "ok" if ours_build <= 3 * ours_draw else "OVER"
    size_ok = "ok" if ours.stat().st_size <= 5 * mb * n / 100_000 or n < 100_000 else "OVER"
    print(f"target build ≤ 3× draw: {verdict}; size ≤ 5 MB per 100,000 points: {size_ok}")


if __name__ == "__main__":
    main()
