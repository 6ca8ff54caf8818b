"""A command acts first on this process's cached copy, and never lets a stale copy decide.

To spare a read per command, ``Commands.update`` acts on the aggregate this process last
saw, without asking the store what others wrote since. These tests hold the two ways a
copy behind the store could betray that: its save must conflict (the next version is
taken) and run again on fresh state, and a refusal must never be judged on it. Two
applications on one store play the two processes.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import date, timedelta

import pytest
from eventsourcing.persistence import ConnectionUnavailableError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from civicflow import (
    BackendUnavailableError,
    CivicFlow,
    CommandOutcomeUnknownError,
    ProposalNotFoundError,
    ProposalState,
    Stage,
    StepNotAllowedError,
)
from civicflow.domain import proposal_replay
from civicflow.domain.community.directory import DIRECTORY_ID
from civicflow.domain.community.policy import Policy
from tests.storage import stored_rows
from tests.test_concurrency import NOW, bring_to_rating, count_lost_races, fixed_now, replay

RESIDENTS = [f"resident-{n}" for n in range(4)]
LEVEL_NAMES = ["satisfied", "basically_satisfied", "dissatisfied"]


def open_flow(url: str, max_attempts: int = 50) -> CivicFlow:
    return CivicFlow.open(
        url,
        clock=fixed_now,
        community_rules=False,
        policy=Policy(rating_window_days=10),
        max_attempts=max_attempts,
    )


@pytest.fixture
def two(durable_url: str) -> Iterator[tuple[CivicFlow, CivicFlow]]:
    """Two applications on one durable store: two processes, each with its own cache."""
    with ExitStack() as stack:
        first = stack.enter_context(open_flow(durable_url, max_attempts=1))
        second = stack.enter_context(open_flow(durable_url))
        yield first, second


def test_a_copy_behind_the_store_saves_after_what_others_wrote(
    two: tuple[CivicFlow, CivicFlow], durable_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = two
    pid, version = bring_to_rating(first)  # first's cache holds the proposal at ``version``
    second.rate(pid, resident="resident-a", level="satisfied")
    lost = count_lost_races(monkeypatch.setattr)

    # max_attempts=1: the stale copy's conflict costs no attempt, and is no lost race.
    state = first.rate(pid, resident="resident-b", level="dissatisfied")

    assert state.version == version + 2
    assert lost == []
    history = first.history(pid)
    assert [e.originator_version for e in history] == list(range(1, version + 3))
    assert [getattr(e, "resident", None) for e in history[-2:]] == ["resident-a", "resident-b"]
    assert replay(history).state == state
    with open_flow(durable_url) as fresh:
        assert fresh.proposal(pid) == state


def ask(flow: CivicFlow) -> ProposalState:
    return flow.ask(
        title="Mend the gate",
        details="It does not close.",
        category="security",
        area_id="compound-3",
        resident="asker",
        channel="visit",
        occurred_at=NOW - timedelta(days=20),
    )


def test_a_stale_copy_that_would_accept_cannot_write(two: tuple[CivicFlow, CivicFlow]) -> None:
    first, second = two
    asked = ask(first)  # first's cache: ASKED, where backing is allowed
    second.withdraw(asked.id, actor="asker", reason="Fixed by the owner")
    before = stored_rows(first)

    # On the cached copy a back would pass; on the store's state it is refused...
    with pytest.raises(StepNotAllowedError):
        first.back(asked.id, resident="backer-1")
    # ...and the store is byte for byte as it was.
    assert stored_rows(first) == before


def test_a_stale_copy_that_would_refuse_does_not_refuse(
    two: tuple[CivicFlow, CivicFlow],
) -> None:
    first, second = two
    asked = ask(first)  # first's cache: ASKED, where deciding is refused
    second.back(asked.id, resident="backer-1")
    discussed = second.discuss(
        asked.id, attendees=["m-1", "asker"], summary="A new latch", actor="m-1"
    )
    cached = first.store.cached(asked.id)
    assert cached is not None
    assert cached.version == asked.version  # behind the store by two events

    decided = first.decide(
        asked.id,
        outcome="approved",
        vote={"in_favour": 5, "against": 0},
        plan="A new latch",
        budget={"amount": "300", "funding_sources": ["district fund"]},
        responsible="m-2",
        deadline=date(2099, 1, 31),
        actor="m-1",
    )

    assert decided.version == discussed.version + 1
    assert decided.stage is not Stage.ASKED


def test_another_kind_under_the_id_is_not_taken_from_the_cache(sqlite_url: str) -> None:
    with open_flow(sqlite_url) as flow:
        flow.add_area("d-1", kind="district", name="District", actor="office")
        assert flow.store.cached(DIRECTORY_ID) is not None
        before = stored_rows(flow)
        with pytest.raises(ProposalNotFoundError):
            flow.rate(DIRECTORY_ID, resident="r-1", level="satisfied")
        assert stored_rows(flow) == before


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    moves=st.lists(
        st.tuples(st.booleans(), st.sampled_from(RESIDENTS), st.sampled_from(LEVEL_NAMES)),
        min_size=1,
        max_size=12,
    )
)
def test_interleaved_writers_lose_and_double_nothing(
    tmp_path_factory: pytest.TempPathFactory, moves: list[tuple[bool, str, str]]
) -> None:
    """Two processes rating one proposal in any interleaving: every rating lands once, in
    order, each returned state is the history's state at its version, and the last
    rating of each resident stands."""
    url = f"sqlite:///{tmp_path_factory.mktemp('cached') / 'civic.db'}"
    with open_flow(url, max_attempts=1) as first, open_flow(url, max_attempts=1) as second:
        pid, version = bring_to_rating(first)
        second.proposal(pid)  # both caches hold the proposal
        returned = []
        for on_first, resident, level in moves:
            flow = first if on_first else second
            returned.append(flow.rate(pid, resident=resident, level=level))
        history = first.history(pid)
        assert [e.originator_version for e in history] == list(range(1, version + len(moves) + 1))
        for state in returned:
            assert replay(history[: state.version]).state == state
        final = {r.resident: r.level.value for r in returned[-1].ratings}
        assert final == {resident: level for _, resident, level in moves}


def test_a_command_never_copies_an_aggregate_half_way_through_a_fast_forward(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A query thread fast-forwarding the cached proposal over a run of ratings, paused
    before the run is merged, while a command thread of the same application rates."""
    with open_flow(sqlite_url) as first, open_flow(sqlite_url) as second:
        pid, _ = bring_to_rating(first)
        for n in range(3):
            first.rate(pid, resident=f"early-{n}", level="satisfied")
        for n in range(2):  # a run of ratings first has not seen
            second.rate(pid, resident=f"other-{n}", level="dissatisfied")
        paused, go = threading.Event(), threading.Event()
        merged = proposal_replay._merged

        def slow_merged(before: ProposalState, run: ProposalState) -> dict[str, object]:
            if threading.current_thread().name == "query":
                paused.set()
                go.wait(10)
            return merged(before, run)

        monkeypatch.setattr(proposal_replay, "_merged", slow_merged)
        query = threading.Thread(target=functools.partial(first.proposal, pid), name="query")
        query.start()
        assert paused.wait(10)
        threading.Timer(0.3, go.set).start()  # the command may wait for the query's lock

        returned = first.rate(pid, resident="late", level="satisfied")
        query.join(10)

        everyone = {"early-0", "early-1", "early-2", "other-0", "other-1", "late"}
        assert {r.resident for r in returned.ratings} == everyone
        with open_flow(sqlite_url) as fresh:
            assert fresh.proposal(pid) == returned
        assert first.proposal(pid) == returned


def test_a_store_unreachable_before_the_command_is_a_plain_backend_error(
    sqlite_url: str,
) -> None:
    """The cached copy's first contact with the store is its write: a write that never
    had a connection wrote nothing, as a failed read before it would have shown."""
    with open_flow(sqlite_url) as flow:
        pid, _ = bring_to_rating(flow)
        assert flow.store.cached(pid) is not None

        def no_connection(*_: object, **__: object) -> None:
            raise ConnectionUnavailableError("couldn't get a connection after 5.00 sec")

        flow.store.recorder.insert_events = no_connection  # type: ignore[method-assign]
        before = stored_rows(flow)
        with pytest.raises(BackendUnavailableError) as raised:
            flow.rate(pid, resident="resident-6", level="satisfied")
        assert not isinstance(raised.value, CommandOutcomeUnknownError)
        assert raised.value.unsent
        assert stored_rows(flow) == before
