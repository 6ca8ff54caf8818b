"""An append-only Merkle tree as RFC 6962 / RFC 9162 define it: the transparency log's spine.

Pure (no I/O). Hashing is SHA-256 with domain separation: a leaf is
``SHA-256(0x00 || data)``, an inner node ``SHA-256(0x01 || left || right)`` and the
empty tree ``SHA-256()``. The tree of ``n`` leaves splits at the largest power of
two below ``n`` (RFC 9162 §2.1.1), so any tree is a sequence of perfect subtrees.

``MerkleTree`` keeps the hash of every complete, aligned subtree, level by level:
level 0 holds the leaf hashes, level ``k`` the hashes of the blocks of ``2**k``
leaves starting at multiples of ``2**k``, each level one ``bytearray`` of 32-byte
hashes (about 64 bytes per leaf in all: 64 MB for a million leaves). An append
hashes one node per completed block (amortised one hash); a root, of the current
size or any earlier one, and a proof read O(log n) stored nodes and hash O(log n)
more, however large the tree.

Verifying a proof needs only the proof, the sizes and the hashes, no tree:
``verify_inclusion`` and ``verify_consistency`` follow RFC 9162 §2.1.3.2 and
§2.1.4.2. They return ``False`` for a proof that does not prove the claim, whatever
is wrong with it (a wrong hash, too few or too many hashes, a hash of the wrong
length): the proof comes from the other party. They raise ``InvalidInputError``
when the caller's own claim is malformed: a negative size, an index outside the
tree, an older size above the newer one, a leaf hash or root that is not 32 bytes.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
from collections.abc import Iterable, Sequence

from civicflow.errors import InvalidInputError

HASH_SIZE = 32
Hash = bytes | bytearray  # what a leaf hash, root or proof hash given to this module may be
EMPTY_ROOT: bytes = hashlib.sha256(b"").digest()
LEAF_PREFIX = b"\x00"  # RFC 9162: a leaf hash is SHA-256(0x00 || data)
_NODE = b"\x01"
_NODE_PREFIXED = hashlib.sha256(_NODE)  # copied, never updated in place
_MAGIC = b"CFMT\x01"  # to_bytes format, version 1
_HEADER = len(_MAGIC) + 8


def leaf_hash(data: bytes) -> bytes:
    """The hash of a leaf holding ``data``: ``SHA-256(0x00 || data)``."""
    return hashlib.sha256(LEAF_PREFIX + data).digest()


def node_hash(left: Hash, right: Hash) -> bytes:
    """The hash of an inner node: ``SHA-256(0x01 || left || right)``."""
    return hashlib.sha256(_NODE + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two below ``n`` (``n >= 2``): where RFC 9162 splits the tree."""
    return 1 << ((n - 1).bit_length() - 1)


def _bad(what: str, field: str, message: str) -> InvalidInputError:
    return InvalidInputError(what, [(field, message)])


def _check_hash(what: str, field: str, value: Hash) -> None:
    if not isinstance(value, bytes | bytearray) or len(value) != HASH_SIZE:
        raise _bad(what, field, f"must be {HASH_SIZE} bytes (a SHA-256 hash)")


