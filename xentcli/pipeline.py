"""The chain of DESIGN.md: source -> align -> infer -> validate -> core -> accumulate.

``score`` runs it over files or tables batch by batch and returns the ``Summary``;
a ``SampleSink`` given to it receives each batch's per-sample rows as they are made.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from . import family
from .accumulate import Accumulator
from .align import Aligner, Batch, Layout, plan
from .arrays import from_numpy, mask, strings
from .conventions import Rules, check_options, rules_for
from .errors import InputError, UsageError, ValidationError, XentError
from .firstrows import first_rows_together
from .gates import apply_gates
from .infer import (
    LabelEncoder,
    class_names,
    decide_input,
    decide_targets,
    decide_task,
    label_text,
    resolve_eps,
)
from .kernels import batch_losses
from .options import Options
from .signature import signature
from .source import Source, open_source
from .summary import Facts, Summary
from .validate import Checked, check_finite, check_scores, check_targets, check_weights
from .version import __version__
from .weights import class_weight_vector, parse_class_weights

BATCH_BYTES = 32 << 20  # a batch's block of scores: 65536 rows of 64 classes, 4096 of 1000


@dataclass(frozen=True)
class SampleRows:
    """One batch's per-sample figures, for ``--per-sample``; ``loss`` in the report's base.

    ``label_text``/``pred_text`` replace the class names of ``labels``/``preds`` where a
    row has several (multilabel: the positive labels joined by ``|``); ``weights`` is
    each row's weight (sample weight times its class's weight) when weights are given.
    """

    key_name: str
    keys: pa.Array
    labels: npt.NDArray[np.int64]
    preds: npt.NDArray[np.int64]
    loss: npt.NDArray[np.float64]
    p_true: npt.NDArray[np.float64]
    classes: tuple[str, ...]
    label_text: pa.Array | None = None
    pred_text: pa.Array | None = None
    weights: npt.NDArray[np.float64] | None = None


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
    class_weights = (
        parse_class_weights(opts.class_weights) if opts.class_weights is not None else None
    )
    preds_source = open_source(preds, "preds", opts.preds_format)
    labels_source = (
        open_source(labels, "labels", opts.labels_format) if labels is not None else None
    )
    layout = plan(preds_source, labels_source, opts)
    run = _Run(preds_source, labels_source, layout, opts, class_weights)
    return run.execute(sink, progress)


def first_decisions(
    preds: Source, layout: Layout, options: Options
) -> tuple[_Run | None, XentError | None]:
    """``score``'s decisions for a file holding its own labels, made on the first rows
    that remain, exactly as ``score`` makes them (``xent inspect`` shows them). Returns
    the run that holds them (task, input kind, encoder, reasons) and the error ``score``
    would stop with on those rows, if any; the run is None when it could not start."""
    run = None
    try:
        run = _Run(preds, None, layout, options)
        for batch in first_rows_together(Aligner(preds, None, layout, run._batch_rows())):
            run.prepare(_Work.of(batch))
            if run.input_kind is not None:
                break
        else:
            raise InputError(run._nothing_left(), file=preds.name)
    except XentError as error:
        return run, error
    return run, None


@dataclass
class _Work:
    """The rows of a batch still in play, with their PREDS and LABELS row numbers."""

    scores: npt.NDArray[np.float64]
    labels: pa.Array | None
    targets: npt.NDArray[np.float64] | None
    weights: npt.NDArray[np.float64] | None
    ids: pa.Array | None
    rows: npt.NDArray[np.int64]
    label_rows: npt.NDArray[np.int64]
    y: npt.NDArray[np.int64] | None = None  # class indices, once encoded

    @classmethod
    def of(cls, batch: Batch) -> _Work:
        rows = batch.offset + np.arange(len(batch), dtype=np.int64)
        label_rows = batch.label_rows if batch.label_rows is not None else rows
        return cls(
            batch.scores, batch.labels, batch.targets, batch.weights, batch.ids, rows, label_rows
        )

    def __len__(self) -> int:
        return int(self.scores.shape[0])

    def without(self, bad: npt.NDArray[np.bool_]) -> _Work:
        """These rows less the ``bad`` ones."""
        keep = ~bad
        kept = from_numpy(keep)
        return _Work(
            np.asfortranarray(self.scores[keep]),
            self.labels.filter(kept) if self.labels is not None else None,
            self.targets[keep] if self.targets is not None else None,
            self.weights[keep] if self.weights is not None else None,
            self.ids.filter(kept) if self.ids is not None else None,
            self.rows[keep],
            self.label_rows[keep],
            self.y[keep] if self.y is not None else None,
        )


class _Run:
    """The state of one scoring run: decisions made on the first rows, and the totals."""

    def __init__(
        self,
        preds: Source,
        labels: Source | None,
        layout: Layout,
        options: Options,
        class_weights: dict[str, float] | None = None,
    ):
        self.preds, self.labels, self.layout, self.options = preds, labels, layout, options
        self.class_weights = class_weights
        self.label_file = (labels or preds).name
        self.eps = resolve_eps(options, layout.dtype)
        self.reasons = {"columns": columns_reason(layout, options)}
        self.names = class_names(layout.pred_cols)
        self.task = ""
        self.target = "hard"
        self.input_kind: str | None = None
        self.encoder: LabelEncoder | None = None
        self.rules: Rules | None = None
        self.accumulator: Accumulator | None = None
        self.weight_vector: npt.NDArray[np.float64] | None = None
        self.scale = np.log(options.log_base_value)
        self.dropped = 0
        self.ignored = 0
        self.sample_weight_total = 0.0
        self.unnormalized = 0
        if layout.label_cols is None:
            self._decide_task()

    def _decide_task(self, targets: npt.NDArray[np.float64] | None = None) -> None:
        layout, options = self.layout, self.options
        if targets is None:
            self.task, self.reasons["task"] = decide_task(
                len(layout.pred_cols), options, layout.pred_cols
            )
            self.encoder = LabelEncoder(
                self.task, layout.pred_cols, options, self.label_file, layout.label_col
            )
        else:
            self.task, self.target, self.reasons["task"] = decide_targets(targets, options)
            self.reasons["labels"] = (
                "a column per class: "
                + ", ".join(layout.label_columns[:4])
                + (" .." if len(layout.label_columns) > 4 else "")
            )

    def execute(self, sink: SampleSink | None, progress: Progress | None = None) -> Summary:
        aligner = Aligner(self.preds, self.labels, self.layout, self._batch_rows())
        for batch in first_rows_together(aligner):
            self._score(_Work.of(batch), sink)
            if progress is not None:
                done = batch.offset + len(batch)
                progress(done, self.preds.fraction_done(done))
        acc = self.accumulator
        if acc is None or acc.n == 0:
            raise InputError(self._nothing_left(), file=self.preds.name)
        if self.layout.weight_col is not None and not self.sample_weight_total > 0:
            raise ValidationError(
                "the weights of the rows scored sum to 0; a weighted mean needs a positive total",
                file=self.preds.name if self.layout.weight_in_preds else self.label_file,
                column=self.layout.weight_col,
            )
        if not acc.total_weight > 0:
            raise ValidationError(
                "the weights of the rows scored sum to 0 (sample weights times class "
                "weights); a weighted mean needs a positive total"
            )
        summary = acc.finish(self._facts(aligner.unmatched_labels), __version__)
        return apply_gates(summary, self.options.max_loss, self.options.min_accuracy)

    def _nothing_left(self) -> str:
        if self.dropped or self.ignored:
            return (
                f"no rows left to score ({self.dropped} dropped as invalid, {self.ignored} ignored)"
            )
        return "no rows to score (the file has a header but no data rows)"

    def _score(self, work: _Work, sink: SampleSink | None) -> None:
        """Filter, decide (on the first rows), check, compute and add one batch."""
        prepared = self.prepare(work)
        if prepared is not None:
            work, checked = prepared
            self._add(work, checked, work.y, sink)

    def prepare(self, work: _Work) -> tuple[_Work, Checked] | None:
        """One batch's rows ready for the kernels: ignored and invalid rows out, the
        decisions made (on the first rows that remain), scores and labels checked and
        encoded. None when no row is left. ``xent inspect`` runs this on a first batch,
        so that it decides exactly as ``score`` does."""
        opts, layout, drop = self.options, self.layout, self.options.drop_invalid
        if opts.ignore_label is not None and work.labels is not None:
            ignored = ignored_rows(work.labels, opts.ignore_label)
            if ignored.any():
                self.ignored += int(ignored.sum())
                work = work.without(ignored)
        bad = check_finite(work.scores, layout.pred_cols, self.preds.name, work.rows, drop)
        if bad is not None:
            work = self._drop(work, bad)
        if work.targets is not None and not self.task:
            # Decide on rows whose label cells are numbers in [0, 1]: the others decide
            # nothing (they are dropped, or the error).
            bad = check_targets(
                work.targets,
                "multilabel",  # cells only: sums wait for the decision
                layout.label_columns,
                self.label_file,
                work.label_rows,
                sum_tol=opts.sum_tol,
                one_hot=False,
                drop=drop,
            )
            if bad is not None:
                work = self._drop(work, bad)
            if not len(work):
                return None
            self._decide_task(work.targets)
        if not len(work):
            return None
        if self.input_kind is None:
            self._decide_input(work)
        assert self.rules is not None and self.input_kind is not None
        work = self._labels(work)
        while True:
            checked = check_scores(
                work.scores,
                self.input_kind,
                layout.pred_cols,
                self.preds.name,
                work.rows,
                sum_tol=opts.sum_tol,
                renormalize=opts.renormalize,
                dtype=layout.dtype,
                sums=self.rules.sums if self.task != "multilabel" else "unchecked",
                drop=drop,
            )
            if checked.bad is None:
                break
            work = self._drop(work, checked.bad)
        if not len(work):
            return None
        if work.weights is not None:
            assert layout.weight_col is not None
            weight_file = self.preds.name if layout.weight_in_preds else self.label_file
            check_weights(
                work.weights,
                weight_file,
                layout.weight_col,
                work.label_rows if not layout.weight_in_preds else work.rows,
            )
            self.sample_weight_total += float(work.weights.sum())
        self.unnormalized += checked.unnormalized
        return work, checked

    def _drop(self, work: _Work, bad: npt.NDArray[np.bool_]) -> _Work:
        self.dropped += int(np.count_nonzero(bad))
        return work.without(bad)

    def _decide_input(self, work: _Work) -> None:
        opts = self.options
        self.input_kind, self.reasons["input"] = decide_input(
            work.scores, self.task, opts, self.preds.name, work.rows, self.layout.pred_cols
        )
        check_options(
            opts, self.task, self.input_kind, self.target, self.layout.label_cols is not None
        )
        self.rules = rules_for(opts, self.task, self.layout.dtype, self.eps, self.target)
        n_classes = 2 if self.task == "binary" else len(self.layout.pred_cols)
        weighted = (
            self.layout.weight_col is not None
            or self.class_weights is not None
            or (self.task == "multilabel" and self.rules.arithmetic.label_sum)
        )
        self.accumulator = Accumulator(
            n_classes, weighted=weighted, multilabel=self.task == "multilabel"
        )

    def _labels(self, work: _Work) -> _Work:
        """The rows with their class indices (none for soft and multilabel targets),
        less rows whose labels are invalid under ``--drop-invalid``."""
        if work.targets is not None:
            bad = check_targets(
                work.targets,
                self.task,
                self.layout.label_columns,
                self.label_file,
                work.label_rows,
                sum_tol=self.options.sum_tol,
                one_hot=self.target == "hard" and self.task == "multiclass",
                drop=self.options.drop_invalid,
            )
            if bad is not None:
                work = self._drop(work, bad)
            if self.target == "hard" and self.task == "multiclass" and work.targets is not None:
                work.y = np.argmax(work.targets, axis=1)
            return work
        assert self.encoder is not None and work.labels is not None
        while True:
            try:
                work.y = self.encoder.encode(work.labels, work.label_rows)
                return work
            except ValidationError as error:
                if not self.options.drop_invalid or error.positions is None:
                    raise
                bad = np.zeros(len(work), dtype=bool)
                bad[np.asarray(error.positions)] = True
                work = self._drop(work, bad)
                if not len(work):
                    work.y = np.zeros(0, dtype=np.int64)
                    return work

    def _add(
        self,
        work: _Work,
        checked: Checked,
        y: npt.NDArray[np.int64] | None,
        sink: SampleSink | None,
    ) -> None:
        assert self.accumulator is not None
        result = self._compute(checked.scores, y, work.targets)
        numerator, denominator = result.numerator, result.denominator
        row_weights = None
        if work.weights is not None:
            numerator = numerator * work.weights
            assert self.rules is not None
            if self.rules.sample_denominator == "weights":
                denominator = denominator * work.weights
            row_weights = work.weights
        if self.weight_vector is not None and y is not None:
            class_w = self.weight_vector[y]
            row_weights = class_w if row_weights is None else row_weights * class_w
        renormalized = checked.renormalized + result.renormalized
        if self.task == "multilabel":
            assert work.targets is not None and result.per_label is not None
            assert result.hits is not None
            self.accumulator.add_multilabel(
                result.losses,
                work.targets,
                result.per_label,
                result.hits,
                numerator=numerator,
                denominator=denominator if self.accumulator.weighted else None,
                sample_weights=work.weights,
            )
            self.accumulator.renormalized += renormalized
            classes = np.zeros(len(work), dtype=np.int64)
        else:
            if y is not None:
                classes = y
            else:
                assert work.targets is not None
                classes = np.argmax(work.targets, axis=1)
            self.accumulator.add(
                result.losses,
                classes,
                renormalized,
                numerator=numerator if self.accumulator.weighted else None,
                denominator=denominator if self.accumulator.weighted else None,
                sample_weights=work.weights,
            )
        if sink is not None:
            sink.write(self._sample_rows(work, classes, result, row_weights))

    def _compute(
        self,
        scores: npt.NDArray[np.float64],
        y: npt.NDArray[np.int64] | None,
        targets: npt.NDArray[np.float64] | None,
    ) -> family.Weighted:
        assert self.rules is not None and self.input_kind is not None
        opts = self.options
        return batch_losses(
            self.task,
            self.target,
            self.input_kind,
            self.rules,
            scores,
            y,
            targets,
            smoothing=opts.label_smoothing,
            pos_weight=opts.pos_weight,
            class_weights=self._class_weights(),
            eps=self.eps,
        )

    def _class_weights(self) -> npt.NDArray[np.float64] | None:
        """``--class-weights`` in the order of the classes, made once the classes are known."""
        if self.class_weights is None:
            return None
        if self.weight_vector is None:
            if self.task == "binary":
                assert self.encoder is not None
                aliases: list[list[str]] = [["0", "false"], ["1", "true"]]
                classes: tuple[str, ...] = self.encoder.classes
            else:
                aliases = [[c] for c in self.layout.pred_cols]
                classes = self.names
            self.weight_vector = class_weight_vector(self.class_weights, classes, aliases)
            if not self.weight_vector.any():
                raise UsageError(
                    "--class-weights are all 0; a weighted mean needs a positive total"
                )
        return self.weight_vector

    def _resolved_class_weights(self) -> dict[str, float] | None:
        """The class weights by class name, as the signature pins them (``p_cat=2`` and
        ``cat=2`` are the same convention)."""
        if self.weight_vector is None:
            return None
        return dict(zip(self._classes(), self.weight_vector.tolist(), strict=True))

    def _batch_rows(self) -> int:
        return batch_rows_for(len(self.layout.pred_cols), self.options)

    def _classes(self) -> tuple[str, ...]:
        if self.task == "binary":
            assert self.encoder is not None
            return self.encoder.classes
        return self.names

    def _sample_rows(
        self,
        work: _Work,
        classes: npt.NDArray[np.int64],
        result: family.Weighted,
        weights: npt.NDArray[np.float64] | None,
    ) -> SampleRows:
        keys = work.ids if work.ids is not None else from_numpy(work.rows)
        label_names = pred_names = None
        if self.task == "multilabel":
            assert work.targets is not None and result.hits is not None
            truth = work.targets > 0.5
            label_names = _joined(truth, self.names)
            pred_names = _joined(truth == result.hits, self.names)
        losses = result.losses
        return SampleRows(
            key_name=self.layout.id_col or "row",
            keys=keys,
            labels=classes,
            preds=losses.pred if self.task != "multilabel" else classes,
            loss=losses.loss / self.scale,
            p_true=losses.p_true,
            classes=self._classes(),
            label_text=label_names,
            pred_text=pred_names,
            weights=weights,
        )

    def _facts(self, unmatched: int | None) -> Facts:
        opts = self.options
        if self.encoder is not None:
            self.reasons["labels"] = self.encoder.reason
        assert self.input_kind is not None and self.rules is not None
        return Facts(
            task=self.task,
            input=self.input_kind,
            classes=self._classes(),
            log_base=opts.log_base,
            reduction=opts.reduction,
            eps=self.rules.eps,
            signature=signature(
                self.task, self.input_kind, opts, self.target, self._resolved_class_weights()
            ),
            target=self.target,
            compat=opts.compat,
            reasons=dict(self.reasons),
            inputs={"preds": self.preds.name, "labels": self.labels.name if self.labels else None},
            unmatched_labels=unmatched,
            dropped=self.dropped,
            ignored=self.ignored,
            rules=self.rules.describe(),
            warnings=tuple(self._warnings(unmatched)),
        )

    def _warnings(self, unmatched: int | None) -> list[str]:
        acc, notes = self.accumulator, []
        assert acc is not None and self.rules is not None
        if acc.clipped:
            notes.append(
                f"clipped {acc.clipped} probabilit{'y' if acc.clipped == 1 else 'ies'} "
                f"to [eps, 1 - eps] with eps = {self.rules.eps:.6g}"
            )
        if acc.renormalized:
            notes.append(
                f"renormalised {acc.renormalized} row{'s' if acc.renormalized > 1 else ''}"
                f" whose {'exp' if self.input_kind == 'logprobs' else 'probabilities'} "
                f"did not sum to 1"
            )
        if self.unnormalized:
            notes.append(
                f"{self.unnormalized} row{'s' if self.unnormalized > 1 else ''} of "
                "probabilities do not sum to 1 and were not renormalised (as scikit-learn)"
            )
        if self.dropped:
            notes.append(
                f"dropped {self.dropped} invalid row{'s' if self.dropped > 1 else ''} "
                "(--drop-invalid)"
            )
        if unmatched:
            assert self.labels is not None
            notes.append(
                f"{unmatched} row{'s' if unmatched > 1 else ''} of {self.labels.name} "
                f"matched no id of {self.preds.name}"
            )
        return notes


def batch_rows_for(width: int, options: Options) -> int:
    """Rows per batch: ``batch_rows``, fewer when the classes are many, so that a
    batch's float64 block stays near ``BATCH_BYTES`` whatever the width."""
    return max(1, min(options.batch_rows, BATCH_BYTES // (8 * width)))


def ignored_rows(labels: pa.Array, ignore_label: object) -> npt.NDArray[np.bool_]:
    """The rows whose label is ``--ignore-label``, compared as labels are (as text)."""
    return mask(pc.equal(label_text(labels), _ignore_text(ignore_label)))


def _ignore_text(value: object) -> pa.Scalar | None:
    """``--ignore-label`` as the text labels are compared in (``-100.0`` is ``-100``)."""
    if value is None:
        return None
    return label_text(strings([str(value)]))[0]


def _joined(flags: npt.NDArray[np.bool_], names: tuple[str, ...]) -> pa.Array:
    """Per row, the names whose flag is set, joined by ``|``: made once per distinct row
    of flags (few, in practice) and taken for every row."""
    if not flags.shape[0]:
        return strings([])
    packed = np.ascontiguousarray(np.packbits(flags, axis=1))
    keys = packed.view(np.dtype((np.void, packed.shape[1]))).ravel()
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    texts = ["|".join(n for n, f in zip(names, flags[i], strict=True) if f) for i in first]
    return strings(texts).take(from_numpy(inverse.astype(np.int64).ravel()))


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
