"""Corridor lines and access points: built from authored waypoints, selected by set, or read from a user's file.

No public line geometry of the plan's corridors could be obtained, so the embedded lines are drawn through
waypoints authored in ``data/facts/corridor_points.csv``: named interchanges and toll stations (OpenStreetMap
nodes quoted in the project's facts), commune points of the places a road is described as passing (from the
MIT gazetteer :mod:`vpgeo.gazetteer`), and a few estimates, each with its source, a note and a precision.
Every section of a corridor is its own feature so each carries its own ``precision_m``: a line drawn
between interchanges is good to about a kilometre, a schematic ring road to several.

Users with official layers (often VN-2000 shapefiles) replace the embedded lines with
:func:`read_corridor_file`; :func:`select_corridors` picks the set the plan's rule is judged against.
The plan names three corridors (Hà Nội–Lào Cai expressway, Ring Road 4, Ring Road 5) but "vành đai 4" has two
readings, hence :data:`CORRIDOR_SETS`.

Examples
--------
>>> lines, access = build_corridors()
>>> sorted(select_corridors(lines, "plan")["corridor_id"].unique())
['CT05', 'RR4', 'RR5']
>>> sorted(select_corridors(lines, "plan-provincial-rr4")["corridor_id"].unique())
['CT05', 'RR4_VP', 'RR5']
>>> bool((lines["precision_m"] > 0).all()), lines.crs.to_epsg()
(True, 4326)
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Sequence
from importlib.abc import Traversable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
import shapely.errors
from pyproj import CRS
from shapely.geometry import LineString, MultiLineString, Point

from vpgeo.crs import WGS84, check_crs, to_metric, to_wgs84
from vpgeo.errors import CRSError, InputError
from vpgeo.io import _gdal_notes
from vpgeo.text import fold, key, nfc

__all__ = [
    "ACCESS_KINDS",
    "CORRIDOR_INFO",
    "CORRIDOR_SETS",
    "DEFAULT_CORRIDOR_SET",
    "KINDS",
    "ROLES",
    "STATUSES",
    "TRACED_SOURCES",
    "USER_DEFAULTS",
    "build_corridors",
    "corridor_precision",
    "read_corridor_file",
    "read_corridor_points",
    "select_corridors",
    "write_corridor_layers",
]

KINDS = ("expressway", "ring_road", "national_road", "provincial_road")
STATUSES = ("built", "under_construction", "planned")
ROLES = ("waypoint", "interchange", "toll", "junction", "bridge")
ACCESS_KINDS = ("interchange", "toll", "junction")
POINT_COLUMNS = ("corridor_id", "section", "seq", "name", "lon", "lat", "role", "precision_m", "source", "notes")
POINTS_FILE = "facts/corridor_points.csv"
# A line drawn between two points misses the road's curves in between: never claim better than this.
MIN_LINE_PRECISION_M = 500.0
# Sources whose points trace the road: Travel Mapping places interchange and hidden shaping points on the
# centreline so its polyline follows the road. A section all of whose waypoints come from such a source takes its
# waypoints' precision_m as stated (the offset measured against independent nodes, or the floor where unmeasured).
TRACED_SOURCES = ("Travel Mapping",)
# Where the province is: waypoints outside this box are typing errors (swapped lon/lat, wrong degree).
_BOX = (102.0, 20.5, 107.5, 23.0)

_FACTS = "facts corridors.md (2026-11-26)"
CORRIDOR_INFO: dict[str, dict[str, Any]] = {
    "CT05": {
        "name": "Đường cao tốc Nội Bài – Lào Cai (CT.05)",
        "name_en": "Nội Bài–Lào Cai Expressway (CT.05)",
        "kind": "expressway",
        "status": "built",
        "priority": True,
        "source": "Travel Mapping, from © OpenStreetMap contributors (ODbL): waypoints of TravelMapping/"
        "HighwayData@13ffe4792d7cf1cbf024253cf8fe380dc8ebf2b5:hwy_data/VNM/vnmct/vnm.ct05.wpt; "
        f"{_FACTS}: aaroads wiki 'Hanoi–Lao Cai Expressway' (about 40 km in Vĩnh Phúc)",
        "notes": "opened 21/9/2014; drawn through Travel Mapping's exits and shaping points (read from OpenStreetMap), "
        "independent of the OSM nodes quoted in the facts, which it passes within 48-271 m (443 m from the IC3 "
        "toll gate to the IC3-IC4 section); runs north of Vĩnh Yên "
        "and just north of Phúc Yên centre",
    },
    "RR4": {
        "name": "Đường vành đai 4 – Vùng Thủ đô",
        "name_en": "Ring Road 4 – Capital Region",
        "kind": "ring_road",
        "status": "under_construction",
        "priority": True,
        "source": f"{_FACTS}: batdongsan wiki 'đường vành đai 4' (Hà Nội, Hưng Yên, Bắc Ninh only)",
        "notes": "schematic stub near its CT.05 junction in Hà Nội (xã Thanh Xuân, Sóc Sơn); it never enters the "
        "former Vĩnh Phúc, so sites are measured to its nearest part outside the province",
    },
    "RR4_VP": {
        "name": "Đường vành đai IV (tỉnh Vĩnh Phúc)",
        "name_en": "Vĩnh Phúc provincial ring road IV",
        "kind": "ring_road",
        "status": "planned",
        "priority": False,
        "source": f"{_FACTS}; english.vinhphuc.gov.vn project pages ItemID 326 and 329; vietnammoi.vn 'KCN Đồng Sóc'",
        "notes": "the alternative reading of the plan's 'vành đai 4' (corridor set 'plan-provincial-rr4'); "
        "schematic: crosses Vĩnh Tường from the railway road near Việt Xuân to QL2C near KCN Đồng Sóc; "
        "construction status not found (a 2019 provincial project builds slip roads to its railway overpass)",
    },
    "RR5": {
        "name": "Đường vành đai 5 – Vùng Thủ đô",
        "name_en": "Ring Road 5 – Capital Region",
        "kind": "ring_road",
        "status": "planned",
        "priority": True,
        "source": f"{_FACTS}: Decision 561/QĐ-TTg (18/4/2014), viettimes.vn 'vành đai 5 dự kiến khởi công năm "
        "nay' (2026-01-08), vinhhungjsc.com 'Vinh Thinh Bridge'",
        "notes": "schematic: about 51.5 km in Vĩnh Phúc, crossing the Red River on Vĩnh Thịnh bridge and sharing "
        "part of CT.05; its route in the province was not found, the line only follows those facts",
    },
    "QL2": {
        "name": "Quốc lộ 2",
        "name_en": "National Road 2",
        "kind": "national_road",
        "status": "built",
        "priority": False,
        "source": f"{_FACTS}; english.vinhphuc.gov.vn ItemID 326 (QL2 in xã Việt Xuân)",
        "notes": "Phúc Yên → Vĩnh Yên → Việt Trì, drawn through the commune points of the towns it passes",
    },
    "QL2C": {
        "name": "Quốc lộ 2C",
        "name_en": "National Road 2C",
        "kind": "national_road",
        "status": "built",
        "priority": False,
        "source": f"{_FACTS}; tttfic.com (KCN Thái Hòa – Liễn Sơn – Liên Hòa along QL2C)",
        "notes": "Vĩnh Thịnh bridge → Vĩnh Tường → Vĩnh Yên → Tam Dương → Lập Thạch/Sông Lô → Tuyên Quang, drawn "
        "through the commune points of the places it passes",
    },
    "QL2B": {
        "name": "Quốc lộ 2B",
        "name_en": "National Road 2B",
        "kind": "national_road",
        "status": "built",
        "priority": False,
        "source": f"{_FACTS}; lihanco.vn (12.31 km upgraded section Chân Suối bridge → Tam Đảo)",
        "notes": "Vĩnh Yên → Tam Đảo, drawn through commune points and IC4",
    },
}

CORRIDOR_SETS: dict[str, tuple[str, ...]] = {
    "plan": ("CT05", "RR4", "RR5"),
    "plan-provincial-rr4": ("CT05", "RR4_VP", "RR5"),
    "expressway": ("CT05",),
    "all": tuple(CORRIDOR_INFO),
}
"""Named corridor sets. ``plan`` (the default) reads the plan's Ring Road 4 as the Capital-Region ring road,
``plan-provincial-rr4`` as the province's own ring road IV. ``all`` means every corridor of the layer given."""
DEFAULT_CORRIDOR_SET = "plan"

