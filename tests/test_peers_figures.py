"""SPEC "Evaluation figures" checked against the peers themselves (issue 11, item 5).

Each figure of ``xentcli.score`` / ``xentcli.cross_entropy`` is compared with the library
that defines it, on random and extreme inputs, for binary (one and two columns),
multiclass hard and soft targets and multilabel, from probabilities, logits and
log-probabilities, with and without sample weights:

- D² and normalized entropy: scikit-learn ``d2_log_loss_score`` / ``log_loss``, TorchEval
  ``BinaryNormalizedEntropy``, torch ``cross_entropy`` for soft targets. From logits and
  log-probabilities the mean loss is torch's (``binary_cross_entropy_with_logits``,
  ``cross_entropy``, ``nll_loss``): scikit-learn sees ``expit(1000)`` = 1.0 and clips it
  at 1 - eps, where xent (SPEC "Computation") keeps the logit's exact loss;
- Brier: scikit-learn ``brier_score_loss`` (binary, multiclass, two-column halving);
- ECE / MCE / bins: torchmetrics ``Binary/MulticlassCalibrationError`` (and its own
  ``_ce_compute`` in float64), scikit-learn ``calibration_curve``; sample weights as
  integer weights against the peer given each row repeated that many times;
- intervals: scipy ``binomtest(...).proportion_ci(method="wilson")`` and
  ``scipy.stats.norm.ppf`` (== ``statistics.NormalDist().inv_cdf``);
- slices and worst rows: pandas ``groupby`` and ``sort_values`` over per-row losses.

The peers' probabilities come from scipy (``expit``, ``softmax``, ``exp`` of the
log-probabilities), never from xent. Float64 peers agree to 1e-12 relative; the public
``MulticlassCalibrationError`` casts confidences to float32 (``confidences.float()``), so
it is checked to 1e-5 (measured: 5.6e-6) and its float64 core ``_ce_compute`` to 1e-12.
Where a peer bins differently (sklearn's right-closed bins, torchmetrics' extra bin for
a confidence of exactly 1, its ``linspace`` edges such as 0.30000000000000004 and its
float32 confidences) the tests at the end pin both numbers.
"""

from __future__ import annotations

import math
import statistics
import zlib

import numpy as np
import pandas as pd
import pytest
import scipy.special
import scipy.stats
import torch
import torch.nn.functional as F
from sklearn.calibration import calibration_curve
from sklearn.metrics import accuracy_score, brier_score_loss, d2_log_loss_score, log_loss

import xentcli

torchmetrics = pytest.importorskip("torchmetrics")
from torchmetrics.classification import (  # noqa: E402
    BinaryCalibrationError,
    MulticlassCalibrationError,
)
from torchmetrics.functional.classification.calibration_error import (  # noqa: E402
    _binning_bucketize,
    _ce_compute,
)

REL = 1e-12
EPS = float(np.finfo(np.float64).eps)  # xent's --eps auto for float64, as sklearn clips
TASKS = ("binary", "binary2", "multiclass", "soft", "multilabel")
KINDS = ("probs", "logits", "logprobs")


# ----------------------------------------------------------------------------- inputs


def _extreme_probs(rng: np.random.Generator, n: int, bins: int) -> np.ndarray:
    """Probabilities on bin edges, exactly 0 and 1, and a hair from them."""
    pool = np.concatenate(
        [
            np.arange(bins + 1) / bins,
            [0.0, 1.0, 1e-300, 1e-17, 1 - 1e-16, 1 - 2**-53, 0.5, 0.5 + 2**-52],
        ]
    )
    return np.where(rng.random(n) < 0.5, rng.choice(pool, n), rng.random(n))


