"""custodes staff ...: the staff directory (R23)."""

from __future__ import annotations

import click

from cli.common import Context, actor_option, emit_json, info, json_option, pass_ctx, table
from ledger.staff import ROLES


@click.group("staff")
def staff_group() -> None:
    """Staff members and their roles.

    \b
    Example:
      custodes staff add "Bo Manager" --role business_manager --as "Dana Director"
      custodes staff list
    """


@staff_group.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True, help="The member's role.")
@actor_option
@pass_ctx
def staff_add(ctx: Context, name: str, role: str, actor: str) -> None:
    """Register a staff member (Director only).

    \b
    Example:
      custodes staff add "Sam Staff" --role staff --as "Dana Director"
    """
    member = ctx.ledger().add_staff(name, role, actor=actor)
    info(f"Added {member.name} as {member.role.replace('_', ' ')}.")


@staff_group.command("list")
@json_option
@pass_ctx
def staff_list(ctx: Context, as_json: bool) -> None:
    """List staff members.

    \b
    Example:
      custodes staff list --json
    """
    members = ctx.ledger().staff()
    if as_json:
        emit_json(members)
        return
    table(
        ["name", "role", "active", "added"],
        [(m.name, m.role, "yes" if m.active else "no", m.added_on.date()) for m in members],
    )


@staff_group.command("deactivate")
@click.argument("name")
@click.option("--reason", default="", help="Why (recorded).")
@actor_option
@pass_ctx
def staff_deactivate(ctx: Context, name: str, reason: str, actor: str) -> None:
    """Deactivate a staff member (Director only); their history stays.

    \b
    Example:
      custodes staff deactivate "Sam Staff" --reason "left the library" --as "Dana Director"
    """
    ctx.ledger().deactivate_staff(name, actor=actor, reason=reason)
    info(f"Deactivated {name}.")


def register(group: click.Group) -> None:
    group.add_command(staff_group)
