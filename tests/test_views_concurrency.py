"""Views opened and read by several processes while another counts, and counted through faults.

Reader processes open ``Views`` and read the figures in a loop while another process
catches up (the parent meanwhile writing ratings) or rebuilds again and again. No open
and no read may fail, and every figure a reader sees must be the figures as they stood
at some position of the log: never a batch half written. On PostgreSQL, a thread also
terminates the views' connections (``pg_terminate_backend``) while they are counted:
counting then completes or says ``BackendUnavailableError``, nothing else, and the views
end equal to a clean count. With a writer's locks held (SQLite's write lock; PostgreSQL's
advisory lock, a row and a table lock), views still open and read at once; a SQLite lock
held past the retries is ``BackendUnavailableError``; and processes opening a new store's
views at the same moment all open.
"""

from __future__ import annotations

import json
import multiprocessing
import queue
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from civicflow import BackendUnavailableError, CivicFlow, ProposalState
from civicflow.views import Views, retry
from civicflow.views.backend import private_memory
from tests import flows
from tests.conftest import POSTGRES_URL

READERS = 2
SECONDS = 1.0
BATCH = 5
RATINGS = 100
LEVELS = ("satisfied", "basically_satisfied", "dissatisfied", "satisfied", "dissatisfied")
JOIN_TIMEOUT = 60.0
Report = tuple[str, list[str], list[str], int]  # who, failures, figures seen, rounds


def figures(views: Views) -> str:
    """The figures a reader compares, as one string (the same figures, the same string)."""
    found = views.satisfaction(level="compound")
    return json.dumps([figure.model_dump(mode="json") for figure in found], sort_keys=True)


