"""Many records in one transaction, written in bounded statements.

eventsourcing writes a save as one statement in a psycopg pipeline: fine for a
command's few events, but an import of tens of thousands sent that way can stall
for ever in ``Pipeline.sync`` (the client blocked sending while the server is
blocked answering). Here the same statement goes out at most ``CHUNK`` records at
a time, without a pipeline, inside one transaction: all are written, or none.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent

CHUNK = 1000  # records per statement


def insert_all(
    recorder: Any,
    records: Iterable[StoredEvent],
    chunk: int = CHUNK,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Insert ``records`` in their order, in one transaction, ``chunk`` per statement.

    ``records`` may be a generator: they are drawn a chunk at a time, so a long
    stream is written without being held whole. Returns how many were written.
    ``progress(written)``, if given, is called after each statement (not yet committed).
    eventsourcing's own errors (``PersistenceError``) pass through, for the caller's
    boundary to translate; nothing is written when one is raised.
    """
    parts = chunks(records, chunk)
    first = next(parts, None)
    if first is None:
        return 0
    parts = itertools.chain([first], parts)
    if progress is not None:
        parts = _told(parts, progress)
    if "postgres" in type(recorder).__module__:
        return _postgres(recorder, parts)
    if "sqlite" in type(recorder).__module__:
        written = 0
        with recorder.datastore.transaction(commit=True) as cursor:
            for part in parts:
                recorder._insert_events(cursor, part)
                written += len(part)
        return written
    everything = [record for part in parts for record in part]
    recorder.insert_events(everything)  # in memory: nothing to stall
    return len(everything)


def _postgres(recorder: Any, parts: Iterable[Sequence[StoredEvent]]) -> int:
    written = 0
    with recorder.datastore.transaction(commit=True) as cursor:
        # As eventsourcing does for each save: serialise writers, so that readers
        # never pass a gap in the notification ids that fills later; tell listeners.
        recorder._lock_table(cursor)
        recorder._notify_channel(cursor)
        for part in parts:
            written += len(part)
            rows = [
                recorder.construct_pg_stored_event(
                    r.originator_id, r.originator_version, r.topic, r.state
                )
                for r in part
            ]
            cursor.execute(recorder.insert_events_statement, (rows,))
    return written


def _told(
    parts: Iterator[Sequence[StoredEvent]], progress: Callable[[int], None]
) -> Iterator[Sequence[StoredEvent]]:
    """``parts`` as they are, saying how many records went before each next one is drawn."""
    done = 0
    for part in parts:
        yield part
        done += len(part)
        progress(done)


def chunks(records: Iterable[StoredEvent], size: int) -> Iterator[Sequence[StoredEvent]]:
    """``records`` in consecutive lists of at most ``size``."""
    records = iter(records)
    while part := list(itertools.islice(records, size)):
        yield part
