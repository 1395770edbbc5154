"""Evidence export: clips, manifest, proof and signatures a recipient can check alone.

Order, so that nothing is recorded for a package that cannot be delivered (issue 14,
finding 10):

1. check the target (a new name or an empty real directory, never a symbolic link) and
   who may export what (refusals recorded), and verify the ledger -- nothing written yet;
2. write a *pending* note in the data directory (``exports/pending/``) naming a hidden
   temporary directory beside the target, then build the package there: decrypt each
   segment, copy it or write a redacted derivation, hash everything; write the public
   key and the README; reserve the target (an empty directory made now if it was new);
   complete the note;
3. record the export and each derivation (source hash -> derived hash, parameters) and
   the viewings, in the ledger;
4. verify the ledger and sign a checkpoint that includes the export event; write its
   inclusion proof, the manifest, SHA256SUMS and its signature; make every file 0600;
5. rename the temporary directory onto the target; remove the pending note.

A failure before 3 leaves nothing (the temporary directory, the reserved target and the
note are removed). From 3 on the export is recorded: a failure there, or a crash, leaves
the temporary directory and the note, and the next ``custodes footage export`` (or
``--finish-pending``) finishes the package into its target, like the retention sweep
finishes an interrupted purge. A note whose export the ledger does not hold (a crash
before 3 took effect, or while the package was built: plaintext clips outside the data
directory) is discarded with its temporary directory.

An export under way holds a lock beside its note (``<note>.lock``, ``flock``) from before
the note is written until it is gone or the process ends, and the next run finishes or
discards only notes whose lock it can take: an export another process (the dashboard,
a second Director) is building or finishing right now is left to it.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

from capture.ingest import open_vault
from capture.redact import redact_clip
from ledger.app import Ledger
from ledger.errors import LedgerError
from ledger.evidence import (
    MANIFEST_FORMAT_2,
    SIGNATURE,
    SUMS,
    VERIFIER,
    export_id,
    manifest_digest,
    recorded_manifest,
    sha256_file,
    sums_text,
    verifier_script,
)
from ledger.exports import exported_at
from ledger.integrity import issue_checkpoint, open_chain, prove, verified
from ledger.outfiles import (
    PRIVATE,
    PRIVATE_DIR,
    check_new_directory,
    make_private,
    publish_directory,
    write_bytes,
)

PENDING_FORMAT = "custodes-pending-export/2"


class ExportIncomplete(LedgerError):
    """The export is recorded but its package could not be finished yet; the next
    export run finishes it."""


README = """Evidence package from {library}
=====================================================================

Request {request} (case {case}) -- exported {exported_at} by {exporter}
for {recipient}. Clips: {clips}.

What is here
  clips/            the footage (redacted copies are marked .redacted)
  manifest.json     per clip: original and derived SHA-256, redaction parameters
  proof.json        proof that the export is recorded in the library's ledger
  checkpoint.txt    the ledger's signed tree head (Ed25519, C2SP signed note)
  public-key.pem    the library's public signing key
  verify.py         checks all of this with Python 3 alone (no other software)
  SHA256SUMS        SHA-256 of every file above
  SHA256SUMS.sig    the library's signature over SHA256SUMS

Check it without any software from the library (GNU coreutils and OpenSSL 3). Work
files go to a scratch directory: nothing is written into the package.

  sha256sum -c SHA256SUMS
  openssl pkeyutl -verify -pubin -inkey public-key.pem -rawin \\
      -in SHA256SUMS -sigfile SHA256SUMS.sig

  # the checkpoint's own signature:
  work=$(mktemp -d)
  sed '/^$/,$d' checkpoint.txt > "$work/body.txt"
  grep -F -- "\u2014 $(head -1 checkpoint.txt) " checkpoint.txt | cut -d' ' -f3 \\
      | base64 -d | tail -c +5 > "$work/sig.bin"
  openssl pkeyutl -verify -pubin -inkey public-key.pem -rawin \\
      -in "$work/body.txt" -sigfile "$work/sig.bin"

