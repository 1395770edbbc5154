"""Evidence packages: what law enforcement or a court receives, and how it is checked.

A package is a directory::

    clips/...             the exported clips (originals decrypted, or redacted copies)
    manifest.json         per clip: original and derived SHA-256, redaction parameters;
                          the request, the recipient, the content digest, the export event
    proof.json            inclusion proof of the export event in the signed checkpoint
    checkpoint.txt        the signed checkpoint (C2SP signed note, Ed25519)
    public-key.pem        the site's Ed25519 public key (compare its fingerprint with the
                          one printed in the library's compliance reports)
    README.txt            how to check all this without Custodes
    verify.py             a standard-library-only checker of all of it (python3 -I verify.py)
    SHA256SUMS            SHA-256 of every file above (`sha256sum -c SHA256SUMS`)
    SHA256SUMS.sig        Ed25519 signature over SHA256SUMS (`openssl pkeyutl -verify`)

The ledger commits to the exported content in clear: the export event's aggregate id is
``uuid5(EXPORT_NAMESPACE, content digest)``, and the content digest (manifest format 3) is
SHA-256 over the canonical JSON of the whole manifest but what is written into it once the
export is recorded. The aggregate id is a chain field, so the inclusion proof ties the
clips, the recipient, the case and the rest of the manifest to an entry of the signed tree
without revealing (or decrypting) any payload. Format 2 digested only the request, the
export time and the clip lines; its packages still verify, the rest of their manifest
resting on the signature over SHA256SUMS alone (red team, session 14).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID, uuid5

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from ledger.canonical_json import canonical_json
from ledger.checkpoint import parse_and_verify, parse_unverified, public_key_fingerprint
from ledger.errors import InvalidInput, LedgerError
from ledger.merkle import MerkleError

EXPORT_NAMESPACE = UUID("0b1f5a52-4e0c-4a8e-9a39-3f7f8ad5e0c1")
MANIFEST_FORMAT = "custodes-evidence-manifest/3"
DIGEST_DOMAIN = b"custodes/evidence/v3\x00"
MANIFEST_FORMAT_2 = "custodes-evidence-manifest/2"
DIGEST_DOMAIN_2 = b"custodes/evidence/v2\x00"
# What the exporter writes into a format-3 manifest once the export is recorded, so the
# digest cannot cover it: the digest itself, the export event (position, notification id,
# aggregate id: proof.json proves them), and the release's inventory digest (the register's).
RECORDED_FIELDS = ("content_digest", "export_event")
RECORDED_RELEASE_FIELDS = ("inventory_sha256",)
# What a recipient of a format-2 package must be told (red team, session 14).
FORMAT_2_CAVEAT = (
    f"manifest format {MANIFEST_FORMAT_2}: the ledger commits to its request, export time "
    "and clips only; its recipient, case number, cameras, recording times and exporter "
    "rest on the signature over SHA256SUMS alone"
)
VERIFIER = "verify.py"
SUMS = "SHA256SUMS"
SIGNATURE = "SHA256SUMS.sig"
CHUNK = 1 << 20
# Disclosure records (ledger.disclosure_records): the record's canonical JSON, digested.
RECORD_NAMESPACE = UUID("4fe0c093-0521-452c-b1ae-6a5c90880b21")
RECORD_FORMAT = "custodes-disclosure-record/1"
RECORD_DOMAIN = b"custodes/disclosure-record/v1\x00"


class EvidenceInvalid(LedgerError):
    """The package does not check out: something in it was changed (exit 3)."""


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def clip_line(clip: dict[str, Any]) -> str:
    """One clip's line in the content digest (docs/FORMAT.md, "Evidence packages"); the
    redaction parameters as canonical JSON (RFC 8785), the same bytes in any language."""
    params = canonical_json(clip.get("redaction")).decode("utf-8")
    return (
        f"{clip['segment_id']} {clip['original_sha256']} {clip['sha256']} {clip['file']} {params}\n"
    )


def content_digest(clips: list[dict[str, Any]], request_ref: str, exported_at: str) -> str:
    """Format 2's content digest: SHA-256 over the export's request, time and clip lines
    only (docs/FORMAT.md). Kept so that packages already handed out keep verifying."""
    h = hashlib.sha256(DIGEST_DOMAIN_2)
    h.update(f"{request_ref} {exported_at}\n".encode())
    for clip in sorted(clips, key=lambda c: c["file"]):
        h.update(clip_line(clip).encode("utf-8"))
    return h.hexdigest()


def manifest_digest(manifest: dict[str, Any]) -> str:
    """The content digest a manifest of its format carries, the one its export's id
    commits to: format 3, SHA-256 over the domain and the canonical JSON of everything
    the manifest says but what is written once the export is recorded, so that no field a
    recipient relies on (recipient, case, cameras, recording times, exporter) rests on
    the site key alone; format 2, over its request, time and clip lines."""
    if manifest.get("format") == MANIFEST_FORMAT_2:
        return content_digest(manifest["clips"], manifest["request"], manifest["exported_at"])
    return hashlib.sha256(DIGEST_DOMAIN + canonical_json(digested(manifest))).hexdigest()


def digested(manifest: dict[str, Any]) -> dict[str, Any]:
    """A format-3 manifest without what the exporter writes into it once the export is
    recorded (:data:`RECORDED_FIELDS`): what its content digest covers."""
    body = {k: v for k, v in manifest.items() if k not in RECORDED_FIELDS}
    if isinstance(body.get("release"), dict):
        release = body["release"].items()
        body["release"] = {k: v for k, v in release if k not in RECORDED_RELEASE_FIELDS}
    return body


def recorded_manifest(
    body: dict[str, Any], digest: str, inventory_sha256: str, export_event: dict[str, Any]
) -> dict[str, Any]:
    """The manifest a package carries: ``body`` (what the export recorded) completed with
    what recording it gave, the fields :func:`digested` leaves out."""
    release = {**body["release"], "inventory_sha256": inventory_sha256}
    return {**body, "release": release, "content_digest": digest, "export_event": export_event}


def record_digest(record: dict[str, Any]) -> str:
    """A disclosure record's digest: SHA-256 over the domain and its canonical JSON."""
    return hashlib.sha256(RECORD_DOMAIN + canonical_json(record)).hexdigest()


