"""The loss conventions of ``xent score``: weights, smoothing, ignoring, dropping, label
columns (soft, one-hot, multilabel) and ``--compat`` presets, through the command line.

SPEC "Computation" and "Outputs". Every happy path is checked against an independent
reference computed here without xent: PyTorch's ``cross_entropy`` /
``binary_cross_entropy_with_logits`` in float64 (``weight=``, ``pos_weight=``,
``ignore_index=``, ``label_smoothing=``, soft targets), scikit-learn's ``log_loss``
(``sample_weight=``), or a closed form; to 1e-12 relative on float64 data. The one
exception is ``--compat keras``, whose arithmetic is float32 by SPEC: it is held to a
float32 reference at float32 precision.

Bad inputs must exit 2 with one ``Error:`` line naming the problem (and the file,
column and row where it applies) and must leave no ``--output`` file behind.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch
import torch.nn.functional as F
from click.testing import CliRunner, Result
from sklearn.metrics import log_loss

from xentcli.cli import cli

REL = 1e-12
ABS = 1e-15  # a floor for per-sample losses near 0, where any two formulas part in ulps
F32 = 1e-6  # float32 arithmetic (--compat keras)

# -- data ------------------------------------------------------------------------------

CLASSES = ("cat", "dog", "cow")
PCOLS = [f"p_{c}" for c in CLASSES]
LCOLS = [f"logit_{c}" for c in CLASSES]  # logits are named so: a p_ column holds probabilities
K = len(CLASSES)
N = 30

_rng = np.random.default_rng(20240611)
LOGITS = _rng.normal(0.0, 1.5, size=(N, K))
Y = _rng.integers(0, K, size=N)
Y[:K] = np.arange(K)  # every class present
W = _rng.uniform(0.2, 3.0, size=N)
SOFT = _rng.dirichlet(np.ones(K), size=N)
BIN_Z = _rng.normal(0.0, 2.0, size=N)
BIN_Y = _rng.integers(0, 2, size=N)
BIN_Y[:2] = [0, 1]
ML_Z = _rng.normal(0.0, 2.0, size=(N, K))
ML_Y = _rng.integers(0, 2, size=(N, K))
ML_Y[:2] = [[1, 1, 0], [0, 0, 0]]  # rows with two 1s and none: multilabel, not one-hot
NAMES = [CLASSES[i] for i in Y]
CLASS_W = np.array([2.0, 0.5, 1.0])  # cat=2, dog=0.5, cow (not named) = 1
CLASS_W_SPEC = "cat=2,dog=0.5"


def named_for(scores: np.ndarray) -> list[str]:
    """Prediction columns named for what they hold: ``p_*`` for probabilities, else
    ``logit_*`` (SPEC: a column's name is evidence of its input kind)."""
    return PCOLS if bool(np.all((scores >= 0) & (scores <= 1))) else LCOLS


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


PROBS = _softmax(LOGITS)
BIN_P = 1.0 / (1.0 + np.exp(-BIN_Z))


# -- references (no xent) --------------------------------------------------------------


def t64(values: Any) -> torch.Tensor:
    return torch.tensor(np.asarray(values, dtype=np.float64), dtype=torch.float64)


def ce(logits: np.ndarray, target: np.ndarray, *, reduction: str = "none", **kwargs: Any) -> Any:
    """``F.cross_entropy`` in float64: hard (integer) or soft (float) targets."""
    target = np.asarray(target)
    tt = (
        torch.tensor(target, dtype=torch.int64)
        if np.issubdtype(target.dtype, np.integer)
        else t64(target)
    )
    if kwargs.get("weight") is not None:
        kwargs["weight"] = t64(kwargs["weight"])
    out = F.cross_entropy(t64(logits), tt, reduction=reduction, **kwargs)
    return out.numpy() if reduction == "none" else float(out)


def bce(logits: np.ndarray, target: np.ndarray, *, reduction: str = "none", **kwargs: Any) -> Any:
    """``F.binary_cross_entropy_with_logits`` in float64."""
    for key in ("weight", "pos_weight"):
        if kwargs.get(key) is not None:
            kwargs[key] = t64(kwargs[key])
    out = F.binary_cross_entropy_with_logits(
        t64(logits), t64(target), reduction=reduction, **kwargs
    )
    return out.numpy() if reduction == "none" else float(out)


# -- running xent ----------------------------------------------------------------------


def xent(*args: str, catch: bool = False) -> Result:
    return CliRunner().invoke(cli, ["score", *args], prog_name="xent", catch_exceptions=catch)


def report(*args: str) -> dict[str, Any]:
    result = xent(*args, "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout, parse_constant=_refuse)


def _refuse(name: str) -> Any:
    raise ValueError(f"not strict JSON: {name}")


def close(value: float, expected: float, rel: float = REL) -> None:
    assert value == pytest.approx(expected, rel=rel, abs=0), (value, expected)


def assert_figures(
    data: dict[str, Any],
    *,
    mean: float,
    total: float,
    n: int = N,
    rel: float = REL,
    dropped: int = 0,
    ignored: int = 0,
) -> None:
    """The headline figures: n_samples, mean and sum (loss is the mean), counts."""
    assert data["n_samples"] == n
    close(data["mean_loss"], mean, rel)
    close(data["sum_loss"], total, rel)
    close(data["loss"], mean if data["reduction"] == "mean" else total, rel)
    assert data["dropped"] == dropped
    assert data["ignored"] == ignored
    assert isinstance(data["rules"], dict) and data["rules"]


def per_sample(path: Path | str) -> list[dict[str, str]]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def assert_per_sample_losses(
    rows: list[dict[str, str]],
    losses: np.ndarray,
    *,
    keys: list[str] | None = None,
    weights: np.ndarray | None = None,
    key: str = "row",
) -> None:
    assert len(rows) == len(losses)
    if keys is None:
        keys = [str(i) for i in range(len(losses))]
    assert [r[key] for r in rows] == keys
    for row, expected in zip(rows, losses, strict=True):
        assert float(row["loss"]) == pytest.approx(float(expected), rel=REL, abs=ABS)
    if weights is None:
        assert "weight" not in rows[0]
    else:
        got = np.array([float(r["weight"]) for r in rows])
        np.testing.assert_allclose(got, weights, rtol=REL, atol=0)


def save(frame: pd.DataFrame, path: Path | str) -> str:
    path = Path(path)
    if path.suffix == ".parquet":
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)
    else:
        frame.to_csv(path, index=False)
    return str(path.name)


def frame(values: np.ndarray, columns: list[str] | tuple[str, ...], **extra: Any) -> pd.DataFrame:
    out = pd.DataFrame(np.asarray(values), columns=list(columns))
    for name, column in extra.items():
        out[name] = list(column)
    return out


@pytest.fixture()
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run in a fresh folder so that file names in messages are short and known."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def multiclass_files(
    *,
    scores: np.ndarray = LOGITS,
    labels: list[Any] | None = None,
    preds_extra: dict[str, Any] | None = None,
    labels_extra: dict[str, Any] | None = None,
) -> tuple[str, str]:
    """preds.csv (logit_cat .. logit_cow, or p_cat .. for probabilities; + extra) and
    labels.csv (label + extra)."""
    save(frame(scores, named_for(scores), **(preds_extra or {})), "preds.csv")
    lab = pd.DataFrame({"label": list(NAMES if labels is None else labels)})
    for name, column in (labels_extra or {}).items():
        lab[name] = list(column)
    save(lab, "labels.csv")
    return "preds.csv", "labels.csv"


