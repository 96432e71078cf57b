"""Decisions made once, as data; label columns of names or indices; binary columns named
for a class (issue 10, classes 5 and 7; SPEC "Inputs").

Every number is checked against scikit-learn's ``log_loss`` with ``labels=`` in the
order of the columns handed to it, on files written by pandas/pyarrow (CSV, Parquet,
JSON Lines), with the telling rows both in the first rows and far past the first batch
(``batch_rows=64``). Every refusal is exit 2 with one ``Error:`` line naming the option
that settles it.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from click.testing import CliRunner
from sklearn.metrics import log_loss

import xentcli
from xentcli.cli import cli
from xentcli.errors import XentError
from xentcli.io.source import open_source
from xentcli.options import Options
from xentcli.run.align import plan
from xentcli.run.decisions import Decisions, decide, encode_labels

N = 10_300  # rows: the first 10,000 decide (SPEC "the first rows"), in batches of 64
FAR = 10_250  # a row the decisions never saw
FORMATS = ("csv", "parquet", "jsonl")
TOL = 1e-12


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write(frame: pd.DataFrame, stem: str, fmt: str) -> str:
    """The frame as pandas/pyarrow write it, without an index."""
    path = f"{stem}.{fmt}"
    if fmt == "csv":
        frame.to_csv(path, index=False)
    elif fmt == "parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_json(path, orient="records", lines=True, double_precision=15)
    return path


def xent(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args), prog_name="xent")


def refused(*args: str) -> str:
    """``xent ARGS``: exit 2 with exactly one ``Error:`` line on stderr; that line."""
    result = xent(*args)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def api_refused(*args: Any, **kwargs: Any) -> str:
    """``xentcli.score`` raising ``XentError``; its one-line message."""
    with pytest.raises(XentError) as caught:
        xentcli.score(*args, **kwargs)
    text = str(caught.value)
    assert "\n" not in text
    return text


def multiclass(seed: int = 3, k: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    probs = rng.dirichlet(np.ones(k), size=N)
    labels = np.array([rng.choice(k, p=row) for row in probs])
    labels[:k] = np.arange(k)
    return probs, labels


def binary(seed: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """``p`` and labels drawn so that ``p`` is P(label = 1)."""
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.02, 0.98, size=N)
    y = (rng.uniform(size=N) < p).astype(np.int64)
    y[:2] = [0, 1]
    return p, y


def reference(labels: np.ndarray, p_class1: np.ndarray) -> float:
    """scikit-learn's loss for labels 0/1 and the probability of class 1."""
    return float(log_loss(labels, np.column_stack([1 - p_class1, p_class1]), labels=[0, 1]))


# -- 1. the decisions object -------------------------------------------------------------


def test_decisions_round_trip_through_json_and_pickle(work: Path) -> None:
    probs, labels = multiclass()
    frame = pd.DataFrame(probs, columns=["p_dog", "p_ant", "p_cat"])
    frame["label"] = np.array(["dog", "ant", "cat"])[labels]
    path = write(frame, "m", "parquet")
    found = xentcli.inspect_file(path)
    assert found.decisions is not None
    data = found.decisions
    decisions = Decisions.from_dict(json.loads(json.dumps(data)))
    assert decisions.to_dict() == data
    assert pickle.loads(pickle.dumps(decisions)) == decisions
    assert decisions.task == "multiclass" and decisions.input == "probs"
    assert decisions.label_mode == "names"
    assert decisions.classes == ("dog", "ant", "cat")
    assert dict(zip(decisions.label_keys, decisions.label_classes, strict=True))["cat"] == 2
    assert decisions.join_key is None and data["layout"]["pred_cols"] == ["p_dog", "p_ant", "p_cat"]
    summary = xentcli.score(path, batch_rows=64)
    assert summary.reasons == decisions.reasons_dict
    assert summary.classes == decisions.classes
    assert summary.loss == pytest.approx(log_loss(labels, probs, labels=[0, 1, 2]), abs=TOL)


def _first(frame: pd.DataFrame, rows: slice) -> SimpleNamespace:
    part = frame.iloc[rows]
    scores = np.asfortranarray(part[[c for c in part.columns if c != "label"]].to_numpy())
    index = np.arange(rows.start or 0, rows.stop, dtype=np.int64)
    return SimpleNamespace(
        scores=scores,
        labels=pa.array(part["label"].tolist()),
        targets=None,
        rows=index,
        label_rows=index,
    )


