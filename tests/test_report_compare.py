"""The outputs of ``xent compare`` (issue 12): the rich table, JSON, Markdown, CSV and the
notebook view of a ``Comparison``. Comparisons are real ones: ``xentcli.score`` on the
sample data twice, ``changes(base, new)``; paired figures are made by hand (their
computation is tested where it is done)."""

from __future__ import annotations

import dataclasses
import io
import json
import math
import re

import pandas as pd
import pytest
from rich.console import Console

import xentcli
from xentcli.comparison import Change, ClassChange, Comparison, PairedFigures, changes
from xentcli.report import formats
from xentcli.report.compare import format_for, render_table, render_text
from xentcli.summary import GateResult, Summary

DIGITS = ("sample_data/digits_probs.csv", "sample_data/digits_probs_weak.csv")
ODD = "a|b*"


def digits(base: str = DIGITS[0], new: str = DIGITS[1]) -> tuple[Summary, Summary]:
    labels = "sample_data/digits_labels.csv"
    return (
        xentcli.score(base, labels, id_col="id"),
        xentcli.score(new, labels, id_col="id"),
    )


def cancer(odd: bool = False) -> tuple[Summary, Summary]:
    base = xentcli.score("sample_data/cancer.csv", by=["size"])
    new = xentcli.score("sample_data/cancer_weak.csv", by=["size"])
    if odd:  # a class and a slice value that Markdown would read
        base, new = (_renamed(s) for s in (base, new))
    return base, new


def _renamed(s: Summary) -> Summary:
    classes = tuple(
        dataclasses.replace(c, name=ODD) if c.name == "malignant" else c for c in s.per_class
    )
    slices = tuple(
        dataclasses.replace(sl, value="<b>|x") if sl.value == "large" else sl
        for sl in s.slices or ()
    )
    return dataclasses.replace(s, per_class=classes, slices=slices)


def compare(base: Summary, new: Summary, mode: str = "reports", **kwargs: object) -> Comparison:
    figures, per_class, slices = changes(base, new)
    return Comparison(
        mode=mode,  # type: ignore[arg-type]
        signature=base.signature,
        base=base,
        new=new,
        figures=figures,
        per_class=per_class,
        slices=slices,
        **kwargs,  # type: ignore[arg-type]
    )


PAIRED = PairedFigures(
    n=450,
    delta=0.1625,
    se=0.02,
    level=0.95,
    method="normal",
    interval=(0.1233, 0.2017),
    replicates=None,
    seed=None,
    p_value_loss=0.003,
    p_value_accuracy=0.0012,
    wins=120,
    losses=300,
    ties=30,
    base_only=22,
    new_only=4,
)


def paired() -> Comparison:
    return compare(
        *digits(),
        mode="paired",
        paired=PAIRED,
        gates=(
            GateResult("max_increase", 0.05, 0.1625, False),
            GateResult("max_class_increase", 0.5, 0.372, True),
        ),
        gate_classes=(None, "2"),
        passed=False,
    )


def identical() -> Comparison:
    base = xentcli.score("sample_data/cancer.csv", by=["size"])
    same = PairedFigures(
        171, 0.0, 0.0, 0.95, "normal", (0.0, 0.0), None, None, 1.0, 1.0, 0, 0, 171, 0, 0
    )
    return compare(base, base, mode="paired", paired=same)


def table(c: Comparison, width: int = 120, terminal: bool = True, **kwargs: object) -> str:
    out = io.StringIO()
    kwargs.setdefault("color_system", None)
    console = Console(file=out, width=width, force_terminal=terminal, **kwargs)  # type: ignore[arg-type]
    render_table(c, console)
    return out.getvalue()


def row(text: str, start: str) -> str:
    """The table's line that starts with ``start`` (spaces squeezed)."""
    lines = [" ".join(line.split()) for line in text.splitlines()]
    found = [line for line in lines if line.startswith(start)]
    assert len(found) == 1, (start, lines)
    return found[0]


# -- JSON ----------------------------------------------------------------------------