def case(task: str, kind: str, weighted: bool, seed: int, n: int = 300, extreme: bool = False):
    """What xent reads (``scores``, ``labels``, ``weights``, options) and what the peers
    read: ``P`` the probabilities (n,) or (n, k), ``y`` class indices (hard), ``T`` the
    target matrix (n, k) (soft, multilabel, one-hot)."""
    rng = np.random.default_rng(seed)
    k = {"binary": 1, "binary2": 2, "multiclass": 4, "soft": 3, "multilabel": 3}[task]
    scale = 40.0 if extreme else 2.5
    if kind == "logits":
        z = rng.normal(size=(n, k)) * scale
        if extreme:
            z[rng.random((n, k)) < 0.1] = 1000.0
            z[rng.random((n, k)) < 0.1] = -1000.0
        scores = z
        if task in ("binary", "multilabel"):
            P = scipy.special.expit(z)
        else:
            P = scipy.special.softmax(z, axis=1)
    else:
        if task in ("binary", "multilabel"):
            P = _extreme_probs(rng, n * k, 15).reshape(n, k) if extreme else rng.random((n, k))
        else:
            P = rng.dirichlet(np.full(k, 0.3 if extreme else 1.0), n)
            if extreme:  # one-hot rows: a confidence of exactly 1
                hot = rng.random(n) < 0.2
                P[hot] = np.eye(k)[rng.integers(0, k, hot.sum())]
        if kind == "probs":
            scores = P
        else:
            scores = np.log(np.maximum(P, 5e-324))  # -inf is refused; this is finite
            P = np.exp(scores)
    if task in ("binary", "multilabel"):
        T = (rng.random((n, k)) < np.clip(P, 0.05, 0.95)).astype(np.float64)
    elif task == "soft":
        T = rng.dirichlet(np.ones(k), n)
    else:
        y = np.array([rng.choice(k, p=np.clip(p, 0.02, 1) / np.clip(p, 0.02, 1).sum()) for p in P])
        T = np.eye(k)[y]
    if task == "binary":
        P, scores, y, labels = P[:, 0], scores[:, 0], T[:, 0].astype(np.int64), T[:, 0]
        labels = y
    elif task in ("binary2", "multiclass"):
        labels = y
    else:
        y, labels = None, T
    w = None
    if weighted:
        w = rng.random(n) * 3
        if extreme:
            w[rng.random(n) < 0.1] = 0.0
    opts = {"input": kind}
    if task == "multilabel":
        opts["task"] = "multilabel"
    return {
        "scores": scores,
        "labels": labels,
        "weights": w,
        "opts": opts,
        "P": P,
        "y": y,
        "T": T,
        "kind": kind,
    }


def run(c, **kwargs):
    return xentcli.cross_entropy(
        c["scores"], c["labels"], weights=c["weights"], **c["opts"], **kwargs
    )


CASES = [
    (task, kind, weighted, extreme)
    for task in TASKS
    for kind in KINDS
    for weighted in (False, True)
    for extreme in (False, True)
]


def case_id(p):
    task, kind, weighted, extreme = p
    return f"{task}-{kind}-{'w' if weighted else 'u'}-{'extreme' if extreme else 'random'}"


def seed_of(params) -> int:
    """A seed that does not change with PYTHONHASHSEED."""
    return zlib.crc32(repr(params).encode())


def close(ours: float, theirs: float, rel: float = REL, abs_: float = 0.0) -> bool:
    return math.isclose(ours, theirs, rel_tol=rel, abs_tol=abs_)


# --------------------------------------------------------------------- peer references


def torch_logit_losses(c) -> np.ndarray:
    """Per-row losses straight from the logits, as torch computes them: sklearn would
    clip ``expit(1000)`` = 1.0 at 1 - eps, where xent and torch keep the logit's loss."""
    z, T, y = torch.tensor(c["scores"]), torch.tensor(c["T"]), c["y"]
    if c["P"].ndim == 1:
        return F.binary_cross_entropy_with_logits(z, T[:, 0], reduction="none").numpy()
    if c["opts"].get("task") == "multilabel":
        return F.binary_cross_entropy_with_logits(z, T, reduction="none").mean(dim=1).numpy()
    target = T if y is None else torch.tensor(y)
    return F.cross_entropy(z, target, reduction="none").numpy()


def torch_logprob_losses(c) -> np.ndarray:
    """Per-row losses straight from the log-probabilities, unclipped as torch's
    ``nll_loss`` (a log-probability of -744 costs 744 nats; sklearn clips p at eps)."""
    lp, T, y = torch.tensor(c["scores"]), torch.tensor(c["T"]), c["y"]
    if c["P"].ndim == 1 or c["opts"].get("task") == "multilabel":
        t = T[:, 0] if c["P"].ndim == 1 else T
        rows = -torch.where(t == 1, lp, torch.log(-torch.expm1(lp)))
        return (rows if c["P"].ndim == 1 else rows.mean(dim=1)).numpy()
    if y is None:
        return (-(T * lp).sum(dim=1)).numpy()
    return F.nll_loss(lp, torch.tensor(y), reduction="none").numpy()


