"""Signed tree heads: C2SP signed notes and tlog checkpoints, signed with Ed25519.

A tree head says "the log named *origin* had *size* records, and this is the root
of their Merkle tree"; the log signs it and publishes it outside the database. The
formats are the ones the transparency-log world shares, so any Go tool
(``golang.org/x/mod/sumdb/note``, the transparency-dev witnesses) reads ours:

- the note (https://c2sp.org/signed-note): a text ending in a newline, a blank line,
  then one line per signature, ``— <key name> <base64(4-byte key id || signature)>``;
- its body (https://c2sp.org/tlog-checkpoint): ``<origin>\\n<size>\\n<base64 root>\\n``
  and optional extension lines, which civicflow never writes and refuses unless asked.

Reading is strict: a note must be exactly as a signer writes it (UTF-8 without
control characters, canonical base64, no repeated signature, no stray line), or it
is refused as a whole. Signatures by keys the reader does not know are ignored, as
the format requires; every key the reader requires must have signed, and every
known key's signature must verify.

**Witnesses** (the district's inspection office, say) co-sign a tree head by adding
their own Ed25519 note signature after checking the log's. C2SP tlog-cosignature/v1
(signature type 0x04) would also sign a timestamp, which proves *when* a witness saw
the head; it is not used because a witness here is an office that checks heads by
hand on a publication schedule, not a service whose freshness clients measure, and a
plain note signature is what every note reader already verifies.

The keys (``Signer``, ``Verifier``) and their Go key strings are in ``audit.signing``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from civicflow.audit.errors import (
    InvalidKeyError,
    MalformedNoteError,
    SignatureError,
    because,
    reason_of,
)
from civicflow.audit.signing import (
    DASH,
    Signer,
    Verifier,
    b64decode,
    b64encode,
    valid_name,
)
from civicflow.errors import InvalidInputError

MAX_SIGNATURES = 100  # as Go's reader: the format asks for a limit of at least 16
MAX_SIZE = 2**63 - 1
HASH_SIZE = 32  # a SHA-256 Merkle root
_SIZE = re.compile(r"0|[1-9][0-9]{0,18}")


@dataclass(frozen=True)
class Signature:
    """One signature line of a note: the key's name and id, and the signature."""

    name: str
    key_id: int
    signature: bytes = field(repr=False)

    @property
    def key(self) -> str:
        return f"{self.name}+{self.key_id:08x}"


@dataclass(frozen=True)
class Note:
    """A note read and checked: its text, all its signatures, the keys verified."""

    text: str
    signatures: tuple[Signature, ...]
    verified: frozenset[str]  # the ``name+key id`` of each known key whose signature verified


@dataclass(frozen=True)
class TreeHead:
    """What a log commits to: its origin, its size, the Merkle root of its records.

    ``root`` is the RFC 9162 (RFC 6962) root hash, 32 bytes; ``extensions`` are
    the tlog-checkpoint extension lines (civicflow writes none).
    """

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        problems = list(_problems(self))
        if problems:
            raise InvalidInputError("tree head", problems)

    def body(self) -> str:
        """The note text: origin, size, base64 root and extension lines, each ending in \\n."""
        lines = (self.origin, str(self.size), b64encode(self.root), *self.extensions)
        return "".join(f"{line}\n" for line in lines)

    @classmethod
    def parse(cls, text: str) -> TreeHead:
        """Read a checkpoint body, strictly.

        Raises:
            MalformedNoteError: fewer than three lines, a size that is not canonical
                decimal (``01``, ``+1``) or too large, a root that is not canonical base64
                of 32 bytes, an empty line.
        """
        if not text.endswith("\n"):
            raise MalformedNoteError(because("the checkpoint body does not end in a newline"))
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise MalformedNoteError(because("a checkpoint body has origin, size and root lines"))
        origin, size, root, *extensions = lines
        if not _SIZE.fullmatch(size) or int(size) > MAX_SIZE:
            raise MalformedNoteError(
                because("the size {size!r} is not a decimal from 0 to 2^63-1", size=size), 2
            )
        raw = b64decode(root)
        if raw is None or len(raw) != HASH_SIZE:
            raise MalformedNoteError(because("the root is not canonical base64 of 32 bytes"), 3)
        try:
            return cls(origin, int(size), raw, tuple(extensions))
        except InvalidInputError as error:
            raise MalformedNoteError(reason_of(error)) from None


def _problems(head: TreeHead) -> Iterator[tuple[str, str]]:
    if not _line(head.origin):
        yield "origin", "non-empty, without control characters"
    if not 0 <= head.size <= MAX_SIZE:
        yield "size", f"from 0 to {MAX_SIZE}"
    if len(head.root) != HASH_SIZE:
        yield "root", f"{HASH_SIZE} bytes"
    if not all(_line(line) for line in head.extensions):
        yield "extensions", "each a non-empty line without control characters"


def _line(text: str) -> bool:
    return bool(text) and all(ord(c) >= 0x20 for c in text)


def sign_note(text: str, signer: Signer) -> str:
    """A note of ``text`` (ending in a newline) signed by ``signer``.

    Raises:
        MalformedNoteError: ``text`` cannot be the text of a note.
    """
    note = f"{text}\n{signer.sign(text)}"
    split_note(note)  # what is signed must read back: a text ending in a newline, no controls
    return note