def _refuse(name: str) -> None:
    raise AssertionError(f"non-strict JSON literal {name}")


def test_json_is_strict_with_spec_keys_in_order() -> None:
    c = paired()
    inf_class = ClassChange("x", Change(0.5, math.inf), 3, 3)
    c = dataclasses.replace(c, per_class=(*c.per_class, inf_class))
    text = render_text(c, "json")
    assert text.endswith("}\n") and text.startswith('{\n  "schema"')  # indented as score's
    data = json.loads(text, parse_constant=_refuse)
    assert list(data) == [
        "schema",
        "xent_version",
        "mode",
        "signature",
        "mismatch",
        "base",
        "new",
        "delta",
        "rel_delta",
        "n_paired",
        "ci",
        "p_value",
        "wins",
        "losses",
        "ties",
        "discordant",
        "gates",
        "passed",
        "warnings",
    ]
    assert data["mode"] == "paired" and data["passed"] is False
    assert data["delta"]["per_class"][-1] == {
        "class": "x",
        "base": 0.5,
        "new": "inf",
        "delta": "inf",
    }
    assert data["ci"]["loss"] == [0.1233, 0.2017]
    assert data["p_value"] == {"loss": 0.003, "accuracy": 0.0012}
    assert data["gates"][1]["class"] == "2"
    assert data["base"] == json.loads(formats.to_json(c.base))  # each side a full report


def test_json_of_reports_has_no_paired_keys() -> None:
    data = json.loads(render_text(compare(*cancer()), "json"), parse_constant=_refuse)
    assert data["mode"] == "reports"
    assert "ci" not in data and "p_value" not in data
    assert [s["value"] for s in data["delta"]["slices"]] == ["large", "medium", "small"]


# -- Markdown ------------------------------------------------------------------------


def _cells(line: str) -> list[str]:
    """A Markdown table row's cells, split on the pipes that are not escaped."""
    return re.split(r"(?<!\\)\|", line.strip())[1:-1]


def test_markdown_tables_keep_their_shape_with_odd_names() -> None:
    base, new = cancer(odd=True)
    text = render_text(compare(base, new), "markdown")
    assert text.splitlines()[0] == "**xent: passed**"  # the status line first (SPEC)
    assert text.splitlines()[2] == (
        r"**xent compare sample\_data/cancer.csv → sample\_data/cancer\_weak.csv**"
    )
    tables: list[list[str]] = [[]]
    for line in text.splitlines():
        if line.startswith("|"):
            tables[-1].append(line)
        elif tables[-1]:
            tables.append([])
    tables = [t for t in tables if t]
    assert [len(_cells(t[0])) for t in tables] == [6, 7, 8]  # figures, classes, slices
    for t in tables:
        assert {len(_cells(line)) for line in t} == {len(_cells(t[0]))}
    assert _cells(tables[0][0]) == [
        " figure ",
        " base ",
        " new ",
        " change ",
        " relative ",
        " verdict ",
    ]
    odd = [line for line in tables[1] if "a\\|b\\*" in line]
    assert len(odd) == 1 and _cells(odd[0])[-1].strip() == "worse"
    assert any("\\<b\\>\\|x" in line for line in tables[2])
    loss = _cells(tables[0][2])
    delta = new.loss - base.loss
    assert [c.strip() for c in loss] == [
        "loss (mean, nats)",
        formats.number(base.loss),
        formats.number(new.loss),
        "+" + formats.number(delta),
        f"+{delta / base.loss * 100:.3g}%",
        "worse",
    ]


def test_markdown_paired_lines_and_gates() -> None:
    text = render_text(paired(), "markdown")
    assert r"- Δ loss +0.1625 \[0.1233, 0.2017\] 95% normal, p = 0.003 (paired t-test)" in text
    assert (
        "- accuracy p = 0.0012 (exact McNemar: 22 rows right only in BASE, 4 only in NEW)" in text
    )
    assert "- wins 120, losses 300, ties 30" in text
    assert r"| max\_increase | ❌ FAILED: 0.1625 \> 0.05 |" in text
    assert r"| max\_class\_increase (class 2) | ✅ passed: 0.372 \<= 0.5 |" in text
    assert text.splitlines()[0] == r"**xent: failed**: max\_increase"
    assert text.index("**Gates**") < text.index("**Per class")  # gates before the classes
    assert text.endswith(f"`{paired().signature}`\n")