USER_DEFAULTS: dict[str, Any] = {
    "kind": "provincial_road",
    "status": "built",
    "priority": True,
    "precision_m": 100.0,
}
"""Values :func:`read_corridor_file` fills in when a user's layer lacks them. ``corridor_id`` defaults to
``<file stem>_<row>``, ``name`` to the corridor id, ``section`` to the row number. A user's layer is taken as
the corridors to judge against (``priority`` true) and as digitised from an official map (100 m)."""

_LICENCE = (
    "vpgeo data (MIT). CT.05 waypoints are Travel Mapping's, read from OpenStreetMap; other named points are OSM nodes "
    "(© OpenStreetMap contributors, ODbL); commune points from vietnamadminunits 1.0.4 (MIT)."
)


# --------------------------------------------------------------------------------------------- waypoints
def _source_name(source: str | Path | Traversable | None) -> str:
    return POINTS_FILE if source is None else str(source)


def _check_point_row(row: pd.Series, r: int, where: str) -> None:
    """Refuse a waypoint row with an empty field, unknown role, bad number, far position or no precision."""
    for col in ("corridor_id", "section", "name", "source"):
        if not row[col]:
            raise InputError("empty value; every waypoint needs it", path=where, row=r, field=col)
    if row["role"] not in ROLES:
        raise InputError(f"role {row['role']!r} is not one of {list(ROLES)}", path=where, row=r, field="role")
    for col in ("seq", "lon", "lat", "precision_m"):
        try:
            value = float(row[col])
        except ValueError:
            raise InputError(f"{row[col]!r} is not a number", path=where, row=r, field=col) from None
        if not math.isfinite(value):
            raise InputError(f"{row[col]!r} is not a finite number", path=where, row=r, field=col)
    lon, lat = float(row["lon"]), float(row["lat"])
    if not (_BOX[0] <= lon <= _BOX[2] and _BOX[1] <= lat <= _BOX[3]):
        raise InputError(
            f"({lon}, {lat}) is far from Vĩnh Phúc; lon must be about 105.x and lat about 21.x (swapped?)",
            path=where,
            row=r,
            field="lon",
        )
    if float(row["precision_m"]) <= 0:
        raise InputError("precision_m must be > 0 metres", path=where, row=r, field="precision_m")


