"""The command line of the evaluation figures, and gates as data.

SPEC "Evaluation figures" and "Gates and exit codes". Three parts:

- every ``Options`` field is an option of ``xent score`` with the field's own default, and
  what the command line gives reaches ``Options`` exactly as the Python API's keywords do;
- a bad figure option (issue 11, item 7) is exit 2, exactly one ``Error:`` line on standard
  error, nothing on standard output and no output file left behind;
- the gates: each judged on the exact figure with its comparison, in SPEC order, a NaN
  figure failing, the slice gate naming its slice; hand-made ``Summary`` objects
  (``dataclasses.replace`` on a real one) for the figures, and end to end with loss and
  accuracy from scikit-learn.
"""

from __future__ import annotations

import json
import math
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner, Result
from sklearn.metrics import accuracy_score, log_loss

import xentcli
from xentcli.cli import cli
from xentcli.cli.params import PARAMS
from xentcli.options import Options
from xentcli.report import formats
from xentcli.run import inspect as run_inspect
from xentcli.run import pipeline
from xentcli.run.gates import GATES, apply_gates, failure_line
from xentcli.summary import SliceSummary, Summary

CLASSES = ["cat", "dog", "bird"]


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), prog_name="xent")


@pytest.fixture()
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder with ``preds.csv`` (three probability columns, a ``region`` column to
    slice by) and ``labels.csv``; the tests run inside it."""
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(11)
    probs = rng.dirichlet([2.0, 1.0, 1.0], size=60)
    labels = rng.integers(0, 3, size=60)
    frame = pd.DataFrame(probs, columns=[f"p_{c}" for c in CLASSES])
    frame["region"] = np.where(np.arange(60) % 3 == 0, "north", "south")
    frame.to_csv("preds.csv", index=False)
    pd.DataFrame({"label": [CLASSES[i] for i in labels]}).to_csv("labels.csv", index=False)
    return tmp_path


# -- every option declared once ----------------------------------------------------------

# A value other than the default for every field the command line offers, as typed
# there and as the Python API takes it.
NON_DEFAULTS: dict[str, tuple[list[str], Any]] = {
    "pred_cols": (["--pred-cols", "p_cat,p_dog, p_bird"], ("p_cat", "p_dog", "p_bird")),
    "label_col": (["--label-col", "label"], "label"),
    "id_col": (["--id-col", "key"], "key"),
    "input": (["--input", "probs"], "probs"),
    "task": (["--task", "multiclass"], "multiclass"),
    "positive": (["--positive", "dog"], "dog"),
    "label_type": (["--label-type", "indices"], "indices"),
    "classes": (["--classes", "cat,dog,bird"], ("cat", "dog", "bird")),
    "reduction": (["--reduction", "sum"], "sum"),
    "log_base": (["--log-base", "2"], "2"),
    "eps": (["--eps", "1e-7"], 1e-7),
    "sum_tol": (["--sum-tol", "0.01"], 0.01),
    "renormalize": (["--renormalize"], True),
    "weight_col": (["--weight-col", "w"], "w"),
    "class_weights": (["--class-weights", "cat=2"], "cat=2"),
    "pos_weight": (["--pos-weight", "3"], 3.0),
    "label_smoothing": (["--label-smoothing", "0.1"], 0.1),
    "ignore_label": (["--ignore-label", "-100"], "-100"),
    "drop_invalid": (["--drop-invalid"], True),
    "compat": (["--compat", "torch"], "torch"),
    "preds_format": (["--preds-format", "csv"], "csv"),
    "labels_format": (["--labels-format", "csv"], "csv"),
    "no_header": (["--no-header"], True),
    "max_loss": (["--max-loss", "0.5"], 0.5),
    "min_accuracy": (["--min-accuracy", "0.25"], 0.25),
    "bins": (["--bins", "10"], 10),
    "ci": (["--ci", "0.9"], 0.9),
    "bootstrap": (["--bootstrap", "200"], 200),
    "seed": (["--seed", "7"], 7),
    "by": (["--by", "region", "--by", "site"], ("region", "site")),
    "max_slices": (["--max-slices", "20"], 20),
    "worst": (["--worst", "5"], 5),
    "histograms": (["--histograms"], True),
    "max_ece": (["--max-ece", "0.1"], 0.1),
    "min_d2": (["--min-d2", "0"], 0.0),
    "max_brier": (["--max-brier", "0.6"], 0.6),
    "max_slice_loss": (["--max-slice-loss", "0.9"], 0.9),
    "min_slice_n": (["--min-slice-n", "10"], 10),
    "jobs": (["--jobs", "3"], 3),
    "engine": (["--engine", "dask"], "dask"),
    "scheduler": (["--scheduler", "tcp://127.0.0.1:8786"], "tcp://127.0.0.1:8786"),
}


FIGURE_FIELDS = (
    "bins",
    "ci",
    "bootstrap",
    "seed",
    "by",
    "max_slices",
    "worst",
    "max_ece",
    "min_d2",
    "max_brier",
    "max_slice_loss",
    "min_slice_n",
)
INTEGERS = {"bins", "bootstrap", "seed", "max_slices", "worst", "min_slice_n"}


def test_every_options_field_but_the_batch_size_is_a_score_option() -> None:
    on_command_line = {f.name for f in fields(Options)} - {"batch_rows"}
    assert set(PARAMS) == on_command_line
    assert set(NON_DEFAULTS) == on_command_line
    shown = invoke("score", "--help").stdout
    for name in on_command_line:
        assert f"--{name.replace('_', '-')} " in shown, name


@pytest.fixture()
def captured(monkeypatch: pytest.MonkeyPatch) -> list[Options]:
    """The ``Options`` that ``xent score`` hands the pipeline; the run then stops."""
    seen: list[Options] = []

    def fake_score(preds: Any, labels: Any, *, options: Options, **kwargs: Any) -> Any:
        seen.append(options)
        raise KeyboardInterrupt  # exit 130: nothing scored, nothing written

    monkeypatch.setattr(pipeline, "score", fake_score)
    return seen


def test_defaults_on_the_command_line_are_the_options_defaults(
    work: Path, captured: list[Options]
) -> None:
    assert invoke("score", "preds.csv", "labels.csv").exit_code == 130
    assert captured == [Options()]


@pytest.mark.parametrize("name", sorted(NON_DEFAULTS))
def test_each_option_reaches_options_as_the_python_keyword_does(
    name: str, work: Path, captured: list[Options]
) -> None:
    args, value = NON_DEFAULTS[name]
    extra = ["--by", "region"] if name == "max_slice_loss" else []
    result = invoke("score", "preds.csv", "labels.csv", *args, *extra)
    assert result.exit_code == 130, result.stderr
    keywords = {name: value, **({"by": ("region",)} if extra else {})}
    assert captured == [Options.from_kwargs(**keywords)]
    assert getattr(captured[0], name) == value


def test_all_the_figure_options_together(work: Path, captured: list[Options]) -> None:
    names = [*FIGURE_FIELDS, "max_loss", "min_accuracy"]
    args = [a for n in names for a in NON_DEFAULTS[n][0]]
    assert invoke("score", "preds.csv", *args).exit_code == 130
    assert captured == [Options.from_kwargs(**{n: NON_DEFAULTS[n][1] for n in names})]


def test_inspect_offers_exactly_the_fields_that_change_what_it_finds() -> None:
    shown = invoke("inspect", "--help").stdout
    for name in PARAMS:
        offered = f"--{name.replace('_', '-')} " in shown
        assert offered == (name in run_inspect.OPTIONS), name


def test_inspect_hands_its_options_to_inspect_file(
    work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[Options] = []

    def fake_inspect(file: str, *, options: Options) -> Any:
        seen.append(options)
        raise KeyboardInterrupt

    monkeypatch.setattr(run_inspect, "inspect_file", fake_inspect)
    result = invoke("inspect", "preds.csv", "--pred-cols", "p_cat,p_dog", "--no-header")
    assert result.exit_code == 130
    assert seen == [Options(pred_cols=("p_cat", "p_dog"), no_header=True)]


# -- bad figure options: one Error line, no output file ---------------------------------

REFUSALS = {
    "bins-0": (["--bins", "0"], "Error: --bins must be a positive integer, got 0"),
    "bins-negative": (["--bins", "-3"], "Error: --bins must be a positive integer, got -3"),
    "ci-1.5": (["--ci", "1.5"], "Error: --ci must be a level in (0, 1) such as 0.95, got 1.5"),
    "ci-0": (["--ci", "0"], "Error: --ci must be a level in (0, 1) such as 0.95, got 0.0"),
    "ci-1": (["--ci", "1"], "Error: --ci must be a level in (0, 1) such as 0.95, got 1.0"),
    "ci-nan": (["--ci", "nan"], "Error: --ci must be a level in (0, 1) such as 0.95, got nan"),
    "bootstrap-0": (
        ["--bootstrap", "0"],
        "Error: --bootstrap must be a positive integer, got 0",
    ),
    "worst-minus-1": (["--worst", "-1"], "Error: --worst must be a positive integer, got -1"),
    "worst-0": (["--worst", "0"], "Error: --worst must be a positive integer, got 0"),
    "seed-negative": (["--seed", "-1"], "Error: --seed must be an integer >= 0, got -1"),
    "max-slices-0": (
        ["--by", "region", "--max-slices", "0"],
        "Error: --max-slices must be a positive integer, got 0",
    ),
    "min-slice-n-0": (
        ["--min-slice-n", "0"],
        "Error: --min-slice-n must be a positive integer, got 0",
    ),
    "max-ece-nan": (["--max-ece", "nan"], "Error: --max-ece must be a number, got nan"),
    "min-d2-nan": (["--min-d2", "nan"], "Error: --min-d2 must be a number, got nan"),
    "max-brier-nan": (["--max-brier", "nan"], "Error: --max-brier must be a number, got nan"),
    "slice-gate-without-by": (
        ["--max-slice-loss", "0.35"],
        "Error: --max-slice-loss gates the slices of --by; pass --by COLUMN",
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_bad_figure_option_is_one_error_line_and_no_file(case: str, work: Path) -> None:
    args, line = REFUSALS[case]
    before = sorted(p.name for p in work.iterdir())
    result = invoke(
        "score", "preds.csv", "labels.csv", *args, "-o", "r.json", "--per-sample", "s.csv"
    )
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert result.stderr.splitlines() == [line]
    assert sorted(p.name for p in work.iterdir()) == before  # no r.json, no s.csv


def test_the_python_api_refuses_the_same_values_with_the_same_words(work: Path) -> None:
    for args, line in REFUSALS.values():
        keywords: dict[str, Any] = {}
        for flag, text in zip(args[::2], args[1::2], strict=True):
            name = flag[2:].replace("-", "_")
            keywords[name] = (
                (text,) if name == "by" else int(text) if name in INTEGERS else float(text)
            )
        with pytest.raises(xentcli.XentError) as caught:
            xentcli.score("preds.csv", "labels.csv", **keywords)
        assert f"Error: {caught.value}" == line


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--bins", "abc"], "'abc' is not a valid integer"),
        (["--ci", "high"], "'high' is not a valid float"),
        (["--worst", "2.5"], "'2.5' is not a valid integer"),
    ],
)
def test_a_value_of_the_wrong_type_is_a_usage_error(
    args: list[str], words: str, work: Path
) -> None:
    """Click's own mistakes keep click's usage block before their one ``Error:`` line."""
    result = invoke("score", "preds.csv", *args, "-o", "r.json")
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert lines[0].startswith("Usage: xent score")
    assert [line for line in lines if line.startswith("Error:")] == [lines[-1]]
    assert args[0] in lines[-1] and words in lines[-1]
    assert not (work / "r.json").exists()


# -- gates as data ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def real() -> Summary:
    """A real summary to vary: 8 rows, 3 classes, losses from scikit-learn below."""
    probs = np.array(
        [
            [0.7, 0.2, 0.1],
            [0.1, 0.8, 0.1],
            [0.3, 0.3, 0.4],
            [0.6, 0.3, 0.1],
            [0.2, 0.2, 0.6],
            [0.5, 0.4, 0.1],
            [0.1, 0.1, 0.8],
            [0.3, 0.6, 0.1],
        ]
    )
    labels = [0, 1, 2, 1, 2, 0, 2, 0]
    frame = pd.DataFrame(probs, columns=[f"p_{c}" for c in CLASSES])
    frame["label"] = [CLASSES[i] for i in labels]
    summary = xentcli.score(frame)
    assert summary.loss == pytest.approx(log_loss(labels, probs), abs=1e-12)
    assert summary.accuracy == accuracy_score(labels, probs.argmax(axis=1))
    return summary


def with_figures(summary: Summary, **figures: Any) -> Summary:
    return replace(summary, **figures)


def slices(*rows: tuple[Any, int, float]) -> tuple[SliceSummary, ...]:
    return tuple(SliceSummary("region", value, n, loss, 0.5, 0.1) for value, n, loss in rows)


def test_gates_in_spec_order_whatever_the_order_given(real: Summary) -> None:
    summary = with_figures(real, ece=0.05, d2=0.3, brier=0.4, slices=slices(("north", 40, 0.5)))
    options = Options.from_kwargs(
        max_slice_loss=1.0,
        max_brier=0.5,
        min_d2=0.1,
        max_ece=0.1,
        min_accuracy=0.0,
        max_loss=10.0,
        by=("region",),
    )
    judged = apply_gates(summary, options)
    assert [g.name for g in judged.gates] == [
        "max_loss",
        "min_accuracy",
        "max_ece",
        "min_d2",
        "max_brier",
        "max_slice_loss",
    ]
    assert [g.name for g in GATES] == [g.name for g in judged.gates]
    assert [g.value for g in judged.gates] == [real.loss, real.accuracy, 0.05, 0.3, 0.4, 0.5]
    assert judged.passed and all(g.passed for g in judged.gates)


def test_no_gate_option_means_no_gates(real: Summary) -> None:
    judged = apply_gates(with_figures(real, passed=False), Options())
    assert judged.gates == () and judged.passed


FIGURE_GATES = [
    # option, the summary field it reads, how the line names it, which way it fails
    ("max_ece", "ece", "ece", ">"),
    ("min_d2", "d2", "d2", "<"),
    ("max_brier", "brier", "brier", ">"),
]


@pytest.mark.parametrize(("name", "field", "figure", "op"), FIGURE_GATES)
def test_a_figure_gate_compares_the_exact_value(
    name: str, field: str, figure: str, op: str, real: Summary
) -> None:
    threshold = 0.25
    holds = threshold  # the threshold itself passes: <= and >= are inclusive
    beyond = float(np.nextafter(threshold, math.inf if op == ">" else -math.inf))
    options = Options.from_kwargs(**{name: threshold})

    passed = apply_gates(with_figures(real, **{field: holds}), options)
    assert passed.passed and passed.gates[0].value == holds

    failed = apply_gates(with_figures(real, **{field: beyond}), options)
    assert not failed.passed
    (gate,) = failed.gates
    assert (gate.name, gate.threshold, gate.value, gate.passed) == (name, 0.25, beyond, False)
    option = "--" + name.replace("_", "-")
    line = failure_line(gate)
    assert line.startswith(f"Gate failed: {figure} ") and line.endswith(f" ({option})")
    shown = float(line.split()[3])
    assert line.split()[4] == op
    assert (shown > threshold) if op == ">" else (shown < threshold)  # digits show why


@pytest.mark.parametrize(("name", "field", "figure", "op"), FIGURE_GATES)
def test_a_nan_figure_fails(name: str, field: str, figure: str, op: str, real: Summary) -> None:
    judged = apply_gates(
        with_figures(real, **{field: math.nan}), Options.from_kwargs(**{name: 0.0})
    )
    (gate,) = judged.gates
    assert not gate.passed and not judged.passed and math.isnan(gate.value)
    compare = "<=" if op == ">" else ">="
    option = "--" + name.replace("_", "-")
    assert failure_line(gate) == f"Gate failed: {figure} nan, not {compare} 0.0 ({option})"


def test_min_d2_fails_when_the_baseline_is_zero(real: Summary) -> None:
    """One class only: d2 is nan (SPEC), so a D² gate cannot pass."""
    judged = apply_gates(with_figures(real, baseline_loss=0.0, d2=math.nan), Options(min_d2=-1e9))
    assert judged.passed is False


def by_region(**kwargs: Any) -> Options:
    return Options.from_kwargs(by=("region",), **kwargs)


def test_slice_gate_fails_on_the_worst_large_slice_and_names_it(real: Summary) -> None:
    summary = with_figures(
        real,
        slices=slices(("east", 10, 2.0), ("north", 120, 0.41), ("south", 300, 0.2)),
    )
    judged = apply_gates(summary, by_region(max_slice_loss=0.35))  # east: 10 < 30 rows
    (gate,) = judged.gates
    assert (gate.value, gate.passed, gate.slice) == (0.41, False, summary.slices[1])
    assert failure_line(gate) == (
        "Gate failed: slice region=north loss 0.41 > 0.35 (--max-slice-loss, 120 rows)"
    )
    assert apply_gates(summary, by_region(max_slice_loss=0.41)).passed  # inclusive
    lowered = apply_gates(summary, by_region(max_slice_loss=0.35, min_slice_n=10))
    assert lowered.gates[0].value == 2.0 and "region=east" in failure_line(lowered.gates[0])


def test_slice_gate_shows_number_and_null_values_as_json(real: Summary) -> None:
    for value, shown in [(None, "null"), (3, "3"), (2.5, "2.5"), (True, "true")]:
        summary = with_figures(real, slices=slices((value, 50, 1.0)))
        (gate,) = apply_gates(summary, by_region(max_slice_loss=0.5)).gates
        assert failure_line(gate).startswith(f"Gate failed: slice region={shown} loss 1 > 0.5")


def test_slice_gate_ties_go_to_the_first_slice_in_report_order(real: Summary) -> None:
    summary = with_figures(real, slices=slices(("a", 40, 0.9), ("b", 40, 0.9)))
    (gate,) = apply_gates(summary, by_region(max_slice_loss=0.5)).gates
    assert gate.slice is not None and gate.slice.value == "a"


def test_slice_gate_a_nan_slice_loss_fails(real: Summary) -> None:
    summary = with_figures(real, slices=slices(("a", 40, 5.0), ("b", 40, math.nan)))
    (gate,) = apply_gates(summary, by_region(max_slice_loss=100.0)).gates
    assert not gate.passed and gate.slice is not None and gate.slice.value == "b"
    assert failure_line(gate) == (
        "Gate failed: slice region=b loss nan, not <= 100.0 (--max-slice-loss, 40 rows)"
    )


def test_slice_gate_with_no_slice_that_large_passes_with_null(real: Summary) -> None:
    summary = with_figures(real, slices=slices(("north", 29, 9.0), ("south", 5, 9.0)))
    judged = apply_gates(summary, by_region(max_slice_loss=0.1))
    (gate,) = judged.gates
    assert (gate.value, gate.passed, gate.slice) == (None, True, None)
    assert judged.passed
    data = json.loads(formats.render_text(judged, "json"))
    assert data["gates"] == [
        {"name": "max_slice_loss", "threshold": 0.1, "value": None, "passed": True}
    ]
    assert data["passed"] is True


def test_slice_gate_without_slices_computed_fails(real: Summary) -> None:
    """A run that made no slices cannot vouch for them: the gate fails, never passes."""
    judged = apply_gates(with_figures(real, slices=None), by_region(max_slice_loss=10.0))
    assert judged.passed is False


def test_failed_figure_gates_reach_the_json_and_the_markdown(real: Summary) -> None:
    summary = with_figures(real, ece=0.2, d2=0.1)
    judged = apply_gates(summary, Options(max_ece=0.1, min_d2=0.05))
    data = json.loads(formats.render_text(judged, "json"))
    assert data["gates"] == [
        {"name": "max_ece", "threshold": 0.1, "value": 0.2, "passed": False},
        {"name": "min_d2", "threshold": 0.05, "value": 0.1, "passed": True},
    ]
    assert data["passed"] is False
    markdown = formats.render_text(judged, "markdown")
    assert r"| max\_ece | FAILED: 0.2 \> 0.1 |" in markdown  # a max_ gate holds at <=
    assert r"| min\_d2 | passed: 0.1 \>= 0.05 |" in markdown
    assert markdown.startswith(r"**xent: failed**: max\_ece")


# -- end to end: loss and accuracy gates ------------------------------------------------


def test_loss_and_accuracy_gates_end_to_end(work: Path) -> None:
    preds = pd.read_csv("preds.csv")
    probs = preds[[f"p_{c}" for c in CLASSES]].to_numpy()
    labels = pd.read_csv("labels.csv")["label"].map(CLASSES.index).to_numpy()
    loss = log_loss(labels, probs)
    accuracy = accuracy_score(labels, probs.argmax(axis=1))
    max_loss, min_accuracy = round(loss - 0.01, 2), round(accuracy + 0.05, 2)

    result = invoke(
        "score",
        "preds.csv",
        "labels.csv",
        "--pred-cols",
        "p_*",
        "--min-accuracy",
        str(min_accuracy),
        "--max-loss",
        str(max_loss),
        "-o",
        "r.json",
        "-q",
    )
    assert result.exit_code == 1, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("Gate failed: loss ") and lines[0].endswith(
        f" > {max_loss!r} (--max-loss)"
    )
    assert float(lines[0].split()[3]) == pytest.approx(loss, rel=1e-4)
    assert lines[1].startswith("Gate failed: accuracy ") and lines[1].endswith(
        f" < {min_accuracy!r} (--min-accuracy)"
    )
    data = json.loads((work / "r.json").read_text())  # a failed gate still writes its report
    assert [(g["name"], g["passed"]) for g in data["gates"]] == [
        ("max_loss", False),
        ("min_accuracy", False),
    ]
    assert data["gates"][0]["value"] == pytest.approx(loss, abs=1e-12)
    assert data["gates"][1]["value"] == pytest.approx(accuracy, abs=1e-12)
    assert data["passed"] is False

    passing = invoke(
        "score", "preds.csv", "labels.csv", "--pred-cols", "p_*", "--max-loss", repr(loss + 1e-9)
    )
    assert passing.exit_code == 0, passing.stderr
