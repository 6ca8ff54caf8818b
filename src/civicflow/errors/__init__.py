"""The whole civicflow error family under one root.

Every error a user can see is a ``CivicflowError``, and also the builtin that matches its
condition (``LookupError``, ``ValueError``...), so callers that only know the builtins still
catch it; each carries structured attributes beside its readable message.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any
from uuid import UUID


class CivicflowError(Exception):
    """Root of every error civicflow raises on purpose.

    ``str(error)`` is English. An error whose message has a fixed shape keeps it as
    ``template`` (``{named}`` fields) and ``parameters``, for a program that shows errors
    translated (the command line): ``template.format(**parameters) == str(error)``.
    """

    template: str = "{message}"
    parameters: dict[str, Any]

    def _say(self, template: str, **parameters: Any) -> None:
        """Set the message from ``template`` and keep both for translation."""
        self.template, self.parameters = template, parameters
        Exception.__init__(self, template.format(**parameters))

    @property
    def filled(self) -> tuple[str, dict[str, Any]]:
        """The template and its parameters (``{message}`` and the message, a reason kept)."""
        parameters = getattr(self, "parameters", None)
        said = self.args[0] if self.args[:1] == (str(self),) else str(self)  # a Reason kept
        return (self.template, parameters) if parameters else ("{message}", {"message": said})

    def __reduce__(self) -> tuple[Any, ...]:
        # As its message and attributes: most __init__ here refuse the default's ``args``.
        return (_unpickled, (type(self), self.args, self.__dict__))


def _unpickled(cls: type[CivicflowError], args: tuple[Any, ...], state: dict[str, Any]) -> Any:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


class ProposalNotFoundError(CivicflowError, LookupError):
    """No proposal with this id (or not at this version) is in the store."""

    def __init__(self, proposal_id: UUID, version: int | None = None) -> None:
        self.proposal_id = proposal_id
        self.version = version
        if version is None:
            self._say("proposal {proposal_id} not found", proposal_id=proposal_id)
        else:
            self._say(
                "proposal {proposal_id} not found at version {version}",
                proposal_id=proposal_id,
                version=version,
            )


class ProposalAlreadyExistsError(CivicflowError, ValueError):
    """A proposal id supplied by the caller is already taken."""

    def __init__(self, proposal_id: UUID) -> None:
        self.proposal_id = proposal_id
        self._say(
            "proposal {proposal_id} already exists; choose another id", proposal_id=proposal_id
        )


class StepNotAllowedError(CivicflowError, ValueError):
    """The step is not allowed in the proposal's current stage."""

    def __init__(self, proposal_id: UUID, stage: str, step: str, allowed: Iterable[str]) -> None:
        self.proposal_id = proposal_id
        self.stage = stage
        self.step = step
        self.allowed = tuple(sorted(allowed))
        if not self.allowed:
            self._say(
                "cannot {step} proposal {proposal_id}: it is in stage '{stage}', where the "
                "allowed steps are: none (the proposal is final)",
                step=step,
                proposal_id=proposal_id,
                stage=stage,
            )
            return
        self._say(
            "cannot {step} proposal {proposal_id}: it is in stage '{stage}', "
            "where the allowed steps are: {allowed}",
            step=step,
            proposal_id=proposal_id,
            stage=stage,
            allowed=", ".join(self.allowed),
        )


class RuleViolationError(CivicflowError, ValueError):
    """The step is allowed in this stage, but a business rule refuses it."""

    def __init__(self, proposal_id: UUID | None, rule: str, message: str) -> None:
        self.proposal_id = proposal_id
        self.rule = rule
        prefix = f"proposal {proposal_id}: " if proposal_id is not None else ""
        super().__init__(f"{prefix}{message}")


class MissingRegistrationError(CivicflowError, LookupError):
    """A rule needs structure that the embedding application has not registered."""

    def __init__(self, what: str, identifier: str, hint: str) -> None:
        self.what = what
        self.identifier = identifier
        self.hint = hint
        self._say(
            "no {what} {identifier!r} is registered at that time; {hint}",
            what=what,
            identifier=identifier,
            hint=hint,
        )


