"""``civicflow completion bash|zsh|fish``: shell completion, from the parser itself.

The script each shell loads is small: on every Tab it asks ``civicflow completion
--complete WORDS...`` for the candidates, which walks the same parser the command
parses with (commands, actions, options, choices), so completion never drifts from
the command. Where a proposal id or an area id is expected, it reads them from the
store the words name (``--db``, else ``CIVICFLOW_DB``), when that store is a SQLite
file that exists: cheap, and never creating a store. Anything else completes nothing
(the shell then offers files).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TextIO

from civicflow.cli.options import DEFAULT_DB, Sub, command

SHELLS = ("bash", "zsh", "fish")
SCRIPTS = {
    "bash": """_civicflow() {
    local IFS=$'\\n'
    COMPREPLY=($(civicflow completion --complete "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null))
}
complete -o default -F _civicflow civicflow
""",
    "zsh": """#compdef civicflow
_civicflow() {
    local -a candidates
    candidates=("${(@f)$(civicflow completion --complete "${(@)words[2,CURRENT]}" 2>/dev/null)}")
    compadd -a candidates
}
compdef _civicflow civicflow
""",
    "fish": """function __civicflow_complete
    set -l words (commandline -opc) (commandline -ct)
    civicflow completion --complete $words[2..-1] 2>/dev/null
end
complete -c civicflow -f -a '(__civicflow_complete)'
""",
}
IDS = {"proposal": "proposals", "area": "areas", "compound": "areas", "--area": "areas"}
IDS |= {"--parent": "areas", "--within": "areas", "--community": "areas", "--compound": "areas"}


def register(commands: Sub, root: argparse.ArgumentParser) -> None:
    """Add ``completion``; ``root`` is the whole parser, which it completes from."""
    p = command(commands, "completion", "print the shell completion script (bash, zsh, fish)")
    p.add_argument("shell", nargs="?", choices=SHELLS, help="the shell to complete in")
    p.add_argument(
        "--complete",
        nargs=argparse.REMAINDER,
        help="the words typed so far (what the scripts call on Tab; prints the candidates)",
    )
    p.set_defaults(run=lambda a, out: _run(root, a, out))


def _run(root: argparse.ArgumentParser, a: argparse.Namespace, out: TextIO) -> int:
    if a.complete is not None:
        out.write("".join(f"{word}\n" for word in candidates(root, a.complete)))
        return 0
    if a.shell is None:
        sys.stderr.write("civicflow completion: name a shell: bash, zsh or fish\n")
        return 2
    out.write(SCRIPTS[a.shell])
    return 0


def candidates(parser: argparse.ArgumentParser, words: list[str]) -> list[str]:
    """What may come in place of the last of ``words`` (the one being typed)."""
    *before, typed = words or [""]
    current, expecting = parser, None
    for word in before:
        sub = _subcommands(current)
        if not word.startswith("-") and word in sub:
            current, expecting = sub[word], None
            continue
        action = _option(current, word)
        expecting = action if action is not None and action.nargs != 0 else None
    if expecting is not None:
        found = _values(expecting, before)
    elif typed.startswith("-"):
        found = [o for a in current._actions for o in a.option_strings if o.startswith("--")]
    else:
        found = list(_subcommands(current)) or _positional_values(current, before)
    return sorted(word for word in found if word.startswith(typed))


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _option(parser: argparse.ArgumentParser, word: str) -> argparse.Action | None:
    return next((a for a in parser._actions if word in a.option_strings), None)


def _values(action: argparse.Action, words: list[str]) -> list[str]:
    if action.choices is not None:
        return [str(choice) for choice in action.choices]
    kind = IDS.get(action.option_strings[0] if action.option_strings else action.dest)
    return _ids(kind, words) if kind else []


def _positional_values(parser: argparse.ArgumentParser, words: list[str]) -> list[str]:
    for action in parser._actions:
        if not action.option_strings and action.dest in IDS:
            return _ids(IDS[action.dest], words)
        if not action.option_strings and action.choices is not None:
            return [str(choice) for choice in action.choices]
    return []


def _ids(kind: str, words: list[str]) -> list[str]:
    """Proposal or area ids from the SQLite store the words name, if it is there."""
    db = next((w.split("=", 1)[1] for w in words if w.startswith("--db=")), None)
    if db is None and "--db" in words[:-1]:
        db = words[words.index("--db") + 1]
    db = db or os.environ.get("CIVICFLOW_DB", DEFAULT_DB)
    if not db.startswith("sqlite:///"):
        return []
    path = db.removeprefix("sqlite:///")
    from civicflow.storage.peek import area_ids, proposal_ids

    return proposal_ids(path) if kind == "proposals" else area_ids(path)
