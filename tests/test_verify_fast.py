"""The fast verification reads the same records and finds the same problems as the careful one.

``verify`` checks most records inline from their bytes (a sealed record right
after its sound predecessor), and sends every other record through the careful
path that parses it and says what is wrong. These tests hold the two to each
other on stores edited at random, and the pieces the fast path stands on (raw
rows, the precomputed HMAC) to the libraries they replace.
"""

from __future__ import annotations

import hashlib
import hmac
import shutil
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from uuid import UUID

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from civicflow import CivicFlow
from civicflow.audit import verification
from civicflow.domain import integrity
from civicflow.storage import rawlog
from tests import flows

KEY = "a long random audit key for the fast path tests"
EDITS = (
    "flip",
    "reword",
    "unseal",
    "delete",
    "swap",
    "renumber",
    "space",
    "duplicate",
    "forge",
    "shout",
)


@given(key=st.binary(min_size=1, max_size=200), digest=st.text(max_size=80))
def test_the_sealer_is_hmac_sha256(key: bytes, digest: str) -> None:
    expected = hmac.new(key, digest.encode(), hashlib.sha256).hexdigest()
    sealer = integrity.Sealer(key)
    assert sealer.seal(digest) == expected
    assert sealer.verifies(digest, expected)
    assert sealer.verifies(digest, expected.encode())
    assert not sealer.verifies(digest, expected[:-1] + ("0" if expected[-1] != "0" else "1"))


def test_raw_rows_are_the_notifications(store_url: str) -> None:
    with flows.open_flow(store_url, env={"AUDIT_KEY": KEY}) as flow:
        p = flows.rating(flow)
        flows.rate_all(flow, p, ["satisfied", "dissatisfied"])
        notes = flow.recorder.select_notifications(start=1, limit=10_000)
        raw = [row for page in rawlog.rows(flow.recorder, page=7) for row in page]
        expected = [
            (n.id, str(n.originator_id), n.originator_version, n.topic, bytes(n.state))
            for n in notes
        ]
        assert raw == expected
        last = expected[-1]
        assert rawlog.find(flow.recorder, last[1], last[2]) == last
        assert rawlog.find(flow.recorder, last[1], last[2] + 1) is None
        assert list(rawlog.rows(flow.recorder, after=last[0])) == []


@pytest.fixture(scope="module")
def sealed_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fast") / "store.db"
    with flows.open_flow(f"sqlite:///{path}", env={"AUDIT_KEY": KEY}) as flow:
        for _ in range(2):
            p = flows.rating(flow)
            flows.rate_all(flow, p, ["satisfied", "dissatisfied", "basically_satisfied"])
        flow.checkpoint(actor="office")
        p = flows.rating(flow)
        flows.rate_all(flow, p, ["dissatisfied"] * 4)
    return path


