"""Review findings F5, F1, F4, F7 (SPEC "Inputs"): columns that could mean two things.

Every file is written by pandas (CSV and Parquet); the true number is scikit-learn's
``log_loss``; a refusal is exit 2 with exactly one ``Error:`` line naming the option.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner, Result
from sklearn.metrics import log_loss

import xentcli
from xentcli.cli import cli
from xentcli.errors import XentError

N = 300
CLASSES = np.array(["cat", "dog", "fox"])
PRED_COLS = ["p_cat", "p_dog", "p_fox"]
RNG = np.random.default_rng(0)
P = RNG.dirichlet(np.ones(3), N)
Y = RNG.integers(0, 3, N)
PERM = RNG.permutation(N)
TRUTH = log_loss(Y, P, labels=[0, 1, 2])
FORMATS = ("csv", "parquet")


def write(frame: pd.DataFrame, path: Path, *, index: bool = False) -> str:
    """``frame`` as pandas writes it: CSV by ``to_csv``, Parquet by ``to_parquet``."""
    if path.suffix == ".csv":
        frame.to_csv(path, index=index)
    else:
        frame.to_parquet(path, index=index)
    return str(path)


def xent(*args: str) -> Result:
    return CliRunner().invoke(cli, ["score", *args], prog_name="xent", catch_exceptions=False)


def scored(*args: str) -> dict[str, Any]:
    result = xent(*args, "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def refused(*args: str) -> str:
    """The one ``Error:`` line of a refusal (exit 2)."""
    result = xent(*args)
    assert result.exit_code == 2, result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("Error: ")]
    assert len(errors) == 1, result.stderr
    return errors[0]


# -- F5: two default label columns -------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_label_and_target_in_preds_are_refused(tmp_path: Path, fmt: str) -> None:
    other = (Y + 1) % 3
    frame = pd.DataFrame(P, columns=PRED_COLS).assign(label=CLASSES[Y], target=CLASSES[other])
    preds = write(frame, tmp_path / f"p.{fmt}")
    line = refused(preds)
    assert "--label-col" in line and "'label'" in line and "'target'" in line
    data = scored(preds, "--label-col", "label")
    assert data["loss"] == pytest.approx(TRUTH, abs=1e-9)
    wrong = log_loss(other, P, labels=[0, 1, 2])
    assert scored(preds, "--label-col", "target")["loss"] == pytest.approx(wrong, abs=1e-9)


@pytest.mark.parametrize("fmt", FORMATS)
def test_label_and_y_in_labels_are_refused(tmp_path: Path, fmt: str) -> None:
    preds = write(pd.DataFrame(P, columns=PRED_COLS), tmp_path / f"p.{fmt}")
    labels = write(
        pd.DataFrame({"label": CLASSES[Y], "y": CLASSES[(Y + 2) % 3]}), tmp_path / f"l.{fmt}"
    )
    line = refused(preds, labels)
    assert "--label-col" in line and "'y'" in line
    assert scored(preds, labels, "--label-col", "label")["loss"] == pytest.approx(TRUTH, abs=1e-9)


@pytest.mark.parametrize("fmt", FORMATS)
def test_one_default_label_column_still_scores(tmp_path: Path, fmt: str) -> None:
    frame = pd.DataFrame(P, columns=PRED_COLS).assign(target=CLASSES[Y])
    preds = write(frame, tmp_path / f"p.{fmt}")
    assert scored(preds)["loss"] == pytest.approx(TRUTH, abs=1e-9)


# -- F1: columns both files carry are checked when rows pair by position ----------------

FILES = np.array([f"img{i}.jpg" for i in range(N)])
SHARED = {
    "filename": FILES,
    "ImageId": FILES,
    "patient": np.array([f"patient-{i:04d}" for i in range(N)]),
    "frame": np.arange(N) * 7,
}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("column", list(SHARED))
def test_a_shuffled_shared_column_is_refused_naming_id_col(
    tmp_path: Path, fmt: str, column: str
) -> None:
    keys = SHARED[column]
    preds = write(
        pd.DataFrame(P, columns=PRED_COLS).assign(**{column: keys}), tmp_path / f"p.{fmt}"
    )
    labels_frame = pd.DataFrame({column: keys, "label": CLASSES[Y]})
    in_order = write(labels_frame, tmp_path / f"l.{fmt}")
    data = scored(preds, in_order)
    assert data["loss"] == pytest.approx(TRUTH, abs=1e-9)
    assert data["reasons"]["join"] == (
        f"rows paired by position, checked to agree on the column {column!r} that both files carry"
    )
    shuffled = write(labels_frame.iloc[PERM], tmp_path / f"s.{fmt}")
    line = refused(preds, shuffled)
    first = int(np.flatnonzero(np.arange(N) != PERM)[0])
    assert f"row {first}" in line and f"--id-col {column!r}" in line
    joined = scored(preds, shuffled, "--id-col", column)
    assert joined["loss"] == pytest.approx(TRUTH, abs=1e-9)


def test_a_named_csv_index_in_both_files_is_checked(tmp_path: Path) -> None:
    """``index.name = "sample"`` and ``to_csv()``: CSV cannot say it is an index, but it
    is an integer column both files carry, so a shuffled LABELS is refused."""
    sample = pd.Index(np.arange(N) + 1000, name="sample")
    pd.DataFrame(P, columns=PRED_COLS, index=sample).to_csv(tmp_path / "p.csv")
    labels = pd.DataFrame({"label": CLASSES[Y]}, index=sample)
    labels.iloc[PERM].to_csv(tmp_path / "l.csv")
    line = refused(str(tmp_path / "p.csv"), str(tmp_path / "l.csv"))
    assert "--id-col 'sample'" in line and "row 0" in line
    data = scored(str(tmp_path / "p.csv"), str(tmp_path / "l.csv"), "--id-col", "sample")
    assert data["loss"] == pytest.approx(TRUTH, abs=1e-9)


def test_a_difference_in_a_later_batch_is_found(tmp_path: Path) -> None:
    preds = write(pd.DataFrame(P, columns=PRED_COLS).assign(filename=FILES), tmp_path / "p.parquet")
    order = np.arange(N)
    order[[250, 251]] = [251, 250]
    labels = pd.DataFrame({"filename": FILES, "label": CLASSES[Y]}).iloc[order]
    path = write(labels, tmp_path / "l.csv")
    with pytest.raises(XentError) as caught:
        xentcli.score(preds, path, batch_rows=64)  # the fourth batch differs
    assert caught.value.row == 250 and "--id-col 'filename'" in str(caught.value)


@pytest.mark.parametrize("fmt", FORMATS)
def test_float_and_label_columns_are_not_checked(tmp_path: Path, fmt: str) -> None:
    """A float column both carry (a measurement) may differ; the labels are checked by
    the label check, not as a key."""
    preds = write(
        pd.DataFrame(P, columns=PRED_COLS).assign(label=CLASSES[Y], age=RNG.random(N)),
        tmp_path / f"p.{fmt}",
    )
    labels = write(pd.DataFrame({"label": CLASSES[Y], "age": RNG.random(N)}), tmp_path / f"l.{fmt}")
    data = scored(preds, labels, "--pred-cols", ",".join(PRED_COLS))
    assert data["loss"] == pytest.approx(TRUTH, abs=1e-9)
    assert "checked to agree on the column" not in data["reasons"]["join"]


# -- F4: columns derived from the predictions are not predictions ------------------------

DERIVED = {
    "pred": P.argmax(1).astype(float),
    "y_pred": P.argmax(1).astype(float),
    "Predicted_Class": P.argmax(1).astype(float),
    "argmax": P.argmax(1).astype(float),
    "loss": -np.log(P[np.arange(N), Y]),
    "NLL": -np.log(P[np.arange(N), Y]),
    "entropy": -(P * np.log(P)).sum(1),
    "confidence": P.max(1),
    "margin": np.sort(P, 1)[:, -1] - np.sort(P, 1)[:, -2],
    "is_correct": (P.argmax(1) == Y).astype(float),
}
PREDICTED_CLASS = {"pred", "y_pred", "predicted_class", "argmax"}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("column", list(DERIVED))
def test_a_derived_column_beside_class_columns_is_left_out(
    tmp_path: Path, fmt: str, column: str
) -> None:
    frame = pd.DataFrame(P, columns=CLASSES).assign(**{column: DERIVED[column]}, label=CLASSES[Y])
    data = scored(write(frame, tmp_path / f"p.{fmt}"))
    assert data["loss"] == pytest.approx(TRUTH, abs=1e-9)
    assert data["n_classes"] == 3
    reason = (
        "a predicted class by its name, beside the prediction columns"
        if column.lower() in PREDICTED_CLASS
        else "a figure derived from the predictions, by its name"
    )
    assert f"{column!r} ({reason})" in data["reasons"]["columns"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_lone_pred_column_is_still_the_binary_prediction(tmp_path: Path, fmt: str) -> None:
    p1 = RNG.random(N) * 0.98 + 0.01
    yb = RNG.integers(0, 2, N)
    frame = pd.DataFrame({"pred": p1, "loss": -np.log(np.where(yb == 1, p1, 1 - p1)), "y": yb})
    data = scored(write(frame, tmp_path / f"p.{fmt}"))
    assert data["loss"] == pytest.approx(log_loss(yb, p1), abs=1e-9)
    assert (
        "'loss' (a figure derived from the predictions, by its name)"
        in (data["reasons"]["columns"])
    )


def test_pred_cols_still_overrides_the_names(tmp_path: Path) -> None:
    """A class that happens to be called ``margin``: --pred-cols names it."""
    frame = pd.DataFrame(P, columns=["cat", "dog", "margin"]).assign(label=Y)
    path = write(frame, tmp_path / "p.csv")
    data = scored(path, "--pred-cols", "cat,dog,margin")
    assert data["loss"] == pytest.approx(TRUTH, abs=1e-9)


# -- F7: a hive-partitioned dataset is not paired by position ----------------------------

FOLD = RNG.integers(0, 5, N)


def partitioned(frame: pd.DataFrame, path: Path) -> str:
    """``frame`` written by pandas with ``partition_cols=["fold"]``: one directory per
    fold, so the rows come back grouped by fold."""
    frame.to_parquet(path, partition_cols=["fold"], index=False)
    return str(path)


@pytest.mark.parametrize("fmt", FORMATS)
def test_partitioned_preds_with_separate_labels_are_refused(tmp_path: Path, fmt: str) -> None:
    preds = partitioned(pd.DataFrame(P, columns=PRED_COLS).assign(fold=FOLD), tmp_path / "preds")
    labels = write(pd.DataFrame({"label": CLASSES[Y]}), tmp_path / f"l.{fmt}")
    line = refused(preds, labels)
    assert "hive-partitioned" in line and "'fold'" in line and "--id-col" in line


def test_partitioned_labels_with_separate_preds_are_refused(tmp_path: Path) -> None:
    preds = write(pd.DataFrame(P, columns=PRED_COLS), tmp_path / "p.csv")
    labels = partitioned(pd.DataFrame({"label": CLASSES[Y], "fold": FOLD}), tmp_path / "labels")
    line = refused(preds, labels)
    assert "hive-partitioned" in line and "labels" in line and "--id-col" in line


def test_partitioned_preds_holding_their_labels_score(tmp_path: Path) -> None:
    frame = pd.DataFrame(P, columns=PRED_COLS).assign(fold=FOLD, label=CLASSES[Y])
    data = scored(partitioned(frame, tmp_path / "preds"))
    assert data["loss"] == pytest.approx(TRUTH, abs=1e-9)


@pytest.mark.parametrize("fmt", FORMATS)
def test_partitioned_preds_joined_on_a_key_score(tmp_path: Path, fmt: str) -> None:
    sid = np.arange(N) + 10
    frame = pd.DataFrame(P, columns=PRED_COLS).assign(fold=FOLD, sid=sid)
    preds = partitioned(frame, tmp_path / "preds")
    labels = write(
        pd.DataFrame({"sid": sid, "label": CLASSES[Y]}).iloc[PERM], tmp_path / f"l.{fmt}"
    )
    assert "--id-col 'sid'" in refused(preds, labels)
    data = scored(preds, labels, "--id-col", "sid")
    assert data["loss"] == pytest.approx(TRUTH, abs=1e-9)


@pytest.mark.parametrize("fmt", ("csv", "parquet"))
def test_labels_with_a_label_column_and_a_column_per_class_are_refused(
    tmp_path: Path, fmt: str
) -> None:
    """LABELS holding both a label column and a column per class (soft targets beside
    hard labels) could be read either way, with two numbers (second review): refused
    until ``--label-col`` picks the hard labels; without the label column, the soft
    targets are read, as PyTorch's ``cross_entropy`` with probabilities as target."""
    import torch

    rng = np.random.default_rng(0)
    names = np.array(["cat", "dog", "fox"])
    probs = rng.dirichlet(np.ones(3), 300)
    y = rng.integers(0, 3, 300)
    targets = rng.dirichlet(np.ones(3), 300)
    preds = pd.DataFrame(probs, columns=["p_cat", "p_dog", "p_fox"])
    both = pd.DataFrame(targets, columns=names).assign(label=names[y])
    paths = {}
    for stem, frame in (("p", preds), ("both", both), ("soft", both.drop(columns="label"))):
        paths[stem] = tmp_path / f"{stem}.{fmt}"
        getattr(frame, "to_csv" if fmt == "csv" else "to_parquet")(paths[stem], index=False)
    result = CliRunner().invoke(cli, ["score", str(paths["p"]), str(paths["both"])])
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and "--label-col label" in lines[0]
    hard = CliRunner().invoke(
        cli, ["score", str(paths["p"]), str(paths["both"]), "--label-col", "label", "--json"]
    )
    assert json.loads(hard.stdout)["loss"] == pytest.approx(log_loss(y, probs), rel=1e-12)
    soft = CliRunner().invoke(cli, ["score", str(paths["p"]), str(paths["soft"]), "--json"])
    truth = torch.nn.functional.cross_entropy(
        torch.log(torch.from_numpy(probs)), torch.from_numpy(targets)
    ).item()
    assert json.loads(soft.stdout)["loss"] == pytest.approx(truth, rel=1e-12)


