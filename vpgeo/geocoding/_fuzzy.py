"""Edit-distance search over a few hundred keys (the geocoder's fuzzy matching)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable


class _Fuzzy:
    """Edit-distance search over a few hundred keys, pruned by a deletion-neighbourhood index.

    Every key is indexed under all its variants with up to two letters deleted; two strings within
    edit distance 2 share such a variant, so only those candidates are scored (SymSpell's idea).
    """

    def __init__(self, keys: Iterable[str]) -> None:
        self.keys = sorted(set(keys))
        self.index: dict[str, set[str]] = defaultdict(set)
        for k in self.keys:
            for v in _deletions(k, 2):
                self.index[v].add(k)

    def search(self, query: str, threshold: float) -> list[tuple[float, str]]:
        """Keys with similarity ≥ threshold, best first."""
        if not query:
            return []
        cands: set[str] = set()
        for v in _deletions(query, 2):
            cands |= self.index.get(v, set())
        out = []
        for k in cands:
            s = 1.0 - _osa(query, k) / max(len(query), len(k))
            if s >= threshold:
                out.append((s, k))
        out.sort(key=lambda t: (-t[0], t[1]))
        return out


def _deletions(word: str, depth: int) -> set[str]:
    out = {word}
    frontier = {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1 :] for w in frontier for i in range(len(w)) if len(w) > 1}
        out |= frontier
    return out


def _osa(a: str, b: str) -> int:
    """Optimal string alignment distance (Levenshtein plus adjacent transpositions).

    >>> _osa("hoithinh", "hoithnih"), _osa("telo", "tello"), _osa("abc", "")
    (1, 1, 3)
    """
    if a == b:
        return 0
    la, lb = len(a), len(b)
    if not la or not lb:
        return la or lb
    prev2: list[int] = []
    prev = list(range(lb + 1))
    for i in range(1, la + 1):
        cur = [i] + [0] * lb
        ai = a[i - 1]
        for j in range(1, lb + 1):
            cost = 0 if ai == b[j - 1] else 1
            v = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and ai == b[j - 2] and a[i - 2] == b[j - 1]:
                v = min(v, prev2[j - 2] + 1)
            cur[j] = v
        prev2, prev = prev, cur
    return prev[lb]
