"""Open any supported input as a stream of Arrow record batches.

pyarrow does the parsing, decompression and type work; this module decides the
format (extension, confirmed by magic bytes; content alone for standard input and
paths without a known extension) and turns pyarrow's failures into ``InputError``
lines that name the file, the column and, where it can be found, the row.
"""

from __future__ import annotations

import csv
import functools
import io
import os
import re
import stat
import sys
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from .errors import InputError

PARQUET_MAGIC = b"PAR1"
COMPRESSIONS = {".gz": "gzip", ".bz2": "bz2", ".zst": "zstd"}
PARQUET_EXTENSIONS = {".parquet", ".pq", ".parq"}
FORMATS = ("csv", "tsv", "parquet")
CSV_CHUNK_BYTES = 4 << 20  # a line-aligned chunk of text, parsed by one thread
CSV_THREADS = 2  # chunks parsed at once: the machine's cores
CSV_MAX_ROW_BYTES = 1 << 30  # the header peek grows its block up to this for wide rows
PARQUET_BUFFER_BYTES = 64 << 10  # one-pass reads: 3x to 5x faster than pre_buffer, less memory
STDIN = "-"

BatchOpener = Callable[[Sequence[str], dict[str, pa.DataType], int], Iterator[pa.RecordBatch]]


@dataclass
class Source:
    """One input: its display name, format, schema and a way to stream its rows.

    ``batches(columns, types, batch_rows)`` reads only ``columns``; ``types`` asks
    for a column's type where the format has none of its own (CSV), e.g. ids as text.
    """

    name: str
    format: str
    schema: pa.Schema
    num_rows: int | None
    _opener: BatchOpener = field(repr=False)
    size: int | None = None
    _position: Callable[[], int] | None = field(default=None, repr=False)

    @property
    def columns(self) -> list[str]:
        return list(self.schema.names)

    def fraction_done(self, rows_done: int) -> float | None:
        """How far reading has come, from rows (when known) or bytes; None if unknown."""
        if self.num_rows:
            return min(1.0, rows_done / self.num_rows)
        if self.size and self._position is not None:
            return min(1.0, self._position() / self.size)
        return None

    def batches(
        self, columns: Sequence[str], types: dict[str, pa.DataType], batch_rows: int
    ) -> Iterator[pa.RecordBatch]:
        """Stream ``columns`` in batches of at most ``batch_rows`` rows."""
        for batch in self._opener(columns, types, batch_rows):
            for start in range(0, max(batch.num_rows, 1), batch_rows):
                part = batch.slice(start, batch_rows)
                if part.num_rows:
                    yield part


def open_source(data: Any, role: str, fmt: str | None = None) -> Source:
    """Open a path, ``-`` (standard input), or an in-memory table as a ``Source``.

    ``role`` ("preds" or "labels") names in-memory inputs in messages; ``fmt``
    overrides format detection.
    """
    if fmt is not None and fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r} (known: {', '.join(FORMATS)})")
    if isinstance(data, str | os.PathLike):
        path = os.fspath(data)
        if path == STDIN:
            return _open_stdin(fmt)
        return _open_path(path, fmt)
    return _open_memory(data, f"<{role}>")


# -- paths -----------------------------------------------------------------------------


def _open_path(path: str, fmt: str | None) -> Source:
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise InputError("no such file", file=path) from None
    except OSError as exc:
        raise InputError(f"cannot open: {exc.strerror}", file=path) from None
    if stat.S_ISDIR(mode):
        raise InputError("is a directory, not a file", file=path)
    if not stat.S_ISREG(mode):  # a FIFO or a process substitution: read it once, by content
        with _opened(path) as handle:
            return _open_bytes(handle.read(), path, fmt)
    with _opened(path) as handle:
        head = handle.read(4)
    compression = COMPRESSIONS.get(os.path.splitext(path)[1].lower())
    if fmt is None:
        fmt = _format_from_name(path, head, compression)
    if fmt == "parquet":
        return _open_parquet(path, path)
    if fmt == "csv":
        delimiter = ","
    elif fmt == "tsv":
        delimiter = "\t"
    else:
        delimiter = _sniff_delimiter(_read_head(path, compression))

    def stream() -> BinaryIO:
        return pa.input_stream(path, compression=compression)  # type: ignore[return-value]

    return _open_csv(stream, path, delimiter, None if compression else os.stat(path).st_size)


