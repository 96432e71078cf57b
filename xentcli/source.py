"""Open any supported input as a stream of Arrow record batches.

pyarrow does the parsing, decompression and type work; this module decides the
format (extension, confirmed by magic bytes; content alone for standard input and
paths without a known extension), turns a directory or glob of Parquet files into
one input, presents a list column holding the vector as one column per element,
and turns pyarrow's failures into ``InputError`` lines that name the file, the
column and, where it can be found, the row.
"""

from __future__ import annotations

import glob
import io
import os
import re
import stat
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.json as pajson
import pyarrow.parquet as pq

from .arrays import mask, numbers
from .csvread import CsvReader
from .errors import InputError

PARQUET_MAGIC = b"PAR1"
ARROW_MAGIC = b"ARROW1"  # an Arrow IPC file, alias Feather v2
ARROW_STREAM_MAGIC = b"\xff\xff\xff\xff"  # the continuation marker opening an IPC stream
FEATHER1_MAGIC = b"FEA1"
COMPRESSIONS = {".gz": "gzip", ".bz2": "bz2", ".zst": "zstd"}
COMPRESSION_MAGIC = {b"\x1f\x8b": "gzip", b"\x28\xb5\x2f\xfd": "zstd", b"BZh": "bz2"}
PARQUET_EXTENSIONS = {".parquet", ".pq", ".parq"}
ARROW_EXTENSIONS = {".arrow", ".arrows", ".feather", ".ipc"}
TEXT_EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
}
FORMATS = ("csv", "tsv", "parquet", "arrow", "jsonl")
PARQUET_BUFFER_BYTES = 64 << 10  # one-pass reads: 3x to 5x faster than pre_buffer, less memory
PARQUET_MIN_BATCH_ROWS = 16384  # pyarrow pays per column per batch: 1000 columns read
# 5x slower in batches of 1048 rows than of 65536
SNIFF_BYTES = 4096  # read from a file to tell its format
MAGIC_BYTES = 16  # read from a stream to tell its format: the longest magic is bz2's 10
JSON_PROBE_BYTES = 1 << 20  # the first rows of JSON Lines, whose types fix every later row's
JSON_BLOCK_BYTES = 2 << 20  # a block of JSON Lines parsed at once; pyarrow reads about 20
# blocks ahead, so this bounds the memory (170 MB for any size; 8 MB blocks: 400 MB)
STDIN = "-"
_BZ2_MAGIC = re.compile(rb"^BZh[1-9]1AY&SY")
_JSON_ROW = re.compile(r"\s*in row (\d+)\s*$")
_JSON_COLUMN = re.compile(r"Column\(/([^)]*)\)")

BatchOpener = Callable[[Sequence[str], dict[str, pa.DataType], int], Iterator[pa.RecordBatch]]
FirstRows = Callable[[Sequence[str]], "pa.RecordBatch | None"]


@dataclass(frozen=True)
class _ListColumn:
    """A list column presented as ``width`` columns ``name[0]`` .. ``name[width-1]``."""

    name: str
    width: int
    kind: pa.DataType  # of the element columns: the list's float type, else float64

    @property
    def names(self) -> list[str]:
        return [f"{self.name}[{j}]" for j in range(self.width)]


