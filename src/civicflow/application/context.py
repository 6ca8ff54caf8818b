"""What every use case shares: the store, the clock, the default rules, community reads.

One ``Context`` per application. The use cases (``steps``, ``community``,
``queries``, ``auditing``) each hold it and nothing else, so no use case calls
another: a command goes use case -> context -> aggregate -> store.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import Recording
from pydantic import TypeAdapter, ValidationError

from civicflow.application.commands import CommandId, Commands, validated
from civicflow.application.store import Store
from civicflow.audit.ledger import Ledger
from civicflow.audit.publishing import HeadPublisher, Transparency
from civicflow.audit.transparency import Leaf, LogTree
from civicflow.domain.community import rules
from civicflow.domain.community.areas import Area, AreaKind
from civicflow.domain.community.councils import Council
from civicflow.domain.community.directory import DIRECTORY_ID, Directory
from civicflow.domain.community.policy import Policy
from civicflow.domain.community.residents import Home, Resident, resident_uuid
from civicflow.domain.community.structure import Structure
from civicflow.domain.proposal import Proposal
from civicflow.domain.proposal_state import ProposalState
from civicflow.domain.values import ActorId
from civicflow.errors import InvalidInputError, MissingRegistrationError, ProposalNotFoundError
from civicflow.storage.errors import reading_errors, storage_errors

Clock = Callable[[], datetime]
PUBLICATIONS = (Proposal.Published, Ledger.Checkpointed)  # writes after which a head is due
_ACTOR: TypeAdapter[str] = TypeAdapter(ActorId)


def utc_now() -> datetime:
    """The real clock: now, in UTC."""
    return datetime.now(UTC)


class Context:
    """The parts a use case is composed from."""

    def __init__(
        self,
        store: Store,
        *,
        clock: Clock,
        max_clock_skew: timedelta,
        default_policy: Policy,
        community_rules: bool,
        max_attempts: int,
        transparency: Transparency | None = None,
    ) -> None:
        self.store = store
        self.commands = Commands(store, max_attempts)
        self.clock = clock
        self.max_clock_skew = max_clock_skew
        self.default_policy = default_policy
        self.community_rules = community_rules
        # The Merkle tree over the log, grown on demand (receipts, tree heads).
        self.log_tree = LogTree()
        self._log_lock = threading.Lock()
        self.publisher: HeadPublisher | None = None
        if transparency is not None:
            self.publisher = HeadPublisher(transparency, self.grown_log, clock)
            store.on_recorded = functools.partial(_count, self.publisher)

    def grown_log(self) -> LogTree:
        """The log's Merkle tree, with every record stored so far.

        Raises:
            BackendUnavailableError: the database failed while the log was read.
        """
        with self._log_lock, storage_errors("reading the log"), reading_errors():
            self.log_tree.grow(self.store.pydantic_mapper, self.store.recorder)
        return self.log_tree

    @contextlib.contextmanager
    def growing_log(self) -> Iterator[LogTree]:
        """The log's Merkle tree, held for a caller that grows it while reading the log.

        ``verify`` reads every record anyway: it adds the new ones to the tree as it
        goes, instead of a second pass over the log.
        """
        with self._log_lock:
            yield self.log_tree

    def log_record(self, aggregate_id: UUID, version: int) -> tuple[LogTree, Leaf]:
        """The grown tree, and where one record sits in it.

        Raises:
            InvalidInputError: the log holds no such record.
            BackendUnavailableError: the database failed while the log was read.
        """
        log = self.grown_log()
        with storage_errors("reading the log"), reading_errors():
            found = log.record(
                self.store.pydantic_mapper, self.store.recorder, aggregate_id, version
            )
        return log, found

    # --- time -------------------------------------------------------------------------

    def when(self, occurred_at: datetime | None) -> datetime:
        """When a step happened in the world: given, or now; never in the future.

        Raises:
            InvalidInputError: ``occurred_at`` is naive, not a datetime, or in the future.
        """
        now = self.clock()
        if occurred_at is None:
            return now
        problem = _occurrence_problem(occurred_at, now + self.max_clock_skew)
        if problem:
            raise InvalidInputError("occurred_at", [("occurred_at", problem)])
        return occurred_at

    def now_or(self, as_of: datetime | None) -> datetime:
        """The moment a query asks about: ``as_of``, or now."""
        return as_of or self.clock()

    # --- the community ------------------------------------------------------------------

    def directory(self) -> Directory | None:
        """The directory aggregate, or None before anything was registered."""
        try:
            directory: Directory = self.store.load(DIRECTORY_ID)
        except AggregateNotFoundError:
            return None
        return directory

    def structure(self) -> Structure:
        """Everything the directory knows, with history (empty before any registration)."""
        directory = self.directory()
        return directory.state if directory is not None else Structure()

    def resident(self, resident_id: str) -> Resident | None:
        """A resident's aggregate, or None for one never registered."""
        try:
            resident: Resident = self.store.load(resident_uuid(resident_id))
        except AggregateNotFoundError:
            return None
        return resident

    def home(self, resident_id: str) -> Home:
        """A resident's registrations.

        Raises:
            MissingRegistrationError: the resident was never registered.
        """
        resident = self.resident(resident_id)
        if resident is None:
            raise MissingRegistrationError(
                "resident", resident_id, "register them with register_resident()"
            )
        return resident.state

    def require_area(
        self,
        area_id: str,
        moment: datetime,
        kind: AreaKind | None = None,
        structure: Structure | None = None,
    ) -> Area:
        """The area as it stood at ``moment`` (see ``rules.require_area``)."""
        return rules.require_area(structure or self.structure(), area_id, moment, kind)

    def policy_for(self, area_id: str, moment: datetime) -> Policy:
        """The rules in force for the area at ``moment``, from the structure now."""
        return self.policy_at(self.structure(), area_id, moment)

    def policy_at(self, structure: Structure, area_id: str, moment: datetime) -> Policy:
        """The rules in force for the area then (the defaults when rules are off)."""
        if not self.community_rules:
            return self.default_policy
        return structure.policy_at(area_id, moment, self.default_policy)

    def check_resident(
        self,
        resident_id: str,
        scope_id: str,
        moment: datetime,
        step: str,
        *,
        proposal_id: UUID | None = None,
        structure: Structure | None = None,
    ) -> None:
        """Only residents registered within the scope at the time take part (rules on)."""
        if not self.community_rules:
            return
        resident = self.resident(resident_id)
        rules.check_resident(
            resident.state if resident is not None else None,
            resident_id,
            structure or self.structure(),
            scope_id=scope_id,
            moment=moment,
            step=step,
            proposal_id=proposal_id,
        )

    def check_recorder(
        self, actor: str, scope_id: str, moment: datetime, step: str, proposal_id: UUID
    ) -> None:
        """Only the council (or whom its policy names) records its sessions and decisions."""
        try:
            named = _ACTOR.validate_python(actor)  # stripped, as the event will record it
        except ValidationError:
            return  # malformed: the command itself refuses it (InvalidInputError)
        if not self.community_rules:
            return
        structure = self.structure()
        rules.check_recorder(
            structure,
            named,
            scope_id=scope_id,
            moment=moment,
            policy=self.policy_at(structure, scope_id, moment),
            step=step,
            proposal_id=proposal_id,
        )

    def deciding_members(self, scope_id: str, moment: datetime) -> frozenset[str] | None:
        """Council members within the scope then (None when rules are off)."""
        if not self.community_rules:
            return None
        return rules.deciding_members(self.structure(), scope_id, moment)

    def change_structure(
        self,
        what: str,
        command_id: UUID | str | None,
        actor: str,
        moment: datetime,
        act: Callable[[Directory], None],
    ) -> Directory:
        """Run a structure command on the directory (opening it on the first change).

        Raises:
            InvalidInputError: the command got malformed values.
            CommandOutcomeUnknownError: the store failed while writing.
        """

        def load() -> Directory:
            directory = self.directory()
            if directory is None:  # the first change opens the directory
                directory = validated(what, lambda: Directory.open(actor=actor, occurred_at=moment))
            return directory

        return self.commands.update(
            DIRECTORY_ID, what, load, act, CommandId.of(command_id), kind=Directory
        )

    def change_council(  # noqa: PLR0917 - a council command's parts, in the order callers give them
        self,
        what: str,
        command_id: UUID | str | None,
        compound_id: str,
        actor: str,
        moment: datetime,
        act: Callable[[Directory], None],
    ) -> Council:
        """Run a council command; returns the compound's council as it left it."""
        directory = self.change_structure(what, command_id, actor, moment, act)
        return directory.state.councils[compound_id][-1]  # every council command leaves one

    # --- proposals ------------------------------------------------------------------------

    def proposal(self, proposal_id: UUID, version: int | None = None) -> Proposal:
        """The proposal aggregate, now or at ``version``.

        Raises:
            ProposalNotFoundError: no such proposal.
        """
        try:
            proposal = self.store.load(proposal_id, version)
        except AggregateNotFoundError:
            raise ProposalNotFoundError(proposal_id, version) from None
        if not isinstance(proposal, Proposal):
            raise ProposalNotFoundError(proposal_id, version)
        return proposal

    def update_proposal(
        self,
        proposal_id: UUID | str,
        what: str,
        act: Callable[[Proposal], None],
        command_id: UUID | str | None = None,
    ) -> ProposalState:
        """Run ``act`` on the proposal's fresh state (re-run after a lost race).

        Raises:
            InvalidInputError: the id is not a UUID, or ``act`` got malformed values.
            ProposalNotFoundError: no such proposal.
            ConcurrencyError: every attempt lost its race.
        """
        pid = proposal_uuid(proposal_id)
        command = CommandId.of(command_id)
        load = functools.partial(self.proposal, pid)
        return self.commands.update(pid, what, load, act, command, kind=Proposal).state

    def history(self, proposal_id: UUID) -> list[Proposal.Event]:
        """Every event of the proposal, oldest first.

        Raises:
            ProposalNotFoundError: no such proposal.
        """
        events: list[Proposal.Event] = list(self.store.events.get(proposal_id))  # type: ignore[arg-type]
        if not events or not isinstance(events[0], Proposal.Asked):
            raise ProposalNotFoundError(proposal_id)
        return events


def _count(publisher: HeadPublisher, recordings: Sequence[Recording[UUID]]) -> None:
    # On the write path: a count and a type test per event; the log is read only
    # when a head is due (see audit/publishing.py).
    publication = any(isinstance(r.domain_event, PUBLICATIONS) for r in recordings)
    publisher.recorded(len(recordings), publication=publication)


def proposal_uuid(value: UUID | str) -> UUID:
    """A proposal id as given by a caller.

    Raises:
        InvalidInputError: the value is not a UUID.
    """
    if isinstance(value, UUID):
        return value
    try:
        return UUID(str(value))
    except ValueError:
        raise InvalidInputError(
            "proposal id", [("proposal_id", f"{value!r} is not a UUID")]
        ) from None


def _occurrence_problem(occurred_at: object, latest: datetime) -> str:
    if not isinstance(occurred_at, datetime):
        return "must be a datetime"
    if occurred_at.tzinfo is None or occurred_at.utcoffset() is None:
        return "must carry a time zone (a naive datetime is ambiguous)"
    if occurred_at > latest:
        return f"{occurred_at.isoformat()} is in the future"
    return ""
