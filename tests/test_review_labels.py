"""Findings F2, F3, F6, U4, U5, U6 of the new-user review: how labels and names are read.

SPEC "Inputs": where data could mean two things that give different numbers, exit 2 with
one ``Error:`` line naming the option that settles it; else the number scikit-learn's
``log_loss`` gives (``labels=`` in the class order). Files are written by pandas (CSV
and Parquet) and NumPy's ``savetxt``, as users write them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from clirun import loss_of, refused, save, work, xent  # noqa: F401 (work: a fixture)
from sklearn.metrics import log_loss

from xentcli.run.infer import class_names

TOL = 1e-9
N = 300
RNG = np.random.default_rng(0)
P = RNG.dirichlet(np.ones(3), N)
Y = RNG.integers(0, 3, N)
Y = np.concatenate([[0, 1, 2], Y[3:]])  # every class present
Y12 = RNG.integers(0, 2, N)  # 0-based indices of the first two classes only
NAMES = np.array(["cat", "dog", "fox"])


FORMATS = ["csv", "parquet"]

# -- F3, U5, U6: class_, logp_, log_p_, logprobs_ prefixes; numbered class names ------

NUMBERED = {
    "class_": ["class_1", "class_2", "class_3"],
    "Class_": ["Class_1", "Class_2", "Class_3"],
    "Class ": ["Class 1", "Class 2", "Class 3"],
    "p": ["p1", "p2", "p3"],
    "class": ["class1", "class2", "class3"],
    "c": ["c1", "c2", "c3"],
    "prob_class_": ["prob_class_1", "prob_class_2", "prob_class_3"],
}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("stem", list(NUMBERED))
def test_numbered_names_with_one_based_labels_are_refused(fmt: str, stem: str) -> None:
    """F3: labels {1, 2} meeting class_1..class_3 could be 0-based indices or the names'
    numbers: two readings, two numbers (1.44 and 1.53): refused naming both options."""
    data: Any = pd.DataFrame(P, columns=NUMBERED[stem]).assign(label=Y12 + 1)
    path = save(data, f"preds.{fmt}")
    as_indices = log_loss(Y12 + 1, P, labels=[0, 1, 2])
    as_names = log_loss(Y12, P, labels=[0, 1, 2])
    assert abs(as_indices - as_names) > 0.05
    line = refused(path)
    assert "--label-type" in line and "--classes" in line
    second = class_names(NUMBERED[stem])[1]  # class_2 is the class '2'
    assert f"is class {second!r} as a name but class {second[:-1] + '3'!r} as an index" in line
    assert loss_of(path, "--label-type", "names") == pytest.approx(as_names, abs=TOL)
    assert loss_of(path, "--label-type", "indices") == pytest.approx(as_indices, abs=TOL)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("stem", ["Class_", "p", "prob_class_"])
def test_numbered_names_with_labels_one_to_k(fmt: str, stem: str) -> None:
    """U6: labels 1..3 meeting Class_1..Class_3: refused naming --label-type and --classes;
    --label-type names gives scikit-learn's number, and --label-type indices names
    --classes for the label 3 that indexes no class."""
    path = save(pd.DataFrame(P, columns=NUMBERED[stem]).assign(label=Y + 1), f"preds.{fmt}")
    line = refused(path)
    assert "--label-type" in line and "--classes" in line
    assert loss_of(path, "--label-type", "names") == pytest.approx(
        log_loss(Y, P, labels=[0, 1, 2]), abs=TOL
    )
    line = refused(path, "--label-type", "indices")
    assert "label 3 is neither a class name nor a class index 0..2" in line.replace("'", "")
    assert "--classes" in line and "--label-type names" in line


@pytest.mark.parametrize("fmt", FORMATS)
def test_numbered_names_from_zero_are_indices(fmt: str) -> None:
    """c0..c2 with labels 0..2: the names' numbers are the indices, one reading; a later
    label 3 is no class, and the message names --classes."""
    path = save(pd.DataFrame(P, columns=["c0", "c1", "c2"]).assign(label=Y), f"preds.{fmt}")
    assert loss_of(path) == pytest.approx(log_loss(Y, P, labels=[0, 1, 2]), abs=TOL)
    labels = np.where(np.arange(N) == 7, 3, Y)
    bad = save(pd.DataFrame(P, columns=["c0", "c1", "c2"]).assign(label=labels), f"bad.{fmt}")
    line = refused(bad).replace("'", "")
    assert "row 7" in line and "label 3 is neither" in line and "--classes" in line


@pytest.mark.parametrize("fmt", FORMATS)
def test_classes_orders_numbered_names(fmt: str) -> None:
    """--classes settles it: label i is the class it names (by name or by number)."""
    columns = NUMBERED["class_"]
    path = save(pd.DataFrame(P, columns=columns).assign(label=Y), f"preds.{fmt}")
    order = [2, 0, 1]  # label 0 is class_3, label 1 class_1, label 2 class_2
    expected = log_loss(Y, P[:, order], labels=[0, 1, 2])
    assert loss_of(path, "--classes", "class_3,class_1,class_2") == pytest.approx(expected, abs=TOL)
    assert loss_of(path, "--classes", "3,1,2") == pytest.approx(expected, abs=TOL)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("prefix", ["logp_", "log_p_", "logprobs_", "logprob_"])
def test_logprob_prefixes_are_stripped(fmt: str, prefix: str) -> None:
    """U5: logp_cat .. with name labels: the prefix is stripped, the values are
    log-probabilities by their name."""
    columns = [f"{prefix}{c}" for c in NAMES]
    path = save(pd.DataFrame(np.log(P), columns=columns).assign(label=NAMES[Y]), f"p.{fmt}")
    assert loss_of(path) == pytest.approx(log_loss(Y, P, labels=[0, 1, 2]), abs=TOL)


@pytest.mark.parametrize("fmt", FORMATS)
def test_class_prefix_is_stripped_for_name_labels(fmt: str) -> None:
    """class_cat .. with labels cat, dog, fox: the class_ prefix is stripped (SPEC)."""
    columns = [f"class_{c}" for c in NAMES]
    path = save(pd.DataFrame(P, columns=columns).assign(label=NAMES[Y]), f"p.{fmt}")
    assert loss_of(path) == pytest.approx(log_loss(Y, P, labels=[0, 1, 2]), abs=TOL)


# -- F2: one binary column named for a class that 0/1 labels do not name ---------------


def breast_cancer() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's breast cancer labels (0 = malignant) and a model's P(malignant)."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression

    x, y = load_breast_cancer(return_X_y=True)
    x = (x - x.mean(axis=0)) / x.std(axis=0)
    proba = LogisticRegression(max_iter=1000).fit(x, y).predict_proba(x)
    return y, proba


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("boolean", [False, True])
def test_column_named_for_a_class_with_0_1_labels_is_refused(fmt: str, boolean: bool) -> None:
    """F2: p_malignant with labels 0 (malignant) / 1: P(label = 1) gives 8, the truth
    0.09: refused naming --positive and --classes, which then give scikit-learn's number."""
    y, proba = breast_cancer()
    labels = y.astype(bool) if boolean else y
    path = save(pd.DataFrame({"p_malignant": proba[:, 0], "label": labels}), f"bc.{fmt}")
    truth = log_loss(y, proba)
    line = refused(path)
    assert "'p_malignant'" in line and "'malignant'" in line
    assert "--positive" in line and "--classes" in line
    assert loss_of(path, "--positive", "0") == pytest.approx(truth, abs=TOL)
    assert loss_of(path, "--classes", "malignant,benign") == pytest.approx(truth, abs=TOL)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("column", ["p_dog", "prob_dog", "proba_dog", "pred_dog", "logit_dog"])
