"""Signed checkpoints: C2SP signed-note format, Ed25519, key files, and OpenSSL interop."""

from __future__ import annotations

import base64
import subprocess
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

import ledger.checkpoint
from ledger.checkpoint import (
    Checkpoint,
    CheckpointError,
    CheckpointInvalid,
    SigningKeyError,
    load_private_key,
    parse_and_verify,
    parse_unverified,
    private_key_pem,
    public_key_pem,
    sign_checkpoint,
    sign_note,
    verify_note,
    vkey,
)
from tests.conftest import require_tool

KEY_NAME = "example.org/custodes"
# Fixed keys so that every run signs the same bytes (Ed25519 is deterministic).
KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
OTHER_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
ROOT = bytes.fromhex("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")
CHECKPOINT = Checkpoint(
    origin=KEY_NAME, size=8, root=ROOT, time=datetime(2025, 3, 1, 12, 30, 5, tzinfo=UTC)
)

# Known-answer vector of golang.org/x/mod/sumdb/note (the package doc's example and
# note_test.go), the reference implementation of C2SP signed-note.
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    b"If you think cryptography is the answer to your problem,\n"
    b"then you don't know what your problem is.\n"
)
GO_NOTE = (
    GO_TEXT.decode()
    + "\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)


def go_private_key() -> Ed25519PrivateKey:
    encoded = GO_SKEY.split("+", 4)[4]
    raw = base64.b64decode(encoded)
    assert raw[0] == 1
    return Ed25519PrivateKey.from_private_bytes(raw[1:])


def test_our_signed_notes_match_the_go_reference_implementation_byte_for_byte() -> None:
    key = go_private_key()
    assert vkey("PeterNeumann", key.public_key()) == GO_VKEY
    assert sign_note(GO_TEXT, key, "PeterNeumann") == GO_NOTE
    assert verify_note(GO_NOTE, key.public_key(), "PeterNeumann") == GO_TEXT.decode()


def test_the_checkpoint_body_is_origin_size_root_and_a_time_extension_line() -> None:
    assert CHECKPOINT.body() == (
        b"example.org/custodes\n"
        b"8\n"
        b"XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n"
        b"time 2025-03-01T12:30:05Z\n"
    )


def test_a_signed_checkpoint_has_one_signature_line_after_a_blank_line() -> None:
    note = sign_checkpoint(CHECKPOINT, KEY, KEY_NAME)
    body, signature_line = note.split("\n\n")
    assert (body + "\n").encode() == CHECKPOINT.body()
    dash, name, blob = signature_line.rstrip("\n").split(" ")
    assert (dash, name) == ("\u2014", KEY_NAME)
    raw = base64.b64decode(blob)
    assert raw[:4].hex() == vkey(KEY_NAME, KEY.public_key()).split("+")[1]
    assert len(raw) == 4 + 64


def test_a_checkpoint_round_trips_through_signing_and_verification() -> None:
    note = sign_checkpoint(CHECKPOINT, KEY, KEY_NAME)
    assert parse_and_verify(note, KEY.public_key(), KEY_NAME) == CHECKPOINT
    assert parse_unverified(note) == CHECKPOINT


def test_a_time_with_microseconds_and_another_offset_round_trips_as_utc() -> None:
    local = datetime(2025, 3, 1, 7, 30, 5, 250, tzinfo=timezone(timedelta(hours=-5)))
    cp = Checkpoint(origin=KEY_NAME, size=0, root=ROOT, time=local)
    assert cp.body().endswith(b"time 2025-03-01T12:30:05.000250Z\n")
    parsed = parse_and_verify(sign_checkpoint(cp, KEY, KEY_NAME), KEY.public_key(), KEY_NAME)
    assert parsed.time == datetime(2025, 3, 1, 12, 30, 5, 250, tzinfo=UTC)
    assert parsed.time.tzinfo == UTC


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("\n8\n", "\n9\n"),
        ("XcnaeacGWamt", "XcnaeacGWamu"),
        ("time 2025-03-01T12:30:05Z", "time 2025-03-01T12:30:06Z"),
        ("example.org/custodes\n8", "example.org/custodez\n8"),
    ],
    ids=["size", "root", "time", "origin"],
)
def test_a_tampered_checkpoint_is_rejected(old: str, new: str) -> None:
    note = sign_checkpoint(CHECKPOINT, KEY, KEY_NAME)
    tampered = note.replace(old, new, 1)
    assert tampered != note
    with pytest.raises(CheckpointInvalid) as excinfo:
        parse_and_verify(tampered, KEY.public_key(), KEY_NAME)
    assert str(excinfo.value) == (
        "checkpoint signature by key 'example.org/custodes' does not verify: "
        "the checkpoint text or signature was altered"
    )


