"""Every input SPEC "Inputs" lists gives the report the same data gives as CSV.

The same small data sets (multiclass probabilities, logits, class-name labels, and a
binary case; float64) are written in each format, compression and layout: CSV, TSV,
Parquet, Arrow IPC file and stream, Feather, JSON Lines; gzip, bz2 and zstd; a directory
and a glob of Parquet parts; a list column holding the vector. ``xent score --json``
must give exactly the CSV's report (every key but ``inputs``, the loss to the bit),
from the file, from standard input, from a FIFO, and under a misleading name where the
content decides. Bad inputs are one ``Error:`` line that names the file, and the row and
column where there is one.
"""

from __future__ import annotations

import bz2
import gzip
import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner, Result

from xentcli.cli import cli
from xentcli.errors import InputError
from xentcli.io.source import open_source

N = 50
CLASSES = ["cat", "dog", "bird", "fish"]
COLUMNS = [f"p_{c}" for c in CLASSES]
LOGIT_COLUMNS = [f"logit_{c}" for c in CLASSES]  # a p_ column holds probabilities (SPEC)

# -- the data --------------------------------------------------------------------------


def _datasets() -> dict[str, pa.Table]:
    rng = np.random.default_rng(20261123)
    labels = rng.integers(0, 4, size=N)
    labels[:4] = [0, 1, 2, 3]  # every class present
    probs = rng.dirichlet(np.ones(4), size=N)
    logits = rng.normal(0.0, 3.0, size=(N, 4))
    binary = rng.uniform(0.01, 0.99, size=N)

    def table(block: np.ndarray, label: Any, names: list[str] = COLUMNS) -> pa.Table:
        columns = {name: block[:, j] for j, name in enumerate(names)}
        return pa.table({**columns, "label": label})

    return {
        "probs": table(probs, labels),
        "logits": table(logits, labels, LOGIT_COLUMNS),
        "names": table(probs, [CLASSES[i] for i in labels]),
        "binary": pa.table(
            {"p_1": binary, "label": (binary + rng.uniform(-0.5, 0.5, N) > 0.5).astype(np.int64)}
        ),
    }


DATA = _datasets()


def columns_of(dataset: str) -> list[str]:
    """The prediction columns of a data set, named for what they hold."""
    return LOGIT_COLUMNS if dataset == "logits" else COLUMNS


def text_table(table: pa.Table, delimiter: str) -> bytes:
    """CSV or TSV, floats written by ``repr``: they read back to the bit."""
    lines = [delimiter.join(table.column_names)]
    for row in table.to_pylist():
        lines.append(
            delimiter.join(repr(v) if isinstance(v, float) else str(v) for v in row.values())
        )
    return ("\n".join(lines) + "\n").encode()


def jsonl(table: pa.Table) -> bytes:
    rows = table.to_pylist()
    return "".join(json.dumps(row) + "\n" for row in rows).encode()


def write_parquet(table: pa.Table, path: Path) -> None:
    pq.write_table(table, path, row_group_size=20)  # several row groups


def write_arrow_file(table: pa.Table, path: Path) -> None:
    with ipc.new_file(path, table.schema) as writer:
        writer.write_table(table, max_chunksize=16)  # several record batches


def write_arrow_stream(table: pa.Table, path: Path) -> None:
    with ipc.new_stream(path, table.schema) as writer:
        writer.write_table(table, max_chunksize=16)


def write_feather(table: pa.Table, path: Path) -> None:
    feather.write_feather(table, path)  # Feather v2, lz4-compressed buffers


WRITERS: dict[str, Callable[[pa.Table, Path], object]] = {
    "csv": lambda t, p: p.write_bytes(text_table(t, ",")),
    "tsv": lambda t, p: p.write_bytes(text_table(t, "\t")),
    "parquet": write_parquet,
    "arrow": write_arrow_file,
    "arrows": write_arrow_stream,
    "feather": write_feather,
    "ipc": write_arrow_file,
    "jsonl": lambda t, p: p.write_bytes(jsonl(t)),
    "ndjson": lambda t, p: p.write_bytes(jsonl(t)),
    "json": lambda t, p: p.write_bytes(jsonl(t)),
}


