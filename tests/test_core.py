"""The core kernels and the public API, each figure held to an independent reference.

References (SPEC "Computation"): PyTorch (``cross_entropy``, ``nll_loss`` after
``log_softmax``, ``binary_cross_entropy_with_logits``, ``binary_cross_entropy``) and
scikit-learn's ``log_loss`` on random inputs, run in float64 on the very values given to
xent (float32 inputs are widened first, so the comparison is of the math, not of the
peers' float32 arithmetic); mpmath (or the closed form when mpmath is missing) at the
extremes; closed forms and the worked examples of the literature.

``WORST`` records the largest relative difference seen against each peer; it is printed
when the module finishes (``pytest -s`` shows it).
"""

from __future__ import annotations

import math
import warnings
import zlib
from collections.abc import Iterator

import numpy as np
import numpy.typing as npt
import pytest
import torch
import torch.nn.functional as F
from sklearn.metrics import log_loss

import xentcli
from xentcli import XentError
from xentcli.losses import core

try:
    import mpmath
except ImportError:  # pragma: no cover - mpmath comes with the dev environment
    mpmath = None

RTOL = 1e-12
EPS64 = float(np.finfo(np.float64).eps)
EPS32 = float(np.finfo(np.float32).eps)
NEG_LOG_EPS64 = 36.04365338911715  # -log(2**-52) = 52 log 2
NEG_LOG_EPS32 = 15.942385152878742  # -log(2**-23) = 23 log 2

SIZES = (1, 7, 1000)
CLASS_COUNTS = (2, 3, 10, 100)
DTYPES = (np.float64, np.float32)

WORST: dict[str, float] = {"torch": 0.0, "sklearn": 0.0, "mpmath": 0.0}


@pytest.fixture(scope="module", autouse=True)
def _report_worst() -> Iterator[None]:
    yield
    print("\nlargest relative difference:", {k: f"{v:.3g}" for k, v in WORST.items()})


def assert_close(
    actual: npt.ArrayLike,
    expected: npt.ArrayLike,
    oracle: str,
    *,
    rtol: float = RTOL,
    atol: float = 0.0,
) -> None:
    """``actual`` equals ``expected`` to ``rtol`` (and ``atol``); records the worst gap."""
    got = np.asarray(actual, dtype=np.float64)
    want = np.asarray(expected, dtype=np.float64)
    assert got.shape == want.shape
    same = got == want  # infinities and exact zeros compare as equal
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = np.where(same, 0.0, np.abs(got - want) / np.abs(want))
    if rel.size:
        WORST[oracle] = max(WORST[oracle], float(np.nanmax(rel)))
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)


def rng_for(*key: object) -> np.random.Generator:
    """A generator seeded by the test's parameters, the same on every run."""
    return np.random.default_rng(zlib.crc32("|".join(map(str, key)).encode()))


def widen(a: np.ndarray) -> torch.Tensor:
    """The float64 tensor of exactly the values xent receives."""
    return torch.from_numpy(np.asarray(a, dtype=np.float64))


