"""When to try a failed delivery again, and when to give up.

Exponential backoff with full jitter (a random delay between nothing and the
exponential step), so that a receiver coming back is not hit by every relay at
once; capped, so that a receiver down for hours is still tried every few minutes;
and a give-up once the attempts at the same event have failed for ``give_up_after``
seconds (a day by default; or after ``max_attempts`` failures, if that is set), when
the subscription is marked ``failing`` with its last error. Nothing is skipped: a
failing subscription keeps its position, and resuming it delivers from there.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from civicflow.errors import InvalidInputError


@dataclass(frozen=True)
class RetryPolicy:
    """How a relay retries one subscription's next event."""

    base: float = 1.0  # seconds before the first retry, at most
    cap: float = 300.0  # the longest wait between two attempts
    max_attempts: int | None = None  # failures at one event before giving up (None: no limit)
    timeout: float = 10.0  # seconds a receiver has to answer one delivery, in all
    give_up_after: float = 86400.0  # seconds of failures at one event before giving up
    jitter: random.Random = field(default_factory=random.Random, compare=False)

    def __post_init__(self) -> None:
        problems = [
            (name, "must be above 0")
            for name, value in (
                ("base", self.base),
                ("cap", self.cap),
                ("max_attempts", 1 if self.max_attempts is None else self.max_attempts),
                ("timeout", self.timeout),
                ("give_up_after", self.give_up_after),
            )
            if not value > 0
        ]
        if problems:
            raise InvalidInputError("retry policy", problems)

    def backoff_step(self, failures: int) -> float:
        """The longest wait after the ``failures``-th failure in a row (from 1)."""
        return min(self.cap, self.base * 2.0 ** min(failures - 1, 1000))

    def delay(self, failures: int) -> float:
        """Seconds to wait after the ``failures``-th failure in a row: a random part of
        the step."""
        return self.jitter.uniform(0, self.backoff_step(failures))

    def gives_up(self, failures: int, since: datetime, now: datetime) -> bool:
        """Whether to give up after the ``failures``-th failure in a row, the first at ``since``."""
        if self.max_attempts is not None and failures >= self.max_attempts:
            return True
        return (now - since).total_seconds() >= self.give_up_after

    def retry_at(self, now: datetime, failures: int) -> datetime:
        return now + timedelta(seconds=self.delay(failures))
