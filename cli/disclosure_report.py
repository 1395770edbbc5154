"""custodes report disclosures: the disclosure register (R2-R11, R20); ``custodes request
list`` shows the same rows."""

from __future__ import annotations

import csv
import sys
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import click

from cli.common import (
    Context,
    actor_option,
    emit_json,
    json_option,
    pass_ctx,
    table,
    to_jsonable,
)
from cli.reports import as_of_option, parse_as_of
from cli.when import range_options, time_range
from ledger import sitetime
from ledger.errors import InvalidInput
from ledger.sitetime import TypedTime
from ledger.text import csv_cell


def disclosure_rows(
    ctx: Context, since: datetime | None, until: datetime | None, as_of: datetime | None = None
) -> list[Any]:
    from projections.disclosures import disclosures
    from projections.registry import read_views

    return read_views(
        ctx.ledger(), lambda conn: disclosures(conn, since, until), as_of=as_of, checked=True
    )


def _csv_value(value: Any) -> Any:
    """A register cell: lists joined with ";", text never a spreadsheet formula (OWASP)."""
    if isinstance(value, list):
        value = ";".join(map(str, value))
    return csv_cell(value) if isinstance(value, str) else value


def _duration(seconds: int | None) -> str:
    if seconds is None:
        return ""
    h, rem = divmod(seconds, 3600)
    return f"{h}h{rem // 60:02d}m"


def _patron(row: Any) -> str:
    if not row.patron:
        return ""
    return f"{row.patron} (erased)" if row.patron_erased else row.patron


def disclosure_table(rows: list[Any], zone: ZoneInfo) -> None:
    table(
        [
            "request",
            "requester",
            "patron",
            "basis",
            "decision",
            "to decide",
            "released",
            "ack",
            "follow-up",
            "FOIA due",
        ],  # fmt: skip
        [
            (
                r.ref,
                r.requester_kind,
                _patron(r),
                r.basis,
                r.decision,
                _duration(r.time_to_decision_s),
                ",".join(r.released_fields + r.released_footage),
                r.acknowledgement,
                r.follow_up,
                sitetime.show(r.foia_due, zone),
            )
            for r in rows
        ],
    )


@click.command("disclosures")
@range_options("Requests opened")
@json_option
@click.option("--csv", "as_csv", is_flag=True, help="CSV on stdout.")
@as_of_option
@actor_option
@pass_ctx
def report_disclosures(
    ctx: Context,
    since: TypedTime | None,
    until: TypedTime | None,
    as_json: bool,
    as_csv: bool,
    as_of: TypedTime | None,
    actor: str,
) -> None:
    """The disclosure register: requester, basis, decision and reasons, time to decision,
    released fields, acknowledgement, follow-up, FOIA deadline.

    \b
    Example:
      custodes report disclosures --from 2026-11-01 --to 2026-11-30 --csv > register.csv
    """
    if as_json and as_csv:
        raise InvalidInput("choose one of --json or --csv")
    zone = ctx.zone()
    start, end = time_range(since, until, zone)
    rows = disclosure_rows(ctx, start, end, parse_as_of(ctx, as_of))
    if as_json:
        emit_json(rows)
    elif as_csv:
        data = [to_jsonable(r) for r in rows]
        writer = csv.writer(sys.stdout)
        headers = list(data[0]) if data else ["ref"]
        writer.writerow(headers)
        for d in data:
            writer.writerow([_csv_value(v) for v in d.values()])
    else:
        disclosure_table(rows, zone)
