"""Views report a failing database as civicflow errors, never as a driver's own."""

from __future__ import annotations

import sqlite3
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from civicflow import BackendUnavailableError, CivicflowError, ConfigurationError
from civicflow.views import Views
from civicflow.views.schema import TABLES
from tests import flows
from tests.conftest import POSTGRES_URL


def sqlite_settings(path: Path | str) -> dict[str, str]:
    return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(path)}


def test_views_on_a_file_that_is_not_a_database_refuse_to_open_and_leave_it_alone(
    tmp_path: Path,
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_bytes(b"Minutes of the council meeting, 1 July.\n" * 200)
    before = notes.read_bytes()
    with flows.open_flow() as flow, pytest.raises(CivicflowError) as raised:
        Views(flow, settings=sqlite_settings(notes))
    assert isinstance(raised.value, ConfigurationError)
    assert "not a database" in str(raised.value)
    assert raised.value.__cause__ is None
    assert raised.value.__suppress_context__
    assert notes.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]  # no journal left beside it


@pytest.mark.parametrize(
    "settings",
    [
        {"PERSISTENCE_MODULE": "eventsourcing.sqlite"},
        {"PERSISTENCE_MODULE": "eventsourcing.nosuchbackend"},
        {**sqlite_settings(":memory:"), "SQLITE_LOCK_TIMEOUT": "soon"},
        {"PERSISTENCE_MODULE": "eventsourcing.postgres"},
    ],
)
def test_settings_that_describe_no_database_are_a_configuration_error(
    settings: dict[str, str],
) -> None:
    with flows.open_flow() as flow, pytest.raises(ConfigurationError):
        Views(flow, settings=settings)


def test_a_sqlite_file_that_cannot_be_created_is_unavailable(tmp_path: Path) -> None:
    with flows.open_flow() as flow, pytest.raises(BackendUnavailableError):
        Views(flow, settings=sqlite_settings(tmp_path / "no-such-folder" / "views.db"))


def drop_view_tables(path: Path, *also: str) -> None:
    """What a mistaken cleanup outside civicflow could do to the views' database."""
    with sqlite3.connect(path) as connection:
        for table in (*TABLES, *also):
            connection.execute(f"DROP TABLE IF EXISTS {table}")


USES: dict[str, Callable[[Views], Any]] = {
    "position": lambda views: views.position,
    "catch_up": lambda views: views.catch_up(),
    "follow": lambda views: views.follow(threading.Event()),
    "satisfaction": lambda views: views.satisfaction(),
    "proposal_satisfaction": lambda views: views.proposal_satisfaction("p-1"),
    "participation": lambda views: views.participation(quarter="2026Q3"),
    "pipeline": lambda views: views.pipeline(),
    "review": lambda views: views.review("2026Q3"),
    "structure": lambda views: views.structure(),
}


@pytest.mark.parametrize("use", USES.values(), ids=USES.keys())
def test_a_database_that_fails_after_opening_is_unavailable_to_every_use(
    tmp_path: Path, use: Callable[[Views], Any]
) -> None:
    path = tmp_path / "views.db"
    with flows.open_flow() as flow, Views(flow, settings=sqlite_settings(path), k=1) as views:
        flows.rating(flow)
        views.catch_up()
        drop_view_tables(path, "tracking")
        flows.rating(flow)  # something new to count
        with pytest.raises(BackendUnavailableError, match="no such table"):
            use(views)


def test_a_rebuild_restores_views_whose_tables_were_lost(tmp_path: Path) -> None:
    path = tmp_path / "views.db"
    with flows.open_flow() as flow, Views(flow, settings=sqlite_settings(path), k=1) as views:
        flows.rating(flow)
        counted = views.catch_up()
        drop_view_tables(path)
        assert views.rebuild() == counted
        assert views.position == flow.recorder.max_notification_id()


@pytest.mark.parametrize("use", [USES["catch_up"], USES["satisfaction"]], ids=["catch_up", "query"])
def test_a_failing_postgresql_database_is_unavailable(
    postgres_url: str, use: Callable[[Views], Any]
) -> None:
    import psycopg
    from psycopg import sql

    schema = postgres_url.rpartition("schema=")[2]
    with flows.open_flow(postgres_url) as flow, Views(flow, k=1) as views:
        flows.rating(flow)
        views.catch_up()
        with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
            for table in TABLES:
                connection.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(schema, table)))
        flows.rating(flow)  # something new to count
        with pytest.raises(BackendUnavailableError, match="does not exist"):
            use(views)


def test_postgresql_without_its_driver_is_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "civicflow.views.pgstore", None)  # as if psycopg were absent
    with flows.open_flow() as flow, pytest.raises(BackendUnavailableError, match="postgres extra"):
        Views(flow, settings={"PERSISTENCE_MODULE": "eventsourcing.postgres"})
