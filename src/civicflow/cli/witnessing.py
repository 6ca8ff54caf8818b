"""``civicflow witness init|cosign`` and ``civicflow consistency``: heads checked, then co-signed.

The log side prints a consistency proof between two sizes (``consistency``); the
witness side (the inspection office) keeps its key and the last head it co-signed
per log in a directory, and co-signs a new head only when it extends that one
(``civicflow.audit.witness``). The co-signed note goes to stdout, or is appended
to a feed with ``--append``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from civicflow.audit.errors import WitnessError
from civicflow.cli.i18n import N_, _
from civicflow.cli.options import Sub, actions, command, finish, require
from civicflow.cli.output import reading
from civicflow.errors import InvalidInputError

if TYPE_CHECKING:
    from civicflow.application.flow import CivicFlow
    from civicflow.audit.signing import Verifier
    from civicflow.audit.witness import Proof, Witness


def register(commands: Sub) -> None:
    """Add ``witness init``, ``witness cosign`` and ``consistency``."""
    p = command(
        commands, "witness", "a witness that co-signs only heads extending the last", leaf=False
    )
    group = actions(p)
    a = group.add_parser("init", help="make a witness: its key (0600) and public key")
    a.add_argument("--dir", type=Path, required=True, help="the witness's directory")
    a.add_argument(
        "--name", required=True, help="the witness's key name, e.g. inspection.example/d1"
    )
    a.set_defaults(run=_init)
    a = group.add_parser(
        "cosign", help="check a head against the last one co-signed, then co-sign it"
    )
    a.add_argument("--dir", type=Path, required=True, help="the witness's directory")
    a.add_argument("--log-key", type=Path, required=True, help="the log's public key")
    a.add_argument("--head", type=Path, required=True, help="the signed head (note file)")
    a.add_argument(
        "--proof",
        type=Path,
        help="the consistency proof (civicflow consistency); default: computed from --db",
    )
    a.add_argument("--append", type=Path, metavar="FEED", help="also append the note to this feed")
    a.set_defaults(run=_cosign)
    finish(group)

    p = command(commands, "consistency", "a consistency proof between two sizes of the log")
    p.add_argument("--from", dest="old", type=int, required=True, help="the older size")
    p.add_argument("--to", dest="new", type=int, help="the newer size (default: the whole log)")
    p.set_defaults(run=reading(_consistency))


def _init(a: argparse.Namespace, out: TextIO) -> int:
    from civicflow.audit.witness import init_witness

    verifier = init_witness(a.dir, a.name)
    said = _("witness {key}: public key {file} (publish it)")
    out.write(said.format(key=verifier.key, file=a.dir / "witness.pub") + "\n")
    return 0


def _cosign(a: argparse.Namespace, out: TextIO) -> int:
    from civicflow.audit.feed import append_to_file
    from civicflow.audit.keys import load_verifier
    from civicflow.audit.witness import Proof, Witness

    witness = Witness(a.dir)
    log = load_verifier(a.log_key)
    note = a.head.read_text(encoding="utf-8")
    if a.proof is not None:
        proof: Proof | None = Proof.parse(a.proof.read_text(encoding="utf-8"))
    else:
        proof = _proof_from_store(a, witness, note, log)
    cosigned = witness.cosign(note, log, proof)
    if a.append is not None:
        append_to_file(a.append)(cosigned)
    out.write(cosigned)
    return 0


def _proof_from_store(
    a: argparse.Namespace, witness: Witness, note: str, log: Verifier
) -> Proof | None:
    """The proof from the last head co-signed to ``note``'s, read from the store at ``--db``.

    Only when one is needed: the first head, or the same head again, needs none
    (and then the store is not opened at all).
    """
    from civicflow.audit.notes import open_checkpoint
    from civicflow.audit.witness import Proof
    from civicflow.cli.protection import open_flow

    head = open_checkpoint(note, log)
    seen = witness.last(head.origin)
    if seen is None or head.size <= seen.head.size:
        return None
    flow, _keys = open_flow(a, create=False)
    with flow:
        try:
            hashes = flow.consistency_proof(seen.head.size, head.size)
        except InvalidInputError as error:
            reason = _("the store at --db cannot prove size {new} from {old} ({error})").format(
                new=head.size, old=seen.head.size, error=error
            )
            raise WitnessError(reason, head.origin) from None
    return Proof(seen.head.size, tuple(hashes))


def _consistency(flow: CivicFlow, a: argparse.Namespace) -> str:
    from civicflow.audit.witness import Proof

    require(a.old >= 0, "from", N_("a size is 0 or more"))
    return Proof(a.old, tuple(flow.consistency_proof(a.old, a.new))).to_text()
