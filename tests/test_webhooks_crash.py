"""A relay killed with SIGKILL while a receiver is slowly accepting a delivery, then
started again: every event arrives at least once, none is lost, and a duplicate
always carries the same ``webhook-id`` (and the same body) as the first delivery."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from civicflow import CivicFlow
from civicflow.webhooks import Webhooks
from tests import flows
from tests.webhook_receiver import Receiver
from tests.webhooks_support import expected

ROOT = Path(__file__).resolve().parents[1]


def relay_process(url: str) -> subprocess.Popen[bytes]:
    """``civicflow webhooks relay`` in a process of its own."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    command = [sys.executable, "-m", "civicflow", "webhooks", "relay", "--db", url]
    return subprocess.Popen(  # noqa: S603 - our own command
        [*command, "--poll", "0.05", "--timeout", "30"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def wait_for(condition: Callable[[], bool], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_a_relay_killed_mid_delivery_redelivers_and_loses_nothing(durable_url: str) -> None:
    with flows.open_flow(durable_url) as flow, Receiver() as receiver:
        flows.rate_all(flow, flows.rating(flow), ["satisfied"] * 5)
        receiver.secret = Webhooks(flow).add(receiver.url, allow_private=True).secret
        log = expected(flow)
        receiver.slow_after, receiver.delay = 7, 3.0  # the 8th delivery is accepted slowly

        first = relay_process(durable_url)
        wait_for(lambda: len(receiver.ids()) == 8)  # recorded; its answer not sent yet
        first.send_signal(signal.SIGKILL)
        first.wait()
        in_flight = receiver.ids()[-1]

        receiver.delay = 0.0
        second = relay_process(durable_url)
        try:
            wait_for(lambda: len(receiver.unique()) == len(log))
            time.sleep(0.3)  # anything more would show up now
        finally:
            second.terminate()
            _, errors = second.communicate(timeout=30)
        assert second.returncode == 0, errors.decode()
        check(receiver, log, in_flight, flow)


def check(receiver: Receiver, log: list[tuple[int, str]], in_flight: str, flow: CivicFlow) -> None:
    got = [(r.payload["position"], r.payload["type"]) for r in receiver.unique()]
    assert got == log  # every event, in order, none lost
    ids = receiver.ids()
    assert ids.count(in_flight) == 2  # the killed delivery came again, under its id
    bodies: dict[str, bytes] = {}
    for r in receiver.received:
        assert bodies.setdefault(r.webhook_id, r.body) == r.body  # a duplicate is identical
    assert receiver.rejected == []
    assert Webhooks(flow).list()[0].position == log[-1][0]


@pytest.mark.parametrize("signal_number", [signal.SIGTERM, signal.SIGINT])
def test_a_relay_stops_cleanly_on_a_signal(sqlite_url: str, signal_number: int) -> None:
    with flows.open_flow(sqlite_url) as flow, Receiver() as receiver:
        receiver.secret = Webhooks(flow).add(receiver.url, allow_private=True).secret
        relay = relay_process(sqlite_url)
        wait_for(lambda: len(receiver.unique()) == len(expected(flow)))
        relay.send_signal(signal_number)
        _, errors = relay.communicate(timeout=30)
        assert relay.returncode == 0, errors.decode()
