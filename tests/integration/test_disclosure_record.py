"""The disclosure record of a release of patron fields (docs/DISCLOSURES.md, "The record
the recipient keeps"), on SQLite and PostgreSQL: the recipient checks it with sha256sum,
OpenSSL and the shipped verify.py alone; the ledger entry commits to the record word for
word; who may issue it; nothing is recorded for a bad request."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import custodes
from ledger.app import Ledger
from ledger.errors import InvalidInput, NotFound, NotPermitted
from ledger.evidence import EvidenceInvalid, record_digest, record_id, verify_package
from ledger.integrity import open_chain
from ledger.outfiles import PRIVATE
from ledger.record_package import write_disclosure_record
from projections.history import read_history
from tests.conftest import require_tool
from tests.integration.test_disclosure_ledger import (
    CARD,
    DIRECTOR,
    STAFF,
    open_request,
    record_emergency,
    refused,
    signed_form,
)
from tests.integration.test_disclosure_ledger import ledger as ledger  # noqa: F401 (fixture)

BM = "Bo Manager"


@pytest.fixture
def released(ledger: Ledger, now: datetime) -> Iterator[tuple[Ledger, str]]:  # noqa: F811
    """An emergency request, approved, its name and phone released by staff in person."""
    from tests.identity import enrol

    enrol(ledger, BM, "business_manager", actor=DIRECTOR)
    ref = open_request(
        ledger, now, "law_enforcement", ["registration"], patron_card=CARD,
        patron_name="Jane Patron",
    )  # fmt: skip
    record_emergency(ledger, ref, now)
    ledger.clock.set(now + timedelta(minutes=20))
    ledger.decide(ref, approve=True, reason="emergency met", actor=DIRECTOR)
    ledger.release(
        ref, fields=["name", "phone"], to="Lee Officer", badge="4471", method="in person",
        actor=STAFF,
    )  # fmt: skip
    ledger.clock.set(now + timedelta(minutes=30))
    yield ledger, ref


def _write(ledger: Ledger, ref: str, to: Path, actor: str = DIRECTOR, **kw: object):  # noqa: ANN202
    assert ledger.datadir is not None
    key = ledger.datadir.signing_key(None)
    return write_disclosure_record(ledger, ref, to=to, actor=actor, signing_key=key, **kw)  # type: ignore[arg-type]


def _script(package: Path) -> subprocess.CompletedProcess[str]:
    require_tool("python3", "recipients run verify.py with the system's Python")
    return subprocess.run(
        ["python3", "-I", "verify.py"], cwd=package, capture_output=True, text=True
    )


def test_the_record_says_what_the_ledger_holds_and_the_recipient_checks_it_alone(
    released: tuple[Ledger, str], tmp_path: Path
) -> None:
    ledger, ref = released
    out = tmp_path / "record"
    result = _write(ledger, ref, out)

    record = json.loads((out / "record.json").read_text())
    assert record == result.record
    assert record["request"]["ref"] == ref
    assert record["legal_basis"]["basis"] == "emergency"
    assert record["legal_basis"]["emergency"]["signed_form_sha256"] == signed_form(ref)
    assert record["legal_basis"]["emergency"]["badge_number"] == "4471"
    assert record["decision"]["by"] == DIRECTOR and record["decision"]["approved"] is True
    release = record["release"]
    assert (release["number"], release["fields"], release["to"]) == (
        1,
        ["name", "phone"],
        "Lee Officer",
    )
    assert (release["by"], release["method"], release["recipient_badge"]) == (
        STAFF,
        "in person",
        "4471",
    )
    assert (
        release["inventory_sha256"] == ledger.request_view(ref)["releases"][0]["inventory_sha256"]
    )
    assert record["issued"]["name"] == DIRECTOR and len(record["nonce"]) == 64
    # Field names only: never the patron's details.
    text = "".join(p.read_text() for p in out.iterdir() if p.suffix in (".json", ".txt"))
    assert "Jane Patron" not in text and CARD not in text and CARD.replace("-", "") not in text
    # The ledger entry commits to exactly this record.
    digest = record_digest(record)
    # ... and keeps the record (encrypted), so an auditor with the events key can
    # re-digest it years later and compare it with the release.
    kept = ledger.recorded_disclosure_record(record_id(digest))
    assert kept == {"request_ref": ref, "record_digest": digest, "record": record}
    assert record_digest(kept["record"]) == digest
    proof = json.loads((out / "proof.json").read_text())
    assert proof["entry"]["originator_id"] == str(record_id(digest))
    assert proof["entry"]["position"] == result.event_position

    # The recipient: coreutils, OpenSSL, then the shipped script with a bare python3.
    for tool in ("sha256sum", "openssl"):
        require_tool(tool, "the recipient's check in README.txt uses it")
    sums = subprocess.run(
        ["sha256sum", "-c", "SHA256SUMS"], cwd=out, capture_output=True, text=True
    )
    assert sums.returncode == 0, sums.stdout + sums.stderr
    signed = subprocess.run(
        ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", "public-key.pem", "-rawin",
         "-in", "SHA256SUMS", "-sigfile", "SHA256SUMS.sig"],
        cwd=out, capture_output=True, text=True,
    )  # fmt: skip
    assert "Signature Verified Successfully" in signed.stdout, signed.stdout + signed.stderr
    done = _script(out)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"the disclosure record of release 1 of {ref} to Lee Officer is entry" in done.stdout
    assert verify_package(out).export_event_position == result.event_position
    cli = CliRunner().invoke(custodes, ["verify-export", str(out)])
    assert (
        cli.exit_code == 0 and f"record of release 1 of {ref} to Lee Officer is entry" in cli.stdout
    ), cli.output
    # Private until handed over; the readable copy names the fields and the signed form.
    assert {p.stat().st_mode & 0o777 for p in out.iterdir()} == {PRIVATE}
    readable = (out / "record.txt").read_text()
    assert "Fields released    name, phone" in readable and signed_form(ref) in readable
    assert "2026-11-02 09:20:00 CST" in readable  # the decision, in the library's time


@pytest.mark.parametrize(
    "change,says",
    [
        # a consistent forgery: the inventory digest recomputed for the new fields
        ("a released field added", "does not commit to this record"),
        ("the recipient changed", "record.json's release does not match its inventory digest"),
        ("the nonce changed", "does not commit to this record"),
        # red team, session 16: Python keeps the last of two members, a reader the first
        ("a second recipient before the first", "record.json names a member twice"),
        # red team, session 22: record.txt, the record in words, was never compared
        ("record.txt's legal basis", "record.txt says 'Legal basis' is"),
        ("record.txt's fields", "record.txt says 'Fields released' is"),
    ],
)
def test_a_changed_record_fails_even_when_the_library_resigns_the_package(
    released: tuple[Ledger, str], tmp_path: Path, change: str, says: str
) -> None:
    """Re-signing SHA256SUMS with the library's own key does not help: the record's
    release must match its inventory digest, and the ledger entry in the proof commits to
    the record as it was issued."""
    from ledger.disclosure_commands import inventory_digest
    from ledger.evidence import sums_text

    ledger, ref = released
    out = tmp_path / "record"
    _write(ledger, ref, out)
    record = json.loads((out / "record.json").read_text())
    release = record["release"]
    if change == "a released field added":
        release["fields"].append("address")
        release["inventory_sha256"] = inventory_digest(
            ref, release["fields"], release["footage"], release["to"], release["method"],
            redacted=release["redacted"], period=release["period"],
        )  # fmt: skip
    elif change == "the recipient changed":
        release["to"] = "Someone Else"
    elif change == "the nonce changed":
        record["nonce"] = "0" * 64
    text = json.dumps(record, indent=2, sort_keys=True) + "\n"
    if change == "a second recipient before the first":
        text = text.replace('"release": {', '"release": {\n    "to": "Special Agent X, FBI",', 1)
    if change.startswith("record.txt"):
        reading = (out / "record.txt").read_text()
        line = "Legal basis" if "basis" in change else "Fields released"
        said = next(x for x in reading.splitlines() if x.startswith(line))
        (out / "record.txt").write_text(reading.replace(said, said + ", and more"))
    else:
        (out / "record.json").write_text(text)
    # Changed alone: the sums catch it.
    assert "does not match its SHA-256" in _script(out).stderr
    # Re-signed by the library's key: the record's own digests catch it.
    assert ledger.datadir is not None
    key = ledger.datadir.signing_key(None)
    names = sorted(p.name for p in out.iterdir() if p.name not in ("SHA256SUMS", "SHA256SUMS.sig"))
    sums = sums_text(out, names)
    (out / "SHA256SUMS").write_text(sums)
    (out / "SHA256SUMS.sig").write_bytes(key.sign(sums.encode()))
    done = _script(out)
    assert done.returncode == 3 and says in done.stderr, done.stderr
    with pytest.raises(EvidenceInvalid, match=re.escape(says.split(": ")[-1])):
        verify_package(out)


def test_who_may_issue_it_and_each_record_issued_is_in_the_requests_history(
    released: tuple[Ledger, str], tmp_path: Path, now: datetime
) -> None:
    ledger, ref = released
    # The member who recorded the release, the Business Manager and the Director may.
    first = _write(ledger, ref, tmp_path / "by-staff", actor=STAFF)
    second = _write(ledger, ref, tmp_path / "by-bm", actor=BM)
    assert first.record["nonce"] != second.record["nonce"]  # two records, two entries
    assert first.event_position != second.event_position
    # Counsel (who reads the register but did not release it) may not; refused, recorded.
    from tests.identity import enrol

    enrol(ledger, "Other Staff", "staff", actor=DIRECTOR)
    with pytest.raises(NotPermitted, match="^READ-CONFIDENTIAL .*may not use “request record”"):
        _write(ledger, ref, tmp_path / "by-counsel", actor="Cora Counsel")
    assert not (tmp_path / "by-counsel").exists()
    # A member who may not even know of the request hears that it does not exist.
    with pytest.raises(NotFound):
        _write(ledger, ref, tmp_path / "by-other", actor="Other Staff")
    assert [r for r in refused(ledger) if r[0] == "request record"] == [
        ("request record", ref, "READ-CONFIDENTIAL"),
        ("request record", ref, "READ-CONFIDENTIAL"),
    ]
    _key, entries = read_history(ledger, ref, actor=DIRECTOR)
    lines = [h.summary for h in entries]
    issued = [s for s in lines if s.startswith("disclosure record of release 1")]
    assert len(issued) == 2 and all("for Lee Officer" in s for s in issued), lines


def test_nothing_is_recorded_for_a_request_without_that_release_or_a_target_in_use(
    released: tuple[Ledger, str], tmp_path: Path, now: datetime
) -> None:
    ledger, ref = released
    assert ledger.datadir is not None
    size = open_chain(ledger.datadir).count_rows()
    pending = open_request(ledger, now + timedelta(minutes=30), "court", ["registration"])
    size += 2  # the request and its routing
    with pytest.raises(InvalidInput, match="nothing was released on"):
        _write(ledger, pending, tmp_path / "a")
    with pytest.raises(NotFound, match="there is no release 2"):
        _write(ledger, ref, tmp_path / "b", release=2)
    used = tmp_path / "used"
    used.mkdir()
    (used / "x").write_text("x")
    with pytest.raises(InvalidInput, match="not an empty directory"):
        _write(ledger, ref, used)
    assert open_chain(ledger.datadir).count_rows() == size
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


@pytest.mark.parametrize(
    "change,says",
    [
        ("fields", "does not describe release 1 of"),
        ("number", "record of release 2 of"),
        ("none", ""),
        # red team, session 21: every stated fact is compared, not only the inventory
        ("requester", "its request differs"),
        ("officer", "its legal basis differs"),
        ("decided", "its decision differs"),
        ("released at", "its release differs"),
        ("issuer", "its record says it was issued by"),
        ("library", "names library"),
        ("extra", "has parts no record has"),
    ],
)
def test_verify_deep_checks_each_record_against_the_release_it_describes(
    released: tuple[Ledger, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    change: str, says: str,
) -> None:  # fmt: skip
    """A record that misstates its release (software that built it wrong, or someone who
    signed one by hand) is properly signed and chained, so only the events key shows it:
    `custodes verify --deep` re-digests each record kept and sets it beside the release."""
    from ledger import disclosure_records
    from ledger.integrity import deep_checker, verify_chain

    ledger, ref = released
    honest = disclosure_records.build_record

    def misstated(*args: object, **kw: object) -> dict[str, object]:
        record = honest(*args, **kw)  # type: ignore[arg-type]
        if change == "fields":
            record["release"]["fields"] = ["address", "name", "phone"]
        elif change == "number":
            record["release"]["number"] = 2
        elif change == "requester":
            record["request"]["requester"] = "Sgt. Someone Else"
        elif change == "officer":
            record["legal_basis"]["emergency"]["officer_name"] = "Someone Else"
        elif change == "decided":
            record["decision"]["by"] = STAFF
        elif change == "released at":
            record["release"]["at"] = "2020-01-01T00:00:00Z"
        elif change == "issuer":
            record["issued"]["name"] = BM
        elif change == "library":
            record["library"] = "Another Library"
        elif change == "extra":
            record["note"] = "approved by the court"
        return record

    monkeypatch.setattr(disclosure_records, "build_record", misstated)
    result = _write(ledger, ref, tmp_path / "record")
    assert ledger.datadir is not None
    plain = verify_chain(open_chain(ledger.datadir))
    assert plain.damage is None  # the chain and the acts are intact
    deep = verify_chain(open_chain(ledger.datadir), acts=deep_checker(ledger.mapper))
    if change == "none":
        assert deep.damage is None
        return
    assert deep.damage is not None
    assert (deep.damage.position, deep.damage.kind) == (result.event_position, "edited")
    assert says in deep.damage.detail


def test_the_record_states_the_request_as_it_stood_at_the_release(
    released: tuple[Ledger, str], tmp_path: Path
) -> None:
    """Red team, session 21: the Director's denial recorded after the release read, in the
    record of that release, as the decision it rested on. The record is of the release as
    recorded; what came after is the request's history, not the release's basis."""
    from ledger.integrity import deep_checker, verify_chain

    ledger, ref = released
    ledger.decide(ref, approve=False, reason="no further release", actor=DIRECTOR)
    ledger.clock.set(ledger.clock() + timedelta(minutes=5))
    result = _write(ledger, ref, tmp_path / "record")
    decision = result.record["decision"]
    assert decision["approved"] is True and {"name", "phone"} <= set(decision["allowed_fields"])
    assert decision["at"] <= result.record["release"]["at"]
    readable = (tmp_path / "record" / "record.txt").read_text()
    assert "approved" in readable and "denied" not in readable
    assert ledger.datadir is not None
    deep = verify_chain(open_chain(ledger.datadir), acts=deep_checker(ledger.mapper))
    assert deep.damage is None


def test_a_guardians_record_has_no_decision_and_says_fines_and_fees_only(
    ledger: Ledger,
    now: datetime,
    tmp_path: Path,  # noqa: F811
) -> None:
    ref = open_request(
        ledger, now, "parent_guardian", ["fines_fees"], patron_card=CARD, minor=True,
        guardianship="birth certificate shown",
    )  # fmt: skip
    ledger.release(ref, fields=["fines_total"], to="Someone", method="desk", actor=STAFF)
    ledger.clock.set(now + timedelta(minutes=5))
    out = tmp_path / "record"
    result = _write(ledger, ref, out, actor=STAFF)  # the member who told the parent
    assert result.record["decision"] is None and result.record["legal_basis"] == {
        "basis": "guardian"
    }
    readable = (out / "record.txt").read_text()
    assert "Legal basis        a parent or guardian of a minor (fines and fees only)" in readable
    assert "Decision" not in readable and "Fields released    fines total" in readable
    done = _script(out)
    assert done.returncode == 0, done.stderr


def test_verify_py_says_ok_on_a_terminal_that_cannot_show_the_recipients_name(
    ledger: Ledger,
    now: datetime,
    tmp_path: Path,  # noqa: F811
) -> None:
    """Red team (session 16): under an ASCII locale (or Windows writing to a file) the
    recipient's name in the OK line could not be printed, and verify.py said "FAILED:
    malformed package", exit 3, of a genuine record."""
    require_tool("python3", "recipients run verify.py with the system's Python")
    ledger.clock.set(max(now, ledger.clock()))
    guardian = "Zoë Ångström 🚓"
    ref = ledger.open_request(
        requester_kind="parent_guardian", requester=guardian, received_by=STAFF,
        records=["fines_fees"], description="asked at the desk", actor=STAFF, patron_card=CARD,
        minor=True, guardianship="birth certificate shown",
    )  # fmt: skip
    ledger.release(ref, fields=["fines_total"], to=guardian, method="desk", actor=STAFF)
    ledger.clock.set(now + timedelta(minutes=5))
    out = tmp_path / "record"
    _write(ledger, ref, out, actor=STAFF)
    done = subprocess.run(
        ["python3", "-I", "-X", "utf8=0", "verify.py"], cwd=out, capture_output=True,
        text=True, env={"LC_ALL": "C", "PATH": "/usr/bin:/bin"}, errors="replace",
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("OK") and "Zo\\xeb" in done.stdout


def test_a_record_events_own_fields_must_name_the_release_its_record_is_of(
    released: tuple[Ledger, str],
) -> None:
    """Red team, session 22: a RecordIssued whose own fields (what `history` shows) named
    release 7 and a newspaper, keeping an honest record of release 1, passed."""
    import secrets

    from ledger import disclosure_records as dr
    from ledger import rules
    from ledger.disclosure import request_id
    from ledger.integrity import deep_checker, verify_chain

    ledger, ref = released
    who = ledger.authorize(STAFF, "request record", (), rules.READ_CONFIDENTIAL)
    site, at = ledger.site(), ledger.clock()
    then = dr.request_at_release(ledger.repository.event_store.get(request_id(ref)), 1)
    assert then is not None
    record = dr.build_record(
        then, library=site.library, log_origin=site.log_origin, time_zone=site.timezone,
        issued_by={"name": who.name, "role": who.role}, issued_at=at,
        nonce=secrets.token_hex(32),
    )  # fmt: skip
    digest = dr.record_digest(record)
    ledger.save(
        dr.DisclosureRecord._create(
            dr.DisclosureRecord.RecordIssued,
            id=dr.record_id(digest),
            timestamp=at,
            actor=who.name,
            actor_role=who.role,
            occurred_at=None,
            request_ref=ref,
            release=7,
            recipient="Bob Smith of the News-Gazette",
            record_digest=digest,
            release_inventory_sha256=record["release"]["inventory_sha256"],
            record=record,
        )  # fmt: skip
    )
    assert ledger.datadir is not None
    deep = verify_chain(open_chain(ledger.datadir), acts=deep_checker(ledger.mapper))
    assert deep.damage is not None and deep.damage.kind == "edited"
    assert "it says it is the record of release 7" in deep.damage.detail
