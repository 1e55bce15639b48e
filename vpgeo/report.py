"""The report folder: the map, the compliance report, and the tables behind them.

``vpgeo report --out DIR`` (or :func:`build_report`) writes

- ``index.html``: the single-file offline map;
- ``report.html``: the compliance report for people, bilingual, with the key figures and tables;
- ``sites.csv``: every site with its distances and rule verdict;
- ``compliance.json`` / ``compliance.md``: the rule, the counts, the plan's targets, the data's provenance;
- ``map.png``: a static map for printed reports;
- ``rejects.csv``: input rows that could not be used, with the reason (only when there are any).
"""

from __future__ import annotations

import html
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd

from vpgeo.errors import InputError
from vpgeo.rules import DEFAULT_APPLIES_TO, RuleResult, check_priority_rule

__all__ = ["SITES_CSV_COLUMNS", "ReportResult", "build_report", "compliance_markdown", "sites_table"]

SITES_CSV_COLUMNS = [
    "site_id",
    "name",
    "kind",
    "phase",
    "status",
    "area_ha",
    "area_ha_2050",
    "district",
    "commune",
    "commune_2025",
    "lon",
    "lat",
    "location_method",
    "precision_m",
    "nearest_corridor",
    "distance_km",
    "uncertainty_m",
    "within_buffer",
    "rule_applies",
    "nearest_access",
    "access_km",
]


@dataclass
class ReportResult:
    """What :func:`build_report` wrote, and the rule result behind it."""

    out: Path
    files: dict[str, Path]
    result: RuleResult
    rejects: pd.DataFrame = field(default_factory=pd.DataFrame)


def _decimals_for(uncertainty_m: float) -> int:
    """Kilometre decimals a distance deserves: never finer than a tenth of its uncertainty."""
    if not math.isfinite(uncertainty_m) or uncertainty_m >= 1000:
        return 1
    return 2 if uncertainty_m >= 100 else 3


def sites_table(result: RuleResult) -> pd.DataFrame:
    """The ``sites.csv`` table: one row per site, numbers rounded to what their inputs support."""
    t = result.table
    out = pd.DataFrame(index=t.index)
    for col in SITES_CSV_COLUMNS:
        out[col] = t[col] if col in t.columns else None
    geom = t.geometry
    has = ~(geom.isna() | geom.is_empty)
    pts = gpd.GeoSeries(geom[has], crs=t.crs).to_crs("EPSG:4326").representative_point()
    # 4 decimals ≈ 10 m: finer than any embedded position deserves, coarse enough not to pretend
    out.loc[has, "lon"] = pts.x.round(4)
    out.loc[has, "lat"] = pts.y.round(4)
    unc = pd.to_numeric(t["uncertainty_m"], errors="coerce")
    for col in ["distance_km", "access_km", *[c for c in t.columns if c.startswith("dist_")]]:
        if col not in t.columns:
            continue
        vals = pd.to_numeric(t[col], errors="coerce")
        out[col] = [
            None if pd.isna(v) else round(float(v), _decimals_for(float(u))) for v, u in zip(vals, unc, strict=True)
        ]
    out["uncertainty_m"] = unc.round(-1)
    for extra in ("flags", "source", "notes"):
        if extra in t.columns:
            out[extra] = t[extra]
    return out


def _fmt(v: object) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    if isinstance(v, float):
        return f"{v:,.2f}".rstrip("0").rstrip(".")
    return str(v)


