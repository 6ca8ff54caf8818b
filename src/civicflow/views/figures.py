"""The figures views give, as typed values.

A suppressed figure has its numbers None and ``suppressed`` True, in every query
and export; which figures are suppressed is decided for all of them at once
(``publication.py``).
"""

from __future__ import annotations

from decimal import Decimal

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


class CityParticipation(Figure):
    """A city's participation in one quarter: the sums of its districts' figures.

    A resident active in two districts in one quarter counts in each, as each
    district counts them.
    """

    city: str
    quarter: str
    asked_or_backed: int | None = None
    discussed: int | None = None
    rated: int | None = None
    participants: int | None = None
    households: int
    residents: int
    rate: Decimal | None = None  # participants / registered residents
    household_rate: Decimal | None = None
    districts: int  # with a figure this quarter
    compounds: int
    compounds_with_council: int
    council_coverage: Decimal | None


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


def satisfaction(area_id: str, counts: dict[str, int], hide: bool, **about: object) -> Satisfaction:
    """A satisfaction figure from counts per level, suppressed when ``hide``."""
    n = sum(counts.values())
    if hide:
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