def peer_losses(c) -> tuple[float, float]:
    """(mean loss, baseline loss) from scikit-learn / torch, natural log, weighted."""
    P, T, y, w = c["P"], c["T"], c["y"], c["weights"]
    n = len(T)
    logits = {"logits": torch_logit_losses, "logprobs": torch_logprob_losses}.get(
        c["kind"], lambda c: None
    )(c)
    if c["opts"].get("task") == "multilabel":
        means, bases = [], []
        for j in range(T.shape[1]):
            means.append(log_loss(T[:, j], P[:, j], sample_weight=w, labels=[0, 1]))
            rate = np.average(T[:, j], weights=w)
            bases.append(log_loss(T[:, j], np.full(n, rate), sample_weight=w, labels=[0, 1]))
        mean = np.mean(means) if logits is None else np.average(logits, weights=w)
        return float(mean), float(np.mean(bases))
    if y is None:  # soft targets: torch's probability targets
        logp = torch.log(torch.tensor(np.clip(P, EPS, 1 - EPS)))
        rows = F.cross_entropy(logp, torch.tensor(T), reduction="none").numpy()
        if logits is not None:
            rows = logits
        q = np.average(T, axis=0, weights=w)
        base = F.cross_entropy(
            torch.log(torch.tensor(np.tile(q, (n, 1)))), torch.tensor(T), reduction="none"
        ).numpy()
        return float(np.average(rows, weights=w)), float(np.average(base, weights=w))
    k = T.shape[1]
    full = P if P.ndim == 2 else np.c_[1 - P, P]
    mean = log_loss(y, full, sample_weight=w, labels=list(range(max(k, 2))))
    if logits is not None:
        mean = np.average(logits, weights=w)
    freq = np.average(np.eye(max(k, 2))[y], axis=0, weights=w)
    base = log_loss(y, np.tile(freq, (n, 1)), sample_weight=w, labels=list(range(max(k, 2))))
    return float(mean), float(base)


def peer_brier(c) -> float:
    P, T, y, w = c["P"], c["T"], c["y"], c["weights"]
    if c["opts"].get("task") == "multilabel":
        return float(
            np.mean([brier_score_loss(T[:, j], P[:, j], sample_weight=w) for j in range(3)])
        )
    if y is None:  # soft targets: scikit-learn takes labels only; its formula in numpy
        return float(np.average(((P - T) ** 2).sum(axis=1), weights=w))
    if P.ndim == 1:
        return float(brier_score_loss(y, P, sample_weight=w))
    return float(brier_score_loss(y, P, sample_weight=w, labels=list(range(P.shape[1]))))


def confidences(c) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(confidence, outcome, weights) pairs as SPEC bins them, for the peers."""
    P, T, w = c["P"], c["T"], c["weights"]
    if P.ndim == 1:
        return P, T[:, 0], w
    if c["opts"].get("task") == "multilabel":
        return P.ravel(), T.ravel(), None if w is None else np.repeat(w, P.shape[1])
    return P.max(axis=1), (P.argmax(axis=1) == T.argmax(axis=1)).astype(float), w


def hits(c) -> np.ndarray:
    P, T = c["P"], c["T"]
    if P.ndim == 1:
        return ((P > 0.5) == (T[:, 0] == 1)).astype(float)
    if c["opts"].get("task") == "multilabel":  # exact match, as sklearn accuracy_score
        return ((P > 0.5) == (T == 1)).all(axis=1).astype(float)
    return (P.argmax(axis=1) == T.argmax(axis=1)).astype(float)


# -------------------------------------------------------------------------- D², NE, Brier


@pytest.mark.parametrize("params", CASES, ids=case_id)
def test_d2_and_baseline_match_sklearn_and_torch(params):
    task, kind, weighted, extreme = params
    c = case(task, kind, weighted, seed=seed_of(params), extreme=extreme)
    s = run(c)
    mean, base = peer_losses(c)
    assert close(s.mean_loss, mean), (s.mean_loss, mean)
    assert close(s.baseline_loss, base), (s.baseline_loss, base)
    assert close(s.d2, 1 - mean / base), (s.d2, 1 - mean / base)
    assert close(s.normalized_entropy, mean / base)
    clipped = kind != "probs" and extreme  # sklearn clips expit(1000) = 1.0
    if c["y"] is not None and not clipped:  # sklearn's own D² (hard labels)
        P = c["P"] if c["P"].ndim == 2 else np.c_[1 - c["P"], c["P"]]
        theirs = d2_log_loss_score(
            c["y"], P, sample_weight=c["weights"], labels=list(range(P.shape[1]))
        )
        assert close(s.d2, theirs), (s.d2, theirs)


@pytest.mark.parametrize("params", CASES, ids=case_id)
def test_brier_matches_sklearn(params):
    task, kind, weighted, extreme = params
    c = case(task, kind, weighted, seed=seed_of(params) + 1, extreme=extreme)
    s = run(c)
    theirs = peer_brier(c)
    assert close(s.brier, theirs, abs_=1e-15), (s.brier, theirs)


def test_two_column_brier_is_halved_as_sklearn_auto():
    rng = np.random.default_rng(7)
    p = rng.random(500)
    y = (rng.random(500) < p).astype(int)
    one = xentcli.cross_entropy(p, y, input="probs")
    two = xentcli.cross_entropy(np.c_[1 - p, p], y, input="probs")
    sk_two = brier_score_loss(y, np.c_[1 - p, p], labels=[0, 1])  # auto: halved
    sk_full = brier_score_loss(y, np.c_[1 - p, p], labels=[0, 1], scale_by_half=False)
    assert close(one.brier, brier_score_loss(y, p))
    assert close(two.brier, sk_two)
    assert close(two.brier, sk_full / 2)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("kind", ["probs", "logits"])
def test_normalized_entropy_matches_torcheval(kind, weighted):
    torcheval = pytest.importorskip("torcheval.metrics")
    c = case("binary", kind, weighted, seed=11 + weighted)
    s = run(c)
    metric = torcheval.BinaryNormalizedEntropy(from_logits=kind == "logits")
    x = torch.tensor(c["scores"] if kind == "logits" else c["P"])
    target = torch.tensor(c["T"][:, 0])
    if weighted:
        metric.update(x, target, weight=torch.tensor(c["weights"]))
    else:
        metric.update(x, target)
    theirs = float(metric.compute())
    assert close(s.normalized_entropy, theirs), (s.normalized_entropy, theirs)


# ------------------------------------------------------------------------- calibration


def ce_float64(conf, outcome, bins, norm, w=None):
    """torchmetrics' own binning and ECE/MCE (``_ce_compute``) kept in float64."""
    if w is not None:  # integer weights: each row repeated w times weighs it w
        conf, outcome = np.repeat(conf, w), np.repeat(outcome, w)
    return float(_ce_compute(torch.tensor(conf), torch.tensor(outcome), bins, norm=norm))


