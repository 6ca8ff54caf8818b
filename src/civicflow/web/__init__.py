"""The HTTP API: a FastAPI router an application mounts under any prefix (the ``web`` extra).

``router(flow, actor=...)`` gives the community, the six steps, the proposals, the
views and the audit over HTTP; ``create_app`` serves it alone (``civicflow serve``).
See ``docs/embedding.md``. Nothing outside this package imports FastAPI.
"""

from civicflow.web.actors import ActorHook, actor_from_header
from civicflow.web.errors import ERROR_STATUS, ErrorBody, ErrorDetail, ErrorInfo, NotOfferedError
from civicflow.web.router import create_app, router, service_of

__all__ = [
    "ERROR_STATUS",
    "ActorHook",
    "ErrorBody",
    "ErrorDetail",
    "ErrorInfo",
    "NotOfferedError",
    "actor_from_header",
    "create_app",
    "router",
    "service_of",
]
