"""Capture the results users see (README tour, notebooks, CLI) as golden values in tests/data/golden/.

The golden files were written from the code before the architecture refactor (issue 13: "the README's tour,
the notebooks and the CLI give the same results as before on the embedded data"); tests/test_regression.py
recomputes every value with the same functions below and compares. Run this again only when a change of
results is intended, and say why in the commit (and in ``EXPECTED_CHANGES`` until then).

Usage: python scripts/capture_golden.py [--out tests/data/golden] [--only tour,notebooks,cli]

Every section is a flat mapping ``key -> JSON value``; keys name what a user sees (``rule.counts.applicable``,
``cli.report.sites_csv.rows``). Floats are rounded to 6 decimals, NaN is ``null``. Everything runs offline
(``boundaries="approx"``, an empty ``VPGEO_DATA_MIRROR``).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import json
import math
import os
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "data" / "golden"
SECTIONS = ("tour", "notebooks", "cli")

Values = dict[str, Any]


# ------------------------------------------------------------------------------------------ helpers


def jsonable(value: Any) -> Any:
    """Plain JSON: numpy/pandas scalars to Python, floats rounded to 6 decimals, NaN/NA/None to None."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if hasattr(value, "tolist") and not isinstance(value, str):  # numpy arrays and scalars
        return jsonable(value.tolist())
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else (value if math.isinf(value) else round(value, 6))
    try:
        import pandas as pd

        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


def column(frame: Any, name: str) -> list[Any]:
    """One column as a JSON list (missing column -> the marker ``"<absent>"`` so the difference shows)."""
    if name not in frame.columns:
        return ["<absent>"]
    return jsonable(frame[name].astype(object).where(frame[name].notna(), None).tolist())


def by_id(frame: Any, key: str, names: list[str], prefix: str) -> Values:
    """``prefix.<name>`` -> {id: value} for each column, so a reordering is not a difference."""
    ids = [str(i) for i in frame[key].tolist()]
    return {f"{prefix}.{n}": dict(zip(ids, column(frame, n), strict=True)) for n in names}


def git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True)
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "vpgeo", "data"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return out.stdout.strip() + ("+dirty" if dirty else "")


@contextlib.contextmanager
def offline_env(tmp: Path) -> Iterator[dict[str, str]]:
    """No download attempt: an empty mirror and an empty cache (as the notebook tests do)."""
    env = {"VPGEO_DATA_MIRROR": (tmp / "no-mirror").as_uri() + "/", "VPGEO_DATA_DIR": str(tmp / "cache")}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield env
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


# ------------------------------------------------------------------------------------------ inputs

#: addresses of notebook 1, plus commune-only and coordinate rows (the geocoder's stable contract)
ADDRESSES = [
    "Xã Duy Phiên, huyện Tam Dương, tỉnh Vĩnh Phúc",
    "TT. Hương Canh, Bình Xuyên",
    "xa Hop Thinh, Tam Duong",
    "Xã Bình Nguyên",
    "Xuân Hòa",
    "Sóc Sơn, Hà Nội",
    "Phường Liên Bảo, Vĩnh Yên",
    "Hội Thịng",
    "",
]
COMMUNES = [
    ("Tề Lỗ", "Yên Lạc"),
    ("Đạo Tú", "Tam Dương"),
    ("Kim Xá", "Vĩnh Tường"),
    ("Hội Thịng", None),
    ("Bình Nguyên", None),
    ("Nowhere", None),
]
POINTS = [(105.62, 21.33), (105.60, 21.31), (105.72, 21.28), (105.45, 21.40), (106.5, 21.0)]
#: candidate points for scoring (EPSG:4326), spread over the province
CANDIDATES = [(105.45 + 0.04 * i, 21.22 + 0.025 * ((i * 7) % 11)) for i in range(12)]


