"""``xent compare``: two reports side by side, or two models' predictions paired row by row.

Reports mode reads two JSON reports of ``xent score`` and sets their figures side by
side. Paired mode runs ``score``'s batch loop for BASE and for NEW at once, each against
LABELS (or its own label column), and pairs their scored rows as they come: by position,
or by ``--id-col``. The pairs feed the ``Paired`` partial (the per-row differences'
mean, spread, wins and discordant rows); each run's own partials make its report. Memory
stays bounded: only the rows one run has read ahead of the other are held.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from ..comparison import Comparison, compared
from ..errors import InputError, UsageError, XentError, quoted
from ..io.source import STDIN, is_url
from ..metrics.paired import Paired, PairedRows
from ..metrics.rows import Rows
from ..options import CompareOptions, Options
from ..summary import Summary
from ..version import __version__
from .comparegates import apply_compare_gates
from .pipeline import _Run, located, open_run

REPORT_SNIFF = 4096
"""Bytes read from a path to tell a JSON report from predictions."""
DEFAULT_CI = 0.95
IGNORED_BY_REPORTS = ("batch_rows", "histograms")
"""Options two reports need not refuse: the batch size, and the histograms a figure
asks for (reports carry theirs, if they were counted)."""
SIDES = ("BASE", "NEW")


def compare(
    base: Any,
    new: Any,
    labels: Any = None,
    *,
    options: Options | None = None,
    compare_options: CompareOptions | None = None,
    **kwargs: Any,
) -> Comparison:
    """BASE against NEW; see ``xentcli.compare`` for the public door."""
    gates = compare_options if compare_options is not None else CompareOptions()
    reports = [_report(side, name) for side, name in zip((base, new), SIDES, strict=True)]
    if reports[0] is not None and reports[1] is not None:
        if labels is not None:
            raise UsageError("two reports are compared as they are; LABELS is for predictions")
        _no_score_options(options, kwargs)
        comparison = _from_reports(reports[0], reports[1], gates)
    elif reports[0] is not None or reports[1] is not None:
        report, other = ("BASE", "NEW") if reports[0] is not None else ("NEW", "BASE")
        _exists(new if other == "NEW" else base)
        raise UsageError(
            f"{report} is a report of xent score and {other} holds predictions; compare "
            "two reports, or two prediction files against the same LABELS"
        )
    else:
        opts = Options.from_kwargs(options, **kwargs)
        if opts.ci is None:
            opts = Options.from_kwargs(opts, ci=DEFAULT_CI)
        comparison = _paired(base, new, labels, opts, gates)
    return apply_compare_gates(comparison, gates)


# -- reports ---------------------------------------------------------------------------


def _report(data: Any, side: str) -> Summary | None:
    """``data`` as a ``Summary`` when it is a report (a ``Summary``, a report's dict, or
    a path or standard input holding one), else None: predictions."""
    if isinstance(data, Summary):
        return data
    if isinstance(data, Mapping):
        return _summary(data, side, side)
    if not isinstance(data, str | os.PathLike):
        return None
    path = os.fspath(data)
    if path == STDIN:
        stream = sys.stdin.buffer if sys.stdin is not None else None
        if stream is None or stream.closed or stream.isatty():
            return None
        if hasattr(stream, "peek"):  # a pipe: look without taking
            head = stream.peek(REPORT_SNIFF)
        elif stream.seekable():  # in memory (a test's runner): read, then rewind
            head = stream.read(REPORT_SNIFF)
            stream.seek(0)
        else:
            return None
        if not _looks_like_report(head):
            return None
        return _summary(_json(stream.read(), "<stdin>"), side, "<stdin>")
    try:
        with open(path, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                return None
            if not _looks_like_report(handle.read(REPORT_SNIFF)):
                return None
            handle.seek(0)
            return _summary(_json(handle.read(), path), side, path)
    except OSError:
        return None  # the reader of predictions says what is wrong with the path


def _exists(data: Any) -> None:
    """A path that is not there is that, not "predictions"."""
    if isinstance(data, str | os.PathLike):
        path = os.fspath(data)
        if path == STDIN or is_url(path):  # a URL's reader says what is wrong with it
            return
        if not os.path.exists(path) and not any(c in path for c in "*?["):
            raise InputError("no such file", file=path)


def _looks_like_report(head: bytes) -> bool:
    """A JSON object whose first key is ``schema``, as every report of ``score`` starts."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    return text.startswith(b"{") and text[1:].lstrip().startswith(b'"schema"')


def _json(data: bytes, name: str) -> Any:
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError) as error:
        raise InputError(f"not a JSON report: {error}", file=name) from None


