"""What the page shows, gathered once from the views (and the store, when given).

Every figure on the page comes from here: the views' own figures for the quarter
and the three before it, the tree of areas with their names at the quarter's end,
and the quarter's proposals from the views' proposal rows. Money and who is
responsible live only in the proposals' events, so they are read from the store
(``ProposalSource``) when the page is given one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Protocol, TypeVar
from uuid import UUID
from zoneinfo import ZoneInfo

from civicflow.domain.community.areas import DEFAULT_TIME_ZONE, AreaKind
from civicflow.domain.community.policy import Policy
from civicflow.domain.community.structure import Structure
from civicflow.domain.proposal_state import ProposalState
from civicflow.extras.report.pipeline import (
    AreaPipeline,
    Key,
    Money,
    pipelines,
    spending,
)
from civicflow.views import Figures, Participation, Satisfaction
from civicflow.views.questions import quarter_asked, ranked

F = TypeVar("F", Satisfaction, Participation)
LEVELS = (AreaKind.DISTRICT, AreaKind.STREET, AreaKind.COMMUNITY, AreaKind.COMPOUND)


class ProposalSource(Protocol):
    """Where the page reads a proposal's budget, spending and who answers for it."""

    def proposal(self, proposal_id: UUID | str) -> ProposalState:
        """The proposal now."""
        ...


@dataclass(frozen=True)
class AreaFacts:
    """One area's figures for the quarter, and where it sits in the tree."""

    id: str
    kind: AreaKind
    name: str
    children: tuple[str, ...]
    trend: tuple[Satisfaction | None, ...]  # the quarters of ``Report.quarters``, in order
    participation: Participation | None
    rank: int | None  # among the areas of its level with a shown rate, best first
    previous_rank: int | None
    pipeline: AreaPipeline

    @property
    def satisfaction(self) -> Satisfaction | None:
        """This quarter's satisfaction (None: nobody rated here this quarter)."""
        return self.trend[-1]


@dataclass(frozen=True)
class Report:
    """Everything the page shows for one quarter."""

    quarter: str
    quarters: tuple[str, ...]  # the three before it, then it
    k: int
    as_of: date  # the day overdue work is counted on: the quarter's last, or today
    threshold: Decimal  # the satisfaction rate below which a compound needs attention
    levels: dict[AreaKind, dict[str, AreaFacts]]
    proposals: tuple[Satisfaction, ...]  # rated this quarter, best first
    money: tuple[Money, ...] | None  # None: no store to read spending from
    names: dict[str, str]  # every area's name at the quarter's end, by id
    position: int | None = None
    head: str | None = None

    def ranked(self, kind: AreaKind) -> list[AreaFacts]:
        """The areas of ``kind``, ranked (unranked ones last, by name)."""
        found = self.levels[kind].values()
        return sorted(found, key=lambda a: (a.rank is None, a.rank or 0, a.name, a.id))

    def children(self, area: AreaFacts) -> list[AreaFacts]:
        """The areas one level below ``area`` that sit in it, ranked."""
        below = LEVELS[LEVELS.index(area.kind) + 1 :]
        if not below:
            return []
        found = [self.levels[below[0]][c] for c in area.children if c in self.levels[below[0]]]
        return sorted(found, key=lambda a: (a.rank is None, a.rank or 0, a.name, a.id))


def gather(
    views: Figures,
    quarter: str,
    source: ProposalSource | None = None,
    head: str | None = None,
) -> Report:
    """The page's facts for ``quarter`` from ``views`` (and ``source``, for money)."""
    quarter = quarter_asked(quarter) or ""
    quarters = (*previous(quarter, 3), quarter)
    structure = views.structure()
    zone = _zone(structure)
    end = quarter_end(quarter, zone)
    as_of = min(views.clock().date(), end.astimezone(ZoneInfo(zone)).date())
    rows = views.proposals()
    flows = pipelines(rows, views, quarter=quarter, as_of=as_of, structure=structure, source=source)
    levels = {
        kind: _level(views, structure=structure, kind=kind, quarters=quarters, end=end, flows=flows)
        for kind in LEVELS
    }
    review = views.review(quarter, level=AreaKind.COMPOUND)
    return Report(
        quarter=quarter,
        quarters=quarters,
        k=views.k,
        as_of=as_of,
        threshold=_threshold(structure, end),
        levels=levels,
        proposals=review.proposals,
        money=None if source is None else spending(rows, source, quarter, structure),
        names={area: name_of(structure, area, end) for area in structure.areas},
        position=getattr(views, "position", None),
        head=head,
    )


