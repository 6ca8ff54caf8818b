"""The command index: the database itself refuses to record one command twice.

A retry may race its original (the client's connection dropped while the server was
still working): the retry looks itself up, finds nothing, and the original commits
before the retry saves at the next version. The index record's position counts down
with the version, so eventsourcing's tracking (which refuses a position not above the
one recorded) refuses the second recording whatever its version, and the retry answers
what the original recorded.
"""

from __future__ import annotations

import threading
from typing import Any, cast
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import ProcessRecorder, Tracking

from civicflow import CivicFlow, Proposal
from civicflow.application.store import Store, command_key
from tests import flows
from tests.storage import stored_rows


def ratings_by(flow: CivicFlow, proposal_id: UUID, resident: str) -> list[int]:
    return [
        e.originator_version
        for e in flow.history(proposal_id)
        if isinstance(e, Proposal.Rated) and e.resident == resident
    ]


def test_a_retry_racing_its_original_is_not_recorded_twice(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with flows.open_flow(store_url) as flow:
        p = flows.rating(flow)
        flow.store.repository.cache = None  # every attempt reads the store
        command = uuid4()
        paused, go = threading.Event(), threading.Event()
        load = Store.load

        def slow_load(store: Store, aggregate_id: UUID, version: int | None = None) -> Any:
            # The original is held after its look-up found nothing, before it loads.
            if threading.current_thread().name == "original" and not paused.is_set():
                paused.set()
                go.wait(10)
            return load(store, aggregate_id, version)

        monkeypatch.setattr(Store, "load", slow_load)
        answers: dict[str, Any] = {}

        def original() -> None:
            answers["original"] = flow.rate(
                p.id, resident="resident-4", level="satisfied", command_id=command
            )

        first = threading.Thread(target=original, name="original")
        first.start()
        assert paused.wait(10)
        answers["retry"] = flow.rate(
            p.id, resident="resident-4", level="satisfied", command_id=command
        )
        go.set()
        first.join(10)

        assert ratings_by(flow, p.id, "resident-4") == [p.version + 1]
        assert answers["original"] == answers["retry"]


def test_an_index_record_of_an_earlier_store_is_still_found(store_url: str) -> None:
    """Before positions counted down, a record's position was the version itself."""
    with flows.open_flow(store_url) as flow:
        p = flows.rating(flow)
        rated = flow.rate(p.id, resident="resident-4", level="satisfied")
        command = uuid4()
        recorder = cast(ProcessRecorder, flow.store.recorder)
        recorder.insert_tracking(Tracking(command_key(command, p.id), rated.version))
        before = stored_rows(flow)

        again = flow.rate(p.id, resident="resident-4", level="dissatisfied", command_id=command)

        assert again == rated
        assert stored_rows(flow) == before
