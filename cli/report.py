"""custodes report ...: reports read projections, never replay the log."""

from __future__ import annotations

import click


@click.group("report")
def report_group() -> None:
    """Reports for the Director, the board and machines.

    \b
    Example:
      custodes report access --from 2026-11-01 --to 2026-12-01
    """


def register(group: click.Group) -> None:
    group.add_command(report_group)
