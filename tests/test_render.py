"""The rich table of ``xent score``: what it shows, verbatim names, narrow terminals.

SPEC "Outputs": the table shows samples, classes, task, input kind, loss, perplexity,
accuracy and a per-class breakdown; class and column names are shown verbatim (never
read as markup); in a narrow terminal the table stacks rather than truncating numbers.
DESIGN "Textualize/rich": render tests print into
``Console(file=io.StringIO(), width=80, color_system=None)``, made a terminal
(``force_terminal=True``): SPEC "Outputs" gives only a terminal a width; a pipe or a
file is never wrapped (tests/test_outputs_spec.py holds that).

Summaries come from the public ``xentcli.score`` on small frames; the figures the
table must show are computed here with NumPy and formatted to six significant digits.
"""

from __future__ import annotations

import io
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from rich.console import Console

import xentcli
from xentcli.report.table import render_summary

CLASSES = ["cat", "dog", "bird"]
PROBS = np.array(
    [
        [0.7, 0.2, 0.1],
        [0.1, 0.8, 0.1],
        [0.2, 0.2, 0.6],
        [0.5, 0.25, 0.25],
        [0.3, 0.3, 0.4],
        [0.05, 0.9, 0.05],
        [0.15, 0.45, 0.4],
    ]
)
LABELS = np.array([0, 1, 2, 0, 1, 1, 2])


def render(summary: xentcli.Summary, width: int = 80) -> str:
    out = io.StringIO()
    console = Console(file=out, width=width, color_system=None, force_terminal=True)
    render_summary(summary, console)
    return out.getvalue()


def six(value: float) -> str:
    """A figure as the table shows it: six significant digits."""
    return f"{value:.6g}"


def frame(
    names: list[str], probs: np.ndarray = PROBS, labels: np.ndarray = LABELS, prefix: str = "p_"
) -> pd.DataFrame:
    data = pd.DataFrame(probs, columns=[f"{prefix}{n}" for n in names])
    data["label"] = [names[i] for i in labels]
    return data


def reference(probs: np.ndarray = PROBS, labels: np.ndarray = LABELS) -> dict[str, object]:
    """Loss, perplexity, accuracy and per-class (n, mean loss, accuracy), without xent."""
    losses = -np.log(probs[np.arange(len(labels)), labels])
    preds = probs.argmax(axis=1)
    per_class = []
    for c in range(probs.shape[1]):
        rows = labels == c
        per_class.append(
            (int(rows.sum()), float(losses[rows].mean()), float((preds[rows] == c).mean()))
        )
    return {
        "loss": float(losses.mean()),
        "sum": float(losses.sum()),
        "perplexity": math.exp(float(losses.mean())),
        "accuracy": float((preds == labels).mean()),
        "per_class": per_class,
    }


def has_token(text: str, figure: str) -> bool:
    """``figure`` appears whole: not as part of a longer number, nor cut at a line end."""
    return re.search(rf"(?<![\w.+\-]){re.escape(figure)}(?![\w.+\-])", text) is not None


# -- what the table shows ---------------------------------------------------------------


def test_table_shows_every_figure_at_width_80() -> None:
    summary = xentcli.score(frame(CLASSES))
    text = render(summary)
    ref = reference()
    lines = [line.split() for line in text.splitlines()]
    assert ["loss", "(mean,", "nats)", six(ref["loss"])] in lines
    assert ["sum", "loss", six(ref["sum"])] in lines
    assert ["perplexity", six(ref["perplexity"])] in lines
    assert ["accuracy", six(ref["accuracy"])] in lines
    assert ["samples", "7"] in lines
    assert ["classes", "3"] in lines
    task_line = next(line for line in text.splitlines() if line.startswith("task"))
    assert (
        task_line.split(None, 1)[1].strip()
        == "multiclass (3 prediction columns, one label per row)"
    )
    input_line = next(line for line in text.splitlines() if line.startswith("input"))
    assert input_line.split(None, 1)[1].strip() == "probs (values in [0, 1], rows sum to 1)"
    assert summary.reasons["task"] in task_line
    assert summary.reasons["input"] in input_line
    for name, (n, mean, acc) in zip(CLASSES, ref["per_class"], strict=True):
        assert [name, str(n), six(mean), six(acc)] in lines
    assert all(len(line) <= 80 for line in text.splitlines())
    assert "\x1b" not in text