def test_later_rows_are_held_to_the_first_rows_decision(work: Path) -> None:
    """``decide`` on the first rows, ``encode_labels`` (pure) on a later batch: an index
    among names is an error naming its row and the row that decided."""
    probs, labels = multiclass()
    names = np.array(["cat", "dog", "bird"])[labels].astype(object)
    names[FAR] = 1
    frame = pd.DataFrame(probs, columns=["p_cat", "p_dog", "p_bird"])
    frame["label"] = [str(v) for v in names]
    options = Options()
    source = open_source(frame, "preds")
    layout = plan(source, None, options)
    decisions = decide(_first(frame, slice(0, 64)), layout, options, "preds", "preds")
    assert decisions.label_mode == "names" and decisions.evidence_row == 0
    later = _first(frame, slice(192, N))
    before = decisions.to_dict()
    with pytest.raises(XentError) as caught:
        encode_labels(later.labels, later.label_rows, decisions)
    assert "row 0 is the class name" in str(caught.value)
    assert f"row {FAR} the index '1'" in str(caught.value)
    assert "--label-type" in str(caught.value)
    assert decisions.to_dict() == before  # nothing changed behind the caller's back
    good = _first(frame, slice(64, 128))
    assert (encode_labels(good.labels, good.label_rows, decisions) == labels[64:128]).all()


def test_inspect_shows_the_same_decisions_as_score(work: Path) -> None:
    p, y = binary()
    path = write(pd.DataFrame({"p_0": 1 - p, "label": y}), "b", "parquet")
    found = xent("inspect", path, "--json")
    assert found.exit_code == 0, found.stderr
    data = json.loads(found.stdout)
    scored = json.loads(xent("score", path, "--json").stdout)
    assert data["decisions"]["classes"] == scored["classes"] == ["1", "0"]
    assert data["decisions"]["positive"] == "0"
    assert data["reasons"]["labels"] == scored["reasons"]["labels"]


# -- 2. names or indices -----------------------------------------------------------------

SORTED = ["ant", "cat", "dog"]
FILE_ORDER = ["dog", "ant", "cat"]  # the columns in the file, not sorted