class NotEligibleError(CivicflowError, PermissionError):
    """Someone tried a step they have no standing for (not a resident in scope, or not
    on the council whose session or decision they record)."""

    def __init__(self, proposal_id: UUID | None, who: str, step: str, reason: str) -> None:
        self.proposal_id = proposal_id
        self.who = who
        self.step = step
        self.reason = reason
        if proposal_id is None:
            self._say("{who} may not {step}: {reason}", who=who, step=step, reason=reason)
        else:
            self._say(
                "{who} may not {step} proposal {proposal_id}: {reason}",
                who=who,
                step=step,
                proposal_id=proposal_id,
                reason=reason,
            )


class InvalidInputError(CivicflowError, ValueError):
    """A value given to a command is malformed or out of range.

    ``errors`` lists one ``(field, message)`` pair per problem found.
    """

    def __init__(self, what: str, errors: Sequence[tuple[str, str]]) -> None:
        self.what = what
        self.errors = tuple(errors)
        details = "; ".join(
            f"{field}: {msg}" if field and _name(field) != _name(what) else msg
            for field, msg in errors
        )
        self._say("invalid {what}: {details}", what=what, details=details)

    @classmethod
    def from_pydantic(cls, what: str, error: Any) -> InvalidInputError:
        """Build from a ``pydantic.ValidationError``, one entry per failing field."""
        pairs = [
            (
                ".".join(str(part) for part in item["loc"]),
                str(item["msg"]).removeprefix("Value error, "),
            )
            for item in error.errors(include_url=False)
        ]
        return cls(what, pairs)


def _name(field: str) -> str:
    """A field's name as an option or a keyword: ``as_of`` and ``as-of`` are one name."""
    return field.replace("-", "_").strip().lower()


class ImportRefusedError(InvalidInputError, ValueError):
    """An events export failed a check on reading; nothing was imported.

    ``line`` is the 1-based line of the file where the first problem is (a cut file:
    its last line), ``reason`` what is wrong there (a line missing, repeated, out of
    order or altered; a broken seal or chain; a trailer missing or not matching).
    """

    def __init__(self, line: int, reason: str) -> None:
        self.line = line
        self.reason = reason
        super().__init__("events export", [(f"line {line}", f"{reason}; nothing was imported")])


class ConcurrencyError(CivicflowError, RuntimeError):
    """A command kept losing optimistic-concurrency races and gave up.

    Nothing was written by the failed attempt; it is safe to try again later.
    """

    def __init__(self, aggregate_id: UUID, attempts: int, what: str = "proposal") -> None:
        self.aggregate_id = aggregate_id
        self.proposal_id = aggregate_id if what == "proposal" else None
        self.what = what
        self.attempts = attempts
        self._say(
            "{what} {aggregate_id} changed under {attempts} consecutive attempts; "
            "try again (or raise max_attempts)",
            what=what,
            aggregate_id=aggregate_id,
            attempts=attempts,
        )


class ConfigurationError(CivicflowError, ValueError):
    """The store URL or an application setting cannot be used."""


class BackendUnavailableError(CivicflowError, ConnectionError):
    """The database behind the store cannot be reached or is missing a driver."""

    unsent = False  # True: no connection was had, so nothing reached the database


class StoreNotFoundError(CivicflowError, LookupError):
    """A store opened for reading does not exist; nothing was created in its place.

    ``store`` names where it was looked for (a file, or a schema of a database).
    """

    def __init__(self, store: str, reason: str = "does not exist") -> None:
        self.store = store
        self.reason = reason
        self._say(
            "no civicflow store at {store}: it {reason} (reading never creates a store; "
            "check --db, or write to it first)",
            store=store,
            reason=reason,
        )


class UnreadableRecordError(CivicflowError, ValueError):
    """A stored record cannot be read: damaged, or written by code this version does not know.

    Raised when reading, never when writing; nothing is written on top of it.
    """


class SchemaMismatchError(ConfigurationError, ValueError):
    """A table of the store does not have the shape this version of civicflow expects.

    Someone changed it (a column added, dropped or retyped) or another program
    shares its name. The write was refused whole, so nothing was written; trying
    again cannot help until the table is as civicflow created it.
    """

    def __init__(self, table: str | None, problem: str) -> None:
        self.table = table
        self.problem = problem
        name = f"the table {table!r}" if table else "a table of the store"
        super().__init__(
            f"{name} does not have the shape civicflow expects: {problem}; nothing was "
            "written (restore the table as civicflow created it, or use another store)"
        )


