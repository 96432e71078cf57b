"""Fuzzing the command line: random tables, names, values, formats and options.

Whatever the input, ``xent score`` never shows a traceback and exits 0, 1 or 2; an
exit 2 is one ``Error:`` line (or click's usage block) and leaves no output file;
an exit 0 or 1 reports the loss an independent NumPy computation gives for the
decisions the report states. ``pytest --hypothesis-profile=long`` runs thousands.
"""

from __future__ import annotations

import json
import math
import os
import string
from pathlib import Path
from typing import Any

import mpmath
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from xentcli.cli import cli
from xentcli.run.infer import class_names

RESERVED = {"label", "target", "y", "y_true", "row", "id"}
NAME_CHARS = string.ascii_letters + string.digits + " _-,;\"'[]/|*\n\t" + "éß漢🙂"

names = st.text(alphabet=NAME_CHARS, min_size=1, max_size=8).filter(
    lambda n: (
        n.strip() == n
        and n.lower() not in RESERVED
        and not n.startswith("Unnamed")
        and not n.startswith("__index_level_")
    )
)
values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=64),
    st.floats(min_value=-1e300, max_value=1e300, width=64),
    st.floats(min_value=0, max_value=1, width=64),
    st.floats(min_value=-5, max_value=5, width=32),
    st.sampled_from([0.0, 1.0, -0.0, 5e-324, 1e-300, 1 - 2**-53]),
)


