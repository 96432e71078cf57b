"""The p-values of ``xent compare``'s paired mode, in the standard library alone (no scipy at
run time): the two-sided Student-t test (``scipy.stats.ttest_rel``'s p) and the exact
McNemar test (``scipy.stats.binomtest(b, b + c, 0.5)``), both through the regularized
incomplete beta function.

``betainc`` is the continued fraction that Boost's ``ibeta`` uses for large parameters
(``ibeta_fraction2``, evaluated with the modified Lentz method), after the symmetry swap
``I_x(a, b) = 1 - I_{1-x}(b, a)`` that keeps it converging fast. Its prefactor
``x^a (1-x)^b / B(a, b)`` is computed as DiDonato & Morris (TOMS 708, ``brcomp``) do,
through ``lambda = (a + b)(1 - x) - b`` and ``log1p(u) - u``, never as
``lgamma(a) + lgamma(b) - lgamma(a + b)``: with ``a`` = df/2 near 5e8 those are 1e10 and
their difference would keep only 6 digits. Every term that could cancel is written in
``lambda`` or ``1 - x`` handed in separately, so the t-test's ``x = df / (df + t^2)`` near 1
loses nothing to ``1 - x``.
"""

from __future__ import annotations

import math

_EPS = 2.0**-52
_TINY = 1e-300  # Lentz's stand-in for a zero denominator
_MAX_TERMS = 1_000_000
_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)
# Stirling's series for lgamma's remainder: B_{2k} / (2k (2k - 1)), k = 1 .. 9
_STIRLING = (
    1 / 12,
    -1 / 360,
    1 / 1260,
    -1 / 1680,
    1 / 1188,
    -691 / 360360,
    1 / 156,
    -3617 / 122400,
    43867 / 244188,
)


def _lgamma_rest(z: float) -> float:
    """``lgamma(z) - ((z - 1/2) log z - z + log(2 pi) / 2)``: Stirling's series from 10
    on (its terms there fall below 1e-17 by the ninth), else by difference (small there)."""
    if z < 10:
        return math.lgamma(z) - ((z - 0.5) * math.log(z) - z + _HALF_LOG_2PI)
    w = 1 / (z * z)
    total = 0.0
    for c in reversed(_STIRLING):
        total = total * w + c
    return total / z


def _log1pmx(u: float) -> float:
    """``log1p(u) - u`` without its cancellation near 0 (a series for ``|u| < 0.5``)."""
    if abs(u) >= 0.5:
        return math.log1p(u) - u
    # log1p(u) = 2 atanh(s) with s = u / (2 + u)
    s = u / (2 + u)
    s2 = s * s
    term, total, k = s2 * s, 0.0, 3
    while True:
        piece = term / k
        total += piece
        if abs(piece) <= abs(total) * 1e-17:
            break
        term *= s2
        k += 2
    # 2 atanh(s) - u = 2 s + 2 sum_{k>=3 odd} s^k / k - u, and 2 s - u = -u s
    return 2 * total - u * s


def _rlog(e: float, log_ratio: float) -> float:
    """``e - log1p(e)``: by the series near 0, else with ``log1p(e)`` handed in as
    ``log_ratio``, the log of ``x / x0`` taken from ``x`` itself (``1 + e`` could not
    carry a tiny ``x``)."""
    return -_log1pmx(e) if abs(e) <= 0.6 else e - log_ratio


def _log_power_terms(a: float, b: float, x: float, y: float, lam: float) -> float:
    """``log(x^a y^b / B(a, b))`` with ``y = 1 - x`` and ``lam = (a + b) y - b``, as
    TOMS 708's ``brcomp``: ``a log(x / x0) + b log(y / y0)`` with ``x0 = a / (a + b)``
    written as ``-(a rlog(-lam / a) + b rlog(lam / b))``, plus the Gamma functions'
    Stirling parts, whose large terms cancel analytically."""
    u = _rlog(-lam / a, math.log(x) + math.log1p(b / a))
    v = _rlog(lam / b, math.log(y) + math.log1p(a / b))
    rest = _lgamma_rest(a + b) - _lgamma_rest(a) - _lgamma_rest(b)
    half_log = 0.5 * (math.log(a) + math.log(b) - math.log(a + b))
    return -(a * u + b * v) + half_log - _HALF_LOG_2PI + rest


