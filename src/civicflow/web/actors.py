"""Who issues a command, and under which idempotency key: the host says, civicflow records.

civicflow manages no users and no passwords. The host application gives the router
an authentication hook, a FastAPI dependency returning the actor's id (from its own
session, token or a header an authentication proxy sets); every command's ``actor``
is what the hook returns. Without a hook, a command names its actor in the body only
when the host says so explicitly (``trust_body_actor=True``, for demos and tests):
the body is never trusted silently.

The ``Idempotency-Key`` header (a UUID) names the command: its ``command_id`` is derived
from the key with the route, the actor and the body, so the same request again with
the same key never writes twice (it answers what the first recorded), while the key
reused by another user, on another path or with another body is another command.
Without one, the server makes a key and returns it in the same header, so a client
can retry.

No ``from __future__ import annotations``: see ``steps.py``.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID, uuid4, uuid5

from fastapi import Depends, Header, HTTPException, Request, Response

from civicflow.errors import ConfigurationError, InvalidInputError
from civicflow.web.access import Hook, as_dependency, flag, require
from civicflow.web.errors import IDEMPOTENCY_HEADER
from civicflow.web.models import Body

ActorHook = Hook  # a FastAPI dependency returning the actor's id (or None)
KEY_DESCRIPTION = (
    "a UUID; the same key with the same request again never writes twice (default: a new one)"
)
# Where command ids derived from keys live: uuid5(KEYS, the key and what was asked).
KEYS = UUID("5b0e7a52-3c1e-4f7e-9a0c-6c1f1c9e2d41")


@dataclass(frozen=True)
class Command:
    """What a command endpoint adds to its body: the actor, the key, what may be done."""

    actor: str | None
    key: UUID
    route: str  # the method and path the command came to
    from_hook: bool
    office: bool  # the caller registers the community and acts for residents

    def fields(
        self, body: Body, *, resident: str | None = None, office_only: bool = False
    ) -> dict[str, Any]:
        """The body's fields as keyword arguments of the use case, with actor and id.

        ``resident``: the step is this resident's own (ask, back, rate; the asker's
        withdrawal): an authenticated caller takes it only as that resident, unless an
        office. A resident's own step may leave the actor out: it is the resident.
        ``office_only``: only an office may (registering the community).

        The command's id is derived from the key together with the route, the actor and
        the body: a retry (the same request again) is the same command, and the same key
        sent by someone else, to another path or with another body is another command.

        Raises:
            InvalidInputError: the body names an actor that the hook decides, or the
                body must name one and does not.
            HTTPException: 403, the caller may not take this step.
        """
        actor = self.actor
        if self.from_hook and body.actor is not None:
            problem = "the actor comes from authentication: leave it out of the body"
            raise InvalidInputError("request", [("actor", problem)])
        if not self.from_hook:
            actor = body.actor or resident
            if actor is None:
                raise InvalidInputError("request", [("actor", "required: who did it")])
        if office_only and not self.office:
            require(False, "only an office registers the community")
        if self.from_hook and resident is not None and resident != actor and not self.office:
            require(False, f"{actor} cannot take this step for {resident}: only an office can")
        fields = body.model_dump(exclude={"actor"})
        return {**fields, "actor": actor, "command_id": self.command_id(actor, body)}

    def command_id(self, actor: str | None, body: Body) -> UUID:
        """The id of the command this key names, for this route, actor and body."""
        what = {
            "key": str(self.key),
            "route": self.route,
            "actor": actor,
            "body": body.model_dump(mode="json"),
        }
        canonical = json.dumps(what, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return uuid5(KEYS, canonical)


def actor_from_header(name: str) -> ActorHook:
    """A hook for a server behind an authentication proxy: the actor is the header ``name``
    the proxy sets (``X-Remote-User``, say). Only behind a proxy that always sets it: a
    client that reaches the server directly could name anyone."""

    def actor(value: Annotated[str | None, Header(alias=name)] = None) -> str | None:
        return value

    return actor


def command_dependency(
    hook: ActorHook | None, trust_body_actor: bool, office: Hook | None = None
) -> Callable[..., Command]:
    """The dependency every command endpoint takes: the actor, the key, whether an office.

    Raises:
        ConfigurationError: both a hook and ``trust_body_actor`` were given.
    """
    if hook is not None and trust_body_actor:
        raise ConfigurationError("give an actor hook or trust_body_actor=True, not both")
    who = as_dependency(hook) if hook is not None else _nobody
    is_office = flag(office, default=trust_body_actor)

    def command(
        request: Request,
        response: Response,
        actor: Annotated[Any, Depends(who)],
        office: Annotated[Any, Depends(is_office)],
        key: Annotated[
            str | None, Header(alias=IDEMPOTENCY_HEADER, description=KEY_DESCRIPTION)
        ] = None,
    ) -> Command:
        given = _key(key)
        request.state.command_id = given  # error answers carry it too
        response.headers[IDEMPOTENCY_HEADER] = str(given)
        if hook is not None and (not isinstance(actor, str) or not actor):
            raise HTTPException(401, "not authenticated: the server cannot tell who you are")
        return Command(
            actor=actor,
            key=given,
            route=f"{request.method} {request.url.path}",
            from_hook=hook is not None,
            office=office is True,
        )

    return command


def _nobody() -> None:
    return None


def _key(given: str | None) -> UUID:
    if given is None:
        return uuid4()
    try:
        return UUID(given)
    except ValueError:
        problem = f"{given!r} is not a UUID"
        raise InvalidInputError("request", [(IDEMPOTENCY_HEADER, problem)]) from None
