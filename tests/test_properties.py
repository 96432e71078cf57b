"""Invariances that hold for any input (hypothesis): a logit shift changes no loss, row
order and batch size change no aggregate, ``sum == mean * n``, and accumulators merge
in any order to the same totals (DESIGN "accumulate": "mergeable").

References are the invariances themselves plus ``math.fsum`` (the correctly rounded sum)
for totals. The default run stays fast: 50 examples a property, no deadline.
"""

from __future__ import annotations

import math
from functools import reduce

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import xentcli
from xentcli.losses import core
from xentcli.metrics.accumulate import Accumulator, Plan
from xentcli.metrics.rows import Ends, Rows
from xentcli.summary import Facts, Summary

EPS = float(np.finfo(np.float64).eps)
RTOL = 1e-12

FAST = settings(deadline=None)  # examples per test: the profile (tests/conftest.py)


def close(a: float, b: float, rtol: float = RTOL) -> bool:
    return math.isclose(a, b, rel_tol=rtol, abs_tol=0.0)


@st.composite
def logit_rows(
    draw: st.DrawFn, max_rows: int = 30, max_classes: int = 12, bound: float = 1e6
) -> tuple[np.ndarray, np.ndarray]:
    """A (rows, classes) float64 block of finite logits and a class index per row."""
    n = draw(st.integers(1, max_rows))
    k = draw(st.integers(2, max_classes))
    z = draw(
        hnp.arrays(np.float64, (n, k), elements=st.floats(-bound, bound, allow_subnormal=False))
    )
    y = draw(hnp.arrays(np.int64, n, elements=st.integers(0, k - 1)))
    return z, y


@st.composite
def prob_rows(draw: st.DrawFn, max_rows: int = 30, max_classes: int = 8) -> tuple:
    """Probability rows (positive weights normalised) and a class index per row."""
    n = draw(st.integers(1, max_rows))
    k = draw(st.integers(2, max_classes))
    w = draw(hnp.arrays(np.float64, (n, k), elements=st.floats(0.01, 1.0)))
    y = draw(hnp.arrays(np.int64, n, elements=st.integers(0, k - 1)))
    return w / w.sum(axis=1, keepdims=True), y


# -- a shift of every logit of a row ------------------------------------------------------


@FAST
@given(data=logit_rows(), shift=st.floats(-1e6, 1e6))
def test_shifting_a_row_changes_no_loss(data: tuple, shift: float) -> None:
    """softmax(z + c) = softmax(z). Adding c rounds each logit by up to half an ulp of
    |z| + |c|, so the losses may move by a few such ulps, never more."""
    z, y = data
    before = core.multiclass_from_logits(z, y)
    after = core.multiclass_from_logits(z + shift, y)
    scale = 4 * EPS * (np.abs(z).max(axis=1) + abs(shift))
    assert np.all(np.abs(after.loss - before.loss) <= scale + RTOL * before.loss)
    lse_shifted = core.row_logsumexp(z + shift)
    lse = core.row_logsumexp(z)
    assert np.all(np.abs(lse_shifted - (lse + shift)) <= scale + RTOL * np.abs(lse + shift))


@FAST
@given(
    data=st.data(),
    n=st.integers(1, 20),
    k=st.integers(2, 10),
    shift=st.integers(-(2**20), 2**20),
)
def test_an_exact_shift_changes_no_loss_at_all(
    data: st.DataObject, n: int, k: int, shift: int
) -> None:
    """Logits on a grid of eighths and an integer shift: every sum is exact, so the loss,
    the prediction and p_true must be bit for bit the same."""
    grid = data.draw(hnp.arrays(np.int64, (n, k), elements=st.integers(-8000, 8000)))
    y = data.draw(hnp.arrays(np.int64, n, elements=st.integers(0, k - 1)))
    z = grid / 8.0
    before = core.multiclass_from_logits(z, y)
    after = core.multiclass_from_logits(z + shift, y)
    np.testing.assert_array_equal(after.loss, before.loss)
    np.testing.assert_array_equal(after.pred, before.pred)
    np.testing.assert_array_equal(after.p_true, before.p_true)


@FAST
@given(data=logit_rows(bound=50.0))
def test_binary_logit_is_two_class_logits(data: tuple) -> None:
    """sigmoid(z) = softmax([0, z])[1]: the binary kernel equals the multiclass one on [0, z]."""
    z, y = data
    column = z[:, 0]
    labels = y % 2
    two = np.stack([np.zeros_like(column), column], axis=1)
    binary = core.binary_from_logits(column, labels)
    multi = core.multiclass_from_logits(two, labels)
    tolerance = 4 * EPS * np.maximum(np.abs(column), 1.0) + RTOL * multi.loss
    assert np.all(np.abs(binary.loss - multi.loss) <= tolerance)


