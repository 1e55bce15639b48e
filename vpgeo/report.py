"""Render the report: the ``sites.csv`` table, ``compliance.md`` and ``report.html`` from a rule result.

This module only renders: it reads nothing, loads no default data and imports no compute module at run
time (the rule's result is an argument). The workflow that reads the inputs and writes the folder is
:func:`vpgeo.pipeline.build_report`. Every figure goes through :mod:`vpgeo._format`, so a distance prints
the same in the CSV, the report and the map; every piece of user text is HTML-escaped where it lands.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd

from vpgeo._format import MISSING, fmt_km, fmt_number, is_missing, round_to

if TYPE_CHECKING:
    from vpgeo.rules import RuleResult

__all__ = [
    "SITES_CSV_COLUMNS",
    "compliance_markdown",
    "per_corridor_counts",
    "report_html",
    "sites_table",
]

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

#: per-corridor columns of the rule's table (``verdict_<ID>``, ``dmin_<ID>_km``, ``dmax_<ID>_km``, ``dist_<ID>_km``)
_PER_CORRIDOR = re.compile(r"^(?:verdict_(?P<v>.+)|dmin_(?P<lo>.+)_km|dmax_(?P<hi>.+)_km|dist_(?P<d>.+)_km)$")

# ---------------------------------------------------------------------------------------------- words

VERDICT_LABELS = {"yes": "có / yes", "no": "không / no", "uncertain": "chưa chắc / uncertain"}
PHASE_LABELS = {
    "existing": "hiện có / existing",
    "new_2030": "mới đến 2030 / new by 2030",
    "2031_2050": "giai đoạn 2031–2050 / 2031–2050",
    "older_plan": "quy hoạch cũ / older plan",
    "unknown": "chưa rõ / unknown",
}
METHOD_LABELS = {
    "published_point": "điểm công bố, chưa kiểm chứng / published point, unverified",
    "commune_centroid": "điểm của xã / commune point",
    "commune_region": "vùng của xã / commune region",
    "user_point": "toạ độ do bạn cung cấp / your coordinates",
    "user_geometry": "hình do bạn cung cấp / your geometry",
    "surveyed": "đo đạc / surveyed",
    "none": "không có vị trí / no position",
}
COLUMN_LABELS = {
    "site_id": "Mã khu / Site id",
    "name": "Tên / Name",
    "kind": "Loại / Kind",
    "phase": "Giai đoạn / Phase",
    "status": "Tình trạng / Status",
    "area_ha": "Diện tích (ha) / Area (ha)",
    "district": "Huyện (trước 2025) / District (pre-2025)",
    "commune": "Xã (trước 2025) / Commune (pre-2025)",
    "commune_2025": "Xã, phường 2025 / 2025 commune",
    "location_method": "Cách định vị / Located by",
    "precision_m": "Độ chính xác (m) / Precision (m)",
    "nearest_corridor": "Hành lang gần nhất / Nearest corridor",
    "distance_km": "Khoảng cách (km) / Distance (km)",
    "uncertainty_m": "Độ bất định (m) / Uncertainty (m)",
    "within_buffer": "Kết luận / Verdict",
    "rule_applies": "Áp dụng quy tắc / Rule applies",
    "n_kcn": "Số KCN / Parks",
    "n_ccn": "Số CCN / Clusters",
    "kcn_ha": "KCN (ha) / Parks (ha)",
    "ccn_ha": "CCN (ha) / Clusters (ha)",
    "industrial_ha": "Tổng (ha) / Total (ha)",
    "rule_yes": "Quy tắc: có / Rule: yes",
    "rule_no": "Quy tắc: không / Rule: no",
    "rule_uncertain": "Quy tắc: chưa chắc / Rule: uncertain",
    "p_within": "Tỉ lệ trong vùng đệm / Share within buffer",
}
# how each plan target is counted, in both languages (the rule module's note is English only)
_HOW_COUNTED = {
    "kcn_2030": "các KCN khác nhau, mọi giai đoạn (các khu của một KCN tính một lần) / distinct parks, all "
    "phases (zones of one park count once)",
    "ccn_2030": "CCN hiện có hoặc mới đến 2030 / clusters existing or new by 2030",
    "ccn_2050": "CCN hiện có, mới đến 2030 hoặc 2031–2050 / clusters existing, new by 2030 or 2031–2050",
    "ccn_new_2030": "CCN mới đến 2030 (danh sách của quy hoạch bị cắt) / clusters new by 2030 (the plan's "
    "list is cut off)",
    "ccn_new_area_ha": "tổng diện tích CCN mới đến 2030 / area of the clusters new by 2030",
    "industrial_land_after_2030_ha": "tổng diện tích mọi KCN / area of all parks",
    "industrial_land_2050_ha": "tổng diện tích KCN đến 2050 (nếu không có: hiện tại) / parks' 2050 area "
    "(else their current area)",
}
_PROVENANCE_LAYERS = {
    "sites": "Các khu, cụm / Sites",
    "corridors": "Hành lang / Corridors",
    "boundaries": "Ranh giới / Boundaries",
    "access_points": "Nút giao / Access points",
}
_PROVENANCE_KEYS = {
    "layer": "Lớp / Layer",
    "title": "Tiêu đề / Title",
    "file": "Tệp / File",
    "built_from": "Dựng từ / Built from",
    "built_from_sha256": "SHA-256 của nguồn / Source SHA-256",
    "sha256": "SHA-256",
    "builder": "Chương trình dựng / Built by",
    "crs": "Hệ toạ độ / CRS",
    "precision": "Độ chính xác / Precision",
    "licence": "Giấy phép / Licence",
    "license": "Giấy phép / Licence",
    "gazetteer": "Danh mục địa danh / Gazetteer",
    "counts": "Số lượng / Counts",
    "source": "Nguồn / Source",
    "supplied_by": "Cung cấp bởi / Supplied by",
    "url": "Địa chỉ / URL",
    "vintage": "Năm dữ liệu / Vintage",
    "retrieved": "Ngày tải / Retrieved",
    "note": "Ghi chú / Note",
    "approximate": "Gần đúng / Approximate",
    "derived_from": "Dẫn xuất từ / Derived from",
    "method": "Phương pháp / Method",
    "built_by": "Chương trình dựng / Built by",
    "official_alternative": "Lớp chính thức thay thế / Official alternative",
    "kind": "loại / kind",
    "location_method": "cách định vị / located by",
    "phase": "giai đoạn / phase",
    "notes": "Ghi chú / Notes",
}
_VALUE_LABELS = {
    **METHOD_LABELS,
    **PHASE_LABELS,
    "user": "bạn / you (the user)",
    "sites": "khu, cụm / sites",
    "approximate": "gần đúng / approximate",
    "official": "chính thức / official",
}

# codes inside the data's own prose (provenance statements), said in words; file names are left alone
_CODE_WORDS = {
    **{k: v.split(" / ")[-1] for k, v in {**METHOD_LABELS, **PHASE_LABELS}.items() if "_" in k},
    "published_point": "published point",
    "precision_m": "precision (m)",
    "area_ha": "area (ha)",
    "site_id": "site id",
    "within_buffer": "verdict",
}
_CODE_RE = re.compile(
    r"(?<![\w/.])(" + "|".join(map(re.escape, sorted(_CODE_WORDS, key=len, reverse=True))) + r")(?![\w/])"
)


def _prose(text: str) -> str:
    return _CODE_RE.sub(lambda m: _CODE_WORDS[m.group(1)], text)


def _label(code: object, labels: Mapping[str, str]) -> str:
    """A code's bilingual label; an unknown code (e.g. a user's own value) as written."""
    if is_missing(code):
        return MISSING
    return labels.get(str(code), str(code))


# ---------------------------------------------------------------------------------------------- sites.csv


def _per_corridor_columns(columns: Sequence[str]) -> list[str]:
    return [str(c) for c in columns if _PER_CORRIDOR.match(str(c)) or c == "p_within"]


def sites_table(result: RuleResult) -> pd.DataFrame:
    """The ``sites.csv`` table: one row per site, numbers rounded to what their inputs support.

    Distances (``distance_km``, ``access_km`` and the per-corridor ``dist_``/``dmin_``/``dmax_`` columns) keep
    the decimals :func:`vpgeo._format.round_to` allows for the row's ``uncertainty_m``; positions keep four
    decimals of a degree (about 10 m); ``uncertainty_m`` is rounded to 10 m.
    """
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
    unc = (
        pd.to_numeric(t["uncertainty_m"], errors="coerce")
        if "uncertainty_m" in t
        else pd.Series(float("nan"), index=t.index)
    )
    extra = _per_corridor_columns(list(t.columns))
    for col in ["distance_km", "access_km", *[c for c in extra if c.endswith("_km")]]:
        if col not in t.columns:
            continue
        vals = pd.to_numeric(t[col], errors="coerce")
        out[col] = [round_to(v, u) for v, u in zip(vals.tolist(), unc.tolist(), strict=True)]
    for col in extra:
        if col.startswith("verdict_"):
            out[col] = t[col]
    if "p_within" in t.columns:
        out["p_within"] = pd.to_numeric(t["p_within"], errors="coerce").round(2)
    out["uncertainty_m"] = unc.round(-1)
    for col in ("flags", "source", "notes"):
        if col in t.columns:
            out[col] = t[col]
    return out


# ---------------------------------------------------------------------------------------------- shared text


def _user_scope(result: RuleResult) -> bool:
    """True when the sites are a user's own table, not the embedded province-wide list."""
    return result.coverage.get("scope") == "user"