def record_id(digest: str) -> UUID:
    return uuid5(RECORD_NAMESPACE, digest)


def verifier_script() -> bytes:
    """The standard-library-only checker shipped in every package as ``verify.py``."""
    return (Path(__file__).parent / "evidence_verifier.py").read_bytes()


def export_id(digest: str) -> UUID:
    return uuid5(EXPORT_NAMESPACE, digest)


def sums_text(root: Path, files: list[str]) -> str:
    """`sha256sum` format: lowercase hex, two spaces, the relative path."""
    return "".join(f"{sha256_file(root / name)}  {name}\n" for name in sorted(files))


@dataclass(frozen=True)
class PackageReport:
    files_checked: int
    clips: int
    export_event_position: int
    checkpoint_size: int
    key_name: str
    public_key_sha256: str
    describes: str = ""  # "3 clip(s) for R-…" or "the disclosure record of release 1 of R-… to …"
    caveat: str = ""  # what the package does not commit the ledger to (a format-2 manifest)


def verify_package(root: Path, trusted_public_key: Ed25519PublicKey | None = None) -> PackageReport:
    """Check a package the way docs/EXPORTS.md tells a recipient to, plus the proof.

    Raises EvidenceInvalid naming the first thing that does not check out; returns what
    was checked. ``trusted_public_key`` pins the key (else the package's own key is
    used, and its fingerprint is returned for comparison with a published one).
    """
    from ledger.integrity import InclusionProof, MerkleProofFailed, check_inclusion

    if not (root / "manifest.json").is_file() and not (root / "record.json").is_file():
        raise InvalidInput(
            f"{root} is not a Custodes evidence package or disclosure record (no manifest.json "
            "or record.json)"
        )
    key_pem = _read(root, "public-key.pem")
    key = trusted_public_key or _public_key(key_pem)
    sums = _read(root, SUMS)
    try:
        key.verify(_read(root, SIGNATURE), sums)
    except InvalidSignature as e:
        raise EvidenceInvalid(
            f"{SIGNATURE} does not verify: {SUMS} was changed or re-signed"
        ) from e
    listed = _parse_sums(sums.decode("utf-8", errors="replace"))
    for name, digest in listed.items():
        path = root / name
        if not path.is_file() or ".." in Path(name).parts:
            raise EvidenceInvalid(f"{name} is listed in {SUMS} but missing from the package")
        if sha256_file(path) != digest:
            raise EvidenceInvalid(f"{name} does not match its SHA-256 in {SUMS}: it was changed")
    present = _package_files(root) - {SUMS, SIGNATURE}
    if extra := sorted(present - set(listed)):
        raise EvidenceInvalid(f"{extra[0]} is in the package but not in {SUMS}")
    caveat, record = "", None
    if (root / "record.json").is_file() and not (root / "manifest.json").is_file():
        record = _strict_json(_read(root, "record.json"), "record.json")
        expected, items, what = _disclosure_record(record)
    else:
        expected, items, what, caveat = _evidence(root, listed)
    note = _read(root, "checkpoint.txt").decode()
    key_name = parse_unverified_origin(note)
    try:
        cp = parse_and_verify(note, key, key_name)
    except MerkleError as e:
        raise EvidenceInvalid(f"checkpoint.txt does not verify: {e}") from e
    try:  # a package's proof that cannot be read is a package that fails (exit 3, as
        # verify.py says), not bad input (red team, session 16: exit 1)
        proof = InclusionProof.from_json(json.loads(_read(root, "proof.json")))
    except (InvalidInput, ValueError, KeyError, TypeError) as e:
        raise EvidenceInvalid(f"proof.json is not an inclusion proof of this package ({e})") from e
    if proof.originator_id != expected:
        raise EvidenceInvalid(
            f"proof.json is not the proof of this {what[0]}: its event does not commit to {what[1]}"
        )
    try:
        check_inclusion(proof, cp)
    except (MerkleProofFailed, InvalidInput) as e:
        raise EvidenceInvalid(f"proof.json does not verify against checkpoint.txt: {e}") from e
    if record is not None:  # proven: does record.txt say what it says?
        from ledger import evidence_verifier  # the recipients' verify.py: one reading

        try:
            evidence_verifier.check_reading_copy(str(root), listed, record)
        except evidence_verifier.Failed as e:
            raise EvidenceInvalid(str(e)) from e
    return PackageReport(
        files_checked=len(listed),
        clips=items,
        export_event_position=proof.position,
        checkpoint_size=cp.size,
        key_name=key_name,
        public_key_sha256=public_key_fingerprint(_public_key(key_pem)),
        describes=what[2],
        caveat=caveat,
    )


