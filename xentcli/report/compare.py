"""The outputs of ``xent compare``, each made from a ``Comparison`` and nothing upstream:
the rich table (``render_table``), and as text (``render_text``) strict JSON, Markdown
for a CI step summary or a notebook, CSV, and HTML.

Every view reads the same way: a figure's BASE and NEW values, its change ``new - base``
(signed), the change relative to the base, and a verdict in words (``better``,
``worse``, ``same``; ``n/a`` where a side has no figure) that reads without colour;
which way is better comes from ``LOWER_IS_BETTER`` (a lower loss, a higher accuracy).
A figure a side does not have (a class only one run saw) shows as ``n/a``, as ``score``
shows a missing figure. The change columns are always ``new - base`` of the two
reports; in paired mode the mean of the per-row differences ``d`` (with its interval
and p-values) is shown beside them.

The CSV is one tidy long table, a row per number, for ``pandas.read_csv``:

``scope, class, column, value, figure, base, new, delta, rel_delta``

- ``all``: one row per headline figure (``figure``: loss, mean_loss, accuracy, d2,
  brier, ece) with both values, ``delta = new - base`` and ``rel_delta = delta / |base|``;
- ``class``: one row per class (``class``), ``figure`` mean_loss, as ``all``;
- ``slice``: one row per ``--by`` value (``column``, ``value``; empty for null),
  ``figure`` mean_loss, as ``all``;
- ``paired`` (paired mode only): one row per figure of the per-row differences, its
  number in ``delta`` and ``base``/``new``/``rel_delta`` empty: ``delta_loss`` (the
  mean of ``d``), ``se``, ``ci_lo``, ``ci_hi``, ``ci_level``, ``p_value_loss``,
  ``p_value_accuracy``, ``n``, ``wins``, ``losses``, ``ties``, ``base_only``,
  ``new_only`` (the discordant rows: right only in BASE, only in NEW).

Empty cells are null; the gates and each run's full report are in the JSON.
"""

from __future__ import annotations

import csv
import html
import io
import math
from collections.abc import Callable, Sequence
from typing import Any

from rich import box
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from ..comparison import LOWER_IS_BETTER, Change, Comparison, PairedFigures
from .formats import (
    LOSS_UNITS,
    Rows,
    _csv_cell,
    _gate,
    capped_markdown,
    format_for,
    interval_method,
    interval_text,
    json_text,
    number,
    status_line,
    value_text,
)
from .notebook import MAX_ROWS, Section, _md
from .table import MAX_CLASSES_SHOWN, _narrow, _print

__all__ = ["format_for", "render_table", "render_text"]

MISSING = "n/a"
CHANGE_HEAD = ("base", "new", "change", "relative", "verdict")
NUMERIC = {"n", "base", "new", "change", "relative"}  # right-aligned columns
VERDICT_STYLE = {"better": "green", "worse": "red"}


def render_text(comparison: Comparison, fmt: str) -> str:
    """The comparison in ``fmt`` (json, markdown, csv, html or xml), ending with a newline."""
    if fmt == "xml":
        from .junit import comparison_junit

        return comparison_junit(comparison)
    writers: dict[str, Callable[[Comparison], str]] = {
        "json": to_json,
        "markdown": to_markdown,
        "csv": to_csv,
        "html": to_html,
    }
    return writers[fmt](comparison)


def to_json(comparison: Comparison) -> str:
    """SPEC's JSON, strict as score's: non-finite numbers as ``"inf"``, ``"-inf"``, ``"nan"``."""
    return json_text(comparison.to_dict())


# -- what every view shows ---------------------------------------------------------------


def title(comparison: Comparison) -> str:
    """``xent compare BASE → NEW``, the runs named by their predictions, in the order
    the command line gives them."""
    return f"xent compare {_name(comparison.base, 'BASE')} → {_name(comparison.new, 'NEW')}"


def _name(summary: Any, fallback: str) -> str:
    return summary.inputs.get("preds") or fallback


