"""Signed tree heads: the C2SP note format byte for byte, strict reading, witnesses.

The PeterNeumann and EnochRoot vectors are the Go reference implementation's own
(golang.org/x/mod/sumdb/note, note_test.go: TestNewVerifier, TestNewSigner, TestSign,
TestOpen); the behind-the-sofa checkpoint is C2SP's example (tlog-checkpoint.md).
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from civicflow.audit import signing
from civicflow.audit.errors import InvalidKeyError, MalformedNoteError, SignatureError
from civicflow.audit.notes import (
    TreeHead,
    cosign,
    open_checkpoint,
    open_note,
    sign_checkpoint,
    sign_note,
    split_note,
)
from civicflow.audit.signing import Signer, Verifier
from civicflow.errors import InvalidInputError
from tests.strategies import tree_heads

PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
PETER_SIG = (
    "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotp"
    "RZb6KE6RyyBwJnAM=\n"
)
ENOCH_SIG = (
    "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLo"
    "x33WWd1RvMc+QQ=\n"
)
SOFA = (
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n"
    "— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5"
    "/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
)

ORIGIN = "civicflow.example/district-1"
LOG = Signer(ORIGIN, bytes(range(32)))
OFFICE = Signer("inspection.civicflow.example/district-1", bytes(range(32, 64)))
PRESS = Signer("press.example/watch", bytes(range(64, 96)))
HEAD = TreeHead(ORIGIN, 12, bytes(range(100, 132)))
REFUSED = (MalformedNoteError, SignatureError)


def test_the_go_reference_keys_read_and_write_back_byte_for_byte() -> None:
    verifier = Verifier.from_key_string(PETER_VKEY)
    signer = Signer.from_key_string(PETER_SKEY)
    assert (verifier.name, verifier.key_id) == ("PeterNeumann", 0xC74F20A3)
    assert verifier.key_string() == PETER_VKEY
    assert signer.key_string() == PETER_SKEY
    assert signer.verifier == verifier
    assert Verifier.from_key_string(ENOCH_VKEY).key == "EnochRoot+af0cfe78"


def test_the_signer_reproduces_the_go_reference_note() -> None:
    assert sign_note(TEXT, Signer.from_key_string(PETER_SKEY)) == TEXT + "\n" + PETER_SIG


def test_the_go_reference_note_verifies_and_an_unknown_keys_signature_is_ignored() -> None:
    peter, enoch = Verifier.from_key_string(PETER_VKEY), Verifier.from_key_string(ENOCH_VKEY)
    note = open_note(TEXT + "\n" + PETER_SIG + ENOCH_SIG, [peter])
    assert note.text == TEXT
    assert note.verified == {"PeterNeumann+c74f20a3"}
    assert [s.key for s in note.signatures] == ["PeterNeumann+c74f20a3", "EnochRoot+af0cfe78"]
    both = open_note(TEXT + "\n" + PETER_SIG + ENOCH_SIG, [peter, enoch], required=[enoch, peter])
    assert both.verified == {"PeterNeumann+c74f20a3", "EnochRoot+af0cfe78"}


def test_a_note_no_known_key_signed_is_refused() -> None:
    with pytest.raises(SignatureError) as refused:
        open_note(TEXT + "\n" + PETER_SIG + ENOCH_SIG, [])
    assert refused.value.problem == "missing"


def test_the_go_reference_bad_signature_is_refused() -> None:
    bad = PETER_SIG[:60] + "ABCD" + PETER_SIG[60:]
    with pytest.raises(SignatureError) as refused:
        open_note(TEXT + "\n" + bad, [Verifier.from_key_string(PETER_VKEY)])
    assert (refused.value.key, refused.value.problem) == ("PeterNeumann+c74f20a3", "invalid")


@pytest.mark.parametrize(
    "note",
    [
        # Go's TestOpen badMsgs, each a "malformed note" there too
        TEXT,
        TEXT + "\n",
        TEXT + "\n" + PETER_SIG[:-1],
        "\x01" + TEXT + "\n" + PETER_SIG,
        TEXT + "\n" + "— Bad Name " + PETER_SIG.rsplit(maxsplit=1)[-1],
        TEXT + "\n" + PETER_SIG + "Unexpected line.\n",
        TEXT + "\n" + PETER_SIG * 101,
        # stricter than Go, which drops a repeated signature and accepts sloppy base64
        TEXT + "\n" + PETER_SIG + PETER_SIG,
        TEXT + "\n" + PETER_SIG.replace("AM=", "AN="),
        TEXT + "\n" + PETER_SIG.replace("AM=", "AM"),
        TEXT + "\n" + PETER_SIG.replace("— ", "- "),
        TEXT + "\n" + PETER_SIG.replace(" x08", "  x08"),
        TEXT + "\n" + PETER_SIG + "\n",
    ],
)
def test_a_malformed_note_is_refused(note: str) -> None:
    with pytest.raises(MalformedNoteError):
        open_note(note, [Verifier.from_key_string(PETER_VKEY)])


def test_a_note_that_is_not_utf8_is_refused() -> None:
    with pytest.raises(MalformedNoteError):
        open_note(
            b"\xff" + (TEXT + "\n" + PETER_SIG).encode(), [Verifier.from_key_string(PETER_VKEY)]
        )


@pytest.mark.parametrize("key", [PETER_VKEY, PETER_SKEY])
def test_every_truncation_and_every_changed_byte_of_a_key_string_is_refused(key: str) -> None:
    # As Go's TestNewVerifier and TestNewSigner: a mangled key is never read as some other key.
    read = Verifier.from_key_string if key == PETER_VKEY else Signer.from_key_string
    mangled = {key[i:j] for i in range(len(key)) for j in range(i + 1, len(key) + 1)} - {key}
    mangled |= {key[:i] + chr(ord(key[i]) + 1) + key[i + 1 :] for i in range(len(key))}
    accepted = []
    for text in mangled:
        try:
            read(text)
        except InvalidKeyError:
            continue
        accepted.append(text)
    assert accepted == []


def test_the_c2sp_example_checkpoint_parses_but_is_not_trusted_without_its_key() -> None:
    text, signatures = split_note(SOFA)
    head = TreeHead.parse(text)
    assert (head.origin, head.size, len(head.root)) == ("example.com/behind-the-sofa", 20852163, 32)
    assert [s.name for s in signatures] == ["example.com/behind-the-sofa"]
    with pytest.raises(SignatureError):
        open_checkpoint(SOFA, LOG.verifier)


@given(tree_heads())
def test_a_signed_tree_head_reads_back_as_it_was_signed(head: TreeHead) -> None:
    note = sign_checkpoint(head, LOG)
    assert note.startswith(head.body() + "\n— " + ORIGIN + " ")
    assert open_checkpoint(note, LOG.verifier) == head
    witnessed = cosign(note, OFFICE, LOG.verifier)
    assert open_checkpoint(witnessed, LOG.verifier, required_witnesses=[OFFICE.verifier]) == head


@given(st.data())
def test_any_single_byte_changed_in_a_witnessed_note_is_refused(data: st.DataObject) -> None:
    note = cosign(sign_checkpoint(HEAD, LOG), OFFICE, LOG.verifier).encode()
    at = data.draw(st.integers(0, len(note) - 1), label="at")
    byte = data.draw(st.integers(0, 255).filter(lambda b: b != note[at]), label="byte")
    changed = note[:at] + bytes([byte]) + note[at + 1 :]
    with pytest.raises(REFUSED):
        open_checkpoint(changed, LOG.verifier, required_witnesses=[OFFICE.verifier])


def test_signatures_of_unknown_keys_are_ignored_even_sharing_a_name_or_an_id() -> None:
    note = sign_checkpoint(HEAD, LOG)
    impostor = Signer(ORIGIN, bytes(32))  # the log's name, another key (so another id)
    for extra in (PRESS, impostor):
        assert open_checkpoint(note + extra.sign(HEAD.body()), LOG.verifier) == HEAD
    same_id = LOG.sign("another text\n").replace(ORIGIN, "someone.example/else")
    assert open_checkpoint(note + same_id, LOG.verifier) == HEAD


def test_a_missing_required_witness_is_named() -> None:
    witnessed = cosign(sign_checkpoint(HEAD, LOG), PRESS, LOG.verifier)
    with pytest.raises(SignatureError) as refused:
        open_checkpoint(
            witnessed, LOG.verifier, required_witnesses=[PRESS.verifier, OFFICE.verifier]
        )
    assert (refused.value.key, refused.value.role) == (OFFICE.verifier.key, "witness")
    assert refused.value.problem == "missing"
    assert OFFICE.name in str(refused.value)


def test_a_witness_signature_of_another_head_is_refused_as_invalid() -> None:
    other = TreeHead(ORIGIN, 13, HEAD.root)
    stolen = OFFICE.sign(other.body())
    with pytest.raises(SignatureError) as refused:
        open_checkpoint(
            sign_checkpoint(HEAD, LOG) + stolen, LOG.verifier, required_witnesses=[OFFICE.verifier]
        )
    assert (refused.value.key, refused.value.problem) == (OFFICE.verifier.key, "invalid")


def test_a_witness_cosigns_only_a_head_the_log_signed() -> None:
    forged = sign_checkpoint(HEAD, Signer(ORIGIN, bytes(32)))
    with pytest.raises(SignatureError) as refused:
        cosign(forged, OFFICE, LOG.verifier)
    assert (refused.value.key, refused.value.role) == (LOG.verifier.key, "log")


def test_cosigning_twice_gives_the_same_note() -> None:
    once = cosign(sign_checkpoint(HEAD, LOG), OFFICE, LOG.verifier)
    assert cosign(once, OFFICE, LOG.verifier) == once
    assert len(split_note(once)[1]) == 2


def test_a_head_of_another_origin_is_refused_even_if_signed_by_the_log_key() -> None:
    note = sign_checkpoint(TreeHead("civicflow.example/district-2", 1, HEAD.root), LOG)
    with pytest.raises(MalformedNoteError, match="origin"):
        open_checkpoint(note, LOG.verifier)


def _checkpoint(size: str = "12", root: str | None = None, extra: str = "") -> str:
    root = HEAD.body().split("\n")[2] if root is None else root
    return sign_note(f"{ORIGIN}\n{size}\n{root}\n{extra}", LOG)


@pytest.mark.parametrize(
    "note",
    [
        _checkpoint(size="012"),
        _checkpoint(size="+12"),
        _checkpoint(size="-0"),
        _checkpoint(size="1_2"),
        _checkpoint(size="１２"),  # full-width digits: Python's int() would take them
        _checkpoint(size=str(2**63)),
        _checkpoint(size="12 "),
        _checkpoint(root="AAAA"),
        _checkpoint(root=HEAD.body().split("\n")[2].rstrip("=")),
        _checkpoint(root="!" * 44),
        sign_note(f"{ORIGIN}\n12\n", LOG),
        _checkpoint(extra="an extension line\n"),
    ],
)
def test_a_malformed_checkpoint_body_is_refused_though_signed(note: str) -> None:
    with pytest.raises(MalformedNoteError):
        open_checkpoint(note, LOG.verifier)


def test_extension_lines_are_read_only_when_allowed() -> None:
    head = open_checkpoint(_checkpoint(extra="x\n"), LOG.verifier, allow_extensions=True)
    assert head.extensions == ("x",)


def test_the_largest_size_is_read() -> None:
    assert open_checkpoint(_checkpoint(size=str(2**63 - 1)), LOG.verifier).size == 2**63 - 1


@pytest.mark.parametrize(
    ("origin", "size", "root", "extensions"),
    [
        ("", 0, bytes(32), ()),
        (ORIGIN + "\n", 0, bytes(32), ()),
        (ORIGIN, -1, bytes(32), ()),
        (ORIGIN, 2**63, bytes(32), ()),
        (ORIGIN, 0, bytes(31), ()),
        (ORIGIN, 0, bytes(32), ("",)),
    ],
)
def test_a_tree_head_that_cannot_be_written_is_refused(
    origin: str, size: int, root: bytes, extensions: tuple[str, ...]
) -> None:
    with pytest.raises(InvalidInputError):
        TreeHead(origin, size, root, extensions)


def test_a_signer_never_shows_its_secret() -> None:
    secret = LOG.key_string().rsplit("+", 1)[1]
    assert secret not in repr(LOG)
    assert secret not in repr(LOG.verifier)
    with pytest.raises(InvalidKeyError) as refused:
        Signer.from_key_string(LOG.key_string().replace(ORIGIN, ORIGIN + "x"))
    assert secret not in str(refused.value)


def test_two_different_keys_of_one_name_and_id_are_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    note = sign_checkpoint(HEAD, LOG)
    assert open_note(note, [LOG.verifier, LOG.verifier]).verified == {LOG.verifier.key}
    monkeypatch.setattr(signing, "key_id", lambda name, key: 1)  # a collision, made to order
    with pytest.raises(InvalidKeyError, match="two different keys"):
        open_note(note, [LOG.verifier, Verifier(ORIGIN, bytes(32))])


def test_every_byte_of_a_witnessed_note_is_covered() -> None:
    # The property above draws positions at random; this walks all of them once, with
    # the change most likely to slip through (one bit, which base64 padding can hide).
    note = cosign(sign_checkpoint(HEAD, LOG), OFFICE, LOG.verifier).encode()
    accepted = []
    for at in range(len(note)):
        changed = note[:at] + bytes([note[at] ^ 1]) + note[at + 1 :]
        try:
            open_checkpoint(changed, LOG.verifier, required_witnesses=[OFFICE.verifier])
        except REFUSED:
            continue
        accepted.append(at)
    assert accepted == []


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        # Go's TestNewVerifier: a wrong-length key and an unknown algorithm, ids adjusted
        (
            "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",
            "33 bytes",
        ),
        ("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "0x65"),
        (PETER_VKEY.upper(), "8 hex"),
    ],
)
def test_a_verifier_key_of_another_kind_is_refused_saying_why(key: str, reason: str) -> None:
    with pytest.raises(InvalidKeyError, match=reason):
        Verifier.from_key_string(key)


@pytest.mark.parametrize(
    ("name", "seed"), [("a b", bytes(32)), ("a+b", bytes(32)), ("", bytes(32)), ("a", bytes(31))]
)
def test_a_key_needs_a_name_without_spaces_or_plus_and_32_bytes(name: str, seed: bytes) -> None:
    with pytest.raises(InvalidKeyError):
        Signer(name, seed)
    with pytest.raises(InvalidKeyError):
        Verifier(name, seed)


@pytest.mark.parametrize("text", ["", "no final newline", "a control \x07 character\n"])
def test_a_text_that_cannot_be_a_note_is_not_signed(text: str) -> None:
    with pytest.raises(MalformedNoteError):
        sign_note(text, LOG)


@pytest.mark.parametrize(
    "body",
    [HEAD.body()[:-1], HEAD.body() + "\n", "\x00" + HEAD.body(), ORIGIN + "\n12\n"],
)
def test_a_checkpoint_body_is_parsed_strictly(body: str) -> None:
    with pytest.raises(MalformedNoteError):
        TreeHead.parse(body)
