"""The ``civicflow`` command: a thin shell over the application, for offices and auditors.

Every command takes the store as ``--db URL`` (default ``sqlite:///civicflow.db``),
prints readable tables (``--lang en|zh``) or JSON (``--json``), and reports bad
input as one line on stderr with a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from civicflow.cli import (
    commands,
    completion,
    files,
    helptext,
    receipts,
    reports,
    serving,
    structure,
    verifying,
    webhooks,
    witnessing,
)
from civicflow.cli.argtext import speaking
from civicflow.cli.errortext import describe
from civicflow.cli.i18n import language, use
from civicflow.cli.options import common, default_lang
from civicflow.errors import CivicflowError


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run one command; returns the exit code (0 ok, 1 verification failed, 2 bad input)."""
    out = out or sys.stdout
    lang = said_lang(sys.argv[1:] if argv is None else argv)  # --help speaks it too
    use(lang)
    try:
        with speaking():
            args = build_parser(lang).parse_args(argv)
    except SystemExit as leaving:
        return int(leaving.code or 0)
    use(args.lang)
    try:
        return int(args.run(args, out) or 0)
    except CivicflowError as error:
        sys.stderr.write(f"civicflow: {describe(error)}\n")
        return 2
    except OSError as error:  # a file the command was given to read or write
        sys.stderr.write(f"civicflow: {error.strerror or error}: {error.filename or ''}\n")
        return 2


def said_lang(argv: Sequence[str]) -> str:
    """The language asked for (``--lang zh``, ``--lang=zh``), else the locale's, before parsing."""
    said = default_lang()
    for i, word in enumerate(argv):
        if word == "--":
            break
        if word == "--lang" and i + 1 < len(argv):
            said = argv[i + 1]
        elif word.startswith("--lang="):
            said = word.removeprefix("--lang=")
    return said


def build_parser(lang: str = "en") -> argparse.ArgumentParser:
    """The argument parser with every command (see ``docs/cli.md``), its help in ``lang``."""
    was = language()
    use(lang)
    try:
        with speaking():
            return _build()
    finally:
        use(was)


def _build() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="civicflow",
        description=(
            "Community deliberation (问议定办晒评) from the shell: Ask, Discuss, Decide, Do, "
            "Publish, Rate; community structure; views; audit."
        ),
    )
    parser.add_argument("--version", action=_Version, help="show program's version number and exit")
    common(parser, top=True)
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    commands.register(subparsers)
    structure.register(subparsers)
    reports.register(subparsers)
    files.register(subparsers)
    verifying.register(subparsers)
    receipts.register(subparsers)
    witnessing.register(subparsers)
    serving.register(subparsers)
    webhooks.register(subparsers)
    completion.register(subparsers, parser)
    helptext.finish(parser)
    return parser


class _Version(argparse.Action):
    """``--version``: the installed version, read from the package metadata only when asked.

    argparse's own ``version`` action needs the text when the parser is built, and
    reading the metadata costs more than the rest of building the parser.
    """

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        from importlib.metadata import version

        sys.stdout.write(f"civicflow {version('civicflow')}\n")
        parser.exit()


__all__ = ["build_parser", "main", "said_lang"]
