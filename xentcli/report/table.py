"""The summary as a rich table on a ``Console`` handed in; rich decides colour and width.

Only a terminal has a width: there long lines wrap and a narrow one stacks the table.
Output to a pipe or a file is never wrapped, cut or padded (``grep`` finds the whole
signature on one line), and no line anywhere ends in spaces. Whether the console is a
terminal is rich's decision (``Console.is_terminal``), not ours.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from rich import box
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.segment import Segment
from rich.table import Table
from rich.text import Text

from ..summary import ClassSummary, SliceSummary, Summary
from .formats import SLICE_HEAD, headline, number, slice_cells, worst_cells, worst_head

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from ..inspection import Inspection

MAX_CLASSES_SHOWN = 20
NARROW = 60
SHORT = {"mean loss": "loss", "accuracy": "acc"}  # a narrow line's names
UNBOUNDED = 1_000_000  # the width a pipe or file is laid out in: no line reaches it


class OutputConsole(Console):
    """A ``Console`` that leaves a closed pipe to the caller: rich's own answer is to
    exit 1 on the spot, which would skip the run's files and its gates."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        raise BrokenPipeError("the reader closed the pipe")


def render_summary(summary: Summary, console: Console) -> None:
    """Print the headline figures, the per-class breakdown, and the slices and worst rows
    when asked; stack them in a narrow terminal."""
    narrow = _narrow(console)
    _print(
        console,
        Group(
            _title(summary),
            _stacked(summary) if narrow else _headline(summary),
            Text(""),
            _classes(summary, narrow),
            *_asked(summary, narrow),
            Text(""),
            Text(summary.signature, style="dim", overflow="fold"),
        ),
    )


def _narrow(console: Console) -> bool:
    """A terminal narrower than ``NARROW`` columns; a pipe or file has no width."""
    return console.is_terminal and console.width < NARROW


def _print(console: Console, renderable: RenderableType) -> None:
    """Print laid out in the terminal's width, or unbounded when not a terminal; either
    way without trailing spaces."""
    width = console.width if console.is_terminal else UNBOUNDED
    console.print(_Unpadded(renderable, width), crop=False)


class _Unpadded:
    """A renderable laid out ``width`` columns wide, each line's trailing spaces removed
    (rich pads table cells and captions to their column's width)."""

    def __init__(self, renderable: RenderableType, width: int) -> None:
        self.renderable = renderable
        self.width = width

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        lines = console.render_lines(self.renderable, options.update(width=self.width), pad=False)
        for line in lines:
            yield from _rstrip(line)
            yield Segment.line()


def _rstrip(line: list[Segment]) -> list[Segment]:
    """The line without the spaces at its end, whatever their style."""
    segments = list(line)
    while segments and not segments[-1].control:
        last = segments[-1]
        text = last.text.rstrip()
        if text:
            segments[-1] = Segment(text, last.style, last.control)
            break
        segments.pop()
    return segments


def _title(summary: Summary) -> Text:
    preds, labels = summary.inputs.get("preds"), summary.inputs.get("labels")
    text = Text("xent score ", style="bold")
    text.append(preds or "")
    if labels:
        text.append(" vs ")
        text.append(labels)
    return text


def _stacked(summary: Summary) -> Group:
    """Name and value on one line, wrapping between words: no number is ever cut."""
    return Group(
        *(Text.assemble((f"{name}: ", "bold"), value) for name, value in headline(summary))
    )


def _headline(summary: Summary) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    for name, value in headline(summary):
        style = "red" if value.startswith("FAILED") else None
        table.add_row(Text(name), Text(value, style=style or ""))
    return table


def _classes(summary: Summary, narrow: bool) -> Table | Group:
    shown, note = _chosen(summary.per_class)
    if narrow:
        lines: list[Text] = []
        for c in shown:
            lines.append(
                Text.assemble(
                    Text(c.name, style="bold"),
                    f"  n {c.n:,}",
                    f"  loss {number(c.mean_loss)}",
                    f"  acc {number(c.accuracy)}",
                )
            )
        if note:
            lines.append(Text(note, style="dim"))
        return Group(*lines)
    table = Table(
        box=box.SIMPLE_HEAD, caption=note, caption_justify="left", show_edge=False, pad_edge=False
    )
    table.add_column("class", overflow="fold")
    for header in ("n", "mean loss", "accuracy"):
        table.add_column(header, justify="right", no_wrap=True)
    for c in shown:
        table.add_row(Text(c.name), f"{c.n:,}", number(c.mean_loss), number(c.accuracy))
    return table