def compress(data: bytes, compression: str) -> bytes:
    if compression == "gz":
        return gzip.compress(data)
    if compression == "bz2":
        return bz2.compress(data)
    sink = pa.BufferOutputStream()
    with pa.CompressedOutputStream(sink, "zstd") as out:
        out.write(data)
    return sink.getvalue().to_pybytes()


def write(table: pa.Table, path: Path) -> Path:
    """``table`` written as the format (and compression) that ``path``'s name says."""
    name = path.name
    compression = name.rsplit(".", 1)[1] if name.endswith((".gz", ".bz2", ".zst")) else None
    plain = path.with_name(name.rsplit(".", 1)[0]) if compression else path
    WRITERS[plain.suffix[1:]](table, plain)
    if compression:
        path.write_bytes(compress(plain.read_bytes(), compression))
        plain.unlink()
    return path


# -- running xent ----------------------------------------------------------------------


def xent(*args: str, input: bytes | None = None) -> Result:
    return CliRunner().invoke(
        cli, list(args), input=input, prog_name="xent", catch_exceptions=False
    )


def report(*args: str, input: bytes | None = None) -> dict[str, Any]:
    result = xent("score", *args, "--json", input=input)
    assert result.exit_code == 0, result.stderr
    assert "Error" not in result.stderr
    return json.loads(result.stdout)


def figures(data: dict[str, Any]) -> dict[str, Any]:
    """The report without the input names: what must not depend on the format, every
    figure compared to the bit."""
    return {k: v for k, v in data.items() if k != "inputs"}


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def csv_reference(dataset: str, folder: Path) -> dict[str, Any]:
    path = write(DATA[dataset], folder / f"reference-{dataset}.csv")
    data = report(str(path.name))
    assert data["n_samples"] == N
    return figures(data)


def test_reference_is_the_data(folder: Path) -> None:
    """The CSV reference is exact: the file holds the float64 values to the bit, and
    its report is the loss computed here."""
    probs = DATA["probs"]
    ref = csv_reference("probs", folder)
    block = np.column_stack([probs.column(c).to_numpy() for c in COLUMNS])
    labels = probs.column("label").to_numpy()
    losses = -np.log(block[np.arange(N), labels] / block.sum(axis=1))
    assert ref["loss"] == pytest.approx(float(losses.mean()), rel=1e-15, abs=0)
    assert (ref["task"], ref["input"], ref["classes"]) == ("multiclass", "probs", CLASSES)
    logits = csv_reference("logits", folder)
    assert (logits["input"], logits["n_classes"]) == ("logits", 4)
    binary = csv_reference("binary", folder)
    assert (binary["task"], binary["n_samples"]) == ("binary", N)


def test_per_class_figures_do_not_depend_on_batches() -> None:
    import xentcli

    table = DATA["logits"]
    whole = xentcli.score(table).per_class
    for rows in (16, 7):
        batched = pa.Table.from_batches(table.to_batches(max_chunksize=rows))
        assert xentcli.score(batched).per_class == whole


# -- every format, every compression ---------------------------------------------------

FORMATS = ["tsv", "parquet", "arrow", "arrows", "feather", "ipc", "jsonl", "ndjson", "json"]


@pytest.mark.parametrize("dataset", sorted(DATA))
@pytest.mark.parametrize("extension", FORMATS)
def test_format_gives_the_csv_report(dataset: str, extension: str, folder: Path) -> None:
    expected = csv_reference(dataset, folder)
    path = write(DATA[dataset], folder / f"preds.{extension}")
    data = report(path.name)
    assert figures(data) == expected
    assert data["inputs"]["preds"] == path.name


