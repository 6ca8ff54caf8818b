"""The closed sets of words the domain speaks in: channels, outcomes, levels, kinds, roles.

Plain enums and nothing else (no pydantic), so that the command line can offer
them as choices without building a model; the modules of the concepts they
belong to (``values``, ``community.areas``, ``councils``, ``policy``,
``sponsorship``) import them from here and are where readers look them up.
"""

from __future__ import annotations

from enum import StrEnum


class Channel(StrEnum):
    """How a need reached the community (问)."""

    VISIT = "visit"
    MEETING = "meeting"
    HOTLINE = "hotline"
    ONLINE = "online"
    OTHER = "other"


class Outcome(StrEnum):
    """What the council decided (定)."""

    APPROVED = "approved"
    REJECTED = "rejected"
    DEFERRED = "deferred"


class PublicationChannel(StrEnum):
    """Where a result is shown in public (晒)."""

    NOTICE_BOARD = "notice_board"
    GROUP_CHAT = "group_chat"
    APP = "app"
    MEETING = "meeting"
    OTHER = "other"


class Level(StrEnum):
    """A resident's satisfaction (评): 满意 / 基本满意 / 不满意."""

    SATISFIED = "satisfied"
    BASICALLY_SATISFIED = "basically_satisfied"
    DISSATISFIED = "dissatisfied"


class AreaKind(StrEnum):
    """The four levels of place, from widest to narrowest."""

    DISTRICT = "district"  # 区
    STREET = "street"  # 街道
    COMMUNITY = "community"  # 社区
    COMPOUND = "compound"  # 楼院

    @property
    def parent_kind(self) -> AreaKind | None:
        """The kind an area of this kind sits in (None for a district)."""
        order = list(AreaKind)
        index = order.index(self)
        return order[index - 1] if index else None


class Via(StrEnum):
    """How a member came onto the council."""

    SELF_NOMINATION = "self_nomination"  # a Party member put themself forward
    RECOMMENDATION = "recommendation"  # residents recommended them
    ELECTION = "election"  # elected at a residents' representatives' meeting


class Role(StrEnum):
    """An office on the council, if any."""

    CHAIR = "chair"
    SECRETARY = "secretary"


class Majority(StrEnum):
    """How many votes an outcome needs."""

    SIMPLE = "simple"  # more in favour than against; abstentions do not count
    ABSOLUTE = "absolute"  # more than half of all votes cast, abstentions included
    TWO_THIRDS = "two_thirds"  # at least two thirds of all votes cast

    def is_met(self, in_favour: int, against: int, abstain: int) -> bool:
        """Whether a vote with these counts carries the outcome."""
        cast = in_favour + against + abstain
        if self is Majority.SIMPLE:
            return in_favour > against
        if self is Majority.ABSOLUTE:
            return 2 * in_favour > cast
        return cast > 0 and 3 * in_favour >= 2 * cast

    def describe(self) -> str:
        """The rule in words, for error messages."""
        return _MAJORITY_WORDS[self]


_MAJORITY_WORDS = {
    Majority.SIMPLE: "more votes in favour than against",
    Majority.ABSOLUTE: "more than half of the votes cast in favour",
    Majority.TWO_THIRDS: "at least two thirds of the votes cast in favour",
}


class SponsorKind(StrEnum):
    """Who sponsors: a person or an office."""

    CADRE = "cadre"
    DEPARTMENT = "department"
