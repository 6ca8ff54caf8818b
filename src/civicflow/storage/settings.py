"""The one reader of store settings: a URL to eventsourcing settings, passwords, copies.

A store is named by a URL (``memory://``, ``sqlite:///path.db``,
``postgresql://user@host:port/dbname?schema=name``); everything that opens a
database (the application, the views, a PostgreSQL schema) reads its settings
from here, so a setting is looked up one way only.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from urllib.parse import SplitResult, parse_qs, unquote, urlsplit
from uuid import uuid4

from civicflow.errors import ConfigurationError
from civicflow.errors.reasons import because

# The settings that say which database a store is in (and how to reach it).
STORE_KEYS = (
    "PERSISTENCE_MODULE",
    "SQLITE_DBNAME",
    "SQLITE_LOCK_TIMEOUT",
    "POSTGRES_DBNAME",
    "POSTGRES_HOST",
    "POSTGRES_PORT",
    "POSTGRES_USER",
    "POSTGRES_PASSWORD",
    "POSTGRES_SCHEMA",
    "POSTGRES_CONNECT_TIMEOUT",
)
PASSWORD_VARIABLES = ("CIVICFLOW_POSTGRES_PASSWORD", "POSTGRES_PASSWORD")


def env_from_url(url: str) -> dict[str, str]:
    """eventsourcing settings for a store URL.

    ``memory://`` keeps events in this process; ``sqlite:///relative.db``,
    ``sqlite:////absolute.db`` or ``sqlite:///:memory:`` use SQLite;
    ``postgresql://user:password@host:port/dbname?schema=name`` uses PostgreSQL
    (``postgres://`` is accepted too).

    Raises:
        ConfigurationError: the URL names no supported backend or lacks a part.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "memory":
        return {"PERSISTENCE_MODULE": "eventsourcing.popo"}
    if scheme == "sqlite":
        return _sqlite_env(unquote(url[len("sqlite://") :]))
    if scheme in ("postgresql", "postgres"):
        return _postgres_env(url)
    raise ConfigurationError(
        because(
            "unsupported store URL {url!r}: use memory://, sqlite:///path.db "
            "or postgresql://user@host:port/dbname",
            url=url,
        )
    )


def _sqlite_env(path: str) -> dict[str, str]:
    # "sqlite:///x.db" leaves "/x.db" (relative), "sqlite:////x.db" leaves "//x.db" (absolute).
    path = path[1:] if path.startswith("/") else path
    if not path:
        raise ConfigurationError(because("sqlite URL needs a file path, as in sqlite:///civic.db"))
    if path == ":memory:":
        # A shared-cache URI so that every pooled connection sees the same database.
        path = f"file:civicflow-{uuid4().hex}?mode=memory&cache=shared"
    return {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": path,
        "SQLITE_LOCK_TIMEOUT": "30",
    }


def _port(parts: SplitResult) -> int | None:
    """The URL's port, or a ``ConfigurationError`` (never a bare ValueError).

    The message names the port alone: the URL may hold a password.
    """
    try:
        return parts.port
    except ValueError:
        port = parts.netloc.rpartition("@")[2].rpartition(":")[2]
        raise ConfigurationError(
            because(
                "the postgresql URL's port {port!r} is not a number from 1 to 65535, as in "
                "postgresql://postgres@127.0.0.1:5432/civic",
                port=port,
            )
        ) from None


def _postgres_env(url: str) -> dict[str, str]:
    parts = urlsplit(url)
    dbname = unquote(parts.path.lstrip("/"))
    if not parts.hostname or not dbname:
        raise ConfigurationError(
            because(
                "postgresql URL {url!r} needs a host and a database, as in "
                "postgresql://postgres@127.0.0.1:5432/civic",
                url=url,
            )
        )
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": dbname,
        "POSTGRES_HOST": parts.hostname,
        "POSTGRES_PORT": str(_port(parts) or 5432),
        "POSTGRES_USER": unquote(parts.username or "postgres"),
        "POSTGRES_CONNECT_TIMEOUT": "5",
    }
    if parts.password is not None:
        env["POSTGRES_PASSWORD"] = unquote(parts.password)
    elif postgres_password({}) is None:
        env["POSTGRES_PASSWORD"] = ""  # trust or peer authentication
    # otherwise eventsourcing reads the password from the environment, kept out of the URL
    schema = parse_qs(parts.query).get("schema")
    if schema:
        env["POSTGRES_SCHEMA"] = schema[0]
    return env


def postgres_password(settings: Mapping[str, str]) -> str | None:
    """The password: from the settings (the URL), else the environment, else None.

    Kept out of URLs and files where it can be: ``CIVICFLOW_POSTGRES_PASSWORD``
    beats ``POSTGRES_PASSWORD``, as eventsourcing's own prefix rule has it.
    """
    candidates = (settings.get("POSTGRES_PASSWORD"), *map(os.environ.get, PASSWORD_VARIABLES))
    return next((value for value in candidates if value), None)


def store_settings(env: Mapping[str, str]) -> dict[str, str]:
    """The settings of ``env`` that locate its database, with the password resolved.

    For a second connection to the same database (the views beside the events).
    """
    settings = {key: value for key in STORE_KEYS if (value := env.get(key)) is not None}
    if "postgres" in settings.get("PERSISTENCE_MODULE", ""):
        settings["POSTGRES_PASSWORD"] = postgres_password(settings) or ""
    return settings


def application_env(url: str, name: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The settings an application named ``name`` opens the store at ``url`` with.

    eventsourcing reads ``<NAME>_X`` before ``X``: both are set, so the URL (and
    ``extra``) beat the process environment.

    Raises:
        ConfigurationError: the URL names no supported backend or lacks a part.
    """
    settings = {**env_from_url(url), **(extra or {})}
    return {**settings, **{f"{name.upper()}_{key}": value for key, value in settings.items()}}
