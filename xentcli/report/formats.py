"""The report as text: strict JSON, Markdown, CSV and HTML. Nothing here uses rich."""

from __future__ import annotations

import csv
import html
import io
import json
import math
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import UsageError
from ..io.outputs import is_stream_target
from ..summary import GateResult, SliceSummary, Summary, WorstRow

EXTENSIONS = {
    ".json": "json",
    ".md": "markdown",
    ".markdown": "markdown",
    ".csv": "csv",
    ".html": "html",
    ".htm": "html",
    ".xml": "xml",
}
FORMAT_NAMES = {
    "json": "json",
    "md": "markdown",
    "markdown": "markdown",
    "csv": "csv",
    "html": "html",
    "xml": "xml",
}
"""The names ``-o FORMAT:PATH`` takes, and the format each means."""
_PREFIX = re.compile(r"([A-Za-z][A-Za-z0-9]+):(.*)", re.S)
LOSS_UNITS = {"e": "nats", "2": "bits", "10": "decimal digits"}


def format_for(path: str) -> str:
    """The report format from ``--output``'s extension."""
    ext = os.path.splitext(path)[1].lower()
    if ext not in EXTENSIONS and is_stream_target(path):  # /dev/stdout, >(...): JSON
        return "json"
    if ext not in EXTENSIONS:
        raise UsageError(
            f"--output {path}: unknown extension {ext or '(none)'!r}; "
            f"use one of {', '.join(EXTENSIONS)}"
        )
    return EXTENSIONS[ext]


def parse_output(spec: str) -> tuple[str, str]:
    r"""``-o``'s value as (format, path): ``FORMAT:PATH`` names the format (for a path
    with no extension, ``md:$GITHUB_STEP_SUMMARY``), else the extension decides. Only a
    prefix of two or more letters is read as a format, so ``C:\report.md`` stays a
    path; such a prefix that names no format is a usage error.

    >>> parse_output("md:/tmp/step_summary")
    ('markdown', '/tmp/step_summary')
    >>> parse_output("report.xml")
    ('xml', 'report.xml')
    >>> parse_output("C:\\out\\report.json")
    ('json', 'C:\\out\\report.json')
    """
    match = _PREFIX.fullmatch(spec)
    if match is not None:
        name, path = match.group(1), match.group(2)
        if name.lower() not in FORMAT_NAMES:
            raise UsageError(
                f"--output {spec}: unknown format {name!r}; "
                f"use one of {', '.join(FORMAT_NAMES)} (as FORMAT:PATH)"
            )
        if not path:
            raise UsageError(f"--output {spec}: no path after {name}:")
        return FORMAT_NAMES[name.lower()], path
    return format_for(spec), spec


def render_text(summary: Summary, fmt: str) -> str:
    """The report in ``fmt`` (json, markdown, csv, html or xml), ending with a newline."""
    if fmt == "xml":
        from .junit import summary_junit

        return summary_junit(summary)
    return {"json": to_json, "markdown": to_markdown, "csv": to_csv, "html": to_html}[fmt](summary)


def to_json(summary: Summary) -> str:
    """Strict JSON (RFC 8259): non-finite numbers become ``"inf"``, ``"-inf"``, ``"nan"``.

    >>> import math
    >>> _finite({"loss": math.inf, "per_class": [{"mean_loss": math.nan}], "n": 3})
    {'loss': 'inf', 'per_class': [{'mean_loss': 'nan'}], 'n': 3}
    """
    return json_text(summary.to_dict())