@pytest.mark.parametrize("dataset", ["probs", "binary", "names"])
@pytest.mark.parametrize("compression", ["gz", "bz2", "zst"])
@pytest.mark.parametrize("extension", ["csv", "tsv", "jsonl"])
def test_compressed_gives_the_csv_report(
    dataset: str, compression: str, extension: str, folder: Path
) -> None:
    expected = csv_reference(dataset, folder)
    path = write(DATA[dataset], folder / f"preds.{extension}.{compression}")
    assert path.read_bytes()[:2] != b"p_"  # really compressed
    assert figures(report(path.name)) == expected


def test_labels_file_in_another_format(folder: Path) -> None:
    """PREDS and LABELS may each be any format."""
    table = DATA["names"]
    write(table.select(COLUMNS), folder / "preds.csv")
    write(table.select(["label"]), folder / "labels.csv")
    expected = figures(report("preds.csv", "labels.csv"))
    write(table.select(COLUMNS), folder / "preds.arrows")
    write(table.select(["label"]), folder / "labels.jsonl.gz")
    assert figures(report("preds.arrows", "labels.jsonl.gz")) == expected
    write(table.select(["label"]), folder / "labels.parquet")
    assert figures(report("preds.arrows", "labels.parquet")) == expected


# -- standard input, FIFOs, names that mislead -----------------------------------------

STDIN_FILES = [
    "csv",
    "tsv",
    "parquet",
    "arrow",
    "arrows",
    "feather",
    "jsonl",
    "csv.gz",
    "tsv.bz2",
    "jsonl.zst",
    "parquet.gz",
]


@pytest.mark.parametrize("dataset", ["probs", "binary"])
@pytest.mark.parametrize("extension", STDIN_FILES)
def test_stdin_gives_the_file_report(dataset: str, extension: str, folder: Path) -> None:
    path = write(DATA[dataset], folder / f"preds.{extension}")
    from_file = report(path.name)
    from_stdin = report("-", input=path.read_bytes())
    assert figures(from_stdin) == figures(from_file) == csv_reference(dataset, folder)
    assert from_stdin["inputs"]["preds"] == "<stdin>"


@pytest.mark.parametrize("extension", ["arrows", "jsonl", "parquet", "csv.gz"])
def test_a_real_pipe(extension: str, folder: Path) -> None:
    """Standard input as a pipe from another process, in a real ``xent`` process."""
    path = write(DATA["logits"], folder / f"preds.{extension}")
    with open(path, "rb") as handle:
        proc = subprocess.run(
            [sys.executable, "-m", "xentcli", "score", "-", "--json"],
            stdin=handle,
            capture_output=True,
            timeout=120,
            check=False,
        )
    # integer labels meet columns cat, dog, bird, fish (not sorted): SPEC's warning
    assert proc.returncode == 0
    assert proc.stderr.startswith(b"Warning: integer labels index the prediction columns")
    assert len(proc.stderr.splitlines()) == 1
    assert figures(json.loads(proc.stdout)) == csv_reference("logits", folder)


@pytest.mark.parametrize("extension", ["arrows", "arrow", "parquet", "jsonl", "tsv", "csv.zst"])
def test_fifo_is_read_by_content(extension: str, folder: Path) -> None:
    """A FIFO (as ``<(...)`` gives) has no extension: its content tells the format."""
    path = write(DATA["probs"], folder / f"data.{extension}")
    fifo = folder / "fifo"
    os.mkfifo(fifo)

    def feed() -> None:
        with open(fifo, "wb") as out:
            out.write(path.read_bytes())

    writer = threading.Thread(target=feed)
    writer.start()
    try:
        data = report(str(fifo))
    finally:
        writer.join(timeout=30)
    assert figures(data) == csv_reference("probs", folder)


MISLEADING = [
    ("parquet", "preds.csv"),  # magic bytes beat the extension
    ("arrow", "preds.parquet"),
    ("arrows", "preds.csv"),
    ("feather", "preds.jsonl"),
    ("jsonl", "preds"),  # no extension: content
    ("jsonl", "preds.txt"),
    ("tsv", "preds.dat"),  # CSV with the delimiter sniffed
    ("csv.gz", "preds.csv"),  # compressed content under a plain name
    ("jsonl.bz2", "preds.data"),
    ("parquet.zst", "preds.bin"),
]