def order_frame() -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Columns ``p_dog, p_ant, p_cat``; labels are scikit-learn's ``LabelEncoder``
    indices (sorted names). Returns the frame, the true classes (file-order indices)
    and the labels as written."""
    probs, truth = multiclass(seed=9)
    frame = pd.DataFrame(probs, columns=[f"p_{c}" for c in FILE_ORDER])
    written = np.array([SORTED.index(FILE_ORDER[t]) for t in truth])
    frame["label"] = written
    return frame, truth, written


@pytest.mark.parametrize("fmt", FORMATS)
def test_classes_states_the_order_of_integer_labels(work: Path, fmt: str) -> None:
    frame, truth, written = order_frame()
    path = write(frame, "m", fmt)
    probs = frame[[f"p_{c}" for c in FILE_ORDER]].to_numpy()
    expected = log_loss(truth, probs, labels=[0, 1, 2])
    # scikit-learn's own view: the labels index SORTED; the columns reordered to match
    sklearn_view = log_loss(
        written, probs[:, [FILE_ORDER.index(c) for c in SORTED]], labels=[0, 1, 2]
    )
    assert expected == pytest.approx(sklearn_view, abs=TOL)
    summary = xentcli.score(path, classes=("ant", "cat", "dog"), batch_rows=64)
    assert summary.loss == pytest.approx(expected, abs=TOL)
    assert summary.reasons["labels"] == "class indices 0..2: ant, cat, dog (--classes)"
    assert summary.warnings == ()
    result = xent("score", path, "--classes", "p_ant,p_cat,p_dog", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["loss"] == pytest.approx(expected, abs=TOL)


@pytest.mark.parametrize("fmt", ("csv", "parquet"))
def test_integer_labels_index_columns_in_file_order_with_a_warning(work: Path, fmt: str) -> None:
    frame, _, written = order_frame()
    path = write(frame, "m", fmt)
    probs = frame[[f"p_{c}" for c in FILE_ORDER]].to_numpy()
    summary = xentcli.score(path, batch_rows=64)
    assert summary.loss == pytest.approx(log_loss(written, probs, labels=[0, 1, 2]), abs=TOL)
    assert summary.reasons["labels"] == "class indices 0..2"
    assert any("not sorted order" in w and "--classes" in w for w in summary.warnings)
    result = xent("score", path)
    assert result.exit_code == 0
    assert any(
        line.startswith("Warning: ") and "--classes" in line for line in result.stderr.splitlines()
    )
    sorted_frame = frame.rename(columns={"p_dog": "p_a", "p_ant": "p_b", "p_cat": "p_c"})
    assert xentcli.score(sorted_frame).warnings == ()  # a, b, c: sorted, nothing to say


def integer_names_frame(labels: np.ndarray) -> pd.DataFrame:
    probs, _ = multiclass(seed=4)
    frame = pd.DataFrame(probs, columns=["p_1", "p_2", "p_3"])
    frame["label"] = labels
    return frame


@pytest.mark.parametrize("fmt", FORMATS)
def test_integer_names_meet_integer_labels(work: Path, fmt: str) -> None:
    """``p_1 .. p_3`` with labels 0..2: names or indices? exit 2 naming both options;
    each option then gives scikit-learn's number for its reading."""
    _, truth = multiclass(seed=4)
    frame = integer_names_frame(truth)  # 0-based: indices
    probs = frame[["p_1", "p_2", "p_3"]].to_numpy()
    path = write(frame, "m", fmt)
    line = refused("score", path)
    assert "--label-type" in line and "--classes" in line and "row 0" in line
    assert "--label-type" in api_refused(path, batch_rows=64)
    # not a few invalid rows to drop: the whole reading is in question
    assert "--classes" in api_refused(path, batch_rows=64, drop_invalid=True)
    inspected = json.loads(xent("inspect", path, "--classes", "p_3,p_1,p_2", "--json").stdout)
    assert inspected["problem"] is None
    assert inspected["decisions"]["label_mode"] == "indices"
    assert inspected["decisions"]["label_classes"] == [2, 0, 1]
    assert inspected["decisions"]["label_type"] == "classes"
    as_indices = xentcli.score(path, label_type="indices", batch_rows=64)
    assert as_indices.loss == pytest.approx(log_loss(truth, probs, labels=[0, 1, 2]), abs=TOL)
    shuffled = xentcli.score(path, classes="p_3,p_1,p_2", batch_rows=64)
    columns = [2, 0, 1]  # index 0 is p_3, 1 is p_1, 2 is p_2
    assert shuffled.loss == pytest.approx(
        log_loss(truth, probs[:, columns], labels=[0, 1, 2]), abs=TOL
    )
    frame["label"] = truth + 1  # 1-based: the names
    path = write(frame, "n", fmt)
    assert "--label-type" in refused("score", path)
    as_names = xentcli.score(path, label_type="names", batch_rows=64)
    assert as_names.loss == pytest.approx(log_loss(truth + 1, probs, labels=[1, 2, 3]), abs=TOL)
    result = xent("score", path, "--label-type", "names", "--json")
    assert json.loads(result.stdout)["loss"] == pytest.approx(as_names.loss, abs=TOL)


def test_names_zero_to_k_minus_one_are_both_readings(work: Path) -> None:
    probs, labels = multiclass()
    frame = pd.DataFrame(probs, columns=["p_0", "p_1", "p_2"])
    frame["label"] = labels
    for fmt in ("csv", "parquet"):
        summary = xentcli.score(write(frame, "m", fmt), batch_rows=64)
        assert summary.loss == pytest.approx(log_loss(labels, probs, labels=[0, 1, 2]), abs=TOL)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("where", (5, FAR))
