"""The API's OpenAPI schema, as checked into ``docs/openapi.json``.

``python -m civicflow.web.openapi`` writes it (``--check``: exit 1 if the file differs,
writing nothing). ``tests/test_web_openapi.py`` fails when the router changes and the
file was not regenerated, so a change of the API is reviewed as a change of the file.
The schema is the router's alone: a host's authentication hook adds its own parameters
(a header, a cookie) to the host's schema, and none here.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from civicflow.application.flow import CivicFlow
from civicflow.web.router import create_app

DEFAULT_PATH = Path("docs/openapi.json")


def schema() -> dict[str, Any]:
    """The OpenAPI schema of the router with commands (no store is opened)."""
    app = create_app(lambda: CivicFlow.open("memory://"), trust_body_actor=True)
    document: dict[str, Any] = app.openapi()
    return document


def text() -> str:
    """The schema as the checked-in file holds it."""
    return json.dumps(schema(), indent=2, ensure_ascii=False) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Write the schema, or with ``--check`` compare it; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m civicflow.web.openapi")
    parser.add_argument("path", nargs="?", type=Path, default=DEFAULT_PATH)
    parser.add_argument("--check", action="store_true", help="compare, write nothing")
    args = parser.parse_args(argv)
    wanted = text()
    if args.check:
        found = args.path.read_text(encoding="utf-8") if args.path.exists() else ""
        if found != wanted:
            sys.stderr.write(f"{args.path} is out of date: run python -m civicflow.web.openapi\n")
            return 1
        return 0
    args.path.write_text(wanted, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
