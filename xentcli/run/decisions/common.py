"""The label texts and small helpers the label decisions and the encoding share: how
0/1 and true/false are spelled, the names of the classes 0 and 1, and the error for
bad labels."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from ...errors import ValidationError
from ...io.arrays import compute as pc
from ...io.arrays import strings
from ..infer import label_text
from .record import Decisions

TRUE_TEXT = ("1", "1.0", "true")
FALSE_TEXT = ("0", "0.0", "false")
ZERO_ONE = strings(["0", "1"])
INTEGER_TEXT = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"  # numbers; integrality checked apart


FLAG_NAMES = (("0", "false", "neg", "negative", "no"), ("1", "true", "pos", "positive", "yes"))
"""The names of the classes 0 and 1 of 0/1 and true/false labels."""


def flag_class(name: str, names: tuple[tuple[str, ...], ...] = FLAG_NAMES) -> int | None:
    """0 or 1 when ``name`` names a class of 0/1 labels (``0``, ``false``, ``neg``, ...)."""
    text = lowered(name)
    for value, aliases in enumerate(names):
        if text in aliases:
            return value
    return None


_NUMBER_CHARACTERS = re.compile(r"[0-9+\-.eE\s]*", re.ASCII)


def lowered(name: str) -> str:
    """A name as a label text, lower case (``1.0`` is ``1``, ``TRUE`` is ``true``)."""
    text = name.strip()
    if not _NUMBER_CHARACTERS.fullmatch(text):  # not a number: label_text keeps it as is
        return text.lower()
    return str(label_text(strings([text]))[0].as_py()).lower()


def listed(names: Sequence[str]) -> str:
    """Names for a message: the first ten, and how many in all."""
    return ", ".join(names[:10]) + (f", ... ({len(names)} in all)" if len(names) > 10 else "")


def index_names(k: int) -> tuple[str, ...]:
    """The label texts of the class indices ``0 .. k-1``."""
    return tuple(str(i) for i in range(k))


def any_bool_text(text: pa.Array) -> bool:
    """Some label is ``true`` or ``false`` (lower-cased text)."""
    return bool(pc.any(pc.is_in(text, value_set=strings(["true", "false"]))).as_py())


def bad_labels(
    d: Decisions,
    message: str,
    value: object,
    rows: npt.NDArray[np.int64],
    positions: npt.NDArray[np.int64],
    hint: str | None = None,
) -> ValidationError:
    """The error for bad labels at ``positions`` of the batch (``rows`` are the batch's
    rows in the file); a value spanning lines is most likely an unclosed quote that
    swallowed the rest of a CSV file, and is called that. The error keeps the
    positions, for ``--drop-invalid``."""
    if isinstance(value, str) and "\n" in value:
        message = f"label {value.splitlines()[0]!r}... runs over several lines"
        hint = "an unclosed quote in the file?"
    where = rows[positions]
    error = ValidationError(
        message,
        file=d.label_file,
        column=d.label_column,
        row=int(where[0]),
        count=int(where.size) if where.size > 1 else None,
        hint=hint,
    )
    error.positions = positions
    return error
