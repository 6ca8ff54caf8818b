"""The command's reference, from its parser: every command, option and help, and exit codes.

``docs/generate.py`` writes it into docs/cli.md between the ``cli-reference`` markers,
and tests/test_docs_generated.py fails while that section is not what the parser says.
"""

from __future__ import annotations

import argparse

from civicflow.cli.helptext import EXAMPLES, commands

EXIT_CODES = {
    0: "done (for `verify`: nothing is wrong, and published heads prove it)",
    1: "`verify` found problems",
    2: "refused: a missing or malformed option, a refusal by civicflow, or a file that cannot "
    "be read or written; one line on stderr, nothing written",
    3: "`verify` found nothing wrong but was given no published head, so it proves little",
}


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _option(action: argparse.Action) -> str:
    if not action.option_strings:
        return f"`{action.metavar or action.dest}`"
    names = ", ".join(action.option_strings)
    if action.nargs == 0:
        return f"`{names}`"
    if action.choices is not None:
        return f"`{names} {{{','.join(str(c) for c in action.choices)}}}`"
    metavar = action.metavar or action.dest.upper()
    return f"`{names} {metavar}`"


def markdown(parser: argparse.ArgumentParser, common: set[str]) -> str:
    """The reference as Markdown: a table of options per command, then the exit codes.

    Options in ``common`` (every command takes them) are described once, above.
    """
    lines = ["Generated from the parser (`python docs/generate.py`); options every command "]
    lines[0] += "takes are described [above](#common-options)."
    for name, command in commands(parser):
        lines += ["", f"**civicflow {name}**: {_cell(command.description or '')}", ""]
        lines += ["| option | help |", "| --- | --- |"]
        for action in command._actions:
            if action.dest == "help" or set(action.option_strings) & common:
                continue
            lines.append(f"| {_option(action)} | {_cell(str(action.help or ''))} |")
        if name in EXAMPLES:
            lines += ["", f"Example: `civicflow {_cell(EXAMPLES[name])}`"]
    lines += ["", "**Exit codes**", "", "| code | meaning |", "| --- | --- |"]
    lines += [f"| {code} | {meaning} |" for code, meaning in EXIT_CODES.items()]
    return "\n".join(lines)


__all__ = ["EXIT_CODES", "markdown"]
