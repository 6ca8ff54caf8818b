"""Needs raised, as an Open311 GeoReport v2 ``requests.json`` (read only).

One service request per proposal: its status (``closed`` once final, ``open`` before),
its category as the service, its title as the description, when it was raised and
when it last changed stage, and the area it is about by id and by the names of the
areas it lies in. civicflow keeps no geometry, so ``lat`` and ``long`` are left out;
nor does it publish who raised the need (GeoReport's ``account_id``, ``email``,
``first_name``... are never written).
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from civicflow.domain.community.areas import DEFAULT_TIME_ZONE
from civicflow.domain.community.structure import Structure
from civicflow.domain.lifecycle import FINAL_STAGES
from civicflow.domain.proposal_state import ProposalState
from civicflow.opendata.source import Source

AGENCY = "party-masses council"  # who acts on a need: the compound's council


def requests(source: Source) -> list[dict[str, Any]]:
    """The GeoReport v2 service requests of the source's proposals."""
    return [_request(source.structure, state) for state in source.proposals]


def _request(structure: Structure, state: ProposalState) -> dict[str, Any]:
    return {
        "service_request_id": str(state.id),
        "status": "closed" if state.stage in FINAL_STAGES else "open",
        "status_notes": state.stage.value,
        "service_name": state.category,
        "service_code": state.category,
        "description": state.title,
        "agency_responsible": AGENCY,
        "requested_datetime": _local(structure, state.area_id, state.asked_at),
        "updated_datetime": _local(structure, state.area_id, state.stage_entered_at),
        "expected_datetime": _due(structure, state),
        "address": address(structure, state.area_id, state.asked_at),
        "address_id": state.area_id,
    }


def _local(structure: Structure, area_id: str, moment: datetime) -> str:
    """The moment in the district's time zone, W3C format with its offset."""
    zone = structure.time_zone(area_id, moment) or DEFAULT_TIME_ZONE
    return moment.astimezone(ZoneInfo(zone)).isoformat(timespec="seconds")


def _due(structure: Structure, state: ProposalState) -> str | None:
    """The end of the deadline's day in the district's time zone (GeoReport wants a moment)."""
    decision = state.decision
    if decision is None or decision.deadline is None:
        return None
    zone = structure.time_zone(state.area_id, decision.occurred_at) or DEFAULT_TIME_ZONE
    end = datetime.combine(decision.deadline, time(23, 59, 59), ZoneInfo(zone))
    return end.isoformat(timespec="seconds")


def address(structure: Structure, area_id: str, moment: datetime) -> str:
    """The names of the area and the areas it lay in, narrowest first."""
    chain = structure.ancestry(area_id, moment) or (area_id,)
    names = (structure.areas[a].name_at(moment) if a in structure.areas else None for a in chain)
    return ", ".join(name or a for name, a in zip(names, chain, strict=True))
