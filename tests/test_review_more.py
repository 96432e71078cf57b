"""Findings U1, U2, U3, U7 of the new-user review: files pandas writes, read as meant.

SPEC "Inputs": where data could mean two things that give different numbers, exit 2 with
one ``Error:`` line naming the option that settles it; else the number scikit-learn's
``log_loss`` gives. Files are written by pandas (CSV and Parquet), as users write them.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from clirun import loss_of, refused, save, work, xent  # noqa: F401 (work: a fixture)
from sklearn.metrics import log_loss

TOL = 1e-9
N = 300
RNG = np.random.default_rng(7)
P = RNG.dirichlet(np.ones(3), N)
Y = np.concatenate([[0, 1, 2], RNG.integers(0, 3, N - 3)])  # every class present
NAMES = np.array(["cat", "dog", "fox"])
PRED_COLS = ["p_cat", "p_dog", "p_fox"]
FORMATS = ["csv", "parquet"]


def preds(fmt: str) -> str:
    return save(pd.DataFrame(P, columns=PRED_COLS), f"p.{fmt}")


# -- U3: one-hot and multilabel labels from pd.get_dummies are bool columns ------------


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("prefix", [None, "y"])
def test_get_dummies_one_hot_labels(fmt: str, prefix: str | None) -> None:
    dummies = pd.get_dummies(pd.Series(NAMES[Y]), prefix=prefix)
    assert all(kind == np.dtype(bool) for kind in dummies.dtypes)  # pandas >= 2: bools
    labels = save(dummies, f"l.{fmt}")
    ints = save(dummies.astype(int), f"li.{fmt}")
    expected = log_loss(Y, P)
    assert loss_of(preds(fmt), labels) == pytest.approx(expected, rel=TOL)
    assert loss_of(preds(fmt), ints) == pytest.approx(expected, rel=TOL)


@pytest.mark.parametrize("fmt", FORMATS)
def test_bool_multilabel_labels(fmt: str) -> None:
    truth = RNG.integers(0, 2, (N, 3)).astype(bool)
    labels = save(pd.DataFrame(truth, columns=NAMES), f"l.{fmt}")
    expected = np.mean([log_loss(truth[:, k], P[:, k], labels=[0, 1]) for k in range(3)])
    result = xent(preds(fmt), labels)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["task"] == "multilabel"
    assert float(json.loads(result.stdout)["loss"]) == pytest.approx(expected, rel=TOL)


@pytest.mark.parametrize("fmt", FORMATS)
def test_bool_one_hot_row_of_all_false_is_a_missing_label(fmt: str) -> None:
    dummies = pd.get_dummies(pd.Series(NAMES[Y]))
    dummies.iloc[7] = False
    labels = save(dummies, f"l.{fmt}")
    ints = save(dummies.astype(int), f"li.{fmt}")
    for file in (labels, ints):
        line = refused(preds(fmt), file)
        assert "row 7" in line and "all zeros" in line and "--drop-invalid" in line
    keep = np.arange(N) != 7
    expected = log_loss(Y[keep], P[keep])
    assert loss_of(preds(fmt), labels, "--drop-invalid") == pytest.approx(expected, rel=TOL)
    assert loss_of(preds(fmt), ints, "--drop-invalid") == pytest.approx(expected, rel=TOL)


# -- U2: integer labels that are not 0/1 are class names in every format ---------------

P1 = RNG.random(N)
ONE_TWO = np.concatenate([[1, 2], RNG.integers(1, 3, N - 2)])
MINUS_ONE_ONE = np.where(RNG.integers(0, 2, N) == 1, 1, -1)


def binary(fmt: str, labels: np.ndarray, column: str = "p_1") -> str:
    return save(pd.DataFrame({column: P1, "label": labels}), f"b.{fmt}")


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("positive", [1, 2])
def test_positive_names_one_of_integer_labels(fmt: str, positive: int) -> None:
    truth = ONE_TWO == positive  # noqa: SIM300
    expected = log_loss(truth, P1)
    file = binary(fmt, ONE_TWO)
    assert loss_of(file, "--positive", str(positive)) == pytest.approx(expected, rel=TOL)


@pytest.mark.parametrize("fmt", FORMATS)
def test_label_type_names_reads_integer_labels_as_names(fmt: str) -> None:
    expected = log_loss(ONE_TWO == 1, P1)  # p_1 is named for the class 1
    assert loss_of(binary(fmt, ONE_TWO), "--label-type", "names") == pytest.approx(
        expected, rel=TOL
    )


@pytest.mark.parametrize("fmt", FORMATS)
def test_float_labels_one_two_with_positive(fmt: str) -> None:
    expected = log_loss(ONE_TWO == 2, P1)
    file = binary(fmt, ONE_TWO.astype(float))
    assert loss_of(file, "--positive", "2") == pytest.approx(expected, rel=TOL)


@pytest.mark.parametrize("fmt", FORMATS)
def test_p_1_with_labels_one_two_is_refused(fmt: str) -> None:
    """p_1 names class 1, or is predict_proba[:, 1], the class 2: two numbers."""
    assert log_loss(ONE_TWO == 1, P1) != pytest.approx(log_loss(ONE_TWO == 2, P1))
    line = refused(binary(fmt, ONE_TWO))
    assert "--positive 1" in line and "--positive 2" in line and "'p_1'" in line


@pytest.mark.parametrize("fmt", FORMATS)
def test_p_1_with_labels_minus_one_one(fmt: str) -> None:
    """Both readings of p_1 name the class 1 of {-1, 1}: no ambiguity."""
    expected = log_loss(MINUS_ONE_ONE == 1, P1)
    file = binary(fmt, MINUS_ONE_ONE)
    assert loss_of(file) == pytest.approx(expected, rel=TOL)
    assert loss_of(file, "--positive", "1") == pytest.approx(expected, rel=TOL)
    assert loss_of(file, "--positive", "-1") == pytest.approx(
        log_loss(MINUS_ONE_ONE == -1, P1), rel=TOL
    )


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("labels", ["one_two", "minus_one_one"])
def test_a_column_naming_no_class_needs_positive(fmt: str, labels: str) -> None:
    values = ONE_TWO if labels == "one_two" else MINUS_ONE_ONE
    line = refused(binary(fmt, values, column="score"))
    assert "--positive" in line


@pytest.mark.parametrize("fmt", FORMATS)
def test_zero_one_integer_labels_are_still_flags(fmt: str) -> None:
    flags = (ONE_TWO == 2).astype(int)
    file = binary(fmt, flags, column="score")
    assert loss_of(file) == pytest.approx(log_loss(flags, P1), rel=TOL)
    assert loss_of(binary(fmt, flags)) == pytest.approx(log_loss(flags, P1), rel=TOL)


# -- U7: PREDS' own label column of indices, LABELS' of names --------------------------


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("indices_in", ["preds", "labels"])
def test_own_labels_agree_under_the_class_mapping(fmt: str, indices_in: str) -> None:
    own = Y if indices_in == "preds" else NAMES[Y]
    given = NAMES[Y] if indices_in == "preds" else Y
    file = save(pd.DataFrame(P, columns=PRED_COLS).assign(y=own), f"p.{fmt}")
    labels = save(pd.DataFrame({"label": given}), f"l.{fmt}")
    assert loss_of(file, labels) == pytest.approx(log_loss(Y, P), rel=TOL)


@pytest.mark.parametrize("fmt", FORMATS)
def test_own_labels_that_differ_under_the_mapping_are_refused(fmt: str) -> None:
    own = Y.copy()
    own[5] = (Y[5] + 1) % 3
    file = save(pd.DataFrame(P, columns=PRED_COLS).assign(y=own), f"p.{fmt}")
    labels = save(pd.DataFrame({"label": NAMES[Y]}), f"l.{fmt}")
    line = refused(file, labels)
    assert "row 5" in line and f"the class {str(NAMES[own[5]])!r} by index" in line
    assert f"says {str(NAMES[Y[5]])!r}" in line


def test_own_index_labels_follow_classes() -> None:
    """--classes gives the class of each index: the check reads PREDS' indices by it."""
    order = [2, 0, 1]  # index 0 is fox, 1 cat, 2 dog
    classes = NAMES[order]
    position = {name: i for i, name in enumerate(classes)}
    indices = np.array([position[name] for name in NAMES[Y]])
    frame = pd.DataFrame(P, columns=PRED_COLS).assign(y=indices)
    file = save(frame, "p.csv")
    labels = save(pd.DataFrame({"label": indices}), "l.csv")
    args = ("--classes", ",".join(classes))
    assert loss_of(file, labels, *args) == pytest.approx(log_loss(Y, P), rel=TOL)
    names = save(pd.DataFrame({"label": NAMES[Y]}), "n.csv")
    line = refused(file, names)  # file order: index 0 is cat, so row 0 differs
    assert "PREDS' own label column must agree" in line


