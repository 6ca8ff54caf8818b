"""A realistic district after the article: 304 compounds, councils, residents, four quarters.

Deterministic for a given seed: the same seed builds the same district and the
same proposals, with the same outcomes (only the store's recording times differ).
Every step goes through the public commands, so the demo also shows the rules
at work: eligibility, quorum, majority, rating windows, rectification rounds.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from civicflow.application.flow import CivicFlow
from civicflow.domain.community.areas import DEFAULT_TIME_ZONE
from civicflow.domain.proposal_state import ProposalState
from civicflow.extras.demo_district import (
    Compound,
    Registration,
    Size,
    district,
    seat_of,
    shares,
)
from civicflow.extras.demo_scratch import Handover, let_go, long_lived, scratch, seed_residents

ZONE = ZoneInfo(DEFAULT_TIME_ZONE)
START = datetime(2025, 10, 1, 9, 0, tzinfo=ZONE)  # the first of four quarters
NOW = datetime(2026, 10, 20, 18, 0, tzinfo=ZONE)  # the demo's "now": after the fourth quarter
CATEGORIES = (
    "lighting",
    "drainage",
    "greening",
    "parking",
    "security",
    "elevator",
    "roads",
    "waste",
    "facades",
    "water",
)
TITLES = {
    "lighting": "Repair the stairwell lights",
    "drainage": "Clear the blocked drains",
    "greening": "Replant the courtyard",
    "parking": "Mark out bicycle parking",
    "security": "Fix the gate and intercom",
    "elevator": "Add a handrail in the lift hall",
    "roads": "Resurface the inner road",
    "waste": "Move the waste bins",
    "facades": "Repaint the facades",
    "water": "Replace the rusty water pipes",
}
Progress = Callable[[int, int], None]
BATCH = 500  # proposals built in one in-memory store before they go to the target
PART = 304  # compounds registered in one in-memory store: a district's worth


@dataclass
class Outcome:
    """What the demo wrote, for the summary."""

    events: int = 0
    seconds: float = 0.0
    proposals: list[UUID] = field(default_factory=list)

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


def build(
    flow: CivicFlow, *, seed: int = 7, size: Size | None = None, progress: Progress | None = None
) -> Outcome:
    """Build the district and its four quarters of proposals in ``flow``."""
    started, before = time.perf_counter(), flow.recorder.max_notification_id() or 0
    rng, size = random.Random(seed), size or Size()
    compounds = district(flow, rng, size, START)
    plan = _plan(rng, size, compounds)
    outcome = Outcome()
    for done, (compound, quarter) in enumerate(plan, 1):
        outcome.proposals.append(_proposal(flow, rng, compound, quarter))
        if progress is not None:
            progress(done, len(plan))
    outcome.events = (flow.recorder.max_notification_id() or 0) - before
    outcome.seconds = time.perf_counter() - started
    return outcome


def build_into(
    target: CivicFlow,
    *,
    seed: int = 7,
    size: Size | None = None,
    progress: Progress | None = None,
    batch: int = BATCH,
    part: int = PART,
) -> Outcome:
    """Build the district into ``target``, in memory a stretch at a time, in bounded memory.

    Every step goes through the commands and their rules, in an in-memory store
    (``demo_scratch``); the target gets each stretch in one streamed transaction.
    The community (places, councils, residents) is registered first and never
    changes after (``part`` compounds at a time); each stretch of ``batch``
    proposals is then built in a fresh in-memory store holding the directory and
    the residents of its compounds alone, so memory does not grow with the
    district. The same seed gives the same district as ``build``.
    """
    started = time.perf_counter()
    rng, size = random.Random(seed), size or Size()
    outcome = Outcome()
    with long_lived():
        compounds, handover = _community(target, rng, size, outcome, part)
    plan = _plan(rng, size, compounds)
    with long_lived():
        for first in range(0, len(plan), batch):
            stretch = plan[first : first + batch]
            with scratch(target, demo_clock) as flow:
                handover.seed(flow)
                seed_residents(flow, target, _residents(stretch))
                seeded = flow.recorder.max_notification_id() or 0
                for compound, quarter in stretch:
                    outcome.proposals.append(_proposal(flow, rng, compound, quarter))
                    if progress is not None:
                        progress(len(outcome.proposals), len(plan))
                outcome.events += target.copy_log_from(flow, after=seeded)
            del flow  # let_go collects it
            let_go()
    outcome.seconds = time.perf_counter() - started
    return outcome


def _community(
    target: CivicFlow, rng: random.Random, size: Size, outcome: Outcome, part: int
) -> tuple[list[Compound], Handover]:
    """Register the community into ``target``, at most ``part`` compounds at a time,
    each district's places before its first compound.

    Each part is registered in a fresh in-memory store holding the directory
    alone (a city's residents would fill memory); the draws are those of ``district``.
    """
    compounds: list[Compound] = []
    registration, handover = None, None
    bounds = shares(size.compounds, size.districts)
    for d in range(size.districts):
        for first in range(bounds[d], bounds[d + 1], part):
            with scratch(target, demo_clock) as flow:
                if handover is not None:
                    handover.seed(flow)
                seeded = flow.recorder.max_notification_id() or 0
                if registration is None:
                    registration = Registration.begin(flow, rng, size, START)
                elif first == bounds[d]:  # the next district's places
                    registration = registration.seated(flow, seat_of(d))
                last = min(first + part, bounds[d + 1])
                compounds += [registration.compound(flow, n) for n in range(first, last)]
                outcome.events += target.copy_log_from(flow, after=seeded)
                handover = Handover.of(flow)
            del flow  # let_go collects it
            let_go()
    assert handover is not None  # noqa: S101 - a district has at least one compound
    return compounds, handover


def _residents(stretch: list[tuple[Compound, int]]) -> list[UUID]:
    """The residents of the stretch's compounds (their aggregate ids), each once, in order."""
    compounds = {c.id: c for c, _ in stretch}
    return [r for c in compounds.values() for r in c.resident_aggregates]


def _plan(rng: random.Random, size: Size, compounds: list[Compound]) -> list[tuple[Compound, int]]:
    """Which compound asks in which quarter (some twice, some not at all), in order."""
    return [
        (c, q)
        for q in range(size.quarters)
        for c in compounds
        for _ in range(rng.choice((0, 1, 1, 1, 2)))
    ]


def demo_clock() -> datetime:
    """The demo's fixed "now", so that the same seed gives the same district."""
    return NOW


def _proposal(flow: CivicFlow, rng: random.Random, c: Compound, quarter: int) -> UUID:
    day0 = START + timedelta(days=91 * quarter + rng.randint(0, 60), hours=rng.randint(0, 8))
    category = rng.choice(CATEGORIES)
    asker = rng.choice(c.residents)
    p = flow.ask(
        title=TITLES[category],
        details=f"Raised by residents of {c.id}.",
        category=category,
        area_id=c.id,
        resident=asker,
        channel=rng.choice(("visit", "meeting", "hotline", "online")),
        proposal_id=UUID(int=rng.getrandbits(128), version=4),
        occurred_at=day0,
    )
    for backer in rng.sample([r for r in c.residents if r != asker], rng.randint(0, 4)):
        flow.back(p.id, resident=backer, occurred_at=day0 + timedelta(days=1))
    if not c.members or rng.random() < 0.03:
        if _due(day0 + timedelta(days=20)):
            flow.withdraw(
                p.id,
                reason="No council to take it up yet; referred to the community.",
                actor="office",
                occurred_at=day0 + timedelta(days=20),
            )
        return p.id
    _decide(flow, rng, c, p, day0 + timedelta(days=5))
    return p.id


def _decide(
    flow: CivicFlow, rng: random.Random, c: Compound, p: ProposalState, at: datetime
) -> None:
    present = _session(flow, rng, c, p, at)
    roll = rng.random()
    if roll < 0.1:
        flow.decide(
            p.id,
            outcome="deferred",
            vote=_vote(rng, present),
            reasons="Get quotes first.",
            actor=c.members[0],
            occurred_at=at,
        )
        at += timedelta(days=7)
        present = _session(flow, rng, c, p, at)
    if roll > 0.92:
        flow.decide(
            p.id,
            outcome="rejected",
            vote=_vote(rng, present),
            reasons="Outside the compound's remit; passed to the street.",
            actor=c.members[0],
            occurred_at=at,
        )
        flow.publish(
            p.id,
            channels=["notice_board"],
            summary="Not taken up, with reasons.",
            actor=c.members[1],
            occurred_at=at + timedelta(days=2),
        )
        return
    budget = rng.randrange(2000, 60000, 100)
    flow.decide(
        p.id,
        outcome="approved",
        vote=_vote(rng, present),
        plan=f"Plan agreed at the session of {at.date()}.",
        budget={
            "amount": str(budget),
            "funding_sources": rng.sample(
                ["district fund", "street fund", "residents", "property fee"], 2
            ),
        },
        responsible=c.members[1],
        deadline=(at + timedelta(days=45)).date(),
        actor=c.members[0],
        occurred_at=at,
    )
    _do_and_rate(flow, rng, c, p, at, budget=budget)


def _do_and_rate(
    flow: CivicFlow,
    rng: random.Random,
    c: Compound,
    p: ProposalState,
    at: datetime,
    *,
    budget: int,
) -> None:
    quality, spent = c.quality, 0
    for round_ in (1, 2, 3):
        done = at + timedelta(days=rng.randint(12, 50))
        if not _due(done + timedelta(days=40)):
            if _due(at + timedelta(days=10)):
                flow.report_progress(
                    p.id,
                    percent=rng.randint(10, 90),
                    note="Under way.",
                    spent=str(spent),
                    actor=c.members[1],
                    occurred_at=at + timedelta(days=10),
                )
            return
        spent = max(spent, int(budget * rng.uniform(0.8, 1.05)))
        flow.complete(
            p.id,
            summary=f"Work of round {round_} done.",
            total_spent=str(spent),
            evidence=[f"photo:{p.id.hex[:8]}-{round_}.jpg"],
            actor=c.members[1],
            occurred_at=done,
        )
        published = done + timedelta(days=1)
        flow.publish(
            p.id,
            channels=rng.sample(["notice_board", "group_chat", "app"], 2),
            summary="Result and spending shown to residents.",
            actor=c.members[0],
            occurred_at=published,
        )
        raters = rng.sample(c.residents, max(5, int(len(c.residents) * rng.uniform(0.4, 0.8))))
        flow.rate_many(
            p.id,
            [{"resident": r, "level": _level(rng, quality)} for r in raters],
            occurred_at=published + timedelta(days=rng.randint(2, 20)),
        )
        closed = flow.close_rating(
            p.id, actor=c.members[0], occurred_at=published + timedelta(days=31)
        )
        if closed.rounds[-1].passed:
            return
        quality, at = min(0.99, quality + 0.2), closed.rounds[-1].occurred_at


def _session(
    flow: CivicFlow, rng: random.Random, c: Compound, p: ProposalState, at: datetime
) -> int:
    present = rng.sample(c.members, len(c.members) // 2 + 1 + rng.randint(0, 2) // 2)
    residents = rng.sample(c.residents, rng.randint(1, 4))
    flow.discuss(
        p.id,
        attendees=[*present, *residents],
        summary="Options weighed.",
        opinions=["do it this season", "ask for quotes"],
        actor=c.members[0],
        occurred_at=at,
    )
    return len(present)


def _vote(rng: random.Random, present: int) -> dict[str, int]:
    against = rng.randint(0, (present - 1) // 3)
    abstain = rng.randint(0, 1) if present - against > 2 else 0
    return {"in_favour": present - against - abstain, "against": against, "abstain": abstain}


def _level(rng: random.Random, quality: float) -> str:
    roll = rng.random()
    if roll < quality * 0.7:
        return "satisfied"
    return "basically_satisfied" if roll < quality else "dissatisfied"


def _due(moment: datetime) -> bool:
    return moment <= NOW


def quarter_labels(size: Size | None = None) -> list[str]:
    """The quarters the demo covers, as 2025Q4, 2026Q1, ..."""
    size = size or Size()
    labels = []
    for q in range(size.quarters):
        day = (START + timedelta(days=91 * q + 45)).date()
        labels.append(f"{day.year}Q{(day.month - 1) // 3 + 1}")
    return labels


__all__ = ["NOW", "Outcome", "Size", "build", "build_into", "demo_clock", "quarter_labels"]
