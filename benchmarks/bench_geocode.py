"""Geocoding speed, against a naive difflib baseline measured in the same process; and the fuzzy threshold.

Run::

    python benchmarks/bench_geocode.py              # 10,000 addresses: rows/s, and the ratio to the baseline
    python benchmarks/bench_geocode.py --small      # 1,000 addresses (CI, shared machines)
    python benchmarks/bench_geocode.py --threshold  # recall on typo'd Vĩnh Phúc names vs false matches on
                                                    # commune names of Hà Nội, Phú Thọ and Thái Nguyên

The addresses are built from the gazetteer's names with the variations seen in real lists: prefixes written
out, abbreviated or dropped, no diacritics, upper case, one-letter typos, historical and 2025 names, village
and industrial-park parts, and addresses in other provinces. The baseline is what one writes first: for each
comma-separated part, ``difflib.get_close_matches`` over all commune and district names. When run from a
git checkout, the geocoder as it was before the package split (``--baseline-rev``, default the last
single-module version) is timed too on the same rows, and the ratio new/old is printed.
"""

from __future__ import annotations

import argparse
import difflib
import importlib.util
import random
import sqlite3
import subprocess
import sys
import time
import unicodedata
from importlib import resources
from pathlib import Path
from types import ModuleType

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the checkout's vpgeo, whatever is installed

from vpgeo import gazetteer  # noqa: E402
from vpgeo import geocoding as gc  # noqa: E402
from vpgeo.geocoding import _index as gc_index  # noqa: E402
from vpgeo.geocoding import _resolve as gc_resolve  # noqa: E402
from vpgeo.geocoding import _schema as gc_schema  # noqa: E402
from vpgeo.geocoding import _tokens as gc_tokens  # noqa: E402

BASELINE_REV = "2ead8ed"  # last commit with vpgeo/geocoding.py as one module


def _plain(text: str) -> str:
    d = unicodedata.normalize("NFD", text.replace("Đ", "D").replace("đ", "d"))
    return "".join(c for c in d if not unicodedata.combining(c))


def _typo(word: str, rng: random.Random) -> str:
    letters = "abcdefghiklmnopqrstuvxy"
    i = rng.randrange(len(word))
    op = rng.choice(("sub", "ins", "del", "swap"))
    if op == "sub":
        return word[:i] + rng.choice(letters) + word[i + 1 :]
    if op == "ins":
        return word[:i] + rng.choice(letters) + word[i:]
    if op == "del" and len(word) > 3:
        return word[:i] + word[i + 1 :]
    if i + 1 < len(word):
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    return word + rng.choice(letters)


def _outside_names() -> list[str]:
    path = resources.files("vietnamadminunits") / "data" / "dataset.db"
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        rows = conn.execute(
            "SELECT wardShort FROM admin_units_legacy WHERE provinceShort IN ('Hà Nội', 'Phú Thọ', 'Thái Nguyên') "
            "UNION SELECT wardShort FROM admin_units WHERE provinceShort IN ('Hà Nội', 'Thái Nguyên') "
            "UNION SELECT wardShort FROM admin_units WHERE provinceShort = 'Phú Thọ' AND wardCode NOT IN "
            f"({','.join(repr(c) for c in gazetteer.communes_2025()['code'])})"
        ).fetchall()
    idx = gc_index._index()
    return sorted({r[0] for r in rows if gc_tokens._ckey(r[0]) not in idx.communes and not r[0].isdigit()})


