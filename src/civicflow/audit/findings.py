"""What a verification finds: each problem with the store, and the report as a whole."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Problem(BaseModel):
    """One thing wrong with the store."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: str  # altered, deleted, inserted, reordered, checkpoint, published, unreadable
    aggregate: str  # Proposal, Directory, Resident, Ledger, or "log" for the whole log
    aggregate_id: str | None = None
    version: int | None = None
    position: int | None = None  # notification id in the log
    detail: str


class Verification(BaseModel):
    """What ``verify`` found: ``ok`` when nothing is wrong."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ok: bool
    keyed: bool  # False: no audit key, so anyone who can write could forge the chains
    events: int
    checkpoints: int
    problems: tuple[Problem, ...]
    heads: int = 0  # published tree heads checked
    proven: int = 0  # records covered by the largest head the store matches
    assurance: str = ""  # what a clean result proves, in a sentence
