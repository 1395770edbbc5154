"""custodes demo: a month at a small library, end to end, in a fresh data directory."""

from __future__ import annotations

import tempfile
from pathlib import Path

import click

from cli.common import info
from cli.output import echo


@click.command("demo")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="New or empty directory to write into (default: a new temporary directory).",
)
def demo(out: Path | None) -> None:
    """Record a month at a small library on the embedded SQLite, then report on it.

    Staff, six cameras (a restroom camera refused), synthetic clips, a flag, holds,
    viewings (refused ones too), a court order, an emergency request with its follow-up,
    a guardian inquiry, a FOIA request, a redacted evidence export, a retention sweep
    and a signed checkpoint; then the Director's compliance report (HTML and PDF).

    \b
    Example:
      custodes demo --out ./custodes-demo
    """
    from cli.scenario import PASSPHRASES, run_month

    out = out or Path(tempfile.mkdtemp(prefix="custodes-demo-"))
    if out.exists() and any(out.iterdir()):
        raise click.BadParameter(f"{out} is not empty; choose a new directory", param_hint="--out")
    summary = run_month(out, say=lambda text: info(f"  {text}"))
    data = summary.data_dir
    echo(f"Demo ledger:   {data}")
    for step in summary.steps:
        echo(f"  - {step}")
    echo("Refused and recorded:")
    for refusal in summary.refusals:
        echo(f"  - {refusal}")
    echo(f"Evidence package: {summary.evidence}")
    echo("Compliance report for October, for the Director and the board:")
    for path in summary.reports:
        echo(f"  {path}")
    echo(f"Signed checkpoint ({summary.checkpoint_size} entries):")
    echo("  " + summary.checkpoint.replace("\n", "\n  ").rstrip())
    echo("Demo staff and their passphrases (a demo only: never print real ones):")
    for name, secret in PASSPHRASES.items():
        echo(f"  {name}: {secret}")
    echo("Look around (sign in first: the passphrase is asked once for 10 minutes):")
    echo(f'  custodes --data-dir {data} login "Dana Director"')
    echo(f"  custodes --data-dir {data} log --kind AccessDenied")
    echo(f"  custodes --data-dir {data} footage list")
    echo(f"  custodes --data-dir {data} verify --deep")
    echo(f"  custodes verify-export {summary.evidence}")
    echo(f"  custodes --data-dir {data} backup --out {data.parent / 'ledger.backup'}")


def register(group: click.Group) -> None:
    group.add_command(demo)