def json_text(data: dict[str, Any]) -> str:
    """``data`` as the reports write it: strict, indented, UTF-8 as is, a final newline."""
    return json.dumps(_finite(data), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def headline(summary: Summary, gates: bool = True) -> list[tuple[str, str]]:
    """The summary's rows as (name, text) pairs, shared by Markdown, HTML and the table:
    the loss and the figures beside it (baseline, D², Brier, ECE), the intervals after
    the mean loss and accuracy when asked, then the facts of the run and (unless
    ``gates`` is false: Markdown gives them their own table) the gates."""
    reasons = summary.reasons
    unit = LOSS_UNITS[summary.log_base]
    loss_interval, accuracy_interval = intervals(summary)
    headline_loss = f"loss ({summary.reduction}, {unit})"
    if summary.reduction == "mean":
        rows = [
            (headline_loss, _joined(number(summary.loss), loss_interval)),
            ("sum loss", number(summary.sum_loss)),
        ]
    else:  # the interval is of the mean loss, whatever the headline
        rows = [
            (headline_loss, number(summary.loss)),
            ("mean loss", _joined(number(summary.mean_loss), loss_interval)),
        ]
    rows += [
        ("perplexity", number(summary.perplexity)),
        ("baseline loss", _figure(summary.baseline_loss, summary)),
        ("D²", _d2(summary)),
        ("Brier", _figure(summary.brier, summary)),
        (f"ECE ({summary.bins} bins)", _ece(summary)),
        ("accuracy", _joined(number(summary.accuracy), accuracy_interval)),
        ("samples", f"{summary.n_samples:,}"),
        ("classes", f"{summary.n_classes:,}"),
        ("task", _with_reason(summary.task, reasons.get("task"))),
        ("input", _with_reason(summary.input, reasons.get("input"))),
        ("labels", reasons.get("labels", "")),
        ("target", "soft (a distribution per row)" if summary.target == "soft" else ""),
        ("columns", reasons.get("columns", "")),
        ("clipped", f"{summary.clipped:,} (eps {summary.eps:.3g})"),
        ("renormalised", f"{summary.renormalized:,}"),
    ]
    if summary.dropped:
        rows.append(("dropped", f"{summary.dropped:,} invalid rows (--drop-invalid)"))
    if summary.ignored:
        rows.append(("ignored", f"{summary.ignored:,} rows with the ignored label"))
    if summary.unmatched_labels:
        rows.append(("unmatched labels", f"{summary.unmatched_labels:,}"))
    if summary.compat != "xent":
        rows.append(("compat", f"{summary.compat}: the peer's rules, as follows"))
        rows.extend((f"  {name}", text) for name, text in summary.rules.items())
    if gates:
        rows.extend((f"gate {gate.name}", _gate(gate)) for gate in summary.gates)
    return [(name, text) for name, text in rows if text]


def _joined(*parts: str) -> str:
    return " ".join(part for part in parts if part)


def intervals(summary: Summary) -> tuple[str, str]:
    """The ``--ci`` intervals as shown after the mean loss and after accuracy
    (``[0.1921, 0.2265] 95% normal``), or two empty strings when not asked."""
    ci = summary.ci
    if ci is None:
        return "", ""
    loss_method = interval_method(ci.level, ci.method, ci.replicates, ci.seed)
    accuracy_method = interval_method(
        ci.level, "bootstrap" if ci.method == "bootstrap" else "Wilson"
    )
    return (
        f"{interval_text(ci.loss)} {loss_method}",
        f"{interval_text(ci.accuracy)} {accuracy_method}",
    )


def interval_method(
    level: float, method: str, replicates: int | None = None, seed: int | None = None
) -> str:
    """How an interval was made: ``95% normal``, ``95% bootstrap (1,000 replicates,
    seed 0)`` when the replicates are given."""
    text = f"{level * 100:g}% {method}"
    if method == "bootstrap" and replicates is not None:
        text += f" ({replicates:,} replicates, seed {seed})"
    return text


def interval_text(ends: tuple[float, float]) -> str:
    """An interval's ends, ``[0.1921, 0.2265]``."""
    return f"[{number(ends[0])}, {number(ends[1])}]"


def _figure(value: float, summary: Summary) -> str:
    """A new figure, ``n/a`` when it is not a number (no rows scored)."""
    if math.isnan(value):
        return "n/a (no rows)" if summary.n_samples == 0 else "n/a"
    return number(value)


def _d2(summary: Summary) -> str:
    """D², or why it has none: the baseline's loss is 0 when every row has one class."""
    if math.isnan(summary.d2) and summary.baseline_loss == 0:
        return "n/a (one class only)"
    return _figure(summary.d2, summary)


def _ece(summary: Summary) -> str:
    ece = _figure(summary.ece, summary)
    if math.isnan(summary.ece) or math.isnan(summary.mce):
        return ece
    return f"{ece} (MCE {number(summary.mce)})"


def _gate(gate: GateResult) -> str:
    """``passed: 0.21 <= 0.25`` or ``FAILED: 0.3 > 0.25``; a slice gate with no slice
    large enough compares nothing and passes."""
    verdict = "passed" if gate.passed else "FAILED"
    if gate.value is None:
        return f"{verdict}: no slice has enough rows (--min-slice-n)"
    if gate.name.startswith("min_"):
        op = ">=" if gate.passed else "<"
    else:
        op = "<=" if gate.passed else ">"
    return f"{verdict}: {number(gate.value)} {op} {gate.threshold!r}"


def value_text(value: Any) -> str:
    """A slice's value as written in the data: text verbatim, numbers whole (a float's
    shortest exact form), ``true``/``false``, and ``(null)`` for a null cell."""
    if value is None:
        return "(null)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return number(value) if not math.isfinite(value) else repr(value)
    return str(value)


SLICE_HEAD = ["column", "value", "n", "mean loss", "accuracy", "ECE"]


def slice_cells(s: SliceSummary) -> list[str]:
    """One slice's cells under ``SLICE_HEAD``."""
    return [
        s.column,
        value_text(s.value),
        f"{s.n:,}",
        number(s.mean_loss),
        number(s.accuracy),
        number(s.ece),
    ]


def worst_head(worst: tuple[WorstRow, ...]) -> list[str]:
    """The worst rows' columns: ``id`` when the run has an id column, else ``row``."""
    key = "id" if any(w.id is not None for w in worst) else "row"
    return [key, "label", "pred", "loss", "p_true"]


def worst_cells(w: WorstRow, key: str) -> list[str]:
    """One worst row's cells under ``worst_head``."""
    ident = value_text(w.id) if key == "id" else str(w.row)
    return [ident, w.label, w.pred, number(w.loss), number(w.p_true)]


def _with_reason(decision: str, reason: str | None) -> str:
    return f"{decision} ({reason})" if reason else decision


def number(value: float) -> str:
    """Six significant digits: enough to read, exact values are in the JSON."""
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return f"{value:.6g}"


MARKDOWN_LIMIT = 1_048_576
"""GitHub refuses a step summary over 1 MiB (ECOSYSTEM 2.1): no Markdown report exceeds it."""
DETAILS_BEYOND = 20
"""More classes than this fold into a ``<details>`` block."""


@dataclass(frozen=True)
class Rows:
    """Table rows that ``capped_markdown`` may cut, and what they are (``classes``)."""

    lines: Sequence[str]
    what: str


def capped_markdown(parts: Sequence[str | Rows], limit: int = MARKDOWN_LIMIT) -> str:
    """``parts`` a line each (a text may hold several), at most ``limit`` bytes of UTF-8:
    the texts are kept whole and the rows cut, in order, where the budget ends, with a
    line saying how many were left out.

    >>> text = capped_markdown(["**t**", Rows(["| a |", "| b |", "| c |"], "rows")], 220)
    >>> text.splitlines()[:4], len(text.encode()) <= 220
    (['**t**', '| a |', '| b |', ''], True)
    """
    note_room = 200  # bytes kept for each cut line
    fixed = sum(len(p.encode()) + 1 for p in parts if isinstance(p, str))
    budget = limit - fixed - note_room * sum(isinstance(p, Rows) for p in parts)
    out: list[str] = []
    for part in parts:
        if isinstance(part, str):
            out.append(part)
            continue
        kept = 0
        for line in part.lines:
            size = len(line.encode()) + 1
            if size > budget:
                break
            budget -= size
            kept += 1
        out.extend(part.lines[:kept])
        cut = len(part.lines) - kept
        if cut:
            out += [
                "",
                _md(
                    f"… and {cut:,} more {part.what}, cut to keep this under GitHub's "
                    "1 MiB step-summary limit (all in the JSON report)"
                ),
            ]
    return "\n".join(out) + "\n"


def status_line(passed: bool, failed: Sequence[str]) -> str:
    """The first line of a Markdown report: ``**xent: passed**``, or ``**xent: failed**``
    and the gates that failed."""
    if passed:
        return "**xent: passed**"
    return "**xent: failed**: " + ", ".join(_md(name) for name in failed)


def gates_table(rows: Sequence[tuple[str, str]]) -> str:
    """The gates as a two-column table (name, result), or nothing without gates."""
    if not rows:
        return ""
    lines = ["**Gates**", "", "| gate | result |", "|---|---|"]
    return "\n".join(lines + [f"| {_md(name)} | {_md(text)} |" for name, text in rows]) + "\n"


def to_markdown(summary: Summary) -> str:
    """GitHub Markdown that can be appended to ``$GITHUB_STEP_SUMMARY`` as is (SPEC "CI
    surfaces"): the status line, the summary table, the gates, the classes (folded in a
    ``<details>`` block beyond 20), then the slices and the worst rows when asked; every
    name escaped, never over ``MARKDOWN_LIMIT`` bytes."""
    failed = [g.name for g in summary.gates if not g.passed]
    parts: list[str | Rows] = [status_line(summary.passed, failed), ""]
    parts += ["| | |", "|---|---|"]
    parts += [f"| {_md(k)} | {_md(v)} |" for k, v in headline(summary, gates=False)]
    parts.append("")
    gates = gates_table([(g.name, _gate(g)) for g in summary.gates])
    if gates:
        parts.append(gates)
    folded = len(summary.per_class) > DETAILS_BEYOND
    if folded:
        n = len(summary.per_class)
        parts += [f"<details><summary>Per class ({n:,} classes)</summary>", ""]
    parts += ["| class | n | mean loss | accuracy |", "|---|---:|---:|---:|"]
    parts.append(
        Rows(
            [
                f"| {_md(c.name)} | {c.n:,} | {number(c.mean_loss)} | {number(c.accuracy)} |"
                for c in summary.per_class
            ],
            "classes",
        )
    )
    if folded:
        parts += ["", "</details>"]
    for title, head, rows in _sections(summary):
        parts += ["", f"**{title}**", "", _md_row(head), _md_rule(head)]
        what = "slices" if title == "Slices" else "rows"
        parts.append(Rows([_md_row(cells) for cells in rows], what))
    parts += ["", f"`{summary.signature}`"]
    return capped_markdown(parts)


def _sections(summary: Summary) -> list[tuple[str, list[str], list[list[str]]]]:
    """The tables after the per-class one, when asked: (title, header, rows)."""
    sections = []
    if summary.slices is not None:
        sections.append(("Slices", SLICE_HEAD, [slice_cells(s) for s in summary.slices]))
    if summary.worst is not None:
        head = worst_head(summary.worst)
        k = len(summary.worst)
        title = f"The {k:,} rows of highest loss" if k != 1 else "The row of highest loss"
        sections.append((title, head, [worst_cells(w, head[0]) for w in summary.worst]))
    return sections


_NUMERIC = {"n", "mean loss", "accuracy", "ECE", "loss", "p_true", "row"}


def _md_row(cells: list[str]) -> str:
    return "| " + " | ".join(_md(cell) for cell in cells) + " |"


def _md_rule(head: list[str]) -> str:
    return "|" + "|".join("---:" if h in _NUMERIC else "---" for h in head) + "|"


_MD_SPECIAL = re.compile(r"([\\`*_\[\]|<>~])")  # what is special inside a table cell


def _md(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", text).replace("\n", " ")


CSV_COLUMNS = [
    "scope",
    "class",
    "n",
    "mean_loss",
    "sum_loss",
    "accuracy",
    "baseline_loss",
    "d2",
    "normalized_entropy",
    "brier",
    "ece",
    "mce",
    "ci_level",
    "ci_method",
    "loss_lo",
    "loss_hi",
    "accuracy_lo",
    "accuracy_hi",
    "by",
    "value",
    "bin_lo",
    "bin_hi",
    "confidence",
    "row",
    "id",
    "pred",
    "p_true",
]


def to_csv(summary: Summary) -> str:
    """One tidy table, a row per scope, for ``pandas.read_csv``: the first six columns
    as SPEC fixes them, then one column per other figure, empty where it does not apply.

    - ``all``: every sample (``class`` empty), with the headline's figures (baseline,
      D², normalized entropy, Brier, ECE, MCE) and, with ``--ci``, the intervals;
    - ``class``: one per class; its ``sum_loss`` is its rows' ``sum w l`` and
      ``mean_loss`` that over their weights;
    - ``slice``: one per ``--by`` value: ``by`` the column, ``value`` the cell (empty
      for null), ``n``, ``mean_loss``, ``accuracy``, ``ece``;
    - ``bin``: one per reliability bin: ``bin_lo``, ``bin_hi``, ``n``, ``confidence``,
      ``accuracy`` (empty for an empty bin);
    - ``worst``: one per ``--worst`` row, highest loss first: ``row``, ``id``, ``class``
      the label, ``pred``, ``mean_loss`` the row's own loss (``n`` 1), ``p_true``.
    """
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_COLUMNS, lineterminator="\n", restval="")
    writer.writeheader()
    rows: list[dict[str, Any]] = [_csv_all(summary)]
    rows += [
        {
            "scope": "class",
            "class": c.name,
            "n": c.n,
            "mean_loss": c.mean_loss,
            "sum_loss": c.sum_loss,
            "accuracy": c.accuracy,
        }
        for c in summary.per_class
    ]
    rows += [
        {
            "scope": "slice",
            "by": s.column,
            "value": s.value,
            "n": s.n,
            "mean_loss": s.mean_loss,
            "accuracy": s.accuracy,
            "ece": s.ece,
        }
        for s in summary.slices or ()
    ]
    rows += [
        {
            "scope": "bin",
            "bin_lo": b.lo,
            "bin_hi": b.hi,
            "n": b.n,
            "confidence": b.confidence,
            "accuracy": b.accuracy,
        }
        for b in summary.calibration
    ]
    rows += [
        {
            "scope": "worst",
            "class": w.label,
            "n": 1,
            "mean_loss": w.loss,
            "row": w.row,
            "id": w.id,
            "pred": w.pred,
            "p_true": w.p_true,
        }
        for w in summary.worst or ()
    ]
    writer.writerows({k: _csv_cell(v) for k, v in row.items()} for row in rows)
    return out.getvalue()


def _csv_all(summary: Summary) -> dict[str, Any]:
    row: dict[str, Any] = {
        "scope": "all",
        "class": "",
        "n": summary.n_samples,
        "mean_loss": summary.mean_loss,
        "sum_loss": summary.sum_loss,
        "accuracy": summary.accuracy,
        "baseline_loss": summary.baseline_loss,
        "d2": summary.d2,
        "normalized_entropy": summary.normalized_entropy,
        "brier": summary.brier,
        "ece": summary.ece,
        "mce": summary.mce,
    }
    if summary.ci is not None:
        row.update(
            ci_level=summary.ci.level,
            ci_method=summary.ci.method,
            loss_lo=summary.ci.loss[0],
            loss_hi=summary.ci.loss[1],
            accuracy_lo=summary.ci.accuracy[0],
            accuracy_hi=summary.ci.accuracy[1],
        )
    return row


def _csv_cell(value: Any) -> str:
    """A cell pandas reads back as written: floats exact (``repr``: ``nan``, ``inf``),
    null empty, booleans ``true``/``false``, text verbatim."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def to_html(summary: Summary) -> str:
    """The self-contained HTML page (``report.html``): the figures, then ``html_tables``."""
    from .html import summary_html

    return summary_html(summary)


def html_tables(summary: Summary) -> str:
    """The tables of the Markdown report as HTML; every name escaped."""

    def table(head: list[str], rows: list[list[str]]) -> str:
        cells = "".join(f"<th>{html.escape(h)}</th>" for h in head)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in r) + "</tr>" for r in rows
        )
        return f"<table><thead><tr>{cells}</tr></thead><tbody>{body}</tbody></table>"

    summary_rows = [[k, v] for k, v in headline(summary)]
    class_rows = [
        [c.name, f"{c.n:,}", number(c.mean_loss), number(c.accuracy)] for c in summary.per_class
    ]
    sections = "".join(
        f"\n<h2>{html.escape(title)}</h2>\n" + table(head, rows)
        for title, head, rows in _sections(summary)
    )
    return (
        table(["", ""], summary_rows)
        + "\n<h2>Per class</h2>\n"
        + table(["class", "n", "mean loss", "accuracy"], class_rows)
        + sections
        + f"\n<p><code>{html.escape(summary.signature)}</code></p>"
    )
