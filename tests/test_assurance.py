# ruff: noqa: S608  # the SQL names the store's own fixed tables
"""What verify proves without any secret: snapshots against their events, and the store
against published tree heads. The store has no audit key here (the worst case): every
edit is made directly in the database, as someone with write access would."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson
import pytest

from civicflow import (
    CivicFlow,
    ForkRefusedError,
    InvalidInputError,
    SignatureError,
    Transparency,
    append_to_file,
    generate_keys,
    load_signer,
)
from civicflow.audit.publishing import last_in_feed
from civicflow.audit.signing import Signer
from tests import flows
from tests.conftest import POSTGRES_URL, FakeClock

ORIGIN = "civicflow.example/district-1"
SIGNER = Signer.generate(ORIGIN)


@contextmanager
def database(url: str) -> Iterator[tuple[Callable[..., list[Any]], dict[str, str]]]:
    """Run SQL on the store's own tables: (run, names of the events and snapshots tables)."""
    if url.startswith("sqlite"):
        connection = sqlite3.connect(url.removeprefix("sqlite:///"))
        try:
            with connection:
                yield (
                    lambda q, p=(): connection.execute(q.replace("%s", "?"), p).fetchall(),
                    {"events": "stored_events", "snapshots": "stored_snapshots", "id": "rowid"},
                )
        finally:
            connection.close()
        return
    import psycopg

    schema = parse_qs(urlsplit(url).query)["schema"][0]
    with psycopg.connect(POSTGRES_URL, autocommit=False) as conn:

        def run(query: str, params: tuple[Any, ...] = ()) -> list[Any]:
            cursor = conn.execute(query, params)
            return cursor.fetchall() if cursor.description else []

        yield (
            run,
            {
                "events": f"{schema}.civicflow_events",
                "snapshots": f"{schema}.civicflow_snapshots",
                "id": "notification_id",
            },
        )


def a_store(url: str) -> tuple[str, Any]:
    """A store with a rated proposal, a snapshot of the directory, and a published head."""
    with flows.open_flow(url) as flow:
        p = flows.rating(flow)
        flows.rate_all(flow, p, ["satisfied", "dissatisfied", "basically_satisfied"] * 3)
        for n in range(100):  # the directory is snapshotted every 100 events
            flow.set_policy("community-1", rectification_threshold="0.8", actor=f"office-{n}")
        return flow.tree_head(SIGNER), p


def verified(url: str, head: str) -> Any:
    with CivicFlow.open(url) as flow:
        return flow.verify(heads=[head], log_key=SIGNER.verifier)


def edit_a_state(run: Callable[..., list[Any]], t: dict[str, str], offset: int) -> None:
    """A JSON-valid edit of one record: its actor renamed."""
    rowid, state = run(
        f"SELECT {t['id']}, state FROM {t['events']} ORDER BY {t['id']} LIMIT 1 OFFSET %s",
        (offset,),
    )[0]
    data = orjson.loads(bytes(state))
    data["actor"] = "someone-else"
    run(f"UPDATE {t['events']} SET state = %s WHERE {t['id']} = %s", (orjson.dumps(data), rowid))


def test_an_untouched_store_is_proven_against_its_head(durable_url: str) -> None:
    head, _ = a_store(durable_url)
    result = verified(durable_url, head)
    assert result.ok, result.problems
    assert result.heads == 1
    assert result.proven == result.events
    assert "every record is proven" in result.assurance


def _delete(which: str) -> Callable[[Callable[..., list[Any]], dict[str, str]], None]:
    def delete(run: Callable[..., list[Any]], t: dict[str, str]) -> None:
        position = f"SELECT {which.format(id=t['id'])} FROM {t['events']}"
        run(f"DELETE FROM {t['events']} WHERE {t['id']} = ({position})")

    return delete


