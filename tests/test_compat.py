"""``--compat xent|torch|keras|sklearn`` held to the peer libraries themselves.

Every test computes the same figures twice: with xent under a preset, and with the
peer (PyTorch 2.13 ``torch.nn.functional``, Keras 3 on its torch backend, scikit-learn's
``log_loss``) on the same arrays, then compares the aggregate (mean and sum) and, where
the peer gives them (``reduction="none"``), the per-sample losses. Run with ``-s`` to see
the table of the largest differences at the end of the module.

The peers' rules, read in their installed sources (keras 3.15.1:
keras/src/losses/losses.py, keras/src/losses/loss.py, keras/src/backend/torch/nn.py;
torch 2.13.0: torch/nn/functional.py and aten's LossNLL.cpp, checked numerically;
scikit-learn 1.9: sklearn/metrics/_classification.py, sklearn/utils/_array_api.py):

PyTorch (F.cross_entropy, F.nll_loss, F.binary_cross_entropy, ..._with_logits)
- clipping: none. cross_entropy takes logits (log_softmax, exact for any finite logit);
  nll_loss takes log-probabilities as given, so nll_loss(log p) with p_true = 0 is inf.
  binary_cross_entropy clamps each log at -100: p_true = 0 costs exactly 100.
- renormalising: none (nll_loss never looks at the row); cross_entropy's log_softmax
  renormalises whatever it is given (so cross_entropy(log p) divides p by its sum).
- sample weights: none. BCELoss(weight=) is an elementwise rescaling whose mean still
  divides by the element count, not by the weights.
- class weights, hard labels: mean = sum(w[y] l) / sum(w[y]) over non-ignored rows.
  With label_smoothing: per row (1-E) w[y] (-log p_y) + E/K sum_c w_c (-log p_c), the
  whole divided by sum(w[y]) (LossNLL.cpp cross_entropy_loss_label_smoothing).
- class weights, soft targets (cross_entropy with a float target): per row
  -sum_c w_c t_c log p_c, mean divided by N (the row count), not by sum w_c t_c.
- multilabel: BCE(WithLogits)Loss on (n, k), weight of shape (k,) multiplies each label's
  term, mean over all n*k terms; pos_weight multiplies the y log p term.
- soft targets: cross_entropy only; 0 * log 0 there is 0 * -inf = nan (xent: 0).
- label smoothing: cross_entropy only, target (1-E) onehot + E/K (also on soft targets).
  None for BCELoss/BCEWithLogitsLoss/nll_loss.
- ignore_index: cross_entropy/nll_loss only, any integer (-100 by default, or a real
  class); ignored rows leave numerator and denominator; all ignored gives nan.
- pos_weight: BCEWithLogitsLoss only (there is none for probabilities).
- binary class weights: no such parameter for one column. xent's torch preset reads them
  as the per-row rescaling BCE(WithLogits)Loss(weight=w[y]) (mean over N), which these
  tests follow; CrossEntropyLoss on [0, z] would divide by sum w[y] instead.
- BCEWithLogitsLoss computes (1 - t) x - (1 + (pw - 1) t) log_sigmoid(x) (ATen Loss.cpp):
  with a smoothed/soft t and a large |x| two big terms cancel in the input's float type.
- arithmetic: the input's dtype (float32 tensors compute in float32); sums included.

Keras 3 (BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy)
- arithmetic: float32 always: Loss.__call__ casts y_true and y_pred to the loss dtype,
  keras.config.floatx() = float32, whatever the input dtype.
- clipping: epsilon() = 1e-7, to [1e-7, 1 - 1e-7] in float32, i.e. [1.00000001e-7,
  0.99999988]: p_true = 0 costs -log(float32(1e-7)) = 16.118095, but a binary p = 1 with
  y = 0 costs -log(1 - 0.99999988) = -log(2**-23) = 15.942385. from_logits=True is
  exact (log_softmax / BCE with logits), no clipping.
- renormalising: categorical and sparse categorical divide every probability row by its
  sum (output / sum(output)) before clipping, silently; binary does not.
- sample weights: sum(w l) / N with reduction "sum_over_batch_size" (the default), and
  sum(w l) with "sum". (Keras 3.15 also has "mean_with_sample_weight", not the default.)
- class weights: none (class_weight is a Model.fit argument, not a loss one). pos_weight:
  none.
- soft labels: CategoricalCrossentropy takes any target rows, -sum t log p.
- label smoothing: Categorical: (1-E) onehot + E/K; Binary: (1-E) y + E/2 ("squeezing
  towards 0.5"); SparseCategoricalCrossentropy has none. The smoothed target is formed
  in float32 (y_true is cast first), and BCE with logits multiplies (1 - t) by x, so
  the target's rounding shows: E = 0.001, y = 1, x = 1e4 costs 4.99964, not 5.
- ignore: SparseCategoricalCrossentropy(ignore_class=int) only; the ignored rows get a
  mask, and the mean becomes sum over valid rows of (w l) / N_valid (apply_mask scales
  by N / N_valid). Binary/Categorical have none; none together with label smoothing.
- multilabel: BinaryCrossentropy on (n, k): the mean over the k labels per row, then the
  batch reduction. Binary is BinaryCrossentropy on (n, 1) (on (n,) it would average the
  whole batch into one "sample").
- log-probabilities: no such input. For multiclass they are logits (softmax(log p) = p),
  so a Keras user passes them with from_logits=True; binary/multilabel log p is not a
  logit, so a user passes exp(log p) as probabilities.

scikit-learn log_loss(y_true, y_proba, normalize=, sample_weight=, labels=)
- clipping: to [eps, 1 - eps] with eps = finfo(y_proba.dtype).eps: 2.22e-16 for
  float64 (p_true = 0 costs 52 ln 2 = 36.043653) and 1.19e-7 for float32 (p_true = 0
  costs 23 ln 2 = 15.942385).
- renormalising: none (since 1.5); rows whose sum is not within rtol=sqrt(eps) of 1 give
  a UserWarning and are used as they are.
- sample weights: np.average(l, weights=w) = sum(w l) / sum(w); normalize=False gives
  np.dot(l, w) = sum(w l).
- arithmetic: the input's dtype for the per-sample losses (float32 stays float32); the
  aggregate is float64 when weights (float64) are given, else in the input dtype.
- one-dimensional y_proba is the positive class: [1 - p, p] is formed in the input dtype.
- logits/log-probabilities: none; a user applies scipy.special.softmax / expit or
  np.exp first, in the input dtype.
- not available: class weights, pos_weight, label smoothing, ignore, soft labels,
  multilabel (given a 0/1 indicator matrix log_loss sums -log p over the positive labels
  only, with a "do not sum to one" warning: not binary cross-entropy).
- columns are in the sorted order of the labels (LabelBinarizer): the tests use integer
  labels 0..K-1, so the order is the column order.

Tolerances. Where the peer computes in float64: 1e-12 relative to the scale of the
losses, max(|loss|, 1) (the floor of 1 nat because log-sum-exp and log of a probability
near 1 carry an absolute, not a relative, rounding error of a few ulps of 1). Where the
peer computes in float32 (every Keras loss; PyTorch and scikit-learn on float32 input):
F32_RTOL = 8 * 2**-24 (8 float32 ulps of 1) relative to the same scale: each per-sample
loss is a handful of float32 operations (a cast, a subtraction, exp/sum/log or a clip
and a log), each off by at most half an ulp, and the float32 sum the peer does for
the aggregate adds a few more ulps of the mean, whereas xent may sum in float64. Sums
are compared relative to max(|sum|, D), D the mean's denominator (sum / mean).
Two float32 steps are worse conditioned than that, and get a scale or an allowance
derived from the step (not a looser rtol): BCE with logits, whose result is known to a
few ulps of its largest intermediate term (``logit_scales``), and BCE on exp(log p),
where an ulp of p moves -log(1 - p) by p / (1 - p) ulps (``exp_slack``).
"""

from __future__ import annotations

import math
import os
import warnings
import zlib

import numpy as np
import pyarrow as pa
import pytest

os.environ["KERAS_BACKEND"] = "torch"  # before keras is imported; keras reads it once

import keras  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from scipy.special import expit, log_softmax, softmax  # noqa: E402
from sklearn.metrics import log_loss  # noqa: E402

import xentcli  # noqa: E402
from xentcli import XentError  # noqa: E402

assert keras.backend.backend() == "torch", "keras must run on its torch backend here"

F64_RTOL = 1e-12
F32_RTOL = 8 * 2.0**-24  # 4.8e-7: see the module docstring
LN2 = math.log(2.0)

# The documented differences, in nats, and where they come from.
SKLEARN_F64_ZERO = 52 * LN2  # -log(finfo(float64).eps) = 36.04365338911715
SKLEARN_F32_ZERO = 23 * LN2  # -log(finfo(float32).eps) = 15.942385152878742
KERAS_ZERO = -math.log(float(np.float32(1e-7)))  # 16.118095639272223
KERAS_ONE = -math.log(1.0 - float(np.float32(1.0 - 1e-7)))  # = 23 ln 2 = 15.942385
TORCH_BCE_ZERO = 100.0  # log clamped at -100

