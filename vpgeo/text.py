"""Vietnamese text: NFC for display, a folded key for matching.

Matching ignores case, diacritics (Đ/đ included), administrative prefixes and punctuation, and fixes the
common typing variants (``y``/``i`` after some consonants, as in "Vỹnh"). Display keeps the NFC original.

Examples
--------
>>> fold("Thị trấn Hương Canh")
'huong canh'
>>> fold("TT. Hương  Canh") == fold("huong canh") == fold("HƯƠNG CANH")
True
>>> fold("Xã Đồng Văn")
'dong van'
>>> key("Tề Lổ") == key("Tề Lỗ")
True
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["fold", "key", "nfc", "strip_prefix"]

# Prefixes are recognised with their diacritics when the text has any ("Phường Khai Quang" is a ward,
# "Phương Khoan" a name); text typed without diacritics loses one leading prefix at most.
_PREFIXES_VI = ("thành phố", "thị trấn", "thị xã", "huyện", "phường", "tỉnh", "xã", "quận")
_PREFIXES_ASCII = ("thanh pho", "thi tran", "thi xa", "huyen", "phuong", "tinh", "xa", "quan")
_ABBREVIATIONS = ("tp", "tx", "tt", "h", "p", "x", "q")
_PREFIX_VI_RE = re.compile(r"^(?:(?:" + "|".join(_PREFIXES_VI + _ABBREVIATIONS) + r")(?![\w])[.\s]*)+", re.UNICODE)
_PREFIX_ASCII_RE = re.compile(r"^(?:" + "|".join(_PREFIXES_ASCII + _ABBREVIATIONS) + r")\b[.\s]*")
_NON_WORD = re.compile(r"[^0-9a-z]+")
_LEADING_PUNCT = re.compile(r"^[\W_]+")
# "Vỹnh"/"Vĩnh", "Mỹ"/"Mĩ": a y standing for i right after the initial consonant(s) of a syllable.
_Y_AS_I = re.compile(r"^((?:ngh|ng|nh|ch|gh|gi|kh|ph|th|tr|[bcdghklmnprstvx]))y(nh|ch|n|t|m|p|c)?$")


def nfc(text: object) -> str:
    """Return ``text`` as an NFC string with collapsed white space ('' for None/NaN)."""
    if text is None or (isinstance(text, float) and text != text):
        return ""
    return " ".join(unicodedata.normalize("NFC", str(text)).split())


def _ascii(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.replace("Đ", "D").replace("đ", "d"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


def strip_prefix(folded: str) -> str:
    """Drop one leading administrative prefix (``xa``, ``tt``, ``thanh pho`` …) from a folded name."""
    out = _PREFIX_ASCII_RE.sub("", folded).strip()
    return out or folded


def fold(text: object) -> str:
    """Fold a place name for matching: no diacritics, lower case, no prefix, single spaces.

    >>> fold("Xã Phương Khoan"), fold("Phường Khai Quang"), fold("phuong khai quang")
    ('phuong khoan', 'khai quang', 'khai quang')
    """
    lowered = _LEADING_PUNCT.sub("", nfc(text).lower())  # ":Xã …" hides its prefix otherwise
    if _ascii(lowered) != lowered:  # has diacritics: prefixes are unambiguous
        stripped = _PREFIX_VI_RE.sub("", lowered).strip()
        return _NON_WORD.sub(" ", _ascii(stripped or lowered)).strip()
    return strip_prefix(_NON_WORD.sub(" ", lowered).strip())


def key(text: object) -> str:
    """A compact matching key: :func:`fold` without spaces, ``y`` read as ``i`` where both are written.

    ``key`` is vpgeo's normalised name: idempotent (``key(key(x)) == key(x)``), unlike :func:`fold`, which
    strips one prefix-like leading word from text without diacritics ("phuong khoan" → "khoan") by design.

    >>> key("Vỹnh Yên"), key("Bình Xuyên")
    ('vinhyen', 'binhxuyen')
    """
    joined = "".join(_Y_AS_I.sub(r"\1i\2", word) for word in fold(text).split())
    # joining words can form a new y-as-i syllable ("b y" → "by"): settle it so key(key(x)) == key(x)
    return _Y_AS_I.sub(r"\1i\2", joined)