@pytest.mark.parametrize(
    "decoy", ["temperature", "age", "weight", "sample_weight", "log_loss", "yhat"]
)
@pytest.mark.parametrize("fmt", ("csv", "parquet"))
def test_a_float_decoy_beside_unprefixed_classes(tmp_path: Path, decoy: str, fmt: str) -> None:
    """A float column beside unprefixed class columns became a fourth class, and the rows
    were read as logits (1.937 for a true 1.597, second review): names that say a weight
    or a derived figure are left out; any other is refused when leaving it out makes the
    others probability rows, and ``--pred-cols`` then gives the true number."""
    rng = np.random.default_rng(0)
    names = np.array(["cat", "dog", "fox"])
    probs = rng.dirichlet(np.ones(3), 300)
    y = rng.integers(0, 3, 300)
    frame = pd.DataFrame(probs, columns=names).assign(
        **{decoy: rng.uniform(0.1, 3.0, 300)}, label=names[y]
    )
    path = tmp_path / f"p.{fmt}"
    getattr(frame, "to_csv" if fmt == "csv" else "to_parquet")(path, index=False)
    truth = log_loss(y, probs, labels=[0, 1, 2])
    result = CliRunner().invoke(cli, ["score", str(path), "--json"])
    if decoy in ("temperature", "age"):
        assert result.exit_code == 2
        lines = result.stderr.splitlines()
        assert len(lines) == 1 and f"'{decoy}'" in lines[0] and "--pred-cols" in lines[0]
        result = CliRunner().invoke(
            cli, ["score", str(path), "--json", "--pred-cols", "cat,dog,fox"]
        )
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["loss"] == pytest.approx(truth, rel=1e-12)


