"""Ctrl-C and SIGTERM in the middle of a run: exit 130 / 143, no traceback, no new
file, and an existing output file untouched (SPEC "Gates and exit codes").

The run reads standard input that the test keeps open, so it is provably mid-way
(per-sample rows already written to its temporary file) when the signal arrives.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest


def _rows(n: int, seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, 3))
    y = rng.integers(0, 3, n)
    triples = zip(z.tolist(), y.tolist(), strict=True)
    lines = (f"{a!r},{b!r},{c!r},{k}\n" for (a, b, c), k in triples)
    return "".join(lines).encode()


def _wait_for_partial_output(folder: Path, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        partial = [p for p in folder.iterdir() if p.name.endswith(".xent-tmp")]
        if partial and all(p.stat().st_size > 0 for p in partial):
            return
        time.sleep(0.05)
    raise AssertionError("the run never wrote any per-sample rows")


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_interrupt_mid_run_leaves_no_new_file(tmp_path, sig, code):
    report = tmp_path / "report.json"
    report.write_text("the report of an earlier run\n")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "xentcli",
            "score",
            "-",
            "--input",
            "logits",
            "--per-sample",
            "samples.csv",
            "--output",
            "report.json",
        ],
        cwd=tmp_path,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdin is not None
    proc.stdin.write(b"a,b,c,label\n" + _rows(20_000, seed=sig))
    proc.stdin.flush()
    _wait_for_partial_output(tmp_path, proc)

    os.kill(proc.pid, sig)
    out, err = proc.communicate(timeout=60)

    assert proc.returncode == code, err.decode()
    assert b"Traceback" not in err
    assert b"Error" not in err
    assert out == b""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]
    assert report.read_text() == "the report of an earlier run\n"


def test_the_same_run_completes_when_not_interrupted(tmp_path):
    """The control: with standard input closed normally, the same command writes both."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "xentcli",
            "score",
            "-",
            "--input",
            "logits",
            "--per-sample",
            "samples.csv",
            "--output",
            "report.json",
            "-q",
        ],
        cwd=tmp_path,
        input=b"a,b,c,label\n" + _rows(20_000, seed=0),
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr.decode()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json", "samples.csv"]
    assert (tmp_path / "samples.csv").read_text().count("\n") == 20_001
