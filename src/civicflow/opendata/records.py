"""The rows of each CSV table, from what was read (``source.py``).

Figures are copied from the views as they are, suppressed ones with their numbers
empty: nothing here counts residents. Days are those of the district's time zone,
as quarters are.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from civicflow.domain.community.areas import DEFAULT_TIME_ZONE, AreaKind
from civicflow.domain.community.structure import Structure
from civicflow.domain.kinds import Outcome
from civicflow.domain.lifecycle import Verdict
from civicflow.domain.proposal_state import ProposalState
from civicflow.opendata.seats import seat_of, seats, terms
from civicflow.opendata.source import Source
from civicflow.views.figures import Figure, Satisfaction

Row = dict[str, Any]
PLACES = (AreaKind.COMPOUND, AreaKind.COMMUNITY, AreaKind.STREET, AreaKind.DISTRICT)


def day(structure: Structure, area_id: str, moment: datetime | None) -> date | None:
    """The calendar day of ``moment`` in the time zone of the area's district."""
    if moment is None:
        return None
    zone = structure.time_zone(area_id, moment) or DEFAULT_TIME_ZONE
    return moment.astimezone(ZoneInfo(zone)).date()


def figure_row(figure: Figure, names: Iterable[str]) -> Row:
    """The figure's values under the table's column names (a level by its value)."""
    row = {name: getattr(figure, name, None) for name in names}
    level = row.get("level")
    if isinstance(level, AreaKind):
        row["level"] = level.value
    return row


def areas(source: Source) -> list[Row]:
    """Every area as it stands, then areas named elsewhere but never registered."""
    structure, moment = source.structure, source.moment
    rows = [
        {
            "id": area.id,
            "kind": area.kind.value,
            "name": area.name_at(moment),
            "parent_id": area.parent_at(moment),
            "is_old": area.is_old,
            "has_property_management": area.has_property_management,
            "households": area.households_at(moment),
        }
        for area in sorted(structure.areas.values(), key=lambda a: a.id)
        if area.exists_at(moment)
    ]
    known = {row["id"] for row in rows}
    named = {f.area_id for f in source.satisfaction} | {f.area_id for f in source.participation}
    named |= {p.area_id for p in source.proposals}
    rows += [{"id": area_id} for area_id in sorted(named - known)]
    return rows


def councils(source: Source) -> list[Row]:
    """Every council of every compound, with its members' count."""
    structure = source.structure
    return [
        {
            "id": term.id,
            "compound_id": term.council.compound_id,
            "formed": day(structure, term.council.compound_id, term.council.formed),
            "dissolved": day(structure, term.council.compound_id, term.council.dissolved),
            "members": term.members(source.moment),
        }
        for term in terms(structure)
    ]


def council_members(source: Source) -> list[Row]:
    """Every stint on every council, by seat."""
    structure = source.structure
    return [
        {
            "id": seat.id,
            "council_id": term.id,
            "role": seat.role,
            "via": seat.membership.via.value,
            "start_date": day(structure, term.council.compound_id, seat.membership.joined),
            "end_date": day(structure, term.council.compound_id, seat.membership.left),
        }
        for term in terms(structure)
        for seat in seats(term)
    ]


def proposals(source: Source) -> list[Row]:
    """Every proposal at the version it had at the source's position."""
    return [_proposal(source.structure, state) for state in source.proposals]


def _proposal(structure: Structure, state: ProposalState) -> Row:
    scope, asked = state.area_id, state.asked_at
    decision = state.decision
    budget = decision.budget if decision is not None else None
    done = state.completions[-1].occurred_at if state.completions else None
    published = state.publications[-1].occurred_at if state.publications else None
    return {
        "id": str(state.id),
        "title": state.title,
        "category": state.category,
        "scope_id": scope,
        **{kind.value: structure.enclosing(scope, kind, asked) for kind in PLACES},
        "stage": state.stage.value,
        "asked_date": day(structure, scope, asked),
        "decided_date": day(structure, scope, decision.occurred_at if decision else None),
        "outcome": decision.outcome.value if decision else None,
        "votes_in_favour": decision.vote.in_favour if decision else None,
        "votes_against": decision.vote.against if decision else None,
        "votes_abstain": decision.vote.abstain if decision else None,
        "deadline": decision.deadline if decision else None,
        "done_date": day(structure, scope, done),
        "published_date": day(structure, scope, published),
        "planned_budget": budget.amount if budget else None,
        "currency": budget.currency if budget else None,
        "total_spent": state.spent if state.round else None,
        "funding_sources": "; ".join(budget.funding_sources) if budget else None,
        **responsible(structure, state),
        "rounds": len(list(round_numbers(state))),
    }


def responsible(structure: Structure, state: ProposalState) -> Row:
    """Who answers for approved work: a council seat held at the decision, or ``other``."""
    decision = state.decision
    if decision is None or decision.outcome is not Outcome.APPROVED or not decision.responsible:
        return {"responsible_role": None, "responsible_seat": None}
    compound = structure.enclosing(state.area_id, AreaKind.COMPOUND, decision.occurred_at)
    seat = seat_of(structure, compound, decision.responsible, decision.occurred_at)
    if seat is None:  # not a council member then: nothing more is published
        return {"responsible_role": "other", "responsible_seat": None}
    return {"responsible_role": f"council_{seat.role}", "responsible_seat": seat.id}


def round_numbers(state: ProposalState) -> Iterator[int]:
    """The rounds of approved work that were published (each publication opens one)."""
    if state.round:
        yield from range(1, len(state.publications) + 1)


def rounds(source: Source, names: Iterable[str]) -> list[Row]:
    """Every published round, with its satisfaction as the views give it."""
    names = tuple(names)
    return [
        row
        for state in source.proposals
        for row in _rounds(source.structure, state, source.rounds[str(state.id)], names)
    ]


def _rounds(
    structure: Structure,
    state: ProposalState,
    figures: tuple[Satisfaction, ...],
    names: tuple[str, ...],
) -> Iterator[Row]:
    counted = {figure.round: figure for figure in figures}
    for number in round_numbers(state):
        # A round nobody rated has no figure: zero ratings, which reveal nobody.
        figure = counted.get(number) or Satisfaction(
            area_id=state.area_id, satisfied=0, basically_satisfied=0, dissatisfied=0, n=0
        )
        closed = state.rounds[number - 1] if number <= len(state.rounds) else None
        yield {
            **figure_row(figure, names),
            "proposal_id": str(state.id),
            "round": number,
            "published_date": day(
                structure, state.area_id, state.publications[number - 1].occurred_at
            ),
            "closed_date": day(structure, state.area_id, closed.occurred_at if closed else None),
            # A verdict is a function of the round's counts: hidden with them.
            "verdict": (Verdict.PASSED if closed.passed else Verdict.RECTIFY).value
            if closed and not figure.suppressed
            else None,
        }


def figures(found: Iterable[Figure], names: Iterable[str]) -> list[Row]:
    """Figures per area and quarter, as rows."""
    names = tuple(names)
    return [figure_row(figure, names) for figure in found]
