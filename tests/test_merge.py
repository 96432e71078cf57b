"""Partials merge exactly: any cut of the rows, merged in any order, gives the one-pass
``Summary`` to the last bit (DESIGN "Metrics are mergeable partials")."""

from __future__ import annotations

import dataclasses
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import xentcli
from xentcli.metrics.accumulate import Accumulator
from xentcli.metrics.exact import ExactSums
from xentcli.metrics.rows import Rows


def _exact_reference(values: np.ndarray) -> float:
    total = sum((Fraction(v) for v in values.tolist()), Fraction(0))
    try:
        return total.numerator / total.denominator
    except OverflowError:
        return math.inf if total > 0 else -math.inf


@settings(deadline=None)  # examples: the profile (tests/conftest.py)
@given(
    st.lists(st.floats(allow_nan=False, allow_infinity=False, width=64), min_size=1, max_size=200),
    st.integers(1, 4),
    st.randoms(use_true_random=False),
)
def test_exact_sums_are_correctly_rounded_for_any_cut_and_order(values, k, rnd):
    """Against the exact rational sum (fractions), per group, cut and shuffled."""
    x = np.array(values, dtype=np.float64)
    groups = np.array([rnd.randrange(k) for _ in values], dtype=np.int64)
    cuts = sorted(rnd.sample(range(len(x) + 1), min(3, len(x) + 1)))
    pieces = []
    for a, b in zip([0, *cuts], [*cuts, len(x)], strict=True):
        part = ExactSums(k)
        part.add(x[a:b], groups[a:b])
        pieces.append(part)
    rnd.shuffle(pieces)
    merged = pieces[0]
    for part in pieces[1:]:
        merged = merged.merge(part)
    expected = [_exact_reference(x[groups == g]) for g in range(k)]
    assert merged.totals().tolist() == expected


def test_exact_sums_beyond_float_buckets():
    """Values near the float64 limit, infinities and NaN sum as the exact sum (or as
    IEEE rules say for the non-finite)."""
    big = ExactSums()
    big.add(np.array([1.7e308, 1.7e308, -1.7e308]))
    assert big.totals()[0] == 1.7e308
    over = ExactSums()
    over.add(np.array([1.7e308, 1.7e308]))
    assert over.totals()[0] == math.inf
    mixed = ExactSums()
    mixed.add(np.array([math.inf, 1.0, -math.inf]))
    assert math.isnan(mixed.totals()[0])
    cancel = ExactSums()
    cancel.add(np.array([1e100, 1.0, -1e100, 1e-300]))
    assert cancel.totals()[0] == 1.0


class _Recorder:
    """Wraps ``Accumulator.add``/``finish`` to keep what one run gave them."""

    def __init__(self, monkeypatch):
        self.rows: list[Rows] = []
        self.accumulators: list[Accumulator] = []
        self.ends = None
        add, finish = Accumulator.add, Accumulator.finish

        def keep_rows(acc, rows):
            self.accumulators.append(acc)
            self.rows.append(rows)
            add(acc, rows)

        def keep_ends(acc, facts, ends, version):
            self.facts, self.ends = facts, ends
            return finish(acc, facts, ends, version)

        monkeypatch.setattr(Accumulator, "add", keep_rows)
        monkeypatch.setattr(Accumulator, "finish", keep_ends)


def _cut(rows: Rows, start: int, stop: int) -> Rows:
    """The rows ``start:stop`` of a batch (counters go with the first piece)."""
    picked = {}
    for f in dataclasses.fields(rows):
        value = getattr(rows, f.name)
        if isinstance(value, np.ndarray) and value.ndim >= 1:
            picked[f.name] = value[start:stop]
        elif f.name in ("clipped", "renormalized", "dropped", "ignored"):
            picked[f.name] = value if start == 0 else 0
        elif f.name in ("ids", "label_text", "pred_text") and value is not None:
            picked[f.name] = value[start:stop]
        elif f.name == "keys":
            picked[f.name] = {name: keys[start:stop] for name, keys in value.items()}
        else:
            picked[f.name] = value
    return Rows(**picked)


def _frames(draw_seed: int, task: str, weighted: bool):
    rng = np.random.default_rng(draw_seed)
    n = int(rng.integers(2, 400))
    k = {"binary": 1, "multiclass": 4, "multilabel": 3}[task]
    scores = rng.normal(scale=3.0, size=(n, k))
    if task == "multiclass":
        scores[rng.random(n) < 0.05] *= 300.0  # rows of extreme logits
    columns = {f"p_{j}": scores[:, j] for j in range(k)} if k > 1 else {"score": scores[:, 0]}
    if task == "multilabel":
        labels = {f"p_{j}": (rng.random(n) < 0.4).astype(np.int64) for j in range(k)}
    else:
        labels = {"label": rng.integers(0, max(k, 2), n)}
    if weighted:
        labels["weight"] = rng.exponential(size=n)
    return columns, labels


@pytest.mark.parametrize("task", ["binary", "multiclass", "multilabel"])
@pytest.mark.parametrize("weighted", [False, True])
@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), shuffle=st.randoms(use_true_random=False))
def test_any_cut_merged_in_any_order_gives_the_one_pass_summary(
    monkeypatch, task, weighted, seed, shuffle
):
    columns, labels = _frames(seed, task, weighted)
    options = {"input": "logits", "task": task, "ci": 0.9}
    if weighted:
        options["weight_col"] = "weight"
    with monkeypatch.context() as patch:
        recorder = _Recorder(patch)
        one_pass = xentcli.score(columns, labels, batch_rows=7, **options)
    plan = recorder.accumulators[0].plan
    pieces = []
    for rows in recorder.rows:
        n = len(rows)
        cuts = sorted(shuffle.sample(range(n + 1), min(2, n + 1)))
        for a, b in zip([0, *cuts], [*cuts, n], strict=True):
            piece = Accumulator(plan)
            piece.add(_cut(rows, a, b))
            pieces.append(piece)
    shuffle.shuffle(pieces)
    merged = pieces[0]
    for piece in pieces[1:]:
        merged = merged.merge(piece)
    rebuilt = merged.finish(recorder.facts, recorder.ends, one_pass.xent_version)
    another_batching = xentcli.score(columns, labels, batch_rows=1000, **options)
    fields = {f.name for f in dataclasses.fields(one_pass)} - {"gates", "passed"}
    for name in sorted(fields):
        assert repr(getattr(rebuilt, name)) == repr(getattr(one_pass, name)), name
        assert repr(getattr(another_batching, name)) == repr(getattr(one_pass, name)), name
