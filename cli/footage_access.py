"""custodes report access: the footage access log (R16, R23)."""

from __future__ import annotations

import click

from cli.auth import actor_option
from cli.common import Context, emit_json, json_option, pass_ctx, table
from cli.output import echo
from cli.reports import as_of_option, authorize_report, parse_as_of
from cli.when import range_options, time_range
from ledger import sitetime
from ledger.sitetime import TypedTime


@click.command("access")
@range_options("Viewings and refused attempts")
@as_of_option
@json_option
@actor_option
@pass_ctx
def report_access(
    ctx: Context,
    since: TypedTime | None,
    until: TypedTime | None,
    as_of: TypedTime | None,
    as_json: bool,
    actor: str,
) -> None:
    """Footage access log: every viewing (name, role, date, time, whether the footage was
    archived, reason, purpose, remote) and every refused attempt to view or export footage
    (R16, R23).

    \b
    Example:
      custodes report access --from 2026-11-01 --to 2026-11-30 --json
    """
    from projections.access import access_report
    from projections.compliance import acting_lookup, with_acting
    from projections.registry import read_views
    from projections.report_document import role_shown

    zone = ctx.zone()
    start, end = time_range(since, until, zone)
    at = parse_as_of(ctx, as_of)
    authorize_report(ctx, actor, "report access")
    report = read_views(
        ctx.ledger(),
        lambda conn: access_report(conn, start, end),
        as_of=at,
        checked=True,
    )
    report = with_acting(report, acting_lookup(ctx.ledger()))
    if as_json:
        emit_json(report)
        return
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
            "archived",
            "purpose",
            "remote",
            "reason",
        ],
        [
            (
                sitetime.show_date(v.viewed_at, zone),
                sitetime.show_time(v.viewed_at, zone),
                v.actor,
                role_shown(v.actor_role, v.acting),
                v.segment_id,
                v.camera_id,
                v.kind,
                "yes" if v.archived else "no (former live window)",
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
                sitetime.show_date(r.recorded_at, zone),
                sitetime.show_time(r.recorded_at, zone),
                r.actor,
                role_shown(r.actor_role, r.acting),
                r.action,
                r.subject,
                r.rule_id,
            )
            for r in report.refused
        ],
    )
