"""The command line, run as users run it: the installed console script, from a temporary folder."""

from __future__ import annotations

import argparse
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
    # the installed script, importing this checkout (an editable install may point at another one)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
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
    expected = corridor_distances(pt.to_crs("EPSG:5897"), access_points=None).loc[0, "distance_km"]
    # written rounded to what a commune-precision position supports (#17 item 3)
    from vpgeo._format import round_to

    assert res.loc[0, "distance_km"] == pytest.approx(round_to(expected, float(res.loc[0, "precision_m"])), abs=1e-9)
    assert res.loc[0, "distance_km"] != pytest.approx(expected, abs=1e-6)  # not the raw float
    assert res["rank"].dropna().tolist() == [1.0, 2.0]


# --------------------------------------------------------------------------------- options and advice


def _message_literals() -> list[tuple[str, str]]:
    """(module, text) of every string literal in vpgeo/*.py that names an option, docstrings excepted."""
    import ast
    import re

    out = []
    for path in sorted((Path(__file__).resolve().parents[1] / "vpgeo").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docs = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
            and node.body
            and isinstance(node.body[0], ast.Expr)
            and isinstance(node.body[0].value, ast.Constant)
        }
        for node in ast.walk(tree):
            text = node.value if isinstance(node, ast.Constant) and id(node) not in docs else None
            if isinstance(text, str) and re.search(r"--[a-z][a-z-]+", text):
                out.append((path.stem, text))
    return out


def test_every_suggested_flag_exists_for_the_command_that_prints_it() -> None:
    import re

    from vpgeo.cli import command_parsers, fit_advice

    parsers = command_parsers()
    literals = _message_literals()
    assert len(literals) > 20  # the collector finds the messages (io, rules, geocoding, report, cli …)
    for command in ("report", "geocode", "score", "data list", "data fetch", "data info"):
        have = {s for a in parsers[command]._actions for s in a.option_strings}
        for module, text in literals:
            if module == "cli":
                continue  # the CLI's own help and errors are checked per parser below
            shown = fit_advice(text, parsers[command])
            missing = set(re.findall(r"--[a-z][a-z0-9-]*", shown)) - have
            assert not missing, (command, module, text, shown)
            kept = set(re.findall(r"--[a-z][a-z0-9-]*", text)) & have
            assert kept <= set(re.findall(r"--[a-z][a-z0-9-]*", shown))  # valid advice is left as it is
    # help texts name only the command's own options
    for command, parser in parsers.items():
        have = {s for a in parser._actions for s in a.option_strings}
        for action in parser._actions:
            named = set(re.findall(r"--[a-z][a-z0-9-]*", action.help or ""))
            assert named <= have, (command, action.dest, named - have)


def test_report_with_projected_sites_does_not_suggest_crs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "sites.geojson"
    feats = [
        {"type": "Feature", "properties": {"name": "A", "kind": "KCN"}, "geometry": {"type": "Point", "coordinates": c}}
        for c in ([560_000, 2_360_000], [561_000, 2_361_000])
    ]
    src.write_text(json.dumps({"type": "FeatureCollection", "features": feats}), encoding="utf-8")
    assert (
        main(["report", "--out", str(tmp_path / "r"), "--sites", str(src), "--no-png", "--boundaries", "approx"]) == 2
    )
    err = capsys.readouterr().err
    assert "projected" in err and "--crs" not in err and "EPSG:5897" in err, err
    out = tmp_path / "s.csv"
    assert main(["score", str(src), "--out", str(out), "--no-progress"]) == 2
    assert "--crs EPSG:5897" in capsys.readouterr().err  # score has --crs: the advice names it


def test_every_option_has_help_and_shows_its_default() -> None:
    from vpgeo.cli import command_parsers, show_default

    for command, parser in command_parsers().items():
        text = parser.format_help()
        for action in parser._actions:
            if action.dest == "help" or isinstance(action, argparse._SubParsersAction):
                continue
            assert action.help, (command, action.dest)
            if action.option_strings and action.default not in (None, False, argparse.SUPPRESS):
                assert f"(default: {show_default(action.default)})" in " ".join(text.split()), (command, action.dest)
            elif action.option_strings and action.default is None and not action.required:
                assert "default" in (action.help or ""), (command, action.dest)  # says what happens without it


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--buffer-km", "5,5"], {"buffer_km": 5.5}),
        (["--buffer-km", "0"], {"buffer_km": 0.0}),
        (["--rings", "2,5;5;10"], {"rings": [2.5, 5.0, 10.0]}),
        (["--rings", "2,5,10"], {"rings": [2.0, 5.0, 10.0]}),
        (["--point-precision-m", "12,5"], {"point_precision_m": 12.5}),
    ],
)
def test_decimal_comma_numbers(argv: list[str], expected: dict[str, object]) -> None:
    from vpgeo.cli import _parser

    args = vars(_parser().parse_args(["report", "--out", "x", *argv]))
    assert {k: args[k] for k in expected} == expected


@pytest.mark.parametrize("value", ["nan", "inf", "1e308", "-1", "abc"])
def test_impossible_numbers_exit_2(value: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["report", "--out", str(tmp_path / "r"), "--rings", value]) == 2
    assert main(["report", "--out", str(tmp_path / "r"), "--buffer-km", value]) == 2
    assert main(["score", "x.csv", "--out", str(tmp_path / "s.csv"), "--max-km", value]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 3 and "Traceback" not in err
    assert not (tmp_path / "r").exists()


def test_engine_dask_without_dask_exits_2_with_the_install_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda n, *a: None if n == "dask_geopandas" else real(n, *a))
    src = tmp_path / "c.csv"
    src.write_text("ten,lon,lat\nA,105.6,21.3\n", encoding="utf-8")
    assert main(["score", str(src), "--out", str(tmp_path / "s.csv"), "--engine", "dask"]) == 2
    err = capsys.readouterr().err
    assert 'pip install "vpgeo[dask]"' in err and err.count("\n") == 1
    assert not (tmp_path / "s.csv").exists()


def test_parquet_round_trip_with_the_plain_install(tmp_path: Path) -> None:
    src = tmp_path / "c.csv"
    src.write_text("ten,lon,lat\nA,105.6,21.3\nB,105.7,21.35\n", encoding="utf-8")
    assert (
        main(["geocode", str(src), "--out", str(tmp_path / "g.parquet"), "--lon-col", "lon", "--lat-col", "lat"]) == 0
    )
    assert main(["score", str(tmp_path / "g.parquet"), "--out", str(tmp_path / "s.parquet"), "--no-progress"]) == 0
    import pandas as pd

    assert pd.read_parquet(tmp_path / "s.parquet")["ten"].tolist() == ["A", "B"]
