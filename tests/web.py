"""Helpers of the web API's tests: a host app mounting the router, and a community.

Every step carries its ``occurred_at``; the community is registered on 1 April 2026
and the application's fake clock stands at 1 July 2026, so the 30-day rating window of
a round published in April has passed when it is closed.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI, Request

from civicflow import CivicFlow
from civicflow.web import router, service_of
from civicflow.web.service import Service
from tests.conftest import FakeClock

with warnings.catch_warnings():
    # starlette 1.x asks for httpx2 under its TestClient; httpx is what the tests have.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

START = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)
PREFIX = "/civic"
COMPOUND = "compound-7"
MEMBERS = ("m-1", "m-2", "m-3")
RESIDENTS = tuple(f"r-{n}" for n in range(1, 11))
USER = "X-User"  # the test host's "authentication": a header naming the user


def day(n: int) -> str:
    """``n`` days after the community was registered, as JSON sends it."""
    return (START + timedelta(days=n)).isoformat()


OFFICE, AUDITOR = "office", "auditor"  # the test host's roles: one user each


def user(request: Request) -> str | None:
    """The test host's authentication hook."""
    return request.headers.get(USER)


def office(request: Request) -> bool:
    """The test host's office hook: the user ``office``."""
    return request.headers.get(USER) == OFFICE


def auditor(request: Request) -> bool:
    """The test host's auditor hook: the user ``auditor``."""
    return request.headers.get(USER) == AUDITOR


def host(url: str, **options: Any) -> FastAPI:
    """A host app with a route of its own and the router under ``PREFIX``."""
    clock = FakeClock()
    app = FastAPI()

    @app.get("/own")
    def own() -> dict[str, str]:
        return {"host": "yes"}

    options = options or {"actor": user, "office": office, "auditor": auditor}
    app.state.civic = router(opener(url, clock), **options)
    app.include_router(app.state.civic, prefix=PREFIX)
    return app


def service(http: TestClient) -> Service:
    """The service of the router a test client's host mounted."""
    return service_of(http.app.state.civic)  # type: ignore[attr-defined]


def opener(url: str, clock: FakeClock | None = None) -> Callable[[], CivicFlow]:
    return lambda: CivicFlow.open(url, clock=clock or FakeClock())


def client(url: str, **options: Any) -> TestClient:
    """A client of a fresh host app on ``url``; use it in ``with`` so that the lifespan runs."""
    return TestClient(host(url, **options))


def ok(response: Any, code: int = 200) -> Any:
    assert response.status_code == code, response.text
    return response.json()


def as_(who: str) -> dict[str, str]:
    return {USER: who}


def post(http: TestClient, path: str, body: dict[str, Any], who: str = "office", **h: str) -> Any:
    return http.post(f"{PREFIX}{path}", json=body, headers={**as_(who), **h})


def get(http: TestClient, path: str, who: str | None = None, **params: Any) -> Any:
    return http.get(f"{PREFIX}{path}", params=params, headers=as_(who) if who else {})


def register(http: TestClient) -> None:
    """district-1 > street-1 > community-1 > compound-7, a council of three, ten residents."""
    for kind, area_id, parent in (
        ("district", "district-1", None),
        ("street", "street-1", "district-1"),
        ("community", "community-1", "street-1"),
    ):
        area = {"area_id": area_id, "kind": kind, "name": area_id.title(), "parent_id": parent}
        ok(post(http, "/areas", {**area, "occurred_at": day(0)}), 201)
    compound = {
        "area_id": COMPOUND,
        "kind": "compound",
        "name": "Hongqi Building 7",
        "parent_id": "community-1",
        "is_old": True,
        "has_property_management": False,
        "households": 40,
        "occurred_at": day(0),
    }
    assert ok(post(http, "/areas", compound), 201)["has_council"] is False
    ok(post(http, f"/councils/{COMPOUND}", {"occurred_at": day(0)}), 201)
    for member in MEMBERS:
        seat = {"member": member, "via": "election", "occurred_at": day(0)}
        council = ok(post(http, f"/councils/{COMPOUND}/members", seat), 201)
    assert [m["member"] for m in council["memberships"]] == list(MEMBERS)
    residents = {"resident_ids": list(RESIDENTS), "compound_id": COMPOUND, "occurred_at": day(0)}
    homes = ok(post(http, "/residents", residents), 201)
    assert [h["resident_id"] for h in homes] == list(RESIDENTS)


def ask(http: TestClient, who: str = "r-1", **overrides: Any) -> Any:
    need = {
        "title": "Fix the stairwell lights",
        "details": "Dark at night",
        "category": "lighting",
        "area_id": COMPOUND,
        "resident": "r-1",
        "channel": "visit",
        "occurred_at": day(1),
    }
    headers = overrides.pop("headers", {})
    return post(http, "/proposals", {**need, **overrides}, who, **headers)


def step(http: TestClient, pid: str, path: str, who: str, **body: Any) -> Any:
    """POST one step as ``who``; returns the proposal just after it."""
    return ok(post(http, f"/proposals/{pid}/{path}", body, who))


def error(response: Any, code: int, kind: str) -> dict[str, Any]:
    """The error of a refused request, checked for status, shape and type."""
    assert response.status_code == code, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"type", "message", "details", "attributes"}
    assert body["error"]["type"] == kind, body
    assert body["error"]["message"]
    info: dict[str, Any] = body["error"]
    return info


__all__ = [
    "AUDITOR",
    "COMPOUND",
    "MEMBERS",
    "OFFICE",
    "PREFIX",
    "RESIDENTS",
    "TestClient",
    "as_",
    "ask",
    "auditor",
    "client",
    "day",
    "error",
    "get",
    "host",
    "office",
    "ok",
    "opener",
    "post",
    "register",
    "service",
    "step",
    "user",
]