@pytest.mark.parametrize(("real", "name"), MISLEADING, ids=lambda v: str(v))
def test_content_decides_where_spec_says(real: str, name: str, folder: Path) -> None:
    written = write(DATA["names"], folder / f"real.{real}")
    written.rename(folder / name)
    assert figures(report(name)) == csv_reference("names", folder)


def test_format_option_overrides_the_name(folder: Path) -> None:
    """``--preds-format``: JSON Lines named .csv; without the option it is read as CSV."""
    (folder / "preds.csv").write_bytes(jsonl(DATA["probs"]))
    expected = csv_reference("probs", folder)
    assert figures(report("preds.csv", "--preds-format", "jsonl")) == expected
    source = open_source("preds.csv", "preds", "jsonl")
    assert (source.format, source.columns) == ("jsonl", DATA["probs"].column_names)
    assert open_source("preds.csv", "preds").format == "csv"


def test_unknown_format_is_an_input_error() -> None:
    with pytest.raises(InputError, match="unknown format 'yaml'"):
        open_source("preds.csv", "preds", "yaml")


def read_all(path: str) -> pa.Table:
    source = open_source(path, "preds")
    return pa.Table.from_batches(list(source.batches(source.columns, {}, 7)))


@pytest.mark.parametrize("extension", ["csv", "parquet", "arrow", "arrows", "feather", "jsonl"])
def test_source_reads_the_values_exactly(extension: str, folder: Path) -> None:
    """The batches hold the written values, in order, however the batches fall."""
    table = DATA["logits"]
    path = write(table, folder / f"preds.{extension}")
    got = read_all(path.name)
    for name in LOGIT_COLUMNS:
        assert got.column(name).to_pylist() == table.column(name).to_pylist()
    assert [int(v) for v in got.column("label").to_pylist()] == table.column("label").to_pylist()


def test_row_counts_are_known_where_the_format_has_them(folder: Path) -> None:
    for extension, rows in [("parquet", N), ("arrow", N), ("feather", N), ("csv", None)]:
        write(DATA["probs"], folder / f"preds.{extension}")
        assert open_source(f"preds.{extension}", "preds").num_rows == rows


# -- a directory or glob of Parquet files ----------------------------------------------

PARTS = [(0, 7), (7, 30), (30, 31), (31, 50)]  # one part with a single row


def write_parts(table: pa.Table, folder: Path) -> list[Path]:
    """Parts whose sorted order is the row order, written in another order, with the
    files writers leave beside them."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, (start, stop) in reversed(list(enumerate(PARTS))):
        path = folder / f"part-{i:03d}.parquet"
        pq.write_table(table.slice(start, stop - start), path)
        paths.append(path)
    (folder / "_SUCCESS").write_bytes(b"")
    (folder / ".part-000.parquet.crc").write_bytes(b"crc")
    return sorted(paths)


@pytest.mark.parametrize("dataset", ["probs", "names", "binary"])
@pytest.mark.parametrize(
    "given", ["parts", "parts/", "parts/part-*.parquet", "parts/*", "parts/**/*.parquet"]
)
def test_directory_or_glob_is_one_dataset(dataset: str, given: str, folder: Path) -> None:
    write_parts(DATA[dataset], folder / "parts")
    data = report(given)
    assert figures(data) == csv_reference(dataset, folder)
    assert data["inputs"]["preds"] == given


def test_parts_are_read_in_sorted_path_order(folder: Path) -> None:
    table = DATA["logits"]
    write_parts(table, folder / "parts")
    (folder / "parts" / "nested").mkdir()
    pq.write_table(table.slice(0, 3), folder / "parts" / "nested" / "zz.parquet")
    expected = pa.concat_tables([table.slice(0, 3), table])  # parts/nested/ < parts/part-
    source = open_source("parts", "preds")
    assert source.num_rows == N + 3  # from the files' metadata, before reading
    got = read_all("parts")
    assert got.to_pylist() == expected.to_pylist()
    only_top = read_all("parts/part-*.parquet")
    assert only_top.to_pylist() == table.to_pylist()


def test_parts_in_another_column_order_are_one_dataset(folder: Path) -> None:
    table = DATA["probs"]
    (folder / "parts").mkdir()
    pq.write_table(table.slice(0, 20), folder / "parts" / "a.parquet")
    pq.write_table(table.slice(20).select(["label", *reversed(COLUMNS)]), folder / "parts/b.pq")
    assert figures(report("parts")) == csv_reference("probs", folder)


def test_existing_path_wins_over_the_glob(folder: Path) -> None:
    """A file literally named like a pattern is that file, not a glob."""
    write(DATA["probs"], folder / "part-[1].csv")
    write(DATA["logits"], folder / "part-1.csv")
    assert figures(report("part-[1].csv")) == csv_reference("probs", folder)


# -- a list column holding the vector --------------------------------------------------

LIST_NAMES = [f"probs[{j}]" for j in range(4)]


def list_name(dataset: str) -> str:
    """The list column's name: ``logits`` for logits, ``probs`` for probabilities."""
    return "logits" if dataset == "logits" else "probs"