@pytest.mark.parametrize("bins", [15, 10, 7])
@pytest.mark.parametrize(
    "params", [p for p in CASES if not p[3]], ids=case_id
)  # random: no confidence on an edge or at 1 (pinned below)
def test_ece_mce_match_torchmetrics(params, bins):
    task, kind, weighted, _ = params
    c = case(task, kind, False, seed=seed_of(params) + bins)
    if weighted:  # integer weights, so that the peer can repeat rows
        c["weights"] = np.random.default_rng(bins).integers(0, 4, len(c["T"])).astype(float)
    s = run(c, bins=bins)
    conf, outcome, w = confidences(c)
    wi = None if w is None else w.astype(int)
    for norm, ours in (("l1", s.ece), ("max", s.mce)):
        theirs = ce_float64(conf, outcome, bins, norm, wi)
        assert close(ours, theirs), (norm, ours, theirs)
    if w is not None:
        return
    P, T = c["P"], c["T"]
    if P.ndim == 1 or c["opts"].get("task") == "multilabel":
        preds, target = torch.tensor(conf), torch.tensor(outcome).long()
        for norm, ours in (("l1", s.ece), ("max", s.mce)):
            theirs = float(BinaryCalibrationError(n_bins=bins, norm=norm)(preds, target))
            assert close(ours, theirs), (norm, ours, theirs)
    else:  # public class: confidences cast to float32
        preds, target = torch.tensor(P), torch.tensor(T.argmax(axis=1))
        for norm, ours in (("l1", s.ece), ("max", s.mce)):
            metric = MulticlassCalibrationError(num_classes=P.shape[1], n_bins=bins, norm=norm)
            theirs = float(metric(preds, target))
            assert close(ours, theirs, rel=1e-5, abs_=1e-7), (norm, ours, theirs)


@pytest.mark.parametrize("bins", [15, 10, 4])
@pytest.mark.parametrize("kind", KINDS)
def test_binary_bins_match_calibration_curve_and_torchmetrics(kind, bins):
    c = case("binary", kind, False, seed=bins * 3 + len(kind), n=2000)
    s = run(c, bins=bins)
    assert s.bins == bins and len(s.calibration) == bins
    full = [b for b in s.calibration if b.n]
    prob_true, prob_pred = calibration_curve(c["T"][:, 0], c["P"], n_bins=bins, strategy="uniform")
    assert len(full) == len(prob_true)
    for b, t, p in zip(full, prob_true, prob_pred, strict=True):
        assert close(b.accuracy, t) and close(b.confidence, p), (b, t, p)
    acc, conf, prop = _binning_bucketize(
        torch.tensor(c["P"]), torch.tensor(c["T"][:, 0]), torch.linspace(0, 1, bins + 1).double()
    )
    n = len(c["P"])
    for i, b in enumerate(s.calibration):
        assert b.lo == i / bins and b.hi == (i + 1) / bins
        assert b.n == round(float(prop[i]) * n)
        if b.n:
            assert close(b.accuracy, float(acc[i])) and close(b.confidence, float(conf[i]))
        else:
            assert b.accuracy is None and b.confidence is None


