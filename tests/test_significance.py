"""The paired mode's p-values (``xentcli.metrics.significance``) against scipy and against
a 50-digit reference: ``t_test_p`` = ``2 * scipy.stats.t.sf(|t|, df)`` (and
``ttest_rel``'s p from the data), ``mcnemar_p`` = ``scipy.stats.binomtest(b, b + c,
0.5).pvalue``, ``betainc`` = ``scipy.special.betainc``.

The bound is relative, 1e-12 (the figures seen are printed with ``-s``: about 1.5e-13 at
worst, where ``log p`` is near -700 and the rounding of ``t^2 / df`` alone moves ``log p``
by a few ulps of 700). Two places scipy itself is the one off, so there the 50-digit
reference decides: ``df = 1`` with small ``t`` (scipy 1.17's Cauchy branch is off by up
to 3e-9 near ``t = 1e-8``), and p-values below about 1e-308, which scipy often returns
as 0. Subnormal p-values are held to a few of their quanta (5e-324) instead."""

from __future__ import annotations

import math
import time

import mpmath as mp
import numpy as np
import pytest
from scipy import special, stats

from xentcli.metrics.significance import betainc, mcnemar_p, t_test_p

TOL = 1e-12
TINY = 2.2250738585072014e-308  # the least normal float64
QUANTUM = 5e-324


def _ref_betainc(a, b, x) -> mp.mpf:
    """Numerical Recipes' ``betacf`` (another fraction than the module's) at 50 digits."""
    with mp.workdps(50):
        a, b, x = mp.mpf(a), mp.mpf(b), mp.mpf(x)
        if x > (a + 1) / (a + b + 2):
            return 1 - _ref_betainc(b, a, 1 - x)
        log_front = a * mp.log(x) + b * mp.log1p(-x)
        log_front -= mp.loggamma(a) + mp.loggamma(b) - mp.loggamma(a + b)
        c, d = mp.mpf(1), 1 / (1 - (a + b) * x / (a + 1))
        h = d
        for m in range(1, 10**7):
            aa = m * (b - m) * x / ((a - 1 + 2 * m) * (a + 2 * m))
            d = 1 / (1 + aa * d)
            c = 1 + aa / c
            h *= d * c
            aa = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 1 + 2 * m))
            d = 1 / (1 + aa * d)
            c = 1 + aa / c
            h *= d * c
            if abs(d * c - 1) < mp.mpf(10) ** -45:
                break
        return mp.exp(log_front) * h / a


def _ref_t(t: float, df: float) -> float:
    """``I_{df/(df+t^2)}(df/2, 1/2)`` at 50 digits from the exact float inputs."""
    with mp.workdps(50):
        t, df = mp.mpf(t), mp.mpf(df)
        return float(_ref_betainc(df / 2, mp.mpf(1) / 2, df / (df + t * t)))


class _Worst:
    """The largest absolute and relative differences seen, printed at the end (``-s``)."""

    def __init__(self, what: str) -> None:
        self.what, self.abs, self.rel = what, 0.0, 0.0

    def see(self, ours: float, theirs: float) -> float:
        diff = abs(ours - theirs)
        rel = diff / abs(theirs) if theirs else (0.0 if diff == 0 else math.inf)
        self.abs, self.rel = max(self.abs, diff), max(self.rel, rel)
        return rel

    def report(self) -> None:
        print(f"\n{self.what}: max abs diff {self.abs:.3g}, max rel diff {self.rel:.3g}")


def _check(worst: _Worst, ours: float, ref: float, context) -> None:
    """Relative ``TOL`` for normal values, a few quanta for subnormal ones."""
    if abs(ref) >= TINY:
        assert worst.see(ours, ref) <= TOL, context
    else:
        worst.see(ours, ref)
        assert abs(ours - ref) <= 4 * QUANTUM + TOL * abs(ref), context


DF_GRID = [1, 2, 3, 5, 10, 30, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 2.5, 1234.5]
T_GRID = [1e-8, 1e-4, 0.01, 0.1, 0.5, 1, 1.5, 1.7, 2, 3, 5, 10, 20, 30, 37, 38, 100, 1e3]


def test_t_test_p_over_a_grid_against_scipy_and_the_reference():
    vs_scipy, vs_ref = _Worst("t_test_p vs scipy.stats.t.sf grid"), _Worst("t_test_p vs mp grid")
    for df in DF_GRID:
        for t in T_GRID:
            ours, ref = t_test_p(t, df), _ref_t(t, df)
            _check(vs_ref, ours, ref, (t, df))
            theirs = 2 * float(stats.t.sf(t, df))
            if df != 1 and theirs >= TINY:  # df = 1 and underflow: see the docstring
                assert vs_scipy.see(ours, theirs) <= TOL, (t, df, ours, theirs)
            assert t_test_p(-t, df) == ours
    vs_scipy.report()
    vs_ref.report()


