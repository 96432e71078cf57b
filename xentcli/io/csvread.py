"""Text tables (CSV, TSV, ``;``, ``|`` or space separated) as a stream of record batches,
in one pass over the input.

The first bytes (the head) give the delimiter (sniffed, whatever the extension), the
header (a first line of numbers only is data: an error, or with ``--no-header`` the
columns ``0..K-1``; numpy's ``# `` header is a header) and the column types; then the
same stream is cut into line-aligned chunks, each parsed by pyarrow with the header
line in front, two at a time in a thread pool of our own. A UTF-8 BOM is skipped; runs
of spaces (numpy ``savetxt``) are collapsed to one delimiter before parsing (inside
quoted cells too, where they are rare). Rows are counted with the line each starts on,
so that every message names both. Memory is bounded by the
chunks in flight, standard input and FIFOs stream like files, and an error is
located inside the chunk that failed, so its row is named without reading the
input again.
"""

from __future__ import annotations

import bisect
import csv
import io
import itertools
import re
import select
from collections import deque
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from ..errors import InputError
from .arrays import compute as pc

if TYPE_CHECKING:
    from concurrent.futures import Future

HEAD_BYTES = 1 << 20  # read first, for the delimiter and the column types
CHUNK_BYTES = 4 << 20  # a line-aligned chunk of text, parsed by one thread
THREADS = 2  # chunks parsed at once: the machine's cores
MAX_ROW_BYTES = 1 << 30  # the head grows up to this to hold the header and a first row
NUMBER = (  # what Arrow parses as a float: decimals, exponents, inf, infinity, nan
    r"^\s*[+-]?((\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|(?i:inf|infinity|nan))\s*$"
)
_DECIMAL_COMMA = re.compile(r"^\s*[+-]?\d+,\d+\s*$")  # 0,25: Excel's numbers in some locales
_INTEGER = re.compile(r"^[+-]?\d+$")
BOM = b"\xef\xbb\xbf"  # UTF-8's byte order mark, which Excel writes
SNIFF_BYTES = 64 << 10  # the first lines, to sniff the delimiter from
SNIFF_LINES = 50
CANDIDATES = (",", "\t", ";", "|")
_COLUMN_NUMBER = re.compile(r"CSV column #(\d+)")
_FIELD_COUNTS = re.compile(r"Expected (\d+) columns, got (\d+)")


