"""Happy paths of ``xent score``: every figure checked against an independent computation.

SPEC "Inputs", "Computation", "Outputs" and "Gates and exit codes". Most cases drive the
command in-process through click's ``CliRunner`` (standard output and standard error kept
apart, ``catch_exceptions=False``); the last few run the installed console script as a
real process, where pipes, terminals and colour are real.

References are computed without xent: scikit-learn's ``log_loss``, PyTorch's
``cross_entropy`` / ``binary_cross_entropy_with_logits`` in float64, or NumPy.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
import os
import pty
import re
import subprocess
import sys
from collections.abc import Sequence
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch
from click.testing import CliRunner, Result
from sklearn.metrics import accuracy_score, log_loss

from xentcli.cli import cli

ROOT = Path(__file__).resolve().parent.parent
TOL = 1e-12

# -- data ------------------------------------------------------------------------------

CLASSES = ["cat", "dog", "bird"]
COLUMNS = [f"p_{c}" for c in CLASSES]
LOGIT_COLUMNS = [f"logit_{c}" for c in CLASSES]  # a p_ column holds probabilities (SPEC)
LOGPROB_COLUMNS = [f"logprob_{c}" for c in CLASSES]
N = 40


def _dataset(seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    probs = rng.dirichlet([1.0, 1.0, 1.0], size=N)
    labels = rng.integers(0, 3, size=N)
    labels[:3] = [0, 1, 2]  # every class present
    return probs, labels


P, Y = _dataset()
NAMES = [CLASSES[i] for i in Y]
LOGITS = np.random.default_rng(11).normal(0.0, 3.0, size=(N, 3))


def preds_frame(
    values: np.ndarray = P, columns: Sequence[str] = COLUMNS, **extra: Any
) -> pd.DataFrame:
    frame = pd.DataFrame(values, columns=list(columns))
    for name, column in extra.items():
        frame[name] = column
    return frame


def labels_frame(values: Sequence[Any] = NAMES, **extra: Any) -> pd.DataFrame:
    return pd.DataFrame({**extra, "label": list(values)})


def save(frame: pd.DataFrame, path: Path | str, **kwargs: Any) -> Path:
    """Write by extension: Parquet, TSV, gzip CSV, else CSV; no pandas index."""
    path = Path(path)
    name = path.name
    if name.endswith((".parquet", ".pq")):
        frame.to_parquet(path, index=False, **kwargs)
    elif name.endswith(".tsv"):
        frame.to_csv(path, sep="\t", index=False, **kwargs)
    else:
        frame.to_csv(path, index=False, **kwargs)
    return path


def parquet_bytes(frame: pd.DataFrame) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), sink)
    return sink.getvalue().to_pybytes()


# -- references (no xent) --------------------------------------------------------------


def nll(probs: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Per-sample ``-log p[y]`` in nats."""
    with np.errstate(divide="ignore"):  # log(0) is inf, which some tests want
        return -np.log(probs[np.arange(len(labels)), labels])


def ref_per_class(losses: np.ndarray, labels: np.ndarray, preds: np.ndarray, k: int) -> list:
    out = []
    for c in range(k):
        rows = labels == c
        out.append((int(rows.sum()), float(losses[rows].mean()), float((preds[rows] == c).mean())))
    return out


def torch_ce(logits: np.ndarray, labels: np.ndarray, reduction: str = "mean") -> float:
    return float(
        torch.nn.functional.cross_entropy(
            torch.tensor(logits, dtype=torch.float64),
            torch.tensor(labels, dtype=torch.int64),
            reduction=reduction,
        )
    )


REF_LOSS = log_loss(Y, P, labels=[0, 1, 2])
REF_ACC = accuracy_score(Y, P.argmax(axis=1))

# -- running xent ----------------------------------------------------------------------


def xent(*args: str, input: bytes | None = None, env: dict[str, str] | None = None) -> Result:
    runner = CliRunner()
    return runner.invoke(
        cli, list(args), input=input, env=env, prog_name="xent", catch_exceptions=False
    )


def _no_constant(name: str) -> Any:
    raise ValueError(f"not strict JSON: {name}")


def strict_json(text: str) -> Any:
    """Parse RFC 8259 JSON: NaN, Infinity and -Infinity are refused."""
    return json.loads(text, parse_constant=_no_constant)


def report(*args: str, input: bytes | None = None, code: int = 0) -> dict[str, Any]:
    result = xent("score", *args, "--json", input=input)
    assert result.exit_code == code, result.stderr
    return strict_json(result.stdout)


def assert_loss(data: dict[str, Any], expected: float, n: int = N) -> None:
    assert data["n_samples"] == n
    assert data["loss"] == pytest.approx(expected, rel=0, abs=TOL)
    assert data["mean_loss"] == pytest.approx(expected, rel=0, abs=TOL)
    assert data["sum_loss"] == pytest.approx(expected * n, rel=TOL, abs=TOL)


def read_rows(path: str, delimiter: str = ",") -> list[list[str]]:
    with open(path, newline="") as handle:
        return list(csv.reader(handle, delimiter=delimiter))


def stderr_lines(result: Result) -> list[str]:
    return result.stderr.splitlines()


@pytest.fixture()
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run in a fresh folder so that file names in reports are short and known."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture()
def basic(work: Path) -> Path:
    """preds.csv (p_cat, p_dog, p_bird) and labels.csv (class names)."""
    save(preds_frame(), "preds.csv")
    save(labels_frame(), "labels.csv")
    return work


# -- the JSON report -------------------------------------------------------------------

SPEC_KEYS = {
    "schema",
    "xent_version",
    "signature",
    "compat",
    "task",
    "input",
    "target",
    "log_base",
    "n_samples",
    "n_classes",
    "classes",
    "loss",
    "mean_loss",
    "sum_loss",
    "perplexity",
    "accuracy",
    "per_class",
    "clipped",
    "renormalized",
    "dropped",
    "gates",
    "passed",
    "inputs",
    "unmatched_labels",
}


def test_json_report_has_every_key_and_exact_figures(basic: Path) -> None:
    result = xent("score", "preds.csv", "labels.csv", "--json")
    assert result.exit_code == 0
    assert result.stderr == ""
    data = strict_json(result.stdout)
    assert set(data) >= SPEC_KEYS
    assert data["schema"] == 1
    assert data["xent_version"] == version("xentcli")
    major_minor = ".".join(version("xentcli").split(".")[:2])
    assert data["signature"] == (
        f"xent:{major_minor}|task:multiclass|input:probs|base:e|eps:auto|smooth:0|"
        "weights:none|reduction:mean|compat:xent"
    )
    assert data["compat"] == "xent"
    assert data["task"] == "multiclass"
    assert data["input"] == "probs"
    assert data["target"] == "hard"
    assert data["log_base"] == "e"
    assert data["n_classes"] == 3
    assert data["classes"] == CLASSES
    assert_loss(data, REF_LOSS)
    assert data["perplexity"] == pytest.approx(math.exp(REF_LOSS), rel=TOL)
    assert data["accuracy"] == REF_ACC
    expected = ref_per_class(nll(P, Y), Y, P.argmax(axis=1), 3)
    assert [set(c) for c in data["per_class"]] == [{"class", "n", "mean_loss", "accuracy"}] * 3
    for entry, name, (n, mean, acc) in zip(data["per_class"], CLASSES, expected, strict=True):
        assert entry["class"] == name
        assert entry["n"] == n
        assert entry["mean_loss"] == pytest.approx(mean, rel=0, abs=TOL)
        assert entry["accuracy"] == pytest.approx(acc, rel=0, abs=TOL)
    assert data["clipped"] == 0
    assert data["renormalized"] == 0
    assert data["dropped"] == 0
    assert data["unmatched_labels"] == 0
    assert data["gates"] == []
    assert data["passed"] is True
    assert data["inputs"] == {"preds": "preds.csv", "labels": "labels.csv"}


