"""The corpus: files that real writers produce, scored or refused, never misread.

Issue 10 ("Say what it is, or stop") and SPEC "Inputs". Each test writes a known problem
(tests/writers.py) with pandas, pyarrow, polars, DuckDB, fastparquet or NumPy, with one of
the traps the issue found, and runs ``xent score`` on it. The only acceptable outcomes are
the ones SPEC fixes: scikit-learn's ``log_loss`` of the true problem to 1e-12 relative
(with its row count and classes), or exit 2 with exactly one ``Error: `` line on standard
error that names what settles it. Another number with exit 0 is the failure this file
exists to catch. The tests are grouped by the issue's twelve classes (``test_cNN_...``)
and then by writer; each trap sits in the first rows and, in the ``late`` variants, at row
25,000 of 30,000 (past the 10,000-row first batch), and a few run through the Python API
with ``batch_rows=64``.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner, Result
from sklearn.metrics import log_loss
from sklearn.preprocessing import LabelEncoder
from writers import (
    CLASSES,
    WRITERS,
    Problem,
    binary_loss,
    duckdb_hive,
    duckdb_parquet,
    excel_csv,
    fastparquet_parquet,
    make_problem,
    numpy_save,
    numpy_savetxt,
    numpy_savez,
    pandas_csv,
    pandas_parquet,
    pandas_tsv,
    polars_ipc,
    pyarrow_feather,
    pyarrow_hive,
    pyarrow_parquet,
    pyarrow_parts,
    write,
)

import xentcli
from xentcli.cli import cli
from xentcli.errors import XentError

REL = 1e-12
SMALL = 300  # "first": the trap in row TRAP_FIRST of a short file
LARGE = 30_000  # "late": the trap in row TRAP_LATE, past the first batch of 10,000 rows
TRAP_FIRST = 1
TRAP_LATE = 25_000
WHERE = {"first": (SMALL, TRAP_FIRST), "late": (LARGE, TRAP_LATE)}


# -- running xent and judging the outcome ------------------------------------------------


def xent(*args: Any, json_report: bool = True) -> Result:
    """``xent score ARGS --json`` in-process; standard output and error kept apart."""
    argv = ["score", *(str(a) for a in args)]
    if json_report:
        argv.append("--json")
    return CliRunner().invoke(cli, argv, prog_name="xent", catch_exceptions=False)


def _close(value: Any, truth: float) -> bool:
    return isinstance(value, int | float) and abs(value - truth) <= REL * abs(truth)


def _error_lines(result: Result) -> list[str]:
    return [line for line in result.stderr.splitlines() if not line.startswith("Warning:")]


def describe(result: Result) -> str:
    """What xent did, in one line, for a failure message (and the lead's checklist)."""
    if result.exit_code == 0:
        try:
            data = json.loads(result.stdout)
        except ValueError:
            return f"exit 0, stdout {result.stdout[:200]!r}"
        return (
            f"exit 0 with loss {data.get('loss')!r}, n_samples {data.get('n_samples')}, "
            f"classes {data.get('classes')}, task {data.get('task')}, input {data.get('input')}"
        )
    text = result.stderr.strip()
    if "No such option" in text:
        option = text.splitlines()[-1]
        return f"exit {result.exit_code}: the option does not exist ({option})"
    return f"exit {result.exit_code}: {text[:400]!r}"


def assert_number(
    result: Result, truth: float, n: int, classes: Sequence[str] | None = None
) -> dict[str, Any]:
    """Exit 0 with the true loss over ``n`` rows (and ``classes``, when given)."""
    if result.exit_code != 0:
        pytest.fail(f"expected exit 0 with loss {truth!r} over {n} rows; got {describe(result)}")
    data = json.loads(result.stdout)
    wrong = []
    if not _close(data["loss"], truth):
        wrong.append(f"loss {data['loss']!r} (truth {truth!r})")
    if data["n_samples"] != n:
        wrong.append(f"n_samples {data['n_samples']} (truth {n})")
    if classes is not None and data["classes"] != list(classes):
        wrong.append(f"classes {data['classes']} (truth {list(classes)})")
    if wrong:
        pytest.fail("WRONG NUMBER with exit 0: " + "; ".join(wrong))
    return data


def assert_refusal(result: Result, *needles: str, truth: float | None = None) -> str:
    """Exit 2 with one ``Error: `` line (``Warning:`` lines aside) naming every needle;
    ``a|b`` accepts either. Returns the line."""
    if result.exit_code == 0:
        known = f"; the true loss is {truth!r}" if truth is not None else ""
        pytest.fail(f"WRONG NUMBER with exit 0 ({describe(result)}): must refuse{known}")
    errors = _error_lines(result)
    if result.exit_code != 2 or len(errors) != 1 or not errors[0].startswith("Error: "):
        pytest.fail(f"expected exit 2 and one 'Error: ' line; got {describe(result)}")
    line = errors[0]
    if "This is a bug" in line or "unexpected failure" in line:
        pytest.fail(f"crash instead of a refusal: {line}")
    missing = [n for n in needles if not any(alt in line for alt in n.split("|"))]
    if missing:
        pytest.fail(f"the Error line does not name {missing}: {line}")
    return line


def assert_number_or_refusal(result: Result, truth: float, n: int, *needles: str) -> None:
    """The true number, or a clean refusal; never another number."""
    if result.exit_code == 0:
        assert_number(result, truth, n)
    else:
        assert_refusal(result, *needles)


def api_number(truth: float, n: int, preds: Any, labels: Any = None, **options: Any) -> Any:
    """``xentcli.score`` gives the true loss over ``n`` rows."""
    try:
        summary = xentcli.score(preds, labels, **options)
    except XentError as exc:
        pytest.fail(f"expected loss {truth!r}; xentcli.score raised {type(exc).__name__}: {exc}")
    if not _close(summary.loss, truth) or summary.n_samples != n:
        pytest.fail(
            f"WRONG NUMBER from xentcli.score: loss {summary.loss!r} over {summary.n_samples} "
            f"rows (truth {truth!r} over {n})"
        )
    return summary


def api_refusal(needles: Sequence[str], preds: Any, labels: Any = None, **options: Any) -> str:
    """``xentcli.score`` raises an ``XentError`` whose one line names every needle."""
    try:
        summary = xentcli.score(preds, labels, **options)
    except XentError as exc:
        text = str(exc)
        assert "\n" not in text, text
        missing = [n for n in needles if not any(alt in text for alt in n.split("|"))]
        assert not missing, f"the error does not name {missing}: {text}"
        return text
    pytest.fail(
        f"WRONG NUMBER from xentcli.score: loss {summary.loss!r} over {summary.n_samples} rows "
        f"(must refuse naming {list(needles)})"
    )


def row_needle(row: int) -> str:
    """An error names the 0-based data row ``row`` (``row 25000`` or ``rows 25000, ...``)."""
    return f"row {row}|rows {row}"


# -- files ---------------------------------------------------------------------------


def problem(n: int, seed: int = 0, **kwargs: Any) -> Problem:
    return make_problem(n, seed=seed, **kwargs)


def labels_frame_of(p: Problem, as_names: bool = True) -> pd.DataFrame:
    return p.labels_frame(as_names=as_names)


def pair(
    tmp: Path,
    writer: str,
    preds: pd.DataFrame,
    labels: pd.DataFrame,
    **options: Any,
) -> tuple[Path, Path]:
    """PREDS and LABELS written by the same writer."""
    return (
        write(preds, tmp, "preds", writer, **options),
        write(labels, tmp, "labels", writer, **options),
    )


# == 1. An extra numeric column becomes a class ==========================================


def _decoy(name: str, n: int, trap: int) -> np.ndarray:
    """Integer columns users keep beside the predictions. ``fold``, ``epoch`` and
    ``n_tokens`` are 0 up to the trap row (a zero column keeps rows summing to 1, so a
    fourth "class" fits the first rows), then not."""
    rows = np.arange(n)
    if name == "id":
        return rows.astype(np.int64)
    if name == "sample_id":
        return np.random.default_rng(5).choice(10**7, size=n, replace=False).astype(np.int64)
    if name == "fold":
        return np.where(rows < trap, 0, rows % 5).astype(np.int64)
    if name == "epoch":
        return np.where(rows < trap, 0, 7).astype(np.int64)
    if name == "n_tokens":
        return np.where(rows < trap, 0, 12).astype(np.int64)
    raise ValueError(name)


@pytest.mark.parametrize("where", ["first", "late"])
@pytest.mark.parametrize("labels", ["names", "indices"])
@pytest.mark.parametrize("decoy", ["id", "sample_id", "fold", "epoch", "n_tokens"])
@pytest.mark.parametrize("writer", ["pandas_csv", "pandas_parquet", "polars_parquet"])
def test_c01_integer_decoy_column_is_left_out(
    tmp_path: Path, writer: str, decoy: str, labels: str, where: str
) -> None:
    """With names as labels a decoy class only makes names fail to match; with indices
    it shifts nothing visible and is scored as one more logit."""
    n, trap = WHERE[where]
    p = problem(n)
    preds = p.preds_frame()
    preds.insert(0, decoy, _decoy(decoy, n, trap))
    paths = pair(tmp_path, writer, preds, labels_frame_of(p, as_names=labels == "names"))
    assert_number(xent(*paths), p.loss(), n, CLASSES)


INDEX_LAYOUTS = {
    # name: (writer, its options, index name); in a CSV only an unnamed index ("") is
    # known to be pandas' (a named one is a plain column: see the --id-col test)
    "csv_unnamed_index": ("pandas_csv", {"index": True}, None),
    "csv_named_index": ("pandas_csv", {"index": True}, "sample"),
    "parquet_named_index": ("pandas_parquet", {"index": True}, "sample"),
    "parquet_unnamed_index": ("pandas_parquet", {"index": True}, None),
    "fastparquet_index": ("fastparquet", {"index": True}, None),
}


def _indexed(frame: pd.DataFrame, name: str | None, seed: int = 3) -> pd.DataFrame:
    """``frame`` with an integer index of distinct ids (not a RangeIndex, so every writer
    stores it as a column)."""
    ids = np.random.default_rng(seed).choice(10**6, size=len(frame), replace=False)
    out = frame.copy()
    out.index = pd.Index(ids, name=name)
    return out


@pytest.mark.parametrize("where", ["first", "late"])
@pytest.mark.parametrize("layout", sorted(INDEX_LAYOUTS))
def test_c01_pandas_index_of_preds_is_left_out(tmp_path: Path, layout: str, where: str) -> None:
    """PREDS written with its index, LABELS without: the index is not a class, rows pair
    by position."""
    n, _ = WHERE[where]
    p = problem(n)
    writer, options, name = INDEX_LAYOUTS[layout]
    preds = write(_indexed(p.preds_frame(), name), tmp_path, "preds", writer, **options)
    labels = write(labels_frame_of(p), tmp_path, "labels", "pandas_csv")
    assert_number(xent(preds, labels), p.loss(), n, CLASSES)


@pytest.mark.parametrize("as_names", [False, True], ids=["indices", "names"])
@pytest.mark.parametrize("writer", ["pandas_csv", "pandas_parquet", "polars_parquet"])
def test_c01_label_column_in_preds_is_not_a_class(
    tmp_path: Path, writer: str, as_names: bool
) -> None:
    """PREDS keeps its ``label`` column and LABELS is given too: the column must agree
    with LABELS and is not a prediction (integer labels would be a fourth logit)."""
    p = problem(SMALL)
    preds = pd.concat([p.preds_frame(), labels_frame_of(p, as_names)], axis=1)
    paths = pair(tmp_path, writer, preds, labels_frame_of(p, as_names))
    assert_number(xent(*paths), p.loss(), SMALL, CLASSES)


@pytest.mark.parametrize("where", ["first", "late"])
@pytest.mark.parametrize("writer", ["pandas_csv", "pandas_parquet"])
def test_c01_label_column_in_preds_that_disagrees_is_refused(
    tmp_path: Path, writer: str, where: str
) -> None:
    n, trap = WHERE[where]
    p = problem(n)
    inner = p.labels.copy()
    inner[trap] = (inner[trap] + 1) % p.k
    preds = p.preds_frame()
    preds["label"] = inner
    paths = pair(tmp_path, writer, preds, labels_frame_of(p, as_names=False))
    assert_refusal(xent(*paths), row_needle(trap), truth=p.loss())


# == 2. Rows pair by position although both files carry the same pandas index ============


def _shuffled(frame: pd.DataFrame, where: str, seed: int = 9) -> pd.DataFrame:
    """All rows shuffled ("first"), or only those from row TRAP_LATE on ("late"), so that
    position and index agree on the whole first batch."""
    rng = np.random.default_rng(seed)
    start = 0 if where == "first" else TRAP_LATE
    order = np.concatenate([np.arange(start), start + rng.permutation(len(frame) - start)])
    return frame.iloc[order]


@pytest.mark.parametrize("where", ["first", "late"])
@pytest.mark.parametrize("layout", sorted(INDEX_LAYOUTS))
def test_c02_shared_pandas_index_joins_shuffled_labels(
    tmp_path: Path, layout: str, where: str
) -> None:
    """Both files written by pandas with the same index, LABELS shuffled: joined on the
    index as pandas aligns them, the true loss."""
    n, _ = WHERE[where]
    p = problem(n)
    writer, options, name = INDEX_LAYOUTS[layout]
    preds = _indexed(p.preds_frame(), name)
    labels = _shuffled(_indexed(labels_frame_of(p), name), where)
    paths = (
        write(preds, tmp_path, "preds", writer, **options),
        write(labels, tmp_path, "labels", writer, **options),
    )
    if layout == "csv_named_index":  # nothing in a CSV says "sample" is pandas' index
        assert_number(xent(*paths, "--id-col", "sample"), p.loss(), n, CLASSES)
        return
    data = assert_number(xent(*paths), p.loss(), n, CLASSES)
    assert "reasons" in data and any(
        "index" in str(v) or "join" in str(v) for v in data["reasons"].values()
    ), f"the reasons do not say the rows were joined on the index: {data.get('reasons')}"


@pytest.mark.parametrize("id_col", ["", "Unnamed: 0"])
@pytest.mark.parametrize("writer", ["pandas_csv", "pandas_tsv"])
def test_c02_id_col_names_the_unnamed_index(tmp_path: Path, writer: str, id_col: str) -> None:
    p = problem(SMALL)
    preds = _indexed(p.preds_frame(), None)
    labels = _shuffled(_indexed(labels_frame_of(p), None), "first")
    paths = (
        write(preds, tmp_path, "preds", writer, index=True),
        write(labels, tmp_path, "labels", writer, index=True),
    )
    assert_number(xent(*paths, "--id-col", id_col), p.loss(), SMALL, CLASSES)


def test_c02_api_joins_on_shared_index_in_small_batches(tmp_path: Path) -> None:
    p = problem(LARGE)
    preds = pandas_parquet(_indexed(p.preds_frame(), "sample"), tmp_path / "p.parquet")
    labels = pandas_parquet(
        _shuffled(_indexed(labels_frame_of(p), "sample"), "late"), tmp_path / "l.parquet"
    )
    api_number(p.loss(), LARGE, str(preds), str(labels), batch_rows=64)


# == 3. Headerless text loses a row =======================================================

SAVETXT = {"space": {}, "comma": {"delimiter": ","}}
SAVETXT_EXT = {"space": ".txt", "comma": ".csv"}


def _savetxt_pair(tmp: Path, p: Problem, variant: str, header: bool = False) -> tuple[Path, Path]:
    kwargs = dict(SAVETXT[variant])
    ext = SAVETXT_EXT[variant]
    sep = kwargs.get("delimiter", " ")
    preds_kw = {**kwargs, "header": sep.join(p.pred_columns())} if header else kwargs
    preds = numpy_savetxt(p.values, tmp / f"preds{ext}", **preds_kw)
    if header:
        labels = numpy_savetxt(p.names(), tmp / f"labels{ext}", fmt="%s", header="label")
    else:
        labels = numpy_savetxt(p.labels, tmp / f"labels{ext}", fmt="%d")
    return preds, labels


@pytest.mark.parametrize("where", ["first", "late"])
@pytest.mark.parametrize("variant", sorted(SAVETXT))
def test_c03_headerless_savetxt_is_refused_without_no_header(
    tmp_path: Path, variant: str, where: str
) -> None:
    n, _ = WHERE[where]
    p = problem(n)
    assert_refusal(xent(*_savetxt_pair(tmp_path, p, variant)), "--no-header", truth=p.loss())


@pytest.mark.parametrize("where", ["first", "late"])
@pytest.mark.parametrize("variant", sorted(SAVETXT))
def test_c03_headerless_savetxt_with_no_header_reads_every_row(
    tmp_path: Path, variant: str, where: str
) -> None:
    n, _ = WHERE[where]
    p = problem(n)
    paths = _savetxt_pair(tmp_path, p, variant)
    assert_number(xent(*paths, "--no-header"), p.loss(), n, ["0", "1", "2"])


@pytest.mark.parametrize("variant", sorted(SAVETXT))
def test_c03_savetxt_hash_header_is_the_header(tmp_path: Path, variant: str) -> None:
    p = problem(SMALL)
    paths = _savetxt_pair(tmp_path, p, variant, header=True)
    assert paths[0].read_text().startswith("# p_cat")
    assert_number(xent(*paths), p.loss(), SMALL, CLASSES)


def test_c03_no_header_keeps_a_real_header(tmp_path: Path) -> None:
    """``--no-header`` with PREDS from pandas (a real header) and LABELS from savetxt."""
    p = problem(SMALL)
    preds = pandas_csv(p.preds_frame(), tmp_path / "preds.csv")
    labels = numpy_savetxt(p.labels, tmp_path / "labels.txt", fmt="%d")
    assert_number(xent(preds, labels, "--no-header"), p.loss(), SMALL, CLASSES)


def test_c03_api_no_header(tmp_path: Path) -> None:
    p = problem(LARGE)
    preds, labels = _savetxt_pair(tmp_path, p, "space")
    api_number(p.loss(), LARGE, str(preds), str(labels), no_header=True, batch_rows=64)
    api_refusal(["--no-header"], str(preds), str(labels), batch_rows=64)


# == 4. Percentages read as logits ========================================================


@pytest.mark.parametrize("where", ["first", "late"])
@pytest.mark.parametrize("writer", ["pandas_csv", "pandas_parquet", "polars_parquet"])
def test_c04_percentages_are_refused_without_input_percent(
    tmp_path: Path, writer: str, where: str
) -> None:
    n, _ = WHERE[where]
    p = problem(n)
    paths = pair(tmp_path, writer, p.preds_frame(scale=100.0), labels_frame_of(p))
    assert_refusal(xent(*paths), "--input", truth=p.loss())


@pytest.mark.parametrize("writer", ["pandas_csv", "pandas_parquet", "polars_parquet"])
def test_c04_input_percent_reads_percentages(tmp_path: Path, writer: str) -> None:
    p = problem(SMALL)
    paths = pair(tmp_path, writer, p.preds_frame(scale=100.0), labels_frame_of(p))
    assert_number(xent(*paths, "--input", "percent"), p.loss(), SMALL, CLASSES)


def _binary(n: int, seed: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """0/1 labels (both present in the first rows) and P(label = 1) in (0.02, 0.98)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=n)
    y[:2] = [0, 1]
    p1 = rng.uniform(0.02, 0.98, size=n)
    return y.astype(np.int64), p1


@pytest.mark.parametrize("writer", ["pandas_csv", "pandas_parquet"])
def test_c04_one_column_of_percentages_is_ambiguous(tmp_path: Path, writer: str) -> None:
    """One column in [0, 100], none negative, some above 1: logits or percentages."""
    y, p1 = _binary(SMALL)
    frame = pd.DataFrame({"score": p1 * 100.0, "label": y})
    path = write(frame, tmp_path, "preds", writer)
    assert_refusal(xent(path), "--input", truth=binary_loss(y, p1))
    assert_number(xent(path, "--input", "percent"), binary_loss(y, p1), SMALL)


@pytest.mark.parametrize("writer", ["pandas_csv", "pandas_parquet"])
def test_c04_percent_rows_after_the_first_batch_are_refused(tmp_path: Path, writer: str) -> None:
    """Probabilities, then percentages from row 25,000 (two files concatenated)."""
    p = problem(LARGE)
    frame = p.preds_frame()
    frame.iloc[TRAP_LATE:] *= 100.0
    paths = pair(tmp_path, writer, frame, labels_frame_of(p))
    assert_refusal(xent(*paths), row_needle(TRAP_LATE), truth=p.loss())


# == 5. Integer labels meet named columns in another order ================================


def _encoded(p: Problem) -> tuple[np.ndarray, list[str]]:
    """The labels as scikit-learn's ``LabelEncoder`` gives them, and its ``classes_``."""
    encoder = LabelEncoder().fit(p.names())
    return encoder.transform(p.names()).astype(np.int64), [str(c) for c in encoder.classes_]


@pytest.mark.parametrize("writer", ["pandas_csv", "pandas_parquet", "polars_ipc"])
def test_c05_classes_states_the_label_encoder_order(tmp_path: Path, writer: str) -> None:
    p = problem(SMALL)
    codes, order = _encoded(p)
    assert order == ["bird", "cat", "dog"]
    paths = pair(tmp_path, writer, p.preds_frame(), pd.DataFrame({"label": codes}))
    assert_number(xent(*paths, "--classes", ",".join(order)), p.loss(), SMALL, CLASSES)


@pytest.mark.parametrize("writer", ["pandas_csv", "pandas_parquet"])
def test_c05_integer_labels_on_unsorted_names_warn(tmp_path: Path, writer: str) -> None:
    """Without ``--classes``, integer labels index the columns in file order, and since
    ``p_cat, p_dog, p_bird`` are not sorted a ``Warning:`` says so (SPEC)."""
    p = problem(SMALL)
    codes, _ = _encoded(p)
    paths = pair(tmp_path, writer, p.preds_frame(), pd.DataFrame({"label": codes}))
    result = xent(*paths)
    file_order = Problem(p.values, codes, p.classes).loss()
    assert_number(result, file_order, SMALL, CLASSES)
    warnings = [line for line in result.stderr.splitlines() if line.startswith("Warning:")]
    assert any("--classes" in line for line in warnings), (
        f"no Warning naming --classes: {result.stderr!r}"
    )


def _integer_named(n: int, trap: int) -> tuple[Problem, pd.DataFrame, np.ndarray]:
    """Columns ``p_1, p_2, p_3`` and 0-based integer labels; in the first rows up to the
    trap the labels avoid 0, so both readings fit them."""
    p = make_problem(n, classes=("1", "2", "3"), seed=2)
    labels = p.labels.copy()
    head = labels[:trap]
    head[head == 0] = 1
    labels[:trap] = head
    labels[trap] = 0
    p = Problem(p.values, labels, p.classes)
    return p, p.preds_frame(), labels


@pytest.mark.parametrize("where", ["first", "late"])
@pytest.mark.parametrize("writer", ["pandas_csv", "pandas_parquet"])
def test_c05_integer_class_names_with_integer_labels_are_refused(
    tmp_path: Path, writer: str, where: str
) -> None:
    n, trap = WHERE[where]
    p, preds, labels = _integer_named(n, trap)
    paths = pair(tmp_path, writer, preds, pd.DataFrame({"label": labels}))
    assert_refusal(xent(*paths), "--label-type", "--classes")
    assert_refusal(xent(*paths, "--drop-invalid"), "--label-type", "--classes")


@pytest.mark.parametrize("writer", ["pandas_csv", "pandas_parquet"])
def test_c05_label_type_and_classes_settle_integer_names(tmp_path: Path, writer: str) -> None:
    p, preds, labels = _integer_named(SMALL, TRAP_FIRST)
    paths = pair(tmp_path, writer, preds, pd.DataFrame({"label": labels}))
    assert_number(xent(*paths, "--label-type", "indices"), p.loss(), SMALL, ["1", "2", "3"])
    assert_number(xent(*paths, "--classes", "1,2,3"), p.loss(), SMALL, ["1", "2", "3"])
    one_based = write(pd.DataFrame({"label": labels + 1}), tmp_path, "named", writer)
    assert_number(
        xent(paths[0], one_based, "--label-type", "names"), p.loss(), SMALL, ["1", "2", "3"]
    )


def test_c05_api_label_type_and_classes(tmp_path: Path) -> None:
    p, preds, labels = _integer_named(LARGE, TRAP_LATE)
    preds_path = pandas_parquet(preds, tmp_path / "p.parquet")
    labels_path = pandas_parquet(pd.DataFrame({"label": labels}), tmp_path / "l.parquet")
    api_refusal(["--label-type", "--classes"], str(preds_path), str(labels_path), batch_rows=64)
    api_number(p.loss(), LARGE, str(preds_path), str(labels_path), label_type="indices")
    api_number(p.loss(), LARGE, str(preds_path), str(labels_path), classes="1,2,3", batch_rows=64)


@pytest.mark.parametrize("writer", ["pandas_csv", "pandas_parquet"])
def test_c05_integer_names_zero_to_k_in_order_are_no_conflict(tmp_path: Path, writer: str) -> None:
    p = make_problem(SMALL, classes=("0", "1", "2"), seed=6)
    paths = pair(tmp_path, writer, p.preds_frame(), labels_frame_of(p, as_names=False))
    assert_number(xent(*paths), p.loss(), SMALL, ["0", "1", "2"])


@pytest.mark.parametrize("where", ["first", "late"])
@pytest.mark.parametrize("writer", ["pandas_csv", "pandas_parquet", "polars_parquet"])
def test_c05_mixed_names_and_indices_are_refused(tmp_path: Path, writer: str, where: str) -> None:
    """Class names, and at the trap row an index written as text (``"1"``)."""
    n, trap = WHERE[where]
    p = problem(n)
    names = p.names().copy()
    names[trap] = str(int(p.labels[trap]))
    paths = pair(tmp_path, writer, p.preds_frame(), pd.DataFrame({"label": names}))
    assert_refusal(xent(*paths), row_needle(trap), truth=p.loss())
    # with --drop-invalid the text "1" may also be dropped as a label that is no class
    keep = np.arange(n) != trap
    assert_number_or_refusal(xent(*paths, "--drop-invalid"), p.loss(keep), n - 1, row_needle(trap))


# == 6. One sentinel row ==================================================================


def _sentinel(p: Problem, trap: int) -> pd.DataFrame:
    frame = p.preds_frame()
    frame.iloc[trap] = -1.0
    return frame


@pytest.mark.parametrize("where", ["first", "late"])
@pytest.mark.parametrize("writer", ["pandas_csv", "pandas_parquet", "pyarrow_feather"])
def test_c06_sentinel_row_is_refused(tmp_path: Path, writer: str, where: str) -> None:
    n, trap = WHERE[where]
    p = problem(n)
    paths = pair(tmp_path, writer, _sentinel(p, trap), labels_frame_of(p))
    line = [f"line {trap + 2}"] if writer == "pandas_csv" else []  # header is line 1
    assert_refusal(xent(*paths), row_needle(trap), "--drop-invalid", *line)


@pytest.mark.parametrize("where", ["first", "late"])
@pytest.mark.parametrize("writer", ["pandas_csv", "pandas_parquet", "pyarrow_feather"])
def test_c06_sentinel_row_is_dropped_with_drop_invalid(
    tmp_path: Path, writer: str, where: str
) -> None:
    n, trap = WHERE[where]
    p = problem(n)
    paths = pair(tmp_path, writer, _sentinel(p, trap), labels_frame_of(p))
    keep = np.arange(n) != trap
    data = assert_number(xent(*paths, "--drop-invalid"), p.loss(keep), n - 1, CLASSES)
    assert data["dropped"] == 1
    assert data["input"] == "probs"


@pytest.mark.parametrize("writer", ["pandas_csv", "pandas_parquet"])
def test_c06_many_sentinel_rows_are_ambiguous(tmp_path: Path, writer: str) -> None:
    """5% sentinel rows in the first batch: between 50% and 99% probability rows is
    ambiguous, with or without --drop-invalid; ``--input probs`` settles it."""
    p = problem(SMALL)
    bad = np.arange(0, SMALL, 20)
    frame = p.preds_frame()
    frame.iloc[bad] = -1.0
    paths = pair(tmp_path, writer, frame, labels_frame_of(p))
    assert_refusal(xent(*paths), "--input")
    assert_refusal(xent(*paths, "--drop-invalid"), "--input")
    keep = ~np.isin(np.arange(SMALL), bad)
    result = xent(*paths, "--input", "probs", "--drop-invalid")
    assert assert_number(result, p.loss(keep), int(keep.sum()), CLASSES)["dropped"] == len(bad)


def test_c06_api_sentinel_in_small_batches(tmp_path: Path) -> None:
    p = problem(LARGE)
    preds = pandas_parquet(_sentinel(p, TRAP_LATE), tmp_path / "p.parquet")
    labels = pandas_parquet(labels_frame_of(p), tmp_path / "l.parquet")
    keep = np.arange(LARGE) != TRAP_LATE
    api_number(p.loss(keep), LARGE - 1, str(preds), str(labels), drop_invalid=True, batch_rows=64)
    api_refusal([row_needle(TRAP_LATE)], str(preds), str(labels), batch_rows=64)


# == 7. Binary: a column named for a class; --positive in every format =====================

BINARY_WRITERS = ["pandas_csv", "pandas_parquet", "pandas_jsonl", "pyarrow_feather"]


@pytest.mark.parametrize("where", ["first", "late"])
@pytest.mark.parametrize("writer", BINARY_WRITERS)
def test_c07_p_0_is_the_probability_of_class_0(tmp_path: Path, writer: str, where: str) -> None:
    n, _ = WHERE[where]
    y, p1 = _binary(n)
    paths = pair(tmp_path, writer, pd.DataFrame({"p_0": 1.0 - p1}), pd.DataFrame({"label": y}))
    assert_number(xent(*paths), binary_loss(y, p1), n)


@pytest.mark.parametrize("writer", BINARY_WRITERS)
def test_c07_column_named_for_a_class_name(tmp_path: Path, writer: str) -> None:
    """``p_cat`` with labels ``cat``/``dog``: P(cat), whatever class sorts first."""
    y, p1 = _binary(SMALL)  # 1 = cat
    names = np.where(y == 1, "cat", "dog")
    paths = pair(tmp_path, writer, pd.DataFrame({"p_cat": p1}), pd.DataFrame({"label": names}))
    assert_number(xent(*paths), binary_loss(y, p1), SMALL)


@pytest.mark.parametrize("writer", BINARY_WRITERS)
def test_c07_positive_is_honoured_in_every_format(tmp_path: Path, writer: str) -> None:
    """A column named for no class, labels 0/1, ``--positive 0``: P(label = 0)."""
    y, p1 = _binary(SMALL)
    paths = pair(tmp_path, writer, pd.DataFrame({"score": 1.0 - p1}), pd.DataFrame({"label": y}))
    assert_number(xent(*paths, "--positive", "0"), binary_loss(y, p1), SMALL)
    assert_number(xent(*paths), binary_loss(y, 1.0 - p1), SMALL)


@pytest.mark.parametrize("column", ["p_neg", "p_negative", "p_pos", "p_positive"])
@pytest.mark.parametrize("writer", ["pandas_csv", "pandas_parquet"])
def test_c07_neg_and_pos_name_the_classes(tmp_path: Path, writer: str, column: str) -> None:
    """With 0/1 labels, ``neg``/``negative`` name class 0 and ``pos``/``positive`` class 1."""
    y, p1 = _binary(SMALL)
    values = 1.0 - p1 if "neg" in column else p1
    paths = pair(tmp_path, writer, pd.DataFrame({column: values}), pd.DataFrame({"label": y}))
    assert_number(xent(*paths), binary_loss(y, p1), SMALL)


@pytest.mark.parametrize("writer", ["pandas_parquet", "pyarrow_feather"])
def test_c07_boolean_labels_p_false_column(tmp_path: Path, writer: str) -> None:
    """Boolean labels (Arrow ``bool``) are classes 0 (false) and 1 (true); ``p_0`` holds
    P(false)."""
    y, p1 = _binary(SMALL)
    frame = pd.DataFrame({"p_0": 1.0 - p1, "label": y.astype(bool)})
    assert_number(xent(write(frame, tmp_path, "preds", writer)), binary_loss(y, p1), SMALL)


def test_c07_api_positive_and_class_named_column(tmp_path: Path) -> None:
    y, p1 = _binary(LARGE)
    frame = pd.DataFrame({"score": 1.0 - p1, "label": y})
    truth = binary_loss(y, p1)
    api_number(truth, LARGE, frame, positive="0")
    path = pandas_parquet(frame, tmp_path / "b.parquet")
    api_number(truth, LARGE, str(path), positive="0", batch_rows=64)
    named = pandas_parquet(pd.DataFrame({"p_0": 1.0 - p1, "label": y}), tmp_path / "n.parquet")
    api_number(truth, LARGE, str(named), batch_rows=64)


# == 8. Dataset files in natural order =====================================================


@pytest.mark.parametrize("where", ["first", "late"])
@pytest.mark.parametrize("labels_writer", ["pandas_csv", "pandas_parquet", "parts"])
@pytest.mark.parametrize("spelled", ["directory", "glob"])
def test_c08_dask_parts_are_read_in_natural_order(
    tmp_path: Path, labels_writer: str, spelled: str, where: str
) -> None:
    n, _ = WHERE[where]
    p = problem(n)
    preds_dir = pyarrow_parts(p.preds_frame(), tmp_path / "preds")
    if labels_writer == "parts":
        labels = pyarrow_parts(labels_frame_of(p), tmp_path / "labels", seed=1)
        labels_arg = str(labels) if spelled == "directory" else f"{labels}/*.parquet"
    else:
        labels_arg = str(write(labels_frame_of(p), tmp_path, "labels", labels_writer))
    preds_arg = str(preds_dir) if spelled == "directory" else f"{preds_dir}/*.parquet"
    assert_number(xent(preds_arg, labels_arg), p.loss(), n, CLASSES)


def test_c08_api_parts_in_small_batches(tmp_path: Path) -> None:
    p = problem(LARGE)
    preds = pyarrow_parts(p.preds_frame(), tmp_path / "preds")
    labels = pandas_parquet(labels_frame_of(p), tmp_path / "labels.parquet")
    api_number(p.loss(), LARGE, str(preds), str(labels), batch_rows=64)


@pytest.mark.parametrize("where", ["first", "late"])
@pytest.mark.parametrize("hive", ["duckdb", "pyarrow"])
def test_c08_hive_directories_give_the_label_column(tmp_path: Path, hive: str, where: str) -> None:
    n, _ = WHERE[where]
    p = problem(n)
    frame = pd.concat([p.preds_frame(), labels_frame_of(p)], axis=1)
    write_hive = duckdb_hive if hive == "duckdb" else pyarrow_hive
    directory = write_hive(frame, tmp_path / "scored")
    assert sorted(d.name for d in directory.iterdir()) == [f"label={c}" for c in sorted(CLASSES)]
    assert_number(xent(directory), p.loss(), n)


# == 9. One all-zero row in one-hot LABELS ================================================


def _one_hot(p: Problem, missing: int | None = None) -> pd.DataFrame:
    """``pd.get_dummies`` of the label names, with one missing (None) at row ``missing``:
    that row is all zeros. Columns named and ordered like the predictions."""
    names = pd.Series(p.names())
    if missing is not None:
        names[missing] = None
    dummies = pd.get_dummies(names, prefix="p", dtype=np.int64)
    return dummies[p.pred_columns()]


@pytest.mark.parametrize("where", ["first", "late"])
@pytest.mark.parametrize("writer", ["pandas_csv", "pandas_parquet"])
def test_c09_all_zero_one_hot_row_is_a_missing_label(
    tmp_path: Path, writer: str, where: str
) -> None:
    n, trap = WHERE[where]
    p = problem(n)
    paths = pair(tmp_path, writer, p.preds_frame(), _one_hot(p, trap))
    assert_refusal(xent(*paths), row_needle(trap), truth=p.loss())
    keep = np.arange(n) != trap
    data = assert_number(xent(*paths, "--drop-invalid"), p.loss(keep), n - 1, CLASSES)
    assert data["task"] == "multiclass"
    assert data["dropped"] == 1


@pytest.mark.parametrize("writer", ["pandas_csv", "pandas_parquet"])
def test_c09_two_ones_after_one_hot_rows_name_task(tmp_path: Path, writer: str) -> None:
    p = problem(LARGE)
    onehot = _one_hot(p)
    onehot.iloc[TRAP_LATE] = 1
    paths = pair(tmp_path, writer, p.preds_frame(), onehot)
    assert_refusal(xent(*paths), "--task", row_needle(TRAP_LATE))


def test_c09_api_all_zero_row_in_small_batches(tmp_path: Path) -> None:
    p = problem(LARGE)
    preds = pandas_parquet(p.preds_frame(), tmp_path / "p.parquet")
    labels = pandas_parquet(_one_hot(p, TRAP_LATE), tmp_path / "l.parquet")
    keep = np.arange(LARGE) != TRAP_LATE
    api_refusal([row_needle(TRAP_LATE)], str(preds), str(labels), batch_rows=64)
    api_number(p.loss(keep), LARGE - 1, str(preds), str(labels), drop_invalid=True, batch_rows=64)


# == 10. Log-probabilities named as such ==================================================


@pytest.mark.parametrize("where", ["first", "late"])
@pytest.mark.parametrize("writer", ["pandas_csv", "pandas_parquet", "polars_ipc"])
def test_c10_binary_logprob_column(tmp_path: Path, writer: str, where: str) -> None:
    n, _ = WHERE[where]
    y, p1 = _binary(n)
    paths = pair(
        tmp_path, writer, pd.DataFrame({"logprob_1": np.log(p1)}), pd.DataFrame({"label": y})
    )
    data = assert_number(xent(*paths), binary_loss(y, p1), n)
    assert data["input"] == "logprobs"


@pytest.mark.parametrize("prefix", ["logp_", "log_p_"])
@pytest.mark.parametrize("writer", ["pandas_csv", "pandas_parquet"])
def test_c10_binary_log_p_spellings(tmp_path: Path, writer: str, prefix: str) -> None:
    y, p1 = _binary(SMALL)
    frame = pd.DataFrame({f"{prefix}1": np.log(p1), "label": y})
    assert_number(xent(write(frame, tmp_path, "preds", writer)), binary_loss(y, p1), SMALL)


@pytest.mark.parametrize("writer", ["pandas_csv", "pandas_parquet"])
def test_c10_logit_column_is_logits(tmp_path: Path, writer: str) -> None:
    y, p1 = _binary(SMALL)
    frame = pd.DataFrame({"logit_1": np.log(p1) - np.log1p(-p1), "label": y})
    data = assert_number(xent(write(frame, tmp_path, "preds", writer)), binary_loss(y, p1), SMALL)
    assert data["input"] == "logits"


@pytest.mark.parametrize("writer", ["pandas_csv", "pandas_parquet"])
def test_c10_multiclass_logprob_columns(tmp_path: Path, writer: str) -> None:
    p = problem(SMALL, kind="logprobs")
    paths = pair(tmp_path, writer, p.preds_frame(prefix="logprob_"), labels_frame_of(p))
    data = assert_number(xent(*paths), p.loss(), SMALL, CLASSES)
    assert data["input"] == "logprobs"


@pytest.mark.parametrize("where", ["first", "late"])
@pytest.mark.parametrize("writer", ["pandas_csv", "pandas_parquet"])
def test_c10_logprob_column_with_a_positive_value_is_refused(
    tmp_path: Path, writer: str, where: str
) -> None:
    n, trap = WHERE[where]
    y, p1 = _binary(n)
    logp = np.log(p1)
    logp[trap] = 0.7
    frame = pd.DataFrame({"logprob_1": logp, "label": y})
    assert_refusal(xent(write(frame, tmp_path, "preds", writer)), "--input|" + row_needle(trap))


# == 11. A non-UTF-8 byte in a numeric cell ===============================================


def _corrupt_cell(path: Path, row: int, column: int, sep: bytes) -> None:
    """Append the Latin-1 byte 0xE9 to one cell of a text table (``row`` is 0-based
    among the data rows, after the header line)."""
    lines = path.read_bytes().split(b"\n")
    cells = lines[row + 1].split(sep)
    cells[column] = cells[column] + b"\xe9"
    lines[row + 1] = sep.join(cells)
    path.write_bytes(b"\n".join(lines))


@pytest.mark.parametrize("where", ["first", "late"])
@pytest.mark.parametrize("writer", ["pandas_csv", "pandas_tsv"])
def test_c11_non_utf8_byte_in_a_numeric_cell_is_refused(
    tmp_path: Path, writer: str, where: str
) -> None:
    n, trap = WHERE[where]
    p = problem(n)
    preds, labels = pair(tmp_path, writer, p.preds_frame(), labels_frame_of(p))
    _corrupt_cell(preds, trap, 1, b"\t" if writer == "pandas_tsv" else b",")
    assert_refusal(xent(preds, labels), row_needle(trap), f"line {trap + 2}", truth=p.loss())
    keep = np.arange(n) != trap
    assert_number_or_refusal(
        xent(preds, labels, "--drop-invalid"), p.loss(keep), n - 1, row_needle(trap)
    )


@pytest.mark.parametrize("writer", ["pandas_csv", "pandas_tsv"])
def test_c11_non_utf8_byte_in_a_one_column_label_file(tmp_path: Path, writer: str) -> None:
    """A label cell ``caté``: not one of the classes, or not text; never scored as is."""
    p = problem(SMALL)
    preds, labels = pair(tmp_path, writer, p.preds_frame(), labels_frame_of(p))
    _corrupt_cell(labels, TRAP_FIRST, 0, b",")
    assert_refusal(xent(preds, labels), row_needle(TRAP_FIRST), truth=p.loss())


# == 12. The CSV report's per-class sums ==================================================


def _csv_report(result: Result) -> dict[str, dict[str, str]]:
    assert result.exit_code == 0, describe(result)
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    return {row["class"] if row["scope"] != "all" else "all": row for row in rows}


@pytest.mark.parametrize("where", ["first", "late"])
@pytest.mark.parametrize("writer", ["pandas_csv", "pandas_parquet"])
def test_c12_weighted_per_class_sums(tmp_path: Path, writer: str, where: str) -> None:
    n, _ = WHERE[where]
    p = problem(n)
    weights = np.random.default_rng(8).uniform(0.5, 3.0, size=n)
    preds = p.preds_frame()
    preds["w"] = weights
    paths = pair(tmp_path, writer, preds, labels_frame_of(p))
    report = _csv_report(xent(*paths, "--weight-col", "w", "--format", "csv", json_report=False))
    probs = p.probabilities()
    total = log_loss(p.labels, probs, labels=[0, 1, 2], sample_weight=weights, normalize=False)
    assert math.isclose(float(report["all"]["sum_loss"]), total, rel_tol=REL)
    assert math.isclose(float(report["all"]["mean_loss"]), total / weights.sum(), rel_tol=REL)
    for c, name in enumerate(CLASSES):
        rows = p.labels == c
        expected = log_loss(
            p.labels[rows],
            probs[rows],
            labels=[0, 1, 2],
            sample_weight=weights[rows],
            normalize=False,
        )
        got = report[name]
        assert int(got["n"]) == rows.sum()
        assert math.isclose(float(got["sum_loss"]), expected, rel_tol=REL), (name, got, expected)
        assert math.isclose(float(got["mean_loss"]), expected / weights[rows].sum(), rel_tol=REL), (
            name,
            got,
        )


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("writer", ["pandas_csv", "pandas_parquet"])
def test_c12_multilabel_per_label_sums(tmp_path: Path, writer: str, weighted: bool) -> None:
    rng = np.random.default_rng(12)
    n = SMALL
    probs = rng.uniform(0.05, 0.95, size=(n, 3))
    targets = (rng.uniform(size=(n, 3)) < 0.4).astype(np.int64)
    targets[0] = [1, 1, 0]  # two labels in the first row: multilabel
    weights = rng.uniform(0.5, 3.0, size=n) if weighted else np.ones(n)
    names = [f"p_{c}" for c in CLASSES]
    preds = pd.DataFrame(probs, columns=names)
    args: list[str] = []
    if weighted:
        preds["w"] = weights
        args = ["--weight-col", "w"]
    paths = pair(tmp_path, writer, preds, pd.DataFrame(targets, columns=names))
    report = _csv_report(xent(*paths, *args, "--format", "csv", json_report=False))
    per_label = [
        log_loss(targets[:, j], probs[:, j], labels=[0, 1], sample_weight=weights, normalize=False)
        for j in range(3)
    ]
    headline = sum(per_label) / 3 / weights.sum()
    assert math.isclose(float(report["all"]["mean_loss"]), headline, rel_tol=REL)
    for j, name in enumerate(CLASSES):
        got = report[name]
        assert int(got["n"]) == targets[:, j].sum(), (name, got)
        assert math.isclose(float(got["sum_loss"]), per_label[j], rel_tol=REL), (name, got)
        assert math.isclose(float(got["mean_loss"]), per_label[j] / weights.sum(), rel_tol=REL)


# == Files real writers produce, read as written ==========================================


@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_every_writer_round_trips(tmp_path: Path, writer: str) -> None:
    """PREDS and LABELS (class names) by the same writer, no trap: the true loss."""
    p = problem(SMALL)
    paths = pair(tmp_path, writer, p.preds_frame(), labels_frame_of(p))
    assert_number(xent(*paths), p.loss(), SMALL, CLASSES)


@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_every_writer_labels_in_preds(tmp_path: Path, writer: str) -> None:
    """One file with the predictions and the label column (names)."""
    p = problem(SMALL, kind="logits")
    frame = pd.concat([p.preds_frame(prefix="logit_"), labels_frame_of(p)], axis=1)
    assert_number(xent(write(frame, tmp_path, "scored", writer)), p.loss(), SMALL, CLASSES)


@pytest.mark.parametrize("container", ["polars_ipc", "polars_parquet"])
def test_polars_categorical_labels(tmp_path: Path, container: str) -> None:
    p = problem(LARGE)
    labels = write(labels_frame_of(p), tmp_path, "labels", container, categorical=["label"])
    preds = write(p.preds_frame(), tmp_path, "preds", "pandas_parquet")
    assert_number(xent(preds, labels), p.loss(), LARGE, CLASSES)


@pytest.mark.parametrize(
    "text_type",
    ["polars_string_view", "large_string", "dictionary_int8", "dictionary_large"],
)
def test_every_arrow_text_type_is_text(tmp_path: Path, text_type: str) -> None:
    """Labels as every string layout writers use: polars' ``string_view`` (plain
    ``write_ipc``), ``large_string``, dictionaries with small and large indices."""
    p = problem(SMALL)
    preds = pandas_parquet(p.preds_frame(), tmp_path / "preds.parquet")
    if text_type == "polars_string_view":
        labels = polars_ipc(labels_frame_of(p), tmp_path / "labels.arrow", categorical=())
        assert feather.read_table(labels).schema.field("label").type == pa.string_view()
    else:
        column = pa.array(list(p.names()), type=pa.large_string())
        if text_type == "dictionary_int8":
            column = pa.array(list(p.names())).dictionary_encode()
            column = column.cast(pa.dictionary(pa.int8(), pa.string()))
        elif text_type == "dictionary_large":
            column = column.dictionary_encode()
            column = column.cast(pa.dictionary(pa.uint64(), pa.large_string()))
        labels = tmp_path / "labels.arrow"
        feather.write_feather(pa.table({"label": column}), str(labels))
    assert_number(xent(preds, labels), p.loss(), SMALL, CLASSES)


@pytest.mark.parametrize("label_type", ["uint8", "int8", "uint64", "int16"])
@pytest.mark.parametrize("writer", ["pyarrow_parquet", "pyarrow_feather"])
def test_every_arrow_integer_type_holds_labels(
    tmp_path: Path, writer: str, label_type: str
) -> None:
    p = problem(SMALL)
    labels = pd.DataFrame({"label": p.labels.astype(label_type)})
    paths = pair(tmp_path, writer, p.preds_frame(), labels)
    assert_number(xent(*paths), p.loss(), SMALL, CLASSES)


def _float16_problem(n: int) -> Problem:
    """Probabilities on a grid of 1/1024 (exact in float16) summing to 1 exactly."""
    p = problem(n)
    grid = np.maximum(np.floor(p.values * 1024), 1).astype(np.int64)
    grid[:, -1] = 1024 - grid[:, :-1].sum(axis=1)
    return Problem(grid / 1024.0, p.labels, p.classes)


@pytest.mark.parametrize("float_type", ["float16", "float32"])
@pytest.mark.parametrize("writer", ["pyarrow_parquet", "pyarrow_feather"])
def test_narrow_float_predictions(tmp_path: Path, writer: str, float_type: str) -> None:
    """float16 and float32 columns are numbers; values exact in the narrow type, so the
    float64 truth is the same problem."""
    p = _float16_problem(SMALL)
    table = pa.table(
        {c: pa.array(p.values[:, j].astype(float_type)) for j, c in enumerate(p.pred_columns())}
    )
    assert table.schema.field("p_cat").type == pa.from_numpy_dtype(np.dtype(float_type))
    preds = tmp_path / ("preds.parquet" if writer == "pyarrow_parquet" else "preds.arrow")
    if writer == "pyarrow_parquet":
        pq.write_table(table, preds)
    else:
        feather.write_feather(table, str(preds))
    labels = pandas_csv(labels_frame_of(p), tmp_path / "labels.csv")
    assert_number(xent(preds, labels), p.loss(), SMALL, CLASSES)


def test_pandas_categorical_labels_parquet(tmp_path: Path) -> None:
    p = problem(SMALL)
    labels = labels_frame_of(p).astype({"label": "category"})
    paths = pair(tmp_path, "pandas_parquet", p.preds_frame(), labels)
    assert_number(xent(*paths), p.loss(), SMALL, CLASSES)


def _decimal_problem(n: int) -> Problem:
    """Probabilities with six decimals, exactly: integer millionths summing to 10**6, so
    that ``DECIMAL(7, 6)`` holds them exactly and the nearest doubles are the truth."""
    p = problem(n)
    micro = np.floor(p.values * 1_000_000).astype(np.int64)
    micro = np.maximum(micro, 1)
    micro[:, -1] = 1_000_000 - micro[:, :-1].sum(axis=1)
    return Problem(micro / 1_000_000, p.labels, p.classes)


@pytest.mark.parametrize("writer", ["duckdb", "pyarrow_parquet", "pyarrow_feather"])
def test_decimal_columns_are_numbers(tmp_path: Path, writer: str) -> None:
    p = _decimal_problem(SMALL)
    labels = pandas_parquet(labels_frame_of(p), tmp_path / "labels.parquet")
    frame = p.preds_frame()
    if writer == "duckdb":
        preds = duckdb_parquet(
            frame, tmp_path / "preds.parquet", decimal={c: (7, 6) for c in frame.columns}
        )
        assert pq.read_schema(preds).field("p_cat").type == pa.decimal128(7, 6)
    else:
        table = pa.table(
            {
                c: pa.array(
                    [Decimal(int(round(v * 1_000_000))).scaleb(-6) for v in frame[c]],
                    type=pa.decimal128(7, 6),
                )
                for c in frame.columns
            }
        )
        preds = tmp_path / ("preds.parquet" if writer == "pyarrow_parquet" else "preds.arrow")
        if writer == "pyarrow_parquet":
            pq.write_table(table, preds)
        else:
            feather.write_feather(table, str(preds))
    assert_number(xent(preds, labels), p.loss(), SMALL, CLASSES)


@pytest.mark.parametrize("sep", [";", "\t"])
def test_excel_decimal_commas_are_refused(tmp_path: Path, sep: str) -> None:
    p = problem(SMALL)
    preds = tmp_path / "preds.csv"
    p.preds_frame().to_csv(preds, sep=sep, decimal=",", index=False)
    labels = excel_csv(labels_frame_of(p), tmp_path / "labels.csv")
    assert_refusal(xent(preds, labels), "decimal comma", truth=p.loss())


def test_excel_semicolons_with_decimal_points(tmp_path: Path) -> None:
    p = problem(SMALL)
    preds = excel_csv(p.preds_frame(), tmp_path / "preds.csv", decimal=".")
    labels = excel_csv(labels_frame_of(p), tmp_path / "labels.csv")
    assert_number(xent(preds, labels), p.loss(), SMALL, CLASSES)


@pytest.mark.parametrize("sep", [",", ";"])
def test_excel_bom_and_crlf(tmp_path: Path, sep: str) -> None:
    """Excel's "CSV UTF-8": a byte-order mark and CRLF line ends."""
    p = problem(SMALL)
    kwargs = {"sep": sep, "index": False, "encoding": "utf-8-sig", "lineterminator": "\r\n"}
    preds, labels = tmp_path / "preds.csv", tmp_path / "labels.csv"
    p.preds_frame().to_csv(preds, **kwargs)
    labels_frame_of(p).to_csv(labels, **kwargs)
    assert preds.read_bytes().startswith(b"\xef\xbb\xbfp_cat")
    assert_number(xent(preds, labels), p.loss(), SMALL, CLASSES)


@pytest.mark.parametrize("kind", ["pickle", "pytorch"])
def test_other_binary_kinds_are_named(tmp_path: Path, kind: str) -> None:
    """A pickle (``DataFrame.to_pickle``) or a PyTorch ``torch.save`` file, whatever its
    name: an error naming the kind, never a "malformed CSV"."""
    p = problem(SMALL)
    labels = pandas_csv(labels_frame_of(p), tmp_path / "labels.csv")
    if kind == "pickle":
        preds = tmp_path / "preds.pkl"
        p.preds_frame().to_pickle(preds)
        needle = "pickle"
    else:
        torch = pytest.importorskip("torch")
        preds = tmp_path / "preds.pt"
        torch.save(torch.tensor(p.values), preds)
        needle = "PyTorch|torch"
    line = assert_refusal(xent(preds, labels), needle)
    assert "malformed CSV" not in line, line


@pytest.mark.parametrize("labels_as", ["npy", "csv"])
def test_numpy_npy(tmp_path: Path, labels_as: str) -> None:
    p = problem(SMALL)
    preds = numpy_save(p.values, tmp_path / "preds.npy")
    if labels_as == "npy":
        labels = numpy_save(p.labels, tmp_path / "labels.npy")
    else:
        labels = pandas_csv(labels_frame_of(p, as_names=False), tmp_path / "labels.csv")
    assert_number(xent(preds, labels), p.loss(), SMALL)


def test_numpy_npz_one_array(tmp_path: Path) -> None:
    p = problem(SMALL, kind="logits")
    preds = numpy_savez(tmp_path / "preds.npz", logits=p.values)
    labels = numpy_savez(tmp_path / "labels.npz", labels=p.labels)
    assert_number(xent(preds, labels), p.loss(), SMALL)


def test_numpy_npy_named_otherwise_is_recognised(tmp_path: Path) -> None:
    """An ``.npy`` under another name is NumPy by its magic bytes, not a malformed CSV."""
    p = problem(SMALL)
    preds = numpy_save(p.values, tmp_path / "preds.npy").rename(tmp_path / "preds.bin")
    labels = numpy_save(p.labels, tmp_path / "labels.npy")
    assert_number(xent(preds, labels), p.loss(), SMALL)


def test_pyarrow_small_row_groups_late(tmp_path: Path) -> None:
    p = problem(LARGE, kind="logits")
    preds = pyarrow_parquet(
        p.preds_frame(prefix="logit_"), tmp_path / "p.parquet", row_group_size=700
    )
    labels = pyarrow_parquet(labels_frame_of(p), tmp_path / "l.parquet", row_group_size=333)
    assert_number(xent(preds, labels), p.loss(), LARGE, CLASSES)
    api_number(p.loss(), LARGE, str(preds), str(labels), batch_rows=64)


def test_fastparquet_index_with_labels_inside(tmp_path: Path) -> None:
    """fastparquet's ``index`` column (listed in the pandas metadata) beside the
    predictions and the labels in one file."""
    p = problem(SMALL)
    frame = _indexed(pd.concat([p.preds_frame(), labels_frame_of(p)], axis=1), None)
    path = fastparquet_parquet(frame, tmp_path / "scored.parquet")
    assert "index" in pq.read_schema(path).names
    assert_number(xent(path), p.loss(), SMALL, CLASSES)


def test_tsv_and_csv_with_index_and_pandas_tsv_helper(tmp_path: Path) -> None:
    """A TSV with pandas' unnamed index and the labels inside."""
    p = problem(SMALL)
    frame = _indexed(pd.concat([p.preds_frame(), labels_frame_of(p)], axis=1), None)
    path = pandas_tsv(frame, tmp_path / "scored.tsv", index=True)
    assert_number(xent(path), p.loss(), SMALL, CLASSES)


def test_polars_ipc_labels_inside(tmp_path: Path) -> None:
    p = problem(SMALL)
    frame = pd.concat([p.preds_frame(), labels_frame_of(p)], axis=1)
    path = polars_ipc(frame, tmp_path / "scored.arrow")
    assert_number(xent(path), p.loss(), SMALL, CLASSES)


def test_pyarrow_feather_helper_round_trip(tmp_path: Path) -> None:
    p = problem(SMALL)
    preds = pyarrow_feather(p.preds_frame(), tmp_path / "preds.feather")
    labels = pyarrow_feather(labels_frame_of(p), tmp_path / "labels.feather")
    assert_number(xent(preds, labels), p.loss(), SMALL, CLASSES)
