"""`custodes clock`: this host's clock against the ledger's last recorded act, and the
Director's correction when a clock set ahead has blocked every act (R26)."""

from __future__ import annotations

from datetime import datetime, timedelta

import click

from cli.auth import actor_option
from cli.common import Context, emit_json, info, json_option, pass_ctx
from cli.output import echo
from ledger import sitetime
from ledger.acts import format_time
from ledger.clock import CLOCK_TOLERANCE


@click.group("clock")
def clock_group() -> None:
    """This host's clock against the ledger's last recorded act, and the Director's
    correction when a clock set ahead blocks every act (R26).

    An act is never timed more than 2 minutes before the one preceding it, so one act
    recorded by a clock set ahead blocks every later act. The Director sets its time
    aside with `clock correct`; nothing is rewritten, and `custodes verify` lists every
    correction.

    \b
    Example:
      custodes clock show
      custodes clock correct --reason "front desk PC's clock was a year ahead (ticket 812)"
    """


@clock_group.command("show")
@json_option
@pass_ctx
def clock_show(ctx: Context, as_json: bool) -> None:
    """This host's clock, the ledger's last recorded act, and the acts timed ahead of it;
    on PostgreSQL also the database server's clock, which the retention sweep must agree
    with (within 2 minutes) before it destroys anything.

    Exit 0 when acts can be recorded, 1 when the last act is timed ahead of this clock or
    the database server's clock disagrees with this one.

    \b
    Example:
      custodes clock show --json
    """
    ledger = ctx.ledger()
    state = ledger.clock_state()
    server = _server_offset(ledger.server_time())
    disagrees = server is not None and abs(server[1]) > CLOCK_TOLERANCE
    if as_json:
        emit_json(
            state.to_json()
            | {
                "database_server": None
                if server is None
                else {
                    "now": format_time(server[0]),
                    "offset_seconds": round(server[1].total_seconds(), 3),
                    "agrees": not disagrees,
                }
            }
        )
    else:
        zone = ctx.zone()
        echo(f"this host's clock:    {sitetime.show(state.now, zone, seconds=True)}")
        if server is not None:
            verdict = (
                f"DISAGREES by {abs(server[1])}: the retention sweep will not run until "
                "whichever clock is wrong is corrected"
                if disagrees
                else "agrees with this host's, within 2 minutes"
            )
            echo(
                f"database server's:    {sitetime.show(server[0], zone, seconds=True)} ({verdict})"
            )
        last = sitetime.show(state.last, zone, seconds=True) if state.last else "(no acts yet)"
        echo(f"last recorded act:    {last} (the ledger has {state.head} entries)")
        if not state.blocked:
            echo("acts can be recorded: the last act is not ahead of this clock")
        else:
            echo(
                f"BLOCKED: {len(state.ahead)} act(s) from entry {state.from_position} on were "
                "recorded ahead of this clock; every new act is refused until the clock "
                "reaches them or the Director sets them aside:"
            )
            for position, when in reversed(state.ahead):
                echo(f"  act ending at entry {position}: recorded {sitetime.show(when, zone)}")
            echo('  custodes clock correct --reason "what set the clock ahead"')
    if state.blocked or disagrees:
        click.get_current_context().exit(1)


def _server_offset(
    reading: tuple[datetime, datetime, datetime] | None,
) -> tuple[datetime, timedelta] | None:
    """The database server's time and how far it is from this host's (server minus the
    middle of the two host readings around it); None without a server clock (SQLite)."""
    if reading is None:
        return None
    before, server, after = reading
    return server, server - (before + (after - before) / 2)


@clock_group.command("correct")
@click.option(
    "--reason", required=True, help="What set the clock ahead, and when (recorded, in clear)."
)
@actor_option
@json_option
@pass_ctx
def clock_correct(ctx: Context, reason: str, actor: str, as_json: bool) -> None:
    """Set aside the recorded time of acts a clock set ahead recorded (the Director only).

    Records one act of its own, timed by this host's clock, naming the recorded time it
    sets aside and your reason; the acts keep their entries and their times, and later
    acts are timed from this one. The reason is stored in clear (every verifier sees
    it): no patron details. Check this host's clock first (NTP).

    \b
    Example:
      custodes clock correct --reason "front desk PC's clock was a year ahead (ticket 812)"
    """
    done = ctx.ledger().correct_clock(reason=reason, actor=actor)
    if as_json:
        emit_json(
            {
                "position": done.position,
                "set_aside": done.set_aside.isoformat(),
                "from_position": done.from_position,
                "acts": done.acts,
                "recorded": done.recorded.isoformat(),
            }
        )
        return
    zone = ctx.zone()
    info(
        f"Clock corrected at entry {done.position}: {done.acts} act(s) from entry "
        f"{done.from_position} on, recorded up to {sitetime.show(done.set_aside, zone)}, keep "
        "their times, set aside; acts are timed from "
        f"{sitetime.show(done.recorded, zone)} on. custodes verify lists this correction."
    )


def register(group: click.Group) -> None:
    group.add_command(clock_group)