# -- row order ----------------------------------------------------------------------------


def assert_same_aggregates(a: Summary, b: Summary) -> None:
    assert (a.n_samples, a.n_classes, a.classes) == (b.n_samples, b.n_classes, b.classes)
    assert close(a.mean_loss, b.mean_loss) and close(a.sum_loss, b.sum_loss)
    assert close(a.loss, b.loss) and close(a.perplexity, b.perplexity)
    assert a.accuracy == b.accuracy
    assert (a.clipped, a.renormalized) == (b.clipped, b.renormalized)
    for x, y in zip(a.per_class, b.per_class, strict=True):
        assert (x.name, x.n) == (y.name, y.n)
        assert x.accuracy == y.accuracy or (math.isnan(x.accuracy) and math.isnan(y.accuracy))
        assert close(x.mean_loss, y.mean_loss) or (
            math.isnan(x.mean_loss) and math.isnan(y.mean_loss)
        )


@FAST
@given(data=logit_rows(bound=100.0), seed=st.integers(0, 2**32 - 1))
def test_permuting_rows_changes_no_aggregate(data: tuple, seed: int) -> None:
    z, y = data
    order = np.random.default_rng(seed).permutation(len(y))
    base = xentcli.cross_entropy(z, y, input="logits")
    assert_same_aggregates(base, xentcli.cross_entropy(z[order], y[order], input="logits"))


@FAST
@given(data=prob_rows(), seed=st.integers(0, 2**32 - 1))
def test_permuting_probability_rows_changes_no_aggregate(data: tuple, seed: int) -> None:
    p, y = data
    order = np.random.default_rng(seed).permutation(len(y))
    base = xentcli.cross_entropy(p, y, input="probs")
    assert_same_aggregates(base, xentcli.cross_entropy(p[order], y[order], input="probs"))


# -- sum and mean -------------------------------------------------------------------------


@FAST
@given(
    data=logit_rows(bound=1e3),
    base=st.sampled_from(["e", "2", "10"]),
    reduction=st.sampled_from(["mean", "sum"]),
)
def test_sum_is_mean_times_n(data: tuple, base: str, reduction: str) -> None:
    z, y = data
    s = xentcli.cross_entropy(z, y, input="logits", log_base=base, reduction=reduction)
    assert s.n_samples == len(y)
    # Below the normal range (losses near 1e-312) sum/n rounds to a multiple of the
    # smallest subnormal, so the check there is absolute.
    assert math.isclose(s.sum_loss, s.mean_loss * s.n_samples, rel_tol=RTOL, abs_tol=1e-300)
    assert s.loss == (s.mean_loss if reduction == "mean" else s.sum_loss)
    exact = math.fsum(core.multiclass_from_logits(z, y).loss.tolist())
    assert close(s.sum_loss, exact / math.log({"e": math.e, "2": 2.0, "10": 10.0}[base]))
    with np.errstate(over="ignore"):  # beyond float64 the perplexity is inf
        assert close(s.perplexity, float(np.exp(exact / len(y))))
    assert sum(c.n for c in s.per_class) == s.n_samples


# -- batch size ---------------------------------------------------------------------------


def as_table(
    kind: str, scores: np.ndarray, labels: np.ndarray, container: str
) -> pd.DataFrame | pa.Table:
    """A table of prediction columns ``p_<class>`` plus a ``label`` column."""
    if kind == "binary":
        columns = {"p_yes": scores[:, 0]}
        label = labels
    else:
        names = [f"c{j}" for j in range(scores.shape[1])]
        columns = {f"p_{name}": scores[:, j] for j, name in enumerate(names)}
        label = np.array(names)[labels] if kind == "names" else labels
    columns["label"] = label
    return pd.DataFrame(columns) if container == "pandas" else pa.table(columns)


@st.composite
def scored_tables(draw: st.DrawFn) -> tuple:
    kind = draw(st.sampled_from(["names", "indices", "binary"]))
    input_kind = draw(st.sampled_from(["logits", "probs"]))
    if input_kind == "logits":
        z, y = draw(logit_rows(max_rows=60, bound=30.0))
    else:
        z, y = draw(prob_rows(max_rows=60))
    if kind == "binary":
        z = z[:, :1] if input_kind == "logits" else z[:, :1] / z[:, :1].max()
        y = y % 2
    container = draw(st.sampled_from(["pandas", "arrow"]))
    return as_table(kind, z, y, container), input_kind


