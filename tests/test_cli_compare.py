"""The command line of ``xent compare`` (SPEC "xent compare"), as a CI job runs it.

The JSON on standard output is ``Comparison.to_dict`` of the Python API's result; gates
exit 1 with one line each; every input a user can get wrong is exit 2 with exactly one
``Error:`` line, nothing on standard output and no output file left behind; and a report
comes from a file or from standard input (``xent score --json | xent compare - new.json``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner, Result

import xentcli
from xentcli.cli import cli

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data"
CANCER = (str(SAMPLE / "cancer.csv"), str(SAMPLE / "cancer_weak.csv"))
DIGITS = (str(SAMPLE / "digits_probs.csv"), str(SAMPLE / "digits_probs_weak.csv"))
DIGIT_LABELS = str(SAMPLE / "digits_labels.csv")


def invoke(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), prog_name="xent", input=input)


def _strict(text: str) -> dict:
    def refuse(name: str) -> None:
        raise AssertionError(f"non-standard JSON constant {name}")

    return json.loads(text, parse_constant=refuse)


@pytest.fixture()
def reports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``base.json`` and ``new.json``: the two cancer models' reports, sliced by size."""
    monkeypatch.chdir(tmp_path)
    for name, preds in zip(("base", "new"), CANCER, strict=True):
        done = invoke("score", preds, "--by", "size", "-q", "-o", f"{name}.json")
        assert done.exit_code == 0, done.output
    return tmp_path


def _one_error(done: Result) -> str:
    assert done.exit_code == 2, done.output
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), done.stderr
    assert "Traceback" not in done.output
    return lines[0]


def test_json_is_the_api_result(reports):
    done = invoke("compare", "base.json", "new.json", "--json")
    assert done.exit_code == 0, done.output
    expected = xentcli.compare("base.json", "new.json").to_dict()
    assert _strict(done.stdout) == json.loads(json.dumps(expected))
    report = _strict(done.stdout)
    assert list(report)[:9] == [
        "schema",
        "xent_version",
        "mode",
        "signature",
        "mismatch",
        "base",
        "new",
        "delta",
        "rel_delta",
    ]
    assert report["mode"] == "reports" and report["passed"] is True
    assert {s["value"] for s in report["delta"]["slices"]} == {"small", "medium", "large"}


def test_paired_json_has_the_paired_keys():
    done = invoke("compare", *DIGITS, DIGIT_LABELS, "--json", "--bootstrap", "30", "--seed", "4")
    assert done.exit_code == 0, done.output
    report = _strict(done.stdout)
    assert report["mode"] == "paired"
    assert report["ci"]["method"] == "bootstrap" and report["ci"]["replicates"] == 30
    lo, hi = report["ci"]["loss"]
    assert lo <= report["delta"]["loss"] <= hi
    assert set(report["p_value"]) == {"loss", "accuracy"}
    assert report["wins"] + report["losses"] + report["ties"] == report["base"]["n_samples"]


def test_a_failed_gate_exits_1_with_one_line_per_gate(reports):
    done = invoke(
        "compare",
        "base.json",
        "new.json",
        "-q",
        "--max-increase",
        "0.1",
        "--max-accuracy-drop",
        "0.5",
    )
    assert done.exit_code == 1
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        "Gate failed: mean loss rose by 0.27695 > 0.1 (--max-increase)"
    ]


def test_class_gate_names_the_class(reports):
    done = invoke("compare", "base.json", "new.json", "-q", "--max-class-increase", "0.1")
    assert done.exit_code == 1
    assert done.stderr.startswith("Gate failed: class malignant mean loss rose by 0.3962 > 0.1")


def test_alpha_line_gives_the_bound():
    done = invoke("compare", *CANCER, "-q", "--max-increase", "0.1", "--alpha", "0.05")
    assert done.exit_code == 1
    assert done.stderr.startswith("Gate failed: mean loss rose by 0.27695 > 0.1, significantly (lower bound ")
    assert done.stderr.rstrip().endswith("at alpha 0.05) (--max-increase)")


