"""On a terminal the command draws (rich tables, colour, progress bars); piped, plain text."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from civicflow.cli import terminal
from civicflow.cli.main import main
from tests.test_cli import SRC, Store, _clean_environment, ok, six_step_store
from tests.test_startup import imported

BOX = "━┃│╇"


class Terminal(io.StringIO):
    """A stream that says it is a terminal, as a console's stdout does."""

    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    _clean_environment(monkeypatch)
    monkeypatch.setenv("TERM", "xterm-256color")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    return six_step_store(tmp_path_factory)


def drawn(line: str, db: str) -> str:
    out = Terminal()
    assert main([*line.split(), f"--db={db}"], out=out) == 0
    return out.getvalue()


def test_a_table_on_a_terminal_is_drawn_and_piped_is_plain(store: Store) -> None:
    screen = drawn(f"history {store.id}", store.url)
    assert set(BOX) & set(screen)
    assert "\x1b[" in screen  # colour: the header is bold, stages coloured
    piped = ok(f"history {store.id}", store.url).out
    assert not set(BOX) & set(piped)
    assert "\x1b[" not in piped


def test_json_is_json_on_a_terminal_too(store: Store) -> None:
    screen = drawn(f"show {store.id} --json", store.url)
    assert screen.startswith("{")
    assert "\x1b[" not in screen


def test_a_dumb_terminal_gets_plain_text(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERM", "dumb")
    assert not set(BOX) & set(drawn(f"history {store.id}", store.url))


def test_the_progress_bar_counts_to_the_end() -> None:
    screen = Terminal()
    advance = terminal.progress_bar(screen, "proposals")
    for done in range(1, 11):
        advance(done, 10)
    assert "10/10" in screen.getvalue()
    assert "proposals" in screen.getvalue()


@pytest.mark.parametrize("argv", [("--version",), ("--help",), ("rate", "--help")])
def test_help_and_version_load_neither_rich_nor_babel(
    argv: tuple[str, ...], tmp_path: Path
) -> None:
    _, modules = imported(*argv, cwd=tmp_path)
    assert not {m for m in modules if m.split(".")[0] in {"rich", "babel"}}


def test_a_piped_command_loads_no_rich(store: Store, tmp_path: Path) -> None:
    _, modules = imported("history", store.id, "--db", store.url, cwd=tmp_path)
    assert not {m for m in modules if m.split(".")[0] == "rich"}


def test_the_command_runs_with_python_dash_m_on_a_pipe(store: Store) -> None:
    ran = subprocess.run(  # noqa: S603 - our own command
        [sys.executable, "-m", "civicflow", "show", store.id, "--db", store.url],
        env={"PYTHONPATH": str(SRC), "TERM": "xterm"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert "\x1b[" not in ran.stdout


def test_the_docs_show_a_colour_session() -> None:
    svg = (SRC.parent / "docs" / "cli-session.svg").read_text(encoding="utf-8")
    assert svg.startswith("<svg")
    assert "civicflow" in svg
    assert "docs/transcript.py" in (SRC.parent / "docs" / "cli.md").read_text(encoding="utf-8")
