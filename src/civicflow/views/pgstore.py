"""Views in PostgreSQL: the same tables, psycopg placeholders, the store's schema."""

from __future__ import annotations

import re
import weakref
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, cast

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresTrackingRecorder
from psycopg.sql import SQL, Identifier

from civicflow.views.tables import ViewTables

APPLICATION_NAME = "civicflow-views"
_VALUES = re.compile(r"VALUES \([?, ]+\)")


class PostgresViews(ViewTables, PostgresTrackingRecorder):
    """Views in a PostgreSQL schema (the events' own, or another)."""

    # The temporary tables each connection has made (they last as long as it does).
    _staged: weakref.WeakKeyDictionary[Any, set[str]]

    table_names_sql = "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._staged = weakref.WeakKeyDictionary()
        super().__init__(*args, **kwargs)
        # Named after the store, so that an operator (or a test) can tell these sessions
        # apart in pg_stat_activity.
        connecting = cast(dict[str, Any], self.datastore.pool.kwargs)  # given as a dict
        name = f"{APPLICATION_NAME} {self.datastore.schema}"[: self.MAX_IDENTIFIER_LEN]
        connecting.setdefault("application_name", name)

    def sql(self, statement: str) -> str:
        # psycopg takes %s placeholders; the tracking table has a per-store name here.
        return statement.replace("?", "%s").replace("{tracking}", self.tracking_table_name)

    @contextmanager
    def transaction(self, *, commit: bool) -> Iterator[Any]:
        with self.datastore.transaction(commit=commit) as cursor:
            if not commit:
                # One snapshot for every read, so that figures and position agree.
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            else:
                # A batch commits without waiting for its WAL to reach disk: a server
                # crash can lose only the last batches, whole, each with its tracking
                # record, so they are counted again. Never half a batch.
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
            # The view tables live in the store's schema, like eventsourcing's own.
            cursor.execute(
                SQL("SET LOCAL search_path TO {}").format(Identifier(self.datastore.schema))
            )
            yield cursor

    def state_table_exists(self, cursor: Any) -> bool:
        cursor.execute("SELECT to_regclass('cf_view_state') IS NOT NULL AS found")
        return bool(cursor.fetchone()["found"])

    def lock_position(self, cursor: Any) -> None:
        # One writer at a time per store's views, until this transaction ends.
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtext(%s))",
            (f"civicflow-views:{self.datastore.schema}",),
        )

    def insert_tracking_in(self, cursor: Any, tracking: Tracking) -> None:
        self._insert_tracking(cursor, tracking)

    def recover(self) -> None:
        # Every idle connection the server terminated is replaced now, rather than
        # handed out to fail the next attempt too (the pool only finds out on use).
        self.datastore.pool.check()

    def close(self) -> None:
        self.datastore.close()

    def many(self, cursor: Any, statement: str, rows: Iterable[Sequence[Any]]) -> None:
        # COPY a batch into a temporary twin of the table, then upsert it in one
        # statement: row by row (executemany, even pipelined) or as arrays (unnest)
        # cost several times more, mostly in handling parameters.
        batch = list(rows)
        if not batch:
            return
        table = statement.split()[2]
        stage = f"cf_stage_{table.removeprefix('cf_view_')}"
        staged = self._staged.setdefault(cursor.connection, set())
        if stage not in staged:
            cursor.execute(f"CREATE TEMP TABLE {stage} (LIKE {table}) ON COMMIT DELETE ROWS")
            staged.add(stage)
        with cursor.copy(f"COPY {stage} FROM STDIN") as copy:
            for row in batch:
                copy.write_row(row)
        upsert = _VALUES.sub(f"SELECT * FROM {stage}", statement, count=1)  # noqa: S608 - ours
        cursor.execute(self.sql(upsert))

    def beside(self, cursor: Any) -> Any:
        return cursor.connection.cursor(row_factory=cursor.row_factory)

    def rows(self, cursor: Any, size: int = 0) -> list[tuple[Any, ...]]:
        fetched = cursor.fetchmany(size) if size else cursor.fetchall()
        return [tuple(row.values()) for row in fetched]
