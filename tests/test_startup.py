"""A fast start (issue 14): a plain ``xent score`` imports only what it uses.

Time is measured by ``bench/run.py --startup``, never here; these tests hold what the
gain came from: the modules a plain run leaves unloaded (beyond those NumPy and
``pyarrow.parquet`` load themselves), the lazy commands and names still complete, and
the NumPy path for integer labels deciding as the text path does.
"""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import click
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import xentcli
from xentcli.cli import cli
from xentcli.errors import XentError

# What a plain score (numeric columns, integer labels, no -o) must not import, each
# for the reason given (measured with -X importtime on a 1,000-row Parquet file).
NOT_ON_THE_PLAIN_PATH = {
    "importlib.metadata": "the version is a constant (~20 ms)",
    "pyarrow.compute": "integer labels are decided in NumPy (~30 ms)",
    "rich": "-q prints nothing (the table imports it)",
    "xentcli.comparison": "compare's result type",
    "xentcli.cli.compare": "the commands are imported when run",
    "xentcli.cli.inspect": "the commands are imported when run",
    "xentcli.run.inspect": "inspect's reader",
    "xentcli.run.compare": "compare's run",
    "xentcli.report.trackers": "only with --log",
    "xentcli.report.formats": "only with -o or --format",
    "xentcli.report.table": "the table, without -q",
    "xentcli.io.persample": "only with --per-sample",
    "tempfile": "only when a file is written",
    "pandas": "pyarrow imports it for a Python scalar or list (~150 ms)",
}

LOADED = textwrap.dedent("""
    import json, runpy, sys
    sys.argv = ["xent", *sys.argv[1:]]
    try:
        runpy.run_module("xentcli", run_name="__main__", alter_sys=True)
    except SystemExit as exc:
        code = exc.code
    else:
        code = 0
    print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
""")


def _loaded(*argv: str) -> tuple[int, set[str]]:
    """The exit code and the modules loaded at the end of ``python -m xentcli ARGV``."""
    done = subprocess.run(
        [sys.executable, "-c", LOADED, *argv], capture_output=True, text=True, timeout=120
    )
    found = json.loads(done.stderr.strip().splitlines()[-1])
    return found["code"], set(found["modules"])


def _baseline() -> set[str]:
    """What ``import numpy, pyarrow.parquet`` loads by itself, in this environment."""
    code = "import json, sys, numpy, pyarrow.parquet; print(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    return set(json.loads(done.stdout))


@pytest.fixture(scope="module")
def p1k(tmp_path_factory) -> str:
    """1,000 rows: ten float32 probability columns c0..c9 and an int64 label."""
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(10), size=1000).astype(np.float32)
    table = pa.table(
        {**{f"c{j}": probs[:, j] for j in range(10)}, "label": rng.integers(0, 10, 1000)}
    )
    path = tmp_path_factory.mktemp("startup") / "p1k.parquet"
    pq.write_table(table, path)
    return str(path)


def test_plain_score_leaves_the_rest_unloaded(p1k: str) -> None:
    code, loaded = _loaded("score", p1k, "-q")
    assert code == 0
    assert "xentcli.run.pipeline" in loaded  # the walk ran the real command
    extra = loaded - _baseline()
    wrong = {
        name: why
        for name, why in NOT_ON_THE_PLAIN_PATH.items()
        if any(m == name or m.startswith(f"{name}.") for m in extra)
    }
    assert not wrong, wrong


def test_the_readmes_first_command_imports_no_pandas() -> None:
    """Parquet scores and CSV labels that share a key column checked row by row: the
    check compares in Arrow without a Python scalar, so pandas stays unloaded."""
    root = Path(__file__).resolve().parent.parent / "sample_data"
    code, loaded = _loaded(
        "score", str(root / "digits_logits.parquet"), str(root / "digits_labels.csv"), "-q"
    )
    assert code == 0
    assert "xentcli.run.align.aligner" in loaded and "pandas" not in loaded


def test_the_json_summary_imports_no_rich(p1k: str) -> None:
    code, loaded = _loaded("score", p1k, "--json")
    assert code == 0
    assert "xentcli.report.formats" in loaded
    assert not {m for m in loaded if m == "rich" or m.startswith("rich.")}


def test_each_command_is_there_when_asked_for() -> None:
    """The lazy commands: listed, each a click command of its own name, in --help."""
    assert sorted(cli.commands) == ["compare", "inspect", "score"]
    for name in cli.commands:
        command = cli.commands[name]
        assert isinstance(command, click.Command) and command.name == name
    ctx = click.Context(cli)
    assert cli.list_commands(ctx) == ["compare", "inspect", "score"]
    assert cli.get_command(ctx, "nosuch") is None


def test_the_door_gives_comparison_when_asked() -> None:
    from xentcli.comparison import Comparison

    assert xentcli.Comparison is Comparison
    assert "Comparison" in xentcli.__all__
    with pytest.raises(AttributeError, match="nosuch"):
        _ = xentcli.nosuch  # type: ignore[attr-defined]


