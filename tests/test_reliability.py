"""Every entry point fed every class of broken input: a clear one-line error, or a flagged/rejected row.

File-level problems (the file cannot be used as a whole) must end with exit code 2 and exactly one stderr
line naming the file, the problem and the fix, never a traceback. Row-level problems must let the run
finish, with each bad row either in ``rejects.csv`` (with its reason) or in the output with a ``flags``
column saying what was wrong and what was done; rows in = rows out + rows rejected, asserted each time.

The CLI runs in-process (``vpgeo.cli.main``) for speed; a few cases run as a real subprocess.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

import vpgeo
from vpgeo.cli import main
from vpgeo.errors import InputError, VpgeoError
from vpgeo.io import MAX_TEXT, _to_cp1258

# Points inside the province (Vĩnh Yên / Bình Xuyên area) and a square polygon around Vĩnh Yên.
IN_A = (105.6000, 21.3000)
IN_B = (105.6500, 21.3500)
SQUARE = [[105.55, 21.25], [105.65, 21.25], [105.65, 21.35], [105.55, 21.35], [105.55, 21.25]]
BOWTIE = [[105.55, 21.25], [105.65, 21.35], [105.65, 21.25], [105.55, 21.35], [105.55, 21.25]]
LINE = [[105.50, 21.20], [105.70, 21.35]]
LONG = "K" * 1_000_000  # a 1 MB name


def _fc(features: Sequence[tuple[Mapping[str, object], Mapping[str, object] | None]]) -> str:
    return json.dumps(
        {
            "type": "FeatureCollection",
            "features": [{"type": "Feature", "properties": p, "geometry": g} for p, g in features],
        }
    )


def _pt(xy: tuple[float, float]) -> dict[str, object]:
    return {"type": "Point", "coordinates": list(xy)}


def _poly(ring: Sequence[Sequence[float]]) -> dict[str, object]:
    return {"type": "Polygon", "coordinates": [ring]}


def _line(coords: Sequence[Sequence[float]]) -> dict[str, object]:
    return {"type": "LineString", "coordinates": coords}


# ------------------------------------------------------------------------------------- the bad inputs
# Each builder writes one bad file for one kind of entry point ("table": site/candidate/geocode tables,
# "lines": corridor files, "polygons": boundary files) and returns (path, number of data rows).


def _empty(d: Path, layer: str) -> tuple[Path, int]:
    p = d / ("empty.geojson" if layer != "table" else "empty.csv")
    p.write_bytes(b"")
    return p, 0


def _missing(d: Path, layer: str) -> tuple[Path, int]:
    return d / ("missing.geojson" if layer != "table" else "missing.csv"), 0


def _folder(d: Path, layer: str) -> tuple[Path, int]:
    p = d / ("folder.geojson" if layer != "table" else "folder.csv")
    p.mkdir()
    return p, 0


def _broken_json(d: Path, layer: str) -> tuple[Path, int]:
    p = d / "broken.geojson"
    p.write_text('{"type": "FeatureCollection", "features": [{"type": "Feature", ', encoding="utf-8")
    return p, 0


def _broken_csv(d: Path, layer: str) -> tuple[Path, int]:
    p = d / "broken.csv"
    p.write_text('name,kind,lon,lat\n"KCN A,KCN,105.6,21.3\nKCN B,KCN,105.5,21.2,9,9\n', encoding="utf-8")
    return p, 0


def _xlsx_merged(d: Path, layer: str) -> tuple[Path, int]:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws["A1"] = "DANH SÁCH KHU, CỤM CÔNG NGHIỆP"
    ws.merge_cells("A1:E1")
    ws["A2"], ws["B2"], ws["C2"], ws["E2"] = "Tên", "Loại", "Tọa độ", "Diện tích (ha)"
    for rng in ("A2:A3", "B2:B3", "C2:D2", "E2:E3"):
        ws.merge_cells(rng)
    ws["C3"], ws["D3"] = "Kinh độ", "Vĩ độ"
    ws.append(["KCN Bá Thiện", "KCN", IN_B[0], IN_B[1], "327,5"])
    ws.append(["CCN Hợp Thịnh", "CCN", IN_A[0], IN_A[1], 42])
    p = d / "merged.xlsx"
    wb.save(p)
    return p, 2


def _cp1258(d: Path, layer: str) -> tuple[Path, int]:
    p = d / "legacy.csv"
    text = f"tên;loại;xã;kinh độ;vĩ độ\nKCN Bá Thiện;KCN;Thiện Kế;{IN_B[0]};{IN_B[1]}\nCCN Tề Lỗ;CCN;Tề Lỗ;;\n"
    p.write_bytes(_to_cp1258(text.replace(".", ",")))
    return p, 2


def _tcvn3(d: Path, layer: str) -> tuple[Path, int]:
    # "Việt Nam", "Đồng Văn", "Đạo Tú", "Hội Thịnh" in the TCVN3 (ABC) font encoding
    p = d / "tcvn3.csv"
    p.write_bytes(b"ten,xa\nVi\xd6t Nam,\xa7\xe5ng V\xa8n\n\xa7\xb8o T\xfa,H\xa9i Th\xd3nh\n")
    return p, 2


def _missing_columns(d: Path, layer: str) -> tuple[Path, int]:
    if layer == "table":
        p = d / "nocols.csv"
        p.write_text("foo,bar\n1,2\n3,4\n", encoding="utf-8")
        return p, 2
    p = d / "noattrs.geojson"  # geometry only: every attribute is missing
    geom = _line(LINE) if layer == "lines" else _poly(SQUARE)
    p.write_text(_fc([({}, geom), ({}, geom)]), encoding="utf-8")
    return p, 2


def _vn2000(d: Path, layer: str) -> tuple[Path, int]:
    # VN-2000 / TM-3 105°00′ metres near Vĩnh Yên, written in a GeoJSON without any CRS
    p = d / "vn2000.geojson"
    if layer == "table":
        feats = [({"name": "KCN A", "kind": "KCN"}, _pt((562_000.0, 2_362_000.0)))] * 2
    elif layer == "lines":
        feats = [({"name": "A"}, _line([[562_000, 2_356_000], [570_000, 2_360_000]]))]
    else:
        ring = [[560_000, 2_355_000], [570_000, 2_355_000], [570_000, 2_365_000], [560_000, 2_355_000]]
        feats = [({"name": "D"}, _poly(ring))]
    p.write_text(_fc(feats), encoding="utf-8")
    return p, len(feats)


def _swapped(d: Path, layer: str) -> tuple[Path, int]:
    p = d / "swapped.geojson"
    sw = [[y, x] for x, y in (LINE if layer == "lines" else SQUARE)]
    if layer == "table":
        feats = [({"name": "KCN A", "kind": "KCN"}, _pt(IN_A[::-1])), ({"name": "KCN B"}, _pt(IN_B[::-1]))]
    else:
        feats = [({"name": "A"}, _line(sw) if layer == "lines" else _poly(sw))]
    p.write_text(_fc(feats), encoding="utf-8")
    return p, len(feats)


def _outside(d: Path, layer: str) -> tuple[Path, int]:
    if layer == "table":
        p = d / "outside.csv"
        p.write_text(
            f"name,kind,lon,lat\nKCN A,KCN,{IN_A[0]},{IN_A[1]}\nKCN Paris,KCN,2.35,48.85\n"
            "KCN Hà Nội,KCN,105.85,21.03\n",
            encoding="utf-8",
        )
        return p, 3
    p = d / "outside.geojson"  # in Hà Nội's Ba Đình, outside the province
    ring = [[105.80, 21.00], [105.85, 21.00], [105.85, 21.05], [105.80, 21.00]]
    geom = _line([[105.80, 21.00], [105.85, 21.05]]) if layer == "lines" else _poly(ring)
    p.write_text(_fc([({"name": "Hà Nội"}, geom)]), encoding="utf-8")
    return p, 1


def _areas(d: Path, layer: str) -> tuple[Path, int]:
    p = d / "areas.csv"
    p.write_text(
        f"name;kind;area_ha;lon;lat\nKCN Âm;KCN;-5;{IN_A[0]};{IN_A[1]}\nKCN Không;KCN;0;{IN_A[0]};{IN_A[1]}\n"
        f"KCN Chữ;KCN;năm mươi;{IN_A[0]};{IN_A[1]}\nKCN Tốt;KCN;120;{IN_B[0]};{IN_B[1]}\n",
        encoding="utf-8",
    )
    return p, 4


def _decimal_comma(d: Path, layer: str) -> tuple[Path, int]:
    p = d / "comma.csv"
    p.write_text(
        f'name,kind,area_ha,lon,lat\nCCN Thanh Lãng,CCN,"52,6 ha",{IN_A[0]},{IN_A[1]}\n'
        f'KCN B,KCN,"1.236,5",{IN_B[0]},{IN_B[1]}\n',
        encoding="utf-8",
    )
    return p, 2


def _duplicate_ids(d: Path, layer: str) -> tuple[Path, int]:
    if layer == "table":
        p = d / "dupes.csv"
        p.write_text(
            f"site_id,name,kind,lon,lat\nX1,KCN A,KCN,{IN_A[0]},{IN_A[1]}\nX1,KCN B,KCN,{IN_B[0]},{IN_B[1]}\n",
            encoding="utf-8",
        )
        return p, 2
    p = d / "dupes.geojson"
    geom = _line(LINE) if layer == "lines" else _poly(SQUARE)
    p.write_text(_fc([({"corridor_id": "X", "name": "A"}, geom), ({"corridor_id": "X", "name": "A"}, geom)]))
    return p, 2


def _invalid_polygon(d: Path, layer: str) -> tuple[Path, int]:
    p = d / "bowtie.geojson"
    if layer == "lines":  # a line needs two distinct points
        feats = [({"name": "A"}, _line(LINE)), ({"name": "B"}, _line([LINE[0], LINE[0]]))]
    else:
        feats = [
            ({"name": "KCN Nơ", "kind": "KCN"}, _poly(BOWTIE)),
            ({"name": "KCN Vuông", "kind": "KCN"}, _poly(SQUARE)),
        ]
    p.write_text(_fc(feats), encoding="utf-8")
    return p, 2


def _empty_geometry(d: Path, layer: str) -> tuple[Path, int]:
    p = d / "nogeom.geojson"
    good = _pt(IN_A) if layer == "table" else _line(LINE) if layer == "lines" else _poly(SQUARE)
    feats = [
        ({"name": "KCN Rỗng", "kind": "KCN"}, None),
        ({"name": "KCN Trống", "kind": "KCN"}, {"type": "Point", "coordinates": []}),
        ({"name": "KCN Có", "kind": "KCN"}, good),
    ]
    if layer != "table":
        feats = [feats[0], feats[2]]
    p.write_text(_fc(feats), encoding="utf-8")
    return p, len(feats)


def _long_field(d: Path, layer: str) -> tuple[Path, int]:
    if layer == "table":
        p = d / "long.csv"
        p.write_text(
            f"name,kind,lon,lat\n{LONG},KCN,{IN_A[0]},{IN_A[1]}\nKCN B,KCN,{IN_B[0]},{IN_B[1]}\n", encoding="utf-8"
        )
        return p, 2
    p = d / "long.geojson"
    geom = _line(LINE) if layer == "lines" else _poly(SQUARE)
    p.write_text(_fc([({"name": LONG}, geom), ({"name": "B"}, geom)]), encoding="utf-8")
    return p, 2


BUILDERS: dict[str, Callable[[Path, str], tuple[Path, int]]] = {
    "empty": _empty,
    "missing": _missing,
    "folder": _folder,
    "broken_json": _broken_json,
    "broken_csv": _broken_csv,
    "xlsx_merged_header": _xlsx_merged,
    "windows_1258": _cp1258,
    "tcvn3": _tcvn3,
    "missing_columns": _missing_columns,
    "vn2000_without_crs": _vn2000,
    "swapped_lonlat": _swapped,
    "outside_province": _outside,
    "bad_areas": _areas,
    "decimal_comma": _decimal_comma,
    "duplicate_ids": _duplicate_ids,
    "invalid_polygon": _invalid_polygon,
    "empty_geometry": _empty_geometry,
    "long_field": _long_field,
}
FILE_LEVEL_EVERYWHERE = {"empty", "missing", "folder", "broken_json", "broken_csv", "tcvn3", "vn2000_without_crs"}
FILE_LEVEL_EVERYWHERE |= {"swapped_lonlat"}
# Corridor and boundary files must be spatial: tables are refused as files. A corridor row without a usable
# line (empty, or collapsing when repaired) refuses the file too: the corridors are the yardstick of every
# verdict, and a silently shorter road would change them (the message names the row and field).
TABLES = {"xlsx_merged_header", "windows_1258", "bad_areas", "decimal_comma"}
FILE_LEVEL = {
    "read_table": FILE_LEVEL_EVERYWHERE,
    "prepare_sites": FILE_LEVEL_EVERYWHERE | {"missing_columns"},
    "read_corridor_file": FILE_LEVEL_EVERYWHERE | TABLES | {"invalid_polygon", "empty_geometry"},
    "report_sites": FILE_LEVEL_EVERYWHERE | {"missing_columns"},
    "report_corridors": FILE_LEVEL_EVERYWHERE | TABLES | {"invalid_polygon", "empty_geometry"},
    "report_boundaries": FILE_LEVEL_EVERYWHERE | TABLES,
    "geocode": FILE_LEVEL_EVERYWHERE | {"missing_columns"},
    "score": FILE_LEVEL_EVERYWHERE | {"missing_columns"},
}
LAYER = {"read_corridor_file": "lines", "report_corridors": "lines", "report_boundaries": "polygons"}
CASES = [(entry, bad) for entry in FILE_LEVEL for bad in BUILDERS]


@dataclass
class Run:
    code: int
    out: str
    err: str


def _cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> Run:
    capsys.readouterr()
    code = main(argv)
    cap = capsys.readouterr()
    return Run(code, cap.out, cap.err)


def _assert_flags_exist(run: Run, command: str) -> None:
    """Every option a message suggests exists for the command that printed it (issue 12, item 6)."""
    import re

    from vpgeo.cli import command_parsers

    have = {s for a in command_parsers()[command]._actions for s in a.option_strings}
    missing = set(re.findall(r"--[a-z][a-z0-9-]*", run.err)) - have
    assert not missing, (command, missing, run.err)


def _assert_one_line(run: Run, path: Path) -> None:
    assert run.code == 2, run.err or run.out
    assert run.err.count("\n") == 1 and run.err.endswith("\n"), run.err
    assert "Traceback" not in run.err and "internal error" not in run.err
    assert path.name in run.err, run.err
    # the problem, then the fix after a ';' (or in the sentence naming the option to use)
    assert ";" in run.err or "give" in run.err, run.err


def _csv_rows(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)


def _flag_texts(flags: pd.Series) -> str:
    return " | ".join(flags.astype(str))


# ------------------------------------------------------------------------------------- one entry point


def _cli_argv(entry: str, path: Path, out: Path) -> list[str]:
    if entry == "report_sites":
        return ["report", "--out", str(out), "--sites", str(path), "--boundaries", "approx", "--no-png"]
    if entry == "report_corridors":
        return ["report", "--out", str(out), "--corridors", str(path), "--boundaries", "approx", "--no-png"]
    if entry == "report_boundaries":
        return ["report", "--out", str(out), "--boundaries", str(path), "--no-png"]
    if entry == "geocode":
        return ["geocode", str(path), "--out", str(out / "placed.csv"), "--boundaries", "approx"]
    return [
        "score",
        str(path),
        "--out",
        str(out / "scored.csv"),
        "--rejects",
        str(out / "rejects.csv"),
        "--no-progress",
    ]


def _geocode_options(bad: str) -> list[str]:
    """Column options that fit each table (a geometry file is placed by its geometry)."""
    if bad in ("xlsx_merged_header", "windows_1258"):
        return ["--lon-col", "Kinh độ", "--lat-col", "Vĩ độ"]  # a header match, not the file's exact text
    if bad in ("outside_province", "bad_areas", "decimal_comma", "duplicate_ids", "long_field"):
        return ["--lon-col", "lon", "--lat-col", "lat"]
    if bad in ("invalid_polygon", "empty_geometry"):
        return []
    return ["--commune-col", "name"]


@pytest.mark.parametrize(("entry", "bad"), CASES, ids=[f"{e}-{b}" for e, b in CASES])
def test_bad_input(entry: str, bad: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "in"
    src.mkdir()
    path, n_rows = BUILDERS[bad](src, LAYER.get(entry, "table"))
    file_level = bad in FILE_LEVEL[entry]
    out = tmp_path / "out"

    if entry in ("read_table", "prepare_sites", "read_corridor_file"):
        _check_loader(entry, bad, path, n_rows, file_level)
        return
    argv = _cli_argv(entry, path, out)
    if entry == "geocode":
        argv += ["--commune-col", "name"] if file_level else _geocode_options(bad)
    run = _cli(argv, capsys)
    _assert_flags_exist(run, argv[0])
    if file_level:
        _assert_one_line(run, path)
        return
    assert run.code == 0, run.err
    assert "Traceback" not in run.err
    CHECKS[entry](bad, path, n_rows, out, run)


def _check_loader(entry: str, bad: str, path: Path, n_rows: int, file_level: bool) -> None:
    if file_level:
        with pytest.raises(VpgeoError) as err:
            if entry == "read_corridor_file":
                vpgeo.read_corridor_file(path)
            else:
                vpgeo.prepare_sites(vpgeo.read_table(path)) if entry == "prepare_sites" else vpgeo.read_table(path)
        assert path.name in str(err.value) and "\n" not in str(err.value)
        return
    if entry == "read_corridor_file":
        lines = vpgeo.read_corridor_file(path)
        assert len(lines) == n_rows
        if bad == "long_field":
            assert len(lines["name"][0]) == MAX_TEXT and "name truncated" in lines["flags"][0]
        if bad == "missing_columns":
            assert all("defaults: corridor_id" in f for f in lines["flags"])
        return
    table = vpgeo.read_table(path)
    assert len(table) == n_rows
    if entry == "read_table":
        flags = table.attrs["row_flags"]
        if bad == "long_field":
            assert len(table["name"][0]) == MAX_TEXT and "name truncated from 1,000,000" in flags[1][0]
        if bad == "invalid_polygon":
            assert table.geometry.is_valid.all() and "Self-intersection" in flags[1][0] and 2 not in flags
        if bad == "xlsx_merged_header":
            assert "Tọa độ / Kinh độ" in table.columns
        return
    sites, rejects = vpgeo.prepare_sites(table)
    assert len(sites) + len(rejects) == n_rows
    CHECK_SITES.get(bad, lambda s, r: None)(sites, rejects)


# ------------------------------------------------------------------------- what row-level cases must show


def _chk_areas(sites: pd.DataFrame, rejects: pd.DataFrame) -> None:
    reasons = dict(zip(rejects["name"], rejects["reason"], strict=True))
    assert reasons == {
        "KCN Âm": "area -5.0 ha is not positive",
        "KCN Không": "area 0.0 ha is not positive",
        "KCN Chữ": "area 'năm mươi' is not a number",
    }
    assert list(sites["name"]) == ["KCN Tốt"]


def _chk_comma(sites: pd.DataFrame, rejects: pd.DataFrame) -> None:
    assert len(rejects) == 0
    assert [float(a) for a in sites["area_ha"]] == [52.6, 1236.5]
    assert all("decimal_comma" in f for f in sites["flags"])


def _chk_dupes(sites: pd.DataFrame, rejects: pd.DataFrame) -> None:
    assert list(sites["site_id"]) == ["X1", "X1-2"] and "duplicate_id_renamed" in sites["flags"].iloc[1]


def _chk_invalid(sites: pd.DataFrame, rejects: pd.DataFrame) -> None:
    assert "repaired with make_valid" in sites["flags"].iloc[0]
    assert "make_valid" not in sites["flags"].iloc[1]


def _chk_empty_geom(sites: pd.DataFrame, rejects: pd.DataFrame) -> None:
    assert [("no_position" in f) for f in sites["flags"]] == [True, True, False]


def _chk_long(sites: pd.DataFrame, rejects: pd.DataFrame) -> None:
    assert len(sites["name"].iloc[0]) == MAX_TEXT
    assert "name truncated from 1,000,000 to 10,000 characters" in sites["flags"].iloc[0]
    assert len(sites["site_id"].iloc[0]) < 80  # a handle, not a copy of the name


def _chk_merged(sites: pd.DataFrame, rejects: pd.DataFrame) -> None:
    # the merged "Tọa độ / Kinh độ" header is read as the longitude: the rows are placed
    assert "no_position" not in _flag_texts(sites["flags"])
    assert [round(float(a), 1) for a in sites["area_ha"]] == [327.5, 42.0]


def _chk_cp1258(sites: pd.DataFrame, rejects: pd.DataFrame) -> None:
    assert list(sites["name"]) == ["KCN Bá Thiện", "CCN Tề Lỗ"]
    assert sites["commune"].iloc[1].endswith("Tề Lỗ")  # the report may rename it to the gazetteer's name


CHECK_SITES: dict[str, Callable[[pd.DataFrame, pd.DataFrame], None]] = {
    "bad_areas": _chk_areas,
    "decimal_comma": _chk_comma,
    "duplicate_ids": _chk_dupes,
    "invalid_polygon": _chk_invalid,
    "empty_geometry": _chk_empty_geom,
    "long_field": _chk_long,
    "xlsx_merged_header": _chk_merged,
    "windows_1258": _chk_cp1258,
}


def _check_report_sites(bad: str, path: Path, n_rows: int, out: Path, run: Run) -> None:
    table = _csv_rows(out / "sites.csv")
    rejects = _csv_rows(out / "rejects.csv") if (out / "rejects.csv").exists() else pd.DataFrame(columns=["reason"])
    assert len(table) + len(rejects) == n_rows, (len(table), len(rejects))
    assert f"{len(rejects)} rejected" in run.out
    assert (rejects["reason"] != "").all()
    if bad == "outside_province":
        flagged = table.set_index("name")["flags"]
        assert "outside_province" in flagged["KCN Paris"] and "outside_province" in flagged["KCN Hà Nội"]
        assert "outside_province" not in flagged["KCN A"]
        return
    check = CHECK_SITES.get(bad)
    if check is not None:
        check(table.assign(area_ha=pd.to_numeric(table["area_ha"])), rejects)


def _check_report_layer(bad: str, path: Path, n_rows: int, out: Path, run: Run) -> None:
    for name in ("index.html", "report.html", "sites.csv", "compliance.json"):
        assert (out / name).stat().st_size > 0
    # the embedded 60 sites, none lost
    assert len(_csv_rows(out / "sites.csv")) == len(vpgeo.load_sites())
    html = (out / "index.html").read_text(encoding="utf-8")
    if bad == "long_field":
        assert LONG[: MAX_TEXT + 1] not in html and "K" * (MAX_TEXT - 1) + "…" in html
    if bad == "outside_province" and "boundaries" not in run.err:
        doc = json.loads((out / "compliance.json").read_text(encoding="utf-8"))
        assert sum(doc["counts"]["applicable"].values()) >= 0


def _check_geocode(bad: str, path: Path, n_rows: int, out: Path, run: Run) -> None:
    summary = json.loads(run.out.split(":", 1)[1])
    placed = _csv_rows(out / "placed.csv")
    assert summary["rows_in"] == summary["rows_out"] == len(placed) == n_rows
    status = placed["match_status"].tolist()
    if bad == "outside_province":
        assert status == ["exact", "outside", "outside"]
    if bad == "empty_geometry":
        assert status[2] == "exact" and status[:2] == ["empty", "empty"]
    if bad == "invalid_polygon":
        assert "repaired with make_valid" in placed["flags"][0] and placed["flags"][1] == ""
        assert status == ["exact", "exact"]
    if bad == "long_field":
        assert "name truncated" in placed["flags"][0] and len(placed["name"][0]) == MAX_TEXT
    if bad in ("xlsx_merged_header", "windows_1258"):
        # placed by the coordinates under a Vietnamese (merged, legacy-encoded) header, like a clean file
        clean = vpgeo.geocode(
            pd.DataFrame({"lon": [IN_B[0]], "lat": [IN_B[1]]}), lon="lon", lat="lat", boundaries="approx"
        )
        assert status[0] == clean["match_status"][0] and placed["commune"][0] == clean["commune"][0]
        assert "KCN Bá Thiện" in placed.iloc[0].tolist()
    assert summary["flagged"] == int((placed["flags"] != "").sum())


def _check_score(bad: str, path: Path, n_rows: int, out: Path, run: Run) -> None:
    summary = json.loads(run.out.split(":", 1)[1])
    scored = _csv_rows(out / "scored.csv")
    assert summary["rows_in"] == summary["rows_out"] == len(scored) == n_rows
    unranked = scored[scored["rank"] == ""]
    rejects = _csv_rows(out / "rejects.csv") if (out / "rejects.csv").exists() else scored.iloc[:0]
    assert len(rejects) == len(unranked) == n_rows - summary["ranked"]
    flags = scored["flags"]
    if bad == "outside_province":
        assert [("outside_province" in f) for f in flags] == [False, True, True]
        assert scored["rank"].ne("").all()  # flagged, scored all the same
    if bad == "empty_geometry":
        assert list(rejects["reason"]) == ["no geometry", "no geometry"]
        assert ["no_position" in f for f in flags] == [True, True, False]
    if bad == "invalid_polygon":
        assert "repaired with make_valid" in flags[0] and flags[1] == ""
        assert float(scored["distance_km"][0]) == pytest.approx(float(scored["distance_km"][1]), abs=1e-6)
    if bad == "long_field":
        assert "name truncated" in flags[0]
    if bad in ("xlsx_merged_header", "windows_1258"):
        assert summary["ranked"] >= 1  # coordinates found under their Vietnamese (merged) headers


CHECKS: dict[str, Callable[[str, Path, int, Path, Run], None]] = {
    "report_sites": _check_report_sites,
    "report_corridors": _check_report_layer,
    "report_boundaries": _check_report_layer,
    "geocode": _check_geocode,
    "score": _check_score,
}


def test_every_entry_point_and_bad_class_is_covered() -> None:
    assert len(BUILDERS) == 18 and len(FILE_LEVEL) == 8 and len(CASES) == 144


# ------------------------------------------------------------------------------------ specific messages


def test_corridor_file_messages_name_the_row_and_the_fix(tmp_path: Path) -> None:
    path, _ = _empty_geometry(tmp_path, "lines")
    with pytest.raises(InputError) as err:
        vpgeo.read_corridor_file(path)
    assert (err.value.row, err.value.field) == (1, "geometry") and "delete the row" in str(err.value)
    path, _ = _swapped(tmp_path, "lines")
    with pytest.raises(InputError, match="swapped"):  # not misread as "metres"
        vpgeo.read_corridor_file(path)
    path, _ = _cp1258(tmp_path, "table")
    with pytest.raises(InputError, match="not a line layer"):
        vpgeo.read_corridor_file(path)
    path, _ = _broken_json(tmp_path, "lines")
    with pytest.raises(InputError, match=r"broken JSON .*line 1"):
        vpgeo.read_corridor_file(path)


def test_sites_without_name_column_name_the_file(tmp_path: Path) -> None:
    path, _ = _missing_columns(tmp_path, "table")
    with pytest.raises(InputError) as err:
        vpgeo.prepare_sites(vpgeo.read_table(path))
    assert str(err.value).startswith(str(path)) and "_row" not in str(err.value)


def test_missing_quote_is_still_a_file_level_error(tmp_path: Path) -> None:
    p = tmp_path / "quote.csv"
    p.write_text('name,kind\n"KCN A,KCN\n' + "KCN B,KCN\n" * 20_000 + 'KCN C",KCN\n', encoding="utf-8")
    with pytest.raises(InputError, match="missing closing quote"):
        vpgeo.read_table(p)


def test_subprocess_file_and_row_level(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    path, _ = _tcvn3(tmp_path, "table")
    proc = subprocess.run(
        [sys.executable, "-m", "vpgeo.cli", "score", str(path), "--out", str(tmp_path / "s.csv")],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert "tcvn3.csv" in proc.stderr and "Unikey" in proc.stderr
    path, n = _areas(tmp_path, "table")
    out = tmp_path / "r"
    proc = subprocess.run(
        [sys.executable, "-m", "vpgeo.cli", "report", "--out", str(out), "--sites", str(path), "--no-png"],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(_csv_rows(out / "sites.csv")) + len(_csv_rows(out / "rejects.csv")) == n


# ---------------------------------------------------------------------------------------------- security

XSS = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>"]


def test_user_strings_are_escaped_in_map_and_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "xss.csv"
    src.write_text(
        "name,kind,status,notes,lon,lat\n"
        f'KCN {XSS[0]},KCN,"{XSS[1]}","{XSS[0]} {XSS[1]}",{IN_A[0]},{IN_A[1]}\n'
        f"CCN {XSS[1]},CCN,{XSS[0]},ghi chú,{IN_B[0]},{IN_B[1]}\n",
        encoding="utf-8",
    )
    out = tmp_path / "r"
    run = _cli(["report", "--out", str(out), "--sites", str(src), "--boundaries", "approx", "--no-png"], capsys)
    assert run.code == 0, run.err
    for page in ("index.html", "report.html"):
        html = (out / page).read_text(encoding="utf-8")
        for raw in XSS:
            assert raw not in html, page
            # report.html holds the HTML-escaped text; the map holds it inside its JSON data, where '&' is
            # written \u0026 so that no markup can close the <script> block that carries them
            escaped = raw.replace("<", "&lt;").replace(">", "&gt;")
            forms = {"report.html": escaped, "index.html": escaped.replace("&", "\\u0026")}
            assert forms[page] in html, (page, raw)
        assert "onerror=alert(1)>" not in html


def test_tampered_download_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A self-contained twin of tests/test_downloads.py::test_tampered_mirror_file_is_rejected_and_deleted
    (which needs ../shared): a mirror copy whose bytes differ from the pinned sha256 is refused and deleted."""
    import hashlib

    from vpgeo import downloads
    from vpgeo.errors import DataSourceError

    good = b'{"type": "FeatureCollection", "features": []}'
    src = downloads.PinnedSource(
        name="test-tamper",
        description="test",
        licence="MIT",
        vintage="2024",
        path="data/x.json",
        sha256=hashlib.sha256(good).hexdigest(),
        owner="o",
        repo="r",
        commit="0" * 40,
    )
    monkeypatch.setitem(downloads._SOURCES, src.name, src)
    mirror = tmp_path / "mirror"
    (mirror / src.relpath).parent.mkdir(parents=True)
    (mirror / src.relpath).write_bytes(good + b" ")  # one byte off
    monkeypatch.setenv("VPGEO_DATA_MIRROR", mirror.as_uri())
    monkeypatch.setenv("VPGEO_DATA_DIR", str(tmp_path / "cache"))
    with pytest.raises(DataSourceError, match="checksum mismatch"):
        downloads.fetch(src.name)
    assert not (tmp_path / "cache" / src.relpath).exists()
    (mirror / src.relpath).write_bytes(good)
    assert downloads.fetch(src.name).read_bytes() == good


