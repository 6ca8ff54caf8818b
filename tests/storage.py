"""Read a store's raw rows, to prove that refused commands wrote nothing."""

from __future__ import annotations

from civicflow import CivicFlow

# Notification id (or "snapshot"), originator id, version, topic, the stored bytes.
StoredRow = tuple[int | str, str, int, str, bytes]


def stored_rows(flow: CivicFlow) -> list[StoredRow]:
    """Every stored event and snapshot, exactly as the recorder holds them."""
    notifications = flow.recorder.select_notifications(start=None, limit=10**9)
    rows: list[StoredRow] = [
        (n.id, str(n.originator_id), n.originator_version, n.topic, bytes(n.state))
        for n in notifications
    ]
    if flow.snapshots is not None:
        for originator_id in sorted({n.originator_id for n in notifications}, key=str):
            rows.extend(
                ("snapshot", str(s.originator_id), s.originator_version, s.topic, bytes(s.state))
                for s in flow.snapshots.recorder.select_events(originator_id)
            )
    return rows
