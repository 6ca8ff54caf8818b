"""What the view tables hold of names, ids and text when the store is encrypted at rest.

With a cipher configured (``CIPHER_KEY``), the events are encrypted, and so is what
the views keep of them. Each column gets the weakest form its queries still work on:

- **Pseudonyms** for ids that queries only compare, group and count (residents, and
  the areas a fact is placed in): an HMAC-SHA256 under a key derived from
  ``CIPHER_KEY`` with a label of its own, 128 bits in base64 (22 characters). Equal
  ids give equal pseudonyms, so ``GROUP BY`` and ``COUNT(DISTINCT ...)`` give the
  same figures, and the indexes stay as small and as fast. An area's pseudonym is
  turned back into its id through the structure, which the views hold encrypted.
- **Ciphertext** (the store's own cipher, AES-GCM with a fresh nonce each time, in
  base64) for what is returned or read back whole and never compared: titles,
  categories, a proposal's scope, the structure (area names, council members,
  policies) and the residents' homes.

Without a cipher nothing changes: ``PLAIN`` leaves every row as it is.
"""

from __future__ import annotations

import hmac
from base64 import b64decode, b64encode, urlsafe_b64encode
from dataclasses import replace
from hashlib import sha256
from typing import TYPE_CHECKING, Any

import orjson

from civicflow.errors import ConfigurationError, ViewsEncryptionError
from civicflow.views.homes import SpanMaker, Spans, spans_of

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from eventsourcing.persistence import Cipher

    from civicflow.application.flow import CivicFlow
    from civicflow.views.rows import Rows

PSEUDONYM_LABEL = b"civicflow views: pseudonyms v1"
CHECK_LABEL = b"civicflow views: key check v1"
PSEUDONYM_BYTES = 16  # 128 bits: no two of a store's ids will ever share one
SEALED = (1, 2, 3)  # title, category, scope_id: encrypted in a proposal row
PLACED = (4, 5, 6, 7)  # compound, community, street, district: pseudonyms
_MANY = 1 << 20  # residents' pseudonyms kept before the cache starts again


class Plain:
    """No cipher: the views hold what they count as it is."""

    stamp: str | None = None  # what ``cf_view_state`` records: nothing, as before

    def rows(self, rows: Rows) -> Rows:
        return rows

    def structure(self, rows: Iterable[Sequence[Any]]) -> list[tuple[str, str, str]]:
        """(part, key, JSON) back from ``cf_view_structure``."""
        return [(str(part), str(key), str(value)) for part, key, value in rows]

    def proposal(self, row: Sequence[Any]) -> tuple[Any, ...]:
        return tuple(row)

    def open(self, text: str | None) -> str | None:
        return text

    def homes(self, rows: Iterable[Sequence[Any]]) -> dict[str, Spans]:
        """Residents' homes back from ``cf_view_homes``, as spans by resident id."""
        maker = SpanMaker()
        return dict(spans_of(self.open(home) or "", maker) for (home,) in rows)

    def learn(self, area_ids: Iterable[str]) -> None:
        pass

    def area(self, stored: str) -> str | None:
        return stored


PLAIN = Plain()


