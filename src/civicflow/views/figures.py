"""The figures views give, as typed values, and how small groups are kept private.

A figure computed from fewer than ``k`` residents is *suppressed*: its numbers
are None and ``suppressed`` is True, in every query and export. Where one
sibling area alone is suppressed, the smallest shown sibling is suppressed too,
so that the parent's figure minus the shown siblings cannot reveal it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from typing import TypeVar

from pydantic import BaseModel, ConfigDict

from civicflow.domain.community.areas import AreaKind
from civicflow.domain.values import Level, content, fraction


class Figure(BaseModel):
    """Base of every figure: frozen; ``suppressed`` hides numbers from small groups."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    suppressed: bool = False


class Satisfaction(Figure):
    """Ratings of one area (or proposal round) in one quarter: counts and rates."""

    area_id: str
    level: AreaKind | None = None
    quarter: str | None = None
    proposal_id: str | None = None
    round: int | None = None
    title: str | None = None
    satisfied: int | None = None
    basically_satisfied: int | None = None
    dissatisfied: int | None = None
    n: int | None = None
    rate: Decimal | None = None  # (satisfied + basically satisfied) / n
    full_rate: Decimal | None = None  # satisfied / n


class Participation(Figure):
    """Distinct residents taking part in one area and quarter, against its registered
    residents and households."""

    area_id: str
    level: AreaKind
    quarter: str
    asked_or_backed: int | None = None
    discussed: int | None = None
    rated: int | None = None
    participants: int | None = None
    households: int
    residents: int  # registered to the area's compounds at the quarter's last moment
    rate: Decimal | None = None  # participants / registered residents
    household_rate: Decimal | None = None  # participants / registered households
    compounds: int
    compounds_with_council: int
    council_coverage: Decimal | None  # compounds with a council / compounds (never suppressed)


class Durations(BaseModel):
    """How long a pipeline step took, in days, over the proposals that took it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    count: int
    median_days: Decimal | None
    p90_days: Decimal | None


class Pipeline(BaseModel):
    """Proposals of one area: how many in each stage, how long steps took, what is overdue."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    area_id: str
    level: AreaKind
    stages: dict[str, int]
    ask_to_decide: Durations
    decide_to_done: Durations
    done_to_publish: Durations
    overdue: tuple[str, ...]  # ids of approved proposals past their deadline, not done


class Review(BaseModel):
    """The quarterly review: areas and proposals ranked, with the counts behind each figure."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    quarter: str
    level: AreaKind
    by_satisfaction: tuple[Satisfaction, ...]
    by_participation: tuple[Participation, ...]
    proposals: tuple[Satisfaction, ...]


ratio = fraction  # one rounding for every rate shown


def satisfaction(area_id: str, counts: dict[str, int], k: int, **about: object) -> Satisfaction:
    """A satisfaction figure from counts per level, suppressed below ``k`` ratings."""
    n = sum(counts.values())
    if n < k:
        return Satisfaction(area_id=area_id, suppressed=True, **about)
    satisfied = counts.get(Level.SATISFIED.value, 0)
    return Satisfaction(
        area_id=area_id,
        satisfied=satisfied,
        basically_satisfied=counts.get(Level.BASICALLY_SATISFIED.value, 0),
        dissatisfied=counts.get(Level.DISSATISFIED.value, 0),
        n=n,
        rate=ratio(content(counts), n),
        full_rate=ratio(satisfied, n),
        **about,
    )


def hidden(count: int, k: int) -> bool:
    """Whether a count of residents is too small to show (zero reveals nobody)."""
    return 0 < count < k


F = TypeVar("F", bound=Figure)


def protect_siblings(
    figures: list[F],
    parents: Iterable[tuple[str, str]],
    size: dict[str, int],
) -> list[F]:
    """Suppress the smallest shown sibling wherever exactly one sibling is suppressed.

    ``parents`` pairs each area with its parent(s); ``size`` gives each area's count.
    A compound moved within a quarter has two parents, so hiding it under one can
    leave it alone under the other: passes repeat until no parent has a lone one.
    """
    by_area = {f.area_id: f for f in figures}  # type: ignore[attr-defined]
    siblings: dict[str, list[str]] = defaultdict(list)
    for child, parent in parents:
        if child in by_area:
            siblings[parent].append(child)
    hidden = {area for area, figure in by_area.items() if figure.suppressed}
    while True:
        more = {_smallest_shown(group, hidden, size) for group in siblings.values()} - {None}
        if not more:
            break
        hidden |= more
    return [
        _suppress(f) if f.area_id in hidden and not f.suppressed else f  # type: ignore[attr-defined]
        for f in figures
    ]


def _smallest_shown(group: list[str], hidden: set[str], size: dict[str, int]) -> str | None:
    """The sibling to hide too, when exactly one counted sibling is hidden; else None."""
    alone = [a for a in group if a in hidden and size.get(a, 0) > 0]
    shown = sorted((size.get(a, 0), a) for a in group if a not in hidden)
    return shown[0][1] if len(alone) == 1 and shown else None


def _suppress(figure: F) -> F:
    """The same figure with every resident-derived number hidden."""
    if isinstance(figure, Satisfaction):
        return figure.model_copy(
            update={
                "suppressed": True,
                "satisfied": None,
                "basically_satisfied": None,
                "dissatisfied": None,
                "n": None,
                "rate": None,
                "full_rate": None,
            }
        )
    return figure.model_copy(
        update={
            "suppressed": True,
            "asked_or_backed": None,
            "discussed": None,
            "rated": None,
            "participants": None,
            "rate": None,
            "household_rate": None,
        }
    )
