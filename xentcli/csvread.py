"""CSV and TSV as a stream of record batches, in one pass over the input.

The first bytes (the head) give the delimiter and the column types; then the same
stream is cut into line-aligned chunks, each parsed by pyarrow with the header line
in front, two at a time in a thread pool of our own. Memory is bounded by the
chunks in flight, standard input and FIFOs stream like files, and an error is
located inside the chunk that failed, so its row is named without reading the
input again.
"""

from __future__ import annotations

import csv
import io
import re
import select
from collections import deque
from collections.abc import Generator, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import BinaryIO

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from .errors import InputError

HEAD_BYTES = 1 << 20  # read first, for the delimiter and the column types
CHUNK_BYTES = 4 << 20  # a line-aligned chunk of text, parsed by one thread
THREADS = 2  # chunks parsed at once: the machine's cores
MAX_ROW_BYTES = 1 << 30  # the head grows up to this to hold the header and a first row
NUMBER = (  # what Arrow parses as a float: decimals, exponents, inf, infinity, nan
    r"^\s*[+-]?((\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|(?i:inf|infinity|nan))\s*$"
)
_COLUMN_NUMBER = re.compile(r"CSV column #(\d+)")
_FIELD_COUNTS = re.compile(r"Expected (\d+) columns, got (\d+)")


class CsvReader:
    """One CSV input: its schema from the head, and its batches from a single pass."""

    def __init__(
        self,
        handle: BinaryIO,
        name: str,
        delimiter: str | None,
        head: bytes = b"",
        close: bool = True,
    ) -> None:
        self.name = name
        self.handle: BinaryIO | None = handle
        self.close = close  # standard input is left open for whoever else holds it
        self.head = _read_head(handle, head, name)
        self.delimiter = delimiter or sniff_delimiter(self.head)
        self.parse = pacsv.ParseOptions(delimiter=self.delimiter)
        self.consumed = 0  # bytes handed to the parser, for the progress bar
        self.schema = self._schema()

    def _schema(self) -> pa.Schema:
        """Types pyarrow guesses from the head, with two corrections: a column that is
        mostly numbers there (a stray word in a numeric column) and a column with no
        values yet (a header-only file) are numeric, so that reading them as numbers
        names the row of any cell that is not one."""
        cut = _safe_cut(self.head) or len(self.head)
        text = _with_line_end(self.head[:cut])
        if not text.strip():
            raise InputError("the file is empty (not even a header row)", file=self.name)
        try:
            table = _parse(
                text, self.parse, pacsv.ConvertOptions(null_values=[""], strings_can_be_null=True)
            )
            columns = table.columns  # pyarrow decodes the header's names here
        except (OSError, pa.ArrowException) as exc:
            raise self._error(exc, text, 0) from None
        except UnicodeDecodeError:
            raise InputError(
                "the header is not UTF-8 text: is this a CSV file?", file=self.name
            ) from None
        fields = []
        for column, values in zip(table.schema, columns, strict=True):
            kind = column.type
            if pa.types.is_null(kind):
                kind = pa.float64()
            elif pa.types.is_string(kind) and len(values):
                numbers = pc.sum(pc.match_substring_regex(values, NUMBER)).as_py() or 0
                if numbers * 2 > len(values) - values.null_count:
                    kind = pa.float64()
            fields.append(column.with_type(kind))
        return pa.schema(fields)

    def batches(
        self, columns: Sequence[str], types: dict[str, pa.DataType]
    ) -> Iterator[pa.RecordBatch]:
        """Stream ``columns``; every one gets a fixed type, so that chunks agree."""
        if self.handle is None:
            raise RuntimeError(f"{self.name} can be read only once")
        handle, self.handle = self.handle, None
        fixed = {c: types.get(c, self.schema.field(c).type) for c in columns}
        convert = pacsv.ConvertOptions(
            include_columns=list(columns),
            column_types=fixed,
            null_values=[""],
            strings_can_be_null=True,
        )
        pool = ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="xent-csv")
        # Our own pool, joined before we return: pyarrow's threaded read_csv left native
        # threads that sometimes aborted the interpreter at exit (apache/arrow#34314).
        try:
            in_flight: deque[tuple[bytes, Future[pa.Table]]] = deque()
            rows_before = 0
            for text in _pieces(self.head, handle):
                self.consumed += len(text)
                in_flight.append((text, pool.submit(_parse, text, self.parse, convert)))
                # Finish a chunk when the pool is full, when it is done, or when the next
                # read would wait on a slow producer: its rows are scored meanwhile.
                while in_flight and (
                    len(in_flight) > THREADS or in_flight[0][1].done() or not _more_waiting(handle)
                ):
                    rows_before = yield from self._finish(in_flight.popleft(), rows_before)
            while in_flight:
                rows_before = yield from self._finish(in_flight.popleft(), rows_before)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            if self.close:
                handle.close()

    def _finish(
        self,
        job: tuple[bytes, Future[pa.Table]],
        rows_before: int,
    ) -> Generator[pa.RecordBatch, None, int]:
        """Yield a parsed chunk's batches; return the rows counted so far."""
        text, future = job
        try:
            table = future.result()
        except (OSError, pa.ArrowException) as exc:
            raise self._error(exc, text, rows_before) from None
        yield from table.to_batches()
        return rows_before + table.num_rows

    def _error(self, exc: BaseException, text: bytes, rows_before: int) -> InputError:
        """One line for a parse failure, with the row found in the chunk ``text``."""
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if "Empty CSV file" in message:
            return InputError("the file is empty (not even a header row)", file=self.name)
        if "conversion error" in message:
            found = _bad_cell(text, self.parse, message)
            if found is not None:
                column, row, value = found
                return InputError(
                    f"not a number: {value!r}", file=self.name, column=column, row=rows_before + row
                )
        if "invalid UTF8" in message:
            number = _COLUMN_NUMBER.search(message)
            bad_row = _first_non_utf8_row(text)
            return InputError(
                "not UTF-8 text",
                file=self.name,
                column=self.schema.names[int(number[1])] if number else None,
                row=None if bad_row is None else rows_before + bad_row,
            )
        if "Expected" in message and "columns, got" in message:
            counts = _FIELD_COUNTS.search(message)
            detail = f"expected {counts[1]} columns, got {counts[2]}" if counts else "bad row"
            ragged = _ragged_row(text, self.delimiter)
            return InputError(
                f"malformed CSV: {detail} (a ragged row or an unclosed quote)",
                file=self.name,
                row=None if ragged is None else rows_before + ragged,
            )
        return InputError(f"cannot read as CSV: {message}", file=self.name)


