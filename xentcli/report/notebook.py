"""The ``Summary`` in a notebook: ``_repr_html_`` and ``_repr_markdown_`` (Jupyter,
VS Code, GitHub's renderer) show the headline figures, then a section per table (per
class, calibration, slices, worst rows) when the run has it. Compact: the figures a
reader looks at first, long tables cut with a line saying where the rest is; the JSON
report has everything. Every name (a class, a column, a slice value, an id) is
escaped, so ``[cow] <b>`` shows as written. Plain strings, no rich, no matplotlib.
"""

from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass

from ..summary import Summary
from .formats import LOSS_UNITS, number

MAX_ROWS = 20  # a table longer than this shows its first rows and how many more


@dataclass(frozen=True)
class Section:
    """One table of the view: a title, its column names and rows of text (the first
    ``text`` columns names, the rest numbers), and a note under it (how many rows are
    not shown)."""

    title: str
    head: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    text: int = 1  # the leading columns that hold text (left-aligned); numbers follow
    note: str = ""


def to_markdown(summary: Summary) -> str:
    """The view as GitHub Markdown: a line of what was scored, then a table per section."""
    parts = [f"**{_md(_title(summary))}**"]
    for section in sections(summary):
        lines = [f"**{_md(section.title)}**", ""] if section.title else []
        head = section.head
        lines.append("| " + " | ".join(_md(h) for h in head) + " |")
        lines.append(
            "|" + "|".join("---" if i < section.text else "---:" for i in range(len(head))) + "|"
        )
        lines += ["| " + " | ".join(_md(cell) for cell in row) + " |" for row in section.rows]
        if section.note:
            lines += ["", _md(section.note)]
        parts.append("\n".join(lines))
    parts.append(f"`{summary.signature}`")
    return "\n\n".join(p for p in parts if p) + "\n"