def _fraction(a: float, b: float, x: float, y: float, lam: float) -> float:
    """Boost's ``ibeta_fraction2``: ``b0 + a1 / (b1 + a2 / (b2 + ...))`` by modified
    Lentz, with ``a y - b x = lam`` so that no term cancels near ``x = 1``."""
    f = a * (lam + 1) / (a + 1)
    if f == 0:
        f = _TINY
    c, d = f, 0.0
    m = 1
    while m < _MAX_TERMS:
        denom = a + 2 * m - 1
        an = (a + m - 1) * (a + b + m - 1) * m * (b - m) * x * x / (denom * denom)
        bn = m + m * (b - m) * x / denom + (a + m) * (lam + 1 + m * (2 - x)) / (a + 2 * m + 1)
        d = bn + an * d
        if d == 0:
            d = _TINY
        c = bn + an / c
        if c == 0:
            c = _TINY
        d = 1 / d
        delta = c * d
        f *= delta
        if abs(delta - 1) <= _EPS:
            return f
        m += 1
    raise ArithmeticError(f"betainc({a}, {b}): the continued fraction did not converge")


def _betainc(a: float, b: float, x: float, y: float, lam: float) -> float:
    """``I_x(a, b)`` for ``0 < x < 1`` given ``y = 1 - x`` and ``lam = (a + b) y - b``
    accurately, with the swap where the fraction converges slowly."""
    if lam < (a - b) / (a + b + 2):  # x > (a + 1) / (a + b + 2)
        return 1 - _betainc_direct(b, a, y, x, -lam)
    return _betainc_direct(a, b, x, y, lam)


def _betainc_direct(a: float, b: float, x: float, y: float, lam: float) -> float:
    log_front = _log_power_terms(a, b, x, y, lam)
    return math.exp(log_front - math.log(_fraction(a, b, x, y, lam)))


def betainc(a: float, b: float, x: float) -> float:
    """The regularized incomplete beta function ``I_x(a, b)`` (scipy.special.betainc).

    >>> round(betainc(2.0, 3.0, 0.4), 12)
    0.5248
    """
    if math.isnan(a) or math.isnan(b) or math.isnan(x) or a <= 0 or b <= 0 or not 0 <= x <= 1:
        return math.nan
    if x == 0:
        return 0.0
    if x == 1:
        return 1.0
    y = 1 - x
    lam = (a + b) * y - b if a > b else a - (a + b) * x
    return _betainc(a, b, x, y, lam)


def t_test_p(t: float, df: float) -> float:
    """The two-sided p-value of Student's t with ``df`` degrees of freedom:
    ``2 * scipy.stats.t.sf(abs(t), df)`` = ``I_{df/(df+t^2)}(df/2, 1/2)``.

    >>> t_test_p(0.0, 10.0)
    1.0
    >>> round(t_test_p(2.0, 10.0), 12)
    0.073388034771
    """
    t, df = abs(float(t)), float(df)
    if math.isnan(t) or math.isnan(df) or df <= 0:
        return math.nan
    if t == 0:
        return 1.0
    if math.isinf(t):
        return 0.0
    if math.isinf(df):
        return math.erfc(t / math.sqrt(2))
    a, b = df / 2, 0.5
    # q = t^2 / df; then x = 1 / (1 + q) and y = q / (1 + q), each to a few ulps
    log_q = 2 * math.log(t) - math.log(df)
    tt = t * t
    q = tt / df if 0 < tt < math.inf else (math.exp(log_q) if log_q < 709 else math.inf)
    if q == 0:
        return 1.0
    if math.isinf(q):
        # x = 1 / q beyond float range: I_x(a, 1/2) = x^a / (a B(a, 1/2)) to first order
        lbeta = math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)
        return math.exp(-a * log_q - math.log(a) - lbeta)
    x = 1 / (1 + q)
    y = q / (1 + q)
    lam = (a + b) * y - b
    return _betainc(a, b, x, y, lam)


def _binomial_cdf_half(k: int, n: int) -> float:
    """``P(X <= k)`` for ``X ~ Binomial(n, 1/2)`` and ``0 <= k < n``: ``I_{1/2}(n - k, k + 1)``."""
    a, b = float(n - k), float(k + 1)
    return _betainc(a, b, 0.5, 0.5, (a - b) / 2)


def mcnemar_p(b: int, c: int) -> float:
    """The exact (binomial) McNemar p-value of ``b`` rows only the base got right and
    ``c`` only the new one did: ``scipy.stats.binomtest(b, b + c, 0.5).pvalue``, i.e.
    ``min(1, 2 P(X <= min(b, c)))`` for ``X ~ Binomial(b + c, 1/2)``.

    >>> mcnemar_p(0, 0), mcnemar_p(3, 3)
    (1.0, 1.0)
    >>> round(mcnemar_p(1, 9), 12)
    0.021484375
    """
    if b < 0 or c < 0:
        raise ValueError("McNemar's counts cannot be negative")
    k, n = min(b, c), b + c
    if n - 2 * k <= 1:  # b == c, or they differ by one: P(X <= k) = 1/2 exactly
        return 1.0
    return min(1.0, 2 * _binomial_cdf_half(k, n))
