"""The data directory stays private: nothing in it for group or others (issue 14).

The data directory and ``keys/`` (with every directory under it) are kept at 0700 or
tighter, the key files and the embedded SQLite database (with its ``-wal``, ``-shm`` and
``-journal`` files) at 0600 or tighter. Only group and other bits are ever removed: an
owner who made a directory read-only (0500) keeps it read-only. Every change is
reported, so an operator learns that something had loosened the modes.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path

from ledger.datadir import DataDir
from ledger.errors import StoreUnavailable

GROUP_OTHER = 0o077
# Below this, the embedded database cannot be trusted to open, let alone record: SQLite
# needs room for its WAL and shared-memory files even to read.
MIN_FREE_BYTES = 256 * 1024
SQLITE_COMPANIONS = ("", "-wal", "-shm", "-journal")


def sqlite_path(url: str) -> Path | None:
    """The database file of a ``sqlite:///PATH`` URL (None for any other database)."""
    for prefix in ("sqlite:///", "sqlite+pysqlite:///"):
        if url.startswith(prefix):
            path = url[len(prefix) :].split("?", 1)[0]
            return Path(path) if path and path != ":memory:" else None
    return None


def private_paths(datadir: DataDir) -> Iterator[Path]:
    """What must be private, existing or not: the directory, keys/ and all in it, the DB."""
    yield datadir.path
    keys = datadir.keys
    yield keys
    if keys.is_dir() and not keys.is_symlink():
        for root, dirs, files in os.walk(keys):
            for name in sorted(dirs) + sorted(files):
                yield Path(root) / name
    db = sqlite_path(datadir.database_url)
    if db is not None:
        for suffix in SQLITE_COMPANIONS:
            yield db.with_name(db.name + suffix)


def tighten(datadir: DataDir) -> list[str]:
    """Remove group and other permissions from every private path; one line per change
    (or per path that could not be changed), for the operator's stderr."""
    notes = []
    for path in private_paths(datadir):
        try:
            st = path.lstat()
        except FileNotFoundError:
            continue
        except OSError as e:
            notes.append(f"cannot check the mode of {path}: {e.strerror}")
            continue
        if stat.S_ISLNK(st.st_mode) or not st.st_mode & GROUP_OTHER:
            continue  # a symlink's own mode means nothing; its target is not ours to judge
        mode = stat.S_IMODE(st.st_mode)
        wanted = mode & ~GROUP_OTHER
        try:
            os.chmod(path, wanted)
        except OSError as e:
            how = (
                "the file system is read-only"
                if e.errno == errno.EROFS
                else f"{e.strerror}; ask its owner to run: chmod go= {path}"
            )
            notes.append(
                f"{path} is open to group or others (mode {mode:04o}) and could not be "
                f"tightened: {how}"
            )
            continue
        notes.append(f"tightened {path} from mode {mode:04o} to {wanted:04o} (private data)")
    return notes


def check_usable(datadir: DataDir) -> None:
    """One clear line, before SQLite fails somewhere deep with "disk I/O error" or
    "unable to open database file" (issue 14): the embedded database's directory must be
    writable and its disk not full. Nothing is recorded either way."""
    db = sqlite_path(datadir.database_url)
    if db is None or not db.parent.is_dir():
        return
    where = db.parent
    try:
        fs = os.statvfs(where)
    except OSError:
        return
    if not os.access(where, os.W_OK) or (db.exists() and not os.access(db, os.W_OK)):
        why = (
            "its file system is mounted read-only"
            if fs.f_flag & os.ST_RDONLY
            else "you may not write there"
        )
        raise StoreUnavailable(
            f"the ledger database {db} is in a read-only place ({why}): SQLite writes its "
            f"{db.name}-wal and {db.name}-shm files beside it even to read. Make {where} "
            "writable, or copy the data directory (cp -a) somewhere writable and run there; "
            "nothing was recorded."
        )
    free = fs.f_bavail * fs.f_frsize
    if free < MIN_FREE_BYTES:
        raise StoreUnavailable(
            f"the disk holding the ledger database {db} is full ({free:,} bytes free): free "
            "some space and run the command again; nothing was recorded."
        )
