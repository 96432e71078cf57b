"""The batch loop: source -> align -> infer -> validate -> core -> the partials -> Summary.

``score`` runs it over files or tables batch by batch and returns the ``Summary``;
a ``SampleSink`` given to it receives each batch's per-sample rows as they are made.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ..errors import InputError, UsageError, ValidationError, XentError
from ..io.arrays import from_numpy
from ..io.source import Source, open_source
from ..io.tableread import frames_in_step
from ..losses import family
from ..losses.conventions import Rules, rules_for
from ..losses.kernels import batch_losses
from ..losses.weights import class_weight_vector, parse_class_weights
from ..metrics.accumulate import Accumulator, Plan
from ..metrics.rows import Ends, Rows
from ..options import Options
from ..summary import Facts, SampleRows, SampleSink, Summary
from ..version import __version__
from .align import Aligner, Batch, Layout, plan
from .decisions import (
    Decisions,
    class_aliases,
    decide_labels,
    decide_problem,
    encode_labels,
    labels_settled,
    with_labels_seen,
)
from .engine import in_order, jobs_for, threads
from .firstrows import first_rows_together
from .gates import apply_gates
from .infer import DECISION_ROWS
from .signature import signature
from .validate import Checked, check_finite, check_scores, check_targets, check_weights
from .work import Work, ignored_rows, joined

BATCH_BYTES = 32 << 20  # a batch's block of scores: 65536 rows of 64 classes, 4096 of 1000


Progress = Callable[[int, "float | None"], None]


class HeldRows(list[SampleRows]):
    """Per-sample rows held until they are written in input order."""

    def write(self, rows: SampleRows) -> None:
        self.append(rows)


@dataclass
class Piece:
    """What scoring a piece of the input gives back, to be merged in input order: its
    partials, its counts and, for ``--per-sample``, its rows."""

    accumulator: Accumulator
    counts: Counts
    samples: list[SampleRows] | None = None


@dataclass(frozen=True)
class Settled:
    """The decisions and what follows from them, made once on the first rows and
    shipped to every piece: no piece decides anything again."""

    decisions: Decisions
    rules: Rules
    plan: Plan
    weight_vector: npt.NDArray[np.float64] | None


@dataclass
class Counts:
    """The rows a run (or a piece of it) left out and noticed beside its partials: for
    messages and warnings; ``left_out`` holds the rows left out (dropped, ignored) that
    the partials have not counted yet."""

    dropped: int = 0
    ignored: int = 0
    left_out: tuple[int, int] = (0, 0)
    weight_total: float = 0.0  # only whether it is > 0 is read: order does not matter
    unnormalized: int = 0

    def left_out_dropped(self, count: int) -> None:
        self.dropped += count
        self.left_out = (self.left_out[0] + count, self.left_out[1])

    def left_out_ignored(self, count: int) -> None:
        self.ignored += count
        self.left_out = (self.left_out[0], self.left_out[1] + count)

    def take_left_out(self) -> tuple[int, int]:
        """The rows left out since the last batch reached the partials; now counted."""
        taken, self.left_out = self.left_out, (0, 0)
        return taken

    def plus(self, other: Counts) -> Counts:
        return Counts(
            self.dropped + other.dropped,
            self.ignored + other.ignored,
            (self.left_out[0] + other.left_out[0], self.left_out[1] + other.left_out[1]),
            self.weight_total + other.weight_total,
            self.unnormalized + other.unnormalized,
        )


def score(
    preds: Any,
    labels: Any = None,
    *,
    options: Options | None = None,
    sink: Any = None,
    progress: Progress | None = None,
    **kwargs: Any,
) -> Summary:
    """Score predictions against labels; see ``xentcli.score`` for the public door.

    ``sink`` takes the per-sample rows (a ``SampleSink``); on the Dask engine it may
    instead be a ``PartsTarget``, a folder each worker writes its piece's rows into.

    ``progress(rows_done, fraction_done)`` is called after every batch (the fraction
    is None when the input's size is unknown, as for standard input).
    """
    options = Options.from_kwargs(options, **kwargs)
    if options.engine == "dask":  # the same run, its pieces scored on a cluster
        from .cluster import score_on_dask

        return score_on_dask(preds, labels, options, sink, progress)
    run = open_run(preds, labels, options)
    with located(run.preds, run.labels):
        return run.execute(sink, progress)


def open_run(preds: Any, labels: Any, options: Options) -> _Run:
    """One scoring run: its inputs opened and their columns planned, no row read yet
    (``score`` executes it; ``xent compare`` streams two of them side by side)."""
    class_weights = (
        parse_class_weights(options.class_weights) if options.class_weights is not None else None
    )
    frames_in_step(preds, labels)
    preds_source = open_source(preds, "preds", options.preds_format, options.no_header)
    labels_source = (
        open_source(labels, "labels", options.labels_format, options.no_header)
        if labels is not None
        else None
    )
    with located(preds_source, labels_source):
        layout = plan(preds_source, labels_source, options)
    return _Run(preds_source, labels_source, layout, options, class_weights)


@contextmanager
def located(*sources: Source | None) -> Iterator[None]:
    """An error about one of ``sources`` gets the line of a text file's row."""
    try:
        yield
    except XentError as error:
        for source in sources:
            if source is not None:
                source.locate(error)
        raise


def first_decisions(
    preds: Source, layout: Layout, options: Options
) -> tuple[Decisions | None, XentError | None]:
    """``score``'s decisions for a file holding its own labels, made on the first rows
    that remain, exactly as ``score`` makes them (``xent inspect`` shows them). Returns
    the decisions (as far as they got) and the error ``score`` would stop with on those
    rows, if any."""
    run = _Run(preds, None, layout, options)
    try:
        for batch in first_rows_together(Aligner(preds, None, layout, run.batch_rows())):
            run.prepare(Work.of(batch))
            if run.decisions is not None:
                break
        else:
            raise InputError(run.nothing_left(), file=preds.name)
    except XentError as error:
        return run.decisions, error
    return run.decisions, None


class _Run:
    """One scoring run: the decisions (made once, on the first rows), then per batch:
    filter, check and encode against them, compute, accumulate."""

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
        self.decisions: Decisions | None = None
        self.aligner: Aligner | None = None
        self.rules: Rules | None = None
        self.accumulator: Accumulator | None = None
        self.weight_vector: npt.NDArray[np.float64] | None = None
        self.scale = np.log(options.log_base_value)
        self.counts = Counts()

    def execute(self, sink: SampleSink | None, progress: Progress | None = None) -> Summary:
        """Read, check and score every batch (on ``--jobs`` threads), then ``finish``."""
        jobs = jobs_for(self.options.jobs)
        if jobs == 1:
            for _ in self.stream(sink, progress):
                pass
        else:
            self._on_threads(jobs, sink, progress)
        return self.finish()

    def _on_threads(self, jobs: int, sink: SampleSink | None, progress: Progress | None) -> None:
        """The batches scored on ``jobs`` threads: one at a time until the decisions are
        settled (the first rows decide, and a few layouts learn a class name later),
        then each batch on its own partials, merged in input order. Every sum is exact,
        so the ``Summary`` is the one of a single thread to the last bit; the batches
        are read, aligned and written (``--per-sample``) in order by this thread."""
        self.aligner = Aligner(
            self.preds, self.labels, self.layout, self.batch_rows(), self.options.classes
        )
        batches = first_rows_together(self.aligner)
        for batch in batches:
            self._one(batch, sink, progress)
            if self._settled():
                break
        following = next(batches, None)
        if following is None:  # one batch (a small file): no thread is started
            return
        batches = itertools.chain([following], batches)
        with threads(jobs) as pool:
            collect = sink is not None
            for batch, piece in in_order(
                pool, lambda b: self.piece_of([b], collect), batches, jobs
            ):
                self.absorb(piece, sink)
                if progress is not None:
                    done = batch.offset + len(batch)
                    progress(done, self.preds.fraction_done(done))

    def _one(self, batch: Batch, sink: SampleSink | None, progress: Progress | None) -> Rows | None:
        """One batch read, checked, scored and added to the partials, on this thread."""
        prepared = self.prepare(Work.of(batch))
        rows = self._add(*prepared, sink) if prepared is not None else None
        if progress is not None:
            done = batch.offset + len(batch)
            progress(done, self.preds.fraction_done(done))
        return rows

    def _settled(self) -> bool:
        """Whether no later row can change the decisions: then batches may be scored
        apart, each against the same decisions."""
        if self.decisions is None:
            return False
        if self.layout.label_cols is None and not labels_settled(self.decisions):
            return False
        self._class_weights()  # made once, before the threads share them
        return True

    def piece_of(self, batches: Iterable[Batch], collect: bool = False) -> Piece:
        """``batches`` scored on partials of their own (on a thread, or a Dask worker),
        by a copy of this run that shares its settled decisions; ``collect`` holds
        their per-sample rows until they are written in input order."""
        assert self.accumulator is not None
        piece = copy.copy(self)
        piece.accumulator = Accumulator(self.accumulator.plan)
        piece.counts = Counts()
        held = HeldRows() if collect else None
        for batch in batches:
            prepared = piece.prepare(Work.of(batch))
            if prepared is not None:
                piece._add(*prepared, held)
        return Piece(piece.accumulator, piece.counts, held)

    def absorb(self, piece: Piece, sink: SampleSink | None) -> None:
        """A piece's partials, counts and per-sample rows into the run's, in input order."""
        assert self.accumulator is not None
        self.accumulator = self.accumulator.merge(piece.accumulator)
        self.counts = self.counts.plus(piece.counts)
        if sink is not None and piece.samples:
            for rows in piece.samples:
                sink.write(rows)

    def settle(self) -> Settled:
        """The decisions, made on the first rows exactly as ``score`` makes them and read
        on until no later row can change them; no row is scored (the pieces score every
        row). For an engine whose pieces run elsewhere."""
        self.aligner = Aligner(
            self.preds, self.labels, self.layout, self.batch_rows(), self.options.classes
        )
        for batch in first_rows_together(self.aligner):
            self.prepare(Work.of(batch))
            if self._settled():
                break
        if self.decisions is None or self.accumulator is None:
            raise InputError(self.nothing_left(), file=self.preds.name)
        self._class_weights()
        self.counts = Counts()
        assert self.rules is not None
        return Settled(self.decisions, self.rules, self.accumulator.plan, self.weight_vector)

    def adopt(self, settled: Settled) -> None:
        """Take the decisions ``settle`` made (on a worker, for a piece of the input)."""
        self.decisions, self.rules = settled.decisions, settled.rules
        self.accumulator = Accumulator(settled.plan)
        self.weight_vector = settled.weight_vector

    def stream(self, sink: SampleSink | None, progress: Progress | None = None) -> Iterator[Rows]:
        """Read, check and score the input batch by batch, adding each to the partials;
        yields each batch's scored ``Rows`` (``xent compare`` pairs two runs' rows)."""
        self.aligner = Aligner(
            self.preds, self.labels, self.layout, self.batch_rows(), self.options.classes
        )
        for batch in first_rows_together(self.aligner):
            rows = self._one(batch, sink, progress)
            if rows is not None:
                yield rows

    def finish(self, unmatched: int | None = None) -> Summary:
        """The ``Summary`` of every batch ``stream`` read, its gates judged (pieces
        scored elsewhere say ``unmatched``: 0 when LABELS pair by position)."""
        acc = self.accumulator
        if acc is None or acc.n == 0:
            raise InputError(self.nothing_left(), file=self.preds.name)
        acc.add(self._rows_left_out())
        if self.layout.weight_col is not None and not self.counts.weight_total > 0:
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
        assert self.aligner is not None
        if self.aligner.unmatched_labels is not None:
            unmatched = self.aligner.unmatched_labels
        summary = acc.finish(self._facts(unmatched), self._ends(), __version__)
        return apply_gates(summary, self.options)

    def nothing_left(self) -> str:
        if self.counts.dropped or self.counts.ignored:
            return (
                f"no rows left to score ({self.counts.dropped} dropped as invalid, "
                f"{self.counts.ignored} ignored)"
            )
        return "no rows to score (the file has a header but no data rows)"

    def batch_rows(self) -> int:
        return batch_rows_for(len(self.layout.pred_cols), self.options)

    # -- one batch -----------------------------------------------------------------------

    def prepare(self, work: Work) -> tuple[Work, Checked] | None:
        """One batch's rows ready for the kernels: ignored and invalid rows out, the
        decisions made (on the first rows that remain), scores and labels checked and
        encoded against them. None when no row is left. ``xent inspect`` runs this on a
        first batch, so that it decides exactly as ``score`` does."""
        work = self._filter(work)
        if not len(work):
            return None
        if self.decisions is None:
            self._decide(work)
        decisions = self.decisions
        assert decisions is not None and self.rules is not None
        work = self._labels(work)
        decisions = self.decisions
        while True:
            checked = check_scores(
                work.scores,
                decisions.input,
                self.layout.pred_cols,
                self.preds.name,
                work.rows,
                sum_tol=self.options.sum_tol,
                renormalize=self.options.renormalize,
                dtype=self.layout.dtype,
                sums=self.rules.sums if decisions.task != "multilabel" else "unchecked",
                drop=self.options.drop_invalid,
            )
            if checked.bad is None:
                break
            work = self._drop(work, checked.bad)
        if not len(work):
            return None
        if work.weights is not None:
            layout = self.layout
            assert layout.weight_col is not None
            weight_file = self.preds.name if layout.weight_in_preds else self.label_file
            check_weights(
                work.weights,
                weight_file,
                layout.weight_col,
                work.label_rows if not layout.weight_in_preds else work.rows,
            )
            self.counts.weight_total += float(work.weights.sum())
        self.counts.unnormalized += checked.unnormalized
        return work, checked

    def _filter(self, work: Work) -> Work:
        """The rows left after ``--ignore-label`` and non-finite predictions; before the
        decisions, also the rows whose label cells are not numbers in [0, 1] (they decide
        nothing: they are dropped, or the error)."""
        opts, layout, drop = self.options, self.layout, self.options.drop_invalid
        if opts.ignore_label is not None and work.labels is not None:
            ignored = ignored_rows(work.labels, opts.ignore_label)
            if ignored.any():
                count = int(ignored.sum())
                self.counts.left_out_ignored(count)
                work = work.without(ignored)
        bad = check_finite(work.scores, layout.pred_cols, self.preds.name, work.rows, drop)
        if bad is not None:
            work = self._drop(work, bad)
        if work.targets is not None and self.decisions is None:
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
        return work

    def _decide(self, work: Work) -> None:
        """The decisions, on the first rows that remain, and what follows from them: the
        peer's rules and an accumulator of the right shape. The task and input kind are
        kept even when the labels then fail, for ``xent inspect``."""
        opts, layout = self.options, self.layout
        first = work.first(DECISION_ROWS)  # SPEC's first rows, whatever the batch size
        decisions = decide_problem(first, layout, opts, self.preds.name, self.label_file)
        self.decisions = decisions
        task = decisions.task
        self.rules = rules_for(opts, task, layout.dtype, decisions.eps, decisions.target)
        weighted = (
            layout.weight_col is not None
            or self.class_weights is not None
            or (task == "multilabel" and self.rules.arithmetic.label_sum)
        )
        n_classes = 2 if task == "binary" else len(layout.pred_cols)
        scale = (
            self._class_weights() if task == "multilabel" or decisions.target == "hard" else None
        )
        self.accumulator = Accumulator(
            Plan(
                n_classes,
                task,
                decisions.target,
                weighted=weighted,
                sample_weighted=layout.weight_col is not None,
                class_scale=tuple(scale.tolist()) if scale is not None else None,
                bins=opts.bins,
                ci=opts.ci,
                bootstrap=opts.bootstrap,
                seed=opts.seed,
                by=opts.by,
                max_slices=opts.max_slices,
                worst=opts.worst,
                histograms=opts.histograms,
            )
        )

    def _drop(self, work: Work, bad: npt.NDArray[np.bool_]) -> Work:
        count = int(np.count_nonzero(bad))
        self.counts.left_out_dropped(count)
        return work.without(bad)

    def _labels(self, work: Work) -> Work:
        """The rows with their class indices (none for soft and multilabel targets),
        less rows whose labels are invalid under ``--drop-invalid``."""
        decisions = self.decisions
        assert decisions is not None
        if work.targets is not None:
            task, target = decisions.task, decisions.target
            bad = check_targets(
                work.targets,
                task,
                self.layout.label_columns,
                self.label_file,
                work.label_rows,
                sum_tol=self.options.sum_tol,
                one_hot=target == "hard" and task == "multiclass",
                drop=self.options.drop_invalid,
            )
            if bad is not None:
                work = self._drop(work, bad)
            if target == "hard" and task == "multiclass" and work.targets is not None:
                work.y = np.argmax(work.targets, axis=1)
            return work
        assert work.labels is not None
        while True:
            try:
                if decisions.label_mode is None:  # every label so far is missing
                    first = work.first(DECISION_ROWS)
                    decisions = self.decisions = decide_labels(first, decisions, self.options)
                decisions = self.decisions = with_labels_seen(decisions, work.labels)
                work.y = encode_labels(work.labels, work.label_rows, decisions)
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

    # -- compute and accumulate ------------------------------------------------------------

    def _add(self, work: Work, checked: Checked, sink: SampleSink | None) -> Rows:
        assert self.accumulator is not None and self.decisions is not None
        y = work.y
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
        losses = result.losses
        multilabel = self.decisions.task == "multilabel"
        if multilabel:
            classes = np.zeros(len(work), dtype=np.int64)
            hit = np.asarray(losses.pred, dtype=bool)
        else:
            if y is not None:
                classes = y
            else:
                assert work.targets is not None
                classes = np.argmax(work.targets, axis=1)
            hit = losses.pred == classes
        dropped, ignored = self.counts.take_left_out()
        texts = (None, None)
        if multilabel and self.options.worst is not None:
            texts = self._label_texts(work, result)
        rows = Rows(
            loss=losses.loss,
            numerator=numerator,
            denominator=denominator if self.accumulator.plan.weighted else None,
            weights=work.weights,
            label=classes,
            pred=classes if multilabel else losses.pred,
            hit=hit,
            p_true=losses.p_true,
            brier=result.brier,
            confidence=result.confidence,
            outcome=result.outcome,
            rows=work.rows,
            targets=work.targets,
            per_label=result.per_label,
            label_hits=result.hits,
            ids=work.ids,
            keys=work.keys,
            label_text=texts[0],
            pred_text=texts[1],
            clipped=losses.clipped,
            renormalized=checked.renormalized + result.renormalized,
            dropped=dropped,
            ignored=ignored,
        )
        self.accumulator.add(rows)
        if sink is not None:
            sink.write(self._sample_rows(work, classes, result, row_weights))
        return rows

    def _label_texts(self, work: Work, result: family.Weighted) -> tuple[Any, Any]:
        """Multilabel rows' label and prediction as text: the positive labels joined by
        ``|`` (as ``--per-sample`` writes them)."""
        assert self.decisions is not None
        assert work.targets is not None and result.hits is not None
        truth = work.targets > 0.5
        names = self.decisions.classes
        return joined(truth, names), joined(truth == result.hits, names)

    def _rows_left_out(self) -> Rows:
        """No rows, only the counts of those left out since the last batch scored."""
        none = np.zeros(0)
        index = np.zeros(0, dtype=np.int64)
        flags = np.zeros(0, dtype=bool)
        dropped, ignored = self.counts.take_left_out()
        return Rows(
            none,
            none,
            None,
            None,
            index,
            index,
            flags,
            none,
            none,
            none,
            flags,
            index,
            dropped=dropped,
            ignored=ignored,
        )

    def _compute(
        self,
        scores: npt.NDArray[np.float64],
        y: npt.NDArray[np.int64] | None,
        targets: npt.NDArray[np.float64] | None,
        input_kind: str | None = None,
    ) -> family.Weighted:
        decisions = self.decisions
        assert self.rules is not None and decisions is not None
        opts = self.options
        return batch_losses(
            decisions.task,
            decisions.target,
            input_kind or decisions.input,
            self.rules,
            scores,
            y,
            targets,
            smoothing=opts.label_smoothing,
            pos_weight=opts.pos_weight,
            class_weights=self._class_weights(),
            eps=decisions.eps,
        )

    def _class_weights(self) -> npt.NDArray[np.float64] | None:
        """``--class-weights`` in the order of the classes, made once the classes are known."""
        if self.class_weights is None:
            return None
        if self.weight_vector is None:
            assert self.decisions is not None
            self.weight_vector = class_weight_vector(
                self.class_weights, self.decisions.classes, class_aliases(self.decisions)
            )
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
        assert self.decisions is not None
        return dict(zip(self.decisions.classes, self.weight_vector.tolist(), strict=True))

    def _sample_rows(
        self,
        work: Work,
        classes: npt.NDArray[np.int64],
        result: family.Weighted,
        weights: npt.NDArray[np.float64] | None,
    ) -> SampleRows:
        decisions = self.decisions
        assert decisions is not None
        keys = work.ids if work.ids is not None else from_numpy(work.rows)
        label_names = pred_names = None
        if decisions.task == "multilabel":
            label_names, pred_names = self._label_texts(work, result)
        losses = result.losses
        return SampleRows(
            key_name=self.layout.id_col or "row",
            keys=keys,
            labels=classes,
            preds=losses.pred if decisions.task != "multilabel" else classes,
            loss=losses.loss / self.scale,
            p_true=losses.p_true,
            classes=decisions.classes,
            label_text=label_names,
            pred_text=pred_names,
            weights=weights,
        )

    # -- the summary -------------------------------------------------------------------

    def _facts(self, unmatched: int | None) -> Facts:
        opts, decisions = self.options, self.decisions
        assert decisions is not None and self.rules is not None
        return Facts(
            task=decisions.task,
            input=decisions.input,
            classes=decisions.classes,
            log_base=opts.log_base,
            reduction=opts.reduction,
            eps=self.rules.eps,
            signature=signature(
                decisions.task,
                decisions.input,
                opts,
                decisions.target,
                self._resolved_class_weights(),
            ),
            target=decisions.target,
            compat=opts.compat,
            reasons=decisions.reasons_dict,
            inputs={"preds": self.preds.name, "labels": self.labels.name if self.labels else None},
            unmatched_labels=unmatched,
            rules=self.rules.describe(),
            warnings=(*decisions.warnings, *self._warnings(unmatched)),
        )

    def _ends(self) -> Ends:
        decisions = self.decisions
        assert decisions is not None
        return Ends(
            scale=float(self.scale),
            classes=decisions.classes,
            task=decisions.task,
            target=decisions.target,
            reduction=self.options.reduction,
            constant_loss=self._constant_loss,
        )

    def _constant_loss(self, q: npt.NDArray[np.float64]) -> float:
        """The mean loss (nats) of predicting ``q`` for every row, scored against the
        rows whose frequencies (mean target) ``q`` is, under this run's rules: one row
        per class weighted by its frequency (hard labels, by linearity the same), or one
        row whose target is ``q`` (soft and multilabel targets)."""
        decisions = self.decisions
        assert decisions is not None
        y: npt.NDArray[np.int64] | None = None
        if decisions.task == "multilabel" or decisions.target == "soft":
            scores, targets, share = q[None, :], q[None, :], np.ones(1)
        else:  # a row per class that some row has, each weighted by its frequency
            y = np.flatnonzero(q > 0)
            targets, share = None, q[y]
            binary = decisions.task == "binary"
            scores = np.full((y.size, 1), q[1]) if binary else np.tile(q, (y.size, 1))
        result = self._compute(np.asarray(scores, dtype=np.float64), y, targets, "probs")
        numerator = float(np.dot(share, result.numerator))
        denominator = float(np.dot(share, result.denominator))
        return numerator / denominator

    def _warnings(self, unmatched: int | None) -> list[str]:
        assert self.accumulator is not None and self.rules is not None
        acc, notes = self.accumulator.counters, []
        if acc.clipped:
            notes.append(
                f"clipped {acc.clipped} probabilit{'y' if acc.clipped == 1 else 'ies'} "
                f"to [eps, 1 - eps] with eps = {self.rules.eps:.6g}"
            )
        if acc.renormalized:
            assert self.decisions is not None
            notes.append(
                f"renormalised {acc.renormalized} row{'s' if acc.renormalized > 1 else ''}"
                f" whose {'exp' if self.decisions.input == 'logprobs' else 'probabilities'} "
                f"did not sum to 1"
            )
        if self.counts.unnormalized:
            notes.append(
                f"{self.counts.unnormalized} row{'s' if self.counts.unnormalized > 1 else ''} of "
                "probabilities do not sum to 1 and were not renormalised (as scikit-learn)"
            )
        dropped = self.counts.dropped
        if dropped:
            notes.append(
                f"dropped {dropped} invalid row{'s' if dropped > 1 else ''} (--drop-invalid)"
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
