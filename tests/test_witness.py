"""A witness co-signs a head only when it extends the last head it co-signed.

Rollbacks, forks, a smaller size and another key for a known log are refused with
``WitnessError``, and a refusal leaves the witness's state exactly as it was.
"""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from civicflow import (
    FeedError,
    Proof,
    Signer,
    TreeHead,
    Witness,
    WitnessError,
    append_to_file,
    init_witness,
    open_checkpoint,
    read_witnessed,
    sign_checkpoint,
)
from civicflow.audit.errors import KeyFileError, MalformedNoteError, SignatureError
from civicflow.audit.merkle import MerkleTree, leaf_hash

ORIGIN = "civicflow.example/district-1"
LOG = Signer(ORIGIN, bytes(range(32)))
IMPOSTOR = Signer(ORIGIN, bytes(range(1, 33)))  # the same origin, another key
OFFICE_SEED = bytes(range(32, 64))


def tree(count: int, changed: int | None = None) -> MerkleTree:
    """A log of ``count`` records; with ``changed``, that record differs (a fork)."""
    return MerkleTree(
        leaf_hash(f"record {i}{' (rewritten)' if i == changed else ''}".encode())
        for i in range(count)
    )


def head(log: MerkleTree, size: int, signer: Signer = LOG) -> str:
    return sign_checkpoint(TreeHead(ORIGIN, size, log.root(size)), signer)


def proof(log: MerkleTree, old: int, new: int) -> Proof:
    return Proof(old, tuple(log.consistency_proof(old, new)))


def state_of(folder: Path) -> bytes | None:
    path = folder / "state.json"
    return path.read_bytes() if path.exists() else None


@pytest.fixture
def witness(tmp_path: Path) -> Witness:
    init_witness(tmp_path / "office", "inspection.civicflow.example/district-1")
    return Witness(tmp_path / "office")


def test_init_makes_an_owner_only_key_and_a_public_key_and_never_overwrites(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "office"
    verifier = init_witness(folder, "inspection.example/d1")
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in folder.iterdir()}
    assert modes == {"witness.key": 0o600, "witness.pub": 0o644}
    assert (folder / "witness.pub").read_text().strip() == verifier.key_string()
    made = (folder / "witness.key").read_bytes()
    with pytest.raises(KeyFileError, match="never overwritten"):
        init_witness(folder, "inspection.example/d1")
    assert (folder / "witness.key").read_bytes() == made


def test_the_first_head_is_taken_and_a_later_one_needs_a_proof_that_it_extends_it(
    witness: Witness,
) -> None:
    log = tree(40)
    first = witness.cosign(head(log, 10), LOG.verifier)
    assert open_checkpoint(first, LOG.verifier, required_witnesses=[witness.verifier]).size == 10
    with pytest.raises(WitnessError, match="consistency proof from size 10 is needed"):
        witness.cosign(head(log, 30), LOG.verifier)
    later = witness.cosign(head(log, 30), LOG.verifier, proof(log, 10, 30))
    assert open_checkpoint(later, LOG.verifier, required_witnesses=[witness.verifier]).size == 30
    seen = witness.last(ORIGIN)
    assert seen is not None
    assert (seen.head.size, seen.head.root) == (30, log.root(30))


def test_the_same_head_again_is_cosigned_again_without_a_proof(witness: Witness) -> None:
    log = tree(12)
    note = head(log, 12)
    assert witness.cosign(note, LOG.verifier) == witness.cosign(note, LOG.verifier)
    assert witness.cosign(witness.cosign(note, LOG.verifier), LOG.verifier).count("\n— ") == 2


def refused(witness: Witness, note: str, given: Proof | None, match: str) -> None:
    """The witness refuses, and its state file is byte for byte as it was."""
    before = state_of(witness.directory)
    with pytest.raises(WitnessError, match=match) as error:
        witness.cosign(note, LOG.verifier, given)
    assert error.value.origin == ORIGIN
    assert "nothing was co-signed" in str(error.value)
    assert state_of(witness.directory) == before


def test_a_smaller_head_is_a_rollback_and_refused(witness: Witness) -> None:
    log = tree(20)
    witness.cosign(head(log, 20), LOG.verifier)
    refused(witness, head(log, 19), None, "size 19 is below 20.*a rollback")
    refused(witness, head(log, 0), Proof(0, ()), "a rollback")


def test_another_root_at_the_same_size_is_a_fork_and_refused(witness: Witness) -> None:
    witness.cosign(head(tree(20), 20), LOG.verifier)
    refused(witness, head(tree(20, changed=3), 20), None, "another root: a fork")


def test_a_proof_from_another_size_or_one_that_does_not_verify_is_refused(
    witness: Witness,
) -> None:
    log = tree(30)
    witness.cosign(head(log, 10), LOG.verifier)
    refused(witness, head(log, 30), proof(log, 11, 30), "the proof is from size 11")
    wrong = proof(log, 10, 30)
    refused(witness, head(log, 30), Proof(10, wrong.hashes[::-1]), "rewritten, or forked")
    refused(witness, head(log, 30), Proof(10, ()), "rewritten, or forked")


