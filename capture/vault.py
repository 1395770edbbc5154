"""Encrypted-at-rest segment store ("vault").

Layout under ``root``::

    blobs/<sha256>.seg   ciphertext of the segment (header + AES-256-GCM chunks)
    keys/<sha256>.key    the segment's data key, wrapped with the site key
    shredding/<sha256>.key  a purge in progress: the key being destroyed, then (zeroed) the
                         note that the segment was destroyed and its purge is not yet
                         recorded; the sweep removes it once the purge is recorded
    tmp/                 work files; never read back

A blob or key that is gone with nothing in ``shredding/`` was not removed by a purge
(by hand, a disk fault): the audit reports it (``capture.audit``), never as a purge.

A segment's id is the SHA-256 (hex) of its plaintext, so the same footage cannot be stored
twice unnoticed. Each segment gets a fresh random 256-bit data key. The key lives only in
its key file, never in the blob: destroying the key file crypto-shreds the segment even if
a copy of the blob survives on a backup (R15 "key destroyed").

Blob format: ``MAGIC(8) | chunk_size(4, big-endian) | nonce_prefix(8)`` then chunks of
``chunk_size`` plaintext bytes, each sealed with AES-GCM under nonce
``nonce_prefix || index(4)`` and associated data ``header || index(8) || final(1)``; the
last chunk (possibly empty) has ``final = 1``. Reordered, dropped, appended or truncated
chunks therefore fail authentication. Key file: ``KEY_MAGIC(8) | nonce(12) | AES-GCM
(site key) of the data key``, associated data ``"custodes/segment-key/v1:" | sha256 |
blob header``, so a key file cannot be swapped onto another segment.

Ingest reads the source once (hash and encrypt in the same pass; the hash on a second
thread) with memory bounded by four chunks (reused buffers), writes to ``tmp/``, fsyncs, then
``os.replace``s into place (key file first), so a crash leaves either the whole segment
or nothing visible.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import io
import os
import uuid
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from capture.errors import (
    AlreadyStored,
    DestroyIncomplete,
    IntegrityMismatch,
    InvalidSiteKey,
    KeyDestroyed,
    KeyUnwrapFailed,
    SegmentNotFound,
    SourceChanged,
    SourceVanished,
    StoreFull,
)
from ledger.errors import InvalidInput

if TYPE_CHECKING:
    from ledger.app import Ledger

MAGIC = b"CSTDSEG1"
KEY_MAGIC = b"CSTDKEY1"
HEADER_LEN = 20
TAG_LEN = 16
DEFAULT_CHUNK = 1 << 20
_KEY_AAD = b"custodes/segment-key/v1:"
_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}


def generate_site_key() -> bytes:
    """A fresh random 256-bit site key (keep it outside the store, e.g. in the site's KMS)."""
    return AESGCM.generate_key(bit_length=256)


@dataclass(frozen=True)
class StoredSegment:
    sha256: str
    size: int
    blob_path: Path
    key_path: Path


@dataclass(frozen=True)
class DestroyReport:
    """What :meth:`Vault.destroy` did, for the purge record (R15)."""

    sha256: str
    blob_path: Path
    key_path: Path
    blob_removed: bool  # a blob existed and was unlinked
    key_destroyed: bool  # a key file existed, was overwritten with zeros, fsynced, unlinked
    blob_size: int


class Vault:
    """Encrypted segment store rooted at ``root``, keys wrapped with ``site_key``."""

    def __init__(self, root: Path, site_key: bytes, *, chunk_size: int = DEFAULT_CHUNK) -> None:
        if len(site_key) != 32:
            raise InvalidSiteKey(
                f"site key is {len(site_key)} bytes; it must be 32 (make one with "
                "capture.vault.generate_site_key())."
            )
        if chunk_size <= 0 or chunk_size >= 1 << 31:
            raise ValueError("chunk_size must be between 1 byte and 2 GiB")
        self.root = Path(root)
        self._site = AESGCM(site_key)
        self._chunk = chunk_size
        for sub in ("blobs", "keys", "shredding", "tmp"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)

    # --- paths and queries ------------------------------------------------------------

    def blob_path(self, sha256: str) -> Path:
        return self.root / "blobs" / f"{_check_id(sha256)}.seg"

    def key_path(self, sha256: str) -> Path:
        return self.root / "keys" / f"{_check_id(sha256)}.key"

    def shred_path(self, sha256: str) -> Path:
        """Where a key waits while it is being destroyed (see ``destroy``)."""
        return self.root / "shredding" / f"{_check_id(sha256)}.key"

    def has_blob(self, sha256: str) -> bool:
        return self.blob_path(sha256).exists()

    def is_shredding(self, sha256: str) -> bool:
        return self.shred_path(sha256).exists()

    def has_any_file(self, sha256: str) -> bool:
        """Blob, key or a key being shredded: something of the segment is still on disk."""
        return self.has_blob(sha256) or self.has_key(sha256) or self.is_shredding(sha256)

    def interrupted_destroys(self) -> list[str]:
        """Segments whose purge began and is not yet recorded (a crash, or the sweep is
        recording it right now): their keys, or the zeroed notes, are in ``shredding/``.
        The footage is lost from the moment its key left ``keys/``."""
        return sorted(p.stem for p in (self.root / "shredding").glob("*.key"))

    def inventory(self) -> tuple[set[str], set[str], set[str]]:
        """The segment ids with a blob, with a key, and with a purge in progress: three
        directory listings (an audit of every segment costs no stat per segment)."""

        def ids(sub: str, suffix: str) -> set[str]:
            with os.scandir(self.root / sub) as entries:
                return {e.name[: -len(suffix)] for e in entries if e.name.endswith(suffix)}

        return ids("blobs", ".seg"), ids("keys", ".key"), ids("shredding", ".key")

    def destroyed(self, sha256: str) -> bool:
        """Blob and key gone, and any key in ``shredding/`` zeroed: nothing readable left."""
        if self.has_blob(sha256) or self.has_key(sha256):
            return False
        try:
            with open(self.shred_path(sha256), "rb") as f:
                return not f.read().strip(b"\0")
        except FileNotFoundError:
            return True

    def release(self, sha256: str) -> None:
        """The purge is recorded: remove the note in ``shredding/`` (zeroed first, if a
        crash left it unzeroed)."""
        shred = self.shred_path(sha256)
        if shred.exists():
            self.destroy(sha256)

    def has_key(self, sha256: str) -> bool:
        return self.key_path(sha256).exists()

    def exists(self, sha256: str) -> bool:
        """True when the segment is stored and readable (blob and key both present)."""
        return self.has_blob(sha256) and self.has_key(sha256)

    # --- ingest -----------------------------------------------------------------------

    def ingest(self, src: Path, *, move: bool = True) -> StoredSegment:
        """Hash and encrypt ``src`` in one pass into the store; remove ``src`` if ``move``.

        Raises :class:`AlreadyStored` (source left in place) for content already stored,
        :class:`SourceVanished`/:class:`SourceChanged` if the source disappears, shrinks
        or grows while read, :class:`StoreFull` on ENOSPC; no partial file is left behind.
        """
        src = Path(src)
        try:  # never through a symbolic link: the file removed must be the file stored
            fin = open(os.open(src, os.O_RDONLY | os.O_NOFOLLOW), "rb")  # noqa: SIM115
        except FileNotFoundError:
            raise SourceVanished(f"{src}: no such file; check the path.") from None
        except OSError as e:
            if e.errno != errno.ELOOP:
                raise
            raise SourceChanged(
                f"{src}: is a symbolic link; only real files are stored. Nothing was stored."
            ) from None
        tmp_blob = self.root / "tmp" / f"{uuid.uuid4().hex}.seg.tmp"
        tmp_key = tmp_blob.with_suffix(".key.tmp")
        try:
            with fin:
                before = os.fstat(fin.fileno())
                data_key = AESGCM.generate_key(bit_length=256)
                header = MAGIC + self._chunk.to_bytes(4, "big") + os.urandom(8)
                sha256, size = self._encrypt_stream(fin, src, tmp_blob, data_key, header)
                _check_unchanged(src, fin, before, size)
            with self._lock():
                if self.has_blob(sha256):
                    raise AlreadyStored(sha256, src)
                wrapped = self._wrap(data_key, sha256, header)
                _write_durably(tmp_key, wrapped)
                _replace_durably(tmp_key, self.key_path(sha256))
                _replace_durably(tmp_blob, self.blob_path(sha256))
        finally:
            tmp_blob.unlink(missing_ok=True)
            tmp_key.unlink(missing_ok=True)
        if move:
            src.unlink(missing_ok=True)
            _fsync_dir(src.parent)
        return StoredSegment(sha256, size, self.blob_path(sha256), self.key_path(sha256))

    def _encrypt_stream(
        self, fin: BinaryIO, src: Path, dst: Path, data_key: bytes, header: bytes
    ) -> tuple[str, int]:
        aead = AESGCM(data_key)
        prefix = header[12:20]
        digest = hashlib.sha256()
        chunk = self._chunk
        size = 0
        _advise_sequential(fin)
        # SHA-256 runs on a second thread while this one reads, encrypts and writes: hashlib
        # releases the GIL for large updates, so on two cores the hash overlaps the rest.
        # One chunk is hashed at a time, in order (the next waits for the last). Reads go
        # into three reused buffers (the chunk being hashed, the one being encrypted, the
        # one read ahead) and AES-GCM seals into a fourth, so memory stays at four chunks
        # and no chunk-sized object is allocated (and page-faulted in) per chunk.
        buffers = [bytearray(chunk) for _ in range(3)]
        sealed = memoryview(bytearray(chunk + TAG_LEN))
        with (
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-sha256") as hasher,
            _store_writes(dst),
            open(dst, "wb") as out,
        ):
            hashing: Future[None] | None = None
            out.write(header)
            index = 0
            length = _read_into(fin, buffers[0], src)
            while True:
                current = memoryview(buffers[index % 3])[:length]
                ahead = 0
                if length == chunk:  # the buffer two chunks back: its hash is done
                    ahead = _read_into(fin, buffers[(index + 1) % 3], src)
                final = not ahead
                if hashing is not None:
                    hashing.result()
                hashing = hasher.submit(digest.update, current)
                size += length
                nonce = prefix + index.to_bytes(4, "big")
                out_len = length + TAG_LEN
                aad = _chunk_aad(header, index, final)
                aead.encrypt_into(nonce, current, aad, sealed[:out_len])
                out.write(sealed[:out_len])
                if final:
                    break
                length = ahead
                index += 1
                if index >= 1 << 32:
                    raise SourceChanged(f"{src}: larger than the store's format allows.")
            assert hashing is not None  # the loop submits at least the final chunk
            hashing.result()
            out.flush()
            os.fsync(out.fileno())
        return digest.hexdigest(), size

    # --- read back --------------------------------------------------------------------

    def decrypt_to(self, sha256: str, out_path: Path) -> Path:
        """Decrypt segment ``sha256`` to ``out_path``, verifying every chunk and the hash.

        The plaintext appears at ``out_path`` only after it verified; otherwise
        :class:`IntegrityMismatch` and nothing is written.
        """
        out_path = Path(out_path)
        tmp = out_path.with_name(f".{out_path.name}.{uuid.uuid4().hex}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            with _store_writes(tmp), open(fd, "wb") as out:
                self._decrypt_into(sha256, out)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, out_path)
        finally:
            tmp.unlink(missing_ok=True)
        return out_path

    def decrypt_bytes(self, sha256: str) -> bytes:
        """Segment ``sha256`` decrypted in memory, verified (chunks and hash); no plaintext
        touches the disk (the web dashboard streams it)."""
        buffer = io.BytesIO()
        self._decrypt_into(sha256, buffer)
        return buffer.getvalue()

    def _decrypt_into(self, sha256: str, out: BinaryIO) -> None:
        data_key, header = self._unwrap(sha256)
        aead = AESGCM(data_key)
        sealed = self._chunk_from(header) + TAG_LEN
        digest = hashlib.sha256()
        with open(self.blob_path(sha256), "rb") as fin:
            if fin.read(HEADER_LEN) != header:
                raise self._mismatch(sha256, "blob header does not match its key file")
            index = 0
            current = fin.read(sealed)
            while True:
                ahead = fin.read(sealed) if len(current) == sealed else b""
                final = not ahead
                nonce = header[12:20] + index.to_bytes(4, "big")
                try:
                    plain = aead.decrypt(nonce, current, _chunk_aad(header, index, final))
                except InvalidTag:
                    raise self._mismatch(sha256, f"chunk {index} fails authentication") from None
                digest.update(plain)
                out.write(plain)
                if final:
                    break
                current, index = ahead, index + 1
        if digest.hexdigest() != sha256:
            raise self._mismatch(sha256, f"plaintext hashes to {digest.hexdigest()}")

    def _mismatch(self, sha256: str, why: str) -> IntegrityMismatch:
        return IntegrityMismatch(
            f"segment {sha256} ({self.blob_path(sha256)}): {why}; the stored copy was altered "
            "or damaged. Do not release it; restore the segment from backup and record the event."
        )

    # --- destroy ----------------------------------------------------------------------

    def destroy(self, sha256: str, *, keep_marker: bool = False) -> DestroyReport:
        """Crypto-shred segment ``sha256`` and confirm every file is gone. Finishes a
        previously interrupted destroy.

        ``keep_marker``: leave the zeroed key in ``shredding/`` as the note that a purge
        is in progress, until the sweep has recorded it and calls :meth:`release` -- so
        that a crash between destroying and recording is told apart from files deleted
        by hand.

        The key first moves (atomic rename, directories fsynced) from ``keys/`` to
        ``shredding/``; there it is zeroed, fsynced and unlinked; then the blob is
        unlinked. A crash at any point leaves either the untouched key in ``keys/``
        (nothing destroyed yet) or a key in ``shredding/``, which
        ``interrupted_destroys`` lists so the next sweep finishes and records it --
        never a zeroed key in ``keys/`` that looks like stored footage.
        """
        blob, key, shred = self.blob_path(sha256), self.key_path(sha256), self.shred_path(sha256)
        if not blob.exists() and not key.exists() and not shred.exists():
            raise SegmentNotFound(f"segment {sha256}: not in the store at {self.root}.")
        key_destroyed = False  # True when THIS call took the key out of keys/
        if key.exists():
            os.replace(key, shred)
            _fsync_dir(key.parent)
            _fsync_dir(shred.parent)
            key_destroyed = True
        if shred.exists():
            with open(shred, "r+b") as f:
                f.write(b"\0" * os.fstat(f.fileno()).st_size)
                f.flush()
                os.fsync(f.fileno())
            if not keep_marker:
                shred.unlink()
                _fsync_dir(shred.parent)
        blob_size = blob.stat().st_size if blob.exists() else 0
        blob_removed = False
        if blob.exists():
            blob.unlink()
            _fsync_dir(blob.parent)
            blob_removed = True
        if blob.exists() or key.exists() or (shred.exists() and not keep_marker):
            raise DestroyIncomplete(
                f"segment {sha256}: a file is still present after destroy; check permissions "
                f"under {self.root} and run the purge again."
            )
        return DestroyReport(sha256, blob, key, blob_removed, key_destroyed, blob_size)

    # --- keys -------------------------------------------------------------------------

    def _wrap(self, data_key: bytes, sha256: str, header: bytes) -> bytes:
        nonce = os.urandom(12)
        aad = _KEY_AAD + sha256.encode() + header
        return KEY_MAGIC + nonce + self._site.encrypt(nonce, data_key, aad)

    def _unwrap(self, sha256: str) -> tuple[bytes, bytes]:
        blob, key = self.blob_path(sha256), self.key_path(sha256)
        if not blob.exists() and not key.exists():
            raise SegmentNotFound(f"segment {sha256}: not in the store at {self.root}.")
        if not key.exists():
            raise KeyDestroyed(
                f"segment {sha256}: its key file {key} is gone, so the segment was destroyed "
                "(crypto-shredded) and cannot be decrypted. See the purge record."
            )
        if not blob.exists():
            raise SegmentNotFound(f"segment {sha256}: key present but blob {blob} is missing.")
        with open(blob, "rb") as f:
            header = f.read(HEADER_LEN)
        raw = key.read_bytes()
        if len(header) != HEADER_LEN or not header.startswith(MAGIC):
            raise self._mismatch(sha256, "blob header is damaged")
        if not raw.startswith(KEY_MAGIC):
            raise KeyUnwrapFailed(f"segment {sha256}: {key} is not a key file.")
        nonce, sealed = raw[8:20], raw[20:]
        try:
            data_key = self._site.decrypt(nonce, sealed, _KEY_AAD + sha256.encode() + header)
        except InvalidTag:
            raise KeyUnwrapFailed(
                f"segment {sha256}: the key file {key} does not open with this site key (wrong "
                "site key, or the key file or blob header was altered)."
            ) from None
        return data_key, header

    def _chunk_from(self, header: bytes) -> int:
        return int.from_bytes(header[8:12], "big")

    @contextmanager
    def _lock(self) -> Iterator[None]:
        with open(self.root / ".lock", "a+b") as f:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f.fileno(), fcntl.LOCK_UN)


