"""``Batch``: one stretch of aligned rows, as the ``Aligner`` yields them and the run
reads them (scores as a float64 block, labels, ids, weights, ``--by`` keys)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from ...io.arrays import numbers


@dataclass
class Batch:
    """Aligned rows: ``offset`` is the PREDS row of the first; ``label_rows`` the LABELS rows.

    ``labels`` is the label column, or None when ``targets`` holds label columns as a
    float64 block; ``weights`` the per-sample weights when a weight column is given;
    ``keys`` each ``--by`` column's values for these rows, in the order given.
    """

    offset: int
    scores: npt.NDArray[np.float64]
    labels: pa.Array | None
    ids: pa.Array | None
    label_rows: npt.NDArray[np.int64] | None = None
    targets: npt.NDArray[np.float64] | None = None
    weights: npt.NDArray[np.float64] | None = None
    keys: dict[str, pa.Array] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.scores.shape[0])


def scores_block(
    batch: pa.RecordBatch | pa.Table, columns: Sequence[str]
) -> npt.NDArray[np.float64]:
    """The prediction columns as one float64 (rows, classes) block; nulls become NaN."""
    block = np.empty((batch.num_rows, len(columns)), dtype=np.float64, order="F")
    for j, name in enumerate(columns):
        block[:, j] = numbers(batch.column(name))
    return block
