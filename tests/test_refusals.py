"""Every refused command raises a typed error and leaves the store byte-for-byte unchanged."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from civicflow import (
    CivicFlow,
    CivicflowError,
    InvalidInputError,
    NotEligibleError,
    ProposalAlreadyExistsError,
    ProposalNotFoundError,
    ProposalState,
    RuleViolationError,
    StepNotAllowedError,
)
from tests import flows
from tests.storage import stored_rows

Setup = Callable[[CivicFlow], ProposalState]
Command = Callable[[CivicFlow, ProposalState], object]
FUTURE = datetime(2100, 1, 1, tzinfo=UTC)


def half_done(flow: CivicFlow) -> ProposalState:
    p = flows.doing(flow)
    return flow.report_progress(p.id, percent=50, note="half", spent="100", actor="m")


def left_the_council(flow: CivicFlow) -> ProposalState:
    p = flows.discussing(flow)
    flow.leave_council(flows.COMPOUND, member="member-1", actor="office")
    return p


REFUSALS: list[tuple[str, Setup, Command, type[CivicflowError]]] = [
    (
        "rate before publishing",
        flows.discussing,
        lambda f, p: f.rate(p.id, resident="resident-9", level="satisfied"),
        StepNotAllowedError,
    ),
    (
        "decide before any discussion",
        flows.asked,
        lambda f, p: f.decide(p.id, **flows.APPROVAL),
        StepNotAllowedError,
    ),
    (
        "publish while work is under way",
        flows.doing,
        lambda f, p: f.publish(p.id, channels=["app"], summary="x", actor="m"),
        StepNotAllowedError,
    ),
    (
        "withdraw after completion",
        flows.done,
        lambda f, p: f.withdraw(p.id, reason="bored", actor="m"),
        StepNotAllowedError,
    ),
    (
        "back a closed proposal",
        flows.rejected,
        lambda f, p: f.back(p.id, resident="resident-5"),
        StepNotAllowedError,
    ),
    (
        "the asker backs their own need",
        flows.asked,
        lambda f, p: f.back(p.id, resident="resident-1"),
        RuleViolationError,
    ),
    (
        "approval without majority",
        flows.discussing,
        lambda f, p: f.decide(p.id, **{**flows.APPROVAL, "vote": {"in_favour": 1, "against": 1}}),
        RuleViolationError,
    ),
    (
        "progress going down",
        half_done,
        lambda f, p: f.report_progress(p.id, percent=40, note="less", spent="100", actor="m"),
        RuleViolationError,
    ),
    (
        "spending going down",
        half_done,
        lambda f, p: f.complete(p.id, summary="x", total_spent="99", evidence=["e"], actor="m"),
        RuleViolationError,
    ),
    (
        "close a round nobody rated",
        flows.rating,
        lambda f, p: f.close_rating(p.id, actor="m"),
        RuleViolationError,
    ),
    (
        "step dated before its stage began",
        flows.doing,
        lambda f, p: f.report_progress(
            p.id,
            percent=5,
            note="x",
            spent="0",
            actor="m",
            occurred_at=p.stage_entered_at - timedelta(days=1),
        ),
        RuleViolationError,
    ),
    (
        "deadline before the decision",
        flows.discussing,
        lambda f, p: f.decide(p.id, **{**flows.APPROVAL, "deadline": datetime(2000, 1, 1).date()}),
        RuleViolationError,
    ),
    (
        "approval without a budget",
        flows.discussing,
        lambda f, p: f.decide(p.id, **{**flows.APPROVAL, "budget": None}),
        InvalidInputError,
    ),
    (
        "rejection without reasons",
        flows.discussing,
        lambda f, p: f.decide(
            p.id, outcome="rejected", vote={"in_favour": 3, "against": 0}, actor="member-1"
        ),
        InvalidInputError,
    ),
    (
        "a session recorded by someone not on the council",
        flows.asked,
        lambda f, p: f.discuss(p.id, attendees=["member-1"], summary="s", actor="office"),
        NotEligibleError,
    ),
    (
        "a decision recorded by someone not on the council",
        flows.discussing,
        lambda f, p: f.decide(p.id, **{**flows.APPROVAL, "actor": "resident-2"}),
        NotEligibleError,
    ),
    (
        "a decision recorded by a member who has left the council",
        left_the_council,
        lambda f, p: f.decide(p.id, **flows.APPROVAL),
        NotEligibleError,
    ),
    (
        "negative budget",
        flows.discussing,
        lambda f, p: f.decide(
            p.id, **{**flows.APPROVAL, "budget": {"amount": "-1", "funding_sources": ["x"]}}
        ),
        InvalidInputError,
    ),
    (
        "percent over 100",
        flows.doing,
        lambda f, p: f.report_progress(p.id, percent=101, note="x", spent="0", actor="m"),
        InvalidInputError,
    ),
    (
        "unknown satisfaction level",
        flows.rating,
        lambda f, p: f.rate(p.id, resident="resident-2", level="ecstatic"),
        InvalidInputError,
    ),
    (
        "blank actor",
        flows.asked,
        lambda f, p: f.discuss(p.id, attendees=["m"], summary="s", actor="  "),
        InvalidInputError,
    ),
    (
        "the same attendee twice",
        flows.asked,
        lambda f, p: f.discuss(
            p.id, attendees=["member-1", "member-1"], summary="s", actor="member-1"
        ),
        InvalidInputError,
    ),
    (
        "occurred in the future",
        flows.asked,
        lambda f, p: f.back(p.id, resident="resident-3", occurred_at=FUTURE),
        InvalidInputError,
    ),
    (
        "naive occurrence time",
        flows.asked,
        lambda f, p: f.back(p.id, resident="resident-3", occurred_at=datetime(2026, 1, 1)),
        InvalidInputError,
    ),
    (
        "unknown proposal",
        flows.asked,
        lambda f, p: f.back(uuid4(), resident="resident-3"),
        ProposalNotFoundError,
    ),
    (
        "malformed proposal id",
        flows.asked,
        lambda f, p: f.back("not-a-uuid", resident="resident-3"),
        InvalidInputError,
    ),
    (
        "unknown channel",
        flows.asked,
        lambda f, p: flows.asked(f, channel="pigeon"),
        InvalidInputError,
    ),
    (
        "an id already taken",
        flows.asked,
        lambda f, p: flows.asked(f, proposal_id=p.id),
        ProposalAlreadyExistsError,
    ),
    (
        "an unknown field",
        flows.discussing,
        lambda f, p: f.decide(
            p.id,
            **{**flows.APPROVAL, "budget": {"amount": "1", "funding_sources": ["x"], "bribe": "1"}},
        ),
        InvalidInputError,
    ),
]


@pytest.mark.parametrize(
    ("setup", "command", "error"),
    [pytest.param(s, c, e, id=name) for name, s, c, e in REFUSALS],
)
def test_a_refused_command_raises_its_typed_error_and_writes_nothing(
    store_url: str, setup: Setup, command: Command, error: type[CivicflowError]
) -> None:
    with flows.open_flow(store_url) as flow:
        proposal = setup(flow)
        before = stored_rows(flow)
        with pytest.raises(error) as raised:
            command(flow, proposal)
        assert str(raised.value)
        assert stored_rows(flow) == before
        assert flow.proposal(proposal.id) == proposal
