"""``--data-dir`` before or after the command: ``custodes --data-dir D log`` and
``custodes log --data-dir D`` mean the same.

The top-level option opens nothing: it names the directory in the shared ``Context``,
which opens it on first use. So every command can take the same option and overwrite
the name while its own options are parsed, before its body runs. It is added here once,
to every command, instead of by hand to each.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import click

from cli.common import Context

OPTION = "--data-dir"


def accept_data_dir_everywhere(group: click.Group) -> None:
    """Give every command under ``group`` the ``--data-dir`` option (unless it has its
    own, like ``restore``, whose option names the directory to create)."""
    for command in _commands(group):
        if not any(OPTION in p.opts for p in command.params):
            command.params.append(
                click.Option(
                    [OPTION],
                    type=click.Path(file_okay=False, path_type=Path),
                    default=None,
                    expose_value=False,
                    callback=_use,
                    help="Data directory (default: CUSTODES_DATA_DIR or "
                    "~/.local/share/custodes); also accepted before the command.",
                )
            )


def _use(ctx: click.Context, _param: click.Parameter, value: Path | None) -> None:
    shared = ctx.find_object(Context)
    if value is not None and shared is not None:
        shared.data_dir = value


def _commands(group: click.Group) -> Iterator[click.Command]:
    for command in group.commands.values():
        if isinstance(command, click.Group):
            yield from _commands(command)
        else:
            yield command
