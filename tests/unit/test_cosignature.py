"""Cosignatures (C2SP tlog-cosignature, cosignature/v1) and verifier keys, against the
specification's own example and vectors of other implementations."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.checkpoint import sign_note
from ledger.witness.cosignature import (
    ED25519_COSIGNATURE,
    ED25519_NOTE,
    CosignatureInvalid,
    KeyInvalid,
    WitnessError,
    add_signature_lines,
    cosign,
    cosignature_timestamp,
    cosignatures,
    cosigner_vkey,
    parse_checkpoint_text,
    parse_vkey,
    raw_public,
    signed_message,
)

# tlog-cosignature.md, "Ed25519 signed message" and the example checkpoint above it.
SPEC_BODY = b"example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
SPEC_MESSAGE = (
    b"cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\n"
    b"CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
)
SPEC_COSIGNATURE = (
    "jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZ"
    "qhf5nNo0xUe+mbIUBkBIfZ+qnA=="
)
# transparency-dev/formats note/note_cosigv1_test.go: a native cosignature/v1 vkey of a
# running witness, and a cosignature whose timestamp is 1727964367.
REMORA_VKEY = "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2"
GO_COSIGNATURE = (
    "ZGhGuQAAAABm/qTPeyKXD+R2rzyQsxPiP8mXum7qq/iF0u4vanlqJyocWODBt97w9uL+8qT7S5gxEHWWOworDcFiEBYJ"
    "XORmnFBOBA=="
)

LOG = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
WITNESS = Ed25519PrivateKey.from_private_bytes(bytes(range(32, 64)))
OTHER = Ed25519PrivateKey.from_private_bytes(bytes(range(64, 96)))
NAME = "witness.example.org/board"
BODY = b"custodes/test\n6\n" + base64.b64encode(hashlib.sha256(b"root").digest()) + b"\ntime x\n"


def note_with(*lines: str) -> str:
    return sign_note(BODY, LOG, "custodes/test") + "".join(lines)


def test_the_signed_message_is_the_specs_example_byte_for_byte() -> None:
    assert signed_message(SPEC_BODY, 1679315147) == SPEC_MESSAGE


def test_the_specs_example_cosignature_carries_the_timestamp_of_its_message() -> None:
    assert cosignature_timestamp(base64.b64decode(SPEC_COSIGNATURE)) == 1679315147
    assert cosignature_timestamp(base64.b64decode(GO_COSIGNATURE)) == 1727964367


def test_a_running_witnesss_vkey_has_the_key_id_of_the_cosignature_type() -> None:
    key = parse_vkey(REMORA_VKEY, sig_type=ED25519_COSIGNATURE)
    assert key.name == "remora.n621.de"
    assert key.key_id.hex() == "da77ade7"
    assert key.key_id == hashlib.sha256(b"remora.n621.de\n\x04" + key.public).digest()[:4]
    assert key.text() == REMORA_VKEY


def test_a_log_key_is_not_accepted_as_a_witness_key_nor_the_reverse() -> None:
    with pytest.raises(KeyInvalid, match="is not a witness"):
        parse_vkey(REMORA_VKEY.replace("+BO", "+AO"), sig_type=ED25519_COSIGNATURE)
    with pytest.raises(KeyInvalid, match="is not a log"):
        parse_vkey(REMORA_VKEY, sig_type=ED25519_NOTE)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("remora.n621.de+da77ade7", "is not a verifier key"),
        ("remora.n621.de+00000000+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2", "does not match"),
        ("remora.n621.de+DA77ADE7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2", "does not match"),
        ("remora.n621.de+da77ade7+BOvN63jn!", "not valid base64"),
        ("remora n621+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2", "key name"),
    ],
)
def test_malformed_vkeys_are_refused(text: str, message: str) -> None:
    with pytest.raises(KeyInvalid, match=message):
        parse_vkey(text, sig_type=ED25519_COSIGNATURE)


def test_a_vkey_whose_base64_holds_a_plus_parses() -> None:
    key = cosigner_vkey(NAME, WITNESS)
    while "+" not in key.text().split("+", 2)[2]:  # find a key whose base64 has a '+'
        key = cosigner_vkey(NAME, Ed25519PrivateKey.generate())
    assert parse_vkey(key.text(), sig_type=ED25519_COSIGNATURE) == key


def test_a_cosignature_is_key_id_timestamp_and_ed25519_over_the_message() -> None:
    line = cosign(BODY, WITNESS, NAME, 1793718000)
    dash, name, encoded = line.removesuffix("\n").split(" ")
    assert (dash, name) == ("\u2014", NAME)
    blob = base64.b64decode(encoded)
    public = raw_public(WITNESS.public_key())
    assert blob[:4] == hashlib.sha256(NAME.encode() + b"\n\x04" + public).digest()[:4]
    assert int.from_bytes(blob[4:12], "big") == 1793718000
    message = b"cosignature/v1\ntime 1793718000\n" + BODY
    WITNESS.public_key().verify(blob[12:], message)  # raises if it does not verify
    assert len(blob) == 4 + 8 + 64


def test_cosignatures_verify_and_report_their_time() -> None:
    note = note_with(cosign(BODY, WITNESS, NAME, 1793718000))
    assert cosignatures(note, [cosigner_vkey(NAME, WITNESS)]) == {NAME: 1793718000}


def test_unknown_keys_and_lookalikes_are_ignored() -> None:
    other = cosign(BODY, OTHER, NAME, 1)  # same name, another key: another key ID
    renamed = cosign(BODY, WITNESS, "someone.else/w", 1)  # same key, another name
    note = note_with(other, renamed)
    assert cosignatures(note, [cosigner_vkey(NAME, WITNESS)]) == {}


def test_a_log_signature_under_the_witness_name_is_not_a_cosignature() -> None:
    plain = sign_note(BODY, WITNESS, NAME)  # signed-note type 0x01: another key ID
    note = note_with(plain.split("\n\n", 1)[1])
    assert cosignatures(note, [cosigner_vkey(NAME, WITNESS)]) == {}


@pytest.mark.parametrize("where", ["body", "timestamp", "signature"])
def test_an_altered_cosigned_note_is_rejected(where: str) -> None:
    line = cosign(BODY, WITNESS, NAME, 1793718000)
    note = note_with(line)
    if where == "body":
        note = note.replace("\n6\n", "\n7\n", 1)
    else:
        blob = bytearray(base64.b64decode(line.split(" ")[2]))
        blob[8 if where == "timestamp" else 40] ^= 1
        note = note.replace(line.split(" ")[2].strip(), base64.b64encode(bytes(blob)).decode())
    with pytest.raises(CosignatureInvalid, match=f"witness '{NAME}' does not verify"):
        cosignatures(note, [cosigner_vkey(NAME, WITNESS)])


def test_a_timestamp_beyond_2_63_is_refused() -> None:
    with pytest.raises(WitnessError, match="out of range"):
        signed_message(BODY, 2**63)


def test_signature_lines_are_added_once_after_the_notes_own() -> None:
    line = cosign(BODY, WITNESS, NAME, 5)
    note = note_with()
    once = add_signature_lines(note, line)
    assert once == note + line
    assert add_signature_lines(once, line) == once
    with pytest.raises(WitnessError, match="not a signature line"):
        add_signature_lines(note, "hello\n")


def test_checkpoint_text_keeps_extension_lines_opaque() -> None:
    text = parse_checkpoint_text(SPEC_BODY.decode() + "anything at all\n")
    assert (text.origin, text.size, text.extensions) == (
        "example.com/behind-the-sofa",
        20852163,
        ("anything at all",),
    )
    for bad, message in [
        ("o\n01\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n", "leading zeroes"),
        ("o\n1\nCsUY\n", "32 bytes"),
        ("o\n1\n", "at least 3 lines"),
        ("o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n", "non-empty"),
    ]:
        with pytest.raises(WitnessError, match=message):
            parse_checkpoint_text(bad)
