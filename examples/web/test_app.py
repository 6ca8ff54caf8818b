# ruff: noqa: S101 (asserts are how pytest checks)
"""The web example over HTTP, on SQLite and PostgreSQL: six steps, errors, views, restarts.

Every step carries its ``occurred_at``; the community is registered on 1 April 2026 and the
application's fake clock stands at 1 July 2026, so the 30-day rating window of a round
published in April has passed when it is closed.
"""

from __future__ import annotations

import time
import uuid
import warnings
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from tests.conftest import FakeClock

from civicflow import BackendUnavailableError, ConcurrencyError
from examples.web.app import create_app

with warnings.catch_warnings():
    # starlette 1.x asks for httpx2 under its TestClient; the example does not depend on it.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

START = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)
COMPOUND = "compound-7"
MEMBERS = ("m-1", "m-2", "m-3")
RESIDENTS = tuple(f"r-{n}" for n in range(1, 11))


def day(n: int) -> str:
    """``n`` days after the community was registered, as JSON sends it."""
    return (START + timedelta(days=n)).isoformat()


def client(url: str) -> TestClient:
    """A client of a fresh app on ``url``; use it in ``with`` so that the lifespan runs."""
    return TestClient(create_app(url, clock=FakeClock()))


def state(http: TestClient) -> Any:
    """The app's state: its ``flow``, ``views`` and ``views_worker``."""
    return http.app.state  # type: ignore[attr-defined]


def ok(response: Any, code: int = 200) -> Any:
    assert response.status_code == code, response.text
    return response.json()


def register(http: TestClient) -> None:
    """district-1 > street-1 > community-1 > compound-7, a council of three, ten residents."""
    for kind, area_id, parent in (
        ("district", "district-1", None),
        ("street", "street-1", "district-1"),
        ("community", "community-1", "street-1"),
    ):
        area = {"area_id": area_id, "kind": kind, "name": area_id.title(), "parent_id": parent}
        ok(http.post("/areas", json={**area, "actor": "office", "occurred_at": day(0)}), 201)
    compound = {
        "area_id": COMPOUND,
        "kind": "compound",
        "name": "Hongqi Building 7",
        "parent_id": "community-1",
        "is_old": True,
        "has_property_management": False,
        "households": 40,
        "actor": "office",
        "occurred_at": day(0),
    }
    assert ok(http.post("/areas", json=compound), 201)["has_council"] is False
    ok(http.post(f"/councils/{COMPOUND}", json={"actor": "office", "occurred_at": day(0)}), 201)
    for member in MEMBERS:
        seat = {"member": member, "via": "election", "actor": "office", "occurred_at": day(0)}
        council = ok(http.post(f"/councils/{COMPOUND}/members", json=seat), 201)
    assert [m["member"] for m in council["memberships"]] == list(MEMBERS)
    residents = {
        "resident_ids": list(RESIDENTS),
        "compound_id": COMPOUND,
        "actor": "office",
        "occurred_at": day(0),
    }
    homes = ok(http.post("/residents", json=residents), 201)
    assert [h["resident_id"] for h in homes] == list(RESIDENTS)


def ask(http: TestClient, **overrides: Any) -> Any:
    need = {
        "title": "Fix the stairwell lights",
        "details": "Dark at night",
        "category": "lighting",
        "area_id": COMPOUND,
        "resident": "r-1",
        "channel": "visit",
        "occurred_at": day(1),
    }
    return http.post("/proposals", json={**need, **overrides})


def step(http: TestClient, pid: str, path: str, **body: Any) -> Any:
    """POST one step; returns the proposal just after it."""
    return ok(http.post(f"/proposals/{pid}/{path}", json=body))


def error(response: Any, code: int, name: str) -> dict[str, Any]:
    """The error body of a refused request, checked for status and error class."""
    assert response.status_code == code, response.text
    body: dict[str, Any] = response.json()
    assert body["error"] == name
    assert body["message"]
    return body


