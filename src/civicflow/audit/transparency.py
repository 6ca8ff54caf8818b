"""The transparency log: every stored record one leaf of a Merkle tree, in log order.

A record's leaf is the hash of ``{"id", "version", "topic", "state"}`` encoded by
orjson in that key order, where ``state`` is the hex SHA-256 of the record's state
as an events export line carries it (the stored JSON object, seal included,
decrypted and decompressed, encoded by orjson). So anyone holding an export, or
one record, can compute its leaf without civicflow's database or secrets (the
tree is the log's, not a database's), and a receipt names its record (id,
version, kind and state digest) in a way its proof binds, in a few hundred bytes.

The tree is rebuilt from the log (it is derived, like the views), and grown page
by page as the log grows. A signed tree head (``notes.TreeHead``) commits to its
size and root; a receipt is the inclusion proof of one record under one head,
small enough for a QR code; a consistency proof shows that a later head only
added records to an earlier one.
"""

from __future__ import annotations

import hashlib
from base64 import b64decode, b64encode
from collections.abc import Iterable, Mapping
from typing import Any, cast
from uuid import UUID

import orjson
from pydantic import BaseModel, ConfigDict

from civicflow.audit.merkle import MerkleTree, leaf_hash, verify_consistency, verify_inclusion
from civicflow.audit.notes import TreeHead, open_checkpoint, sign_checkpoint
from civicflow.audit.signing import Signer, Verifier
from civicflow.audit.verification import pages
from civicflow.errors import InvalidInputError
from civicflow.storage.mapper import PydanticMapper


def state_digest(state: Mapping[str, Any]) -> str:
    """The hex SHA-256 of a record's state, as an export line carries it."""
    return hashlib.sha256(orjson.dumps(state)).hexdigest()


def record_leaf(record_id: str, version: int, topic: str, state: Mapping[str, Any]) -> bytes:
    """The leaf hash of one record, from its fields as an export line carries them."""
    return _leaf(record_id, version, topic, state_digest(state))


def _leaf(record_id: str, version: int, topic: str, digest: str) -> bytes:
    canonical = {"id": record_id, "version": version, "topic": topic, "state": digest}
    return leaf_hash(orjson.dumps(canonical))


class LogTree:
    """The Merkle tree over a store's log, and where each leaf sits in it."""

    def __init__(self) -> None:
        self.tree = MerkleTree()
        self.positions: list[int] = []  # the notification id of each leaf
        # (aggregate, version) -> (leaf index, topic, state digest)
        self.records: dict[tuple[UUID, int], tuple[int, str, str]] = {}

    @property
    def size(self) -> int:
        return self.tree.size

    def grow(self, mapper: PydanticMapper, recorder: Any) -> int:
        """Add the records stored since the last growth; returns how many."""
        added = 0
        after = self.positions[-1] if self.positions else 0
        for page in pages(recorder, after):
            for note in page:
                digest = _digest_of(mapper, note)
                aggregate, version = cast(UUID, note.originator_id), note.originator_version
                self.records[(aggregate, version)] = (self.size, note.topic, digest)
                self.tree.append(_leaf(str(aggregate), version, note.topic, digest))
                self.positions.append(note.id)
                added += 1
        return added

    def head(self, origin: str, size: int | None = None) -> TreeHead:
        """The tree head of the first ``size`` records (all of them by default)."""
        size = self.size if size is None else size
        return TreeHead(origin, size, self.tree.root(size))

    def record(self, aggregate_id: UUID, version: int) -> tuple[int, str, str]:
        """The leaf index, topic and state digest of a record.

        Raises:
            InvalidInputError: the log holds no such record.
        """
        try:
            return self.records[(aggregate_id, version)]
        except KeyError:
            problem = ("version", f"{aggregate_id} has no record at version {version}")
            raise InvalidInputError("receipt", [problem]) from None