def test_logits_and_binary_reasons_are_shown() -> None:
    logits = np.log(PROBS) * 3.0 + 1.0
    summary = xentcli.score(frame(CLASSES, probs=logits, prefix="logit_"))
    text = render(summary)
    input_line = next(line for line in text.splitlines() if line.startswith("input"))
    assert input_line.split(None, 1)[1].strip() == "logits (values outside [0, 1])"
    shifted = logits - logits.max(axis=1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    expected = float(-logp[np.arange(len(LABELS)), LABELS].mean())
    assert ["loss", "(mean,", "nats)", six(expected)] in [x.split() for x in text.splitlines()]

    p = np.array([0.9, 0.2, 0.65, 0.4])
    y = np.array([1, 0, 0, 1])
    binary = xentcli.score(pd.DataFrame({"p_yes": p, "label": y}))
    text = render(binary)
    lines = [line.split() for line in text.splitlines()]
    losses = np.where(y == 1, -np.log(p), -np.log1p(-p))
    assert ["loss", "(mean,", "nats)", six(float(losses.mean()))] in lines
    assert ["0", "2", six(float(losses[y == 0].mean())), six(0.5)] in lines
    assert ["1", "2", six(float(losses[y == 1].mean())), six(0.5)] in lines
    task_line = next(line for line in text.splitlines() if line.startswith("task"))
    assert task_line.split(None, 1)[1].strip() == "binary (one prediction column)"


def test_log_base_and_sum_are_named() -> None:
    summary = xentcli.score(frame(CLASSES), log_base="2", reduction="sum")
    ref = reference()
    lines = [line.split() for line in render(summary).splitlines()]
    assert ["loss", "(sum,", "bits)", six(ref["sum"] / math.log(2.0))] in lines
    assert ["mean", "loss", six(ref["loss"] / math.log(2.0))] in lines
    assert ["perplexity", six(ref["perplexity"])] in lines


def test_failed_gate_is_shown() -> None:
    summary = xentcli.score(frame(CLASSES), max_loss=0.25, min_accuracy=0.5)
    ref = reference()
    text = render(summary)
    gate = next(line for line in text.splitlines() if "max_loss" in line)
    assert "FAILED" in gate
    assert has_token(gate, six(ref["loss"]))
    assert has_token(gate, "0.25")
    accuracy_gate = next(line for line in text.splitlines() if "min_accuracy" in line)
    assert "FAILED" not in accuracy_gate
    assert has_token(accuracy_gate, six(ref["accuracy"]))


# -- names verbatim ---------------------------------------------------------------------

MARKUP_NAMES = ["[bold]x[/bold]", "[cat]", "[red]dog"]


@pytest.mark.parametrize("width", [80, 40])
def test_markup_in_class_names_is_shown_verbatim(width: int) -> None:
    summary = xentcli.score(frame(MARKUP_NAMES))
    assert list(summary.classes) == MARKUP_NAMES
    text = render(summary, width)
    for name in MARKUP_NAMES:
        assert name in text, name
    if width == 80:
        lines = [line.split() for line in text.splitlines()]
        for name, (n, mean, acc) in zip(MARKUP_NAMES, reference()["per_class"], strict=True):
            assert [name, str(n), six(mean), six(acc)] in lines


def test_markup_in_paths_is_shown_verbatim(tmp_path: Path) -> None:
    path = tmp_path / "preds[v2].csv"
    frame(["[cat]", "dog", "bird"]).to_csv(path, index=False)
    summary = xentcli.score(str(path))
    text = render(summary, 200)
    assert str(path) in text
    assert "[cat]" in text


# -- narrow terminals -------------------------------------------------------------------


def _figures(summary: xentcli.Summary) -> list[str]:
    figures = [six(summary.loss), six(summary.sum_loss), six(summary.mean_loss)]
    figures += [six(summary.perplexity), six(summary.accuracy)]
    for c in summary.per_class:
        figures += [six(c.mean_loss), six(c.accuracy)]
    return figures


def _assert_stacked_and_whole(summary: xentcli.Summary, width: int = 40) -> str:
    text = render(summary, width)
    lines = text.splitlines()
    assert all(len(line) <= width for line in lines)
    assert "…" not in text
    for figure in _figures(summary):
        assert has_token(text, figure), (figure, text)
    # stacked: no per-class table with a header row of column names
    assert not any("mean loss" in line and "accuracy" in line for line in lines), text
    for name in summary.classes:
        assert any(line.startswith(name) for line in lines), name
    return text


def test_narrow_terminal_stacks_and_keeps_numbers_whole() -> None:
    summary = xentcli.score(frame(CLASSES))
    ref = reference()
    text = _assert_stacked_and_whole(summary)
    for figure in (six(ref["loss"]), six(ref["perplexity"]), six(ref["accuracy"])):
        assert has_token(text, figure)
    for _n, mean, acc in ref["per_class"]:
        assert has_token(text, six(mean))
        assert has_token(text, six(acc))


def test_narrow_terminal_with_long_class_names() -> None:
    names = ["a_rather_long_class_name_for_cats", "dog", "another_long_name_for_birds"]
    summary = xentcli.score(frame(names))
    text = _assert_stacked_and_whole(summary)
    for name in names:
        assert name in text.replace("\n", "")


def test_narrow_terminal_keeps_a_long_number_whole() -> None:
    """Logits 700 apart in decimal digits: the perplexity (exp of the mean loss in nats)
    is 1.01423e+304, twelve characters; the loss label is the longest one."""
    logits = np.array([[0.0, 700.0], [700.0, 0.0]])
    data = pd.DataFrame(logits, columns=["a", "b"])
    data["label"] = ["a", "b"]
    summary = xentcli.score(data, log_base="10")
    assert six(summary.perplexity) == six(math.exp(700.0))
    assert six(summary.loss) == six(700.0 / math.log(10.0))
    _assert_stacked_and_whole(summary)


# -- many classes -----------------------------------------------------------------------


def test_many_classes_list_the_ten_worst_and_a_note() -> None:
    k, per_class = 100, 3
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(k), per_class)
    logits = rng.normal(0.0, 1.0, size=(k * per_class, k))
    logits[np.arange(len(labels)), labels] += rng.uniform(0.0, 6.0, size=k)[labels]
    names = [f"c{i:03d}" for i in range(k)]
    data = pd.DataFrame(logits, columns=names)
    data["label"] = labels
    summary = xentcli.score(data)
    assert summary.n_classes == k

    shifted = logits - logits.max(axis=1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    losses = -logp[np.arange(len(labels)), labels]
    means = np.array([losses[labels == c].mean() for c in range(k)])
    order = np.argsort(-means)
    assert means[order[9]] > means[order[10]]  # no tie at the cut
    worst = {names[i] for i in order[:10]}

    for width in (80, 40):
        text = render(summary, width)
        shown = set(re.findall(r"^c\d{3}\b", text, re.M))  # rows; 'columns' names c000 .. c099
        assert shown == worst, width
        lines = text.splitlines()
        for i in order[:10]:
            line = next(line for line in lines if line.startswith(names[i]))
            assert has_token(line, six(float(means[i]))), line
        last_row = max(i for i, line in enumerate(lines) if re.match(r"c\d{3}\b", line))
        note = " ".join(" ".join(lines[last_row + 1 :]).split())  # however it wraps
        assert re.search(r"\b10\b", note) and re.search(r"\b100\b", note), text
    text = render(summary, 80)
    rows = [line for line in text.splitlines() if re.match(r"c\d{3}\b", line)]
    assert len(rows) == 10
