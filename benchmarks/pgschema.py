"""A throwaway PostgreSQL schema for a benchmark run: whether the server answers, and
dropping the schema afterwards. Shared by the benchmark scripts beside it.
"""

from __future__ import annotations


def postgres_problem(url: str) -> str:
    """Why ``url`` cannot be used ('' when it can)."""
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed"
    try:
        with psycopg.connect(url, connect_timeout=3):
            return ""
    except psycopg.Error as error:
        return f"{url} is unreachable: {str(error).strip()}"


def drop_schema(url: str, schema: str) -> None:
    """Drop ``schema`` and everything in it."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def create_schema(url: str, schema: str) -> None:
    """Create ``schema`` (for an application that does not create its own)."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
