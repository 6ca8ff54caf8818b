"""The log as stored rows: position, aggregate id, version, topic and bytes, nothing parsed.

eventsourcing's ``select_notifications`` builds a ``Notification`` and a ``UUID``
for every record: right for an application, but most of the cost of a pass that
only hashes the bytes (verifying, growing the Merkle tree). Here each record is a
plain tuple, the aggregate id as the text the database holds, read in pages with
one query each. Readers that need an event parse only the records they need.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification

# (position in the log, aggregate id as text, version, topic, stored bytes)
Row = tuple[int, str, int, str, bytes]

PAGE = 5000


def rows(recorder: Any, after: int = 0, page: int = PAGE) -> Iterator[Sequence[Row]]:
    """The log after position ``after``, oldest first, in pages of at most ``page`` rows."""
    read = _reader(recorder)
    while True:
        batch = read(after, page)
        if not batch:
            return
        yield batch
        after = batch[-1][0]


def find(recorder: Any, aggregate_id: str, version: int) -> Row | None:
    """One record of the log by aggregate and version, or None."""
    kind = _kind(recorder)
    if kind == "sqlite":
        statement = _sqlite_select(recorder, "originator_id=? AND originator_version=?")
        found = _sqlite_fetch(recorder, statement, (UUID(aggregate_id).hex, version))
        return found[0] if found else None
    if kind == "postgres":
        statement = _pg_select(recorder, "originator_id=%s AND originator_version=%s")
        with recorder.datastore.get_connection() as conn, conn.cursor() as cursor:
            cursor.execute(statement, (aggregate_id, version))
            found = cursor.fetchall()
        return _pg_row(found[0]) if found else None
    # In memory: eventsourcing's recorder indexes its list of events by aggregate.
    index = recorder._stored_events_index.get(aggregate_id, {}).get(version)
    if index is None:
        return None
    stored = recorder._stored_events[index]
    return (index + 1, aggregate_id, version, stored.topic, bytes(stored.state))


def of_aggregates(recorder: Any, ids: Iterable[UUID], chunk: int = 500) -> Iterator[Row]:
    """Every record of the aggregates ``ids``, a query per ``chunk`` of them (in the
    log's order within a chunk, so each aggregate's records come in version order)."""
    kind, ids = _kind(recorder), iter(ids)
    while part := list(itertools.islice(ids, chunk)):
        if kind == "sqlite":
            yield from _sqlite_of(recorder, part)
        elif kind == "postgres":
            statement = _pg_select(recorder, "originator_id = ANY(%s) ORDER BY notification_id")
            with recorder.datastore.get_connection() as conn, conn.cursor() as cursor:
                cursor.execute(statement, (list(part),))
                yield from (_pg_row(row) for row in cursor.fetchall())
        else:  # in memory: eventsourcing's recorder indexes its events by aggregate
            for i in part:
                for stored in recorder.select_events(i):
                    position = recorder._stored_events_index[str(i)][stored.originator_version]
                    version, topic = stored.originator_version, stored.topic
                    yield (position + 1, str(i), version, topic, bytes(stored.state))


def records_of(
    recorder: Any, ids: Iterable[UUID], chunk: int = 500
) -> Iterator[tuple[UUID, int, str, bytes]]:
    """As ``of_aggregates``, each record as (its aggregate's UUID as given, version,
    topic, state): a copier needs the UUID, and the demo copies 240,000 residents' into
    a city's stretches, where reading each id back as text and parsing it cost a fifth.
    """
    kind, ids = _kind(recorder), iter(ids)
    while part := list(itertools.islice(ids, chunk)):
        if kind != "sqlite":
            yield from ((UUID(i), v, t, s) for _, i, v, t, s in of_aggregates(recorder, part))
            continue
        given = {i.hex: i for i in part}
        for _, stored_id, version, topic, state in _sqlite_rows_of(recorder, given):
            yield given[stored_id], version, topic, state


def _sqlite_of(recorder: Any, ids: list[UUID]) -> list[Row]:
    # The ids are known: their text is not remembered (each is read once, unlike a log's).
    texts = {i.hex: str(i) for i in ids}
    return [
        (at, texts[stored_id], version, topic, state)
        for at, stored_id, version, topic, state in _sqlite_rows_of(recorder, texts)
    ]


def _sqlite_rows_of(recorder: Any, hexes: Iterable[str]) -> list[tuple[Any, ...]]:
    """The rows of the aggregates whose stored ids are ``hexes``, in the log's order."""
    given = tuple(hexes)
    marks = ",".join("?" * len(given))
    statement = _sqlite_select(recorder, f"originator_id IN ({marks}) ORDER BY rowid")
    with recorder.datastore.transaction(commit=False) as wrapper:
        cursor = wrapper.sqlite_cursor
        cursor.row_factory = None
        cursor.execute(statement, given)
        found: list[tuple[Any, ...]] = cursor.fetchall()
    return found


