"""The rows a view keeps, and what one batch of the log writes into them."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from operator import attrgetter
from typing import Any


@dataclass
class ProposalRow:
    """One proposal as the pipeline view sees it."""

    proposal_id: str
    title: str
    category: str
    scope_id: str
    compound: str | None
    community: str | None
    street: str | None
    district: str | None
    stage: str
    asked_at: str
    round: int = 0
    decided_at: str | None = None
    deadline: str | None = None
    done_at: str | None = None
    published_at: str | None = None
    finished_at: str | None = None

    def values(self) -> tuple[Any, ...]:
        return _row_values(self)


_row_values = attrgetter(*(f.name for f in fields(ProposalRow)))


@dataclass
class Batch:
    """The rows one stretch of the log changes."""

    proposals: dict[str, ProposalRow] = field(default_factory=dict)
    ratings: dict[tuple[str, int, str], tuple[Any, ...]] = field(default_factory=dict)
    participation: set[tuple[Any, ...]] = field(default_factory=set)


@dataclass(frozen=True)
class Rows:
    """What one batch writes, ready for the tables: taken from the projector at once,
    so that it can be written while the projector goes on counting.
    """

    proposals: list[tuple[Any, ...]]
    ratings: list[tuple[Any, ...]]
    participation: list[tuple[Any, ...]]
    structure: list[tuple[str, str, str]]
    homes: list[tuple[str, str]]
    sealed: bool = False  # ids and text already as an encrypted store keeps them
