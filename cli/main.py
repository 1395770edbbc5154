"""The `custodes` command: click groups; each command parses, calls one use-case, renders."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from cli.commands_index import COMMANDS, MODULES, PLUGINS

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class CustodesGroup(click.Group):
    """The top-level command. Turns domain errors into one clear line on stderr, in one
    place (exit 1), and imports a command's module only when that command is needed:
    ``custodes --help`` and a mistyped name answer from ``cli.commands_index`` without
    loading the ledger."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._loaded: set[str] = set()

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        self.load(entry[0])
        return self.commands.get(cmd_name)

    def load(self, modules: tuple[str, ...] = MODULES) -> None:
        """Import these command modules and run their ``register()`` (once each)."""
        import importlib

        from cli.data_dir import accept_data_dir_everywhere

        for name in modules:
            if name in self._loaded:
                continue
            self._loaded.add(name)
            if name == PLUGINS:
                _plugins(self)
            else:
                importlib.import_module(f"cli.{name}").register(self)
        accept_data_dir_everywhere(self)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list from the index: same lines as click's, nothing imported."""
        width = formatter.width - 6 - max(len(name) for name in COMMANDS)
        rows = [
            (name, click.Command(name, help=summary).get_short_help_str(width))
            for name, (_modules, summary) in sorted(COMMANDS.items())
        ]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise  # click's own: a subcommand's --help exits here, importing nothing more
        except Exception as e:
            translated = _translated(ctx, e)
            if translated is None:
                raise
            raise translated from e
        finally:
            common = sys.modules.get("cli.common")  # not imported: no context to close
            obj = ctx.find_object(common.Context) if common is not None else None
            if obj is not None and ctx.parent is None:
                obj.close()


def _plugins(group: click.Group) -> None:
    """Commands other packages add (the ``custodes.commands`` entry points: ``serve``
    and ``totp`` from the web dashboard), without the command line importing them."""
    from importlib.metadata import entry_points

    for entry in entry_points(group="custodes.commands"):
        group.add_command(entry.load(), entry.name)


def _translated(ctx: click.Context, e: Exception) -> click.ClickException | None:
    """The clear error a domain exception becomes, or None to let it through."""
    from eventsourcing.persistence import (
        IntegrityError,
        MapperDeserialisationError,
        PersistenceError,
    )

    from capture.errors import CaptureError
    from cli.common import Busy, Tampered
    from ledger.chain import ChainBroken
    from ledger.errors import InvalidTime, LedgerBusy, LedgerError
    from ledger.evidence import EvidenceInvalid
    from ledger.integrity import LedgerTampered, MerkleProofFailed
    from projections.base import ReadModelsRebuilding
    from projections.seal import ReadModelTampered

    if isinstance(e, click.exceptions.Exit | click.Abort):
        return None
    if isinstance(e, LedgerTampered | MerkleProofFailed | EvidenceInvalid | ReadModelTampered):
        return Tampered(str(e))
    if isinstance(e, ChainBroken):  # the store refused to extend a damaged chain
        return Tampered(_damage_found(ctx) or str(e))
    if isinstance(e, LedgerBusy | ReadModelsRebuilding):
        return Busy(str(e))
    if isinstance(e, IntegrityError):
        # Another command saved the same record (aggregate version) first. This one's
        # transaction rolled back; run again, its checks then see the other change.
        return Busy(
            "another command changed the same record at the same moment; nothing was "
            "recorded. Run the command again (its checks will see the other change)."
        )
    if isinstance(e, InvalidTime):
        # A typed time that names no single site-time instant: a usage error (exit 2).
        return click.UsageError(str(e))
    if isinstance(e, LedgerError | CaptureError):
        return click.ClickException(str(e))
    if isinstance(e, PersistenceError | MapperDeserialisationError):
        # Events that cannot be read back are often damage: say where, exit 3.
        damage = _damage_found(ctx)
        if damage is not None:
            return Tampered(damage)
        return click.ClickException(_storage_message(e))
    # A value no command expects (SQLite keeps any type in any column) is damage the
    # chain shows: report it as such (exit 3), not as a traceback.
    damage = _damage_found(ctx)
    return Tampered(damage) if damage is not None else None


def _damage_found(ctx: click.Context) -> str | None:
    """The chain's first damage, if verification finds some (it needs no key)."""
    from cli.common import Context

    obj = ctx.find_object(Context)
    if obj is None:
        return None
    try:
        from ledger.integrity import open_chain, verify_chain

        result = verify_chain(open_chain(obj.datadir()), extend_tree=False)
    except Exception:  # the database itself is unusable: report the original error
        return None
    d = result.damage
    if d is None:
        return _not_this_ledger(obj)
    return (
        f"the ledger's events cannot be read back: verification FAILED at position "
        f"{d.position}: {d.kind} ({d.detail})"
    )


def _not_this_ledger(obj: Any) -> str | None:
    """An intact chain whose first entry this data directory's events key cannot decrypt
    (``Ledger.not_this_ledger``): every command said "database error: ... Invalid cipher
    tag" (exit 1), where ``verify`` says "not this ledger" (exit 3) since session 17."""
    try:
        foreign = obj.ledger().not_this_ledger()
    except Exception:  # no events key here, or the database cannot be read at all
        return None
    return None if foreign is None else f"not this ledger: {foreign}; nothing was recorded"


def _storage_message(e: BaseException) -> str:
    text = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    low = text.casefold()
    if "readonly" in low or "read-only" in low:
        return f"the ledger database is read-only ({text}); nothing was recorded"
    if "locked" in low or "lock timeout" in low or "lock_timeout" in low:
        return (
            f"the ledger database is busy or locked ({text}); nothing was recorded. "
            "Try again when the other writer has finished."
        )
    return f"database error: {text}; nothing was recorded"


@click.group(cls=CustodesGroup, context_settings=CONTEXT_SETTINGS)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="CUSTODES_DATA_DIR",
    default=None,
    help="Data directory (default: CUSTODES_DATA_DIR or ~/.local/share/custodes); also "
    "accepted after the command.",
)
@click.version_option(package_name="custodes")
@click.pass_context
def custodes(ctx: click.Context, data_dir: Path | None) -> None:
    """Custodes: a tamper-evident ledger of a library's patron-confidentiality and
    security-camera policy.

    \b
    Example:
      custodes --data-dir ./ledger init --director "Dana Director"
      custodes --data-dir ./ledger staff add "Bo Manager" --role business_manager --as "Dana Director"
      custodes --data-dir ./ledger verify
    """
    from cli.common import Context
    from ledger.clock import ManualClock, system_clock
    from ledger.datadir import default_data_dir

    # The recorded time is the system clock (R26). Only a caller of the Python API (a
    # test, in-process) can hand in a ManualClock as click's ``obj``; nothing a user
    # types or exports can.
    clock = ctx.obj if isinstance(ctx.obj, ManualClock) else system_clock
    ctx.obj = Context(data_dir=data_dir or default_data_dir(), clock=clock)


def main() -> None:
    custodes(prog_name="custodes")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
