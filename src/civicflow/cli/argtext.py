"""argparse's own words (``usage:``, ``options:``, its errors) in the command's language.

argparse looks its words up with ``gettext.gettext`` of the default domain, under the
module-level names ``argparse._`` and ``argparse.ngettext``. ``speaking()`` lends argparse
the command's own lookup (``civicflow.cli.i18n``) while the parser is built and used, so
its words come from our catalog, where they are kept under argparse's exact message ids
(marked below so that ``python -m civicflow.cli.catalog`` extracts them). In English the
lookup gives the ids back, as argparse's own would.

argparse measures text with ``len()``; a Chinese character takes two columns of a
terminal. ``Wide`` (and ``WideRaw``, for a help with examples) measures columns instead:
the help column lines up after a Chinese placeholder, and Chinese help wraps at the
width, between characters where there are no spaces.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator
from contextlib import contextmanager

from civicflow.cli import i18n
from civicflow.cli.i18n import N_, width

# The words of argparse (Python 3.11 to 3.13) a user of the command can meet
# (tests/test_cli_lang_help.py checks them against the running Python's argparse).
WORDS = (
    N_("usage: "),
    N_("positional arguments"),
    N_("options"),
    N_("commands"),
    N_("show this help message and exit"),
    N_("%(prog)s: error: %(message)s\n"),
    N_("argument %(argument_name)s: %(message)s"),
    N_("the following arguments are required: %s"),
    N_("unrecognized arguments: %s"),
    N_("invalid choice: %(value)r (choose from %(choices)s)"),
    N_("invalid %(type)s value: %(value)r"),
    N_("expected one argument"),
    N_("expected at most one argument"),
    N_("expected at least one argument"),
    N_("ambiguous option: %(option)s could match %(matches)s"),
    N_("not allowed with argument %s"),
    N_("ignored explicit argument %r"),
    N_("one of the arguments %s is required"),
    N_("unknown parser %(parser_name)r (choices: %(choices)s)"),
    N_("can't open '%(filename)s': %(error)s"),
    # New in Python 3.13: headings, a group's default title, warnings, deprecations.
    N_("%(heading)s:"),
    N_("subcommands"),
    N_(" (default: %(default)s)"),
    N_("%(prog)s: warning: %(message)s\n"),
    N_("option '%(option)s' is deprecated"),
    N_("argument '%(argument_name)s' is deprecated"),
    N_("command '%(parser_name)s' is deprecated"),
)


def _plural(singular: str, plural: str, n: int) -> str:
    return i18n.ngettext(singular, plural, n)


def _marks() -> None:  # never called: marks argparse's plural message for the catalog
    i18n.ngettext("expected %s argument", "expected %s arguments", 2)


@contextmanager
def speaking() -> Iterator[None]:
    """argparse's words in the command's language while the block runs."""
    saved = argparse.__dict__["_"], argparse.__dict__["ngettext"]
    setattr(argparse, "_", i18n._)  # noqa: B010 - argparse's private name, restored below
    setattr(argparse, "ngettext", _plural)  # noqa: B010
    try:
        yield
    finally:
        setattr(argparse, "_", saved[0])  # noqa: B010
        setattr(argparse, "ngettext", saved[1])  # noqa: B010


# What a line may not be broken in: a word of Latin letters or one wide character, with
# an opening bracket before it and closing punctuation after it; or spaces.
_TOKEN = re.compile(
    r"[（“《「]?(?:[^\s\u2e80-\uffef]+|[\u2e80-\uffef])[，。、；：！？）》」”…]*|\s+"
)


class Wide(argparse.HelpFormatter):
    """argparse's help measured in terminal columns."""

    def add_argument(self, action: argparse.Action) -> None:
        super().add_argument(action)
        if action.help is not argparse.SUPPRESS:  # the help column, after the widest option
            wide = width(self._format_action_invocation(action)) + self._current_indent
            self._action_max_length = max(self._action_max_length, wide)

    def _format_action(self, action: argparse.Action) -> str:
        text = super()._format_action(action)
        header = self._format_action_invocation(action)
        extra = width(header) - len(header)  # spaces argparse padded too many
        first, newline, rest = text.partition("\n")
        at = first.find(header) + len(header)
        if not extra or at == len(first):
            return text
        if first[at : at + extra + 2] == " " * (extra + 2):
            first = first[:at] + first[at + extra :]
        else:  # too wide to share its line: the help goes below it, as argparse does
            column = min(self._action_max_length + 2, self._max_help_position)
            first = first[:at] + "\n" + " " * column + first[at:].lstrip()
        return first + newline + rest

    def _split_lines(self, text: str, size: int) -> list[str]:
        lines, line = [], ""
        for token in _TOKEN.findall(" ".join(text.split())):
            if line and width(line + token.rstrip()) > size:
                lines.append(line.rstrip())
                line = token.lstrip()
            else:
                line += token
        return [*lines, line.rstrip()] if line.strip() else lines


class WideRaw(argparse.RawDescriptionHelpFormatter, Wide):
    """``Wide``, the description and examples kept as written."""


__all__ = ["WORDS", "Wide", "WideRaw", "speaking"]
