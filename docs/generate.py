"""Regenerate the marked sections of the docs from civicflow's own tables and models.

Run ``python docs/generate.py`` after changing ``civicflow.lifecycle``, an event or
``ProposalState``; ``python docs/generate.py --check`` only reports stale sections.
``tests/test_docs_generated.py`` imports this file and fails while a section is stale,
so the diagram, the stage table and the field tables can never drift from the code.

A generated section sits between two marker lines, ``<!-- NAME:start -->`` and
``<!-- NAME:end -->``; everything outside the markers is written by hand.
"""

from __future__ import annotations

import ast
import enum
import inspect
import re
import sys
import textwrap
import types
import typing
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic
from pydantic import AwareDatetime, BaseModel
from pydantic.fields import FieldInfo

from civicflow import (
    Budget,
    Channel,
    Level,
    Outcome,
    Proposal,
    ProposalState,
    PublicationChannel,
    Vote,
    errors,
    lifecycle,
)
from civicflow.eventmodel import DomainEvent
from civicflow.lifecycle import Stage, Step

DOCS = Path(__file__).resolve().parent

EVENTS: tuple[type[DomainEvent], ...] = (
    Proposal.Asked,
    Proposal.Backed,
    Proposal.Discussed,
    Proposal.Decided,
    Proposal.ProgressReported,
    Proposal.Done,
    Proposal.Published,
    Proposal.Rated,
    Proposal.RatingClosed,
    Proposal.Withdrawn,
    Proposal.Snapshot,
)
VALUES: tuple[type[BaseModel], ...] = (Budget, Vote)
ENUMS: tuple[type[enum.Enum], ...] = (Channel, Outcome, PublicationChannel, Level)

# --- what each field means (the only hand-written text in the generated tables) ---

COMMON_MEANINGS = {
    "originator_id": "The proposal's id. A column of the stored record, not part of the JSON.",
    "originator_version": (
        "This event's position in the proposal's history, from 1. "
        "A column of the stored record, not part of the JSON."
    ),
    "timestamp": (
        "Recording time: when the store recorded the event (UTC, system clock). Set by civicflow."
    ),
    "actor": "Who did it: an opaque id supplied by the embedding application.",
    "occurred_at": (
        "Time in the world: when it happened. Defaults to the application's clock; "
        "never before the current stage began."
    ),
    "class_version": "The event schema's version; written into the JSON only when it is above 1.",
}

