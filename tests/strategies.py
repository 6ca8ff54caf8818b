"""Hypothesis strategies for civicflow's command inputs: valid values and malformed ones.

Valid values keep to clear-cut cases (no exotic Unicode spaces, money well inside its
digit limits), and malformed ones are plainly wrong, so that a test's reference model
can judge every value with a few simple rules of its own.

The command strategies (``asks``, ``backings``...) give keyword arguments for one
``CivicFlow`` method, without ``occurred_at`` (see ``moments``): usually all valid,
about one time in four with exactly one malformed field.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from functools import cache, partial
from typing import Any, TypeVar
from uuid import UUID

from hypothesis import strategies as st

from civicflow import Channel, Level, PublicationChannel
from civicflow.audit.notes import TreeHead

T = TypeVar("T")
Strategies = Mapping[str, st.SearchStrategy[object]]
# Keyword arguments of one command. ``Any``, not ``object``: their values are of many types
# (some deliberately wrong) and go straight to ``CivicFlow`` methods as ``**kwargs``.
Kwargs = dict[str, Any]
Money = int | str | Decimal  # the forms of an amount civicflow accepts (or must refuse)

ACTOR_ID_MAX = 128
SHORT_TEXT_MAX = 300
TEXT_MAX = 10_000
CLOCK_SKEW = timedelta(minutes=5)
RATING_WINDOW = timedelta(days=30)  # the default policy's

RESIDENTS = tuple(f"resident-{n}" for n in range(6))
OFFICIALS = ("member-1", "member-2", "member-3")
LEVELS = ("satisfied", "basically_satisfied", "dissatisfied")
CHANNELS = ("visit", "meeting", "hotline", "online", "other")
PUBLICATION_CHANNELS = ("notice_board", "group_chat", "app", "meeting", "other")
OUTCOMES = ("approved", "rejected", "deferred")
ZONES = (UTC, timezone(timedelta(hours=8)), timezone(-timedelta(hours=5, minutes=30)))


def mostly(
    valid: st.SearchStrategy[T], invalid: st.SearchStrategy[T], *, one_in: int = 8
) -> st.SearchStrategy[T]:
    """Usually a valid value; one time in ``one_in`` an invalid one (valid ones shrink first)."""
    return st.integers(1, one_in).flatmap(lambda n: invalid if n == one_in else valid)


def with_one_flaw(
    valid: Strategies, invalid: Strategies, optional: Strategies | None = None
) -> st.SearchStrategy[Kwargs]:
    """Valid fields (and some of the optional ones); one time in four, one field invalid."""
    fields = st.fixed_dictionaries(dict(valid), optional=dict(optional or {}))
    flaws = st.one_of([invalid[name].map(partial(_field, name)) for name in sorted(invalid)])
    flaw = mostly(st.just({}), flaws, one_in=4)
    return st.tuples(fields, flaw).map(lambda pair: {**pair[0], **pair[1]})


def _field(name: str, value: object) -> dict[str, object]:
    return {name: value}


# --- strings ---------------------------------------------------------------------------

_VISIBLE = st.characters(categories=("L", "N", "P", "S"))


def padded(strategy: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """The same strings, sometimes with spaces or tabs around them (civicflow strips them)."""
    left = st.sampled_from(("", "", " ", "  "))
    right = st.sampled_from(("", "", " ", "\t"))
    return st.tuples(left, strategy, right).map("".join)


class Repeated(str):
    """One character many times (perhaps padded), shown briefly in hypothesis's reports."""

    shown: str

    def __new__(cls, char: str, count: int, pad: str = "") -> Repeated:
        text = super().__new__(cls, f"{pad}{char * count}{pad}")
        text.shown = f"{pad!r} + {char!r} * {count} + {pad!r}" if pad else f"{char!r} * {count}"
        return text

    def __repr__(self) -> str:
        return self.shown