def test_json_is_strict_with_an_infinite_loss(work: Path) -> None:
    probs = P.copy()
    probs[0] = [0.0, 0.5, 0.5]  # p_true of row 0 (class cat) is 0
    save(preds_frame(probs, label=NAMES), "preds.csv")
    result = xent("score", "preds.csv", "--eps", "0", "--max-loss", "1", "--json")
    assert result.exit_code == 1
    assert "Infinity" not in result.stdout and "NaN" not in result.stdout
    data = strict_json(result.stdout)
    assert data["loss"] == "inf"
    assert data["mean_loss"] == "inf"
    assert data["sum_loss"] == "inf"
    assert data["perplexity"] == "inf"
    assert data["per_class"][0]["mean_loss"] == "inf"
    expected_dog = float(nll(probs, Y)[Y == 1].mean())
    assert data["per_class"][1]["mean_loss"] == pytest.approx(expected_dog, rel=0, abs=TOL)
    assert data["clipped"] == 0
    assert data["gates"] == [
        {"name": "max_loss", "threshold": 1.0, "value": "inf", "passed": False}
    ]
    assert data["passed"] is False
    assert stderr_lines(result) == ["Gate failed: loss inf > 1.0 (--max-loss)"]


def test_json_is_strict_for_a_class_without_samples(work: Path) -> None:
    labels = np.where(Y == 2, 0, Y)  # nobody is a bird
    save(preds_frame(label=[CLASSES[i] for i in labels]), "preds.csv")
    data = report("preds.csv")
    assert data["per_class"][2] == {"class": "bird", "n": 0, "mean_loss": "nan", "accuracy": "nan"}
    assert data["loss"] == pytest.approx(log_loss(labels, P, labels=[0, 1, 2]), rel=0, abs=TOL)


def test_binary_infinite_loss_is_the_string_inf(work: Path) -> None:
    save(pd.DataFrame({"p_1": [1.0, 0.25], "label": [0, 1]}), "preds.csv")
    data = report("preds.csv", "--eps", "0")
    assert data["loss"] == "inf"
    assert data["sum_loss"] == "inf"
    assert data["per_class"][0]["mean_loss"] == "inf"
    assert data["per_class"][1]["mean_loss"] == pytest.approx(-math.log(0.25), abs=TOL)


# -- file formats ----------------------------------------------------------------------


def _parquet_as(path: str) -> Any:
    def write(frame: pd.DataFrame) -> None:
        Path(path).write_bytes(parquet_bytes(frame))

    return write


def _gzip_csv(path: str) -> Any:
    def write(frame: pd.DataFrame) -> None:
        with gzip.open(path, "wt", newline="") as handle:
            frame.to_csv(handle, index=False)

    return write


def _by_extension(path: str) -> Any:
    return lambda frame: save(frame, path)


FORMAT_CASES = {
    "csv+csv": ("preds.csv", _by_extension("preds.csv"), "labels.csv", _by_extension("labels.csv")),
    "parquet+csv": (
        "preds.parquet",
        _by_extension("preds.parquet"),
        "labels.csv",
        _by_extension("labels.csv"),
    ),
    "csv+parquet": (
        "preds.csv",
        _by_extension("preds.csv"),
        "labels.parquet",
        _by_extension("labels.parquet"),
    ),
    "parquet+parquet": (
        "preds.parquet",
        _by_extension("preds.parquet"),
        "labels.parquet",
        _by_extension("labels.parquet"),
    ),
    "parquet-named-csv": (
        "preds.csv",
        _parquet_as("preds.csv"),
        "labels.csv",
        _by_extension("labels.csv"),
    ),
    "parquet-no-extension": ("preds", _parquet_as("preds"), "labels", _parquet_as("labels")),
    "tsv": ("preds.tsv", _by_extension("preds.tsv"), "labels.tsv", _by_extension("labels.tsv")),
    "csv-no-extension": (
        "preds",
        _by_extension("preds"),
        "labels.csv",
        _by_extension("labels.csv"),
    ),
    "csv.gz": (
        "preds.csv.gz",
        _gzip_csv("preds.csv.gz"),
        "labels.csv.gz",
        _gzip_csv("labels.csv.gz"),
    ),
}


@pytest.mark.parametrize("case", FORMAT_CASES.values(), ids=list(FORMAT_CASES))
def test_every_format_combination_gives_the_same_loss(work: Path, case: tuple) -> None:
    preds_name, write_preds, labels_name, write_labels = case
    write_preds(preds_frame())
    write_labels(labels_frame())
    data = report(preds_name, labels_name)
    assert_loss(data, REF_LOSS)
    assert data["accuracy"] == REF_ACC
    assert data["classes"] == CLASSES
    assert data["input"] == "probs"
    assert data["inputs"] == {"preds": preds_name, "labels": labels_name}


@pytest.mark.parametrize("name", ["preds.csv", "preds.parquet", "preds.tsv", "preds.csv.gz"])
def test_labels_inside_preds(work: Path, name: str) -> None:
    if name.endswith(".gz"):
        _gzip_csv(name)(preds_frame(label=NAMES))
    else:
        save(preds_frame(label=NAMES), name)
    data = report(name)
    assert_loss(data, REF_LOSS)
    assert data["classes"] == CLASSES
    assert data["n_classes"] == 3
    assert data["inputs"] == {"preds": name, "labels": None}
    assert data["reasons"]["columns"] == "numeric columns p_cat, p_dog, p_bird"


@pytest.mark.parametrize("kind", ["csv", "parquet", "tsv"])
def test_standard_input_gives_the_same_report_as_the_file(basic: Path, kind: str) -> None:
    frame = preds_frame()
    if kind == "parquet":
        data = parquet_bytes(frame)
    else:
        data = frame.to_csv(index=False, sep="\t" if kind == "tsv" else ",").encode()
    from_file = report("preds.csv", "labels.csv")
    from_stdin = report("-", "labels.csv", input=data)
    assert from_stdin["inputs"]["labels"] == "labels.csv"
    for key in set(from_file) - {"inputs"}:
        assert from_stdin[key] == from_file[key], key
    assert_loss(from_stdin, REF_LOSS)


def test_standard_input_labels_inside(work: Path) -> None:
    frame = preds_frame(label=NAMES)
    data = report("-", input=frame.to_csv(index=False).encode())
    assert_loss(data, REF_LOSS)
    assert data["inputs"]["labels"] is None


# -- pandas index columns --------------------------------------------------------------


def test_csv_with_pandas_index_is_not_a_prediction_column(work: Path) -> None:
    frame = preds_frame(label=NAMES)
    frame.to_csv("preds.csv")  # the index, under an empty header name
    assert Path("preds.csv").read_text().startswith(",p_cat,")
    data = report("preds.csv")
    assert data["classes"] == CLASSES
    assert_loss(data, REF_LOSS)


def test_csv_with_unnamed_0_is_not_a_prediction_column(work: Path) -> None:
    frame = preds_frame(label=NAMES)
    frame.to_csv("once.csv")
    pd.read_csv("once.csv").to_csv("preds.csv")  # 'Unnamed: 0' and an empty name
    header = Path("preds.csv").read_text().splitlines()[0]
    assert header == ",Unnamed: 0,p_cat,p_dog,p_bird,label"
    data = report("preds.csv")
    assert data["classes"] == CLASSES
    assert data["n_classes"] == 3
    assert_loss(data, REF_LOSS)