def test_a_class_named_with_and_without_the_prefix_is_refused(tmp_path: Path) -> None:
    """``cat`` beside ``p_cat``: the prefix rule scored ``p_cat`` alone as a binary
    problem (second review); the two name one class, so it is refused."""
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(3), 300)
    labels = np.array(["cat", "cat", "dog"])[rng.integers(0, 3, 300)]
    frame = pd.DataFrame(probs, columns=["cat", "p_cat", "dog"]).assign(label=labels)
    frame.to_csv(tmp_path / "dup.csv", index=False)
    result = CliRunner().invoke(cli, ["score", str(tmp_path / "dup.csv")])
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "'cat' and 'p_cat'" in lines[0] and "--pred-cols" in lines[0]


def test_a_spark_output_directory_pairs_with_its_labels(tmp_path: Path) -> None:
    """A directory as Spark writes it: ``part-00000-<job uuid>-c000.snappy.parquet`` files,
    ``_SUCCESS`` and ``.crc`` files beside them. Its parts are read in part order, so a
    LABELS file paired by position gives the true loss."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(4)
    probs = rng.dirichlet(np.ones(3), 1200)
    y = rng.integers(0, 3, 1200)
    table = pa.table({"p_cat": probs[:, 0], "p_dog": probs[:, 1], "p_fox": probs[:, 2]})
    out = tmp_path / "spark_out"
    out.mkdir()
    job = "6f1c2a9e-0b7d-4e2b-9a31-5d8c0e7f4b12"
    for part in range(12):
        name = f"part-{part:05d}-{job}-c000.snappy.parquet"
        pq.write_table(table.slice(part * 100, 100), out / name, compression="snappy")
        (out / f".{name}.crc").write_bytes(b"crc")
    (out / "_SUCCESS").write_bytes(b"")
    pd.DataFrame({"label": np.array(["cat", "dog", "fox"])[y]}).to_csv(
        tmp_path / "labels.csv", index=False
    )
    result = CliRunner().invoke(cli, ["score", str(out), str(tmp_path / "labels.csv"), "--json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["n_samples"] == 1200
    assert data["loss"] == pytest.approx(log_loss(y, probs, labels=[0, 1, 2]), rel=1e-12)
