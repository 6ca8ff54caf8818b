"""The batch writer writes in order, stops at the first failure and reports it."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import pytest

from civicflow.views.sealing import PLAIN, Plain
from civicflow.views.writer import BatchWriter


@dataclass
class FakeTables:
    """Records what it is asked to write; refuses the batch counted from ``fail_from``."""

    writes_in_background: bool
    fail_from: int | None = None
    written: list[int] = field(default_factory=list)
    threads: set[str] = field(default_factory=set)
    sealing: Plain = PLAIN

    def write(self, rows: Any, tracking: Any, counted_from: int) -> None:
        self.threads.add(threading.current_thread().name)
        if counted_from == self.fail_from:
            raise RuntimeError(f"refused the batch counted from {counted_from}")
        self.written.append(counted_from)


@pytest.mark.parametrize("background", [True, False])
def test_batches_are_written_in_order(background: bool) -> None:
    tables = FakeTables(writes_in_background=background)
    with BatchWriter(tables) as writer:  # type: ignore[arg-type]
        for position in range(0, 50, 10):
            writer.submit(None, None, counted_from=position)  # type: ignore[arg-type]
    assert tables.written == [0, 10, 20, 30, 40]
    on_a_thread = tables.threads == {"civicflow-views-writer"}
    assert on_a_thread is background


@pytest.mark.parametrize("background", [True, False])
def test_the_first_failure_stops_the_writing_and_is_raised(background: bool) -> None:
    tables = FakeTables(writes_in_background=background, fail_from=20)

    def write_ten() -> None:
        with BatchWriter(tables) as writer:  # type: ignore[arg-type]
            for position in range(0, 100, 10):
                writer.submit(None, None, counted_from=position)  # type: ignore[arg-type]

    with pytest.raises(RuntimeError, match="counted from 20"):
        write_ten()
    assert tables.written == [0, 10]  # nothing after the refused batch


def test_an_error_while_counting_still_waits_for_what_was_submitted() -> None:
    tables = FakeTables(writes_in_background=True)

    def count_a_bad_event() -> None:
        with BatchWriter(tables) as writer:  # type: ignore[arg-type]
            writer.submit(None, None, counted_from=0)  # type: ignore[arg-type]
            raise KeyError("a bad event")

    with pytest.raises(KeyError):
        count_a_bad_event()
    assert tables.written == [0]