# == sample weights =====================================================================


def test_weight_col_in_preds(work: Path) -> None:
    preds, labels = multiclass_files(preds_extra={"w": W})
    data = report(preds, labels, "--weight-col", "w", "--per-sample", "ps.csv")
    losses = ce(LOGITS, Y)
    assert_figures(data, mean=float(W @ losses / W.sum()), total=float(W @ losses))
    assert data["task"] == "multiclass" and data["target"] == "hard"
    assert data["classes"] == list(CLASSES)  # w is not a prediction column
    assert "weights:sample(w)" in data["signature"]
    assert "compat:xent" in data["signature"]
    assert data["rules"]["sample weights"] == "sum(w l) / sum(w)"
    assert_per_sample_losses(per_sample("ps.csv"), losses, weights=W)


def test_weight_col_in_labels(work: Path) -> None:
    preds, labels = multiclass_files(labels_extra={"wt": W})
    data = report(preds, labels, "--weight-col", "wt")
    losses = ce(LOGITS, Y)
    assert_figures(data, mean=float(W @ losses / W.sum()), total=float(W @ losses))
    assert "weights:sample(wt)" in data["signature"]


def test_weight_col_matches_sklearn_on_probabilities(work: Path) -> None:
    preds, labels = multiclass_files(scores=PROBS, preds_extra={"w": W})
    data = report(preds, labels, "--weight-col", "w")
    expected = log_loss(Y, PROBS, sample_weight=W, labels=[0, 1, 2])
    assert data["input"] == "probs"
    losses = -np.log(PROBS[np.arange(N), Y])
    assert_figures(data, mean=expected, total=float(W @ losses))


def test_weight_col_in_labels_joined_on_id(work: Path) -> None:
    ids = [f"r{i:02d}" for i in range(N)]
    order = np.random.default_rng(5).permutation(N)
    save(frame(LOGITS, LCOLS, id=ids), "preds.csv")
    save(
        pd.DataFrame(
            {"id": [ids[i] for i in order], "label": [NAMES[i] for i in order], "w": W[order]}
        ),
        "labels.csv",
    )
    data = report(
        "preds.csv", "labels.csv", "--id-col", "id", "--weight-col", "w", "--per-sample", "ps.csv"
    )
    losses = ce(LOGITS, Y)
    assert_figures(data, mean=float(W @ losses / W.sum()), total=float(W @ losses))
    assert_per_sample_losses(per_sample("ps.csv"), losses, keys=ids, key="id", weights=W)


# == class weights ======================================================================


@pytest.mark.parametrize(
    "spec",
    [CLASS_W_SPEC, "logit_cat=2,logit_dog=0.5", " cat = 2 , dog=0.5 ", "file"],
    ids=["class-names", "column-names", "spaces", "file"],
)
def test_class_weights(work: Path, spec: str) -> None:
    preds, labels = multiclass_files()
    if spec == "file":
        (work / "cw.csv").write_text("class,weight\ncat,2\ndog,0.5\n")
        spec = "cw.csv"
    data = report(preds, labels, "--class-weights", spec)
    mean = ce(LOGITS, Y, weight=CLASS_W, reduction="mean")
    total = ce(LOGITS, Y, weight=CLASS_W, reduction="sum")
    assert_figures(data, mean=mean, total=total)
    # pinned by class name, every class, however they were given
    assert "weights:class(cat=2;cow=1;dog=0.5)" in data["signature"]


def test_class_weights_file_without_header(work: Path) -> None:
    preds, labels = multiclass_files()
    (work / "cw.csv").write_text("cat,2\ndog,0.5\n")
    data = report(preds, labels, "--class-weights", "cw.csv")
    close(data["loss"], ce(LOGITS, Y, weight=CLASS_W, reduction="mean"))


def test_sample_and_class_weights_with_smoothing(work: Path) -> None:
    preds, labels = multiclass_files(preds_extra={"w": W})
    data = report(
        preds,
        labels,
        "--weight-col",
        "w",
        "--class-weights",
        CLASS_W_SPEC,
        "--label-smoothing",
        "0.1",
        "--per-sample",
        "ps.csv",
    )
    # PyTorch's numerator per row: (1-E) w[y] l_y + E/K sum_c w_c l_c; divisor w[y].
    numerator = ce(LOGITS, Y, weight=CLASS_W, label_smoothing=0.1)
    mean = float(W @ numerator / (W @ CLASS_W[Y]))
    assert_figures(data, mean=mean, total=float(W @ numerator))
    sig = data["signature"]
    assert "smooth:0.1" in sig
    assert "weights:sample(w)+class(cat=2;cow=1;dog=0.5)" in sig
    # per-sample: smoothing applied, weights not; the weight column is w times w[y]
    assert_per_sample_losses(
        per_sample("ps.csv"), ce(LOGITS, Y, label_smoothing=0.1), weights=W * CLASS_W[Y]
    )


def test_class_weights_only_per_sample_weight_column(work: Path) -> None:
    preds, labels = multiclass_files()
    report(preds, labels, "--class-weights", CLASS_W_SPEC, "--per-sample", "ps.csv")
    assert_per_sample_losses(per_sample("ps.csv"), ce(LOGITS, Y), weights=CLASS_W[Y])


def test_reduction_sum_with_weights(work: Path) -> None:
    preds, labels = multiclass_files(preds_extra={"w": W})
    data = report(
        preds,
        labels,
        "--weight-col",
        "w",
        "--class-weights",
        CLASS_W_SPEC,
        "--reduction",
        "sum",
    )
    numerator = ce(LOGITS, Y, weight=CLASS_W)
    total = float(W @ numerator)
    assert data["reduction"] == "sum"
    assert_figures(data, mean=total / float(W @ CLASS_W[Y]), total=total)
    close(data["loss"], total)
    assert "reduction:sum" in data["signature"]


def test_reduction_sum_with_class_weights_is_torch_sum(work: Path) -> None:
    preds, labels = multiclass_files()
    data = report(preds, labels, "--class-weights", CLASS_W_SPEC, "--reduction", "sum")
    close(data["loss"], ce(LOGITS, Y, weight=CLASS_W, reduction="sum"))


