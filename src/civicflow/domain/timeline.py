"""Values that change over time: what held at a given moment, with history kept.

Structure changes take effect at a moment in the world (``effective``), which is
what "as of" queries and rule checks go by, whatever the recording order.
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import datetime
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict

T = TypeVar("T")


class Change(BaseModel, Generic[T]):
    """One value and the moment from which it holds (``None``: it stopped holding)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    effective: datetime
    value: T | None


def value_at(changes: tuple[Change[T], ...], moment: datetime) -> T | None:
    """The value in force at ``moment`` (None before the first change or after an end)."""
    index = bisect_right(changes, moment, key=_effective)
    return changes[index - 1].value if index else None


def _effective(change: Change[T]) -> datetime:
    return change.effective
