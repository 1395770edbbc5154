"""custodes demo: a month at a small library, end to end, in a fresh data directory."""

from __future__ import annotations

import shlex
import shutil
import sys
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
@click.option(
    "--profile",
    default=None,
    metavar="NAME",
    help="Adopt this shipped policy profile (custodes policy profiles) and run the month "
    "adapted to it: nightly sweeps, its retention, its archive roles, its counsel gate.",
)
def demo(out: Path | None, profile: str | None) -> None:
    """Record a month at a small library on the embedded SQLite, then report on it.

    Staff, six cameras (a restroom camera refused), synthetic clips, a flag, holds,
    viewings (refused ones too), a court order, an emergency request with its follow-up,
    a guardian inquiry, a FOIA request, a redacted evidence export, a retention sweep
    and a signed checkpoint; then the Director's compliance report (HTML and PDF) for
    every day the demo recorded.

    With --profile NAME the library adopts that profile as policy version 1 and the same
    month is adapted to it (docs/POLICY.md, "The demo under each profile"): a 7-day
    policy purges clips a 30-day one keeps; a policy that lets only the Director view
    archived footage refuses the Business Manager's viewing; one whose counsel review
    gates release refuses a decision made before that review.

    \b
    Example:
      custodes demo --out ./custodes-demo
      custodes demo --profile riverbend-7-day
    """
    from cli.scenario import DIRECTOR, PASSPHRASES, run_month
    from ledger.policy_params import profiles
    from projections.report_summary import period_words

    if profile is not None and profile not in profiles():
        raise click.BadParameter(
            f"no profile {profile!r}; the profiles are {', '.join(profiles())}",
            param_hint="--profile",
        )

    out = out or Path(tempfile.mkdtemp(prefix="custodes-demo-"))
    if out.exists() and any(out.iterdir()):
        raise click.BadParameter(f"{out} is not empty; choose a new directory", param_hint="--out")
    summary = run_month(out, say=lambda text: info(f"  {text}"), profile=profile)
    data = summary.data_dir
    echo(f"Demo ledger:   {data}")
    if profile is not None:
        echo(f"Policy profile: {profile} (version 1; nightly retention sweeps)")
    for step in summary.steps:
        echo(f"  - {step}")
    echo("Refused and recorded:")
    for refusal in summary.refusals:
        echo(f"  - {refusal}")
    echo(f"Evidence package: {summary.evidence}")
    echo(f"Disclosure record: {summary.record}")
    assert summary.period is not None
    echo(
        f"Compliance report for the whole demo, {period_words(*summary.period)}, for the "
        "Director and the board:"
    )
    for path in summary.reports:
        echo(f"  {path}")
    echo(f"Signed checkpoint ({summary.checkpoint_size} entries):")
    echo("  " + summary.checkpoint.replace("\n", "\n  ").rstrip())
    echo("Demo staff and their passphrases (a demo only: never print real ones):")
    for name, secret in PASSPHRASES.items():
        echo(f"  {name}: {secret}")
    custodes, how = custodes_command()
    where = shlex.quote(str(data))
    echo("Look around (sign in first: the passphrase is asked once for 10 minutes):")
    for args in (
        f"--data-dir {where} login {shlex.quote(DIRECTOR)}",
        f"--data-dir {where} log --kind AccessDenied",
        f"--data-dir {where} footage list",
        f"--data-dir {where} request show R-2026-0002",
        f"--data-dir {where} verify --deep",
        f"verify-export {shlex.quote(str(summary.evidence))}",
        f"verify-export {shlex.quote(str(summary.record))}",
        f"--data-dir {where} backup --out {shlex.quote(str(data.parent / 'ledger.backup'))}",
    ):
        echo(f"  {custodes} {args}")
    if how:
        echo(f"  ({how})")
    echo("Or in a browser (the dashboard; Ctrl-C stops it), then open http://127.0.0.1:8470/:")
    echo(f"  {custodes} --data-dir {where} serve")


def custodes_command() -> tuple[str, str]:
    """How to run this same ``custodes`` from a shell, and a note when that needs saying.

    Installed in a virtual environment that is not active, ``custodes`` is not on the
    PATH (``command not found``): the hints then print the full path to the script."""
    argv0 = Path(sys.argv[0])
    script = argv0 if argv0.name == "custodes" else Path(sys.executable).with_name("custodes")
    if not script.is_file():
        return "custodes", "with the virtual environment active: source .venv/bin/activate"
    script = script.absolute()
    on_path = shutil.which("custodes")
    if on_path is not None and Path(on_path).resolve() == script.resolve():
        return "custodes", ""
    activate = script.with_name("activate")
    return shlex.quote(str(script)), (
        f"or, after: source {shlex.quote(str(activate))}, just: custodes ..."
        if activate.is_file()
        else ""
    )


def register(group: click.Group) -> None:
    group.add_command(demo)
