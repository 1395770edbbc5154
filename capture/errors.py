"""Errors raised by the capture package.

One base error, :class:`CaptureError`; each subclass names a condition. Messages name the
file (or segment) and say how to proceed, so the CLI can print them unchanged.
"""

from __future__ import annotations

from pathlib import Path


class CaptureError(Exception):
    """Base class for every error raised by ``capture``."""

    def __str__(self) -> str:
        # A file name can hold anything: shown escaped, never as terminal control (issue 14).
        from ledger.text import printable

        return printable(super().__str__(), keep_newlines=True)


# --- probing / refusing footage -------------------------------------------------------


class FootageNotFound(CaptureError):
    """The footage file does not exist (or is not a regular file)."""


class NotVideo(CaptureError):
    """The file is not a video container with a video stream (text, image, audio...)."""


class NotDecodable(CaptureError):
    """The container opened but no video frame could be decoded (corrupt or truncated)."""


class EmptyVideo(CaptureError):
    """The video has zero frames or zero duration."""


class AudioPresent(CaptureError):
    """The file carries an audio stream; policy V-B / rule R12 forbids audio recording."""


class NotTheFootage(CaptureError):
    """The file is far larger than its video explains (padding, another file appended)."""


class SourceIsLink(CaptureError):
    """The source is a symbolic link: only real files are ingested (and removed)."""


# --- vault ----------------------------------------------------------------------------


class SourceVanished(CaptureError):
    """The source file disappeared or shrank while it was being read."""


class SourceChanged(CaptureError):
    """The source file grew or was replaced while it was being read (still being written)."""


class StoreFull(CaptureError):
    """The segment store ran out of space (ENOSPC)."""


class IntegrityMismatch(CaptureError):
    """Stored bytes fail authentication, or the plaintext does not hash to the segment id."""


class AlreadyStored(CaptureError):
    """The same content (same SHA-256) is already in the store."""

    def __init__(self, sha256: str, src: Path) -> None:
        self.sha256 = sha256
        self.src = src
        super().__init__(
            f"{src}: identical content is already stored as segment {sha256}; the source "
            "was left in place. If it was ingested before, remove the source file."
        )


class SegmentNotFound(CaptureError):
    """Neither blob nor key of the segment exists in the store."""


class KeyDestroyed(CaptureError):
    """The segment's key file is gone: the segment was crypto-shredded and cannot be read."""


class DestroyIncomplete(CaptureError):
    """A file of the segment is still present after destroy."""


class KeyUnwrapFailed(CaptureError):
    """The key file could not be unwrapped: wrong site key, or the key file was altered."""


class InvalidSiteKey(CaptureError):
    """The site key is not 32 bytes."""


# --- redaction / frames ---------------------------------------------------------------


class CascadeMissing(CaptureError):
    """A bundled Haar cascade file is missing or cannot be loaded."""


class FrameOutOfRange(CaptureError):
    """The requested time is outside the clip."""


class WriteFailed(CaptureError):
    """OpenCV could not open a writer for the output file."""
