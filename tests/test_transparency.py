"""The transparency log over a store: leaves anyone can compute, receipts checked with the
public key alone, heads that prove the log only grew."""

from __future__ import annotations

import io
from base64 import b64encode
from typing import Any
from uuid import uuid4

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from civicflow import CivicFlow, InvalidInputError, MalformedNoteError, SignatureError
from civicflow.audit.merkle import MerkleTree
from civicflow.audit.notes import TreeHead, sign_checkpoint
from civicflow.audit.signing import Signer
from civicflow.audit.transparency import (
    Leaf,
    LogTree,
    Receipt,
    check_growth,
    check_receipt,
    issue_receipt,
    record_leaf,
)
from tests import flows

ORIGIN = "civicflow.example/district-1"
SIGNER = Signer.generate(ORIGIN)
QR_CODE_BYTES = 2953  # a version 40 QR code, binary, lowest error correction


def grown(flow: CivicFlow) -> LogTree:
    log = LogTree()
    log.grow(flow.store.pydantic_mapper, flow.recorder)
    return log


def leaf_of(flow: CivicFlow, log: LogTree, aggregate_id: Any, version: int) -> Leaf:
    return log.record(flow.store.pydantic_mapper, flow.recorder, aggregate_id, version)


def exported(flow: CivicFlow) -> list[dict[str, Any]]:
    out = io.StringIO()
    flow.export_events(out)
    lines = [orjson.loads(line) for line in out.getvalue().splitlines()]
    return [line for line in lines if "position" in line]  # not the header, not the trailer


def a_rated_store(url: str) -> tuple[CivicFlow, Any]:
    flow = flows.open_flow(url)
    p = flows.rating(flow)
    flows.rate_all(flow, p, ["satisfied", "dissatisfied", "basically_satisfied"])
    return flow, p


def test_the_tree_is_the_exports_anyone_can_rebuild_it_from_the_file(store_url: str) -> None:
    flow, _ = a_rated_store(store_url)
    with flow:
        log = grown(flow)
        lines = exported(flow)
    independent = MerkleTree(
        record_leaf(line["id"], line["version"], line["topic"], line["state"]) for line in lines
    )
    assert log.size == len(lines) > 40
    assert independent.root() == log.tree.root()


def test_a_receipt_is_checked_with_the_public_key_alone_and_fits_a_qr_code(
    store_url: str,
) -> None:
    flow, p = a_rated_store(store_url)
    with flow:
        rating = flow.proposal(p.id).version
        log = grown(flow)
        receipt = issue_receipt(
            log, SIGNER, log.record(flow.store.pydantic_mapper, flow.recorder, p.id, rating)
        )
        record = next(
            line for line in exported(flow) if line["id"] == str(p.id) and line["version"] == rating
        )
    text = receipt.to_text()
    assert len(text.encode()) < QR_CODE_BYTES
    head = check_receipt(Receipt.from_text(text), SIGNER.verifier, record=record)
    assert (head.size, head.origin) == (log.size, ORIGIN)
    other = {**record, "state": {**record["state"], "level": "satisfied"}}
    with pytest.raises(InvalidInputError, match="not the one"):
        check_receipt(receipt, SIGNER.verifier, record=other)


def test_a_receipt_with_any_part_changed_is_refused() -> None:
    with flows.open_flow() as flow:
        p = flows.rating(flow)
        flows.rate_all(flow, p, ["satisfied"] * 5)
        log = grown(flow)
        receipt = issue_receipt(
            log,
            SIGNER,
            log.record(
                flow.store.pydantic_mapper, flow.recorder, p.id, flow.proposal(p.id).version - 2
            ),
        )
    check_receipt(receipt, SIGNER.verifier)
    other_leaf = b64encode(log.tree.leaf(0)).decode()
    changed = [
        receipt.model_copy(update={"state": "0" * 64}),
        receipt.model_copy(update={"version": receipt.version - 1}),
        receipt.model_copy(update={"id": str(uuid4())}),
        receipt.model_copy(update={"topic": "civicflow.proposal:Proposal.Backed"}),
        receipt.model_copy(update={"index": receipt.index - 1}),
        receipt.model_copy(update={"index": receipt.index + 10**6}),
        receipt.model_copy(update={"proof": receipt.proof[:-1]}),
        receipt.model_copy(update={"proof": (*receipt.proof, other_leaf)}),
        receipt.model_copy(update={"proof": (other_leaf, *receipt.proof[1:])}),
    ]
    for bad in changed:
        with pytest.raises(InvalidInputError):
            check_receipt(bad, SIGNER.verifier)
    forged = sign_checkpoint(TreeHead(ORIGIN, log.size, bytes(32)), Signer.generate(ORIGIN))
    with pytest.raises(SignatureError):
        check_receipt(receipt.model_copy(update={"head": forged}), SIGNER.verifier)
    with pytest.raises((MalformedNoteError, SignatureError)):
        check_receipt(
            receipt.model_copy(update={"head": receipt.head.replace("\n", " ", 1)}), SIGNER.verifier
        )


