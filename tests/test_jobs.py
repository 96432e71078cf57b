"""``--jobs N``: batches scored on threads give every figure, the per-sample rows and the
first error exactly as one thread does (SPEC "Engines")."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import xentcli
from xentcli.cli import cli
from xentcli.errors import XentError

TASKS = ("binary", "multiclass", "multilabel", "soft", "names")


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), prog_name="xent")


def frame(task: str, n: int, seed: int, weights: bool, region: bool, invalid: bool) -> pd.DataFrame:
    """A model's predictions with their labels, as a user's DataFrame holds them."""
    rng = np.random.default_rng(seed)
    data: dict[str, Any] = {}
    if task == "binary":
        data["p"] = rng.uniform(0.001, 0.999, n)
        data["label"] = rng.integers(0, 2, n)
    elif task == "names":  # class names; the first rows show only one of them
        data["p"] = rng.uniform(0.001, 0.999, n)
        labels = rng.choice(["spam", "ham"], n)
        labels[: min(n, 120)] = "spam"
        data["label"] = labels
    else:
        logits = rng.normal(0, 3, (n, 4))
        for j in range(4):
            data[f"c{j}"] = logits[:, j]
        if task == "multiclass":
            data["label"] = rng.integers(0, 4, n)
        elif task == "multilabel":
            data.update({f"c{j}": 1 / (1 + np.exp(-logits[:, j])) for j in range(4)})
    if weights:
        data["w"] = rng.uniform(0, 3, n).round(3)
    if region:
        data["region"] = rng.choice(["north", "south", "east"], n)
    table = pd.DataFrame(data)
    if invalid and n > 3:
        first = "p" if "p" in table else "c0"
        table.loc[rng.choice(n, size=max(1, n // 20), replace=False), first] = np.nan
    return table


def targets(task: str, n: int, seed: int) -> pd.DataFrame | None:
    """LABELS for the tasks whose labels are a column per class."""
    rng = np.random.default_rng(seed + 1)
    if task == "multilabel":
        return pd.DataFrame(rng.integers(0, 2, (n, 4)), columns=[f"c{j}" for j in range(4)])
    if task == "soft":
        soft = rng.dirichlet(np.ones(4), n)
        return pd.DataFrame(soft, columns=[f"c{j}" for j in range(4)])
    return None


def scored(preds: Any, labels: Any, jobs: int, **options: Any) -> tuple[str, str]:
    """The JSON of the summary and of the per-sample rows, or the error's line."""
    try:
        summary, rows = xentcli.score(preds, labels, jobs=jobs, per_sample=True, **options)
    except XentError as error:
        return "error", str(error)
    return (
        json.dumps(summary.to_dict(), sort_keys=True),
        json.dumps(rows.to_pydict(), sort_keys=True),
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    task=st.sampled_from(TASKS),
    n=st.integers(1, 400),
    batch_rows=st.integers(1, 60),
    jobs=st.integers(2, 5),
    seed=st.integers(0, 2**16),
    weights=st.booleans(),
    region=st.booleans(),
    figures=st.booleans(),
    invalid=st.booleans(),
)
def test_jobs_give_the_same_bits_as_one_thread(
    task: str,
    n: int,
    batch_rows: int,
    jobs: int,
    seed: int,
    weights: bool,
    region: bool,
    figures: bool,
    invalid: bool,
) -> None:
    preds = frame(task, n, seed, weights, region, invalid)
    labels = targets(task, n, seed)
    options: dict[str, Any] = {"batch_rows": batch_rows, "drop_invalid": invalid}
    if labels is None:
        options["label_col"] = "label"
    if task == "multilabel":
        options.update(task="multilabel", input="probs")
    if task == "names":
        options["positive"] = "spam"  # "ham" is learned from the first row that shows it
    if weights:
        options["weight_col"] = "w"
    if region:
        options["by"] = ("region",)
    if figures:
        options.update(ci=0.9, bootstrap=25, seed=seed, worst=7, histograms=True)
    one = scored(preds, labels, 1, **options)
    assert scored(preds, labels, jobs, **options) == one
    assert one[0] != "error" or "no rows left" in one[1] or "sum to 0" in one[1], one


