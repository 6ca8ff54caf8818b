"""The rules a district sets for deliberation and rating, overridable per community.

A ``Policy`` is complete (every rule has a value); a ``PolicyChange`` sets only
some rules from a moment on. Rounds and decisions record the policy they used,
so a later change never alters an outcome already reached.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Annotated

from pydantic import Field

# Defined with the other plain enums (kinds.py), re-exported where the concept lives.
from civicflow.domain.kinds import Majority as Majority  # noqa: PLC0414
from civicflow.domain.values import ActorId, Frozen

Fraction = Annotated[Decimal, Field(gt=0, le=1, max_digits=6, decimal_places=4)]
# Who besides the council's members may record its sessions and decisions (a
# community office that keeps the minutes, say): named, never "anyone".
Recorders = Annotated[tuple[ActorId, ...], Field(max_length=100)]


class Policy(Frozen):
    """Every rule, with the defaults used where no district or community set one."""

    rectification_threshold: Fraction = Decimal("0.8")
    rating_window_days: Annotated[int, Field(ge=1, le=3650)] = 30
    quorum: Annotated[Decimal, Field(ge=0, lt=1, max_digits=6, decimal_places=4)] = Decimal("0.5")
    majority: Majority = Majority.SIMPLE
    recorders: Recorders = ()

    @property
    def rating_window(self) -> timedelta:
        """How long a round accepts ratings after it opens."""
        return timedelta(days=self.rating_window_days)

    def quorum_met(self, present: int, members: int) -> bool:
        """More than ``quorum`` of the council's members are present."""
        return members > 0 and present > self.quorum * members

    def overridden(self, change: PolicyChange) -> Policy:
        """This policy with the rules that ``change`` sets."""
        return self.model_copy(update=change.model_dump(exclude_none=True))


class PolicyChange(Frozen):
    """Some rules set by a district or community; unset rules are inherited."""

    rectification_threshold: Fraction | None = None
    rating_window_days: Annotated[int, Field(ge=1, le=3650)] | None = None
    quorum: Annotated[Decimal, Field(ge=0, lt=1, max_digits=6, decimal_places=4)] | None = None
    majority: Majority | None = None
    recorders: Recorders | None = None
