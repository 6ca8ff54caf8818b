"""Public event names (``proposal.rated``) and the filters subscribers write with them.

A receiver should not have to know civicflow's module layout: the stored topic
``civicflow.proposal:Proposal.Rated`` is delivered as ``proposal.rated``, the
aggregate in lower case, a dot, the event in snake case. The names are derived from
the event classes, so a new event gets one without anyone writing it down.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache

from eventsourcing.utils import get_topic

from civicflow.domain.community.directory import Directory
from civicflow.domain.community.residents import Resident
from civicflow.domain.proposal import Proposal
from civicflow.errors import InvalidInputError

AGGREGATES = (Proposal, Directory, Resident)
# Bases and snapshots: never in the notification log as facts of their own.
_NOT_FACTS = {"Event", "Created", "Snapshot"}
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


@cache
def public_names() -> dict[str, str]:
    """Every stored topic of a fact, mapped to its public name, in reference order."""
    names: dict[str, str] = {}
    for aggregate in AGGREGATES:
        for attribute, value in vars(aggregate).items():
            fact = isinstance(value, type) and issubclass(value, aggregate.Event)
            if fact and attribute not in _NOT_FACTS:
                public = f"{aggregate.__name__.lower()}.{_CAMEL.sub('_', attribute).lower()}"
                names[get_topic(value)] = public
    return names


def public_name(topic: str) -> str | None:
    """The public name of a stored topic (None for a record that is not a fact)."""
    return public_names().get(topic)


def check_patterns(patterns: Iterable[str]) -> tuple[str, ...]:
    """The filter as given, each entry a public name, ``aggregate.*`` or ``*``.

    Raises:
        InvalidInputError: an entry names no event (listing those that exist).
    """
    known = set(public_names().values())
    groups = {name.split(".")[0] for name in known}
    found = tuple(dict.fromkeys(p.strip() for p in patterns))
    wrong = [
        p
        for p in found
        if p != "*" and p not in known and not (p.endswith(".*") and p[:-2] in groups)
    ]
    if wrong:
        hint = f"one of {', '.join(sorted(known))}, a group like proposal.* or *"
        raise InvalidInputError(
            "event filter", [("event", f"{p!r} is no event type; use {hint}") for p in wrong]
        )
    return found


def matches(patterns: tuple[str, ...], name: str) -> bool:
    """Whether the public ``name`` passes the filter (an empty filter passes everything)."""
    if not patterns or "*" in patterns:
        return True
    return name in patterns or f"{name.split('.', maxsplit=1)[0]}.*" in patterns
