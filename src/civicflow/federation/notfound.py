"""What a city says of something no district holds, or that may be in one it cannot read.

An unreachable district is never taken for "not found": the answer then names it.
"""

from __future__ import annotations

from uuid import UUID

from civicflow.errors import (
    BackendUnavailableError,
    MissingRegistrationError,
    ProposalNotFoundError,
)
from civicflow.errors.reasons import because


def not_found(city: str, kind: str, identifier: str, unreachable: list[str]) -> Exception:
    """The error for a ``kind`` (area, proposal, resident) that no readable district holds."""
    if unreachable:
        return BackendUnavailableError(
            because(
                "{kind} {identifier} is in no district that could be read; it may be in "
                "{districts}, whose store cannot be reached",
                kind=kind,
                identifier=identifier,
                districts=", ".join(unreachable),
            )
        )
    if kind == "proposal":
        return ProposalNotFoundError(UUID(identifier))
    return MissingRegistrationError(
        kind, identifier, because("no district of {city} has it", city=city)
    )
