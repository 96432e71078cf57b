"""SPEC "Outputs" and "Gates and exit codes", as a user meets them (issue 10, class 12).

- Output to a pipe or a file is never wrapped or padded: the signature is one line that
  ``grep`` finds, no line ends in spaces, whatever ``COLUMNS`` says; only a terminal has
  a width, and a narrow one stacks the table rather than cutting numbers.
- Standard output that cannot be written (closed with ``>&-``, a full disk) is exit 2
  with one ``Error:`` line and no file of the run left behind; a reader closing the pipe
  early is no error (no traceback, no ``Error:`` line, exit 0, 1 or 141).
- No progress bar when ``CI`` is set to anything.
- ``--format csv``: a class's ``sum_loss`` is its rows' ``sum w l`` with the weights of
  the headline mean, ``mean_loss`` that over their weights; a multilabel label's ``n``
  counts its positives and its ``sum_loss`` sums its own binary losses over every row.
  References: pandas groupby of the ``--per-sample`` rows, and PyTorch's per-element
  ``binary_cross_entropy_with_logits`` for multilabel.

Streams are real processes (``python -m xentcli`` with this worktree first on the path);
the rest goes through click's ``CliRunner``.
"""

from __future__ import annotations

import io
import json
import os
import pty
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from click.testing import CliRunner

import xentcli
from xentcli.cli import cli
from xentcli.report import formats as report

ROOT = Path(__file__).resolve().parent.parent
XENT = [sys.executable, "-m", "xentcli"]
ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
RTOL = 1e-12