class NewerRecordError(UnreadableRecordError, ValueError):
    """A stored record was written by newer code: its kind or its class version is unknown here.

    ``known_version`` is None when the kind (``topic``) itself is unknown. Nothing
    is ever written on top of such a record: upgrade civicflow to read it.
    """

    def __init__(
        self,
        topic: str,
        originator_id: UUID | str,
        originator_version: int,
        class_version: int | None,
        known_version: int | None,
        *,
        position: int | None = None,
        kind: str = "event",
    ) -> None:
        self.topic = topic
        self.originator_id = originator_id
        self.originator_version = originator_version
        self.class_version = class_version
        self.known_version = known_version
        self.position = position
        self.kind = kind
        at = f" (position {position} in the log)" if position is not None else ""
        stored = f"{kind} {topic} of {originator_id} at version {originator_version}{at}"
        if known_version is None:
            why = (
                f"its kind is unknown to this version of civicflow (class_version {class_version})"
            )
        else:
            why = (
                f"it has class_version {class_version}, and this version of civicflow "
                f"knows up to {known_version}"
            )
        super().__init__(
            f"the stored {stored} was written by newer code: {why}; upgrade civicflow "
            "to read it (nothing is written on top of it)"
        )


class ViewsSchemaError(ConfigurationError, ValueError):
    """The views were built by a newer civicflow, whose tables this version does not know.

    Older code never drops or rewrites them (in a rolling deploy, old and new
    processes would otherwise rebuild each other's views for ever): upgrade this
    process, or give it views of its own.
    """

    def __init__(self, found: str, known: str) -> None:
        self.found = found
        self.known = known
        super().__init__(
            f"the views are stamped with schema version {found!r}, newer than the version "
            f"{known!r} this civicflow knows; they are left untouched (upgrade civicflow, "
            "or open views in another database)"
        )


class ViewsEncryptionError(ConfigurationError, ValueError):
    """The views were kept under another encryption setting than this store's.

    Views of an encrypted store hold pseudonyms and ciphertext under a key derived
    from ``CIPHER_KEY``; rows written without the key, or under another, would mix
    with them and count wrong (or in clear). So views encrypted under one key are
    refused to a process with no key or another key, and left untouched.
    """

    def __init__(self, found: str, expected: str) -> None:
        self.found = found
        self.expected = expected
        super().__init__(
            f"the views are kept {_sealing(found)}, but this store's setting is "
            f"{_sealing(expected)}; they are left untouched (open the store with the key "
            "the views were built with, or open views in another database)"
        )


def _sealing(stamp: str) -> str:
    if stamp in {"", "plain"}:
        return "unencrypted"
    if stamp == "another key":
        return "encrypted under another key"
    return f"encrypted (key check {stamp.removeprefix('sealed:')})"


class LifecycleDefinitionError(CivicflowError, ValueError):
    """The lifecycle table itself is wrong (a definition error, raised at import)."""


class CommandOutcomeUnknownError(CivicflowError, ConnectionError):
    """The store failed while a command was being written: it may or may not be recorded.

    Retrying with the same ``command_id`` is always safe: if the command was
    recorded, the retry returns what it recorded; if not, the retry records it once.
    """

    def __init__(self, command_id: UUID, cause: str) -> None:
        self.command_id = command_id
        super().__init__(
            f"the store failed while command {command_id} was being written, so it may or "
            f"may not be recorded ({cause}); retry with command_id={command_id}: that is "
            "always safe"
        )


class OutputExistsError(CivicflowError, FileExistsError):
    """The folder ``path`` already holds files (the overwrite flag replaces them), or with
    ``reason``, is refused even so: a file or link in the way, not a civicflow package.
    """

    def __init__(self, path: str, reason: str | None = None) -> None:
        self.path, self.reason = path, reason
        if reason is not None:
            self._say("{path} {reason}: nothing was written or removed", path=path, reason=reason)
            return
        self._say(
            "{path} is not empty: nothing was written (export into a new or empty folder, "
            "or ask to overwrite it)",
            path=path,
        )


class SubscriptionNotFoundError(CivicflowError, LookupError):
    """No webhook subscription with this id is stored (see docs/webhooks.md)."""

    def __init__(self, subscription_id: str) -> None:
        self.subscription_id = subscription_id
        self._say(
            "no webhook subscription {subscription_id!r}; `civicflow webhooks list` shows them",
            subscription_id=subscription_id,
        )
