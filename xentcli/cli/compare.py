"""``xent compare``: read the options, compare, write the report, print, exit by the gates."""

from __future__ import annotations

from dataclasses import fields, replace
from typing import Any

import click

from ..errors import UsageError
from ..options import CompareOptions, Options
from .guard import check_stdout, guarded, quiet_stdout, to_stdout
from .params import CONTEXT, PanelCommand, options_from, settings
from .plots import COMPARE_PLOTS, claim_plots, plot_options, require_figures, write_plots
from .surfaces import (
    GATE_PREFIX,
    annotations_option,
    chosen_format,
    claim_reports,
    output_option,
    report_gates,
    summary_options,
)
from .trackers import tracker_options

ONE_THREAD = ("batch_rows", "jobs", "engine", "scheduler")
"""Not compare's: the batch size, and the engines (paired mode reads both models in step
on one thread)."""
SCORE_GATES = ("max_loss", "min_accuracy", "max_ece", "min_d2", "max_brier", "max_slice_loss")
COMPARE_SCORE_OPTIONS = tuple(
    f.name for f in fields(Options) if f.name not in (*SCORE_GATES, "min_slice_n", *ONE_THREAD)
)
"""The options of ``score`` that ``compare`` applies to both models: all but its gates
(``compare`` gates on the change) and ``ONE_THREAD``."""
REPORT_FORMATS = ("json", "markdown", "csv", "html", "xml")
GATE_OPTIONS = (  # CompareOptions' gates: (field, metavar, help)
    ("max_increase", "D", "Gate: exit 1 when NEW's mean loss is above BASE's by more than D."),
    (
        "max_rel_increase",
        "R",
        "Gate: exit 1 when NEW's mean loss is above BASE's by more than R times BASE's.",
    ),
    (
        "max_accuracy_drop",
        "D",
        "Gate: exit 1 when NEW's accuracy is below BASE's by more than D.",
    ),
    ("max_class_increase", "D", "Gate: exit 1 when any class's mean loss rose by more than D."),
    (
        "alpha",
        "A",
        "Paired mode: the loss gates fail only when the rise beyond their threshold "
        "is significant at level A (one-sided).",
    ),
)
EXAMPLES = """\b
xent score base_preds.csv labels.csv -q -o base.json
xent compare base.json new.json --max-increase 0.01
xent compare base_preds.csv new_preds.csv labels.csv --max-increase 0.01 --alpha 0.05
xent compare base.json new.json --format markdown >> "$GITHUB_STEP_SUMMARY"
"""


def compare_gate_options(command: Any) -> Any:
    """The options of ``CompareOptions``'s gates, in ``GATE_OPTIONS`` order."""
    for name, metavar, text in reversed(GATE_OPTIONS):
        flag = "--" + name.replace("_", "-")
        command = click.option(flag, name, type=click.FLOAT, metavar=metavar, help=text)(command)
    return command