def _summary(data: Mapping[str, Any], side: str, name: str) -> Summary:
    if "mode" in data and "base" in data:
        raise InputError(
            "a report of xent compare, not of xent score; compare score's reports", file=name
        )
    try:
        return Summary.from_dict(data)
    except ValueError as error:
        raise InputError(f"{side}: {error}", file=name) from None


def _no_score_options(options: Options | None, kwargs: Mapping[str, Any]) -> None:
    """Two reports are compared as they were scored: an option of ``score`` has nothing
    to act on, and is refused rather than silently ignored."""
    opts = Options.from_kwargs(options, **kwargs)
    default = Options()
    for field in fields(Options):
        if field.name in IGNORED_BY_REPORTS:
            continue
        if getattr(opts, field.name) != getattr(default, field.name):
            option = "--" + field.name.replace("_", "-")
            raise UsageError(
                f"{option} acts on predictions; two reports are compared as they were scored"
            )


def signature_fields(signature: str) -> dict[str, str]:
    """``'xent:0.1|task:binary|...'`` as ``{'xent': '0.1', 'task': 'binary', ...}``."""
    out: dict[str, str] = {}
    for part in signature.split("|"):
        key, _, value = part.partition(":")
        out[key] = value
    return out


def first_difference(base: str, new: str, ignore: tuple[str, ...] = ("xent",)) -> str | None:
    """The first field (in BASE's order, then NEW's) where two signatures differ, the
    fields in ``ignore`` aside; None when they agree."""
    a, b = signature_fields(base), signature_fields(new)
    for key in list(a) + [k for k in b if k not in a]:
        if key not in ignore and a.get(key) != b.get(key):
            return key
    return None


def _mismatch(
    base: Summary, new: Summary, options: CompareOptions, ignore: tuple[str, ...]
) -> tuple[str | None, list[str]]:
    """The signature field that differs (refused unless ``--allow-mismatch``) and the
    warnings it and the sizes give."""
    field = first_difference(base.signature, new.signature, ignore)
    warnings = []
    if field is not None:
        a, b = signature_fields(base.signature), signature_fields(new.signature)
        shown = f"{field} (BASE {a.get(field, 'absent')}, NEW {b.get(field, 'absent')})"
        if not options.allow_mismatch:
            raise InputError(
                f"the signatures differ in {shown}: the figures were made under different "
                "conventions; pass --allow-mismatch to compare them anyway"
            )
        warnings.append(f"the signatures differ in {shown}; compared as --allow-mismatch asks")
    if base.n_samples != new.n_samples:
        warnings.append(
            f"BASE scored {base.n_samples} rows and NEW {new.n_samples}: "
            "the figures are not of the same rows"
        )
    return field, warnings


def _from_reports(base: Summary, new: Summary, options: CompareOptions) -> Comparison:
    if options.alpha is not None:
        raise UsageError(
            "--alpha needs the per-row differences of paired mode; two reports hold none "
            "(compare the prediction files against LABELS)"
        )
    field, warnings = _mismatch(base, new, options, ("xent",))
    return compared(
        "reports", base, new, mismatch=field, warnings=tuple(warnings), xent_version=__version__
    )


# -- paired ----------------------------------------------------------------------------