@dataclass
class Source:
    """One input: its display name, format, schema and a way to stream its rows.

    ``batches(columns, types, batch_rows)`` reads only ``columns``; ``types`` asks
    for a column's type where the format has none of its own (CSV), e.g. ids as text.
    A numeric list column appears in ``schema`` as one column per element.
    """

    name: str
    format: str
    schema: pa.Schema
    num_rows: int | None
    _opener: BatchOpener = field(repr=False)
    size: int | None = None
    _position: Callable[[], int] | None = field(default=None, repr=False)
    _lists: dict[str, _ListColumn] = field(default_factory=dict, repr=False)

    @property
    def columns(self) -> list[str]:
        return list(self.schema.names)

    def fraction_done(self, rows_done: int) -> float | None:
        """How far reading has come, from rows (when known) or bytes; None if unknown."""
        if self.num_rows:
            return min(1.0, rows_done / self.num_rows)
        if self.size and self._position is not None:
            try:
                return min(1.0, self._position() / self.size)
            except (OSError, ValueError, pa.ArrowException):  # closed: all of it is read
                return 1.0
        return None

    def batches(
        self, columns: Sequence[str], types: dict[str, pa.DataType], batch_rows: int
    ) -> Iterator[pa.RecordBatch]:
        """Stream ``columns`` in batches of at most ``batch_rows`` rows."""
        owners = {n: c for c in self._lists.values() for n in c.names if n in columns}
        real = list(dict.fromkeys(owners[c].name if c in owners else c for c in columns))
        row = 0
        try:
            for batch in self._opener(real, types, batch_rows):
                if owners:
                    batch = self._expanded(batch, columns, owners, types, row)
                row += batch.num_rows
                for start in range(0, max(batch.num_rows, 1), batch_rows):
                    part = batch.slice(start, batch_rows)
                    if part.num_rows:
                        yield part
        except (OSError, pa.ArrowException) as exc:  # a failure the format's reader let pass
            raise InputError(f"cannot read: {_arrow_message(exc)}", file=self.name) from None

    def _expanded(
        self,
        batch: pa.RecordBatch,
        columns: Sequence[str],
        owners: dict[str, _ListColumn],
        types: dict[str, pa.DataType],
        row: int,
    ) -> pa.RecordBatch:
        elements: dict[str, pa.Array] = {}
        for column in dict.fromkeys(owners[c].name for c in columns if c in owners):
            spec = self._lists[column]
            arrays = _list_elements(batch.column(column), spec, self.name, row)
            elements.update(zip(spec.names, arrays, strict=True))
        arrays = [elements[c] if c in elements else batch.column(c) for c in columns]
        return _cast(pa.RecordBatch.from_arrays(arrays, names=list(columns)), types, self.name)


def open_source(data: Any, role: str, fmt: str | None = None) -> Source:
    """Open a path, a directory or glob of Parquet files, ``-`` (standard input), or an
    in-memory table as a ``Source``.

    ``role`` ("preds" or "labels") names in-memory inputs in messages; ``fmt`` (one of
    ``FORMATS``) overrides format detection.
    """
    if fmt is not None and fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r} (known: {', '.join(FORMATS)})")
    if isinstance(data, str | os.PathLike):
        path = os.fspath(data)
        if path == STDIN:
            return _open_stdin(fmt)
        return _open_path(path, fmt)
    return _open_memory(data, f"<{role}>")


def _make_source(
    name: str,
    format: str,
    schema: pa.Schema,
    num_rows: int | None,
    opener: BatchOpener,
    first_rows: FirstRows | None = None,
    size: int | None = None,
    position: Callable[[], int] | None = None,
) -> Source:
    """A ``Source`` whose numeric list columns are presented element by element."""
    lists = _list_columns(schema, first_rows, name)
    if lists:
        fields: list[pa.Field] = []
        for column in schema:
            spec = lists.get(column.name)
            if spec is None:
                fields.append(column)
            else:
                fields.extend(pa.field(n, spec.kind) for n in spec.names)
        schema = pa.schema(fields)
    return Source(name, format, schema, num_rows, opener, size, position, lists)


# -- paths -----------------------------------------------------------------------------


def _open_path(path: str, fmt: str | None) -> Source:
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        if any(ch in path for ch in "*?["):  # a path that exists is never read as a glob
            return _open_glob(path, fmt)
        raise InputError("no such file", file=path) from None
    except OSError as exc:
        raise InputError(f"cannot open: {exc.strerror}", file=path) from None
    if stat.S_ISDIR(mode):
        return _open_directory(path, fmt)
    if not stat.S_ISREG(mode):  # a FIFO or a process substitution: one pass, by content
        return _open_stream(_opened(path), path, fmt)
    size = os.stat(path).st_size
    with _opened(path) as handle:
        head = _read(handle, SNIFF_BYTES, path)
    compression = COMPRESSIONS.get(os.path.splitext(path)[1].lower()) or _compression(head)
    if compression is not None:
        return _open_compressed(path, compression, fmt or TEXT_EXTENSIONS.get(_extension(path)))
    kind = fmt or _format_from_name(path, head)
    if kind == "parquet":
        return _open_parquet(path, path)
    if kind == "arrow":
        return _open_arrow_path(path, head)
    handle = _opened(path)
    if kind == "jsonl":
        return _open_json(handle, path, size=size, position=handle.tell)
    return _open_csv(handle, path, _DELIMITERS.get(kind or ""), size)


_DELIMITERS = {"csv": ",", "tsv": "\t"}


