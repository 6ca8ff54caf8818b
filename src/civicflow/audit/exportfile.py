"""The events export file, line by line: its header, its records, its trailer, and their checks.

Format ``civicflow-events/2`` (JSON Lines, one object a line):

- line 1, the header: ``{"format": "civicflow-events/2", "origin": <the log's name or null>}``;
- one line per record, in log order: ``position`` (1, 2, ...), ``aggregate``, ``id``,
  ``version``, ``topic``, ``state`` (the stored JSON object, seal included);
- the last line, the trailer: ``{"trailer": true, "count": n, "root": <base64>,
  "checkpoint": <signed note or null>, "heads": [<signed notes>]}``. ``root`` is the
  RFC 9162 Merkle root of the records' leaves (``transparency.record_leaf``), the
  root of the store's ``LogTree``; ``checkpoint`` is the exporter's signed tree head
  of exactly these records; ``heads`` are heads published earlier, each the root of
  a prefix of the records.

``check_export`` reads a whole file and checks it before anything is written: every
line parses, positions run 1..n, each aggregate's versions run 1, 2, 3..., each
record's seal (under the importing store's audit key) and chain link hold, the
trailer is there, counts the records and carries their root, and every head in it
commits to a prefix of them (signed by the log, when its verifier is given). The
first bad line is named in an ``ImportRefusedError``.

Format ``civicflow-events/1`` (no header, no trailer) is still read, with every
check but the trailer's: it carries no proof that nothing was cut from its end.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import StoredEvent

from civicflow.audit.errors import MalformedNoteError, SignatureError, because, reason_of
from civicflow.audit.exportlines import exact, misplaced, record_fields, trailer_fields
from civicflow.audit.merkle import MerkleTree
from civicflow.audit.notes import TreeHead, open_checkpoint, split_note
from civicflow.audit.signing import Verifier, b64encode
from civicflow.audit.transparency import record_leaf
from civicflow.domain import integrity
from civicflow.errors import ImportRefusedError

FORMAT_V1 = "civicflow-events/1"
FORMAT = "civicflow-events/2"
HEADER_FIELDS = frozenset({"format", "origin"})
RECORD_FIELDS = frozenset({"position", "aggregate", "id", "version", "topic", "state"})
TRAILER_FIELDS = frozenset({"trailer", "count", "root", "checkpoint", "heads"})


def aggregate_name(topic: str) -> str:
    """The aggregate a topic's event belongs to: ``Proposal`` for ``…:Proposal.Rated``."""
    return topic.rsplit(":", 1)[-1].split(".", 1)[0]


def header_line(origin: str | None) -> str:
    """The first line of a v2 export."""
    return orjson.dumps({"format": FORMAT, "origin": origin}).decode() + "\n"


def trailer_line(count: int, root: bytes, checkpoint: str | None, heads: Sequence[str] = ()) -> str:
    """The last line of a v2 export."""
    trailer = {
        "trailer": True,
        "count": count,
        "root": b64encode(root),
        "checkpoint": checkpoint,
        "heads": list(heads),
    }
    return orjson.dumps(trailer).decode() + "\n"


def file_format(first_line: str) -> str:
    """The format of an export, from its first line (v1 files have no header)."""
    try:
        item = orjson.loads(first_line)
    except orjson.JSONDecodeError:
        return FORMAT_V1
    if isinstance(item, dict) and isinstance(item.get("format"), str):
        return str(item["format"])
    return FORMAT_V1


def read_head(note: str, verifier: Verifier | None) -> TreeHead:
    """The tree head of a checkpoint note: verified by ``verifier``, or only parsed.

    Raises:
        MalformedNoteError: the note is not a checkpoint.
        SignatureError: the verifier's signature is missing or wrong.
    """
    if verifier is not None:
        return open_checkpoint(note, verifier)
    return TreeHead.parse(split_note(note)[0])


@dataclass
class Checked:
    """An export that passed every check: its records, ready to store."""

    format: str
    origin: str | None = None
    records: list[StoredEvent] = field(default_factory=list)
    tree: MerkleTree = field(default_factory=MerkleTree)


