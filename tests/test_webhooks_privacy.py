"""Every event type, each step a resident may take entered by an account of the
application (not the resident id): no resident id or account id leaves in clear unless
the subscription asks for ids (docs/webhooks.md#residents-and-privacy)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from civicflow import CivicFlow
from civicflow.webhooks import Relay, Residents, Webhooks, public_names
from tests import flows

ACCOUNTS = ("acct-5", "acct-6", "acct-7")


@pytest.fixture
def flow() -> Iterator[CivicFlow]:
    """Every kind of event in the log, residents' steps taken through accounts."""
    with flows.open_flow() as flow:
        flow.rename_area("compound-7", name="Hongqi Seven", actor="office")
        flow.add_area("community-2", kind="community", name="Two", parent_id="street-1",
                      actor="office")  # fmt: skip
        flow.reassign_compound("compound-7", community_id="community-2", actor="office")
        flow.count_households("compound-7", households=41, actor="office")
        flow.set_policy("district-1", rating_window_days=10, actor="office")
        flow.assign_sponsor("community-2", sponsor="cadre-1", kind="cadre", actor="office")
        flow.end_sponsorship("community-2", sponsor="cadre-1", actor="office")
        flow.register_resident("resident-31", compound_id="compound-7", actor="acct-7")
        flow.add_area("compound-8", kind="compound", name="Eight", parent_id="community-1",
                      is_old=False, has_property_management=True, households=9,
                      actor="office")  # fmt: skip
        flow.move_resident("resident-31", compound_id="compound-8", actor="acct-7")
        p = flows.asked(flow, actor="acct-5", details="From resident-1, flat 3")
        flow.back(p.id, resident="resident-2", actor="acct-6")
        p = flow.discuss(
            p.id, attendees=[*flows.MEMBERS, "resident-1"], summary="resident-1 spoke",
            opinions=["resident-1: urgent"], actor="member-1",
        )  # fmt: skip
        flow.decide(p.id, **flows.APPROVAL)
        flow.report_progress(p.id, percent=50, note="half", spent="100", actor="member-2")
        flow.complete(p.id, summary="Installed", total_spent="3450", evidence=["photo:1"],
                      actor="member-2")  # fmt: skip
        flow.publish(p.id, channels=["notice_board"], summary="Lights on", actor="member-1")
        for n, level in enumerate(["satisfied", "dissatisfied", "satisfied"], start=3):
            flow.rate(p.id, resident=f"resident-{n}", level=level, actor=f"acct-{n + 2}",
                      comment=f"resident-{n} here")  # fmt: skip
        flows.close_round(flow, p)
        q = flows.asked(flow, resident="resident-8", actor="resident-8")
        flow.withdraw(q.id, reason="I, resident-8, no longer need this", actor="acct-5")
        flow.move_out("resident-31", actor="acct-7")
        flow.leave_council("compound-7", member="member-3", actor="office")
        flow.dissolve_council("compound-7", actor="office")
        yield flow


def delivered(flow: CivicFlow, residents: Residents) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        return httpx.Response(204)

    Webhooks(flow).add("https://receiver.example/hook", residents=residents, allow_private=True)
    with (
        httpx.Client(transport=httpx.MockTransport(answer)) as client,
        Relay(flow, client=client) as relay,
    ):
        while any(d.ok for d in relay.deliver_once()):
            pass
    return seen


@pytest.mark.parametrize("residents", [Residents.PSEUDONYMISED, Residents.OMITTED])
def test_no_resident_or_account_id_leaves_in_clear(flow: CivicFlow, residents: Residents) -> None:
    seen = delivered(flow, residents)
    assert {p["type"] for p in seen} == set(public_names().values())  # every event type
    text = json.dumps(seen)
    for secret in ("resident-", *ACCOUNTS):
        assert secret not in text, secret
    assert "member-1" in text  # council members act in office: named as recorded
    steps = [p["data"] for p in seen if p["type"].split(".")[0] == "resident"] + [
        p["data"] for p in seen if p["type"] in ("proposal.asked", "proposal.withdrawn")
    ]
    if residents is Residents.OMITTED:
        assert all("actor" not in d for d in steps)
    else:
        assert all(d["actor"].startswith("rp_") for d in steps)
        withdrawn = next(p["data"] for p in seen if p["type"] == "proposal.withdrawn")
        assert withdrawn["reason"] == f"I, {pseudonymised(seen, 'resident-8')}, no longer need this"


def pseudonymised(seen: list[dict[str, Any]], resident: str) -> str:
    """The pseudonym of the resident who asked with ``resident`` as their own actor."""
    asked = [p["data"] for p in seen if p["type"] == "proposal.asked"]
    return str(asked[-1]["resident"])


def test_included_sends_every_id_as_recorded(flow: CivicFlow) -> None:
    text = json.dumps(delivered(flow, Residents.INCLUDED))
    assert all(secret in text for secret in ("resident-1", *ACCOUNTS))
