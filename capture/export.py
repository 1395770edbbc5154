"""Evidence export: clips, manifest, proof and signatures a recipient can check alone.

Order, so that nothing half-made is ever handed over:

1. check who may export what (refusals recorded) -- nothing written yet;
2. build the package in a hidden temporary directory beside the target: decrypt each
   segment, copy it or write a redacted derivation, hash everything;
3. record the export and each derivation (source hash -> derived hash, parameters) and
   the viewings, in the ledger;
4. verify the ledger and sign a checkpoint that includes the export event; write its
   inclusion proof, the public key, the README, SHA256SUMS and its signature;
5. rename the temporary directory to the target.

A failure before 3 leaves nothing; a failure after 3 leaves the export recorded with no
package delivered (the ledger says so; run the export again).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from capture.ingest import open_vault
from capture.redact import redact_clip
from ledger.app import Ledger
from ledger.errors import InvalidInput
from ledger.evidence import (
    MANIFEST_FORMAT,
    SIGNATURE,
    SUMS,
    sha256_file,
    sums_text,
)
from ledger.exports import exported_at
from ledger.integrity import issue_checkpoint, open_chain, prove

README = """Evidence package from {library}
=====================================================================

Request {request} (case {case}) -- exported {exported_at} UTC by {exporter}
for {recipient}. Clips: {clips}.

What is here
  clips/            the footage (redacted copies are marked .redacted)
  manifest.json     per clip: original and derived SHA-256, redaction parameters
  proof.json        proof that the export is recorded in the library's ledger
  checkpoint.txt    the ledger's signed tree head (Ed25519, C2SP signed note)
  public-key.pem    the library's public signing key
  SHA256SUMS        SHA-256 of every file above
  SHA256SUMS.sig    the library's signature over SHA256SUMS

Check it without any software from the library (GNU coreutils and OpenSSL 3):

  sha256sum -c SHA256SUMS
  openssl pkeyutl -verify -pubin -inkey public-key.pem -rawin \\
      -in SHA256SUMS -sigfile SHA256SUMS.sig

  # the checkpoint's own signature:
  sed '/^$/,$d' checkpoint.txt > body.txt
  grep -F -- "\u2014 $(head -1 checkpoint.txt) " checkpoint.txt | cut -d' ' -f3 \\
      | base64 -d | tail -c +5 > sig.bin
  openssl pkeyutl -verify -pubin -inkey public-key.pem -rawin -in body.txt -sigfile sig.bin

Both openssl commands must print "Signature Verified Successfully". Compare the public
key's fingerprint with the one the library publishes in its compliance reports:

  openssl pkey -pubin -in public-key.pem -outform DER | sha256sum

