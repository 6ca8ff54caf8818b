"""Protected by default: the keys and the feed of a store opened from the command line.

The key directory of a store is ``--keys DIR``, else ``CIVICFLOW_KEYS``, else, for a
SQLite file ``path.db``, the folder ``path.db.keys`` beside it. A PostgreSQL or
in-memory store has none unless one is given.

A command that makes a new store makes its keys there when none exist (see
``civicflow.audit.keys``): ``signing.key`` (0600) signs the log's tree heads,
``signing.pub`` is its public half, ``seal.key`` (0600) is the audit key that seals
every record; the feed of signed heads is ``feed.jsonl`` in the same folder. Every
command opens the store with the keys found there (the seal key as ``AUDIT_KEY``,
heads at every Publish step and checkpoint), and never overwrites a key. A store
that was made without keys stays without them: sealing its later records alone
would prove nothing of its past.

Imports no other ``civicflow.cli`` module, so that ``output`` can use it.
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from civicflow.application.flow import CivicFlow
from civicflow.audit.errors import FeedError
from civicflow.audit.feed import append_to_file, read_feed
from civicflow.audit.keys import generate_keys, load_seal_key, load_signer
from civicflow.audit.notes import TreeHead, open_checkpoint
from civicflow.audit.publishing import Transparency, last_in_feed
from civicflow.audit.signing import Verifier
from civicflow.audit.transparency import check_growth
from civicflow.errors import ConfigurationError, StoreNotFoundError
from civicflow.errors.reasons import because
from civicflow.storage.opening import prepare_store
from civicflow.storage.settings import application_env

KEYS_VARIABLE = "CIVICFLOW_KEYS"
ORIGIN_VARIABLE = "CIVICFLOW_ORIGIN"
AUDIT_KEY_VARIABLES = ("CIVICFLOW_AUDIT_KEY", "AUDIT_KEY")
FEED = "feed.jsonl"


@dataclass(frozen=True)
class Protection:
    """Where a store's keys and feed are, and whether this command made the keys."""

    directory: Path
    created: bool

    @property
    def public_key(self) -> Path:
        return self.directory / "signing.pub"

    @property
    def feed(self) -> Path:
        return self.directory / FEED

    def where(self, lang: str) -> str:
        """Lines saying where the public key and the feed are."""
        from civicflow.cli.i18n import _

        said = (
            _(
                "New keys made in {folder}: public key {public} (publish it), "
                "feed of signed heads {feed}"
            )
            if self.created
            else _(
                "Keys in {folder}: public key {public} (publish it), feed of signed heads {feed}"
            )
        )
        return said.format(folder=self.directory, public=self.public_key, feed=self.feed) + "\n"


def key_directory(db: str, keys: str | None = None) -> Path | None:
    """The key directory of the store at ``db`` (None: the store has none)."""
    given = keys or os.environ.get(KEYS_VARIABLE)
    if given:
        return Path(given)
    if urlsplit(db).scheme.lower() != "sqlite":
        return None
    path = db[len("sqlite:///") :]
    return None if path in ("", ":memory:") else Path(f"{path}.keys")


def open_flow(
    args: argparse.Namespace, *, create: bool = True, **options: Any
) -> tuple[CivicFlow, Protection | None]:
    """Open ``args.db`` with the keys of its key directory, made first for a new store.

    Raises:
        KeyFileError: a key file is open to group or others, or cannot be written.
        InvalidKeyError: a key file holds a malformed key.
        ConfigurationError: the environment sets another audit key than ``seal.key``,
            or the URL cannot be used.
        StoreNotFoundError: ``create`` is False and there is no store.
        BackendUnavailableError: the database cannot be reached.
    """
    if getattr(args, "city", None):
        from civicflow.cli.cityroute import district_store

        args.db = district_store(args)
    folder = key_directory(args.db, getattr(args, "keys", None))
    new = folder is not None and create and _is_new(args.db)
    if folder is None or not (new or (folder / "signing.key").exists()):
        return CivicFlow.open(args.db, create=create, **options), None
    created = not (folder / "signing.key").exists()
    if created:
        generate_keys(folder, _origin(args.db), seal=_outside_audit_key() is None)
    if new:
        _set_aside(folder / FEED)  # heads of an earlier log under the same keys
    env = _seal(folder)
    signer = load_signer(folder / "signing.key")
    transparency = Transparency(
        signer,
        append_to_file(folder / FEED),
        published=last_in_feed(folder / FEED, signer.verifier),
    )
    flow = CivicFlow.open(args.db, create=create, env=env, transparency=transparency, **options)
    return flow, Protection(folder, created)


