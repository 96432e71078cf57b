"""The fast path: same numbers however the work is cut, and no pandas on the way.

Speed itself is measured by bench/run.py, never here; these tests check what can be
checked exactly.
"""

from __future__ import annotations

import io
import subprocess
import sys
import textwrap

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from rich.console import Console

import xentcli
from xentcli.io import csvread
from xentcli.io.arrays import from_numpy, mask, numbers, strings
from xentcli.losses import core
from xentcli.report.table import ProgressBar


def _table(rows: int, classes: int, seed: int = 0) -> pa.Table:
    rng = np.random.default_rng(seed)
    columns = {f"c{j}": rng.normal(0, 3, rows).astype(np.float32) for j in range(classes)}
    columns["label"] = rng.integers(0, classes, rows)
    return pa.table(columns)


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_score_path_loads_no_pandas(tmp_path, fmt):
    table = _table(500, 4)
    path = tmp_path / f"preds.{fmt}"
    if fmt == "parquet":
        pq.write_table(table, path)
    else:
        pacsv.write_csv(table, path)
    code = textwrap.dedent(f"""
        import sys
        from xentcli.cli import cli
        try:
            cli(["score", {str(path)!r}, "--per-sample", {str(tmp_path / "s.csv")!r},
                 "--json"], prog_name="xent")
        except SystemExit as exc:
            assert exc.code == 0, exc.code
        print("pandas" in sys.modules, "sklearn" in sys.modules, "torch" in sys.modules,
              "scipy" in sys.modules, file=sys.stderr)
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip().splitlines()[-1] == "False False False False"


@pytest.mark.parametrize("batch_rows", [1, 7, 1000, 65536])
def test_batch_size_changes_nothing(tmp_path, batch_rows):
    table = _table(3001, 5, seed=1)
    path = tmp_path / "preds.parquet"
    pq.write_table(table, path, row_group_size=700)
    reference = xentcli.score(table)
    summary = xentcli.score(str(path), batch_rows=batch_rows)
    assert summary.n_samples == 3001
    assert summary.sum_loss == pytest.approx(reference.sum_loss, rel=1e-12)
    assert summary.accuracy == reference.accuracy
    assert [c.n for c in summary.per_class] == [c.n for c in reference.per_class]


@pytest.mark.parametrize("chunk_bytes, threads", [(64, 1), (1000, 2), (4096, 3), (1 << 22, 2)])
def test_csv_chunking_and_threads_change_nothing(tmp_path, monkeypatch, chunk_bytes, threads):
    """Chunks cut anywhere (even inside quoted class names that hold newlines and
    commas) and any number of parser threads give the same figures."""
    rng = np.random.default_rng(2)
    names = ["plain", "with,comma", "with\nnewline", 'quote"d']
    probs = rng.dirichlet(np.ones(4), size=400)
    labels = rng.integers(0, 4, 400)
    table = pa.table(
        {**{n: probs[:, j] for j, n in enumerate(names)}, "label": [names[i] for i in labels]}
    )
    path = tmp_path / "preds.csv"
    pacsv.write_csv(table, path)
    reference = xentcli.score(table)
    monkeypatch.setattr(csvread, "HEAD_BYTES", chunk_bytes)
    monkeypatch.setattr(csvread, "CHUNK_BYTES", chunk_bytes)
    monkeypatch.setattr(csvread, "THREADS", threads)
    with path.open("rb") as handle:
        head = csvread._read_head(handle, b"", "preds.csv")
        pieces = list(csvread._pieces(head[csvread._header_end(head) + 1 :], handle))
    body = path.read_bytes()
    body = body[csvread._header_end(body) + 1 :]
    assert b"".join(pieces) == body
    if chunk_bytes < 1000:
        assert len(pieces) > 5  # the file really was cut into many chunks
    summary = xentcli.score(str(path))
    assert summary.classes == tuple(names)
    assert summary.n_samples == 400
    assert summary.sum_loss == pytest.approx(reference.sum_loss, rel=1e-12)
    assert [c.n for c in summary.per_class] == [c.n for c in reference.per_class]


@pytest.mark.parametrize("classes", [2, 10, 33, 200])
@pytest.mark.parametrize("block_bytes", [64, 4096, 1 << 19])
def test_kernel_blocks_and_layouts_agree(monkeypatch, classes, block_bytes):
    rng = np.random.default_rng(classes)
    z = rng.normal(0, 5, size=(1500, classes))
    y = rng.integers(0, classes, 1500)
    log_softmax = z - (
        np.max(z, axis=1, keepdims=True)
        + np.log(np.exp(z - np.max(z, axis=1, keepdims=True)).sum(axis=1, keepdims=True))
    )
    expected = -log_softmax[np.arange(1500), y]
    monkeypatch.setattr(core, "BLOCK_BYTES", block_bytes)
    for layout in (np.asfortranarray(z), np.ascontiguousarray(z)):
        got = core.multiclass_from_logits(layout, y)
        np.testing.assert_allclose(got.loss, expected, rtol=1e-12, atol=1e-15)
        np.testing.assert_array_equal(got.pred, np.argmax(z, axis=1))


def test_argmax_ties_take_the_first_class():
    z = np.asfortranarray([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0], [0.0, -1.0, 0.0]])
    assert core.multiclass_from_logits(z, [0, 0, 0]).pred.tolist() == [1, 0, 0]


@pytest.mark.parametrize(
    "kind",
    [
        pa.int8(),
        pa.int32(),
        pa.int64(),
        pa.uint16(),
        pa.float16(),
        pa.float32(),
        pa.float64(),
        pa.bool_(),
    ],
)
def test_buffer_views_match_pyarrow(kind):
    rng = np.random.default_rng(3)
    values = rng.integers(0, 2 if kind == pa.bool_() else 100, 50)
    python = [bool(v) for v in values] if kind == pa.bool_() else values.tolist()
    array = pa.array(python, type=kind)
    with_nulls = pa.array([None if i % 7 == 3 else v for i, v in enumerate(python)], type=kind)
    for arr in (array, array.slice(5, 30), with_nulls, with_nulls.slice(3, 17)):
        got = numbers(arr)
        expected = np.array([np.nan if v is None else float(v) for v in arr.to_pylist()])
        np.testing.assert_array_equal(got.astype(np.float64), expected)
    assert mask(pa.array([True, None, False])).tolist() == [True, False, False]
    assert from_numpy(np.array([1.5, -2.0])).to_pylist() == [1.5, -2.0]
    assert from_numpy(np.array([True, False, True])).to_pylist() == [True, False, True]
    assert strings(["a", "", "é,\n"]).to_pylist() == ["a", "", "é,\n"]


def test_progress_bar_waits_then_draws_then_vanishes():
    now = [0.0]
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=80, color_system=None)
    bar = ProgressBar(console, delay=0.5, clock=lambda: now[0])
    bar(1000, 0.1)
    assert out.getvalue() == ""  # a short run shows nothing
    now[0] = 1.0
    bar(50_000, 0.5)
    assert "scoring" in out.getvalue()
    assert "50,000 rows" in out.getvalue()
    assert "50%" in out.getvalue()
    bar.close()
    assert bar._progress is None


def test_progress_is_reported_for_files(tmp_path):
    # The first batch is the first 10,000 rows whatever batch_rows (SPEC "the first rows")
    table = _table(20_000, 3)
    path = tmp_path / "preds.parquet"
    pq.write_table(table, path, row_group_size=2500)
    seen: list[tuple[int, float | None]] = []
    from xentcli.run.pipeline import score

    score(str(path), progress=lambda rows, fraction: seen.append((rows, fraction)), batch_rows=2500)
    assert [rows for rows, _ in seen] == [10000, 12500, 15000, 17500, 20000]
    assert [fraction for _, fraction in seen] == [0.5, 0.625, 0.75, 0.875, 1.0]


def test_label_text_00_is_the_class_named_00_not_the_number_0(tmp_path):
    """Found by the long fuzz profile: CSV labels were parsed as integers when they
    looked like them, so the label 00 scored as class 0 (SPEC: a label that is a class
    name is that class)."""
    path = tmp_path / "preds.csv"
    path.write_text("00,0,label\n0.4000707853732506,0.5999292146267494,00\n")
    summary = xentcli.score(str(path))
    assert summary.loss == pytest.approx(-np.log(0.4000707853732506), rel=1e-15)
    assert summary.reasons["labels"] == "class names"
