"""Backups of an embedded (SQLite) ledger: one file, a consistent snapshot, signed.

The file is a gzip'd tar with one directory, ``custodes-backup/``::

    ledger.sqlite     the snapshot: events, chain and Merkle tree (read models left out)
    custodes.json     the data directory marker (its database_url cleared)
    checkpoint.txt    a signed checkpoint of exactly the snapshot's entries
    public-key.pem    the Ed25519 public key that checks it (and SHA256SUMS.sig)
    manifest.json     what this is: library, origin, entries, checkpoint, member SHA-256s
    README.txt        how to restore and check it
    SHA256SUMS        SHA-256 of every file above (`sha256sum -c SHA256SUMS`)
    SHA256SUMS.sig    raw Ed25519 signature over SHA256SUMS (`openssl pkeyutl -verify`)

NOT in it, on purpose: ``keys/`` (a backup without keys is useless to a thief, and a key
backup must be rotated after ``patron forget``, R22) and the footage vault (footage is
purged after its retention period, R13-R15; a backup that kept it would defeat the purge).
Nor are the read models (``proj_*`` tables): they hold text in clear and are not covered
by the chain; a restored ledger rebuilds them from its verified events.

The snapshot is taken with ``VACUUM INTO``: one statement in one read transaction, so it
is a consistent state of the database while other processes keep writing (in WAL mode,
which eventsourcing-sqlalchemy sets, readers do not block writers); and it writes a fresh,
compact file; after the read models are dropped from it, a final VACUUM leaves no free
page holding their remnants. The snapshot's chain is verified (exit 3 if it fails)
and its Merkle tree extended *in the snapshot*, so the checkpoint covers exactly the
entries in the file. Nothing about the backup is recorded in the ledger: the checkpoint
must cover the snapshot, so such an event could never be inside the backup it describes.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from importlib import metadata
from io import BytesIO
from pathlib import Path
from typing import Any

from eventsourcing.persistence import OperationalError, PersistenceError
from eventsourcing.utils import Environment

from ledger.chain_reader import ChainReader
from ledger.checkpoint import public_key_fingerprint
from ledger.datadir import MARKER, DataDir
from ledger.errors import InvalidInput, LedgerError, StoreUnavailable
from ledger.evidence import EvidenceInvalid, sha256_file
from ledger.integrity import LedgerTampered, TreeResult, sign_verified, verify_and_extend
from ledger.outfiles import PRIVATE, check_destination, staged
from ledger.store import ChainedFactory

FORMAT = "custodes-backup/1"
ARCHIVE_DIR = "custodes-backup"
DATABASE = "ledger.sqlite"
CHECKPOINT = "checkpoint.txt"
PUBLIC_KEY = "public-key.pem"
MANIFEST = "manifest.json"
README = "README.txt"
SUMS = "SHA256SUMS"
SIGNATURE = "SHA256SUMS.sig"
MEMBERS = (DATABASE, MARKER, CHECKPOINT, PUBLIC_KEY, README, MANIFEST, SUMS, SIGNATURE)
# gzip level 1: the encrypted event payloads, which dominate a ledger, barely compress;
# measured on the demo ledger's snapshot, level 6 saved 0.4% more for 35% more time.
COMPRESS_LEVEL = 1
PG_GUIDE = "README.md, 'Deploying on PostgreSQL for a library system'"

# Progress: (stage, done, total). Stages: "snapshot", "verify", "pack" for a backup and
# "unpack", "verify", "keys" for a restore; ``total`` is 0 when unknown.
Progress = Callable[[str, int, int], None]


def quiet(_stage: str, _done: int, _total: int) -> None:
    pass


class BackupDamaged(EvidenceInvalid):
    """The backup file does not check out: it was damaged or altered (exit 3)."""


class BackupUnsupported(LedgerError):
    """This ledger cannot be backed up by Custodes itself (it lives on PostgreSQL)."""


class BackupFailed(LedgerError):
    """A file could not be read or written (disk full, permissions); nothing was left."""


@contextmanager
def file_errors(doing: str) -> Iterator[None]:
    """OSError as BackupFailed, naming the file, so the CLI shows one clear line."""
    try:
        yield
    except OSError as e:
        where = f" ({e.filename})" if e.filename else ""
        raise BackupFailed(f"cannot {doing}: {e.strerror or e}{where}") from e


@dataclass(frozen=True)
class BackupResult:
    path: Path
    sha256: str
    bytes: int
    entries: int
    checkpoint_size: int
    checkpoint_root: str
    checkpoint_time: datetime
    created_at: datetime
    library: str
    origin: str
    keys_dir: Path
    keys_included: bool = False
    footage_included: bool = False


def open_chain_at(url: str) -> ChainReader:
    """The chain of the database at ``url`` (whatever CUSTODES_DATABASE_URL says)."""
    env = Environment(name="Ledger", env={"SQLALCHEMY_URL": url, "CREATE_TABLE": "n"})
    try:
        return ChainReader(ChainedFactory(env).application_recorder())
    except (OperationalError, PersistenceError) as e:
        raise StoreUnavailable(f"cannot open the ledger database: {e}") from e


def close_chain(reader: ChainReader) -> None:
    engine = reader.recorder.datastore.engine
    if engine is not None:
        engine.dispose()  # type: ignore[union-attr]


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def backup_source(datadir: DataDir) -> Path:
    """The SQLite file of ``datadir``'s ledger; BackupUnsupported on PostgreSQL."""
    live = open_chain_at(datadir.database_url)
    try:
        return database_file(live)
    finally:
        close_chain(live)