def import_with_keys(
    args: argparse.Namespace,
    lines: list[str],
    verifier: Verifier | None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[int, Protection | None, TreeHead | None]:
    """Import an export into ``args.db``; a store the import made gets keys, and a head.

    The records are checked under the seal key of the key directory (or the
    environment's ``AUDIT_KEY``), the one they were sealed with. No seal key is
    made: a new one could not check records sealed elsewhere. The signing key is
    made only once the import succeeded, so a refused import writes nothing; then
    the imported log's head is published. A feed already in the key directory (its
    keys copied with the store) is kept when the imported log extends its last head,
    and set aside otherwise.

    Raises:
        as ``CivicFlow.import_into`` and ``open_flow``.
    """
    folder = key_directory(args.db, getattr(args, "keys", None))
    new = folder is not None and _is_new(args.db)
    env = _seal(folder) if folder is not None else {}
    count = CivicFlow.import_into(args.db, lines, verifier=verifier, progress=progress, env=env)
    if folder is None or not (new or (folder / "signing.key").exists()):
        return count, None, None
    created = not (folder / "signing.key").exists()
    if created:
        generate_keys(folder, _origin(args.db), seal=False)
    flow, _ = open_flow(args, create=False)
    with flow:
        if new:
            _keep_feed_if_extended(flow, folder)
        flow.publish_head()
        head = flow.last_head
    return count, Protection(folder, created), head


def _keep_feed_if_extended(flow: CivicFlow, folder: Path) -> None:
    feed = folder / FEED
    if not feed.exists() or not feed.stat().st_size:
        return
    signer = load_signer(folder / "signing.key")
    now = open_checkpoint(flow.tree_head(signer), signer.verifier)
    try:
        last = read_feed(feed, signer.verifier)[-1]
        kept = last.size <= now.size and check_growth(
            last, now, flow.consistency_proof(last.size, now.size)
        )
    except FeedError:
        kept = False
    if not kept:
        _set_aside(feed)


def _is_new(db: str) -> bool:
    try:
        prepare_store(application_env(db, CivicFlow.name), CivicFlow.name, create=False)
    except StoreNotFoundError:
        return True
    return False


def _origin(db: str) -> str:
    given = os.environ.get(ORIGIN_VARIABLE)
    if given:
        return given
    parts = urlsplit(db)
    if parts.scheme.lower() == "sqlite":
        names = [Path(parts.path).name]
    else:
        # Schemas of one database are separate stores, so separate logs: the origin names
        # the schema too, or two of them would sign heads under one name.
        names = [parts.path.strip("/"), *parse_qs(parts.query).get("schema", [])[:1]]
    cleaned = [re.sub(r"[^A-Za-z0-9._-]", "-", name) for name in names if name]
    return f"civicflow.local/{'/'.join(cleaned) or 'store'}"


def _outside_audit_key() -> str | None:
    return next((v for name in AUDIT_KEY_VARIABLES if (v := os.environ.get(name))), None)


def _seal(folder: Path) -> dict[str, str]:
    path = folder / "seal.key"
    if not path.exists():
        return {}  # the environment's audit key, if any, seals the records
    key = load_seal_key(path)
    outside = _outside_audit_key()
    if outside is not None and outside != key:
        raise ConfigurationError(
            because(
                "two audit keys: {path} and the environment's AUDIT_KEY differ; unset one",
                path=path,
            )
        )
    return {"AUDIT_KEY": key}


def _set_aside(feed: Path) -> None:
    # A new store is a new log: heads of the old one stay, under another name, for
    # whoever kept them, and the new log's feed starts empty.
    if feed.exists() and feed.stat().st_size:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        feed.rename(feed.with_name(f"feed-before-{stamp}.jsonl"))


__all__ = ["FEED", "KEYS_VARIABLE", "Protection", "import_with_keys", "key_directory", "open_flow"]
