"""Text keys and the address tokenizer: keywords, name spans, village/street parts skipped."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

_MAX_SPAN = 5  # words in the longest name looked up ("Bà Rịa Vũng Tàu", "Sao Đại Việt")
_MAX_TEXT = 500  # characters of one address read; longer text is cut (and noted)

# ------------------------------------------------------------------------------------------ text keys


def _ascii(word: str) -> str:
    decomposed = unicodedata.normalize("NFD", word.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


def _ckey(text: str) -> str:
    """Compact matching key: ASCII, no spaces, ``y`` read as ``i`` (``Hợp Lý`` = ``Hợp Lí`` = ``hopli``).

    Coarser than :func:`vpgeo.text.key` on purpose: the package's keys of merged-away names are compact
    already (``lynhan``), so the y/i rule cannot look at syllables there.
    """
    return re.sub(r"[^0-9a-z]", "", _ascii(text)).replace("y", "i")


_WORD = re.compile(r"\w+")
_SEPARATORS = re.compile(r"[,;/\\|()\[\]{}\n\r\t\-–—:]+")

# Keywords, as word tuples with diacritics (always keywords) or ASCII (keywords only where no name starts).
_C, _D, _DP, _P, _SUB, _SKIP = "commune", "district", "district_or_province", "province", "sub", "skip"
_KW_VI: dict[tuple[str, ...], tuple[str, str | None]] = {
    ("xã",): (_C, "Xã"),
    ("phường",): (_C, "Phường"),
    ("thị", "trấn"): (_C, "Thị trấn"),
    ("huyện",): (_D, None),
    ("quận",): (_D, None),
    ("thị", "xã"): (_D, None),
    ("thành", "phố"): (_DP, None),
    ("tỉnh",): (_P, None),
    ("việt", "nam"): (_SKIP, None),
}
for _w in (
    "thôn",
    "xóm",
    "tổ",
    "khu",
    "ấp",
    "bản",
    "làng",
    "đường",
    "phố",
    "số",
    "ngõ",
    "ngách",
    "hẻm",
    "lô",
    "thửa",
    "dự",
    "cụm",
    "nhà",
    "tòa",
    "tầng",
    "quốc",
    "tỉnh lộ",
    "đội",
    "khối",
    "km",
):
    _KW_VI[tuple(_w.split())] = (_SUB, None)
_KW_ASCII: dict[tuple[str, ...], tuple[str, str | None]] = {
    ("xa",): (_C, "Xã"),
    ("x",): (_C, "Xã"),
    ("phuong",): (_C, "Phường"),
    ("p",): (_C, "Phường"),
    ("thi", "tran"): (_C, "Thị trấn"),
    ("tt",): (_C, "Thị trấn"),
    ("ttr",): (_C, "Thị trấn"),
    ("huyen",): (_D, None),
    ("h",): (_D, None),
    ("quan",): (_D, None),
    ("q",): (_D, None),
    ("thi", "xa"): (_D, None),
    ("tx",): (_D, None),
    ("thanh", "pho"): (_DP, None),
    ("tp",): (_DP, None),
    ("tinh",): (_P, None),
    ("viet", "nam"): (_SKIP, None),
    ("vietnam",): (_SKIP, None),
    ("vn",): (_SKIP, None),
}
for _w in (
    "thon",
    "xom",
    "to",
    "khu",
    "kp",
    "tdp",
    "ap",
    "ban",
    "lang",
    "duong",
    "pho",
    "so",
    "ngo",
    "ngach",
    "kcn",
    "ccn",
    "km",
    "ql",
    "tl",
    "dt",
    "lo",
    "thua",
    "du an",
    "cum",
    "nha",
    "toa",
    "tang",
    "quoc lo",
    "tinh lo",
    "doi",
    "khoi",
    "kdc",
    "kdt",
    "cn",
):
    _KW_ASCII[tuple(_w.split())] = (_SUB, None)
_KW_LEN = max(len(k) for k in (*_KW_VI, *_KW_ASCII))
# -------------------------------------------------------------------------------------------- parsing


@dataclass
class _Token:
    key: str
    text: str
    hint: str | None
    type_hint: str | None
    seg: int
    fuzzy: float = 1.0  # similarity when found by fuzzy search


@dataclass
class _Free:
    words: list[str]
    hint: str | None
    type_hint: str | None
    seg: int
    whole_segment: bool = False


def _tokenize(text: str, all_keys: frozenset[str]) -> tuple[list[_Token], list[_Free]]:
    tokens: list[_Token] = []
    free: list[_Free] = []
    for seg_no, segment in enumerate(_SEPARATORS.split(text.replace(".", " . "))):
        words = [w for w in _WORD.findall(segment.lower())]
        if not words:
            continue
        asc = [_ascii(w).replace("y", "i") for w in words]
        plain = [_ascii(w) == w for w in words]
        hint: str | None = None
        type_hint: str | None = None
        skipping = False
        run: list[str] = []
        seg_tokens_before = len(tokens)
        seg_free: list[_Free] = []

        i, n = 0, len(words)
        while i < n:
            kw = _keyword(words, i, _KW_VI)
            if kw is None:
                span = _name_span(asc, i, all_keys)
                if span and not skipping:
                    _flush(run, seg_free, hint, type_hint, seg_no)
                    tokens.append(
                        _Token("".join(asc[i : i + span]), " ".join(words[i : i + span]), hint, type_hint, seg_no)
                    )
                    hint, type_hint = None, None
                    i += span
                    continue
                kw = _keyword(asc, i, _KW_ASCII)
                if kw is not None and any(not plain[j] for j in range(i, i + kw[0])):
                    kw = None  # "Phương" is a name, only an unaccented "phuong" may mean "phường"
            if kw is not None:
                length, (kind, tname) = kw
                _flush(run, seg_free, hint, type_hint, seg_no)
                if kind == _SKIP:
                    pass
                elif kind == _SUB:
                    skipping = True
                else:
                    skipping = False
                    hint, type_hint = kind, tname
                i += length
                continue
            if not skipping:
                run.append(asc[i])
            i += 1
        _flush(run, seg_free, hint, type_hint, seg_no)
        if len(seg_free) == 1 and len(tokens) == seg_tokens_before:
            seg_free[0].whole_segment = True
        free.extend(seg_free)
    return tokens, free


def _keyword(
    words: Sequence[str], i: int, table: dict[tuple[str, ...], tuple[str, str | None]]
) -> tuple[int, tuple[str, str | None]] | None:
    for length in range(min(_KW_LEN, len(words) - i), 0, -1):
        hit = table.get(tuple(words[i : i + length]))
        if hit is not None:
            return length, hit
    return None


def _flush(run: list[str], out: list[_Free], hint: str | None, type_hint: str | None, seg: int) -> None:
    if run:
        out.append(_Free(list(run), hint, type_hint, seg))
        run.clear()


def _name_span(asc: Sequence[str], i: int, keys: frozenset[str]) -> int:
    for length in range(min(_MAX_SPAN, len(asc) - i), 0, -1):
        if "".join(asc[i : i + length]) in keys:
            return length
    return 0

