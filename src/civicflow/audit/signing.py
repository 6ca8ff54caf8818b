"""Note keys: the Ed25519 signers and verifiers of signed notes, and their key strings.

Key strings are Go's (``golang.org/x/mod/sumdb/note``), so keys move between
civicflow and the Go tools unchanged: a verifier key is ``<name>+<8 hex key
id>+<base64(0x01 || public key)>``, a signer key ``PRIVATE+KEY+<name>+<8 hex key
id>+<base64(0x01 || seed)>``, with key id = the first four bytes of SHA-256(name ||
0x0A || 0x01 || public key) (https://c2sp.org/signed-note). A signer key is a
secret: no repr or error message ever shows it (``audit.keys`` keeps it in files).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from civicflow.audit.errors import InvalidKeyError, because

ED25519 = 0x01  # the signature type byte of Ed25519 note signatures
DASH = "— "  # an em dash (U+2014) and a space: how a signature line starts
KEY_SIZE = 32  # an Ed25519 public key, and a seed
_HEX_ID = re.compile(r"[0-9a-f]{8}")


def valid_name(name: str) -> bool:
    """Whether ``name`` may name a key: not empty, no space of any kind, no ``+``."""
    return bool(name) and "+" not in name and not any(c.isspace() for c in name)


def key_id(name: str, public_key: bytes) -> int:
    """The key id of an Ed25519 key: SHA-256(name, newline, 0x01, key), first four bytes."""
    digest = hashlib.sha256(name.encode() + b"\n" + bytes([ED25519]) + public_key).digest()
    return int.from_bytes(digest[:4], "big")


def b64decode(text: str) -> bytes | None:
    """Standard base64 with padding, in its one canonical spelling, or None."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        return None
    return raw if base64.b64encode(raw).decode() == text else None


def b64encode(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


@dataclass(frozen=True)
class Verifier:
    """The public half of a note key: checks the signatures made with it."""

    name: str
    public_key: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not valid_name(self.name):
            raise InvalidKeyError(
                "verifier", because("a key name is non-empty, without spaces or '+'")
            )
        if len(self.public_key) != KEY_SIZE:
            raise InvalidKeyError("verifier", because("an Ed25519 public key is 32 bytes"))

    @property
    def key_id(self) -> int:
        return key_id(self.name, self.public_key)

    @property
    def key(self) -> str:
        """``name+key id``, how errors and reports name this key."""
        return f"{self.name}+{self.key_id:08x}"

    @classmethod
    def from_key_string(cls, text: str) -> Verifier:
        """Read a verifier key, ``<name>+<8 hex>+<base64(0x01 || public key)>``.

        Raises:
            InvalidKeyError: the string is malformed, not Ed25519, or its id is wrong.
        """
        parts = text.split("+", 2)  # the base64 key may hold '+', a name never does
        if len(parts) != 3 or not _HEX_ID.fullmatch(parts[1]):
            raise InvalidKeyError(
                "verifier", because("expected <name>+<8 hex digits>+<base64 key>")
            )
        raw = _key_bytes("verifier", parts[2])
        verifier = cls(parts[0], raw)
        if f"{verifier.key_id:08x}" != parts[1]:
            raise InvalidKeyError("verifier", because("the key id does not match the name and key"))
        return verifier

    def key_string(self) -> str:
        """This key as a verifier key string, safe to publish."""
        return f"{self.key}+{b64encode(bytes([ED25519]) + self.public_key)}"

    def verify(self, text: str, signature: bytes) -> bool:
        """Whether ``signature`` (without its key id) signs ``text`` under this key."""
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, text.encode())
        except InvalidSignature:
            return False
        return True


class Signer:
    """The private half of a note key; its string form is a secret (see ``audit.keys``)."""

    def __init__(self, name: str, seed: bytes) -> None:
        if not valid_name(name):
            raise InvalidKeyError(
                "signer", because("a key name is non-empty, without spaces or '+'")
            )
        if len(seed) != KEY_SIZE:
            raise InvalidKeyError("signer", because("an Ed25519 seed is 32 bytes"))
        self._private = Ed25519PrivateKey.from_private_bytes(seed)
        public = self._private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.verifier = Verifier(name, public)
        self.name = name

    def __repr__(self) -> str:
        return f"Signer({self.verifier.key!r})"

    @classmethod
    def generate(cls, name: str) -> Signer:
        """A new random key named ``name`` (a log's origin, or a witness's name)."""
        private = Ed25519PrivateKey.generate()
        return cls(name, private.private_bytes_raw())

    @classmethod
    def from_key_string(cls, text: str) -> Signer:
        """Read a signer key, ``PRIVATE+KEY+<name>+<8 hex>+<base64(0x01 || seed)>``.

        Raises:
            InvalidKeyError: the string is malformed, not Ed25519, or its id is wrong.
        """
        parts = text.split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"] or not _HEX_ID.fullmatch(parts[3]):
            raise InvalidKeyError(
                "signer", because("expected PRIVATE+KEY+<name>+<8 hex>+<base64 seed>")
            )
        signer = cls(parts[2], _key_bytes("signer", parts[4]))
        if f"{signer.verifier.key_id:08x}" != parts[3]:
            raise InvalidKeyError("signer", because("the key id does not match the name and key"))
        return signer

    def key_string(self) -> str:
        """This key as a signer key string: keep it secret."""
        seed = self._private.private_bytes_raw()
        return f"PRIVATE+KEY+{self.verifier.key}+{b64encode(bytes([ED25519]) + seed)}"

    def sign(self, text: str) -> str:
        """The signature line of ``text`` (a note's text, ending in a newline)."""
        raw = self.verifier.key_id.to_bytes(4, "big") + self._private.sign(text.encode())
        return f"{DASH}{self.name} {b64encode(raw)}\n"


def _key_bytes(kind: str, text: str) -> bytes:
    raw = b64decode(text)
    if raw is None or len(raw) != KEY_SIZE + 1:
        raise InvalidKeyError(kind, because("the key is not base64 of 33 bytes"))
    if raw[0] != ED25519:
        raise InvalidKeyError(
            kind,
            because("unknown signature type {type} (0x01 is Ed25519)", type=format(raw[0], "#04x")),
        )
    return raw[1:]
