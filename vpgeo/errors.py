"""The exceptions vpgeo raises on purpose.

All subclass :class:`VpgeoError`, itself a :class:`ValueError`, so callers can catch one type.
Messages name the argument or file at fault and say how to fix it; the CLI prints them as one line.
"""

from __future__ import annotations

__all__ = [
    "CRSError",
    "CRSWarning",
    "DataSourceError",
    "GeocodeError",
    "InputError",
    "VpgeoError",
]


class VpgeoError(ValueError):
    """Base class of every error vpgeo raises on purpose."""


class InputError(VpgeoError):
    """A user-supplied file or argument cannot be used as given.

    Parameters
    ----------
    message : str
        What is wrong and how to fix it.
    path : str, optional
        The file at fault, prefixed to the message.
    row : int, optional
        1-based data row at fault.
    field : str, optional
        Column at fault.
    """

    def __init__(
        self, message: str, *, path: str | None = None, row: int | None = None, field: str | None = None
    ) -> None:
        self.path, self.row, self.field = path, row, field
        where = []
        if path is not None:
            where.append(str(path))
        if row is not None:
            where.append(f"row {row}")
        if field is not None:
            where.append(f"field {field!r}")
        super().__init__(f"{', '.join(where)}: {message}" if where else message)


class CRSError(VpgeoError):
    """A coordinate reference system is missing, unsafe (e.g. VN-2000 without datum shift) or not metric."""


class DataSourceError(VpgeoError):
    """A pinned download could not be fetched, verified or read."""


class GeocodeError(VpgeoError):
    """Geocoding was asked for in a way that cannot work (e.g. no address, commune or coordinate columns)."""


class CRSWarning(UserWarning):
    """Geographic coordinates were reprojected to a metric CRS before an operation measured them."""
