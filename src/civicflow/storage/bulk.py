"""Many records in one transaction, written in bounded statements.

eventsourcing writes a save as one statement in a psycopg pipeline: fine for a
command's few events, but an import of tens of thousands sent that way can stall
for ever in ``Pipeline.sync`` (the client blocked sending while the server is
blocked answering). Here the same statement goes out at most ``CHUNK`` records at
a time, without a pipeline, inside one transaction: all are written, or none.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent

CHUNK = 1000  # records per statement


def insert_all(recorder: Any, records: Sequence[StoredEvent], chunk: int = CHUNK) -> None:
    """Insert ``records`` in their order, in one transaction, ``chunk`` per statement.

    eventsourcing's own errors (``PersistenceError``) pass through, for the caller's
    boundary to translate; nothing is written when one is raised.
    """
    if not records:
        return
    if "postgres" in type(recorder).__module__:
        _postgres(recorder, records, chunk)
    elif "sqlite" in type(recorder).__module__:
        with recorder.datastore.transaction(commit=True) as cursor:
            for part in chunks(records, chunk):
                recorder._insert_events(cursor, part)
    else:
        recorder.insert_events(records)  # in memory: nothing to stall


def _postgres(recorder: Any, records: Sequence[StoredEvent], chunk: int) -> None:
    with recorder.datastore.transaction(commit=True) as cursor:
        # As eventsourcing does for each save: serialise writers, so that readers
        # never pass a gap in the notification ids that fills later; tell listeners.
        recorder._lock_table(cursor)
        recorder._notify_channel(cursor)
        for part in chunks(records, chunk):
            rows = [
                recorder.construct_pg_stored_event(
                    r.originator_id, r.originator_version, r.topic, r.state
                )
                for r in part
            ]
            cursor.execute(recorder.insert_events_statement, (rows,))


def chunks(records: Sequence[StoredEvent], size: int) -> Iterator[Sequence[StoredEvent]]:
    """``records`` in consecutive slices of at most ``size``."""
    for start in range(0, len(records), size):
        yield records[start : start + size]
