"""Open any supported input as a stream of Arrow record batches.

pyarrow does the parsing, decompression and type work; this module decides which
reader opens an input: a path by its format (``detect``: extension, confirmed by
magic bytes), a directory or glob as one Parquet dataset (``dataset``), standard
input, a FIFO or a compressed file as a one-pass stream told by its first bytes, an
in-memory table as it is (``tableread``). The readers (``csvread``, ``jsonread``,
``parquetread``, ``arrowread``) turn pyarrow's failures into ``InputError`` lines
that name the file, the column and, where it can be found, the row; every one
returns a ``Source`` (``sourcebase``), which presents a list column holding the
vector as one column per element (``listcols``).
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any, BinaryIO

import pyarrow as pa

from ..errors import InputError
from .arrowread import open_arrow_path, open_arrow_stream, open_arrow_whole
from .csvread import CsvReader
from .dataset import open_directory, open_glob, open_matches
from .detect import (
    ARROW_STREAM_MAGIC,
    COMPRESSIONS,
    TEXT_EXTENSIONS,
    binary_format,
    compression,
    extension,
    format_from_name,
    text_format,
    zip_format,
)
from .jsonread import open_json
from .npyread import open_numpy
from .onepass import joined, read_bytes
from .parquetread import open_parquet
from .remote import Remote, is_url, locate
from .sourcebase import Source, arrow_message
from .tableread import open_memory

__all__ = ["FORMATS", "STDIN", "Source", "is_url", "open_source"]

FORMATS = ("csv", "tsv", "parquet", "arrow", "jsonl", "npy", "npz")
SNIFF_BYTES = 4096  # read from a file to tell its format
MAGIC_BYTES = 16  # read from a stream to tell its format: the longest magic is bz2's 10
STDIN = "-"
_DELIMITERS = {"tsv": "\t"}  # --*-format tsv fixes the tab; any other text is sniffed


def open_source(data: Any, role: str, fmt: str | None = None, no_header: bool = False) -> Source:
    """Open a path, a directory or glob of Parquet files, ``-`` (standard input), a URL
    (``s3://``, ``gs://``, ``hdfs://``, ``abfs://``: a file, a folder or a glob, opened
    from the URL and the environment alone, so on any process), or an in-memory table
    as a ``Source``.

    ``role`` ("preds" or "labels") names in-memory inputs in messages (a
    ``tableread.Named`` input names itself); ``fmt`` (one of
    ``FORMATS``) overrides format detection; ``no_header`` (``--no-header``) reads a
    text file whose first line is numbers only as data, its columns named ``0..K-1``.
    """
    if fmt is not None and fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r} (known: {', '.join(FORMATS)})")
    if isinstance(data, str | os.PathLike):
        path = os.fspath(data)
        if path == STDIN:
            return _open_stdin(fmt, no_header)
        if is_url(path):
            return _open_url(path, fmt, no_header)
        return _open_path(path, fmt, no_header)
    return open_memory(data, role)


# -- paths -----------------------------------------------------------------------------


def _open_path(path: str, fmt: str | None, no_header: bool) -> Source:
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        if any(ch in path for ch in "*?["):  # a path that exists is never read as a glob
            return open_glob(path, fmt)
        raise InputError("no such file", file=path) from None
    except OSError as exc:
        raise InputError(f"cannot open: {exc.strerror}", file=path) from None
    if stat.S_ISDIR(mode):
        return open_directory(path, fmt)
    if not stat.S_ISREG(mode):  # a FIFO or a process substitution: one pass, by content
        return _open_stream(_opened(path), path, fmt, no_header=no_header)
    size = os.stat(path).st_size
    with _opened(path) as handle:
        head = read_bytes(handle, SNIFF_BYTES, path)
    compressed = COMPRESSIONS.get(os.path.splitext(path)[1].lower()) or compression(head)
    if compressed is not None:
        named = TEXT_EXTENSIONS.get(extension(path))
        text_kind = fmt or (named if named == "jsonl" else None)  # csv and tsv: sniffed
        return _open_compressed(path, compressed, text_kind, no_header)
    kind = fmt or format_from_name(path, head)
    if kind == "zip":
        kind = zip_format(path, path)
    if kind == "parquet":
        return open_parquet(path, path)
    if kind == "arrow":
        return open_arrow_path(path, head)
    if kind in ("npy", "npz"):
        return open_numpy(path, path, kind)
    handle = _opened(path)
    if kind == "jsonl":
        return open_json(handle, path, size=size, position=handle.tell)
    return _open_csv(handle, path, _DELIMITERS.get(fmt or ""), size, no_header=no_header)


def _opened(path: str) -> BinaryIO:
    try:
        return open(path, "rb")  # noqa: SIM115 - closed by the caller's with
    except OSError as exc:
        raise InputError(f"cannot open: {exc.strerror}", file=path) from None


def _open_compressed(path: str, codec: str, fmt: str | None, no_header: bool) -> Source:
    """A compressed file, decompressed by pyarrow as it is read; progress from the
    compressed bytes read."""
    try:
        raw = pa.OSFile(path)
        stream = pa.CompressedInputStream(raw, codec)
    except (OSError, pa.ArrowException) as exc:
        raise InputError(f"cannot read: {arrow_message(exc)}", file=path) from None
    size = os.stat(path).st_size
    return _open_stream(stream, path, fmt, size=size, position=raw.tell, no_header=no_header)


# -- URLs ------------------------------------------------------------------------------


def _open_url(url: str, fmt: str | None, no_header: bool) -> Source:
    """A URL (``remote``): a file, or a folder or glob of Parquet files read as one
    dataset exactly as a local one is."""
    where = locate(url)
    if where.kind == "folder":
        return open_directory(where.place.url, fmt, where.place, where.name)
    if where.kind == "glob":
        return open_matches(where.name, where.matches(), where.place.url, fmt, where.place)
    if where.kind == "missing":
        raise InputError("no such file", file=where.name)
    return _open_remote_file(where, fmt, no_header)


def _open_remote_file(where: Remote, fmt: str | None, no_header: bool) -> Source:
    """One remote file, its format told as a local file's is (magic bytes, then the
    extension): Parquet (pre-buffered) and Arrow IPC files are read at random, NumPy
    files whole, the rest streamed (decompressed on the way) as a local stream is."""
    fs, path, name, size = where.place.fs, where.path, where.name, where.size
    plain = where.place.url  # the URL without its query: its extension counts
    try:
        handle = fs.open_input_file(path)
    except (OSError, pa.ArrowException) as exc:
        raise InputError(f"cannot open: {arrow_message(exc)}", file=name) from None
    head = read_bytes(handle, SNIFF_BYTES, name)
    compressed = COMPRESSIONS.get(os.path.splitext(plain)[1].lower()) or compression(head)
    if compressed is not None:
        named = TEXT_EXTENSIONS.get(extension(plain))
        text_kind = fmt or (named if named == "jsonl" else None)  # csv and tsv: sniffed
        raw = _remote_stream(fs, path, name)
        stream = pa.CompressedInputStream(raw, compressed)
        return _open_stream(stream, name, text_kind, True, size, raw.tell, no_header)
    try:
        kind = fmt or format_from_name(plain, head)
    except InputError as error:  # named by the URL the user gave
        error.file = name
        raise
    if kind in ("zip", "npy", "npz"):
        handle.seek(0)
        data = _rest(b"", handle, name, True)
        if kind == "zip":
            kind = zip_format(data, name)
        return open_numpy(data, name, kind)
    if kind == "parquet":
        return open_parquet(handle, name, remote=True)
    if kind == "arrow" and not head.startswith(ARROW_STREAM_MAGIC):
        return open_arrow_whole(handle, name, head)
    stream = _remote_stream(fs, path, name)
    if kind == "arrow":
        return open_arrow_stream(stream, name, size, stream.tell)
    if kind == "jsonl":
        return open_json(stream, name, size=size, position=stream.tell)
    return _open_csv(stream, name, _DELIMITERS.get(fmt or ""), size, no_header=no_header)


def _remote_stream(fs: Any, path: str, name: str) -> Any:
    """A remote file as a one-pass stream (one request, read as it arrives), as it is
    stored: its magic bytes, not its extension, say whether it is compressed."""
    try:
        return fs.open_input_stream(path, compression=None)
    except (OSError, pa.ArrowException) as exc:
        raise InputError(f"cannot open: {arrow_message(exc)}", file=name) from None


# -- standard input, FIFOs and compressed streams --------------------------------------


def _open_stdin(fmt: str | None, no_header: bool) -> Source:
    stream = sys.stdin.buffer if sys.stdin is not None else None
    if stream is None or stream.closed:
        raise InputError("standard input is closed", file="<stdin>")
    if stream.isatty():
        raise InputError(
            "standard input is a terminal; pipe a file into it or give a path", file="<stdin>"
        )
    return _open_stream(stream, "<stdin>", fmt, close=False, no_header=no_header)


def _open_stream(
    handle: Any,
    name: str,
    fmt: str | None,
    close: bool = True,
    size: int | None = None,
    position: Callable[[], int] | None = None,
    no_header: bool = False,
) -> Source:
    """A one-pass input, its format from ``fmt`` or its first bytes: Parquet and Arrow
    IPC files and NumPy files are read whole, as they must be to seek; CSV, JSON Lines and Arrow IPC
    streams are read as they arrive; compressed input is decompressed on the way."""
    head = _stream_head(handle, name)
    compressed = compression(head)
    if compressed is not None:
        inner = pa.CompressedInputStream(joined(head, handle, close), compressed)
        return _open_stream(inner, name, fmt, True, size, position, no_header)
    kind = fmt or binary_format(head, name) or text_format(head, name)
    if kind in ("zip", "npy", "npz"):
        data = _rest(head, handle, name, close)
        if kind == "zip":
            kind = zip_format(data, name)
        return open_numpy(data, name, kind)
    if kind == "parquet":
        return open_parquet(pa.BufferReader(_rest(head, handle, name, close)), name)
    if kind == "arrow":
        if head.startswith(ARROW_STREAM_MAGIC):
            return open_arrow_stream(joined(head, handle, close), name, size, position)
        return open_arrow_whole(pa.BufferReader(_rest(head, handle, name, close)), name, head)
    if kind == "jsonl":
        return open_json(joined(head, handle, close), name, size=size, position=position)
    delimiter = _DELIMITERS.get(kind or "")
    return _open_csv(handle, name, delimiter, size, head, close, position, no_header)


def _stream_head(handle: Any, name: str) -> bytes:
    """The first bytes: enough for any magic, and the first that are not white space."""
    head = read_bytes(handle, MAGIC_BYTES, name)
    while not head.strip() and len(head) < SNIFF_BYTES:
        more = read_bytes(handle, MAGIC_BYTES, name)
        if not more:
            break
        head += more
    return head


def _rest(head: bytes, handle: Any, name: str, close: bool) -> bytes:
    data = head + read_bytes(handle, -1, name)
    if close:
        handle.close()
    return data


# -- CSV and TSV -----------------------------------------------------------------------


def _open_csv(
    handle: BinaryIO,
    name: str,
    delimiter: str | None,
    size: int | None,
    head: bytes = b"",
    close: bool = True,
    position: Callable[[], int] | None = None,
    no_header: bool = False,
) -> Source:
    reader = CsvReader(handle, name, delimiter, head, close, no_header)

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
        line_of=reader.line_of,
        generated_names=reader.generated_names,
    )
