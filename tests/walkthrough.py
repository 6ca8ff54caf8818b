"""A proposal through all six steps, with one rectification round, on any store.

The audit tests run it on every backend. It registers a small piece of
a district first (one compound with its council and residents), because only
residents of the compound may ask, back and rate, and only a council with a
quorum may decide.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TextIO
from uuid import UUID, uuid4

from civicflow.application.flow import CivicFlow
from civicflow.domain.proposal_state import ProposalState

RESIDENTS = [f"resident-{n:03d}" for n in range(12)]
MEMBERS = ["member-1", "member-2", "member-3", "member-4", "member-5"]


def register_compound(flow: CivicFlow, compound_id: str, when: datetime) -> None:
    """Register a district, street, community and one old compound with council and residents."""
    tag = compound_id.removeprefix("compound-")
    areas = [
        ("district", f"district-{tag}", "Shanyang District", None),
        ("street", f"street-{tag}", "Baizhuang Street", f"district-{tag}"),
        ("community", f"community-{tag}", "Hongqi Community", f"street-{tag}"),
    ]
    for kind, area_id, name, parent in areas:
        flow.add_area(
            area_id, kind=kind, name=name, parent_id=parent, actor="office", occurred_at=when
        )
    flow.add_area(
        compound_id,
        kind="compound",
        name="Hongqi Building 3",
        parent_id=f"community-{tag}",
        is_old=True,
        has_property_management=False,
        households=96,
        actor="office",
        occurred_at=when,
    )
    flow.form_council(compound_id, actor="office", occurred_at=when)
    for n, member in enumerate(MEMBERS):
        role = "chair" if n == 0 else "secretary" if n == 1 else None
        via = "election" if n < 3 else "recommendation"
        flow.join_council(
            compound_id,
            member=f"{member}-{tag}",
            via=via,
            role=role,
            actor="office",
            occurred_at=when,
        )
    for resident in RESIDENTS:
        flow.register_resident(
            f"{resident}-{tag}", compound_id=compound_id, actor="office", occurred_at=when
        )


def run(flow: CivicFlow, out: TextIO, start: datetime | None = None) -> ProposalState:
    """Take one need from Ask to a satisfied close, printing each step to ``out``."""
    day0 = start or datetime.now(UTC) - timedelta(days=120)
    tag = uuid4().hex[:8]
    compound = f"compound-{tag}"

    def at(days: int) -> datetime:
        return day0 + timedelta(days=days)

    def resident(n: int) -> str:
        return f"{RESIDENTS[n]}-{tag}"

    def member(n: int) -> str:
        return f"{MEMBERS[n]}-{tag}"

    register_compound(flow, compound, at(-1))
    p = flow.ask(
        title="Repair the stairwell lights in building 3",
        details="Three floors are dark at night; older residents fall.",
        category="lighting",
        area_id=compound,
        resident=resident(0),
        channel="visit",
        occurred_at=at(0),
    )
    out.write(f"问 Ask       {p.id}: {p.title}\n")
    for n in (1, 2, 3):
        flow.back(p.id, resident=resident(n), occurred_at=at(1))
    flow.discuss(
        p.id,
        attendees=[member(0), member(1), member(2), member(3), resident(0)],
        summary="Residents prefer motion-sensor LEDs.",
        opinions=["LED", "solar"],
        actor=member(0),
        occurred_at=at(5),
    )
    out.write("议 Discuss   one council session: 4 of 5 members and 1 resident present\n")
    flow.decide(
        p.id,
        outcome="approved",
        vote={"in_favour": 3, "against": 0, "abstain": 1},
        plan="Install 12 motion-sensor LED fittings.",
        budget={"amount": "3600.00", "funding_sources": ["district fund", "residents"]},
        responsible=member(1),
        deadline=at(40).date(),
        actor=member(0),
        occurred_at=at(5),
    )
    out.write("定 Decide    approved 3-0-1, budget 3600.00 CNY\n")
    flow.report_progress(
        p.id, percent=60, note="Wiring done.", spent="2000", actor=member(1), occurred_at=at(15)
    )
    flow.complete(
        p.id,
        summary="All fittings installed.",
        total_spent="3450.00",
        evidence=["photo:stairs-after.jpg"],
        actor=member(1),
        occurred_at=at(20),
    )
    out.write("办 Do        done, 3450.00 spent\n")
    flow.publish(
        p.id,
        channels=["notice_board", "group_chat"],
        summary="Lights are on.",
        actor=member(0),
        occurred_at=at(21),
    )
    out.write("晒 Publish   on the notice board and in the group chat\n")
    state = _rate_round(
        flow, p.id, [resident(n) for n in range(10)], satisfied=6, opened=at(21), closer=member(0)
    )
    out.write(
        f"评 Rate      round 1: {state.rounds[-1].satisfaction_rate:.0%} satisfied "
        f"-> {state.stage} (整改 rectification)\n"
    )
    flow.complete(
        p.id,
        summary="Two fittings moved to the landing.",
        total_spent="3580.00",
        evidence=["photo:landing.jpg"],
        actor=member(1),
        occurred_at=at(60),
    )
    flow.publish(
        p.id,
        channels=["notice_board"],
        summary="Landing fixed.",
        actor=member(0),
        occurred_at=at(61),
    )
    state = _rate_round(
        flow, p.id, [resident(n) for n in range(10)], satisfied=9, opened=at(61), closer=member(0)
    )
    out.write(
        f"评 Rate      round 2: {state.rounds[-1].satisfaction_rate:.0%} satisfied "
        f"-> {state.stage}\n"
    )
    out.write(f"{state.version} events recorded for this proposal\n")
    return state


def _rate_round(
    flow: CivicFlow,
    proposal_id: UUID,
    residents: list[str],
    *,
    satisfied: int,
    opened: datetime,
    closer: str,
) -> ProposalState:
    for n, resident in enumerate(residents):
        level = "satisfied" if n < satisfied else "dissatisfied"
        flow.rate(
            proposal_id, resident=resident, level=level, occurred_at=opened + timedelta(days=2)
        )
    window = flow.policy(flow.proposal(proposal_id).area_id, as_of=opened).rating_window
    return flow.close_rating(proposal_id, actor=closer, occurred_at=opened + window)
