"""The structure as the log has told it so far: what a view needs to place each fact.

Views attribute a rating or a participation to areas and to a quarter by the
structure recorded *before* that fact in the log, evaluated at the moment the
fact happened. That makes a view a pure function of the log prefix, so a
rebuild and any split of catch-up into batches give the same figures.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, NamedTuple
from uuid import UUID
from zoneinfo import ZoneInfo

import orjson

from civicflow.domain.community.areas import DEFAULT_TIME_ZONE, Area, AreaKind
from civicflow.domain.community.directory import Directory
from civicflow.domain.community.residents import Resident, resident_uuid
from civicflow.domain.community.structure import Structure
from civicflow.domain.timeline import Change
from civicflow.errors import InvalidInputError
from civicflow.views.homes import SpanMaker, Spans, compound_at, home_json

ALWAYS = (datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC))
STRUCTURE_PARTS = ("areas", "councils", "policies")  # each a dict, stored entry by entry
LEVELS = (AreaKind.COMPOUND, AreaKind.COMMUNITY, AreaKind.STREET, AreaKind.DISTRICT)


@dataclass
class _Holder:
    """Stands in for an aggregate so that events can apply themselves to plain state."""

    state: Any


class Placement(NamedTuple):
    """Where a fact belongs: its quarter, and the area at each level ('' above the scope).

    '' rather than None, because the areas go straight into primary keys, where
    NULLs never collide. An area the structure did not know then (community rules
    off, places kept by the embedding application) stands at every level itself.
    """

    quarter: str
    areas: tuple[str, str, str, str]  # compound, community, street, district


@dataclass
class _Quarter:
    """One calendar quarter in one zone, as a span of instants."""

    start: datetime
    end: datetime
    placement: Placement  # of the lineage it belongs to, in this quarter


@dataclass
class _Lineage:
    """An area's chain of enclosing areas, and the span of time over which it holds."""

    start: datetime
    end: datetime
    areas: tuple[str, str, str, str]
    zone: str
    quarter: _Quarter | None = None  # the quarter of the last fact placed here


