"""Helpers that register a small community and take a proposal to a given stage.

The application under test runs on a ``FakeClock``: every step happens "now",
and ``close_round`` moves the clock past the rating window before closing.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, cast

from civicflow import CivicFlow, ProposalState
from tests.conftest import FakeClock

COMPOUND = "compound-7"
MEMBERS = ("member-1", "member-2", "member-3")
RESIDENTS = tuple(f"resident-{n}" for n in range(1, 31))
APPROVAL: dict[str, Any] = {
    "outcome": "approved",
    "vote": {"in_favour": 2, "against": 0, "abstain": 1},
    "plan": "Install 12 LED fittings",
    "budget": {"amount": "3600.00", "funding_sources": ["district fund"]},
    "responsible": "member-2",
    "deadline": date(2030, 1, 1),
    "actor": "member-1",
}


def open_flow(url: str = "memory://", **options: Any) -> CivicFlow:
    """An application on a fake clock, with the community of ``register`` in place."""
    flow = CivicFlow.open(url, clock=options.pop("clock", None) or FakeClock(), **options)
    register(flow)
    return flow


def clock_of(flow: CivicFlow) -> FakeClock:
    """The fake clock of an application that was given one (as ``open_flow`` does)."""
    return cast(FakeClock, flow.clock)


def register(flow: CivicFlow) -> None:
    """One district > street > community > compound, its council and 30 residents."""
    for kind, area_id, parent in (
        ("district", "district-1", None),
        ("street", "street-1", "district-1"),
        ("community", "community-1", "street-1"),
    ):
        flow.add_area(area_id, kind=kind, name=area_id.title(), parent_id=parent, actor="office")
    flow.add_area(
        COMPOUND,
        kind="compound",
        name="Hongqi 7",
        parent_id="community-1",
        is_old=True,
        has_property_management=False,
        households=40,
        actor="office",
    )
    flow.form_council(COMPOUND, actor="office")
    for member in MEMBERS:
        flow.join_council(COMPOUND, member=member, via="election", actor="office")
    flow.register_residents(RESIDENTS, compound_id=COMPOUND, actor="office")


def asked(flow: CivicFlow, **overrides: Any) -> ProposalState:
    fields: dict[str, Any] = {
        "title": "Fix the stairwell lights",
        "details": "Dark at night",
        "category": "lighting",
        "area_id": COMPOUND,
        "resident": "resident-1",
        "channel": "visit",
    }
    return flow.ask(**{**fields, **overrides})


def discussing(flow: CivicFlow) -> ProposalState:
    p = asked(flow)
    return flow.discuss(p.id, attendees=[*MEMBERS, "resident-1"], summary="ok", actor="member-1")


def doing(flow: CivicFlow) -> ProposalState:
    p = discussing(flow)
    return flow.decide(p.id, **APPROVAL)


def done(flow: CivicFlow) -> ProposalState:
    p = doing(flow)
    return flow.complete(
        p.id, summary="Installed", total_spent="3450", evidence=["photo:1"], actor="member-2"
    )


def rating(flow: CivicFlow) -> ProposalState:
    p = done(flow)
    return flow.publish(p.id, channels=["notice_board"], summary="Lights on", actor="member-1")


def rejected(flow: CivicFlow) -> ProposalState:
    p = discussing(flow)
    return flow.decide(
        p.id,
        outcome="rejected",
        vote={"in_favour": 2, "against": 0},
        reasons="Not the compound's responsibility",
        actor="member-1",
    )


def rate_all(flow: CivicFlow, proposal: ProposalState, levels: list[str]) -> None:
    """Residents 1, 2, ... rate with these levels, in order."""
    for resident, level in zip(RESIDENTS, levels, strict=False):
        flow.rate(proposal.id, resident=resident, level=level)


def close_round(flow: CivicFlow, proposal: ProposalState) -> ProposalState:
    """Move past the round's rating window, then close it."""
    state = flow.proposal(proposal.id)
    clock = clock_of(flow)
    if state.rating_closes_at is not None:
        clock.now = max(clock.now, state.rating_closes_at + timedelta(seconds=1))
    return flow.close_rating(proposal.id, actor="member-1")