def test_the_version_constant_is_the_installed_one() -> None:
    """``version.py`` is the one source; pyproject reads it, the metadata agrees."""
    assert xentcli.__version__ == importlib.metadata.version("xentcli")


def _outcome(names: list[str], labels: pa.Array) -> object:
    """What ``score`` makes of the labels: the mapping's reason and the figures, or the
    kind of error."""
    k = len(names)
    probs = np.full((len(labels), k), 1.0 / k)
    probs[:, 0] += 0.5
    probs /= probs.sum(axis=1, keepdims=True)
    table = pa.table({**{n: probs[:, j] for j, n in enumerate(names)}, "label": labels})
    try:
        s = xentcli.score(table, drop_invalid=True)
    except XentError as exc:
        return type(exc).__name__
    d = s.to_dict()
    return d["reasons"], d["n_samples"], d["sum_loss"], [c["n"] for c in d["per_class"]]


LABEL_CASES = [
    (["c0", "c1", "c2"], [0, 1, 2, 2, 1]),  # numbered names 0..K-1: indices
    (["0", "1", "2"], [2, 0, 1]),  # integer names in order
    (["1", "2", "3"], [1, 2, 3, 1]),  # integer names out of order: an error
    (["a", "b", "c"], [0, 2, 1, 1]),  # indices
    (["a", "b", "c"], [0, 2, 7, -1]),  # some out of range: invalid, dropped
    (["10", "20", "a"], [10, 20, 10]),  # labels that are names
    (["10", "20", "a"], [10, 1, 20]),  # names mixed with indices: an error
    (["007", "b", "c"], [7, 0, 1]),  # "007" is not the text of 7
    (["yes", "no"], [0, 1, 1]),  # 0/1 labels and flag names
    (["p1", "p2", "p3"], [1, 2, 3]),  # numbered names 1..K: an error
]


@pytest.mark.parametrize(
    "names, values, dtype",
    [
        (names, values, dtype)
        for names, values in LABEL_CASES
        for dtype in (pa.int64(), pa.int8(), pa.uint64())
        # an unsigned type cannot hold the negative labels
        if min(values) >= 0 or not pa.types.is_unsigned_integer(dtype)
    ],
)
def test_integer_labels_decide_as_their_text_does(names, values, dtype) -> None:
    """Integer labels take a NumPy path in ``decide_multiclass``; the same labels as
    text take the pyarrow.compute path. Both decide alike, errors included."""
    as_integers = _outcome(names, pa.array(values, type=dtype))
    as_text = _outcome(names, pa.array([str(v) for v in values]))
    assert as_integers == as_text


def _binary_outcome(column: str, labels: pa.Array) -> object:
    """What ``score`` makes of binary labels beside one probability column."""
    probs = np.linspace(0.1, 0.9, len(labels))
    table = pa.table({column: probs, "label": labels})
    try:
        d = xentcli.score(table).to_dict()
    except XentError as exc:  # the message quotes the value as its type shows it
        return type(exc).__name__
    return d["reasons"], d["n_samples"], d["sum_loss"], [c["n"] for c in d["per_class"]]


@pytest.mark.parametrize(
    "column, values, dtype",
    [
        (column, values, dtype)
        for column in ("p", "p_1", "prob_dog", "score", "p_0")
        for values in ([0, 1, 1, 0], [1, 1, 1], [0, 0], [1, 2, 2], [-1, 1], [0, 1, None])
        for dtype in (pa.int64(), pa.int8(), pa.uint8())
        if not (pa.types.is_unsigned_integer(dtype) and -1 in values)
    ],
)
def test_integer_binary_labels_decide_as_their_text_does(column, values, dtype) -> None:
    """0/1 integer labels are decided in NumPy (no ``pyarrow.compute``); every other
    integer layout takes the text path. Both decide as the same labels as text."""
    as_integers = _binary_outcome(column, pa.array(values, type=dtype))
    as_text = _binary_outcome(column, pa.array([None if v is None else str(v) for v in values]))
    assert as_integers == as_text


NAME_CHARACTERS = "0123456789eE.+- \t\u00a0abxyzTRUEfalse\u0663_"


@given(st.text(alphabet=NAME_CHARACTERS, max_size=12))
@settings(max_examples=400)
def test_a_name_lowered_in_python_is_the_label_text_arrow_gives(name: str) -> None:
    """``lowered`` leaves Arrow out for a name that cannot be a number; it gives what
    ``label_text`` gives for every name (exponents, ``2.0``, Unicode digits, spaces)."""
    from xentcli.io.arrays import strings
    from xentcli.run.decisions.common import lowered
    from xentcli.run.infer import label_text

    expected = str(label_text(strings([name.strip()]))[0].as_py()).lower()
    assert lowered(name) == expected
