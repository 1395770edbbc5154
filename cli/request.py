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
from cli.disclosure_report import disclosure_table, report_disclosures
from cli.output import echo, force_option
from cli.report import report_group
from cli.when import DAY, when_option
from ledger import sitetime
from ledger.disclosure import ORDER_KINDS, RECORD_CLASSES, REQUESTER_KINDS, ROLES_SOUGHT
from ledger.errors import InvalidInput
from ledger.outfiles import check_destination
from ledger.policy import GUARDIANSHIP_DOCUMENTS, guardianship_text
from ledger.scans import NOT_A_SCAN, kind_of

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
    """Hash a document's scan; a missing or empty file, or one that is not a PDF or an
    image (``ledger.scans``, as the dashboard checks an upload), is bad input (exit 1),
    nothing is recorded."""
    if not path.is_file():
        raise InvalidInput(
            f"{what} {str(path)!r} does not exist or is not a file; nothing recorded"
        )
    h = hashlib.sha256()
    with path.open("rb") as f:
        head = f.read(16)
        if not head:
            raise InvalidInput(f"the file of {what} ({path.name}) is empty; nothing recorded")
        if kind_of(head) is None:
            raise InvalidInput(f"the file of {what} ({path.name}) {NOT_A_SCAN}; nothing recorded")
        h.update(head)
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
@when_option(
    "--received-at",
    help="When the library received it, if before now (a letter opened yesterday): the FOIA "
    "clock runs from then",
)
@click.option("--records", required=True, metavar="CLASSES", help=", ".join(RECORD_CLASSES))
@click.option("--patron", "card", metavar="CARD", help="The patron's library card number.")
@click.option("--patron-name", default="", help="Patron's name (stored encrypted).")
@click.option("--patron-address", default="", help="Patron's address (stored encrypted).")
@click.option("--patron-phone", default="", help="Patron's phone (stored encrypted).")
@click.option("--minor", is_flag=True, help="The patron is a minor (R4).")
@click.option(
    "--guardianship",
    type=click.Choice(sorted(GUARDIANSHIP_DOCUMENTS)),
    help="The document seen that confirms the parent or guardian (R4): "
    + "; ".join(f"{k}: {v}" for k, v in GUARDIANSHIP_DOCUMENTS.items())
    + ".",
)
@click.option(
    "--guardianship-note",
    default="",
    metavar="TEXT",
    help="A note on it, recorded after the document (e.g. the name on it matches).",
)
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
        --guardianship birth-certificate --description "fines owed" --as "Sam Staff"
    """
    if o["guardianship_note"].strip() and not o["guardianship"]:
        raise click.UsageError("--guardianship-note is a note on --guardianship DOCUMENT")
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
        guardianship=guardianship_text(o["guardianship"], o["guardianship_note"]),
        footage=o["footage"],
        case_number=o["case_number"],
        received_at=o["received_at"].start(ctx.zone()) if o["received_at"] else None,
        actor=o["actor"],
    )
    view = ctx.ledger().request_view(ref)
    if o["as_json"]:
        emit_json({"ref": ref, "routed_to": view["routed_to"], "foia": view["foia"]})
        return
    echo(ref)
    info(f"Opened {ref}; routed to the Director ({view['routed_to']}).")
    if view["foia"]:
        due = sitetime.show(view["foia"]["due_at"], ctx.zone())
        info(f"FOIA: respond by {due} (5 ILCS 140/3(d)).")


SCOPE_CLASSES = (*RECORD_CLASSES, "non_patron")


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
@click.option("--scope-patron", "scope_patrons", multiple=True, metavar="CARD",
              help="A card number the order names (repeat).")  # fmt: skip
@click.option("--scope-records", multiple=True, type=click.Choice(SCOPE_CLASSES),
              help="A record class the order covers (repeat).")  # fmt: skip
@click.option("--scope-fields", default="", help="Fields the order names. " + FIELDS_HELP)
@click.option("--scope-from", type=DAY, default=None, help="First date of the records covered.")
@click.option("--scope-to", type=DAY, default=None, help="Last date (inclusive).")
@click.option("--exclude-records", multiple=True, type=click.Choice(SCOPE_CLASSES),
              help="A record class the order expressly excludes (repeat).")  # fmt: skip
@click.option("--exclude-fields", default="", help="Fields it expressly excludes.")
@click.option("--scope-note", default="", help="The order's own words on its scope (a note).")
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
    """Record a court order, warrant or subpoena, its document's SHA-256 (R6) and its
    scope as the document states it (R7): the patrons, record classes and fields, dates
    and exclusions every release is then checked against, patron by patron and field by
    field.

    \b
    Example:
      custodes request court-order R-2026-0001 --kind order --signed-by-judge \
        --court "Champaign County Circuit Court" --judge "Hon. A. Judge" --case 2026-CF-123 \
        --issued 2026-11-01T09:00 --served-at 2026-11-02T10:00 \
        --served-by "Det. Ray, #42, Mahomet PD" --scope-patron 2100012345 \
        --scope-records registration --exclude-records circulation \
        --scope-from 2026-10-01 --scope-to 2026-10-31 --document order.pdf --as "Dana Director"
    """
    from ledger.disclosure_intake import OrderScope

    doc: Path = o["document"]
    sha = sha256_of(doc, "the document")
    scope = OrderScope(
        patron_cards=o["scope_patrons"],
        records=o["scope_records"],
        fields=csv_list(o["scope_fields"], param="--scope-fields"),
        date_from=o["scope_from"],
        date_to=o["scope_to"],
        exclude_records=o["exclude_records"],
        exclude_fields=csv_list(o["exclude_fields"], param="--exclude-fields"),
    )
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
        scope=scope,
        scope_note=o["scope_note"],
        document_name=doc.name,
        document_sha256=sha,
        actor=o["actor"],
        nondisclosure=o["nondisclosure"],
    )
    info(f"Recorded the {o['kind']} on {ref.strip().upper()} (document sha256 {sha}).")
    info(f"Next: the Director decides: custodes request decide {ref.strip().upper()} --approve ...")


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
        f"FOIA clock of {ref.strip().upper()} extended: respond by {sitetime.show(due, ctx.zone())} "
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
    info(f"Counsel found the order on {ref.strip().upper()} {result}.")


@request_group.command("emergency")
@click.argument("ref")
@click.option(
    "--signed-form",
    type=click.Path(path_type=Path),
    required=True,
    help="The scan of the Appendix 9 form the officer completed and signed.",
)
@click.option("--officer-name", required=True, help="As on the signed form.")
@click.option("--officer-rank", default="")
@click.option("--badge", "badge_number", required=True, help="Badge or ID number, as on the form.")
@click.option("--agency", required=True)
@click.option("--agency-phone", default="")
@click.option("--id-examined/--id-not-examined", default=None, required=True)
@click.option("--sworn-officer", is_flag=True, help="Ticked on the form (R8).")
@click.option("--court-order-impractical", is_flag=True, help="Ticked on the form (R8).")
@click.option("--imminent-danger", is_flag=True, help="Ticked on the form (R8).")
@click.option("--identification-purpose", is_flag=True, help="Ticked on the form (R8).")
@click.option("--role-sought", type=click.Choice(ROLES_SOUGHT), help="Who is to be identified.")
@click.option("--description", "emergency_description", required=True, help="The emergency.")
@actor_option
@pass_ctx
def request_emergency(ctx: Context, ref: str, signed_form: Path, **o: Any) -> None:
    """Record the officer's signed Officer's Request for Confidential Information (Appendix
    9, R8-R10), transcribed from its scan: print it first with `custodes request form`,
    the officer completes and signs it, then record it here. Only then may the Director
    decide. All four representations are required; fields an emergency request may not
    obtain are refused here, by name.

    \b
    Example:
      custodes request emergency R-2026-0001 --signed-form appendix9-signed.pdf \
        --officer-name "Lee Officer" --badge 4471 --agency "Mahomet PD" --id-examined \
        --sworn-officer --court-order-impractical --imminent-danger --identification-purpose \
        --role-sought suspect --description "threat made at the library today" --as "Sam Staff"
    """
    from projections.appendix9 import printed_sha256

    sha = sha256_of(signed_form, "the signed form")
    ledger = ctx.ledger()
    view = ledger.record_emergency(
        ref,
        signed_form_sha256=sha,
        signed_form_name=signed_form.name,
        printed_form_sha256=printed_sha256(ledger.appendix9_form(ref)),
        **o,
    )
    for refused in view["emergency"]["refused_at_intake"]:
        info(f"Refused at intake: {refused['field']}: {refused['rule_id']}: {refused['reason']}")
    info(f"Recorded the signed Appendix 9 on {ref.strip().upper()}; the Director decides next.")


@request_group.command("form")
@click.argument("ref")
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The PDF to write (0600; never over a file without --force).",
)
@force_option
@actor_option
@pass_ctx
def request_form(ctx: Context, ref: str, out: Path, force: bool, actor: str) -> None:
    """Print Appendix 9, the Officer's Request for Confidential Information, prefilled (R10).

    The Director, counsel and the member who took the request in may print it; each
    printing is recorded (R27).

    \b
    Example:
      custodes request form R-2026-0001 --out R-2026-0001-appendix9.pdf --as "Dana Director"
    """
    from projections.appendix9 import render_appendix9

    check_destination(out, force=force)
    ledger = ctx.ledger()
    ref = ledger.request_for(ref, actor=actor, action="request form")  # no existence oracle
    render_appendix9(ledger.read_appendix9(ref, actor=actor), out, force=force)
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
    reading is recorded (R27). To anyone else a request answers as one that does not
    exist (their attempt recorded), so trying references tells nothing.

    \b
    Example:
      custodes request show R-2026-0001 --json --as "Dana Director"
    """
    from cli.request_record import request_record

    ledger = ctx.ledger()
    ref = ledger.request_for(ref, actor=actor, action="request show")  # no existence oracle
    view = ledger.read_request(ref, actor=actor, detail="json" if as_json else "text")
    if as_json:
        emit_json(view)
        return
    echo("\n".join(request_record(view, ctx.zone())))


@request_group.command("list")
@json_option
@actor_option
@pass_ctx
def request_list(ctx: Context, as_json: bool, actor: str) -> None:
    """The requests you may list, from the disclosure register: every request for the
    Director, the Business Manager and counsel; for other staff, the requests they took
    in themselves (recorded under their key).

    \b
    Example:
      custodes request list --json
    """
    from projections.disclosures import listed_requests

    rows = listed_requests(ctx.ledger(), actor)
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
        request_decision.request_record_package,
        request_decision.request_follow_up,
    ):
        request_group.add_command(command)
    report_group.add_command(report_disclosures)
    patron.register(group)
