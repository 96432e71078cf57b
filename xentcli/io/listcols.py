"""A numeric list column (one list of class scores per row) as one column per element.

Parquet, Arrow and JSON Lines can hold the score vector as a list; the rest of xent
wants one column per class. The width is fixed by the type (a fixed size list) or by
the first row's list, and every later row is checked against it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from ..errors import InputError
from .arrays import mask, numbers


@dataclass(frozen=True)
class ListColumn:
    """A list column presented as ``width`` columns ``name[0]`` .. ``name[width-1]``."""

    name: str
    width: int
    kind: pa.DataType  # of the element columns: the list's float type, else float64

    @property
    def names(self) -> list[str]:
        return [f"{self.name}[{j}]" for j in range(self.width)]


def _is_numeric_list(kind: pa.DataType) -> bool:
    lists = pa.types.is_list(kind) or pa.types.is_large_list(kind)
    if not (lists or pa.types.is_fixed_size_list(kind)):
        return False
    element = kind.value_type
    return bool(pa.types.is_integer(element) or pa.types.is_floating(element))


def list_columns(
    schema: pa.Schema,
    first_rows: Callable[[Sequence[str]], pa.RecordBatch | None] | None,
    name: str,
) -> dict[str, ListColumn]:
    """The numeric list columns and their widths: a fixed size list's size, else the
    length of the first row's list."""
    lists = [f for f in schema if _is_numeric_list(f.type)]
    variable = [f.name for f in lists if not pa.types.is_fixed_size_list(f.type)]
    first = first_rows(variable) if variable and first_rows is not None else None
    found: dict[str, ListColumn] = {}
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
        found[column.name] = ListColumn(column.name, width, kind)
    return found


def element_schema(schema: pa.Schema, lists: dict[str, ListColumn]) -> pa.Schema:
    """``schema`` with each list column in ``lists`` replaced by its element columns."""
    fields: list[pa.Field] = []
    for column in schema:
        spec = lists.get(column.name)
        if spec is None:
            fields.append(column)
        else:
            fields.extend(pa.field(n, spec.kind) for n in spec.names)
    return pa.schema(fields)


def list_elements(
    array: pa.Array | pa.ChunkedArray, spec: ListColumn, name: str, row: int
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
