"""custodes patron forget: crypto-shredding a patron's details (R22)."""

from __future__ import annotations

import click

from cli.common import Context, actor_option, info, pass_ctx


@click.group("patron")
def patron_group() -> None:
    """Patrons (stored as pseudonyms; details encrypted under a per-patron key).

    \b
    Example:
      custodes patron forget 2100012345 --reason "retention ended" --as "Dana Director"
    """


@patron_group.command("forget")
@click.argument("card")
@click.option("--reason", default="", help="Why (recorded).")
@actor_option
@pass_ctx
def patron_forget(ctx: Context, card: str, reason: str, actor: str) -> None:
    """Destroy the patron's key (Director only, recorded): their details read as "erased"
    everywhere; the chain still verifies.

    \b
    Example:
      custodes patron forget 2100012345 --reason "patron asked" --as "Dana Director"
    """
    pseudo = ctx.ledger().forget_patron(card, reason=reason, actor=actor)
    info(f"Erased the details of patron {pseudo}; `custodes verify` still passes.")


def register(group: click.Group) -> None:
    group.add_command(patron_group)
