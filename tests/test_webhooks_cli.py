"""``civicflow webhooks``: add prints the secret once, list never does, bad input writes
nothing, and ``relay --once`` delivers to a real receiver (docs/cli.md)."""

from __future__ import annotations

import pytest

from civicflow import CivicFlow
from tests import flows
from tests.test_cli import civicflow, ok
from tests.webhook_receiver import Receiver
from tests.webhooks_support import expected


@pytest.fixture
def db(sqlite_url: str) -> str:
    with flows.open_flow(sqlite_url) as flow:
        flows.asked(flow)
    return sqlite_url


def test_add_prints_the_secret_once_and_list_never(db: str) -> None:
    made = ok("webhooks add https://example.org/hook --event proposal.* --json", db).json()
    assert made["secret"].startswith("whsec_")
    assert (made["events"], made["residents"], made["state"]) == (
        "proposal.*",
        "pseudonymised",
        "active",
    )
    listed = ok("webhooks list", db)
    assert made["id"] in listed.out
    assert made["secret"] not in listed.out
    assert "secret" not in ok("webhooks list --json", db).json()[0]


def test_a_given_secret_and_options_are_kept(db: str) -> None:
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # noqa: S105 - the standard's example
    made = ok(
        f"webhooks add http://127.0.0.1:1/h --secret {secret} --area compound-7 --allow-private "
        "--residents omitted --from-now --event proposal.rated --event proposal.asked --json",
        db,
    ).json()
    assert made["secret"] == secret
    assert (made["area"], made["residents"]) == ("compound-7", "omitted")
    assert made["events"] == "proposal.rated, proposal.asked"
    assert made["position"] > 0
    assert made["allow_private"] is True


@pytest.mark.parametrize(
    "line",
    [
        "webhooks add ftp://example.org",
        "webhooks add https://example.org --event proposal.liked",
        "webhooks add https://example.org --secret whsec_c2hvcnQ=",
        "webhooks add https://example.org --area nowhere",
        "webhooks add https://example.org --residents everyone",
        "webhooks add http://127.0.0.1:5432/",  # a private address, not allowed
        "webhooks add http://169.254.169.254/latest/meta-data/",
        "webhooks remove sub_nothing",
        "webhooks resume sub_nothing",
        "webhooks relay --once --poll 0",
    ],
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(db: str, line: str) -> None:
    ran = civicflow(line, db)
    assert ran.code == 2
    assert ran.err.startswith("civicflow: ")
    assert len(ran.err.splitlines()) == 1
    assert ok("webhooks list --json", db).json() == []


def test_relay_once_delivers_the_backlog_then_pause_resume_and_remove(db: str) -> None:
    with Receiver() as receiver:
        made = ok(f"webhooks add {receiver.url} --allow-private --json", db).json()
        receiver.secret = made["secret"]
        summary = ok("webhooks relay --once --json", db).json()
        with CivicFlow.open(db, create=False) as flow:
            log = expected(flow)
        assert summary == {"delivered": len(log), "failed": 0}
        assert [(r.payload["position"], r.payload["type"]) for r in receiver.unique()] == log
        assert ok(f"webhooks pause {made['id']} --json", db).json()["state"] == "paused"
        assert ok(f"webhooks resume {made['id']} --json", db).json()["state"] == "active"
        assert ok(f"webhooks remove {made['id']} --json", db).json() == {"removed": made["id"]}
        assert ok("webhooks list --json", db).json() == []


def test_list_on_a_store_without_subscriptions_writes_nothing(db: str) -> None:
    assert ok("webhooks list --json", db).json() == []
    with CivicFlow.open(db, create=False) as flow:
        from civicflow.webhooks.subscribing import subscriptions_of

        assert not subscriptions_of(flow).exists()