def test_weighted_bins_are_repeated_rows():
    """Sample weights weigh bin confidence, accuracy and ECE as repeating the row would;
    ``n`` counts rows."""
    c = case("binary", "probs", False, seed=5, n=1000)
    w = np.random.default_rng(5).integers(0, 5, 1000)
    c["weights"] = w.astype(float)
    s = run(c, bins=10)
    prob_true, prob_pred = calibration_curve(
        np.repeat(c["T"][:, 0], w), np.repeat(c["P"], w), n_bins=10
    )
    full = [b for b in s.calibration if b.accuracy is not None]
    for b, t, p in zip(full, prob_true, prob_pred, strict=True):
        assert close(b.accuracy, t) and close(b.confidence, p)
    edges = np.linspace(0, 1, 11)
    counts = np.bincount(np.searchsorted(edges[1:-1], c["P"]), minlength=10)
    assert [b.n for b in s.calibration] == counts.tolist()


# --------------------------------------------------------------------------- intervals


@pytest.mark.parametrize("level", [0.9, 0.95, 0.99])
@pytest.mark.parametrize("task", ["binary", "multiclass", "soft", "multilabel"])
def test_normal_interval_matches_scipy(task, level):
    c = case(task, "logits", False, seed=int(level * 100) + len(task), n=500)
    s, rows = xentcli.score(
        pd.DataFrame(np.atleast_2d(c["scores"].T).T).rename(
            columns=lambda j: "score" if c["P"].ndim == 1 else f"p{j}"
        ),
        _label_frame(c),
        per_sample=True,
        ci=level,
        **c["opts"],
    )
    assert s.ci is not None and s.ci.method == "normal" and s.ci.level == level
    losses = np.asarray(rows.column("loss").to_pylist())
    mean, _ = peer_losses(c)
    assert close(losses.mean(), mean, rel=1e-12)
    z = scipy.stats.norm.ppf((1 + level) / 2)
    assert close(z, statistics.NormalDist().inv_cdf((1 + level) / 2), rel=1e-14)
    half = z * losses.std(ddof=1) / math.sqrt(len(losses))
    assert close(s.ci.loss[0], mean - half) and close(s.ci.loss[1], mean + half), (s.ci, half)
    k = int(hits(c).sum())
    assert close(s.accuracy, k / len(losses))
    wilson = scipy.stats.binomtest(k, len(losses)).proportion_ci(level, method="wilson")
    assert close(s.ci.accuracy[0], wilson.low) and close(s.ci.accuracy[1], wilson.high)


def _label_frame(c):
    if c["y"] is not None:
        return pd.DataFrame({"label": c["y"]})
    return pd.DataFrame(c["T"], columns=[f"p{j}" for j in range(c["T"].shape[1])])


def test_weighted_normal_interval_matches_its_formula():
    """SPEC: se^2 = n/(n-1) sum w^2 (l - m)^2 / (sum w)^2; Wilson with the weighted
    accuracy and n_eff = (sum w)^2 / sum w^2 (closed form, quantile from scipy)."""
    c = case("multiclass", "probs", True, seed=3, n=800)
    s = run(c, ci=0.95)
    P, y, w = c["P"], c["y"], c["weights"]
    losses = -np.log(np.clip(P[np.arange(len(y)), y], EPS, 1))
    m = np.average(losses, weights=w)
    n = len(y)
    se = math.sqrt(n / (n - 1) * np.sum(w**2 * (losses - m) ** 2) / w.sum() ** 2)
    z = scipy.stats.norm.ppf(0.975)
    assert close(s.ci.loss[0], m - z * se) and close(s.ci.loss[1], m + z * se)
    acc = np.average(hits(c), weights=w)
    ne = w.sum() ** 2 / np.sum(w**2)
    centre = (acc + z * z / (2 * ne)) / (1 + z * z / ne)
    spread = z / (1 + z * z / ne) * math.sqrt(acc * (1 - acc) / ne + z * z / (4 * ne * ne))
    assert close(s.accuracy, acc)
    assert close(s.ci.accuracy[0], centre - spread) and close(s.ci.accuracy[1], centre + spread)


# ---------------------------------------------------------------------- slices, worst