def test_prefixed_class_name_with_0_1_labels_is_refused(fmt: str, column: str) -> None:
    y = (P[:, 1] > RNG.random(N)).astype(int)
    values = np.log(P[:, 1] / (1 - P[:, 1])) if column.startswith("logit") else P[:, 1]
    path = save(pd.DataFrame({column: values, "label": y}), f"dog.{fmt}")
    line = refused(path)
    assert "--positive" in line and "--classes" in line and "'dog'" in line
    assert loss_of(path, "--positive", "1") == pytest.approx(log_loss(y, P[:, 1]), abs=TOL)


GENERIC = [
    "score",
    "prob",
    "proba",
    "probability",
    "pred",
    "prediction",
    "output",
    "y_pred",
    "y_score",
    "pred_proba",
    "p_pred",
    "malignant",  # unprefixed: names no class by SPEC's rule
]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("column", GENERIC)
def test_generic_name_holds_p_of_label_1(fmt: str, column: str) -> None:
    y, proba = breast_cancer()
    path = save(pd.DataFrame({column: proba[:, 1], "label": y}), f"g.{fmt}")
    assert loss_of(path) == pytest.approx(log_loss(y, proba), abs=TOL)


FLAGS = {
    "p_1": 1,
    "p_true": 1,
    "p_pos": 1,
    "p_positive": 1,
    "p_yes": 1,
    "p_class_1": 1,
    "p_0": 0,
    "p_false": 0,
    "p_neg": 0,
    "p_negative": 0,
    "p_no": 0,
}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("column", list(FLAGS))
def test_flag_names_name_their_class(fmt: str, column: str) -> None:
    y, proba = breast_cancer()
    path = save(pd.DataFrame({column: proba[:, FLAGS[column]], "label": y}), f"f.{fmt}")
    assert loss_of(path) == pytest.approx(log_loss(y, proba), abs=TOL)


