"""`custodes clock`: this host's clock against the ledger's last recorded act, and the
Director's correction when a clock set ahead has blocked every act (R26)."""

from __future__ import annotations

import click

from cli.auth import actor_option
from cli.common import Context, emit_json, info, json_option, pass_ctx
from cli.output import echo
from ledger import sitetime


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
    """This host's clock, the ledger's last recorded act, and the acts timed ahead of it.

    Exit 0 when acts can be recorded, 1 when the last act is timed ahead of this clock.

    \b
    Example:
      custodes clock show --json
    """
    state = ctx.ledger().clock_state()
    if as_json:
        emit_json(state.to_json())
    else:
        zone = ctx.zone()
        echo(f"this host's clock:    {sitetime.show(state.now, zone, seconds=True)}")
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
    if state.blocked:
        click.get_current_context().exit(1)


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
