"""SPEC "Inputs", the readers' part: NumPy files, named binary kinds, delimiters,
headers, datasets, Arrow types, non-UTF-8 bytes and rows named with their line.

Every file is written by the real writer (NumPy ``savetxt``/``save``/``savez``,
pandas, pyarrow, polars, DuckDB, fastparquet, PyTorch); every figure is checked
against scikit-learn's ``log_loss``; every refusal is exit 2 with one ``Error:``
line naming the file, the place and the option that settles it.
"""

from __future__ import annotations

import gzip
import json
import os
import pickle
import threading
import zipfile
from collections.abc import Sequence
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner, Result
from sklearn.metrics import log_loss

import xentcli
from xentcli.cli import cli
from xentcli.errors import InputError
from xentcli.io.source import open_source

CLASSES = ["bird", "cat", "dog"]
N = 300


def _problem(seed: int, n: int = N, k: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    probs = rng.dirichlet(np.ones(k), size=n)
    labels = rng.integers(0, k, size=n)
    labels[:k] = np.arange(k)
    return probs, labels


P, Y = _problem(1)
TRUTH = log_loss(Y, P, labels=[0, 1, 2])
NAMES = np.array(CLASSES)[Y]


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(*args: str, stdin: bytes | None = None) -> Result:
    return CliRunner().invoke(cli, ["score", *args], input=stdin, catch_exceptions=False)


def loss(result: Result) -> float:
    assert result.exit_code == 0, result.stderr
    return float(json.loads(result.stdout)["loss"])


def refused(result: Result, *texts: str) -> str:
    """Exit 2, nothing on standard output, one ``Error:`` line holding every text."""
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ") and "This is a bug" not in lines[0], lines[0]
    for text in texts:
        assert text in lines[0], (text, lines[0])
    return lines[0]


def labels_csv(path: str = "labels.csv", labels: Sequence[object] = Y) -> str:
    pd.DataFrame({"label": list(labels)}).to_csv(path, index=False)
    return path


# -- 1. NumPy .npy / .npz --------------------------------------------------------------


def test_npy_2d_is_one_column_per_class(work: Path) -> None:
    np.save("preds.npy", P)
    assert loss(run("preds.npy", labels_csv(), "--json")) == pytest.approx(TRUTH, abs=1e-12)
    source = open_source("preds.npy", "preds")
    assert source.columns == ["0", "1", "2"] and source.num_rows == N


def test_npy_recognised_by_magic_whatever_its_name_and_on_stdin(work: Path) -> None:
    np.save("preds.npy", P)
    os.rename("preds.npy", "preds.csv")  # a misleading name
    assert loss(run("preds.csv", labels_csv(), "--json")) == pytest.approx(TRUTH, abs=1e-12)
    data = Path("preds.csv").read_bytes()
    assert loss(run("-", "labels.csv", "--json", stdin=data)) == pytest.approx(TRUTH, abs=1e-12)


def test_npy_float32_and_logits(work: Path) -> None:
    logits = np.random.default_rng(5).normal(0, 3, size=(N, 3))
    np.save("logits.npy", logits.astype(np.float32))
    z = logits.astype(np.float32).astype(np.float64)
    softmax = np.exp(z - z.max(1, keepdims=True))
    softmax /= softmax.sum(1, keepdims=True)
    got = loss(run("logits.npy", labels_csv(), "--json"))
    assert got == pytest.approx(log_loss(Y, softmax, labels=[0, 1, 2]), rel=1e-9)


def test_npy_1d_binary_column_and_npy_labels_in_npz(work: Path) -> None:
    rng = np.random.default_rng(3)
    p = rng.uniform(0.05, 0.95, 400)
    y = (rng.uniform(size=400) < p).astype(np.int64)
    np.save("p.npy", p)
    assert loss(run("p.npy", labels_csv(labels=y), "--json")) == pytest.approx(
        log_loss(y, p), abs=1e-12
    )
    np.savez("both.npz", p_1=p, label=y)
    assert loss(run("both.npz", "--json")) == pytest.approx(log_loss(y, p), abs=1e-12)


def test_npz_keys_name_the_columns(work: Path) -> None:
    """Several arrays: a 2-D array is key[0]..key[K-1], a 1-D array the column ``key``;
    integer labels index the classes 0..K-1; one array alone is read like .npy."""
    np.savez("run.npz", probs=P, label=Y)
    assert loss(run("run.npz", "--json")) == pytest.approx(TRUTH, abs=1e-12)
    assert open_source("run.npz", "preds").columns == ["probs[0]", "probs[1]", "probs[2]", "label"]
    np.savez_compressed("one.npz", P)
    assert open_source("one.npz", "preds").columns == ["0", "1", "2"]
    assert loss(run("one.npz", labels_csv(), "--json")) == pytest.approx(TRUTH, abs=1e-12)


def test_npz_string_labels(work: Path) -> None:
    np.savez("named.npz", probs=P, label=NAMES)  # '<U4', no pickle
    frame = pd.DataFrame(P, columns=CLASSES)
    frame.to_csv("preds.csv", index=False)
    assert open_source("named.npz", "preds").schema.field("label").type == pa.string()
    np.save("names.npy", NAMES)
    assert loss(run("preds.csv", "names.npy", "--json")) == pytest.approx(TRUTH, abs=1e-12)


def test_npz_arrays_of_different_lengths_are_refused(work: Path) -> None:
    np.savez("bad.npz", probs=P, label=Y[:-1])
    refused(run("bad.npz"), "bad.npz", "different lengths", f"'probs': {N}", f"'label': {N - 1}")


def test_npy_object_array_is_one_line(work: Path) -> None:
    np.save("objects.npy", np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    refused(run("objects.npy", labels_csv()), "objects.npy", "allow_pickle=False")
    with zipfile.ZipFile("objects.npz", "w") as archive, archive.open("probs.npy", "w") as member:
        np.save(member, np.array(["x", 1], dtype=object), allow_pickle=True)
    refused(run("objects.npz", labels_csv()), "objects.npz", "allow_pickle=False")


def test_npy_of_three_dimensions_is_refused(work: Path) -> None:
    np.save("cube.npy", np.zeros((4, 3, 2)))
    refused(run("cube.npy", labels_csv()), "cube.npy", "3 dimensions", "(4, 3, 2)")


def test_npy_extension_without_numpy_content(work: Path) -> None:
    Path("fake.npy").write_text("p_cat,p_dog\n0.5,0.5\n")
    refused(run("fake.npy", labels_csv()), "fake.npy", "is not a NumPy file")


# -- 2. other binary kinds are named ---------------------------------------------------


def _torch_file(path: str) -> None:
    import torch

    torch.save(torch.tensor(P), path)


def _xlsx_file(path: str) -> None:
    with zipfile.ZipFile(path, "w") as archive:  # the members openpyxl writes
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", "<worksheet/>")


def _zip_file(path: str) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("preds.csv", "p_cat,p_dog\n0.5,0.5\n")


def _hdf5_file(path: str) -> None:
    Path(path).write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(504))  # HDF5's signature block


@pytest.mark.parametrize(
    "writer, name, kind",
    [
        (lambda p: pickle.dump(P, open(p, "wb")), "preds.pkl", "a Python pickle"),  # noqa: SIM115
        (lambda p: pd.DataFrame(P).to_pickle(p), "preds.csv", "a Python pickle"),
        (_torch_file, "preds.pt", "a PyTorch file"),
        (_torch_file, "preds.csv", "a PyTorch file"),
        (_xlsx_file, "preds.xlsx", "an Excel workbook"),
        (_zip_file, "preds.zip", "a zip archive holding 'preds.csv'"),
        (_hdf5_file, "preds.h5", "an HDF5 file"),
    ],
)
def test_binary_kinds_are_named_not_bad_csv(work: Path, writer, name: str, kind: str) -> None:
    writer(name)
    line = refused(run(name, labels_csv()), name, kind, "which xent does not read")
    assert "CSV" not in line.split("(")[0]
    data = Path(name).read_bytes()
    refused(run("-", "labels.csv", stdin=data), "<stdin>", kind)


# -- 3. delimiters, BOM, CRLF, decimal commas ------------------------------------------


def _frame() -> pd.DataFrame:
    return pd.DataFrame(P, columns=CLASSES).assign(label=NAMES)


@pytest.mark.parametrize("sep", [",", "\t", ";", "|"])
@pytest.mark.parametrize("name", ["preds.csv", "preds.tsv", "preds.txt", "preds.dat"])
def test_delimiter_is_sniffed_whatever_the_extension(work: Path, sep: str, name: str) -> None:
    _frame().to_csv(name, sep=sep, index=False)
    assert loss(run(name, "--json")) == pytest.approx(TRUTH, abs=1e-12)


def test_excel_semicolon_csv_with_bom_and_crlf(work: Path) -> None:
    _frame().to_csv("excel.csv", sep=";", index=False, encoding="utf-8-sig", lineterminator="\r\n")
    assert Path("excel.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert loss(run("excel.csv", "--json")) == pytest.approx(TRUTH, abs=1e-12)
    assert open_source("excel.csv", "preds").columns == [*CLASSES, "label"]


def test_decimal_comma_is_an_error_that_says_so(work: Path) -> None:
    _frame().to_csv("comma.csv", sep=";", index=False, decimal=",")
    refused(run("comma.csv"), "comma.csv row 0 (line 2), column 'bird'", "decimal comma")
    # far past the head: the first rows are fine, row 60,000 has a decimal comma
    rng = np.random.default_rng(9)
    p = rng.uniform(0.05, 0.95, 70_000)
    text = ["p_1;label"] + [f"{v!r};{int(v > 0.5)}" for v in p.tolist()]
    text[60_001] = text[60_001].replace(".", ",")
    Path("late.csv").write_text("\n".join(text) + "\n")
    refused(run("late.csv"), "late.csv row 60000 (line 60002), column 'p_1'", "decimal comma")


def test_savetxt_default_space_separated_with_header(work: Path) -> None:
    np.savetxt("p.txt", P, header=" ".join(f"p_{c}" for c in CLASSES), comments="# ")
    labels_csv(labels=NAMES)
    assert loss(run("p.txt", "labels.csv", "--json")) == pytest.approx(TRUTH, abs=1e-12)
    assert open_source("p.txt", "preds").columns == [f"p_{c}" for c in CLASSES]


def test_savetxt_padded_columns(work: Path) -> None:
    """``%10.5f``: runs of spaces, leading spaces; the truth is that of the rounded values."""
    np.savetxt("padded.txt", P, fmt="%10.5f", header="0 1 2")
    rounded = np.loadtxt("padded.txt")
    assert np.allclose(rounded.sum(1), 1, atol=1e-4)
    got = loss(run("padded.txt", labels_csv(), "--json"))
    # xent renormalises rows within --sum-tol, and says so; scikit-learn does not
    assert (
        "renormalised"
        in json.loads(run("padded.txt", "labels.csv", "--json").stdout)["warnings"][0]
    )
    renormalised = rounded / rounded.sum(1, keepdims=True)
    assert got == pytest.approx(log_loss(Y, renormalised, labels=[0, 1, 2]), abs=1e-12)


def test_compressed_text_is_sniffed_too(work: Path) -> None:
    with gzip.open("preds.tsv.gz", "wt") as handle:
        _frame().to_csv(handle, sep=";", index=False)
    assert loss(run("preds.tsv.gz", "--json")) == pytest.approx(TRUTH, abs=1e-12)


# -- 4. headers ------------------------------------------------------------------------


def test_headerless_savetxt_is_an_error_suggesting_no_header(work: Path) -> None:
    np.savetxt("p.txt", P)
    labels_csv(labels=NAMES)
    refused(run("p.txt", "labels.csv"), "p.txt line 1", "numbers only", "--no-header")
    refused(run("-", "labels.csv", stdin=Path("p.txt").read_bytes()), "<stdin>", "--no-header")


def test_no_header_reads_the_first_line_as_data(work: Path) -> None:
    np.savetxt("p.txt", P)
    np.savetxt("p.csv", P, delimiter=",")
    labels_csv()
    for name in ("p.txt", "p.csv"):
        result = run(name, "labels.csv", "--no-header", "--json")
        assert loss(result) == pytest.approx(TRUTH, abs=1e-12)
        assert json.loads(result.stdout)["n_samples"] == N  # no row lost
        assert open_source(name, "preds", no_header=True).columns == ["0", "1", "2"]
    data = Path("p.txt").read_bytes()
    result = run("-", "labels.csv", "--no-header", "--json", stdin=data)
    assert loss(result) == pytest.approx(TRUTH, abs=1e-12)
    Path("p.txt.gz").write_bytes(gzip.compress(data))
    assert loss(run("p.txt.gz", "labels.csv", "--no-header", "--json")) == pytest.approx(
        TRUTH, abs=1e-12
    )


def test_no_header_keeps_a_real_header(work: Path) -> None:
    _frame().to_csv("preds.csv", index=False)
    assert loss(run("preds.csv", "--no-header", "--json")) == pytest.approx(TRUTH, abs=1e-12)


def test_no_header_one_column_labels_are_named_0(work: Path) -> None:
    np.savetxt("y.txt", Y, fmt="%d")
    refused(run(str(Path("y.txt")), "y.txt"), "y.txt line 1", "--no-header")
    source = open_source("y.txt", "labels", no_header=True)
    assert source.columns == ["0"] and source.num_rows is None
    column = pa.Table.from_batches(list(source.batches(["0"], {}, 1000))).column("0")
    assert column.to_pylist() == Y.tolist()


def test_pandas_integer_column_names_stay_a_header(work: Path) -> None:
    """pandas writes a frame's default column names 0..K-1 as a header line of numbers
    over float rows: that line is a header, not data."""
    pd.DataFrame(P).to_csv("preds.csv", index=False)
    assert open_source("preds.csv", "preds").columns == ["0", "1", "2"]
    pd.DataFrame({"label": NAMES}).to_csv("labels.csv", index=False)
    frame = pd.DataFrame(P, columns=CLASSES)
    frame.to_csv("named.csv", index=False)
    assert loss(run("named.csv", "labels.csv", "--json")) == pytest.approx(TRUTH, abs=1e-12)


def test_integer_first_line_over_integer_rows_is_refused(work: Path) -> None:
    """``0,1`` over rows of integers could be a header or a one-hot row: stop."""
    onehot = np.eye(2, dtype=int)[np.array([1, 0, 0, 1, 1])]
    np.savetxt("y.csv", onehot, fmt="%d", delimiter=",")
    refused(run("y.csv", "y.csv"), "y.csv line 1", "numbers only", "--no-header")


# -- 5. datasets -----------------------------------------------------------------------


def _parts(folder: str, names: Sequence[str], frame: pd.DataFrame) -> None:
    os.makedirs(folder, exist_ok=True)
    for name, part in zip(names, np.array_split(np.arange(len(frame)), len(names)), strict=True):
        frame.iloc[part].to_parquet(os.path.join(folder, name), index=False)


@pytest.mark.parametrize("pattern", ["ds", "ds/*.parquet", "ds/part.*.parquet"])
def test_natural_order_of_part_names(work: Path, pattern: str) -> None:
    """Dask's naming, part.0 .. part.11: part.2 is read before part.10."""
    probs, labels = _problem(4, n=1200)
    frame = pd.DataFrame(probs, columns=CLASSES)
    _parts("ds", [f"part.{i}.parquet" for i in range(12)], frame)
    labels_csv(labels=np.array(CLASSES)[labels])
    got = loss(run(pattern, "labels.csv", "--json"))
    assert got == pytest.approx(log_loss(labels, probs, labels=[0, 1, 2]), abs=1e-12)


def test_duckdb_hive_partitions_become_columns(work: Path) -> None:
    probs, labels = _problem(6, n=3000)
    frame = pd.DataFrame(probs, columns=[f"p_{c}" for c in CLASSES]).assign(
        label=np.array(CLASSES)[labels]
    )
    con = duckdb.connect()
    con.register("frame", frame)
    con.sql("COPY (SELECT * FROM frame) TO 'hive' (FORMAT parquet, PARTITION_BY (label))")
    assert any("label=cat" in d for d in os.listdir("hive"))
    assert loss(run("hive", "--json")) == pytest.approx(
        log_loss(labels, probs, labels=[0, 1, 2]), abs=1e-12
    )
    # the partition values reach their own rows, in the files' natural order
    source = open_source("hive", "preds")
    assert source.schema.field("label").type == pa.string()
    read = pa.Table.from_batches(list(source.batches(["p_cat", "label"], {}, 500)))
    expected = pads.dataset("hive", format="parquet", partitioning="hive").to_table()
    by_value = dict(
        zip(expected.column("p_cat").to_pylist(), expected.column("label").to_pylist(), strict=True)
    )
    assert read.num_rows == 3000
    assert all(by_value[p] == lab for p, lab in zip(*read.to_pydict().values(), strict=True))


def test_pyarrow_hive_integer_partitions_and_natural_order(work: Path) -> None:
    probs, labels = _problem(8, n=2000)
    table = pa.table({f"p_{c}": probs[:, j] for j, c in enumerate(CLASSES)}).append_column(
        "label", pa.array(labels)
    )
    table = table.append_column("fold", pa.array(np.arange(2000) % 12))
    pads.write_dataset(
        table, "folds", format="parquet", partitioning=["fold"], partitioning_flavor="hive"
    )
    source = open_source("folds", "preds")
    assert source.schema.field("fold").type == pa.int32()  # as pyarrow infers it
    files = [f for f in os.listdir("folds")]
    assert "fold=10" in files and "fold=2" in files
    # the rows come fold=0, 1, 2, ..., 11 (natural), and each carries its own fold
    read = pa.Table.from_batches(list(source.batches(["fold", "label"], {}, 1000)))
    folds = read.column("fold").to_pylist()
    assert folds == sorted(folds) and set(folds) == set(range(12))
    order = np.argsort(np.arange(2000) % 12, kind="stable")
    assert read.column("label").to_pylist() == labels[order].tolist()
    expected = log_loss(labels, probs, labels=[0, 1, 2])
    got = loss(run("folds", "--json", "--pred-cols", "p_*"))
    assert got == pytest.approx(expected, abs=1e-12)


# -- 6. Arrow types --------------------------------------------------------------------


def test_polars_categorical_labels_in_arrow_ipc(work: Path) -> None:
    frame = pl.DataFrame(
        {**{f"p_{c}": P[:, j] for j, c in enumerate(CLASSES)}, "label": NAMES.tolist()}
    ).with_columns(pl.col("label").cast(pl.Categorical))
    frame.write_ipc("cat.arrow")
    stored = ipc.open_file("cat.arrow").schema.field("label").type
    assert pa.types.is_dictionary(stored)
    assert loss(run("cat.arrow", "--json")) == pytest.approx(TRUTH, abs=1e-12)
    frame.write_parquet("cat.parquet")
    assert loss(run("cat.parquet", "--json")) == pytest.approx(TRUTH, abs=1e-12)


@pytest.mark.parametrize(
    "kind",
    [
        pa.large_string(),
        pa.string_view(),
        pa.dictionary(pa.int8(), pa.string()),
        pa.dictionary(pa.uint32(), pa.string_view()),
        pa.dictionary(pa.int64(), pa.large_string()),
    ],
    ids=str,
)
def test_every_string_type_is_text(work: Path, kind: pa.DataType) -> None:
    labels = pa.array(NAMES.tolist())
    labels = labels.dictionary_encode().cast(kind) if pa.types.is_dictionary(kind) else labels
    if not pa.types.is_dictionary(kind):
        labels = labels.cast(kind)
    table = pa.table({f"p_{c}": P[:, j] for j, c in enumerate(CLASSES)}).append_column(
        "label", labels
    )
    with ipc.new_file("t.arrow", table.schema) as writer:
        writer.write_table(table)
    assert open_source("t.arrow", "preds").schema.field("label").type == pa.string()
    assert loss(run("t.arrow", "--json")) == pytest.approx(TRUTH, abs=1e-12)
    got = xentcli.score(table)
    assert got.loss == pytest.approx(TRUTH, abs=1e-12)


def test_duckdb_decimal_columns_are_numbers(work: Path) -> None:
    rounded = np.round(P, 4)
    rounded[:, 2] = 1 - rounded[:, 0] - rounded[:, 1]
    frame = pd.DataFrame(rounded, columns=[f"p_{c}" for c in CLASSES]).assign(label=NAMES)
    con = duckdb.connect()
    con.register("frame", frame)
    casts = ", ".join(f"p_{c}::DECIMAL(10, 4) AS p_{c}" for c in CLASSES)
    con.sql(f"COPY (SELECT {casts}, label FROM frame) TO 'dec.parquet' (FORMAT parquet)")
    assert pa.types.is_decimal(pq.read_schema("dec.parquet").field("p_cat").type)
    assert open_source("dec.parquet", "preds").schema.field("p_cat").type == pa.float64()
    expected = log_loss(Y, rounded, labels=[0, 1, 2])
    assert loss(run("dec.parquet", "--json")) == pytest.approx(expected, abs=1e-12)


def test_pyarrow_decimal256_float16_and_unsigned_labels(work: Path) -> None:
    from decimal import Decimal

    halves = P.astype(np.float16)
    table = pa.table(
        {
            "p_0": pa.array(halves[:, 0]),
            "p_1": pa.array([Decimal(f"{v:.6f}") for v in halves[:, 1]], pa.decimal256(40, 6)),
            "p_2": pa.array(halves[:, 2]),
            "label": pa.array(Y.astype(np.uint8)),
        }
    )
    pq.write_table(table, "mixed.parquet")
    source = open_source("mixed.parquet", "preds")
    kinds = [f.type for f in source.schema]
    assert kinds == [pa.float16(), pa.float64(), pa.float16(), pa.uint8()]
    values = np.column_stack([halves[:, 0], halves[:, 1], halves[:, 2]]).astype(np.float64)
    expected = -np.mean(np.log(values[np.arange(N), Y]))  # rows sum to 1 within 1e-3
    assert np.allclose(values.sum(1), 1, atol=1e-3)
    assert loss(run("mixed.parquet", "--json")) == pytest.approx(expected, rel=1e-6)


def test_fastparquet_file_reads(work: Path) -> None:
    frame = pd.DataFrame(P, columns=CLASSES).assign(label=NAMES)
    frame.to_parquet("fp.parquet", engine="fastparquet", index=False)
    assert loss(run("fp.parquet", "--json")) == pytest.approx(TRUTH, abs=1e-12)


# -- 7. non-UTF-8 bytes ----------------------------------------------------------------


def _text_rows(n: int) -> list[bytes]:
    rng = np.random.default_rng(12)
    p = rng.dirichlet([1, 1], size=n)
    lines = [b"p_cat,p_dog,label"]
    lines += [f"{a!r},{b!r},{'cat' if a > b else 'dog'}".encode() for a, b in p.tolist()]
    return lines


@pytest.mark.parametrize("row", [26, 35_000])
def test_non_utf8_byte_in_a_numeric_cell_is_an_error(work: Path, row: int) -> None:
    lines = _text_rows(40_000)
    lines[row + 1] = lines[row + 1].replace(b",", b"\xff,", 1)
    Path("bad.csv").write_bytes(b"\n".join(lines) + b"\n")
    refused(run("bad.csv"), f"bad.csv row {row} (line {row + 2}), column 'p_cat'", "not UTF-8")
    data = Path("bad.csv").read_bytes()
    refused(run("-", stdin=data), f"<stdin> row {row} (line {row + 2})", "not UTF-8")


def test_latin1_label_is_an_error_naming_its_line(work: Path) -> None:
    lines = _text_rows(100)
    lines[8] = lines[8].replace(b"cat", b"ch\xe2t").replace(b"dog", b"ch\xe2t")
    Path("latin.csv").write_bytes(b"\r\n".join(lines) + b"\r\n")
    refused(run("latin.csv"), "latin.csv row 7 (line 9), column 'label'", "not UTF-8")


# -- 8. rows named with their line -----------------------------------------------------


def test_line_counts_the_header_bom_and_comment_header(work: Path) -> None:
    rows = [[0.2, 0.8], [0.6, 0.4]] * 20
    rows[26] = [0.2, float("nan")]
    text = "\n".join(f"{a} {b}" for a, b in rows) + "\n"
    labels_csv(labels=[1, 0] * 20)
    Path("plain.txt").write_text("p_0 p_1\n" + text)
    refused(run("plain.txt", "labels.csv"), "plain.txt row 26 (line 28), column 'p_1'")
    Path("commented.txt").write_text("# p_0 p_1\n" + text)
    refused(run("commented.txt", "labels.csv"), "commented.txt row 26 (line 28)")
    Path("bare.txt").write_text(text)
    refused(run("bare.txt", "labels.csv", "--no-header"), "bare.txt row 26 (line 27), column '1'")
    Path("bom.csv").write_bytes(b"\xef\xbb\xbfp_0,p_1\r\n" + text.replace(" ", ",").encode())
    refused(run("bom.csv", "labels.csv"), "bom.csv row 26 (line 28)")


def test_line_counts_quoted_cells_that_hold_line_ends(work: Path) -> None:
    frame = pd.DataFrame({"p_cat": [0.3] * 50, "note": ["x"] * 50, "label": ["cat"] * 50})
    frame["p_dog"] = 0.7
    frame.loc[3, "note"] = "two\nlines"
    frame.loc[10, "note"] = "three\nlines\nhere"
    frame.loc[40, "p_dog"] = float("nan")
    frame.to_csv("quoted.csv", index=False)
    refused(
        run("quoted.csv", "--pred-cols", "p_cat,p_dog"),
        "quoted.csv row 40 (line 45), column 'p_dog'",  # header, rows, 1 + 2 extra lines
        "NaN",
    )


def test_far_rows_name_their_line(work: Path) -> None:
    lines = _text_rows(70_000)
    lines.insert(500, b"")  # a blank line, which pyarrow skips
    cells = lines[65_002].split(b",")  # data row 65,000, after the header and the blank
    lines[65_002] = b",".join([cells[0], b"oops", cells[2]])
    Path("far.csv").write_bytes(b"\n".join(lines) + b"\n")
    refused(run("far.csv"), "far.csv row 65000 (line 65003), column 'p_dog'", "'oops'")


def test_input_error_carries_its_line() -> None:
    error = InputError("bad", file="a.csv", row=26, line=28, column="p")
    assert str(error) == "a.csv row 26 (line 28), column 'p': bad"
    assert error.line == 28


# -- standard input and FIFOs ----------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs")
@pytest.mark.parametrize("writer", ["npy", "npz", "savetxt"])
def test_fifo_is_recognised_by_content(work: Path, writer: str) -> None:
    if writer == "npy":
        with open("data.bin", "wb") as handle:
            np.save(handle, P)
    elif writer == "npz":
        with open("data.bin", "wb") as handle:
            np.savez(handle, P)
    else:
        np.savetxt("data.bin", P, header="p_0 p_1 p_2")
    data = Path("data.bin").read_bytes()
    os.mkfifo("fifo")

    def feed() -> None:
        with open("fifo", "wb") as handle:
            handle.write(data)

    thread = threading.Thread(target=feed)
    thread.start()
    try:
        result = run("fifo", labels_csv(), "--json")
    finally:
        thread.join()
    assert loss(result) == pytest.approx(TRUTH, abs=1e-12)


@pytest.mark.parametrize("writer", ["pandas", "polars"])
def test_pandas_and_polars_partitioned_writes(work: Path, writer: str) -> None:
    probs, labels = _problem(10, n=900)
    columns = {f"p_{c}": probs[:, j] for j, c in enumerate(CLASSES)}
    names = np.array(CLASSES)[labels]
    if writer == "pandas":
        pd.DataFrame({**columns, "label": names}).to_parquet("parts", partition_cols=["label"])
    else:
        pl.DataFrame({**columns, "label": names.tolist()}).write_parquet(
            "parts", partition_by=["label"]
        )
    assert sorted(os.listdir("parts")) == [f"label={c}" for c in CLASSES]
    expected = log_loss(labels, probs, labels=[0, 1, 2])
    assert loss(run("parts", "--json")) == pytest.approx(expected, abs=1e-12)


def test_a_file_column_that_contradicts_its_directory_is_refused(work: Path) -> None:
    os.makedirs("parts/label=cat")
    os.makedirs("parts/label=dog")
    pq.write_table(pa.table({"p_1": [0.2, 0.3], "label": ["cat", "cat"]}), "parts/label=cat/0.pq")
    pq.write_table(pa.table({"p_1": [0.6, 0.7], "label": ["dog", "cat"]}), "parts/label=dog/0.pq")
    refused(
        run("parts", "--positive", "dog"),
        "label=dog/0.pq row 1, column 'label'",
        "holds 'cat', but the file's directory says label=dog",
    )


def test_xz_is_named_not_parsed(tmp_path) -> None:
    """An ``.xz`` file (``to_csv("x.csv.xz")``) is named as xz, never a "malformed CSV"."""
    pd.DataFrame({"p_cat": [0.2, 0.7], "p_dog": [0.8, 0.3], "label": ["dog", "cat"]}).to_csv(
        tmp_path / "c.csv.xz", index=False
    )
    result = CliRunner().invoke(cli, ["score", str(tmp_path / "c.csv.xz")], prog_name="xent")
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "is xz-compressed" in lines[0] and ".gz" in lines[0]
