"""``router()``: the whole API as one FastAPI router, to mount under any prefix.

Its routes answer every error in civicflow's shape (``errors.py``), and its last
route catches every other path under the prefix, so that an unknown path gets a
404 and a known path with the wrong method a 405 in the same shape, while the
host's other routes and exception handlers stay as they are.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from civicflow.audit.signing import Signer
from civicflow.errors import ConfigurationError
from civicflow.web.access import Hook, as_dependency, flag
from civicflow.web.actors import ActorHook, command_dependency
from civicflow.web.audit import add_audit
from civicflow.web.errors import ERROR_RESPONSES, CivicRoute
from civicflow.web.figures import add_figures
from civicflow.web.service import FlowSource, Service
from civicflow.web.steps import add_steps
from civicflow.web.structure import add_structure_commands, add_structure_reads

METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
SERVICE_ATTRIBUTE = "civicflow_service"  # where a router keeps its service, for tests


def router(
    flow: FlowSource,
    *,
    actor: ActorHook | None = None,
    trust_body_actor: bool = False,
    read_only: bool = False,
    office: Hook | None = None,
    auditor: Hook | None = None,
    k: int = 5,
    signer: Signer | None = None,
    follow_views: bool = True,
    verify: bool = True,
    catch_all: bool = True,
) -> APIRouter:
    """The civicflow API over ``flow``: a ``CivicFlow``, or a callable that opens one.

    Args:
        flow: an application the host opened (and closes), or a factory called once, on
            the first request or at the host's start-up (the router then closes it).
        actor: the authentication hook, a FastAPI dependency returning the actor's id;
            None, or an empty id, answers 401. Exactly one of ``actor``,
            ``trust_body_actor`` and ``read_only`` must be given.
        trust_body_actor: commands name their actor in the body (demos and tests only).
        read_only: no commands at all: the community, proposals, views and audit.
        office: a hook (a FastAPI dependency, or a ``Callable[[Request], bool]``) saying
            whether the caller is an office: it registers the community and may take a
            resident's step for them. Default: nobody, or everybody with
            ``trust_body_actor=True``. Anyone else takes a resident's step only as that
            resident (else 403).
        auditor: a hook of the same form saying whether the caller may read what is
            personal: residents' homes, the history with residents, others' receipts,
            ``/verify``. Default: nobody.
        k: the smallest number of residents a figure shown may come from.
        signer: the log's signing key, for receipts (the key of the store's
            transparency policy, if it has one); without it receipts answer 404.
        follow_views: keep the views counted by a worker thread (else on request only).
        verify: offer ``GET /verify``, which reads the whole store.
        catch_all: answer unknown paths under the prefix in civicflow's shape; leave it
            on unless the router is mounted without a prefix beside other routes.

    Raises:
        ConfigurationError: not exactly one of ``actor``, ``trust_body_actor`` and
            ``read_only``, or ``k`` below 1.
    """
    _check_choice(actor, trust_body_actor, read_only, k)
    service = Service(flow, k=k, follow=follow_views, signer=signer)
    api = APIRouter(
        route_class=CivicRoute,
        responses=ERROR_RESPONSES,
        lifespan=_lifespan(service),
        generate_unique_id_function=_operation_id,
    )
    setattr(api, SERVICE_ATTRIBUTE, service)
    if not read_only:
        command = command_dependency(actor, trust_body_actor, office)
        add_structure_commands(api, _flow(service), command)
        add_steps(api, _flow(service), command)
    is_auditor = flag(auditor)
    add_structure_reads(api, _flow(service), is_auditor)
    caller = as_dependency(actor) if actor is not None else flag(None)
    add_audit(api, _flow(service), signer, auditor=is_auditor, caller=caller, verify=verify)
    add_figures(api, _views(service))
    if catch_all:
        _add_catch_all(api)
    return api


def create_app(flow: FlowSource, *, title: str = "civicflow", **options: Any) -> FastAPI:
    """A FastAPI application serving ``router(flow, **options)`` at its root."""
    app = FastAPI(
        title=title,
        summary="Ask, Discuss, Decide, Do, Publish, Rate (问议定办晒评) over HTTP",
        version="1",
    )
    app.include_router(router(flow, **options))
    return app


def service_of(api: APIRouter) -> Service:
    """The service a router answers from (its application, views and worker)."""
    service: Service = getattr(api, SERVICE_ATTRIBUTE)
    return service


def _operation_id(route: APIRoute) -> str:
    # Client generators name their methods after these: civicflow_ask, civicflow_rate...
    return f"civicflow_{route.name}"


def _check_choice(actor: ActorHook | None, trust: bool, read_only: bool, k: int) -> None:
    chosen = [actor is not None, trust, read_only].count(True)
    if chosen != 1:
        raise ConfigurationError(
            "say who the actor of a command is: give exactly one of actor= (an "
            "authentication hook), trust_body_actor=True (demos) or read_only=True"
        )
    if k < 1:
        raise ConfigurationError("k must be at least 1")


def _flow(service: Service) -> Callable[[], Any]:
    def flow() -> Any:
        return service.flow

    return flow


def _views(service: Service) -> Callable[[], Any]:
    def views() -> Any:
        return service.views

    return views


def _lifespan(service: Service) -> Callable[[Any], Any]:
    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        await run_in_threadpool(service.start)  # a store that cannot open stops the start
        try:
            yield
        finally:
            await run_in_threadpool(service.close)

    return lifespan


def _add_catch_all(api: APIRouter) -> None:
    """A last route for every other path and method under the prefix: 404, or 405 with
    ``Allow`` when the path is known. Starlette would answer these itself, but only
    after the host's routes, and with the host's handlers: not in civicflow's shape."""
    known = [
        (r.path_regex, _with_head(r.methods or set()))
        for r in api.routes
        if isinstance(r, APIRoute)
    ]

    @api.api_route("/{path:path}", methods=METHODS, include_in_schema=False)
    def unknown(path: str, request: Request) -> None:
        allowed = sorted(
            {m for regex, methods in known if regex.match(f"/{path}") for m in methods}
        )
        if allowed:
            headers = {"Allow": ", ".join(allowed)}
            message = f"{request.method} is not allowed here; allowed: {', '.join(allowed)}"
            raise HTTPException(405, message, headers)
        raise HTTPException(404, f"no such path: {request.url.path}")


def _with_head(methods: set[str]) -> set[str]:
    return methods | {"HEAD"} if "GET" in methods else methods