def read_corridor_points(points: str | Path | None = None) -> pd.DataFrame:
    """Read and validate the authored waypoint table (``data/facts/corridor_points.csv`` by default).

    Raises
    ------
    InputError
        Naming the file, 1-based data row and field of the first problem found.

    Examples
    --------
    >>> p = read_corridor_points()
    >>> p.loc[p["name"].str.startswith("IC3"), ["lon", "lat"]].iloc[0].tolist()
    [105.668221, 21.283196]
    """
    if points is None:
        from vpgeo._data import data_file

        src: Path | Traversable = data_file(POINTS_FILE)
    else:
        src = Path(points)
        if not src.is_file():
            raise InputError("waypoint file not found; pass the path of a corridor_points.csv", path=str(src))
    where = _source_name(None if points is None else points)
    with src.open("r", encoding="utf-8") as fh:
        table = pd.read_csv(fh, dtype=str, keep_default_na=False)
    missing = [c for c in POINT_COLUMNS if c not in table.columns]
    if missing:
        raise InputError(f"missing columns {missing}; expected {list(POINT_COLUMNS)}", path=where)
    out = table[list(POINT_COLUMNS)].copy()
    for col in ("corridor_id", "section", "name", "role", "source", "notes"):
        out[col] = out[col].map(nfc)
    for i, row in out.iterrows():
        _check_point_row(row, int(i) + 1, where)
    out["seq"] = out["seq"].astype(float).astype(int)
    for col in ("lon", "lat", "precision_m"):
        out[col] = out[col].astype(float)
    dup = out.duplicated(["corridor_id", "section", "seq"], keep=False)
    if dup.any():
        r = int(np.flatnonzero(dup.to_numpy())[0]) + 1
        raise InputError("corridor_id, section and seq repeat an earlier row", path=where, row=r, field="seq")
    return out


# --------------------------------------------------------------------------------------------- build
def _round_up(value: float, step: float = 100.0) -> float:
    return float(math.ceil(value / step) * step)


def _section_precision(grp: pd.DataFrame) -> float:
    """Largest waypoint precision rounded up to 100 m; below 500 m only where every waypoint traces the road.

    >>> pts = pd.DataFrame({"precision_m": [271.0, 48.0], "source": ["Travel Mapping, ...", "Travel Mapping, ..."]})
    >>> _section_precision(pts), _section_precision(pts.assign(source=["Travel Mapping", "estimate"]))
    (300.0, 500.0)
    """
    worst = _round_up(float(grp["precision_m"].max()))
    if grp["source"].str.startswith(TRACED_SOURCES).all():
        return worst
    return max(MIN_LINE_PRECISION_M, worst)