def compliance_markdown(result: RuleResult) -> str:
    """``compliance.md``: the rule, counts, targets and data, in Vietnamese then English."""
    r, c = result.rule, result.counts["applicable"]
    lines = [
        "# Kiểm tra quy hoạch / Plan check — vpgeo",
        "",
        f"*{result.data.get('plan', '')}* — vpgeo {result.data.get('vpgeo_version', '')}, "
        f"{result.data.get('generated_at', '')}",
        "",
        "## Quy tắc / The rule",
        "",
        f"- VI: {r['text_vi']}",
        f"- EN: {r['text_en']}",
        f"- Vùng đệm / buffer: **{r['buffer_km']:g} km**; hành lang / corridors: {', '.join(r['corridors'])} "
        f"(`{r['corridor_set']}`); áp dụng cho / applies to: `{r['applies_to']}`",
        f"- Độ bất định / uncertainty: {r['precision_policy']}",
        "",
        "| Kết luận / verdict | Số điểm / sites |",
        "|---|---|",
        f"| có / yes | {c['yes']} |",
        f"| không / no | {c['no']} |",
        f"| chưa chắc / uncertain | {c['uncertain']} |",
        "",
        "## Chỉ tiêu quy hoạch / Plan targets",
        "",
        "| Chỉ tiêu / target | Quy hoạch / plan | Dữ liệu / data | Chênh lệch / gap | Cách đếm / how counted |",
        "|---|---|---|---|---|",
    ]
    for t in result.targets.values():
        lines.append(
            f"| {t['label_vi']} / {t['label_en']} | {_fmt(t['plan'])} {t['unit']} | {_fmt(t['in_data'])} | "
            f"{_fmt(t['gap'])} | {t['how_counted']} |"
        )
    lines += [
        "",
        "## Dữ liệu có gì / What the data cover",
        "",
        f"- VI: {result.coverage['statement_vi']}",
        f"- EN: {result.coverage['statement_en']}",
        f"- Sites without a position / không có vị trí: {result.coverage['sites_without_position']}; "
        f"without an area / không có diện tích: {result.coverage['sites_without_area']}",
        "",
        "## Theo huyện (trước 2025) / By legacy district",
        "",
        _md_table(result.by_district),
        "",
        "## Theo xã, phường 2025 / By 2025 commune",
        "",
        _md_table(result.by_commune_2025),
        "",
        "## Nguồn dữ liệu / Data sources",
        "",
    ]
    for name, prov in result.data.items():
        if isinstance(prov, dict):
            lines.append(f"- **{name}**: " + "; ".join(f"{k}: {v}" for k, v in prov.items()))
    return "\n".join(lines) + "\n"


