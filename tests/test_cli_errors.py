"""The corpus of bad inputs: what a new user would try, grouped by kind, each with the
exact error it must produce: exit 2 with one ``Error:`` line that says what is wrong and
where, nothing on standard output, no traceback, and no output file touched.

SPEC "Gates and exit codes": exit 2 is "bad usage or bad input; one line ``Error: ...`` on
standard error, no traceback"; "a run that fails leaves none of its outputs behind and any
file that existed before untouched"; row numbers are 0-based positions among the data rows
of PREDS. Mistakes in the command line itself (an unknown option, a bad choice or option
value) get click's usage block before the ``Error:`` line and are tested apart.

The kinds: ``malformed-file`` (not there, not a table, not readable, not the format its
name says), ``bad-values`` (prediction cells), ``bad-labels``, ``alignment`` (pairing PREDS
with LABELS, ids), ``bad-options`` and ``outputs``. A last group, ``accepted``, holds odd
inputs that must *succeed* with the right number (a BOM, CRLF, Parquet named ``.csv``...),
checked against NumPy. ``pytest -s -k corpus_size`` prints how many cases each group has.

Most cases run in-process through click's ``CliRunner``; a few run ``xent`` as a real
process: standard input closed, FIFOs, and unreadable files (run as an unprivileged user,
since root reads any file whatever its mode).
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
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
BOM = b"\xef\xbb\xbf"
# Random bytes: the first set parses as a ragged CSV; the second's first line (taken as
# the header) is not UTF-8 and has no line end.
JUNK = np.random.default_rng(3).bytes(4096)
JUNK_NOT_UTF8 = np.random.default_rng(0).bytes(64)
LONG_LABEL = "x" * 1_000_000

Content = pd.DataFrame | pa.Table | bytes | Callable[[Path], None]


def probs(rows: list[list[object]] | None = None, **extra: Sequence[object]) -> pd.DataFrame:
    """A multiclass probability frame (``p_cat, p_dog, p_bird``) plus ``extra`` columns."""
    frame = pd.DataFrame(rows if rows is not None else PROBS, columns=COLUMNS)
    for name, values in extra.items():
        frame[name] = values
    return frame


def with_cell(row: int, column: str, value: object, **extra: Sequence[object]) -> pd.DataFrame:
    """``probs`` with one prediction cell replaced (as text, so CSV writes it verbatim)."""
    frame = probs(**extra).astype({column: object})
    frame.loc[row, column] = value
    return frame


def binary(values: Sequence[object], labels: Sequence[object], column: str = "p_1") -> pd.DataFrame:
    return pd.DataFrame({column: values, "label": labels})


def labels_only(values: Sequence[object], **extra: Sequence[object]) -> pd.DataFrame:
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


def csv_bytes(frame: pd.DataFrame, quoting: int = csv.QUOTE_MINIMAL) -> bytes:
    """``frame`` as CSV text with ``\\n`` line ends (what pandas writes on Linux)."""
    return str(frame.to_csv(index=False, lineterminator="\n", quoting=quoting)).encode()


def crlf(data: bytes) -> bytes:
    return data.replace(b"\n", b"\r\n")


def without_header(data: bytes) -> bytes:
    return data.split(b"\n", 1)[1]


def truncated_parquet(path: Path) -> None:
    data = parquet_bytes(big_probs(200))
    path.write_bytes(data[: len(data) // 2])


def make_directory(path: Path) -> None:
    path.mkdir()
    (path / "preds.csv").write_text("p_dog,label\n0.5,1\n")


def empty_directory(path: Path) -> None:
    path.mkdir()


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

KINDS = ("malformed-file", "bad-values", "bad-labels", "alignment", "bad-options", "outputs")


@dataclass(frozen=True)
class Case:
    """A bad run: the files it needs, its arguments after ``score``, and the substrings its
    one ``Error:`` line must hold. ``outputs`` says whether the test may add ``--output``
    and ``--per-sample`` (cases about those options give their own). ``kind`` is its
    group (one of ``KINDS``); ``max_seconds`` bounds how long the run may take."""

    name: str
    files: Mapping[str, Content]
    args: tuple[str, ...]
    expect: tuple[str, ...]
    stdin: bytes | None = None
    outputs: bool = True
    kind: str = ""
    max_seconds: float | None = None


def group(kind: str, cases: list[Case]) -> list[Case]:
    """The cases of one kind."""
    assert kind in KINDS, kind
    return [replace(case, kind=kind) for case in cases]


OK_PREDS = {"preds.csv": probs(label=NAMES)}
OK_CSV = csv_bytes(probs(label=NAMES))

# Files that are not there, not tables, or not the format their name or content says.
MALFORMED_FILE = group(
    "malformed-file",
    [
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
            "duplicate-column-names",
            {"dup.csv": b"p_cat,p_dog,p_cat,label\n0.7,0.2,0.1,cat\n0.1,0.8,0.1,dog\n"},
            ("dup.csv",),
            ("dup.csv", "column 'p_cat'", "duplicate column"),
        ),
        Case(
            "short-csv-row",
            {"short.csv": b"p_dog,label\n0.9,1\n0.2,0\n0.4\n0.3,0\n0.8,1\n"},
            ("short.csv",),
            ("short.csv row 2", "malformed CSV", "expected 2 columns, got 1"),
        ),
        Case(
            "header-only-csv-without-line-end",
            {"header.csv": b"p_cat,p_dog,p_bird,label"},
            ("header.csv",),
            ("header.csv", "no rows"),
        ),
        # No header row: xent reads the first data row as the header, so the label
        # column is missing and the message shows the numbers it took for column names.
        Case(
            "no-header-row",
            {"noheader.csv": without_header(OK_CSV)},
            ("noheader.csv",),
            ("noheader.csv", "no label column", "columns: 0.7, 0.2, 0.1, cat"),
        ),
        Case(
            "no-header-row-in-labels",
            {"preds.csv": probs(), "labels.csv": without_header(csv_bytes(labels_only(NAMES)))},
            ("preds.csv", "labels.csv"),
            ("preds.csv has 6 rows but labels.csv has 5",),
        ),
        Case("binary-junk-csv", {"junk.csv": JUNK}, ("junk.csv",), ("junk.csv", "malformed CSV")),
        Case(
            "binary-junk-no-extension",
            {"randombytes": JUNK},
            ("randombytes",),
            ("randombytes", "malformed CSV"),
        ),
        Case(
            "binary-junk-labels",
            {"preds.csv": probs(), "labels.csv": JUNK},
            ("preds.csv", "labels.csv"),
            ("labels.csv", "malformed CSV"),
        ),
        Case("binary-junk-stdin", {}, ("-",), ("<stdin>", "malformed CSV"), stdin=JUNK),
        Case(
            "binary-junk-not-utf8-csv",
            {"junk.csv": JUNK_NOT_UTF8},
            ("junk.csv",),
            ("junk.csv", "CSV"),
        ),
        Case(
            "binary-junk-not-utf8-no-extension",
            {"randombytes": JUNK_NOT_UTF8},
            ("randombytes",),
            ("randombytes", "CSV"),
        ),
        Case(
            "latin1-header",
            {"latin1.csv": b"p_caf\xe9,p_dog,label\n0.3,0.7,1\n0.6,0.4,0\n"},
            ("latin1.csv",),
            ("latin1.csv", "UTF"),
        ),
    ],
)

# Prediction cells that cannot be scored.
BAD_VALUES = group(
    "bad-values",
    [
        Case(
            "nan-prediction",
            {"preds.csv": with_cell(3, "p_dog", "NaN", label=NAMES)},
            ("preds.csv",),
            ("preds.csv row 3 (line 5), column 'p_dog'", "NaN"),
        ),
        Case(
            "empty-prediction-cell",
            {"preds.csv": with_cell(3, "p_dog", "", label=NAMES)},
            ("preds.csv",),
            ("preds.csv row 3 (line 5), column 'p_dog'", "empty"),
        ),
        Case(
            "inf-prediction",
            {"preds.csv": with_cell(4, "p_bird", "inf", label=NAMES)},
            ("preds.csv",),
            ("preds.csv row 4 (line 6), column 'p_bird'", "inf"),
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
            ("text.csv row 500 (line 502), column 'p_dog'", "'oops'"),
        ),
        Case(
            "text-in-row-500-with-pred-cols",
            {"text.csv": big_with_text(1000, 500)},
            ("text.csv", "--pred-cols", "p_cat,p_dog,p_bird"),
            ("text.csv row 500 (line 502), column 'p_dog'", "'oops'"),
        ),
        Case(
            "text-in-row-30000",
            {"text.csv": big_with_text(40_000, 30_000)},
            ("text.csv",),
            ("text.csv row 30000 (line 30002), column 'p_dog'", "'oops'"),
        ),
        Case(
            "probability-above-1-binary",
            {"preds.csv": binary([0.9, 0.2, 1.2, 0.4], [1, 0, 1, 0])},
            ("preds.csv", "--input", "probs"),
            ("preds.csv row 2 (line 4), column 'p_1'", "1.2", "outside [0, 1]"),
        ),
        Case(
            "probability-below-0-multiclass",
            {"preds.csv": with_cell(1, "p_cat", -0.1, label=NAMES)},
            ("preds.csv", "--input", "probs"),
            ("preds.csv row 1 (line 3), column 'p_cat'", "-0.1", "outside [0, 1]"),
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
            (
                "preds.csv rows 0 (line 2), 1 (line 3), 2 (line 4) and 3 more, column 'p_cat'",
                "log-probability",
                "<= 0",
            ),
        ),
        Case(
            "minus-inf-prediction",
            {"preds.csv": with_cell(2, "p_dog", "-inf", label=NAMES)},
            ("preds.csv",),
            ("preds.csv row 2 (line 4), column 'p_dog'", "-inf"),
        ),
        Case(
            "minus-inf-logit",
            {"preds.csv": with_cell(2, "p_dog", "-inf", label=NAMES)},
            ("preds.csv", "--input", "logits"),
            ("preds.csv row 2 (line 4), column 'p_dog'", "-inf"),
        ),
        Case(
            "minus-inf-prediction-parquet",
            {
                "preds.parquet": with_cell(5, "p_bird", float("-inf"), label=NAMES).astype(
                    {"p_bird": float}
                )
            },
            ("preds.parquet",),
            ("preds.parquet row 5, column 'p_bird'", "-inf"),
        ),
    ],
)

# Labels that are missing, of the wrong type, or not classes.
BAD_LABELS = group(
    "bad-labels",
    [
        Case(
            "no-label-column",
            {"preds.csv": probs()},
            ("preds.csv",),
            ("preds.csv", "no label column", "--label-col"),
        ),
        Case(
            "label-index-out-of-range",
            {"preds.csv": probs(label=[0, 1, 7, 0, 2, 1])},
            ("preds.csv",),
            ("preds.csv row 2 (line 4), column 'label'", "7", "0..2"),
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
            ("preds.csv row 2 (line 4), column 'label'", "'cow'", "not a class"),
        ),
        Case(
            "label-not-integer",
            {"preds.csv": probs(label=[0, 1, 2.5, 0, 2, 1])},
            ("preds.csv",),
            ("preds.csv row 2 (line 4), column 'label'", "2.5"),
        ),
        Case(
            "missing-label",
            {"preds.csv": probs(label=["cat", "dog", None, "cat", "bird", "dog"])},
            ("preds.csv",),
            ("preds.csv row 2 (line 4), column 'label'", "missing label"),
        ),
        Case(
            "missing-label-in-labels-file",
            {"preds.csv": probs(), "labels.csv": labels_only([0, 1, 2, None, 2, 1])},
            ("preds.csv", "labels.csv"),
            ("labels.csv row 3 (line 5), column 'label'", "missing label"),
        ),
        Case(
            "binary-label-not-0-1",
            {"preds.csv": binary([0.9, 0.2, 0.7, 0.4], [1, 0, 2, 0])},
            ("preds.csv",),
            ("preds.csv row 2 (line 4), column 'label'", "binary label '2'", "0/1"),
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
            ("preds.csv row 2 (line 4), column 'label'", "'maybe'"),
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
            ("preds.csv row 2 (line 4), column 'label'", "'cow'"),
        ),
        Case(
            "float-label-multiclass",
            {"preds.csv": probs(label=[0, 1.5, 2, 0, 2, 1])},
            ("preds.csv",),
            ("preds.csv row 1 (line 3), column 'label'", "'1.5'", "0..2"),
        ),
        Case(
            "float-labels-in-labels-file",
            {"preds.csv": probs(), "labels.csv": labels_only([0.5, 1.5, 2.5, 0.5, 1.5, 2.5])},
            ("preds.csv", "labels.csv"),
            ("labels.csv row 0 (line 2), column 'label'", "0.5"),
        ),
        Case(
            "float-label-parquet",
            {"preds.parquet": probs(label=[0.0, 1.5, 2.0, 0.0, 2.0, 1.0])},
            ("preds.parquet",),
            ("preds.parquet row 1, column 'label'", "1.5"),
        ),
        Case(
            "float-label-binary",
            {"preds.csv": binary([0.9, 0.2, 0.7, 0.4], [1.0, 0.0, 1.5, 0.0])},
            ("preds.csv",),
            ("preds.csv row 2 (line 4), column 'label'", "1.5", "0/1"),
        ),
        Case(
            "mixed-names-and-numbers",
            {"preds.csv": probs(label=["cat", "dog", "bird", "7", "cat", "dog"])},
            ("preds.csv",),
            ("preds.csv row 3 (line 5), column 'label'", "'7'", "not a class"),
        ),
        Case(
            "mixed-names-and-fractions",
            {"preds.csv": probs(label=["cat", "0.5", "bird", "cat", "bird", "dog"])},
            ("preds.csv",),
            ("preds.csv row 1 (line 3), column 'label'", "'0.5'", "not a class"),
        ),
        Case(
            "empty-label-column",
            {"preds.csv": probs(label=[None] * 6)},
            ("preds.csv",),
            (
                "preds.csv rows 0 (line 2), 1 (line 3), 2 (line 4) and 3 more, column 'label'",
                "missing label",
            ),
        ),
        Case(
            "empty-label-column-parquet",
            {
                "preds.parquet": pa.Table.from_pandas(probs(), preserve_index=False).append_column(
                    "label", pa.nulls(6)
                )
            },
            ("preds.parquet",),
            ("preds.parquet rows 0, 1, 2 and 3 more, column 'label'", "missing label"),
        ),
        Case(
            "empty-label-column-in-labels-file",
            {"preds.csv": probs(id=IDS), "labels.csv": labels_only([None] * 6, id=IDS)},
            ("preds.csv", "labels.csv", "--id-col", "id"),
            (
                "labels.csv rows 0 (line 2), 1 (line 3), 2 (line 4) and 3 more, column 'label'",
                "missing label",
            ),
        ),
        # A one-column file of empty cells is a header and blank lines, which CSV readers
        # (pandas too) skip: LABELS has no rows.
        Case(
            "empty-sole-label-column",
            {"preds.csv": probs(), "labels.csv": b"label\n\n\n\n\n\n\n"},
            ("preds.csv", "labels.csv"),
            ("preds.csv has 6 rows but labels.csv has 0",),
        ),
        Case(
            "label-of-1mb",
            {"preds.csv": probs(label=["cat", "dog", LONG_LABEL, "cat", "bird", "dog"])},
            ("preds.csv",),
            ("preds.csv row 2 (line 4), column 'label'", "not a class"),
            max_seconds=10,
        ),
        Case(
            "latin1-label",
            {"latin1.csv": b"p_cat,p_dog,label\n0.3,0.7,dog\n0.6,0.4,cat\n0.6,0.4,caf\xe9\n"},
            ("latin1.csv",),
            ("latin1.csv row 2 (line 4), column 'label'", "UTF"),
        ),
    ],
)

# Pairing PREDS with LABELS: lengths, id columns, keys.
ALIGNMENT = group(
    "alignment",
    [
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
            {
                "preds.csv": probs(id=IDS),
                "labels.csv": labels_only(NAMES, id=["a0", None, *IDS[2:]]),
            },
            ("preds.csv", "labels.csv", "--id-col", "id"),
            ("labels.csv row 1 (line 3), column 'id'", "missing id"),
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
        Case(
            "empty-id-in-preds",
            {
                "preds.csv": probs(id=["a0", "", "a2", "a3", "a4", "a5"]),
                "labels.csv": labels_only(NAMES, id=IDS),
            },
            ("preds.csv", "labels.csv", "--id-col", "id"),
            ("preds.csv row 1 (line 3), column 'id'", "missing id"),
        ),
        Case(
            "every-id-empty-in-labels",
            {"preds.csv": probs(id=IDS), "labels.csv": labels_only(NAMES, id=[""] * 6)},
            ("preds.csv", "labels.csv", "--id-col", "id"),
            (
                "labels.csv rows 0 (line 2), 1 (line 3), 2 (line 4) and 3 more, column 'id'",
                "missing id",
            ),
        ),
    ],
)

# Options that name what is not there, contradict each other or the data. (Weights are
# not implemented yet: no --weight-col cases.)
BAD_OPTIONS = group(
    "bad-options",
    [
        Case(
            "stdin-twice",
            OK_PREDS,
            ("-", "-"),
            ("PREDS and LABELS cannot both be standard input",),
            stdin=b"p_dog,label\n0.5,1\n",
        ),
        Case(
            "wrong-label-col",
            OK_PREDS,
            ("preds.csv", "--label-col", "truth"),
            ("preds.csv", "no label column 'truth'", "p_cat"),
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
            ("--task multiclass", "p_1"),
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
    ],
)

# Outputs: these give their own --output / --per-sample.
OUTPUTS = group(
    "outputs",
    [
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
        Case(
            "per-sample-is-a-directory",
            {**OK_PREDS, "out.csv": empty_directory},
            ("preds.csv", "--output", "report.json", "--per-sample", "out.csv"),
            ("out.csv", "is a directory"),
            outputs=False,
        ),
    ],
)

CASES = [*MALFORMED_FILE, *BAD_VALUES, *BAD_LABELS, *ALIGNMENT, *BAD_OPTIONS, *OUTPUTS]

# Mistakes in the command line itself: click's usage block, then its ``Error:`` line.
USAGE_CASES = [
    *group(
        "bad-options",
        [
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
            Case(
                "max-loss-abc",
                OK_PREDS,
                ("preds.csv", "--max-loss", "abc"),
                ("--max-loss", "'abc'"),
            ),
            Case("missing-preds-argument", {}, (), ("PREDS",)),
            Case(
                "extra-argument",
                OK_PREDS,
                ("preds.csv", "labels.csv", "more.csv"),
                ("unexpected extra argument", "more.csv"),
            ),
        ],
    ),
    *group(
        "outputs",
        [
            Case(
                "output-is-a-directory",
                {**OK_PREDS, "out.json": empty_directory},
                ("preds.csv", "--output", "out.json"),
                ("--output", "'out.json' is a directory"),
                outputs=False,
            ),
        ],
    ),
]

# Run as real processes below: an unreadable input (the file named here is made mode
# 000 and xent run as an unprivileged user) and a FIFO delivering garbage (``stdin`` is
# what the FIFO ``pipe`` delivers).
UNREADABLE_CASES = group(
    "malformed-file",
    [
        Case(
            "unreadable-preds",
            {"preds.csv": probs(label=NAMES)},
            ("preds.csv",),
            ("preds.csv", "Permission denied"),
        ),
        Case(
            "unreadable-labels",
            {"preds.csv": probs(), "labels.csv": labels_only(NAMES)},
            ("preds.csv", "labels.csv"),
            ("labels.csv", "Permission denied"),
        ),
    ],
)
LOCKED = {"unreadable-preds": "preds.csv", "unreadable-labels": "labels.csv"}
FIFO_CASES = group(
    "malformed-file",
    [Case("fifo-garbage", {}, ("pipe",), ("pipe", "malformed CSV"), stdin=JUNK)],
)


# -- accepted: odd inputs that must succeed with the right number ------------------------


@dataclass(frozen=True)
class Accepted:
    """An odd but valid run: its files, its arguments after ``score``, and the scores
    and class indices from which NumPy computes the loss it must report."""

    name: str
    files: Mapping[str, Content]
    args: tuple[str, ...]
    scores: list[list[float]] | list[float]
    labels: list[int]


def expected_loss(scores: list[list[float]] | list[float], labels: list[int]) -> float:
    """Mean cross-entropy by NumPy: ``-log p[y]``, or binary ``-(y log p + (1-y) log(1-p))``."""
    p = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels)
    if p.ndim == 1:
        return float(np.mean(-(y * np.log(p) + (1 - y) * np.log1p(-p))))
    return float(np.mean(-np.log(p[np.arange(y.size), y])))


ACCEPTED = [
    Accepted("utf8-bom", {"preds.csv": BOM + OK_CSV}, ("preds.csv",), PROBS, INDICES),
    Accepted("crlf-line-ends", {"preds.csv": crlf(OK_CSV)}, ("preds.csv",), PROBS, INDICES),
    Accepted("bom-and-crlf", {"preds.csv": BOM + crlf(OK_CSV)}, ("preds.csv",), PROBS, INDICES),
    Accepted(
        "bom-in-labels-file",
        {"preds.csv": probs(), "labels.csv": BOM + csv_bytes(labels_only(NAMES))},
        ("preds.csv", "labels.csv"),
        PROBS,
        INDICES,
    ),
    Accepted(
        "crlf-labels-joined-on-id",
        {
            "preds.csv": probs(id=IDS),
            "labels.csv": crlf(csv_bytes(labels_only(NAMES, id=IDS).iloc[::-1])),
        },
        ("preds.csv", "labels.csv", "--id-col", "id"),
        PROBS,
        INDICES,
    ),
    Accepted(
        "parquet-named-csv",
        {"preds.csv": parquet_bytes(probs(label=NAMES))},
        ("preds.csv",),
        PROBS,
        INDICES,
    ),
    Accepted(
        "parquet-without-extension",
        {"preds": parquet_bytes(probs(label=NAMES))},
        ("preds",),
        PROBS,
        INDICES,
    ),
    Accepted(
        "single-class-names",
        {"preds.csv": probs(label=["cat"] * 6)},
        ("preds.csv",),
        PROBS,
        [0] * 6,
    ),
    Accepted(
        "single-class-index",
        {"preds.csv": probs(label=[2] * 6)},
        ("preds.csv",),
        PROBS,
        [2] * 6,
    ),
    Accepted(
        "single-class-binary",
        {"preds.csv": binary([0.9, 0.2, 0.7, 0.4], [1, 1, 1, 1])},
        ("preds.csv",),
        [0.9, 0.2, 0.7, 0.4],
        [1, 1, 1, 1],
    ),
    Accepted(
        "trailing-blank-lines",
        {"preds.csv": OK_CSV + b"\n\n\n"},
        ("preds.csv",),
        PROBS,
        INDICES,
    ),
    Accepted(
        "trailing-blank-lines-crlf",
        {"preds.csv": crlf(OK_CSV) + b"\r\n\r\n"},
        ("preds.csv",),
        PROBS,
        INDICES,
    ),
    Accepted(
        "no-line-end-after-last-row",
        {"preds.csv": OK_CSV.rstrip(b"\n")},
        ("preds.csv",),
        PROBS,
        INDICES,
    ),
    Accepted(
        "quoted-header",
        {"preds.csv": b'"p_cat","p_dog","p_bird","label"\n' + without_header(OK_CSV)},
        ("preds.csv",),
        PROBS,
        INDICES,
    ),
    Accepted(
        "every-field-quoted",
        {"preds.csv": csv_bytes(probs(label=NAMES), quoting=csv.QUOTE_ALL)},
        ("preds.csv",),
        PROBS,
        INDICES,
    ),
]

# The FIFO runs of ``test_fifo_delivering_csv``: how many rows of ``big_probs`` (0: the
# small ``OK_CSV``). The 12 MB one comes 64 KiB at a time, as from a slow producer, so
# xent scores it in other pieces than the file; the loss must not change.
FIFO_ACCEPTED = {"fifo-valid-csv": 0, "fifo-valid-csv-slow-producer": 200_000}


# -- the corpus ------------------------------------------------------------------------


def corpus() -> dict[str, list[str]]:
    """Every case's name by group."""
    groups: dict[str, list[str]] = {kind: [] for kind in (*KINDS, "accepted")}
    for case in [*CASES, *USAGE_CASES, *UNREADABLE_CASES, *FIFO_CASES]:
        groups[case.kind].append(case.name)
    groups["accepted"] += [a.name for a in ACCEPTED] + list(FIFO_ACCEPTED)
    return groups