def test_name_labels_still_name_the_column_class() -> None:
    """p_dog with labels cat/dog: the names say which class it is, one reading."""
    y = (P[:, 1] > RNG.random(N)).astype(int)
    frame = pd.DataFrame({"p_dog": P[:, 1], "label": np.array(["cat", "dog"])[y]})
    path = save(frame, "names.csv")
    assert loss_of(path) == pytest.approx(log_loss(y, P[:, 1]), abs=TOL)


# -- F6: one column all <= 0 whose name says nothing: logits or log-probabilities ------


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("column", ["pred", "score", "y_score", "output"])
def test_one_nonpositive_column_is_refused(fmt: str, column: str) -> None:
    """F6: read as logits it gives another number than as log-probabilities: refused
    naming --input, which then gives scikit-learn's number."""
    rng = np.random.default_rng(3)
    p1 = rng.uniform(0.01, 0.99, N)
    y = (rng.random(N) < p1).astype(int)
    path = save(pd.DataFrame({column: np.log(p1), "label": y}), f"lp.{fmt}")
    line = refused(path)
    assert "--input" in line and "<= 0" in line and f"'{column}'" in line
    assert loss_of(path, "--input", "logprobs") == pytest.approx(log_loss(y, p1), abs=TOL)
    as_logits = log_loss(y, 1 / (1 + np.exp(-np.log(p1))))
    assert loss_of(path, "--input", "logits") == pytest.approx(as_logits, abs=TOL)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    ("column", "kind"),
    [("logit", "logits"), ("logp", "logprobs"), ("log_p", "logprobs"), ("logprob", "logprobs")],
)
def test_a_named_nonpositive_column_is_read_by_its_name(fmt: str, column: str, kind: str) -> None:
    rng = np.random.default_rng(4)
    p1 = rng.uniform(0.01, 0.99, N)
    y = (rng.random(N) < p1).astype(int)
    path = save(pd.DataFrame({column: np.log(p1), "label": y}), f"named.{fmt}")
    expected = log_loss(y, p1 if kind == "logprobs" else 1 / (1 + 1 / p1))
    assert loss_of(path) == pytest.approx(expected, abs=TOL)


def test_logits_of_both_signs_are_logits() -> None:
    rng = np.random.default_rng(5)
    z = rng.normal(0, 2, N)
    y = (rng.random(N) < 1 / (1 + np.exp(-z))).astype(int)
    path = save(pd.DataFrame({"pred": z, "label": y}), "z.csv")
    assert loss_of(path) == pytest.approx(log_loss(y, 1 / (1 + np.exp(-z))), abs=TOL)


# -- U4: labels as NumPy's savetxt writes floats ----------------------------------------


def test_savetxt_float_labels_are_integers() -> None:
    """np.savetxt of float labels writes 2.000000000000000000e+00: the integer 2."""
    np.savetxt("p.txt", P)
    np.savetxt("y.txt", Y.astype(float))
    assert "e+00" in Path("y.txt").read_text().splitlines()[0]
    got = loss_of("p.txt", "y.txt", "--no-header")
    assert got == pytest.approx(log_loss(Y, P, labels=[0, 1, 2]), abs=TOL)


def test_savetxt_binary_float_labels() -> None:
    rng = np.random.default_rng(6)
    p1 = rng.uniform(0.01, 0.99, N)
    y = (rng.random(N) < p1).astype(int)
    np.savetxt("p.txt", p1)
    np.savetxt("y.txt", y.astype(float))
    assert loss_of("p.txt", "y.txt", "--no-header") == pytest.approx(log_loss(y, p1), abs=TOL)


def test_savetxt_labels_that_are_not_whole_are_refused() -> None:
    np.savetxt("p.txt", P)
    np.savetxt("y.txt", np.where(np.arange(N) == 4, 1.5, Y.astype(float)))
    line = refused("p.txt", "y.txt", "--no-header")
    assert "row 4" in line and "1.5" in line