class CsvReader:
    """One text table: its delimiter, header and schema from the head, and its batches
    from a single pass. ``line_of(row)`` is the line a data row starts on."""

    def __init__(
        self,
        handle: BinaryIO,
        name: str,
        delimiter: str | None,
        head: bytes = b"",
        close: bool = True,
        no_header: bool = False,
    ) -> None:
        self.name = name
        self.handle: BinaryIO | None = handle
        self.close = close  # standard input is left open for whoever else holds it
        raw = _read_head(handle, head, name)
        self.consumed = 0  # bytes handed to the parser, for the progress bar
        body = raw[len(BOM) :] if raw.startswith(BOM) else raw
        if not body.strip():
            raise InputError("the file is empty (not even a header row)", file=name)
        end = _header_end(body)
        first = body[: end + 1] if end >= 0 else _with_line_end(body)
        rest = body[end + 1 :] if end >= 0 else b""
        commented = first.startswith(b"# ")  # numpy.savetxt(header=...): "# a b c"
        if commented:
            first = first[2:]
        sample = first + rest[: _safe_cut(rest[:SNIFF_BYTES])]
        self.spaces = False  # runs of spaces and tabs separate the columns
        self.generated_names = False  # --no-header named the columns 0..K-1
        if delimiter is None:
            delimiter, self.spaces = sniff_delimiter(sample)
        self.delimiter = delimiter
        self.parse = pacsv.ParseOptions(delimiter=self.delimiter)
        fields = self._fields(first)
        self.header_lines = first.count(b"\n")  # lines before the first data row
        if not commented and self._is_data(fields, sample[len(first) :], no_header):
            first = self.delimiter.join(str(j) for j in range(len(fields))).encode() + b"\n"
            rest = body
            self.header_lines = 0
            self.generated_names = True
        self.header = self._normal(_with_line_end(first))
        self.rest = rest
        self._lines = _LineMap()
        self.schema = self._schema()

    def line_of(self, row: int) -> int | None:
        """The 1-based line that 0-based data row ``row`` starts on, once it is read."""
        return self._lines.line_of(row)

    def _fields(self, line: bytes) -> list[str]:
        text = line.decode("utf-8", errors="replace").rstrip("\r\n")
        if self.spaces:
            return text.split()
        return next(csv.reader([text], delimiter=self.delimiter), [])

    def _is_data(self, fields: list[str], after: bytes, no_header: bool) -> bool:
        """Whether a first line is data: numbers only (an error without --no-header),
        unless it is pandas' header ``0..K-1`` over columns that are not all integers."""
        if not fields or not all(re.match(NUMBER, f) or _DECIMAL_COMMA.match(f) for f in fields):
            return False
        comma = next((f for f in fields if _DECIMAL_COMMA.match(f)), None)
        if comma is not None:
            raise InputError(
                f"{comma.strip()!r} is a number with a decimal comma; xent reads '.' as the "
                "decimal point",
                file=self.name,
                line=1,
                hint="write the file with a decimal point (pandas: to_csv(decimal='.'))",
            )
        if no_header:
            return True
        if fields == [str(j) for j in range(len(fields))] and self._not_integers(after):
            return False  # pandas wrote the column names 0..K-1 of a float table
        shown = ", ".join(repr(f.strip()) for f in fields[:3]) + (
            ", ..." if len(fields) > 3 else ""
        )
        hint = "pass --no-header to read it as data, with the columns named 0..K-1"
        if [f.strip() for f in fields] == ["0"]:  # pd.Series(y).to_csv(index=False)
            hint += (
                "; if '0' is the header pandas writes above an unnamed Series, write the "
                "file without it (pandas: header=False) or with a named header (pandas: "
                "to_csv(index=False, header=['label']))"
            )
        raise InputError(
            f"the first line is numbers only ({shown}): it is data, not a header",
            file=self.name,
            line=1,
            hint=hint,
        )

    def _not_integers(self, after: bytes) -> bool:
        """Whether the lines after the first hold a value that is not an integer."""
        for line in after.splitlines()[:SNIFF_LINES]:
            if any(f.strip() and not _INTEGER.match(f.strip()) for f in self._fields(line)):
                return True
        return False

    def _normal(self, text: bytes) -> bytes:
        """``text`` with runs of spaces as one delimiter, when spaces separate columns."""
        return _collapse_spaces(text) if self.spaces else text

    def _schema(self) -> pa.Schema:
        """Types pyarrow guesses from the head, with two corrections: a column that is
        mostly numbers there (a stray word in a numeric column) and a column with no
        values yet (a header-only file) are numeric, so that reading them as numbers
        names the row of any cell that is not one. A cell that is not UTF-8 text, or a
        column of numbers with a decimal comma, is an error."""
        cut = _safe_cut(self.rest) or len(self.rest)
        body = self._normal(self.rest[:cut])
        text = self.header + body
        try:
            table = _parse(
                text, self.parse, pacsv.ConvertOptions(null_values=[""], strings_can_be_null=True)
            )
            columns = table.columns  # pyarrow decodes the header's names here
        except (OSError, pa.ArrowException) as exc:
            raise self._error(exc, text, 0, self.header_lines) from None
        except UnicodeDecodeError:
            raise InputError(
                "the header is not UTF-8 text: is this a CSV file?", file=self.name
            ) from None
        fields = []
        for column, values in zip(table.schema, columns, strict=True):
            kind = column.type
            if pa.types.is_null(kind):
                kind = pa.float64()
            elif pa.types.is_binary(kind):  # pyarrow's type for text that is not UTF-8
                raise self._not_utf8(body, 0, self.header_lines, column.name)
            elif pa.types.is_string(kind) and len(values):
                present = len(values) - values.null_count
                numbers = pc.sum(pc.match_substring_regex(values, NUMBER)).as_py() or 0
                commas = pc.match_substring_regex(values, _DECIMAL_COMMA.pattern)
                if (pc.sum(commas).as_py() or 0) * 2 > present - numbers and present > numbers:
                    raise self._decimal_comma(values, commas, body, column.name)
                if numbers * 2 > present:
                    kind = pa.float64()
            fields.append(column.with_type(kind))
        return pa.schema(fields)

    def _decimal_comma(
        self, values: pa.ChunkedArray, commas: pa.ChunkedArray, body: bytes, column: str
    ) -> InputError:
        row = pc.index(commas, True).as_py()
        return InputError(
            f"{values[row].as_py().strip()!r} is a number with a decimal comma; xent reads "
            "'.' as the decimal point",
            file=self.name,
            column=column,
            row=row,
            line=self.header_lines + _line_offset(body, row),
            hint="write the file with a decimal point (pandas: to_csv(decimal='.'))",
        )

    def _not_utf8(
        self, body: bytes, rows_before: int, lines_before: int, column: str | None
    ) -> InputError:
        """The error for a cell that is not UTF-8 text, naming its row and line."""
        try:
            body.decode("utf-8")
            row = line = None
        except UnicodeDecodeError as exc:
            line = lines_before + body.count(b"\n", 0, exc.start) + 1
            starts = _record_starts(body)
            local = int(np.searchsorted(starts, exc.start, side="right")) - 1
            row = rows_before + max(local, 0)
        return InputError(
            "not UTF-8 text",
            file=self.name,
            column=column,
            row=row,
            line=line,
            hint="save the file as UTF-8",
        )

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
        from concurrent.futures import ThreadPoolExecutor  # here: CSV only (issue 14)

        pool = ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="xent-csv")
        # Our own pool, joined before we return: pyarrow's threaded read_csv left native
        # threads that sometimes aborted the interpreter at exit (apache/arrow#34314).
        try:
            in_flight: deque[_Job] = deque()
            rows_before = 0
            lines_before = self.header_lines
            for piece in _pieces(self.rest, handle):
                self.consumed += len(piece)
                starts_at = lines_before
                lines_before += piece.count(b"\n")
                if piece.isspace():
                    continue
                text = self.header + self._normal(piece)
                future = pool.submit(_parse, text, self.parse, convert)
                in_flight.append(_Job(text, starts_at, future))
                # Finish a chunk when the pool is full, when it is done, or when the next
                # read would wait on a slow producer: its rows are scored meanwhile.
                while in_flight and (
                    len(in_flight) > THREADS
                    or in_flight[0].future.done()
                    or not _more_waiting(handle)
                ):
                    rows_before = yield from self._finish(in_flight.popleft(), rows_before)
            while in_flight:
                rows_before = yield from self._finish(in_flight.popleft(), rows_before)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            if self.close:
                handle.close()

    def _finish(self, job: _Job, rows_before: int) -> Generator[pa.RecordBatch, None, int]:
        """Yield a parsed chunk's batches; return the rows counted so far."""
        try:
            table = job.future.result()
        except (OSError, pa.ArrowException) as exc:
            raise self._error(exc, job.text, rows_before, job.lines_before) from None
        self._lines.add(rows_before, job.lines_before, job.text[len(self.header) :], table.num_rows)
        yield from table.to_batches()
        return rows_before + table.num_rows

    def _error(
        self, exc: BaseException, text: bytes, rows_before: int, lines_before: int
    ) -> InputError:
        """One line for a parse failure, with the row (and its line) found in the chunk
        ``text``, which starts with the header line and then row ``rows_before``."""
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        body = text[len(self.header) :]

        def line(row: int) -> int:
            return lines_before + _line_offset(body, row)

        if "Empty CSV file" in message:
            return InputError("the file is empty (not even a header row)", file=self.name)
        if "conversion error" in message:
            found = _bad_cell(text, self.parse, message)
            if found is not None:
                column, row, value = found
                comma = _DECIMAL_COMMA.match(value or "")
                return InputError(
                    f"{value.strip()!r} is a number with a decimal comma; xent reads '.' as the "
                    "decimal point"
                    if comma
                    else f"not a number: {value!r}",
                    file=self.name,
                    column=column,
                    row=rows_before + row,
                    line=line(row),
                )
        if "invalid UTF8" in message or ("conversion error" in message and not _is_utf8(body)):
            number = _COLUMN_NUMBER.search(message)
            column = self.schema.names[int(number[1])] if number else None
            return self._not_utf8(body, rows_before, lines_before, column)
        if "Expected" in message and "columns, got" in message:
            counts = _FIELD_COUNTS.search(message)
            detail = f"expected {counts[1]} columns, got {counts[2]}" if counts else "bad row"
            ragged = _ragged_row(text, self.delimiter)
            return InputError(
                f"malformed CSV: {detail} (a ragged row or an unclosed quote)",
                file=self.name,
                row=None if ragged is None else rows_before + ragged,
                line=None if ragged is None else line(ragged),
            )
        return InputError(f"cannot read as CSV: {message}", file=self.name)


