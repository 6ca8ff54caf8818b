"""Record a colour session of the command as docs/cli-session.svg (rich's SVG export).

    python docs/transcript.py

Runs a few commands in a temporary folder, as on a terminal 100 columns wide, and draws
each prompt and what it printed. The session has random ids and timings, so the file is
written by hand (run this after changing what the command prints), not kept current by
a test; tests/test_cli_terminal.py checks only that the file is there and is a session.
"""

from __future__ import annotations

import contextlib
import io
import os
import shlex
import sys
import tempfile
from pathlib import Path

from rich.console import Console
from rich.text import Text

from civicflow.cli.main import main

DOCS = Path(__file__).resolve().parent
WIDTH = 100


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def run(console: Console, line: str) -> str:
    console.print(Text("$ civicflow ", style="bold green") + Text(line, style="bold"))
    out = Terminal()
    with contextlib.redirect_stderr(out):
        main(shlex.split(line), out=out)
    frames = out.getvalue().split("\x1b[2K")  # a progress bar redraws its line: keep the last
    console.print(Text.from_ansi(frames[-1] if len(frames) > 1 else out.getvalue()), end="")
    return out.getvalue()


def main_() -> None:
    os.environ.update({"COLUMNS": str(WIDTH), "TERM": "xterm-256color", "LANG": "C.UTF-8"})
    console = Console(record=True, width=WIDTH, file=io.StringIO(), force_terminal=True)
    with tempfile.TemporaryDirectory() as folder:
        os.chdir(folder)
        run(console, "demo --compounds 6 --db sqlite:///demo.db")
        db = "--db sqlite:///demo.db"
        run(console, f"views pipeline --level compound {db}")
        from civicflow.cli.completion import candidates
        from civicflow.cli.main import build_parser

        [proposal] = candidates(build_parser(), ["show", "--db", "sqlite:///demo.db", ""])[:1]
        run(console, f"show {proposal} {db}")
        run(console, f"show {proposal} {db} --lang zh")
        run(console, f"history {proposal} {db}")
    console.save_svg(str(DOCS / "cli-session.svg"), title="civicflow")
    sys.stdout.write(f"wrote {DOCS / 'cli-session.svg'}\n")


if __name__ == "__main__":
    main_()
