"""JSON Lines as a stream of record batches, parsed by pyarrow block by block.

The first rows (``JSON_PROBE_BYTES``) fix the columns and their types, as the
streaming reader needs; pyarrow's errors, which count rows from the start of their
block, become lines that name the column and the row in the whole input.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pyarrow as pa
import pyarrow.json as pajson

from ..errors import InputError
from .onepass import Peek, joined, read_bytes
from .sourcebase import Source, arrow_message, make_source

JSON_PROBE_BYTES = 1 << 20  # the first rows of JSON Lines, whose types fix every later row's
JSON_BLOCK_BYTES = 2 << 20  # a block of JSON Lines parsed at once; pyarrow reads about 20
# blocks ahead, so this bounds the memory (170 MB for any size; 8 MB blocks: 400 MB)
_JSON_ROW = re.compile(r"\s*in row (\d+)\s*$")
_JSON_COLUMN = re.compile(r"Column\(/([^)]*)\)")


def open_json(
    stream: Any, name: str, *, size: int | None, position: Callable[[], int] | None
) -> Source:
    """JSON Lines, streamed block by block. The first rows fix the columns and their
    types (a column with no values there is numeric), as the streaming reader needs."""
    probe = read_bytes(stream, JSON_PROBE_BYTES, name)
    while len(probe) >= JSON_PROBE_BYTES and probe.find(b"\n") < 0:  # one long first row
        more = read_bytes(stream, len(probe), name)
        if not more:
            break
        probe += more
    complete = probe if len(probe) < JSON_PROBE_BYTES else probe[: probe.rfind(b"\n") + 1]
    if not complete.strip():
        raise InputError("the file is empty (no JSON rows)", file=name)
    if complete.lstrip().startswith(b"["):
        raise json_array_error(name)
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
    source = joined(probe, stream, True)
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
    peek = Peek(reader, name, lambda exc, row: _json_error(exc, name, row))
    return make_source(
        name,
        "jsonl",
        schema,
        None,
        peek.opener,
        peek.first_rows,
        size=size,
        position=position,
    )


def json_array_error(name: str) -> InputError:
    """The error for a JSON array, which is not JSON Lines."""
    return InputError(
        "is a JSON array; xent reads JSON Lines, one object per line",
        file=name,
        hint="pandas writes them with to_json(orient='records', lines=True)",
    )


def _json_error(exc: BaseException, name: str, rows_before: int) -> InputError:
    """One line for a JSON failure; pyarrow counts rows from the start of its block."""
    message = arrow_message(exc).removeprefix("JSON parse error: ")
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
