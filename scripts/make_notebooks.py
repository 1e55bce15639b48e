"""Write the notebooks in notebooks/ from the cells below, with no outputs (run them to see results).

Usage: python scripts/make_notebooks.py
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent.parent / "notebooks"

NOTEBOOKS: dict[str, list[tuple[str, str]]] = {
    "01_quickstart.ipynb": [
        (
            "md",
            """# vpgeo quickstart

Load the embedded sites, corridors and boundaries, geocode a small list of Vietnamese addresses, and draw the
map. Everything here runs offline on the data that ship with vpgeo.""",
        ),
        (
            "code",
            """import pandas as pd

import vpgeo

sites = vpgeo.load_sites()
sites[["site_id", "name", "kind", "phase", "area_ha", "commune_2025", "location_method", "precision_m"]].head(10)""",
        ),
        (
            "md",
            """Every layer says where it came from and how precise it is. A site placed at its commune's point is only as
precise as the commune is large: `precision_m` is the radius within which the site is expected.""",
        ),
        (
            "code",
            """print(sites.attrs["provenance"]["precision"])
sites["location_method"].value_counts()""",
        ),
        (
            "code",
            """corridors = vpgeo.load_corridors()
corridors[["corridor_id", "section", "name", "status", "priority", "precision_m"]]""",
        ),
        (
            "md",
            """Boundaries: this notebook uses the approximation shipped with vpgeo (`source="approx"`), so it runs
offline. `source="auto"` (the default) uses the official polygons when they are cached or downloadable (pinned
URL + sha256) and otherwise falls back to the approximation, with a warning saying how to get the official ones
(`vpgeo data fetch districts-dvhcvn`).""",
        ),
        (
            "code",
            """districts = vpgeo.load_districts(source="approx")
districts[["code", "name", "source", "precision_m"]]""",
        ),
        ("md", "## Geocode a list of addresses"),
        (
            "code",
            """todo = pd.DataFrame({"địa chỉ": [
    "Xã Duy Phiên, huyện Tam Dương, tỉnh Vĩnh Phúc",
    "TT. Hương Canh, Bình Xuyên",
    "xa Hop Thinh, Tam Duong",          # merged into Hội Thịnh before 2025
    "Xã Bình Nguyên",                    # a 2025 commune
    "Xuân Hòa",                          # two units have this name
    "Sóc Sơn, Hà Nội",                   # outside the province
]})
placed = vpgeo.geocode(todo, address="địa chỉ", boundaries="approx")
placed[["địa chỉ", "commune", "district", "commune_2025", "match_status", "precision_m", "candidates"]]""",
        ),
        ("md", "## The map (one offline HTML file)"),
        (
            "code",
            """m = vpgeo.plan_map(sites=sites, corridors=corridors, districts=districts,
                   access_points=vpgeo.load_access_points(), title="Vĩnh Phúc — quickstart")
vpgeo.save_map(m, "quickstart_map.html")
m""",
        ),
    ],
    "02_plan_check.ipynb": [
        (
            "md",
            """# Checking the plan: the priority-along-corridors rule and the targets

Decision 158/QĐ-TTg puts new industrial parks along CT.05, Ring Road 4 and Ring Road 5. For each site vpgeo
measures the distance `d` to the nearest of these corridors (EPSG:5897), adds the site's and the corridor's
positional uncertainty `p`, and says **yes** if `d + p ≤ B`, **no** if `d − p > B`, else **uncertain**.""",
        ),
        (
            "code",
            """import pandas as pd

import vpgeo

result = vpgeo.check_priority_rule(buffer_km=5)
result.rule""",
        ),
        (
            "code",
            """cols = ["site_id", "name", "phase", "distance_km", "nearest_corridor", "precision_m", "uncertainty_m",
        "within_buffer"]
result.table.loc[result.table["rule_applies"], cols]""",
        ),
        (
            "md",
            """## How the verdicts change with the buffer

Verdicts are monotone: a larger buffer never turns a *yes* into a *no*.""",
        ),
        (
            "code",
            """rows = []
for b in (2, 5, 10, 15, 20):
    r = vpgeo.check_priority_rule(buffer_km=b)
    rows.append({"buffer_km": b, **r.counts["applicable"]})
pd.DataFrame(rows)""",
        ),
        (
            "md",
            """## Why so many verdicts are uncertain

The embedded positions are commune points (a few km) and the corridor lines are drawn between named
interchanges (1–6 km). Where `p` is as large as the buffer, no honest verdict is possible: replace the
embedded layers with surveyed ones (see notebook 4) and the verdicts sharpen.""",
        ),
        (
            "code",
            """t = result.table[result.table["rule_applies"]]
t[["name", "location_method", "precision_m", "uncertainty_m", "distance_km"]].sort_values("uncertainty_m")""",
        ),
        (
            "md",
            """## Which "Ring Road 4"?

The Capital-Region Ring Road 4 never enters the province; Vĩnh Phúc's documents also call its own ring road IV
"vành đai 4". Compare both readings.""",
        ),
        (
            "code",
            """for name in ("plan", "plan-provincial-rr4"):
    r = vpgeo.check_priority_rule(buffer_km=5, corridor_set=name)
    print(name, r.rule["corridors"], r.counts["applicable"])""",
        ),
        ("md", "## The plan's targets against the data"),
        ("code", """pd.DataFrame(result.targets).T[["label_en", "plan", "in_data", "gap", "how_counted"]]"""),
        (
            "code",
            """print(result.coverage["statement_en"])
result.by_district""",
        ),
    ],
    "03_scoring.ipynb": [
        (
            "md",
            """# Scoring candidate sites

Score candidates by how well they sit on the priority corridors: exact metric distance, a decay function,
optional weights and exclusions; then check how stable the ranking is, and draw a suitability surface.""",
        ),
        (
            "code",
            """import geopandas as gpd