def _check_count(what: str, field: str, value: int, low: int, high: int | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise _bad(what, field, f"must be an integer >= {low}, not {value!r}")
    if high is not None and value > high:
        raise _bad(what, field, f"must be at most {high}, not {value}")


def _check_index(what: str, index: int, size: int) -> None:
    _check_count(what, "index", index, 0)
    if index >= size:
        raise _bad(what, "index", f"must be below the tree size {size}, not {index}")


class MerkleTree:
    """An append-only RFC 9162 Merkle tree over leaf hashes, with proofs for any size.

    Leaves are given as hashes (``leaf_hash(data)``), so the tree never holds the
    data itself. Sizes and indexes count leaves from 0; every method that takes a
    ``size`` works on the tree as it was with that many leaves (default: now).
    Not locked: one writer at a time (readers may share a tree nobody appends to).
    """

    __slots__ = ("_levels", "_size")

    def __init__(self, leaves: Iterable[Hash] = ()) -> None:
        self._levels: list[bytearray] = [bytearray()]
        self._size = 0
        self.extend(leaves)

    @property
    def size(self) -> int:
        """How many leaves the tree holds."""
        return self._size

    def __len__(self) -> int:
        return self._size

    def append(self, leaf: Hash) -> int:
        """Add one leaf hash; return its index.

        Raises:
            InvalidInputError: the leaf is not a 32-byte hash.
        """
        if type(leaf) is not bytes or len(leaf) != HASH_SIZE:  # the common case first
            _check_hash("Merkle leaf", "leaf", leaf)
        levels, index = self._levels, self._size
        levels[0] += leaf
        self._size = n = index + 1
        level = 0
        while not n & 1:  # a block of 2**(level+1) leaves is complete: hash its two halves
            below = levels[level]
            level += 1
            if level == len(levels):
                levels.append(bytearray())
            node = _NODE_PREFIXED.copy()
            node.update(below[-2 * HASH_SIZE :])
            levels[level] += node.digest()
            n >>= 1
        return index

    def extend(self, leaves: Iterable[Hash]) -> int:
        """Add many leaf hashes in order; return the new size.

        All-or-nothing: if one leaf is malformed, none is added.

        Raises:
            InvalidInputError: a leaf is not a 32-byte hash.
        """
        batch = list(leaves)
        if not (set(map(type, batch)) <= {bytes, bytearray} and set(map(len, batch)) <= {32}):
            for position, leaf in enumerate(batch):  # find the first bad leaf, to name it
                _check_hash("Merkle leaf", f"leaves[{position}]", leaf)
        self._levels[0] += b"".join(batch)
        self._size += len(batch)
        self._complete_levels()
        return self._size

    def _complete_levels(self) -> None:
        """Hash every block completed since the last call, level by level."""
        levels, level, step = self._levels, 0, 2 * HASH_SIZE
        while self._size >> (level + 1):
            if level + 1 == len(levels):
                levels.append(bytearray())
            below, above = levels[level], levels[level + 1]
            have, want = len(above) // HASH_SIZE, self._size >> (level + 1)
            above += b"".join(_pair_hashes(below, have * step, want * step))
            level += 1

    def leaf(self, index: int) -> bytes:
        """The leaf hash at ``index``.

        Raises:
            InvalidInputError: no leaf has that index.
        """
        _check_index("Merkle leaf", index, self._size)
        return self._node(0, index)

    def root(self, size: int | None = None) -> bytes:
        """The tree head, MTH, of the first ``size`` leaves (default: all of them).

        Raises:
            InvalidInputError: ``size`` is negative or above the tree's size.
        """
        size = self._size_arg("size", size)
        return self._range_hash(0, size) if size else EMPTY_ROOT

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """The audit path (RFC 9162 §2.1.3.1) of leaf ``index`` in the tree of ``size`` leaves.

        The hashes run from the leaf's sibling up to the root's child.

        Raises:
            InvalidInputError: ``size`` is out of range, or ``index`` is not below it.
        """
        size = self._size_arg("size", size)
        _check_index("Merkle inclusion proof", index, size)
        path: list[bytes] = []
        start, end = 0, size
        while end - start > 1:
            k = _split(end - start)
            if index < start + k:
                path.append(self._range_hash(start + k, end))
                end = start + k
            else:
                path.append(self._range_hash(start, start + k))
                start += k
        path.reverse()
        return path

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """The proof (RFC 9162 §2.1.4.1) that the tree of ``old_size`` leaves is a prefix.

        Empty when ``old_size`` is 0 or equals ``new_size``.

        Raises:
            InvalidInputError: a size is out of range, or ``old_size`` is above ``new_size``.
        """
        new_size = self._size_arg("new_size", new_size)
        _check_count("Merkle consistency proof", "old_size", old_size, 0, new_size)
        if old_size in (0, new_size):
            return []
        proof: list[bytes] = []
        start, end, whole = 0, new_size, True  # SUBPROOF(m, D[start:end], whole)
        while old_size != end:
            k = _split(end - start)
            if old_size <= start + k:
                proof.append(self._range_hash(start + k, end))
                end = start + k
            else:
                proof.append(self._range_hash(start, start + k))
                start, whole = start + k, False
        if not whole:
            proof.append(self._range_hash(start, end))
        proof.reverse()
        return proof

    def to_bytes(self) -> bytes:
        """Every stored hash, to keep in a file or a column and reload without rehashing.

        The format: ``b"CFMT\\x01"``, the size as 8 bytes big-endian, then level 0
        (the leaf hashes), level 1 and so on, level ``k`` holding ``size >> k`` hashes.
        """
        return b"".join([_MAGIC, self._size.to_bytes(8, "big"), *self._levels])

    @classmethod
    def from_bytes(cls, data: bytes | bytearray, *, check: bool = False) -> MerkleTree:
        """The tree ``to_bytes`` wrote.

        With ``check``, every inner node is hashed again from its children and compared
        (as slow as building the tree); otherwise only the layout is checked.

        Raises:
            InvalidInputError: ``data`` is not a tree in this format, or (with
                ``check``) a stored node is not the hash of its children.
        """
        if not isinstance(data, bytes | bytearray) or data[: len(_MAGIC)] != _MAGIC:
            raise _bad("Merkle tree bytes", "header", f"must start with {_MAGIC!r}")
        size = int.from_bytes(data[len(_MAGIC) : _HEADER], "big")
        counts = [size >> level for level in range(max(size.bit_length(), 1))]
        if len(data) != _HEADER + HASH_SIZE * sum(counts):
            raise _bad("Merkle tree bytes", "length", f"does not hold a tree of {size} leaves")
        tree = cls()
        offsets = [_HEADER + HASH_SIZE * sum(counts[:level]) for level in range(len(counts) + 1)]
        tree._levels = [bytearray(data[a:b]) for a, b in itertools.pairwise(offsets)]
        tree._size = size
        if check:
            tree._check_nodes()
        return tree

    def _check_nodes(self) -> None:
        for level in range(1, len(self._levels)):
            for index in range(self._size >> level):
                left, right = self._node(level - 1, 2 * index), self._node(level - 1, 2 * index + 1)
                if node_hash(left, right) != self._node(level, index):
                    raise _bad("Merkle tree bytes", f"level {level} node {index}", "is altered")

    def _size_arg(self, field: str, size: int | None) -> int:
        if size is None:
            return self._size
        _check_count("Merkle tree size", field, size, 0, self._size)
        return size

    def _node(self, level: int, index: int) -> bytes:
        at = index * HASH_SIZE
        return bytes(self._levels[level][at : at + HASH_SIZE])

    def _range_hash(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]): stored when the range is one aligned block, else folded."""
        width = end - start
        if width & (width - 1) == 0 and start % width == 0:
            return self._node(width.bit_length() - 1, start // width)
        k = _split(width)
        return node_hash(self._range_hash(start, start + k), self._range_hash(start + k, end))


def root_from_inclusion_proof(
    leaf: Hash, index: int, size: int, proof: Sequence[Hash]
) -> bytes | None:
    """The root that ``proof`` leads to from ``leaf`` (RFC 9162 §2.1.3.2), or ``None``.

    ``None`` when the proof cannot belong to a leaf at ``index`` of a tree of ``size``
    (too few or too many hashes, a hash of the wrong length).

    Raises:
        InvalidInputError: ``index`` is not below ``size``, or ``leaf`` is not 32 bytes.
    """
    _check_hash("Merkle inclusion proof", "leaf", leaf)
    _check_count("Merkle inclusion proof", "size", size, 0)
    _check_index("Merkle inclusion proof", index, size)
    fn, sn, r = index, size - 1, bytes(leaf)
    for p in proof:
        if sn == 0 or not _is_hash(p):
            return None
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while fn & 1 == 0 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return r if sn == 0 else None


def verify_inclusion(leaf: Hash, index: int, size: int, proof: Sequence[Hash], root: Hash) -> bool:
    """Whether ``proof`` shows the leaf hash ``leaf`` at ``index`` in the tree with head ``root``.

    Raises:
        InvalidInputError: ``index`` is not below ``size``, or ``leaf`` or ``root`` is
            not 32 bytes.
    """
    _check_hash("Merkle inclusion proof", "root", root)
    computed = root_from_inclusion_proof(leaf, index, size, proof)
    return computed is not None and hmac.compare_digest(computed, root)


def verify_consistency(
    old_size: int, new_size: int, old_root: Hash, new_root: Hash, proof: Sequence[Hash]
) -> bool:
    """Whether ``proof`` shows the tree ``old_root`` of ``old_size`` leaves to be a prefix
    of the tree ``new_root`` of ``new_size`` leaves (RFC 9162 §2.1.4.2).

    Equal sizes need an empty proof and equal roots. The empty tree is a prefix of
    every tree: for ``old_size`` 0 the proof is empty and ``old_root`` is ``EMPTY_ROOT``
    (and so is ``new_root`` if ``new_size`` is 0 too).

    Raises:
        InvalidInputError: a size is negative, ``old_size`` is above ``new_size``, or a
            root is not 32 bytes.
    """
    what = "Merkle consistency proof"
    _check_hash(what, "old_root", old_root)
    _check_hash(what, "new_root", new_root)
    _check_count(what, "new_size", new_size, 0)
    _check_count(what, "old_size", old_size, 0, new_size)
    if old_size == new_size:
        same = hmac.compare_digest(old_root, new_root)
        return not proof and same and (old_size > 0 or hmac.compare_digest(old_root, EMPTY_ROOT))
    if old_size == 0:
        return not proof and hmac.compare_digest(old_root, EMPTY_ROOT)
    return _verify_growth(old_size, new_size, old_root, new_root, proof)


def _verify_growth(
    old_size: int, new_size: int, old_root: Hash, new_root: Hash, proof: Sequence[Hash]
) -> bool:
    """RFC 9162 §2.1.4.2 for ``0 < old_size < new_size``."""
    if not proof or not all(_is_hash(c) for c in proof):
        return False
    path = [bytes(old_root), *proof] if old_size & (old_size - 1) == 0 else list(proof)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while fn & 1 == 0 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and hmac.compare_digest(fr, old_root) and hmac.compare_digest(sr, new_root)


def _pair_hashes(level: bytearray, start: int, stop: int) -> list[bytes]:
    """The node hash of each pair of hashes in ``level[start:stop]``."""
    prefixed, hashes = _NODE_PREFIXED, []
    with memoryview(level) as view:
        for at in range(start, stop, 2 * HASH_SIZE):
            node = prefixed.copy()
            node.update(view[at : at + 2 * HASH_SIZE])
            hashes.append(node.digest())
    return hashes


def _is_hash(value: object) -> bool:
    return isinstance(value, bytes | bytearray) and len(value) == HASH_SIZE
