"""``civicflow serve``: the HTTP API (``civicflow.web``) on one store, run by uvicorn.

For a quick look and for small deployments. Who the actor of a command is must be
said: ``--actor-header NAME`` behind an authentication proxy that sets that header,
or ``--trust-body-actor`` for a demo; with neither the API is read-only. FastAPI and
uvicorn (the ``web`` extra) are imported only when the command runs.
"""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from civicflow.cli.i18n import N_, _
from civicflow.cli.options import Sub, command, require
from civicflow.errors import ConfigurationError


def register(commands: Sub) -> None:
    """Add ``serve``."""
    p = command(commands, "serve", "the HTTP API on one store (the web extra), with uvicorn")
    p.add_argument("--host", default="127.0.0.1", help="the address to listen on")
    p.add_argument("--port", type=int, default=8000, help="the port to listen on")
    who = p.add_mutually_exclusive_group()
    who.add_argument(
        "--actor-header",
        metavar="NAME",
        help="the actor of a command is this header, set by an authentication proxy",
    )
    who.add_argument(
        "--trust-body-actor",
        action="store_true",
        help="commands name their actor in the body (demos only: anyone can name anyone)",
    )
    for role, what in (
        ("office", "registers the community, acts for residents"),
        ("auditor", "reads residents' homes, full history, /verify"),
    ):
        p.add_argument(
            f"--{role}",
            action="append",
            default=[],
            metavar="ID",
            help=f"with --actor-header: this actor {what} (repeatable)",
        )
    p.add_argument("--k", type=int, default=5, help="hide figures from fewer residents")
    p.set_defaults(run=_serve)


def _serve(a: argparse.Namespace, out: TextIO) -> int:
    try:
        import uvicorn

        from civicflow.web import actor_from_header, create_app
    except ImportError as missing:
        said = _("civicflow serve needs the web extra ({module} is missing): {command}")
        raise ConfigurationError(
            said.format(module=missing.name, command="pip install 'civicflow[web]'")
        ) from None
    from civicflow.audit.keys import load_signer
    from civicflow.cli.protection import open_flow

    require(not a.city, "city", N_("serve answers for one store: give --db, not --city"))
    read_only = not (a.actor_header or a.trust_body_actor)
    require(
        bool(a.actor_header or not (a.office or a.auditor)), "office", N_("needs --actor-header")
    )
    flow, protection = open_flow(a, create=not read_only)
    with flow:
        signer = load_signer(protection.directory / "signing.key") if protection else None
        who: dict[str, Any] = (
            {"actor": actor_from_header(a.actor_header), **_roles(a)}
            if a.actor_header
            else {"trust_body_actor": True}
            if a.trust_body_actor
            else {"read_only": True}
        )
        app = create_app(flow, k=a.k, signer=signer, **who)
        mode = (
            _("read-only")
            if read_only
            else _("commands by the actor in {header}").format(header=a.actor_header)
            if a.actor_header
            else _("commands trusting the body's actor")
        )
        said = _("civicflow serves {store} at {url} ({mode}); API at /docs")
        url = f"http://{a.host}:{a.port}/"
        out.write(said.format(store=a.db, url=url, mode=mode) + "\n")
        out.flush()
        uvicorn.run(app, host=a.host, port=a.port, log_level="info")
    return 0


def _roles(a: argparse.Namespace) -> dict[str, Any]:
    """The office and auditor hooks: the actor in the header is one of the ids given."""

    def among(ids: list[str]) -> Any:
        return lambda request: request.headers.get(a.actor_header) in set(ids)

    return {"office": among(a.office), "auditor": among(a.auditor)}
