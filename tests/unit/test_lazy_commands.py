"""``custodes --help`` answers from cli/commands_index.py without loading the ledger; the
index must say exactly what the command modules add (issue 16, speed a person feels)."""

from __future__ import annotations

import inspect
import subprocess
import sys

import click

from cli.commands_index import COMMANDS, MODULES
from cli.main import CustodesGroup

HEAVY = ("sqlalchemy", "eventsourcing", "cv2", "numpy", "av", "ledger.app", "cli.common")


def _loaded_group() -> CustodesGroup:
    group = CustodesGroup(name="custodes")
    group.load()  # every module's register(), as the full command line has them
    return group


def test_the_index_names_every_command_its_modules_and_its_summary() -> None:
    group = _loaded_group()
    assert sorted(group.commands) == sorted(COMMANDS)
    for name, (_modules, summary) in COMMANDS.items():
        first = inspect.cleandoc(group.commands[name].help or "").split("\n\n")[0]
        assert " ".join(first.split()) == summary, name


def test_each_command_is_whole_with_only_its_own_modules_loaded() -> None:
    full = _loaded_group()
    for name, (modules, _summary) in COMMANDS.items():
        group = CustodesGroup(name="custodes")
        group.load(modules)
        assert _shape(group.commands[name]) == _shape(full.commands[name]), name


def _shape(command: click.Command) -> object:
    if isinstance(command, click.Group):
        return {n: _shape(c) for n, c in sorted(command.commands.items())}
    return sorted(p.name or "" for p in command.params)


def test_the_help_lists_what_clicks_own_listing_would() -> None:
    group = _loaded_group()
    ctx = click.Context(group, info_name="custodes")
    ours, theirs = click.HelpFormatter(width=100), click.HelpFormatter(width=100)
    group.format_commands(ctx, ours)
    click.Group.format_commands(group, ctx, theirs)
    assert ours.getvalue() == theirs.getvalue()
    assert set(MODULES) >= {"ledger_cmds", "staff", "footage", "request", "report"}


def _modules_after(*args: str) -> tuple[int, str, set[str]]:
    probe = (
        "import sys; from cli.main import main\n"
        "try:\n    main()\nexcept SystemExit as e:\n    code = e.code\n"
        "print('\\n'.join(sorted(sys.modules)), file=sys.stderr)\n"
        "sys.exit(code)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", probe, *args], capture_output=True, text=True, timeout=60
    )
    return run.returncode, run.stdout, set(run.stderr.split())


def test_help_and_a_mistyped_command_import_nothing_heavy() -> None:
    code, out, modules = _modules_after("--help")
    assert code == 0 and "verify-export" in out and "Check an evidence package" in out
    assert not [m for m in modules if m.split(".")[0] in HEAVY or m in HEAVY]
    code, _out, modules = _modules_after("verfy")
    assert code == 2
    assert not [m for m in modules if m.split(".")[0] in HEAVY or m in HEAVY]


def test_a_command_still_runs_and_its_help_loads_its_module() -> None:
    code, out, modules = _modules_after("rules", "--help")
    assert code == 0 and "Example" in out and "cli.rules_cmd" in modules
    code, _out, modules = _modules_after("status", "--help")
    assert code == 0 and "cli.status_cmd" in modules


def test_a_subcommands_help_loads_only_its_own_module() -> None:
    # camera's module alone (not cli.footage with the read models), and click's exit
    # from --help passes without the error translator (which imports the ledger).
    code, out, modules = _modules_after("camera", "add", "--help")
    assert code == 0 and "--signage-posted" in out
    assert "cli.camera" in modules and "cli.footage" not in modules
    loaded = {m.split(".")[0] for m in modules}
    assert not loaded & {"sqlalchemy", "projections", "capture"}, loaded


def test_opening_the_ledger_imports_no_kdf_and_no_toml() -> None:
    """A signed-in member's act derives no key and reads its policy parameters from the
    recorded version: argon2 and tomllib are imported only where they are used."""
    probe = "import sys, ledger.app, cli.camera; print('\\n'.join(sys.modules))"
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    modules = set(run.stdout.split())
    assert "ledger.identity" in modules and "ledger.credentials" in modules
    assert not {"argon2", "tomllib"} & modules


def test_reading_the_vault_imports_no_video_decoder() -> None:
    """``verify``'s vault audit and stray-copy check, and the sweep, open the vault and
    list copies without decoding video: cv2 and av (about a fifth of ``verify`` on a
    small ledger) are imported by the commands that decode."""
    probe = (
        "import sys, capture.vault, capture.audit, capture.viewing\n"
        "from capture.vault import open_vault\n"
        "from capture.audit import unrecorded_findings\n"
        "from capture.viewing import stray_copies, sweep_copies\n"
        "print('\\n'.join(sys.modules))"
    )
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    modules = {m.split(".")[0] for m in run.stdout.split()}
    assert not {"cv2", "av"} & modules
    # and the decoders are still there for the commands that need them
    probe = "import sys, capture.ingest, capture.redact; print('\\n'.join(sys.modules))"
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert {"cv2", "av"} <= {m.split(".")[0] for m in run.stdout.split()}