# --- helpers ----------------------------------------------------------------------------


def _check_id(sha256: str) -> str:
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise SegmentNotFound(f"{sha256!r} is not a segment id (64 lowercase hex digits).")
    return sha256


def _chunk_aad(header: bytes, index: int, final: bool) -> bytes:
    return header + index.to_bytes(8, "big") + (b"\x01" if final else b"\x00")


def _read_into(fin: BinaryIO, buffer: bytearray, src: Path) -> int:
    """Fill ``buffer`` from ``fin``; fewer bytes only at the end of the file."""
    view = memoryview(buffer)
    filled = 0
    try:
        while filled < len(buffer):
            n = fin.readinto(view[filled:])  # type: ignore[attr-defined]
            if not n:
                break
            filled += n
    except OSError as exc:
        raise SourceVanished(
            f"{src}: reading failed mid-file ({exc.strerror}); the source vanished or its "
            "storage failed. Nothing was stored; ingest it again once it is readable."
        ) from exc
    return filled


def _advise_sequential(fin: BinaryIO) -> None:
    """Tell the kernel the source is read once, front to back (larger read-ahead)."""
    try:
        os.posix_fadvise(fin.fileno(), 0, 0, os.POSIX_FADV_SEQUENTIAL)
    except (AttributeError, OSError):  # not on every platform or file system
        pass