def _level(
    views: Figures,
    *,
    structure: Structure,
    kind: AreaKind,
    quarters: tuple[str, ...],
    end: datetime,
    flows: dict[Key, AreaPipeline],
) -> dict[str, AreaFacts]:
    """The areas of one level: the structure's at the quarter's end, and any the
    views placed figures in (an area the structure does not know stands for itself)."""
    trend = {q: _by_area(views.satisfaction(level=kind, quarter=q)) for q in quarters}
    now, before = trend[quarters[-1]], trend[quarters[-2]]
    taking_part = _by_area(views.participation(level=kind, quarter=quarters[-1]))
    known = {a.id for a in structure.areas.values() if a.kind is kind and a.exists_at(end)}
    ids = known | set(now) | set(taking_part) | {i for k, i in flows if k is kind}
    ranks, previous_ranks = _ranks(now), _ranks(before)
    return {
        area: AreaFacts(
            id=area,
            kind=kind,
            name=name_of(structure, area, end),
            children=_children(structure, area, end),
            trend=tuple(trend[q].get(area) for q in quarters),
            participation=taking_part.get(area),
            rank=ranks.get(area),
            previous_rank=previous_ranks.get(area),
            pipeline=flows.get((kind, area)) or AreaPipeline(kind=kind),
        )
        for area in sorted(ids)
    }


def _by_area(found: list[F]) -> dict[str, F]:
    return {f.area_id: f for f in found}


def _ranks(found: dict[str, Satisfaction]) -> dict[str, int]:
    """Rank 1 is the best shown rate, as the review ranks; suppressed areas get none
    (their rank would leak what suppression hides)."""
    shown = [f for f in ranked(list(found.values())) if not f.suppressed]
    return {f.area_id: place for place, f in enumerate(shown, 1)}


def _children(structure: Structure, area: str, end: datetime) -> tuple[str, ...]:
    found = [
        a.id for a in structure.areas.values() if a.exists_at(end) and a.parent_at(end) == area
    ]
    return tuple(sorted(found))


def name_of(structure: Structure, area: str, moment: datetime) -> str:
    """The area's registered name at ``moment`` (its first name if it came later; its
    id if the structure does not know it)."""
    known = structure.areas.get(area)
    if known is None:
        return area
    return known.name_at(moment) or known.names[0].value or area


def _threshold(structure: Structure, end: datetime) -> Decimal:
    districts = [a.id for a in structure.areas.values() if a.kind is AreaKind.DISTRICT]
    policy = Policy()
    if districts:
        policy = structure.policy_at(sorted(districts)[0], end, policy)
    return policy.rectification_threshold


def _zone(structure: Structure) -> str:
    for area in structure.areas.values():
        if area.kind is AreaKind.DISTRICT and area.time_zone:
            return area.time_zone
    return DEFAULT_TIME_ZONE


def previous(quarter: str, count: int) -> tuple[str, ...]:
    """The ``count`` quarters before ``quarter``, oldest first: 2026Q1 -> 2025Q2..2025Q4."""
    year, number = int(quarter[:4]), int(quarter[-1])
    found = []
    for _ in range(count):
        year, number = (year - 1, 4) if number == 1 else (year, number - 1)
        found.append(f"{year}Q{number}")
    return tuple(reversed(found))


def quarter_end(quarter: str, zone: str) -> datetime:
    """The last moment of ``quarter`` in ``zone``, in UTC."""
    year, number = int(quarter[:4]), int(quarter[-1])
    month = number * 3 + 1
    start_next = datetime(year + month // 13, (month - 1) % 12 + 1, 1, tzinfo=ZoneInfo(zone))
    return (start_next - timedelta(microseconds=1)).astimezone(UTC)