# == label smoothing ====================================================================


def test_log_base_2_with_smoothing(work: Path) -> None:
    preds, labels = multiclass_files()
    data = report(
        preds, labels, "--label-smoothing", "0.2", "--log-base", "2", "--per-sample", "ps.csv"
    )
    nats = ce(LOGITS, Y, label_smoothing=0.2)
    assert_figures(
        data, mean=float(nats.mean()) / math.log(2), total=float(nats.sum()) / math.log(2)
    )
    close(data["perplexity"], math.exp(float(nats.mean())))
    assert data["log_base"] == "2"
    assert "smooth:0.2" in data["signature"] and "base:2" in data["signature"]
    assert_per_sample_losses(per_sample("ps.csv"), nats / math.log(2))


def test_smoothing_on_probabilities_with_per_class(work: Path) -> None:
    preds, labels = multiclass_files(scores=PROBS)
    data = report(preds, labels, "--label-smoothing", "0.1")
    losses = ce(np.log(PROBS), Y, label_smoothing=0.1)
    assert data["input"] == "probs"
    assert_figures(data, mean=float(losses.mean()), total=float(losses.sum()))
    pred = PROBS.argmax(axis=1)
    for c, entry in enumerate(data["per_class"]):
        rows = c == Y
        assert entry["class"] == CLASSES[c]
        assert entry["n"] == int(rows.sum())
        close(entry["mean_loss"], float(losses[rows].mean()))
        assert entry["accuracy"] == pytest.approx(float((pred[rows] == c).mean()), rel=REL)
    assert data["accuracy"] == pytest.approx(float((pred == Y).mean()), rel=REL)


def test_label_smoothing_zero_signature(work: Path) -> None:
    preds, labels = multiclass_files()
    data = report(preds, labels)
    assert "smooth:0|" in data["signature"] and "weights:none" in data["signature"]


# == binary =============================================================================


def binary_files(scores: np.ndarray = BIN_Z, labels: np.ndarray = BIN_Y) -> tuple[str, str]:
    save(pd.DataFrame({named_for(scores)[0].replace("cat", "yes"): scores}), "preds.csv")
    save(pd.DataFrame({"label": labels}), "labels.csv")
    return "preds.csv", "labels.csv"


def test_binary_pos_weight(work: Path) -> None:
    preds, labels = binary_files()
    data = report(preds, labels, "--pos-weight", "3")
    losses = bce(BIN_Z, BIN_Y, pos_weight=[3.0])
    assert data["task"] == "binary" and data["input"] == "logits"
    assert_figures(data, mean=float(losses.mean()), total=float(losses.sum()))
    assert "weights:pos(3)" in data["signature"]


@pytest.mark.parametrize("spec", ["0=1,1=3", "false=1,true=3", "1=3"])
def test_binary_class_weights(work: Path, spec: str) -> None:
    preds, labels = binary_files()
    data = report(preds, labels, "--class-weights", spec, "--per-sample", "ps.csv")
    losses = bce(BIN_Z, BIN_Y)
    w = np.array([1.0, 3.0])[BIN_Y]
    assert_figures(data, mean=float(w @ losses / w.sum()), total=float(w @ losses))
    assert_per_sample_losses(per_sample("ps.csv"), losses, weights=w)


def test_binary_class_weights_match_torch_two_class_form(work: Path) -> None:
    """SPEC's rule for binary class weights is PyTorch's on the same logit as [0, z]."""
    preds, labels = binary_files()
    data = report(preds, labels, "--class-weights", "0=0.5,1=2")
    two = np.stack([np.zeros(N), BIN_Z], axis=1)
    close(data["loss"], ce(two, BIN_Y, weight=[0.5, 2.0], reduction="mean"))


def test_binary_label_smoothing(work: Path) -> None:
    preds, labels = binary_files()
    data = report(preds, labels, "--label-smoothing", "0.1", "--per-sample", "ps.csv")
    target = 0.9 * BIN_Y + 0.05
    losses = bce(BIN_Z, target)
    assert_figures(data, mean=float(losses.mean()), total=float(losses.sum()))
    assert_per_sample_losses(per_sample("ps.csv"), losses)


def test_binary_smoothing_on_probabilities(work: Path) -> None:
    preds, labels = binary_files(scores=BIN_P)
    data = report(preds, labels, "--label-smoothing", "0.2")
    t = 0.8 * BIN_Y + 0.1
    losses = -(t * np.log(BIN_P) + (1 - t) * np.log1p(-BIN_P))
    assert data["input"] == "probs"
    assert_figures(data, mean=float(losses.mean()), total=float(losses.sum()))


def test_binary_pos_weight_and_sample_weights(work: Path) -> None:
    save(pd.DataFrame({"logit_yes": BIN_Z, "w": W}), "preds.csv")
    save(pd.DataFrame({"label": BIN_Y}), "labels.csv")
    data = report("preds.csv", "labels.csv", "--pos-weight", "2.5", "--weight-col", "w")
    losses = bce(BIN_Z, BIN_Y, pos_weight=[2.5])
    assert_figures(data, mean=float(W @ losses / W.sum()), total=float(W @ losses))
    assert "weights:sample(w)+pos(2.5)" in data["signature"]


# == soft labels and label columns ======================================================


@pytest.mark.parametrize("names", ["same", "plain", "y_"])
def test_soft_labels(work: Path, names: str) -> None:
    columns = {"same": PCOLS, "plain": list(CLASSES), "y_": [f"y_{c}" for c in CLASSES]}[names]
    save(frame(LOGITS, LCOLS), "preds.csv")
    save(frame(SOFT, columns), "labels.csv")
    data = report("preds.csv", "labels.csv", "--per-sample", "ps.csv")
    losses = ce(LOGITS, SOFT)
    assert data["target"] == "soft" and data["task"] == "multiclass"
    assert_figures(data, mean=float(losses.mean()), total=float(losses.sum()))
    assert "target:soft" in data["signature"]
    assert_per_sample_losses(per_sample("ps.csv"), losses)


def test_soft_labels_in_shuffled_file_joined_on_id(work: Path) -> None:
    ids = [f"k{i:03d}" for i in range(N)]
    save(frame(LOGITS, LCOLS, id=ids), "preds.csv")
    save(frame(SOFT, list(CLASSES)), "labels.csv")
    order = np.random.default_rng(9).permutation(N)
    save(frame(SOFT[order], list(CLASSES), id=[ids[i] for i in order]), "shuffled.csv")
    save(frame(LOGITS, LCOLS), "plain.csv")
    joined = report("preds.csv", "shuffled.csv", "--id-col", "id", "--per-sample", "ps.csv")
    positional = report("plain.csv", "labels.csv")
    losses = ce(LOGITS, SOFT)
    assert_figures(joined, mean=float(losses.mean()), total=float(losses.sum()))
    for key in ("loss", "mean_loss", "sum_loss", "n_samples", "target", "task", "accuracy"):
        assert joined[key] == positional[key], key
    assert joined["unmatched_labels"] == 0
    assert_per_sample_losses(per_sample("ps.csv"), losses, keys=ids, key="id")