def mode_line(comparison: Comparison) -> str:
    if comparison.paired is not None:
        return f"paired: {comparison.paired.n:,} rows scored by both"
    return "two reports"


def mismatch_line(comparison: Comparison) -> str | None:
    if comparison.mismatch is None:
        return None
    return f"signatures differ in {comparison.mismatch} (--allow-mismatch): compare with care"


def figure_rows(comparison: Comparison) -> list[tuple[str, Change, bool]]:
    """The headline figures as (label, change, lower is better), labelled as score
    labels them; the mean loss on its own line only when the headline is the sum."""
    base = comparison.base
    unit = LOSS_UNITS.get(base.log_base, base.log_base)
    names = [("loss", f"loss ({base.reduction}, {unit})")]
    if base.reduction != "mean":
        names.append(("mean_loss", "mean loss"))
    names += [("accuracy", "accuracy"), ("d2", "D²"), ("brier", "Brier")]
    names.append(("ece", f"ECE ({base.bins} bins)"))
    return [(label, comparison.figures[key], LOWER_IS_BETTER[key]) for key, label in names]


def figure_cells(comparison: Comparison) -> list[list[str]]:
    """The figures' rows: the label, then the cells under ``CHANGE_HEAD``."""
    return [[label, *change_cells(c, lower)] for label, c, lower in figure_rows(comparison)]


def verdict(change: Change, lower_is_better: bool = True) -> str:
    """``better``, ``worse`` or ``same`` for NEW, ``n/a`` when there is nothing to say."""
    delta = change.delta
    if delta is None or math.isnan(delta):
        return MISSING
    if delta == 0:
        return "same"
    return "better" if (delta < 0) == lower_is_better else "worse"


def change_cells(change: Change, lower_is_better: bool = True) -> list[str]:
    """The cells under ``CHANGE_HEAD``: base, new, signed change, relative, verdict."""
    rel = change.rel
    relative = MISSING if rel is None or math.isnan(rel) else _signed_percent(rel)
    return [
        _value(change.base),
        _value(change.new),
        _signed(change.delta),
        relative,
        verdict(change, lower_is_better),
    ]


def _value(value: float | None) -> str:
    return MISSING if value is None or math.isnan(value) else number(value)


def _signed(value: float | None) -> str:
    if value is None or math.isnan(value):
        return MISSING
    return "+" + number(value) if value > 0 else number(value)


def _signed_percent(rel: float) -> str:
    if rel == 0:
        return "0%"
    return f"{rel * 100:+.3g}%"


def _count(n: int | None) -> str:
    return MISSING if n is None else f"{n:,}"


def _n(n_base: int | None, n_new: int | None) -> str:
    """A class's or slice's rows: one number when both runs have as many."""
    if n_base == n_new:
        return _count(n_base)
    return f"{_count(n_base)} → {_count(n_new)}"


def largest(items: Sequence[Any], cap: int) -> tuple[list[Any], int]:
    """Every item in order, or for more than ``cap`` the ``cap`` of largest change
    (no change last), and how many are left out."""
    if len(items) <= cap:
        return list(items), 0

    def size(item: Any) -> float:
        delta = item.change.delta
        return -1.0 if delta is None or math.isnan(delta) else abs(delta)

    return sorted(items, key=size, reverse=True)[:cap], len(items) - cap


def class_rows(comparison: Comparison, cap: int) -> tuple[list[list[str]], int]:
    """The per-class rows (class, n, then ``CHANGE_HEAD``) and how many are left out."""
    shown, more = largest(comparison.per_class, cap)
    rows = [[c.name, _n(c.n_base, c.n_new), *change_cells(c.change)] for c in shown]
    return rows, more


def slice_rows(comparison: Comparison, cap: int) -> tuple[list[list[str]], int]:
    """The per-slice rows (column, value, n, then ``CHANGE_HEAD``), how many left out."""
    shown, more = largest(comparison.slices or (), cap)
    rows = [
        [s.column, value_text(s.value), _n(s.n_base, s.n_new), *change_cells(s.change)]
        for s in shown
    ]
    return rows, more


