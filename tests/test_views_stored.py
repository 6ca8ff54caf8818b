"""Counting some events from their stored fields gives the rows counting the events gives.

Views read ratings, backings, registrations and the steps whose events carry large
fields no view reads (decisions, reports, publications, closings, withdrawals) straight
from the stored JSON (decrypted, upcast, not validated again) to spare building a
pydantic event for most of a log. These
tests hold that shortcut to the long way: the same rows for a whole history, the
same fields as the decoded event, and upcasters honoured.
"""

from __future__ import annotations

from typing import Any

import pytest

from civicflow import CivicFlow
from civicflow.domain.proposal import Proposal
from civicflow.storage import rawlog
from civicflow.storage.mapper import PydanticMapper
from civicflow.views.projector import Projector
from civicflow.views.rows import Batch
from civicflow.views.tracker import StructureTracker
from tests.test_views_crash import build_history


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('stored') / 'civic.db'}"
    build_history(url)
    return url


def raw_rows(flow: CivicFlow) -> list[rawlog.Row]:
    return [row for page in rawlog.rows(flow.recorder) for row in page]


def rows(batch: Batch) -> dict[str, Any]:
    return {
        "proposals": {pid: row.values() for pid, row in batch.proposals.items()},
        "ratings": batch.ratings,
        "participation": batch.participation,
    }


def test_the_shortcut_counts_what_the_decoded_events_count(history: str) -> None:
    with CivicFlow.open(history) as flow:
        log = flow.recorder.select_notifications(0, 100_000)
        short, long = Projector(StructureTracker(), {}), Projector(StructureTracker(), {})
        for row, notification in zip(raw_rows(flow), log, strict=True):
            assert short.count(row, flow.mapper)
            long.apply(flow.mapper.to_domain_event(notification))
        kinds = {n.topic.rsplit(".", 1)[-1] for n in log}
        shortcuts = {"Rated", "Backed", "Registered", "Decided", "ProgressReported", "Done"}
        assert shortcuts | {"Published", "RatingClosed", "Withdrawn"} <= kinds  # all taken
        assert short.tracker.homes == long.tracker.homes
        short_rows, long_rows = short.take_rows(), long.take_rows()
        assert short_rows == long_rows  # homes as written, too
        assert short_rows.ratings
        assert short_rows.homes


def test_stored_fields_are_the_decoded_events_fields(history: str) -> None:
    with CivicFlow.open(history) as flow:
        mapper = flow.mapper
        assert isinstance(mapper, PydanticMapper)
        log = flow.recorder.select_notifications(0, 100_000)
        for row, notification in zip(raw_rows(flow), log, strict=True):
            event = mapper.to_domain_event(notification)
            dumped = event.model_dump(mode="json", exclude={"originator_id", "originator_version"})
            assert mapper.current_state(notification) == dumped
            assert mapper.fields_of(type(event), row) == dumped


def test_the_shortcut_honours_upcasters(history: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Had ratings a version 2 that changed stored level names, both ways upcast alike."""

    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["level"] = "dissatisfied"

    monkeypatch.setattr(Proposal.Rated, "class_version", 2, raising=False)
    monkeypatch.setattr(Proposal.Rated, "upcast_v1_v2", staticmethod(upcast_v1_v2), raising=False)
    with CivicFlow.open(history) as flow:
        short, long = Projector(StructureTracker(), {}), Projector(StructureTracker(), {})
        log = flow.recorder.select_notifications(0, 100_000)
        for row, notification in zip(raw_rows(flow), log, strict=True):
            short.count(row, flow.mapper)
            long.apply(flow.mapper.to_domain_event(notification))
        levels = {row[3] for row in short.batch.ratings.values()}
        assert levels == {"dissatisfied"}
        assert rows(short.batch) == rows(long.batch)


def test_with_a_mapper_of_another_kind_every_record_is_decoded(history: str) -> None:
    """An application configured with a mapper of its own still gets its views counted."""
    with CivicFlow.open(history) as flow:

        class OtherMapper:
            def to_domain_event(self, notification: Any) -> Any:
                return flow.mapper.to_domain_event(notification)

        other, ours = Projector(StructureTracker(), {}), Projector(StructureTracker(), {})
        for row in raw_rows(flow):
            assert other.count(row, OtherMapper())  # type: ignore[arg-type]
            ours.count(row, flow.mapper)
        assert other.take_rows() == ours.take_rows()
