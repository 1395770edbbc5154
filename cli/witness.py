"""custodes witness init / add-log / show / serve / cosign: cosign another ledger's
checkpoints (C2SP tlog-witness), online or from a file on a board member's laptop."""

from __future__ import annotations

import signal
from pathlib import Path

import click

from cli.common import Context, Tampered, actor_option, emit_json, info, json_option, pass_ctx
from cli.output import echo, force_option
from ledger.outfiles import PUBLIC, check_destination, write_bytes

DIR_ENV = "CUSTODES_WITNESS_DIR"
DEFAULT_LISTEN = "127.0.0.1:7380"


def _default_dir() -> Path:
    return Path.home() / ".local" / "share" / "custodes-witness"


def witness_dir_option(f):  # type: ignore[no-untyped-def]
    return click.option(
        "--witness-dir",
        type=click.Path(file_okay=False, path_type=Path),
        envvar=DIR_ENV,
        default=None,
        help=f"The witness's directory (default: {DIR_ENV} or ~/.local/share/custodes-witness).",
    )(f)


def _open(path: Path | None):  # type: ignore[no-untyped-def]
    from ledger.witness.state import WitnessDir

    return WitnessDir.open(path or _default_dir())


@click.group("witness")
def witness_group() -> None:
    """Be a witness: cosign another ledger's checkpoints after checking that each one
    extends the last you cosigned (C2SP tlog-witness, cosignature/v1).

    \b
    Example:
      custodes witness init --name board.mahomet.example/witness
      custodes witness add-log "$(cat library-log.vkey)"
      custodes witness cosign for-board.json --out board-2026-12.checkpoint
    """


@witness_group.command("init")
@click.option("--name", required=True, help="The witness's key name, a schema-less URL.")
@witness_dir_option
def init(name: str, witness_dir: Path | None) -> None:
    """Create a witness: its own Ed25519 key and state, in a directory of its own (0700).

    Prints the witness's verifier key (vkey) on stdout: the library puts it in its
    witness policy as `witness NAME VKEY [URL]`.

    \b
    Example:
      custodes witness init --name board.mahomet.example/witness > witness.vkey
    """
    from ledger.witness.state import WitnessDir

    witness = WitnessDir.create(witness_dir or _default_dir(), name)
    echo(witness.vkey.text())
    info(
        f"Witness {name} created in {witness.path} (key {witness.path / 'witness.key'}, mode "
        "0600). Trust a log with: custodes witness add-log LOG-VKEY"
    )


@witness_group.command("add-log")
@click.argument("vkey", metavar="LOG-VKEY")
@witness_dir_option
def add_log(vkey: str, witness_dir: Path | None) -> None:
    """Trust a log's checkpoint key (its vkey; the key name is the log's origin).

    The library prints its vkey with `custodes keys export-public --vkey`.

    \b
    Example:
      custodes witness add-log custodes/6a1c...+1f2e3d4c+AdEw...
    """
    from ledger.witness.cosignature import ED25519_NOTE, parse_vkey

    witness = _open(witness_dir)
    key = parse_vkey(vkey, sig_type=ED25519_NOTE)
    witness.add_log(key)
    info(f"Witness {witness.name} now cosigns checkpoints of {key.name}")


@witness_group.command("show")
@witness_dir_option
@json_option
def show(witness_dir: Path | None, as_json: bool) -> None:
    """The witness's name, vkey, and per log the last size it cosigned.

    \b
    Example:
      custodes witness show --json
    """
    witness = _open(witness_dir)
    logs = []
    for origin, key in sorted(witness.logs.items()):
        latest = witness.latest(origin)
        logs.append(
            {
                "origin": origin,
                "vkey": key.text(),
                "cosigned_size": latest.size if latest else 0,
                "cosigned_root": latest.root.hex() if latest else None,
            }
        )
    data = {"name": witness.name, "vkey": witness.vkey.text(), "logs": logs}
    if as_json:
        emit_json(data)
        return
    echo(f"witness {data['name']}\nvkey    {data['vkey']}")
    for log in logs:
        echo(f"log     {log['origin']}: cosigned up to {log['cosigned_size']} entries")