def list_names(dataset: str) -> list[str]:
    return [f"{list_name(dataset)}[{j}]" for j in range(4)]


def list_table(dataset: str, kind: pa.DataType) -> pa.Table:
    table = DATA[dataset]
    block = np.column_stack([table.column(c).to_numpy() for c in columns_of(dataset)])
    values = pa.array(block.ravel())
    vectors = pa.FixedSizeListArray.from_arrays(values, 4).cast(kind)
    return pa.table({list_name(dataset): vectors, "label": table.column("label")})


def element_table(dataset: str) -> pa.Table:
    """The same data with a column per element, named as the list's elements appear."""
    table = DATA[dataset]
    pairs = zip(list_names(dataset), columns_of(dataset), strict=True)
    columns = {new: table.column(old) for new, old in pairs}
    return pa.table({**columns, "label": table.column("label")})


LIST_KINDS = {
    "list": pa.list_(pa.float64()),
    "large_list": pa.large_list(pa.float64()),
    "fixed_size_list": pa.list_(pa.float64(), 4),
}


@pytest.mark.parametrize("dataset", ["probs", "logits"])
@pytest.mark.parametrize("kind", sorted(LIST_KINDS))
@pytest.mark.parametrize("extension", ["parquet", "arrow", "arrows", "feather"])
def test_list_column_is_one_column_per_class(
    dataset: str, kind: str, extension: str, folder: Path
) -> None:
    write(element_table(dataset), folder / "elements.csv")
    expected = figures(report("elements.csv"))
    path = write(list_table(dataset, LIST_KINDS[kind]), folder / f"preds.{extension}")
    assert open_source(path.name, "preds").columns == [*list_names(dataset), "label"]
    assert figures(report(path.name)) == expected


def test_list_column_from_json_lines_and_stdin(folder: Path) -> None:
    write(element_table("logits"), folder / "elements.csv")
    expected = figures(report("elements.csv"))
    path = write(list_table("logits", LIST_KINDS["list"]), folder / "preds.jsonl")
    assert b'"logits": [' in path.read_bytes()
    assert figures(report(path.name)) == expected
    assert figures(report("-", input=path.read_bytes())) == expected
    parquet = write(list_table("logits", LIST_KINDS["list"]), folder / "preds.parquet")
    assert figures(report("-", input=parquet.read_bytes())) == expected


def test_list_column_in_parts_and_across_batches(folder: Path) -> None:
    write(element_table("probs"), folder / "elements.csv")
    expected = figures(report("elements.csv"))
    write_parts(list_table("probs", LIST_KINDS["list"]), folder / "parts")
    assert figures(report("parts")) == expected
    got = read_all("parts")  # batches of 7 rows: sliced lists
    assert (
        got.select(LIST_NAMES).to_pylist() == element_table("probs").select(LIST_NAMES).to_pylist()
    )