def test_parquet_index_level_column_is_not_a_prediction_column(work: Path) -> None:
    frame = preds_frame(label=NAMES)
    frame.index = pd.Index(np.arange(100, 100 + N))
    frame.to_parquet("preds.parquet")
    assert "__index_level_0__" in pq.read_schema("preds.parquet").names
    data = report("preds.parquet")
    assert data["classes"] == CLASSES
    assert_loss(data, REF_LOSS)


def test_labels_file_with_index_column(work: Path) -> None:
    save(preds_frame(), "preds.csv")
    labels_frame().to_csv("labels.csv")  # ",label": the label is the only real column
    data = report("preds.csv", "labels.csv")
    assert_loss(data, REF_LOSS)


# -- labels ----------------------------------------------------------------------------

LABEL_FORMS = {
    "names-with-prefix": (NAMES, "class names"),
    "indices": (list(Y), "class indices 0..2"),
    "float-indices": ([float(v) for v in Y], "class indices 0..2"),
    "text-2.0": ([f"{v}.0" for v in Y], "class indices 0..2"),
}


@pytest.mark.parametrize("form", LABEL_FORMS.values(), ids=list(LABEL_FORMS))
@pytest.mark.parametrize("ext", ["csv", "parquet"])
def test_label_forms(work: Path, form: tuple, ext: str) -> None:
    values, reason = form
    save(preds_frame(), "preds.csv")
    save(labels_frame(values), f"labels.{ext}")
    if ext == "csv" and isinstance(values[0], float):
        assert Path("labels.csv").read_text().splitlines()[1] == f"{float(Y[0])}"
    data = report("preds.csv", f"labels.{ext}")
    assert_loss(data, REF_LOSS)
    assert data["classes"] == CLASSES
    assert data["reasons"]["labels"] == reason


NUMERIC_NAMED = np.array([[0.7, 0.2, 0.1], [0.2, 0.7, 0.1], [0.1, 0.1, 0.8], [0.3, 0.3, 0.4]])
NUMERIC_LABELS = {  # the classes are named 1, 2, 3; every label is one of those names
    "csv-int": ("preds.csv", [1, 2, 2, 3]),
    "parquet-int": ("preds.parquet", [1, 2, 2, 3]),
    "csv-float": ("preds.csv", [1.0, 2.0, 2.0, 3.0]),
    "parquet-float": ("preds.parquet", [1.0, 2.0, 2.0, 3.0]),
    "csv-text": ("preds.csv", ["1", "2", "2", "3"]),
    "parquet-text-2.0": ("preds.parquet", ["1.0", "2.0", "2.0", "3.0"]),
}


@pytest.mark.parametrize("case", NUMERIC_LABELS.values(), ids=list(NUMERIC_LABELS))
def test_integer_valued_labels_of_classes_named_by_numbers(work: Path, case: tuple) -> None:
    """SPEC: "when the class names are themselves integers and the labels are integers,
    the two readings conflict unless the names are 0..K-1 in order": exit 2 naming
    --label-type and --classes. 2, "2" and 2.0 are one value, so with --label-type names
    labels 1, 2, 3 of classes named 1, 2, 3 are names whatever the file format writes."""
    name, labels = case
    save(preds_frame(NUMERIC_NAMED, columns=["p_1", "p_2", "p_3"], label=labels), name)
    result = xent("score", name)
    assert result.exit_code == 2
    assert "--label-type" in result.stderr and "--classes" in result.stderr
    data = report(name, "--label-type", "names")
    assert data["classes"] == ["1", "2", "3"]
    assert [c["n"] for c in data["per_class"]] == [1, 2, 1]
    expected = -np.mean(np.log([0.7, 0.7, 0.1, 0.4]))
    assert_loss(data, float(expected), n=4)
    assert data["reasons"]["labels"] == "class names (--label-type names)"


def test_unprefixed_class_columns_and_names(work: Path) -> None:
    save(preds_frame(columns=CLASSES, label=NAMES), "preds.csv")
    data = report("preds.csv")
    assert data["classes"] == CLASSES
    assert_loss(data, REF_LOSS)


def test_label_column_named_target(work: Path) -> None:
    save(preds_frame(target=list(Y)), "preds.csv")
    data = report("preds.csv")
    assert_loss(data, REF_LOSS)


def test_label_col_option(work: Path) -> None:
    save(preds_frame(), "preds.csv")
    save(pd.DataFrame({"truth": NAMES, "note": ["x"] * N}), "labels.csv")
    data = report("preds.csv", "labels.csv", "--label-col", "truth")
    assert_loss(data, REF_LOSS)


# -- binary ----------------------------------------------------------------------------

PB = np.random.default_rng(3).uniform(0.02, 0.98, size=N)
YB = (np.random.default_rng(4).uniform(size=N) < PB).astype(int)
YB[:2] = [0, 1]
REF_BINARY = log_loss(YB, PB, labels=[0, 1])
REF_BINARY_ACC = accuracy_score(YB, (PB > 0.5).astype(int))

NO_CLASS = "'prediction' holds P(label = 1): its name names no class"  # SPEC: reasons say so
BINARY_LABELS = {
    "0/1": ([int(v) for v in YB], (), f"0/1; {NO_CLASS}", ["0", "1"]),
    "true/false": ([bool(v) for v in YB], (), f"true/false; {NO_CLASS}", ["0", "1"]),
    "text-true/false": (
        ["true" if v else "false" for v in YB],
        (),
        f"true/false; {NO_CLASS}",
        ["0", "1"],
    ),
    "names-positive": (
        ["spam" if v else "ham" for v in YB],
        ("--positive", "spam"),
        "class names, positive class 'spam' (--positive)",
        ["ham", "spam"],
    ),
}


@pytest.mark.parametrize("form", BINARY_LABELS.values(), ids=list(BINARY_LABELS))
@pytest.mark.parametrize("ext", ["csv", "parquet"])
def test_binary_labels(work: Path, form: tuple, ext: str) -> None:
    values, options, reason, classes = form
    save(pd.DataFrame({"prediction": PB, "label": values}), f"preds.{ext}")
    data = report(f"preds.{ext}", *options)
    assert data["task"] == "binary"
    assert data["reasons"]["task"] == "one prediction column"
    assert data["input"] == "probs"
    assert data["reasons"]["input"] == "one column, values in [0, 1]"
    assert data["reasons"]["labels"] == reason
    assert data["classes"] == classes
    assert data["n_classes"] == 2
    assert_loss(data, REF_BINARY)
    assert data["accuracy"] == pytest.approx(REF_BINARY_ACC, abs=TOL)
    negatives, positives = data["per_class"]
    assert negatives["n"] == int((YB == 0).sum())
    assert positives["n"] == int((YB == 1).sum())
    assert positives["mean_loss"] == pytest.approx(-np.log(PB[YB == 1]).mean(), abs=TOL)
    assert negatives["mean_loss"] == pytest.approx(-np.log1p(-PB[YB == 0]).mean(), abs=TOL)


def test_binary_names_positive_from_column_name(work: Path) -> None:
    save(pd.DataFrame({"p_spam": PB, "label": ["spam" if v else "ham" for v in YB]}), "p.csv")
    data = report("p.csv")
    assert data["classes"] == ["ham", "spam"]
    assert_loss(data, REF_BINARY)