def test_t_test_p_random_draws():
    rng = np.random.default_rng(20261205)
    vs_scipy, vs_ref = _Worst("t_test_p vs scipy random"), _Worst("t_test_p vs mp random")
    for i in range(400):
        df = 10 ** rng.uniform(0, 9)
        df = float(round(df)) if i % 2 else float(df)
        t = float(10 ** rng.uniform(-8, 3))
        ours = t_test_p(t, df)
        _check(vs_ref, ours, _ref_t(t, df), (t, df))
        theirs = 2 * float(stats.t.sf(t, df))
        if df != 1 and theirs >= TINY:
            assert vs_scipy.see(ours, theirs) <= TOL, (t, df, ours, theirs)
    vs_scipy.report()
    vs_ref.report()


@pytest.mark.parametrize("df", [1, 2, 5, 30, 100, 1000, 1e5, 1e9, 1234.5])
def test_t_test_p_far_tail_down_to_subnormal(df):
    """p from 1e-100 to 1e-320 (subnormal): t from scipy's isf, p against the reference
    (scipy returns 0 for many of these)."""
    worst = _Worst(f"t_test_p tail df={df} vs mp")
    for target in (1e-100, 1e-200, 1e-300, 1e-305, 1e-310, 1e-315, 1e-320):
        t = float(stats.t.isf(target / 2, df))
        if not math.isfinite(t):
            continue
        _check(worst, t_test_p(t, df), _ref_t(t, df), (t, df))
    worst.report()


def test_t_test_p_df_1_is_the_cauchy_closed_form():
    """df = 1: p = 2 atan(1/|t|) / pi; scipy is off here for small t, we are not."""
    worst = _Worst("t_test_p df=1 vs 2 atan(1/t)/pi")
    for t in [1e-8, 2.4e-8, 1e-6, 1e-3, 0.3, 1, 7, 1e3, 1e8, 1e100, 1e300]:
        with mp.workdps(50):
            ref = float(2 * mp.atan(1 / mp.mpf(t)) / mp.pi)
        _check(worst, t_test_p(t, 1), ref, t)
    worst.report()
    assert abs(2 * stats.t.sf(1e-8, 1) - t_test_p(1e-8, 1)) > 1e-9  # scipy's error, pinned


def test_t_test_p_edges():
    assert t_test_p(0.0, 5) == 1.0
    assert t_test_p(-0.0, 5) == 1.0
    assert t_test_p(math.inf, 5) == 0.0
    assert t_test_p(-math.inf, 5) == 0.0
    assert math.isnan(t_test_p(math.nan, 5))
    assert math.isnan(t_test_p(1.0, 0))
    assert math.isnan(t_test_p(1.0, -3))
    assert math.isnan(t_test_p(1.0, math.nan))
    assert t_test_p(2.0, math.inf) == pytest.approx(2 * stats.norm.sf(2.0), rel=1e-14)
    assert t_test_p(1e-200, 10) == 1.0
    assert t_test_p(1e200, 10) == 0.0
    assert 0 < t_test_p(1e200, 0.01) < 1  # a tiny df keeps a heavy tail


def test_t_test_p_from_paired_data_against_ttest_rel():
    """t = mean(d) / (s(d) / sqrt(n)) from the data, df = n - 1, against ttest_rel's p."""
    rng = np.random.default_rng(12)
    worst = _Worst("t_test_p vs scipy.stats.ttest_rel")
    for _ in range(300):
        n = int(rng.integers(3, 2000))
        base = rng.gamma(2.0, 0.5, n)
        new = base + rng.normal(rng.normal(0, 0.05), rng.uniform(0.01, 1), n)
        d = new - base
        t = float(np.mean(d) / (np.std(d, ddof=1) / math.sqrt(n)))
        theirs = float(stats.ttest_rel(new, base).pvalue)
        if theirs >= TINY:
            # ttest_rel's t rounds apart from ours by an ulp or two; p moves by ~t^2 ulps
            assert worst.see(t_test_p(t, n - 1), theirs) <= TOL
    worst.report()


def _binomtest(b: int, c: int) -> float:
    return float(stats.binomtest(b, b + c, 0.5).pvalue) if b + c else 1.0


