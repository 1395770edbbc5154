"""custodes report access: the footage access log (R16, R23)."""

from __future__ import annotations

import click

from cli.auth import actor_option
from cli.common import Context, emit_json, json_option, pass_ctx, table
from cli.footage import local, optional_when, site_zone
from cli.output import echo
from cli.reports import as_of_option, parse_as_of


@click.command("access")
@click.option("--from", "since", default=None, metavar="DATE", help="From this date (inclusive).")
@click.option("--to", "until", default=None, metavar="DATE", help="To this date (inclusive).")
@as_of_option
@json_option
@actor_option
@pass_ctx
def report_access(
    ctx: Context, since: str | None, until: str | None, as_of: str | None, as_json: bool, actor: str
) -> None:
    """Footage access log: every viewing (name, role, date, time, reason, purpose, remote)
    and every refused attempt (R16, R23).

    \b
    Example:
      custodes report access --from 2026-11-01 --to 2026-11-30 --json
    """
    from datetime import timedelta

    from projections.access import access_report
    from projections.registry import read_views

    start = optional_when(since, "--from")
    end = optional_when(until, "--to")
    if end is not None and until is not None and len(until) == 10:
        end = end + timedelta(days=1)  # --to is a whole day, inclusive
    if start and end and start >= end:
        raise click.BadParameter("--from must be before --to", param_hint="--from")
    report = read_views(
        ctx.ledger(), lambda conn: access_report(conn, start, end), as_of=parse_as_of(ctx, as_of)
    )
    if as_json:
        emit_json(report)
        return
    tz = site_zone(ctx)
    echo("Viewings")
    table(
        [
            "date",
            "time",
            "name",
            "role",
            "segment",
            "camera",
            "kind",
            "purpose",
            "remote",
            "reason",
        ],
        [
            (
                local(v.viewed_at, tz, "%Y-%m-%d"),
                local(v.viewed_at, tz, "%H:%M"),
                v.actor,
                v.actor_role,
                v.segment_id,
                v.camera_id,
                v.kind,
                v.purpose,
                "yes" if v.remote else "no",
                v.reason,
            )
            for v in report.viewings
        ],
    )
    echo("")
    echo("Refused attempts")
    table(
        ["date", "time", "name", "role", "action", "subject", "rule"],
        [
            (
                local(r.recorded_at, tz, "%Y-%m-%d"),
                local(r.recorded_at, tz, "%H:%M"),
                r.actor,
                r.actor_role,
                r.action,
                r.subject,
                r.rule_id,
            )
            for r in report.refused
        ],
    )
