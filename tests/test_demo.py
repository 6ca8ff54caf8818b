"""The demo built in stretches writes what building it step by step writes, and checks out."""

from __future__ import annotations

from civicflow import CivicFlow
from civicflow.extras.demo import Size, build, build_into

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
