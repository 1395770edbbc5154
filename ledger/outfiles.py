"""Every file Custodes writes for a user: ``--out`` of any command, reports, backups,
checkpoints, proofs, stills, viewing copies and evidence packages (issue 14, finding 8).

* Never through a symbolic link: the destination is checked with ``lstat`` (a dangling
  link counts), temporary files are created with ``O_CREAT | O_EXCL | O_NOFOLLOW``, and a
  file is put in place with ``link(2)`` or ``rename(2)``, which never follow a link at
  the new name.
* Never over an existing file unless the caller says so (``force``, the CLI's
  ``--force``); without it the file is published with ``link(2)``, which fails if the
  name was taken in the meantime, so there is no check-then-write race. Never, even with
  ``force``, over a file of a Custodes data directory (its ledger, keys, footage): only
  the ledger's own writers replace one (``ledger_file``).
* Never a new file or folder in a data directory's own folders (``RESERVED``): ``keys/``
  and ``footage/`` hold the ledger's secrets and vault, and the sweep removes whatever
  ``viewing/`` holds that no viewing recorded (R16b), so a report or an evidence package
  put there would be destroyed. Only a viewing copy may be written in ``viewing/``.
* Whole or not at all: written to a temporary file in the same directory, fsynced, put
  in place, and the directory fsynced. A failure (a full disk, a read-only directory)
  leaves nothing behind and raises :class:`OutputFailed`, one line naming the path.
* Private (0600) when confidential -- reports, stills, viewing copies, the Appendix 9
  form, evidence packages, backups; 0644 only for what is meant to be handed around
  (public keys, checkpoints, proofs).
"""

from __future__ import annotations

import errno
import os
import stat
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ledger.errors import InvalidInput, LedgerError

PRIVATE = 0o600
PUBLIC = 0o644
PRIVATE_DIR = 0o700

# File systems without hard links (FAT, some network shares) answer link(2) with these.
_NO_HARD_LINKS = {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV, errno.EMLINK}


class OutputRefused(InvalidInput):
    """The destination is a symbolic link, exists already, or its directory is missing;
    nothing was written."""


class OutputFailed(LedgerError):
    """Writing failed (disk full, read-only, permissions); nothing was left behind."""


def _lstat(path: Path) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as e:
        raise OutputFailed(f"cannot write {path}: {e.strerror}; nothing was written") from e


def _refuse_link(path: Path) -> None:
    try:
        target = os.readlink(path)
    except OSError:
        target = "?"
    raise OutputRefused(
        f"{path} is a symbolic link (to {target}); Custodes never writes through one. "
        "Remove the link or choose another path; nothing was written."
    )


def check_destination(
    path: str | os.PathLike[str],
    *,
    force: bool = False,
    ledger_file: bool = False,
    viewing_copy: bool = False,
) -> Path:
    """The file path to write, or :class:`OutputRefused` before any work is done.
    ``ledger_file``: the caller replaces a data directory's own file (the kept checkpoint,
    the last failed verification); ``--force`` alone never replaces one. ``viewing_copy``:
    a recorded viewing's copy, which may be written in ``viewing/``."""
    target = Path(path).expanduser()
    st = _lstat(target)
    if st is not None:
        if stat.S_ISLNK(st.st_mode):
            _refuse_link(target)
        if stat.S_ISDIR(st.st_mode):
            raise OutputRefused(f"{target} is a directory; give a file path. Nothing was written.")
        if not stat.S_ISREG(st.st_mode):
            raise OutputRefused(f"{target} is not a regular file; choose another path.")
        if not force:
            raise OutputRefused(
                f"{target} exists already; pass --force to replace it, or choose another "
                "path. Nothing was written."
            )
        home = None if ledger_file else _data_dir_of(target)
        if home is not None:
            # A viewing copy written over the database or a key, then destroyed as a copy
            # by `footage done` or the sweep, lost the ledger or all footage (redteam9).
            raise OutputRefused(
                f"{target} is a file of the Custodes data directory {home} (the ledger, its "
                "keys, its footage): --force never replaces one. Choose a path outside it; "
                "nothing was written."
            )
    if not ledger_file:
        _refuse_reserved(target, viewing_copy=viewing_copy)
    if not target.parent.is_dir():
        raise OutputRefused(
            f"cannot write {target}: the directory {target.parent} does not exist; create "
            "it or choose another path."
        )
    return target


# A data directory's folders that only the ledger writes in (see the module's rules).
RESERVED = ("footage", "keys", "viewing")


def _refuse_reserved(target: Path, *, viewing_copy: bool = False) -> None:
    """:class:`OutputRefused` for a new file or folder in a data directory's own folders."""
    home = _data_dir_of(target)
    if home is None:
        return
    try:
        inside = target.parent.resolve().relative_to(home).parts
    except ValueError:
        return
    if not inside or inside[0] not in RESERVED:
        return
    if viewing_copy and inside == ("viewing",):
        return
    folder = home / inside[0]
    why = (
        "the sweep removes every file there that no viewing recorded"
        if inside[0] == "viewing"
        else "only the ledger writes there"
    )
    raise OutputRefused(
        f"{target} is inside {folder}, a folder of the Custodes data directory ({why}). "
        "Choose a path outside it; nothing was written."
    )


