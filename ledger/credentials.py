"""Staff credentials (R25): a passphrase unlocks the member's own Ed25519 signing key.

A member's key file (``keys/staff/<key id>.key``, 0600) holds the private key encrypted
with AES-256-GCM under a key derived from the passphrase by argon2id (RFC 9106). The
parameters are stored with the wrapped key and never accepted below ``KDF_MINIMUM`` (64
MiB, 3 passes): a copied key file costs an attacker that much per guess. The header
(member, key id, public key, parameters) is the AEAD's associated data, so editing any of
it, or swapping in another member's file, fails like a wrong passphrase would not: it is
reported as a damaged file, never silently accepted. (Not PKCS#8's
``BestAvailableEncryption``: PBKDF2 with 2,048 iterations.)
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ledger.acts import canonical_json, key_id, raw_public_key
from ledger.errors import LedgerError

FORMAT = "custodes-staff-key/1"
MIN_PASSPHRASE = 12  # characters
MAX_PASSPHRASE = 1024  # bytes


@dataclass(frozen=True)
class KdfParams:
    memory_kib: int
    iterations: int
    lanes: int

    def at_least(self, other: KdfParams) -> bool:
        return self.memory_kib >= other.memory_kib and self.iterations >= other.iterations


# RFC 9106 §4, second recommended option (64 MiB, 3 passes, 4 lanes).
KDF_PARAMS = KdfParams(memory_kib=64 * 1024, iterations=3, lanes=4)
KDF_MINIMUM = KdfParams(memory_kib=64 * 1024, iterations=3, lanes=1)


class CredentialError(LedgerError):
    """A passphrase or key file problem; nothing was recorded but the refusal."""


class WrongPassphrase(CredentialError):
    pass


class KeyFileUnusable(CredentialError):
    pass


class PassphraseRefused(CredentialError):
    pass


def check_passphrase(passphrase: str | bytes, *, new: bool) -> bytes:
    """The passphrase as bytes; a new one must have at least MIN_PASSPHRASE characters."""
    raw = passphrase.encode() if isinstance(passphrase, str) else passphrase
    text = raw.decode("utf-8", errors="replace")
    if not text.strip():
        raise PassphraseRefused("the passphrase is empty")
    if len(raw) > MAX_PASSPHRASE:
        raise PassphraseRefused(f"the passphrase is longer than {MAX_PASSPHRASE} bytes")
    if new and len(text) < MIN_PASSPHRASE:
        raise PassphraseRefused(
            f"a passphrase needs at least {MIN_PASSPHRASE} characters (a few words are easier "
            "to remember than symbols)"
        )
    return raw


def read_passphrase_file(path: Path) -> bytes:
    """A passphrase file for scripts: a regular file of this OS user, mode 0600 or stricter;
    its first line is the passphrase."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        raise CredentialError(f"the passphrase file {path} does not exist") from None
    except OSError as e:
        raise CredentialError(f"cannot read the passphrase file {path}: {e.strerror}") from e
    if not stat.S_ISREG(info.st_mode):
        raise CredentialError(f"the passphrase file {path} is not a regular file")
    if info.st_uid != os.geteuid():
        raise CredentialError(f"the passphrase file {path} belongs to another user")
    if info.st_mode & 0o077:
        raise CredentialError(
            f"the passphrase file {path} is readable by others (mode "
            f"{stat.S_IMODE(info.st_mode):04o}); make it private: chmod 600 {path}"
        )
    if info.st_size > MAX_PASSPHRASE + 2:
        raise CredentialError(f"the passphrase file {path} is too long to be a passphrase")
    raw = path.read_bytes()
    line = raw.split(b"\n", 1)[0].rstrip(b"\r")
    return check_passphrase(line, new=False)


def derive(passphrase: bytes, salt: bytes, params: KdfParams) -> bytes:
    # Imported here: a signed-in member's commands never derive a key (issue 16).
    from argon2.low_level import Type, hash_secret_raw

    return hash_secret_raw(
        secret=passphrase,
        salt=salt,
        time_cost=params.iterations,
        memory_cost=params.memory_kib,
        parallelism=params.lanes,
        hash_len=32,
        type=Type.ID,
    )


