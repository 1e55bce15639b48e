"""Start-up stays light (issue 16): the CLI's help and ``data list`` import none of the heavy stack, and
``import vpgeo`` imports it only when a function that needs it is called. Each check runs in a fresh
interpreter of this checkout and reads ``sys.modules``; nothing is timed here (see benchmarks/bench_startup.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("geopandas", "pandas", "folium", "scipy", "matplotlib", "shapely", "pyproj", "pyogrio", "openpyxl")


def _loaded_after(code: str, tmp_path: Path) -> tuple[list[str], str]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))\n"
    env = {**os.environ, "PYTHONPATH": str(REPO), "VPGEO_DATA_DIR": str(tmp_path / "cache")}
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1]), proc.stdout


@pytest.mark.parametrize(
    "argv",
    [["--help"], ["--version"], ["data", "list"], ["report", "--help"], ["score", "--help"], ["geocode", "--help"]],
)
def test_cli_help_and_data_list_import_no_heavy_module(tmp_path: Path, argv: list[str]) -> None:
    loaded, out = _loaded_after(f"from vpgeo.cli import main\ncode = main({argv!r})\nassert code == 0, code", tmp_path)
    assert loaded == [], loaded
    if argv == ["data", "list"]:
        assert out.startswith("name\tcached\tlicence")


def test_import_vpgeo_is_lazy_until_a_function_needs_the_stack(tmp_path: Path) -> None:
    assert _loaded_after("import vpgeo\nassert vpgeo.__version__", tmp_path)[0] == []
    loaded, _ = _loaded_after("import vpgeo\nvpgeo.read_table", tmp_path)
    assert "geopandas" in loaded  # the function's module is imported when it is used


def test_output_and_validate_modules_are_light(tmp_path: Path) -> None:
    assert _loaded_after("import vpgeo._output, vpgeo._validate", tmp_path)[0] == []


def test_main_restores_the_warning_machinery(capsys: pytest.CaptureFixture[str]) -> None:
    import warnings

    from vpgeo.cli import main

    before = (warnings.formatwarning, warnings.showwarning, list(warnings.filters))
    assert main(["data", "info", "no-such-source"]) == 2
    assert (warnings.formatwarning, warnings.showwarning, list(warnings.filters)) == before
    assert capsys.readouterr().err.count("\n") == 1


def test_offline_boundaries_warning_is_one_short_line_naming_the_cli_fix(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text("ten,lon,lat\nA,105.6,21.3\nB,105.55,21.35\n", encoding="utf-8")
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "VPGEO_DATA_DIR": str(tmp_path / "empty-cache"),
        "VPGEO_DATA_MIRROR": (tmp_path / "no-mirror").as_uri(),
    }
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "vpgeo.cli",
            "geocode",
            str(src),
            "--out",
            str(tmp_path / "o.csv"),
            "--lon-col",
            "lon",
            "--lat-col",
            "lat",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if "official boundaries" in ln]
    assert len(lines) == 1, (proc.stderr, proc.stdout)
    assert "--boundaries approx" in lines[0] and "source=" not in lines[0] and len(lines[0]) < 200


def test_applies_to_default_is_the_rules_one() -> None:
    from vpgeo.cli import DEFAULT_APPLIES_TO
    from vpgeo.rules import DEFAULT_APPLIES_TO as RULES

    assert DEFAULT_APPLIES_TO == RULES