def database_file(reader: ChainReader) -> Path:
    """The SQLite file behind ``reader``; BackupUnsupported on PostgreSQL."""
    engine: Any = reader.recorder.datastore.engine
    if reader.recorder.dialect != "sqlite":
        raise BackupUnsupported(
            "this ledger lives on PostgreSQL: back it up with pg_dump and keep a signed "
            "checkpoint beside the dump (custodes checkpoint --out FILE, then "
            "pg_dump -Fc); restore with pg_restore into a new database and check it with "
            f"custodes verify --against FILE. See {PG_GUIDE}."
        )
    name = engine.url.database
    if not name or name == ":memory:" or "mode=memory" in str(engine.url):
        raise InvalidInput("an in-memory ledger has nothing to back up")
    path = Path(name)
    if not path.is_file():
        raise InvalidInput(f"the ledger database {path} does not exist")
    return path


def snapshot(source: Path, target: Path) -> None:
    """A consistent copy of the live database ``source`` at ``target`` (VACUUM INTO)."""
    # mode=rw: never create an empty database where the ledger was expected.
    uri = f"file:{source}?mode=rw"
    conn = sqlite3.connect(uri, uri=True, timeout=30, isolation_level=None)
    try:
        conn.execute("VACUUM INTO ?", (str(target),))
    except sqlite3.Error as e:
        raise InvalidInput(f"cannot take a snapshot of {source}: {e}") from e
    finally:
        conn.close()
    # Our own fsync: SQLite does not sync the file VACUUM INTO writes.
    fd = os.open(target, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def drop_read_models(db: Path) -> list[str]:
    """Drop the read models (``proj_*``) from a snapshot; the names dropped.

    They are derived from the events and rebuilt from them after a restore (the first
    command that needs one catches it up, or ``custodes projections rebuild``). Unlike
    the events they are not encrypted (names, reasons, request details) and not covered
    by the chain, so a backup without them reveals nothing without the keys and holds
    nothing unverified.
    """
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        names = [
            row[0]
            for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE ? ESCAPE ?",
                ("proj\\_%", "\\"),
            )
        ]
        for name in names:
            conn.execute(f'DROP TABLE "{name}"')
    finally:
        conn.close()
    return names


def create_backup(
    datadir: DataDir,
    out: Path,
    *,
    library: str,
    origin: str,
    signing_key: Callable[[], Any],
    now: datetime,
    progress: Progress = quiet,
    force: bool = False,
) -> BackupResult:
    """Snapshot, verify, checkpoint and pack the ledger of ``datadir`` into ``out``.

    ``signing_key`` loads the checkpoint-signing key (it may ask for a passphrase); it is
    called once the ledger is known to be one this command can back up. Writes the whole
    file or nothing (a temporary file renamed into place, mode 0600). LedgerTampered
    (exit 3) if the snapshot's chain does not verify.
    """
    out = out.expanduser().absolute()
    if out.is_dir() and not out.is_symlink():
        raise InvalidInput(f"{out} is a directory; name the backup file, e.g. {out}/ledger.backup")
    check_destination(out, force=force)  # before the work: no link, no overwrite
    source = backup_source(datadir)
    key = signing_key()
    with file_errors(f"write the backup {out}; nothing was written"):
        return _write_backup(datadir, out, source, key, library, origin, now, progress, force)


