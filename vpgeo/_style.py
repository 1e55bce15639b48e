"""ONE fixed map style, bilingual (Vietnamese first) and colour-blind safe, for the HTML map, the PNG and notebooks.

Colours are fixed per kind and per verdict, whatever kinds a layer happens to hold, so a ring road is the
same colour in the report, the PNG and every notebook. Categorical colours come from the Okabe–Ito palette
(Okabe & Ito 2008, "Color Universal Design"), distinguishable with the common colour-vision deficiencies;
ordered quantities use viridis (candidates, surface) and YlOrRd (choropleth).

No heavy imports: notebooks and the report may import this cheaply.

Examples
--------
>>> corridor_kind("ring_road").label
'Đường vành đai / Ring road'
>>> corridor_kind("ring_road").colour == CORRIDOR_KIND["ring_road"].colour
True
>>> verdict("YES").label, verdict(None).label
('Trong vùng đệm / Within buffer', 'Chưa đánh giá / Not judged')
>>> site_kind("ccn").colour
'#E69F00'
"""

from __future__ import annotations

from typing import NamedTuple

from vpgeo._format import is_missing

__all__ = [
    "BANDS", "CANDIDATE", "CHORO", "COLUMN_LABELS", "CORRIDOR_KIND", "OKABE_ITO", "SITE_KIND", "STATUS", "SURFACE",
    "VALUE_LABELS", "VERDICT", "Swatch", "band_colour", "column_label", "corridor_kind", "site_kind", "status",
    "value_label", "verdict",
]  # fmt: skip


class Swatch(NamedTuple):
    """A colour and its bilingual legend text (Vietnamese / English)."""

    colour: str
    vi: str
    en: str

    @property
    def label(self) -> str:
        return f"{self.vi} / {self.en}"


OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
    "grey": "#999999",
}
_O = OKABE_ITO

SITE_KIND: dict[str, Swatch] = {
    "KCN": Swatch(_O["reddish_purple"], "KCN – Khu công nghiệp", "Industrial park"),
    "CCN": Swatch(_O["orange"], "CCN – Cụm công nghiệp", "Industrial cluster"),
}
SITE_KIND_OTHER = Swatch("#555555", "Loại khác", "Other kind")

VERDICT: dict[str, Swatch] = {
    "yes": Swatch(_O["bluish_green"], "Trong vùng đệm", "Within buffer"),
    "no": Swatch(_O["vermillion"], "Ngoài vùng đệm", "Outside buffer"),
    "uncertain": Swatch(_O["yellow"], "Chưa chắc chắn", "Uncertain"),
}
VERDICT_NONE = Swatch("#BBBBBB", "Chưa đánh giá", "Not judged")

CORRIDOR_KIND: dict[str, Swatch] = {
    "expressway": Swatch(_O["vermillion"], "Cao tốc", "Expressway"),
    "national_road": Swatch(_O["blue"], "Quốc lộ", "National road"),
    "ring_road": Swatch(_O["bluish_green"], "Đường vành đai", "Ring road"),
}
CORRIDOR_KIND_OTHER = Swatch("#555555", "Tuyến khác", "Other road")

# Codes shown in popups and tables, in words (Vietnamese / English).
VALUE_LABELS: dict[str, dict[str, str]] = {
    "phase": {
        "existing": "Hiện có / Existing",
        "new_2030": "Mới đến 2030 / New by 2030",
        "2031_2050": "Giai đoạn 2031–2050 / 2031–2050",
        "older_plan": "Quy hoạch cũ / Older plan",
        "unknown": "Chưa rõ / Unknown",
    },
    "location_method": {
        "published_point": "Điểm đã công bố / Published point",
        "commune_centroid": "Điểm của xã / Commune point",
        "none": "Không có vị trí / No position",
    },
    "access_kind": {
        "interchange": "Nút giao liên thông / Interchange",
        "toll": "Trạm thu phí / Toll plaza",
        "junction": "Nút giao / Junction",
    },
}

# Line dash (SVG stroke-dasharray, None = solid) and label per corridor status.
STATUS: dict[str, tuple[str | None, str]] = {
    "built": (None, "Đã xây dựng / Built"),
    "under_construction": ("10 7", "Đang xây dựng / Under construction"),
    "planned": ("1 8", "Quy hoạch / Planned"),
}

