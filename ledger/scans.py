"""A document's scan, as the ledger records it (a court order, the officer's signed
Appendix 9, a signed receipt): its name and SHA-256, never the scan itself. What is
recorded must be a scan: a PDF or an image, told by its first bytes, not by its name
(the browser's uploads, ``web.uploads``, and the command line's files, ``cli.request``,
alike; red team, session 13: the command line took an empty file or any text).

Example::

    >>> kind_of(b"%PDF-1.7 ...")
    'PDF'
    >>> kind_of(b"order scan") is None
    True
"""

from __future__ import annotations

# Signatures of what a scanner or a phone makes.
KINDS: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "PDF"),
    (b"\x89PNG\r\n\x1a\n", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"II*\x00", "TIFF image"),
    (b"MM\x00*", "TIFF image"),
    (b"GIF87a", "GIF image"),
    (b"GIF89a", "GIF image"),
)
# Completes "the file of X ..." when the file is neither.
NOT_A_SCAN = (
    "is not a PDF or an image (PNG, JPEG, TIFF, GIF, WebP); scan the signed paper to PDF "
    "or take a photo of it"
)


def kind_of(head: bytes) -> str | None:
    """What the first bytes say the file is (PDF or image), or None."""
    for magic, kind in KINDS:
        if head.startswith(magic):
            return kind
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WebP image"
    return None
