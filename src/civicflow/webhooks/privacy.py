"""What a webhook says about residents: a pseudonym by default, nothing, or their ids.

Resident ids are personal data, and a webhook sends them to another system that
civicflow does not control. By default each resident is replaced by a pseudonym,
``rp_`` and 32 hex digits: an HMAC of the resident's aggregate id under a key that
belongs to the subscription and never leaves the store. A receiver can still tell
that the same resident asked and later rated (the pseudonym is stable within its
subscription), but cannot reverse it, and two subscriptions cannot join their
pseudonyms. ``omitted`` removes resident ids altogether; ``included`` (an explicit
choice at subscription) sends them as stored.

The ``actor`` of a step a resident may take (asking, backing, rating, withdrawing,
and a resident's own events) is personal data whoever it is: the resident, an
account of the embedding application that stands for them, or an office entering
it on their behalf; it is pseudonymised (or omitted) like a resident. Where such a
step's free text (a title, details, a comment, a reason) or a session's text quotes
one of the ids hidden from the event (or, for a withdrawal, the id of who asked),
the id is replaced there too.

Council members, officials and sponsors act in an office whose record is the point
of the audit trail: the actors of the other steps are delivered as they are.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from enum import StrEnum
from typing import Any

from civicflow.domain.community.residents import resident_uuid


class Residents(StrEnum):
    """How a subscription receives resident ids."""

    PSEUDONYMISED = "pseudonymised"
    OMITTED = "omitted"
    INCLUDED = "included"


# The events that name one resident in ``resident``.
_RESIDENT_FIELD = {"proposal.asked", "proposal.backed", "proposal.rated"}
# The steps a resident may take, or be the subject of: their actor is personal data.
_RESIDENT_STEPS = {*_RESIDENT_FIELD, "proposal.withdrawn"}
# Free text, in which a hidden id is replaced wherever it is quoted.
_FREE_TEXT = ("title", "details", "comment", "reason", "summary", "opinions", "note")
OMITTED_MARK = "[resident]"  # what stands for a quoted id when residents are omitted


def pseudonym(key: bytes, aggregate_id: str) -> str:
    """A resident's pseudonym for one subscription, from the resident's aggregate id."""
    digest = hmac.new(key, aggregate_id.encode(), hashlib.sha256).hexdigest()
    return f"rp_{digest[:32]}"


def personal_actor(name: str) -> bool:
    """Whether the ``actor`` of the event named ``name`` is personal data."""
    return name in _RESIDENT_STEPS or name.startswith("resident.")


def protect(
    name: str,
    data: dict[str, Any],
    mode: Residents,
    key: bytes,
    quoted: tuple[str, ...] = (),
) -> dict[str, Any]:
    """``data`` (an event's fields, as JSON) with resident ids handled as ``mode`` says.

    ``quoted`` are residents the event does not name but its free text may (who asked
    for a proposal being withdrawn): replaced there too.
    """
    if mode is Residents.INCLUDED:
        return data
    ids = {resident: str(resident_uuid(resident)) for resident in quoted}
    ids.update(_resident_ids(name, data))
    actor = data.get("actor")
    if personal_actor(name) and isinstance(actor, str) and actor not in ids:
        # An account or an office standing for the resident: as personal as the resident
        # (and the same pseudonym as a resident of that id, if it is one).
        ids[actor] = str(resident_uuid(actor))
    if not ids:
        return data
    if mode is Residents.OMITTED:
        return _scrubbed(_without(name, data, ids), dict.fromkeys(ids, OMITTED_MARK))
    # Keyed by the aggregate id, so that one person has one pseudonym in every event.
    names = {resident: pseudonym(key, aggregate) for resident, aggregate in ids.items()}
    return _scrubbed(_replaced(data, names), names)


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


def _scrubbed(data: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    """``data`` with every id of ``names`` quoted in its free text replaced."""
    # Longest first, each id whole (not "resident-3" inside "resident-33").
    ids = sorted(names, key=len, reverse=True)
    pattern = re.compile(
        "|".join(rf"(?<![\w-]){re.escape(i)}(?![\w-])" for i in ids), re.IGNORECASE
    )
    lowered = {i.lower(): names[i] for i in ids}

    def scrub(text: Any) -> Any:
        if not isinstance(text, str):
            return text
        return pattern.sub(lambda m: lowered[m.group(0).lower()], text)

    out = dict(data)
    for field in _FREE_TEXT:
        value = out.get(field)
        if isinstance(value, list):
            out[field] = [scrub(v) for v in value]
        elif value is not None:
            out[field] = scrub(value)
    return out
