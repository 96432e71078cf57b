"""The paired partial (``xentcli.metrics.paired``): against scipy's ``ttest_rel`` and
``binomtest``, NumPy and exact fractions; merged from any cut in any order to the same
bits; swapping the models mirrors every figure exactly (SPEC "xent compare")."""

from __future__ import annotations

import dataclasses
import math
import pickle
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from xentcli.metrics.bootstrap import BootstrapInterval
from xentcli.metrics.intervals import NormalInterval
from xentcli.metrics.paired import Paired, PairedFigures, PairedRows
from xentcli.metrics.rows import Rows
from xentcli.metrics.significance import t_test_p

TOL = 1e-12


def _paired_rows(base, new, hit_base, hit_new, weights=None, start=0) -> PairedRows:
    base, new = np.asarray(base, dtype=np.float64), np.asarray(new, dtype=np.float64)
    w = None if weights is None else np.asarray(weights, dtype=np.float64)
    return PairedRows(
        numerator=new - base if w is None else w * (new - base),
        denominator=w,
        loss_base=base,
        loss_new=new,
        hit_base=np.asarray(hit_base, dtype=np.bool_),
        hit_new=np.asarray(hit_new, dtype=np.bool_),
        weights=w,
        rows=np.arange(start, start + base.size, dtype=np.int64),
    )


def _swapped(rows: PairedRows) -> PairedRows:
    return dataclasses.replace(
        rows,
        numerator=-rows.numerator,
        loss_base=rows.loss_new,
        loss_new=rows.loss_base,
        hit_base=rows.hit_new,
        hit_new=rows.hit_base,
    )


def _cut(rows: PairedRows, a: int, b: int) -> PairedRows:
    return PairedRows(
        **{
            f.name: None if getattr(rows, f.name) is None else getattr(rows, f.name)[a:b]
            for f in dataclasses.fields(rows)
        }
    )


def _one_pass(rows: PairedRows, **settings) -> PairedFigures:
    partial = Paired(**{"level": 0.95, **settings})
    partial.add(rows)
    return partial


def _bits(figures: PairedFigures) -> tuple:
    """Every field, floats as their hex (NaN equal to NaN, -0.0 apart from 0.0)."""
    out = []
    for value in dataclasses.astuple(figures):
        values = value if isinstance(value, tuple) else (value,)
        out.append(tuple(v.hex() if isinstance(v, float) else v for v in values))
    return tuple(out)


def _random_rows(rng, n, weighted=False, ties=False) -> PairedRows:
    base = rng.gamma(2.0, 0.4, n)
    new = base + rng.normal(-0.02, 0.3, n)
    if ties:
        new = np.where(rng.random(n) < 0.3, base, new)
    hit_base, hit_new = rng.random(n) < 0.7, rng.random(n) < 0.72
    weights = rng.uniform(0.1, 3.0, n) if weighted else None
    return _paired_rows(base, new, hit_base, hit_new, weights, start=int(rng.integers(0, 1000)))


def test_unweighted_against_ttest_rel_and_numpy():
    rng = np.random.default_rng(1)
    worst = {"delta": 0.0, "se": 0.0, "p": 0.0}
    for n in [2, 3, 10, 57, 1000, 20000]:
        rows = _random_rows(rng, n, ties=True)
        figures = _one_pass(rows).finish(1.0)
        d = rows.loss_new - rows.loss_base
        exact = sum(map(Fraction, d.tolist()), Fraction(0)) / n
        assert figures.delta == float(exact)  # exactly rounded
        worst["delta"] = max(worst["delta"], abs(figures.delta - np.mean(d)) / abs(np.mean(d)))
        se = float(stats.sem(d))
        assert figures.se == pytest.approx(se, rel=TOL)
        worst["se"] = max(worst["se"], abs(figures.se - se) / se)
        p = float(stats.ttest_rel(rows.loss_new, rows.loss_base).pvalue)
        assert figures.p_value_loss == pytest.approx(p, rel=TOL), n
        worst["p"] = max(worst["p"], abs(figures.p_value_loss - p) / p)
        z = float(stats.norm.ppf(0.975))
        lo, hi = figures.interval
        assert lo == pytest.approx(figures.delta - z * figures.se, rel=1e-14, abs=1e-15)
        assert hi == pytest.approx(figures.delta + z * figures.se, rel=1e-14, abs=1e-15)
        assert figures.wins == int(np.sum(d < 0)) and figures.losses == int(np.sum(d > 0))
        assert figures.ties == int(np.sum(rows.loss_new == rows.loss_base))
        b = int(np.sum(rows.hit_base & ~rows.hit_new))
        c = int(np.sum(rows.hit_new & ~rows.hit_base))
        assert (figures.base_only, figures.new_only) == (b, c)
        mcnemar = float(stats.binomtest(b, b + c, 0.5).pvalue) if b + c else 1.0
        assert figures.p_value_accuracy == pytest.approx(mcnemar, rel=TOL)
        assert (figures.n, figures.method, figures.replicates, figures.seed) == (
            n,
            "normal",
            None,
            None,
        )
    print(f"\npaired vs numpy/scipy (max rel): {worst}")


