"""The one commune resolver other modules call: a name (and optionally its district) to codes and a point."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from vpgeo import gazetteer
from vpgeo.errors import GeocodeError
from vpgeo.geocoding._resolve import match_name

_VINTAGES = ("any", "legacy", 2025, "2025")
PLACED = ("exact", "fuzzy", "historical")


@dataclass(frozen=True)
class CommuneMatch:
    """What :func:`resolve_commune` found.

    ``status`` is a :data:`~vpgeo.geocoding.MATCH_STATUSES` value; ``placed`` is True when a unit was found
    (exact, fuzzy or historical). ``commune``/``commune_code`` are the legacy commune (None when only the
    2025 commune is known), ``district``/``district_code`` the legacy district, ``commune_2025``/
    ``commune_2025_code`` the 2025 commune; ``lon``/``lat``/``precision_m`` the point to use and its radius;
    ``point_ok`` False when the gazetteer's own point of the legacy commune failed validation (the point given
    is then the 2025 commune's); ``note`` says what was read, repaired or why nothing was placed.
    """

    status: str
    commune: str | None
    commune_code: str | None
    district: str | None
    district_code: str | None
    commune_2025: str | None
    commune_2025_code: str | None
    lon: float
    lat: float
    precision_m: float
    score: float
    candidates: str | None
    note: str | None
    point_ok: bool

    @property
    def placed(self) -> bool:
        return self.status in PLACED

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def resolve_commune(
    name: str, district: str | None = None, *, vintage: int | str = "any", mode: str = "commune"
) -> CommuneMatch:
    """Resolve a commune name the way :func:`vpgeo.geocode` does; the resolver sites and reports use.

    Parameters
    ----------
    name : str
        A commune name: legacy ("Hội Thịnh", "TT. Hương Canh"), historical ("Vân Hội"), 2025 ("Bình
        Nguyên"), with or without diacritics, or with a typo ("Hội Thịng"); with ``mode="address"`` a whole
        address.
    district : str, optional
        The legacy district, deciding between communes of the same name.
    vintage : {"any", "legacy", 2025}
        ``"legacy"`` asks for a legacy commune: a name that only fixes the 2025 commune (several legacy
        communes merged into it) comes back ``ambiguous``; ``2025`` and ``"any"`` accept either.
    mode : {"commune", "address"}

    Examples
    --------
    >>> r = resolve_commune("Hội Thịng")
    >>> r.status, r.commune, r.commune_2025
    ('fuzzy', 'Xã Hội Thịnh', 'Xã Hội Thịnh')
    >>> r = resolve_commune("Bình Nguyên")
    >>> r.placed, r.commune, r.district, r.commune_2025_code
    (True, None, 'Huyện Bình Xuyên', '08935')
    >>> resolve_commune("Bình Nguyên", vintage="legacy").status
    'ambiguous'
    >>> resolve_commune("Xuân Hòa").candidates
    'Phường Xuân Hòa (Phúc Yên); Xã Xuân Hòa (Lập Thạch)'
    """
    if vintage not in _VINTAGES:
        raise GeocodeError(f"vintage must be 'any', 'legacy' or 2025, not {vintage!r}")
    row = match_name(name, district=district or "", mode=mode)
    status, note = row["match_status"], row["match_note"]
    if vintage == "legacy" and status in PLACED and row["commune_code"] is None:
        status = "ambiguous"
        note = "; ".join([*([note] if note else []), "only the 2025 commune is known, not the legacy one"])
    code = row["commune_code"]
    ok = gazetteer.point_ok(code) if code is not None else True
    return CommuneMatch(
        status=status,
        commune=row["commune"],
        commune_code=code,
        district=row["district"],
        district_code=row["district_code"],
        commune_2025=row["commune_2025"],
        commune_2025_code=row["commune_2025_code"],
        lon=float(row["lon"]),
        lat=float(row["lat"]),
        precision_m=float(row["precision_m"]),
        score=float(row["match_score"]) if row["match_score"] is not None else math.nan,
        candidates=row["candidates"],
        note=note,
        point_ok=ok,
    )
