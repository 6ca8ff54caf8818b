"""A subscription: where to deliver, which events, how to sign them, and how far it got.

Everything a subscriber asks for is checked here, before anything is stored: a URL
that is not http(s), an event type that does not exist or a secret that is not a
Standard Webhooks secret is an ``InvalidInputError`` and nothing is written.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from datetime import datetime
from enum import StrEnum
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict

from civicflow.errors import InvalidInputError
from civicflow.webhooks.addresses import literal_problem
from civicflow.webhooks.names import check_patterns
from civicflow.webhooks.privacy import Residents

SECRET_PREFIX = "whsec_"  # noqa: S105 - the prefix, not a secret
SECRET_BYTES = (24, 64)  # what Standard Webhooks asks of a symmetric secret


class State(StrEnum):
    """Whether the relay delivers to a subscription."""

    ACTIVE = "active"
    PAUSED = "paused"  # by an operator
    FAILING = "failing"  # given up after the last attempt allowed; resumed by an operator


class Subscription(BaseModel):
    """One subscriber, as stored beside the events."""

    model_config = ConfigDict(frozen=True)

    id: str
    url: str
    secret: str  # whsec_...: shown once, when the subscription is made
    events: tuple[str, ...]  # public names or groups; empty: every event
    area: str | None  # only events placed within this area (None: everywhere)
    residents: Residents
    created_at: datetime
    state: State
    position: int  # the last notification id acknowledged (or passed over by the filter)
    attempts: int  # failed attempts at the next event since the last success
    next_attempt_at: datetime | None  # not before then (backing off)
    last_error: str | None
    pseudonym_key: str  # hex; keys the residents' pseudonyms, never delivered
    allow_private: bool = False  # may deliver to loopback, private, link-local addresses
    failing_since: datetime | None = None  # the first failure at the next event

    def public(self) -> dict[str, object]:
        """What ``webhooks list`` shows: everything but the two keys."""
        return self.model_dump(mode="json", exclude={"secret", "pseudonym_key"})


def new_id() -> str:
    return f"sub_{secrets.token_hex(8)}"


def new_secret() -> str:
    """A fresh Standard Webhooks secret: ``whsec_`` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def new_pseudonym_key() -> str:
    return secrets.token_hex(32)


def checked_url(url: str, *, allow_private: bool = False) -> str:
    """``url`` if it is an absolute http or https URL, to a public address unless
    ``allow_private`` (a host name is checked again at each delivery: ``addresses.py``).

    Raises:
        InvalidInputError: it is not.
    """
    parts = urlsplit(url.strip())
    try:
        parts.port  # noqa: B018 - refuses a port that is not a number
    except ValueError:
        parts = parts._replace(scheme="")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInputError(
            "subscription", [("url", f"{url!r} is not an http:// or https:// URL")]
        )
    problem = None if allow_private else literal_problem(url.strip())
    if problem is not None:
        raise InvalidInputError(
            "subscription",
            [("url", f"{problem}: refused unless the subscription allows private addresses")],
        )
    return url.strip()


def checked_secret(secret: str) -> str:
    """``secret`` if it is ``whsec_`` and base64 of 24 to 64 bytes.

    Raises:
        InvalidInputError: it is not.
    """
    low, high = SECRET_BYTES
    problem = f"a secret is {SECRET_PREFIX} and base64 of {low} to {high} random bytes"
    if not secret.startswith(SECRET_PREFIX):
        raise InvalidInputError("subscription", [("secret", problem)])
    try:
        size = len(base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True))
    except (binascii.Error, ValueError):
        raise InvalidInputError("subscription", [("secret", problem)]) from None
    if not low <= size <= high:
        raise InvalidInputError("subscription", [("secret", problem)])
    return secret


def checked_residents(residents: str) -> Residents:
    """Raises: InvalidInputError: not one of the three ways."""
    try:
        return Residents(residents)
    except ValueError:
        ways = ", ".join(r.value for r in Residents)
        raise InvalidInputError(
            "subscription", [("residents", f"{residents!r} is not one of {ways}")]
        ) from None


def checked_events(events: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Raises: InvalidInputError: an entry names no event."""
    return check_patterns(events)
