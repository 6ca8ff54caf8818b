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
from typing import Any, cast
from uuid import UUID

import orjson
from eventsourcing.persistence import StoredEvent

from civicflow.audit.errors import MalformedNoteError, SignatureError
from civicflow.audit.merkle import MerkleTree
from civicflow.audit.notes import TreeHead, open_checkpoint, split_note
from civicflow.audit.signing import Verifier, b64decode, b64encode
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
        raise ImportRefusedError(
            last, f"the file ends at line {last} without its trailer: it was cut short"
        )

    def _version_1(self) -> Checked:
        if self.verifier is not None:
            raise ImportRefusedError(
                1,
                f"a {FORMAT_V1} export carries no proof (no trailer, no signed head), "
                f"so a verifier key cannot check it: export it again as {FORMAT}",
            )
        for number, line in enumerate(self.lines, 1):
            if line.strip():
                self._record(number, self._object(number, line))
        return self.checked

    # --- lines --------------------------------------------------------------------------

    def _object(self, number: int, line: str) -> dict[str, Any]:
        if not line.strip():
            raise ImportRefusedError(number, "a blank line, which an export never has")
        try:
            item = orjson.loads(line)
        except orjson.JSONDecodeError:
            last = number == len(self.lines)
            why = "not JSON: the file ends in the middle of it, cut short" if last else "not JSON"
            raise ImportRefusedError(number, why) from None
        if not isinstance(item, dict):
            raise ImportRefusedError(number, "not a JSON object")
        return item

    def _header(self, number: int, item: dict[str, Any]) -> None:
        _exact(number, item, HEADER_FIELDS, "the header")
        if item.get("format") != FORMAT:
            raise ImportRefusedError(
                number,
                f"the format {item.get('format')!r} is not one this civicflow reads "
                f"({FORMAT_V1}, {FORMAT})",
            )
        origin = item.get("origin")
        if origin is not None and not isinstance(origin, str):
            raise ImportRefusedError(number, "the origin is neither text nor null")
        self.checked.format, self.checked.origin = FORMAT, origin

    def _record(self, number: int, item: dict[str, Any]) -> None:
        # v1 files of early versions carried no ``aggregate``; v2 files always do.
        optional = frozenset({"aggregate"}) if self.checked.format == FORMAT_V1 else frozenset()
        _exact(number, item, RECORD_FIELDS, "a record", optional)
        position, aggregate_id, version, topic, state = _fields(number, item)
        named = item.get("aggregate", aggregate_name(topic))
        if named != aggregate_name(topic):
            raise ImportRefusedError(
                number, f"the record's aggregate {named!r} is not its topic's {topic!r}"
            )
        expected = len(self.checked.records) + 1
        if position != expected:
            raise ImportRefusedError(number, _misplaced(position, expected))
        chain = self.chains.get(aggregate_id)
        self._check_version(number, aggregate_id, version, chain)
        body = {k: v for k, v in state.items() if k != integrity.SEAL_FIELD}
        digest = integrity.digest(topic, aggregate_id, version, body)
        self._check_seal(number, digest, state.get(integrity.SEAL_FIELD))
        if chain is not None and body.get("previous_digest") != chain.digest:
            raise ImportRefusedError(
                chain.line,
                f"the record does not match the digest that line {number} (its next "
                f"version) links to: line {chain.line} or line {number} was altered",
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
            before = f" (the one before is at line {chain.line})" if chain else ""
            raise ImportRefusedError(
                number,
                f"version {version} of {aggregate_id} where version {expected} was "
                f"expected{before}: a record is missing, repeated or out of order",
            )

    def _check_seal(self, number: int, digest: str, mac: Any) -> None:
        if self.key is None:
            return
        if mac is None:
            raise ImportRefusedError(
                number, "the record has no seal, and this store has an audit key"
            )
        # compare_digest takes ASCII text only: any other seal is simply not the key's.
        valid = isinstance(mac, str) and mac.isascii()
        if not valid or not integrity.verifies(self.key, digest, mac):
            raise ImportRefusedError(
                number,
                "the record's seal does not match its content: it was altered, or sealed "
                "under another AUDIT_KEY than this store's",
            )

    # --- the trailer ----------------------------------------------------------------------

    def _trailer(self, number: int, item: dict[str, Any]) -> None:
        if number != len(self.lines):
            raise ImportRefusedError(number + 1, "a line after the trailer")
        _exact(number, item, TRAILER_FIELDS, "the trailer")
        count, root, checkpoint, heads = _trailer_fields(number, item)
        records = len(self.checked.records)
        if count != records:
            raise ImportRefusedError(
                number, f"the trailer counts {count} records, the file holds {records}"
            )
        if root != self.checked.tree.root():
            raise ImportRefusedError(
                number,
                "the trailer's root is not the Merkle root of the records: a record or "
                "the trailer was altered",
            )
        if checkpoint is None and self.verifier is not None:
            raise ImportRefusedError(
                number,
                "the trailer carries no signed checkpoint to check with the verifier key: "
                "export with a signing key",
            )
        if checkpoint is not None:
            self._check_head(number, checkpoint, "the trailer's checkpoint", exact=True)
        for head in heads:
            self._check_head(number, head, "a published head in the trailer", exact=False)

    def _check_head(self, number: int, note: str, what: str, *, exact: bool) -> None:
        try:
            head = read_head(note, self.verifier)
        except (MalformedNoteError, SignatureError) as error:
            raise ImportRefusedError(number, f"{what} does not hold: {error}") from None
        tree = self.checked.tree
        if exact and head.size != tree.size:
            raise ImportRefusedError(
                number, f"{what} is of {head.size} records, the file holds {tree.size}"
            )
        if head.size > tree.size or head.root != tree.root(head.size):
            raise ImportRefusedError(
                number,
                f"{what} (of {head.size} records) does not commit to the file's records: "
                "they were altered",
            )
        origin = self.checked.origin
        if origin is not None and head.origin != origin:
            raise ImportRefusedError(
                number, f"{what} is of the log {head.origin!r}, the header names {origin!r}"
            )


def _exact(
    number: int,
    item: dict[str, Any],
    fields: frozenset[str],
    what: str,
    optional: frozenset[str] = frozenset(),
) -> None:
    unknown, missing = set(item) - fields, fields - optional - set(item)
    if unknown or missing:
        names = ", ".join(sorted(unknown or missing))
        problem = f"unknown fields {names}" if unknown else f"no {names}"
        raise ImportRefusedError(number, f"not {what} of the export: {problem}")


def _fields(number: int, item: dict[str, Any]) -> tuple[int, UUID, int, str, dict[str, Any]]:
    position, version = item.get("position"), item.get("version")
    topic, state = item.get("topic"), item.get("state")
    try:
        aggregate_id: UUID | None = UUID(str(item["id"]))
    except (KeyError, ValueError):
        aggregate_id = None
    checks = (
        ("position", _count(position, 1)),
        ("id", aggregate_id is not None),
        ("version", _count(version, 1)),
        ("topic", isinstance(topic, str)),
        ("state", isinstance(state, dict)),
    )
    problem = next((name for name, good in checks if not good), None)
    if problem is not None or aggregate_id is None:
        raise ImportRefusedError(number, f"not a record: its {problem} is missing or malformed")
    return (
        cast(int, position),
        aggregate_id,
        cast(int, version),
        cast(str, topic),
        cast(dict[str, Any], state),
    )


def _trailer_fields(number: int, item: dict[str, Any]) -> tuple[int, bytes, str | None, list[str]]:
    count, root = item.get("count"), b64decode(str(item.get("root")))
    checkpoint, heads = item.get("checkpoint"), item.get("heads")
    if not _count(count, 0):
        raise ImportRefusedError(number, "the trailer's count is missing or malformed")
    if root is None or len(root) != 32:
        raise ImportRefusedError(number, "the trailer's root is not base64 of 32 bytes")
    if checkpoint is not None and not isinstance(checkpoint, str):
        raise ImportRefusedError(number, "the trailer's checkpoint is not a note")
    if not isinstance(heads, list) or not all(isinstance(h, str) for h in heads):
        raise ImportRefusedError(number, "the trailer's heads are not a list of notes")
    return int(str(count)), root, checkpoint, heads


def _count(value: Any, low: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= low


def _misplaced(position: int, expected: int) -> str:
    if position < expected:
        return (
            f"position {position} where position {expected} was expected: the line is "
            "repeated or out of order"
        )
    return (
        f"position {position} where position {expected} was expected: a line before it "
        "is missing or out of order"
    )
