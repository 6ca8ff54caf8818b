"""The JSON a receiver gets: ``type``, ``timestamp``, ``position`` and the event's ``data``.

The envelope follows the Standard Webhooks payload shape. ``data`` holds the event's
fields as docs/events.md documents them (in pydantic's JSON form: datetimes as ISO
8601, money as strings), with resident ids handled as the subscription says
(``privacy.py``). The same notification always gives the same bytes for the same
subscription: the log never changes, nor does the subscription's pseudonym key.
"""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import BaseModel

from civicflow.webhooks.privacy import Residents, protect


def envelope(
    name: str,
    position: int,
    event: BaseModel,
    residents: Residents,
    key: bytes,
    *,
    quoted: tuple[str, ...] = (),
) -> dict[str, Any]:
    """The payload for one event of the log at ``position``, named ``name`` (``quoted``:
    residents its free text may name, hidden there too: ``privacy.protect``)."""
    data = event.model_dump(mode="json")
    return {
        "type": name,
        "timestamp": data["timestamp"],  # recording time, as the event says
        "position": position,  # in the store's log: the order of delivery
        "data": protect(name, data, residents, key, quoted),
    }


def body(payload: dict[str, Any]) -> str:
    """The exact text that is signed and sent."""
    return orjson.dumps(payload).decode()
