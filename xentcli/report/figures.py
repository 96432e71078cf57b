"""The report's figures, drawn by matplotlib (the ``xentcli[plot]`` extra) from aggregated
data only (histograms, reliability bins, per-class figures), so their size does not grow
with the number of rows, and deterministic: the same input gives the same bytes.

``score``: the seeds' ``-log p`` curve with the histogram of the rows' ``p_true`` beneath
it ("where the samples sit on the loss curve"), the loss histogram, the reliability
diagram with ECE in its title, per-class mean loss bars (at most ``MAX_BARS``: the
highest mean losses). ``compare``: per-class changes of the mean loss (at most
``MAX_BARS``: the largest changes) and, paired, the histogram of ``d = l_new - l_base``.

Each is SVG text (``svg.fonttype`` none: text stays text, the browser draws it; no
date, a fixed hash salt) or PNG bytes (no software tag). Names are drawn as written:
mathtext is off, so a class named ``$x$`` is not typeset. The Figure objects never touch
pyplot (no global state, no GUI backend).
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import UsageError
from ..report.formats import LOSS_UNITS

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..comparison import Comparison
    from ..summary import Summary

EXTRA = "xentcli[plot]"
MAX_BARS = 30
"""Per-class bar charts show at most this many classes (the title says when cut)."""
FORMATS = ("png", "svg")
_RC = {
    "svg.hashsalt": "xent",
    "svg.fonttype": "none",
    "text.parse_math": False,
    "font.size": 9,
    "axes.titlesize": 10,
    "figure.dpi": 100,
    "savefig.dpi": 100,
}
_BLUE, _RED, _GREEN, _GREY = "#3b6ea8", "#c0392b", "#2e8b57", "#888888"


@dataclass(frozen=True)
class Plot:
    """One figure: a file stem (``--plots``), a caption, and how to draw it."""

    name: str
    caption: str
    draw: Callable[[Figure], None]


def require(option: str) -> None:
    """A usage error naming the extra when matplotlib cannot be imported."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise UsageError(
            f"{option} draws figures with matplotlib; install the extra: pip install '{EXTRA}'"
        ) from None


@contextmanager
def _style() -> Iterator[None]:
    import matplotlib

    with matplotlib.rc_context(_RC):
        yield


def render(plot: Plot, fmt: str) -> bytes:
    """The figure as SVG (UTF-8 text) or PNG bytes; the same input, the same bytes."""
    from matplotlib.figure import Figure

    with _style():
        figure = Figure(figsize=(6.4, 3.6), layout="constrained")
        plot.draw(figure)
        out = io.BytesIO()
        metadata = {"Date": None} if fmt == "svg" else {"Software": None}
        figure.savefig(out, format=fmt, metadata=metadata)
    return out.getvalue()


def inline_svg(plot: Plot) -> str:
    """The figure's ``<svg>`` element alone, for an HTML page: no XML prolog, and no
    RDF metadata (its URLs name vocabularies; the page needs none of them)."""
    import re

    text = render(plot, "svg").decode()
    text = re.sub(r"\s*<metadata>.*?</metadata>", "", text, count=1, flags=re.DOTALL)
    return text[text.index("<svg") :].strip()


def png_figures(result: Summary | Comparison) -> dict[str, bytes]:
    """Every figure of a run or a comparison as PNG bytes by name (what the trackers
    log beside the figures: ``report.trackers.figures_for``)."""
    from ..comparison import Comparison

    plots = compare_plots(result) if isinstance(result, Comparison) else score_plots(result)
    return {plot.name: render(plot, "png") for plot in plots}


# -- score ---------------------------------------------------------------------------


def score_plots(summary: Summary) -> list[Plot]:
    """The figures of one run, in report order; those the report has no data for left out."""
    unit = LOSS_UNITS.get(summary.log_base, summary.log_base)
    plots = []
    if summary.histograms is not None:
        plots.append(
            Plot("loss_curve", "Where the samples sit on the loss curve", _curve(summary, unit))
        )
        plots.append(Plot("loss_histogram", "The rows' losses", _loss_histogram(summary, unit)))
    if summary.calibration:
        plots.append(Plot("reliability", "Reliability diagram", _reliability(summary)))
    if summary.per_class:
        plots.append(Plot("per_class", "Mean loss per class", _per_class(summary, unit)))
    return plots