def test_a_checkpoint_signed_by_another_key_is_rejected() -> None:
    note = sign_checkpoint(CHECKPOINT, OTHER_KEY, KEY_NAME)
    with pytest.raises(CheckpointInvalid) as excinfo:
        parse_and_verify(note, KEY.public_key(), KEY_NAME)
    assert str(excinfo.value) == "checkpoint is not signed by key 'example.org/custodes'"


def test_a_checkpoint_signed_under_another_key_name_is_rejected() -> None:
    note = sign_checkpoint(CHECKPOINT, KEY, "example.org/other")
    with pytest.raises(CheckpointInvalid) as excinfo:
        parse_and_verify(note, KEY.public_key(), KEY_NAME)
    assert str(excinfo.value) == "checkpoint is not signed by key 'example.org/custodes'"


def test_signatures_from_unknown_keys_are_ignored() -> None:
    note = sign_checkpoint(CHECKPOINT, KEY, KEY_NAME)
    witness = sign_checkpoint(CHECKPOINT, OTHER_KEY, "witness.example/w1")
    cosigned = note + witness.split("\n\n")[1]
    assert cosigned.count("\u2014") == 2
    assert parse_and_verify(cosigned, KEY.public_key(), KEY_NAME) == CHECKPOINT


@pytest.mark.parametrize(
    ("note", "message"),
    [
        ("example.org/custodes\n8\n", "signed note has no blank line before its signatures"),
        ("a\n\n\u2014 k abc", "signed note must end with a newline"),
        ("a\n\n- k AAAAAAAA\n", "malformed signature line '- k AAAAAAAA'"),
        ("a\n\n\u2014 k !!!!\n", "signature of key 'k' is not valid base64: '!!!!'"),
        (
            "a\tb\n\n\u2014 k AAAAAAAA\n",
            "signed note contains a control character other than newline",
        ),
    ],
    ids=["no-separator", "no-final-newline", "hyphen", "bad-base64", "control-char"],
)
def test_malformed_notes_are_rejected_with_a_specific_message(note: str, message: str) -> None:
    with pytest.raises(CheckpointInvalid) as excinfo:
        parse_and_verify(note, KEY.public_key(), KEY_NAME)
    assert str(excinfo.value) == message


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("o\n8\n", "checkpoint needs origin, size and root lines, got 2 lines"),
        ("o\n08\nAAAA\n", "checkpoint tree size '08' is not a decimal without leading zeroes"),
        ("o\n8\nAAAA\ntime 2025-03-01T12:30:05Z\n", "checkpoint root hash must be 32 bytes, got 3"),
        (
            f"o\n8\n{base64.b64encode(ROOT).decode()}\n",
            "checkpoint must have exactly one 'time' extension line, got 0",
        ),
        (
            f"o\n8\n{base64.b64encode(ROOT).decode()}\ntime 2025-03-01 12:30:05\n",
            "checkpoint time '2025-03-01 12:30:05' is not an RFC 3339 UTC time",
        ),
        (
            f"o\n8\n{base64.b64encode(ROOT).decode()}\ntime 2025-03-01T12:30:05Z\nextra\n",
            "checkpoint has an unknown extension line 'extra'",
        ),
    ],
    ids=["short", "leading-zero", "short-root", "no-time", "bad-time", "unknown-extension"],
)
def test_malformed_checkpoint_bodies_are_rejected_even_when_signed(body: str, message: str) -> None:
    note = sign_note(body.encode(), KEY, KEY_NAME)
    with pytest.raises(CheckpointInvalid) as excinfo:
        parse_and_verify(note, KEY.public_key(), KEY_NAME)
    assert str(excinfo.value) == message


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(CheckpointError) as excinfo:
        Checkpoint(origin=KEY_NAME, size=1, root=ROOT, time=datetime(2025, 3, 1))
    assert str(excinfo.value) == "checkpoint time must be timezone-aware"


