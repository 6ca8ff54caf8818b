"""Every Python block in the README and docs/ runs, in order, per file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.name)
def test_the_python_examples_in_each_document_run(document: Path) -> None:
    namespace: dict[str, object] = {"__name__": f"doc_{document.stem}"}
    for number, block in enumerate(BLOCK.findall(document.read_text(encoding="utf-8")), 1):
        code = compile(block, f"{document.name} block {number}", "exec")
        exec(code, namespace)  # noqa: S102 - running our own documentation is the point
