"""Audit through the public API: verify, tampering straight in the database, the audit trail,
encryption at rest, and moving a whole store with export and import.

Tampering is done the way an intruder with database access would do it: plain SQL on the
events table, with no help from civicflow (except where the intruder holds the audit key).
Each tampering runs on a fresh store that ``tests.walkthrough.run`` filled and that was
checkpointed afterwards, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import io
import re
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, ParamSpec, Protocol, TypeVar, cast
from urllib.parse import parse_qs, urlsplit
from uuid import UUID, uuid4

import orjson
import pytest
from eventsourcing.cipher import AESCipher
from eventsourcing.persistence import StoredEvent

from civicflow import (
    AreaKind,
    CivicFlow,
    InvalidInputError,
    Proposal,
    ProposalNotFoundError,
    RuleViolationError,
    Stage,
)
from civicflow.audit import checkpointing
from civicflow.audit.ledger import LEDGER_ID, Checkpoint, Ledger
from civicflow.audit.verification import Verification
from civicflow.domain import integrity
from civicflow.domain.eventmodel import AggregateEvent, DomainEvent
from civicflow.storage.mapper import PydanticMapper
from civicflow.views import Views
from civicflow.views.figures import Participation, Pipeline, Satisfaction
from tests import flows
from tests.conftest import POSTGRES_URL
from tests.storage import stored_rows
from tests.walkthrough import run

P = ParamSpec("P")
R = TypeVar("R")

KEY = "audit-key-kept-outside-the-database"
AUDITED = {"AUDIT_KEY": KEY}
AS_OF = date(2030, 6, 1)  # pipelines are compared as of one fixed day
EVENT_TYPES = {
    "Asked",
    "Backed",
    "Discussed",
    "Decided",
    "ProgressReported",
    "Done",
    "Published",
    "Rated",
    "RatingClosed",
    "Withdrawn",
}


# --- the database as an intruder sees it --------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One stored event: its place in the log, its version, its type, its bytes."""

    position: int
    version: int
    topic: str
    state: bytes


class Raw(Protocol):
    def rows(self, aggregate_id: UUID) -> list[Row]: ...
    def update(self, position: int, topic: str, state: bytes) -> None: ...
    def delete(self, position: int) -> None: ...
    def delete_aggregate(self, aggregate_id: UUID) -> None: ...
    def insert(self, aggregate_id: UUID, version: int, topic: str, state: bytes) -> int: ...


class SQLiteRaw:
    """``stored_events`` of a SQLite file; the rowid is the notification id."""

    def __init__(self, url: str) -> None:
        self.path = url[len("sqlite:///") :]

    def _run(self, query: str, params: tuple[object, ...] = ()) -> tuple[list[Any], int | None]:
        """The rows a statement returns and the rowid it inserted, committed."""
        con = sqlite3.connect(self.path)
        try:
            with con:
                cursor = con.execute(query, params)
                return cursor.fetchall(), cursor.lastrowid
        finally:
            con.close()

    def rows(self, aggregate_id: UUID) -> list[Row]:
        found, _ = self._run(
            "SELECT rowid, originator_version, topic, state FROM stored_events "
            "WHERE originator_id = ? ORDER BY originator_version",
            (aggregate_id.hex,),
        )
        return [Row(p, v, t, bytes(s)) for p, v, t, s in found]

    def update(self, position: int, topic: str, state: bytes) -> None:
        self._run(
            "UPDATE stored_events SET topic = ?, state = ? WHERE rowid = ?",
            (topic, state, position),
        )

    def delete(self, position: int) -> None:
        self._run("DELETE FROM stored_events WHERE rowid = ?", (position,))

    def delete_aggregate(self, aggregate_id: UUID) -> None:
        self._run("DELETE FROM stored_events WHERE originator_id = ?", (aggregate_id.hex,))

    def insert(self, aggregate_id: UUID, version: int, topic: str, state: bytes) -> int:
        _, position = self._run(
            "INSERT INTO stored_events (originator_id, originator_version, topic, state) "
            "VALUES (?, ?, ?, ?)",
            (aggregate_id.hex, version, topic, state),
        )
        assert position is not None
        return position


