"""The bootstrap, slices and worst-rows partials: against scipy, pandas groupby and a
full sort, and the same bits for any cut of the rows merged in any order."""

from __future__ import annotations

import datetime
import math
import random

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import scipy.stats
from hypothesis import given
from hypothesis import strategies as st

from xentcli.errors import UsageError
from xentcli.metrics.bootstrap import (
    GOLDEN,
    MASK64,
    BootstrapInterval,
    poisson_weights,
    row_keys,
)
from xentcli.metrics.calibration import Calibration
from xentcli.metrics.rows import Ends, Rows
from xentcli.metrics.slices import Slices
from xentcli.metrics.worst import Worst

CLASSES = ("cat", "dog", "eel")
ENDS = Ends(scale=1.0, classes=CLASSES, task="multiclass", target="hard")


def make_rows(n: int, seed: int = 0, weighted: bool = False, first: int = 0) -> Rows:
    """Synthetic multiclass rows with a text, an integer and a float key column."""
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.ones(3), size=n)
    label = rng.integers(0, 3, size=n)
    p_true = p[np.arange(n), label]
    loss = -np.log(p_true)
    pred = p.argmax(axis=1)
    w = rng.uniform(0.1, 3.0, size=n) if weighted else None
    region = np.array(["north", "south", "", "ost", None], dtype=object)[rng.integers(0, 5, n)]
    size = rng.integers(0, 4, size=n)
    score = np.array([0.5, -0.0, 0.0, np.nan, 2.5])[rng.integers(0, 5, n)]
    return Rows(
        loss=loss,
        numerator=loss if w is None else loss * w,
        denominator=w,
        weights=w,
        label=label,
        pred=pred,
        hit=pred == label,
        p_true=p_true,
        brier=((p - np.eye(3)[label]) ** 2).sum(axis=1),
        confidence=p.max(axis=1),
        outcome=pred == label,
        rows=np.arange(first, first + n, dtype=np.int64),
        ids=[f"id{first + i}" for i in range(n)],
        keys={
            "region": pa.array(region.tolist(), pa.string()),
            "size": pa.array(size),
            "score": pa.array(score, from_pandas=False),
        },
    )


def cut(rows: Rows, a: int, b: int) -> Rows:
    """Rows ``a`` .. ``b - 1`` of a batch, every per-row field sliced."""
    def part(x):
        return None if x is None else x[a:b]

    return Rows(
        loss=rows.loss[a:b],
        numerator=rows.numerator[a:b],
        denominator=part(rows.denominator),
        weights=part(rows.weights),
        label=rows.label[a:b],
        pred=rows.pred[a:b],
        hit=rows.hit[a:b],
        p_true=rows.p_true[a:b],
        brier=rows.brier[a:b],
        confidence=rows.confidence[a:b],
        outcome=rows.outcome[a:b],
        rows=rows.rows[a:b],
        ids=part(rows.ids),
        keys={k: v.slice(a, b - a) for k, v in rows.keys.items()},
    )


def pieces_merged(make, rows: Rows, cuts: list[int], shuffle_seed: int):
    """The partial of each piece, merged in a shuffled order."""
    bounds = [0, *sorted(cuts), len(rows)]
    parts = []
    for a, b in zip(bounds[:-1], bounds[1:]):
        p = make()
        p.add(cut(rows, a, b))
        parts.append(p)
    random.Random(shuffle_seed).shuffle(parts)
    merged = parts[0]
    for p in parts[1:]:
        merged = merged.merge(p) if random.Random(shuffle_seed + len(p.__dict__)).random() < 0.5 else p.merge(merged)
    return merged


def whole(make, rows: Rows):
    p = make()
    p.add(rows)
    return p


# --- the bootstrap -------------------------------------------------------------------


def _mix(z: int) -> int:
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


def test_draws_are_splitmix64_in_python_integers():
    """The NumPy uint64 arithmetic equals splitmix64 done in Python's exact integers, and
    k is the Poisson(1) inverse CDF (scipy) of the top 53 bits."""
    seed, rows = 7, np.array([0, 1, 5, 2**40, 123456789], dtype=np.int64)
    k = poisson_weights(seed, rows, 6)
    base = _mix((seed + GOLDEN) & MASK64)
    for i, r in enumerate(rows.tolist()):
        key = _mix((base + (r + 1) * GOLDEN) & MASK64)
        assert int(row_keys(seed, rows)[i]) == key
        for b in range(6):
            u = (_mix((key + (b + 1) * GOLDEN) & MASK64) >> 11) / 2**53
            assert k[i, b] == scipy.stats.poisson.ppf(u, 1) or (
                # ppf is the least k with cdf(k) >= u; ours strict: differ only at equality
                scipy.stats.poisson.cdf(k[i, b] - 1, 1) <= u < scipy.stats.poisson.cdf(k[i, b], 1)
            )


