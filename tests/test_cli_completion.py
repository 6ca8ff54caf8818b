"""``civicflow completion``: scripts for bash, zsh and fish, candidates from the parser and
ids from the store."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_cli import SRC, Store, _clean_environment, ok, six_step_store


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    _clean_environment(monkeypatch)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    return six_step_store(tmp_path_factory)


def complete(*words: str) -> list[str]:
    return ok("completion --complete " + " ".join(f"'{w}'" for w in words)).lines


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_each_shell_gets_a_script_that_asks_the_command(shell: str) -> None:
    script = ok(f"completion {shell}").out
    assert "civicflow completion --complete" in script


def test_commands_options_and_choices_come_from_the_parser() -> None:
    assert {"ask", "area", "completion", "views"} <= set(complete(""))
    assert complete("ar") == ["area"]
    assert complete("area", "") == ["add", "households", "list", "move", "rename"]
    assert complete("rate", "--le") == ["--level"]
    assert complete("rate", "--level", "") == ["basically_satisfied", "dissatisfied", "satisfied"]


def test_proposal_and_area_ids_come_from_the_store(store: Store) -> None:
    assert complete("show", "--db", store.url, "") == [store.id]
    assert complete("show", f"--db={store.url}", store.id[:4]) == [store.id]
    assert complete("area", "list", "--db", store.url, "--within", "hong") == ["hongqi", "hongqi-7"]


def test_a_store_that_is_not_there_completes_nothing_and_is_not_made(tmp_path: Path) -> None:
    missing = tmp_path / "typo.db"
    assert complete("show", "--db", f"sqlite:///{missing}", "") == []
    assert not missing.exists()


@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash on this machine")
def test_the_bash_script_completes_in_bash(tmp_path: Path) -> None:
    wrapper = tmp_path / "civicflow"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m civicflow "$@"\n', encoding="utf-8")
    wrapper.chmod(0o755)
    script = (
        "source <(civicflow completion bash); "
        'COMP_WORDS=(civicflow rate --level ""); COMP_CWORD=3; _civicflow; '
        'echo "${COMPREPLY[@]}"'
    )
    ran = subprocess.run(  # noqa: S603 - bash, with our own script
        ["bash", "-c", script],  # noqa: S607
        env={"PATH": f"{tmp_path}:/usr/bin:/bin", "PYTHONPATH": str(SRC)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert ran.stdout.split() == ["basically_satisfied", "dissatisfied", "satisfied"]