def test_float32_list_keeps_its_float_type(folder: Path) -> None:
    """``--eps auto`` follows the input's float type, whether columns or a list."""
    table = list_table("probs", pa.list_(pa.float32()))
    write(table, folder / "list.parquet")
    elements = element_table("probs")
    elements = elements.cast(
        pa.schema([pa.field(n, pa.float32()) for n in LIST_NAMES] + [pa.field("label", pa.int64())])
    )
    pq.write_table(elements, folder / "columns.parquet")
    source = open_source("list.parquet", "preds")
    assert {source.schema.field(n).type for n in LIST_NAMES} == {pa.float32()}
    from_list = figures(report("list.parquet"))
    assert from_list == figures(report("columns.parquet"))
    assert from_list["eps"] == float(np.finfo(np.float32).eps)


def test_pred_cols_names_list_elements(folder: Path) -> None:
    """The elements' names are what ``--pred-cols`` matches (``?`` stands for a bracket)."""
    write(list_table("probs", LIST_KINDS["list"]), folder / "preds.parquet")
    write(element_table("probs"), folder / "elements.csv")
    chosen = "probs?3?,probs?[0-2]?"
    from_list = report("preds.parquet", "--pred-cols", chosen)
    from_columns = report("elements.csv", "--pred-cols", chosen)
    assert figures(from_list) == figures(from_columns)
    assert from_list["classes"] == ["3", "0", "1", "2"]
    assert from_list["reasons"]["columns"] != report("preds.parquet")["reasons"]["columns"]


def test_pred_cols_takes_a_list_element_by_its_name(folder: Path) -> None:
    """``probs[0]`` names a column; it is not read as a glob pattern."""
    write(list_table("probs", LIST_KINDS["list"]), folder / "preds.parquet")
    chosen = ",".join(reversed(LIST_NAMES))
    data = report("preds.parquet", "--pred-cols", chosen)
    assert data["reasons"]["columns"] == f"--pred-cols {', '.join(reversed(LIST_NAMES))}"
    assert data["classes"] == [name[len("probs[") : -1] for name in reversed(LIST_NAMES)]


def test_list_of_text_is_not_expanded(folder: Path) -> None:
    table = DATA["probs"].append_column("tags", pa.array([["a", "b"]] * N))
    pq.write_table(table, folder / "preds.parquet")
    source = open_source("preds.parquet", "preds")
    assert source.columns == table.column_names
    data, expected = figures(report("preds.parquet")), csv_reference("probs", folder)
    assert "not 'tags' (not numeric: list<element: string>)" in data["reasons"].pop("columns")
    expected["reasons"].pop("columns")
    assert data == expected


# -- bad inputs: one Error line naming the file, row and column ------------------------


def assert_one_error(result: Result, *expected: str) -> str:
    shown = f"exit {result.exit_code}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    assert result.exit_code == 2, shown
    assert result.stdout == "", shown
    assert "Traceback" not in result.output, shown
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), shown
    assert "unexpected" not in lines[0], shown
    for text in expected:
        assert text in lines[0], f"{text!r} not in the error line\n{shown}"
    return lines[0]


def fails(*args: str, input: bytes | None = None) -> Result:
    return CliRunner().invoke(cli, ["score", *args, "--json"], input=input, prog_name="xent")


def big_csv(rows: int) -> bytes:
    rng = np.random.default_rng(5)
    block = rng.dirichlet(np.ones(4), size=rows)
    table = pa.table(
        {**{c: block[:, j] for j, c in enumerate(COLUMNS)}, "label": rng.integers(0, 4, rows)}
    )
    return text_table(table, ",")


