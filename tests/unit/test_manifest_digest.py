"""The format-3 content digest of an evidence manifest (docs/FORMAT.md, "Evidence
packages"): over everything the manifest says but what the exporter writes once the
export is recorded, the same in the ledger and in the shipped standard-library verifier,
and as documented (red team, session 14)."""

from __future__ import annotations

import copy
import hashlib
import re
from pathlib import Path
from typing import Any

import pytest

from ledger import evidence_verifier as v
from ledger.canonical_json import canonical_json
from ledger.evidence import (
    MANIFEST_FORMAT,
    MANIFEST_FORMAT_2,
    content_digest,
    digested,
    export_id,
    manifest_digest,
    recorded_manifest,
)

DOCS = Path(__file__).resolve().parents[2] / "docs"
# The example of docs/FORMAT.md: the canonical JSON example's redaction on one clip whose
# original and delivered SHA-256 are those of the ASCII texts "original" and "redacted".
BODY: dict[str, Any] = {
    "format": MANIFEST_FORMAT,
    "library": "Mahomet Public Library",
    "log_origin": "custodes/00000000-0000-4000-8000-000000000001",
    "request": "R-2026-0004",
    "case_number": "MPD-26-1187",
    "recipient": "Det. Ray, Mahomet PD",
    "exported_at": "2026-11-05T15:00:00.000000Z",
    "exporter": {"name": "Dana Director", "role": "director"},
    "purpose": "law_enforcement_request",
    "clips": [
        {
            "segment_id": "3fa2c81d09ab",
            "camera_id": "lobby-1",
            "recorded_start": "2026-11-01T08:30:00+00:00",
            "recorded_end": "2026-11-01T08:30:01+00:00",
            "original_sha256": hashlib.sha256(b"original").hexdigest(),
            "sha256": hashlib.sha256(b"redacted").hexdigest(),
            "file": "clips/3fa2c81d09ab.redacted.mp4",
            "redaction": {"caption": "R-2026-0004 Café", "fps": 10.0, "regions": [[0, 0, 320, 80]]},
        }
    ],
    "release": {"request": "R-2026-0004", "recipient": "Det. Ray, Mahomet PD"},
}
EVENT = {"notification_id": 41, "position": 51, "aggregate_id": "(its id)"}
INVENTORY = "9" * 64


def manifest() -> dict[str, Any]:
    """The example as a package carries it: completed once the export was recorded."""
    return recorded_manifest(copy.deepcopy(BODY), manifest_digest(BODY), INVENTORY, EVENT)


def example() -> str:
    digest = manifest_digest(manifest())
    return (
        f"canonical JSON = {canonical_json(digested(manifest())).decode()}\n"
        f"content digest = {digest}\n"
        f"aggregate id   = {export_id(digest)}\n"
    )


def test_the_documented_example_is_what_the_code_computes() -> None:
    text = (DOCS / "FORMAT.md").read_text()
    block = re.search(r"<!-- manifest-digest example -->\n```\n(.*?)```", text, re.S)
    assert block is not None and block.group(1) == example()


def test_the_digest_leaves_out_exactly_what_recording_the_export_adds() -> None:
    assert digested(manifest()) == BODY
    assert manifest_digest(manifest()) == manifest_digest(BODY)
    later = manifest()
    later["export_event"]["position"] = 52
    later["release"]["inventory_sha256"] = "8" * 64
    assert manifest_digest(later) == manifest_digest(BODY)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("recipient",), "Sgt. B. Wolfe, Illinois State Police"),
        (("release", "recipient"), "Sgt. B. Wolfe, Illinois State Police"),
        (("case_number",), "ISP-26-5550"),
        (("case_number",), None),
        (("library",), "Another Library"),
        (("exporter", "name"), "Bo Manager"),
        (("purpose",), "foia_review"),
        (("clips", 0, "camera_id"), "kids-room"),
        (("clips", 0, "recorded_start"), "2026-10-03T21:00:00+00:00"),
        (("clips", 0, "redaction", "fps"), 10.5),
        (("note",), "added"),
    ],
)
def test_every_other_field_changes_the_digest_in_the_ledger_and_the_script(
    path: tuple[str | int, ...], value: Any
) -> None:
    changed = manifest()
    target: Any = changed
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    assert manifest_digest(changed) != manifest_digest(BODY)
    assert v.manifest_digest(changed) == manifest_digest(changed)


def test_the_script_computes_the_ledgers_digest_for_both_formats() -> None:
    assert v.manifest_digest(manifest()) == manifest_digest(manifest())
    old = {**manifest(), "format": MANIFEST_FORMAT_2}
    clips, request, at = old["clips"], old["request"], old["exported_at"]
    assert manifest_digest(old) == v.manifest_digest(old) == content_digest(clips, request, at)
    # Format 2 digested the request, time and clips alone: the recipient was not covered.
    assert manifest_digest({**old, "recipient": "someone else"}) == manifest_digest(old)
