"""custodes verify-report: check a provable report's rows against its signed checkpoint."""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import click
from eventsourcing.persistence import StoredEvent

from cli.common import Context, emit_json, json_failures, json_option
from cli.output import echo
from cli.proofs import _verifier_key
from ledger.clock import CLOCK_TOLERANCE
from ledger.errors import InvalidInput
from ledger.sitetime import iso_utc
from ledger.text import counted

# With the ledger (--events), a report's checkpoint must cover every act recorded this
# long before the ledger records the report issued: the time an honest report takes
# between reading the log's size (its verification walk, a passphrase typed) and
# recording its issuance. Anything older left out means a checkpoint signed over the log
# as it stood earlier (red team, session 23).
STALE_AFTER = timedelta(minutes=10)


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
    help="Also check the report against this data directory's ledger: that it is the "
    "ledger the report's checkpoint signed, that each row's events (decrypted with its "
    "events key) say what the row says, and that a register lists every request of its "
    "period.",
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
    corrections = _corrections(click_ctx, as_of) if with_events else []
    with _entry_counts(click_ctx, with_events) as entries_of:
        check, _cp, note = verify_report_proofs(
            rows,
            proofs,
            key,
            decode=decode,
            check_row=lambda table, row, events, positions: row_check(
                table,
                row,
                events,
                positions,
                as_of=as_of,
                replayed=row_problem,
                corrections=corrections,
            ),
            key_name=key_name,
            entries_of=entries_of,
        )
    _as_of_covered(as_of, _cp)
    if with_events:
        _ledger_extends(click_ctx, _cp)
    integrity = data.get("integrity")
    if isinstance(integrity, dict) and integrity.get("checkpoint") != note:
        from ledger.integrity import MerkleProofFailed

        raise MerkleProofFailed("the report's integrity checkpoint is not the one its rows prove")
    check_integrity_block(data, _cp, key)
    # a compliance report (not the register, whose rows are its whole content) is bound
    # whole by its recorded issuance (red team, session 16: a report whose header was
    # moved away skipped the check)
    listed = None
    if "rows" in data:  # the register: what it covers, and with the ledger, all of it
        listed = _register(click_ctx, raw, data, rows, _cp, key, key_name, with_events)
        issued = listed["issued"]
    else:
        issued = None
        if with_events:
            issued = _issued(click_ctx, raw, header, _cp, as_of)
            _compliance_complete(click_ctx, data, rows, _cp, as_of, proofs)
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
        "checkpoint_time": _cp.time.isoformat(),
        "rows": check.rows,
        "entries": check.entries,
        "events_checked": check.contents_checked,
        "rows_without_subject": check.unproven,
        "extends_checkpoint_of": extends,
        # the report's own words unless ``issued`` (the file's bytes recorded as issued)
        "period": {k: header.get(k) for k in ("period_from", "period_to", "as_of")} or None,
        "generated_at": header.get("generated_at"),
        "issued": issued,
        # the register's: what it says it covers (signed), and whether the ledger's events
        # under its checkpoint hold exactly its requests (null: not checked)
        "covers": listed and listed["covers"],
        # a compliance report with the ledger: every table's rows checked complete
        "complete": listed["complete"] if listed else (True if issued is not None else None),
    }
    if as_json:
        emit_json(result)
        return
    echo(
        f"OK: {check.rows} rows rest on {check.entries} entries of the signed checkpoint of "
        f"{check.tree_size} entries of {check.origin}, signed {iso_utc(_cp.time)}"
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
            echo(
                "It leaves nothing out: its disclosures, viewings, refused attempts, staff "
                "notes and cameras are every one the ledger's events under its checkpoint "
                "hold for its period, and its footage held, overdue footage and attention "
                "list are the rows those events make at its time (an attention item by its "
                "rule, subject and severity, not its wording; what the vault audit found "
                "and nobody recorded aside)"
            )
        else:
            echo(
                f"It says it covers {period}, generated at {header.get('generated_at')}: the "
                "period, the header and the totals are the report's own words (with the "
                "ledger, --events checks the whole file is one the library issued)"
            )
    if listed is not None:
        _say_register(listed, check.rows)
    if check.unproven:
        echo(
            f"{counted(check.unproven, 'row')} "
            f"{'rests' if check.unproven == 1 else 'rest'} on no one subject of the log (a count over the "
            "period, such as purges made late) and carry no entries"
            + ("; the events make them too" if issued is not None and "rows" not in data else "")
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
    click_ctx: click.Context,
    raw: bytes,
    header: dict[str, Any],
    cp: Any,
    as_of: datetime | None,
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
    said = (header.get("period_from"), header.get("period_to"), cp.size)
    if (found["period_from"], found["period_to"], found["checkpoint_size"]) != said:
        raise MerkleProofFailed(
            "the ledger records this file issued for another period or checkpoint"
        )
    _issued_in_time(click_ctx, cp, found["entry"], as_of)
    return {"by": found["by"], "at": found["at"].isoformat()}  # type: ignore[attr-defined]


def _corrections_held(ledger: Any, cp: Any, as_of: datetime | None) -> list[Any]:
    """The clock corrections the checkpoint holds, recorded by ``as_of``: as the
    command that made the report read them (``Ledger.set_aside_spans``)."""
    last = ledger.chain_reader().entry(position=cp.size)[0]
    return [s for s in ledger.set_aside_spans(until=as_of) if s.stop < last]


def _compliance_complete(
    click_ctx: click.Context,
    data: dict[str, Any],
    rows: list[Any],
    cp: Any,
    as_of: datetime | None,
    proofs: Any,
) -> None:
    """With the ledger, a compliance report recorded as issued (so its header is the
    library's): its disclosure rows are every request of its period, as the ledger's
    events under its checkpoint hold them (the register replayed for the period's days
    in the report's own time zone, ``replayed_register``). The register's F6, for the
    report the board is given: its rows' proofs say what each row rests on, not which
    rows. So are its one-event rows, since session 26: every viewing, refused attempt and
    staff note of its period (``_events_complete``), and its cameras
    (``_cameras_complete``); since session 27 its footage held, overdue footage and
    attention list (``_state_complete``). MerkleProofFailed (exit 3) naming a
    request, event or row left out or one too many."""
    from datetime import date
    from zoneinfo import ZoneInfo

    from ledger import sitetime
    from ledger.integrity import MerkleProofFailed
    from projections.disclosures import register_classes, replayed_register, requests_problem

    header = _header(data)
    try:
        first = date.fromisoformat(str(header.get("period_from")))
        last = date.fromisoformat(str(header.get("period_to")))
        zone = ZoneInfo(str(header.get("site_timezone")))
    except (ValueError, KeyError) as e:
        raise MerkleProofFailed(f"the report's header states no period in a time zone ({e})") from e
    start, end = sitetime.days(first, last, zone)
    ctx: Context = click_ctx.find_object(Context)  # type: ignore[assignment]
    ledger = ctx.ledger()
    if str(header.get("site_timezone")) != ledger.site().timezone:
        # set once at init: another zone moves requests across the period's ends (red
        # team, session 23: relabelled to UTC, a request of 5 November evening dropped)
        raise MerkleProofFailed(
            f"the report's header says the site's time zone is {header.get('site_timezone')}, "
            f"the ledger's is {ledger.site().timezone}"
        )
    events = ledger.events_recorded_by(register_classes(), size=cp.size, as_of=as_of)
    replayed = replayed_register(events, start, end, _corrections_held(ledger, cp, as_of))
    listed = [str(row.get("request_id")) for (table, _ref), row in rows if table == "disclosures"]
    problem = requests_problem(listed, [r.ref for r in replayed], plural=True)
    if problem is not None:
        raise MerkleProofFailed(
            f"the report's disclosures are not the ledger's requests of its period: {problem}"
        )
    from ledger.report_proofs import FORMAT

    if isinstance(proofs, dict) and proofs.get("format") == FORMAT:
        _events_complete(ledger, proofs, cp, as_of, start, end)
    else:  # format 1: these rows carry no proofs; at least every one of them is there
        _events_complete(ledger, None, cp, as_of, start, end, rows=rows)
    _cameras_complete(ledger, rows, cp, as_of)
    _state_complete(ledger, header, rows, cp, as_of, first, last, data)


# STATE_TABLES in words, for the failure's message.
_STATE_WORDS = {
    "held": "footage held",
    "overdue": "overdue footage",
    "attention": "attention items",
}


def _state_complete(
    ledger: Any,
    header: dict[str, Any],
    rows: list[Any],
    cp: Any,
    as_of: datetime | None,
    first: Any,
    last: Any,
    data: dict[str, Any],
) -> None:
    """A compliance report's footage held, overdue footage and attention list (states at
    the report's time over every segment, request and hold, not one row per event), and
    the rest of its retention section (its counts, the segments listed, the timeline),
    against the same made from the ledger's events under its checkpoint (and ``as_of``),
    replayed (``projections.compliance.replayed_state_rows``). Its time is its
    checkpoint's (the report signs its checkpoint at the time it states it was
    generated), so it is under the library's signature. The rows must be the same, each
    as many times; a held or overdue row, and the retention section, equal in every
    column both have (a report of an earlier version may lack a column added since), an
    attention item by its rule, subject and severity (its wording changes between
    versions; since session 28 a violation shown as a warning fails). The
    attention items the vault audit found while the report was written ("Found while
    ...") rest on no event and are left out of both. Until session 27 a held or overdue
    segment taken out of the report, the file recorded as issued, passed.
    MerkleProofFailed (exit 3) naming each row left out, listed but not made by the
    events, or different."""
    from ledger.integrity import MerkleProofFailed
    from ledger.report_proofs import COMPLIANCE_TABLES, stated_time
    from projections.compliance import STATE_TABLES, replayed_state_rows

    generated = stated_time(header.get("generated_at"), "generated_at")
    if generated != cp.time:
        raise MerkleProofFailed(
            f"the report says it was generated at {header.get('generated_at')}, its "
            f"checkpoint was signed at {iso_utc(cp.time)}: a report signs its checkpoint "
            "at the time it was generated"
        )
    stop = ledger.chain_reader().entry(position=cp.size)[0]
    _signed_after_its_log(ledger, cp, stop)
    label = "Replaying the report's held, overdue and attention rows from the log"
    with click.progressbar(length=stop, label=label, file=sys.stderr) as bar:
        truth = replayed_state_rows(
            ledger, stop=stop, period_from=first, period_to=last, now=cp.time, as_of=as_of,
            progress=bar.update,
        )  # fmt: skip
    for table in STATE_TABLES:
        ref = COMPLIANCE_TABLES[table][1]
        listed = [row for (t, _r), row in rows if t == table and not _vault_finding(table, row)]
        made = [json.loads(json.dumps(row, default=str)) for row in truth[table]]
        # an attention item: its rule, subject and severity (its wording changes between
        # versions; a violation shown as a warning would not)
        columns = ("severity",) if table == "attention" else None
        problem = _rows_problem(listed, made, ref, columns=columns, required=ALWAYS[table])
        if problem is not None:
            raise MerkleProofFailed(
                f"the report's {_STATE_WORDS[table]} are not what the ledger's events make at "
                f"its time: {problem}"
            )
    # after the rows (a severity changed or taken out is named there)
    _most_serious_first([row for (t, _r), row in rows if t == "attention"])
    section = data.get("retention")
    said = (
        {k: v for k, v in section.items() if k not in ("held", "overdue")}
        if isinstance(section, dict)
        else section
    )
    made_section = {k: v for k, v in truth["retention"].items() if k not in ("held", "overdue")}
    made_section = json.loads(json.dumps(made_section, default=str))
    where = _lacking(said, made_section, "retention") or _first_difference(
        said, made_section, "retention"
    )
    if where is not None:
        raise MerkleProofFailed(
            f"the report's retention section is not what the ledger's events make at its "
            f"time: {where}"
        )


def _most_serious_first(items: list[dict[str, Any]]) -> None:
    """A report lists what needs attention most serious first (every version has): one
    with a violation after a warning was reordered, its violations buried at the end of
    the list (red team, session 28). MerkleProofFailed (exit 3) otherwise."""
    from ledger.integrity import MerkleProofFailed
    from projections.attention import SEVERITY_ORDER

    ranks = [SEVERITY_ORDER.get(str(item.get("severity")), 3) for item in items]
    for i in range(1, len(ranks)):
        if ranks[i] < ranks[i - 1]:
            raise MerkleProofFailed(
                f"the report's attention items are not listed most serious first: item {i + 1} "
                f"({items[i].get('severity')}) comes after a {items[i - 1].get('severity')}"
            )


def _lacking(said: Any, made: Any, path: str) -> str | None:
    """Where a report's section lacks a key every report carries (``ALWAYS``) that the
    events make; None if nowhere."""
    if not isinstance(made, dict):
        return None
    if not isinstance(said, dict):
        return f"{path} is not a section"
    if lacking := sorted((ALWAYS.get(path, frozenset()) & set(made)) - set(said)):
        return f"{path} lacks {', '.join(lacking)}, which every report carries"
    for key in sorted(set(said) & set(made)):
        if where := _lacking(said[key], made[key], f"{path}.{key}"):
            return where
    return None


def _first_difference(said: Any, made: Any, path: str) -> str | None:
    """Where a report's value first differs from the one the events make: objects in
    the keys both have, lists item by item, anything else equal; None if nowhere."""
    if isinstance(said, dict) and isinstance(made, dict):
        for key in sorted(set(said) & set(made)):
            where = _first_difference(said[key], made[key], f"{path}.{key}")
            if where is not None:
                return where
        return None
    if isinstance(said, list) and isinstance(made, list):
        if len(said) != len(made):
            return f"{path} lists {len(said)}, the events make {len(made)}"
        for i, (a, b) in enumerate(zip(said, made, strict=True)):
            where = _first_difference(a, b, f"{path}[{i}]")
            if where is not None:
                return where
        return None
    return None if said == made else f"{path} is {said!r}, the events make {made!r}"


def _signed_after_its_log(ledger: Any, cp: Any, stop: int) -> None:
    """A report's checkpoint is dated at most ``STALE_AFTER`` before the last act it
    holds was recorded (at the latest, ``recorded_by``: an act a clock correction the
    checkpoint holds set aside counts by the correction's time); the report dates it when
    it starts reading, and reads what is recorded meanwhile. The library holds the signing
    key, so it could sign one dated a day earlier over the same log, and a report of that
    time would show fewer segments overdue. MerkleProofFailed (exit 3) otherwise."""
    from ledger.clock_commands import recorded_by
    from ledger.integrity import MerkleProofFailed

    recorded = ledger.chain_reader().act_time_of(cp.size)
    if recorded is None:
        return
    # only the corrections the checkpoint holds (red team, session 27: one recorded after
    # it, by a clock set back, set aside the acts its backdated checkpoint came before)
    latest = recorded_by(ledger.set_aside_spans(held_by=stop), stop, recorded)
    if cp.time < latest - STALE_AFTER:
        raise MerkleProofFailed(
            f"the report's checkpoint is dated {iso_utc(cp.time)}, before the last act it "
            f"holds was recorded ({iso_utc(latest)}): it was not signed when it says"
        )


# What every compliance report has carried since its first version: a column of these
# that the events make and a report lacks was taken out, not left out by an earlier
# version (red team, session 28: an attention item's severity, an overdue row's days or
# the retention counts deleted from an issued report passed, as only the columns both
# had were compared).
ALWAYS: dict[str, frozenset[str]] = {
    "held": frozenset(
        {
            "segment_id",
            "camera_id",
            "recorded_start",
            "recorded_end",
            "reason",
            "kind",
            "reference",
            "age_days",
            "review_by",
        }
    ),
    "overdue": frozenset({"segment_id", "camera_id", "deadline", "days_overdue"}),
    "attention": frozenset({"severity", "rule_id", "rule_source", "text", "subject_id"}),
    "retention": frozenset({"settings", "counts", "timeline"}),
    "retention.settings": frozenset({"retention_days", "schedule_authority"}),
    "retention.counts": frozenset(
        {"captured", "purged_on_time", "purged_late", "overdue_now", "flagged", "held"}
    ),
}


def _vault_finding(table: str, row: dict[str, Any]) -> bool:
    """An attention item of footage the vault audit found gone while the report was
    written, not recorded (``projections.attention``): it rests on no event."""
    return table == "attention" and str(row.get("text", "")).startswith("Found while")


def _rows_problem(
    listed: list[dict[str, Any]],
    made: list[dict[str, Any]],
    ref: Any,
    *,
    columns: tuple[str, ...] | None = None,
    required: frozenset[str] = frozenset(),
) -> str | None:
    """What differs between a report's rows and the rows the events make: a row lacking
    a ``required`` column the events make, then by reference (``COMPLIANCE_TABLES``),
    each as many times, then each row in every column both have (``columns`` None), or
    only in those ``columns`` (each difference shown with both values)."""
    from collections import Counter

    said = []
    made_columns = {k for r in made for k in r}
    for row in listed:
        if lacking := sorted((required & made_columns) - set(row)):
            return f"row {ref(row)} lacks {', '.join(lacking)}, which every report carries"
    have, want = Counter(ref(r) for r in listed), Counter(ref(r) for r in made)
    if missing := sorted((want - have).elements()):
        said.append(f"they leave out {', '.join(missing)}, which the events make")
    if extra := sorted((have - want).elements()):
        said.append(f"they list {', '.join(extra)}, which the events do not make")
    if not said:

        def key(r: dict[str, Any]) -> tuple[str, str]:
            shown = r if columns is None else {c: r.get(c) for c in columns}
            return ref(r), json.dumps(shown, sort_keys=True, default=str)

        for mine, theirs in zip(sorted(listed, key=key), sorted(made, key=key), strict=True):
            both = set(mine) & set(theirs)
            compared = both if columns is None else both & set(columns)
            differ = sorted(k for k in compared if mine[k] != theirs[k])
            if differ:
                what = ", ".join(
                    k if columns is None else f"{k} ({mine[k]!r}, the events make {theirs[k]!r})"
                    for k in differ
                )
                said.append(f"row {ref(mine)} differs in {what}")
                break
    return "; ".join(said) or None


def _cameras_complete(ledger: Any, rows: list[Any], cp: Any, as_of: datetime | None) -> None:
    """A compliance report's cameras (every camera registered, retired ones included, as
    ``projections.cameras`` keeps them) against the cameras the ledger's events register
    under its checkpoint (and ``as_of``): a camera left out of the board's report (one in
    a place it should not be, say) fails, as does one the log does not register
    (session 26). MerkleProofFailed (exit 3) naming each."""
    from ledger.footage import Camera
    from ledger.integrity import MerkleProofFailed

    listed = [str(row.get("camera_id")) for (table, _ref), row in rows if table == "cameras"]
    registered = [
        str(e.camera_id)
        for _n, e in ledger.events_recorded_by([Camera.CameraRegistered], size=cp.size, as_of=as_of)
    ]
    said = []
    if missing := [c for c in registered if c not in listed]:
        said.append(f"they leave out {', '.join(missing)}, which the log registers")
    if extra := [c for c in listed if c not in registered or listed.count(c) > 1]:
        said.append(
            f"they list {', '.join(sorted(set(extra)))}, which the log does not register once"
        )
    if said:
        raise MerkleProofFailed(
            f"the report's cameras are not the ledger's registered cameras: {'; '.join(said)}"
        )


def _one_event_rows() -> dict[str, tuple[str, Any]]:
    """What each one-event table of the compliance report lists (``projections.access``
    and ``projections.refusals`` write one row per such event, stamped with its recorded
    time, and the report lists the rows of its period): in words, and which events."""
    from projections.access import FOOTAGE_ACTIONS

    return {
        "viewings": ("viewings", lambda e: type(e).__name__ == "FootageViewed"),
        "staff_notes": (
            "staff notes",
            lambda e: (
                type(e).__name__ in ("FootageViewed", "FootageFlagged")
                and bool(getattr(e, "staff_note", None))
            ),
        ),
        "refusals": ("refused attempts", lambda e: type(e).__name__ == "AccessDenied"),
        "access_refused": (
            "refused footage attempts",
            lambda e: type(e).__name__ == "AccessDenied" and e.action in FOOTAGE_ACTIONS,
        ),
    }


def _events_complete(
    ledger: Any,
    proofs: dict[str, Any] | None,
    cp: Any,
    as_of: datetime | None,
    start: Any,
    end: Any,
    *,
    rows: list[Any] | None = None,
) -> None:
    """A compliance report's one-event rows (``report_proofs.EVENTS``: viewings, refused
    attempts, staff notes) against the events of its period under its checkpoint (and
    ``as_of``): each row's proven entry (its notification id is in the entry's hash, which
    the checkpoint's tree holds) must be one of them, and each of them a row, once. A
    row proven honest says nothing of the rows left out: a viewing of archived footage
    taken out of the access log, the file recorded as issued (the library holds every
    key) and signed, passed until session 26. MerkleProofFailed (exit 3) names each.
    ``proofs`` None (a report of format 1, whose one-event rows carry no proofs; red
    team, session 26: a report rewritten as format 1 skipped this check): the rows
    themselves (``rows``) are matched to the events by what they state, the segment
    or actor and the time."""
    from ledger.footage import Segment
    from ledger.integrity import MerkleProofFailed
    from ledger.refusals import Refusal

    tables = _one_event_rows()
    classes = [Segment.FootageViewed, Segment.FootageFlagged, Refusal.AccessDenied]
    events = [
        (n, e)
        for n, e in ledger.events_recorded_by(classes, size=cp.size, as_of=as_of)
        if start <= e.timestamp < end
    ]
    if proofs is None:
        _stated_complete(tables, rows or [], events)
        return
    entries = {e.get("position"): e for e in proofs.get("entries") or () if isinstance(e, dict)}
    listed: dict[str, list[int]] = {t: [] for t in tables}
    for prow in proofs.get("rows") or ():
        table = prow.get("table") if isinstance(prow, dict) else None
        if table in listed:
            for position in prow.get("positions") or ():
                listed[table].append(int(entries[position]["notification_id"]))
    for table, (words, of_table) in tables.items():
        truth = {n: e for n, e in events if of_table(e)}
        said = []
        if missing := [n for n in truth if n not in listed[table]]:
            said.append("they leave out " + ", ".join(_event_words(n, truth[n]) for n in missing))
        if extra := [n for n in listed[table] if n not in truth]:
            said.append(
                f"they list event {', '.join(f'#{n}' for n in extra)}, which its period does "
                "not hold"
            )
        if said:
            raise MerkleProofFailed(
                f"the report's {words} are not the ledger's of its period: {'; '.join(said)}"
            )


def _stated_complete(
    tables: dict[str, tuple[str, Any]], rows: list[Any], events: list[tuple[int, Any]]
) -> None:
    """``_events_complete`` for rows without proofs: each table's rows, as (subject,
    instant) they state, must be its events' (the segment's aggregate and the time of a
    viewing or staff note; the actor and the time of a refusal), as many of each."""
    from collections import Counter

    from ledger.footage import segment_aggregate_id
    from ledger.integrity import MerkleProofFailed

    def stated(table: str, row: dict[str, Any]) -> tuple[str, datetime | None]:
        by_segment = table in ("viewings", "staff_notes")
        who = row.get("segment_id") if by_segment else row.get("name", row.get("actor"))
        when = row.get("viewed_at" if table == "viewings" else "at")
        try:
            at = datetime.fromisoformat(str(when))
            subject = str(segment_aggregate_id(str(who))) if by_segment else str(who)
        except ValueError:
            return str(who), None
        return subject, at

    for table, (words, of_table) in tables.items():
        truth = Counter(
            (str(e.originator_id) if table in ("viewings", "staff_notes") else str(e.actor),
             e.timestamp)
            for _n, e in events
            if of_table(e)
        )  # fmt: skip
        listed = Counter(stated(table, row) for (t, _ref), row in rows if t == table)
        if listed != truth:
            missing, extra = truth - listed, listed - truth
            raise MerkleProofFailed(
                f"the report's {words} are not the ledger's of its period (a report of "
                f"format 1, whose rows are matched by what they state): "
                f"{sum(missing.values())} of the period's events are not listed, "
                f"{sum(extra.values())} listed rows are none of them"
            )


def _event_words(notification_id: int, event: Any) -> str:
    return (
        f"event #{notification_id} ({type(event).__name__} by {event.actor} at "
        f"{event.timestamp.isoformat()}), which the log holds for its period"
    )


def _ledger_extends(click_ctx: click.Context, cp: Any) -> None:
    """With the ledger at hand (``--events``): it must be the ledger the report's
    checkpoint signed, the root of its first ``cp.size`` entries the checkpoint's
    (``verify_against``, the walk of ``custodes verify --against``). Whatever else
    ``--events`` reads of it (a row's events, a register's requests) is otherwise of
    another log: a red team of session 23 dropped a request from a register, signed it
    again, and rewrote the ledger so that request's events no longer read as one; the
    register then replayed as complete. LedgerTampered (exit 3) when it is not."""
    from ledger.integrity import open_chain, verify_against

    ctx: Context = click_ctx.find_object(Context)  # type: ignore[assignment]
    verify_against(open_chain(ctx.datadir()), cp)


def _issued_in_time(
    click_ctx: click.Context,
    cp: Any,
    entry: tuple[Any, int],
    as_of: datetime | None,
) -> None:
    """A report recorded as issued (its issuance event ``entry``, at the time its act
    was recorded: the ledger's time and place, not the library's signature, nor the
    event's own ``timestamp``, which only ``verify --deep`` holds to its act) must rest
    on the log as it stood when it was made: every act the log holds between the
    checkpoint and the issuance was recorded at most ``STALE_AFTER`` before the
    issuance, and the report is as of no later than it. A red team of session 23 signed
    a new checkpoint over the log as it stood days before, without the request it wanted
    left out, its time the issue's or set back to match that log; every proof held.
    (The acts after the issuance are never read: a clock correction since cannot make
    an honest report look stale.) MerkleProofFailed (exit 3) otherwise."""
    from ledger.integrity import MerkleProofFailed, open_chain

    ctx: Context = click_ctx.find_object(Context)  # type: ignore[assignment]
    reader = open_chain(ctx.datadir())
    row = reader.entry(originator=entry)
    recorded = None if row is None else reader.act_time_of(row[4])
    if row is None or row[4] <= cp.size or recorded is None:
        raise MerkleProofFailed(
            "the report's issuance is not recorded after its checkpoint: it was not made "
            "from the log that checkpoint signed"
        )
    if not recorded - STALE_AFTER <= cp.time <= recorded + CLOCK_TOLERANCE:
        # red team, session 27: a checkpoint signed again over the same log, dated in a
        # quiet stretch weeks before the issuance, its report made as of then (deadlines
        # not yet missed)
        raise MerkleProofFailed(
            f"the report's checkpoint is dated {iso_utc(cp.time)}, but the ledger records "
            f"the report issued at {iso_utc(recorded)}: a report is issued within "
            f"{int(STALE_AFTER.total_seconds() // 60)} minutes of signing its checkpoint"
        )
    for position, when in reader.acts_between(cp.size + 1, row[4] - 1):
        if when is not None and when < recorded - STALE_AFTER:
            raise MerkleProofFailed(
                f"the report's checkpoint covers {cp.size} entries, but the log holds an act "
                f"(ending at entry {position}) recorded {iso_utc(when)}, before the report's "
                f"issuance ({iso_utc(recorded)}) and not in it: the checkpoint was signed "
                "over the log as it stood earlier, leaving out what came after"
            )
    if as_of is not None and as_of > recorded + CLOCK_TOLERANCE:
        raise MerkleProofFailed(
            f"the report says it is as of {iso_utc(as_of)}, after the ledger records it "
            f"issued ({iso_utc(recorded)})"
        )


def _corrections(click_ctx: click.Context, as_of: datetime | None) -> list[tuple[Any, int]]:
    """With the ledger: its clock corrections recorded by ``as_of``, each with its
    position, for the rows' as-of check (``row_check``); none without an ``as_of``."""
    if as_of is None:
        return []
    ctx: Context = click_ctx.find_object(Context)  # type: ignore[assignment]
    ledger = ctx.ledger()
    reader = ledger.chain_reader()
    return [
        (e, reader.entry(notification_id=n)[4])
        for n, e in ledger.clock_corrections_recorded(until=as_of)
    ]


def _as_of_covered(as_of: datetime | None, cp: Any) -> None:
    """A report as of a time after its checkpoint was signed claims what its checkpoint
    cannot hold (an honest ``--as-of`` is never later than the signing): exit 3."""
    from ledger.integrity import MerkleProofFailed

    if as_of is not None and as_of > cp.time + CLOCK_TOLERANCE:
        raise MerkleProofFailed(
            f"the report says it is as of {iso_utc(as_of)}, after its checkpoint was "
            f"signed ({iso_utc(cp.time)}): the checkpoint cannot hold the log as it was then"
        )


def _as_of(data: dict[str, Any]) -> datetime | None:
    """The time the report says it is as of (None: when it was made), from its header (the
    compliance report) or its top (the register). Not signed in a compliance report: the
    rows are checked against the events recorded by then, so another time is another
    claim, checked too (a register of format 2 signs it: ``check_coverage``)."""
    from ledger.report_proofs import stated_time

    said = _header(data).get("as_of") if "header" in data else data.get("as_of")
    return stated_time(said, "as_of")


def _register(
    click_ctx: click.Context,
    raw: bytes,
    data: dict[str, Any],
    rows: list[Any],
    cp: Any,
    key: Any,
    key_name: str | None,
    with_events: bool,
) -> dict[str, Any]:
    """A register's statement of what it covers (format 2, signed: checked without the
    ledger) and, with the ledger (``--events``), that the ledger's events under its
    checkpoint hold exactly the requests it lists for that period and time, with the
    refusals and forgotten patrons its rows state; then that the file is one the ledger
    records as issued. An outside review (F6): a register with a row dropped and signed
    again verified, --events too. MerkleProofFailed (exit 3) when any of it fails."""
    from ledger.integrity import MerkleProofFailed
    from ledger.report_proofs import REGISTER_FORMAT, REGISTER_FORMAT_V1, check_coverage
    from projections.disclosures import register_classes, register_problem, replayed_register

    if data.get("format") not in (REGISTER_FORMAT, REGISTER_FORMAT_V1):
        raise InvalidInput(
            f"the register's format {data.get('format')!r} is not one this version knows"
        )
    covers = check_coverage(data, cp, key, key_name) if data["format"] == REGISTER_FORMAT else None
    if not with_events:
        return {"covers": covers, "complete": None, "issued": None}
    ctx: Context = click_ctx.find_object(Context)  # type: ignore[assignment]
    ledger = ctx.ledger()
    said = covers or {"since": None, "until": None, "as_of": _as_of(data)}
    events = ledger.events_recorded_by(register_classes(), size=cp.size, as_of=said["as_of"])
    spans = _corrections_held(ledger, cp, said["as_of"])
    replayed = replayed_register(events, said["since"], said["until"], spans)
    problem = register_problem([row for _, row in rows], replayed, whole=covers is not None)
    if problem is not None:
        raise MerkleProofFailed(f"the register is not what the ledger's events say: {problem}")
    if covers is None:  # format 1 states no period, and was never recorded as issued
        return {"covers": None, "complete": None, "issued": None}
    digest = hashlib.sha256(raw).hexdigest()
    found = ledger.register_issued_as(digest)
    if found is None:
        raise MerkleProofFailed(
            f"the ledger records no disclosure register with this file's SHA-256 ({digest}): "
            "it was changed after it was issued, or was never issued by this library"
        )
    recorded = (found.since, found.until, found.as_of, found.checkpoint_size)
    if recorded != (said["since"], said["until"], said["as_of"], cp.size):
        raise MerkleProofFailed(
            "the ledger records this file issued for another period or checkpoint"
        )
    _issued_in_time(click_ctx, cp, (found.originator_id, found.originator_version), said["as_of"])
    issued = {"by": found.actor, "at": found.timestamp.isoformat()}
    return {"covers": covers, "complete": True, "issued": issued}


def _say_register(listed: dict[str, Any], rows: int) -> None:
    """What a register's check found, in words (``_register``)."""

    covers = listed["covers"]
    if covers is None:
        echo(
            "The register is of format 1 and states no period: whether it lists every "
            "request is not checked (a register of format 2 says what it covers)"
        )
        return
    since, until, as_of = covers["since"], covers["until"], covers["as_of"]
    period = (
        f"opened from {iso_utc(since) if since else 'the first request'} to before "
        f"{iso_utc(until) if until else 'its checkpoint'}"
    )
    state = f"as of {iso_utc(as_of)}" if as_of else "as the log held them at its checkpoint"
    echo(
        f"The register says, under the library's signature, it lists every request {period}, {state}"
    )
    if listed["complete"]:
        issued = listed["issued"]
        echo(
            f"The ledger's events hold exactly these {counted(rows, 'request')} for it, with "
            "the refusals and forgotten patrons the rows state; it is the register "
            f"{issued['by']} issued at {issued['at']} (its SHA-256 is recorded in the ledger)"
        )
    else:
        echo(
            "Whether it lists every request, and each row's refusals and forgotten patron, "
            "is checked with the ledger (--events)"
        )


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
