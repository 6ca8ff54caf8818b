"""The demo built in stretches writes what building it step by step writes, and checks out."""

from __future__ import annotations

from civicflow import CivicFlow
from civicflow.domain.community.directory import DIRECTORY_ID, Directory
from civicflow.extras.demo import Size, build, build_into
from civicflow.extras.demo_scratch import Handover, scratch
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


def test_a_handed_over_directory_is_read_from_its_snapshot_once_the_cache_lets_it_go() -> None:
    with flows.open_flow(env=KEY) as source, scratch(source, source.clock) as flow:
        handover = Handover.of(source)
        handover.seed(flow)
        assert flow.repository.cache is not None
        flow.repository.cache.get(DIRECTORY_ID, evict=True)
        directory: Directory = flow.repository.get(DIRECTORY_ID)
        assert directory.state == handover.directory.state
        assert directory.version == handover.directory.version
        flow.join_council(flows.COMPOUND, member="member-9", via="election", actor="office")
        assert flow.repository.get(DIRECTORY_ID).version == directory.version + 1
