"""The web API's edges: one error shape for everything, the actor hook, mounting, receipts.

The router lives in a host app (``tests/web.py``): its routes and errors must be
civicflow's under the prefix, and the host's own everywhere else.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi import FastAPI, HTTPException, Request

from civicflow import (
    BackendUnavailableError,
    CivicFlow,
    ConcurrencyError,
    ConfigurationError,
    Transparency,
)
from civicflow.audit.signing import Signer
from civicflow.audit.transparency import Receipt, check_receipt
from civicflow.web import actor_from_header, create_app, router
from tests.conftest import FakeClock
from tests.web import (
    PREFIX,
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
)


def test_unknown_paths_and_methods_under_the_prefix_get_civicflows_shape_and_no_other(
    sqlite_url: str,
) -> None:
    with client(sqlite_url) as http:
        body = error(http.get(f"{PREFIX}/nowhere"), 404, "NotFound")
        assert body["message"] == f"no such path: {PREFIX}/nowhere"
        response = http.delete(f"{PREFIX}/areas")
        error(response, 405, "MethodNotAllowed")
        assert response.headers["allow"] == "GET, HEAD, POST"
        # The host's own routes and its own 404 are left alone.
        assert ok(http.get("/own")) == {"host": "yes"}
        assert http.get("/nowhere").json() == {"detail": "Not Found"}


def test_malformed_json_and_bodies_of_the_wrong_shape_are_422_in_the_same_shape(
    sqlite_url: str,
) -> None:
    with client(sqlite_url) as http:
        headers = {"X-User": "office", "content-type": "application/json"}
        response = http.post(f"{PREFIX}/areas", content=b'{"area_id": ', headers=headers)
        body = error(response, 422, "InvalidInputError")
        assert body["details"][0]["message"] == "JSON decode error"
        body = error(
            post(http, "/areas", {"area_id": "a", "kind": "district"}), 422, "InvalidInputError"
        )
        assert body["details"] == [{"field": "body.name", "message": "Field required"}]
        body = error(
            post(http, "/areas", {"area_id": "a", "kind": "moon", "name": "A"}),
            422,
            "InvalidInputError",
        )
        assert [d["field"] for d in body["details"]] == ["kind"]
        body = error(get(http, "/areas", as_of="2026-04-01T09:00:00"), 422, "InvalidInputError")
        assert body["details"][0]["field"] == "as_of"


def test_the_hook_decides_the_actor_and_none_is_401(sqlite_url: str) -> None:
    with client(sqlite_url) as http:
        response = http.post(
            f"{PREFIX}/areas", json={"area_id": "a", "kind": "district", "name": "A"}
        )
        error(response, 401, "Unauthorized")
        assert uuid.UUID(response.headers["idempotency-key"])
        body = error(ask(http, actor="r-1"), 422, "InvalidInputError")
        assert body["details"] == [
            {
                "field": "actor",
                "message": "the actor comes from authentication: leave it out of the body",
            }
        ]


def test_the_hosts_own_http_errors_keep_their_status_and_headers(sqlite_url: str) -> None:
    def bearer(request: Request) -> str:
        raise HTTPException(401, "log in first", {"WWW-Authenticate": "Bearer"})

    with client(sqlite_url, actor=bearer) as http:
        response = ask(http)
        assert error(response, 401, "Unauthorized")["message"] == "log in first"
        assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(
    ("raised", "code", "kind", "retry"),
    [
        (RuntimeError("password=hunter2 at /etc/civic"), 500, "InternalError", None),
        (
            ConfigurationError("database civic does not exist at db:5432"),
            500,
            "InternalError",
            None,
        ),
        (
            BackendUnavailableError("connection refused at db:5432"),
            503,
            "BackendUnavailableError",
            "5",
        ),
        (ConcurrencyError(uuid.UUID(int=1), 50), 409, "ConcurrencyError", "1"),
    ],
)
def test_server_failures_never_leak_and_say_when_to_retry(
    sqlite_url: str, raised: Exception, code: int, kind: str, retry: str | None
) -> None:
    def failing(request: Request) -> str:
        raise raised

    with client(sqlite_url, actor=failing) as http:
        response = ask(http)
        error(response, code, kind)
        assert response.headers.get("retry-after") == retry
        if code >= 500:
            assert "hunter2" not in response.text
            assert "db:5432" not in response.text


def test_trusting_the_body_is_explicit_and_then_the_body_names_the_actor(sqlite_url: str) -> None:
    with pytest.raises(ConfigurationError, match="exactly one of"):
        router(CivicFlow())
    with pytest.raises(ConfigurationError, match="exactly one of"):
        router(CivicFlow(), actor=lambda request: "x", trust_body_actor=True)
    with client(sqlite_url, trust_body_actor=True) as http:
        area = {"area_id": "d", "kind": "district", "name": "D", "occurred_at": day(0)}
        body = error(post(http, "/areas", area), 422, "InvalidInputError")
        assert body["details"] == [{"field": "actor", "message": "required: who did it"}]
        ok(post(http, "/areas", {**area, "actor": "office"}), 201)


def test_a_read_only_router_has_no_commands(sqlite_url: str) -> None:
    with client(sqlite_url, read_only=True) as http:
        error(post(http, "/areas", {"area_id": "d"}), 405, "MethodNotAllowed")
        error(ask(http), 404, "NotFound")
        assert ok(get(http, "/areas")) == []


def test_receipts_and_heads_with_a_signing_key(tmp_path: Any) -> None:
    signer, feed = Signer.generate("civicflow.test/web"), list[str]()
    flow = CivicFlow.open(
        f"sqlite:///{tmp_path / 'civic.db'}",
        clock=FakeClock(),
        transparency=Transparency(signer, feed.append),
    )
    app = FastAPI()
    app.include_router(
        router(flow, actor=actor_from_header("X-User"), office=office, signer=signer),
        prefix=PREFIX,
    )
    with flow, TestClient(app) as http:
        error(get(http, "/heads/last"), 404, "NotOfferedError")
        register(http)
        pid = ok(ask(http), 201)["id"]
        # The receipt of r-1's ask is r-1's: nobody else's.
        error(get(http, f"/proposals/{pid}/receipt", "r-2"), 403, "Forbidden")
        receipt = Receipt.model_validate(ok(get(http, f"/proposals/{pid}/receipt", "r-1")))
        head = check_receipt(receipt, signer.verifier)
        assert (receipt.id, receipt.version) == (pid, 1)
        assert ok(get(http, "/heads/last"))["size"] == head.size
        assert len(feed) == 1  # the head the receipt leads to was published

    with TestClient(create_app(CivicFlow(), read_only=True)) as http:
        body = error(http.get(f"/proposals/{uuid.uuid4()}/receipt"), 404, "NotOfferedError")
        assert body["message"] == "no receipts: this server has no signing key"