def test_poisson_draws_have_poisson_1_frequencies():
    k = poisson_weights(3, np.arange(200_000, dtype=np.int64), 10).ravel()
    assert abs(k.mean() - 1) < 0.005
    assert abs(k.var() - 1) < 0.01
    counts = np.bincount(k.astype(np.int64), minlength=6)
    observed = np.array([*counts[:5], counts[5:].sum()])
    expected = np.array([*scipy.stats.poisson.pmf(range(5), 1), scipy.stats.poisson.sf(4, 1)])
    chi2, p = scipy.stats.chisquare(observed, expected * k.size)
    assert p > 1e-4, (observed, expected * k.size)
    # replicates and neighbouring rows are not correlated
    m = poisson_weights(3, np.arange(50_000, dtype=np.int64), 2)
    assert abs(np.corrcoef(m[:, 0], m[:, 1])[0, 1]) < 0.02
    assert abs(np.corrcoef(m[:-1, 0], m[1:, 0])[0, 1]) < 0.02


def test_draws_depend_on_seed_row_and_replicate_only():
    rows = np.array([10, 3, 99], dtype=np.int64)
    full = poisson_weights(1, np.arange(100, dtype=np.int64), 5)
    assert np.array_equal(poisson_weights(1, rows, 5), full[rows])
    assert not np.array_equal(poisson_weights(2, np.arange(100), 5), full)


@pytest.mark.parametrize("weighted", [False, True])
def test_bootstrap_interval_is_the_percentile_of_replicate_means(weighted):
    """Reference: the full (n, B) weight matrix, replicate means by math.fsum of the exact
    products (the same rounding as an exact sum), NumPy's percentile."""
    rows = make_rows(3000, seed=1, weighted=weighted)
    b = whole(lambda: BootstrapInterval(0.9, 50, 11, weighted, weighted), rows)
    got = b.finish(Ends(scale=math.log(2), classes=CLASSES, task="multiclass", target="hard"))["ci"]
    k = poisson_weights(11, rows.rows, 50)
    w = rows.weights if weighted else np.ones(len(rows))
    from fractions import Fraction

    def exact(values):
        return float(sum((Fraction(float(x)) for x in values), Fraction(0)))

    loss_means, acc_means = [], []
    for j in range(50):
        num = exact(Fraction(int(k[i, j])) * Fraction(float(rows.numerator[i])) for i in range(len(rows)))
        den = exact(Fraction(int(k[i, j])) * Fraction(float(w[i])) for i in range(len(rows)))
        right = exact(Fraction(int(k[i, j])) * Fraction(float(w[i])) for i in np.flatnonzero(rows.hit))
        loss_means.append(num / den / math.log(2))
        acc_means.append(right / den)
    assert got.method == "bootstrap" and got.replicates == 50 and got.seed == 11
    q = [(1 - 0.9) / 2, (1 + 0.9) / 2]  # SPEC's points, not 5 and 95 (one ulp apart)
    assert got.loss == tuple(np.quantile(loss_means, q).tolist())
    assert got.accuracy == tuple(np.quantile(acc_means, q).tolist())


@given(
    n=st.integers(1, 400),
    cuts=st.lists(st.integers(0, 400), max_size=6),
    weighted=st.booleans(),
    order=st.integers(0, 10**6),
)
def test_bootstrap_same_bits_for_any_cut_and_order(n, cuts, weighted, order):
    rows = make_rows(n, seed=n, weighted=weighted, first=1000)
    make = lambda: BootstrapInterval(0.95, 30, 5, weighted, weighted)  # noqa: E731
    one = whole(make, rows).finish(ENDS)
    many = pieces_merged(make, rows, [c % (n + 1) for c in cuts], order).finish(ENDS)
    assert repr(one) == repr(many)


def test_bootstrap_covers_the_true_mean_at_about_the_nominal_rate():
    rng = np.random.default_rng(2024)
    covered_loss = covered_acc = 0
    trials = 200
    for t in range(trials):
        n = 300
        loss = rng.exponential(1.0, size=n)  # true mean 1
        hit = rng.random(n) < 0.7  # true accuracy 0.7
        rows = Rows(
            loss=loss, numerator=loss, denominator=None, weights=None,
            label=np.zeros(n, np.int64), pred=np.zeros(n, np.int64), hit=hit,
            p_true=np.exp(-loss), brier=loss, confidence=np.exp(-loss), outcome=hit,
            rows=np.arange(n, dtype=np.int64),
        )
        ci = whole(lambda: BootstrapInterval(0.9, 200, t), rows).finish(ENDS)["ci"]
        covered_loss += ci.loss[0] <= 1.0 <= ci.loss[1]
        covered_acc += ci.accuracy[0] <= 0.7 <= ci.accuracy[1]
    assert 0.82 <= covered_loss / trials <= 0.96
    assert 0.82 <= covered_acc / trials <= 0.96
