"""The web API over HTTP, on SQLite and PostgreSQL: the six steps, read back, retried, refused.

The router is mounted under ``/civic`` in a host app whose authentication hook reads
a header (``tests/web.py``); each command is made as the user that header names.
"""

from __future__ import annotations

import uuid
from typing import Any

from civicflow import CivicFlow
from civicflow.web.public import public_proposal
from tests.conftest import FakeClock
from tests.storage import stored_rows
from tests.web import (
    AUDITOR,
    COMPOUND,
    MEMBERS,
    RESIDENTS,
    TestClient,
    ask,
    client,
    day,
    error,
    get,
    office,
    ok,
    post,
    register,
    service,
    step,
    user,
)

KEY = "Idempotency-Key"


def six_steps(http: TestClient) -> dict[str, Any]:
    """One need through Ask, Discuss, Decide, Do, Publish, Rate; returns it closed."""
    response = ask(http)
    need = ok(response, 201)
    pid = need["id"]
    assert response.headers["location"] == f"/civic/proposals/{pid}"
    assert step(http, pid, "backings", "r-2", resident="r-2", occurred_at=day(2))["backers"] == 1
    discussion = {"attendees": [*MEMBERS, "r-1"], "summary": "LEDs preferred"}
    p = step(http, pid, "discussions", "m-1", **discussion, occurred_at=day(5))
    assert (p["discussions"][0]["attendees"], p["discussions"][0]["members_present"]) == (4, 3)
    decision = {
        "outcome": "approved",
        "vote": {"in_favour": 3, "against": 0},
        "plan": "12 LED fittings",
        "budget": {"amount": "3600", "funding_sources": ["district fund"]},
        "responsible": "m-2",
        "deadline": day(40)[:10],
    }
    assert step(http, pid, "decision", "m-1", **decision, occurred_at=day(5))["stage"] == "doing"
    progress = {"percent": 50, "note": "half the floors", "spent": "1700"}
    assert step(http, pid, "progress", "m-2", **progress, occurred_at=day(10))["percent"] == 50
    done = {"summary": "Installed", "total_spent": "3450.50", "evidence": ["photo:after.jpg"]}
    assert step(http, pid, "completion", "m-2", **done, occurred_at=day(20))["stage"] == "done"
    shown = {"channels": ["notice_board"], "summary": "Lights are on"}
    assert step(http, pid, "publication", "m-1", **shown, occurred_at=day(21))["stage"] == "rating"
    for resident in RESIDENTS[:6]:
        level = "dissatisfied" if resident == "r-6" else "satisfied"
        rating = {"resident": resident, "level": level, "occurred_at": day(22)}
        step(http, pid, "ratings", resident, **rating)
    closed = step(http, pid, "rating-close", "m-1", occurred_at=day(52))
    assert (closed["stage"], closed["rounds"][0]["passed"]) == ("closed", True)
    return dict(closed)


def test_a_proposal_goes_through_the_six_steps_and_a_fresh_app_reads_it_back(
    durable_url: str,
) -> None:
    with client(durable_url) as http:
        register(http)
        closed = six_steps(http)
        pid = closed["id"]
        assert ok(get(http, f"/proposals/{pid}")) == closed
        assert ok(get(http, f"/proposals/{pid}", version=1))["stage"] == "asked"
        trail = ok(get(http, f"/proposals/{pid}/history", AUDITOR))
        assert [e["version"] for e in trail] == list(range(1, closed["version"] + 1))
        # The actor of each step is who the host's hook said, not a field of the body.
        assert [e["actor"] for e in trail[:3]] == ["r-1", "r-2", "m-1"]
        [compound] = ok(get(http, "/views/satisfaction", level="compound", fresh=True))
        assert (compound["area_id"], compound["n"], compound["rate"]) == (COMPOUND, 6, "0.8333")
        rounds = ok(get(http, f"/proposals/{pid}/satisfaction", fresh=True))
        assert [r["n"] for r in rounds] == [6]
        assert ok(get(http, "/verify", AUDITOR))["ok"] is True
        worker = service(http).worker
        assert worker is not None
        assert worker.is_alive()
    assert not worker.is_alive(), "the host's shutdown stops the views worker"

    with client(durable_url) as again:  # another process, or a restart
        assert ok(get(again, f"/proposals/{pid}")) == closed
        assert ok(get(again, f"/proposals/{pid}/history", AUDITOR)) == trail
        figures = get(again, "/views/satisfaction", level="compound", fresh=False)
        assert ok(figures) == [compound]  # the views were kept in the store too
    with CivicFlow.open(durable_url, create=False, clock=FakeClock()) as flow:
        assert public_proposal(flow.proposal(pid)).model_dump(mode="json") == closed


