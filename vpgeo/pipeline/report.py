"""The report workflow: read the inputs (or the embedded data), judge the plan, write the report folder.

``vpgeo report --out DIR`` (or :func:`build_report`) writes

- ``index.html``: the single-file offline map;
- ``report.html``: the compliance report for people, bilingual, with the key figures and tables;
- ``sites.csv``: every site with its distances and rule verdict;
- ``compliance.json`` / ``compliance.md``: the rule, the counts, the plan's targets, the data's provenance;
- ``map.png``: a static map for printed reports;
- ``rejects.csv``: input rows that could not be used, with the reason (only when there are any).

Embedded defaults are resolved here, not in the compute functions. A user's commune names are placed by
:func:`vpgeo.sites.prepare_sites` through the geocoder (:func:`vpgeo.geocoding.match_name`, the one commune
resolver); every site's region (communes, district or province) and best point come from the rule
(:func:`vpgeo.rules.check_priority_rule`), cut from the boundaries chosen (``--boundaries``).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from vpgeo._output import write_text
from vpgeo.corridors import select_corridors
from vpgeo.errors import InputError
from vpgeo.rules import DEFAULT_APPLIES_TO, RuleResult, check_priority_rule

__all__ = ["ReportResult", "build_report"]

_NAMED_SOURCES = ("auto", "official", "approx")
_EMBEDDED_SITES_FILE = "data/sites.geojson"
_PLAN_TITLE = "Kiểm tra quy hoạch / Plan check"
_USER_TITLE = "Kiểm tra quy tắc cho bảng của bạn / Rule check of your table"

Progress = Callable[[str], None]


@dataclass
class ReportResult:
    """What :func:`build_report` wrote, and the rule result behind it."""

    out: Path
    files: dict[str, Path]
    result: RuleResult
    rejects: pd.DataFrame = field(default_factory=pd.DataFrame)


@dataclass
class _Inputs:
    sites: gpd.GeoDataFrame
    corridors: gpd.GeoDataFrame
    rejects: pd.DataFrame
    sites_from_file: bool
    user_corridors: bool
    embedded_sites: bool
    regions_from: str = "approx"  # the named boundaries the sites' regions are cut from


# ------------------------------------------------------------------------------------------ reading inputs


def is_embedded_sites(sites: gpd.GeoDataFrame | None) -> bool:
    """Whether ``sites`` is the whole embedded list (``None`` stands for it); a subset or a user table is not."""
    if sites is None:
        return True
    prov = sites.attrs.get("provenance") or {}
    if prov.get("file") != _EMBEDDED_SITES_FILE or prov.get("supplied_by"):
        return False
    count = (prov.get("counts") or {}).get("sites")
    return count is None or int(count) == len(sites)


def _load_inputs(
    sites: str | Path | gpd.GeoDataFrame | None,
    corridors: str | Path | gpd.GeoDataFrame | None,
    *,
    point_precision_m: float | None,
    place_by_commune: bool,
    regions_from: str = "approx",
    corridor_set: str | Sequence[str] | None = None,
) -> _Inputs:
    from vpgeo.datasets import load_sites

    corr = _load_corridors(corridors)
    if corridor_set is not None:
        select_corridors(corr, corridor_set)  # a bad set fails before the sites and their boundaries load
    rejects = pd.DataFrame()
    from_file = sites is not None and not isinstance(sites, gpd.GeoDataFrame)
    if sites is None:
        site_gdf = load_sites(boundaries=regions_from)  # type: ignore[arg-type]
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
    embedded = is_embedded_sites(None if sites is None else site_gdf)
    return _Inputs(site_gdf, corr, rejects, from_file, corridors is not None, embedded, regions_from)


def _load_corridors(corridors: str | Path | gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
    if corridors is None:
        from vpgeo.datasets import load_corridors

        return load_corridors()
    if isinstance(corridors, gpd.GeoDataFrame):
        return corridors
    from vpgeo.corridors import read_corridor_file

    corr = read_corridor_file(Path(corridors))
    corr.attrs["provenance"] = {"layer": "corridors", "file": str(corridors), "supplied_by": "user"}
    return corr


def _fill_units(sites: gpd.GeoDataFrame, boundaries: str) -> gpd.GeoDataFrame:
    """Give user sites their legacy district, commune and 2025 commune from their position.

    Rows placed from commune names (``location_method`` ``commune_centroid``) keep the units the names
    resolved to: the mean point of several communes may lie in none of them, and a 2025 name says nothing of
    the legacy commune.
    """
    from vpgeo.geocoding import geocode

    geom = sites.geometry
    has = ~(geom.isna() | geom.is_empty)
    flags = sites["flags"].fillna("").astype(str) if "flags" in sites else pd.Series("", index=sites.index)
    method = sites["location_method"].astype(str) if "location_method" in sites else pd.Series("", index=sites.index)
    has &= method.ne("commune_centroid").to_numpy()  # placed from names: the names decide the units
    if not has.any():
        return sites
    placed = geocode(gpd.GeoDataFrame(geometry=geom[has], crs=sites.crs), boundaries=boundaries)
    out = sites.copy()
    for col in ("district", "commune", "commune_2025"):
        if col not in out.columns:
            out[col] = None
        known = out[col].astype(object).where(out[col].notna() & (out[col].astype(str) != ""), None)
        out[col] = known
        # the position decides; the user's own text fills rows the position cannot place
        out.loc[has, col] = placed[col].where(placed[col].notna(), known[has]).to_numpy()
    outside = placed["match_status"].eq("outside").reindex(out.index, fill_value=False)
    if outside.any():
        out["flags"] = flags.where(~outside, (flags + ";outside_province").str.lstrip(";"))
    return out


def _load_boundaries(boundaries: str | Path) -> gpd.GeoDataFrame:
    from vpgeo.boundaries import load_districts

    if str(boundaries) in _NAMED_SOURCES:
        return load_districts(source=str(boundaries))  # type: ignore[arg-type]
    from vpgeo.io import read_table

    gdf = read_table(Path(boundaries))
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise InputError(
            "boundaries (--boundaries): the file has no geometry; give district polygons, or auto, official or approx",
            path=str(boundaries),
        )
    gdf = gdf.copy()
    gdf["source"] = f"user file {Path(boundaries).name}"
    gdf.attrs["provenance"] = {"layer": "districts", "file": str(boundaries), "supplied_by": "user"}
    return gdf


def _default_corridor_set(corridor_set: str | Sequence[str] | None, inputs: _Inputs) -> str | Sequence[str]:
    if corridor_set is not None:
        return corridor_set
    if not inputs.user_corridors:
        return "plan"
    corr = inputs.corridors
    pri = corr["priority"].astype(bool) if "priority" in corr else pd.Series(True, index=corr.index)
    return list(dict.fromkeys(corr.loc[pri, "corridor_id"].astype(str)))


# ------------------------------------------------------------------------------------------ judging


def _judge(inputs: _Inputs, *, buffer_km: float, corridor_set: str | Sequence[str], applies_to: str) -> RuleResult:
    """The rule on the inputs, measured in the metric CRS (the report states it; no reprojection notice)."""
    from vpgeo.crs import to_metric

    sites_m = to_metric(inputs.sites, operation="report", warn=False)
    corr_m = to_metric(inputs.corridors, operation="report", warn=False)
    sites_m.attrs = dict(inputs.sites.attrs)
    corr_m.attrs = dict(inputs.corridors.attrs)
    result = check_priority_rule(
        sites_m,
        corr_m,
        buffer_km=buffer_km,
        corridor_set=corridor_set,
        applies_to=applies_to,
        boundaries=inputs.regions_from,  # type: ignore[arg-type]
    )
    if inputs.sites.crs is not None:
        result.table = result.table.to_crs(inputs.sites.crs)  # the table comes back in the sites' own CRS
    embedded = getattr(result, "embedded_sites", None)  # the rule may say so itself; else the pipeline knows
    if not (inputs.embedded_sites if embedded is None else bool(embedded)):
        fit_to_user_sites(result, source=str(inputs.sites.attrs.get("provenance", {}).get("file", "")))
    return result


def fit_to_user_sites(result: RuleResult, *, source: str = "") -> RuleResult:
    """Make the targets and the coverage text speak of a user's own table, not of the embedded list.

    A user's table is not the province's list, so it is not compared with the plan's province-wide targets
    (the rule gives none for it; any target a result still carries gets ``gap`` and ``share`` None and
    ``compared`` False), and the statements describe the table given. Changes ``result`` in place and
    returns it.
    """
    t = result.table
    kind = t["kind"].astype(str).str.upper() if "kind" in t else pd.Series("", index=t.index)
    n_kcn, n_ccn = int((kind == "KCN").sum()), int((kind == "CCN").sum())
    area = pd.to_numeric(t["area_ha"], errors="coerce") if "area_ha" in t else pd.Series(dtype=float)
    ha = float(area.fillna(0).sum())
    from vpgeo._format import fmt_number

    where = f" ({source})" if source else ""
    for target in result.targets.values():
        target.update(gap=None, share=None, compared=False)
    cov = result.coverage
    cov["scope"] = "user"
    cov["statement_en"] = (
        f"Your table{where}: {len(t)} sites ({n_kcn} KCN, {n_ccn} CCN; {fmt_number(ha)} ha with an area given). "
        "The rule is checked for these sites only."
    )
    cov["statement_vi"] = (
        f"Bảng của bạn{where}: {len(t)} khu, cụm ({n_kcn} KCN, {n_ccn} CCN; {fmt_number(ha)} ha có diện tích). "
        "Quy tắc chỉ được kiểm tra cho các khu, cụm này."
    )
    cov["targets_note_en"] = (
        "Your table is not the province's full list, so it is not compared with the plan's province-wide "
        "targets (numbers of KCN and CCN, industrial land)."
    )
    cov["targets_note_vi"] = (
        "Bảng của bạn không phải danh sách đầy đủ của tỉnh, nên không so sánh với các chỉ tiêu toàn tỉnh của "
        "quy hoạch (số KCN, CCN, diện tích đất công nghiệp)."
    )
    return result


# ------------------------------------------------------------------------------------------ writing


def _with_access_names(table: pd.DataFrame, rule_table: pd.DataFrame) -> pd.DataFrame:
    """``sites.csv``: ``nearest_access`` is an access id; its name goes beside it when the rule gives one.

    The table never carries the ``region`` geometries (``lon``/``lat`` are the best point's); their size is
    ``region_method`` and ``precision_m``.
    """
    out = table.drop(columns=[c for c in ("region", "geometry") if c in table.columns])
    if "nearest_access_name" in rule_table.columns and "nearest_access_name" not in out.columns:
        at = list(out.columns).index("nearest_access") + 1 if "nearest_access" in out.columns else len(out.columns)
        out.insert(at, "nearest_access_name", rule_table["nearest_access_name"].reindex(out.index).to_numpy())
    if "region_method" in rule_table.columns and "region_method" not in out.columns:
        at = list(out.columns).index("precision_m") + 1 if "precision_m" in out.columns else len(out.columns)
        out.insert(at, "region_method", rule_table["region_method"].reindex(out.index).to_numpy())
    return out


def _write_tables(out_dir: Path, result: RuleResult, table: pd.DataFrame) -> dict[str, Path]:
    from vpgeo.io import write_table
    from vpgeo.report import compliance_markdown

    # through the shared writers: atomic, never through a link, formula-looking text quoted in the CSV
    files = {name: out_dir / name for name in ("sites.csv", "compliance.json", "compliance.md")}
    write_table(table, files["sites.csv"])
    write_text(files["compliance.json"], result.to_json() + "\n")
    write_text(files["compliance.md"], compliance_markdown(result))
    return files


def _district_stats(districts: gpd.GeoDataFrame, result: RuleResult) -> gpd.GeoDataFrame:
    if "name" not in districts:
        return districts
    stats = districts.merge(result.by_district.rename(columns={"district": "name"}), on="name", how="left")
    # a district with no known site holds 0 ha in the data, not "no data"
    numeric = [c for c in result.by_district.columns if c != "district"]
    stats[numeric] = stats[numeric].fillna(0)
    return stats


def _map_provenance(result: RuleResult, districts: gpd.GeoDataFrame, boundaries: str | Path) -> dict[str, Any]:
    return {
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


def _write_maps(
    out_dir: Path,
    result: RuleResult,
    inputs: _Inputs,
    layers: dict[str, Any],
    *,
    tiles: str,
    png: bool,
    say: Progress,
) -> dict[str, Path]:
    from vpgeo.maps import plan_map, save_map

    access = None
    if not inputs.user_corridors:
        from vpgeo.datasets import load_access_points

        access = load_access_points()
    stats = _district_stats(layers["districts"], result)
    say("drawing the map (index.html)")
    m = plan_map(
        sites=result.table,
        corridors=inputs.corridors,
        access_points=access,
        districts=stats,
        communes=layers["communes"],
        rings=layers["rings"],
        choropleth="industrial_ha" if "industrial_ha" in stats else None,
        provenance=_map_provenance(result, layers["districts"], layers["boundaries"]),
        tiles=tiles,
    )
    files = {"index.html": save_map(m, out_dir / "index.html")}
    if png:
        from vpgeo.maps import save_png

        say("drawing map.png")
        files["map.png"] = save_png(
            out_dir / "map.png",
            sites=result.table,
            corridors=inputs.corridors,
            districts=layers["districts"],
            rings=layers["rings"],
            title="Vĩnh Phúc — KCN/CCN & corridors",
        )
    return files


def _corridor_names(corridors: gpd.GeoDataFrame) -> dict[str, str]:
    if "corridor_id" not in corridors or "name" not in corridors:
        return {}
    pairs = corridors[["corridor_id", "name"]].dropna().astype(str)
    return dict(zip(pairs["corridor_id"], pairs["name"], strict=True))


def _units_source(boundaries: str | Path) -> str:
    """The named boundaries for units and regions: a user polygon file draws the map, named units come from
    the gazetteer's layers (``approx``)."""
    return str(boundaries) if str(boundaries) in _NAMED_SOURCES else "approx"


def _layers(boundaries: str | Path, chosen: gpd.GeoDataFrame, rings_km: Sequence[float]) -> dict[str, Any]:
    """Districts, 2025 communes and distance rings for the map, each loaded once."""
    from vpgeo.boundaries import load_communes
    from vpgeo.measure import corridor_rings

    districts = _load_boundaries(boundaries)
    units_source = _units_source(boundaries)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the districts' fallback warning has been given already
        communes = load_communes(vintage=2025, source=units_source)  # type: ignore[arg-type]
    rings = corridor_rings(chosen, rings_km=rings_km, corridor_set=None, clip=districts)
    return {
        "districts": districts,
        "communes": communes,
        "rings": rings,
        "units_source": units_source,
        "boundaries": boundaries,
    }


def _refuse_empty(inputs: _Inputs, sites: object, out_dir: Path) -> None:
    """No site left to judge: write the rejects (every row keeps its reason) and say so in one line."""
    from vpgeo.io import write_rejects

    path = str(sites) if isinstance(sites, str | Path) else None
    if len(inputs.rejects):
        written = write_rejects(inputs.rejects, out_dir / "rejects.csv")
        first = inputs.rejects.iloc[0]
        raise InputError(
            f"no usable site: all {len(inputs.rejects)} rows were rejected (row {first['row']}: {first['reason']}); "
            f"every reason is in {written}; fix those rows and run again",
            path=path,
        )
    raise InputError("the site table has no rows; give at least one site", path=path)


def _quiet(_: str) -> None:
    return None


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
    progress: Progress | None = None,
) -> ReportResult:
    """Run the whole job and write the report folder.

    Parameters
    ----------
    out : path
        The folder to write; refused when not empty unless ``force``.
    sites, corridors : path or GeoDataFrame, optional
        User layers replacing the embedded ones (any CRS; VN-2000 included). When the sites are not the
        embedded list, the report speaks of the table given and lists the plan's targets for reference only.
    buffer_km, applies_to
        The rule's parameters (see :func:`vpgeo.rules.check_priority_rule`).
    rings_km : sequence of float
        Distance bands drawn on the map.
    corridor_set : str or sequence of str, optional
        ``"plan"`` for the embedded corridors; every priority corridor of a user file otherwise.
    boundaries : {"auto", "official", "approx"} or path
        District polygons for the map, the ring clipping and the choropleth; a named source also gives the
        2025 communes and districts the sites' regions are cut from (a polygon file: ``approx`` for those).
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
        Place user rows without coordinates in their commune(s) (:func:`vpgeo.sites.prepare_sites`: names are
        read by the geocoder, so near spellings, former and 2025 names are placed too, flagged; an address in
        the commune column is read whole); the rule then gives each row its region (the communes' union, else
        its district or the province) and a best point in it, with ``precision_m`` the region's radius.
    progress : callable, optional
        Called with a short description of each stage.

    Examples
    --------
    >>> import tempfile
    >>> res = build_report(tempfile.mkdtemp() + "/r", boundaries="approx", png=False)
    >>> sorted(res.files)
    ['compliance.json', 'compliance.md', 'index.html', 'report.html', 'sites.csv']
    """
    from vpgeo.io import check_out_dir, write_rejects
    from vpgeo.report import report_html, sites_table

    say = progress or _quiet
    out_dir = check_out_dir(Path(out), force=force)
    say("reading the inputs")
    inputs = _load_inputs(
        sites,
        corridors,
        point_precision_m=point_precision_m,
        place_by_commune=place_by_commune,
        regions_from=_units_source(boundaries),
        corridor_set=corridor_set,
    )
    if not len(inputs.sites):
        _refuse_empty(inputs, sites, out_dir)
    corridor_set = _default_corridor_set(corridor_set, inputs)
    chosen = select_corridors(inputs.corridors, corridor_set)  # fail on a bad set before any slow work
    layers = _layers(boundaries, chosen, rings_km)
    if inputs.sites_from_file:
        inputs.sites = _fill_units(inputs.sites, layers["units_source"])
    say("checking the rule")
    result = _judge(inputs, buffer_km=buffer_km, corridor_set=corridor_set, applies_to=applies_to)
    result.data["boundaries"] = dict(layers["districts"].attrs.get("provenance", {}))
    table = _with_access_names(sites_table(result), result.table)
    files = _write_tables(out_dir, result, table)
    files |= _write_maps(out_dir, result, inputs, layers, tiles=tiles, png=png, say=say)
    say("writing report.html")
    files["report.html"] = out_dir / "report.html"
    title = _USER_TITLE if result.coverage.get("scope") == "user" else _PLAN_TITLE
    html_text = report_html(result, table, has_png=png, corridor_names=_corridor_names(inputs.corridors), title=title)
    write_text(files["report.html"], html_text)
    written = write_rejects(inputs.rejects, out_dir / "rejects.csv") if len(inputs.rejects) else None
    if written is not None:
        files["rejects.csv"] = written
    return ReportResult(out=out_dir, files=files, result=result, rejects=inputs.rejects)
