"""custodes request decide / release / acknowledge / follow-up: the Director's decision
and what follows it (R2-R4, R7, R9-R11)."""

from __future__ import annotations

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
    table,
)
from cli.request import FIELDS_HELP, csv_list, sha256_of
from cli.when import DAY


@click.command("decide")
@click.argument("ref")
@click.option("--approve/--deny", default=None, required=True, help="The decision.")
@click.option("--reason", required=True, help="Why (recorded, in the register).")
@actor_option
@json_option
@pass_ctx
def request_decide(
    ctx: Context, ref: str, approve: bool, reason: str, actor: str, as_json: bool
) -> None:
    """The Director's decision, with reasons; the policy names the rule for each field.

    \b
    Example:
      custodes request decide R-2026-0001 --approve --reason "emergency path met" \\
        --as "Dana Director"
    """
    decision = ctx.ledger().decide(ref, approve=approve, reason=reason, actor=actor)
    if as_json:
        emit_json(decision)
        return
    table(
        ["field", "decision", "rule", "reason"],
        [
            (d["field"], "may release" if d["allowed"] else "refused", d["rule_id"], d["reason"])
            for d in decision["decisions"]
        ],
    )
    verdict = "Approved" if approve else "Denied"
    info(
        f"{verdict} {ref.strip().upper()}: releasable: {', '.join(decision['allowed_fields']) or 'none'}"
    )


@click.command("release")
@click.argument("ref")
@click.option("--fields", default="", help=FIELDS_HELP)
@click.option("--footage", multiple=True, metavar="SEGMENT", help="Segment released (repeat).")
@click.option("--to", "to", required=True, help="Recipient.")
@click.option(
    "--badge", default="", help="The officer's badge (emergency path: must match the form)."
)
@click.option("--method", required=True, help="How (in person, sealed envelope, export...).")
@click.option("--records-from", type=DAY, default=None, help="Dates of the records released.")
@click.option("--records-to", type=DAY, default=None, help="(inclusive; court orders: R7).")
@actor_option
@json_option
@pass_ctx
def request_release(ctx: Context, ref: str, **o: Any) -> None:
    """Record exactly what was released, to whom and how, with hashes (R7, R9, R10).

    Under a court order each field is checked against the order's patrons, classes,
    fields, exclusions and dates; on an emergency request only to the officer of the
    signed form (--badge), in person.

    \b
    Example:
      custodes request release R-2026-0001 --fields name,address --to "Lee Officer" \
        --badge 4471 --method "in person" --as "Dana Director"
    """
    period = None
    if o["records_from"] or o["records_to"]:
        if not (o["records_from"] and o["records_to"]):
            raise click.UsageError("give both --records-from and --records-to")
        period = (o["records_from"], o["records_to"])
    released = ctx.ledger().release(
        ref,
        fields=csv_list(o["fields"], param="--fields"),
        footage=o["footage"],
        to=o["to"],
        badge=o["badge"],
        method=o["method"],
        period=period,
        actor=o["actor"],
    )
    if o["as_json"]:
        emit_json(released)
        return
    what = ", ".join(released["fields"] + [s["segment_id"] for s in released["footage"]])
    info(
        f"Released on {ref.strip().upper()}: {what} (inventory sha256 {released['inventory_sha256']})."
    )


@click.command("acknowledge")
@click.argument("ref")
@click.option(
    "--signed-receipt",
    type=click.Path(path_type=Path),
    required=True,
    help="The scan of the receipt the recipient signed.",
)
@click.option(
    "--release",
    "releases",
    type=click.IntRange(min=1),
    multiple=True,
    help="A release the receipt is of, by number (repeat). Default: the releases waiting "
    "for a receipt that went to the recipient of the first of them.",
)
@actor_option
@pass_ctx
def request_acknowledge(
    ctx: Context, ref: str, signed_receipt: Path, releases: tuple[int, ...], actor: str
) -> None:
    """Record the recipient's signed receipt of what was released (its SHA-256; R10).
    Each release has its own receipt.

    \b
    Example:
      custodes request acknowledge R-2026-0001 --signed-receipt receipt.pdf --as "Dana Director"
      custodes request acknowledge R-2026-0001 --signed-receipt ray.pdf --release 2 --as "Sam Staff"
    """
    from ledger.release_rules import release_numbers

    sha = sha256_of(signed_receipt, "the signed receipt")
    covered = ctx.ledger().acknowledge(
        ref, signed_receipt_sha256=sha, actor=actor, releases=releases
    )
    info(f"Recorded the signed receipt of {release_numbers(covered)} on {ref.strip().upper()}.")


@click.command("record")
@click.argument("ref")
@click.option(
    "--to",
    "to",
    required=True,
    type=click.Path(path_type=Path),
    help="New (or empty) directory for the record (never a symbolic link).",
)
@click.option(
    "--release",
    "number",
    type=click.IntRange(min=1),
    default=None,
    help="Which release of the request (1, 2, ... as `request show` lists them; default: the last).",
)
@actor_option
@json_option
@pass_ctx
def request_record_package(
    ctx: Context, ref: str, to: Path, number: int | None, actor: str, as_json: bool
) -> None:
    """Write the disclosure record of a release, for the officer or court that received
    it: verifiable without Custodes (R7, R21).

    The record is the release as the ledger holds it: the request, its legal basis with
    the SHA-256 of the signed court order or Appendix 9 form, the Director's decision, and
    which fields were released, to whom, how and when (field names, never their values).
    It is recorded in the ledger under an id derived from its digest and handed over with
    its inclusion proof, a signed checkpoint, the public key, README.txt, verify.py,
    SHA256SUMS and its signature. The Director, the Business Manager or the member who
    recorded the release issues it; each record issued is recorded.

    \b
    Example:
      custodes request record R-2026-0001 --to ./record-R-2026-0001 --as "Dana Director"
      python3 -I ./record-R-2026-0001/verify.py      # what the recipient runs
    """
    from cli.proofs import signing_passphrase
    from ledger.record_package import write_disclosure_record

    ledger = ctx.ledger()
    key = ctx.datadir().signing_key(signing_passphrase(ctx))
    result = write_disclosure_record(
        ledger, ref, to=to, actor=actor, signing_key=key, release=number
    )
    release = result.record["release"]
    if as_json:
        emit_json(
            {
                "path": result.path,
                "request": result.record["request"]["ref"],
                "release": release["number"],
                "event_position": result.event_position,
                "checkpoint_size": result.checkpoint_size,
                "record": result.record,
            }
        )
        return
    info(
        f"Wrote the disclosure record of release {release['number']} of "
        f"{result.record['request']['ref']} (to {release['to']}) to {result.path}; it is entry "
        f"{result.event_position} of the signed checkpoint ({result.checkpoint_size} entries). "
        "The recipient checks it with README.txt."
    )


@click.command("follow-up")
@click.argument("ref")
@click.option("--court-order", "court_order_request", metavar="OTHER_REQ", help="Later order.")
@click.option("--judicial-review-sought", is_flag=True, help="Judicial review was sought.")
@click.option("--closed", is_flag=True, help="Close without either (needs --reason).")
@click.option("--reason", default="", help="Why.")
@actor_option
@pass_ctx
def request_follow_up(ctx: Context, ref: str, **o: Any) -> None:
    """Resolve the follow-up an emergency release opened (Director only; R11).

    \b
    Example:
      custodes request follow-up R-2026-0001 --court-order R-2026-0004 --as "Dana Director"
    """
    ctx.ledger().resolve_follow_up(ref, **o)
    info(f"Resolved the follow-up on {ref.strip().upper()}.")