def test_no_pickle_anywhere_in_vpgeo() -> None:
    import re

    root = Path(vpgeo.__file__).parent
    pattern = re.compile(
        r"^\s*(import\s+(c?pickle|joblib|dill|shelve)|from\s+(c?pickle|joblib|dill|shelve)\s+import)"
        r"|\b(pickle|joblib|dill)\.(load|loads)\b|\bread_pickle\b|allow_pickle\s*=\s*True",
        re.M,
    )
    sources = sorted(root.rglob("*.py"))
    assert len(sources) > 15
    hits = [f"{p.name}: {m.group(0).strip()}" for p in sources for m in pattern.finditer(p.read_text(encoding="utf-8"))]
    assert hits == []


def _snapshot(root: Path) -> set[Path]:
    return {p for p in root.rglob("*")}


def test_report_writes_only_inside_out_and_refuses_non_empty(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("VPGEO_DATA_DIR", str(tmp_path / "cache"))  # a cache write would show up too
    src, _ = _decimal_comma(tmp_path, "table")
    before = _snapshot(tmp_path)
    run = _cli(["report", "--out", "out", "--sites", src.name, "--boundaries", "approx", "--no-png"], capsys)
    assert run.code == 0, run.err
    new = _snapshot(tmp_path) - before
    assert new and all(p.is_relative_to(tmp_path / "out") for p in new), sorted(map(str, new))
    marker = tmp_path / "out" / "mine.txt"
    marker.write_text("keep me", encoding="utf-8")
    run = _cli(["report", "--out", "out", "--boundaries", "approx", "--no-png"], capsys)
    _assert_one_line(run, tmp_path / "out")
    assert "--force" in run.err and marker.read_text(encoding="utf-8") == "keep me"
    before = _snapshot(tmp_path)
    run = _cli(["report", "--out", "out", "--force", "--boundaries", "approx", "--no-png"], capsys)
    assert run.code == 0 and all(p.is_relative_to(tmp_path / "out") for p in _snapshot(tmp_path) - before)
