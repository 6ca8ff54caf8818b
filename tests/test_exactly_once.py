"""Exactly-once commands: a command retried with its id, or cut off around its commit,
is recorded once, and the caller learns what it recorded.

Faults are real: the store's recorder is made to fail around its commit, and on
PostgreSQL a TCP proxy drops the connection after the server committed (the reply
is lost) or before it saw the COMMIT, and backends are terminated at random.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import OperationalError

from civicflow import (
    BackendUnavailableError,
    CivicFlow,
    CommandOutcomeUnknownError,
    InvalidInputError,
    Proposal,
    ProposalAlreadyExistsError,
    ProposalState,
    RuleViolationError,
)
from tests import flows
from tests.conftest import POSTGRES_URL
from tests.storage import stored_rows
from tests.tcpproxy import Proxy, proxy_to_postgres

SOAK_SECONDS = 4  # how long ratings are sent while backends are terminated
ADMIN = "civicflow-test-admin"  # the test's own connections, which are never terminated


def events_of(flow: CivicFlow, kind: type[Any], proposal_id: UUID) -> list[Any]:
    return [e for e in flow.history(proposal_id) if isinstance(e, kind)]


# --- the caller's idempotency key --------------------------------------------------------


def test_a_rating_retried_with_its_id_is_recorded_once_and_answers_the_same(
    store_url: str,
) -> None:
    with flows.open_flow(store_url) as flow:
        p = flows.rating(flow)
        key = uuid4()
        first = flow.rate(p.id, resident="resident-3", level="satisfied", command_id=key)
        again = flow.rate(p.id, resident="resident-3", level="satisfied", command_id=str(key))
        assert again == first
        assert len(events_of(flow, Proposal.Rated, p.id)) == 1
        later = flow.rate(p.id, resident="resident-3", level="dissatisfied", command_id=uuid4())
        assert later.version == first.version + 1
    if store_url != "memory://":  # a fresh application finds the command in the store
        with CivicFlow.open(store_url) as fresh:
            retried = fresh.rate(p.id, resident="resident-3", level="satisfied", command_id=key)
            assert retried == first


def test_a_backing_retried_with_its_id_is_not_refused_as_already_backed(store_url: str) -> None:
    with flows.open_flow(store_url) as flow:
        p = flows.asked(flow)
        key = uuid4()
        first = flow.back(p.id, resident="resident-2", command_id=key)
        assert flow.back(p.id, resident="resident-2", command_id=key) == first
        assert len(events_of(flow, Proposal.Backed, p.id)) == 1


def test_an_ask_retried_with_its_id_finds_the_proposal_it_created(store_url: str) -> None:
    with flows.open_flow(store_url) as flow:
        key = uuid4()
        first = flows.asked(flow, command_id=key)
        assert flows.asked(flow, command_id=key) == first
        named = uuid4()
        second = flows.asked(flow, proposal_id=named, command_id=uuid4())
        assert second.id == named
        with pytest.raises(ProposalAlreadyExistsError):
            flows.asked(flow, proposal_id=named, command_id=uuid4())
        key_with_id = uuid4()
        third = flows.asked(flow, proposal_id=uuid4(), command_id=key_with_id)
        assert flows.asked(flow, proposal_id=third.id, command_id=key_with_id) == third


def test_structure_commands_retried_with_their_ids_are_recorded_once(store_url: str) -> None:
    with flows.open_flow(store_url) as flow:
        key = uuid4()
        area = flow.add_area(
            "community-2",
            kind="community",
            name="Two",
            parent_id="street-1",
            actor="office",
            command_id=key,
        )
        assert (
            flow.add_area(
                "community-2",
                kind="community",
                name="Two",
                parent_id="street-1",
                actor="office",
                command_id=key,
            )
            == area
        )
        homes = flow.register_residents(
            ["r-a", "r-b"], compound_id=flows.COMPOUND, actor="office", command_id=key
        )
        again = flow.register_residents(
            ["r-a", "r-b"], compound_id=flows.COMPOUND, actor="office", command_id=key
        )
        assert again == homes
        # One resident, through its own command: the id used to be dropped on the way,
        # so the retry was refused as "already registered" instead of answered.
        one_key = uuid4()
        home = flow.register_resident(
            "r-c", compound_id=flows.COMPOUND, actor="office", command_id=one_key
        )
        retried = flow.register_resident(
            "r-c", compound_id=flows.COMPOUND, actor="office", command_id=one_key
        )
        assert retried == home
        moved_key = uuid4()
        moved = flow.move_out("r-a", actor="office", command_id=moved_key)
        assert flow.move_out("r-a", actor="office", command_id=moved_key) == moved


def test_a_malformed_command_id_is_refused_and_writes_nothing(store_url: str) -> None:
    with flows.open_flow(store_url) as flow:
        p = flows.rating(flow)
        before = stored_rows(flow)
        with pytest.raises(InvalidInputError, match="command_id"):
            flow.rate(p.id, resident="resident-3", level="satisfied", command_id="not-a-uuid")
        assert stored_rows(flow) == before


# --- faults around the commit, injected into the recorder ---------------------------------


def failing_inserts(flow: CivicFlow, *, after_commit: bool, times: int) -> list[int]:
    """Make the next ``times`` inserts fail, after committing or instead of it."""
    recorder = flow.store.recorder
    original = recorder.insert_events
    failed: list[int] = []

    def insert_events(*args: Any, **kwargs: Any) -> Any:
        if len(failed) >= times:
            return original(*args, **kwargs)
        failed.append(1)
        if after_commit:
            original(*args, **kwargs)
        raise OperationalError("the connection was lost")

    recorder.insert_events = insert_events  # type: ignore[method-assign]
    return failed


@pytest.mark.parametrize("after_commit", [True, False], ids=["reply-lost", "never-sent"])
def test_a_command_whose_write_fails_around_its_commit_is_recorded_once(
    durable_url: str, *, after_commit: bool
) -> None:
    with flows.open_flow(durable_url) as flow:
        p = flows.rating(flow)
        failed = failing_inserts(flow, after_commit=after_commit, times=1)
        state = flow.rate(p.id, resident="resident-4", level="satisfied")
        assert failed == [1]
        assert [r.resident for r in state.ratings] == ["resident-4"]
        assert len(events_of(flow, Proposal.Rated, p.id)) == 1
        failed = failing_inserts(flow, after_commit=after_commit, times=1)
        asked = flows.asked(flow)
        assert len([e for e in flow.history(asked.id) if isinstance(e, Proposal.Asked)]) == 1


def test_a_store_that_stays_down_mid_write_says_the_outcome_is_unknown_and_a_retry_is_safe(
    sqlite_url: str,
) -> None:
    with flows.open_flow(sqlite_url) as flow:
        p = flows.rating(flow)
        failing_inserts(flow, after_commit=True, times=10**6)
        recorder = flow.store.recorder

        def unreachable(name: str) -> int | None:
            raise OperationalError("the server went away")

        recorder.max_tracking_id = unreachable  # type: ignore[attr-defined]
        with pytest.raises(CommandOutcomeUnknownError) as raised:
            flow.rate(p.id, resident="resident-5", level="satisfied")
        key = raised.value.command_id
        assert str(key) in str(raised.value)
    with CivicFlow.open(sqlite_url) as recovered:
        state = recovered.rate(p.id, resident="resident-5", level="satisfied", command_id=key)
        assert [r.resident for r in state.ratings] == ["resident-5"]
        assert len(events_of(recovered, Proposal.Rated, p.id)) == 1


def test_a_store_down_before_any_write_is_a_plain_backend_error(sqlite_url: str) -> None:
    with flows.open_flow(sqlite_url) as flow:
        p = flows.rating(flow)
        flow.store.repository.cache = None

        def unreachable(*_: Any, **__: Any) -> Any:
            raise OperationalError("the server went away")

        flow.store.recorder.select_events = unreachable  # type: ignore[method-assign]
        with pytest.raises(BackendUnavailableError) as raised:
            flow.rate(p.id, resident="resident-6", level="satisfied")
        assert not isinstance(raised.value, CommandOutcomeUnknownError)


# --- PostgreSQL through a proxy that cuts connections ---------------------------------------


@pytest.fixture
def proxy(postgres_available: None) -> Iterator[Proxy]:
    with proxy_to_postgres() as running:
        yield running


@pytest.mark.postgres
@pytest.mark.parametrize("cut", ["reply", "commit"])
def test_a_connection_cut_around_the_commit_records_each_command_once(
    postgres_url: str, proxy: Proxy, cut: str
) -> None:
    with flows.open_flow(proxy.url(postgres_url)) as flow:
        p = flows.rating(flow)
        arm: Callable[[], None] = (
            proxy.drop_reply_to_commit if cut == "reply" else proxy.drop_commit
        )
        steps: list[Callable[[], ProposalState]] = [
            lambda: flow.rate(p.id, resident="resident-7", level="satisfied"),
            lambda: flow.back(flows.asked(flow).id, resident="resident-8"),
            lambda: flows.asked(flow, proposal_id=uuid4()),
        ]
        for step in steps:
            cuts = proxy.cuts
            arm()
            step()
            assert proxy.cuts == cuts + 1, "the proxy did not cut the connection"
    with CivicFlow.open(postgres_url) as direct:
        history = direct.history(p.id)
        assert len([e for e in history if isinstance(e, Proposal.Rated)]) == 1
        asks = [n for n in direct.recorder.select_notifications(0, 10**6) if "Asked" in n.topic]
        backs = [n for n in direct.recorder.select_notifications(0, 10**6) if "Backed" in n.topic]
        assert len(asks) == 3  # the rated one, the backed one and the one named
        assert len(backs) == 1


# --- PostgreSQL with its backends terminated at random ------------------------------------


class Terminator(threading.Thread):
    """Terminates every backend of one application name, at random moments, until stopped."""

    def __init__(self, application_name: str, pause: tuple[float, float]) -> None:
        super().__init__(daemon=True)
        self.application_name = application_name
        self.pause = pause
        self.stopped = threading.Event()
        self.terminated = 0

    def run(self) -> None:
        import psycopg

        with psycopg.connect(POSTGRES_URL, autocommit=True, application_name=ADMIN) as admin:
            while not self.stopped.wait(random.uniform(*self.pause)):
                row = admin.execute(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE application_name = %s",
                    (self.application_name,),
                ).fetchone()
                self.terminated += row[0] if row else 0

    def __enter__(self) -> Terminator:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stopped.set()
        self.join()


@dataclass
class Outcomes:
    """What each command of a stream was told, and how to send it again."""

    acknowledged: Counter[str] = field(default_factory=Counter)
    unknown: list[tuple[str, UUID, Callable[[UUID], object]]] = field(default_factory=list)
    failed: int = 0
    refused: int = 0
    sent: int = 0

    def send(self, kind: str, command: Callable[[UUID], object]) -> None:
        key = uuid4()
        self.sent += 1
        try:
            command(key)
        except CommandOutcomeUnknownError as error:
            assert error.command_id == key  # noqa: PT017  # the stream goes on after it
            self.unknown.append((kind, key, command))
        except BackendUnavailableError:
            self.failed += 1  # nothing written, or the error would say it may have been
        except RuleViolationError:
            assert kind == "back"  # a resident backs a proposal once: a plain refusal
            self.refused += 1
        else:
            self.acknowledged[kind] += 1

    def settle(self) -> None:
        """Retry, with its own id, every command whose outcome was unknown."""
        for kind, key, command in self.unknown:
            try:
                command(key)
            except RuleViolationError:
                assert kind == "back"  # not written, and refused now the store answers
            else:
                self.acknowledged[kind] += 1


@pytest.mark.postgres
def test_backends_terminated_at_random_never_double_or_lose_a_command(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every connection of the application is cut several times a second while commands
    stream in: the store keeps answering, each command acknowledged (or settled by
    retrying its id) is recorded exactly once, and one reported as failed not at all."""
    name = f"civicflow-test-{uuid4().hex[:8]}"
    monkeypatch.setenv("PGAPPNAME", name)  # names the application's connections, only them
    outcomes = Outcomes()
    with flows.open_flow(postgres_url) as flow:
        rated, backed = flows.rating(flow), flows.asked(flow)
        commands: dict[str, Callable[[str], Callable[[UUID], object]]] = {
            "rate": lambda who: (
                lambda key: flow.rate(rated.id, resident=who, level="satisfied", command_id=key)
            ),
            "back": lambda who: lambda key: flow.back(backed.id, resident=who, command_id=key),
            "ask": lambda who: lambda key: flows.asked(flow, resident=who, command_id=key),
        }
        with Terminator(name, pause=(0.1, 0.4)) as terminator:
            deadline = time.monotonic() + SOAK_SECONDS
            while time.monotonic() < deadline:
                kind = ("rate", "back", "ask")[outcomes.sent % 3]
                outcomes.send(kind, commands[kind](f"resident-{outcomes.sent % 30 + 1}"))
        assert terminator.terminated > 10, "the terminator did not cut the connections"
        answered = (sum(outcomes.acknowledged.values()) + outcomes.refused) / outcomes.sent
        assert answered > 0.8, f"only {answered:.0%} of {outcomes.sent} commands were answered"
        outcomes.settle()
    with CivicFlow.open(postgres_url) as fresh:
        log = fresh.recorder.select_notifications(0, 10**6)
        assert len(events_of(fresh, Proposal.Rated, rated.id)) == outcomes.acknowledged["rate"]
        assert len(events_of(fresh, Proposal.Backed, backed.id)) == outcomes.acknowledged["back"]
        asks = [n for n in log if n.topic.endswith("Asked")]
        assert len(asks) == 2 + outcomes.acknowledged["ask"]


@pytest.mark.postgres
def test_after_every_connection_is_cut_the_next_command_meets_one_dead_connection_at_most(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pool is swept when a connection fails, so a store that is back answers at
    once rather than after each idle connection has failed in turn."""
    name = f"civicflow-test-{uuid4().hex[:8]}"
    monkeypatch.setenv("PGAPPNAME", name)
    with flows.open_flow(postgres_url) as flow:
        p = flows.rating(flow)
        pool = flow.store.factory.datastore.pool  # type: ignore[attr-defined]
        pool.wait(timeout=5)  # every idle connection is open
        idle = pool.get_stats()["pool_available"]
        assert idle >= 3
        with Terminator(name, pause=(0, 0)) as terminator:
            while not terminator.terminated:
                time.sleep(0.01)
        time.sleep(0.2)  # the server has closed them
        flow.rate(p.id, resident="resident-9", level="satisfied")
        handed_dead = pool.get_stats().get("returns_bad", 0)
        assert handed_dead == 1, f"{handed_dead} dead connections were handed out in turn"
