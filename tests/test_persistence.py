"""The pydantic mapper, the orjson transcoder, settings that pass through, and store URLs."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar
from uuid import uuid4

import orjson
import pytest
from eventsourcing.cipher import AESCipher
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic

from civicflow import (
    CivicFlow,
    ConfigurationError,
    InvalidInputError,
    Level,
    Proposal,
    RuleViolationError,
)
from civicflow.domain.eventmodel import DomainEvent
from civicflow.domain.proposal_state import NO_RATINGS, RESIDENT
from civicflow.storage.mapper import OrjsonTranscoder, PydanticMapper
from civicflow.storage.settings import env_from_url
from tests import flows
from tests.conftest import FakeClock
from tests.storage import stored_rows


class Noted(DomainEvent):
    """A stand-in event at its second version: ``language`` was added."""

    class_version: ClassVar[int] = 2
    text: str
    language: str

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["language"] = "zh"


def mapper() -> PydanticMapper:
    return PydanticMapper(transcoder=OrjsonTranscoder())


def test_an_old_event_is_upcast_when_read() -> None:
    stored = StoredEvent(
        originator_id=uuid4(),
        originator_version=1,
        topic=get_topic(Noted),
        state=orjson.dumps({"timestamp": "2026-01-01T00:00:00+00:00", "text": "hi"}),
    )
    event = mapper().to_domain_event(stored)
    assert event.language == "zh"
    assert event.text == "hi"


def test_the_class_version_is_written_and_a_round_trip_is_exact() -> None:
    event = Noted(
        originator_id=uuid4(),
        originator_version=3,
        timestamp=datetime(2026, 1, 1, tzinfo=UTC),
        text="hi",
        language="en",
    )
    stored = mapper().to_stored_event(event)
    assert orjson.loads(stored.state)["class_version"] == 2
    assert mapper().to_domain_event(stored) == event


def test_proposal_events_are_stored_as_plain_json(tmp_path: Path) -> None:
    with flows.open_flow() as flow:
        p = flows.asked(flow)
        notifications = flow.recorder.select_notifications(start=None, limit=1000)
        [notification] = [n for n in notifications if n.originator_id == p.id]
    assert notification.topic == "civicflow.proposal:Proposal.Asked"
    state = orjson.loads(notification.state)
    assert state["title"] == p.title
    assert "class_version" not in state  # version 1 is implied, as in eventsourcing


def test_compression_and_encryption_settings_work_through_the_mapper(sqlite_url: str) -> None:
    env = {
        "COMPRESSOR_TOPIC": "eventsourcing.compressor:ZlibCompressor",
        "CIPHER_KEY": AESCipher.create_key(num_bytes=32),
    }
    with flows.open_flow(sqlite_url, env=env) as flow:
        p = flows.rating(flow)
        flow.rate(p.id, resident="resident-1", level="dissatisfied", comment="SECRET-COMMENT-TEXT")
        raw = b"".join(n.state for n in flow.recorder.select_notifications(start=None, limit=99))
    assert b"SECRET-COMMENT-TEXT" not in raw
    assert b"stairwell" not in raw
    with CivicFlow.open(sqlite_url, env=env) as reader:
        assert reader.proposal(p.id).ratings[0].comment == "SECRET-COMMENT-TEXT"


def test_the_eventsourcing_environment_variables_keep_working(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = sqlite_url.removeprefix("sqlite:///")
    monkeypatch.setenv("CIVICFLOW_PERSISTENCE_MODULE", "eventsourcing.sqlite")
    monkeypatch.setenv("CIVICFLOW_SQLITE_DBNAME", path)
    with CivicFlow(clock=FakeClock()) as flow:
        flows.register(flow)
        p = flows.asked(flow)
    with CivicFlow.open(sqlite_url) as reader:
        assert reader.proposal(p.id) == p


def test_a_snapshot_is_taken_every_hundred_events_and_loads_the_same_state() -> None:
    with flows.open_flow() as flow:
        p = flows.rating(flow)
        for n in range(120):
            flow.rate(p.id, resident=flows.RESIDENTS[n % 30], level="satisfied")
        assert flow.snapshots is not None
        [snapshot] = flow.snapshots.get(p.id)
        assert isinstance(snapshot, Proposal.Snapshot)
        assert snapshot.originator_version == 100
        from_snapshot = snapshot.mutate(None)
        assert from_snapshot.state == flow.proposal(p.id, version=100)
        assert flow.repository.get(p.id, deepcopy_from_cache=False).state == flow.proposal(p.id)


def test_a_snapshot_inside_a_save_of_many_events_is_the_state_at_its_version() -> None:
    """A save that passes the hundredth event before its last is snapshotted at the hundredth.

    (A snapshot at a save's last event is taken from the aggregate in hand.)
    """
    with flows.open_flow() as flow:
        p = flows.rating(flow)
        for n in range(97 - p.version):
            flow.rate(p.id, resident=flows.RESIDENTS[n % 30], level="satisfied")
        many = [{"resident": r, "level": "dissatisfied"} for r in flows.RESIDENTS[:5]]
        flow.rate_many(p.id, many)  # versions 98 to 102
        assert flow.snapshots is not None
        [snapshot] = flow.snapshots.get(p.id)
        assert isinstance(snapshot, Proposal.Snapshot)
        assert snapshot.originator_version == 100
        assert snapshot.mutate(None).state == flow.proposal(p.id, version=100)
        assert flow.proposal(p.id).version == 102


@pytest.mark.parametrize("version", [1, 2])
def test_a_snapshot_of_an_older_version_is_upcast(sqlite_url: str, version: int) -> None:
    """Stores written before the rating columns keep their snapshots: versions 1 and 2 are upcast.

    Version 1 kept each rating as its whole event, version 2 as a row of its fields.
    """
    with flows.open_flow(sqlite_url) as flow:
        p = flows.rating(flow)
        for n in range(105):
            flow.rate(
                p.id, resident=flows.RESIDENTS[n % 30], level=("satisfied", "dissatisfied")[n % 2]
            )
        expected = flow.proposal(p.id)
        assert flow.snapshots is not None
        recorder: Any = flow.snapshots.recorder
        [stored] = recorder.select_events(p.id)
        snapshot = orjson.loads(stored.state)
        state = snapshot["state"]
        assert state["class_version"] == Proposal.class_version == 3
        rows = flow.proposal(p.id, version=stored.originator_version).rating_rows
        assert state["rating_residents"] == [row[RESIDENT] for row in rows]
        for column in NO_RATINGS:
            del state[column]
        if version == 1:
            state["ratings"] = [_v1_rating(p.id, row) for row in rows]
        else:
            state["rating_rows"] = rows
        state["class_version"] = version
        old = StoredEvent(
            originator_id=stored.originator_id,
            originator_version=stored.originator_version,
            topic=stored.topic,
            state=orjson.dumps(snapshot),
        )
        with recorder.datastore.transaction(commit=True) as cursor:
            cursor.execute(f"DELETE FROM {recorder.events_table_name}")  # noqa: S608
        recorder.insert_events([old])
    with CivicFlow.open(sqlite_url, clock=FakeClock()) as fresh:
        loaded = fresh.proposal(p.id)
    assert loaded == expected
    assert loaded.ratings == expected.ratings
    assert [(r.resident, r.level) for r in loaded.ratings][-2:] == [
        (flows.RESIDENTS[103 % 30], Level.DISSATISFIED),
        (flows.RESIDENTS[104 % 30], Level.SATISFIED),
    ]


def _v1_rating(proposal_id: Any, row: Any) -> dict[str, Any]:
    version, timestamp, previous, actor, occurred_at, resident, level, comment, round_ = row
    return {
        "originator_id": str(proposal_id),
        "originator_version": version,
        "timestamp": timestamp,
        "previous_digest": previous,
        "actor": actor,
        "occurred_at": occurred_at,
        "resident": resident,
        "level": level,
        "comment": comment,
        "round": round_,
    }


def test_the_ratings_are_the_rated_events_of_the_round_latest_per_resident() -> None:
    with flows.open_flow() as flow:
        p = flows.rating(flow)
        for n in range(12):
            flow.rate(
                p.id, resident=flows.RESIDENTS[n % 5], level=("satisfied", "dissatisfied")[n % 2]
            )
        state = flow.proposal(p.id)
        rated = [e for e in flow.history(p.id) if isinstance(e, Proposal.Rated)]
    latest = {event.resident: event for event in rated}
    assert [r.model_dump() for r in state.ratings] == [
        e.model_dump() for e in sorted(latest.values(), key=lambda e: e.originator_version)
    ]
    assert "rating_rows" not in state.model_dump()
    assert len(state.model_dump()["ratings"]) == 5


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("memory://", {"PERSISTENCE_MODULE": "eventsourcing.popo"}),
        ("sqlite:///civic.db", {"SQLITE_DBNAME": "civic.db"}),
        ("sqlite:////var/data/civic.db", {"SQLITE_DBNAME": "/var/data/civic.db"}),
        (
            "postgresql://ann:s%40fe@db.local:6543/civic?schema=district_7",
            {
                "POSTGRES_USER": "ann",
                "POSTGRES_PASSWORD": "s@fe",
                "POSTGRES_HOST": "db.local",
                "POSTGRES_PORT": "6543",
                "POSTGRES_DBNAME": "civic",
                "POSTGRES_SCHEMA": "district_7",
            },
        ),
        ("postgres://h/civic", {"POSTGRES_USER": "postgres", "POSTGRES_PORT": "5432"}),
    ],
)
def test_store_urls_become_eventsourcing_settings(url: str, expected: dict[str, str]) -> None:
    env = env_from_url(url)
    assert {key: env[key] for key in expected} == expected


def test_an_in_memory_sqlite_url_gets_a_private_shared_cache_database() -> None:
    first, second = env_from_url("sqlite:///:memory:"), env_from_url("sqlite:///:memory:")
    assert "mode=memory&cache=shared" in first["SQLITE_DBNAME"]
    assert first["SQLITE_DBNAME"] != second["SQLITE_DBNAME"]


@pytest.mark.parametrize("url", ["mysql://x/y", "sqlite://", "postgresql:///nodb", "civic.db"])
def test_an_unusable_store_url_is_a_configuration_error(url: str) -> None:
    with pytest.raises(ConfigurationError, match="URL"):
        env_from_url(url)


@pytest.mark.parametrize(
    "settings",
    [
        {"PERSISTENCE_MODULE": "eventsourcing.nosuchbackend"},
        {"MAPPER_TOPIC": "nosuch.module:Mapper"},
        {"TRANSCODER_TOPIC": "civicflow:NoSuchTranscoder"},
        {"CIPHER_TOPIC": get_topic(AESCipher)},  # and no CIPHER_KEY
        {"CIPHER_TOPIC": get_topic(AESCipher), "CIPHER_KEY": "!!not base64"},
        {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_LOCK_TIMEOUT": "soon"},
    ],
    ids=["module", "mapper", "transcoder", "no-key", "bad-key", "bad-timeout"],
)
def test_settings_that_cannot_be_used_are_a_configuration_error_and_make_nothing(
    settings: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    env = {"SQLITE_DBNAME": str(tmp_path / "civic.db"), **settings}
    with pytest.raises(ConfigurationError, match="cannot configure"):
        CivicFlow(env=env)
    assert list(tmp_path.iterdir()) == []


def test_opening_tries_again_while_the_database_is_busy_and_says_what_stayed_wrong(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    from eventsourcing.application import Application
    from eventsourcing.persistence import OperationalError

    from civicflow import BackendUnavailableError

    opening = Application.__init__
    failures = iter([sqlite3.OperationalError("database is locked")] * 2)

    def busy_then_open(self: Any, env: Any = None) -> None:
        cause = next(failures, None)
        if cause is not None:
            raise OperationalError(str(cause)) from cause
        opening(self, env)

    monkeypatch.setattr(Application, "__init__", busy_then_open)
    url = f"sqlite:///{tmp_path / 'civic.db'}"
    with CivicFlow.open(url) as flow:  # two locked attempts, then it opens
        assert flow.recorder.max_notification_id() is None

    def always_locked(self: Any, env: Any = None) -> None:
        cause = sqlite3.OperationalError("database is locked")
        raise OperationalError(str(cause)) from cause

    monkeypatch.setattr(Application, "__init__", always_locked)
    with pytest.raises(BackendUnavailableError, match="locked"):
        CivicFlow.open(url)


def test_an_encoded_record_costs_its_length_in_memory_not_orjsons_buffer() -> None:
    import tracemalloc

    record = {"resident": "compound-135-r026", "level": "satisfied", "previous_digest": "f" * 64}
    transcoder = OrjsonTranscoder()
    tracemalloc.start()
    try:
        kept = [transcoder.encode(record) for _ in range(1000)]
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert len(kept[0]) < 200
    assert held < 1000 * 400  # orjson's own bytes would hold about 4 KB each


def test_a_log_is_copied_whole_into_an_empty_store_and_packed_for_it(
    sqlite_url: str, tmp_path: Path
) -> None:
    key = {"AUDIT_KEY": "one key for both stores"}
    secret = {**key, "CIPHER_TOPIC": get_topic(AESCipher), "CIPHER_KEY": AESCipher.create_key(16)}
    with (
        flows.open_flow("memory://", env=key) as source,
        CivicFlow.open(sqlite_url, env=secret) as target,
    ):
        p = flows.rating(source)
        flows.rate_all(source, p, ["satisfied", "dissatisfied"])
        copied = target.copy_log_from(source)
        assert copied == source.recorder.max_notification_id()
        assert target.proposal(p.id) == source.proposal(p.id)
        assert target.verify().ok
        with pytest.raises(RuleViolationError, match="empty store only"):
            target.copy_log_from(source)
        assert target.recorder.max_notification_id() == copied
    raw = Path(sqlite_url.removeprefix("sqlite:///")).read_bytes()
    assert b"resident-1" not in raw  # encrypted at rest, as the target is configured


def test_a_stretch_of_a_log_is_appended_and_an_overlap_refused_with_nothing_copied(
    sqlite_url: str,
) -> None:
    key = {"AUDIT_KEY": "one key for both stores"}
    with (
        flows.open_flow("memory://", env=key) as source,
        CivicFlow.open(sqlite_url, env=key) as target,
    ):
        registered = source.recorder.max_notification_id()
        p = flows.rating(source)
        flows.rate_all(source, p, ["satisfied", "dissatisfied"])
        end = source.recorder.max_notification_id()
        assert registered is not None
        assert end is not None
        assert target.copy_log_from(source, up_to=registered) == registered
        assert target.copy_log_from(source, after=registered) == end - registered
        assert target.proposal(p.id) == source.proposal(p.id)
        assert target.verify().ok
        before = stored_rows(target)
        with pytest.raises(InvalidInputError, match="already holds"):
            target.copy_log_from(source, after=registered)
        assert stored_rows(target) == before
