"""The structure as the log has told it so far: what a view needs to place each fact.

Views attribute a rating or a participation to areas and to a quarter by the
structure recorded *before* that fact in the log, evaluated at the moment the
fact happened. That makes a view a pure function of the log prefix, so a
rebuild and any split of catch-up into batches give the same figures.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from civicflow.areas import AreaKind
from civicflow.directory import Directory
from civicflow.resident import Home, Resident, resident_uuid
from civicflow.structure import Structure

DEFAULT_TIME_ZONE = "Asia/Shanghai"
LEVELS = (AreaKind.COMPOUND, AreaKind.COMMUNITY, AreaKind.STREET, AreaKind.DISTRICT)


@dataclass
class _Holder:
    """Stands in for an aggregate so that events can apply themselves to plain state."""

    state: Any


@dataclass
class Placement:
    """Where a fact belongs: the area at each level (None above the scope) and its quarter."""

    compound: str | None
    community: str | None
    street: str | None
    district: str | None
    quarter: str

    def area_at(self, level: AreaKind) -> str | None:
        return getattr(self, level.value)  # type: ignore[no-any-return]


@dataclass
class StructureTracker:
    """Areas, councils and homes, advanced event by event in log order."""

    structure: Structure = field(default_factory=Structure)
    homes: dict[str, Home] = field(default_factory=dict)
    structure_changed: bool = False
    homes_changed: set[str] = field(default_factory=set)
    _ids: dict[UUID, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._ids = {resident_uuid(rid): rid for rid in self.homes}

    def apply(self, event: object) -> bool:
        """Advance with a directory or resident event; False for any other event."""
        if isinstance(event, Directory.Event):
            holder = _Holder(self.structure)
            event.apply(holder)
            self.structure = holder.state
            self.structure_changed = True
            return True
        if isinstance(event, Resident.Event):
            if isinstance(event, Resident.Registered):
                self._ids[event.originator_id] = event.resident_id
            resident_id = self._ids[event.originator_id]
            holder = _Holder(self.homes.get(resident_id))
            event.apply(holder)
            self.homes[resident_id] = holder.state
            self.homes_changed.add(resident_id)
            return True
        return False

    def place(self, area_id: str, moment: datetime) -> Placement:
        """The areas ``area_id`` lay in at ``moment``, and the quarter in its district's zone."""
        chain = self.structure.ancestry(area_id, moment)
        by_kind = {self.structure.areas[a].kind: a for a in chain}
        district = by_kind.get(AreaKind.DISTRICT)
        zone = self.structure.areas[district].time_zone if district else None
        return Placement(
            compound=by_kind.get(AreaKind.COMPOUND),
            community=by_kind.get(AreaKind.COMMUNITY),
            street=by_kind.get(AreaKind.STREET),
            district=district,
            quarter=quarter_of(moment, zone or DEFAULT_TIME_ZONE),
        )

    def home_of(self, resident_id: str, moment: datetime) -> str | None:
        """The compound a resident was registered to at ``moment``, if known."""
        home = self.homes.get(resident_id)
        return home.compound_at(moment) if home is not None else None


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def quarter_of(moment: datetime, zone: str = DEFAULT_TIME_ZONE) -> str:
    """The calendar quarter of ``moment`` in ``zone``, as ``2026Q3``."""
    local = moment.astimezone(_zone(zone))
    return f"{local.year}Q{(local.month - 1) // 3 + 1}"
