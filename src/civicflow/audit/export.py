"""Exports that outlive the software: events as JSON Lines, views as CSV, schemas as JSON.

The events export carries each record exactly as stored (its JSON state and
seal), so importing it into an empty store reproduces the same views and the
same verification result under the same audit key. The file is a header line,
one line per record, and a trailer with the count, the Merkle root and (with a
signer) a signed checkpoint of the records (``audit.exportfile`` has the
format). A record line:

``{"position": 17, "aggregate": "Proposal", "id": "…", "version": 3,
"topic": "civicflow.proposal:Proposal.Discussed", "state": {…}}``

``position`` is the record's place in the exported log (1, 2, …), not a
database id, so stores with different id sequences export the same file.
An import checks the whole file first (``exportfile.check_export``) and writes
all of it in one transaction, or nothing.
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any
from uuid import UUID

import orjson
from eventsourcing.persistence import IntegrityError, StoredEvent
from pydantic import BaseModel

from civicflow.audit.errors import MalformedNoteError, SignatureError, because, reason_of
from civicflow.audit.exportfile import (
    aggregate_name,
    check_export,
    header_line,
    read_head,
    trailer_line,
)
from civicflow.audit.ledger import Ledger
from civicflow.audit.merkle import MerkleTree
from civicflow.audit.notes import TreeHead, sign_checkpoint
from civicflow.audit.signing import Signer, Verifier
from civicflow.audit.transparency import record_leaf
from civicflow.domain.community.directory import Directory
from civicflow.domain.community.residents import Resident
from civicflow.domain.proposal import Proposal
from civicflow.errors import InvalidInputError, RuleViolationError
from civicflow.storage import rawlog
from civicflow.storage.bulk import insert_all
from civicflow.storage.mapper import PydanticMapper

AGGREGATES: tuple[type[Any], ...] = (Proposal, Directory, Resident, Ledger)


def export_events(
    mapper: PydanticMapper,
    recorder: Any,
    out: IO[str],
    *,
    signer: Signer | None = None,
    heads: Iterable[str] = (),
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Write the log to ``out`` as a v2 events export; returns how many records.

    With ``signer``, the trailer carries a checkpoint of the records signed by it
    (the header names its origin). ``heads`` (published checkpoint notes) go in
    the trailer; each must commit to a prefix of the log. ``progress(done, total)``,
    if given, is called after each page: the last position written, of the log's last.

    Raises:
        InvalidInputError: a head is not a checkpoint of this log (the file then
            ends without its trailer, and no import accepts it).
    """
    notes = tuple(heads)
    out.write(header_line(signer.name if signer else None))
    tree = MerkleTree()
    top = (recorder.max_notification_id() or 0) if progress is not None else 0
    for page in rawlog.rows(recorder):
        for _, record_id, version, topic, stored in page:
            state = orjson.loads(mapper.unpack(stored))
            tree.append(record_leaf(record_id, version, topic, state))
            line = {
                "position": tree.size,
                "aggregate": aggregate_name(topic),
                "id": record_id,
                "version": version,
                "topic": topic,
                "state": state,
            }
            out.write(orjson.dumps(line).decode() + "\n")
        if progress is not None:
            progress(page[-1][0], max(top, page[-1][0]))
    for head in notes:
        _check_head(head, tree, signer.verifier if signer else None)
    checkpoint = None
    if signer is not None:
        checkpoint = sign_checkpoint(TreeHead(signer.name, tree.size, tree.root()), signer)
    out.write(trailer_line(tree.size, tree.root(), checkpoint, notes))
    return tree.size


def _check_head(note: str, tree: MerkleTree, verifier: Verifier | None) -> None:
    try:
        head = read_head(note, verifier)
    except (MalformedNoteError, SignatureError) as error:
        raise InvalidInputError("published head", [("head", reason_of(error))]) from None
    if head.size > tree.size or head.root != tree.root(head.size):
        why = because("the head of {size} records is not a checkpoint of this log", size=head.size)
        problem = ("head", why)
        raise InvalidInputError("published head", [problem])


