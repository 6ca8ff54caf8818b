"""Where an event happened, for subscriptions scoped to one area.

A proposal's events happen in its scope (the ``area_id`` it was asked in); a
directory event in the area or compound it names; a resident's registration or
move in the compound it names. An event lies within a subscription's area when its
area is that area or lay inside it when the event happened, by the structure as
the store knows it. Events that name no area (a resident moving out, a directory
opened) are not delivered to scoped subscriptions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from civicflow.application.flow import CivicFlow
    from civicflow.domain.community.structure import Structure


class Placement:
    """Places events in areas, remembering each proposal's scope once read."""

    def __init__(self, flow: CivicFlow) -> None:
        self._flow = flow
        self._scopes: dict[str, str] = {}  # a proposal's scope never changes
        self._structure: Structure | None = None

    def refresh(self) -> None:
        """Read the structure again: after reading a page, so it knows every area the page names."""
        self._structure = self._flow.structure()

    def within(self, name: str, event: Any, area: str) -> bool:
        """Whether the event named ``name`` happened within ``area``."""
        place = self._area_of(name, event)
        if place is None:
            return False
        if place == area:
            return True
        if self._structure is None:
            self.refresh()
        assert self._structure is not None  # noqa: S101 - refreshed just above
        return self._structure.contains(area, place, event.occurred_at)

    def _area_of(self, name: str, event: Any) -> str | None:
        if name.startswith("proposal."):
            key = str(event.originator_id)
            if name == "proposal.asked":
                self._scopes[key] = event.area_id
            if key not in self._scopes:
                self._scopes[key] = self._flow.proposal(event.originator_id).area_id
            return self._scopes[key]
        found = getattr(event, "area_id", None) or getattr(event, "compound_id", None)
        return str(found) if found is not None else None
