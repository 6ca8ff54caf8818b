"""One story per backend: the walkthrough, read back by a fresh application."""

from __future__ import annotations

import io

import pytest

from civicflow import CivicFlow, Stage
from tests.storage import stored_rows
from tests.walkthrough import run


def test_the_six_steps_run_on_every_backend(store_url: str) -> None:
    with CivicFlow.open(store_url) as flow:
        final = run(flow, io.StringIO())
        assert final.stage is Stage.CLOSED
        assert [r.passed for r in final.rounds] == [False, True]
        # A replay from the store (no cache) equals the live state.
        assert flow.repository.get(final.id, deepcopy_from_cache=False).state == final
        assert flow.proposal(final.id, version=final.version) == final


def test_a_fresh_application_reads_back_exactly_what_was_written(durable_url: str) -> None:
    with CivicFlow.open(durable_url) as writer:
        final = run(writer, io.StringIO())
        history = writer.history(final.id)
        rows = stored_rows(writer)
        structure = writer.structure()
        home = writer.resident(final.asked_by)
    with CivicFlow.open(durable_url) as reader:
        assert reader.proposal(final.id) == final
        assert reader.history(final.id) == history
        assert stored_rows(reader) == rows
        assert reader.structure() == structure
        assert reader.resident(final.asked_by) == home
        assert reader.policy(final.area_id) == writer.default_policy
        assert reader.proposal(final.id, version=5).stage is Stage.DISCUSSING


@pytest.mark.parametrize("url", ["sqlite:///:memory:"])
def test_an_in_memory_sqlite_store_works_too(url: str) -> None:
    with CivicFlow.open(url) as flow:
        assert run(flow, io.StringIO()).stage is Stage.CLOSED
