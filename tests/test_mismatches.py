"""Schema and version mismatches are refused with a typed error, never absorbed.

Each fault is real: a table altered in the database as someone might, a record
written as newer code would write it, views stamped by a newer definition. The
refusal names what is wrong and leaves the store as it was, byte for byte.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

import orjson
import pytest
from eventsourcing.persistence import StoredEvent

from civicflow import (
    CivicFlow,
    ConfigurationError,
    NewerRecordError,
    SchemaMismatchError,
    UnreadableRecordError,
    Views,
    ViewsSchemaError,
)
from civicflow.domain.eventmodel import AggregateSnapshot
from civicflow.domain.proposal import Proposal
from civicflow.storage.errors import schema_mismatch
from civicflow.views.schema import SCHEMA_VERSION, TABLES
from tests import flows
from tests.conftest import POSTGRES_URL, FakeClock
from tests.storage import stored_rows

EVENTS = {"sqlite": "stored_events", "postgres": "civicflow_events"}
Execute = Callable[..., list[tuple[Any, ...]]]


def backend(url: str) -> str:
    return "sqlite" if url.startswith("sqlite") else "postgres"


@contextmanager
def database(url: str) -> Iterator[Execute]:
    """The store's own database, reached through its driver as an operator would."""
    if backend(url) == "sqlite":
        connection = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        try:
            yield lambda statement, *params: connection.execute(statement, params).fetchall()
        finally:
            connection.close()
        return
    import psycopg
    from psycopg import sql

    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        schema = url.rpartition("schema=")[2]
        conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))

        def execute(statement: str, *params: Any) -> list[tuple[Any, ...]]:
            if params:
                cursor = conn.execute(statement.replace("?", "%s"), params)
            else:  # a statement of its own, where % is a character
                cursor = conn.execute(statement.encode())
            return list(cursor.fetchall()) if cursor.description else []

        yield execute


def rebuild_sqlite_table(
    execute: Execute, table: str, change: Callable[[str], str], fill: str = ""
) -> None:
    """Recreate a SQLite table with a changed definition (SQLite's only way to add a
    NOT NULL column without a default, or a constraint), keeping its rows."""
    (definition,) = execute("SELECT sql FROM sqlite_master WHERE name = ?", table)[0]
    execute(f"ALTER TABLE {table} RENAME TO {table}_old")
    execute(change(definition))
    execute(f"INSERT INTO {table} SELECT *{fill} FROM {table}_old")  # noqa: S608
    execute(f"DROP TABLE {table}_old")


def with_column(definition: str, column: str) -> str:
    """A CREATE TABLE statement with one more column, after the others."""
    at = definition.find("PRIMARY KEY (")
    if at < 0:
        at = definition.rindex(")")
        return f"{definition[:at]}, {column}{definition[at:]}"
    return f"{definition[:at]}{column}, {definition[at:]}"


def add_not_null_column(url: str, table: str) -> None:
    with database(url) as execute:
        if backend(url) == "postgres":
            execute(f"ALTER TABLE {table} ADD COLUMN added_by_someone text NOT NULL DEFAULT 'x'")
            execute(f"ALTER TABLE {table} ALTER COLUMN added_by_someone DROP DEFAULT")
            return
        column = "added_by_someone TEXT NOT NULL"
        rebuild_sqlite_table(execute, table, lambda sql: with_column(sql, column), ", 'x'")


def add_check_constraint(url: str, table: str) -> None:
    """A constraint the records so far keep and a discussion breaks."""
    check = "CHECK (topic NOT LIKE '%Discussed')"
    with database(url) as execute:
        if backend(url) == "postgres":
            execute(f"ALTER TABLE {table} ADD CONSTRAINT no_discussions {check}")
            return
        rebuild_sqlite_table(
            execute, table, lambda sql: sql.replace("topic TEXT,", f"topic TEXT {check},")
        )


def discuss(flow: CivicFlow, proposal_id: UUID) -> object:
    attendees = [*flows.MEMBERS, "resident-1"]
    return flow.discuss(proposal_id, attendees=attendees, summary="ok", actor="member-1")


