"""A real webhook receiver on 127.0.0.1: verifies each delivery as a subscriber would.

It runs a threaded HTTP server on a free port, checks every request's signature
with ``standardwebhooks`` (``Webhook(secret).verify``), records what it accepted,
and can be told to fail (an HTTP status, or a hang up without answering) or to be
slow, so that tests can see the relay retry, back off and redeliver.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError


@dataclass(frozen=True)
class Received:
    """One delivery the receiver accepted (signature valid)."""

    webhook_id: str
    payload: dict[str, Any]
    body: bytes


class Receiver:
    """A webhook endpoint in a thread; ``url`` is where to subscribe it."""

    def __init__(self, secret: str | None = None) -> None:
        self.secret = secret
        self.received: list[Received] = []  # accepted, in arrival order, duplicates too
        self.rejected: list[str] = []  # why unsigned or badly signed requests were refused
        self.failures_left = 0  # answer this many requests with ``fail_status``
        self.fail_status = 500
        self.lost_answers = 0  # record this many deliveries, then answer 500 all the same
        self.delay = 0.0  # seconds to wait before answering (after recording)...
        self.slow_after = 0  # ...once this many deliveries have been recorded
        self.arrived = threading.Event()  # set when a request has been recorded
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/hook"

    def ids(self) -> list[str]:
        with self._lock:
            return [r.webhook_id for r in self.received]

    def unique(self) -> list[Received]:
        """The accepted deliveries with duplicates (same ``webhook-id``) dropped, as a
        receiver following the standard does."""
        seen: set[str] = set()
        out = []
        with self._lock:
            for r in self.received:
                if r.webhook_id not in seen:
                    seen.add(r.webhook_id)
                    out.append(r)
        return out

    def fail(self, times: int, status: int = 500) -> None:
        with self._lock:
            self.failures_left, self.fail_status = times, status

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Receiver:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _accept(self, body: bytes, headers: dict[str, str]) -> int:
        """The status to answer: 401 for a bad signature, a failure if asked, else 204."""
        with self._lock:
            if self.failures_left > 0:
                self.failures_left -= 1
                return self.fail_status
        try:
            assert self.secret is not None
            payload = Webhook(self.secret).verify(body, headers)
        except (WebhookVerificationError, AssertionError, ValueError) as error:
            with self._lock:
                self.rejected.append(repr(error))
            return 401
        with self._lock:
            self.received.append(Received(headers["webhook-id"], payload, body))
            lost, self.lost_answers = self.lost_answers > 0, max(0, self.lost_answers - 1)
        self.arrived.set()
        return 500 if lost else 204

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                status = receiver._accept(body, {k.lower(): v for k, v in self.headers.items()})
                if receiver.delay and len(receiver.received) > receiver.slow_after:
                    threading.Event().wait(receiver.delay)
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass  # quiet: pytest shows failures, not every request

        return Handler


def payloads(receiver: Receiver) -> list[dict[str, Any]]:
    """The deduplicated payloads, as plain JSON."""
    return [json.loads(r.body) for r in receiver.unique()]