def to_html(summary: Summary) -> str:
    """The view as an HTML fragment: a line of what was scored, then a table per section."""
    parts = [f"<p><strong>{html.escape(_title(summary))}</strong></p>"]
    for section in sections(summary):
        title = f"<caption>{html.escape(section.title)}</caption>" if section.title else ""
        head = "".join(f"<th>{html.escape(h)}</th>" for h in section.head)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>"
            for row in section.rows
        )
        parts.append(f"<table>{title}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        if section.note:
            parts.append(f"<p>{html.escape(section.note)}</p>")
    parts.append(f"<p><code>{html.escape(summary.signature)}</code></p>")
    return '<div class="xent-summary">\n' + "\n".join(parts) + "\n</div>"


def sections(summary: Summary) -> list[Section]:
    """The tables of the view, in order; a section the run does not have is left out."""
    found = [_figures(summary), _per_class(summary)]
    found += [_calibration(summary), _slices(summary), _worst(summary)]
    return [s for s in found if s is not None and s.rows]


def _title(summary: Summary) -> str:
    return (
        f"xent: {summary.n_samples:,} samples, {summary.n_classes:,} classes, "
        f"{summary.task}, {summary.input}" + (", soft targets" if summary.target == "soft" else "")
    )


def _figures(summary: Summary) -> Section:
    unit = LOSS_UNITS.get(summary.log_base, summary.log_base)
    rows = [
        (f"loss ({summary.reduction}, {unit})", number(summary.loss)),
        ("perplexity", number(summary.perplexity)),
        ("accuracy", number(summary.accuracy)),
    ]
    if not math.isnan(summary.baseline_loss):  # the figures of the constant prediction
        rows += [
            ("baseline loss", number(summary.baseline_loss)),
            ("D²", number(summary.d2)),
            ("normalized entropy", number(summary.normalized_entropy)),
        ]
    if not math.isnan(summary.brier):
        rows.append(("Brier", number(summary.brier)))
    if not math.isnan(summary.ece):
        rows.append((f"ECE ({summary.bins} bins)", number(summary.ece)))
        rows.append(("MCE", number(summary.mce)))
    ci = summary.ci
    if ci is not None:
        how = ci.method
        if ci.replicates is not None:
            how += f", {ci.replicates:,} replicates, seed {ci.seed}"
        level = f"{ci.level * 100:g}%"
        rows.append((f"loss {level} interval ({how})", _interval(ci.loss)))
        rows.append((f"accuracy {level} interval ({how})", _interval(ci.accuracy)))
    for name, count in (
        ("clipped", summary.clipped),
        ("renormalised", summary.renormalized),
        ("dropped", summary.dropped),
        ("ignored", summary.ignored),
    ):
        if count:
            rows.append((name, f"{count:,}"))
    for gate in summary.gates:
        verdict = "passed" if gate.passed else "FAILED"
        rows.append((f"gate {gate.name}", f"{verdict}: {number(gate.value)} vs {gate.threshold!r}"))
    rows += [("warning", text) for text in summary.warnings]
    return Section("", ("figure", "value"), tuple(rows))


def _per_class(summary: Summary) -> Section:
    rows = tuple(
        (c.name, f"{c.n:,}", number(c.mean_loss), number(c.accuracy)) for c in summary.per_class
    )
    return _cut("Per class", ("class", "n", "mean loss", "accuracy"), rows, 1, "per_class")


def _calibration(summary: Summary) -> Section | None:
    """The non-empty reliability bins (an empty one has nothing to show)."""
    rows = tuple(
        (
            f"[{b.lo:g}, {b.hi:g}{']' if b.hi >= 1 else ')'}",
            f"{b.n:,}",
            _maybe(b.confidence),
            _maybe(b.accuracy),
        )
        for b in summary.calibration
        if b.n
    )
    title = f"Calibration ({summary.bins} bins, {len(rows)} not empty)"
    return Section(title, ("confidence bin", "n", "confidence", "accuracy"), rows, 1)


def _slices(summary: Summary) -> Section | None:
    if summary.slices is None:
        return None
    rows = tuple(
        (
            s.column,
            _cell(s.value),
            f"{s.n:,}",
            number(s.mean_loss),
            number(s.accuracy),
            number(s.ece),
        )
        for s in summary.slices
    )
    head = ("column", "value", "n", "mean loss", "accuracy", "ECE")
    return _cut("Slices", head, rows, 2, "slices")


def _worst(summary: Summary) -> Section | None:
    if summary.worst is None:
        return None
    with_ids = any(w.id is not None for w in summary.worst)
    rows = tuple(
        ((f"{w.row:,}",) + ((_cell(w.id),) if with_ids else ()))
        + (w.label, w.pred, number(w.loss), number(w.p_true))
        for w in summary.worst
    )
    head = ("row",) + (("id",) if with_ids else ()) + ("label", "pred", "loss", "p_true")
    return _cut("Worst rows", head, rows, len(head) - 2, "worst")


def _cut(
    title: str, head: tuple[str, ...], rows: tuple[tuple[str, ...], ...], text: int, field: str
) -> Section:
    """A table of at most ``MAX_ROWS`` rows, saying where the rest are."""
    if len(rows) <= MAX_ROWS:
        return Section(title, head, rows, text)
    note = f"and {len(rows) - MAX_ROWS:,} more in Summary.{field}"
    return Section(title, head, rows[:MAX_ROWS], text, note)


def _interval(ends: tuple[float, float]) -> str:
    return f"[{number(ends[0])}, {number(ends[1])}]"


def _maybe(value: float | None) -> str:
    return "" if value is None else number(value)


def _cell(value: object) -> str:
    """A slice value or id: ``(null)`` for a null, true/false, a number, the text."""
    if value is None:
        return "(null)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return number(value)
    return str(value)


_MD_SPECIAL = re.compile(r"([\\`*_\[\]|<>~#&])")  # what Markdown reads in a table cell


def _md(text: str) -> str:
    """Text shown as written in Markdown: every character it would read escaped."""
    return _MD_SPECIAL.sub(r"\\\1", text).replace("\r", " ").replace("\n", " ")
