"""A city as a federation of district stores: each command goes to the store that holds it.

Every district keeps a complete civicflow store of its own (its directory, residents,
proposals, views, audit log), on whatever server its administration runs. ``City``
opens them from the registry and routes: a command about an area to the district
whose directory has that area, a command on a proposal to the store that holds the
proposal (found by id, then remembered), a resident to the district they live in.
Nothing is shared between the stores; a resident moving between districts leaves
one (``move_out``) and registers in the other, and both histories stay.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from civicflow.application.commands import CommandId
from civicflow.application.context import utc_now
from civicflow.application.flow import CivicFlow
from civicflow.audit.errors import ForkRefusedError
from civicflow.audit.findings import Verification
from civicflow.audit.notes import TreeHead
from civicflow.audit.signing import Signer
from civicflow.domain.community.residents import Home, resident_uuid
from civicflow.errors import (
    BackendUnavailableError,
    ConfigurationError,
    InvalidInputError,
    MissingRegistrationError,
    StoreNotFoundError,
)
from civicflow.errors.reasons import because
from civicflow.federation.cityhead import CityHead, DistrictHead
from civicflow.federation.notfound import not_found
from civicflow.federation.registry import Registry, load_registry
from civicflow.storage import postgres
from civicflow.storage.errors import storage_errors
from civicflow.storage.settings import store_settings


class City:
    """The districts of ``registry``, each store opened on first use.

    ``options`` are passed to ``CivicFlow.open`` for every district (a clock, the
    community rules...); with ``create=False`` a district store is never made, and
    one not made yet holds nothing. Close the city (or use it in a ``with``) to close
    them all.
    """

    def __init__(self, registry: Registry, **options: Any) -> None:
        self.registry = registry
        self._options = options
        self._open: dict[str, CivicFlow] = {}
        self._areas: dict[str, str] = {}  # area id -> district name, as last read
        self._proposals: dict[UUID, str] = {}  # proposal id -> district name

    @classmethod
    def open(cls, path: str | Path, **options: Any) -> City:
        """The city of the registry file at ``path`` (see ``federation/registry.py``).

        Raises:
            ConfigurationError: the registry is missing or malformed.
        """
        return cls(load_registry(path), **options)

    def __enter__(self) -> City:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close every district store opened so far."""
        opened, self._open = self._open, {}
        for flow in opened.values():
            flow.close()

    # --- the districts ----------------------------------------------------------------

    @property
    def clock(self) -> Callable[[], datetime]:
        """The clock the districts' stores are opened with (the real one unless given)."""
        given: Callable[[], datetime] | None = self._options.get("clock")
        return given or utc_now

    @property
    def names(self) -> tuple[str, ...]:
        """The districts' names, in the registry's order."""
        return tuple(d.name for d in self.registry.districts)

    def district(self, name: str) -> CivicFlow:
        """The store of the district called ``name``, opened (and made) if need be.

        Raises:
            ConfigurationError: no such district, or its URL cannot be used.
            BackendUnavailableError: its database cannot be reached.
        """
        flow = self._open.get(name)
        if flow is None:
            district = self.registry.district(name)
            flow = self._open[name] = CivicFlow.open(district.url(), **self._options)
        return flow

    def probe(self, name: str) -> CivicFlow:
        """The district's store, after one quick connection to its server (PostgreSQL):
        an unreachable district is known at once, not after its pool's timeout.

        Raises:
            ConfigurationError: no such district.
            BackendUnavailableError: its server cannot be reached.
        """
        flow = self.district(name)
        with storage_errors(because("reaching district {name}", name=name)):
            postgres.probe(store_settings(flow.env))
        return flow

    # --- routing ------------------------------------------------------------------------

    def district_of(self, area_id: str) -> str:
        """The name of the district whose directory has ``area_id``.

        Read from the districts' directories (a district's own area, named in the
        registry, belongs to it before its directory has it); read again once when
        the area is not known, since another process may have added it.

        Raises:
            MissingRegistrationError: no district has the area.
            ConfigurationError: two districts' directories have it.
            BackendUnavailableError: it may be in a district whose store cannot be
                reached (that district is named).
        """
        found = self._areas.get(area_id)
        if found is None:
            unreachable = self._read_areas()
            found = self._areas.get(area_id)
            if found is None:
                raise self._not_found("area", area_id, unreachable)
        return found

    def for_area(self, area_id: str) -> CivicFlow:
        """The store of the district that has ``area_id`` (see ``district_of``)."""
        return self.district(self.district_of(area_id))

    def for_proposal(self, proposal_id: UUID | str) -> CivicFlow:
        """The store that holds the proposal (see ``district_of_proposal``)."""
        return self.district(self.district_of_proposal(proposal_id))

    def for_resident(self, resident_id: str) -> CivicFlow:
        """The store of the district the resident lives in (see ``district_of_resident``)."""
        return self.district(self.district_of_resident(resident_id))

    def district_of_proposal(self, proposal_id: UUID | str) -> str:
        """The name of the district whose store holds the proposal, found by its id alone.

        Raises:
            InvalidInputError: the id is not a UUID.
            ProposalNotFoundError: no district's store holds it.
            BackendUnavailableError: it may be in a district whose store cannot be reached.
        """
        key = _proposal_key(proposal_id)
        name = self._proposals.get(key)
        if name is None:
            name = self._find(lambda flow: _has_aggregate(flow, key), "proposal", str(key))
            self._proposals[key] = name
        return name

    def district_of_resident(self, resident_id: str) -> str:
        """The name of the district the resident is registered in now (or, between
        leaving one district and joining another, the one they last left).

        Raises:
            MissingRegistrationError: no district ever registered them.
            BackendUnavailableError: they may be in a district whose store cannot be reached.
        """
        return self._resident_district(resident_id)

    def move_resident(
        self,
        resident_id: str,
        *,
        compound_id: str,
        actor: str,
        occurred_at: datetime | None = None,
        command_id: UUID | str | None = None,
    ) -> Home:
        """Move a resident to ``compound_id``, in their district or another one.

        Between districts: moved out of the old one, then registered (or moved back
        in) in the new one, both at ``occurred_at``; each history keeps its half. The
        two halves carry ids derived from ``command_id`` (a move within a district
        carries the joining half's), so a retry with the same id after a failure
        completes the move without repeating either half, and answers what it recorded.

        Raises:
            MissingRegistrationError: the resident or the compound is unknown.
            RuleViolationError: the resident is there already, or the moment is out of order.
            CommandOutcomeUnknownError: a store failed while writing; retry with the
                same ``command_id``.
        """
        source = self._resident_district(resident_id)
        target = self.district_of(compound_id)
        common: dict[str, Any] = {"actor": actor, "occurred_at": occurred_at}
        command = _uuid(command_id)
        flow, join = self.district(target), _half(command, "join")
        if source == target:
            # Also a retry of a move between districts that went through: the joining
            # half's id finds what it recorded.
            return flow.move_resident(
                resident_id, compound_id=compound_id, command_id=join, **common
            )
        self.district(source).move_out(resident_id, command_id=_half(command, "leave"), **common)
        if _has_aggregate(flow, resident_uuid(resident_id)):
            return flow.move_resident(
                resident_id, compound_id=compound_id, command_id=join, **common
            )
        return flow.register_resident(
            resident_id, compound_id=compound_id, command_id=join, **common
        )

    # --- the city head --------------------------------------------------------------------

    def head(self, signer: Signer, *, last: CityHead | None = None) -> str:
        """Sign a city head listing every district's log as it stands now.

        ``last`` is the last city head published (opened with the city's key): each
        district's log must still extend what it listed, or nothing is signed.

        Raises:
            ForkRefusedError: a district's log no longer gives the size and root the
                last city head listed (rolled back or rewritten); it is named.
            BackendUnavailableError: a district's store cannot be reached: a city head
                lists every district or none.
        """
        districts = []
        for name in self.names:
            flow = self.district(name)
            now = flow.log_head(name)
            listed = last.district(name) if last is not None else None
            if listed is not None and not _extends(flow, now, listed):
                raise ForkRefusedError(
                    listed.size,
                    now.size,
                    f"district {name}'s log does not extend the last city head: "
                    "rolled back or rewritten",
                )
            districts.append(DistrictHead(name, now.size, now.root))
        return CityHead(signer.name, tuple(districts)).sign(signer)

    def check_district(self, name: str, head: CityHead) -> Verification:
        """Verify a district's store, and its log against what the city head lists.

        Raises:
            ConfigurationError: the city head does not list the district.
            BackendUnavailableError: the district's store cannot be reached.
        """
        listed = head.district(name)
        if listed is None:
            said = because("the city head does not list district {name}", name=name)
            raise ConfigurationError(said)
        return self.district(name).verify(heads=[listed.tree_head()])

    # --- the parts ----------------------------------------------------------------------

    def _read_areas(self) -> list[str]:
        """Read every reachable district's areas; returns the names of the unreachable."""
        areas: dict[str, str] = {d.area: d.name for d in self.registry.districts}
        unreachable = []
        for name in self.names:
            try:
                with storage_errors(because("reading the areas of district {name}", name=name)):
                    structure = self.district(name).structure()
            except StoreNotFoundError:
                continue  # opened with create=False, a store not made yet has no areas
            except BackendUnavailableError:
                unreachable.append(name)
                continue
            for area_id in structure.areas:
                other = areas.setdefault(area_id, name)
                if other != name:
                    raise ConfigurationError(
                        because(
                            "area {area!r} is in the directories of districts {other} and "
                            "{name}: an area belongs to one district",
                            area=area_id,
                            other=other,
                            name=name,
                        )
                    )
        self._areas = areas
        return unreachable

    def _resident_district(self, resident_id: str) -> str:
        """Where the resident lives now; else the district whose registration of them
        changed last (the one they left, on the way to another).
        """
        now, left = self._residence(resident_id)
        if now is not None:
            return now
        if left is not None:
            return left
        raise self._not_found("resident", resident_id, [])

    def registered_in(self, resident_id: str) -> str | None:
        """The district the resident is registered in now, or None (moved out of every
        district, or never registered).

        Raises:
            BackendUnavailableError: they may be in a district whose store cannot be reached.
        """
        return self._residence(resident_id)[0]

    def _residence(self, resident_id: str) -> tuple[str | None, str | None]:
        """(the district they live in now, the district they last left), each or None."""
        homes: list[tuple[datetime, str]] = []  # each district's last change, and its name
        unreachable = []
        for name in self.names:
            try:
                with storage_errors(because("reading district {name}", name=name)):
                    home = _home(self.district(name), resident_id)
            except StoreNotFoundError:
                continue
            except BackendUnavailableError:
                unreachable.append(name)
                continue
            if home is not None and home.compound is not None:
                return name, None
            if home is not None:
                homes.append((home.homes[-1].effective, name))
        if unreachable:
            raise self._not_found("resident", resident_id, unreachable)
        return None, max(homes)[1] if homes else None

    def _find(self, holds: Callable[[CivicFlow], bool], kind: str, identifier: str) -> str:
        """The first district whose store ``holds`` the thing."""
        unreachable = []
        for name in self.names:
            try:
                with storage_errors(because("reading district {name}", name=name)):
                    if holds(self.district(name)):
                        return name
            except StoreNotFoundError:
                continue
            except BackendUnavailableError:
                unreachable.append(name)
        raise self._not_found(kind, identifier, unreachable)

    def _not_found(self, kind: str, identifier: str, unreachable: list[str]) -> Exception:
        return not_found(self.registry.name, kind, identifier, unreachable)