def _scale(log_base: str) -> float:
    return {"e": 1.0, "2": math.log(2), "10": math.log(10)}.get(log_base, 1.0)


def _curve(summary: Summary, unit: str) -> Callable[[Figure], None]:
    import numpy as np

    assert summary.histograms is not None
    hist = summary.histograms.p_true
    scale = _scale(summary.log_base)

    def draw(figure: Figure) -> None:
        top, bottom = figure.subplots(2, 1, sharex=True, height_ratios=(2, 1))
        p = np.linspace(1e-3, 1.0, 400)
        top.plot(p, -np.log(p) / scale, color=_BLUE)
        top.set_ylabel(f"−log p ({unit})")
        top.set_title(f"The loss of a row whose true class has probability p ({unit})")
        top.grid(alpha=0.3)
        edges = np.asarray(hist.edges)
        bars = bottom.bar(edges[:-1], hist.counts, width=np.diff(edges), align="edge", color=_GREY)
        _name_bars(bars, "p_true_bin")
        bottom.set_xlabel("p_true: the probability the model gave the true class")
        bottom.set_ylabel("rows")
        bottom.set_xlim(0, 1)
        _note_outside(bottom, hist.outside, "rows with no p_true in [0, 1]")

    return draw


def _loss_histogram(summary: Summary, unit: str) -> Callable[[Figure], None]:
    import numpy as np

    assert summary.histograms is not None
    hist = summary.histograms.row_loss

    def draw(figure: Figure) -> None:
        axes = figure.subplots()
        edges = np.asarray(hist.edges)
        width = float(edges[1] - edges[0])
        bars = axes.bar(edges[:-1], hist.counts, width=width, align="edge", color=_BLUE)
        _name_bars(bars, "loss_bin")
        if hist.overflow:
            bars = axes.bar([edges[-1]], [hist.overflow], width=width, align="edge", color=_RED)
            _name_bars(bars, "loss_overflow")
            axes.annotate(
                f"≥ {edges[-1]:g}",
                (edges[-1] + width / 2, hist.overflow),
                ha="center",
                va="bottom",
            )
        used = [i for i, c in enumerate(hist.counts) if c]
        right = edges[-1] + 2 * width if hist.overflow else edges[(used or [0])[-1] + 1] + width
        axes.set_xlim(0, max(right, 4 * width))
        if used or hist.overflow:
            _log_counts(axes)
        axes.axvline(summary.mean_loss, color=_RED, linestyle="--", linewidth=1)
        axes.set_title(f"Loss per row, mean {summary.mean_loss:.4g} {unit} (dashed)")
        axes.set_xlabel(f"loss ({unit})")
        axes.set_ylabel("rows (log scale)")
        _note_outside(axes, hist.outside, "rows with a NaN loss")

    return draw


def _reliability(summary: Summary) -> Callable[[Figure], None]:
    def draw(figure: Figure) -> None:
        axes = figure.subplots()
        full = [b for b in summary.calibration if b.n and b.accuracy is not None]
        axes.bar(
            [b.lo for b in full],
            [b.accuracy for b in full],
            width=[b.hi - b.lo for b in full],
            align="edge",
            color=_BLUE,
            edgecolor="white",
            label="accuracy of the bin",
        )
        axes.plot(
            [b.confidence for b in full],
            [b.accuracy for b in full],
            "o",
            color=_RED,
            markersize=3,
            label="at the bin's mean confidence",
        )
        axes.plot([0, 1], [0, 1], color=_GREY, linestyle="--", linewidth=1, label="perfect")
        axes.set_xlim(0, 1)
        axes.set_ylim(0, 1)
        axes.set_xlabel("confidence")
        axes.set_ylabel("accuracy")
        axes.set_title(f"ECE {summary.ece:.4g}, MCE {summary.mce:.4g} ({summary.bins} bins)")
        axes.legend(loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=8)

    return draw


