"""Each notebook runs top to bottom on the installed package, offline (issue: notebooks an analyst can follow)."""

from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))


def test_there_are_four_notebooks() -> None:
    assert [p.name[:2] for p in NOTEBOOKS] == ["01", "02", "03", "04"]


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nb = nbformat.read(path, as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), "commit notebooks without outputs"
    # no download attempt from CI: an empty mirror makes source="auto" fall back to the approximation
    monkeypatch.setenv("VPGEO_DATA_MIRROR", (tmp_path / "no-mirror").as_uri() + "/")
    monkeypatch.setenv("VPGEO_DATA_DIR", str(tmp_path / "cache"))
    client = nbclient.NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    if path.stem == "01_quickstart":  # the quickstart saves its map where it runs
        assert (tmp_path / "quickstart_map.html").stat().st_size > 10_000
