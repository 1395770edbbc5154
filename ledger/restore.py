"""Restore a backup (ledger/backup.py) into a new data directory, checked first.

Order of work: refuse a target that is not new or empty (nothing written) -> unpack into
a hidden temporary directory beside it -> check the signature over SHA256SUMS and every
member's SHA-256 (BackupDamaged, exit 3) -> verify the restored chain, its stored Merkle
tree, and that it is exactly the backup's signed checkpoint -> optionally prove it
extends a newer checkpoint the Director kept (an older backup shows as missing entries,
exit 3) -> optionally copy a key backup in (ledger/key_restore.py), checked against this
ledger -> rename into place. Any failure leaves nothing at the target.

The backup checks itself with its own public key: that proves the file is intact as
written. ``against`` (a checkpoint kept elsewhere) or a key backup proves it is this
library's ledger, because a forger cannot sign with the library's key.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import json
import os
import shutil
import tarfile
import tempfile
import zlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from ledger import sitetime
from ledger.backup import (
    ARCHIVE_DIR,
    CHECKPOINT,
    DATABASE,
    FORMAT,
    MANIFEST,
    MEMBERS,
    PUBLIC_KEY,
    SIGNATURE,
    SUMS,
    BackupDamaged,
    Progress,
    close_chain,
    file_errors,
    fsync_dir,
    open_chain_at,
    quiet,
    sqlite_url,
    verify_with_progress,
)
from ledger.chain import Damage
from ledger.chain_reader import ChainReader
from ledger.checkpoint import (
    Checkpoint,
    parse_and_verify,
    parse_unverified,
    public_key_fingerprint,
)
from ledger.datadir import MARKER, SIGNING_PUBLIC, DataDir
from ledger.errors import DataDirError, InvalidInput
from ledger.integrity import LedgerTampered, TreeResult
from ledger.key_restore import copy_keys, key_source, write_file
from ledger.merkle import MerkleError, consistency_proof, verify_consistency
from ledger.witness.policy import Policy
from ledger.witness.policy_source import (
    Recorded,
    check_sha256,
    recorded_policies,
    with_sha256,
)

SMALL_MEMBER_LIMIT = 1 << 20
CHUNK = 1 << 20


@dataclass(frozen=True)
class KeptCheckpoint:
    size: int
    time: datetime
    root: str
    witnesses: dict[str, int] | None = None  # witness policy name -> cosignature time
    # the SHA-256 of the witness policy that judged them, and where its text came from:
    # "file" (the operator's --witness-policy) or "ledger" (the backup's ledger, accepted
    # only because its SHA-256 is the one the operator gave)
    policy_sha256: str | None = None
    policy_source: str | None = None


@dataclass(frozen=True)
class RestoreResult:
    data_dir: Path
    entries: int
    head: str
    checkpoint_size: int
    checkpoint_root: str
    checkpoint_time: datetime
    against: KeptCheckpoint | None
    library: str
    origin: str
    backup_created_at: str
    public_key_sha256: str
    keys_restored: bool
    keys_skipped: tuple[str, ...]
    keys_dir: Path


def check_target(target: Path) -> Path:
    """The target as an absolute path; DataDirError unless it is new or empty."""
    target = target.expanduser().absolute()
    if target.is_symlink():
        raise DataDirError(
            f"{target} is a symbolic link; restore into a real new or empty directory "
            "(nothing was written)."
        )
    if target.exists():
        if not target.is_dir():
            raise DataDirError(f"{target} exists and is not a directory; nothing was restored.")
        if any(target.iterdir()):
            raise DataDirError(
                f"{target} is not empty; restore into a new or empty directory "
                "(nothing was written)."
            )
    return target


def restore_backup(
    backup: Path,
    target: Path,
    *,
    against: str | None = None,
    keys_from: Path | None = None,
    witness_policy: Policy | None = None,
    witness_policy_sha256: str | None = None,
    witness_policy_file_sha256: str | None = None,
    progress: Progress = quiet,
) -> RestoreResult:
    """``witness_policy``: the checkpoint ``against`` must carry the cosignatures it
    requires (and a policy that lists logs must list this ledger's key).

    ``witness_policy_sha256``: instead of the policy's text, its SHA-256 as the operator
    holds it from outside the backup (board minutes, ``custodes witness policy show``);
    the text is the one the backup's ledger recorded (``witness policy set``) with that
    digest, read with the events key (``keys_from``). The backup is not trusted to say
    which witnesses count: only a policy whose digest the operator brought does."""
    target = check_target(target)
    if (witness_policy is not None or witness_policy_sha256 is not None) and against is None:
        raise InvalidInput("a witness policy checks the checkpoint given with --against")
    if witness_policy is not None and witness_policy_sha256 is not None:
        raise InvalidInput("give the witness policy as a file or as its SHA-256, not both")
    if witness_policy_sha256 is not None:
        witness_policy_sha256 = check_sha256(witness_policy_sha256)
        if keys_from is None:
            raise InvalidInput(
                "the ledger keeps its witness policy encrypted: --witness-policy-sha256 needs "
                "the events key (--keys-from DIR), or give the policy file (--witness-policy)"
            )
    keys = key_source(keys_from) if keys_from is not None else None
    if against is not None:
        try:
            parse_unverified(against)
        except MerkleError as e:
            raise InvalidInput(f"the checkpoint given with --against is malformed: {e}") from e
    with file_errors(f"restore into {target}; nothing was restored"):
        result = _restore(
            backup, target, against, keys, witness_policy, witness_policy_sha256, progress
        )
    if result.against is not None and witness_policy is not None:
        # the operator's file judged the cosignatures: say which one
        kept = dataclasses.replace(result.against, policy_sha256=witness_policy_file_sha256)
        result = dataclasses.replace(result, against=kept)
    return result


def _restore(
    backup: Path,
    target: Path,
    against: str | None,
    keys: Path | None,
    witness_policy: Policy | None,
    witness_policy_sha256: str | None,
    progress: Progress,
) -> RestoreResult:
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".restore", dir=target.parent))
    try:
        progress("unpack", 0, 0)
        small, db_digest = _unpack(backup, work)
        public_key, manifest, cp = _check_members(small, db_digest)
        config = _place(work, small)
        progress("verify", 0, 0)
        outcome, kept = _verify(work, public_key, cp, against, witness_policy, progress)
        skipped: tuple[str, ...] = ()
        if keys is not None:
            progress("keys", 0, 0)
            skipped = copy_keys(keys, work, config, public_key, manifest)
        if witness_policy_sha256 is not None:
            assert against is not None and kept is not None
            kept = _cosigned_as_kept(work, against, kept, public_key, cp, witness_policy_sha256)
        os.chmod(work, 0o700)
        fsync_dir(work)
        os.replace(work, target)  # onto an empty directory too (rename(2))
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    fsync_dir(target.parent)
    return RestoreResult(
        data_dir=target,
        entries=outcome.tree_size,
        head=outcome.verify.head_hash.hex(),
        checkpoint_size=cp.size,
        checkpoint_root=cp.root.hex(),
        checkpoint_time=cp.time,
        against=kept,
        library=str(manifest.get("library", "")),
        origin=cp.origin,
        backup_created_at=str(manifest.get("created_at", "")),
        public_key_sha256=public_key_fingerprint(public_key),
        keys_restored=keys is not None,
        keys_skipped=skipped,
        keys_dir=target / "keys",
    )


def _unpack(backup: Path, work: Path) -> tuple[dict[str, bytes], str]:
    """Stream the database member to ``work``; the small members' bytes, its SHA-256."""
    small: dict[str, bytes] = {}
    db_digest = ""
    try:
        with tarfile.open(backup, "r:gz") as tar:
            for member in tar:
                prefix, _, name = member.name.partition("/")
                if prefix != ARCHIVE_DIR or name not in MEMBERS or not member.isreg():
                    raise BackupDamaged(
                        f"{backup} holds {member.name!r}, which a Custodes backup never "
                        "does; nothing was restored"
                    )
                if name in small or (name == DATABASE and (work / DATABASE).exists()):
                    raise BackupDamaged(f"{backup} holds {name} twice; nothing was restored")
                source = tar.extractfile(member)
                assert source is not None  # a regular file
                if name == DATABASE:
                    db_digest = _write_stream(source, work / DATABASE)
                    small[name] = b""  # marks it seen; its bytes are on disk
                elif member.size > SMALL_MEMBER_LIMIT:
                    raise BackupDamaged(f"{name} in {backup} is too large to be what it claims")
                else:
                    small[name] = source.read()
            # Read to the end: only then does gzip check its CRC, which also covers the
            # padding after the last member (a changed byte there went unnoticed).
            assert tar.fileobj is not None
            while tar.fileobj.read(CHUNK):
                pass
    except PermissionError as e:
        raise InvalidInput(f"cannot read {backup}: {e.strerror}") from e
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as e:
        raise BackupDamaged(
            f"{backup} is damaged or is not a Custodes backup ({e}); nothing was restored"
        ) from e
    if missing := [n for n in MEMBERS if n not in small]:
        raise BackupDamaged(f"{missing[0]} is missing from {backup}; nothing was restored")
    return small, db_digest


def _write_stream(source: IO[bytes], path: Path) -> str:
    """Copy ``source`` to a new 0600 file; its SHA-256 (hex), hashed on the way."""
    digest = hashlib.sha256()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            f.write(chunk)
        f.flush()
        os.fsync(f.fileno())
    return digest.hexdigest()


def _check_members(
    small: dict[str, bytes], db_digest: str
) -> tuple[Ed25519PublicKey, dict[str, Any], Checkpoint]:
    """Signature over SHA256SUMS, every member against it, the manifest and checkpoint."""
    try:
        key = load_pem_public_key(small[PUBLIC_KEY])
    except ValueError as e:
        raise BackupDamaged(f"{PUBLIC_KEY} is not a PEM public key ({e})") from e
    if not isinstance(key, Ed25519PublicKey):
        raise BackupDamaged(f"{PUBLIC_KEY} is not an Ed25519 key")
    try:
        key.verify(small[SIGNATURE], small[SUMS])
    except InvalidSignature as e:
        raise BackupDamaged(
            f"{SIGNATURE} does not verify: {SUMS} was changed or re-signed; nothing was restored"
        ) from e
    listed = _parse_sums(small[SUMS])
    expected = set(MEMBERS) - {SUMS, SIGNATURE}
    if set(listed) != expected:
        raise BackupDamaged(f"{SUMS} does not list exactly the backup's files")
    digests = {n: hashlib.sha256(small[n]).hexdigest() for n in expected - {DATABASE}}
    digests[DATABASE] = db_digest
    for name in sorted(expected):
        if digests[name] != listed[name]:
            raise BackupDamaged(
                f"{name} does not match its SHA-256 in {SUMS}: it was changed; nothing was restored"
            )
    try:
        manifest = json.loads(small[MANIFEST])
    except ValueError as e:
        raise BackupDamaged(f"{MANIFEST} is not JSON ({e})") from e
    if manifest.get("format") != FORMAT:
        raise InvalidInput(
            f"this backup has format {manifest.get('format')!r}; this Custodes reads {FORMAT}"
        )
    for name, entry in manifest.get("members", {}).items():
        if listed.get(name) != entry.get("sha256"):
            raise BackupDamaged(f"{MANIFEST} and {SUMS} disagree about {name}")
    try:
        cp = parse_and_verify(small[CHECKPOINT].decode(), key, str(manifest.get("origin")))
    except (MerkleError, UnicodeDecodeError) as e:
        raise BackupDamaged(f"{CHECKPOINT} does not verify ({e}); nothing was restored") from e
    if cp.size != manifest.get("entries"):
        raise BackupDamaged(f"{MANIFEST} and {CHECKPOINT} disagree about the number of entries")
    return key, manifest, cp


def _parse_sums(data: bytes) -> dict[str, str]:
    entries: dict[str, str] = {}
    for n, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), 1):
        digest, sep, name = line.partition("  ")
        if not sep or len(digest) != 64 or not name:
            raise BackupDamaged(f"{SUMS} line {n} is malformed")
        entries[name] = digest
    return entries


