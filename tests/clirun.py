"""The CLI helpers the review tests share: run ``xent score ... --json`` in process,
read its loss, or hold a refusal to the error contract (exit 2, one ``Error:`` line)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner, Result

from xentcli.cli import cli


def xent(*args: str) -> Result:
    return CliRunner().invoke(cli, ["score", *args, "--json"], prog_name="xent")


def loss_of(*args: str) -> float:
    result = xent(*args)
    assert result.exit_code == 0, result.stderr
    return float(json.loads(result.stdout)["loss"])


def refused(*args: str) -> str:
    """The one ``Error:`` line of a run that must exit 2."""
    result = xent(*args)
    lines = result.stderr.splitlines()
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    assert result.stdout == ""
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    return lines[0]


def save(frame: pd.DataFrame, name: str) -> str:
    """Write as pandas does, by extension; no index."""
    if name.endswith(".parquet"):
        frame.to_parquet(name, index=False)
    else:
        frame.to_csv(name, index=False)
    return name


@pytest.fixture(autouse=True)
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path
