"""custodes report compliance / report statistics / history: the Director's report, the
anonymized statistics and the legal-review history of one subject. All read projections;
``--as-of`` replays the read models up to a past time instead."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import click

from cli.common import Context, actor_option, emit_json, info, json_option, pass_ctx
from cli.output import echo, force_option
from cli.report import report_group
from cli.when import DAY, WHEN
from ledger import sitetime
from ledger.sitetime import TypedTime
from ledger.text import counted

FORMATS = ("html", "pdf", "json", "csv")


# ---- shared: --as-of and report periods -------------------------------------------------


def as_of_option(f: Any) -> Any:
    return click.option(
        "--as-of",
        "as_of",
        type=WHEN,
        default=None,
        help="Show the state exactly as it was then, replayed from the ledger (site time "
        "unless a zone is given; a date alone is the end of that day).",
    )(f)


def parse_as_of(ctx: Context, typed: TypedTime | None) -> datetime | None:
    """A past instant to replay to; the future is refused (exit 2): nothing is known of it.

    A date alone is the state at the end of that local day (now, while the day lasts)."""
    if typed is None:
        return None
    now, zone = ctx.now(), ctx.zone()
    if typed.start(zone) > now:
        raise click.BadParameter(
            f"{typed.text} is in the future (it is now {sitetime.show(now, zone)}); the state "
            "can only be replayed to a past time",
            param_hint="--as-of",
        )
    return min(typed.last_instant(zone), now) if typed.is_date else typed.start(zone)


def parse_period(ctx: Context, first: date, last: date, as_of: datetime | None) -> None:
    """Whole site-local days, inclusive; after --to or in the future is a usage error."""
    zone = ctx.zone()
    if first > last:
        raise click.UsageError(f"--from {first} is after --to {last}; swap them")
    today = sitetime.local_day(ctx.now(), zone)
    for value, param in ((first, "--from"), (last, "--to")):
        if value > today:
            raise click.BadParameter(
                f"{value} is in the future (today is {today}, {zone.key}); a report covers "
                "days that have begun",
                param_hint=param,
            )
    if as_of is not None and first > sitetime.local_day(as_of, zone):
        raise click.UsageError(
            f"--from {first} is after --as-of {sitetime.show(as_of, zone)}: nothing in the "
            "period was recorded by then"
        )


def period_options(f: Any) -> Any:
    f = click.option(
        "--to", "last", type=DAY, required=True, help="Last day, inclusive (site time)."
    )(f)
    return click.option("--from", "first", type=DAY, required=True, help="First day (site time).")(
        f
    )


# ---- report compliance ------------------------------------------------------------------


def authorize_report(ctx: Context, actor: str, action: str, subject: str = "") -> None:
    """Only the roles that read the compliance report read the registers beside it (the
    disclosure register, the access log, statistics): the same check as the dashboard's,
    made by the ledger; a refusal is recorded (R23) and exits 1."""
    from ledger import rules
    from projections.compliance import REPORT_ROLES

    ctx.ledger().authorize(actor, action, REPORT_ROLES, rules.STAFF_ROLE, subject=subject)


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
@period_options
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
    first: date,
    last: date,
    fmt: str,
    out: Path,
    force: bool,
    as_of: TypedTime | None,
    actor: str,
) -> None:
    """The Director's compliance report for a period: what needs attention, ledger
    integrity with a fresh signed checkpoint, cameras, retention, footage access,
    disclosures and refusals.

    The ledger is verified first: a tampered ledger exits 3 and no report is written.
    The report is written atomically (no partial file on failure), mode 0600, and never
    over an existing file without --force. Director, Business Manager or counsel.
    Footage the vault audit finds gone with no purge is recorded FootageFoundMissing
    when the Director makes the report (without --as-of), and the report read again, so
    it is held to it; anyone else's report lists it as not yet recorded.

    \b
    Example:
      custodes report compliance --from 2026-11-01 --to 2026-11-30 --format pdf --out board-2026-11.pdf --as "Dana Director"
      custodes report compliance --from 2026-11-01 --to 2026-11-30 --format csv --out report-csv/ --as "Dana Director"
      custodes report compliance --from 2026-10-01 --to 2026-10-31 --as-of 2026-11-01T06:00:00Z --format json --out october-as-filed.json --as "Cora Counsel"
    """

    from cli.proofs import signing_passphrase
    from projections.compliance import compile_compliance_report, record_issued
    from projections.compliance_model import ReportError

    when = parse_as_of(ctx, as_of)
    ledger = ctx.ledger()
    parse_period(ctx, first, last, when)

    def vault_audit() -> list[tuple[str, str]]:  # the vault now (not for --as-of)
        from cli.footage import audit_footage

        return [(f.segment_id, f.describe()) for f in audit_footage(ledger)]

    recorded: list[str] = []

    def record_findings() -> None:  # what it finds, recorded when the actor may (R15)
        from capture.audit import record_findings
        from projections.registry import read_views
        from projections.retention import stored_segments

        recorded.extend(record_findings(
            ledger, lambda: read_views(ledger, stored_segments, checked=True), actor=actor,
            found_by=f"compliance report {first} to {last}",
        ))  # fmt: skip

    try:
        _check_output(out, fmt, force)
        key = ctx.datadir().signing_key(signing_passphrase(ctx))
        # the report's time (its checkpoint's) once the passphrase is typed: the time it
        # reads the log at, which verify-report holds its checkpoint and issuance to
        now = ctx.now()
        report, note = compile_compliance_report(
            ledger,
            period_from=first,
            period_to=last,
            actor=actor,
            now=now,
            signing_key=key,
            as_of=when,
            vault_audit=vault_audit,
            record_findings=record_findings,
        )
        _write(report, fmt, out, force)
    except ReportError as e:
        raise click.ClickException(str(e)) from e
    digest = record_issued(ledger, report, fmt, out, actor=actor)
    if recorded:
        info(
            f"warning: {counted(len(recorded), 'segment')} found missing from the vault with "
            "no purge in progress: recorded FootageFoundMissing while the report was made "
            f"(FOOTAGE-FOUND-MISSING, R15): {', '.join(recorded)}. Find out how."
        )
    state = f" as of {sitetime.show(when, ctx.zone())}" if when else ""
    info(
        f"Compliance report {first} to {last}{state} ({fmt}) written to {out}; "
        f"{counted(len(report.attention), 'item')} "
        f"{'needs' if len(report.attention) == 1 else 'need'} attention. Recorded in the ledger as "
        f"ComplianceReportIssued (sha256 {digest})."
    )
    info(
        f"Signed checkpoint of {report.integrity.tree_size} verified entries "
        "(also printed in the report):"
    )
    echo(note, nl=False)


# ---- report statistics ------------------------------------------------------------------


def _stats_json(stats: Any, first: date, last: date) -> dict[str, Any]:
    return {
        "schema_version": "custodes-statistics/1",
        "period": {"from": first.isoformat(), "to": last.isoformat()},
        "as_of": None if stats.as_of is None else sitetime.iso_utc(stats.as_of),
        "threshold": stats.threshold,
        "rule": {"id": stats.rule_id, "source": stats.rule_source},
        "tables": {
            t.name: {
                "title": t.title,
                "cells": {
                    c.label: {"count": c.count, "suppressed": c.suppressed, "hidden": c.hidden}
                    for c in t.cells
                },
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
@period_options
@click.option(
    "--threshold",
    type=click.IntRange(1),
    default=None,
    help="Counts from 1 to this minus one are suppressed; default: the adopted policy's "
    "statistics.small_cell_threshold. Lower is for the Director only, not for publishing "
    "(1: no suppression); anyone else's attempt is refused and recorded.",
)
@as_of_option
@json_option
@actor_option
@pass_ctx
def report_statistics(
    ctx: Context,
    first: date,
    last: date,
    threshold: int | None,
    as_of: TypedTime | None,
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
    from projections.registry import read_views
    from projections.statistics import statistics

    when = parse_as_of(ctx, as_of)
    zone = ctx.zone()
    parse_period(ctx, first, last, when)
    authorize_report(ctx, actor, "report statistics", f"{first}..{last}")
    start, end = sitetime.days(first, last, zone)
    # R28: the adopted policy version's threshold unless one is given
    policy_cut = ctx.ledger().policy_params(when).small_cell_threshold
    cut = threshold or policy_cut
    if cut < policy_cut:  # counts that identify people: the Director's, never published
        from ledger import rules

        ctx.ledger().authorize(
            actor, "report statistics below the policy's threshold", ("director",),
            rules.LRCA_STATISTICS, subject=f"{first}..{last}",
        )  # fmt: skip
    spans = ctx.ledger().set_aside_spans(until=when)
    stats = read_views(
        ctx.ledger(),
        lambda conn: statistics(conn, start, end, threshold=cut, as_of=when, set_aside=spans),
        as_of=when,
        checked=True,
    )
    if as_json:
        emit_json({**_stats_json(stats, first, last), "for_publishing": cut >= policy_cut})
        return
    threshold = cut
    small = f"<{threshold}"
    state = f", as of {sitetime.show(when, zone)}" if when else ""
    echo(f"Statistics {first} to {last}{state}")
    if cut < policy_cut:
        echo(
            f"NOT FOR PUBLISHING: the policy suppresses counts below {policy_cut} "
            f"({stats.rule_id}); these tables suppress only those below {cut}."
        )
    for t in stats.tables:
        echo("")
        echo(t.title)
        width = max(len(c.label) for c in (*t.cells,)) if t.cells else 5
        width = max(width, len("total"))
        for c in t.cells:
            shown = "hidden" if c.hidden else small if c.suppressed else c.count
            echo(f"  {c.label.replace('_', ' '):<{width}}  {shown:>5}")
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
    if stats.hides_more:
        echo(
            "A count shown as hidden is not small; it is hidden so that a small count cannot "
            "be worked out from the others and the totals."
        )


# ---- history ----------------------------------------------------------------------------


@click.command("history")
@click.argument("subject")
@as_of_option
@json_option
@actor_option
@pass_ctx
def history(ctx: Context, subject: str, as_of: TypedTime | None, as_json: bool, actor: str) -> None:
    """Every event about one subject, in ledger order, for legal review: chain position,
    event number, kind, actor and role, recorded time, claimed time and a summary.

    SUBJECT is a segment id, a request reference (R-2026-0001), a hold id (H-...), a
    camera id or a patron pseudonym (p-...). Events of other records that name the
    subject are included (a hold naming a segment, a release listing footage, ...),
    and so are the readings of its record and the attempts refused.

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
    from projections.history import read_history

    moment = parse_as_of(ctx, as_of)
    key, entries = read_history(
        ctx.ledger(),
        subject,
        actor=actor,
        as_of=moment,
        detail=as_of.text if as_of is not None else "",
    )
    if as_json:
        emit_json({"subject": key, "events": entries})
        return
    zone = ctx.zone()
    echo(f"History of {key} ({len(entries)} events; times in {zone.key})")
    for e in entries:
        claimed = f"  claimed {sitetime.show(e.occurred_at, zone)}" if e.occurred_at else ""
        echo("")
        echo(
            f"#{e.notification_id} position {e.position}  {sitetime.show(e.recorded_at, zone)}"
            f"{claimed}  {e.kind}  by {e.actor} ({e.actor_role.replace('_', ' ')})"
        )
        echo(f"    {e.summary}")


def register(group: click.Group) -> None:
    """The report subcommands are added to ``report`` on import; history is top-level."""
    group.add_command(history)
