"""custodes projections ...: the read models kept from the log."""

from __future__ import annotations

import sys

import click

from cli.common import Context, info, pass_ctx


@click.group("projections")
def projections_group() -> None:
    """Read models (retention state, access log, refusals, ...).

    \b
    Example:
      custodes projections rebuild
    """


@projections_group.command("rebuild")
@pass_ctx
def projections_rebuild(ctx: Context) -> None:
    """Drop every read model and rebuild it from the whole log; the result equals the
    incrementally kept one.

    \b
    Example:
      custodes projections rebuild
    """
    from projections.base import Views
    from projections.registry import all_projections

    ledger = ctx.ledger()
    total = ledger.recorder.max_notification_id() or 0
    views = Views(ledger, all_projections())
    try:
        with click.progressbar(length=total, label="Rebuilding", file=sys.stderr) as bar:
            read = views.rebuild(progress=bar.update)
    finally:
        views.close()
    names = ", ".join(p.name for p in views.projections)
    info(f"Rebuilt {len(views.projections)} read models ({names}) from {read} events.")


def register(group: click.Group) -> None:
    group.add_command(projections_group)