def random_logits(
    n: int, k: int, dtype: type, *key: object, scale: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Standard normal logits: PyTorch forms ``log(sum(exp(z - top)))`` with an absolute
    error near eps, so against it losses must stay well above 1e-4 for a 1e-12 relative
    match; wider logits are held to mpmath instead."""
    rng = rng_for("logits", n, k, np.dtype(dtype).name, *key)
    z = (scale * rng.standard_normal((n, k))).astype(dtype)
    y = rng.integers(0, k, n)
    return z, y


def lse_slack(z: np.ndarray) -> float:
    """A log-sum-exp near 0 is ``top + log1p(rest)`` with cancellation: either way of
    computing it is off by a few ulps of the largest logit, not of the result."""
    return 4 * EPS64 * float(np.abs(np.asarray(z, dtype=np.float64)).max())


def exact_log1p_exp(x: float) -> float:
    """``log(1 + exp(x))`` correctly rounded: mpmath when present, else numpy's log1p."""
    if mpmath is None:
        return float(np.log1p(np.exp(x)))
    with mpmath.workdps(60):
        return float(mpmath.log1p(mpmath.exp(mpmath.mpf(x))))


def exact_log1p(x: float) -> float:
    """``log(1 + x)`` correctly rounded: mpmath when present, else numpy's log1p."""
    if mpmath is None:
        return float(np.log1p(x))
    with mpmath.workdps(60):
        return float(mpmath.log1p(mpmath.mpf(x)))


def exact_log1mexp(x: float) -> float:
    """``log(1 - exp(x))`` for ``x < 0``, to 60 digits with mpmath, else ``log(-expm1(x))``."""
    if mpmath is None:
        return float(np.log(-np.expm1(x)))
    with mpmath.workdps(60):
        return float(mpmath.log(-mpmath.expm1(mpmath.mpf(x))))


# -- multiclass from logits -------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("k", CLASS_COUNTS)
@pytest.mark.parametrize("n", SIZES)
def test_multiclass_logits_match_torch(n: int, k: int, dtype: type) -> None:
    z, y = random_logits(n, k, dtype)
    got = core.multiclass_from_logits(z, y)
    zt, yt = widen(z), torch.from_numpy(y)
    ref = F.cross_entropy(zt, yt, reduction="none").numpy()
    assert_close(got.loss, ref, "torch")
    assert_close(got.p_true, torch.softmax(zt, dim=1)[torch.arange(n), yt].numpy(), "torch")
    np.testing.assert_array_equal(got.pred, torch.argmax(zt, dim=1).numpy())
    assert got.clipped == 0

    summary = xentcli.cross_entropy(z, y, input="logits")
    assert summary.n_samples == n and summary.n_classes == k
    assert_close(summary.mean_loss, F.cross_entropy(zt, yt).item(), "torch")
    assert_close(summary.sum_loss, F.cross_entropy(zt, yt, reduction="sum").item(), "torch")
    assert summary.accuracy == np.mean(torch.argmax(zt, dim=1).numpy() == y)


def exact_logsumexp(row: np.ndarray, minus: float = 0.0) -> float:
    """``log(sum(exp(row))) - minus`` to 60 digits, rounded once."""
    with mpmath.workdps(60):
        total = mpmath.fsum(mpmath.exp(mpmath.mpf(float(v))) for v in row)
        return float(mpmath.log(total) - mpmath.mpf(minus))


@pytest.mark.skipif(mpmath is None, reason="needs mpmath")
@pytest.mark.parametrize("k", [2, 3, 10])
def test_multiclass_wide_logits_match_mpmath(k: int) -> None:
    """Logits spread over +-100: losses from below 1e-15 to hundreds, each correct to the
    rounding of ``z - top`` (PyTorch's ``log`` of the sum would lose the small ones)."""
    z, y = random_logits(300, k, np.float64, "wide", scale=30.0)
    exact = [exact_logsumexp(z[i], minus=z[i, y[i]]) for i in range(len(y))]
    assert min(exact) < 1e-15
    assert_close(core.multiclass_from_logits(z, y).loss, exact, "mpmath")
    lse = [exact_logsumexp(row) for row in z]
    assert_close(core.row_logsumexp(z), lse, "mpmath")


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("k", [3, 10, 32, 33, 100])
def test_multiclass_logits_in_many_blocks_match_torch(k: int, order: str) -> None:
    """Enough rows that the kernel works in several cache-sized blocks, in both layouts
    (the pipeline hands the core column-major blocks)."""
    n = 3 * (core.BLOCK_BYTES // (8 * k)) + 17
    z, y = random_logits(n, k, np.float64, order)
    z = np.asarray(z, order=order)
    zt, yt = widen(z), torch.from_numpy(y)
    got = core.multiclass_from_logits(z, y)
    assert_close(got.loss, F.cross_entropy(zt, yt, reduction="none").numpy(), "torch")
    np.testing.assert_array_equal(got.pred, torch.argmax(zt, dim=1).numpy())
    lse = torch.logsumexp(zt, dim=1).numpy()
    assert_close(core.row_logsumexp(z), lse, "torch", atol=lse_slack(z))


@pytest.mark.parametrize("k", [3, 40])
def test_api_over_several_batches_matches_torch(k: int) -> None:
    """More rows than one default batch: the pipeline's column-major blocks, merged."""
    z, y = random_logits(150_000, k, np.float64, "api-batches")
    zt, yt = widen(z), torch.from_numpy(y)
    summary = xentcli.cross_entropy(z, y, input="logits")
    assert summary.n_samples == 150_000
    assert_close(summary.mean_loss, F.cross_entropy(zt, yt).item(), "torch")
    assert_close(summary.sum_loss, F.cross_entropy(zt, yt, reduction="sum").item(), "torch")
    assert summary.accuracy == np.mean(torch.argmax(zt, dim=1).numpy() == y)


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("k", [3, 40])
def test_ties_predict_the_first_largest_class(k: int, order: str) -> None:
    """``pred`` is the first of tied maxima, as ``numpy.argmax``; the loss sees every tie."""
    rng = rng_for("ties", k, order)
    z = np.asarray(rng.integers(-2, 3, (500, k)).astype(np.float64), order=order)
    y = rng.integers(0, k, 500)
    got = core.multiclass_from_logits(z, y)
    np.testing.assert_array_equal(got.pred, np.argmax(np.ascontiguousarray(z), axis=1))
    ref = F.cross_entropy(widen(z), torch.from_numpy(y), reduction="none").numpy()
    assert_close(got.loss, ref, "torch")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("k", CLASS_COUNTS)
@pytest.mark.parametrize("n", SIZES)
def test_row_logsumexp_matches_torch(n: int, k: int, dtype: type) -> None:
    z, _ = random_logits(n, k, dtype, "lse")
    lse = torch.logsumexp(widen(z), dim=1).numpy()
    assert_close(core.row_logsumexp(z), lse, "torch", atol=lse_slack(z))


# -- multiclass from log-probabilities and probabilities --------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("k", CLASS_COUNTS)
@pytest.mark.parametrize("n", SIZES)
def test_multiclass_logprobs_match_torch_nll(n: int, k: int, dtype: type) -> None:
    z, y = random_logits(n, k, np.float64, "logprobs")
    lp = F.log_softmax(torch.from_numpy(z), dim=1).numpy().astype(dtype)
    lpt, yt = widen(lp), torch.from_numpy(y)
    got = core.multiclass_from_logprobs(lp, y)
    assert_close(got.loss, F.nll_loss(lpt, yt, reduction="none").numpy(), "torch")
    assert_close(got.p_true, torch.exp(lpt)[torch.arange(n), yt].numpy(), "torch")
    np.testing.assert_array_equal(got.pred, torch.argmax(lpt, dim=1).numpy())

    summary = xentcli.cross_entropy(lp, y)
    assert summary.input == "logprobs"
    assert summary.renormalized == 0  # rows off by float rounding only are left alone
    assert_close(summary.mean_loss, F.nll_loss(lpt, yt).item(), "torch")
    assert_close(summary.sum_loss, F.nll_loss(lpt, yt, reduction="sum").item(), "torch")


def random_probs(n: int, k: int, dtype: type, *key: object) -> tuple[np.ndarray, np.ndarray]:
    """Softmax rows, every value well inside [1e-6, 1 - 1e-6] (no clipping anywhere)."""
    z, y = random_logits(n, k, np.float64, "probs", *key)
    p = torch.softmax(torch.from_numpy(z / 2.0), dim=1).numpy().astype(dtype)
    assert p.min() > 1e-6 and p.max() < 1 - 1e-6
    return p, y


def sklearn_per_sample(y: np.ndarray, p: np.ndarray, labels: list[int], rows: int = 40) -> list:
    """scikit-learn's loss of each of the first ``rows`` samples on its own."""
    return [log_loss(y[i : i + 1], p[i : i + 1], labels=labels) for i in range(min(rows, len(y)))]


# float32 rows widened to float64 sum to 1 only within float32 rounding, which
# scikit-learn notes (tolerance sqrt(float64 eps)) but scores as given, as xent does
@pytest.mark.filterwarnings("ignore:The y_prob values do not sum to one:UserWarning")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("k", CLASS_COUNTS)
@pytest.mark.parametrize("n", SIZES)
def test_multiclass_probs_match_sklearn_and_torch(n: int, k: int, dtype: type) -> None:
    p, y = random_probs(n, k, dtype)
    p64 = p.astype(np.float64)
    got = core.multiclass_from_probs(p, y, eps=EPS64)
    assert got.clipped == 0
    pt, yt = widen(p), torch.from_numpy(y)
    assert_close(got.loss, F.nll_loss(torch.log(pt), yt, reduction="none").numpy(), "torch")
    labels = list(range(k))
    head = sklearn_per_sample(y, p64, labels)
    assert_close(got.loss[: len(head)], head, "sklearn")
    np.testing.assert_array_equal(got.pred, torch.argmax(pt, dim=1).numpy())
    np.testing.assert_array_equal(got.p_true, p64[np.arange(n), y])

    summary = xentcli.cross_entropy(p, y)
    assert (summary.input, summary.clipped, summary.renormalized) == ("probs", 0, 0)
    assert summary.eps == float(np.finfo(dtype).eps)
    assert_close(summary.mean_loss, log_loss(y, p64, labels=labels), "sklearn")
    assert_close(summary.sum_loss, log_loss(y, p64, labels=labels, normalize=False), "sklearn")
    assert_close(summary.mean_loss, F.nll_loss(torch.log(pt), yt).item(), "torch")


def test_api_renormalises_rows_within_sum_tol() -> None:
    """SPEC: probability rows off by less than --sum-tol are renormalised and counted;
    log-probability rows likewise (shifted by their log-sum-exp)."""
    p, y = random_probs(50, 4, np.float64, "renormalise")
    off = p * (1 + 5e-4 * np.where(np.arange(50) % 2 == 0, 1.0, -1.0))[:, None]
    renormed = off / off.sum(axis=1, keepdims=True)
    summary = xentcli.cross_entropy(off, y)
    assert (summary.input, summary.renormalized) == ("probs", 50)
    assert_close(summary.mean_loss, log_loss(y, renormed, labels=[0, 1, 2, 3]), "sklearn")
    with pytest.raises(XentError):
        xentcli.cross_entropy(off, y, sum_tol=1e-4)
    loose = xentcli.cross_entropy(off, y, input="probs", sum_tol=1e-4, renormalize=True)
    assert loose.renormalized == 50
    assert_close(loose.mean_loss, summary.mean_loss, "sklearn")

    lp = np.log(p) + 4e-4
    lpt, yt = torch.from_numpy(lp), torch.from_numpy(y)
    logs = xentcli.cross_entropy(lp, y, input="logprobs")
    assert logs.renormalized == 50
    assert_close(logs.mean_loss, F.cross_entropy(lpt, yt).item(), "torch")


# -- binary ------------------------------------------------------------------------------


def random_binary(
    n: int, dtype: type, *key: object, scale: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Standard normal logits (see ``random_logits`` on PyTorch's precision) and 0/1 labels."""
    rng = rng_for("binary", n, np.dtype(dtype).name, *key)
    return (scale * rng.standard_normal(n)).astype(dtype), rng.integers(0, 2, n)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", SIZES)
def test_binary_logits_match_torch(n: int, dtype: type) -> None:
    z, y = random_binary(n, dtype)
    zt, yt = widen(z), torch.from_numpy(y.astype(np.float64))
    got = core.binary_from_logits(z, y)
    ref = F.binary_cross_entropy_with_logits(zt, yt, reduction="none").numpy()
    assert_close(got.loss, ref, "torch")
    p_true = torch.where(yt == 1, torch.sigmoid(zt), torch.sigmoid(-zt)).numpy()
    assert_close(got.p_true, p_true, "torch")
    np.testing.assert_array_equal(got.pred, (z > 0).astype(np.int64))

    summary = xentcli.cross_entropy(z, y, input="logits")
    assert (summary.task, summary.n_classes) == ("binary", 2)
    assert_close(summary.mean_loss, F.binary_cross_entropy_with_logits(zt, yt).item(), "torch")
    assert summary.accuracy == np.mean((z > 0) == (y == 1))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", SIZES)
def test_binary_probs_match_torch_and_sklearn(n: int, dtype: type) -> None:
    rng = rng_for("binary-probs", n, np.dtype(dtype).name)
    p = rng.uniform(1e-6, 1 - 1e-6, n).astype(dtype)
    y = rng.integers(0, 2, n)
    p64 = p.astype(np.float64)
    pt, yt = widen(p), torch.from_numpy(y.astype(np.float64))
    got = core.binary_from_probs(p, y, eps=EPS64)
    assert got.clipped == 0
    assert_close(got.loss, F.binary_cross_entropy(pt, yt, reduction="none").numpy(), "torch")
    np.testing.assert_array_equal(got.p_true, np.where(y == 1, p64, 1 - p64))
    np.testing.assert_array_equal(got.pred, (p64 > 0.5).astype(np.int64))
    # scikit-learn forms 1 - p, which rounds by up to 2**-53 absolute: hence the atol
    head = sklearn_per_sample(y, p64, [0, 1])
    assert_close(got.loss[: len(head)], head, "sklearn", atol=4e-16)

    summary = xentcli.cross_entropy(p, y)
    assert (summary.task, summary.input, summary.clipped) == ("binary", "probs", 0)
    assert_close(summary.mean_loss, F.binary_cross_entropy(pt, yt).item(), "torch")
    assert_close(summary.mean_loss, log_loss(y, p64, labels=[0, 1]), "sklearn")


def test_binary_probs_tiny_and_near_one_match_torch_log1p() -> None:
    """With ``eps = 0`` nothing is clipped: ``-log1p(-p)`` for p = 1e-300 is 1e-300.
    (Tiny p with label 1 is left out: PyTorch clamps its log at -100.)"""
    rng = rng_for("tiny")
    tiny = 10.0 ** -rng.uniform(10, 300, 200)
    near_one = 1 - 10.0 ** -rng.uniform(1, 15, 100)
    p = np.concatenate([tiny, near_one])
    y = np.concatenate([np.zeros(200, dtype=np.int64), rng.integers(0, 2, 100)])
    got = core.binary_from_probs(p, y, eps=0.0)
    ref = F.binary_cross_entropy(widen(p), widen(y), reduction="none").numpy()
    assert_close(got.loss, ref, "torch")
    assert_close(got.loss[:200], [-exact_log1p(-v) for v in tiny], "mpmath")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", SIZES)
def test_binary_logprobs_match_mpmath_and_torch(n: int, dtype: type) -> None:
    z, y = random_binary(n, np.float64, "logprobs")
    lp = F.logsigmoid(torch.from_numpy(z)).numpy().astype(dtype)
    got = core.binary_from_logprobs(lp, y)
    lp64 = lp.astype(np.float64)
    exact = [-v if t == 1 else -exact_log1mexp(v) for v, t in zip(lp64, y, strict=True)]
    assert_close(got.loss, exact, "mpmath")
    # torch on p = exp(log p): BCE takes log1p(-p), exact enough away from p -> 1
    lpt, yt = widen(lp), torch.from_numpy(y.astype(np.float64))
    away = lp64 < -1e-3
    ref = F.binary_cross_entropy(torch.exp(lpt), yt, reduction="none").numpy()
    assert_close(got.loss[away], ref[away], "torch", rtol=1e-10)
    np.testing.assert_array_equal(got.pred, (np.exp(lp64) > 0.5).astype(np.int64))
    p_true = np.where(y == 1, np.exp(lp64), -np.expm1(lp64))
    assert_close(got.p_true, p_true, "mpmath", rtol=1e-12 * max(1.0, float(np.abs(lp64).max())))

    summary = xentcli.cross_entropy(lp, y, input="logprobs")
    assert summary.input == "logprobs"
    assert_close(summary.mean_loss, math.fsum(exact) / n, "mpmath")


@pytest.mark.skipif(mpmath is None, reason="needs mpmath")
def test_binary_wide_logits_match_mpmath() -> None:
    """softplus(-z) and softplus(z) to the last digits for |z| up to 1000."""
    z, y = random_binary(400, np.float64, "wide", scale=200.0)
    exact = [exact_log1p_exp(-v if t == 1 else v) for v, t in zip(z, y, strict=True)]
    assert min(exact) < 1e-100 and max(exact) > 100
    assert_close(core.binary_from_logits(z, y).loss, exact, "mpmath")


def test_binary_logprobs_zero_is_certain() -> None:
    """``log p = 0`` is p = 1: no loss for a positive, an infinite one for a negative."""
    got = core.binary_from_logprobs([0.0, 0.0, -1e-20], [1, 0, 0])
    assert got.loss.tolist()[:2] == [0.0, math.inf]
    assert got.loss[2] == pytest.approx(-exact_log1mexp(-1e-20), rel=1e-15)  # 46.05...


# -- closed forms at the extremes --------------------------------------------------------


def test_binary_logits_of_1e300_are_exact() -> None:
    got = core.binary_from_logits([1e300, 1e300, -1e300, -1e300], [1, 0, 0, 1])
    assert got.loss.tolist() == [0.0, 1e300, 0.0, 1e300]
    assert got.p_true.tolist() == [1.0, 0.0, 1.0, 0.0]
    assert got.pred.tolist() == [1, 1, 0, 0]


def test_multiclass_logits_of_1e300_are_exact() -> None:
    row = [1e300, -1e300, 0.0]
    got = core.multiclass_from_logits([row, row, row], [0, 1, 2])
    assert got.loss.tolist() == [0.0, 2e300, 1e300]
    assert got.pred.tolist() == [0, 0, 0]
    flipped = core.multiclass_from_logits([[-1e300, 1e300], [-1e300, 1e300]], [0, 1])
    assert flipped.loss.tolist() == [2e300, 0.0]


def test_api_logits_of_1e300_are_exact() -> None:
    row = [1e300, -1e300, 0.0]
    summary = xentcli.cross_entropy([row, row, row], [0, 1, 2])
    assert summary.input == "logits"
    assert summary.sum_loss == pytest.approx(math.fsum([0.0, 2e300, 1e300]), rel=1e-15)
    assert summary.mean_loss == pytest.approx(1e300, rel=1e-15)
    binary = xentcli.cross_entropy([1e300, -1e300, 1e300], [1, 0, 0])
    assert binary.sum_loss == 1e300 and binary.accuracy == pytest.approx(2 / 3, rel=1e-15)


def test_logits_beyond_half_the_float_range_give_exact_or_infinite_loss() -> None:
    """z - top overflows for [1.5e308, -1.5e308]: exp of it is 0, the loss of the top class
    is exactly 0 and the other's (3e308) is beyond float64, inf. Floating-point warnings
    are the kernel's business (DESIGN: silenced locally), never the caller's."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = core.multiclass_from_logits([[1.5e308, -1.5e308]] * 2, [0, 1])
        lse = core.row_logsumexp([[1.5e308, -1.5e308]])
    assert got.loss.tolist() == [0.0, math.inf]
    assert lse.tolist() == [1.5e308]


def test_row_logsumexp_of_ties_is_top_plus_log2() -> None:
    got = core.row_logsumexp([[1000.0, 1000.0], [-1000.0, -1000.0], [0.0, 0.0]])
    assert got.tolist() == [1000.0 + math.log(2.0), -1000.0 + math.log(2.0), math.log(2.0)]
    loss = core.multiclass_from_logits([[1000.0, 1000.0], [1000.0, 1000.0]], [0, 1])
    assert loss.loss.tolist() == [math.log(2.0), math.log(2.0)]
    assert loss.p_true.tolist() == [0.5, 0.5]


@pytest.mark.parametrize("gap", [1.0, 10.0, 40.0, 100.0, 700.0, 800.0])
def test_loss_far_below_eps_stays_exact(gap: float) -> None:
    """``[0, -gap]``: the loss of class 0 is log1p(exp(-gap)), e.g. 4.25e-18 for gap 40,
    far below machine eps (and 0 once exp(-gap) is below the smallest subnormal)."""
    exact = exact_log1p_exp(-gap)
    got = core.multiclass_from_logits([[0.0, -gap], [0.0, -gap]], [0, 1])
    assert_close(got.loss, [exact, gap + exact], "mpmath", rtol=1e-15)
    assert_close(core.row_logsumexp([[0.0, -gap]]), [exact], "mpmath", rtol=1e-15)
    binary = core.binary_from_logits([gap, -gap], [1, 0])
    assert_close(binary.loss, [exact, exact], "mpmath", rtol=1e-15)
    if gap == 40.0:
        assert exact == pytest.approx(4.248354255291589e-18, rel=1e-15)
        assert exact < EPS64 / 10
    if gap == 800.0:
        assert got.loss[0] == 0.0


def test_probabilities_0_and_1_without_clipping() -> None:
    multi = core.multiclass_from_probs([[0.0, 0.5, 0.5], [1.0, 0.0, 0.0]], [0, 0], eps=0.0)
    assert multi.loss.tolist() == [math.inf, 0.0] and multi.clipped == 0
    binary = core.binary_from_probs([0.0, 1.0, 1.0, 0.0], [1, 0, 1, 0], eps=0.0)
    assert binary.loss.tolist() == [math.inf, math.inf, 0.0, 0.0] and binary.clipped == 0


def test_probabilities_0_and_1_clipped_to_machine_eps() -> None:
    """Clipped to [eps, 1 - eps] as scikit-learn does: -log(eps) = 52 log 2."""
    assert math.isclose(NEG_LOG_EPS64, 52 * math.log(2.0), rel_tol=1e-15)
    one_off = -math.log1p(-EPS64)  # -log(1 - eps), 2.22e-16
    multi = core.multiclass_from_probs([[0.0, 0.5, 0.5], [0.25, 0.0, 0.75]], [0, 1], eps=EPS64)
    assert_close(multi.loss, [NEG_LOG_EPS64, NEG_LOG_EPS64], "mpmath", rtol=1e-15)
    assert multi.clipped == 2
    certain = core.multiclass_from_probs([[1.0, 0.0, 0.0]], [0], eps=EPS64)
    assert_close(certain.loss, [log_loss([0], [[1.0, 0.0, 0.0]], labels=[0, 1, 2])], "sklearn")
    assert certain.loss[0] == pytest.approx(one_off, rel=1e-15)

    p, y = [0.0, 1.0, 1.0, 0.0], [1, 0, 1, 0]
    binary = core.binary_from_probs(p, y, eps=EPS64)
    assert_close(binary.loss, [NEG_LOG_EPS64, NEG_LOG_EPS64, one_off, one_off], "mpmath")
    assert binary.clipped == 4
    assert_close(binary.loss, sklearn_per_sample(np.array(y), np.array(p), [0, 1]), "sklearn")


@pytest.mark.parametrize(
    ("dtype", "neg_log_eps"), [(np.float64, NEG_LOG_EPS64), (np.float32, NEG_LOG_EPS32)]
)
def test_api_eps_auto_is_the_machine_eps_of_the_input(dtype: type, neg_log_eps: float) -> None:
    eps = float(np.finfo(dtype).eps)
    assert math.isclose(neg_log_eps, -math.log(eps), rel_tol=1e-15)
    summary = xentcli.cross_entropy(np.array([0.0, 1.0, 0.5], dtype=dtype), [1, 0, 1])
    assert (summary.task, summary.input, summary.eps, summary.clipped) == (
        "binary",
        "probs",
        eps,
        2,
    )
    expected = math.fsum([neg_log_eps, neg_log_eps, math.log(2.0)])
    assert summary.sum_loss == pytest.approx(expected, rel=1e-15)
    assert summary.mean_loss == pytest.approx(expected / 3, rel=1e-15)

    rows = np.array([[0.0, 0.5, 0.5], [0.25, 0.25, 0.5]], dtype=dtype)
    multi = xentcli.cross_entropy(rows, [0, 2])
    assert (multi.eps, multi.clipped) == (eps, 1)
    assert multi.sum_loss == pytest.approx(neg_log_eps + math.log(2.0), rel=1e-15)


def test_api_eps_zero_gives_an_infinite_loss() -> None:
    summary = xentcli.cross_entropy([0.0, 1.0, 0.5], [1, 0, 1], eps=0)
    assert summary.clipped == 0
    assert summary.mean_loss == math.inf and summary.perplexity == math.inf
    fine = xentcli.cross_entropy([1.0, 0.0], [1, 0], eps=0)
    assert (fine.mean_loss, fine.perplexity, fine.accuracy) == (0.0, 1.0, 1.0)


# -- the worked examples of the literature ------------------------------------------------

BINARY_Y = [0, 1, 1, 0, 0, 1, 1]
BINARY_P = [0.07, 0.91, 0.74, 0.23, 0.85, 0.17, 0.94]
BINARY_LOSSES = [
    0.0725706928348355,
    0.09431067947124129,
    0.3011050927839216,
    0.2613647641344075,
    1.897119984885881,
    1.7719568419318752,
    0.06187540371808753,
]
BINARY_MEAN = 0.6371862085371784

CATEGORICAL_Y = [0, 1, 2, 0]
CATEGORICAL_P = [[0.91, 0.04, 0.05], [0.11, 0.8, 0.09], [0.3, 0.1, 0.6], [0.25, 0.4, 0.35]]
CATEGORICAL_LOSSES = [0.0943107, 0.2231436, 0.5108256, 1.3862944]
CATEGORICAL_MEAN = 0.553643553917833


def test_worked_binary_example() -> None:
    got = core.binary_from_probs(BINARY_P, BINARY_Y, eps=EPS64)
    np.testing.assert_allclose(got.loss, BINARY_LOSSES, rtol=1e-12)
    assert got.clipped == 0
    summary = xentcli.cross_entropy(BINARY_P, BINARY_Y)
    assert summary.mean_loss == pytest.approx(BINARY_MEAN, rel=1e-12)
    assert summary.sum_loss == pytest.approx(7 * BINARY_MEAN, rel=1e-12)
    # predictions p > 0.5: 0,1,1,0,1,0,1 against 0,1,1,0,0,1,1
    assert summary.accuracy == pytest.approx(5 / 7, rel=1e-15)


def test_worked_categorical_example() -> None:
    got = core.multiclass_from_probs(CATEGORICAL_P, CATEGORICAL_Y, eps=EPS64)
    np.testing.assert_allclose(got.loss, CATEGORICAL_LOSSES, atol=1e-7, rtol=0)
    assert got.pred.tolist() == [0, 1, 2, 1]
    summary = xentcli.cross_entropy(CATEGORICAL_P, CATEGORICAL_Y)
    assert (summary.input, summary.clipped, summary.renormalized) == ("probs", 0, 0)
    assert summary.mean_loss == pytest.approx(CATEGORICAL_MEAN, rel=1e-12)
    assert summary.accuracy == 0.75


# -- log base, reduction, perplexity, accuracy, per class --------------------------------


@pytest.mark.parametrize(
    ("base", "ln_base"), [("e", 1.0), ("2", math.log(2)), ("10", math.log(10))]
)
def test_log_base_divides_nats_by_ln_base(base: str, ln_base: float) -> None:
    z, y = random_logits(200, 5, np.float64, "base")
    zt, yt = widen(z), torch.from_numpy(y)
    per_sample = F.cross_entropy(zt, yt, reduction="none").numpy()
    mean_nats = F.cross_entropy(zt, yt).item()
    summary = xentcli.cross_entropy(z, y, input="logits", log_base=base)
    assert summary.log_base == base
    assert_close(summary.mean_loss, mean_nats / ln_base, "torch")
    assert_close(summary.sum_loss, per_sample.sum() / ln_base, "torch")
    assert_close(summary.loss, summary.mean_loss, "torch", rtol=0)
    # perplexity is exp of the mean loss in nats, whatever the base of the report
    assert_close(summary.perplexity, math.exp(mean_nats), "torch")
    for c, figures in enumerate(summary.per_class):
        assert_close(figures.mean_loss, per_sample[y == c].mean() / ln_base, "torch")


def test_reduction_sum_makes_the_sum_the_headline() -> None:
    z, y = random_logits(300, 4, np.float64, "sum")
    zt, yt = widen(z), torch.from_numpy(y)
    summary = xentcli.cross_entropy(z, y, input="logits", reduction="sum")
    assert summary.reduction == "sum"
    assert summary.loss == summary.sum_loss
    assert_close(summary.sum_loss, F.cross_entropy(zt, yt, reduction="sum").item(), "torch")
    assert_close(summary.mean_loss, F.cross_entropy(zt, yt).item(), "torch")
    assert_close(summary.perplexity, math.exp(F.cross_entropy(zt, yt).item()), "torch")
    in_bits = xentcli.cross_entropy(z, y, input="logits", reduction="sum", log_base="2")
    assert_close(in_bits.loss, summary.sum_loss / math.log(2.0), "torch")


def test_accuracy_and_per_class_by_hand() -> None:
    probs = [[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.2, 0.2, 0.6], [0.5, 0.25, 0.25]]
    labels = ["cat", "bird", "bird", "dog"]  # predicted: cat, dog, bird, cat
    summary = xentcli.cross_entropy(probs, labels, classes=["cat", "dog", "bird"])
    assert summary.classes == ("cat", "dog", "bird")
    assert summary.accuracy == 0.5
    by_name = {c.name: c for c in summary.per_class}
    assert (by_name["cat"].n, by_name["dog"].n, by_name["bird"].n) == (1, 1, 2)
    assert (by_name["cat"].accuracy, by_name["dog"].accuracy, by_name["bird"].accuracy) == (
        1.0,
        0.0,
        0.5,
    )
    assert by_name["cat"].mean_loss == pytest.approx(-math.log(0.7), rel=1e-15)
    assert by_name["dog"].mean_loss == pytest.approx(-math.log(0.25), rel=1e-15)
    bird = (-math.log(0.1) - math.log(0.6)) / 2
    assert by_name["bird"].mean_loss == pytest.approx(bird, rel=1e-15)
    total = -math.log(0.7) - math.log(0.1) - math.log(0.6) - math.log(0.25)
    assert summary.mean_loss == pytest.approx(total / 4, rel=1e-15)
    assert summary.perplexity == pytest.approx(math.exp(total / 4), rel=1e-14)


@pytest.mark.parametrize("k", CLASS_COUNTS)
def test_per_class_figures_match_numpy(k: int) -> None:
    z, y = random_logits(40 * k, k, np.float64, "per-class")
    y[:k] = np.arange(k)  # every class present
    zt, yt = widen(z), torch.from_numpy(y)
    per_sample = F.cross_entropy(zt, yt, reduction="none").numpy()
    pred = torch.argmax(zt, dim=1).numpy()
    summary = xentcli.cross_entropy(z, y, input="logits")
    assert summary.classes == tuple(str(c) for c in range(k))
    assert summary.accuracy == np.mean(pred == y)
    for c, figures in enumerate(summary.per_class):
        mine = y == c
        assert figures.name == str(c)
        assert figures.n == int(mine.sum())
        assert figures.accuracy == np.mean(pred[mine] == c)
        assert_close(figures.mean_loss, per_sample[mine].mean(), "torch")


def test_binary_per_class_figures_match_numpy() -> None:
    z, y = random_binary(500, np.float64, "per-class")
    ref = F.binary_cross_entropy_with_logits(
        widen(z), torch.from_numpy(y.astype(np.float64)), reduction="none"
    ).numpy()
    summary = xentcli.cross_entropy(z, y, input="logits")
    assert summary.classes == ("0", "1")
    for c, figures in enumerate(summary.per_class):
        mine = y == c
        assert figures.n == int(mine.sum())
        assert figures.accuracy == np.mean((z[mine] > 0) == (c == 1))
        assert_close(figures.mean_loss, ref[mine].mean(), "torch")


# -- empty input -------------------------------------------------------------------------


NO_LABELS = np.zeros(0, dtype=np.int64)


@pytest.mark.parametrize(
    "run",
    [
        lambda: core.multiclass_from_logits(np.zeros((0, 3)), NO_LABELS),
        lambda: core.multiclass_from_logprobs(np.zeros((0, 3)), NO_LABELS),
        lambda: core.multiclass_from_probs(np.zeros((0, 3)), NO_LABELS, eps=EPS64),
        lambda: core.binary_from_logits(np.zeros(0), NO_LABELS),
        lambda: core.binary_from_probs(np.zeros(0), NO_LABELS, eps=EPS64),
        lambda: core.binary_from_logprobs(np.zeros(0), NO_LABELS),
        lambda: core.multiclass_from_logits(np.zeros((0, 3), dtype=np.float32), []),
    ],
    ids=[
        "multiclass-logits",
        "multiclass-logprobs",
        "multiclass-probs",
        "binary-logits",
        "binary-probs",
        "binary-logprobs",
        "float32-list-labels",
    ],
)
def test_empty_input_gives_empty_arrays(run) -> None:  # type: ignore[no-untyped-def]
    got = run()
    assert got.loss.shape == got.pred.shape == got.p_true.shape == (0,)
    assert (got.loss.dtype, got.pred.dtype, got.p_true.dtype) == (
        np.float64,
        np.int64,
        np.float64,
    )
    assert got.clipped == 0


def test_empty_row_logsumexp_is_empty() -> None:
    got = core.row_logsumexp(np.zeros((0, 4)))
    assert got.shape == (0,) and got.dtype == np.float64


def test_api_refuses_no_rows() -> None:
    """SPEC: a file with no rows to score is an error (PyTorch would give nan)."""
    with pytest.raises(XentError):
        xentcli.cross_entropy(np.zeros((0, 3)), np.zeros(0, dtype=np.int64), input="logits")
