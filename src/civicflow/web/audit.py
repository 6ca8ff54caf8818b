"""Reading a proposal and checking the record: the proposal at any version, its audit
trail, a resident's receipt, the last published head, and a check of the whole store.

No ``from __future__ import annotations``: see ``steps.py``.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from civicflow.application.flow import CivicFlow
from civicflow.audit.signing import Signer, b64encode
from civicflow.audit.trail import AuditEntry
from civicflow.audit.transparency import Receipt
from civicflow.audit.verification import Verification
from civicflow.domain.proposal_state import ProposalState
from civicflow.errors import ConfigurationError
from civicflow.web.errors import NotOfferedError
from civicflow.web.models import HeadOut
from civicflow.web.structure import aware

Version = Annotated[int | None, Query(description="just after this event (default: now)")]


def add_audit(
    router: APIRouter,
    flow: Callable[[], CivicFlow],
    signer: Signer | None,
    *,
    verify: bool = True,
) -> None:
    """Add the endpoints that read proposals and check the record."""
    Flow = Annotated[CivicFlow, Depends(flow)]  # noqa: N806 (a type alias, read as one)

    @router.get("/proposals/{proposal_id}", tags=["proposals"])
    def proposal(proposal_id: str, f: Flow, version: Version = None) -> ProposalState:
        """The proposal now, or just after event number ``version``."""
        return f.proposal(proposal_id, version=version)

    @router.get("/proposals/{proposal_id}/history", tags=["audit"])
    def history(
        proposal_id: str,
        f: Flow,
        as_of: Annotated[
            datetime | None, Query(description="only what was recorded by then")
        ] = None,
    ) -> list[AuditEntry]:
        """The audit trail: every event with its actor, both times, the stages, and a line in
        Chinese and English."""
        return f.audit_trail(proposal_id, as_of=aware(as_of))

    @router.get("/proposals/{proposal_id}/receipt", tags=["audit"])
    def receipt(proposal_id: str, f: Flow, version: Version = None) -> Receipt:
        """A receipt for one of the proposal's records (a resident keeps the one of their
        rating): its inclusion proof under a head published now, checked with the log's
        public key alone (``civicflow check-receipt``)."""
        if signer is None:
            raise NotOfferedError("receipts", "this server has no signing key")
        number = version if version is not None else f.proposal(proposal_id).version
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
        def verify_store(f: Flow) -> Verification:
            """Check every seal, chain and checkpoint of the store (``ok``: nothing wrong).
            It reads the whole store: on a large one, keep it for administrators."""
            return f.verify()


def _publish(flow: CivicFlow) -> str | None:
    """A head published now, for the receipt to lead to (None: the store publishes none;
    the receipt's head is then signed for it alone)."""
    try:
        return flow.publish_head()
    except ConfigurationError:
        return None
