"""The demo built in stretches writes what building it step by step writes, and checks out."""

from __future__ import annotations

from uuid import uuid4

import pytest

from civicflow import CivicFlow
from civicflow.domain.community.areas import AreaKind
from civicflow.domain.community.directory import DIRECTORY_ID, Directory
from civicflow.domain.community.residents import resident_uuid
from civicflow.errors import InvalidInputError
from civicflow.extras.demo import Size, build, build_into
from civicflow.extras.demo_scratch import CACHED, Handover, scratch
from tests import flows

KEY = {"AUDIT_KEY": "demo-test-key"}


def records(flow: CivicFlow) -> list[tuple[str, int, str]]:
    """Every record's aggregate, version and kind, in log order (times and seals differ)."""
    last = flow.recorder.max_notification_id() or 0
    found = flow.recorder.select_notifications(1, last)
    return [(str(n.originator_id), n.originator_version, n.topic) for n in found]


def test_stretches_write_the_same_log_as_one_store_step_by_step(store_url: str) -> None:
    size = Size.scaled(12)
    with CivicFlow(env=KEY) as direct, CivicFlow.open(store_url, env=KEY) as stretched:
        built = build(direct, size=size)
        # Many stretches: the community in parts of 5 compounds, proposals 7 at a time.
        copied = build_into(stretched, size=size, batch=7, part=5)
        assert copied.proposals == built.proposals
        assert copied.events == built.events == len(records(direct))
        assert records(stretched) == records(direct)
        assert stretched.verify().ok


def test_a_handed_over_directory_stays_in_the_scratch_cache_whatever_else_it_holds() -> None:
    """The scratch store holds none of the directory's history: were the cache to let
    the handed-over directory go, the next command would find no directory at all."""
    with flows.open_flow(env=KEY) as source, scratch(source, source.clock) as flow:
        handover = Handover.of(source)
        handover.seed(flow)
        cache = flow.repository.cache
        assert cache is not None
        for _n in range(2 * CACHED):  # twice what the cache keeps, all used after it
            cache.put(uuid4(), handover.directory)  # any aggregate, under other ids
        cache.get(DIRECTORY_ID, evict=True)  # nor when eventsourcing asks it to evict
        directory: Directory = flow.repository.get(DIRECTORY_ID)
        assert directory.state == handover.directory.state
        assert directory.version == handover.directory.version
        flow.join_council(flows.COMPOUND, member="member-9", via="election", actor="office")
        assert flow.repository.get(DIRECTORY_ID).version == directory.version + 1
        assert not flow.recorder.select_events(DIRECTORY_ID, lte=directory.version)


def test_a_demo_larger_than_a_district_is_a_city_of_districts_in_one_store() -> None:
    """``--compounds 3040`` is ten districts of the article's shape (about ten compounds
    a community), not one district of communities ten times the size; built in
    stretches or step by step, each district's compounds lie under its own places."""
    city = Size.scaled(3040)
    assert (city.districts, city.streets, city.communities_per_street) == (10, 6, 5)
    assert (Size.scaled(304).districts, Size.scaled(305).districts) == (1, 2)
    size = Size(compounds=12, old=10, without_management=4, streets=1, communities_per_street=2)
    size.districts = 2
    with CivicFlow(env=KEY) as direct, CivicFlow(env=KEY) as stretched:
        built = build(direct, size=size)
        copied = build_into(stretched, size=size, batch=7, part=4)  # each district in two parts
        assert copied.proposals == built.proposals
        assert records(stretched) == records(direct)
        for flow in (direct, stretched):
            structure = flow.structure()
            districts = sorted(
                a.id for a in structure.areas.values() if a.kind is AreaKind.DISTRICT
            )
            assert districts == ["district-2", "shanyang"]
            at = flow.clock()
            for n in range(1, 13):
                home = structure.enclosing(f"compound-{n:03d}", AreaKind.DISTRICT, at)
                assert home == ("shanyang" if n <= 6 else "district-2")
            communities = [a for a in structure.areas.values() if a.kind is AreaKind.COMMUNITY]
            assert len(communities) == 4


def test_copying_aggregates_gives_each_its_records_unchanged_and_refuses_a_second_copy(
    store_url: str,
) -> None:
    """``copy_aggregates_from`` (how a stretch is seeded with its residents), from every
    backend: in chunks of the ids, every record of just those aggregates, in version
    order, each to be read as written; a second copy of one refused, nothing written."""
    residents = [f"copied-{n:03d}" for n in range(1, 1203)]  # more than two chunks of ids
    with flows.open_flow(store_url, env=KEY) as source, CivicFlow(env=KEY) as target:
        source.register_residents(residents, compound_id=flows.COMPOUND, actor="office")
        source.add_area(
            "compound-8",
            kind="compound",
            name="Hongqi 8",
            parent_id="community-1",
            is_old=True,
            has_property_management=False,
            households=40,
            actor="office",
        )
        source.move_resident("copied-007", compound_id="compound-8", actor="office")
        chosen = residents[::2]
        wanted = [resident_uuid(r) for r in chosen]
        assert target.copy_aggregates_from(source, wanted) == len(wanted) + 1  # the move
        for resident, aggregate_id in zip(chosen, wanted, strict=True):
            theirs = source.recorder.select_events(aggregate_id)
            ours = target.recorder.select_events(aggregate_id)
            assert [(e.originator_version, e.topic) for e in ours] == [
                (e.originator_version, e.topic) for e in theirs
            ]
            assert target.resident(resident) == source.resident(resident)
        assert target.resident("copied-007").compound == "compound-8"
        assert not target.recorder.select_events(resident_uuid(residents[1]))
        before = records(target)
        with pytest.raises(InvalidInputError):
            target.copy_aggregates_from(source, [resident_uuid("copied-001")])
        assert records(target) == before