def import_events(
    mapper: PydanticMapper,
    recorder: Any,
    lines: Iterable[str],
    *,
    verifier: Verifier | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Check an events export whole, then load it into an empty store; returns how many.

    ``progress(done, total)``, if given, is called once the file is checked (0 of all)
    and after each statement writing the records.

    Raises:
        RuleViolationError: the store is not empty.
        ImportRefusedError: a check failed (it names the first bad line); nothing
            was written.
        InvalidInputError: the database refused the records; none were imported.
    """
    if recorder.max_notification_id():
        raise RuleViolationError(
            None, "import", because("events are imported into an empty store only")
        )
    # Every line is read and checked first, and all are written in one transaction:
    # a bad line late in a file must not leave a half-imported (and so non-empty) store.
    checked = check_export(lines, key=mapper.audit_key, verifier=verifier)
    records = [_sealed_again(mapper, stored) for stored in checked.records]
    try:
        insert_all(recorder, records, progress=_told(progress, len(records)))  # one transaction
    except IntegrityError as error:
        problem = ("", f"the database refused the records, none were imported: {error}")
        raise InvalidInputError("events export", [problem]) from None
    return len(records)


def _told(progress: Callable[[int, int], None] | None, total: int) -> Callable[[int], None] | None:
    """``progress`` of ``total`` records written, told at once that none are yet."""
    if progress is None:
        return None
    progress(0, total)
    return lambda done: progress(done, total)


def copy_log(
    source: tuple[PydanticMapper, Any],
    target: tuple[PydanticMapper, Any],
    *,
    after: int | None = None,
    up_to: int | None = None,
) -> int:
    """Copy a store's records into another, streamed, in one transaction.

    ``source`` and ``target`` are each (mapper, recorder); the records copied are
    those at positions after ``after`` and up to ``up_to`` (all by default). A
    whole log (``after`` None) goes into an empty store only; the records after
    ``after`` (0: from the first) are appended, and must continue the target's
    histories (the database refuses a version it holds, and then nothing is
    copied). Records keep their seals (give both stores the same audit key) and
    are packed anew for the target's compression and encryption. Nothing is
    checked: the source is trusted (a store this process just built); an export
    file goes through ``import_events``.

    Raises:
        RuleViolationError: a whole log, and the target is not empty.
        InvalidInputError: the target already holds one of the records.
    """
    (source_mapper, source_recorder), (mapper, recorder) = source, target
    if after is None and recorder.max_notification_id():
        raise RuleViolationError(
            None, "copy", because("records are copied into an empty store only")
        )
    rows: Iterable[rawlog.Row] = (
        row for page in rawlog.rows(source_recorder, after or 0) for row in page
    )
    if up_to is not None:  # stop reading there, not only copying
        rows = itertools.takewhile(lambda row: row[0] <= up_to, rows)
    return _insert_copies(recorder, _repacked(rows, source_mapper, mapper))


def copy_aggregates(
    source: tuple[PydanticMapper, Any], target: tuple[PydanticMapper, Any], ids: Iterable[UUID]
) -> int:
    """Copy every record of the aggregates ``ids`` from a store into another, in one
    transaction, each aggregate's in version order; as trusting as ``copy_log``.

    Raises:
        InvalidInputError: the target already holds one of the records.
    """
    (source_mapper, source_recorder), (mapper, recorder) = source, target
    records = (
        StoredEvent(
            originator_id=aggregate_id,
            originator_version=version,
            topic=topic,
            state=mapper.pack(source_mapper.unpack(stored)),
        )
        for aggregate_id, version, topic, stored in rawlog.records_of(source_recorder, ids)
    )
    return _insert_copies(recorder, records)


def _repacked(
    rows: Iterable[rawlog.Row], source: PydanticMapper, target: PydanticMapper
) -> Iterator[StoredEvent]:
    """Each raw row as a record of the target store: unpacked from the source's
    compression and cipher, packed with the target's, its bytes otherwise untouched.
    """
    for _, aggregate_id, version, topic, stored in rows:
        yield StoredEvent(
            originator_id=UUID(aggregate_id),
            originator_version=version,
            topic=topic,
            state=target.pack(source.unpack(stored)),
        )


def _insert_copies(recorder: Any, records: Iterable[StoredEvent]) -> int:
    try:
        return insert_all(recorder, records)
    except IntegrityError as error:
        problem = ("", f"the store already holds one of the records, none were copied: {error}")
        raise InvalidInputError("copy", [problem]) from None


def write_csv(rows: Iterable[BaseModel], out: IO[str]) -> int:
    """Figures as CSV, one row per figure, columns in field order; returns how many."""
    writer: csv.DictWriter[str] | None = None
    count = 0
    for row in rows:
        data = {k: _cell(v) for k, v in row.model_dump(mode="json").items()}
        if writer is None:
            writer = csv.DictWriter(out, fieldnames=list(data))
            writer.writeheader()
        writer.writerow(data)
        count += 1
    return count


def event_schemas() -> dict[str, dict[str, Any]]:
    """JSON Schema of every event type, by topic, generated from the pydantic models."""
    from eventsourcing.utils import get_topic

    schemas: dict[str, dict[str, Any]] = {}
    for aggregate in AGGREGATES:
        for name, value in vars(aggregate).items():
            nested = isinstance(value, type) and issubclass(value, BaseModel)
            if (
                nested
                and name not in {"Event", "Created"}
                and value.__qualname__.startswith(aggregate.__name__)
            ):
                schemas[get_topic(value)] = value.model_json_schema(mode="serialization")
    return dict(sorted(schemas.items()))


def _sealed_again(mapper: PydanticMapper, stored: StoredEvent) -> StoredEvent:
    # The export holds plain JSON; this store may compress or encrypt it.
    return StoredEvent(
        originator_id=stored.originator_id,
        originator_version=stored.originator_version,
        topic=stored.topic,
        state=mapper.pack(stored.state),
    )


def _cell(value: Any) -> Any:
    if isinstance(value, dict | list):
        return orjson.dumps(value).decode()
    return value