def _format_from_name(path: str, head: bytes, compression: str | None) -> str | None:
    ext = _extension(path)
    if head == PARQUET_MAGIC and compression is None:
        return "parquet"
    if ext in PARQUET_EXTENSIONS:
        raise InputError(
            "is not a Parquet file (it lacks the PAR1 magic bytes)",
            file=path,
            hint="pass --preds-format/--labels-format if it is another format",
        )
    if ext == ".tsv" or ext == ".tab":
        return "tsv"
    if ext == ".csv":
        return "csv"
    return None


def _extension(path: str) -> str:
    root, ext = os.path.splitext(path.lower())
    if ext in COMPRESSIONS:
        ext = os.path.splitext(root)[1]
    return ext


def _read_head(path: str, compression: str | None) -> bytes:
    try:
        with pa.input_stream(path, compression=compression) as stream:
            return bytes(stream.read(64 << 10))
    except (OSError, pa.ArrowException) as exc:
        raise InputError(f"cannot read: {_arrow_message(exc)}", file=path) from None


def _opened(path: str) -> BinaryIO:
    try:
        return open(path, "rb")  # noqa: SIM115 - closed by the caller's with
    except OSError as exc:
        raise InputError(f"cannot open: {exc.strerror}", file=path) from None


# -- standard input and other one-shot streams -----------------------------------------


def _open_stdin(fmt: str | None) -> Source:
    stream = sys.stdin.buffer if sys.stdin is not None else None
    if stream is None or stream.closed:
        raise InputError("standard input is closed", file="<stdin>")
    if stream.isatty():
        raise InputError(
            "standard input is a terminal; pipe a file into it or give a path", file="<stdin>"
        )
    return _open_bytes(stream.read(), "<stdin>", fmt)


def _open_bytes(data: bytes, name: str, fmt: str | None) -> Source:
    if fmt is None:
        fmt = "parquet" if data[:4] == PARQUET_MAGIC else None
    if fmt == "parquet":
        return _open_parquet(pa.BufferReader(data), name)
    delimiter = (
        "\t" if fmt == "tsv" else "," if fmt == "csv" else _sniff_delimiter(data[: 64 << 10])
    )
    return _open_csv(lambda: pa.BufferReader(data), name, delimiter)  # type: ignore[arg-type,return-value]


