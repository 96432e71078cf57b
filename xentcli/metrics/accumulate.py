"""The run's partials as one: add a batch to each, merge two runs, finish the ``Summary``.

A new figure is a new partial here (and its keys in ``Summary.to_dict``), never a change
to the batch loop. Every partial's sums are exact (``metrics.exact``), so batches,
threads or machines merged in any order give the same ``Summary`` to the last bit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..summary import Facts, Summary
from .baseline import Baseline, against_baseline
from .brier import Brier
from .calibration import Calibration
from .perclass import PerClass
from .rows import Ends, Partial, Rows
from .totals import Counters, LossTotals


@dataclass(frozen=True)
class Plan:
    """What a run's partials are: fixed once the decisions are made, the same on every
    piece of the input (and so picklable, for other processes and machines)."""

    n_classes: int
    task: str
    target: str = "hard"
    weighted: bool = False
    sample_weighted: bool = False
    class_scale: tuple[float, ...] | None = None
    bins: int = 15
    ci: float | None = None
    bootstrap: int | None = None
    seed: int = 0
    by: tuple[str, ...] = ()
    max_slices: int = 1000
    worst: int | None = None
    histograms: bool = False


class Accumulator:
    """The partials of one run, in report order."""

    def __init__(self, plan: Plan, partials: tuple[Partial, ...] | None = None) -> None:
        self.plan = plan
        self.partials = partials if partials is not None else _partials(plan)

    @property
    def totals(self) -> LossTotals:
        return next(p for p in self.partials if isinstance(p, LossTotals))

    @property
    def counters(self) -> Counters:
        return next(p for p in self.partials if isinstance(p, Counters))

    @property
    def n(self) -> int:
        return self.totals.n

    @property
    def total_weight(self) -> float:
        return self.totals.total_weight

    def add(self, rows: Rows) -> None:
        """One batch into every partial."""
        for partial in self.partials:
            partial.add(rows)

    def merge(self, other: Accumulator) -> Accumulator:
        """A new accumulator holding both; neither changes."""
        if other.plan != self.plan:
            raise ValueError("cannot merge the partials of different runs")
        merged = tuple(a.merge(b) for a, b in zip(self.partials, other.partials, strict=True))
        return Accumulator(self.plan, merged)

    def finish(self, facts: Facts, ends: Ends, version: str) -> Summary:
        """The ``Summary``: every partial's fields, then the figures made of two of them."""
        fields: dict[str, Any] = {}
        for partial in self.partials:
            fields.update(partial.finish(ends))
        fields.update(against_baseline(fields["mean_loss"], fields["baseline_loss"]))
        return Summary(
            xent_version=version,
            signature=facts.signature,
            compat=facts.compat,
            task=facts.task,
            input=facts.input,
            target=facts.target,
            log_base=facts.log_base,
            n_classes=self.plan.n_classes,
            classes=facts.classes,
            rules=dict(facts.rules),
            inputs=dict(facts.inputs),
            unmatched_labels=facts.unmatched_labels,
            reduction=facts.reduction,
            eps=facts.eps,
            reasons=dict(facts.reasons),
            warnings=facts.warnings,
            **fields,
        )


def _partials(plan: Plan) -> tuple[Partial, ...]:
    """The partials every run has, then those its options ask for."""
    multilabel = plan.task == "multilabel"
    scale = np.asarray(plan.class_scale) if plan.class_scale is not None else None
    partials: list[Partial] = [
        LossTotals(plan.weighted, plan.sample_weighted, None if multilabel else plan.n_classes),
        Counters(),
        PerClass(plan.n_classes, multilabel, plan.sample_weighted, scale),
        Baseline(
            plan.n_classes,
            by_targets=multilabel or plan.target == "soft",
            sample_weighted=plan.sample_weighted,
        ),
        Brier(plan.sample_weighted),
        Calibration(plan.bins, plan.sample_weighted),
    ]
    # The partials of options are imported when asked for: a plain run does not pay for
    # loading them (~8 ms, 1-2% of a 1M-row run).
    if plan.ci is not None and plan.bootstrap:
        from .bootstrap import BootstrapInterval

        partials.append(
            BootstrapInterval(
                plan.ci, plan.bootstrap, plan.seed, plan.weighted, plan.sample_weighted
            )
        )
    elif plan.ci is not None:
        from .intervals import NormalInterval

        partials.append(NormalInterval(plan.ci, plan.weighted, plan.sample_weighted))
    if plan.by:
        from .slices import Slices

        partials.append(
            Slices(plan.by, plan.bins, plan.max_slices, plan.weighted, plan.sample_weighted)
        )
    if plan.worst is not None:
        from .worst import Worst

        partials.append(Worst(plan.worst))
    if plan.histograms:  # what the figures are drawn from: asked for by those that draw
        from .histograms import Histograms

        partials.append(Histograms())
    return tuple(partials)