# largest difference seen, relative to the tolerance's scale, per (peer, loss form, input
# dtype); the dtype is the running test's "dtype" parameter, "-" where it has none
LARGEST: dict[tuple[str, str, str], float] = {}
_RUNNING = {"dtype": "-"}


@pytest.fixture(scope="module", autouse=True)
def _one_torch_thread():
    """The peers' tensors are tiny: one thread is faster, and much faster on a busy machine
    (idle OpenMP workers spin); the setting is put back afterwards."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(autouse=True)
def _input_dtype(request):
    """Tell ``agree`` the input dtype of the running test, for the table."""
    callspec = getattr(request.node, "callspec", None)
    dtype = callspec.params.get("dtype") if callspec is not None else None
    _RUNNING["dtype"] = "-" if dtype is None else np.dtype(dtype).name
    yield


@pytest.fixture(scope="module", autouse=True)
def _difference_table():
    """At the end of the module print the largest differences seen (visible with -s)."""
    yield
    if not LARGEST:
        return
    width = max(len(f"{p} {f}") for p, f, _ in LARGEST)
    lines = ["", "largest |xent - peer| / scale, per peer, loss form and input dtype:"]
    for (peer, form, dtype), value in sorted(LARGEST.items()):
        lines.append(f"  {f'{peer} {form}':<{width}}  {dtype:<7}  {value:.3e}")
    print("\n".join(lines))


# -- comparing ------------------------------------------------------------------------


def agree(peer, form, got, want, rtol, scale=None, what="loss", slack=0.0):
    """``got`` equals ``want`` within ``rtol * scale + slack`` (scale by default
    max(|want|, 1); slack an allowance for an ill-conditioned step, see ``exp_slack``),
    inf and nan exactly; records the largest |got - want| / scale for the table."""
    got = np.atleast_1d(np.asarray(got, dtype=np.float64))
    want = np.atleast_1d(np.asarray(want, dtype=np.float64))
    assert got.shape == want.shape, f"{what}: shape {got.shape} != peer's {want.shape}"
    finite = np.isfinite(want)
    bad = ~finite & ~((got == want) | (np.isnan(got) & np.isnan(want)))
    assert not bad.any(), (
        f"{what}: xent {got[bad][:5]} where {peer} {form} gives {want[bad][:5]} "
        f"(rows {np.flatnonzero(bad)[:5]})"
    )
    assert np.isfinite(got[finite]).all(), f"{what}: xent not finite where {peer} is"
    if not finite.any():
        return
    s = np.maximum(np.abs(want[finite]), 1.0) if scale is None else np.asarray(scale)
    slack = np.broadcast_to(np.asarray(slack, dtype=np.float64), want.shape)[finite]
    diff = np.abs(got[finite] - want[finite])
    rel = diff / s
    key = (peer, form, _RUNNING["dtype"])
    LARGEST[key] = max(LARGEST.get(key, 0.0), float(rel.max()))
    over = (diff - slack) / s
    worst = int(np.argmax(over))
    assert over[worst] <= rtol, (
        f"{what}: xent {got[finite][worst]!r} vs {peer} {form} {want[finite][worst]!r}: "
        f"relative difference {rel[worst]:.3g} > {rtol:.3g}"
        + (f" beyond a slack of {slack[worst]:.3g}" if slack[worst] else "")
        + f" (row {worst} of the finite ones)"
    )


def agree_summary(
    peer, form, summary, mean, total, rtol, reduction="mean", slack=(0.0, 0.0), scale=1.0
):
    """The summary's mean_loss, sum_loss and headline loss against the peer's mean and sum.
    ``slack``: the allowances of the mean and the sum; ``scale``: a lower bound of the
    mean's scale (see ``logit_scales``), the sum's being D times it, D the mean's
    denominator (sum / mean)."""
    finite = np.isfinite(mean)
    agree(
        peer,
        form,
        summary.mean_loss,
        mean,
        rtol,
        scale=max(abs(mean), scale) if finite else None,
        what="mean_loss",
        slack=slack[0],
    )
    if finite and np.isfinite(total) and mean != 0:
        denominator = abs(total / mean)
        sum_scale = max(abs(total), denominator * scale)
    else:
        sum_scale = max(abs(total), 1.0) if np.isfinite(total) else None
    agree(
        peer, form, summary.sum_loss, total, rtol, scale=sum_scale, what="sum_loss", slack=slack[1]
    )
    headline = summary.mean_loss if reduction == "mean" else summary.sum_loss
    assert summary.loss == headline or (math.isnan(summary.loss) and math.isnan(headline))


def combos(kinds, variants, only):
    """(kind, variant) pairs, leaving out a variant whose needs (``only``: variant ->
    the kinds it applies to) the kind does not meet."""
    return [
        pytest.param(kind, variant, id=f"{kind}-{variant}")
        for kind in kinds
        for variant in variants
        if kind in only.get(variant, kinds)
    ]


def rtol_for(dtype):
    return F32_RTOL if np.dtype(dtype) == np.float32 else F64_RTOL


def logit_scales(x, t, pos_weight=1.0, row_weights=None, label_weights=None):
    """Scales for BCE on logits ("BCEWithLogitsLoss", "BinaryCrossentropy(logits)"): (each
    row's, the mean's).

    PyTorch's binary_cross_entropy_with_logits, which Keras's from_logits calls, adds
    (1 - t) x and -(1 + (pos_weight - 1) t) log_sigmoid(x) in the input's float type
    (ATen Loss.cpp). With a smoothed target and a large |x| the two nearly cancel (t = 0.05,
    x = -80: -76 + 80 = 4), so the float32 result is known to a few ulps of the larger term,
    not of the result: an element's scale is max(1, |(1 - t) x| + |(...) log_sigmoid x|), a
    row's the mean over its labels, the mean's the peer's weighted mean of those.
    ``x`` and ``t`` are (n,) or (n, k)."""
    x = np.asarray(x, dtype=np.float64)
    x = x.reshape(x.shape[0], -1)
    t = np.asarray(t, dtype=np.float64).reshape(x.shape[0], -1)
    log_sigmoid = np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))
    terms = np.abs((1 - t) * x) + np.abs((1 + (pos_weight - 1) * t) * log_sigmoid)
    terms = np.maximum(terms, 1.0)
    lw = np.ones(x.shape[1]) if label_weights is None else np.asarray(label_weights)
    rw = np.ones(x.shape[0]) if row_weights is None else np.asarray(row_weights)
    return terms.mean(axis=1), float((rw * (terms * lw).mean(axis=1)).mean())


def exp_slack(p, t, unit, weights=None):
    """Allowances for BCE on p = exp(log p) ("BCELoss(exp)", "BinaryCrossentropy(exp)"):
    (per row, mean, sum).

    p is known to an ulp only: numpy's and torch's float32 exp differ in the last bit in
    about 40% of rows, and Keras rounds a float64 exp to float32 where xent rounds log p
    first. A relative change d of p moves t (-log p) + (1 - t)(-log(1 - p)) by
    d (t + (1 - t) p / (1 - p)); p / (1 - p) is huge near p = 1, so a row's loss is known
    only to 2 ulps times that condition number. ``p`` is the peer's probability after its
    clip, ``unit`` the unit roundoff of its arithmetic (2**-24 for float32)."""
    p = np.asarray(p, dtype=np.float64)
    gap = np.maximum(1.0 - p, 2.0**-24)  # p = 1: 1 - p is at least an ulp of float32 away
    row = 2 * unit * (t + (1 - t) * p / gap)
    w = np.ones_like(row) if weights is None else np.asarray(weights, dtype=np.float64)
    return row, float((w * row).sum() / len(row)), float((w * row).sum())


# -- running xent -----------------------------------------------------------------------


def run(scores, labels, *, weights=None, **options):
    """The aggregate through the public door."""
    return xentcli.cross_entropy(scores, labels, weights=weights, **options)


class _Rows:
    def __init__(self):
        self.batches = []

    def write(self, rows):
        self.batches.append(rows)


def run_rows(scores, labels, **options):
    """Per-sample losses through the pipeline: (row positions, losses), in row order."""
    from xentcli.run.pipeline import score

    scores = np.asarray(scores)
    columns = (
        {"positive": scores.reshape(-1)}
        if scores.ndim == 1
        else {str(j): scores[:, j] for j in range(scores.shape[1])}
    )
    labels = np.asarray(labels)
    label_table = None
    if labels.ndim == 1:
        columns["label"] = labels
        options["label_col"] = "label"
    else:
        label_table = pa.table({str(j): labels[:, j] for j in range(labels.shape[1])})
    sink = _Rows()
    score(pa.table(columns), label_table, sink=sink, **options)
    assert sink.batches, "no per-sample rows"
    keys = np.concatenate([np.asarray(b.keys.to_pylist(), dtype=np.int64) for b in sink.batches])
    loss = np.concatenate([np.asarray(b.loss, dtype=np.float64) for b in sink.batches])
    order = np.argsort(keys, kind="stable")
    return keys[order], loss[order]


def check_rows(peer, form, scores, labels, want, keep, rtol, slack=0.0, scale=1.0, **options):
    """xent's per-sample losses (rows ``keep``) against the peer's ``want`` (all rows);
    ``scale`` a lower bound of each row's scale (default 1)."""
    keys, loss = run_rows(scores, labels, **options)
    assert keys.tolist() == np.flatnonzero(keep).tolist(), "per-sample rows are not the kept ones"
    slack = np.broadcast_to(np.asarray(slack, dtype=np.float64), keep.shape)[keep]
    scale = np.broadcast_to(np.asarray(scale, dtype=np.float64), keep.shape)[keep]
    want = np.asarray(want, dtype=np.float64)[keep]
    finite = np.isfinite(want)
    scale = np.maximum(np.abs(want[finite]), scale[finite]) if finite.any() else None
    agree(peer, form, loss, want, rtol, scale=scale, what="per-sample", slack=slack)


