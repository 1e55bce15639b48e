"""Build the offline, APPROXIMATE boundaries shipped in data/boundaries/ from the gazetteer alone.

Inputs are only the MIT PyPI package ``vietnamadminunits`` (through :mod:`vpgeo.gazetteer`, plus the
package's own points of the neighbouring communes so the province edge has something to push against):

- the 36 communes of 2025: centroid-like points and official areas;
- the 121 legacy communes: geocoded points (flagged ones skipped), bounding boxes (bogus ones skipped),
  their district and the 2025 commune each became part of;
- the 9 districts' bounding boxes;
- the 2025 communes of the neighbouring provinces (points, areas) and their legacy points.

Method: a capacity-constrained power diagram on a metric grid (EPSG:5897). Each unit ("part" = a 2025
commune inside one legacy district) owns several generator points (its 2025 centroid and its legacy
communes' points); all points of a unit share one power weight, iterated until every unit's cell reaches
its known area. A cell is forbidden outside its district's bounding box and penalised outside the union
of its legacy communes' plausible bounding boxes. Legacy communes split their unit by nearest point.
The grid labels are polygonised, simplified as a coverage (shared edges stay shared) and dissolved to
2025 communes and districts.

NEVER feed third-party boundary geometry (../shared/data/reference, ../shared/data/mirror) into this
script: the shipped files must derive from the gazetteer only. ``--measure DIR`` only *prints* IoU
against a reference folder after the files are written; nothing from it is stored.

Usage::

    python scripts/build_boundaries.py              # rebuild data/boundaries/*.geojson
    python scripts/build_boundaries.py --measure ../shared/data/reference
"""

from __future__ import annotations

import argparse
import json
import math
import sqlite3
from importlib import resources
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from vpgeo import gazetteer

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "data" / "boundaries"
METRIC = "EPSG:5897"
_T = Transformer.from_crs("EPSG:4326", METRIC, always_xy=True)

# Grid and solver settings (metres, m²). Chosen once; see the module docstring for what each does.
MARGIN = 25_000.0  # window around the province bbox holding the neighbours' cells
COARSE = 250.0  # grid step while iterating the weights
FINE = 100.0  # grid step of the final labelling
# Only a few area-balancing steps: full balancing to the known areas lowered the mean IoU (0.78 vs 0.80
# measured), since convex cells cannot take the true shapes; three steps fix the grossest area errors.
ITERATIONS = 3
SPLIT_ITERATIONS = 40  # balancing of legacy communes inside their part (ensures each gets a share)
BBOX_PLAUSIBLE = (0.2, 8.0)  # legacy bbox area / estimated area outside this → bogus bbox, ignored
BBOX_DILATE = 500.0
BBOX_PENALTY = 4e6  # (2 km)²: soft, a cell may leave its bboxes if the areas demand it
DISTRICT_DILATE = 300.0  # district bboxes are accurate to a few hundred metres
SIMPLIFY = 200.0  # coverage simplification tolerance, removes the grid's staircase

# Measured by `python scripts/build_boundaries.py --measure ../shared/data/reference` (and asserted in
# tests/test_boundaries.py): the 90th percentile of the distance between our boundaries and the official
# ones, max over units, rounded up. Legacy communes have no reference; they inherit the 2025 figure.
PRECISION_DISTRICTS_M = 1500
PRECISION_COMMUNES_M = 3400

VINTAGE_NOTE = "gazetteer vietnamadminunits 1.0.4 (2025 units; legacy units as of 30 June 2025)"


