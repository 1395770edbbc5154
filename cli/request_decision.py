"""custodes request decide / release / acknowledge / follow-up: the Director's decision
and what follows it (R2-R4, R7, R9-R11)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from cli.common import Context, actor_option, emit_json, info, json_option, pass_ctx, table
from cli.request import FIELDS_HELP, csv_list, sha256_of
from ledger.errors import InvalidInput


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
    info(f"{verdict} {ref.upper()}: releasable: {', '.join(decision['allowed_fields']) or 'none'}")


@click.command("release")
@click.argument("ref")
@click.option("--fields", default="", help=FIELDS_HELP)
@click.option("--footage", multiple=True, metavar="SEGMENT", help="Segment released (repeat).")
@click.option("--to", "to", required=True, help="Recipient.")
@click.option("--method", required=True, help="How (in person, sealed envelope, export...).")
@actor_option
@json_option
@pass_ctx
def request_release(ctx: Context, ref: str, **o: Any) -> None:
    """Record exactly what was released, to whom and how, with hashes (R7, R9).

    \b
    Example:
      custodes request release R-2026-0001 --fields name,address --to "Lee Officer #4471" \\
        --method "in person" --as "Dana Director"
    """
    released = ctx.ledger().release(
        ref,
        fields=csv_list(o["fields"], param="--fields"),
        footage=o["footage"],
        to=o["to"],
        method=o["method"],
        actor=o["actor"],
    )
    if o["as_json"]:
        emit_json(released)
        return
    what = ", ".join(released["fields"] + [s["segment_id"] for s in released["footage"]])
    info(f"Released on {ref.upper()}: {what} (inventory sha256 {released['inventory_sha256']}).")


@click.command("acknowledge")
@click.argument("ref")
@click.option("--signed-form", type=click.Path(path_type=Path), help="The signed form's scan.")
@click.option("--refused-to-sign", is_flag=True, help="The recipient refused to sign.")
@actor_option
@pass_ctx
def request_acknowledge(
    ctx: Context, ref: str, signed_form: Path | None, refused_to_sign: bool, actor: str
) -> None:
    """Record the signed acknowledgement of receipt (its SHA-256), or a refusal to sign (R10).

    \b
    Example:
      custodes request acknowledge R-2026-0001 --signed-form signed.pdf --as "Dana Director"
    """
    if (signed_form is None) == (not refused_to_sign):
        raise InvalidInput("give exactly one of --signed-form FILE or --refused-to-sign")
    sha = sha256_of(signed_form, "the signed form") if signed_form else None
    ctx.ledger().acknowledge(
        ref, signed_form_sha256=sha, refused_to_sign=refused_to_sign, actor=actor
    )
    info(f"Recorded the acknowledgement on {ref.upper()}.")


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
    info(f"Resolved the follow-up on {ref.upper()}.")
