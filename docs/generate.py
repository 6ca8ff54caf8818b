"""Regenerate the marked sections of the docs from civicflow's own tables and models.

Run ``python docs/generate.py`` after changing ``civicflow.lifecycle``, an event,
``ProposalState`` or a value that queries return; ``python docs/generate.py --check``
only reports stale sections. ``tests/test_docs_generated.py`` imports this file and
fails while a section is stale, so the diagram, the stage table and the field tables
can never drift from the code.

A generated section sits between two marker lines, ``<!-- NAME:start -->`` and
``<!-- NAME:end -->``; everything outside the markers is written by hand.

Whole files are generated too: ``docs/schema/events.schema.json``, the JSON Schema of
a line of an events export, with the stored state of every event type (from
``civicflow.export.event_schemas()``). It is written with sorted keys and an indent
of 2, so the same models always give the same bytes.
"""

from __future__ import annotations

import ast
import copy
import enum
import inspect
import json
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

from eventsourcing.utils import get_topic, resolve_topic
from pydantic import AwareDatetime, BaseModel
from pydantic.fields import FieldInfo

from civicflow import (
    AreaKind,
    AreaView,
    Budget,
    Channel,
    Council,
    Home,
    Level,
    Majority,
    Membership,
    Outcome,
    Policy,
    Proposal,
    ProposalState,
    PublicationChannel,
    Role,
    SponsorKind,
    Sponsorship,
    Via,
    Vote,
    errors,
)
from civicflow.audit import errors as audit_errors
from civicflow.audit import export, exportfile
from civicflow.domain import integrity, lifecycle
from civicflow.domain.community.directory import Directory
from civicflow.domain.community.policy import PolicyChange
from civicflow.domain.community.residents import Resident
from civicflow.domain.eventmodel import AggregateSnapshot, DomainEvent
from civicflow.domain.lifecycle import Stage, Step

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
DIRECTORY_EVENTS: tuple[type[DomainEvent], ...] = (
    Directory.Opened,
    Directory.AreaAdded,
    Directory.AreaRenamed,
    Directory.CompoundReassigned,
    Directory.HouseholdsCounted,
    Directory.CouncilFormed,
    Directory.CouncilDissolved,
    Directory.MemberJoined,
    Directory.MemberLeft,
    Directory.PolicySet,
    Directory.SponsorAssigned,
    Directory.SponsorshipEnded,
    Directory.Snapshot,
)
RESIDENT_EVENTS: tuple[type[DomainEvent], ...] = (
    Resident.Registered,
    Resident.Moved,
    Resident.MovedOut,
    Resident.Snapshot,
)
VALUES: tuple[type[BaseModel], ...] = (Budget, Vote, Policy, PolicyChange)
# What the community queries return (api.md).
VIEWS: tuple[type[BaseModel], ...] = (AreaView, Council, Membership, Home, Sponsorship)
ENUMS: tuple[type[enum.Enum], ...] = (
    Channel,
    Outcome,
    PublicationChannel,
    Level,
    Majority,
    AreaKind,
    Via,
    Role,
    SponsorKind,
)

# --- what each field means (the only hand-written text in the generated tables) ---

COMMON_MEANINGS = {
    "originator_id": ("The aggregate's id. A column of the stored record, not part of the JSON."),
    "originator_version": (
        "This event's position in the aggregate's history, from 1. "
        "A column of the stored record, not part of the JSON."
    ),
    "timestamp": (
        "Recording time: when the store recorded the event (UTC, system clock). Set by civicflow."
    ),
    "actor": "Who did it: an opaque id supplied by the embedding application.",
    "occurred_at": "Time in the world: when it happened. Defaults to the application's clock.",
    "class_version": "The event schema's version; written into the JSON only when it is above 1.",
    "previous_digest": (
        "The SHA-256 digest of the event before it in the same aggregate (None for the first): "
        "each aggregate's history is a hash chain. Set by civicflow; see audit.md."
    ),
}

