"""The store ``civicflow demo`` leaves, edited as someone with database access would: every
JSON-valid edit of the events or the snapshots makes ``civicflow verify`` fail, on SQLite and
PostgreSQL. The demo's store is protected by default (keys and a feed of signed heads); the
edits are made below civicflow, with plain SQL, then verify runs as a user would."""

# ruff: noqa: S608  # the SQL names the store's own fixed tables

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson
import pytest

from civicflow import CivicFlow
from civicflow.audit.keys import load_seal_key
from civicflow.domain import integrity
from civicflow.domain.community.directory import DIRECTORY_ID
from tests.conftest import POSTGRES_URL
from tests.test_cli import civicflow

Run = Callable[..., list[Any]]
COMPOUNDS = 3


@pytest.fixture(scope="module")
def demo_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo")
    ran = civicflow(f"demo --compounds {COMPOUNDS} --db sqlite:///{folder / 'demo.db'}")
    assert ran.code == 0, ran.err
    return folder


@contextmanager
def a_copy(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[str, str, Run, dict[str, str]]]:
    """(store URL, key directory, run SQL, table names) of a fresh copy of the demo's store."""
    if request.param == "sqlite":
        source: Path = request.getfixturevalue("demo_sqlite")
        shutil.copy(source / "demo.db", tmp_path / "demo.db")
        shutil.copytree(source / "demo.db.keys", tmp_path / "keys")
        connection = sqlite3.connect(tmp_path / "demo.db")
        tables = {"events": "stored_events", "snapshots": "stored_snapshots", "id": "rowid"}
        try:
            with connection:
                yield (
                    f"sqlite:///{tmp_path / 'demo.db'}",
                    str(tmp_path / "keys"),
                    lambda q, p=(): connection.execute(q.replace("%s", "?"), p).fetchall(),
                    tables,
                )
        finally:
            connection.close()
        return
    url = request.getfixturevalue("postgres_url")
    keys = tmp_path / "keys"
    ran = civicflow(f"demo --compounds {COMPOUNDS} --keys {keys} --db {url}")
    assert ran.code == 0, ran.err
    import psycopg

    schema = parse_qs(urlsplit(url).query)["schema"][0]
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:

        def run(query: str, params: tuple[Any, ...] = ()) -> list[Any]:
            cursor = conn.execute(query, params)
            return cursor.fetchall() if cursor.description else []

        yield (
            url,
            str(keys),
            run,
            {
                "events": f"{schema}.civicflow_events",
                "snapshots": f"{schema}.civicflow_snapshots",
                "id": "notification_id",
            },
        )


def rows(
    run: Run, t: dict[str, str], where: str = "TRUE", params: tuple[Any, ...] = ()
) -> list[Any]:
    return run(
        f"SELECT {t['id']}, originator_id, originator_version, topic, state FROM {t['events']} "
        f"WHERE {where} ORDER BY {t['id']}",
        params,
    )


def set_state(run: Run, t: dict[str, str], rowid: int, data: dict[str, Any]) -> None:
    run(f"UPDATE {t['events']} SET state = %s WHERE {t['id']} = %s", (orjson.dumps(data), rowid))


def alter(run: Run, t: dict[str, str], keys: str) -> None:
    rowid, *_, state = rows(run, t, "topic LIKE %s", ("%Rated",))[3]
    data = orjson.loads(bytes(state))
    data["level"] = "dissatisfied" if data["level"] != "dissatisfied" else "satisfied"
    set_state(run, t, rowid, data)


def delete(run: Run, t: dict[str, str], keys: str) -> None:
    rowid = rows(run, t)[40][0]
    run(f"DELETE FROM {t['events']} WHERE {t['id']} = %s", (rowid,))


def insert(run: Run, t: dict[str, str], keys: str) -> None:
    """A forged rating after the last, its chain linked and a genuine seal copied."""
    _, originator, _, topic, state = rows(run, t, "topic LIKE %s", ("%Rated",))[-1]
    data = orjson.loads(bytes(state))
    last = rows(run, t, "originator_id = %s", (originator,))[-1]
    data["previous_digest"] = integrity.digest(
        last[3],
        str(originator),
        last[2],
        {k: v for k, v in orjson.loads(bytes(last[4])).items() if k != integrity.SEAL_FIELD},
    )
    run(
        f"INSERT INTO {t['events']} (originator_id, originator_version, topic, state) "
        "VALUES (%s, %s, %s, %s)",
        (originator, last[2] + 1, topic, orjson.dumps(data)),
    )


def swap(run: Run, t: dict[str, str], keys: str) -> None:
    first, second = rows(run, t)[50:52]
    set_state(run, t, first[0], orjson.loads(bytes(second[4])))
    set_state(run, t, second[0], orjson.loads(bytes(first[4])))


def reseal_the_tail(run: Run, t: dict[str, str], keys: str) -> None:
    """A key holder rewrites the latest rating and seals it again: the seals cannot tell."""
    key = integrity.audit_key(load_seal_key(Path(keys) / "seal.key"))
    assert key is not None
    rowid, originator, version, topic, state = rows(run, t, "topic LIKE %s", ("%Rated",))[-1]
    data = orjson.loads(bytes(state))
    data.pop(integrity.SEAL_FIELD)
    data["level"] = "dissatisfied" if data["level"] != "dissatisfied" else "satisfied"
    data[integrity.SEAL_FIELD] = integrity.seal(
        key, integrity.digest(topic, str(originator), version, data)
    )
    set_state(run, t, rowid, data)


def edit_a_snapshot(run: Run, t: dict[str, str], keys: str) -> None:
    found = run(f"SELECT originator_id, originator_version, state FROM {t['snapshots']}")
    assert found, "no snapshot was taken; the edit proves nothing"
    originator, version, state = found[0]
    text = bytes(state)
    if b'"0.8"' in text:  # the rectification threshold the next rounds are judged by
        data = orjson.loads(text.replace(b'"0.8"', b'"0.5"'))
    else:
        data = orjson.loads(text)
        data["state"]["chain"] = "0" * 64
    run(
        f"UPDATE {t['snapshots']} SET state = %s "
        "WHERE originator_id = %s AND originator_version = %s",
        (orjson.dumps(data), originator, version),
    )


EDITS = [alter, delete, insert, swap, reseal_the_tail, edit_a_snapshot]


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> pytest.FixtureRequest:
    return request


@pytest.mark.parametrize("edit", EDITS, ids=lambda e: e.__name__)
def test_every_edit_of_the_demos_store_makes_verify_fail(
    backend: pytest.FixtureRequest, tmp_path: Path, edit: Callable[[Run, dict[str, str], str], None]
) -> None:
    with a_copy(backend, tmp_path) as (url, keys, run, tables):
        if edit is edit_a_snapshot:  # the demo loads by import, which takes no snapshot
            secret = load_seal_key(Path(keys) / "seal.key")
            with CivicFlow.open(url, env={"AUDIT_KEY": secret}) as flow:
                flow.store.take_snapshot(DIRECTORY_ID)
        before = civicflow(f"verify --keys {keys} --db {url}")
        assert before.code == 0, before.out  # proven against the demo's published head
        edit(run, tables, keys)
    after = civicflow(f"verify --keys {keys} --db {url}")
    assert after.code == 1, after.out
    assert after.lines[0].startswith("PROBLEMS FOUND")