def _evidence(root: Path, listed: dict[str, str]) -> tuple[UUID, int, tuple[str, str, str], str]:
    """An evidence package's manifest: its clips are the clip files listed, its digest its
    own (format 3) or its clips' (format 2); returns the export id it commits to, the
    number of clips, and what a format-2 manifest leaves to the signature alone."""
    manifest = _strict_json(_read(root, "manifest.json"), "manifest.json")
    if manifest.get("format") not in (MANIFEST_FORMAT, MANIFEST_FORMAT_2):
        raise EvidenceInvalid(
            f"manifest.json has the format {manifest.get('format')!r}; this Custodes checks "
            f"{MANIFEST_FORMAT} and {MANIFEST_FORMAT_2}"
        )
    _check_clips(manifest["clips"], listed)
    format_2 = manifest["format"] == MANIFEST_FORMAT_2
    digest = manifest_digest(manifest)
    if digest != manifest["content_digest"]:
        raise EvidenceInvalid(
            "manifest.json's content digest does not match its clips"
            if format_2
            else "manifest.json does not match its content digest: it was changed after the "
            "export was recorded"
        )
    clips = f"{len(manifest['clips'])} clip(s) for {manifest['request']}"
    what = ("export", "these clips", clips)
    return export_id(digest), len(manifest["clips"]), what, FORMAT_2_CAVEAT if format_2 else ""


