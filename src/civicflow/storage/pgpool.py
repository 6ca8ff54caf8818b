"""The PostgreSQL connection pool, made to let go of every dead connection at once.

When the server drops connections (a restart, a failover, an operator's
``pg_terminate_backend``) every idle connection in eventsourcing's pool is dead
too, but the pool finds that out one checkout at a time: each of eventsourcing's
retries takes the next dead connection and fails, and a command gives up on a
store that is in fact back. Checking every connection on each checkout would
cost a round trip per query, and psycopg_pool backs off for seconds after a
failed check. So the pool is checked once, when a connection has just failed:
the dead ones are replaced together, and the next retry finds a live one.

Imported only for a PostgreSQL store, so SQLite users never load psycopg.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from eventsourcing.persistence import InterfaceError, OperationalError
from eventsourcing.postgres import PostgresDatastore, PostgresFactory

logger = logging.getLogger("civicflow")


class RecoveringDatastore(PostgresDatastore):
    """eventsourcing's datastore, whose pool is swept of dead connections after a failure."""

    @contextmanager
    def get_connection(self) -> Iterator[Any]:
        try:
            with super().get_connection() as connection:
                yield connection
        except (InterfaceError, OperationalError):
            self.sweep()
            raise

    def sweep(self) -> None:
        """Replace every idle connection the server no longer answers on."""
        try:
            self.pool.check()
        except Exception as error:  # the original failure is what matters
            logger.debug("the pool could not be checked: %s", error)


def recovering(factory: object) -> None:
    """Make a PostgreSQL factory's datastore sweep its pool after a failure."""
    if isinstance(factory, PostgresFactory) and type(factory.datastore) is PostgresDatastore:
        # Same state, one more behaviour: the recorders already hold this object.
        factory.datastore.__class__ = RecoveringDatastore
