"""Arrow <-> NumPy without pandas: views of Arrow buffers and arrays built from buffers.

pyarrow imports pandas (about 0.2 s and 50 MB) the first time it converts to or from
Python or NumPy objects: ``Array.to_numpy``, ``np.asarray(array)``, ``pa.array``,
``pa.scalar`` and Python scalars passed to compute functions all do. Reading an Arrow
buffer as a NumPy view, and building an array from buffers, do not; the score path
uses only these.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa


class _LazyCompute:
    """``pyarrow.compute``, imported on the first use of one of its functions: the import
    costs ~30 ms of every start (issue 14), which a plain run of numeric columns never
    needs. Each function found is kept as an attribute, so a later call costs what
    ``pc.f`` costs."""

    def __getattr__(self, name: str) -> Any:
        import pyarrow.compute

        found = getattr(pyarrow.compute, name)
        setattr(self, name, found)
        return found


compute: Any = _LazyCompute()
"""``from ..io.arrays import compute as pc`` where ``import pyarrow.compute as pc`` was."""

_NUMPY_TYPES = {
    pa.int8(): np.int8,
    pa.int16(): np.int16,
    pa.int32(): np.int32,
    pa.int64(): np.int64,
    pa.uint8(): np.uint8,
    pa.uint16(): np.uint16,
    pa.uint32(): np.uint32,
    pa.uint64(): np.uint64,
    pa.float16(): np.float16,
    pa.float32(): np.float32,
    pa.float64(): np.float64,
}


def numbers(array: pa.Array | pa.ChunkedArray, dtype: npt.DTypeLike | None = None) -> np.ndarray:
    """A numeric or boolean Arrow array as NumPy: a zero-copy view where it can be.

    Nulls become NaN (the result is then floating point); ``dtype`` casts the result.
    """
    if isinstance(array, pa.ChunkedArray):
        parts = [numbers(chunk, dtype) for chunk in array.chunks]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype or np.float64)
    kind, n = array.type, len(array)
    if pa.types.is_boolean(kind):
        values = _bits(array.buffers()[1], array.offset, n)
    elif pa.types.is_null(kind):
        values = np.full(n, np.nan)
    elif kind in _NUMPY_TYPES:
        numpy_type = np.dtype(_NUMPY_TYPES[kind])
        start = array.offset * numpy_type.itemsize
        values = np.frombuffer(array.buffers()[1], numpy_type, count=n, offset=start)
    else:
        raise TypeError(f"not a numeric Arrow type: {kind}")
    if array.null_count and not pa.types.is_null(kind):
        valid = _bits(array.buffers()[0], array.offset, n)
        float_type = values.dtype if values.dtype.kind == "f" else np.dtype(np.float64)
        values = values.astype(float_type)
        values[~valid] = np.nan
    if dtype is not None and values.dtype != dtype:
        values = values.astype(dtype)
    return values


def mask(array: pa.Array | pa.ChunkedArray) -> npt.NDArray[np.bool_]:
    """A boolean Arrow array (nulls as False) as a NumPy bool array."""
    values = numbers(array)
    if values.dtype != np.bool_:
        return np.nan_to_num(values, nan=0.0).astype(bool)
    return values


def from_numpy(values: np.ndarray) -> pa.Array:
    """A NumPy 1-d numeric array as an Arrow array (copying once to own the memory)."""
    values = np.ascontiguousarray(values)
    if values.dtype == np.bool_:
        packed = np.packbits(values, bitorder="little")
        return pa.Array.from_buffers(pa.bool_(), len(values), [None, pa.py_buffer(packed)])
    kind = pa.from_numpy_dtype(values.dtype)
    return pa.Array.from_buffers(kind, len(values), [None, pa.py_buffer(values.copy())])


def numpy_column(values: np.ndarray) -> pa.Array | None:
    """A 1-D NumPy array of numbers or text as an Arrow array (bytes read as UTF-8, which
    raises ``UnicodeDecodeError``); None for any other dtype, for the caller to name."""
    kind = values.dtype.kind
    if kind in "biuf":
        return from_numpy(values.astype(values.dtype.newbyteorder("=")))
    if kind == "U":
        return strings([str(v) for v in values.tolist()])
    if kind == "S":
        return strings([v.decode("utf-8") for v in values.tolist()])
    return None


def strings(values: Sequence[str]) -> pa.Array:
    """Python strings as an Arrow string array."""
    encoded = [v.encode("utf-8") for v in values]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int32)
    np.cumsum([len(e) for e in encoded], out=offsets[1:])
    data = b"".join(encoded)
    return pa.Array.from_buffers(
        pa.string(), len(encoded), [None, pa.py_buffer(offsets), pa.py_buffer(data)]
    )


def _bits(buffer: pa.Buffer | None, offset: int, n: int) -> npt.NDArray[np.bool_]:
    if buffer is None:
        return np.ones(n, dtype=bool)
    raw = np.frombuffer(buffer, dtype=np.uint8)
    return np.unpackbits(raw, bitorder="little")[offset : offset + n].astype(bool)