def user_corridors() -> Any:
    """Two straight user corridors in EPSG:4326: scoring against them cannot depend on the embedded data."""
    import geopandas as gpd
    from shapely.geometry import LineString

    return gpd.GeoDataFrame(
        {"corridor_id": ["EW", "NS"], "name": ["east-west", "north-south"], "kind": ["expressway", "ring_road"]},
        geometry=[LineString([(105.40, 21.30), (105.90, 21.30)]), LineString([(105.65, 21.15), (105.65, 21.50)])],
        crs="EPSG:4326",
    )


def candidates_frame() -> Any:
    import geopandas as gpd

    lon, lat = zip(*CANDIDATES, strict=True)
    return gpd.GeoDataFrame(
        {"cid": [f"P{i:02d}" for i in range(len(lon))]}, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326"
    )


#: notebook 4's shapefile fields: what a provincial office's layer might call them (vpgeo recognises these)
SHP_FIELDS = {
    "corridor_id": "ma",
    "name": "ten",
    "kind": "loai",
    "status": "trang_thai",
    "priority": "uu_tien",
    "precision_m": "precision",
}

SCORE_COLS = ["distance_km", "nearest_corridor", "dist_EW_km", "dist_NS_km", "score", "score_from", "rank", "excluded"]


# ------------------------------------------------------------------------------------------ tour


def _geocoded(v: Values) -> None:
    import pandas as pd

    import vpgeo

    cols = ["commune", "district", "commune_2025", "match_status", "precision_m", "lon", "lat", "candidates"]
    placed = vpgeo.geocode(pd.DataFrame({"Địa chỉ": ADDRESSES}), address="Địa chỉ", boundaries="approx")
    v["geocode.address.rows"] = len(placed)
    v["geocode.address.columns"] = sorted(map(str, placed.columns))
    v.update({f"geocode.address.{c}": column(placed, c) for c in cols})
    com = pd.DataFrame({"xa": [c for c, _ in COMMUNES], "huyen": [d for _, d in COMMUNES]})
    placed = vpgeo.geocode(com, commune="xa", district="huyen", boundaries="approx")
    v["geocode.commune.rows"] = len(placed)
    v.update({f"geocode.commune.{c}": column(placed, c) for c in cols})
    pts = pd.DataFrame({"x": [p[0] for p in POINTS], "y": [p[1] for p in POINTS]})
    placed = vpgeo.geocode(pts, lon="x", lat="y", boundaries="approx")
    v["geocode.lonlat.rows"] = len(placed)
    v.update(
        {f"geocode.lonlat.{c}": column(placed, c) for c in ("commune", "district", "commune_2025", "match_status")}
    )


def _layers(v: Values) -> None:
    import vpgeo

    sites = vpgeo.load_sites()
    v["sites.rows"] = len(sites)
    v["sites.columns"] = sorted(map(str, sites.columns))
    v["sites.site_id"] = column(sites, "site_id")
    v["sites.kind_counts"] = jsonable(sites["kind"].value_counts().sort_index().to_dict())
    v["sites.with_geometry"] = int((~sites.geometry.isna() & ~sites.geometry.is_empty).sum())
    v["sites.location_method_counts"] = jsonable(sites["location_method"].value_counts().sort_index().to_dict())
    v["sites.area_ha_total"] = jsonable(float(sites["area_ha"].sum()))
    v.update(by_id(sites, "site_id", ["precision_m", "commune_2025", "phase"], "sites"))
    metric = sites[~sites.geometry.isna()].to_crs("EPSG:5897")
    v["sites.xy_5897"] = {
        str(i): [round(g.x, 1), round(g.y, 1)] for i, g in zip(metric["site_id"], metric.geometry, strict=True)
    }
    corridors = vpgeo.load_corridors()
    v["corridors.rows"] = len(corridors)
    v["corridors.columns"] = sorted(map(str, corridors.columns))
    v["corridors.corridor_id"] = column(corridors, "corridor_id")
    v["corridors.section"] = column(corridors, "section")
    v["corridors.precision_m"] = column(corridors, "precision_m")
    v["corridors.length_km"] = jsonable((corridors.to_crs("EPSG:5897").length / 1000).round(3).tolist())
    v["access_points.rows"] = len(vpgeo.load_access_points())
    districts = vpgeo.load_districts(source="approx")
    v["districts.rows"] = len(districts)
    v["districts.code"] = column(districts, "code")
    v["districts.name"] = column(districts, "name")
    v["districts.area_km2"] = jsonable((districts.to_crs("EPSG:5897").area / 1e6).round(1).tolist())
    v["communes2025.rows"] = len(vpgeo.load_communes(source="approx"))


