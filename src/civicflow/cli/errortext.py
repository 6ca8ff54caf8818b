"""civicflow's errors as the command shows them: in the language of ``--lang``.

An error keeps its message's ``template`` and ``parameters`` (``civicflow.errors``);
the template is a message id of the catalog, and so is each text parameter that is a
fixed phrase (a reason such as ``does not exist``), and each reason the audit gives
(a ``Reason``: its template translated, then filled with its own parameters, the sizes,
origins and keys kept as they are). A parameter the catalog does not know (an id, a
file name, a free text from deep in the library) is shown as it is.
English shows ``str(error)`` unchanged.
"""

from __future__ import annotations

from typing import Any

from civicflow.cli.i18n import N_, NP_, _, language, pgettext
from civicflow.errors import CivicflowError, ImportRefusedError, InvalidInputError
from civicflow.errors.reasons import Reason

# Fixed phrases that errors take as parameters (the rest of a parameter shows as it is).
PHRASES = (
    *(N_("does not exist"), N_("holds no civicflow events"), N_("area"), N_("resident")),
    *(N_("council"), N_("council of"), N_("proposal"), N_("register it with add_area()")),
    *(N_("register them with register_resident()"), N_("form one with form_council()")),
    N_("never registered as a resident (register them with register_resident())"),
    # The steps, as errors name them (``cannot rate proposal ...``).
    *(NP_("step", "ask"), NP_("step", "back"), NP_("step", "discuss"), NP_("step", "decide")),
    *(NP_("step", "report_progress"), NP_("step", "complete"), NP_("step", "publish")),
    *(NP_("step", "rate"), NP_("step", "close_rating"), NP_("step", "withdraw")),
    NP_("step", "ask about"),
    # The system's words for a file it cannot open (``OSError.strerror``), in reasons.
    *(N_("No such file or directory"), N_("Permission denied"), N_("Is a directory")),
    *(N_("Not a directory"), N_("File exists"), N_("No space left on device")),
    N_("Read-only file system"),
    N_("already exists; key files are never overwritten"),
    N_("file is not a database"),  # SQLite's words for a file that is not one
    # What a store that cannot be opened or configured is (``cannot configure the views``).
    *(N_("the event store"), N_("the views"), N_("the new store to remove it")),
    # What the audit's invalid inputs name (``invalid events export: ...``).
    *(N_("events export"), N_("published head"), N_("tree head")),
    *(N_("head"), N_("record"), N_("hash"), N_("proof"), N_("log_key")),
    # The audit's keys, as its errors name them (``invalid signer key``, ``the log key``).
    *(NP_("key", "signer"), NP_("key", "verifier"), NP_("key", "log")),
    *(NP_("key", "witness"), NP_("key", "required"), NP_("key", "known")),
    # What the store was doing when the database failed (``the database failed while ...``).
    *(N_("using the event store"), N_("reading the log"), N_("closing the views")),
    *(N_("reading the position"), N_("counting the log"), N_("emptying the views")),
    *(N_("following the log"), N_("closing the city views"), N_("emptying the city views")),
    *(N_("reading the log for webhooks"), N_("reading a proposal for webhooks")),
    N_("using the webhook subscriptions"),
)


KEYS = ("signer", "verifier", "log", "witness", "required", "known")
# Parameters that are codes, shown as they are even when a word of the catalog (``store``).
CODES = frozenset({"key", "keys", "allowed", "url", "host", "variable"})


def describe(error: CivicflowError) -> str:
    """The error's message in the command's language."""
    if language() == "en":
        return str(error)
    template, parameters = error.filled
    if isinstance(error, ImportRefusedError):  # its line and reason, said apart
        line = _("line {line}: {reason}; nothing was imported")
        said = line.format(line=error.line, reason=_value("reason", error.reason))
        parameters = {**parameters, "details": said}
    elif isinstance(error, InvalidInputError) and len(error.errors) == 1:
        parameters = {**parameters, "details": _problem(*error.errors[0], parameters["details"])}
    return _filled(template, parameters)


def _problem(field: str, given: str, details: str) -> Any:
    """One problem of an invalid input: its reason as given, after its field if said."""
    if details == given:
        return given
    if details == f"{field}: {given}":
        return _("{field}: {problem}").format(field=_(field), problem=_value("details", given))
    return details


def _filled(template: str, parameters: dict[str, Any]) -> str:
    return _(template).format(**_values(parameters))


def _values(parameters: dict[str, Any]) -> dict[str, Any]:
    return {name: _value(name, value) for name, value in parameters.items()}


def _value(name: str, value: Any) -> Any:
    if isinstance(value, Reason):
        return _filled(value.template, value.parameters)
    if not isinstance(value, str) or name in CODES:
        return value
    if name == "step":
        return pgettext("step", value)
    if name in ("kind", "role") and value in KEYS:
        return pgettext("key", value)
    if name == "stage":
        from civicflow.cli.proposaltext import code

        return code(value)
    return _(value)


__all__ = ["describe"]