def _sniff_delimiter(head: bytes) -> str:
    """A text table's delimiter: whichever of , tab ; | its header line uses most."""
    first = head.split(b"\n", 1)[0].decode("utf-8", errors="replace")
    counts = {d: first.count(d) for d in (",", "\t", ";", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


# -- CSV -------------------------------------------------------------------------------


def _open_csv(
    stream: Callable[[], BinaryIO], name: str, delimiter: str, size: int | None = None
) -> Source:
    consumed = [0]  # bytes handed to the parser so far, for the progress bar
    parse = pacsv.ParseOptions(delimiter=delimiter)
    try:
        schema = _peek_schema(stream, parse)
    except (OSError, pa.ArrowException) as exc:
        raise _csv_error(
            exc, name, None, functools.partial(_find_ragged_row, stream, parse)
        ) from None

    def opener(
        columns: Sequence[str], types: dict[str, pa.DataType], batch_rows: int
    ) -> Iterator[pa.RecordBatch]:
        # Every column gets a fixed type, so that chunks parsed apart agree.
        fixed = {c: types.get(c, schema.field(c).type) for c in columns}
        convert = pacsv.ConvertOptions(
            include_columns=list(columns),
            column_types=fixed,
            null_values=[""],
            strings_can_be_null=True,
        )
        try:
            yield from _csv_chunks(stream, parse, convert, consumed)
        except (OSError, pa.ArrowException) as exc:
            locate = functools.partial(_find_bad_cell, stream, parse, exc)
            ragged = functools.partial(_find_ragged_row, stream, parse)
            raise _csv_error(exc, name, locate, ragged) from None

    return Source(
        name=name,
        format="tsv" if delimiter == "\t" else "csv",
        schema=schema,
        num_rows=None,
        _opener=opener,
        size=size,
        _position=lambda: consumed[0],
    )


def _csv_chunks(
    stream: Callable[[], BinaryIO],
    parse: pacsv.ParseOptions,
    convert: pacsv.ConvertOptions,
    consumed: list[int],
) -> Iterator[pa.RecordBatch]:
    """Parse a CSV in line-aligned chunks, two at a time, each with the header line in
    front: both cores work and memory stays bounded by the chunks in flight.

    The chunks are parsed single-threaded in a thread pool of our own, which is joined
    before we return: pyarrow's multi-threaded ``read_csv`` left native threads that
    sometimes aborted the interpreter at exit (apache/arrow#34314; 3 exits in 150 here).
    """

    def parse_piece(text: bytes) -> pa.Table:
        # One block per chunk: the pool gives the parallelism, and no row, however
        # wide, can straddle two blocks.
        read = pacsv.ReadOptions(block_size=len(text) + 1, use_threads=False)
        return pacsv.read_csv(
            pa.BufferReader(text),
            read_options=read,
            parse_options=parse,
            convert_options=convert,
        )

    pool = ThreadPoolExecutor(max_workers=CSV_THREADS, thread_name_prefix="xent-csv")
    try:
        in_flight: deque[Future[pa.Table]] = deque()
        for text in _csv_pieces(stream):
            consumed[0] += len(text)
            in_flight.append(pool.submit(parse_piece, text))
            if len(in_flight) > CSV_THREADS:
                yield from in_flight.popleft().result().to_batches()
        while in_flight:
            yield from in_flight.popleft().result().to_batches()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _csv_pieces(stream: Callable[[], BinaryIO]) -> Iterator[bytes]:
    """The file as pieces of about ``CSV_CHUNK_BYTES`` that each start with the header
    line and end at a line end outside quotes, so a quoted newline is never split."""
    with stream() as source:
        head = source.read(CSV_CHUNK_BYTES)
        newline = _header_end(head)
        if newline < 0:  # one line, or a header longer than a chunk: all at once
            yield head + source.read()
            return
        header, pending = head[: newline + 1], head[newline + 1 :]
        at_end = False
        while pending or not at_end:
            if not at_end and len(pending) < CSV_CHUNK_BYTES:
                more = source.read(CSV_CHUNK_BYTES)
                at_end = not more
                pending += more
                continue
            cut = len(pending) if at_end else _safe_cut(pending)
            if cut <= 0:  # no line end outside quotes yet: read on
                more = source.read(CSV_CHUNK_BYTES)
                at_end = not more
                pending += more
                if not at_end:
                    continue
                cut = len(pending)
            piece, pending = pending[:cut], pending[cut:]
            if not piece.isspace():
                yield header + piece


def _header_end(data: bytes) -> int:
    """The index of the newline that ends the header line (quotes balanced), or -1."""
    end = data.find(b"\n")
    while end >= 0 and data.count(b'"', 0, end) % 2:
        end = data.find(b"\n", end + 1)
    return end


def _safe_cut(data: bytes) -> int:
    """The length up to the last line end that lies outside any quoted field, or 0."""
    end = data.rfind(b"\n")
    if data.find(b'"') < 0:  # no quotes at all (the usual numeric file): any line end will do
        return end + 1
    while end >= 0:
        if data.count(b'"', 0, end) % 2 == 0:
            return end + 1
        end = data.rfind(b"\n", 0, end)
    return 0


def _peek_schema(stream: Callable[[], BinaryIO], parse: pacsv.ParseOptions) -> pa.Schema:
    """The column names and types, from a first block big enough for a whole row."""
    block = 1 << 20
    while True:
        try:
            with pacsv.open_csv(
                stream(),
                read_options=pacsv.ReadOptions(block_size=block),
                parse_options=parse,
                convert_options=pacsv.ConvertOptions(null_values=[""], strings_can_be_null=True),
            ) as reader:
                return _csv_schema(reader)
        except pa.ArrowInvalid as exc:
            if "straddl" not in str(exc) or block >= CSV_MAX_ROW_BYTES:
                raise
            block *= 8


def _csv_schema(reader: pacsv.CSVStreamingReader) -> pa.Schema:
    """The schema pyarrow guessed from the first block, with two corrections: a column
    that is mostly numbers there (a stray word in an otherwise numeric column) and a
    column with no values yet (a header-only file) count as numeric, so that reading
    them as numbers names the row of any cell that is not one."""
    try:
        first = reader.read_next_batch()
    except StopIteration:
        first = None
    fields = []
    for index, column in enumerate(reader.schema):
        kind = column.type
        if pa.types.is_null(kind):
            kind = pa.float64()
        elif first is not None and pa.types.is_string(kind):
            values = first.column(index)
            numbers = pc.sum(pc.match_substring_regex(values, _NUMBER)).as_py() or 0
            if numbers * 2 > len(values) - values.null_count:
                kind = pa.float64()
        fields.append(column.with_type(kind))
    return pa.schema(fields)


_COLUMN_NUMBER = re.compile(r"CSV column #(\d+)")


def _csv_error(
    exc: BaseException,
    name: str,
    locate_cell: Callable[[], tuple[str, int, str] | None] | None = None,
    locate_row: Callable[[], int | None] | None = None,
) -> InputError:
    text = _arrow_message(exc)
    if "Empty CSV file" in text:
        return InputError("the file is empty (not even a header row)", file=name)
    if "conversion error" in text and locate_cell is not None:
        found = locate_cell()
        if found is not None:
            column, row, value = found
            return InputError(f"not a number: {value!r}", file=name, column=column, row=row)
    if "Expected" in text and "columns, got" in text:
        detail = text.split("CSV parse error:", 1)[-1].split(":", 1)[0].strip()
        return InputError(
            f"malformed CSV: {detail[0].lower() + detail[1:]} (a ragged row or an unclosed quote)",
            file=name,
            row=locate_row() if locate_row is not None else None,
        )
    return InputError(f"cannot read as CSV: {text}", file=name)


_NUMBER = (  # what Arrow parses as a float: decimals, exponents, inf, infinity, nan
    r"^\s*[+-]?((\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|(?i:inf|infinity|nan))\s*$"
)


def _find_bad_cell(
    stream: Callable[[], BinaryIO], parse: pacsv.ParseOptions, exc: BaseException
) -> tuple[str, int, str] | None:
    """On a conversion error, read the failing column as text to name its first bad row."""
    match = _COLUMN_NUMBER.search(str(exc))
    if match is None:
        return None
    try:
        schema = pacsv.open_csv(stream(), parse_options=parse).schema
        column = schema.names[int(match.group(1))]
        text = pacsv.read_csv(
            stream(),
            parse_options=parse,
            convert_options=pacsv.ConvertOptions(
                include_columns=[column],
                column_types={column: pa.string()},
                null_values=[""],
                strings_can_be_null=True,
            ),
        ).column(0)
    except (OSError, pa.ArrowException, IndexError):
        return None
    ok = pc.or_kleene(pc.is_null(text), pc.match_substring_regex(text, _NUMBER))
    bad = pc.index(ok, False).as_py()
    return (column, bad, text[bad].as_py()) if bad >= 0 else None


def _find_ragged_row(stream: Callable[[], BinaryIO], parse: pacsv.ParseOptions) -> int | None:
    """The 0-based data row whose field count differs from the header's, by the csv module."""
    row = -1
    try:
        with stream() as raw:
            lines = io.TextIOWrapper(raw, encoding="utf-8", errors="replace", newline="")
            reader = csv.reader(lines, delimiter=parse.delimiter, strict=True)
            width = len(next(reader))
            for record in reader:
                if not record:
                    continue
                row += 1
                if len(record) != width:
                    return row
            return None
    except csv.Error:
        return row + 1
    except (OSError, StopIteration, ValueError):
        return None


# -- Parquet ---------------------------------------------------------------------------


def _open_parquet(where: str | pa.BufferReader, name: str) -> Source:
    try:
        handle = pq.ParquetFile(where, pre_buffer=False, buffer_size=PARQUET_BUFFER_BYTES)
        schema = handle.schema_arrow
        num_rows = handle.metadata.num_rows
    except (OSError, pa.ArrowException) as exc:
        raise InputError(f"cannot read as Parquet: {_arrow_message(exc)}", file=name) from None

    def opener(
        columns: Sequence[str], types: dict[str, pa.DataType], batch_rows: int
    ) -> Iterator[pa.RecordBatch]:
        try:
            for batch in handle.iter_batches(batch_size=batch_rows, columns=list(columns)):
                yield _cast(batch, types, name)
        except (OSError, pa.ArrowException) as exc:
            raise InputError(f"cannot read as Parquet: {_arrow_message(exc)}", file=name) from None

    return Source(name=name, format="parquet", schema=schema, num_rows=num_rows, _opener=opener)


# -- in-memory tables ------------------------------------------------------------------


def _open_memory(data: Any, name: str) -> Source:
    table = _as_table(data, name)

    def opener(
        columns: Sequence[str], types: dict[str, pa.DataType], batch_rows: int
    ) -> Iterator[pa.RecordBatch]:
        for batch in table.select(list(columns)).to_batches(max_chunksize=batch_rows):
            yield _cast(batch, types, name)

    return Source(
        name=name, format="memory", schema=table.schema, num_rows=table.num_rows, _opener=opener
    )


def _as_table(data: Any, name: str) -> pa.Table:
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    if type(data).__module__.startswith("pandas"):
        import pandas as pd  # only when the caller already has pandas objects

        frame = data.to_frame() if isinstance(data, pd.Series) else data
        return pa.Table.from_pandas(frame, preserve_index=False)
    if isinstance(data, dict):
        try:
            return pa.table(data)
        except (pa.ArrowException, TypeError, ValueError) as exc:
            raise InputError(f"cannot make a table of this dict: {exc}", file=name) from None
    raise InputError(
        f"expected a path, '-', a pandas DataFrame, a pyarrow Table or a dict of columns, "
        f"got {type(data).__name__}",
        file=name,
    )


def _cast(batch: pa.RecordBatch, types: dict[str, pa.DataType], name: str) -> pa.RecordBatch:
    if not types:
        return batch
    arrays = []
    for col_name, column in zip(batch.schema.names, batch.columns, strict=True):
        wanted = types.get(col_name)
        if wanted is not None and column.type != wanted:
            try:
                column = column.cast(wanted)
            except (pa.ArrowException, ValueError) as exc:
                raise InputError(
                    f"cannot read as {wanted}: {_arrow_message(exc)}", file=name, column=col_name
                ) from None
        arrays.append(column)
    return pa.RecordBatch.from_arrays(arrays, names=batch.schema.names)


def _arrow_message(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text.removeprefix("ArrowInvalid: ")
