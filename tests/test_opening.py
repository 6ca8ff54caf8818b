"""Opening a store: causes said at once, reading never creates, big imports in chunks.

Every fault here is real: a port nothing listens on, a database and a role that do
not exist, a file or a schema that is not there, a record the database refuses.
"""

from __future__ import annotations

import io
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import psycopg
import pytest
from psycopg import sql

from civicflow import (
    BackendUnavailableError,
    CivicFlow,
    ConfigurationError,
    InvalidInputError,
    StoreNotFoundError,
    Views,
)
from civicflow.storage import bulk
from civicflow.storage.settings import env_from_url, store_settings
from tests.conftest import POSTGRES_URL
from tests.test_cli import civicflow, refusal

TOPIC = "civicflow.proposal:Proposal.Asked"
NOBODY = "00000000-0000-0000-0000-000000000000"


def closed_port() -> int:
    """A port on this host that nothing listens on: bound by us, then let go."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def bad_urls() -> dict[str, tuple[str, type[Exception], str]]:
    base = POSTGRES_URL.rsplit("/", 1)[0]
    host = base.split("@")[-1]
    missing_db = f"civicflow_missing_{uuid.uuid4().hex[:8]}"
    port = closed_port()
    return {
        "a missing database": (
            f"{base}/{missing_db}",
            ConfigurationError,
            f'database "{missing_db}" does not exist at {host}',
        ),
        "an unknown role": (
            f"postgresql://nobody_{missing_db}@{host}/test",
            ConfigurationError,
            f'role "nobody_{missing_db}" does not exist at {host}',
        ),
        "a closed port": (
            f"postgresql://postgres@127.0.0.1:{port}/test",
            BackendUnavailableError,
            f"connection refused at 127.0.0.1:{port}",
        ),
    }


BAD = bad_urls()


@pytest.mark.parametrize(("url", "error", "message"), BAD.values(), ids=BAD.keys())
def test_the_application_says_why_it_cannot_connect_at_once(
    postgres_available: None, url: str, error: type[Exception], message: str
) -> None:
    started = time.monotonic()
    with pytest.raises(error) as raised:
        CivicFlow.open(url)
    assert message in str(raised.value)
    assert "couldn't get a connection" not in str(raised.value)
    assert time.monotonic() - started < 2


@pytest.mark.parametrize(("url", "error", "message"), BAD.values(), ids=BAD.keys())
def test_the_views_say_why_they_cannot_connect_at_once(
    postgres_available: None, url: str, error: type[Exception], message: str
) -> None:
    settings = store_settings(env_from_url(url))
    with CivicFlow.open("memory://") as flow:
        started = time.monotonic()
        with pytest.raises(error) as raised:
            Views(flow, settings=settings)
        assert message in str(raised.value)
        assert time.monotonic() - started < 2


@pytest.fixture
def one_connection_role(postgres_available: None) -> Iterator[str]:
    """A role that may hold one connection at a time (CONNECTION LIMIT 1)."""
    role = f"civicflow_one_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute(
            sql.SQL("CREATE ROLE {} LOGIN CONNECTION LIMIT 1").format(sql.Identifier(role))
        )
    yield role
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def test_a_connection_slot_freed_meanwhile_is_waited_for(
    one_connection_role: str, postgres_url: str
) -> None:
    url = postgres_url.replace("postgres@", f"{one_connection_role}@")
    holder = psycopg.connect(url.split("?")[0], autocommit=True)
    threading.Timer(0.5, holder.close).start()  # the only slot is freed half a second later
    started = time.monotonic()
    with pytest.raises(StoreNotFoundError):  # got in: the store is simply not there yet
        CivicFlow.open(url, create=False)
    assert 0.4 < time.monotonic() - started < 2


# --- reading never creates a store -------------------------------------------------------


def schema_exists(name: str) -> bool:
    with psycopg.connect(POSTGRES_URL) as conn:
        found = conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (name,))
        return found.fetchone() is not None


def schema_of(url: str) -> str:
    return url.rsplit("schema=", 1)[1]


def test_a_missing_sqlite_file_is_not_made_for_reading(tmp_path: Path) -> None:
    typo = tmp_path / "typo.db"
    with pytest.raises(StoreNotFoundError) as raised:
        CivicFlow.open(f"sqlite:///{typo}", create=False)
    assert raised.value.store == f"file {typo}"
    assert str(raised.value).startswith(f"no civicflow store at file {typo}: it does not exist")
    assert list(tmp_path.iterdir()) == []


def test_a_file_without_events_is_left_as_it_was(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    empty.touch()
    with pytest.raises(StoreNotFoundError, match="holds no civicflow events"):
        CivicFlow.open(f"sqlite:///{empty}", create=False)
    assert [p.name for p in tmp_path.iterdir()] == ["empty.db"]
    assert empty.stat().st_size == 0


def test_a_missing_postgres_schema_is_not_made_for_reading(postgres_url: str) -> None:
    with pytest.raises(StoreNotFoundError, match="has no such schema"):
        CivicFlow.open(postgres_url, create=False)
    assert not schema_exists(schema_of(postgres_url))


def test_an_existing_store_opens_for_reading(durable_url: str) -> None:
    with CivicFlow.open(durable_url) as flow:
        flow.add_area("shanyang", kind="district", name="Shanyang", actor="office")
    with CivicFlow.open(durable_url, create=False) as reader:
        assert [a.id for a in reader.areas()] == ["shanyang"]


READING = {
    "show": f"show {NOBODY}",
    "history": f"history {NOBODY}",
    "replay": f"replay {NOBODY} --as-of 2026-01-01T00:00:00+08:00",
    "views satisfaction": "views satisfaction",
    "views participation": "views participation",
    "views pipeline": "views pipeline",
    "views review": "views review --quarter 2026Q1",
    "verify": "verify",
    "export": "export --out {tmp}/events.jsonl",
    "export a view": "export --out {tmp}/view.csv --view satisfaction",
    "report": "report --quarter 2026Q1 --out {tmp}/report.html",
    "rebuild": "rebuild",
    "area list": "area list",
    "council show": "council show hongqi-7",
    "resident show": "resident show r-1",
    "policy show": "policy show shanyang",
}


@pytest.mark.parametrize("line", READING.values(), ids=READING.keys())
def test_a_reading_command_on_a_missing_sqlite_file_creates_nothing(
    tmp_path: Path, line: str
) -> None:
    store, out = tmp_path / "typo.db", tmp_path / "out"
    out.mkdir()
    said = refusal(civicflow(line.replace("{tmp}", str(out)), f"sqlite:///{store}"))
    assert said.startswith(f"civicflow: no civicflow store at file {store}: it does not exist")
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
    assert list(out.iterdir()) == []


@pytest.mark.parametrize("line", READING.values(), ids=READING.keys())
def test_a_reading_command_on_a_missing_postgres_schema_creates_nothing(
    postgres_url: str, tmp_path: Path, line: str
) -> None:
    said = refusal(civicflow(line.replace("{tmp}", str(tmp_path)), postgres_url))
    assert f"no civicflow store at schema '{schema_of(postgres_url)}'" in said
    assert not schema_exists(schema_of(postgres_url))
    assert list(tmp_path.iterdir()) == []


# --- imports: bounded statements, one transaction, nothing left by a failure ------------


def export_lines(count: int, repeat_first_at: int | None = None) -> list[str]:
    """A v1 events export of ``count`` records; one may repeat the first (the import refuses)."""
    ids = [uuid.UUID(int=n + 1) for n in range(count)]
    if repeat_first_at is not None:
        ids[repeat_first_at - 1] = ids[0]
    return [
        orjson.dumps(
            {"position": n, "id": str(i), "version": 1, "topic": TOPIC, "state": {"n": n}}
        ).decode()
        + "\n"
        for n, i in enumerate(ids, 1)
    ]


@pytest.fixture
def inserts(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many records each INSERT into the events table carried, spied at psycopg."""
    sizes: list[int] = []
    execute = psycopg.Cursor.execute

    def spy(cursor: Any, query: Any, params: Any = None, **kwargs: Any) -> Any:
        text = query.as_string(cursor) if isinstance(query, sql.Composable) else str(query)
        if text.lstrip().startswith("INSERT INTO") and "civicflow_events" in text:
            sizes.append(len(params[0]))
        return execute(cursor, query, params, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "execute", spy)
    return sizes