def valid_strings(limit: int) -> st.SearchStrategy[str]:
    """Non-blank, at most ``limit`` characters once stripped (the limit itself included)."""
    longest = st.sampled_from((Repeated("x", limit), Repeated("x", limit, pad=" ")))
    return st.one_of(padded(st.text(_VISIBLE, min_size=1, max_size=20)), longest)


def invalid_strings(limit: int) -> st.SearchStrategy[str]:
    """Empty, blank, or one character too long."""
    return st.sampled_from(("", " ", "\t \n", Repeated("y", limit + 1)))


def texts() -> st.SearchStrategy[str]:
    return valid_strings(TEXT_MAX)


def short_texts() -> st.SearchStrategy[str]:
    return valid_strings(SHORT_TEXT_MAX)


def resident_ids() -> st.SearchStrategy[str]:
    """A few residents only, so that repeated backing and re-rating happen often."""
    return padded(st.sampled_from(RESIDENTS))


def official_ids() -> st.SearchStrategy[str]:
    return padded(st.sampled_from(OFFICIALS))


def invalid_ids() -> st.SearchStrategy[str]:
    return invalid_strings(ACTOR_ID_MAX)


def invalid_texts() -> st.SearchStrategy[str]:
    return invalid_strings(TEXT_MAX)


def invalid_short_texts() -> st.SearchStrategy[str]:
    return invalid_strings(SHORT_TEXT_MAX)


# --- money, percent, votes, budgets, dates --------------------------------------------

_CENTS = st.integers(0, 10**7)


def money() -> st.SearchStrategy[Money]:
    """Amounts as civicflow accepts them: int, "12.34" or Decimal, never negative."""
    return st.one_of(
        st.integers(0, 10**5),
        _CENTS.map(lambda c: f"{c // 100}.{c % 100:02d}"),
        _CENTS.map(lambda c: Decimal(c) / 100),
    )


def invalid_money() -> st.SearchStrategy[Money]:
    """Negative, fractions of a cent, or not a finite number."""
    return st.sampled_from((-1, "-0.01", Decimal("-12.5"), "1.005", "NaN", "Infinity", "lots"))


def percents() -> st.SearchStrategy[int]:
    return st.integers(0, 100)


def invalid_percents() -> st.SearchStrategy[int]:
    return st.sampled_from((-1, 101, 1000))


def votes() -> st.SearchStrategy[dict[str, int]]:
    """Well-formed votes; about half of them have no majority."""
    return st.fixed_dictionaries(
        {"in_favour": st.integers(0, 9), "against": st.integers(0, 9)},
        optional={"abstain": st.integers(0, 3)},
    )


def majority_votes() -> st.SearchStrategy[dict[str, int]]:
    """Well-formed votes with more in favour than against."""
    return st.integers(0, 8).flatmap(
        lambda against: st.fixed_dictionaries(
            {"in_favour": st.integers(against + 1, 9), "against": st.just(against)},
            optional={"abstain": st.integers(0, 3)},
        )
    )


def invalid_votes() -> st.SearchStrategy[dict[str, int]]:
    """A negative count, a missing count, or an unknown key."""
    return st.sampled_from(
        (
            {"in_favour": -1, "against": 0},
            {"in_favour": 5, "against": 0, "abstain": -2},
            {"in_favour": 5},
            {"in_favour": 5, "against": 0, "blank": 1},
        )
    )


def budgets() -> st.SearchStrategy[dict[str, object]]:
    return st.fixed_dictionaries(
        {
            "amount": money(),
            "funding_sources": st.lists(short_texts(), min_size=1, max_size=2),
        },
        optional={"currency": st.sampled_from(("CNY", "EUR", "USD"))},
    )


def invalid_budgets() -> st.SearchStrategy[dict[str, object]]:
    """A budget with one thing wrong: amount, currency, funding sources, or an unknown key."""
    flaws: list[dict[str, object]] = [
        {"amount": "-100"},
        {"amount": "10.001"},
        {"currency": "cny"},
        {"currency": "EURO"},
        {"funding_sources": []},
        {"funding_sources": ["  "]},
        {"owner": "member-1"},
    ]
    return st.tuples(budgets(), st.sampled_from(flaws)).map(lambda pair: {**pair[0], **pair[1]})


