"""custodes checkpoint / prove / keys: signed tree heads and proofs anyone can check."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from cli.common import Context, emit_json, info, json_option, pass_ctx
from cli.output import echo, force_option
from ledger.integrity import issue_checkpoint, open_chain, prove, read_checkpoint
from ledger.outfiles import PUBLIC, check_destination, write_bytes

PASSPHRASE_ENV = "CUSTODES_SIGNING_PASSPHRASE"


def signing_passphrase(ctx: Context) -> bytes | None:
    if not ctx.datadir().signing_key_is_encrypted():
        return None
    value = os.environ.get(PASSPHRASE_ENV)
    if value is None:
        value = click.prompt("Signing key passphrase", hide_input=True, err=True)
    return value.encode()


def write_public(path: Path, data: bytes, force: bool) -> None:
    """Checkpoints, proofs and the public key are meant to be handed around: 0644, by the
    rules of ``ledger.outfiles`` (no symbolic link, no overwrite without --force)."""
    write_bytes(path, data, force=force, mode=PUBLIC)


@click.command("checkpoint")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the signed checkpoint here (default: stdout).",
)
@force_option
@pass_ctx
def checkpoint(ctx: Context, out: Path | None, force: bool) -> None:
    """Verify the ledger and sign its Merkle tree head (C2SP signed-note checkpoint).

    Give the checkpoint to the board or print it in a report: a later rewrite of the
    database cannot produce a ledger that extends it (custodes verify --against).

    \b
    Example:
      custodes checkpoint --out board-2026-11.checkpoint
    """
    datadir = ctx.datadir()
    if out is not None:
        check_destination(out, force=force)  # before the work
    origin = ctx.ledger().site().log_origin
    key = datadir.signing_key(signing_passphrase(ctx))
    cp, note = issue_checkpoint(open_chain(datadir), origin=origin, signing_key=key, now=ctx.now())
    if out is None:
        echo(note, nl=False)
    else:
        write_public(out, note.encode(), force)
        info(f"Checkpoint of {cp.size} entries written to {out}")


@click.command("prove")
@click.argument("event", type=click.IntRange(1), metavar="EVENT")
@click.option(
    "--checkpoint",
    "checkpoint_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A signed checkpoint of this ledger.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Where to write proof.json.",
)
@force_option
@pass_ctx
def prove_cmd(ctx: Context, event: int, checkpoint_file: Path, out: Path, force: bool) -> None:
    """Inclusion proof that event #EVENT (as numbered by `custodes log`) is in the ledger.

    The proof reveals no other entry: only the event's own chain fields and subtree
    hashes up to the checkpoint's signed root.

    \b
    Example:
      custodes prove 42 --checkpoint board-2026-11.checkpoint --out proof.json
    """
    datadir = ctx.datadir()
    check_destination(out, force=force)
    note = checkpoint_file.read_text()
    cp = read_checkpoint(note, datadir.public_key(), ctx.ledger().site().log_origin)
    proof = prove(open_chain(datadir), event, cp, note)
    write_public(out, (json.dumps(proof.to_json(), indent=2) + "\n").encode(), force)
    info(
        f"Proof that event #{event} (position {proof.position}) is among the "
        f"{cp.size} entries of the checkpoint written to {out}"
    )


@click.group("keys")
def keys_group() -> None:
    """The site's public signing key.

    \b
    Example:
      custodes keys export-public --out custodes-public.pem
    """


@keys_group.command("export-public")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the PEM here (default: stdout).",
)
@force_option
@json_option
@pass_ctx
def export_public(ctx: Context, out: Path | None, force: bool, as_json: bool) -> None:
    """Write the Ed25519 public key (PEM) that checks checkpoints and exports.

    \b
    Example:
      custodes keys export-public > custodes-public.pem
    """
    from ledger.checkpoint import vkey

    datadir = ctx.datadir()
    pem = datadir.public_key_pem()
    if as_json:
        origin = ctx.ledger().site().log_origin
        emit_json(
            {"pem": pem.decode(), "key_name": origin, "vkey": vkey(origin, datadir.public_key())}
        )
    elif out is None:
        echo(pem.decode(), nl=False)
    else:
        write_public(out, pem, force)
        info(f"Public key written to {out}")


def register(group: click.Group) -> None:
    group.add_command(checkpoint)
    group.add_command(prove_cmd)
    group.add_command(keys_group)
