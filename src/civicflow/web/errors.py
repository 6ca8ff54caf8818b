"""One error shape for every error the API answers, and the route class that renders it.

A router cannot install exception handlers: FastAPI keeps those on the application,
which here belongs to the host. So every civicflow route is a ``CivicRoute``, whose
handler catches what the endpoint, its dependencies (the host's authentication hook
among them) and FastAPI's own request validation raise, and answers in civicflow's
shape; the host's handlers and its other routes are left alone. The catch-all route
at the end of the router (``router.py``) gives unknown paths and methods under the
prefix the same shape.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Mapping
from http import HTTPStatus
from typing import Any

from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import Message, Receive, Scope, Send

from civicflow.errors import (
    BackendUnavailableError,
    CivicflowError,
    CommandOutcomeUnknownError,
    ConcurrencyError,
    InvalidInputError,
    MissingRegistrationError,
    NotEligibleError,
    ProposalAlreadyExistsError,
    ProposalNotFoundError,
    RuleViolationError,
    StepNotAllowedError,
)

logger = logging.getLogger("civicflow.web")

RETRY_AFTER = 5  # seconds a client waits after a 503
IDEMPOTENCY_HEADER = "Idempotency-Key"
# What FastAPI raises (as a 400) for a body it cannot even decode: answered as malformed
# JSON is, 422, so that every request of the wrong shape gets one status.
UNPARSABLE = "There was an error parsing the body"


class NotOfferedError(CivicflowError, LookupError):
    """This server does not offer what was asked (no signing key for receipts, no head yet)."""

    def __init__(self, what: str, reason: str) -> None:
        self.what = what
        super().__init__(f"no {what}: {reason}")


# An error gets the status of the first class of its MRO listed here (others: 500).
ERROR_STATUS: dict[type[CivicflowError], int] = {
    ProposalNotFoundError: 404,
    MissingRegistrationError: 404,
    NotOfferedError: 404,
    StepNotAllowedError: 409,
    RuleViolationError: 409,
    ConcurrencyError: 409,
    ProposalAlreadyExistsError: 409,
    NotEligibleError: 403,
    InvalidInputError: 422,
    BackendUnavailableError: 503,
    CommandOutcomeUnknownError: 503,
}


class ErrorDetail(BaseModel):
    """One problem with one field of the request."""

    model_config = ConfigDict(extra="forbid")

    field: str = Field(description="where: a body field, a query or path parameter")
    message: str


class ErrorInfo(BaseModel):
    """What went wrong: the error's class, a readable message, and what it is about."""

    model_config = ConfigDict(extra="forbid")

    type: str = Field(description="the civicflow error class, or the HTTP status' name")
    message: str
    details: list[ErrorDetail] = Field(default=[], description="one entry per field at fault")
    attributes: dict[str, Any] = Field(
        default={}, description="the error's structured attributes (rule, stage, allowed...)"
    )


class ErrorBody(BaseModel):
    """Every error answer of the API has this body."""

    model_config = ConfigDict(extra="forbid")

    error: ErrorInfo


def status_of(error: CivicflowError) -> int:
    """The HTTP status of a civicflow error (500 for one not in ``ERROR_STATUS``)."""
    return next((ERROR_STATUS[c] for c in type(error).__mro__ if c in ERROR_STATUS), 500)


def error_response(error: Exception, request: Request) -> JSONResponse:
    """The answer to any exception raised while serving a civicflow route."""
    if isinstance(error, CivicflowError):
        return _civicflow(error, request)
    if isinstance(error, RequestValidationError):
        return _invalid_request(error, request)
    if isinstance(error, HTTPException):
        return _http(error, request)
    logger.exception("%s %s failed", request.method, request.url.path)
    return _internal(request)