# Distance bands, innermost first: hues that differ (not shades of one hue), so 0–2 and 2–5 km stand apart.
BANDS = [_O["blue"], _O["orange"], _O["sky_blue"], _O["reddish_purple"], _O["yellow"], _O["bluish_green"]]
CHORO = ["#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"]  # ColorBrewer YlOrRd-5
CANDIDATE = ["#440154", "#3b528b", "#21918c", "#5ec962", "#fde725"]  # viridis-5, low → high score
SURFACE = ["#440154", "#482878", "#3e4989", "#31688e", "#26828e", "#1f9e89", "#35b779", "#6ece58", "#fde725"]

COLUMN_LABELS = {
    "site_id": "Mã / ID",
    "name": "Tên / Name",
    "name_en": "Tên tiếng Anh / English name",
    "kind": "Loại / Kind",
    "phase": "Giai đoạn / Phase",
    "status": "Tình trạng / Status",
    "area_ha": "Diện tích (ha) / Area (ha)",
    "district": "Huyện (trước 2025) / District (pre-2025)",
    "commune_2025": "Xã/phường 2025 / Commune (2025)",
    "precision_m": "Độ chính xác vị trí (m) / Position precision (m)",
    "location_method": "Cách định vị / Location method",
    "distance_km": "Khoảng cách tới hành lang (km) / Distance to corridor (km)",
    "nearest_corridor": "Hành lang gần nhất / Nearest corridor",
    "within_buffer": "Kết luận / Verdict",
    "p_within": "Tỷ lệ vùng vị trí trong vùng đệm / Share of the position region within the buffer",
    "uncertainty_m": "Sai số (m) / Uncertainty (m)",
    "corridor_id": "Mã hành lang / Corridor ID",
    "section": "Đoạn / Section",
    "priority": "Ưu tiên / Priority",
    "source": "Nguồn / Source",
    "access_id": "Mã / ID",
    "code": "Mã / Code",
    "short": "Tên ngắn / Short name",
    "area_km2": "Diện tích (km²) / Area (km²)",
    "band": "Dải / Band",
    "inner_km": "Từ (km) / From (km)",
    "outer_km": "Đến (km) / To (km)",
    "score": "Điểm / Score",
    "rank": "Hạng / Rank",
    "industrial_ha": "Đất công nghiệp (ha) / Industrial land (ha)",
    "n_kcn": "Số KCN / Industrial parks",
    "n_ccn": "Số CCN / Industrial clusters",
}


def _key(value: object) -> str:
    return "" if is_missing(value) else str(value).strip()


def site_kind(value: object) -> Swatch:
    """Style of a site kind (KCN, CCN; anything else → other)."""
    return SITE_KIND.get(_key(value).upper(), SITE_KIND_OTHER)


def verdict(value: object) -> Swatch:
    """Style of a rule verdict (yes, no, uncertain; missing → not judged)."""
    return VERDICT.get(_key(value).lower(), VERDICT_NONE)


def corridor_kind(value: object) -> Swatch:
    """Style of a corridor kind (expressway, national_road, ring_road; anything else → other road)."""
    return CORRIDOR_KIND.get(_key(value).lower().replace(" ", "_").replace("-", "_"), CORRIDOR_KIND_OTHER)


def status(value: object) -> tuple[str | None, str] | None:
    """(dash, label) of a known corridor status, or None."""
    return STATUS.get(_key(value).lower().replace(" ", "_"))


def value_label(column: str, value: object) -> str | None:
    """Bilingual words for a code of ``column`` (phase, location_method, kind, within_buffer, status...), or None.

    Examples
    --------
    >>> value_label("phase", "older_plan"), value_label("kind", "ring_road"), value_label("phase", "x")
    ('Quy hoạch cũ / Older plan', 'Đường vành đai / Ring road', None)
    """
    key = _key(value)
    if column == "kind":
        for lookup in (SITE_KIND.get(key.upper()), CORRIDOR_KIND.get(key.lower())):
            if lookup is not None:
                return lookup.label
        return VALUE_LABELS["access_kind"].get(key.lower())
    if column == "within_buffer" or column.startswith("verdict_"):
        return verdict(value).label
    if column == "status":
        known = status(value)
        return known[1] if known else None
    return VALUE_LABELS.get(column, {}).get(key)


def band_colour(i: int) -> str:
    """Colour of the ``i``-th distance band, innermost = 0 (the last colour repeats beyond six)."""
    return BANDS[min(max(int(i), 0), len(BANDS) - 1)]


def column_label(col: str) -> str:
    """Bilingual label of a column (the column name itself when unknown)."""
    if col.startswith("verdict_"):
        return f"Kết luận {col[8:]} / Verdict {col[8:]}"
    return COLUMN_LABELS.get(col, col)
