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
script: the shipped files must derive from the gazetteer only. ``--measure DIR`` prints IoU against a
reference folder after the files are written and stores NUMBERS only (each unit's measured error, in metres)
in ``data/boundaries/precision_measured.json``, which the next build uses for ``precision_m``.

Usage::

    python scripts/build_boundaries.py              # rebuild data/boundaries/*.geojson
    python scripts/build_boundaries.py --measure ../shared/data/reference
"""

from __future__ import annotations

import argparse
import json
import math
import os
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from vpgeo import downloads, gazetteer

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "data" / "boundaries"
MEASURED = OUT / "precision_measured.json"  # per-unit outline error, written by --measure (numbers only)
METRIC = "EPSG:5897"
_T = Transformer.from_crs("EPSG:4326", METRIC, always_xy=True)

# Grid and solver settings (metres, m²). Chosen once; see the module docstring for what each does.
COARSE = 250.0  # grid step while iterating the weights
FINE = 100.0  # grid step of the final labelling
# Only a few area-balancing steps: full balancing to the known areas lowered the mean IoU (0.78 vs 0.80
# measured), since convex cells cannot take the true shapes; three steps fix the grossest area errors.
ITERATIONS = 3
SPLIT_ITERATIONS = 40  # balancing of legacy communes inside their part (ensures each gets a share)
BBOX_PLAUSIBLE = (0.2, 8.0)  # legacy bbox area / estimated area outside this → bogus bbox, ignored
BBOX_DILATE = 500.0
BBOX_PENALTY = 4e6  # (2 km)²: soft, a cell may leave its bboxes if the areas demand it
SIMPLIFY = 200.0  # coverage simplification tolerance, removes the grid's staircase

PRECISION_DISTRICTS_M = 2500  # fallbacks when data/boundaries/precision_measured.json is absent
PRECISION_COMMUNES_M = 6100

PRECISION_NOTE = (
    "precision_m = the largest distance between each unit's outline and the official one (dvhcvn districts, "
    "vietnam-3d-map 2025 communes, both ways, every 50 m), rounded up to 100 m; measured by "
    "`python scripts/build_boundaries.py --measure-only --measure ../shared/data/reference`"
)
PRECISION_NOTE_LEGACY = (
    "precision_m = the widening that makes each legacy polygon contain the independent polygon of that commune "
    "(vietnam63 communes, ≈2016; a commune merged since then: the union of its former communes): the largest "
    "distance from that polygon (its outline every 20 m and its vertices) to ours, plus {allowance} m for "
    "vietnam63's own error (the largest distance from an official outline, vietnam-3d-map 2025 communes and "
    "dvhcvn districts, to vietnam63's union of the same communes), rounded up to 100 m; a commune drawn as a "
    "Point (untrusted gazetteer point), or without a measurement, takes its 2025 commune's precision_m; "
    "measured by `python scripts/build_boundaries.py --measure-only --measure ../shared/data/reference`"
)
# legacy communes: the independent oracle (≈2016, before the 2019/2024 mergers) and its sampling step
LEGACY_REFERENCE = "vinhphuc_communes_vietnam63.geojson"
LEGACY_STEP = 20.0
VINTAGE_NOTE = "gazetteer vietnamadminunits 1.0.4 (2025 units; legacy units as of 30 June 2025)"


def _xy(lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
    x, y = _T.transform(np.asarray(lon, float), np.asarray(lat, float))
    return np.asarray(x), np.asarray(y)


WOF_OWNER, WOF_REPO = "whosonfirst-data", "whosonfirst-data-admin-vn"
WOF_COMMIT = "36f4852c8e50b5637c140715b5d896c01baf2dd1"
WOF_LICENCE = "CC0-1.0 (Data from Who's On First; https://whosonfirst.org/docs/licenses/)"
WOF_CREDIT = "Data from Who's On First"
# wof:id -> sha256 of data/110/878/<id[6:9]>/<id[9]>/<id>.geojson (the 9 districts of the former Vĩnh Phúc)
WOF_FILES = {
    "1108781195": "456b786182e32e583403b4c93bd76cb823734aeb48d9c95ccfbf1c3ca5208007",
    "1108781197": "875b28bb5d9d88343024813d4e7b5a3f7bf9c1857ac75120505ac098fca206f7",
    "1108781201": "23e56b967a3dfbf08700b3f83650d0345a1754ea73251418856b7d32923c662a",
    "1108781203": "e175525f5fca796eed7bdaad81d765f78c5f09c166bfc5e75ea368b93ef03745",
    "1108781205": "4b12c68e57a0f68b61cf6d1fbb46f05978f594f35a6d759e60e4a089e6e31f60",
    "1108781207": "08ed2863e9719db768ed2dab7b396c40ed2d6d533f70735b123aaae41cd55942",
    "1108781209": "a09af0a8baef0fa44bf1e39918bfbdad70cb982ee2600cf916306367c6197432",
    "1108781211": "f79265ccf3a5d6eaa638f9c7e022772bfe26a6529112ded00969fd0809959d56",
    "1108781213": "169a0651ce5c5efbd45f1724374974b872dd143778d3178c2c05d6f924ffcdf8",
}


def wof_path(wof_id: str) -> str:
    return f"data/{wof_id[:3]}/{wof_id[3:6]}/{wof_id[6:9]}/{wof_id[9:]}/{wof_id}.geojson"


def _register_wof() -> list[str]:
    names = []
    for wof_id, sha in WOF_FILES.items():
        src = downloads.PinnedSource(
            name=f"district-wof-{wof_id}",
            description=f"Who's On First county {wof_id} (a district of the former Vĩnh Phúc)",
            licence=WOF_LICENCE,
            vintage="Who's On First admin-vn @ 36f4852c (geometry source meso)",
            owner=WOF_OWNER,
            repo=WOF_REPO,
            commit=WOF_COMMIT,
            path=wof_path(wof_id),
            sha256=sha,
        )
        names.append(downloads.register_source(src).name)
    return names


def wof_districts(mirror: str | None = None) -> gpd.GeoDataFrame:
    """The 9 districts from the pinned Who's On First files (fetched and verified; EPSG:5897, index = code).

    Joined on ``meso:local_id`` (province 26 + GSO district code): ``hasc:id`` repeats Lập Thạch's code for
    Sông Lô. Overlaps between neighbours (slivers) go to the district listed first by code.
    """
    if mirror:
        os.environ["VPGEO_DATA_MIRROR"] = mirror
    codes, geoms = [], []
    for name in _register_wof():
        raw = json.loads(downloads.fetch(name).read_text(encoding="utf-8"))
        local = str(raw["properties"]["meso:local_id"])
        assert local.startswith(gazetteer.PROVINCE_CODE), local
        codes.append(local[len(gazetteer.PROVINCE_CODE) :])
        geoms.append(shapely.make_valid(shapely.geometry.shape(raw["geometry"])))
    gdf = gpd.GeoDataFrame({"code": codes}, geometry=geoms, crs="EPSG:4326").to_crs(METRIC)
    gdf = gdf.sort_values("code").set_index("code")
    assert sorted(gdf.index) == sorted(gazetteer.districts()["code"]), sorted(gdf.index)
    taken = shapely.Polygon()
    out = []
    for geom in gdf.geometry:
        out.append(shapely.make_valid(geom.difference(taken)))
        taken = taken.union(geom)
    gdf["geometry"] = out
    return gdf


class Model:
    """Units, generator sites and penalties of the power diagram."""

    def __init__(self, districts: gpd.GeoDataFrame) -> None:
        self.wof = districts  # metric, index = district code
        self.new = gazetteer.communes_2025()
        self.leg = gazetteer.legacy_communes()
        self.dis = gazetteer.districts().set_index("code")
        leg = self.leg
        leg["x"], leg["y"] = _xy(leg["lon"], leg["lat"])
        x0, y0, x1, y1 = (float(v) for v in districts.total_bounds)
        self.extent = (x0, y0, x1, y1)
        self.window = (x0 - 1000.0, y0 - 1000.0, x1 + 1000.0, y1 + 1000.0)

        units = leg.groupby(["commune_2025_code", "district_code"]).size().reset_index(name="n")
        total = leg.groupby("commune_2025_code").size()
        a25 = self.new.set_index("code")["area_km2"]
        # A 2025 commune spanning two districts is split by its legacy communes' count (areas unknown).
        units["area"] = [
            a25[c] * n / total[c] * 1e6 for c, n in zip(units["commune_2025_code"], units["n"], strict=True)
        ]
        # the parts of a district share the district's outline area (Who's On First), in the gazetteer's ratios
        d_area = districts.geometry.area
        units["area"] *= units["district_code"].map(d_area / units.groupby("district_code")["area"].sum())
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
        self.sx, self.sy, self.su = np.array(sx), np.array(sy), np.array(su)
        self.area = units["area"].to_numpy()
        self.balanced = np.ones(len(self.area), dtype=bool)
        self.unit_district = units["district_code"].to_numpy()

        boxes = gpd.GeoSeries([shapely.box(*bb) for bb in leg["bbox"]], crs="EPSG:4326").to_crs(METRIC)
        ratio = boxes.area.to_numpy() / 1e6 / leg["area_km2_est"].to_numpy()
        plausible = (ratio > BBOX_PLAUSIBLE[0]) & (ratio < BBOX_PLAUSIBLE[1]) & (leg["point_status"] == "ok").to_numpy()
        self.regions: list[Any] = []
        for r in units.itertuples():
            m = plausible & (leg["commune_2025_code"] == r.commune_2025_code).to_numpy()
            m &= (leg["district_code"] == r.district_code).to_numpy()
            self.regions.append(boxes[m].union_all().buffer(BBOX_DILATE) if m.any() else None)

    def grid(self, step: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Cell centres inside the districts, and each cell's district code."""
        x0, y0, x1, y1 = self.window
        gx, gy = np.meshgrid(np.arange(x0, x1, step) + step / 2, np.arange(y0, y1, step) + step / 2)
        gx, gy = gx.ravel(), gy.ravel()
        dist = np.full(gx.shape, "", dtype=object)
        for code, geom in self.wof.geometry.items():
            dist[shapely.contains_xy(geom, gx, gy)] = code
        keep = dist != ""
        return gx[keep], gy[keep], dist[keep]

    def penalties(self, gx: np.ndarray, gy: np.ndarray, dist: np.ndarray) -> np.ndarray:
        pen = np.zeros((self.nu, len(gx)), dtype=np.float64)
        for i, r in enumerate(self.units.itertuples()):
            reg = self.regions[i]
            if reg is not None:
                pen[i, ~shapely.contains_xy(reg, gx, gy)] = BBOX_PENALTY
            pen[i, dist != r.district_code] = np.inf  # a part never leaves its district
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
        gx, gy, dist = self.grid(COARSE)
        pen = self.penalties(gx, gy, dist)
        w = np.zeros(len(self.area))
        for _ in range(ITERATIONS):
            got = np.maximum(np.bincount(self.assign(gx, gy, w, pen), minlength=len(w)), 1) * COARSE**2
            w[self.balanced] += 0.5 * (self.area - got)[self.balanced] / math.pi
        return w


def _split_parts(m: Model, gx: np.ndarray, gy: np.ndarray, arg: np.ndarray) -> np.ndarray:
    """Split each part among its legacy communes with a trusted point (nearest point wins, area-balanced)."""
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
    return label


def build(mirror: str | None = None) -> dict[str, gpd.GeoDataFrame]:
    wof = wof_districts(mirror)
    m = Model(wof)
    w = m.solve()
    gx, gy, dist = m.grid(FINE)
    arg = m.assign(gx, gy, w, m.penalties(gx, gy, dist))
    label = _split_parts(m, gx, gy, arg)
    leg = m.leg

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
    # the grid's outline is the district outline to 100 m: clip to the outline itself, so units nest exactly
    clip = wof.geometry.reindex(cover["district_code"]).to_numpy()
    cover["geometry"] = shapely.make_valid(shapely.intersection(cover.geometry.to_numpy(), clip))

    prec = json.loads(MEASURED.read_text(encoding="utf-8")) if MEASURED.is_file() else {}
    p_dis = prec.get("districts", {})
    p_new = prec.get("communes2025", {})
    p_leg = prec.get("communes_legacy", {})
    dis = gazetteer.districts()
    dgeo = wof.geometry
    districts = gpd.GeoDataFrame(
        {
            "code": dis["code"],
            "name": dis["name"],
            "short": dis["short"],
            "source": "approximate",
            "precision_m": [p_dis.get(c, PRECISION_DISTRICTS_M) for c in dis["code"]],
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
            "precision_m": [p_new.get(c, PRECISION_COMMUNES_M) for c in new["code"]],
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
            # A polygon: the widening measured to contain its independent polygon (--measure); without a
            # measurement, its 2025 commune's outline error (which says nothing of the inner edges).
            "precision_m": [
                p_leg.get(c, p_new.get(c25, PRECISION_COMMUNES_M))
                if c in lgeo.index
                else int(n25.at[c25, "precision_m"])
                for c, c25 in zip(leg["code"], leg["commune_2025_code"], strict=True)
            ],
        },
        geometry=[
            lgeo[c] if c in lgeo.index else shapely.Point(x, y)
            for c, x, y in zip(leg["code"], leg["x"], leg["y"], strict=True)
        ],
        crs=METRIC,
    )
    return {"districts": districts, "communes2025": communes, "communes_legacy": legacy}


def _precision_note(layer: str) -> str:
    if layer != "communes_legacy":
        return PRECISION_NOTE
    prec = json.loads(MEASURED.read_text(encoding="utf-8")) if MEASURED.is_file() else {}
    allowance = prec.get("communes_legacy_oracle_allowance_m")
    if allowance is None:  # never measured: the fallback for every polygon
        return (
            "precision_m = its 2025 commune's; " + PRECISION_NOTE + " (inner edges between legacy communes unmeasured)"
        )
    return PRECISION_NOTE_LEGACY.format(allowance=allowance)


def _metadata(layer: str) -> dict[str, Any]:
    wof = (
        f"{WOF_CREDIT}: district outlines from {WOF_OWNER}/{WOF_REPO}@{WOF_COMMIT} "
        f"({', '.join(wof_path(i) for i in WOF_FILES)}), licence {WOF_LICENCE}"
    )
    method = {
        "districts": "Who's On First district polygons, slivers between neighbours removed; NOT official boundaries",
        "communes2025": (
            "area-balanced power diagram of gazetteer points on a 100 m grid (EPSG:5897) inside the Who's On "
            "First districts, dissolved to 2025 communes; NOT official boundaries"
        ),
        "communes_legacy": (
            "area-balanced power diagram of gazetteer points on a 100 m grid (EPSG:5897) inside the Who's On "
            "First districts; NOT official boundaries"
        ),
    }[layer]
    return {
        "layer": f"{layer}_approximate",
        "source": "approximate",
        "approximate": True,
        "derived_from": wof if layer == "districts" else f"{gazetteer.SOURCE}; {wof}",
        "credit": WOF_CREDIT,
        "licence": WOF_LICENCE if layer == "districts" else f"MIT (vietnamadminunits) and {WOF_LICENCE}",
        "licence_url": "https://whosonfirst.org/docs/licenses/",
        "vintage": VINTAGE_NOTE,
        "method": method,
        "precision": _precision_note(layer),
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


def _boundary_distances(a: Any, b: Any) -> np.ndarray:
    """Distances (m) from points every 50 m along each outline to the other outline (both ways)."""
    out = []
    for s_, t in ((a, b), (b, a)):
        line = s_.boundary
        pts = shapely.line_interpolate_point(line, np.arange(0, line.length, 50.0))
        out.append(shapely.distance(pts, t.boundary))
    return np.concatenate(out)


def _random_points(outline: Any, n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = outline.bounds
    pts: list[Any] = []
    while len(pts) < n:
        cand = shapely.points(rng.uniform(x0, x1, 4 * n), rng.uniform(y0, y1, 4 * n))
        pts.extend(cand[shapely.contains(outline, cand)])
    return np.array(pts[:n])


def _directed_distance(src: Any, dst: Any, step: float = LEGACY_STEP) -> float:
    """How far ``src`` reaches out of ``dst`` (m): the widening of ``dst`` that contains ``src``, as a bound.

    The farthest point of a polygon from another lies on its outline: sampled every ``step`` m and at its
    vertices; a point between two samples is at most ``step / 2`` farther, which is added.
    """
    line = src.boundary
    pts = shapely.line_interpolate_point(line, np.arange(0.0, line.length, step))
    pts = np.concatenate([pts, shapely.points(shapely.get_coordinates(src))])
    return float(shapely.distance(pts, dst).max()) + step / 2


def _legacy_oracle(reference: Path, leg: gpd.GeoDataFrame) -> dict[str, Any]:
    """Each legacy commune's independent polygon: vietnam63's commune of its name in its district, or the
    union of the former communes merged into it (``data/facts/commune_mergers.csv``). Oracle only."""
    from vpgeo.boundaries import load_mergers
    from vpgeo.text import key

    ref = gpd.read_file(reference / LEGACY_REFERENCE).to_crs(METRIC)
    rk = np.array([key(n) for n in ref["commune_vn"]])
    rd = np.array([key(n) for n in ref["district_vn"]])
    merged = load_mergers().groupby("code")["merged_name"].agg(list)
    out: dict[str, Any] = {}
    used = np.zeros(len(ref), dtype=bool)
    for code, name, district in zip(leg["code"], leg["name"], leg["district"], strict=True):
        names = {key(name)} | {key(n) for n in merged.get(code, [])}
        hit = (rd == key(district)) & np.isin(rk, sorted(names))
        if hit.any():
            out[str(code)] = shapely.union_all(ref.geometry.to_numpy()[hit])
        used |= hit
    print(f"{LEGACY_REFERENCE}: {len(out)} of {len(leg)} legacy communes matched, {int((~used).sum())} polygons unused")
    return out


def _oracle_allowance(reference: Path, oracle: dict[str, Any], leg: gpd.GeoDataFrame) -> dict[str, int]:
    """vietnam63's own error where a better oracle exists: the largest distance (m, rounded up) from an
    official outline to vietnam63's union of the same legacy communes (2025 communes, districts)."""
    out = {}
    for label, ref_name, ref_key, col in (
        ("communes2025_vietnam3dmap", "vinhphuc_communes2025_vietnam3dmap.geojson", "id", "commune_2025_code"),
        ("districts_dvhcvn", "vinhphuc_districts_dvhcvn.geojson", "level2_id", "district_code"),
    ):
        ref = gpd.read_file(reference / ref_name).to_crs(METRIC)
        members = leg.groupby(col)["code"].agg(list)
        worst = 0.0
        for unit, geom in zip(ref[ref_key].astype(str), ref.geometry, strict=True):
            union = shapely.union_all([oracle[c] for c in members[unit] if c in oracle])
            worst = max(worst, _directed_distance(geom, union))
        out[label] = math.ceil(worst)
    return out


def _measure_legacy(reference: Path) -> dict[str, Any]:
    """Per legacy polygon: the widening that contains its independent polygon, plus the oracle's own error."""
    ours = gpd.read_file(OUT / "communes_legacy_approximate.geojson").to_crs(METRIC)
    for col in ("code", "commune_2025_code", "district_code"):
        ours[col] = ours[col].astype(str)
    oracle = _legacy_oracle(reference, ours)
    allowance = _oracle_allowance(reference, oracle, ours)
    extra = max(allowance.values())
    per_code, raw = {}, []
    for code, geom in zip(ours["code"], ours.geometry, strict=True):
        if geom.geom_type == "Point" or code not in oracle:  # no polygon: nothing to widen
            continue
        raw.append(_directed_distance(oracle[code], geom))
        per_code[code] = int(math.ceil((raw[-1] + extra) / 100) * 100)
    print(
        f"communes_legacy: {len(per_code)} polygons; reach of the independent polygon out of ours median "
        f"{np.median(raw):.0f} m, max {max(raw):.0f} m; oracle allowance {extra} m ({allowance})"
    )
    return {
        "communes_legacy": per_code,
        "communes_legacy_oracle_allowance_m": extra,
        "communes_legacy_oracle_allowance_by_reference_m": allowance,
        "communes_legacy_statistic": (
            "largest distance from the vietnam63 polygon (every 20 m + vertices, + 10 m) to ours, "
            "plus the oracle allowance, rounded up to 100 m"
        ),
    }


def measure(reference: Path, n_points: int = 20_000) -> dict[str, float]:
    """Print, against a reference folder (oracle only, nothing stored): outline errors, and for ``n_points``
    uniform random points inside the province the geocoder's district right %, 2025 commune right %,
    ``outside`` % and boundary-note % with the shipped approximate layers."""
    import pandas as pd

    from vpgeo.geocoding import geocode

    pairs = [
        ("districts", "vinhphuc_districts_dvhcvn.geojson", "level2_id"),
        ("communes2025", "vinhphuc_communes2025_vietnam3dmap.geojson", "id"),
    ]
    refs = {}
    measured: dict[str, Any] = {}
    for layer, ref_name, ref_key in pairs:
        ours = gpd.read_file(OUT / f"{layer}_approximate.geojson").to_crs(METRIC).set_index("code")
        ref = gpd.read_file(reference / ref_name).to_crs(METRIC)
        ref[ref_key] = ref[ref_key].astype(str)
        ref = ref.set_index(ref_key)
        refs[layer] = ref
        ious, p99, mx = [], [], []
        for code, geom in ref.geometry.items():
            a = ours.geometry[code]
            ious.append(a.intersection(geom).area / a.union(geom).area)
            d = _boundary_distances(a, geom)
            p99.append(float(np.percentile(d, 99)))
            mx.append(float(d.max()))
            # the bound, not a percentile: a stated precision must cover the largest error measured
            measured.setdefault(layer, {})[str(code)] = int(math.ceil(mx[-1] / 100) * 100)
        print(
            f"{layer}: IoU min {min(ious):.3f} mean {np.mean(ious):.3f}; outline distance p99 max over units "
            f"{max(p99):.0f} m (median {np.median(p99):.0f} m), max {max(mx):.0f} m"
        )
    measured.update(_measure_legacy(reference))
    measured["statistic"] = "largest outline distance (both ways, every 50 m), rounded up to 100 m"
    measured["against"] = (
        "dvhcvn districts @ 4b1b6b59, vietnam-3d-map 2025 communes @ dc6095c4, "
        "vietnam63 communes @ 90ac14b5 (legacy communes; numbers only)"
    )
    MEASURED.write_text(json.dumps(measured, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {MEASURED.relative_to(ROOT)} (per-unit precision; rebuild to apply it)")
    province = gpd.read_file(reference / "vinhphuc_province_dvhcvn.geojson").to_crs(METRIC).geometry.union_all()
    pts = gpd.GeoSeries(_random_points(province, n_points), crs=METRIC)
    truth_d = gpd.sjoin(gpd.GeoDataFrame(geometry=pts), refs["districts"][["geometry"]], predicate="within")
    truth_c = gpd.sjoin(gpd.GeoDataFrame(geometry=pts), refs["communes2025"][["geometry"]], predicate="within")
    ll = pts.to_crs("EPSG:4326")
    got = geocode(pd.DataFrame({"lon": ll.x, "lat": ll.y}), lon="lon", lat="lat", boundaries="approx")
    td = truth_d.groupby(level=0)[truth_d.columns[-1]].first().reindex(range(n_points))
    tc = truth_c.groupby(level=0)[truth_c.columns[-1]].first().reindex(range(n_points))
    res = {
        "district_right": float((got["district_code"].to_numpy() == td.to_numpy()).mean()),
        "commune2025_right": float((got["commune_2025_code"].to_numpy() == tc.to_numpy()).mean()),
        "outside": float((got["match_status"] == "outside").mean()),
        "boundary_note": float(got["match_note"].fillna("").str.contains("boundary").mean()),
    }
    print(
        f"{n_points:,} uniform random points inside the province, geocoded offline: district right "
        f"{res['district_right']:.1%}, 2025 commune right {res['commune2025_right']:.1%}, outside "
        f"{res['outside']:.2%}, with a boundary note {res['boundary_note']:.1%}"
    )
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--measure", type=Path, help="reference folder to measure against (only the measured numbers are stored)"
    )
    ap.add_argument("--measure-only", action="store_true", help="measure the shipped files, do not rebuild")
    ap.add_argument(
        "--mirror",
        help="VPGEO_DATA_MIRROR for the pinned Who's On First files (default: $VPGEO_DATA_MIRROR, else GitHub)",
    )
    args = ap.parse_args()
    if not args.measure_only:
        for p in write(build(args.mirror)):
            print(f"wrote {p.relative_to(ROOT)} ({p.stat().st_size / 1024:.0f} KiB)")
    if args.measure:
        measure(args.measure)


if __name__ == "__main__":
    main()
