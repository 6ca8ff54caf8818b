"""What a router serves from: one application, its views and their worker, per process.

The application is given (the host opened it and closes it) or made by a factory
(the router opens it and closes it). Either way the views and their worker thread
belong to the router: they start with the host's lifespan, or on the first request
if the host runs none, and stop with the lifespan's end.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from civicflow.application.flow import CivicFlow
from civicflow.audit.signing import Signer
from civicflow.views import Views

logger = logging.getLogger("civicflow.web")

POLL_INTERVAL = 0.5  # seconds between catch-ups when the store cannot be followed live
RETRY_AFTER = 5  # seconds the views worker waits after a failure
SHUTDOWN_TIMEOUT = 10  # seconds to wait for the views worker at shutdown

FlowSource = CivicFlow | Callable[[], CivicFlow]


class Service:
    """The application, views and worker a router answers from (thread-safe)."""

    def __init__(
        self,
        source: FlowSource,
        *,
        k: int = 5,
        follow: bool = True,
        signer: Signer | None = None,
    ) -> None:
        self._source = source
        self._owned = not isinstance(source, CivicFlow)  # made here, so closed here
        self.k = k
        self.signer = signer
        self._follow = follow
        self._lock = threading.Lock()
        self._flow: CivicFlow | None = source if isinstance(source, CivicFlow) else None
        self._views: Views | None = None
        self._stop = threading.Event()
        self._worker: threading.Thread | None = None

    @property
    def flow(self) -> CivicFlow:
        """The application, opened on first use."""
        return self.start()[0]

    @property
    def views(self) -> Views:
        """The views, opened on first use (their worker with them)."""
        return self.start()[1]

    def start(self) -> tuple[CivicFlow, Views]:
        """Open what is not open yet.

        Raises:
            as ``CivicFlow.open`` (for a factory) and ``Views``.
        """
        flow, views = self._flow, self._views
        if flow is not None and views is not None:
            return flow, views
        with self._lock:
            if self._flow is None:
                self._flow = self._make()
            if self._views is None:
                self._views = Views(self._flow, k=self.k)
                self._start_worker(self._views)
            return self._flow, self._views

    def _make(self) -> CivicFlow:
        assert not isinstance(self._source, CivicFlow)  # noqa: S101 (set in __init__)
        return self._source()

    def _start_worker(self, views: Views) -> None:
        if not self._follow:
            return
        self._stop.clear()
        self._worker = threading.Thread(
            target=_keep_up, args=(views, self._stop), name="civicflow-views", daemon=True
        )
        self._worker.start()

    @property
    def worker(self) -> threading.Thread | None:
        """The views' worker thread (None when not following, or not started)."""
        return self._worker

    def close(self) -> None:
        """Stop the worker, close the views, and the application if it was made here."""
        with self._lock:
            self._stop.set()
            if self._worker is not None:
                self._worker.join(timeout=SHUTDOWN_TIMEOUT)
                if self._worker.is_alive():
                    logger.warning("the views worker did not stop within %s s", SHUTDOWN_TIMEOUT)
                self._worker = None
            if self._views is not None:
                self._views.close()
                self._views = None
            if self._owned and self._flow is not None:
                self._flow.close()
                self._flow = None


def _keep_up(views: Views, stop: threading.Event) -> None:
    """Follow the log until ``stop``; a failure (the database gone) is logged and retried."""
    while not stop.is_set():
        try:
            views.follow(stop, poll_interval=POLL_INTERVAL)
        except Exception:
            logger.exception("the views worker failed; retrying in %s s", RETRY_AFTER)
            stop.wait(RETRY_AFTER)