def test_another_key_for_a_known_origin_is_refused(witness: Witness) -> None:
    log = tree(8)
    witness.cosign(head(log, 4), LOG.verifier)
    before = state_of(witness.directory)
    with pytest.raises(WitnessError, match=re.escape(f"knows this log by {LOG.verifier.key};")):
        witness.cosign(head(log, 8, IMPOSTOR), IMPOSTOR.verifier, proof(log, 4, 8))
    assert state_of(witness.directory) == before


def test_a_head_the_log_did_not_sign_is_refused_before_anything_is_recorded(
    witness: Witness,
) -> None:
    with pytest.raises(SignatureError):
        witness.cosign(head(tree(5), 5, IMPOSTOR), LOG.verifier)
    with pytest.raises(MalformedNoteError):
        witness.cosign("not a note\n", LOG.verifier)
    assert state_of(witness.directory) is None


@pytest.mark.parametrize(
    "text",
    ["", "{}", '{"format": "civicflow-witness/1", "logs": {"o": {"size": "1"}}}', "not json"],
)
def test_a_damaged_state_file_is_refused_not_reset(witness: Witness, text: str) -> None:
    (witness.directory / "state.json").write_text(text)
    with pytest.raises(WitnessError, match="state file"):
        witness.cosign(head(tree(3), 3), LOG.verifier)
    assert (witness.directory / "state.json").read_text() == text


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 64), min_size=1, max_size=8).map(sorted))
def test_any_growing_sequence_of_heads_is_cosigned_with_its_proofs(
    tmp_path_factory: pytest.TempPathFactory, sizes: list[int]
) -> None:
    folder = tmp_path_factory.mktemp("office")
    init_witness(folder, "office.example/w")
    witness = Witness(folder)
    log = tree(64)
    last = None
    for size in sizes:
        given_proof = None if last is None else proof(log, last, size)
        note = witness.cosign(head(log, size), LOG.verifier, given_proof)
        assert open_checkpoint(note, LOG.verifier, required_witnesses=[witness.verifier])
        last = size
    seen = witness.last(ORIGIN)
    assert seen is not None
    assert seen.head.size == sizes[-1]


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_a_log_rewritten_below_the_last_head_is_refused_whatever_its_proof(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    old = data.draw(st.integers(1, 40), label="last co-signed size")
    new = data.draw(st.integers(old + 1, 64), label="the forked head's size")
    changed = data.draw(st.integers(0, old - 1), label="the rewritten record")
    folder = tmp_path_factory.mktemp("office")
    init_witness(folder, "office.example/w")
    witness = Witness(folder)
    witness.cosign(head(tree(64), old), LOG.verifier)
    fork = tree(64, changed)
    # The forked log's own proof is internally consistent, but not with the head co-signed.
    refused(witness, head(fork, new), proof(fork, old, new), "rewritten, or forked")


def test_a_proof_reads_back_in_tlog_witness_text_form() -> None:
    given_proof = proof(tree(30), 7, 30)
    text = given_proof.to_text()
    assert text.startswith("old 7\n")
    assert text.count("\n") == 1 + len(given_proof.hashes)
    assert Proof.parse(text) == given_proof
    assert Proof.parse("old 0\n") == Proof(0, ())


@pytest.mark.parametrize("text", ["", "7\n", "old 07\n", "old -1\n", "old 3\nnot base64\n"])
def test_a_malformed_proof_is_refused(text: str) -> None:
    with pytest.raises(MalformedNoteError):
        Proof.parse(text)


def test_only_the_heads_a_witness_cosigned_count_when_reading_a_feed(
    witness: Witness, tmp_path: Path
) -> None:
    log = tree(30)
    feed = tmp_path / "feed.jsonl"
    publish = append_to_file(feed)
    publish(head(log, 10))
    publish(witness.cosign(head(log, 10), LOG.verifier))  # the co-signed note after the log's
    publish(head(log, 30))
    counted, left_out = read_witnessed(feed, LOG.verifier, [witness.verifier])
    assert ([h.size for h in counted], left_out) == ([10], 2)
    assert read_witnessed(feed, LOG.verifier, []) == (
        [open_checkpoint(head(log, s), LOG.verifier) for s in (10, 10, 30)],
        0,
    )


def test_a_feed_with_a_witness_signature_that_does_not_verify_is_refused(
    witness: Witness, tmp_path: Path
) -> None:
    log = tree(10)
    cosigned = witness.cosign(head(log, 10), LOG.verifier)
    body, signatures = cosigned.rsplit("\n\n", 1)
    log_line, witness_line = signatures.splitlines()
    forged = f"{body}\n\n{log_line}\n{witness_line[:-6]}AAAAA=\n"
    feed = tmp_path / "feed.jsonl"
    append_to_file(feed)(forged)
    with pytest.raises(FeedError, match=r"line 1: .*does not verify"):
        read_witnessed(feed, LOG.verifier, [witness.verifier])