def deadlines() -> st.SearchStrategy[date]:
    """Far enough ahead to follow any decision in the tests."""
    return st.dates(date(2030, 1, 1), date(2099, 12, 31))


def past_deadlines() -> st.SearchStrategy[date]:
    """Before any decision in the tests (a broken rule, not a malformed value)."""
    return st.dates(date(2000, 1, 1), date(2020, 12, 31))


# --- enumerations and lists -----------------------------------------------------------


def levels() -> st.SearchStrategy[str | Level]:
    return st.one_of(st.sampled_from(LEVELS), st.sampled_from(Level))


def invalid_levels() -> st.SearchStrategy[str]:
    return st.sampled_from(("happy", "", "SATISFIED"))


def channels() -> st.SearchStrategy[str | Channel]:
    return st.one_of(st.sampled_from(CHANNELS), st.sampled_from(Channel))


def publication_channels() -> st.SearchStrategy[list[str | PublicationChannel]]:
    return st.lists(
        st.one_of(st.sampled_from(PUBLICATION_CHANNELS), st.sampled_from(PublicationChannel)),
        min_size=1,
        max_size=3,
    )


def invalid_publication_channels() -> st.SearchStrategy[list[str]]:
    return st.sampled_from(([], ["fax"], ["app", "radio"]))


def attendees() -> st.SearchStrategy[list[str]]:
    """Distinct people at a council session."""
    people = padded(st.sampled_from(OFFICIALS + RESIDENTS))
    return st.lists(people, min_size=1, max_size=4, unique_by=str.strip)


def invalid_attendees() -> st.SearchStrategy[list[str]]:
    """Nobody, someone twice (once with a stray space), or a blank id."""
    return st.sampled_from(([], ["member-1", " member-1"], ["member-2", ""]))


def evidence() -> st.SearchStrategy[list[str]]:
    return st.lists(short_texts(), min_size=1, max_size=2)


def invalid_evidence() -> st.SearchStrategy[list[str]]:
    return st.one_of(st.sampled_from(([], [""])), invalid_short_texts().map(lambda s: [s]))


# --- whole commands -------------------------------------------------------------------


def asks() -> st.SearchStrategy[Kwargs]:
    """Keyword arguments of ``CivicFlow.ask``."""
    return with_one_flaw(
        valid={
            "title": short_texts(),
            "details": texts(),
            "category": short_texts(),
            "area_id": valid_strings(ACTOR_ID_MAX),
            "resident": resident_ids(),
            "channel": channels(),
        },
        optional={"actor": resident_ids()},
        invalid={
            "title": invalid_short_texts(),
            "details": invalid_texts(),
            "category": invalid_short_texts(),
            "area_id": invalid_ids(),
            "resident": invalid_ids(),
            "channel": st.sampled_from(("pigeon", "")),
            "actor": invalid_ids(),
        },
    )


def backings() -> st.SearchStrategy[Kwargs]:
    """Keyword arguments of ``CivicFlow.back`` (its actor defaults to the resident)."""
    return with_one_flaw(
        valid={"resident": resident_ids()},
        optional={"actor": resident_ids()},
        invalid={"resident": invalid_ids(), "actor": invalid_ids()},
    )


def discussions() -> st.SearchStrategy[Kwargs]:
    return with_one_flaw(
        valid={"attendees": attendees(), "summary": texts(), "actor": official_ids()},
        optional={"opinions": st.lists(texts(), max_size=2)},
        invalid={
            "attendees": invalid_attendees(),
            "summary": invalid_texts(),
            "actor": invalid_ids(),
            "opinions": st.just([" "]),
        },
    )


def progress_reports() -> st.SearchStrategy[Kwargs]:
    return with_one_flaw(
        valid={"percent": percents(), "note": texts(), "spent": money(), "actor": official_ids()},
        invalid={
            "percent": invalid_percents(),
            "note": invalid_texts(),
            "spent": invalid_money(),
            "actor": invalid_ids(),
        },
    )


