"""Views in PostgreSQL: the same tables, psycopg placeholders, the store's schema."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresTrackingRecorder
from psycopg.sql import SQL, Identifier

from civicflow.views.store import ViewTables


class PostgresViews(ViewTables, PostgresTrackingRecorder):
    """Views in a PostgreSQL schema (the events' own, or another)."""

    def sql(self, statement: str) -> str:
        # psycopg takes %s placeholders; the tracking table has a per-store name here.
        return statement.replace("?", "%s").replace("{tracking}", self.tracking_table_name)

    @contextmanager
    def transaction(self, *, commit: bool) -> Iterator[Any]:
        with self.datastore.transaction(commit=commit) as cursor:
            if not commit:
                # One snapshot for every read, so that figures and position agree.
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            # The view tables live in the store's schema, like eventsourcing's own.
            cursor.execute(
                SQL("SET LOCAL search_path TO {}").format(Identifier(self.datastore.schema))
            )
            yield cursor

    def lock_position(self, cursor: Any) -> None:
        # One writer at a time per store's views, until this transaction ends.
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtext(%s))",
            (f"civicflow-views:{self.datastore.schema}",),
        )

    def insert_tracking_in(self, cursor: Any, tracking: Tracking) -> None:
        self._insert_tracking(cursor, tracking)

    def rows(self, cursor: Any) -> list[tuple[Any, ...]]:
        return [tuple(row.values()) for row in cursor.fetchall()]

    def create_table(self) -> None:
        super().create_table()
        with self.transaction(commit=True) as c:
            self.create_view_tables(c)
