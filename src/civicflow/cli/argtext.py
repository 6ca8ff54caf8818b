"""argparse's own words (``usage:``, ``options:``, its errors) in the command's language.

argparse looks its words up with ``gettext.gettext`` of the default domain, under the
module-level names ``argparse._`` and ``argparse.ngettext``. ``speaking()`` lends argparse
the command's own lookup (``civicflow.cli.i18n``) while the parser is built and used, so
its words come from our catalog, where they are kept under argparse's exact message ids
(marked below so that ``python -m civicflow.cli.catalog`` extracts them). In English the
lookup gives the ids back, as argparse's own would.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager

from civicflow.cli import i18n
from civicflow.cli.i18n import N_

# The words of argparse (Python 3.11 to 3.13) a user of the command can meet.
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


__all__ = ["WORDS", "speaking"]
