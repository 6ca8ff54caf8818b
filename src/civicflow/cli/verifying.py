"""``civicflow verify``: seals, chains, checkpoints, snapshots, and the store against heads.

Exit codes: 0 when nothing is wrong and published heads prove the store; 1 when
something is wrong; 3 when nothing is wrong but nothing was published to prove it
against (no head given): the output says what such a result cannot prove.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from civicflow.cli.i18n import _, ngettext, number
from civicflow.cli.options import Sub, command, require, witness_keys
from civicflow.cli.output import show

if TYPE_CHECKING:
    from civicflow.audit.notes import TreeHead
    from civicflow.audit.signing import Verifier
    from civicflow.audit.verification import Problem, Verification

_DIGEST = re.compile(r"[0-9a-fA-F]{64}")  # a checkpoint's digest, as checkpoint prints it
UNPROVEN = 3  # clean, but nothing published to prove it against
PUBLIC_KEY = "signing.pub"  # as civicflow.audit.keys.generate_keys names it


def register(commands: Sub) -> None:
    """Add ``verify``."""
    p = command(
        commands,
        "verify",
        "check seals, chains, checkpoints, snapshots and published heads (exit 1 if bad)",
    )
    p.add_argument(
        "--published",
        action="append",
        default=[],
        metavar="N=DIGEST",
        help="a checkpoint number and the digest published for it; repeat",
    )
    p.add_argument("--log-key", type=Path, help="the log's public key (signing.pub)")
    p.add_argument("--feed", type=Path, help="the public feed of signed heads (JSON Lines)")
    p.add_argument(
        "--head", type=Path, action="append", default=[], help="a signed head (note file); repeat"
    )
    witness_keys(p)
    p.set_defaults(run=_verify)


def _verify(a: argparse.Namespace, out: TextIO) -> int:
    from civicflow.audit.keys import load_verifier
    from civicflow.cli.protection import open_flow

    published = {}
    for item in a.published:
        number, _sep, digest = item.partition("=")
        require(
            number.isdigit() and bool(digest),
            "published",
            _("{item!r} is not N=DIGEST").format(item=item),
        )
        require(
            _DIGEST.fullmatch(digest) is not None,
            "published",
            _(
                "{digest!r} is not a digest: `civicflow checkpoint` prints 64 hexadecimal digits"
            ).format(digest=digest),
        )
        published[int(number)] = digest.lower()
    _default_to_the_key_directory(a)
    require(
        a.log_key is not None or not (a.feed or a.head),
        "log-key",
        _("heads are checked with the log's public key: give --log-key"),
    )
    log_key = load_verifier(a.log_key) if a.log_key else None
    witnesses = tuple(load_verifier(path) for path in a.witness_key)
    heads: list[TreeHead | str] = []
    left_out = 0
    if a.feed and log_key:
        counted, left_out = _feed_heads(a.feed, log_key, witnesses)
        heads += counted
    heads += [path.read_text(encoding="utf-8") for path in a.head]
    flow, _keys = open_flow(a, create=False)  # with the seal key of the store's key directory
    from civicflow.cli.terminal import bar

    with flow, bar(_("verifying"), wanted=not a.json) as progress:
        report = flow.verify(
            published, heads=heads, log_key=log_key, witnesses=witnesses, progress=progress
        )
    if a.json:
        show(report, a, out)
    else:
        _write(report, out)
        if left_out:
            lacking = ngettext(
                "{n} head of the feed lacks a --witness-key's co-signature: not counted",
                "{n} heads of the feed lack a --witness-key's co-signature: not counted",
                left_out,
            )
            out.write(f"  {lacking.format(n=left_out)}\n")
    if not report.ok:
        return 1
    return 0 if report.heads else UNPROVEN


def _feed_heads(
    feed: Path, log_key: Verifier, witnesses: tuple[Verifier, ...]
) -> tuple[list[TreeHead], int]:
    """The feed's heads that count, and how many were left out.

    Every head must be the log's. With witnesses, only the heads each of them
    co-signed count: a feed holds the log's own note of every head, and a witness's
    co-signed note of some, appended after it.
    """
    from civicflow.audit.feed import read_feed, read_witnessed

    if not witnesses:
        return read_feed(feed, log_key), 0
    return read_witnessed(feed, log_key, witnesses)


def _default_to_the_key_directory(a: argparse.Namespace) -> None:
    """Without ``--log-key``, the store's own key directory's public key and feed, if there.

    They are public material: a copy of them anyone holds proves as much.
    """
    from civicflow.cli.protection import FEED, key_directory

    folder = key_directory(a.db, getattr(a, "keys", None))
    if a.log_key is not None or folder is None or not (folder / PUBLIC_KEY).exists():
        return
    a.log_key = folder / PUBLIC_KEY
    if a.feed is None and (folder / FEED).exists():
        a.feed = folder / FEED


def _write(report: Verification, out: TextIO) -> None:
    verdict = "PROBLEMS FOUND" if not report.ok else ("OK" if report.heads else "UNPROVEN")
    counts = [
        ngettext("{n} record", "{n} records", report.events),
        ngettext("{n} checkpoint", "{n} checkpoints", report.checkpoints),
        ngettext("{n} published head", "{n} published heads", report.heads),
    ]
    numbers = (report.events, report.checkpoints, report.heads)
    said = [text.format(n=number(n)) for text, n in zip(counts, numbers, strict=True)]
    keyed = _("keyed") if report.keyed else _("NOT keyed (set AUDIT_KEY)")
    out.write(f"{verdict}: {', '.join([*said, keyed])}\n")  # the verdict stays a code
    if report.ok:
        out.write(f"  {report.assurance}\n")
    for problem in report.problems:  # whole lines: ids and details are meant to be copied
        out.write(f"  {problem.kind}: {_where(problem)}: {problem.detail}\n")


def _where(problem: Problem) -> str:
    parts = (problem.aggregate, problem.aggregate_id, problem.version, problem.position)
    return " ".join(str(x) for x in parts if x is not None)
