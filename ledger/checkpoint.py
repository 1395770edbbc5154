"""Signed checkpoints: the C2SP tlog-checkpoint body in a C2SP signed note (Ed25519).

Format, from the specifications (C2SP/C2SP ``tlog-checkpoint.md`` and ``signed-note.md``):

* Note text (tlog-checkpoint "Note text"): at least three non-empty lines, each ending in
  U+000A: the origin, the tree size in ASCII decimal without leading zeroes, the base64
  (RFC 4648 §4, padded) RFC 6962 root hash; then optional, non-empty, opaque *extension
  lines* ("Any following lines are extension lines, opaque and OPTIONAL"). We write one:
  ``time <RFC 3339 UTC>``, the moment the ledger signed the checkpoint.
* Signed note (signed-note "Format"): the text, a blank line, then one or more lines
  ``— <key name> <base64(4-byte big-endian key ID || signature)>`` (em dash U+2014). The
  text that is signed includes its final newline but not the separating blank line.
* Ed25519 (signed-note "Ed25519 signatures"): RFC 8032 over the note text;
  ``key ID = SHA-256(key name || 0x0A || 0x01 || 32-byte public key)[:4]``.
* Verifiers ignore signatures from unknown keys (name and ID must both match), and
  reject the note when no signature from the trusted key verifies.

Checking a checkpoint with OpenSSL alone (tested in tests/unit/test_checkpoint.py), given
``checkpoint.txt`` and the public key ``pub.pem`` from :func:`public_key_pem`::

    # The note text: every line before the first empty line (a checkpoint has none).
    sed '/^$/,$d' checkpoint.txt > body.txt
    # The signature: drop the 4-byte key ID from the base64 of our signature line.
    grep -F -- '— example.org/custodes ' checkpoint.txt | cut -d' ' -f3 \\
        | base64 -d | tail -c +5 > sig.bin
    openssl pkeyutl -verify -pubin -inkey pub.pem -rawin -in body.txt -sigfile sig.bin

which prints ``Signature Verified Successfully`` (exit status 0), or
``Signature Verification Failure`` (exit status 1).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from ledger.merkle import HASH_SIZE, MerkleError

__all__ = [
    "Checkpoint",
    "CheckpointError",
    "CheckpointInvalid",
    "SigningKeyError",
    "generate_signing_key",
    "key_id",
    "load_private_key",
    "parse_and_verify",
    "parse_unverified",
    "private_key_pem",
    "public_key_pem",
    "sign_checkpoint",
    "sign_note",
    "split_note",
    "verify_note",
    "vkey",
]

ED25519_TYPE = b"\x01"
EM_DASH = "\u2014"
# signed-note: verifiers must accept at least 16 signatures and should bound them.
MAX_SIGNATURES = 100

_SIZE_RE = re.compile(r"0|[1-9][0-9]*")
_TIME_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z")


class CheckpointError(MerkleError):
    """Base error of checkpoint signing and verification."""


class CheckpointInvalid(CheckpointError):
    """A checkpoint note is malformed or not validly signed by the trusted key."""


class SigningKeyError(CheckpointError):
    """A signing key cannot be loaded (wrong or missing passphrase, wrong key type)."""


def _b64decode(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise CheckpointInvalid(f"{what} is not valid base64: {text!r}") from None


def _check_key_name(key_name: str) -> None:
    # signed-note: "Key names MUST be non-empty and MUST NOT contain any Unicode spaces
    # or plus (U+002B) characters."
    if not key_name or any(c.isspace() or c == "+" for c in key_name):
        raise CheckpointError(
            f"key name {key_name!r} is invalid: it must be non-empty, without spaces or '+'"
        )


# A control character other than newline (one regex search, not a Python loop per
# character: every checkpoint read goes through here).
_CONTROL = re.compile("[\x00-\x09\x0b-\x1f]")


def _check_text(text: str, what: str) -> None:
    if _CONTROL.search(text):
        raise CheckpointInvalid(f"{what} contains a control character other than newline")


def _format_time(moment: datetime) -> str:
    fmt = "%Y-%m-%dT%H:%M:%S.%fZ" if moment.microsecond else "%Y-%m-%dT%H:%M:%SZ"
    return moment.astimezone(UTC).strftime(fmt)


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    time: datetime

    def __post_init__(self) -> None:
        if not self.origin or "\n" in self.origin:
            raise CheckpointError(f"checkpoint origin {self.origin!r} must be one non-empty line")
        _check_text(self.origin, "checkpoint origin")
        if self.size < 0:
            raise CheckpointError(f"checkpoint tree size must be >= 0, got {self.size}")
        if len(self.root) != HASH_SIZE:
            raise CheckpointError(
                f"checkpoint root must be {HASH_SIZE} bytes, got {len(self.root)}"
            )
        if self.time.tzinfo is None or self.time.utcoffset() is None:
            raise CheckpointError("checkpoint time must be timezone-aware")
        object.__setattr__(self, "time", self.time.astimezone(UTC))

    def body(self) -> bytes:
        """The note text that is signed, including its final newline."""
        root = base64.b64encode(self.root).decode("ascii")
        text = f"{self.origin}\n{self.size}\n{root}\ntime {_format_time(self.time)}\n"
        return text.encode("utf-8")


def key_id(key_name: str, public_key: Ed25519PublicKey) -> bytes:
    _check_key_name(key_name)
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(key_name.encode("utf-8") + b"\n" + ED25519_TYPE + raw).digest()[:4]


def vkey(key_name: str, public_key: Ed25519PublicKey) -> str:
    """The signed-note verifier key ``<name>+<hex key ID>+<base64(0x01 || public key)>``."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    encoded = base64.b64encode(ED25519_TYPE + raw).decode("ascii")
    return f"{key_name}+{key_id(key_name, public_key).hex()}+{encoded}"


