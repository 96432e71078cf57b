"""Tell an input's format from its first bytes and its name.

Magic bytes decide for Parquet, Arrow IPC / Feather, NumPy ``.npy`` / ``.npz`` and
compressed input, and name the binary kinds xent does not read (pickle, PyTorch,
other zip archives such as xlsx, HDF5) so that they are never parsed as text; then
the extension; then, for standard input and paths with no known extension, the
content (JSON Lines starts with ``{``, anything else is text with the delimiter to be
sniffed). An extension that the magic bytes contradict is an error, not a guess.
"""

from __future__ import annotations

import io
import os
import re

from ..errors import InputError
from .jsonread import json_array_error

PARQUET_MAGIC = b"PAR1"
ARROW_MAGIC = b"ARROW1"  # an Arrow IPC file, alias Feather v2
ARROW_STREAM_MAGIC = b"\xff\xff\xff\xff"  # the continuation marker opening an IPC stream
FEATHER1_MAGIC = b"FEA1"
NUMPY_MAGIC = b"\x93NUMPY"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")  # a zip's first entry, or an empty zip
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
OTHER_COMPRESSIONS = {  # recognised so that they are named, not parsed as text
    b"\xfd7zXZ\x00": "xz",
    b"7z\xbc\xaf\x27\x1c": "7z",
    b"\x04\x22\x4d\x18": "lz4",
}
_PICKLE_HEADER = re.compile(rb"^\x80[\x02-\x05]")  # the PROTO opcode of protocols 2..5
COMPRESSIONS = {".gz": "gzip", ".bz2": "bz2", ".zst": "zstd"}
COMPRESSION_MAGIC = {b"\x1f\x8b": "gzip", b"\x28\xb5\x2f\xfd": "zstd", b"BZh": "bz2"}
PARQUET_EXTENSIONS = {".parquet", ".pq", ".parq"}
NUMPY_EXTENSIONS = {".npy", ".npz"}
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
    magic = binary_format(head, path)
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
    if ext in NUMPY_EXTENSIONS:
        raise InputError(
            "is not a NumPy file (it lacks the \\x93NUMPY magic bytes of .npy and the zip "
            "header of .npz)",
            file=path,
            hint="pass --preds-format/--labels-format if it is another format",
        )
    if ext in TEXT_EXTENSIONS:
        return TEXT_EXTENSIONS[ext]
    return text_format(head, path)


def binary_format(head: bytes, name: str = "") -> str | None:
    """``parquet``, ``arrow`` (IPC file, IPC stream or Feather v1), ``npy`` or ``zip``
    (an ``.npz`` or another archive, told apart by ``zip_format``) by magic bytes; a
    pickle or an HDF5 file is an error that names it."""
    if head.startswith(PARQUET_MAGIC):
        return "parquet"
    if head.startswith((ARROW_MAGIC, ARROW_STREAM_MAGIC, FEATHER1_MAGIC)):
        return "arrow"
    if head.startswith(NUMPY_MAGIC):
        return "npy"
    if head.startswith(ZIP_MAGICS):
        return "zip"
    if head.startswith(HDF5_MAGIC):
        raise unreadable_kind(name, "an HDF5 file (.h5, .hdf5, Keras weights)")
    for magic, kind in OTHER_COMPRESSIONS.items():
        if head.startswith(magic):
            raise InputError(
                f"is {kind}-compressed, which xent does not decompress",
                file=name or None,
                hint="recompress it as .gz, .bz2 or .zst, or decompress it into standard "
                "input: xz -dc FILE | xent score - ...",
            )
    if _PICKLE_HEADER.match(head):
        raise unreadable_kind(
            name, "a Python pickle (or a PyTorch file in its legacy format)", pickled=True
        )
    return None


def zip_format(data: str | bytes, name: str) -> str:
    """``npz`` for a zip of ``.npy`` members (``numpy.savez``); any other zip is an error
    naming what it holds: a PyTorch ``torch.save`` file, an Excel workbook, or an
    archive."""
    import zipfile  # here: only a zip's first bytes lead to it (issue 14: start-up)

    try:
        with zipfile.ZipFile(data if isinstance(data, str) else io.BytesIO(data)) as archive:
            members = [m for m in archive.namelist() if not m.endswith("/")]
    except (OSError, zipfile.BadZipFile) as exc:
        raise InputError(
            f"starts like a zip archive but cannot be read as one: {exc}", file=name
        ) from None
    if members and all(m.endswith(".npy") for m in members):
        return "npz"
    if any(m == "data.pkl" or m.endswith("/data.pkl") for m in members):
        raise unreadable_kind(name, "a PyTorch file (torch.save)", pickled=True)
    if "[Content_Types].xml" in members and any(m.startswith("xl/") for m in members):
        raise unreadable_kind(name, "an Excel workbook (.xlsx)", excel=True)
    shown = ", ".join(repr(m) for m in members[:3]) + (", ..." if len(members) > 3 else "")
    holding = f" holding {shown}" if members else " with nothing in it"
    raise unreadable_kind(name, f"a zip archive{holding}")


def unreadable_kind(name: str, kind: str, pickled: bool = False, excel: bool = False) -> InputError:
    """The error for a binary file of a kind xent does not read."""
    if pickled:
        hint = (
            "xent does not unpickle (it runs code); save arrays with numpy.save, "
            "tables as Parquet or CSV"
        )
    elif excel:
        hint = "save the sheet as CSV, or write the table with pandas to_parquet/to_csv"
    else:
        hint = "xent reads CSV, TSV, Parquet, Arrow IPC, JSON Lines and NumPy .npy/.npz"
    return InputError(f"is {kind}, which xent does not read", file=name or None, hint=hint)


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