def careful_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every record through the careful path, as before the fast path existed."""

    def one_by_one(scan: Any, page: Sequence[Any], plains: Sequence[Any]) -> None:
        for row, plain in zip(page, plains, strict=True):
            verification._check_record(scan, row, plain)

    monkeypatch.setattr(verification, "_check_page", one_by_one)


def problems_of(path: Path, key: str | None) -> list[dict[str, Any]]:
    env = {"AUDIT_KEY": key} if key else {}
    with CivicFlow.open(f"sqlite:///{path}", create=False, env=env) as flow:
        report = flow.verify()
    return [p.model_dump() for p in report.problems]


def edit(path: Path, kind: str, first: int, second: int) -> None:
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT rowid, state FROM stored_events ORDER BY rowid").fetchall()
        rowid, state = rows[first % len(rows)]
        other, other_state = rows[second % len(rows)]
        change = _changes(state, other_state)[kind]
        if kind == "forge":
            change = _forged(db, rowid, state)
        if kind == "delete":
            db.execute("DELETE FROM stored_events WHERE rowid=?", (rowid,))
        elif kind == "renumber":
            db.execute(
                "UPDATE OR IGNORE stored_events SET originator_version=originator_version+7 "
                "WHERE rowid=?",
                (rowid,),
            )
        elif kind == "duplicate":
            db.execute(
                "INSERT OR IGNORE INTO stored_events "
                "SELECT originator_id, originator_version+1000, "
                "topic, state FROM stored_events WHERE rowid=?",
                (rowid,),
            )
        elif kind == "shout":  # the same id in capitals: the application no longer finds it
            db.execute(
                "UPDATE stored_events SET originator_id=upper(originator_id) WHERE rowid=?",
                (rowid,),
            )
        elif kind == "swap":
            db.execute("UPDATE stored_events SET state=? WHERE rowid=?", (other_state, rowid))
            db.execute("UPDATE stored_events SET state=? WHERE rowid=?", (state, other))
        else:
            db.execute("UPDATE stored_events SET state=? WHERE rowid=?", (change, rowid))


def _forged(db: sqlite3.Connection, rowid: int, state: bytes) -> bytes:
    """The record rewritten by an insider who holds the audit key: sealed anew."""
    aggregate_id, version, topic = db.execute(
        "SELECT originator_id, originator_version, topic FROM stored_events WHERE rowid=?",
        (rowid,),
    ).fetchone()
    try:
        fields = orjson.loads(state)
    except orjson.JSONDecodeError:
        return state  # an earlier edit left it unreadable: nothing an insider can reseal
    mac = fields.pop(integrity.SEAL_FIELD, None)
    fields["actor"] = "forger"
    if mac is not None:
        digest = integrity.digest(topic, str(UUID(aggregate_id)), version, fields)
        fields[integrity.SEAL_FIELD] = integrity.seal(KEY.encode(), digest)
    return orjson.dumps(fields)


def _changes(state: bytes, other: bytes) -> dict[str, bytes]:
    middle = len(state) // 2
    return {
        "flip": state[:middle] + bytes([state[middle] ^ 1]) + state[middle + 1 :],
        "reword": state.replace(b'"satisfied"', b'"dissatisfied"').replace(
            b'"office"', b'"offic3"'
        ),
        "unseal": state[: state.rfind(b',"_mac"')] + b"}" if b'"_mac"' in state else state,
        "space": state.replace(b'":', b'": ', 1),
        "delete": state,
        "renumber": state,
        "duplicate": state,
        "forge": state,
        "shout": state,
        "swap": other,
    }


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    edits=st.lists(
        st.tuples(st.sampled_from(EDITS), st.integers(0, 10_000), st.integers(0, 10_000)),
        min_size=0,
        max_size=3,
    ),
    keyed=st.booleans(),
)
def test_fast_and_careful_verification_agree(
    sealed_store: Path,
    tmp_path_factory: pytest.TempPathFactory,
    edits: list[tuple[str, int, int]],
    keyed: bool,
) -> None:
    path = tmp_path_factory.mktemp("edited") / "store.db"
    shutil.copy(sealed_store, path)
    for kind, first, second in edits:
        edit(path, kind, first, second)
    key = KEY if keyed else None
    fast = problems_of(path, key)
    with pytest.MonkeyPatch.context() as patch:
        careful_only(patch)
        careful = problems_of(path, key)
    assert fast == careful
    if not edits:
        assert fast == []
    if keyed and any(kind == "shout" for kind, _, _ in edits):
        assert fast, "a record hidden from the application under another spelling of its id"


def test_a_sealed_store_read_without_its_key_is_checked_by_its_chains(
    sealed_store: Path, tmp_path: Path
) -> None:
    path = tmp_path / "store.db"
    shutil.copy(sealed_store, path)
    with CivicFlow.open(f"sqlite:///{path}", create=False) as flow:
        report = flow.verify()
    # Not every record "altered": seals cannot be checked without the key, and say so.
    assert report.ok
    assert not report.keyed
    assert "no audit key" in report.assurance
    edit(path, "reword", 5, 0)
    assert problems_of(path, None), "a reworded record breaks its successor's link"
