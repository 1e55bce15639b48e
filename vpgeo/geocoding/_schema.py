"""Output schema of the geocoder: statuses, columns, the empty row."""

from __future__ import annotations

import math
from typing import Any

FUZZY_THRESHOLD = 0.8
MATCH_STATUSES = ("exact", "fuzzy", "historical", "ambiguous", "unmatched", "outside", "empty")
OUTPUT_COLUMNS = (
    "commune",
    "commune_code",
    "district",
    "district_code",
    "commune_2025",
    "commune_2025_code",
    "lon",
    "lat",
    "precision_m",
    "match_status",
    "match_score",
    "candidates",
    "boundary_source",
    "shares",
    "match_note",
)
EMPTY_ROW: dict[str, Any] = {c: None for c in OUTPUT_COLUMNS} | {
    "lon": math.nan,
    "lat": math.nan,
    "precision_m": math.nan,
    "match_status": "empty",
    "match_score": math.nan,
}