COUNTS = {kind: len(names) for kind, names in corpus().items()}  # cases per group


def test_enough_cases() -> None:
    assert len(CASES) >= 30
    names = [c.name for c in CASES + USAGE_CASES]
    assert len(names) == len(set(names))


def test_corpus_size() -> None:
    """At least 80 cases, every kind represented, every name once; ``-s`` shows the counts."""
    groups = corpus()
    names = [name for members in groups.values() for name in members]
    assert len(names) == len(set(names)), "a case name is used twice"
    assert all(groups.values()), f"empty groups: {[k for k, v in groups.items() if not v]}"
    assert all(case.kind in KINDS for case in CASES + USAGE_CASES)
    assert {kind: len(members) for kind, members in groups.items()} == COUNTS
    print()
    for kind, count in COUNTS.items():
        print(f"{kind:>15}: {count}")
    print(f"{'total':>15}: {sum(COUNTS.values())}")
    assert sum(COUNTS.values()) >= 80


OUTPUT_ARGS = ("--output", "report.json", "--per-sample", "samples.csv")
EXISTING = {"report.json": b'{"an": "old report"}\n', "samples.csv": b"row,label\n0,old\n"}
MODES = ("bare", "new-outputs", "existing-outputs")


def params(cases: list[Case]) -> list[object]:
    """Each case once as given, and, where it allows, with outputs new and pre-existing."""
    out: list[object] = []
    for case in cases:
        for mode in MODES if case.outputs else MODES[:1]:
            out.append(pytest.param(case, mode, id=f"{case.kind}:{case.name}[{mode}]"))
    return out


