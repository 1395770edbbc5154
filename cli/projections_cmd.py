"""custodes projections ...: the read models kept from the log."""

from __future__ import annotations

import os
import sys
import time

import click

from cli.common import Context, emit_json, info, json_option, pass_ctx


@click.group("projections")
def projections_group() -> None:
    """Read models (retention state, access log, refusals, ...).

    \b
    Example:
      custodes projections rebuild
    """


@projections_group.command("rebuild")
@click.option(
    "--workers",
    type=click.IntRange(0, 64),
    default=2,
    show_default=True,
    help="With --processes 1: processes that decrypt and decode events for the one "
    "writer (0: the writer itself).",
)
@click.option(
    "--processes",
    type=click.IntRange(1, 64),
    default=lambda: min(2, os.cpu_count() or 1),
    show_default="2, or 1 on one CPU",
    help="Rebuild the read models in this many processes, each a group of about equal "
    "work that reads and decodes its own events (--workers then unused); 1: one writer "
    "with --workers decoders. More than 2 gains little: retention alone is about half of it. "
    "On SQLite every group but one writes into a scratch file beside the database "
    "(ledger.sqlite.rebuild-N), merged into it at the end.",
)
@click.option(
    "--batch",
    type=click.IntRange(1),
    default=None,
    show_default="30,000 on SQLite, 10,000 on PostgreSQL",
    help="Events written per transaction (one tracking update each).",
)
@click.option(
    "--restart",
    is_flag=True,
    help="Drop and rebuild from the start even if a rebuild was begun (or its mark is "
    "reported forged).",
)
@click.option(
    "--seal-at-end",
    is_flag=True,
    help="Seal each read model once at the end from a scan of its tables instead of "
    "batch by batch: about 1.5x less CPU in the writer, but rows written by anyone else "
    "during the rebuild (or while it stood killed) are sealed with it (R29). Commands "
    "refuse the read models until it has finished.",
)
@json_option
@pass_ctx
def projections_rebuild(
    ctx: Context,
    workers: int,
    processes: int,
    batch: int | None,
    restart: bool,
    seal_at_end: bool,
    as_json: bool,
) -> None:
    """Drop every read model and rebuild it from the whole log; the result equals the
    incrementally kept one.

    Resumable: stopped part-way (killed, power lost), the read models stay at the last
    batch written (on SQLite some in scratch files beside the database, kept for the
    resume) and running the command again carries on from there. The mark that
    says so is sealed (R29): a mark written with plain SQL is exit 3, nothing dropped;
    --restart rebuilds from the start whatever the mark says.

    \b
    Example:
      custodes projections rebuild
      custodes projections rebuild --json
      custodes projections rebuild --processes 1 --workers 2
      custodes projections rebuild --restart
    """
    from projections.base import Views, rebuild_lock
    from projections.registry import all_projections

    ledger = ctx.ledger()
    views = Views(ledger, all_projections())
    try:
        resumed = not restart and views.rebuilding()
        with rebuild_lock(views.engine):
            pass  # another rebuild running: refused now, before the progress bar shows
    except BaseException:
        views.close()
        raise
    total = ledger.recorder.max_notification_id() or 0
    remaining = total - min((views.position(p) for p in views.projections), default=0)
    t0 = time.perf_counter()
    try:
        if as_json:
            read = views.rebuild(
                workers=workers,
                batch=batch,
                restart=restart,
                seal_at_end=seal_at_end,
                processes=processes,
            )
        else:
            bar = click.progressbar(
                length=remaining if resumed else total,
                label="Rebuilding",
                file=sys.stderr,
                show_eta=True,
                show_percent=True,
                show_pos=True,
            )
            with bar:
                read = views.rebuild(
                    progress=bar.update,
                    workers=workers,
                    batch=batch,
                    restart=restart,
                    seal_at_end=seal_at_end,
                    processes=processes,
                )
    finally:
        views.close()
    seconds = time.perf_counter() - t0
    names = [p.name for p in views.projections]
    if as_json:
        emit_json(
            {
                "read_models": names,
                "events": read,
                "resumed": resumed,
                "processes": views.rebuilt_by,
                "seconds": round(seconds, 3),
            }
        )
        return
    how = "resumed, " if resumed else ""
    info(
        f"Rebuilt {len(names)} read models ({', '.join(names)}) from {read} events in "
        f"{views.rebuilt_by} process{'es' if views.rebuilt_by != 1 else ''} "
        f"({how}{seconds:.1f} s)."
    )


def register(group: click.Group) -> None:
    group.add_command(projections_group)
