"""What a receiver or a subscriber cannot make the relay do: wait for ever, fill its
memory, hold up other receivers, or post to a private address (docs/webhooks.md)."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from civicflow import CivicFlow
from civicflow.errors import InvalidInputError
from civicflow.webhooks import Relay, RetryPolicy, State, Webhooks
from civicflow.webhooks.addresses import is_public, literal_problem
from tests import flows
from tests.webhook_receiver import Receiver, payloads
from tests.webhooks_support import Clock, expected


@pytest.fixture
def flow() -> Iterator[CivicFlow]:
    with flows.open_flow() as flow:
        flows.asked(flow)
        yield flow


class RawServer:
    """A TCP server on 127.0.0.1 that answers every request with ``answer(connection)``."""

    def __init__(self, answer: Any) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._answer, self._stop = answer, threading.Event()
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(connection,), daemon=True).start()

    def _one(self, connection: socket.socket) -> None:
        with connection:
            connection.recv(65536)
            with contextlib.suppress(OSError):  # the relay hung up: what it should do
                self._answer(connection, self._stop)

    def close(self) -> None:
        self._stop.set()
        self._listener.close()


def trickle(connection: socket.socket, stop: threading.Event) -> None:
    connection.sendall(b"HTTP/1.1 200 OK\r\n")
    while not stop.wait(0.05):
        connection.sendall(b"x")  # a header that never ends, a byte at a time


def endless(connection: socket.socket, stop: threading.Event) -> None:
    connection.sendall(b"HTTP/1.1 204 No Content\r\ntransfer-encoding: chunked\r\n\r\n")
    chunk = b"10000\r\n" + b"x" * 0x10000 + b"\r\n"
    while not stop.is_set():
        connection.sendall(chunk)


def test_a_receiver_trickling_its_answer_is_cut_off_at_the_timeout(flow: CivicFlow) -> None:
    server = RawServer(trickle)
    try:
        sub = Webhooks(flow).add(f"http://127.0.0.1:{server.port}/", allow_private=True)
        with Relay(flow, policy=RetryPolicy(timeout=0.5)) as relay:
            started = time.monotonic()
            (failed,) = relay.deliver_once()
            took = time.monotonic() - started
    finally:
        server.close()
    assert not failed.ok
    assert took < 3  # per phase, httpx would wait for ever: every byte is a fresh read
    assert "Timeout" in (Webhooks(flow).get(sub.id).last_error or "")


def test_an_endless_body_is_never_read(flow: CivicFlow) -> None:
    server = RawServer(endless)
    try:
        Webhooks(flow).add(f"http://127.0.0.1:{server.port}/", allow_private=True)
        with Relay(flow, policy=RetryPolicy(timeout=5)) as relay:
            started = time.monotonic()
            delivered = relay.deliver_once()
            took = time.monotonic() - started
    finally:
        server.close()
    assert [d.status for d in delivered] == [204] * len(expected(flow))
    assert took < 4  # the status is all the relay reads


def test_a_slow_receiver_does_not_hold_up_the_others_passes(flow: CivicFlow) -> None:
    with Receiver() as slow, Receiver() as quick:
        slow.delay = 0.4  # each delivery takes a while, and there are many
        for receiver in (slow, quick):
            made = Webhooks(flow).add(receiver.url, allow_private=True)
            receiver.secret = made.secret
        stop = threading.Event()
        with Relay(flow, budget=2) as relay:
            running = threading.Thread(target=relay.run, args=(stop,), kwargs={"poll": 0.05})
            running.start()
            try:
                deadline = time.monotonic() + 20
                while len(quick.unique()) < len(expected(flow)) and time.monotonic() < deadline:
                    time.sleep(0.02)
                late = flows.asked(flow)  # while the slow receiver is still in its first pass
                deadline = time.monotonic() + 5
                while len(quick.unique()) < len(expected(flow)) and time.monotonic() < deadline:
                    time.sleep(0.02)
                assert payloads(quick)[-1]["data"]["originator_id"] == str(late.id)
                assert len(slow.unique()) < len(expected(flow)) / 2
            finally:
                stop.set()
                running.join(timeout=60)
        assert not running.is_alive()


def test_a_pass_stops_starting_deliveries_after_its_budget(flow: CivicFlow) -> None:
    with Receiver() as slow:
        slow.delay = 0.2
        slow.secret = Webhooks(flow).add(slow.url, allow_private=True).secret
        with Relay(flow, budget=0.5) as relay:
            first = relay.deliver_once()
        assert 1 <= len(first) <= 4
        assert all(d.ok for d in first)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:5432/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://[::ffff:10.0.0.1]/",
        "http://10.1.2.3/",
        "http://192.168.0.1/",
        "http://100.100.100.200/",  # a cloud's metadata, in shared address space
        "http://localhost:8080/",
        "http://0.0.0.0/",
    ],
)
def test_a_private_address_is_refused_unless_allowed(flow: CivicFlow, url: str) -> None:
    with pytest.raises(InvalidInputError) as refused:
        Webhooks(flow).add(url)
    assert [f for f, _ in refused.value.errors] == ["url"]
    assert Webhooks(flow).list() == []
    assert Webhooks(flow).add(url, allow_private=True).allow_private


def test_public_addresses_pass() -> None:
    import ipaddress

    assert literal_problem("https://93.184.216.34/hook") is None
    assert literal_problem("https://hooks.example.org/hook") is None  # checked at delivery
    assert is_public(ipaddress.ip_address("2606:4700::1111"))


def recording(sent: list[httpx.Request]) -> httpx.Client:
    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(204)

    return httpx.Client(transport=httpx.MockTransport(answer))


def resolving(monkeypatch: pytest.MonkeyPatch, address: str) -> None:
    def getaddrinfo(host: str, port: int, **_: Any) -> list[Any]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr("civicflow.webhooks.addresses.socket.getaddrinfo", getaddrinfo)


def test_a_name_resolving_to_a_private_address_is_refused_at_delivery(
    flow: CivicFlow, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[httpx.Request] = []
    client = recording(sent)
    sub = Webhooks(flow).add("https://hooks.example.org/in")
    resolving(monkeypatch, "169.254.169.254")  # DNS says otherwise at delivery
    with client, Relay(flow, client=client) as relay:
        (failed,) = relay.deliver_once()
    assert (failed.ok, sent) == (False, [])
    assert "refused: hooks.example.org resolves to 169.254.169.254" in (failed.error or "")
    assert Webhooks(flow).get(sub.id).state is State.ACTIVE  # retried like any failure


def test_a_public_name_is_posted_to_the_address_that_was_checked(
    flow: CivicFlow, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[httpx.Request] = []
    client = recording(sent)
    Webhooks(flow).add("https://hooks.example.org:8443/in?x=1", events=["proposal.asked"])
    resolving(monkeypatch, "93.184.216.34")
    with client, Relay(flow, client=client) as relay:
        (delivered,) = relay.deliver_once()
    assert delivered.ok
    (request,) = sent
    assert str(request.url) == "https://93.184.216.34:8443/in?x=1"
    assert request.headers["host"] == "hooks.example.org:8443"
    assert request.extensions["sni_hostname"] == "hooks.example.org"


def test_the_relay_gives_up_after_a_day_of_failures_not_a_count(flow: CivicFlow) -> None:
    with Receiver() as receiver:
        sub = Webhooks(flow).add(receiver.url, allow_private=True).id
        receiver.fail(1000)
        clock = Clock()
        with Relay(flow, clock=clock) as relay:
            for _ in range(40):  # 40 failures, each 5 minutes after the last: over 3 hours
                relay.deliver_once()
                clock.advance(300)
            stored = Webhooks(flow).get(sub)
            assert (stored.state, stored.attempts) == (State.ACTIVE, 40)
            assert stored.failing_since is not None
            clock.advance(24 * 3600)
            relay.deliver_once()
            stored = Webhooks(flow).get(sub)
            assert stored.state is State.FAILING
            assert stored.position == 0
            Webhooks(flow).resume(sub)
            assert Webhooks(flow).get(sub).failing_since is None
    policy = RetryPolicy()
    assert policy.give_up_after == 24 * 3600
    assert policy.max_attempts is None


def test_a_table_made_before_the_new_columns_gains_them(store_url: str) -> None:
    from civicflow.webhooks import store

    if store_url.startswith("memory"):
        pytest.skip("a store in memory makes its table afresh")
    old_columns = store.COLUMNS.split(", allow_private")[0]
    with flows.open_flow(store_url) as flow:
        table = store.Subscriptions(flow)
        table._write(f"CREATE TABLE {table._table} ({old_columns})")
        old = ["sub_old", "https://example.org/h", "whsec_x", "00", "[]", None, "omitted"]
        table._write(
            f"INSERT INTO {table._table} VALUES "  # noqa: S608 - the table's own name
            "(?, ?, ?, ?, ?, ?, ?, ?, 'active', 0, 0, NULL, NULL)",
            (*old, "2026-01-01T00:00:00+00:00"),
        )
        (listed,) = Webhooks(flow).list()  # read as it is: nothing allowed, nothing failing
        assert (listed.allow_private, listed.failing_since) == (False, None)
        with Relay(flow):
            pass  # the relay adds the columns
        assert {"allow_private", "failing_since"} <= table._columns()
        assert Webhooks(flow).get("sub_old").allow_private is False
