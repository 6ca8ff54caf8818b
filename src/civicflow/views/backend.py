"""Opening the view tables: SQLite or PostgreSQL, chosen by eventsourcing settings.

The only module that knows both adapters. PostgreSQL's is imported only when the
settings ask for it, since psycopg comes with an optional extra.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast
from uuid import uuid4

from eventsourcing.persistence import InfrastructureFactory
from eventsourcing.utils import Environment

from civicflow.storage import postgres
from civicflow.storage.errors import opening_errors
from civicflow.storage.settings import store_settings
from civicflow.views.retry import retried
from civicflow.views.schema import SCHEMA_VERSION
from civicflow.views.sealing import PLAIN, Plain, sealing_of
from civicflow.views.sqlitestore import SQLiteViews
from civicflow.views.tables import ViewTables

if TYPE_CHECKING:
    from civicflow.application.flow import CivicFlow


def open_view_tables(
    settings: dict[str, str],
    application_name: str,
    sealing: Plain = PLAIN,
    tracking_names: tuple[str, ...] = (),
) -> ViewTables:
    """Open the view tables for eventsourcing ``settings``, created or rebuilt as needed.

    Tables of an older definition (``SCHEMA_VERSION``) are emptied, so that the
    next catch-up counts the whole log again: that is how a new definition rolls out.
    Tables of a newer definition are refused and left as they are: only newer code
    may count into them. Views kept in clear are emptied too when ``sealing`` says
    the store is encrypted (so no plaintext is left in them); views encrypted under
    one key are refused to a process with no key or another.

    Raises:
        ViewsSchemaError: the views are stamped newer than this code's ``SCHEMA_VERSION``.
        ViewsEncryptionError: the views are encrypted, under another key or while
            this store is not.
        ConfigurationError: the settings do not describe a database, or name a
            PostgreSQL database or role that does not exist.
        BackendUnavailableError: the database failed, cannot be reached, or needs a
            driver that is not installed.
    """
    with opening_errors("the views"):
        view_class = _adapter(settings)
        if view_class is not SQLiteViews:
            postgres.probe(settings)  # its cause at once, not the pool's timeout
        # Opening only reads when the tables exist: ``prepare`` creates what is missing.
        env = Environment("CivicFlowViews", {**settings, "CREATE_TABLE": "no"})
        factory = InfrastructureFactory.construct(env)
        try:
            tables = cast(ViewTables, factory.tracking_recorder(view_class))
            tables.application_name = application_name
            tables.tracking_names = tracking_names  # (several: a city's districts)
            tables.sealing = sealing
            retried(tables.prepare, "opening the views", recover=tables.recover)
            if tables.schema_version() != SCHEMA_VERSION or _in_clear(tables, sealing):
                tables.reset()
            with tables.transaction(commit=False) as cursor:
                tables.check_sealing_in(cursor)
        except BaseException:
            factory.close()  # the connections made so far
            raise
        return tables


def _in_clear(tables: ViewTables, sealing: Plain) -> bool:
    """Whether the views are kept in clear while the store is encrypted."""
    if sealing.stamp is None:
        return False
    with tables.transaction(commit=False) as cursor:
        return tables.sealing_in(cursor) is None


def open_for(flow: CivicFlow, settings: dict[str, str] | None) -> ViewTables:
    """The view tables of ``flow`` in ``settings`` (by default the events' own database),
    kept encrypted when its events are (see ``open_view_tables`` for what it raises).
    """
    return open_view_tables(settings or same_store(flow), flow.name, sealing_of(flow))


def same_store(flow: CivicFlow) -> dict[str, str]:
    """The settings of the events' own database (a private one for events in memory)."""
    settings = store_settings(flow.env)
    module = settings.get("PERSISTENCE_MODULE", "eventsourcing.popo")
    return private_memory() if "popo" in module else settings


def private_memory() -> dict[str, str]:
    """A fresh in-memory SQLite database, shared by the connections of one pool."""
    return {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": f"file:civicflow-views-{uuid4().hex}?mode=memory&cache=shared",
    }


def _adapter(settings: dict[str, str]) -> type[Any]:
    if "postgres" in settings.get("PERSISTENCE_MODULE", ""):
        from civicflow.views.pgstore import PostgresViews  # only with the postgres extra

        return PostgresViews
    return SQLiteViews