def test_soft_labels_with_class_weights(work: Path) -> None:
    save(frame(LOGITS, LCOLS), "preds.csv")
    save(frame(SOFT, list(CLASSES)), "labels.csv")
    data = report("preds.csv", "labels.csv", "--class-weights", CLASS_W_SPEC)
    numerator = ce(LOGITS, SOFT, weight=CLASS_W)  # -sum_c w_c t_c log p_c per row
    divisor = float((SOFT @ CLASS_W).sum())  # SPEC: sum_n sum_c w_c t_nc
    assert_figures(data, mean=float(numerator.sum()) / divisor, total=float(numerator.sum()))


def test_soft_labels_with_class_weights_under_torch(work: Path) -> None:
    save(frame(LOGITS, LCOLS), "preds.csv")
    save(frame(SOFT, list(CLASSES)), "labels.csv")
    data = report("preds.csv", "labels.csv", "--class-weights", CLASS_W_SPEC, "--compat", "torch")
    assert data["compat"] == "torch" and "compat:torch" in data["signature"]
    assert_figures(
        data,
        mean=ce(LOGITS, SOFT, weight=CLASS_W, reduction="mean"),  # divides by N
        total=ce(LOGITS, SOFT, weight=CLASS_W, reduction="sum"),
    )


def test_soft_labels_with_smoothing(work: Path) -> None:
    save(frame(LOGITS, LCOLS), "preds.csv")
    save(frame(SOFT, list(CLASSES)), "labels.csv")
    data = report("preds.csv", "labels.csv", "--label-smoothing", "0.15")
    losses = ce(LOGITS, SOFT, label_smoothing=0.15)
    assert_figures(data, mean=float(losses.mean()), total=float(losses.sum()))


def test_soft_labels_on_probabilities_with_sample_weights(work: Path) -> None:
    save(frame(PROBS, PCOLS), "preds.csv")
    save(frame(SOFT, list(CLASSES), w=W), "labels.csv")
    data = report("preds.csv", "labels.csv", "--weight-col", "w")
    losses = -(SOFT * np.log(PROBS)).sum(axis=1)
    assert_figures(data, mean=float(W @ losses / W.sum()), total=float(W @ losses))


def test_one_hot_label_columns_are_hard_labels(work: Path) -> None:
    save(frame(LOGITS, LCOLS), "preds.csv")
    save(frame(np.eye(K)[Y], list(CLASSES)), "onehot.csv")
    save(pd.DataFrame({"label": NAMES}), "labels.csv")
    data = report("preds.csv", "onehot.csv", "--class-weights", CLASS_W_SPEC)
    assert data["target"] == "hard" and data["task"] == "multiclass"
    assert "target:" not in data["signature"]
    assert_figures(
        data,
        mean=ce(LOGITS, Y, weight=CLASS_W, reduction="mean"),
        total=ce(LOGITS, Y, weight=CLASS_W, reduction="sum"),
    )
    column = report("preds.csv", "labels.csv", "--class-weights", CLASS_W_SPEC)
    assert data["loss"] == column["loss"]
    assert [c["n"] for c in data["per_class"]] == [int((c == Y).sum()) for c in range(K)]


def test_multilabel_columns(work: Path) -> None:
    save(frame(ML_Z, LCOLS), "preds.csv")
    save(frame(ML_Y, list(CLASSES)), "labels.csv")
    data = report("preds.csv", "labels.csv", "--per-sample", "ps.csv")
    per_label = bce(ML_Z, ML_Y)
    assert data["task"] == "multilabel" and data["target"] == "hard"
    assert_figures(data, mean=float(per_label.mean()), total=float(per_label.mean(axis=1).sum()))
    assert_per_sample_losses(per_sample("ps.csv"), per_label.mean(axis=1))
    hits = (ML_Z > 0) == (ML_Y == 1)
    assert data["accuracy"] == pytest.approx(float(hits.all(axis=1).mean()), rel=REL)
    for c, entry in enumerate(data["per_class"]):
        assert entry["n"] == int(ML_Y[:, c].sum())  # the label's positives
        close(entry["mean_loss"], float(per_label[:, c].mean()))
        assert entry["accuracy"] == pytest.approx(float(hits[:, c].mean()), rel=REL)


def test_multilabel_pos_weight_and_class_weights(work: Path) -> None:
    save(frame(ML_Z, LCOLS), "preds.csv")
    save(frame(ML_Y, list(CLASSES)), "labels.csv")
    data = report("preds.csv", "labels.csv", "--pos-weight", "2", "--class-weights", CLASS_W_SPEC)
    mean = bce(ML_Z, ML_Y, weight=CLASS_W, pos_weight=[2.0], reduction="mean")
    terms = bce(ML_Z, ML_Y, weight=CLASS_W, pos_weight=[2.0])
    assert_figures(data, mean=mean, total=float(terms.sum()) / K)


def test_task_multilabel_on_one_hot_columns(work: Path) -> None:
    """Every row one-hot would be multiclass by ``auto``; ``--task multilabel`` overrides."""
    targets = np.eye(K)[Y]
    save(frame(ML_Z, LCOLS), "preds.csv")
    save(frame(targets, list(CLASSES)), "labels.csv")
    data = report("preds.csv", "labels.csv", "--task", "multilabel")
    per_label = bce(ML_Z, targets)
    assert data["task"] == "multilabel"
    assert_figures(data, mean=float(per_label.mean()), total=float(per_label.mean(axis=1).sum()))


def test_multilabel_with_sample_weights(work: Path) -> None:
    save(frame(ML_Z, LCOLS, w=W), "preds.csv")
    save(frame(ML_Y, list(CLASSES)), "labels.csv")
    data = report("preds.csv", "labels.csv", "--weight-col", "w")
    rows = bce(ML_Z, ML_Y).mean(axis=1)
    assert_figures(data, mean=float(W @ rows / W.sum()), total=float(W @ rows))


def test_multilabel_label_smoothing(work: Path) -> None:
    save(frame(ML_Z, LCOLS), "preds.csv")
    save(frame(ML_Y, list(CLASSES)), "labels.csv")
    data = report("preds.csv", "labels.csv", "--label-smoothing", "0.1")
    per_label = bce(ML_Z, 0.9 * ML_Y + 0.05)
    assert_figures(data, mean=float(per_label.mean()), total=float(per_label.mean(axis=1).sum()))


