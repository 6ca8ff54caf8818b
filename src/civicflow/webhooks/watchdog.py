"""A whole-request deadline for httpx, whose own timeouts hold for each phase alone."""

from __future__ import annotations

import socket
import threading
from contextlib import suppress
from typing import Any


class Watchdog:
    """Shuts a request's connection once ``seconds`` have passed, whatever its phase.

    httpx's timeouts hold for each phase (a read that trickles a byte at a time never
    times out): the watchdog learns the connection's socket from httpx's trace and
    shuts it down when the time is up, which ends the request at once.
    """

    def __init__(self, seconds: float) -> None:
        self.fired = False
        self._sockets: list[Any] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True

    def trace(self, event: str, info: dict[str, Any]) -> None:
        if event in ("connection.connect_tcp.complete", "connection.start_tls.complete"):
            stream = info.get("return_value")
            found = stream.get_extra_info("socket") if stream is not None else None
            if found is not None:
                with self._lock:
                    self._sockets.append(found)
                    if self.fired:
                        self._shut(found)

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            for found in self._sockets:
                self._shut(found)

    @staticmethod
    def _shut(found: Any) -> None:
        with suppress(OSError):  # closed already
            found.shutdown(socket.SHUT_RDWR)

    def __enter__(self) -> Watchdog:
        self._timer.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._timer.cancel()