def test_markdown_caps_long_tables() -> None:
    c = compare(*digits())
    many = tuple(ClassChange(f"c{i}", Change(1.0, 1.0 + i / 100), 5, 5) for i in range(30))
    text = render_text(dataclasses.replace(c, per_class=many), "markdown")
    shown = re.findall(r"^\| c(\d+) \|", text, flags=re.M)
    assert sorted(map(int, shown)) == list(range(10, 30))  # the 20 largest changes
    assert "and 10 more classes (all in the JSON report)" in text


# -- CSV -----------------------------------------------------------------------------


def test_csv_is_long_and_its_deltas_are_new_minus_base() -> None:
    base, new = cancer()
    c = dataclasses.replace(compare(base, new), paired=PAIRED, mode="paired")
    df = pd.read_csv(io.StringIO(render_text(c, "csv")), dtype={"class": str, "value": str})
    assert list(df.columns) == [
        "scope",
        "class",
        "column",
        "value",
        "figure",
        "base",
        "new",
        "delta",
        "rel_delta",
    ]
    assert df["scope"].value_counts().to_dict() == {"paired": 13, "all": 6, "slice": 3, "class": 2}
    figures = df[df.scope == "all"].set_index("figure")
    for name in ("loss", "accuracy", "d2", "brier", "ece"):
        b, n = getattr(base, name), getattr(new, name)
        assert figures.loc[name, ["base", "new"]].tolist() == [b, n]
        assert figures.loc[name, "delta"] == n - b
        assert figures.loc[name, "rel_delta"] == pytest.approx((n - b) / abs(b))
    classes = df[df.scope == "class"].set_index("class")
    for cb, cn in zip(base.per_class, new.per_class, strict=True):
        assert classes.loc[cb.name, "delta"] == cn.mean_loss - cb.mean_loss
    slices = df[df.scope == "slice"].set_index("value")
    assert (slices["column"] == "size").all()
    for sb, sn in zip(base.slices or (), new.slices or (), strict=True):
        assert slices.loc[sb.value, "delta"] == sn.mean_loss - sb.mean_loss
    p = df[df.scope == "paired"].set_index("figure")["delta"]
    assert p["delta_loss"] == 0.1625 and p["ci_lo"] == 0.1233 and p["wins"] == 120
    assert p["p_value_accuracy"] == 0.0012


# -- the rich table ------------------------------------------------------------------


def test_table_verdicts_read_without_colour() -> None:
    worse = table(compare(*digits()), no_color=True, color_system="standard")
    assert "\x1b[3" not in worse  # no colour, whatever else
    for start in ("loss (mean, nats)", "accuracy", "D²", "Brier", "ECE (15 bins)"):
        assert row(worse, start).endswith(" worse")
    better = table(compare(*digits(DIGITS[1], DIGITS[0])), no_color=True)
    base, new = digits(DIGITS[1], DIGITS[0])
    assert row(better, "loss (mean, nats)").split()[-3:] == [
        formats.number(new.loss - base.loss),  # lower: better
        f"{(new.loss - base.loss) / base.loss * 100:+.3g}%",
        "better",
    ]
    assert row(better, "accuracy").split()[-3] == "+" + formats.number(new.accuracy - base.accuracy)
    assert row(better, "accuracy").endswith(" better")  # higher: better
    assert row(better, "2 ").endswith(" better")  # a class