def _target_rows(result: RuleResult) -> list[dict[str, str]]:
    """The plan targets as display text; without data or gap when the sites are a user's own table."""
    rows = []
    for key, t in result.targets.items():
        row = {
            "target": f"{t['label_vi']} / {t['label_en']}",
            "plan": f"{fmt_number(t['plan'])} {t['unit']}",
            "in_data": fmt_number(t.get("in_data")),
            "gap": fmt_number(t.get("gap")),
            "how": _HOW_COUNTED.get(key, str(t.get("how_counted", ""))),
        }
        rows.append(row)
    return rows


def per_corridor_counts(result: RuleResult) -> pd.DataFrame:
    """Verdicts per corridor of the sites the rule applies to, from the table's ``verdict_<ID>`` columns.

    One row per corridor of the rule that has such a column (none when the table has none), with the
    columns ``corridor``, ``yes``, ``no``, ``uncertain``.
    """
    t = result.table
    applies = t["rule_applies"].astype(bool) if "rule_applies" in t else pd.Series(True, index=t.index)
    rows = []
    for cid in [str(c) for c in result.rule.get("corridors", [])]:
        col = f"verdict_{cid}"
        if col in t.columns:
            v = t.loc[applies, col].astype(str)
            rows.append({"corridor": cid, **{k: int((v == k).sum()) for k in VERDICT_LABELS}})
    return pd.DataFrame(rows, columns=["corridor", *VERDICT_LABELS])