def build_corridors(points: str | Path | None = None) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Build the corridor sections and access points from the authored waypoints.

    Each (``corridor_id``, ``section``) group of waypoints, ordered by ``seq``, becomes one LineString whose
    ``precision_m`` is the largest precision of its waypoints, rounded up to 100 m and never below
    500 m (:data:`MIN_LINE_PRECISION_M`) unless every waypoint comes from a source that traces the road
    (:data:`TRACED_SOURCES`: Travel Mapping's points lie on the centreline), whose stated precision is then
    used as is. Waypoints with role ``interchange``, ``toll`` or ``junction`` become access points, one per
    corridor and name, with the largest precision of the rows naming it (the worst section it ends).

    Parameters
    ----------
    points : str or Path, optional
        A waypoint CSV (see :func:`read_corridor_points`); the embedded one by default.

    Returns
    -------
    (lines, access) : tuple of GeoDataFrame
        Both in EPSG:4326. ``lines``: ``corridor_id``, ``section``, ``name``, ``name_en``, ``kind``,
        ``status``, ``priority``, ``precision_m``, ``length_km``, ``waypoints``, ``source``, ``notes``.
        ``access``: ``access_id``, ``name``, ``corridor_id``, ``kind``, ``precision_m``, ``source``, ``notes``.

    Examples
    --------
    >>> lines, access = build_corridors()
    >>> prec = lines.set_index("section")["precision_m"]
    >>> float(prec["s1_exit1_ic3"]), float(prec["s2_ic3_ic4"])
    (300.0, 500.0)
    >>> sorted(access.loc[access["corridor_id"] == "CT05", "kind"].unique())
    ['interchange']
    """
    table = read_corridor_points(points)
    where = _source_name(points)
    unknown = sorted(set(table["corridor_id"]) - set(CORRIDOR_INFO))
    if unknown:
        row = int(np.flatnonzero(table["corridor_id"].isin(unknown).to_numpy())[0]) + 1
        raise InputError(
            f"corridor_id {unknown[0]!r} is not one of {list(CORRIDOR_INFO)} (add it to CORRIDOR_INFO first)",
            path=where,
            row=row,
            field="corridor_id",
        )
    order = {cid: i for i, cid in enumerate(CORRIDOR_INFO)}
    table = table.assign(_row=np.arange(1, len(table) + 1))
    records: list[dict[str, Any]] = []
    geoms: list[LineString] = []
    for (cid, section), grp in table.groupby(["corridor_id", "section"], sort=False):
        grp = grp.sort_values("seq")
        if len(grp) < 2:
            raise InputError(
                f"section {section!r} of {cid} has one waypoint; a line needs two",
                path=where,
                row=int(grp["_row"].iloc[0]),
                field="section",
            )
        info = CORRIDOR_INFO[str(cid)]
        geoms.append(LineString(list(zip(grp["lon"], grp["lat"], strict=True))))
        records.append(
            {
                "corridor_id": cid,
                "section": section,
                "name": info["name"],
                "name_en": info["name_en"],
                "kind": info["kind"],
                "status": info["status"],
                "priority": bool(info["priority"]),
                "precision_m": _section_precision(grp),
                "waypoints": " → ".join(grp["name"]),
                "source": f"{info['source']}; waypoints: data/{POINTS_FILE}",
                "notes": info["notes"],
                "_order": (order[str(cid)], int(grp["_row"].iloc[0])),
            }
        )
    lines = gpd.GeoDataFrame(records, geometry=geoms, crs=WGS84)
    lines = lines.sort_values("_order", kind="stable").drop(columns="_order").reset_index(drop=True)
    metric = to_metric(lines, operation="corridor length", warn=False)
    lines.insert(8, "length_km", np.round(metric.length.to_numpy() / 1000.0, 3))

    named = table[table["role"].isin(ACCESS_KINDS)]
    worst = named.groupby(["corridor_id", "name"])["precision_m"].transform("max")
    acc = named.assign(precision_m=worst).drop_duplicates(["corridor_id", "name"], keep="first")
    access = gpd.GeoDataFrame(
        {
            "access_id": [f"{c}:{key(n)}" for c, n in zip(acc["corridor_id"], acc["name"], strict=True)],
            "name": acc["name"].to_numpy(),
            "corridor_id": acc["corridor_id"].to_numpy(),
            "kind": acc["role"].to_numpy(),
            "precision_m": acc["precision_m"].to_numpy(dtype=float),
            "source": acc["source"].to_numpy(),
            "notes": acc["notes"].to_numpy(),
        },
        geometry=[Point(x, y) for x, y in zip(acc["lon"], acc["lat"], strict=True)],
        crs=WGS84,
    ).reset_index(drop=True)
    lines.attrs["provenance"] = _metadata("corridors")
    access.attrs["provenance"] = _metadata("access_points")
    return lines, access


def _metadata(layer: str) -> dict[str, Any]:
    common = {
        "built_from": [f"data/{POINTS_FILE}", "vpgeo.corridors.CORRIDOR_INFO", "facts corridors.md (2026-11-26)"],
        "builder": "scripts/build_corridors.py (vpgeo.corridors.build_corridors)",
        "licence": _LICENCE,
        "crs": "EPSG:4326",
    }
    if layer == "corridors":
        return {
            "layer": "corridors",
            **common,
            "precision": "Lines drawn through authored waypoints, not surveyed: each section's precision_m is the "
            "largest precision of its waypoints, never below 500 m (the road bends between points) unless the "
            "waypoints trace the road. CT.05 through Travel Mapping waypoints (on the centreline): per section the "
            "largest offset measured from the OSM nodes of the facts to that section's line, rounded up to 100 m, "
            "where both ends were checked (Sóc Sơn exit 1-IC3: 300 m, 48 m at the Km 6 toll and 271 m at the IC3 "
            "toll gate; IC3-IC4: 500 m, 443 m from the IC3 toll gate and 216 m from the IC4 toll booth), else the "
            "500 m floor (west of IC4); between waypoints unmeasured; national roads through "
            "commune points: 3-5 km (QL2C Vĩnh Yên–Liên Hòa: 7 km and north of Liên Hòa: 12 km, "
            "measured against an independent coarse road layer); schematic ring roads: 4-7.1 km. "
            "Replace with an official layer (vpgeo.corridors.read_corridor_file) where precision matters.",
        }
    return {
        "layer": "access_points",
        **common,
        "precision": "Point positions of named interchanges and toll stations (CT.05: Travel Mapping interchange "
        "waypoints, 300-500 m, the worst section each ends; OpenStreetMap nodes: 100-500 m, covering a toll "
        "booth's offset from the mainline), a low-confidence demo point (2 km) and estimated "
        "junctions (3-6 km); see each row's precision_m and notes.",
    }


def _coords(geom: Any) -> Any:
    if isinstance(geom, Point):
        return [round(geom.x, 6), round(geom.y, 6)]
    if isinstance(geom, LineString):
        return [[round(x, 6), round(y, 6)] for x, y in geom.coords]
    if isinstance(geom, MultiLineString):
        return [_coords(part) for part in geom.geoms]
    raise InputError(f"cannot write a {geom.geom_type} as a corridor feature")


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _feature_collection(gdf: gpd.GeoDataFrame, layer: str) -> dict[str, Any]:
    wgs = to_wgs84(gdf, operation=f"writing {layer}")
    meta = dict(gdf.attrs.get("provenance") or _metadata(layer))
    meta.pop("file", None)
    props = [c for c in wgs.columns if c != wgs.geometry.name]
    features = [
        {
            "type": "Feature",
            "properties": {c: _plain(row[c]) for c in props},
            "geometry": {"type": geom.geom_type, "coordinates": _coords(geom)},
        }
        for (_, row), geom in zip(wgs.iterrows(), wgs.geometry, strict=True)
    ]
    return {"type": "FeatureCollection", "metadata": meta, "features": features}


def write_corridor_layers(
    lines: gpd.GeoDataFrame, access: gpd.GeoDataFrame, directory: str | Path
) -> tuple[Path, Path]:
    """Write ``corridors.geojson`` and ``access_points.geojson`` into ``directory``, deterministically.

    Coordinates are rounded to 6 decimals (about 0.1 m), text is kept as UTF-8 (``ensure_ascii=False``),
    ``indent=1``; a top-level ``metadata`` object carries the layer's provenance and precision statement.

    Returns
    -------
    (corridors_path, access_points_path)

    Examples
    --------
    >>> import tempfile
    >>> lines, access = build_corridors()
    >>> with tempfile.TemporaryDirectory() as d:
    ...     c, a = write_corridor_layers(lines, access, d)
    ...     json.loads(c.read_text(encoding="utf-8"))["metadata"]["layer"]
    'corridors'
    """
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    paths = (out / "corridors.geojson", out / "access_points.geojson")
    for gdf, layer, path in zip((lines, access), ("corridors", "access_points"), paths, strict=True):
        text = json.dumps(_feature_collection(gdf, layer), ensure_ascii=False, indent=1)
        path.write_text(text + "\n", encoding="utf-8")
    return paths


# --------------------------------------------------------------------------------------------- selection
def _valid_choices(corridors: gpd.GeoDataFrame) -> str:
    ids = ", ".join(dict.fromkeys(corridors["corridor_id"].astype(str))) if "corridor_id" in corridors else ""
    return f"valid sets: {', '.join(CORRIDOR_SETS)}; corridor ids in this layer: {ids or 'none'}"


def select_corridors(
    corridors: gpd.GeoDataFrame, corridor_set: str | Sequence[str] = DEFAULT_CORRIDOR_SET
) -> gpd.GeoDataFrame:
    """Keep the sections of the corridors in ``corridor_set``.

    Parameters
    ----------
    corridors : GeoDataFrame
        Corridor sections with a ``corridor_id`` column (embedded or from :func:`read_corridor_file`).
    corridor_set : str or sequence of str
        A name from :data:`CORRIDOR_SETS` (``"all"`` is every corridor of ``corridors``), a corridor id,
        a comma-separated list of either, or a sequence of them.

    Raises
    ------
    InputError
        Naming ``corridor_set`` and listing the valid sets and ids, when a name is unknown or the set
        selects nothing from ``corridors``.

    Examples
    --------
    >>> lines, _ = build_corridors()
    >>> select_corridors(lines, "expressway")["corridor_id"].unique().tolist()
    ['CT05']
    >>> select_corridors(lines, "CT05,QL2")["corridor_id"].unique().tolist()
    ['CT05', 'QL2']
    >>> select_corridors(lines, "ring4")
    Traceback (most recent call last):
    ...
    vpgeo.errors.InputError: field 'corridor_set': unknown corridor set or id 'ring4'; valid sets: plan, ...
    """
    if "corridor_id" not in corridors.columns:
        raise InputError("corridors need a 'corridor_id' column naming each corridor", field="corridor_id")
    present = list(dict.fromkeys(corridors["corridor_id"].astype(str)))
    if isinstance(corridor_set, str):
        names = [part.strip() for part in corridor_set.split(",") if part.strip()]
    else:
        names = [str(part).strip() for part in corridor_set]
    if not names:
        raise InputError(f"empty corridor set; {_valid_choices(corridors)}", field="corridor_set")
    wanted: list[str] = []
    for name in names:
        if name == "all":
            wanted += present
        elif name in CORRIDOR_SETS:
            wanted += list(CORRIDOR_SETS[name])
        elif name in present:
            wanted.append(name)
        else:
            raise InputError(f"unknown corridor set or id {name!r}; {_valid_choices(corridors)}", field="corridor_set")
    chosen = corridors[corridors["corridor_id"].astype(str).isin(set(wanted))]
    if chosen.empty:
        raise InputError(
            f"corridor set {corridor_set!r} selects none of this layer's corridors; use 'all' or ids present; "
            f"{_valid_choices(corridors)}",
            field="corridor_set",
        )
    out = chosen.reset_index(drop=True)
    out.attrs = dict(corridors.attrs)
    return out


def corridor_precision(corridors: gpd.GeoDataFrame, *, by_section: bool = False) -> dict[str, float]:
    """Positional precision (metres) per corridor (its worst section) or per ``"corridor_id/section"``.

    A distance measured to a corridor is uncertain by the precision of the section nearest to the site;
    use ``by_section=True`` for that, the per-corridor value for a summary.

    Examples
    --------
    >>> lines, _ = build_corridors()
    >>> corridor_precision(lines)["CT05"]
    500.0
    >>> corridor_precision(lines, by_section=True)["QL2C/s2_vinh_yen_lien_hoa"]
    7000.0
    """
    for col in ("corridor_id", "precision_m"):
        if col not in corridors.columns:
            raise InputError(f"corridors need a {col!r} column", field=col)
    prec = pd.to_numeric(corridors["precision_m"], errors="coerce").astype(float)
    ids = corridors["corridor_id"].astype(str)
    if by_section:
        sections = (
            corridors["section"].astype(str)
            if "section" in corridors
            else pd.Series([str(i + 1) for i in range(len(corridors))], index=corridors.index)
        )
        return {f"{c}/{s}": float(p) for c, s, p in zip(ids, sections, prec, strict=True)}
    return {str(c): float(p) for c, p in prec.groupby(ids, sort=False).max().items()}


# --------------------------------------------------------------------------------------------- user files
# Shapefiles cut field names to 10 characters, hence "corridor_i" and "precision_".
_ALIASES: dict[str, tuple[str, ...]] = {
    "corridor_id": ("corridor_id", "corridor_i", "corridor", "id", "ma", "ma_duong", "code"),
    "section": ("section", "doan", "segment"),
    "name": ("name", "ten", "ten_duong", "tenduong", "road_name"),
    "name_en": ("name_en",),
    "kind": ("kind", "loai", "type", "road_type"),
    "status": ("status", "trang_thai", "hien_trang"),
    "priority": ("priority", "uu_tien"),
    "precision_m": ("precision_m", "precision_", "precision", "accuracy_m", "do_chinh_xac"),
    "source": ("source", "nguon"),
}
_TRUE = {"true", "1", "yes", "y", "co", "t"}
_FALSE = {"false", "0", "no", "n", "khong", "f"}


def _match_columns(columns: Sequence[str]) -> dict[str, str]:
    """Our column → the file's column, matching names case/diacritic-insensitively."""
    folded = {fold(c).replace(" ", "_"): c for c in columns}
    out: dict[str, str] = {}
    for ours, aliases in _ALIASES.items():
        for alias in aliases:
            if alias in folded:
                out[ours] = folded[alias]
                break
    return out


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or nfc(value) == ""


def _looks_projected(gdf: gpd.GeoDataFrame) -> bool:
    minx, miny, maxx, maxy = gdf.total_bounds
    return bool(np.isfinite([minx, miny, maxx, maxy]).all()) and (
        max(abs(minx), abs(maxx)) > 180 or max(abs(miny), abs(maxy)) > 90
    )


def _refuse_swapped(gdf: gpd.GeoDataFrame, where: str) -> None:
    """Lines written as [latitude, longitude] in Viet Nam: y ≈ 102–110, x ≈ 8–24 (checked before 'metres')."""
    if gdf.crs is not None and not gdf.crs.is_geographic:
        return
    minx, miny, maxx, maxy = gdf.total_bounds
    if np.isfinite([minx, miny, maxx, maxy]).all() and 7.5 <= minx <= maxx <= 24.0 and 101.0 <= miny <= maxy <= 110.5:
        raise InputError(
            f"longitude and latitude are swapped (x {minx:.2f}–{maxx:.2f}, y {miny:.2f}–{maxy:.2f}); write "
            "coordinates as [longitude, latitude]",
            path=where,
        )


def read_corridor_file(path: str | Path, *, layer: str | None = None, crs: str | None = None) -> gpd.GeoDataFrame:
    """Read a user's corridor layer (GeoJSON, GeoPackage, Shapefile …) as corridor sections in EPSG:4326.

    Any CRS is accepted, VN-2000 included, provided the datum shift to WGS 84 is known (EPSG:5897,
    EPSG:4756, or a definition with ``towgs84``); see :func:`vpgeo.crs.check_crs`. Only LineStrings and
    MultiLineStrings are accepted. Missing ``corridor_id``, ``section``, ``name``, ``name_en``, ``kind``,
    ``status``, ``priority``, ``precision_m`` and ``source`` are filled with :data:`USER_DEFAULTS` and the
    rules given there; each row's ``flags`` lists what was filled in. Common Vietnamese column names
    (``ten``, ``ma``, ``loai`` …) are recognised.

    Bad rows: an invalid line is repaired with ``make_valid`` and flagged; text longer than
    :data:`vpgeo.io.MAX_TEXT` is cut and flagged. A row without a usable line (empty, or collapsing when
    repaired) refuses the whole file, naming the row: corridors are the yardstick of every verdict, and a
    silently shorter road would change them. Swapped longitude/latitude, tables (CSV/XLSX), empty files and
    broken JSON are refused with one line each.

    Parameters
    ----------
    path : str or Path
        The file.
    layer : str, optional
        Layer of a multi-layer source (GeoPackage); required when there are several.
    crs : str, optional
        The CRS to assume when the file declares none (e.g. ``"EPSG:5897"``). Without it a file without a
        CRS is read as longitude/latitude only when its coordinates are degrees.

    Raises
    ------
    InputError
        File missing or unreadable, several layers and no ``layer``, a geometry that is not a line (row
        named), or a value of ``kind``/``status``/``priority``/``precision_m`` that cannot be used.
    CRSError
        No CRS and projected coordinates, geographic CRS with projected coordinates, or VN-2000 without
        the datum shift.

    Examples
    --------
    >>> import tempfile
    >>> from shapely.geometry import LineString
    >>> g = gpd.GeoDataFrame({"ten": ["Đường A"]}, crs="EPSG:5897",
    ...                      geometry=[LineString([(562000, 2356000), (570000, 2360000)])])
    >>> with tempfile.TemporaryDirectory() as d:
    ...     g.to_file(f"{d}/a.gpkg")
    ...     r = read_corridor_file(f"{d}/a.gpkg")
    >>> r.crs.to_epsg(), r.loc[0, "name"], r.loc[0, "corridor_id"], r.loc[0, "kind"]
    (4326, 'Đường A', 'a_1', 'provincial_road')
    >>> r.loc[0, "flags"]
    'defaults: corridor_id, section, kind, status, priority, precision_m, source'
    """
    p = Path(path)
    gdf = _read_layer(p, layer)
    gdf = _with_crs(gdf, crs, str(p))
    gdf, repaired = _checked_lines(gdf, str(p))
    return _normalise_attributes(gdf, p, assumed_crs=bool(gdf.attrs.get("assumed_crs")), row_flags=repaired)


def _read_layer(p: Path, layer: str | None) -> gpd.GeoDataFrame:
    """The one layer of a vector file, refusing tables, broken files and ambiguous multi-layer sources."""
    from vpgeo.io import CSV_EXTENSIONS, check_geojson, check_input_file

    where = str(p)
    check_input_file(p)  # missing, a folder, unreadable, empty: one clear line each
    suffix = p.suffix.lower()
    if suffix in CSV_EXTENSIONS or suffix in {".xlsx", ".xlsm", ".xls"}:
        raise InputError(
            f"a {suffix} table is not a line layer; give the corridors as lines in a GeoJSON, GeoPackage or "
            "Shapefile (QGIS: Export → Save Features As)",
            path=where,
        )
    if suffix in {".geojson", ".json"}:
        check_geojson(p)  # broken JSON is named with its line and column
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # listing layers: GDAL's feature complaints come with the read below
            layers = pyogrio.list_layers(p)
    except Exception as exc:  # pyogrio raises DataSourceError/OSError variants
        msg = " ".join(str(exc).replace(where, "").split()).split("; It might help")[0].strip(" :'")[:200]
        raise InputError(
            f"cannot read as a vector layer ({msg}); give a GeoJSON, GeoPackage or Shapefile (with its .shx, "
            ".dbf and .prj side files)",
            path=where,
        ) from None
    if layer is None and len(layers) > 1:
        names = ", ".join(str(n) for n in layers[:, 0])
        raise InputError(f"several layers ({names}); pass layer= to choose one", path=where)
    notes: list[str] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")  # GDAL's complaints about malformed features become a note
            gdf = gpd.read_file(p, layer=layer, engine="pyogrio")
    except Exception as exc:
        raise InputError(f"cannot read layer {layer!r}: {exc}", path=where) from None
    _gdal_notes(caught, notes)
    if notes:
        gdf.attrs["read_notes"] = notes
    if gdf.empty:
        raise InputError("the layer has no features", path=where)
    _refuse_swapped(gdf, where)
    return gdf


def _with_crs(gdf: gpd.GeoDataFrame, crs: str | None, where: str) -> gpd.GeoDataFrame:
    """The layer with a checked CRS: declared, given by ``crs`` or (degrees only) assumed WGS 84."""
    if gdf.crs is None:
        if crs is not None:
            gdf = gdf.set_crs(check_crs(crs, operation="reading a corridor file", argument="crs"))
        elif _looks_projected(gdf):
            raise CRSError(
                f"{where}: no CRS and the coordinates are projected (metres); pass crs= (e.g. 'EPSG:5897' for "
                "VN-2000 / TM-3 105°00′) or save the file with its .prj / CRS"
            )
        else:
            gdf = gdf.set_crs(WGS84)
            gdf.attrs["assumed_crs"] = True
    elif crs is not None and CRS.from_user_input(crs) != gdf.crs:
        raise InputError(
            f"the file declares its CRS ({gdf.crs.name}) and crs={crs!r} differs; drop crs= or fix the file",
            path=where,
            field="crs",
        )
    src = check_crs(gdf.crs, operation="reading a corridor file", argument=where)
    if src.is_geographic and _looks_projected(gdf):
        raise CRSError(
            f"{where}: the CRS is geographic ({src.name}) but the coordinates are metres; the file's CRS is "
            "wrong or unreadable: pass crs= and save it with a proper CRS"
        )
    return gdf


def _checked_line(geom: Any, row: int, where: str) -> tuple[Any, str | None]:
    """A usable line for one row (repaired if invalid, with its flag), or the error refusing the file."""
    flag = None
    if geom is not None and not geom.is_empty and not geom.is_valid:
        reason = shapely.is_valid_reason(geom)
        try:
            geom = shapely.make_valid(geom, method="structure", keep_collapsed=False)
        except shapely.errors.GEOSException:
            geom = None
        if geom is None or geom.is_empty:
            raise InputError(
                f"invalid line ({reason}) that collapses when repaired; give each line two distinct points",
                path=where,
                row=row,
                field="geometry",
            )
        flag = f"invalid geometry ({reason}) repaired with make_valid"
    if geom is None or geom.is_empty:
        raise InputError(
            "empty geometry; every row must be a line (delete the row or draw its line)",
            path=where,
            row=row,
            field="geometry",
        )
    if geom.geom_type not in ("LineString", "MultiLineString"):
        raise InputError(
            f"{geom.geom_type} geometry; corridors must be LineString or MultiLineString",
            path=where,
            row=row,
            field="geometry",
        )
    return geom, flag


def _checked_lines(gdf: gpd.GeoDataFrame, where: str) -> tuple[gpd.GeoDataFrame, dict[int, str]]:
    # A corridor row without a usable line is refused with the file (not rejected alone): the corridors are
    # the yardstick of every verdict, and a silently shorter road would change them.
    repaired: dict[int, str] = {}
    geoms = list(gdf.geometry)
    for i, geom in enumerate(geoms):
        geoms[i], flag = _checked_line(geom, i + 1, where)
        if flag:
            repaired[i] = flag
    if repaired:
        gdf = gdf.set_geometry(gpd.GeoSeries(geoms, index=gdf.index, crs=gdf.crs))
    return gdf, repaired


def _priority(raw: Any, where: str, row: int, fld: str) -> bool:
    if isinstance(raw, bool | np.bool_):
        return bool(raw)
    if fold(raw) in _TRUE or fold(raw) in _FALSE:
        return fold(raw) in _TRUE
    raise InputError(f"priority {raw!r} is not true/false", path=where, row=row, field=fld)


def _normalise_attributes(
    gdf: gpd.GeoDataFrame, p: Path, *, assumed_crs: bool, row_flags: dict[int, str] | None = None
) -> gpd.GeoDataFrame:
    from vpgeo.io import MAX_TEXT

    where = str(p)
    row_flags = row_flags or {}
    cols = _match_columns([c for c in gdf.columns if c != gdf.geometry.name])
    n = len(gdf)
    data: dict[str, list[Any]] = {
        c: []
        for c in (
            "corridor_id",
            "section",
            "name",
            "name_en",
            "kind",
            "status",
            "priority",
            "precision_m",
            "source",
            "flags",
        )
    }
    kinds = {fold(k).replace(" ", "_"): k for k in KINDS}
    statuses = {fold(s).replace(" ", "_"): s for s in STATUSES}
    for i in range(n):
        row = {ours: gdf.iloc[i][theirs] for ours, theirs in cols.items()}
        filled: list[str] = []

        def get(col: str, default: Any, row: dict[str, Any] = row, filled: list[str] = filled) -> Any:
            value = row.get(col)
            if _blank(value):
                filled.append(col)
                return default
            return value

        cid = nfc(get("corridor_id", f"{p.stem}_{i + 1}"))
        section = nfc(get("section", str(i + 1)))
        name = nfc(get("name", cid))
        name_en = nfc(row.get("name_en")) if not _blank(row.get("name_en")) else name
        raw_kind = get("kind", USER_DEFAULTS["kind"])
        kind = kinds.get(fold(raw_kind).replace(" ", "_"))
        if kind is None:
            raise InputError(
                f"kind {raw_kind!r} is not one of {list(KINDS)}", path=where, row=i + 1, field=cols.get("kind", "kind")
            )
        raw_status = get("status", USER_DEFAULTS["status"])
        status = statuses.get(fold(raw_status).replace(" ", "_"))
        if status is None:
            raise InputError(
                f"status {raw_status!r} is not one of {list(STATUSES)}",
                path=where,
                row=i + 1,
                field=cols.get("status", "status"),
            )
        priority = _priority(get("priority", USER_DEFAULTS["priority"]), where, i + 1, cols.get("priority", "priority"))
        raw_prec = get("precision_m", USER_DEFAULTS["precision_m"])
        try:
            precision = float(str(raw_prec).replace(",", ".")) if isinstance(raw_prec, str) else float(raw_prec)
        except (TypeError, ValueError):
            precision = math.nan
        if not (math.isfinite(precision) and precision > 0):
            shown = raw_prec.item() if isinstance(raw_prec, np.generic) else raw_prec
            raise InputError(
                f"precision_m {shown!r} must be a number of metres > 0",
                path=where,
                row=i + 1,
                field=cols.get("precision_m", "precision_m"),
            )
        source = nfc(get("source", f"user file {p.name}"))
        notes = [f"defaults: {', '.join(filled)}"] if filled else []
        if assumed_crs:
            notes.append("no CRS in file: read as EPSG:4326 (degrees)")
        if i in row_flags:
            notes.append(row_flags[i])
        texts = {"corridor_id": cid, "section": section, "name": name, "name_en": name_en, "source": source}
        for col, text in texts.items():
            if len(text) > MAX_TEXT:  # a megabyte in a name would be copied into every popup
                texts[col] = text[: MAX_TEXT - 1] + "…"
                notes.append(f"{col} truncated from {len(text):,} to {MAX_TEXT:,} characters")
        cid, section, name, name_en, source = texts.values()
        flags = "; ".join(notes)
        for col, value in zip(
            data,
            (cid, section, name, name_en, kind, status, priority, precision, source, flags),
            strict=True,
        ):
            data[col].append(value)
    extra = [c for c in gdf.columns if c != gdf.geometry.name and c not in set(cols.values()) and c not in data]
    out = gpd.GeoDataFrame(
        {**data, **{c: gdf[c].to_numpy() for c in extra}}, geometry=gdf.geometry.to_numpy(), crs=gdf.crs
    )
    out = to_wgs84(out, operation="reading a corridor file")
    out.attrs["provenance"] = {
        "layer": "corridors",
        "file": where,
        "built_from": [where],
        "precision": "as given in precision_m (default 100 m where missing; see flags)",
    }
    return out.reset_index(drop=True)
