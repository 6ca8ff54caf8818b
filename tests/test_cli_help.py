"""``civicflow COMMAND --help`` answers: every option has help, required ones say so, and
every command shows examples that the parser accepts."""

from __future__ import annotations

import argparse
import shlex

import pytest

from civicflow.cli import helptext
from civicflow.cli.main import build_parser

PARSER = build_parser()
COMMANDS = dict(helptext.commands(PARSER))


def _options(command: argparse.ArgumentParser) -> list[argparse.Action]:
    return [a for a in command._actions if a.dest != "help"]


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_option_has_help_and_required_ones_say_so(name: str) -> None:
    for action in _options(COMMANDS[name]):
        where = f"civicflow {name} {action.option_strings or action.dest}"
        assert action.help, f"{where} has no help"
        assert action.help.strip(), f"{where} has no help"
        if action.required and action.option_strings:
            assert action.help.startswith("required: "), where


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_shows_examples_the_parser_accepts(name: str) -> None:
    help_text = COMMANDS[name].format_help()
    assert "\nexamples:\n" in help_text, name
    examples = [line.strip() for line in help_text.split("\nexamples:\n")[1].splitlines()]
    assert examples
    for example in examples:
        argv = shlex.split(example.split(" > ")[0])  # an example may redirect its output
        assert argv[0] == "civicflow"
        assert argv[1 : 1 + len(name.split())] == name.split(), example
        PARSER.parse_args(argv[1:])  # exits (a failing test) if the example is wrong


def test_the_walk_finds_an_option_without_help() -> None:
    parser = argparse.ArgumentParser(prog="civicflow")
    group = parser.add_subparsers()
    sub = group.add_parser("nothing")
    sub.add_argument("--mystery", required=True)
    helptext.finish(parser)
    [(name, command)] = list(helptext.commands(parser))
    [mystery] = _options(command)
    assert (name, mystery.help) == ("nothing", None)


@pytest.mark.parametrize(
    ("name", "clock"),
    [
        ("history", "recording time"),
        ("replay", "recording time"),
        ("views", "recording time"),
        ("views", "the day whose overdue work is listed"),
        ("area list", "time in the world"),
        ("council show", "time in the world"),
        ("policy show", "time in the world"),
    ],
)
def test_each_as_of_says_which_clock_it_reads(name: str, clock: str) -> None:
    [as_of] = [a for a in COMMANDS[name]._actions if "--as-of" in a.option_strings]
    assert clock in str(as_of.help)