class Sealed(Plain):
    """A cipher: ids become pseudonyms, text and state ciphertext."""

    def __init__(self, cipher: Cipher, key: bytes) -> None:
        self.cipher = cipher
        self.key = hmac.digest(key, PSEUDONYM_LABEL, sha256)
        self.stamp = "sealed:" + hmac.digest(self.key, CHECK_LABEL, sha256).hex()[:16]
        self._areas: dict[str, str] = {"": ""}  # id -> pseudonym ('' stays: above the scope)
        self._clear: dict[str, str] = {"": ""}  # pseudonym -> id
        self._residents: dict[str, str] = {}
        # A proposal's title, category and scope never change once asked (the upsert
        # leaves them), but its row is written again whenever it moves: sealed once.
        self._proposals: dict[str, tuple[str, str, str]] = {}

    def pseudonym(self, value: str) -> str:
        digest = hmac.digest(self.key, value.encode(), sha256)[:PSEUDONYM_BYTES]
        return urlsafe_b64encode(digest).rstrip(b"=").decode()

    def place(self, area_id: str) -> str:
        found = self._areas.get(area_id)
        if found is None:
            found = self._areas[area_id] = self.pseudonym(area_id)
            self._clear[found] = area_id
        return found

    def resident(self, resident_id: str) -> str:
        found = self._residents.get(resident_id)
        if found is None:
            if len(self._residents) >= _MANY:
                self._residents.clear()
            found = self._residents[resident_id] = self.pseudonym(resident_id)
        return found

    def seal(self, text: str) -> str:
        return b64encode(self.cipher.encrypt(text.encode())).decode()

    def open(self, text: str | None) -> str | None:
        return None if text is None else self.cipher.decrypt(b64decode(text)).decode()

    def learn(self, area_ids: Iterable[str]) -> None:
        """Remember these areas' pseudonyms, to turn stored ones back into ids."""
        for area_id in area_ids:
            self.place(area_id)

    def area(self, stored: str) -> str | None:
        return self._clear.get(stored)

    def rows(self, rows: Rows) -> Rows:
        if rows.sealed:
            return rows
        place, resident, seal = self.place, self.resident, self.seal
        return replace(
            rows,
            sealed=True,
            proposals=[self._proposal(row) for row in rows.proposals],
            ratings=[
                (p, r, resident(who), level, at, q, place(a), place(b), place(c), place(d))
                for p, r, who, level, at, q, a, b, c, d in rows.ratings
            ],
            participation=[
                (resident(who), kind, q, place(a), place(b), place(c), place(d))
                for who, kind, q, a, b, c, d in rows.participation
            ],
            structure=[
                (part, self.pseudonym(key), seal(orjson.dumps([key, value]).decode()))
                for part, key, value in rows.structure
            ],
            homes=[(resident(who), seal(home)) for who, home in rows.homes],
        )

    def _proposal(self, row: tuple[Any, ...]) -> tuple[Any, ...]:
        proposal_id, title, category, scope, *areas = row[:8]
        sealed = self._proposals.get(proposal_id)
        if sealed is None:
            seal = self.seal
            sealed = self._proposals[proposal_id] = (seal(title), seal(category), seal(scope))
        place = self.place
        placed = (None if area is None else place(area) for area in areas)
        return (proposal_id, *sealed, *placed, *row[8:])

    def structure(self, rows: Iterable[Sequence[Any]]) -> list[tuple[str, str, str]]:
        opened = []
        for part, _, value in rows:
            key, entry = orjson.loads(self.open(value) or "")
            opened.append((str(part), str(key), str(entry)))
        return opened

    def proposal(self, row: Sequence[Any]) -> tuple[Any, ...]:
        values = list(row)
        self._proposals[values[0]] = (values[1], values[2], values[3])
        for index in SEALED:
            values[index] = self.open(values[index])
        # A scope the structure did not know is placed under its own id (tracker.py).
        self.learn((values[3],))
        for index in PLACED:
            values[index] = self.area_of(values[index])
        return tuple(values)

    def area_of(self, stored: str | None) -> str | None:
        """The id of a stored area pseudonym (None stays None).

        Raises:
            ViewsEncryptionError: no area of the structure has this pseudonym: the row
                was written under another key.
        """
        if stored is None:
            return None
        found = self.area(stored)
        if found is None:
            raise ViewsEncryptionError(found="another key", expected=str(self.stamp))
        return found


def sealing_of(flow: CivicFlow) -> Plain:
    """How the views of ``flow`` keep what they count: sealed when its events are encrypted.

    Raises:
        ConfigurationError: the store has a cipher but no ``CIPHER_KEY`` to derive
            the views' pseudonym key from.
    """
    cipher = getattr(flow.mapper, "cipher", None)
    if cipher is None:
        return PLAIN
    key = flow.env.get("CIPHER_KEY")
    if not key:
        raise ConfigurationError(
            "the store's events are encrypted by a cipher without CIPHER_KEY; the views "
            "derive the key of their pseudonyms from CIPHER_KEY, so set it"
        )
    return Sealed(cipher, b64decode(key))
