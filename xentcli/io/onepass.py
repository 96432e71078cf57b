"""Inputs that can be read only once: standard input, FIFOs, decompressed streams.

Telling the format takes the first bytes, and a list column's width takes the first
rows; neither can be read again, so ``joined`` puts the bytes back in front of the
rest of the stream and ``Peek`` keeps the first batch until it is streamed.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pyarrow as pa

from ..errors import InputError
from .sourcebase import arrow_message, cast_batch


def read_bytes(handle: Any, size: int, name: str) -> bytes:
    """Up to ``size`` bytes: fewer only at the end of the input."""
    try:
        return bytes(handle.read(size) if size >= 0 else handle.read())
    except (OSError, pa.ArrowException) as exc:
        raise InputError(f"cannot read: {arrow_message(exc)}", file=name) from None


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


def joined(head: bytes, handle: Any, close: bool) -> pa.NativeFile:
    """A pyarrow stream of ``head`` and then ``handle``; every read is filled to the size
    asked for unless the input ends, as the IPC reader requires."""
    return pa.PythonFile(io.BufferedReader(_Joined(head, handle, close), 1 << 16), mode="r")


class Peek:
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
            yield cast_batch(batch.select(list(columns)), types, self._name)
        self._reader = None
