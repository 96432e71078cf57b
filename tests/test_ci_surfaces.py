"""The CI surfaces (SPEC "Outputs", "CI surfaces"): several reports in one run (``-o``
repeatable, ``FORMAT:PATH``), Markdown for a GitHub step summary (status line first,
never over 1 MiB), ``::error`` annotations inside GitHub Actions, and JUnit XML checked
against the schema pytest validates its own JUnit output with (``tests/data/junit-10.xsd``).
"""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmlschema
from click.testing import CliRunner, Result
from markdown_it import MarkdownIt

import xentcli
from xentcli.cli import cli
from xentcli.comparison import Change, ClassChange
from xentcli.report import compare as compare_report
from xentcli.report import formats
from xentcli.report.github import error_line, escape_data, escape_property
from xentcli.report.junit import Case, to_junit
from xentcli.summary import ClassSummary

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data"
DIGITS = (str(SAMPLE / "digits_probs.csv"), str(SAMPLE / "digits_labels.csv"))
WEAK = str(SAMPLE / "digits_probs_weak.csv")
SCHEMA = xmlschema.XMLSchema(ROOT / "tests" / "data" / "junit-10.xsd")
FAILS = ("--max-loss", "0.2", "--min-accuracy", "0.95")  # loss 0.20925 fails, accuracy passes
LOSS_LINE = "Gate failed: loss 0.20925 > 0.2 (--max-loss)"


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), prog_name="xent")


@pytest.fixture(autouse=True)
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A scratch directory, and no GitHub Actions unless a test says so: xent's own CI
    may run on Actions."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    return tmp_path


# -- several outputs -------------------------------------------------------------------

ALL = ("r.json", "r.md", "r.csv", "r.html", "r.xml")


@pytest.mark.parametrize("command", ["score", "compare"])
def test_several_outputs_equal_the_single_output_files(command: str, work: Path) -> None:
    inputs = (*DIGITS, *FAILS) if command == "score" else (DIGITS[0], WEAK, DIGITS[1])
    if command == "compare":
        inputs = (*inputs, "--max-increase", "0.01")
    together = invoke(command, *inputs, "-q", *[a for name in ALL for a in ("-o", name)])
    assert together.exit_code == 1, together.output  # written although a gate failed
    for name in ALL:
        alone = work / "alone"
        alone.mkdir(exist_ok=True)
        # an HTML report among them asks for the histograms, which every report then has
        single = invoke(command, *inputs, "-q", "--histograms", "-o", str(alone / name))
        assert single.exit_code == 1
        assert (work / name).read_bytes() == (alone / name).read_bytes(), name
    assert not [p for p in work.iterdir() if "xent-tmp" in p.name]
    failed = _junit(work / "r.xml").findall("testsuite/testcase/failure")
    assert len(failed) == 1 and failed[0].get("type") == "GateFailed"


def test_a_format_prefix_on_a_device_writes_straight_through(work: Path) -> None:
    """``-o json:/dev/stdout`` in a real process: the report on standard output, another
    report beside it as a file."""
    done = subprocess.run(
        [sys.executable, "-m", "xentcli", "score", *DIGITS, "-q"]
        + ["-o", "json:/dev/stdout", "-o", "r.md", "--max-loss", "0.2"],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr
    assert done.stdout == invoke("score", *DIGITS, "--json", "--max-loss", "0.2").stdout
    assert (work / "r.md").read_text().startswith(r"**xent: failed**: max\_loss")


def test_format_prefix_names_the_format_of_a_path_without_extension(work: Path) -> None:
    done = invoke("score", *DIGITS, "-q", "-o", "md:step_summary", "-o", "JSON:report")
    assert done.exit_code == 0, done.output
    assert (work / "step_summary").read_text() == invoke(
        "score", *DIGITS, "--format", "markdown"
    ).stdout
    assert (work / "report").read_text() == invoke("score", *DIGITS, "--json").stdout


def test_a_failed_run_leaves_no_output(work: Path) -> None:
    (work / "r.md").write_text("before")
    (work / "bad.csv").write_text("label\ncat\n")
    done = invoke("score", DIGITS[0], "bad.csv", "-q", *[a for n in ALL for a in ("-o", n)])
    assert done.exit_code == 2 and done.stderr.startswith("Error: ")
    assert (work / "r.md").read_text() == "before"
    assert sorted(p.name for p in work.iterdir()) == ["bad.csv", "r.md"]


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ("yaml:out", "unknown format 'yaml'"),
        ("report.txt", "unknown extension '.txt'"),
        ("md:", "no path after md:"),
        ("json:-", "for standard output give --format"),
    ],
)
def test_a_wrong_output_is_one_error_line(spec: str, words: str, work: Path) -> None:
    done = invoke("score", *DIGITS, "-q", "-o", spec)
    assert done.exit_code == 2
    assert done.stderr.splitlines() == [done.stderr.strip()]
    assert done.stderr.startswith("Error: --output ") and words in done.stderr
    assert list(work.iterdir()) == []


