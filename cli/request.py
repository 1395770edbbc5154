"""custodes request ... / patron forget: disclosure requests (R2-R11, R20, R22). Each
command parses, calls one ledger use-case, renders. The Director's decision and what follows
it are in ``cli.request_decision``, custodes report disclosures in ``cli.disclosure_report``."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import click

from cli.common import (
    Context,
    actor_option,
    emit_json,
    info,
    json_option,
    pass_ctx,
)
from cli.disclosure_report import disclosure_rows, disclosure_table, report_disclosures
from cli.report import report_group
from cli.when import when_option
from ledger import sitetime
from ledger.disclosure import ORDER_KINDS, RECORD_CLASSES, REQUESTER_KINDS, ROLES_SOUGHT
from ledger.errors import InvalidInput

FIELDS_HELP = (
    "Comma-separated fields: name, address, phone, card_number, registration_record, titles, "
    "holds, circulation_history, itemized_fines, fines_total, fees_total, computer_sessions, "
    "program_signups, reference_questions, footage."
)


def csv_list(value: str, *, choices: tuple[str, ...] | None = None, param: str) -> list[str]:
    items = [v.strip() for v in value.split(",") if v.strip()]
    bad = [v for v in items if choices is not None and v not in choices]
    if bad:
        raise click.BadParameter(
            f"unknown: {', '.join(bad)} (choose from {', '.join(choices or ())})", param_hint=param
        )
    return items


def sha256_of(path: Path, what: str) -> str:
    """Hash a document; a missing file is bad input (exit 1), nothing is recorded."""
    if not path.is_file():
        raise InvalidInput(
            f"{what} {str(path)!r} does not exist or is not a file; nothing recorded"
        )
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@click.group("request")
def request_group() -> None:
    """Disclosure requests: intake, legal basis, the Director's decision, release.

    \b
    Example:
      custodes request open --requester-kind law_enforcement --requester "Ofc. Lee, Mahomet PD" \\
        --received-by "Sam Staff" --records registration --patron 2100012345 \\
        --description "identify a suspect" --as "Sam Staff"
      custodes request list
    """


@request_group.command("open")
@click.option("--requester-kind", type=click.Choice(REQUESTER_KINDS), required=True)
@click.option("--requester", required=True, metavar="TEXT", help="Who asks (name, agency).")
@click.option("--received-by", required=True, metavar="STAFF", help="Staff member who got it.")
@click.option("--records", required=True, metavar="CLASSES", help=", ".join(RECORD_CLASSES))
@click.option("--patron", "card", metavar="CARD", help="The patron's library card number.")
@click.option("--patron-name", default="", help="Patron's name (stored encrypted).")
@click.option("--patron-address", default="", help="Patron's address (stored encrypted).")
@click.option("--patron-phone", default="", help="Patron's phone (stored encrypted).")
@click.option("--minor", is_flag=True, help="The patron is a minor (R4).")
@click.option("--guardianship", metavar="TEXT", help="How guardianship was confirmed (R4).")
@click.option("--footage", multiple=True, metavar="SEGMENT", help="Responsive segment (repeat).")
@click.option("--case-number", metavar="TEXT", help="Law enforcement's case number (R17).")
@click.option("--description", required=True, metavar="TEXT", help="What is asked for.")
@actor_option
@json_option
@pass_ctx
def request_open(ctx: Context, **o: Any) -> None:
    """Record a request and route it to the Director (R3). A public request starts the FOIA
    clock and holds the responsive footage (R20).

    \b
    Example:
      custodes request open --requester-kind parent_guardian --requester "Pat Parent" \\
        --received-by "Sam Staff" --records fines_fees --patron 2100012345 --minor \\
        --guardianship "birth certificate shown" --description "fines owed" --as "Sam Staff"
    """
    ref = ctx.ledger().open_request(
        requester_kind=o["requester_kind"],
        requester=o["requester"],
        received_by=o["received_by"],
        records=csv_list(o["records"], choices=RECORD_CLASSES, param="--records"),
        description=o["description"],
        patron_card=o["card"],
        patron_name=o["patron_name"],
        patron_address=o["patron_address"],
        patron_phone=o["patron_phone"],
        minor=o["minor"],
        guardianship=o["guardianship"],
        footage=o["footage"],
        case_number=o["case_number"],
        actor=o["actor"],
    )
    view = ctx.ledger().request_view(ref)
    if o["as_json"]:
        emit_json({"ref": ref, "routed_to": view["routed_to"], "foia": view["foia"]})
        return
    click.echo(ref)
    info(f"Opened {ref}; routed to the Director ({view['routed_to']}).")
    if view["foia"]:
        due = sitetime.show(view["foia"]["due_at"], ctx.zone())
        info(f"FOIA: respond by {due} (5 ILCS 140/3(d)).")


@request_group.command("court-order")
@click.argument("ref")
@click.option("--kind", type=click.Choice(ORDER_KINDS), required=True)
@click.option("--signed-by-judge/--not-signed-by-judge", default=None, required=True)
@click.option("--court", required=True)
@click.option("--judge", required=True)
@click.option("--case", required=True, help="Case or docket number.")
@when_option("--issued", required=True, help="When it was issued")
@when_option("--served-at", required=True, help="When it was served")
@click.option("--served-by", required=True, help="Who served it: name, badge, agency.")
@click.option("--scope", required=True, help="Records, patrons, date range covered.")
@click.option("--document", required=True, type=click.Path(path_type=Path), help="Scan.")
@click.option(
    "--nondisclosure",
    default="",
    metavar="TERMS",
    help="A nondisclosure order served with it: its terms (e.g. 'do not notify the patron "
    "for 90 days').",
)
@actor_option
@pass_ctx
def request_court_order(ctx: Context, ref: str, **o: Any) -> None:
    """Record a court order, warrant or subpoena and its document's SHA-256 (R6).

    \b
    Example:
      custodes request court-order R-2026-0001 --kind order --signed-by-judge \\
        --court "Champaign County Circuit Court" --judge "Hon. A. Judge" --case 2026-CF-123 \\
        --issued 2026-11-01T09:00 --served-at 2026-11-02T10:00 \\
        --served-by "Det. Ray, #42, Mahomet PD" --scope "registration, circulation, Oct 2026" \\
        --document order.pdf --as "Dana Director"
    """
    doc: Path = o["document"]
    sha = sha256_of(doc, "the document")
    ctx.ledger().record_court_order(
        ref,
        kind=o["kind"],
        signed_by_judge=o["signed_by_judge"],
        court=o["court"],
        judge=o["judge"],
        case=o["case"],
        issued=o["issued"].start(ctx.zone()),
        served_at=o["served_at"].start(ctx.zone()),
        served_by=o["served_by"],
        scope=o["scope"],
        document_name=doc.name,
        document_sha256=sha,
        actor=o["actor"],
        nondisclosure=o["nondisclosure"],
    )
    info(f"Recorded the {o['kind']} on {ref.upper()} (document sha256 {sha}).")
    info(f"Next: counsel reviews it: custodes request counsel-review {ref.upper()} --result ...")


@request_group.command("foia-extend")
@click.argument("ref")
@click.option(
    "--reason", required=True, help="The reason given to the requester (5 ILCS 140/3(e))."
)
@actor_option
@pass_ctx
def request_foia_extend(ctx: Context, ref: str, reason: str, actor: str) -> None:
    """Take the one 5-business-day FOIA extension (Director only, before the deadline).

    \b
    Example:
      custodes request foia-extend R-2026-0004 --reason "footage must be reviewed and redacted" \
        --as "Dana Director"
    """
    due = ctx.ledger().extend_foia(ref, reason=reason, actor=actor)
    info(
        f"FOIA clock of {ref.upper()} extended: respond by {sitetime.show(due, ctx.zone())} "
        "(5 ILCS 140/3(e))."
    )


@request_group.command("counsel-review")
@click.argument("ref")
@click.option("--result", type=click.Choice(("sufficient", "defective")), required=True)
@click.option("--notes", default="", help="Defects and their cure, or remarks.")
@actor_option
@pass_ctx
def request_counsel_review(ctx: Context, ref: str, result: str, notes: str, actor: str) -> None:
    """Record counsel's review of the court order (counsel only; R6).

    \b
    Example:
      custodes request counsel-review R-2026-0001 --result sufficient --notes "signed, in scope" \\
        --as "Cora Counsel"
    """
    ctx.ledger().record_counsel_review(ref, result=result, notes=notes, actor=actor)
    info(f"Counsel found the order on {ref.upper()} {result}.")


@request_group.command("emergency")
@click.argument("ref")
@click.option("--officer-name", required=True)
@click.option("--officer-rank", default="")
@click.option("--badge", "badge_number", required=True, help="Badge or ID number.")
@click.option("--agency", required=True)
@click.option("--agency-phone", default="")
@click.option("--id-examined/--id-not-examined", default=None, required=True)
@click.option("--sworn-officer", is_flag=True, help="Attested: a sworn officer (R8).")
@click.option("--court-order-impractical", is_flag=True, help="Attested: emergency (R8).")
@click.option("--imminent-danger", is_flag=True, help="Attested: probable cause (R8).")
@click.option("--identification-purpose", is_flag=True, help="Attested: to identify (R8).")
@click.option("--role-sought", type=click.Choice(ROLES_SOUGHT), help="Who is to be identified.")
@click.option("--description", "emergency_description", required=True, help="The emergency.")
@actor_option
@pass_ctx
def request_emergency(ctx: Context, ref: str, **o: Any) -> None:
    """Record an officer's emergency request (Appendix 9). All four representations are
    required; a missing one is refused and the refusal recorded (R8).

    \b
    Example:
      custodes request emergency R-2026-0001 --officer-name "Lee Officer" --badge 4471 \\
        --agency "Mahomet PD" --id-examined --sworn-officer --court-order-impractical \\
        --imminent-danger --identification-purpose --role-sought suspect \\
        --description "threat made at the library today" --as "Dana Director"
    """
    ctx.ledger().record_emergency(ref, **o)
    info(f"Recorded the emergency request on {ref.upper()}; the Director decides next.")


@request_group.command("form")
@click.argument("ref")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@actor_option
@pass_ctx
def request_form(ctx: Context, ref: str, out: Path, actor: str) -> None:
    """Print Appendix 9, the Officer's Request for Confidential Information, prefilled (R10).

    The Director, counsel and the member who took the request in may print it; each
    printing is recorded (R27).

    \b
    Example:
      custodes request form R-2026-0001 --out R-2026-0001-appendix9.pdf --as "Dana Director"
    """
    from projections.appendix9 import render_appendix9

    render_appendix9(ctx.ledger().read_appendix9(ref, actor=actor), out)
    info(f"Wrote {out}")


@request_group.command("show")
@click.argument("ref")
@json_option
@actor_option
@pass_ctx
def request_show(ctx: Context, ref: str, as_json: bool, actor: str) -> None:
    """Everything recorded on one request, with the policy's plan for it: a readable
    record in site time, or every field with --json.

    The Director, counsel and the member who took the request in may read it; each
    reading is recorded (R27).

    \b
    Example:
      custodes request show R-2026-0001 --json --as "Dana Director"
    """
    from cli.request_record import request_record

    view = ctx.ledger().read_request(ref, actor=actor, detail="json" if as_json else "text")
    if as_json:
        emit_json(view)
        return
    click.echo("\n".join(request_record(view, ctx.zone())))


@request_group.command("list")
@json_option
@actor_option
@pass_ctx
def request_list(ctx: Context, as_json: bool, actor: str) -> None:
    """All requests, from the disclosure register.

    \b
    Example:
      custodes request list --json
    """
    rows = disclosure_rows(ctx, None, None)
    if as_json:
        emit_json(rows)
        return
    disclosure_table(rows, ctx.zone())


def register(group: click.Group) -> None:
    from cli import patron, request_decision

    group.add_command(request_group)
    for command in (
        request_decision.request_decide,
        request_decision.request_release,
        request_decision.request_acknowledge,
        request_decision.request_follow_up,
    ):
        request_group.add_command(command)
    report_group.add_command(report_disclosures)
    patron.register(group)
