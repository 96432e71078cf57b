"""Bad inputs a new user would try: each is exit 2 with one ``Error:`` line that says what
is wrong and where, nothing on standard output, no traceback, and no output file touched.

SPEC "Gates and exit codes": exit 2 is "bad usage or bad input; one line ``Error: ...`` on
standard error, no traceback"; "a run that fails leaves none of its outputs behind and any
file that existed before untouched"; row numbers are 0-based positions among the data rows
of PREDS. Mistakes in the command line itself (an unknown option, a bad choice or option
value) get click's usage block before the ``Error:`` line and are tested apart.

Most cases run in-process through click's ``CliRunner``; a few run ``xent`` as a real
process to show the same holds there (including standard input closed).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner, Result

from xentcli.cli import cli

# -- data ------------------------------------------------------------------------------

CLASSES = ["cat", "dog", "bird"]
COLUMNS = [f"p_{c}" for c in CLASSES]
PROBS = [
    [0.7, 0.2, 0.1],
    [0.1, 0.8, 0.1],
    [0.2, 0.2, 0.6],
    [0.5, 0.25, 0.25],
    [0.3, 0.3, 0.4],
    [0.05, 0.9, 0.05],
]
NAMES = ["cat", "dog", "bird", "cat", "bird", "dog"]
INDICES = [0, 1, 2, 0, 2, 1]
IDS = [f"a{i}" for i in range(len(PROBS))]

Content = pd.DataFrame | pa.Table | bytes | Callable[[Path], None]


def probs(rows: list[list[object]] | None = None, **extra: list[object]) -> pd.DataFrame:
    """A multiclass probability frame (``p_cat, p_dog, p_bird``) plus ``extra`` columns."""
    frame = pd.DataFrame(rows if rows is not None else PROBS, columns=COLUMNS)
    for name, values in extra.items():
        frame[name] = values
    return frame


def with_cell(row: int, column: str, value: object, **extra: list[object]) -> pd.DataFrame:
    """``probs`` with one prediction cell replaced (as text, so CSV writes it verbatim)."""
    frame = probs(**extra).astype({column: object})
    frame.loc[row, column] = value
    return frame


def binary(values: list[object], labels: list[object], column: str = "p_dog") -> pd.DataFrame:
    return pd.DataFrame({column: values, "label": labels})


def labels_only(values: list[object], **extra: list[object]) -> pd.DataFrame:
    return pd.DataFrame({**extra, "label": values})


def big_probs(n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` rows of multiclass probabilities with index labels: more than one batch."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.dirichlet([1.0, 1.0, 1.0], size=n), columns=COLUMNS)
    frame["label"] = rng.integers(0, 3, size=n)
    return frame


def big_with_text(n: int, row: int) -> pd.DataFrame:
    frame = big_probs(n).astype({"p_dog": object})
    frame.loc[row, "p_dog"] = "oops"
    return frame


def big_with_nan(n: int, row: int) -> pd.DataFrame:
    frame = big_probs(n)
    frame.loc[row, "p_dog"] = float("nan")
    return frame


def big_with_label(n: int, row: int, label: int) -> pd.DataFrame:
    frame = big_probs(n)
    frame.loc[row, "label"] = label
    return frame


def parquet_bytes(frame: pd.DataFrame) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), sink)
    return sink.getvalue().to_pybytes()


def truncated_parquet(path: Path) -> None:
    data = parquet_bytes(big_probs(200))
    path.write_bytes(data[: len(data) // 2])


def make_directory(path: Path) -> None:
    path.mkdir()
    (path / "preds.csv").write_text("p_dog,label\n0.5,1\n")


def write(root: Path, files: Mapping[str, Content]) -> None:
    """Write each file: frames by extension (CSV or Parquet), bytes as they are."""
    for name, content in files.items():
        path = root / name
        if isinstance(content, pd.DataFrame):
            if name.endswith(".parquet"):
                content.to_parquet(path, index=False)
            else:
                content.to_csv(path, index=False)
        elif isinstance(content, pa.Table):
            pq.write_table(content, path)
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            content(path)


# -- the cases -------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """A bad run: the files it needs, its arguments after ``score``, and the substrings its
    one ``Error:`` line must hold. ``outputs`` says whether the test may add ``--output``
    and ``--per-sample`` (cases about those options give their own)."""

    name: str
    files: Mapping[str, Content]
    args: tuple[str, ...]
    expect: tuple[str, ...]
    stdin: bytes | None = None
    outputs: bool = True


OK_PREDS = {"preds.csv": probs(label=NAMES)}

CASES = [
    # -- files that are not there or not tables
    Case("missing-file", {}, ("nope.csv",), ("nope.csv", "no such file")),
    Case("empty-file", {"empty.csv": b""}, ("empty.csv",), ("empty.csv", "empty")),
    Case(
        "header-only-csv",
        {"header.csv": b"p_cat,p_dog,p_bird,label\n"},
        ("header.csv",),
        ("header.csv", "no rows"),
    ),
    Case(
        "header-only-parquet",
        {"header.parquet": probs(label=NAMES).iloc[:0]},
        ("header.parquet",),
        ("header.parquet", "no rows"),
    ),
    Case("directory-as-preds", {"preds": make_directory}, ("preds",), ("preds", "directory")),
    Case(
        "corrupt-parquet",
        {"corrupt.parquet": np.random.default_rng(1).bytes(4096)},
        ("corrupt.parquet",),
        ("corrupt.parquet", "not a Parquet file"),
    ),
    Case(
        "corrupt-parquet-with-magic",
        {"corrupt.parquet": b"PAR1" + np.random.default_rng(2).bytes(4096)},
        ("corrupt.parquet",),
        ("corrupt.parquet", "Parquet"),
    ),
    Case(
        "truncated-parquet",
        {"truncated.parquet": truncated_parquet},
        ("truncated.parquet",),
        ("truncated.parquet", "Parquet"),
    ),
    Case(
        "not-gzip",
        {"preds.csv.gz": b"p_cat,p_dog,p_bird,label\n0.7,0.2,0.1,cat\n"},
        ("preds.csv.gz",),
        ("preds.csv.gz", "cannot read"),
    ),
    Case(
        "ragged-csv-row",
        {"preds.csv": b"p_dog,label\n0.9,1\n0.2,0\n0.4,1\n0.3,0,extra\n0.8,1\n"},
        ("preds.csv",),
        ("preds.csv row 3", "malformed CSV"),
    ),
    Case(
        "unclosed-quote",
        {"quote.csv": b'p_dog,label\n0.5,"1\n0.4,0\n'},
        ("quote.csv",),
        ("quote.csv row 0", "unclosed quote"),
    ),
    Case(
        "empty-labels-file",
        {"preds.csv": probs(), "labels.csv": b""},
        ("preds.csv", "labels.csv"),
        ("labels.csv", "empty"),
    ),
    Case(
        "missing-labels-file",
        {"preds.csv": probs()},
        ("preds.csv", "labels.csv"),
        ("labels.csv", "no such file"),
    ),
    Case(
        "header-only-labels-with-id-col",
        {"preds.csv": probs(id=IDS), "labels.csv": b"id,label\n"},
        ("preds.csv", "labels.csv", "--id-col", "id"),
        ("labels.csv", "no rows"),
    ),
    Case("stdin-empty", {}, ("-",), ("<stdin>", "empty"), stdin=b""),
    Case(
        "stdin-twice",
        OK_PREDS,
        ("-", "-"),
        ("PREDS and LABELS cannot both be standard input",),
        stdin=b"p_dog,label\n0.5,1\n",
    ),
    # -- columns
    Case(
        "wrong-label-col",
        OK_PREDS,
        ("preds.csv", "--label-col", "truth"),
        ("preds.csv", "no label column 'truth'", "p_cat"),
    ),
    Case(
        "no-label-column",
        {"preds.csv": probs()},
        ("preds.csv",),
        ("preds.csv", "no label column", "--label-col"),
    ),
    Case(
        "wrong-pred-cols-name",
        OK_PREDS,
        ("preds.csv", "--pred-cols", "p_cat,p_cow"),
        ("preds.csv", "--pred-cols", "'p_cow'"),
    ),
    Case(
        "pred-cols-glob-matches-nothing",
        OK_PREDS,
        ("preds.csv", "--pred-cols", "q_*"),
        ("preds.csv", "'q_*' matches no column"),
    ),
    Case(
        "pred-cols-not-numeric",
        {"preds.csv": probs(note=["x"] * 6, label=NAMES)},
        ("preds.csv", "--pred-cols", "p_cat,p_dog,note"),
        ("preds.csv", "column 'note'", "not numeric"),
    ),
    Case(
        "duplicate-column-names",
        {"dup.csv": b"p_cat,p_dog,p_cat,label\n0.7,0.2,0.1,cat\n0.1,0.8,0.1,dog\n"},
        ("dup.csv",),
        ("dup.csv", "column 'p_cat'", "duplicate column"),
    ),
    Case(
        "id-col-missing-from-preds",
        {"preds.csv": probs(), "labels.csv": labels_only(NAMES, id=IDS)},
        ("preds.csv", "labels.csv", "--id-col", "id"),
        ("preds.csv", "no id column 'id'"),
    ),
    Case(
        "id-col-missing-from-labels",
        {"preds.csv": probs(id=IDS), "labels.csv": labels_only(NAMES)},
        ("preds.csv", "labels.csv", "--id-col", "id"),
        ("labels.csv", "no id column 'id'"),
    ),
    # -- prediction values
    Case(
        "nan-prediction",
        {"preds.csv": with_cell(3, "p_dog", "NaN", label=NAMES)},
        ("preds.csv",),
        ("preds.csv row 3, column 'p_dog'", "NaN"),
    ),
    Case(
        "empty-prediction-cell",
        {"preds.csv": with_cell(3, "p_dog", "", label=NAMES)},
        ("preds.csv",),
        ("preds.csv row 3, column 'p_dog'", "empty"),
    ),
    Case(
        "inf-prediction",
        {"preds.csv": with_cell(4, "p_bird", "inf", label=NAMES)},
        ("preds.csv",),
        ("preds.csv row 4, column 'p_bird'", "inf"),
    ),
    Case(
        "nan-prediction-parquet",
        {
            "preds.parquet": with_cell(2, "p_cat", float("nan"), label=NAMES).astype(
                {"p_cat": float}
            )
        },
        ("preds.parquet",),
        ("preds.parquet row 2, column 'p_cat'", "NaN"),
    ),
    Case(
        "nan-prediction-second-batch",
        {"preds.parquet": big_with_nan(70_000, 69_000)},
        ("preds.parquet",),
        ("preds.parquet row 69000, column 'p_dog'", "NaN"),
    ),
    Case(
        "text-in-row-500",
        {"text.csv": big_with_text(1000, 500)},
        ("text.csv",),
        ("text.csv row 500, column 'p_dog'", "'oops'"),
    ),
    Case(
        "text-in-row-500-with-pred-cols",
        {"text.csv": big_with_text(1000, 500)},
        ("text.csv", "--pred-cols", "p_cat,p_dog,p_bird"),
        ("text.csv row 500, column 'p_dog'", "'oops'"),
    ),
    Case(
        "text-in-row-30000",
        {"text.csv": big_with_text(40_000, 30_000)},
        ("text.csv",),
        ("text.csv row 30000, column 'p_dog'", "'oops'"),
    ),
    Case(
        "probability-above-1-binary",
        {"preds.csv": binary([0.9, 0.2, 1.2, 0.4], [1, 0, 1, 0])},
        ("preds.csv", "--input", "probs"),
        ("preds.csv row 2, column 'p_dog'", "1.2", "outside [0, 1]"),
    ),
    Case(
        "probability-below-0-multiclass",
        {"preds.csv": with_cell(1, "p_cat", -0.1, label=NAMES)},
        ("preds.csv", "--input", "probs"),
        ("preds.csv row 1, column 'p_cat'", "-0.1", "outside [0, 1]"),
    ),
    Case(
        "rows-not-summing-to-1-with-input-probs",
        {"preds.csv": with_cell(4, "p_bird", 0.2, label=NAMES)},
        ("preds.csv", "--input", "probs"),
        ("preds.csv row 4", "sums to 0.8", "--renormalize"),
    ),
    Case(
        "ambiguous-probs-or-logits",
        {"preds.csv": with_cell(4, "p_bird", 0.2, label=NAMES)},
        ("preds.csv",),
        ("preds.csv row 4", "--input"),
    ),
    Case(
        "positive-logprobs",
        OK_PREDS,
        ("preds.csv", "--input", "logprobs"),
        ("preds.csv rows 0, 1, 2 and 3 more, column 'p_cat'", "log-probability", "<= 0"),
    ),
    # -- labels
    Case(
        "label-index-out-of-range",
        {"preds.csv": probs(label=[0, 1, 7, 0, 2, 1])},
        ("preds.csv",),
        ("preds.csv row 2, column 'label'", "7", "0..2"),
    ),
    Case(
        "label-out-of-range-second-batch",
        {"preds.parquet": big_with_label(70_000, 68_000, 7)},
        ("preds.parquet",),
        ("preds.parquet row 68000, column 'label'", "7"),
    ),
    Case(
        "label-name-not-a-class",
        {"preds.csv": probs(label=["cat", "dog", "cow", "cat", "bird", "dog"])},
        ("preds.csv",),
        ("preds.csv row 2, column 'label'", "'cow'", "not a class"),
    ),
    Case(
        "label-not-integer",
        {"preds.csv": probs(label=[0, 1, 2.5, 0, 2, 1])},
        ("preds.csv",),
        ("preds.csv row 2, column 'label'", "2.5"),
    ),
    Case(
        "missing-label",
        {"preds.csv": probs(label=["cat", "dog", None, "cat", "bird", "dog"])},
        ("preds.csv",),
        ("preds.csv row 2, column 'label'", "missing label"),
    ),
    Case(
        "missing-label-in-labels-file",
        {"preds.csv": probs(), "labels.csv": labels_only([0, 1, 2, None, 2, 1])},
        ("preds.csv", "labels.csv"),
        ("labels.csv row 3, column 'label'", "missing label"),
    ),
    Case(
        "binary-label-not-0-1",
        {"preds.csv": binary([0.9, 0.2, 0.7, 0.4], [1, 0, 2, 0])},
        ("preds.csv",),
        ("preds.csv row 2, column 'label'", "binary label 2 ", "0/1"),
    ),
    Case(
        "binary-label-not-0-1-parquet",
        {"preds.parquet": binary([0.9, 0.2, 0.7, 0.4], [1, 0, 2, 0])},
        ("preds.parquet",),
        ("preds.parquet row 2, column 'label'", "2", "0/1"),
    ),
    Case(
        "binary-label-maybe",
        {"preds.csv": binary([0.9, 0.2, 0.7, 0.4], ["true", "false", "maybe", "false"])},
        ("preds.csv",),
        ("preds.csv row 2, column 'label'", "'maybe'"),
    ),
    Case(
        "binary-names-without-positive",
        {"preds.csv": binary([0.9, 0.2, 0.7, 0.4], ["cat", "dog", "cat", "dog"], "prediction")},
        ("preds.csv",),
        ("preds.csv, column 'label'", "--positive"),
    ),
    Case(
        "third-name-in-binary",
        {"preds.csv": binary([0.9, 0.2, 0.7, 0.4], ["dog", "cat", "cow", "dog"], "prediction")},
        ("preds.csv", "--positive", "dog"),
        ("preds.csv row 2, column 'label'", "'cow'"),
    ),
    # -- pairing PREDS with LABELS
    Case(
        "length-mismatch-csv",
        {"preds.csv": probs(), "labels.csv": labels_only(NAMES[:5])},
        ("preds.csv", "labels.csv"),
        ("preds.csv has 6 rows but labels.csv has 5",),
    ),
    Case(
        "length-mismatch-parquet",
        {"preds.parquet": probs(), "labels.parquet": labels_only(NAMES[:5])},
        ("preds.parquet", "labels.parquet"),
        ("preds.parquet has 6 rows but labels.parquet has 5",),
    ),
    Case(
        "length-mismatch-more-labels",
        {"preds.parquet": probs(), "labels.csv": labels_only([*NAMES, "cat"])},
        ("preds.parquet", "labels.csv"),
        ("preds.parquet has 6 rows but labels.csv has 7",),
    ),
    Case(
        "duplicate-ids-in-labels",
        {
            "preds.csv": probs(id=IDS),
            "labels.csv": labels_only([*NAMES, "dog"], id=[*IDS, "a3"]),
        },
        ("preds.csv", "labels.csv", "--id-col", "id"),
        ("labels.csv, column 'id'", "more than once", "'a3'"),
    ),
    Case(
        "preds-ids-missing-from-labels",
        {
            "preds.csv": probs(id=IDS),
            "labels.csv": labels_only(NAMES[:4] + ["cat"], id=[*IDS[:4], "z9"]),
        },
        ("preds.csv", "labels.csv", "--id-col", "id"),
        ("column 'id'", "2 ids of preds.csv are not in labels.csv", "'a4'", "'a5'"),
    ),
    Case(
        "missing-id-in-labels",
        {"preds.csv": probs(id=IDS), "labels.csv": labels_only(NAMES, id=["a0", None, *IDS[2:]])},
        ("preds.csv", "labels.csv", "--id-col", "id"),
        ("labels.csv row 1, column 'id'", "missing id"),
    ),
    Case(
        "duplicate-ids-in-preds",
        {
            "preds.csv": probs(id=["a0", "a1", "a1", "a3", "a4", "a5"]),
            "labels.csv": labels_only(NAMES, id=IDS),
        },
        ("preds.csv", "labels.csv", "--id-col", "id"),
        ("column 'id'", "preds.csv repeats ids", "'a1'"),
    ),
    # -- options that make no sense together or with the data
    Case(
        "json-and-format-csv",
        OK_PREDS,
        ("preds.csv", "--json", "--format", "csv"),
        ("--json contradicts --format csv",),
    ),
    Case(
        "max-loss-nan",
        OK_PREDS,
        ("preds.csv", "--max-loss", "nan"),
        ("--max-loss must be a number",),
    ),
    Case(
        "task-multiclass-one-column",
        {"preds.csv": binary([0.9, 0.2, 0.7, 0.4], [1, 0, 1, 0])},
        ("preds.csv", "--task", "multiclass"),
        ("--task multiclass", "p_dog"),
    ),
    Case(
        "task-binary-three-columns",
        OK_PREDS,
        ("preds.csv", "--task", "binary"),
        ("--task binary needs one prediction column", "got 3"),
    ),
    Case(
        "positive-with-multiclass",
        OK_PREDS,
        ("preds.csv", "--positive", "cat"),
        ("--positive is for binary",),
    ),
    # -- outputs (these give their own --output / --per-sample)
    Case(
        "output-unknown-extension",
        OK_PREDS,
        ("preds.csv", "--output", "report.txt"),
        ("--output report.txt", "unknown extension '.txt'", ".json"),
        outputs=False,
    ),
    Case(
        "output-unknown-extension-existing",
        {**OK_PREDS, "report.txt": b"keep me\n"},
        ("preds.csv", "--output", "report.txt"),
        ("--output report.txt", "unknown extension '.txt'"),
        outputs=False,
    ),
    Case(
        "per-sample-unknown-extension",
        OK_PREDS,
        ("preds.csv", "--per-sample", "samples.xlsx"),
        ("--per-sample samples.xlsx", "unknown extension '.xlsx'", ".csv"),
        outputs=False,
    ),
    Case(
        "output-is-preds",
        OK_PREDS,
        ("preds.csv", "--output", "preds.csv"),
        ("--output preds.csv", "is also an input"),
        outputs=False,
    ),
    Case(
        "per-sample-is-labels",
        {"preds.csv": probs(), "labels.csv": labels_only(NAMES)},
        ("preds.csv", "labels.csv", "--per-sample", "labels.csv"),
        ("--per-sample labels.csv", "is also an input"),
        outputs=False,
    ),
    Case(
        "output-and-per-sample-same-path",
        OK_PREDS,
        ("preds.csv", "--output", "out.csv", "--per-sample", "out.csv"),
        ("--per-sample", "--output", "both write out.csv"),
        outputs=False,
    ),
    Case(
        "output-and-per-sample-same-existing-path",
        {**OK_PREDS, "out.csv": b"an old report\n"},
        ("preds.csv", "--output", "out.csv", "--per-sample", "out.csv"),
        ("both write out.csv",),
        outputs=False,
    ),
    Case(
        "output-folder-missing",
        OK_PREDS,
        ("preds.csv", "--output", "nowhere/report.json"),
        ("nowhere/report.json", "does not exist"),
        outputs=False,
    ),
    Case(
        "per-sample-folder-missing",
        OK_PREDS,
        ("preds.csv", "--output", "report.json", "--per-sample", "nowhere/samples.csv"),
        ("nowhere/samples.csv", "does not exist"),
        outputs=False,
    ),
]

# Mistakes in the command line itself: click's usage block, then its ``Error:`` line.
USAGE_CASES = [
    Case("unknown-option", OK_PREDS, ("preds.csv", "--frobnicate"), ("--frobnicate",)),
    Case(
        "log-base-3",
        OK_PREDS,
        ("preds.csv", "--log-base", "3"),
        ("--log-base", "'3' is not one of"),
    ),
    Case(
        "input-bad-choice",
        OK_PREDS,
        ("preds.csv", "--input", "probabilities"),
        ("--input", "'probabilities'"),
    ),
    Case("task-bad-choice", OK_PREDS, ("preds.csv", "--task", "regression"), ("--task",)),
    Case("format-bad-choice", OK_PREDS, ("preds.csv", "--format", "yaml"), ("--format",)),
    Case("eps-0.7", OK_PREDS, ("preds.csv", "--eps", "0.7"), ("--eps", "0.7", "[0, 0.5)")),
    Case("eps-negative", OK_PREDS, ("preds.csv", "--eps", "-1e-9"), ("--eps",)),
    Case("eps-abc", OK_PREDS, ("preds.csv", "--eps", "abc"), ("--eps", "'abc'")),
    Case("sum-tol-2", OK_PREDS, ("preds.csv", "--sum-tol", "2"), ("--sum-tol", "2")),
    Case(
        "min-accuracy-1.5",
        OK_PREDS,
        ("preds.csv", "--min-accuracy", "1.5"),
        ("--min-accuracy", "1.5"),
    ),
    Case("max-loss-abc", OK_PREDS, ("preds.csv", "--max-loss", "abc"), ("--max-loss", "'abc'")),
    Case("missing-preds-argument", {}, (), ("PREDS",)),
    Case(
        "extra-argument",
        OK_PREDS,
        ("preds.csv", "labels.csv", "more.csv"),
        ("unexpected extra argument", "more.csv"),
    ),
]

OUTPUT_ARGS = ("--output", "report.json", "--per-sample", "samples.csv")
EXISTING = {"report.json": b'{"an": "old report"}\n', "samples.csv": b"row,label\n0,old\n"}
MODES = ("bare", "new-outputs", "existing-outputs")


def params(cases: list[Case]) -> list[object]:
    """Each case once as given, and, where it allows, with outputs new and pre-existing."""
    out: list[object] = []
    for case in cases:
        for mode in MODES if case.outputs else MODES[:1]:
            out.append(pytest.param(case, mode, id=f"{case.name}[{mode}]"))
    return out


def test_enough_cases() -> None:
    assert len(CASES) >= 30
    names = [c.name for c in CASES + USAGE_CASES]
    assert len(names) == len(set(names))


# -- running ---------------------------------------------------------------------------


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every file and folder under ``root`` with its bytes (None for a folder)."""
    return {
        p.relative_to(root).as_posix(): None if p.is_dir() else p.read_bytes()
        for p in sorted(root.rglob("*"))
    }


