"""Outputs as a hostile or unlucky user meets them (issue 12, items 2–5): links, Ctrl-C, two runs, --force,
formula text, rows that do not fit the header, several sheets/layers, code pages.

The CLI runs in real subprocesses of this checkout (``python -m vpgeo.cli`` with ``PYTHONPATH`` set to the
repository) where signals or concurrency matter; in-process (:func:`vpgeo.cli.main`) elsewhere.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from vpgeo._output import LOCK, MANIFEST, Lock, OutputDir, atomic_write, lock_for
from vpgeo.cli import main
from vpgeo.errors import InputError
from vpgeo.io import read_table, write_table

REPO = Path(__file__).resolve().parents[1]


def _spawn(args: list[str], cwd: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-m", "vpgeo.cli", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _big_candidates(path: Path, n: int) -> Path:
    rng = np.random.default_rng(0)
    names = [f"Ứng viên {i}" for i in range(n)]
    lon, lat = rng.uniform(105.4, 105.8, n), rng.uniform(21.2, 21.5, n)
    pd.DataFrame({"ten": names, "lon": lon, "lat": lat}).to_csv(path, index=False)
    return path


def _wait_for(pred: object, proc: subprocess.Popen[str], timeout: float = 240.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():  # type: ignore[operator]
            return
        if proc.poll() is not None:
            pytest.fail(f"the run ended before the moment under test: {proc.communicate()}")
        time.sleep(0.005)
    proc.kill()
    pytest.fail("timed out waiting for the run")


# ------------------------------------------------------------------------------------------------ links


def test_atomic_write_replaces_a_link_and_leaves_its_target(tmp_path: Path) -> None:
    outside = tmp_path / "outside.csv"
    outside.write_text("precious", encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    (out / "scored.csv").symlink_to(outside)
    write_table(pd.DataFrame({"a": [1]}), out / "scored.csv")
    assert outside.read_text(encoding="utf-8") == "precious"
    assert not (out / "scored.csv").is_symlink()
    assert (out / "scored.csv").read_text(encoding="utf-8-sig").splitlines() == ["a", "1"]


def test_dangling_link_out_never_creates_its_target(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text("ten,lon,lat\nA,105.6,21.3\n", encoding="utf-8")
    target = tmp_path / "elsewhere" / "created.csv"
    link = tmp_path / "out.csv"
    link.symlink_to(target)
    code = main(["geocode", str(src), "--out", str(link), "--lon-col", "lon", "--lat-col", "lat"])
    assert code == 2  # the link exists (dangling or not): refused without --force
    assert not target.exists() and not target.parent.exists()
    code = main(["geocode", str(src), "--out", str(link), "--lon-col", "lon", "--lat-col", "lat", "--force"])
    assert code == 0
    assert not target.exists() and not link.is_symlink() and link.stat().st_size > 0


def test_writer_failure_or_interrupt_leaves_nothing(tmp_path: Path) -> None:
    def half(tmp: Path) -> None:
        tmp.write_text("half of a file")
        raise KeyboardInterrupt

    (tmp_path / "keep.csv").write_text("old", encoding="utf-8")
    with pytest.raises(KeyboardInterrupt):
        atomic_write(tmp_path / "keep.csv", half)
    assert (tmp_path / "keep.csv").read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.csv"]  # no temporary left


# ------------------------------------------------------------------------------------------- Ctrl-C


def test_sigint_while_writing_a_big_output(tmp_path: Path) -> None:
    src = _big_candidates(tmp_path / "big.csv", 8_000)
    out = tmp_path / "res"
    out.mkdir()
    proc = _spawn(["score", str(src), "--out", "res/scored.xlsx", "--no-progress", "--no-access-points"], tmp_path)
    # the moment the writer has started: its private temporary folder exists next to the output
    _wait_for(lambda: any(p.name.startswith(".vpgeo-tmp-") for p in out.iterdir()), proc)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert stderr.count("\n") == 1 and "interrupted" in stderr and "Traceback" not in stderr, stderr
    assert sorted(p.name for p in out.iterdir()) == []  # no partial file, no temporary, no lock


def test_sigint_while_importing_the_machinery_is_one_line(tmp_path: Path) -> None:
    proc = _spawn(["report", "--out", "r", "--boundaries", "approx", "--no-png"], tmp_path)
    # the lock is taken before the report's machinery (geopandas, folium …) is imported: interrupt the imports
    _wait_for(lambda: (tmp_path / "r" / LOCK).exists(), proc)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert stderr.count("\n") == 1 and "Traceback" not in stderr, stderr
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == []


# ------------------------------------------------------------------------------------------ two runs


def test_second_concurrent_run_is_refused(tmp_path: Path) -> None:
    src = _big_candidates(tmp_path / "big.csv", 8_000)
    out = tmp_path / "scored.xlsx"
    first = _spawn(["score", str(src), "--out", str(out), "--no-progress", "--no-access-points"], tmp_path)
    _wait_for(lambda: lock_for(out).exists(), first)
    second = _spawn(["score", str(src), "--out", str(out), "--no-progress", "--force"], tmp_path)
    _, err2 = second.communicate(timeout=240)
    assert second.returncode == 2 and err2.count("\n") == 1 and "another vpgeo run" in err2, err2
    assert str(first.pid) in err2
    _, err1 = first.communicate(timeout=240)
    assert first.returncode == 0, err1
    assert len(pd.read_excel(out)) == 8_000 and not lock_for(out).exists()


def test_lock_of_a_live_process_refuses_and_a_dead_ones_is_taken_over(tmp_path: Path) -> None:
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (tmp_path / LOCK).write_text(f"{live.pid}\n", encoding="ascii")
        with pytest.raises(InputError, match=f"another vpgeo run \\(pid {live.pid}\\)"):
            OutputDir(tmp_path, force=True).__enter__()
    finally:
        live.kill()
        live.wait()
    # the holder is gone: its lock is stale and taken over
    with Lock(tmp_path / LOCK, tmp_path) as lock:
        assert (tmp_path / LOCK).read_text(encoding="ascii").strip() == str(os.getpid())
        assert lock.held
    assert not (tmp_path / LOCK).exists()


# ------------------------------------------------------------------------------------------- --force


def test_report_force_clears_the_previous_run_and_replaces_links(tmp_path: Path) -> None:
    out = tmp_path / "r"
    out.mkdir()
    outside = tmp_path / "outside.csv"
    outside.write_text("not vpgeo's", encoding="utf-8")
    # what a previous run with a bad row and a PNG left, and a planted link
    for name in ("rejects.csv", "map.png"):
        (out / name).write_text("stale", encoding="utf-8")
    (out / "notes.txt").write_text("the user's own file", encoding="utf-8")
    (out / MANIFEST).write_text(json.dumps({"files": ["rejects.csv", "map.png", "../outside.csv"]}), encoding="utf-8")
    (out / "sites.csv").symlink_to(outside)
    code = main(["report", "--out", str(out), "--force", "--no-png", "--boundaries", "approx"])
    assert code == 0
    names = sorted(p.name for p in out.iterdir())
    assert "rejects.csv" not in names and "map.png" not in names  # nothing stale contradicts the run
    assert "notes.txt" in names  # not vpgeo's: kept
    assert outside.read_text(encoding="utf-8") == "not vpgeo's"  # neither followed nor deleted via '../'
    assert not (out / "sites.csv").is_symlink()
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))["files"]
    assert sorted(manifest) == sorted(n for n in names if n not in {"notes.txt", MANIFEST})
    assert not any(n.startswith(".vpgeo-tmp-") or n == LOCK for n in names)


def test_unwritable_out_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    assert main(["report", "--out", str(blocker / "sub"), "--no-png", "--boundaries", "approx"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "choose another --out" in err
    src = tmp_path / "in.csv"
    src.write_text("ten,lon,lat\nA,105.6,21.3\n", encoding="utf-8")
    assert main(["geocode", str(src), "--out", str(blocker / "x.csv"), "--lon-col", "lon", "--lat-col", "lat"]) == 2
    assert "choose another --out" in capsys.readouterr().err
    if os.geteuid() != 0:  # root writes anywhere
        ro = tmp_path / "ro"
        ro.mkdir(mode=0o500)
        assert main(["geocode", str(src), "--out", str(ro / "x.csv"), "--lon-col", "lon", "--lat-col", "lat"]) == 2


# -------------------------------------------------------------------------------------- formula text

_FORMULAS = ['=HYPERLINK("http://evil.example","click")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A2)", "\t=1+1"]


def test_xlsx_user_text_is_never_a_formula(tmp_path: Path) -> None:
    df = pd.DataFrame({"ten": [*_FORMULAS, "KCN Bá Thiện"], "n": range(6)})
    path = write_table(df, tmp_path / "out.xlsx")
    ws = openpyxl.load_workbook(path).active
    cells = [c for row in ws.iter_rows() for c in row]
    assert not any(c.data_type == "f" for c in cells)
    assert [c.value for c in ws["A"][1:]] == [*_FORMULAS, "KCN Bá Thiện"]  # the text itself, intact
    assert all(c.quotePrefix for c in ws["A"][1:6]) and not ws["A"][6].quotePrefix
    assert read_table(path)["ten"].tolist() == [*_FORMULAS, "KCN Bá Thiện"]


def test_csv_formula_text_gets_the_owasp_quote(tmp_path: Path) -> None:
    df = pd.DataFrame({"ten": [*_FORMULAS, "-5", "KCN Bá Thiện"]})
    lines = write_table(df, tmp_path / "out.csv").read_text(encoding="utf-8-sig").splitlines()[1:]
    # every formula-looking value starts with ' (and a number written as text stays as it is)
    assert [line.strip('"') for line in lines] == [
        '\'=HYPERLINK(""http://evil.example"",""click"")',
        "'+cmd|' /C calc'!A0",
        "'-2+3",
        "'@SUM(A1:A2)",
        "'\t=1+1",
        "-5",
        "KCN Bá Thiện",
    ]


# ----------------------------------------------------------------------------------------- rows/parts


def test_csv_row_with_more_fields_than_header_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "shifted.csv"
    src.write_text("ten,lon,lat\nA,105.6,21.3\nB,Vĩnh,Yên,105.6,21.3\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"record 2 \(line 3\) has 5 ','-separated fields but the header has 3"):
        read_table(src)
    assert main(["score", str(src), "--out", str(tmp_path / "s.csv"), "--no-progress"]) == 2
    assert "record 2" in capsys.readouterr().err
    # trailing empty fields (Excel's "A,1,2,") lose nothing: read
    ok = tmp_path / "trailing.csv"
    ok.write_text("ten,lon,lat\nA,105.6,21.3,\nB,105.7,21.4\n", encoding="utf-8")
    assert read_table(ok)["ten"].tolist() == ["A", "B"]


def test_workbook_sheet_holding_the_data_is_read_and_others_listed(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    notes = wb.active
    notes.title = "Ghi chú"
    notes.append(["Danh sách khu công nghiệp, cập nhật 2025"])
    data = wb.create_sheet("Dữ liệu")
    data.append(["ten", "dien_tich"])
    for i in range(5):
        data.append([f"KCN {i}", 10 * i])
    small = wb.create_sheet("Cũ")
    small.append(["ten", "dien_tich"])
    small.append(["KCN cũ", 1])
    small.append(["KCN x", "=B2*2"])  # a formula never calculated: no saved value
    path = tmp_path / "book.xlsx"
    wb.save(path)
    df = read_table(path)
    assert df.attrs["source_sheet"] == "Dữ liệu" and len(df) == 5
    assert any("'Cũ'" in n and "not read" in n for n in df.attrs["io_notes"])
    old = read_table(path, sheet="Cũ")
    assert old["ten"].tolist() == ["KCN cũ", "KCN x"]
    assert old.attrs["row_flags"] == {2: ["formula in 'dien_tich' has no saved value (read as blank)"]}
    with pytest.raises(InputError, match="no sheet 'x'"):
        read_table(path, sheet="x")


def test_geopackage_layer_holding_the_data_is_read(tmp_path: Path) -> None:
    import geopandas as gpd
    from shapely.geometry import Point

    path = tmp_path / "two.gpkg"
    gpd.GeoDataFrame({"ten": ["a"]}, geometry=[Point(105.6, 21.3)], crs=4326).to_file(path, layer="meta")
    big = gpd.GeoDataFrame({"ten": list("bcd")}, geometry=[Point(105.6, 21.3)] * 3, crs=4326)
    big.to_file(path, layer="sites")
    df = read_table(path)
    assert df["ten"].tolist() == ["b", "c", "d"] and df.attrs["source_layer"] == "sites"
    assert any("'meta'" in n for n in df.attrs["io_notes"])
    assert read_table(path, layer="meta")["ten"].tolist() == ["a"]
    out = tmp_path / "g.csv"
    assert main(["geocode", str(path), "--out", str(out), "--layer", "meta"]) == 0
    assert pd.read_csv(out, encoding="utf-8-sig")["ten"].tolist() == ["a"]


@pytest.mark.parametrize("cpg", ["1258", "CP1258", "UTF-8", None])
def test_shapefile_code_pages_decode_intact(tmp_path: Path, cpg: str | None) -> None:
    import geopandas as gpd
    from shapely.geometry import Point

    names = ["Hội Thịnh", "Bá Thiện", "Đạo Tú"]
    g = gpd.GeoDataFrame({"tên": names}, geometry=[Point(105.6, 21.3)] * 3, crs=4326)
    path = tmp_path / "a.shp"
    g.to_file(path, engine="pyogrio", encoding="cp1258" if cpg != "UTF-8" else "UTF-8")
    if cpg is None:
        path.with_suffix(".cpg").unlink()
    elif cpg != "UTF-8":
        path.with_suffix(".cpg").write_text(cpg, encoding="ascii")
    df = read_table(path)
    assert list(df.columns[1:2]) == ["tên"] and df["tên"].tolist() == names


def test_dbf_in_tcvn3_is_refused_with_the_conversion_hint(tmp_path: Path) -> None:
    import geopandas as gpd
    from shapely.geometry import Point

    # "Hội Thịnh" typed with a TCVN3 (ABC) font: bytes that read as Latin letters in any code page
    tcvn3 = b"H\xe9i Th\xfb\xadnh".decode("latin-1")
    g = gpd.GeoDataFrame({"ten": [tcvn3] * 3}, geometry=[Point(105.6, 21.3)] * 3, crs=4326)
    path = tmp_path / "t.shp"
    g.to_file(path, engine="pyogrio", encoding="ISO-8859-1")
    path.with_suffix(".cpg").unlink()
    with pytest.raises(InputError, match=r"TCVN3/VNI.*Unikey"):
        read_table(path)


def test_shapefile_text_over_254_bytes_is_refused(tmp_path: Path) -> None:
    df = pd.DataFrame({"ghi_chu": ["Đường " * 50], "lon": [105.6], "lat": [21.3]})
    with pytest.raises(InputError, match=r"holds text of \d+ bytes .*254.*GeoPackage"):
        write_table(df, tmp_path / "long.shp")
    assert list(tmp_path.iterdir()) == []
    assert len(read_table(write_table(df, tmp_path / "long.gpkg"))["ghi_chu"][0]) == len("Đường " * 50)


def test_one_absurd_coordinate_rejects_that_row_only(tmp_path: Path) -> None:
    doc = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {"ten": t}, "geometry": {"type": "Point", "coordinates": c}}
            for t, c in (("A", [105.6, 21.3]), ("B", [105.7, 21.35]), ("C", [1e300, 21.3]))
        ],
    }
    path = tmp_path / "s.geojson"
    path.write_text(json.dumps(doc), encoding="utf-8")
    df = read_table(path)
    assert df.geometry.isna().tolist() == [False, False, True]
    assert 3 in df.attrs["row_flags"]
    csv = tmp_path / "s.csv"
    csv.write_text("ten,lon,lat\nA,105.6,21.3\nB,105.7,21.35\nC,1e300,21.3\n", encoding="utf-8")
    pts = read_table(csv, lon_col="lon", lat_col="lat")
    assert pts.geometry.isna().tolist() == [False, False, True]
    assert list(pts.attrs["row_flags"]) == [3]


def test_gdal_warnings_while_reading_become_notes(tmp_path: Path) -> None:
    import warnings

    path = tmp_path / "odd.geojson"
    feats = [
        {"type": "Feature", "properties": {"ten": "A"}, "geometry": {"type": "Point", "coordinates": []}},
        {"type": "Feature", "properties": {"ten": "B"}, "geometry": {"type": "Point", "coordinates": [105.6, 21.3]}},
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}), encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # reading must not warn at all
        df = read_table(path)
    assert df["ten"].tolist() == ["A", "B"]
    assert any("Invalid coord dimension" in n for n in df.attrs["io_notes"])


def test_report_on_a_table_whose_every_row_is_rejected_keeps_its_rejects(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "sites.csv"
    src.write_text("name,kind,area_ha\nA,KCN,abc\nB,KCN,xyz\n", encoding="utf-8")
    out = tmp_path / "r"
    assert main(["report", "--out", str(out), "--sites", str(src), "--no-png", "--boundaries", "approx"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(out / "rejects.csv") in err and ".vpgeo-tmp-" not in err, err
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST, "rejects.csv"]
    assert len(pd.read_csv(out / "rejects.csv", encoding="utf-8-sig")) == 2