# -- running ---------------------------------------------------------------------------


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every file and folder under ``root`` with its bytes (None for a folder or FIFO)."""
    return {
        p.relative_to(root).as_posix(): None if p.is_dir() or p.is_fifo() else p.read_bytes()
        for p in sorted(root.rglob("*"))
    }


def describe(result: Result) -> str:
    stderr = result.stderr if len(result.stderr) < 2000 else result.stderr[:2000] + "..."
    return (
        f"exit {result.exit_code}\n--- stdout\n{result.stdout}\n--- stderr\n{stderr}"
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

    start = time.monotonic()
    result = invoke(args, case.stdin)
    seconds = time.monotonic() - start

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
    if case.max_seconds is not None:
        assert seconds < case.max_seconds, f"took {seconds:.1f} s"


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


@pytest.mark.parametrize("case", ACCEPTED, ids=lambda a: f"accepted:{a.name}")
def test_odd_input_is_accepted(
    case: Accepted, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, case.files)

    result = invoke([*case.args, "--json"], None)

    assert result.exit_code == 0, describe(result)
    assert "Error" not in result.stderr, describe(result)
    report = json.loads(result.stdout)
    assert report["n_samples"] == len(case.labels), describe(result)
    assert report["loss"] == pytest.approx(expected_loss(case.scores, case.labels), rel=1e-12)


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
    assert_one_error_line(proc, "text.csv row 500 (line 502), column 'p_dog'", "'oops'")
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


# -- unreadable files: as an unprivileged user -----------------------------------------


def unprivileged(command: list[str]) -> list[str]:
    """``command`` run as ``nobody`` when we are root (root reads a file of mode 000)."""
    if os.geteuid() != 0:
        return command
    if shutil.which("setpriv"):
        return ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *command]
    return ["su", "nobody", "-s", "/bin/sh", "-c", shlex.join(command)]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", UNREADABLE_CASES, ids=lambda c: f"{c.kind}:{c.name}")
def test_unreadable_input(case: Case, mode: str) -> None:
    # Not tmp_path: pytest makes its folders 0700, which nobody cannot enter.
    root = Path(tempfile.mkdtemp(prefix="xent-unreadable-"))
    try:
        root.chmod(0o755 if mode == "bare" else 0o777)  # outputs: nobody may write them
        args = prepare(case, mode, root)
        for name in EXISTING if mode == "existing-outputs" else ():
            (root / name).chmod(0o666)
        (root / LOCKED[case.name]).chmod(0)
        before = snapshot(root)

        proc = run_xent(unprivileged([*XENT, "score", *args]), root)

        assert_one_error_line(proc, *case.expect)
        assert_untouched(before, root)
    finally:
        shutil.rmtree(root)


# -- FIFOs: one pass, recognised by content --------------------------------------------


def feed(fifo: Path, data: bytes, piece: int | None = None) -> threading.Thread:
    """Write ``data`` into ``fifo`` from a thread (opening blocks until a reader comes);
    with ``piece``, as a slow producer does: that many bytes at a time, 5 ms apart."""

    def run() -> None:
        with contextlib.suppress(BrokenPipeError), open(fifo, "wb") as handle:
            step = piece or len(data) or 1
            for start in range(0, len(data), step):
                handle.write(data[start : start + step])
                if piece:
                    handle.flush()
                    time.sleep(0.005)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def release(fifo: Path, thread: threading.Thread) -> None:
    """Let the writer go if xent never opened the FIFO (it then fails on a closed pipe)."""
    if thread.is_alive():
        os.close(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK))
    thread.join(10)
    assert not thread.is_alive(), "the FIFO writer is stuck"


@pytest.mark.parametrize(
    ("name", "rows"), [pytest.param(n, r, id=f"accepted:{n}") for n, r in FIFO_ACCEPTED.items()]
)
def test_fifo_delivering_csv(name: str, rows: int, tmp_path: Path) -> None:
    """A FIFO of valid CSV scores like the file it came from, to the last digit."""
    frame = big_probs(rows) if rows else probs(label=NAMES)
    data = csv_bytes(frame)
    (tmp_path / "preds.csv").write_bytes(data)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    writer = feed(fifo, data, piece=1 << 16 if rows else None)
    try:
        proc = run_xent([*XENT, "score", "pipe", "--json"], tmp_path)
    finally:
        release(fifo, writer)
    from_file = run_xent([*XENT, "score", "preds.csv", "--json"], tmp_path)

    shown = f"exit {proc.returncode}\n--- stderr\n{proc.stderr.decode()}"
    assert proc.returncode == 0, shown
    assert b"Error" not in proc.stderr, shown
    assert from_file.returncode == 0, from_file.stderr.decode()
    report, file_report = json.loads(proc.stdout), json.loads(from_file.stdout)
    assert report["n_samples"] == len(frame)
    if rows:
        scores, labels = frame[COLUMNS].to_numpy().tolist(), frame["label"].tolist()
    else:
        scores, labels = PROBS, INDICES
    assert report["loss"] == pytest.approx(expected_loss(scores, labels), rel=1e-12)
    assert report["loss"] == file_report["loss"], (
        f"the FIFO gives {report['loss']!r}, the file {file_report['loss']!r}"
    )


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", FIFO_CASES, ids=lambda c: f"{c.kind}:{c.name}")
def test_fifo_delivering_garbage(case: Case, mode: str, tmp_path: Path) -> None:
    args = prepare(case, mode, tmp_path)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    before = snapshot(tmp_path)
    assert case.stdin is not None
    writer = feed(fifo, case.stdin)
    try:
        proc = run_xent([*XENT, "score", *args], tmp_path)
    finally:
        release(fifo, writer)
    assert_one_error_line(proc, *case.expect)
    assert_untouched(before, tmp_path)
