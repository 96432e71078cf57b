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
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        p = make()
        p.add(cut(rows, a, b))
        parts.append(p)
    rng = random.Random(shuffle_seed)
    rng.shuffle(parts)
    merged = parts[0]
    for p in parts[1:]:  # either side first: merge must not care
        merged = merged.merge(p) if rng.random() < 0.5 else p.merge(merged)
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
        num = exact(
            Fraction(int(k[i, j])) * Fraction(float(rows.numerator[i])) for i in range(len(rows))
        )
        den = exact(Fraction(int(k[i, j])) * Fraction(float(w[i])) for i in range(len(rows)))
        right = exact(
            Fraction(int(k[i, j])) * Fraction(float(w[i])) for i in np.flatnonzero(rows.hit)
        )
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
            loss=loss,
            numerator=loss,
            denominator=None,
            weights=None,
            label=np.zeros(n, np.int64),
            pred=np.zeros(n, np.int64),
            hit=hit,
            p_true=np.exp(-loss),
            brier=loss,
            confidence=np.exp(-loss),
            outcome=hit,
            rows=np.arange(n, dtype=np.int64),
        )
        boot = BootstrapInterval(0.9, 200, t)
        boot.add(rows)
        ci = boot.finish(ENDS)["ci"]
        covered_loss += ci.loss[0] <= 1.0 <= ci.loss[1]
        covered_acc += ci.accuracy[0] <= 0.7 <= ci.accuracy[1]
    assert 0.82 <= covered_loss / trials <= 0.96
    assert 0.82 <= covered_acc / trials <= 0.96


# --- slices --------------------------------------------------------------------------


def _frame(rows: Rows, column: str) -> pd.DataFrame:
    values = rows.keys[column].to_pandas()
    if column == "region":
        values = values.replace("", None)
    w = rows.weights if rows.weights is not None else np.ones(len(rows))
    return pd.DataFrame({"key": values, "num": rows.numerator, "w": w, "right": rows.hit * w})


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("column", ["region", "size", "score"])
def test_slices_match_pandas_groupby(weighted, column):
    rows = make_rows(2000, seed=4, weighted=weighted)
    scale = math.log(2)
    got = whole(lambda: Slices((column,), 10, 1000, weighted, weighted), rows).finish(
        Ends(scale=scale, classes=CLASSES, task="multiclass", target="hard")
    )["slices"]
    frame = _frame(rows, column)
    g = frame.groupby("key", dropna=False, sort=True)
    ref = pd.DataFrame(
        {
            "n": g.size(),
            "loss": g["num"].sum() / g["w"].sum() / scale,
            "acc": g["right"].sum() / g["w"].sum(),
        }
    )
    keys = [None if (isinstance(k, float) and math.isnan(k)) else k for k in ref.index]
    assert [s.value for s in got] == keys  # pandas: sorted, NaN (null) last
    assert all(s.column == column for s in got)
    assert [s.n for s in got] == ref["n"].tolist()
    np.testing.assert_allclose([s.mean_loss for s in got], ref["loss"], rtol=1e-12)
    np.testing.assert_allclose([s.accuracy for s in got], ref["acc"], rtol=1e-12)
    # ECE per slice: the run's Calibration fed that slice's rows alone, bit for bit
    codes = frame["key"].to_numpy(dtype=object)
    for s in got:
        mask = np.array([(v is None or v != v) if s.value is None else v == s.value for v in codes])
        cal = Calibration(10, weighted)
        w = rows.weights[mask] if weighted else None
        cal.add_pairs(rows.confidence[mask], rows.outcome[mask], w)
        assert repr(s.ece) == repr(cal.table()[1])


def test_slice_ece_by_hand():
    """Two bins; slice 'a': conf 0.2 (wrong), 0.8 (right), 0.9 (wrong) ->
    bin0 |0 - 0.2| * 1/3, bin1 |0.5 - 0.85| * 2/3."""
    n = 4
    conf = np.array([0.2, 0.8, 0.9, 0.7])
    hit = np.array([False, True, False, True])
    rows = Rows(
        loss=np.ones(n),
        numerator=np.ones(n),
        denominator=None,
        weights=None,
        label=np.zeros(n, np.int64),
        pred=np.zeros(n, np.int64),
        hit=hit,
        p_true=conf,
        brier=np.zeros(n),
        confidence=conf,
        outcome=hit,
        rows=np.arange(n),
        keys={"g": pa.array(["a", "a", "a", "b"]).dictionary_encode()},
    )
    got = whole(lambda: Slices(("g",), 2), rows).finish(ENDS)["slices"]
    assert [s.value for s in got] == ["a", "b"]
    assert got[0].ece == pytest.approx(0.2 / 3 + abs(0.5 - 0.85) * 2 / 3, abs=1e-15)
    assert got[1].ece == pytest.approx(0.3, abs=1e-15)
    assert got[0].accuracy == pytest.approx(1 / 3)


