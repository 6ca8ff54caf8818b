"""Rules of the community, as pure functions over the structure at a moment.

The directory judges its own changes by them, and the application judges a
proposal's step by them (who may take part, which council decides, which
policy holds). Each raises a ``CivicflowError`` naming what is missing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from uuid import UUID

from civicflow.domain.community.areas import Area, AreaKind
from civicflow.domain.community.councils import Council
from civicflow.domain.community.policy import Policy
from civicflow.domain.community.residents import Home
from civicflow.domain.community.structure import Structure
from civicflow.errors import MissingRegistrationError, NotEligibleError, RuleViolationError


def require_area(
    structure: Structure, area_id: str, moment: datetime, kind: AreaKind | None = None
) -> Area:
    """The area as registered at ``moment``, of ``kind`` when one is asked for.

    Raises:
        MissingRegistrationError: no such area had been added by then.
        RuleViolationError: the area is of another kind.
    """
    area = structure.area_at(area_id, moment)
    if area is None:
        raise MissingRegistrationError("area", area_id, "register it with add_area()")
    if kind is not None and area.kind is not kind:
        raise RuleViolationError(
            None, "area", f"{area_id} is a {area.kind.value}, not a {kind.value}"
        )
    return area


def require_council(structure: Structure, compound_id: str, moment: datetime) -> Council:
    """The compound's council, which must exist and not be dissolved.

    Raises:
        MissingRegistrationError: the compound or its council does not exist.
        RuleViolationError: the area is not a compound.
    """
    require_area(structure, compound_id, moment, AreaKind.COMPOUND)
    council = structure.latest_council(compound_id)
    if council is None or council.dissolved is not None:
        raise MissingRegistrationError("council", compound_id, "form one with form_council()")
    return council


def deciding_members(structure: Structure, scope_id: str, moment: datetime) -> frozenset[str]:
    """Council members within the scope at the time: who deliberates and decides.

    Raises:
        MissingRegistrationError: no council with members lies within the scope.
    """
    members = structure.council_members(scope_id, moment)
    if not members:
        raise MissingRegistrationError(
            "council with members for",
            scope_id,
            "form a council with form_council() and seat members with join_council()",
        )
    return members


def check_recorder(
    structure: Structure,
    actor: str,
    *,
    scope_id: str,
    moment: datetime,
    policy: Policy,
    step: str,
    proposal_id: UUID | None = None,
) -> None:
    """A council's session or decision is recorded by one of its members, or by an
    actor the policy names: the record speaks for the council, so not for anyone.

    Raises:
        NotEligibleError: the actor sat on no council within the scope then, and the
            policy does not name them.
    """
    if actor in policy.recorders or actor in structure.council_members(scope_id, moment):
        return
    reason = (
        f"not a member of a council within {scope_id} on {moment.date()}, "
        "nor named by the policy's recorders"
    )
    raise NotEligibleError(proposal_id, actor, step, reason)


def check_resident(
    home: Home | None,
    resident_id: str,
    structure: Structure,
    *,
    scope_id: str,
    moment: datetime,
    step: str,
    proposal_id: UUID | None = None,
) -> None:
    """Only residents registered within the scope at the time take part.

    ``home`` is None for a resident never registered.

    Raises:
        NotEligibleError: the resident was not registered within the scope then.
    """
    if home is None:
        reason = "never registered as a resident (register them with register_resident())"
        raise NotEligibleError(proposal_id, resident_id, step, reason)
    compound = home.compound_at(moment)
    if compound is None:
        reason = f"not registered to any compound on {moment.date()}"
        raise NotEligibleError(proposal_id, resident_id, step, reason)
    if not structure.contains(scope_id, compound, moment):
        reason = f"registered to {compound}, outside {scope_id}, on {moment.date()}"
        raise NotEligibleError(proposal_id, resident_id, step, reason)


def check_after(earlier: datetime | None, moment: datetime, what: str) -> None:
    """History is recorded in order: a change may not predate ``earlier``.

    Raises:
        RuleViolationError: ``moment`` is before ``earlier``.
    """
    if earlier is not None and moment < earlier:
        raise RuleViolationError(
            None,
            "chronology",
            f"{moment.isoformat()} is before {what} "
            f"({earlier.isoformat()}); history is recorded in order",
        )


def check_parent(
    structure: Structure, kind: AreaKind, parent_id: str | None, moment: datetime
) -> None:
    """An area sits in an area of the next wider kind; a district in none.

    Raises:
        RuleViolationError: the parent is missing, superfluous or of the wrong kind.
        MissingRegistrationError: the parent does not exist.
    """
    expected = kind.parent_kind
    if expected is None and parent_id is not None:
        raise RuleViolationError(None, "area", "a district sits in no other area")
    if expected is not None and parent_id is None:
        raise RuleViolationError(None, "area", f"a {kind.value} needs a parent {expected.value}")
    if expected is not None and parent_id is not None:
        require_area(structure, parent_id, moment, expected)


COMPOUND_ONLY = ("is_old", "households", "has_property_management")


def check_area_attributes(kind: AreaKind, fields: Mapping[str, object]) -> None:
    """Compounds record their age, management and households; districts their time zone.

    Raises:
        RuleViolationError: an attribute is missing, or given to the wrong kind.
    """
    if kind is AreaKind.COMPOUND:
        missing = [name for name in COMPOUND_ONLY if fields.get(name) is None]
        if missing:
            raise RuleViolationError(None, "area", f"a compound records {', '.join(missing)}")
    elif any(fields.get(name) is not None for name in COMPOUND_ONLY):
        raise RuleViolationError(
            None, "area", "only compounds record is_old, households and has_property_management"
        )
    if fields.get("time_zone") is not None and kind is not AreaKind.DISTRICT:
        raise RuleViolationError(None, "area", "the time zone is set per district")