def test_a_large_import_into_postgres_goes_in_bounded_statements(
    postgres_url: str, inserts: list[int]
) -> None:
    count = 39_205  # as many as the demo district writes
    assert CivicFlow.import_into(postgres_url, export_lines(count)) == count
    assert max(inserts) == bulk.CHUNK
    assert sum(inserts) == count
    assert len(inserts) == -(-count // bulk.CHUNK)
    with CivicFlow.open(postgres_url, create=False) as flow:
        assert flow.recorder.max_notification_id() is not None
        assert len(flow.recorder.select_notifications(start=None, limit=10**6)) == count


def test_a_record_refused_in_a_late_chunk_leaves_nothing_imported(durable_url: str) -> None:
    lines = export_lines(2 * bulk.CHUNK + 500, repeat_first_at=2 * bulk.CHUNK + 400)
    with CivicFlow.open(durable_url) as flow:
        with pytest.raises(InvalidInputError, match=r"line 2400: .*nothing was imported"):
            flow.import_events(lines)
        assert flow.recorder.max_notification_id() is None


def test_a_failed_import_into_a_new_sqlite_store_leaves_no_file(tmp_path: Path) -> None:
    export = tmp_path / "events.jsonl"
    export.write_text("".join(export_lines(2500, repeat_first_at=2400)), encoding="utf-8")
    said = refusal(civicflow(f"import {export}", f"sqlite:///{tmp_path / 'new.db'}"))
    assert said.startswith("civicflow: invalid events export: line 2400: ")
    assert said.endswith("nothing was imported")
    assert [p.name for p in tmp_path.iterdir()] == ["events.jsonl"]


def test_a_malformed_import_into_a_new_postgres_schema_leaves_no_schema(
    postgres_url: str, tmp_path: Path
) -> None:
    export = tmp_path / "events.jsonl"
    export.write_text("".join(export_lines(3)) + "not json\n", encoding="utf-8")
    said = refusal(civicflow(f"import {export}", postgres_url))
    assert said.startswith("civicflow: invalid events export: line 4")
    assert not schema_exists(schema_of(postgres_url))


def test_a_failed_import_into_an_existing_empty_store_keeps_the_store(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'kept.db'}"
    CivicFlow.open(url).close()
    with pytest.raises(InvalidInputError):
        CivicFlow.import_into(url, io.StringIO("not json\n"))
    with CivicFlow.open(url, create=False) as flow:
        assert flow.recorder.max_notification_id() is None