MEANINGS: dict[str, dict[str, str]] = {
    "Asked": {
        "originator_topic": "The aggregate class, `civicflow.proposal:Proposal`. Set by civicflow.",
        "title": "A short title for the need.",
        "details": "What residents need, and why.",
        "category": "A free-text category such as `lighting`, for grouping.",
        "area_id": "Id of the compound (or other area) the need belongs to.",
        "resident": "The resident who raised the need.",
        "channel": "How the need reached the community.",
    },
    "Backed": {
        "resident": "The resident who backs the need: once each, and never the one who asked.",
    },
    "Discussed": {
        "attendees": "Who was present: council members and residents, no id twice.",
        "summary": "What the session concluded.",
        "opinions": "The main opinions voiced.",
    },
    "Decided": {
        "outcome": "Approved, rejected or deferred.",
        "vote": "The council's vote on this outcome; more in favour than against.",
        "plan": "What will be done. Required for an approval, absent otherwise.",
        "budget": "Money approved and its sources. Required for an approval, absent otherwise.",
        "responsible": "Who answers for the work. Required for an approval, absent otherwise.",
        "deadline": (
            "When the work is due, not before the decision. "
            "Required for an approval, absent otherwise."
        ),
        "reasons": "Why. Required for a rejection, optional otherwise.",
    },
    "ProgressReported": {
        "percent": "How far the work is; never goes down within a round.",
        "note": "What was done.",
        "spent": "Money spent so far on the proposal (all rounds); never goes down.",
    },
    "Done": {
        "summary": "What was done.",
        "total_spent": "Money spent in total so far (all rounds); never below an earlier figure.",
        "evidence": "References to photos, receipts, acceptance reports.",
    },
    "Published": {
        "channels": "Where the result was shown.",
        "summary": "What was shown.",
        "planned_spending": "The approved budget's amount. Set by civicflow; null for a rejection.",
        "actual_spending": "Money spent by then. Set by civicflow; null for a rejection.",
        "reasons": "The rejection's reasons, copied from the decision by civicflow.",
    },
    "Rated": {
        "resident": "The resident rating; their latest rating in a round is the one that counts.",
        "level": "Satisfied, basically satisfied or dissatisfied (满意 / 基本满意 / 不满意).",
        "comment": "What the resident said, if anything.",
        "round": "The round being rated. Set by civicflow.",
    },
    "RatingClosed": {
        "round": "The round that closed. Set by civicflow.",
        "satisfied": "Residents whose latest rating was satisfied. Set by civicflow.",
        "basically_satisfied": "Likewise, basically satisfied. Set by civicflow.",
        "dissatisfied": "Likewise, dissatisfied. Set by civicflow.",
        "satisfaction_rate": (
            "(satisfied + basically satisfied) / ratings, to 4 places. Set by civicflow."
        ),
        "threshold": "The application's `rectification_threshold` at the time. Set by civicflow.",
        "passed": (
            "Whether the rate reached the threshold: true closes the proposal, "
            "false sends the work back to Do for rectification (整改)."
        ),
    },
    "Withdrawn": {
        "reason": "Why the proposal was abandoned.",
    },
    "Snapshot": {
        "topic": "The aggregate class, `civicflow.proposal:Proposal`.",
        "state": (
            "The `ProposalState` as JSON, plus `class_version` (of `Proposal`), "
            "`created_on` and `modified_on`."
        ),
        "timestamp": "When the snapshot was taken.",
        "originator_version": "The version of the proposal the snapshot captures.",
    },
    "Budget": {
        "amount": "Money approved.",
        "currency": "ISO 4217 code.",
        "funding_sources": "Where the money comes from, such as `district fund`.",
    },
    "Vote": {
        "in_favour": "Votes for the outcome being recorded.",
        "against": "Votes against it.",
        "abstain": "Abstentions.",
    },
    "ProposalState": {
        "id": "The proposal's id.",
        "version": "How many events the proposal has.",
        "stage": "Where it stands now.",
        "title": "From `Asked`.",
        "details": "From `Asked`.",
        "category": "From `Asked`.",
        "area_id": "From `Asked`.",
        "asked_by": "The resident who asked.",
        "channel": "From `Asked`.",
        "asked_at": "When the need was raised (`occurred_at` of `Asked`).",
        "stage_entered_at": "`occurred_at` of the event that moved it into the current stage.",
        "recorded_at": "Recording time (`timestamp`) of the latest event.",
        "round": "0 before approval, 1 from approval, one more per rectification.",
        "backers": "Residents who backed the need, in order.",
        "discussions": "Every council session.",
        "decisions": "Every decision, deferrals included; the `decision` property is the latest.",
        "progress": "Every progress report.",
        "percent": "Latest progress in this round: 100 when done, back to 0 on rectification.",
        "spent": "Latest figure for money spent, over all rounds.",
        "completions": "Every `Done`, one per round.",
        "publications": "Every publication, one per round (or the rejection's).",
        "ratings": "This round's latest rating per resident; emptied when the round closes.",
        "rounds": "Every closed rating round.",
        "withdrawal": "The withdrawal, if the proposal was withdrawn.",
    },
}

# --- sections ------------------------------------------------------------------


def sections() -> dict[str, dict[str, str]]:
    """Every generated section: document file name -> marker name -> content."""
    events = {f"event:{cls.__name__}": event_section(cls) for cls in EVENTS}
    values = {f"value:{cls.__name__}": field_table(cls) for cls in VALUES}
    return {
        "concepts.md": {"lifecycle": lifecycle_block(), "stages": stage_table()},
        "events.md": {**events, **values, "enums": enum_table()},
        "api.md": {
            "state": field_table(ProposalState, link_events="events.md"),
            "errors": error_table(),
        },
    }


def lifecycle_block() -> str:
    """The lifecycle diagram, exactly ``mermaid_diagram()``, as a Mermaid code block."""
    return f"```mermaid\n{lifecycle.mermaid_diagram()}\n```"


def stage_table() -> str:
    """Each stage, the steps it allows and where each leads, from ``TRANSITIONS``."""
    rows = [_stage_row("(new)", [row for row in lifecycle.TRANSITIONS if row.source is None])]
    for stage in Stage:
        rows.append(_stage_row(f"`{stage}`", _rows_from(stage)))
    header = "| stage | allowed steps | leads to |\n| --- | --- | --- |\n"
    return header + "\n".join(rows)


def _rows_from(stage: Stage) -> list[lifecycle.Transition]:
    return [row for row in lifecycle.TRANSITIONS if row.source is stage]