def addresses(n: int, seed: int = 0) -> list[str]:
    """``n`` addresses with the variations of real lists."""
    rng = random.Random(seed)
    legacy = gazetteer.legacy_communes()
    new = gazetteer.communes_2025()
    hist = [(k, r.district_short) for r in legacy.itertuples() for k in r.historical_keys]
    outside = _outside_names()
    out = []
    for _ in range(n):
        kind = rng.random()
        if kind < 0.55:
            r = legacy.iloc[rng.randrange(len(legacy))]
            prefix = {"Xã": ["xã", "X.", ""], "Phường": ["phường", "P.", ""], "Thị trấn": ["thị trấn", "TT.", "TT"]}
            name = f"{rng.choice(prefix[r['type']])} {r['short']}".strip()
            dist = f"{rng.choice(['huyện', 'H.', '', 'TP'])} {r['district_short']}".strip()
            parts = [name, dist]
            if rng.random() < 0.5:
                parts.insert(0, rng.choice(["Thôn Đông", "KCN Bình Xuyên", "Số 12 đường Lê Lợi", "Xóm 3"]))
            if rng.random() < 0.6:
                parts.append(rng.choice(["tỉnh Vĩnh Phúc", "Vĩnh Phúc", "VP"]))
            text = ", ".join(parts)
        elif kind < 0.7:
            r = new.iloc[rng.randrange(len(new))]
            text = f"{r['name']}, tỉnh Phú Thọ"
        elif kind < 0.8:
            k, d = hist[rng.randrange(len(hist))]
            text = f"xã {k}, {d}"
        elif kind < 0.9:
            r = legacy.iloc[rng.randrange(len(legacy))]
            words = _plain(r["short"]).lower().split()
            j = rng.randrange(len(words))
            words[j] = _typo(words[j], rng)
            text = f"{' '.join(words)}, {r['district_short']}"
        else:
            text = f"xã {rng.choice(outside)}, huyện Mê Linh, Hà Nội" if rng.random() < 0.5 else rng.choice(outside)
        if rng.random() < 0.3:
            text = _plain(text)
        if rng.random() < 0.1:
            text = text.upper()
        out.append(text)
    return out


def _naive(text: str, names: list[str], lookup: dict[str, str]) -> str | None:
    for part in text.split(","):
        hit = difflib.get_close_matches(_plain(part).lower().strip(), names, n=1, cutoff=0.8)
        if hit:
            return lookup[hit[0]]
    return None