With Custodes installed, `custodes verify-export .` does all of this and also
recomputes the inclusion proof of the export in the signed checkpoint.
"""


@dataclass(frozen=True)
class ExportResult:
    path: Path
    request_ref: str
    clips: list[dict[str, Any]]
    event_position: int
    checkpoint_size: int


def export_footage(
    ledger: Ledger,
    segments: Sequence[str],
    *,
    request_ref: str,
    to: Path,
    actor: str,
    signing_key: Any,
    redact_faces: bool = False,
    regions: Sequence[tuple[int, int, int, int]] = (),
    progress: Callable[[str], None] | None = None,
) -> ExportResult:
    now = ledger.clock()
    to = to.expanduser()
    if to.exists() and (not to.is_dir() or any(to.iterdir())):
        raise InvalidInput(f"{to} exists and is not an empty directory; choose a new one")
    permit = ledger.check_export(request_ref, segments, actor=actor)
    vault = open_vault(ledger)
    to.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{to.name}.", dir=to.parent))
    try:
        clips = _write_clips(
            ledger, vault, permit, work, redact_faces, list(regions), now, progress
        )
        export_uuid = ledger.record_export(permit, clips)
        datadir = ledger.datadir
        assert datadir is not None
        reader = open_chain(datadir)
        origin = ledger.site().log_origin
        cp, note = issue_checkpoint(reader, origin=origin, signing_key=signing_key, now=now)
        row = reader.entry(originator=(export_uuid, 1))
        proof = prove(reader, row[0], cp, note)
        stamp = exported_at(now)
        from ledger.evidence import content_digest

        manifest = {
            "format": MANIFEST_FORMAT,
            "library": ledger.site().library,
            "log_origin": origin,
            "request": permit.request_ref,
            "case_number": permit.case_number,
            "recipient": permit.recipient,
            "exported_at": stamp,
            "exporter": {"name": permit.who.name, "role": permit.who.role},
            "purpose": permit.purpose,
            "clips": clips,
            "content_digest": content_digest(clips, permit.request_ref, stamp),
            "release": {
                "request": permit.request_ref,
                "recipient": permit.recipient,
                "inventory_sha256": ledger.request_view(permit.request_ref)["releases"][-1][
                    "inventory_sha256"
                ],
            },
            "export_event": {
                "notification_id": proof.notification_id,
                "position": proof.position,
                "aggregate_id": str(export_uuid),
            },
        }
        _write(work / "manifest.json", json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        _write(work / "proof.json", json.dumps(proof.to_json(), indent=2) + "\n")
        _write(work / "checkpoint.txt", note)
        (work / "public-key.pem").write_bytes(datadir.public_key_pem())
        _write(
            work / "README.txt",
            README.format(
                library=ledger.site().library,
                request=permit.request_ref,
                case=permit.case_number or "-",
                exported_at=stamp,
                exporter=permit.who.name,
                recipient=permit.recipient,
                clips=len(clips),
            ),
        )
        files = [str(p.relative_to(work)) for p in sorted(work.rglob("*")) if p.is_file()]
        sums = sums_text(work, files)
        _write(work / SUMS, sums)
        (work / SIGNATURE).write_bytes(signing_key.sign(sums.encode()))
        if to.exists():
            to.rmdir()
        work.rename(to)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return ExportResult(to, permit.request_ref, clips, proof.position, cp.size)


def _write_clips(
    ledger: Ledger,
    vault: Any,
    permit: Any,
    work: Path,
    redact_faces: bool,
    regions: list[tuple[int, int, int, int]],
    now: datetime,
    progress: Callable[[str], None] | None,
) -> list[dict[str, Any]]:
    (work / "clips").mkdir()
    clips: list[dict[str, Any]] = []
    for segment_id in permit.segments:
        info = ledger.segment_info(segment_id)
        suffix = _suffix(info)
        original = work / "clips" / f"{segment_id}{suffix}"
        vault.decrypt_to(info.sha256, original)
        if progress is not None:
            progress(segment_id)
        if redact_faces or regions:
            derived = work / "clips" / f"{segment_id}.redacted.mp4"
            result = redact_clip(
                original,
                derived,
                blur_faces=redact_faces,
                regions=regions,
                caption=f"{permit.request_ref} {permit.case_number or ''}".strip(),
                start=info.recorded_start,
                zone=ledger.site().zone,
            )
            original.unlink()  # the recipient gets the redacted copy only
            # Paths are local to this machine: the hashes identify source and output.
            redaction: dict[str, Any] | None = {
                k: v for k, v in result.to_record().items() if k not in ("source", "output")
            }
            file = derived
        else:
            redaction = None
            file = original
        clips.append(
            {
                "segment_id": segment_id,
                "camera_id": info.camera_id,
                "recorded_start": info.recorded_start.isoformat(),
                "recorded_end": info.recorded_end.isoformat(),
                "original_sha256": info.sha256,
                "sha256": sha256_file(file),
                "file": str(file.relative_to(work)),
                "redaction": _jsonable(redaction),
            }
        )
    return clips


def _suffix(info: Any) -> str:
    container = str((info.media or {}).get("container", "")).lower()
    return ".avi" if "avi" in container else ".mp4"


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str)) if value is not None else None


def _write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
