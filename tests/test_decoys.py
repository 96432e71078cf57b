"""Decoys: random tables with the columns and rows that fooled xent, never another number.

Issue 10, "What to build" 4; SPEC "Inputs". Hypothesis draws a true problem (2 to 4
classes, probabilities or logits, labels as names or indices) and hides it among decoys
that users' files carry: integer ids, folds, epochs and counters, a pandas index written
with PREDS only, the same index in both files with LABELS shuffled, a label column in
PREDS, a sentinel row of -1s. pandas writes the two files as CSV or Parquet. xent must
give scikit-learn's ``log_loss`` of the true problem (to 1e-12 relative, over the true
number of rows), or exit 2 with exactly one ``Error: `` line; any other number with exit 0
is the failure. A sentinel row without ``--drop-invalid`` leaves no true number, so there
only the refusal is right.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from click.testing import CliRunner, Result
from hypothesis import given
from hypothesis import strategies as st
from writers import Problem, make_problem

from xentcli.cli import cli

REL = 1e-12
CLASS_SETS = [("cat", "dog"), ("cat", "dog", "bird"), ("yes", "no", "maybe", "never")]
ID_NAMES = ["id", "sample_id", "idx", "index", "key", "row", "uuid"]
COUNTER_NAMES = ["fold", "split", "epoch", "step", "seed"]
PLAIN_INT_NAMES = ["n_tokens", "count", "length"]


@dataclass
class Case:
    """A drawn file pair and what xent must make of it."""

    problem: Problem
    fmt: str
    prefix: str
    labels_as_names: bool
    decoys: list[str]
    index: str  # "none", "preds_only" or "shared_shuffled"
    index_name: str | None
    sentinel: int | None
    drop_invalid: bool
    seed: int

    def truth(self) -> tuple[float, int] | None:
        """The true loss and row count, or None when only a refusal is right."""
        if self.sentinel is None:
            return self.problem.loss(), self.problem.n
        if not self.drop_invalid:
            return None
        keep = np.arange(self.problem.n) != self.sentinel
        return self.problem.loss(keep), self.problem.n - 1


DECOYS = ("id", "counter", "plain_int", "label_in_preds")
INDEX_MODES = ("none", "preds_only", "shared_shuffled")


@st.composite
def cases(
    draw: st.DrawFn,
    decoy_kinds: tuple[str, ...] = DECOYS,
    index_modes: tuple[str, ...] = INDEX_MODES,
    sentinels: bool = True,
) -> Case:
    classes = draw(st.sampled_from(CLASS_SETS))
    n = draw(st.integers(12, 80))
    kind = draw(st.sampled_from(["probs", "logits"]))
    seed = draw(st.integers(0, 2**31 - 1))
    fmt = draw(st.sampled_from(["csv", "parquet"]))
    prefix = draw(st.sampled_from(["p_", ""] if kind == "probs" else ["logit_", ""]))
    decoys = draw(st.lists(st.sampled_from(decoy_kinds), unique=True)) if decoy_kinds else []
    index = draw(st.sampled_from(index_modes))
    if fmt == "csv" and index == "shared_shuffled":
        index_name = None  # in a CSV only pandas' unnamed index is known to be one
    else:
        index_name = draw(st.sampled_from([None, "sample"]))
    sentinel = None
    if sentinels and kind == "probs" and draw(st.booleans()):
        sentinel = draw(st.integers(0, n - 1))
    problem = make_problem(n, classes=classes, kind=kind, seed=seed % 2**16)
    return Case(
        problem=problem,
        fmt=fmt,
        prefix=prefix,
        labels_as_names=draw(st.booleans()),
        decoys=decoys,
        index=index,
        index_name=index_name,
        sentinel=sentinel,
        drop_invalid=draw(st.booleans()),
        seed=seed,
    )


def _decoy_columns(case: Case, rng: np.random.Generator) -> dict[str, Any]:
    """Integer columns with the roles their names or types give them; a counter may be
    all zeros (a column that keeps probability rows summing to 1)."""
    n = case.problem.n
    out: dict[str, Any] = {}
    for decoy in case.decoys:
        if decoy == "id":
            name = ID_NAMES[rng.integers(len(ID_NAMES))]
            out[name] = rng.choice(10**6, size=n, replace=False).astype(np.int64)
        elif decoy == "counter":
            name = COUNTER_NAMES[rng.integers(len(COUNTER_NAMES))]
            out[name] = rng.integers(0, rng.integers(1, 6), size=n).astype(np.int64)
        elif decoy == "plain_int":
            name = PLAIN_INT_NAMES[rng.integers(len(PLAIN_INT_NAMES))]
            out[name] = rng.integers(0, 3, size=n).astype(np.int64)
    return out


def _labels(case: Case) -> np.ndarray:
    p = case.problem
    return p.names() if case.labels_as_names else p.labels.astype(np.int64)


def write_case(case: Case, directory: Path) -> tuple[Path, Path]:
    """PREDS and LABELS as pandas writes them for this case."""
    rng = np.random.default_rng(case.seed)
    p = case.problem
    preds = p.preds_frame(prefix=case.prefix)
    if case.sentinel is not None:
        preds.iloc[case.sentinel] = -1.0
    decoys = _decoy_columns(case, rng)
    for position, (name, column) in enumerate(decoys.items()):
        preds.insert(position, name, column)
    if "label_in_preds" in case.decoys:
        preds["label"] = _labels(case)
    labels = pd.DataFrame({"label": _labels(case)})

    preds_index = labels_index = False
    if case.index != "none":
        ids = pd.Index(rng.choice(10**6, size=p.n, replace=False), name=case.index_name)
        preds.index = ids
        preds_index = True
        if case.index == "shared_shuffled":
            labels.index = ids
            labels = labels.iloc[rng.permutation(p.n)]
            labels_index = True

    ext = ".csv" if case.fmt == "csv" else ".parquet"
    preds_path, labels_path = directory / f"preds{ext}", directory / f"labels{ext}"
    if case.fmt == "csv":
        preds.to_csv(preds_path, index=preds_index)
        labels.to_csv(labels_path, index=labels_index)
    else:
        preds.to_parquet(preds_path, index=preds_index)
        labels.to_parquet(labels_path, index=labels_index)
    return preds_path, labels_path


def run(*args: Any) -> Result:
    argv = ["score", *(str(a) for a in args), "--json"]
    return CliRunner().invoke(cli, argv, prog_name="xent", catch_exceptions=False)


def judge(case: Case, result: Result) -> None:
    """The true number, or one clean ``Error:`` line; never another number."""
    truth = case.truth()
    where = (
        f"case: fmt={case.fmt} prefix={case.prefix!r} classes={case.problem.classes} "
        f"kind={case.problem.kind} names={case.labels_as_names} decoys={case.decoys} "
        f"index={case.index}/{case.index_name} sentinel={case.sentinel} "
        f"drop_invalid={case.drop_invalid}"
    )
    if result.exit_code == 0:
        data = json.loads(result.stdout)
        assert truth is not None, (
            f"WRONG NUMBER with exit 0: loss {data['loss']!r} over {data['n_samples']} rows "
            f"where only a refusal is right; {where}"
        )
        loss, n = truth
        assert abs(data["loss"] - loss) <= REL * abs(loss) and data["n_samples"] == n, (
            f"WRONG NUMBER with exit 0: loss {data['loss']!r} over {data['n_samples']} rows, "
            f"classes {data['classes']}; truth {loss!r} over {n}; {where}"
        )
        return
    errors = [line for line in result.stderr.splitlines() if not line.startswith("Warning:")]
    assert result.exit_code == 2 and len(errors) == 1 and errors[0].startswith("Error: "), (
        f"expected exit 2 with one Error line, got exit {result.exit_code}: "
        f"{result.stderr!r}; {where}"
    )
    assert "This is a bug" not in errors[0], f"crash: {errors[0]}; {where}"


@given(cases())
def test_decoys_never_change_the_number(case: Case) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        preds, labels = write_case(case, Path(tmp))
        args: list[Any] = [preds, labels]
        if case.drop_invalid:
            args.append("--drop-invalid")
        judge(case, run(*args))


@given(cases(decoy_kinds=DECOYS[:3], index_modes=("none", "preds_only")))
def test_decoys_with_labels_inside_preds(case: Case) -> None:
    """The same decoys in one file holding the labels too (no LABELS file)."""
    with tempfile.TemporaryDirectory() as tmp:
        case.decoys = [*case.decoys, "label_in_preds"]
        preds, _ = write_case(case, Path(tmp))
        args: list[Any] = [preds, "--drop-invalid"] if case.drop_invalid else [preds]
        judge(case, run(*args))
