"""Webhooks against a real receiver on 127.0.0.1: order, signatures, filters, retries,
give-up, privacy, and the subscriptions' table on every backend (docs/webhooks.md)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from civicflow import CivicFlow
from civicflow.errors import InvalidInputError, SubscriptionNotFoundError
from civicflow.webhooks import Relay, RetryPolicy, State, Webhooks, pseudonym, webhook_id
from civicflow.webhooks.subscribing import subscriptions_of
from tests import flows
from tests.webhook_receiver import Receiver, payloads
from tests.webhooks_support import Clock, expected


@pytest.fixture
def flow(store_url: str) -> Iterator[CivicFlow]:
    with flows.open_flow(store_url) as flow:
        proposal = flows.rating(flow)
        flows.rate_all(flow, proposal, ["satisfied", "dissatisfied"])
        yield flow


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as receiver:
        yield receiver


def subscribe(flow: CivicFlow, receiver: Receiver, **options: object) -> str:
    made = Webhooks(flow).add(receiver.url, allow_private=True, **options)  # type: ignore[arg-type]
    receiver.secret = made.secret
    return made.id


def drain(relay: Relay) -> None:
    while any(d.ok for d in relay.deliver_once()):
        pass


def test_every_event_arrives_in_log_order_signed_with_a_stable_id(
    flow: CivicFlow, receiver: Receiver
) -> None:
    sub = subscribe(flow, receiver)
    with Relay(flow) as relay:
        drain(relay)
        flows.close_round(flow, flow.proposal(payloads(receiver)[-1]["data"]["originator_id"]))
        drain(relay)
    got = [(p["position"], p["type"]) for p in payloads(receiver)]
    assert got == expected(flow)
    assert receiver.rejected == []  # every signature verified
    assert receiver.ids() == [webhook_id(sub, position) for position, _ in got]
    assert Webhooks(flow).get(sub).position == got[-1][0]


def test_the_envelope_carries_the_type_timestamp_and_the_events_fields(
    flow: CivicFlow, receiver: Receiver
) -> None:
    subscribe(flow, receiver, events=["proposal.decided"])
    with Relay(flow) as relay:
        drain(relay)
    (decided,) = payloads(receiver)
    assert sorted(decided) == ["data", "position", "timestamp", "type"]
    assert decided["type"] == "proposal.decided"
    assert decided["data"]["outcome"] == "approved"
    assert decided["data"]["budget"]["amount"] == "3600.00"  # money as text, never a float
    assert decided["timestamp"] == decided["data"]["timestamp"]


def test_a_filter_and_an_area_choose_what_a_subscriber_gets(flow: CivicFlow) -> None:
    flow.add_area(
        "compound-9",
        kind="compound",
        name="Nine",
        parent_id="community-1",
        is_old=False,
        has_property_management=True,
        households=10,
        actor="office",
    )
    with Receiver() as rated, Receiver() as groups, Receiver() as elsewhere:
        subscribe(flow, rated, events=["proposal.rated"])
        subscribe(flow, groups, events=["directory.*", "resident.registered"])
        subscribe(flow, elsewhere, area="compound-9")
        with Relay(flow) as relay:
            drain(relay)
        assert [p["type"] for p in payloads(rated)] == ["proposal.rated"] * 2
        assert {p["type"].split(".")[0] for p in payloads(groups)} == {"directory", "resident"}
        assert [(p["position"], p["type"]) for p in payloads(groups)] == expected(
            flow, ("directory.*", "resident.registered")
        )
        # Only the area's own registration: the proposals are in compound-7.
        assert [p["type"] for p in payloads(elsewhere)] == ["directory.area_added"]


def test_an_area_takes_in_the_areas_within_it(flow: CivicFlow, receiver: Receiver) -> None:
    subscribe(flow, receiver, area="community-1", events=["proposal.*"])
    with Relay(flow) as relay:
        drain(relay)
    assert [(p["position"], p["type"]) for p in payloads(receiver)] == expected(
        flow, ("proposal.*",)
    )


def test_residents_are_pseudonymised_by_default_and_never_sent_in_clear(
    flow: CivicFlow, receiver: Receiver
) -> None:
    sub = subscribe(flow, receiver)
    with Relay(flow) as relay:
        drain(relay)
    bodies = b"".join(r.body for r in receiver.unique())
    assert b"resident-" not in bodies  # not one resident id, in any field
    asked = next(p for p in payloads(receiver) if p["type"] == "proposal.asked")
    key = bytes.fromhex(subscriptions_of(flow).get(sub).pseudonym_key)
    from civicflow.domain.community.residents import resident_uuid

    mine = pseudonym(key, str(resident_uuid("resident-1")))
    assert asked["data"]["resident"] == asked["data"]["actor"] == mine
    registered = [p for p in payloads(receiver) if p["type"] == "resident.registered"]
    assert mine in {p["data"]["resident_id"] for p in registered}  # one person, one pseudonym
    assert all(p["data"]["originator_id"] == p["data"]["resident_id"] for p in registered)
    assert b"member-1" in bodies  # council members act in office: named as recorded


def test_pseudonyms_differ_between_subscriptions(flow: CivicFlow) -> None:
    with Receiver() as one, Receiver() as two:
        subscribe(flow, one, events=["proposal.asked"])
        subscribe(flow, two, events=["proposal.asked"])
        with Relay(flow) as relay:
            drain(relay)
        (a,), (b,) = payloads(one), payloads(two)
        assert a["data"]["resident"] != b["data"]["resident"]


def test_residents_can_be_left_out_or_included_on_request(flow: CivicFlow) -> None:
    with Receiver() as omitted, Receiver() as included:
        subscribe(flow, omitted, residents="omitted")
        subscribe(flow, included, residents="included", events=["proposal.asked"])
        with Relay(flow) as relay:
            drain(relay)
        assert b"resident-" not in b"".join(r.body for r in omitted.unique())
        rated = next(p for p in payloads(omitted) if p["type"] == "proposal.rated")
        assert "resident" not in rated["data"]
        assert "actor" not in rated["data"]
        discussed = next(p for p in payloads(omitted) if p["type"] == "proposal.discussed")
        assert set(discussed["data"]["attendees"]) <= set(flows.MEMBERS)
        assert payloads(included)[0]["data"]["resident"] == "resident-1"


def test_a_failing_receiver_gets_everything_once_it_recovers(
    flow: CivicFlow, receiver: Receiver
) -> None:
    sub = subscribe(flow, receiver)
    clock = Clock()
    receiver.fail(3)
    with Relay(flow, clock=clock, policy=RetryPolicy(base=10, cap=60)) as relay:
        for attempt in range(1, 4):
            (failed,) = relay.deliver_once()
            assert (failed.status, failed.position) == (500, expected(flow)[0][0])
            stored = Webhooks(flow).get(sub)
            assert (stored.attempts, stored.state, stored.position) == (attempt, State.ACTIVE, 0)
            assert stored.last_error == "HTTP 500"
            assert stored.next_attempt_at is not None
            longest = timedelta(seconds=relay.policy.backoff_step(attempt))
            assert clock.now <= stored.next_attempt_at <= clock.now + longest
            assert relay.deliver_once() == []  # backing off: not due yet
            clock.advance(60)
        drain(relay)
    assert [(p["position"], p["type"]) for p in payloads(receiver)] == expected(flow)
    assert Webhooks(flow).get(sub).attempts == 0


def test_an_unacknowledged_delivery_comes_again_with_the_same_id(
    flow: CivicFlow, receiver: Receiver
) -> None:
    subscribe(flow, receiver, events=["proposal.asked"])
    receiver.lost_answers = 1  # recorded, but the relay hears a failure
    clock = Clock()
    with Relay(flow, clock=clock) as relay:
        (failed,) = relay.deliver_once()
        assert failed.status == 500
        clock.advance(10)
        (delivered,) = relay.deliver_once()
        assert delivered.ok
    first, again = receiver.received
    assert again.webhook_id == first.webhook_id == failed.webhook_id
    assert again.payload == first.payload
    assert len(receiver.unique()) == 1


def test_after_the_last_attempt_the_subscription_is_failing_and_keeps_its_place(
    flow: CivicFlow, receiver: Receiver
) -> None:
    sub = subscribe(flow, receiver)
    receiver.fail(100)
    clock = Clock()
    with Relay(flow, clock=clock, policy=RetryPolicy(max_attempts=3, base=1, cap=1)) as relay:
        for _ in range(5):
            relay.deliver_once()
            clock.advance(2)
        stored = Webhooks(flow).get(sub)
        assert (stored.state, stored.attempts, stored.position) == (State.FAILING, 3, 0)
        assert stored.last_error == "HTTP 500"
        assert receiver.received == []
        receiver.fail(0)
        Webhooks(flow).resume(sub)
        drain(relay)
    assert [(p["position"], p["type"]) for p in payloads(receiver)] == expected(flow)


def test_a_receiver_that_never_answers_times_out_and_blocks_no_other(flow: CivicFlow) -> None:
    with Receiver() as slow, Receiver() as quick:
        slow.delay = 2.0
        slow_id = subscribe(flow, slow, events=["proposal.asked"])
        subscribe(flow, quick)
        with Relay(flow, policy=RetryPolicy(timeout=0.3)) as relay:
            drain(relay)
        assert [(p["position"], p["type"]) for p in payloads(quick)] == expected(flow)
        stored = Webhooks(flow).get(slow_id)
        (asked, _), *_ = expected(flow, ("proposal.asked",))
        assert stored.position == asked - 1  # the events before it were none of its business
        assert stored.last_error is not None
        assert "Timeout" in stored.last_error


def test_a_paused_subscription_waits_and_a_removed_one_is_gone(
    flow: CivicFlow, receiver: Receiver
) -> None:
    hooks = Webhooks(flow)
    sub = subscribe(flow, receiver)
    assert hooks.pause(sub).state is State.PAUSED
    with Relay(flow) as relay:
        assert relay.deliver_once() == []
        hooks.resume(sub)
        assert relay.deliver_once() != []
    hooks.remove(sub)
    assert hooks.list() == []
    with pytest.raises(SubscriptionNotFoundError):
        hooks.remove(sub)
    with pytest.raises(SubscriptionNotFoundError):
        hooks.resume("sub_nothing")


def test_from_now_skips_what_was_recorded_before(flow: CivicFlow, receiver: Receiver) -> None:
    subscribe(flow, receiver, from_start=False)
    proposal = flows.asked(flow)
    with Relay(flow) as relay:
        drain(relay)
    assert [p["data"]["originator_id"] for p in payloads(receiver)] == [str(proposal.id)]


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"url": "ftp://example.org/hook"}, "url"),
        ({"url": "not a url"}, "url"),
        ({"events": ["proposal.rated", "proposal.liked"]}, "event"),
        ({"secret": "no-prefix"}, "secret"),
        ({"secret": "whsec_c2hvcnQ="}, "secret"),  # 5 bytes
        ({"secret": "whsec_!!!"}, "secret"),
        ({"area": "compound-404"}, "area"),
        ({"residents": "everyone"}, "residents"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(
    flow: CivicFlow, options: dict[str, object], field: str
) -> None:
    options = dict(options)  # the parameters are shared by every backend's run
    url = str(options.pop("url", "https://example.org/hook"))
    with pytest.raises(InvalidInputError) as refused:
        Webhooks(flow).add(url, **options)  # type: ignore[arg-type]
    assert [f for f, _ in refused.value.errors] == [field]
    assert Webhooks(flow).list() == []


def test_a_given_secret_is_kept_and_a_new_one_is_a_standard_secret(flow: CivicFlow) -> None:
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # noqa: S105 - the standard's example
    hooks = Webhooks(flow)
    assert hooks.add("https://example.org/a", secret=secret).secret == secret
    made = hooks.add("https://example.org/b").secret
    assert made.startswith("whsec_")
    assert made != secret
    assert "secret" not in json.dumps(hooks.list()[0].public())


@given(
    base=st.floats(0.01, 100),
    cap=st.floats(0.01, 3600),
    failures=st.integers(1, 200),
)
def test_backoff_grows_exponentially_with_jitter_under_the_cap(
    base: float, cap: float, failures: int
) -> None:
    policy = RetryPolicy(base=base, cap=cap)
    step = policy.backoff_step(failures)
    assert step == min(cap, base * 2 ** (failures - 1))
    assert 0 <= policy.delay(failures) <= step


def test_a_retry_policy_refuses_nonsense() -> None:
    with pytest.raises(InvalidInputError):
        RetryPolicy(max_attempts=0)


def test_run_follows_the_log_until_stopped(flow: CivicFlow, receiver: Receiver) -> None:
    subscribe(flow, receiver)
    stop = threading.Event()
    with Relay(flow) as relay:
        running = threading.Thread(target=relay.run, args=(stop,), kwargs={"poll": 0.02})
        running.start()
        try:
            flows.asked(flow)  # recorded while the relay follows
            deadline = time.monotonic() + 30
            while len(receiver.unique()) < len(expected(flow)) and time.monotonic() < deadline:
                time.sleep(0.02)
        finally:
            stop.set()
            running.join(timeout=30)
    assert not running.is_alive()
    assert [(p["position"], p["type"]) for p in payloads(receiver)] == expected(flow)
