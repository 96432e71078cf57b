"""SPEC "Evaluation figures" (last paragraph) and "Outputs": every report shows the new
figures. Summaries are real ones (``xentcli.score`` on the sample data) given the new
sections with ``dataclasses.replace``; the CSV is read back with pandas, the JSON with
``Summary.from_dict``."""

from __future__ import annotations

import dataclasses
import io
import json
import math

import pandas as pd
from rich.console import Console

import xentcli
from xentcli.report.formats import to_csv, to_html, to_json, to_markdown
from xentcli.report.table import render_summary
from xentcli.summary import CalibrationBin, Interval, SliceSummary, Summary, WorstRow

ODD = "[cow] <b>|*`x`"


def summary() -> Summary:
    base = xentcli.score("sample_data/cancer.csv")
    return dataclasses.replace(
        base,
        baseline_loss=0.66,
        d2=0.82,
        normalized_entropy=0.18,
        brier=0.031,
        ece=0.0213,
        mce=0.31,
        bins=2,
        calibration=(
            CalibrationBin(0.0, 0.5, 60, 0.1, 0.05),
            CalibrationBin(0.5, 1.0, 0, None, None),
        ),
        ci=Interval(0.95, "normal", (0.09, 0.14), (0.92, 0.98)),
        slices=(
            SliceSummary("region", ODD, 80, 0.1, 0.95, 0.02),
            SliceSummary("region", None, 91, 0.13, 0.96, math.nan),
        ),
        worst=(WorstRow(17, None, "malignant", "benign", 3.2, 0.04),),
    )


def render(s: Summary, width: int = 80) -> str:
    out = io.StringIO()
    render_summary(s, Console(file=out, width=width, color_system=None, force_terminal=True))
    return out.getvalue()


def test_table_shows_figures_interval_slices_and_worst_rows() -> None:
    text = render(summary())
    lines = [" ".join(line.split()) for line in text.splitlines()]
    assert "loss (mean, nats) 0.117256 [0.09, 0.14] 95% normal" in lines
    assert "baseline loss 0.66" in lines
    assert "D² 0.82" in lines
    assert "Brier 0.031" in lines
    assert "ECE (2 bins) 0.0213 (MCE 0.31)" in lines
    assert "accuracy 0.959064 [0.92, 0.98] 95% Wilson" in lines
    assert "column value n mean loss accuracy ECE" in lines
    assert f"region {ODD} 80 0.1 0.95 0.02" in lines  # verbatim, never markup
    assert "region (null) 91 0.13 0.96 nan" in lines
    assert "row label pred loss p_true" in lines
    assert "17 malignant benign 3.2 0.04" in lines
    assert "\x1b" not in text and all(len(line) <= 80 for line in text.splitlines())


def test_d2_with_one_class_is_na_with_its_reason() -> None:
    s = dataclasses.replace(summary(), baseline_loss=0.0, d2=math.nan, brier=math.nan)
    lines = [" ".join(line.split()) for line in render(s).splitlines()]
    assert "D² n/a (one class only)" in lines
    assert "Brier n/a" in lines


def test_narrow_terminal_stacks_the_new_tables_whole() -> None:
    text = render(summary(), 40)
    assert all(len(line) <= 40 for line in text.splitlines())
    assert "…" not in text
    joined = " ".join(text.split())
    assert f"region={ODD} n 80 loss 0.1 acc 0.95 ECE 0.02" in joined
    assert "row 17 label malignant pred benign loss 3.2 p_true 0.04" in joined


def test_json_reads_back_to_the_same_bytes() -> None:
    text = to_json(summary())
    data = json.loads(text)
    assert data["slices"][1]["value"] is None and data["slices"][1]["ece"] == "nan"
    assert data["calibration"][1]["confidence"] is None
    assert to_json(Summary.from_dict(data)) == text


def test_markdown_tables_and_escaping() -> None:
    md = to_markdown(summary()).splitlines()
    assert "| loss (mean, nats) | 0.117256 \\[0.09, 0.14\\] 95% normal |" in md
    assert "| D² | 0.82 |" in md
    assert "| column | value | n | mean loss | accuracy | ECE |" in md
    assert "|---|---|---:|---:|---:|---:|" in md
    assert "| region | \\[cow\\] \\<b\\>\\|\\*\\`x\\` | 80 | 0.1 | 0.95 | 0.02 |" in md
    assert "| 17 | malignant | benign | 3.2 | 0.04 |" in md


def test_html_escapes_and_has_the_sections() -> None:
    page = to_html(summary())
    assert "<h2>Slices</h2>" in page and "<h2>The row of highest loss</h2>" in page
    assert "<td>[cow] &lt;b&gt;|*`x`</td>" in page
    assert "<b>" not in page


def test_csv_reads_back_with_pandas() -> None:
    frame = pd.read_csv(io.StringIO(to_csv(summary())))
    assert list(frame.columns[:6]) == ["scope", "class", "n", "mean_loss", "sum_loss", "accuracy"]
    assert list(frame["scope"]) == [
        "all",
        "class",
        "class",
        "slice",
        "slice",
        "bin",
        "bin",
        "worst",
    ]
    everything = frame.iloc[0]
    assert (everything["d2"], everything["brier"], everything["ece"]) == (0.82, 0.031, 0.0213)
    assert (everything["loss_lo"], everything["accuracy_hi"]) == (0.09, 0.98)
    slices = frame[frame["scope"] == "slice"]
    assert slices["value"].iloc[0] == ODD and pd.isna(slices["value"].iloc[1])
    bins = frame[frame["scope"] == "bin"]
    assert list(bins["n"]) == [60, 0] and pd.isna(bins["confidence"].iloc[1])
    worst = frame[frame["scope"] == "worst"].iloc[0]
    assert (worst["row"], worst["class"], worst["pred"], worst["mean_loss"]) == (
        17,
        "malignant",
        "benign",
        3.2,
    )
