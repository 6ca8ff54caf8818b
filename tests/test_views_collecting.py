"""The collector paused while a publication is decided: counted, and never left off."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from civicflow.views.collecting import collector_paused


@pytest.fixture(autouse=True)
def collector_on() -> Iterator[None]:
    gc.enable()
    yield
    gc.enable()


def test_paused_inside_and_resumed_after() -> None:
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_resumed_after_an_error() -> None:
    with pytest.raises(ZeroDivisionError), collector_paused():
        _ = 1 / 0
    assert gc.isenabled()


def test_nested_pauses_resume_at_the_last() -> None:
    with collector_paused():
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer pause still holds
    assert gc.isenabled()


def test_a_collector_turned_off_by_the_application_stays_off() -> None:
    gc.disable()
    with collector_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_overlapping_pauses_in_threads_end_with_the_collector_on() -> None:
    # Thread A pauses, B pauses, A ends first: a save-and-restore per call would leave
    # the collector off for good when B restores what it saw (off).
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()

    def a() -> None:
        with collector_paused():
            a_in.set()
            b_in.wait(5)
        a_out.set()

    def b() -> None:
        a_in.wait(5)
        with collector_paused():
            b_in.set()
            a_out.wait(5)
            assert not gc.isenabled()  # A has ended; B's pause still holds

    threads = [threading.Thread(target=a), threading.Thread(target=b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert gc.isenabled()


def test_a_review_leaves_the_collector_on() -> None:
    from civicflow import CivicFlow
    from civicflow.extras import demo
    from civicflow.views import Views

    with CivicFlow.open("memory://") as flow:
        demo.build_into(flow, size=demo.Size.scaled(8))
        with Views(flow) as views:
            views.catch_up()
            views.review(demo.quarter_labels(demo.Size.scaled(8))[-1])
    assert gc.isenabled()


def test_a_views_counting_state_is_freed_without_the_collector() -> None:
    """A protection pauses the collector, and reading the structure inside it lets the
    last catch-up's state go: that state must be free of cycles, or it would stay in
    memory (80 MB for a city) until the protection ends."""
    import weakref

    from civicflow import CivicFlow
    from civicflow.extras import demo
    from civicflow.views import Views

    size = demo.Size.scaled(8)
    with CivicFlow.open("memory://") as flow:
        demo.build_into(flow, size=size)
        with Views(flow) as views:
            views.catch_up()
            assert views._kept is not None
            projector = weakref.ref(views._kept[1])
            gc.disable()
            views.review(demo.quarter_labels(size)[-1])
            assert projector() is None
            gc.enable()
            views.catch_up()  # after letting go, counting goes on from the tables
