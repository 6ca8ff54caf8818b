"""Commands, relay passes, receivers failing or losing answers, give-ups and relay
restarts, interleaved by hypothesis: what each receiver keeps after dropping
duplicates is always a prefix of the log's (filtered) events in order, and, once the
receivers answer again, exactly those events."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from civicflow import CivicFlow
from civicflow.webhooks import Relay, RetryPolicy, State, Webhooks
from tests.webhook_receiver import Receiver
from tests.webhooks_support import Clock, expected

FILTERS: dict[str, tuple[str, ...]] = {"all": (), "backings": ("proposal.backed",)}


class WebhookMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.folder = tempfile.TemporaryDirectory()
        url = f"sqlite:///{Path(self.folder.name) / 'hooks.db'}"
        self.flow = CivicFlow.open(url, community_rules=False)
        self.clock = Clock()
        self.receivers = {name: Receiver() for name in FILTERS}
        self.ids: dict[str, str] = {}
        for name, events in FILTERS.items():
            made = Webhooks(self.flow).add(
                self.receivers[name].url, events=events, allow_private=True
            )
            self.receivers[name].secret, self.ids[name] = made.secret, made.id
        self.relay = self._relay()
        self.proposals: list[str] = []
        self.residents = 0

    def _relay(self) -> Relay:
        policy = RetryPolicy(base=1, cap=4, max_attempts=3)
        return Relay(self.flow, policy=policy, clock=self.clock, page=5)

    @rule()
    def ask(self) -> None:
        self.residents += 1
        state = self.flow.ask(
            title="Lights",
            details="Dark",
            category="lighting",
            area_id="compound-1",
            resident=f"r-{self.residents}",
            channel="visit",
        )
        self.proposals.append(str(state.id))

    @precondition(lambda self: self.proposals)
    @rule(data=st.data())
    def back(self, data: st.DataObject) -> None:
        self.residents += 1
        proposal = data.draw(st.sampled_from(self.proposals))
        self.flow.back(proposal, resident=f"r-{self.residents}")

    @rule()
    def relay_pass(self) -> None:
        self.clock.advance(5)  # past any backoff
        self.relay.deliver_once()

    @rule(name=st.sampled_from(sorted(FILTERS)), times=st.integers(1, 4))
    def receiver_fails(self, name: str, times: int) -> None:
        self.receivers[name].fail(times)

    @rule(name=st.sampled_from(sorted(FILTERS)))
    def receiver_loses_an_answer(self, name: str) -> None:
        self.receivers[name].lost_answers += 1  # recorded, answered 500: redelivered

    @rule()
    def restart_relay(self) -> None:
        self.relay.close()
        self.relay = self._relay()

    @rule()
    def operator_resumes_failing_ones(self) -> None:
        hooks = Webhooks(self.flow)
        for subscription in hooks.list():
            if subscription.state is State.FAILING:
                hooks.resume(subscription.id)

    @invariant()
    def each_receiver_has_a_prefix_of_its_events_in_order(self) -> None:
        for name, events in FILTERS.items():
            got = [
                (p.payload["position"], p.payload["type"]) for p in self.receivers[name].unique()
            ]
            assert got == expected(self.flow, events)[: len(got)]
            assert self.receivers[name].rejected == []

    def teardown(self) -> None:
        try:
            for receiver in self.receivers.values():
                receiver.fail(0)
                receiver.lost_answers = 0
            self.operator_resumes_failing_ones()
            for _ in range(200):
                self.relay_pass()
                if all(
                    len(self.receivers[n].unique()) == len(expected(self.flow, e))
                    for n, e in FILTERS.items()
                ):
                    break
            for name, events in FILTERS.items():
                got = [
                    (p.payload["position"], p.payload["type"])
                    for p in self.receivers[name].unique()
                ]
                assert got == expected(self.flow, events)
        finally:
            self.relay.close()
            self.flow.close()
            for receiver in self.receivers.values():
                receiver.close()
            self.folder.cleanup()


WebhookMachine.TestCase.settings = settings(max_examples=25, stateful_step_count=25, deadline=None)
TestWebhooks = WebhookMachine.TestCase
