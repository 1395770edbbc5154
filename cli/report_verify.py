"""custodes verify-report: check a provable report's rows against its signed checkpoint."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import click
from eventsourcing.persistence import StoredEvent

from cli.common import Context, emit_json, json_failures, json_option
from cli.output import echo
from cli.proofs import _verifier_key
from ledger.errors import InvalidInput
from ledger.text import counted


@click.command("verify-report")
@click.argument(
    "report_file",
    metavar="REPORT.json",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
@click.option(
    "--key",
    "key_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="The library's public key (PEM or vkey); default: this data directory's.",
)
@click.option(
    "--events",
    "with_events",
    is_flag=True,
    help="Also decrypt each row's events with this data directory's events key and check "
    "that they say what the row says.",
)
@click.option(
    "--consistency",
    "consistency_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="A consistency proof (custodes prove --consistency OLD REPORT-CHECKPOINT) from a "
    "checkpoint you hold to the report's.",
)
@click.option(
    "--checkpoint",
    "checkpoint_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="The earlier checkpoint you hold (with --consistency).",
)
@json_option
@click.pass_context
@json_failures
def verify_report(
    click_ctx: click.Context,
    report_file: Path,
    key_file: Path | None,
    with_events: bool,
    consistency_file: Path | None,
    checkpoint_file: Path | None,
    as_json: bool,
) -> None:
    """Check every row of a report's JSON (report compliance --format json, report
    disclosures --json --prove) against the report's signed checkpoint: each row's log
    entries, their digests and inclusion proofs. Needs no ledger, only the library's
    public key. Exit 0 when it checks out, 3 when a row, proof or signature fails.

    \b
    Example:
      custodes verify-report november.json --key library-public.pem
      custodes verify-report november.json --key library-public.pem \\
          --consistency extends.json --checkpoint board-2026-10.checkpoint
    """
    from ledger.proof_files import verify_proof_data
    from ledger.report_proofs import (
        check_integrity_block,
        report_rows,
        row_check,
        verify_report_proofs,
    )
    from projections.disclosures import row_problem

    raw = report_file.read_bytes()
    try:
        data = json.loads(raw)
    except ValueError as e:
        raise click.ClickException(f"{report_file} is not JSON ({e})") from e
    if checkpoint_file is not None and consistency_file is None:
        raise click.UsageError("--checkpoint goes with --consistency")
    if not isinstance(data, dict):
        raise click.ClickException(f"{report_file} is not a Custodes report")
    header = _header(data)
    rows = report_rows(data)
    proofs = data.get("proofs")
    key, key_name = _verifier_key(click_ctx, key_file, None, proofs or {}, None)
    decode = None
    if with_events:
        ctx: Context = click_ctx.find_object(Context)  # type: ignore[assignment]
        mapper = ctx.ledger().mapper

        def decode(entry: dict[str, Any]) -> Any:
            return mapper.to_domain_event(
                StoredEvent(
                    UUID(entry["originator_id"]),
                    entry["originator_version"],
                    entry["topic"],
                    entry["_state"],
                )
            )

    as_of = _as_of(data)
    with _entry_counts(click_ctx, with_events) as entries_of:
        check, _cp, note = verify_report_proofs(
            rows,
            proofs,
            key,
            decode=decode,
            check_row=lambda table, row, events, positions: row_check(
                table, row, events, positions, as_of=as_of, replayed=row_problem
            ),
            key_name=key_name,
            entries_of=entries_of,
        )
    integrity = data.get("integrity")
    if isinstance(integrity, dict) and integrity.get("checkpoint") != note:
        from ledger.integrity import MerkleProofFailed

        raise MerkleProofFailed("the report's integrity checkpoint is not the one its rows prove")
    check_integrity_block(data, _cp, key)
    # a compliance report (not the register, whose rows are its whole content) is bound
    # whole by its recorded issuance (red team, session 16: a report whose header was
    # moved away skipped the check)
    issued = (
        _issued(click_ctx, raw, header, _cp.size) if with_events and "rows" not in data else None
    )
    extends = None
    if consistency_file is not None:
        try:
            proof = json.loads(consistency_file.read_bytes())
        except ValueError as e:
            raise click.ClickException(f"{consistency_file} is not JSON ({e})") from e
        trusted = checkpoint_file.read_text() if checkpoint_file is not None else None
        consistent = verify_proof_data(proof, key, key_name, trusted)
        if consistent.old_size is None or consistent.relied_on != note:
            raise InvalidInput(
                "the consistency proof does not lead to this report's checkpoint "
                "(make it with: custodes prove --consistency OLD REPORT-CHECKPOINT)"
            )
        extends = consistent.old_size
    result = {
        "ok": True,
        "origin": check.origin,
        "checkpoint_size": check.tree_size,
        "rows": check.rows,
        "entries": check.entries,
        "events_checked": check.contents_checked,
        "rows_without_subject": check.unproven,
        "extends_checkpoint_of": extends,
        # the report's own words unless ``issued`` (the file's bytes recorded as issued)
        "period": {k: header.get(k) for k in ("period_from", "period_to", "as_of")} or None,
        "generated_at": header.get("generated_at"),
        "issued": issued,
    }
    if as_json:
        emit_json(result)
        return
    echo(
        f"OK: {check.rows} rows rest on {check.entries} entries of the signed checkpoint of "
        f"{check.tree_size} entries of {check.origin}"
        + (
            "; their events say what the rows say in the columns checked (a request's "
            "every column its own events write, rebuilt by the register's handler; "
            "docs/REPORTS.md lists each table's)"
            if check.contents_checked
            else ""
        )
    )
    if header:
        period = f"{header.get('period_from')} to {header.get('period_to')}"
        if issued is not None:
            echo(
                f"The file is the report {issued['by']} issued at {issued['at']} for {period} "
                "(its SHA-256 is recorded in the ledger): its header and totals are covered too"
            )
        else:
            echo(
                f"It says it covers {period}, generated at {header.get('generated_at')}: the "
                "period, the header and the totals are the report's own words (with the "
                "ledger, --events checks the whole file is one the library issued)"
            )
    if check.unproven:
        echo(
            f"{counted(check.unproven, 'row')} "
            f"{'rests' if check.unproven == 1 else 'rest'} on no one subject of the log (a count over the "
            "period, such as purges made late) and carry no entries"
        )
    if extends is not None:
        echo(f"The report's checkpoint extends the one of {extends} entries you hold")


def _header(data: dict[str, Any]) -> dict[str, Any]:
    """A compliance report's header, which it must have (the register has none, and no
    section of a compliance report: a file that is both is neither)."""
    if "rows" in data:
        mixed = sorted({"header", "integrity", "access", "retention", "disclosures"} & set(data))
        if mixed:
            raise InvalidInput(f"the register also carries {', '.join(mixed)}: not a report")
        return {}
    header = data.get("header")
    if not isinstance(header, dict):
        raise InvalidInput("the report has no header: not a compliance report of this format")
    return header


def _issued(
    click_ctx: click.Context, raw: bytes, header: dict[str, Any], size: int
) -> dict[str, Any]:
    """The ledger's record that this very file was issued (``ComplianceReportIssued``, its
    SHA-256), which binds what no row proof covers: the period, the header, the totals
    (red team, session 16: a report relabelled to a longer period, claiming none of its
    viewings, verified with --events). MerkleProofFailed when the ledger has none, or
    one for another period or checkpoint."""
    import hashlib

    from ledger.integrity import MerkleProofFailed

    ctx: Context = click_ctx.find_object(Context)  # type: ignore[assignment]
    digest = hashlib.sha256(raw).hexdigest()
    found = ctx.ledger().report_issued_as(digest)
    if found is None:
        raise MerkleProofFailed(
            f"the ledger records no compliance report with this file's SHA-256 ({digest}): it "
            "was changed after it was issued, or was never issued by this library"
        )
    said = (header.get("period_from"), header.get("period_to"), size)
    if (found["period_from"], found["period_to"], found["checkpoint_size"]) != said:
        raise MerkleProofFailed(
            "the ledger records this file issued for another period or checkpoint"
        )
    return {"by": found["by"], "at": found["at"].isoformat()}  # type: ignore[attr-defined]


def _as_of(data: dict[str, Any]) -> datetime | None:
    """The time the report says it is as of (None: when it was made), from its header (the
    compliance report) or its top (the register). Not signed: the rows are checked
    against the events recorded by then, so another time is another claim, checked too."""
    said = _header(data).get("as_of") if "header" in data else data.get("as_of")
    if said is None:
        return None
    try:
        moment = datetime.fromisoformat(str(said).replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise InvalidInput(f"the report's as_of {said!r} is not a time with its zone")
    return moment


def register(group: click.Group) -> None:
    group.add_command(verify_report)


@contextmanager
def _entry_counts(click_ctx: click.Context, with_events: bool) -> Iterator[Any]:
    """With the ledger at hand (``--events``): how many entries it holds of a subject
    under a tree size, so that a row resting on a subject's older entries only fails
    (``ledger.report_proofs._newest``); else None."""
    if not with_events:
        yield None
        return
    from ledger.integrity import open_chain

    ctx: Context = click_ctx.find_object(Context)  # type: ignore[assignment]
    reader = open_chain(ctx.datadir())
    store = reader.node_store()
    try:
        yield lambda subject, size: len(reader.aggregate_entries(store, subject, size))
    finally:
        store.close()