def sign_note(text: bytes, private_key: Ed25519PrivateKey, key_name: str) -> str:
    """A signed note of ``text`` (which must end in a newline) with one signature."""
    decoded = text.decode("utf-8")
    if not decoded.endswith("\n"):
        raise CheckpointError("note text must end with a newline")
    _check_text(decoded, "note text")
    ident = key_id(key_name, private_key.public_key())
    signature = base64.b64encode(ident + private_key.sign(text)).decode("ascii")
    return f"{decoded}\n{EM_DASH} {key_name} {signature}\n"


def _split_note(note: str) -> tuple[str, list[tuple[str, bytes]]]:
    """The note text and its (key name, decoded signature) lines."""
    _check_text(note, "signed note")
    if not note.endswith("\n"):
        raise CheckpointInvalid("signed note must end with a newline")
    # signed-note: the text is separated from the signatures by the last empty line.
    cut = note.rfind("\n\n")
    if cut < 0:
        raise CheckpointInvalid("signed note has no blank line before its signatures")
    text, lines = note[: cut + 1], note[cut + 2 : -1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise CheckpointInvalid(f"signed note has more than {MAX_SIGNATURES} signatures")
    signatures = []
    for line in lines:
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != EM_DASH or not parts[1]:
            raise CheckpointInvalid(f"malformed signature line {line!r}")
        blob = _b64decode(parts[2], f"signature of key {parts[1]!r}")
        if len(blob) < 5:
            raise CheckpointInvalid(f"signature of key {parts[1]!r} is too short")
        signatures.append((parts[1], blob))
    return text, signatures


def split_note(note: str) -> tuple[str, list[tuple[str, bytes]]]:
    """The note text and its (key name, decoded signature) lines, no signature checked."""
    return _split_note(note)


def verify_note(note: str, public_key: Ed25519PublicKey, key_name: str) -> str:
    """The note text, once a signature by ``key_name`` has been verified."""
    text, signatures = _split_note(note)
    ident = key_id(key_name, public_key)
    verified = False
    for name, blob in signatures:
        if name != key_name or blob[:4] != ident:
            continue  # signed-note: signatures from unknown keys MUST be ignored.
        try:
            public_key.verify(blob[4:], text.encode("utf-8"))
        except InvalidSignature:
            raise CheckpointInvalid(
                f"checkpoint signature by key {key_name!r} does not verify: "
                "the checkpoint text or signature was altered"
            ) from None
        verified = True
    if not verified:
        raise CheckpointInvalid(f"checkpoint is not signed by key {key_name!r}")
    return text


def _parse_body(text: str) -> Checkpoint:
    lines = text.split("\n")[:-1]
    if len(lines) < 3:
        raise CheckpointInvalid(
            f"checkpoint needs origin, size and root lines, got {len(lines)} lines"
        )
    origin, size_line, root_line, *extensions = lines
    if not origin:
        raise CheckpointInvalid("checkpoint origin line is empty")
    if not _SIZE_RE.fullmatch(size_line):
        raise CheckpointInvalid(
            f"checkpoint tree size {size_line!r} is not a decimal without leading zeroes"
        )
    root = _b64decode(root_line, "checkpoint root hash")
    if len(root) != HASH_SIZE:
        raise CheckpointInvalid(f"checkpoint root hash must be {HASH_SIZE} bytes, got {len(root)}")
    times = [line for line in extensions if line.startswith("time ")]
    others = [line for line in extensions if not line.startswith("time ")]
    if others:
        raise CheckpointInvalid(f"checkpoint has an unknown extension line {others[0]!r}")
    if len(times) != 1:
        raise CheckpointInvalid(
            f"checkpoint must have exactly one 'time' extension line, got {len(times)}"
        )
    stamp = times[0][len("time ") :]
    if not _TIME_RE.fullmatch(stamp):
        raise CheckpointInvalid(f"checkpoint time {stamp!r} is not an RFC 3339 UTC time")
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        raise CheckpointInvalid(f"checkpoint time {stamp!r} is not a valid date") from None
    return Checkpoint(origin=origin, size=int(size_line), root=root, time=moment)


def sign_checkpoint(cp: Checkpoint, private_key: Ed25519PrivateKey, key_name: str) -> str:
    """The full signed note text of ``cp``."""
    return sign_note(cp.body(), private_key, key_name)


def parse_and_verify(note: str, public_key: Ed25519PublicKey, key_name: str) -> Checkpoint:
    return _parse_body(verify_note(note, public_key, key_name))


def parse_unverified(note: str) -> Checkpoint:
    """The checkpoint in a note WITHOUT checking any signature (for display only)."""
    text, _ = _split_note(note)
    return _parse_body(text)


def generate_signing_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def private_key_pem(key: Ed25519PrivateKey, passphrase: bytes | None) -> bytes:
    """PKCS#8 PEM, encrypted with the best available scheme when a passphrase is given."""
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase)
        if passphrase
        else serialization.NoEncryption()
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )


def load_private_key(pem: bytes, passphrase: bytes | None) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=passphrase or None)
    except TypeError as error:
        if "not encrypted" in str(error):
            raise SigningKeyError(
                "the signing key is not encrypted; load it without a passphrase"
            ) from None
        raise SigningKeyError(
            "the signing key is encrypted; a passphrase is required to load it"
        ) from None
    except ValueError:
        raise SigningKeyError(
            "cannot load the signing key: wrong passphrase, or not a PEM private key"
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError("the signing key is not an Ed25519 key")
    return key


def public_key_pem(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    """SubjectPublicKeyInfo PEM, as ``openssl pkeyutl -pubin -inkey`` reads it."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def public_key_fingerprint(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """SHA-256 (hex) of the public key's DER SubjectPublicKeyInfo, as OpenSSL computes it:
    ``openssl pkey -pubin -in public-key.pem -outform DER | sha256sum``."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    der = public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()