def _slice_frames(seed: int, task: str, weighted: bool, n: int = 600):
    kind = "logits" if seed % 2 else "probs"
    c = case(task, kind, weighted, seed=seed, n=n)
    rng = np.random.default_rng(seed)
    scores = np.atleast_2d(c["scores"].T).T
    names = ["score"] if task == "binary" else [f"c{j}" for j in range(scores.shape[1])]
    preds = pd.DataFrame(scores, columns=names)
    preds["region"] = rng.choice(["north", "south", "east", None], n)
    preds["size"] = rng.integers(-2, 3, n)
    labels = pd.DataFrame({"label": c["y"]})
    opts = dict(pred_cols=tuple(names), label_col="label", input=kind)
    if task == "binary":
        opts["task"] = "binary"
    if weighted:
        labels["w"] = c["weights"]
        opts["weight_col"] = "w"
    return c, preds, labels, opts


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("task", ["binary", "multiclass"])
def test_slices_match_pandas_groupby(task, weighted):
    c, preds, labels, opts = _slice_frames(21 + weighted, task, weighted)
    s = xentcli.score(preds, labels, by=["region", "size"], bins=10, **opts)
    P = c["P"] if c["P"].ndim == 2 else np.c_[1 - c["P"], c["P"]]
    k = P.shape[1]
    frame = preds[["region", "size"]].assign(
        hit=hits(c), w=1.0 if c["weights"] is None else c["weights"], i=np.arange(len(P))
    )
    expected = []
    for column in ("region", "size"):
        for value, g in frame.groupby(column, dropna=False, sort=True):
            idx = g["i"].to_numpy()
            w = None if c["weights"] is None else c["weights"][idx]
            mean = log_loss(c["y"][idx], P[idx], sample_weight=w, labels=list(range(k)))
            conf, outcome, _ = confidences(
                {"P": c["P"][idx], "T": c["T"][idx], "weights": None, "opts": {}}
            )
            ece = (
                ce_float64(conf, outcome, 10, "l1")
                if w is None
                else _weighted_ece(conf, outcome, w, 10)
            )
            value = None if pd.isna(value) else value
            expected.append((column, value, len(g), mean, np.average(g["hit"], weights=w), ece))
    # SPEC order: column as given, numbers numerically, text by code point, null last
    got = [(x.column, x.value, x.n, x.mean_loss, x.accuracy, x.ece) for x in s.slices]
    assert [g[:3] for g in got] == [e[:3] for e in expected]
    for g, e in zip(got, expected, strict=True):
        assert close(g[3], e[3]) and close(g[4], e[4]) and close(g[5], e[5], abs_=1e-15), (g, e)


def _weighted_ece(conf, outcome, w, bins):
    """Weighted ECE with torchmetrics' scatter in float64 (weights in place of ones)."""
    edges = torch.linspace(0, 1, bins + 1, dtype=torch.float64)
    idx = torch.bucketize(torch.tensor(conf), edges, right=True) - 1
    tw = torch.zeros(bins + 1, dtype=torch.float64).scatter_add_(0, idx, torch.tensor(w))
    tc = torch.zeros(bins + 1, dtype=torch.float64).scatter_add_(0, idx, torch.tensor(conf * w))
    ta = torch.zeros(bins + 1, dtype=torch.float64).scatter_add_(0, idx, torch.tensor(outcome * w))
    keep = tw > 0
    gap = (ta[keep] / tw[keep] - tc[keep] / tw[keep]).abs()
    return float((gap * tw[keep] / tw.sum()).sum())


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("task", ["binary", "multiclass"])
def test_worst_rows_match_a_sort_of_per_row_losses(task, weighted):
    c, preds, labels, opts = _slice_frames(31 + weighted, task, weighted, n=400)
    # ties: duplicate some rows so equal losses must come out by lower row
    preds.iloc[200:210] = preds.iloc[0:10].to_numpy()
    labels.iloc[200:210] = labels.iloc[0:10].to_numpy()
    s, rows = xentcli.score(preds, labels, worst=25, per_sample=True, **opts)
    table = rows.to_pandas()
    P = c["P"] if c["P"].ndim == 2 else np.c_[1 - c["P"], c["P"]]
    P[200:210] = P[0:10]
    y = c["y"].copy()
    y[200:210] = y[0:10]
    ref = -np.log(np.clip(P[np.arange(len(y)), y], EPS, 1))
    assert np.allclose(table["loss"], ref, rtol=1e-12, atol=0)
    top = table.sort_values(["loss", "row"], ascending=[False, True], kind="stable").head(25)
    assert [w.row for w in s.worst] == top["row"].tolist()
    assert [w.loss for w in s.worst] == top["loss"].tolist()
    assert [w.p_true for w in s.worst] == top["p_true"].tolist()
    assert [w.label for w in s.worst] == top["label"].astype(str).tolist()
    assert [w.pred for w in s.worst] == top["pred"].astype(str).tolist()


# ------------------------------------------------- where the peers bin differently (pinned)


