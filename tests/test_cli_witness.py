"""From the shell: the log publishes heads, the inspection office co-signs those that extend
the last it co-signed, and ``verify --witness-key`` counts only heads the office co-signed."""

from __future__ import annotations

import contextlib
import json
import shutil
import sqlite3
import stat
from pathlib import Path

import pytest

from civicflow import load_verifier, open_checkpoint, read_feed
from civicflow.audit.errors import SignatureError, WitnessError
from civicflow.cli.errortext import describe
from civicflow.cli.i18n import use
from tests.test_cli import (
    Store,
    _clean_environment,
    civicflow,
    copy_of,
    ok,
    refusal,
    six_step_store,
)

WITNESS = "inspection.civicflow.example/district-1"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    _clean_environment(monkeypatch)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """The store of test_cli: one need asked to closed, each step a command."""
    return six_step_store(tmp_path_factory)


def last_note(feed: Path, into: Path) -> tuple[Path, int]:
    """The feed's last note, written to a file as the log hands it out; and its size."""
    entry = json.loads(feed.read_text(encoding="utf-8").splitlines()[-1])
    into.write_text(entry["note"], encoding="utf-8")
    return into, int(entry["size"])


def backup(source: Path, target: Path) -> str:
    """A copy of a SQLite store and its keys, as an operator's backup would be."""
    with (
        contextlib.closing(sqlite3.connect(source)) as db,
        contextlib.closing(sqlite3.connect(target)) as copy,
    ):
        db.backup(copy)
    shutil.copytree(f"{source}.keys", f"{target}.keys")
    return f"sqlite:///{target}"


def test_witness_init_makes_its_keys_and_refuses_to_make_them_twice(tmp_path: Path) -> None:
    office = tmp_path / "office"
    made = ok(f"witness init --dir {office} --name {WITNESS}").out
    assert made.startswith(f"witness {WITNESS}+")
    assert made.endswith(f": public key {office}/witness.pub (publish it)\n")
    assert stat.S_IMODE((office / "witness.key").stat().st_mode) == 0o600
    assert "never overwritten" in refusal(
        civicflow(f"witness init --dir {office} --name {WITNESS}")
    )


def test_the_audit_errors_speak_chinese(tmp_path: Path) -> None:
    office = tmp_path / "office"
    ok(f"witness init --dir {office} --name {WITNESS}")
    said = refusal(civicflow(f"--lang zh witness init --dir {office} --name {WITNESS}"))
    assert said == f"civicflow: 密钥文件 {office}/witness.key：已存在；密钥文件从不覆盖"
    use("zh")
    try:
        refused = describe(WitnessError("a rollback", "example.org/log"))
        unsigned = describe(SignatureError("log+1a2b3c4d", "log", "missing"))
    finally:
        use("en")
    assert refused == "见证方拒绝 example.org/log 的树头：a rollback；未联署任何内容"
    assert unsigned == "该注记没有日志密钥 log+1a2b3c4d 的签名，不予信任"


def test_heads_cosigned_with_proofs_make_verify_pass_with_the_witness_key(
    store: Store, tmp_path: Path
) -> None:
    db = copy_of(store, tmp_path)
    keys = tmp_path / "copy.db.keys"
    feed, log_key, office = keys / "feed.jsonl", keys / "signing.pub", tmp_path / "office"
    ok(f"witness init --dir {office} --name {WITNESS}")
    cosign = f"witness cosign --dir {office} --log-key {log_key}"
    witness_key = f"--witness-key {office}/witness.pub"
    published = len(read_feed(feed, load_verifier(log_key)))

    # The first head: nothing to extend yet. The co-signed note goes to stdout and the feed.
    first, size = last_note(feed, tmp_path / "first.note")
    cosigned = ok(f"{cosign} --head {first} --append {feed}").out
    witnessed = open_checkpoint(
        cosigned, load_verifier(log_key), required_witnesses=[load_verifier(office / "witness.pub")]
    )
    assert witnessed.size == size
    verified = ok(f"verify {witness_key}", db).lines
    assert verified[0].endswith(", 1 published head, keyed")
    assert verified[-1] == (
        f"  {published} head of the feed lacks a --witness-key's co-signature: not counted"
    )

    # The log grows; its operator prints the proof, the office checks it, then co-signs.
    ok("checkpoint --actor office", db)
    second, grown = last_note(feed, tmp_path / "second.note")
    proof = tmp_path / "proof.txt"
    proof.write_text(ok(f"consistency --from {size} --to {grown}", db).out)
    assert proof.read_text().startswith(f"old {size}\n")
    ok(f"{cosign} --head {second} --proof {proof} --append {feed}")

    # The office holds the full store: it may compute the proof from it instead.
    ok("checkpoint --actor office", db)
    third, _ = last_note(feed, tmp_path / "third.note")
    ok(f"{cosign} --head {third} --db {db} --append {feed}")
    assert ok(f"verify {witness_key}", db).lines[0].endswith(", 3 published heads, keyed")
    assert ok("verify", db).lines[0].endswith(f", {published + 5} published heads, keyed")