class Receipt(BaseModel):
    """Proof that one record is in the log, under a signed head: all a resident keeps.

    ``id``, ``version``, ``topic`` and ``state`` (the digest of its state) name the
    record and give its leaf; ``index`` is its place in the log, ``proof`` the
    inclusion path (base64) and ``head`` the signed checkpoint note it leads to.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    version: int
    topic: str
    state: str
    index: int
    proof: tuple[str, ...]
    head: str

    @property
    def leaf(self) -> bytes:
        """The leaf hash of the record the receipt names."""
        return _leaf(self.id, self.version, self.topic, self.state)

    def to_text(self) -> str:
        """Compact JSON, for a file or a QR code."""
        return orjson.dumps(self.model_dump(mode="json")).decode()

    @classmethod
    def from_text(cls, text: str) -> Receipt:
        """Read a receipt.

        Raises:
            InvalidInputError: the text is not a receipt.
        """
        try:
            return cls.model_validate_json(text)
        except ValueError as error:
            raise InvalidInputError("receipt", [("receipt", str(error).splitlines()[0])]) from None


def issue_receipt(
    log: LogTree, signer: Signer, aggregate_id: UUID, version: int, head_note: str | None = None
) -> Receipt:
    """A receipt for one record: under ``head_note`` if given, else under a head signed now.

    Raises:
        InvalidInputError: the record is not in the log, or not covered by the head.
    """
    index, topic, digest = log.record(aggregate_id, version)
    note = head_note or sign_checkpoint(log.head(signer.name), signer)
    head = open_checkpoint(note, signer.verifier)
    if index >= head.size:
        problem = ("head", f"the head covers {head.size} records, not record {index + 1}")
        raise InvalidInputError("receipt", [problem])
    proof = log.tree.inclusion_proof(index, head.size)
    return Receipt(
        id=str(aggregate_id),
        version=version,
        topic=topic,
        state=digest,
        index=index,
        proof=tuple(b64encode(node).decode() for node in proof),
        head=note,
    )


def check_receipt(
    receipt: Receipt,
    log: Verifier,
    *,
    witnesses: Iterable[Verifier] = (),
    record: Mapping[str, Any] | None = None,
) -> TreeHead:
    """Check a receipt with the log's public key alone; returns the head it is under.

    With ``record`` (an export line's fields), also that the leaf is that record's.

    Raises:
        MalformedNoteError, SignatureError: the head is not signed by the log (or a
            required witness).
        InvalidInputError: the proof does not lead from the leaf to the head's root,
            or the record is not the one the receipt is for.
    """
    head = open_checkpoint(receipt.head, log, required_witnesses=tuple(witnesses))
    leaf = receipt.leaf
    if record is not None:
        fields = (str(record["id"]), int(record["version"]), str(record["topic"]), record["state"])
        if record_leaf(*fields) != leaf:
            raise InvalidInputError("receipt", [("record", "the record is not the one received")])
    proof = [_decoded(node) for node in receipt.proof]
    if receipt.index >= head.size or not verify_inclusion(
        leaf, receipt.index, head.size, proof, head.root
    ):
        raise InvalidInputError(
            "receipt", [("proof", "the record is not in the log under this head")]
        )
    return head


def check_growth(earlier: TreeHead, later: TreeHead, proof: Iterable[bytes]) -> bool:
    """Whether ``later`` holds ``earlier``'s records unchanged, and only added to them."""
    if later.size < earlier.size:
        return False
    return verify_consistency(earlier.size, later.size, earlier.root, later.root, list(proof))


def _digest_of(mapper: PydanticMapper, note: Any) -> str:
    if mapper.cipher is None and mapper.compressor is None:
        # Stored as orjson wrote it: the bytes are the canonical encoding already, and an
        # edit of them (whitespace included) changes the leaf, as it should.
        return hashlib.sha256(bytes(note.state)).hexdigest()
    try:
        return state_digest(mapper.decode_state(note))
    except Exception:  # a damaged record still takes its place in the tree
        # ...with a leaf no honest record has: the heads it was published under no longer match.
        return "undecodable:" + hashlib.sha256(bytes(note.state)).hexdigest()


def _decoded(text: str) -> bytes:
    try:
        return b64decode(text, validate=True)
    except ValueError:
        raise InvalidInputError("receipt", [("hash", f"{text!r} is not base64")]) from None
