"""PostgreSQL before eventsourcing's pool: one probe that says at once what is wrong.

eventsourcing's pool retries every failed connection until its timeout, then says
only "couldn't get a connection after 5.00 sec", whatever the cause. So a store is
probed first with one plain connection: a missing database, an unknown role or a
refused port is reported in its own words within a moment, and only what may pass
by itself (a server starting up, every connection slot taken) is tried again.
The probe also makes (or, for reading, looks for) the schema eventsourcing expects.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from civicflow.errors import (
    BackendUnavailableError,
    CivicflowError,
    ConfigurationError,
    StoreNotFoundError,
)
from civicflow.errors.reasons import because
from civicflow.storage.settings import postgres_password

# Failures that pass by themselves: the probe tries again until its timeout.
TRANSIENT = (
    "the database system is starting up",
    "the database system is in recovery mode",
    "too many clients",
    "too many connections",  # for the role or the database (their CONNECTION LIMIT)
    "remaining connection slots are reserved",
)
_NAMED = re.compile(r'(database|role) "([^"]*)" does not exist')
_REFUSED_ACCESS = ("password authentication failed", "no pg_hba.conf entry")


def _driver() -> Any:
    try:
        import psycopg
    except ImportError:
        raise BackendUnavailableError(
            "PostgreSQL needs the postgres extra: pip install 'civicflow[postgres]'"
        ) from None
    return psycopg


def where(env: Mapping[str, str]) -> str:
    """``host:port/dbname``, as the messages name a database."""
    return f"{env['POSTGRES_HOST']}:{env['POSTGRES_PORT']}/{env['POSTGRES_DBNAME']}"


@contextmanager
def connection(env: Mapping[str, str]) -> Iterator[Any]:
    """One autocommit connection to the database ``env`` names, its failure classified.

    Raises:
        ConfigurationError: the database or the role does not exist, or the server
            refused the user's credentials: the settings are wrong, and trying
            again cannot help.
        BackendUnavailableError: nothing listens at the host and port, the host is
            unknown or unreachable, the server stayed busy (starting up, no free
            connection slot) for the whole connect timeout, or psycopg is missing.
            The settings may be right: the server may be down for a while.
    """
    psycopg = _driver()
    timeout = float(env.get("POSTGRES_CONNECT_TIMEOUT") or 5)
    deadline, attempt = time.monotonic() + timeout, 0
    while True:
        try:
            conn = psycopg.connect(
                dbname=env["POSTGRES_DBNAME"],
                host=env["POSTGRES_HOST"],
                port=env["POSTGRES_PORT"],
                user=env["POSTGRES_USER"],
                password=postgres_password(env),
                connect_timeout=max(1, round(timeout)),
                autocommit=True,
            )
            break
        except psycopg.OperationalError as error:
            problem = classified(env, str(error))
            if problem is not None or time.monotonic() >= deadline:
                raise problem or _unavailable(env, str(error)) from None
            attempt += 1
            time.sleep(min(0.5, 0.02 * 2**attempt))
    with conn:
        yield conn


def classified(env: Mapping[str, str], message: str) -> CivicflowError | None:
    """The error a failed connection's ``message`` means; None if it may pass by itself."""
    if any(text in message for text in TRANSIENT):
        return None
    named = _NAMED.search(message)
    if named is not None:
        what, name = named.groups()
        host = f"{env['POSTGRES_HOST']}:{env['POSTGRES_PORT']}"
        if what == "database":
            said = because('database "{name}" does not exist at {host}', name=name, host=host)
        else:
            said = because('role "{name}" does not exist at {host}', name=name, host=host)
        return ConfigurationError(said)
    if any(text in message for text in _REFUSED_ACCESS):
        return ConfigurationError(
            because(
                "PostgreSQL at {where} refused user {user!r}: {words}",
                where=where(env),
                user=env["POSTGRES_USER"],
                words=_server_words(message),
            )
        )
    return _unavailable(env, message)


def _unavailable(env: Mapping[str, str], message: str) -> BackendUnavailableError:
    host = f"{env['POSTGRES_HOST']}:{env['POSTGRES_PORT']}"
    if "Connection refused" in message:
        said = because("connection refused at {host}: is PostgreSQL running?", host=host)
        return BackendUnavailableError(said)
    words = _server_words(message)
    return BackendUnavailableError(
        because("cannot reach PostgreSQL at {host}: {words}", host=host, words=words)
    )


def _server_words(message: str) -> str:
    """The server's reason, without libpq's "connection to server at ... failed:" lead."""
    first = message.strip().splitlines()[0]
    return re.sub(r"^.*failed: (FATAL:\s+)?", "", first).strip()


def probe(env: Mapping[str, str]) -> None:
    """Connect once to the database ``env`` names (if it names one fully), then let go.

    Raises:
        ConfigurationError: the database or the role does not exist.
        BackendUnavailableError: the server cannot be reached.
    """
    if all(env.get(f"POSTGRES_{key}") for key in ("DBNAME", "HOST", "PORT", "USER")):
        with connection(env):
            pass


def prepare(env: Mapping[str, str], *, create: bool, events_table: str) -> bool:
    """Probe the database; make the schema (``create``), or make sure the store is there.

    Returns whether ``events_table`` existed already in the store's schema.

    Raises:
        StoreNotFoundError: not ``create``, and the schema or its events table is missing.
        ConfigurationError: the database or the role does not exist.
        BackendUnavailableError: the server cannot be reached.
    """
    schema = env.get("POSTGRES_SCHEMA") or "public"
    sql = _driver().sql
    with connection(env) as conn:
        found = conn.execute(
            "SELECT EXISTS (SELECT FROM pg_namespace WHERE nspname = %s), "
            "to_regclass(format('%%I.%%I', %s::text, %s::text)) IS NOT NULL",
            (schema, schema, events_table),
        ).fetchone()
        has_schema, has_events = bool(found[0]), bool(found[1])
        if not create and not has_events:
            reason = "has no events table" if has_schema else "has no such schema"
            store = because("schema {schema!r} of {where}", schema=schema, where=where(env))
            raise StoreNotFoundError(store, reason)
        if not has_schema:
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
    return has_events


def discard(env: Mapping[str, str], tables: tuple[str, ...]) -> None:
    """Remove a store just made: its schema, or in a schema shared with others its tables.

    Raises:
        ConfigurationError: the database or the role does not exist.
        BackendUnavailableError: the server cannot be reached.
    """
    schema = env.get("POSTGRES_SCHEMA") or "public"
    sql = _driver().sql
    with connection(env) as conn:
        others = conn.execute(
            "SELECT count(*) FROM pg_class WHERE relnamespace = to_regnamespace(%s) "
            "AND relkind = 'r' AND NOT relname = ANY(%s)",
            (schema, list(tables)),
        ).fetchone()
        if schema != "public" and others is not None and others[0] == 0:
            statement = sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE")
            conn.execute(statement.format(sql.Identifier(schema)))
            return
        for table in tables:
            statement = sql.SQL("DROP TABLE IF EXISTS {}.{}")
            conn.execute(statement.format(sql.Identifier(schema), sql.Identifier(table)))
