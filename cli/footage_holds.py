"""custodes footage hold ...: holds that block purge (R14)."""

from __future__ import annotations

import click

from cli.common import Context, actor_option, emit_json, info, json_option, pass_ctx, table
from cli.output import echo
from cli.when import when_option
from ledger import sitetime
from ledger.footage import HOLD_KINDS
from ledger.sitetime import TypedTime
from ledger.text import counted


@click.group("hold")
def hold_group() -> None:
    """Holds block purge: legal, law-enforcement preservation, investigation, FOIA (R14).

    \b
    Example:
      custodes footage hold place 34c20c33a713 --kind legal --reason "litigation" --reference "2026-L-114" --as "Dana Director"
      custodes footage hold list
    """


@hold_group.command("place")
@click.argument("segments", nargs=-1, required=True)
@click.option("--kind", type=click.Choice(HOLD_KINDS), required=True, help="Kind of hold.")
@click.option("--reason", required=True, help="Why (recorded).")
@click.option("--reference", required=True, help="Case, order or request number.")
@when_option("--review-by", help="Review the hold by the end of this day")
@actor_option
@pass_ctx
def hold_place(
    ctx: Context,
    segments: tuple[str, ...],
    kind: str,
    reason: str,
    reference: str,
    review_by: TypedTime | None,
    actor: str,
) -> None:
    """Hold segments from purge; prints the hold id on stdout.

    \b
    Example:
      custodes footage hold place 34c20c33a713 9f1e0b2c4d5a --kind law_enforcement_preservation --reason "preservation letter" --reference "CPD 26-4411" --as "Dana Director"
    """
    hold_id = ctx.ledger().place_hold(
        list(segments),
        kind=kind,
        reason=reason,
        reference=reference,
        review_by=review_by.last_instant(ctx.zone()) if review_by is not None else None,
        actor=actor,
    )
    echo(hold_id)
    info(f"Placed hold {hold_id} ({kind}) on {counted(len(segments), 'segment')}.")


@hold_group.command("release")
@click.argument("hold_id")
@click.option("--reason", required=True, help="Why the hold ends (recorded).")
@actor_option
@pass_ctx
def hold_release(ctx: Context, hold_id: str, reason: str, actor: str) -> None:
    """Release a hold (Director only, with a reason).

    \b
    Example:
      custodes footage hold release H-1A2B3C4D --reason "case closed" --as "Dana Director"
    """
    ctx.ledger().release_hold(hold_id, reason=reason, actor=actor)
    info(f"Released hold {hold_id.upper()}.")


@hold_group.command("list")
@click.option("--active", is_flag=True, help="Only holds not yet released.")
@json_option
@actor_option
@pass_ctx
def hold_list(ctx: Context, active: bool, as_json: bool, actor: str) -> None:
    """List holds.

    \b
    Example:
      custodes footage hold list --active
    """
    from projections.registry import read_views
    from projections.retention import hold_rows

    rows = read_views(ctx.ledger(), lambda conn: hold_rows(conn, active_only=active), checked=True)
    if as_json:
        emit_json(rows)
        return
    zone = ctx.zone()
    table(
        ["hold", "kind", "reference", "segments", "placed", "by", "review by", "released"],
        [
            (
                h.hold_id,
                h.kind,
                h.reference,
                h.segment_count,
                sitetime.show(h.placed_at, zone),
                h.placed_by,
                sitetime.show_date(h.review_by, zone),
                sitetime.show(h.released_at, zone),
            )
            for h in rows
        ],
    )
