"""The publishing policy: when the log signs its tree head and appends it to the feed.

A head is due after every write that records a publication (a Publish (晒) step,
or a checkpoint), and otherwise once ``every_events`` records or ``every`` of the
clock's time have passed since the last head. Writes are counted as they are
saved, by this process: the check costs a counter and (with ``every``) one
reading of the clock, and the log is read only when a head is due.

A head is published after the write that made it due is committed, so a feed that
fails (a full disk, a website down) must not fail that write: the failure is
logged as a warning and the head stays due, to be tried again after the next
write. Nothing is lost by waiting: the next head covers every record before it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from civicflow.audit.errors import FeedError, ForkRefusedError, because
from civicflow.audit.feed import FeedWriter, read_feed
from civicflow.audit.notes import TreeHead, sign_checkpoint
from civicflow.audit.signing import Signer, Verifier, b64encode
from civicflow.audit.transparency import LogTree
from civicflow.errors import CivicflowError, ConfigurationError

logger = logging.getLogger("civicflow")


@dataclass(frozen=True)
class Transparency:
    """How a store publishes its signed tree heads (see ``docs/audit.md``).

    Args:
        signer: the log's signing key; its name is the log's origin.
        feed: where each signed head goes (``civicflow.audit.feed.append_to_file``,
            or any callable taking the note's text).
        every_events: a head at least every this many records written (None: only
            at publications and by time).
        every: a head at least this often while records are written (None: only at
            publications and by count).
        published: the last head published before this application started (read back
            from the feed: ``last_in_feed``), or None. The first head this application
            signs must extend it: a store rolled back or rewritten below it is refused
            (``ForkRefusedError``) instead of signed into a second history.

    Raises:
        ConfigurationError: ``every_events`` or ``every`` is not positive.
    """

    signer: Signer
    feed: FeedWriter
    every_events: int | None = 1000
    every: timedelta | None = timedelta(minutes=60)
    published: Callable[[], TreeHead | None] | None = None

    def __post_init__(self) -> None:
        if self.every_events is not None and self.every_events < 1:
            raise ConfigurationError(because("every_events must be at least 1 (or None)"))
        if self.every is not None and self.every <= timedelta(0):
            raise ConfigurationError(because("every must be a positive duration (or None)"))


class HeadPublisher:
    """Keeps count of what was written since the last head, and publishes heads when due."""

    def __init__(
        self, policy: Transparency, log: Callable[[], LogTree], clock: Callable[[], datetime]
    ) -> None:
        self.policy = policy
        self._log = log
        self._clock = clock
        self._lock = threading.Lock()  # one head at a time: the feed's sizes never go down
        self._counting = threading.Lock()
        self.last: TreeHead | None = None  # the last head this process appended
        self.unpublished = 0  # records written since the last head
        self.due = False
        self._since = clock() if policy.every is not None else None

    def recorded(self, events: int, *, publication: bool) -> None:
        """Count a committed write; publish a head if one is due (never raises)."""
        with self._counting:  # threads share the application: no count is lost
            self.unpublished += events
            self.due = self.due or publication or self._overdue()
            due = self.due
        if due:
            self._try()

    def publish(self) -> str:
        """Sign the head of the whole log now and append it to the feed; returns the note.

        Raises:
            BackendUnavailableError: the database failed while the log was read.
            FeedError: the feed could not be appended to (or whatever the embedding
                application's feed writer raised).
        """
        with self._lock:
            self.due = True
            log = self._log()
            head = log.head(self.policy.signer.name)
            if self.last is None and self.policy.published is not None:
                self.last = self.policy.published()
            if self.last is not None:
                _refuse_a_fork(log, self.last)
            note = sign_checkpoint(head, self.policy.signer)
            if self.last is None or head.size > self.last.size:
                self._append(note)
            self.last = head
            self.unpublished, self.due = 0, False
            self._since = self._clock() if self.policy.every is not None else None
            return note

    def _append(self, note: str) -> None:
        try:
            self.policy.feed(note)
        except CivicflowError:
            raise
        except Exception as error:  # an embedding application's writer raises its own
            raise FeedError(
                "the feed", 0, because("the feed writer failed: {error}", error=repr(error))
            ) from error

    def _overdue(self) -> bool:
        count = self.policy.every_events
        if count is not None and self.unpublished >= count:
            return True
        every, since = self.policy.every, self._since
        return every is not None and since is not None and self._clock() - since >= every

    def _try(self) -> None:
        try:
            self.publish()
        except Exception:
            logger.warning(
                "tree head not published, will try again after the next write", exc_info=True
            )


def _refuse_a_fork(log: LogTree, last: TreeHead) -> None:
    """The log only grows: its first ``last.size`` records must still give ``last``'s root."""
    if log.size < last.size:
        reason = because(
            "the last head published covers {size}: records were deleted, or rolled back",
            size=last.size,
        )
        raise ForkRefusedError(last.size, log.size, reason)
    if log.tree.root(last.size) != last.root:
        reason = because(
            "its first {size} records no longer give the last published head's root: "
            "they were altered, inserted, deleted or reordered",
            size=last.size,
        )
        raise ForkRefusedError(last.size, log.size, reason)


def last_in_feed(path: str | Path, log: Verifier) -> Callable[[], TreeHead | None]:
    """The last head of a feed file, read when first needed (None: no feed, or empty).

    Raises (when called):
        FeedError: the feed is damaged or not the log's.
    """

    def last() -> TreeHead | None:
        if not Path(path).exists():
            return None
        heads = read_feed(path, log)
        return heads[-1] if heads else None

    return last


def head_line(head: TreeHead, lang: str = "en") -> str:
    """The head as a line for a notice board: its size and root (base64)."""
    root = b64encode(head.root)
    if lang == "zh":
        return f"记录日志树头：{head.size} 条记录，根 {root}（{head.origin}）"
    return f"Log head: {head.size} records, root {root} ({head.origin})"
