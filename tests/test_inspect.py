"""``xent inspect FILE``: columns, types, row count, and what ``score`` would infer.

SPEC "Commands". The reference for every inference is ``xent score FILE --json`` run on
the same file in the same test: task, input kind, classes and the label encoding (its
reason, as ``score`` reports it under ``reasons``) must agree, and for a file that
``score`` refuses, inspect's ``problem`` is ``score``'s ``Error:`` line. Commands run
in-process through click's ``CliRunner`` with standard output and error kept apart.
"""

from __future__ import annotations

import gzip
import io
import json
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner, Result
from rich.console import Console

from xentcli.cli import cli
from xentcli.report.table import render_inspection
from xentcli.run.inspect import Inspection, inspect_file

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_data"
KEYS = [
    "file",
    "format",
    "size",
    "rows",
    "columns",
    "task",
    "input",
    "classes",
    "label_column",
    "labels",
    "reasons",
    "problem",
    "decisions",
]

# -- helpers ---------------------------------------------------------------------------


def xent(*args: str, input: bytes | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), input=input, prog_name="xent")


def _no_constant(name: str) -> Any:
    raise ValueError(f"not strict JSON: {name}")


def inspected(*args: str, input: bytes | None = None) -> dict[str, Any]:
    """``xent inspect ARGS --json``, which must succeed quietly with strict JSON."""
    result = xent("inspect", *args, "--json", input=input)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    assert "\x1b" not in result.stdout
    data = json.loads(result.stdout, parse_constant=_no_constant)
    assert list(data) == KEYS
    return data