def _stage_row(label: str, rows: Sequence[lifecycle.Transition]) -> str:
    steps = sorted({row.step for row in rows}, key=list(Step).index)
    allowed = ", ".join(f"`{step}`" for step in steps) or "none: final"
    leads = "; ".join(
        f"`{row.step}`{f' ({row.when})' if row.when else ''} → `{row.target}`" for row in rows
    )
    return f"| {label} | {allowed} | {leads} |"


def event_section(cls: type[DomainEvent]) -> str:
    """The fact (the class docstring's first line), its topic and its field table."""
    fact = _first_line(cls)
    topic = get_topic(cls)
    step = getattr(cls, "step", None)
    step_text = f" · step `{step}`" if step is not None else ""
    return f"{fact}\n\nTopic `{topic}`{step_text}\n\n{field_table(cls)}"


def field_table(cls: type[BaseModel], link_events: str = "") -> str:
    """One row per pydantic field (and ``class_version`` for events)."""
    meanings = {**COMMON_MEANINGS, **MEANINGS[cls.__name__]}
    rows = [
        f"| `{name}` | {type_text(info.annotation, info.metadata, link_events)} "
        f"| {_presence(info)} | {_meaning(meanings, cls, name)} |"
        for name, info in cls.model_fields.items()
    ]
    if issubclass(cls, DomainEvent):
        rows.append(
            f"| `class_version` | integer, now {cls.class_version} | class attribute "
            f"| {meanings['class_version']} |"
        )
    header = "| field | type | required / default | meaning |\n| --- | --- | --- | --- |\n"
    return header + "\n".join(rows)


def _meaning(meanings: dict[str, str], cls: type, name: str) -> str:
    try:
        return meanings[name]
    except KeyError:
        raise KeyError(f"docs/generate.py: write a meaning for {cls.__name__}.{name}") from None


def _presence(info: FieldInfo) -> str:
    if info.is_required():
        return "required"
    default = info.default
    shown = str(default) if isinstance(default, Decimal) else repr(default)
    return f"default `{shown}`"


def enum_table() -> str:
    """The values each enumeration accepts."""
    rows = [
        f"| `{cls.__name__}` | {', '.join(f'`{member.value}`' for member in cls)} |"
        for cls in ENUMS
    ]
    return "| enumeration | values |\n| --- | --- |\n" + "\n".join(rows)


def error_table() -> str:
    """Every error class in ``civicflow.errors``: builtin base, attributes, docstring."""
    rows = [
        f"| `{cls.__name__}` | `{_builtin_base(cls).__name__}` | {_attributes(cls)} "
        f"| {_first_line(cls)} |"
        for cls in error_classes()
    ]
    header = "| error | builtin base | attributes | meaning |\n| --- | --- | --- | --- |\n"
    return header + "\n".join(rows)


def error_classes() -> list[type[errors.CivicflowError]]:
    """The error family, in the order ``civicflow.errors`` defines it."""
    return [
        obj
        for obj in vars(errors).values()
        if isinstance(obj, type)
        and issubclass(obj, errors.CivicflowError)
        and obj.__module__ == errors.__name__
    ]


def _builtin_base(cls: type) -> type:
    return next(base for base in cls.__bases__ if base.__module__ == "builtins")


def _attributes(cls: type) -> str:
    """The ``self.name = ...`` assignments of the class's own ``__init__``."""
    init = vars(cls).get("__init__")
    if init is None:
        return ""
    tree = ast.parse(textwrap.dedent(inspect.getsource(init)))
    names = [
        target.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Attribute)
        and isinstance(target.value, ast.Name)
        and target.value.id == "self"
    ]
    return ", ".join(f"`{name}`" for name in names)


def _first_line(obj: object) -> str:
    return (obj.__doc__ or "").strip().splitlines()[0]


# --- type names ----------------------------------------------------------------

SIMPLE_TYPES: dict[Any, str] = {
    str: "text",
    int: "integer",
    bool: "boolean",
    Decimal: "decimal",
    UUID: "UUID",
    date: "date",
    datetime: "datetime",
    AwareDatetime: "datetime with time zone",
}