def _rule(v: Values) -> None:
    import vpgeo

    sites, corridors = vpgeo.load_sites(), vpgeo.load_corridors()
    result = vpgeo.check_priority_rule(sites, corridors, buffer_km=5, corridor_set="plan")
    t = result.table
    v["rule.counts"] = jsonable(result.counts)
    v["rule.table.rows"] = len(t)
    v["rule.table.columns"] = sorted(map(str, t.columns))
    v["rule.table.site_id"] = column(t, "site_id")
    v.update(
        by_id(
            t,
            "site_id",
            [
                "rule_applies",
                "within_buffer",
                "distance_km",
                "uncertainty_m",
                "nearest_corridor",
                "access_km",
                "nearest_access",
            ],
            "rule.table",
        )
    )
    v["rule.targets"] = jsonable(result.targets)
    v["rule.json_keys"] = sorted(json.loads(result.to_json()))


def _scoring(v: Values) -> None:
    import vpgeo

    cand = candidates_frame()
    scored = vpgeo.score_candidates(
        cand, user_corridors(), decay="gaussian", half_distance_km=5, max_km=15, access_points=False
    )
    v["score.user.rows"] = len(scored)
    v["score.user.columns"] = sorted(map(str, scored.columns))
    v["score.user.crs"] = str(scored.crs)
    v.update(by_id(scored, "cid", SCORE_COLS, "score.user"))
    scored = vpgeo.score_candidates(cand, decay="gaussian", half_distance_km=5, max_km=15)
    v["score.embedded.rows"] = len(scored)
    v["score.embedded.columns"] = sorted(map(str, scored.columns))
    v.update(
        by_id(
            scored,
            "cid",
            ["distance_km", "nearest_corridor", "access_km", "nearest_access", "score", "score_from", "rank"],
            "score.embedded",
        )
    )


def _map(v: Values, tmp: Path) -> None:
    import vpgeo

    result = vpgeo.check_priority_rule(vpgeo.load_sites(), vpgeo.load_corridors(), buffer_km=5)
    scored = vpgeo.score_candidates(candidates_frame(), decay="gaussian", half_distance_km=5, max_km=15)
    m = vpgeo.plan_map(
        sites=result.table,
        corridors=vpgeo.load_corridors(),
        districts=vpgeo.load_districts(source="approx"),
        candidates=scored,
    )
    path = Path(vpgeo.save_map(m, tmp / "map.html"))
    v["map.saved"] = path.is_file() and path.read_text(encoding="utf-8").lstrip().lower().startswith("<!doctype html")


def section_tour(tmp: Path) -> Values:
    """The README's "A short tour", Python part."""
    v: Values = {}
    _layers(v)
    _rule(v)
    _geocoded(v)
    _scoring(v)
    _map(v, tmp)
    return v


# ------------------------------------------------------------------------------------------ notebooks