def describe(result: Result) -> str:
    return (
        f"exit {result.exit_code}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
        f"\n--- exception\n{result.exception!r}"
    )


def prepare(case: Case, mode: str, root: Path) -> list[str]:
    write(root, case.files)
    args = list(case.args)
    if mode != "bare":
        args += OUTPUT_ARGS
    if mode == "existing-outputs":
        write(root, EXISTING)
    return args


def invoke(args: list[str], stdin: bytes | None) -> Result:
    runner = CliRunner()
    return runner.invoke(cli, ["score", *args], input=stdin, prog_name="xent")


def assert_untouched(before: dict[str, bytes | None], root: Path) -> None:
    after = snapshot(root)
    leftovers = [name for name in after if name.endswith(".xent-tmp")]
    assert not leftovers, f"temporary files left behind: {leftovers}"
    assert sorted(after) == sorted(before), "files appeared or vanished"
    changed = [name for name in before if after[name] != before[name]]
    assert not changed, f"files changed: {changed}"


@pytest.mark.parametrize(("case", "mode"), params(CASES))
def test_bad_input_is_one_error_line(
    case: Case, mode: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    args = prepare(case, mode, tmp_path)
    before = snapshot(tmp_path)

    result = invoke(args, case.stdin)

    assert result.exit_code == 2, describe(result)
    assert isinstance(result.exception, SystemExit), describe(result)
    assert result.stdout == "", describe(result)
    assert "Traceback" not in result.output, describe(result)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, describe(result)
    line = lines[0]
    assert line.startswith("Error: "), describe(result)
    assert "unexpected failure" not in line, describe(result)
    for text in case.expect:
        assert text in line, f"{text!r} not in the error line\n{describe(result)}"
    assert_untouched(before, tmp_path)


@pytest.mark.parametrize(("case", "mode"), params(USAGE_CASES))
def test_command_line_mistake_is_usage_and_error(
    case: Case, mode: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    args = prepare(case, mode, tmp_path)
    before = snapshot(tmp_path)

    result = invoke(args, case.stdin)

    assert result.exit_code == 2, describe(result)
    assert isinstance(result.exception, SystemExit), describe(result)
    assert result.stdout == "", describe(result)
    assert "Traceback" not in result.output, describe(result)
    lines = result.stderr.splitlines()
    assert lines and lines[0].startswith("Usage: xent score"), describe(result)
    assert "Try 'xent score --help' for help." in lines, describe(result)
    last = lines[-1]
    assert last.startswith("Error: "), describe(result)
    assert sum(line.startswith("Error:") for line in lines) == 1, describe(result)
    for text in case.expect:
        assert text in last, f"{text!r} not in the error line\n{describe(result)}"
    assert_untouched(before, tmp_path)


def test_unknown_command_is_usage_and_error() -> None:
    result = CliRunner().invoke(cli, ["scor", "preds.csv"], prog_name="xent")
    assert result.exit_code == 2, describe(result)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0].startswith("Usage: xent"), describe(result)
    assert lines[-1].startswith("Error: ") and "'scor'" in lines[-1], describe(result)


# -- real processes --------------------------------------------------------------------

CONSOLE_SCRIPT = Path(sys.executable).with_name("xent")
XENT = [sys.executable, "-m", "xentcli"]


def run_xent(command: list[str], cwd: Path, **kwargs: object) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "100"}
    return subprocess.run(  # type: ignore[call-overload, no-any-return]
        command, cwd=cwd, capture_output=True, timeout=120, env=env, **kwargs
    )


