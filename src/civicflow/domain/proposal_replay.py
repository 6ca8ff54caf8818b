"""Replaying stored events onto an aggregate, with a proposal's ratings folded in once.

Each rating applied alone copies this round's rating columns (three tuples as long as the
ratings so far): replaying the up to 99 events after a 1,000-rating snapshot copied them 99
times. A run of consecutive ratings is applied instead onto empty columns, which stay as
short as the run, and the result is merged into the columns once. Every event still goes
through its own ``mutate`` (versions checked, stage, version, chain link), so the state is
the one that applying the events one by one gives (``tests/test_proposal_replay.py``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from civicflow.domain.proposal import Proposal
from civicflow.domain.proposal_state import NO_RATINGS, ProposalState


def replay(aggregate: Any, events: Iterable[Any]) -> Any:
    """``aggregate`` (None before its first event) with ``events`` applied in order."""
    run: list[Proposal.Rated] = []
    for event in events:
        if type(event) is Proposal.Rated and aggregate is not None:
            run.append(event)
            continue
        if run:
            aggregate, run = _rated(aggregate, run), []
        aggregate = event.mutate(aggregate)
    return _rated(aggregate, run) if run else aggregate


def _rated(proposal: Any, run: list[Proposal.Rated]) -> Any:
    before: ProposalState = proposal.state
    proposal.state = before.model_copy(update=NO_RATINGS)
    try:
        for rating in run:
            proposal = rating.mutate(proposal)
    finally:  # a rating out of sequence raises: the ones before it stay applied, as one by one
        proposal.state = proposal.state.model_copy(update=_merged(before, proposal.state))
    return proposal


def _merged(before: ProposalState, run: ProposalState) -> dict[str, Any]:
    """The columns of ``before`` with the run's ratings (``run``'s columns) applied.

    The run's columns hold each resident's latest rating of the run, in the order of
    those latest ratings: rating them one by one onto ``before`` drops the residents'
    earlier rows and appends exactly these.
    """
    residents, levels, rest = before.rating_residents, before.rating_levels, before.rating_rest
    again = set(run.rating_residents)
    if not again.isdisjoint(residents):
        kept = [at for at, resident in enumerate(residents) if resident not in again]
        residents = tuple(residents[at] for at in kept)
        levels = "".join(levels[at] for at in kept)
        rest = tuple(rest[at] for at in kept)
    return {
        "rating_residents": residents + run.rating_residents,
        "rating_levels": levels + run.rating_levels,
        "rating_rest": rest + run.rating_rest,
    }