def _data_dir_of(path: Path) -> Path | None:
    """The Custodes data directory ``path`` lies in (a folder above it holds the marker
    ``custodes.json``), or None."""
    from ledger.datadir import MARKER

    folder = path.parent.resolve()
    for candidate in (folder, *folder.parents):
        if (candidate / MARKER).is_file():
            return candidate
    return None


def check_new_directory(path: str | os.PathLike[str]) -> Path:
    """A directory path to fill (an evidence package, a restored data directory): new, or
    an existing empty real directory; never a symbolic link, never in a data directory's
    own folders (``RESERVED``)."""
    target = Path(path).expanduser()
    _refuse_reserved(target)
    st = _lstat(target)
    if st is not None:
        if stat.S_ISLNK(st.st_mode):
            _refuse_link(target)
        if not stat.S_ISDIR(st.st_mode) or any(target.iterdir()):
            raise OutputRefused(
                f"{target} exists and is not an empty directory; choose a new one. Nothing "
                "was written."
            )
    if not target.parent.is_dir():
        raise OutputRefused(
            f"cannot write {target}: the directory {target.parent} does not exist; create "
            "it or choose another path."
        )
    return target


def _failed(target: Path, e: OSError) -> OutputFailed:
    return OutputFailed(
        f"cannot write {target}: {e.strerror or e}; nothing was written"
        + (". Free some space and run the command again." if e.errno == errno.ENOSPC else ".")
    )


def _new_temp(target: Path, suffix: str) -> Path:
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:12]}.tmp{suffix}")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    os.close(os.open(tmp, flags, PRIVATE))
    return tmp


def write_all(fd: int, data: bytes) -> None:
    """``os.write`` until every byte is written (a short write is not an error)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _sync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _publish(tmp: Path, target: Path, force: bool) -> None:
    st = _lstat(target)
    if st is not None and stat.S_ISLNK(st.st_mode):
        _refuse_link(target)  # planted since the check: refused, never followed
    if force:
        os.replace(tmp, target)
    else:
        try:
            os.link(tmp, target, follow_symlinks=False)
        except FileExistsError:
            raise OutputRefused(
                f"{target} exists already (it appeared while writing); pass --force to "
                "replace it, or choose another path. Nothing was written."
            ) from None
        except OSError as e:
            if e.errno not in _NO_HARD_LINKS:
                raise
            if os.path.lexists(target):
                raise OutputRefused(f"{target} exists already; nothing was written.") from None
            os.replace(tmp, target)
        else:
            os.unlink(tmp)
    fsync_dir(target.parent)


@contextmanager
def staged(
    path: str | os.PathLike[str],
    *,
    force: bool = False,
    mode: int = PRIVATE,
    suffix: str = "",
    ledger_file: bool = False,
    viewing_copy: bool = False,
) -> Iterator[Path]:
    """A new, empty, private temporary file beside ``path`` for the block to fill (by
    name: OpenCV, fpdf2, tarfile); when the block ends without an error it is synced,
    given ``mode`` and put in place. ``suffix`` keeps a name extension a writer needs
    (OpenCV picks the image format from it); ``ledger_file`` and ``viewing_copy`` as for
    ``check_destination``."""
    target = check_destination(
        path, force=force, ledger_file=ledger_file, viewing_copy=viewing_copy
    )
    try:
        tmp = _new_temp(target, suffix)
    except OSError as e:
        raise _failed(target, e) from e
    try:
        yield tmp
        _sync_file(tmp)
        os.chmod(tmp, mode)
        _publish(tmp, target, force)
    except OSError as e:
        raise _failed(target, e) from e
    finally:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass


def write_bytes(
    path: str | os.PathLike[str],
    data: bytes,
    *,
    force: bool = False,
    mode: int = PRIVATE,
    ledger_file: bool = False,
) -> Path:
    """Write ``data`` to ``path`` by the rules above; returns the path written."""
    with staged(path, force=force, mode=mode, ledger_file=ledger_file) as tmp:
        fd = os.open(tmp, os.O_WRONLY | os.O_NOFOLLOW)
        try:
            write_all(fd, data)
        finally:
            os.close(fd)
    return Path(path).expanduser()


def publish_directory(work: Path, path: str | os.PathLike[str]) -> Path:
    """Rename a finished directory ``work`` (made beside ``path``) into place: onto a new
    name or an empty real directory, never through a link."""
    target = check_new_directory(path)
    try:
        os.rename(work, target)  # rename(2) replaces an empty directory atomically
        fsync_dir(target.parent)
    except OSError as e:
        raise _failed(target, e) from e
    return target


def make_private(root: Path) -> None:
    """Files 0600 and directories 0700 under ``root`` (a package about to be handed over)."""
    for dirpath, _dirs, filenames in os.walk(root):
        os.chmod(dirpath, PRIVATE_DIR)
        for name in filenames:
            full = os.path.join(dirpath, name)
            if not os.path.islink(full):
                os.chmod(full, PRIVATE)
