"""A proposal through all six steps, with one rectification round, on any store.

``python -m civicflow`` runs it on a SQLite file; it is also the README's quick
start in longer form.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TextIO

from civicflow.application import CivicFlow
from civicflow.proposal import ProposalState


def run(flow: CivicFlow, out: TextIO, start: datetime | None = None) -> ProposalState:
    """Take one need from Ask to a satisfied close, printing each step to ``out``."""
    day = start or datetime.now(UTC) - timedelta(days=90)

    def at(days: int) -> datetime:
        return day + timedelta(days=days)

    p = flow.ask(
        title="Repair the stairwell lights in building 3",
        details="Three floors are dark at night; older residents fall.",
        category="lighting",
        area_id="compound-hongqi-3",
        resident="resident-017",
        channel="visit",
        occurred_at=at(0),
    )
    out.write(f"问 Ask       {p.id}: {p.title}\n")
    for neighbour in ("resident-021", "resident-044", "resident-102"):
        flow.back(p.id, resident=neighbour, occurred_at=at(1))
    flow.discuss(
        p.id,
        attendees=["member-1", "member-2", "member-3", "resident-017"],
        summary="Residents prefer motion-sensor LEDs.",
        opinions=["LED", "solar"],
        actor="member-1",
        occurred_at=at(5),
    )
    out.write("议 Discuss   one council session, 4 present\n")
    flow.decide(
        p.id,
        outcome="approved",
        vote={"in_favour": 5, "against": 0, "abstain": 1},
        plan="Install 12 motion-sensor LED fittings.",
        budget={"amount": "3600.00", "funding_sources": ["district fund", "residents"]},
        responsible="member-2",
        deadline=at(40).date(),
        actor="member-1",
        occurred_at=at(6),
    )
    out.write("定 Decide    approved 5-0-1, budget 3600.00 CNY\n")
    flow.report_progress(
        p.id, percent=60, note="Wiring done.", spent="2000", actor="member-2", occurred_at=at(15)
    )
    flow.complete(
        p.id,
        summary="All fittings installed.",
        total_spent="3450.00",
        evidence=["photo:stairs-after.jpg"],
        actor="member-2",
        occurred_at=at(20),
    )
    out.write("办 Do        done, 3450.00 spent\n")
    flow.publish(
        p.id,
        channels=["notice_board", "group_chat"],
        summary="Lights are on.",
        actor="member-1",
        occurred_at=at(21),
    )
    out.write("晒 Publish   on the notice board and in the group chat\n")
    state = _rate_round(flow, p.id, satisfied=6, dissatisfied=4, when=at(25))
    out.write(
        f"评 Rate      round 1: {state.rounds[-1].satisfaction_rate:.0%} satisfied "
        f"-> {state.stage} (整改 rectification)\n"
    )
    flow.complete(
        p.id,
        summary="Two fittings moved to the landing.",
        total_spent="3580.00",
        evidence=["photo:landing.jpg"],
        actor="member-2",
        occurred_at=at(30),
    )
    flow.publish(
        p.id,
        channels=["notice_board"],
        summary="Landing fixed.",
        actor="member-1",
        occurred_at=at(31),
    )
    state = _rate_round(flow, p.id, satisfied=9, dissatisfied=1, when=at(35))
    out.write(
        f"评 Rate      round 2: {state.rounds[-1].satisfaction_rate:.0%} satisfied "
        f"-> {state.stage}\n"
    )
    out.write(f"{state.version} events recorded for this proposal\n")
    return state


def _rate_round(
    flow: CivicFlow, proposal_id: object, *, satisfied: int, dissatisfied: int, when: datetime
) -> ProposalState:
    residents = [f"resident-{n:03d}" for n in range(satisfied + dissatisfied)]
    for n, resident in enumerate(residents):
        level = "satisfied" if n < satisfied else "dissatisfied"
        flow.rate(str(proposal_id), resident=resident, level=level, occurred_at=when)
    return flow.close_rating(str(proposal_id), actor="member-1", occurred_at=when)