# --- a table of another shape ---------------------------------------------------------


@pytest.mark.parametrize(
    "alter", [add_not_null_column, add_check_constraint], ids=["not-null-column", "check"]
)
def test_an_events_table_of_another_shape_is_refused_at_once_and_named(
    durable_url: str, alter: Callable[[str, str], None]
) -> None:
    with flows.open_flow(durable_url) as flow:
        asked = flows.asked(flow)
    table = EVENTS[backend(durable_url)]
    alter(durable_url, table)  # under no running process, as a migration gone wrong would be
    with CivicFlow.open(durable_url, clock=FakeClock()) as flow:
        before = stored_rows(flow)
        started = time.monotonic()
        with pytest.raises(SchemaMismatchError) as refused:
            discuss(flow, asked.id)
        assert time.monotonic() - started < 1.0  # at once: not after fifty attempts
        assert stored_rows(flow) == before
    assert isinstance(refused.value, ConfigurationError)
    sqlite_check = (backend(durable_url), alter) == ("sqlite", add_check_constraint)
    assert refused.value.table == (None if sqlite_check else table)  # SQLite names no table
    # PostgreSQL names the column or constraint; SQLite's positional insert, the count.
    expected = {
        ("postgres", "add_not_null_column"): "added_by_someone",
        ("sqlite", "add_not_null_column"): "has 5 columns but 4 values",
        ("postgres", "add_check_constraint"): "no_discussions",
        ("sqlite", "add_check_constraint"): "CHECK constraint failed",
    }[backend(durable_url), alter.__name__]
    assert expected in refused.value.problem
    assert "shape civicflow expects" in str(refused.value)


def test_a_table_altered_under_a_running_postgresql_process_is_refused(postgres_url: str) -> None:
    """Even a harmless extra column breaks the statements a process prepared before it."""
    with flows.open_flow(postgres_url) as flow:
        asked = flows.asked(flow)
        with database(postgres_url) as execute:
            execute(f"ALTER TABLE {EVENTS['postgres']} ADD COLUMN harmless text")
        before = stored_rows(flow)
        with pytest.raises(SchemaMismatchError, match="open the store again"):
            flows.asked(flow, title="Paint the railings")
        assert stored_rows(flow) == before
    with CivicFlow.open(postgres_url, clock=FakeClock()) as fresh:  # prepares afresh
        discuss(fresh, asked.id)


def test_a_command_index_table_of_another_shape_is_refused(postgres_url: str) -> None:
    with flows.open_flow(postgres_url) as flow:
        asked = flows.asked(flow)
    add_not_null_column(postgres_url, "civicflow_tracking")
    with CivicFlow.open(postgres_url, clock=FakeClock()) as flow:
        before = stored_rows(flow)
        with pytest.raises(SchemaMismatchError, match="added_by_someone") as refused:
            discuss(flow, asked.id)
        assert refused.value.table == "civicflow_tracking"
        assert stored_rows(flow) == before  # the events of the command were rolled back too


def test_a_view_table_of_another_shape_is_refused_not_retried_as_a_race(durable_url: str) -> None:
    with flows.open_flow(durable_url) as flow, Views(flow, k=1) as views:
        flows.asked(flow)
        views.catch_up()
        add_not_null_column(durable_url, "cf_view_proposals")
        flows.asked(flow, title="Paint the railings")
        position = views.position
        with (
            Views(flow, k=1) as again,
            pytest.raises(SchemaMismatchError, match=r"added_by|18 col"),
        ):
            again.catch_up()
        assert views.position == position


def test_a_duplicate_primary_key_stays_a_lost_race_on_every_table(durable_url: str) -> None:
    """The one integrity error that is a race: the same key written twice."""
    with flows.open_flow(durable_url) as flow:
        flows.asked(flow)
    table = EVENTS[backend(durable_url)]
    tracking = "tracking" if backend(durable_url) == "sqlite" else "civicflow_tracking"
    with database(durable_url) as execute:
        for name in (table, tracking):
            with pytest.raises(Exception) as duplicate:  # noqa: PT011 - the driver's own
                execute(f"INSERT INTO {name} SELECT * FROM {name} LIMIT 1")  # noqa: S608
            assert schema_mismatch(duplicate.value) is None, name


