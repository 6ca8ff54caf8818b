"""Exactly-once commands: a command retried with its id, or cut off around its commit,
is recorded once, and the caller learns what it recorded.

Faults are real: the store's recorder is made to fail around its commit, and on
PostgreSQL a TCP proxy drops the connection after the server committed (the reply
is lost) or before it saw the COMMIT, and backends are terminated at random.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
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
)
from tests import flows
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