Both openssl commands must print "Signature Verified Successfully". Compare the public
key's fingerprint with the one the library publishes in its compliance reports:

  openssl pkey -pubin -in public-key.pem -outform DER | sha256sum

Then, with Python 3 (3.8 or later, nothing to install), check everything above and the
proof that the export is recorded in the library's ledger:

  python3 -I verify.py

It recomputes the manifest's content digest, the ledger entry of the export and its
inclusion proof up to the signed checkpoint, and prints OK (exit 0) or the first thing
that does not check out (exit 3). verify.py is listed in SHA256SUMS: once the openssl
check above has passed, it is the library's own file.
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
    remote: bool,
    signing_key: Any,
    redact_faces: bool = False,
    regions: Sequence[tuple[int, int, int, int]] = (),
    progress: Callable[[str], None] | None = None,
    fail_at: Callable[[str], None] | None = None,
) -> ExportResult:
    """Build, record and deliver an evidence package (see the module's order of work).
    ``fail_at(step)`` is called after "recorded" (tests raise there to simulate a crash)."""
    now = ledger.clock()
    datadir = ledger.datadir
    assert datadir is not None
    to = check_new_directory(to)
    permit = ledger.check_export(request_ref, segments, actor=actor)
    verified(open_chain(datadir))  # a tampered ledger: exit 3 before anything is recorded
    vault = open_vault(ledger)
    # R16b: the clips decrypted into ``work`` are plaintext outside the data directory. The
    # note naming it comes first, so a crash while it is built (a kill, a power cut) leaves
    # a note the next run discards with the directory, never clips nobody knows of. Its
    # lock, taken first, keeps another process's run from finishing or discarding it.
    note = _pending_dir(ledger) / f"{uuid4()}.json"
    held = _hold(note, wait=True)
    assert held is not None
    try:
        work = Path(tempfile.mkdtemp(prefix=f".{to.name}.", suffix=".export", dir=to.parent))
        reserved = False
        try:
            _write_pending(ledger, {"format": PENDING_FORMAT, "building": True, "work": str(work),
                                    "target": str(to)}, note)  # fmt: skip
            clips = _write_clips(
                ledger, vault, permit, work, redact_faces, list(regions), now, progress
            )
            stamp = exported_at(now)
            write_bytes(work / "public-key.pem", datadir.public_key_pem())
            write_bytes(
                work / "README.txt",
                README.format(
                    library=ledger.site().library,
                    request=permit.request_ref,
                    case=permit.case_number or "-",
                    exported_at=f"{now.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC",
                    exporter=permit.who.name,
                    recipient=permit.recipient,
                    clips=len(clips),
                ).encode(),
            )
            if not to.exists():
                to.mkdir(mode=PRIVATE_DIR)  # reserved: the package is renamed onto it
                reserved = True
            manifest = permit.manifest(clips, stamp)  # what the export's id commits to
            pending: dict[str, Any] = {
                "format": PENDING_FORMAT,
                "export_id": str(export_id(manifest_digest(manifest))),
                "work": str(work),
                "target": str(to),
                "request": permit.request_ref,
                "manifest": manifest,
            }
            _write_pending(ledger, pending, note)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            if reserved:
                to.rmdir()
            note.unlink(missing_ok=True)
            raise
        try:
            ledger.record_export(permit, clips, stamp=stamp, remote=remote)
        except BaseException:
            if ledger.recorded_export(UUID(pending["export_id"])) is None:
                _discard(pending, note)  # nothing recorded: nothing to finish
            raise
        try:
            if fail_at is not None:
                fail_at("recorded")
            return _finish(ledger, pending, note, signing_key)
        except ExportIncomplete:
            raise
        except Exception as e:
            raise _incomplete(pending, e) from e
    finally:
        _let_go(note, held)