def _format_from_name(path: str, head: bytes) -> str | None:
    """The format by magic bytes, else by extension, else (no known extension) by
    content; None for CSV with the delimiter to be sniffed."""
    magic = _binary_format(head)
    if magic is not None:
        return magic
    ext = _extension(path)
    if ext in PARQUET_EXTENSIONS:
        raise InputError(
            "is not a Parquet file (it lacks the PAR1 magic bytes)",
            file=path,
            hint="pass --preds-format/--labels-format if it is another format",
        )
    if ext in ARROW_EXTENSIONS:
        raise InputError(
            "is not an Arrow IPC file or stream (it lacks the ARROW1 magic bytes and "
            "the stream's 0xFFFFFFFF marker)",
            file=path,
            hint="pass --preds-format/--labels-format if it is another format",
        )
    if ext in TEXT_EXTENSIONS:
        return TEXT_EXTENSIONS[ext]
    return _text_format(head, path)


def _binary_format(head: bytes) -> str | None:
    """``parquet`` or ``arrow`` (IPC file, IPC stream or Feather v1) by magic bytes."""
    if head.startswith(PARQUET_MAGIC):
        return "parquet"
    if head.startswith((ARROW_MAGIC, ARROW_STREAM_MAGIC, FEATHER1_MAGIC)):
        return "arrow"
    return None


def _text_format(head: bytes, name: str) -> str | None:
    """``jsonl`` when the first character that is not white space is ``{``; else CSV."""
    text = head.lstrip()
    if text.startswith(b"{"):
        return "jsonl"
    if text.startswith(b"[") and text[1:].lstrip()[:1] in (b"{", b"]"):
        raise _json_array(name)
    return None


def _json_array(name: str) -> InputError:
    return InputError(
        "is a JSON array; xent reads JSON Lines, one object per line",
        file=name,
        hint="pandas writes them with to_json(orient='records', lines=True)",
    )


def _compression(head: bytes) -> str | None:
    """gzip, bz2 or zstd by magic bytes (a CSV header never starts with them)."""
    for magic, name in COMPRESSION_MAGIC.items():
        if head.startswith(magic) and (name != "bz2" or _BZ2_MAGIC.match(head)):
            return name
    return None


def _extension(path: str) -> str:
    root, ext = os.path.splitext(path.lower())
    if ext in COMPRESSIONS:
        ext = os.path.splitext(root)[1]
    return ext


def _opened(path: str) -> BinaryIO:
    try:
        return open(path, "rb")  # noqa: SIM115 - closed by the caller's with
    except OSError as exc:
        raise InputError(f"cannot open: {exc.strerror}", file=path) from None


def _read(handle: Any, size: int, name: str) -> bytes:
    """Up to ``size`` bytes: fewer only at the end of the input."""
    try:
        return bytes(handle.read(size) if size >= 0 else handle.read())
    except (OSError, pa.ArrowException) as exc:
        raise InputError(f"cannot read: {_arrow_message(exc)}", file=name) from None


def _open_compressed(path: str, compression: str, fmt: str | None) -> Source:
    """A compressed file, decompressed by pyarrow as it is read; progress from the
    compressed bytes read."""
    try:
        raw = pa.OSFile(path)
        stream = pa.CompressedInputStream(raw, compression)
    except (OSError, pa.ArrowException) as exc:
        raise InputError(f"cannot read: {_arrow_message(exc)}", file=path) from None
    return _open_stream(stream, path, fmt, size=os.stat(path).st_size, position=raw.tell)


# -- standard input, FIFOs and compressed streams --------------------------------------


def _open_stdin(fmt: str | None) -> Source:
    stream = sys.stdin.buffer if sys.stdin is not None else None
    if stream is None or stream.closed:
        raise InputError("standard input is closed", file="<stdin>")
    if stream.isatty():
        raise InputError(
            "standard input is a terminal; pipe a file into it or give a path", file="<stdin>"
        )
    return _open_stream(stream, "<stdin>", fmt, close=False)


