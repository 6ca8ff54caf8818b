"""``python -m civicflow ...`` is the ``civicflow`` command (see ``docs/cli.md``)."""

from __future__ import annotations

from civicflow.cli.main import main

if __name__ == "__main__":
    raise SystemExit(main())
