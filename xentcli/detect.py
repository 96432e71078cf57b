"""Tell an input's format from its first bytes and its name.

Magic bytes decide for Parquet, Arrow IPC / Feather and compressed input; then the
extension; then, for standard input and paths with no known extension, the content
(JSON Lines starts with ``{``, anything else is CSV with the delimiter to be sniffed).
An extension that the magic bytes contradict is an error, not a guess.
"""

from __future__ import annotations

import os
import re

from .errors import InputError
from .jsonread import json_array_error

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
_BZ2_MAGIC = re.compile(rb"^BZh[1-9]1AY&SY")


def format_from_name(path: str, head: bytes) -> str | None:
    """The format by magic bytes, else by extension, else (no known extension) by
    content; None for CSV with the delimiter to be sniffed."""
    magic = binary_format(head)
    if magic is not None:
        return magic
    ext = extension(path)
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
    return text_format(head, path)


def binary_format(head: bytes) -> str | None:
    """``parquet`` or ``arrow`` (IPC file, IPC stream or Feather v1) by magic bytes."""
    if head.startswith(PARQUET_MAGIC):
        return "parquet"
    if head.startswith((ARROW_MAGIC, ARROW_STREAM_MAGIC, FEATHER1_MAGIC)):
        return "arrow"
    return None


def text_format(head: bytes, name: str) -> str | None:
    """``jsonl`` when the first character that is not white space is ``{``; else CSV."""
    text = head.lstrip()
    if text.startswith(b"{"):
        return "jsonl"
    if text.startswith(b"[") and text[1:].lstrip()[:1] in (b"{", b"]"):
        raise json_array_error(name)
    return None


def compression(head: bytes) -> str | None:
    """gzip, bz2 or zstd by magic bytes (a CSV header never starts with them)."""
    for magic, name in COMPRESSION_MAGIC.items():
        if head.startswith(magic) and (name != "bz2" or _BZ2_MAGIC.match(head)):
            return name
    return None


def extension(path: str) -> str:
    """The extension in lower case, looking past a compression's (``.csv.gz``: ``.csv``)."""
    root, ext = os.path.splitext(path.lower())
    if ext in COMPRESSIONS:
        ext = os.path.splitext(root)[1]
    return ext
