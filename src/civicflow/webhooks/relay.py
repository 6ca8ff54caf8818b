"""The relay: follows the log and delivers it to every active subscription.

Each pass takes the subscriptions that are due (active, not backing off) and
delivers a page of the log to each, in parallel threads. ``run`` goes further: each
subscription has passes of its own, one after the other in a thread while it has
something to deliver, so that one slow or failing receiver never holds up the
others' next pass (and a receiver gets at most ``timeout`` seconds a request and
``budget`` seconds a pass: ``delivery.py``). The relay keeps nothing in memory that
matters: positions are in the store, so a relay killed at any moment and started
again redelivers at most the events whose acknowledgement it had not recorded,
with the same ``webhook-id``s.
"""

from __future__ import annotations

import logging
import threading
import time
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
        budget: float = 10.0,
    ) -> None:
        self.policy = policy or RetryPolicy()
        self._table = subscriptions_of(flow)
        self._table.ensure()
        self._client = client or httpx.Client(follow_redirects=False)
        self._owns_client = client is None
        self._clock = clock
        self._courier = Courier(
            flow,
            self._table,
            client=self._client,
            policy=self.policy,
            clock=clock,
            page=page,
            budget=budget,
        )
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="civicflow-webhook")

    def deliver_once(self) -> list[Delivery]:
        """One pass: a page of the log to every subscription that is due; what was attempted."""
        due = [s for s in self._table.all() if self._is_due(s)]
        passes = self._pool.map(self._courier.deliver, due)
        return [delivery for done in passes for delivery in done]

    def run(self, stop: threading.Event, poll: float = 1.0) -> None:
        """Pass after pass until ``stop`` is set, each subscription in a thread of its own.

        A subscription is passed to again as soon as its pass delivered something, else
        after ``poll`` seconds; a slow one never delays another's pass. A database that
        does not answer is waited out (tried again after ``poll``), like a receiver
        that does not. On ``stop``, the passes under way finish first.
        """
        running: set[str] = set()  # subscriptions with a pass under way
        threads: list[threading.Thread] = []
        idle_until: dict[str, float] = {}
        lock = threading.Lock()
        woken = threading.Event()

        def one_pass(subscription: Subscription) -> None:
            delivered = False
            try:
                delivered = any(d.ok for d in self._courier.deliver(subscription))
            except BackendUnavailableError as error:
                log.warning("webhooks: the store did not answer: %s", error)
            except Exception:
                log.exception("webhooks: a pass to %s failed", subscription.id)
            finally:
                with lock:
                    if not delivered:
                        idle_until[subscription.id] = time.monotonic() + poll
                    running.discard(subscription.id)
                woken.set()

        try:
            while not stop.is_set():
                woken.clear()
                threads = [thread for thread in threads if thread.is_alive()]
                try:
                    due = [s for s in self._table.all() if self._is_due(s)]
                except BackendUnavailableError as error:
                    log.warning("webhooks: the store did not answer: %s", error)
                    due = []
                with lock:
                    now = time.monotonic()
                    starting = [
                        s for s in due if s.id not in running and idle_until.get(s.id, 0) <= now
                    ]
                    running.update(s.id for s in starting)
                for subscription in starting:
                    thread = threading.Thread(
                        target=one_pass,
                        args=(subscription,),
                        name=f"civicflow-webhook-{subscription.id}",
                        daemon=True,
                    )
                    threads.append(thread)
                    thread.start()
                woken.wait(poll)
        finally:
            for thread in threads:
                thread.join()

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
