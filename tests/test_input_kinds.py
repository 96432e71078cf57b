"""What the numbers are (SPEC "Inputs", ``auto``; "Computation"), issue 10 classes 4, 6,
9 and 10: percentages, names as evidence, the 99% rule for invalid rows, log-probability
rows renormalised, one-hot labels with a row of zeros.

Every file is written here by pandas (CSV) or pandas + pyarrow (Parquet), with the odd
row among the first rows and far past the first batch (row 90,000 of 100,000). Each
run gives scikit-learn's ``log_loss`` of the true problem, or exit 2 with one
``Error:`` line naming the option that settles it; never another number.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from sklearn.metrics import log_loss

import xentcli
from xentcli.cli import cli
from xentcli.errors import XentError

REL = 1e-12
N = 100_000  # more than the first batch (65,536 rows by default)
FAR = 90_000  # a row far past the first batch
NEAR = 5  # a row among the first rows
FORMATS = ["csv", "parquet"]
CLASSES = ["a", "b", "c"]

_rng = np.random.default_rng(20261204)
P = _rng.dirichlet(np.ones(3), N)
Y = _rng.integers(0, 3, N)
PB = _rng.uniform(0.02, 0.98, N)  # binary P(y = 1)
YB = (_rng.uniform(size=N) < PB).astype(np.int64)


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


# -- files and runs --------------------------------------------------------------------


def write(frame: pd.DataFrame, stem: str, fmt: str) -> str:
    """``frame`` as pandas writes it: ``to_csv`` or ``to_parquet`` (pyarrow), no index."""
    path = f"{stem}.{fmt}"
    if fmt == "csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path, index=False, engine="pyarrow")
    return path


def preds(values: np.ndarray, columns: list[str], **extra: Any) -> pd.DataFrame:
    frame = pd.DataFrame(np.asarray(values).reshape(len(values), -1), columns=columns)
    for name, column in extra.items():
        frame[name] = column
    return frame


def scored(*args: str) -> dict[str, Any]:
    result = CliRunner().invoke(cli, ["score", *args, "--json"], prog_name="xent")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def refused(*args: str, naming: str) -> str:
    """Exit 2 with one ``Error:`` line that names ``naming``; the line."""
    result = CliRunner().invoke(cli, ["score", *args], prog_name="xent")
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert naming in lines[0], lines[0]
    return lines[0]


def without(rows: list[int], n: int = N) -> np.ndarray:
    keep = np.ones(n, dtype=bool)
    keep[rows] = False
    return keep


def assert_loss(data: dict[str, Any], expected: float) -> None:
    assert math.isclose(data["loss"], expected, rel_tol=REL), (data["loss"], expected)


# == 4: percentages =====================================================================


@pytest.mark.parametrize("fmt", FORMATS)
def test_rows_summing_to_100_are_refused_as_percentages(fmt: str) -> None:
    path = write(preds(P * 100, CLASSES, label=Y), "pct", fmt)
    line = refused(path, naming="--input percent")
    assert "percentages" in line and "row 0" in line


@pytest.mark.parametrize("fmt", FORMATS)
def test_input_percent_is_probabilities_times_100(fmt: str) -> None:
    path = write(preds(P * 100, CLASSES, label=Y), "pct", fmt)
    data = scored(path, "--input", "percent")
    assert data["input"] == "percent"
    assert_loss(data, log_loss(Y, P))


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("row", [NEAR, FAR])
def test_a_percentage_above_100_is_an_invalid_row(fmt: str, row: int) -> None:
    values = P * 100
    values[row] = [150.0, -20.0, -30.0]
    path = write(preds(values, CLASSES, label=Y), "pct", fmt)
    line = refused(path, "--input", "percent", naming=f"row {row}")
    assert "percentage 150.0 is outside [0, 100]" in line
    data = scored(path, "--input", "percent", "--drop-invalid")
    keep = without([row])
    assert data["dropped"] == 1
    assert_loss(data, log_loss(Y[keep], P[keep]))


@pytest.mark.parametrize("fmt", FORMATS)
def test_one_column_of_0_to_100_is_logits_or_percentages(fmt: str) -> None:
    """One column in [0, 100], none negative and some above 1: either reading is a
    number, so neither is chosen."""
    path = write(preds(PB * 100, ["score"], label=YB), "one", fmt)
    line = refused(path, naming="--input")
    assert "logits or percentages" in line
    assert_loss(scored(path, "--input", "percent"), log_loss(YB, PB))
    logits = PB * 100  # softplus: log_loss would clip sigmoid(98) = 1.0
    expected = float(np.mean(np.where(YB == 1, np.logaddexp(0, -logits), np.logaddexp(0, logits))))
    assert math.isclose(scored(path, "--input", "logits")["loss"], expected, rel_tol=1e-9)


def test_percent_from_python_in_small_batches() -> None:
    """The API takes ``input="percent"`` as the CLI does, batch size or not."""
    table = pa.table({"a": P[:, 0] * 100, "b": P[:, 1] * 100, "c": P[:, 2] * 100, "label": Y})
    for batch_rows in (65_536, 7_000):
        summary = xentcli.score(table, input="percent", batch_rows=batch_rows)
        assert math.isclose(summary.loss, log_loss(Y, P), rel_tol=REL)
    with pytest.raises(XentError, match="--input percent"):
        xentcli.score(table)


# == 10 and names as evidence ===========================================================


@pytest.mark.parametrize("fmt", FORMATS)
def test_binary_log_probabilities_named_logprob_1(fmt: str) -> None:
    """Class 10: ``logprob_1`` holds log P(y = 1), all <= 0; read as logits before."""
    path = write(preds(np.log(PB), ["logprob_1"], label=YB), "lp", fmt)
    data = scored(path)
    assert data["input"] == "logprobs"
    assert "logprob_1" in data["reasons"]["input"]
    assert_loss(data, log_loss(YB, PB))


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("prefix", ["logp_", "log_p_", "logprob_"])
def test_multiclass_log_probabilities_by_name(fmt: str, prefix: str) -> None:
    path = write(preds(np.log(P), [prefix + c for c in CLASSES], label=Y), "lp", fmt)
    data = scored(path)
    assert data["input"] == "logprobs"
    assert math.isclose(data["loss"], log_loss(Y, P), rel_tol=1e-9)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("prefix", ["p_", "prob_", "proba_"])
def test_a_probability_name_over_logits_is_refused(fmt: str, prefix: str) -> None:
    logits = np.log(P) + _rng.normal(0, 1, (N, 1))
    path = write(preds(logits, [prefix + c for c in CLASSES], label=Y), "named", fmt)
    line = refused(path, naming="--input logits")
    assert "named as probabilities" in line
    data = scored(path, "--input", "logits")
    assert math.isclose(data["loss"], log_loss(Y, P), rel_tol=1e-9)


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_log_probability_name_over_positive_values_is_refused(fmt: str) -> None:
    logits = _rng.normal(0, 2, N)
    path = write(preds(logits, ["logprob_1"], label=YB), "named", fmt)
    line = refused(path, naming="--input logits")
    assert "named as log-probabilities" in line and "above 0" in line


@pytest.mark.parametrize("fmt", FORMATS)
def test_logit_names_are_logits_even_in_the_unit_interval(fmt: str) -> None:
    """``logit_*`` columns holding values in [0, 1] that sum to 1 are logits: the name
    says so, and softmax of them is the distribution scored."""
    path = write(preds(P, ["logit_" + c for c in CLASSES], label=Y), "lg", fmt)
    data = scored(path)
    assert data["input"] == "logits"
    e = np.exp(P - P.max(axis=1, keepdims=True))
    assert math.isclose(data["loss"], log_loss(Y, e / e.sum(axis=1, keepdims=True)), rel_tol=1e-9)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("row", [NEAR, FAR])
def test_a_sentinel_under_a_probability_name_is_an_invalid_row(fmt: str, row: int) -> None:
    values = P.copy()
    values[row] = -1.0
    path = write(preds(values, ["p_" + c for c in CLASSES], label=Y), "named", fmt)
    refused(path, naming=f"row {row}")
    data = scored(path, "--drop-invalid")
    keep = without([row])
    assert (data["input"], data["dropped"]) == ("probs", 1)
    assert_loss(data, log_loss(Y[keep], P[keep]))


# == 6: the 99% rule ====================================================================


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("row", [NEAR, FAR])
def test_a_sentinel_row_is_an_invalid_row_wherever_it_is(fmt: str, row: int) -> None:
    """Class 6: ``-1,-1,-1`` in the first batch made the file logits, even with
    --drop-invalid; at row 90,000 it was an error. Now both are the same."""
    values = P.copy()
    values[row] = -1.0
    path = write(preds(values, CLASSES, label=Y), "sentinel", fmt)
    line = refused(path, naming=f"row {row}")
    assert "probability -1.0 is outside [0, 1]" in line
    data = scored(path, "--drop-invalid")
    keep = without([row])
    assert (data["input"], data["dropped"]) == ("probs", 1)
    assert_loss(data, log_loss(Y[keep], P[keep]))
    if row == NEAR:  # the reasons say what the first rows held
        assert data["reasons"]["input"].endswith("; 1 invalid row of the first 10000 that are not")


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("row", [NEAR, FAR])
def test_a_binary_sentinel_row_is_an_invalid_row(fmt: str, row: int) -> None:
    values = PB.copy()
    values[row] = -1.0
    path = write(preds(values, ["score"], label=YB), "sentinel", fmt)
    refused(path, naming=f"row {row}")
    data = scored(path, "--drop-invalid")
    keep = without([row])
    assert (data["input"], data["dropped"]) == ("probs", 1)
    assert_loss(data, log_loss(YB[keep], PB[keep]))


@pytest.mark.parametrize("fmt", FORMATS)
def test_between_half_and_99_percent_is_ambiguous(fmt: str) -> None:
    n = 1000
    bad = list(range(3, n, 50))  # 20 of 1000 rows: 98% probability rows
    values = P[:n].copy()
    values[bad] = -1.0
    path = write(preds(values, CLASSES, label=Y[:n]), "some", fmt)
    line = refused(path, naming="--input")
    assert "980 of the first 1000 rows are probabilities" in line and "row 3" in line
    data = scored(path, "--input", "probs", "--drop-invalid")
    keep = without(bad, n)
    assert data["dropped"] == len(bad)
    assert_loss(data, log_loss(Y[:n][keep], P[:n][keep]))


@pytest.mark.parametrize("batch_rows", [1000, 64])
def test_the_first_rows_are_10000_whatever_the_batch_size(batch_rows: int) -> None:
    """20 sentinel rows among the first 1000: 98% of 1000 rows would be ambiguous, but
    the first rows are 10,000 (0.2% invalid), whatever the batch size."""
    n = 20_000
    bad = list(range(0, 1000, 50))
    values = P[:n].copy()
    values[bad] = -1.0
    pq.write_table(
        pa.table({"a": values[:, 0], "b": values[:, 1], "c": values[:, 2], "label": Y[:n]}),
        "small.parquet",
        row_group_size=500,
    )
    summary = xentcli.score("small.parquet", batch_rows=batch_rows, drop_invalid=True)
    keep = without(bad, n)
    assert (summary.input, summary.dropped) == ("probs", len(bad))
    assert math.isclose(summary.loss, log_loss(Y[:n][keep], P[:n][keep]), rel_tol=REL)
    with pytest.raises(XentError, match="rows 0, 50, 100 and 17 more"):
        xentcli.score("small.parquet", batch_rows=batch_rows)


def test_a_first_batch_of_logits_is_still_logits() -> None:
    """Logits with some rows in [0, 1] (fewer than half) stay logits."""
    z = _rng.normal(0, 3, (N, 3))
    summary = xentcli.score(pd.DataFrame({"a": z[:, 0], "b": z[:, 1], "c": z[:, 2], "y": Y}))
    e = np.exp(z - z.max(axis=1, keepdims=True))
    assert summary.input == "logits"
    assert math.isclose(summary.loss, log_loss(Y, e / e.sum(axis=1, keepdims=True)), rel_tol=1e-9)


# == log-probability rows: log-sum-exp 0 within --sum-tol ================================


@pytest.mark.parametrize("fmt", FORMATS)
def test_log_probability_rows_within_sum_tol_are_renormalised(fmt: str) -> None:
    shift = _rng.choice([-1, 1], (N, 1)) * _rng.uniform(1e-4, 5e-4, (N, 1))  # < --sum-tol
    path = write(preds(np.log(P) + shift, ["logp_" + c for c in CLASSES], label=Y), "lp", fmt)
    data = scored(path)
    assert data["input"] == "logprobs"
    assert data["renormalized"] == N
    assert math.isclose(data["loss"], log_loss(Y, P), rel_tol=1e-9)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("row", [NEAR, FAR])
def test_a_log_probability_row_beyond_sum_tol_is_an_invalid_row(fmt: str, row: int) -> None:
    values = np.log(P)
    values[row] -= 0.5  # log-sum-exp -0.5
    path = write(preds(values, CLASSES, label=Y), "lp", fmt)
    line = refused(path, naming=f"row {row}")
    assert "log-sum-exps to" in line and "--sum-tol" in line
    data = scored(path, "--renormalize")
    assert data["input"] == "logprobs"
    assert math.isclose(data["loss"], log_loss(Y, P), rel_tol=1e-9)
    data = scored(path, "--drop-invalid")
    keep = without([row])
    assert data["dropped"] == 1
    assert math.isclose(data["loss"], log_loss(Y[keep], P[keep]), rel_tol=1e-9)


# == 9: one-hot labels with a row of zeros ==============================================


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("row", [NEAR, FAR])
@pytest.mark.parametrize("dtype", [np.int64, np.uint8])  # uint8: get_dummies before pandas 2
def test_an_all_zero_one_hot_row_is_a_missing_label(fmt: str, row: int, dtype: type) -> None:
    """Class 9: ``pd.get_dummies`` of a missing label is a row of zeros, which made the
    whole task multilabel."""
    names = pd.Series(np.array(CLASSES, dtype=object)[Y])
    names[row] = None
    labels = write(pd.get_dummies(names, dtype=dtype), "labels", fmt)
    predictions = write(preds(P, ["p_" + c for c in CLASSES]), "preds", fmt)
    line = refused(predictions, labels, naming=f"row {row}")
    assert "all zeros" in line and "missing label" in line
    data = scored(predictions, labels, "--drop-invalid")
    keep = without([row])
    assert (data["task"], data["target"], data["dropped"]) == ("multiclass", "hard", 1)
    assert_loss(data, log_loss(Y[keep], P[keep]))


@pytest.mark.parametrize("fmt", FORMATS)
def test_two_ones_after_one_hot_rows_name_task(fmt: str) -> None:
    dummies = pd.get_dummies(pd.Series(np.array(CLASSES, dtype=object)[Y]), dtype=int)
    dummies.iloc[FAR] = [1, 1, 0]
    labels = write(dummies, "labels", fmt)
    predictions = write(preds(P, ["p_" + c for c in CLASSES]), "preds", fmt)
    for extra in ((), ("--drop-invalid",)):
        line = refused(predictions, labels, *extra, naming="--task")
        assert f"row {FAR}" in line and "one-hot" in line


@pytest.mark.parametrize("fmt", FORMATS)
def test_two_ones_in_the_first_rows_are_multilabel(fmt: str) -> None:
    n = 2000
    targets = np.eye(3, dtype=int)[Y[:n]]
    targets[NEAR] = [1, 1, 0]
    targets[NEAR + 1] = [0, 0, 0]
    scores = _rng.uniform(0.01, 0.99, (n, 3))  # independent probabilities
    labels = write(pd.DataFrame(targets, columns=CLASSES), "labels", fmt)
    predictions = write(preds(scores, ["p_" + c for c in CLASSES]), "preds", fmt)
    data = scored(predictions, labels)
    assert data["task"] == "multilabel"
    expected = np.mean([log_loss(targets[:, k], scores[:, k]) for k in range(3)])
    assert math.isclose(data["loss"], expected, rel_tol=1e-9)


@pytest.mark.parametrize("labelled", [True, False])
def test_inspect_decides_on_the_same_first_rows(labelled: bool) -> None:
    """``xent inspect`` decides on the first 10,000 rows too, with or without labels,
    although the file's row groups are 500 rows: exactly the first 10,000 decide."""
    n = 20_000
    values = P[:n].copy()
    values[list(range(0, 1000, 50))] = -1.0
    columns = {"a": values[:, 0], "b": values[:, 1], "c": values[:, 2]}
    if labelled:
        columns["label"] = Y[:n]
    pq.write_table(pa.table(columns), "small.parquet", row_group_size=500)
    args = ["inspect", "small.parquet", "--json", "--drop-invalid"]
    result = CliRunner().invoke(cli, args, prog_name="xent")
    assert result.exit_code == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["input"] == "probs"
    assert "; 20 invalid rows of the first 10000" in found["reasons"]["input"]


def test_an_all_zero_one_hot_row_from_python() -> None:
    """The same rule for ``cross_entropy`` given a one-hot matrix."""
    n = 500
    targets = np.eye(3)[Y[:n]]
    targets[NEAR] = 0.0
    with pytest.raises(XentError, match=f"row {NEAR}: the label row is all zeros"):
        xentcli.cross_entropy(P[:n], targets)
    summary = xentcli.cross_entropy(P[:n], targets, drop_invalid=True)
    keep = without([NEAR], n)
    assert (summary.task, summary.dropped) == ("multiclass", 1)
    assert math.isclose(summary.loss, log_loss(Y[:n][keep], P[:n][keep]), rel_tol=REL)