def type_text(annotation: Any, metadata: Iterable[Any] = (), link_events: str = "") -> str:
    """A reader's name for a field type, with its constraints."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return type_text(args[0], [*args[1:], *metadata], link_events)
    if origin in (typing.Union, types.UnionType):
        (inner,) = (arg for arg in args if arg is not type(None))
        return f"{type_text(inner, metadata, link_events)} or null"
    if origin is tuple:
        items = _constraints(metadata, unit="item")
        return f"list{items} of {type_text(args[0], (), link_events)}"
    if origin is dict:
        return "JSON object"
    unit = "char" if annotation is str else ""
    return _name(annotation, link_events) + _constraints(metadata, unit=unit)


def _name(annotation: Any, link_events: str) -> str:
    if annotation in SIMPLE_TYPES:
        return SIMPLE_TYPES[annotation]
    if isinstance(annotation, type) and issubclass(annotation, DomainEvent):
        anchor = annotation.__qualname__.replace(".", "").lower()
        return f"[`{annotation.__qualname__}`]({link_events}#{anchor})"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel | enum.Enum):
        return f"`{annotation.__name__}`"
    raise TypeError(f"docs/generate.py: no reader's name for {annotation!r}")


def _constraints(metadata: Iterable[Any], unit: str) -> str:
    found = _flatten(metadata)
    words = [*_length_words(found, unit), *_number_words(found)]
    return f" ({', '.join(words)})" if words else ""


def _flatten(metadata: Iterable[Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for item in metadata:
        if isinstance(item, FieldInfo):
            found.update(_flatten(item.metadata))
        for name in ("min_length", "max_length", "pattern", "ge", "gt", "le", "max_digits"):
            if getattr(item, name, None) is not None:
                found[name] = getattr(item, name)
        if getattr(item, "decimal_places", None) is not None:
            found["decimal_places"] = item.decimal_places
    return found


def _length_words(found: dict[str, Any], unit: str) -> list[str]:
    low, high = found.get("min_length"), found.get("max_length")
    words = []
    if low is not None and high is not None:
        words.append(f"{low}–{high} {unit}s")
    elif low is not None:
        words.append(f"at least {low} {unit}" + ("s" if low != 1 else ""))
    if "pattern" in found:
        words.append(f"matching `{found['pattern']}`")
    return words


def _number_words(found: dict[str, Any]) -> list[str]:
    words = [
        f"{sign} {found[key]}"
        for key, sign in (("ge", "≥"), ("gt", ">"), ("le", "≤"))
        if key in found
    ]
    if "max_digits" in found:
        words.append(f"at most {found['max_digits']} digits")
    if "decimal_places" in found:
        words.append(f"{found['decimal_places']} decimal places")
    return words


# --- marked sections in a document ---------------------------------------------


def _marker(name: str) -> re.Pattern[str]:
    start, end = re.escape(f"<!-- {name}:start -->"), re.escape(f"<!-- {name}:end -->")
    # An empty section (start line right above end line) is allowed, for a new section.
    return re.compile(rf"^({start})\n(?:(.*?)\n)?({end})$", re.MULTILINE | re.DOTALL)


def read_section(text: str, name: str) -> str:
    """The text between the marker lines of section ``name``.

    Raises:
        LookupError: the markers are missing, or appear more than once.
    """
    matches = _marker(name).findall(text)
    if len(matches) != 1:
        raise LookupError(f"expected one section <!-- {name}:start/end -->, found {len(matches)}")
    return str(matches[0][1])


def replace_section(text: str, name: str, content: str) -> str:
    """``text`` with section ``name`` replaced by ``content``; markers stay.

    Raises:
        LookupError: the markers are missing, or appear more than once.
    """
    read_section(text, name)
    return _marker(name).sub(lambda match: f"{match[1]}\n{content}\n{match[3]}", text)


def regenerate(document: Path, contents: dict[str, str]) -> bool:
    """Rewrite the sections of ``document`` in place; whether anything changed."""
    old = document.read_text(encoding="utf-8")
    new = old
    for name, content in contents.items():
        new = replace_section(new, name, content)
    if new != old:
        document.write_text(new, encoding="utf-8")
    return new != old


def stale_sections() -> list[str]:
    """``document: section`` for every generated section that differs from the code."""
    return [
        f"{file}: {name}"
        for file, contents in sections().items()
        for name, content in contents.items()
        if read_section((DOCS / file).read_text(encoding="utf-8"), name) != content
    ]


def main(argv: Sequence[str] = ()) -> int:
    """Rewrite every generated section, or with ``--check`` only list the stale ones."""
    if "--check" in argv:
        stale = stale_sections()
        for item in stale:
            print(f"stale: {item}")
        return 1 if stale else 0
    for file, contents in sections().items():
        if regenerate(DOCS / file, contents):
            print(f"rewrote {file}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
