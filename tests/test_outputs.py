"""Outputs to devices and FIFOs (SPEC: written straight through) and to a full disk."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import pytest

PREDS = "p_cat,p_dog,label\n0.3,0.7,dog\n0.6,0.4,cat\n0.9,0.1,dog\n"


def _xent(tmp_path, *args: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "preds.csv").write_text(PREDS)
    return subprocess.run(
        [sys.executable, "-m", "xentcli", "score", "preds.csv", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("option", ["--output", "--per-sample"])
def test_a_full_disk_is_one_error_line(tmp_path, option):
    if not os.path.exists("/dev/full"):
        pytest.skip("this system has no /dev/full")
    done = _xent(tmp_path, option, "/dev/full", "-q")
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.splitlines() == ["Error: /dev/full: cannot write: No space left on device"]


def test_report_to_a_device_is_json_without_an_extension(tmp_path):
    done = _xent(tmp_path, "--output", "/dev/stdout", "-q")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    expected = -(math.log(0.7) + math.log(0.6) + math.log(0.1)) / 3
    assert report["loss"] == pytest.approx(expected, rel=1e-15)


def test_per_sample_to_a_fifo_is_csv_written_straight_through(tmp_path):
    fifo = tmp_path / "samples"
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE, text=True)
    done = _xent(tmp_path, "--per-sample", str(fifo), "-q")
    out, _ = reader.communicate(timeout=60)
    assert done.returncode == 0, done.stderr
    assert out.splitlines()[0] == "row,label,loss,pred,p_true"
    assert [line.split(",")[:2] for line in out.splitlines()[1:]] == [
        ["0", "dog"],
        ["1", "cat"],
        ["2", "dog"],
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["preds.csv", "samples"]


def test_a_run_failing_after_parquet_rows_were_written_says_one_line(tmp_path):
    """Regression: the per-sample Parquet writer of a failed run complained at exit
    ("Exception ignored in ParquetWriter.__del__") after its file was removed."""
    rows = "".join(f"0.{i % 9 + 1},1\n" for i in range(70000))
    (tmp_path / "late.csv").write_text("p,y\n" + rows + "0.5,cat\n")
    done = subprocess.run(
        [sys.executable, "-m", "xentcli", "score", "late.csv", "--per-sample", "s.parquet"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "Error: late.csv row 70000 (line 70002), column 'y': binary label 'cat' is not 0/1 or "
        "true/false (pass --positive NAME for labels that are class names)"
    ]
    assert sorted(os.listdir(tmp_path)) == ["late.csv"]