def test_corrupt_gzip(folder: Path) -> None:
    (folder / "preds.csv.gz").write_bytes(b"\x1f\x8b\x08\x00" + bytes(range(256)) * 4)
    assert_one_error(fails("preds.csv.gz"), "Error: preds.csv.gz: cannot read")


def test_not_gzip_at_all(folder: Path) -> None:
    (folder / "preds.jsonl.gz").write_bytes(jsonl(DATA["probs"]))
    assert_one_error(fails("preds.jsonl.gz"), "Error: preds.jsonl.gz: cannot read")


def test_gzip_cut_short_after_the_first_megabytes(folder: Path) -> None:
    """The damage lies past what is read to start: the error comes mid-stream."""
    data = gzip.compress(big_csv(120_000))
    (folder / "preds.csv.gz").write_bytes(data[: len(data) * 3 // 4])
    line = assert_one_error(fails("preds.csv.gz"), "Error: preds.csv.gz: cannot read")
    assert "runcated" in line


def test_corrupt_zstd_json_lines(folder: Path) -> None:
    data = compress(jsonl(DATA["probs"]), "zst")
    (folder / "preds.jsonl.zst").write_bytes(data[:12] + b"\x00" * 40 + data[52:])
    assert_one_error(fails("preds.jsonl.zst"), "Error: preds.jsonl.zst:")


def test_glob_matching_nothing(folder: Path) -> None:
    (folder / "data").mkdir()
    assert_one_error(fails("data/part-*.parquet"), "Error: data/part-*.parquet:", "no file matches")


def test_parts_with_different_columns(folder: Path) -> None:
    table = DATA["probs"]
    (folder / "parts").mkdir()
    pq.write_table(table.slice(0, 25), folder / "parts" / "part-0.parquet")
    pq.write_table(table.slice(25).drop_columns(["p_fish"]), folder / "parts" / "part-1.parquet")
    for given in ("parts", "parts/part-*.parquet"):
        assert_one_error(
            fails(given), "Error: parts/part-1.parquet:", "parts/part-0.parquet", "lacks 'p_fish'"
        )


def test_parts_with_different_types(folder: Path) -> None:
    table = DATA["probs"]
    (folder / "parts").mkdir()
    pq.write_table(table.slice(0, 25), folder / "parts" / "part-0.parquet")
    other = table.slice(25).set_column(
        1, "p_dog", table.slice(25).column("p_dog").cast(pa.float32())
    )
    pq.write_table(other, folder / "parts" / "part-1.parquet")
    assert_one_error(
        fails("parts"), "Error: parts/part-1.parquet, column 'p_dog'", "float", "double"
    )


def test_glob_matching_a_file_that_is_not_parquet(folder: Path) -> None:
    write_parts(DATA["probs"], folder / "parts")
    write(DATA["probs"], folder / "parts" / "part-999.csv")
    assert_one_error(fails("parts/part-*"), "Error: parts/part-999.csv:", "not a Parquet file")


def test_directory_without_parquet_files(folder: Path) -> None:
    (folder / "data").mkdir()
    write(DATA["probs"], folder / "data" / "preds.csv")
    assert_one_error(fails("data"), "Error: data:", "no Parquet files", "1 other file")


def test_list_column_with_a_ragged_row(folder: Path) -> None:
    vectors = list_table("probs", LIST_KINDS["list"]).column("probs").to_pylist()
    vectors[17] = vectors[17][:3]
    pq.write_table(
        pa.table({"probs": vectors, "label": DATA["probs"].column("label")}), "r.parquet"
    )
    assert_one_error(fails("r.parquet"), "Error: r.parquet row 17, column 'probs'", "3 values")


def test_list_column_with_a_missing_row(folder: Path) -> None:
    vectors = list_table("probs", LIST_KINDS["list"]).column("probs").to_pylist()
    vectors[9] = None
    write(pa.table({"probs": vectors, "label": DATA["probs"].column("label")}), folder / "m.arrow")
    assert_one_error(fails("m.arrow"), "Error: m.arrow row 9, column 'probs'", "missing list")


def test_ragged_row_is_named_by_its_global_row(folder: Path) -> None:
    """Past the first batch, in the third part of a dataset: the row among all rows."""
    rows = 70_000
    rng = np.random.default_rng(3)
    block = rng.dirichlet(np.ones(3), size=rows)
    offsets = np.arange(rows + 1, dtype=np.int32) * 3
    offsets[66_001:] -= 1  # row 66000 has two values
    values = pa.array(np.delete(block.ravel(), 66_000 * 3 + 2))
    table = pa.table(
        {"probs": pa.ListArray.from_arrays(pa.array(offsets), values), "label": np.zeros(rows, int)}
    )
    (folder / "parts").mkdir()
    for i, start in enumerate(range(0, rows, 30_000)):
        pq.write_table(table.slice(start, 30_000), folder / "parts" / f"p{i}.parquet")
    assert_one_error(fails("parts"), "Error: parts row 66000, column 'probs'", "2 values")


def test_truncated_arrow_file(folder: Path) -> None:
    path = write(DATA["probs"], folder / "preds.arrow")
    path.write_bytes(path.read_bytes()[:-100])
    assert_one_error(fails("preds.arrow"), "Error: preds.arrow:", "Arrow IPC", "cut short")
    assert_one_error(fails("-", input=path.read_bytes()), "Error: <stdin>:", "Arrow IPC")


def test_truncated_arrow_stream(folder: Path) -> None:
    path = write(DATA["probs"], folder / "preds.arrows")
    path.write_bytes(path.read_bytes()[:-700])
    assert_one_error(fails("preds.arrows"), "Error: preds.arrows:", "Arrow IPC stream")


def test_arrow_name_without_arrow_content(folder: Path) -> None:
    write(DATA["probs"], folder / "preds.csv").rename(folder / "preds.feather")
    assert_one_error(fails("preds.feather"), "Error: preds.feather:", "not an Arrow IPC file")


def test_json_lines_bad_row_is_named(folder: Path) -> None:
    lines = jsonl(DATA["probs"]).decode().splitlines()
    lines[30] = lines[30].replace('"label": ', '"label": oops')
    (folder / "bad.jsonl").write_text("\n".join(lines) + "\n")
    assert_one_error(fails("bad.jsonl"), "Error: bad.jsonl row 30:", "JSON Lines")


def test_json_lines_type_change_is_named(folder: Path) -> None:
    lines = jsonl(DATA["names"]).decode().splitlines()
    lines[40] = lines[40].replace('"label": "cat"', '"label": 1')
    lines[40] = lines[40].replace('"label": "dog"', '"label": 1')
    lines[40] = lines[40].replace('"label": "bird"', '"label": 1')
    lines[40] = lines[40].replace('"label": "fish"', '"label": 1')
    (folder / "bad.jsonl").write_text("\n".join(lines) + "\n")
    assert_one_error(fails("bad.jsonl"), "Error: bad.jsonl row 40, column 'label'", "one type")


def test_json_lines_field_not_in_the_first_rows(folder: Path) -> None:
    """Past the first megabyte that fixes the columns, a new field is an error."""
    lines = jsonl(DATA["probs"]).decode().splitlines() * 400  # 20000 rows, 3 MB
    lines[19_000] = lines[19_000].replace("{", '{"weight": 2.0, ', 1)
    (folder / "bad.jsonl").write_text("\n".join(lines) + "\n")
    assert_one_error(fails("bad.jsonl"), "Error: bad.jsonl:", "a field that the first rows lack")


def test_json_array_is_not_json_lines(folder: Path) -> None:
    (folder / "preds.json").write_text(json.dumps(DATA["probs"].to_pylist()))
    assert_one_error(fails("preds.json"), "Error: preds.json:", "JSON array", "JSON Lines")


def test_empty_json_lines(folder: Path) -> None:
    (folder / "preds.jsonl").write_text("\n\n")
    assert_one_error(fails("preds.jsonl"), "Error: preds.jsonl:", "empty")
