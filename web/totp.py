"""The optional second factor (RFC 6238 one-time codes, pyotp), per member.

The member's TOTP secret is kept in ``keys/totp/<member id>.totp`` (0600), sealed with
AES-256-GCM under a key derived (HKDF-SHA256) from the member's own private key: the file
is useless without their passphrase, and the code is checked only after the passphrase
has unlocked the key. A code is accepted once (no replay within its 30 s step).
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pyotp
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ledger.acts import Signer
from ledger.datadir import DataDir

ISSUER = "Custodes"
_used: dict[object, int] = {}
_used_lock = threading.Lock()


def _path(datadir: DataDir, signer: Signer) -> Path:
    return datadir.totp_path(signer.member_id)


def _aead(signer: Signer) -> AESGCM:
    raw = signer.private_key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"custodes web totp v1"
    ).derive(raw)
    return AESGCM(key)


def enrolled(datadir: DataDir, signer: Signer) -> bool:
    return _path(datadir, signer).exists()


def enrol(datadir: DataDir, signer: Signer) -> str:
    """A new secret for ``signer`` (replacing any); the otpauth:// URI to show once."""
    secret = pyotp.random_base32()
    nonce = os.urandom(12)
    sealed = nonce + _aead(signer).encrypt(nonce, secret.encode(), str(signer.member_id).encode())
    path = _path(datadir, signer)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temp = path.with_suffix(".tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(sealed)
    os.replace(temp, path)
    return pyotp.TOTP(secret).provisioning_uri(name=signer.name, issuer_name=ISSUER)


def remove(datadir: DataDir, signer: Signer) -> bool:
    try:
        _path(datadir, signer).unlink()
        return True
    except FileNotFoundError:
        return False


def secret_of(datadir: DataDir, signer: Signer) -> str:
    sealed = _path(datadir, signer).read_bytes()
    return _aead(signer).decrypt(sealed[:12], sealed[12:], str(signer.member_id).encode()).decode()


def check(datadir: DataDir, signer: Signer, code: str, *, at: float | None = None) -> bool:
    """Whether ``code`` is the member's current one-time code (one step of drift either
    way), not used before."""
    code = "".join(code.split())
    if not code.isdigit():
        return False
    try:
        secret = secret_of(datadir, signer)
    except InvalidTag:
        # sealed under a key the member no longer holds (the Director reset it): no code
        # can be checked, so none is right, and the sign-in is refused and recorded as a
        # wrong code, saying what a wrong passphrase says (web red team, session 16: an
        # uncaught error here told a right passphrase from a wrong one, unrecorded). The
        # member enrols again: ``custodes totp enrol``; ``staff reset`` says so.
        return False
    totp = pyotp.TOTP(secret)
    current = int((time.time() if at is None else at) // totp.interval)
    for step in (current, current - 1, current + 1):
        if pyotp.utils.strings_equal(totp.generate_otp(step), code):
            with _used_lock:
                seen = (str(datadir.path), signer.member_id)  # per ledger: ids repeat
                if _used.get(seen, -1) >= step:
                    return False
                _used[seen] = step
            return True
    return False