# == ignoring ===========================================================================

IGNORED = np.zeros(N, dtype=bool)
IGNORED[[4, 9, 10, 21]] = True


def test_ignore_label_minus_100_with_integer_labels(work: Path) -> None:
    labels = np.where(IGNORED, -100, Y)
    preds, lab = multiclass_files(labels=list(labels))
    data = report(
        preds,
        lab,
        "--ignore-label",
        "-100",
        "--class-weights",
        CLASS_W_SPEC,
        "--per-sample",
        "ps.csv",
    )
    kept = ~IGNORED
    mean = ce(LOGITS, labels, weight=CLASS_W, ignore_index=-100, reduction="mean")
    total = ce(LOGITS, labels, weight=CLASS_W, ignore_index=-100, reduction="sum")
    assert_figures(data, mean=mean, total=total, n=int(kept.sum()), ignored=int(IGNORED.sum()))
    assert "ignore:-100" in data["signature"]
    assert [c["n"] for c in data["per_class"]] == [int((Y[kept] == c).sum()) for c in range(K)]
    assert_per_sample_losses(
        per_sample("ps.csv"),
        ce(LOGITS[kept], Y[kept]),
        keys=[str(i) for i in np.flatnonzero(kept)],
        weights=CLASS_W[Y[kept]],
    )


def test_ignore_label_with_sample_weights(work: Path) -> None:
    labels = np.where(IGNORED, -100, Y)
    preds, lab = multiclass_files(labels=list(labels), preds_extra={"w": W})
    data = report(preds, lab, "--ignore-label", "-100", "--weight-col", "w")
    kept = ~IGNORED
    losses = ce(LOGITS[kept], Y[kept])
    assert_figures(
        data,
        mean=float(W[kept] @ losses / W[kept].sum()),
        total=float(W[kept] @ losses),
        n=int(kept.sum()),
        ignored=int(IGNORED.sum()),
    )


def test_ignore_label_by_name(work: Path) -> None:
    preds, lab = multiclass_files()
    data = report(preds, lab, "--ignore-label", "cat", "--label-smoothing", "0.1")
    cat = Y == 0
    mean = ce(LOGITS, Y, ignore_index=0, label_smoothing=0.1, reduction="mean")
    total = ce(LOGITS, Y, ignore_index=0, label_smoothing=0.1, reduction="sum")
    assert_figures(data, mean=mean, total=total, n=int((~cat).sum()), ignored=int(cat.sum()))
    assert "ignore:cat" in data["signature"]
    assert data["per_class"][0]["n"] == 0


def test_ignore_label_under_torch(work: Path) -> None:
    labels = np.where(IGNORED, -100, Y)
    preds, lab = multiclass_files(labels=list(labels))
    data = report(preds, lab, "--ignore-label", "-100", "--compat", "torch")
    assert "ignore:-100" in data["signature"] and "compat:torch" in data["signature"]
    close(data["loss"], ce(LOGITS, labels, ignore_index=-100, reduction="mean"))
    assert data["ignored"] == int(IGNORED.sum())


def test_ignore_label_with_one_hot_columns_is_not_silently_void(work: Path) -> None:
    save(frame(LOGITS, LCOLS), "preds.csv")
    save(frame(np.eye(K)[Y], list(CLASSES)), "onehot.csv")
    result = xent("preds.csv", "onehot.csv", "--ignore-label", "cat", "--json", catch=True)
    if result.exit_code == 2:  # refused, as for soft labels: fine
        assert result.stderr.startswith("Error: ") and "--ignore-label" in result.stderr
        return
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    cat = Y == 0
    assert data["ignored"] == int(cat.sum())
    close(data["loss"], ce(LOGITS, Y, ignore_index=0, reduction="mean"))


IGNORE_CASES = {  # (file format, labels written as floats, --ignore-label)
    "csv-labels-as-floats": ("csv", True, "-100"),
    "parquet-float-labels-option-as-float": ("parquet", True, "-100.0"),
    "csv-integer-labels-option-as-float": ("csv", False, "-100.0"),
}


@pytest.mark.parametrize("case", list(IGNORE_CASES))
def test_ignore_label_negative_integer_written_as_float(work: Path, case: str) -> None:
    fmt, as_floats, option = IGNORE_CASES[case]
    labels = np.where(IGNORED, -100, Y)
    save(frame(LOGITS, LCOLS), f"preds.{fmt}")
    save(pd.DataFrame({"label": labels.astype(np.float64) if as_floats else labels}), f"l.{fmt}")
    data = report(f"preds.{fmt}", f"l.{fmt}", "--ignore-label", option)
    mean = ce(LOGITS, labels, ignore_index=-100, reduction="mean")
    total = ce(LOGITS, labels, ignore_index=-100, reduction="sum")
    n = int((~IGNORED).sum())
    assert_figures(data, mean=mean, total=total, n=n, ignored=int(IGNORED.sum()))


def test_ignore_label_parquet_float_labels(work: Path) -> None:
    """Float -100.0 cells of Parquet are matched by --ignore-label -100."""
    labels = np.where(IGNORED, -100, Y)
    save(frame(LOGITS, LCOLS), "preds.parquet")
    save(pd.DataFrame({"label": labels.astype(np.float64)}), "labels.parquet")
    data = report("preds.parquet", "labels.parquet", "--ignore-label", "-100")
    assert data["ignored"] == int(IGNORED.sum())
    close(data["loss"], ce(LOGITS, labels, ignore_index=-100, reduction="mean"))


def test_ignore_label_matches_float_written_positive_labels(work: Path) -> None:
    """The same with a non-negative ignore value, which works: 100.0 is 100."""
    labels = np.where(IGNORED, 100, Y).astype(np.float64)
    save(frame(LOGITS, LCOLS), "preds.csv")
    save(pd.DataFrame({"label": labels}), "labels.csv")
    data = report("preds.csv", "labels.csv", "--ignore-label", "100")
    mean = ce(LOGITS, labels.astype(np.int64), ignore_index=100, reduction="mean")
    assert data["ignored"] == int(IGNORED.sum())
    close(data["loss"], mean)


# == dropping invalid rows ==============================================================

BAD = np.zeros(N, dtype=bool)
BAD[[3, 17]] = True


def assert_kept(data: dict[str, Any], kept: np.ndarray, scores: np.ndarray = LOGITS) -> None:
    losses = ce(np.log(scores[kept]) if scores is PROBS else scores[kept], Y[kept])
    assert_figures(
        data,
        mean=float(losses.mean()),
        total=float(losses.sum()),
        n=int(kept.sum()),
        dropped=int((~kept).sum()),
    )
    assert any("dropped" in w for w in data["warnings"])