def paired_lines(paired: PairedFigures) -> list[str]:
    """The figures of the per-row differences ``d = l_new - l_base``, three lines; one
    that says so when every row's loss is the same in both."""
    method = interval_method(paired.level, paired.method, paired.replicates, paired.seed)
    if paired.n and paired.ties == paired.n:
        return [f"no change: NEW's loss equals BASE's on every one of the {paired.n:,} rows"]
    return [
        f"Δ loss {_signed(paired.delta)} {interval_text(paired.interval)} {method}, "
        f"p = {_p(paired.p_value_loss)} (paired t-test)",
        f"accuracy p = {_p(paired.p_value_accuracy)} (exact McNemar: "
        f"{paired.base_only:,} rows right only in BASE, {paired.new_only:,} only in NEW)",
        f"wins {paired.wins:,}, losses {paired.losses:,}, ties {paired.ties:,} "
        "(rows where NEW's loss is lower, higher, equal)",
    ]


def _p(p: float) -> str:
    return MISSING if math.isnan(p) else f"{p:.3g}"


def gate_rows(comparison: Comparison) -> list[tuple[str, str, bool]]:
    """Each gate as (name, ``passed: 0.01 <= 0.05``, passed); a class gate names its class."""
    rows = []
    for i, gate in enumerate(comparison.gates):
        cls = comparison.gate_classes[i] if i < len(comparison.gate_classes) else None
        name = gate.name if cls is None else f"{gate.name} (class {cls})"
        bound = comparison.gate_bounds[i] if i < len(comparison.gate_bounds) else None
        text = _gate(gate)
        if bound is not None and gate.value is not None and gate.value > gate.threshold:
            sure = "significantly" if bound > gate.threshold else "not significantly"
            text = (
                f"{'passed' if gate.passed else 'FAILED'}: {number(gate.value)} > "
                f"{gate.threshold!r}, {sure} (lower bound {number(bound)} at alpha "
                f"{comparison.alpha!r})"
            )
        rows.append((name, text, gate.passed))
    return rows


def _more(more: int, what: str) -> str:
    return f"and {more:,} more {what} (all in the JSON report)" if more else ""


# -- Markdown and HTML ---------------------------------------------------------------


def sections(comparison: Comparison) -> list[Section]:
    """The tables of the Markdown and HTML views, in order; empty ones left out."""
    found = [Section("", ("figure", *CHANGE_HEAD), tuple(map(tuple, figure_cells(comparison))))]
    rows, more = class_rows(comparison, MAX_ROWS)
    title_ = "Per class (mean loss)" + (", the largest changes" if more else "")
    head = ("class", "n", *CHANGE_HEAD)
    found.append(Section(title_, head, tuple(map(tuple, rows)), note=_more(more, "classes")))
    if comparison.slices is not None:
        rows, more = slice_rows(comparison, MAX_ROWS)
        title_ = "Slices (mean loss)" + (", the largest changes" if more else "")
        head = ("column", "value", "n", *CHANGE_HEAD)
        found.append(Section(title_, head, tuple(map(tuple, rows)), note=_more(more, "slices")))
    gates = tuple(
        (name, ("✅ " if passed else "❌ ") + text) for name, text, passed in gate_rows(comparison)
    )
    found.append(Section("Gates", ("gate", "result"), gates))
    return [s for s in found if s.rows]


def to_markdown(comparison: Comparison) -> str:
    """GitHub Markdown (a CI step summary, a notebook): the status line, a title line,
    the figures side by side, the paired figures, the gates, then per class and per
    slice; names escaped, never over 1 MiB (score's cap)."""
    failed = [name for name, _text, passed in gate_rows(comparison) if not passed]
    parts: list[str | Rows] = [status_line(comparison.passed, failed), ""]
    parts += [f"**{_md(title(comparison))}**", "", _md(mode_line(comparison)), ""]
    mismatch = mismatch_line(comparison)
    if mismatch:
        parts += [f"⚠️ {_md(mismatch)}", ""]
    tables = sections(comparison)
    parts += [*_md_table(tables[0]), ""]
    if comparison.paired is not None:
        parts += [f"- {_md(line)}" for line in paired_lines(comparison.paired)]
        parts.append("")
    gates = [s for s in tables[1:] if s.title == "Gates"]
    for section in gates + [s for s in tables[1:] if s.title != "Gates"]:
        parts += [*_md_table(section), ""]
    parts += [f"Warning: {_md(text)}" for text in comparison.warnings]
    if comparison.warnings:
        parts.append("")
    parts.append(f"`{comparison.signature}`")
    return capped_markdown(parts)