def test_weighted_against_fractions():
    """delta = Σ w d / Σ w exactly rounded; se² = n/(n-1) Σ (w d - m w)² / (Σ w)²."""
    rng = np.random.default_rng(2)
    for n in [2, 5, 300]:
        rows = _random_rows(rng, n, weighted=True)
        figures = _one_pass(rows, weighted=True, sample_weighted=True).finish(1.0)
        num = [Fraction(v) for v in rows.numerator.tolist()]
        den = [Fraction(v) for v in rows.weights.tolist()]
        mean = sum(num, Fraction(0)) / sum(den, Fraction(0))
        assert figures.delta == float(mean)
        spread = sum(((a - mean * b) ** 2 for a, b in zip(num, den, strict=True)), Fraction(0))
        variance = Fraction(n, n - 1) * spread / sum(den, Fraction(0)) ** 2
        se = math.sqrt(float(variance))
        assert figures.se == pytest.approx(se, rel=1e-15)
        # the sums hold the rounded products w d · w d, so se is exact to a few ulps only
        assert figures.p_value_loss == pytest.approx(t_test_p(float(mean) / se, n - 1), rel=TOL)
        expected = 2 * float(stats.t.sf(abs(float(mean) / se), n - 1))
        assert figures.p_value_loss == pytest.approx(expected, rel=TOL)


def test_report_base_divides_by_the_scale():
    rng = np.random.default_rng(3)
    rows = _random_rows(rng, 500)
    nats, bits = _one_pass(rows).finish(1.0), _one_pass(rows).finish(math.log(2))
    assert bits.delta == pytest.approx(nats.delta / math.log(2), rel=1e-15)
    assert bits.se == pytest.approx(nats.se / math.log(2), rel=1e-15)
    assert bits.interval[0] == pytest.approx(nats.interval[0] / math.log(2), rel=1e-14)
    assert bits.p_value_loss == nats.p_value_loss


@pytest.mark.parametrize("bootstrap", [None, 40])
@pytest.mark.parametrize("n", [1, 2, 50])
def test_identical_inputs_never_give_nan(bootstrap, n):
    rng = np.random.default_rng(n)
    loss = rng.gamma(2.0, 0.4, n)
    hit = rng.random(n) < 0.5
    for weights in (None, rng.uniform(0.5, 2, n)):
        rows = _paired_rows(loss, loss, hit, hit, weights)
        figures = _one_pass(rows, bootstrap=bootstrap, weighted=weights is not None).finish(1.0)
        assert (figures.delta, figures.se, figures.interval) == (0.0, 0.0, (0.0, 0.0))
        assert (figures.p_value_loss, figures.p_value_accuracy) == (1.0, 1.0)
        assert (figures.wins, figures.losses, figures.ties) == (0, 0, n)