def scored(*args: str) -> dict[str, Any]:
    """The reference: ``xent score ARGS --json``."""
    result = xent("score", *args, "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def refused(*args: str) -> str:
    """``score``'s one ``Error:`` line for a file it refuses, without the prefix."""
    result = xent("score", *args)
    assert result.exit_code == 2, result.stdout
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    return lines[0].removeprefix("Error: ")


def assert_agrees(found: dict[str, Any], report: dict[str, Any]) -> None:
    """Everything ``score`` decided, inspect decided alike and for the same reasons."""
    assert found["problem"] is None
    assert found["task"] == report["task"]
    assert found["input"] == report["input"]
    assert found["classes"] == report["classes"]
    for key in ("columns", "task", "input", "labels"):
        assert found["reasons"][key] == report["reasons"][key], key


def columns(found: dict[str, Any]) -> list[tuple[str, str, str | None]]:
    return [(c["name"], c["type"], c["role"]) for c in found["columns"]]


def render(found: Inspection, width: int = 100) -> str:
    out = io.StringIO()
    # a terminal: only a terminal has a width (SPEC "Outputs"); a pipe is never wrapped
    console = Console(file=out, width=width, color_system=None, force_terminal=True)
    render_inspection(found, console)
    return out.getvalue()


@pytest.fixture()
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run in a fresh folder so that file names are short and known."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


RNG = np.random.default_rng(3)
PROBS = RNG.dirichlet([1.0, 1.0, 1.0], size=30)
LOGITS = RNG.normal(0.0, 3.0, size=(30, 3))
Y = RNG.integers(0, 3, size=30)
CLASSES = ["cat", "dog", "bird"]


def frame(values: np.ndarray, prefix: str = "p_", **extra: Any) -> pd.DataFrame:
    data = pd.DataFrame(values, columns=[f"{prefix}{c}" for c in CLASSES])
    for name, column in extra.items():
        data[name] = column
    return data


# -- the sample files, against score ---------------------------------------------------


def test_csv_sample_binary_names(work: Path) -> None:
    path = str(SAMPLES / "cancer.csv")
    found = inspected(path)
    assert found["file"] == path
    assert found["format"] == "csv"
    assert found["size"] == (SAMPLES / "cancer.csv").stat().st_size
    assert found["rows"] == 171 == len(pd.read_csv(path))
    assert columns(found)[:2] == [
        ("p_benign", "double", "prediction"),
        ("label", "string", "label"),
    ]
    assert columns(found)[2][:2] == ("size", "string")  # a column to slice by (--by size)
    assert found["label_column"] == "label"
    assert found["labels"] == "names"
    report = scored(path)
    assert_agrees(found, report)
    assert found["classes"] == ["malignant", "benign"]
    assert found["rows"] == report["n_samples"]


def test_parquet_sample_with_labels(work: Path) -> None:
    """digits_logits.parquet joined with its labels into one Parquet file; the row count
    comes from the metadata, and the inferences are those of both ways of scoring it."""
    logits = pd.read_parquet(SAMPLES / "digits_logits.parquet")
    labels = pd.read_csv(SAMPLES / "digits_labels.csv", dtype={"id": str})
    logits.merge(labels, on="id").to_parquet("digits.parquet", index=False)
    found = inspected("digits.parquet", "--id-col", "id")
    assert found["format"] == "parquet"
    assert found["rows"] == 450
    expected = [("id", "string", "id")]
    expected += [(f"logit_{k}", "double", "prediction") for k in range(10)]
    expected += [("label", "int64", "label")]
    assert columns(found) == expected
    assert found["task"] == "multiclass" and found["input"] == "logits"
    assert found["classes"] == [str(k) for k in range(10)]
    assert_agrees(found, scored("digits.parquet", "--id-col", "id"))
    two_files = scored(
        str(SAMPLES / "digits_logits.parquet"), str(SAMPLES / "digits_labels.csv"), "--id-col", "id"
    )
    for key in ("task", "input", "classes"):
        assert found[key] == two_files[key]


def test_parquet_sample_without_labels(work: Path) -> None:
    """A predictions file alone: its columns and the predictions' inferences are shown,
    with the reason score refuses it: the labels must come from a LABELS file."""
    path = str(SAMPLES / "digits_logits.parquet")
    found = inspected(path)
    assert found["rows"] == 450
    assert columns(found)[0] == ("id", "string", "text")
    assert {role for _, _, role in columns(found)[1:]} == {"prediction"}
    assert found["label_column"] is None and found["labels"] is None
    assert "LABELS" in found["reasons"]["labels"]
    assert found["problem"] == refused(path)
    assert found["problem"].startswith(f"{path}: no label column")
    keyed = inspected(path, "--id-col", "id")
    assert columns(keyed)[0] == ("id", "string", "id")
    report = scored(path, str(SAMPLES / "digits_labels.csv"), "--id-col", "id")
    for key in ("task", "input", "classes"):
        assert found[key] == keyed[key] == report[key]
    for key in ("columns", "task", "input"):
        assert keyed["reasons"][key] == report["reasons"][key]


def test_csv_sample_without_labels_is_probs(work: Path) -> None:
    path = str(SAMPLES / "digits_probs.csv")
    found = inspected(path)
    assert found["rows"] == 450
    assert found["input"] == "probs"
    assert found["problem"] == refused(path)
    report = scored(path, str(SAMPLES / "digits_labels.csv"), "--id-col", "id")
    assert found["input"] == report["input"]
    assert found["reasons"]["input"] == report["reasons"]["input"]


def test_a_labels_file_lists_its_columns(work: Path) -> None:
    path = str(SAMPLES / "digits_labels.csv")
    found = inspected(path)
    assert found["rows"] == 450
    assert columns(found) == [("id", "string", None), ("label", "int64", "label")]
    assert found["task"] is None
    assert found["problem"] == refused(path)


# -- binary, multiclass, input kinds ---------------------------------------------------


@pytest.mark.parametrize("ext", ["csv", "parquet"])
def test_binary_zero_one(work: Path, ext: str) -> None:
    data = pd.DataFrame({"p_yes": PROBS[:, 0], "label": (Y == 0).astype(int)})
    path = f"bin.{ext}"
    data.to_csv(path, index=False) if ext == "csv" else data.to_parquet(path, index=False)
    found = inspected(path)
    assert found["task"] == "binary" and found["input"] == "probs"
    assert found["labels"] == "binary" and found["classes"] == ["0", "1"]
    assert found["rows"] == 30
    assert_agrees(found, scored(path))


def test_binary_names_with_positive(work: Path) -> None:
    data = pd.DataFrame({"score": LOGITS[:, 0], "label": np.where(Y == 0, "spam", "ham")})
    data.to_csv("mail.csv", index=False)
    found = inspected("mail.csv", "--positive", "spam")
    assert found["task"] == "binary" and found["input"] == "logits"
    assert found["labels"] == "names"
    assert found["reasons"]["labels"] == "class names, positive class 'spam' (--positive)"
    report = scored("mail.csv", "--positive", "spam")
    assert_agrees(found, report)
    assert found["classes"] == report["classes"]
    assert found["classes"][1] == "spam"


def test_binary_names_without_positive_is_the_problem(work: Path) -> None:
    pd.DataFrame({"score": LOGITS[:, 0], "label": np.where(Y == 0, "spam", "ham")}).to_csv(
        "mail.csv", index=False
    )
    found = inspected("mail.csv")
    assert found["task"] == "binary" and found["input"] == "logits"
    assert found["problem"] == refused("mail.csv")
    assert "--positive" in found["problem"]


@pytest.mark.parametrize(
    ("values", "kind", "extra"),
    [
        (PROBS, "probs", ()),
        (LOGITS, "logits", ()),
        (np.log(PROBS), "logprobs", ()),
        (PROBS, "logits", ("--input", "logits")),
    ],
    ids=["probs", "logits", "logprobs", "forced-logits"],
)
@pytest.mark.parametrize("ext", ["csv", "parquet"])
def test_input_kinds(
    work: Path, values: np.ndarray, kind: str, extra: tuple[str, ...], ext: str
) -> None:
    prefix = {"logits": "logit_", "logprobs": "logprob_"}.get(kind if not extra else "", "p_")
    data = frame(values, prefix, label=[CLASSES[i] for i in Y])  # named for what they hold
    path = f"preds.{ext}"
    data.to_csv(path, index=False) if ext == "csv" else data.to_parquet(path, index=False)
    found = inspected(path, *extra)
    assert found["input"] == kind
    assert found["task"] == "multiclass"
    assert found["classes"] == CLASSES
    assert found["labels"] == "names"
    assert_agrees(found, scored(path, *extra))


def test_class_indices(work: Path) -> None:
    frame(LOGITS, prefix="logit_", target=Y).to_csv("preds.csv", index=False)
    found = inspected("preds.csv")
    assert found["label_column"] == "target"
    assert found["labels"] == "indices"
    assert_agrees(found, scored("preds.csv"))


def test_ambiguous_probabilities_are_the_problem(work: Path) -> None:
    frame(PROBS * 0.5, prefix="", label=Y).to_csv("half.csv", index=False)  # p_ says probs
    found = inspected("half.csv")
    assert found["input"] is None
    assert found["problem"] == refused("half.csv")
    assert "--input" in found["problem"]
    renormalized = inspected("half.csv", "--renormalize")
    assert_agrees(renormalized, scored("half.csv", "--renormalize"))


def test_non_finite_predictions_are_the_problem(work: Path) -> None:
    values = LOGITS.copy()
    values[4, 1] = np.nan
    frame(values, prefix="logit_", label=Y).to_csv("nan.csv", index=False)
    found = inspected("nan.csv")
    assert found["problem"] == refused("nan.csv")
    assert "row 4" in found["problem"]
    dropped = inspected("nan.csv", "--drop-invalid")
    assert_agrees(dropped, scored("nan.csv", "--drop-invalid"))


# -- roles -----------------------------------------------------------------------------


def test_roles(work: Path) -> None:
    data = frame(PROBS, label=Y, note=["x"] * 30, w=np.ones(30), key=[f"k{i}" for i in range(30)])
    data.to_csv("preds.csv")  # with pandas' unnamed index column
    found = inspected("preds.csv", "--id-col", "key", "--weight-col", "w")
    roles = {name: role for name, _, role in columns(found)}
    assert roles == {
        "": "index",
        "p_cat": "prediction",
        "p_dog": "prediction",
        "p_bird": "prediction",
        "label": "label",
        "note": "text",
        "w": "weight",
        "key": "id",
    }
    assert_agrees(found, scored("preds.csv", "--id-col", "key", "--weight-col", "w"))
    # the roles are those of the decisions object score runs on, with their reasons
    assert found["decisions"]["layout"]["roles"]["preds"] == [
        {"column": c["name"], "role": c["role"], "reason": c["reason"]} for c in found["columns"]
    ]


def test_pred_cols_leaves_others_unused(work: Path) -> None:
    frame(LOGITS, prefix="logit_", label=Y).to_csv("preds.csv", index=False)
    pred_cols = ("--pred-cols", "logit_cat,logit_dog")
    found = inspected("preds.csv", *pred_cols)
    assert found["problem"] == refused("preds.csv", *pred_cols)  # label 2
    frame(LOGITS, prefix="logit_", label=Y % 2).to_csv("preds.csv", index=False)
    found = inspected("preds.csv", *pred_cols)
    roles = [role for _, _, role in columns(found)]
    assert roles == ["prediction", "prediction", "unused", "label"]
    assert found["classes"] == ["cat", "dog"]
    assert_agrees(found, scored("preds.csv", *pred_cols))


def test_label_col_missing_is_the_problem(work: Path) -> None:
    frame(LOGITS, prefix="logit_", label=Y).to_csv("preds.csv", index=False)
    found = inspected("preds.csv", "--label-col", "truth")
    assert found["problem"] == refused("preds.csv", "--label-col", "truth")
    assert found["label_column"] is None
    roles = {name: role for name, _, role in columns(found)}
    assert roles.pop("label") != "prediction"  # a label column in PREDS besides --label-col
    assert set(roles.values()) == {"prediction"}


def test_duplicate_names_are_listed_with_the_problem(work: Path) -> None:
    Path("dup.csv").write_text("p_a,p_a,label\n0.1,0.9,0\n")
    found = inspected("dup.csv")
    assert [name for name, _, _ in columns(found)] == ["p_a", "p_a", "label"]
    assert found["rows"] == 1
    assert found["problem"] == refused("dup.csv")


# -- row counts ------------------------------------------------------------------------


def test_rows_of_a_long_gzip_csv_are_counted(work: Path) -> None:
    n = 70_000  # more than one batch
    values = np.random.default_rng(1).normal(size=(n, 3))
    data = pd.DataFrame(values, columns=["a", "b", "c"])
    data["label"] = np.arange(n) % 3
    with gzip.open("big.csv.gz", "wt") as handle:
        data.to_csv(handle, index=False)
    found = inspected("big.csv.gz")
    assert found["rows"] == n
    assert found["format"] == "csv"
    assert_agrees(found, scored("big.csv.gz"))


def test_header_only_file(work: Path) -> None:
    Path("empty.csv").write_text("p_a,p_b,label\n")
    found = inspected("empty.csv")
    assert found["rows"] == 0
    assert found["task"] == "multiclass" and found["input"] is None
    assert found["problem"] == refused("empty.csv")


def test_standard_input_rows_are_unknown(work: Path) -> None:
    data = (SAMPLES / "cancer.csv").read_bytes()
    found = inspected("-", input=data)
    assert found["file"] == "<stdin>" and found["format"] == "csv"
    assert found["rows"] is None and found["size"] is None
    assert "stream" in found["reasons"]["rows"]
    assert_agrees(found, scored(str(SAMPLES / "cancer.csv")))


def test_jsonl_rows_are_counted(work: Path) -> None:
    frame(PROBS, label=[CLASSES[i] for i in Y]).to_json("preds.jsonl", orient="records", lines=True)
    found = inspected("preds.jsonl")
    assert found["format"] == "jsonl" and found["rows"] == 30
    assert_agrees(found, scored("preds.jsonl"))


# -- errors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.csv", None, "no such file"),
        ("bad.parquet", b"not parquet at all", "is not a Parquet file"),
        ("empty.csv", b"", "the file is empty"),
    ],
)
@pytest.mark.parametrize("as_json", [False, True])
def test_unreadable_file_is_exit_2_with_one_error_line(
    work: Path, name: str, content: bytes | None, message: str, as_json: bool
) -> None:
    if content is not None:
        Path(name).write_bytes(content)
    result = xent("inspect", name, *(["--json"] if as_json else []))
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"Error: {name}: ")
    assert message in lines[0]
    assert "Traceback" not in result.stderr


