"""Key material, kept outside the database: the log's signing key and the audit seal key.

Someone who can write to the database must not be able to sign tree heads or seal
records, so both keys live in files (or in the environment) of the process that
writes, never in a table:

- ``signing.key``: the log's Ed25519 note key, a Go signer key string
  (``PRIVATE+KEY+<origin>+<id>+<base64>``), mode 0600;
- ``signing.pub``: its verifier key string, world-readable: publish it with the feed;
- ``seal.key``: the HMAC key that seals each stored record, the value of the
  ``AUDIT_KEY`` setting (see ``domain/integrity.py``), mode 0600.

A key file that group or others may read is refused rather than used: a key that
may have leaked is a key to replace, not to keep using quietly. Key files are
created once and never overwritten, so a second ``generate_keys`` cannot destroy
the key that signed every published head.

The key name of the log is its **origin**, the first line of each tree head. C2SP
recommends a schema-less URL that needs not resolve: we suggest the community's
domain and the district, e.g. ``civicflow.example/district-1``, so two districts'
logs (or a test log and the real one) can never be mistaken for each other.
"""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from civicflow.audit.errors import InvalidKeyError, KeyFileError, because, reason_of
from civicflow.audit.signing import Signer, Verifier, valid_name
from civicflow.errors import ConfigurationError

SIGNING_KEY_VARIABLE = "CIVICFLOW_SIGNING_KEY"
PRIVATE_MODE = 0o600
PUBLIC_MODE = 0o644


@dataclass(frozen=True)
class KeyPaths:
    """Where ``generate_keys`` wrote the keys."""

    signing_key: Path
    verifier_key: Path
    seal_key: Path | None


def generate_keys(directory: str | Path, origin: str, *, seal: bool = True) -> KeyPaths:
    """A new signing key for the log ``origin`` (and a seal key), written to ``directory``.

    Raises:
        KeyFileError: one of the key files already exists (nothing is overwritten).
        InvalidKeyError: ``origin`` cannot name a key (empty, a space or a ``+``).
    """
    if not valid_name(origin):
        raise InvalidKeyError("signer", because("an origin is non-empty, without spaces or '+'"))
    folder = Path(directory)
    paths = KeyPaths(
        folder / "signing.key", folder / "signing.pub", folder / "seal.key" if seal else None
    )
    for path in (paths.signing_key, paths.verifier_key, paths.seal_key):
        if path is not None and path.exists():
            raise KeyFileError(
                str(path), because("already exists; key files are never overwritten")
            )
    folder.mkdir(parents=True, exist_ok=True)
    signer = Signer.generate(origin)
    write_signing_key(paths.signing_key, signer)
    write_verifier_key(paths.verifier_key, signer.verifier)
    if paths.seal_key is not None:
        write_secret(paths.seal_key, secrets.token_urlsafe(32))
    return paths


def write_signing_key(path: str | Path, signer: Signer) -> None:
    """Write ``signer``'s key string to a new file that only its owner can read.

    Raises:
        KeyFileError: the file already exists.
    """
    write_secret(path, signer.key_string())


def write_verifier_key(path: str | Path, verifier: Verifier) -> None:
    """Write the public verifier key string to a new world-readable file.

    Raises:
        KeyFileError: the file already exists.
    """
    _create(Path(path), verifier.key_string(), PUBLIC_MODE)


def write_secret(path: str | Path, value: str) -> None:
    """Write a secret to a new file of mode 0600, synced to disk.

    Raises:
        KeyFileError: the file already exists.
    """
    _create(Path(path), value, PRIVATE_MODE)


def read_secret(path: str | Path) -> str:
    """A secret from a key file that only its owner may read (its text, stripped).

    Raises:
        KeyFileError: the file is missing, not a regular file, readable or writable
            by group or others, or not text.
    """
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except OSError as error:
        raise KeyFileError(
            str(path), because("cannot be opened ({problem})", problem=reason_of(error))
        ) from None
    try:
        _check_private(path, os.fstat(descriptor).st_mode)  # the file opened, not a name
        with os.fdopen(descriptor, "rb", closefd=False) as file:
            return _text(path, file.read())
    finally:
        os.close(descriptor)


def _check_private(path: str | Path, mode: int) -> None:
    if not stat.S_ISREG(mode):
        raise KeyFileError(str(path), because("is not a regular file"))
    if mode & 0o077:
        raise KeyFileError(
            str(path),
            because(
                "has mode {mode}, open to group or others; a key that may have been read "
                "must be replaced (chmod 600 only if you are sure it was not)",
                mode=format(stat.S_IMODE(mode), "04o"),
            ),
        )


def load_signer(path: str | Path | None = None, *, env: Mapping[str, str] | None = None) -> Signer:
    """The log's signer, from a key file, else from ``CIVICFLOW_SIGNING_KEY``.

    Raises:
        KeyFileError: the key file is missing or open to group or others.
        InvalidKeyError: the key string is malformed.
        ConfigurationError: no path is given and the variable is not set.
    """
    if path is not None:
        return Signer.from_key_string(read_secret(path))
    value = (os.environ if env is None else env).get(SIGNING_KEY_VARIABLE, "").strip()
    if not value:
        raise ConfigurationError(
            because(
                "no signing key: give a key file, or set {variable} to a "
                "PRIVATE+KEY+... string (see generate_keys)",
                variable=SIGNING_KEY_VARIABLE,
            )
        )
    return Signer.from_key_string(value)


def load_verifier(path: str | Path) -> Verifier:
    """A verifier from a public key file (any mode: it is public).

    Raises:
        KeyFileError: the file is missing or not text.
        InvalidKeyError: the key string is malformed.
    """
    try:
        raw = Path(path).read_bytes()
    except OSError as error:
        raise KeyFileError(
            str(path), because("cannot be read ({problem})", problem=reason_of(error))
        ) from None
    return Verifier.from_key_string(_text(path, raw))


def load_seal_key(path: str | Path) -> str:
    """The audit seal key (the ``AUDIT_KEY`` setting) from its key file.

    Raises:
        KeyFileError: the file is missing or open to group or others.
    """
    return read_secret(path)


def _create(path: Path, text: str, mode: int) -> None:
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_MODE)
    except FileExistsError:
        raise KeyFileError(
            str(path), because("already exists; key files are never overwritten")
        ) from None
    except OSError as error:
        raise KeyFileError(
            str(path), because("cannot be created ({problem})", problem=reason_of(error))
        ) from None
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        os.fchmod(file.fileno(), mode)  # the umask may have narrowed it; .pub is public
        file.write(f"{text}\n")
        file.flush()
        os.fsync(file.fileno())


def _text(path: str | Path, raw: bytes) -> str:
    try:
        return raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise KeyFileError(str(path), because("is not a text key file")) from None
