"""Reading a proposal and checking the record: the proposal at any version, its audit
trail, a resident's receipt, the last published head, and a check of the whole store.

What is personal (who asked, backed and rated, how, and with what comment) is published
to auditors only (the ``auditor`` hook): the proposal is read as ``PublicProposal``, the
history without residents, a receipt of a resident's step by that resident alone.

No ``from __future__ import annotations``: see ``steps.py``.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from civicflow.application.flow import CivicFlow
from civicflow.audit.signing import Signer, b64encode
from civicflow.audit.trail import AuditEntry
from civicflow.audit.transparency import Receipt
from civicflow.audit.verification import Verification
from civicflow.errors import ConfigurationError
from civicflow.web.access import require
from civicflow.web.errors import NotOfferedError
from civicflow.web.models import HeadOut
from civicflow.web.public import (
    RESIDENT_STEPS,
    HistoryEntry,
    PublicProposal,
    history,
    public_proposal,
)
from civicflow.web.structure import aware

Version = Annotated[int | None, Query(description="just after this event (default: now)")]


def add_audit(
    router: APIRouter,
    flow: Callable[[], CivicFlow],
    signer: Signer | None,
    *,
    auditor: Callable[..., Any],
    caller: Callable[..., Any],
    verify: bool = True,
) -> None:
    """Add the endpoints that read proposals and check the record. ``auditor`` answers
    whether the caller is an auditor, ``caller`` who they are (None: not known)."""
    Flow = Annotated[CivicFlow, Depends(flow)]  # noqa: N806 (a type alias, read as one)
    Auditor = Annotated[Any, Depends(auditor)]  # noqa: N806
    Caller = Annotated[Any, Depends(caller)]  # noqa: N806

    @router.get("/proposals/{proposal_id}", tags=["proposals"])
    def proposal(proposal_id: str, f: Flow, version: Version = None) -> PublicProposal:
        """The proposal now, or just after event number ``version``: without who asked,
        backed or rated, or how (the figures: ``/proposals/{id}/satisfaction``)."""
        return public_proposal(f.proposal(proposal_id, version=version))

    @router.get("/proposals/{proposal_id}/history", tags=["audit"])
    def trail(
        proposal_id: str,
        f: Flow,
        full: Auditor,
        as_of: Annotated[
            datetime | None, Query(description="only what was recorded by then")
        ] = None,
    ) -> list[HistoryEntry]:
        """The audit trail: every event with its actor, both times, the stages, and a line in
        Chinese and English. A resident's own steps say "a resident", without who or how,
        except to auditors."""
        entries: list[AuditEntry] = f.audit_trail(proposal_id, as_of=aware(as_of))
        return history(entries, f.history(proposal_id), full=full is True)

    @router.get("/proposals/{proposal_id}/receipt", tags=["audit"])
    def receipt(
        proposal_id: str, f: Flow, full: Auditor, who: Caller, version: Version = None
    ) -> Receipt:
        """A receipt for one of the proposal's records (a resident keeps the one of their
        rating): its inclusion proof under a head published now, checked with the log's
        public key alone (``civicflow check-receipt``). The receipt of a resident's step
        is given to that resident (as the host authenticates them) and to auditors."""
        if signer is None:
            raise NotOfferedError("receipts", "this server has no signing key")
        number = version if version is not None else f.proposal(proposal_id).version
        event = next((e for e in f.history(proposal_id) if e.originator_version == number), None)
        if isinstance(event, RESIDENT_STEPS) and full is not True:
            require(who in (event.actor, event.resident), "a resident's receipt is theirs")
        head = _publish(f)
        return f.receipt(proposal_id, number, signer=signer, head=head)

    @router.get("/heads/last", tags=["audit"])
    def last_head(f: Flow) -> HeadOut:
        """The last signed tree head this server published to the store's feed."""
        head = f.last_head
        if head is None:
            raise NotOfferedError("published head", "none was published by this server yet")
        return HeadOut(origin=head.origin, size=head.size, root=b64encode(head.root))

    if verify:

        @router.get("/verify", tags=["audit"])
        def verify_store(f: Flow, allowed: Auditor) -> Verification:
            """Check every seal, chain and checkpoint of the store (``ok``: nothing wrong).
            It reads the whole store: auditors only."""
            require(allowed, "checking the store is for auditors")
            return f.verify()


def _publish(flow: CivicFlow) -> str | None:
    """A head published now, for the receipt to lead to (None: the store publishes none;
    the receipt's head is then signed for it alone)."""
    try:
        return flow.publish_head()
    except ConfigurationError:
        return None
