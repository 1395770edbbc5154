"""A witness's own directory: its Ed25519 key, the logs it trusts, and per log the latest
checkpoint it cosigned (the state that tlog-witness says must be updated atomically).

Layout (directory 0700, files 0600)::

    witness.json          {"format", "name", "logs": [{"origin", "vkey"}]}
    witness.key           the witness's Ed25519 private key (PKCS#8 PEM)
    state/<sha256(origin) hex>.checkpoint
                          the latest checkpoint cosigned for that log: its text, the
                          log's verified signature line(s) and our cosignature
    state/.lock           flock(2) lock file: check-and-update is one critical section
    refused/              requests with a valid log signature that failed a consistency
                          check: evidence of a log that rewrote its history

The state file is replaced with write-to-temporary, fsync, rename(2), fsync of the
directory, under an exclusive lock, so two requests can never both pass the check
against the same old size (the roll-back race of tlog-witness, "add-checkpoint").
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.witness.cosignature import (
    ED25519_NOTE,
    VerifierKey,
    WitnessError,
    check_key_name,
    cosigner_vkey,
    note_text,
    parse_checkpoint_text,
    parse_vkey,
)

FORMAT = "custodes-witness/1"
CONFIG = "witness.json"
KEY = "witness.key"
STATE = "state"
REFUSED = "refused"
_THREAD_LOCK = threading.Lock()


class WitnessDirError(WitnessError):
    """The witness directory is missing, not a witness directory, or unusable."""


def origin_hash(origin: str) -> str:
    """tlog-witness: "the SHA-256 hash of the log's origin, hex encoded, in lowercase"."""
    return hashlib.sha256(origin.encode("utf-8")).hexdigest()


def _write(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Whole or nothing: a temporary file, fsync, rename, fsync of the directory."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    dfd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


@dataclass(frozen=True)
class Cosigned:
    """The latest checkpoint a witness cosigned for one log."""

    origin: str
    size: int
    root: bytes
    note: str


class WitnessDir:
    def __init__(self, path: Path, name: str, key: Ed25519PrivateKey, logs: dict[str, VerifierKey]):
        self.path = path
        self.name = name
        self.key = key
        self.logs = logs

    @property
    def vkey(self) -> VerifierKey:
        return cosigner_vkey(self.name, self.key)

    @classmethod
    def create(cls, path: Path, name: str) -> WitnessDir:
        check_key_name(name)
        path = path.expanduser()
        if path.exists() and (not path.is_dir() or any(path.iterdir())):
            raise WitnessDirError(f"{path} exists and is not empty; choose a new directory")
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(path, 0o700)
        (path / STATE).mkdir(mode=0o700)
        (path / REFUSED).mkdir(mode=0o700)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        _write(path / KEY, pem)
        witness = cls(path, name, key, {})
        witness._save()
        return witness

    @classmethod
    def open(cls, path: Path) -> WitnessDir:
        path = path.expanduser()
        try:
            config = json.loads((path / CONFIG).read_text())
        except FileNotFoundError:
            raise WitnessDirError(
                f"{path} is not a witness directory (no {CONFIG}); create one with: "
                "custodes witness init --name NAME"
            ) from None
        except ValueError as e:
            raise WitnessDirError(f"{path / CONFIG} is not JSON ({e})") from e
        if config.get("format") != FORMAT:
            raise WitnessDirError(f"{path / CONFIG} has format {config.get('format')!r}")
        try:
            key = serialization.load_pem_private_key((path / KEY).read_bytes(), password=None)
        except (OSError, ValueError, TypeError) as e:
            raise WitnessDirError(f"cannot load the witness key {path / KEY}: {e}") from e
        if not isinstance(key, Ed25519PrivateKey):
            raise WitnessDirError(f"{path / KEY} is not an Ed25519 key")
        logs = {
            entry["origin"]: parse_vkey(entry["vkey"], sig_type=ED25519_NOTE)
            for entry in config.get("logs", [])
        }
        return cls(path, str(config["name"]), key, logs)

    def _save(self) -> None:
        config = {
            "format": FORMAT,
            "name": self.name,
            "vkey": self.vkey.text(),
            "logs": [
                {"origin": origin, "vkey": key.text()} for origin, key in sorted(self.logs.items())
            ],
        }
        _write(self.path / CONFIG, (json.dumps(config, indent=2) + "\n").encode())

    def add_log(self, key: VerifierKey) -> None:
        """Trust a log: its origin is its key name (tlog-policy: they must match)."""
        with self.locked():
            known = self.logs.get(key.name)
            if known is not None and known != key:
                raise WitnessDirError(
                    f"the log {key.name} is already trusted with another key; a log's key "
                    "does not change under the same origin"
                )
            self.logs[key.name] = key
            self._save()

    def _state_path(self, origin: str) -> Path:
        return self.path / STATE / f"{origin_hash(origin)}.checkpoint"

    def latest(self, origin: str) -> Cosigned | None:
        try:
            note = self._state_path(origin).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        text = parse_checkpoint_text(note_text(note))
        return Cosigned(text.origin, text.size, text.root, note)

    def store(self, origin: str, note: str) -> None:
        """Replace the latest cosigned checkpoint; call inside ``locked()``."""
        _write(self._state_path(origin), note.encode("utf-8"))

    def record_refused(self, origin: str, request: bytes, reason: str, when: datetime) -> Path:
        stamp = when.astimezone(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        digest = hashlib.sha256(request).hexdigest()[:16]
        path = self.path / REFUSED / f"{stamp}-{origin_hash(origin)[:16]}-{digest}.txt"
        header = f"origin {origin}\nreason {reason}\nreceived {when.isoformat()}\n\n"
        _write(path, header.encode("utf-8") + request)
        return path

    @contextmanager
    def locked(self) -> Iterator[None]:
        """One check-and-update at a time: threads of this process and other processes."""
        with _THREAD_LOCK:
            fd = os.open(self.path / STATE / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                yield
            finally:
                os.close(fd)  # releases the flock
