"""Cosignatures (C2SP tlog-cosignature, Ed25519 ``cosignature/v1``) and verifier keys.

From the specifications (C2SP/C2SP ``tlog-cosignature.md``, ``signed-note.md``):

* key ID: ``SHA-256(<name> || "\\n" || 0x04 || 32-byte Ed25519 cosigner public key)[:4]``;
* the signature line is ``— <name> base64(key ID || timestamped_signature)`` where
  ``timestamped_signature`` is ``u64 timestamp (big-endian) || 64-byte Ed25519 signature``;
* the signed message is ``cosignature/v1\\n`` ``time <timestamp>\\n`` followed by "the whole
  note body of the cosigned checkpoint (including the final newline, but not including
  any signature lines)";
* the timestamp "MUST NOT exceed 2^63 - 1".

A vkey (signed-note "Verifier keys") is ``<name>+hex(key ID)+base64(type || public key)``;
type 0x01 is a log's Ed25519 note key, 0x04 a cosigner's.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from ledger.checkpoint import EM_DASH, CheckpointInvalid, split_note
from ledger.errors import LedgerError
from ledger.merkle import HASH_SIZE

ED25519_NOTE = 0x01
ED25519_COSIGNATURE = 0x04
HEADER = b"cosignature/v1\n"
MAX_TIMESTAMP = 2**63 - 1
_SIGNATURE = struct.Struct(">Q64s")
_DECIMAL = re.compile(r"0|[1-9][0-9]*")


class WitnessError(LedgerError):
    """Base error of the witness package."""


class KeyInvalid(WitnessError):
    """A verifier key (vkey) or key name is malformed or of the wrong type."""


class CosignatureInvalid(WitnessError):
    """A cosignature from a known witness key does not verify: the note was altered."""


def check_key_name(name: str) -> None:
    # signed-note: "Key names MUST be non-empty and MUST NOT contain any Unicode spaces
    # or plus (U+002B) characters."
    if not name or any(c.isspace() or c == "+" for c in name) or any(ord(c) < 0x20 for c in name):
        raise KeyInvalid(f"key name {name!r} is invalid: non-empty, no spaces, no '+'")


def raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(name: str, sig_type: int, public: bytes) -> bytes:
    """signed-note: ``SHA-256(key name || 0x0A || signature type || public key)[:4]``."""
    check_key_name(name)
    return hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([sig_type]) + public).digest()[:4]


@dataclass(frozen=True)
class VerifierKey:
    """A parsed vkey: who signs (name), how (type), with which Ed25519 public key."""

    name: str
    sig_type: int
    public: bytes

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.sig_type, self.public)

    @property
    def public_key(self) -> Ed25519PublicKey:
        return Ed25519PublicKey.from_public_bytes(self.public)

    def text(self) -> str:
        encoded = base64.b64encode(bytes([self.sig_type]) + self.public).decode("ascii")
        return f"{self.name}+{self.key_id.hex()}+{encoded}"


def parse_vkey(text: str, *, sig_type: int) -> VerifierKey:
    """A vkey of the expected signature type; KeyInvalid if malformed or mismatched."""
    parts = text.strip().split("+", 2)
    if len(parts) != 3:
        raise KeyInvalid(f"{text!r} is not a verifier key <name>+<key id>+<base64 key>")
    name, ident, material = parts
    check_key_name(name)
    try:
        blob = base64.b64decode(material.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise KeyInvalid(f"verifier key {name!r}: the key is not valid base64") from None
    if len(blob) != 33 or blob[0] != sig_type:
        kind = "a witness (cosignature/v1, 0x04)" if sig_type == ED25519_COSIGNATURE else "a log"
        raise KeyInvalid(
            f"verifier key {name!r} is not {kind} Ed25519 key (type 0x{sig_type:02x}, 32 bytes)"
        )
    key = VerifierKey(name, sig_type, blob[1:])
    if ident.lower() != ident or len(ident) != 8 or ident != key.key_id.hex():
        raise KeyInvalid(
            f"verifier key {name!r}: key id {ident!r} does not match the key "
            f"(expected {key.key_id.hex()})"
        )
    try:
        key.public_key  # noqa: B018 - a point that is not on the curve is refused here
    except ValueError:
        raise KeyInvalid(f"verifier key {name!r} is not a valid Ed25519 public key") from None
    return key


def cosigner_vkey(name: str, key: Ed25519PrivateKey | Ed25519PublicKey) -> VerifierKey:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return VerifierKey(name, ED25519_COSIGNATURE, raw_public(public))


def log_vkey(name: str, key: Ed25519PublicKey) -> VerifierKey:
    return VerifierKey(name, ED25519_NOTE, raw_public(key))


def signed_message(body: bytes, timestamp: int) -> bytes:
    """``cosignature/v1\\ntime <timestamp>\\n`` || the checkpoint's note text."""
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise WitnessError(f"cosignature timestamp {timestamp} is out of range")
    return HEADER + b"time %d\n" % timestamp + body