def completions() -> st.SearchStrategy[Kwargs]:
    return with_one_flaw(
        valid={
            "summary": texts(),
            "total_spent": money(),
            "evidence": evidence(),
            "actor": official_ids(),
        },
        invalid={
            "summary": invalid_texts(),
            "total_spent": invalid_money(),
            "evidence": invalid_evidence(),
            "actor": invalid_ids(),
        },
    )


def publications() -> st.SearchStrategy[Kwargs]:
    return with_one_flaw(
        valid={"channels": publication_channels(), "summary": texts(), "actor": official_ids()},
        invalid={
            "channels": invalid_publication_channels(),
            "summary": invalid_texts(),
            "actor": invalid_ids(),
        },
    )


def ratings() -> st.SearchStrategy[Kwargs]:
    """Keyword arguments of ``CivicFlow.rate`` (its actor defaults to the resident)."""
    return with_one_flaw(
        valid={"resident": resident_ids(), "level": levels()},
        optional={"comment": texts(), "actor": resident_ids()},
        invalid={
            "resident": invalid_ids(),
            "level": invalid_levels(),
            "comment": invalid_texts(),
            "actor": invalid_ids(),
        },
    )


def closings() -> st.SearchStrategy[Kwargs]:
    return with_one_flaw(valid={"actor": official_ids()}, invalid={"actor": invalid_ids()})


def withdrawals() -> st.SearchStrategy[Kwargs]:
    return with_one_flaw(
        valid={"reason": texts(), "actor": official_ids()},
        invalid={"reason": invalid_texts(), "actor": invalid_ids()},
    )


def decisions(
    *, valid: bool = False, outcomes: tuple[str, ...] = OUTCOMES
) -> st.SearchStrategy[Kwargs]:
    """Keyword arguments of ``CivicFlow.decide``, for any of the given outcomes.

    With ``valid`` every value is well formed and the vote has a majority. Otherwise
    a quarter of the votes have no majority, one deadline in eight is already past,
    and one decision in four has a flaw: a malformed value, a field its outcome needs
    left out (an approval without budget, a rejection without reasons), or a field
    its outcome must not carry.
    """
    return st.sampled_from(outcomes).flatmap(lambda outcome: _decisions(outcome, valid=valid))


@cache
def _decisions(outcome: str, *, valid: bool) -> st.SearchStrategy[Kwargs]:
    approval = {
        "plan": texts(),
        "budget": budgets(),
        "responsible": official_ids(),
        "deadline": deadlines() if valid else mostly(deadlines(), past_deadlines()),
    }
    reasons = {"reasons": texts()}
    fields = st.fixed_dictionaries(
        {
            "outcome": st.just(outcome),
            "vote": majority_votes() if valid else st.one_of(majority_votes(), votes()),
            "actor": official_ids(),
            **(approval if outcome == "approved" else {}),
            **(reasons if outcome == "rejected" else {}),
        },
        optional={} if outcome == "rejected" else reasons,
    )
    if valid:
        return fields
    flaw = mostly(st.just(lambda fields: fields), _decision_flaws(outcome), one_in=4)
    return st.tuples(fields, flaw).map(lambda pair: pair[1](pair[0]))


Flaw = Callable[[Kwargs], Kwargs]