def test_binary_logits(work: Path) -> None:
    z = np.log(PB) - np.log1p(-PB) + 3.0  # some outside [0, 1]
    save(pd.DataFrame({"logit": z, "label": YB}), "preds.csv")
    expected = float(
        torch.nn.functional.binary_cross_entropy_with_logits(
            torch.tensor(z, dtype=torch.float64), torch.tensor(YB, dtype=torch.float64)
        )
    )
    data = report("preds.csv")
    assert data["input"] == "logits"
    assert data["reasons"]["input"] == "values outside [0, 1]"
    assert_loss(data, expected)
    assert data["accuracy"] == accuracy_score(YB, (z > 0).astype(int))


# -- input kinds -----------------------------------------------------------------------


def test_auto_logits(work: Path) -> None:
    save(preds_frame(LOGITS, LOGIT_COLUMNS, label=NAMES), "preds.csv")
    data = report("preds.csv")
    assert data["input"] == "logits"
    assert data["reasons"]["input"] == "values outside [0, 1]"
    assert data["reasons"]["task"] == "3 prediction columns, one label per row"
    assert data["task"] == "multiclass"
    assert_loss(data, torch_ce(LOGITS, Y))
    assert data["accuracy"] == accuracy_score(Y, LOGITS.argmax(axis=1))


def test_auto_logprobs(work: Path) -> None:
    save(preds_frame(np.log(P), LOGPROB_COLUMNS, label=NAMES), "preds.csv")
    data = report("preds.csv")
    assert data["input"] == "logprobs"
    assert data["reasons"]["input"] == "values <= 0, rows log-sum-exp to 0"
    assert_loss(data, REF_LOSS)
    assert data["renormalized"] == 0


def test_auto_probs(basic: Path) -> None:
    data = report("preds.csv", "labels.csv")
    assert data["input"] == "probs"
    assert data["reasons"]["input"] == "values in [0, 1], rows sum to 1"


def test_input_logits_on_values_in_unit_interval(work: Path) -> None:
    scores = np.random.default_rng(5).uniform(0, 1, size=(N, 3))  # rows do not sum to 1
    save(preds_frame(scores, label=NAMES), "preds.csv")
    data = report("preds.csv", "--input", "logits")
    assert data["input"] == "logits"
    assert data["reasons"]["input"] == "--input logits"
    assert_loss(data, torch_ce(scores, Y))


def test_input_probs_given(basic: Path) -> None:
    data = report("preds.csv", "labels.csv", "--input", "probs")
    assert data["input"] == "probs"
    assert data["reasons"]["input"] == "--input probs"
    assert_loss(data, REF_LOSS)


def test_input_logprobs_given(work: Path) -> None:
    save(preds_frame(np.log(P), label=NAMES), "preds.csv")
    data = report("preds.csv", "--input", "logprobs")
    assert data["input"] == "logprobs"
    assert data["reasons"]["input"] == "--input logprobs"
    assert_loss(data, REF_LOSS)


def test_large_logits_are_exact(work: Path) -> None:
    z = np.array([[1000.0, 1000.0, -5.0], [0.0, -1e300, 3.0]])
    save(preds_frame(z, LOGIT_COLUMNS, label=["cat", "bird"]), "preds.csv")
    data = report("preds.csv")
    expected = (math.log(2.0) + math.log1p(math.exp(-1005.0)) + math.log1p(math.exp(-3.0))) / 2
    assert_loss(data, expected, n=2)


# -- --id-col --------------------------------------------------------------------------

IDS = [f"{i:03d}" for i in range(N)]  # '000', '001', ... '007' ...


def test_id_col_join_with_shuffled_labels_and_extra_rows(work: Path) -> None:
    save(preds_frame(id=IDS), "preds.csv")
    order = np.random.default_rng(9).permutation(N)
    shuffled = labels_frame([NAMES[i] for i in order], id=[IDS[i] for i in order])
    extra = labels_frame(["cat", "dog", "bird"], id=["7", "0007", "x9"])  # not '007'
    save(pd.concat([shuffled, extra], ignore_index=True), "labels.csv")
    save(preds_frame(), "plain.csv")  # the same rows without ids, paired by position
    save(labels_frame(), "aligned.csv")
    aligned = report("plain.csv", "aligned.csv")
    result = xent("score", "preds.csv", "labels.csv", "--id-col", "id", "--json")
    assert result.exit_code == 0
    joined = strict_json(result.stdout)
    assert_loss(joined, REF_LOSS)
    for key in ("loss", "mean_loss", "sum_loss", "accuracy", "per_class", "n_samples"):
        assert joined[key] == aligned[key], key
    assert joined["unmatched_labels"] == 3
    lines = stderr_lines(result)
    assert len(lines) == 1
    assert lines[0].startswith("Warning:")
    assert "3 rows of labels.csv" in lines[0]


def test_id_col_join_without_extra_rows(work: Path) -> None:
    save(preds_frame(id=IDS), "preds.parquet")
    order = np.random.default_rng(10).permutation(N)
    save(labels_frame([NAMES[i] for i in order], id=[IDS[i] for i in order]), "labels.parquet")
    data = report("preds.parquet", "labels.parquet", "--id-col", "id")
    assert_loss(data, REF_LOSS)
    assert data["unmatched_labels"] == 0


def test_id_keys_are_text_and_written_back_as_read(work: Path) -> None:
    ids = ["007", "7", "0.50", "10"]
    probs = np.array([[0.9, 0.05, 0.05], [0.2, 0.7, 0.1], [0.3, 0.3, 0.4], [0.6, 0.3, 0.1]])
    save(preds_frame(probs, id=ids), "preds.csv")
    # '7' is the dog and '007' the cat: a numeric join would mix them up
    save(labels_frame(["dog", "bird", "cat", "cat"], id=["7", "0.50", "10", "007"]), "labels.csv")
    result = xent("score", "preds.csv", "labels.csv", "--id-col", "id", "--per-sample", "-", "-q")
    assert result.exit_code == 0
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["id", "label", "loss", "pred", "p_true"]
    assert [r[0] for r in rows[1:]] == ids
    assert [r[1] for r in rows[1:]] == ["cat", "dog", "bird", "cat"]
    expected = -np.log([0.9, 0.7, 0.4, 0.6])
    for row, loss in zip(rows[1:], expected, strict=True):
        assert float(row[2]) == pytest.approx(loss, abs=TOL)


@pytest.mark.parametrize("ext", ["csv", "parquet", "tsv"])
def test_per_sample_keeps_id_text(work: Path, ext: str) -> None:
    ids = ["007", "008", "010"]
    probs = np.array([[0.9, 0.05, 0.05], [0.2, 0.7, 0.1], [0.3, 0.3, 0.4]])
    save(preds_frame(probs, id=ids), "preds.csv")
    save(labels_frame(["cat", "dog", "bird"], id=ids), "labels.csv")
    result = xent(
        "score", "preds.csv", "labels.csv", "--id-col", "id", "--per-sample", f"out.{ext}", "-q"
    )
    assert result.exit_code == 0
    if ext == "parquet":
        table = pq.read_table("out.parquet")
        assert table.column_names == ["id", "label", "loss", "pred", "p_true"]
        assert table.column("id").to_pylist() == ids
    else:
        delimiter = "\t" if ext == "tsv" else ","
        rows = read_rows(f"out.{ext}", delimiter)
        assert rows[0] == ["id", "label", "loss", "pred", "p_true"]
        assert [r[0] for r in rows[1:]] == ids


# -- column selection ------------------------------------------------------------------


