"""The application's use cases, options and queries, beyond the happy path."""

from __future__ import annotations

import inspect
import io
import sqlite3
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from uuid import UUID

import pytest
from eventsourcing.persistence import IntegrityError

from civicflow import (
    BackendUnavailableError,
    CivicFlow,
    ConcurrencyError,
    ConfigurationError,
    InvalidInputError,
    Level,
    ProposalNotFoundError,
    Stage,
)
from civicflow.cli.main import main
from civicflow.domain.lifecycle import FINAL_STAGES, allowed_steps, mermaid_diagram
from tests import flows
from tests.conftest import FakeClock
from tests.storage import stored_rows


def rate_round(flow: CivicFlow, proposal_id: UUID | str, levels: list[str]) -> None:
    flows.rate_all(flow, flow.proposal(proposal_id), levels)


def test_a_round_below_the_threshold_sends_the_work_back_for_rectification() -> None:
    with flows.open_flow() as flow:
        p = flows.rating(flow)
        rate_round(flow, p.id, ["satisfied"] * 7 + ["dissatisfied"] * 3)
        state = flows.close_round(flow, p)
        assert (state.stage, state.round, state.percent) == (Stage.DOING, 2, 0)
        assert state.spent == Decimal("3450")
        assert state.rounds[0].satisfaction_rate == Decimal("0.7")
        assert state.ratings == ()


def test_exactly_the_threshold_passes_and_basically_satisfied_counts() -> None:
    with flows.open_flow() as flow:
        p = flows.rating(flow)
        rate_round(
            flow, p.id, ["satisfied"] * 4 + ["basically_satisfied"] * 4 + ["dissatisfied"] * 2
        )
        closed = flows.close_round(flow, p).rounds[-1]
        assert (closed.satisfied, closed.basically_satisfied, closed.dissatisfied) == (4, 4, 2)
        assert closed.passed
        assert flow.proposal(p.id).stage is Stage.CLOSED


def test_the_threshold_is_configurable_and_recorded_with_the_round() -> None:
    with flows.open_flow(rectification_threshold="0.95") as flow:
        p = flows.rating(flow)
        rate_round(flow, p.id, ["satisfied"] * 9 + ["dissatisfied"])
        closed = flows.close_round(flow, p).rounds[-1]
        assert (closed.threshold, closed.passed) == (Decimal("0.95"), False)


@pytest.mark.parametrize("threshold", ["0", "1.5", "abc", "-0.1"])
def test_an_impossible_threshold_is_refused(threshold: str) -> None:
    with pytest.raises(ConfigurationError, match="threshold"):
        CivicFlow(rectification_threshold=threshold)


def test_max_attempts_must_allow_one_attempt() -> None:
    with pytest.raises(ConfigurationError):
        CivicFlow(max_attempts=0)


def test_a_later_rating_by_the_same_resident_replaces_the_earlier_one() -> None:
    with flows.open_flow() as flow:
        p = flows.rating(flow)
        flow.rate(p.id, resident="resident-1", level="dissatisfied")
        state = flow.rate(p.id, resident="resident-1", level="satisfied", comment="fixed now")
        assert [(r.resident, r.level) for r in state.ratings] == [("resident-1", Level.SATISFIED)]
        assert state.version == p.version + 2  # both facts stay in the history


def test_a_deferral_goes_back_to_discussion_and_a_rejection_is_published_then_closed() -> None:
    with flows.open_flow() as flow:
        p = flows.discussing(flow)
        deferred = flow.decide(
            p.id,
            outcome="deferred",
            vote={"in_favour": 2, "against": 1},
            reasons="Need a quote first",
            actor="member-1",
        )
        assert deferred.stage is Stage.DISCUSSING
        rejected = flow.decide(
            p.id,
            outcome="rejected",
            vote={"in_favour": 2, "against": 1},
            reasons="Too costly",
            actor="member-1",
        )
        assert rejected.stage is Stage.REJECTED
        published = flow.publish(p.id, channels=["notice_board"], summary="No", actor="m")
        assert published.stage is Stage.CLOSED
        assert published.publications[-1].reasons == "Too costly"
        assert published.is_final


def test_publishing_records_planned_against_actual_spending() -> None:
    with flows.open_flow() as flow:
        published = flows.rating(flow).publications[-1]
        assert (published.planned_spending, published.actual_spending) == (
            Decimal("3600.00"),
            Decimal("3450"),
        )


def test_withdrawal_is_final() -> None:
    with flows.open_flow() as flow:
        p = flows.doing(flow)
        state = flow.withdraw(p.id, reason="Building to be demolished", actor="m")
        assert state.stage is Stage.WITHDRAWN
        assert state.withdrawal is not None
        assert allowed_steps(Stage.WITHDRAWN) == frozenset()


def test_occurred_at_may_be_a_little_ahead_of_the_clock_but_not_more() -> None:
    clock = FakeClock()
    with flows.open_flow(clock=clock, max_clock_skew=timedelta(minutes=5)) as flow:
        p = flows.asked(flow)
        flow.back(p.id, resident="resident-2", occurred_at=clock.now + timedelta(minutes=4))
        with pytest.raises(InvalidInputError, match="future"):
            flow.back(p.id, resident="resident-3", occurred_at=clock.now + timedelta(minutes=6))
        with pytest.raises(InvalidInputError, match="datetime"):
            flow.back(p.id, resident="resident-3", occurred_at="yesterday")  # type: ignore[arg-type]


