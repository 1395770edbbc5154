"""The `custodes` command: click groups; each command parses, calls one use-case, renders."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from eventsourcing.persistence import (
    IntegrityError,
    MapperDeserialisationError,
    PersistenceError,
)

from capture.errors import CaptureError
from cli.common import Busy, Context, Tampered
from ledger.errors import InvalidTime, LedgerBusy, LedgerError
from ledger.evidence import EvidenceInvalid
from ledger.integrity import LedgerTampered, MerkleProofFailed

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class CustodesGroup(click.Group):
    """Turns domain errors into one clear line on stderr, in one place (exit 1)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (LedgerTampered, MerkleProofFailed, EvidenceInvalid) as e:
            raise Tampered(str(e)) from e
        except LedgerBusy as e:
            raise Busy(str(e)) from e
        except IntegrityError as e:
            # Another command saved the same record (aggregate version) first. This one's
            # transaction rolled back; run again, its checks then see the other change.
            raise Busy(
                "another command changed the same record at the same moment; nothing was "
                "recorded. Run the command again (its checks will see the other change)."
            ) from e
        except InvalidTime as e:
            # A typed time that names no single site-time instant: a usage error (exit 2).
            raise click.UsageError(str(e)) from e
        except (LedgerError, CaptureError) as e:
            raise click.ClickException(str(e)) from e
        except (PersistenceError, MapperDeserialisationError) as e:
            # Events that cannot be read back are often damage: say where, exit 3.
            damage = _damage_found(ctx)
            if damage is not None:
                raise Tampered(damage) from e
            raise click.ClickException(_storage_message(e)) from e
        finally:
            obj = ctx.find_object(Context)
            if obj is not None and ctx.parent is None:
                obj.close()


def _damage_found(ctx: click.Context) -> str | None:
    """The chain's first damage, if verification finds some (it needs no key)."""
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
        return None
    return (
        f"the ledger's events cannot be read back: verification FAILED at position "
        f"{d.position}: {d.kind} ({d.detail})"
    )


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
    from ledger.clock import ManualClock, system_clock
    from ledger.datadir import default_data_dir

    # The recorded time is the system clock (R26). Only a caller of the Python API (a
    # test, in-process) can hand in a ManualClock as click's ``obj``; nothing a user
    # types or exports can.
    clock = ctx.obj if isinstance(ctx.obj, ManualClock) else system_clock
    ctx.obj = Context(data_dir=data_dir or default_data_dir(), clock=clock)


def _register() -> None:
    # One line per feature module: each adds its commands (and report subcommands).
    from cli import (
        backup,
        demo,
        export,
        footage,
        ledger_cmds,
        proofs,
        report,
        reports,
        request,
        rules_cmd,
        staff,
        witness,
    )
    from cli.data_dir import accept_data_dir_everywhere

    ledger_cmds.register(custodes)
    staff.register(custodes)
    report.register(custodes)
    demo.register(custodes)
    proofs.register(custodes)
    request.register(custodes)
    footage.register(custodes)
    export.register(custodes)
    reports.register(custodes)
    backup.register(custodes)
    rules_cmd.register(custodes)
    witness.register(custodes)
    _plugins(custodes)
    accept_data_dir_everywhere(custodes)


def _plugins(group: click.Group) -> None:
    """Commands other packages add (the ``custodes.commands`` entry points: ``serve``
    and ``totp`` from the web dashboard), without the command line importing them."""
    from importlib.metadata import entry_points

    for entry in entry_points(group="custodes.commands"):
        group.add_command(entry.load(), entry.name)


_register()


def main() -> None:
    custodes(prog_name="custodes")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