@pytest.mark.parametrize("spec", ["p_cat,p_dog,p_bird", "p_cat, p_dog, p_bird", "p_*"])
def test_pred_cols(work: Path, spec: str) -> None:
    epochs = np.arange(N) + 5  # a numeric column that is not a prediction
    save(preds_frame(epoch=epochs, label=NAMES), "preds.csv")
    data = report("preds.csv", "--pred-cols", spec)
    assert data["classes"] == CLASSES
    assert data["reasons"]["columns"] == (
        "--pred-cols p_cat, p_dog, p_bird; not 'epoch' (not in --pred-cols)"
    )
    assert_loss(data, REF_LOSS)


def test_pred_cols_chooses_the_order(work: Path) -> None:
    save(preds_frame(label=NAMES), "preds.csv")
    data = report("preds.csv", "--pred-cols", "p_bird,p_cat,p_dog")
    assert data["classes"] == ["bird", "cat", "dog"]
    assert_loss(data, REF_LOSS)


def test_text_columns_are_passed_over(work: Path) -> None:
    save(preds_frame(note=["n"] * N, label=NAMES), "preds.csv")
    data = report("preds.csv")
    assert data["reasons"]["columns"] == "numeric columns p_cat, p_dog, p_bird; not 'note' (text)"
    assert_loss(data, REF_LOSS)


# -- reduction and log base ------------------------------------------------------------


def test_reduction_sum(basic: Path) -> None:
    data = report("preds.csv", "labels.csv", "--reduction", "sum")
    expected_sum = float(nll(P, Y).sum())
    assert data["loss"] == pytest.approx(expected_sum, rel=TOL)
    assert data["sum_loss"] == pytest.approx(expected_sum, rel=TOL)
    assert data["mean_loss"] == pytest.approx(REF_LOSS, abs=TOL)
    assert data["loss"] == data["sum_loss"]
    assert data["perplexity"] == pytest.approx(math.exp(REF_LOSS), rel=TOL)
    assert "|reduction:sum|" in data["signature"]


def test_reduction_sum_logits_against_torch(work: Path) -> None:
    save(preds_frame(LOGITS, LOGIT_COLUMNS, label=NAMES), "preds.csv")
    data = report("preds.csv", "--reduction", "sum")
    assert data["loss"] == pytest.approx(torch_ce(LOGITS, Y, "sum"), rel=TOL)


@pytest.mark.parametrize(("base", "scale"), [("2", math.log(2.0)), ("10", math.log(10.0))])
def test_log_base(basic: Path, base: str, scale: float) -> None:
    data = report("preds.csv", "labels.csv", "--log-base", base)
    assert data["log_base"] == base
    assert_loss(data, REF_LOSS / scale)
    assert data["perplexity"] == pytest.approx(math.exp(REF_LOSS), rel=TOL)  # from nats
    expected = ref_per_class(nll(P, Y) / scale, Y, P.argmax(axis=1), 3)
    for entry, (_n, mean, _acc) in zip(data["per_class"], expected, strict=True):
        assert entry["mean_loss"] == pytest.approx(mean, abs=TOL)
    assert f"|base:{base}|" in data["signature"]


# -- summary formats -------------------------------------------------------------------


def test_table_is_the_default(basic: Path) -> None:
    result = xent("score", "preds.csv", "labels.csv", env={"COLUMNS": "100"})
    assert result.exit_code == 0
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert any(line.split() == ["loss", "(mean,", "nats)", f"{REF_LOSS:.6g}"] for line in lines)
    assert any(line.split() == ["perplexity", f"{math.exp(REF_LOSS):.6g}"] for line in lines)
    assert any(line.split() == ["accuracy", f"{REF_ACC:.6g}"] for line in lines)
    assert any(line.split() == ["samples", str(N)] for line in lines)
    for name, (n, mean, acc) in zip(
        CLASSES, ref_per_class(nll(P, Y), Y, P.argmax(axis=1), 3), strict=True
    ):
        assert [name, str(n), f"{mean:.6g}", f"{acc:.6g}"] in [line.split() for line in lines]


def test_format_csv(basic: Path) -> None:
    result = xent("score", "preds.csv", "labels.csv", "--format", "csv")
    assert result.exit_code == 0
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0][:6] == ["scope", "class", "n", "mean_loss", "sum_loss", "accuracy"]
    assert rows[1][:3] == ["all", "", str(N)]
    assert float(rows[1][3]) == pytest.approx(REF_LOSS, abs=TOL)
    assert float(rows[1][4]) == pytest.approx(REF_LOSS * N, rel=TOL)
    assert float(rows[1][5]) == REF_ACC
    expected = ref_per_class(nll(P, Y), Y, P.argmax(axis=1), 3)
    # then the reliability bins (the evaluation figures' rows, tests/test_report_figures.py)
    assert [row[0] for row in rows[1:5]] == ["all", "class", "class", "class"]
    assert {row[0] for row in rows[5:]} <= {"bin"}
    for row, name, (n, mean, acc) in zip(rows[2:5], CLASSES, expected, strict=True):
        assert row[:3] == ["class", name, str(n)]
        assert float(row[3]) == pytest.approx(mean, abs=TOL)
        assert float(row[4]) == pytest.approx(mean * n, rel=TOL)
        assert float(row[5]) == pytest.approx(acc, abs=TOL)


ODD = ["a|b", "x*y", "<b>"]
ODD_MD = ["a\\|b", "x\\*y", "\\<b\\>"]


@pytest.fixture()
def odd(work: Path) -> Path:
    """Classes whose names mean something in Markdown and HTML, labels as indices."""
    save(preds_frame(columns=[f"p_{c}" for c in ODD], label=list(Y)), "preds.csv")
    return work


def _md_cells(line: str) -> list[str]:
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1]]


def test_format_markdown_escapes_class_names(odd: Path) -> None:
    result = xent("score", "preds.csv", "--format", "markdown")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    expected = ref_per_class(nll(P, Y), Y, P.argmax(axis=1), 3)
    for escaped, (n, mean, acc) in zip(ODD_MD, expected, strict=True):
        line = f"| {escaped} | {n} | {mean:.6g} | {acc:.6g} |"
        assert line in lines
        assert len(_md_cells(line)) == 4
    assert ["loss (mean, nats)", f"{REF_LOSS:.6g}"] in [_md_cells(x) for x in lines]
    assert ["accuracy", f"{REF_ACC:.6g}"] in [_md_cells(x) for x in lines]
    assert ["samples", str(N)] in [_md_cells(x) for x in lines]
    for line in lines:
        if line.startswith("|"):
            assert len(_md_cells(line)) in (2, 4), line
    data = report("preds.csv")
    assert data["classes"] == ODD


def test_output_files(odd: Path) -> None:
    for ext, fmt in (("json", "json"), ("md", "markdown"), ("csv", "csv")):
        result = xent("score", "preds.csv", "--output", f"report.{ext}", "-q")
        assert result.exit_code == 0
        assert result.stdout == ""
        shown = xent("score", "preds.csv", "--format", fmt).stdout
        assert Path(f"report.{ext}").read_text() == shown
    data = strict_json(Path("report.json").read_text())
    assert data["loss"] == pytest.approx(REF_LOSS, abs=TOL)
    assert data["classes"] == ODD
    result = xent("score", "preds.csv", "--output", "report.html", "-q")
    assert result.exit_code == 0
    page = Path("report.html").read_text()
    assert page.lstrip().lower().startswith("<!doctype html")
    assert "&lt;b&gt;" in page
    assert "<b>" not in page.replace("<body>", "")
    assert "a|b" in page and "x*y" in page
    assert f"<td>{REF_LOSS:.6g}</td>" in page
    assert not [p.name for p in odd.iterdir() if "xent-tmp" in p.name]