class PostgresRaw:
    """``civicflow_events`` in the store's schema; ``notification_id`` is the position."""

    def __init__(self, url: str) -> None:
        from psycopg import sql

        parts = urlsplit(url)
        schema = parse_qs(parts.query)["schema"][0]
        self.dsn = parts._replace(query="").geturl()
        self.table = sql.Identifier(schema, "civicflow_events")
        self.qualified = f"{schema}.civicflow_events"

    def _run(self, query: str, params: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.dsn, autocommit=True) as conn:
            cursor = conn.execute(sql.SQL(query).format(table=self.table), params)
            return cursor.fetchall() if cursor.description else []

    def rows(self, aggregate_id: UUID) -> list[Row]:
        found = self._run(
            "SELECT notification_id, originator_version, topic, state FROM {table} "
            "WHERE originator_id = %s ORDER BY originator_version",
            (aggregate_id,),
        )
        return [Row(p, v, t, bytes(s)) for p, v, t, s in found]

    def update(self, position: int, topic: str, state: bytes) -> None:
        self._run(
            "UPDATE {table} SET topic = %s, state = %s WHERE notification_id = %s",
            (topic, state, position),
        )

    def delete(self, position: int) -> None:
        self._run("DELETE FROM {table} WHERE notification_id = %s", (position,))

    def delete_aggregate(self, aggregate_id: UUID) -> None:
        self._run("DELETE FROM {table} WHERE originator_id = %s", (aggregate_id,))

    def insert(self, aggregate_id: UUID, version: int, topic: str, state: bytes) -> int:
        [(position,)] = self._run(
            "INSERT INTO {table} (originator_id, originator_version, topic, state) "
            "VALUES (%s, %s, %s, %s) RETURNING notification_id",
            (aggregate_id, version, topic, state),
        )
        return int(position)


def raw_store(url: str) -> Raw:
    return PostgresRaw(url) if url.startswith("postgresql") else SQLiteRaw(url)


@dataclass(frozen=True)
class Walked:
    """A store after one walkthrough and one checkpoint."""

    url: str
    proposal_id: UUID
    checkpoint: Checkpoint


def walked(url: str) -> Walked:
    with CivicFlow.open(url, env=AUDITED) as flow:
        state = run(flow, io.StringIO())
        checkpoint = flow.checkpoint(actor="office")
        assert flow.verify().ok
    return Walked(url, state.id, checkpoint)