def _swap(run: Callable[..., list[Any]], t: dict[str, str]) -> None:
    rows = run(
        f"SELECT {t['id']}, originator_id, originator_version, topic, state "
        f"FROM {t['events']} ORDER BY {t['id']} LIMIT 2 OFFSET 20"
    )
    (a, *first), (b, *second) = rows
    for rowid in (a, b):
        run(f"DELETE FROM {t['events']} WHERE {t['id']} = %s", (rowid,))
    for rowid, values in ((a, second), (b, first)):
        run(
            f"INSERT INTO {t['events']} "
            f"({t['id']}, originator_id, originator_version, topic, state) "
            "VALUES (%s, %s, %s, %s, %s)",
            (rowid, *values),
        )


EDITS: dict[str, Callable[[Callable[..., list[Any]], dict[str, str]], None]] = {
    "altered": lambda run, t: edit_a_state(run, t, 5),
    "deleted": _delete("min({id}) + 7"),
    "tail deleted": _delete("max({id})"),
    "swapped": _swap,
}


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_any_edit_of_the_records_a_head_covers_is_found_without_any_secret(
    durable_url: str, edit: str
) -> None:
    head, _ = a_store(durable_url)
    with database(durable_url) as (run, tables):
        EDITS[edit](run, tables)
    result = verified(durable_url, head)
    assert not result.ok
    assert {p.kind for p in result.problems} & {"published", "deleted"}, result.problems


def test_a_rollback_to_an_older_copy_is_found(sqlite_url: str, tmp_path: Any) -> None:
    import shutil

    with flows.open_flow(sqlite_url) as flow:
        p = flows.rating(flow)
    path = sqlite_url.removeprefix("sqlite:///")
    shutil.copy(path, tmp_path / "older.db")
    with CivicFlow.open(sqlite_url, clock=FakeClock()) as flow:
        flows.rate_all(flow, p, ["dissatisfied"] * 3)
        head = flow.tree_head(SIGNER)
    shutil.copy(tmp_path / "older.db", path)  # the operator restores yesterday's copy
    result = verified(sqlite_url, head)
    assert [p.kind for p in result.problems] == ["deleted"]
    assert "rolled back" in result.problems[0].detail


def test_an_edited_snapshot_is_found_by_replaying_its_events_without_any_key(
    durable_url: str,
) -> None:
    head, _ = a_store(durable_url)
    with database(durable_url) as (run, tables):
        rows = run(f"SELECT originator_id, originator_version, state FROM {tables['snapshots']}")
        assert rows, "no snapshot was taken; the test proves nothing"
        found = False
        for originator_id, version, state in rows:
            text = bytes(state)
            if b'"0.8"' in text:
                run(
                    f"UPDATE {tables['snapshots']} SET state = %s "
                    "WHERE originator_id = %s AND originator_version = %s",
                    (text.replace(b'"0.8"', b'"0.5"'), originator_id, version),
                )
                found = True
        assert found, "no snapshot holds the threshold; the test proves nothing"
    result = verified(durable_url, head)
    kinds = {(p.kind, p.aggregate) for p in result.problems}
    assert ("altered", "Directory") in kinds, result.problems
    assert any("replay" in p.detail for p in result.problems)


def test_what_a_clean_result_proves_is_said_plainly() -> None:
    with flows.open_flow() as flow:
        flows.rating(flow)
        bare = flow.verify()
        assert bare.ok
        assert "proves nothing beyond" in bare.assurance
        head = flow.tree_head(SIGNER)
        flows.asked(flow)
        partly = flow.verify(heads=[head], log_key=SIGNER.verifier)
        assert partly.ok
        assert partly.proven == partly.events - 1
        assert "only by their unkeyed digests" in partly.assurance
        with pytest.raises(InvalidInputError, match="log_key"):
            flow.verify(heads=[head])
        with pytest.raises(SignatureError):
            flow.verify(heads=[head], log_key=Signer.generate(ORIGIN).verifier)