def test_output_with_summary_on_stdout(basic: Path) -> None:
    result = xent("score", "preds.csv", "labels.csv", "-o", "r.json", "--format", "csv")
    assert result.exit_code == 0
    assert result.stdout.startswith("scope,class,n,mean_loss,sum_loss,accuracy,")
    assert strict_json(Path("r.json").read_text())["n_samples"] == N


def test_existing_output_file_is_replaced(basic: Path) -> None:
    Path("report.json").write_text('{"stale": true, "loss": 99}\n' + "x" * 5000)
    Path("samples.csv").write_text("old,content\n" * 1000)
    result = xent(
        "score",
        "preds.csv",
        "labels.csv",
        "--output",
        "report.json",
        "--per-sample",
        "samples.csv",
        "-q",
    )
    assert result.exit_code == 0
    data = strict_json(Path("report.json").read_text())
    assert "stale" not in data
    assert data["loss"] == pytest.approx(REF_LOSS, abs=TOL)
    rows = read_rows("samples.csv")
    assert rows[0] == ["row", "label", "loss", "pred", "p_true"]
    assert len(rows) == N + 1
    assert sorted(p.name for p in basic.iterdir()) == [
        "labels.csv",
        "preds.csv",
        "report.json",
        "samples.csv",
    ]


# -- --per-sample ----------------------------------------------------------------------


def _check_sample_rows(
    keys: list[Any],
    labels: list[str],
    losses: list[float],
    preds: list[str],
    p_true: list[float],
    scale: float = 1.0,
) -> None:
    assert keys == list(range(N))
    assert labels == NAMES
    expected = nll(P, Y) / scale
    assert len(losses) == N
    for got, want in zip(losses, expected, strict=True):
        assert got == pytest.approx(want, rel=0, abs=TOL)
    assert preds == [CLASSES[i] for i in P.argmax(axis=1)]
    for got, want in zip(p_true, P[np.arange(N), Y], strict=True):
        assert got == pytest.approx(want, rel=0, abs=TOL)


@pytest.mark.parametrize("ext", ["csv", "tsv"])
def test_per_sample_text(basic: Path, ext: str) -> None:
    result = xent("score", "preds.csv", "labels.csv", "--per-sample", f"s.{ext}", "--json")
    assert result.exit_code == 0
    assert strict_json(result.stdout)["n_samples"] == N
    rows = read_rows(f"s.{ext}", "\t" if ext == "tsv" else ",")
    assert rows[0] == ["row", "label", "loss", "pred", "p_true"]
    body = rows[1:]
    _check_sample_rows(
        [int(r[0]) for r in body],
        [r[1] for r in body],
        [float(r[2]) for r in body],
        [r[3] for r in body],
        [float(r[4]) for r in body],
    )


def test_per_sample_parquet(basic: Path) -> None:
    result = xent("score", "preds.csv", "labels.csv", "--per-sample", "s.parquet", "-q")
    assert result.exit_code == 0
    table = pq.read_table("s.parquet")
    assert table.column_names == ["row", "label", "loss", "pred", "p_true"]
    assert pa.types.is_integer(table.schema.field("row").type)
    assert table.schema.field("loss").type == pa.float64()
    columns = table.to_pydict()
    _check_sample_rows(
        columns["row"], columns["label"], columns["loss"], columns["pred"], columns["p_true"]
    )


def test_per_sample_in_bits(basic: Path) -> None:
    result = xent(
        "score", "preds.csv", "labels.csv", "--per-sample", "s.parquet", "--log-base", "2", "-q"
    )
    assert result.exit_code == 0
    c = pq.read_table("s.parquet").to_pydict()
    _check_sample_rows(c["row"], c["label"], c["loss"], c["pred"], c["p_true"], math.log(2.0))


def test_per_sample_logits_against_torch(work: Path) -> None:
    save(preds_frame(LOGITS, LOGIT_COLUMNS, label=NAMES), "preds.csv")
    result = xent("score", "preds.csv", "--per-sample", "s.csv", "-q")
    assert result.exit_code == 0
    frame = pd.read_csv("s.csv")
    expected = torch.nn.functional.cross_entropy(
        torch.tensor(LOGITS), torch.tensor(Y), reduction="none"
    ).numpy()
    np.testing.assert_allclose(frame["loss"].to_numpy(), expected, rtol=0, atol=TOL)
    np.testing.assert_allclose(frame["p_true"].to_numpy(), np.exp(-expected), rtol=1e-12, atol=0)
    assert frame["row"].tolist() == list(range(N))


def test_per_sample_binary(work: Path) -> None:
    save(pd.DataFrame({"p_1": PB, "label": YB}), "preds.csv")
    result = xent("score", "preds.csv", "--per-sample", "-", "-q")
    assert result.exit_code == 0
    frame = pd.read_csv(io.StringIO(result.stdout), dtype={"label": str, "pred": str})
    assert list(frame.columns) == ["row", "label", "loss", "pred", "p_true"]
    expected = np.where(YB == 1, -np.log(PB), -np.log1p(-PB))
    np.testing.assert_allclose(frame["loss"].to_numpy(), expected, rtol=0, atol=TOL)
    assert frame["label"].tolist() == [str(v) for v in YB]
    assert frame["pred"].tolist() == [str(int(v > 0.5)) for v in PB]
    np.testing.assert_allclose(
        frame["p_true"].to_numpy(), np.where(YB == 1, PB, 1 - PB), rtol=0, atol=TOL
    )


def test_per_sample_dash_writes_csv_to_stdout_and_summary_to_stderr(basic: Path) -> None:
    result = xent("score", "preds.csv", "labels.csv", "--per-sample", "-")
    assert result.exit_code == 0
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["row", "label", "loss", "pred", "p_true"]
    assert len(rows) == N + 1
    body = rows[1:]
    _check_sample_rows(
        [int(r[0]) for r in body],
        [r[1] for r in body],
        [float(r[2]) for r in body],
        [r[3] for r in body],
        [float(r[4]) for r in body],
    )
    assert "loss (mean, nats)" in result.stderr
    assert f"{REF_LOSS:.6g}" in result.stderr


def test_per_sample_dash_with_json_summary_on_stderr(basic: Path) -> None:
    result = xent("score", "preds.csv", "labels.csv", "--per-sample", "-", "--json")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0] == "row,label,loss,pred,p_true"
    data = strict_json(result.stderr)
    assert data["loss"] == pytest.approx(REF_LOSS, abs=TOL)


def test_per_sample_row_numbers_span_batches(work: Path) -> None:
    n = 70_000  # more than one batch of 65,536 rows
    rng = np.random.default_rng(1)
    probs = rng.dirichlet([1.0, 1.0, 1.0], size=n)
    labels = rng.integers(0, 3, size=n)
    save(preds_frame(probs, label=labels), "preds.parquet")
    result = xent("score", "preds.parquet", "--per-sample", "s.parquet", "--json")
    assert result.exit_code == 0
    data = strict_json(result.stdout)
    assert data["loss"] == pytest.approx(log_loss(labels, probs, labels=[0, 1, 2]), abs=TOL)
    table = pq.read_table("s.parquet")
    assert table.column("row").to_pylist() == list(range(n))
    np.testing.assert_allclose(
        table.column("loss").to_numpy(), nll(probs, labels), rtol=0, atol=TOL
    )


# -- quiet -----------------------------------------------------------------------------


def test_quiet_prints_nothing(basic: Path) -> None:
    result = xent("score", "preds.csv", "labels.csv", "-q")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert result.stderr == ""
    long = xent("score", "preds.csv", "labels.csv", "--quiet", "--json")
    assert (long.exit_code, long.stdout, long.stderr) == (0, "", "")


