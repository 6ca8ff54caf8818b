"""The publishing policy: heads signed at every Publish step, every N records or T minutes,
appended to a feed anyone checks with the public key alone; a failing feed never fails a
command."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest

from civicflow import (
    CivicFlow,
    ConfigurationError,
    FeedError,
    ProposalState,
    Transparency,
    TreeHead,
    append_to_file,
    generate_keys,
    load_signer,
    load_verifier,
    read_feed,
)
from civicflow.audit.signing import Signer, b64encode
from tests import flows
from tests.conftest import FakeClock

ORIGIN = "civicflow.example/district-1"


class Feed:
    """A feed kept in a list; it fails while ``failing`` is set."""

    def __init__(self) -> None:
        self.notes: list[str] = []
        self.failing = False

    def __call__(self, note: str) -> None:
        if self.failing:
            raise OSError("the website is down")
        self.notes.append(note)


def policy(feed: Feed, **options: int | timedelta | None) -> Transparency:
    return Transparency(Signer.generate(ORIGIN), feed, **options)  # type: ignore[arg-type]


def publish(flow: CivicFlow, proposal: ProposalState) -> ProposalState:
    return flow.publish(proposal.id, channels=["notice_board"], summary="Lights on", actor="m")


def test_a_publish_step_appends_a_head_to_the_feed_checked_with_the_public_key_alone(
    store_url: str, tmp_path: Path
) -> None:
    paths = generate_keys(tmp_path / "keys", ORIGIN)
    feed = tmp_path / "keys" / "feed.jsonl"
    transparency = Transparency(load_signer(paths.signing_key), append_to_file(feed))
    with flows.open_flow(store_url, transparency=transparency) as flow:
        done = flows.done(flow)
        assert not feed.exists()  # nothing published yet, far from 1,000 records
        publish(flow, done)
        events = flow.recorder.max_notification_id()
        assert flow.last_head is not None
        document = flow.audit_document(done.id)
    [head] = read_feed(feed, load_verifier(paths.verifier_key))
    assert head == flow.last_head
    assert (head.origin, head.size) == (ORIGIN, events)  # it covers the publication
    assert document.endswith(
        f"\nLog head: {head.size} records, root {b64encode(head.root)} ({ORIGIN})\n"
    )


def test_after_n_records_a_head_is_published_without_a_publication() -> None:
    feed = Feed()
    with flows.open_flow(transparency=policy(feed, every_events=5, every=None)) as flow:
        written = flow.recorder.max_notification_id() or 0
        assert written >= 5  # registering the community made one head due
        assert len(feed.notes) >= 1
        flow.publish_head()  # the count starts again at each head
        before = len(feed.notes)
        proposal = flows.asked(flow)
        for n in range(4):
            flow.back(proposal.id, resident=flows.RESIDENTS[n + 5])
        assert len(feed.notes) == before + 1  # five records: one head
        assert flow.last_head is not None
        assert flow.last_head.size == flow.recorder.max_notification_id()


def test_a_clock_past_t_publishes_a_head_at_the_next_command() -> None:
    feed, clock = Feed(), FakeClock()
    transparency = policy(feed, every_events=None, every=timedelta(minutes=60))
    with flows.open_flow(clock=clock, transparency=transparency) as flow:
        proposal = flows.asked(flow)
        assert feed.notes == []
        clock.advance(minutes=59)
        flow.back(proposal.id, resident="resident-5")
        assert feed.notes == []
        clock.advance(minutes=1)
        flow.back(proposal.id, resident="resident-6")
        assert len(feed.notes) == 1
        clock.advance(minutes=30)
        flow.back(proposal.id, resident="resident-7")
        assert len(feed.notes) == 1  # the hour starts again at the last head


def test_a_failing_feed_does_not_fail_the_command_and_the_next_command_publishes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    feed = Feed()
    with flows.open_flow(transparency=policy(feed, every_events=None, every=None)) as flow:
        done = flows.done(flow)
        feed.failing = True
        with caplog.at_level(logging.WARNING, logger="civicflow"):
            published = publish(flow, done)
        assert published.stage.value == "rating"  # recorded, and returned
        assert "tree head not published" in caplog.text
        assert (feed.notes, flow.last_head) == ([], None)
        feed.failing = False
        flow.rate(published.id, resident="resident-1", level="satisfied")
        assert len(feed.notes) == 1  # the head still due went out after the next write
        assert flow.last_head is not None
        assert flow.last_head.size == flow.recorder.max_notification_id()


def test_publish_head_says_what_went_wrong_and_heads_never_repeat_a_size() -> None:
    feed = Feed()
    with flows.open_flow(transparency=policy(feed, every_events=None, every=None)) as flow:
        first = flow.publish_head()
        assert flow.publish_head() == first  # nothing new: the feed gets no second line
        assert len(feed.notes) == 1
        feed.failing = True
        flows.asked(flow)
        with pytest.raises(FeedError, match="the website is down"):
            flow.publish_head()
    with CivicFlow() as plain, pytest.raises(ConfigurationError, match="transparency"):
        plain.publish_head()
    assert plain.last_head is None


def test_a_checkpoint_is_a_publication_too() -> None:
    feed = Feed()
    with flows.open_flow(transparency=policy(feed, every_events=None, every=None)) as flow:
        assert feed.notes == []
        flow.checkpoint(actor="office")
        assert len(feed.notes) == 1
        assert isinstance(flow.last_head, TreeHead)


@pytest.mark.parametrize("options", [{"every_events": 0}, {"every": timedelta(0)}])
def test_a_policy_that_never_comes_due_is_refused(options: dict[str, object]) -> None:
    with pytest.raises(ConfigurationError):
        Transparency(Signer.generate(ORIGIN), Feed(), **options)  # type: ignore[arg-type]


def test_threads_sharing_one_application_never_send_the_feed_a_smaller_head(
    tmp_path: Path,
) -> None:
    signer = Signer.generate(ORIGIN)
    feed = tmp_path / "feed.jsonl"
    transparency = Transparency(signer, append_to_file(feed), every_events=2, every=None)
    with flows.open_flow(transparency=transparency) as flow:
        proposal = flows.asked(flow)

        def back(residents: tuple[str, ...]) -> None:
            for resident in residents:
                flow.back(proposal.id, resident=resident)

        groups = [flows.RESIDENTS[n::4] for n in range(1, 5)]
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(back, groups))
        flow.publish_head()
        heads = read_feed(feed, signer.verifier)  # sizes never go down, no fork
        assert heads[-1].size == flow.recorder.max_notification_id()
    assert len(heads) >= 10  # 29 backings, a head every two records
