"""Each row's Brier term, confidence and outcome from the kernels (``Weighted.brier``,
``.confidence``, ``.outcome``), against the peers that define them.

- Brier: scikit-learn's ``brier_score_loss`` (binary, and multiclass on a probability
  matrix: halved for two classes by ``scale_by_half="auto"``), the per-row mean;
- confidence and outcome: torch's softmax / sigmoid in float64, the top probability and
  ``argmax == label`` (multiclass, as torchmetrics' ``MulticlassCalibrationError``),
  P(positive) and ``y == 1`` (binary, ``BinaryCalibrationError``), every (row, label)
  pair for multilabel;
- every input kind, target kind and route through the kernels (xent's exact core, the
  family for smoothing / pos_weight, each ``--compat`` preset): the figures come from the
  scores in float64, unclipped, with the labels as given, whatever the loss's rules;
- extreme logits give no nan, and a confident right row keeps its digits (mpmath).
"""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.metrics import brier_score_loss

from xentcli.losses.conventions import rules_for
from xentcli.losses.family import Weighted
from xentcli.losses.kernels import batch_losses
from xentcli.options import Options

ATOL = 1e-15  # P(positive) of a negative row is 1 - p_true: absolute, not relative, digits
RTOL = 1e-12
FAST = settings(deadline=None, max_examples=60)

# How a batch reaches the kernels: xent's exact core, or the family (smoothing,
# pos_weight, the peers' presets), whose loss arithmetic must not touch the figures.
ROUTES = {
    "xent": {},
    "xent-smoothing": {"smoothing": 0.1},
    "torch": {"compat": "torch"},
    "keras": {"compat": "keras"},
    "sklearn": {"compat": "sklearn"},
}


def figures_of(
    task: str,
    kind: str,
    scores: np.ndarray,
    y: np.ndarray | None = None,
    targets: np.ndarray | None = None,
    *,
    target: str = "hard",
    compat: str = "xent",
    smoothing: float = 0.0,
    pos_weight: float | None = None,
    class_weights: np.ndarray | None = None,
    dtype: type = np.float64,
) -> Weighted:
    """``batch_losses`` as the pipeline calls it, under the rules of ``compat``."""
    options = Options(compat=compat, label_smoothing=smoothing, pos_weight=pos_weight)
    eps = 1e-15 if kind in ("probs", "percent") else 0.0
    rules = rules_for(options, task, np.dtype(dtype), eps, target)
    return batch_losses(
        task,
        target,
        kind,
        rules,
        np.asarray(scores, dtype=np.float64),
        y,
        targets,
        smoothing=smoothing,
        pos_weight=pos_weight,
        class_weights=class_weights,
        eps=rules.eps,
    )


def as_kind(p: np.ndarray, z: np.ndarray, kind: str) -> np.ndarray:
    """The scores of one kind that mean the probabilities ``p`` (or the logits ``z``)."""
    if kind == "logits":
        return z
    if kind == "logprobs":
        with np.errstate(divide="ignore"):
            return np.log(p)
    return p  # probs, and percent once check_scores has divided it by 100


def softmax(z: np.ndarray) -> np.ndarray:
    return torch.softmax(torch.from_numpy(z), dim=1).numpy()


def sigmoid(z: np.ndarray) -> np.ndarray:
    return torch.sigmoid(torch.from_numpy(z)).numpy()