def test_json_contradicting_format_is_a_usage_error(work: Path) -> None:
    result = xent("inspect", str(SAMPLES / "cancer.csv"), "--json", "--format", "table")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "Error: --json contradicts --format table; give one of them"
    ]


def test_bad_choice_gets_clicks_usage_block(work: Path) -> None:
    result = xent("inspect", str(SAMPLES / "cancer.csv"), "--input", "odds")
    assert result.exit_code == 2
    assert "Usage: xent inspect" in result.stderr


# -- the table -------------------------------------------------------------------------


def test_table_is_the_default_and_names_columns(work: Path) -> None:
    path = str(SAMPLES / "cancer.csv")
    result = xent("inspect", path)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    out = result.stdout
    assert "\x1b" not in out
    for text in (path, "p_benign", "label", "prediction", "171", "binary", "probs", "benign"):
        assert text in out, text
    assert "class names, positive class 'benign'" in out
    assert xent("inspect", path, "--format", "table").stdout == out


def test_table_shows_markup_like_names_verbatim(work: Path) -> None:
    data = pd.DataFrame(
        {"[red]x[/red]": PROBS[:, 0], "[bold]y": PROBS[:, 1] + PROBS[:, 2], "label": Y % 2}
    )
    data.to_csv("odd.csv", index=False)
    out = xent("inspect", "odd.csv").stdout
    assert "[red]x[/red]" in out
    assert "[bold]y" in out
    found = inspect_file("odd.csv")
    text = render(found)
    assert "[red]x[/red]" in text and "[bold]y" in text


