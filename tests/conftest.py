"""Shared fixtures: a fake clock, store URLs per backend, hypothesis profiles.

PostgreSQL tests run against ``CIVICFLOW_TEST_POSTGRES_URL`` (default: the local
server's ``test`` database). Each test gets a schema of its own, dropped after
it, so runs never see each other's data. Without a server they skip, unless
``CIVICFLOW_REQUIRE_POSTGRES=1`` (set by CI) turns the skip into a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "default", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
# CI runs as many examples as a developer does: the stateful tests are the slow part of
# the suite, and a 2-core CI machine must stay well inside its time limit.
settings.register_profile(
    "ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=20, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

POSTGRES_URL = os.environ.get(
    "CIVICFLOW_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
REQUIRE_POSTGRES = os.environ.get("CIVICFLOW_REQUIRE_POSTGRES") == "1"
BACKENDS = ["memory", "sqlite", "postgres"]


class FakeClock:
    """A clock the test moves by hand; starts at a fixed moment in UTC."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 7, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def _postgres_problem() -> str:
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed (pip install 'civicflow[postgres]')"
    try:
        with psycopg.connect(POSTGRES_URL, connect_timeout=3):
            return ""
    except psycopg.Error as error:
        return f"PostgreSQL at {POSTGRES_URL} is unreachable: {error}".strip()


@pytest.fixture(scope="session")
def postgres_available() -> None:
    problem = _postgres_problem()
    if problem and REQUIRE_POSTGRES:
        pytest.fail(f"CIVICFLOW_REQUIRE_POSTGRES=1 but {problem}")
    if problem:
        pytest.skip(problem)


@pytest.fixture
def postgres_url(postgres_available: None) -> Iterator[str]:
    """A PostgreSQL store URL in a fresh schema, dropped after the test."""
    import psycopg
    from psycopg import sql

    schema = f"civicflow_test_{uuid.uuid4().hex[:12]}"
    yield f"{POSTGRES_URL}?schema={schema}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'civic.db'}"


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest) -> str:
    """One store URL per backend; the test runs once for each."""
    if request.param == "memory":
        return "memory://"
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture(params=["sqlite", "postgres"])
def durable_url(request: pytest.FixtureRequest) -> str:
    """A store that outlives its application: SQLite file or PostgreSQL."""
    return str(request.getfixturevalue(f"{request.param}_url"))
