"""The community over HTTP: areas, councils and residents, registered and read.

Reads take ``as_of`` (default now) and answer as the structure stood then. No
``from __future__ import annotations``: see ``steps.py``.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from civicflow.application.flow import CivicFlow
from civicflow.domain.community.councils import Council
from civicflow.domain.community.residents import Home
from civicflow.domain.community.structure import AreaView
from civicflow.errors import InvalidInputError, MissingRegistrationError
from civicflow.web.access import require
from civicflow.web.actors import Command
from civicflow.web.models import AreaIn, CouncilIn, MemberIn, ResidentsIn

AsOf = Annotated[datetime | None, Query(description="ISO 8601 with a time zone (default: now)")]


def add_structure_commands(
    router: APIRouter, flow: Callable[[], CivicFlow], command: Callable[..., Command]
) -> None:
    """Add the endpoints that register the community."""
    Flow = Annotated[CivicFlow, Depends(flow)]  # noqa: N806 (a type alias, read as one)
    Cmd = Annotated[Command, Depends(command)]  # noqa: N806

    @router.post("/areas", status_code=201, tags=["structure"])
    def add_area(body: AreaIn, cmd: Cmd, f: Flow) -> AreaView:
        """Add a district, street, community or compound."""
        return f.add_area(**cmd.fields(body, office_only=True))

    @router.post("/councils/{compound_id}", status_code=201, tags=["structure"])
    def form_council(compound_id: str, body: CouncilIn, cmd: Cmd, f: Flow) -> Council:
        """Form the compound's council (one at a time)."""
        return f.form_council(compound_id, **cmd.fields(body, office_only=True))

    @router.post(
        "/councils/{compound_id}/members",
        status_code=201,
        tags=["structure"],
    )
    def join_council(compound_id: str, body: MemberIn, cmd: Cmd, f: Flow) -> Council:
        """Seat a member on the compound's council."""
        return f.join_council(compound_id, **cmd.fields(body, office_only=True))

    @router.post("/residents", status_code=201, tags=["structure"])
    def register_residents(body: ResidentsIn, cmd: Cmd, f: Flow) -> list[Home]:
        """Register residents (opaque ids) to one compound, all or none."""
        return f.register_residents(**cmd.fields(body, office_only=True))


def add_structure_reads(
    router: APIRouter, flow: Callable[[], CivicFlow], auditor: Callable[..., Any]
) -> None:
    """Add the endpoints that read the community (a resident's homes: auditors only)."""
    Flow = Annotated[CivicFlow, Depends(flow)]  # noqa: N806
    Auditor = Annotated[Any, Depends(auditor)]  # noqa: N806

    @router.get("/areas", tags=["structure"])
    def areas(
        f: Flow,
        kind: Annotated[str | None, Query(description="one kind of area only")] = None,
        within: Annotated[str | None, Query(description="only areas within this one")] = None,
        as_of: AsOf = None,
    ) -> list[AreaView]:
        """The areas as they stood at ``as_of``."""
        return f.areas(kind=kind, within=within, as_of=aware(as_of))

    @router.get("/areas/{area_id}", tags=["structure"])
    def area(area_id: str, f: Flow, as_of: AsOf = None) -> AreaView:
        """One area as it stood at ``as_of``."""
        return f.area(area_id, as_of=aware(as_of))

    @router.get("/councils/{compound_id}", tags=["structure"])
    def council(compound_id: str, f: Flow, as_of: AsOf = None) -> Council:
        """The compound's council and its seats as they stood at ``as_of``."""
        found = f.council(compound_id, as_of=aware(as_of))
        if found is None:
            raise MissingRegistrationError("council of", compound_id, "form it first")
        return found

    @router.get("/residents/{resident_id}", tags=["structure"])
    def resident(resident_id: str, f: Flow, allowed: Auditor) -> Home:
        """A resident's registrations over time: where they lived (auditors only)."""
        require(allowed, "a resident's homes are for auditors")
        return f.resident(resident_id)


def aware(moment: datetime | None, field: str = "as_of") -> datetime | None:
    """``moment`` if it names its time zone: a naive one is ambiguous.

    Raises:
        InvalidInputError: it is naive.
    """
    if moment is not None and moment.utcoffset() is None:
        problem = "must carry a time zone (a naive datetime is ambiguous)"
        raise InvalidInputError(field, [(field, problem)])
    return moment