def test_a_parquet_file_of_many_row_groups_on_every_core(tmp_path: Path) -> None:
    """The default (the machine's cores) against one thread, through the CLI, with the
    figures whose sums are the longest: the report and the per-sample file are the same
    bytes."""
    rng = np.random.default_rng(3)
    n = 200_000
    logits = rng.normal(0, 2, (n, 10)).astype(np.float32)
    table = pa.table(
        {
            **{f"c{j}": logits[:, j] for j in range(10)},
            "label": rng.integers(0, 10, n),
            "w": rng.uniform(0, 2, n),
            "group": rng.choice(["a", "b", "c", "d"], n),
        }
    )
    pq.write_table(table, tmp_path / "p.parquet", row_group_size=30_000)
    outputs = {}
    for jobs in ("1", "4", None):
        args = ["score", str(tmp_path / "p.parquet"), "--weight-col", "w", "--by", "group"]
        args += ["--bootstrap", "20", "--worst", "5", "--json"]
        per_sample = tmp_path / f"rows-{jobs}.csv"
        args += ["--per-sample", str(per_sample)]
        if jobs is not None:
            args += ["--jobs", jobs]
        result = invoke(*args)
        assert result.exit_code == 0, result.stderr
        report = json.loads(result.stdout)
        report.pop("inputs")
        outputs[jobs] = (json.dumps(report, sort_keys=True), per_sample.read_bytes())
    assert outputs["4"] == outputs["1"]
    assert outputs[None] == outputs["1"]
    assert outputs["1"][1].count(b"\n") == n + 1


def test_the_first_error_in_input_order_wins(tmp_path: Path) -> None:
    """A bad probability in an early batch and another in a later one: the error names
    the early row, as one thread does, however the threads finish."""
    n = 300_000
    rng = np.random.default_rng(5)
    preds = pd.DataFrame({"p": rng.uniform(0.01, 0.99, n), "label": rng.integers(0, 2, n)})
    preds.loc[70_000, "p"] = 1.5
    preds.loc[250_000, "p"] = -2.0
    path = tmp_path / "p.parquet"
    preds.to_parquet(path, index=False, row_group_size=20_000)
    lines = set()
    for jobs in ("1", "2", "5"):
        result = invoke("score", str(path), "--jobs", jobs, "--per-sample", str(tmp_path / "r.csv"))
        assert result.exit_code == 2
        lines.add(result.stderr)
        assert not (tmp_path / "r.csv").exists()
    assert len(lines) == 1
    (line,) = lines
    assert line.startswith("Error: ") and "row 70000" in line and line.count("\n") == 1


def test_a_read_error_after_a_bad_value_reports_the_bad_value(tmp_path: Path) -> None:
    """The reader fails far down the file (a cell that is not a number) after a batch
    whose values are wrong: one thread meets the wrong value first, and so do four."""
    n = 300_000
    rng = np.random.default_rng(6)
    preds = pd.DataFrame({"p": rng.uniform(0.01, 0.99, n), "label": rng.integers(0, 2, n)})
    preds.loc[70_000, "p"] = 3.0
    text = preds.to_csv(index=False).splitlines()
    text[250_001] = "oops,1"
    path = tmp_path / "p.csv"
    path.write_text("\n".join(text) + "\n")
    one = invoke("score", str(path), "--jobs", "1")
    four = invoke("score", str(path), "--jobs", "4")
    assert one.exit_code == four.exit_code == 2
    assert four.stderr == one.stderr
    assert "row 70000" in one.stderr


def test_jobs_must_be_positive() -> None:
    with pytest.raises(XentError, match="--jobs must be a positive integer"):
        xentcli.score(pd.DataFrame({"p": [0.5], "label": [1]}), jobs=0)
    result = invoke("score", "x.csv", "--jobs", "0")
    assert result.exit_code == 2 and "--jobs" in result.stderr
