"""The view tables, as one interface over SQLite and PostgreSQL, and the SQL they share.

The views live in tables beside eventsourcing's tracking table. Each batch of rows
is written in the same transaction as the tracking record of the last notification
it covers, so after a crash a view resumes exactly where its last committed batch
ended: every event counts once. The adapters (``sqlitestore``, ``pgstore``) only say
how their backend opens a transaction, spells a statement and takes a lock.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from eventsourcing.persistence import Tracking

from civicflow.domain.community.structure import Structure
from civicflow.errors import ViewsEncryptionError, ViewsSchemaError
from civicflow.views.homes import SpanMaker, Spans, spans_of
from civicflow.views.rows import ProposalRow, Rows
from civicflow.views.schema import (
    INSERT_PARTICIPATION,
    PROPOSAL_COLUMNS,
    SCHEMA_VERSION,
    TABLES,
    UPSERT_HOME,
    UPSERT_PROPOSAL,
    UPSERT_RATING,
    UPSERT_STRUCTURE,
    newer,
)
from civicflow.views.sealing import PLAIN, Plain
from civicflow.views.snapshot import Snapshots
from civicflow.views.tracker import StructureTracker, structure_from_rows


class ViewsMovedError(Exception):
    """Another process moved the views on while this one counted (internal; retried)."""


class ViewTables(Snapshots):
    """SQL shared by both backends; subclasses adapt placeholders and table names."""

    application_name: str
    _create_table: Callable[[Any], None]  # eventsourcing's tracking table, in a transaction

    tracking_table = "tracking"
    sealing: Plain = PLAIN  # how ids and text are kept (see ``sealing.py``)
    batches_written = 0  # by this object, ever: a sign that counting gets on
    source = ""  # whose log this object counts into the tables (see ``TABLES``)
    # Every tracking name whose position these tables keep: emptying forgets them all.
    tracking_names: tuple[str, ...] = ()

    def sourced(self, source: str, application_name: str) -> ViewTables:
        """These tables, counting the log of ``source`` under a tracking name of its own:
        the same connections, so that a city's districts share one pool.
        """
        other = copy.copy(self)
        other.source, other.application_name = source, application_name
        other.batches_written = 0
        return other

    def forgotten_names(self) -> tuple[str, ...]:
        return self.tracking_names or (self.application_name,)

    def state_key(self) -> object:
        """What identifies the state the figures are in: the position, for one log;
        every source's position, where the tables hold several (a city).
        """
        if not self.tracking_names:
            return self.position()
        with self.reading() as c:
            return tuple(
                self.select(
                    c,
                    "SELECT application_name, MAX(notification_id) FROM {tracking} "
                    "GROUP BY application_name ORDER BY application_name",
                )
            )

    def sql(self, statement: str) -> str:
        """The statement in this backend's dialect."""
        return statement.replace("{tracking}", self.tracking_table)

    def transaction(self, *, commit: bool) -> Any:
        raise NotImplementedError  # pragma: no cover - every backend defines it

    def insert_tracking_in(self, cursor: Any, tracking: Tracking) -> None:
        raise NotImplementedError  # pragma: no cover - every backend defines it

    def close(self) -> None:
        """Release the database connections."""
        raise NotImplementedError  # pragma: no cover - every backend defines it

    def recover(self) -> None:
        """After a fault: let go of connections the database has dropped (if pooled)."""

    def beside(self, cursor: Any) -> Any:
        """Another cursor in the transaction of ``cursor``."""
        return getattr(cursor, "sqlite_cursor", cursor).connection.cursor()

    def rows(self, cursor: Any, size: int = 0) -> list[tuple[Any, ...]]:
        """The rows ``cursor`` has left (the next ``size`` of them, if given)."""
        return [tuple(row) for row in (cursor.fetchmany(size) if size else cursor.fetchall())]

    def lock_position(self, cursor: Any) -> None:
        """Hold the views' position until this transaction ends (one writer at a time)."""
        raise NotImplementedError  # pragma: no cover - every backend defines it

    table_names_sql = "SELECT name FROM sqlite_master WHERE type = 'table'"

    # --- opening without writing ------------------------------------------------------

    def prepare(self) -> None:
        """Create the tables if any is missing; when all exist (the usual case), only read.

        Opening must not wait for, nor make wait, the processes that count or read:
        reading the catalogue takes no lock a writer holds, where even a ``CREATE
        TABLE IF NOT EXISTS`` would queue behind a rebuild (and deadlock with it on
        PostgreSQL).
        """
        with self.transaction(commit=False) as c:
            if not self.missing_in(c):
                return
        self.create_table()

    def create_table(self) -> None:
        """Create the tables that are missing: one creator at a time, behind the writers' lock.

        Looked for again once the lock is held: another process opening at the same
        moment may have made them meanwhile.
        """
        with self.transaction(commit=True) as c:
            self.lock_position(c)
            missing = self.missing_in(c)
            if self.sql("{tracking}") in missing:
                self._create_table(c)  # eventsourcing's tracking table
            if missing:
                self.create_view_tables(c)

    def missing_in(self, cursor: Any) -> set[str]:
        """The tables (and the schema stamp) that do not exist yet.

        Raises:
            ViewsSchemaError: the views are stamped newer than this code's.
        """
        names = {str(row[0]) for row in self.select(cursor, self.table_names_sql)}
        missing = {*TABLES, self.sql("{tracking}")} - names
        if "cf_view_state" not in missing and self.stamp_in(cursor) is None:
            missing.add("the schema stamp")
        return missing

    # --- reading back what a view needs to continue --------------------------------

    def position(self) -> int:
        """The last notification id this view has counted (0 before any)."""
        with self.reading() as c:
            return self.position_in(c)

    def position_in(self, cursor: Any) -> int:
        found = self.select(
            cursor,
            "SELECT MAX(notification_id) FROM {tracking} WHERE application_name = ?",
            (self.application_name,),
        )
        return int(found[0][0] or 0) if found else 0

    def load(self) -> tuple[StructureTracker, dict[str, ProposalRow], int]:
        """The structure, proposal rows and position as the last committed batch left them.

        Read in one transaction (a consistent snapshot), so the figures and the
        position always belong together even while another process writes.
        """
        with self.transaction(commit=False) as c:
            position = self.position_in(c)
            mine = (self.source,)
            parts = self.select(
                c, "SELECT part, key, value FROM cf_view_structure WHERE source = ?", mine
            )
            homes = self.select(c, "SELECT home FROM cf_view_homes WHERE source = ?", mine)
            proposals = self.select(
                c,
                f"SELECT {PROPOSAL_COLUMNS} FROM cf_view_proposals WHERE source = ?",  # noqa: S608 - ours
                mine,
            )
        structure = self._structure(parts)
        # Keyed by the id each home names: the key column may be a pseudonym.
        known = self.sealing.homes(homes)
        tracker = StructureTracker(structure=structure, homes=known, saved_structure=structure)
        rows = {row[0]: ProposalRow(*self.sealing.proposal(row)) for row in proposals}
        return tracker, rows, position

    def load_homes(self) -> list[Spans]:
        """Every resident's registrations, as the last committed batch left them (in a
        city's views, as each district's log told them).
        """
        with self.reading() as c:
            rows = self.select(c, "SELECT home FROM cf_view_homes")
        maker = SpanMaker()
        return [spans_of(self.sealing.open(home) or "", maker)[1] for (home,) in rows]

    def load_structure(self) -> Structure:
        """The structure as the last committed batch left it (areas, councils, policies)."""
        with self.reading() as c:
            parts = self.select(c, "SELECT part, key, value FROM cf_view_structure")
        return self._structure(parts)

    def _structure(self, parts: list[tuple[Any, ...]]) -> Structure:
        structure = structure_from_rows(self.sealing.structure(parts))
        self.sealing.learn(structure.areas)  # to turn stored area pseudonyms back into ids
        return structure

    def area_in_clear(self, stored: str) -> str:
        """The id of an area as a view table holds it (a pseudonym when sealed).

        Raises:
            ViewsEncryptionError: no area of the structure has this pseudonym.
        """
        found = self.sealing.area(stored)
        if found is None:
            self.load_structure()  # areas added since this object last read them
            # and areas only proposals name (community rules off): placed under their own id
            scopes = self.query("SELECT scope_id FROM cf_view_proposals")
            self.sealing.learn(self.sealing.open(scope) or "" for (scope,) in scopes)
            found = self.sealing.area(stored)
        if found is None:
            raise ViewsEncryptionError("another key", str(self.sealing.stamp))
        return found

    def check_sealing_in(self, cursor: Any) -> None:
        """Refuse views kept under another encryption setting than this object's.

        Raises:
            ViewsEncryptionError: they are (encrypted, unencrypted, or another key).
        """
        found = self.sealing_in(cursor)
        if found != self.sealing.stamp:
            raise ViewsEncryptionError(found or "plain", self.sealing.stamp or "plain")

    def sealing_in(self, cursor: Any) -> str | None:
        """How the views' rows are kept: None (in clear) or the key check of their key."""
        found = self.select(cursor, "SELECT value FROM cf_view_state WHERE name = 'sealing'")
        return str(found[0][0]) if found else None

    def schema_version(self) -> str | None:
        """The schema version the views are stamped with (None if unstamped).

        Raises:
            ViewsSchemaError: the stamp is newer than ``SCHEMA_VERSION``.
        """
        with self.transaction(commit=False) as c:
            return self.stamp_in(c)

    def stamp_in(self, cursor: Any) -> str | None:
        """The views' stamp, read in ``cursor``'s transaction; refused if newer than this code.

        Raises:
            ViewsSchemaError: the stamp is newer than ``SCHEMA_VERSION``.
        """
        found = self.select(cursor, "SELECT value FROM cf_view_state WHERE name = 'schema'")
        stamp = str(found[0][0]) if found else None
        if stamp is not None and newer(stamp):
            raise ViewsSchemaError(stamp, SCHEMA_VERSION)
        return stamp

    def refuse_newer_views(self) -> None:
        """Before creating any table: refuse views that newer code stamped.

        Raises:
            ViewsSchemaError: the views are stamped newer than ``SCHEMA_VERSION``.
        """
        with self.transaction(commit=False) as c:
            if self.state_table_exists(c):
                self.stamp_in(c)

    def state_table_exists(self, cursor: Any) -> bool:
        """Whether ``cf_view_state`` exists (SQLite's catalogue; PostgreSQL overrides)."""
        found = self.select(
            cursor, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'cf_view_state'"
        )
        return bool(found)

    # --- writing a batch --------------------------------------------------------------

    def write(self, rows: Rows, tracking: Tracking, counted_from: int) -> None:
        """Write a batch's rows and its tracking record in one transaction.

        Raises:
            ViewsMovedError: another process counted past ``counted_from`` meanwhile;
                this batch was computed from older figures and is not written.
            ViewsSchemaError: newer code has stamped the views since they were opened.
        """
        with self.transaction(commit=True) as c:
            self.lock_position(c)
            self.stamp_in(c)  # newer code may have rebuilt the views since they were opened
            self.check_sealing_in(c)  # a process with another key may have, too
            if self.position_in(c) != counted_from:
                raise ViewsMovedError(counted_from)
            rows, source = self.sealing.rows(rows), (self.source,)
            self.insert_tracking_in(c, tracking)
            self.many(c, UPSERT_PROPOSAL, [row + source for row in rows.proposals])
            self.many(c, UPSERT_RATING, rows.ratings)
            self.many(c, INSERT_PARTICIPATION, rows.participation)
            self.many(c, UPSERT_STRUCTURE, [row + source for row in rows.structure])
            self.many(c, UPSERT_HOME, [row + source for row in rows.homes])
        self.batches_written += 1

    @property
    def writes_in_background(self) -> bool:
        """Whether batches are written on a thread of their own while the next is counted."""
        return True

    def empty(self) -> None:
        """Delete every figure and forget the position (for a rebuild); drops no table.

        Readers go on reading the old figures until this commits, and wait for nothing:
        deleting rows takes no lock a reader's snapshot needs, where dropping a table
        makes every reader of it wait (and, on PostgreSQL, can deadlock with one).
        Tables lost to an outside cleanup are created again.
        """
        with self.transaction(commit=True) as c:
            self.lock_position(c)
            if self.missing_in(c):
                self.create_view_tables(c)
            for table in TABLES:
                if table != "cf_view_state":
                    c.execute(self.sql(f"DELETE FROM {table}"))  # noqa: S608 - our names
            self.forget_positions_in(c)

    def reset(self) -> None:
        """Empty every view and forget the tracking position (for a rebuild).

        Raises:
            ViewsSchemaError: newer code stamped the views; they are left untouched.
        """
        with self.transaction(commit=True) as c:
            self.lock_position(c)
            if self.state_table_exists(c):
                self.stamp_in(c)
            for table in TABLES:
                c.execute(self.sql(f"DROP TABLE IF EXISTS {table}"))
            self.create_view_tables(c)
            self.forget_positions_in(c)

    def forget_positions_in(self, cursor: Any) -> None:
        names = self.forgotten_names()
        marks = ", ".join("?" * len(names))
        cursor.execute(
            self.sql(f"DELETE FROM {{tracking}} WHERE application_name IN ({marks})"),  # noqa: S608
            names,
        )

    def create_view_tables(self, cursor: Any) -> None:
        for table, columns in TABLES.items():
            cursor.execute(self.sql(f"CREATE TABLE IF NOT EXISTS {table} ({columns})"))
        # Figures are read a quarter at a time, across all areas of a level; an index
        # per area column cost more on every write than it saved a read. Participation
        # is keyed by quarter first, so its key serves as that index, and a batch's
        # rows land together in the current quarter rather than all over the table.
        cursor.execute(
            self.sql("CREATE INDEX IF NOT EXISTS cf_view_ratings_q ON cf_view_ratings (quarter)")
        )
        cursor.execute(
            self.sql(
                "INSERT INTO cf_view_state VALUES ('schema', ?) ON CONFLICT (name) DO NOTHING"
            ),
            (SCHEMA_VERSION,),
        )
        if self.sealing.stamp is not None:
            cursor.execute(
                self.sql("INSERT INTO cf_view_state VALUES ('sealing', ?) ON CONFLICT DO NOTHING"),
                (self.sealing.stamp,),
            )

    # --- helpers ----------------------------------------------------------------------

    def many(self, cursor: Any, statement: str, rows: Iterable[Sequence[Any]]) -> None:
        batch = list(rows)
        if batch:
            cursor.executemany(self.sql(statement), batch)

    def select(
        self, cursor: Any, statement: str, params: Sequence[Any] = ()
    ) -> list[tuple[Any, ...]]:
        cursor.execute(self.sql(statement), tuple(params))
        return self.rows(cursor)

    def query(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a read-only query against the views."""
        with self.reading() as c:
            return self.select(c, statement, params)