def check_export(
    lines: Iterable[str], *, key: bytes | None, verifier: Verifier | None = None
) -> Checked:
    """Read and check a whole export (see the module's notes); nothing is written.

    ``key`` is the importing store's audit key: with it, every record's seal must
    verify. With ``verifier``, the trailer's checkpoint must be signed by it.

    Raises:
        ImportRefusedError: the first line that is wrong, and what is wrong with it.
    """
    return _Reader(list(lines), key, verifier).read()


@dataclass
class _Chain:
    version: int
    digest: str
    line: int


class _Reader:
    def __init__(self, lines: list[str], key: bytes | None, verifier: Verifier | None) -> None:
        self.lines = lines
        self.key = key
        self.verifier = verifier
        self.chains: dict[UUID, _Chain] = {}
        self.checked = Checked(format=FORMAT_V1)

    def read(self) -> Checked:
        first = next((n for n, line in enumerate(self.lines, 1) if line.strip()), None)
        if first is None or file_format(self.lines[first - 1]) == FORMAT_V1:
            return self._version_1()
        self._header(1, self._object(1, self.lines[0]))  # a blank first line is refused
        for number in range(2, len(self.lines) + 1):
            item = self._object(number, self.lines[number - 1])
            if item.get("trailer") is True:
                self._trailer(number, item)
                return self.checked
            self._record(number, item)
        last = len(self.lines)
        why = because(
            "the file ends at line {last} without its trailer: it was cut short", last=last
        )
        raise ImportRefusedError(last, why)

    def _version_1(self) -> Checked:
        if self.verifier is not None:
            raise ImportRefusedError(
                1,
                because(
                    "a {old} export carries no proof (no trailer, no signed head), so a "
                    "verifier key cannot check it: export it again as {new}",
                    old=FORMAT_V1,
                    new=FORMAT,
                ),
            )
        for number, line in enumerate(self.lines, 1):
            if line.strip():
                self._record(number, self._object(number, line))
        return self.checked

    # --- lines --------------------------------------------------------------------------

    def _object(self, number: int, line: str) -> dict[str, Any]:
        if not line.strip():
            raise ImportRefusedError(number, because("a blank line, which an export never has"))
        try:
            item = orjson.loads(line)
        except orjson.JSONDecodeError:
            last = number == len(self.lines)
            cut = because("not JSON: the file ends in the middle of it, cut short")
            raise ImportRefusedError(number, cut if last else because("not JSON")) from None
        if not isinstance(item, dict):
            raise ImportRefusedError(number, because("not a JSON object"))
        return item

    def _header(self, number: int, item: dict[str, Any]) -> None:
        exact(number, item, HEADER_FIELDS, because("the header"))
        if item.get("format") != FORMAT:
            raise ImportRefusedError(
                number,
                because(
                    "the format {format!r} is not one this civicflow reads ({old}, {new})",
                    format=item.get("format"),
                    old=FORMAT_V1,
                    new=FORMAT,
                ),
            )
        origin = item.get("origin")
        if origin is not None and not isinstance(origin, str):
            raise ImportRefusedError(number, because("the origin is neither text nor null"))
        self.checked.format, self.checked.origin = FORMAT, origin

    def _record(self, number: int, item: dict[str, Any]) -> None:
        # v1 files of early versions carried no ``aggregate``; v2 files always do.
        optional = frozenset({"aggregate"}) if self.checked.format == FORMAT_V1 else frozenset()
        exact(number, item, RECORD_FIELDS, because("a record"), optional)
        position, aggregate_id, version, topic, state = record_fields(number, item)
        named = item.get("aggregate", aggregate_name(topic))
        if named != aggregate_name(topic):
            raise ImportRefusedError(
                number,
                because(
                    "the record's aggregate {named!r} is not its topic's {topic!r}",
                    named=named,
                    topic=topic,
                ),
            )
        expected = len(self.checked.records) + 1
        if position != expected:
            raise ImportRefusedError(number, misplaced(position, expected))
        chain = self.chains.get(aggregate_id)
        self._check_version(number, aggregate_id, version, chain)
        body = {k: v for k, v in state.items() if k != integrity.SEAL_FIELD}
        digest = integrity.digest(topic, aggregate_id, version, body)
        self._check_seal(number, digest, state.get(integrity.SEAL_FIELD))
        if chain is not None and body.get("previous_digest") != chain.digest:
            raise ImportRefusedError(
                chain.line,
                because(
                    "the record does not match the digest that line {next} (its next version) "
                    "links to: line {line} or line {next} was altered",
                    next=number,
                    line=chain.line,
                ),
            )
        self.chains[aggregate_id] = _Chain(version, digest, number)
        self.checked.tree.append(record_leaf(str(item["id"]), version, topic, state))
        self.checked.records.append(
            StoredEvent(
                originator_id=aggregate_id,
                originator_version=version,
                topic=topic,
                state=orjson.dumps(state),
            )
        )

    def _check_version(
        self, number: int, aggregate_id: UUID, version: int, chain: _Chain | None
    ) -> None:
        expected = chain.version + 1 if chain else 1
        if version != expected:
            before = (
                because(" (the one before is at line {line})", line=chain.line) if chain else ""
            )
            why = because(
                "version {version} of {id} where version {expected} was expected{before}: "
                "a record is missing, repeated or out of order",
                version=version,
                id=str(aggregate_id),
                expected=expected,
                before=before,
            )
            raise ImportRefusedError(number, why)

    def _check_seal(self, number: int, digest: str, mac: Any) -> None:
        if self.key is None:
            return
        if mac is None:
            raise ImportRefusedError(
                number, because("the record has no seal, and this store has an audit key")
            )
        # compare_digest takes ASCII text only: any other seal is simply not the key's.
        valid = isinstance(mac, str) and mac.isascii()
        if not valid or not integrity.verifies(self.key, digest, mac):
            raise ImportRefusedError(
                number,
                because(
                    "the record's seal does not match its content: it was altered, or "
                    "sealed under another AUDIT_KEY than this store's"
                ),
            )

    # --- the trailer ----------------------------------------------------------------------

    def _trailer(self, number: int, item: dict[str, Any]) -> None:
        if number != len(self.lines):
            raise ImportRefusedError(number + 1, because("a line after the trailer"))
        exact(number, item, TRAILER_FIELDS, because("the trailer"))
        count, root, checkpoint, heads = trailer_fields(number, item)
        records = len(self.checked.records)
        if count != records:
            raise ImportRefusedError(
                number,
                because(
                    "the trailer counts {count} records, the file holds {records}",
                    count=count,
                    records=records,
                ),
            )
        if root != self.checked.tree.root():
            raise ImportRefusedError(
                number,
                because(
                    "the trailer's root is not the Merkle root of the records: a record or "
                    "the trailer was altered"
                ),
            )
        if checkpoint is None and self.verifier is not None:
            raise ImportRefusedError(
                number,
                because(
                    "the trailer carries no signed checkpoint to check with the verifier "
                    "key: export with a signing key"
                ),
            )
        if checkpoint is not None:
            self._check_head(number, checkpoint, because("the trailer's checkpoint"), exact=True)
        for head in heads:
            self._check_head(number, head, because("a published head in the trailer"), exact=False)

    def _check_head(self, number: int, note: str, what: str, *, exact: bool) -> None:
        try:
            head = read_head(note, self.verifier)
        except (MalformedNoteError, SignatureError) as error:
            why = because("{what} does not hold: {error}", what=what, error=reason_of(error))
            raise ImportRefusedError(number, why) from None
        tree = self.checked.tree
        if exact and head.size != tree.size:
            raise ImportRefusedError(
                number,
                because(
                    "{what} is of {size} records, the file holds {records}",
                    what=what,
                    size=head.size,
                    records=tree.size,
                ),
            )
        if head.size > tree.size or head.root != tree.root(head.size):
            raise ImportRefusedError(
                number,
                because(
                    "{what} (of {size} records) does not commit to the file's records: "
                    "they were altered",
                    what=what,
                    size=head.size,
                ),
            )
        origin = self.checked.origin
        if origin is not None and head.origin != origin:
            raise ImportRefusedError(
                number,
                because(
                    "{what} is of the log {log!r}, the header names {origin!r}",
                    what=what,
                    log=head.origin,
                    origin=origin,
                ),
            )
