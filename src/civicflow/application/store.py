"""The event store the use cases run on: one configured eventsourcing application.

``Store`` owns what eventsourcing needs to know (mapper, transcoder, snapshots,
the aggregate cache) and nothing about the six steps: the use cases reach it
through the ``Context``.
"""

from __future__ import annotations

import copy
import itertools
import logging
import random
import time
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, cast
from uuid import UUID

from eventsourcing.application import Application, ProcessingEvent
from eventsourcing.persistence import (
    InterfaceError,
    InternalError,
    Mapper,
    OperationalError,
    PersistenceError,
    ProcessRecorder,
    Recording,
    Tracking,
)
from eventsourcing.utils import EnvType, get_topic

from civicflow.audit.ledger import Ledger
from civicflow.domain import integrity
from civicflow.domain.community.directory import Directory
from civicflow.domain.community.residents import Resident
from civicflow.domain.eventmodel import PydanticAggregate
from civicflow.domain.proposal import Proposal
from civicflow.domain.proposal_replay import replay
from civicflow.errors import ConfigurationError
from civicflow.errors.reasons import because
from civicflow.storage.errors import opening_errors, reading_errors, storage_errors, transient
from civicflow.storage.mapper import OrjsonTranscoder, PydanticMapper
from civicflow.storage.opening import recovering

logger = logging.getLogger("civicflow")
AGGREGATES = (Proposal, Directory, Resident, Ledger)
# Each command's id is recorded in the same transaction as its events, as a tracking
# record named after the command and its aggregate. Its position counts down from
# INDEX_TOP by the aggregate's version after the command: eventsourcing's tracking
# refuses a position not above the one recorded, so the same command recorded again
# at any later version (a retry racing its original) is refused by the database.
# Positions at or below INDEX_TOP / 2 are the aggregate's version itself (earlier stores).
COMMAND_INDEX = "civicflow-command"
INDEX_TOP = 2**62
OPEN_ATTEMPTS = 5


def _project(aggregate: Any, events: Any) -> Any:
    # eventsourcing's default projector asserts a runtime-checkable Protocol for every
    # event, which costs more than applying it; every civicflow event can mutate.
    # ``replay`` applies each event in turn, a proposal's runs of ratings folded in once.
    events = iter(events)
    first = next(events, None)
    if first is None:
        return aggregate
    if aggregate is not None:
        # Fast-forwarded on a copy: the cached aggregate is shared by threads (a command
        # copies it without eventsourcing's lock), so it is replaced whole (``load``),
        # never seen half-way through a run of ratings.
        aggregate = copy.deepcopy(aggregate)
    return replay(aggregate, itertools.chain((first,), events))


def _collect(processing: ProcessingEvent[UUID], aggregates: Sequence[PydanticAggregate]) -> None:
    # eventsourcing's ``collect_events`` checks each object against two runtime-checkable
    # protocols (tens of µs a command); a store saves civicflow's own aggregates only.
    for aggregate in aggregates:
        processing.events.extend(aggregate.collect_events())
        processing.aggregates[aggregate.id] = aggregate