# -- data -------------------------------------------------------------------------------

SEEDS = [0, 1]  # seed 1 adds extreme logits (+-1e4, +-80)


def size_for(seed, salt=0):
    return [1, 7, 64, 257][(seed * 3 + salt) % 4]


def rng_for(*parts):
    return np.random.default_rng([zlib.crc32(str(p).encode()) for p in parts])


def make_logits(rng, n, k, extreme):
    z = rng.normal(size=(n, k)) * rng.uniform(0.3, 4.0)
    if extreme:
        spots = rng.random((n, k)) < 0.15
        z[spots] = rng.choice([1e4, -1e4, 80.0, -80.0, 88.5, -103.0], size=int(spots.sum()))
    return z


def make_probs(rng, z, y, *, exact_ones=True, exact_zeros=True, wrong_ones=False):
    """softmax(z) with, optionally, exact 0s off the true class, rows that are exactly
    one-hot on the true class, and (wrong_ones) one-hot rows on a wrong class
    (p_true = 0). Row 0 is left alone."""
    p = softmax(z, axis=1)
    n, k = p.shape
    rows = np.arange(1, n)
    if exact_zeros and k > 2:
        for i in rows[rng.random(n - 1) < 0.2]:
            j = (y[i] + 1 + rng.integers(0, k - 1)) % k
            p[i, y[i]] += p[i, j]
            p[i, j] = 0.0
    if exact_ones:
        for i in rows[rng.random(n - 1) < 0.1]:
            p[i] = 0.0
            p[i, y[i]] = 1.0
    if wrong_ones and k > 1:
        for i in rows[rng.random(n - 1) < 0.1]:
            p[i] = 0.0
            p[i, (y[i] + 1) % k] = 1.0
    return np.minimum(p, 1.0)  # moving mass can round to 1 + 2**-52


def scores_of(kind, z, p, dtype):
    if kind == "logits":
        return z.astype(dtype)
    if kind == "probs":
        return p.astype(dtype)
    with np.errstate(divide="ignore"):
        return log_softmax(z, axis=1).astype(dtype) if p is None else np.log(p).astype(dtype)


def class_weight_dict(w):
    return {str(j): float(v) for j, v in enumerate(w)}


def to_numpy(tensor):
    """A Keras result (a torch tensor on this backend) as float64 NumPy."""
    return tensor.detach().cpu().double().numpy()


# -- PyTorch: CrossEntropyLoss / NLLLoss, hard labels -----------------------------------

TORCH_HARD = {
    "plain": {},
    "weight": {"cw": True},
    "smooth": {"smooth": 0.1},
    "weight+smooth": {"cw": True, "smooth": 0.25},
    "ignore-100": {"ignore": -100},
    "ignore1+weight+smooth": {"ignore": 1, "cw": True, "smooth": 0.1},
    "sum+weight": {"cw": True, "reduction": "sum"},
    "unnormalised": {"scale_rows": True},
    # NLLLoss has no smoothing: CrossEntropyLoss(log p), whose log_softmax renormalises
    "unnormalised+smooth": {"scale_rows": True, "smooth": 0.1},
}


def torch_hard(scores, y, kind, weight, smoothing, ignore, reduction):
    x = torch.from_numpy(np.ascontiguousarray(scores))
    if kind == "probs":
        x = torch.log(x)
    target = torch.from_numpy(y.astype(np.int64))
    w = None if weight is None else torch.tensor(weight, dtype=x.dtype)
    ignore_index = -100 if ignore is None else ignore
    if kind == "logits" or smoothing:  # NLLLoss has no label_smoothing: CrossEntropyLoss
        out = F.cross_entropy(
            x,
            target,
            weight=w,
            ignore_index=ignore_index,
            label_smoothing=smoothing,
            reduction=reduction,
        )
    else:
        out = F.nll_loss(x, target, weight=w, ignore_index=ignore_index, reduction=reduction)
    return out.double().numpy()