def binary_case(n: int = 400, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Float32-representable logits (the bench's kind), labels, and p = sigmoid(z)."""
    rng = np.random.default_rng(seed)
    z = (rng.normal(size=n) * 4).astype(np.float32).astype(np.float64)
    y = rng.integers(0, 2, n)
    return z, y, sigmoid(z)


def multiclass_case(
    k: int, n: int = 300, seed: int = 1
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    z = np.asfortranarray((rng.normal(size=(n, k)) * 3).astype(np.float32).astype(np.float64))
    y = rng.integers(0, k, n)
    return z, y, softmax(np.ascontiguousarray(z))


# -- binary -------------------------------------------------------------------------------


@pytest.mark.parametrize("route", [*ROUTES, "pos_weight"])
@pytest.mark.parametrize("kind", ["probs", "percent", "logits", "logprobs"])
def test_binary_brier_confidence_outcome(kind: str, route: str) -> None:
    z, y, p = binary_case()
    options = {"pos_weight": 3.0} if route == "pos_weight" else ROUTES[route]
    dtype = np.float32 if route in ("torch", "sklearn") else np.float64
    got = figures_of("binary", kind, as_kind(p, z, kind)[:, None], y, dtype=dtype, **options)
    ref = p if kind == "logits" else as_kind(p, z, "probs")
    assert np.mean(got.brier) == pytest.approx(brier_score_loss(y, ref), rel=RTOL)
    np.testing.assert_allclose(got.brier, (ref - y) ** 2, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(got.confidence, ref, rtol=RTOL, atol=ATOL)
    np.testing.assert_array_equal(got.outcome, y == 1)
    assert got.brier.shape == got.confidence.shape == got.outcome.shape == (len(y),)
    assert got.outcome.dtype == np.bool_


@pytest.mark.parametrize("route", ["xent", "keras", "sklearn"])
def test_binary_probabilities_are_not_clipped(route: str) -> None:
    """0 and 1 as given: the loss clips them (eps), the Brier term does not."""
    p = np.array([0.0, 1.0, 1.0, 0.0, 0.25])
    y = np.array([1, 1, 0, 0, 1])
    got = figures_of("binary", "probs", p[:, None], y, **ROUTES[route])
    assert got.brier.tolist() == [1.0, 0.0, 1.0, 0.0, 0.5625]
    assert got.confidence.tolist() == p.tolist()


def test_binary_extreme_logits() -> None:
    z = np.array([1000.0, -1000.0, 1000.0, -1000.0, 1e300, -1e300, 0.0])
    y = np.array([1, 0, 0, 1, 0, 1, 1])
    for options in ({}, {"smoothing": 0.1}, {"compat": "torch"}):
        got = figures_of("binary", "logits", z[:, None], y, **options)
        assert got.brier.tolist() == [0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 0.25]
        assert got.confidence.tolist() == [1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 0.5]
        assert got.outcome.tolist() == [True, False, False, True, False, True, True]


# -- multiclass, hard labels --------------------------------------------------------------


@pytest.mark.parametrize("route", [*ROUTES, "class-weights"])
@pytest.mark.parametrize("kind", ["probs", "percent", "logits", "logprobs"])
@pytest.mark.parametrize("k", [2, 3, 10])
def test_multiclass_brier_matches_sklearn(k: int, kind: str, route: str) -> None:
    z, y, p = multiclass_case(k)
    options: dict = dict(ROUTES.get(route, {}))
    if route == "class-weights":
        options["class_weights"] = np.linspace(0.5, 2.0, k)
    got = figures_of("multiclass", kind, as_kind(p, z, kind), y, **options)
    sklearn = brier_score_loss(y, p, labels=np.arange(k))  # halved when k == 2 ("auto")
    assert np.mean(got.brier) == pytest.approx(sklearn, rel=1e-11)
    onehot = np.eye(k)[y]
    per_row = ((p - onehot) ** 2).sum(axis=1) * (0.5 if k == 2 else 1.0)
    np.testing.assert_allclose(got.brier, per_row, rtol=1e-11, atol=ATOL)
    np.testing.assert_allclose(got.confidence, p.max(axis=1), rtol=1e-13)
    np.testing.assert_array_equal(got.outcome, np.argmax(z, axis=1) == y)


@pytest.mark.parametrize("kind", ["probs", "logits", "logprobs"])
def test_two_classes_equal_the_binary_form(kind: str) -> None:
    """scikit-learn's ``auto`` halving: a two-column problem's Brier is the one-column one."""
    z, y, p = multiclass_case(2, seed=7)
    got = figures_of("multiclass", kind, as_kind(p, z, kind), y)
    assert np.mean(got.brier) == pytest.approx(brier_score_loss(y, p[:, 1]), rel=1e-12)
    binary = figures_of("binary", "probs", p[:, 1:], y)
    np.testing.assert_allclose(got.brier, binary.brier, rtol=1e-12, atol=ATOL)


def test_multiclass_extreme_logits() -> None:
    z = np.array(
        [
            [1000.0, -1000.0, 0.0],
            [-1000.0, 1000.0, 0.0],
            [1e300, -1e300, 0.0],
            [-1e300, 0.0, 1e300],
            [1000.0, 1000.0, -1000.0],
        ]
    )
    y = np.array([0, 0, 0, 0, 1])
    for options in ({}, {"smoothing": 0.1}, {"compat": "torch"}):
        got = figures_of("multiclass", "logits", z, y, **options)
        assert not np.isnan(got.brier).any() and not np.isnan(got.confidence).any()
        assert got.brier.tolist() == [0.0, 2.0, 0.0, 2.0, 0.5]
        assert got.confidence.tolist() == [1.0, 1.0, 1.0, 1.0, 0.5]
        assert got.outcome.tolist() == [True, False, True, False, False]  # a tie: first max


def test_a_confident_right_row_keeps_its_digits() -> None:
    """Brier of z = (t, 0, 0), label 0, is 6 q^2 with q = 1 / (e^t + 2): about 1e-35 at
    t = 40, which ``sum p^2 - 2 p_y + 1`` would lose entirely."""
    t = [10.0, 40.0, 300.0]
    z = np.array([[v, 0.0, 0.0] for v in t])
    got = figures_of("multiclass", "logits", z, np.zeros(3, dtype=np.int64))
    for v, brier in zip(t, got.brier, strict=True):
        q = 1 / (mpmath.exp(mpmath.mpf(v)) + 2)
        assert brier == pytest.approx(float(6 * q**2), rel=1e-13, abs=0)
    binary = figures_of("binary", "logits", np.array([[-40.0]]), np.array([0]))
    # the negative row's complement is 1 - p_true: exact to ATOL, not to its own digits
    assert binary.brier[0] <= ATOL**2 and binary.confidence[0] <= ATOL


# -- soft targets -------------------------------------------------------------------------


@pytest.mark.parametrize("route", ["xent", "xent-smoothing", "torch"])
@pytest.mark.parametrize("kind", ["probs", "logits", "logprobs"])
@pytest.mark.parametrize("k", [2, 4])
def test_soft_targets(k: int, kind: str, route: str) -> None:
    z, _y, p = multiclass_case(k, seed=3)
    targets = np.random.default_rng(4).dirichlet(np.ones(k), size=len(p))
    got = figures_of(
        "multiclass", kind, as_kind(p, z, kind), None, targets, target="soft", **ROUTES[route]
    )
    per_row = ((p - targets) ** 2).sum(axis=1) * (0.5 if k == 2 else 1.0)
    np.testing.assert_allclose(got.brier, per_row, rtol=1e-11, atol=ATOL)
    np.testing.assert_allclose(got.confidence, p.max(axis=1), rtol=1e-13)
    np.testing.assert_array_equal(got.outcome, np.argmax(p, axis=1) == np.argmax(targets, axis=1))


def test_one_hot_soft_targets_equal_hard_labels() -> None:
    z, y, p = multiclass_case(5, seed=5)
    hard = figures_of("multiclass", "logits", z, y)
    soft = figures_of("multiclass", "logits", z, None, np.eye(5)[y], target="soft")
    np.testing.assert_allclose(soft.brier, hard.brier, rtol=1e-12, atol=ATOL)
    np.testing.assert_allclose(soft.confidence, hard.confidence, rtol=1e-14)
    np.testing.assert_array_equal(soft.outcome, hard.outcome)
    assert np.mean(soft.brier) == pytest.approx(brier_score_loss(y, p, labels=range(5)))


# -- multilabel ---------------------------------------------------------------------------


@pytest.mark.parametrize("route", ["xent", "xent-smoothing", "torch", "keras", "pos_weight"])
@pytest.mark.parametrize("kind", ["probs", "percent", "logits", "logprobs"])
def test_multilabel(kind: str, route: str) -> None:
    rng = np.random.default_rng(6)
    z = rng.normal(size=(200, 4)) * 3
    p = sigmoid(z)
    targets = rng.integers(0, 2, size=(200, 4)).astype(np.float64)
    options = {"pos_weight": 2.0} if route == "pos_weight" else ROUTES[route]
    got = figures_of("multilabel", kind, as_kind(p, z, kind), None, targets, **options)
    sklearn = np.mean([brier_score_loss(targets[:, j], p[:, j]) for j in range(4)])
    assert np.mean(got.brier) == pytest.approx(sklearn, rel=1e-11)
    np.testing.assert_allclose(got.brier, ((p - targets) ** 2).mean(axis=1), rtol=1e-11, atol=ATOL)
    assert got.confidence.shape == got.outcome.shape == (200, 4)
    np.testing.assert_allclose(got.confidence, p, rtol=1e-12, atol=ATOL)
    np.testing.assert_array_equal(got.outcome, targets > 0.5)


def test_multilabel_soft_targets_as_given() -> None:
    p = np.array([[0.9, 0.2], [0.5, 0.5]])
    targets = np.array([[0.7, 0.5], [0.0, 1.0]])
    got = figures_of("multilabel", "probs", p, None, targets, smoothing=0.2)
    np.testing.assert_allclose(got.brier, [(0.04 + 0.09) / 2, 0.25])
    assert got.outcome.tolist() == [[True, False], [False, True]]


# -- shapes, and the properties every row has ---------------------------------------------


@pytest.mark.parametrize("task", ["binary", "multiclass"])
@pytest.mark.parametrize("kind", ["probs", "logits", "logprobs"])
def test_empty_batch(task: str, kind: str) -> None:
    k = 1 if task == "binary" else 3
    got = figures_of(task, kind, np.zeros((0, k)), np.zeros(0, dtype=np.int64))
    assert got.brier.shape == got.confidence.shape == got.outcome.shape == (0,)


def logit_matrices(max_classes: int = 8) -> st.SearchStrategy:
    return st.integers(2, max_classes).flatmap(
        lambda k: st.tuples(
            hnp.arrays(
                np.float64,
                st.tuples(st.integers(1, 20), st.just(k)),
                elements=st.floats(-1e4, 1e4, allow_subnormal=False),
            ),
            st.randoms(use_true_random=False),
        )
    )


@FAST
@given(logit_matrices())
def test_multiclass_bounds_and_reference(case: tuple) -> None:
    """Brier in [0, 2] ([0, 1] halved for two classes), confidence in [1/K, 1], and the
    core kernel equals ``sum (p - onehot)^2`` of torch's softmax."""
    z, rnd = case
    n, k = z.shape
    y = np.array([rnd.randrange(k) for _ in range(n)])
    got = figures_of("multiclass", "logits", z, y)
    top = 1.0 if k == 2 else 2.0
    assert ((got.brier >= 0) & (got.brier <= top * (1 + 1e-15))).all()
    assert ((got.confidence >= (1 - 1e-15) / k) & (got.confidence <= 1)).all()
    p = softmax(z)
    per_row = ((p - np.eye(k)[y]) ** 2).sum(axis=1) * (0.5 if k == 2 else 1.0)
    np.testing.assert_allclose(got.brier, per_row, rtol=1e-9, atol=1e-14)
    np.testing.assert_array_equal(got.outcome, np.argmax(z, axis=1) == y)
    family = figures_of("multiclass", "logits", z, y, smoothing=0.05)
    np.testing.assert_allclose(family.brier, got.brier, rtol=1e-9, atol=1e-14)


@FAST
@given(
    hnp.arrays(np.float64, st.integers(1, 30), elements=st.floats(-800, 800)),
    st.randoms(use_true_random=False),
)
def test_binary_bounds(z: np.ndarray, rnd: object) -> None:
    y = np.array([rnd.randrange(2) for _ in z])  # type: ignore[attr-defined]
    for options in ({}, {"pos_weight": 2.0}):
        got = figures_of("binary", "logits", z[:, None], y, **options)
        assert ((got.brier >= 0) & (got.brier <= 1)).all()
        assert ((got.confidence >= 0) & (got.confidence <= 1)).all()
        np.testing.assert_allclose(got.brier, (sigmoid(z) - y) ** 2, atol=ATOL)


@FAST
@given(
    hnp.arrays(
        np.float64,
        st.tuples(st.integers(1, 15), st.integers(1, 5)),
        elements=st.floats(0, 1),
    ),
    st.randoms(use_true_random=False),
)
def test_multilabel_bounds(p: np.ndarray, rnd: object) -> None:
    targets = np.array([[rnd.random() for _ in row] for row in p])  # type: ignore[attr-defined]
    got = figures_of("multilabel", "probs", p, None, targets)
    assert ((got.brier >= 0) & (got.brier <= 1)).all()
    assert np.array_equal(got.confidence, p)
