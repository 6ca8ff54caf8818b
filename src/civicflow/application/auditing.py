"""Use cases of the audit: trails, the past as recorded, checkpoints, verification, exports.

See ``docs/audit.md``. The audit package does the work on the stored log;
these use cases hand it the store's mapper and recorder.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import IO
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from civicflow.application.boundary import UseCases, public
from civicflow.application.commands import CommandId, validated
from civicflow.application.context import proposal_uuid
from civicflow.audit import assurance, checkpointing, export, trail, verification
from civicflow.audit.ledger import LEDGER_ID, Checkpoint, Ledger
from civicflow.audit.notes import TreeHead, sign_checkpoint
from civicflow.audit.publishing import head_line
from civicflow.audit.signing import Signer, Verifier
from civicflow.audit.trail import AuditEntry
from civicflow.audit.transparency import Receipt, issue_receipt
from civicflow.audit.verification import Verification
from civicflow.domain.proposal_state import ProposalState
from civicflow.errors import ConfigurationError, ProposalNotFoundError
from civicflow.errors.reasons import because
from civicflow.storage.errors import reading_errors, storage_errors


class Auditing(UseCases):
    """Explain a decision years later, and prove the record unaltered."""

    @public
    def audit_trail(
        self, proposal_id: UUID | str, *, as_of: datetime | None = None
    ) -> list[AuditEntry]:
        """Every event of the proposal with actor, times, stages and a line in zh and en.

        With ``as_of``, only what the store had recorded by that moment.

        Raises:
            BackendUnavailableError: the database failed while the log was read.
            InvalidInputError: the id is not a UUID.
            ProposalNotFoundError: no such proposal.
        """
        events = self._ctx.history(proposal_uuid(proposal_id))
        if as_of is not None:
            events = [e for e in events if e.timestamp <= as_of]
        return trail.trail(events)

    @public
    def audit_document(self, proposal_id: UUID | str, *, lang: str = "en") -> str:
        """The audit trail as a Markdown document (``lang``: en or zh).

        With a transparency policy, it ends with the last head this application
        published (its size and root), for the notice board.

        Raises:
            BackendUnavailableError: the database failed while the log was read.
            InvalidInputError: the id is not a UUID.
            ProposalNotFoundError: no such proposal.
        """
        pid = proposal_uuid(proposal_id)
        title = self._ctx.proposal(pid).state.title
        document = trail.markdown(title, trail.trail(self._ctx.history(pid)), lang)
        head = self.last_head
        return document if head is None else f"{document}\n{head_line(head, lang)}\n"

    @public
    def proposal_as_of(self, proposal_id: UUID | str, moment: datetime) -> ProposalState:
        """The proposal as the store knew it at ``moment`` (by recording time).

        Raises:
            BackendUnavailableError: the database failed while the log was read.
            InvalidInputError: the id is not a UUID.
            ProposalNotFoundError: nothing about it had been recorded by then.
        """
        pid = proposal_uuid(proposal_id)
        known = [e.originator_version for e in self._ctx.history(pid) if e.timestamp <= moment]
        if not known:
            raise ProposalNotFoundError(pid)
        return self._ctx.proposal(pid, known[-1]).state

    @public
    def checkpoint(
        self,
        *,
        actor: str,
        occurred_at: datetime | None = None,
        command_id: UUID | str | None = None,
    ) -> Checkpoint:
        """Seal the log so far; publish the returned ``digest`` with the results (晒).

        Raises:
            CommandOutcomeUnknownError: the store failed while writing; retry with the same
                ``command_id`` (always safe).
            InvalidInputError: the actor is missing or the moment malformed.
            ConcurrencyError: other checkpoints kept being taken at the same time.
        """
        moment = self._ctx.when(occurred_at)
        store = self._ctx.store

        def load() -> Ledger:
            try:
                ledger: Ledger = store.load(LEDGER_ID)
            except AggregateNotFoundError:
                ledger = validated(
                    "checkpoint", lambda: Ledger.open(actor=actor, occurred_at=moment)
                )
            return ledger

        def seal(ledger: Ledger) -> None:
            last = ledger.checkpoints[-1] if ledger.checkpoints else None
            log = checkpointing.seal_log(store.pydantic_mapper, store.recorder, last)
            ledger.checkpoint(
                sealed=log["sealed"],
                up_to=log["up_to"],
                digest=log["digest"],
                manifest=log["manifest"],
                actor=actor,
                occurred_at=moment,
            )

        command = CommandId.of(command_id)
        update = self._ctx.commands.update
        ledger = update(LEDGER_ID, "checkpoint", load, seal, command, kind=Ledger)
        return ledger.checkpoints[-1]

    @public
    def checkpoints(self) -> tuple[Checkpoint, ...]:
        """Every checkpoint taken, oldest first.

        Raises:
            BackendUnavailableError: the database failed.
        """
        try:
            ledger: Ledger = self._ctx.store.load(LEDGER_ID)
        except AggregateNotFoundError:
            return ()
        return ledger.checkpoints

    @public
    def verify(
        self,
        published: Mapping[int, str] | None = None,
        *,
        heads: Iterable[TreeHead | str] = (),
        log_key: Verifier | None = None,
        witnesses: Iterable[Verifier] = (),
        progress: Callable[[int, int], None] | None = None,
    ) -> Verification:
        """Check every seal, chain, checkpoint and snapshot, and the store against ``heads``.

        ``published`` maps checkpoint numbers to the digests published for them.
        ``heads`` are published tree heads: signed checkpoint notes, opened with
        ``log_key`` (and co-signed by each of ``witnesses``), or ``TreeHead`` objects
        already verified (``civicflow.audit.feed.read_feed`` returns those). The
        result's ``assurance`` says what a clean result proves; ``progress``: per page read.

        Raises:
            MalformedNoteError, SignatureError: a head note is malformed, or not signed
                by ``log_key`` and every witness.
            InvalidInputError: head notes were given without ``log_key``.
            BackendUnavailableError: the database failed while the log was read.
            ConfigurationError: the store is not configured with civicflow's mapper.
        """
        store = self._ctx.store
        opened, mapper = (
            assurance.opened_heads(heads, log_key, tuple(witnesses)),
            store.pydantic_mapper,
        )
        checkpoints, problems = assurance.readable_checkpoints(self.checkpoints)
        with self._ctx.growing_log() as log, storage_errors("reading the log"), reading_errors():
            base = verification.verify(
                mapper, store.recorder, checkpoints, published, tree=log, progress=progress
            )
            problems = list(base.problems) + problems
            if store.snapshots is not None:
                problems += assurance.check_snapshots(mapper, store.recorder, store.snapshots)
            found, proven = assurance.check_heads(log, opened)
        problems += found
        said = assurance.assurance(
            keyed=base.keyed, heads=len(opened), proven=proven, records=log.size
        )
        return base.model_copy(
            update={
                "ok": not problems,
                "problems": tuple(problems),
                "heads": len(opened),
                "proven": proven,
                "assurance": said,
            }
        )

    @public
    def log_head(self, origin: str, size: int | None = None) -> TreeHead:
        """The log's tree head now (or of its first ``size`` records), unsigned, named
        ``origin``: for a signer of its own (a city head lists its districts' logs so).

        Raises:
            InvalidInputError: ``size`` is larger than the log.
            BackendUnavailableError: the database failed while the log was read.
        """
        return self._ctx.grown_log().head(origin, size)

    @public
    def tree_head(self, signer: Signer) -> str:
        """The log's tree head now, signed: a C2SP checkpoint note (size and Merkle root).

        Publish it (a feed, the notice board): anyone can check it, and every receipt
        and later head against it, with the public key alone.

        Raises:
            BackendUnavailableError: the database failed while the log was read.
        """
        return sign_checkpoint(self._ctx.grown_log().head(signer.name), signer)

    @property
    def last_head(self) -> TreeHead | None:
        """The last tree head this application appended to its feed (None: none yet)."""
        publisher = self._ctx.publisher
        return publisher.last if publisher is not None else None

    @public
    def publish_head(self) -> str:
        """Sign the log's tree head now and append it to the transparency feed.

        The policy does this by itself after publications and every N records or T
        minutes; call it to publish at other moments (after a bulk import, say).
        Returns the signed note.

        Raises:
            ConfigurationError: the application has no transparency policy.
            BackendUnavailableError: the database failed while the log was read.
            FeedError: the feed could not be appended to.
        """
        publisher = self._ctx.publisher
        if publisher is None:
            raise ConfigurationError(because("no transparency policy: CivicFlow(transparency=...)"))
        return publisher.publish()

    @public
    def receipt(
        self,
        aggregate_id: UUID | str,
        version: int,
        *,
        signer: Signer,
        head: str | None = None,
    ) -> Receipt:
        """A receipt for one stored record: its inclusion proof under a signed head.

        Under ``head`` (a published checkpoint note) if given, else under a head signed
        now. A resident checks it with ``civicflow.audit.transparency.check_receipt``
        and the log's public key alone.

        Raises:
            InvalidInputError: the id is malformed, the log holds no such record, or
                ``head`` does not cover it.
            MalformedNoteError, SignatureError: ``head`` is not the signer's checkpoint.
            BackendUnavailableError: the database failed while the log was read.
        """
        aggregate = proposal_uuid(aggregate_id)
        log, record = self._ctx.log_record(aggregate, version)
        return issue_receipt(log, signer, record, head)

    @public
    def export_events(
        self,
        out: IO[str],
        *,
        signer: Signer | None = None,
        heads: Iterable[str] = (),
        progress: Callable[[int, int], None] | None = None,
    ) -> int:
        """Write the whole log as a v2 events export; returns how many records.

        The file ends in a trailer with the count and Merkle root of the records;
        with ``signer``, also their checkpoint signed by it, and ``heads`` (published
        checkpoint notes of this log) for an importer to check. See
        ``civicflow.audit.exportfile`` and ``docs/audit.md``. ``progress(done, total)``
        is called after each page of the log written.

        Raises:
            BackendUnavailableError: the database failed while the log was read.
            ConfigurationError: the store is not configured with civicflow's mapper.
            InvalidInputError: a head is not a checkpoint of this log.
        """
        store = self._ctx.store
        return export.export_events(
            store.pydantic_mapper,
            store.recorder,
            out,
            signer=signer,
            heads=heads,
            progress=progress,
        )

    @public
    def import_events(
        self,
        lines: Iterable[str],
        *,
        verifier: Verifier | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> int:
        """Check an events export whole, then load it into this (empty) store; returns how many.

        Before anything is written: positions in order, versions without gaps or
        repeats, seals (under this store's ``AUDIT_KEY``) and chains, and for a v2
        file the trailer's count and Merkle root; with ``verifier``, the trailer's
        checkpoint must be signed by it. ``progress(done, total)`` is called once the
        file is checked, then after each statement writing the records.

        Raises:
            RuleViolationError: the store is not empty.
            ImportRefusedError: a check failed; it names the first bad line. Nothing
                was written.
            InvalidInputError: the database refused the records; none were imported.
            BackendUnavailableError: the database failed; the records go in one
                transaction, so none was imported (if it failed while the import
                committed, the import may have been written: the store is then not
                empty, and importing again says so).
        """
        store = self._ctx.store
        return export.import_events(
            store.pydantic_mapper, store.recorder, lines, verifier=verifier, progress=progress
        )

    @public
    def copy_log_from(
        self, source: Auditing, *, after: int | None = None, up_to: int | None = None
    ) -> int:
        """Copy the records of ``source`` (another application) into this store.

        All of them into an empty store, or those at positions after ``after`` (and up
        to ``up_to``; ``after=0``: from the first) appended to this one, where they must
        continue its histories.
        Streamed, in one transaction: all or nothing, in bounded memory. Records keep
        their seals (open both with the same ``AUDIT_KEY``) and are re-packed for this
        store's compression and encryption. Nothing is checked: for a trusted source,
        such as a store this process just built (the demo builds in memory, then
        copies); a file goes through ``import_events``, which checks everything.
        Returns how many records were copied.

        Raises:
            RuleViolationError: a whole log, and this store is not empty.
            InvalidInputError: this store already holds one of the records.
            BackendUnavailableError: a database failed; nothing was copied.
        """
        here, there = self._ctx.store, source._ctx.store
        return export.copy_log(
            (there.pydantic_mapper, there.recorder),
            (here.pydantic_mapper, here.recorder),
            after=after,
            up_to=up_to,
        )

    @public
    def copy_aggregates_from(self, source: Auditing, aggregate_ids: Iterable[UUID]) -> int:
        """Copy every record of the aggregates ``aggregate_ids`` from ``source`` into this store.

        Appended in one transaction, each aggregate's in version order; as trusting as
        ``copy_log_from`` (records keep their seals; nothing is checked). The demo
        seeds each in-memory stretch with the residents it reads this way.
        Returns how many records were copied.

        Raises:
            InvalidInputError: this store already holds one of the records.
            BackendUnavailableError: a database failed; nothing was copied.
        """
        here, there = self._ctx.store, source._ctx.store
        return export.copy_aggregates(
            (there.pydantic_mapper, there.recorder),
            (here.pydantic_mapper, here.recorder),
            aggregate_ids,
        )

    @public
    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """The proof (RFC 9162) that the log's first ``old_size`` records are a prefix
        of its first ``new_size`` (all of them by default), for a witness to check.

        ``civicflow.audit.witness.Witness.cosign`` takes it as ``Proof(old_size, hashes)``.

        Raises:
            InvalidInputError: a size is negative, above the log's size, or ``old_size``
                is above ``new_size``.
            BackendUnavailableError: the database failed while the log was read.
        """
        return self._ctx.grown_log().tree.consistency_proof(old_size, new_size)
