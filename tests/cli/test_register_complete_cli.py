"""An outside review (F6): the library holds the signing key, so it could leave a request
out of the disclosure register, sign it again, and `verify-report --events` passed;
and a row's refusals and forgotten patron were not checked at all. The register (format
2) now states what it covers under the library's signature, is recorded as issued, and
`verify-report --events` replays the register from the ledger's events under its
checkpoint for that period and time: a request left out, one listed that the period does
not hold, or a wrong refusals count or erased mark fails (exit 3), naming the request."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ledger.clock import ManualClock
from ledger.datadir import DataDir
from ledger.errors import NotPermitted
from tests.cli.test_reports_cli import PERIOD, D, S, run
from tests.cli.test_reports_cli import world as world  # noqa: F401 - the scenario
from tests.conftest import NOW
from tests.identity import fast_kdf_while_building, open_test_ledger
from tests.integration.test_compliance_report import CARD, Scenario

LATER = "2026-11-08T18:00:00Z"  # the commands' time: after the request of 6 November


@pytest.fixture(scope="module")
def town(world: tuple[Path, Scenario]) -> tuple[Path, Scenario, str]:
    """The compliance report's week (``world``, this module's own), then on 6 November
    (outside `PERIOD`) a request opened, a member's refused attempt to decide the FOIA
    request (a refusal naming it) and the emergency request's patron forgotten. The data
    directory, the scenario and the later request's reference."""
    path, sc = world
    with fast_kdf_while_building():
        ledger = open_test_ledger(DataDir.open(path), clock=ManualClock(NOW + timedelta(days=4)))
        try:
            later = ledger.open_request(
                requester_kind="public", requester="A neighbour", received_by=S,
                records=["registration"], description="who borrowed it", actor=S,
            )  # fmt: skip
            with pytest.raises(NotPermitted):
                ledger.decide(sc.foia, approve=True, reason="why not", actor=S)
            ledger.forget_patron(CARD, reason="patron asked", actor=D)
        finally:
            ledger.close()
    return path, sc, later


def _issued(data: Path, tmp_path: Path, *args: str, name: str = "register.json") -> Path:
    out = tmp_path / name
    out.write_text(run(data, "report", "disclosures", *args, "--json", "--prove", now=LATER).stdout)
    return out


def _key(data: Path, tmp_path: Path) -> Path:
    key = tmp_path / "library.pem"
    key.write_text(run(data, "keys", "export-public").stdout)
    return key


def _verify(data: Path, path: Path, key: Path, *extra: str, code: int = 0) -> Any:
    return run(data, "verify-report", str(path), "--key", str(key), *extra, code=code, now=LATER)


def _resigned(data: Path, doc: dict[str, Any], path: Path) -> Path:
    """What the library, which holds the signing key, can make of an edited register: its
    rows proven again against the same checkpoint, what it covers signed again."""
    from ledger.checkpoint import parse_unverified
    from ledger.integrity import open_chain
    from ledger.report_proofs import coverage_note, prove_rows, report_rows, stated_time

    datadir = DataDir.open(data)
    note = doc["proofs"]["checkpoint"]
    cp = parse_unverified(note)
    times = {k: stated_time(doc[k], k) for k in ("since", "until", "as_of")}
    doc["proofs"] = prove_rows(open_chain(datadir), cp, note, report_rows(doc))
    doc["coverage"] = coverage_note(cp, datadir.signing_key(None), **times, rows=doc["rows"])
    path.write_text(json.dumps(doc, indent=2))
    return path


def _refs(doc: dict[str, Any]) -> list[str]:
    return [r["ref"] for r in doc["rows"]]


