"""The summary as a rich table on a ``Console`` handed in; rich decides colour and width."""

from __future__ import annotations

from rich import box
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from .report import headline, number
from .summary import ClassSummary, Summary

MAX_CLASSES_SHOWN = 20
NARROW = 60


def render_summary(summary: Summary, console: Console) -> None:
    """Print the headline figures and the per-class breakdown; stack them when narrow."""
    console.print(
        Group(
            _title(summary),
            _headline(summary),
            Text(""),
            _classes(summary, console.width),
            Text(""),
            Text(summary.signature, style="dim", overflow="fold"),
        )
    )


def _title(summary: Summary) -> Text:
    preds, labels = summary.inputs.get("preds"), summary.inputs.get("labels")
    text = Text("xent score ", style="bold")
    text.append(preds or "")
    if labels:
        text.append(" vs ")
        text.append(labels)
    return text


def _headline(summary: Summary) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    for name, value in headline(summary):
        style = "red" if value.startswith("FAILED") else None
        table.add_row(Text(name), Text(value, style=style or ""))
    return table


def _classes(summary: Summary, width: int) -> Table | Group:
    shown, note = _chosen(summary.per_class)
    if width < NARROW:
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
