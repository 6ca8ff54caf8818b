"""The public feed of signed tree heads, kept outside the database.

Each head the log signs is handed to a ``FeedWriter``: any callable taking the
signed note's text. The embedding application may post it to a website, a notice
board's printer or a witness; ``append_to_file`` keeps a JSON Lines file, one head
a line, ``{"note": ..., "origin": ..., "size": ..., "root": ...}``, where only
``note`` counts and the rest is for a reader's convenience: ``read_feed`` wants
each line exactly as written for its note.

The file is only ever appended to and synced after each line: a head once
published is never rewritten. ``read_feed`` verifies every head and that sizes
never go down, and that a size seen twice has the same root; whether each head
extends the one before (a consistency proof) is the Merkle tree's business.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

from civicflow.audit.errors import FeedError, MalformedNoteError, SignatureError, because, reason_of
from civicflow.audit.notes import TreeHead, open_checkpoint, split_note
from civicflow.audit.signing import Verifier, b64encode


class FeedWriter(Protocol):
    """Where signed tree heads go: called once per head with the signed note's text."""

    def __call__(self, note: str, /) -> None: ...


def feed_line(note: str) -> str:
    """The JSON line of a signed note (its body read, its signatures not checked).

    Raises:
        MalformedNoteError: the note or its checkpoint body is malformed.
    """
    head = TreeHead.parse(split_note(note)[0])
    entry = {"note": note, "origin": head.origin, "size": head.size, "root": b64encode(head.root)}
    return json.dumps(entry, ensure_ascii=False) + "\n"


def append_to_file(path: str | Path) -> FeedWriter:
    """A writer appending each head to the JSON Lines file at ``path``, synced to disk.

    The writer raises ``MalformedNoteError`` for a note that is not a checkpoint,
    and ``FeedError`` (line 0) when the file cannot be appended to.
    """
    target = Path(path)

    def write(note: str) -> None:
        line = feed_line(note).encode("utf-8")
        created = not target.exists()
        try:
            descriptor = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(descriptor, line)  # one write of one line: never half a head between
                os.fsync(descriptor)
            finally:
                os.close(descriptor)
            if created:
                _sync_directory(target.parent)
        except OSError as error:
            raise FeedError(
                str(target),
                0,
                because("cannot be appended to ({problem})", problem=reason_of(error)),
            ) from None

    return write


def _sync_directory(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def read_feed(
    path: str | Path, log: Verifier, *, required_witnesses: Iterable[Verifier] = ()
) -> list[TreeHead]:
    """Every head in the feed at ``path``, oldest first, each verified.

    Raises:
        FeedError: a line is not JSON of a signed note, a head does not verify
            (signed by ``log`` and each required witness), a line is not exactly as
            written for its note, or sizes go down or fork (one size, two roots).
            It names the line (0: the file itself cannot be read).
    """
    witnesses = tuple(required_witnesses)
    return [head for head, _ in _entries(str(path), log, witnesses)]


def read_witnessed(
    path: str | Path, log: Verifier, witnesses: Iterable[Verifier]
) -> tuple[list[TreeHead], int]:
    """The heads of the feed co-signed by every witness, and how many others it holds.

    A feed holds every head the log published, witnessed or not (a co-signed head is
    appended after the log's own note of it), so a head without a witness's
    signature is left out, not refused; every head must still be the log's, and a
    witness signature that is there must verify.

    Raises:
        FeedError: as ``read_feed``, or a witness's signature does not verify.
    """
    required = tuple(witnesses)
    entries = _entries(str(path), log, ())
    counted: list[TreeHead] = []
    for number, (_, note) in enumerate(entries, 1):
        signed = {s.key for s in split_note(note)[1]}
        if not all(w.key in signed for w in required):
            continue
        try:
            counted.append(open_checkpoint(note, log, required_witnesses=required))
        except SignatureError as error:  # present but wrong: damage, not absence
            raise FeedError(str(path), number, reason_of(error)) from None
    return counted, len(entries) - len(counted)


def _entries(
    path: str, log: Verifier, witnesses: tuple[Verifier, ...]
) -> list[tuple[TreeHead, str]]:
    entries: list[tuple[TreeHead, str]] = []
    try:
        *lines, tail = Path(path).read_bytes().split(b"\n")
    except OSError as error:
        raise FeedError(
            path, 0, because("cannot be read ({problem})", problem=reason_of(error))
        ) from None
    lines = [line + b"\n" for line in lines] + ([tail] if tail else [])  # a torn last line
    for number, raw in enumerate(lines, 1):
        head, note = _head(path, number, raw, log, witnesses)
        _check_order(path, number, entries[-1][0] if entries else None, head)
        entries.append((head, note))
    return entries


def _head(
    path: str, number: int, raw: bytes, log: Verifier, witnesses: tuple[Verifier, ...]
) -> tuple[TreeHead, str]:
    try:
        entry = json.loads(raw) if raw.endswith(b"\n") else None
    except ValueError:
        entry = None
    if not isinstance(entry, dict) or not isinstance(entry.get("note"), str):
        raise FeedError(
            path, number, because('not a JSON line {{"note": ...}} ending in a newline')
        )
    try:
        head = open_checkpoint(entry["note"], log, required_witnesses=witnesses)
    except (MalformedNoteError, SignatureError) as error:
        raise FeedError(path, number, reason_of(error)) from None
    if raw != feed_line(entry["note"]).encode("utf-8"):
        raise FeedError(
            path, number, because("not the line written for its note (a field was changed)")
        )
    return head, entry["note"]


def _check_order(path: str, number: int, before: TreeHead | None, head: TreeHead) -> None:
    if before is None:
        return
    if head.size < before.size:
        raise FeedError(
            path,
            number,
            because(
                "the size went down from {before} to {size}", before=before.size, size=head.size
            ),
        )
    if head.size == before.size and head.root != before.root:
        raise FeedError(
            path, number, because("two different roots for size {size}: a fork", size=head.size)
        )
