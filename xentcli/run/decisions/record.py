"""``Decisions``: what a run decided, once, and why, as plain data that ``to_dict`` /
``from_dict`` ship to another process; ``FirstRows``: the rows decisions are made on."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from ..align import Layout


class FirstRows(Protocol):
    """The rows a decision is made on: finite scores and their labels, with row numbers."""

    scores: npt.NDArray[np.float64]
    labels: pa.Array | None
    targets: npt.NDArray[np.float64] | None
    rows: npt.NDArray[np.int64]
    label_rows: npt.NDArray[np.int64]


@dataclass(frozen=True)
class Decisions:
    """What a run decided, once, and why.

    ``classes`` are the class names in the order of the class indices the kernels use
    (binary: ``(other, the column's class)``). A label column is read by ``label_mode``:
    ``names`` (``label_keys[i]`` is the class ``label_classes[i]``), ``indices`` (label
    ``i`` is the class ``label_classes[i]``), ``binary`` (0/1 or true/false; label 0 is
    the class ``label_classes[0]``, label 1 the class ``label_classes[1]``), or None for
    labels given as a column per class. ``positive`` is the class the single binary
    column holds the probability of, ``negative`` the other (None until a row shows it).
    ``evidence_row`` is the row whose label showed the mode (for an error naming a row of
    each kind); ``label_type`` is ``auto`` when the data decided the mode, else the
    option that did (``names``, ``indices``, ``classes``). ``reasons`` are ``(key, text)``
    pairs, in the order the report shows them.
    """

    layout: Layout
    task: str
    target: str
    input: str
    eps: float
    classes: tuple[str, ...]
    label_mode: str | None = None
    label_keys: tuple[str, ...] = ()
    label_classes: tuple[int, ...] = ()
    positive: str | None = None
    negative: str | None = None
    evidence_row: int | None = None
    label_type: str = "auto"
    preds_file: str = ""
    label_file: str = ""
    reasons: tuple[tuple[str, str], ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def join_key(self) -> str | None:
        """The column rows are joined on; None: by position."""
        return self.layout.id_col

    @property
    def label_column(self) -> str:
        return self.layout.label_col

    @property
    def reasons_dict(self) -> dict[str, str]:
        return dict(self.reasons)

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values; ``from_dict`` gives back an equal object."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "layout":
                value = value.to_dict()
            elif f.name == "reasons":
                value = dict(value)
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        out["join_key"] = self.join_key
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Decisions:
        """The object ``to_dict`` describes."""
        known = {f.name for f in fields(cls)}
        values: dict[str, Any] = {}
        for name, value in data.items():
            if name not in known:
                continue
            if name == "layout":
                value = Layout.from_dict(value)
            elif name == "reasons":
                value = tuple((str(k), str(v)) for k, v in value.items())
            elif isinstance(value, list):
                value = tuple(value)
            values[name] = value
        return cls(**values)
