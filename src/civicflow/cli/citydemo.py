"""``civicflow demo --city city.toml``: the demo city, each district in a store of its own.

A registry that does not exist yet is written first: one district of 304 compounds
per 304 asked for (two when neither ``--compounds`` nor ``--districts`` says), each
a SQLite file beside the registry, and the city views store's line. A registry that
exists (PostgreSQL districts, say) is built into as it is, every district store
empty. District ``i`` then holds what the one-store demo of as many compounds
registers in its ``i``-th part of 304 (``extras/demo_city.py``).
"""

from __future__ import annotations

import argparse
import os
import time
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from civicflow.cli.i18n import N_, _, number, percent
from civicflow.cli.options import require
from civicflow.cli.output import say_protection, show, table
from civicflow.cli.protection import KEYS_VARIABLE
from civicflow.errors import ConfigurationError, RuleViolationError, StoreNotFoundError

if TYPE_CHECKING:
    from civicflow.application.flow import CivicFlow
    from civicflow.cli.protection import Protection
    from civicflow.extras.demo import Outcome
    from civicflow.extras.demo_city import Seat
    from civicflow.federation.registry import District, Registry

DISTRICT_COMPOUNDS = 304  # a district's worth, as in the article and the one-store demo
DEFAULT_DISTRICTS = 2  # the smallest city that is a federation
VIEWS_STORE = "sqlite:///city-views.db"  # the city views store, beside the registry


def demo_city(a: argparse.Namespace, out: TextIO, progress: Any) -> int:
    """Build the demo city of the registry ``a.city`` (written first if missing)."""
    from civicflow.federation.registry import load_registry

    require(
        a.keys is None and not os.environ.get(KEYS_VARIABLE),
        "keys",
        _(
            "with --city every district store keeps keys of its own (beside a SQLite file); "
            "one --keys (or {variable}) folder would give them all the same"
        ).format(variable=KEYS_VARIABLE),
    )
    path = Path(a.city)
    written = not path.exists()
    if written:
        count = _district_count(a)
        _compounds(a, count)  # bad numbers are refused before anything is written
        write_registry(path, count)
    registry = load_registry(path)
    compounds = _compounds(a, len(registry.districts))
    _refuse_filled(registry)
    started = time.perf_counter()
    outcomes, protections = _build(registry, a, compounds, progress)
    seconds = time.perf_counter() - started
    counted = registry.views is not None and not a.json
    figures = _city_figures(path, _quarter(compounds), a.lang) if counted else ""
    _summary(
        registry,
        outcomes,
        protections,
        a,
        out,
        compounds=compounds,
        seconds=seconds,
        written=written,
        figures=figures,
    )
    return 0


def _city_figures(path: Path, quarter: str, lang: str) -> str:
    """Count the city views, and say the city's figures for the last quarter."""
    from civicflow.federation.city import City
    from civicflow.federation.cityviews import CityViews

    with City.open(path) as city, CityViews(city) as views:
        views.catch_up()
        rated = views.city_satisfaction(quarter)
        people = views.city_participation(quarter)
    rate = next(
        (f"{percent(s.rate)} (n = {number(s.n or 0)})" for s in rated if s.rate is not None), "-"
    )
    took = next(
        (f"{number(p.participants)} / {number(p.residents)}" for p in people if p.participants),
        "-",
    )
    said = _("City views, {quarter}: satisfaction {rate}, participants {took} residents")
    return said.format(quarter=quarter, rate=rate, took=took) + "\n"


