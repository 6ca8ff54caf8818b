"""Councils and their seats under published ids.

A council is ``<compound>/council-N`` (its compound's N-th council) and a stint on it
``<council>/member-M`` (the M-th to join). Members hold a public office, but civicflow
keeps only the opaque ids the embedding application gave them, which may be the
ids it uses for the same people as residents: the seat numbers stand in for them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from civicflow.domain.community.councils import Council, Membership
from civicflow.domain.community.structure import Structure

JUST_BEFORE = timedelta(microseconds=1)


@dataclass(frozen=True)
class Term:
    """One council with its published id."""

    id: str
    council: Council

    def members(self, moment: datetime) -> int:
        """Members at ``moment``, or just before the dissolution of a dissolved council."""
        dissolved = self.council.dissolved
        at = min(moment, dissolved - JUST_BEFORE) if dissolved is not None else moment
        return len(self.council.members_at(at))


@dataclass(frozen=True)
class Seat:
    """One member's stint on one council, with its published id."""

    id: str
    term: Term
    membership: Membership

    @property
    def role(self) -> str:
        role = self.membership.role
        return role.value if role is not None else "member"


def terms(structure: Structure) -> Iterator[Term]:
    """Every council of every compound, in the order of the compounds' ids."""
    for compound_id in sorted(structure.councils):
        yield from terms_of(structure, compound_id)


def seats(term: Term) -> Iterator[Seat]:
    """Every stint on the council, in the order members joined."""
    ordered = sorted(term.council.memberships, key=lambda m: m.joined)
    for n, membership in enumerate(ordered, 1):
        yield Seat(f"{term.id}/member-{n}", term, membership)


def seat_of(
    structure: Structure, compound_id: str | None, member: str, at: datetime
) -> Seat | None:
    """The seat ``member`` held on the compound's council at ``at``, if any."""
    if compound_id is None:
        return None
    council = structure.council_at(compound_id, at)
    term = next((t for t in terms_of(structure, compound_id) if t.council is council), None)
    if term is None:
        return None
    return next(
        (s for s in seats(term) if s.membership.member == member and s.membership.active_at(at)),
        None,
    )


def terms_of(structure: Structure, compound_id: str) -> Iterator[Term]:
    """The compound's councils."""
    for n, council in enumerate(structure.councils.get(compound_id, ()), 1):
        yield Term(f"{compound_id}/council-{n}", council)