@dataclass
class _Job:
    """A chunk in the parser pool: its text (header line first), the lines before it."""

    text: bytes
    lines_before: int
    future: Future[pa.Table]


class _LineMap:
    """Which line each data row starts on, chunk by chunk: a chunk whose rows are one
    line each is two numbers; one with blank lines or quoted cells that hold line ends
    keeps the line of each of its rows."""

    def __init__(self) -> None:
        self._rows: list[int] = []  # the first row of each chunk
        self._lines: list[int] = []  # the lines before it
        self._offsets: list[np.ndarray | None] = []  # each row's line in the chunk

    def add(self, rows_before: int, lines_before: int, body: bytes, rows: int) -> None:
        one_line_each = rows == body.count(b"\n") + (not body.endswith(b"\n"))
        self._rows.append(rows_before)
        self._lines.append(lines_before)
        self._offsets.append(None if one_line_each else _row_lines(body))

    def line_of(self, row: int) -> int | None:
        chunk = bisect.bisect_right(self._rows, row) - 1
        if chunk < 0:
            return None
        local = row - self._rows[chunk]
        offsets = self._offsets[chunk]
        if offsets is None:
            return self._lines[chunk] + local + 1
        return self._lines[chunk] + int(offsets[local]) + 1 if local < len(offsets) else None