def _per_class(summary: Summary, unit: str) -> Callable[[Figure], None]:
    classes = list(summary.per_class)
    shown = _most(classes, lambda c: c.mean_loss if not math.isnan(c.mean_loss) else 0)
    title = f"Mean loss per class ({unit})"
    if len(shown) < len(classes):
        title += f", the {len(shown)} highest of {len(classes):,}"

    def draw(figure: Figure) -> None:
        axes = figure.subplots()
        positions = list(range(len(shown)))
        values = [c.mean_loss if math.isfinite(c.mean_loss) else 0.0 for c in shown]
        _name_bars(axes.barh(positions, values, color=_BLUE), "class_bar")
        axes.set_yticks(positions, [c.name for c in shown])
        axes.invert_yaxis()
        axes.axvline(summary.mean_loss, color=_RED, linestyle="--", linewidth=1)
        axes.set_xlabel(f"mean loss ({unit}); dashed: all rows")
        axes.set_title(title)
        _fit_height(figure, len(shown))

    return draw


def _most(classes: list[Any], size: Callable[[Any], float]) -> list[Any]:
    """Every class, or beyond ``MAX_BARS`` the ``MAX_BARS`` largest by ``size`` (the
    first on ties), in class order."""
    if len(classes) <= MAX_BARS:
        return classes
    keep = sorted(range(len(classes)), key=lambda i: -size(classes[i]))
    return [classes[i] for i in sorted(keep[:MAX_BARS])]


def _name_bars(bars: Any, prefix: str) -> None:
    """Give each bar an SVG id (``prefix_i``), so a reader (a test) can find them."""
    for i, bar in enumerate(bars):
        bar.set_gid(f"{prefix}_{i}")


def _log_counts(axes: Any) -> None:
    """A log scale of counts, its ticks as plain numbers (mathtext is off)."""
    from matplotlib.ticker import FuncFormatter, NullLocator

    axes.set_yscale("log")
    axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    axes.yaxis.set_minor_locator(NullLocator())  # minor ticks grow with the decades of N


def _fit_height(figure: Figure, bars: int) -> None:
    figure.set_size_inches(6.4, max(2.4, 0.9 + 0.2 * bars))


def _note_outside(axes: Any, count: int, what: str) -> None:
    if count:
        axes.text(0.99, 0.95, f"{count:,} {what}", transform=axes.transAxes, ha="right", va="top")


# -- compare -------------------------------------------------------------------------


def compare_plots(comparison: Comparison) -> list[Plot]:
    """The figures of a comparison: per-class changes, and the histogram of ``d``."""
    unit = LOSS_UNITS.get(comparison.base.log_base, comparison.base.log_base)
    plots = []
    if comparison.per_class:
        plots.append(
            Plot("per_class_delta", "Change of mean loss per class", _deltas(comparison, unit))
        )
    if comparison.base.histograms is not None and comparison.new.histograms is not None:
        plots.append(Plot("histograms", "Both models' p_true and losses", _both(comparison, unit)))
    paired = comparison.paired
    if paired is not None and paired.d_counts:
        plots.append(Plot("d_histogram", "Per-row differences", _d_histogram(comparison, unit)))
    return plots


def _deltas(comparison: Comparison, unit: str) -> Callable[[Figure], None]:
    known = [c for c in comparison.per_class if c.change.delta is not None]
    shown = _most(known, lambda c: abs(c.change.delta or 0.0))
    title = f"NEW − BASE mean loss per class ({unit})"
    if len(shown) < len(known):
        title += f", the {len(shown)} largest of {len(known):,}"

    def draw(figure: Figure) -> None:
        axes = figure.subplots()
        positions = list(range(len(shown)))
        values = [c.change.delta or 0.0 for c in shown]
        values = [v if math.isfinite(v) else 0.0 for v in values]
        colors = [_RED if v > 0 else _GREEN for v in values]
        _name_bars(axes.barh(positions, values, color=colors), "class_bar")
        axes.set_yticks(positions, [c.name for c in shown])
        axes.invert_yaxis()
        axes.axvline(0, color=_GREY, linewidth=1)
        axes.set_xlabel(f"change of mean loss ({unit}); red: worse, green: better")
        axes.set_title(title)
        _fit_height(figure, len(shown))

    return draw


