"""Text keys and the address tokenizer: keywords, name spans, village/street parts skipped."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

_MAX_SPAN = 5  # words in the longest name looked up ("Bà Rịa Vũng Tàu", "Sao Đại Việt")
_MAX_TEXT = 500  # characters of one address read; longer text is cut (and noted)

# ------------------------------------------------------------------------------------------ text keys


@lru_cache(maxsize=65536)
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
    ("địa", "chỉ"): (_SKIP, None),  # a label: "Địa chỉ: thôn Nội, ..."
    ("đc",): (_SKIP, None),
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
    "quốc lộ",
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
    ("dia", "chi"): (_SKIP, None),
    ("dc",): (_SKIP, None),
    ("address",): (_SKIP, None),
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


_TONES = {"\u0300": "2", "\u0301": "1", "\u0303": "4", "\u0309": "3", "\u0323": "5"}
_Y_TO_I = str.maketrans("y", "i")


@lru_cache(maxsize=65536)
def _tkey(text: str) -> str:
    """Tonal key: lower case, no spaces, tone mark moved to the end of each word (``Hoà`` = ``Hòa``).

    Vowel letters (â ă ê ô ơ ư đ) and the tone are kept, so ``Đại Từ`` ≠ ``Đại Tự`` and ``Quảng Yên`` ≠
    ``Quang Yên``; ``y``/``i`` are one letter as in :func:`_ckey`.

    >>> _tkey("Hoà Bình") == _tkey("Hòa Bình"), _tkey("Đại Từ") == _tkey("Đại Tự")
    (True, False)
    """
    out = []
    for word in _WORD.findall(unicodedata.normalize("NFC", text).lower()):
        tone = ""
        kept = []
        for ch in unicodedata.normalize("NFD", word):
            if ch in _TONES:
                tone = _TONES[ch]
            else:
                kept.append(ch)
        out.append(unicodedata.normalize("NFC", "".join(kept)).translate(_Y_TO_I) + tone)
    return "".join(out)


def _has_marks(text: str) -> bool:
    """True when the text carries Vietnamese diacritics (then tones are evidence)."""
    return _ascii(text) != text.lower()


@dataclass
class _Token:
    key: str
    text: str
    hint: str | None
    type_hint: str | None
    seg: int
    fuzzy: float = 1.0  # similarity when found by fuzzy search
    pos: int = 0  # order in the text (words)
    alone: bool = False  # its segment holds names and keywords only (no street, village or other words)
    glued: bool = False  # followed in its part by a word that is no name ("Hoàng Hoa Thám": a street)
    skipped: bool = False  # inside a village, street or park part ("KCN Phúc Yên"): not a unit of the address


@dataclass
class _Free:
    words: list[str]
    hint: str | None
    type_hint: str | None
    seg: int
    whole_segment: bool = False
    pos: int = 0
    text: str = ""  # the words as written (lower case)


_HOUSE_NUMBER = re.compile(r"^\d")


class _Segment:
    """Scan one comma-separated part of an address into name tokens and free word runs."""

    def __init__(self, words: list[str], seg: int, base: int, keys: frozenset[str]) -> None:
        self.words, self.seg, self.base, self.keys = words, seg, base, keys
        self.folded = [_ascii(w) for w in words]
        self.asc = [f.replace("y", "i") for f in self.folded]
        self.plain = [_ascii(w) == w for w in words]
        self.hint: str | None = None
        self.type_hint: str | None = None
        # a part that starts with a house number ("259 Mê Linh") is a street address, like "số 259 ..."
        self.skipping = bool(_HOUSE_NUMBER.match(words[0]))
        self.skipped = self.skipping
        self.run: list[str] = []
        self.run_pos = 0
        self.tokens: list[_Token] = []
        self.free: list[_Free] = []

    def keyword(self, i: int, vi: bool = True) -> tuple[int, tuple[str, str | None]] | None:
        kw = _keyword(self.words, i, _KW_VI) if vi else None
        if kw is not None:
            return kw
        kw = _keyword(self.folded, i, _KW_ASCII)
        if kw is not None and any(not self.plain[j] for j in range(i, i + kw[0])):
            return None  # "Phương" is a name, only an unaccented "phuong" may mean "phường"
        return kw

    def names_to_end(self, i: int) -> int:
        """How many names the words from ``i`` to the end of the part are (0 unless names/keywords only)."""
        count = 0
        n = len(self.words)
        while i < n:
            span = _name_span(self.asc, i, self.keys)
            if span:
                count += 1
                i += span
                continue
            kw = self.keyword(i)
            if kw is None or kw[1][0] == _SUB:
                return 0
            i += kw[0]
        return count

    def _free_word(self, i: int) -> bool:
        """Whether word ``i`` is a word of a longer name: letters, no keyword, no name of a unit."""
        if i >= len(self.words) or not self.words[i].isalpha():
            return False
        return self.keyword(i) is None and not _name_span(self.asc, i, self.keys)

    def flush(self) -> None:
        if self.run:
            text = " ".join(self.words[self.run_pos - self.base : self.run_pos - self.base + len(self.run)])
            self.free.append(_Free(list(self.run), self.hint, self.type_hint, self.seg, pos=self.run_pos, text=text))
            self.run.clear()
            # a type word names the words right after it: in "xã Tà Lài Tân Phú" Tân Phú is not marked
            self.hint, self.type_hint = None, None

    def take_name(self, i: int, span: int) -> None:
        self.flush()
        text = " ".join(self.words[i : i + span])
        key = "".join(self.asc[i : i + span])
        self.tokens.append(_Token(key, text, self.hint, self.type_hint, self.seg, pos=self.base + i))
        self.hint, self.type_hint = None, None

    def take_keyword(self, kind: str, tname: str | None) -> None:
        self.flush()
        if kind == _SUB:
            self.skipping = self.skipped = True
        elif kind != _SKIP:
            self.skipping = False
            self.hint, self.type_hint = kind, tname

    def scan(self) -> None:
        i, n = 0, len(self.words)
        while i < n:
            # words after Khu/Thôn/Đường ... are skipped, unless the rest of the part is two names or more
            # ("Khu 5 Tiền Châu Phúc Yên": no commas, the commune and the city follow the village)
            if self.skipping and self.names_to_end(i) >= 2:
                self.skipping = False
            kw = _keyword(self.words, i, _KW_VI)
            span = _name_span(self.asc, i, self.keys)
            if kw is not None and span <= kw[0]:
                span = 0  # a keyword, unless a longer name starts with it ("Nhà Bè", "Quốc Oai")
            if span and not self.skipping:
                self.take_name(i, span)
                i += span
                self.tokens[-1].glued = self._free_word(i)
                continue
            if span:
                key = "".join(self.asc[i : i + span])
                text = " ".join(self.words[i : i + span])
                self.tokens.append(_Token(key, text, None, None, self.seg, pos=self.base + i, skipped=True))
                i += span
                continue
            kw = kw if kw is not None else self.keyword(i, vi=False)
            if kw is not None:
                self.take_keyword(*kw[1])
                i += kw[0]
                continue
            if not self.skipping:
                if not self.run:
                    self.run_pos = self.base + i
                self.run.append(self.asc[i])
            i += 1
        self.flush()
        if len(self.free) == 1 and not [t for t in self.tokens if not t.skipped]:
            self.free[0].whole_segment = True
        if not self.free and not self.skipped:
            for t in self.tokens:
                t.alone = True


def _tokenize(text: str, all_keys: frozenset[str]) -> tuple[list[_Token], list[_Free]]:
    """Name tokens (keys in ``all_keys``) and free word runs of an address, smallest unit first."""
    tokens: list[_Token] = []
    free: list[_Free] = []
    base = 0
    # codenames as other packages write them: "xa_dao_tu", "huyen_tam_duong"
    text = text.replace("_", " ").replace(".", " . ")
    for seg_no, segment in enumerate(_SEPARATORS.split(text)):
        n_words, seg_tokens, seg_free = _scan(segment.lower(), all_keys)
        if not n_words:
            continue
        tokens.extend(replace(t, seg=seg_no, pos=t.pos + base) for t in seg_tokens)
        free.extend(replace(f, seg=seg_no, pos=f.pos + base, words=list(f.words)) for f in seg_free)
        base += n_words
    return tokens, free


@lru_cache(maxsize=16384)
def _scan(segment: str, all_keys: frozenset[str]) -> tuple[int, tuple[_Token, ...], tuple[_Free, ...]]:
    """One part of an address, scanned once (parts repeat across rows: "huyện Tam Dương", "Vĩnh Phúc")."""
    words = _WORD.findall(segment)
    if not words:
        return 0, (), ()
    scan = _Segment(words, 0, 0, all_keys)
    scan.scan()
    return len(words), tuple(scan.tokens), tuple(scan.free)


def _keyword(
    words: Sequence[str], i: int, table: dict[tuple[str, ...], tuple[str, str | None]]
) -> tuple[int, tuple[str, str | None]] | None:
    for length in range(min(_KW_LEN, len(words) - i), 0, -1):
        hit = table.get(tuple(words[i : i + length]))
        if hit is not None:
            return length, hit
    return None


def _name_span(asc: Sequence[str], i: int, keys: frozenset[str]) -> int:
    for length in range(min(_MAX_SPAN, len(asc) - i), 0, -1):
        if "".join(asc[i : i + length]) in keys:
            return length
    return 0