def test_fewer_than_two_rows():
    one = _one_pass(_paired_rows([0.5], [0.25], [True], [False])).finish(1.0)
    assert one.delta == -0.25 and math.isnan(one.se) and math.isnan(one.p_value_loss)
    assert all(math.isnan(v) for v in one.interval)
    assert (one.wins, one.base_only, one.p_value_accuracy) == (1, 1, 1.0)
    none = Paired(0.95).finish(1.0)
    assert none.n == 0 and math.isnan(none.delta) and math.isnan(none.p_value_loss)
    assert none.p_value_accuracy == 1.0


def test_constant_nonzero_difference_is_certain():
    """se 0 with a mean that is not: t is infinite, p 0, the interval the point."""
    rows = _paired_rows([1.0, 2.0, 3.0], [1.5, 2.5, 3.5], [1, 1, 1], [1, 1, 1])
    figures = _one_pass(rows).finish(1.0)
    assert (figures.delta, figures.se, figures.p_value_loss) == (0.5, 0.0, 0.0)
    assert figures.interval == (0.5, 0.5)


def test_infinite_loss_gives_an_infinite_delta():
    rows = _paired_rows([1.0, 2.0], [math.inf, 2.5], [1, 1], [0, 1])
    figures = _one_pass(rows).finish(1.0)
    assert figures.delta == math.inf and math.isnan(figures.p_value_loss)


def test_bootstrap_is_score_bootstrap_of_d():
    """The interval is BootstrapInterval's percentile interval run on d as the loss."""
    rng = np.random.default_rng(4)
    rows = _random_rows(rng, 3000)
    figures = _one_pass(rows, bootstrap=200, seed=7).finish(1.0)
    reference = BootstrapInterval(0.95, 200, 7)
    reference.add(_score_rows(rows.numerator, positions=rows.rows))
    means, _ = reference.means()
    lo, hi = np.quantile(means, [0.025, 0.975])
    assert figures.interval[0] == lo
    assert figures.interval[1] == pytest.approx(hi, rel=1e-15, abs=1e-17)
    assert (figures.method, figures.replicates, figures.seed) == ("bootstrap", 200, 7)
    normal = _one_pass(rows).finish(1.0)
    assert figures.delta == normal.delta and figures.p_value_loss == normal.p_value_loss
    width = normal.interval[1] - normal.interval[0]
    assert abs((figures.interval[1] - figures.interval[0]) - width) < 0.25 * width


def _score_rows(numerator, denominator=None, positions=None) -> Rows:
    """A batch of score's rows carrying only what the interval partials read."""
    n = len(numerator)
    return Rows(
        loss=numerator,
        numerator=numerator,
        denominator=denominator,
        weights=denominator,
        label=np.zeros(n, dtype=np.int64),
        pred=np.zeros(n, dtype=np.int64),
        hit=np.zeros(n, dtype=np.bool_),
        p_true=np.zeros(n),
        brier=np.zeros(n),
        confidence=np.zeros(n),
        outcome=np.zeros(n, dtype=np.bool_),
        rows=np.arange(n, dtype=np.int64) if positions is None else positions,
    )


@pytest.mark.parametrize("weighted", [False, True])
def test_score_normal_interval_of_equal_losses_is_a_point(weighted):
    """Regression (found here, in score's NormalInterval): rows of one equal loss (``xent
    score --ci`` on six rows of p = 0.3, label 1) gave a spread a hair below 0 from the
    rounded squares, and ``sqrt`` raised: exit 1 with "unexpected failure"."""
    loss = np.full(6, -math.log(0.3))
    weights = np.full(6, 0.01171875) if weighted else None
    interval = NormalInterval(0.95, weighted, weighted)
    interval.add(_score_rows(loss if weights is None else weights * loss, weights))
    centre, lo, hi = interval.loss_interval()
    assert lo == centre == hi == pytest.approx(-math.log(0.3), rel=1e-15)


def test_normal_interval_of_equal_weighted_rows_is_a_point():
    """Regression (found here, in score's shared NormalInterval): equal weighted rows
    gave a spread a hair below 0 from the rounded squares, and ``sqrt`` raised."""
    rows = _paired_rows([0.0, 0.0], [0.1, 0.1], [0, 0], [0, 0], [0.01171875, 0.01171875])
    figures = _one_pass(rows, weighted=True).finish(1.0)
    assert figures.se == 0.0 and figures.interval == (figures.delta, figures.delta)
    assert figures.p_value_loss == 0.0


