"""Who may read and do what over HTTP: nothing personal published, each resident for
themself, idempotency keys that name one request, HEAD, and reads that do not write.

The router is mounted as ``tests/web.py`` does: the user is the ``X-User`` header,
``office`` is the office and ``auditor`` the auditor.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from tests.storage import stored_rows
from tests.web import (
    AUDITOR,
    MEMBERS,
    TestClient,
    ask,
    client,
    day,
    error,
    get,
    ok,
    post,
    register,
    service,
    step,
    user,
)

KEY = "Idempotency-Key"


def rated(http: TestClient) -> str:
    """A proposal in its rating round, rated by r-1 (with a comment) and r-2."""
    pid: str = ok(ask(http), 201)["id"]
    step(http, pid, "backings", "r-2", resident="r-2", occurred_at=day(2))
    talk = {"attendees": [*MEMBERS, "r-3"], "summary": "LEDs", "occurred_at": day(5)}
    step(http, pid, "discussions", "m-1", **talk)
    decision = {"outcome": "approved", "vote": {"in_favour": 3, "against": 0}, "plan": "LEDs"}
    budget = {"amount": "3600", "funding_sources": ["district fund"]}
    due = {"responsible": "m-2", "deadline": day(40)[:10], "occurred_at": day(5)}
    step(http, pid, "decision", "m-1", **decision, budget=budget, **due)
    done = {"summary": "done", "total_spent": "3000", "evidence": ["p"], "occurred_at": day(20)}
    step(http, pid, "completion", "m-2", **done)
    shown = {"channels": ["notice_board"], "summary": "on", "occurred_at": day(21)}
    step(http, pid, "publication", "m-1", **shown)
    comment = "r-1 at flat 3-201: still dark"
    step(
        http,
        pid,
        "ratings",
        "r-1",
        resident="r-1",
        level="dissatisfied",
        comment=comment,
        occurred_at=day(22),
    )
    step(http, pid, "ratings", "r-2", resident="r-2", level="satisfied", occurred_at=day(22))
    return pid


def test_no_residents_part_is_published_to_ordinary_callers(sqlite_url: str) -> None:
    with client(sqlite_url) as http:
        register(http)
        pid = rated(http)
        for who in (None, "r-3", "m-1", "office"):
            text = get(http, f"/proposals/{pid}", who).text
            for secret in ("r-1", "r-2", "r-3", "dissatisfied", "3-201", "ratings"):
                assert secret not in text, (who, secret)
            trail = ok(get(http, f"/proposals/{pid}/history", who))
            assert "a resident rated round 1" in [e["en"] for e in trail]
            text = json.dumps(trail)
            assert "r-1" not in text
            assert "dissatisfied" not in text
            error(get(http, "/residents/r-1", who), 403, "Forbidden")
            error(get(http, "/verify", who), 403, "Forbidden")
        # The figures come from the views alone, suppressed below k (5): two ratings.
        [figures] = ok(get(http, f"/proposals/{pid}/satisfaction", fresh=True))
        assert figures["suppressed"] is True
        # An auditor reads it all.
        trail = ok(get(http, f"/proposals/{pid}/history", AUDITOR))
        assert "resident r-1 rated round 1: dissatisfied" in [e["en"] for e in trail]
        assert ok(get(http, "/residents/r-1", AUDITOR))["resident_id"] == "r-1"
        assert ok(get(http, "/verify", AUDITOR))["ok"] is True


def test_a_closed_rounds_counts_are_not_published(sqlite_url: str) -> None:
    with client(sqlite_url) as http:
        register(http)
        pid = rated(http)
        closed = step(http, pid, "rating-close", "m-1", occurred_at=day(60))
        assert set(closed["rounds"][0]) == {"occurred_at", "round", "passed", "threshold"}
        [line] = [e for e in ok(get(http, f"/proposals/{pid}/history")) if e["version"] == 9]
        assert line["en"] == "round 1 closed: rectification"


def test_a_resident_acts_only_for_themself_and_structure_is_the_offices(
    sqlite_url: str,
) -> None:
    with client(sqlite_url) as http:
        register(http)
        area = {"area_id": "d-2", "kind": "district", "name": "D2"}
        error(post(http, "/areas", area, "r-1"), 403, "Forbidden")
        error(ask(http, "r-2", resident="r-1"), 403, "Forbidden")
        pid = ok(ask(http, "r-1"), 201)["id"]
        error(
            post(http, f"/proposals/{pid}/backings", {"resident": "r-3"}, "r-2"), 403, "Forbidden"
        )
        error(post(http, f"/proposals/{pid}/withdrawal", {"reason": "no"}, "r-2"), 403, "Forbidden")
        # An office records a resident's step for them (a visit, a paper ballot).
        assert ok(post(http, f"/proposals/{pid}/backings", {"resident": "r-3"}))["backers"] == 1
        [backed] = [
            e for e in ok(get(http, f"/proposals/{pid}/history", AUDITOR)) if e["version"] == 2
        ]
        assert (backed["actor"], backed["en"]) == ("office", "resident r-3 backed the need")
    # With an actor hook and no office hook, nobody registers the community.
    with client(sqlite_url, actor=user) as http:
        error(post(http, "/areas", {**area, "area_id": "d-3"}, "office"), 403, "Forbidden")


def test_a_key_names_one_request_retries_write_once_and_reuse_is_not_swallowed(
    sqlite_url: str,
) -> None:
    with client(sqlite_url) as http:
        register(http)
        pid = rated(http)
        key = {KEY: str(uuid.uuid4())}
        rating: dict[str, Any] = {"resident": "r-3", "level": "satisfied", "occurred_at": day(23)}
        first = post(http, f"/proposals/{pid}/ratings", rating, "r-3", **key)
        rows = stored_rows(service(http).flow)
        again = post(http, f"/proposals/{pid}/ratings", rating, "r-3", **key)
        assert ok(again) == ok(first)
        assert again.headers[KEY] == key[KEY]
        assert stored_rows(service(http).flow) == rows
        # The same key by another resident, or with another body: another command.
        other = {**rating, "resident": "r-4", "level": "dissatisfied"}
        assert ok(post(http, f"/proposals/{pid}/ratings", other, "r-4", **key))["version"] == 10
        changed = {**rating, "level": "dissatisfied"}
        assert ok(post(http, f"/proposals/{pid}/ratings", changed, "r-3", **key))["version"] == 11
        # And on another proposal.
        second = ok(ask(http, "r-5", resident="r-5", title="Paint the gate"), 201)["id"]
        back = post(http, f"/proposals/{second}/backings", {"resident": "r-4"}, "r-4", **key)
        assert ok(back)["version"] == 2
        trail = ok(get(http, f"/proposals/{pid}/history", AUDITOR))
        assert [e["en"] for e in trail[-3:]] == [
            "resident r-3 rated round 1: satisfied",
            "resident r-4 rated round 1: dissatisfied",
            "resident r-3 rated round 1: dissatisfied",
        ]


def test_head_answers_wherever_get_does(sqlite_url: str) -> None:
    with client(sqlite_url) as http:
        register(http)
        for path in ("/areas", "/views/pipeline", f"/councils/{'compound-7'}"):
            got, head = get(http, path), http.head(f"/civic{path}")
            assert (head.status_code, head.content) == (200, b"")
            assert head.headers["content-type"] == got.headers["content-type"]
        assert http.head("/civic/nowhere").status_code == 404
        assert http.head("/civic/proposals/x/ratings").headers["allow"] == "POST"


def test_an_anonymous_read_of_the_figures_counts_nothing(sqlite_url: str) -> None:
    with client(sqlite_url, actor=user, follow_views=False) as http:
        before = int(get(http, "/views/pipeline").headers["x-views-position"])
        service(http).flow.add_area("d-9", kind="district", name="D9", actor="office")
        assert int(get(http, "/views/pipeline").headers["x-views-position"]) == before
        fresh = get(http, "/views/pipeline", fresh=True)
        assert int(fresh.headers["x-views-position"]) > before
