"""Keys outside the database, and the public feed of signed tree heads."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from civicflow.audit import keys
from civicflow.audit.errors import FeedError, InvalidKeyError, KeyFileError
from civicflow.audit.feed import FeedWriter, append_to_file, feed_line, read_feed
from civicflow.audit.notes import TreeHead, cosign, sign_checkpoint
from civicflow.audit.signing import Signer
from civicflow.errors import ConfigurationError

ORIGIN = "civicflow.example/district-1"
LOG = Signer(ORIGIN, bytes(range(32)))
OFFICE = Signer("inspection.civicflow.example/district-1", bytes(range(32, 64)))


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_generated_keys_are_owner_only_but_the_verifier_key_is_public(tmp_path: Path) -> None:
    paths = keys.generate_keys(tmp_path / "keys", ORIGIN)
    assert paths.seal_key is not None
    assert (mode(paths.signing_key), mode(paths.verifier_key), mode(paths.seal_key)) == (
        0o600,
        0o644,
        0o600,
    )
    signer = keys.load_signer(paths.signing_key)
    assert signer.name == ORIGIN
    assert keys.load_verifier(paths.verifier_key) == signer.verifier
    assert len(keys.load_seal_key(paths.seal_key)) >= 43  # 32 random bytes, url-safe base64


def test_keys_can_be_generated_without_a_seal_key(tmp_path: Path) -> None:
    paths = keys.generate_keys(tmp_path, ORIGIN, seal=False)
    assert paths.seal_key is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["signing.key", "signing.pub"]


def test_existing_key_files_are_never_overwritten(tmp_path: Path) -> None:
    first = keys.generate_keys(tmp_path, ORIGIN)
    kept = first.signing_key.read_bytes()
    with pytest.raises(KeyFileError, match="already exists") as refused:
        keys.generate_keys(tmp_path, ORIGIN)
    assert refused.value.path == str(first.signing_key)
    with pytest.raises(KeyFileError):
        keys.write_verifier_key(first.verifier_key, LOG.verifier)
    assert first.signing_key.read_bytes() == kept


@given(st.integers(0o400, 0o777))
def test_a_key_file_open_to_group_or_others_is_refused(
    tmp_path_factory: pytest.TempPathFactory, bits: int
) -> None:
    path = tmp_path_factory.mktemp("keys") / "signing.key"
    keys.write_signing_key(path, LOG)
    path.chmod(bits)
    if bits & 0o077:
        with pytest.raises(KeyFileError, match="group or others") as refused:
            keys.load_signer(path)
        assert refused.value.path == str(path)
    else:
        assert keys.load_signer(path).key_string() == LOG.key_string()


def test_a_missing_or_unreadable_key_file_is_a_key_file_error(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="cannot be opened"):
        keys.load_signer(tmp_path / "nowhere.key")
    with pytest.raises(KeyFileError, match="not a regular file"):
        keys.read_secret(tmp_path)
    with pytest.raises(KeyFileError, match="cannot be read"):
        keys.load_verifier(tmp_path / "nowhere.pub")
    garbage = tmp_path / "garbage.key"
    keys.write_secret(garbage, "")
    garbage.write_bytes(b"\xff\xfe")
    with pytest.raises(KeyFileError, match="not a text key file"):
        keys.read_secret(garbage)


def test_the_signer_can_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {keys.SIGNING_KEY_VARIABLE: LOG.key_string()}
    assert keys.load_signer(env=env).verifier == LOG.verifier
    monkeypatch.setenv(keys.SIGNING_KEY_VARIABLE, OFFICE.key_string() + "\n")
    assert keys.load_signer().verifier == OFFICE.verifier
    monkeypatch.delenv(keys.SIGNING_KEY_VARIABLE)
    with pytest.raises(ConfigurationError, match=keys.SIGNING_KEY_VARIABLE):
        keys.load_signer()


def test_a_malformed_key_in_the_environment_is_refused_without_repeating_it() -> None:
    secret = LOG.key_string().rsplit("+", 1)[1]
    wrong = LOG.key_string().replace("PRIVATE+KEY", "PRIVATE+KYE")
    with pytest.raises(InvalidKeyError) as refused:
        keys.load_signer(env={keys.SIGNING_KEY_VARIABLE: wrong})
    assert secret not in str(refused.value)


@pytest.mark.parametrize("origin", ["", "has space", "a+b", "tab\there"])
def test_an_origin_that_cannot_name_a_key_is_refused(tmp_path: Path, origin: str) -> None:
    with pytest.raises(InvalidKeyError):
        keys.generate_keys(tmp_path, origin)
    assert list(tmp_path.iterdir()) == []


def head(size: int, fill: int = 0) -> str:
    return sign_checkpoint(TreeHead(ORIGIN, size, bytes([fill]) * 32), LOG)


def test_the_feed_is_appended_to_and_read_back_verified(tmp_path: Path) -> None:
    path = tmp_path / "heads.jsonl"
    write: FeedWriter = append_to_file(path)
    seen: list[bytes] = []
    for size in (0, 3, 3, 10):
        write(head(size, fill=size))
        assert path.read_bytes().startswith(seen[-1] if seen else b"")  # never rewritten
        seen.append(path.read_bytes())
    heads = read_feed(path, LOG.verifier)
    assert [h.size for h in heads] == [0, 3, 3, 10]
    entry = json.loads(path.read_text(encoding="utf-8").splitlines()[-1])
    assert (entry["origin"], entry["size"], entry["note"]) == (ORIGIN, 10, head(10, 10))
    assert mode(path) & 0o644 == 0o644


def test_any_callable_taking_the_note_is_a_feed_writer() -> None:
    published: list[str] = []
    writer: FeedWriter = published.append
    writer(head(1))
    assert published == [head(1)]


def test_a_feed_requires_the_witnesses_asked_for(tmp_path: Path) -> None:
    path = tmp_path / "heads.jsonl"
    append_to_file(path)(cosign(head(1), OFFICE, LOG.verifier))
    append_to_file(path)(head(2))
    assert len(read_feed(path, LOG.verifier)) == 2
    with pytest.raises(FeedError, match="witness") as refused:
        read_feed(path, LOG.verifier, required_witnesses=[OFFICE.verifier])
    assert refused.value.line == 2


def write_lines(path: Path, notes: list[str]) -> Path:
    path.write_text("".join(feed_line(note) for note in notes), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("notes", "reason"),
    [
        ([head(5), head(3)], "went down"),
        ([head(3, fill=1), head(3, fill=2)], "fork"),
        ([head(1), sign_checkpoint(TreeHead(ORIGIN, 2, bytes(32)), OFFICE)], "log key"),
    ],
)
def test_a_feed_out_of_order_forked_or_not_signed_by_the_log_is_refused(
    tmp_path: Path, notes: list[str], reason: str
) -> None:
    with pytest.raises(FeedError, match=reason) as refused:
        read_feed(write_lines(tmp_path / "heads.jsonl", notes), LOG.verifier)
    assert refused.value.line == 2


@given(st.permutations([0, 1, 2, 5, 8]))
def test_a_reordered_feed_is_refused(
    tmp_path_factory: pytest.TempPathFactory, order: list[int]
) -> None:
    path = write_lines(tmp_path_factory.mktemp("feed") / "heads.jsonl", [head(n) for n in order])
    if order == sorted(order):
        assert [h.size for h in read_feed(path, LOG.verifier)] == order
    else:
        with pytest.raises(FeedError, match="went down"):
            read_feed(path, LOG.verifier)


@pytest.mark.parametrize(
    "line",
    [
        b"not json\n",
        b'{"size": 1}\n',
        b'["a note"]\n',
        feed_line(head(1)).encode()[:-1],  # a torn last line
        feed_line(head(1)).replace('"size": 1', '"size": 2').encode(),
        feed_line(head(1)).replace("district-1 ", "district-1  ").encode(),
    ],
)
def test_a_damaged_line_of_the_feed_is_refused(tmp_path: Path, line: bytes) -> None:
    path = tmp_path / "heads.jsonl"
    path.write_bytes(feed_line(head(0)).encode() + line)
    with pytest.raises(FeedError) as refused:
        read_feed(path, LOG.verifier)
    assert refused.value.line == 2


def test_the_feed_file_is_synced_as_it_grows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[int] = []
    real = os.fsync

    def fsync(descriptor: int) -> None:
        synced.append(descriptor)
        real(descriptor)

    monkeypatch.setattr(os, "fsync", fsync)
    write = append_to_file(tmp_path / "heads.jsonl")
    write(head(1))
    write(head(2))
    assert len(synced) == 3  # each line, and the directory once when the file was created


def test_a_feed_that_cannot_be_read_or_written_is_a_feed_error(tmp_path: Path) -> None:
    with pytest.raises(FeedError, match="cannot be read") as refused:
        read_feed(tmp_path / "none.jsonl", LOG.verifier)
    assert refused.value.line == 0
    with pytest.raises(FeedError, match="cannot be appended to"):
        append_to_file(tmp_path / "no-such-folder" / "heads.jsonl")(head(1))


@pytest.mark.parametrize("extra", [b"\r", b" ", b"\xef\xbb\xbf"])
def test_a_byte_added_between_lines_of_the_feed_is_refused(tmp_path: Path, extra: bytes) -> None:
    path = tmp_path / "heads.jsonl"
    path.write_bytes(feed_line(head(0)).encode() + extra + feed_line(head(1)).encode())
    with pytest.raises(FeedError) as refused:
        read_feed(path, LOG.verifier)
    assert refused.value.line == 2


def test_a_key_file_that_cannot_be_created_is_a_key_file_error(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="cannot be created"):
        keys.write_secret(tmp_path / "no-such-folder" / "seal.key", "secret")