def check_views(http: TestClient, pid: str) -> tuple[dict[str, Any], int]:
    """The views of the closed proposal; returns its compound's figure and the position."""
    # Views, counted up to the last event by the endpoints' catch-up.
    response = http.get("/views/satisfaction", params={"level": "compound"})
    [compound] = ok(response)
    assert (compound["area_id"], compound["quarter"]) == (COMPOUND, "2026Q2")
    assert (compound["n"], compound["dissatisfied"], compound["rate"]) == (6, 1, "0.8333")
    position = int(response.headers["x-views-position"])
    assert position == state(http).flow.recorder.max_notification_id()
    [district] = ok(http.get("/views/participation", params={"level": "district"}))
    assert (district["quarter"], district["participants"], district["households"]) == (
        "2026Q2",
        6,
        40,
    )
    assert district["council_coverage"] == "1.0000"
    [pipeline] = ok(http.get("/views/pipeline"))
    assert (pipeline["area_id"], pipeline["stages"]) == ("community-1", {"closed": 1})
    assert pipeline["ask_to_decide"]["count"] == 1
    review = ok(http.get("/views/review", params={"quarter": "2026Q2", "level": "compound"}))
    assert [s["area_id"] for s in review["by_satisfaction"]] == [COMPOUND]
    assert review["proposals"][0]["proposal_id"] == pid
    return compound, position


# --- the six steps --------------------------------------------------------------------------


def test_a_proposal_goes_through_the_six_steps_over_http(durable_url: str) -> None:
    with client(durable_url) as http:
        register(http)
        response = ask(http)
        need = ok(response, 201)
        pid = need["id"]
        assert response.headers["location"] == f"/proposals/{pid}"
        assert need["stage"] == "asked"

        p = step(http, pid, "backings", resident="r-2", occurred_at=day(2))
        assert p["backers"] == ["r-2"]
        p = step(
            http,
            pid,
            "discussions",
            attendees=[*MEMBERS, "r-1"],
            summary="LEDs preferred",
            opinions=["motion sensors"],
            actor="m-1",
            occurred_at=day(5),
        )
        assert p["stage"] == "discussing"
        assert p["discussions"][0]["members_present"] == list(MEMBERS)
        p = step(
            http,
            pid,
            "decision",
            outcome="approved",
            vote={"in_favour": 3, "against": 0},
            plan="12 LED fittings",
            budget={"amount": "3600", "funding_sources": ["district fund"]},
            responsible="m-2",
            deadline=day(40)[:10],
            actor="m-1",
            occurred_at=day(5),
        )
        assert (p["stage"], p["round"]) == ("doing", 1)
        p = step(
            http,
            pid,
            "progress",
            percent=50,
            note="half the floors",
            spent="1700",
            actor="m-2",
            occurred_at=day(10),
        )
        assert (p["percent"], p["spent"]) == (50, "1700")
        p = step(
            http,
            pid,
            "completion",
            summary="Installed",
            total_spent="3450.50",
            evidence=["photo:after.jpg"],
            actor="m-2",
            occurred_at=day(20),
        )
        assert p["stage"] == "done"
        p = step(
            http,
            pid,
            "publication",
            channels=["notice_board", "group_chat"],
            summary="Lights are on",
            actor="m-1",
            occurred_at=day(21),
        )
        assert p["stage"] == "rating"
        assert p["publications"][0]["actual_spending"] == "3450.50"
        for resident in RESIDENTS[:6]:
            level = "dissatisfied" if resident == "r-6" else "satisfied"
            p = step(http, pid, "ratings", resident=resident, level=level, occurred_at=day(22))
        assert len(p["ratings"]) == 6
        closed = step(http, pid, "rating-close", actor="m-1", occurred_at=day(52))
        assert closed["stage"] == "closed"
        assert closed["rounds"][0]["satisfaction_rate"] == "0.8333"
        assert closed["rounds"][0]["passed"] is True

        assert ok(http.get(f"/proposals/{pid}")) == closed
        assert ok(http.get(f"/proposals/{pid}", params={"version": 1}))["stage"] == "asked"
        trail = ok(http.get(f"/proposals/{pid}/history"))
        assert [e["version"] for e in trail] == list(range(1, closed["version"] + 1))
        assert trail[0]["event"] == "Asked"
        assert trail[0]["en"] == 'resident r-1 asked for "Fix the stairwell lights" (visit)'
        assert (trail[-1]["stage_before"], trail[-1]["stage_after"]) == ("rating", "closed")
        assert ok(http.get("/verify"))["ok"] is True

        compound, position = check_views(http, pid)

    worker = state(http).views_worker
    assert not worker.is_alive(), "shutdown stops the views worker"

    # A fresh app (another process, or a restart) on the same store sees the same.
    with client(durable_url) as again:
        assert ok(again.get(f"/proposals/{pid}")) == closed
        assert ok(again.get(f"/proposals/{pid}/history")) == trail
        response = again.get("/views/satisfaction", params={"level": "compound", "fresh": False})
        assert ok(response) == [compound]  # the views were kept in the store too
        assert int(response.headers["x-views-position"]) == position