def test_earlier_versions_and_the_history_can_be_read() -> None:
    with flows.open_flow() as flow:
        p = flows.done(flow)
        assert flow.proposal(p.id, version=1).stage is Stage.ASKED
        assert [type(e).__name__ for e in flow.history(str(p.id))] == [
            "Asked",
            "Discussed",
            "Decided",
            "Done",
        ]
        with pytest.raises(ProposalNotFoundError, match="version 9"):
            flow.proposal(p.id, version=9)
        with pytest.raises(InvalidInputError):
            flow.proposal(p.id, version=0)
        with pytest.raises(ProposalNotFoundError):
            flow.history("00000000-0000-0000-0000-000000000000")


def test_a_command_that_keeps_losing_races_gives_up_with_a_typed_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with flows.open_flow(max_attempts=3) as flow:
        p = flows.rating(flow)
        before = stored_rows(flow)

        def always_conflicts(*_: object, **__: object) -> None:
            raise IntegrityError("simulated lost race")

        monkeypatch.setattr(flow.store, "save", always_conflicts)
        with pytest.raises(ConcurrencyError) as raised:
            flow.rate(p.id, resident="resident-1", level="satisfied")
        assert raised.value.attempts == 3
        assert stored_rows(flow) == before


def test_an_unreachable_database_is_a_typed_error() -> None:
    with pytest.raises(BackendUnavailableError):
        CivicFlow.open("postgresql://postgres@127.0.0.1:1/nowhere?schema=x")
    with pytest.raises(BackendUnavailableError):
        CivicFlow.open(
            "postgresql://postgres@127.0.0.1:1/nowhere", env={"POSTGRES_CONNECT_TIMEOUT": "1"}
        )


def test_every_stage_with_no_step_out_is_final_and_drawn() -> None:
    assert {Stage.CLOSED, Stage.WITHDRAWN} == FINAL_STAGES
    diagram = mermaid_diagram()
    assert "[*] --> asked : ask" in diagram
    assert "rating --> doing : close_rating (rectify)" in diagram


def test_the_main_job_builds_a_small_demo_district_on_sqlite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    assert main(["demo", "--compounds", "8"], out=out) == 0
    assert "Quarterly review" in out.getvalue()
    assert (tmp_path / "civicflow-demo.db").exists()
    assert main(["show", "00000000-0000-0000-0000-000000000000", "--db", "nosuch://"]) == 2
    assert "unsupported store URL" in capsys.readouterr().err


def test_a_failing_snapshot_never_fails_a_command_whose_event_is_stored(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from eventsourcing.persistence import OperationalError

    with flows.open_flow() as flow:
        p = flows.rating(flow)
        assert flow.snapshots is not None

        def broken_put(*_: object, **__: object) -> None:
            raise OperationalError("disk full")

        monkeypatch.setattr(flow.snapshots, "put", broken_put)
        for n in range(100 - p.version):
            flow.rate(p.id, resident=flows.RESIDENTS[n % 30], level="satisfied")
        assert flow.proposal(p.id).version == 100


def test_a_subclass_made_to_add_methods_reads_the_same_store(sqlite_url: str) -> None:
    class Office(CivicFlow):
        def titles(self, *ids: UUID | str) -> list[str]:
            return [self.proposal(i).title for i in ids]

    assert Office.name == "CivicFlow"
    with flows.open_flow(sqlite_url) as flow:
        p = flows.asked(flow)
    with Office.open(sqlite_url) as office:
        assert office.titles(p.id) == [p.title]


@pytest.mark.parametrize(
    "name",
    sorted(
        n
        for n, member in inspect.getmembers(CivicFlow, inspect.isfunction)
        if not n.startswith("_") and member.__module__.startswith("civicflow")
    ),
)
def test_every_public_method_says_what_it_raises(name: str) -> None:
    doc = inspect.getdoc(getattr(CivicFlow, name)) or ""
    assert "Raises:" in doc, f"CivicFlow.{name} has no Raises: section"


def test_a_file_that_is_not_a_database_is_refused_in_civicflows_words(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("minutes of the council meeting\n" * 100)
    before = notes.read_bytes()
    with pytest.raises(ConfigurationError, match="not a database"):
        CivicFlow.open(f"sqlite:///{notes}")
    assert notes.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_a_store_that_fails_under_a_query_gives_a_typed_error(sqlite_url: str) -> None:
    with flows.open_flow(sqlite_url) as flow:
        p = flows.asked(flow)
    path = sqlite_url.removeprefix("sqlite:///")
    with CivicFlow.open(sqlite_url) as flow:
        with sqlite3.connect(path) as raw:
            raw.execute("DROP TABLE stored_events")
        for call in (
            lambda: flow.history(p.id),
            lambda: flow.proposal(p.id),
            flow.verify,
            lambda: flow.export_events(io.StringIO()),
        ):
            with pytest.raises(BackendUnavailableError):
                call()