def assert_one_error_line(proc: subprocess.CompletedProcess[bytes], *expect: str) -> None:
    stderr = proc.stderr.decode()
    shown = f"exit {proc.returncode}\n--- stdout\n{proc.stdout!r}\n--- stderr\n{stderr}"
    assert proc.returncode == 2, shown
    assert proc.stdout == b"", shown
    assert "Traceback" not in stderr, shown
    lines = stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), shown
    for text in expect:
        assert text in lines[0], f"{text!r} not in the error line\n{shown}"


def test_process_missing_file(tmp_path: Path) -> None:
    proc = run_xent([*XENT, "score", "nope.csv", *OUTPUT_ARGS], tmp_path)
    assert_one_error_line(proc, "nope.csv", "no such file")
    assert snapshot(tmp_path) == {}


def test_console_script_text_in_row_500(tmp_path: Path) -> None:
    write(tmp_path, {"text.csv": big_with_text(1000, 500), **EXISTING})
    before = snapshot(tmp_path)
    script = [str(CONSOLE_SCRIPT)] if CONSOLE_SCRIPT.exists() else XENT
    proc = run_xent(
        [*script, "score", "text.csv", "--pred-cols", "p_cat,p_dog,p_bird", *OUTPUT_ARGS],
        tmp_path,
    )
    assert_one_error_line(proc, "text.csv row 500, column 'p_dog'", "'oops'")
    assert_untouched(before, tmp_path)