def test_a_rejection_and_a_withdrawal(durable_url: str) -> None:
    with client(durable_url) as http:
        register(http)
        pid = ok(ask(http), 201)["id"]
        discussion = {"attendees": list(MEMBERS), "summary": "Not ours", "actor": "m-1"}
        step(http, pid, "discussions", **discussion, occurred_at=day(3))
        p = step(
            http,
            pid,
            "decision",
            outcome="rejected",
            vote={"in_favour": 2, "against": 1},
            reasons="The utility company repairs these",
            actor="m-1",
            occurred_at=day(3),
        )
        assert p["stage"] == "rejected"
        p = step(
            http,
            pid,
            "publication",
            channels=["notice_board"],
            summary="Rejected: the utility's job",
            actor="m-1",
            occurred_at=day(4),
        )
        assert (p["stage"], p["publications"][0]["reasons"]) == (
            "closed",
            "The utility company repairs these",
        )

        other = ok(ask(http, title="Paint the gate"), 201)["id"]
        p = step(http, other, "withdrawal", reason="Done by volunteers", actor="r-1")
        assert p["stage"] == "withdrawn"


# --- errors ----------------------------------------------------------------------------------


def test_typed_errors_become_http_statuses_with_their_attributes(durable_url: str) -> None:
    with client(durable_url) as http:
        register(http)
        pid = ok(ask(http), 201)["id"]

        # 404: no such proposal; an area nobody registered.
        missing = str(uuid.uuid4())
        body = error(http.get(f"/proposals/{missing}"), 404, "ProposalNotFoundError")
        assert body["message"] == f"proposal {missing} not found"
        assert body["proposal_id"] == missing
        body = error(ask(http, area_id="compound-99"), 404, "MissingRegistrationError")
        assert body["message"] == (
            "no area 'compound-99' is registered at that time; register it with add_area()"
        )
        assert (body["what"], body["identifier"]) == ("area", "compound-99")
        response = http.get(f"/proposals/{pid}", params={"version": 9})
        assert error(response, 404, "ProposalNotFoundError")["version"] == 9

        # 409: a step the stage does not allow, a rule, an id already taken.
        response = http.post(
            f"/proposals/{pid}/publication",
            json={"channels": ["app"], "summary": "Too early", "actor": "m-1"},
        )
        body = error(response, 409, "StepNotAllowedError")
        assert body["message"] == (
            f"cannot publish proposal {pid}: it is in stage 'asked', "
            "where the allowed steps are: back, discuss, withdraw"
        )
        assert (body["stage"], body["step"]) == ("asked", "publish")
        assert body["allowed"] == ["back", "discuss", "withdraw"]
        backing = {"resident": "r-1", "occurred_at": day(2)}
        body = error(
            http.post(f"/proposals/{pid}/backings", json=backing), 409, "RuleViolationError"
        )
        assert body["message"] == (
            f"proposal {pid}: resident r-1 already asked for or backed this need"
        )
        assert body["rule"] == "backing"
        body = error(ask(http, proposal_id=pid), 409, "ProposalAlreadyExistsError")
        assert body["message"] == f"proposal {pid} already exists; choose another id"
        body = error(
            http.post(f"/councils/{COMPOUND}", json={"actor": "office", "occurred_at": day(1)}),
            409,
            "RuleViolationError",
        )
        assert body["proposal_id"] is None

        # 403: someone who is no resident of the area.
        body = error(ask(http, resident="stranger"), 403, "NotEligibleError")
        assert body["message"] == (
            "stranger may not ask about: never registered as a resident "
            "(register them with register_resident())"
        )
        assert (body["who"], body["step"]) == ("stranger", "ask about")

        # 422: values civicflow refuses, one entry per field.
        body = error(ask(http, channel="pigeon", title=" "), 422, "InvalidInputError")
        assert body["what"] == "ask"
        assert {e["field"] for e in body["errors"]} == {"channel", "title"}
        assert "channel" in body["message"]
        naive = ask(http, occurred_at="2026-04-02T09:00:00")
        body = error(naive, 422, "InvalidInputError")
        assert body["errors"] == [
            {
                "field": "occurred_at",
                "message": "must carry a time zone (a naive datetime is ambiguous)",
            }
        ]
        future = ask(http, occurred_at="2026-07-02T09:00:00+00:00")  # the clock says 1 July
        assert "in the future" in error(future, 422, "InvalidInputError")["message"]
        body = error(http.get("/proposals/not-an-id"), 422, "InvalidInputError")
        assert body["errors"] == [{"field": "proposal_id", "message": "'not-an-id' is not a UUID"}]
        body = error(
            http.get("/views/review", params={"quarter": "2026-2"}), 422, "InvalidInputError"
        )
        assert body["errors"] == [{"field": "quarter", "message": "'2026-2' is not like 2026Q3"}]
        # A body of the wrong shape: FastAPI's validation, in the same form.
        response = http.post(f"/proposals/{pid}/backings", json={"residnt": "r-2"})
        body = error(response, 422, "RequestValidationError")
        assert {e["field"] for e in body["errors"]} == {"body.resident", "body.residnt"}

        # Nothing refused was written.
        assert ok(http.get(f"/proposals/{pid}"))["version"] == 1