def test_names_and_indices_mixed_is_refused(work: Path, fmt: str, where: int) -> None:
    probs, labels = multiclass()
    names = np.array(["cat", "dog", "bird"])[labels].astype(object)
    names[where] = "2"
    frame = pd.DataFrame(probs, columns=["p_cat", "p_dog", "p_bird"])
    frame["label"] = names
    path = write(frame, "m", fmt)
    text = api_refused(path, batch_rows=64)
    assert f"row {where} the index '2'" in text and "row 0 is the class name" in text
    assert "--label-type" in text
    # the same with --drop-invalid: a mixed column is not a few invalid rows
    assert "--label-type" in api_refused(path, batch_rows=64, drop_invalid=True)
    # --label-type names settles it: the index is then an invalid label, dropped
    kept = np.arange(N) != where
    summary = xentcli.score(path, batch_rows=64, label_type="names", drop_invalid=True)
    assert summary.dropped == 1
    assert summary.loss == pytest.approx(
        log_loss(labels[kept], probs[kept], labels=[0, 1, 2]), abs=TOL
    )


@pytest.mark.parametrize("fmt", ("csv", "jsonl"))
def test_a_name_among_indices_is_refused_past_the_first_batch(work: Path, fmt: str) -> None:
    probs, labels = multiclass()
    written = labels.astype(object)
    written[FAR] = "dog"
    frame = pd.DataFrame(probs, columns=["p_cat", "p_dog", "p_bird"])
    frame["label"] = [str(v) for v in written]
    path = write(frame, "m", fmt)
    text = api_refused(path, batch_rows=64)
    assert f"row {FAR} is the class name 'dog'" in text and "row 0 the index" in text


def test_mixed_in_the_first_rows_names_a_row_of_each_on_the_command_line(work: Path) -> None:
    probs, labels = multiclass()
    names = np.array(["cat", "dog", "bird"])[labels].astype(object)
    names[7] = 1
    frame = pd.DataFrame(probs, columns=["p_cat", "p_dog", "p_bird"])
    frame["label"] = [str(v) for v in names]
    line = refused("score", write(frame, "m", "csv"))
    assert "row 0 is the class name 'cat'" in line and "row 7 the index '1'" in line
    assert "--label-type" in line


def test_classes_usage_errors(work: Path) -> None:
    frame, _, _ = order_frame()
    path = write(frame, "m", "csv")
    assert "--classes" in refused("score", path, "--classes", "ant,cat")
    assert "'cow' is not a class" in refused("score", path, "--classes", "ant,cat,cow")
    assert "twice" in refused("score", path, "--classes", "ant,ant,cat")
    line = refused("score", path, "--classes", "ant,cat,dog", "--label-type", "names")
    assert "--label-type names" in line


# -- 3. binary: one column named for a class ----------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_p_0_holds_the_probability_of_class_0(work: Path, fmt: str) -> None:
    p, y = binary()
    path = write(pd.DataFrame({"p_0": 1 - p, "label": y}), "b", fmt)
    summary = xentcli.score(path, batch_rows=64)
    assert summary.loss == pytest.approx(reference(y, p), abs=TOL)
    assert summary.reasons["labels"] == "0/1; 'p_0' holds P(label = 0): its name names class 0"
    assert summary.classes == ("1", "0")
    result = xent("score", path, "--json")
    assert json.loads(result.stdout)["loss"] == pytest.approx(reference(y, p), abs=TOL)


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_column_naming_no_class_holds_class_1(work: Path, fmt: str) -> None:
    p, y = binary()
    path = write(pd.DataFrame({"score": p, "label": y}), "b", fmt)
    summary = xentcli.score(path, batch_rows=64)
    assert summary.loss == pytest.approx(reference(y, p), abs=TOL)
    assert summary.reasons["labels"] == "0/1; 'score' holds P(label = 1): its name names no class"


@pytest.mark.parametrize("fmt", ("csv", "parquet"))
def test_positive_is_honoured_in_every_format_and_the_api(work: Path, fmt: str) -> None:
    p, y = binary()
    path = write(pd.DataFrame({"score": 1 - p, "label": y}), "b", fmt)
    summary = xentcli.score(path, positive="0", batch_rows=64)
    assert summary.loss == pytest.approx(reference(y, p), abs=TOL)
    assert "(--positive" not in summary.reasons["labels"]
    assert summary.reasons["labels"] == "0/1; 'score' holds P(label = 0): --positive 0"
    result = xent("score", path, "--positive", "0", "--json")
    assert json.loads(result.stdout)["loss"] == pytest.approx(reference(y, p), abs=TOL)
    # --positive 1 on a column named for class 0: the option wins, as SPEC says
    named = write(pd.DataFrame({"p_0": p, "label": y}), "n", fmt)
    assert xentcli.score(named, positive="1").loss == pytest.approx(reference(y, p), abs=TOL)
    assert xentcli.score(named, positive="pos").loss == pytest.approx(reference(y, p), abs=TOL)


