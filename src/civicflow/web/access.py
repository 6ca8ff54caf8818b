"""Who may do what: the host's hooks for offices and auditors, and the checks they feed.

civicflow decides no roles. Beside ``actor`` (who the caller is), the host may give the
router two hooks, each a FastAPI dependency returning a bool, or a plain
``Callable[[Request], bool]``:

- ``office``: the caller is an office. An office registers the community (areas,
  councils, residents) and may record a resident's step for them (a paper ballot, a
  visit: the proposal's channel). Anyone else takes a resident's step only as that
  resident. Default: no one (with ``trust_body_actor=True``, a demo, everyone).
- ``auditor``: the caller reads what is personal: a resident's homes, the history with
  every resident and rating, receipts of others' records, ``/verify``. Default: no one.

A hook should answer False for a caller it does not know rather than raise: it also
runs on reads anyone may make (the history). No ``from __future__ import annotations``:
see ``steps.py``.
"""

import inspect
from collections.abc import Callable
from typing import Any

from fastapi import HTTPException, Request

Hook = Callable[..., Any]  # a FastAPI dependency (or a plain Callable[[Request], ...])


def as_dependency(hook: Hook) -> Hook:
    """The hook as a FastAPI dependency: a plain callable of one parameter, not annotated
    (a lambda, say), is given the request; anything else is a dependency already, whose
    parameters FastAPI fills."""
    try:
        parameters = list(inspect.signature(hook).parameters.values())
    except (TypeError, ValueError):  # a builtin or a C callable: FastAPI will say
        return hook
    if len(parameters) == 1 and parameters[0].annotation is inspect.Parameter.empty:

        def from_request(request: Request) -> Any:
            return hook(request)

        return from_request
    return hook


def flag(hook: Hook | None, default: bool = False) -> Callable[..., Any]:
    """A dependency answering the hook's verdict (``default`` without a hook)."""
    if hook is not None:
        return as_dependency(hook)

    def fixed() -> bool:
        return default

    return fixed


def require(allowed: Any, what: str) -> None:
    """Refuse (403) unless the hook said yes (``True``, nothing else).

    Raises:
        HTTPException: 403.
    """
    if allowed is not True:
        raise HTTPException(403, f"not allowed: {what}")
