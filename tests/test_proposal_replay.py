"""Replay with runs of ratings folded in once gives the state of applying events one by one."""

from __future__ import annotations

import random
from typing import Any

import pytest
from eventsourcing.domain import OriginatorVersionError

from civicflow import CivicFlow, Proposal
from civicflow.domain.proposal_replay import replay
from tests import flows

LEVELS = ("satisfied", "basically_satisfied", "dissatisfied")


def one_by_one(aggregate: Any, events: list[Any]) -> Any:
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


def rate_randomly(flow: CivicFlow, proposal_id: Any, times: int, seed: int) -> None:
    """Ratings by a few residents, most of them rating again, some with a comment."""
    chance = random.Random(seed)  # a reproducible test history
    for _ in range(times):
        flow.rate(
            proposal_id,
            resident=chance.choice(flows.RESIDENTS[:9]),
            level=chance.choice(LEVELS),
            comment=chance.choice([None, "Bright enough", 'He said "fine"']),
        )


def history_of_two_rounds(flow: CivicFlow) -> list[Any]:
    """Ratings, a round below threshold (back to Do), the work again, and more ratings."""
    p = flows.rating(flow)
    flows.rate_all(flow, p, ["dissatisfied"] * 6)
    rate_randomly(flow, p.id, 25, seed=1)
    for resident in flows.RESIDENTS[:9]:
        flow.rate(p.id, resident=resident, level="dissatisfied")
    flows.close_round(flow, p)
    flow.complete(p.id, summary="Again", total_spent="3500", evidence=["photo:2"], actor="member-2")
    flow.publish(p.id, channels=["notice_board"], summary="Fixed", actor="member-1")
    rate_randomly(flow, p.id, 30, seed=2)
    return list(flow.history(p.id))


# (first event replayed, first not replayed): from nothing, from the creation, from states in
# the middle of a run of ratings (as a snapshot may be) to states before and after a round closed.
SPANS = [(0, 78), (1, 45), (9, 45), (9, 30), (20, 40), (9, 78), (40, 60), (60, 78)]


@pytest.mark.parametrize(("start", "stop"), SPANS)
def test_replay_from_any_version_gives_the_state_of_one_by_one(start: int, stop: int) -> None:
    with flows.open_flow() as flow:
        events = history_of_two_rounds(flow)
        assert len(events) == 78
        assert one_by_one(None, events).state == flow.proposal(events[0].originator_id)
    expected = one_by_one(None, events[:stop])
    base = one_by_one(None, events[:start]) if start else None
    replayed = replay(base, events[start:stop])
    assert replayed.state == expected.state
    assert replayed.state.ratings == expected.state.ratings
    assert (replayed.version, replayed.modified_on) == (expected.version, expected.modified_on)
    assert replayed._chain == expected._chain


def test_a_rating_out_of_sequence_leaves_the_ratings_before_it_applied() -> None:
    with flows.open_flow() as flow:
        p = flows.rating(flow)
        rate_randomly(flow, p.id, 12, seed=3)
        events = list(flow.history(p.id))
    start = p.version
    base = one_by_one(None, events[:start])
    skipping = [*events[start : start + 5], *events[start + 6 :]]
    with pytest.raises(OriginatorVersionError):
        replay(base, skipping)
    assert base.state == one_by_one(None, events[: start + 5]).state
    assert isinstance(events[start], Proposal.Rated)