def _nb2(v: Values) -> None:
    import vpgeo

    result = vpgeo.check_priority_rule(buffer_km=5)
    v["nb2.rule"] = jsonable({k: result.rule[k] for k in sorted(result.rule)})
    for b in (2, 5, 10, 15, 20):
        v[f"nb2.counts_by_buffer.{b}"] = jsonable(vpgeo.check_priority_rule(buffer_km=b).counts["applicable"])
    for name in ("plan", "plan-provincial-rr4"):
        r = vpgeo.check_priority_rule(buffer_km=5, corridor_set=name)
        v[f"nb2.corridor_set.{name}.corridors"] = jsonable(r.rule["corridors"])
        v[f"nb2.corridor_set.{name}.counts"] = jsonable(r.counts["applicable"])
    targets = {k: {f: t.get(f) for f in ("plan", "in_data", "gap")} for k, t in result.targets.items()}
    v["nb2.targets"] = jsonable(targets)
    v["nb2.coverage.statement_en"] = result.coverage.get("statement_en")
    bd = result.by_district
    v["nb2.by_district.rows"] = len(bd)
    v["nb2.by_district.columns"] = sorted(map(str, bd.columns))


def _nb3(v: Values) -> None:
    import geopandas as gpd
    import numpy as np

    import vpgeo

    districts = vpgeo.load_districts(source="approx")
    rng = np.random.default_rng(42)
    area = districts.to_crs("EPSG:5897").union_all()
    minx, miny, maxx, maxy = area.bounds
    xy = rng.uniform((minx, miny), (maxx, maxy), size=(3000, 2))
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs="EPSG:5897")
    candidates = pts[pts.within(area)].reset_index(drop=True)
    v["nb3.candidates.rows"] = len(candidates)
    scored = vpgeo.score_candidates(candidates, decay="linear", max_km=10)
    v["nb3.scored.columns"] = sorted(map(str, scored.columns))
    top = scored.sort_values("rank").head(10)
    v["nb3.scored.top10.index"] = jsonable(top.index.tolist())
    v["nb3.scored.top10.distance_km"] = column(top, "distance_km")
    for decay in ("linear", "exponential", "gaussian", "step"):
        s = vpgeo.score_candidates(candidates, decay=decay, half_distance_km=5, max_km=10)
        v[f"nb3.decay.{decay}.mean_score"] = round(float(s["score"].mean()), 6)
        v[f"nb3.decay.{decay}.share_above_half"] = round(float((s["score"] > 0.5).mean()), 6)
    table = vpgeo.sensitivity(candidates)
    v["nb3.sensitivity.columns"] = sorted(map(str, table.columns))
    v["nb3.sensitivity.parameter"] = column(table, "parameter")
    v["nb3.sensitivity.spearman"] = column(table, "spearman")
    surf = vpgeo.suitability_surface(resolution_m=200)
    v["nb3.surface.shape"] = list(surf.score.shape)
    v["nb3.surface.transform"] = jsonable(list(surf.transform))
    v["nb3.surface.valid_cells"] = int(np.isfinite(surf.score).sum())
    v["nb3.surface.mean_score"] = round(float(np.nanmean(surf.score)), 6)


def _nb4(v: Values, tmp: Path) -> None:
    import pandas as pd

    import vpgeo

    work = tmp / "byo"
    work.mkdir()
    official = vpgeo.load_corridors(priority_only=True).to_crs("EPSG:5897")
    # as notebook 4: a shapefile with Vietnamese field names of <= 10 characters (dBASE's limit)
    official[[*SHP_FIELDS, "geometry"]].rename(columns=SHP_FIELDS).to_file(work / "hanh_lang.shp", encoding="utf-8")
    sites = pd.DataFrame(
        {
            "Tên": ["KCN Ứng viên A", "CCN Ứng viên B", "KCN Ứng viên C", "Dòng lỗi"],
            "Loại": ["Khu công nghiệp", "Cụm công nghiệp", "KCN", "KCN"],
            "Diện tích (ha)": ["250", "52,6", "180", "-5"],
            "Xã": ["Xã Đạo Tú", "Xã Tề Lỗ", "", "Xã Kim Xá"],
            "Huyện": ["Tam Dương", "Yên Lạc", "", "Vĩnh Tường"],
            "Kinh độ": [None, None, 105.62, None],
            "Vĩ độ": [None, None, 21.33, None],
            "Giai đoạn": ["new_2030", "new_2030", "new_2030", "new_2030"],
        }
    )
    sites.to_excel(work / "danh_sach.xlsx", index=False)
    res = vpgeo.build_report(
        work / "report", sites=work / "danh_sach.xlsx", corridors=work / "hanh_lang.shp", boundaries="approx", png=False
    )
    v["nb4.files"] = sorted(Path(f).name for f in res.files)
    t = res.result.table
    v["nb4.table.rows"] = len(t)
    v["nb4.table.name"] = column(t, "name")
    for c in ("kind", "area_ha", "commune_2025", "within_buffer", "distance_km", "uncertainty_m"):
        v[f"nb4.table.{c}"] = column(t, c)
    v["nb4.rejects.rows"] = len(res.rejects)
    v["nb4.rejects.columns"] = sorted(map(str, res.rejects.columns))


