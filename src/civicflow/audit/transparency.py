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
from array import array
from base64 import b64decode, b64encode
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, cast
from uuid import UUID

import orjson
from pydantic import BaseModel, ConfigDict

from civicflow.audit.errors import because
from civicflow.audit.merkle import (
    LEAF_PREFIX,
    MerkleTree,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)
from civicflow.audit.notes import TreeHead, open_checkpoint, sign_checkpoint
from civicflow.audit.signing import Signer, Verifier
from civicflow.errors import InvalidInputError
from civicflow.storage import rawlog

if TYPE_CHECKING:  # a receipt is checked without the event model the mapper loads
    from civicflow.storage.mapper import PydanticMapper


def state_digest(state: Mapping[str, Any]) -> str:
    """The hex SHA-256 of a record's state, as an export line carries it."""
    return hashlib.sha256(orjson.dumps(state)).hexdigest()


def record_leaf(record_id: str, version: int, topic: str, state: Mapping[str, Any]) -> bytes:
    """The leaf hash of one record, from its fields as an export line carries them."""
    return _leaf(record_id, version, topic, state_digest(state))


def _leaves(rows: Sequence[rawlog.Row], plains: Sequence[bytes]) -> list[bytes]:
    """``_leaf`` of each record, ``_state_digest`` inlined: growing a tree is mostly this."""
    sha256, dumps, prefix = hashlib.sha256, orjson.dumps, LEAF_PREFIX
    return [
        sha256(
            prefix
            + dumps(
                {
                    "id": aggregate_id,
                    "version": version,
                    "topic": topic,
                    "state": sha256(plain).hexdigest(),
                }
            )
        ).digest()
        for (_, aggregate_id, version, topic, _), plain in zip(rows, plains, strict=True)
    ]


def _leaf(record_id: str, version: int, topic: str, digest: str) -> bytes:
    canonical = {"id": record_id, "version": version, "topic": topic, "state": digest}
    return leaf_hash(orjson.dumps(canonical))


class Leaf(NamedTuple):
    """Where one record sits in the tree, and what its leaf hashes."""

    leaf_index: int
    id: str
    version: int
    topic: str
    state: str  # hex SHA-256 of the record's state


class LogTree:
    """The Merkle tree over a store's log, and where each leaf sits in the log.

    It holds 32 bytes per leaf (in the tree's levels) and 8 per position, nothing
    per record beside: a record's place is looked up in the database when a
    receipt is asked for, not kept for every record of a large log.
    """

    def __init__(self) -> None:
        self.tree = MerkleTree()
        self.positions = array("q")  # the notification id of each leaf, ascending

    @property
    def size(self) -> int:
        return self.tree.size

    @property
    def last_position(self) -> int:
        """The position in the log of the last record in the tree (0 when empty)."""
        return self.positions[-1] if self.positions else 0

    def grow(self, mapper: PydanticMapper, recorder: Any) -> int:
        """Add the records stored since the last growth; returns how many."""
        added = 0
        for page in rawlog.rows(recorder, self.last_position):
            self.add(page, plain_page(mapper, page))
            added += len(page)
        return added

    def add(self, rows: Sequence[rawlog.Row], plains: Sequence[bytes | None]) -> None:
        """Add records of the log, in order, as the next leaves.

        ``plains`` are their JSON as the mapper wrote it (``plain_page``); None
        marks a record that cannot be decrypted.
        """
        if None in plains:
            leaves = [
                _leaf(aggregate_id, version, topic, _state_digest(plain, stored))
                for (_, aggregate_id, version, topic, stored), plain in zip(
                    rows, plains, strict=True
                )
            ]
        else:
            leaves = _leaves(rows, cast(Sequence[bytes], plains))
        self.tree.extend(leaves)
        self.positions.extend([row[0] for row in rows])

    def head(self, origin: str, size: int | None = None) -> TreeHead:
        """The tree head of the first ``size`` records (all of them by default)."""
        size = self.size if size is None else size
        return TreeHead(origin, size, self.tree.root(size))

    def record(
        self, mapper: PydanticMapper, recorder: Any, aggregate_id: UUID | str, version: int
    ) -> Leaf:
        """One record of the tree: its leaf index, and the fields its leaf hashes.

        Raises:
            InvalidInputError: the log holds no such record, or the tree not yet.
        """
        row = rawlog.find(recorder, str(aggregate_id), version)
        index = -1 if row is None else bisect_left(self.positions, row[0])
        if row is None or index == len(self.positions) or self.positions[index] != row[0]:
            why = because(
                "{id} has no record at version {version}", id=str(aggregate_id), version=version
            )
            problem = ("version", why)
            raise InvalidInputError("receipt", [problem])
        digest = _state_digest(plain_bytes(mapper, row[4]), row[4])
        return Leaf(index, row[1], version, row[3], digest)


def plain_page(mapper: PydanticMapper, rows: Sequence[rawlog.Row]) -> Sequence[bytes | None]:
    """The JSON each record of a page holds, as the mapper wrote it (None: undecryptable)."""
    if mapper.cipher is None and mapper.compressor is None:
        return [row[4] for row in rows]
    return [plain_bytes(mapper, row[4]) for row in rows]


def plain_bytes(mapper: PydanticMapper, stored: bytes) -> bytes | None:
    """A record's JSON as the mapper wrote it, or None when it cannot be decrypted."""
    if mapper.cipher is None and mapper.compressor is None:
        return stored
    try:
        return mapper.unpack(stored)
    except Exception:  # a damaged record still takes its place in the tree
        return None


def _state_digest(plain: bytes | None, stored: bytes) -> str:
    # The JSON the mapper wrote is orjson's encoding already, so its hash is the one an
    # export line's state gives; an edit of the bytes (whitespace included) changes it.
    if plain is None:
        # ...with a leaf no honest record has: the heads it was published under no longer match.
        return "undecodable:" + hashlib.sha256(stored).hexdigest()
    return hashlib.sha256(plain).hexdigest()


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
    log: LogTree, signer: Signer, record: Leaf, head_note: str | None = None
) -> Receipt:
    """A receipt for one record: under ``head_note`` if given, else under a head signed now.

    Raises:
        InvalidInputError: the record is not covered by the head.
    """
    index = record.leaf_index
    note = head_note or sign_checkpoint(log.head(signer.name), signer)
    head = open_checkpoint(note, signer.verifier)
    if index >= head.size:
        why = because("the head covers {size} records, not record {n}", size=head.size, n=index + 1)
        problem = ("head", why)
        raise InvalidInputError("receipt", [problem])
    proof = log.tree.inclusion_proof(index, head.size)
    return Receipt(
        id=record.id,
        version=record.version,
        topic=record.topic,
        state=record.state,
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
            raise InvalidInputError(
                "receipt", [("record", because("the record is not the one received"))]
            )
    proof = [_decoded(node) for node in receipt.proof]
    if receipt.index >= head.size or not verify_inclusion(
        leaf, receipt.index, head.size, proof, head.root
    ):
        raise InvalidInputError(
            "receipt", [("proof", because("the record is not in the log under this head"))]
        )
    return head


def check_growth(earlier: TreeHead, later: TreeHead, proof: Iterable[bytes]) -> bool:
    """Whether ``later`` holds ``earlier``'s records unchanged, and only added to them."""
    if later.size < earlier.size:
        return False
    return verify_consistency(earlier.size, later.size, earlier.root, later.root, list(proof))


def _decoded(text: str) -> bytes:
    try:
        return b64decode(text, validate=True)
    except ValueError:
        raise InvalidInputError(
            "receipt", [("hash", because("{text!r} is not base64", text=text))]
        ) from None
