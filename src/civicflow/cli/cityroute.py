"""``--city city.toml``: which district's store a command goes to.

With ``--city`` (instead of ``--db``) a command runs on one district's store, found
from what the command is about: the proposal it names, else the area (or, for a new
area, its parent), else the compound, else the resident. ``--district NAME`` names
the district outright, for commands about none of these (``verify``, ``export``,
``views``...). The store is then opened exactly as with ``--db``: its key directory,
its seals and its feed of signed heads are the district's own.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from civicflow.errors import ConfigurationError
from civicflow.errors.reasons import because

if TYPE_CHECKING:
    from civicflow.federation.city import City

# What a command may be about, in the order that decides its district: argument names.
_BY_PROPOSAL = ("proposal",)
_BY_AREA = ("parent", "area", "within")
_BY_COMPOUND = ("compound",)
_BY_RESIDENT = ("resident", "residents")


def district_store(args: argparse.Namespace) -> str:
    """The URL of the district store that ``args`` (with ``--city``) are about.

    Raises:
        ConfigurationError: the registry is unusable, the district named is not in it,
            the command names nothing to route by and no ``--district``, or a resident
            would move to another district (a move between districts is two commands).
        MissingRegistrationError, ProposalNotFoundError: no district has what it names.
        BackendUnavailableError: it may be in a district that cannot be reached.
    """
    from civicflow.federation.city import City  # only when a command runs with --city

    with City.open(args.city, create=False) as city:  # routing never makes a store
        name = getattr(args, "district", None) or _routed(city, args)
        return city.registry.district(name).url()


def _routed(city: City, args: argparse.Namespace) -> str:
    proposal = _first(args, _BY_PROPOSAL)
    if proposal is not None:
        return city.district_of_proposal(proposal)
    area = _first(args, (*_BY_AREA, *_BY_COMPOUND))
    resident = _first(args, _BY_RESIDENT)
    if resident is not None and area is not None:
        return _same_district(city, resident, area)
    if area is not None:
        return city.district_of(area)
    if resident is not None:
        return city.district_of_resident(resident)
    raise ConfigurationError(
        because(
            "--city: this command names no proposal, area or resident to find its district "
            "by; add --district (one of {names})",
            names=", ".join(city.names),
        )
    )


def _same_district(city: City, resident: str, area: str) -> str:
    """Registering or moving a resident: the compound's district, unless they live in
    another one now (a resident is registered in one district at a time).
    """
    target = city.district_of(area)
    source = city.registered_in(resident)
    if source is not None and source != target:
        raise ConfigurationError(
            because(
                "resident {resident} lives in district {source} and {area} is in {target}: "
                "move them out there (resident move-out {resident}) and register them here "
                "(resident register {resident} --compound {area}); the library's "
                "City.move_resident does both, safely retried",
                resident=resident,
                source=source,
                area=area,
                target=target,
            )
        )
    return target


def _first(args: argparse.Namespace, names: tuple[str, ...]) -> str | None:
    for name in names:
        value = getattr(args, name, None)
        if isinstance(value, list):
            value = value[0] if value else None
        if value:
            return str(value)
    return None
