"""custodes retention ...: the daily sweep and the site's retention settings (R13-R16)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from cli.auth import PASSPHRASE_FILE_ENV, authenticate, service_or_actor_option
from cli.common import Context, emit_json, info, json_option, pass_ctx
from cli.footage import capture_errors
from cli.output import echo
from ledger.retention_commands import SWEEPERS
from ledger.rules import SERVICE_SCOPE
from ledger.text import counted

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection


@click.group("retention")
def retention_group() -> None:
    """Retention: purge what is due, and the Director's retention settings.

    \b
    Example:
      custodes retention sweep --dry-run --service
      15 3 * * * custodes retention sweep --yes --service   (crontab)
    """


@retention_group.command("sweep")
@click.option("--dry-run", is_flag=True, help="Show what would be purged; change nothing.")
@click.option("--yes", is_flag=True, help="Confirm: destroy footage that is due.")
@click.option(
    "--limit",
    type=click.IntRange(1),
    default=None,
    help="Purge at most this many segments, oldest deadline first (the rest wait for the "
    "next run).",
)
@service_or_actor_option
@json_option
@pass_ctx
def retention_sweep(
    ctx: Context, dry_run: bool, yes: bool, limit: int | None, actor: str, as_json: bool
) -> None:
    """Purge every segment past its deadline with no active hold or flag (R13-R15).

    Per segment: destroy its data key and encrypted file, confirm both are gone, then record
    FootagePurged (with the retention-schedule authority when configured). A run that was
    interrupted is completed by the next one. First every stored segment is audited: one
    whose file or key is gone with no purge in progress is recorded FootageFoundMissing,
    never as a purge. Exits 1 if any segment failed or was found missing. Runs as the
    service identity (--service, for cron) or as the Director (--as).

    \b
    Example:
      custodes retention sweep --dry-run --service
      custodes retention sweep --yes --service
    """
    from capture.export import discard_abandoned_exports
    from capture.sweep import sweep
    from capture.vault import open_vault
    from capture.viewing import sweep_copies
    from ledger.clock import CLOCK_TOLERANCE
    from projections.access import live_copies
    from projections.registry import read_views
    from projections.retention import (
        due_segment_ids,
        stored_segments,
        unpurged_segments_with,
    )

    if not dry_run and not yes:
        raise click.UsageError(
            "the sweep destroys footage: pass --yes to purge, or --dry-run to see what is due"
        )
    ledger = ctx.ledger()
    # R26: a clock set back would destroy files whose purge the ledger then refuses to
    # record, a clock set ahead footage not yet due; checked before anything is read or
    # removed (viewing copies and abandoned exports included)
    now = ledger.check_clock_to_destroy()
    vault = open_vault(ledger)
    shredding = vault.interrupted_destroys()  # usually none: an earlier run was killed

    def query(conn: Connection) -> tuple[list[Any], ...]:
        return (
            due_segment_ids(conn, now - CLOCK_TOLERANCE),  # as the ledger decides (check_purge)
            unpurged_segments_with(conn, shredding),
            stored_segments(conn),
            live_copies(conn),
        )

    # Checked against the seals first (R29): a deadline forged in the read model is
    # refused (exit 3), never trusted.
    due, interrupted, stored, copies = read_views(ledger, query, checked=True)
    ledger.authorize(actor, "retention sweep", SWEEPERS, SERVICE_SCOPE)  # before any file
    with capture_errors():  # R16b: viewing copies whose session ended, and strays
        swept = sweep_copies(ledger, copies, now=now, actor=actor, dry_run=dry_run)
    verb = "would destroy" if dry_run else "destroyed"
    for path in swept.expired:
        info(f"copy: {verb} viewing copy {path} (its session ended)")
    for path in swept.strays:
        info(f"stray: {'would remove' if dry_run else 'removed'} {path}, a file in viewing/ "
             "that is no tracked viewing copy (FOOTAGE-VIEWING-COPY)")  # fmt: skip
    for path in swept.left:
        info(f"failed: could not remove viewing copy {path}")
    for path in swept.not_found:
        info(f"copy: viewing copy {path} (its session ended) was not there to destroy: moved "
             "or deleted outside Custodes; recorded as not found (FOOTAGE-VIEWING-COPY)")  # fmt: skip
    with capture_errors():  # R16b: clips decrypted for exports that were never recorded
        exports = discard_abandoned_exports(ledger, dry_run=dry_run)
    for path in exports.discarded:
        info(f"export: {'would remove' if dry_run else 'removed'} {path}, the clips of an "
             "export that was never recorded (a crash while it was built)")  # fmt: skip
    for ref in exports.waiting:
        info(f"export: the export for {ref} is recorded but not delivered; run `custodes "
             "footage export --finish-pending` (it needs the signing key)")  # fmt: skip
    if limit is not None:
        due = due[:limit]
    with (
        capture_errors(),
        click.progressbar(length=len(due), label="Sweeping", file=sys.stderr) as bar,
    ):
        result = sweep(
            ledger,
            vault,
            due,
            actor=actor,
            dry_run=dry_run,
            progress=lambda _s: bar.update(1),
            interrupted=interrupted,
            stored=stored,
        )
    if as_json:
        emit_json(result)
    for o in result.outcomes:
        info(f"{o.status}: {o.message}")
    info(
        f"Sweep {result.run_id}: {len(due)} due; {result.count('purged')} purged, "
        f"{result.count('completed')} completed after interruption, "
        f"{result.count('missing')} found missing, "
        f"{result.count('skipped')} skipped, {result.count('failed')} failed"
        + (
            f", {result.count('would purge')} would be purged and "
            f"{result.count('would record missing')} recorded missing (dry run)"
            if dry_run
            else ""
        )
        + "."
    )
    if result.stopped is not None:
        raise click.ClickException(result.stopped)
    if result.count("failed") or swept.left:
        raise click.ClickException(
            f"{counted(result.count('failed'), 'segment')} could not be purged and "
            f"{counted(len(swept.left), 'viewing copy', 'viewing copies')} not removed; see above"
        )
    if result.count("missing"):
        raise click.ClickException(
            f"{counted(result.count('missing'), 'segment')} found missing from the vault with no "
            "purge: destroyed outside Custodes (FOOTAGE-FOUND-MISSING), recorded; see above"
        )


@retention_group.command("settings")
@click.option(
    "--retention-days",
    type=click.IntRange(1, 3650),
    default=None,
    hidden=True,
    help="Replaced by custodes policy adopt.",
)
@click.option("--schedule-id", default=None, help="Approved records retention schedule id.")
@click.option("--schedule-item", default=None, help="Item number on that schedule.")
@click.option("--certificate-ref", default=None, help="Disposal certificate reference.")
@click.option("--reason", default=None, help="Why the settings change (recorded).")
@click.option("--as", "actor", envvar="CUSTODES_ACTOR", default=None, metavar="NAME")
@click.option(
    "--passphrase-file",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar=PASSPHRASE_FILE_ENV,
    default=None,
    metavar="FILE",
    help=f"For scripts: read your passphrase from FILE (mode 0600), or set {PASSPHRASE_FILE_ENV}.",
)
@json_option
@pass_ctx
def retention_settings(
    ctx: Context,
    retention_days: int | None,
    schedule_id: str | None,
    schedule_item: str | None,
    certificate_ref: str | None,
    reason: str | None,
    actor: str | None,
    passphrase_file: Path | None,
    as_json: bool,
) -> None:
    """Show the retention settings; with options, change the retention schedule authority
    (Director only, recorded).

    The number of days footage is kept is part of the adopted policy version: change it
    with custodes policy adopt (recorded segments keep their deadline). There is no live
    window: every recorded segment is archived footage (R16).

    \b
    Example:
      custodes retention settings
      custodes retention settings --schedule-id "25-012" --schedule-item "7" --certificate-ref "LRA-DC-2026" --reason "board resolution 2026-14" --as "Dana Director"
    """
    ledger = ctx.ledger()
    if retention_days is not None:
        # A shorter period is refused and the attempt recorded (R13); any other change is
        # a new policy version (R28).
        ledger.change_retention(
            retention_days=retention_days,
            reason=reason or "",
            actor=authenticate(ctx, actor, passphrase_file),
        )
    authority_given = any(v is not None for v in (schedule_id, schedule_item, certificate_ref))
    changing = authority_given
    if changing:
        actor = authenticate(ctx, actor, passphrase_file)
        authority = None
        if authority_given:
            current = ledger.site().schedule_authority or {}
            authority = {
                "schedule_id": schedule_id
                if schedule_id is not None
                else current.get("schedule_id", ""),
                "item": schedule_item if schedule_item is not None else current.get("item", ""),
                "disposal_certificate": certificate_ref
                if certificate_ref is not None
                else current.get("disposal_certificate", ""),
            }
        ledger.change_retention(
            schedule_authority=authority,
            reason=reason or "",
            actor=actor,
        )
        info("Retention settings changed.")
    site = ledger.site()
    policy = ledger.policy_in_force()
    days = policy.params.retention_days if policy else site.retention_days
    settings = {
        "retention_days": days,
        "policy_version": policy.version if policy else None,
        "schedule_authority": site.schedule_authority,
    }
    if as_json:
        emit_json(settings)
        return
    auth = site.schedule_authority or {}
    echo(
        f"retention days:     {days}"
        + (f" (policy version {policy.version}; custodes policy show)" if policy else "")
    )
    echo(
        "schedule authority: "
        + (", ".join(f"{k} {v}" for k, v in auth.items()) if auth else "(not configured)")
    )


def register(group: click.Group) -> None:
    group.add_command(retention_group)