class Templates:
    """The walked store of each backend, built once; every tampering test gets a copy of it.

    The copy is made below civicflow (SQLite's backup API, PostgreSQL's INSERT ... SELECT
    keeping the notification ids), so each test tampers with a fresh store holding exactly
    the bytes and positions the walkthrough wrote.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.built: dict[bool, Walked] = {}
        self.schemas: list[str] = []

    def walked(self, url: str) -> Walked:
        postgres = url.startswith("postgresql")
        if postgres not in self.built:
            self.built[postgres] = walked(self._template_url(postgres))
        template = self.built[postgres]
        (_copy_postgres if postgres else _copy_sqlite)(template.url, url)
        copy = Walked(url, template.proposal_id, template.checkpoint)
        assert verified(url, published={1: copy.checkpoint.digest}).ok
        return copy

    def _template_url(self, postgres: bool) -> str:
        if not postgres:
            return f"sqlite:///{self.directory / 'walked.db'}"
        schema = f"civicflow_walked_{uuid4().hex[:12]}"
        self.schemas.append(schema)
        return f"{POSTGRES_URL}?schema={schema}"

    def drop(self) -> None:
        if not self.schemas:
            return
        import psycopg
        from psycopg import sql

        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            for schema in self.schemas:
                conn.execute(
                    sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
                )


def _copy_sqlite(source_url: str, target_url: str) -> None:
    source = sqlite3.connect(SQLiteRaw(source_url).path)
    target = sqlite3.connect(SQLiteRaw(target_url).path)
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()


def _copy_postgres(source_url: str, target_url: str) -> None:
    import psycopg
    from psycopg import sql

    with CivicFlow.open(target_url):
        pass  # creates the schema and the tables
    source, target = PostgresRaw(source_url), PostgresRaw(target_url)
    columns = sql.SQL("notification_id, originator_id, originator_version, topic, state")
    with psycopg.connect(target.dsn, autocommit=True) as conn:
        conn.execute(
            sql.SQL("INSERT INTO {target} ({columns}) SELECT {columns} FROM {source}").format(
                target=target.table, source=source.table, columns=columns
            )
        )
        conn.execute(
            sql.SQL(
                "SELECT setval(pg_get_serial_sequence({name}, 'notification_id'), "
                "(SELECT max(notification_id) FROM {target}))"
            ).format(name=sql.Literal(target.qualified), target=target.table)
        )


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Templates]:
    built = Templates(tmp_path_factory.mktemp("walked"))
    yield built
    built.drop()


def verified(url: str, published: dict[int, str] | None = None) -> Verification:
    """Verify with a fresh application, as an auditor opening the store would."""
    with CivicFlow.open(url, env=AUDITED) as auditor:
        return auditor.verify(published=published)


Found = tuple[str, str | None, int | None, int | None]  # kind, aggregate id, version, position


def found(result: Verification) -> set[Found]:
    return {(p.kind, p.aggregate_id, p.version, p.position) for p in result.problems}


def pydantic_mapper(flow: CivicFlow) -> PydanticMapper:
    """``flow.mapper`` as the type it has: every ``CivicFlow`` constructs a PydanticMapper."""
    return cast(PydanticMapper, flow.mapper)


def domain_event(flow: CivicFlow, aggregate_id: UUID, row: Row) -> AggregateEvent:
    event: AggregateEvent = pydantic_mapper(flow).to_domain_event(
        StoredEvent(
            originator_id=aggregate_id,
            originator_version=row.version,
            topic=row.topic,
            state=row.state,
        )
    )
    return event


def resealed(flow: CivicFlow, event: DomainEvent) -> bytes:
    """The bytes ``flow``'s mapper stores for ``event``, sealed with ``flow``'s key."""
    return bytes(flow.mapper.to_stored_event(event).state)


# --- an untouched store ---------------------------------------------------------------------


def test_an_untouched_store_verifies_on_every_backend(store_url: str) -> None:
    with CivicFlow.open(store_url, env=AUDITED) as flow:
        run(flow, io.StringIO())
        first = flow.checkpoint(actor="office")
        run(flow, io.StringIO())
        second = flow.checkpoint(actor="office")
        published = {1: first.digest, 2: second.digest}
        result = flow.verify(published=published)
        log = flow.recorder.select_notifications(start=None, limit=10**9)
        assert flow.checkpoints() == (first, second)
        wrong = flow.verify(published={1: second.digest, 3: first.digest})
    ledger = [n for n in log if n.originator_id == LEDGER_ID]
    assert result == Verification(
        ok=True,
        keyed=True,
        events=len(log),
        checkpoints=2,
        problems=(),
        assurance=result.assurance,
    )
    assert "no published head" in result.assurance
    assert (first.number, second.number) == (1, 2)
    assert second.sealed == len(log) - len(ledger)  # every aggregate event, ledger aside
    assert first.up_to < second.up_to == max(n.id for n in log if n.originator_id != LEDGER_ID)
    assert first.digest != second.digest
    assert not wrong.ok
    assert {(p.kind, p.aggregate, p.detail.split(" does")[0]) for p in wrong.problems} == {
        ("published", "log", "checkpoint 1"),
        ("published", "log", "checkpoint 3"),
    }


def test_a_store_without_an_audit_key_verifies_but_says_it_is_unkeyed() -> None:
    with CivicFlow.open("memory://") as flow:
        run(flow, io.StringIO())
        checkpoint = flow.checkpoint(actor="office")
        result = flow.verify(published={1: checkpoint.digest})
        assert result.ok
        assert not result.keyed
        assert result.checkpoints == 1
        assert all(
            integrity.SEAL_FIELD not in pydantic_mapper(flow).decode_state(n)
            for n in flow.recorder.select_notifications(start=None, limit=10**9)
        )


# --- tampering in the database ----------------------------------------------------------------


Tamper = Callable[[Walked, Raw], set[Found]]


def alter_one_byte(store: Walked, raw: Raw) -> set[Found]:
    pid = str(store.proposal_id)
    row = raw.rows(store.proposal_id)[4]
    assert row.topic == "civicflow.proposal:Proposal.Discussed"
    changed = row.state.replace(b"LEDs", b"LEDS", 1)
    assert len(changed) == len(row.state)
    assert sum(a != b for a, b in zip(changed, row.state, strict=True)) == 1
    assert orjson.loads(changed)["summary"] == "Residents prefer motion-sensor LEDS."
    raw.update(row.position, row.topic, changed)
    return {
        ("altered", pid, 5, row.position),
        ("checkpoint", None, None, store.checkpoint.up_to),
    }


def delete_a_middle_row(store: Walked, raw: Raw) -> set[Found]:
    row = raw.rows(store.proposal_id)[9]
    assert (row.version, row.topic) == (10, "civicflow.proposal:Proposal.Rated")
    raw.delete(row.position)
    return {
        ("deleted", str(store.proposal_id), 10, None),  # the gap, where the log no longer has it
        ("deleted", None, None, None),  # the checkpoint sealed one event more than remains
    }


def swap_two_states(store: Walked, raw: Raw) -> set[Found]:
    rows = raw.rows(store.proposal_id)
    first, second = rows[9], rows[10]  # two ratings: same type, different residents
    assert first.topic == second.topic == "civicflow.proposal:Proposal.Rated"
    assert first.state != second.state
    raw.update(first.position, first.topic, second.state)
    raw.update(second.position, second.topic, first.state)
    pid = str(store.proposal_id)
    return {
        ("reordered", pid, 10, first.position),
        ("reordered", pid, 11, second.position),
        ("checkpoint", None, None, store.checkpoint.up_to),
    }


def swap_two_rows(store: Walked, raw: Raw) -> set[Found]:
    rows = raw.rows(store.proposal_id)
    session, decision = rows[4], rows[5]  # the council session and its decision
    assert decision.topic == "civicflow.proposal:Proposal.Decided"
    raw.update(session.position, decision.topic, decision.state)
    raw.update(decision.position, session.topic, session.state)
    pid = str(store.proposal_id)
    return {
        ("reordered", pid, 5, session.position),
        ("reordered", pid, 6, decision.position),
        ("checkpoint", None, None, store.checkpoint.up_to),
    }


def insert_a_forged_event(store: Walked, raw: Raw) -> set[Found]:
    last = raw.rows(store.proposal_id)[-1]
    state = orjson.loads(last.state)
    seal = state.pop(integrity.SEAL_FIELD)
    # A careful forger links the chain (digests need no key) and copies a genuine seal.
    state["previous_digest"] = integrity.digest(last.topic, store.proposal_id, last.version, state)
    state["satisfied"] = 10
    state[integrity.SEAL_FIELD] = seal
    position = raw.insert(store.proposal_id, last.version + 1, last.topic, orjson.dumps(state))
    return {("inserted", str(store.proposal_id), last.version + 1, position)}


def delete_a_whole_proposal(store: Walked, raw: Raw) -> set[Found]:
    versions = len(raw.rows(store.proposal_id))
    raw.delete_aggregate(store.proposal_id)
    assert raw.rows(store.proposal_id) == []
    return {
        ("deleted", str(store.proposal_id), versions, None),  # the checkpoint saw it
        ("deleted", None, None, None),
    }


@pytest.mark.parametrize(
    "tamper",
    [
        alter_one_byte,
        delete_a_middle_row,
        swap_two_states,
        swap_two_rows,
        insert_a_forged_event,
        delete_a_whole_proposal,
    ],
)
def test_verify_reports_tampering_done_in_the_database(
    durable_url: str, tamper: Tamper, templates: Templates
) -> None:
    store = templates.walked(durable_url)
    expected = tamper(store, raw_store(durable_url))
    result = verified(durable_url, published={1: store.checkpoint.digest})
    assert not result.ok
    assert result.keyed
    assert found(result) == expected
    for problem in result.problems:
        if problem.aggregate_id is None:
            assert problem.aggregate == "log"
        elif problem.position is not None:  # a record the log holds names its aggregate type
            assert problem.aggregate == "Proposal"


def test_a_key_holder_rewrite_is_exposed_by_the_published_checkpoint_digest(
    durable_url: str, templates: Templates
) -> None:
    store = templates.walked(durable_url)
    published = {1: store.checkpoint.digest}
    raw = raw_store(durable_url)
    # The office holds the key and "improves" the final rating round, sealing it properly.
    with CivicFlow.open(durable_url, env=AUDITED) as insider:
        last = raw.rows(store.proposal_id)[-1]
        closed = domain_event(insider, store.proposal_id, last)
        assert isinstance(closed, Proposal.RatingClosed)
        assert closed.dissatisfied > 0
        better = closed.model_copy(
            update={
                "satisfied": closed.satisfied + closed.dissatisfied,
                "dissatisfied": 0,
                "satisfaction_rate": Decimal(1),
            }
        )
        raw.update(last.position, last.topic, resealed(insider, better))
    # Every seal holds and the chain is whole: only the checkpoint sees the change.
    rewritten = verified(durable_url)
    assert found(rewritten) == {("checkpoint", None, None, store.checkpoint.up_to)}
    # So the key holder seals the log again and rewrites the checkpoint as well.
    with CivicFlow.open(durable_url, env=AUDITED) as insider:
        digest = checkpointing.seal_log(pydantic_mapper(insider), insider.recorder, None)["digest"]
        [_, row] = raw.rows(LEDGER_ID)
        checkpointed = domain_event(insider, LEDGER_ID, row)
        assert isinstance(checkpointed, Ledger.Checkpointed)
        forged = checkpointed.model_copy(update={"digest": digest})
        raw.update(row.position, row.topic, resealed(insider, forged))
    with CivicFlow.open(durable_url, env=AUDITED) as auditor:
        assert auditor.proposal(store.proposal_id).rounds[-1].satisfaction_rate == 1
        assert auditor.verify().ok  # the key alone cannot stop the one who holds it...
        exposed = auditor.verify(published=published)  # ...the digest published before can
        assert auditor.checkpoints()[0].digest != published[1]
    assert not exposed.ok
    assert [(p.kind, p.aggregate) for p in exposed.problems] == [("published", "log")]


def test_a_forger_without_the_key_cannot_reseal_a_history_that_verifies(
    durable_url: str, templates: Templates
) -> None:
    store = templates.walked(durable_url)
    raw = raw_store(durable_url)
    # The same rewrite as the key holder's, by someone who guessed a key.
    with CivicFlow.open(durable_url, env={"AUDIT_KEY": "a guess"}) as forger:
        rows = raw.rows(store.proposal_id)
        last = rows[-1]
        closed = domain_event(forger, store.proposal_id, last)
        better = closed.model_copy(update={"dissatisfied": 0, "satisfaction_rate": Decimal(1)})
        raw.update(last.position, last.topic, resealed(forger, better))
        extra = better.model_copy(
            update={
                "originator_version": last.version + 1,
                "previous_digest": integrity.event_digest(better),
            }
        )
        position = raw.insert(
            store.proposal_id, extra.originator_version, last.topic, resealed(forger, extra)
        )
        digest = checkpointing.seal_log(pydantic_mapper(forger), forger.recorder, None)["digest"]
        [_, row] = raw.rows(LEDGER_ID)
        checkpointed = domain_event(forger, LEDGER_ID, row)
        forged = checkpointed.model_copy(update={"digest": digest})
        raw.update(row.position, row.topic, resealed(forger, forged))
        # The forged records carry seals that hold, but under the guessed key only.
        state = orjson.loads(raw.rows(store.proposal_id)[-1].state)
        seal = state.pop(integrity.SEAL_FIELD)
        record = integrity.digest(last.topic, store.proposal_id, last.version + 1, state)
        assert integrity.verifies(b"a guess", record, seal)
        assert not integrity.verifies(KEY.encode(), record, seal)
    result = verified(durable_url)
    assert not result.ok
    pid = str(store.proposal_id)
    assert ("altered", pid, last.version, last.position) in found(result)
    assert ("inserted", pid, last.version + 1, position) in found(result)
    assert ("checkpoint", None, None, store.checkpoint.up_to) in found(result)
    ledger = [p for p in result.problems if p.aggregate_id == str(LEDGER_ID)]
    assert [(p.aggregate, p.version, p.position) for p in ledger] == [("Ledger", 2, row.position)]


# --- encryption at rest ----------------------------------------------------------------------


def test_an_encrypted_store_keeps_comments_unreadable_on_disk_and_still_verifies(
    sqlite_url: str,
) -> None:
    secret = f"the lift smells of {uuid4().hex}"
    env = {"CIPHER_KEY": AESCipher.create_key(num_bytes=32), **AUDITED}
    path = Path(sqlite_url[len("sqlite:///") :])

    def on_disk() -> bytes:
        files = [path, path.with_name(path.name + "-wal")]
        return b"".join(f.read_bytes() for f in files if f.exists())

    with flows.open_flow(sqlite_url, env=env) as flow:
        p = flows.rating(flow)
        flow.rate(p.id, resident="resident-3", level="basically_satisfied", comment=secret)
        checkpoint = flow.checkpoint(actor="office")
        [rating] = flow.proposal(p.id).ratings
        assert rating.comment == secret  # readable through civicflow
        disk = on_disk()
        assert b"civicflow.proposal:Proposal.Rated" in disk  # these are the store's bytes
        assert secret.encode() not in disk
        assert flows.APPROVAL["plan"].encode() not in disk
    assert secret.encode() not in on_disk()
    with CivicFlow.open(sqlite_url, env=env) as auditor:
        result = auditor.verify(published={1: checkpoint.digest})
    assert result.ok
    assert result.keyed
    assert result.events > 0


def test_a_damaged_encrypted_record_is_reported_unreadable_where_it_lies(
    sqlite_url: str,
) -> None:
    env = {"CIPHER_KEY": AESCipher.create_key(num_bytes=32), **AUDITED}
    with flows.open_flow(sqlite_url, env=env) as flow:
        p = flows.rating(flow)
        flow.rate(p.id, resident="resident-3", level="satisfied", comment="Bright now")
        flow.rate(p.id, resident="resident-4", level="satisfied")
        flow.checkpoint(actor="office")
    raw = SQLiteRaw(sqlite_url)
    damaged = raw.rows(p.id)[-2]  # the commented rating, followed by another one
    state = bytearray(damaged.state)
    state[len(state) // 2] ^= 1
    raw.update(damaged.position, damaged.topic, bytes(state))
    result = verified_with(sqlite_url, env)
    assert not result.ok
    [unreadable] = [p for p in result.problems if p.kind == "unreadable"]
    assert (unreadable.aggregate, unreadable.aggregate_id) == ("Proposal", str(p.id))
    assert (unreadable.version, unreadable.position) == (damaged.version, damaged.position)
    # The record is still in the log, where it was: nothing says it was deleted.
    assert not [
        problem
        for problem in result.problems
        if problem.kind == "deleted" and problem.aggregate_id == str(p.id)
    ]


def verified_with(url: str, env: dict[str, str]) -> Verification:
    with CivicFlow.open(url, env=env) as auditor:
        return auditor.verify()


# --- the audit trail ----------------------------------------------------------------------------


def now_between() -> datetime:
    """A recording moment strictly after the last command and strictly before the next."""
    moment = datetime.now(UTC)
    while datetime.now(UTC) <= moment:
        pass
    return moment


def test_the_audit_trail_tells_every_event_with_stages_actors_times_and_words() -> None:
    with flows.open_flow() as flow:
        clock = flows.clock_of(flow)
        before = now_between()
        occurred: list[datetime] = []
        moments: list[datetime] = []

        def step(command: Callable[P, R], *args: P.args, **fields: P.kwargs) -> R:
            clock.advance(hours=1)
            occurred.append(clock())
            state = command(*args, **fields)
            moments.append(now_between())
            return state

        p = step(flows.asked, flow)
        pid = p.id
        step(flow.back, pid, resident="resident-2")
        step(flow.discuss, pid, attendees=[*flows.MEMBERS], summary="More quotes", actor="member-1")
        step(
            flow.decide,
            pid,
            outcome="deferred",
            vote={"in_favour": 2, "against": 0, "abstain": 1},
            actor="member-1",
        )
        step(flow.discuss, pid, attendees=[*flows.MEMBERS], summary="Quotes in", actor="member-1")
        step(flow.decide, pid, **flows.APPROVAL)
        step(flow.report_progress, pid, percent=40, note="Wiring", spent="1000", actor="member-2")
        step(
            flow.complete,
            pid,
            summary="Installed",
            total_spent="3400",
            evidence=["photo:1"],
            actor="member-2",
        )
        step(flow.publish, pid, channels=["notice_board"], summary="Lights on", actor="member-1")
        step(flow.rate, pid, resident="resident-1", level="dissatisfied", comment="Too dim")
        step(flow.rate, pid, resident="resident-2", level="dissatisfied")
        closes_at = flow.proposal(pid).rating_closes_at
        assert closes_at is not None  # the proposal is in its rating stage
        clock.now = closes_at
        step(flow.close_rating, pid, actor="member-1")
        step(
            flow.complete,
            pid,
            summary="Brighter bulbs",
            total_spent="3500",
            evidence=["photo:2"],
            actor="member-2",
        )
        step(flow.publish, pid, channels=["group_chat"], summary="Brighter now", actor="member-1")
        step(flow.rate, pid, resident="resident-1", level="satisfied")
        closes_at = flow.proposal(pid).rating_closes_at
        assert closes_at is not None  # the proposal is in its rating stage
        clock.now = closes_at
        step(flow.close_rating, pid, actor="member-1")

        withdrawn = flows.asked(flow, title="Paint the gate")
        flow.withdraw(withdrawn.id, reason="Done by the owners", actor="resident-1")
        rejected = flows.rejected(flow)
        flow.publish(rejected.id, channels=["notice_board"], summary="Why not", actor="member-1")

        entries = flow.audit_trail(pid)
        history = flow.history(pid)
        others = [*flow.audit_trail(withdrawn.id), *flow.audit_trail(rejected.id)]
        document = flow.audit_document(pid)
        chinese = flow.audit_document(pid, lang="zh")

        s = Stage
        assert [(e.event, e.stage_before, e.stage_after) for e in entries] == [
            ("Asked", None, s.ASKED),
            ("Backed", s.ASKED, s.ASKED),
            ("Discussed", s.ASKED, s.DISCUSSING),
            ("Decided", s.DISCUSSING, s.DISCUSSING),  # deferred
            ("Discussed", s.DISCUSSING, s.DISCUSSING),
            ("Decided", s.DISCUSSING, s.DOING),  # approved
            ("ProgressReported", s.DOING, s.DOING),
            ("Done", s.DOING, s.DONE),
            ("Published", s.DONE, s.RATING),
            ("Rated", s.RATING, s.RATING),
            ("Rated", s.RATING, s.RATING),
            ("RatingClosed", s.RATING, s.DOING),  # below the threshold: rectification
            ("Done", s.DOING, s.DONE),
            ("Published", s.DONE, s.RATING),
            ("Rated", s.RATING, s.RATING),
            ("RatingClosed", s.RATING, s.CLOSED),
        ]
        assert [e.version for e in entries] == list(range(1, 17))
        assert [e.stage_after for e in entries] == [
            flow.proposal(pid, version=v).stage for v in range(1, 17)
        ]
        assert [e.actor for e in entries] == [
            "resident-1",
            "resident-2",
            *["member-1"] * 4,
            "member-2",
            "member-2",
            "member-1",
            "resident-1",
            "resident-2",
            "member-1",
            "member-2",
            "member-1",
            "resident-1",
            "member-1",
        ]
        assert [e.occurred_at for e in entries] == occurred
        for entry, event, after, previous in zip(
            entries, history, moments, [before, *moments[:-1]], strict=True
        ):
            assert previous < entry.recorded_at <= after
            assert entry.recorded_at == event.timestamp
        assert entries[0].digest_link is None
        assert [e.digest_link for e in entries[1:]] == [
            integrity.event_digest(event) for event in history[:-1]
        ]

        everything = [*entries, *others]
        assert {e.event for e in everything} == EVENT_TYPES
        for entry in everything:
            assert entry.zh.strip()
            assert entry.en.strip()
            assert entry.zh != entry.en
        assert "deferred" in entries[3].en
        assert "approved" in entries[5].en
        assert "rectification" in entries[11].en
        assert "整改" in entries[11].zh
        assert [o.en for o in others if o.event == "Withdrawn"] == ["withdrawn: Done by the owners"]
        assert any("Not the compound's responsibility" in o.en for o in others)
        assert [o.stage_after for o in others][-1] is s.CLOSED

        assert "Fix the stairwell lights" in document
        assert "# 审计记录" in chinese
        for entry in entries:
            assert entry.en in document
            assert entry.zh in chinese
            assert entry.zh not in document
        assert len(document.splitlines()) == 4 + len(entries)

        with pytest.raises(ProposalNotFoundError):
            flow.proposal_as_of(pid, before)
        assert flow.audit_trail(pid, as_of=before) == []
        for version, moment in enumerate(moments, 1):
            assert flow.proposal_as_of(pid, moment) == flow.proposal(pid, version=version)
            assert len(flow.audit_trail(pid, as_of=moment)) == version
        assert flow.proposal_as_of(pid, datetime.now(UTC)) == flow.proposal(pid)


def test_free_text_with_a_pipe_or_a_line_break_stays_in_its_cell_of_the_audit_document() -> None:
    with flows.open_flow() as flow:
        p = flows.asked(flow, title="Lights | stairs")
        flow.withdraw(p.id, reason="Owners fixed it.\nNo cost | no work", actor="resident-1")
        document = flow.audit_document(p.id)
    lines = document.splitlines()
    assert lines[0].startswith("# Audit trail: Lights")
    rows = lines[4:]
    assert len(rows) == 2  # one row per event
    for row in rows:
        cells = re.split(r"(?<!\\)\|", row)
        assert (cells[0], cells[-1]) == ("", "")
        assert len(cells[1:-1]) == 6  # version, occurred, recorded, actor, stage, what happened
    assert "Owners fixed it." in rows[1]
    assert "no work" in rows[1]


# --- export and import -------------------------------------------------------------------------


def rich_store() -> tuple[CivicFlow, list[UUID], dict[int, str]]:
    """Structure, policies, sponsors, moves and proposals in every stage; two checkpoints."""
    flow = flows.open_flow(env=AUDITED)
    flow.set_policy("district-1", rating_window_days=10, actor="office")
    flow.assign_sponsor("community-1", sponsor="cadre-wang", kind="cadre", actor="office")
    flow.add_area(
        "compound-8",
        kind="compound",
        name="Hongqi 8",
        parent_id="community-1",
        is_old=False,
        has_property_management=True,
        households=20,
        actor="office",
    )
    flow.register_resident("newcomer", compound_id="compound-8", actor="office")
    flow.move_resident("resident-30", compound_id="compound-8", actor="office")
    closed = flows.rating(flow)
    flows.rate_all(flow, closed, ["satisfied"] * 4 + ["basically_satisfied", "dissatisfied"])
    flows.close_round(flow, closed)
    first = flow.checkpoint(actor="office")
    again = flows.rating(flow)
    flows.rate_all(flow, again, ["dissatisfied"] * 3 + ["satisfied"])
    flows.close_round(flow, again)
    flow.report_progress(again.id, percent=50, note="Redo", spent="3450", actor="member-2")
    rejected = flows.rejected(flow)
    flow.publish(rejected.id, channels=["notice_board"], summary="Why not", actor="member-1")
    withdrawn = flows.asked(flow, resident="resident-4")
    flow.withdraw(withdrawn.id, reason="Moved away", actor="resident-4")
    asked = flows.asked(flow, resident="resident-5")
    flow.back(asked.id, resident="resident-6")
    flows.clock_of(flow).advance(days=200)
    flow.move_out("resident-29", actor="office")
    late = flows.doing(flow)
    second = flow.checkpoint(actor="office")
    ids = [closed.id, again.id, rejected.id, withdrawn.id, asked.id, late.id]
    return flow, ids, {1: first.digest, 2: second.digest}


# By level: satisfaction, participation and pipeline rows.
Figures = dict[str, tuple[list[Satisfaction], list[Participation], list[Pipeline]]]


def exported(flow: CivicFlow) -> str:
    out = io.StringIO()
    count = flow.export_events(out)
    assert count == len(out.getvalue().splitlines()) - 2  # a header and a trailer
    return out.getvalue()


def counted(views: Views) -> Figures:
    """Every figure of the views at every level (pipelines as of ``AS_OF``)."""
    return {
        level.value: (
            views.satisfaction(level=level),
            views.participation(level=level),
            views.pipeline(level=level, as_of=AS_OF),
        )
        for level in AreaKind
    }


def figures(flow: CivicFlow) -> Figures:
    with Views(flow, k=1) as views:
        views.catch_up()
        return counted(views)


def test_an_export_imported_into_an_empty_store_gives_the_same_store(store_url: str) -> None:
    source, ids, published = rich_store()
    text = exported(source)
    lines = text.splitlines(keepends=True)
    with source, CivicFlow.open(store_url, env=AUDITED) as target:
        assert target.import_events(lines) == len(lines) - 2
        assert target.verify(published=published) == source.verify(published=published)
        assert target.verify(published=published).ok
        assert target.checkpoints() == source.checkpoints()
        assert [target.proposal(pid) for pid in ids] == [source.proposal(pid) for pid in ids]
        assert [target.proposal(pid).stage for pid in ids] == [
            Stage.CLOSED,
            Stage.DOING,
            Stage.CLOSED,
            Stage.WITHDRAWN,
            Stage.ASKED,
            Stage.DOING,
        ]
        assert target.structure() == source.structure()
        shown = figures(source)
        assert all(satisfaction and pipeline for satisfaction, _, pipeline in shown.values())
        assert figures(target) == shown
        assert exported(target) == text  # a round trip changes no byte of the export

        before = stored_rows(target)
        with pytest.raises(RuleViolationError, match="empty store"):
            target.import_events(lines)
        assert stored_rows(target) == before


def test_an_import_into_a_store_that_has_anything_writes_nothing() -> None:
    source, _, _ = rich_store()
    lines = exported(source).splitlines()
    with source, flows.open_flow() as busy:
        before = stored_rows(busy)
        with pytest.raises(RuleViolationError):
            busy.import_events(lines)
        assert stored_rows(busy) == before


@pytest.mark.parametrize(
    "bad",
    [
        "{not json",
        '["a", "list"]',
        '{"id": "not-a-uuid", "version": 1, "topic": "t", "state": {}}',
        '{"id": "00000000-0000-4000-8000-000000000001", "version": 1, "state": {}}',
        '{"id": "00000000-0000-4000-8000-000000000001", "version": "one", "topic": "t", '
        '"state": {}}',
    ],
)
def test_a_malformed_line_is_an_invalid_input_and_nothing_is_imported(bad: str) -> None:
    source, _, _ = rich_store()
    lines = exported(source).splitlines()
    with source, CivicFlow.open("memory://", env=AUDITED) as target:
        with pytest.raises(InvalidInputError, match="line 6"):
            target.import_events([*lines[:5], bad, *lines[5:]])
        assert stored_rows(target) == []


def test_a_malformed_line_late_in_a_long_export_imports_nothing(sqlite_url: str) -> None:
    source, _, _ = rich_store()
    with source:
        template = next(
            item
            for item in map(orjson.loads, exported(source).splitlines()[1:-1])
            if item["topic"] == "civicflow.resident:Resident.Registered"
        )
    # A long export (many residents: more than one import batch, as a headerless v1 file
    # into an unkeyed store, since new ids break the seals), then one broken line.
    lines = [
        orjson.dumps({**template, "id": str(uuid4()), "position": n}).decode()
        for n in range(1, 1501)
    ]
    with CivicFlow.open(sqlite_url) as target:
        with pytest.raises(InvalidInputError, match="line 1501"):
            target.import_events([*lines, "{broken"])
        assert stored_rows(target) == []  # so the whole export can be imported once fixed
        assert target.import_events(lines) == len(lines)


def test_views_as_of_a_moment_equal_views_counted_from_what_was_recorded_by_then() -> None:
    with flows.open_flow(env=AUDITED) as flow:
        first = flows.rating(flow)
        flows.rate_all(flow, first, ["satisfied"] * 3 + ["dissatisfied"])
        flows.close_round(flow, first)
        second = flows.rating(flow)
        flows.rate_all(flow, second, ["basically_satisfied", "satisfied"])
        moment = now_between()
        flows.rate_all(flow, second, ["dissatisfied"] * 4)
        flows.close_round(flow, second)
        flows.asked(flow)
        flow.move_out("resident-1", actor="office")
        lines = exported(flow).splitlines()[1:-1]  # the records: a v1 file cut anywhere
        known = [
            line
            for line in lines
            if datetime.fromisoformat(orjson.loads(line)["state"]["timestamp"]) <= moment
        ]
        assert 0 < len(known) < len(lines)
        with Views.as_of(flow, moment, k=1) as then:
            at_moment = counted(then)
            position = then.position
        with CivicFlow.open("memory://", env=AUDITED) as past:
            past.import_events(known)
            assert past.verify().ok
            assert figures(past) == at_moment
            assert position == past.recorder.max_notification_id()
        assert figures(flow) != at_moment
