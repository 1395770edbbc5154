"""custodes footage export / verify-export: evidence packages (R17, R18)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from cli.common import (
    Context,
    actor_option,
    emit_json,
    info,
    json_failures,
    json_option,
    pass_ctx,
    remote_session,
)
from cli.output import echo
from cli.proofs import signing_passphrase
from ledger.rules import FOOTAGE_ARCHIVE_ACCESS
from ledger.text import counted


def _region(value: str) -> tuple[int, int, int, int]:
    try:
        x, y, w, h = (int(v) for v in value.split(","))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not X,Y,W,H (four integers)") from None
    if w <= 0 or h <= 0 or x < 0 or y < 0:
        raise click.BadParameter(f"{value!r}: width and height must be positive, X and Y >= 0")
    return x, y, w, h


@click.command("export")
@click.argument("segments", nargs=-1, metavar="SEGMENT...")
@click.option("--request", "request_ref", default=None, help="The approved request (R-YYYY-NNNN).")
@click.option(
    "--to",
    "to",
    default=None,
    type=click.Path(path_type=Path),
    help="New (or empty) directory for the package (never a symbolic link).",
)
@click.option(
    "--finish-pending",
    is_flag=True,
    help="Only finish exports that were recorded but not delivered (a crash, a full disk).",
)
@click.option(
    "--redact",
    type=click.Choice(["faces"]),
    default=None,
    help="Blur faces (Haar cascades, frontal and profile; detection only, R19).",
)
@click.option(
    "--region",
    "regions",
    multiple=True,
    metavar="X,Y,W,H",
    help="Also blur this box on every frame (repeatable).",
)
@actor_option
@json_option
@pass_ctx
def footage_export(
    ctx: Context,
    segments: tuple[str, ...],
    request_ref: str,
    to: Path,
    redact: str | None,
    regions: tuple[str, ...],
    finish_pending: bool,
    actor: str,
    as_json: bool,
) -> None:
    """Write an evidence package for an approved request, verifiable without Custodes.

    Only the Director or the Business Manager exports, and only segments the Director
    approved for release on the request. Nothing is recorded until the package is built
    and its target reserved; an export recorded but not delivered (a crash, a full disk)
    is finished by the next export run, or by --finish-pending. The package holds the clips (redacted copies
    when asked), manifest.json, the export event's inclusion proof, a signed checkpoint,
    the public key, README.txt, SHA256SUMS and its signature.

    \b
    Example:
      custodes footage export 3fa2c81d09ab --request R-2026-0004 --to ./evidence-R-2026-0004 \\
          --redact faces --region 0,0,320,80 --as "Dana Director"
      custodes footage export --finish-pending --as "Dana Director"
    """
    from capture.export import export_footage, finish_pending_exports

    if not finish_pending and (not segments or request_ref is None or to is None):
        raise click.UsageError("name the SEGMENTs, --request and --to (or --finish-pending)")
    boxes = [_region(r) for r in regions]
    ledger = ctx.ledger()
    ledger.authorize(
        actor, "export footage", ("director", "business_manager"), FOOTAGE_ARCHIVE_ACCESS
    )
    key = ctx.datadir().signing_key(signing_passphrase(ctx))
    for done in finish_pending_exports(ledger, key):
        info(
            f"Finished the interrupted export for {done.request_ref}: {done.path} (entry "
            f"{done.event_position} of the signed checkpoint)."
        )
    if finish_pending:
        return
    assert request_ref is not None and to is not None
    with click.progressbar(length=len(segments), label="Exporting", file=sys.stderr) as bar:
        result = export_footage(
            ledger,
            segments,
            request_ref=request_ref,
            to=to,
            actor=actor,
            remote=remote_session(False),
            signing_key=key,
            redact_faces=redact == "faces",
            regions=boxes,
            progress=lambda _s: bar.update(1),
        )
    if as_json:
        emit_json(
            {
                "path": result.path,
                "request": result.request_ref,
                "clips": result.clips,
                "event_position": result.event_position,
                "checkpoint_size": result.checkpoint_size,
            }
        )
    else:
        echo(str(result.path))
    info(
        f"Exported {counted(len(result.clips), 'clip')} for {result.request_ref} to {result.path}; "
        f"the export is entry {result.event_position} of the signed checkpoint "
        f"({result.checkpoint_size} entries). The recipient checks it with README.txt."
    )


@click.command("verify-export")
@click.argument("package", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--public-key",
    "public_key",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Trust this PEM key instead of the package's own.",
)
@json_option
@json_failures
def verify_export(package: Path, public_key: Path | None, as_json: bool) -> None:
    """Check an evidence package or a disclosure record: hashes, signatures, and its
    inclusion proof.

    Needs no ledger and no keys: a recipient runs it on what they received (`footage
    export` or `request record` wrote it). Exit 3 if anything in it was changed.

    \b
    Example:
      custodes verify-export ./evidence-R-2026-0004 --public-key library-public.pem
      custodes verify-export ./record-R-2026-0001
    """
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    from ledger.evidence import verify_package

    trusted = None
    if public_key is not None:
        key = load_pem_public_key(public_key.read_bytes())
        if not isinstance(key, Ed25519PublicKey):
            raise click.BadParameter("not an Ed25519 public key", param_hint="--public-key")
        trusted = key
    report = verify_package(package, trusted)
    if as_json:
        emit_json({"ok": True, **report.__dict__, "key_pinned": trusted is not None})
        return
    what = (
        f"{report.clips} clip(s); the export"
        if (package / "manifest.json").is_file()
        else report.describes
    )
    echo(
        f"OK: {report.files_checked} files match SHA256SUMS and its signature; "
        f"{what} is entry {report.export_event_position} of the "
        f"signed checkpoint of {report.checkpoint_size} entries ({report.key_name}); "
        f"public key sha256 {report.public_key_sha256}"
    )
    if report.caveat:
        echo(f"Note: {report.caveat}")
    if trusted is None:
        echo(f"Note: {UNPINNED}")


# Red team (session 16): a package made from scratch with a fresh key and the library's
# origin verified against its own public-key.pem, and nothing said the key was not given.
UNPINNED = (
    "the key checked is the package's own public-key.pem, not one you gave: anyone can "
    "make a package that verifies with its own key. Compare the fingerprint above with the "
    "one the library published, or check again with --public-key FILE."
)


def register(group: click.Group) -> None:
    from cli.footage import footage_group

    footage_group.add_command(footage_export)
    group.add_command(verify_export)