def test_sklearn_calibration_curve_bins_are_right_closed():
    """sklearn ``calibration_curve`` bins with ``searchsorted(edges[1:-1], p)`` (side
    left): a probability exactly on an inner edge goes to the LOWER bin; SPEC (and
    torchmetrics) put it in the upper one. p = 0.5 of 2 bins: xent bin [0.5, 1], sklearn
    bin [0, 0.5]."""
    p = np.array([0.25, 0.5, 0.75, 0.5])
    y = np.array([0, 1, 1, 0])
    s = xentcli.cross_entropy(p, y, input="probs", bins=2)
    assert [(b.n, b.confidence, b.accuracy) for b in s.calibration] == [
        (1, 0.25, 0.0),
        (3, (0.5 + 0.75 + 0.5) / 3, 2 / 3),
    ]
    prob_true, prob_pred = calibration_curve(y, p, n_bins=2)
    assert prob_pred.tolist() == [(0.25 + 0.5 + 0.5) / 3, 0.75]
    assert prob_true.tolist() == [1 / 3, 1.0]
    # torchmetrics agrees with xent (bucketize right=True)
    assert close(s.ece, float(BinaryCalibrationError(n_bins=2)(torch.tensor(p), torch.tensor(y))))


def test_torchmetrics_puts_a_confidence_of_one_in_an_extra_bin():
    """torchmetrics bucketizes against B + 1 edges with ``right=True``: a confidence of
    exactly 1 lands in bin B, a bin of its own past [1 - 1/B, 1]; SPEC puts it in the last
    bin. ECE and MCE differ when the last bin holds other rows with gaps of the other
    sign: p = (0.95, 1.0, 0.2), y = (1, 0, 0), 10 bins: ECE 0.38333 (xent) vs 0.41667
    (torchmetrics), MCE 0.475 vs 1."""
    p = np.array([0.95, 1.0, 0.2])
    y = np.array([1, 0, 0])
    s = xentcli.cross_entropy(p, y, input="probs", bins=10)
    last = s.calibration[-1]
    assert (last.n, last.confidence, last.accuracy) == (2, 0.975, 0.5)
    assert close(s.ece, (2 * 0.475 + 0.2) / 3) and close(s.mce, 0.475)
    preds, target = torch.tensor(p), torch.tensor(y)
    ece = float(BinaryCalibrationError(n_bins=10)(preds, target))
    mce = float(BinaryCalibrationError(n_bins=10, norm="max")(preds, target))
    assert close(ece, (0.05 + 1.0 + 0.2) / 3) and close(mce, 1.0)
    # sklearn's calibration_curve agrees with xent: 1.0 is in its last bin
    prob_true, prob_pred = calibration_curve(y, p, n_bins=10)
    assert prob_pred.tolist()[-1] == 0.975 and prob_true.tolist()[-1] == 0.5


def test_torchmetrics_multiclass_bins_in_float32():
    """``MulticlassCalibrationError`` casts the top probability to float32 before binning
    against float32 edges: a float64 confidence just under an edge (0.6 - 2**-40 with
    5 bins) rounds up to 0.6 and changes bin; xent bins the float64 value."""
    c = 0.6 - 2**-40
    P = np.array([[c, 1 - c], [0.9, 0.1]])
    y = np.array([1, 0])
    s = xentcli.cross_entropy(P, y, input="probs", bins=5)
    assert [b.n for b in s.calibration] == [0, 0, 1, 0, 1]  # c in [0.4, 0.6)
    assert np.float32(c) == np.float32(0.6)
    acc, conf, prop = _binning_bucketize(
        torch.tensor([c], dtype=torch.float32),
        torch.tensor([0.0]),
        torch.linspace(0, 1, 6, dtype=torch.float32),
    )
    assert int(prop.argmax()) == 3  # torchmetrics: bin [0.6, 0.8)
    ours = 0.5 * abs(0 - c) + 0.5 * abs(1 - 0.9)
    theirs = float(
        MulticlassCalibrationError(num_classes=2, n_bins=5)(torch.tensor(P), torch.tensor(y))
    )
    assert close(s.ece, ours)
    assert close(theirs, ours, rel=1e-6)  # the same ECE here: one row per bin either way


def test_torchmetrics_float64_linspace_edges_are_not_i_over_b():
    """``torch.linspace(0, 1, 11, dtype=float64)[3]`` is 0.30000000000000004, not 3/10
    (numpy's ``linspace`` too): torchmetrics bins a confidence of exactly 0.3 in
    [0.2, 0.3), SPEC (and xent) in [0.3, 0.4). p = (0.25, 0.3), y = (0, 1), 10 bins:
    ECE 0.475 (xent) vs 0.225 (torchmetrics), MCE 0.7 vs 0.225."""
    edges = torch.linspace(0, 1, 11, dtype=torch.float64)
    assert float(edges[3]) == 0.30000000000000004 != 3 / 10
    p, y = np.array([0.25, 0.3]), np.array([0, 1])
    s = xentcli.cross_entropy(p, y, input="probs", bins=10)
    assert [b.n for b in s.calibration][2:4] == [1, 1]
    assert close(s.ece, (0.25 + 0.7) / 2) and close(s.mce, 0.7)
    preds, target = torch.tensor(p), torch.tensor(y)
    assert close(float(BinaryCalibrationError(n_bins=10)(preds, target)), 0.225)
    assert close(float(BinaryCalibrationError(n_bins=10, norm="max")(preds, target)), 0.225)