@witness_group.command("serve")
@click.option(
    "--listen",
    default=DEFAULT_LISTEN,
    show_default=True,
    metavar="HOST:PORT",
    help="Address to listen on (loopback by default; port 0 picks a free one).",
)
@click.option("--prefix", default="", help="URL prefix before /add-checkpoint (e.g. /witness).")
@witness_dir_option
@pass_ctx
def serve(ctx: Context, listen: str, prefix: str, witness_dir: Path | None) -> None:
    """Serve the witness over HTTP: POST <prefix>/add-checkpoint (tlog-witness) and
    GET <prefix>/<origin sha256>/checkpoint. Runs until interrupted (Ctrl-C, SIGTERM).

    \b
    Example:
      custodes witness serve --listen 127.0.0.1:7380
    """
    from ledger.witness.server import WitnessServer

    host, sep, port = listen.rpartition(":")
    if not sep or not port.isdigit():
        raise click.BadParameter(f"{listen!r} is not HOST:PORT", param_hint="--listen")
    witness = _open(witness_dir)
    server = WitnessServer((host.strip("[]"), int(port)), witness, ctx.clock, prefix)

    def stop(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt  # a service manager stops us with SIGTERM

    signal.signal(signal.SIGTERM, stop)
    try:
        info(f"Witness {witness.name} listening on {server.url}/add-checkpoint")
        server.serve_forever()
    except KeyboardInterrupt:
        info(f"Witness {witness.name} stopped")
    finally:
        server.server_close()


@witness_group.command("cosign")
@click.argument(
    "request_file", metavar="FILE", type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the cosigned checkpoint here (default: stdout).",
)
@force_option
@witness_dir_option
@pass_ctx
def cosign(
    ctx: Context, request_file: Path, out: Path | None, force: bool, witness_dir: Path | None
) -> None:
    """Cosign a checkpoint from a file, offline, with the same checks as the HTTP witness.

    FILE is a consistency proof from `custodes prove --consistency` (from the checkpoint
    this witness last cosigned to the new one), an add-checkpoint request body
    (tlog-witness), or a bare checkpoint for a log this witness never cosigned. Writes
    the checkpoint with this witness's cosignature added. Exit 3 if the log's signature
    or the consistency proof fails (a rewritten history), 1 if the proof starts from
    another size than the last one cosigned.

    \b
    Example:
      custodes witness cosign for-board.json --out board-2026-12.checkpoint
    """
    from ledger.witness.offline import offline_request
    from ledger.witness.service import add_checkpoint, parse_request

    if out is not None:
        check_destination(out, force=force)  # before the witness's state moves on
    witness = _open(witness_dir)
    body = offline_request(request_file.read_bytes())
    response = add_checkpoint(witness, body, ctx.now())
    detail = response.text.strip()
    if response.status == 409:
        raise click.ClickException(
            f"this witness last cosigned {detail} entries of that log, but the proof starts "
            f"from another size. Ask for a consistency proof from the checkpoint you last "
            "cosigned: custodes prove --consistency THAT-CHECKPOINT NEW-CHECKPOINT"
        )
    if response.status in (403, 422):
        raise Tampered(f"not cosigned ({response.status}): {detail}")
    if response.status == 404:
        raise click.ClickException(f"{detail}: trust it first with custodes witness add-log VKEY")
    if response.status != 200:
        raise click.ClickException(f"not cosigned ({response.status}): {detail}")
    from ledger.witness.cosignature import add_signature_lines

    note = add_signature_lines(parse_request(body).note, response.text)
    if out is None:
        echo(note, nl=False)
    else:
        write_bytes(out, note.encode(), force=force, mode=PUBLIC)
    info(f"Cosigned by {witness.name}" + (f"; written to {out}" if out else ""))


@witness_group.group("policy")
def policy_group() -> None:
    """The witness policy this ledger keeps: which witnesses' keys cosign its checkpoints
    and how many are needed (C2SP tlog-policy). Once set, `custodes checkpoint` asks its
    witnesses, and `custodes verify --against` without --witness-policy checks the
    cosignatures by the policy in force at the checkpoint (and warns that it is the
    checked ledger's own claim).

    
    Example:
      custodes witness policy set witnesses.policy --reason "board resolution 2026-12" --as "Dana Director"
      custodes witness policy show
    """


@policy_group.command("set")
@click.argument(
    "policy_file", metavar="FILE", type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--reason", required=True, help="Why the policy changes (recorded).")
@actor_option
@pass_ctx
def policy_set(ctx: Context, policy_file: Path, reason: str, actor: str) -> None:
    """Record FILE as the witness policy in force (the Director; R21).

    \b
    Example:
      custodes witness policy set witnesses.policy --reason "board resolution 2026-12" --as "Dana Director"
    """
    try:
        text = policy_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise click.BadParameter(f"cannot read {policy_file}: {e}", param_hint="FILE") from e
    digest = ctx.ledger().set_witness_policy(text, reason=reason, actor=actor)
    info(f"Witness policy recorded (SHA-256 {digest}); checkpoints now ask its witnesses")


@policy_group.command("show")
@json_option
@pass_ctx
def policy_show(ctx: Context, as_json: bool) -> None:
    """Print the witness policy in force (nothing recorded yet: exit 1).

    \b
    Example:
      custodes witness policy show --json
    """
    text = ctx.ledger().site().witness_policy
    if text is None:
        raise click.ClickException("no witness policy is recorded (custodes witness policy set)")
    if as_json:
        import hashlib

        emit_json({"policy": text, "sha256": hashlib.sha256(text.encode()).hexdigest()})
    else:
        echo(text, nl=False)


def register(group: click.Group) -> None:
    group.add_command(witness_group)