def section_notebooks(tmp: Path) -> Values:
    """Numbers the four notebooks show (scripts/make_notebooks.py), recomputed without running Jupyter."""
    v: Values = {}
    _nb2(v)
    _nb3(v)
    _nb4(v, tmp)
    return v


# ------------------------------------------------------------------------------------------ CLI


def run_cli(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    code = "import sys; from vpgeo.cli import main; sys.exit(main(sys.argv[1:]))"
    full_env = {**os.environ, **env, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run(
        [sys.executable, "-c", code, *args], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=600
    )


def _cli_report(v: Values, tmp: Path, env: dict[str, str]) -> None:
    import pandas as pd

    p = run_cli(["report", "--boundaries", "approx", "--out", str(tmp / "report")], tmp, env)
    v["cli.report.exit"] = p.returncode
    out = tmp / "report"
    v["cli.report.files"] = sorted(f.name for f in out.iterdir()) if out.is_dir() else []
    if not (out / "sites.csv").is_file():
        return
    sites = pd.read_csv(out / "sites.csv")
    v["cli.report.sites_csv.rows"] = len(sites)
    v["cli.report.sites_csv.columns"] = sorted(map(str, sites.columns))
    v["cli.report.sites_csv.site_id"] = column(sites, "site_id")
    v.update(by_id(sites, "site_id", ["within_buffer", "distance_km", "nearest_corridor"], "cli.report.sites_csv"))
    comp = json.loads((out / "compliance.json").read_text(encoding="utf-8"))
    v["cli.report.compliance.keys"] = sorted(comp)
    v["cli.report.compliance.counts"] = jsonable(comp.get("counts"))
    v["cli.report.compliance.targets.in_data"] = {k: t.get("in_data") for k, t in comp.get("targets", {}).items()}


def _cli_geocode(v: Values, tmp: Path, env: dict[str, str]) -> None:
    import pandas as pd

    pd.DataFrame({"STT": range(1, len(ADDRESSES) + 1), "Địa chỉ": ADDRESSES}).to_csv(tmp / "list.csv", index=False)
    p = run_cli(
        ["geocode", "list.csv", "--out", "placed.csv", "--address-col", "Địa chỉ", "--boundaries", "approx"], tmp, env
    )
    v["cli.geocode.address.exit"] = p.returncode
    if p.returncode == 0:
        placed = pd.read_csv(tmp / "placed.csv", keep_default_na=False)
        v["cli.geocode.address.rows"] = len(placed)
        v["cli.geocode.address.columns"] = sorted(map(str, placed.columns))
        for c in ("commune", "district", "commune_2025", "match_status", "precision_m"):
            v[f"cli.geocode.address.{c}"] = column(placed, c)
    pd.DataFrame({"x": [p[0] for p in POINTS], "y": [p[1] for p in POINTS]}).to_csv(tmp / "points.csv", index=False)
    p = run_cli(
        ["geocode", "points.csv", "--out", "placed.gpkg", "--lon-col", "x", "--lat-col", "y", "--boundaries", "approx"],
        tmp,
        env,
    )
    v["cli.geocode.lonlat.exit"] = p.returncode
    p = run_cli(["geocode", "list.csv", "--out", "bad.csv", "--address-col", "no such column"], tmp, env)
    v["cli.geocode.missing_column.exit"] = p.returncode


def _cli_score(v: Values, tmp: Path, env: dict[str, str]) -> None:
    import pandas as pd

    user_corridors().to_file(tmp / "roads.geojson", driver="GeoJSON")
    lon, lat = zip(*CANDIDATES, strict=True)
    pd.DataFrame({"cid": [f"P{i:02d}" for i in range(len(lon))], "lon": lon, "lat": lat}).to_csv(
        tmp / "cand.csv", index=False
    )
    p = run_cli(
        [
            "score",
            "cand.csv",
            "--out",
            "scored_user.csv",
            "--corridors",
            "roads.geojson",
            "--decay",
            "gaussian",
            "--max-km",
            "15",
            "--no-access-points",
            "--no-progress",
        ],
        tmp,
        env,
    )
    v["cli.score.user.exit"] = p.returncode
    if p.returncode == 0:
        s = pd.read_csv(tmp / "scored_user.csv")
        v["cli.score.user.rows"] = len(s)
        v["cli.score.user.columns"] = sorted(map(str, s.columns))
        v.update(by_id(s, "cid", ["distance_km", "nearest_corridor", "score", "rank"], "cli.score.user"))
    p = run_cli(["score", "cand.csv", "--out", "scored.csv", "--weights", "CT05=1,RR5=0.6", "--no-progress"], tmp, env)
    v["cli.score.embedded.exit"] = p.returncode
    if p.returncode == 0:
        s = pd.read_csv(tmp / "scored.csv")
        v["cli.score.embedded.rows"] = len(s)
        v["cli.score.embedded.columns"] = sorted(map(str, s.columns))
        v.update(by_id(s, "cid", ["distance_km", "nearest_corridor", "score", "rank"], "cli.score.embedded"))
    p = run_cli(["score", "cand.csv", "--out", "bad.csv", "--decay", "cubic"], tmp, env)
    v["cli.score.bad_decay.exit"] = p.returncode


def section_cli(tmp: Path) -> Values:
    """The CLI on the embedded data and on small inputs written here."""
    v: Values = {}
    env = {"VPGEO_DATA_MIRROR": (tmp / "no-mirror").as_uri() + "/", "VPGEO_DATA_DIR": str(tmp / "cache")}
    _cli_report(v, tmp, env)
    _cli_geocode(v, tmp, env)
    _cli_score(v, tmp, env)
    return v


SECTION_FUNCS: dict[str, Callable[[Path], Values]] = {
    "tour": section_tour,
    "notebooks": section_notebooks,
    "cli": section_cli,
}


def compute_with_warnings(section: str) -> tuple[Values, list[str]]:
    """Recompute one section in a fresh temporary folder, offline; also return the warnings it emitted
    (``Category at file:line: message``, each once), which the regression test reports as failures."""
    with (
        tempfile.TemporaryDirectory(prefix=f"vpgeo-golden-{section}-") as d,
        offline_env(Path(d)),
        warnings.catch_warnings(record=True) as caught,
    ):
        warnings.simplefilter("always")
        values = SECTION_FUNCS[section](Path(d))
    seen = dict.fromkeys(
        f"{w.category.__name__} at {Path(w.filename).name}:{w.lineno}: {str(w.message)[:160]}" for w in caught
    )
    return {k: jsonable(values[k]) for k in sorted(values)}, list(seen)


def compute(section: str) -> Values:
    """The values of one section (warnings are not the golden files' business; the test reports them)."""
    return compute_with_warnings(section)[0]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=GOLDEN)
    ap.add_argument("--only", default=",".join(SECTIONS))
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    commit = git_commit()
    for section in args.only.split(","):
        values = compute(section)
        doc = {
            "section": section,
            "commit": commit,
            "captured_utc": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "values": values,
        }
        path = args.out / f"{section}.json"
        path.write_text(json.dumps(doc, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        print(f"wrote {path}: {len(values)} values from {commit}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