def sniff_delimiter(head: bytes) -> str:
    """A text table's delimiter: whichever of , tab ; | its header line uses most."""
    first = head.split(b"\n", 1)[0].decode("utf-8", errors="replace")
    counts = {d: first.count(d) for d in (",", "\t", ";", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _parse(text: bytes, parse: pacsv.ParseOptions, convert: pacsv.ConvertOptions) -> pa.Table:
    # One block per chunk: the pool gives the parallelism, and no row, however wide,
    # can straddle two blocks.
    read = pacsv.ReadOptions(block_size=len(text) + 1, use_threads=False)
    return pacsv.read_csv(
        pa.BufferReader(text), read_options=read, parse_options=parse, convert_options=convert
    )


def _read_head(handle: BinaryIO, head: bytes, name: str) -> bytes:
    """About ``HEAD_BYTES`` (less if the producer is slow, all if the input is short),
    and in any case the header and a first whole row, up to ``MAX_ROW_BYTES``."""
    buffer = bytearray(head)
    try:
        at_end = _fill(handle, buffer, HEAD_BYTES)
        while not at_end and not _has_a_row(buffer) and len(buffer) < MAX_ROW_BYTES:
            at_end = _fill(handle, buffer, max(len(buffer) * 4, HEAD_BYTES))
    except OSError as exc:
        raise InputError(f"cannot read: {exc}", file=name) from None
    return bytes(buffer)


def _has_a_row(data: bytes | bytearray) -> bool:
    cut = _safe_cut(data)
    return bool(cut) and _header_end(data) + 1 < cut


def _fill(handle: BinaryIO, buffer: bytearray, size: int) -> bool:
    """Read into ``buffer`` until it holds ``size`` bytes, the input ends (True), or the
    producer is slow with nothing more waiting: then what has come is scored now."""
    while len(buffer) < size:
        read1 = getattr(handle, "read1", None)
        want = size - len(buffer)
        more = read1(want) if read1 is not None else handle.read(want)
        if not more:
            return True
        buffer += more
        if not _more_waiting(handle):
            break
    return False


def _more_waiting(handle: BinaryIO) -> bool:
    """Whether a read would return at once: always for files, by select for pipes."""
    try:
        descriptor = handle.fileno()
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return True
    try:
        ready, _, _ = select.select([descriptor], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(ready)


def _pieces(head: bytes, handle: BinaryIO) -> Iterator[bytes]:
    """The text as pieces of about ``CHUNK_BYTES``, each starting with the header line
    and ending at a line end outside quotes, so a quoted newline is never split."""
    newline = _header_end(head)
    if newline < 0:  # a header and nothing after it, or one endless line
        yield _with_line_end(head + handle.read())
        return
    header = head[: newline + 1]
    pending = bytearray(head[newline + 1 :])
    at_end = False
    while not (at_end and not pending):
        if not at_end and (not pending or _more_waiting(handle)):  # else score what came
            at_end = _fill(handle, pending, CHUNK_BYTES)
        cut = len(pending) if at_end else _safe_cut(pending)
        if cut == 0:  # no whole line yet
            at_end = _fill(handle, pending, len(pending) + CHUNK_BYTES)
            continue
        piece = bytes(pending[:cut])
        del pending[:cut]
        if not piece.isspace():
            yield header + piece


def _with_line_end(text: bytes) -> bytes:
    """pyarrow takes a lone header line without a line end for an empty file."""
    return text if not text or text.endswith(b"\n") else text + b"\n"


def _header_end(data: bytes | bytearray) -> int:
    """The index of the newline that ends the header line (quotes balanced), or -1."""
    end = data.find(b"\n")
    while end >= 0 and data.count(b'"', 0, end) % 2:
        end = data.find(b"\n", end + 1)
    return end


def _safe_cut(data: bytes | bytearray) -> int:
    """The length up to the last line end that lies outside any quoted field, or 0."""
    end = data.rfind(b"\n")
    if data.find(b'"') < 0:  # no quotes at all (the usual numeric file): any line end will do
        return end + 1
    while end >= 0:
        if data.count(b'"', 0, end) % 2 == 0:
            return end + 1
        end = data.rfind(b"\n", 0, end)
    return 0


def _bad_cell(text: bytes, parse: pacsv.ParseOptions, message: str) -> tuple[str, int, str] | None:
    """The column, row and text of the first cell of ``text`` that is not a number."""
    match = _COLUMN_NUMBER.search(message)
    if match is None:
        return None
    try:
        names = _parse(text[: _header_end(text) + 1], parse, pacsv.ConvertOptions()).column_names
        column = names[int(match.group(1))]
        cells = _parse(
            text,
            parse,
            pacsv.ConvertOptions(
                include_columns=[column],
                column_types={column: pa.string()},
                null_values=[""],
                strings_can_be_null=True,
            ),
        ).column(0)
    except (OSError, pa.ArrowException, IndexError):
        return None
    ok = pc.or_kleene(pc.is_null(cells), pc.match_substring_regex(cells, NUMBER))
    bad = pc.index(ok, False).as_py()
    return (column, bad, cells[bad].as_py()) if bad >= 0 else None


def _first_non_utf8_row(text: bytes) -> int | None:
    """The 0-based data row of ``text`` (after its header line) that is not UTF-8."""
    for row, line in enumerate(text[_header_end(text) + 1 :].splitlines()):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            return row
    return None


def _ragged_row(text: bytes, delimiter: str) -> int | None:
    """The 0-based data row of ``text`` whose field count differs from the header's."""
    reader = csv.reader(
        io.StringIO(text.decode("utf-8", errors="replace"), newline=""),
        delimiter=delimiter,
        strict=True,
    )
    row = -1
    try:
        width = len(next(reader))
        for record in reader:
            if not record:
                continue
            row += 1
            if len(record) != width:
                return row
    except csv.Error:
        return row + 1
    except StopIteration:
        return None
    return None
