"""custodes status: where the ledger lives and how big it is, answered at once.

It reads with the DB-API alone (``ledger.status``) and opens the ledger only when that
cannot answer in the same words, so an ordinary ``status`` imports neither SQLAlchemy
nor eventsourcing (issue 16, speed a person feels).
"""

from __future__ import annotations

from typing import Any

import click

from cli.common import Context, Tampered, emit_json, json_option, pass_ctx
from cli.output import echo


@click.command("status")
@json_option
@pass_ctx
def status(ctx: Context, as_json: bool) -> None:
    """Where the ledger lives and how big it is.

    The chain length and head are shown as stored: status does not verify the chain
    (custodes verify does). It checks only the head row's own hash, state digest and
    link to the entry before it, and shows how far the stored Merkle tree (extended by
    verify, checkpoint and backup) reaches.

    Exit codes: 0 shown; 3 the head row fails its own check (all is still shown; only
    then is the whole chain walked, as verify does, to name the first damaged
    position); 1 the ledger cannot be opened.

    \b
    Example:
      custodes status --json
    """
    from ledger.status import quick_status

    datadir = ctx.datadir()
    data = quick_status(datadir) or _status_from_the_ledger(ctx)
    if as_json:
        emit_json(data)
    else:
        for k, v in data.items():
            echo(f"{k.replace('_', ' '):24} {v}")
    if str(data["head_check"]).startswith("FAILED"):
        _damaged(ctx, str(data["head_check"])[len("FAILED: ") :])


def _damaged(ctx: Context, problem: str) -> None:
    """The head failed its own check: only now walk the whole chain (as verify does, the
    tree left as it is) to name the first damaged position, then exit 3."""
    from ledger.integrity import open_chain, verify_chain

    head = f"the chain head as stored fails its own check ({problem})"
    try:
        result = verify_chain(open_chain(ctx.datadir()), extend_tree=False)
    except Exception as e:  # noqa: BLE001 - the walk itself failed: say the head's problem
        raise Tampered(f"{head}; run `custodes verify` ({e})") from e
    d = result.damage
    if d is None:
        raise Tampered(f"{head}; run `custodes verify`")
    raise Tampered(
        f"ledger verification FAILED at position {d.position}: {d.kind} ({d.detail}); "
        f"{result.count} entries before it verify ({head})"
    )


def _status_from_the_ledger(ctx: Context) -> dict[str, Any]:
    """The same answer through the ledger application: where ``quick_status`` declines
    (an unusual database URL, or anything amiss, which this then reports)."""
    from ledger.chain_reader import ChainReader
    from ledger.status import NOT_VERIFIED, head_check_text, head_problem
    from ledger.store import redact_url

    datadir = ctx.datadir()
    ledger = ctx.ledger()
    reader = ChainReader(ledger.chained_recorder)
    position, head = reader.head()
    row = prev = None
    if position:
        entry = reader.entry(position=position)
        if entry is not None:  # its chain fields; the state is checked by the quick path
            nid, oid, version, topic, _position, digest, prev_hash, _entry_hash, act = entry
            row = (nid, oid, version, topic, digest, prev_hash, act, None)
        before = reader.entry(position=position - 1) if position > 1 else None
        prev = None if before is None else before[7]
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
        "head_check": head_check_text(head_problem(position, head, row, prev)),
        "verified_tree_size": reader.tree_state()[0] if reader.tree_tables_exist() else None,
        "chain_note": NOT_VERIFIED,
        "events_key_fingerprint": datadir.events_key_fingerprint(),
    }


def register(group: click.Group) -> None:
    group.add_command(status)