def _paired(
    base: Any, new: Any, labels: Any, options: Options, gates: CompareOptions
) -> Comparison:
    if isinstance(base, str) and isinstance(new, str) and base == new == STDIN:
        raise UsageError("BASE and NEW cannot both be standard input")
    if labels is not None and _one_pass(labels):
        raise UsageError(
            "paired mode reads LABELS once for each model, side by side: give LABELS as a "
            "file, not standard input or a pipe"
        )
    runs: list[_Run] = []
    for side, preds in enumerate((base, new)):
        with scoring(side, _shown(preds)):
            runs.append(open_run(preds, labels, options))
    with located(*(source for run in runs for source in (run.preds, run.labels))):
        if (
            runs[0].preds.num_rows is not None
            and runs[1].preds.num_rows is not None
            and runs[0].preds.num_rows != runs[1].preds.num_rows
            and options.id_col is None
        ):
            raise InputError(
                f"BASE has {runs[0].preds.num_rows} rows and NEW {runs[1].preds.num_rows}; "
                "paired by position, they must have the same rows (or pair them by --id-col)",
                file=runs[1].preds.name,
            )
        paired: Paired | None = None
        for rows in _Pairing(runs, options.id_col is not None).pairs():
            if paired is None:  # the plan is made with the decisions, on the first rows
                plan_ = runs[0].accumulator.plan  # type: ignore[union-attr]
                paired = Paired(
                    options.ci or DEFAULT_CI,
                    options.bootstrap,
                    options.seed,
                    plan_.weighted,
                    plan_.sample_weighted,
                )
            paired.add(rows)
        summaries = []
        for side, run in enumerate(runs):
            with scoring(side, run.preds.name):
                summaries.append(run.finish())
        assert paired is not None  # finish raised if a run had no rows
    base_summary, new_summary = summaries
    field, warnings = _mismatch(base_summary, new_summary, gates, ("xent", "input"))
    return compared(
        "paired",
        base_summary,
        new_summary,
        paired=paired.finish(np.log(options.log_base_value)),
        mismatch=field,
        warnings=tuple(warnings),
        xent_version=__version__,
    )


@contextmanager
def scoring(side: int, preds: str | None) -> Iterator[None]:
    """Say which model an error of its run is about (LABELS is read by both)."""
    try:
        yield
    except XentError as error:
        same = preds is None or error.file == preds
        named = SIDES[side] if same else f"{SIDES[side]} ({preds})"
        error.message = f"{named}: {error.message}"
        raise


def _shown(data: Any) -> str | None:
    """The name an input's errors give it: its path as given (standard input as
    ``<stdin>``); None for an in-memory table."""
    if not isinstance(data, str | os.PathLike):
        return None
    path = os.fspath(data)
    return "<stdin>" if path == STDIN else path


def _names(classes: tuple[str, ...]) -> str:
    return quoted(list(classes))


def _one_pass(data: Any) -> bool:
    """Whether ``data`` can be read only once: standard input, a FIFO, a device."""
    if not isinstance(data, str | os.PathLike):
        return False
    path = os.fspath(data)
    if path == STDIN:
        return True
    try:
        return not stat.S_ISREG(os.stat(path).st_mode) and not os.path.isdir(path)
    except OSError:
        return False


@dataclass(frozen=True)
class _Scored:
    """What pairing keeps of one run's scored rows: position, terms of the mean, loss,
    hit, weights, label (or target) and id, each an array of the same length."""

    rows: npt.NDArray[np.int64]
    numerator: npt.NDArray[np.float64]
    denominator: npt.NDArray[np.float64] | None
    loss: npt.NDArray[np.float64]
    hit: npt.NDArray[np.bool_]
    weights: npt.NDArray[np.float64] | None
    label: npt.NDArray[Any]
    ids: pa.Array | None

    @classmethod
    def of(cls, rows: Rows) -> _Scored:
        label = rows.targets if rows.targets is not None else rows.label
        ids = None
        if rows.ids is not None:
            ids = rows.ids if isinstance(rows.ids, pa.Array) else pa.array(rows.ids)
        return cls(
            rows.rows,
            rows.numerator,
            rows.denominator,
            rows.loss,
            rows.hit,
            rows.weights,
            label,
            ids,
        )

    def __len__(self) -> int:
        return int(self.rows.shape[0])

    def take(self, index: slice | npt.NDArray[np.int64]) -> _Scored:
        def cut(values: Any) -> Any:
            if values is None:
                return None
            if isinstance(values, pa.Array):
                if isinstance(index, slice):
                    start, stop, _ = index.indices(len(values))
                    return values.slice(start, stop - start)
                return values.take(pa.array(index))
            return values[index]

        return _Scored(*(cut(getattr(self, f.name)) for f in fields(self)))


