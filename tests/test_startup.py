"""A command imports what it needs and nothing more: ``--help`` builds no model, opens no store.

Each command runs in a fresh process (as the console script runs it), which then
reports the modules it imported. Timing is the benchmark's business
(benchmarks/bench_startup.py, docs/performance.md); these tests guard the laziness
that the timing depends on, without a clock.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import civicflow
from civicflow.audit.keys import SIGNING_KEY_VARIABLE
from civicflow.cli import files

SRC = Path(__file__).resolve().parents[1] / "src"
RUN = """
import json, sys
from civicflow.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as leaving:
    code = leaving.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""
# What building the parser must never import: the store, the models, the audit code.
HEAVY = (
    "civicflow.application",
    "civicflow.audit",
    "civicflow.domain.eventmodel",
    "civicflow.domain.proposal",
    "civicflow.domain.values",
    "civicflow.storage",
    "civicflow.views",
    "civicflow.extras",
    "eventsourcing",
    "pydantic",
    "cryptography",
    "plotly",
    "fastapi",  # civicflow serve imports the web extra when it runs, not to parse options
    "uvicorn",
)

# Except these: the audit package's empty ``__init__`` and its error classes, which the
# CLI names when it parses options (no audit code runs, no library is loaded).
LIGHT = frozenset({"civicflow.audit", "civicflow.audit.errors"})


def imported(*argv: str, cwd: Path) -> tuple[int, set[str]]:
    """The exit code of ``civicflow ARGV`` and the modules its process imported."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CIVICFLOW_", "AUDIT_KEY"))}
    ran = subprocess.run(  # noqa: S603 (our own interpreter, fixed arguments)
        [sys.executable, "-c", RUN, *argv],
        env={**env, "PYTHONPATH": str(SRC)},
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    report = json.loads(ran.stdout.splitlines()[-1])
    return report["code"], set(report["modules"])


def _loaded(modules: set[str], package: str) -> list[str]:
    return [m for m in modules if m == package or m.startswith(f"{package}.")]


@pytest.mark.parametrize(
    "argv",
    [
        ("--version",),
        ("--help",),
        ("verify", "--help"),
        ("check-receipt", "--help"),
        ("area",),
        ("serve", "--help"),
    ],
)
def test_help_and_the_version_import_no_store_no_model_and_no_audit_code(
    argv: tuple[str, ...], tmp_path: Path
) -> None:
    _, modules = imported(*argv, cwd=tmp_path)
    assert [m for p in HEAVY for m in _loaded(modules, p) if m not in LIGHT] == []


def test_checking_a_receipt_needs_the_audit_code_but_no_store_and_no_event_model(
    tmp_path: Path,
) -> None:
    (tmp_path / "receipt.json").write_text("{}", encoding="utf-8")
    (tmp_path / "log.pub").write_text("not a key\n", encoding="utf-8")
    code, modules = imported("check-receipt", "receipt.json", "--log-key", "log.pub", cwd=tmp_path)
    assert code == 2  # refused as malformed, after the modules it needs were loaded
    assert "civicflow.audit.transparency" in modules
    unwanted = ("civicflow.application", "civicflow.views", "civicflow.domain.eventmodel")
    assert [m for p in unwanted for m in _loaded(modules, p)] == []
    assert _loaded(modules, "eventsourcing.application") == []


def test_verify_opens_the_store_but_imports_no_views_and_no_report(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'store.db'}"
    code, _ = imported("checkpoint", "--actor", "office", "--db", db, cwd=tmp_path)
    assert code == 0
    code, modules = imported("verify", "--db", db, cwd=tmp_path)
    assert code == 0
    assert "civicflow.application.flow" in modules
    unwanted = ("civicflow.views", "civicflow.extras", "plotly", "civicflow.audit.witness")
    assert [m for p in unwanted for m in _loaded(modules, p)] == []


def test_the_views_import_no_report_and_no_witness(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'store.db'}"
    imported("checkpoint", "--actor", "office", "--db", db, cwd=tmp_path)
    code, modules = imported("views", "satisfaction", "--db", db, cwd=tmp_path)
    assert code == 0
    assert "civicflow.views" in modules
    unwanted = ("civicflow.extras", "plotly", "civicflow.audit.witness")
    assert [m for p in unwanted for m in _loaded(modules, p)] == []


def test_import_civicflow_loads_the_errors_alone_until_a_name_is_used(tmp_path: Path) -> None:
    script = (
        "import sys, civicflow; before = set(sys.modules); civicflow.CivicFlow; "
        "print(int('civicflow.application.flow' in before), "
        "int('civicflow.application.flow' in sys.modules))"
    )
    ran = subprocess.run(  # noqa: S603 (our own interpreter, fixed arguments)
        [sys.executable, "-c", script],
        env={**os.environ, "PYTHONPATH": str(SRC)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert ran.stdout.split() == ["0", "1"]


def test_every_public_name_resolves_to_the_object_of_its_module() -> None:
    for name in civicflow.__all__:
        value = getattr(civicflow, name)
        home = civicflow._HOME.get(name)
        if home is not None:
            module = __import__(home, fromlist=[name])
            assert value is getattr(module, name), name
    assert set(civicflow.__all__) <= set(dir(civicflow))
    with pytest.raises(AttributeError, match="no attribute 'Nothing'"):
        _ = civicflow.Nothing  # type: ignore[attr-defined]


def test_the_lazy_names_are_the_names_type_checkers_are_shown() -> None:
    tree = ast.parse(Path(civicflow.__file__).read_text(encoding="utf-8"))
    checked = {
        (node.module, alias.name)
        for block in tree.body
        if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
        for node in block.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    assert checked == {(module, name) for name, module in civicflow._HOME.items()}
    eager = {name for name in civicflow.__all__ if name not in civicflow._HOME}
    assert {name for name in eager if not name.endswith("Error")} == {"__version__"}


def test_the_export_help_names_the_signing_key_variable_the_keys_read() -> None:
    assert files.SIGNING_KEY_VARIABLE == SIGNING_KEY_VARIABLE