# Meanings that differ per aggregate; the first part of an event's qualified name picks them.
AGGREGATE_MEANINGS: dict[str, dict[str, str]] = {
    "Proposal": {
        "originator_id": "The proposal's id. A column of the stored record, not part of the JSON.",
        "originator_version": (
            "This event's position in the proposal's history, from 1. "
            "A column of the stored record, not part of the JSON."
        ),
        "occurred_at": (
            "Time in the world: when it happened. Defaults to the application's clock; "
            "never before the current stage began."
        ),
    },
    "Directory": {
        "originator_id": (
            "The directory's id, the same in every application (one directory per store). "
            "A column of the stored record, not part of the JSON."
        ),
        "originator_version": (
            "This event's position in the directory's history, from 1. "
            "A column of the stored record, not part of the JSON."
        ),
        "occurred_at": (
            "Time in the world: when the change took effect. Defaults to the application's "
            "clock; as-of queries and the rules of proposal steps go by it."
        ),
    },
    "Resident": {
        "originator_id": (
            "The resident aggregate's id, derived from `resident_id` (a UUID 5), so that "
            "any application finds it again. A column of the stored record, not part of the JSON."
        ),
        "originator_version": (
            "This event's position in the resident's history, from 1. "
            "A column of the stored record, not part of the JSON."
        ),
        "occurred_at": (
            "Time in the world: when the registration took effect. Defaults to the "
            "application's clock; never before the resident's previous change."
        ),
    },
}

