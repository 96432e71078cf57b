"""Every command's ``--help`` is something a newcomer can scan: its options in panels
(inputs, conventions, evaluation, gates, outputs, trackers, general) in that order,
each option in exactly one; a line on how the inputs are read; examples that parse."""

from __future__ import annotations

import re
import shlex

import click
import pytest
from click.testing import CliRunner

from xentcli.cli import cli
from xentcli.cli.params import PANEL_OF, PANELS, UNPANELLED, panels

COMMANDS = sorted(cli.commands)


def help_of(name: str) -> str:
    result = CliRunner().invoke(cli, [name, "--help"], prog_name="xent", terminal_width=100)
    assert result.exit_code == 0, result.output
    return result.stdout


def sections(text: str) -> list[str]:
    """The section titles of a help text, in order (``Inputs:`` at the line start)."""
    return re.findall(r"^([A-Z][a-z]+):$", text, flags=re.M)


@pytest.mark.parametrize("name", COMMANDS)
def test_every_option_is_in_exactly_one_panel(name: str) -> None:
    command = cli.commands[name]
    ctx = click.Context(command, info_name=name)
    shown = panels(command, ctx)
    assert UNPANELLED not in [title for title, _ in shown], "add the option to PANEL_OF"
    records = [record for _title, rows in shown for record in rows]
    options = [p for p in command.get_params(ctx) if isinstance(p, click.Option) and not p.hidden]
    assert len(records) == len(options)
    text = help_of(name)
    for option in options:
        flag = max(option.opts, key=len)  # the long name
        starts = re.findall(rf"^  (?:-\w, )?{re.escape(flag)}(?=[ \n])", text, flags=re.M)
        assert len(starts) == 1, (flag, starts)


@pytest.mark.parametrize("name", COMMANDS)
def test_panels_appear_in_order_then_the_examples(name: str) -> None:
    titles = sections(help_of(name))
    assert titles[-1] == "Examples"
    panel_titles = titles[:-1]
    assert panel_titles == [t for t in PANELS if t in panel_titles]
    assert "Inputs" in panel_titles and panel_titles[-1] == "General"


def test_score_has_every_panel_it_has_options_for() -> None:
    titles = sections(help_of("score"))
    assert titles == [
        "Inputs",
        "Conventions",
        "Evaluation",
        "Gates",
        "Outputs",
        "Trackers",
        "Engine",
        "General",
        "Examples",
    ]


def test_panel_membership_is_data() -> None:
    assert set(PANEL_OF.values()) <= set(PANELS)
    assert PANEL_OF["max_increase"] == "Gates" and PANEL_OF["output"] == "Outputs"


@pytest.mark.parametrize("name", COMMANDS)
def test_help_says_how_inputs_are_read(name: str) -> None:
    text = " ".join(help_of(name).split())
    assert "CSV, TSV, Parquet, Arrow, JSON Lines" in text
    assert "- for standard input" in text


@pytest.mark.parametrize("name", COMMANDS)
def test_the_examples_are_its_own_and_parse(name: str) -> None:
    text = help_of(name)
    examples = text.split("\nExamples:\n", 1)[1].splitlines()
    assert len(examples) >= 3
    own = 0
    for line in examples:
        for part in re.split(r"\s*(?:\||>>)\s*", line.strip()):
            words = shlex.split(part)
            if words[:1] != ["xent"]:
                continue
            command = cli.commands[words[1]]
            own += words[1] == name
            with command.make_context(f"xent {words[1]}", words[2:]) as ctx:
                assert ctx.params is not None  # click parsed every option of the example
    assert own >= 2