import numpy as np

import vpgeo
from vpgeo.scoring import score_candidates, sensitivity
from vpgeo.surface import suitability_surface

districts = vpgeo.load_districts(source="approx")
rng = np.random.default_rng(42)
area = districts.to_crs("EPSG:5897").union_all()
minx, miny, maxx, maxy = area.bounds
xy = rng.uniform((minx, miny), (maxx, maxy), size=(3000, 2))
pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs="EPSG:5897")
candidates = pts[pts.within(area)].reset_index(drop=True)
len(candidates)""",
        ),
        (
            "code",
            """scored = score_candidates(candidates, decay="linear", max_km=10)
scored.sort_values("rank").head(10)""",
        ),
        ("md", "## Decay functions"),
        (
            "code",
            """for decay in ("linear", "exponential", "gaussian", "step"):
    s = score_candidates(candidates, decay=decay, half_distance_km=5, max_km=10)
    print(f"{decay:12s} mean score {s['score'].mean():.3f}  share above 0.5: {(s['score'] > 0.5).mean():.2f}")""",
        ),
        ("md", "## How stable is the ranking?"),
        (
            "code",
            """table = sensitivity(candidates)
print(table.attrs["summary"])  # says plainly whether the ranking is robust to what was varied
table""",
        ),
        ("md", "## A suitability surface (raster distance transform)"),
        (
            "code",
            """surf = suitability_surface(resolution_m=200)
surf""",
        ),
        (
            "code",
            """m = vpgeo.plan_map(corridors=vpgeo.load_corridors(priority_only=True), districts=districts,
                   candidates=scored.head(500), surface=surf, title="Candidates and suitability")
m""",
        ),
    ],
    "04_bring_your_own_data.ipynb": [
        (
            "md",
            """# Bring your own data

Planners hold official layers, often in VN-2000, and site lists in Excel with Vietnamese headers. This notebook
writes both (from vpgeo's own data, standing in for yours) and runs the whole report on them.""",
        ),
        (
            "code",
            """import tempfile
from pathlib import Path

import pandas as pd

import vpgeo

tmp = tempfile.TemporaryDirectory(prefix="vpgeo-byo-")  # removed in the last cell
work = Path(tmp.name)
# an "official" corridor layer: a shapefile in EPSG:5897 (VN-2000 / TM-3 105°00′), as provincial offices keep
# them, with Vietnamese field names (a Shapefile's field names have at most 10 characters; vpgeo recognises
# ma, ten, loai, trang_thai, uu_tien and precision)
fields = {"corridor_id": "ma", "name": "ten", "kind": "loai", "status": "trang_thai", "priority": "uu_tien",
          "precision_m": "precision"}
official = vpgeo.load_corridors(priority_only=True).to_crs("EPSG:5897")
official[[*fields, "geometry"]].rename(columns=fields).to_file(work / "hanh_lang.shp", encoding="utf-8")
sorted(p.name for p in work.iterdir())""",
        ),
        (
            "code",
            """# a site list from Excel, Vietnamese headers, a decimal comma and one bad row
sites = pd.DataFrame({
    "Tên": ["KCN Ứng viên A", "CCN Ứng viên B", "KCN Ứng viên C", "Dòng lỗi"],
    "Loại": ["Khu công nghiệp", "Cụm công nghiệp", "KCN", "KCN"],
    "Diện tích (ha)": ["250", "52,6", "180", "-5"],
    "Xã": ["Xã Đạo Tú", "Xã Tề Lỗ", "", "Xã Kim Xá"],
    "Huyện": ["Tam Dương", "Yên Lạc", "", "Vĩnh Tường"],
    "Kinh độ": [None, None, 105.62, None],
    "Vĩ độ": [None, None, 21.33, None],
    "Giai đoạn": ["new_2030", "new_2030", "new_2030", "new_2030"],
})
sites.to_excel(work / "danh_sach.xlsx", index=False)
sites""",
        ),
        (
            "code",
            """res = vpgeo.build_report(work / "report", sites=work / "danh_sach.xlsx", corridors=work / "hanh_lang.shp",
                         boundaries="approx", png=False)
sorted(Path(f).name for f in res.files)""",
        ),
        (
            "code",
            """res.result.table[["site_id", "name", "kind", "area_ha", "commune_2025", "distance_km", "uncertainty_m",
                  "within_buffer", "flags"]]""",
        ),
        ("code", """res.rejects  # every input row ends in the output or here, with its reason"""),
        (
            "md",
            """## A VN-2000 definition without the datum shift is refused

A PROJ.4 string for the TM-3 grid without `towgs84` puts points about 224 m off. vpgeo refuses it.""",
        ),
        (
            "code",
            """try:
    vpgeo.check_crs("+proj=tmerc +lon_0=105 +k=0.9999 +x_0=500000 +ellps=WGS84 +units=m", operation="demo")
except vpgeo.CRSError as exc:
    print(exc)""",
        ),
        ("md", "Clean up: the temporary folder and everything written in it."),
        (
            "code",
            """tmp.cleanup()
work.exists()""",
        ),
    ],
}


def main() -> None:
    HERE.mkdir(exist_ok=True)
    for name, cells in NOTEBOOKS.items():
        nb = new_notebook(
            cells=[new_markdown_cell(src) if kind == "md" else new_code_cell(src) for kind, src in cells],
            metadata={
                "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                "language_info": {"name": "python"},
            },
        )
        for i, cell in enumerate(nb.cells):
            cell["id"] = f"c{i:02d}"  # stable ids: no churn in diffs
        nbformat.write(nb, HERE / name)
        print("wrote", HERE / name)


if __name__ == "__main__":
    main()
