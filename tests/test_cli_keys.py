"""Protected by default: the demo and every store the command makes get keys outside the
database, and publish signed heads to a feed anyone checks with the public key alone."""

from __future__ import annotations

import itertools
import json
import re
import stat
from pathlib import Path

import pytest

from civicflow import CivicFlow, load_verifier, read_feed
from tests.test_cli import (
    Store,
    _clean_environment,
    civicflow,
    copy_of,
    ok,
    process,
    refusal,
    six_step_store,
    stored_events,
)

KEY_FILES = {"signing.key": 0o600, "seal.key": 0o600, "signing.pub": 0o644}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    _clean_environment(monkeypatch)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """The store of test_cli: one need asked to closed, each step a command."""
    return six_step_store(tmp_path_factory)


def modes(folder: Path) -> dict[str, int]:
    return {p.name: stat.S_IMODE(p.stat().st_mode) for p in folder.iterdir() if p.name in KEY_FILES}


def keys_of(folder: Path) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in KEY_FILES}


def test_the_demo_makes_owner_only_keys_and_prints_where_the_public_key_and_feed_are(
    tmp_path: Path,
) -> None:
    db = tmp_path / "d.db"
    ran = process(f"demo --compounds 2 --db sqlite:///{db}", cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    folder = Path(f"{db}.keys")
    assert modes(folder) == KEY_FILES
    assert (
        f"New keys made in {folder}: public key {folder}/signing.pub (publish it), "
        f"feed of signed heads {folder}/feed.jsonl\n" in ran.stdout
    )
    [head] = read_feed(folder / "feed.jsonl", load_verifier(folder / "signing.pub"))
    assert head.size == stored_events(db)  # one head over the whole district
    assert head.origin == "civicflow.local/d.db"
    assert re.search(rf"\nLog head: {head.size} records, root \S+= \(", ran.stdout)
    feed = f"--log-key {folder}/signing.pub --feed {folder}/feed.jsonl"
    verified = ok(f"verify {feed} --db sqlite:///{db}").lines[0]  # sealed with seal.key
    assert verified == f"OK: {head.size} records, 0 checkpoints, 1 published head, keyed"


def test_a_second_demo_on_the_same_path_reuses_the_keys_and_starts_a_new_feed(
    tmp_path: Path,
) -> None:
    db = tmp_path / "d.db"
    first = process(f"demo --compounds 1 --json --db sqlite:///{db}", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    folder = Path(f"{db}.keys")
    summary = json.loads(first.stdout)
    assert (summary["public_key"], summary["feed"]) == (
        str(folder / "signing.pub"),
        str(folder / "feed.jsonl"),
    )
    assert "New keys made in" in first.stderr  # stdout stays JSON
    made = keys_of(folder)
    db.unlink()  # a new store at the same path: a new log under the same keys

    again = process(f"demo --compounds 1 --db sqlite:///{db}", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert keys_of(folder) == made
    assert f"Keys in {folder}: public key" in again.stdout
    [earlier] = folder.glob("feed-before-*.jsonl")  # the first log's heads, kept aside
    verifier = load_verifier(folder / "signing.pub")
    assert len(read_feed(earlier, verifier)) == 1
    [head] = read_feed(folder / "feed.jsonl", verifier)
    assert head.size == stored_events(db)


def test_the_publish_step_appended_a_head_the_public_key_checks(store: Store) -> None:
    folder = Path(f"{store.path}.keys")
    assert modes(folder) == KEY_FILES
    heads = read_feed(folder / "feed.jsonl", load_verifier(folder / "signing.pub"))
    published = [version for step, _, version in store.steps if step == "publish"]
    assert published  # the six steps published once
    assert heads
    assert all(later.size > earlier.size for earlier, later in itertools.pairwise(heads))
    assert heads[-1].size <= stored_events(store.path)


def test_a_checkpoint_prints_the_head_it_appended_to_the_feed(store: Store, tmp_path: Path) -> None:
    db = copy_of(store, tmp_path)
    folder = tmp_path / "copy.db.keys"
    verifier = load_verifier(folder / "signing.pub")
    before = read_feed(folder / "feed.jsonl", verifier)
    printed = ok("checkpoint --actor office", db).lines
    after = read_feed(folder / "feed.jsonl", verifier)
    assert after[:-1] == before
    assert after[-1].size == stored_events(tmp_path / "copy.db")
    assert printed[-1].startswith(f"Log head: {after[-1].size} records, root ")
    assert printed[-1].endswith(f"; appended to {folder}/feed.jsonl")


def test_a_store_made_without_keys_stays_without_them(store: Store, tmp_path: Path) -> None:
    (tmp_path / "plain.db").write_bytes(store.path.read_bytes())  # no plain.db.keys beside it
    ran = ok("checkpoint --actor office", f"sqlite:///{tmp_path / 'plain.db'}")
    assert "Log head" not in ran.out
    assert not (tmp_path / "plain.db.keys").exists()  # an existing store: no keys made


def test_keys_given_by_option_or_environment_for_any_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    by = "--actor office --at 2025-01-06T09:00:00+08:00"
    folder = tmp_path / "vault"
    monkeypatch.chdir(tmp_path)
    ran = ok(f"area add d --kind district --name D {by} --keys {folder}", "sqlite:///a.db")
    assert f"New keys made in {folder}: public key {folder}/signing.pub" in ran.out
    assert modes(folder) == KEY_FILES
    monkeypatch.setenv("CIVICFLOW_KEYS", str(folder))
    ran = ok("checkpoint --actor office", "sqlite:///a.db")
    assert ran.lines[-1].endswith(f"appended to {folder}/feed.jsonl")
    assert not Path("a.db.keys").exists()


def test_an_audit_key_in_the_environment_that_differs_from_the_seal_key_is_refused(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = copy_of(store, tmp_path)
    monkeypatch.setenv("CIVICFLOW_AUDIT_KEY", "another key")
    assert "two audit keys" in refusal(civicflow("checkpoint --actor office", db))


def test_a_resident_gets_a_receipt_and_checks_it_with_the_public_key_alone(
    tmp_path: Path,
) -> None:
    db = tmp_path / "d.db"
    assert process(f"demo --compounds 2 --db sqlite:///{db}", cwd=tmp_path).returncode == 0
    folder = Path(f"{db}.keys")
    with CivicFlow.open(f"sqlite:///{db}", create=False) as flow:
        proposal = next(
            n for n in flow.recorder.select_notifications(0, 10**6) if "Rated" in n.topic
        )
    receipt = tmp_path / "receipt.json"
    made = ok(f"receipt {proposal.originator_id} --out {receipt} --db sqlite:///{db}")
    assert made.out.startswith(f"receipt for {proposal.originator_id} version ")
    assert len(receipt.read_bytes()) < 2953  # a QR code holds it
    checked = ok(f"check-receipt {receipt} --log-key {folder / 'signing.pub'}")
    assert checked.out.startswith(f"OK: {proposal.originator_id} version ")
    heads = read_feed(folder / "feed.jsonl", load_verifier(folder / "signing.pub"))
    assert f"of {heads[-1].size} in the log" in checked.out  # under the head just published
    data = json.loads(receipt.read_text())
    data["version"] -= 1  # a receipt claiming another record
    receipt.write_text(json.dumps(data))
    refused = civicflow(f"check-receipt {receipt} --log-key {folder / 'signing.pub'}")
    assert (refused.code, refused.out.startswith("NOT PROVEN: ")) == (1, True)
    other = ok(f"receipt {proposal.originator_id} --version 1 --db sqlite:///{db}")
    assert json.loads(other.out)["version"] == 1


def test_an_import_into_a_new_store_gets_a_signing_key_and_publishes_its_head(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = copy_of(store, tmp_path)
    keys = tmp_path / "copy.db.keys"
    ok(f"export --out {tmp_path}/events.jsonl --signing-key {keys}/signing.key", source)
    # The records are sealed under the source's seal key: the import checks them with it.
    monkeypatch.setenv("CIVICFLOW_AUDIT_KEY", (keys / "seal.key").read_text().strip())
    lines = (tmp_path / "events.jsonl").read_text().splitlines(keepends=True)
    (tmp_path / "cut.jsonl").write_text("".join(lines[:-1]))
    target = tmp_path / "new.db"
    refusal(civicflow(f"import {tmp_path}/cut.jsonl", f"sqlite:///{target}"))
    assert not target.exists()
    assert not Path(f"{target}.keys").exists()  # a refused import writes nothing, keys included

    ran = ok(f"import {tmp_path}/events.jsonl", f"sqlite:///{target}")
    folder = Path(f"{target}.keys")
    count = stored_events(target)
    assert ran.lines[0] == f"{count} events imported"
    assert ran.lines[1] == (
        f"New keys made in {folder}: public key {folder}/signing.pub (publish it), "
        f"feed of signed heads {folder}/feed.jsonl"
    )
    assert ran.lines[2].startswith(f"Log head: {count} records, root ")
    # No seal key: a new one could not check the records sealed under the source's.
    assert modes(folder) == {"signing.key": 0o600, "signing.pub": 0o644}
    [head] = read_feed(folder / "feed.jsonl", load_verifier(folder / "signing.pub"))
    assert (head.origin, head.size) == ("civicflow.local/new.db", count)
    verified = ok("verify", f"sqlite:///{target}").lines[0]
    assert verified == f"OK: {count} records, 0 checkpoints, 1 published head, keyed"


def test_an_import_with_the_source_keys_keeps_their_feed_only_if_it_is_of_this_log(
    store: Store, tmp_path: Path
) -> None:
    source = copy_of(store, tmp_path)
    keys = tmp_path / "copy.db.keys"
    ok(f"export --out {tmp_path}/events.jsonl --signing-key {keys}/signing.key", source)
    published = (keys / "feed.jsonl").read_bytes()
    restored = tmp_path / "restored.db"
    ran = ok(f"import {tmp_path}/events.jsonl --keys {keys}", f"sqlite:///{restored}")
    assert ran.lines[1].startswith("Log head: ")  # keys there already: none made
    assert (keys / "feed.jsonl").read_bytes().startswith(published)  # the same log: kept
    assert not list(keys.glob("feed-before-*"))
    heads = len(published.splitlines()) + 1
    verified = ok(f"verify --keys {keys}", f"sqlite:///{restored}").lines[0]
    assert verified.endswith(f", {heads} published heads, keyed")

    ok("checkpoint --actor office", source)  # the source's log moves on, its feed with it
    # The earlier export is now a shorter log than the feed's last head: another log.
    other = tmp_path / "other.db"
    ok(f"import {tmp_path}/events.jsonl --keys {keys}", f"sqlite:///{other}")
    [aside] = keys.glob("feed-before-*.jsonl")
    assert aside.read_bytes().startswith(published)
    [head] = read_feed(keys / "feed.jsonl", load_verifier(keys / "signing.pub"))
    assert head.size == stored_events(other)


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("sqlite:///tmp/civic.db", "civicflow.local/civic.db"),
        ("postgresql://civic@db:5432/civic", "civicflow.local/civic"),
        ("postgresql://civic@db:5432/civic?schema=shanyang", "civicflow.local/civic/shanyang"),
        ("postgresql://civic@db/civic?schema=a%20b&sslmode=require", "civicflow.local/civic/a-b"),
    ],
)
def test_the_origin_names_the_postgresql_schema(url: str, origin: str) -> None:
    from civicflow.cli.protection import _origin

    assert _origin(url) == origin


def test_a_store_in_a_postgresql_schema_gets_an_origin_naming_it(
    postgres_url: str, tmp_path: Path
) -> None:
    add = "area add d --kind district --name D --actor office --at 2025-01-06T09:00:00+08:00"
    ok(f"{add} --keys {tmp_path}/a", postgres_url)
    schema = postgres_url.rsplit("=", 1)[1]
    made = load_verifier(tmp_path / "a" / "signing.pub")
    database = postgres_url.split("?", maxsplit=1)[0].rsplit("/", 1)[1]
    assert made.name == f"civicflow.local/{database}/{schema}"
