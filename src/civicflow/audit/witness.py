"""A witness that checks before it co-signs, as C2SP tlog-witness does.

A co-signature is worth something only if the witness refuses to sign a head
that contradicts one it signed before: otherwise a log could show residents one
history and the inspection office another (a fork), or restore an older copy of
its database (a rollback), and collect co-signatures for both. So a witness (the
district's inspection office, say) keeps, per log origin, the last head it
co-signed, and co-signs a new head only when:

- the log's key signed it (and, for a log it knows, the same key as before:
  the key is pinned the first time a head of that origin is co-signed);
- it is not smaller than the last head (a rollback);
- at the same size it has the same root (else a fork), and a larger head comes
  with a consistency proof (RFC 9162 §2.1.4) from the last head's size to it.

The first head of an origin is taken on trust (there is nothing to extend), as
in tlog-witness. A directory holds the witness: ``witness.key`` (its Ed25519 note
key, 0600), ``witness.pub`` (to publish: readers pass it as ``--witness-key``) and
``state.json``, the last head per origin. The state is written (atomically, synced)
before the co-signed note is returned, so the witness never hands out a signature
it has not recorded; concurrent co-signings are serialised with a lock file.
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from civicflow.audit.errors import (
    KeyFileError,
    MalformedNoteError,
    Reason,
    WitnessError,
    because,
    reason_of,
)
from civicflow.audit.keys import load_signer, write_signing_key, write_verifier_key
from civicflow.audit.merkle import verify_consistency
from civicflow.audit.notes import TreeHead, cosign, open_checkpoint
from civicflow.audit.signing import Signer, Verifier, b64decode, b64encode

KEY = "witness.key"
PUBLIC = "witness.pub"
STATE = "state.json"
LOCK = "state.lock"
STATE_FORMAT = "civicflow-witness/1"


@dataclass(frozen=True)
class Proof:
    """A consistency proof from ``old_size``, in tlog-witness's text form.

    The text is ``old <size>`` and then one base64 hash a line: what
    ``civicflow consistency`` prints and ``civicflow witness cosign --proof`` reads.
    """

    old_size: int
    hashes: tuple[bytes, ...]

    def to_text(self) -> str:
        return "".join(
            f"{line}\n" for line in (f"old {self.old_size}", *map(b64encode, self.hashes))
        )

    @classmethod
    def parse(cls, text: str) -> Proof:
        """Read a proof.

        Raises:
            MalformedNoteError: not ``old <size>`` then base64 hashes of 32 bytes.
        """
        first, *rest = text.strip("\n").split("\n") if text.strip() else [""]
        size = first.removeprefix("old ")
        if not first.startswith("old ") or not size.isdigit() or str(int(size)) != size:
            raise MalformedNoteError(because("a consistency proof starts with 'old <size>'"), 1)
        hashes = []
        for number, line in enumerate(rest, 2):
            raw = b64decode(line)
            if raw is None or len(raw) != 32:
                raise MalformedNoteError(because("not base64 of a 32-byte hash"), number)
            hashes.append(raw)
        return cls(int(size), tuple(hashes))


@dataclass(frozen=True)
class Seen:
    """The last head a witness co-signed for one origin, and the log key it came with."""

    head: TreeHead
    log_key: str


def init_witness(directory: str | Path, name: str) -> Verifier:
    """Make a new witness in ``directory``: its key (0600) and public key; returns the latter.

    Raises:
        KeyFileError: the directory holds a witness key already (nothing is overwritten).
        InvalidKeyError: ``name`` cannot name a key.
    """
    folder = Path(directory)
    for path in (folder / KEY, folder / PUBLIC):
        if path.exists():
            raise KeyFileError(
                str(path), because("already exists; key files are never overwritten")
            )
    signer = Signer.generate(name)
    folder.mkdir(parents=True, exist_ok=True)
    write_signing_key(folder / KEY, signer)
    write_verifier_key(folder / PUBLIC, signer.verifier)
    return signer.verifier


class Witness:
    """A witness kept in a directory (see the module's notes)."""

    def __init__(self, directory: str | Path) -> None:
        """Open the witness in ``directory``.

        Raises:
            KeyFileError: its key is missing or open to group or others.
            InvalidKeyError: its key file holds a malformed key.
        """
        self.directory = Path(directory)
        self.signer = load_signer(self.directory / KEY)

    @property
    def verifier(self) -> Verifier:
        return self.signer.verifier

    def last(self, origin: str) -> Seen | None:
        """The last head co-signed for ``origin`` (None: none yet).

        Raises:
            WitnessError: the state file is damaged.
        """
        return self._state().get(origin)

    def cosign(self, note: str, log: Verifier, proof: Proof | None = None) -> str:
        """``note`` co-signed, once it is the log's and extends the last head co-signed.

        ``proof`` leads from the last head's size to the note's; it may be left out
        for the first head of an origin, and for the same head again.

        Raises:
            MalformedNoteError, SignatureError: the note is not a head signed by ``log``.
            WitnessError: the head does not extend the last one co-signed (smaller, a
                different root at the same size, a proof that is missing, from another
                size, or does not verify), or comes with another key than before.
        """
        head = open_checkpoint(note, log)
        with self._locked():
            state = self._state()
            self._check(head, log, state.get(head.origin), proof)
            state[head.origin] = Seen(head, log.key_string())
            self._save(state)
        return cosign(note, self.signer, log)

    def _check(self, head: TreeHead, log: Verifier, seen: Seen | None, proof: Proof | None) -> None:
        def refuse(reason: Reason) -> NoReturn:
            raise WitnessError(reason, head.origin)

        if seen is None:
            return  # trust on first use: there is nothing yet to extend
        if seen.log_key != log.key_string():
            known = Verifier.from_key_string(seen.log_key).key
            refuse(
                because(
                    "it is signed by {key}, but the witness knows this log by {known}",
                    key=log.key,
                    known=known,
                )
            )
        last = seen.head
        if head.size < last.size:
            refuse(
                because(
                    "size {size} is below {last}, the last head co-signed: a rollback",
                    size=head.size,
                    last=last.size,
                )
            )
        if head.size == last.size:
            if head.root != last.root:
                refuse(
                    because("size {size} was co-signed with another root: a fork", size=head.size)
                )
            return
        if proof is None:
            refuse(because("a consistency proof from size {last} is needed", last=last.size))
        if proof.old_size != last.size:
            refuse(
                because(
                    "the proof is from size {old}, the last head co-signed is {last}",
                    old=proof.old_size,
                    last=last.size,
                )
            )
        if not verify_consistency(last.size, head.size, last.root, head.root, proof.hashes):
            refuse(
                because(
                    "the consistency proof does not show size {size} extending the last head "
                    "co-signed (size {last}): the log was rewritten, or forked",
                    size=head.size,
                    last=last.size,
                )
            )

    # --- the state file ---------------------------------------------------------------------

    @contextmanager
    def _locked(self) -> Iterator[None]:
        descriptor = os.open(self.directory / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)  # one co-signing at a time: no lost update
            yield
        finally:
            os.close(descriptor)

    def _state(self) -> dict[str, Seen]:
        path = self.directory / STATE
        try:
            data = json.loads(path.read_bytes())
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as error:
            raise WitnessError(
                because(
                    "its state file {path} cannot be read ({problem})",
                    path=str(path),
                    problem=_problem(error),
                )
            ) from None
        try:
            return {origin: _seen(origin, entry) for origin, entry in _logs(data).items()}
        except (KeyError, TypeError, ValueError) as error:  # InvalidInputError, InvalidKeyError too
            raise WitnessError(
                because(
                    "its state file {path} is damaged ({problem})",
                    path=str(path),
                    problem=reason_of(error),
                )
            ) from None

    def _save(self, state: dict[str, Seen]) -> None:
        logs = {
            origin: {"size": s.head.size, "root": b64encode(s.head.root), "log_key": s.log_key}
            for origin, s in sorted(state.items())
        }
        text = json.dumps({"format": STATE_FORMAT, "logs": logs}, indent=1) + "\n"
        _replace(self.directory / STATE, text)


def _problem(error: OSError | ValueError) -> str:
    """Why a state file cannot be read: the system's words, or that it is not JSON."""
    return reason_of(error) if isinstance(error, OSError) else because("not JSON")


def _logs(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict) or data.get("format") != STATE_FORMAT:
        raise ValueError(because("not a {format} file", format=STATE_FORMAT))
    logs = data["logs"]
    if not isinstance(logs, dict):
        raise TypeError(because("'logs' is not an object"))
    return logs


def _seen(origin: str, entry: dict[str, Any]) -> Seen:
    root = b64decode(entry["root"])
    if root is None or not isinstance(entry["size"], int):
        raise ValueError(because("a size or root is malformed"))
    Verifier.from_key_string(entry["log_key"])  # a damaged key string is damage, not a new key
    return Seen(TreeHead(origin, entry["size"], root), entry["log_key"])


def _replace(path: Path, text: str) -> None:
    # A new file synced, then renamed over the old one: a crash leaves one state or
    # the other, never half of one (which would make the witness forget a head).
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".state-")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


__all__ = ["Proof", "Seen", "Witness", "init_witness"]
