"""``xent score``: read the options, score, write the reports, print, exit by the gates."""

from __future__ import annotations

import os
import sys
from dataclasses import fields, replace
from typing import Any

import click

from ..errors import UsageError
from ..options import Options
from ..run.gates import failure_line
from .guard import STDOUT, check_stdout, guarded, quiet_stdout, to_stdout
from .params import CONTEXT, PanelCommand, options_from, settings
from .plots import SCORE_PLOTS, claim_plots, plot_options, require_figures, write_plots
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

REPORT_FORMATS = ("json", "markdown", "csv", "html", "xml")
SCORE_OPTIONS = tuple(f.name for f in fields(Options) if f.name != "batch_rows")
"""Every ``Options`` field but the batch size, which only the Python API sets."""
EXAMPLES = """\b
xent score preds.parquet labels.csv
xent score preds.csv labels.csv --max-loss 0.35 -o report.json -o report.xml
xent score preds.csv labels.csv --format markdown >> "$GITHUB_STEP_SUMMARY"
xent score scores.csv --label-col y --input logits --ci 0.95 --by region
cat preds.csv | xent score - labels.csv --per-sample - -q | sort -t, -k3 -gr | head
"""


@click.command(cls=PanelCommand, context_settings=CONTEXT, epilog=EXAMPLES)
@click.argument("preds", type=click.Path(allow_dash=True, readable=False))
@click.argument("labels", required=False, type=click.Path(allow_dash=True, readable=False))
@settings(SCORE_OPTIONS)
@summary_options("The summary")
@output_option("the report", ".json, .md, .csv, .html, .xml for JUnit")
@annotations_option()
@click.option(
    "--per-sample",
    metavar="FILE",
    help="One row per sample: row or id, label, loss, pred, p_true; .csv, .tsv, "
    ".parquet, or - for CSV on standard output (the summary then goes to "
    "standard error). With --engine dask, a folder of part-NNNNN files the workers "
    "write (Parquet when its name ends .parquet, else CSV).",
)
@tracker_options
@plot_options
@click.option("-q", "--quiet", is_flag=True, help="No summary; gates and errors still speak.")
@click.option("--debug", is_flag=True, help="Show the traceback of an unexpected failure.")
@guarded
def score(
    preds: str,
    labels: str | None,
    fmt: str | None,
    as_json: bool,
    output: tuple[str, ...],
    no_annotations: bool,
    per_sample: str | None,
    log: tuple[str, ...],
    log_timeout: float,
    plots: str | None,
    plot_format: str,
    quiet: bool,
    **collected: Any,
) -> int:
    """Score PREDS against LABELS (or against a label column of PREDS).

    PREDS and LABELS are CSV, TSV, Parquet, Arrow, JSON Lines or NumPy files (the format
    from the extension, else from the content), or - for standard input.

    Prints what it inferred and why, the loss, perplexity, accuracy and a per-class
    breakdown. Exit 0 when every gate passed, 1 when one failed, 2 when the input or
    the options are wrong.
    """
    from ..io.outputs import OutputSet
    from ..run.pipeline import score as run_score
    from . import trackers

    summary_format = chosen_format(fmt, as_json)
    options = options_from(collected)
    log_targets = trackers.targets(log)
    if preds == "-" and labels == "-":
        raise UsageError("PREDS and LABELS cannot both be standard input")
    outputs = OutputSet(inputs=[p for p in (preds, labels) if p is not None])
    reports = claim_reports(outputs, output, REPORT_FORMATS)
    for spec_path, fmt in reports:
        if fmt == "html":
            require_figures(f"--output {spec_path}")
    if plots is not None:
        claim_plots(outputs, plots, plot_format, SCORE_PLOTS)
    if plots is not None or log_targets or any(fmt == "html" for _, fmt in reports):
        options = replace(options, histograms=True)  # what the figures are drawn from
    sample_format = None
    in_parts = False  # --per-sample DIR on the Dask engine: a part file per piece
    if per_sample is not None:
        from ..io import persample  # here, as the reports' formats below: start-up (issue 14)
        from ..io.outputs import is_stream_target

        in_parts = options.engine == "dask" and not (
            per_sample == "-" or is_stream_target(per_sample)
        )
        if in_parts:
            sample_format = persample.parts_format_for(per_sample)
        else:
            sample_format = persample.format_for(per_sample)
            outputs.claim(per_sample, "--per-sample")

    if per_sample == "-":
        check_stdout("give --per-sample FILE")
    elif not quiet:
        check_stdout("give -q for no summary, and -o FILE for the report")

    with outputs:
        sink: Any = None  # where the per-sample rows go
        writer = None  # the file this process writes them to, if it does
        if per_sample is not None and sample_format is not None:
            if in_parts:
                folder = outputs.parts(per_sample, "--per-sample", persample.PART_NAME.fullmatch)
                sink = persample.PartsTarget(folder, sample_format, per_sample)
            elif per_sample == "-":
                sink = writer = persample.PerSampleWriter(sys.stdout.buffer, sample_format, STDOUT)
            else:
                sink = writer = persample.PerSampleWriter(
                    outputs.open(per_sample), sample_format, per_sample
                )
        bar = _progress_bar(quiet)
        try:
            summary = run_score(preds, labels, options=options, sink=sink, progress=bar)
        except BaseException:
            if writer is not None:
                writer.abandon()
            raise
        finally:
            if bar is not None:
                bar.close()
        if writer is not None:
            writer.close()
        failed = [(g.name, failure_line(g)) for g in summary.gates if not g.passed]
        for path, fmt in reports:  # all published together, also when a gate failed
            if fmt == "xml":
                from ..report.junit import summary_junit

                said = [None if g.passed else failure_line(g) for g in summary.gates]
                text = summary_junit(summary, [_words(line) for line in said])
            else:
                from ..report import formats as report

                text = report.render_text(summary, fmt)
            outputs.write_bytes(path, text.encode())
        if plots is not None:
            from ..report.figures import score_plots

            write_plots(outputs, score_plots(summary), plots, plot_format)
        for warning in summary.warnings:
            click.echo(f"Warning: {warning}", err=True)
        if not quiet:  # before the files are published: a summary that fails takes them along
            _print_summary(summary, summary_format, to_stderr=per_sample == "-")

    trackers.log(
        log_targets,
        lambda: trackers.summary_record(summary, [path for path, _ in reports]),
        log_timeout,
        quiet=quiet,
    )
    report_gates(failed, no_annotations)
    return 0 if summary.passed else 1


