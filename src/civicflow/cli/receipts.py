"""``civicflow receipt`` and ``civicflow check-receipt``: a resident's proof, given and checked.

``receipt`` publishes the log's head now (to the store's feed) and prints the
receipt of one record under it; ``check-receipt`` needs only the receipt and the
log's public key, no store: exit 0 when the record is in the log under a head the
log signed, 1 when it is not.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TextIO

from civicflow.audit.errors import MalformedNoteError, SignatureError
from civicflow.cli.errortext import describe
from civicflow.cli.i18n import N_, _
from civicflow.cli.options import Sub, command, output_path, witness_keys
from civicflow.errors import InvalidInputError


def register(commands: Sub) -> None:
    """Add ``receipt`` and ``check-receipt``."""
    p = command(
        commands, "receipt", "a receipt for one record: its proof under a head published now"
    )
    p.add_argument("id", help="the proposal's (or another aggregate's) id")
    p.add_argument(
        "--version", type=int, help="the record's version (default: the proposal's last)"
    )
    p.add_argument("--out", type=output_path, help="write the receipt here, not to stdout")
    p.set_defaults(run=_receipt)

    p = command(commands, "check-receipt", "check a receipt with the log's public key alone")
    p.add_argument("receipt", type=Path, help="the receipt file (JSON)")
    p.add_argument("--log-key", type=Path, required=True, help="the log's public key")
    witness_keys(p)
    p.set_defaults(run=_check)


def _receipt(a: argparse.Namespace, out: TextIO) -> int:
    from civicflow.audit.keys import load_signer
    from civicflow.cli.protection import open_flow

    flow, protection = open_flow(a, create=False)
    with flow:
        if protection is None:
            problem = N_("the store has no key directory with a signing key (--keys DIR)")
            raise InvalidInputError("keys", [("keys", problem)])
        version = a.version if a.version is not None else flow.proposal(a.id).version
        head = flow.publish_head()  # the head the receipt leads to is in the public feed
        signer = load_signer(protection.directory / "signing.key")
        text = flow.receipt(a.id, version, signer=signer, head=head).to_text() + "\n"
    if a.out is None:
        out.write(text)
    else:
        a.out.write_text(text, encoding="utf-8")
        said = _("receipt for {id} version {version} written to {file}")
        out.write(said.format(id=a.id, version=version, file=a.out) + "\n")
    return 0


def _check(a: argparse.Namespace, out: TextIO) -> int:
    from civicflow.audit.keys import load_verifier
    from civicflow.audit.transparency import Receipt, check_receipt

    receipt = Receipt.from_text(a.receipt.read_text(encoding="utf-8"))
    log = load_verifier(a.log_key)
    witnesses = [load_verifier(path) for path in a.witness_key]
    try:
        head = check_receipt(receipt, log, witnesses=witnesses)
    except (InvalidInputError, MalformedNoteError, SignatureError) as error:
        out.write(f"NOT PROVEN: {describe(error)}\n")  # the verdict stays a code
        return 1
    said = _("{id} version {version} ({event}) is record {n} of {size} in the log {log}, unaltered")
    event = receipt.topic.rsplit(":", 1)[-1]
    out.write(
        "OK: "
        + said.format(
            id=receipt.id,
            version=receipt.version,
            event=event,
            n=receipt.index + 1,
            size=head.size,
            log=head.origin,
        )
        + "\n"
    )
    return 0