def test_two_outputs_to_one_path_are_a_usage_error(work: Path) -> None:
    done = invoke("score", *DIGITS, "-q", "-o", "r.json", "-o", "json:r.json")
    assert done.exit_code == 2
    assert (
        done.stderr.strip() == "Error: --output names r.json twice; give each output its own path"
    )
    assert list(work.iterdir()) == []


def test_compare_refuses_nothing_it_can_write() -> None:
    done = invoke("compare", DIGITS[0], WEAK, DIGITS[1], "-q", "-o", "xml:gates")
    assert done.exit_code == 0, done.output


def test_a_drive_letter_is_not_a_format() -> None:
    assert formats.parse_output(r"C:\reports\r.md") == ("markdown", r"C:\reports\r.md")
    assert formats.parse_output("html:C:/r") == ("html", "C:/r")
    assert formats.parse_output("markdown:x.json") == ("markdown", "x.json")


# -- Markdown ------------------------------------------------------------------------


def _summary() -> xentcli.Summary:
    return xentcli.score(*DIGITS)


def test_markdown_starts_with_the_status_and_gates_come_before_the_classes() -> None:
    passed = invoke("score", *DIGITS, "--format", "markdown", "--max-loss", "0.25").stdout
    assert passed.splitlines()[0] == "**xent: passed**"
    failed = invoke("score", *DIGITS, "--format", "markdown", *FAILS)
    assert failed.exit_code == 1
    lines = failed.stdout.splitlines()
    assert lines[0] == r"**xent: failed**: max\_loss"
    assert r"| max\_loss | FAILED: 0.209248 \> 0.2 |" in lines
    assert r"| min\_accuracy | passed: 0.962222 \>= 0.95 |" in lines
    assert lines.index("| gate | result |") < lines.index("| class | n | mean loss | accuracy |")
    assert "<details>" not in failed.stdout  # ten classes: shown as they are


def test_markdown_names_are_escaped_and_render_as_text() -> None:
    odd = ["a|b", "`tick`", "<script>alert(1)</script>"]
    per_class = tuple(ClassSummary(name, 1, 0.5, 1.0) for name in odd)
    text = formats.to_markdown(dataclasses.replace(_summary(), per_class=per_class))
    assert r"| a\|b | 1 | 0.5 | 1 |" in text
    assert r"| \`tick\` | 1 | 0.5 | 1 |" in text
    assert r"\<script\>alert(1)\</script\>" in text
    page = MarkdownIt("commonmark", {"html": True}).enable("table").render(text)
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<td>a|b</td>" in page and "<td>`tick`</td>" in page


def _cells(line: str) -> list[str]:
    """A table row's cells, split on the pipes that are not escaped."""
    return re.split(r"(?<!\\)\|", line)[1:-1]


def test_markdown_of_200000_classes_stays_under_1_mib() -> None:
    n = 200_000
    per_class = tuple(ClassSummary(f"class <{i}> | x", 5, 0.25, 0.5) for i in range(n))
    text = formats.to_markdown(dataclasses.replace(_summary(), per_class=per_class))
    size = len(text.encode())
    assert formats.MARKDOWN_LIMIT - 4096 < size <= formats.MARKDOWN_LIMIT
    lines = text.splitlines()
    shown = sum(line.startswith(r"| class \<") for line in lines)
    assert 10_000 < shown < n
    cut = f"… and {n - shown:,} more classes, cut to keep this under GitHub's 1 MiB"
    assert any(line.startswith(cut) for line in lines)
    assert "<details><summary>Per class (200,000 classes)</summary>" in lines
    assert lines[-3:] == ["</details>", "", f"`{_summary().signature}`"]
    start = lines.index("| class | n | mean loss | accuracy |")
    table = lines[start : start + shown + 3]  # head, rule, the rows kept, then a blank line
    assert table[-1] == "" and all(len(_cells(line)) == 4 for line in table[:-1])


