"""``python -m civicflow [STORE_URL]``: run the six-step walkthrough on a store.

The default store is ``sqlite:///civicflow.db`` in the current folder (the
embedded default); every run adds one more proposal to it.
"""

from __future__ import annotations

import sys

from civicflow.application import CivicFlow
from civicflow.errors import CivicflowError
from civicflow.walkthrough import run


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args = sys.argv[1:] if argv is None else argv
    url = args[0] if args else "sqlite:///civicflow.db"
    try:
        with CivicFlow.open(url) as flow:
            sys.stdout.write(f"store: {url}\n")
            run(flow, sys.stdout)
    except CivicflowError as error:
        sys.stderr.write(f"civicflow: {error}\n")
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
