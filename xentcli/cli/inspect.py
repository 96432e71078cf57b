"""``xent inspect``: what ``score`` would make of one file, without scoring it."""

from __future__ import annotations

import json
from typing import Any

import click

from ..errors import UsageError
from ..run.inspect import OPTIONS as INSPECT_OPTIONS
from .guard import check_stdout, guarded, to_stdout
from .params import CONTEXT, PanelCommand, options_from, settings

EXAMPLES = """\b
xent inspect preds.parquet
xent inspect scores.csv --input logits --json
cat preds.csv | xent inspect -
"""


@click.command(cls=PanelCommand, context_settings=CONTEXT, epilog=EXAMPLES)
@click.argument("file", type=click.Path(allow_dash=True, readable=False))
@settings(
    INSPECT_OPTIONS,
    help={
        "preds_format": "Read FILE as this format. [default: from the extension, else the content]"
    },
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(("table", "json")),
    help="The output. [default: table]",
)
@click.option("--json", "as_json", is_flag=True, help="Short for --format json.")
@click.option("--debug", is_flag=True, help="Show the traceback of an unexpected failure.")
@guarded
def inspect(file: str, fmt: str | None, as_json: bool, **collected: Any) -> int:
    """Show FILE's columns, types and row count, and what score would infer from it.

    FILE is read as score reads PREDS: CSV, TSV, Parquet, Arrow, JSON Lines or NumPy
    (the format from the extension, else from the content), or - for standard input.

    Each column's role (prediction, label, id, weight, ignored index, skipped text),
    then the task, input kind, classes and label encoding that `xent score FILE`
    would decide on the same first rows, each with its reason. A file that score
    would refuse is still described, with the reason. The options mean what they
    mean for score. Exit 0, or 2 when FILE cannot be read.
    """
    from ..run.inspect import inspect_file

    if as_json and fmt not in (None, "json"):
        raise UsageError(f"--json contradicts --format {fmt}; give one of them")
    options = options_from(collected)
    check_stdout()
    found = inspect_file(file, options=options)
    with to_stdout():
        if as_json or fmt == "json":
            click.echo(json.dumps(found.to_dict(), indent=2, ensure_ascii=False))
            return 0
        from ..report.table import OutputConsole, render_inspection

        render_inspection(found, OutputConsole(highlight=False))
    return 0