# --- records written by newer code -------------------------------------------------------


def newer_record(flow: CivicFlow, proposal_id: UUID, **change: Any) -> StoredEvent:
    """The proposal's last event again, as newer code would write it one version on."""
    mapper = flow.store.pydantic_mapper
    last = flow.recorder.select_events(proposal_id, desc=True, limit=1)[0]
    state = mapper.decode_state(last)
    topic = change.pop("topic", last.topic)
    state.update(change)
    record = StoredEvent(
        originator_id=proposal_id,
        originator_version=last.originator_version + 1,
        topic=topic,
        state=mapper.pack(orjson.dumps(state)),
    )
    flow.recorder.insert_events([record])
    return record


NEWER = {
    "newer-version": {"class_version": 2},
    "newer-version-new-field": {"class_version": 2, "added_in_v2": "x"},
    "unknown-kind": {"topic": "civicflow.proposal:Proposal.Reopened"},
}


@pytest.mark.parametrize("change", NEWER.values(), ids=NEWER.keys())
def test_an_event_newer_code_wrote_is_refused_and_nothing_is_written_on_top(
    store_url: str, change: dict[str, Any]
) -> None:
    with flows.open_flow(store_url) as flow:
        asked = flows.discussing(flow)
        record = newer_record(flow, asked.id, **dict(change))
        before = stored_rows(flow)
        with pytest.raises(NewerRecordError) as refused:
            flow.proposal(asked.id)
        with pytest.raises(NewerRecordError):
            flow.withdraw(asked.id, reason="no longer needed", actor="resident-1")
        assert stored_rows(flow) == before
    error = refused.value
    assert isinstance(error, UnreadableRecordError)
    assert (error.topic, error.originator_id) == (record.topic, asked.id)
    assert error.originator_version == record.originator_version
    if "topic" in change:
        assert (error.class_version, error.known_version) == (1, None)
        assert "kind is unknown" in str(error)
    else:
        assert (error.class_version, error.known_version) == (2, 1)
        assert "class_version 2" in str(error)
        assert "knows up to 1" in str(error)
    assert str(asked.id) in str(error)


def test_a_fresh_process_refuses_a_newer_event_too(durable_url: str) -> None:
    with flows.open_flow(durable_url) as flow:
        asked = flows.discussing(flow)
        newer_record(flow, asked.id, class_version=3)
    with CivicFlow.open(durable_url, clock=FakeClock()) as fresh:
        before = stored_rows(fresh)
        with pytest.raises(NewerRecordError, match="class_version 3"):
            discuss(fresh, asked.id)
        assert stored_rows(fresh) == before


def test_the_views_stop_before_a_newer_event_and_name_its_position(store_url: str) -> None:
    with flows.open_flow(store_url) as flow, Views(flow, k=1) as views:
        asked = flows.asked(flow)
        views.catch_up()
        counted = views.position
        flows.discussing(flow)
        newer_record(flow, asked.id, class_version=2)
        with pytest.raises(NewerRecordError) as refused:
            views.catch_up()
        assert refused.value.position == flow.recorder.max_notification_id()
        assert views.position == counted  # the page holding it was not written


def snapshot_state(flow: CivicFlow, proposal_id: UUID, **change: Any) -> StoredEvent:
    """A snapshot of the proposal now, its captured state changed as newer code would."""
    snapshot = AggregateSnapshot.take(flow.store.load(proposal_id))
    mapper = flow.store.pydantic_mapper
    stored = mapper.to_stored_event(snapshot)
    state = mapper.decode_state(stored)
    state["topic"] = change.pop("topic", state["topic"])
    state["state"].update(change)
    record = StoredEvent(
        originator_id=stored.originator_id,
        originator_version=stored.originator_version,
        topic=stored.topic,
        state=mapper.pack(orjson.dumps(state)),
    )
    assert flow.snapshots is not None
    flow.snapshots.recorder.insert_events([record])
    return record