def test_partials_pickle_and_refuse_unlike_merges():
    rng = np.random.default_rng(5)
    partial = _one_pass(_random_rows(rng, 100), bootstrap=10)
    twin = pickle.loads(pickle.dumps(partial))
    assert _bits(twin.finish(1.0)) == _bits(partial.finish(1.0))
    with pytest.raises(ValueError):
        partial.merge(Paired(0.95, bootstrap=10, seed=1))
    with pytest.raises(ValueError):
        Paired(0.95, bootstrap=0)
    with pytest.raises(ValueError):
        _paired_rows([1.0, 2.0], [1.0], [1, 1], [1, 1])


_SOME = [0.0, 0.1, 0.25, 1.0, 2.5, 1e-9, 7.75]  # a few values, so that rows tie
_losses = st.lists(st.one_of(st.sampled_from(_SOME), st.floats(0, 30)), max_size=60)


@st.composite
def _cases(draw):
    base = draw(_losses)
    n = len(base)
    new = draw(
        st.lists(st.one_of(st.sampled_from(_SOME), st.floats(0, 30)), min_size=n, max_size=n)
    )
    new = [
        b if draw(st.booleans()) and i % 3 == 0 else v
        for i, (b, v) in enumerate(zip(base, new, strict=True))
    ]
    hits = draw(st.lists(st.tuples(st.booleans(), st.booleans()), min_size=n, max_size=n))
    weighted = draw(st.booleans())
    weights = draw(st.lists(st.floats(0.01, 10), min_size=n, max_size=n)) if weighted else None
    bootstrap = draw(st.sampled_from([None, 1, 25]))
    settings = {
        "level": draw(st.sampled_from([0.9, 0.95])),
        "bootstrap": bootstrap,
        "seed": draw(st.integers(0, 2**32)),
        "weighted": weighted,
        "sample_weighted": weighted,
    }
    rows = _paired_rows(base, new, [h[0] for h in hits], [h[1] for h in hits], weights)
    return rows, settings


@settings(deadline=None)
@given(_cases(), st.randoms(use_true_random=False))
def test_any_cut_in_any_order_gives_the_same_bits(case, rnd):
    rows, config = case
    whole = Paired(**config)
    whole.add(rows)
    n = len(rows)
    cuts = sorted(rnd.sample(range(n + 1), min(3, n + 1)))
    pieces = []
    for a, b in zip([0, *cuts], [*cuts, n], strict=True):
        part = Paired(**config)
        part.add(_cut(rows, a, b))
        pieces.append(part)
    rnd.shuffle(pieces)
    merged = pieces[0]
    for part in pieces[1:]:
        merged = merged.merge(part) if rnd.random() < 0.5 else part.merge(merged)
    scale = rnd.choice([1.0, math.log(2), math.log(10)])
    assert _bits(merged.finish(scale)) == _bits(whole.finish(scale))


@settings(deadline=None)
@given(_cases(), st.sampled_from([1.0, math.log(2)]))
def test_swapping_the_models_mirrors_every_figure(case, scale):
    rows, config = case
    one, other = Paired(**config), Paired(**config)
    one.add(rows)
    other.add(_swapped(rows))
    a, b = one.finish(scale), other.finish(scale)
    same = lambda x, y: x == y or (math.isnan(x) and math.isnan(y))  # noqa: E731
    assert same(b.delta, -a.delta)
    assert same(b.interval[0], -a.interval[1]) and same(b.interval[1], -a.interval[0])
    assert same(b.se, a.se)
    assert _bits(b)[8:10] == _bits(a)[8:10]  # the p-values, bit for bit
    assert (b.wins, b.losses, b.ties) == (a.losses, a.wins, a.ties)
    assert (b.base_only, b.new_only) == (a.new_only, a.base_only)
    if a.n and all(v == 0 for v in rows.numerator.tolist()):
        assert (a.p_value_loss, a.interval) == (1.0, (0.0, 0.0))