def _both(comparison: Comparison, unit: str) -> Callable[[Figure], None]:
    """BASE's and NEW's histograms of ``p_true`` and of the loss as outlines, so two
    reports (no rows) still show where each model's rows sit."""
    import numpy as np

    sides = (("BASE", comparison.base, _GREY), ("NEW", comparison.new, _BLUE))

    def draw(figure: Figure) -> None:
        left, right = figure.subplots(1, 2)
        for name, summary, color in sides:
            assert summary.histograms is not None
            for axes, hist in (
                (left, summary.histograms.p_true),
                (right, summary.histograms.row_loss),
            ):
                counts = np.asarray(hist.counts, dtype=float)
                axes.stairs(counts, np.asarray(hist.edges), color=color, label=name, linewidth=1.5)
        left.set_xlabel("p_true")
        left.set_ylabel("rows")
        left.set_xlim(0, 1)
        edges = comparison.new.histograms.row_loss.edges  # type: ignore[union-attr]
        used = [
            i
            for _, summary, _ in sides
            for i, c in enumerate(summary.histograms.row_loss.counts)  # type: ignore[union-attr]
            if c
        ]
        if used:
            right.set_xlim(0, edges[max(used) + 1] + edges[1])
            _log_counts(right)
        right.set_xlabel(f"loss ({unit})")
        left.legend(loc="upper left", fontsize=8)
        left.set_title("p_true of each row")
        right.set_title(f"loss of each row (to {edges[-1]:.3g} {unit})")

    return draw


def _d_histogram(comparison: Comparison, unit: str) -> Callable[[Figure], None]:
    from ..comparison import D_HIGH, D_LOW, D_OCTAVES

    assert comparison.paired is not None
    paired = comparison.paired
    counts = paired.d_counts
    scale = _scale(comparison.base.log_base)
    middle = D_OCTAVES + 2

    def edge(e: int) -> str:
        return f"{2.0**e / scale:.2g}"

    def label(slot: int) -> str:
        if slot == middle:
            return "0"
        side = slot - middle - 1 if slot > middle else middle - 1 - slot
        sign = "+" if slot > middle else "−"
        if side == 0:
            return f"{sign}(0, {edge(D_LOW)})"
        if side == D_OCTAVES + 1:
            return f"{sign}≥{edge(D_HIGH)}"
        return f"{sign}{edge(D_LOW + side - 1)}"

    def draw(figure: Figure) -> None:
        axes = figure.subplots()
        used = [i for i, c in enumerate(counts) if c] or [middle]
        lo, hi = min(min(used), middle - 1), max(max(used), middle + 1)
        slots = list(range(lo, hi + 1))
        colors = [_GREEN if s < middle else _RED if s > middle else _GREY for s in slots]
        axes.bar(range(len(slots)), [counts[s] for s in slots], color=colors)
        step = max(1, len(slots) // 12)
        ticks = [i for i in range(len(slots)) if i % step == 0 or slots[i] == middle]
        axes.set_xticks(ticks, [label(slots[i]) for i in ticks], rotation=45, ha="right")
        axes.set_xlabel(f"d = loss NEW − loss BASE per row ({unit}), bins by power of two")
        axes.set_ylabel("rows")
        axes.set_title(
            f"{paired.wins:,} rows better (green), {paired.losses:,} worse (red), "
            f"{paired.ties:,} tied"
        )
        _note_outside(axes, paired.d_nan, "rows with NaN d")

    return draw