def test_mcnemar_all_small_pairs_against_binomtest():
    worst = _Worst("mcnemar_p vs scipy.stats.binomtest, b, c in 0..50")
    for b in range(51):
        for c in range(51):
            ours, theirs = mcnemar_p(b, c), _binomtest(b, c)
            assert worst.see(ours, theirs) <= TOL, (b, c, ours, theirs)
            assert mcnemar_p(c, b) == ours
    worst.report()
    assert mcnemar_p(0, 0) == 1.0 and mcnemar_p(7, 7) == 1.0 and mcnemar_p(7, 8) == 1.0


def test_mcnemar_large_counts_against_binomtest():
    """n to 1e7 against the 50-digit reference at ``TOL``, and against scipy within a
    bound that grows with n: scipy's own error does (its two boost binomial tails, each
    from ``ibeta`` at a, b near n/2, drift by about 1e-19 n: 1e-12 at n = 9e6, where
    we sit within 1e-16 of the reference)."""
    rng = np.random.default_rng(5)
    vs_scipy = _Worst("mcnemar_p vs scipy.stats.binomtest, n to 1e7")
    vs_ref = _Worst("mcnemar_p vs mp, n to 1e7")
    for _ in range(150):
        n = int(10 ** rng.uniform(2, 7))
        gap = int(abs(rng.normal(0, 3 * math.sqrt(n))))
        b = max(0, min(n, (n - gap) // 2))
        c = n - b
        ours, theirs = mcnemar_p(b, c), _binomtest(b, c)
        k = min(b, c)
        ref = 1.0 if n - 2 * k <= 1 else min(1.0, float(2 * _ref_betainc(n - k, k + 1, 0.5)))
        _check(vs_ref, ours, ref, (b, c))
        if theirs >= TINY:
            assert vs_scipy.see(ours, theirs) <= max(TOL, 2e-19 * n), (b, c, ours, theirs)
    vs_scipy.report()
    vs_ref.report()


def test_mcnemar_is_fast_at_a_hundred_million():
    start = time.perf_counter()
    for b, c in [(50_000_000 - 3000, 50_000_000 + 3000), (49_999_999, 50_000_001), (0, 10**8)]:
        p = mcnemar_p(b, c)
        assert 0 <= p <= 1
    assert time.perf_counter() - start < 1.0
    assert mcnemar_p(0, 10**8) == 0.0  # 2**-1e8 underflows
    with pytest.raises(ValueError):
        mcnemar_p(-1, 3)


def test_betainc_against_scipy_and_the_reference():
    rng = np.random.default_rng(8)
    vs_scipy, vs_ref = _Worst("betainc vs scipy.special.betainc"), _Worst("betainc vs mp")
    for _ in range(300):
        a, b = 10 ** rng.uniform(-1, 4, 2)
        x = float(rng.uniform())
        ours = betainc(a, b, x)
        _check(vs_ref, ours, float(_ref_betainc(a, b, x)), (a, b, x))
        theirs = float(special.betainc(a, b, x))
        if theirs >= TINY:
            assert vs_scipy.see(ours, theirs) <= TOL, (a, b, x, ours, theirs)
    vs_scipy.report()
    vs_ref.report()


def test_betainc_large_parameters():
    """a = df/2 to 5e8 and a, b both large: where lgamma differences would lose digits."""
    worst = _Worst("betainc large a, b vs mp")
    for a, b, x in [
        (5e8, 0.5, 1 - 3e-9),
        (5e8, 0.5, 1 - 1e-7),
        (5e7, 5e7 + 1, 0.5),
        (5e7 + 3000, 5e7 - 2999, 0.5),
        (3.45e5, 6.49e6, 0.0495),
        (1e6, 1e6, 0.499),
    ]:
        _check(worst, betainc(a, b, x), float(_ref_betainc(a, b, x)), (a, b, x))
    worst.report()


def test_betainc_edges_and_symmetry():
    assert betainc(2, 3, 0.0) == 0.0 and betainc(2, 3, 1.0) == 1.0
    for bad in [(0, 1, 0.5), (1, -1, 0.5), (1, 1, 1.5), (1, 1, -0.1), (math.nan, 1, 0.5)]:
        assert math.isnan(betainc(*bad))
    assert betainc(1, 1, 0.3) == pytest.approx(0.3, rel=1e-15)
    for a, b, x in [(2.5, 7.0, 0.2), (40.0, 3.0, 0.9), (0.5, 0.5, 0.01)]:
        assert betainc(a, b, x) + betainc(b, a, 1 - x) == pytest.approx(1.0, rel=1e-14)
