"""Sponsorship (分包): which district cadre or department answers for which area, when."""

from __future__ import annotations

from datetime import datetime

# Defined with the other plain enums (kinds.py), re-exported where the concept lives.
from civicflow.domain.kinds import SponsorKind as SponsorKind  # noqa: PLC0414
from civicflow.domain.values import Frozen


class Sponsorship(Frozen):
    """One sponsor answering for one community or compound over a period."""

    sponsor: str
    kind: SponsorKind
    area_id: str
    start: datetime
    end: datetime | None = None

    def active_at(self, moment: datetime) -> bool:
        """Whether the sponsorship was in force at ``moment``."""
        return self.start <= moment and (self.end is None or moment < self.end)