@dataclass
class StructureTracker:
    """Areas, councils and homes, advanced event by event in log order."""

    structure: Structure = field(default_factory=Structure)
    homes: dict[str, Spans] = field(default_factory=dict)  # by resident id (``homes.py``)
    saved_structure: Structure = field(default_factory=Structure)  # as last written
    homes_changed: set[str] = field(default_factory=set)
    # Aggregate id (text) -> resident id: only a move needs it (its event names the
    # aggregate alone), so it is made at the first move rather than kept for everyone.
    _ids: dict[str, str] | None = None
    _spans: SpanMaker = field(default_factory=SpanMaker)
    # Placing a fact walks the area tree; most facts land where the previous one did,
    # so each area's lineage is kept with the span it holds for, until a parent changes.
    _lineages: dict[str, _Lineage] = field(default_factory=dict)
    # And the last placement of each area, with the span over which both its lineage
    # and its quarter hold: one comparison for most facts.
    _placed: dict[str, tuple[datetime, datetime, Placement]] = field(default_factory=dict)

    def apply_directory_event(self, event: Directory.Event) -> None:
        """Advance the structure by one directory event."""
        holder = _Holder(self.structure)
        event.apply(holder)
        if _lineage_changed(self.structure, holder.state, getattr(event, "area_id", None)):
            self._lineages.clear()
            self._placed.clear()
        self.structure = holder.state

    def register_from_stored(self, aggregate_id: str, state: dict[str, Any]) -> None:
        """Advance with a resident's registration, read from its stored fields."""
        resident_id = state["resident_id"]
        if self._ids is not None:
            # The raw log gives an id as the text of its UUID, unless the database spells
            # it otherwise (which eventsourcing reads as the same UUID, and so do the views).
            text = aggregate_id if len(aggregate_id) == 36 else str(UUID(aggregate_id))
            self._ids[text] = resident_id
        # As Resident.Registered.apply builds it, but from fields validated when written.
        moment = datetime.fromisoformat(state["occurred_at"])
        self._set_home(resident_id, self._spans.first(moment, state["compound_id"]))

    def apply_resident_event(self, event: Resident.Event) -> None:
        """Advance one resident's homes by one of their events (as ``event.apply`` does)."""
        if isinstance(event, Resident.Registered):
            if self._ids is not None:
                self._ids[str(event.originator_id)] = event.resident_id
            spans = self._spans.first(event.occurred_at, event.compound_id)
            self._set_home(event.resident_id, spans)
            return
        resident_id = self._resident_of(str(event.originator_id))
        span = self._spans.span(event.occurred_at, event.compound())
        self._set_home(resident_id, (*self.homes[resident_id], span))

    def _set_home(self, resident_id: str, spans: Spans) -> None:
        self.homes[resident_id] = spans
        self.homes_changed.add(resident_id)

    def _resident_of(self, aggregate_id: str) -> str:
        if self._ids is None:  # every resident's aggregate id is derived from their id
            self._ids = {str(resident_uuid(rid)): rid for rid in self.homes}
        return self._ids[aggregate_id]

    def home_rows(self) -> list[tuple[str, str]]:
        """(resident id, ``Home`` JSON) for each resident whose homes changed since the
        last call: what a batch writes.
        """
        changed, self.homes_changed = sorted(self.homes_changed), set()
        return [(r, home_json(r, self.homes[r])) for r in changed]

    def structure_rows(self) -> list[tuple[str, str, str]]:
        """(part, key, JSON) for each area, council, policy or sponsorship list changed
        since ``saved_structure``: what a batch writes, rather than the whole structure.
        """
        before, after = self.saved_structure, self.structure
        rows = []
        for part in STRUCTURE_PARTS:
            old, new = getattr(before, part), getattr(after, part)
            if old is new:
                continue
            keys = [key for key, value in new.items() if old.get(key) is not value]
            if keys:
                dumped = after.model_dump(mode="json", include={part: set(keys)})[part]
                rows += [(part, key, orjson.dumps(dumped[key]).decode()) for key in keys]
        if before.sponsorships is not after.sponsorships:
            sponsorships = after.model_dump(mode="json", include={"sponsorships"})
            rows.append(("sponsorships", "", orjson.dumps(sponsorships["sponsorships"]).decode()))
        return rows

    # Moments are compared in UTC: between datetimes of one tzinfo object Python
    # compares fields directly, between the zones pydantic and the standard library
    # make it asks each for its offset, some fifteen times slower.

    def place(self, area_id: str, moment: datetime) -> Placement:
        """The areas ``area_id`` lay in at ``moment``, and the quarter in its district's zone."""
        if moment.tzinfo is not UTC:
            moment = moment.astimezone(UTC)
        placed = self._placed.get(area_id)
        if placed is not None and placed[0] <= moment < placed[1]:
            return placed[2]
        lineage = self._lineages.get(area_id)
        if lineage is None or not lineage.start <= moment < lineage.end:
            lineage = self._lineages[area_id] = lineage_of(self.structure, area_id, moment)
        quarter = lineage.quarter
        if quarter is None or not quarter.start <= moment < quarter.end:
            quarter = lineage.quarter = quarter_span(moment, lineage.zone, lineage.areas)
        start, end = max(lineage.start, quarter.start), min(lineage.end, quarter.end)
        self._placed[area_id] = (start, end, quarter.placement)
        return quarter.placement

    def home_of(self, resident_id: str, moment: datetime) -> str | None:
        """The compound a resident was registered to at ``moment``, if known."""
        spans = self.homes.get(resident_id)
        if spans is None:
            return None
        return compound_at(spans, moment if moment.tzinfo is UTC else moment.astimezone(UTC))


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def quarter_of(moment: datetime, zone: str = DEFAULT_TIME_ZONE) -> str:
    """The calendar quarter of ``moment`` in ``zone``, as ``2026Q3``.

    Raises:
        InvalidInputError: ``zone`` is not the name of a time zone.
    """
    try:
        tz = _zone(zone)
    except (ValueError, LookupError):  # zoneinfo's not-found error is a KeyError
        problem = f"{zone!r} is not a time zone name like {DEFAULT_TIME_ZONE}"
        raise InvalidInputError("zone", [("zone", problem)]) from None
    return _label(moment.astimezone(tz))


