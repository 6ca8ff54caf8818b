"""Helpers that take a proposal to a given stage, for tests that start mid-way."""

from __future__ import annotations

from datetime import date
from typing import Any

from civicflow import CivicFlow, ProposalState

APPROVAL: dict[str, Any] = {
    "outcome": "approved",
    "vote": {"in_favour": 5, "against": 1, "abstain": 1},
    "plan": "Install 12 LED fittings",
    "budget": {"amount": "3600.00", "funding_sources": ["district fund"]},
    "responsible": "member-2",
    "deadline": date(2030, 1, 1),
    "actor": "member-1",
}


def asked(flow: CivicFlow, **overrides: Any) -> ProposalState:
    fields: dict[str, Any] = {
        "title": "Fix the stairwell lights",
        "details": "Dark at night",
        "category": "lighting",
        "area_id": "compound-7",
        "resident": "resident-1",
        "channel": "visit",
    }
    return flow.ask(**{**fields, **overrides})


def discussing(flow: CivicFlow) -> ProposalState:
    p = asked(flow)
    return flow.discuss(p.id, attendees=["member-1", "member-2"], summary="ok", actor="member-1")


def doing(flow: CivicFlow) -> ProposalState:
    p = discussing(flow)
    return flow.decide(p.id, **APPROVAL)


def done(flow: CivicFlow) -> ProposalState:
    p = doing(flow)
    return flow.complete(
        p.id, summary="Installed", total_spent="3450", evidence=["photo:1"], actor="member-2"
    )


def rating(flow: CivicFlow) -> ProposalState:
    p = done(flow)
    return flow.publish(p.id, channels=["notice_board"], summary="Lights on", actor="member-1")


def rejected(flow: CivicFlow) -> ProposalState:
    p = discussing(flow)
    return flow.decide(
        p.id,
        outcome="rejected",
        vote={"in_favour": 4, "against": 1},
        reasons="Not the compound's responsibility",
        actor="member-1",
    )