def test_a_key_holder_who_reseals_an_edit_passes_the_seals_but_not_the_head(
    durable_url: str,
) -> None:
    from civicflow.domain import integrity

    secret = "the district office's key"  # noqa: S105  # a test key
    with flows.open_flow(durable_url, env={"AUDIT_KEY": secret}) as flow:
        p = flows.rating(flow)
        flows.rate_all(flow, p, ["satisfied"] * 6)
        head = flow.tree_head(SIGNER)
    key = integrity.audit_key(secret)
    assert key is not None
    with database(durable_url) as (run, t):
        rows = run(
            f"SELECT {t['id']}, originator_id, originator_version, topic, state "
            f"FROM {t['events']} WHERE topic LIKE %s ORDER BY {t['id']}",
            ("%Rated",),
        )
        rowid, _, version, topic, state = rows[-1]  # the latest rating
        data = orjson.loads(bytes(state))
        data.pop(integrity.SEAL_FIELD)
        data["level"] = "dissatisfied"
        record = integrity.digest(topic, p.id, version, data)
        data[integrity.SEAL_FIELD] = integrity.seal(key, record)
        run(
            f"UPDATE {t['events']} SET state = %s WHERE {t['id']} = %s", (orjson.dumps(data), rowid)
        )
    with CivicFlow.open(durable_url, env={"AUDIT_KEY": secret}) as flow:
        assert flow.verify().ok  # the seals cannot tell: the key holder made them
        result = flow.verify(heads=[head], log_key=SIGNER.verifier)
    assert [p.kind for p in result.problems] == ["published"]


def test_the_log_refuses_to_sign_a_head_that_forks_from_the_last_one_published(
    durable_url: str, tmp_path: Any
) -> None:
    """An edit below the published head: the next head would be a second history."""
    keys = tmp_path / "keys"
    paths = generate_keys(keys, SIGNER.name)
    feed = keys / "feed.jsonl"
    signer = load_signer(paths.signing_key)

    def policy() -> Transparency:
        return Transparency(
            signer, append_to_file(feed), published=last_in_feed(feed, signer.verifier)
        )

    with flows.open_flow(durable_url, transparency=policy()) as flow:
        p = flows.rating(flow)
        flows.rate_all(flow, p, ["satisfied", "dissatisfied"])
        flow.publish_head()
    published = feed.read_bytes()
    with database(durable_url) as (run, tables):
        edit_a_state(run, tables, 3)
    with CivicFlow.open(durable_url, clock=FakeClock(), transparency=policy()) as flow:
        with pytest.raises(ForkRefusedError, match="no longer give the last published head"):
            flow.publish_head()
        # A command still succeeds; the head it would bring is refused, and said so.
        flow.rate(p.id, resident=flows.RESIDENTS[5], level="satisfied")
    assert feed.read_bytes() == published  # nothing signed, nothing appended


def test_a_rolled_back_store_is_refused_a_head_too(sqlite_url: str, tmp_path: Any) -> None:
    import shutil

    keys = tmp_path / "keys"
    paths = generate_keys(keys, SIGNER.name)
    feed = keys / "feed.jsonl"
    signer = load_signer(paths.signing_key)
    policy = Transparency(
        signer, append_to_file(feed), published=last_in_feed(feed, signer.verifier)
    )
    with flows.open_flow(sqlite_url) as flow:
        p = flows.rating(flow)
    path = sqlite_url.removeprefix("sqlite:///")
    shutil.copy(path, tmp_path / "older.db")
    with CivicFlow.open(sqlite_url, clock=FakeClock(), transparency=policy) as flow:
        flows.rate_all(flow, p, ["dissatisfied"] * 3)
        flow.publish_head()
    shutil.copy(tmp_path / "older.db", path)  # the operator restores yesterday's copy
    again = Transparency(
        signer, append_to_file(feed), published=last_in_feed(feed, signer.verifier)
    )
    with (
        CivicFlow.open(sqlite_url, clock=FakeClock(), transparency=again) as flow,
        pytest.raises(ForkRefusedError, match="rolled back") as refused,
    ):
        flow.publish_head()
    assert refused.value.published > refused.value.size