def test_slice_values_of_every_kind_as_json_in_order():
    n = 6
    rows = make_rows(n)
    keys = {
        "flag": pa.array([True, False, None, True, False, True]),
        "day": pa.array([datetime.date(2024, 3, d) for d in (5, 1, 5, 2, 1, 30)]),
        "text": pa.array(["b", "B", "é", "", "a", None]),
        "bytes": pa.array([b"x", b"y", b"", b"x", None, b"y"]),
        "num": pa.array([10, 9, -1, None, 10, 100]),
        "none": pa.nulls(n),
    }
    rows = Rows(**{**rows.__dict__, "keys": keys})
    got = whole(lambda: Slices(tuple(keys)), rows).finish(ENDS)["slices"]
    by = {c: [(s.value, s.n) for s in got if s.column == c] for c in keys}
    assert [s.column for s in got] == [c for c in keys for _ in by[c]]  # column order kept
    assert by["flag"] == [(False, 2), (True, 3), (None, 1)]
    assert by["day"] == [("2024-03-01", 2), ("2024-03-02", 1), ("2024-03-05", 2), ("2024-03-30", 1)]
    assert by["text"] == [("B", 1), ("a", 1), ("b", 1), ("é", 1), (None, 2)]  # code points
    assert by["bytes"] == [("x", 2), ("y", 2), (None, 2)]
    assert by["num"] == [(-1, 1), (9, 1), (10, 2), (100, 1), (None, 1)]
    assert by["none"] == [(None, 6)]


def test_too_many_slices_is_an_error_as_soon_as_exceeded():
    rows = make_rows(50)
    rows = Rows(**{**rows.__dict__, "keys": {"user": pa.array(np.arange(50))}})
    s = Slices(("user",), max_slices=10)
    with pytest.raises(UsageError) as caught:
        s.add(cut(rows, 0, 12))
    text = str(caught.value)
    assert "--by 'user' has more than 10 distinct values (11 so far" in text
    assert "--max-slices" in text and "\n" not in text
    # across batches and merges too, nulls counting
    a, b = Slices(("user",), max_slices=10), Slices(("user",), max_slices=10)
    a.add(cut(rows, 0, 6))
    b.add(cut(rows, 6, 11))
    with pytest.raises(UsageError, match="more than 10 distinct values"):
        a.merge(b)
    nulls = Rows(**{**rows.__dict__, "keys": {"user": pa.array([*range(10), None] * 5)}})
    with pytest.raises(UsageError, match=r"\(11 so far"):
        Slices(("user",), max_slices=10).add(nulls)


def test_a_list_column_is_refused():
    rows = make_rows(3)
    rows = Rows(**{**rows.__dict__, "keys": {"tags": pa.array([[1], [2], []])}})
    with pytest.raises(UsageError, match="'tags' is a column of type list"):
        Slices(("tags",)).add(rows)


@given(
    n=st.integers(1, 300),
    cuts=st.lists(st.integers(0, 300), max_size=6),
    weighted=st.booleans(),
    order=st.integers(0, 10**6),
)
def test_slices_same_bits_for_any_cut_and_order(n, cuts, weighted, order):
    rows = make_rows(n, seed=n + 1, weighted=weighted)
    make = lambda: Slices(("region", "size", "score"), 7, 1000, weighted, weighted)  # noqa: E731
    one = whole(make, rows).finish(ENDS)
    many = pieces_merged(make, rows, [c % (n + 1) for c in cuts], order).finish(ENDS)
    assert repr(one) == repr(many)


def test_a_slice_of_every_row_equals_the_headline():
    from xentcli.metrics.totals import LossTotals

    rows = make_rows(500, weighted=True)
    rows = Rows(**{**rows.__dict__, "keys": {"all": pa.array(["x"] * 500)}})
    s = whole(lambda: Slices(("all",), 15, 1000, True, True), rows).finish(ENDS)["slices"][0]
    t = whole(lambda: LossTotals(True, True), rows).finish(ENDS)
    cal = whole(lambda: Calibration(15, True), rows).finish(ENDS)
    assert (s.mean_loss, s.accuracy, s.ece) == (t["mean_loss"], t["accuracy"], cal["ece"])