def test_drop_invalid_nan_predictions(work: Path) -> None:
    scores = LOGITS.copy()
    scores[3, 1] = np.nan
    scores[17, 0] = np.nan
    preds, lab = multiclass_files(scores=scores)
    assert_kept(report(preds, lab, "--drop-invalid"), ~BAD)


def test_drop_invalid_probabilities_outside_unit_interval(work: Path) -> None:
    scores = PROBS.copy()
    scores[3] = [1.2, -0.1, -0.1]
    scores[17] = [-0.5, 0.75, 0.75]
    preds, lab = multiclass_files(scores=scores)
    data = report(preds, lab, "--drop-invalid", "--input", "probs")
    assert data["input"] == "probs"
    assert_kept(data, ~BAD, scores=PROBS)


def test_drop_invalid_unknown_class_labels(work: Path) -> None:
    labels = ["zebra" if bad else name for bad, name in zip(BAD, NAMES, strict=True)]
    preds, lab = multiclass_files(labels=labels)
    assert_kept(report(preds, lab, "--drop-invalid"), ~BAD)


def test_drop_invalid_missing_labels(work: Path) -> None:
    labels = [None if bad else name for bad, name in zip(BAD, NAMES, strict=True)]
    preds, lab = multiclass_files(labels=labels)
    assert_kept(report(preds, lab, "--drop-invalid"), ~BAD)


def test_drop_invalid_missing_labels_parquet(work: Path) -> None:
    labels = [None if bad else name for bad, name in zip(BAD, NAMES, strict=True)]
    save(frame(LOGITS, LCOLS), "preds.parquet")
    save(pd.DataFrame({"label": labels}), "labels.parquet")
    assert_kept(report("preds.parquet", "labels.parquet", "--drop-invalid"), ~BAD)


def test_drop_invalid_soft_rows_not_summing_to_one(work: Path) -> None:
    soft = SOFT.copy()
    soft[3] *= 0.8
    soft[17] *= 0.5
    save(frame(LOGITS, LCOLS, w=W), "preds.csv")
    save(frame(soft, list(CLASSES)), "labels.csv")
    data = report("preds.csv", "labels.csv", "--drop-invalid", "--weight-col", "w")
    kept = ~BAD
    losses = ce(LOGITS[kept], SOFT[kept])
    assert data["target"] == "soft"
    assert_figures(
        data,
        mean=float(W[kept] @ losses / W[kept].sum()),
        total=float(W[kept] @ losses),
        n=int(kept.sum()),
        dropped=2,
    )


def test_drop_invalid_soft_rows_out_of_range_and_not_summing_to_one(work: Path) -> None:
    soft = SOFT.copy()
    soft[3] = [1.5, 0.0, 0.0]  # a value outside [0, 1]
    soft[17] *= 0.5  # sums to 0.5
    save(frame(LOGITS, LCOLS), "preds.csv")
    save(frame(soft, list(CLASSES)), "labels.csv")
    data = report("preds.csv", "labels.csv", "--drop-invalid")
    kept = ~BAD
    losses = ce(LOGITS[kept], SOFT[kept])
    assert_figures(
        data, mean=float(losses.mean()), total=float(losses.sum()), n=int(kept.sum()), dropped=2
    )


def test_drop_invalid_and_ignore_together(work: Path) -> None:
    labels: list[Any] = list(np.where(IGNORED, -100, Y))
    labels[3] = 7  # not a class index
    scores = LOGITS.copy()
    scores[17, 2] = np.inf
    preds, lab = multiclass_files(scores=scores, labels=labels)
    data = report(preds, lab, "--drop-invalid", "--ignore-label", "-100")
    kept = ~IGNORED & ~BAD
    losses = ce(LOGITS[kept], Y[kept])
    assert_figures(
        data,
        mean=float(losses.mean()),
        total=float(losses.sum()),
        n=int(kept.sum()),
        dropped=2,
        ignored=int(IGNORED.sum()),
    )


@pytest.mark.parametrize(
    "compat",
    ["xent", "keras", "torch"],
)
def test_soft_rows_within_sum_tol_mean_over_rows(work: Path, compat: str) -> None:
    soft = np.round(SOFT, 3)
    soft[:, 2] = np.round(soft[:, 2] - (soft.sum(axis=1) - 1) / 2, 4)
    off = np.abs(soft.sum(axis=1) - 1)
    assert off.max() <= 1e-3 and off.max() > 1e-4  # within the default --sum-tol
    save(frame(LOGITS, LCOLS), "preds.csv")
    save(frame(soft, list(CLASSES)), "labels.csv")
    data = report("preds.csv", "labels.csv", "--compat", compat, "--per-sample", "ps.csv")
    rel = F32 if compat == "keras" else REL
    close(data["mean_loss"], data["sum_loss"] / data["n_samples"], rel)
    rows = np.array([float(r["loss"]) for r in per_sample("ps.csv")])
    close(data["mean_loss"], float(rows.mean()), rel)
    if compat == "torch":
        close(data["mean_loss"], ce(LOGITS, soft, reduction="mean"))


# == --compat presets ===================================================================


def test_compat_xent_is_the_default(work: Path) -> None:
    preds, lab = multiclass_files(preds_extra={"w": W})
    default = report(preds, lab, "--weight-col", "w")
    explicit = report(preds, lab, "--weight-col", "w", "--compat", "xent")
    assert explicit["signature"] == default["signature"]
    assert explicit["loss"] == default["loss"] and explicit["compat"] == "xent"


def test_compat_torch_class_weights_and_smoothing(work: Path) -> None:
    preds, lab = multiclass_files()
    data = report(
        preds,
        lab,
        "--compat",
        "torch",
        "--class-weights",
        CLASS_W_SPEC,
        "--label-smoothing",
        "0.1",
    )
    assert "compat:torch" in data["signature"] and data["compat"] == "torch"
    assert_figures(
        data,
        mean=ce(LOGITS, Y, weight=CLASS_W, label_smoothing=0.1, reduction="mean"),
        total=ce(LOGITS, Y, weight=CLASS_W, label_smoothing=0.1, reduction="sum"),
    )


def test_compat_torch_binary_pos_weight(work: Path) -> None:
    preds, lab = binary_files()
    data = report(preds, lab, "--compat", "torch", "--pos-weight", "0.5")
    assert_figures(
        data,
        mean=bce(BIN_Z, BIN_Y, pos_weight=[0.5], reduction="mean"),
        total=bce(BIN_Z, BIN_Y, pos_weight=[0.5], reduction="sum"),
    )


def test_compat_torch_multilabel(work: Path) -> None:
    save(frame(ML_Z, LCOLS), "preds.csv")
    save(frame(ML_Y, list(CLASSES)), "labels.csv")
    data = report(
        "preds.csv",
        "labels.csv",
        "--compat",
        "torch",
        "--class-weights",
        CLASS_W_SPEC,
        "--pos-weight",
        "1.5",
    )
    close(data["loss"], bce(ML_Z, ML_Y, weight=CLASS_W, pos_weight=[1.5], reduction="mean"))


