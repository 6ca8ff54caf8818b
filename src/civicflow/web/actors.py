"""Who issues a command, and under which idempotency key: the host says, civicflow records.

civicflow manages no users and no passwords. The host application gives the router
an authentication hook, a FastAPI dependency returning the actor's id (from its own
session, token or a header an authentication proxy sets); every command's ``actor``
is what the hook returns. Without a hook, a command names its actor in the body only
when the host says so explicitly (``trust_body_actor=True``, for demos and tests):
the body is never trusted silently.

The ``Idempotency-Key`` header (a UUID) is the command's ``command_id``: the same key
again never writes twice, it answers what the first request recorded. Without one,
the server makes a key and returns it in the same header, so a client can retry.

No ``from __future__ import annotations``: see ``steps.py``.
"""

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID, uuid4

from fastapi import Depends, Header, HTTPException, Request, Response

from civicflow.errors import ConfigurationError, InvalidInputError
from civicflow.web.errors import IDEMPOTENCY_HEADER
from civicflow.web.models import Body

ActorHook = Callable[..., Any]  # a FastAPI dependency returning the actor's id (or None)
KEY_DESCRIPTION = "a UUID; the same key again never writes twice (default: a new one)"


@dataclass(frozen=True)
class Command:
    """What a command endpoint adds to its body: the actor and the command's id."""

    actor: str | None
    command_id: UUID
    from_hook: bool

    def fields(self, body: Body, *, resident_step: bool = False) -> dict[str, Any]:
        """The body's fields as keyword arguments of the use case, with actor and id.

        A resident's own step (ask, back, rate) may leave the actor out: it is the
        resident.

        Raises:
            InvalidInputError: the body names an actor that the hook decides, or the
                body must name one and does not.
        """
        actor = self.actor
        if self.from_hook and body.actor is not None:
            problem = "the actor comes from authentication: leave it out of the body"
            raise InvalidInputError("request", [("actor", problem)])
        if not self.from_hook:
            actor = body.actor
            if actor is None and not resident_step:
                raise InvalidInputError("request", [("actor", "required: who did it")])
        return {**body.model_dump(exclude={"actor"}), "actor": actor, "command_id": self.command_id}


def actor_from_header(name: str) -> ActorHook:
    """A hook for a server behind an authentication proxy: the actor is the header ``name``
    the proxy sets (``X-Remote-User``, say). Only behind a proxy that always sets it: a
    client that reaches the server directly could name anyone."""

    def actor(value: Annotated[str | None, Header(alias=name)] = None) -> str | None:
        return value

    return actor


def command_dependency(hook: ActorHook | None, trust_body_actor: bool) -> Callable[..., Command]:
    """The dependency every command endpoint takes: the actor, and the idempotency key.

    Raises:
        ConfigurationError: both a hook and ``trust_body_actor`` were given.
    """
    if hook is not None and trust_body_actor:
        raise ConfigurationError("give an actor hook or trust_body_actor=True, not both")
    who = _dependency(hook) if hook is not None else _nobody

    def command(
        request: Request,
        response: Response,
        actor: Annotated[Any, Depends(who)],
        key: Annotated[
            str | None, Header(alias=IDEMPOTENCY_HEADER, description=KEY_DESCRIPTION)
        ] = None,
    ) -> Command:
        command_id = _key(key)
        request.state.command_id = command_id  # error answers carry it too
        response.headers[IDEMPOTENCY_HEADER] = str(command_id)
        if hook is not None and (not isinstance(actor, str) or not actor):
            raise HTTPException(401, "not authenticated: the server cannot tell who you are")
        return Command(actor=actor, command_id=command_id, from_hook=hook is not None)

    return command


def _dependency(hook: ActorHook) -> ActorHook:
    """The hook as a FastAPI dependency: a plain ``Callable[[Request], str]`` (one
    parameter, not annotated: a lambda, say) is given the request; anything else is a
    dependency already, whose parameters FastAPI fills."""
    try:
        parameters = list(inspect.signature(hook).parameters.values())
    except (TypeError, ValueError):  # a builtin or a C callable: FastAPI will say
        return hook
    if len(parameters) == 1 and parameters[0].annotation is inspect.Parameter.empty:

        def from_request(request: Request) -> Any:
            return hook(request)

        return from_request
    return hook


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