def test_process_error_in_second_batch_leaves_no_outputs(tmp_path: Path) -> None:
    write(tmp_path, {"preds.parquet": big_with_label(70_000, 68_000, 7)})
    before = snapshot(tmp_path)
    proc = run_xent([*XENT, "score", "preds.parquet", *OUTPUT_ARGS], tmp_path)
    assert_one_error_line(proc, "preds.parquet row 68000, column 'label'", "7")
    assert_untouched(before, tmp_path)


def test_process_truncated_parquet_keeps_existing_outputs(tmp_path: Path) -> None:
    write(tmp_path, {"truncated.parquet": truncated_parquet, **EXISTING})
    before = snapshot(tmp_path)
    proc = run_xent([*XENT, "score", "truncated.parquet", *OUTPUT_ARGS], tmp_path)
    assert_one_error_line(proc, "truncated.parquet", "Parquet")
    assert_untouched(before, tmp_path)


def test_process_stdin_devnull(tmp_path: Path) -> None:
    proc = run_xent([*XENT, "score", "-", *OUTPUT_ARGS], tmp_path, stdin=subprocess.DEVNULL)
    assert_one_error_line(proc, "<stdin>")
    assert snapshot(tmp_path) == {}


def test_process_stdin_closed(tmp_path: Path) -> None:
    """File descriptor 0 closed altogether: Python starts with ``sys.stdin`` None."""
    proc = run_xent(
        [*XENT, "score", "-", *OUTPUT_ARGS],
        tmp_path,
        stdin=subprocess.DEVNULL,
        preexec_fn=lambda: os.close(0),
    )
    assert_one_error_line(proc, "<stdin>", "closed")
    assert snapshot(tmp_path) == {}


def test_process_usage_mistake(tmp_path: Path) -> None:
    write(tmp_path, OK_PREDS)
    proc = run_xent([*XENT, "score", "preds.csv", "--log-base", "3"], tmp_path)
    stderr = proc.stderr.decode()
    assert proc.returncode == 2, stderr
    assert proc.stdout == b""
    assert "Traceback" not in stderr
    lines = stderr.splitlines()
    assert lines[0].startswith("Usage: "), stderr
    assert lines[-1].startswith("Error: ") and "--log-base" in lines[-1], stderr
