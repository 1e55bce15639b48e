"""Each notebook runs top to bottom on the installed package, offline, with nothing on stderr and no warning
in its outputs, and leaves nothing behind (issue 17 item 9)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))
_WARNING = re.compile(r"\b\w*Warning\b|\bwarn(ing)?:", re.IGNORECASE)


def _text(output: Any) -> str:
    """All the text an output shows: a stream's text, or a display's text/plain and text/html."""
    if output.get("output_type") == "stream":
        return str(output.get("text", ""))
    data = output.get("data", {})
    return "\n".join(str(data.get(k, "")) for k in ("text/plain", "text/html"))


def problems(nb: Any) -> list[str]:
    """Errors, stderr streams and warnings in the executed notebook's outputs, one line each."""
    out = []
    for i, cell in enumerate(nb.cells):
        for o in cell.get("outputs", []):
            if o.get("output_type") == "error":
                out.append(f"cell {i}: {o.get('ename')}: {o.get('evalue')}")
            elif o.get("output_type") == "stream" and o.get("name") == "stderr":
                out.append(f"cell {i}: stderr: {str(o.get('text', ''))[:300]}")
            elif _WARNING.search(_text(o)):
                out.append(f"cell {i}: a warning in the output: {_WARNING.search(_text(o)).group(0)}")  # type: ignore[union-attr]
    return out


def test_there_are_four_notebooks() -> None:
    assert [p.name[:2] for p in NOTEBOOKS] == ["01", "02", "03", "04"]


def test_problems_finds_stderr_warnings_and_errors() -> None:
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell("x", outputs=[nbformat.v4.new_output("stream", name="stdout", text="ok\n")]),
            nbformat.v4.new_code_cell("y", outputs=[nbformat.v4.new_output("stream", name="stderr", text="oops\n")]),
            nbformat.v4.new_code_cell(
                "z", outputs=[nbformat.v4.new_output("stream", name="stdout", text="a.py:1: CRSWarning: x\n")]
            ),
            nbformat.v4.new_code_cell(
                "w", outputs=[nbformat.v4.new_output("error", ename="ValueError", evalue="bad", traceback=[])]
            ),
        ]
    )
    assert [p.split(":")[0] for p in problems(nb)] == ["cell 1", "cell 2", "cell 3"]


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nb = nbformat.read(path, as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), "commit notebooks without outputs"
    # no download attempt from CI: an empty mirror makes source="auto" fall back to the approximation
    monkeypatch.setenv("VPGEO_DATA_MIRROR", (tmp_path / "no-mirror").as_uri() + "/")
    monkeypatch.setenv("VPGEO_DATA_DIR", str(tmp_path / "cache"))
    scratch = tmp_path / "tmp"  # the kernel's temporary folder: whatever a notebook leaves there shows
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    work = tmp_path / "work"
    work.mkdir()
    client = nbclient.NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(work)}}
    )
    client.execute()
    found = problems(nb)
    assert not found, "\n".join(found)
    left = sorted(p.name for p in scratch.iterdir() if not p.name.startswith("ipykernel_"))
    assert not left, f"{path.stem} leaves temporary files behind: {left}"
    written = sorted(p.name for p in work.iterdir())
    if path.stem == "01_quickstart":  # the quickstart saves its map where it runs
        assert written == ["quickstart_map.html"]
        assert (work / "quickstart_map.html").stat().st_size > 10_000
    else:
        assert written == [], f"{path.stem} writes outside its temporary folder: {written}"