def _plain(value: object, depth: int = 0) -> str:
    """A provenance value as reading text: lists joined, mappings as "key: value", never a Python repr."""
    if isinstance(value, Mapping):
        if depth <= 1:
            return "; ".join(
                f"{_provenance_key(k) if depth == 0 else _word(k)}: {_plain(v, depth + 1)}" for k, v in value.items()
            )
        return ", ".join(f"{_word(k)} {_plain(v, depth + 1)}" for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(_plain(v, depth + 1) for v in value)
    if is_missing(value) or isinstance(value, bool):
        return fmt_number(value)
    return _word(value) if isinstance(value, str) and depth > 0 else _prose(str(value))


def _word(code: object) -> str:
    """A code inside a provenance value (a location method, a phase, a count's key) in words."""
    text = str(code)
    return _VALUE_LABELS.get(text) or _PROVENANCE_KEYS.get(text) or _prose(text)


def _provenance_key(key: object) -> str:
    return _PROVENANCE_KEYS.get(str(key), str(key).replace("_", " "))


def _provenance_rows(result: RuleResult) -> list[tuple[str, list[tuple[str, str]]]]:
    """(layer label, [(field label, text)]) for every layer the result names."""
    rows = []
    for name, prov in result.data.items():
        if not isinstance(prov, Mapping):
            continue
        fields = [(_provenance_key(k), _plain(v, 1)) for k, v in prov.items() if k != "layer"]
        rows.append((_PROVENANCE_LAYERS.get(str(name), str(name)), fields))
    return rows


# ---------------------------------------------------------------------------------------------- compliance.md


def _md(text: object) -> str:
    """Text safe inside a Markdown table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def _md_table(df: pd.DataFrame) -> str:
    if df.empty:
        return "(không có / none)"
    head = "| " + " | ".join(_md(COLUMN_LABELS.get(str(c), c)) for c in df.columns) + " |"
    sep = "|" + "---|" * len(df.columns)
    body = [
        "| " + " | ".join(_md(_UNIT_WORDS.get(str(v), fmt_number(v))) for v in row) + " |"
        for row in df.itertuples(index=False)
    ]
    return "\n".join([head, sep, *body])


def _md_targets(result: RuleResult) -> list[str]:
    if _user_scope(result):
        rows = _target_rows(result)
        lines = (
            [
                "| Chỉ tiêu / target | Quy hoạch / plan |",
                "|---|---|",
                *[f"| {_md(r['target'])} | {_md(r['plan'])} |" for r in rows],
            ]
            if rows
            else []
        )
        return [*lines, "", f"- VI: {result.coverage.get('targets_note_vi', '')}",
                f"- EN: {result.coverage.get('targets_note_en', '')}"]  # fmt: skip
    lines = [
        "| Chỉ tiêu / target | Quy hoạch / plan | Dữ liệu / data | Chênh lệch / gap | Cách đếm / how counted |",
        "|---|---|---|---|---|",
    ]
    for r in _target_rows(result):
        lines.append(f"| {_md(r['target'])} | {_md(r['plan'])} | {r['in_data']} | {r['gap']} | {_md(r['how'])} |")
    return lines


def _md_per_corridor(result: RuleResult) -> list[str]:
    counts = per_corridor_counts(result)
    if counts.empty:
        return []
    head = ["| Hành lang / corridor | " + " | ".join(VERDICT_LABELS.values()) + " |", "|---|---|---|---|"]
    body = [f"| {_md(r.corridor)} | {r.yes} | {r.no} | {r.uncertain} |" for r in counts.itertuples(index=False)]
    return ["Theo từng hành lang / per corridor:", "", *head, *body, ""]


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
        *[f"| {VERDICT_LABELS[k]} | {c[k]} |" for k in ("yes", "no", "uncertain")],
        "",
        *_md_per_corridor(result),
        "## Chỉ tiêu quy hoạch / Plan targets",
        "",
        *_md_targets(result),
        "",
        "## Dữ liệu có gì / What the data cover",
        "",
        f"- VI: {result.coverage['statement_vi']}",
        f"- EN: {result.coverage['statement_en']}",
        f"- Không có vị trí / without a position: {result.coverage['sites_without_position']}; "
        f"không có diện tích / without an area: {result.coverage['sites_without_area']}",
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
    for layer, fields in _provenance_rows(result):
        lines.append(f"- **{layer}**: " + "; ".join(f"{k}: {v}" for k, v in fields))
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------- report.html

_CSS = """*{box-sizing:border-box}
body{font:15px/1.45 system-ui,"Segoe UI",Roboto,"Noto Sans",sans-serif;max-width:1240px;margin:1.5em auto;
padding:0 16px;color:#1f2328}
h1{font-size:1.6em;margin:.2em 0}h1 small{display:block;font-size:.62em;color:#57606a;font-weight:normal}
h2{font-size:1.2em;margin-top:1.8em;border-bottom:1px solid #d0d7de;padding-bottom:.2em}
table{border-collapse:collapse;width:100%;margin:.6em 0;font-size:.86em}
th,td{border:1px solid #d0d7de;padding:.3em .45em;vertical-align:top;text-align:left;overflow-wrap:anywhere}
th{background:#f6f8fa;font-weight:600}td.n{text-align:right;font-variant-numeric:tabular-nums}
tbody tr:nth-child(even){background:#fafbfc}td small{color:#57606a}
table.sortable th{cursor:pointer;user-select:none}table.sortable th::after{content:" \\2195";color:#8c959f}
table.sortable th[aria-sort=ascending]::after{content:" \\25B2"}
table.sortable th[aria-sort=descending]::after{content:" \\25BC"}
.yes{color:#1a7f37;font-weight:600}.no{color:#b42318;font-weight:600}.uncertain{color:#9a6700}
.kpis{display:flex;flex-wrap:wrap;gap:.8em;margin:1em 0}
.kpi{padding:.6em 1em;border:1px solid #d0d7de;border-radius:6px;min-width:10em}.kpi b{font-size:1.8em;display:block}
figure{margin:1em 0}figure img{max-width:100%;height:auto;border:1px solid #d0d7de}
.note{color:#57606a;font-size:.9em}table.prov th{width:13em;overflow-wrap:normal}
table.prov th[scope=rowgroup]{width:8em}.w{white-space:nowrap}code{overflow-wrap:anywhere}
@page{size:A4;margin:12mm}
@media print{body{max-width:none;margin:0;padding:0;font-size:9pt}nav{display:none}
a{color:inherit;text-decoration:none}table{font-size:7.5pt}thead{display:table-header-group}
tr,figure,.kpi{break-inside:avoid}h2{break-after:avoid}table.sortable th::after{content:none}
th{print-color-adjust:exact;-webkit-print-color-adjust:exact}}"""

# click (or Enter/Space on) a header to sort by it; numbers by value, text in Vietnamese order, blanks last
_SORT_JS = """(function(){
function key(td){var v=td.getAttribute("data-v");if(v===null){v=td.textContent;}v=v.trim();
if(v===""||v==="\\u2014"){return null;}var n=Number(v);return isNaN(n)?v.toLowerCase():n;}
function sort(t,i,th){var asc=th.getAttribute("aria-sort")!=="ascending";
t.querySelectorAll("th").forEach(function(h){h.removeAttribute("aria-sort");});
th.setAttribute("aria-sort",asc?"ascending":"descending");var b=t.tBodies[0];
var rows=Array.prototype.slice.call(b.rows).map(function(r,k){return [key(r.cells[i]),k,r];});
rows.sort(function(x,y){if(x[0]===null||y[0]===null){return x[0]===y[0]?x[1]-y[1]:(x[0]===null?1:-1);}
var c=(typeof x[0]===typeof y[0])?(typeof x[0]==="number"?x[0]-y[0]:x[0].localeCompare(y[0],"vi"))
:(typeof x[0]==="number"?-1:1);return (asc?c:-c)||x[1]-y[1];});
rows.forEach(function(r){b.appendChild(r[2]);});}
document.querySelectorAll("table.sortable").forEach(function(t){
t.querySelectorAll("thead th").forEach(function(th,i){th.tabIndex=0;
th.addEventListener("click",function(){sort(t,i,th);});
th.addEventListener("keydown",function(e){if(e.key==="Enter"||e.key===" "){e.preventDefault();sort(t,i,th);}});});});
})();"""

_UNIT_WORDS = {"(unknown)": "(chưa rõ / unknown)"}
_VERDICT_ORDER = {"yes": "0", "uncertain": "1", "no": "2"}

Cell = tuple[str, str | None]  # (escaped HTML, sort key or None for the cell's text)


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _td(cell: Cell, cls: str = "") -> str:
    body, key = cell
    attrs = f' class="{cls}"' if cls else ""
    if key is not None:
        attrs += f' data-v="{_e(key)}"'
    return f"<td{attrs}>{body}</td>"


def _f(value: Any) -> float:
    return float(value)


def _num_key(value: object) -> str | None:
    if is_missing(value):
        return ""
    try:
        return repr(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _table(
    headers: Sequence[str], rows: Sequence[Sequence[Cell]], *, sortable: bool = True, numeric: Sequence[bool] = ()
) -> str:
    cls = ' class="sortable"' if sortable else ""
    head = "".join(f'<th scope="col">{_e(h)}</th>' for h in headers)
    body = []
    for row in rows:
        tds = [_td(c, "n" if i < len(numeric) and numeric[i] else "") for i, c in enumerate(row)]
        body.append("<tr>" + "".join(tds) + "</tr>")
    return f"<table{cls}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _frame_table(df: pd.DataFrame) -> str:
    """A summary table (by district, by commune) with bilingual headers and formatted numbers."""
    if df.empty:
        return '<p class="note">Không có / none.</p>'
    numeric = [pd.api.types.is_numeric_dtype(df[c]) for c in df.columns]
    rows = [
        [
            (_e(_UNIT_WORDS.get(str(v), fmt_number(v))), _num_key(v) if isnum else None)
            for v, isnum in zip(row, numeric, strict=True)
        ]
        for row in df.itertuples(index=False)
    ]
    return _table([COLUMN_LABELS.get(str(c), str(c)) for c in df.columns], rows, numeric=numeric)


def _verdict_html(code: object) -> str:
    if is_missing(code):
        return MISSING
    c = str(code)
    if c not in VERDICT_LABELS:
        return _e(c)
    vi, en = VERDICT_LABELS[c].split(" / ")
    return f'<span class="{c}"><span class="w">{_e(vi)}</span> / <span class="w">{_e(en)}</span></span>'


def _small(text: str) -> str:
    return f"<br><small>{text}</small>" if text and text != MISSING else ""


def _corridor_cell(row: Mapping[str, Any], cid: str) -> Cell:
    """One corridor's verdict and distance interval, e.g. "có / yes · 1.2–3.4 km"."""
    verdict, lo, hi = row.get(f"verdict_{cid}"), row.get(f"dmin_{cid}_km"), row.get(f"dmax_{cid}_km")
    unc = row.get("uncertainty_m")
    if not is_missing(lo) and not is_missing(hi):
        span = f"{fmt_km(lo, unc)}–{fmt_km(hi, unc)} km"
    else:
        d = row.get(f"dist_{cid}_km")
        span = f"{fmt_km(d, unc)} km" if not is_missing(d) else ""
    key = _VERDICT_ORDER.get(str(verdict), "3") + (f"{_f(lo):09.3f}" if not is_missing(lo) else "")
    return _verdict_html(verdict) + _small(_e(span)), key


def _place_text(row: Mapping[str, Any]) -> tuple[str, str]:
    unit = row.get("commune_2025")
    unit = row.get("commune") if is_missing(unit) or not str(unit).strip() else unit
    main = MISSING if is_missing(unit) else str(unit).replace(";", "; ")
    dist = row.get("district")
    return main, "" if is_missing(dist) else str(dist).replace(";", "; ")


def _site_row(row: Mapping[str, Any], corridor_ids: Sequence[str], stacked: bool) -> list[Cell]:
    unc, prec = row.get("uncertainty_m"), row.get("precision_m")
    name, sid = row.get("name"), row.get("site_id")
    place, district = _place_text(row)
    dist = row.get("distance_km")
    near = "" if is_missing(row.get("nearest_corridor")) else str(row.get("nearest_corridor"))
    near_txt = f"{fmt_km(dist, unc)} ± {fmt_km(_f(unc) / 1000, unc)} km" if not is_missing(dist) else MISSING
    if is_missing(unc) and not is_missing(dist):
        near_txt = f"{fmt_km(dist)} km"
    prec_txt = f"± {fmt_km(_f(prec) / 1000, prec)} km" if not is_missing(prec) else ""
    cells: list[Cell] = [
        (f"<b>{_e(_label(name, {}))}</b>" + _small(_e(_label(sid, {}))), None if is_missing(name) else str(name)),
        (_e(_label(row.get("kind"), {})) + _small(_e(_label(row.get("phase"), PHASE_LABELS))), None),
        (_e(fmt_number(row.get("area_ha"))), _num_key(row.get("area_ha"))),
        (_e(place) + _small(_e(district)), place),
        (_e(_label(row.get("location_method"), METHOD_LABELS)) + _small(_e(prec_txt)), _num_key(prec)),
        ((_e(near) + "<br>" if near else "") + _e(near_txt), _num_key(dist)),
    ]
    per = [_corridor_cell(row, cid) for cid in corridor_ids]
    if stacked and per:
        cells.append(
            ("<br>".join(f"{_e(cid)}: {body}" for cid, (body, _) in zip(corridor_ids, per, strict=True)), None)
        )
    else:
        cells += per
    verdict = row.get("within_buffer")
    share = row.get("p_within")
    share_txt = "" if is_missing(share) else f"{fmt_number(round(_f(share) * 100))} % trong vùng đệm / within"
    cells.append((_verdict_html(verdict) + _small(_e(share_txt)), _VERDICT_ORDER.get(str(verdict), "3")))
    applies = row.get("rule_applies")
    cells.append((_e(fmt_number(bool(applies)) if not is_missing(applies) else MISSING), None))
    return cells


def _sites_html(sites: pd.DataFrame, corridor_ids: Sequence[str], buffer_km: float) -> str:
    shown = [c for c in corridor_ids if f"verdict_{c}" in sites.columns]
    stacked = len(shown) > 4
    headers = [
        "Khu, cụm / Site",
        "Loại, giai đoạn / Kind, phase",
        "Diện tích (ha) / Area (ha)",
        "Xã 2025, huyện / 2025 commune, district",
        "Cách định vị / Located by",
        "Hành lang gần nhất / Nearest corridor",
    ]
    if stacked:
        headers.append(f"Theo hành lang (≤ {buffer_km:g} km) / Per corridor")
    else:
        headers += [f"{c} (≤ {buffer_km:g} km)" for c in shown]
    headers += ["Kết luận / Verdict", "Áp dụng quy tắc / Rule applies"]
    records = sites.astype(object).where(pd.notna(sites), None).to_dict(orient="records")
    rows = [_site_row(r, shown, stacked) for r in records]
    numeric = [False, False, True]
    return _table(headers, rows, numeric=numeric)


def _targets_html(result: RuleResult) -> str:
    rows = _target_rows(result)
    if _user_scope(result):
        table = (
            _table(
                ["Chỉ tiêu / Target", "Quy hoạch / Plan"],
                [[(_e(r["target"]), None), (_e(r["plan"]), None)] for r in rows],
                sortable=False,
            )
            if rows
            else ""
        )  # a user's table is not compared with the plan: the note says so, no empty table
        note_vi, note_en = result.coverage.get("targets_note_vi", ""), result.coverage.get("targets_note_en", "")
        return f'{table}<p class="note">{_e(note_vi)}<br><i>{_e(note_en)}</i></p>'
    headers = ["Chỉ tiêu / Target", "Quy hoạch / Plan", "Dữ liệu / Data", "Chênh lệch / Gap", "Cách đếm / How counted"]
    cells = [[(_e(r[k]), None) for k in ("target", "plan", "in_data", "gap", "how")] for r in rows]
    return _table(headers, cells, sortable=False, numeric=[False, True, True, True])


def _provenance_html(result: RuleResult) -> str:
    parts = []
    for layer, fields in _provenance_rows(result):
        span = max(1, len(fields))
        first = f'<th scope="rowgroup" rowspan="{span}">{_e(layer)}</th>'
        if not fields:
            parts.append(f"<tr>{first}<td colspan=2>{MISSING}</td></tr>")
        for i, (k, v) in enumerate(fields):
            parts.append(f'<tr>{first if i == 0 else ""}<th scope="row">{_e(k)}</th><td>{_e(v)}</td></tr>')
    head = (
        '<tr><th scope="col">Lớp / Layer</th><th scope="col">Mục / Field</th><th scope="col">Giá trị / Value</th></tr>'
    )
    return f'<table class="prov"><thead>{head}</thead><tbody>{"".join(parts)}</tbody></table>'


def _scope_words(spec: str) -> str:
    """The rule's scope (``KIND[:PHASE|PHASE…][,KIND…]`` or ``all``) in words."""
    if spec.strip().lower() == "all":
        return "tất cả các khu, cụm / all sites"
    parts = []
    for part in filter(None, (p.strip() for p in spec.split(","))):
        kind, _, phases = part.partition(":")
        names = [_label(p.strip(), PHASE_LABELS) for p in phases.split("|") if p.strip()]
        parts.append(f"{kind.strip()}: " + (", ".join(names) if names else "mọi giai đoạn / all phases"))
    return "; ".join(parts)


def _per_corridor_html(result: RuleResult, corridor_names: Mapping[str, str]) -> str:
    counts = per_corridor_counts(result)
    if counts.empty:
        return ""
    rows = [
        [(_e(f"{r.corridor} ({corridor_names[r.corridor]})" if r.corridor in corridor_names else r.corridor), None)]
        + [(_e(fmt_number(int(getattr(r, k)))), str(getattr(r, k))) for k in VERDICT_LABELS]
        for r in counts.itertuples(index=False)
    ]
    headers = ["Hành lang / Corridor", *(VERDICT_LABELS[k].capitalize() for k in VERDICT_LABELS)]
    return _table(headers, rows, sortable=False, numeric=[False, True, True, True])


def _rule_html(result: RuleResult, corridor_names: Mapping[str, str]) -> str:
    r, c = result.rule, result.counts["applicable"]
    names = ", ".join(f"{cid} ({corridor_names[cid]})" if cid in corridor_names else cid for cid in r["corridors"])
    kpis = "".join(
        f'<div class="kpi {k}"><b>{_e(fmt_number(int(c[k])))}</b>{_e(VERDICT_LABELS[k])}</div>'
        for k in ("yes", "no", "uncertain")
    )
    return f"""<p>{_e(r["text_vi"])}<br><i>{_e(r["text_en"])}</i></p>
<p>Vùng đệm / buffer <b>{_e(f"{r['buffer_km']:g}")} km</b> · hành lang / corridors: {_e(names)}
· áp dụng cho / applies to: {_e(_scope_words(str(r["applies_to"])))}</p>
<p>Số khu, cụm mà quy tắc áp dụng, theo kết luận / Sites the rule applies to, by verdict:</p>
<div class="kpis">{kpis}</div>
{_per_corridor_html(result, corridor_names)}
<p class="note">Kết luận có tính đến độ bất định vị trí của khu và của hành lang: “có” khi chắc chắn nằm trong
vùng đệm, “không” khi chắc chắn nằm ngoài, còn lại “chưa chắc”.<br><i>Verdicts account for the positional
uncertainty of the site and of the corridor: yes when surely within the buffer, no when surely outside it,
otherwise uncertain.</i></p>
<details class="note"><summary>Chi tiết phương pháp / Method detail</summary>
<p>{_e(r["precision_policy"])}</p><p><code>applies_to = {_e(r["applies_to"])}</code></p></details>"""


def report_html(
    result: RuleResult,
    sites: pd.DataFrame,
    *,
    has_png: bool,
    corridor_names: Mapping[str, str] | None = None,
    title: str = "Kiểm tra quy hoạch / Plan check",
) -> str:
    """``report.html``: the compliance report for people, bilingual, offline, printable on A4.

    Parameters
    ----------
    result : RuleResult
        The rule's outcome (:func:`vpgeo.rules.check_priority_rule`).
    sites : DataFrame
        The :func:`sites_table` of ``result``.
    has_png : bool
        Show ``map.png`` (written next to the report).
    corridor_names : mapping, optional
        Corridor id → display name, shown next to the rule's corridors.
    title : str
        The page's title (escaped).

    Every value is HTML-escaped; the only script is the static table sorter (no network access).
    """
    cov = result.coverage
    data = result.data
    meta = " · ".join(
        _e(("vpgeo " if k == "vpgeo_version" else "") + str(data[k]))
        for k in ("plan", "vpgeo_version", "generated_at")
        if data.get(k)
    )
    png = (
        '<figure><img src="map.png" alt="Bản đồ các khu, cụm và hành lang / Map of the sites and corridors">'
        '<figcaption class="note">Bản đồ tĩnh / Static map (map.png)</figcaption></figure>'
        if has_png
        else ""
    )
    corridor_ids = [str(c) for c in result.rule.get("corridors", [])]
    return f"""<!DOCTYPE html>
<html lang="vi"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(title)} — vpgeo</title>
<style>{_CSS}</style></head><body>
<header><h1>Vĩnh Phúc: khu, cụm công nghiệp dọc hành lang giao thông<small>Industrial parks and clusters along
the transport corridors — {_e(title)}</small></h1>
<p class="note">{meta}</p>
<nav><a href="index.html">Bản đồ / Map</a> · <a href="sites.csv">sites.csv</a> ·
<a href="compliance.json">compliance.json</a> · <a href="compliance.md">compliance.md</a></nav></header>
<main>
<h2>Quy tắc / The rule</h2>
{_rule_html(result, corridor_names or {})}
{png}
<h2>Chỉ tiêu quy hoạch / Plan targets</h2>
{_targets_html(result)}
<h2>Dữ liệu có gì / What the data cover</h2>
<p>{_e(cov.get("statement_vi", ""))}<br><i>{_e(cov.get("statement_en", ""))}</i></p>
<p class="note">Không có vị trí / without a position: {_e(fmt_number(cov.get("sites_without_position")))} ·
không có diện tích / without an area: {_e(fmt_number(cov.get("sites_without_area")))}</p>
<h2>Theo huyện (trước 2025) / By legacy district</h2>
{_frame_table(result.by_district)}
<h2>Theo xã, phường 2025 / By 2025 commune</h2>
{_frame_table(result.by_commune_2025)}
<h2>Các khu, cụm / Sites</h2>
<p class="note">Bấm vào tiêu đề cột để sắp xếp. Mọi cột, nguồn và ghi chú: sites.csv.<br><i>Click a column
header to sort. All columns, sources and notes: sites.csv.</i></p>
{_sites_html(sites, corridor_ids, float(result.rule["buffer_km"]))}
<h2>Nguồn dữ liệu / Provenance</h2>
{_provenance_html(result)}
</main>
<script>{_SORT_JS}</script>
</body></html>
"""
