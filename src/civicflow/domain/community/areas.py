"""Districts, streets, communities and compounds: places nested in that order."""

from __future__ import annotations

from datetime import datetime

# Defined with the other plain enums (kinds.py), re-exported where the concept lives.
from civicflow.domain.kinds import AreaKind as AreaKind  # noqa: PLC0414
from civicflow.domain.timeline import Change, value_at
from civicflow.domain.values import Frozen

DEFAULT_TIME_ZONE = "Asia/Shanghai"  # a district that names none counts its quarters here


class Area(Frozen):
    """One place and its history: names, parent, and for compounds their households."""

    id: str
    kind: AreaKind
    added_at: datetime
    names: tuple[Change[str], ...]
    parents: tuple[Change[str], ...] = ()
    households: tuple[Change[int], ...] = ()
    is_old: bool | None = None
    has_property_management: bool | None = None
    time_zone: str | None = None

    def exists_at(self, moment: datetime) -> bool:
        """Whether the area had been added by ``moment``."""
        return self.added_at <= moment

    def name_at(self, moment: datetime) -> str | None:
        """The area's name at ``moment``."""
        return value_at(self.names, moment)

    def parent_at(self, moment: datetime) -> str | None:
        """The id of the area this one sat in at ``moment``."""
        return value_at(self.parents, moment)

    def households_at(self, moment: datetime) -> int | None:
        """Registered households at ``moment`` (compounds only)."""
        return value_at(self.households, moment)
