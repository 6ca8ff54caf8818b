"""The generated sections of docs/*.md match the code they are generated from.

The generation code lives in ``docs/generate.py`` alone; this test imports it by
path. When a test here fails, run ``python docs/generate.py`` and commit the result.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from civicflow import Proposal
from civicflow.directory import Directory
from civicflow.eventmodel import DomainEvent, PydanticAggregate
from civicflow.lifecycle import mermaid_diagram
from civicflow.resident import Resident

DOCS = Path(__file__).resolve().parent.parent / "docs"


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docs_generate", DOCS / "generate.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


generate = _load_generator()
SECTIONS = [(file, name) for file, contents in generate.sections().items() for name in contents]


@pytest.mark.parametrize(("file", "name"), SECTIONS, ids=[f"{f}:{n}" for f, n in SECTIONS])
def test_each_generated_section_matches_the_code(file: str, name: str) -> None:
    text = (DOCS / file).read_text(encoding="utf-8")
    expected = generate.sections()[file][name]
    assert generate.read_section(text, name) == expected, "run: python docs/generate.py"


def test_the_lifecycle_diagram_is_exactly_what_mermaid_diagram_draws() -> None:
    text = (DOCS / "concepts.md").read_text(encoding="utf-8")
    assert generate.read_section(text, "lifecycle") == f"```mermaid\n{mermaid_diagram()}\n```"


def _recorded_events(aggregate: type[PydanticAggregate]) -> set[str]:
    return {
        name
        for name, value in vars(aggregate).items()
        if isinstance(value, type) and issubclass(value, DomainEvent)
    } - {"Event", "Created"}  # bases, never recorded themselves


@pytest.mark.parametrize(
    ("aggregate", "listed"),
    [
        (Proposal, "EVENTS"),
        (Directory, "DIRECTORY_EVENTS"),
        (Resident, "RESIDENT_EVENTS"),
    ],
    ids=["Proposal", "Directory", "Resident"],
)
def test_every_event_nested_in_an_aggregate_has_a_section(
    aggregate: type[PydanticAggregate], listed: str
) -> None:
    events = getattr(generate, listed)
    assert {cls.__name__ for cls in events} == _recorded_events(aggregate)
    assert all(cls.__qualname__.startswith(f"{aggregate.__name__}.") for cls in events)
    sections = generate.sections()["events.md"]
    assert all(f"event:{cls.__qualname__}" in sections for cls in events)


def test_regenerating_replaces_only_the_text_between_the_markers() -> None:
    text = "before\n<!-- x:start -->\nold\nlines\n<!-- x:end -->\nafter\n"
    new = generate.replace_section(text, "x", "new")
    assert new == "before\n<!-- x:start -->\nnew\n<!-- x:end -->\nafter\n"
    assert generate.read_section(new, "x") == "new"


def test_an_empty_section_can_be_filled() -> None:
    text = "<!-- x:start -->\n<!-- x:end -->\n"
    assert generate.read_section(text, "x") == ""
    assert generate.replace_section(text, "x", "a\nb") == "<!-- x:start -->\na\nb\n<!-- x:end -->\n"


@pytest.mark.parametrize(
    "text",
    [
        "no markers at all",
        "<!-- x:start -->\na\n<!-- x:end -->\n<!-- x:start -->\nb\n<!-- x:end -->",
    ],
    ids=["missing", "twice"],
)
def test_a_missing_or_repeated_section_is_an_error(text: str) -> None:
    with pytest.raises(LookupError, match="<!-- x:start/end -->"):
        generate.replace_section(text, "x", "new")


def test_a_field_without_a_meaning_fails_loudly() -> None:
    class Untold(DomainEvent):
        """A fact nobody described."""

        mystery: int

    generate.MEANINGS[Untold.__qualname__] = {}
    try:
        with pytest.raises(KeyError, match=r"Untold\.mystery"):
            generate.field_table(Untold)
    finally:
        del generate.MEANINGS[Untold.__qualname__]


def test_the_check_mode_reports_nothing_stale() -> None:
    assert generate.stale_sections() == []
    assert generate.main(["--check"]) == 0
