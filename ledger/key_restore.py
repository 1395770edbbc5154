"""Copying a key backup into a restored data directory, checked against its ledger.

Keys are never in backups (ledger/backup.py). A key backup is checked before it is used:
its events key against the ledger's key check, its signing key against the public key
that signed the backup. Keys of patrons the restored ledger records as forgotten are
left out: a key backup older than a ``patron forget`` would otherwise bring the erased
details back (R22).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from eventsourcing.utils import get_topic

from ledger.checkpoint import load_private_key
from ledger.datadir import EVENTS_KEY, SIGNING_KEY, SIGNING_PUBLIC, DataDir
from ledger.errors import KeyError_


class _RestoredDataDir(DataDir):
    """The restored directory's own ledger.sqlite, whatever CUSTODES_DATABASE_URL says."""

    @property
    def database_url(self) -> str:
        return self.sqlite_url()


def key_source(path: Path) -> Path:
    """The directory holding events.key: a copy of keys/, or a data directory with keys/."""
    path = path.expanduser()
    for candidate in (path, path / "keys"):
        if (candidate / EVENTS_KEY).is_file():
            return candidate
    raise KeyError_(
        f"{path} holds no {EVENTS_KEY}: give --keys-from the copy of the data directory's "
        "keys/ (or a data directory that contains keys/)."
    )


def write_file(path: Path, data: bytes, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.chmod(path, mode)  # whatever the umask


def copy_keys(
    source: Path,
    work: Path,
    config: dict[str, Any],
    public_key: Ed25519PublicKey,
    manifest: dict[str, Any],
) -> tuple[str, ...]:
    """Copy a key backup into work/keys (0700/0600), checked against this ledger.

    Keys of patrons the restored ledger says were forgotten are NOT copied: a key backup
    older than a ``patron forget`` would otherwise bring the erased details back (R22).
    """
    keys = work / "keys"
    write_file(keys / EVENTS_KEY, (source / EVENTS_KEY).read_bytes(), 0o600)
    datadir = _RestoredDataDir(work, config)
    try:
        datadir.events_key()
    except KeyError_ as e:
        raise KeyError_(
            f"the key backup {source} is not this ledger's: {e} "
            f"(the backup expects events key {manifest.get('events_key_fingerprint')}). "
            "Nothing was restored."
        ) from e
    _check_signing_keys(source, public_key)
    forgotten = _forgotten_key_ids(datadir)
    skipped: list[str] = []
    for path in sorted(source.rglob("*")):
        rel = path.relative_to(source)
        if path.is_symlink() or rel.as_posix() in (EVENTS_KEY, SIGNING_PUBLIC):
            continue
        if path.is_dir():
            (keys / rel).mkdir(mode=0o700, exist_ok=True)
        elif rel.parts[0] == "patrons" and path.suffix == ".key" and path.stem in forgotten:
            skipped.append(rel.as_posix())
        elif path.is_file():
            write_file(keys / rel, path.read_bytes(), 0o600)
    return tuple(skipped)


def _check_signing_keys(source: Path, public_key: Ed25519PublicKey) -> None:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    mismatch = KeyError_(
        f"the signing key in {source} is not the key that signed this backup; "
        "nothing was restored. Use the key backup of this ledger."
    )
    pub = source / SIGNING_PUBLIC
    if pub.is_file():
        theirs = load_pem_public_key(pub.read_bytes())
        if not isinstance(theirs, Ed25519PublicKey) or raw != theirs.public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        ):
            raise mismatch
    private = source / SIGNING_KEY
    if private.is_file() and b"ENCRYPTED" not in private.read_bytes():
        # A passphrase-protected key cannot be opened here; its public half was checked.
        signing = load_private_key(private.read_bytes(), None)
        if raw != signing.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        ):
            raise mismatch


def _forgotten_key_ids(datadir: DataDir) -> set[str]:
    from ledger.app import open_ledger
    from ledger.patrons import Patron

    ledger = open_ledger(datadir, create_tables=False)
    try:
        topic = get_topic(Patron.PatronForgotten)
        found: set[str] = set()
        start = 1
        while True:
            batch = ledger.recorder.select_notifications(start, 500, topics=[topic])
            for notification in batch:
                found.add(ledger.mapper.to_domain_event(notification).key_id)  # type: ignore[attr-defined]
            if len(batch) < 500:
                return found
            start = batch[-1].id + 1
    finally:
        ledger.close()
