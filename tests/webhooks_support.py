"""What the webhook tests share: the log as a subscriber should see it, a settable clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from civicflow import CivicFlow
from civicflow.storage import rawlog
from civicflow.webhooks import public_name
from civicflow.webhooks.names import matches


def expected(flow: CivicFlow, events: tuple[str, ...] = ()) -> list[tuple[int, str]]:
    """(position, type) of every fact in the log that passes the filter, in log order."""
    found = []
    for page in rawlog.rows(flow.recorder):
        for position, _, _, topic, _ in page:
            name = public_name(topic)
            if name is not None and matches(events, name):
                found.append((position, name))
    return found


class Clock:
    """The relay's clock, moved by hand (the real time to start with)."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
