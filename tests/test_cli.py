"""The command line, run as users run it: the installed console script, from a temporary folder."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from vpgeo.cli import main

EXE = shutil.which("vpgeo") or ""


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    cmd = [EXE, *args] if EXE else [sys.executable, "-m", "vpgeo.cli", *args]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env, timeout=600)


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cwd = tmp_path_factory.mktemp("run")
    proc = _run(["report", "--out", "report/", "--boundaries", "approx"], cwd)
    assert proc.returncode == 0, proc.stderr
    assert "sites" in proc.stdout
    return cwd / "report"


def test_report_writes_every_file(report_dir: Path) -> None:
    for name in ("index.html", "report.html", "sites.csv", "compliance.json", "compliance.md", "map.png"):
        assert (report_dir / name).stat().st_size > 0, name
    assert not (report_dir / "rejects.csv").exists()  # the embedded data reject nothing


def test_sites_csv_and_compliance_agree(report_dir: Path) -> None:
    with (report_dir / "sites.csv").open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    doc = json.loads((report_dir / "compliance.json").read_text(encoding="utf-8"))
    from vpgeo import load_sites

    assert len(rows) == len(load_sites())
    for col in (
        "site_id",
        "name",
        "kind",
        "phase",
        "area_ha",
        "district",
        "commune_2025",
        "lon",
        "lat",
        "precision_m",
        "nearest_corridor",
        "distance_km",
        "uncertainty_m",
        "within_buffer",
    ):
        assert col in rows[0], col
    applicable = [r for r in rows if r["rule_applies"] == "True"]
    for v in ("yes", "no", "uncertain"):
        assert doc["counts"]["applicable"][v] == sum(r["within_buffer"] == v for r in applicable)
    assert doc["rule"]["buffer_km"] == 5.0
    assert {"sources", "vpgeo_version", "generated_at"} & set(doc["data"]) or doc["data"]["vpgeo_version"]
    assert doc["targets"]["kcn_2030"]["plan"] == 24


def test_report_refuses_a_non_empty_out_without_force(report_dir: Path) -> None:
    proc = _run(["report", "--out", str(report_dir), "--no-png", "--boundaries", "approx"], report_dir.parent)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "--force" in proc.stderr and "Traceback" not in proc.stderr


def test_bad_input_is_one_line_exit_2(tmp_path: Path) -> None:
    missing = tmp_path / "nope.csv"
    proc = _run(["report", "--out", str(tmp_path / "r"), "--sites", str(missing)], tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "nope.csv" in proc.stderr and "Traceback" not in proc.stderr
    proc = _run(["report", "--out", str(tmp_path / "r2"), "--buffer-km", "abc"], tmp_path)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    proc = _run(["report", "--out", str(tmp_path / "r3"), "--corridor-set", "nonsense", "--no-png"], tmp_path)
    assert proc.returncode == 2 and "nonsense" in proc.stderr and proc.stderr.count("\n") == 1


def test_main_returns_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert main([]) == 2
    assert "error" in capsys.readouterr().err


def test_report_map_is_offline_and_has_the_layers(report_dir: Path) -> None:
    page = (report_dir / "index.html").read_text(encoding="utf-8")
    assert '<script src="http' not in page and '<link href="http' not in page
    for layer in ("Communes (2025)", "APPROXIMATE", "Corridors", "Sites by rule verdict"):
        assert layer in page, layer


def test_score_by_address(tmp_path: Path) -> None:
    import geopandas as gpd
    import pandas as pd

    from vpgeo import corridor_distances
    from vpgeo.gazetteer import legacy_communes

    src = tmp_path / "cands.csv"
    src.write_text('ten,dia_chi\nA,"Xã Sơn Lôi, Bình Xuyên"\nC,"Sóc Sơn, Hà Nội"\nD,Xã Kim Xá\n', encoding="utf-8")
    out = tmp_path / "scored.csv"
    assert main(["score", str(src), "--out", str(out), "--address-col", "dia_chi", "--no-progress"]) == 0
    res = pd.read_csv(out, encoding="utf-8-sig")
    assert list(res["ten"]) == ["A", "C", "D"]  # every row, in order
    assert res.loc[1, "match_status"] == "outside" and pd.isna(res.loc[1, "rank"])
    # A sits at the gazetteer point of Xã Sơn Lôi: its distance is the measure module's for that point
    son_loi = legacy_communes().set_index("name").loc["Xã Sơn Lôi"]
    pt = gpd.GeoDataFrame(geometry=gpd.points_from_xy([son_loi["lon"]], [son_loi["lat"]]), crs="EPSG:4326")
    expected = corridor_distances(pt, access_points=None).loc[0, "distance_km"]
    assert res.loc[0, "distance_km"] == pytest.approx(expected, abs=1e-6)
    assert res["rank"].dropna().tolist() == [1.0, 2.0]