def _place(work: Path, small: dict[str, bytes]) -> dict[str, Any]:
    """custodes.json and keys/signing.pub.pem where a data directory keeps them."""
    try:
        config = json.loads(small[MARKER])
    except ValueError as e:
        raise BackupDamaged(f"{MARKER} in the backup is not JSON ({e})") from e
    write_file(work / MARKER, small[MARKER], 0o600)
    (work / "keys").mkdir(mode=0o700)
    write_file(work / "keys" / SIGNING_PUBLIC, small[PUBLIC_KEY], 0o644)
    DataDir.open(work)  # the marker's format is one this Custodes reads
    return dict(config)


def _verify(
    work: Path,
    key: Ed25519PublicKey,
    cp: Checkpoint,
    against: str | None,
    witness_policy: Policy | None,
    progress: Progress,
) -> tuple[TreeResult, KeptCheckpoint | None]:
    reader = open_chain_at(sqlite_url(work / DATABASE))
    try:
        outcome = verify_with_progress(reader, progress)
        if (d := outcome.verify.damage) is not None:
            raise LedgerTampered(
                d,
                f"the backup's ledger fails verification at position {d.position}: {d.kind} "
                f"({d.detail}); nothing was restored",
            )
        n = outcome.tree_size
        if n != cp.size:
            raise BackupDamaged(
                f"the backup's ledger has {n} entries but its signed checkpoint covers "
                f"{cp.size}; nothing was restored"
            )
        _extends(reader, outcome, cp, "the backup's own checkpoint", BackupDamaged)
        kept = None
        if against is not None:
            kept_cp = _kept_checkpoint(against, key, cp.origin)
            if kept_cp.size > n:
                missing = kept_cp.size - n
                where = (
                    f"position {n + 1}" if missing == 1 else f"positions {n + 1}..{kept_cp.size}"
                )
                raise LedgerTampered(
                    Damage(n + 1, "truncated", f"checkpoint covers {kept_cp.size}, backup {n}"),
                    f"this backup is OLDER than the checkpoint you kept: the backup has {n} "
                    f"entries, the checkpoint (signed "
                    f"{sitetime.show(kept_cp.time, sitetime.UTC_ZONE, seconds=True)}) covers "
                    f"{kept_cp.size}; {missing} entr{'y' if missing == 1 else 'ies'} recorded "
                    f"after this backup would be missing ({where}). Nothing was restored. "
                    "Restore a newer backup, or restore this one without --against and "
                    "record what was lost.",
                )
            _extends(reader, outcome, kept_cp, "the checkpoint you kept", None)
            witnesses: dict[str, int] | None = None
            if witness_policy is not None:
                from ledger.witness.ledger_side import check_witnesses

                witnesses = check_witnesses(
                    witness_policy, against, cp.origin, key, "the checkpoint you kept"
                ).cosigned
            kept = KeptCheckpoint(
                kept_cp.size,
                kept_cp.time,
                kept_cp.root.hex(),
                witnesses,
                None,  # the caller knows the file's digest (restore_backup)
                None if witness_policy is None else "file",
            )
    finally:
        close_chain(reader)
    return outcome, kept