@click.command(cls=PanelCommand, context_settings=CONTEXT, epilog=EXAMPLES)
@click.argument("base", type=click.Path(allow_dash=True, readable=False))
@click.argument("new", type=click.Path(allow_dash=True, readable=False))
@click.argument("labels", required=False, type=click.Path(allow_dash=True, readable=False))
@settings(
    COMPARE_SCORE_OPTIONS,
    help={
        "ci": "Paired mode: the level of the interval of the change in mean loss "
        "(normal, or --bootstrap). [default: 0.95]",
    },
)
@compare_gate_options
@click.option(
    "--allow-mismatch",
    is_flag=True,
    help="Compare reports whose signatures differ (the conventions behind the numbers).",
)
@summary_options("The comparison")
@output_option("the comparison", ".json, .md, .csv, .html, .xml for JUnit")
@annotations_option()
@tracker_options
@plot_options
@click.option("-q", "--quiet", is_flag=True, help="No summary; gates and errors still speak.")
@click.option("--debug", is_flag=True, help="Show the traceback of an unexpected failure.")
@guarded
def compare(
    base: str,
    new: str,
    labels: str | None,
    fmt: str | None,
    as_json: bool,
    output: tuple[str, ...],
    no_annotations: bool,
    log: tuple[str, ...],
    log_timeout: float,
    plots: str | None,
    plot_format: str,
    quiet: bool,
    **collected: Any,
) -> int:
    """Compare NEW with BASE: two reports of xent score (JSON), or two models'
    predictions against the same LABELS (paired, row by row).

    A report is read from the JSON that xent score writes; prediction files are read as
    score reads PREDS (CSV, TSV, Parquet, Arrow, JSON Lines, NumPy, - for standard input).

    Prints each figure for both, the change and whether it is better or worse; paired,
    also the interval of the change in mean loss, its p-value (paired t-test), the
    accuracy's (exact McNemar) and the rows each model won. Exit 0 when every gate
    passed, 1 when one failed, 2 when the input or the options are wrong.
    """
    from ..io.outputs import OutputSet
    from ..report import compare as render
    from ..run.compare import compare as run_compare
    from ..run.comparegates import failure_line
    from . import trackers

    summary_format = chosen_format(fmt, as_json)
    gates = CompareOptions(**{f.name: collected.pop(f.name) for f in fields(CompareOptions)})
    options = options_from(collected)
    log_targets = trackers.targets(log)
    inputs = [p for p in (base, new, labels) if p is not None]
    if inputs.count("-") > 1:
        raise UsageError("only one of BASE, NEW and LABELS can be standard input")
    outputs = OutputSet(inputs=inputs)
    reports = claim_reports(outputs, output, REPORT_FORMATS)
    for spec_path, fmt in reports:
        if fmt == "html":
            require_figures(f"--output {spec_path}")
    if plots is not None:
        claim_plots(outputs, plots, plot_format, COMPARE_PLOTS)
    if plots is not None or log_targets or any(fmt == "html" for _, fmt in reports):
        options = replace(options, histograms=True)  # what the figures are drawn from
    if not quiet:
        check_stdout("give -q for no summary, and -o FILE for the report")

    with outputs:
        comparison = run_compare(base, new, labels, options=options, compare_options=gates)
        gates_ = comparison.gates
        lines = [None if g.passed else failure_line(comparison, i) for i, g in enumerate(gates_)]
        for path, fmt in reports:  # all published together, also when a gate failed
            if fmt == "xml":
                from ..report.junit import comparison_junit

                said = [None if line is None else line.removeprefix(GATE_PREFIX) for line in lines]
                text = comparison_junit(comparison, said)
            else:
                text = render.render_text(comparison, fmt)
            outputs.write_bytes(path, text.encode())
        if plots is not None:
            from ..report.figures import compare_plots

            write_plots(outputs, compare_plots(comparison), plots, plot_format)
        for side, summary in (("BASE", comparison.base), ("NEW", comparison.new)):
            for warning in summary.warnings:
                click.echo(f"Warning: {side}: {warning}", err=True)
        for warning in comparison.warnings:
            click.echo(f"Warning: {warning}", err=True)
        if not quiet:
            _print(comparison, summary_format)

    trackers.log(
        log_targets,
        lambda: trackers.comparison_record(comparison, [path for path, _ in reports]),
        log_timeout,
        quiet=quiet,
    )
    failed = [(g.name, line) for g, line in zip(gates_, lines, strict=True) if line is not None]
    report_gates(failed, no_annotations)
    return 0 if comparison.passed else 1


def _print(comparison: Any, fmt: str) -> None:
    """The comparison on standard output; a reader that closed the pipe early has all
    it wanted."""
    from ..report import compare as render

    try:
        with to_stdout():
            if fmt == "table":
                from ..report.table import OutputConsole

                render.render_table(comparison, OutputConsole(highlight=False))
            else:
                click.echo(render.render_text(comparison, fmt), nl=False)
    except BrokenPipeError:
        quiet_stdout()