class Store(Application[UUID]):
    """civicflow's events, snapshots and notification log in one database."""

    # eventsourcing names an application after its class, and the name picks the tables
    # and the settings prefix: every store of civicflow keeps this one.
    name = "CivicFlow"
    env: ClassVar[dict[str, str]] = {
        "MAPPER_TOPIC": get_topic(PydanticMapper),
        "TRANSCODER_TOPIC": get_topic(OrjsonTranscoder),
        "AGGREGATE_CACHE_MAXSIZE": "10000",
        "SQLITE_LOCK_TIMEOUT": "30",
    }
    # Snapshots bound replay cost: proposals collect many ratings, the directory many changes.
    snapshotting_intervals: ClassVar[dict[Any, int]] = dict.fromkeys(AGGREGATES, 100)
    snapshotting_projectors: ClassVar[dict[Any, Any]] = dict.fromkeys(AGGREGATES, _project)
    # Told of every committed save (the publishing policy counts them); must not raise.
    on_recorded: Callable[[Sequence[Recording[UUID]]], None] | None = None

    def __init__(self, env: EnvType | None = None) -> None:
        """Open the store that ``env`` names.

        Raises:
            ConfigurationError: a setting cannot be used, or the file is not a database.
            BackendUnavailableError: the database cannot be reached.
        """
        attempt = 1
        while True:
            with opening_errors():
                if self._opened(env, last_attempt=attempt == OPEN_ATTEMPTS):
                    return
            time.sleep(random.uniform(0, 0.02 * 2**attempt))  # noqa: S311
            attempt += 1

    def _opened(self, env: EnvType | None, *, last_attempt: bool) -> bool:
        try:
            super().__init__(env)
        except InternalError:
            # Two processes opening one PostgreSQL store at once race on eventsourcing's
            # CREATE OR REPLACE FUNCTION ("tuple concurrently updated"): try again.
            if last_attempt:
                raise
            return False
        except (OperationalError, InterfaceError) as error:
            # A connection dropped while the tables were looked for: that passes.
            if last_attempt or not transient(error):
                raise
            return False
        recovering(self.factory)
        return True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # A subclass (to change snapshots, say) must keep reading the same tables.
        name = cls.__dict__.get("name")
        super().__init_subclass__(**kwargs)
        if name is None:
            cls.name = Store.name

    def construct_mapper(self) -> Mapper[UUID]:
        """civicflow's pydantic mapper, sealing records when ``AUDIT_KEY`` is set."""
        mapper = super().construct_mapper()
        if isinstance(mapper, PydanticMapper):
            mapper.audit_key = integrity.audit_key(self.env.get("AUDIT_KEY"))
        return mapper

    @property
    def pydantic_mapper(self) -> PydanticMapper:
        """The mapper as civicflow's own (the audit reads below its upcasting).

        Raises:
            ConfigurationError: ``MAPPER_TOPIC`` names another mapper.
        """
        if not isinstance(self.mapper, PydanticMapper):
            raise ConfigurationError(
                because("auditing needs civicflow's mapper (MAPPER_TOPIC unset)")
            )
        return self.mapper

    def load(self, aggregate_id: UUID, version: int | None = None) -> Any:
        """An aggregate as stored (``AggregateNotFoundError`` passes through)."""
        with storage_errors(), reading_errors():
            aggregate = self.repository.get(aggregate_id, version=version, projector_func=_project)
        cache = self.repository.cache
        if version is None and cache is not None:
            cache.put(aggregate_id, copy.deepcopy(aggregate))  # what ``_project`` fast-forwarded
        return aggregate

    def cached(self, aggregate_id: UUID) -> Any | None:
        """This process's last copy of an aggregate, read from no store (None if not cached).

        Only for a command about to change it: the copy may be behind the store, and then
        its save conflicts (the next version is taken) and the command runs again on
        fresh state. Queries use ``load``, which reads what others wrote since.
        """
        cache = self.repository.cache
        if cache is None:
            return None
        try:
            aggregate = cache.get(aggregate_id)
        except KeyError:
            return None
        # A shallow copy (PydanticAggregate.__deepcopy__): the states are immutable, and a
        # cached aggregate is never changed in place (``_project``), only replaced.
        return copy.deepcopy(aggregate)

    def construct_recorder(self) -> ProcessRecorder:
        """A recorder that writes tracking records with events: the command index."""
        return self.factory.process_recorder()

    def keep(self, *aggregates: PydanticAggregate, command: UUID | None = None) -> None:
        """Save the aggregates' new events at once, with the command's index record.

        ``RecordConflictError`` passes through: a lost race, or this command recorded already.

        Raises:
            BackendUnavailableError: the database failed (the events may have been recorded).
        """
        with storage_errors():
            self.save(*aggregates, command=command)
        for aggregate in aggregates:
            self._remember(aggregate)

    def save(  # type: ignore[override]  # the command is civicflow's addition
        self, *aggregates: PydanticAggregate, command: UUID | None = None
    ) -> list[Recording[UUID]]:
        """eventsourcing's ``save``, writing the command's index record in the same transaction.

        The record's position is ``INDEX_TOP`` less the first aggregate's version once its
        events are applied.
        """
        tracking = None
        if command is not None and aggregates:
            key = command_key(command, aggregates[0].id)
            tracking = Tracking(key, INDEX_TOP - aggregates[0].version)
        processing: ProcessingEvent[UUID] = ProcessingEvent(tracking=tracking)
        _collect(processing, aggregates)
        recordings = self._record(processing)
        self._take_snapshots(processing)
        self._notify(recordings)
        return recordings

    def _notify(self, recordings: list[Recording[UUID]]) -> None:
        if self.on_recorded is not None:
            self.on_recorded(recordings)

    def recorded_version(self, command: UUID, aggregate_id: UUID) -> int | None:
        """The version the command left ``aggregate_id`` at, or None if it is not recorded.

        Raises:
            BackendUnavailableError: the database failed.
        """
        recorder = cast(ProcessRecorder, self.recorder)  # construct_recorder made it
        with storage_errors():
            position = recorder.max_tracking_id(command_key(command, aggregate_id))
        if position is None or position <= INDEX_TOP // 2:
            return position
        return INDEX_TOP - position

    def _remember(self, aggregate: PydanticAggregate) -> None:
        # The aggregate just saved is exactly the stored state: caching it spares the next
        # command from reading back and re-applying its own events. (Events from other
        # processes still arrive by fast-forward, so the cache never goes stale.)
        cache = self.repository.cache
        if cache is not None and self.repository.fastforward:
            cache.put(aggregate.id, aggregate)

    def _take_snapshots(self, processing_event: ProcessingEvent[UUID]) -> None:
        # The events are committed by now, so a failing snapshot must not fail the
        # command (a caller would retry and duplicate it). Snapshots only save time;
        # another process may also have taken the same one already.
        try:
            for event in processing_event.events:
                aggregate = processing_event.aggregates.get(event.originator_id)
                if aggregate is not None:  # as eventsourcing: events saved without theirs
                    self._snapshot_if_due(aggregate, event)
        except PersistenceError as error:
            logger.warning("snapshot not taken, replay will be slower: %s", error)

    def _snapshot_if_due(self, aggregate: Any, event: Any) -> None:
        interval = self.snapshotting_intervals.get(type(aggregate))
        version = event.originator_version
        if self.snapshots is None or interval is None or version % interval:
            return
        if aggregate.version == version:
            # The aggregate just saved is the state at this version: eventsourcing would
            # rebuild it from the previous snapshot and the events since (10-35 ms for a
            # 1,000-rating proposal, every hundredth command).
            self.snapshots.put([type(aggregate).Snapshot.take(aggregate)])
        else:  # a save of several events passed the interval before its last one
            self.take_snapshot(aggregate.id, version=version, projector_func=_project)


def command_key(command: UUID, aggregate_id: UUID) -> str:
    """The name of a command's index record: the command id, scoped to its aggregate."""
    return f"{COMMAND_INDEX}:{command}:{aggregate_id}"
