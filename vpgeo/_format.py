"""One number formatter for every output (map popups, report, CSV, CLI summaries).

A figure is rounded to what its inputs support: a distance known to ±2.6 km prints with one decimal of a
kilometre at most, never 1.736912. The same value prints the same in the map, the report and the CSV
because all three call these functions. No heavy imports: the CLI uses this too.
"""

from __future__ import annotations

import math

MISSING = "—"


def is_missing(value: object) -> bool:
    """None, NaN, NaT or pandas NA (without importing pandas)."""
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    try:
        return bool(value != value)  # NaN-like scalars (numpy, pandas NA) are unequal to themselves
    except (TypeError, ValueError):
        return False


def decimals_for(precision_m: float | None, *, unit_m: float = 1000.0) -> int:
    """Decimals a value in units of ``unit_m`` metres deserves, given its precision in metres.

    The last printed digit is the largest power of ten not finer than a tenth of the precision; unknown
    precision → 1 decimal (kilometres to 100 m). Floor at 0 and cap at 3 (metres when the unit is km).

    Examples
    --------
    >>> decimals_for(2600), decimals_for(300), decimals_for(20), decimals_for(None), decimals_for(15000)
    (1, 2, 3, 1, 0)
    """
    if precision_m is None or not math.isfinite(precision_m) or precision_m <= 0:
        return 1
    step = precision_m / 10 / unit_m  # a tenth of the precision, in the unit
    return max(0, min(3, math.ceil(-math.log10(step)) if step < 1 else 0))


def round_to(value: float | None, precision_m: float | None, *, unit_m: float = 1000.0) -> float | None:
    """``value`` (in units of ``unit_m`` metres) rounded to :func:`decimals_for`; None/NaN stay None.

    Examples
    --------
    >>> round_to(1.736912, 2600), round_to(1.736912, 20), round_to(float("nan"), 20)
    (1.7, 1.737, None)
    """
    if value is None or is_missing(value):
        return None
    return round(float(value), decimals_for(precision_m, unit_m=unit_m))


def fmt_number(value: object, decimals: int | None = None) -> str:
    """Display text for a number: thin-space thousands, given decimals (or significant-by-size).

    Examples
    --------
    >>> fmt_number(12345.6), fmt_number(221.456), fmt_number(3.0), fmt_number(0.5), fmt_number(None)
    ('12 346', '221.5', '3', '0.5', '—')
    >>> fmt_number(4.0, 1), fmt_number(4.012, 1), fmt_number(True)
    ('4.0', '4.0', 'có / yes')
    """
    if is_missing(value):
        return MISSING
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return "có / yes" if value else "không / no"
    if isinstance(value, int) or type(value).__name__.startswith(("int", "uint")):
        return f"{int(value):,}".replace(",", " ")  # type: ignore[call-overload]
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value)
    if decimals is not None:
        return f"{v:,.{decimals}f}".replace(",", " ")
    if v.is_integer() and abs(v) < 1e15:
        return f"{int(v):,}".replace(",", " ")
    digits = 0 if abs(v) >= 1000 else 1 if abs(v) >= 100 else 2 if abs(v) >= 1 else 3
    text = f"{v:,.{digits}f}".replace(",", " ")
    return text.rstrip("0").rstrip(".") if "." in text else text


def fmt_km(value_km: object, precision_m: float | None = None) -> str:
    """A distance in km as text, with the decimals its precision supports (same rule as CSV).

    Examples
    --------
    >>> fmt_km(4.0123, 2600), fmt_km(4.0123, 500), fmt_km(None)
    ('4.0', '4.01', '—')
    """
    if is_missing(value_km):
        return MISSING
    return fmt_number(value_km, decimals_for(precision_m))
