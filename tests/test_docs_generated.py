"""The generated sections of docs/*.md, and docs/schema/events.schema.json, match the code.

The generation code lives in ``docs/generate.py`` alone; this test imports it by
path. When a test here fails, run ``python docs/generate.py`` and commit the result.
"""

from __future__ import annotations

import importlib.util
import io
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from civicflow import CivicFlow, Proposal
from civicflow.audit.export import event_schemas
from civicflow.domain.community.directory import Directory
from civicflow.domain.community.residents import Resident
from civicflow.domain.eventmodel import DomainEvent, PydanticAggregate
from civicflow.domain.lifecycle import mermaid_diagram
from tests.walkthrough import run

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
FILES = sorted(generate.files())


@pytest.mark.parametrize(("file", "name"), SECTIONS, ids=[f"{f}:{n}" for f, n in SECTIONS])
def test_each_generated_section_matches_the_code(file: str, name: str) -> None:
    text = (DOCS / file).read_text(encoding="utf-8")
    expected = generate.sections()[file][name]
    assert generate.read_section(text, name) == expected, "run: python docs/generate.py"


@pytest.mark.parametrize("path", FILES)
def test_each_generated_file_matches_the_code(path: str) -> None:
    file = DOCS / path
    assert file.is_file(), "run: python docs/generate.py"
    expected = generate.files()[path]
    assert file.read_text(encoding="utf-8") == expected, "run: python docs/generate.py"


def test_the_schema_file_is_deterministic_json() -> None:
    text = (DOCS / "schema" / "events.schema.json").read_text(encoding="utf-8")
    schema = json.loads(text)
    assert text == json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def _state_schemas(schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Topic -> the schema its ``if``/``then`` branch gives the line's ``state``."""
    found = {}
    for branch in schema["allOf"]:
        ref = branch["then"]["properties"]["state"]["$ref"]
        found[branch["if"]["properties"]["topic"]["const"]] = schema["$defs"][
            ref.removeprefix("#/$defs/")
        ]
    return found


def test_the_schema_defines_every_event_and_every_reference() -> None:
    schema = json.loads((DOCS / "schema" / "events.schema.json").read_text(encoding="utf-8"))
    logged = {topic for topic in event_schemas() if not topic.endswith(".Snapshot")}
    assert set(_state_schemas(schema)) == logged == set(schema["properties"]["topic"]["enum"])
    references: set[str] = set()

    def collect(node: object) -> None:
        if isinstance(node, dict):
            references.update(v for k, v in node.items() if k == "$ref")
            for value in node.values():
                collect(value)
        elif isinstance(node, list):
            for value in node:
                collect(value)

    collect(schema)
    assert all(ref.removeprefix("#/$defs/") in schema["$defs"] for ref in references)


@pytest.mark.parametrize("env", [{"AUDIT_KEY": "docs"}, {}], ids=["keyed", "unkeyed"])
def test_every_line_of_an_export_has_the_fields_the_schema_names(env: dict[str, str]) -> None:
    """A structural check (no JSON Schema validator is a dependency): field names only."""
    schema = json.loads((DOCS / "schema" / "events.schema.json").read_text(encoding="utf-8"))
    states = _state_schemas(schema)
    with CivicFlow(env=env) as flow:
        run(flow, io.StringIO())
        flow.checkpoint(actor="office")
        out = io.StringIO()
        flow.export_events(out)
    header, *lines, trailer = [json.loads(line) for line in out.getvalue().splitlines()]
    assert (header["format"], trailer["count"]) == ("civicflow-events/2", len(lines))
    for line in lines:
        assert set(line) == set(schema["required"]) == set(schema["properties"])
        assert line["aggregate"] in schema["properties"]["aggregate"]["enum"]
        state = states[line["topic"]]
        assert set(state["required"]) <= set(line["state"]) <= set(state["properties"])
        assert ("_mac" in line["state"]) == bool(env)
    assert {line["aggregate"] for line in lines} == {"Directory", "Ledger", "Proposal", "Resident"}


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