def test_busy_and_unavailable_stores_ask_clients_to_retry(tmp_path: Any) -> None:
    app = create_app(f"sqlite:///{tmp_path / 'civic.db'}", clock=FakeClock())

    @app.get("/busy")
    def busy() -> None:
        raise ConcurrencyError(uuid.UUID(int=1), 50)

    @app.get("/down")
    def down() -> None:
        raise BackendUnavailableError("the event store failed: connection refused")

    with TestClient(app) as http:
        response = http.get("/busy")
        body = error(response, 409, "ConcurrencyError")
        assert (body["attempts"], body["proposal_id"]) == (50, str(uuid.UUID(int=1)))
        assert response.headers["retry-after"] == "1"
        response = http.get("/down")
        body = error(response, 503, "BackendUnavailableError")
        assert body["message"] == "the event store failed: connection refused"
        assert response.headers["retry-after"] == "5"


# --- the process around the application ----------------------------------------------------


def test_the_views_worker_counts_new_events_by_itself(durable_url: str) -> None:
    """On PostgreSQL it follows the log live; on SQLite it polls."""
    with client(durable_url) as http:
        register(http)
        ok(ask(http), 201)
        last = state(http).flow.recorder.max_notification_id()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            response = http.get("/views/pipeline", params={"fresh": False})
            if int(response.headers["x-views-position"]) >= last:
                break
            time.sleep(0.05)
        assert ok(response)[0]["stages"] == {"asked": 1}


def test_concurrent_requests_share_one_application(durable_url: str) -> None:
    """FastAPI runs endpoints in threads; civicflow re-runs a command that lost a race."""
    with client(durable_url) as http:
        register(http)
        pid = ok(ask(http), 201)["id"]

        def back(resident: str) -> int:
            backing = {"resident": resident, "occurred_at": day(2)}
            return http.post(f"/proposals/{pid}/backings", json=backing).status_code

        with ThreadPoolExecutor(max_workers=8) as pool:
            codes = list(pool.map(back, RESIDENTS[1:]))
        assert codes == [200] * 9
        p = ok(http.get(f"/proposals/{pid}"))
        assert (sorted(p["backers"]), p["version"]) == (sorted(RESIDENTS[1:]), 10)


def test_the_store_comes_from_civicflow_db(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "from-env.db"
    monkeypatch.setenv("CIVICFLOW_DB", f"sqlite:///{path}")
    with TestClient(create_app(clock=FakeClock())) as http:
        register(http)
        assert state(http).flow.env.get("SQLITE_DBNAME") == str(path)
    assert path.exists()
