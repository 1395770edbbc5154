"""custodes checkpoint / prove / keys: signed tree heads and proofs anyone can check."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click

from cli.common import Context, Tampered, emit_json, info, json_failures, json_option, pass_ctx
from cli.output import echo, force_option
from ledger.errors import LedgerError
from ledger.integrity import issue_checkpoint, open_chain, prove, read_checkpoint
from ledger.merkle import MerkleError
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


def witness_policy_option(f):  # type: ignore[no-untyped-def]
    return click.option(
        "--witness-policy",
        "witness_policy",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        envvar="CUSTODES_WITNESS_POLICY",
        default=None,
        help="Witness policy (C2SP tlog-policy file: witnesses, keys, quorum; see "
        "docs/WITNESS.md), or CUSTODES_WITNESS_POLICY.",
    )(f)


def witness_policy_sha256_option(what: str, note: str = ""):  # type: ignore[no-untyped-def]
    """``--witness-policy-sha256 HEX``: the policy ``what`` recorded with that digest
    (shared by `restore` and `verify`)."""
    return click.option(
        "--witness-policy-sha256",
        "policy_sha256",
        metavar="HEX",
        default=None,
        help="Instead of the policy file: its SHA-256 as you hold it from outside "
        f"(board minutes, `witness policy show`); the policy {what} recorded with that "
        f"digest is used{note}.",
    )


def policy_in_force(ctx: Context, path: Path | None) -> Any:
    """The witness policy to apply: the file given (--witness-policy or
    CUSTODES_WITNESS_POLICY), else the one the ledger keeps (custodes witness policy set),
    else None."""
    from ledger.witness.ledger_side import load_policy

    if path is not None:
        return load_policy(path)
    from ledger.witness.ledger_side import recorded_policy

    return recorded_policy(ctx.ledger().site().witness_policy)


@click.command("checkpoint")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the signed checkpoint here (default: stdout).",
)
@witness_policy_option
@click.option(
    "--witness",
    "witnesses",
    multiple=True,
    metavar="NAME|URL",
    help="Ask only this witness of the policy (repeatable; default: every one with a URL).",
)
@force_option
@pass_ctx
def checkpoint(
    ctx: Context,
    out: Path | None,
    witness_policy: Path | None,
    witnesses: tuple[str, ...],
    force: bool,
) -> None:
    """Verify the ledger and sign its Merkle tree head (C2SP signed-note checkpoint).

    Give the checkpoint to the board or print it in a report: a later rewrite of the
    database cannot produce a ledger that extends it (custodes verify --against).
    With a witness policy, the policy's witnesses that have a URL are asked to cosign it
    (tlog-witness); their cosignatures are added to the note. A witness whose answer
    shows that this ledger rewrote or lost entries it had cosigned makes the command
    exit 3 (the checkpoint is still written).

    \b
    Example:
      custodes checkpoint --out board-2026-11.checkpoint
      custodes checkpoint --witness-policy witnesses.policy --out 2026-12.checkpoint
    """
    datadir = ctx.datadir()
    if out is not None:
        check_destination(out, force=force)  # before the work
    origin = ctx.ledger().site().log_origin
    key = datadir.signing_key(signing_passphrase(ctx))
    policy = policy_in_force(ctx, witness_policy)
    if witnesses and policy is None:
        raise click.UsageError(
            "--witness needs a witness policy (--witness-policy, or custodes witness policy set)"
        )
    from ledger.witness.ledger_side import witnessed_checkpoint

    made = witnessed_checkpoint(
        open_chain(datadir), origin=origin, signing_key=key, public_key=datadir.public_key(),
        policy=policy, now=ctx.now(), only=witnesses, keep_in=datadir.path,
    )  # fmt: skip
    cp, note, evidence = made.checkpoint, made.note, made.evidence
    if made.collected is not None:
        for o in made.collected.outcomes:
            info(f"witness {o.witness} ({o.url}): {o.status}: {o.detail}")
        met = "met" if made.collected.check.quorum_met else "NOT met"
        info(
            f"Witness quorum ({made.collected.check.quorum}) {met}: cosigned by "
            f"{', '.join(sorted(made.collected.check.cosigned)) or 'no witness'}"
        )
    if out is None:
        echo(note, nl=False)
    else:
        write_public(out, note.encode(), force)
        info(f"Checkpoint of {cp.size} entries written to {out}")
    if evidence:
        raise Tampered(
            "a witness holds a checkpoint of this ledger that the ledger no longer extends "
            "(entries were rewritten or lost since): " + "; ".join(evidence)
        )


@click.command("prove")
@click.argument("target", required=False, metavar="[EVENT | NEW.checkpoint]")
@click.option(
    "--checkpoint",
    "checkpoint_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="A signed checkpoint of this ledger (the inclusion proof leads to its root).",
)
@click.option(
    "--consistency",
    "old_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    metavar="OLD.checkpoint",
    help="Prove that the ledger extends this older checkpoint (RFC 9162 consistency proof) "
    "up to NEW.checkpoint, or up to a fresh checkpoint of the verified ledger.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Where to write the proof (JSON).",
)
@force_option
@pass_ctx
def prove_cmd(
    ctx: Context,
    target: str | None,
    checkpoint_file: Path | None,
    old_file: Path | None,
    out: Path,
    force: bool,
) -> None:
    """Inclusion proof that event #EVENT (as numbered by `custodes log`) is in the ledger,
    or with --consistency, proof that the ledger still extends an older checkpoint.

    An inclusion proof reveals no other entry: only the event's own chain fields and
    subtree hashes up to the checkpoint's signed root. A consistency proof reveals only
    subtree hashes. Anyone checks either with `custodes verify-proof` (no ledger needed).

    \b
    Example:
      custodes prove 42 --checkpoint board-2026-11.checkpoint --out proof.json
      custodes prove --consistency board-2026-11.checkpoint --out extends.json
      custodes prove --consistency board-2026-11.checkpoint 2026-12.checkpoint --out extends.json
    """
    if old_file is not None:
        _prove_consistency(ctx, old_file, target, checkpoint_file, out, force)
        return
    if target is None or not target.isdigit() or int(target) < 1:
        raise click.UsageError(
            "name the event to prove (a number from custodes log), or use --consistency"
        )
    if checkpoint_file is None:
        raise click.UsageError("an inclusion proof needs --checkpoint FILE")
    event = int(target)
    datadir = ctx.datadir()
    check_destination(out, force=force)
    note = checkpoint_file.read_text()
    cp = read_checkpoint(note, datadir.public_key(), ctx.ledger().site().log_origin)
    proof = prove(open_chain(datadir, warm_up=True), event, cp, note)
    write_public(out, (json.dumps(proof.to_json(), indent=2) + "\n").encode(), force)
    info(
        f"Proof that event #{event} (position {proof.position}) is among the "
        f"{cp.size} entries of the checkpoint written to {out}"
    )


def _prove_consistency(
    ctx: Context,
    old_file: Path,
    new_file: str | None,
    checkpoint_file: Path | None,
    out: Path,
    force: bool,
) -> None:
    from ledger.proof_files import prove_consistency

    if checkpoint_file is not None:
        raise click.UsageError("with --consistency, name the new checkpoint as the argument")
    check_destination(out, force=force)
    datadir = ctx.datadir()
    origin = ctx.ledger().site().log_origin
    old_note = old_file.read_text()
    old = read_checkpoint(old_note, datadir.public_key(), origin)
    reader = open_chain(datadir)
    if new_file is None:
        key = datadir.signing_key(signing_passphrase(ctx))
        new, new_note = issue_checkpoint(reader, origin=origin, signing_key=key, now=ctx.now())
    else:
        path = Path(new_file)
        if not path.is_file():
            raise click.BadParameter(
                f"{new_file} is not a checkpoint file", param_hint="NEW.checkpoint"
            )
        new_note = path.read_text()
        new = read_checkpoint(new_note, datadir.public_key(), origin)
    proof = prove_consistency(reader, old, old_note, new, new_note)
    write_public(out, (json.dumps(proof.to_json(), indent=2) + "\n").encode(), force)
    info(
        f"Proof that the checkpoint of {new.size} entries extends the one of {old.size} "
        f"entries written to {out}"
    )


@click.command("verify-proof")
@click.argument(
    "proof_file", metavar="FILE", type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--checkpoint",
    "checkpoint_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="A checkpoint you hold: the inclusion proof must lead to it, the consistency "
    "proof must start from it (default: the checkpoint inside the proof).",
)
@click.option(
    "--key",
    "key_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="The library's public key: PEM (custodes keys export-public) or vkey "
    "(custodes keys export-public --vkey). Default: the policy's log key, else this "
    "data directory's key.",
)
@witness_policy_option
@json_option
@click.pass_context
@json_failures
def verify_proof(
    click_ctx: click.Context,
    proof_file: Path,
    checkpoint_file: Path | None,
    key_file: Path | None,
    witness_policy: Path | None,
    as_json: bool,
) -> None:
    """Check a proof.json from `custodes prove`: an inclusion proof (this event is in
    the signed ledger) or a consistency proof (the newer checkpoint extends the older).

    Needs no ledger: only the proof, the library's public key and, if you hold one, your
    own copy of the checkpoint. With a witness policy, the checkpoint the proof leads to
    must carry the cosignatures the policy requires. Exit 0 when it checks out, 3 when a
    signature or the proof fails, 1 when the file is not a proof or is about another
    checkpoint.

    \b
    Example:
      custodes verify-proof proof.json --key library-public.pem --checkpoint board-2026-11.checkpoint
    """
    from ledger.proof_files import verify_proof_data

    try:
        data = json.loads(proof_file.read_bytes())
    except ValueError as e:
        raise click.ClickException(f"{proof_file} is not JSON ({e})") from e
    trusted = checkpoint_file.read_text() if checkpoint_file is not None else None
    policy = None
    if witness_policy is not None:
        from ledger.witness.ledger_side import load_policy

        policy = load_policy(witness_policy)
    key, key_name = _verifier_key(click_ctx, key_file, policy, data, trusted)
    report = verify_proof_data(data, key, key_name, trusted)
    cosigned: dict[str, int] = {}
    if policy is not None:
        from ledger.witness.ledger_side import check_witnesses

        check = check_witnesses(policy, report.relied_on, report.origin, key, "the checkpoint")
        cosigned = check.cosigned
    result = {
        "ok": True,
        "format": report.format,
        "origin": report.origin,
        "checkpoint_size": report.checkpoint_size,
        "checkpoint_root": report.checkpoint_root,
        "position": report.position,
        "old_size": report.old_size,
        "old_root": report.old_root,
        "witnesses": cosigned,
    }
    if as_json:
        emit_json(result)
        return
    if report.position is not None:
        echo(
            f"OK: entry {report.position} is in the signed checkpoint of "
            f"{report.checkpoint_size} entries of {report.origin}"
        )
    else:
        echo(
            f"OK: the signed checkpoint of {report.checkpoint_size} entries extends the one "
            f"of {report.old_size} entries of {report.origin}"
        )
    if cosigned:
        echo(f"Cosigned by: {', '.join(sorted(cosigned))}")


def _verifier_key(
    click_ctx: click.Context, key_file: Path | None, policy: Any, data: Any, trusted: str | None
) -> tuple[Any, str | None]:
    """The log's public key (and key name when a vkey names it)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    from ledger.checkpoint import parse_unverified
    from ledger.errors import InvalidInput
    from ledger.witness.cosignature import ED25519_NOTE, WitnessError, parse_vkey

    if key_file is not None:
        raw = key_file.read_bytes()
        if raw.lstrip().startswith(b"-----BEGIN"):
            try:
                key = load_pem_public_key(raw)
            except ValueError as e:
                raise click.BadParameter(f"not a PEM public key ({e})", param_hint="--key") from e
            if not isinstance(key, Ed25519PublicKey):
                raise click.BadParameter("not an Ed25519 public key", param_hint="--key")
            return key, None
        try:
            vkey = parse_vkey(raw.decode("utf-8", errors="replace"), sig_type=ED25519_NOTE)
        except WitnessError as e:
            raise click.BadParameter(str(e), param_hint="--key") from e
        return vkey.public_key, vkey.name
    if policy is not None and policy.logs:
        note = trusted or (
            data.get("checkpoint") or data.get("new_checkpoint") if isinstance(data, dict) else None
        )
        try:
            origin = parse_unverified(str(note)).origin
        except MerkleError as e:
            raise InvalidInput(f"the proof's checkpoint is malformed: {e}") from e
        log = policy.log_for(origin)
        if log is None:
            raise InvalidInput(f"the witness policy lists no log {origin}")
        return log.key.public_key, log.key.name
    ctx: Context = click_ctx.find_object(Context)  # type: ignore[assignment]
    try:
        return ctx.datadir().public_key(), None
    except LedgerError:
        raise click.UsageError(
            "name the library's public key: --key FILE (PEM or vkey), or a --witness-policy "
            "that lists the log"
        ) from None


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
@click.option("--vkey", "as_vkey", is_flag=True, help="Print the signed-note verifier key.")
@force_option
@json_option
@pass_ctx
def export_public(
    ctx: Context, out: Path | None, as_vkey: bool, force: bool, as_json: bool
) -> None:
    """Write the Ed25519 public key (PEM) that checks checkpoints and exports.

    \b
    Example:
      custodes keys export-public > custodes-public.pem
      custodes keys export-public --vkey > library-log.vkey
    """
    from ledger.checkpoint import vkey

    datadir = ctx.datadir()
    pem = datadir.public_key_pem()
    if as_vkey:
        echo(vkey(ctx.ledger().site().log_origin, datadir.public_key()))
    elif as_json:
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
    group.add_command(verify_proof)
    group.add_command(keys_group)