def test_quiet_per_sample_dash_is_only_csv(basic: Path) -> None:
    result = xent("score", "preds.csv", "labels.csv", "-q", "--per-sample", "-")
    assert result.exit_code == 0
    assert result.stderr == ""
    assert len(result.stdout.splitlines()) == N + 1


# -- gates -----------------------------------------------------------------------------


@pytest.fixture()
def gate_data(work: Path) -> Path:
    """One binary row whose loss is 0.3500012 nats; 4 rows at 75% and 3 at 2/3 accuracy."""
    save(pd.DataFrame({"p_1": [math.exp(-0.3500012)], "label": [1]}), "one.csv")
    probs = [[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]]
    save(preds_frame(np.array(probs), columns=["p_cat", "p_dog"], label=[0, 1, 1, 1]), "four.csv")
    probs = [[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]]
    save(preds_frame(np.array(probs), columns=["p_cat", "p_dog"], label=[0, 1, 1]), "three.csv")
    return work


def test_max_loss_passes(gate_data: Path) -> None:
    result = xent("score", "one.csv", "--max-loss", "0.36", "--json")
    assert result.exit_code == 0
    assert result.stderr == ""
    data = strict_json(result.stdout)
    assert data["gates"] == [
        {"name": "max_loss", "threshold": 0.36, "value": data["loss"], "passed": True}
    ]
    assert data["passed"] is True
    assert data["loss"] == pytest.approx(0.3500012, abs=TOL)


def test_max_loss_fails(gate_data: Path) -> None:
    result = xent("score", "one.csv", "--max-loss", "0.35")
    assert result.exit_code == 1
    assert stderr_lines(result) == ["Gate failed: loss 0.3500012 > 0.35 (--max-loss)"]
    assert "loss (mean, nats)" in result.stdout
    quiet = xent("score", "one.csv", "--max-loss", "0.35", "-q")
    assert quiet.exit_code == 1
    assert quiet.stdout == ""
    assert stderr_lines(quiet) == ["Gate failed: loss 0.3500012 > 0.35 (--max-loss)"]
    data = report("one.csv", "--max-loss", "0.35", code=1)
    assert data["gates"] == [
        {"name": "max_loss", "threshold": 0.35, "value": data["loss"], "passed": False}
    ]
    assert data["passed"] is False


def test_max_loss_compares_the_exact_value(gate_data: Path) -> None:
    loss = report("one.csv")["loss"]
    assert report("one.csv", "--max-loss", repr(loss))["passed"] is True
    below = float(np.nextafter(loss, -math.inf))
    result = xent("score", "one.csv", "--max-loss", repr(below), "-q")
    assert result.exit_code == 1
    lines = stderr_lines(result)
    assert len(lines) == 1
    match = re.fullmatch(r"Gate failed: loss (\S+) > (\S+) \(--max-loss\)", lines[0])
    assert match is not None, lines[0]
    shown_value, shown_threshold = float(match.group(1)), float(match.group(2))
    assert shown_threshold == below
    assert shown_value > shown_threshold  # enough digits to show why it failed
    assert shown_value == pytest.approx(loss, rel=1e-6)


GATE_LINES = {
    # (file, option, threshold, the figure as xent computes it, which way it failed)
    "loss-vs-longer-threshold": ("one.csv", "--max-loss", "0.350001", "loss", ">"),
    "loss-vs-7-digit-threshold": ("one.csv", "--max-loss", "0.3500011", "loss", ">"),
    "accuracy-two-thirds": ("three.csv", "--min-accuracy", "0.66667", "accuracy", "<"),
    "accuracy-vs-longer-threshold": ("three.csv", "--min-accuracy", "0.6666667", "accuracy", "<"),
}


@pytest.mark.parametrize("case", GATE_LINES.values(), ids=list(GATE_LINES))
def test_gate_line_digits_show_why_it_failed(gate_data: Path, case: tuple) -> None:
    """SPEC: "the line prints enough digits to show why it failed" -- the value as shown
    must itself be beyond the threshold as shown, whatever digits the threshold has."""
    name, option, threshold, figure, op = case
    exact = report(name)[figure]
    result = xent("score", name, option, threshold, "-q")
    assert result.exit_code == 1
    lines = stderr_lines(result)
    assert len(lines) == 1
    match = re.fullmatch(
        rf"Gate failed: {figure} (\S+) {re.escape(op)} (\S+) \({option}\)", lines[0]
    )
    assert match is not None, lines[0]
    shown_value, shown_threshold = float(match.group(1)), float(match.group(2))
    assert shown_threshold == float(threshold)
    if op == ">":
        assert shown_value > shown_threshold, lines[0]
    else:
        assert shown_value < shown_threshold, lines[0]
    assert shown_value == pytest.approx(exact, rel=1e-6)


def test_min_accuracy(gate_data: Path) -> None:
    passed = report("four.csv", "--min-accuracy", "0.75")
    assert passed["accuracy"] == 0.75
    assert passed["gates"] == [
        {"name": "min_accuracy", "threshold": 0.75, "value": 0.75, "passed": True}
    ]
    assert passed["passed"] is True
    result = xent("score", "four.csv", "--min-accuracy", "0.76", "--json")
    assert result.exit_code == 1
    assert stderr_lines(result) == ["Gate failed: accuracy 0.75 < 0.76 (--min-accuracy)"]
    data = strict_json(result.stdout)
    assert data["gates"] == [
        {"name": "min_accuracy", "threshold": 0.76, "value": 0.75, "passed": False}
    ]
    assert data["passed"] is False
    above = float(np.nextafter(0.75, 1.0))
    assert xent("score", "four.csv", "--min-accuracy", repr(above), "-q").exit_code == 1


def test_two_gates_one_failing(gate_data: Path) -> None:
    result = xent("score", "four.csv", "--max-loss", "10", "--min-accuracy", "0.8", "--json")
    assert result.exit_code == 1
    data = strict_json(result.stdout)
    expected_loss = float(-np.mean(np.log([0.9, 0.8, 0.4, 0.7])))
    assert data["loss"] == pytest.approx(expected_loss, abs=TOL)
    assert data["gates"] == [
        {"name": "max_loss", "threshold": 10.0, "value": data["loss"], "passed": True},
        {"name": "min_accuracy", "threshold": 0.8, "value": 0.75, "passed": False},
    ]
    assert data["passed"] is False
    assert stderr_lines(result) == ["Gate failed: accuracy 0.75 < 0.8 (--min-accuracy)"]


def test_both_gates_passing(basic: Path) -> None:
    result = xent(
        "score", "preds.csv", "labels.csv", "--max-loss", "5", "--min-accuracy", "0", "-q"
    )
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")


# -- warnings --------------------------------------------------------------------------


def test_renormalised_rows_warn(work: Path) -> None:
    probs = P.copy()
    probs[3] *= 1.0005  # sums to 1.0005, within --sum-tol 1e-3
    probs[5] *= 0.9996
    save(preds_frame(probs, label=NAMES), "preds.csv")
    result = xent("score", "preds.csv", "--json")
    assert result.exit_code == 0
    lines = stderr_lines(result)
    assert len(lines) == 1
    assert lines[0].startswith("Warning: ")
    assert "renormalised 2 rows" in lines[0]
    data = strict_json(result.stdout)
    assert data["renormalized"] == 2
    fixed = probs / probs.sum(axis=1, keepdims=True)
    assert_loss(data, float(nll(fixed, Y).mean()))


