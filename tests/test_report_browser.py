"""report.html in a real browser (Debian chromium + chromium-driver, headless, network off).

Skipped where /usr/bin/chromium or chromedriver are missing: ``apt-get install -y chromium chromium-driver``.
No sleeps: every check reads the page's state after a synchronous action.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from vpgeo.pipeline import build_report
from vpgeo.report import report_html, sites_table

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
HOSTILE = '<img src=x onerror="window.__pwned=1">'
RAW_CODES = ("n_kcn", "n_ccn", "rule_uncertain", "rule_yes", "site_id", "within_buffer", "published_point",
             "commune_centroid", "older_plan", "new_2030", "location_method")  # fmt: skip
A4_CONTENT_PX = 703  # 210 mm less 2 x 12 mm margins, at 96 px per inch

if not CHROMIUM.exists() or not Path(CHROMEDRIVER).exists():
    pytest.skip("needs /usr/bin/chromium and chromedriver (apt-get install chromium chromium-driver)",
                allow_module_level=True)  # fmt: skip


@pytest.fixture(scope="module")
def driver(chromium: Any) -> Iterator[Any]:
    with chromium("1400,900", "--hide-scrollbars") as drv:
        yield drv


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The embedded report, and the same result with per-corridor verdicts and a hostile long site name."""
    res = build_report(tmp_path_factory.mktemp("rb") / "out", boundaries="approx", png=False)
    r = res.result
    rng = np.random.default_rng(3)
    for cid in r.rule["corridors"]:
        lo = rng.uniform(0, 20, len(r.table))
        r.table[f"dmin_{cid}_km"] = lo
        r.table[f"dmax_{cid}_km"] = lo + rng.uniform(0, 8, len(r.table))
        r.table[f"verdict_{cid}"] = np.where(lo + 4 <= 5, "yes", np.where(lo > 5, "no", "uncertain"))
    r.table["p_within"] = rng.uniform(0, 1, len(r.table))
    r.table.loc[r.table.index[0], "name"] = HOSTILE + " KCN" + "Ư" * 80  # long, unbreakable
    r.table.loc[r.table.index[1], "commune_2025"] = HOSTILE
    wide = res.out / "wide.html"
    wide.write_text(report_html(r, sites_table(r), has_png=False), encoding="utf-8")
    return {"embedded": res.out / "report.html", "wide": wide}


def _open(drv: Any, path: Path, *, width: int = 1400, media: str = "screen") -> list[dict[str, Any]]:
    drv.get_log("browser")  # drop entries of the previous page
    drv.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride", {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": False}
    )
    drv.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": media})
    drv.get(path.as_uri())  # returns once the document (static, no network) has loaded
    return list(drv.get_log("browser"))


def _severe(log: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in log if e.get("level") == "SEVERE" and "map.png" not in e.get("message", "")]


@pytest.mark.parametrize("which", ["embedded", "wide"])
def test_report_fits_a_laptop_screen(driver: Any, reports: dict[str, Path], which: str) -> None:
    log = _open(driver, reports[which])
    assert not _severe(log)
    assert driver.execute_script("return document.documentElement.scrollWidth") <= 1400
    # the verdict column, the table's last but one, is on screen
    right = driver.execute_script(
        "var t = document.querySelectorAll('table.sortable'); t = t[t.length - 1];"
        "var th = t.tHead.rows[0].cells; return th[th.length - 2].getBoundingClientRect().right;"
    )
    assert right <= 1400


@pytest.mark.parametrize("which", ["embedded", "wide"])
def test_report_prints_on_a4(driver: Any, reports: dict[str, Path], which: str) -> None:
    _open(driver, reports[which], width=A4_CONTENT_PX, media="print")
    assert driver.execute_script("return document.documentElement.scrollWidth") <= A4_CONTENT_PX
    assert driver.execute_script("return getComputedStyle(document.querySelector('nav')).display") == "none"


def test_report_reads_as_a_document(driver: Any, reports: dict[str, Path]) -> None:
    _open(driver, reports["embedded"])
    assert "Kiểm tra quy hoạch / Plan check" in driver.title
    text = driver.execute_script("return document.body.innerText")
    assert "{'" not in text and "':" not in text  # no Python dict reprs
    for code in RAW_CODES:
        assert code not in text, code
    cells = driver.execute_script(
        "return Array.prototype.map.call(document.querySelectorAll('td, th'), function (c) {"
        "return c.textContent.trim(); });"
    )
    assert not {"existing", "published_point", "commune_centroid", "none", "True", "False"} & set(cells)
    assert "hiện có / existing" in text and "điểm công bố" in text
    rows = driver.execute_script("return document.querySelectorAll('table.prov tbody tr').length")
    assert rows >= 10  # provenance as a table: one row per field


def test_hostile_text_is_inert(driver: Any, reports: dict[str, Path]) -> None:
    _open(driver, reports["wide"])
    assert driver.execute_script("return window.__pwned === undefined && document.images.length === 0")
    assert HOSTILE in driver.execute_script("return document.body.innerText")


def test_tables_sort_by_value(driver: Any, reports: dict[str, Path]) -> None:
    _open(driver, reports["wide"])
    script = """
    var t = document.querySelectorAll('table.sortable'); t = t[t.length - 1];
    var th = t.tHead.rows[0].cells[2];  // area (ha)
    th.click();
    var up = Array.prototype.map.call(t.tBodies[0].rows, function (r) { return r.cells[2].getAttribute('data-v'); });
    var state = th.getAttribute('aria-sort');
    th.click();
    var down = Array.prototype.map.call(t.tBodies[0].rows, function (r) { return r.cells[2].getAttribute('data-v'); });
    return [up, down, state, th.getAttribute('aria-sort')];
    """
    up, down, s1, s2 = driver.execute_script(script)
    assert (s1, s2) == ("ascending", "descending")
    values = [float(v) for v in up if v]
    assert values == sorted(values) and len(values) > 20
    assert [float(v) for v in down if v] == sorted(values, reverse=True)
    assert up[len(values) :] == [""] * (len(up) - len(values))  # blanks last, both ways
    assert down[len(values) :] == [""] * (len(down) - len(values))
