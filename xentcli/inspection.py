"""What ``xent inspect`` found in a file, as plain data: ``run.inspect`` makes an
``Inspection``, the reports render it, as ``summary`` is to ``score``. Imports nothing
of the package, so that a report can read it without reaching up into the run."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ColumnInfo:
    """One column: its name, its type as xent reads it, its role (or None) and why."""

    name: str
    type: str
    role: str | None
    reason: str | None = None


@dataclass(frozen=True)
class Inspection:
    """What ``inspect_file`` found; ``None`` where it cannot be known.

    ``labels`` is how the label column is read (``names``, ``indices`` or ``binary``
    for 0/1 and true/false), ``reasons`` says why for each decision, as ``score``'s
    report does, and ``problem`` is why ``score`` would refuse the file. ``decisions``
    is ``score``'s own ``Decisions`` object (``Decisions.to_dict``), as far as the first
    rows let it be made, for a file holding its labels.
    """

    file: str
    format: str
    size: int | None
    rows: int | None
    columns: tuple[ColumnInfo, ...]
    task: str | None = None
    input: str | None = None
    classes: tuple[str, ...] | None = None
    label_column: str | None = None
    labels: str | None = None
    reasons: dict[str, str] = field(default_factory=dict)
    problem: str | None = None
    decisions: dict[str, Any] | None = None

    @property
    def scorable(self) -> bool:
        """Whether ``xent score FILE`` would get past its first rows."""
        return self.problem is None

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of ``xent inspect --json``, keys in order."""
        return {
            "file": self.file,
            "format": self.format,
            "size": self.size,
            "rows": self.rows,
            "columns": [
                {"name": c.name, "type": c.type, "role": c.role, "reason": c.reason}
                for c in self.columns
            ],
            "task": self.task,
            "input": self.input,
            "classes": list(self.classes) if self.classes is not None else None,
            "label_column": self.label_column,
            "labels": self.labels,
            "reasons": dict(self.reasons),
            "problem": self.problem,
            "decisions": self.decisions,
        }
