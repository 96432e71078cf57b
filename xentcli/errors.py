"""The one family of errors a user can cause; each formats as one line naming where."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

MAX_MESSAGE = 4000  # the last resort; values are shortened by quoted() first
MAX_QUOTED = 80


def quoted(value: object) -> str:
    """A value for a message: its repr, shortened when long (a 1 MB label)."""
    text = repr(value)
    if len(text) <= MAX_QUOTED:
        return text
    size = f"{len(value):,} characters" if isinstance(value, str | bytes) else "long"
    return f"{text[: MAX_QUOTED - 20]}... ({size})"


class XentError(Exception):
    """An error in the user's input or options: exit 2 with one ``Error: ...`` line.

    ``file``, ``column`` and ``row`` say where (``row`` a 0-based data row; ``line``,
    for a text file, the 1-based line it is on); ``rows`` lists a few example rows
    when several are at fault and ``count`` how many there are in all.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        column: str | None = None,
        row: int | None = None,
        line: int | None = None,
        rows: Sequence[int] | None = None,
        count: int | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.column = column
        self.row = row
        self.line = line
        self.lines: list[int | None] | None = None  # the line of each of ``rows``
        self.rows = list(rows) if rows is not None else None
        self.count = count
        self.hint = hint
        self.positions: Any = None  # rows of the batch, for --drop-invalid

    def where(self) -> str:
        """The place this error is about, e.g. ``labels.csv row 17 (line 19), column 'p_cat'``."""
        parts = []
        if self.file is not None:
            parts.append(self.file)
        if self.row is not None:
            parts.append(f"row {self.row}" + (f" (line {self.line})" if self.line else ""))
        elif self.line is not None:
            parts.append(f"line {self.line}")
        elif self.rows:
            lines = self.lines or []
            shown = ", ".join(
                f"{r} (line {lines[i]})" if i < len(lines) and lines[i] else str(r)
                for i, r in enumerate(self.rows[:5])
            )
            more = ""
            if self.count is not None and self.count > len(self.rows[:5]):
                more = f" and {self.count - len(self.rows[:5])} more"
            word = "row" if len(self.rows) == 1 and not more else "rows"
            parts.append(f"{word} {shown}{more}")
        place = " ".join(parts)
        if self.column is not None:
            place = f"{place}, column {self.column!r}" if place else f"column {self.column!r}"
        return place

    def __str__(self) -> str:
        place = self.where()
        text = f"{place}: {self.message}" if place else self.message
        if self.hint:
            text = f"{text} ({self.hint})"
        text = " ".join(text.split("\n"))
        return (
            text
            if len(text) <= MAX_MESSAGE
            else text[: MAX_MESSAGE - 25] + " ... (message cut short)"
        )


class UsageError(XentError):
    """Options that are invalid or contradict each other."""


class InputError(XentError):
    """A file that cannot be opened or parsed, or lacks a needed column."""


class AlignError(XentError):
    """Predictions and labels that cannot be paired row by row."""


class InferenceError(XentError):
    """Data whose task, input kind or labels cannot be decided."""


class ValidationError(XentError):
    """Values that cannot be scored: non-finite, out of range, rows not summing to 1."""


class OutputError(XentError):
    """An output that cannot be written."""
