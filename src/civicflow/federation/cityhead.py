"""The city head: one signed note that fixes every district's history at once.

Each district keeps its own log, its own Merkle tree and its own signed heads. The
city's key signs a note that lists, for every district, the size and the Merkle root
of its log when the head was made:

```
Shanyang City                      <- the city key's name (its origin)
civicflow city head
beilin 39205 <base64 root>
shanyang 41877 <base64 root>
```

Whoever holds a published city head and the city's public key can check any district's
store against it with no other secret (``check_district``): a record of a district
altered, deleted, inserted or reordered below its listed size changes that root. A
new city head is refused when a district's log no longer extends the size and root the
last city head listed (a rollback or a rewrite): the city never signs a second history.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from civicflow.audit.errors import MalformedNoteError
from civicflow.audit.merkle import HASH_SIZE
from civicflow.audit.notes import TreeHead, open_note, sign_note
from civicflow.audit.signing import Signer, Verifier

KIND = "civicflow city head"


@dataclass(frozen=True)
class DistrictHead:
    """One district's log as a city head lists it."""

    name: str
    size: int
    root: bytes

    def tree_head(self) -> TreeHead:
        """The same commitment as a tree head, for a store's ``verify(heads=...)``."""
        return TreeHead(self.name, self.size, self.root)


@dataclass(frozen=True)
class CityHead:
    """What a city head says: the city (its key's name) and each district's log."""

    origin: str
    districts: tuple[DistrictHead, ...]

    def body(self) -> str:
        lines = [self.origin, KIND]
        lines += [f"{d.name} {d.size} {base64.b64encode(d.root).decode()}" for d in self.districts]
        return "".join(f"{line}\n" for line in lines)

    def district(self, name: str) -> DistrictHead | None:
        return next((d for d in self.districts if d.name == name), None)

    def sign(self, signer: Signer) -> str:
        """The signed note; the city key's name must be the origin.

        Raises:
            MalformedNoteError: the origin is not the signer's name.
        """
        if signer.name != self.origin:
            raise MalformedNoteError(
                f"the city head's origin {self.origin!r} is not {signer.name!r}"
            )
        return sign_note(self.body(), signer)

    @classmethod
    def open(cls, note: str | bytes, city: Verifier) -> CityHead:
        """A city head signed by ``city``, read strictly.

        Raises:
            MalformedNoteError: the note or its lines are malformed, or its origin is
                not the city key's name.
            SignatureError: the city's signature is missing or does not verify.
        """
        text = open_note(note, [city], required=[city]).text
        return cls.parse(text, city.name)

    @classmethod
    def parse(cls, text: str, origin: str) -> CityHead:
        lines = text.removesuffix("\n").split("\n")
        if len(lines) < 2 or lines[0] != origin or lines[1] != KIND:
            raise MalformedNoteError(f"not a city head of {origin!r}", 1)
        districts = tuple(_district(line, number) for number, line in enumerate(lines[2:], 3))
        if len({d.name for d in districts}) != len(districts):
            raise MalformedNoteError("a district is listed twice")
        return cls(origin, districts)


def _district(line: str, number: int) -> DistrictHead:
    parts = line.split(" ")
    if len(parts) != 3 or not parts[1].isdigit() or str(int(parts[1])) != parts[1]:
        raise MalformedNoteError("a district line is: name, size, base64 root", number)
    try:
        root = base64.b64decode(parts[2], validate=True)
    except binascii.Error:
        root = b""
    if len(root) != HASH_SIZE or base64.b64encode(root).decode() != parts[2]:
        raise MalformedNoteError("the root is not canonical base64 of 32 bytes", number)
    return DistrictHead(parts[0], int(parts[1]), root)