def _open_stream(
    handle: Any,
    name: str,
    fmt: str | None,
    close: bool = True,
    size: int | None = None,
    position: Callable[[], int] | None = None,
) -> Source:
    """A one-pass input, its format from ``fmt`` or its first bytes: Parquet and Arrow
    IPC files are read whole, as they must be to seek; CSV, JSON Lines and Arrow IPC
    streams are read as they arrive; compressed input is decompressed on the way."""
    head = _stream_head(handle, name)
    compression = _compression(head)
    if compression is not None:
        inner = pa.CompressedInputStream(_joined(head, handle, close), compression)
        return _open_stream(inner, name, fmt, True, size, position)
    kind = fmt or _binary_format(head) or _text_format(head, name)
    if kind == "parquet":
        return _open_parquet(pa.BufferReader(_rest(head, handle, name, close)), name)
    if kind == "arrow":
        if head.startswith(ARROW_STREAM_MAGIC):
            return _open_arrow_stream(_joined(head, handle, close), name, size, position)
        return _open_arrow_whole(pa.BufferReader(_rest(head, handle, name, close)), name, head)
    if kind == "jsonl":
        return _open_json(_joined(head, handle, close), name, size=size, position=position)
    delimiter = _DELIMITERS.get(kind or "")
    return _open_csv(handle, name, delimiter, size, head, close, position)


def _stream_head(handle: Any, name: str) -> bytes:
    """The first bytes: enough for any magic, and the first that are not white space."""
    head = _read(handle, MAGIC_BYTES, name)
    while not head.strip() and len(head) < SNIFF_BYTES:
        more = _read(handle, MAGIC_BYTES, name)
        if not more:
            break
        head += more
    return head


def _rest(head: bytes, handle: Any, name: str, close: bool) -> bytes:
    data = head + _read(handle, -1, name)
    if close:
        handle.close()
    return data


