"""The chain of DESIGN.md: source -> align -> infer -> validate -> core -> accumulate.

``score`` runs it over files or tables batch by batch and returns the ``Summary``;
a ``SampleSink`` given to it receives each batch's per-sample rows as they are made.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from . import core
from .accumulate import Accumulator
from .align import Aligner, Layout, plan
from .arrays import from_numpy
from .errors import InputError
from .gates import apply_gates
from .infer import LabelEncoder, decide_input, decide_task, resolve_eps
from .options import Options
from .source import Source, open_source
from .summary import Facts, Summary
from .validate import check_finite, check_scores
from .version import __version__, short_version

BATCH_BYTES = 32 << 20  # a batch's block of scores: 65536 rows of 64 classes, 4096 of 1000


@dataclass(frozen=True)
class SampleRows:
    """One batch's per-sample figures, for ``--per-sample``; ``loss`` in the report's base."""

    key_name: str
    keys: pa.Array
    labels: npt.NDArray[np.int64]
    preds: npt.NDArray[np.int64]
    loss: npt.NDArray[np.float64]
    p_true: npt.NDArray[np.float64]
    classes: tuple[str, ...]


class SampleSink(Protocol):
    """Anything that takes per-sample rows batch by batch (a file writer, a list)."""

    def write(self, rows: SampleRows) -> None: ...


Progress = Callable[[int, "float | None"], None]


def score(
    preds: Any,
    labels: Any = None,
    *,
    options: Options | None = None,
    sink: SampleSink | None = None,
    progress: Progress | None = None,
    **kwargs: Any,
) -> Summary:
    """Score predictions against labels; see ``xentcli.score`` for the public door.

    ``progress(rows_done, fraction_done)`` is called after every batch (the fraction
    is None when the input's size is unknown, as for standard input).
    """
    opts = Options.from_kwargs(options, **kwargs)
    preds_source = open_source(preds, "preds")
    labels_source = open_source(labels, "labels") if labels is not None else None
    layout = plan(preds_source, labels_source, opts)
    run = _Run(preds_source, labels_source, layout, opts)
    return run.execute(sink, progress)


class _Run:
    """The state of one scoring run: decisions made on the first batch, and the totals."""

    def __init__(self, preds: Source, labels: Source | None, layout: Layout, options: Options):
        self.preds, self.labels, self.layout, self.options = preds, labels, layout, options
        self.task, task_reason = decide_task(len(layout.pred_cols), options, layout.pred_cols)
        label_file = (labels or preds).name
        self.encoder = LabelEncoder(
            self.task, layout.pred_cols, options, label_file, layout.label_col
        )
        self.eps = resolve_eps(options, layout.dtype)
        self.reasons = {"task": task_reason, "columns": columns_reason(layout, options)}
        self.input_kind: str | None = None
        n_classes = 2 if self.task == "binary" else len(layout.pred_cols)
        self.accumulator = Accumulator(n_classes)
        self.scale = np.log(options.log_base_value)

    def execute(self, sink: SampleSink | None, progress: Progress | None = None) -> Summary:
        aligner = Aligner(self.preds, self.labels, self.layout, self._batch_rows())
        for batch in aligner:
            block = batch.scores
            check_finite(block, self.layout.pred_cols, self.preds.name, batch.offset)
            if self.input_kind is None:
                self.input_kind, self.reasons["input"] = decide_input(
                    block, self.task, self.options, self.preds.name, batch.offset
                )
            checked = check_scores(
                block,
                self.input_kind,
                self.layout.pred_cols,
                self.preds.name,
                batch.offset,
                sum_tol=self.options.sum_tol,
                renormalize=self.options.renormalize,
                dtype=self.layout.dtype,
            )
            rows = (
                batch.label_rows
                if batch.label_rows is not None
                else batch.offset + np.arange(len(batch), dtype=np.int64)
            )
            y = self.encoder.encode(batch.labels, rows)
            losses = compute(self.task, self.input_kind, checked.scores, y, self.eps)
            self.accumulator.add(losses, y, checked.renormalized)
            if sink is not None:
                sink.write(self._sample_rows(batch.offset, batch.ids, y, losses))
            if progress is not None:
                done = batch.offset + len(batch)
                progress(done, self.preds.fraction_done(done))
        if self.accumulator.n == 0:
            raise InputError(
                "no rows to score (the file has a header but no data rows)", file=self.preds.name
            )
        summary = self.accumulator.finish(self._facts(aligner.unmatched_labels), __version__)
        return apply_gates(summary, self.options.max_loss, self.options.min_accuracy)

    def _batch_rows(self) -> int:
        """Rows per batch: ``batch_rows``, fewer when the classes are many, so that a
        batch's float64 block stays near ``BATCH_BYTES`` whatever the width."""
        width = len(self.layout.pred_cols)
        return max(1, min(self.options.batch_rows, BATCH_BYTES // (8 * width)))

    def _sample_rows(
        self, offset: int, ids: pa.Array | None, y: npt.NDArray[np.int64], losses: core.SampleLosses
    ) -> SampleRows:
        if ids is None:
            keys = from_numpy(np.arange(offset, offset + y.shape[0], dtype=np.int64))
        else:
            keys = ids
        return SampleRows(
            key_name=self.layout.id_col or "row",
            keys=keys,
            labels=y,
            preds=losses.pred,
            loss=losses.loss / self.scale,
            p_true=losses.p_true,
            classes=self.encoder.classes,
        )

    def _facts(self, unmatched: int | None) -> Facts:
        opts = self.options
        self.reasons["labels"] = self.encoder.reason
        assert self.input_kind is not None
        return Facts(
            task=self.task,
            input=self.input_kind,
            classes=self.encoder.classes,
            log_base=opts.log_base,
            reduction=opts.reduction,
            eps=self.eps,
            signature=signature(self.task, self.input_kind, opts),
            reasons=dict(self.reasons),
            inputs={"preds": self.preds.name, "labels": self.labels.name if self.labels else None},
            unmatched_labels=unmatched,
            warnings=tuple(self._warnings(unmatched)),
        )

    def _warnings(self, unmatched: int | None) -> list[str]:
        acc, notes = self.accumulator, []
        if acc.clipped:
            notes.append(
                f"clipped {acc.clipped} probabilit{'y' if acc.clipped == 1 else 'ies'} "
                f"to [eps, 1 - eps] with eps = {self.eps:.6g}"
            )
        if acc.renormalized:
            notes.append(
                f"renormalised {acc.renormalized} row{'s' if acc.renormalized > 1 else ''}"
                f" whose {'probabilities' if self.input_kind == 'probs' else 'exp'} "
                f"did not sum to 1"
            )
        if unmatched:
            assert self.labels is not None
            notes.append(
                f"{unmatched} row{'s' if unmatched > 1 else ''} of {self.labels.name} "
                f"matched no id of {self.preds.name}"
            )
        return notes


def compute(
    task: str,
    input_kind: str,
    scores: npt.NDArray[np.float64],
    labels: npt.NDArray[np.int64],
    eps: float,
) -> core.SampleLosses:
    """Dispatch to the core kernel for this task and input kind."""
    if task == "binary":
        column = scores[:, 0]
        if input_kind == "logits":
            return core.binary_from_logits(column, labels)
        if input_kind == "logprobs":
            return core.binary_from_logprobs(column, labels)
        return core.binary_from_probs(column, labels, eps)
    if input_kind == "logits":
        return core.multiclass_from_logits(scores, labels)
    if input_kind == "logprobs":
        return core.multiclass_from_logprobs(scores, labels)
    return core.multiclass_from_probs(scores, labels, eps)


def columns_reason(layout: Layout, options: Options) -> str:
    """Which columns were taken as predictions, and which text columns were passed over."""
    cols = layout.pred_cols
    shown = ", ".join(cols) if len(cols) <= 4 else f"{cols[0]} .. {cols[-1]}"
    how = "--pred-cols" if options.pred_cols is not None else "numeric columns"
    text = f"{how} {shown}"
    if layout.skipped:
        text += f"; not the text column{'s' if len(layout.skipped) > 1 else ''} " + ", ".join(
            repr(c) for c in layout.skipped[:4]
        )
    return text


def signature(task: str, input_kind: str, options: Options) -> str:
    """One line pinning every convention behind the numbers (SPEC "Outputs")."""
    parts: Sequence[tuple[str, object]] = (
        ("xent", short_version()),
        ("task", task),
        ("input", input_kind),
        ("base", options.log_base),
        ("eps", options.eps),
        ("smooth", 0),
        ("weights", "none"),
        ("reduction", options.reduction),
        ("compat", "xent"),
    )
    return "|".join(f"{k}:{v}" for k, v in parts)