def rate(flow: CivicFlow, proposal: ProposalState, start: int, count: int) -> None:
    """Ratings that change the figures each time: residents rate and rate again."""
    for n in range(start, start + count):
        resident = flows.RESIDENTS[n % len(flows.RESIDENTS)]
        flow.rate(proposal.id, resident=resident, level=LEVELS[n // 7 % len(LEVELS)])


def every_state(flow: CivicFlow) -> set[str]:
    """The figures at every position of the log, counted one notification at a time."""
    with Views(flow, settings=private_memory(), k=1, batch_size=1) as views:
        states = {figures(views)}
        while views.catch_up(limit=1):
            states.add(figures(views))
    return states


def assert_equal_to_a_clean_count(flow: CivicFlow) -> None:
    with Views(flow, k=1) as views, Views(flow, settings=private_memory(), k=1) as clean:
        views.catch_up()
        clean.catch_up()
        assert views.position == clean.position == flow.recorder.max_notification_id()
        assert figures(views) == figures(clean)
        assert views.participation(level="compound") == clean.participation(level="compound")
        assert views.pipeline(level="compound") == clean.pipeline(level="compound")


# --- the processes ---------------------------------------------------------------------


def running(started: float, enough: Any) -> bool:
    """Go on for SECONDS, and longer (up to four times) until a reader has seen a change:
    on a busy machine the views may not move within the first second."""
    elapsed = time.monotonic() - started
    return elapsed < SECONDS or (not enough.is_set() and elapsed < 4 * SECONDS)


def read_in_a_loop(url: str, enough: Any, results: multiprocessing.Queue[Report]) -> None:
    """A reader process: open the views, read, close, again, until the time is up."""
    failures: list[str] = []
    seen: set[str] = set()
    opens = 0
    try:
        with CivicFlow.open(url) as flow:
            started = time.monotonic()
            while running(started, enough):
                try:
                    with Views(flow, k=1) as views:
                        seen.add(figures(views))
                        views.participation(level="compound", quarter="2026Q3")
                    opens += 1
                    if len(seen) >= 2:
                        enough.set()
                except Exception as error:  # every failure is reported, none expected
                    failures.append(f"{type(error).__name__}: {error}")
    except Exception as error:
        failures.append(f"{type(error).__name__}: {error}")
    results.put(("reader", failures, sorted(seen), opens))


def count_in_a_loop(
    url: str, mode: str, enough: Any, results: multiprocessing.Queue[Report]
) -> None:
    """The counting process: catch up (while the parent writes) or rebuild, again and again."""
    failures: list[str] = []
    rounds = 0
    try:
        with CivicFlow.open(url) as flow, Views(flow, k=1, batch_size=BATCH) as views:
            started = time.monotonic()
            while running(started, enough):
                counted = views.rebuild() if mode == "rebuild" else views.catch_up()
                rounds += counted > 0
    except Exception as error:
        failures.append(f"{type(error).__name__}: {error}")
    results.put(("counter", failures, [], rounds))


@contextmanager
def writing(flow: CivicFlow, proposal: ProposalState, start: int) -> Iterator[None]:
    """The parent rates on a thread of its own meanwhile."""
    stop = threading.Event()

    def write() -> None:
        n = start
        while not stop.is_set():
            rate(flow, proposal, n, 1)
            n += 1
            stop.wait(0.03)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        yield
    finally:
        stop.set()
        writer.join(JOIN_TIMEOUT)


def run_processes(url: str, mode: str) -> list[Report]:
    context = multiprocessing.get_context("spawn")
    results: multiprocessing.Queue[Report] = context.Queue()
    enough = context.Event()  # a reader has seen the views move
    children = [context.Process(target=count_in_a_loop, args=(url, mode, enough, results))]
    children += [
        context.Process(target=read_in_a_loop, args=(url, enough, results)) for _ in range(READERS)
    ]
    for child in children:
        child.start()
    reports: list[Report] = []
    try:
        for _ in children:
            reports.append(results.get(timeout=JOIN_TIMEOUT))
    except queue.Empty:
        reports.append(("parent", ["a process reported nothing in time"], [], 0))
    finally:
        for child in children:
            child.join(10)
            if child.is_alive():
                child.terminate()
    return reports


# --- the tests -------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["catch_up", "rebuild"])
def test_readers_open_and_read_while_another_process_counts(durable_url: str, mode: str) -> None:
    with flows.open_flow(durable_url) as flow:
        proposal = flows.rating(flow)
        rate(flow, proposal, 0, RATINGS)
        if mode == "rebuild":
            with Views(flow, k=1) as views:
                views.catch_up()  # so that each rebuild starts from counted views
            reports = run_processes(durable_url, mode)
        else:
            with writing(flow, proposal, RATINGS):
                reports = run_processes(durable_url, mode)
        failures = [f"{who}: {failure}" for who, found, _, _ in reports for failure in found]
        assert failures == []
        seen = {state for who, _, states, _ in reports if who == "reader" for state in states}
        opens = sum(rounds for who, _, _, rounds in reports if who == "reader")
        [counter_rounds] = [rounds for who, _, _, rounds in reports if who == "counter"]
        assert counter_rounds >= 1, "the counter never counted; the test proves nothing"
        assert opens >= 3 * READERS
        assert len(seen) >= 2, "the readers never saw the views move; the test proves nothing"
        assert seen <= every_state(flow), "a reader saw figures of no position of the log"
        assert_equal_to_a_clean_count(flow)


def terminate_views_connections(schema: str, stop: threading.Event, kills: list[int]) -> None:
    """Terminates the sessions of this store's views, five times a second."""
    import psycopg

    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        while not stop.wait(0.2):
            row = admin.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = %s AND pid <> pg_backend_pid()",
                (f"civicflow-views {schema}",),
            ).fetchone()
            kills.append(int(row[0]) if row else 0)


def test_counting_through_terminated_connections_completes_or_says_unavailable(
    postgres_url: str,
) -> None:
    schema = postgres_url.rpartition("schema=")[2]
    outcomes: list[str] = []
    kills: list[int] = []
    stop = threading.Event()
    with flows.open_flow(postgres_url) as flow:
        proposal = flows.rating(flow)
        rate(flow, proposal, 0, RATINGS)
        with Views(flow, k=1, batch_size=BATCH) as views:
            killer = threading.Thread(
                target=terminate_views_connections, args=(schema, stop, kills)
            )
            killer.start()
            try:
                deadline = time.monotonic() + SECONDS
                while time.monotonic() < deadline:
                    outcomes.append(_count_once(views, rebuild=len(outcomes) % 2 == 0))
            finally:
                stop.set()
                killer.join(JOIN_TIMEOUT)
        assert sum(kills) > 0, "no connection was terminated; the test proves nothing"
        assert set(outcomes) <= {"counted", "unavailable"}, outcomes
        assert "counted" in outcomes
        assert_equal_to_a_clean_count(flow)


def _count_once(views: Views, *, rebuild: bool) -> str:
    try:
        views.rebuild() if rebuild else views.catch_up()
        figures(views)
    except BackendUnavailableError:
        return "unavailable"
    except Exception as error:  # anything else is what the test looks for
        return f"{type(error).__name__}: {error}"
    return "counted"


# --- a writer that holds its locks ------------------------------------------------------


@contextmanager
def a_writer_holding_its_locks(url: str) -> Iterator[None]:
    """Another process's batch, half written: the views' write locks, held until the end."""
    if url.startswith("sqlite"):
        import sqlite3

        connection = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("UPDATE cf_view_state SET value = value")
        try:
            yield
        finally:
            connection.rollback()
            connection.close()
        return
    import psycopg
    from psycopg import sql

    schema = url.rpartition("schema=")[2]
    with psycopg.connect(POSTGRES_URL) as pg:
        pg.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
        pg.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"civicflow-views:{schema}",))
        pg.execute("UPDATE cf_view_state SET value = value")
        pg.execute("LOCK TABLE cf_view_ratings IN SHARE ROW EXCLUSIVE MODE")
        try:
            yield
        finally:
            pg.rollback()