def test_compare_markdown_has_the_status_line_and_the_cap() -> None:
    base, new = xentcli.score(*DIGITS), xentcli.score(WEAK, DIGITS[1])
    c = xentcli.compare(base, new, max_increase=0.01)
    text = compare_report.to_markdown(c)
    assert text.splitlines()[0] == r"**xent: failed**: max\_increase"
    huge = tuple(ClassChange("x" * 100_000 + str(i), Change(1.0, 2.0), 5, 5) for i in range(20))
    capped = compare_report.to_markdown(dataclasses.replace(c, per_class=huge))
    assert len(capped.encode()) <= formats.MARKDOWN_LIMIT
    assert "more rows, cut to keep this under GitHub's 1 MiB" in capped
    assert capped.splitlines()[0] == r"**xent: failed**: max\_increase"


# -- GitHub annotations --------------------------------------------------------------


def test_the_toolkit_escaping() -> None:
    assert escape_data("a%b\rc\nd:e,f") == "a%25b%0Dc%0Ad:e,f"
    assert escape_property("a%b\rc\nd:e,f") == "a%25b%0Dc%0Ad%3Ae%2Cf"
    assert error_line("xent gate x:y", "50%\nmore") == "::error title=xent gate x%3Ay::50%25%0Amore"


def test_annotations_in_github_actions(monkeypatch: pytest.MonkeyPatch) -> None:
    plain = invoke("score", *DIGITS, *FAILS)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    done = invoke("score", *DIGITS, *FAILS)
    assert done.exit_code == 1
    assert done.stderr.splitlines() == [
        LOSS_LINE,
        "::error title=xent gate max_loss::loss 0.20925 > 0.2 (--max-loss)",
    ]
    assert done.stdout == plain.stdout and "::" not in done.stdout
    off = invoke("score", *DIGITS, *FAILS, "--no-annotations")
    assert off.stderr.splitlines() == [LOSS_LINE]


def test_no_annotations_outside_github_actions(monkeypatch: pytest.MonkeyPatch) -> None:
    assert invoke("score", *DIGITS, *FAILS, "-q").stderr.splitlines() == [LOSS_LINE]
    monkeypatch.setenv("GITHUB_ACTIONS", "false")
    assert invoke("score", *DIGITS, *FAILS, "-q").stderr.splitlines() == [LOSS_LINE]


def test_compare_annotations(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    done = invoke("compare", DIGITS[0], WEAK, DIGITS[1], "-q", "--max-increase", "0.01")
    assert done.exit_code == 1 and done.stdout == ""
    plain, note = done.stderr.splitlines()
    assert plain.startswith("Gate failed: mean loss rose by ")
    words = plain.removeprefix("Gate failed: ")
    assert note == f"::error title=xent gate max_increase::{words}"


# -- JUnit ---------------------------------------------------------------------------


def _junit(path: Path) -> ET.Element:
    SCHEMA.validate(str(path))  # raises, naming the element, when not valid
    return ET.parse(path).getroot()


def test_junit_one_testcase_per_gate(work: Path) -> None:
    done = invoke("score", *DIGITS, *FAILS, "-q", "-o", "gates.xml")
    assert done.exit_code == 1
    root = _junit(work / "gates.xml")
    suite = root.find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("2", "1", "0")
    cases = suite.findall("testcase")
    assert [(c.get("classname"), c.get("name")) for c in cases] == [
        ("xent.gates", "max_loss"),
        ("xent.gates", "min_accuracy"),
    ]
    failure = cases[0].find("failure")
    assert failure is not None and failure.get("type") == "GateFailed"
    assert failure.get("message") == LOSS_LINE.removeprefix("Gate failed: ")
    assert cases[1].find("failure") is None
    summary = _summary()
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["signature"] == summary.signature
    assert float(props["loss"]) == summary.loss and props["n_samples"] == "450"


@pytest.mark.parametrize("command", ["score", "compare"])
def test_junit_with_no_gates_is_one_passing_testcase(command: str, work: Path) -> None:
    inputs = DIGITS if command == "score" else (DIGITS[0], WEAK, DIGITS[1])
    assert invoke(command, *inputs, "-q", "-o", "xml:junit").exit_code == 0
    cases = _junit(work / "junit").findall("testsuite/testcase")
    assert [(c.get("name"), len(c)) for c in cases] == [(command, 0)]


def test_junit_escapes_and_drops_what_xml_cannot_hold(tmp_path: Path) -> None:
    odd = 'a&b <c> "d" \x01\x1b e\tf'
    text = to_junit(odd, [Case(odd, failure=odd)], [("signature", odd)], "score")
    path = tmp_path / "odd.xml"
    path.write_text(text, encoding="utf-8")
    root = _junit(path)
    kept = 'a&b <c> "d"  e\tf'
    case = root.find("testsuite/testcase")
    assert case is not None and case.get("name") == kept
    assert root.find("testsuite").get("name") == kept  # type: ignore[union-attr]
    assert case.find("failure").get("message") == kept  # type: ignore[union-attr]