# -- U1: pd.Series(y).to_csv(index=False) writes the header 0 above integer labels ------


def test_series_header_zero_is_explained() -> None:
    pd.Series(Y).to_csv("y.csv", index=False)
    line = refused(preds("csv"), "y.csv")
    assert "y.csv line 1: the first line is numbers only ('0')" in line
    assert "pandas writes above an unnamed Series" in line and "header=False" in line


def test_series_header_zero_under_no_header_names_the_file() -> None:
    pd.Series(Y).to_csv("y.csv", index=False)
    np.savetxt("p.txt", P)
    line = refused("p.txt", "y.csv", "--no-header")
    assert f"p.txt has {N} rows but y.csv has {N + 1}" in line
    assert "y.csv's first line was read as data" in line and "header=False" in line


def test_series_written_as_the_hint_says_scores() -> None:
    np.savetxt("p.txt", P)
    pd.Series(Y).to_csv("y.csv", index=False, header=False)
    expected = log_loss(Y, P)
    assert loss_of("p.txt", "y.csv", "--no-header") == pytest.approx(expected, rel=TOL)
    pd.Series(Y).to_csv("named.csv", index=False, header=["label"])
    assert loss_of(preds("csv"), "named.csv") == pytest.approx(expected, rel=TOL)


def test_other_length_errors_say_nothing_of_headers() -> None:
    pd.Series(Y[:-2]).to_csv("y.csv", index=False, header=False)
    np.savetxt("p.txt", P)
    line = refused("p.txt", "y.csv", "--no-header")
    assert f"p.txt has {N} rows but y.csv has {N - 2}" in line and "first line" not in line
