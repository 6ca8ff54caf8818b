"""Councils, their seats and their decisions in the Popolo data specification.

``organizations`` are the councils, ``persons`` their seats (``seats.py``: no member's
id or name is published), ``memberships`` the stints with role and dates, ``motions``
the proposals a council decided on, and ``vote_events`` each decision with its counts
in favour, against and abstaining. A decision taken where no council sat (community
rules off) names no organization.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from civicflow.domain.community.structure import Structure
from civicflow.domain.kinds import AreaKind, Outcome
from civicflow.domain.proposal_state import ProposalState
from civicflow.opendata.records import day
from civicflow.opendata.seats import Seat, Term, seats, terms, terms_of
from civicflow.opendata.source import Source

Json = dict[str, Any]
RESULTS = {Outcome.APPROVED: "pass", Outcome.REJECTED: "fail", Outcome.DEFERRED: "deferred"}


def popolo(source: Source) -> Json:
    """The Popolo document of the source."""
    structure = source.structure
    all_terms = list(terms(structure))
    motions, votes = [], []
    for state in source.proposals:
        for n, (motion, vote) in enumerate(_decisions(structure, state), 1):
            motions.append({**motion, "id": f"{state.id}/motion-{n}"})
            votes.append({**vote, "id": f"{state.id}/decision-{n}", "motion_id": motions[-1]["id"]})
    return {
        "organizations": [_organization(structure, source, term) for term in all_terms],
        "persons": [_person(structure, source, seat) for t in all_terms for seat in seats(t)],
        "memberships": [_membership(structure, seat) for t in all_terms for seat in seats(t)],
        "motions": motions,
        "vote_events": votes,
    }


def _named(structure: Structure, source: Source, compound_id: str) -> str:
    area = structure.areas.get(compound_id)
    return (area.name_at(source.moment) if area else None) or compound_id


def _organization(structure: Structure, source: Source, term: Term) -> Json:
    council, compound = term.council, term.council.compound_id
    name = _named(structure, source, compound)
    found: Json = {
        "id": term.id,
        "name": f"{name} party-masses council",
        "other_names": [{"name": f"{name}党群议事会", "note": "zh"}],
        "classification": "council",
        "area_id": compound,
        "founding_date": _iso(day(structure, compound, council.formed)),
    }
    if council.dissolved is not None:
        found["dissolution_date"] = _iso(day(structure, compound, council.dissolved))
    return found


def _person(structure: Structure, source: Source, seat: Seat) -> Json:
    # Popolo asks every person for a name: the seat's, never the member's id.
    n = seat.id.rsplit("-", 1)[-1]
    name = _named(structure, source, seat.term.council.compound_id)
    return {"id": seat.id, "name": f"Member {n}, {name} party-masses council"}


def _membership(structure: Structure, seat: Seat) -> Json:
    compound = seat.term.council.compound_id
    found: Json = {
        "id": f"{seat.id}/membership",
        "person_id": seat.id,
        "organization_id": seat.term.id,
        "role": seat.role,
        "start_date": _iso(day(structure, compound, seat.membership.joined)),
    }
    if seat.membership.left is not None:
        found["end_date"] = _iso(day(structure, compound, seat.membership.left))
    return found


def _decisions(structure: Structure, state: ProposalState) -> Iterator[tuple[Json, Json]]:
    """A motion and its vote event for each decision on the proposal."""
    for decision in state.decisions:
        at, scope = decision.occurred_at, state.area_id
        compound = structure.enclosing(scope, AreaKind.COMPOUND, at)
        council = structure.council_at(compound, at) if compound else None
        term = next((t for t in terms_of(structure, compound or "") if t.council is council), None)
        held = {"organization_id": term.id} if term is not None else {}
        when = _iso(day(structure, scope, at))
        result = RESULTS[decision.outcome]
        motion = {"text": state.title, "date": when, "result": result, **held}
        vote = {
            "start_date": when,
            "result": result,
            "counts": [
                {"option": "yes", "value": decision.vote.in_favour},
                {"option": "no", "value": decision.vote.against},
                {"option": "abstain", "value": decision.vote.abstain},
            ],
            **held,
        }
        yield motion, vote


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None
