"""Each row's evaluation figures besides its loss: the Brier term, and the confidence
and outcome the reliability bins take (SPEC "Evaluation figures").

They are computed from the scores in float64 with no clipping and no smoothing,
whatever the ``--compat`` arithmetic of the loss: softmax of logits, sigmoid of a
binary logit, exp of log-probabilities, probabilities as given; labels as given.
The fast kernels of ``core`` make them from what they already hold; the helpers
here make them from a probability matrix, for every other path.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .primitives import sigmoid, softmax

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Figures:
    """Per row: ``brier``, the row's Brier term; ``confidence`` and ``outcome``, what the
    reliability bins take.

    Binary: ``(p - y)^2``, ``p`` = P(positive) and ``y == 1``. Multiclass:
    ``sum_c (p_c - y_c)^2`` (halved for two classes, as scikit-learn's
    ``brier_score_loss``), the top probability and ``argmax(pred) == label``.
    Multilabel: the mean over labels of ``(p_l - y_l)^2``, and ``(n, L)`` matrices of
    ``p_l`` and ``y_l > 0.5`` (every (row, label) pair a binary one).
    """

    brier: FloatArray
    confidence: FloatArray
    outcome: BoolArray


def binary(p: FloatArray, y: npt.NDArray[np.integer] | FloatArray) -> Figures:
    """From P(positive) ``p`` and 0/1 labels ``y``."""
    diff = p - y
    return Figures(brier=diff * diff, confidence=p, outcome=y == 1)


def multiclass(
    p: FloatArray,
    pred: IntArray,
    labels: IntArray | None = None,
    targets: FloatArray | None = None,
) -> Figures:
    """From the probability matrix ``p``, the predicted classes ``pred`` and hard
    ``labels`` or soft ``targets`` (a hit then is ``pred == argmax(targets)``)."""
    n, k = p.shape
    rows = np.arange(n)
    if targets is None:
        assert labels is not None
        diff = p.copy()
        diff[rows, labels] -= 1.0  # p - one-hot, without forming the one-hot matrix
        truth = labels
    else:
        diff = p - targets
        truth = np.argmax(targets, axis=1)
    brier = np.einsum("ij,ij->i", diff, diff)
    if k == 2:
        brier *= 0.5
    return Figures(brier=brier, confidence=p[rows, pred], outcome=pred == truth)


def multilabel(p: FloatArray, targets: FloatArray) -> Figures:
    """From each label's probability ``p`` and the targets as given, both ``(n, L)``."""
    diff = p - targets
    brier = np.einsum("ij,ij->i", diff, diff) / p.shape[1]
    return Figures(brier=brier, confidence=p, outcome=targets > 0.5)


def probabilities(scores: FloatArray, input_kind: str, binary: bool = False) -> FloatArray:
    """The scores as float64 probabilities, unclipped: what every figure here reads."""
    x = np.asarray(scores, dtype=np.float64)
    if input_kind == "logits":
        return sigmoid(x) if binary else softmax(x)
    if input_kind == "logprobs":
        with np.errstate(under="ignore"):
            return np.exp(x)
    return x