@FAST
@given(case=scored_tables(), sizes=st.lists(st.integers(1, 70), min_size=1, max_size=3))
def test_batch_size_changes_nothing(case: tuple, sizes: list[int]) -> None:
    table, input_kind = case
    whole = xentcli.score(table, input=input_kind)
    for k in sorted({1, 2, 3, *sizes}):
        assert_same_aggregates(whole, xentcli.score(table, input=input_kind, batch_rows=k))


@pytest.mark.parametrize("container", ["pandas", "arrow"])
@pytest.mark.parametrize("batch_rows", [1, 7, 64, 1000])
def test_batch_size_changes_nothing_on_many_rows(container: str, batch_rows: int) -> None:
    """Many rows, names as labels, auto-detected probabilities."""
    rng = np.random.default_rng(batch_rows)
    w = rng.uniform(0.01, 1.0, (2000, 4))
    table = as_table("names", w / w.sum(axis=1, keepdims=True), rng.integers(0, 4, 2000), container)
    whole = xentcli.score(table)
    assert whole.input == "probs"
    assert_same_aggregates(whole, xentcli.score(table, batch_rows=batch_rows))


# -- accumulators merge in any order ------------------------------------------------------

FACTS = Facts(
    task="multiclass",
    input="logits",
    classes=("a", "b", "c"),
    log_base="e",
    reduction="mean",
    eps=0.0,
    signature="test",
)


def batch_of(
    losses: np.ndarray, labels: np.ndarray, preds: np.ndarray, clipped: int, renormalized: int
) -> Rows:
    """Rows of a multiclass batch with these losses (the other figures made up)."""
    p = np.exp(-losses)
    return Rows(
        loss=losses,
        numerator=losses,
        denominator=None,
        weights=None,
        label=labels,
        pred=preds,
        hit=preds == labels,
        p_true=p,
        brier=(1 - p) ** 2,
        confidence=p,
        outcome=preds == labels,
        rows=np.arange(losses.shape[0]),
        clipped=clipped,
        renormalized=renormalized,
    )


PLAN = Plan(3, "multiclass")
ENDS = Ends(scale=1.0, classes=("a", "b", "c"), task="multiclass", target="hard")


def fold(parts: list[Accumulator]) -> Accumulator:
    return reduce(lambda a, b: a.merge(b), parts)


def tree(parts: list[Accumulator]) -> Accumulator:
    while len(parts) > 1:
        parts = [
            parts[i].merge(parts[i + 1]) if i + 1 < len(parts) else parts[i]
            for i in range(0, len(parts), 2)
        ]
    return parts[0]


@FAST
@given(
    data=st.data(),
    n=st.integers(1, 200),
    magnitude=st.sampled_from([1.0, 1e6, 1e300]),
    seed=st.integers(0, 2**32 - 1),
)
def test_accumulator_merge_is_order_independent(
    data: st.DataObject, n: int, magnitude: float, seed: int
) -> None:
    losses = data.draw(hnp.arrays(np.float64, n, elements=st.floats(0.0, magnitude)))
    labels = data.draw(hnp.arrays(np.int64, n, elements=st.integers(0, 2)))
    preds = data.draw(hnp.arrays(np.int64, n, elements=st.integers(0, 2)))
    cuts = sorted(data.draw(st.lists(st.integers(0, n), max_size=8)))
    bounds = [0, *cuts, n]
    parts, renormalized = [], 0
    for i, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
        acc = Accumulator(PLAN)
        acc.add(batch_of(losses[lo:hi], labels[lo:hi], preds[lo:hi], i, i % 2))
        parts.append(acc)
        renormalized += i % 2
    before = [repr(p.finish(FACTS, ENDS, "test")) for p in parts]
    whole = Accumulator(PLAN)
    whole.add(batch_of(losses, labels, preds, sum(range(len(parts))), renormalized))
    rng = np.random.default_rng(seed)
    shuffled = [parts[i] for i in rng.permutation(len(parts))]
    merged = {
        "in order": fold(parts),
        "reversed": fold(parts[::-1]),
        "shuffled": fold(shuffled),
        "tree": tree(shuffled),
        "right fold": reduce(lambda a, b: b.merge(a), parts[::-1]),
    }
    one_pass = whole.finish(FACTS, ENDS, "test")
    # correctly rounded sums, as math.fsum gives them
    assert one_pass.sum_loss == math.fsum(losses.tolist())
    for c in range(3):
        assert one_pass.per_class[c].sum_loss == math.fsum(losses[labels == c].tolist())
    assert one_pass.accuracy == np.count_nonzero(preds == labels) / n
    for name, acc in merged.items():
        assert repr(acc.finish(FACTS, ENDS, "test")) == repr(one_pass), name
    # merging leaves its inputs as they were
    assert [repr(p.finish(FACTS, ENDS, "test")) for p in parts] == before