def _district_count(a: argparse.Namespace) -> int:
    """How many districts a new registry names: ``--districts``, else one per 304 compounds."""
    if a.districts is not None:
        require(a.districts >= 1, "districts", N_("a city needs at least one district"))
        return int(a.districts)
    if a.compounds is not None:
        return max(1, -(-int(a.compounds) // DISTRICT_COMPOUNDS))
    return DEFAULT_DISTRICTS


def _compounds(a: argparse.Namespace, districts: int) -> int:
    """How many compounds the city gets (``--compounds``, else 304 a district), checked."""
    require(
        a.districts in (None, districts),
        "districts",
        _("the city registry {file} names {n} districts; leave out --districts").format(
            file=a.city, n=districts
        ),
    )
    compounds = DISTRICT_COMPOUNDS * districts if a.compounds is None else int(a.compounds)
    require(
        compounds >= districts,
        "compounds",
        _("a city of {n} districts needs at least {n} compounds").format(n=districts),
    )
    return compounds


def write_registry(path: Path, districts: int) -> None:
    """A registry of ``districts`` SQLite stores beside ``path``, and the city views store."""
    if not path.parent.is_dir():
        said = _("cannot write the city registry {file}: no folder {folder}")
        raise ConfigurationError(said.format(file=path, folder=path.parent))
    width = len(str(districts))
    lines = ['name = "Demo City"', f'views = "{VIEWS_STORE}"']
    for n in range(1, districts + 1):
        name = f"district-{n:0{width}d}"
        lines += ["", f"[districts.{name}]", f'area = "{name}"', f'store = "sqlite:///{name}.db"']
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _refuse_filled(registry: Registry) -> None:
    """Every district store must be empty (or not made yet): checked before any is written."""
    from civicflow.application.flow import CivicFlow

    for district in registry.districts:
        try:
            with CivicFlow.open(district.url(), create=False) as flow:
                filled = bool(flow.recorder.max_notification_id())
        except StoreNotFoundError:
            continue
        if filled:
            said = _(
                "district {district}: {store} is not empty; "
                "give demo --city a registry of new stores"
            )
            raise RuleViolationError(
                None, "demo", said.format(district=district.name, store=district.store)
            )


def _build(
    registry: Registry, a: argparse.Namespace, compounds: int, progress: Any
) -> tuple[list[Outcome], list[Protection | None]]:
    """Build every district into its store, opened with its keys; one head each after."""
    from civicflow.cli.protection import open_flow
    from civicflow.extras.demo import Size
    from civicflow.extras.demo_city import build_city

    with ExitStack() as stack:
        opened: list[tuple[CivicFlow, Protection | None]] = []
        for district in registry.districts:
            flow, protection = open_flow(argparse.Namespace(db=district.url(), keys=None))
            opened.append((stack.enter_context(flow), protection))
        targets = [
            (flow, _seat(d)) for (flow, _), d in zip(opened, registry.districts, strict=True)
        ]
        size = Size.scaled(compounds)
        outcomes = build_city(targets, seed=a.seed, size=size, progress=progress)
        for flow, protection in opened:
            if protection is not None:  # each district went in as one import: one head
                flow.publish_head()
        return outcomes, [protection for _, protection in opened]


def _seat(district: District) -> Seat:
    from civicflow.extras.demo_city import Seat

    # The district's area id (the registry's) prefixes its streets and communities,
    # unique across the city as the registry's areas are.
    return Seat(area=district.area, name=f"District {district.name}", prefix=f"{district.area}-")


def _summary(
    registry: Registry,
    outcomes: list[Outcome],
    protections: list[Protection | None],
    a: argparse.Namespace,
    out: TextIO,
    *,
    compounds: int,
    seconds: float,
    written: bool,
    figures: str = "",
) -> None:
    """Each district's compounds, proposals and events, and the city's; JSON with ``--json``."""
    rows = _rows(registry, outcomes, protections, compounds)
    total = {key: sum(row[key] for row in rows) for key in ("compounds", "proposals", "events")}
    rate = round(total["events"] / seconds) if seconds else 0
    if a.json:
        for protection in protections:
            if protection is not None:
                say_protection(protection, a, out)  # new keys said on stderr
        city = {"city": registry.name, "registry": str(a.city), "written": written}
        timing = {"seconds": round(seconds, 2), "events_per_second": rate}
        show(city | total | timing | {"districts": rows}, a, out)
        return
    shown = [{k: v for k, v in row.items() if k not in ("public_key", "feed")} for row in rows]
    if written:
        out.write(_("City registry written: {file}").format(file=a.city) + "\n")
    out.write(table([*shown, {"district": _("total"), **total}], a.lang))
    said = _(
        "{events} events written to {stores} district stores in {seconds} s ({rate} events/s)."
    )
    out.write(
        "\n"
        + said.format(
            events=total["events"],
            stores=len(rows),
            seconds=number(seconds, 1),
            rate=number(rate),
        )
        + "\n"
    )
    for district, protection in zip(registry.districts, protections, strict=True):
        if protection is not None:
            out.write(f"{district.name}: {protection.where(a.lang)}")
    name = registry.districts[0].name
    out.write(figures)  # the city views' line, when the registry names their store
    command = (
        f"civicflow views review --quarter {_quarter(total['compounds'])} "
        f"--city {a.city} --district {name}"
    )
    out.write(_("Next: {command}").format(command=command) + "\n")


def _rows(
    registry: Registry,
    outcomes: list[Outcome],
    protections: list[Protection | None],
    compounds: int,
) -> list[dict[str, Any]]:
    from civicflow.extras.demo_city import shares

    bounds = shares(compounds, len(outcomes))
    rows = []
    for d, (district, outcome) in enumerate(zip(registry.districts, outcomes, strict=True)):
        row: dict[str, Any] = {
            "district": district.name,
            "compounds": bounds[d + 1] - bounds[d],
            "proposals": len(outcome.proposals),
            "events": outcome.events,
            "store": district.store,  # as written: placeholders, never a password
        }
        protection = protections[d]
        if protection is not None:
            row |= {"public_key": str(protection.public_key), "feed": str(protection.feed)}
        rows.append(row)
    return rows


def _quarter(compounds: int) -> str:
    from civicflow.extras.demo import Size, quarter_labels

    return quarter_labels(Size.scaled(compounds))[-1]
