"""PostgreSQL set-up that eventsourcing leaves to the caller: the store's schema."""

from __future__ import annotations

from collections.abc import Mapping

from civicflow.errors import BackendUnavailableError
from civicflow.storage.settings import postgres_password


def create_schema(env: Mapping[str, str]) -> None:
    """Create ``POSTGRES_SCHEMA`` if missing: eventsourcing expects it to exist.

    Raises:
        BackendUnavailableError: the driver is missing or the server refused.
    """
    try:
        import psycopg
        from psycopg import sql
    except ImportError:
        raise BackendUnavailableError(
            "PostgreSQL needs the postgres extra: pip install 'civicflow[postgres]'"
        ) from None
    try:
        with psycopg.connect(
            dbname=env["POSTGRES_DBNAME"],
            host=env["POSTGRES_HOST"],
            port=env["POSTGRES_PORT"],
            user=env["POSTGRES_USER"],
            password=postgres_password(env),
            connect_timeout=int(env["POSTGRES_CONNECT_TIMEOUT"]),
            autocommit=True,
        ) as conn:
            statement = sql.SQL("CREATE SCHEMA IF NOT EXISTS {}")
            conn.execute(statement.format(sql.Identifier(env["POSTGRES_SCHEMA"])))
    except psycopg.Error as error:
        raise BackendUnavailableError(f"cannot open the event store: {error}") from None