def test_positive_is_honoured_by_cross_entropy() -> None:
    p, y = binary()
    assert xentcli.cross_entropy(1 - p, y, positive="0").loss == pytest.approx(
        reference(y, p), abs=TOL
    )
    assert xentcli.cross_entropy(p, y).loss == pytest.approx(reference(y, p), abs=TOL)


@pytest.mark.parametrize("column", ("p_false", "p_0", "prob_neg", "negative"))
def test_booleans_are_classes_0_and_1(work: Path, column: str) -> None:
    p, y = binary()
    frame = pd.DataFrame({column: 1 - p, "label": y.astype(bool)})
    for fmt in ("parquet", "jsonl", "csv"):
        summary = xentcli.score(write(frame, "b", fmt), batch_rows=64)
        assert summary.loss == pytest.approx(reference(y, p), abs=TOL), fmt
        assert "holds P(label = 0)" in summary.reasons["labels"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_column_named_for_a_text_class(work: Path, fmt: str) -> None:
    """``prob_dog`` with labels cat/dog, the first 64 rows all cats: the column is for
    dog, whatever the first batch shows."""
    p, y = binary()
    y[:64] = 0
    names = np.where(y == 1, "dog", "cat")
    path = write(pd.DataFrame({"prob_dog": p, "label": names}), "b", fmt)
    summary = xentcli.score(path, batch_rows=64)
    assert summary.loss == pytest.approx(reference(y, p), abs=TOL)
    assert summary.classes == ("cat", "dog")
    flipped = write(pd.DataFrame({"prob_cat": 1 - p, "label": names}), "c", fmt)
    assert xentcli.score(flipped, batch_rows=64).loss == pytest.approx(reference(y, p), abs=TOL)


def test_positive_that_is_no_class_of_0_1_labels_is_refused(work: Path) -> None:
    p, y = binary()
    path = write(pd.DataFrame({"score": p, "label": y}), "b", "parquet")
    line = refused("score", path, "--positive", "cat")
    assert "--positive 'cat'" in line


def test_names_no_column_names_is_refused_naming_positive(work: Path) -> None:
    p, y = binary()
    path = write(pd.DataFrame({"score": p, "label": np.where(y == 1, "spam", "ham")}), "b", "csv")
    assert "--positive" in refused("score", path)
    summary = xentcli.score(path, positive="spam", batch_rows=64)
    assert summary.loss == pytest.approx(reference(y, p), abs=TOL)


def test_a_third_binary_name_past_the_first_batch_is_refused(work: Path) -> None:
    p, y = binary()
    names = np.where(y == 1, "dog", "cat").astype(object)
    names[FAR] = "cow"
    path = write(pd.DataFrame({"p_dog": p, "label": names}), "b", "parquet")
    text = api_refused(path, batch_rows=64)
    assert f"row {FAR}" in text and "'cow'" in text


@pytest.mark.parametrize("fmt", ("csv", "parquet"))
def test_classes_names_the_two_classes_of_0_1_labels(work: Path, fmt: str) -> None:
    """``--classes dog,cat``: label 0 is dog, 1 is cat; ``p_dog`` then holds P(label = 0)."""
    p, y = binary()
    path = write(pd.DataFrame({"p_dog": 1 - p, "label": y}), "b", fmt)
    summary = xentcli.score(path, classes="dog,cat", batch_rows=64)
    assert summary.loss == pytest.approx(reference(y, p), abs=TOL)
    assert summary.classes == ("cat", "dog")
    assert "holds P(label = 0)" in summary.reasons["labels"]
    line = refused("score", path, "--classes", "dog,cat,cow")
    assert "--classes must name the 2 classes" in line


def test_classes_with_a_column_per_class_is_refused(work: Path) -> None:
    probs, labels = multiclass()
    columns = ["p_cat", "p_dog", "p_bird"]
    pd.DataFrame(probs, columns=columns).to_csv("preds.csv", index=False)
    pd.DataFrame(np.eye(3)[labels], columns=columns).to_csv("labels.csv", index=False)
    summary = xentcli.score("preds.csv", "labels.csv")
    assert summary.loss == pytest.approx(log_loss(labels, probs, labels=[0, 1, 2]), abs=TOL)
    line = refused("score", "preds.csv", "labels.csv", "--classes", "cat,dog,bird")
    assert "--classes" in line and "a column per class" in line


# -- a single column named '0' -----------------------------------------------------------


def test_a_column_xent_named_by_position_holds_p_of_1(work: Path) -> None:
    """A 1-D ``np.save`` array and a one-column ``np.savetxt`` file read with
    ``--no-header`` are named ``0`` by xent: a position, not the class 0."""
    p, y = binary()
    np.save("p.npy", p)
    np.save("y.npy", y)
    np.savetxt("p.txt", p)
    pd.DataFrame({"label": y}).to_csv("y.csv", index=False)
    truth = reference(y, p)
    for args in (("p.npy", "y.npy"), ("p.txt", "y.csv", "--no-header")):
        result = xent("score", *args, "--json")
        assert result.exit_code == 0, result.stderr
        data = json.loads(result.stdout)
        assert data["loss"] == pytest.approx(truth, rel=1e-12)
        assert (
            "holds P(label = 1): a column xent named by its position" in (data["reasons"]["labels"])
        )


@pytest.mark.parametrize("fmt", ("csv", "parquet"))
def test_a_file_column_named_0_is_ambiguous(work: Path, fmt: str) -> None:
    """``pd.Series(p).to_frame()`` names the column ``0`` although it holds P(label = 1);
    a file could also name a column for class 0: refused until ``--positive`` says."""
    p, y = binary()
    frame = pd.Series(p).to_frame()
    frame.columns = frame.columns.astype(str)
    frame["label"] = y
    path = write(frame, "p", fmt)
    line = refused("score", path)
    assert "named '0'" in line and "--positive" in line
    for positive, holds in (("1", p), ("0", 1 - p)):
        result = xent("score", path, "--positive", positive, "--json")
        assert result.exit_code == 0, result.stderr
        assert json.loads(result.stdout)["loss"] == pytest.approx(reference(y, holds), rel=1e-12)


# -- in-memory frames ------------------------------------------------------------------


def test_frames_with_one_index_in_another_order_are_refused() -> None:
    """In memory, rows pair by position (as ``log_loss`` pairs arrays); two pandas
    frames holding the same index in another order could also pair on it: refused.
    Indexes that differ as sets pair by position, as after ``train_test_split``."""
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(3), 300)
    y = rng.integers(0, 3, 300)
    names = np.array(["cat", "dog", "fox"])
    preds = pd.DataFrame(probs, columns=["p_cat", "p_dog", "p_fox"])
    labels = pd.DataFrame({"label": names[y]}).iloc[rng.permutation(300)]
    truth = log_loss(y, probs, labels=[0, 1, 2])
    for given in (labels, labels["label"]):
        text = api_refused(preds, given)
        assert "same pandas index in another order" in text and "labels.loc[preds.index]" in text
    assert xentcli.score(preds, labels.loc[preds.index]).loss == pytest.approx(truth, rel=1e-12)
    split = pd.Series(names[y], index=rng.permutation(1000)[:300])  # y_test of a split
    assert xentcli.score(preds, split).loss == pytest.approx(truth, rel=1e-12)
    with pytest.raises(XentError, match="another order"):
        xentcli.cross_entropy(preds.set_axis(["cat", "dog", "fox"], axis=1), labels["label"])