def test_a_retried_command_with_the_same_key_writes_once(durable_url: str) -> None:
    with client(durable_url) as http:
        register(http)
        key = str(uuid.uuid4())
        first = ask(http, headers={KEY: key})
        rows = stored_rows(service(http).flow)
        again = ask(http, headers={KEY: key})
        assert ok(again, 201) == ok(first, 201)
        assert again.headers["idempotency-key"] == key
        assert stored_rows(service(http).flow) == rows
        pid = first.json()["id"]
        backing, other = {"resident": "r-2", "occurred_at": day(2)}, str(uuid.uuid4())
        for _ in range(2):
            p = ok(post(http, f"/proposals/{pid}/backings", backing, "r-2", **{KEY: other}))
        assert (p["version"], p["backers"]) == (2, 1)
        # Without a key the server makes one, and says which.
        made = ask(http, title="Paint the gate")
        assert uuid.UUID(made.headers["idempotency-key"])
        bad = ask(http, headers={KEY: "again"})
        assert error(bad, 422, "InvalidInputError")["details"] == [
            {"field": "Idempotency-Key", "message": "'again' is not a UUID"}
        ]


def test_a_refused_command_leaves_the_store_byte_for_byte_unchanged(durable_url: str) -> None:
    with client(durable_url) as http:
        register(http)
        pid = ok(ask(http), 201)["id"]
        ok(get(http, "/views/pipeline"))  # the views' own rows are counted now, not later
        before = stored_rows(service(http).flow)
        refusals = [
            (
                post(
                    http,
                    f"/proposals/{pid}/publication",
                    {"channels": ["app"], "summary": "x"},
                    "m-1",
                ),
                409,
                "StepNotAllowedError",
            ),
            (
                post(http, f"/proposals/{pid}/backings", {"resident": "r-1"}, "r-1"),
                409,
                "RuleViolationError",
            ),
            (ask(http, "stranger", resident="stranger"), 403, "NotEligibleError"),
            (ask(http, area_id="compound-99"), 404, "MissingRegistrationError"),
            (ask(http, channel="pigeon"), 422, "InvalidInputError"),
            (ask(http, actor="someone-else"), 422, "InvalidInputError"),
            (
                post(http, f"/proposals/{pid}/backings", {"residnt": "r-2"}, "r-2"),
                422,
                "InvalidInputError",
            ),
            (
                post(http, f"/proposals/{uuid.uuid4()}/withdrawal", {"reason": "x"}, "r-1"),
                404,
                "ProposalNotFoundError",
            ),
        ]
        for response, code, kind in refusals:
            error(response, code, kind)
        assert stored_rows(service(http).flow) == before


def test_figures_from_fewer_than_k_residents_are_shown_suppressed(sqlite_url: str) -> None:
    with client(sqlite_url, actor=user, office=office, k=7) as http:
        register(http)
        closed = six_steps(http)  # six ratings: below k=7
        [compound] = ok(get(http, "/views/satisfaction", level="compound", fresh=True))
        assert compound["suppressed"] is True
        assert (compound["n"], compound["rate"]) == (None, None)
        rounds = ok(get(http, f"/proposals/{closed['id']}/satisfaction", fresh=True))
        assert rounds[0]["suppressed"] is True