MEANINGS: dict[str, dict[str, str]] = {
    "Proposal.Asked": {
        "originator_topic": "The aggregate class, `civicflow.proposal:Proposal`. Set by civicflow.",
        "title": "A short title for the need.",
        "details": "What residents need, and why.",
        "category": "A free-text category such as `lighting`, for grouping.",
        "area_id": (
            "The proposal's scope: the compound (or wider area) the need belongs to. "
            "With community rules, registered at the time."
        ),
        "resident": "The resident who raised the need; with community rules, living in the scope.",
        "channel": "How the need reached the community.",
    },
    "Proposal.Backed": {
        "resident": (
            "The resident who backs the need: once each, never the one who asked; "
            "with community rules, living in the scope."
        ),
    },
    "Proposal.Discussed": {
        "attendees": "Who was present: council members and residents, no id twice.",
        "summary": "What the session concluded.",
        "opinions": "The main opinions voiced.",
        "members_present": (
            "The attendees who sat on a council of the scope at the session. Set by civicflow; "
            "null when community rules are off."
        ),
        "council_size": (
            "How many members those councils had at the session. Set by civicflow; "
            "null when community rules are off."
        ),
    },
    "Proposal.Decided": {
        "outcome": "Approved, rejected or deferred.",
        "vote": (
            "The council's vote on this outcome: reaches the policy's majority, "
            "and no more votes than members present."
        ),
        "plan": "What will be done. Required for an approval, absent otherwise.",
        "budget": "Money approved and its sources. Required for an approval, absent otherwise.",
        "responsible": "Who answers for the work. Required for an approval, absent otherwise.",
        "deadline": (
            "When the work is due, not before the decision. "
            "Required for an approval, absent otherwise."
        ),
        "reasons": "Why. Required for a rejection, optional otherwise.",
        "policy": (
            "The rules in force for the scope when the decision was taken (quorum, majority). "
            "Set by civicflow."
        ),
    },
    "Proposal.ProgressReported": {
        "percent": "How far the work is; never goes down within a round.",
        "note": "What was done.",
        "spent": "Money spent so far on the proposal (all rounds); never goes down.",
    },
    "Proposal.Done": {
        "summary": "What was done.",
        "total_spent": "Money spent in total so far (all rounds); never below an earlier figure.",
        "evidence": "References to photos, receipts, acceptance reports.",
    },
    "Proposal.Published": {
        "channels": "Where the result was shown.",
        "summary": "What was shown.",
        "planned_spending": "The approved budget's amount. Set by civicflow; null for a rejection.",
        "actual_spending": "Money spent by then. Set by civicflow; null for a rejection.",
        "reasons": "The rejection's reasons, copied from the decision by civicflow.",
        "policy": (
            "The rules in force for the scope at publication: the rating window and threshold "
            "of the round it opens, whatever changes later. Set by civicflow."
        ),
    },
    "Proposal.Rated": {
        "resident": (
            "The resident rating, with community rules living in the scope; "
            "their latest rating in a round is the one that counts."
        ),
        "level": "Satisfied, basically satisfied or dissatisfied (满意 / 基本满意 / 不满意).",
        "comment": "What the resident said, if anything.",
        "round": "The round being rated. Set by civicflow.",
    },
    "Proposal.RatingClosed": {
        "round": "The round that closed. Set by civicflow.",
        "satisfied": "Residents whose latest rating was satisfied. Set by civicflow.",
        "basically_satisfied": "Likewise, basically satisfied. Set by civicflow.",
        "dissatisfied": "Likewise, dissatisfied. Set by civicflow.",
        "satisfaction_rate": (
            "(satisfied + basically satisfied) / ratings, to 4 places. Set by civicflow."
        ),
        "threshold": (
            "The `rectification_threshold` of the policy the round opened with "
            "(recorded on its `Published`). Set by civicflow."
        ),
        "passed": (
            "Whether the rate reached the threshold: true closes the proposal, "
            "false sends the work back to Do for rectification (整改)."
        ),
    },
    "Proposal.Withdrawn": {
        "reason": "Why the proposal was abandoned.",
    },
    "Proposal.Snapshot": {
        "topic": "The aggregate class, `civicflow.proposal:Proposal`.",
        "state": (
            "The `ProposalState` as JSON, plus `class_version` (of `Proposal`), "
            "`created_on` and `modified_on`."
        ),
        "timestamp": "When the snapshot was taken.",
        "originator_version": "The version of the proposal the snapshot captures.",
    },
    "Directory.Opened": {
        "originator_topic": (
            "The aggregate class, `civicflow.directory:Directory`. Set by civicflow."
        ),
        "actor": "The actor of the first structure command, which opened the directory.",
        "occurred_at": "The `occurred_at` of the first structure command.",
    },
    "Directory.AreaAdded": {
        "area_id": "The new area's id, chosen by the embedding application; unique.",
        "kind": "District, street, community or compound.",
        "name": "Its name from `occurred_at` on.",
        "parent_id": (
            "The area it lies in, of the next wider kind, existing at `occurred_at`; "
            "null for a district."
        ),
        "is_old": "Compounds only (required for them): whether it is an old compound.",
        "has_property_management": (
            "Compounds only (required for them): whether a property management company serves "
            "it (false: 无主楼院)."
        ),
        "households": "Compounds only (required for them): registered households.",
        "time_zone": (
            "Districts only: the IANA time zone for dates and quarters. "
            "Set by civicflow to `Asia/Shanghai` when not given."
        ),
    },
    "Directory.AreaRenamed": {
        "area_id": "The area renamed.",
        "name": "Its name from `occurred_at` on; the old name stays in its history.",
    },
    "Directory.CompoundReassigned": {
        "area_id": "The compound that moved.",
        "community_id": "The community it lies in from `occurred_at` on.",
    },
    "Directory.HouseholdsCounted": {
        "area_id": "The compound counted.",
        "households": "Registered households from `occurred_at` on.",
    },
    "Directory.CouncilFormed": {
        "compound_id": "The compound whose council (党群议事会) was formed; one at a time.",
    },
    "Directory.CouncilDissolved": {
        "compound_id": "The compound whose council was dissolved; every open seat ends with it.",
    },
    "Directory.MemberJoined": {
        "compound_id": "The compound whose council the member joined.",
        "member": "The member: an opaque id; not seated twice at once.",
        "via": "How they came onto the council.",
        "role": "An office they hold, if any; one chair and one secretary at a time.",
    },
    "Directory.MemberLeft": {
        "compound_id": "The compound whose council the member left.",
        "member": "The member whose seat ended.",
    },
    "Directory.PolicySet": {
        "area_id": "The district that set its rules, or the community that overrode them.",
        "change": "The rules set; the others are inherited.",
        "effective_from": (
            "When the change takes effect (default: `occurred_at`); "
            "never before the area's previous change took effect."
        ),
    },
    "Directory.SponsorAssigned": {
        "sponsor": "The district cadre or department: an opaque id.",
        "kind": "Cadre or department.",
        "area_id": "The community or compound sponsored (分包).",
    },
    "Directory.SponsorshipEnded": {
        "sponsor": "The sponsor whose sponsorship ended.",
        "area_id": "The community or compound they no longer sponsor.",
    },
    "Directory.Snapshot": {
        "topic": "The aggregate class, `civicflow.directory:Directory`.",
        "state": (
            "The `Structure` as JSON, plus `class_version` (of `Directory`), "
            "`created_on` and `modified_on`."
        ),
        "timestamp": "When the snapshot was taken.",
        "originator_version": "The version of the directory the snapshot captures.",
    },
    "Resident.Registered": {
        "originator_topic": "The aggregate class, `civicflow.resident:Resident`. Set by civicflow.",
        "resident_id": "The resident: an opaque id from the embedding application, nothing more.",
        "compound_id": "The compound they are registered to from `occurred_at` on.",
    },
    "Resident.Moved": {
        "compound_id": (
            "The compound they are registered to from `occurred_at` on: another one, "
            "or any one after moving out."
        ),
    },
    "Resident.MovedOut": {},
    "Resident.Snapshot": {
        "topic": "The aggregate class, `civicflow.resident:Resident`.",
        "state": (
            "The `Home` as JSON, plus `class_version` (of `Resident`), "
            "`created_on` and `modified_on`."
        ),
        "timestamp": "When the snapshot was taken.",
        "originator_version": "The version of the resident the snapshot captures.",
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
    "Policy": {
        "rectification_threshold": (
            "The satisfaction rate a rating round must reach to close the proposal; "
            "below it the work goes back for rectification (整改)."
        ),
        "rating_window_days": (
            "How many days a round accepts ratings after its publication; "
            "the round closes only after them."
        ),
        "quorum": (
            "A decision needs more than this fraction of the council's members present "
            "at the latest session."
        ),
        "majority": "How many votes an outcome needs.",
        "recorders": (
            "Who besides the council's members may record its sessions and decisions "
            "(a community office keeping the minutes, say); anyone else is refused."
        ),
    },
    "PolicyChange": {
        "rectification_threshold": "As in `Policy`; null: inherited.",
        "rating_window_days": "As in `Policy`; null: inherited.",
        "quorum": "As in `Policy`; null: inherited.",
        "majority": "As in `Policy`; null: inherited.",
        "recorders": "As in `Policy`; null: inherited.",
    },
    "AreaView": {
        "id": "The area's id.",
        "kind": "District, street, community or compound.",
        "name": "Its name at `as_of`.",
        "parent_id": "The area it lay in at `as_of` (null for a district).",
        "as_of": "The moment this view describes.",
        "is_old": "Compounds: whether it is an old compound; null for other kinds.",
        "has_property_management": (
            "Compounds: whether property management serves it; null for other kinds."
        ),
        "households": "Compounds: registered households at `as_of`; null for other kinds.",
        "has_council": "Compounds: whether it had a council at `as_of`; null for other kinds.",
        "time_zone": "The time zone of the district it lay in.",
    },
    "Council": {
        "compound_id": "The compound the council belongs to.",
        "formed": "When it was formed.",
        "dissolved": "When it was dissolved; null while it exists.",
        "memberships": "Every seat ever taken on it, in order, with joining and leaving times.",
    },
    "Membership": {
        "member": "The member's id.",
        "via": "How they came onto the council.",
        "role": "Their office, if any.",
        "joined": "When the seat began.",
        "left": "When it ended; null while they sit.",
    },
    "Home": {
        "resident_id": "The resident's id.",
        "homes": (
            "Each registration change in order: `effective` (when) and `value` "
            "(the compound, or null from moving out)."
        ),
    },
    "Sponsorship": {
        "sponsor": "The cadre or department.",
        "kind": "Cadre or department.",
        "area_id": "The community or compound sponsored.",
        "start": "When the sponsorship began.",
        "end": "When it ended; null while it lasts.",
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
        "rating_residents": (
            "This round's latest rating per resident, in the order given: who rated. With "
            "the next two fields, one column each; all three are emptied when the round "
            "closes. The property `ratings` gives them as `Rated` events, `rating_rows` as "
            "rows of the event's fields."
        ),
        "rating_levels": (
            "One letter per rating, in the same order: `s` satisfied, `b` basically "
            "satisfied, `d` dissatisfied."
        ),
        "rating_rest": (
            "Each rating's other `Rated` fields, in the same order, as one JSON array: "
            "version, recorded at, previous digest, actor, occurred at, comment, round."
        ),
        "rounds": "Every closed rating round.",
        "withdrawal": "The withdrawal, if the proposal was withdrawn.",
    },
}

# --- sections ------------------------------------------------------------------


def sections() -> dict[str, dict[str, str]]:
    """Every generated section: document file name -> marker name -> content."""
    every_event = (*EVENTS, *DIRECTORY_EVENTS, *RESIDENT_EVENTS)
    events = {f"event:{cls.__qualname__}": event_section(cls) for cls in every_event}
    values = {f"value:{cls.__name__}": field_table(cls) for cls in VALUES}
    views = {f"view:{cls.__name__}": field_table(cls) for cls in VIEWS}
    return {
        "concepts.md": {"lifecycle": lifecycle_block(), "stages": stage_table()},
        "events.md": {**events, **values, "enums": enum_table()},
        "api.md": {
            "state": field_table(ProposalState, link_events="events.md"),
            **views,
            "errors": error_table(),
        },
        "opendata.md": {"dictionary": opendata_dictionary()},
        "cli.md": {"cli-reference": cli_reference()},
    }


def cli_reference() -> str:
    """Every command's options with their help, and the exit codes, from the parser."""
    from civicflow.cli.main import build_parser
    from civicflow.cli.reference import markdown

    common = {"--db", "--keys", "--city", "--district", "--json", "--lang"}
    return markdown(build_parser(), common)


def opendata_dictionary() -> str:
    """The field dictionary of the open data package, as ``datapackage.json`` has it."""
    from civicflow.opendata import TABLES
    from civicflow.opendata.dictionary import markdown

    return markdown(TABLES).rstrip("\n")


def files() -> dict[str, str]:
    """Every generated file: path below ``docs/`` -> its whole text."""
    return {"schema/events.schema.json": json_text(events_schema())}


def json_text(value: Any) -> str:
    """Deterministic JSON: sorted keys, an indent of 2, UTF-8 text, a final newline."""
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


# --- the JSON Schema of an events export -----------------------------------------

EXPORT_FIELDS: dict[str, dict[str, Any]] = {
    "position": {
        "type": "integer",
        "minimum": 1,
        "description": (
            "The record's place in the exported log: 1, 2, 3... in log order. Not a database id."
        ),
    },
    "aggregate": {
        "enum": sorted(cls.__name__ for cls in export.AGGREGATES),
        "description": "The kind of aggregate the record belongs to (the topic's first name).",
    },
    "id": {
        "type": "string",
        "format": "uuid",
        "description": "The aggregate's id (the record's originator_id).",
    },
    "version": {
        "type": "integer",
        "minimum": 1,
        "description": "The record's position in its aggregate's history (originator_version).",
    },
    "topic": {
        "type": "string",
        "description": "The event class, as module:qualified name; picks the schema of state.",
    },
    "state": {
        "type": "object",
        "description": "The JSON object exactly as stored: the event's fields, seal included.",
    },
}
SEAL_SCHEMA: dict[str, Any] = {
    "type": "string",
    "pattern": "^[0-9a-f]{64}$",
    "description": (
        "The record's seal: HMAC-SHA256 under the audit key of the record's digest. "
        "Absent from stores without an audit key. See docs/audit.md."
    ),
}


def events_schema() -> dict[str, Any]:
    """The JSON Schema of one line of an events export, every event's stored state in ``$defs``.

    The state of topic ``module:Aggregate.Event`` is ``$defs["Aggregate.Event"]``; value
    objects and enumerations shared by several events (``Budget``, ``Level``...) sit
    beside them, once. Snapshots are defined too, though an export never holds them.
    """
    definitions: dict[str, Any] = {}
    branches: list[dict[str, Any]] = []
    topics: list[str] = []
    for topic, schema in export.event_schemas().items():
        cls = resolve_topic(topic)
        state = stored_state_schema(cls, schema)
        for name, definition in state.pop("$defs", {}).items():
            _define(definitions, name, definition)
        _define(definitions, cls.__qualname__, state)
        if not issubclass(cls, AggregateSnapshot):  # snapshots are not in the log
            topics.append(topic)
            branches.append(
                {
                    "if": {"properties": {"topic": {"const": topic}}},
                    "then": {"properties": {"state": {"$ref": f"#/$defs/{cls.__qualname__}"}}},
                }
            )
    properties = copy.deepcopy(EXPORT_FIELDS)
    properties["topic"]["enum"] = topics
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"civicflow events export ({exportfile.FORMAT}): one record line",
        "description": (
            "Each line of an events export (CivicFlow.export_events, JSON Lines) between "
            "its header (the first line) and its trailer (the last) is one record of the "
            "log (a civicflow-events/1 file has no header or trailer). Its state follows "
            "the schema its topic names, "
            '$defs["Aggregate.Event"]. Generated from civicflow\'s pydantic models by '
            "docs/generate.py; describes records written by this version of civicflow."
        ),
        "type": "object",
        "properties": properties,
        "required": list(EXPORT_FIELDS),
        "additionalProperties": False,
        "allOf": branches,
        "$defs": definitions,
    }