@pytest.mark.parametrize(
    "columns", [("True", "False"), ("yes", "no"), ("positive", "negative"), ("p_pos", "p_neg")]
)
@pytest.mark.parametrize("fmt", ("csv", "parquet"))
def test_two_columns_named_for_1_and_0_take_labels_by_name(
    work: Path, columns: tuple[str, str], fmt: str
) -> None:
    """Two columns named for the classes of 0/1 labels, the class-1 column first: label 1
    is the column that names 1 (by file order it was the first column, a wrong number)."""
    p, y = binary()
    path = write(pd.DataFrame({columns[0]: p, columns[1]: 1 - p, "label": y}), "b", fmt)
    summary = xentcli.score(path, batch_rows=64)
    assert summary.loss == pytest.approx(reference(y, p), rel=1e-12)
    assert "by their names" in summary.reasons["labels"]


@pytest.mark.parametrize(
    "column, holds_class",
    [
        ("p0", 0),
        ("P(0)", 0),
        ("y_prob_0", 0),
        ("class0_prob", 0),
        ("neg_prob", 0),
        ("prob1", 1),
        ("prob_yes", 1),
        ("score", 1),
    ],
)
def test_one_column_naming_a_flag_class_in_passing(
    work: Path, column: str, holds_class: int
) -> None:
    """A single column whose name names class 0 or 1 without a prefix's ``_`` (``p0``,
    ``P(0)``) holds that class's probability (it was read as P(label = 1))."""
    p, y = binary()
    held = p if holds_class == 1 else 1 - p
    path = write(pd.DataFrame({column: held, "label": y}), "b", "csv")
    assert xentcli.score(path).loss == pytest.approx(reference(y, p), rel=1e-12)
    both = write(pd.DataFrame({"p_0_vs_1": p, "label": y}), "both", "csv")
    assert "--positive" in refused("score", both)