def wrap(
    private_key: Ed25519PrivateKey,
    passphrase: bytes,
    *,
    member_id: UUID,
    name: str,
    params: KdfParams | None = None,
) -> bytes:
    """The key file's bytes: ``private_key`` sealed under ``passphrase``."""
    params = params or KDF_PARAMS
    salt = os.urandom(16)
    header = _header(private_key, member_id, name, params, salt)
    nonce = os.urandom(12)
    sealed = AESGCM(derive(passphrase, salt, params)).encrypt(
        nonce, _raw_private(private_key), canonical_json(header)
    )
    body = dict(header, nonce=_b64(nonce), ciphertext=_b64(sealed))
    body["check"] = _check(body)
    return json.dumps(body, indent=2, sort_keys=True).encode() + b"\n"


def unwrap(
    data: bytes,
    passphrase: bytes,
    *,
    member_id: UUID,
    key_id_expected: str,
    minimum: KdfParams | None = None,
) -> Ed25519PrivateKey:
    """The private key in a key file; WrongPassphrase or KeyFileUnusable otherwise."""
    header, nonce, sealed = _parse(data)
    if header["member"] != str(member_id):
        raise KeyFileUnusable("the key file belongs to another member")
    if header["key_id"] != key_id_expected:
        raise KeyFileUnusable(
            f"the key file holds key {header['key_id']}, not the key enrolled for this member"
        )
    kdf = header["kdf"]
    params = KdfParams(kdf["memory_kib"], kdf["iterations"], kdf["lanes"])
    if not params.at_least(minimum or KDF_MINIMUM):
        raise KeyFileUnusable("the key file's passphrase protection is weaker than allowed")
    try:
        salt = base64.b64decode(kdf["salt"], validate=True)
        kek = derive(passphrase, salt, params)
    except (ValueError, binascii.Error) as e:
        raise KeyFileUnusable(f"the key file is damaged ({e})") from e
    try:
        raw = AESGCM(kek).decrypt(nonce, sealed, canonical_json(header))
    except InvalidTag:
        raise WrongPassphrase("wrong passphrase") from None
    try:
        key = Ed25519PrivateKey.from_private_bytes(raw)
    except ValueError as e:
        raise KeyFileUnusable("the key file is damaged") from e
    if key_id(key.public_key()) != header["key_id"]:
        raise KeyFileUnusable("the key file's key does not match its header")
    return key


def rewrap(
    data: bytes, old: bytes, new: bytes, *, member_id: UUID, key_id_expected: str, name: str
) -> bytes:
    """Change the passphrase of a key file: the key stays, only its wrapping changes."""
    key = unwrap(data, old, member_id=member_id, key_id_expected=key_id_expected)
    return wrap(key, new, member_id=member_id, name=name)


def _header(
    private_key: Ed25519PrivateKey, member_id: UUID, name: str, params: KdfParams, salt: bytes
) -> dict[str, Any]:
    public = private_key.public_key()
    return {
        "format": FORMAT,
        "member": str(member_id),
        "name": name,
        "key_id": key_id(public),
        "public_key": _b64(raw_public_key(public)),
        "kdf": {
            "alg": "argon2id",
            "memory_kib": params.memory_kib,
            "iterations": params.iterations,
            "lanes": params.lanes,
            "salt": _b64(salt),
        },
        "aead": "AES-256-GCM",
    }


def _parse(data: bytes) -> tuple[dict[str, Any], bytes, bytes]:
    try:
        body = json.loads(data)
        if not isinstance(body, dict) or body.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} file")
        if body.pop("check", None) != _check(body):
            raise ValueError("its checksum does not match: it was edited or damaged")
        nonce = base64.b64decode(body.pop("nonce"), validate=True)
        sealed = base64.b64decode(body.pop("ciphertext"), validate=True)
        header = body
        kdf = header["kdf"]
        if kdf.get("alg") != "argon2id" or header.get("aead") != "AES-256-GCM":
            raise ValueError("unknown algorithms")
        for k in ("memory_kib", "iterations", "lanes"):
            if not isinstance(kdf[k], int) or kdf[k] < 1:
                raise ValueError(f"bad {k}")
        for k in ("member", "name", "key_id", "public_key"):
            if not isinstance(header[k], str):
                raise ValueError(f"bad {k}")
    except (KeyError, TypeError, ValueError, AttributeError, binascii.Error) as e:
        raise KeyFileUnusable(f"the key file is damaged or truncated ({e})") from e
    return header, nonce, sealed


def _check(body: dict[str, Any]) -> str:
    """A checksum of the whole file, so a damaged file is told from a wrong passphrase
    (it is not a defence against someone who rewrites the file: the AEAD is)."""
    return hashlib.sha256(
        canonical_json({k: v for k, v in body.items() if k != "check"})
    ).hexdigest()


def _raw_private(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