def test_clipped_probabilities_warn(work: Path) -> None:
    probs = P.copy()
    probs[0] = [0.0, 0.5, 0.5]  # the cat gets 0
    save(preds_frame(probs, label=NAMES), "preds.csv")
    result = xent("score", "preds.csv", "--json")
    assert result.exit_code == 0
    lines = stderr_lines(result)
    assert len(lines) == 1
    assert lines[0].startswith("Warning: ")
    assert "clipped 1 probability" in lines[0]
    data = strict_json(result.stdout)
    assert data["clipped"] == 1
    eps = float(np.finfo(np.float64).eps)
    expected = -np.log(np.clip(probs[np.arange(N), Y], eps, 1 - eps)).mean()
    assert_loss(data, float(expected))


def test_clip_eps_given(work: Path) -> None:
    probs = P.copy()
    probs[0] = [0.0, 0.5, 0.5]
    save(preds_frame(probs, label=NAMES), "preds.csv")
    result = xent("score", "preds.csv", "--eps", "1e-7", "--json")
    assert result.exit_code == 0
    data = strict_json(result.stdout)
    clipped = np.clip(probs[np.arange(N), Y], 1e-7, 1 - 1e-7)
    assert data["clipped"] == int((clipped != probs[np.arange(N), Y]).sum())
    assert_loss(data, float(-np.log(clipped).mean()))
    assert all(line.startswith("Warning: ") for line in stderr_lines(result))


def test_warnings_with_table_output(work: Path) -> None:
    probs = P.copy()
    probs[0] = [0.0, 0.5, 0.5]
    probs[1] *= 1.0004
    save(preds_frame(probs, label=NAMES), "preds.csv")
    result = xent("score", "preds.csv")
    assert result.exit_code == 0
    lines = stderr_lines(result)
    assert len(lines) == 2
    assert all(line.startswith("Warning: ") for line in lines)
    assert "Warning" not in result.stdout


# -- version and help ------------------------------------------------------------------


def test_version() -> None:
    result = xent("--version")
    assert result.exit_code == 0
    assert result.stdout == f"xent, version {version('xentcli')}\n"


def test_group_help() -> None:
    long, short = xent("--help"), xent("-h")
    assert long.exit_code == short.exit_code == 0
    assert long.stdout == short.stdout
    assert long.stdout.startswith("Usage: xent [OPTIONS] COMMAND [ARGS]...")
    assert re.search(r"^\s+score\s+\S", long.stdout, re.M)
    assert "--version" in long.stdout


SCORE_OPTIONS = [
    "--pred-cols",
    "--label-col",
    "--id-col",
    "--input",
    "--task",
    "--positive",
    "--reduction",
    "--log-base",
    "--eps",
    "--sum-tol",
    "--renormalize",
    "--max-loss",
    "--min-accuracy",
    "--format",
    "--json",
    "--output",
    "--per-sample",
    "--quiet",
    "-h",
]


def test_score_help() -> None:
    long, short = xent("score", "--help"), xent("score", "-h")
    assert long.exit_code == short.exit_code == 0
    assert long.stdout == short.stdout
    assert long.stdout.startswith("Usage: xent score [OPTIONS] PREDS [LABELS]")
    for option in SCORE_OPTIONS:
        assert re.search(rf"(^|[\s,]){re.escape(option)}\b", long.stdout), option


# -- real processes --------------------------------------------------------------------

CONSOLE_SCRIPT = Path(sys.executable).with_name("xent")
XENT = str(CONSOLE_SCRIPT if CONSOLE_SCRIPT.exists() else ROOT / ".venv" / "bin" / "xent")
ESC = "\x1b"


def clean_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"FORCE_COLOR", "NO_COLOR", "TERM", "COLUMNS", "LINES", "CLICOLOR_FORCE"}
    }
    env.update(extra)
    return env


def test_per_sample_into_head_is_quiet(work: Path) -> None:
    n = 200_000
    rng = np.random.default_rng(2)
    probs = rng.dirichlet([1.0, 1.0, 1.0], size=n)
    labels = rng.integers(0, 3, size=n)
    save(preds_frame(probs), "preds.csv")
    save(labels_frame([CLASSES[i] for i in labels]), "labels.csv")
    script = (
        f"'{XENT}' score preds.csv labels.csv --per-sample - | head -3; "
        'echo "status ${PIPESTATUS[0]}" >&2'
    )
    proc = subprocess.run(
        ["bash", "-c", script], cwd=work, capture_output=True, env=clean_env(), timeout=300
    )
    stdout, stderr = proc.stdout.decode(), proc.stderr.decode()
    lines = stdout.splitlines()
    assert len(lines) == 3
    assert lines[0] == "row,label,loss,pred,p_true"
    for text, i in zip(lines[1:], (0, 1), strict=True):
        row, label, loss, pred, p_true = text.split(",")
        assert int(row) == i
        assert label == CLASSES[labels[i]]
        assert float(loss) == pytest.approx(-math.log(probs[i, labels[i]]), abs=TOL)
        assert pred == CLASSES[int(probs[i].argmax())]
        assert float(p_true) == probs[i, labels[i]]
    err_lines = stderr.splitlines()
    assert err_lines[-1] in ("status 0", "status 141"), stderr
    assert "Traceback" not in stderr
    assert "Exception" not in stderr
    assert "BrokenPipe" not in stderr
    assert not [line for line in err_lines if line.startswith("Error")], stderr


def test_json_has_no_escape_codes_with_force_color(basic: Path) -> None:
    for args in (["--json"], ["--format", "csv"], ["--per-sample", "-", "-q"]):
        proc = subprocess.run(
            [XENT, "score", "preds.csv", "labels.csv", *args],
            cwd=basic,
            capture_output=True,
            env=clean_env(FORCE_COLOR="1", TERM="xterm-256color"),
            timeout=120,
        )
        assert proc.returncode == 0, proc.stderr
        out = proc.stdout.decode()
        assert ESC not in out, args
        if args == ["--json"]:
            assert strict_json(out)["loss"] == pytest.approx(REF_LOSS, abs=TOL)
    table = subprocess.run(
        [XENT, "score", "preds.csv", "labels.csv"],
        cwd=basic,
        capture_output=True,
        env=clean_env(FORCE_COLOR="1", TERM="xterm-256color"),
        timeout=120,
    )
    assert ESC in table.stdout.decode()  # the table is coloured: FORCE_COLOR was seen


def _run_on_terminal(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[int, str]:
    """Run ``xent`` with its standard output on a pseudo-terminal; return its text."""
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen(
            args, cwd=cwd, stdin=subprocess.DEVNULL, stdout=slave, stderr=subprocess.PIPE, env=env
        )
    finally:
        os.close(slave)
    chunks = []
    try:
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
    finally:
        os.close(master)
    proc.communicate(timeout=120)
    return proc.returncode, b"".join(chunks).decode()


def test_table_on_a_dumb_terminal_has_no_escape_codes(basic: Path) -> None:
    args = [XENT, "score", "preds.csv", "labels.csv"]
    code, coloured = _run_on_terminal(args, basic, clean_env(TERM="xterm-256color", COLUMNS="100"))
    assert code == 0
    assert ESC in coloured  # a terminal rich would colour
    code, plain = _run_on_terminal(args, basic, clean_env(NO_COLOR="1", TERM="dumb", COLUMNS="100"))
    assert code == 0
    assert ESC not in plain
    assert f"{REF_LOSS:.6g}" in plain
    proc = subprocess.run(
        args, cwd=basic, capture_output=True, env=clean_env(NO_COLOR="1", TERM="dumb"), timeout=120
    )
    assert proc.returncode == 0
    assert ESC not in proc.stdout.decode()
    assert f"{REF_LOSS:.6g}" in proc.stdout.decode()
