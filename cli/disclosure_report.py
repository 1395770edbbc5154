"""custodes report disclosures: the disclosure register (R2-R11, R20); ``custodes request
list`` shows the same rows."""

from __future__ import annotations

import base64
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
    info,
    json_option,
    json_text,
    pass_ctx,
    table,
    to_jsonable,
)
from cli.output import echo
from cli.reports import as_of_option, authorize_report, parse_as_of
from cli.when import range_options, time_range
from ledger import sitetime
from ledger.errors import InvalidInput
from ledger.sitetime import TypedTime
from ledger.text import register_cell


def disclosure_rows(
    ctx: Context, since: datetime | None, until: datetime | None, as_of: datetime | None = None
) -> list[Any]:
    from projections.disclosures import disclosures
    from projections.registry import read_views

    ledger = ctx.ledger()
    # a request opened by a clock a correction set aside: by the time it was really opened
    spans = ledger.set_aside_spans(until=as_of) if since or until else []
    return read_views(
        ledger,
        lambda conn: disclosures(conn, since, until, set_aside=spans),
        as_of=as_of,
        checked=True,
    )


def provable_register(
    ctx: Context, since: datetime | None, until: datetime | None, as_of: datetime | None
) -> dict[str, Any]:
    """The register's rows after a verification, with their proofs against a checkpoint
    signed over the verified ledger (ledger.report_proofs), and what it covers (the
    requests opened from ``since`` to before ``until``, as of ``as_of``) signed with the
    same key, so that no row can leave it unseen."""
    from cli.proofs import signing_passphrase
    from ledger.integrity import open_chain, read_verified, sign_verified, verified
    from ledger.report_proofs import REGISTER_FORMAT, coverage_note, prove_rows

    datadir = ctx.datadir()
    reader = open_chain(datadir)
    outcome = verified(reader)  # before any row is read (exit 3 on damage)
    key = datadir.signing_key(signing_passphrase(ctx))
    origin = ctx.ledger().site().log_origin
    # signed over the log as the rows were read, and read again while it grew under them
    # (``read_verified``): a request opened meanwhile is under the checkpoint, and the
    # register must list it (``verify-report --events``)
    rows, outcome = read_verified(
        reader,
        outcome,
        lambda _verified: [to_jsonable(r) for r in disclosure_rows(ctx, since, until, as_of)],
        settle=as_of is None,
    )
    cp, note = sign_verified(outcome, origin=origin, signing_key=key, now=ctx.now())
    return {
        "format": REGISTER_FORMAT,
        "since": since,
        "until": until,
        "as_of": as_of,
        "rows": rows,
        "coverage": coverage_note(cp, key, since=since, until=until, as_of=as_of, rows=rows),
        "proofs": prove_rows(reader, cp, note, [(("register", r["ref"]), r) for r in rows]),
    }


def issue_register(ctx: Context, register: dict[str, Any], actor: str) -> str:
    """Record the register about to be printed (``DisclosureRegisterIssued``: what it
    covers, the requests it lists, the SHA-256 of exactly the bytes printed, its
    checkpoint), then print it: a lawyer matches the file to its issuance years later,
    and the ledger shows which requests each register listed. Returns the SHA-256."""
    import hashlib

    text = json_text(register)
    digest = hashlib.sha256(f"{text}\n".encode()).hexdigest()
    proofs = register["proofs"]
    ctx.ledger().record_register_issued(
        since=register["since"],
        until=register["until"],
        as_of=register["as_of"],
        output_sha256=digest,
        checkpoint_size=proofs["tree_size"],
        checkpoint_root=base64.b64decode(proofs["root"]).hex(),
        refs=[r["ref"] for r in register["rows"]],
        actor=actor,
    )
    click.echo(text)
    return digest


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
    _legal_bases(rows)


def _legal_bases(rows: list[Any]) -> None:
    """What each release is checked against (R7, R10), under the table: the court order
    and its structured scope items, or the officer's signed Appendix 9 by its hash."""
    lines = [
        f"  {r.ref}: "
        + "; ".join(
            x for x in (r.court_order, r.scope and f"scope: {r.scope}", r.signed_form) if x
        )  # fmt: skip
        for r in rows
        if r.court_order or r.scope or r.signed_form
    ]
    if lines:
        echo("Legal basis (court order and its scope items, or the signed Appendix 9):")
        for line in lines:
            echo(line)


@click.command("disclosures")
@range_options("Requests opened")
@json_option
@click.option("--csv", "as_csv", is_flag=True, help="CSV on stdout.")
@click.option(
    "--prove",
    is_flag=True,
    help="With --json: verify the ledger, sign a checkpoint, give each row its log "
    "entries with inclusion proofs and sign what the register covers (custodes "
    "verify-report checks them); the register printed is recorded in the ledger.",
)
@as_of_option
@actor_option
@pass_ctx
def report_disclosures(
    ctx: Context,
    since: TypedTime | None,
    until: TypedTime | None,
    as_json: bool,
    as_csv: bool,
    prove: bool,
    as_of: TypedTime | None,
    actor: str,
) -> None:
    """The disclosure register: requester, basis, decision and reasons, time to decision,
    released fields, acknowledgement, follow-up, FOIA deadline.

    \b
    Example:
      custodes report disclosures --from 2026-11-01 --to 2026-11-30 --csv > register.csv
      custodes report disclosures --from 2026-11-01 --to 2026-11-30 --json --prove > register.json
    """
    if as_json and as_csv:
        raise InvalidInput("choose one of --json or --csv")
    zone = ctx.zone()
    start, end = time_range(since, until, zone)
    if prove and not as_json:
        raise click.UsageError("--prove goes with --json")
    at = parse_as_of(ctx, as_of)
    authorize_report(ctx, actor, "report disclosures")
    if prove:
        digest = issue_register(ctx, provable_register(ctx, start, end, at), actor)
        info(f"Recorded in the ledger as DisclosureRegisterIssued (sha256 {digest}).")
        return
    rows = disclosure_rows(ctx, start, end, at)
    if as_json:
        emit_json(rows)
    elif as_csv:
        data = [to_jsonable(r) for r in rows]
        writer = csv.writer(sys.stdout)
        headers = list(data[0]) if data else ["ref"]
        writer.writerow(headers)
        for d in data:
            writer.writerow([register_cell(v) for v in d.values()])
    else:
        disclosure_table(rows, zone)