def finish_pending_exports(ledger: Ledger, signing_key: Any) -> list[ExportResult]:
    """Finish every export that was recorded but not delivered (a crash, a full disk);
    discard the notes of exports that were never recorded. Returns those finished."""
    finished = []
    for note, pending in _left_behind(ledger):
        if _never_recorded(ledger, pending):
            _drop(pending, note)
            continue
        try:
            finished.append(_finish(ledger, pending, note, signing_key))
        except ExportIncomplete:
            raise
        except Exception as e:
            raise _incomplete(pending, e) from e
    return finished


@dataclass(frozen=True)
class LeftBehind:
    discarded: tuple[str, ...]  # temporary directories of exports never recorded
    waiting: tuple[str, ...]  # requests whose recorded export waits to be delivered


def discard_abandoned_exports(ledger: Ledger, *, dry_run: bool = False) -> LeftBehind:
    """The retention sweep's part (R16b): remove what exports that were never recorded
    left behind (their decrypted clips beside the target), without a signing key; list
    the recorded ones still to be delivered (``footage export --finish-pending``)."""
    discarded, waiting = [], []
    for note, pending in _left_behind(ledger):
        if _never_recorded(ledger, pending):
            if not dry_run:
                _drop(pending, note)
            discarded.append(str(pending["work"]))
        else:
            waiting.append(str(pending["request"]))
    return LeftBehind(tuple(discarded), tuple(waiting))


def _left_behind(ledger: Ledger) -> Iterator[tuple[Path, dict[str, Any]]]:
    """Each pending note no process is working on, with its lock held while the caller
    deals with it: exports a crash or a failure left behind."""
    for note in sorted(_pending_dir(ledger).glob("*.json")):
        held = _hold(note, wait=False)
        if held is None:
            continue  # under way in another process (the dashboard, another export)
        try:
            if note.exists():  # else finished by its own process meanwhile
                yield note, json.loads(note.read_text())
        finally:
            _let_go(note, held)


def _never_recorded(ledger: Ledger, pending: dict[str, Any]) -> bool:
    """A crash while the package was built, or before the export was recorded."""
    return bool(pending.get("building")) or (
        ledger.recorded_export(UUID(pending["export_id"])) is None
    )


def _drop(pending: dict[str, Any], note: Path) -> None:
    if pending.get("building"):  # the target was not reserved yet: only the clips go
        _remove_work(pending)
        note.unlink(missing_ok=True)
    else:
        _discard(pending, note)


def _remove_work(pending: dict[str, Any]) -> None:
    """Remove the temporary directory a note names, only if it is one ``export_footage``
    makes (``.<target>.<random>.export``, a real directory beside the target): the
    nightly sweep acts on notes unattended, and a note edited to name another folder must
    not have it delete that folder."""
    work, target = Path(pending["work"]), Path(pending["target"])
    ours = (
        work.parent == target.parent
        and work.name.startswith(f".{target.name}.")
        and work.name.endswith(".export")
    )
    if ours and work.is_dir() and not work.is_symlink():
        shutil.rmtree(work, ignore_errors=True)


def _hold(note: Path, *, wait: bool) -> int | None:
    """Take the lock of the export whose note this is (made if missing: a note from before
    the locks); ``wait`` False: None when another process holds it."""
    fd = os.open(note.with_suffix(".lock"), os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, PRIVATE)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    except BlockingIOError:
        os.close(fd)
        return None
    except BaseException:
        os.close(fd)
        raise
    return fd


def _let_go(note: Path, fd: int) -> None:
    """Release an export's lock; its lock file goes with its note (kept while the note
    waits to be finished)."""
    try:
        if not note.exists():
            note.with_suffix(".lock").unlink(missing_ok=True)
    finally:
        os.close(fd)