def stored_state_schema(cls: type[BaseModel], schema: dict[str, Any]) -> dict[str, Any]:
    """An event's model schema turned into the schema of its stored JSON object.

    The originator's id and version are columns of the record, not part of the JSON
    (an export line carries them as ``id`` and ``version``); the JSON adds the seal
    ``_mac`` and, above version 1, ``class_version``.
    """
    state = copy.deepcopy(schema)
    properties = state["properties"]
    for name in integrity.ORIGINATOR_FIELDS:
        del properties[name]
    state["required"] = [name for name in state.get("required", []) if name in properties]
    properties[integrity.SEAL_FIELD] = SEAL_SCHEMA
    class_version = getattr(cls, "class_version", 1)
    if class_version > 1:
        properties["class_version"] = {"const": class_version}
        state["required"].append("class_version")
    state["title"] = cls.__qualname__
    return state


def _define(definitions: dict[str, Any], name: str, definition: dict[str, Any]) -> None:
    if definitions.setdefault(name, definition) != definition:
        raise ValueError(f"docs/generate.py: two different schemas are both named {name!r}")


# --- the sections' contents ------------------------------------------------------


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
    owner = cls.__qualname__.split(".")[0]
    meanings = {
        **COMMON_MEANINGS,
        **AGGREGATE_MEANINGS.get(owner, {}),
        **MEANINGS[cls.__qualname__],
    }
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
        raise KeyError(f"docs/generate.py: write a meaning for {cls.__qualname__}.{name}") from None


