"""custodes report compliance / report statistics / history: the Director's report, the
anonymized statistics and the legal-review history of one subject. All read projections;
``--as-of`` replays the read models up to a past time instead."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click

from cli.common import Context, actor_option, emit_json, info, json_option, parse_when, pass_ctx
from cli.output import echo, force_option
from cli.report import report_group

FORMATS = ("html", "pdf", "json", "csv")
SUBJECT_HELP = (
    "a segment id (12 hex digits, e.g. 34c20c33a713), a request reference (R-2026-0001), "
    "a hold id (H-1A2B3C4D), a camera id (lobby-1) or a patron pseudonym (p- and 16 hex "
    "digits, e.g. p-3f9a0c1d2e4b5a69)"
)


# ---- shared: --as-of and report periods -------------------------------------------------


def as_of_option(f: Any) -> Any:
    return click.option(
        "--as-of",
        "as_of",
        default=None,
        metavar="TIMESTAMP",
        help="Show the state exactly as it was then (ISO-8601; naive = UTC), replayed from "
        "the ledger.",
    )(f)


def parse_as_of(ctx: Context, value: str | None) -> datetime | None:
    """A past time to replay to; the future is refused (exit 2): nothing is known of it."""
    if value is None:
        return None
    moment = parse_when(value, param="--as-of")
    if moment > ctx.now():
        raise click.BadParameter(
            f"{value} is in the future; the state can only be replayed to a past time",
            param_hint="--as-of",
        )
    return moment


def _day(value: str, param: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a date (YYYY-MM-DD, e.g. 2026-11-01)", param_hint=param
        ) from None


def parse_period(
    ctx: Context, since: str, until: str, zone: ZoneInfo, as_of: datetime | None
) -> tuple[date, date]:
    """Whole site-local days, inclusive; after --to or in the future is a usage error."""
    first, last = _day(since, "--from"), _day(until, "--to")
    if first > last:
        raise click.UsageError(f"--from {first} is after --to {last}; swap them")
    today = ctx.now().astimezone(zone).date()
    for value, param in ((first, "--from"), (last, "--to")):
        if value > today:
            raise click.BadParameter(
                f"{value} is in the future (today is {today}, {zone.key}); a report covers "
                "days that have begun",
                param_hint=param,
            )
    if as_of is not None and first > as_of.astimezone(zone).date():
        raise click.UsageError(
            f"--from {first} is after --as-of {as_of.isoformat()}: nothing in the period was "
            "recorded by then"
        )
    return first, last


# ---- report compliance ------------------------------------------------------------------


def _check_output(out: Path, fmt: str, force: bool) -> None:
    """Fail before any work when the output cannot be written (the writers check again)."""
    from ledger.outfiles import check_destination, check_new_directory

    if fmt != "csv":
        check_destination(out, force=force)
    elif not force or out.is_symlink() or not out.is_dir():
        check_new_directory(out)


def _write(report: Any, fmt: str, out: Path, force: bool) -> None:
    from projections.render_data import to_csv_dir, write_json
    from projections.render_html import write_html
    from projections.render_pdf import write_pdf

    if fmt == "csv":
        to_csv_dir(report, out, force=force)
        return
    {"html": write_html, "pdf": write_pdf, "json": write_json}[fmt](report, out, force=force)


@report_group.command("compliance")
@click.option("--from", "since", required=True, metavar="DATE", help="First day (site time).")
@click.option("--to", "until", required=True, metavar="DATE", help="Last day, inclusive.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), required=True, help="Output format.")
@click.option(
    "--out",
    required=True,
    type=click.Path(path_type=Path),
    help="File to write, 0600 (a new or empty directory for csv: one file per table).",
)
@force_option
@as_of_option
@actor_option
@pass_ctx
def report_compliance(
    ctx: Context,
    since: str,
    until: str,
    fmt: str,
    out: Path,
    force: bool,
    as_of: str | None,
    actor: str,
) -> None:
    """The Director's compliance report for a period: what needs attention, ledger
    integrity with a fresh signed checkpoint, cameras, retention, footage access,
    disclosures and refusals.

    The ledger is verified first: a tampered ledger exits 3 and no report is written.
    The report is written atomically (no partial file on failure), mode 0600, and never
    over an existing file without --force. Director, Business Manager or counsel.

    \b
    Example:
      custodes report compliance --from 2026-11-01 --to 2026-11-30 --format pdf --out board-2026-11.pdf --as "Dana Director"
      custodes report compliance --from 2026-11-01 --to 2026-11-30 --format csv --out report-csv/ --as "Dana Director"
      custodes report compliance --from 2026-10-01 --to 2026-10-31 --as-of 2026-11-01T06:00:00Z --format json --out october-as-filed.json --as "Cora Counsel"
    """

    from cli.proofs import signing_passphrase
    from projections.compliance import compile_compliance_report, record_issued
    from projections.compliance_model import ReportError

    now = ctx.now()
    when = parse_as_of(ctx, as_of)
    ledger = ctx.ledger()
    first, last = parse_period(ctx, since, until, ZoneInfo(ledger.site().timezone), when)

    def vault_audit() -> list[tuple[str, str]]:  # the vault now (not for --as-of)
        from cli.footage import audit_footage

        return [(f.segment_id, f.describe()) for f in audit_footage(ledger)]

    try:
        _check_output(out, fmt, force)
        report, note = compile_compliance_report(
            ledger,
            period_from=first,
            period_to=last,
            actor=actor,
            now=now,
            signing_key=ctx.datadir().signing_key(signing_passphrase(ctx)),
            as_of=when,
            vault_audit=vault_audit,
        )
        _write(report, fmt, out, force)
    except ReportError as e:
        raise click.ClickException(str(e)) from e
    digest = record_issued(ledger, report, fmt, out, actor=actor)
    state = f" as of {when.isoformat()}" if when else ""
    info(
        f"Compliance report {first} to {last}{state} ({fmt}) written to {out}; "
        f"{len(report.attention)} item(s) need attention. Recorded in the ledger as "
        f"ComplianceReportIssued (sha256 {digest})."
    )
    info(
        f"Signed checkpoint of {report.integrity.tree_size} verified entries "
        "(also printed in the report):"
    )
    echo(note, nl=False)


# ---- report statistics ------------------------------------------------------------------


def _stats_json(stats: Any, first: date, last: date) -> dict[str, Any]:
    def z(moment: datetime | None) -> str | None:
        return None if moment is None else moment.astimezone(UTC).isoformat().replace("+00:00", "Z")

    return {
        "schema_version": "custodes-statistics/1",
        "period": {"from": first.isoformat(), "to": last.isoformat()},
        "as_of": z(stats.as_of),
        "threshold": stats.threshold,
        "rule": {"id": stats.rule_id, "source": stats.rule_source},
        "tables": {
            t.name: {
                "title": t.title,
                "cells": {c.label: {"count": c.count, "suppressed": c.suppressed} for c in t.cells},
                "total": {"count": t.total, "suppressed": t.total_suppressed},
            }
            for t in stats.tables
        },
        "footage_hours": {
            "captured": stats.footage_hours_captured,
            "purged": stats.footage_hours_purged,
        },
    }


@report_group.command("statistics")
@click.option("--from", "since", required=True, metavar="DATE", help="First day (site time).")
@click.option("--to", "until", required=True, metavar="DATE", help="Last day, inclusive.")
@click.option(
    "--threshold",
    type=click.IntRange(1),
    default=5,
    show_default=True,
    help="Counts from 1 to this minus one are suppressed.",
)
@as_of_option
@json_option
@actor_option
@pass_ctx
def report_statistics(
    ctx: Context,
    since: str,
    until: str,
    threshold: int,
    as_of: str | None,
    as_json: bool,
    actor: str,
) -> None:
    """Anonymized statistics safe to publish (75 ILCS 70/1(b), LRCA-STATISTICS): requests
    by requester kind, legal basis and decision; viewings by purpose; footage hours
    captured and purged. Small cells are suppressed: shown as "<5", null in JSON with
    "suppressed": true; a total that would give one back is suppressed too.

    \b
    Example:
      custodes report statistics --from 2026-01-01 --to 2026-12-31
      custodes report statistics --from 2026-01-01 --to 2026-12-31 --threshold 10 --json
    """
    from projections.compliance import period_bounds
    from projections.registry import read_views
    from projections.statistics import statistics

    when = parse_as_of(ctx, as_of)
    zone = ZoneInfo(ctx.ledger().site().timezone)
    first, last = parse_period(ctx, since, until, zone, when)
    start, end = period_bounds(first, last, zone)
    stats = read_views(
        ctx.ledger(),
        lambda conn: statistics(conn, start, end, threshold=threshold, as_of=when),
        as_of=when,
    )
    if as_json:
        emit_json(_stats_json(stats, first, last))
        return
    small = f"<{threshold}"
    state = f", as of {when.isoformat()}" if when else ""
    echo(f"Statistics {first} to {last}{state}")
    for t in stats.tables:
        echo("")
        echo(t.title)
        width = max(len(c.label) for c in (*t.cells,)) if t.cells else 5
        width = max(width, len("total"))
        for c in t.cells:
            echo(f"  {c.label.replace('_', ' '):<{width}}  {small if c.suppressed else c.count:>5}")
        total = "suppressed" if t.total_suppressed else t.total
        echo(f"  {'total':<{width}}  {total:>5}")
    echo("")
    echo(f"Footage hours captured  {stats.footage_hours_captured:g}")
    echo(f"Footage hours purged    {stats.footage_hours_purged:g}")
    echo("")
    echo(
        f"Counts from 1 to {threshold - 1} are shown as {small} so that no one can be "
        f"identified ({stats.rule_id}, {stats.rule_source})."
        if threshold > 1
        else f"No suppression (threshold 1); {stats.rule_id} ({stats.rule_source}) asks for it."
    )


# ---- history ----------------------------------------------------------------------------


@click.command("history")
@click.argument("subject")
@as_of_option
@json_option
@actor_option
@pass_ctx
def history(ctx: Context, subject: str, as_of: str | None, as_json: bool, actor: str) -> None:
    """Every event about one subject, in ledger order, for legal review: chain position,
    event number, kind, actor and role, recorded time, claimed time and a summary.

    SUBJECT is a segment id, a request reference (R-2026-0001), a hold id (H-...), a
    camera id or a patron pseudonym (p-...). Events of other records that name the
    subject are included (a hold naming a segment, a release listing footage, ...).

    \b
    Example:
      custodes history R-2026-0001
      custodes history 34c20c33a713 --json
      custodes history p-3f9a0c1d2e4b5a69
      custodes history R-2026-0001 --as-of 2026-10-31T23:59:59Z

    A history shows the details of what was recorded: the Director and counsel may read
    one, and each reading is recorded (R27). With --as-of, only the events recorded by then: the history exactly as it could be
    read at that moment (the log is append-only, so nothing needs replaying).
    """
    from projections.history import classify, notification_ids, subject_history
    from projections.registry import open_views

    moment = parse_as_of(ctx, as_of)
    ledger = ctx.ledger()
    key = classify(subject)
    views = open_views(ledger)
    try:
        with views.connect() as conn:
            if not notification_ids(conn, key):
                raise click.ClickException(
                    f"No events about {subject!r}. A subject is {SUBJECT_HELP}."
                )
            ledger.record_read("history", key, actor=actor, detail=as_of or "")
            entries = subject_history(ledger, conn, key)
    finally:
        views.close()
    if moment is not None:
        entries = [e for e in entries if e.recorded_at <= moment]
        if not entries:
            raise click.ClickException(f"No events about {subject!r} were recorded by {as_of}.")
    if as_json:
        emit_json({"subject": key, "events": entries})
        return
    tz = ZoneInfo(ledger.site().timezone)

    def local(moment: datetime | None) -> str:
        return "" if moment is None else moment.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")

    echo(f"History of {key} ({len(entries)} events; times in {tz.key})")
    for e in entries:
        claimed = f"  claimed {local(e.occurred_at)}" if e.occurred_at else ""
        echo("")
        echo(
            f"#{e.notification_id} position {e.position}  {local(e.recorded_at)}{claimed}  "
            f"{e.kind}  by {e.actor} ({e.actor_role.replace('_', ' ')})"
        )
        echo(f"    {e.summary}")


def register(group: click.Group) -> None:
    """The report subcommands are added to ``report`` on import; history is top-level."""
    group.add_command(history)