def test_table_states_the_problem(work: Path) -> None:
    path = str(SAMPLES / "digits_probs.csv")
    out = xent("inspect", path).stdout
    assert "cannot score" in out
    assert "no label column" in re.sub(r"\s+", " ", out)
    assert "LABELS" in out


def test_narrow_table_stacks(work: Path) -> None:
    found = inspect_file(str(SAMPLES / "cancer.csv"))
    text = render(found, width=40)
    assert "p_benign" in text and "prediction" in text
    assert all(len(line) <= 40 for line in text.splitlines())


def test_many_columns_are_cut_in_the_table_not_in_json(work: Path) -> None:
    values = np.random.default_rng(2).normal(size=(5, 60))
    data = pd.DataFrame(values, columns=[f"c{k}" for k in range(60)])
    data["label"] = np.arange(5)
    data.to_parquet("wide.parquet", index=False)
    found = inspect_file("wide.parquet")
    assert len(found.columns) == 61
    text = render(found)
    assert "c0 " in text and "label" in text
    assert "c59" in text and "c40" not in text
    assert "... 22 more (all in --json)" in text
    assert len(text.splitlines()) < 61
    assert "c40" in json.dumps(found.to_dict())


# -- help and the library --------------------------------------------------------------


def test_help() -> None:
    long, short = xent("inspect", "--help"), xent("inspect", "-h")
    assert long.exit_code == short.exit_code == 0
    assert long.stdout == short.stdout
    assert long.stdout.startswith("Usage: xent inspect [OPTIONS] FILE")
    for option in ("--json", "--format", "--pred-cols", "--label-col", "--id-col", "--positive"):
        assert option in long.stdout
    assert re.search(r"^\s+inspect\s+\S", xent("--help").stdout, re.M)


def test_library_on_a_table() -> None:
    table = pa.table({"p_a": [0.2, 0.9], "p_b": [0.8, 0.1], "y": ["b", "a"]})
    found = inspect_file(table)
    assert found.format == "memory" and found.rows == 2 and found.size is None
    assert found.task == "multiclass" and found.input == "probs"
    assert found.labels == "names" and found.label_column == "y"
    assert found.scorable
    assert found.to_dict()["columns"][2] == {
        "name": "y",
        "type": "string",
        "role": "label",
        "reason": "the label",
    }


def test_library_options_as_keywords(work: Path) -> None:
    pq.write_table(pa.table({"s": [2.0, -1.0], "label": ["spam", "ham"]}), "m.parquet")
    found = inspect_file("m.parquet", positive="spam")
    assert found.classes == ("ham", "spam") and found.input == "logits"
    shutil.copy("m.parquet", "m.data")
    assert inspect_file("m.data", "parquet", positive="spam").format == "parquet"
