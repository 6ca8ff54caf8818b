"""The API's schema: checked into docs/, and no input a client can send makes a 500.

schemathesis generates requests from the router's OpenAPI schema, valid and not, and
checks each answer: never a server error, a status and a body the schema documents.
It runs on a SQLite file with a small community registered, a few examples per
operation, so that the whole run stays well under a minute.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from civicflow import CivicFlow
from civicflow.web import create_app
from civicflow.web.openapi import main, text
from tests.conftest import FakeClock

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    import schemathesis
    from schemathesis import GenerationMode
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

ROOT = Path(__file__).resolve().parents[1]
CHECKED_IN = ROOT / "docs" / "openapi.json"
EXAMPLES = 40  # per operation, valid and invalid requests mixed


def test_the_checked_in_schema_is_the_routers() -> None:
    assert CHECKED_IN.read_text(encoding="utf-8") == text(), (
        "docs/openapi.json differs from the router's schema: review the change, then run "
        "`python -m civicflow.web.openapi` from the repository root and commit the file"
    )


def test_the_schema_script_writes_and_checks(tmp_path: Path) -> None:
    path = tmp_path / "openapi.json"
    assert main([str(path), "--check"]) == 1
    assert main([str(path)]) == 0
    assert main([str(path), "--check"]) == 0


CHECKS = [content_type_conformance, response_schema_conformance, status_code_conformance]


@pytest.mark.timeout(180)
def test_no_request_makes_a_server_error_and_every_answer_is_documented(tmp_path: Path) -> None:
    with CivicFlow.open(f"sqlite:///{tmp_path / 'civic.db'}", clock=FakeClock()) as flow:
        flow.add_area("district-1", kind="district", name="D", actor="office")
        flow.add_area("street-1", kind="street", name="S", parent_id="district-1", actor="office")
        app = create_app(flow, trust_body_actor=True, follow_views=False)
        api = schemathesis.openapi.from_asgi("/openapi.json", app)
        operations = [result.ok() for result in api.get_all_operations()]  # type: ignore[union-attr]
        assert len(operations) == 28
        for operation in operations:
            fuzz(operation)


def fuzz(operation: Any) -> None:
    """A few requests to one operation, valid and not; each answer checked."""

    @given(
        case=operation.as_strategy(generation_mode=GenerationMode.POSITIVE)
        | operation.as_strategy(generation_mode=GenerationMode.NEGATIVE)
    )
    @settings(
        max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None
    )
    def answers(case: Any) -> None:
        case.call_and_validate(checks=CHECKS)

    answers()
