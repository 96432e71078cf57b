"""NumPy ``.npy`` and ``.npz`` files as a ``Source``, read with ``allow_pickle=False``.

A 2-D array is one column per class, named ``0`` .. ``K-1``; a 1-D array is one
column (``0``). An ``.npz`` holding one array is read like an ``.npy``; holding
several arrays of one length, a 1-D array is a column named by its key and a 2-D
array the columns ``key[0]`` .. ``key[K-1]``, as list columns are presented, so that
its classes are ``0`` .. ``K-1``. A structured array is one column per field.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pyarrow as pa

from ..errors import InputError
from .arrays import numpy_column
from .detect import NUMPY_MAGIC, ZIP_MAGICS
from .sourcebase import Source
from .tableread import table_source


def open_numpy(data: str | bytes, name: str, kind: str) -> Source:
    """An ``.npy`` (``kind`` "npy") or ``.npz`` ("npz") file, by path or by its bytes."""
    import zipfile  # here: ~1 ms of every start otherwise (issue 14)

    where: Any = data if isinstance(data, str) else io.BytesIO(data)
    _check_magic(data, name)
    try:
        loaded = np.load(where, allow_pickle=False)
        if isinstance(loaded, np.lib.npyio.NpzFile):
            kind = "npz"
            with loaded:
                arrays = {key: loaded[key] for key in loaded.files}
        else:
            arrays = {"": loaded}
    except ValueError as exc:
        if "allow_pickle" in str(exc):
            raise InputError(
                "holds an array of Python objects, which NumPy stores pickled; xent reads "
                "NumPy files with allow_pickle=False",
                file=name,
                hint="save numbers (or strings: np.asarray(labels, dtype=str)) instead",
            ) from None
        raise InputError(f"cannot read as NumPy: {exc}", file=name) from None
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        raise InputError(f"cannot read as NumPy: {exc}", file=name) from None
    if not arrays:
        raise InputError("is an .npz file with no arrays in it", file=name)
    if len(arrays) == 1:
        (array,) = arrays.values()
        columns = _columns(array, None, name)
    else:
        lengths = {key: _length(array, key, name) for key, array in arrays.items()}
        if len(set(lengths.values())) > 1:
            shown = ", ".join(f"{key!r}: {n}" for key, n in lengths.items())
            raise InputError(
                f"holds arrays of different lengths ({shown}); the arrays of an .npz are "
                "read as the columns of one table",
                file=name,
            )
        columns = {}
        for key, array in arrays.items():
            columns.update(_columns(array, key, name))
    table = pa.table(columns) if columns else pa.table({})
    source = table_source(table, name, "npy" if kind == "npy" else "npz")
    source.generated_names = len(arrays) == 1  # one array: its columns are 0..K-1
    return source


def _check_magic(data: str | bytes, name: str) -> None:
    """np.load takes anything that is not .npy or .npz for a pickle: refuse it first."""
    if isinstance(data, str):
        try:
            with open(data, "rb") as handle:
                head = handle.read(8)
        except OSError as exc:
            raise InputError(f"cannot open: {exc.strerror}", file=name) from None
    else:
        head = data[:8]
    if not head.startswith((NUMPY_MAGIC, *ZIP_MAGICS)):
        raise InputError(
            "is not a NumPy file (it lacks the \\x93NUMPY magic bytes of .npy and the zip "
            "header of .npz)",
            file=name,
        )


def _length(array: np.ndarray, key: str, name: str) -> int:
    if array.ndim == 0:
        raise InputError(f"array {key!r} is a single value, not a column", file=name)
    return int(array.shape[0])


def _columns(array: np.ndarray, key: str | None, name: str) -> dict[str, pa.Array]:
    """The columns of one array: ``key`` (or ``0``) for 1-D, ``key[j]`` (or ``j``) for 2-D."""
    what = f"array {key!r}" if key is not None else "the array"
    if array.dtype.names:  # a structured array: a column per field
        if array.ndim != 1:
            raise InputError(f"{what} is a structured array of {array.ndim} dimensions", file=name)
        prefix = "" if key is None else f"{key}."
        return {
            f"{prefix}{field}": _column(array[field], f"{what} field {field!r}", name)
            for field in array.dtype.names
        }
    if array.ndim == 1:
        return {key if key is not None else "0": _column(array, what, name)}
    if array.ndim == 2:
        return {
            (f"{key}[{j}]" if key is not None else str(j)): _column(array[:, j], what, name)
            for j in range(array.shape[1])
        }
    raise InputError(
        f"{what} has {array.ndim} dimensions (shape {array.shape}); xent reads a 1-D array "
        "(one column) or a 2-D array (one column per class)",
        file=name,
    )


def _column(values: np.ndarray, what: str, name: str) -> pa.Array:
    try:
        column = numpy_column(values)
    except UnicodeDecodeError:
        raise InputError(f"{what} holds bytes that are not UTF-8 text", file=name) from None
    if column is not None:
        return column
    raise InputError(
        f"{what} has dtype {values.dtype}, which xent does not read (numbers or strings)",
        file=name,
    )
