"""A command acts first on this process's cached copy, and never lets a stale copy decide.

To spare a read per command, ``Commands.update`` acts on the aggregate this process last
saw, without asking the store what others wrote since. These tests hold the two ways a
copy behind the store could betray that: its save must conflict (the next version is
taken) and run again on fresh state, and a refusal must never be judged on it. Two
applications on one store play the two processes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from civicflow import (
    CivicFlow,
    ProposalNotFoundError,
    ProposalState,
    Stage,
    StepNotAllowedError,
)
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