def test_output_file_and_a_failure_leaves_none(reports):
    done = invoke("compare", "base.json", "new.json", "-q", "-o", "cmp.json")
    assert done.exit_code == 0 and Path("cmp.json").exists()
    assert _strict(Path("cmp.json").read_text())["mode"] == "reports"
    Path("old.md").write_text("before")
    _one_error(invoke("compare", "base.json", CANCER[1], "-q", "-o", "old.md"))
    assert Path("old.md").read_text() == "before"
    _one_error(invoke("compare", "base.json", CANCER[1], "-q", "-o", "fresh.md"))
    assert not Path("fresh.md").exists()


def test_report_from_standard_input(reports):
    done = invoke("compare", "-", "new.json", "--json", input=Path("base.json").read_text())
    assert done.exit_code == 0, done.output
    assert _strict(done.stdout)["mode"] == "reports"


def test_different_sizes_warn(reports):
    pd.read_csv(CANCER[1]).iloc[:100].to_csv("half.csv", index=False)
    assert invoke("score", "half.csv", "--by", "size", "-q", "-o", "half.json").exit_code == 0
    done = invoke("compare", "base.json", "half.json", "-q")
    assert done.exit_code == 0
    assert done.stderr.splitlines() == [
        "Warning: BASE scored 171 rows and NEW 100: the figures are not of the same rows"
    ]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("base.json", CANCER[1]), "BASE is a report of xent score and NEW holds predictions"),
        (("base.json", "new.json", CANCER[0]), "LABELS is for predictions"),
        (("base.json", "new.json", "--bins", "5"), "--bins acts on predictions"),
        (("base.json", "new.json", "--alpha", "0.05", "--max-increase", "0"), "--alpha needs"),
        (("base.json", "new.json", "--alpha", "0.05"), "pass --max-increase"),
        (("base.json", "new.json", "--alpha", "1.5", "--max-increase", "0"), "--alpha must be"),
        (("base.json", "sum.json"), "differ in reduction (BASE mean, NEW sum)"),
        (("base.json", "other.json"), "schema 2"),
        (("base.json", "missing.json"), "missing.json"),
        ((*CANCER, "--json", "--format", "csv"), "--json contradicts --format csv"),
        (("-", "-", CANCER[0]), "only one of BASE, NEW and LABELS"),
        ((*DIGITS, "-"), "give LABELS as a file"),
        ((CANCER[0], "short.csv"), "ended before it"),
        ((CANCER[0], "flipped.csv"), "labels of BASE and NEW disagree"),
        ((CANCER[0], DIGITS[0]), "no label column"),
    ],
)
def test_bad_input_is_one_error_line(reports, args, says):
    invoke("score", CANCER[1], "--reduction", "sum", "-q", "-o", "sum.json")
    other = json.loads(Path("base.json").read_text())
    other["schema"] = 2
    Path("other.json").write_text(json.dumps(other))
    frame = pd.read_csv(CANCER[1])
    frame.iloc[:-1].to_csv("short.csv", index=False)
    frame.loc[5, "label"] = "malignant" if frame.loc[5, "label"] == "benign" else "benign"
    frame.to_csv("flipped.csv", index=False)
    line = _one_error(invoke("compare", *args, "-o", "out.json", input=""))
    assert says in line, line
    assert not Path("out.json").exists()


def test_the_console_script_in_a_pipeline(reports):
    """``xent score --json | xent compare - new.json``: a real pipe, a real process."""
    env = dict(os.environ, NO_COLOR="1")
    score = subprocess.run(
        [sys.executable, "-m", "xentcli", "score", CANCER[0], "--by", "size", "--json"],
        capture_output=True,
        env=env,
        check=True,
    )
    done = subprocess.run(
        [sys.executable, "-m", "xentcli", "compare", "-", "new.json", "--max-increase", "0.5"],
        input=score.stdout,
        capture_output=True,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert b"better" in done.stdout or b"worse" in done.stdout
    assert b"\x1b[" not in done.stdout