def env(**extra: str) -> dict[str, str]:
    """The environment of a real run: this worktree first on the path, no colour or width
    settings or CI flag from the caller's environment."""
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in {"FORCE_COLOR", "NO_COLOR", "TERM", "COLUMNS", "LINES", "CI", "TTY_COMPATIBLE"}
    }
    base["PYTHONPATH"] = os.pathsep.join([str(ROOT), base.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    base.update(extra)
    return base


def six(value: float) -> str:
    return f"{value:.6g}"


# -- data ------------------------------------------------------------------------------


def many_classes(folder: Path, k: int = 1000, n: int = 2500) -> Path:
    """``k`` classes with long names (``...`` and ``[x]`` in them), logits, a name label."""
    rng = np.random.default_rng(3)
    names = [f"a_long_class_name_of_the_taxonomy_[{i:04d}]_with.more" for i in range(k)]
    frame = pd.DataFrame(rng.normal(0.0, 2.0, size=(n, k)).astype(np.float32), columns=names)
    frame["label"] = [names[i] for i in rng.integers(0, k, size=n)]
    path = folder / "wide.parquet"
    frame.to_parquet(path, index=False)
    return path


SMALL = "p_cat,p_dog,label\n0.3,0.7,dog\n0.6,0.4,cat\n0.9,0.1,dog\n"
SMALL_LOSS = -(np.log(0.7) + np.log(0.6) + np.log(0.1)) / 3


@pytest.fixture
def small(tmp_path: Path) -> Path:
    (tmp_path / "preds.csv").write_text(SMALL)
    return tmp_path


# -- never wrapped or padded outside a terminal -----------------------------------------


@pytest.fixture(scope="module")
def wide(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    folder = tmp_path_factory.mktemp("wide")
    path = many_classes(folder)
    done = subprocess.run(
        [*XENT, "score", str(path), "--json"], capture_output=True, env=env(), timeout=300
    )
    assert done.returncode == 0, done.stderr
    return path, json.loads(done.stdout)


def _assert_unwrapped(text: str, report: dict) -> None:
    """The signature whole on one line, no trailing spaces, the worst classes' rows whole."""
    lines = text.splitlines()
    assert report["signature"] in lines, text[-600:]
    assert len(report["signature"]) > 80  # a line that a width of 80 used to split
    assert [line for line in lines if line != line.rstrip()] == []
    assert ESCAPE.search(text) is None
    # not stacked: the per-class table with its header row
    assert any(line.split() == ["class", "n", "mean", "loss", "accuracy"] for line in lines)
    worst = sorted(report["per_class"], key=lambda c: -c["mean_loss"] if c["n"] else 0.0)[:10]
    for c in worst:
        row = next(line for line in lines if line.startswith(c["class"] + " "))
        assert row.split() == [c["class"], f"{c['n']:,}", six(c["mean_loss"]), six(c["accuracy"])]
    assert "all 1,000 are in the JSON report" in text


@pytest.mark.parametrize("columns", [None, "40", "200"])
def test_a_piped_table_is_never_wrapped_or_padded(wide, columns) -> None:
    """``COLUMNS`` is the terminal's width; a pipe has none, so it changes nothing."""
    path, report = wide
    extra = {} if columns is None else {"COLUMNS": columns}
    done = subprocess.run(
        [*XENT, "score", str(path), "--format", "table"],
        capture_output=True,
        env=env(**extra),
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    text = done.stdout.decode()
    _assert_unwrapped(text, report)
    # grep finds the signature, as a CI script would
    grep = subprocess.run(
        ["grep", "-x", "-F", report["signature"]], input=done.stdout, capture_output=True
    )
    assert grep.returncode == 0
    assert grep.stdout.decode() == report["signature"] + "\n"


def test_a_table_redirected_to_a_file_is_never_wrapped_or_padded(wide, tmp_path) -> None:
    path, report = wide
    target = tmp_path / "summary.txt"
    with open(target, "wb") as out:
        done = subprocess.run(
            [*XENT, "score", str(path)],
            stdout=out,
            stderr=subprocess.PIPE,
            env=env(COLUMNS="40"),
            timeout=300,
        )
    assert done.returncode == 0, done.stderr
    _assert_unwrapped(target.read_text(), report)


def test_cli_runner_output_is_not_a_terminal_and_not_wrapped(wide) -> None:
    path, report = wide
    result = CliRunner().invoke(cli, ["score", str(path)], env={"COLUMNS": "40"})
    assert result.exit_code == 0, result.output
    _assert_unwrapped(result.stdout, report)


def test_inspect_piped_is_not_wrapped_or_padded(tmp_path) -> None:
    long = "a_prediction_column_whose_name_is_longer_than_any_terminal_line_" * 2
    pd.DataFrame({long: [0.2, 0.7], "y": [0, 1]}).to_csv(tmp_path / "p.csv", index=False)
    result = CliRunner().invoke(cli, ["inspect", str(tmp_path / "p.csv")], env={"COLUMNS": "40"})
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert [line for line in lines if line != line.rstrip()] == []
    row = next(line for line in lines if line.startswith(long))
    assert row.split() == [long, "double", "prediction", "numeric"]


def _on_terminal(args: list[str], cwd: Path, **extra: str) -> tuple[int, str, bytes]:
    """Run with standard output on a pseudo-terminal; its text without escape codes."""
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen(
            args,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=slave,
            stderr=subprocess.PIPE,
            env=env(TERM="xterm", **extra),
        )
    finally:
        os.close(slave)
    chunks = []
    try:
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
    finally:
        os.close(master)
    _, err = proc.communicate(timeout=300)
    text = ESCAPE.sub("", b"".join(chunks).decode()).replace("\r\n", "\n")
    return proc.returncode, text, err


def test_a_narrow_terminal_stacks_and_keeps_numbers_whole(wide, tmp_path) -> None:
    path, report = wide
    code, text, err = _on_terminal([*XENT, "score", str(path)], tmp_path, COLUMNS="40")
    assert code == 0, err
    lines = text.splitlines()
    assert all(len(line) <= 40 for line in lines), [line for line in lines if len(line) > 40]
    assert "…" not in text
    # stacked: no table header row; each shown class on its own line, figures whole
    assert not any("mean loss" in line and "accuracy" in line for line in lines)
    tokens = set(text.split())
    for figure in ("loss", "perplexity", "accuracy"):
        assert six(report[figure]) in tokens, figure
    worst = sorted(report["per_class"], key=lambda c: -c["mean_loss"] if c["n"] else 0.0)[:10]
    joined = text.replace("\n", "")
    for c in worst:
        assert c["class"] in joined
        assert f"loss {six(c['mean_loss'])}" in text, c
    # the terminal's width wraps the signature (a pipe keeps it whole, above)
    assert report["signature"] not in lines
    assert report["signature"] in joined


def test_a_wide_terminal_shows_the_table(wide, tmp_path) -> None:
    """The control: the same run at 200 columns is a table, one row per shown class."""
    path, report = wide
    code, text, err = _on_terminal([*XENT, "score", str(path)], tmp_path, COLUMNS="200")
    assert code == 0, err
    lines = text.splitlines()
    assert all(len(line) <= 200 for line in lines)
    assert any(line.split() == ["class", "n", "mean", "loss", "accuracy"] for line in lines)
    assert report["signature"] in lines


# -- standard output that cannot be written ----------------------------------------------

OUTPUT_FORMATS = [
    pytest.param([], id="table"),
    pytest.param(["--json"], id="json"),
    pytest.param(["--format", "csv"], id="csv"),
    pytest.param(["--per-sample", "-"], id="per-sample"),
]


def _shell(command: str, cwd: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    """``command`` in bash with ``"$@"`` the xent command line and ``$XENT`` python."""
    return subprocess.run(
        ["bash", "-c", command, "xent", *XENT, *args],
        cwd=cwd,
        capture_output=True,
        env=env(),
        timeout=300,
    )


@pytest.mark.parametrize("fmt", OUTPUT_FORMATS)
def test_a_closed_stdout_is_exit_2_with_one_line(small, fmt) -> None:
    done = _shell('"$@" >&-', small, "score", "preds.csv", "-o", "report.json", *fmt)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.decode().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("Error: standard output: cannot write: it is closed")
    assert "bug" not in lines[0]
    assert not (small / "report.json").exists()  # a run that fails leaves no output


def test_a_closed_stdout_is_fine_when_nothing_goes_there(small) -> None:
    """The control: with -q nothing is written to standard output; the report is."""
    done = _shell('"$@" >&-', small, "score", "preds.csv", "-q", "-o", "report.json")
    assert done.returncode == 0, done.stderr
    assert done.stderr == b""
    report = json.loads((small / "report.json").read_text())
    assert report["loss"] == pytest.approx(SMALL_LOSS, rel=RTOL)


@pytest.mark.parametrize("fmt", OUTPUT_FORMATS)
def test_a_full_stdout_is_exit_2_with_one_line(small, fmt) -> None:
    if not os.path.exists("/dev/full"):
        pytest.skip("this system has no /dev/full")
    done = _shell('"$@" > /dev/full', small, "score", "preds.csv", "-o", "report.json", *fmt)
    assert done.returncode == 2, done.stderr
    assert done.stderr.decode().splitlines() == [
        "Error: standard output: cannot write: No space left on device"
    ]
    assert not (small / "report.json").exists()


def test_inspect_to_a_full_or_closed_stdout(small) -> None:
    if not os.path.exists("/dev/full"):
        pytest.skip("this system has no /dev/full")
    for redirect, reason in [("> /dev/full", "No space left on device"), (">&-", "it is closed")]:
        done = _shell(f'"$@" {redirect}', small, "inspect", "preds.csv")
        assert done.returncode == 2, done.stderr
        assert done.stderr.decode().splitlines() == [
            f"Error: standard output: cannot write: {reason}"
        ]


def _to_closed_pipe(cwd: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    """Standard output a pipe whose reader is gone before the run writes a byte."""
    read, write = os.pipe()
    os.close(read)
    try:
        return subprocess.run(
            [*XENT, *args], cwd=cwd, stdout=write, stderr=subprocess.PIPE, env=env(), timeout=300
        )
    finally:
        os.close(write)


@pytest.mark.parametrize("fmt", OUTPUT_FORMATS)
def test_a_reader_gone_is_not_an_error(small, fmt) -> None:
    done = _to_closed_pipe(small, "score", "preds.csv", *fmt)
    assert done.returncode in (0, 141), done.stderr
    assert done.stderr == b""


@pytest.mark.parametrize("fmt", OUTPUT_FORMATS[:3])
def test_a_reader_gone_early_leaves_the_run_its_files_and_gates(small, fmt) -> None:
    """The summary was all the reader could have had: the report is still written, the
    gate still decides the exit code and says why."""
    done = _to_closed_pipe(small, "score", "preds.csv", "-o", "r.json", "--max-loss", "0.5", *fmt)
    assert done.returncode == 1
    assert done.stderr.decode().splitlines() == [
        f"Gate failed: loss {SMALL_LOSS:.5g} > 0.5 (--max-loss)"
    ]
    assert json.loads((small / "r.json").read_text())["loss"] == pytest.approx(SMALL_LOSS)


@pytest.mark.parametrize("fmt", OUTPUT_FORMATS)
def test_head_closing_the_pipe_is_not_an_error(tmp_path, fmt) -> None:
    rng = np.random.default_rng(5)
    n = 150_000
    frame = pd.DataFrame(rng.normal(size=(n, 3)), columns=["a", "b", "c"])
    frame["label"] = rng.integers(0, 3, n)
    frame.to_csv(tmp_path / "big.csv", index=False)
    done = _shell(
        '"$@" | head -1; echo "status ${PIPESTATUS[0]}" >&2', tmp_path, "score", "big.csv", *fmt
    )
    err = done.stderr.decode().splitlines()
    assert err[:-1] == [], err
    assert err[-1] in ("status 0", "status 1", "status 141")
    first = done.stdout.decode().splitlines()
    assert len(first) == 1
    expected = {
        "table": "xent score big.csv",
        "json": "{",
        "csv": "scope,class,n,mean_loss,sum_loss,accuracy,baseline_loss,d2,normalized_entropy,"
        "brier,ece,mce,ci_level,ci_method,loss_lo,loss_hi,accuracy_lo,accuracy_hi,by,value,"
        "bin_lo,bin_hi,confidence,row,id,pred,p_true",  # the evaluation figures' columns
        "per-sample": "row,label,loss,pred,p_true",
    }
    assert first[0] in expected.values()


# -- no progress bar under CI -------------------------------------------------------------


def _rows(n: int, seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    z, y = rng.normal(size=(n, 3)), rng.integers(0, 3, n)
    lines = zip(z.tolist(), y.tolist(), strict=True)
    return b"".join(f"{a!r},{b!r},{c!r},{k}\n".encode() for (a, b, c), k in lines)


FEED_SECONDS = 4.0  # standard input trickles in this long: far past the bar's 0.5 s delay


def _stderr_on_terminal(cwd: Path, *, until_seen: str | None = None, **extra: str) -> str:
    """A run reading standard input that trickles in (20,000 rows every quarter second
    for ``FEED_SECONDS``, or until ``until_seen`` shows), with standard error on a
    pseudo-terminal; what that terminal showed, without escape codes."""
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen(
            [*XENT, "score", "-", "--input", "logits", "--json"],
            cwd=cwd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=slave,
            env=env(TERM="xterm", COLUMNS="100", **extra),
        )
    finally:
        os.close(slave)
    shown: list[bytes] = []

    def read() -> None:
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:
                return
            if not data:
                return
            shown.append(data)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()

    def text() -> str:
        return ESCAPE.sub("", b"".join(shown).decode(errors="replace"))

    assert proc.stdin is not None
    proc.stdin.write(b"a,b,c,label\n")
    rows, started = 0, time.monotonic()
    deadline = started + (60.0 if until_seen else FEED_SECONDS)
    while time.monotonic() < deadline:
        if until_seen and until_seen in text() and time.monotonic() > started + FEED_SECONDS:
            break
        proc.stdin.write(_rows(20_000, seed=rows))
        proc.stdin.flush()
        rows += 20_000
        time.sleep(0.25)
    out, _ = proc.communicate(timeout=300)
    reader.join(timeout=60)
    os.close(master)
    assert proc.returncode == 0
    assert json.loads(out)["n_samples"] == rows
    return text()


@pytest.mark.parametrize("ci", ["true", "1", "false"])
def test_no_progress_bar_when_ci_is_set(tmp_path, ci) -> None:
    shown = _stderr_on_terminal(tmp_path, CI=ci)
    assert "scoring" not in shown
    assert shown.strip() == ""


@pytest.mark.parametrize("ci", [None, ""])
def test_a_progress_bar_on_a_terminal_without_ci(tmp_path, ci) -> None:
    """The control: the same run, CI unset or empty, shows the bar on the terminal."""
    extra = {} if ci is None else {"CI": ci}
    shown = _stderr_on_terminal(tmp_path, until_seen="scoring", **extra)
    assert "scoring" in shown and "rows" in shown


# -- the CSV report's per-class sums -----------------------------------------------------

N = 9_000  # past two blocks of 4096 rows: the sums cross block boundaries
CLASSES = ["cat", "dog", "bird"]


def _invoke(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def _csv_report(text: str) -> tuple[pd.Series, pd.DataFrame]:
    report = pd.read_csv(io.StringIO(text), keep_default_na=False)
    assert list(report.columns)[:6] == ["scope", "class", "n", "mean_loss", "sum_loss", "accuracy"]
    report = report[report["scope"] != "bin"]  # the reliability bins follow the classes
    assert list(report["scope"]) == ["all"] + ["class"] * (len(report) - 1)
    return report.iloc[0], report.iloc[1:].set_index("class")


def _multiclass_files(folder: Path, task: str) -> tuple[Path, np.ndarray]:
    rng = np.random.default_rng(21)
    if task == "binary":
        p = rng.uniform(0.02, 0.98, N)
        y = (rng.uniform(size=N) < p).astype(int)
        frame = pd.DataFrame({"p": p, "label": y})
    else:
        frame = pd.DataFrame(rng.normal(0.0, 2.0, size=(N, 3)), columns=CLASSES)
        frame["label"] = [CLASSES[i] for i in rng.integers(0, 3, N)]
    weights = rng.uniform(0.0, 4.0, N)
    frame["w"] = weights
    path = folder / "preds.csv"
    frame.to_csv(path, index=False)
    return path, weights


@pytest.mark.parametrize("task", ["multiclass", "binary"])
@pytest.mark.parametrize(
    "options",
    [
        pytest.param([], id="unweighted"),
        pytest.param(["--weight-col", "w"], id="sample-weights"),
        pytest.param(["--weight-col", "w", "--log-base", "2"], id="bits"),
        pytest.param(["--class-weights", "CW"], id="class-weights"),
        pytest.param(["--weight-col", "w", "--class-weights", "CW"], id="both"),
    ],
)
def test_csv_per_class_sums_are_the_groupby_of_the_per_sample_rows(tmp_path, task, options) -> None:
    path, _ = _multiclass_files(tmp_path, task)
    cw = "cat=2.5,dog=0.5" if task == "multiclass" else "1=3,0=0.75"
    options = [cw if o == "CW" else o for o in options]
    if "--weight-col" not in options:
        options = ["--pred-cols", "p" if task == "binary" else ",".join(CLASSES), *options]
    samples = tmp_path / "samples.parquet"
    report_file = tmp_path / "report.csv"
    stdout = _invoke(
        "score",
        str(path),
        *options,
        "--format",
        "csv",
        "-o",
        str(report_file),
        "--per-sample",
        str(samples),
    )
    assert report_file.read_text() == stdout  # -o x.csv and --format csv are one report
    everything, per_class = _csv_report(stdout)

    rows = pd.read_parquet(samples)
    assert len(rows) == N
    weighted = "weight" in rows
    assert weighted == ("--weight-col" in options or "--class-weights" in options)
    rows["w"] = rows["weight"] if weighted else 1.0
    rows["wl"] = rows["w"] * rows["loss"]
    rows["hit"] = rows["pred"] == rows["label"]
    rows["whit"] = rows["w"] * rows["hit"]  # a class's weight is constant in the class
    groups = rows.groupby(rows["label"].astype(str)).agg(
        n=("loss", "size"), sum_wl=("wl", "sum"), sum_w=("w", "sum"), sum_whit=("whit", "sum")
    )
    groups["accuracy"] = groups["sum_whit"] / groups["sum_w"]  # weighted, SPEC's figures
    assert sorted(per_class.index) == sorted(groups.index)
    for name, ref in groups.iterrows():
        got = per_class.loc[name]
        assert got["n"] == ref["n"]
        assert float(got["sum_loss"]) == pytest.approx(ref["sum_wl"], rel=RTOL)
        assert float(got["mean_loss"]) == pytest.approx(ref["sum_wl"] / ref["sum_w"], rel=RTOL)
        assert float(got["accuracy"]) == pytest.approx(ref["accuracy"], rel=RTOL)
        if ref["sum_w"] != pytest.approx(ref["n"]):  # weighted: the old mean x n is wrong
            assert float(got["mean_loss"]) * ref["n"] != pytest.approx(ref["sum_wl"], rel=1e-6)
    # the classes' sums make up the headline sum; the all row is the headline
    report = json.loads(_invoke("score", str(path), *options, "--json"))
    assert int(everything["n"]) == report["n_samples"] == N
    assert float(everything["sum_loss"]) == report["sum_loss"]
    assert float(everything["mean_loss"]) == report["mean_loss"]
    assert float(everything["accuracy"]) == report["accuracy"]
    assert per_class["sum_loss"].astype(float).sum() == pytest.approx(report["sum_loss"], rel=1e-11)


@pytest.mark.parametrize(
    "options",
    [
        pytest.param([], id="unweighted"),
        pytest.param(["--weight-col", "w"], id="sample-weights"),
        pytest.param(["--weight-col", "w", "--class-weights", "cat=2,bird=0.25"], id="both"),
    ],
)
def test_csv_multilabel_sums_are_each_labels_own_binary_losses(tmp_path, options) -> None:
    rng = np.random.default_rng(33)
    logits = rng.normal(0.0, 2.0, size=(N, 3))
    targets = (rng.uniform(size=(N, 3)) < [0.1, 0.4, 0.7]).astype(np.int64)
    preds = pd.DataFrame(logits, columns=[f"logit_{c}" for c in CLASSES])  # named as logits
    weights = rng.uniform(0.0, 4.0, N)
    labels = pd.DataFrame(targets, columns=list(CLASSES))
    if "--weight-col" in options:
        labels.insert(0, "w", weights)
    preds.to_parquet(tmp_path / "preds.parquet", index=False)
    labels.to_parquet(tmp_path / "labels.parquet", index=False)
    args = ["score", str(tmp_path / "preds.parquet"), str(tmp_path / "labels.parquet")]
    args += ["--task", "multilabel", *options]
    everything, per_class = _csv_report(_invoke(*args, "--format", "csv"))

    label_weights = torch.ones(3, dtype=torch.float64)
    if "--class-weights" in options:
        label_weights = torch.tensor([2.0, 1.0, 0.25], dtype=torch.float64)
    per_element = torch.nn.functional.binary_cross_entropy_with_logits(
        torch.from_numpy(logits),
        torch.from_numpy(targets.astype(np.float64)),
        weight=label_weights,
        reduction="none",
    ).numpy()
    row_weights = weights if "--weight-col" in options else np.ones(N)
    sums = row_weights @ per_element
    means = sums / (row_weights.sum() * label_weights.numpy())
    report = json.loads(_invoke(*args, "--json"))
    assert [c["class"] for c in report["per_class"]] == list(per_class.index)
    for j, name in enumerate(per_class.index):
        got = per_class.loc[name]
        assert int(got["n"]) == int(targets[:, j].sum())  # the label's positives
        assert float(got["sum_loss"]) == pytest.approx(sums[j], rel=RTOL)
        assert float(got["mean_loss"]) == pytest.approx(means[j], rel=RTOL)
        assert float(got["mean_loss"]) == report["per_class"][j]["mean_loss"]
        right = (logits[:, j] > 0) == (targets[:, j] == 1)
        hits = np.average(right, weights=row_weights)  # weighted by the sample weights
        assert float(got["accuracy"]) == pytest.approx(hits, rel=RTOL)
        # the old mean x n (n the positives) is another number
        assert float(got["mean_loss"]) * int(got["n"]) != pytest.approx(sums[j], rel=1e-6)
    assert int(everything["n"]) == N
    assert float(everything["sum_loss"]) == report["sum_loss"]


def test_csv_sums_do_not_depend_on_the_batching(tmp_path) -> None:
    """The per-class sums are made as the totals are (blocks of 4096 rows from the first):
    the same rows cut into batches of 1000, 4096 or 7 give the report to the last bit."""
    path, _ = _multiclass_files(tmp_path, "multiclass")
    whole = _invoke("score", str(path), "--weight-col", "w", "--format", "csv")
    for rows in (1000, 4096, 7):
        summary = xentcli.score(str(path), weight_col="w", batch_rows=rows)
        assert report.to_csv(summary) == whole, rows