def test_an_honest_register_is_complete_and_recorded_as_issued(town, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data, sc, later = town
    out = _issued(data, tmp_path, *PERIOD)
    doc = json.loads(out.read_text())
    assert doc["format"] == "custodes-disclosure-register/2"
    assert doc["since"].startswith("2026-11-01T05:00") and doc["until"].startswith("2026-11-06")
    assert _refs(doc) == [sc.emergency, sc.foia, sc.decided_later]  # not the later one
    assert doc["coverage"].startswith("custodes-disclosure-register/2\n")
    key = _key(data, tmp_path)

    checked = json.loads(_verify(data, out, key, "--events", "--json").stdout)
    assert checked["complete"] is True and checked["issued"]["by"] == D
    assert checked["covers"]["since"] == doc["since"]
    said = _verify(data, out, key, "--events").stdout
    assert "it lists every request opened from 2026-11-01T05:00:00Z" in said
    assert "hold exactly these 3 requests" in said
    alone = json.loads(_verify(data, out, key, "--json").stdout)  # the file alone
    assert alone["complete"] is None and alone["covers"]["until"] == doc["until"]
    # the same register written out again is not the file issued: bytes, not content
    (tmp_path / "again.json").write_text(json.dumps(doc))
    _verify(data, tmp_path / "again.json", key)
    said = _verify(data, tmp_path / "again.json", key, "--events", code=3).stderr
    assert "records no disclosure register with this file's SHA-256" in said

    # the issuance names the file's SHA-256 and the requests it listed
    ledger = open_test_ledger(DataDir.open(data), clock=ManualClock(NOW + timedelta(days=6)))
    try:
        issued = ledger.register_issued_as(hashlib.sha256(out.read_bytes()).hexdigest())
    finally:
        ledger.close()
    assert issued is not None and issued.refs == _refs(doc)
    assert issued.checkpoint_size == doc["proofs"]["tree_size"]


def test_a_row_dropped_and_signed_again_fails_naming_the_request(town, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data, sc, _later = town
    out = _issued(data, tmp_path, *PERIOD)
    key = _key(data, tmp_path)
    doc = json.loads(out.read_text())
    at = _refs(doc).index(sc.foia)
    doc["rows"].pop(at)
    doc["proofs"]["rows"].pop(at)

    # by anyone without the key: the signed statement of what it covers says otherwise
    (tmp_path / "dropped.json").write_text(json.dumps(doc))
    said = _verify(data, tmp_path / "dropped.json", key, code=3).stderr
    assert "signed statement says 'rows 3 sha256:" in said, said
    # by the library, signed again: the file alone verifies; the ledger names the request
    resigned = _resigned(data, doc, tmp_path / "resigned.json")
    _verify(data, resigned, key)
    said = _verify(data, resigned, key, "--events", code=3).stderr
    assert f"it leaves out {sc.foia}, which the log holds for its period" in said, said


def test_a_row_its_period_does_not_hold_fails(town, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data, _sc, later = town
    key = _key(data, tmp_path)
    everything = json.loads(_issued(data, tmp_path).read_text())
    assert later in _refs(everything)
    doc = json.loads(_issued(data, tmp_path, *PERIOD).read_text())
    doc["rows"].append(next(r for r in everything["rows"] if r["ref"] == later))
    resigned = _resigned(data, doc, tmp_path / "extra.json")
    _verify(data, resigned, key)  # a real request's row, proven
    said = _verify(data, resigned, key, "--events", code=3).stderr
    assert f"it lists {later}, which its period does not hold" in said, said


@pytest.mark.parametrize(
    "column,row,value,truth",
    [("refusals", "foia", 0, 1), ("patron_erased", "emergency", False, True)],
)
def test_a_rows_refusals_and_forgotten_patron_are_read_from_the_ledger(  # type: ignore[no-untyped-def]
    town, tmp_path: Path, column: str, row: str, value: Any, truth: Any
) -> None:
    data, sc, _later = town
    key = _key(data, tmp_path)
    doc = json.loads(_issued(data, tmp_path).read_text())
    ref = getattr(sc, row)
    listed = next(r for r in doc["rows"] if r["ref"] == ref)
    assert listed[column] == truth  # the register says it; now a lie, signed again
    listed[column] = value
    resigned = _resigned(data, doc, tmp_path / "lied.json")
    said = _verify(data, resigned, key, "--events", code=3).stderr
    assert f"{ref}: {column} {truth!r} in the events, {value!r} in the row" in said, said


def test_a_register_for_a_period_or_an_earlier_time_checks_only_that(town, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data, _sc, later = town
    key = _key(data, tmp_path)
    # the ledger holds a request after the period: not missing from the period's register
    period = _issued(data, tmp_path, *PERIOD)
    _verify(data, period, key, "--events")
    # ... and the register of 6 November lists it alone
    sixth = _issued(data, tmp_path, "--from", "2026-11-06", name="sixth.json")
    assert _refs(json.loads(sixth.read_text())) == [later]
    _verify(data, sixth, key, "--events")
    # the period's register stretched to no end, signed again: the later one is missing
    doc = json.loads(period.read_text())
    doc["until"] = None
    said = _verify(data, _resigned(data, doc, tmp_path / "wider.json"), key, "--events", code=3)
    assert f"it leaves out {later}" in said.stderr
    # as of 5 November, before the later request: complete without it; as of now, not
    then = (NOW + timedelta(days=3, hours=1)).isoformat()
    then_file = _issued(data, tmp_path, "--as-of", then, name="then.json")
    earlier = json.loads(then_file.read_text())
    assert later not in _refs(earlier) and earlier["rows"]
    _verify(data, then_file, key, "--events")
    earlier["as_of"] = None
    said = _verify(data, _resigned(data, earlier, tmp_path / "now.json"), key, "--events", code=3)
    assert f"it leaves out {later}" in said.stderr


def test_a_register_of_format_1_is_checked_as_before_and_says_so(town, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data, _sc, _later = town
    key = _key(data, tmp_path)
    doc = json.loads(_issued(data, tmp_path, *PERIOD).read_text())
    old = {
        "format": "custodes-disclosure-register/1",
        "as_of": None,
        "rows": doc["rows"],
        "proofs": doc["proofs"],
    }
    (tmp_path / "old.json").write_text(json.dumps(old))
    checked = json.loads(_verify(data, tmp_path / "old.json", key, "--events", "--json").stdout)
    assert checked["ok"] is True and checked["complete"] is None and checked["issued"] is None
    said = _verify(data, tmp_path / "old.json", key, "--events").stdout
    assert "format 1 and states no period" in said
    # its rows' refusals are still read from the ledger
    foia = next(r for r in old["rows"] if r["refusals"])
    foia["refusals"] = 0
    (tmp_path / "old.json").write_text(json.dumps(old))
    assert (
        "refusals 1 in the events"
        in _verify(data, tmp_path / "old.json", key, "--events", code=3).stderr
    )
    old["format"] = "custodes-disclosure-register/9"
    (tmp_path / "old.json").write_text(json.dumps(old))
    assert (
        "is not one this version knows" in _verify(data, tmp_path / "old.json", key, code=1).stderr
    )


def test_a_ledger_rewritten_after_the_register_is_not_the_one_it_is_checked_against(
    tmp_path: Path,
) -> None:
    """Red team, session 23: the library drops a request from the register, signs it
    again, then rewrites its ledger so the request's events no longer read as a request
    (re-chained and re-signed with every key it holds). The replay of that ledger lists
    no such request, so the register looked complete: --events must first find that the
    ledger at hand is not the one the register's checkpoint signed."""
    from uuid import UUID

    from sqlalchemy import bindparam, create_engine, text

    from ledger.disclosure import request_id
    from tests.chain_rewrite import rechain_from
    from tests.integration.test_compliance_report import build_library

    data = tmp_path / "data"
    with fast_kdf_while_building():
        sc = build_library(data)  # on CUSTODES_DATABASE_URL's database when it is set
    out = _issued(data, tmp_path, *PERIOD)
    key = _key(data, tmp_path)
    doc = json.loads(out.read_text())
    at = _refs(doc).index(sc.foia)
    doc["rows"].pop(at)
    doc["proofs"]["rows"].pop(at)
    resigned = _resigned(data, doc, tmp_path / "resigned.json")
    _verify(data, resigned, key, "--events", code=3)  # the ledger as it was names it

    engine = create_engine(DataDir.open(data).database_url)
    with engine.begin() as conn:
        rid = request_id(sc.foia)
        ids = [
            i
            for i, o in conn.execute(text("SELECT id, originator_id FROM ledger_events"))
            if (o if isinstance(o, UUID) else UUID(bytes=bytes(o))) == rid
        ]
        conn.execute(
            text("UPDATE ledger_events SET topic = :t WHERE id IN :ids").bindparams(
                bindparam("ids", expanding=True)
            ),
            {"t": "ledger.footage:Camera.CameraRetired", "ids": ids},
        )
    engine.dispose()
    rechain_from(data, min(ids))  # every key is held: the acts are signed again

    said = _verify(data, resigned, key, "--events", code=3).stderr
    assert said.startswith("Error: ledger verification FAILED"), said
    assert sc.foia not in said  # not a missing request: another ledger altogether


def _stale(
    data: Path,
    hide: str,
    out: Path,
    now: datetime,
    *,
    as_of: datetime | None,
    signed: datetime | None = None,
    dated: datetime | None = None,
) -> int:
    """What the library, holding every key, can make to leave ``hide`` out: a checkpoint
    signed ``now`` (or stating ``signed``) over the log just before ``hide`` was opened,
    the period's register replayed from that log, its coverage and proofs signed, its
    issuance recorded ``now`` (its event saying ``dated``, when given: made by hand, not
    by the command)."""
    from cli.common import json_text, to_jsonable
    from ledger.checkpoint import Checkpoint
    from ledger.disclosure import request_id
    from ledger.integrity import open_chain, sign_checkpoint, verify_and_extend
    from ledger.report_proofs import REGISTER_FORMAT, coverage_note, prove_rows, stated_time
    from projections.disclosures import register_classes, replayed_register

    dd = DataDir.open(data)
    reader = open_chain(dd)
    store = reader.node_store()
    n = reader.aggregate_entries(store, request_id(hide), 10**9)[0][4] - 1
    store.close()
    root = verify_and_extend(reader, roots_at={n}).roots[n]
    key = dd.signing_key(None)
    since = stated_time("2026-11-01T05:00:00Z", "since")
    until = stated_time("2026-11-06T06:00:00Z", "until")
    ledger = open_test_ledger(dd, clock=ManualClock(now))
    try:
        origin = ledger.site().log_origin
        cp = Checkpoint(origin=origin, size=n, root=root, time=signed or now)
        note = sign_checkpoint(cp, key, origin)
        events = ledger.events_recorded_by(register_classes(), size=n, as_of=as_of)
        rows = [to_jsonable(r) for r in replayed_register(events, since, until)]
        doc = {
            "format": REGISTER_FORMAT, "since": since, "until": until, "as_of": as_of,
            "rows": rows,
            "coverage": coverage_note(cp, key, since=since, until=until, as_of=as_of, rows=rows),
            "proofs": prove_rows(reader, cp, note, [(("register", r["ref"]), r) for r in rows]),
        }  # fmt: skip
        text = json_text(doc) + "\n"
        out.write_text(text)
        issued = dict(
            since=since, until=until, as_of=as_of,
            output_sha256=hashlib.sha256(text.encode()).hexdigest(),
            checkpoint_size=n, checkpoint_root=root.hex(), refs=[r["ref"] for r in rows],
        )  # fmt: skip
        if dated is None:
            ledger.record_register_issued(**issued, actor=D)  # type: ignore[arg-type]
        else:
            from uuid import uuid4

            from ledger.report_records import IssuedRegister

            event = IssuedRegister.DisclosureRegisterIssued
            ledger.save(IssuedRegister._create(
                event, id=uuid4(), timestamp=dated, actor=D, actor_role="director",
                occurred_at=None, **issued,
            ))  # fmt: skip
    finally:
        ledger.close()
    return n


@pytest.mark.parametrize(
    "how", ["signed now", "as of now", "signed back then", "signed and dated back then"]
)
def test_a_register_signed_over_the_log_as_it_stood_earlier_fails(  # type: ignore[no-untyped-def]
    town, tmp_path: Path, how: str
) -> None:
    """Red team, session 23: every proof of such a register holds, its coverage is signed
    and its issuance recorded, and the replay of the log under its checkpoint lists
    exactly its requests; only the acts the log holds between the checkpoint and the
    issuance show the log it stands on was days old (the checkpoint's own time is the
    library's word: a second red team set it back to match). With the ledger that is
    exit 3."""
    data, sc, _later = town
    key = _key(data, tmp_path)
    now = datetime.fromisoformat(LATER)  # the commands' time: no act after it
    out = tmp_path / "stale.json"
    back = datetime.fromisoformat("2026-11-02T15:05:00Z") if "back then" in how else None
    as_of = now if how == "as of now" else None
    dated = back if how == "signed and dated back then" else None
    size = _stale(data, sc.decided_later, out, now, as_of=as_of, signed=back, dated=dated)
    assert sc.decided_later not in _refs(json.loads(out.read_text()))
    said = _verify(data, out, key, "--events", code=3).stderr
    if back is None:
        assert f"covers {size} entries, but the log holds an act" in said, said
        assert "signed over the log as it stood earlier" in said
    else:  # since session 27 its time is held to its issuance's first (red team)
        assert "the report's checkpoint is dated 2026-11-02T15:05:00Z, but the ledger " in said
        assert "records the report issued at 2026-11-08T18:00:00Z" in said, said
    # honest registers made now pass, and say when their checkpoint was signed
    honest = _verify(data, _issued(data, tmp_path, *PERIOD), key, "--events").stdout
    assert ", signed 2026-11-08T18:00:00Z" in honest


def test_a_register_as_of_a_time_after_its_checkpoint_fails(town, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data, _sc, _later = town
    key = _key(data, tmp_path)
    doc = json.loads(_issued(data, tmp_path, *PERIOD).read_text())
    doc["as_of"] = "2026-11-09T00:00:00Z"  # the checkpoint was signed 8 November, 18:00
    said = _verify(data, _resigned(data, doc, tmp_path / "later.json"), key, code=3).stderr
    assert "is as of 2026-11-09T00:00:00Z, after its checkpoint was signed" in said, said


def _opened_ahead(data: Path) -> str:
    """The week of ``build_library``, then a request opened on 7 November 2026 at 10:00 by
    a clock reading 1 June 2027, and at 11:00 the Director's correction setting that time
    aside. The request's reference."""
    from datetime import UTC

    from tests.integration.test_compliance_report import build_library

    with fast_kdf_while_building():
        build_library(data)
        ahead = open_test_ledger(DataDir.open(data), clock=ManualClock(datetime(2027, 6, 1, tzinfo=UTC)))  # fmt: skip
        try:  # really 7 November 2026, 10:00; recorded as 1 June 2027
            hidden = ahead.open_request(
                requester_kind="public", requester="A reporter", received_by=S,
                records=["registration"], description="who borrowed it", actor=S,
            )  # fmt: skip
        finally:
            ahead.close()
        fixed = open_test_ledger(DataDir.open(data), clock=ManualClock(datetime(2026, 11, 7, 11, tzinfo=UTC)))  # fmt: skip
        try:
            fixed.correct_clock(reason="the host's clock jumped ahead", actor=D)
        finally:
            fixed.close()
    return hidden


def test_a_register_as_of_after_a_clock_correction_verifies(tmp_path: Path) -> None:
    """Red team, session 23 (a false alarm): a request opened by a clock set ahead, its
    time then set aside by the Director's correction, is read by an as-of register made
    after the correction as recorded by the correction (as the as-of views read it); the
    row's check looked for the correction among the request's own events only, found
    none, and failed an honest register (exit 3)."""
    data = tmp_path / "data"
    hidden = _opened_ahead(data)
    key = _key(data, tmp_path)
    out = _issued(data, tmp_path, "--as-of", "2026-11-07T12:00:00Z")
    assert hidden in _refs(json.loads(out.read_text()))
    _verify(data, out, key, "--events")
    before = _issued(data, tmp_path, "--as-of", "2026-11-07T10:30:00Z", name="before.json")
    assert hidden not in _refs(json.loads(before.read_text()))  # not corrected by then
    _verify(data, before, key, "--events")


def test_a_request_opened_by_a_clock_set_ahead_is_in_the_register_of_its_real_period(
    tmp_path: Path,
) -> None:
    """Red team, session 23: a request opened on 7 November by a clock reading June 2027,
    then corrected, was in no register of November (its own time said 2027), and
    verify-report --events called the register complete. Its time is now the span the
    correction names (after the last act before it, before the correction): it is in the
    register of every period meeting that span, the replay agrees, and the compliance
    report's statistics count it there."""
    data = tmp_path / "data"
    hidden = _opened_ahead(data)
    key = _key(data, tmp_path)
    november = _issued(data, tmp_path, "--from", "2026-11-06", "--to", "2026-11-08")
    assert hidden in _refs(json.loads(november.read_text()))
    _verify(data, november, key, "--events")
    whole = _issued(data, tmp_path, name="whole.json")  # no period: once, as ever
    assert _refs(json.loads(whole.read_text())).count(hidden) == 1
    _verify(data, whole, key, "--events")
    stats = run(data, "report", "statistics", "--from", "2026-11-06", "--to", "2026-11-08",
                "--threshold", "1", "--json", "--as", D, now=LATER)  # fmt: skip
    assert json.loads(stats.stdout)["tables"]["requests_by_kind"]["total"]["count"] == 1
    # after the span: not in the register of 9 November
    ninth = _issued(data, tmp_path, "--from", "2026-11-09", "--to", "2026-11-09", name="9.json")
    assert hidden not in _refs(json.loads(ninth.read_text()))


def _without(doc: dict[str, Any], ref: str) -> dict[str, Any]:
    """A compliance report's JSON with request ``ref``'s disclosure row and its proof
    taken out (the other rows' proofs stand)."""
    from ledger.report_proofs import report_rows

    at = [key for key, _row in report_rows(doc)].index(("disclosures", ref))
    doc["proofs"]["rows"].pop(at)
    doc["disclosures"]["rows"] = [r for r in doc["disclosures"]["rows"] if r["request_id"] != ref]
    return doc


def _recorded_as_issued(data: Path, doc: dict[str, Any], path: Path) -> Path:
    """What the library, holding every key, can do with a compliance report it edited:
    write it and record its issuance (its SHA-256) as its own report of 1–5 November."""
    from datetime import date

    from ledger.checkpoint import parse_unverified

    cp = parse_unverified(doc["proofs"]["checkpoint"])
    text = json.dumps(doc, indent=2)
    path.write_text(text)
    ledger = open_test_ledger(DataDir.open(data), clock=ManualClock(datetime.fromisoformat(LATER)))
    try:
        ledger.record_report_issued(
            period_from=date(2026, 11, 1), period_to=date(2026, 11, 5), as_of=None,
            format="json", output_sha256=hashlib.sha256(text.encode()).hexdigest(),
            checkpoint_size=cp.size, checkpoint_root=cp.root.hex(), actor=D,
        )  # fmt: skip
    finally:
        ledger.close()
    return path


def test_a_compliance_report_with_a_disclosure_left_out_fails_with_the_ledger(  # type: ignore[no-untyped-def]
    town, tmp_path: Path
) -> None:
    """F6 for the report the board is given (session 23): its disclosure rows are proven
    row by row, and its whole file is bound by its issuance record, but the library can
    record the issuance of a report it made without a request. With the ledger, the rows
    must be the ledger's requests of the report's period."""
    data, sc, _later = town
    key = _key(data, tmp_path)
    out = tmp_path / "report.json"
    run(data, "report", "compliance", *PERIOD, "--format", "json", "--out", str(out),
        "--as", D, now=LATER)  # fmt: skip
    _verify(data, out, key, "--events")  # honest: its disclosures are the period's requests
    doc = _without(json.loads(out.read_text()), sc.foia)
    doctored = _recorded_as_issued(data, doc, tmp_path / "doctored.json")
    said = _verify(data, doctored, key, "--events", code=3).stderr
    assert f"they leave out {sc.foia}, which the log holds for its period" in said, said


def _without_row(doc: dict[str, Any], table: str, at: int = 0) -> tuple[dict[str, Any], int]:
    """A compliance report's JSON with the ``at``-th row of one-event ``table`` (a viewing,
    a refused attempt) and its proof taken out (the other rows' proofs stand); and the
    notification id of the event it rested on."""
    from ledger.report_proofs import COMPLIANCE_TABLES, report_rows

    keys = [key for key, _row in report_rows(doc)]
    first = next(i for i, (t, _ref) in enumerate(keys) if t == table)
    proof = doc["proofs"]["rows"].pop(first + at)
    (position,) = proof["positions"]
    (entry,) = [e for e in doc["proofs"]["entries"] if e["position"] == position]
    path, _ref = COMPLIANCE_TABLES[table]
    section = doc
    for part in path[:-1]:
        section = section[part]
    section[path[-1]].pop(at)
    return doc, int(entry["notification_id"])


def _honest_report(data: Path, tmp_path: Path, key: Path) -> dict[str, Any]:
    out = tmp_path / "report.json"
    run(data, "report", "compliance", *PERIOD, "--format", "json", "--out", str(out),
        "--as", D, now=LATER)  # fmt: skip
    said = _verify(data, out, key, "--events").stdout  # honest: every row of its period
    assert "It leaves nothing out: its disclosures, viewings, refused attempts" in said, said
    assert "the events make them too" in said, said  # the counts over the period
    doc: dict[str, Any] = json.loads(out.read_text())
    return doc


@pytest.mark.parametrize(
    ("table", "words"),
    [("viewings", "viewings"), ("refusals", "refused attempts"),
     ("access_refused", "refused footage attempts")],
)  # fmt: skip
def test_a_compliance_report_with_an_event_row_left_out_fails_with_the_ledger(  # type: ignore[no-untyped-def]
    town, tmp_path: Path, table: str, words: str
) -> None:
    """F6 for the access log (session 26): a viewing of archived footage, or a refused
    attempt, taken out of the report the library issues (its row and proof removed, the
    file recorded as issued) passed: each remaining row is proven, and nothing said
    which rows the period holds. With the ledger, the one-event rows must be the
    period's events, each once."""
    data, _sc, _later = town
    key = _key(data, tmp_path)
    doc = _honest_report(data, tmp_path, key)
    doc, left_out = _without_row(doc, table)
    doctored = _recorded_as_issued(data, doc, tmp_path / "doctored.json")
    said = _verify(data, doctored, key, "--events", code=3).stderr
    assert f"the report's {words} are not the ledger's of its period" in said, said
    assert f"they leave out event #{left_out} (" in said, said
    _verify(data, doctored, key)  # without the ledger: nothing to compare with


def test_a_compliance_report_with_a_camera_left_out_fails_with_the_ledger(  # type: ignore[no-untyped-def]
    town, tmp_path: Path
) -> None:
    """The board's report lists every camera the library registered (session 26): one
    taken out of it (its row and proof removed, the file recorded as issued) passed,
    each remaining camera being proven. With the ledger it fails."""
    from ledger.report_proofs import report_rows

    data, _sc, _later = town
    key = _key(data, tmp_path)
    doc = _honest_report(data, tmp_path, key)
    at = [t for (t, _ref), _row in report_rows(doc)].index("cameras")
    doc["proofs"]["rows"].pop(at)
    camera = doc["cameras"]["rows"].pop(0)["camera_id"]
    doctored = _recorded_as_issued(data, doc, tmp_path / "doctored.json")
    said = _verify(data, doctored, key, "--events", code=3).stderr
    assert "the report's cameras are not the ledger's registered cameras" in said, said
    assert f"they leave out {camera}, which the log registers" in said, said


def test_a_compliance_report_listing_a_refusal_of_another_period_fails_with_the_ledger(  # type: ignore[no-untyped-def]
    town, tmp_path: Path
) -> None:
    """A refused attempt of 6 November (``town``: a member refused deciding the FOIA
    request), outside the report's period but under its checkpoint, added to the report
    of 1-5 November as its events say, proven again against the same checkpoint and the
    file recorded as issued (the library holds every key): each row rests on its own
    event, but that event is not of the period."""
    from ledger.checkpoint import parse_unverified
    from ledger.integrity import open_chain
    from ledger.refusals import Refusal
    from ledger.report_proofs import EVENTS, _iso, prove_rows, report_rows

    data, _sc, _later = town
    key = _key(data, tmp_path)
    doc = _honest_report(data, tmp_path, key)
    note = doc["proofs"]["checkpoint"]
    cp = parse_unverified(note)
    ledger = open_test_ledger(DataDir.open(data), clock=ManualClock(datetime.fromisoformat(LATER)))
    try:
        later = [
            (n, e)
            for n, e in ledger.events_recorded_by([Refusal.AccessDenied], size=cp.size)
            if e.timestamp >= NOW + timedelta(days=4)
        ]
    finally:
        ledger.close()
    nid, refusal = later[0]
    entries = {e["position"]: e for e in doc["proofs"]["entries"]}
    sources: dict[str, list[int]] = {t: [] for t in EVENTS}
    for proof in doc["proofs"]["rows"]:
        if proof["table"] in EVENTS:
            sources[proof["table"]].append(int(entries[proof["positions"][0]]["notification_id"]))
    row = dict(doc["refusals"][0])
    row.update(at=_iso(refusal.timestamp), actor=refusal.actor, role=refusal.actor_role,
               action=refusal.action, rule_id=refusal.rule_id, message=refusal.message,
               signed_in=bool(refusal.authenticated))  # fmt: skip
    doc["refusals"].append(row)
    sources["refusals"].append(nid)
    doc["proofs"] = prove_rows(open_chain(DataDir.open(data)), cp, note, report_rows(doc), sources)
    doctored = _recorded_as_issued(data, doc, tmp_path / "doctored.json")
    _verify(data, doctored, key)  # every row rests on its own event: without the ledger, OK
    said = _verify(data, doctored, key, "--events", code=3).stderr
    assert f"they list event #{nid}, which its period does not hold" in said, said


def test_a_report_rewritten_as_format_1_still_lists_every_viewing(  # type: ignore[no-untyped-def]
    town, tmp_path: Path
) -> None:
    """Red team, session 26: the one-event rows' check used their proofs, which a report
    of format 1 does not carry, so a viewing left out of a report rewritten as format 1
    (and recorded as issued) passed. Format 1's rows are matched to the period's events
    by what they state; an honest one still verifies."""
    data, _sc, _later = town
    key = _key(data, tmp_path)
    from tests.cli.test_verify_report_cli import as_format_1

    doc = as_format_1(data, _honest_report(data, tmp_path, key))
    honest = _recorded_as_issued(data, json.loads(json.dumps(doc)), tmp_path / "v1.json")
    _verify(data, honest, key, "--events")
    doc["access"]["viewings"].pop(0)
    doctored = _recorded_as_issued(data, doc, tmp_path / "doctored.json")
    said = _verify(data, doctored, key, "--events", code=3).stderr
    assert "the report's viewings are not the ledger's of its period (a report of format 1" in said
    assert "1 of the period's events are not listed, 0 listed rows are none of them" in said


def _refused_at_the_desk(other: Any, _sc: Scenario) -> None:
    from ledger import rules

    with pytest.raises(NotPermitted):
        other.authorize("Nobody Known", "footage view", (), rules.STAFF_ROLE)


def _camera_retired(other: Any, _sc: Scenario) -> None:
    other.retire_camera("lobby-1", reason="moved to the annex", actor=D)


def _overdue_purged(other: Any, sc: Scenario) -> None:
    other.record_purge(
        sc.overdue[0], method="file removed, key destroyed", blob_removed=True,
        key_destroyed=True, completed_after_interruption=False, sweep_run="sweep-2",
        actor=other.act_as_service(),
    )  # fmt: skip


def _recorded_meanwhile(monkeypatch: pytest.MonkeyPatch, data: Path, act: Any) -> list[int]:
    """``act(ledger)`` done once, by someone else on another ledger at ``LATER``, the first
    time a report verifies the log again after its read (``verified_since``): between its
    read and its checkpoint. Returns the tree sizes each such verification started from."""
    from ledger import integrity

    real = integrity.verified_since
    calls: list[int] = []

    def meanwhile(reader: Any, outcome: Any, **kw: Any) -> Any:
        if not calls:
            other = open_test_ledger(
                DataDir.open(data), clock=ManualClock(datetime.fromisoformat(LATER))
            )
            try:
                act(other)
            finally:
                other.close()
        calls.append(outcome.tree_size)
        return real(reader, outcome, **kw)

    monkeypatch.setattr(integrity, "verified_since", meanwhile)
    return calls


@pytest.mark.parametrize("meanwhile", [_refused_at_the_desk, _camera_retired, _overdue_purged])
def test_a_report_made_while_the_log_grows_reads_again_and_verifies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, meanwhile: Any
) -> None:
    """A report of a period that runs to today, made while something is recorded between
    the report's read of the read models and its checkpoint (a refusal at the desk, a
    camera retired, an overdue segment purged by the sweep): the checkpoint signs the log
    as it grew (``verified_since``), and `verify-report --events` holds the report to it,
    so an honest report failed: a refusal left out, a camera's status or an overdue row
    that the events under the checkpoint contradict (session 26 and its red team). It
    reads again, and verifies."""
    from tests.integration.test_compliance_report import build_library

    data = tmp_path / "data"
    with fast_kdf_while_building():
        sc = build_library(data)  # on CUSTODES_DATABASE_URL's database when it is set
    key = _key(data, tmp_path)
    calls = _recorded_meanwhile(monkeypatch, data, lambda other: meanwhile(other, sc))
    out = tmp_path / "report.json"
    run(data, "report", "compliance", "--from", "2026-11-01", "--to", "2026-11-08",
        "--format", "json", "--out", str(out), "--as", D, now=LATER)  # fmt: skip
    assert len(calls) == 2 and calls[1] > calls[0]  # read again over the grown log
    doc = json.loads(out.read_text())
    if meanwhile is _refused_at_the_desk:
        assert "Nobody Known" in [r["actor"] for r in doc["refusals"]]
    if meanwhile is _camera_retired:
        assert [c["status"] for c in doc["cameras"]["rows"] if c["camera_id"] == "lobby-1"] == [
            "retired"
        ]
    if meanwhile is _overdue_purged:
        assert sc.overdue[0] not in [r["segment_id"] for r in doc["retention"]["overdue"]]
    _verify(data, out, key, "--events")


def test_a_request_opened_while_a_register_is_made_is_read_into_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The register's race (session 26): a request opened at the desk between the
    register's read and its checkpoint is under the checkpoint, so the register, which
    must list every request of what it covers, reads again and lists it."""
    from tests.integration.test_compliance_report import build_library

    data = tmp_path / "data"
    with fast_kdf_while_building():
        build_library(data)  # on CUSTODES_DATABASE_URL's database when it is set
    key = _key(data, tmp_path)
    opened: list[str] = []
    _recorded_meanwhile(monkeypatch, data, lambda other: opened.append(other.open_request(
        requester_kind="public", requester="A neighbour", received_by=S,
        records=["registration"], description="who borrowed it", actor=S,
    )))  # fmt: skip
    register = _issued(data, tmp_path)  # the whole register: every request
    assert opened and opened[0] in _refs(json.loads(register.read_text()))
    _verify(data, register, key, "--events")


def test_a_report_made_while_the_clock_read_ahead_still_verifies_after_the_correction(
    tmp_path: Path,
) -> None:
    """Red team, session 23 (a false alarm of the first staleness check, by the
    checkpoint's signed time against every act since): a register and a compliance
    report made while the host clock read June 2027, nobody knowing, then the clock
    corrected and a request opened, failed as "stale". The acts after a report's
    issuance are not its concern."""
    data = tmp_path / "data"
    _opened_ahead(data)  # a request by the clock ahead, then the correction...
    key = _key(data, tmp_path)
    # ... but the reports were made while the clock still read ahead: a copy made then
    # would carry the same acts before it; here, made before a second jump is corrected
    ahead = "2027-06-02T00:05:00Z"
    with fast_kdf_while_building():
        led = open_test_ledger(DataDir.open(data), clock=ManualClock(datetime.fromisoformat("2027-06-02T00:00:00Z")))  # fmt: skip
        try:
            led.open_request(
                requester_kind="public", requester="A second caller", received_by=S,
                records=["registration"], description="who borrowed it", actor=S,
            )  # fmt: skip
        finally:
            led.close()
    register = tmp_path / "register.json"
    register.write_text(run(data, "report", "disclosures", "--json", "--prove", now=ahead).stdout)
    report = tmp_path / "report.json"
    run(data, "report", "compliance", *PERIOD, "--format", "json", "--out", str(report),
        "--as", D, now=ahead)  # fmt: skip
    with fast_kdf_while_building():
        led = open_test_ledger(DataDir.open(data), clock=ManualClock(datetime.fromisoformat("2026-11-08T11:00:00Z")))  # fmt: skip
        try:
            led.correct_clock(reason="the host's clock jumped ahead again", actor=D)
            led.open_request(
                requester_kind="public", requester="A third caller", received_by=S,
                records=["registration"], description="who borrowed it", actor=S,
            )  # fmt: skip
        finally:
            led.close()
    for made in (register, report):
        _verify(data, made, key, "--events")


def test_a_compliance_report_relabelled_to_another_time_zone_fails(tmp_path: Path) -> None:
    """Red team, session 23: the site's zone is set once at init; a report whose header
    says another moved a request of 5 November's evening (Chicago) out of its period."""
    from datetime import UTC

    from tests.integration.test_compliance_report import build_library

    data = tmp_path / "data"
    with fast_kdf_while_building():
        build_library(data)
        led = open_test_ledger(DataDir.open(data), clock=ManualClock(datetime(2026, 11, 6, 3, tzinfo=UTC)))  # fmt: skip
        try:  # 5 November, 21:00 in Chicago
            evening = led.open_request(
                requester_kind="public", requester="An evening caller", received_by=S,
                records=["registration"], description="who borrowed it", actor=S,
            )  # fmt: skip
        finally:
            led.close()
    key = _key(data, tmp_path)
    out = tmp_path / "report.json"
    run(data, "report", "compliance", *PERIOD, "--format", "json", "--out", str(out),
        "--as", D, now=LATER)  # fmt: skip
    doc = _without(json.loads(out.read_text()), evening)
    doc["header"]["site_timezone"] = "UTC"
    relabelled = _recorded_as_issued(data, doc, tmp_path / "relabelled.json")
    said = _verify(data, relabelled, key, "--events", code=3).stderr
    assert "the site's time zone is UTC, the ledger's is America/Chicago" in said, said


@pytest.mark.parametrize("kind", ["register", "compliance"])
def test_a_report_made_while_a_request_is_opened_verifies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    """Red team, session 23: a request opened at the desk after the report's
    verification walk and before it read its read models was in the report and not
    under its checkpoint; the report was issued and never verified (exit 3). The report
    now signs its checkpoint over the log as it read it."""
    from datetime import UTC

    import projections.compliance as compliance
    import projections.registry as registry
    from tests.integration.test_compliance_report import build_library

    data = tmp_path / "data"
    with fast_kdf_while_building():
        build_library(data)
    now = datetime(2026, 11, 5, 18, tzinfo=UTC)
    opened: list[str] = []
    module: Any = registry if kind == "register" else compliance
    original = module.open_views

    def racing(ledger: Any, *args: Any, **kwargs: Any) -> Any:
        if not opened:  # the desk, between the walk and the read
            with fast_kdf_while_building():
                walk_in = open_test_ledger(DataDir.open(data), clock=ManualClock(now))
                try:
                    opened.append(walk_in.open_request(
                        requester_kind="public", requester="A walk-in", received_by=S,
                        records=["registration"], description="who borrowed it", actor=S,
                    ))  # fmt: skip
                finally:
                    walk_in.close()
        return original(ledger, *args, **kwargs)

    monkeypatch.setattr(module, "open_views", racing)
    out = tmp_path / f"{kind}.json"
    if kind == "register":
        made = run(data, "report", "disclosures", "--from", "2026-11-01", "--json", "--prove",
                   now=now.isoformat())  # fmt: skip
        out.write_text(made.stdout)
        listed = _refs(json.loads(out.read_text()))
    else:
        run(data, "report", "compliance", *PERIOD, "--format", "json", "--out", str(out),
            "--as", D, now=now.isoformat())  # fmt: skip
        listed = [r["request_id"] for r in json.loads(out.read_text())["disclosures"]["rows"]]
    monkeypatch.setattr(module, "open_views", original)
    assert opened and opened[0] in listed  # it was read: the checkpoint must hold it
    key = _key(data, tmp_path)
    _verify(data, out, key)
    _verify(data, out, key, "--events")


def _without_state_row(doc: dict[str, Any], table: str) -> tuple[dict[str, Any], str]:
    """A compliance report's JSON with the first row of state ``table`` (footage held or
    overdue, an attention item other than the vault's findings, which rest on no event)
    and its proof taken out (the other rows' proofs stand); and that row's reference."""
    from ledger.report_proofs import COMPLIANCE_TABLES, report_rows

    rows = report_rows(doc)
    first = next(i for i, ((t, _ref), _row) in enumerate(rows) if t == table)
    at = next(
        i
        for i, ((t, _ref), row) in enumerate(rows)
        if t == table and not str(row.get("text", "")).startswith("Found while")
    )
    doc["proofs"]["rows"].pop(at)
    path, ref = COMPLIANCE_TABLES[table]
    section = doc
    for part in path[:-1]:
        section = section[part]
    return doc, ref(section[path[-1]].pop(at - first))


@pytest.mark.parametrize(
    ("table", "words"),
    [("held", "footage held"), ("overdue", "overdue footage"), ("attention", "attention items")],
)
def test_a_compliance_report_with_a_state_row_left_out_fails_with_the_ledger(  # type: ignore[no-untyped-def]
    town, tmp_path: Path, table: str, words: str
) -> None:
    """Session 27: the footage held, the overdue footage and the attention list are states
    at the report's time over every segment, request and hold, not one row per event, and
    nothing said which rows they must hold: a segment kept by a flag, or one overdue,
    taken out of the report the library issues (its row and proof removed, the file
    recorded as issued) passed. With the ledger, they must be the rows the events under
    its checkpoint make, replayed."""
    data, _sc, _later = town
    key = _key(data, tmp_path)
    doc = _honest_report(data, tmp_path, key)
    assert doc["retention"]["held"] and doc["retention"]["overdue"] and doc["attention"]
    doc, left_out = _without_state_row(doc, table)
    doctored = _recorded_as_issued(data, doc, tmp_path / "doctored.json")
    _verify(data, doctored, key)  # every remaining row is proven: without the ledger, OK
    said = _verify(data, doctored, key, "--events", code=3).stderr
    assert f"the report's {words} are not what the ledger's events make at its time" in said
    assert f"they leave out {left_out}, which the events make" in said, said


def test_a_compliance_report_with_a_state_row_changed_fails_with_the_ledger(  # type: ignore[no-untyped-def]
    town, tmp_path: Path
) -> None:
    """An overdue segment shown a week less overdue (its row's proof rests on the segment's
    events, which say nothing of the report's time) passes without the ledger; with it,
    the row is not the one the events make."""
    data, _sc, _later = town
    key = _key(data, tmp_path)
    doc = _honest_report(data, tmp_path, key)
    row = doc["retention"]["overdue"][0]
    row["days_overdue"] -= 7
    doctored = _recorded_as_issued(data, doc, tmp_path / "doctored.json")
    _verify(data, doctored, key)
    said = _verify(data, doctored, key, "--events", code=3).stderr
    assert f"row {row['segment_id']} differs in days_overdue" in said, said


def test_a_compliance_report_with_a_violation_shown_as_a_warning_fails_with_the_ledger(  # type: ignore[no-untyped-def]
    town, tmp_path: Path
) -> None:
    """Session 28: attention items were compared by rule and subject only (their wording
    changes between versions), so the library could issue its report with a violation
    shown as a warning, its words softened, and it verified. The severity is the events'
    too: with the ledger, it must be the one they make."""
    data, _sc, _later = town
    key = _key(data, tmp_path)
    doc = _honest_report(data, tmp_path, key)
    item = next(a for a in doc["attention"] if a["severity"] == "violation")
    item["severity"] = "warning"
    item["text"] = "Nothing that needs doing."
    doctored = _recorded_as_issued(data, doc, tmp_path / "doctored.json")
    _verify(data, doctored, key)  # its rows proven: the proofs say nothing of severity
    said = _verify(data, doctored, key, "--events", code=3).stderr
    assert (
        f"row {item['rule_id']} {item['subject_id']} differs in severity ('warning', the "
        "events make 'violation')"
    ) in said, said


@pytest.mark.parametrize(
    ("where", "column"),
    [("attention", "severity"), ("overdue", "days_overdue"), ("counts", "overdue_now")],
)
def test_a_compliance_report_with_a_column_taken_out_fails_with_the_ledger(  # type: ignore[no-untyped-def]
    town, tmp_path: Path, where: str, column: str
) -> None:
    """Red team, session 28: rows were compared in the columns both the report and the
    events had (a report of an earlier version lacks a column added since), so a column
    deleted from the issued report (an item's severity, an overdue row's days, a count)
    was never compared, and it verified. A column every report has carried is required."""
    data, _sc, _later = town
    key = _key(data, tmp_path)
    doc = _honest_report(data, tmp_path, key)
    if where == "counts":
        del doc["retention"]["counts"][column]
        expected = f"retention.counts lacks {column}, which every report carries"
    else:
        row = (doc["attention"] if where == "attention" else doc["retention"]["overdue"])[0]
        del row[column]
        ref = f"{row['rule_id']} {row['subject_id']}" if where == "attention" else row["segment_id"]
        expected = f"row {ref} lacks {column}, which every report carries"
    doctored = _recorded_as_issued(data, doc, tmp_path / "doctored.json")
    said = _verify(data, doctored, key, "--events", code=3).stderr
    assert expected in said, said


def test_a_compliance_report_with_its_violations_listed_last_fails_with_the_ledger(  # type: ignore[no-untyped-def]
    town, tmp_path: Path
) -> None:
    """Red team, session 28: the attention items reversed (their proofs with them), the
    violations buried under the warnings, verified. Every report lists them most serious
    first."""
    data, _sc, _later = town
    key = _key(data, tmp_path)
    doc = _honest_report(data, tmp_path, key)
    severities = [a["severity"] for a in doc["attention"]]
    assert severities[0] == "violation" and severities[-1] != "violation"
    first = next(i for i, p in enumerate(doc["proofs"]["rows"]) if p["table"] == "attention")
    n = len(doc["attention"])
    doc["attention"].reverse()
    doc["proofs"]["rows"][first : first + n] = doc["proofs"]["rows"][first : first + n][::-1]
    doctored = _recorded_as_issued(data, doc, tmp_path / "doctored.json")
    _verify(data, doctored, key)  # every row still proven
    said = _verify(data, doctored, key, "--events", code=3).stderr
    assert "the report's attention items are not listed most serious first" in said, said


def test_a_compliance_report_stating_another_time_than_its_checkpoint_fails(  # type: ignore[no-untyped-def]
    town, tmp_path: Path
) -> None:
    """The report's states are as of its time, which it signs as its checkpoint's: a report
    saying it was generated a day earlier (so fewer segments overdue) fails with the
    ledger."""
    data, _sc, _later = town
    key = _key(data, tmp_path)
    doc = _honest_report(data, tmp_path, key)
    doc["header"]["generated_at"] = "2026-11-07T18:00:00Z"
    doctored = _recorded_as_issued(data, doc, tmp_path / "doctored.json")
    said = _verify(data, doctored, key, "--events", code=3).stderr
    assert "the report says it was generated at 2026-11-07T18:00:00Z, its checkpoint" in said


def test_a_compliance_report_signed_again_with_an_earlier_time_fails(  # type: ignore[no-untyped-def]
    town, tmp_path: Path
) -> None:
    """The library holds the signing key: its checkpoint signed again over the same log
    with a time two days earlier, the report's time set to match (fewer deadlines missed
    then) and every row proven again, the file recorded as issued. Its proofs hold
    without the ledger; with it, the checkpoint is dated days before the report's
    issuance (red team, session 27: in a quiet stretch of the log, after its last act,
    only that shows it)."""
    import dataclasses
    from datetime import date

    from ledger.checkpoint import parse_unverified, sign_checkpoint
    from ledger.integrity import open_chain
    from ledger.report_proofs import EVENTS, prove_rows, report_rows
    from ledger.sitetime import iso_utc
    from projections.compliance import replayed_state_rows

    data, _sc, _later = town
    key = _key(data, tmp_path)
    doc = _honest_report(data, tmp_path, key)
    cp = parse_unverified(doc["proofs"]["checkpoint"])
    entries = {e["position"]: e for e in doc["proofs"]["entries"]}
    sources: dict[str, list[int]] = {t: [] for t in EVENTS}
    for proof in doc["proofs"]["rows"]:
        if proof["table"] in EVENTS:
            sources[proof["table"]].append(int(entries[proof["positions"][0]]["notification_id"]))
    datadir = DataDir.open(data)
    earlier = dataclasses.replace(cp, time=cp.time - timedelta(days=2))
    note = sign_checkpoint(earlier, datadir.signing_key(None), cp.origin)
    doc["header"]["generated_at"] = iso_utc(earlier.time)
    ledger = open_test_ledger(datadir, clock=ManualClock(datetime.fromisoformat(LATER)))
    try:  # the states as the events make them then, as a report made then lists them
        then = replayed_state_rows(
            ledger, stop=ledger.chain_reader().entry(position=cp.size)[0],
            period_from=date(2026, 11, 1), period_to=date(2026, 11, 5), now=earlier.time,
            as_of=None,
        )  # fmt: skip
    finally:
        ledger.close()
    honest = [a["text"] for a in doc["attention"] if not a["text"].startswith("Found while")]
    assert [a["text"] for a in then["attention"]] != honest  # e.g. a deadline not yet near
    doc["retention"]["held"], doc["retention"]["overdue"] = then["held"], then["overdue"]
    doc["attention"] = then["attention"]
    doc["integrity"]["checkpoint"] = note
    doc["proofs"] = prove_rows(open_chain(datadir), earlier, note, report_rows(doc), sources)
    doctored = _recorded_as_issued(data, doc, tmp_path / "doctored.json")
    _verify(data, doctored, key)
    said = _verify(data, doctored, key, "--events", code=3).stderr
    assert f"the report's checkpoint is dated {iso_utc(earlier.time)}, but the ledger" in said


def test_an_honest_report_as_of_a_time_after_its_period_verifies_its_states(  # type: ignore[no-untyped-def]
    town, tmp_path: Path
) -> None:
    """A report as of a day after its period (the overdue at the period's end counted as of
    then, the states as of the report's `as_of`): the states made again from the events
    recorded by then are its rows, so it verifies; one taken out fails."""
    data, _sc, _later = town
    key = _key(data, tmp_path)
    out = tmp_path / "then.json"
    run(data, "report", "compliance", *PERIOD, "--as-of", "2026-11-07T12:00:00Z",
        "--format", "json", "--out", str(out), "--as", D, now=LATER)  # fmt: skip
    _verify(data, out, key, "--events")
    doc = json.loads(out.read_text())
    assert any(r["subject_id"] == "retention at period end" for r in doc["attention"])
    doc, left_out = _without_state_row(doc, "attention")
    doctored = _recorded_as_issued(data, doc, tmp_path / "doctored.json")
    said = _verify(data, doctored, key, "--events", code=3).stderr
    assert f"they leave out {left_out}, which the events make" in said, said


def test_a_compliance_report_checked_with_the_ledger_says_it_is_complete_in_json(  # type: ignore[no-untyped-def]
    town, tmp_path: Path
) -> None:
    """`--json`: "complete" is true for a compliance report whose every table the ledger's
    events make (with `--events`), null without the ledger (nothing to compare with)."""
    data, _sc, _later = town
    key = _key(data, tmp_path)
    _honest_report(data, tmp_path, key)
    out = tmp_path / "report.json"
    checked = json.loads(_verify(data, out, key, "--events", "--json").stdout)
    assert checked["complete"] is True and checked["issued"]["by"] == D
    assert json.loads(_verify(data, out, key, "--json").stdout)["complete"] is None


def test_a_compliance_report_with_its_counts_misstated_fails_with_the_ledger(  # type: ignore[no-untyped-def]
    town, tmp_path: Path
) -> None:
    """Red team, session 27: the retention section's counts (segments held, flagged, overdue,
    purged late) and its segments' statuses rest on no one row's proof; set to 0, the
    file recorded as issued, they passed. With the ledger, the section is made again."""
    data, _sc, _later = town
    key = _key(data, tmp_path)
    doc = _honest_report(data, tmp_path, key)
    counts = doc["retention"]["counts"]
    assert counts["flagged"] or counts["held"] or counts["overdue_now"]
    for name in ("overdue_now", "held", "flagged", "purged_late"):
        counts[name] = 0
    doctored = _recorded_as_issued(data, doc, tmp_path / "doctored.json")
    _verify(data, doctored, key)
    said = _verify(data, doctored, key, "--events", code=3).stderr
    assert (
        "the report's retention section is not what the ledger's events make at its time: " in said
    )
    assert "retention.counts." in said and ", the events make " in said, said


def test_a_report_of_an_earlier_version_still_verifies_its_states(  # type: ignore[no-untyped-def]
    town, tmp_path: Path
) -> None:
    """Red team, session 27: the states were compared whole against today's code, so a
    report of format 1 made before held rows stated when the flag or hold was placed
    (no `placed_at`) failed. Rows are compared in the columns both have, attention items
    by rule and subject (their wording changes between versions)."""
    from tests.cli.test_verify_report_cli import as_format_1

    data, _sc, _later = town
    key = _key(data, tmp_path)
    doc = as_format_1(data, _honest_report(data, tmp_path, key))
    for row in doc["retention"]["held"]:
        row.pop("placed_at", None)
    for item in doc["attention"]:
        item["text"] = item["text"].replace("run the retention sweep", "sweep")
    old = _recorded_as_issued(data, doc, tmp_path / "old.json")
    _verify(data, old, key, "--events")


def test_a_report_made_while_the_clock_read_ahead_verifies_after_a_correction_in_its_period(
    tmp_path: Path,
) -> None:
    """Red team, session 27: the states' replay read every clock correction the ledger
    holds now, so a report of November made while the host's clock read June 2027 failed
    once the Director corrected the clock on 8 November (the correction, after the
    report, is not the report's to list). Only the corrections under its checkpoint count."""
    data = tmp_path / "data"
    _opened_ahead(data)
    key = _key(data, tmp_path)
    ahead = "2027-06-02T00:05:00Z"
    report = tmp_path / "report.json"
    run(data, "report", "compliance", "--from", "2026-11-01", "--to", "2026-11-30",
        "--format", "json", "--out", str(report), "--as", D, now=ahead)  # fmt: skip
    run(data, "verify-report", str(report), "--key", str(key), "--events", now=ahead)
    with fast_kdf_while_building():
        at = datetime.fromisoformat("2026-11-08T11:00:00Z")
        ledger = open_test_ledger(DataDir.open(data), clock=ManualClock(at))
        try:
            ledger.correct_clock(reason="the host's clock jumped ahead again", actor=D)
        finally:
            ledger.close()
    run(data, "verify-report", str(report), "--key", str(key), "--events",
        now="2026-11-08T12:00:00Z")  # fmt: skip
