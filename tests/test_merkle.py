"""The Merkle tree agrees with RFC 9162, with published vectors and with pymerkle.

Three independent checks: the test vectors published with the Go reference
implementation (transparency-dev/merkle, formerly google/trillian's merkle
package); pymerkle, a separate Python implementation with RFC 6962 hashing; and a
naive recursive reference written here straight from the definitions of
RFC 9162 §2.1 (MTH, PATH, PROOF).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from functools import partial

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from pymerkle import InmemoryTree
from pymerkle import verify_consistency as pymerkle_verify_consistency

from civicflow.audit.merkle import (
    EMPTY_ROOT,
    MerkleTree,
    leaf_hash,
    node_hash,
    root_from_inclusion_proof,
    verify_consistency,
    verify_inclusion,
)
from civicflow.errors import CivicflowError, InvalidInputError

# --- the naive reference: RFC 9162 §2.1.1, §2.1.3.1 and §2.1.4.1, recursion and all ---


def split(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_mth(data: Sequence[bytes]) -> bytes:
    if not data:
        return EMPTY_ROOT
    if len(data) == 1:
        return leaf_hash(data[0])
    k = split(len(data))
    return node_hash(ref_mth(data[:k]), ref_mth(data[k:]))


def ref_path(m: int, data: Sequence[bytes]) -> list[bytes]:
    if len(data) == 1:
        return []
    k = split(len(data))
    if m < k:
        return [*ref_path(m, data[:k]), ref_mth(data[k:])]
    return [*ref_path(m - k, data[k:]), ref_mth(data[:k])]


def ref_subproof(m: int, data: Sequence[bytes], whole: bool) -> list[bytes]:
    if m == len(data):
        return [] if whole else [ref_mth(data)]
    k = split(len(data))
    if m <= k:
        return [*ref_subproof(m, data[:k], whole), ref_mth(data[k:])]
    return [*ref_subproof(m - k, data[k:], False), ref_mth(data[:k])]


def ref_shape(m: int, n: int) -> list[bool]:
    """For each hash of PATH(m, D[n]), leaf first: is it the left sibling?"""
    if n == 1:
        return []
    k = split(n)
    return [*ref_shape(m, k), False] if m < k else [*ref_shape(m - k, n - k), True]


def tree_of(data: Sequence[bytes]) -> MerkleTree:
    return MerkleTree(leaf_hash(d) for d in data)


def flip(value: bytes, bit: int = 0) -> bytes:
    return bytes([value[0] ^ (1 << bit), *value[1:]])


# --- published vectors ---
# transparency-dev/merkle: testonly/constants.go (LeafInputs, NodeHashes, RootHashes),
# testonly/reference_test.go (TestRefInclusionProof, TestRefConsistencyProof) and
# proof/verify_test.go (inclusionProofs, consistencyProofs), the vectors first
# published with certificate-transparency and google/trillian.

LEAVES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
ROOTS = [  # by tree size, from 0 (the empty tree) to 8
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
NODES = [  # level by level: the leaf hashes, then each aligned block of 2, 4 and 8 leaves
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
    "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
    "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
    "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
    "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
    "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
INCLUSION = [  # (index, size, path): reference_test.go and verify_test.go (leaf 1-based there)
    (0, 1, []),
    (0, 2, [NODES[1]]),
    (1, 2, [NODES[0]]),
    (2, 3, [NODES[8]]),
    (1, 5, [NODES[0], NODES[9], NODES[4]]),
    (0, 8, [NODES[1], NODES[9], NODES[13]]),
    (5, 8, [NODES[4], NODES[11], NODES[12]]),
]
CONSISTENCY = [  # (old size, new size, proof)
    (1, 1, []),
    (1, 8, [NODES[1], NODES[9], NODES[13]]),
    (2, 5, [NODES[9], NODES[4]]),
    (6, 8, [NODES[10], NODES[11], NODES[12]]),
    (6, 7, [NODES[10], NODES[6], NODES[12]]),
]


def test_the_tree_gives_the_published_root_of_every_size_from_empty_to_eight() -> None:
    tree = tree_of(LEAVES)
    assert [tree.root(size).hex() for size in range(9)] == ROOTS
    assert MerkleTree().root() == EMPTY_ROOT == bytes.fromhex(ROOTS[0])


def test_the_tree_stores_the_published_hash_of_every_complete_subtree() -> None:
    stored = tree_of(LEAVES).to_bytes()[13:]  # after the header: level 0, level 1...
    assert [stored[i : i + 32].hex() for i in range(0, len(stored), 32)] == NODES


@pytest.mark.parametrize(("index", "size", "path"), INCLUSION)
def test_inclusion_proofs_are_the_published_ones_and_verify(
    index: int, size: int, path: list[str]
) -> None:
    tree = tree_of(LEAVES)
    proof = tree.inclusion_proof(index, size)
    assert [h.hex() for h in proof] == path
    assert verify_inclusion(leaf_hash(LEAVES[index]), index, size, proof, tree.root(size))


@pytest.mark.parametrize(("old", "new", "path"), CONSISTENCY)
def test_consistency_proofs_are_the_published_ones_and_verify(
    old: int, new: int, path: list[str]
) -> None:
    tree = tree_of(LEAVES)
    proof = tree.consistency_proof(old, new)
    assert [h.hex() for h in proof] == path
    assert verify_consistency(old, new, tree.root(old), tree.root(new), proof)


def refused(check: Callable[[], bool]) -> bool:
    """The claim does not verify: the check says no, or finds it malformed."""
    try:
        return not check()
    except InvalidInputError:
        return True


@pytest.mark.parametrize(("index", "size", "path"), INCLUSION[1:])
def test_the_published_corruption_probes_of_inclusion_proofs_all_fail(
    index: int, size: int, path: list[str]
) -> None:
    # proof/verify_test.go, corruptInclusionProof: other indexes and sizes, the same path
    tree, proof = tree_of(LEAVES), [bytes.fromhex(h) for h in path]
    leaf, root = tree.leaf(index), tree.root(size)
    for i, n in [(index - 1, size), (index + 1, size), (index ^ 2, size), (index, size * 2)]:
        assert refused(partial(verify_inclusion, leaf, i, n, proof, root))
    assert refused(partial(verify_inclusion, leaf, index, size // 2, proof, root))


@pytest.mark.parametrize(("old", "new", "path"), CONSISTENCY[1:])
def test_the_published_corruption_probes_of_consistency_proofs_all_fail(
    old: int, new: int, path: list[str]
) -> None:
    # proof/verify_test.go, corruptConsistencyProof: other sizes, swapped roots, no proof
    tree, proof = tree_of(LEAVES), [bytes.fromhex(h) for h in path]
    roots = tree.root(old), tree.root(new)
    for m, n in [(old - 1, new), (old + 1, new), (old ^ 2, new), (old, new * 2), (old, new // 2)]:
        assert refused(partial(verify_consistency, m, n, *roots, proof))
    assert not verify_consistency(old, new, roots[1], roots[0], proof)
    assert not verify_consistency(old, new, *roots, [])
    assert not verify_consistency(old, new, *roots, [proof[0], *proof])


def test_the_published_edge_cases_of_consistency_verification() -> None:
    # proof/verify_test.go, TestVerifyConsistency (roots that are no hashes are refused apart)
    some, other = leaf_hash(b"some"), leaf_hash(b"other")
    assert verify_consistency(1, 1, some, some, [])
    assert not verify_consistency(1, 1, some, other, [])
    assert not verify_consistency(1, 2, some, other, [])  # an empty proof
    assert not verify_consistency(1, 1, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT])
    assert not verify_consistency(0, 1, EMPTY_ROOT, some, [EMPTY_ROOT])
    assert not verify_consistency(0, 0, EMPTY_ROOT, some, [])
    assert verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    assert verify_consistency(0, 1, EMPTY_ROOT, some, [])
    assert not verify_consistency(0, 1, some, some, [])  # only the empty root has size 0


# --- against the naive reference and pymerkle ---

datasets = st.lists(st.binary(max_size=6), unique=True, max_size=70)


def pymerkle_tree(data: Sequence[bytes]) -> InmemoryTree:
    tree = InmemoryTree(algorithm="sha256")  # security on: 0x00 and 0x01 prefixes
    for entry in data:
        tree.append_entry(entry)
    return tree


@given(datasets)
def test_every_root_and_inclusion_proof_matches_pymerkle_and_the_reference(
    data: list[bytes],
) -> None:
    tree, other = tree_of(data), pymerkle_tree(data)
    assert tree.size == len(tree) == len(data)
    for size in range(len(data) + 1):
        assert tree.root(size) == other.get_root(size) == ref_mth(data[:size])
    for size in range(1, len(data) + 1):
        for index in range(size):
            proof = tree.inclusion_proof(index, size)
            assert proof == other.prove_inclusion(index + 1, size).path[1:]
            assert proof == ref_path(index, data[:size])


@given(datasets)
def test_every_consistency_proof_matches_the_reference_and_pymerkle_agrees(
    data: list[bytes],
) -> None:
    tree, other = tree_of(data), pymerkle_tree(data)
    for new in range(len(data) + 1):
        for old in range(new + 1):
            proof = tree.consistency_proof(old, new)
            assert proof == (ref_subproof(old, data[:new], True) if old else [])
            assert verify_consistency(old, new, tree.root(old), tree.root(new), proof)
            if old:  # pymerkle's proof of the same pair checks out against our roots
                theirs = other.prove_consistency(old, new)
                pymerkle_verify_consistency(tree.root(old), tree.root(new), theirs)


def test_a_larger_tree_agrees_with_pymerkle_at_random_sizes() -> None:
    rng = random.Random(11)
    data = [rng.randbytes(rng.randrange(40)) for _ in range(3000)]
    tree, other = tree_of(data), pymerkle_tree(data)
    for _ in range(60):
        new = rng.randrange(1, len(data) + 1)
        old, index = rng.randrange(1, new + 1), rng.randrange(new)
        assert tree.root(new) == other.get_root(new)
        assert tree.inclusion_proof(index, new) == other.prove_inclusion(index + 1, new).path[1:]
        proof = tree.consistency_proof(old, new)
        assert verify_consistency(old, new, other.get_root(old), other.get_root(new), proof)


# --- properties of proofs ---

trees = st.lists(st.binary(max_size=6), unique=True, min_size=1, max_size=70)


@given(trees, st.data())
def test_an_inclusion_proof_verifies_and_no_altered_claim_does(
    data: list[bytes], draw: st.DataObject
) -> None:
    tree = tree_of(data)
    size = draw.draw(st.integers(1, len(data)), label="size")
    index = draw.draw(st.integers(0, size - 1), label="index")
    leaf, root, proof = tree.leaf(index), tree.root(size), tree.inclusion_proof(index, size)
    assert verify_inclusion(leaf, index, size, proof, root)
    assert root_from_inclusion_proof(leaf, index, size, proof) == root
    assert root_from_inclusion_proof(leaf, index, size, [*proof, leaf]) is None
    assert root_from_inclusion_proof(leaf, index, size, [*proof, leaf[:31]]) is None
    assert not verify_inclusion(flip(leaf), index, size, proof, root)
    assert not verify_inclusion(leaf, index, size, proof, flip(root))
    assert not verify_inclusion(leaf, index, size, [*proof, root], root)
    assert not verify_inclusion(leaf, index, size, [root, *proof], root)
    for position in range(len(proof)):
        bit = draw.draw(st.integers(0, 7), label="bit")
        altered = [*proof[:position], flip(proof[position], bit), *proof[position + 1 :]]
        assert not verify_inclusion(leaf, index, size, altered, root)
        assert not verify_inclusion(leaf, index, size, proof[:position], root)
    for other in range(size):
        if other != index:
            assert not verify_inclusion(leaf, other, size, proof, root)


@given(trees, st.data())
def test_an_inclusion_proof_binds_the_size_only_through_the_shape_of_the_path(
    data: list[bytes], draw: st.DataObject
) -> None:
    # A proof for leaf 0 of 3 leaves also proves it for 4 leaves against the same root: the
    # size is bound by the signed tree head that carries it beside the root, not the path.
    tree = tree_of(data)
    size = draw.draw(st.integers(1, len(data)), label="size")
    index = draw.draw(st.integers(0, size - 1), label="index")
    claimed = draw.draw(st.integers(index + 1, 2 * len(data) + 2), label="claimed size")
    proof, root = tree.inclusion_proof(index, size), tree.root(size)
    same_shape = ref_shape(index, claimed) == ref_shape(index, size)
    assert verify_inclusion(tree.leaf(index), index, claimed, proof, root) == same_shape


@given(trees, st.data())
def test_a_consistency_proof_verifies_and_fails_for_altered_roots_or_proofs(
    data: list[bytes], draw: st.DataObject
) -> None:
    tree = tree_of(data)
    new = draw.draw(st.integers(1, len(data)), label="new size")
    old = draw.draw(st.integers(1, new), label="old size")
    old_root, new_root = tree.root(old), tree.root(new)
    proof = tree.consistency_proof(old, new)
    assert verify_consistency(old, new, old_root, new_root, proof)
    assert not verify_consistency(old, new, flip(old_root), new_root, proof)
    assert not verify_consistency(old, new, old_root, flip(new_root), proof)
    assert not verify_consistency(old, new, old_root, new_root, [*proof, new_root])
    assert not verify_consistency(old, new, old_root, new_root, [old_root, *proof])
    for position in range(len(proof)):
        altered = [*proof[:position], flip(proof[position], 4), *proof[position + 1 :]]
        assert not verify_consistency(old, new, old_root, new_root, altered)
        assert not verify_consistency(old, new, old_root, new_root, proof[:position])


@given(trees, st.data())
def test_a_tree_that_is_not_a_prefix_fails_the_consistency_check(
    data: list[bytes], draw: st.DataObject
) -> None:
    new = draw.draw(st.integers(1, len(data)), label="new size")
    old = draw.draw(st.integers(1, new), label="old size")
    changed = draw.draw(st.integers(0, old - 1), label="changed leaf")
    other = [*data[:changed], data[changed] + b"!", *data[changed + 1 :]]
    assume(other[changed] not in data)
    tree, forged = tree_of(data), tree_of(other)
    # the log's proof against an old head it never had, and a forged history's proof
    assert not verify_consistency(
        old, new, forged.root(old), tree.root(new), tree.consistency_proof(old, new)
    )
    assert not verify_consistency(
        old, new, tree.root(old), forged.root(new), forged.consistency_proof(old, new)
    )


def test_a_proof_hash_of_the_wrong_length_or_type_fails_without_an_error() -> None:
    tree = tree_of(LEAVES)
    leaf, root = tree.leaf(5), tree.root()
    proof = tree.inclusion_proof(5)
    assert not verify_inclusion(leaf, 5, 8, [*proof[:2], proof[2][:31]], root)
    assert not verify_inclusion(leaf, 5, 8, [*proof[:2], None], root)  # type: ignore[list-item]
    consistency = tree.consistency_proof(6)
    long = [*consistency[:2], consistency[2] + b"\x00"]
    assert not verify_consistency(6, 8, tree.root(6), root, long)
    nothing: list[bytes] = [None, *consistency[1:]]  # type: ignore[list-item]
    assert not verify_consistency(6, 8, tree.root(6), root, nothing)


# --- building, earlier sizes, serialisation ---


@given(trees, st.data())
def test_root_of_an_earlier_size_is_the_root_of_a_fresh_tree_of_that_prefix(
    data: list[bytes], draw: st.DataObject
) -> None:
    size = draw.draw(st.integers(0, len(data)), label="size")
    assert tree_of(data).root(size) == tree_of(data[:size]).root()


@given(trees, st.lists(st.integers(0, 9)))
def test_appending_one_by_one_or_in_batches_stores_the_same_tree(
    data: list[bytes], cuts: list[int]
) -> None:
    hashes = [leaf_hash(d) for d in data]
    one_by_one, batched = MerkleTree(), MerkleTree()
    assert [one_by_one.append(h) for h in hashes] == list(range(len(hashes)))
    start = 0
    for cut in [*cuts, len(hashes)]:
        assert batched.extend(hashes[start : start + cut]) == min(start + cut, len(hashes))
        start += cut
    assert batched.to_bytes() == one_by_one.to_bytes()


@given(datasets)
def test_serialisation_round_trips_and_the_reloaded_tree_grows_on(data: list[bytes]) -> None:
    tree = tree_of(data)
    reloaded = MerkleTree.from_bytes(tree.to_bytes(), check=True)
    assert reloaded.to_bytes() == tree.to_bytes()
    assert [reloaded.root(s) for s in range(len(data) + 1)] == [
        tree.root(s) for s in range(len(data) + 1)
    ]
    more = leaf_hash(b"one more")
    tree.append(more)
    reloaded.append(more)
    assert reloaded.root() == tree.root()


def test_reloading_refuses_bytes_that_are_not_a_tree() -> None:
    stored = tree_of(LEAVES).to_bytes()
    for bad in (b"", b"XXXX" + stored[4:], stored[:-1], stored + bytes(32)):
        with pytest.raises(InvalidInputError):
            MerkleTree.from_bytes(bad)
    altered = stored[:-32] + flip(stored[-32:])  # the root node, stored but not its children's
    assert MerkleTree.from_bytes(altered).root() != tree_of(LEAVES).root()
    with pytest.raises(InvalidInputError, match="level 3 node 0"):
        MerkleTree.from_bytes(altered, check=True)


# --- malformed claims are errors, not failed proofs ---


def test_out_of_range_sizes_and_indexes_are_invalid_input() -> None:
    tree, some = tree_of(LEAVES), leaf_hash(b"x")
    calls: list[Callable[[], object]] = [
        lambda: tree.root(9),
        lambda: tree.root(-1),
        lambda: tree.leaf(8),
        lambda: MerkleTree().leaf(0),
        lambda: tree.inclusion_proof(8),
        lambda: tree.inclusion_proof(3, 3),
        lambda: tree.inclusion_proof(0, 0),
        lambda: tree.consistency_proof(5, 4),
        lambda: tree.consistency_proof(1, 9),
        lambda: tree.append(b"short"),
        lambda: tree.append(bytearray(33)),
        lambda: tree.append(32),  # type: ignore[arg-type]
        lambda: tree.extend([some, b"short"]),
        lambda: tree.extend([some, "a string, not bytes" * 2]),  # type: ignore[list-item]
        lambda: verify_inclusion(some, 3, 3, [], some),
        lambda: verify_inclusion(some, 0, 1, [], b"short"),
        lambda: verify_inclusion(b"short", 0, 1, [], some),
        lambda: verify_inclusion(some, -1, 1, [], some),
        lambda: verify_consistency(5, 4, some, some, []),
        lambda: verify_consistency(-1, 4, some, some, []),
        lambda: verify_consistency(1, 4, some, b"short", []),
        lambda: verify_consistency(True, 4, some, some, []),
    ]
    for call in calls:
        with pytest.raises(InvalidInputError) as raised:
            call()
        assert isinstance(raised.value, CivicflowError | ValueError)
    assert tree.size == 8  # the refused appends added nothing
    assert tree.append(bytearray(leaf_hash(b"nine"))) == 8  # any 32 bytes will do
