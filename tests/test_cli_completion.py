"""``civicflow completion``: scripts for bash, zsh and fish, candidates from the parser and
ids from the store.

Each script is also loaded in its real shell and asked to complete a command and an
option. A shell that is not installed skips its test, saying so, unless
``CIVICFLOW_REQUIRE_SHELLS=1`` (set by CI, which installs them) turns the skip into a
failure.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_cli import SRC, Store, _clean_environment, ok, six_step_store

# Read on import: every test's environment is cleaned of CIVICFLOW_ variables.
REQUIRE_SHELLS = os.environ.get("CIVICFLOW_REQUIRE_SHELLS") == "1"


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


def shell(name: str) -> str:
    """The shell's path; its test skips without it (fails with CIVICFLOW_REQUIRE_SHELLS=1)."""
    found = shutil.which(name)
    if found is None:
        problem = f"no {name} on this machine (apt-get install {name})"
        if REQUIRE_SHELLS:
            pytest.fail(f"CIVICFLOW_REQUIRE_SHELLS=1 but {problem}")
        pytest.skip(problem)
    return found


def run_in(folder: Path, *line: str, timeout: float = 60) -> str:
    """What ``line`` prints, run with ``civicflow`` on the PATH (this checkout's, in a script)."""
    wrapper = folder / "civicflow"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m civicflow "$@"\n', encoding="utf-8")
    wrapper.chmod(0o755)
    env = {"PATH": f"{folder}:/usr/bin:/bin", "PYTHONPATH": str(SRC), "HOME": str(folder)}
    ran = subprocess.run(  # noqa: S603 - a shell, with our own script
        list(line),
        env={**env, "TERM": "xterm", "LANG": "C.UTF-8"},
        capture_output=True,
        text=True,
        check=True,
        timeout=timeout,
    )
    return ran.stdout


def test_the_bash_script_completes_in_bash(tmp_path: Path) -> None:
    shell("bash")
    script = (
        "source <(civicflow completion bash); "
        'COMP_WORDS=(civicflow rate --level ""); COMP_CWORD=3; _civicflow; '
        'echo "${COMPREPLY[@]}"'
    )
    said = run_in(tmp_path, "bash", "-c", script)
    assert said.split() == ["basically_satisfied", "dissatisfied", "satisfied"]


def test_the_fish_script_completes_in_fish(tmp_path: Path) -> None:
    fish = shell("fish")
    script = (
        "civicflow completion fish | source; "
        "complete -C 'civicflow rat'; echo ---; "
        "complete -C 'civicflow rate --le'; echo ---; "
        "complete -C 'civicflow rate --level '"
    )
    said = run_in(tmp_path, fish, "--no-config", "-c", script).split("---\n")
    assert [part.split() for part in said] == [
        ["rate"],
        ["--level"],
        ["basically_satisfied", "dissatisfied", "satisfied"],
    ]


ZSH_LOADS = """
autoload -U compinit && compinit -u -D
source <(civicflow completion zsh) || exit 3
print -r -- "${_comps[civicflow]}"
compadd() { [[ $1 == -a ]] && print -rl -- "${(@P)2}"; }  # what the script offers
words=(civicflow rat); CURRENT=2; _civicflow
words=(civicflow rate --le); CURRENT=3; _civicflow
"""

# A real zsh at a (pseudo) terminal, its line editor completing on Tab.
ZSH_AT_A_TERMINAL = r"""
zmodload zsh/zpty
zpty z 'zsh -f -i'
zpty -w z 'PS1="> "; autoload -U compinit; compinit -u -D; source <(civicflow completion zsh)'
zpty -w z 'print LOA""DED'
shown() {  # wait (10 s at most) until the terminal shows $1
    local out="" line
    repeat 100; do
        while zpty -r -t z line; do out+=$line; done
        [[ $out == *$1* ]] && return 0
        sleep 0.1
    done
    print -r -- "not shown: $1 in ${(q+)out}"
    return 1
}
shown LOADED || exit 4
zpty -n -w z $'civicflow rat\t'
shown 'rate' && print COMMAND || exit 5
zpty -n -w z $'\C-u'
zpty -n -w z $'civicflow rate --le\t'
shown '--level' && print OPTION || exit 6
zpty -d z
"""


def test_the_zsh_script_loads_and_completes_in_zsh(tmp_path: Path) -> None:
    zsh = shell("zsh")
    said = run_in(tmp_path, zsh, "-f", "-c", ZSH_LOADS)
    assert said.split() == ["_civicflow", "rate", "--level"]
    assert run_in(tmp_path, zsh, "-f", "-c", ZSH_AT_A_TERMINAL).split() == ["COMMAND", "OPTION"]