def _md_table(section: Section) -> list[str | Rows]:
    lines: list[str | Rows] = [f"**{_md(section.title)}**", ""] if section.title else []
    lines.append("| " + " | ".join(_md(h) for h in section.head) + " |")
    lines.append("|" + "|".join("---:" if h in NUMERIC else "---" for h in section.head) + "|")
    rows = ["| " + " | ".join(_md(cell) for cell in row) + " |" for row in section.rows]
    lines.append(Rows(rows, "rows"))
    if section.note:
        lines += ["", _md(section.note)]
    return lines


def to_html_fragment(comparison: Comparison) -> str:
    """The Markdown view's tables as an HTML fragment (a notebook's ``_repr_html_``)."""
    lines = [title(comparison), mode_line(comparison), mismatch_line(comparison)]
    parts = [
        "<p><strong>" + html.escape(lines[0]) + "</strong><br>" + html.escape(lines[1]) + "</p>"
    ]
    if lines[2]:
        parts.append(f"<p>{html.escape(lines[2])}</p>")
    tables = sections(comparison)
    parts.append(_html_table(tables[0]))
    if comparison.paired is not None:
        items = "".join(f"<li>{html.escape(line)}</li>" for line in paired_lines(comparison.paired))
        parts.append(f"<ul>{items}</ul>")
    parts += [_html_table(section) for section in tables[1:]]
    parts += [f"<p>Warning: {html.escape(text)}</p>" for text in comparison.warnings]
    parts.append(f"<p><code>{html.escape(comparison.signature)}</code></p>")
    return '<div class="xent-compare">\n' + "\n".join(parts) + "\n</div>"


def _html_table(section: Section) -> str:
    caption = f"<caption>{html.escape(section.title)}</caption>" if section.title else ""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in section.head)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>"
        for row in section.rows
    )
    note = f"<p>{html.escape(section.note)}</p>" if section.note else ""
    return f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{note}"


def to_html(comparison: Comparison) -> str:
    """The self-contained HTML page (``report.html``): the figures, then the HTML view."""
    from .html import comparison_html

    return comparison_html(comparison)


# -- CSV -----------------------------------------------------------------------------

CSV_COLUMNS = ["scope", "class", "column", "value", "figure", "base", "new", "delta", "rel_delta"]


def to_csv(comparison: Comparison) -> str:
    """The long table the module's docstring describes, for ``pandas.read_csv``."""

    def changed(change: Change) -> dict[str, Any]:
        return {
            "base": change.base,
            "new": change.new,
            "delta": change.delta,
            "rel_delta": change.rel,
        }

    rows: list[dict[str, Any]] = [
        {"scope": "all", "figure": name, **changed(change)}
        for name, change in comparison.figures.items()
    ]
    rows += [
        {"scope": "class", "class": c.name, "figure": "mean_loss", **changed(c.change)}
        for c in comparison.per_class
    ]
    rows += [
        {
            "scope": "slice",
            "column": s.column,
            "value": s.value,
            "figure": "mean_loss",
            **changed(s.change),
        }
        for s in comparison.slices or ()
    ]
    p = comparison.paired
    if p is not None:
        figures = {
            "delta_loss": p.delta,
            "se": p.se,
            "ci_lo": p.interval[0],
            "ci_hi": p.interval[1],
            "ci_level": p.level,
            "p_value_loss": p.p_value_loss,
            "p_value_accuracy": p.p_value_accuracy,
            "n": p.n,
            "wins": p.wins,
            "losses": p.losses,
            "ties": p.ties,
            "base_only": p.base_only,
            "new_only": p.new_only,
        }
        rows += [{"scope": "paired", "figure": k, "delta": v} for k, v in figures.items()]
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_COLUMNS, lineterminator="\n", restval="")
    writer.writeheader()
    writer.writerows({k: _csv_cell(v) for k, v in row.items()} for row in rows)
    return out.getvalue()