def _check_unchanged(src: Path, fin: BinaryIO, before: os.stat_result, size: int) -> None:
    try:
        now = os.stat(src)
    except FileNotFoundError:
        raise SourceVanished(
            f"{src}: the file was removed while it was read; nothing was stored."
        ) from None
    if now.st_ino != before.st_ino or size > before.st_size or now.st_size > before.st_size:
        raise SourceChanged(
            f"{src}: the file changed while it was read (still being written?); nothing was "
            "stored. Ingest it after the recorder has closed the segment."
        )
    if size < before.st_size or now.st_size < before.st_size:
        raise SourceVanished(
            f"{src}: the file shrank from {before.st_size} to {size} bytes while it was read; "
            "nothing was stored."
        )


@contextmanager
def _store_writes(path: Path) -> Iterator[None]:
    """Map "disk full" to :class:`StoreFull` for writes to ``path``."""
    try:
        yield
    except OSError as exc:
        if exc.errno in _FULL_ERRNOS:
            raise StoreFull(
                f"{path.parent}: no space left while writing {path.name}; nothing was stored. "
                "Free space (or run the retention sweep) and ingest again."
            ) from exc
        raise


def _write_durably(path: Path, data: bytes) -> None:
    with _store_writes(path), open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _replace_durably(tmp: Path, final: Path) -> None:
    os.replace(tmp, final)
    _fsync_dir(final.parent)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def open_vault(ledger: Ledger) -> Vault:
    """The site's footage store: ``<data dir>/footage``, keys wrapped by the site key.
    Here rather than in ``capture.ingest`` so that a command that only reads the vault
    (``verify``'s audit, the sweep) does not import the video decoders (cv2, av)."""
    if ledger.datadir is None:
        raise InvalidInput("this ledger was opened without a data directory")
    return Vault(ledger.datadir.path / "footage", ledger.secret("footage_site"))