def _label(local: datetime) -> str:
    return f"{local.year}Q{(local.month - 1) // 3 + 1}"


def quarter_span(moment: datetime, zone: str, areas: tuple[str, str, str, str]) -> _Quarter:
    """The calendar quarter in ``zone`` that ``moment`` falls in, placing ``areas``."""
    local = moment.astimezone(_zone(zone))
    first_month = (local.month - 1) // 3 * 3 + 1
    start = datetime(local.year, first_month, 1, tzinfo=_zone(zone))
    end = datetime(
        local.year + first_month // 10, (first_month + 2) % 12 + 1, 1, tzinfo=_zone(zone)
    )
    placement = Placement(_label(local), areas)
    return _Quarter(start.astimezone(UTC), end.astimezone(UTC), placement)


def lineage_of(structure: Structure, area_id: str, moment: datetime) -> _Lineage:
    """``Structure.ancestry`` at ``moment``, with the span of time it holds for.

    The span is where every link of the chain stays as it is at ``moment``: each
    area's parent unchanged, and whether the next area had been added yet.
    """
    start, end = ALWAYS

    def narrow(low: datetime | None, high: datetime | None) -> None:
        nonlocal start, end
        start = max(start, low.astimezone(UTC) if low else start)
        end = min(end, high.astimezone(UTC) if high else end)

    chain: list[str] = []
    current: str | None = area_id
    while current is not None and current not in chain:
        area = structure.areas.get(current)
        if area is None:
            break  # an unknown id stays unknown until the structure changes
        if moment < area.added_at:
            narrow(None, area.added_at)
            break
        narrow(area.added_at, None)
        chain.append(current)
        index = bisect_right(area.parents, moment, key=_effective)
        narrow(
            area.parents[index - 1].effective if index else None,
            area.parents[index].effective if index < len(area.parents) else None,
        )
        current = area.parents[index - 1].value if index else None
    if not chain:
        # Unknown then: counted under its own id at every level, rather than nowhere,
        # so that an application keeping its places elsewhere still gets its figures.
        return _Lineage(start, end, (area_id,) * 4, DEFAULT_TIME_ZONE)
    by_kind = {structure.areas[a].kind: a for a in chain}
    district = by_kind.get(AreaKind.DISTRICT)
    zone = structure.areas[district].time_zone if district else None
    areas = (
        by_kind.get(AreaKind.COMPOUND, ""),
        by_kind.get(AreaKind.COMMUNITY, ""),
        by_kind.get(AreaKind.STREET, ""),
        district or "",
    )
    return _Lineage(start, end, areas, zone or DEFAULT_TIME_ZONE)


def _effective(change: Change[Any]) -> datetime:
    return change.effective


def _lineage_changed(before: Structure, after: Structure, named: str | None = None) -> bool:
    """Whether a directory event changed what any placement depends on.

    ``named``: the area the event names; a directory event changes that area alone
    (``Directory``'s events), so only it is compared: a city registers thousands of
    areas, and comparing every area at each of them grew with the square of the city.
    """
    if after.areas is before.areas:
        return False
    if named is not None and named in after.areas and len(after.areas) - len(before.areas) <= 1:
        return _area_moved(before.areas.get(named), after.areas[named])
    return any(_area_moved(before.areas.get(a), area) for a, area in after.areas.items())


def _area_moved(old: Area | None, area: Area) -> bool:
    """Whether an area's placement-relevant fields changed (or it is new)."""
    if old is area:
        return False
    return old is None or (old.kind, old.added_at, old.parents, old.time_zone) != (
        area.kind,
        area.added_at,
        area.parents,
        area.time_zone,
    )


def structure_from_rows(rows: Iterable[Sequence[Any]]) -> Structure:
    """The structure that ``StructureTracker.structure_rows`` wrote, entry by entry."""
    parts: dict[str, Any] = {part: {} for part in STRUCTURE_PARTS}
    parts["sponsorships"] = []
    for part, key, value in rows:
        if part == "sponsorships":  # one list per source: a city's views hold several
            parts[part] += orjson.loads(value)
        else:
            parts[part][key] = orjson.loads(value)
    return Structure.model_validate(parts)
