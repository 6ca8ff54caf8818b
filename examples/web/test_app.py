# ruff: noqa: S101 (asserts are how pytest checks)
"""The host example: its own authentication decides civicflow's actor, on SQLite and PostgreSQL.

The whole API is tested in ``tests/test_web*.py``; this checks what the example adds.
"""

from __future__ import annotations

import warnings
from datetime import UTC, datetime
from typing import Any

from tests.conftest import FakeClock

from civicflow import CivicFlow
from examples.web.app import PREFIX, create_app

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

TOKENS = {"t-office": "office", "t-r1": "r-1"}
AT = datetime(2026, 4, 1, 9, 0, tzinfo=UTC).isoformat()


def as_(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def ok(response: Any, code: int = 200) -> Any:
    assert response.status_code == code, response.text
    return response.json()


def test_the_hosts_users_are_civicflows_actors(durable_url: str) -> None:
    app = create_app(durable_url, clock=FakeClock(), tokens=TOKENS)
    with TestClient(app) as http:
        assert ok(http.get("/me", headers=as_("t-r1"))) == {"user": "r-1"}
        district = {"area_id": "district-1", "kind": "district", "name": "D", "occurred_at": AT}
        ok(http.post(f"{PREFIX}/areas", json=district, headers=as_("t-office")), 201)
        other = {**district, "area_id": "district-3"}
        assert http.post(f"{PREFIX}/areas", json=other, headers=as_("t-r1")).status_code == 403
        areas = ok(http.get(f"{PREFIX}/areas"))
        assert [a["id"] for a in areas] == ["district-1"]

        # No token: the host's 401 from its own route, civicflow's shape under /civic.
        assert http.get("/me").json() == {"detail": "log in first"}
        refused = http.post(f"{PREFIX}/areas", json={**district, "area_id": "district-2"})
        assert refused.status_code == 401
        assert refused.json()["error"]["type"] == "Unauthorized"
        assert refused.headers["www-authenticate"] == "Bearer"

    with CivicFlow.open(durable_url, create=False, clock=FakeClock()) as flow:
        assert [area.id for area in flow.areas()] == ["district-1"]
