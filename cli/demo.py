"""custodes demo: a small library's ledger, end to end, in a fresh data directory."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from cli.common import info
from ledger.app import open_chain, open_ledger, verify_chain
from ledger.datadir import DataDir
from ledger.errors import NotPermitted

DIRECTOR = "Dana Director"
START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def run_demo(out: Path) -> dict[str, object]:
    """Record a short scenario and verify it; returns what a person should look at."""
    datadir = DataDir.create(out / "data")
    ledger = open_ledger(datadir)
    try:
        ledger.initialise(
            director=DIRECTOR,
            library="Mahomet Public Library",
            timezone="America/Chicago",
            now=START,
        )
        t = START + timedelta(minutes=5)
        ledger.add_staff("Bo Business", "business_manager", actor=DIRECTOR, now=t)
        ledger.add_staff("Sam Staff", "staff", actor=DIRECTOR, now=t)
        ledger.add_staff("Casey Counsel", "counsel", actor=DIRECTOR, now=t)
        refused = ""
        try:
            ledger.add_staff("Eve Extra", "director", actor="Sam Staff", now=t)
        except NotPermitted as e:
            refused = str(e)
        result = verify_chain(open_chain(datadir))
    finally:
        ledger.close()
    return {
        "data_dir": str(datadir.path),
        "entries": result.count,
        "head": result.head_hash.hex(),
        "verified": result.ok,
        "refused": refused,
    }


@click.command("demo")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Directory to write into (default: a new temporary directory).",
)
def demo(out: Path | None) -> None:
    """Run a short scenario in a fresh ledger and say where to look.

    \b
    Example:
      custodes demo --out ./custodes-demo
    """
    out = out or Path(tempfile.mkdtemp(prefix="custodes-demo-"))
    summary = run_demo(out)
    info(f"Demo ledger: {summary['data_dir']}")
    info(f"Refused and recorded: {summary['refused']}")
    click.echo(f"Verified {summary['entries']} entries; head {summary['head']}")
    info(f"Look around: custodes --data-dir {summary['data_dir']} log")


def register(group: click.Group) -> None:
    group.add_command(demo)