def sign_checkpoint(head: TreeHead, signer: Signer) -> str:
    """The signed note of ``head``; the log's key name should be its origin."""
    return sign_note(head.body(), signer)


def open_note(
    note: str | bytes, verifiers: Iterable[Verifier], *, required: Iterable[Verifier] | None = None
) -> Note:
    """Parse a signed note strictly and verify the signatures of every known key.

    Signatures of unknown keys are ignored. Without ``required``, at least one
    known key must have signed (the format's rule); with it, each required key must.

    Raises:
        MalformedNoteError: the note is not exactly in the signed-note format.
        SignatureError: a known key's signature does not verify, or a required key
            (or, without ``required``, every known key) has not signed.
        InvalidKeyError: two different verifiers share a name and key id.
    """
    needed = None if required is None else tuple(required)
    text, signatures = split_note(note)
    known = _by_key((*verifiers, *(needed or ())))
    for signature in signatures:
        verifier = known.get(signature.key)
        if verifier is not None and not verifier.verify(text, signature.signature):
            raise SignatureError(signature.key, "known", "invalid")
    verified = frozenset(s.key for s in signatures if s.key in known)
    if needed is None and not verified:
        raise SignatureError(" or ".join(known) or "(none given)", "known", "missing")
    for verifier in needed or ():
        if verifier.key not in verified:
            raise SignatureError(verifier.key, "required", "missing")
    return Note(text, signatures, verified)


def _by_key(verifiers: Iterable[Verifier]) -> dict[str, Verifier]:
    known: dict[str, Verifier] = {}
    for verifier in verifiers:
        if known.setdefault(verifier.key, verifier) != verifier:
            raise InvalidKeyError(
                "verifier", because("two different keys are named {key}", key=verifier.key)
            )
    return known


def split_note(note: str | bytes) -> tuple[str, tuple[Signature, ...]]:
    """A note's text and signatures, read strictly but not verified.

    Raises:
        MalformedNoteError: the note is not exactly in the signed-note format.
    """
    text = _decoded(note)
    bad = next((i for i, c in enumerate(text) if ord(c) < 0x20 and c != "\n"), None)
    if bad is not None:
        raise MalformedNoteError(because("a control character"), text.count("\n", 0, bad) + 1)
    split = text.rfind("\n\n")
    if split < 0 or not text.endswith("\n"):
        raise MalformedNoteError(
            because("no blank line before the signatures, or no final newline")
        )
    body, lines = text[: split + 1], text[split + 2 : -1].split("\n")
    first = body.count("\n") + 2
    if len(lines) > MAX_SIGNATURES:
        raise MalformedNoteError(because("more than {count} signatures", count=MAX_SIGNATURES))
    signatures = tuple(_signature(line, first + i) for i, line in enumerate(lines))
    keys = [s.key for s in signatures]
    if len(set(keys)) != len(keys):
        raise MalformedNoteError(because("two signatures by the same key"))
    return body, signatures


def _decoded(note: str | bytes) -> str:
    try:
        text = note.decode("utf-8") if isinstance(note, bytes) else note
        text.encode("utf-8")
    except UnicodeError:
        raise MalformedNoteError(because("the note is not valid UTF-8")) from None
    return text


def _signature(line: str, number: int) -> Signature:
    name, _, encoded = line.removeprefix(DASH).partition(" ")
    raw = b64decode(encoded)
    if not line.startswith(DASH) or not valid_name(name) or raw is None or len(raw) < 5:
        raise MalformedNoteError(because("not a signature line: '— <key name> <base64>'"), number)
    return Signature(name, int.from_bytes(raw[:4], "big"), raw[4:])


def open_checkpoint(
    note: str | bytes,
    log: Verifier,
    *,
    required_witnesses: Iterable[Verifier] = (),
    allow_extensions: bool = False,
) -> TreeHead:
    """The tree head of a checkpoint signed by ``log`` and co-signed by each witness.

    The origin must be the log's key name.

    Raises:
        MalformedNoteError: the note or its checkpoint body is malformed, it has
            extension lines and ``allow_extensions`` is false, or its origin is not
            the log's name.
        SignatureError: the log's signature or a required witness's is missing, or
            does not verify; it names the key.
    """
    keys = (log, *required_witnesses)
    try:
        text = open_note(note, keys, required=keys).text
    except SignatureError as error:
        role = "log" if error.key == log.key else "witness"
        raise SignatureError(error.key, role, error.problem) from None
    head = TreeHead.parse(text)
    if head.origin != log.name:
        raise MalformedNoteError(
            because(
                "the origin {origin!r} is not the log {log!r}", origin=head.origin, log=log.name
            ),
            1,
        )
    if head.extensions and not allow_extensions:
        raise MalformedNoteError(
            because("extension lines, which civicflow neither writes nor audits"), 4
        )
    return head


def cosign(note: str, witness: Signer, log: Verifier) -> str:
    """``note`` with the witness's signature added, once the log's signature is checked.

    Co-signing a note twice gives the same note (Ed25519 signatures are
    deterministic, and a note carries one signature per key).

    Raises:
        MalformedNoteError: the note or its checkpoint body is malformed.
        SignatureError: the log has not signed the note, or its signature is wrong.
    """
    open_checkpoint(note, log, allow_extensions=True)
    text, signatures = split_note(note)
    if witness.verifier.key in {s.key for s in signatures}:
        open_note(note, (witness.verifier,), required=(witness.verifier,))
        return note
    return note + witness.sign(text)
