"""The README's examples run as written and print what the README shows.

Each ```console block holds ``$ command`` lines followed by their expected output
(standard output and standard error together, as a terminal shows them). The
commands run with bash in the repository root, with this interpreter's ``xent``
first on PATH, no colour and 80 columns.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
BLOCK = re.compile(r"```console\n(.*?)```", re.S)


def _examples() -> list[tuple[str, str]]:
    examples: list[tuple[str, str]] = []
    for block in BLOCK.findall(README.read_text(encoding="utf-8")):
        command, output = None, []
        for line in block.splitlines():
            if line.startswith("$ "):
                if command is not None:
                    examples.append((command, "\n".join(output)))
                command, output = line[2:], []
            else:
                output.append(line)
        if command is not None:
            examples.append((command, "\n".join(output)))
    return examples


def test_readme_has_examples() -> None:
    commands = [c for c, _ in _examples()]
    assert len(commands) >= 5
    assert (
        commands[0] == "xent score sample_data/digits_logits.parquet sample_data/digits_labels.csv"
    )


def test_readme_opens_with_the_two_commands() -> None:
    text = README.read_text(encoding="utf-8")
    blocks = re.findall(r"```sh\n(.*?)```", text, re.S)
    assert "pip install . && xent score sample_data/" in blocks[0]
    assert blocks[1].strip() == (ROOT / ".ci" / "run").read_text().strip().splitlines()[-1]


@pytest.mark.parametrize("command, expected", _examples(), ids=lambda v: v[:60])
def test_readme_example(command: str, expected: str) -> None:
    env = dict(os.environ, NO_COLOR="1", COLUMNS="80", TERM="dumb")
    env.pop("FORCE_COLOR", None)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    done = subprocess.run(
        ["bash", "-c", command],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    seen = "\n".join(line.rstrip() for line in done.stdout.splitlines())
    assert seen == "\n".join(line.rstrip() for line in expected.splitlines())


def test_readme_python_runs() -> None:
    """The README's Python blocks run as written, from the repository root."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert blocks
    for block in blocks:
        done = subprocess.run(
            [sys.executable, "-c", block],
            cwd=ROOT,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