def snapshotted(snapshot_recorder: Any) -> list[str]:
    """The aggregates that have at least one snapshot (their ids as text): one query."""
    kind = _kind(snapshot_recorder)
    if kind == "sqlite":
        statement = f"SELECT DISTINCT originator_id FROM {snapshot_recorder.events_table_name}"  # noqa: S608
        with snapshot_recorder.datastore.transaction(commit=False) as cursor:
            cursor.execute(statement)
            return [str(row[0]) for row in cursor.fetchall()]
    if kind == "postgres":
        from psycopg.sql import SQL, Identifier

        query = SQL("SELECT DISTINCT originator_id::text AS id FROM {}.{}").format(
            Identifier(snapshot_recorder.datastore.schema),
            Identifier(snapshot_recorder.events_table_name),
        )
        with snapshot_recorder.datastore.get_connection() as conn, conn.cursor() as cursor:
            cursor.execute(query)
            return [row["id"] for row in cursor.fetchall()]
    # In memory: the recorder keeps its events in a dict keyed by aggregate.
    stored = getattr(snapshot_recorder, "_stored_events_index", {})
    return [str(aggregate_id) for aggregate_id, events in stored.items() if events]


# --- one reader per backend --------------------------------------------------------------


def _kind(recorder: Any) -> str:
    module = type(recorder).__module__
    if "sqlite" in module:
        return "sqlite"
    if "postgres" in module:
        return "postgres"
    return "other"


def _reader(recorder: Any) -> Any:
    kind = _kind(recorder)
    if kind == "sqlite":
        return _sqlite_reader(recorder)
    if kind == "postgres":
        return _pg_reader(recorder)
    return _notification_reader(recorder)


def _sqlite_select(recorder: Any, where: str) -> str:
    return (
        "SELECT rowid, originator_id, originator_version, topic, state "  # noqa: S608
        f"FROM {recorder.events_table_name} WHERE {where}"
    )


def _sqlite_fetch(recorder: Any, statement: str, parameters: tuple[Any, ...]) -> list[Row]:
    with recorder.datastore.transaction(commit=False) as wrapper:
        cursor = wrapper.sqlite_cursor
        cursor.row_factory = None  # plain tuples: a third cheaper than sqlite3.Row
        cursor.execute(statement, parameters)
        found = cursor.fetchall()
    ids = _SQLITE_IDS
    if len(ids) > _SQLITE_IDS_KEPT:
        ids.clear()
    return [
        (position, ids.get(stored_id) or _sqlite_id(stored_id), version, topic, state)
        for position, stored_id, version, topic, state in found
    ]


# eventsourcing's SQLite recorder stores a UUID as its 32 hex digits; readers know it
# as str(UUID). An aggregate's records come in runs, so the text is remembered: a
# dict lookup per record instead of a UUID (formatting in SQL costs more than both).
_SQLITE_IDS: dict[Any, str] = {}
_SQLITE_IDS_KEPT = 1 << 16


def _sqlite_id(stored_id: Any) -> str:
    # Only the exact text eventsourcing writes is read as that UUID. Any other spelling
    # (upper case, say, which the application's own lookups would never find) is kept
    # as found: it is another aggregate to the seals and the tree, so it cannot hide.
    text = str(stored_id)
    try:
        uuid = UUID(hex=text)
    except ValueError:
        uuid = None
    if uuid is not None and uuid.hex == text:
        text = str(uuid)
    _SQLITE_IDS[stored_id] = text
    return text


def _sqlite_reader(recorder: Any) -> Any:
    statement = _sqlite_select(recorder, "rowid>? ORDER BY rowid LIMIT ?")

    def read(after: int, limit: int) -> list[Row]:
        return _sqlite_fetch(recorder, statement, (after, limit))

    return read


def _pg_select(recorder: Any, where: str) -> Any:
    from psycopg.sql import SQL, Identifier

    return SQL(
        "SELECT notification_id, originator_id::text AS id, originator_version, topic, state "
        "FROM {}.{} WHERE " + where
    ).format(Identifier(recorder.datastore.schema), Identifier(recorder.events_table_name))


def _pg_reader(recorder: Any) -> Any:
    statement = _pg_select(recorder, "notification_id>%s ORDER BY notification_id LIMIT %s")

    def read(after: int, limit: int) -> list[Row]:
        with recorder.datastore.get_connection() as conn, conn.cursor() as cursor:
            cursor.execute(statement, (after, limit), prepare=True)
            return [_pg_row(row) for row in cursor.fetchall()]

    return read


def _pg_row(row: Any) -> Row:
    return (
        row["notification_id"],
        row["id"],
        row["originator_version"],
        row["topic"],
        bytes(row["state"]),
    )


def _notification_reader(recorder: Any) -> Any:
    def read(after: int, limit: int) -> list[Row]:
        page = recorder.select_notifications(start=after, limit=limit, inclusive_of_start=False)
        return [_notification_row(n) for n in page]

    return read


def _notification_row(notification: Notification) -> Row:
    return (
        notification.id,
        str(notification.originator_id),
        notification.originator_version,
        notification.topic,
        bytes(notification.state),
    )