def _chosen(classes: tuple[ClassSummary, ...]) -> tuple[list[ClassSummary], str | None]:
    """Every class, or for many classes the ones with the highest mean loss."""
    if len(classes) <= MAX_CLASSES_SHOWN:
        return list(classes), None
    worst = sorted(classes, key=lambda c: (c.n == 0, -c.mean_loss if c.n else 0.0))
    shown = worst[: MAX_CLASSES_SHOWN // 2]
    return shown, (
        f"the {len(shown)} classes of highest mean loss; "
        f"all {len(classes):,} are in the JSON report"
    )


def _asked(summary: Summary, narrow: bool) -> list[RenderableType]:
    """The slice and worst-row tables, each after a blank line, when asked for."""
    parts: list[RenderableType] = []
    if summary.slices is not None:
        shown, note = _worst_slices(summary.slices)
        rows = [slice_cells(s) for s in shown]
        parts += [Text(""), _cells_table("slices", SLICE_HEAD, rows, note, narrow)]
    if summary.worst is not None:
        head = worst_head(summary.worst)
        rows = [worst_cells(w, head[0]) for w in summary.worst]
        title = (
            f"the {len(rows):,} rows of highest loss"
            if len(rows) != 1
            else "the row of highest loss"
        )
        parts += [Text(""), _cells_table(title, head, rows, None, narrow)]
    return parts


def _cells_table(
    title: str, head: list[str], rows: list[list[str]], note: str | None, narrow: bool
) -> Group:
    """A titled table of text cells, every cell verbatim; in a narrow terminal one line
    per row, ``name value`` pairs after the first cell(s), wrapping between pairs."""
    lines: list[RenderableType] = [Text(title, style="bold")]
    if narrow:
        slices = head[:2] == SLICE_HEAD[:2]
        for cells in rows:
            line = Text()
            if slices:  # column=value, as the per-class lines start with the class
                line.append(f"{cells[0]}={cells[1]}", style="bold")
                pairs = list(zip(head[2:], cells[2:], strict=True))
            else:
                pairs = list(zip(head, cells, strict=True))
            for i, (name, cell) in enumerate(pairs):
                line.append(f"{'  ' if i or slices else ''}{SHORT.get(name, name)} ")
                line.append(cell)
            lines.append(line)
    else:
        table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
        for name in head:
            numeric = name in ("n", "mean loss", "accuracy", "ECE", "loss", "p_true", "row")
            if numeric:
                table.add_column(name, justify="right", no_wrap=True)
            else:
                table.add_column(name, overflow="fold")
        for cells in rows:
            table.add_row(*(Text(cell) for cell in cells))
        lines.append(table)
    if note:
        lines.append(Text(note, style="dim"))
    return Group(*lines)


def _worst_slices(slices: tuple[SliceSummary, ...]) -> tuple[list[SliceSummary], str | None]:
    """Every slice, or for many the ones of highest mean loss (as for classes)."""
    if len(slices) <= MAX_CLASSES_SHOWN:
        return list(slices), None
    shown = sorted(slices, key=lambda s: (s.n == 0, -s.mean_loss if s.n else 0.0))
    shown = shown[: MAX_CLASSES_SHOWN // 2]
    return shown, (
        f"the {len(shown)} slices of highest mean loss; all {len(slices):,} are in the JSON report"
    )


class ProgressBar:
    """A transient progress bar for long runs: it appears only after ``delay`` seconds,
    redraws at most ten times a second, and vanishes when closed. The caller decides
    whether to show one at all (a terminal, not ``--quiet``)."""

    def __init__(
        self, console: Console, delay: float = 0.5, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.console = console
        self.delay = delay
        self.clock = clock
        self.started = clock()
        self.drawn = 0.0
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    def __call__(self, rows: int, fraction: float | None) -> None:
        now = self.clock()
        if self._progress is None:
            if now - self.started < self.delay:
                return
            from rich.progress import (  # here: a bar is rare, its import ~4 ms (issue 14)
                BarColumn,
                Progress,
                TaskProgressColumn,
                TextColumn,
                TimeRemainingColumn,
            )

            self._progress = Progress(
                TextColumn("scoring"),
                BarColumn(),
                TaskProgressColumn(),
                TextColumn("{task.fields[rows]} rows"),
                TimeRemainingColumn(),
                console=self.console,
                transient=True,
                auto_refresh=False,
            )
            self._task = self._progress.add_task(
                "scoring", total=1.0 if fraction is not None else None, rows="0"
            )
            self._progress.start()
        assert self._task is not None
        self._progress.update(self._task, completed=fraction or 0.0, rows=f"{rows:,}")
        if now - self.drawn >= 0.1:
            self._progress.refresh()
            self.drawn = now

    def close(self) -> None:
        """Remove the bar (if it was ever shown)."""
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


# -- xent inspect ----------------------------------------------------------------------

MAX_COLUMNS_SHOWN = 40


def render_inspection(found: Inspection, console: Console) -> None:
    """The file's facts, its columns with their roles, then what ``score`` would infer
    and why; names verbatim, stacked rather than cut in a narrow terminal."""
    narrow = _narrow(console)
    facts = [
        ("format", found.format),
        ("size", f"{found.size:,} bytes" if found.size is not None else "unknown"),
        (
            "rows",
            f"{found.rows:,}" if found.rows is not None else found.reasons.get("rows", "unknown"),
        ),
    ]
    title = Text("xent inspect ", style="bold")
    title.append(found.file)
    _print(
        console,
        Group(
            title,
            _pairs(facts, narrow),
            Text(""),
            _column_table(found, narrow),
            Text(""),
            _pairs(_inferences(found), narrow),
        ),
    )


def _pairs(rows: list[tuple[str, str]], narrow: bool) -> Table | Group:
    if narrow:
        return Group(*(Text.assemble((f"{name}: ", "bold"), value) for name, value in rows))
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    for name, value in rows:
        style = "red" if name == "cannot score" else ""
        table.add_row(Text(name), Text(value, style=style))
    return table


def _column_table(found: Inspection, narrow: bool) -> Table | Group:
    """A row per column; for very many, the first and the last few around a row that
    counts the rest (the JSON lists every one)."""
    shown: list[tuple[str, str, str, str] | None] = [
        (c.name, c.type, c.role or "", c.reason or "") for c in found.columns
    ]
    more = len(shown) - MAX_COLUMNS_SHOWN
    if more > 0:
        more += 1  # the row that counts them takes one place
        shown = [*shown[: MAX_COLUMNS_SHOWN - 6], None, *shown[-5:]]
    note = f"... {more:,} more (all in --json)"
    if narrow:
        return Group(
            *(
                Text.assemble(
                    Text(row[0], style="bold"), f"  {row[1]}", f"  {row[2]}", f"  {row[3]}"
                )
                if row is not None
                else Text(note, style="dim")
                for row in shown
            )
        )
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for header in ("column", "type", "role", "why"):
        table.add_column(header, overflow="fold")
    for row in shown:
        if row is None:
            table.add_row(Text(note, style="dim"), "", "", "")
        else:
            table.add_row(*(Text(cell) for cell in row))
    return table


def _inferences(found: Inspection) -> list[tuple[str, str]]:
    reasons = found.reasons

    def decided(value: str | None, reason: str | None) -> str:
        if value is None:
            return reason or "undecided"
        return f"{value} ({reason})" if reason else value

    rows = [
        ("columns", reasons.get("columns", "")),
        ("task", decided(found.task, reasons.get("task"))),
        ("input", decided(found.input, reasons.get("input"))),
    ]
    if found.classes is not None:
        shown = ", ".join(found.classes[:MAX_CLASSES_SHOWN])
        if len(found.classes) > MAX_CLASSES_SHOWN:
            shown += f", ... ({len(found.classes):,} in all)"
        rows.append(("classes", shown))
    if found.label_column is not None:
        rows.append(("label column", found.label_column))
    # how labels are read, in score's words ("class indices 0..9"); the JSON has the mode
    rows.append(("labels", reasons.get("labels") or found.labels or "undecided"))
    if found.problem is not None:
        rows.append(("cannot score", found.problem))
    return [(name, text) for name, text in rows if text]
