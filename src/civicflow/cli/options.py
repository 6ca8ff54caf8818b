"""What every command shares on the way in: common options, choices, moments, days, paths.

Imports no other ``civicflow.cli`` module but ``i18n`` (which imports none), so that every
command module can use it. Its messages are in the command's language: ``main`` sets the
language before the parser reads a value.
"""

from __future__ import annotations

import argparse
import locale
import os
from collections.abc import Iterable
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from civicflow.cli.i18n import _
from civicflow.domain.kinds import AreaKind
from civicflow.errors import InvalidInputError

DEFAULT_DB = "sqlite:///civicflow.db"
Sub = Any  # argparse's private _SubParsersAction
LEVELS = tuple(reversed(AreaKind))  # the views' levels, from the narrowest area up


def choices(members: Iterable[StrEnum]) -> tuple[str, ...]:
    """The values a user may type for an enum (or some of its members, in order)."""
    return tuple(member.value for member in members)


def common(parser: argparse.ArgumentParser, *, top: bool = False) -> None:
    """The options every command takes, before or after the command's name.

    The top-level parser holds the defaults; a command's parser suppresses its own
    defaults, so that ``civicflow --db X show ID`` and ``civicflow show ID --db X``
    both work (argparse would otherwise let the command's default win).
    """
    unset: dict[str, Any] = {} if top else {"default": argparse.SUPPRESS}
    parser.add_argument(
        "--db",
        **({"default": os.environ.get("CIVICFLOW_DB", DEFAULT_DB)} if top else unset),
        help="store URL: sqlite:///path.db, postgresql://user@host:port/db, memory:// "
        "(default: CIVICFLOW_DB, else sqlite:///civicflow.db)",
    )
    parser.add_argument(
        "--keys",
        **({"default": None} if top else unset),
        metavar="DIR",
        help="the store's key directory (default: CIVICFLOW_KEYS, else PATH.db.keys beside a "
        "SQLite file); a new store gets its signing and seal keys there",
    )
    parser.add_argument(
        "--city",
        **({"default": None} if top else unset),
        metavar="TOML",
        help="a city registry instead of --db: the command goes to the district store that "
        "holds what it names (docs/federation.md)",
    )
    parser.add_argument(
        "--district",
        **({"default": None} if top else unset),
        metavar="NAME",
        help="with --city: the district whose store to use, for commands that name no "
        "proposal, area or resident",
    )
    parser.add_argument("--json", action="store_true", help="print JSON for scripts", **unset)
    parser.add_argument(
        "--lang",
        choices=("en", "zh"),
        **({"default": default_lang()} if top else unset),
        help="labels in English or Chinese (default from the locale)",
    )


def default_lang() -> str:
    """Chinese when the locale says so, English otherwise."""
    name = os.environ.get("LC_ALL") or os.environ.get("LANG") or (locale.getlocale()[0] or "")
    return "zh" if name.lower().startswith("zh") else "en"


def command(
    commands: Sub, name: str, help_text: str, *, leaf: bool = True
) -> argparse.ArgumentParser:
    """Add the command ``name``; a leaf gets the common options, a group gives them its actions."""
    parser: argparse.ArgumentParser = commands.add_parser(
        name, help=help_text, description=help_text
    )
    parser.set_defaults(command=name)
    if leaf:  # a group's options go on its actions, where argparse keeps them
        common(parser)
    return parser


def actions(group: argparse.ArgumentParser) -> Sub:
    """The actions of a grouped command (``area add``, ``area list``...)."""
    return group.add_subparsers(dest="action", required=True)


def finish(actions: Sub) -> None:
    """Give each action of a group the common options."""
    for sub in actions.choices.values():
        common(sub)


def when(parser: argparse.ArgumentParser, actor: bool = True) -> None:
    """``--at``, and ``--actor`` unless the resident is the actor."""
    parser.add_argument(
        "--at", type=moment, help="when it happened (ISO 8601 with zone); default now"
    )
    if actor:
        parser.add_argument("--actor", required=True, help="who did it (an opaque id)")


def moment(text: str) -> datetime:
    """An ISO 8601 moment with a time zone, for ``--at`` and ``--as-of``."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        said = _("{text!r} is not an ISO 8601 date-time").format(text=text)
        raise argparse.ArgumentTypeError(said) from None
    if value.tzinfo is None:
        said = _("{text!r} needs a time zone, e.g. {example}")
        raise argparse.ArgumentTypeError(said.format(text=text, example=_zoned(text)))
    return value


def _zoned(text: str) -> str:
    """What ``text`` (a moment without a zone) reads as with one, as an example to copy.

    A day alone (``2026-12-02``, or ``2026-12-02+08:00``, which Python reads as 08:00
    without a zone) becomes its midnight; a date and time gets the zone appended.
    """
    day = text[:10]
    if len(text) == 10 or (len(text) > 10 and text[10] in "+-Z"):
        return f"{day}T00:00:00+08:00"
    return f"{text}+08:00"


def day(text: str) -> date:
    """A day like 2026-09-30, for ``--deadline``."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        said = _("{text!r} is not a date like {example}").format(text=text, example="2026-09-30")
        raise argparse.ArgumentTypeError(said) from None


def output_path(text: str) -> Path:
    """A file to write, in a folder that exists."""
    path = Path(text)
    if path.parent and not path.parent.exists():
        said = _("folder {folder} does not exist").format(folder=path.parent)
        raise argparse.ArgumentTypeError(said)
    return path


def witness_keys(parser: argparse.ArgumentParser) -> None:
    """``--witness-key PATH``, repeatable: witnesses whose co-signature a head must carry."""
    parser.add_argument(
        "--witness-key",
        type=Path,
        action="append",
        default=[],
        help="a witness whose co-signature every head must carry; repeat",
    )


def require(condition: bool, what: str, message: str) -> None:
    """Refuse bad combinations of options with the usual typed error.

    ``message`` is in the command's language already (``_()`` at the call).
    """
    if not condition:
        raise InvalidInputError(what, [(what, message)])


__all__ = [
    "DEFAULT_DB",
    "LEVELS",
    "actions",
    "choices",
    "command",
    "common",
    "day",
    "default_lang",
    "finish",
    "moment",
    "output_path",
    "require",
    "when",
]
