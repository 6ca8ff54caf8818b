"""What a webhook says about residents: a pseudonym by default, nothing, or their ids.

Resident ids are personal data, and a webhook sends them to another system that
civicflow does not control. By default each resident is replaced by a pseudonym,
``rp_`` and 32 hex digits: an HMAC of the resident's aggregate id under a key that
belongs to the subscription and never leaves the store. A receiver can still tell
that the same resident asked and later rated (the pseudonym is stable within its
subscription), but cannot reverse it, and two subscriptions cannot join their
pseudonyms. ``omitted`` removes resident ids altogether; ``included`` (an explicit
choice at subscription) sends them as stored.

Council members, officials and sponsors act in an office whose record is the point
of the audit trail: their ids are delivered as they are.
"""

from __future__ import annotations

import hashlib
import hmac
from enum import StrEnum
from typing import Any

from civicflow.domain.community.residents import resident_uuid


class Residents(StrEnum):
    """How a subscription receives resident ids."""

    PSEUDONYMISED = "pseudonymised"
    OMITTED = "omitted"
    INCLUDED = "included"


# The events that name one resident in ``resident``, who is also their actor unless
# an office entered them on the resident's behalf.
_RESIDENT_FIELD = {"proposal.asked", "proposal.backed", "proposal.rated"}


def pseudonym(key: bytes, aggregate_id: str) -> str:
    """A resident's pseudonym for one subscription, from the resident's aggregate id."""
    digest = hmac.new(key, aggregate_id.encode(), hashlib.sha256).hexdigest()
    return f"rp_{digest[:32]}"


def protect(name: str, data: dict[str, Any], mode: Residents, key: bytes) -> dict[str, Any]:
    """``data`` (an event's fields, as JSON) with resident ids handled as ``mode`` says."""
    if mode is Residents.INCLUDED:
        return data
    ids = _resident_ids(name, data)
    if not ids:
        return data
    if mode is Residents.OMITTED:
        return _without(name, data, ids)
    # Keyed by the aggregate id, so that one person has one pseudonym in every event.
    names = {resident: pseudonym(key, aggregate) for resident, aggregate in ids.items()}
    return _replaced(data, names)


def _resident_ids(name: str, data: dict[str, Any]) -> dict[str, str]:
    """The resident ids ``data`` holds, each with the resident's aggregate id."""
    if name in _RESIDENT_FIELD:
        found = [data["resident"]]
    elif name == "proposal.discussed":
        # Attendees who were not council members (all of them, when the session was
        # recorded without community rules and so without knowing who the members were).
        members = set(data.get("members_present") or ())
        found = [a for a in data["attendees"] if a not in members]
    elif name.startswith("resident."):
        aggregate = str(data["originator_id"])
        ids = {aggregate: aggregate}  # a resident's own events: the aggregate is the person
        if "resident_id" in data:
            ids[data["resident_id"]] = aggregate
        return ids
    else:
        return {}
    return {resident: str(resident_uuid(resident)) for resident in found}


def _replaced(data: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    out = dict(data)
    for field in ("resident", "resident_id", "actor", "originator_id"):
        if field in out and out[field] in names:
            out[field] = names[out[field]]
    if "attendees" in out:
        out["attendees"] = [names.get(a, a) for a in out["attendees"]]
    return out


def _without(name: str, data: dict[str, Any], ids: dict[str, str]) -> dict[str, Any]:
    out = {key: value for key, value in data.items() if key not in ("resident", "resident_id")}
    if out.get("actor") in ids:
        del out["actor"]
    if name.startswith("resident."):
        del out["originator_id"]
    if "attendees" in out:
        out["attendees"] = [a for a in out["attendees"] if a not in ids]
    return out
