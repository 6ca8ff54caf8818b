"""``civicflow webhooks``: subscribe URLs to the log, list and remove them, run the relay."""

from __future__ import annotations

import argparse
import signal
import threading
from typing import TYPE_CHECKING, Any

from civicflow.cli.i18n import N_, NP_, pgettext
from civicflow.cli.options import Sub, actions, command, finish, require
from civicflow.cli.output import reading, with_flow

if TYPE_CHECKING:
    from civicflow.application.flow import CivicFlow
    from civicflow.webhooks import Subscription


def register(commands: Sub) -> None:
    """Add ``webhooks add``, ``list``, ``remove``, ``pause``, ``resume`` and ``relay``."""
    p = command(commands, "webhooks", "deliver the log to subscribed URLs", leaf=False)
    group = actions(p)
    a = group.add_parser("add", help="subscribe a URL; prints its secret, once")
    a.add_argument("url")
    a.add_argument(
        "--event",
        action="append",
        default=[],
        metavar="TYPE",
        help="an event type (proposal.rated), a group (proposal.*); repeat; default every event",
    )
    a.add_argument("--secret", help="a Standard Webhooks secret (whsec_...); default a new one")
    a.add_argument("--area", help="only events within this area")
    a.add_argument(
        "--residents",
        default="pseudonymised",
        metavar="WAY",
        # Checked by the library (one refusal, exit 2), as every value is.
        help="resident ids: pseudonymised (default), omitted, or included as stored",
    )
    a.add_argument(
        "--from-now", action="store_true", help="only events recorded from now on (default: all)"
    )
    a.add_argument(
        "--allow-private",
        action="store_true",
        help="may deliver to loopback, private and link-local addresses (a local receiver)",
    )
    a.set_defaults(run=with_flow(_add))

    a = group.add_parser("list", help="the subscriptions, their state and position")
    a.set_defaults(run=reading(lambda f, x: [_shown(s, x) for s in _hooks(f).list()]))
    for name, verb in (("remove", "remove"), ("pause", "pause"), ("resume", "resume")):
        a = group.add_parser(name, help=f"{verb} a subscription")
        a.add_argument("id")
        a.set_defaults(run=reading(_by_id(verb)))

    a = group.add_parser("relay", help="deliver the log to every active subscription")
    a.add_argument("--once", action="store_true", help="deliver what is due now, then stop")
    a.add_argument("--poll", type=float, default=1.0, help="seconds between passes when idle")
    a.add_argument(
        "--timeout", type=float, default=10.0, help="seconds a receiver may take, in all"
    )
    a.add_argument(
        "--give-up-after",
        type=float,
        default=24.0,
        metavar="HOURS",
        help="hours of failures at one event before giving up (default 24)",
    )
    a.add_argument(
        "--max-attempts", type=int, help="also give up after this many failures at one event"
    )
    a.set_defaults(run=reading(_relay))
    finish(group)


def _hooks(flow: CivicFlow) -> Any:
    from civicflow.webhooks import Webhooks  # httpx and the rest, only when a command runs

    return Webhooks(flow)


def _add(flow: CivicFlow, a: argparse.Namespace) -> dict[str, Any]:
    made = _hooks(flow).add(
        a.url,
        events=a.event,
        secret=a.secret,
        area=a.area,
        residents=a.residents,
        from_start=not a.from_now,
        allow_private=a.allow_private,
    )
    return _said({**_public(made), "secret": made.secret}, a)  # the only time it is shown


def _shown(subscription: Subscription, a: argparse.Namespace) -> dict[str, Any]:
    return _said(_public(subscription), a)


def _public(subscription: Subscription) -> dict[str, Any]:
    shown = subscription.public()
    shown["events"] = ", ".join(subscription.events) or "*"
    return shown


def _said(shown: dict[str, Any], a: argparse.Namespace) -> dict[str, Any]:
    """``shown`` as text shows it: its fields, state and residents in the language.

    JSON keeps the keys and codes. The fields take the context ``webhook``: a
    subscription's ``events`` and ``residents`` are not the counts the views name so.
    """
    if a.json:
        return shown
    for key in ("state", "residents"):
        if key in shown:
            shown[key] = pgettext(key, str(shown[key]))
    return {pgettext("webhook", key): value for key, value in shown.items()}


# The fields and values of a subscription as text shows them, marked for the catalog.
FIELDS = (
    *(NP_("webhook", "id"), NP_("webhook", "url"), NP_("webhook", "events")),
    *(NP_("webhook", "area"), NP_("webhook", "residents"), NP_("webhook", "created_at")),
    *(NP_("webhook", "state"), NP_("webhook", "position"), NP_("webhook", "attempts")),
    *(NP_("webhook", "next_attempt_at"), NP_("webhook", "last_error")),
    *(NP_("webhook", "allow_private"), NP_("webhook", "failing_since")),
    *(NP_("webhook", "secret"), NP_("webhook", "removed")),
    *(NP_("webhook", "delivered"), NP_("webhook", "failed")),
    *(NP_("state", "active"), NP_("state", "paused"), NP_("state", "failing")),
    *(NP_("residents", "pseudonymised"), NP_("residents", "omitted")),
    NP_("residents", "included"),
)


def _by_id(verb: str) -> Any:
    def run(flow: CivicFlow, a: argparse.Namespace) -> Any:
        hooks = _hooks(flow)
        if verb == "remove":
            hooks.remove(a.id)
            return _said({"removed": a.id}, a)
        return _shown(getattr(hooks, verb)(a.id), a)

    return run


def _relay(flow: CivicFlow, a: argparse.Namespace) -> dict[str, Any] | None:
    from civicflow.webhooks import Relay, RetryPolicy

    require(a.poll > 0, "poll", N_("must be above 0 seconds"))
    policy = RetryPolicy(
        timeout=a.timeout, max_attempts=a.max_attempts, give_up_after=a.give_up_after * 3600
    )
    with Relay(flow, policy=policy) as relay:
        if a.once:
            return _said(_drain(relay), a)
        relay.run(_stopped_by_signals(), poll=a.poll)
    return None


def _drain(relay: Any) -> dict[str, Any]:
    """Passes until one delivers nothing: the backlog that can be delivered now."""
    delivered = failed = 0
    while True:
        attempted = relay.deliver_once()
        ok = sum(1 for d in attempted if d.ok)
        delivered, failed = delivered + ok, failed + len(attempted) - ok
        if not ok:
            return {"delivered": delivered, "failed": failed}


def _stopped_by_signals() -> threading.Event:
    """An event set by SIGTERM or Ctrl-C: the relay finishes its pass and stops."""
    stop = threading.Event()
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda *_: stop.set())
    return stop