def _package_db() -> sqlite3.Connection:
    path = resources.files("vietnamadminunits") / "data" / "dataset.db"
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def _xy(lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
    x, y = _T.transform(np.asarray(lon, float), np.asarray(lat, float))
    return np.asarray(x), np.asarray(y)


def _neighbours(window: tuple[float, float, float, float], own: set[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """2025 communes around the province (code, x, y, area m²) and their legacy points (code, x, y)."""
    x0, y0, x1, y1 = window
    with _package_db() as conn:
        new = pd.read_sql("SELECT provinceKey, wardKey, wardCode, wardLat, wardLon, wardAreaKm2 FROM admin_units", conn)
        old = pd.read_sql("SELECT provinceKey, districtKey, wardKey, wardLat, wardLon FROM admin_units_legacy", conn)
    new = new[~new["wardCode"].isin(own)].copy()
    new["x"], new["y"] = _xy(new["wardLon"], new["wardLat"])
    new = new[new["x"].between(x0, x1) & new["y"].between(y0, y1)].copy()
    new["area"] = new["wardAreaKm2"].astype(float) * 1e6
    conv = json.loads(
        (resources.files("vietnamadminunits") / "data" / "converter_2025.json").read_text(encoding="utf-8")
    )
    legacy_to_new = {
        o: (prov, nk)
        for prov, groups in conv["DICT_PROVINCE_WARD_NO_DIVIDED"].items()
        for nk, olds in groups.items()
        for o in olds
    }
    by_key = new.set_index(["provinceKey", "wardKey"])
    old["target"] = (old["provinceKey"] + "_" + old["districtKey"] + "_" + old["wardKey"]).map(legacy_to_new)
    old = old[old["target"].isin(set(by_key.index))].copy()
    old["x"], old["y"] = _xy(old["wardLon"], old["wardLat"])
    tgt = by_key.loc[list(old["target"])]
    old["code"] = tgt["wardCode"].to_numpy()
    # A legacy point far from its 2025 commune is a geocoding error: drop it.
    reach = 2.0 * np.sqrt(tgt["area"].to_numpy() / math.pi)
    near = np.hypot(old["x"].to_numpy() - tgt["x"].to_numpy(), old["y"].to_numpy() - tgt["y"].to_numpy()) < reach
    old = old[near]
    return new[["wardCode", "x", "y", "area"]].rename(columns={"wardCode": "code"}), old[["code", "x", "y"]]


def _box_mask(b: tuple[float, float, float, float], dil: float, gx: np.ndarray, gy: np.ndarray) -> np.ndarray:
    xs, ys = _xy([b[0], b[2], b[0], b[2]], [b[1], b[1], b[3], b[3]])
    inside: np.ndarray = (gx >= xs.min() - dil) & (gx <= xs.max() + dil)
    inside &= (gy >= ys.min() - dil) & (gy <= ys.max() + dil)
    return inside


class Model:
    """Units, generator sites and penalties of the power diagram."""

    def __init__(self) -> None:
        self.new = gazetteer.communes_2025()
        self.leg = gazetteer.legacy_communes()
        self.dis = gazetteer.districts().set_index("code")
        leg = self.leg
        leg["x"], leg["y"] = _xy(leg["lon"], leg["lat"])
        b = np.array([np.array(d, float) for d in self.dis["bbox"]])
        x0, y0 = _xy(b[:, 0].min(), b[:, 1].min())
        x1, y1 = _xy(b[:, 2].max(), b[:, 3].max())
        self.extent = (float(x0), float(y0), float(x1), float(y1))
        self.window = (float(x0) - MARGIN, float(y0) - MARGIN, float(x1) + MARGIN, float(y1) + MARGIN)
        nb, nb_leg = _neighbours(self.window, set(self.new["code"]))

        units = leg.groupby(["commune_2025_code", "district_code"]).size().reset_index(name="n")
        total = leg.groupby("commune_2025_code").size()
        a25 = self.new.set_index("code")["area_km2"]
        # A 2025 commune spanning two districts is split by its legacy communes' count (areas unknown).
        units["area"] = [
            a25[c] * n / total[c] * 1e6 for c, n in zip(units["commune_2025_code"], units["n"], strict=True)
        ]
        self.units = units
        self.nu = len(units)
        unit_of = {k: i for i, k in enumerate(zip(units["commune_2025_code"], units["district_code"], strict=True))}

        sx: list[float] = []
        sy: list[float] = []
        su: list[int] = []
        new_xy = dict(zip(self.new["code"], zip(*_xy(self.new["lon"], self.new["lat"]), strict=True), strict=True))
        for i, c in enumerate(units["commune_2025_code"]):
            if (units["commune_2025_code"] == c).sum() == 1:  # the centroid belongs to one part only
                sx.append(float(new_xy[c][0]))
                sy.append(float(new_xy[c][1]))
                su.append(i)
        ok = leg[leg["point_status"] == "ok"]
        for r in ok.itertuples():
            sx.append(float(r.x))
            sy.append(float(r.y))
            su.append(unit_of[(r.commune_2025_code, r.district_code)])
        for i, r in units.iterrows():  # every part needs a generator
            if i not in su:
                sib = leg[
                    (leg["commune_2025_code"] == r["commune_2025_code"]) & (leg["district_code"] == r["district_code"])
                ]
                sx.append(float(sib["x"].mean()))
                sy.append(float(sib["y"].mean()))
                su.append(int(i))
        nb_index = {c: self.nu + j for j, c in enumerate(nb["code"])}
        sx += list(nb["x"]) + list(nb_leg["x"])
        sy += list(nb["y"]) + list(nb_leg["y"])
        su += list(nb_index.values()) + [nb_index[c] for c in nb_leg["code"]]
        self.sx, self.sy, self.su = np.array(sx), np.array(sy), np.array(su)
        self.area = np.r_[units["area"].to_numpy(), nb["area"].to_numpy()]
        k = len(self.area)
        cnt = np.bincount(self.su, minlength=k)
        ux = np.bincount(self.su, self.sx, minlength=k) / cnt
        uy = np.bincount(self.su, self.sy, minlength=k) / cnt
        # Only units well inside the window get their area balanced; the window cuts the others' cells.
        self.balanced = (ux > x0 - 8000) & (ux < x1 + 8000) & (uy > y0 - 8000) & (uy < y1 + 8000)

        boxes = gpd.GeoSeries([shapely.box(*bb) for bb in leg["bbox"]], crs="EPSG:4326").to_crs(METRIC)
        ratio = boxes.area.to_numpy() / 1e6 / leg["area_km2_est"].to_numpy()
        plausible = (ratio > BBOX_PLAUSIBLE[0]) & (ratio < BBOX_PLAUSIBLE[1]) & (leg["point_status"] == "ok").to_numpy()
        self.regions: list[Any] = []
        for r in units.itertuples():
            m = plausible & (leg["commune_2025_code"] == r.commune_2025_code).to_numpy()
            m &= (leg["district_code"] == r.district_code).to_numpy()
            self.regions.append(boxes[m].union_all().buffer(BBOX_DILATE) if m.any() else None)

    def grid(self, step: float) -> tuple[np.ndarray, np.ndarray]:
        x0, y0, x1, y1 = self.window
        gx, gy = np.meshgrid(np.arange(x0, x1, step) + step / 2, np.arange(y0, y1, step) + step / 2)
        return gx.ravel(), gy.ravel()

    def penalties(self, gx: np.ndarray, gy: np.ndarray) -> np.ndarray:
        pen = np.zeros((self.nu, len(gx)), dtype=np.float64)
        for i, r in enumerate(self.units.itertuples()):
            reg = self.regions[i]
            if reg is not None:
                pen[i, ~shapely.contains_xy(reg, gx, gy)] = BBOX_PENALTY
            pen[i, ~_box_mask(self.dis.at[r.district_code, "bbox"], DISTRICT_DILATE, gx, gy)] = np.inf
        return pen

    def assign(self, gx: np.ndarray, gy: np.ndarray, w: np.ndarray, pen: np.ndarray) -> np.ndarray:
        best = np.full(gx.shape, np.inf)
        arg = np.zeros(gx.shape, dtype=np.int64)
        for j in range(len(self.sx)):
            u = self.su[j]
            d = (gx - self.sx[j]) ** 2 + (gy - self.sy[j]) ** 2 - w[u]
            if u < self.nu:
                d = d + pen[u]
            m = d < best
            best[m] = d[m]
            arg[m] = u
        return arg

    def solve(self) -> np.ndarray:
        """Power weights giving every balanced unit its known area (gradient ascent on the OT dual)."""
        gx, gy = self.grid(COARSE)
        pen = self.penalties(gx, gy)
        w = np.zeros(len(self.area))
        for _ in range(ITERATIONS):
            got = np.maximum(np.bincount(self.assign(gx, gy, w, pen), minlength=len(w)), 1) * COARSE**2
            w[self.balanced] += 0.5 * (self.area - got)[self.balanced] / math.pi
        return w


def build() -> dict[str, gpd.GeoDataFrame]:
    m = Model()
    w = m.solve()
    gx, gy = m.grid(FINE)
    x0, y0, x1, y1 = m.extent
    near = (gx > x0 - 3000) & (gx < x1 + 3000) & (gy > y0 - 3000) & (gy < y1 + 3000)
    gx, gy = gx[near], gy[near]
    arg = m.assign(gx, gy, w, m.penalties(gx, gy))
    inside = arg < m.nu
    gx, gy, arg = gx[inside], gy[inside], arg[inside]

    # Split each part among its legacy communes with a trusted point (nearest point wins).
    leg = m.leg
    label = np.empty(len(gx), dtype=object)
    for i, r in enumerate(m.units.itertuples()):
        cells = np.flatnonzero(arg == i)
        sib = leg[
            (leg["commune_2025_code"] == r.commune_2025_code)
            & (leg["district_code"] == r.district_code)
            & (leg["point_status"] == "ok")
        ]
        if sib.empty:
            label[cells] = f"part:{r.commune_2025_code}:{r.district_code}"
            continue
        d = (gx[cells, None] - sib["x"].to_numpy()[None, :]) ** 2 + (
            gy[cells, None] - sib["y"].to_numpy()[None, :]
        ) ** 2
        # Area-balanced as above, so a commune whose point lies off-centre still gets its share.
        share = sib["area_km2_est"].to_numpy() / sib["area_km2_est"].sum() * len(cells)
        w = np.zeros(len(sib))
        for _ in range(SPLIT_ITERATIONS):
            got = np.bincount((d - w).argmin(axis=1), minlength=len(sib))
            w += 0.5 * (share - got) * FINE**2 / math.pi
        label[cells] = sib["code"].to_numpy()[(d - w).argmin(axis=1)]

    half = FINE / 2
    cells_gs = shapely.box(gx - half, gy - half, gx + half, gy + half)
    labels = pd.Series(label)
    polys = {lab: shapely.coverage_union_all(cells_gs[(labels == lab).to_numpy()]) for lab in labels.unique()}
    codes = sorted(polys)
    simplified = shapely.coverage_simplify(np.array([polys[c] for c in codes]), SIMPLIFY)
    cover = gpd.GeoDataFrame({"label": codes}, geometry=list(simplified), crs=METRIC)
    cover["geometry"] = cover.geometry.make_valid()

    owner = leg.set_index("code")
    parts = {f"part:{r.commune_2025_code}:{r.district_code}": r for r in m.units.itertuples()}
    cover["district_code"] = [
        owner.at[c, "district_code"] if c in owner.index else parts[c].district_code for c in cover["label"]
    ]
    cover["commune_2025_code"] = [
        owner.at[c, "commune_2025_code"] if c in owner.index else parts[c].commune_2025_code for c in cover["label"]
    ]

    dis = gazetteer.districts()
    dgeo = cover.dissolve("district_code").geometry
    districts = gpd.GeoDataFrame(
        {
            "code": dis["code"],
            "name": dis["name"],
            "short": dis["short"],
            "source": "approximate",
            "precision_m": PRECISION_DISTRICTS_M,
        },
        geometry=[dgeo[c] for c in dis["code"]],
        crs=METRIC,
    )
    new = m.new
    cgeo = cover.dissolve("commune_2025_code").geometry
    communes = gpd.GeoDataFrame(
        {
            "code": new["code"],
            "name": new["name"],
            "short": new["short"],
            "type": new["type"],
            "area_km2": new["area_km2"],
            "source": "approximate",
            "precision_m": PRECISION_COMMUNES_M,
        },
        geometry=[cgeo[c] for c in new["code"]],
        crs=METRIC,
    )
    lgeo = cover.set_index("label").geometry
    n25 = new.set_index("code")
    legacy = gpd.GeoDataFrame(
        {
            "code": leg["code"],
            "name": leg["name"],
            "short": leg["short"],
            "district_code": leg["district_code"],
            "district": leg["district"],
            "commune_2025_code": leg["commune_2025_code"],
            "commune_2025": leg["commune_2025"],
            "source": "approximate",
            # No polygon without a trusted point: such communes are the gazetteer's fallback point.
            "precision_m": [
                max(PRECISION_COMMUNES_M, int(p)) if c in lgeo.index else int(n25.at[c25, "precision_m"])
                for c, p, c25 in zip(leg["code"], leg["precision_m"], leg["commune_2025_code"], strict=True)
            ],
        },
        geometry=[
            lgeo[c] if c in lgeo.index else shapely.Point(x, y)
            for c, x, y in zip(leg["code"], leg["x"], leg["y"], strict=True)
        ],
        crs=METRIC,
    )
    return {"districts": districts, "communes2025": communes, "communes_legacy": legacy}


def _metadata(layer: str) -> dict[str, Any]:
    return {
        "layer": f"{layer}_approximate",
        "source": "approximate",
        "approximate": True,
        "derived_from": gazetteer.SOURCE + "; neighbouring communes' points and areas from the same package",
        "licence": "MIT (derived by vpgeo from the MIT package vietnamadminunits)",
        "vintage": VINTAGE_NOTE,
        "method": (
            "area-balanced power diagram of gazetteer points on a 100 m grid (EPSG:5897), constrained by "
            "district and commune bounding boxes, coverage-simplified; NOT official boundaries"
        ),
        "built_by": "scripts/build_boundaries.py",
        "official_alternative": "vpgeo data fetch districts-dvhcvn / communes2025-vietnam3dmap",
    }


def write(layers: dict[str, gpd.GeoDataFrame]) -> list[Path]:
    OUT.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, gdf in layers.items():
        out = gdf.to_crs("EPSG:4326")
        out["geometry"] = shapely.set_precision(out.geometry.values, 1e-4)
        raw = json.loads(out.to_json(drop_id=True, to_wgs84=False))
        doc = {"type": "FeatureCollection", "metadata": _metadata(name), "features": raw["features"]}
        path = OUT / f"{name}_approximate.geojson"
        path.write_text(json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


def _boundary_p90(a: Any, b: Any) -> float:
    """90th percentile of the symmetric distance between two polygons' boundaries (metres)."""
    out = []
    for s, t in ((a, b), (b, a)):
        line = s.boundary
        pts = shapely.line_interpolate_point(line, np.arange(0, line.length, 50.0))
        out.append(shapely.distance(pts, t.boundary))
    return float(np.percentile(np.concatenate(out), 90))


def measure(reference: Path) -> None:
    """Print IoU and boundary distance of the shipped files against a reference folder (oracle only)."""
    pairs = [
        ("districts", "vinhphuc_districts_dvhcvn.geojson", "level2_id"),
        ("communes2025", "vinhphuc_communes2025_vietnam3dmap.geojson", "id"),
    ]
    for layer, ref_name, ref_key in pairs:
        ours = gpd.read_file(OUT / f"{layer}_approximate.geojson").to_crs(METRIC).set_index("code")
        ref = gpd.read_file(reference / ref_name).to_crs(METRIC).set_index(ref_key)
        ious, dists = [], []
        for code, geom in ref.geometry.items():
            a = ours.geometry[code]
            ious.append(a.intersection(geom).area / a.union(geom).area)
            dists.append(_boundary_p90(a, geom))
            if layer == "districts":
                print(f"  {ours.at[code, 'name']:<22} IoU {ious[-1]:.3f}  boundary p90 {dists[-1]:6.0f} m")
        print(
            f"{layer}: IoU min {min(ious):.3f} mean {np.mean(ious):.3f}; boundary p90 max {max(dists):.0f} m, "
            f"median {np.median(dists):.0f} m"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--measure", type=Path, help="reference folder to print IoU against (not stored)")
    args = ap.parse_args()
    for p in write(build()):
        print(f"wrote {p.relative_to(ROOT)} ({p.stat().st_size / 1024:.0f} KiB)")
    if args.measure:
        measure(args.measure)


if __name__ == "__main__":
    main()
