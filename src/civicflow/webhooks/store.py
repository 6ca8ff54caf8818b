"""Subscriptions in a table beside the events: the store's own SQLite file or PostgreSQL schema.

The table lives in the database the events do, reached through eventsourcing's own
datastore (its pool and settings), so a subscription and its position are as
durable as the log, and any process that opens the store (the relay, the command)
sees the same ones. A store in memory gets a private in-memory SQLite database.

A position moves by compare-and-set (``UPDATE ... WHERE position = ?``): two relays
running by mistake on one store may both deliver an event, which at-least-once
allows, but can never move a position backwards or past an undelivered event.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import uuid4

from civicflow.errors import SubscriptionNotFoundError
from civicflow.storage.errors import storage_errors
from civicflow.webhooks.privacy import Residents
from civicflow.webhooks.subscription import State, Subscription

if TYPE_CHECKING:
    from civicflow.application.flow import CivicFlow

TABLE = "cf_webhook_subscriptions"
COLUMNS = (
    "id TEXT PRIMARY KEY, url TEXT NOT NULL, secret TEXT NOT NULL, "
    "pseudonym_key TEXT NOT NULL, events TEXT NOT NULL, area TEXT, residents TEXT NOT NULL, "
    "created_at TEXT NOT NULL, state TEXT NOT NULL, position BIGINT NOT NULL, "
    "attempts INTEGER NOT NULL, next_attempt_at TEXT, last_error TEXT, "
    "allow_private INTEGER NOT NULL DEFAULT 0, failing_since TEXT"
)
# Added after the first release: a table made before gets them on ``ensure``.
ADDED = {
    "allow_private": "allow_private INTEGER NOT NULL DEFAULT 0",
    "failing_since": "failing_since TEXT",
}
_NAMES = [column.split()[0] for column in COLUMNS.split(", ")]


class Subscriptions:
    """The subscriptions of one store (SQL shared by SQLite and PostgreSQL)."""

    def __init__(self, flow: CivicFlow) -> None:
        datastore = getattr(flow.recorder, "datastore", None)
        self._owned = datastore is None
        if datastore is None:  # a store in memory
            from eventsourcing.sqlite import SQLiteDatastore

            name = f"file:civicflow-webhooks-{uuid4().hex}?mode=memory&cache=shared"
            datastore = SQLiteDatastore(name)
        self._datastore = datastore
        schema = getattr(datastore, "schema", None)
        self._schema: str | None = schema
        self._postgres = schema is not None
        self._table = f'"{schema.replace(chr(34), chr(34) * 2)}".{TABLE}' if schema else TABLE

    # --- reading --------------------------------------------------------------------------

    def exists(self) -> bool:
        """Whether the table has been made (reading never makes it)."""
        if self._postgres:
            found = self._select("SELECT to_regclass(?::text) IS NOT NULL AS found", (self._table,))
        else:
            found = self._select(
                "SELECT COUNT(*) AS found FROM sqlite_master WHERE type = 'table' AND name = ?",
                (TABLE,),
            )
        return bool(found[0]["found"])

    def all(self) -> list[Subscription]:
        """Every subscription, oldest first (none while the table is not made)."""
        if not self.exists():
            return []
        rows = self._select(f"SELECT * FROM {self._table} ORDER BY created_at, id")  # noqa: S608
        return [_subscription(row) for row in rows]

    def get(self, subscription_id: str) -> Subscription:
        """Raises: SubscriptionNotFoundError: there is none with this id."""
        rows = (
            self._select(f"SELECT * FROM {self._table} WHERE id = ?", (subscription_id,))  # noqa: S608
            if self.exists()
            else []
        )
        if not rows:
            raise SubscriptionNotFoundError(subscription_id)
        return _subscription(rows[0])

    # --- writing --------------------------------------------------------------------------

    def ensure(self) -> None:
        """Make the table if it is missing, and add the columns it lacks."""
        if not self.exists():
            self._write(f"CREATE TABLE IF NOT EXISTS {self._table} ({COLUMNS})")
            return
        for name, column in ADDED.items():
            if name not in self._columns():
                self._write(f"ALTER TABLE {self._table} ADD COLUMN {column}")

    def _columns(self) -> set[str]:
        if self._postgres:
            rows = self._select(
                "SELECT column_name AS name FROM information_schema.columns "
                "WHERE table_schema = ? AND table_name = ?",
                (self._schema, TABLE),
            )
        else:
            rows = self._select(f"PRAGMA table_info({TABLE})")
        return {str(row["name"]) for row in rows}

    def add(self, subscription: Subscription) -> None:
        self.ensure()
        values = _row(subscription)
        marks = ", ".join("?" * len(values))
        self._write(f"INSERT INTO {self._table} ({', '.join(_NAMES)}) VALUES ({marks})", values)  # noqa: S608

    def remove(self, subscription_id: str) -> None:
        """Raises: SubscriptionNotFoundError: there is none with this id."""
        self.get(subscription_id)
        self._write(f"DELETE FROM {self._table} WHERE id = ?", (subscription_id,))  # noqa: S608

    def advance(self, subscription_id: str, start: int, end: int) -> bool:
        """Move the position from ``start`` to ``end`` and forget past failures.

        Returns False, moving nothing, when the position is no longer ``start``
        (another relay moved it, or the subscription was removed).
        """
        return self._write(
            f"UPDATE {self._table} SET position = ?, attempts = 0, next_attempt_at = NULL, "  # noqa: S608
            "last_error = NULL, failing_since = NULL WHERE id = ? AND position = ?",
            (end, subscription_id, start),
        )

    def failed(
        self,
        subscription: Subscription,
        error: str,
        retry_at: datetime | None,
        state: State,
        since: datetime,
    ) -> None:
        """Record a failed attempt at the event after the subscription's position
        (``since``: when the attempts at it began failing)."""
        self._write(
            f"UPDATE {self._table} SET attempts = attempts + 1, next_attempt_at = ?, "  # noqa: S608
            "last_error = ?, state = ?, failing_since = ? WHERE id = ? AND position = ?",
            (
                retry_at.isoformat() if retry_at else None,
                error[:1000],
                state.value,
                since.isoformat(),
                subscription.id,
                subscription.position,
            ),
        )

    def set_state(self, subscription_id: str, state: State) -> Subscription:
        """Pause or resume; resuming starts the attempts afresh.

        Raises:
            SubscriptionNotFoundError: there is none with this id.
        """
        self.get(subscription_id)
        self._write(
            f"UPDATE {self._table} SET state = ?, attempts = 0, next_attempt_at = NULL, "  # noqa: S608
            "failing_since = NULL WHERE id = ?",
            (state.value, subscription_id),
        )
        return self.get(subscription_id)

    def close(self) -> None:
        if self._owned:
            self._datastore.close()

    # --- one statement per transaction ------------------------------------------------

    def _sql(self, statement: str) -> str:
        return statement.replace("?", "%s") if self._postgres else statement

    def _select(self, statement: str, values: Sequence[Any] = ()) -> list[Any]:
        with self._transaction(commit=False) as cursor:
            cursor.execute(self._sql(statement), tuple(values))
            return list(cursor.fetchall())

    def _write(self, statement: str, values: Sequence[Any] = ()) -> bool:
        """Run one writing statement; whether it changed a row (or made a table)."""
        with self._transaction(commit=True) as cursor:
            cursor.execute(self._sql(statement), tuple(values))
            count = _rowcount(cursor)
        return count != 0

    @contextmanager
    def _transaction(self, *, commit: bool) -> Iterator[Any]:
        # Database failures as civicflow's typed errors (BackendUnavailableError...),
        # which the relay waits out.
        with (
            storage_errors("using the webhook subscriptions"),
            self._datastore.transaction(commit=commit) as cursor,
        ):
            yield cursor


def _rowcount(cursor: Any) -> int:
    # eventsourcing wraps sqlite3's cursor; psycopg's is handed out as it is.
    inner = getattr(cursor, "sqlite_cursor", cursor)
    return int(inner.rowcount)


def _row(s: Subscription) -> tuple[Any, ...]:
    return (
        s.id,
        s.url,
        s.secret,
        s.pseudonym_key,
        json.dumps(list(s.events)),
        s.area,
        s.residents.value,
        s.created_at.isoformat(),
        s.state.value,
        s.position,
        s.attempts,
        s.next_attempt_at.isoformat() if s.next_attempt_at else None,
        s.last_error,
        1 if s.allow_private else 0,
        s.failing_since.isoformat() if s.failing_since else None,
    )


def _get(row: Any, name: str) -> Any:
    """A column a table made before it was added lacks (until ``ensure``): None."""
    try:
        return row[name]
    except (KeyError, IndexError):
        return None


def _subscription(row: Any) -> Subscription:
    return Subscription(
        id=row["id"],
        url=row["url"],
        secret=row["secret"],
        pseudonym_key=row["pseudonym_key"],
        events=tuple(json.loads(row["events"])),
        area=row["area"],
        residents=Residents(row["residents"]),
        created_at=datetime.fromisoformat(row["created_at"]),
        state=State(row["state"]),
        position=int(row["position"]),
        attempts=int(row["attempts"]),
        next_attempt_at=(
            datetime.fromisoformat(row["next_attempt_at"]) if row["next_attempt_at"] else None
        ),
        last_error=row["last_error"],
        allow_private=bool(_get(row, "allow_private")),
        failing_since=(
            datetime.fromisoformat(_get(row, "failing_since"))
            if _get(row, "failing_since")
            else None
        ),
    )