def sniff_delimiter(sample: bytes) -> tuple[str, bool]:
    """A text table's delimiter, from its first lines: whichever of , tab ; | splits
    every line into the same number (two or more) of fields, the most fields winning;
    else runs of spaces (``numpy.savetxt``), returned as ``(" ", True)``; else the one
    of , tab ; | the header line uses most."""
    text = sample.decode("utf-8", errors="replace")
    best, widest = None, 1
    for delimiter in CANDIDATES:
        try:
            widths = {
                len(r)
                for r in itertools.islice(
                    csv.reader(io.StringIO(text), delimiter=delimiter), SNIFF_LINES
                )
                if r
            }
        except csv.Error:
            continue
        if len(widths) == 1 and (width := widths.pop()) > widest:
            best, widest = delimiter, width
    if best is not None:
        return best, False
    lines = [line for line in text.splitlines()[:SNIFF_LINES] if line.strip()]
    if len({len(line.split()) for line in lines}) == 1 and len(lines[0].split()) > 1:
        return " ", True
    first = text.split("\n", 1)[0]
    counts = {d: first.count(d) for d in CANDIDATES}
    most = max(counts, key=lambda d: counts[d])
    return (most if counts[most] else ","), False


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


def _pieces(rest: bytes, handle: BinaryIO) -> Iterator[bytes]:
    """The data after the header line (``rest`` of the head, then the input) as pieces
    of about ``CHUNK_BYTES``, each ending at a line end outside quotes, so a quoted
    newline is never split."""
    pending = bytearray(rest)
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
        yield piece


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


def _collapse_spaces(text: bytes) -> bytes:
    """Each run of spaces and tabs between two values as one space; runs at the start or
    the end of a line dropped. NumPy does it ten times faster than a regular expression."""
    data = np.frombuffer(text, np.uint8)
    if not len(data):
        return text
    space = (data == 32) | (data == 9)
    before = np.concatenate(([False], space[:-1]))
    after = np.concatenate((space[1:], [False]))
    starts = np.flatnonzero(space & ~before)
    ends = np.flatnonzero(space & ~after)
    line_end = (data == 10) | (data == 13)
    inside = starts > 0  # a run that follows a value on its line ...
    inside[inside] = ~line_end[starts[inside] - 1]
    followed = ends < len(data) - 1  # ... and is followed by one
    followed[followed] = ~line_end[ends[followed] + 1]
    keep = ~space
    keep[ends[inside & followed]] = True
    out = data[keep].copy()
    out[out == 9] = 32
    return out.tobytes()


def _is_utf8(text: bytes) -> bool:
    try:
        text.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _record_starts(body: bytes) -> np.ndarray:
    """The byte offset where each record of ``body`` starts: after each line end outside
    quotes, skipping empty lines as pyarrow does."""
    data = np.frombuffer(body, np.uint8)
    newlines = np.flatnonzero(data == 10)
    quotes = np.flatnonzero(data == 34)
    ends = newlines[np.searchsorted(quotes, newlines) % 2 == 0] if quotes.size else newlines
    starts = np.concatenate(([0], ends + 1))
    stops = np.concatenate((ends, [len(body)]))
    length = stops - starts
    first = data[np.minimum(starts, max(len(body) - 1, 0))] if len(body) else np.zeros(0)
    empty = (length == 0) | ((length == 1) & (first == 13))
    return starts[~empty]


def _row_lines(body: bytes) -> np.ndarray:
    """The 0-based line (within ``body``) on which each record starts."""
    newlines = np.flatnonzero(np.frombuffer(body, np.uint8) == 10)
    return np.searchsorted(newlines, _record_starts(body))


def _line_offset(body: bytes, row: int) -> int:
    """The 1-based line within ``body`` of its record ``row``."""
    lines = _row_lines(body)
    return int(lines[row]) + 1 if row < len(lines) else row + 1


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
