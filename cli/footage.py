"""custodes footage ...: ingest, list, flag, view (R12-R16). The hold commands are in
``cli.footage_holds``, custodes report access in ``cli.footage_access``."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from capture.errors import CaptureError
from cli.common import (
    Context,
    actor_option,
    emit_json,
    info,
    json_option,
    pass_ctx,
    remote_session,
    table,
    wraps,
)
from cli.output import echo, force_option
from cli.report import report_group
from cli.reports import as_of_option, parse_as_of
from cli.when import when_option
from ledger import sitetime
from ledger.footage_policy import PURPOSES
from ledger.sitetime import TypedTime
from ledger.text import counted, printable
from projections.retention import STATUSES

PURPOSE_CHOICES = sorted(PURPOSES)


@contextmanager
def capture_errors() -> Iterator[None]:
    """Capture errors already name the file and the fix: one line, exit 1."""
    try:
        yield
    except CaptureError as e:
        raise click.ClickException(str(e)) from e
    except OSError as e:  # a full disk, a read-only folder: one line, not a traceback
        where = f"{e.filename}: " if e.filename else ""
        raise click.ClickException(printable(f"{where}{e.strerror or e}")) from e


def with_capture_errors(f: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(f)
    def run(*args: Any, **kwargs: Any) -> Any:
        with capture_errors():
            return f(*args, **kwargs)

    return run


def audit_footage(ledger: Any) -> list[Any]:
    """The vault audited against the ledger (``capture.audit``): stored segments whose
    file or key is gone with no purge in progress, and not recorded as such yet."""
    from capture.audit import unrecorded_findings
    from projections.registry import read_views
    from projections.retention import stored_segments

    return unrecorded_findings(ledger, read_views(ledger, stored_segments))


def copy_findings(ledger: Any) -> list[str]:
    """Viewing copies that should not exist (R16b): files in viewing/ the ledger does not
    hold as live copies, and tracked copies still present after their session ended."""
    from capture.viewing import stray_copies
    from projections.access import live_copies
    from projections.registry import read_views

    live = read_views(ledger, live_copies)
    now = ledger.clock()
    out = [
        f"stray viewing copy {p}: no viewing recorded it (FOOTAGE-VIEWING-COPY); the next "
        "retention sweep removes it"
        for p in stray_copies(ledger, live)
    ]
    out += [
        f"viewing copy {c.path} of segment {c.segment_id} outlived its session "
        "(FOOTAGE-VIEWING-COPY); the next retention sweep destroys it"
        for c in live
        if c.until <= now and Path(c.path).exists()
    ]
    return out


@click.group("footage")
def footage_group() -> None:
    """Footage segments: ingest, list, flag, hold, view.

    \b
    Example:
      custodes footage ingest /srv/exports/lobby-1/ --camera lobby-1 --as "Sam Staff"
      custodes footage list --status due
    """


@footage_group.command("ingest")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--camera", required=True, help="Registered camera the footage comes from.")
@when_option(
    "--recorded-at",
    help="Recording start (one file only); else container metadata, else the file name",
)
@click.option("--keep-source", is_flag=True, help="Leave the source files in place.")
@actor_option
@json_option
@pass_ctx
@with_capture_errors
def footage_ingest(
    ctx: Context,
    paths: tuple[Path, ...],
    camera: str,
    recorded_at: TypedTime | None,
    keep_source: bool,
    actor: str,
    as_json: bool,
) -> None:
    """Probe, hash, encrypt and record segment files (or every file in a folder).

    Footage with audio is refused (CAMERA-NO-AUDIO) and the refusal recorded; content
    already recorded is reported, not duplicated. Exits 1 if any file was refused.

    \b
    Example:
      custodes footage ingest lobby-1_20261101T083000Z.mp4 --camera lobby-1 --as "Sam Staff"
      custodes footage ingest /srv/exports/lobby-1/ --camera lobby-1 --as "Sam Staff"
    """
    from capture.ingest import ingest_paths, segment_files

    ledger = ctx.ledger()
    start = recorded_at.start(ctx.zone()) if recorded_at is not None else None
    ledger.check_capture(camera, actor=actor)  # before any progress output
    count = len(segment_files(paths))
    with click.progressbar(length=count, label="Ingesting", file=sys.stderr) as bar:
        summary = ingest_paths(
            ledger,
            list(paths),
            camera=camera,
            actor=actor,
            recorded_at=start,
            keep_source=keep_source,
            progress=lambda _p: bar.update(1),
        )
    if as_json:
        emit_json(summary.outcomes)
    for o in summary.outcomes:
        if o.status != "refused":
            info(o.message)
    info(
        f"{summary.count('ingested')} ingested, {summary.count('recovered')} recorded after "
        f"interruption, {summary.count('duplicate')} already recorded, "
        f"{len(summary.refused)} refused."
    )
    if summary.refused:
        for o in summary.refused:
            info(f"refused: {o.message}")
        raise click.ClickException(f"{counted(len(summary.refused), 'file')} refused; see above")


@footage_group.command("list")
@click.option("--status", type=click.Choice(STATUSES), default=None, help="Only this status.")
@click.option("--camera", default=None, help="Only this camera.")
@click.option("--limit", type=click.IntRange(1), default=None, help="At most this many.")
@as_of_option
@json_option
@actor_option
@pass_ctx
def footage_list(
    ctx: Context,
    status: str | None,
    camera: str | None,
    limit: int | None,
    as_of: TypedTime | None,
    as_json: bool,
    actor: str,
) -> None:
    """List segments with their retention status (from the retention read model).

    \b
    Example:
      custodes footage list --status due
      custodes footage list --camera lobby-1 --json
      custodes footage list --as-of 2026-11-05T12:00:00Z
    """
    from projections.retention import listed_segments

    when = parse_as_of(ctx, as_of)
    now = when or ctx.now()
    # checked against the seals (R29); a typo'd camera is named (Did you mean ...?)
    rows = listed_segments(ctx.ledger(), now, status=status, camera=camera, limit=limit, as_of=when)
    if as_json:
        emit_json(rows)
        return
    zone = ctx.zone()
    table(
        ["segment", "camera", "recorded", "kept", "kept until", "status", "holds", "flags"],
        [
            (
                r.segment_id,
                r.camera_id,
                sitetime.show(r.recorded_start, zone),
                f"{r.retention_days} days",
                "until flag cleared" if r.keep_until is None else sitetime.show(r.keep_until, zone),
                r.status,
                ",".join(r.holds),
                ",".join(r.flags),
            )
            for r in rows
        ],
    )


@footage_group.command("flag")
@click.argument("segment")
@click.option("--incident", required=True, help="The incident it is kept for (recorded).")
@click.option("--reason", required=True, help="The suspected misbehavior seen (recorded).")
@when_option("--until", help="Keep through this day (at most 90 days ahead; default 90 days)")
@click.option(
    "--not-staff-monitoring",
    default=None,
    metavar="TEXT",
    help="Director: why a reason that names staff is not staff monitoring (recorded).",
)
@actor_option
@pass_ctx
def footage_flag(
    ctx: Context,
    segment: str,
    incident: str,
    reason: str,
    until: TypedTime | None,
    not_staff_monitoring: str | None,
    actor: str,
) -> None:
    """Flag a segment for a named incident of suspected misbehavior: it is kept past its
    deadline until the flag's end, at most 90 days ahead (R13; the Director extends it).

    \b
    Example:
      custodes footage flag 34c20c33a713 --incident "IR-2026-114 wallet theft" --reason "theft at the front desk" --until 2027-01-15 --as "Sam Staff"
    """
    flag_id = ctx.ledger().flag(
        segment,
        incident=incident,
        reason=reason,
        retain_until=until.last_instant(ctx.zone()) if until is not None else None,
        not_staff_monitoring=not_staff_monitoring,
        actor=actor,
    )
    info(f"Flagged segment {segment} as {flag_id}.")


@footage_group.command("extend-flag")
@click.argument("segment")
@click.argument("flag_id")
@when_option("--until", help="Keep through this day (at most 90 days ahead)", required=True)
@click.option("--reason", required=True, help="Why the incident needs the footage longer.")
@actor_option
@pass_ctx
def footage_extend_flag(
    ctx: Context, segment: str, flag_id: str, until: TypedTime, reason: str, actor: str
) -> None:
    """Keep flagged footage longer (Director only, recorded; R13).

    \b
    Example:
      custodes footage extend-flag 34c20c33a713 F-1A2B3C4D --until 2027-03-01 --reason "trial set for February" --as "Dana Director"
    """
    ctx.ledger().extend_flag(
        segment, flag_id, until=until.last_instant(ctx.zone()), reason=reason, actor=actor
    )
    info(f"Extended flag {flag_id.upper()} on segment {segment}.")


@footage_group.command("unflag")
@click.argument("segment")
@click.argument("flag_id")
@click.option("--reason", required=True, help="Why the flag is cleared (recorded).")
@actor_option
@pass_ctx
def footage_unflag(ctx: Context, segment: str, flag_id: str, reason: str, actor: str) -> None:
    """Clear a flag (Director or Business Manager); the segment's deadline applies again.

    \b
    Example:
      custodes footage unflag 34c20c33a713 F-1A2B3C4D --reason "no incident" --as "Dana Director"
    """
    ctx.ledger().clear_flag(segment, flag_id, reason=reason, actor=actor)
    info(f"Cleared flag {flag_id.upper()} on segment {segment}.")


def _view_options(f: Callable[..., Any]) -> Callable[..., Any]:
    f = click.option("--remote", is_flag=True, help="Viewed from outside the library.")(f)
    f = click.option(
        "--purpose",
        type=click.Choice(PURPOSE_CHOICES),
        default="other",
        show_default=True,
        help="Purpose of the viewing (R16a: never staff monitoring).",
    )(f)
    f = click.option(
        "--not-staff-monitoring",
        default=None,
        metavar="TEXT",
        help="Director: why a reason that names staff is not staff monitoring (recorded).",
    )(f)
    # Not required by the command line: an attempt without a reason is refused by the
    # ledger AND recorded (R16).
    return click.option("--reason", default="", help="Why you view it (required, recorded).")(f)


@footage_group.command("view")
@click.argument("segment")
@_view_options
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Copy to write (0600; never over a file without --force).",
)
@force_option
@actor_option
@pass_ctx
@with_capture_errors
def footage_view(
    ctx: Context,
    segment: str,
    reason: str,
    purpose: str,
    remote: bool,
    not_staff_monitoring: str | None,
    out: Path | None,
    force: bool,
    actor: str,
) -> None:
    """Write a decrypted viewing copy and record the viewing and the copy (R16, R16b).
    Every recorded segment is archived footage: only the Director and the Business
    Manager view it; a refused attempt, one without a reason too, is recorded. The copy
    lives for one viewing session (2 hours): destroy it with `custodes footage done`, else
    the retention sweep does, and before the segment's purge at the latest.

    \b
    Example:
      custodes footage view 34c20c33a713 --reason "patron reported a fall" --purpose safety --as "Dana Director"
      custodes footage done 34c20c33a713 --as "Dana Director"
    """
    from capture.viewing import view_segment

    result = view_segment(
        ctx.ledger(),
        segment,
        reason=reason,
        purpose=purpose,
        remote=remote_session(remote),
        out=out,
        actor=actor,
        force=force,
        not_staff_monitoring=not_staff_monitoring,
    )
    echo(str(result.path))
    ends = sitetime.show(result.until, ctx.zone()) if result.until else ""
    info(
        f"Viewing copy of segment {result.segment_id} written to {result.path}; when done: "
        f"custodes footage done {result.segment_id} (the sweep destroys it after {ends})."
    )


def _frame_time(_ctx: click.Context, _param: click.Parameter, value: float) -> float:
    from capture.viewing import check_frame_time
    from ledger.errors import InvalidInput

    try:
        return check_frame_time(value)
    except InvalidInput:
        raise click.BadParameter(
            f"{value} is not a time in the clip: give seconds as a number from 0, e.g. 12.5"
        ) from None


@footage_group.command("frame")
@click.argument("segment")
@click.option(
    "--at",
    "at_seconds",
    type=float,
    callback=_frame_time,
    required=True,
    help="Seconds into the clip (a number from 0).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    required=True,
    help="PNG to write (0600; never over a file without --force).",
)
@force_option
@_view_options
@actor_option
@pass_ctx
@with_capture_errors
def footage_frame(
    ctx: Context,
    segment: str,
    at_seconds: float,
    out: Path,
    force: bool,
    reason: str,
    purpose: str,
    remote: bool,
    not_staff_monitoring: str | None,
    actor: str,
) -> None:
    """Save one still as PNG; recorded as a viewing and a tracked copy like `footage view`.

    \b
    Example:
      custodes footage frame 34c20c33a713 --at 12.5 --out still.png --reason "identify the vehicle" --purpose incident_investigation --as "Dana Director"
    """
    from capture.viewing import frame_of_segment

    result = frame_of_segment(
        ctx.ledger(),
        segment,
        at_seconds=at_seconds,
        out_png=out,
        reason=reason,
        purpose=purpose,
        remote=remote_session(remote),
        actor=actor,
        force=force,
        not_staff_monitoring=not_staff_monitoring,
    )
    echo(str(result.path))
    info(f"Still of segment {result.segment_id} at {at_seconds:g} s written to {result.path}.")


@footage_group.command("done")
@click.argument("segment")
@actor_option
@pass_ctx
@with_capture_errors
def footage_done(ctx: Context, segment: str, actor: str) -> None:
    """End a viewing: destroy the segment's viewing copies and stills, recorded (R16b).

    \b
    Example:
      custodes footage done 34c20c33a713 --as "Dana Director"
    """
    from capture.viewing import end_viewing

    done = end_viewing(ctx.ledger(), segment, actor=actor)
    for path in done.removed:
        info(f"Destroyed viewing copy {path}.")
    if done.not_found:
        raise click.ClickException(
            f"{counted(len(done.not_found), 'viewing copy', 'viewing copies')} "
            f"({', '.join(done.not_found)}) not there to destroy: moved or deleted outside "
            "Custodes, so a decrypted copy may survive beyond the ledger's reach; recorded "
            "as not found (FOOTAGE-VIEWING-COPY), and named in the compliance report"
        )


@footage_group.command("copies")
@json_option
@actor_option
@pass_ctx
def footage_copies(ctx: Context, as_json: bool, actor: str) -> None:
    """List the decrypted viewing copies the ledger holds as live, and any stray file in
    viewing/ (R16b).

    \b
    Example:
      custodes footage copies --as "Dana Director"
    """
    from capture.viewing import stray_copies
    from projections.access import live_copies
    from projections.registry import read_views

    ledger = ctx.ledger()
    rows = read_views(ledger, live_copies, checked=True)  # R29: a row gone would hide a copy
    strays = [str(p) for p in stray_copies(ledger, rows)]
    if as_json:
        emit_json({"copies": rows, "strays": strays})
        return
    zone = ctx.zone()
    table(
        ["segment", "copy", "by", "destroyed by"],
        [(r.segment_id, r.path, r.actor, sitetime.show(r.until, zone)) for r in rows],
    )
    for path in strays:
        info(f"stray: {path} is no tracked viewing copy; the next sweep removes it")


def register(group: click.Group) -> None:
    """Footage and the commands that go with it: camera, retention, projections."""
    from cli import camera, footage_access, footage_holds, projections_cmd, retention

    group.add_command(footage_group)
    footage_group.add_command(footage_holds.hold_group)
    report_group.add_command(footage_access.report_access)
    camera.register(group)
    retention.register(group)
    projections_cmd.register(group)
