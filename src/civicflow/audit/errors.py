"""The audit's errors: signed notes, keys, feeds of signed heads, witnesses.

Members of the one ``CivicflowError`` family, kept beside the audit code that raises
them (the family's root and the rest are in ``civicflow.errors``). Each message is a
template (``_say``) of the command's catalog, so that ``--lang zh`` shows it in Chinese;
so is each reason they give (``because``): English as a string, its template kept.
"""

from __future__ import annotations

from civicflow.errors import CivicflowError
from civicflow.errors.reasons import Reason, _reason, because


def reason_of(error: BaseException) -> str:
    """What went wrong in ``error``, as a reason inside another error.

    A civicflow error keeps its template; an ``OSError`` gives the system's words
    (``Permission denied``), a ``ValueError`` raised with a reason gives that reason.
    """
    if isinstance(error, CivicflowError):
        template, parameters = error.filled
        return Reason(template, **parameters)
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    if error.args and isinstance(error.args[0], Reason):
        return error.args[0]
    return str(error)


class MalformedNoteError(CivicflowError, ValueError):
    """A signed note or signed tree head is not in the exact form the format requires.

    ``line`` is the 1-based line of the note where the problem is, when there is one.
    Nothing in a malformed note is trusted, not even the signatures it may carry.
    """

    def __init__(self, reason: str, line: int | None = None) -> None:
        self.reason = reason
        self.line = line
        if line is None:
            self._say("malformed signed note: {reason}", reason=reason)
        else:
            self._say("malformed signed note (line {line}): {reason}", line=line, reason=reason)


class SignatureError(CivicflowError, ValueError):
    """A signature the reader requires is missing from a note, or does not verify.

    ``key`` names the key (``name+key id``); ``role`` is ``log`` or ``witness`` for
    a tree head (``required`` or ``known`` for any other note); ``problem`` is
    ``missing`` or ``invalid``.
    """

    def __init__(self, key: str, role: str, problem: str) -> None:
        self.key = key
        self.role = role
        self.problem = problem
        if problem == "missing":
            self._say(
                "the note has no signature by the {role} key {key}; it is not trusted",
                role=role,
                key=key,
            )
        else:
            self._say(
                "the note has a signature that does not verify by the {role} key {key}; "
                "it is not trusted",
                role=role,
                key=key,
            )


class InvalidKeyError(CivicflowError, ValueError):
    """A signer or verifier key string is malformed or does not match its key id.

    The message never repeats the key itself: a signer key is a secret.
    """

    def __init__(self, kind: str, reason: str) -> None:
        self.kind = kind
        self.reason = reason
        self._say("invalid {kind} key: {reason}", kind=kind, reason=reason)


class KeyFileError(CivicflowError, PermissionError):
    """A key file cannot be used: readable by others, already there, missing or unreadable.

    ``problem`` says which; nothing was written or read from the file.
    """

    def __init__(self, path: str, problem: str) -> None:
        self.path = path
        self.problem = problem
        self._say("key file {path}: {problem}", path=path, problem=problem)


class FeedError(CivicflowError, ValueError):
    """A feed of signed tree heads is damaged, out of order or not signed by the log.

    ``line`` is the 1-based line of the feed file where the problem is, or 0 when the
    file itself cannot be read or appended to.
    """

    def __init__(self, path: str, line: int, reason: str) -> None:
        self.path = path
        self.line = line
        self.reason = reason
        self._say("feed {path}, line {line}: {reason}", path=path, line=line, reason=reason)


class ForkRefusedError(CivicflowError, ValueError):
    """The log refuses to sign a head that does not extend the last head it published.

    The store no longer gives the last published head's root for its first records
    (they were altered, deleted or reordered), or holds fewer records (a rollback):
    signing would publish a second, conflicting history. Nothing was signed; run
    ``civicflow verify`` to see what changed. ``published`` is that head's size,
    ``size`` the store's.
    """

    def __init__(self, published: int, size: int, reason: str) -> None:
        self.published = published
        self.size = size
        self.reason = reason
        self._say(
            "the log refuses to sign a head of {size} records: {reason}; nothing was signed "
            "(civicflow verify says what changed)",
            size=size,
            reason=reason,
        )


class WitnessError(CivicflowError, ValueError):
    """A witness refuses to co-sign a tree head; nothing was co-signed or recorded.

    ``origin`` names the log (None when the witness's own files are at fault);
    ``reason`` says why: a head smaller than the last one co-signed (a rollback), a
    different root at the same size or a consistency proof that does not verify (a
    fork), another key for a log the witness knows, or a damaged state file.
    """

    def __init__(self, reason: str, origin: str | None = None) -> None:
        self.origin = origin
        self.reason = reason
        if origin is None:
            self._say(
                "the witness refuses the head: {reason}; nothing was co-signed", reason=reason
            )
        else:
            self._say(
                "the witness refuses the head of {origin}: {reason}; nothing was co-signed",
                origin=origin,
                reason=reason,
            )


# Reason and because are civicflow.errors.reasons' (_reason here too: for older pickles).
__all__ = [
    "FeedError",
    "ForkRefusedError",
    "InvalidKeyError",
    "KeyFileError",
    "MalformedNoteError",
    "Reason",
    "SignatureError",
    "WitnessError",
    "_reason",
    "because",
    "reason_of",
]