def answer(
    request: Request, status: int, info: ErrorInfo, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """An error response, with the request's idempotency key when it had one."""
    headers = dict(headers or {})
    key = getattr(request.state, "command_id", None)
    if key is not None:
        headers[IDEMPOTENCY_HEADER] = str(key)
    body = ErrorBody(error=info).model_dump(mode="json")
    return JSONResponse(body, status_code=status, headers=headers)


def _civicflow(error: CivicflowError, request: Request) -> JSONResponse:
    status = status_of(error)
    if status == 503:
        # The message names hosts and drivers: the operator reads it in the log.
        logger.warning("%s %s: %s", request.method, request.url.path, error)
        attributes = {}
        if isinstance(error, CommandOutcomeUnknownError):
            attributes["command_id"] = str(error.command_id)
        message = "the store is unavailable: retry later with the same Idempotency-Key"
        info = ErrorInfo(type=type(error).__name__, message=message, attributes=attributes)
        return answer(request, 503, info, {"Retry-After": str(RETRY_AFTER)})
    if status >= 500:
        logger.error("%s %s: %r", request.method, request.url.path, error)
        return _internal(request)
    details = []
    if isinstance(error, InvalidInputError):
        details = [ErrorDetail(field=f, message=m) for f, m in error.errors]
    info = ErrorInfo(
        type=type(error).__name__, message=str(error), details=details, attributes=_attrs(error)
    )
    headers = {"Retry-After": "1"} if isinstance(error, ConcurrencyError) else None
    return answer(request, status, info, headers)


def _attrs(error: CivicflowError) -> dict[str, Any]:
    attributes = {k: v for k, v in vars(error).items() if not k.startswith("_") and k != "errors"}
    encoded: dict[str, Any] = jsonable_encoder(attributes)
    return encoded


def _invalid_request(
    error: RequestValidationError, request: Request, details: list[ErrorDetail] | None = None
) -> JSONResponse:
    """A request of the wrong shape (malformed JSON, a missing or unknown field, a bad
    parameter): the same answer as a value civicflow refuses."""
    details = details or [
        ErrorDetail(
            field=".".join(str(part) for part in item.get("loc", ())),
            message=str(item.get("msg", "invalid")),
        )
        for item in error.errors()
    ]
    text = "; ".join(f"{d.field}: {d.message}" for d in details)
    info = ErrorInfo(
        type="InvalidInputError",
        message=f"invalid request: {text}",
        details=details,
        attributes={"what": "request"},
    )
    return answer(request, 422, info)


def _http(error: HTTPException, request: Request) -> JSONResponse:
    """An HTTP error raised by the host's hook or by the router (404, 405, 401...)."""
    code = error.status_code
    if code == 400 and error.detail == UNPARSABLE:
        problem = ErrorDetail(field="body", message="not JSON text (UTF-8)")
        return _invalid_request(RequestValidationError([]), request, [problem])
    if code >= 500:
        return _internal(request)
    phrase = HTTPStatus(code).phrase if code in HTTPStatus._value2member_map_ else "Error"
    kind = phrase.replace(" ", "").replace("-", "")
    message = error.detail if isinstance(error.detail, str) else phrase
    return answer(request, code, ErrorInfo(type=kind, message=message), error.headers)


def _internal(request: Request) -> JSONResponse:
    # Never the exception's text: it may name files, hosts or code.
    message = "the server failed; the error is logged"
    return answer(request, 500, ErrorInfo(type="InternalError", message=message))


class CivicRoute(APIRoute):
    """A route whose every error is answered in civicflow's shape (see the module's doc),
    and which answers HEAD wherever it answers GET (the headers, no body)."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        return super().matches(_as_get(scope, self.methods))

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        get = _as_get(scope, self.methods)
        if get is scope:
            await super().handle(scope, receive, send)
            return

        async def headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await super().handle(get, receive, headers_only)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except Exception as error:  # every error gets the one shape, none escapes
                return error_response(error, request)

        return handle


def _as_get(scope: Scope, methods: set[str] | None) -> Scope:
    """A HEAD request's scope as a GET's (a copy: the server's own stays HEAD)."""
    if scope.get("type") == "http" and scope.get("method") == "HEAD" and "GET" in (methods or ()):
        return {**scope, "method": "GET"}
    return scope


# The statuses every route may answer with an error, for the OpenAPI schema.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": HTTPStatus(code).phrase}
    for code in (401, 403, 404, 405, 409, 422, 500, 503)
}

__all__ = [
    "ERROR_RESPONSES",
    "ERROR_STATUS",
    "IDEMPOTENCY_HEADER",
    "CivicRoute",
    "ErrorBody",
    "ErrorDetail",
    "ErrorInfo",
    "NotOfferedError",
    "error_response",
    "status_of",
]
