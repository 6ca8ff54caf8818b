"""The package tree reads like the architecture: imports point down the layers, never round.

Layers, lowest first (docs/architecture.md): errors, domain, storage, audit,
application, views, federation, extras, cli, and the package's public face on top. A module
may import from its own layer or any lower one; imports needed only by type
checkers (under ``if TYPE_CHECKING:``) are not imports at run time and are left out.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "civicflow"
LAYERS = (
    "errors",
    "domain",
    "storage",
    "audit",
    "application",
    "views",
    "federation",
    "opendata",  # published datasets, from the views
    "webhooks",  # the log pushed to subscribers
    "extras",
    "web",  # the HTTP API: every part above, over HTTP
    "cli",
)
MAX_LINES = 400


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer(module: str) -> int:
    parts = module.split(".")
    if len(parts) == 1 or parts[1] in ("__main__",):
        return len(LAYERS)  # the public face: civicflow/__init__.py and __main__.py
    return LAYERS.index(parts[1])


def runtime_imports(path: Path) -> Iterator[str]:
    """The civicflow modules ``path`` imports when it runs (not for type checking only)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = {
        id(child)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for statement in node.body
        for child in ast.walk(statement)
    }
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            base = node.module
            if base.startswith("civicflow"):
                for alias in node.names:
                    candidate = f"{base}.{alias.name}"
                    yield candidate if candidate in MODULES else base
        elif isinstance(node, ast.Import):
            yield from (a.name for a in node.names if a.name.startswith("civicflow"))


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}
GRAPH = {name: sorted(set(runtime_imports(path)) - {name}) for name, path in MODULES.items()}


def test_every_import_points_down_the_layers_or_stays_within_its_own() -> None:
    upward = [
        f"{module} ({LAYERS[layer(module)] if layer(module) < len(LAYERS) else 'top'}) "
        f"imports {target}"
        for module, targets in GRAPH.items()
        for target in targets
        if layer(target) > layer(module)
    ]
    assert upward == []


def test_no_modules_import_each_other_in_a_cycle() -> None:
    cycles: list[list[str]] = []

    def visit(module: str, path: list[str]) -> None:
        for target in GRAPH.get(module, ()):
            if target in path:
                cycles.append([*path[path.index(target) :], target])
            elif target not in done:
                visit(target, [*path, target])
        done.add(module)

    done: set[str] = set()
    for module in sorted(GRAPH):
        if module not in done:
            visit(module, [module])
    assert cycles == []


def test_the_domain_does_no_io_and_knows_no_database() -> None:
    forbidden = (
        "sqlite3",
        "psycopg",
        "eventsourcing.persistence",
        "eventsourcing.sqlite",
        "eventsourcing.postgres",
        "os",
        "pathlib",
        "socket",
        "open(",
    )
    found = [
        f"{name}: {word}"
        for name, path in MODULES.items()
        if name.startswith("civicflow.domain")
        for word in forbidden
        if _mentions(path.read_text(encoding="utf-8"), word)
    ]
    assert found == []


def test_only_the_storage_layer_knows_the_database_drivers() -> None:
    drivers = [
        name
        for name, path in MODULES.items()
        if not name.startswith(("civicflow.storage", "civicflow.views"))
        for word in ("sqlite3", "psycopg")
        if _mentions(path.read_text(encoding="utf-8"), word)
    ]
    assert drivers == []


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_module_is_longer_than_the_limit(name: str) -> None:
    lines = MODULES[name].read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_LINES, f"{name} has {lines} lines; split it by concept"


def test_the_checker_sees_an_upward_import_and_a_cycle() -> None:
    # The checks above must be able to fail: a domain module importing the
    # application is upward, and two modules importing each other form a cycle.
    assert layer("civicflow.application.flow") > layer("civicflow.domain.proposal")
    assert "civicflow.domain.proposal_state" in GRAPH["civicflow.domain.proposal"]
    assert "civicflow.domain.proposal" not in GRAPH["civicflow.domain.proposal_state"]


def _mentions(text: str, word: str) -> bool:
    if word.endswith("("):  # the builtin, not a method or a definition of that name
        code = text.replace(f"def {word}", "")
        return re.search(rf"(?<![\w.]){re.escape(word)}", code) is not None
    return f"import {word}" in text or f"from {word} " in text or f"from {word}." in text