def _check_clips(clips: list[dict[str, Any]], listed: dict[str, str]) -> None:
    """The manifest's clips are the package's clip files, hash for hash: a clip added
    under clips/ and to SHA256SUMS (the site key signs both) is not in the export."""
    for clip in clips:
        if listed.get(clip["file"]) != clip["sha256"]:
            raise EvidenceInvalid(f"manifest.json's SHA-256 for {clip['file']} does not match")
    files = {clip["file"] for clip in clips}
    if extra := sorted(name for name in listed if name.startswith("clips/") and name not in files):
        raise EvidenceInvalid(f"{extra[0]} is in the package but not in manifest.json's clips")


def _package_files(root: Path) -> set[str]:
    """Every file in the package, by its path from the root. A package holds directories
    and regular files only: a symbolic link (to a directory, whose files a walk does not
    enter, or to a file elsewhere) or any other kind of file is refused (red team, session
    16: a linked directory added files that neither checker saw)."""
    found = set()
    for folder, dirs, files in os.walk(root, followlinks=False):
        for name in [*dirs, *files]:
            path = Path(folder) / name
            if path.is_symlink() or not (path.is_dir() or path.is_file()):
                raise EvidenceInvalid(
                    f"{path.relative_to(root)} is a symbolic link or a special file: a "
                    "package holds directories and regular files only"
                )
        found |= {str((Path(folder) / name).relative_to(root)) for name in files}
    return found


def _strict_json(data: bytes, name: str) -> Any:
    """JSON with no member named twice: a reader that keeps the first of two would see
    another recipient than the one the digest covers."""

    def members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        names = [k for k, _ in pairs]
        if len(set(names)) != len(names):
            raise EvidenceInvalid(f"{name} names a member twice")
        return dict(pairs)

    return json.loads(data, object_pairs_hook=members)


def _disclosure_record(record: dict[str, Any]) -> tuple[UUID, int, tuple[str, str, str]]:
    """A disclosure record (``ledger.disclosure_records``): the id its digest gives."""
    if record.get("format") != RECORD_FORMAT:
        raise EvidenceInvalid(
            f"record.json has the format {record.get('format')!r}; this Custodes checks "
            f"{RECORD_FORMAT}"
        )
    release = record["release"]
    if _inventory(record["request"]["ref"], release) != release["inventory_sha256"]:
        raise EvidenceInvalid("record.json's release does not match its inventory digest")
    said = (
        f"the disclosure record of release {release['number']} of {record['request']['ref']} "
        f"to {release['to']}"
    )
    return record_id(record_digest(record)), 0, ("disclosure record", "this record", said)


def _inventory(ref: str, release: dict[str, Any]) -> str:
    from ledger.disclosure_commands import inventory_digest

    return inventory_digest(
        ref, release["fields"], release["footage"], release["to"], release["method"],
        redacted=release.get("redacted"), period=release.get("period"),
    )  # fmt: skip


def parse_unverified_origin(note: str) -> str:
    try:
        return parse_unverified(note).origin
    except MerkleError as e:
        raise EvidenceInvalid(f"checkpoint.txt is malformed: {e}") from e


def _read(root: Path, name: str) -> bytes:
    try:
        return (root / name).read_bytes()
    except FileNotFoundError as e:
        raise EvidenceInvalid(f"{name} is missing from the package") from e


def _public_key(pem: bytes) -> Ed25519PublicKey:
    try:
        key = load_pem_public_key(pem)
    except ValueError as e:
        raise EvidenceInvalid(f"public-key.pem is not a PEM public key: {e}") from e
    if not isinstance(key, Ed25519PublicKey):
        raise EvidenceInvalid("public-key.pem is not an Ed25519 key")
    return key


def _parse_sums(text: str) -> dict[str, str]:
    entries: dict[str, str] = {}
    for n, line in enumerate(text.splitlines(), 1):
        digest, sep, name = line.partition("  ")
        if not sep or len(digest) != 64 or not name:
            raise EvidenceInvalid(f"{SUMS} line {n} is malformed")
        entries[name] = digest
    return entries
