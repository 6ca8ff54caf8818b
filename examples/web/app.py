"""A host application that mounts civicflow's HTTP API, with authentication of its own.

The host is a district office's web service. It has its own users (here, API tokens
mapped to user ids; a real one has its login, sessions or an identity provider) and its
own routes (``GET /me``). civicflow's router (``civicflow.web.router``) is mounted under
``/civic``; the host hands it its authentication dependency, and every command civicflow
records names the user that dependency returned as its actor; and says which of its
users are offices (they register the community and may act for residents).
civicflow never sees a token or a password.

Run it with ``uvicorn examples.web.app:create_app --factory`` (see ``README.md``).

No ``from __future__ import annotations``: FastAPI reads the annotations of ``me``,
which name ``current_user``, a dependency made inside ``create_app``.
"""

import os
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from civicflow import CivicFlow
from civicflow.web import router

DEFAULT_DB = "sqlite:///civicflow-web.db"
PREFIX = "/civic"


def tokens_from_env() -> dict[str, str]:
    """``EXAMPLE_TOKENS="token1=office,token2=m-1"``: who each API token belongs to."""
    pairs = (item.split("=", 1) for item in os.environ.get("EXAMPLE_TOKENS", "").split(","))
    return dict(p for p in pairs if len(p) == 2)


def authentication(tokens: Mapping[str, str]) -> Callable[..., str]:
    """The host's own authentication: a bearer token from its token table."""
    bearer = HTTPBearer(auto_error=False)

    def current_user(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> str:
        user = tokens.get(credentials.credentials) if credentials else None
        if user is None:
            raise HTTPException(401, "log in first", {"WWW-Authenticate": "Bearer"})
        return user

    return current_user


def create_app(
    store_url: str | None = None,
    clock: Callable[[], datetime] | None = None,
    tokens: Mapping[str, str] | None = None,
) -> FastAPI:
    """The host app on the store at ``store_url`` (default: ``CIVICFLOW_DB``, then a file)."""
    url = store_url or os.environ.get("CIVICFLOW_DB") or DEFAULT_DB
    options: dict[str, Any] = {"clock": clock} if clock is not None else {}
    current_user = authentication(tokens if tokens is not None else tokens_from_env())
    app = FastAPI(title="Shanyang district office")

    @app.get("/me")
    def me(user: Annotated[str, Depends(current_user)]) -> dict[str, str]:
        """The host's own route: who the token belongs to."""
        return {"user": user}

    offices = set(os.environ.get("EXAMPLE_OFFICES", "office").split(","))

    def is_office(user: Annotated[str, Depends(current_user)]) -> bool:
        """The host's own roles: which users are offices."""
        return user in offices

    # One application per process: the router opens it (on start-up) and closes it.
    civic = router(lambda: CivicFlow.open(url, **options), actor=current_user, office=is_office)
    app.include_router(civic, prefix=PREFIX)
    return app
