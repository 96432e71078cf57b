"""The report as text: strict JSON, Markdown, CSV and HTML. Nothing here uses rich."""

from __future__ import annotations

import csv
import html
import io
import json
import math
import os
import re
from typing import Any

from ..errors import UsageError
from ..io.outputs import is_stream_target
from ..summary import Summary

EXTENSIONS = {
    ".json": "json",
    ".md": "markdown",
    ".markdown": "markdown",
    ".csv": "csv",
    ".html": "html",
    ".htm": "html",
}
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


def render_text(summary: Summary, fmt: str) -> str:
    """The report in ``fmt`` (json, markdown, csv or html), ending with a newline."""
    return {"json": to_json, "markdown": to_markdown, "csv": to_csv, "html": to_html}[fmt](summary)


def to_json(summary: Summary) -> str:
    """Strict JSON (RFC 8259): non-finite numbers become ``"inf"``, ``"-inf"``, ``"nan"``.

    >>> import math
    >>> _finite({"loss": math.inf, "per_class": [{"mean_loss": math.nan}], "n": 3})
    {'loss': 'inf', 'per_class': [{'mean_loss': 'nan'}], 'n': 3}
    """
    return (
        json.dumps(_finite(summary.to_dict()), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    )


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def headline(summary: Summary) -> list[tuple[str, str]]:
    """The summary's rows as (name, text) pairs, shared by Markdown, HTML and the table."""
    reasons = summary.reasons
    unit = LOSS_UNITS[summary.log_base]
    other = (
        ("sum", summary.sum_loss) if summary.reduction == "mean" else ("mean", summary.mean_loss)
    )
    rows = [
        (f"loss ({summary.reduction}, {unit})", number(summary.loss)),
        (f"{other[0]} loss", number(other[1])),
        ("perplexity", number(summary.perplexity)),
        ("accuracy", number(summary.accuracy)),
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
    for gate in summary.gates:  # a max_ gate holds at <=, a min_ gate at >=
        if gate.name.startswith("max_"):
            op = "<=" if gate.passed else ">"
        else:
            op = ">=" if gate.passed else "<"
        verdict = "passed" if gate.passed else "FAILED"
        shown = "none" if gate.value is None else number(gate.value)
        rows.append((f"gate {gate.name}", f"{verdict}: {shown} {op} {gate.threshold!r}"))
    return [(name, text) for name, text in rows if text]


def _with_reason(decision: str, reason: str | None) -> str:
    return f"{decision} ({reason})" if reason else decision


def number(value: float) -> str:
    """Six significant digits: enough to read, exact values are in the JSON."""
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return f"{value:.6g}"


def to_markdown(summary: Summary) -> str:
    """Two GitHub tables: the summary and the per-class breakdown; names escaped."""
    lines = ["| | |", "|---|---|"]
    lines += [f"| {_md(k)} | {_md(v)} |" for k, v in headline(summary)]
    lines += ["", "| class | n | mean loss | accuracy |", "|---|---:|---:|---:|"]
    lines += [
        f"| {_md(c.name)} | {c.n:,} | {number(c.mean_loss)} | {number(c.accuracy)} |"
        for c in summary.per_class
    ]
    lines += ["", f"`{summary.signature}`"]
    return "\n".join(lines) + "\n"


_MD_SPECIAL = re.compile(r"([\\`*_\[\]|<>~])")  # what is special inside a table cell


def _md(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", text).replace("\n", " ")


def to_csv(summary: Summary) -> str:
    """One row for all samples (``class`` empty), then one per class; a class's
    ``sum_loss`` is its rows' ``sum w l`` and ``mean_loss`` that over their weights."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["scope", "class", "n", "mean_loss", "sum_loss", "accuracy"])
    writer.writerow(
        [
            "all",
            "",
            summary.n_samples,
            repr(summary.mean_loss),
            repr(summary.sum_loss),
            repr(summary.accuracy),
        ]
    )
    for c in summary.per_class:
        writer.writerow(
            ["class", c.name, c.n, repr(c.mean_loss), repr(c.sum_loss), repr(c.accuracy)]
        )
    return out.getvalue()


def to_html(summary: Summary) -> str:
    """A self-contained page with the two tables; every name escaped."""

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
    return (
        '<!doctype html>\n<html><head><meta charset="utf-8"><title>xent report</title>'
        "<style>body{font-family:sans-serif}td,th{padding:2px 8px;text-align:left}</style>"
        "</head><body>\n<h1>xent report</h1>\n"
        + table(["", ""], summary_rows)
        + "\n<h2>Per class</h2>\n"
        + table(["class", "n", "mean loss", "accuracy"], class_rows)
        + f"\n<p><code>{html.escape(summary.signature)}</code></p>\n</body></html>\n"
    )