# -- the rich table --------------------------------------------------------------------


def render_table(comparison: Comparison, console: Console) -> None:
    """Print the comparison: title, the figures side by side with change and verdict, the
    paired figures, the classes of largest change, the slices, the gates; stacked in a
    narrow terminal, unpadded and unwrapped to a pipe (as ``score``'s table)."""
    narrow = _narrow(console)
    header = Text(title(comparison), style="bold")
    parts: list[RenderableType] = [header, Text(mode_line(comparison), style="dim")]
    mismatch = mismatch_line(comparison)
    if mismatch:
        parts.append(Text(f"Warning: {mismatch}", style="yellow"))
    parts += [Text(""), _changes(["figure"], figure_cells(comparison), narrow)]
    if comparison.paired is not None:
        parts += [Text("")]
        parts += [Text(line, overflow="fold") for line in paired_lines(comparison.paired)]
    rows, more = class_rows(comparison, MAX_CLASSES_SHOWN)
    if rows:
        name = "per class (mean loss)" + (", the largest changes" if more else "")
        parts += [Text(""), Text(name, style="bold")]
        parts.append(_changes(["class", "n"], rows, narrow, _more(more, "classes")))
    if comparison.slices is not None:
        rows, more = slice_rows(comparison, MAX_CLASSES_SHOWN)
        name = "slices (mean loss)" + (", the largest changes" if more else "")
        parts += [Text(""), Text(name, style="bold")]
        parts.append(_changes(["column", "value", "n"], rows, narrow, _more(more, "slices")))
    gates = gate_rows(comparison)
    if gates:
        parts.append(Text(""))
        for name, text, passed in gates:
            parts.append(Text.assemble((f"gate {name}: ", "bold"), (text, "" if passed else "red")))
    parts += [Text(""), Text(comparison.signature, style="dim", overflow="fold")]
    _print(console, Group(*parts))


def _changes(
    labels: list[str], rows: list[list[str]], narrow: bool, note: str = ""
) -> RenderableType:
    """A table of rows: the label cells, then ``CHANGE_HEAD``'s; in a narrow terminal a
    line per row, ``label: base → new  change (relative) verdict``, wrapping between
    words, so no number is ever cut."""
    k = len(labels)
    if narrow:
        lines: list[RenderableType] = []
        for row in rows:
            name = f"{row[0]}={row[1]}" if labels[:2] == ["column", "value"] else row[0]
            base, new, change, relative, word = row[k:]
            line = Text.assemble((name, "bold"), f": {base} → {new}  {change} ({relative}) ")
            line.append(word, style=VERDICT_STYLE.get(word, ""))
            if "n" in labels:
                line.append(f"  n {row[labels.index('n')]}")
            lines.append(line)
        if note:
            lines.append(Text(note, style="dim"))
        return Group(*lines)
    table = Table(
        box=box.SIMPLE_HEAD,
        caption=note or None,
        caption_justify="left",
        show_edge=False,
        pad_edge=False,
    )
    for i, name in enumerate(labels):
        if name == "n":
            table.add_column(name, justify="right", no_wrap=True)
        else:
            table.add_column(name, overflow="fold", no_wrap=i == 0 and name == "figure")
    for name in CHANGE_HEAD[:-1]:
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column(CHANGE_HEAD[-1], no_wrap=True)
    for row in rows:
        word = row[-1]
        table.add_row(
            *(Text(cell) for cell in row[:-1]), Text(word, style=VERDICT_STYLE.get(word, ""))
        )
    return table
