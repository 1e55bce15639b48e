"""Run every ``vpgeo`` command that README.md shows, on a plain install, in a fresh folder (a CI step).

The README's examples name files a user would have (``my_sites.xlsx``, ``official_roads.shp`` …); this script
writes small real ones of each kind first, from the embedded data, then runs each command and checks that it
exits 0. Commands that need an official layer use ``VPGEO_DATA_MIRROR`` when it is set, else the mirror in
../shared when present; without either they are reported as skipped (no network here).

Usage: python scripts/check_readme_commands.py [--readme README.md]
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
NEEDS_OFFICIAL = ("--boundaries official", "data fetch")


def readme_commands(readme: Path) -> list[str]:
    """The ``vpgeo …`` lines of the README's bash blocks, without their trailing comments."""
    out: list[str] = []
    for block in re.findall(r"```bash\n(.*?)```", readme.read_text(encoding="utf-8"), flags=re.S):
        for line in block.splitlines():
            line = line.strip()
            if line.startswith("vpgeo "):
                out.append(shlex.join(shlex.split(line, comments=True)))
    return out


def write_inputs(folder: Path) -> None:
    """Small real inputs of every kind the README names, made from the embedded data."""
    import geopandas as gpd
    import pandas as pd

    import vpgeo

    sites = vpgeo.load_sites()
    placed = sites[~sites.geometry.isna()].head(6)
    pd.DataFrame(
        {
            "Tên khu": placed["name"].to_numpy(),
            "Loại": placed["kind"].to_numpy(),
            "Diện tích (ha)": placed["area_ha"].to_numpy(),
            "Kinh độ": placed.geometry.x.round(5).to_numpy(),
            "Vĩ độ": placed.geometry.y.round(5).to_numpy(),
        }
    ).to_excel(folder / "my_sites.xlsx", index=False)
    roads = vpgeo.load_corridors()[["corridor_id", "name", "kind", "geometry"]].to_crs("EPSG:5897")
    roads = roads.rename(columns={"corridor_id": "id"})  # Shapefile field names stop at 10 characters
    roads.to_file(folder / "official_roads.shp", engine="pyogrio")
    addresses = [
        "Xã Đạo Tú, huyện Tam Dương, tỉnh Vĩnh Phúc",
        "Phường Khai Quang, TP Vĩnh Yên, Vĩnh Phúc",
        "Thị trấn Hương Canh, Bình Xuyên, Vĩnh Phúc",
    ]
    pd.DataFrame({"Tên": ["A", "B", "C"], "Địa chỉ": addresses}).to_excel(folder / "list.xlsx", index=False)
    pd.DataFrame({"Tên": ["A", "B", "C"], "Địa chỉ": addresses}).to_csv(folder / "list.csv", index=False)
    pd.DataFrame({"id": [1, 2], "x": [105.60, 105.70], "y": [21.30, 21.25]}).to_csv(folder / "points.csv", index=False)
    cand = gpd.GeoDataFrame(
        {"id": range(50)},
        geometry=gpd.points_from_xy([105.45 + 0.006 * i for i in range(50)], [21.22 + 0.003 * i for i in range(50)]),
        crs="EPSG:4326",
    )
    cand.to_parquet(folder / "candidates.parquet")


def _mirror() -> str | None:
    if os.environ.get("VPGEO_DATA_MIRROR"):
        return os.environ["VPGEO_DATA_MIRROR"]
    shared = HERE.parent / "shared" / "data" / "mirror"
    return shared.as_uri() + "/" if shared.is_dir() else None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--readme", type=Path, default=HERE / "README.md")
    args = ap.parse_args(argv)
    commands = readme_commands(args.readme)
    if not commands:
        print(f"{args.readme}: no vpgeo commands found", file=sys.stderr)
        return 1
    mirror = _mirror()
    failed = 0
    with tempfile.TemporaryDirectory(prefix="vpgeo-readme-") as tmp:
        folder = Path(tmp)
        write_inputs(folder)
        env = {**os.environ, "VPGEO_DATA_DIR": str(folder / "cache")}
        if mirror:
            env["VPGEO_DATA_MIRROR"] = mirror
        for cmd in commands:
            if any(n in cmd for n in NEEDS_OFFICIAL) and not mirror:
                print(f"skipped (needs the network or a mirror): {cmd}")
                continue
            run = subprocess.run(shlex.split(cmd), cwd=folder, env=env, capture_output=True, text=True, timeout=600)
            status = "ok" if run.returncode == 0 else f"FAILED (exit {run.returncode})"
            print(f"{status}: {cmd}")
            if run.returncode != 0:
                failed += 1
                print("  " + (run.stderr.strip() or run.stdout.strip()).replace("\n", "\n  ")[-2000:])
    print(f"README: {len(commands)} commands, {failed} failing")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
