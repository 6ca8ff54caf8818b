"""Every civicflow error survives pickling, as errors raised in worker processes must.

``concurrent.futures`` and ``multiprocessing`` pickle an exception raised in a worker
to raise it in the parent. Python's default rebuilds it by calling its class with
``args`` (the message alone), which most of these errors refuse; the parent then
got a ``BrokenProcessPool`` (found when a benchmark's child opened newer views).
"""

from __future__ import annotations

import inspect
import pickle

import pytest

from civicflow import errors
from civicflow.audit import errors as audit_errors


def every_error() -> list[type[errors.CivicflowError]]:
    found = [
        cls
        for module in (errors, audit_errors)
        for cls in vars(module).values()
        if isinstance(cls, type) and issubclass(cls, errors.CivicflowError)
    ]
    assert len(found) > 20
    return found


# Errors whose arguments have a shape of their own.
SAMPLES: dict[type[errors.CivicflowError], tuple[object, ...]] = {
    errors.InvalidInputError: ("title", [("title", "must not be empty")]),
}


def made(cls: type[errors.CivicflowError]) -> errors.CivicflowError:
    """An instance, with a text for every argument its ``__init__`` requires."""
    if cls in SAMPLES:
        return cls(*SAMPLES[cls])
    try:
        parameters = inspect.signature(cls).parameters.values()
    except ValueError:  # no ``__init__`` of its own: the builtin's, a message alone
        return cls("a message")
    required = [p for p in parameters if p.default is inspect.Parameter.empty]
    positional = [p for p in required if p.kind is not inspect.Parameter.KEYWORD_ONLY]
    named = {p.name: f"{p.name}-value" for p in required if p not in positional}
    return cls(*(f"{p.name}-value" for p in positional), **named)


@pytest.mark.parametrize("cls", every_error(), ids=lambda cls: cls.__name__)
def test_an_error_comes_back_from_a_pickle_as_itself(cls: type[errors.CivicflowError]) -> None:
    error = made(cls)
    back = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes
    assert type(back) is cls
    assert str(back) == str(error)
    assert back.args == error.args
    assert vars(back) == vars(error)
