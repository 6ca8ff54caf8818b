"""The quarter's pipeline and spending, from the views' proposal rows (and the store).

The views' own pipeline counts every proposal ever; a quarterly review is about
one quarter (issue 16), so here:

- stages: the proposals asked in the quarter, by the stage they stand in now;
- cycle times: the steps taken in the quarter (a decision, completion or
  publication that first happened in it), each measured from the step before;
- overdue: the views' own overdue work on the quarter's last day (or today, for
  the quarter under way), with the deadline and who answers for it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from statistics import median_low
from typing import TYPE_CHECKING

from civicflow.domain.community.areas import DEFAULT_TIME_ZONE, AreaKind
from civicflow.domain.community.structure import Structure
from civicflow.domain.proposal import Proposal
from civicflow.domain.proposal_state import ProposalState
from civicflow.domain.values import Outcome
from civicflow.views import Figures, quarter_of
from civicflow.views.figures import Durations
from civicflow.views.rows import ProposalRow

if TYPE_CHECKING:
    from civicflow.extras.report.data import ProposalSource

STEPS = ("ask_to_decide", "decide_to_done", "done_to_publish")
Key = tuple[AreaKind, str]


@dataclass(frozen=True)
class Overdue:
    """Approved work past its deadline and not done on the day counted."""

    proposal_id: str
    title: str
    compound: str | None
    deadline: str | None
    responsible: str | None  # None: not known without the store


@dataclass(frozen=True)
class AreaPipeline:
    """One area's pipeline for the quarter."""

    kind: AreaKind
    stages: dict[str, int] = field(default_factory=dict)
    cycle: dict[str, Durations] = field(default_factory=dict)
    overdue: tuple[Overdue, ...] = ()

    @property
    def proposals(self) -> int:
        return sum(self.stages.values())


@dataclass(frozen=True)
class Money:
    """A project completed in the quarter: what was planned and what was spent."""

    proposal_id: str
    title: str
    places: dict[AreaKind, str]  # where it was asked, at each level
    planned: Decimal | None  # the approved budget (None: approved without one)
    spent: Decimal
    currency: str


LEVEL_OF_ROW = {
    AreaKind.COMPOUND: "compound",
    AreaKind.COMMUNITY: "community",
    AreaKind.STREET: "street",
    AreaKind.DISTRICT: "district",
}


def pipelines(
    rows: list[ProposalRow],
    views: Figures,
    *,
    quarter: str,
    as_of: date,
    structure: Structure,
    source: ProposalSource | None = None,
) -> dict[Key, AreaPipeline]:
    """Each area's pipeline for ``quarter``, at every level, keyed by level and id."""
    zone = _zones(structure)
    stages: dict[Key, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    spans: dict[Key, dict[str, list[Decimal]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        for key in places(row):
            if _quarter(row.asked_at, row, zone) == quarter:
                stages[key][row.stage] += 1
            for step, days in _steps_in(row, quarter, zone):
                spans[key][step].append(days)
    late = _overdue(rows, views, as_of, source)
    keys = set(stages) | set(spans) | set(late)
    return {
        key: AreaPipeline(
            kind=key[0],
            stages=dict(stages.get(key, {})),
            cycle={step: durations(spans.get(key, {}).get(step, [])) for step in STEPS},
            overdue=late.get(key, ()),
        )
        for key in keys
    }


def places(row: ProposalRow) -> list[Key]:
    """Where a proposal row was placed, at each level (its own scope where the
    structure did not know the area)."""
    return [
        (kind, value)
        for kind, column in LEVEL_OF_ROW.items()
        if (value := getattr(row, column)) is not None
    ]


def _steps_in(row: ProposalRow, quarter: str, zone: dict[str, str]) -> list[tuple[str, Decimal]]:
    spans = {
        "ask_to_decide": (row.asked_at, row.decided_at),
        "decide_to_done": (row.decided_at, row.done_at),
        "done_to_publish": (row.done_at, row.published_at),
    }
    return [
        (step, _days(start, end))
        for step, (start, end) in spans.items()
        if start and end and _quarter(end, row, zone) == quarter
    ]


def durations(days: list[Decimal]) -> Durations:
    """Count, lower median and nearest-rank 90th percentile: as the views' pipeline."""
    if not days:
        return Durations(count=0, median_days=None, p90_days=None)
    ordered = sorted(days)
    p90 = ordered[max(0, -(-9 * len(ordered) // 10) - 1)]
    step = Decimal("0.01")
    return Durations(
        count=len(ordered),
        median_days=median_low(ordered).quantize(step),
        p90_days=p90.quantize(step),
    )


def _overdue(
    rows: list[ProposalRow], views: Figures, as_of: date, source: ProposalSource | None
) -> dict[Key, tuple[Overdue, ...]]:
    """The views' overdue work on ``as_of`` at every level, with what a reader needs."""
    by_id = {row.proposal_id: row for row in rows}
    found: dict[Key, tuple[Overdue, ...]] = {}
    for kind in LEVEL_OF_ROW:
        for area in views.pipeline(level=kind, as_of=as_of):
            if area.overdue:
                found[(kind, area.area_id)] = tuple(
                    _late(by_id[pid], source) for pid in area.overdue if pid in by_id
                )
    return found


def _late(row: ProposalRow, source: ProposalSource | None) -> Overdue:
    responsible = None
    if source is not None:
        decision = _approval(source.proposal(row.proposal_id))
        responsible = decision.responsible if decision is not None else None
    return Overdue(row.proposal_id, row.title, row.compound, row.deadline, responsible)


def spending(
    rows: list[ProposalRow], source: ProposalSource, quarter: str, structure: Structure
) -> tuple[Money, ...]:
    """Planned against spent for each project first completed in ``quarter``."""
    zone = _zones(structure)
    found = []
    for row in rows:
        if row.done_at is None or _quarter(row.done_at, row, zone) != quarter:
            continue
        state = source.proposal(row.proposal_id)
        decision = _approval(state)
        budget = decision.budget if decision is not None else None
        # What had been spent by the end of the quarter: a later rectification round
        # spends more, in the quarter it is completed in.
        done = [c for c in state.completions if _quarter(c.occurred_at, row, zone) <= quarter]
        last = (done or list(state.completions))[-1]
        found.append(
            Money(
                proposal_id=row.proposal_id,
                title=row.title,
                places=dict(places(row)),
                planned=budget.amount if budget is not None else None,
                spent=last.total_spent,
                currency=budget.currency if budget is not None else "CNY",
            )
        )
    return tuple(found)


def _approval(state: ProposalState) -> Proposal.Decided | None:
    approved = [d for d in state.decisions if d.outcome is Outcome.APPROVED]
    return approved[-1] if approved else None


def _zones(structure: Structure) -> dict[str, str]:
    """Each district's time zone, by id: quarters are counted in it."""
    return {
        a.id: a.time_zone or DEFAULT_TIME_ZONE
        for a in structure.areas.values()
        if a.kind is AreaKind.DISTRICT
    }


def _quarter(moment: str | datetime, row: ProposalRow, zone: dict[str, str]) -> str:
    when = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return quarter_of(when, zone.get(row.district or "", DEFAULT_TIME_ZONE))


def _days(start: str, end: str) -> Decimal:
    seconds = (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()
    return Decimal(seconds) / 86400