def _presence(info: FieldInfo) -> str:
    if info.is_required():
        return "required"
    default = info.default
    if isinstance(default, enum.Enum):
        default = default.value
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
    """Every error class of the family: builtin base, attributes, docstring."""
    rows = [
        f"| `{cls.__name__}` | `{_builtin_base(cls).__name__}` | {_attributes(cls)} "
        f"| {_first_line(cls)} |"
        for cls in error_classes()
    ]
    header = "| error | builtin base | attributes | meaning |\n| --- | --- | --- | --- |\n"
    return header + "\n".join(rows)


def error_classes() -> list[type[errors.CivicflowError]]:
    """The error family, in the order ``civicflow.errors`` then ``civicflow.audit.errors``
    (the signing, key, feed and witness errors) define it.
    """
    return [
        obj
        for module in (errors, audit_errors)
        for obj in vars(module).values()
        if isinstance(obj, type)
        and issubclass(obj, errors.CivicflowError)
        and obj.__module__ == module.__name__
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
        for name in ("min_length", "max_length", "pattern", "ge", "gt", "le", "lt", "max_digits"):
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
        for key, sign in (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("lt", "<"))
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
    """``document: section`` for every generated section, and the path of every generated
    file, that differs from the code (or is missing)."""
    stale = [
        f"{file}: {name}"
        for file, contents in sections().items()
        for name, content in contents.items()
        if read_section((DOCS / file).read_text(encoding="utf-8"), name) != content
    ]
    return stale + [path for path, content in files().items() if _read(DOCS / path) != content]


def _read(path: Path) -> str | None:
    return path.read_text(encoding="utf-8") if path.is_file() else None


def main(argv: Sequence[str] = ()) -> int:
    """Rewrite every generated section and file, or with ``--check`` only list the stale ones."""
    if "--check" in argv:
        stale = stale_sections()
        for item in stale:
            print(f"stale: {item}")
        return 1 if stale else 0
    for file, contents in sections().items():
        if regenerate(DOCS / file, contents):
            print(f"rewrote {file}")
    for path, content in files().items():
        if _read(DOCS / path) != content:
            (DOCS / path).parent.mkdir(parents=True, exist_ok=True)
            (DOCS / path).write_text(content, encoding="utf-8")
            print(f"rewrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
