"""Provable reports (issue 13, item 9): every disclosure row of `report compliance`'s JSON
and of `report disclosures --json --prove` rests on log entries with inclusion proofs
against the report's signed checkpoint; `custodes verify-report` checks them without the
ledger, and with the events key checks that the events say what the rows say."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.cli.test_reports_cli import PERIOD, D, compliance, run
from tests.cli.test_reports_cli import world as world  # noqa: F401 - the scenario


def _public_key(data: Path, tmp_path: Path) -> Path:
    key = tmp_path / "library.pem"
    key.write_text(run(data, "keys", "export-public").stdout)
    return key


def _verify(report: Path, key: Path, *extra: str, code: int = 0, data: Path | None = None):  # noqa: ANN202
    args = ["verify-report", str(report), "--key", str(key), "--json", *extra]
    if data is None:  # no ledger: a directory that is none
        return run(report.parent / "no-ledger", *args, code=code)
    return run(data, *args, code=code)


def _rows_of(report: dict, table: str) -> list[dict]:
    return [r for r in report["proofs"]["rows"] if r["table"] == table]


def test_the_compliance_report_rows_prove_and_a_tampered_row_fails(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data, _sc = world
    out = tmp_path / "report.json"
    compliance(data, "json", out)
    report = json.loads(out.read_text())
    rows = report["disclosures"]["rows"]
    assert rows, "the scenario has disclosure requests"
    proofs = report["proofs"]
    assert proofs["format"] == "custodes-report-proofs/2"
    assert proofs["checkpoint"] == report["integrity"]["checkpoint"]
    listed = {e["position"] for e in proofs["entries"]}
    assert len(listed) == len(proofs["entries"]), "each entry once, however many rows rest on it"
    for row, proved in zip(rows, _rows_of(report, "disclosures"), strict=True):
        assert proved["ref"] == row["request_id"]
        assert proved["positions"] and set(proved["positions"]) <= listed
        assert all(p <= proofs["tree_size"] for p in proved["positions"])
    key = _public_key(data, tmp_path)
    ok = json.loads(_verify(out, key).stdout)
    assert ok["ok"] is True and ok["rows"] == len(proofs["rows"])
    assert ok["entries"] == len(proofs["entries"])
    with_events = json.loads(_verify(out, key, "--events", data=data).stdout)
    assert with_events["events_checked"] is True

    # A row that says another decision than its events: the proofs still hold, the
    # events (with the key) say otherwise.
    lied = json.loads(out.read_text())
    decided = next(r for r in lied["disclosures"]["rows"] if r["decision"] != "pending")
    decided["decision"] = "denied" if decided["decision"] == "approved" else "approved"
    (tmp_path / "lied.json").write_text(json.dumps(lied))
    _verify(tmp_path / "lied.json", key, code=0)
    caught = _verify(tmp_path / "lied.json", key, "--events", code=3, data=data)
    assert "is not what its events say: decision" in caught.stderr
    # ... and its legal basis, read from the events by the register's handler (red team,
    # session 21)
    other = json.loads(out.read_text())
    based = next(r for r in other["disclosures"]["rows"] if r["legal_basis"])
    based["legal_basis"] = "order 2026-CF-1 (Circuit Court; signed by a judge)"
    (tmp_path / "based.json").write_text(json.dumps(other))
    caught = _verify(tmp_path / "based.json", key, "--events", code=3, data=data)
    assert "is not what its events say: legal_basis" in caught.stderr

    # Red team (session 14): the same lie with an as_of added to the (unsigned) header
    # turned the content checks off. The time is now a claim checked like the rest: the
    # decision is checked against the events recorded by then.
    lied["header"]["as_of"] = lied["header"]["generated_at"]
    (tmp_path / "lied-as-of.json").write_text(json.dumps(lied))
    caught = _verify(tmp_path / "lied-as-of.json", key, "--events", code=3, data=data)
    assert "is not what its events say: decision" in caught.stderr
    # an as_of before the events of a row: the row claims what was not yet recorded
    early = json.loads(out.read_text())
    early["header"]["as_of"] = "2000-01-01T00:00:00Z"
    (tmp_path / "early.json").write_text(json.dumps(early))
    caught = _verify(tmp_path / "early.json", key, "--events", code=3, data=data)
    assert "recorded after 2000-01-01T00:00:00Z" in caught.stderr
    early["header"]["as_of"] = "last Tuesday"
    (tmp_path / "early.json").write_text(json.dumps(early))
    assert (
        "is not a time"
        in _verify(tmp_path / "early.json", key, "--events", code=1, data=data).stderr
    )

    # A camera row moved to the staff room: its camera's events say otherwise.
    moved = json.loads(out.read_text())
    assert moved["cameras"]["rows"], "the scenario has cameras"
    assert len(_rows_of(moved, "cameras")) == len(moved["cameras"]["rows"])
    moved["cameras"]["rows"][0]["location"] = "Staff room"
    (tmp_path / "moved.json").write_text(json.dumps(moved))
    caught = _verify(tmp_path / "moved.json", key, "--events", code=3, data=data)
    assert "cameras row 1" in caught.stderr and "location" in caught.stderr

    # An entry's digest changed, a proof hash altered, an entry left out, a row moved to
    # another request's entries: each fails without the ledger (exit 3).
    def tampered(change) -> str:  # type: ignore[no-untyped-def]
        doc = json.loads(out.read_text())
        change(doc)
        path = tmp_path / "tampered.json"
        path.write_text(json.dumps(doc))
        return _verify(path, key, code=3).stderr

    def digest(doc: dict) -> None:
        doc["proofs"]["entries"][0]["state_digest"] = "00" * 32

    def state(doc: dict) -> None:
        doc["proofs"]["entries"][0]["state"] = "c29tZXRoaW5nIGVsc2U="

    def proof_hash(doc: dict) -> None:
        doc["proofs"]["multi_proof"][0] = "A" * 43 + "="

    def left_out(doc: dict) -> None:
        _rows_of(doc, "disclosures")[0]["positions"].pop(0)

    def borrowed(doc: dict) -> None:
        a, b = _rows_of(doc, "disclosures")[:2]
        a["positions"] = b["positions"]

    def unlisted(doc: dict) -> None:
        first = _rows_of(doc, "disclosures")[0]["positions"][0]
        doc["proofs"]["entries"] = [e for e in doc["proofs"]["entries"] if e["position"] != first]

    def row_dropped(doc: dict) -> None:
        doc["disclosures"]["rows"].pop()

    assert "do not hash to its entry hash" in tampered(digest)
    assert "state does not match its digest" in tampered(state)
    assert "not in the signed checkpoint" in tampered(proof_hash)
    assert "an event is left out" in tampered(left_out)
    assert "is of another subject" in tampered(borrowed)
    assert "entries are not proven" in tampered(unlisted)  # the multi-leaf proof breaks
    assert "one proof per row" in tampered(row_dropped)


def test_the_register_proves_and_extends_an_earlier_checkpoint(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data, _sc = world
    earlier = tmp_path / "board.checkpoint"
    run(data, "checkpoint", "--out", str(earlier))
    out = tmp_path / "register.json"
    out.write_text(run(data, "report", "disclosures", *PERIOD, "--json", "--prove").stdout)
    register = json.loads(out.read_text())
    assert register["rows"] and len(register["proofs"]["rows"]) == len(register["rows"])
    key = _public_key(data, tmp_path)
    (tmp_path / "report.checkpoint").write_text(register["proofs"]["checkpoint"])
    run(data, "prove", "--consistency", str(earlier), str(tmp_path / "report.checkpoint"),
        "--out", str(tmp_path / "extends.json"))  # fmt: skip
    ok = json.loads(
        _verify(
            out, key, "--consistency", str(tmp_path / "extends.json"), "--checkpoint", str(earlier)
        ).stdout  # fmt: skip
    )
    assert ok["ok"] is True and ok["extends_checkpoint_of"] > 0
    assert json.loads(_verify(out, key, "--events", data=data).stdout)["events_checked"]

    # A register row edited to another reference no longer rests on its entries.
    doc = json.loads(out.read_text())
    doc["rows"][0]["ref"] = doc["rows"][1]["ref"]
    (tmp_path / "edited.json").write_text(json.dumps(doc))
    assert "has no proof" in _verify(tmp_path / "edited.json", key, code=3).stderr
    doc["proofs"]["rows"][0]["ref"] = doc["rows"][1]["ref"]  # its proof's reference too
    (tmp_path / "edited.json").write_text(json.dumps(doc))
    assert "is of another subject" in _verify(tmp_path / "edited.json", key, code=3).stderr

    # Red team (session 16): what was released, and to whom, was proven to rest on the
    # request's entries but not read from them: --events now reads it.
    released = next(i for i, r in enumerate(register["rows"]) if r["released_to"])
    for column, value, says in (
        ("released_to", "Special Agent X, FBI", "released to"),
        ("released_fields", ["address", "circulation_history", "name"], "released fields"),
        ("released_footage", ["0123456789ab"], "released footage"),
    ):
        doc = json.loads(out.read_text())
        doc["rows"][released][column] = value
        (tmp_path / "lied.json").write_text(json.dumps(doc))
        said = _verify(tmp_path / "lied.json", key, "--events", data=data, code=3).stderr
        assert f"{says} " in said and "in the events" in said, said

    # Red team (session 21): the legal-basis columns were not read from the events. Each
    # column the request's events write is now rebuilt by the register's own handler.
    # (A court order's columns: tests/integration/test_register_rows.py.)
    every = out
    rows = json.loads(every.read_text())["rows"]
    emergency = next(i for i, r in enumerate(rows) if r["signed_form"])
    given = next(i for i, r in enumerate(rows) if r["released_to"])
    for at, column, value in (
        (emergency, "signed_form", "signed Appendix 9 sha256:0000000000000000"),
        (emergency, "refused_at_intake", []),
        (given, "released_at", "2020-01-01T00:00:00+00:00"),
        (given, "received_by", "Dana Director"),
        (given, "decision_reason", "the court ordered it"),
        (given, "acknowledgement", "signed receipt sha256:0000000000000000"),
    ):
        doc = json.loads(every.read_text())
        assert doc["rows"][at][column] != value, column  # a lie, not what the row says
        doc["rows"][at][column] = value
        (tmp_path / "lied.json").write_text(json.dumps(doc))
        said = _verify(tmp_path / "lied.json", key, "--events", data=data, code=3).stderr
        assert f"{column} " in said and "in the events" in said, (column, said)


def test_retention_access_refusal_and_attention_rows_prove_and_tampering_fails(
    world, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """Item 9 for every row: the held and overdue segments, the viewings, the refused
    attempts and what needs attention rest on their log entries too."""
    data, _sc = world
    out = tmp_path / "report.json"
    compliance(data, "json", out)
    report = json.loads(out.read_text())
    sections = {
        "held": report["retention"]["held"],
        "overdue": report["retention"]["overdue"],
        "viewings": report["access"]["viewings"],
        "access_refused": report["access"]["refused"],
        "refusals": report["refusals"],
        "attention": report["attention"],
    }
    for table, section in sections.items():
        assert section, f"the scenario has {table} rows"
        assert len(_rows_of(report, table)) == len(section), table
    kinds = {e["position"]: e["topic"] for e in report["proofs"]["entries"]}
    for proved in _rows_of(report, "viewings"):
        assert [kinds[p] for p in proved["positions"]] == ["ledger.footage:Segment.FootageViewed"]
    key = _public_key(data, tmp_path)
    ok = json.loads(_verify(out, key, "--events", data=data).stdout)
    assert ok["events_checked"] is True
    # only the late-purges count rests on no one subject
    counts = [a for a in report["attention"] if a["subject_id"] == "retention"]
    assert ok["rows_without_subject"] == len(counts)

    def doc() -> dict:
        return json.loads(out.read_text())

    def check(changed: dict, expected: str, *, events: bool = False) -> None:
        path = tmp_path / "changed.json"
        path.write_text(json.dumps(changed))
        if events:
            _verify(path, key, code=0)  # the proofs hold; only the events say otherwise
            stderr = _verify(path, key, "--events", code=3, data=data).stderr
        else:
            stderr = _verify(path, key, code=3).stderr
        assert expected in stderr, stderr

    # Tampered rows: what the row says is not what its events say (events key).
    d = doc()
    d["retention"]["held"][0]["reason"] = "nothing happened"
    check(d, "held row 1", events=True)
    d = doc()
    held = next(h for h in d["retention"]["held"] if h["kind"] != "flag")
    held["review_by"] = "2030-01-01T00:00:00Z"
    check(d, "review_by", events=True)
    d = doc()
    d["access"]["viewings"][0]["name"] = "Someone Else"
    check(d, "viewings row 1 (", events=True)
    d = doc()
    d["refusals"][0]["message"] = "allowed after all"
    check(d, "refusals row 1", events=True)
    d = doc()
    d["access"]["refused"][0]["role"] = "director"
    check(d, "access_refused row 1", events=True)
    d = doc()
    d["retention"]["overdue"][0]["camera_id"] = "another-camera"
    check(d, "overdue row 1", events=True)

    # Borrowed entries: a row pointed at another subject's (or another row's) entries.
    d = doc()
    a, b = _rows_of(d, "held")[:2]
    a["positions"] = b["positions"]
    check(d, "is of another subject")
    d = doc()
    a, b = _rows_of(d, "overdue")[:2]
    a["positions"] = b["positions"]
    check(d, "is of another subject")
    d = doc()
    d["retention"]["overdue"][0]["segment_id"] = d["retention"]["overdue"][1]["segment_id"]
    _rows_of(d, "overdue")[0]["ref"] = d["retention"]["overdue"][0]["segment_id"]
    check(d, "is of another subject")
    d = doc()
    a, b = _rows_of(d, "refusals")[:2]
    a["positions"] = b["positions"]
    check(d, "is already the proof of refusals row")
    d = doc()
    _rows_of(d, "viewings")[0]["positions"] = _rows_of(d, "access_refused")[0]["positions"]
    check(d, "is a ledger.refusals:Refusal.AccessDenied")
    d = doc()
    foia = next(r for r in _rows_of(d, "attention") if r["ref"].startswith("FOIA-CLOCK"))
    follow = next(r for r in _rows_of(d, "attention") if r["ref"].startswith("LRCA-"))
    foia["positions"] = follow["positions"]
    check(d, "is of another subject")

    # Omitted entries: a segment's or a hold's event left out, a viewing with none.
    d = doc()
    _rows_of(d, "held")[0]["positions"].pop(1)
    check(d, "an event is left out")
    d = doc()
    hold_row = next(r for r in _rows_of(d, "held") if "flag" not in r["ref"])
    hold_row["positions"].pop()  # the hold's own entry: the row names a hold
    check(d, "lists no log entries of its subject")
    d = doc()
    _rows_of(d, "viewings")[0]["positions"] = []
    check(d, "must rest on exactly one entry")
    d = doc()
    counted = next(r for r in _rows_of(d, "attention") if r["ref"].endswith(" retention"))
    counted["positions"] = _rows_of(d, "overdue")[0]["positions"]
    check(d, "rests on no one subject but lists entries")


def test_the_header_and_integrity_block_are_bound(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Red team (session 16): a report relabelled to a longer period (so claiming none of
    the viewings, refusals and disclosures in it) verified, --events too, as did any edit
    of its integrity block, the key fingerprint a recipient compares included."""
    data, _sc = world
    out = tmp_path / "report.json"
    compliance(data, "json", out)
    key = _public_key(data, tmp_path)
    plain = json.loads(_verify(out, key).stdout)
    assert plain["issued"] is None and plain["period"]["period_from"] == "2026-11-01"
    issued = json.loads(_verify(out, key, "--events", data=data).stdout)["issued"]
    assert issued is not None and issued["by"] == D
    report = json.loads(out.read_text())
    edits = {
        "key_fingerprint": "0" * 64,
        "tree_size": report["integrity"]["tree_size"] + 5,
        "merkle_root": "ab" * 32,
        "entries": 1,
        "verified": False,
    }
    for name, value in edits.items():
        forged = json.loads(out.read_text())
        forged["integrity"][name] = value
        (tmp_path / "forged.json").write_text(json.dumps(forged))
        said = _verify(tmp_path / "forged.json", key, code=3).stderr
        assert f"integrity block says {name}" in said, said
    relabelled = json.loads(out.read_text())
    relabelled["header"]["period_from"] = "2026-09-29"
    (tmp_path / "relabelled.json").write_text(json.dumps(relabelled))
    assert _verify(tmp_path / "relabelled.json", key).exit_code == 0  # its own words alone
    said = _verify(tmp_path / "relabelled.json", key, "--events", data=data, code=3).stderr
    assert "records no compliance report with this file's SHA-256" in said
    # the session's own review: a header moved to another key skipped that check; a
    # header that is no object crashed; a compliance report dressed as the register
    for how in ("moved", "a list", "as the register"):
        forged = json.loads(out.read_text())
        if how == "moved":
            forged["hdr"] = forged.pop("header")
        elif how == "a list":
            forged["header"] = [1]
        else:
            forged["rows"] = []
        (tmp_path / "forged.json").write_text(json.dumps(forged))
        said = _verify(tmp_path / "forged.json", key, "--events", data=data, code=1).stderr
        assert "not a compliance report" in said or "not a report" in said, said


