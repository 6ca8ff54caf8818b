"""Subscribing, listing, pausing, resuming and removing: the operator's side of webhooks."""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from civicflow.errors import InvalidInputError
from civicflow.webhooks.privacy import Residents
from civicflow.webhooks.store import Subscriptions
from civicflow.webhooks.subscription import (
    State,
    Subscription,
    checked_events,
    checked_residents,
    checked_secret,
    checked_url,
    new_id,
    new_pseudonym_key,
    new_secret,
)

if TYPE_CHECKING:
    from civicflow.application.flow import CivicFlow

# A store in memory has no database for the table: one private database per
# application, shared by everyone who asks for its subscriptions, closed with it.
_IN_MEMORY: weakref.WeakKeyDictionary[CivicFlow, Subscriptions] = weakref.WeakKeyDictionary()


def subscriptions_of(flow: CivicFlow) -> Subscriptions:
    """The subscription table of ``flow``'s store."""
    if getattr(flow.recorder, "datastore", None) is not None:
        return Subscriptions(flow)
    if flow not in _IN_MEMORY:
        table = Subscriptions(flow)
        _IN_MEMORY[flow] = table
        weakref.finalize(flow, table.close)
    return _IN_MEMORY[flow]


class Webhooks:
    """The webhook subscriptions of one store."""

    def __init__(self, flow: CivicFlow) -> None:
        self._flow = flow
        self._table = subscriptions_of(flow)

    def add(
        self,
        url: str,
        *,
        events: Iterable[str] = (),
        secret: str | None = None,
        area: str | None = None,
        residents: Residents | str = Residents.PSEUDONYMISED,
        from_start: bool = True,
        allow_private: bool = False,
    ) -> Subscription:
        """Subscribe ``url``; the returned subscription holds its secret (keep it: it is
        shown only now). It receives the log from its start, or with ``from_start=False``
        only what is recorded from now on. Only public addresses are delivered to, unless
        ``allow_private`` (a receiver on this machine or the local network).

        Raises:
            InvalidInputError: the URL (or its address, a private one without
                ``allow_private``), an event type, the secret, the area or the residents
                setting is not valid; nothing is written.
        """
        subscription = Subscription(
            id=new_id(),
            url=checked_url(url, allow_private=allow_private),
            secret=checked_secret(secret) if secret is not None else new_secret(),
            events=checked_events(list(events)),
            area=self._checked_area(area),
            residents=checked_residents(residents),
            created_at=datetime.now(UTC),
            state=State.ACTIVE,
            position=0 if from_start else self._flow.recorder.max_notification_id() or 0,
            attempts=0,
            next_attempt_at=None,
            last_error=None,
            pseudonym_key=new_pseudonym_key(),
            allow_private=allow_private,
        )
        self._table.add(subscription)
        return subscription

    def list(self) -> list[Subscription]:
        """Every subscription, oldest first."""
        return self._table.all()

    def get(self, subscription_id: str) -> Subscription:
        """Raises: SubscriptionNotFoundError: there is none with this id."""
        return self._table.get(subscription_id)

    def remove(self, subscription_id: str) -> None:
        """Raises: SubscriptionNotFoundError: there is none with this id."""
        self._table.remove(subscription_id)

    def pause(self, subscription_id: str) -> Subscription:
        """Stop delivering (the position is kept). Raises: SubscriptionNotFoundError."""
        return self._table.set_state(subscription_id, State.PAUSED)

    def resume(self, subscription_id: str) -> Subscription:
        """Deliver again from the position, after a pause or a give-up, attempts afresh.

        Raises:
            SubscriptionNotFoundError: there is none with this id.
        """
        return self._table.set_state(subscription_id, State.ACTIVE)

    def _checked_area(self, area: str | None) -> str | None:
        if area is None:
            return None
        if not area.strip():
            raise InvalidInputError("subscription", [("area", "must not be empty")])
        known = self._flow.structure().areas
        if known and area not in known:  # with no areas at all, places are the application's
            raise InvalidInputError("subscription", [("area", f"no area {area!r} is registered")])
        return area
