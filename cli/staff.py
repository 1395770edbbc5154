"""custodes staff ... / login / logout: the staff directory and signing in (R3, R23, R25)."""

from __future__ import annotations

from pathlib import Path

import click

from cli.auth import (
    actor_option,
    ask_passphrase,
    authenticate,
    new_passphrase,
    new_passphrase_option,
)
from cli.common import Context, emit_json, info, json_option, pass_ctx, table
from cli.output import echo
from cli.when import WHEN, when_option
from ledger import rules, sitetime
from ledger.sitetime import TypedTime
from ledger.staff import ROLES, staff_id


@click.group("staff")
def staff_group() -> None:
    """Staff members, their roles and their signing keys.

    Each member signs in with their own passphrase; the Director enrols, resets and
    deactivates members, and names an acting Director when she is away.

    \b
    Example:
      custodes staff add "Bo Manager" --role business_manager --as "Dana Director"
      custodes staff list
    """


@staff_group.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True, help="The member's role.")
@new_passphrase_option
@actor_option
@pass_ctx
def staff_add(
    ctx: Context, name: str, role: str, new_passphrase_file: Path | None, actor: str
) -> None:
    """Register a staff member and enrol their signing key (Director only).

    The new member types their own passphrase (twice) at this terminal; it seals their key
    in keys/staff/. The Director's act records the public key, countersigned.

    \b
    Example:
      custodes staff add "Sam Staff" --role staff --as "Dana Director"
    """
    ledger = ctx.ledger()
    # who may, before the new member types a passphrase for nothing (refusals recorded)
    ledger.authorize(
        actor, "add staff members", ("director",), rules.STAFF_KEY_ENROLMENT, subject=name
    )
    passphrase = new_passphrase(new_passphrase_file, name)
    member = ledger.add_staff(name, role, actor=actor, passphrase=passphrase)
    info(f"Added {member.name} as {member.role.replace('_', ' ')}; key {member.key_id}.")


@staff_group.command("list")
@json_option
@actor_option
@pass_ctx
def staff_list(ctx: Context, as_json: bool, actor: str) -> None:
    """List staff members, their roles and keys.

    \b
    Example:
      custodes staff list --json
    """
    members = ctx.ledger().staff()
    if as_json:
        emit_json(members)
        return
    zone = ctx.zone()
    table(
        ["name", "role", "active", "key", "locked out", "added"],
        [
            (
                m.name,
                m.role.replace("_", " "),
                "yes" if m.active else "no",
                m.key_id or "-",
                "LOCKED" if m.locked_out else "",
                sitetime.show_date(m.added_on, zone),
            )
            for m in members
        ],
    )


@staff_group.command("deactivate")
@click.argument("name")
@click.option("--reason", default="", help="Why (recorded).")
@actor_option
@pass_ctx
def staff_deactivate(ctx: Context, name: str, reason: str, actor: str) -> None:
    """Deactivate a staff member (Director only): their key is revoked, their history stays.

    \b
    Example:
      custodes staff deactivate "Sam Staff" --reason "left the library" --as "Dana Director"
    """
    ctx.ledger().deactivate_staff(name, actor=actor, reason=reason)
    info(f"Deactivated {name}; their key is revoked.")


@staff_group.command("reset")
@click.argument("name")
@click.option("--reason", required=True, help="Why (recorded), e.g. 'forgot passphrase'.")
@new_passphrase_option
@actor_option
@pass_ctx
def staff_reset(
    ctx: Context, name: str, reason: str, new_passphrase_file: Path | None, actor: str
) -> None:
    """Give a member a new key and passphrase (Director only); the old key is revoked.

    \b
    Example:
      custodes staff reset "Sam Staff" --reason "forgot passphrase" --as "Dana Director"
    """
    ledger = ctx.ledger()
    ledger.authorize(  # before the member types a new passphrase for nothing
        actor, "reset a member's key", ("director",), rules.STAFF_KEY_ENROLMENT, subject=name
    )
    passphrase = new_passphrase(new_passphrase_file, name)
    member = ledger.reset_staff(name, actor=actor, reason=reason, passphrase=passphrase)
    info(f"{member.name} has a new key {member.key_id}; the old one is revoked.")
    if ctx.datadir().totp_path(staff_id(member.name)).exists():
        info(
            f"{member.name}'s one-time codes for the web were sealed under the old key: the web "
            f'sign-in refuses every code until they run: custodes totp enrol "{member.name}"'
        )