def _md_table(df: pd.DataFrame) -> str:
    if df.empty:
        return "(none)"
    head = "| " + " | ".join(map(str, df.columns)) + " |"
    sep = "|" + "---|" * len(df.columns)
    body = ["| " + " | ".join(_fmt(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join([head, sep, *body])


def _html_table(df: pd.DataFrame, *, max_rows: int = 500) -> str:
    esc = html.escape
    head = "".join(f"<th>{esc(str(c))}</th>" for c in df.columns)
    rows = []
    for row in df.head(max_rows).itertuples(index=False):
        rows.append("<tr>" + "".join(f"<td>{esc(_fmt(v))}</td>" for v in row) + "</tr>")
    more = f"<p>… {len(df) - max_rows} more rows in the CSV.</p>" if len(df) > max_rows else ""
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>{more}"


_SITES_HTML = [
    "site_id",
    "name",
    "kind",
    "phase",
    "area_ha",
    "district",
    "commune_2025",
    "location_method",
    "precision_m",
    "nearest_corridor",
    "distance_km",
    "uncertainty_m",
    "within_buffer",
    "rule_applies",
]

_CSS = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:.9em}td,th{border:1px solid #ccc;padding:.25em .5em}
th{background:#f3f3f3}.yes{color:#1a7f37}.no{color:#b42318}.uncertain{color:#9a6700}
.kpi{display:inline-block;margin:.5em 1em .5em 0;padding:.6em 1em;border:1px solid #ddd;border-radius:6px}
.kpi b{font-size:1.6em;display:block}small{color:#666}"""


def report_html(result: RuleResult, sites: pd.DataFrame, *, has_png: bool) -> str:
    """``report.html``: the compliance report for people (all text escaped)."""
    esc = html.escape
    r, c = result.rule, result.counts["applicable"]
    kpis = "".join(
        f'<div class="kpi {k}"><b>{c[k]}</b>{label}</div>'
        for k, label in (("yes", "có / yes"), ("no", "không / no"), ("uncertain", "chưa chắc / uncertain"))
    )
    targets = pd.DataFrame(
        [
            {
                "Chỉ tiêu / target": f"{t['label_vi']} / {t['label_en']}",
                "Quy hoạch / plan": f"{_fmt(t['plan'])} {t['unit']}",
                "Dữ liệu / data": t["in_data"],
                "Chênh lệch / gap": t["gap"],
                "Cách đếm / how counted": t["how_counted"],
            }
            for t in result.targets.values()
        ]
    )
    prov = "".join(f"<li><b>{esc(str(k))}</b>: {esc(str(v))}</li>" for k, v in result.data.items())
    png = '<p><img src="map.png" alt="map" style="max-width:100%"></p>' if has_png else ""
    return f"""<!DOCTYPE html>
<html lang="vi"><head><meta charset="utf-8"><title>vpgeo — Kiểm tra quy hoạch / Plan check</title>
<style>{_CSS}</style></head><body>
<h1>Vĩnh Phúc: khu, cụm công nghiệp dọc hành lang giao thông<br><small>Industrial parks and clusters along
the corridors — plan check</small></h1>
<p><small>{esc(str(result.data.get("plan", "")))} · vpgeo {esc(str(result.data.get("vpgeo_version", "")))}
· {esc(str(result.data.get("generated_at", "")))}</small></p>
<p><a href="index.html">Bản đồ / Map</a> · <a href="sites.csv">sites.csv</a> ·
<a href="compliance.json">compliance.json</a></p>
<h2>Quy tắc / The rule</h2>
<p>{esc(r["text_vi"])}<br><i>{esc(r["text_en"])}</i></p>
<p>Vùng đệm / buffer <b>{r["buffer_km"]:g} km</b> · hành lang / corridors {esc(", ".join(r["corridors"]))}
(<code>{esc(str(r["corridor_set"]))}</code>) · áp dụng / applies to <code>{esc(r["applies_to"])}</code></p>
<p><small>{esc(r["precision_policy"])}</small></p>
{kpis}
{png}
<h2>Chỉ tiêu quy hoạch / Plan targets</h2>
{_html_table(targets)}
<p>{esc(result.coverage["statement_vi"])}<br><i>{esc(result.coverage["statement_en"])}</i></p>
<h2>Theo huyện (trước 2025) / By legacy district</h2>
{_html_table(result.by_district)}
<h2>Theo xã, phường 2025 / By 2025 commune</h2>
{_html_table(result.by_commune_2025)}
<h2>Các điểm / Sites</h2>
{_html_table(sites[[c for c in _SITES_HTML if c in sites.columns]])}
<p><small>All columns, sources and notes: sites.csv.</small></p>
<h2>Nguồn dữ liệu / Provenance</h2><ul>{prov}</ul>
</body></html>
"""


def _load_inputs(
    sites: str | Path | gpd.GeoDataFrame | None,
    corridors: str | Path | gpd.GeoDataFrame | None,
    *,
    point_precision_m: float | None,
    place_by_commune: bool,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, pd.DataFrame, bool]:
    from vpgeo.datasets import load_corridors, load_sites

    rejects = pd.DataFrame()
    if sites is None:
        site_gdf = load_sites()
    elif isinstance(sites, gpd.GeoDataFrame):
        site_gdf = sites
    else:
        from vpgeo.io import read_table
        from vpgeo.sites import prepare_sites

        site_gdf, rejects = prepare_sites(
            read_table(Path(sites)),
            source=str(sites),
            point_precision_m=point_precision_m,
            place_by_commune=place_by_commune,
        )
        site_gdf.attrs["provenance"] = {"layer": "sites", "file": str(sites), "supplied_by": "user"}
    user_corridors = corridors is not None
    if corridors is None:
        corr = load_corridors()
    elif isinstance(corridors, gpd.GeoDataFrame):
        corr = corridors
    else:
        from vpgeo.corridors import read_corridor_file

        corr = read_corridor_file(Path(corridors))
        corr.attrs["provenance"] = {"layer": "corridors", "file": str(corridors), "supplied_by": "user"}
    return site_gdf, corr, rejects, user_corridors


def _fill_units(sites: gpd.GeoDataFrame, boundaries: str) -> gpd.GeoDataFrame:
    """Give user sites their legacy district, commune and 2025 commune from their position."""
    from vpgeo.geocoding import geocode

    geom = sites.geometry
    has = ~(geom.isna() | geom.is_empty)
    if not has.any():
        return sites
    placed = geocode(gpd.GeoDataFrame(geometry=geom[has], crs=sites.crs), boundaries=boundaries)
    out = sites.copy()
    for col in ("district", "commune", "commune_2025"):
        if col not in out.columns:
            out[col] = None
        known = out[col].astype(object).where(out[col].notna() & (out[col].astype(str) != ""), None)
        # the position decides; the user's own text fills rows the position cannot place
        out.loc[has, col] = placed[col].where(placed[col].notna(), known[has]).to_numpy()
    outside = placed["match_status"].eq("outside").reindex(out.index, fill_value=False)
    if outside.any():
        flags = out["flags"].fillna("") if "flags" in out else pd.Series("", index=out.index)
        out["flags"] = flags.where(~outside, (flags + ";outside_province").str.lstrip(";"))
    return out


def _load_boundaries(boundaries: str | Path) -> gpd.GeoDataFrame:
    from vpgeo.boundaries import load_districts

    if boundaries in ("auto", "official", "approx"):
        return load_districts(source=boundaries)  # type: ignore[arg-type]
    from vpgeo.io import read_table

    gdf = read_table(Path(boundaries))
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise InputError("--boundaries: the file has no geometry; give polygons", path=str(boundaries))
    gdf = gdf.copy()
    gdf["source"] = f"user file {Path(boundaries).name}"
    gdf.attrs["provenance"] = {"layer": "districts", "file": str(boundaries), "supplied_by": "user"}
    return gdf


def build_report(
    out: str | Path,
    *,
    sites: str | Path | gpd.GeoDataFrame | None = None,
    corridors: str | Path | gpd.GeoDataFrame | None = None,
    buffer_km: float = 5.0,
    rings_km: Sequence[float] = (2.0, 5.0, 10.0),
    corridor_set: str | Sequence[str] | None = None,
    applies_to: str = DEFAULT_APPLIES_TO,
    boundaries: str | Path = "auto",
    tiles: str = "none",
    force: bool = False,
    png: bool = True,
    point_precision_m: float | None = 50.0,
    place_by_commune: bool = True,
) -> ReportResult:
    """Run the whole job and write the report folder.

    Parameters
    ----------
    out : path
        The folder to write; refused when not empty unless ``force``.
    sites, corridors : path or GeoDataFrame, optional
        User layers replacing the embedded ones (any CRS; VN-2000 included).
    buffer_km, applies_to
        The rule's parameters (see :func:`vpgeo.rules.check_priority_rule`).
    rings_km : sequence of float
        Distance bands drawn on the map.
    corridor_set : str or sequence of str, optional
        ``"plan"`` for the embedded corridors; every priority corridor of a user file otherwise.
    boundaries : {"auto", "official", "approx"} or path
        District polygons for the map, the ring clipping and the choropleth.
    tiles : {"none", "osm", "carto"}
        Basemap tiles (the only network reference of the map).
    force : bool
        Overwrite a non-empty ``out``.
    png : bool
        Also draw ``map.png``.
    point_precision_m : float or None
        Precision assumed for user coordinates that come without a ``precision_m`` column (flagged per
        row); ``None`` leaves them without one, which makes their verdicts ``uncertain``.
    place_by_commune : bool
        Place user rows without coordinates at their commune's point (with that commune's precision).
    """
    from vpgeo.io import check_out_dir, write_rejects
    from vpgeo.maps import plan_map, save_map, save_png
    from vpgeo.measure import corridor_rings

    out_dir = check_out_dir(Path(out), force=force)
    site_gdf, corr, rejects, user_corridors = _load_inputs(
        sites, corridors, point_precision_m=point_precision_m, place_by_commune=place_by_commune
    )
    if corridor_set is None:
        if user_corridors:
            pri = corr["priority"].astype(bool) if "priority" in corr else pd.Series(True, index=corr.index)
            corridor_set = list(dict.fromkeys(corr.loc[pri, "corridor_id"].astype(str)))
        else:
            corridor_set = "plan"
    from vpgeo.corridors import select_corridors

    chosen = select_corridors(corr, corridor_set)  # fail on a bad set before any slow work
    districts = _load_boundaries(boundaries)
    # a user polygon file draws the map; named units come from the gazetteer's layers
    units_source = str(boundaries) if str(boundaries) in {"auto", "official", "approx"} else "approx"
    if sites is not None and not isinstance(sites, gpd.GeoDataFrame):
        site_gdf = _fill_units(site_gdf, units_source)
    result = check_priority_rule(site_gdf, corr, buffer_km=buffer_km, corridor_set=corridor_set, applies_to=applies_to)
    result.data["boundaries"] = dict(districts.attrs.get("provenance", {}))
    rings = corridor_rings(chosen, rings_km=rings_km, corridor_set=None, clip=districts)
    files: dict[str, Path] = {}
    table = sites_table(result)
    files["sites.csv"] = out_dir / "sites.csv"
    table.to_csv(files["sites.csv"], index=False, encoding="utf-8-sig")
    files["compliance.json"] = out_dir / "compliance.json"
    files["compliance.json"].write_text(result.to_json() + "\n", encoding="utf-8")
    files["compliance.md"] = out_dir / "compliance.md"
    files["compliance.md"].write_text(result.to_markdown(), encoding="utf-8")

    stats = districts
    if "name" in districts:
        stats = districts.merge(result.by_district.rename(columns={"district": "name"}), on="name", how="left")
        # a district with no known site holds 0 ha in the data, not "no data"
        numeric = [c for c in result.by_district.columns if c != "district"]
        stats[numeric] = stats[numeric].fillna(0)
    provenance = {
        "plan": result.data["plan"],
        "sites": result.data["sites"].get("file", ""),
        "corridors": result.data["corridors"].get("file", ""),
        "boundaries": districts.attrs.get("provenance", {}).get("source", str(boundaries)),
        "crs": "EPSG:5897 (VN-2000 / TM-3 105°00′) for measuring; EPSG:4326 for display",
        "rule": f"buffer {result.rule['buffer_km']:g} km; corridors {', '.join(result.rule['corridors'])}; "
        f"applies to {result.rule['applies_to']}",
        "vpgeo": result.data["vpgeo_version"],
        "generated_at": result.data["generated_at"],
    }
    access = None
    if not user_corridors:
        from vpgeo.datasets import load_access_points

        access = load_access_points()
    from vpgeo.boundaries import load_communes

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the districts' fallback warning has been given already
        communes = load_communes(vintage=2025, source=units_source)  # type: ignore[arg-type]
    m = plan_map(
        sites=result.table,
        corridors=corr,
        access_points=access,
        districts=stats,
        communes=communes,
        rings=rings,
        choropleth="industrial_ha" if "industrial_ha" in stats else None,
        provenance=provenance,
        tiles=tiles,
    )
    files["index.html"] = save_map(m, out_dir / "index.html")
    if png:
        files["map.png"] = save_png(
            out_dir / "map.png",
            sites=result.table,
            corridors=corr,
            districts=districts,
            rings=rings,
            title="Vĩnh Phúc — KCN/CCN & corridors",
        )
    files["report.html"] = out_dir / "report.html"
    files["report.html"].write_text(report_html(result, table, has_png=png), encoding="utf-8")
    written = write_rejects(rejects, out_dir / "rejects.csv") if len(rejects) else None
    if written is not None:
        files["rejects.csv"] = written
    return ReportResult(out=out_dir, files=files, result=result, rejects=rejects)