def test_compat_sklearn_sample_weights(work: Path) -> None:
    preds, lab = multiclass_files(scores=PROBS, preds_extra={"w": W})
    data = report(preds, lab, "--compat", "sklearn", "--weight-col", "w")
    assert "compat:sklearn" in data["signature"]
    losses = -np.log(PROBS[np.arange(N), Y])
    assert_figures(
        data,
        mean=log_loss(Y, PROBS, sample_weight=W, labels=[0, 1, 2]),
        total=float(W @ losses),
    )


def test_compat_sklearn_binary(work: Path) -> None:
    preds, lab = binary_files(scores=BIN_P)
    data = report(preds, lab, "--compat", "sklearn")
    close(data["loss"], log_loss(BIN_Y, BIN_P))


def test_compat_sklearn_logits_via_softmax(work: Path) -> None:
    preds, lab = multiclass_files(preds_extra={"w": W})
    data = report(preds, lab, "--compat", "sklearn", "--weight-col", "w")
    expected = log_loss(Y, _softmax(LOGITS), sample_weight=W, labels=[0, 1, 2])
    close(data["loss"], expected)
    assert data["input"] == "logits"


def test_compat_keras_sample_weights_divide_by_n(work: Path) -> None:
    """Keras: float32, rows renormalised, clipped to 1e-7, mean sum(w l) / N."""
    preds, lab = multiclass_files(scores=PROBS, preds_extra={"w": W})
    data = report(preds, lab, "--compat", "keras", "--weight-col", "w")
    p = torch.tensor(PROBS, dtype=torch.float32)
    p = (p / p.sum(dim=1, keepdim=True)).clamp(1e-7, 1 - 1e-7)
    losses = -torch.log(p[torch.arange(N), torch.tensor(Y)]).double().numpy()
    assert "compat:keras" in data["signature"]
    assert_figures(data, mean=float(W @ losses) / N, total=float(W @ losses), rel=F32)
    # the rule matters far more than float32 rounding
    assert abs(data["mean_loss"] - float(W @ losses / W.sum())) > 1e-3


def test_compat_keras_binary_smoothing(work: Path) -> None:
    preds, lab = binary_files(scores=BIN_P)
    data = report(preds, lab, "--compat", "keras", "--label-smoothing", "0.1")
    p = torch.tensor(BIN_P, dtype=torch.float32).clamp(1e-7, 1 - 1e-7)
    t = torch.tensor(0.9 * BIN_Y + 0.05, dtype=torch.float32)
    losses = -(t * torch.log(p) + (1 - t) * torch.log(1 - p))
    close(data["loss"], float(losses.double().mean()), rel=F32)


# == bad inputs =========================================================================


def fails(*args: str, expect: tuple[str, ...] = (), usage: bool = False) -> str:
    """Run with ``--output out.json``: exit 2, one ``Error:`` line holding ``expect``,
    nothing on standard output, no out.json. Click's own usage errors print the usage
    block first: then the last line is the ``Error:`` line."""
    result = xent(*args, "--output", "out.json", catch=True)
    shown = f"exit {result.exit_code}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    assert result.exit_code == 2, shown
    assert result.exception is None or isinstance(result.exception, SystemExit), shown
    assert "Traceback" not in result.stderr, shown
    assert result.stdout == "", shown
    lines = result.stderr.splitlines()
    if usage:
        assert lines and lines[0].startswith("Usage:"), shown
        line = lines[-1]
    else:
        assert len(lines) == 1, shown
        line = lines[0]
    assert line.startswith("Error: "), shown
    for text in expect:
        assert text in line, f"{text!r} not in the error line\n{shown}"
    assert not Path("out.json").exists(), "an output was written by a failing run"
    return line


def test_negative_weight_names_row(work: Path) -> None:
    w = W.copy()
    w[5] = -1.0
    preds, lab = multiclass_files(preds_extra={"w": w})
    fails(preds, lab, "--weight-col", "w", expect=("preds.csv", "row 5", "'w'", "-1.0", ">= 0"))


def test_negative_weight_in_labels_names_labels_file(work: Path) -> None:
    w = W.copy()
    w[7] = -0.5
    preds, lab = multiclass_files(labels_extra={"w": w})
    fails(preds, lab, "--weight-col", "w", expect=("labels.csv", "row 7", "'w'"))


def test_nan_weight(work: Path) -> None:
    w = W.copy()
    w[2] = np.nan
    preds, lab = multiclass_files(preds_extra={"w": w})
    fails(preds, lab, "--weight-col", "w", expect=("row 2", "'w'", "weight"))


def test_nan_weight_not_dropped_by_drop_invalid(work: Path) -> None:
    w = W.copy()
    w[2] = np.nan
    preds, lab = multiclass_files(preds_extra={"w": w})
    fails(preds, lab, "--weight-col", "w", "--drop-invalid", expect=("row 2", "weight"))


def test_all_weights_zero(work: Path) -> None:
    preds, lab = multiclass_files(preds_extra={"w": np.zeros(N)})
    fails(preds, lab, "--weight-col", "w", expect=("weights", "sum to 0"))


def test_all_class_weights_zero(work: Path) -> None:
    preds, lab = multiclass_files()
    fails(preds, lab, "--class-weights", "cat=0,dog=0,cow=0", expect=("class-weights", "all 0"))


def test_all_class_weights_zero_multilabel(work: Path) -> None:
    save(frame(ML_Z, LCOLS), "preds.csv")
    save(frame(ML_Y, list(CLASSES)), "labels.csv")
    fails("preds.csv", "labels.csv", "--class-weights", "cat=0,dog=0,cow=0", expect=("0",))


def test_missing_weight_column(work: Path) -> None:
    preds, lab = multiclass_files()
    fails(preds, lab, "--weight-col", "wt", expect=("no weight column 'wt'", "preds.csv"))


def test_unknown_class_in_class_weights(work: Path) -> None:
    preds, lab = multiclass_files()
    fails(preds, lab, "--class-weights", "cat=2,zebra=1", expect=("--class-weights", "'zebra'"))


def test_non_number_class_weight(work: Path) -> None:
    preds, lab = multiclass_files()
    fails(preds, lab, "--class-weights", "cat=heavy", expect=("--class-weights", "'heavy'"))


def test_non_number_class_weight_in_file(work: Path) -> None:
    preds, lab = multiclass_files()
    (work / "cw.csv").write_text("class,weight\ncat,2\ndog,heavy\n")
    fails(preds, lab, "--class-weights", "cw.csv", expect=("cw.csv", "'heavy'", "'dog'"))


