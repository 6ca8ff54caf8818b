"""A TCP proxy between civicflow and PostgreSQL that can cut a connection at a chosen point.

``drop_reply_to_commit`` lets the server commit and then cuts the connection
before the client hears of it (a lost acknowledgement); ``drop_commit`` cuts it
before the server sees the COMMIT (the transaction is rolled back). ``pause``
refuses new connections and cuts the open ones, as a server going away would.
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
from collections.abc import Iterator

# PostgreSQL's CommandComplete message for a COMMIT: 'C', length 11, "COMMIT\0".
COMMIT_DONE = b"C\x00\x00\x00\x0bCOMMIT\x00"
COMMIT_SENT = b"COMMIT\x00"


class Proxy:
    """Forwards 127.0.0.1:<port> to the target, one thread per connection."""

    def __init__(self, target: tuple[str, int] = ("127.0.0.1", 5432)) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.listener.getsockname()[1]
        self.lock = threading.Lock()
        self.armed: str | None = None
        self.cuts = 0
        self.paused = False
        self.pairs: list[tuple[socket.socket, socket.socket]] = []
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, database_url: str) -> str:
        """``database_url`` with its host and port replaced by the proxy's."""
        return database_url.replace("127.0.0.1:5432", f"127.0.0.1:{self.port}")

    def drop_reply_to_commit(self) -> None:
        """Cut the next connection whose server commits, before the reply gets through."""
        with self.lock:
            self.armed = "reply"

    def drop_commit(self) -> None:
        """Cut the next connection that sends COMMIT, before the server sees it."""
        with self.lock:
            self.armed = "commit"

    def pause(self) -> None:
        """Cut every open connection and refuse new ones until ``resume``."""
        with self.lock:
            self.paused = True
            pairs, self.pairs = self.pairs, []
        for pair in pairs:
            _close(*pair)

    def resume(self) -> None:
        with self.lock:
            self.paused = False

    def close(self) -> None:
        self.closed = True
        self.pause()
        self.listener.close()

    def _accept(self) -> None:
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.paused:
                client.close()
                continue
            server = socket.create_connection(self.target)
            with self.lock:
                self.pairs.append((client, server))
            threading.Thread(target=self._pump, args=(client, server), daemon=True).start()

    def _pump(self, client: socket.socket, server: socket.socket) -> None:
        with contextlib.suppress(OSError, ValueError):
            while True:
                ready, _, _ = select.select([client, server], [], [], 1.0)
                for source in ready:
                    data = source.recv(65536)
                    if not data or self._cut(source is server, data):
                        _close(client, server)
                        return
                    (server if source is client else client).sendall(data)

    def _cut(self, from_server: bool, data: bytes) -> bool:
        with self.lock:
            hit = (self.armed == "reply" and from_server and COMMIT_DONE in data) or (
                self.armed == "commit" and not from_server and COMMIT_SENT in data
            )
            if hit:
                self.armed = None
                self.cuts += 1
            return hit


def _close(*sockets: socket.socket) -> None:
    for s in sockets:
        with contextlib.suppress(OSError):
            s.shutdown(socket.SHUT_RDWR)
        s.close()


@contextlib.contextmanager
def proxy_to_postgres() -> Iterator[Proxy]:
    proxy = Proxy()
    try:
        yield proxy
    finally:
        proxy.close()
