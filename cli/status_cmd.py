"""custodes status: where the ledger lives and how big it is, answered at once.

It reads with the DB-API alone (``ledger.status``) and opens the ledger only when that
cannot answer in the same words, so an ordinary ``status`` imports neither SQLAlchemy
nor eventsourcing (issue 16, speed a person feels).
"""

from __future__ import annotations

from typing import Any

import click

from cli.common import Context, emit_json, json_option, pass_ctx
from cli.output import echo


@click.command("status")
@json_option
@pass_ctx
def status(ctx: Context, as_json: bool) -> None:
    """Where the ledger lives and how big it is.

    \b
    Example:
      custodes status --json
    """
    from ledger.status import quick_status

    datadir = ctx.datadir()
    data = quick_status(datadir) or _status_from_the_ledger(ctx)
    if as_json:
        emit_json(data)
        return
    for k, v in data.items():
        echo(f"{k.replace('_', ' '):24} {v}")


def _status_from_the_ledger(ctx: Context) -> dict[str, Any]:
    """The same answer through the ledger application: where ``quick_status`` declines
    (an unusual database URL, or anything amiss, which this then reports)."""
    from ledger.chain_reader import ChainReader
    from ledger.store import redact_url

    datadir = ctx.datadir()
    ledger = ctx.ledger()
    reader = ChainReader(ledger.chained_recorder)
    position, head = reader.head()
    site = ledger.site()
    return {
        "data_dir": str(datadir.path),
        "database_url": redact_url(datadir.database_url),
        "database_schema": datadir.database_schema or "",
        "library": site.library,
        "timezone": site.timezone,
        "events": reader.count_rows(),
        "chain_length": position,
        "chain_head": head.hex(),
        "events_key_fingerprint": datadir.events_key_fingerprint(),
    }


def register(group: click.Group) -> None:
    group.add_command(status)