@pytest.mark.parametrize(
    ("kind", "variant"),
    combos(
        ["logits", "probs", "logprobs"],
        TORCH_HARD,
        {"unnormalised": ["probs", "logprobs"], "unnormalised+smooth": ["probs", "logprobs"]},
    ),
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("k", [2, 3, 10])
@pytest.mark.parametrize("seed", SEEDS)
def test_torch_hard_labels(seed, k, dtype, kind, variant):
    """CrossEntropyLoss (logits; and log p or log-probabilities with label smoothing) and
    NLLLoss(log p) / NLLLoss(log-probabilities), with weight, label_smoothing, ignore_index."""
    v = TORCH_HARD[variant]
    rng = rng_for("torch-hard", seed, k, kind, variant)
    n = size_for(seed, k)
    y = rng.integers(0, k, n)
    z = make_logits(rng, n, k, extreme=seed == 1)
    # exact zeros would make every smoothed row inf (-log 0 of a class): not with smoothing
    p = make_probs(rng, z, y, exact_zeros=not v.get("smooth"), exact_ones=not v.get("smooth"))
    factors = rng.choice([0.7, 0.9996], size=(len(p[1::2]), 1))
    if v.get("scale_rows"):
        p[1::2] *= factors
    scores = scores_of(kind, z, p if kind == "probs" else None, dtype)
    if v.get("scale_rows") and kind == "logprobs":
        scores[1::2] += np.log(factors).astype(dtype)
    ignore = v.get("ignore")
    labels = y.copy()
    if ignore == -100:
        labels[1:][rng.random(n - 1) < 0.25] = -100
    elif ignore is not None:
        labels[0] = 0 if ignore != 0 else 1
    keep = labels != ignore if ignore is not None else np.ones(n, dtype=bool)
    weight = rng.uniform(0.2, 3.0, k) if v.get("cw") else None
    smoothing = v.get("smooth", 0.0)
    reduction = v.get("reduction", "mean")
    form = ("CrossEntropyLoss" if kind == "logits" or smoothing else "NLLLoss") + f"/{kind}"
    options = dict(compat="torch", input=kind, task="multiclass", label_smoothing=smoothing)
    if ignore is not None:
        options["ignore_label"] = ignore
    if weight is not None:
        options["class_weights"] = class_weight_dict(weight)

    s = run(scores, labels, reduction=reduction, **options)
    mean = torch_hard(scores, labels, kind, weight, smoothing, ignore, "mean")
    total = torch_hard(scores, labels, kind, weight, smoothing, ignore, "sum")
    rtol = rtol_for(dtype)
    agree_summary("torch", form, s, mean, total, rtol, reduction)
    assert s.n_samples == int(keep.sum())
    assert s.compat == "torch" and "compat:torch" in s.signature
    # per-sample: the peer's reduction="none" without weights (xent's rows carry no weights)
    each = torch_hard(scores, labels, kind, None, smoothing, ignore, "none")
    check_rows("torch", form, scores, labels, each, keep, rtol, **options)


# -- PyTorch: CrossEntropyLoss with soft targets ----------------------------------------

SOFT = {
    "plain": {},
    "weight": {"cw": True},
    "weight+smooth": {"cw": True, "smooth": 0.15},
    "sum": {"reduction": "sum"},
}


def make_soft(rng, n, k):
    t = softmax(rng.normal(size=(n, k)) * 2.0, axis=1)
    t[1::3] = np.eye(k)[rng.integers(0, k, len(t[1::3]))]  # some one-hot rows, not all
    if n > 2:
        t[2, :] = 1.0 / k
    return t


@pytest.mark.parametrize("variant", list(SOFT))
@pytest.mark.parametrize("kind", ["logits", "probs", "logprobs"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("k", [2, 3, 10])
@pytest.mark.parametrize("seed", SEEDS)
def test_torch_soft_targets(seed, k, dtype, kind, variant):
    """CrossEntropyLoss(weight=, label_smoothing=) on probability targets; class weights
    divide by N. Probabilities enter as log p (no exact zeros: 0 * log 0 is nan there)."""
    v = SOFT[variant]
    rng = rng_for("torch-soft", seed, k, kind, variant)
    n = size_for(seed, k + 1)
    z = make_logits(rng, n, k, extreme=seed == 1)
    t = make_soft(rng, n, k)
    scores = scores_of(kind, z, softmax(z, axis=1) if kind == "probs" else None, dtype)
    if kind == "probs":
        scores = np.maximum(scores, np.finfo(dtype).tiny)  # softmax may underflow to 0
        scores = (scores / scores.sum(axis=1, keepdims=True)).astype(dtype)
    weight = rng.uniform(0.2, 3.0, k) if v.get("cw") else None
    smoothing = v.get("smooth", 0.0)
    reduction = v.get("reduction", "mean")

    def peer(w, red):
        x = torch.from_numpy(np.ascontiguousarray(scores))
        if kind == "probs":
            x = torch.log(x)
        target = torch.from_numpy(t.astype(dtype))
        wt = None if w is None else torch.tensor(w, dtype=x.dtype)
        out = F.cross_entropy(x, target, weight=wt, label_smoothing=smoothing, reduction=red)
        return out.double().numpy()

    options = dict(compat="torch", input=kind, task="multiclass", label_smoothing=smoothing)
    if weight is not None:
        options["class_weights"] = class_weight_dict(weight)
    s = run(scores, t, reduction=reduction, **options)
    assert s.target == "soft"
    rtol = rtol_for(dtype)
    form = f"CrossEntropyLoss(soft)/{kind}"
    agree_summary("torch", form, s, peer(weight, "mean"), peer(weight, "sum"), rtol, reduction)
    check_rows("torch", form, scores, t, peer(None, "none"), np.ones(n, bool), rtol, **options)


# -- PyTorch: BCELoss / BCEWithLogitsLoss, binary ---------------------------------------

TORCH_BINARY = {
    "plain": {},
    "pos_weight": {"pw": 2.5},
    "class_weights": {"cw": True},
    "class_weights+pos_weight": {"cw": True, "pw": 0.4},
    "sum": {"reduction": "sum"},
    "sum+class_weights": {"cw": True, "reduction": "sum"},
}


def binary_scores(kind, z, p, dtype):
    """Logits, probabilities or log-probabilities of the positive class; a probability of
    exactly 0 becomes the log-probability -1e4 (exp gives 0 again; -inf is not a score)."""
    if kind == "logits":
        return z.astype(dtype)
    if kind == "probs":
        return p.astype(dtype)
    with np.errstate(divide="ignore"):
        return np.where(p == 0, -1e4, np.log(p)).astype(dtype)


def make_binary(rng, n, extreme, exact):
    z = rng.normal(size=n) * rng.uniform(0.3, 4.0)
    if extreme:
        spots = rng.random(n) < 0.2
        z[spots] = rng.choice([1e4, -1e4, 80.0, -80.0, 37.0, -17.5], size=int(spots.sum()))
    y = rng.integers(0, 2, n)
    p = expit(z)
    if exact:  # exact 0s and 1s, right and wrong
        spots = np.flatnonzero(rng.random(n) < 0.2)
        spots = spots[spots > 0]
        p[spots] = rng.integers(0, 2, len(spots)).astype(np.float64)
    return z, y, p


@pytest.mark.parametrize(
    ("kind", "variant"),
    combos(
        ["logits", "probs", "logprobs"],
        TORCH_BINARY,
        {v: ["logits"] for v, o in TORCH_BINARY.items() if o.get("pw")},
    ),
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_torch_binary(seed, dtype, kind, variant):
    """BCELoss(p) (log clamped at -100), BCELoss(exp(log p)), BCEWithLogitsLoss(pos_weight=);
    binary class weights as the per-row rescaling weight=w[y] of those losses (the mean
    divides by N, not by sum w[y])."""
    v = TORCH_BINARY[variant]
    rng = rng_for("torch-binary", seed, kind, variant)
    n = size_for(seed, 2)
    z, y, p = make_binary(rng, n, extreme=seed % 2 == 1, exact=True)
    scores = binary_scores(kind, z, p, dtype)
    weight = rng.uniform(0.2, 3.0, 2) if v.get("cw") else None
    pw = v.get("pw")
    reduction = v.get("reduction", "mean")

    def peer(red, w=weight):
        x = torch.from_numpy(np.ascontiguousarray(scores))
        t = torch.from_numpy(y).to(x.dtype)
        wt = None if w is None else torch.from_numpy(w[y]).to(x.dtype)
        if kind == "logits":
            pt = None if pw is None else torch.tensor([pw], dtype=x.dtype)
            out = F.binary_cross_entropy_with_logits(x, t, weight=wt, pos_weight=pt, reduction=red)
        else:
            x = torch.exp(x) if kind == "logprobs" else x
            out = F.binary_cross_entropy(x, t, weight=wt, reduction=red)
        return out.double().numpy()

    form = {
        "logits": "BCEWithLogitsLoss",
        "probs": "BCELoss",
        "logprobs": "BCELoss(exp)",
    }[kind] + ("(weight=w[y])" if weight is not None else "")
    options = dict(compat="torch", input=kind, task="binary")
    if weight is not None:
        options["class_weights"] = class_weight_dict(weight)
    if pw is not None:
        options["pos_weight"] = pw
    s = run(scores, y, reduction=reduction, **options)
    rtol = rtol_for(dtype)
    row = mean_slack = sum_slack = 0.0
    if kind == "logprobs":  # torch.exp(log p) vs numpy's exp: see exp_slack
        p_peer = torch.exp(torch.from_numpy(scores)).double().numpy()
        rows_w = None if weight is None else weight[y]
        row, mean_slack, sum_slack = exp_slack(p_peer, y, np.finfo(dtype).eps / 2, rows_w)
    slack = (mean_slack, sum_slack)
    scale = mean_scale = 1.0
    if kind == "logits":
        rows_w = None if weight is None else weight[y]
        scale, mean_scale = logit_scales(scores, y, 1.0 if pw is None else pw, rows_w)
    agree_summary("torch", form, s, peer("mean"), peer("sum"), rtol, reduction, slack, mean_scale)
    # per-sample: unweighted (pos_weight is part of BCEWithLogitsLoss's per-element loss)
    each = peer("none", w=None)
    check_rows(
        "torch", form, scores, y, each, np.ones(n, bool), rtol, slack=row, scale=scale, **options
    )


# -- PyTorch: multilabel BCELoss / BCEWithLogitsLoss ------------------------------------

MULTILABEL = {
    "plain": {},
    "weight": {"cw": True},
    "pos_weight": {"pw": 3.0},
    "weight+pos_weight": {"cw": True, "pw": 0.5},
    "sum": {"reduction": "sum"},
}


def make_multilabel(rng, n, k):
    t = (rng.random((n, k)) < 0.4).astype(np.float64)
    t[0] = 0.0
    t[0, : min(2, k)] = 1.0  # never read as one-hot: row 0 has two 1s (or k = 1)
    return t


@pytest.mark.parametrize(
    ("kind", "variant"),
    combos(
        ["logits", "probs"],
        MULTILABEL,
        {v: ["logits"] for v, o in MULTILABEL.items() if o.get("pw")},
    ),
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("k", [2, 3, 10])
@pytest.mark.parametrize("seed", SEEDS)
def test_torch_multilabel(seed, k, dtype, kind, variant):
    """BCEWithLogitsLoss(weight=(k,), pos_weight=) and BCELoss(weight=(k,)) on (n, k):
    the mean over all n * k terms."""
    v = MULTILABEL[variant]
    rng = rng_for("torch-multilabel", seed, k, kind, variant)
    n = size_for(seed, k)
    z = make_logits(rng, n, k, extreme=seed == 1)
    t = make_multilabel(rng, n, k)
    p = expit(z)
    p[1::5, 0] = t[1::5, 0]  # exact right 0/1
    p[2::7, -1] = 1 - t[2::7, -1]  # exact wrong 0/1: 100 each
    scores = (z if kind == "logits" else p).astype(dtype)
    weight = rng.uniform(0.2, 3.0, k) if v.get("cw") else None
    pw = v.get("pw")
    reduction = v.get("reduction", "mean")

    def peer(red, w=weight):
        x = torch.from_numpy(np.ascontiguousarray(scores))
        target = torch.from_numpy(t.astype(dtype))
        wt = None if w is None else torch.tensor(w, dtype=x.dtype)
        if kind == "logits":
            pt = None if pw is None else torch.full((k,), pw, dtype=x.dtype)
            out = F.binary_cross_entropy_with_logits(
                x, target, weight=wt, pos_weight=pt, reduction=red
            )
        else:
            out = F.binary_cross_entropy(x, target, weight=wt, reduction=red)
        return out.double().numpy()

    form = ("BCEWithLogitsLoss" if kind == "logits" else "BCELoss") + "(multilabel)"
    options = dict(compat="torch", input=kind, task="multilabel")
    if weight is not None:
        options["class_weights"] = class_weight_dict(weight)
    if pw is not None:
        options["pos_weight"] = pw
    s = run(scores, t, reduction=reduction, **options)
    assert s.task == "multilabel"
    rtol = rtol_for(dtype)
    scale = mean_scale = 1.0
    if kind == "logits":
        scale, mean_scale = logit_scales(scores, t, 1.0 if pw is None else pw, None, weight)
    agree_summary("torch", form, s, peer("mean"), peer("sum"), rtol, reduction, scale=mean_scale)
    each = peer("none", w=None).mean(axis=1)
    check_rows("torch", form, scores, t, each, np.ones(n, bool), rtol, scale=scale, **options)


# -- Keras: SparseCategorical / Categorical, hard labels --------------------------------

KERAS_HARD = {
    "plain": {},
    "sample_weight": {"sw": True},
    "smooth": {"smooth": 0.1},
    "smooth+sample_weight": {"smooth": 0.3, "sw": True},
    "ignore-100": {"ignore": -100},
    "ignore1+sample_weight": {"ignore": 1, "sw": True},
    "sum+sample_weight": {"sw": True, "reduction": "sum"},
    "unnormalised": {"scale_rows": True},
}


def keras_hard(scores, y, k, kind, smoothing, ignore, sw, reduction):
    from_logits = kind != "probs"  # multiclass log-probabilities are logits
    red = {"mean": "sum_over_batch_size", "sum": "sum", "none": None}[reduction]
    if smoothing:  # SparseCategoricalCrossentropy has no label_smoothing
        loss = keras.losses.CategoricalCrossentropy(
            from_logits=from_logits, label_smoothing=smoothing, reduction=red
        )
        return to_numpy(loss(np.eye(k)[y], scores, sample_weight=sw))
    loss = keras.losses.SparseCategoricalCrossentropy(
        from_logits=from_logits, ignore_class=ignore, reduction=red
    )
    return to_numpy(loss(y, scores, sample_weight=sw))


@pytest.mark.parametrize(
    ("kind", "variant"),
    combos(["logits", "probs", "logprobs"], KERAS_HARD, {"unnormalised": ["probs"]}),
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("k", [2, 3, 10])
@pytest.mark.parametrize("seed", SEEDS)
def test_keras_hard_labels(seed, k, dtype, kind, variant):
    """SparseCategoricalCrossentropy(from_logits, ignore_class) and, with label smoothing,
    CategoricalCrossentropy on one-hot rows; sample_weight; float32, clip 1e-7, rows
    renormalised."""
    v = KERAS_HARD[variant]
    rng = rng_for("keras-hard", seed, k, kind, variant)
    n = size_for(seed, k + 2)
    y = rng.integers(0, k, n)
    z = make_logits(rng, n, k, extreme=seed == 1)
    p = make_probs(rng, z, y, wrong_ones=True)  # p_true = 0 costs 16.118095
    if v.get("scale_rows"):
        p[1::2] *= rng.choice([0.7, 0.9996], size=(len(p[1::2]), 1))
    scores = scores_of(kind, z, p if kind == "probs" else None, dtype)
    ignore = v.get("ignore")
    labels = y.copy()
    if ignore == -100:
        labels[1:][rng.random(n - 1) < 0.25] = -100
    elif ignore is not None:
        labels[0] = 0
    keep = labels != ignore if ignore is not None else np.ones(n, dtype=bool)
    sw = rng.uniform(0.0, 3.0, n) if v.get("sw") else None
    smoothing = v.get("smooth", 0.0)
    reduction = v.get("reduction", "mean")
    form = ("CategoricalCrossentropy" if smoothing else "SparseCategoricalCrossentropy") + (
        f"/{kind}"
    )
    options = dict(compat="keras", input=kind, task="multiclass", label_smoothing=smoothing)
    if ignore is not None:
        options["ignore_label"] = ignore

    s = run(scores, labels, weights=sw, reduction=reduction, **options)
    mean = keras_hard(scores, labels, k, kind, smoothing, ignore, sw, "mean")
    total = keras_hard(scores, labels, k, kind, smoothing, ignore, sw, "sum")
    agree_summary("keras", form, s, mean, total, F32_RTOL, reduction)
    assert s.n_samples == int(keep.sum())
    each = keras_hard(scores, labels, k, kind, smoothing, ignore, None, "none")
    check_rows("keras", form, scores, labels, each, keep, F32_RTOL, **options)


@pytest.mark.parametrize("variant", list(SOFT))
@pytest.mark.parametrize("kind", ["logits", "probs"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("k", [2, 3, 10])
@pytest.mark.parametrize("seed", SEEDS)
def test_keras_soft_targets(seed, k, dtype, kind, variant):
    """CategoricalCrossentropy(from_logits, label_smoothing) on probability targets, with
    sample_weight (the soft table's "weight" variants become sample weights: Keras has no
    class weights)."""
    v = SOFT[variant]
    rng = rng_for("keras-soft", seed, k, kind, variant)
    n = size_for(seed, k + 3)
    z = make_logits(rng, n, k, extreme=seed == 1)
    t = make_soft(rng, n, k)
    scores = scores_of(kind, z, softmax(z, axis=1) if kind == "probs" else None, dtype)
    sw = rng.uniform(0.0, 3.0, n) if v.get("cw") else None
    smoothing = v.get("smooth", 0.0)
    reduction = v.get("reduction", "mean")

    def peer(red, w=sw):
        red = {"mean": "sum_over_batch_size", "sum": "sum", "none": None}[red]
        loss = keras.losses.CategoricalCrossentropy(
            from_logits=kind == "logits", label_smoothing=smoothing, reduction=red
        )
        return to_numpy(loss(t, scores, sample_weight=w))

    options = dict(compat="keras", input=kind, task="multiclass", label_smoothing=smoothing)
    s = run(scores, t, weights=sw, reduction=reduction, **options)
    assert s.target == "soft"
    form = f"CategoricalCrossentropy(soft)/{kind}"
    agree_summary("keras", form, s, peer("mean"), peer("sum"), F32_RTOL, reduction)
    check_rows("keras", form, scores, t, peer("none", None), np.ones(n, bool), F32_RTOL, **options)


KERAS_BINARY = {
    "plain": {},
    "sample_weight": {"sw": True},
    "smooth": {"smooth": 0.2},
    "sum+smooth+sample_weight": {"smooth": 0.1, "sw": True, "reduction": "sum"},
}


@pytest.mark.parametrize("variant", list(KERAS_BINARY))
@pytest.mark.parametrize("kind", ["logits", "probs", "logprobs"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_keras_binary(seed, dtype, kind, variant):
    """BinaryCrossentropy(from_logits, label_smoothing) on (n, 1) with sample_weight;
    binary log-probabilities enter as exp(log p), probabilities clipped to
    [1e-7, 1 - 1e-7] in float32."""
    v = KERAS_BINARY[variant]
    rng = rng_for("keras-binary", seed, kind, variant)
    n = size_for(seed, 1)
    z, y, p = make_binary(rng, n, extreme=seed % 2 == 1, exact=True)
    scores = binary_scores(kind, z, p, dtype)
    sw = rng.uniform(0.0, 3.0, n) if v.get("sw") else None
    smoothing = v.get("smooth", 0.0)
    reduction = v.get("reduction", "mean")

    def peer(red, w=sw):
        red = {"mean": "sum_over_batch_size", "sum": "sum", "none": None}[red]
        loss = keras.losses.BinaryCrossentropy(
            from_logits=kind == "logits", label_smoothing=smoothing, reduction=red
        )
        x = np.exp(scores) if kind == "logprobs" else scores
        return to_numpy(loss(y[:, None].astype(np.float64), x[:, None], sample_weight=w))

    options = dict(compat="keras", input=kind, task="binary", label_smoothing=smoothing)
    s = run(scores, y, weights=sw, reduction=reduction, **options)
    form = "BinaryCrossentropy" + {"logits": "(logits)", "probs": "", "logprobs": "(exp)"}[kind]
    row, slack = 0.0, (0.0, 0.0)
    if kind == "logprobs":  # a float64 exp rounded to float32 vs xent's: see exp_slack
        p_peer = np.clip(np.exp(scores).astype(np.float32), np.float32(1e-7), np.float32(1 - 1e-7))
        t = (1 - smoothing) * y + smoothing / 2
        row, *slack = exp_slack(p_peer, t, 2.0**-24, sw)
    scale = mean_scale = 1.0
    if kind == "logits":
        scale, mean_scale = logit_scales(scores, (1 - smoothing) * y + smoothing / 2, 1.0, sw)
    mean, total = peer("mean"), peer("sum")
    agree_summary("keras", form, s, mean, total, F32_RTOL, reduction, tuple(slack), mean_scale)
    each = peer("none", None)
    keep = np.ones(n, bool)
    check_rows("keras", form, scores, y, each, keep, F32_RTOL, slack=row, scale=scale, **options)


KERAS_MULTILABEL = {
    "plain": {},
    "sample_weight": {"sw": True},
    "smooth": {"smooth": 0.2},
    "sum+sample_weight": {"sw": True, "reduction": "sum"},
}


@pytest.mark.parametrize("variant", list(KERAS_MULTILABEL))
@pytest.mark.parametrize("kind", ["logits", "probs"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("k", [2, 3, 10])
@pytest.mark.parametrize("seed", SEEDS)
def test_keras_multilabel(seed, k, dtype, kind, variant):
    """BinaryCrossentropy on (n, k): the mean over labels per row, then over rows."""
    v = KERAS_MULTILABEL[variant]
    rng = rng_for("keras-multilabel", seed, k, kind, variant)
    n = size_for(seed, k + 1)
    z = make_logits(rng, n, k, extreme=seed == 1)
    t = make_multilabel(rng, n, k)
    p = expit(z)
    p[1::5, 0] = t[1::5, 0]
    p[2::7, -1] = 1 - t[2::7, -1]
    scores = (z if kind == "logits" else p).astype(dtype)
    sw = rng.uniform(0.0, 3.0, n) if v.get("sw") else None
    smoothing = v.get("smooth", 0.0)
    reduction = v.get("reduction", "mean")

    def peer(red, w=sw):
        red = {"mean": "sum_over_batch_size", "sum": "sum", "none": None}[red]
        loss = keras.losses.BinaryCrossentropy(
            from_logits=kind == "logits", label_smoothing=smoothing, reduction=red
        )
        return to_numpy(loss(t, scores, sample_weight=w))

    options = dict(compat="keras", input=kind, task="multilabel", label_smoothing=smoothing)
    s = run(scores, t, weights=sw, reduction=reduction, **options)
    form = "BinaryCrossentropy(multilabel" + (", logits)" if kind == "logits" else ")")
    scale = mean_scale = 1.0
    if kind == "logits":
        scale, mean_scale = logit_scales(scores, (1 - smoothing) * t + smoothing / 2, 1.0, sw)
    mean, total = peer("mean"), peer("sum")
    agree_summary("keras", form, s, mean, total, F32_RTOL, reduction, scale=mean_scale)
    each, keep = peer("none", None), np.ones(n, bool)
    check_rows("keras", form, scores, t, each, keep, F32_RTOL, scale=scale, **options)


@pytest.mark.parametrize("smoothing", [0.2, 0.01, 0.001])
@pytest.mark.parametrize("task", ["binary", "multilabel"])
def test_keras_smoothed_binary_target_is_float32(task, smoothing):
    """BinaryCrossentropy(label_smoothing=E) forms its target (1 - E) y + E / 2 in float32
    (Loss.__call__ casts y_true to float32 first), and BCE-with-logits multiplies (1 - t) by
    the logit: at E = 0.001, y = 1, x = 1e4 the target's rounding alone moves the loss from
    5 to 4.99964 (1216 float32 ulps). Logits where that shows, against the intermediate
    scale of logit_scales."""
    x = np.array([1e4, -1e4, 80.0, -80.0, 17.0, -17.0, 3.0, -0.5], dtype=np.float32)
    y = np.array([1, 0, 1, 0, 1, 0, 1, 0])
    if task == "multilabel":  # each row pairs a telling logit with a mild one
        x = np.array([[1e4, 3.0], [80.0, -0.5], [-0.5, -80.0], [17.0, -17.0]], dtype=np.float32)
        y = np.array([[1, 1], [1, 0], [0, 0], [1, 0]])  # row 0: two 1s, never one-hot
        target = y.astype(np.float64)
    else:
        target = y[:, None].astype(np.float64)
    loss = keras.losses.BinaryCrossentropy(
        from_logits=True, label_smoothing=smoothing, reduction=None
    )
    want = to_numpy(loss(target, x if task == "multilabel" else x[:, None]))
    options = dict(compat="keras", input="logits", task=task, label_smoothing=smoothing)
    scale, mean_scale = logit_scales(x, (1 - smoothing) * y + smoothing / 2)
    form = f"BinaryCrossentropy({task}, logits, E={smoothing:g})"
    s = run(x, y, **options)
    mean_scale = max(want.mean(), mean_scale)
    agree("keras", form, s.mean_loss, want.mean(), F32_RTOL, scale=mean_scale, what="mean_loss")
    check_rows(
        "keras", form, x, y, want, np.ones(len(want), bool), F32_RTOL, scale=scale, **options
    )


# -- scikit-learn: log_loss -------------------------------------------------------------

SKLEARN = {
    "plain": {},
    "sample_weight": {"sw": True},
    "sum": {"reduction": "sum"},
    "sum+sample_weight": {"sw": True, "reduction": "sum"},
    "unnormalised": {"scale_rows": True},
}


def sk_probs(scores, kind, binary=False):
    """What a user hands log_loss: softmax/expit of logits, exp of log-probabilities,
    in the input's dtype."""
    if kind == "logits":
        return expit(scores) if binary else softmax(scores, axis=1)
    if kind == "logprobs":
        return np.exp(scores)
    return scores


def sk_loss(y, probs, labels, sw=None, reduction="mean"):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "do not sum to one"
        return log_loss(y, probs, sample_weight=sw, labels=labels, normalize=reduction == "mean")


def sk_rows(y, probs, labels, rows):
    """Per-sample losses from log_loss itself, one row at a time (it has no "none")."""
    return np.array(
        [sk_loss(y[i : i + 1], probs[i : i + 1], labels, reduction="sum") for i in rows]
    )


@pytest.mark.parametrize(
    ("kind", "variant"),
    combos(["probs", "logits", "logprobs"], SKLEARN, {"unnormalised": ["probs"]}),
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("k", [2, 3, 10])
@pytest.mark.parametrize("seed", SEEDS)
def test_sklearn_multiclass(seed, k, dtype, kind, variant):
    """log_loss(y, P, sample_weight=, labels=, normalize=) in the input's dtype: clip at its
    eps, no renormalising; logits through softmax, log-probabilities through exp."""
    v = SKLEARN[variant]
    rng = rng_for("sklearn", seed, k, kind, variant)
    n = size_for(seed, k + 3)
    y = rng.integers(0, k, n)
    z = make_logits(rng, n, k, extreme=seed == 1)
    p = make_probs(rng, z, y, wrong_ones=True)
    if v.get("scale_rows"):
        p[1::2] *= rng.choice([0.7, 0.9996], size=(len(p[1::2]), 1))
    scores = scores_of(kind, z, p if kind == "probs" else None, dtype)
    sw = rng.uniform(0.0, 3.0, n) if v.get("sw") else None
    if sw is not None:
        sw[0] = 1.0  # a positive total
    reduction = v.get("reduction", "mean")
    probs = sk_probs(scores, kind)
    assert probs.dtype == dtype
    labels = list(range(k))
    options = dict(compat="sklearn", input=kind, task="multiclass")
    s = run(scores, y, weights=sw, reduction=reduction, **options)
    rtol = rtol_for(dtype)
    form = f"log_loss/{kind}"
    agree_summary(
        "sklearn",
        form,
        s,
        sk_loss(y, probs, labels, sw),
        sk_loss(y, probs, labels, sw, "sum"),
        rtol,
        reduction,
    )
    rows = np.arange(min(n, 24))
    keys, each = run_rows(scores, y, **options)
    agree("sklearn", form, each[rows], sk_rows(y, probs, labels, rows), rtol, what="per-sample")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        log_loss(y, probs, labels=labels)
    if any("do not sum to one" in str(w.message) for w in caught):
        assert s.warnings, "log_loss warns that rows do not sum to one; xent says nothing"


@pytest.mark.parametrize("variant", ["plain", "sample_weight", "sum+sample_weight"])
@pytest.mark.parametrize("kind", ["probs", "logits", "logprobs"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_sklearn_binary(seed, dtype, kind, variant):
    """log_loss on a one-dimensional y_proba: the positive class, [1 - p, p] in its dtype."""
    v = SKLEARN[variant]
    rng = rng_for("sklearn-binary", seed, kind, variant)
    n = size_for(seed, 3)
    z, y, p = make_binary(rng, n, extreme=seed % 2 == 1, exact=True)
    scores = binary_scores(kind, z, p, dtype)
    sw = rng.uniform(0.0, 3.0, n) if v.get("sw") else None
    if sw is not None:
        sw[0] = 1.0
    reduction = v.get("reduction", "mean")
    probs = sk_probs(scores, kind, binary=True)
    assert probs.dtype == dtype
    options = dict(compat="sklearn", input=kind, task="binary")
    s = run(scores, y, weights=sw, reduction=reduction, **options)
    rtol = rtol_for(dtype)
    form = f"log_loss(binary)/{kind}"
    agree_summary(
        "sklearn",
        form,
        s,
        sk_loss(y, probs, [0, 1], sw),
        sk_loss(y, probs, [0, 1], sw, "sum"),
        rtol,
        reduction,
    )
    rows = np.arange(min(n, 24))
    keys, each = run_rows(scores, y, **options)
    agree("sklearn", form, each[rows], sk_rows(y, probs, [0, 1], rows), rtol, what="per-sample")


# -- xent's own rules, where a float64 peer shares them ---------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("k", [2, 3, 10])
@pytest.mark.parametrize("seed", SEEDS)
def test_xent_probs_match_sklearn(seed, k, dtype):
    """Default rules on probabilities: clip at the input dtype's eps, sum(w l) / sum(w):
    scikit-learn's log_loss on the float64 values (xent computes in float64), exact
    0s and 1s included."""
    rng = rng_for("xent-sklearn", seed, k, dtype)
    n = size_for(seed, k)
    y = rng.integers(0, k, n)
    given = make_probs(rng, make_logits(rng, n, k, seed == 1), y, wrong_ones=True).astype(dtype)
    sw = rng.uniform(0.0, 3.0, n)
    sw[0] = 1.0
    # xent: float64 arithmetic, rows renormalised, clipped at the input dtype's eps
    p = given.astype(np.float64)
    p = p / p.sum(axis=1, keepdims=True)
    eps = np.finfo(dtype).eps
    want_p = np.clip(p, eps, 1 - eps)
    s = run(given, y, weights=sw, input="probs", task="multiclass")
    assert s.compat == "xent"
    # float32 input: renormalise-then-clip or clip-then-renormalise moves a loss by an
    # ulp of float32, so float32's tolerance there
    rtol = rtol_for(dtype)
    mean = sk_loss(y, want_p, list(range(k)), sw)
    total = sk_loss(y, want_p, list(range(k)), sw, "sum")
    agree_summary("xent~sklearn", "log_loss/probs", s, mean, total, rtol)


@pytest.mark.parametrize(
    "variant", ["weight", "weight+smooth", "ignore-100", "ignore1+weight+smooth"]
)
@pytest.mark.parametrize("k", [2, 3, 10])
@pytest.mark.parametrize("seed", SEEDS)
def test_xent_class_weights_match_torch(seed, k, variant):
    """Default rules on logits with class weights, smoothing and ignore: CrossEntropyLoss
    in float64 (sum(w[y] l) / sum(w[y]); smoothing as PyTorch's)."""
    v = TORCH_HARD[variant]
    rng = rng_for("xent-torch", seed, k, variant)
    n = size_for(seed, k + 1)
    y = rng.integers(0, k, n)
    z = make_logits(rng, n, k, extreme=seed == 1)
    ignore = v.get("ignore")
    labels = y.copy()
    if ignore == -100:
        labels[1:][rng.random(n - 1) < 0.25] = -100
    elif ignore is not None:
        labels[0] = 0
    weight = rng.uniform(0.2, 3.0, k) if v.get("cw") else None
    smoothing = v.get("smooth", 0.0)
    options = dict(input="logits", task="multiclass", label_smoothing=smoothing)
    if ignore is not None:
        options["ignore_label"] = ignore
    if weight is not None:
        options["class_weights"] = class_weight_dict(weight)
    s = run(z, labels, **options)
    mean = torch_hard(z, labels, "logits", weight, smoothing, ignore, "mean")
    total = torch_hard(z, labels, "logits", weight, smoothing, ignore, "sum")
    agree_summary("xent~torch", "CrossEntropyLoss/logits", s, mean, total, F64_RTOL)


@pytest.mark.parametrize("kind", ["logits", "probs"])
@pytest.mark.parametrize("k", [2, 3, 10])
@pytest.mark.parametrize("seed", SEEDS)
def test_xent_multilabel_matches_torch(seed, k, kind):
    """Default multilabel rule (each label's term times its weight, over all terms; pos_weight
    as PyTorch's) = BCEWithLogitsLoss / BCELoss in float64. A sample's loss is the mean over
    its labels, so xent's sum is PyTorch's sum over k. Probability rows of a multilabel
    problem need not sum to 1 (kept away from xent's clip at eps here)."""
    rng = rng_for("xent-ml", seed, k, kind)
    n = size_for(seed, k)
    z = make_logits(rng, n, k, extreme=seed == 1 and kind == "logits")
    t = make_multilabel(rng, n, k)
    w = rng.uniform(0.2, 3.0, k)
    target, wt = torch.from_numpy(t), torch.from_numpy(w)
    if kind == "logits":
        s = run(
            z,
            t,
            input="logits",
            task="multilabel",
            class_weights=class_weight_dict(w),
            pos_weight=1.7,
        )
        pw = torch.full((k,), 1.7, dtype=torch.float64)

        def peer(red):
            return F.binary_cross_entropy_with_logits(
                torch.from_numpy(z), target, weight=wt, pos_weight=pw, reduction=red
            ).item()
    else:
        p = np.clip(expit(z), 1e-3, 1 - 1e-3)
        s = run(p, t, input="probs", task="multilabel", class_weights=class_weight_dict(w))

        def peer(red):
            return F.binary_cross_entropy(
                torch.from_numpy(p), target, weight=wt, reduction=red
            ).item()

    form = "BCEWithLogitsLoss(multilabel)" if kind == "logits" else "BCELoss(multilabel)"
    agree_summary("xent~torch", form, s, peer("mean"), peer("sum") / k, F64_RTOL)


@pytest.mark.parametrize("seed", SEEDS)
def test_xent_binary_rules_match_torch(seed):
    """Default binary rules: smoothing (1 - E) y + E / 2 = BCEWithLogitsLoss on that target;
    class weights the hard-label rule sum(w[y] l) / sum(w[y]) = CrossEntropyLoss(weight=) on
    the logit as two classes [0, z]; both in float64."""
    rng = rng_for("xent-binary", seed)
    n = size_for(seed, 1) + 3
    z = make_binary(rng, n, extreme=seed == 1, exact=False)[0]
    y = rng.integers(0, 2, n)
    x = torch.from_numpy(z)
    s = run(z, y, input="logits", task="binary", label_smoothing=0.2)
    smoothed = torch.from_numpy(0.8 * y + 0.1)
    mean = F.binary_cross_entropy_with_logits(x, smoothed).item()
    total = F.binary_cross_entropy_with_logits(x, smoothed, reduction="sum").item()
    agree_summary("xent~torch", "BCEWithLogitsLoss(smoothed)", s, mean, total, F64_RTOL)

    w = rng.uniform(0.2, 3.0, 2)
    s = run(z, y, input="logits", task="binary", class_weights=class_weight_dict(w))
    two = torch.stack([torch.zeros_like(x), x], dim=1)
    wt, target = torch.from_numpy(w), torch.from_numpy(y)
    mean = F.cross_entropy(two, target, weight=wt).item()
    total = F.cross_entropy(two, target, weight=wt, reduction="sum").item()
    agree_summary("xent~torch", "CrossEntropyLoss[0,z]", s, mean, total, F64_RTOL)


@pytest.mark.parametrize("seed", SEEDS)
def test_soft_class_weights_divisor_xent_vs_torch(seed):
    """Soft labels with class weights: xent divides by sum_n sum_c w_c t_nc, PyTorch (and
    --compat torch) by N; the weighted sums are the same."""
    rng = rng_for("soft-divisor", seed)
    n, k = 40, 4
    z = make_logits(rng, n, k, extreme=False)
    t = make_soft(rng, n, k)
    w = rng.uniform(0.2, 3.0, k)
    cw = class_weight_dict(w)
    mine = run(z, t, input="logits", task="multiclass", class_weights=cw)
    theirs = run(z, t, input="logits", task="multiclass", class_weights=cw, compat="torch")
    x, target, wt = torch.from_numpy(z), torch.from_numpy(t), torch.from_numpy(w)
    total = F.cross_entropy(x, target, weight=wt, reduction="sum").item()
    agree("xent~torch", "CrossEntropyLoss(soft)", mine.sum_loss, total, F64_RTOL, scale=n)
    agree("xent~torch", "CrossEntropyLoss(soft)", mine.mean_loss, total / (t @ w).sum(), F64_RTOL)
    agree("torch", "CrossEntropyLoss(soft)/logits", theirs.mean_loss, total / n, F64_RTOL)
    assert (t @ w).sum() != pytest.approx(n)  # the two rules really differ here


# -- the documented differences, pinned -------------------------------------------------


def test_pinned_constants():
    """The figures the docs quote, from their definitions."""
    assert round(SKLEARN_F64_ZERO, 6) == 36.043653
    assert round(SKLEARN_F32_ZERO, 6) == 15.942385
    assert round(KERAS_ZERO, 6) == 16.118096  # 16.11809564: the "16.118095" quoted, rounded
    assert KERAS_ONE == SKLEARN_F32_ZERO


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_zero_probability_of_the_truth(dtype):
    """p_true = 0 costs 36.043653 nats under sklearn float64, 15.942385 under sklearn
    float32, 16.118095 under keras (either dtype), 100 under torch BCELoss, inf under torch
    NLLLoss(log p) — from xent under the preset and from the peer, in the same test."""
    p = np.array([[0.0, 1.0, 0.0], [0.2, 0.3, 0.5]], dtype=dtype)
    y = np.array([0, 2])
    rest = -math.log(float(np.float64(dtype(0.5))))  # the second row's loss

    def xent(compat, scores=p, labels=y, **kw):
        kw.setdefault("task", "multiclass" if np.ndim(scores) == 2 else "binary")
        return run(scores, labels, compat=compat, input="probs", reduction="sum", **kw).sum_loss

    # scikit-learn: the dtype's eps
    zero = SKLEARN_F64_ZERO if dtype == np.float64 else SKLEARN_F32_ZERO
    peer = sk_loss(y, p, [0, 1, 2], reduction="sum")
    assert peer == pytest.approx(zero + rest, rel=1e-7)
    assert xent("sklearn") == pytest.approx(peer, rel=rtol_for(dtype))
    # Keras: 1e-7 whatever the dtype
    sparse = keras.losses.SparseCategoricalCrossentropy(reduction="sum")
    peer = float(to_numpy(sparse(y, p)))
    assert peer == pytest.approx(KERAS_ZERO + rest, rel=F32_RTOL)
    assert xent("keras") == pytest.approx(peer, rel=F32_RTOL)
    # PyTorch NLLLoss(log p): inf
    peer = F.nll_loss(torch.log(torch.from_numpy(p)), torch.from_numpy(y), reduction="sum").item()
    assert peer == math.inf
    assert xent("torch") == math.inf
    s = run(p, y, compat="torch", input="probs", task="multiclass")
    assert s.mean_loss == math.inf and s.loss == math.inf

    # binary: p = 0 with y = 1 and p = 1 with y = 0
    pb, yb = np.array([0.0, 1.0], dtype=dtype), np.array([1, 0])
    bce = F.binary_cross_entropy(
        torch.from_numpy(pb), torch.from_numpy(yb).to(torch.from_numpy(pb).dtype), reduction="none"
    )
    assert bce.tolist() == [TORCH_BCE_ZERO, TORCH_BCE_ZERO]
    assert xent("torch", pb, yb) == 2 * TORCH_BCE_ZERO
    keras_bce = keras.losses.BinaryCrossentropy(reduction=None)
    peer = to_numpy(keras_bce(yb[:, None].astype(np.float32), pb[:, None]))
    # Keras is not symmetric: 1e-7 is kept, 1 - 1e-7 rounds to 1 - 2**-23 in float32
    assert peer.tolist() == pytest.approx([KERAS_ZERO, KERAS_ONE], rel=F32_RTOL)
    assert xent("keras", pb, yb) == pytest.approx(KERAS_ZERO + KERAS_ONE, rel=F32_RTOL)
    peer = sk_loss(yb, pb, [0, 1], reduction="sum")
    assert peer == pytest.approx(2 * zero, rel=1e-7)
    assert xent("sklearn", pb, yb) == pytest.approx(peer, rel=rtol_for(dtype))
    # xent's own rule: the input dtype's eps, as scikit-learn
    assert xent("xent") == pytest.approx(zero + rest, rel=rtol_for(dtype))  # row 2 renormalised
    assert xent("xent", pb, yb) == pytest.approx(2 * zero, rel=1e-12)


def test_extreme_logits_under_each_preset():
    """Logits of +-1e4: exact under torch and keras (from_logits), clipped at eps after
    softmax under sklearn (36.043653 in float64, 15.942385 in float32)."""
    z = np.array([[1e4, -1e4, 0.0], [-80.0, 80.0, 0.0]])
    y = np.array([1, 0])
    for dtype, zero in ((np.float64, SKLEARN_F64_ZERO), (np.float32, SKLEARN_F32_ZERO)):
        x = z.astype(dtype)
        kw = dict(input="logits", task="multiclass", reduction="sum")
        peer = F.cross_entropy(torch.from_numpy(x), torch.from_numpy(y), reduction="sum").item()
        assert peer == pytest.approx(2e4 + 160, rel=1e-7)
        assert run(x, y, compat="torch", **kw).sum_loss == pytest.approx(peer, rel=rtol_for(dtype))
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="sum")
        peer = float(to_numpy(loss(y, x)))
        assert run(x, y, compat="keras", **kw).sum_loss == pytest.approx(peer, rel=F32_RTOL)
        peer = sk_loss(y, softmax(x, axis=1), [0, 1, 2], reduction="sum")
        assert sk_loss(y[:1], softmax(x[:1], axis=1), [0, 1, 2]) == pytest.approx(zero, rel=1e-7)
        agree(
            "sklearn",
            "log_loss/logits",
            run(x, y, compat="sklearn", **kw).sum_loss,
            peer,
            rtol_for(dtype),
        )
        assert run(x, y, **kw).sum_loss == pytest.approx(2e4 + 160, rel=1e-15)


# -- what a preset lacks is an error ----------------------------------------------------

Z3 = np.array([[0.5, -1.0, 2.0], [1.0, 0.0, -1.0], [0.1, 0.2, 0.3]])
Y3 = np.array([2, 0, 1])
T3 = softmax(np.array([[1.0, 0.0, 0.0], [0.0, 2.0, 1.0], [0.5, 0.5, 3.0]]), axis=1)
M3 = np.array([[1.0, 1.0, 0.0], [0.0, 1.0, 1.0], [0.0, 0.0, 0.0]])
ZB = np.array([0.5, -2.0, 3.0])
YB = np.array([1, 0, 1])
W3 = np.array([1.0, 2.0, 0.5])
CW3 = {"0": 1.0, "1": 2.0, "2": 0.5}
CWB = {"0": 1.0, "1": 3.0}

MISSING = {
    # PyTorch: no per-sample weights; no smoothing, ignore or class weights... for BCE
    "torch weights": ("torch", Z3, Y3, dict(weights=W3)),
    "torch weights binary": ("torch", ZB, YB, dict(weights=W3, task="binary")),
    "torch smoothing binary": ("torch", ZB, YB, dict(label_smoothing=0.1, task="binary")),
    "torch smoothing multilabel": ("torch", Z3, M3, dict(label_smoothing=0.1, task="multilabel")),
    "torch ignore binary": ("torch", ZB, YB, dict(ignore_label=0, task="binary")),
    "torch pos_weight probs": (
        "torch",
        expit(ZB),
        YB,
        dict(pos_weight=2.0, input="probs", task="binary"),
    ),
    # Keras: no class weights, no pos_weight, ignore_class only in the sparse loss
    "keras class_weights": ("keras", Z3, Y3, dict(class_weights=CW3)),
    "keras class_weights binary": ("keras", ZB, YB, dict(class_weights=CWB, task="binary")),
    "keras pos_weight": ("keras", ZB, YB, dict(pos_weight=2.0, task="binary")),
    "keras pos_weight multilabel": ("keras", Z3, M3, dict(pos_weight=2.0, task="multilabel")),
    "keras ignore binary": ("keras", ZB, YB, dict(ignore_label=0, task="binary")),
    "keras ignore+smoothing": ("keras", Z3, Y3, dict(ignore_label=1, label_smoothing=0.1)),
    # scikit-learn: log_loss(y, P, sample_weight, labels, normalize) and nothing else
    "sklearn soft": ("sklearn", softmax(Z3, axis=1), T3, dict(input="probs", task="multiclass")),
    "sklearn multilabel": ("sklearn", expit(Z3), M3, dict(input="probs", task="multilabel")),
    "sklearn class_weights": ("sklearn", Z3, Y3, dict(class_weights=CW3)),
    "sklearn pos_weight": ("sklearn", ZB, YB, dict(pos_weight=2.0, task="binary")),
    "sklearn smoothing": ("sklearn", Z3, Y3, dict(label_smoothing=0.1)),
    "sklearn ignore": ("sklearn", Z3, Y3, dict(ignore_label=1)),
}


@pytest.mark.parametrize("case", list(MISSING))
def test_option_the_preset_lacks_is_an_error(case):
    compat, scores, labels, kw = MISSING[case]
    kw = dict(kw)
    weights = kw.pop("weights", None)
    kw.setdefault("input", "logits")
    kw.setdefault("task", "multiclass" if np.ndim(labels) == 1 else "auto")
    with pytest.raises(XentError):
        run(scores, labels, weights=weights, compat=compat, **kw)
    run(scores, labels, weights=weights, **kw)  # the same options are fine under xent


def test_cli_exit_2_for_a_missing_option(tmp_path):
    from click.testing import CliRunner

    from xentcli.cli import cli

    path = tmp_path / "preds.csv"
    path.write_text("a,b,label\n2.0,-1.0,a\n0.5,0.5,b\n")
    args = ["score", str(path), "--class-weights", "a=2,b=1", "--json"]
    for compat, code in (("torch", 0), ("keras", 2)):
        result = CliRunner().invoke(cli, [*args, "--compat", compat], prog_name="xent")
        assert result.exit_code == code, result.output
    assert "Error:" in result.output and "Traceback" not in result.output


def test_log_base_under_a_preset():
    """The preset's nats, converted: bits are nats / ln 2, per sample too."""
    z = np.array([[2.0, -1.0, 0.5], [0.0, 3.0, -2.0]], dtype=np.float32)
    y = np.array([2, 0])
    options = dict(compat="torch", input="logits", task="multiclass", log_base="2")
    s = run(z, y, **options)
    peer = F.cross_entropy(torch.from_numpy(z), torch.from_numpy(y), reduction="none").double()
    agree("torch", "CrossEntropyLoss/logits", s.mean_loss, peer.mean().item() / LN2, F32_RTOL)
    keys, each = run_rows(z, y, **options)
    agree("torch", "CrossEntropyLoss/logits", each, peer.numpy() / LN2, F32_RTOL)