def test_a_verify_requiring_a_witness_that_cosigned_nothing_proves_nothing(
    store: Store, tmp_path: Path
) -> None:
    db = copy_of(store, tmp_path)
    office = tmp_path / "office"
    ok(f"witness init --dir {office} --name {WITNESS}")
    ran = ok(f"verify --witness-key {office}/witness.pub", db, code=3)
    assert ran.lines[0].startswith("UNPROVEN: ")
    assert ", 0 published heads, " in ran.lines[0]


def test_a_rolled_back_or_forked_log_makes_the_witness_refuse(store: Store, tmp_path: Path) -> None:
    db = copy_of(store, tmp_path)
    keys = tmp_path / "copy.db.keys"
    log_key, office = keys / "signing.pub", tmp_path / "office"
    ok(f"witness init --dir {office} --name {WITNESS}")
    cosign = f"witness cosign --dir {office} --log-key {log_key}"
    older, _ = last_note(keys / "feed.jsonl", tmp_path / "older.note")
    ok(f"{cosign} --head {older}")
    forked = backup(tmp_path / "copy.db", tmp_path / "fork.db")  # taken now, restored later

    ok("checkpoint --actor office", db)
    head, size = last_note(keys / "feed.jsonl", tmp_path / "head.note")
    ok(f"{cosign} --head {head} --db {db}")
    state = (office / "state.json").read_bytes()

    # The operator restores the backup and writes another history on top of it.
    assert "a rollback" in refusal(civicflow(f"{cosign} --head {older} --db {forked}"))
    ok("checkpoint --actor someone-else --at 2025-06-01T09:00:00+08:00", forked)
    same, same_size = last_note(tmp_path / "fork.db.keys" / "feed.jsonl", tmp_path / "same.note")
    assert same_size == size
    assert "another root: a fork" in refusal(civicflow(f"{cosign} --head {same} --db {forked}"))
    ok("checkpoint --actor someone-else", forked)
    fork, _ = last_note(tmp_path / "fork.db.keys" / "feed.jsonl", tmp_path / "fork.note")
    refused = refusal(civicflow(f"{cosign} --head {fork} --db {forked}"))
    assert refused.endswith("the log was rewritten, or forked; nothing was co-signed")
    assert (office / "state.json").read_bytes() == state


def test_a_head_beyond_the_store_or_a_proof_of_another_size_is_refused(
    store: Store, tmp_path: Path
) -> None:
    db = copy_of(store, tmp_path)
    keys = tmp_path / "copy.db.keys"
    log_key, office = keys / "signing.pub", tmp_path / "office"
    ok(f"witness init --dir {office} --name {WITNESS}")
    cosign = f"witness cosign --dir {office} --log-key {log_key}"
    older, size = last_note(keys / "feed.jsonl", tmp_path / "older.note")
    ok(f"{cosign} --head {older}")
    ok("checkpoint --actor office", db)
    head, _ = last_note(keys / "feed.jsonl", tmp_path / "head.note")
    proof = tmp_path / "proof.txt"
    proof.write_text(ok(f"consistency --from {size - 1}", db).out)
    assert "the proof is from size" in refusal(civicflow(f"{cosign} --head {head} --proof {proof}"))
    assert "must be at most" in refusal(civicflow(f"consistency --from {size} --to 10000", db))
