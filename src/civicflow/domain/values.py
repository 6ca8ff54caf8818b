"""Value objects carried by proposal events: frozen, validated, no identity."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

# Defined with the other plain enums (kinds.py), re-exported where the concept lives.
from civicflow.domain.kinds import Channel as Channel  # noqa: PLC0414
from civicflow.domain.kinds import Level as Level  # noqa: PLC0414
from civicflow.domain.kinds import Outcome as Outcome  # noqa: PLC0414
from civicflow.domain.kinds import PublicationChannel as PublicationChannel  # noqa: PLC0414

# Opaque ids supplied by the embedding application (residents, officials, areas).
# Bounded and stripped so that a stray space never makes two ids of one person.
ActorId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
Money = Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=2, allow_inf_nan=False)]


def _distinct(values: tuple[str, ...]) -> tuple[str, ...]:
    if len(set(values)) != len(values):
        raise ValueError("must not list the same id twice")
    return values


DistinctIds = Annotated[tuple[ActorId, ...], AfterValidator(_distinct)]


class Frozen(BaseModel):
    """Base for value objects: immutable, and unknown fields are an error."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Budget(Frozen):
    """Money approved for a plan, and where it comes from."""

    amount: Money
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] = "CNY"
    funding_sources: Annotated[tuple[ShortText, ...], Field(min_length=1)]


class Vote(Frozen):
    """The council's vote on the outcome being recorded."""

    in_favour: Annotated[int, Field(ge=0)]
    against: Annotated[int, Field(ge=0)]
    abstain: Annotated[int, Field(ge=0)] = 0

    @property
    def cast(self) -> int:
        """Votes cast, abstentions included."""
        return self.in_favour + self.against + self.abstain


RATE_PLACES = Decimal("0.0001")


def content(counts: Mapping[str, int]) -> int:
    """Ratings that count as satisfied: satisfied plus basically satisfied (满意 + 基本满意).

    The one place that says so: rounds close by it and the views count by it.
    """
    return counts.get(Level.SATISFIED.value, 0) + counts.get(Level.BASICALLY_SATISFIED.value, 0)


def fraction(part: int, whole: int) -> Decimal | None:
    """``part / whole`` to four places (half to even), or None when ``whole`` is zero."""
    if whole == 0:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(RATE_PLACES, ROUND_HALF_EVEN)