def _baseline(rev: str) -> ModuleType | None:
    """The single-module geocoder of ``rev`` (read with git), or None outside a checkout."""
    try:
        src = subprocess.run(
            ["git", "-C", str(ROOT), "show", f"{rev}:vpgeo/geocoding.py"], capture_output=True, check=True, text=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    spec = importlib.util.spec_from_loader("vpgeo_geocoding_baseline", loader=None)
    assert spec is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up
    exec(compile(src, f"{rev}:vpgeo/geocoding.py", "exec"), mod.__dict__)  # our own code at another commit
    return mod


def bench(n: int, rev: str = BASELINE_REV) -> None:
    texts = addresses(n)
    df = pd.DataFrame({"address": texts})
    gc_index._index()  # build the index outside the timing (once per process, ~0.1 s)
    gc_resolve._row_for.cache_clear()
    gc_tokens._scan.cache_clear()
    t0 = time.perf_counter()
    out = gc.geocode(df, address="address")
    t_ours = time.perf_counter() - t0
    legacy = gazetteer.legacy_communes()
    lookup = {_plain(s).lower(): nm for s, nm in zip(legacy["short"], legacy["name"], strict=True)}
    lookup |= {
        _plain(s).lower(): nm
        for s, nm in zip(gazetteer.districts()["short"], gazetteer.districts()["name"], strict=True)
    }
    names = list(lookup)
    m = min(n, 1000)
    t0 = time.perf_counter()
    for t in texts[:m]:
        _naive(t, names, lookup)
    t_naive = (time.perf_counter() - t0) * n / m
    print(f"addresses: {n} ({len(set(texts))} distinct)")
    print(f"vpgeo.geocode: {t_ours:.2f} s, {n / t_ours:,.0f} rows/s")
    print(f"naive difflib baseline (measured on {m} rows, scaled): {t_naive:.2f} s, {n / t_naive:,.0f} rows/s")
    print(f"speed-up vs baseline: {t_naive / t_ours:.1f}x")
    print("match_status:", out["match_status"].value_counts().to_dict())
    old = _baseline(rev)
    if old is None:
        print("old geocoder: not available (not a git checkout)")
        return
    old._index()
    # alternate old and new, best of three each, so machine load and warm caches favour neither
    t_new, t_old = [], []
    for _ in range(3):
        for mod, times in ((old, t_old), (gc, t_new)):
            caches = [mod._row_for] if mod is old else [gc_resolve._row_for, gc_tokens._scan]
            for cache in caches:  # every run starts cold
                cache.cache_clear()
            t0 = time.perf_counter()
            mod.geocode(df, address="address")
            times.append(time.perf_counter() - t0)
    print(
        f"old geocoder ({rev}): {min(t_old):.2f} s, new: {min(t_new):.2f} s (best of 3, alternated); "
        f"time new/old: {min(t_new) / min(t_old):.2f}"
    )


def threshold_table(seed: int = 0) -> None:
    """Recall on typo'd Vĩnh Phúc names and false matches of other provinces' names, per threshold."""
    rng = random.Random(seed)
    idx = gc_index._index()
    units = idx.units
    truth = []  # (typo'd key, own key, district unit id)
    for u in units:
        if u.level != "legacy":
            continue
        own = gc_tokens._ckey(u.name.split(" ", 2)[-1] if u.type == "Thị trấn" else u.name.split(" ", 1)[1])
        duid = idx.by_code["district:" + str(u.district_code)]
        for _ in range(5):
            typo = _typo(own, rng)
            if typo != own:
                truth.append((typo, own, duid))
    outside = [gc_tokens._ckey(nm) for nm in _outside_names()]
    outside_typo = [_typo(k, rng) for k in outside]
    outside_typo = [k for k in outside_typo if k not in idx.communes]
    districts = [i for i, u in enumerate(units) if u.level == "district"]
    print(
        f"{len(truth)} one-letter typos of the 121 legacy communes' names (5 each); "
        f"{len(outside)} commune names of Hà Nội, Phú Thọ (outside the former Vĩnh Phúc) and Thái Nguyên "
        "that are not Vĩnh Phúc names, and one typo of each"
    )

    def outcome(q: str, district: int | None) -> str | None:
        hit = gc_resolve._fuzzy_units(q, district, [])
        if hit is None:
            return None
        ids = {u for u, _ in gc_resolve._collapse(hit[1])}
        if len(ids) != 1:
            return "ambiguous"
        return gc_tokens._ckey(
            units[next(iter(ids))].name.split(" ", 2)[-1]
            if units[next(iter(ids))].type == "Thị trấn"
            else units[next(iter(ids))].name.split(" ", 1)[1]
        )

    print("            no district                          | with the district")
    print("threshold  recall  wrong  false: names  typo'd    | recall  wrong  false: names")
    saved = gc_schema.FUZZY_THRESHOLD
    try:
        for t in (0.65, 0.7, 0.75, 0.8, 0.85, 0.9):
            gc_schema.FUZZY_THRESHOLD = t
            res = [outcome(q, None) for q, _, _ in truth]
            ok = sum(r == own for r, (_, own, _) in zip(res, truth, strict=True)) / len(truth)
            wrong = sum(r is not None and r != own for r, (_, own, _) in zip(res, truth, strict=True)) / len(truth)
            fp = sum(outcome(q, None) is not None for q in outside) / len(outside)
            fpt = sum(outcome(q, None) is not None for q in outside_typo) / len(outside_typo)
            res_d = [outcome(q, d) for q, _, d in truth]
            ok_d = sum(r == own for r, (_, own, _) in zip(res_d, truth, strict=True)) / len(truth)
            wrong_d = sum(r is not None and r != own for r, (_, own, _) in zip(res_d, truth, strict=True)) / len(truth)
            fp_d = sum(outcome(q, rng.choice(districts)) is not None for q in outside) / len(outside)
            print(
                f"{t:9.2f}  {ok:6.1%}  {wrong:5.1%}  {fp:11.1%}  {fpt:6.1%}    | {ok_d:6.1%}  {wrong_d:5.1%}  "
                f"{fp_d:11.1%}"
            )
    finally:
        gc_schema.FUZZY_THRESHOLD = saved


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=10_000, help="rows (default 10,000)")
    ap.add_argument("--small", action="store_true", help="1,000 rows")
    ap.add_argument("--baseline-rev", default=BASELINE_REV, help="git revision of the old geocoder")
    ap.add_argument("--threshold", action="store_true", help="print the fuzzy threshold table instead")
    args = ap.parse_args(argv)
    if args.threshold:
        threshold_table()
    else:
        bench(1000 if args.small else args.n, args.baseline_rev)
    return 0


if __name__ == "__main__":
    sys.exit(main())
