"""Invariances of the cross-entropy family (hypothesis): weights, smoothing, soft and
multilabel targets, each against the identity that defines it.

- unit sample weights, equal class weights and ``pos_weight = 1`` change nothing;
- integer sample weights equal repeating rows (scikit-learn's test_common invariance);
- one-hot soft targets equal hard labels; smoothing 0 equals no smoothing;
- smoothing is linear: ``(1 - E) CE(y) + E * mean_c CE(c)`` (PyTorch's definition);
- a multilabel row is the mean of K binary problems;
- ``sum == mean * total weight``; batch size changes no weighted total.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import xentcli

RTOL = 1e-12
FAST = settings(deadline=None)


def close(a: float, b: float, rtol: float = RTOL) -> bool:
    return math.isclose(a, b, rel_tol=rtol, abs_tol=1e-300)


@st.composite
def problems(draw: st.DrawFn, max_rows: int = 25, max_classes: int = 6) -> tuple:
    """Logits (moderate, so that every loss is finite), hard labels, sample weights."""
    n = draw(st.integers(1, max_rows))
    k = draw(st.integers(2, max_classes))
    z = draw(hnp.arrays(np.float64, (n, k), elements=st.floats(-30, 30, allow_subnormal=False)))
    y = draw(hnp.arrays(np.int64, n, elements=st.integers(0, k - 1)))
    w = draw(hnp.arrays(np.float64, n, elements=st.floats(0.05, 5.0)))
    return z, y, w


def _score(z: np.ndarray, labels: np.ndarray, **options: object) -> xentcli.Summary:
    return xentcli.cross_entropy(z, labels, input="logits", **options)


@FAST
@given(problems())
def test_unit_weights_change_nothing(problem: tuple) -> None:
    z, y, _w = problem
    plain = _score(z, y)
    k = z.shape[1]
    weighted = _score(z, y, weights=np.ones(len(y)), class_weights={str(c): 1 for c in range(k)})
    assert close(weighted.loss, plain.loss)
    assert close(weighted.sum_loss, plain.sum_loss)


@FAST
@given(problems(), st.floats(0.1, 10.0))
def test_equal_class_weights_leave_the_mean(problem: tuple, c: float) -> None:
    z, y, _w = problem
    weights = {str(i): c for i in range(z.shape[1])}
    assert close(_score(z, y, class_weights=weights).loss, _score(z, y).loss)


@FAST
@given(problems(), st.lists(st.integers(0, 3), min_size=25, max_size=25))
def test_integer_weights_equal_repeated_rows(problem: tuple, counts: list[int]) -> None:
    z, y, _w = problem
    reps = np.array(counts[: len(y)])
    if reps.sum() == 0:
        reps[0] = 1
    weighted = _score(z, y, weights=reps.astype(float))
    repeated = _score(np.repeat(z, reps, axis=0), np.repeat(y, reps))
    assert close(weighted.loss, repeated.loss, 1e-11)


@FAST
@given(problems())
def test_sum_is_weighted_mean_times_total_weight(problem: tuple) -> None:
    z, y, w = problem
    s = _score(z, y, weights=w)
    assert close(s.sum_loss, s.mean_loss * math.fsum(w), 1e-11)


@FAST
@given(problems())
def test_one_hot_targets_are_hard_labels(problem: tuple) -> None:
    z, y, _w = problem
    one_hot = np.eye(z.shape[1])[y]
    soft = _score(z, one_hot)
    hard = _score(z, y)
    assert soft.target == "hard"  # one-hot columns are read as hard labels
    assert close(soft.loss, hard.loss)


@FAST
@given(problems(), st.floats(0.0, 0.9))
def test_smoothing_is_the_mix_of_hard_and_uniform(problem: tuple, eps: float) -> None:
    z, y, _w = problem
    k = z.shape[1]
    smoothed = _score(z, y, label_smoothing=eps).loss
    uniform = np.full(z.shape, 1.0 / k)
    expected = (1 - eps) * _score(z, y).loss + eps * _score(z, uniform, task="multiclass").loss
    assert close(smoothed, expected, 1e-10)


@FAST
@given(problems(), st.floats(0.0, 0.9))
def test_smoothing_hard_equals_smoothing_one_hot_soft(problem: tuple, eps: float) -> None:
    z, y, _w = problem
    k = z.shape[1]
    target = (1 - eps) * np.eye(k)[y] + eps / k
    hard = _score(z, y, label_smoothing=eps)
    soft = _score(z, target, task="multiclass")
    assert soft.target == "soft"  # --task multiclass reads label columns as soft targets
    assert close(hard.loss, soft.loss, 1e-10)


@FAST
@given(problems())
def test_multilabel_row_is_the_mean_of_binary_problems(problem: tuple) -> None:
    z, y, _w = problem
    n, k = z.shape
    rng = np.random.default_rng(len(y))
    targets = rng.integers(0, 2, size=(n, k)).astype(float)
    multi = _score(z, targets, task="multilabel")
    per_label = [_score(z[:, j], targets[:, j].astype(int)).loss for j in range(k)]
    assert multi.task == "multilabel"
    assert close(multi.loss, math.fsum(per_label) / k, 1e-11)


@FAST
@given(problems(), st.floats(0.1, 10.0))
def test_pos_weight_scales_only_positive_terms(problem: tuple, pw: float) -> None:
    z, y, _w = problem
    column, labels = z[:, 0], (y % 2)
    weighted = _score(column, labels, pos_weight=pw, reduction="sum").sum_loss
    positives = labels == 1
    pos = (
        _score(column[positives], labels[positives], reduction="sum").sum_loss
        if positives.any()
        else 0.0
    )
    neg = (
        _score(column[~positives], labels[~positives], reduction="sum").sum_loss
        if (~positives).any()
        else 0.0
    )
    assert close(weighted, pw * pos + neg, 1e-11)


@pytest.mark.parametrize("batch_rows", [1, 3, 7, 4096])
def test_weighted_totals_do_not_depend_on_batching(batch_rows: int) -> None:
    rng = np.random.default_rng(5)
    z = rng.normal(size=(5000, 4)) * 3
    y = rng.integers(0, 4, 5000)
    w = rng.uniform(0, 3, 5000)
    cw = {"0": 2.0, "1": 0.5, "2": 1.0, "3": 3.0}
    whole = _score(z, y, weights=w, class_weights=cw)
    cut = _score(z, y, weights=w, class_weights=cw, batch_rows=batch_rows)
    assert cut.sum_loss == whole.sum_loss  # block sums and fsum: the same bits
    assert cut.loss == whole.loss