def test_table_no_color_env_and_pipe(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    text = table(compare(*digits()), terminal=True, color_system="standard")
    assert "\x1b[31m" not in text and "\x1b[32m" not in text
    assert row(text, "accuracy").endswith("worse")
    piped = table(paired(), width=40, terminal=False)  # a pipe: no escapes, no padding
    assert "\x1b" not in piped
    assert all(line == line.rstrip() for line in piped.splitlines())
    assert paired().signature in piped.splitlines()  # never wrapped


def test_table_paired_lines_gates_and_mismatch() -> None:
    c = dataclasses.replace(paired(), mismatch="eps")
    text = table(c)
    assert "Δ loss +0.1625 [0.1233, 0.2017] 95% normal, p = 0.003 (paired t-test)" in text
    assert "accuracy p = 0.0012 (exact McNemar" in text
    assert "wins 120, losses 300, ties 30" in text
    assert "gate max_increase: FAILED: 0.1625 > 0.05" in text
    assert "gate max_class_increase (class 2): passed: 0.372 <= 0.5" in text
    assert "Warning: signatures differ in eps (--allow-mismatch)" in text
    assert text.splitlines()[0] == (
        "xent compare sample_data/digits_probs.csv → sample_data/digits_probs_weak.csv"
    )


def test_identical_inputs_show_no_change_and_no_nan() -> None:
    c = identical()
    text = table(c)
    assert not re.search(r"\bnan\b", text, flags=re.I)
    for start in ("loss (mean, nats)", "accuracy 0", "D²", "malignant", "size large"):
        assert row(text, start).split()[-3:] == ["0", "0%", "same"]
    assert re.search(r"no change: NEW's loss equals BASE's on every one of the [\d,]+ rows", text)
    assert not re.search(r"\bnan\b", render_text(c, "markdown"), flags=re.I)


def test_a_class_only_one_side_has_shows_missing() -> None:
    base, new = digits()
    new = dataclasses.replace(new, per_class=new.per_class[:-1])
    text = table(compare(base, new))
    assert row(text, "9 ").split()[1:] == ["45", "→", "n/a", "0.271987", "n/a", "n/a", "n/a", "n/a"]
    data = json.loads(render_text(compare(base, new), "json"), parse_constant=_refuse)
    assert data["delta"]["per_class"][-1]["new"] is None


def test_table_caps_classes_at_twenty_largest_changes() -> None:
    c = compare(*digits())
    many = tuple(ClassChange(f"c{i}", Change(1.0, 1.0 - i / 100), 5, 5) for i in range(30))
    text = table(dataclasses.replace(c, per_class=many))
    shown = re.findall(r"^c(\d+) ", text, flags=re.M)
    assert sorted(map(int, shown)) == list(range(10, 30))
    assert "per class (mean loss), the largest changes" in text
    assert "and 10 more classes (all in the JSON report)" in text


def test_narrow_terminal_stacks_without_cutting_numbers() -> None:
    c = compare(*cancer(), mismatch="eps")
    narrow = table(c, width=50)
    lines = narrow.splitlines()
    assert max(len(line) for line in lines) <= 50
    words = {word.strip("():") for word in narrow.split()}
    piped = table(c, terminal=False).splitlines()[:-1]  # the signature aside
    tokens = " ".join(piped).split()
    numbers = [t for t in tokens if re.fullmatch(r"[-+]?\d[\d.e+-]*%?", t)]
    assert len(numbers) > 40
    assert [n for n in numbers if n not in words] == []
    assert any(line.startswith("size=large: 0.1044 → ") for line in lines)


# -- the notebook and the formats ----------------------------------------------------


def test_notebook_views() -> None:
    base, new = cancer(odd=True)
    c = compare(base, new, warnings=("n_samples differ",))
    assert c._repr_markdown_() == render_text(c, "markdown")
    view = c._repr_html_()
    assert view.startswith('<div class="xent-compare">') and "<table>" in view
    assert "&lt;b&gt;|x" in view and "<b>|x" not in view
    assert "<td>worse</td>" in view and "Warning: n_samples differ" in view
    page = render_text(c, "html")
    assert page.startswith("<!doctype html>") and view in page


def test_format_for_is_scores() -> None:
    assert format_for is formats.format_for
    assert format_for("summary.md") == "markdown"