@staff_group.command("passphrase")
@click.option("--as", "actor", envvar="CUSTODES_ACTOR", required=True, metavar="NAME")
@click.option(
    "--passphrase-file",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="CUSTODES_PASSPHRASE_FILE",
    default=None,
    help="For scripts: your current passphrase from FILE (mode 0600).",
)
@new_passphrase_option
@pass_ctx
def staff_passphrase(
    ctx: Context, actor: str, passphrase_file: Path | None, new_passphrase_file: Path | None
) -> None:
    """Change your own passphrase: the current one first, then the new one twice. Your key
    stays the same; the change is recorded.

    \b
    Example:
      custodes staff passphrase --as "Sam Staff"
    """
    from ledger.credentials import read_passphrase_file

    ledger = ctx.ledger()
    current = (
        read_passphrase_file(passphrase_file)
        if passphrase_file is not None
        else ask_passphrase(f"Current passphrase for {actor}")
    )
    signer = ledger.authenticate(actor, current)
    new = new_passphrase(new_passphrase_file, signer.name)
    ledger.change_passphrase(actor=signer.name, current=current, new=new)
    info("Passphrase changed.")


@staff_group.command("unlock")
@click.argument("name")
@click.option("--reason", required=True, help="Why (recorded).")
@actor_option
@pass_ctx
def staff_unlock(ctx: Context, name: str, reason: str, actor: str) -> None:
    """Lift a lockout after repeated wrong passphrases (Director only).

    \b
    Example:
      custodes staff unlock "Sam Staff" --reason "confirmed in person" --as "Dana Director"
    """
    ctx.ledger().clear_lockout(name, reason=reason, actor=actor)
    info(f"{name} may sign in again.")


@staff_group.command("delegate")
@click.argument("name")
@when_option("--from", "start", help="Start (default: now)")
@click.option(
    "--until",
    type=WHEN,
    required=True,
    help="End: the delegation ends by itself then (a date: at the end of that site day).",
)
@click.option(
    "--authority", required=True, help="On whose authority, e.g. 'board minutes 2026-11-18 7'."
)
@actor_option
@pass_ctx
def staff_delegate(
    ctx: Context,
    name: str,
    start: TypedTime | None,
    until: TypedTime,
    authority: str,
    actor: str,
) -> None:
    """Name an acting Director for a period (the Director only; one at a time, R3).

    Every act done under it cites the delegation.

    \b
    Example:
      custodes staff delegate "Bo Manager" --until 2026-12-24 --authority "board minutes 2026-11-18 item 7" --as "Dana Director"
    """
    zone = ctx.zone()
    begin = start.start(zone) if start is not None else ctx.now()
    end = until.last_instant(zone)
    delegation = ctx.ledger().delegate_director(
        name, start=begin, until=end, authority=authority, actor=actor
    )
    info(f"{name} is acting Director until {sitetime.show(end, zone)} (delegation {delegation}).")


@staff_group.command("end-delegation")
@click.argument("name")
@click.option("--reason", required=True, help="Why it ends early (recorded).")
@click.option(
    "--delegation",
    "delegation_id",
    metavar="ID",
    help="Which delegation, when NAME holds more than one still to run (printed when made).",
)
@actor_option
@pass_ctx
def staff_end_delegation(
    ctx: Context, name: str, reason: str, delegation_id: str | None, actor: str
) -> None:
    """End an acting Director's delegation before its time (Director only).

    \b
    Example:
      custodes staff end-delegation "Bo Manager" --reason "back early" --as "Dana Director"
    """
    delegation = ctx.ledger().end_delegation(
        name, reason=reason, actor=actor, delegation_id=delegation_id
    )
    info(f"Delegation {delegation} ended.")