def test_a_key_name_with_a_plus_or_space_is_refused() -> None:
    with pytest.raises(CheckpointError) as excinfo:
        sign_checkpoint(CHECKPOINT, KEY, "custodes log")
    assert str(excinfo.value) == (
        "key name 'custodes log' is invalid: it must be non-empty, without spaces or '+'"
    )


def test_a_private_key_round_trips_through_an_encrypted_pem() -> None:
    pem = private_key_pem(KEY, b"correct horse")
    assert pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n")
    loaded = load_private_key(pem, b"correct horse")
    assert public_key_pem(loaded) == public_key_pem(KEY)


def test_an_unencrypted_private_key_round_trips() -> None:
    pem = private_key_pem(KEY, None)
    assert pem.startswith(b"-----BEGIN PRIVATE KEY-----\n")
    assert public_key_pem(load_private_key(pem, None)) == public_key_pem(KEY)


def test_a_wrong_passphrase_is_reported() -> None:
    pem = private_key_pem(KEY, b"correct horse")
    with pytest.raises(SigningKeyError) as excinfo:
        load_private_key(pem, b"battery staple")
    assert str(excinfo.value) == (
        "cannot load the signing key: wrong passphrase, or not a PEM private key"
    )


def test_a_missing_passphrase_is_reported() -> None:
    pem = private_key_pem(KEY, b"correct horse")
    with pytest.raises(SigningKeyError) as excinfo:
        load_private_key(pem, None)
    assert str(excinfo.value) == "the signing key is encrypted; a passphrase is required to load it"


def test_a_passphrase_for_an_unencrypted_key_is_reported() -> None:
    with pytest.raises(SigningKeyError) as excinfo:
        load_private_key(private_key_pem(KEY, None), b"correct horse")
    assert str(excinfo.value) == "the signing key is not encrypted; load it without a passphrase"


def test_the_public_key_pem_is_subject_public_key_info() -> None:
    # RFC 8410 §4: SPKI DER of an Ed25519 key is a fixed 12-byte prefix and the raw key.
    raw = KEY.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    der = bytes.fromhex("302a300506032b6570032100") + raw
    assert public_key_pem(KEY) == (
        b"-----BEGIN PUBLIC KEY-----\n" + base64.b64encode(der) + b"\n-----END PUBLIC KEY-----\n"
    )
    assert public_key_pem(KEY.public_key()) == public_key_pem(KEY)


def documented_openssl_commands() -> str:
    """The shell commands of ledger/checkpoint.py's docstring, so docs and test agree."""
    doc = ledger.checkpoint.__doc__ or ""
    block = doc.split("from :func:`public_key_pem`::\n", 1)[1].split("\nwhich prints", 1)[0]
    return "\n".join(line.strip() for line in block.splitlines() if line.strip())


def test_openssl_alone_verifies_our_checkpoint_and_rejects_a_flipped_byte(tmp_path: Path) -> None:
    require_tool("openssl", "the recipient's check uses OpenSSL alone")
    commands = documented_openssl_commands()
    assert "openssl pkeyutl -verify -pubin -inkey pub.pem -rawin -in body.txt -sigfile sig.bin" in (
        commands
    )
    note = sign_checkpoint(CHECKPOINT, KEY, KEY_NAME)
    (tmp_path / "checkpoint.txt").write_bytes(note.encode())
    (tmp_path / "pub.pem").write_bytes(public_key_pem(KEY))

    good = subprocess.run(["sh", "-c", commands], cwd=tmp_path, capture_output=True, text=True)
    assert (tmp_path / "body.txt").read_bytes() == CHECKPOINT.body()
    assert len((tmp_path / "sig.bin").read_bytes()) == 64
    assert good.returncode == 0, good.stderr
    assert "Signature Verified Successfully" in good.stdout

    tampered = note.replace("\n8\n", "\n9\n", 1)
    (tmp_path / "checkpoint.txt").write_bytes(tampered.encode())
    bad = subprocess.run(["sh", "-c", commands], cwd=tmp_path, capture_output=True, text=True)
    assert bad.returncode == 1
    assert "Signature Verification Failure" in bad.stdout