def cosign(body: bytes, key: Ed25519PrivateKey, name: str, timestamp: int) -> str:
    """One signature line (with its newline) cosigning the checkpoint text ``body``."""
    ident = key_id(name, ED25519_COSIGNATURE, raw_public(key.public_key()))
    blob = ident + _SIGNATURE.pack(timestamp, key.sign(signed_message(body, timestamp)))
    return f"{EM_DASH} {name} {base64.b64encode(blob).decode('ascii')}\n"


def cosignature_timestamp(signature: bytes) -> int:
    """The timestamp of a decoded cosignature (key ID || u64 timestamp || signature)."""
    if len(signature) != 4 + _SIGNATURE.size:
        raise WitnessError(f"a cosignature is {4 + _SIGNATURE.size} bytes, got {len(signature)}")
    return int(_SIGNATURE.unpack(signature[4:])[0])


def note_text(note: str) -> str:
    try:
        return split_note(note)[0]
    except CheckpointInvalid as e:
        raise WitnessError(str(e)) from e


def cosignatures(note: str, witnesses: list[VerifierKey]) -> dict[str, int]:
    """Witness name -> cosignature timestamp, for each listed witness that cosigned.

    Signatures from unknown keys (name and key ID must both match) are ignored; a
    cosignature from a known key that does not verify raises CosignatureInvalid (the
    note is then malformed, signed-note: "clients SHOULD reject the whole note")."""
    try:
        text, lines = split_note(note)
    except CheckpointInvalid as e:
        raise WitnessError(str(e)) from e
    body = text.encode("utf-8")
    found: dict[str, int] = {}
    for witness in witnesses:
        ident = witness.key_id
        for name, blob in lines:
            if name != witness.name or blob[:4] != ident:
                continue
            if len(blob) != 4 + _SIGNATURE.size:
                raise CosignatureInvalid(
                    f"the cosignature of witness {name!r} is {len(blob) - 4} bytes, not "
                    f"{_SIGNATURE.size} (timestamp and Ed25519 signature)"
                )
            timestamp, signature = _SIGNATURE.unpack(blob[4:])
            try:
                witness.public_key.verify(signature, signed_message(body, timestamp))
            except (InvalidSignature, WitnessError):
                raise CosignatureInvalid(
                    f"the cosignature of witness {name!r} does not verify: the checkpoint "
                    "text or the cosignature was altered"
                ) from None
            found[name] = max(found.get(name, 0), timestamp)
    return found


def add_signature_lines(note: str, lines: str) -> str:
    """The signed note with more signature lines (already formatted) after its own."""
    if not lines:
        return note
    if not note.endswith("\n") or not lines.endswith("\n"):
        raise WitnessError("signature lines and notes end with a newline")
    for line in lines.splitlines():
        if not line.startswith(f"{EM_DASH} ") or line.count(" ") != 2:
            raise WitnessError(f"not a signature line: {line!r}")
    present = set(note.splitlines())
    new = "".join(f"{line}\n" for line in lines.splitlines() if line not in present)
    return note + new


@dataclass(frozen=True)
class CheckpointText:
    """A checkpoint's note text per C2SP tlog-checkpoint, extension lines left opaque."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...]


def parse_checkpoint_text(text: str) -> CheckpointText:
    """tlog-checkpoint "Note text": origin, decimal size (no leading zeroes), base64 root,
    then optional non-empty extension lines."""
    if not text.endswith("\n"):
        raise WitnessError("checkpoint text must end with a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise WitnessError(f"a checkpoint has at least 3 lines, got {len(lines)}")
    origin, size, root, *extensions = lines
    if not origin:
        raise WitnessError("checkpoint origin line is empty")
    if not _DECIMAL.fullmatch(size) or int(size) > MAX_TIMESTAMP:
        raise WitnessError(f"checkpoint tree size {size!r} is not a decimal without leading zeroes")
    try:
        raw = base64.b64decode(root.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise WitnessError(f"checkpoint root hash {root!r} is not base64") from None
    if len(raw) != HASH_SIZE:
        raise WitnessError(f"checkpoint root hash must be {HASH_SIZE} bytes, got {len(raw)}")
    if any(not line for line in extensions):
        raise WitnessError("checkpoint extension lines must be non-empty")
    return CheckpointText(origin, int(size), raw, tuple(extensions))


def parse_decimal(text: str, what: str) -> int:
    if not _DECIMAL.fullmatch(text) or int(text) > MAX_TIMESTAMP:
        raise WitnessError(f"{what} {text!r} is not a decimal without leading zeroes")
    return int(text)
