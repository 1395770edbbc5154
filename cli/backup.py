"""custodes backup / restore: one verified, signed file of an embedded ledger, and back."""

from __future__ import annotations

import hashlib
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource

from cli.common import Context, emit_json, info, json_option
from cli.output import echo, force_option
from cli.proofs import (
    signing_passphrase,
    witness_policy_option,
    witness_policy_sha256_option,
)
from ledger import sitetime
from ledger.datadir import DATABASE_URL_ENV

STAGES = {
    "snapshot": "Taking a consistent snapshot of the ledger database...",
    "pack": "Writing the backup file...",
    "unpack": "Unpacking and checking every file's SHA-256 and the signature...",
    "keys": "Copying the key backup (checked against this ledger)...",
}


class _Progress:
    """Stage messages on stderr, and a bar while the chain is verified."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.stage = ""
        self.bar: Any = None
        self.done = 0

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        if stage != self.stage:
            self.close()
            self.stage = stage
            if stage in STAGES:
                info(STAGES[stage])
        if stage == "verify" and total:
            if self.bar is None:
                self.bar = click.progressbar(length=total, label="Verifying", file=sys.stderr)
                self.bar.__enter__()
            self.bar.update(done - self.done)
            self.done = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None
            self.done = 0


@click.command("backup")
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The backup file to write (whole or not at all; mode 0600; never over a file "
    "without --force).",
)
@force_option
@json_option
@click.pass_obj
def backup(ctx: Context, out: Path, force: bool, as_json: bool) -> None:
    """Write a consistent, verified and signed snapshot of the ledger to one file.

    Safe while other commands are recording. The snapshot's chain is verified first
    (exit 3 and no file if it fails), and a checkpoint of exactly its entries, signed
    with the ledger's key, goes into the file with a manifest of SHA-256s.

    NOT in the file: keys/ (keep your key backup apart from it) and footage (purged
    when its retention ends). A ledger on PostgreSQL is backed up with pg_dump instead:
    see the README, "Deploying on PostgreSQL for a library system".

    \b
    Example:
      custodes backup --out /mnt/backups/custodes-$(date +%F).backup
      custodes restore /mnt/backups/custodes-2026-11-02.backup --data-dir /srv/custodes-restored
    """
    from ledger.backup import create_backup

    datadir = ctx.datadir()
    site = ctx.ledger().site()
    progress = _Progress(not as_json)
    try:
        result = create_backup(
            datadir,
            out,
            library=site.library,
            origin=site.log_origin,
            signing_key=lambda: datadir.signing_key(signing_passphrase(ctx)),
            now=ctx.now(),
            progress=progress,
            force=force,
        )
    finally:
        progress.close()
    if as_json:
        emit_json(result)
        return
    info(
        f"Backup written to {result.path} ({_size(result.bytes)}, SHA-256 {result.sha256}).\n"
        f"  {result.entries} entries verified; a checkpoint of exactly these, signed "
        f"{sitetime.show(result.checkpoint_time, ctx.zone(), seconds=True)}, is inside "
        f"(root {result.checkpoint_root})."
    )
    info(
        f"Keys are NOT in the backup. They are in {result.keys_dir}/: keep a copy of that "
        "directory apart from this file (another medium, kept by the Director). A backup "
        "without the keys is useless to a thief, and to you if the keys are lost.\n"
        "After every `custodes patron forget`, replace your key backups: an older copy of "
        "keys/patrons/ would bring the forgotten patron's details back.\n"
        "Footage is not in the backup: it is purged when its retention period ends. Nor are "
        "the read models: they are rebuilt from the events after a restore."
    )


@click.command("restore")
@click.argument(
    "backup_file", metavar="FILE", type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--data-dir",
    "target",
    metavar="DIR",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="New or empty directory to restore into (or the global --data-dir).",
)
@click.option(
    "--against",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="A signed checkpoint kept elsewhere (the board's, a report's): the restored "
    "ledger must contain all of it; an older backup shows its missing entries (exit 3).",
)
@click.option(
    "--keys-from",
    metavar="DIR",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Your key backup (a copy of keys/): checked against this ledger and copied in "
    "with mode 0600; forgotten patrons' keys are left out.",
)
@witness_policy_option
@witness_policy_sha256_option("the backup's ledger", " (needs --keys-from: it is encrypted)")
@json_option
@click.pass_context
def restore(
    click_ctx: click.Context,
    backup_file: Path,
    target: Path | None,
    against: Path | None,
    keys_from: Path | None,
    witness_policy: Path | None,
    policy_sha256: str | None,
    as_json: bool,
) -> None:
    """Restore a backup into a new data directory, checking everything first.

    Checks the signature and every file's SHA-256, verifies the chain and that it is
    exactly the backup's signed checkpoint (exit 3 on any mismatch), and with --against
    that it extends a checkpoint you kept. Nothing is written to DIR unless all of this
    passes. Keys are not in backups: use --keys-from, or copy keys/ back yourself.

    The backup cannot vouch for its own witnesses: the witness policy that judges the
    kept checkpoint's cosignatures comes from you, as a file (--witness-policy) or as
    its SHA-256 (--witness-policy-sha256, the text then read from the backup's ledger).

    \b
    Example:
      custodes restore custodes-2026-11-02.backup --data-dir /srv/custodes-restored \\
          --against board-2026-11.checkpoint --keys-from /media/usb/custodes-keys \\
          --witness-policy witnesses.policy
    """
    from ledger.restore import restore_backup

    ctx: Context = click_ctx.find_object(Context)  # type: ignore[assignment]
    if target is None:
        parent = click_ctx.parent
        given = parent is not None and parent.get_parameter_source("data_dir") in (
            ParameterSource.COMMANDLINE,
            ParameterSource.ENVIRONMENT,
        )
        if not given:
            raise click.UsageError("name the directory to restore into: --data-dir DIR")
        target = ctx.data_dir
    policy = None
    from_command_line = (
        click_ctx.get_parameter_source("witness_policy") == ParameterSource.COMMANDLINE
    )
    if policy_sha256 is not None:
        if against is None:
            raise click.UsageError(
                "--witness-policy-sha256 checks the checkpoint named by --against"
            )
        if witness_policy is not None and from_command_line:
            raise click.UsageError("give --witness-policy or --witness-policy-sha256, not both")
        witness_policy = None  # the digest given here wins over CUSTODES_WITNESS_POLICY
    if witness_policy is not None:
        if against is None:
            if from_command_line:
                raise click.UsageError("--witness-policy checks the checkpoint named by --against")
        else:
            from ledger.witness.ledger_side import load_policy

            policy = load_policy(witness_policy)
    progress = _Progress(not as_json)
    try:
        result = restore_backup(
            backup_file,
            target,
            against=against.read_text() if against is not None else None,
            keys_from=keys_from,
            witness_policy=policy,
            witness_policy_sha256=policy_sha256,
            witness_policy_file_sha256=None
            if policy is None or witness_policy is None
            else hashlib.sha256(witness_policy.read_bytes()).hexdigest(),
            progress=progress,
        )
    finally:
        progress.close()
    if as_json:
        emit_json(result)
        return
    echo(
        f"Restored to {result.data_dir}: {result.entries} entries verify and are exactly the "
        f"backup's signed checkpoint (signed {_utc(result.checkpoint_time)})."
    )
    if result.against is not None:
        echo(
            f"They extend the checkpoint you kept ({result.against.size} entries, signed "
            f"{_utc(result.against.time)})."
        )
        if result.against.witnesses is not None:
            names = ", ".join(sorted(result.against.witnesses)) or "(none required)"
            echo(f"That checkpoint is cosigned as the witness policy requires by: {names}")
            where = (
                "your file"
                if result.against.policy_source == "file"
                else "the backup's ledger, accepted because its SHA-256 is the one you gave"
            )
            echo(f"Witness policy SHA-256 {result.against.policy_sha256}, from {where}.")
    else:
        info(
            "Only the backup's own signature was checked. To prove this is your library's "
            "ledger, check it against a checkpoint kept elsewhere: --against FILE."
        )
    echo(f"Public key SHA-256: {result.public_key_sha256} (compare with your compliance reports)")
    _keys_message(result)
    info(
        "Footage is not in backups (it is purged when its retention ends): segments the "
        "ledger records as stored have no files here.\n"
        "Read models are not in backups either: the first command that needs one rebuilds "
        "it from the events (or now, with progress: custodes --data-dir "
        f"{result.data_dir} projections rebuild)."
    )
    if os.environ.get(DATABASE_URL_ENV):
        info(
            f"Note: {DATABASE_URL_ENV} is set, so commands would use that database instead "
            f"of the restored {result.data_dir / 'ledger.sqlite'}: unset it to use this one."
        )


def _keys_message(result: Any) -> None:
    if result.keys_restored:
        echo(f"Keys copied into {result.keys_dir}/ and checked against this ledger.")
        for name in result.keys_skipped:
            info(f"  not restored: {name} (that patron was forgotten; R22 crypto-shredding)")
        return
    info(
        f"Keys are NOT in backups. Copy your key backup into {result.keys_dir}/ (directories "
        "0700, files 0600) or run restore again with --keys-from DIR: without keys/events.key "
        "no event can be read (custodes verify works without it). If that key backup is "
        "older than a `patron forget`, delete the forgotten patrons' keys/patrons/*.key "
        "again; --keys-from does that for you."
    )


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} bytes"
    size = float(n)
    for unit in ("KB", "MB", "GB"):
        size /= 1024
        if size < 1024 or unit == "GB":
            break
    return f"{size:.1f} {unit}"


def register(group: click.Group) -> None:
    group.add_command(backup)
    group.add_command(restore)


def _utc(moment: datetime) -> str:
    # A restored ledger's site zone is in its events, which may wait for their key.
    return sitetime.show(moment, sitetime.UTC_ZONE, seconds=True)