@settings(max_examples=25, deadline=None)
@given(st.data())
def test_a_receipt_with_one_byte_of_its_text_changed_never_checks(data: st.DataObject) -> None:
    receipt = RECEIPT
    text = bytearray(receipt.to_text().encode())
    at = data.draw(st.integers(0, len(text) - 1))
    text[at] = data.draw(st.integers(0, 255).filter(lambda b: b != text[at]))
    try:
        changed = Receipt.from_text(text.decode("utf-8", errors="replace"))
    except InvalidInputError:
        return
    if changed == receipt:
        return  # the byte was in insignificant JSON (there is none in compact JSON, but be fair)
    with pytest.raises((InvalidInputError, MalformedNoteError, SignatureError)):
        check_receipt(changed, SIGNER.verifier)


def _receipt() -> Receipt:
    with flows.open_flow() as flow:
        p = flows.rating(flow)
        flows.rate_all(flow, p, ["satisfied"] * 3)
        log = grown(flow)
        leaf = log.record(
            flow.store.pydantic_mapper, flow.recorder, p.id, flow.proposal(p.id).version
        )
        return issue_receipt(log, SIGNER, leaf)


RECEIPT = _receipt()


def test_a_later_head_proves_the_log_only_grew_and_an_edit_breaks_the_proof(
    sqlite_url: str,
) -> None:
    import sqlite3

    flow, p = a_rated_store(sqlite_url)
    with flow:
        log = grown(flow)
        earlier = log.head(ORIGIN)
        flows.rate_all(flow, p, ["dissatisfied"] * 4)
        log.grow(flow.store.pydantic_mapper, flow.recorder)
        later = log.head(ORIGIN)
        assert later.size == earlier.size + 4
        assert check_growth(earlier, later, log.tree.consistency_proof(earlier.size))
        rated = flow.proposal(p.id).version
    path = sqlite_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:  # someone with write access edits an early record
        row = db.execute(
            "SELECT rowid, state FROM stored_events ORDER BY rowid LIMIT 1 OFFSET 3"
        ).fetchone()
        db.execute(
            "UPDATE stored_events SET state = ? WHERE rowid = ?",
            (row[1].replace(b"office", b"offica"), row[0]),
        )
    with CivicFlow.open(sqlite_url) as edited:
        rewritten = grown(edited)
        assert rewritten.size == later.size
        assert not check_growth(
            earlier, rewritten.head(ORIGIN), rewritten.tree.consistency_proof(earlier.size)
        )
        assert rewritten.head(ORIGIN).root != later.root
        assert rated


def test_after_a_rating_the_application_gives_a_receipt_that_outlives_later_heads(
    store_url: str,
) -> None:
    with flows.open_flow(store_url) as flow:
        p = flows.rating(flow)
        rated = flow.rate(p.id, resident="resident-3", level="satisfied")
        head = flow.tree_head(SIGNER)
        receipt = flow.receipt(str(p.id), rated.version, signer=SIGNER, head=head)
        assert check_receipt(receipt, SIGNER.verifier).size == len(exported(flow))
        flow.rate(p.id, resident="resident-4", level="dissatisfied")
        later = flow.receipt(p.id, rated.version, signer=SIGNER)  # under a head signed now
        earlier_head = check_receipt(receipt, SIGNER.verifier)
        later_head = check_receipt(later, SIGNER.verifier)
        assert later_head.size == earlier_head.size + 1
        proof = flow._ctx.grown_log().tree.consistency_proof(earlier_head.size)
        assert check_growth(earlier_head, later_head, proof)
        with pytest.raises(InvalidInputError, match="no record at version"):
            flow.receipt(p.id, 999, signer=SIGNER)
        with pytest.raises(InvalidInputError, match="covers"):
            flow.receipt(p.id, rated.version + 1, signer=SIGNER, head=head)
        with pytest.raises(InvalidInputError):
            flow.receipt("not-a-uuid", 1, signer=SIGNER)
