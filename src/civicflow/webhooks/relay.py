"""The relay: follows the log and delivers it to every active subscription.

Each pass takes the subscriptions that are due (active, not backing off) and
delivers a page of the log to each, in parallel threads, so that one slow or
failing receiver never holds up the others. The relay keeps nothing in memory that
matters: positions are in the store, so a relay killed at any moment and started
again redelivers at most the events whose acknowledgement it had not recorded,
with the same ``webhook-id``s.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from types import TracebackType
from typing import TYPE_CHECKING

import httpx

from civicflow.errors import BackendUnavailableError
from civicflow.webhooks.delivery import Courier, Delivery
from civicflow.webhooks.retrying import RetryPolicy
from civicflow.webhooks.subscribing import subscriptions_of
from civicflow.webhooks.subscription import State, Subscription

if TYPE_CHECKING:
    from civicflow.application.flow import CivicFlow

log = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


class Relay:
    """Delivers the log of ``flow`` to its webhook subscriptions (docs/webhooks.md)."""

    def __init__(
        self,
        flow: CivicFlow,
        *,
        policy: RetryPolicy | None = None,
        client: httpx.Client | None = None,
        page: int = 100,
        workers: int = 4,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.policy = policy or RetryPolicy()
        self._table = subscriptions_of(flow)
        self._table.ensure()
        self._client = client or httpx.Client(follow_redirects=False)
        self._owns_client = client is None
        self._clock = clock
        self._courier = Courier(
            flow, self._table, client=self._client, policy=self.policy, clock=clock, page=page
        )
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="civicflow-webhook")

    def deliver_once(self) -> list[Delivery]:
        """One pass: a page of the log to every subscription that is due; what was attempted."""
        due = [s for s in self._table.all() if self._is_due(s)]
        passes = self._pool.map(self._courier.deliver, due)
        return [delivery for done in passes for delivery in done]

    def run(self, stop: threading.Event, poll: float = 1.0) -> None:
        """Pass after pass until ``stop`` is set, waiting ``poll`` seconds when idle.

        A database that does not answer is waited out (a pass is tried again after
        ``poll``), like a receiver that does not.
        """
        while not stop.is_set():
            try:
                attempted = self.deliver_once()
            except BackendUnavailableError as error:
                log.warning("webhooks: the store did not answer: %s", error)
                attempted = []
            if not any(d.ok for d in attempted):
                stop.wait(poll)

    def _is_due(self, subscription: Subscription) -> bool:
        waiting = subscription.next_attempt_at
        return subscription.state is State.ACTIVE and (waiting is None or waiting <= self._clock())

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> Relay:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()