@staff_group.command("hand-over")
@click.argument("name")
@click.option("--authority", required=True, help="The board's decision, e.g. minutes ref.")
@new_passphrase_option
@actor_option
@pass_ctx
def staff_hand_over(
    ctx: Context, name: str, authority: str, new_passphrase_file: Path | None, actor: str
) -> None:
    """Hand the directorship to a successor (the Director only, R3).

    The successor (a member, or a new one) gets a new key as Director; the outgoing
    Director is deactivated and her key revoked, in one act she signs.

    \b
    Example:
      custodes staff hand-over "Lee Successor" --authority "board minutes 2027-01-12 item 3" --as "Dana Director"
    """
    ledger = ctx.ledger()
    ledger.authorize(  # before the successor types a passphrase for nothing
        actor, "hand over the directorship", ("director",), rules.ONE_DIRECTOR, subject=name
    )
    passphrase = new_passphrase(new_passphrase_file, name)
    member = ledger.hand_over(name, authority=authority, actor=actor, passphrase=passphrase)
    info(f"{member.name} is the Director now (key {member.key_id}); {actor} is deactivated.")


@staff_group.command("service-key")
@click.option("--reset", is_flag=True, required=True, help="Enrol a new service key.")
@actor_option
@pass_ctx
def staff_service_key(ctx: Context, reset: bool, actor: str) -> None:
    """Enrol a new key for the unattended sweep (Director only), e.g. after a loss.

    \b
    Example:
      custodes staff service-key --reset --as "Dana Director"
    """
    kid = ctx.ledger().reset_service_key(actor=actor)
    info(f"New service key {kid} in keys/service.key; the old one is revoked.")


@staff_group.command("security")
@click.option("--max-failures", type=click.IntRange(2, 20), required=True)
@click.option("--window-minutes", type=click.IntRange(1, 1440), required=True)
@click.option("--unlock-minutes", type=click.IntRange(1, 480), required=True)
@actor_option
@pass_ctx
def staff_security(
    ctx: Context, max_failures: int, window_minutes: int, unlock_minutes: int, actor: str
) -> None:
    """Sign-in settings (Director only): lockout after failures, how long an unlock lasts.

    \b
    Example:
      custodes staff security --max-failures 5 --window-minutes 15 --unlock-minutes 10 --as "Dana Director"
    """
    ctx.ledger().change_security(
        max_failures=max_failures,
        window_minutes=window_minutes,
        unlock_minutes=unlock_minutes,
        actor=actor,
    )
    info("Sign-in settings changed.")


# ---- signing in ---------------------------------------------------------------------------


@click.command("login")
@click.argument("name")
@pass_ctx
def login(ctx: Context, name: str) -> None:
    """Sign in: your passphrase unlocks your key for a few minutes (like sudo), for this
    OS user and terminal session; then commands need no --as.

    \b
    Example:
      custodes login "Dana Director"
    """
    from ledger.unlock import UnlockStore

    UnlockStore(ctx.datadir().path).clear()
    signed = authenticate(ctx, name, None)
    info(f"Signed in as {signed} for {ctx.ledger().site().unlock_minutes} minutes.")


@click.command("logout")
@pass_ctx
def logout(ctx: Context) -> None:
    """Sign out: shred this session's unlocked key.

    \b
    Example:
      custodes logout
    """
    from ledger.unlock import UnlockStore

    ended = UnlockStore(ctx.datadir().path).clear()
    info("Signed out." if ended else "Nobody was signed in in this session.")


@click.command("whoami")
@pass_ctx
def whoami(ctx: Context) -> None:
    """Who is signed in in this session, and until when.

    \b
    Example:
      custodes whoami
    """
    from cli.auth import changed_since
    from ledger.unlock import UnlockStore

    store = UnlockStore(ctx.datadir().path)
    unlock = store.load(ctx.now())
    if unlock is None:
        raise click.ClickException("nobody is signed in in this session (custodes login NAME)")
    member = ctx.ledger().member(unlock.signer.name)
    changed = changed_since(ctx.ledger(), unlock)
    if member is None or not member.active or member.key_id != unlock.signer.main_key_id or changed:
        store.clear()  # it can sign nothing: the ledger refuses it (R25)
        why = (
            "is no longer an active staff member"
            if member is None or not member.active
            else "changed their passphrase since signing in"
            if changed
            else "has a new key since signing in"
        )
        raise click.ClickException(
            f"{unlock.signer.name} {why}; the session was signed out (custodes login NAME)"
        )
    until = sitetime.show(unlock.expires, ctx.zone())
    echo(f"{unlock.signer.name} ({unlock.signer.role}) until {until}")


def register(group: click.Group) -> None:
    group.add_command(staff_group)
    for command in (login, logout, whoami):
        group.add_command(command)
