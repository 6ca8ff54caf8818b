"""Registered residents of areas at a moment: what participation rates are measured against.

A participation rate is distinct participants per registered resident of the area
(``../shared/domain/DOMAIN.md``), so the views count who was registered to each of
the area's compounds at the quarter's last moment, from the residents' homes the
views already keep to place each fact (as compact spans, ``homes.py``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime

from civicflow.views.homes import Spans, compound_at


class Registered:
    """Residents registered per compound, counted once per moment asked about."""

    def __init__(self, homes: Iterable[Spans]) -> None:
        self._homes = tuple(homes)
        self._at: dict[datetime, Counter[str | None]] = {}

    def within(self, compounds: Iterable[str], moment: datetime) -> int:
        """How many residents were registered to one of ``compounds`` at ``moment``."""
        counts = self._at.get(moment)
        if counts is None:  # a quarter's end, shared by every area of its zone
            utc = moment.astimezone(UTC)
            counts = self._at[moment] = Counter(compound_at(spans, utc) for spans in self._homes)
        return sum(counts[compound] for compound in compounds)
