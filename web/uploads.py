"""Scans uploaded from the browser: a court order, the officer's signed Appendix 9 form, a
signed receipt. Like the command line, only the document's name and SHA-256 are
recorded; the scan itself is not kept. A scan is a PDF or an image (told by its first
bytes, not by the name or the type the browser claims); anything else is refused before
anything is recorded. The whole request is refused (413) before it is read when it is
larger than ``MAX_CONTENT_LENGTH`` (web.app); the scan is hashed as it is read, in
chunks, and never held whole in memory.
"""

from __future__ import annotations

import hashlib
import unicodedata
from pathlib import PurePosixPath
from typing import Any

from ledger.errors import InvalidInput
from ledger.scans import NOT_A_SCAN, kind_of

CHUNK = 1 << 20
MAX_NAME = 200


def clean_name(name: str | None) -> str:
    """The file's own name, without any folder the browser sent, control characters or
    more than 200 characters."""
    base = PurePosixPath((name or "").replace("\\", "/")).name
    printable = "".join(c for c in base if unicodedata.category(c)[0] != "C").strip()
    return printable[:MAX_NAME] or "scan"


def scan_digest(upload: Any, what: str) -> tuple[str, str]:
    """(name, SHA-256) of an uploaded scan; InvalidInput (nothing recorded) if there is
    none, it is empty, or it is not a PDF or an image."""
    if upload is None or not getattr(upload, "filename", ""):
        raise InvalidInput(f"choose the file of {what} (a PDF or an image)")
    stream = upload.stream
    head = stream.read(16)
    if not head:
        raise InvalidInput(f"the file of {what} is empty")
    if kind_of(head) is None:
        raise InvalidInput(f"the file of {what} {NOT_A_SCAN}")
    h = hashlib.sha256(head)
    for chunk in iter(lambda: stream.read(CHUNK), b""):
        h.update(chunk)
    return clean_name(upload.filename), h.hexdigest()
