"""Exports that outlive the software: events as JSON Lines, views as CSV, schemas as JSON.

The events export carries each record exactly as stored (its JSON state and
seal), so importing it into an empty store reproduces the same views and the
same verification result under the same audit key. One line per record:

``{"position": 17, "aggregate": "Proposal", "id": "…", "version": 3,
"topic": "civicflow.proposal:Proposal.Discussed", "state": {…}}``

``position`` is the record's place in the exported log (1, 2, …), not a
database id, so stores with different id sequences export the same file.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from typing import IO, Any
from uuid import UUID

import orjson
from eventsourcing.persistence import IntegrityError, StoredEvent
from pydantic import BaseModel

from civicflow.audit.ledger import Ledger
from civicflow.audit.verification import pages
from civicflow.domain.community.directory import Directory
from civicflow.domain.community.residents import Resident
from civicflow.domain.proposal import Proposal
from civicflow.errors import InvalidInputError, RuleViolationError
from civicflow.storage.bulk import insert_all
from civicflow.storage.mapper import PydanticMapper

FORMAT = "civicflow-events/1"
AGGREGATES: tuple[type[Any], ...] = (Proposal, Directory, Resident, Ledger)


def export_events(mapper: PydanticMapper, recorder: Any, out: IO[str]) -> int:
    """Write every record of the log to ``out`` as JSON Lines; returns how many."""
    count = 0
    for page in pages(recorder):
        for note in page:
            count += 1
            line = {
                "position": count,
                "aggregate": _aggregate(note.topic),
                "id": str(note.originator_id),
                "version": note.originator_version,
                "topic": note.topic,
                "state": mapper.decode_state(note),
            }
            out.write(orjson.dumps(line).decode() + "\n")
    return count


def read_events(lines: Iterable[str]) -> Iterator[StoredEvent]:
    """Records from an events export, checked for shape (not for seals: verify does that).

    Raises:
        InvalidInputError: a line is not a record of this format.
    """
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = orjson.loads(line)
            yield StoredEvent(
                originator_id=UUID(item["id"]),
                originator_version=int(item["version"]),
                topic=str(item["topic"]),
                state=orjson.dumps(item["state"]),
            )
        except (ValueError, KeyError, TypeError, orjson.JSONDecodeError) as error:
            raise InvalidInputError("events export", [(f"line {number}", str(error))]) from None


def import_events(mapper: PydanticMapper, recorder: Any, lines: Iterable[str]) -> int:
    """Load an events export into an empty store, in its order; returns how many.

    Raises:
        RuleViolationError: the store is not empty.
        InvalidInputError: the export is malformed, or holds a record twice.
    """
    if recorder.max_notification_id():
        raise RuleViolationError(None, "import", "events are imported into an empty store only")
    # Every line is read and checked first, and all are written in one transaction:
    # a bad line late in a file must not leave a half-imported (and so non-empty) store.
    records = [_sealed_again(mapper, stored) for stored in read_events(lines)]
    try:
        insert_all(recorder, records)  # in bounded statements, all in one transaction
    except IntegrityError as error:
        problem = ("", f"the database refused the records, none were imported: {error}")
        raise InvalidInputError("events export", [problem]) from None
    return len(records)


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


def _aggregate(topic: str) -> str:
    return topic.rsplit(":", 1)[-1].split(".", 1)[0]


def _cell(value: Any) -> Any:
    if isinstance(value, dict | list):
        return orjson.dumps(value).decode()
    return value
