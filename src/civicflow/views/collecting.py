"""The cyclic garbage collector paused while a publication is decided.

Deciding what to hide builds one table of every count (230,000 for a city), all alive
until the decision ends. Each full collection walks all of it again, and collections
come as it grows: about a second of a city's 9 s review, a twelfth. Nothing there
makes a reference cycle, so pausing the collector frees nothing later than it would.

The collector is the process's: pauses are counted, so that overlapping ones (two
threads reviewing at once, or a review inside another) resume it only when the last
ends, and never resume a collector the embedding application turned off itself.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class _Pauses:
    """How many pauses hold the collector, and whether it ran before the first."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.held = 0
        self.was_enabled = False

    def begin(self) -> None:
        with self.lock:
            if self.held == 0:
                self.was_enabled = gc.isenabled()
                gc.disable()
            self.held += 1

    def end(self) -> None:
        with self.lock:
            self.held -= 1
            if self.held == 0 and self.was_enabled:
                gc.enable()


_PAUSES = _Pauses()


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection inside the block (reference counting goes on)."""
    _PAUSES.begin()
    try:
        yield
    finally:
        _PAUSES.end()