def _words(line: str | None) -> str | None:
    """A failure line without its ``Gate failed:`` prefix, as JUnit's message."""
    return None if line is None else line.removeprefix(GATE_PREFIX)


def _progress_bar(quiet: bool) -> Any:
    """A progress bar on standard error when that is a terminal, not ``--quiet``, and not
    in CI (``CI`` set to anything: CI logs keep every redraw of a bar)."""
    if quiet or os.environ.get("CI") or not sys.stderr.isatty():
        return None
    from rich.console import Console

    from ..report.table import ProgressBar

    return ProgressBar(Console(stderr=True))


def _print_summary(summary: Any, fmt: str, *, to_stderr: bool) -> None:
    """The summary on standard output (standard error when the per-sample rows have
    it). A reader that closed the pipe early (``| head -1``) has all it wanted: the
    run goes on, publishes its files and exits by its gates."""
    from ..report import formats as report

    def write() -> None:
        if fmt == "table":
            from ..report.table import OutputConsole, render_summary

            render_summary(summary, OutputConsole(stderr=to_stderr, highlight=False))
        else:
            click.echo(report.render_text(summary, fmt), nl=False, err=to_stderr)

    if to_stderr:
        write()
        return
    try:
        with to_stdout():
            write()
    except BrokenPipeError:
        quiet_stdout()
