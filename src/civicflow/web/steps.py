"""The six steps (问 议 定 办 晒 评) over HTTP: one endpoint per command a proposal receives.

Each endpoint is one civicflow call and answers with the proposal just after it, as
anyone may read it (``public.py``). A resident's own step (ask, back, rate; the asker's
withdrawal) is taken by that resident, or by an office for them (``access.py``).
No ``from __future__ import annotations`` here: FastAPI reads the endpoints'
annotations, which name dependencies made in ``add_steps``' scope.
"""

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from civicflow.application.flow import CivicFlow
from civicflow.web.actors import Command
from civicflow.web.models import (
    AskIn,
    BackIn,
    CloseIn,
    CompleteIn,
    DecideIn,
    DiscussIn,
    ProgressIn,
    PublishIn,
    RateIn,
    WithdrawIn,
)
from civicflow.web.public import PublicProposal, public_proposal


def add_steps(
    router: APIRouter, flow: Callable[[], CivicFlow], command: Callable[..., Command]
) -> None:
    """Add the step endpoints to ``router``."""
    Flow = Annotated[CivicFlow, Depends(flow)]  # noqa: N806 (a type alias, read as one)
    Cmd = Annotated[Command, Depends(command)]  # noqa: N806

    @router.post("/proposals", status_code=201, tags=["steps"])
    def ask(body: AskIn, cmd: Cmd, f: Flow, request: Request, response: Response) -> PublicProposal:
        """Ask (问): collect a resident's need as a new proposal."""
        state = f.ask(**cmd.fields(body, resident=body.resident))
        response.headers["Location"] = f"{request.url.path}/{state.id}"
        return public_proposal(state)

    @router.post("/proposals/{proposal_id}/backings", tags=["steps"])
    def back(proposal_id: str, body: BackIn, cmd: Cmd, f: Flow) -> PublicProposal:
        """Another resident of the need's area backs it."""
        return public_proposal(f.back(proposal_id, **cmd.fields(body, resident=body.resident)))

    @router.post("/proposals/{proposal_id}/discussions", tags=["steps"])
    def discuss(proposal_id: str, body: DiscussIn, cmd: Cmd, f: Flow) -> PublicProposal:
        """Discuss (议): one session of the compound's council."""
        return public_proposal(f.discuss(proposal_id, **cmd.fields(body)))

    @router.post("/proposals/{proposal_id}/decision", tags=["steps"])
    def decide(proposal_id: str, body: DecideIn, cmd: Cmd, f: Flow) -> PublicProposal:
        """Decide (定): approved with a plan, rejected with reasons, or deferred."""
        return public_proposal(f.decide(proposal_id, **cmd.fields(body)))

    @router.post("/proposals/{proposal_id}/progress", tags=["steps"])
    def report_progress(proposal_id: str, body: ProgressIn, cmd: Cmd, f: Flow) -> PublicProposal:
        """Do (办): how far the work is and what it has cost so far."""
        return public_proposal(f.report_progress(proposal_id, **cmd.fields(body)))

    @router.post("/proposals/{proposal_id}/completion", tags=["steps"])
    def complete(proposal_id: str, body: CompleteIn, cmd: Cmd, f: Flow) -> PublicProposal:
        """Do (办): the work of this round is complete."""
        return public_proposal(f.complete(proposal_id, **cmd.fields(body)))

    @router.post("/proposals/{proposal_id}/publication", tags=["steps"])
    def publish(proposal_id: str, body: PublishIn, cmd: Cmd, f: Flow) -> PublicProposal:
        """Publish (晒): show the result (or the rejection); opens a rating round."""
        return public_proposal(f.publish(proposal_id, **cmd.fields(body)))

    @router.post("/proposals/{proposal_id}/ratings", tags=["steps"])
    def rate(proposal_id: str, body: RateIn, cmd: Cmd, f: Flow) -> PublicProposal:
        """Rate (评): a resident's satisfaction with this round (a later one replaces it)."""
        return public_proposal(f.rate(proposal_id, **cmd.fields(body, resident=body.resident)))

    @router.post("/proposals/{proposal_id}/rating-close", tags=["steps"])
    def close_rating(proposal_id: str, body: CloseIn, cmd: Cmd, f: Flow) -> PublicProposal:
        """End the rating round after its window: closed, or back to Do for rectification."""
        return public_proposal(f.close_rating(proposal_id, **cmd.fields(body)))

    @router.post("/proposals/{proposal_id}/withdrawal", tags=["steps"])
    def withdraw(proposal_id: str, body: WithdrawIn, cmd: Cmd, f: Flow) -> PublicProposal:
        """Abandon the proposal before its work is done; final: its asker, or an office."""
        asker = f.proposal(proposal_id).asked_by
        return public_proposal(f.withdraw(proposal_id, **cmd.fields(body, resident=asker)))
