"""Reasons given inside errors: English as a string, their template kept for translation.

The lowest layer, so that every layer can say why (a store URL refused, a city registry
that cannot be read) in words the command line shows in the language of ``--lang``.
"""

from __future__ import annotations

from typing import Any


class Reason(str):
    """A reason given inside an error: its English text, with its template kept for translation.

    ``because("the size {size} is too large", size=9)`` is the string ``the size 9 is too
    large``; a program that shows errors translated (the command line) fills the template
    in its language with ``parameters`` (each of which may be a ``Reason`` again). An error
    raised with a ``Reason`` as its message (``ConfigurationError(because(...))``) keeps it.
    """

    template: str
    parameters: dict[str, Any]

    def __new__(cls, template: str, **parameters: Any) -> Reason:
        reason = super().__new__(cls, template.format(**parameters))
        reason.template, reason.parameters = template, parameters
        return reason

    def __reduce__(self) -> tuple[Any, ...]:
        return (_reason, (self.template, self.parameters))


def _reason(template: str, parameters: dict[str, Any]) -> Reason:
    return Reason(template, **parameters)


def because(template: str, **parameters: Any) -> Reason:
    """A reason: ``template`` (a message id of the command's catalog) filled with ``parameters``."""
    return Reason(template, **parameters)


__all__ = ["Reason", "because"]
