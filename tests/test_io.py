"""vpgeo.io: every bad file gives an InputError naming it; legacy encodings, decimal commas, XLSX headers."""

from __future__ import annotations

import json
import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, Polygon

from vpgeo.errors import InputError, VpgeoError
from vpgeo.io import _to_cp1258, check_out_dir, parse_coordinate, read_table, write_rejects, write_table


def _bad(path: Path, match: str, **kw: object) -> InputError:
    with pytest.raises(InputError, match=match) as err:
        read_table(path, **kw)  # type: ignore[arg-type]
    assert path.name in str(err.value)
    return err.value


# ----------------------------------------------------------------------------------- file-level problems


def test_missing_file_folder_empty_unknown(tmp_path: Path) -> None:
    _bad(tmp_path / "nope.csv", "file not found")
    (tmp_path / "dir.csv").mkdir()
    (tmp_path / "dir.csv" / "inner.csv").write_text("a,b\n1,2\n")
    err = _bad(tmp_path / "dir.csv", "folder")
    assert "inner.csv" in str(err)
    (tmp_path / "empty.csv").write_bytes(b"")
    _bad(tmp_path / "empty.csv", "empty")
    (tmp_path / "blank.csv").write_text("\n  \n")
    _bad(tmp_path / "blank.csv", "empty")
    (tmp_path / "x.dbase").write_text("a")
    _bad(tmp_path / "x.dbase", "unknown file type")
    (tmp_path / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    _bad(tmp_path / "old.xls", r"\.xlsx")
    (tmp_path / "empty.geojson").write_bytes(b"")
    _bad(tmp_path / "empty.geojson", "empty")


def test_broken_csv_and_json(tmp_path: Path) -> None:
    (tmp_path / "fields.csv").write_text("a,b\n1,2\n3,4,5,6\n", encoding="utf-8")
    _bad(tmp_path / "fields.csv", r"record 2 \(line 3\) has 4 ','-separated fields but the header has 2")
    (tmp_path / "broken.geojson").write_text('{"type": "FeatureCollection", "features": [', encoding="utf-8")
    _bad(tmp_path / "broken.geojson", "broken JSON .*line 1")
    (tmp_path / "notgeo.json").write_text('{"a": 1}', encoding="utf-8")
    _bad(tmp_path / "notgeo.json", "not GeoJSON")
    (tmp_path / "bad.gpkg").write_bytes(b"not a geopackage at all")
    _bad(tmp_path / "bad.gpkg", "cannot read")
    (tmp_path / "bad.xlsx").write_bytes(b"PK\x03\x04 broken zip")
    _bad(tmp_path / "bad.xlsx", "not a readable XLSX")
    (tmp_path / "dup.csv").write_text("a,a\n1,2\n", encoding="utf-8")
    _bad(tmp_path / "dup.csv", "duplicate column names")


def test_shapefile_without_side_files(tmp_path: Path) -> None:
    gdf = gpd.GeoDataFrame({"ten": ["A"]}, geometry=[Point(105.6, 21.3)], crs=4326)
    write_table(gdf, tmp_path / "a.shp")
    (tmp_path / "a.shx").unlink()
    (tmp_path / "a.dbf").unlink()
    _bad(tmp_path / "a.shp", "cannot read")


def _fc(coords: list[tuple[float, float]]) -> str:
    feats = [
        {"type": "Feature", "properties": {"id": i}, "geometry": {"type": "Point", "coordinates": list(c)}}
        for i, c in enumerate(coords)
    ]
    return json.dumps({"type": "FeatureCollection", "features": feats})


def test_projected_geojson_without_crs(tmp_path: Path) -> None:
    # Kim Long interchange in VN-2000 / TM-3 105°00′ metres (EPSG:5897), written as if it were lon/lat.
    p = tmp_path / "vn2000.geojson"
    p.write_text(_fc([(562_000.0, 2_362_000.0), (563_000.0, 2_361_000.0)]), encoding="utf-8")
    err = _bad(p, "projected")
    assert "--crs EPSG:5897" in str(err)
    gdf = read_table(p, crs="EPSG:5897")
    assert gdf.crs.to_epsg() == 5897
    lonlat = gdf.to_crs(4326)
    # independent check: 562 km east of the 105° meridian's false easting 500 km is ~0.6° east
    assert 105.55 < lonlat.geometry.x[0] < 105.65 and 21.3 < lonlat.geometry.y[0] < 21.4


def test_swapped_lon_lat(tmp_path: Path) -> None:
    p = tmp_path / "swapped.geojson"
    p.write_text(_fc([(21.3573, 105.6061), (21.2528, 105.7397)]), encoding="utf-8")
    _bad(p, "swapped")
    c = tmp_path / "swapped.csv"
    c.write_text("ten,lon,lat\nIC4,21.3573,105.6061\nKm6,21.2528,105.7397\n", encoding="utf-8")
    err = _bad(c, "swap", lon_col="lon", lat_col="lat")
    assert "--lon-col 'lat' --lat-col 'lon'" in str(err)


def test_projected_columns_and_missing_columns(tmp_path: Path) -> None:
    c = tmp_path / "xy.csv"
    c.write_text("ten;X;Y\nA;2362000;562000\nB;2361000;563000\n", encoding="utf-8")
    err = _bad(c, "projected metres", lon_col="X", lat_col="Y")
    assert "EPSG:5897" in str(err) and "northing" in str(err)
    gdf = read_table(c, lon_col="Y", lat_col="X", crs="EPSG:5897")
    assert gdf.crs.to_epsg() == 5897 and gdf.geometry.x[0] == 562000
    with pytest.raises(InputError, match="no column 'kinh do'") as e:
        read_table(c, lon_col="kinh do", lat_col="Y")
    assert "xy.csv" in str(e.value) and "columns are" in str(e.value)
    with pytest.raises(InputError, match="both"):
        read_table(c, lon_col="X")


# ------------------------------------------------------------------------------------------- encodings


def test_cp1258_csv_decodes(tmp_path: Path) -> None:
    text = "tên;xã;huyện\nKCN Bá Thiện;Thiện Kế;Bình Xuyên\nCCN Tề Lỗ;Tề Lỗ;Yên Lạc\n"
    raw = _to_cp1258(text)
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    p = tmp_path / "legacy.csv"
    p.write_bytes(raw)
    df = read_table(p)
    assert df["xã"].tolist() == ["Thiện Kế", "Tề Lỗ"]
    assert df["huyện"].tolist() == ["Bình Xuyên", "Yên Lạc"]
    assert any("Windows-1258" in n for n in df.attrs["io_notes"])


def test_undecodable_text(tmp_path: Path) -> None:
    # TCVN3 (ABC) bytes for "Việt Nam": not UTF-8, and garbage in Windows-1258.
    p = tmp_path / "tcvn3.csv"
    p.write_bytes(b"ten,xa\nVi\xd6t Nam,\xa7\xe5ng V\xa8n\n\xa7\xb8o Tr\xd7,H\xa9i Th\xd3nh\n")
    _bad(p, "TCVN3")


def test_bom_semicolon_decimal_comma_and_codes(tmp_path: Path) -> None:
    p = tmp_path / "bom.csv"
    p.write_bytes("\ufeffmã;tên;diện tích;kinh độ;vĩ độ\n08935;Hương Canh;52,6;105,6061;21,3573\n".encode())
    df = read_table(p, lon_col="kinh độ", lat_col="vĩ độ")
    assert list(df.columns)[:2] == ["_row", "mã"]  # the BOM is not part of the first name
    assert df["mã"][0] == "08935"  # a code keeps its leading zero
    assert df["diện tích"][0] == pytest.approx(52.6)
    assert df.geometry.x[0] == pytest.approx(105.6061) and df.geometry.y[0] == pytest.approx(21.3573)
    assert any("decimal comma" in n for n in df.attrs["io_notes"])


def test_nfc_and_row_provenance(tmp_path: Path) -> None:
    nfd = "Hội Thịnh".encode().decode()
    import unicodedata

    decomposed = unicodedata.normalize("NFD", nfd)
    p = tmp_path / "nfd.csv"
    p.write_text(f"xa,so\n{decomposed},1\n,\nTề Lỗ,2\n", encoding="utf-8")
    df = read_table(p)
    assert df["xa"].tolist() == ["Hội Thịnh", "Tề Lỗ"]
    assert df["_row"].tolist() == [1, 2]
    assert any("empty line" in n for n in df.attrs["io_notes"])


def test_parse_coordinate() -> None:
    assert parse_coordinate("105,6061") == pytest.approx(105.6061)
    assert parse_coordinate("21°21'26.28\"N") == pytest.approx(21 + 21 / 60 + 26.28 / 3600)
    assert parse_coordinate("105° 36' 22\" E") == pytest.approx(105 + 36 / 60 + 22 / 3600)
    assert parse_coordinate("21°75'N") is None
    assert parse_coordinate("") is None and parse_coordinate(float("nan")) is None
    assert parse_coordinate("khong ro") is None


# ------------------------------------------------------------------------------------------------ XLSX


def test_xlsx_vietnamese_headers(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Tên khu", "Xã/phường", "Huyện", "Diện tích (ha)"])
    ws.append(["KCN Bình Xuyên", "Hương Canh", "Bình Xuyên", 271.0])
    ws.append(["CCN Hợp Thịnh", "Hợp Thịnh", "Tam Dương", "42,5"])
    p = tmp_path / "vn.xlsx"
    wb.save(p)
    df = read_table(p)
    assert list(df.columns) == ["_row", "Tên khu", "Xã/phường", "Huyện", "Diện tích (ha)"]
    assert df["Xã/phường"].tolist() == ["Hương Canh", "Hợp Thịnh"]
    assert df["_row"].tolist() == [1, 2]


def test_xlsx_title_and_merged_two_row_header(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"] = "DANH SÁCH CÁC KHU CÔNG NGHIỆP"
    ws.merge_cells("A1:D1")
    ws["A2"], ws["B2"], ws["C2"] = "STT", "Tên", "Diện tích (ha)"
    ws.merge_cells("A2:A3")
    ws.merge_cells("B2:B3")
    ws.merge_cells("C2:D2")
    ws["C3"], ws["D3"] = "Quy hoạch", "Đã thuê"
    ws.append([1, "KCN Bá Thiện", 327, 200])
    ws.append([2, "KCN Khai Quang", 262, 250])
    p = tmp_path / "merged.xlsx"
    wb.save(p)
    df = read_table(p)
    assert list(df.columns) == ["_row", "STT", "Tên", "Diện tích (ha) / Quy hoạch", "Diện tích (ha) / Đã thuê"]
    assert df["Tên"].tolist() == ["KCN Bá Thiện", "KCN Khai Quang"]
    notes = " ".join(df.attrs["io_notes"])
    assert "title" in notes and "merged header" in notes


# ------------------------------------------------------------------------------------------------ write


@pytest.mark.parametrize("ext", [".csv", ".xlsx", ".geojson", ".gpkg", ".shp", ".parquet"])
def test_write_read_roundtrip(tmp_path: Path, ext: str) -> None:
    gdf = gpd.GeoDataFrame(
        {"_row": [1, 2], "tên": ["Hội Thịnh", "Tề Lỗ"], "n": [1.5, 2.0]},
        geometry=[Point(105.6061, 21.3573), Point(105.55, 21.2)],
        crs=4326,
    )
    p = write_table(gdf, tmp_path / f"out{ext}")
    back = read_table(p, lon_col="lon", lat_col="lat") if ext in (".csv", ".xlsx") else read_table(p)
    assert back["tên"].tolist() == ["Hội Thịnh", "Tề Lỗ"]
    assert isinstance(back, gpd.GeoDataFrame)
    assert np.allclose(back.geometry.x, [105.6061, 105.55])
    assert "_row" in back.columns and back["_row"].tolist() == [1, 2]  # re-numbered by the reader
    if ext == ".csv":
        assert p.read_bytes().startswith(b"\xef\xbb\xbf")


def test_write_polygons_to_csv_as_wkt(tmp_path: Path) -> None:
    gdf = gpd.GeoDataFrame({"a": [1]}, geometry=[Polygon([(0, 0), (1, 0), (1, 1)])], crs=4326)
    df = pd.read_csv(write_table(gdf, tmp_path / "p.csv"), encoding="utf-8-sig")
    assert df["geometry_wkt"][0].startswith("POLYGON")


def test_write_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot write"):
        write_table(pd.DataFrame({"a": [1]}), tmp_path / "x.docx")
    with pytest.raises(InputError, match="no geometry"):
        write_table(pd.DataFrame({"a": [1]}), tmp_path / "x.geojson")


def test_write_rejects(tmp_path: Path) -> None:
    assert write_rejects(pd.DataFrame(columns=["_row", "reason"]), tmp_path / "r.csv") is None
    assert not (tmp_path / "r.csv").exists()
    rej = pd.DataFrame({"ten": ["X", "Y"], "_row": [2, 5], "reason": ["area not a number", "empty geometry"]})
    p = write_rejects(rej, tmp_path / "r.csv")
    assert p is not None
    back = pd.read_csv(p, encoding="utf-8-sig")
    assert list(back.columns) == ["row", "reason", "ten"]
    assert back["row"].tolist() == [2, 5]


def test_check_out_dir(tmp_path: Path) -> None:
    out = check_out_dir(tmp_path / "a" / "b", force=False)
    assert out.is_dir()
    (out / "x.csv").write_text("1")
    with pytest.raises(InputError, match="--force") as err:
        check_out_dir(out, force=False)
    assert "b" in str(err.value)
    assert check_out_dir(out, force=True) == out
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="not a folder"):
        check_out_dir(tmp_path / "file", force=True)


# ----------------------------------------------------------------------------------------------- fuzz


@settings(
    max_examples=int(os.environ.get("VPGEO_FUZZ_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    data=st.one_of(
        st.binary(max_size=300),
        st.text(alphabet=st.sampled_from([*',;"\n\r\tabcĐđệ1.5{}[]:', "\ufeff"]), max_size=200).map(str.encode),
    ),
    ext=st.sampled_from([".csv", ".geojson", ".xlsx", ".gpkg"]),
)
def test_fuzz_only_vpgeo_errors(tmp_path: Path, data: bytes, ext: str) -> None:
    p = tmp_path / f"f{ext}"
    p.write_bytes(data)
    try:
        out = read_table(p)
    except VpgeoError as exc:
        assert p.name in str(exc)
    else:
        assert "_row" in out.columns


def test_large_csv_goes_through_the_fast_writer_with_the_same_values(tmp_path: Path) -> None:
    from vpgeo.io import FAST_CSV_ROWS

    n = FAST_CSV_ROWS + 5
    rng = np.random.default_rng(1)
    df = pd.DataFrame(
        {
            "ten": [f"Xã Sơn Lôi {i}" for i in range(n)],
            "d": rng.random(n),
            "rank": np.where(rng.random(n) > 0.5, np.arange(n), np.nan),
            "ok": rng.random(n) > 0.5,
            "note": ["=1+1" if i % 7 == 0 else "" for i in range(n)],
        }
    )
    big = write_table(df, tmp_path / "big.csv")
    small = write_table(df.head(10), tmp_path / "small.csv")  # pandas' writer
    assert big.read_bytes()[:4] == b'\xef\xbb\xbf"'  # BOM, then pyarrow's quoted header
    back = pd.read_csv(big, encoding="utf-8-sig")
    ref = pd.read_csv(small, encoding="utf-8-sig")
    pd.testing.assert_frame_equal(back.head(10), ref)
    assert back["d"].tolist() == df["d"].tolist()  # shortest round-trip floats, exact
    assert back["ok"].tolist() == df["ok"].tolist()
    assert back.loc[0, "note"] == "'=1+1"


# ------------------------------------------------------------------- vectorised paths, value by value (#16)

# Strings where RE2 (pyarrow) and Python's re could disagree, and ordinary ones.
_TRICKY = [
    "1.5",
    "-2",
    "+.5",
    "1e5",
    "1.",
    ".",
    "",
    " 1",
    "1 ",
    "1.5\n",
    "1\n2",
    "٣",
    "١٢.٥",
    "52,6",
    "1.234,5",
    "12,",
    "=1+1",
    "-abc",
    "@x",
    "\tx",
    "\rx",
    "'=x",
    "x",
    "é",
    "e\u0301",
    "−5",
    "０",
    "1_000",
    "inf",
    "nan",
    "0x1A",
]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(extra=st.lists(st.text(alphabet=st.sampled_from(list("0123456789.,+-eE \n٣=@\t\ré")), max_size=8), max_size=30))
def test_vectorised_number_patterns_answer_as_pythons_re(extra: list[str]) -> None:
    from vpgeo.io import _NUM_COMMA, _NUM_DOT, _all_match, _matches

    texts = pd.Series([*_TRICKY, *extra], dtype=object)
    for patterns in ((_NUM_DOT,), (_NUM_COMMA,), (_NUM_DOT, _NUM_COMMA)):
        expected = [any(rx.match(t) for rx in patterns) for t in texts]
        assert _matches(texts, *patterns).tolist() == expected
        for part in (texts, texts[np.array(expected, dtype=bool)], texts.iloc[:3]):
            assert _all_match(part, *patterns) == all(any(rx.match(t) for rx in patterns) for t in part)
    assert _matches(pd.Series(["٣", "1.5\n"], dtype=str), _NUM_DOT).tolist() == [True, True]  # Python's re says so


def test_decimal_comma_column_reads_as_float_does(tmp_path: Path) -> None:
    values = ["52,6", "1.234,5", "12", "", "3.5", " 7,25 ", "-0,5", "1e3"]
    p = tmp_path / "c.csv"
    p.write_text("ten;v\n" + "".join(f"r{i};{v}\n" for i, v in enumerate(values)), encoding="utf-8")
    got = read_table(p)["v"].tolist()
    expected = [52.6, 1234.5, 12.0, None, 3.5, 7.25, -0.5, 1000.0]
    assert [None if pd.isna(g) else g for g in got] == expected


def test_extra_fields_are_named_by_record_after_blank_lines(tmp_path: Path) -> None:
    # records: "1,2" is 1, the blank line and "," are not records, "3,4" is 2, "5,6,7" (line 6) is 3
    (tmp_path / "f.csv").write_text("a,b\n1,2\n\n,\n3,4\n5,6,7\n" + "8,9\n" * 50, encoding="utf-8")
    _bad(tmp_path / "f.csv", r"record 3 \(line 6\) has 3 ','-separated fields but the header has 2")


def test_coordinates_read_as_parse_coordinate_reads_each(tmp_path: Path) -> None:
    from vpgeo.io import _coordinates

    texts = ["105.6", "105,6", "21°21'26.3\"N", "", "abc", "1e400", "nan", None, "٣"]
    expected = [np.nan if parse_coordinate(v) is None else parse_coordinate(v) for v in texts]
    np.testing.assert_array_equal(_coordinates(pd.Series(texts, dtype=object)), expected)
    numbers = pd.Series([105.5, np.inf, -np.inf, np.nan, 21.0])
    np.testing.assert_array_equal(_coordinates(numbers), [105.5, np.nan, np.nan, np.nan, 21.0])
    np.testing.assert_array_equal(_coordinates(pd.Series([True, False])), [np.nan, np.nan])  # not numbers
    np.testing.assert_array_equal(_coordinates(pd.Series([105, 21], dtype="int64")), [105.0, 21.0])


def test_rows_without_usable_coordinates_have_no_geometry_and_a_flag(tmp_path: Path) -> None:
    p = tmp_path / "p.csv"
    rows = ["a,105.5,21.3", "b,999,21.3", "c,,", "d,105.6,", "e,105.7,21.4"]
    p.write_text("n,lon,lat\n" + "\n".join(rows) + "\n", encoding="utf-8")
    gdf = read_table(p, lon_col="lon", lat_col="lat")
    assert gdf.geometry.isna().tolist() == [False, True, True, True, False]
    assert (gdf.geometry.x[0], gdf.geometry.y[4]) == (105.5, 21.4)
    assert sorted(gdf.attrs["row_flags"]) == [2, 4]  # "c" gave nothing: nothing to flag
    assert "2 row(s) with unreadable or impossible coordinates" in " ".join(gdf.attrs["io_notes"])


def test_points_from_columns_is_read_table_with_the_columns(tmp_path: Path) -> None:
    from vpgeo.io import points_from_columns

    p = tmp_path / "s.csv"
    p.write_text("tên;kinh độ;vĩ độ\nA;105,7;21,35\nB;abc;21\nC;105,5;21,2\n", encoding="utf-8")
    once = points_from_columns(read_table(p), "Kinh độ", "Vĩ độ")
    twice = read_table(p, lon_col="Kinh độ", lat_col="Vĩ độ")
    plain = [pd.DataFrame(f.drop(columns="geometry")) for f in (once, twice)]
    pd.testing.assert_frame_equal(*plain)
    wkt = ["POINT (105.7 21.35)", "", "POINT (105.5 21.2)"]
    assert once.geometry.to_wkt().fillna("").tolist() == twice.geometry.to_wkt().fillna("").tolist() == wkt
    assert once.attrs == twice.attrs
    with pytest.raises(InputError, match="no column 'x'"):
        points_from_columns(read_table(p), "x", "Vĩ độ")


def test_text_columns_are_nfc_whatever_their_dtype(tmp_path: Path) -> None:
    import unicodedata

    nfd = unicodedata.normalize("NFD", "Bá Thiện")
    p = tmp_path / "n.csv"
    p.write_text("ten,ascii\n" + "".join(f"{nfd if i % 3 else 'plain'},x{i}\n" for i in range(30)), encoding="utf-8")
    df = read_table(p)
    assert set(df["ten"]) == {"Bá Thiện", "plain"} and df["ten"].dtype == "str"
    assert all(unicodedata.is_normalized("NFC", v) for v in df["ten"])


def _flat_one(v: object) -> object:
    """write_table's rule for one value of an object column: lists joined, other objects as text."""
    if v is None or isinstance(v, str | int | float | bool):
        return v
    return "; ".join(map(str, v)) if isinstance(v, list | tuple) else str(v)


def test_object_columns_are_written_as_their_values_say() -> None:
    from vpgeo.io import _flat

    df = pd.DataFrame(
        {
            "texts": pd.Series(["a", None, "b"], dtype=object),
            "ints": pd.Series([1, 2, 3], dtype=object),
            "bools": pd.Series([True, False, True], dtype=object),
            "none": pd.Series([None, None, None], dtype=object),
            "mixed": pd.Series(["a", 1, None], dtype=object),
            "lists": pd.Series([[1, 2], ("x",), None], dtype=object),
            "np": pd.Series([np.int64(5), 1.5, None], dtype=object),
        }
    )
    out = _flat(df)
    for col in df.columns:
        pd.testing.assert_series_equal(out[col], df[col].map(_flat_one), check_names=True)
    assert out["bools"].dtype == bool and out["ints"].dtype == "int64" and out["np"].tolist()[0] == "5"


def test_formula_text_is_quoted_in_every_kind_of_text_column(tmp_path: Path) -> None:
    from vpgeo.io import _NUM_DOT, FAST_CSV_ROWS, FORMULA_START

    # (a cell holding a bare CR is left out: pandas' writer does not quote it, so it cannot be read back)
    cells = ["=1+1", "-5", "-abc", "+84 912", "@x", "\tx", "plain", "", "-1.5e3", "=", None]

    def rule(v: str | None) -> str:  # OWASP: a leading ' unless it is a number; missing reads back as ""
        if v is None:
            return ""
        return "'" + v if v.startswith(FORMULA_START) and not _NUM_DOT.match(v) else v

    for n in (len(cells), FAST_CSV_ROWS + 3):  # pandas' writer, then pyarrow's
        vals = (cells * (n // len(cells) + 1))[:n]
        df = pd.DataFrame({"s": pd.Series(vals, dtype=str), "o": pd.Series([*vals[:-1], 7], dtype=object)})
        path = write_table(df, tmp_path / f"f{n}.csv")
        back = pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)
        assert back["s"].tolist() == [rule(v) for v in vals]
        assert back["o"].tolist() == [*(rule(v) for v in vals[:-1]), "7"]
        cr = write_table(pd.DataFrame({"s": pd.Series(["\rx"] * n, dtype=str)}), tmp_path / f"cr{n}.csv")
        assert cr.read_bytes().count(b"'\rx") == n