def _finish(ledger: Ledger, pending: dict[str, Any], note: Path, signing_key: Any) -> ExportResult:
    """Steps 4 and 5 for a recorded export: proof, manifest, sums, signature, delivery."""
    now = ledger.clock()
    datadir = ledger.datadir
    assert datadir is not None
    work, target = Path(pending["work"]), Path(pending["target"])
    export_uuid = UUID(pending["export_id"])
    recorded = ledger.recorded_export(export_uuid)
    assert recorded is not None
    reader = open_chain(datadir)
    origin = ledger.site().log_origin
    cp, checkpoint = issue_checkpoint(reader, origin=origin, signing_key=signing_key, now=now)
    row = reader.entry(originator=(export_uuid, 1))
    proof = prove(reader, row[0], cp, checkpoint)
    event = {
        "notification_id": proof.notification_id,
        "position": proof.position,
        "aggregate_id": str(export_uuid),
    }
    manifest = recorded_manifest(
        pending.get("manifest") or _format_2(ledger, pending),
        recorded["content_digest"],
        recorded["release_inventory_sha256"],
        event,
    )
    for name in ("manifest.json", "proof.json", "checkpoint.txt", VERIFIER, SUMS, SIGNATURE):
        (work / name).unlink(missing_ok=True)  # left by an earlier attempt
    _write(work / "manifest.json", json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    _write(work / "proof.json", json.dumps(proof.to_json(), indent=2) + "\n")
    _write(work / "checkpoint.txt", checkpoint)
    write_bytes(work / VERIFIER, verifier_script())
    files = [str(p.relative_to(work)) for p in sorted(work.rglob("*")) if p.is_file()]
    sums = sums_text(work, files)
    _write(work / SUMS, sums)
    write_bytes(work / SIGNATURE, signing_key.sign(sums.encode()))
    make_private(work)  # evidence: 0600 files, 0700 directories
    publish_directory(work, target)
    note.unlink(missing_ok=True)
    return ExportResult(target, pending["request"], manifest["clips"], proof.position, cp.size)


def _format_2(ledger: Ledger, pending: dict[str, Any]) -> dict[str, Any]:
    """The manifest of an export recorded before format 3 (a note left by a crash before
    the upgrade, ``custodes-pending-export/1``): its id commits to the format-2 digest."""
    site = ledger.site()
    fields = ("request", "case_number", "recipient", "exported_at", "exporter", "purpose", "clips")
    return {
        "format": MANIFEST_FORMAT_2,
        "library": site.library,
        "log_origin": site.log_origin,
        **{name: pending[name] for name in fields},
        "release": {"request": pending["request"], "recipient": pending["recipient"]},
    }


def _pending_dir(ledger: Ledger) -> Path:
    assert ledger.datadir is not None
    path = ledger.datadir.path / "exports" / "pending"
    path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    return path


def _write_pending(ledger: Ledger, pending: dict[str, Any], note: Path) -> Path:
    """The note of an export under way, replaced as it moves on (the ledger's own file)."""
    write_bytes(
        note,
        (json.dumps(pending, indent=2) + "\n").encode(),
        mode=PRIVATE,
        force=True,
        ledger_file=True,
    )
    return note


def _discard(pending: dict[str, Any], note: Path) -> None:
    _remove_work(pending)
    target = Path(pending["target"])
    if target.is_dir() and not target.is_symlink() and not any(target.iterdir()):
        target.rmdir()  # the reservation
    note.unlink(missing_ok=True)


def _incomplete(pending: dict[str, Any], e: BaseException) -> ExportIncomplete:
    return ExportIncomplete(
        f"the export for {pending['request']} is recorded but its package could not be "
        f"finished ({e}). Its clips wait in {pending['work']}; fix the cause and run "
        "`custodes footage export --finish-pending --as NAME` (any export run finishes it "
        f"too) to deliver it into {pending['target']}."
    )


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
    write_bytes(path, text.encode("utf-8"), mode=PRIVATE)
