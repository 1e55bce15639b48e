"""The report renderer (vpgeo.report) and the report folder on the embedded data (one build per session)."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from pyproj import Transformer
from shapely.geometry import LineString, Point

from vpgeo.crs import to_metric
from vpgeo.datasets import load_corridors, load_sites
from vpgeo.pipeline import build_report
from vpgeo.pipeline.report import fit_to_user_sites
from vpgeo.report import compliance_markdown, report_html, sites_table
from vpgeo.rules import RuleResult, check_priority_rule

HOSTILE = '<img src=x onerror=alert(1)></script><b>"&'
RAW_CODES = ("n_kcn", "rule_uncertain", "site_id", "published_point", "commune_centroid", "within_buffer",
             "older_plan", "new_2030")  # fmt: skip


@pytest.fixture(scope="session")
def embedded_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, RuleResult]:
    """The report folder of the embedded data, built once for the whole session."""
    res = build_report(tmp_path_factory.mktemp("report") / "out", boundaries="approx", png=True)
    return res.out, res.result


def _small_result(names: list[str] | None = None, **rule_kw: object) -> RuleResult:
    """The rule on three synthetic sites along one synthetic corridor (metric CRS, known distances)."""
    corr = gpd.GeoDataFrame(
        {"corridor_id": ["X"], "name": ["Đường X"], "precision_m": [100.0], "priority": [True]},
        geometry=[LineString([(500000, 2350000), (520000, 2350000)])],
        crs="EPSG:5897",
    )
    sites = gpd.GeoDataFrame(
        {
            "site_id": ["S1", "S2", "S3"],
            "name": names or ["KCN Một", "CCN Hai", "KCN Ba"],
            "kind": ["KCN", "CCN", "KCN"],
            "phase": ["new_2030", "existing", "older_plan"],
            "area_ha": [100.0, 20.5, None],
            "location_method": ["published_point", "commune_centroid", "none"],
            "precision_m": [50.0, 2600.0, None],
            "district": ["Huyện A", "Huyện B", None],
            "commune_2025": ["Xã A", "Xã B", None],
        },
        geometry=[Point(510000, 2351000), Point(510000, 2358000), None],
        crs="EPSG:5897",
    )
    return check_priority_rule(sites, corr, buffer_km=5, corridor_set=["X"], access_points=None, **rule_kw)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------ sites.csv


def test_sites_table_rounds_distances_to_their_uncertainty() -> None:
    r = _small_result()
    r.table["distance_km"] = [1.736912, 1.736912, float("nan")]
    r.table["uncertainty_m"] = [20.0, 2600.0, float("nan")]
    t = sites_table(r)
    # a tenth of 20 m is 2 m -> metres (3 decimals of km); a tenth of 2.6 km -> 100 m (1 decimal)
    assert t["distance_km"].tolist()[:2] == [1.737, 1.7]
    assert t["distance_km"].isna().tolist()[2]
    assert t["uncertainty_m"].tolist()[:2] == [20.0, 2600.0]
    # positions in EPSG:4326 with four decimals (about 10 m), as pyproj transforms them
    lon, lat = Transformer.from_crs("EPSG:5897", "EPSG:4326", always_xy=True).transform(510000, 2351000)
    assert (t.loc[0, "lon"], t.loc[0, "lat"]) == (round(lon, 4), round(lat, 4))
    assert list(t.columns[:3]) == ["site_id", "name", "kind"]


def test_sites_table_carries_per_corridor_columns() -> None:
    r = _small_result()
    r.table["verdict_X"] = ["yes", "uncertain", "uncertain"]
    r.table["dmin_X_km"] = [0.8123, 4.4567, float("nan")]
    r.table["dmax_X_km"] = [1.2345, 10.123, float("nan")]
    r.table["p_within"] = [1.0, 0.4567, float("nan")]
    t = sites_table(r)
    assert t["verdict_X"].tolist() == ["yes", "uncertain", "uncertain"]
    unc = r.table["uncertainty_m"].tolist()
    assert unc[0] == pytest.approx(150.0)  # site 50 m + corridor 100 m
    assert t["dmin_X_km"].tolist()[:2] == [0.81, 4.5]  # 150 m -> 2 decimals; 2.7 km -> 1 decimal
    assert t["p_within"].tolist()[:2] == [1.0, 0.46]


# ------------------------------------------------------------------------------------------ compliance.md


def test_compliance_markdown_states_rule_counts_and_labels() -> None:
    r = _small_result()
    md = compliance_markdown(r)
    c = r.counts["applicable"]
    assert "**5 km**" in md
    assert f"| có / yes | {c['yes']} |" in md
    assert f"| chưa chắc / uncertain | {c['uncertain']} |" in md
    # the by-district table speaks words, not column codes
    assert "Số KCN / Parks" in md and "| n_kcn" not in md
    assert "{'" not in md and "'}" not in md


def test_compliance_markdown_user_scope_lists_targets_without_gap() -> None:
    r = fit_to_user_sites(_small_result(), source="mine.csv")
    md = compliance_markdown(r)
    assert "Chênh lệch / gap" not in md
    assert "not compared with the plan's province-wide targets" in md and "mine.csv" in md
    assert "news and provincial pages" not in md
    assert all(t["gap"] is None and t["compared"] is False for t in r.targets.values())


# ------------------------------------------------------------------------------------------ report.html


def test_report_html_escapes_every_user_text() -> None:
    r = _small_result(names=[HOSTILE, "CCN Hai", "KCN Ba"])
    r.table.loc[1, "commune_2025"] = HOSTILE
    r.data["sites"] = {"layer": "sites", "file": HOSTILE, "title": HOSTILE}
    page = report_html(r, sites_table(r), has_png=False, corridor_names={"X": HOSTILE}, title=HOSTILE)
    assert HOSTILE not in page
    assert "<img src=x" not in page
    assert page.count("</script>") == 1  # only the page's own sorter
    assert page.count("&lt;img src=x onerror=alert(1)&gt;") >= 5  # name, commune, corridor, provenance, title


def test_report_html_is_bilingual_without_codes_or_reprs() -> None:
    r = _small_result()
    page = report_html(r, sites_table(r), has_png=False)
    # the visible text (the folded "method detail" keeps the rule's technical spelling, on purpose)
    text = re.sub(r"<script>.*?</script>|<style>.*?</style>|<details.*?</details>|<[^>]+>", " ", page, flags=re.S)
    for code in RAW_CODES:
        assert code not in text, code
    assert "{'" not in text and "': " not in text
    assert "mới đến 2030 / new by 2030" in text  # the phase new_2030 in words
    assert "điểm công bố" in text  # published_point in words
    assert "(chưa rõ / unknown)" in text and "(unknown)" not in text.replace("(chưa rõ / unknown)", "")  # S3
    assert "KCN: mới đến 2030 / new by 2030, giai đoạn 2031–2050 / 2031–2050" in text  # the scope in words


def test_report_html_shows_per_corridor_verdicts_and_intervals() -> None:
    r = _small_result()
    r.table["verdict_X"] = ["yes", "uncertain", "uncertain"]
    r.table["dmin_X_km"] = [0.8123, 4.4567, float("nan")]
    r.table["dmax_X_km"] = [1.2345, 10.123, float("nan")]
    r.table["p_within"] = [1.0, 0.45, float("nan")]
    page = report_html(r, sites_table(r), has_png=False)
    # the rule applies to S1 (KCN new_2030, yes on X) and S3 (KCN older_plan, uncertain); not to S2 (a CCN)
    assert r.table["rule_applies"].tolist() == [True, False, True]
    assert "| X | 1 | 0 | 1 |" in compliance_markdown(r)
    assert '<td class="n" data-v="1">1</td><td class="n" data-v="0">0</td><td class="n" data-v="1">1</td>' in page
    assert "X (≤ 5 km)" in page
    assert "0.81–1.23 km" in page and "4.5–10.1 km" in page
    assert "45 % trong vùng đệm / within" in page


def test_report_html_user_scope_has_no_gap_column() -> None:
    r = fit_to_user_sites(_small_result(), source="mine.csv")
    page = report_html(r, sites_table(r), has_png=False)
    assert "Chênh lệch / Gap" not in page
    assert "không so sánh với các chỉ tiêu toàn tỉnh" in page and "not compared with the plan" in page


# ------------------------------------------------------------------------------------------ the embedded report


def test_embedded_report_writes_the_folder(embedded_report: tuple[Path, RuleResult]) -> None:
    out, _ = embedded_report
    names = {p.name for p in out.iterdir()}
    assert names == {"index.html", "report.html", "sites.csv", "compliance.json", "compliance.md", "map.png"}
    assert (out / "map.png").read_bytes()[:4] == b"\x89PNG"


def test_embedded_report_counts_match_an_independent_rule_check(embedded_report: tuple[Path, RuleResult]) -> None:
    out, _ = embedded_report
    # the same rule, called directly on the embedded layers (metric, so no reprojection notice)
    sites, corr = load_sites(), load_corridors()
    direct = check_priority_rule(
        to_metric(sites, operation="test", warn=False), to_metric(corr, operation="test", warn=False), buffer_km=5
    )
    doc = json.loads((out / "compliance.json").read_text(encoding="utf-8"))
    assert doc["counts"] == direct.counts
    csv = pd.read_csv(out / "sites.csv", encoding="utf-8-sig")
    assert len(csv) == len(sites) == 60
    assert sorted(csv["site_id"]) == sorted(sites["site_id"])
    assert dict(Counter(csv["within_buffer"])) == {k: v for k, v in direct.counts["all_sites"].items() if v}
    applicable = csv[csv["rule_applies"]]
    assert dict(Counter(applicable["within_buffer"])) == {k: v for k, v in direct.counts["applicable"].items() if v}
    page = (out / "report.html").read_text(encoding="utf-8")
    for k in ("yes", "no", "uncertain"):
        assert f'<div class="kpi {k}"><b>{direct.counts["applicable"][k]}</b>' in page


def test_embedded_report_speaks_of_the_embedded_list(embedded_report: tuple[Path, RuleResult]) -> None:
    out, result = embedded_report
    assert result.coverage.get("scope") != "user"
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "Chênh lệch / Gap" in page  # the embedded list is compared with the plan
    md = (out / "compliance.md").read_text(encoding="utf-8")
    assert "news and provincial pages" in md