def _decision_flaws(outcome: str) -> st.SearchStrategy[Flaw]:
    """Ways to spoil a decision with this outcome."""
    malformed = {
        "outcome": st.sampled_from(("maybe", "")),
        "vote": invalid_votes(),
        "actor": invalid_ids(),
        "reasons": invalid_texts(),
    }
    needed = ["reasons"] if outcome == "rejected" else []
    if outcome == "approved":
        malformed |= {"plan": invalid_texts(), "budget": invalid_budgets()}
        malformed |= {"responsible": invalid_ids()}
        needed = ["plan", "budget", "responsible", "deadline"]
    forbidden = {"plan": "Paint the fence", "responsible": "member-3", "deadline": date(2090, 1, 1)}
    forbidden["budget"] = {"amount": "10", "funding_sources": ["district fund"]}
    spoilt = [
        strategy.map(partial(_replacing, name)) for name, strategy in sorted(malformed.items())
    ]
    left_out = [st.just(_leaving_out(name)) for name in needed]
    added = [st.just(_replacing(name, value)) for name, value in sorted(forbidden.items())]
    return st.one_of(*spoilt, *left_out, *([] if outcome == "approved" else added))


def _replacing(name: str, value: object) -> Flaw:
    return lambda fields: {**fields, name: value}


def _leaving_out(name: str) -> Flaw:
    return lambda fields: {key: value for key, value in fields.items() if key != name}


# --- identities and moments -----------------------------------------------------------


def unknown_proposal_ids() -> st.SearchStrategy[UUID | str]:
    """Ids of no proposal: fresh UUIDs (as UUID or text), or text that is no UUID at all."""
    malformed = st.sampled_from(("not-a-uuid", "", "1234"))
    return st.one_of(st.uuids(), st.uuids().map(str), malformed)


@dataclass(frozen=True)
class Moment:
    """An ``occurred_at`` relative to the clock's now, or to a moment in the proposal's life.

    ``offset`` None means the argument is left out (civicflow then uses now);
    ``zone`` None means a naive datetime, which civicflow must refuse; ``anchor`` is
    "now", "stage start" (when the current stage began) or "latest event".
    """

    offset: timedelta | None = None
    zone: tzinfo | None = UTC
    anchor: str = "now"

    def at(self, now: datetime, anchors: Mapping[str, datetime] | None = None) -> datetime | None:
        """The datetime to pass as ``occurred_at``, given now and the proposal's moments."""
        if self.offset is None:
            return None
        moment = (anchors or {}).get(self.anchor, now) + self.offset
        return moment.replace(tzinfo=None) if self.zone is None else moment.astimezone(self.zone)


def moments() -> st.SearchStrategy[Moment]:
    """Mostly now or the recent past; sometimes weeks back, within a minute of when the
    current stage began (or its rating window ends) or of the latest event, or exactly at
    the allowed clock skew; one in eight beyond the skew or naive.
    """
    zones = st.sampled_from(ZONES)
    valid = st.one_of(
        st.just(Moment()),
        st.builds(Moment, _seconds(-3 * 3600, 0), zones),
        st.builds(Moment, _seconds(-40 * 86400, 0), zones),
        st.builds(Moment, _around_a_stage_moment(), zones, anchor=st.just("stage start")),
        st.builds(Moment, _seconds(-60, 60), zones, anchor=st.just("latest event")),
        st.builds(Moment, st.just(CLOCK_SKEW), zones),
    )
    invalid = st.one_of(
        st.builds(Moment, _seconds(301, 3 * 86400), zones),
        st.builds(Moment, _seconds(-86400, 0), st.none()),
    )
    return mostly(valid, invalid)


def _around_a_stage_moment() -> st.SearchStrategy[timedelta]:
    """Within a minute of when the stage began, or of when its rating window ends."""
    after = st.sampled_from((timedelta(0), RATING_WINDOW))
    return st.tuples(after, _seconds(-60, 60)).map(lambda pair: pair[0] + pair[1])


def _seconds(low: int, high: int) -> st.SearchStrategy[timedelta]:
    return st.integers(low, high).map(lambda n: timedelta(seconds=n))


def tree_heads(origin: str = "civicflow.example/district-1") -> st.SearchStrategy[TreeHead]:
    """Signed tree heads' contents: any size a log can reach, any 32-byte root."""
    return st.builds(
        TreeHead,
        origin=st.just(origin),
        size=st.integers(min_value=0, max_value=2**63 - 1),
        root=st.binary(min_size=32, max_size=32),
    )