def _proposal_key(proposal_id: UUID | str) -> UUID:
    if isinstance(proposal_id, UUID):
        return proposal_id
    try:
        return UUID(str(proposal_id))
    except ValueError:
        problem = f"{str(proposal_id)[:80]!r} is not a proposal id (a UUID)"
        raise InvalidInputError("proposal_id", [("proposal_id", problem)]) from None


def _extends(flow: CivicFlow, now: TreeHead, listed: DistrictHead) -> bool:
    """Whether the district's log still gives the root a city head listed at its size:
    one root of the log's Merkle tree, not a verification of the whole store.
    """
    if listed.size > now.size:
        return False  # records deleted, or the store rolled back
    return flow.log_head(now.origin, listed.size).root == listed.root


def _home(flow: CivicFlow, resident_id: str) -> Home | None:
    try:
        return flow.resident(resident_id)
    except MissingRegistrationError:
        return None


def _has_aggregate(flow: CivicFlow, aggregate_id: UUID) -> bool:
    """Whether the store holds any event of the aggregate (one indexed read)."""
    return bool(flow.recorder.select_events(aggregate_id, limit=1))


def _uuid(command_id: UUID | str | None) -> UUID:
    return CommandId.of(command_id).id  # a new one when none is given; malformed: refused


def _half(command: UUID, part: str) -> UUID:
    """The id of one half of a move between districts: the same on every retry."""
    return uuid5(NAMESPACE_URL, f"civicflow:move:{command}:{part}")
