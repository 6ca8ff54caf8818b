"""Delivering one subscription's backlog: in log order, each event signed, the position
moved only after a 2xx.

An event the filter passes over moves the position too (it will never be
delivered to this subscription). An event that fails stops the subscription's pass:
the events after it wait, so that the receiver sees them in order, and the failure
is recorded with the time of the next attempt (``retrying.py``).

A receiver gets the relay's time and memory only within bounds: each request has
``timeout`` seconds in all (a watchdog shuts its connection then, however slowly the
receiver trickles its answer), only the status is read (never the body), and a pass
starts no new delivery after ``budget`` seconds, so that the rest waits for the next
pass rather than holding up the others. Requests go only to public addresses unless
the subscription allows private ones (``addresses.py``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

import httpx
from eventsourcing.persistence import StoredEvent
from standardwebhooks import Webhook

from civicflow.storage import rawlog
from civicflow.storage.errors import storage_errors
from civicflow.webhooks.addresses import PrivateAddressError, pinned
from civicflow.webhooks.envelope import body, envelope
from civicflow.webhooks.names import matches, public_name
from civicflow.webhooks.placement import Placement
from civicflow.webhooks.retrying import RetryPolicy
from civicflow.webhooks.store import Subscriptions
from civicflow.webhooks.subscription import State, Subscription
from civicflow.webhooks.watchdog import Watchdog

if TYPE_CHECKING:
    from civicflow.application.flow import CivicFlow

USER_AGENT = "civicflow-webhooks"


@dataclass(frozen=True)
class Delivery:
    """One attempt to deliver one event to one subscription."""

    subscription_id: str
    position: int
    webhook_id: str
    type: str
    status: int | None  # the receiver's HTTP status; None when it never answered
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def webhook_id(subscription_id: str, position: int) -> str:
    """The ``webhook-id`` of an event for a subscription: the same on every redelivery."""
    return f"msg_{subscription_id.removeprefix('sub_')}_{position}"


class Courier:
    """Delivers subscriptions' backlogs, one page of the log per subscription and call."""

    def __init__(
        self,
        flow: CivicFlow,
        table: Subscriptions,
        *,
        client: httpx.Client,
        policy: RetryPolicy,
        clock: Callable[[], datetime],
        page: int,
        budget: float = 10.0,
    ) -> None:
        self._flow, self._table, self._client = flow, table, client
        self._policy, self._clock, self._page = policy, clock, page
        self._budget = budget

    def deliver(self, subscription: Subscription) -> list[Delivery]:
        """Deliver what follows the subscription's position, until a failure or a page's end."""
        with storage_errors("reading the log for webhooks"):
            pages = rawlog.rows(self._flow.recorder, after=subscription.position, page=self._page)
            rows = next(pages, [])
        placement = Placement(self._flow)
        if subscription.area is not None and rows:
            placement.refresh()  # after the page: it knows every area the page names
        done: list[Delivery] = []
        current = subscription.position
        started = time.monotonic()
        for position, aggregate_id, version, topic, state in rows:
            if done and time.monotonic() - started >= self._budget:
                return done  # the rest in the next pass: the others' turn meanwhile
            name = public_name(topic)
            event = self._wanted(
                subscription, placement, name, (aggregate_id, version, topic, state)
            )
            if event is None or name is None:
                continue
            delivery = self._post(subscription, position, name, event)
            done.append(delivery)
            if not delivery.ok:
                self._failed(subscription, current, position - 1, delivery)
                return done
            if not self._table.advance(subscription.id, current, position):
                return done  # moved or removed meanwhile: leave it to the next pass
            current = position
        if rows and rows[-1][0] > current:  # passed over by the filter
            self._table.advance(subscription.id, current, rows[-1][0])
        return done

    def _wanted(
        self,
        subscription: Subscription,
        placement: Placement,
        name: str | None,
        record: tuple[str, int, str, bytes],
    ) -> Any:
        """The event, decoded, if the subscription wants it; else None."""
        if name is None or not matches(subscription.events, name):
            return None
        aggregate_id, version, topic, state = record
        stored = StoredEvent(
            originator_id=UUID(aggregate_id),
            originator_version=version,
            topic=topic,
            state=state,
        )
        event = self._flow.mapper.to_domain_event(stored)
        if subscription.area is not None and not placement.within(name, event, subscription.area):
            return None
        return event

    def _post(self, subscription: Subscription, position: int, name: str, event: Any) -> Delivery:
        message_id = webhook_id(subscription.id, position)
        key = bytes.fromhex(subscription.pseudonym_key)
        quoted = self._asker(event) if name == "proposal.withdrawn" else ()
        text = body(envelope(name, position, event, subscription.residents, key, quoted=quoted))
        sent_at = self._clock()
        headers = {
            "webhook-id": message_id,
            "webhook-timestamp": str(int(sent_at.timestamp())),
            "webhook-signature": Webhook(subscription.secret).sign(message_id, sent_at, text),
            "content-type": "application/json",
            "user-agent": USER_AGENT,
        }
        made = Delivery(subscription.id, position, message_id, name, None)
        url, extensions = subscription.url, {}
        if not subscription.allow_private:
            try:
                target = pinned(subscription.url)
            except PrivateAddressError as refused:
                return _with(made, None, f"refused: {refused}")
            url, headers["host"] = target.url, target.host
            extensions = {"sni_hostname": target.host.rsplit(":", 1)[0].strip("[]")}
        status, failure = self._send(url, text.encode(), headers, extensions)
        if status is None:
            return _with(made, None, failure)
        answered = _with(made, status, None)
        if answered.ok:
            return answered
        return _with(made, status, f"HTTP {status}")

    def _asker(self, event: Any) -> tuple[str, ...]:
        """Who asked for the proposal of ``event``, whom a withdrawal's reason may name."""
        with storage_errors("reading a proposal for webhooks"):
            asker = self._flow.proposal(event.originator_id).asked_by
        return (asker,) if asker else ()

    def _send(
        self, url: str, content: bytes, headers: dict[str, str], extensions: dict[str, Any]
    ) -> tuple[int | None, str | None]:
        """POST, within ``timeout`` seconds in all; the status, or why there is none."""
        watchdog = Watchdog(self._policy.timeout)
        headers = {**headers, "connection": "close"}  # a fresh connection the watchdog sees
        try:
            with (
                watchdog,
                self._client.stream(
                    "POST",
                    url,
                    content=content,
                    headers=headers,
                    timeout=self._policy.timeout,
                    extensions={**extensions, "trace": watchdog.trace},
                ) as response,
            ):
                return response.status_code, None  # the body is never read
        except httpx.HTTPError as error:
            if watchdog.fired:
                return None, f"Timeout: no answer within {self._policy.timeout:g} s in all"
            return None, f"{type(error).__name__}: {error}"

    def _failed(
        self, subscription: Subscription, current: int, before: int, failed: Delivery
    ) -> None:
        """Record the failure; events the filter passed over before it count as done."""
        if before > current and self._table.advance(subscription.id, current, before):
            subscription = subscription.model_copy(
                update={"position": before, "attempts": 0, "failing_since": None}
            )
        failures = subscription.attempts + 1
        now = self._clock()
        since = subscription.failing_since or now
        gives_up = self._policy.gives_up(failures, since, now)
        self._table.failed(
            subscription,
            failed.error or "failed",
            None if gives_up else self._policy.retry_at(now, failures),
            State.FAILING if gives_up else State.ACTIVE,
            since,
        )


def _with(delivery: Delivery, status: int | None, error: str | None) -> Delivery:
    return Delivery(
        delivery.subscription_id,
        delivery.position,
        delivery.webhook_id,
        delivery.type,
        status,
        error,
    )