def test_opening_and_reading_never_wait_for_a_writer(durable_url: str) -> None:
    outcome: list[str] = []

    def open_and_read(flow: CivicFlow) -> None:
        try:
            with Views(flow, k=1) as views:
                outcome.append(figures(views))
                views.participation(level="compound")
        except Exception as error:
            outcome.append(f"{type(error).__name__}: {error}")

    with flows.open_flow(durable_url) as flow:
        rate(flow, flows.rating(flow), 0, 10)
        with Views(flow, k=1) as views:
            views.catch_up()
            counted = figures(views)
        with a_writer_holding_its_locks(durable_url):
            reader = threading.Thread(target=open_and_read, args=(flow,))
            reader.start()
            reader.join(3.0)  # a reader that waited for the writer would still be waiting
            assert not reader.is_alive(), "opening the views waited for the writer"
        assert outcome == [counted]


def test_a_lock_held_longer_than_the_retries_last_is_unavailable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(retry, "FAULT_BUDGET", 1.0)
    path = tmp_path / "views.db"
    settings = {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": str(path),
        "SQLITE_LOCK_TIMEOUT": "1",
    }
    with flows.open_flow() as flow, Views(flow, settings=settings, k=1) as views:
        rate(flow, flows.rating(flow), 0, 10)
        with a_writer_holding_its_locks(f"sqlite:///{path}"):
            started = time.monotonic()
            with pytest.raises(BackendUnavailableError, match="locked") as raised:
                views.catch_up()
            assert time.monotonic() - started < 4.0
            assert "try again later" in str(raised.value)
            assert raised.value.__cause__ is None
            assert views.position == 0  # reading goes on meanwhile
        assert views.catch_up() == flow.recorder.max_notification_id()
        with Views(flow, settings=private_memory(), k=1) as clean:
            clean.catch_up()
            assert figures(views) == figures(clean)


def test_views_opened_for_the_first_time_by_many_at_once_all_open(durable_url: str) -> None:
    openers = 6
    with flows.open_flow(durable_url) as flow:
        rate(flow, flows.rating(flow), 0, 10)
        start = threading.Barrier(openers)
        outcome: list[str] = []

        def open_first() -> None:
            try:
                with CivicFlow.open(durable_url) as own:
                    start.wait(JOIN_TIMEOUT)
                    with Views(own, k=1) as views:
                        views.catch_up()
                        outcome.append(figures(views))
            except Exception as error:
                outcome.append(f"{type(error).__name__}: {error}")

        threads = [threading.Thread(target=open_first) for _ in range(openers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(JOIN_TIMEOUT)
        with Views(flow, settings=private_memory(), k=1) as clean:
            clean.catch_up()
            assert outcome == [figures(clean)] * openers
        assert_equal_to_a_clean_count(flow)