class _Joined(io.RawIOBase):
    """``head`` then the rest of ``handle``: what was read to tell the format, put back."""

    def __init__(self, head: bytes, handle: Any, close: bool) -> None:
        self._head = memoryview(head)
        self._handle = handle
        self._close = close
        self._read1 = getattr(handle, "read1", handle.read)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        out = memoryview(buffer).cast("B")
        if self._head:
            n = min(len(out), len(self._head))
            out[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._read1(len(out))
        out[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if self._close and not self.closed:
            self._handle.close()
        super().close()


def _joined(head: bytes, handle: Any, close: bool) -> pa.NativeFile:
    """A pyarrow stream of ``head`` and then ``handle``; every read is filled to the size
    asked for unless the input ends, as the IPC reader requires."""
    return pa.PythonFile(io.BufferedReader(_Joined(head, handle, close), 1 << 16), mode="r")


# -- CSV and TSV -----------------------------------------------------------------------


def _open_csv(
    handle: BinaryIO,
    name: str,
    delimiter: str | None,
    size: int | None,
    head: bytes = b"",
    close: bool = True,
    position: Callable[[], int] | None = None,
) -> Source:
    reader = CsvReader(handle, name, delimiter, head, close)

    def opener(
        columns: Sequence[str], types: dict[str, pa.DataType], batch_rows: int
    ) -> Iterator[pa.RecordBatch]:
        return reader.batches(columns, types)

    return Source(
        name=name,
        format="tsv" if reader.delimiter == "\t" else "csv",
        schema=reader.schema,
        num_rows=None,
        _opener=opener,
        size=size,
        _position=position or (lambda: reader.consumed),
    )


# -- JSON Lines ------------------------------------------------------------------------


def _open_json(
    stream: Any, name: str, *, size: int | None, position: Callable[[], int] | None
) -> Source:
    """JSON Lines, streamed block by block. The first rows fix the columns and their
    types (a column with no values there is numeric), as the streaming reader needs."""
    probe = _read(stream, JSON_PROBE_BYTES, name)
    while len(probe) >= JSON_PROBE_BYTES and probe.find(b"\n") < 0:  # one long first row
        more = _read(stream, len(probe), name)
        if not more:
            break
        probe += more
    complete = probe if len(probe) < JSON_PROBE_BYTES else probe[: probe.rfind(b"\n") + 1]
    if not complete.strip():
        raise InputError("the file is empty (no JSON rows)", file=name)
    if complete.lstrip().startswith(b"["):
        raise _json_array(name)
    try:
        single = pajson.ReadOptions(use_threads=False, block_size=len(complete) + 1)
        schema = pajson.read_json(pa.BufferReader(complete), read_options=single).schema
    except (OSError, pa.ArrowException) as exc:
        raise _json_error(exc, name, 0) from None
    schema = pa.schema(
        [f.with_type(pa.float64()) if pa.types.is_null(f.type) else f for f in schema]
    )
    longest = max(len(line) for line in complete.split(b"\n"))
    options = pajson.ReadOptions(
        use_threads=False,  # pyarrow's threads reading a Python stream can hang at exit
        block_size=max(JSON_BLOCK_BYTES, 4 * longest),
    )
    parse = pajson.ParseOptions(explicit_schema=schema, unexpected_field_behavior="error")
    source = _joined(probe, stream, True)
    try:
        if hasattr(pajson, "open_json"):
            reader: Iterator[pa.RecordBatch] = iter(
                pajson.open_json(source, read_options=options, parse_options=parse)
            )
        else:  # pyarrow before 19 has no streaming JSON reader
            table = pajson.read_json(source, read_options=options, parse_options=parse)
            reader = iter(table.to_batches())
    except (OSError, pa.ArrowException) as exc:
        raise _json_error(exc, name, 0) from None
    peek = _Peek(reader, name, lambda exc, row: _json_error(exc, name, row))
    return _make_source(
        name,
        "jsonl",
        schema,
        None,
        peek.opener,
        peek.first_rows,
        size=size,
        position=position,
    )


def _json_error(exc: BaseException, name: str, rows_before: int) -> InputError:
    """One line for a JSON failure; pyarrow counts rows from the start of its block."""
    message = _arrow_message(exc).removeprefix("JSON parse error: ")
    row = _JSON_ROW.search(message)
    column = _JSON_COLUMN.search(message)
    if row:
        message = message[: row.start()]
    if column:
        message = message.replace(column.group(0), "column").strip()
    if message == "unexpected field":
        later = f"row {rows_before} or a later one" if rows_before else "a row"
        message = f"{later} has a field that the first rows lack"
    hint = None
    if "couldn't parse" in message:
        hint = "the first rows fix each column's type: write 0.0, not 0, in a float column"
    elif "changed from" in message:
        hint = "a column must hold values of one type in every row"
    return InputError(
        f"cannot read as JSON Lines: {message}",
        file=name,
        column=column.group(1) if column else None,
        row=rows_before + int(row.group(1)) if row else None,
        hint=hint,
    )


class _Peek:
    """A one-pass stream of batches whose first non-empty batch can be looked at before
    it is read, and a converter of the reader's errors."""

    def __init__(
        self,
        reader: Iterator[pa.RecordBatch],
        name: str,
        error: Callable[[BaseException, int], Exception],
    ) -> None:
        self._reader: Iterator[pa.RecordBatch] | None = reader
        self._name = name
        self._pending: list[pa.RecordBatch] = []
        self._error = error
        self._rows = 0  # rows read from the reader so far

    def _next(self) -> pa.RecordBatch | None:
        assert self._reader is not None
        try:
            batch = next(self._reader, None)
        except (OSError, pa.ArrowException) as exc:
            raise self._error(exc, self._rows) from None
        if batch is not None:
            self._rows += batch.num_rows
        return batch

    def first_rows(self, columns: Sequence[str]) -> pa.RecordBatch | None:
        while not any(b.num_rows for b in self._pending):
            batch = self._next()
            if batch is None:
                return None
            self._pending.append(batch)
        return next(b for b in self._pending if b.num_rows).select(list(columns))

    def opener(
        self, columns: Sequence[str], types: dict[str, pa.DataType], batch_rows: int
    ) -> Iterator[pa.RecordBatch]:
        if self._reader is None:
            raise RuntimeError("this input can be read only once")
        while True:
            batch = self._pending.pop(0) if self._pending else self._next()
            if batch is None:
                break
            yield _cast(batch.select(list(columns)), types, self._name)
        self._reader = None


# -- Arrow IPC / Feather ---------------------------------------------------------------


def _open_arrow_path(path: str, head: bytes) -> Source:
    """An Arrow IPC file (Feather v2) or stream, memory-mapped; Feather v1 read whole."""
    if head.startswith(FEATHER1_MAGIC):
        return _open_feather1(path, path)
    try:
        mapped = pa.memory_map(path)
    except (OSError, pa.ArrowException) as exc:
        raise InputError(f"cannot open: {_arrow_message(exc)}", file=path) from None
    if head.startswith(ARROW_STREAM_MAGIC):
        return _open_arrow_stream(mapped, path, mapped.size(), mapped.tell)
    return _open_arrow_file(mapped, path)


def _open_arrow_whole(data: pa.BufferReader, name: str, head: bytes) -> Source:
    if head.startswith(FEATHER1_MAGIC):
        return _open_feather1(data, name)
    return _open_arrow_file(data, name)


def _open_arrow_file(where: pa.NativeFile, name: str) -> Source:
    try:
        reader = ipc.open_file(where)
        schema = reader.schema
        num_rows = reader.count_rows()
    except (OSError, pa.ArrowException) as exc:
        where.seek(0)
        magic = where.read(len(ARROW_MAGIC)) == ARROW_MAGIC
        raise InputError(
            f"cannot read as an Arrow IPC file: {_arrow_message(exc)}",
            file=name,
            hint="it starts like one, so it may be cut short" if magic else None,
        ) from None

    def first_rows(columns: Sequence[str]) -> pa.RecordBatch | None:
        for i in range(reader.num_record_batches):
            batch = reader.get_batch(i)
            if batch.num_rows:
                return batch.select(list(columns))
        return None

    def opener(
        columns: Sequence[str], types: dict[str, pa.DataType], batch_rows: int
    ) -> Iterator[pa.RecordBatch]:
        try:  # only the columns asked for are read (decompressed, if they are)
            fields = sorted(schema.get_field_index(c) for c in columns)
            part = ipc.open_file(where, options=ipc.IpcReadOptions(included_fields=fields))
            for i in range(part.num_record_batches):
                yield _cast(part.get_batch(i).select(list(columns)), types, name)
        except (OSError, pa.ArrowException) as exc:
            raise InputError(
                f"cannot read as Arrow IPC: {_arrow_message(exc)}", file=name
            ) from None

    return _make_source(name, "arrow", schema, num_rows, opener, _guarded(first_rows, name))


def _open_arrow_stream(
    where: pa.NativeFile, name: str, size: int | None, position: Callable[[], int] | None
) -> Source:
    try:
        reader = ipc.open_stream(where)
    except (OSError, pa.ArrowException) as exc:
        raise InputError(
            f"cannot read as an Arrow IPC stream: {_arrow_message(exc)}", file=name
        ) from None

    def error(exc: BaseException, rows: int) -> InputError:
        return InputError(
            f"cannot read as an Arrow IPC stream after row {rows - 1}: {_arrow_message(exc)}",
            file=name,
        )

    peek = _Peek(iter(reader), name, error)
    return _make_source(
        name, "arrow", reader.schema, None, peek.opener, peek.first_rows, size, position
    )


def _open_feather1(where: str | pa.NativeFile, name: str) -> Source:
    """Feather v1, which pyarrow reads only whole (and deprecates)."""
    import pyarrow.feather as feather  # rare: not imported until needed

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            table = feather.read_table(where, memory_map=False)
    except (OSError, pa.ArrowException) as exc:
        raise InputError(f"cannot read as Feather: {_arrow_message(exc)}", file=name) from None
    return _table_source(table, name, "arrow")


def _guarded(first_rows: FirstRows, name: str) -> FirstRows:
    def guarded(columns: Sequence[str]) -> pa.RecordBatch | None:
        try:
            return first_rows(columns)
        except (OSError, pa.ArrowException) as exc:
            raise InputError(f"cannot read: {_arrow_message(exc)}", file=name) from None

    return guarded


# -- Parquet: one file, a directory or a glob ------------------------------------------


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
            size = max(batch_rows, PARQUET_MIN_BATCH_ROWS)  # sliced to batch_rows by batches()
            for batch in handle.iter_batches(batch_size=size, columns=list(columns)):
                yield _cast(batch, types, name)
        except (OSError, pa.ArrowException) as exc:
            raise InputError(f"cannot read as Parquet: {_arrow_message(exc)}", file=name) from None

    def first_rows(columns: Sequence[str]) -> pa.RecordBatch | None:
        try:
            for batch in handle.iter_batches(batch_size=1, columns=list(columns)):
                if batch.num_rows:
                    return batch
        except (OSError, pa.ArrowException) as exc:
            raise InputError(f"cannot read as Parquet: {_arrow_message(exc)}", file=name) from None
        return None

    return _make_source(name, "parquet", schema, num_rows, opener, first_rows)


def _open_glob(pattern: str, fmt: str | None) -> Source:
    paths = sorted(p for p in glob.glob(pattern, recursive=True) if os.path.isfile(p))
    if not paths:
        raise InputError("no such file, and no file matches it as a pattern", file=pattern)
    _parquet_only(pattern, fmt)
    paths = [p for p in paths if _head_of(p) == PARQUET_MAGIC or not _hidden(p)]
    for path in paths:
        if _head_of(path) != PARQUET_MAGIC:
            raise InputError(
                f"is not a Parquet file (it lacks the PAR1 magic bytes); the pattern "
                f"{pattern!r} is read as one Parquet dataset",
                file=path,
            )
    return _open_parts(pattern, paths)


def _open_directory(path: str, fmt: str | None) -> Source:
    """Every Parquet file (by its magic bytes) under ``path``, skipping names that start
    with ``.`` or ``_`` (``_SUCCESS``, ``.crc`` files), as pyarrow's datasets do."""
    _parquet_only(path, fmt)
    found: list[str] = []
    others = 0
    for folder, subfolders, files in os.walk(path):
        subfolders[:] = [d for d in subfolders if not d.startswith((".", "_"))]
        for file in files:
            full = os.path.join(folder, file)
            if _hidden(full) or not os.path.isfile(full):
                continue
            if _head_of(full) == PARQUET_MAGIC:
                found.append(full)
            elif _extension(full) in PARQUET_EXTENSIONS:
                raise InputError("is not a Parquet file (it lacks the PAR1 magic bytes)", file=full)
            else:
                others += 1
    if not found:
        besides = f" ({others} other file{'s' if others != 1 else ''})" if others else ""
        raise InputError(
            f"is a directory with no Parquet files{besides}; a directory is read as one "
            "Parquet dataset",
            file=path,
        )
    return _open_parts(path, sorted(found))


def _hidden(path: str) -> bool:
    """A name that datasets skip unless it is Parquet: ``_SUCCESS``, ``.part.crc``."""
    return os.path.basename(path).startswith((".", "_"))


def _parquet_only(name: str, fmt: str | None) -> None:
    if fmt not in (None, "parquet"):
        raise InputError(
            f"a directory or a pattern is read as Parquet files, not as {fmt}", file=name
        )


def _head_of(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read(len(PARQUET_MAGIC))
    except OSError as exc:
        raise InputError(f"cannot open: {exc.strerror}", file=path) from None


def _open_parts(name: str, paths: list[str]) -> Source:
    """Parquet files read one after the other, in the order of ``paths``, as one input;
    all must have the first file's columns and types."""
    metas: list[pq.FileMetaData] = []
    schema: pa.Schema | None = None
    for path in paths:
        try:
            meta = pq.read_metadata(path)
            part_schema = meta.schema.to_arrow_schema()
        except (OSError, pa.ArrowException) as exc:
            raise InputError(f"cannot read as Parquet: {_arrow_message(exc)}", file=path) from None
        if schema is None:
            schema = part_schema
        else:
            _same_columns(part_schema, schema, path, paths[0])
        metas.append(meta)
    assert schema is not None

    def handle(i: int) -> pq.ParquetFile:
        return pq.ParquetFile(
            paths[i], metadata=metas[i], pre_buffer=False, buffer_size=PARQUET_BUFFER_BYTES
        )

    def opener(
        columns: Sequence[str], types: dict[str, pa.DataType], batch_rows: int
    ) -> Iterator[pa.RecordBatch]:
        size = max(batch_rows, PARQUET_MIN_BATCH_ROWS)
        for i, path in enumerate(paths):
            try:
                for batch in handle(i).iter_batches(batch_size=size, columns=list(columns)):
                    # the same schema for every part: they may differ in nullability
                    yield _cast(
                        pa.RecordBatch.from_arrays(batch.columns, names=list(columns)),
                        types,
                        path,
                    )
            except (OSError, pa.ArrowException) as exc:
                raise InputError(
                    f"cannot read as Parquet: {_arrow_message(exc)}", file=path
                ) from None

    def first_rows(columns: Sequence[str]) -> pa.RecordBatch | None:
        for i, path in enumerate(paths):
            if not metas[i].num_rows:
                continue
            try:
                return next(handle(i).iter_batches(batch_size=1, columns=list(columns)))
            except (OSError, pa.ArrowException, StopIteration) as exc:
                raise InputError(
                    f"cannot read as Parquet: {_arrow_message(exc)}", file=path
                ) from None
        return None

    num_rows = sum(m.num_rows for m in metas)
    return _make_source(name, "parquet", schema, num_rows, opener, first_rows)


def _same_columns(schema: pa.Schema, first: pa.Schema, path: str, first_path: str) -> None:
    """An error naming what differs between a part's columns and the first part's."""
    missing = [n for n in first.names if n not in schema.names]
    extra = [n for n in schema.names if n not in first.names]
    if missing or extra:
        what = "; ".join(
            f"{word} {', '.join(repr(n) for n in names)}"
            for word, names in (("lacks", missing), ("has extra", extra))
            if names
        )
        raise InputError(
            f"its columns differ from those of {first_path}: it {what}; "
            "every file of a dataset needs the same columns",
            file=path,
        )
    for column in schema:
        expected = first.field(column.name).type
        if not column.type.equals(expected):
            raise InputError(
                f"type {column.type} differs from {expected} in {first_path}; "
                "every file of a dataset needs the same column types",
                file=path,
                column=column.name,
            )


# -- in-memory tables ------------------------------------------------------------------


def _open_memory(data: Any, name: str) -> Source:
    return _table_source(_as_table(data, name), name, "memory")


def _table_source(table: pa.Table, name: str, format: str) -> Source:
    def opener(
        columns: Sequence[str], types: dict[str, pa.DataType], batch_rows: int
    ) -> Iterator[pa.RecordBatch]:
        for batch in table.select(list(columns)).to_batches(max_chunksize=batch_rows):
            yield _cast(batch, types, name)

    def first_rows(columns: Sequence[str]) -> pa.RecordBatch | None:
        for batch in table.select(list(columns)).to_batches():
            if batch.num_rows:
                return batch
        return None

    return _make_source(name, format, table.schema, table.num_rows, opener, first_rows)


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


# -- list columns ----------------------------------------------------------------------


def _is_numeric_list(kind: pa.DataType) -> bool:
    lists = pa.types.is_list(kind) or pa.types.is_large_list(kind)
    if not (lists or pa.types.is_fixed_size_list(kind)):
        return False
    element = kind.value_type
    return bool(pa.types.is_integer(element) or pa.types.is_floating(element))


def _list_columns(
    schema: pa.Schema, first_rows: FirstRows | None, name: str
) -> dict[str, _ListColumn]:
    """The numeric list columns and their widths: a fixed size list's size, else the
    length of the first row's list."""
    lists = [f for f in schema if _is_numeric_list(f.type)]
    variable = [f.name for f in lists if not pa.types.is_fixed_size_list(f.type)]
    first = first_rows(variable) if variable and first_rows is not None else None
    found: dict[str, _ListColumn] = {}
    for column in lists:
        element = column.type.value_type
        kind = element if pa.types.is_floating(element) else pa.float64()
        if pa.types.is_fixed_size_list(column.type):
            width = column.type.list_size
        elif first is None:
            raise InputError(
                "no rows, so the length of this list column is not known",
                file=name,
                column=column.name,
            )
        else:
            value = first.column(column.name).slice(0, 1)
            if value.null_count:
                raise InputError(
                    "missing list; every row needs one value per class",
                    file=name,
                    column=column.name,
                    row=0,
                )
            width = int(np.diff(numbers(value.offsets))[0])
        if width < 1:
            raise InputError(
                "the list in the first row is empty; every row needs one value per class",
                file=name,
                column=column.name,
                row=0,
            )
        found[column.name] = _ListColumn(column.name, width, kind)
    return found


def _list_elements(
    array: pa.Array | pa.ChunkedArray, spec: _ListColumn, name: str, row: int
) -> list[pa.Array]:
    """A list column's elements as ``spec.width`` arrays, checking every row's length:
    the flat buffer of values reshaped, with no work per row in Python and no pandas
    (see ``arrays``)."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    n = len(array)
    if array.null_count:
        raise InputError(
            f"missing list; every row needs {spec.width} values",
            file=name,
            column=spec.name,
            row=row + int(np.argmax(mask(array.is_null()))),
        )
    if not pa.types.is_fixed_size_list(array.type):
        lengths = np.diff(numbers(array.offsets))
        wrong = np.flatnonzero(lengths != spec.width)
        if wrong.size:
            bad = int(wrong[0])
            raise InputError(
                f"a list of {lengths[bad]} values; every row needs {spec.width} "
                f"(the length of the first row's list)",
                file=name,
                column=spec.name,
                row=row + bad,
            )
    dtype = np.dtype(f"float{spec.kind.bit_width}")
    flat = numbers(array.flatten(), dtype)  # this slice's values; a null value is NaN
    columns = np.ascontiguousarray(flat.reshape(n, spec.width).T)
    return [
        pa.Array.from_buffers(spec.kind, n, [None, pa.py_buffer(columns[j])])
        for j in range(spec.width)
    ]


# -- helpers ---------------------------------------------------------------------------


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