def as_format_1(data: Path, doc: dict[str, Any]) -> dict[str, Any]:
    """The report's proofs as a report of format 1 carries them: an inclusion path per
    entry, for the disclosure and camera rows only."""
    from ledger.checkpoint import parse_unverified
    from ledger.datadir import DataDir
    from ledger.integrity import open_chain, prove

    proofs = doc["proofs"]
    note = proofs["checkpoint"]
    cp = parse_unverified(note)
    reader = open_chain(DataDir.open(data))
    by_position = {e["position"]: e for e in proofs["entries"]}
    rows = []
    for row in proofs["rows"]:
        if row["table"] not in ("disclosures", "cameras"):
            continue
        entries = []
        for p in row["positions"]:
            entry = dict(by_position[p])
            path = prove(reader, entry["notification_id"], cp, note).to_json()["inclusion_path"]
            entries.append({**entry, "inclusion_path": path})
        rows.append({**row, "entries": entries})
    doc["proofs"] = {
        "format": "custodes-report-proofs/1",
        "checkpoint": note,
        "tree_size": proofs["tree_size"],
        "root": proofs["root"],
        "rows": rows,
    }
    return doc


def test_a_report_of_format_1_still_verifies(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Reports handed out before format 2 carry an inclusion path per entry, for the
    disclosure and camera rows only: verify-report still checks them."""
    data, _sc = world
    out = tmp_path / "report.json"
    compliance(data, "json", out)
    doc = as_format_1(data, json.loads(out.read_text()))
    rows = doc["proofs"]["rows"]
    old = tmp_path / "format1.json"
    old.write_text(json.dumps(doc))
    key = _public_key(data, tmp_path)
    ok = json.loads(_verify(old, key).stdout)
    assert ok["rows"] == len(rows) == len(doc["disclosures"]["rows"]) + len(doc["cameras"]["rows"])
    # its rows' events check out, and then: these bytes are not a file the library issued
    # (this one was rewritten here; session 16 binds the whole file with --events)
    said = _verify(old, key, "--events", data=data, code=3).stderr
    assert "records no compliance report with this file's SHA-256" in said
    rows[0]["entries"][-1]["inclusion_path"][0] = "A" * 43 + "="
    old.write_text(json.dumps(doc))
    assert "inclusion proof fails" in _verify(old, key, code=3).stderr
    rows[0]["entries"].pop(0)
    rows[0]["positions"].pop(0)
    old.write_text(json.dumps(doc))
    assert "an event is left out" in _verify(old, key, code=3).stderr


def test_a_report_as_of_an_earlier_time_proves_its_rows_too(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """--as-of: the rows are as they were then, their entries run to the checkpoint (now);
    a subject's row is checked for its subject, a one-event row whole."""
    from datetime import timedelta

    from tests.conftest import NOW

    data, _sc = world
    out = tmp_path / "then.json"
    compliance(data, "json", out, "--as-of", (NOW + timedelta(minutes=30)).isoformat())
    doc = json.loads(out.read_text())
    assert len(doc["proofs"]["rows"]) == sum(
        len(s)
        for s in (doc["disclosures"]["rows"], doc["cameras"]["rows"], doc["retention"]["held"],
                  doc["retention"]["overdue"], doc["access"]["viewings"],
                  doc["access"]["refused"], doc["access"]["staff_notes"], doc["refusals"],
                  doc["attention"])
    )  # fmt: skip
    key = _public_key(data, tmp_path)
    assert json.loads(_verify(out, key, "--events", data=data).stdout)["events_checked"]
    assert doc["refusals"], "the scenario's refusals came before the as-of time"
    doc["refusals"][0]["actor"] = "Nobody"
    out.write_text(json.dumps(doc))
    assert "refusals row 1" in _verify(out, key, "--events", code=3, data=data).stderr