@pytest.mark.parametrize("bins", [15, 10, 7, 3])
@pytest.mark.parametrize(
    "params", [p for p in CASES if p[3] and p[0] != "soft"], ids=case_id
)  # extreme: confidences on edges, exactly 0 and 1
def test_extreme_ece_is_torchmetrics_with_spec_edges(params, bins):
    """On edges and at 1 the only difference from torchmetrics is its edges: its own
    ``_ce_compute`` given the edges i/B (the last nudged past 1, so that 1 is in the last
    bin) gives xent's ECE and MCE to 1e-12."""
    task, kind, weighted, _ = params
    c = case(task, kind, False, seed=seed_of(params) + bins, extreme=True)
    if weighted:
        c["weights"] = np.random.default_rng(bins).integers(0, 4, len(c["T"])).astype(float)
    s = run(c, bins=bins)
    conf, outcome, w = confidences(c)
    if w is not None:
        conf, outcome = np.repeat(conf, w.astype(int)), np.repeat(outcome, w.astype(int))
    edges = np.arange(bins + 1) / bins
    edges[-1] = np.nextafter(1.0, 2.0)
    for norm, ours in (("l1", s.ece), ("max", s.mce)):
        theirs = float(
            _ce_compute(torch.tensor(conf), torch.tensor(outcome), torch.tensor(edges), norm=norm)
        )
        assert close(ours, theirs, abs_=1e-15), (norm, ours, theirs)


def _peer_row_losses(c) -> np.ndarray:
    """Each row's loss from torch on the clipped probabilities (soft, multilabel)."""
    P = torch.tensor(np.clip(c["P"], EPS, 1 - EPS))
    if c["opts"].get("task") == "multilabel":
        return F.binary_cross_entropy(P, torch.tensor(c["T"]), reduction="none").mean(1).numpy()
    return F.cross_entropy(torch.log(P), torch.tensor(c["T"]), reduction="none").numpy()


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("task", ["soft", "multilabel"])
def test_soft_and_multilabel_slices_match_pandas_groupby(task, weighted):
    c = case(task, "probs", weighted, seed=41 + weighted, n=600)
    names = ["c0", "c1", "c2"]
    preds = pd.DataFrame(c["scores"], columns=names)
    preds["region"] = np.random.default_rng(41).choice(["b", "a", "é", None], 600)
    labels = pd.DataFrame(c["T"], columns=names)
    opts = dict(pred_cols=tuple(names), **c["opts"])
    if weighted:
        labels["w"] = c["weights"]
        opts["weight_col"] = "w"
    s = xentcli.score(preds, labels, by=["region"], bins=10, **opts)
    w = np.ones(600) if c["weights"] is None else c["weights"]
    frame = pd.DataFrame(
        {"region": preds["region"], "loss": _peer_row_losses(c), "hit": hits(c), "w": w}
    )
    frame["wl"], frame["wh"] = frame["loss"] * frame["w"], frame["hit"] * frame["w"]
    grouped = frame.groupby("region", dropna=False, sort=True)
    sums = grouped[["wl", "wh", "w"]].sum()
    got = [(x.value, x.n, x.mean_loss, x.accuracy, x.ece) for x in s.slices]
    assert [g[0] for g in got] == ["a", "b", "é", None]  # code point order, null last
    assert [g[1] for g in got] == grouped.size().tolist()
    if task == "multilabel":  # subset accuracy, as scikit-learn's accuracy_score
        whole = accuracy_score(c["T"], c["P"] > 0.5, sample_weight=c["weights"])
        assert close(s.accuracy, whole)
    for g, (value, row) in zip(got, sums.iterrows(), strict=True):
        assert close(g[2], row["wl"] / row["w"]) and close(g[3], row["wh"] / row["w"]), (g, row)
        idx = (
            np.flatnonzero(preds["region"].isna())
            if pd.isna(value)
            else np.flatnonzero(preds["region"] == value)
        )
        sub = {"P": c["P"][idx], "T": c["T"][idx], "weights": w[idx], "opts": c["opts"]}
        conf, outcome, ww = confidences(sub)
        assert close(g[4], _weighted_ece(conf, outcome, ww, 10), abs_=1e-15)