def recorded_witness_policies(work: Path) -> list[Recorded]:
    """Every witness policy the ledger in ``work`` recorded, oldest first (read with its
    events key: the text is encrypted like every act)."""
    from ledger.app import open_ledger

    ledger = open_ledger(DataDir.open(work), create_tables=False)
    try:
        return recorded_policies(ledger)
    finally:
        ledger.close()


def _cosigned_as_kept(
    work: Path,
    against: str,
    kept: KeptCheckpoint,
    key: Ed25519PublicKey,
    cp: Checkpoint,
    sha256: str,
) -> KeptCheckpoint:
    """The kept checkpoint's cosignatures judged by the policy whose SHA-256 the operator
    gave, its text found among those the backup's ledger recorded."""
    from ledger.witness.ledger_side import check_witnesses

    chosen = with_sha256(
        recorded_witness_policies(work),
        sha256,
        "the backup's ledger",
        "give the policy file with --witness-policy. Nothing was restored.",
    )
    witnesses = check_witnesses(chosen.policy, against, cp.origin, key, "the checkpoint you kept")
    return dataclasses.replace(
        kept, witnesses=witnesses.cosigned, policy_sha256=sha256, policy_source="ledger"
    )


def _kept_checkpoint(note: str, key: Ed25519PublicKey, origin: str) -> Checkpoint:
    claimed = parse_unverified(note).origin
    if claimed != origin:
        raise InvalidInput(
            f"the checkpoint given with --against is of another ledger ({claimed}); "
            f"this backup is of {origin}. Nothing was restored."
        )
    try:
        return parse_and_verify(note, key, origin)
    except MerkleError as e:
        raise BackupDamaged(
            f"the checkpoint you kept does not verify with the public key in this backup "
            f"({e}): the backup's key was replaced, or the checkpoint was altered. "
            "Nothing was restored."
        ) from e


def _extends(
    reader: ChainReader,
    outcome: TreeResult,
    cp: Checkpoint,
    what: str,
    error: type[BackupDamaged] | None,
) -> None:
    """RFC 9162 consistency: the restored tree extends (or equals) ``cp``."""
    assert outcome.tree_root is not None
    store = reader.node_store()
    try:
        proof = consistency_proof(cp.size, outcome.tree_size, store)
        verify_consistency(cp.size, outcome.tree_size, cp.root, outcome.tree_root, proof)
    except MerkleError as e:
        message = (
            f"the backup's ledger does not extend {what} of {cp.size} entries ({e}): "
            f"entries up to {cp.size} were rewritten; nothing was restored"
        )
        if error is not None:
            raise error(message) from e
        raise LedgerTampered(Damage(1, "edited", str(e)), message) from e
    finally:
        store.close()
