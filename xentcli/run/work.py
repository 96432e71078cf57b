"""A batch's rows while they are filtered, checked and encoded (``Work``), and the
per-row helpers of the batch loop: which rows ``--ignore-label`` leaves out, and
multilabel rows' labels as text."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from ..io.arrays import compute as pc
from ..io.arrays import from_numpy, mask, strings
from .align import Batch
from .infer import label_text


@dataclass
class Work:
    """The rows of a batch still in play, with their PREDS and LABELS row numbers and
    their ``--by`` keys (each column's values, in the order given)."""

    scores: npt.NDArray[np.float64]
    labels: pa.Array | None
    targets: npt.NDArray[np.float64] | None
    weights: npt.NDArray[np.float64] | None
    ids: pa.Array | None
    rows: npt.NDArray[np.int64]
    label_rows: npt.NDArray[np.int64]
    y: npt.NDArray[np.int64] | None = None  # class indices, once encoded
    keys: dict[str, pa.Array] = field(default_factory=dict)

    @classmethod
    def of(cls, batch: Batch) -> Work:
        rows = batch.offset + np.arange(len(batch), dtype=np.int64)
        label_rows = batch.label_rows if batch.label_rows is not None else rows
        return cls(
            batch.scores,
            batch.labels,
            batch.targets,
            batch.weights,
            batch.ids,
            rows,
            label_rows,
            keys=batch.keys,
        )

    def __len__(self) -> int:
        return int(self.scores.shape[0])

    def first(self, n: int) -> Work:
        """The first ``n`` of these rows (all of them when fewer): slices, which need no
        ``pyarrow.compute`` (its import is ~30 ms of a run that never filters)."""
        if len(self) <= n:
            return self
        return Work(
            np.asfortranarray(self.scores[:n]),
            self.labels.slice(0, n) if self.labels is not None else None,
            self.targets[:n] if self.targets is not None else None,
            self.weights[:n] if self.weights is not None else None,
            self.ids.slice(0, n) if self.ids is not None else None,
            self.rows[:n],
            self.label_rows[:n],
            self.y[:n] if self.y is not None else None,
            {name: values.slice(0, n) for name, values in self.keys.items()},
        )

    def without(self, bad: npt.NDArray[np.bool_]) -> Work:
        """These rows less the ``bad`` ones."""
        keep = ~bad
        kept = from_numpy(keep)
        return Work(
            np.asfortranarray(self.scores[keep]),
            self.labels.filter(kept) if self.labels is not None else None,
            self.targets[keep] if self.targets is not None else None,
            self.weights[keep] if self.weights is not None else None,
            self.ids.filter(kept) if self.ids is not None else None,
            self.rows[keep],
            self.label_rows[keep],
            self.y[keep] if self.y is not None else None,
            {name: values.filter(kept) for name, values in self.keys.items()},
        )


def ignored_rows(labels: pa.Array, ignore_label: object) -> npt.NDArray[np.bool_]:
    """The rows whose label is ``--ignore-label``, compared as labels are (as text)."""
    return mask(pc.equal(label_text(labels), _ignore_text(ignore_label)))


def _ignore_text(value: object) -> pa.Scalar | None:
    """``--ignore-label`` as the text labels are compared in (``-100.0`` is ``-100``)."""
    if value is None:
        return None
    return label_text(strings([str(value)]))[0]


def joined(flags: npt.NDArray[np.bool_], names: tuple[str, ...]) -> pa.Array:
    """Per row, the names whose flag is set, joined by ``|``: made once per distinct row
    of flags (few, in practice) and taken for every row."""
    if not flags.shape[0]:
        return strings([])
    packed = np.ascontiguousarray(np.packbits(flags, axis=1))
    keys = packed.view(np.dtype((np.void, packed.shape[1]))).ravel()
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    texts = ["|".join(n for n, f in zip(names, flags[i], strict=True) if f) for i in first]
    return strings(texts).take(from_numpy(inverse.astype(np.int64).ravel()))