def _write_backup(
    datadir: DataDir,
    out: Path,
    source: Path,
    key: Any,
    library: str,
    origin: str,
    now: datetime,
    progress: Progress,
    force: bool,
) -> BackupResult:
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".work", dir=out.parent))
    try:
        progress("snapshot", 0, 0)
        db = work / DATABASE
        snapshot(source, db)
        drop_read_models(db)
        cp, note, head = _checkpoint_snapshot(db, origin, key, now, progress)
        progress("pack", 0, 0)
        config = {**datadir.config, "database_url": None}
        public_pem = datadir.public_key_pem()
        files: dict[str, bytes] = {
            MARKER: (json.dumps(config, indent=2) + "\n").encode(),
            CHECKPOINT: note.encode(),
            PUBLIC_KEY: public_pem,
            README: _readme(library, origin, cp.size, now).encode(),
        }
        members = {DATABASE: {"sha256": sha256_file(db), "bytes": db.stat().st_size}} | {
            name: {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
            for name, data in files.items()
        }
        manifest = {
            "format": FORMAT,
            "created_at": now.isoformat(),
            "custodes_version": _version(),
            "library": library,
            "origin": origin,
            "source_data_dir": str(datadir.path),
            "entries": cp.size,
            "head": head.hex(),
            "checkpoint": {"size": cp.size, "root": cp.root.hex(), "time": cp.time.isoformat()},
            "public_key_sha256": public_key_fingerprint(datadir.public_key()),
            "events_key_fingerprint": datadir.events_key_fingerprint(),
            "keys_included": False,
            "footage_included": False,
            "read_models_included": False,
            "members": members,
        }
        files[MANIFEST] = (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()
        digests = {n: m["sha256"] for n, m in members.items()}
        digests[MANIFEST] = hashlib.sha256(files[MANIFEST]).hexdigest()
        sums = "".join(f"{digests[n]}  {n}\n" for n in sorted(digests)).encode()
        files[SUMS] = sums
        files[SIGNATURE] = key.sign(sums)
        _pack(out, db, files, now, force)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    digest = sha256_file(out)
    return BackupResult(
        path=out,
        sha256=digest,
        bytes=out.stat().st_size,
        entries=cp.size,
        checkpoint_size=cp.size,
        checkpoint_root=cp.root.hex(),
        checkpoint_time=cp.time,
        created_at=now,
        library=library,
        origin=origin,
        keys_dir=datadir.keys.absolute(),
    )


def verify_with_progress(reader: ChainReader, progress: Progress) -> TreeResult:
    """``verify_and_extend`` reporting every 1% of the chain as stage "verify"."""
    total, _ = reader.head()
    step = max(total // 100, 1)

    def on_entry(position: int, _h: bytes) -> None:
        if position % step == 0 or position == total:
            progress("verify", position, total)

    return verify_and_extend(reader, on_entry)


def _checkpoint_snapshot(
    db: Path, origin: str, signing_key: Any, now: datetime, progress: Progress
) -> tuple[Any, str, bytes]:
    reader = open_chain_at(sqlite_url(db))
    try:
        outcome = verify_with_progress(reader, progress)
        if outcome.verify.damage is not None:
            d = outcome.verify.damage
            raise LedgerTampered(
                d,
                f"ledger verification FAILED at position {d.position}: {d.kind} ({d.detail}); "
                "no backup was written. Find out what happened before backing up: "
                "custodes verify",
            )
        cp, note = sign_verified(outcome, origin=origin, signing_key=signing_key, now=now)
        head = outcome.verify.head_hash
    finally:
        close_chain(reader)
    # One file, no free pages: nothing of the dropped read models is left in it.
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=DELETE")
        conn.execute("VACUUM")
    finally:
        conn.close()
    return cp, note, head


def _pack(out: Path, db: Path, files: dict[str, bytes], now: datetime, force: bool) -> None:
    with (
        staged(out, force=force, mode=PRIVATE) as tmp,
        open(tmp, "wb") as raw,
        tarfile.open(fileobj=raw, mode="w:gz", compresslevel=COMPRESS_LEVEL) as tar,
    ):
        for name in MEMBERS:
            info = _tarinfo(name, now)
            if name == DATABASE:
                info.size = db.stat().st_size
                with open(db, "rb") as f:
                    tar.addfile(info, f)
            else:
                info.size = len(files[name])
                tar.addfile(info, BytesIO(files[name]))


def _tarinfo(name: str, now: datetime) -> tarfile.TarInfo:
    info = tarfile.TarInfo(f"{ARCHIVE_DIR}/{name}")
    info.mode = 0o600
    info.mtime = int(now.timestamp())
    return info


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _version() -> str:
    try:
        return metadata.version("custodes")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a checkout
        return "unknown"


def _readme(library: str, origin: str, entries: int, now: datetime) -> str:
    return f"""Custodes ledger backup
======================

Library: {library}
Ledger:  {origin}
Entries: {entries} (the signed checkpoint.txt covers exactly these)
Made:    {now.isoformat()}

This file holds the ledger database (a consistent snapshot), its data directory
marker, a signed checkpoint of the snapshot and the public key that checks it.

It does NOT hold the keys (keys/ of the data directory): events cannot be read without
them. Keep the key backup apart from this file. It does NOT hold footage: footage is
purged when its retention period ends. It does not hold the read models either: they
are rebuilt from the events after a restore.

Restore (checks every SHA-256, the signature, the chain and the checkpoint):

    custodes restore THIS-FILE --data-dir NEW-DIR --against A-CHECKPOINT-YOU-KEPT \\
        --keys-from YOUR-KEY-BACKUP

Check by hand:

    tar -xzf THIS-FILE && cd {ARCHIVE_DIR}
    sha256sum -c {SUMS}
    openssl pkeyutl -verify -pubin -inkey {PUBLIC_KEY} -rawin -in {SUMS} -sigfile {SIGNATURE}
    # the key's fingerprint, to compare with the one in the library's compliance reports
    openssl pkey -pubin -in {PUBLIC_KEY} -outform DER | sha256sum
"""