def test_a_polars_frame_is_read_through_arrow() -> None:
    """``xentcli.score(polars.DataFrame)`` reads the frame's Arrow stream (a Categorical
    label column included), as the same frame written to Parquet is read."""
    import polars as pl

    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(3), 300)
    y = rng.integers(0, 3, 300)
    frame = pl.DataFrame(
        {
            "p_a": probs[:, 0],
            "p_b": probs[:, 1],
            "p_c": probs[:, 2],
            "label": np.array(["a", "b", "c"])[y],
        }
    ).with_columns(pl.col("label").cast(pl.Categorical))
    assert xentcli.score(frame).loss == pytest.approx(log_loss(y, probs), rel=1e-12)
    with pytest.raises(XentError, match="no label column"):  # a list is an array
        xentcli.score([1, 2])


@pytest.mark.parametrize("columns", [("p_0", "p_1"), ("True", "False")])
@pytest.mark.parametrize("fmt", ("csv", "parquet"))
def test_two_flag_columns_with_boolean_labels(
    work: Path, columns: tuple[str, str], fmt: str
) -> None:
    """Boolean labels (``True``/``False`` in CSV, bool in Parquet) with two columns named
    for the classes 0 and 1 (they were refused, naming options that did not help)."""
    p, y = binary()
    one = p if _flag(columns[0]) else 1 - p
    frame = pd.DataFrame({columns[0]: one, columns[1]: 1 - one, "label": y.astype(bool)})
    summary = xentcli.score(write(frame, "b", fmt))
    assert summary.loss == pytest.approx(reference(y, p), rel=1e-12)


def _flag(name: str) -> bool:
    return name in ("p_1", "True")


def test_refusals_name_what_settles_them(work: Path) -> None:
    """A marker label (``-100``) suggests ``--ignore-label``, which then scores the other
    rows as PyTorch's ``ignore_index`` does; fractional binary labels are called
    fractions, not names that ``--positive`` would settle."""
    rng = np.random.default_rng(1)
    probs = rng.dirichlet(np.ones(3), 50)
    y = rng.integers(0, 3, 50)
    y[5] = -100
    path = write(pd.DataFrame(probs, columns=["p_a", "p_b", "p_c"]).assign(label=y), "m", "csv")
    line = refused("score", path)
    assert "row 5" in line and "--ignore-label -100" in line
    keep = y != -100
    result = xent("score", path, "--ignore-label", "-100", "--json")
    assert result.exit_code == 0, result.stderr
    truth = log_loss(y[keep], probs[keep], labels=[0, 1, 2])
    assert json.loads(result.stdout)["loss"] == pytest.approx(truth, rel=1e-12)
    p = rng.uniform(0.01, 0.99, 50)
    soft = np.where(rng.uniform(size=50) < p, 0.95, 0.05)
    line = refused("score", write(pd.DataFrame({"p": p, "label": soft}), "s", "csv"))
    assert "fractions" in line and "--positive" not in line