def test_negative_class_weight(work: Path) -> None:
    preds, lab = multiclass_files()
    fails(preds, lab, "--class-weights", "cat=-2", expect=("--class-weights", "'cat'", ">= 0"))


@pytest.mark.parametrize("value", ["inf", "nan"])
def test_non_finite_class_weight(work: Path, value: str) -> None:
    preds, lab = multiclass_files()
    fails(preds, lab, "--class-weights", f"cat={value}", expect=("--class-weights", "'cat'"))


def test_class_weight_given_twice(work: Path) -> None:
    preds, lab = multiclass_files()
    fails(preds, lab, "--class-weights", "cat=2,cat=3", expect=("'cat'", "twice"))


def test_class_weight_given_twice_by_alias(work: Path) -> None:
    preds, lab = multiclass_files()
    fails(preds, lab, "--class-weights", "cat=2,logit_cat=3", expect=("'cat'",))


def test_negative_pos_weight(work: Path) -> None:
    preds, lab = binary_files()
    fails(preds, lab, "--pos-weight", "-1", expect=("--pos-weight",), usage=True)


@pytest.mark.parametrize(
    ("spec", "expect"),
    [("cat=2,dog", "'dog'"), ("cat=2,=3", "'=3'"), ("heavy", "'heavy'")],
    ids=["no-equals", "no-name", "neither-file-nor-list"],
)
def test_malformed_class_weights(work: Path, spec: str, expect: str) -> None:
    preds, lab = multiclass_files()
    fails(preds, lab, "--class-weights", spec, expect=("--class-weights", expect))


@pytest.mark.parametrize("value", ["1.0", "-0.1", "1.5"])
def test_label_smoothing_out_of_range(work: Path, value: str) -> None:
    preds, lab = multiclass_files()
    fails(preds, lab, "--label-smoothing", value, expect=("--label-smoothing",), usage=True)


def test_soft_rows_not_summing_to_one_name_the_row(work: Path) -> None:
    soft = SOFT.copy()
    soft[6] *= 0.8
    save(frame(LOGITS, LCOLS), "preds.csv")
    save(frame(soft, list(CLASSES)), "labels.csv")
    fails("preds.csv", "labels.csv", expect=("labels.csv", "row 6", "sums to", "not 1"))


def test_label_values_outside_unit_interval(work: Path) -> None:
    soft = SOFT.copy()
    soft[4] = [1.5, -0.5, 0.0]
    save(frame(LOGITS, LCOLS), "preds.csv")
    save(frame(soft, list(CLASSES)), "labels.csv")
    fails("preds.csv", "labels.csv", expect=("labels.csv", "row 4", "'cat'", "[0, 1]"))


def test_pos_weight_with_multiclass(work: Path) -> None:
    preds, lab = multiclass_files()
    fails(preds, lab, "--pos-weight", "2", expect=("--pos-weight", "binary"))


def test_ignore_label_with_soft_labels(work: Path) -> None:
    save(frame(LOGITS, LCOLS), "preds.csv")
    save(frame(SOFT, list(CLASSES)), "labels.csv")
    fails("preds.csv", "labels.csv", "--ignore-label", "-100", expect=("--ignore-label", "soft"))


def test_task_multilabel_with_one_label_column(work: Path) -> None:
    preds, lab = multiclass_files()
    fails(preds, lab, "--task", "multilabel", expect=("--task multilabel",))


def test_task_binary_with_label_columns(work: Path) -> None:
    save(frame(ML_Z, LCOLS), "preds.csv")
    save(frame(ML_Y, list(CLASSES)), "labels.csv")
    fails("preds.csv", "labels.csv", "--task", "binary", expect=("--task binary",))


def test_every_row_ignored(work: Path) -> None:
    preds, lab = multiclass_files(labels=[-100] * N)
    fails(preds, lab, "--ignore-label", "-100", expect=("no rows left", f"{N} ignored"))


def test_every_row_dropped(work: Path) -> None:
    preds, lab = multiclass_files(labels=["zebra"] * N)
    fails(preds, lab, "--drop-invalid", expect=("no rows left", f"{N} dropped"))


def test_every_row_dropped_or_ignored(work: Path) -> None:
    labels: list[Any] = [-100] * N
    labels[:5] = [9] * 5
    preds, lab = multiclass_files(labels=labels)
    fails(
        preds,
        lab,
        "--drop-invalid",
        "--ignore-label",
        "-100",
        expect=("no rows left", "5 dropped", f"{N - 5} ignored"),
    )


# -- options a preset lacks ------------------------------------------------------------


LACKING = {  # preset, option, its value, and the files it is refused on
    "torch-weight-col": ("torch", "--weight-col", "w", "multiclass-w"),
    "torch-binary-smoothing": ("torch", "--label-smoothing", "0.1", "binary"),
    "torch-pos-weight-on-probs": ("torch", "--pos-weight", "2", "binary-probs"),
    "keras-class-weights": ("keras", "--class-weights", CLASS_W_SPEC, "multiclass"),
    "keras-pos-weight": ("keras", "--pos-weight", "2", "binary"),
    "sklearn-smoothing": ("sklearn", "--label-smoothing", "0.1", "multiclass-probs"),
}


@pytest.mark.parametrize("case", LACKING, ids=list(LACKING))
def test_preset_lacks_option(work: Path, case: str) -> None:
    compat, option, value, files = LACKING[case]
    preds, lab = {
        "multiclass-w": lambda: multiclass_files(preds_extra={"w": W}),
        "multiclass": multiclass_files,
        "multiclass-probs": lambda: multiclass_files(scores=PROBS),
        "binary": binary_files,
        "binary-probs": lambda: binary_files(scores=BIN_P),
    }[files]()
    fails(preds, lab, "--compat", compat, option, value, expect=(option, f"--compat {compat}"))


def test_sklearn_lacks_soft_labels(work: Path) -> None:
    save(frame(PROBS, PCOLS), "preds.csv")
    save(frame(SOFT, list(CLASSES)), "labels.csv")
    fails(
        "preds.csv", "labels.csv", "--compat", "sklearn", expect=("soft labels", "--compat sklearn")
    )


def test_sklearn_lacks_multilabel(work: Path) -> None:
    save(frame(ML_Z, LCOLS), "preds.csv")
    save(frame(ML_Y, list(CLASSES)), "labels.csv")
    fails(
        "preds.csv", "labels.csv", "--compat", "sklearn", expect=("multilabel", "--compat sklearn")
    )


@pytest.mark.parametrize("compat", ["torch", "keras", "sklearn"])
def test_preset_refuses_eps(work: Path, compat: str) -> None:
    preds, lab = multiclass_files(scores=PROBS)
    fails(preds, lab, "--compat", compat, "--eps", "1e-3", expect=("--eps", f"--compat {compat}"))
