"""``--plots DIR`` and ``--plot-format``, shared by ``score`` and ``compare``: the report's
figures as files, written with the run's other outputs (all or nothing), and the check
that the ``xentcli[plot]`` extra is there before any data is read."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from ..io.outputs import OutputSet
    from ..report.figures import Plot

SCORE_PLOTS = ("loss_curve", "loss_histogram", "reliability", "per_class")
COMPARE_PLOTS = ("per_class_delta", "histograms", "d_histogram")


def plot_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--plots DIR`` and ``--plot-format png|svg`` to a command."""
    command = click.option(
        "--plot-format",
        type=click.Choice(("png", "svg")),
        default="png",
        show_default=True,
        help="The format of the --plots files.",
    )(command)
    return click.option(
        "--plots",
        metavar="DIR",
        type=click.Path(file_okay=False),
        help="Also write the report's figures to DIR (made if missing), one file each; "
        "needs the extra xentcli[plot].",
    )(command)


def require_figures(option: str) -> None:
    """Exit 2 naming the extra when matplotlib is missing (before any data is read)."""
    from ..report.figures import require

    require(option)


def claim_plots(outputs: OutputSet, folder: str, fmt: str, names: tuple[str, ...]) -> None:
    """Make the folder when missing and claim every file the run may write there."""
    require_figures(f"--plots {folder}")
    outputs.folder(folder, "--plots")
    for name in names:
        outputs.claim(os.path.join(folder, f"{name}.{fmt}"), "--plots")


def write_plots(outputs: OutputSet, plots: list[Plot], folder: str, fmt: str) -> None:
    """Each figure as a temporary file, published with the run's other outputs."""
    from ..report.figures import render

    for plot in plots:
        outputs.write_bytes(os.path.join(folder, f"{plot.name}.{fmt}"), render(plot, fmt))