# --- worst rows ----------------------------------------------------------------------


def _reference_worst(rows: Rows, k: int) -> list[int]:
    order = np.lexsort((rows.rows, -rows.loss))
    return rows.rows[order[:k]].tolist()


@given(
    n=st.integers(1, 200),
    k=st.integers(0, 250),
    cuts=st.lists(st.integers(0, 200), max_size=6),
    order=st.integers(0, 10**6),
    ties=st.booleans(),
)
def test_worst_rows_are_a_sort_of_every_row_for_any_cut(n, k, cuts, order, ties):
    rows = make_rows(n, seed=n)
    if ties:  # few distinct losses: ties broken by the lower row
        loss = np.round(rows.loss, 0)
        rows = Rows(**{**rows.__dict__, "loss": loss})
    scale = math.log(2)
    ends = Ends(scale=scale, classes=CLASSES, task="multiclass", target="hard")
    one = whole(lambda: Worst(k), rows).finish(ends)["worst"]
    many = pieces_merged(lambda: Worst(k), rows, [c % (n + 1) for c in cuts], order)
    assert repr(many.finish(ends)["worst"]) == repr(one)
    assert [w.row for w in one] == _reference_worst(rows, k)
    for w in one:
        i = int(w.row)
        assert w.id == f"id{i}"
        assert (w.label, w.pred) == (CLASSES[rows.label[i]], CLASSES[rows.pred[i]])
        assert w.loss == rows.loss[i] / scale and w.p_true == rows.p_true[i]


def test_worst_rows_use_label_text_and_no_ids():
    rows = make_rows(5)
    rows = Rows(
        **{
            **rows.__dict__,
            "ids": None,
            "label_text": pa.array(["a|b", "", "c", "a", "b"]),
            "pred_text": np.array(["a", "b", "c", "a|c", ""], dtype=object),
        }
    )
    got = whole(lambda: Worst(5), rows).finish(ENDS)["worst"]
    i = int(np.argmax(rows.loss))
    assert got[0].row == i and got[0].id is None
    assert got[0].label == ["a|b", "", "c", "a", "b"][i]
    assert got[0].pred == ["a", "b", "c", "a|c", ""][i]


def test_multilabel_slices_pool_row_label_pairs():
    """Multilabel bins count (row, label) pairs: a slice's ECE is Calibration's over the
    slice's pairs, its n counts rows."""
    rng = np.random.default_rng(9)
    n, labels = 300, 4
    conf = rng.random((n, labels))
    outcome = rng.random((n, labels)) < conf
    w = rng.uniform(0.5, 2, n)
    group = rng.integers(0, 3, n)
    rows = Rows(
        loss=np.ones(n), numerator=w, denominator=w, weights=w,
        label=np.zeros(n, np.int64), pred=np.zeros(n, np.int64),
        hit=outcome.all(axis=1), p_true=np.ones(n), brier=np.zeros(n),
        confidence=conf, outcome=outcome, rows=np.arange(n),
        keys={"g": pa.array(group)},
    )  # fmt: skip
    got = whole(lambda: Slices(("g",), 15, 1000, True, True), rows).finish(ENDS)["slices"]
    for s in got:
        mask = group == s.value
        assert s.n == int(mask.sum())
        cal = Calibration(15, True)
        cal.add_pairs(conf[mask], outcome[mask], w[mask])
        assert repr(s.ece) == repr(cal.table()[1])


def test_partials_stay_small_whatever_the_rows():
    """Picklable, and the pickle does not grow with the rows (no per-row arrays)."""
    import pickle

    sizes = []
    for n in (2_000, 40_000):
        rows = make_rows(n, weighted=True)
        parts = [
            whole(lambda: BootstrapInterval(0.95, 20, 1, True, True), rows),  # noqa: B023
            whole(lambda: Slices(("region", "size"), 15, 1000, True, True), rows),  # noqa: B023
            whole(lambda: Worst(10), rows),  # noqa: B023
        ]
        sizes.append([len(pickle.dumps(p)) for p in parts])
        for p in parts:
            assert repr(pickle.loads(pickle.dumps(p)).finish(ENDS)) == repr(p.finish(ENDS))
    for small, large in zip(*sizes, strict=True):
        assert large < 2 * small + 20_000, sizes