@pytest.mark.parametrize(
    "change",
    [{"class_version": Proposal.class_version + 1}, {"topic": "civicflow.proposal:ProposalV2"}],
    ids=["newer-version", "unknown-aggregate"],
)
def test_a_snapshot_newer_code_took_is_refused(durable_url: str, change: dict[str, Any]) -> None:
    with flows.open_flow(durable_url) as flow:
        asked = flows.discussing(flow)
        snapshot_state(flow, asked.id, **dict(change))
    with CivicFlow.open(durable_url, clock=FakeClock()) as fresh:
        before = stored_rows(fresh)
        with pytest.raises(NewerRecordError) as refused:
            fresh.withdraw(asked.id, reason="no longer needed", actor="resident-1")
        assert stored_rows(fresh) == before
    error = refused.value
    assert (error.kind, error.originator_id, error.originator_version) == ("snapshot", asked.id, 2)
    assert error.known_version == (Proposal.class_version if "class_version" in change else None)


def test_an_older_event_is_still_read_and_upcast(store_url: str) -> None:
    """The refusal is for newer versions only: version 1 records of today stay readable."""
    with flows.open_flow(store_url) as flow:
        asked = flows.discussing(flow)
        newer_record(flow, asked.id, class_version=1)
        assert flow.proposal(asked.id).version == asked.version + 1


# --- views stamped by a newer definition ------------------------------------------------------


def view_contents(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every view table and of the tracking tables, sorted."""
    with database(url) as execute:
        if backend(url) == "sqlite":
            names = [r[0] for r in execute("SELECT name FROM sqlite_master WHERE type='table'")]
        else:
            names = [
                r[0]
                for r in execute(
                    "SELECT table_name FROM information_schema.tables "
                    "WHERE table_schema = current_schema()"
                )
            ]
        tables = sorted(n for n in names if n.startswith("cf_view") or "tracking" in n)
        return {t: sorted(map(tuple, execute(f"SELECT * FROM {t}")), key=repr) for t in tables}  # noqa: S608


def stamp(url: str, version: str) -> None:
    with database(url) as execute:
        execute("UPDATE cf_view_state SET value = ? WHERE name = 'schema'", version)


NEWER_SCHEMA = str(int(SCHEMA_VERSION) + 1)


@pytest.mark.parametrize("found", [NEWER_SCHEMA, f"v{NEWER_SCHEMA}"], ids=["newer", "unreadable"])
def test_views_a_newer_definition_built_are_refused_and_left_untouched(
    durable_url: str, found: str
) -> None:
    with flows.open_flow(durable_url) as flow:
        flows.asked(flow)
        with Views(flow, k=1) as views:
            views.catch_up()
        stamp(durable_url, found)
        before = view_contents(durable_url)
        assert set(TABLES) <= set(before)
        with pytest.raises(ViewsSchemaError) as refused:
            Views(flow, k=1)
        assert view_contents(durable_url) == before
    assert (refused.value.found, refused.value.known) == (found, SCHEMA_VERSION)
    assert isinstance(refused.value, ConfigurationError)


def test_views_open_before_a_newer_definition_rebuilt_them_stop_writing(durable_url: str) -> None:
    """A rolling deploy: this (older) process opened the views, then newer code took over."""
    with flows.open_flow(durable_url) as flow, Views(flow, k=1) as views:
        flows.asked(flow)
        views.catch_up()
        stamp(durable_url, NEWER_SCHEMA)
        flows.discussing(flow)
        before = view_contents(durable_url)
        with pytest.raises(ViewsSchemaError):
            views.catch_up()
        with pytest.raises(ViewsSchemaError):
            views.rebuild()
        assert view_contents(durable_url) == before


def test_views_of_an_older_definition_are_still_rebuilt(durable_url: str) -> None:
    with flows.open_flow(durable_url) as flow:
        flows.asked(flow)
        with Views(flow, k=1) as views:
            views.catch_up()
        stamp(durable_url, "1")
        with Views(flow, k=1) as again:
            assert again.position == 0  # dropped and made anew
            assert again.catch_up() == flow.recorder.max_notification_id()
        assert view_contents(durable_url)["cf_view_state"] == [("schema", SCHEMA_VERSION)]
