"""Map classes: the written-out Fisher–Jenks equals mapclassify's optimum; quantile classes are balanced."""

from __future__ import annotations

import numpy as np
import pytest

from vpgeo._layers import classify as _classify

mapclassify = pytest.importorskip("mapclassify")

# the oracle warns that it runs without numba; that is its business, not ours
pytestmark = pytest.mark.filterwarnings("ignore:Numba not installed:UserWarning")


def _within_ssd(y: np.ndarray, cls: np.ndarray) -> float:
    return float(sum(((y[cls == c] - y[cls == c].mean()) ** 2).sum() for c in np.unique(cls)))


@pytest.mark.parametrize("seed", range(40))
@pytest.mark.parametrize("k", [2, 3, 5])
def test_fisher_jenks_matches_mapclassify_optimum(seed: int, k: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(6, 40))
    y = rng.integers(0, 30, n).astype(float) if seed % 2 else rng.normal(size=n)
    k = min(k, np.unique(y).size)
    cls, bins = _classify(y, k=k, scheme="fisher_jenks")
    ref = mapclassify.FisherJenks(y, k=k)
    # ties between equally good partitions may put a bound elsewhere: compare the optimum itself
    assert _within_ssd(y, cls) == pytest.approx(_within_ssd(y, np.asarray(ref.yb)), abs=1e-9)
    assert len(bins) == k and bins[-1] == y.max()
    assert all(y[cls == c].max() <= b for c, b in enumerate(bins))


def test_quantile_classes_are_balanced_and_nan_is_unclassed() -> None:
    y = np.concatenate([np.arange(100, dtype=float), [np.nan]])
    cls, bins = _classify(y, k=5, scheme="quantiles")
    assert cls[-1] == -1
    assert np.bincount(cls[:-1]).tolist() == [20, 20, 20, 20, 20]
    assert bins == pytest.approx(np.quantile(y[:-1], [0.2, 0.4, 0.6, 0.8, 1.0]).tolist())


def test_a_single_value_is_one_class() -> None:
    cls, bins = _classify(np.array([3.0, 3.0, np.nan]), k=5, scheme="fisher_jenks")
    assert cls.tolist() == [0, 0, -1] and bins == [3.0]
