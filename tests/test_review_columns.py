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

from xentcli.cli import cli

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