def _same_ids(a: pa.Array | None, b: pa.Array | None) -> bool:
    """Whether two runs' ids agree row for row (the fast path of pairing by id)."""
    if a is None or b is None:
        return False
    try:
        return bool(pc.all(pc.equal(a, b)).as_py())
    except pa.ArrowException:  # ids of different types: pairing by value says which
        return False


def _concat(parts: list[_Scored]) -> _Scored:
    if len(parts) == 1:
        return parts[0]

    def join(values: list[Any]) -> Any:
        if values[0] is None:
            return None
        if isinstance(values[0], pa.Array):
            return pa.concat_arrays(values)
        return np.concatenate(values)

    return _Scored(*(join([getattr(p, f.name) for p in parts]) for f in fields(_Scored)))


class _Pairing:
    """The two runs' scored rows, paired as they come: by position (each row's place in
    its PREDS), or by id; a row that one run scored and the other left out, or whose
    label differs between them, stops the comparison."""

    def __init__(self, runs: list[_Run], by_id: bool) -> None:
        self.runs = runs
        self.by_id = by_id
        self.streams = [run.stream(None) for run in runs]
        self.pending: list[_Scored | None] = [None, None]
        self.done = [False, False]
        self.order: Any = False  # not yet known: see _in_base_order

    def _pull(self, side: int) -> bool:
        """Read the next non-empty batch of ``side`` into its pending rows."""
        with scoring(side, self.runs[side].preds.name):
            for rows in self.streams[side]:
                if len(rows):
                    scored = _Scored.of(rows)
                    held = self.pending[side]
                    self.pending[side] = scored if held is None else _concat([held, scored])
                    return True
        self.done[side] = True
        return False

    def pairs(self) -> Iterator[PairedRows]:
        while True:
            for side in (0, 1):
                if not self.pending[side] and not self.done[side]:
                    self._pull(side)
            base, new = self.pending
            if not base or not new:
                if self.by_id and (base or new):
                    yield from self._by_id_rest()
                    return
                if base or new:
                    self._unpaired(0 if base else 1, (base or new).rows[0])  # type: ignore[union-attr]
                return
            k = min(len(base), len(new))
            a, b = base.take(slice(0, k)), new.take(slice(0, k))
            if self.by_id and not _same_ids(a.ids, b.ids):
                yield from self._by_id_rest()
                return
            elif not np.array_equal(a.rows, b.rows):
                first = int(np.argmax(a.rows != b.rows))
                row = min(int(a.rows[first]), int(b.rows[first]))
                self._unpaired(0 if a.rows[first] == row else 1, row)
            yield self._paired(a, b)
            self.pending = [base.take(slice(k, None)), new.take(slice(k, None))]

    def _by_id_rest(self) -> Iterator[PairedRows]:
        """Pairing by id when the two files list their ids in different orders: each
        row waits, keyed by its id, until the other run reaches the same id (memory
        then holds the rows one file has ahead of the other)."""
        waiting: list[dict[Any, tuple[int, int]]] = [{}, {}]  # id -> (chunk, row in it)
        chunks: dict[int, _Scored] = {}
        while True:
            for side in (0, 1):
                held = self.pending[side]
                self.pending[side] = None
                if not held:
                    continue
                chunks[id(held)] = held
                yield from self._match(side, held, waiting, chunks)
            if self.done[0] and self.done[1]:
                break
            for side in (0, 1):
                if not self.done[side]:
                    self._pull(side)
        for side in (0, 1):
            if waiting[side]:
                key = next(iter(waiting[side]))
                raise InputError(
                    f"id {quoted(key)} of {SIDES[side]} is not in {SIDES[1 - side]} "
                    f"({len(waiting[side])} such ids); paired mode needs the same rows in both",
                    file=self.runs[side].preds.name,
                    column=self.runs[side].layout.id_col,
                )

    def _match(
        self,
        side: int,
        held: _Scored,
        waiting: list[dict[Any, tuple[int, int]]],
        chunks: dict[int, _Scored],
    ) -> Iterator[PairedRows]:
        """Pair ``held``'s rows with those of the other side waiting for their ids; the
        rest wait in turn."""
        other, mine_waiting = waiting[1 - side], waiting[side]
        matched: dict[int, tuple[list[int], list[int]]] = {}  # other chunk -> (mine, its)
        assert held.ids is not None
        for i, key in enumerate(held.ids.to_pylist()):
            found = other.pop(key, None)
            if found is not None:
                mine, its = matched.setdefault(found[0], ([], []))
                mine.append(i)
                its.append(found[1])
            elif key in mine_waiting:
                raise InputError(
                    f"id {quoted(key)} appears twice in {SIDES[side]}; pairing by "
                    "--id-col needs each id once",
                    file=self.runs[side].preds.name,
                    column=self.runs[side].layout.id_col,
                )
            else:
                mine_waiting[key] = (id(held), i)
        for chunk, (mine, its) in matched.items():
            here = held.take(np.array(mine, dtype=np.int64))
            there = chunks[chunk].take(np.array(its, dtype=np.int64))
            yield self._paired(here, there) if side == 0 else self._paired(there, here)

    def _unpaired(self, side: int, row: int) -> None:
        """Stop at a row one run scored and the other did not."""
        other = 1 - side
        other_name = f"{SIDES[other]} ({self.runs[other].preds.name})"
        if self.done[other] and not self.pending[other]:
            why = f"{other_name} ended before it"
        else:
            why = f"{other_name} left it out (--drop-invalid, --ignore-label)"
        raise InputError(
            f"{SIDES[side]} has this row and {why}; paired mode needs the same rows in both",
            file=self.runs[side].preds.name,
            row=row,
        )

    def _in_base_order(self) -> npt.NDArray[np.int64] | None:
        """For each of BASE's classes, its index among NEW's (None when both runs list
        the same classes in the same order): two files may order their columns
        differently and still hold the same classes. Different classes stop here."""
        if self.order is not False:
            return self.order  # type: ignore[return-value]
        base = self.runs[0].decisions.classes  # type: ignore[union-attr]
        new = self.runs[1].decisions.classes  # type: ignore[union-attr]
        if sorted(base) != sorted(new):
            raise InputError(
                f"BASE's classes {_names(base)} differ from NEW's {_names(new)}; paired "
                "mode compares two models of the same classes (--classes fixes them for both)"
            )
        self.order = None if base == new else np.array([new.index(c) for c in base])
        return self.order

    def _paired(self, base: _Scored, new: _Scored) -> PairedRows:
        """One batch of pairs, their labels and weights checked to agree."""
        order = self._in_base_order()
        new_label = new.label
        if order is not None:  # NEW's label in BASE's class order
            new_label = np.argsort(order)[new_label] if new_label.ndim == 1 else new_label[:, order]
        if not np.array_equal(base.label, new_label):
            differ = base.label != new_label
            first = int(np.argmax(np.any(differ, axis=1) if differ.ndim > 1 else differ))
            said = ""
            if base.label.ndim == 1:
                classes = self.runs[0].decisions.classes  # type: ignore[union-attr]
                said = (
                    f" (BASE {quoted(classes[base.label[first]])}, "
                    f"NEW {quoted(classes[new_label[first]])})"
                )
            raise InputError(
                f"the labels of BASE and NEW disagree at BASE row {int(base.rows[first])}"
                f"{said}; paired mode compares two models on the same labels",
                file=self.runs[1].preds.name,
                row=int(new.rows[first]),
            )
        if (base.weights is None) != (new.weights is None) or (
            base.weights is not None and not np.array_equal(base.weights, new.weights)
        ):
            raise InputError(
                "the weights of BASE and NEW disagree; paired mode weighs each row once",
                file=self.runs[1].preds.name,
            )
        return PairedRows(
            numerator=new.numerator - base.numerator,
            denominator=base.denominator,
            loss_base=base.loss,
            loss_new=new.loss,
            hit_base=base.hit,
            hit_new=new.hit,
            weights=base.weights,
            rows=base.rows,
        )
