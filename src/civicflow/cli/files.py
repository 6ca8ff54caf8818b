"""Files: the events export (signed with the log's key) and its checked import, views as CSV."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from civicflow.cli.i18n import _, ngettext
from civicflow.cli.options import LEVELS, Sub, choices, command, output_path, require
from civicflow.cli.output import reading, say_protection, show
from civicflow.domain.kinds import AreaKind
from civicflow.errors import InvalidInputError

if TYPE_CHECKING:
    from civicflow.application.flow import CivicFlow
    from civicflow.audit.signing import Signer

VIEWS = ("satisfaction", "participation", "pipeline")  # the views a CSV can show
# civicflow.audit.keys.SIGNING_KEY_VARIABLE, spelled here so that --help loads no key code
# (tests/test_startup.py checks that the two agree).
SIGNING_KEY_VARIABLE = "CIVICFLOW_SIGNING_KEY"


def register(commands: Sub) -> None:
    """Add ``export`` and ``import``."""
    p = command(commands, "export", "events as JSON Lines, a view as CSV, or the open data package")
    p.add_argument("--out", type=output_path)
    p.add_argument("--view", choices=VIEWS)
    p.add_argument("--level", choices=choices(LEVELS), default=AreaKind.COMMUNITY.value)
    p.add_argument(
        "--quarter",
        action="append",
        default=[],
        help="only this quarter, like 2026Q3 (a view: one; open data: repeat for several)",
    )
    p.add_argument(
        "--open-data",
        type=Path,
        metavar="DIR",
        help="write the open data package (docs/opendata.md) into this new or empty folder",
    )
    p.add_argument("--overwrite", action="store_true", help="with --open-data: replace DIR")
    p.add_argument("--k", type=int, default=5, help="hide figures from fewer residents")
    p.add_argument(
        "--signing-key",
        type=Path,
        help=f"sign the export's checkpoint with this key file (default: ${SIGNING_KEY_VARIABLE})",
    )
    p.add_argument(
        "--feed",
        type=Path,
        help="carry the heads published in this feed (checked with the signing key's public half)",
    )
    p.set_defaults(run=reading(_export))

    p = command(commands, "import", "check an events export, then load it into an empty store")
    p.add_argument("file", type=Path)
    p.add_argument(
        "--verifier-key", type=Path, help="the log's public key: the export must be signed by it"
    )
    p.set_defaults(run=_import)


def _signer(a: argparse.Namespace) -> Signer | None:
    from civicflow.audit.keys import load_signer

    if a.signing_key is not None:
        return load_signer(a.signing_key)
    return load_signer() if os.environ.get(SIGNING_KEY_VARIABLE, "").strip() else None


def _published(feed: Path, signer: Signer) -> list[str]:
    from civicflow.audit.feed import read_feed

    read_feed(feed, signer.verifier)  # every head signed by the log, in order
    lines = feed.read_text(encoding="utf-8").splitlines()
    return [str(json.loads(line)["note"]) for line in lines]


def _export(flow: CivicFlow, a: argparse.Namespace) -> str:
    from civicflow.audit.export import write_csv
    from civicflow.views import Views

    if a.open_data is not None:
        return _open_data(flow, a)
    require(a.out is not None, "out", _("--out FILE is required (or --open-data DIR)"))
    require(not a.overwrite, "overwrite", _("--overwrite replaces an --open-data folder"))
    require(
        a.view is not None or not a.quarter,
        "quarter",
        _("--quarter picks the quarters of a view or of --open-data: use it with --view"),
    )
    require(len(a.quarter) <= 1, "quarter", _("a view is written for one --quarter"))
    require(
        a.view is None or a.signing_key is None,
        "signing-key",
        _("--signing-key signs the events export, not a view"),
    )
    signer = _signer(a) if a.view is None else None
    require(a.feed is None or signer is not None, "feed", _("--feed needs the log's signing key"))
    heads = _published(a.feed, signer) if a.feed is not None and signer is not None else []
    with a.out.open("w", encoding="utf-8", newline="") as out:
        if a.view is None:
            from civicflow.cli.terminal import bar

            with bar(_("exporting"), wanted=not getattr(a, "json", False)) as progress:
                count = flow.export_events(out, signer=signer, heads=heads, progress=progress)
            written = ngettext(
                "{n} event written to {file}", "{n} events written to {file}", count
            ).format(n=count, file=a.out)
            return written + (_(", signed by {name}").format(name=signer.name) if signer else "")
        with Views(flow, k=a.k) as views:
            views.catch_up()
            rows: Any = (
                views.pipeline(level=a.level)
                if a.view == "pipeline"
                else getattr(views, a.view)(level=a.level, quarter=next(iter(a.quarter), None))
            )
            count = write_csv(rows, out)
            return ngettext(
                "{n} row written to {file}", "{n} rows written to {file}", count
            ).format(n=count, file=a.out)


def _open_data(flow: CivicFlow, a: argparse.Namespace) -> str:
    from civicflow.opendata import export_open_data

    others = [name for name in ("out", "view", "signing_key", "feed") if getattr(a, name)]
    require(
        not others,
        "open-data",
        _("--open-data writes the package alone, not with --{option}").format(
            option=others[0].replace("_", "-")
        )
        if others
        else "",
    )
    done = export_open_data(
        flow, a.open_data, quarters=tuple(a.quarter), k=a.k, overwrite=a.overwrite
    )
    tables = ", ".join(f"{name} {rows}" for name, rows in done.rows.items())
    return f"open data written to {done.directory} at log position {done.position}: {tables}"


def _import(a: argparse.Namespace, out: TextIO) -> int:
    from civicflow.audit.exportfile import FORMAT_V1, file_format
    from civicflow.audit.keys import load_verifier
    from civicflow.cli.protection import import_with_keys

    verifier = load_verifier(a.verifier_key) if a.verifier_key is not None else None
    try:
        lines = a.file.read_text(encoding="utf-8").splitlines(keepends=True)
    except UnicodeDecodeError as error:
        problem = [(str(a.file), _("not UTF-8 text (byte {offset})").format(offset=error.start))]
        raise InvalidInputError("events export", problem) from None
    # A store the import makes is removed again if the import fails; if it succeeds, the
    # store gets keys as any new store does, and its first head is published.
    from civicflow.cli.terminal import bar

    with bar(_("importing"), wanted=not getattr(a, "json", False)) as progress:
        count, protection, head = import_with_keys(a, lines, verifier, progress)
    first = next((line for line in lines if line.strip()), "")
    said = ngettext("{n} event imported", "{n} events imported", count).format(n=count)
    if file_format(first) == FORMAT_V1:
        said += " " + _("({format}: the file carries no proof, no trailer)").format(
            format=FORMAT_V1
        )
    elif verifier is not None:
        said += _(", signed by {name}").format(name=verifier.name)
    show(said, a, out)
    if protection is not None:
        say_protection(protection, a, out, head)
    return 0