@st.composite
def tables(draw: st.DrawFn) -> tuple[pa.Table, str]:
    """A prediction table with a ``label`` column: sometimes clean, sometimes not."""
    k = draw(st.integers(1, 4))
    columns = draw(st.lists(names, min_size=k, max_size=k, unique=True))
    n = draw(st.integers(0, 12))
    kind = draw(st.sampled_from(["logits", "probs", "wild"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if kind == "logits":
        block = rng.normal(0, draw(st.sampled_from([1.0, 30.0, 1e10])), size=(n, k))
    elif kind == "probs":
        block = rng.dirichlet(np.ones(k), size=n) if k > 1 else rng.uniform(size=(n, 1))
    else:
        block = np.array(
            draw(st.lists(values, min_size=n * k, max_size=n * k)), dtype=np.float64
        ).reshape(n, k)
    dtype = draw(st.sampled_from([np.float64, np.float32]))
    label_kind = draw(st.sampled_from(["names", "indices", "garbage"]))
    shown = class_names(columns)
    if k == 1:
        labels: list[object] = [int(v) for v in rng.integers(0, 2, n)]
    elif label_kind == "names":
        labels = [shown[i] for i in rng.integers(0, k, n)]
    elif label_kind == "indices":
        labels = [int(v) for v in rng.integers(0, k, n)]
    else:
        labels = draw(st.lists(st.one_of(names, st.integers(-3, 9)), min_size=n, max_size=n))
        labels = [str(v) for v in labels]
    data = {c: pa.array(block[:, j].astype(dtype)) for j, c in enumerate(columns)}
    data["label"] = (
        pa.array([str(v) for v in labels])
        if any(isinstance(v, str) for v in labels)
        else pa.array(labels, type=pa.int64())
    )
    return pa.table(data), kind


options = st.fixed_dictionaries(
    {},
    optional={
        "--input": st.sampled_from(["auto", "probs", "logits", "logprobs"]),
        "--eps": st.sampled_from(["auto", "0", "1e-7", "0.49", "0.5", "-1", "x"]),
        "--log-base": st.sampled_from(["e", "2", "10", "3"]),
        "--reduction": st.sampled_from(["mean", "sum"]),
        "--sum-tol": st.sampled_from(["1e-3", "0", "0.5", "2"]),
        "--max-loss": st.sampled_from(["0", "0.5", "10", "inf", "nan", "abc"]),
        "--min-accuracy": st.sampled_from(["0", "0.5", "1", "1.5"]),
        "--task": st.sampled_from(["auto", "binary", "multiclass"]),
        "--renormalize": st.just(None),
    },
)


def _write(table: pa.Table, folder: Path, fmt: str) -> Path:
    path = folder / f"preds.{fmt}"
    if fmt == "parquet":
        pq.write_table(table, path)
    else:
        pacsv.write_csv(
            table, path, write_options=pacsv.WriteOptions(delimiter="\t" if fmt == "tsv" else ",")
        )
    return path


def _invoke_within_contract(args: list[str], folder: Path) -> Any:
    """Run the CLI and hold it to the error contract: exit 0, 1 or 2, no traceback; on 2,
    one ``Error:`` line (after click's usage block) and nothing left in ``folder``.
    Returns the result of a run that succeeded, None for one that was refused."""
    before = set(os.listdir(folder))
    result = CliRunner().invoke(cli, args)
    assert isinstance(result.exception, SystemExit) or result.exception is None, repr(
        result.exception
    )
    assert result.exit_code in (0, 1, 2), result.exit_code
    assert "Traceback" not in result.output
    if result.exit_code != 2:
        return result
    lines = result.stderr.splitlines()
    assert lines and lines[-1].startswith("Error: "), result.stderr
    assert "unexpected failure" not in result.stderr, result.stderr
    if not lines[0].startswith("Usage:"):
        assert len(lines) == 1, result.stderr
    assert set(os.listdir(folder)) == before  # no output left behind
    return None


@given(tables(), st.sampled_from(["csv", "tsv", "parquet"]), options, st.booleans(), st.booleans())
def test_cli_never_fails_badly(tmp_path_factory, generated, fmt, chosen, with_output, with_samples):
    table, _kind = generated
    folder = tmp_path_factory.mktemp("fuzz")
    path = _write(table, folder, fmt)
    args = ["score", str(path), "--json"]
    for option, value in chosen.items():
        args += [option] if value is None else [option, value]
    if with_output:
        args += ["--output", str(folder / "report.json")]
    if with_samples:
        args += ["--per-sample", str(folder / "samples.csv")]
    result = _invoke_within_contract(args, folder)
    if result is None:
        return
    report = json.loads(result.stdout)
    assert report["n_samples"] == table.num_rows
    if fmt != "parquet":  # the reference sees the numbers as the text file holds them
        table = _as_read_back(table, path, fmt)
    float32 = fmt == "parquet" and all(
        table.schema.field(c).type == pa.float32() for c in table.column_names if c != "label"
    )
    noise = math.sqrt(np.finfo(np.float32 if float32 else np.float64).eps)
    assert _reference_loss(table, report, noise) == _close_to(report["loss"])
    if with_output:
        assert json.loads((folder / "report.json").read_text()) == report
    if with_samples:
        rows = (folder / "samples.csv").read_text().count("\n")
        assert rows >= table.num_rows + 1  # a header, a row per sample (names may hold \n)


def _as_read_back(table: pa.Table, path: Path, fmt: str) -> pa.Table:
    """Prediction columns as float64 parsed from the file (a float32 written as text is
    read back as the float64 of that text), the label column as generated."""
    columns = [c for c in table.column_names if c != "label"]
    back = pacsv.read_csv(
        path,
        parse_options=pacsv.ParseOptions(delimiter="\t" if fmt == "tsv" else ","),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(columns, pa.float64()), include_columns=columns
        ),
    )
    return pa.table({**{c: back.column(c) for c in columns}, "label": table.column("label")})


def _reference_loss(table: pa.Table, report: dict, noise: float) -> float:
    """The loss by NumPy alone, for the task, input kind and classes the report states;
    rows off 1 by more than ``noise`` are renormalised (SPEC, CHANGELOG)."""
    columns = [c for c in table.column_names if c != "label"]
    block = np.column_stack(
        [np.asarray(table.column(c).to_numpy(), dtype=np.float64) for c in columns]
    )
    raw = table.column("label").to_pylist()
    eps = float(report["eps"])
    if report["task"] == "binary":
        y = np.array([int(str(v)) for v in raw])
        if "holds P(label = 0)" in report["reasons"]["labels"]:  # a column named '0;' is
            y = 1 - y  # class 0's probability, as the report says (issue 10's naming rule)
        z = block[:, 0]
        if report["input"] == "logits":
            losses = np.where(y == 1, np.logaddexp(0, -z), np.logaddexp(0, z))
        elif report["input"] == "logprobs":
            p = np.exp(z)
            losses = np.where(y == 1, -z, -np.log1p(-p))
        else:
            p = np.clip(z, eps, 1 - eps) if eps > 0 else z
            with np.errstate(divide="ignore"):
                losses = np.where(y == 1, -np.log(p), -np.log1p(-p))
    else:
        classes = report["classes"]
        index = {name: i for i, name in enumerate(classes)}
        index.update({c: i for i, c in enumerate(columns)})
        if report["reasons"]["labels"] == "class names":  # SPEC: all names, or all indices
            y = np.array([index[str(v)] for v in raw])
        else:
            y = np.array([int(float(str(v))) for v in raw])
        rows = np.arange(len(y))
        if report["input"] == "logits":  # exactly, with mpmath: no cancellation
            losses = np.array(
                [
                    _exact_logit_loss(row, label)
                    for row, label in zip(block.tolist(), y.tolist(), strict=True)
                ]
            )
        elif report["input"] == "logprobs":
            top = block.max(axis=1, keepdims=True)
            lse = top[:, 0] + np.log(np.exp(block - top).sum(axis=1))
            losses = -(block[rows, y] - np.where(np.abs(lse) > noise, lse, 0.0))
        else:
            sums = block.sum(axis=1)
            scale = np.where(np.abs(sums - 1) > noise, sums, 1.0)
            p = block[rows, y] / scale
            p = np.clip(p, eps, 1 - eps) if eps > 0 else p
            with np.errstate(divide="ignore"):
                losses = -np.log(p)
    base = {"e": 1.0, "2": math.log(2), "10": math.log(10)}[report["log_base"]]
    total = float(np.sum(losses)) / base
    return total if report["reduction"] == "sum" else total / len(losses)


def _exact_logit_loss(row: list[float], label: int) -> float:
    with mpmath.workdps(60):
        value = mpmath.log(
            mpmath.fsum(mpmath.exp(mpmath.mpf(z) - mpmath.mpf(row[label])) for z in row)
        )
        return float(value) if mpmath.isfinite(value) else math.inf


class _close_to:
    """Equal to a reported figure within 1e-9 relative (or both the same non-finite)."""

    def __init__(self, reported: float | str) -> None:
        self.reported = float(reported)

    def __eq__(self, other: object) -> bool:
        value = float(other)  # type: ignore[arg-type]
        if not math.isfinite(self.reported) or not math.isfinite(value):
            return (math.isnan(value) and math.isnan(self.reported)) or value == self.reported
        return math.isclose(value, self.reported, rel_tol=1e-9, abs_tol=1e-12)

    def __repr__(self) -> str:
        return f"close to {self.reported!r}"


family_options = st.fixed_dictionaries(
    {},
    optional={
        "--input": st.sampled_from(["auto", "probs", "logits", "logprobs"]),
        "--compat": st.sampled_from(["xent", "torch", "keras", "sklearn", "tf"]),
        "--label-smoothing": st.sampled_from(["0", "0.1", "0.999", "1", "-0.1", "x"]),
        "--ignore-label": st.one_of(names, st.sampled_from(["-100", "0", "1.0"])),
        "--drop-invalid": st.just(None),
        "--pos-weight": st.sampled_from(["1", "2.5", "0", "-1", "inf", "x"]),
        "--class-weights": st.one_of(
            st.builds(lambda n, w: f"{n}={w}", names, st.sampled_from(["0", "2", "-1", "x"])),
            st.sampled_from(["", "=", "0=1,1=2", "a=1,a=2", "nosuchfile.csv"]),
        ),
        "--task": st.sampled_from(["auto", "binary", "multiclass", "multilabel"]),
        "--reduction": st.sampled_from(["mean", "sum"]),
    },
)


@given(tables(), st.sampled_from(["csv", "parquet"]), family_options, st.booleans())
def test_cli_family_options_never_fail_badly(tmp_path_factory, generated, fmt, chosen, samples):
    """Any mix of the family's options on any table: exit 0, 1 or 2 with one Error line
    and nothing left behind; on success every row is scored, dropped or ignored."""
    table, _kind = generated
    folder = tmp_path_factory.mktemp("fuzz")
    path = _write(table, folder, fmt)
    args = ["score", str(path), "--json", "--output", str(folder / "report.json")]
    for option, value in chosen.items():
        args += [option] if value is None else [option, value]
    if samples:
        args += ["--per-sample", str(folder / "samples.parquet")]
    result = _invoke_within_contract(args, folder)
    if result is None:
        return
    report = json.loads(result.stdout)
    assert report["n_samples"] + report["dropped"] + report["ignored"] == table.num_rows
    assert report["n_samples"] > 0
    assert json.loads((folder / "report.json").read_text()) == report
    if samples:
        assert pq.read_table(folder / "samples.parquet").num_rows == report["n_samples"]
