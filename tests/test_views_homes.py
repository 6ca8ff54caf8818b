"""The views' compact homes (``views/homes.py``) say what a ``Home`` says."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from civicflow.domain.community.residents import Home
from civicflow.domain.timeline import Change
from civicflow.views.homes import SpanMaker, compound_at, home_json, spans_of

EAST = timezone(timedelta(hours=8))
MOVES = (
    (datetime(2026, 1, 1, 9, tzinfo=EAST), "k-1"),
    (datetime(2026, 3, 1, 9, tzinfo=EAST), "k-2"),
    (datetime(2026, 5, 1, 9, tzinfo=EAST), None),
)


def test_spans_place_a_resident_as_their_home_does() -> None:
    maker = SpanMaker()
    spans = maker.first(*MOVES[0]) + tuple(maker.span(*move) for move in MOVES[1:])
    home = Home(resident_id="r", homes=tuple(Change[str](effective=t, value=v) for t, v in MOVES))
    for days in range(-1, 200, 7):
        moment = MOVES[0][0] + timedelta(days=days, hours=-1)
        assert compound_at(spans, moment.astimezone(UTC)) == home.compound_at(moment)


def test_stored_json_is_a_home_read_back_as_the_same_instants() -> None:
    maker = SpanMaker()
    spans = tuple(maker.span(*move) for move in MOVES)
    stored = home_json("r", spans)
    home = Home.model_validate_json(stored)  # what earlier code reads
    assert [(c.effective, c.value) for c in home.homes] == list(MOVES)
    assert spans_of(stored, SpanMaker()) == ("r", spans)
    old = Home(resident_id="r", homes=tuple(Change[str](effective=t, value=v) for t, v in MOVES))
    assert spans_of(old.model_dump_json(), SpanMaker()) == ("r", spans)  # what it wrote


def test_residents_registered_together_share_their_spans() -> None:
    maker = SpanMaker()
    one, other = maker.first(*MOVES[0]), maker.first(MOVES[0][0].astimezone(UTC), "k-1")
    assert one is other
    assert maker.first(*MOVES[1]) is not one
