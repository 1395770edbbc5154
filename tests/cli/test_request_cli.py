"""`custodes request ...`, `patron forget`, `report disclosures` through click's CliRunner:
exit codes, stderr text, parsed --json; each rule R2-R11, R20 once through the CLI."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import datetime
from pathlib import Path

import click
import pytest
from click.testing import Result

from cli.main import custodes
from ledger.clock import ManualClock
from tests.cli.db_helpers import every_stored_byte
from tests.identity import CustodesRunner

NOW = "2026-11-02T15:00:00Z"
D, S, C = "Dana Director", "Sam Staff", "Cora Counsel"
CARD, NAME = "2100-077123", "Quentin Zebulon-Patron"
REPS = ["--sworn-officer", "--court-order-impractical", "--imminent-danger",
        "--identification-purpose"]  # fmt: skip


@pytest.fixture
def run(tmp_path: Path):  # type: ignore[no-untyped-def]
    data = tmp_path / "data"
    runner = CustodesRunner()

    def invoke(*args: str, code: int = 0) -> Result:
        result = runner.invoke(
            custodes, ["--data-dir", str(data), *args], obj=ManualClock(datetime.fromisoformat(NOW))
        )
        assert result.exit_code == code, (result.stdout, result.stderr)
        return result

    invoke("init", "--director", D, "--library", "Mahomet Public Library")
    invoke("staff", "add", S, "--role", "staff", "--as", D)
    invoke("staff", "add", C, "--role", "counsel", "--as", D)
    invoke.data = data  # type: ignore[attr-defined]
    return invoke


def open_req(run, kind: str, records: str, *extra: str) -> str:  # type: ignore[no-untyped-def]
    result = run(
        "request", "open", "--requester-kind", kind, "--requester", "Someone",
        "--received-by", S, "--records", records, "--description", "asked", "--as", S,
        "--json", *extra,
    )  # fmt: skip
    return json.loads(result.stdout)["ref"]


def emergency(run, ref: str, *reps: str, code: int = 0) -> Result:  # type: ignore[no-untyped-def]
    """The officer's signed Appendix 9, printed first from the request (R10)."""
    printed = Path(run.data).parent / f"{ref}-appendix9.pdf"
    run("request", "form", ref, "--out", str(printed), "--force", "--as", D)
    signed = Path(run.data).parent / f"{ref}-appendix9-signed.pdf"
    signed.write_bytes(printed.read_bytes() + b"% the officer's signature (scan)")
    return run(
        "request", "emergency", ref, "--signed-form", str(signed), "--officer-name",
        "Lee Officer", "--badge", "4471", "--agency", "Mahomet PD", "--id-examined",
        "--role-sought", "suspect", "--description", "a threat", "--as", D, *reps, code=code,
    )  # fmt: skip


def refusals(run) -> list[str]:  # type: ignore[no-untyped-def]
    rows = json.loads(run("log", "--kind", "AccessDenied", "--json").stdout)
    return [row["details"]["rule_id"] for row in rows]


def test_the_emergency_path_end_to_end(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ref = open_req(run, "law_enforcement", "registration,circulation", "--patron", CARD,
                   "--patron-name", NAME)  # fmt: skip
    assert ref == "R-2026-0001"
    # R8: a missing representation is refused, cited and recorded.
    r = emergency(run, ref, *REPS[:3], code=1)
    assert r.stderr.startswith("Error: LRCA-EMERGENCY-REPRESENTATIONS (75 ILCS 70/1(a)(2)")
    assert "identify a suspect, witness or victim" in r.stderr
    # R10: no decision before the officer's signed form is recorded.
    r = run("request", "decide", ref, "--approve", "--reason", "ok", "--as", D, code=1)
    assert "LRCA-EMERGENCY-FORM" in r.stderr
    r = emergency(run, ref, *REPS)
    assert "Refused at intake: titles: LRCA-EMERGENCY-SCOPE" in r.stderr
    # R2/R3: nothing released before the Director decides; only the Director decides.
    r = run("request", "release", ref, "--fields", "name", "--to", "Lee", "--method", "x",
            "--as", D, code=1)  # fmt: skip
    assert "POLICY-DIRECTOR-DECIDES" in r.stderr and "before the Director decides" in r.stderr
    r = run("request", "decide", ref, "--approve", "--reason", "ok", "--as", S, code=1)
    assert "Error: POLICY-DIRECTOR-DECIDES (Policy V-A): only the Director decides" in r.stderr
    decided = json.loads(
        run(
            "request", "decide", ref, "--approve", "--reason", "emergency", "--as", D, "--json"
        ).stdout  # fmt: skip
    )
    assert decided["allowed_fields"] == ["address", "card_number", "name", "phone"]
    # R9: beyond scope is refused; R10: only to the officer of the form, in person.
    r = run("request", "release", ref, "--fields", "name,titles", "--to", "Lee", "--badge",
            "4471", "--method", "in person", "--as", D, code=1)  # fmt: skip
    assert "LRCA-EMERGENCY-SCOPE (75 ILCS 70/1(a)(2)): titles was refused when" in r.stderr
    r = run("request", "release", ref, "--fields", "phone", "--to", "Somebody Else",
            "--method", "email", "--as", D, code=1)  # fmt: skip
    assert "LRCA-EMERGENCY-RECIPIENT" in r.stderr
    released = json.loads(
        run(
            "request", "release", ref, "--fields", "name,card_number", "--to", "Lee Officer",
            "--badge", "4471", "--method", "in person", "--as", D, "--json",
        ).stdout
    )  # fmt: skip
    assert released["fields"] == ["card_number", "name"] and len(released["inventory_sha256"]) == 64
    # R10: the officer's signed receipt; a missing file is bad input.
    r = run("request", "acknowledge", ref, "--signed-receipt", str(tmp_path / "nope.pdf"),
            "--as", D, code=1)  # fmt: skip
    assert "does not exist" in r.stderr
    run("request", "acknowledge", ref, "--refused-to-sign", "--as", D, code=2)  # no such option
    signed = tmp_path / "signed.pdf"
    signed.write_bytes(b"%PDF-1.7 signed")
    r = run("request", "acknowledge", ref, "--signed-receipt", str(signed), "--release", "2",
            "--as", D, code=1)  # fmt: skip
    assert "release 2 of" in r.stderr and "is not waiting for a receipt (waiting: 1)" in r.stderr
    r = run("request", "acknowledge", ref, "--signed-receipt", str(signed), "--as", D)
    assert "Recorded the signed receipt of release 1 on" in r.stderr + r.stdout
    # R11: the follow-up is open until resolved.
    rows = json.loads(run("report", "disclosures", "--json").stdout)
    assert rows[0]["follow_up"] == "open"
    assert rows[0]["acknowledgement"].startswith("signed receipt sha256:")
    r = run("request", "follow-up", ref, "--closed", "--as", D, code=1)
    assert "needs --reason" in r.stderr
    run("request", "follow-up", ref, "--judicial-review-sought", "--as", D)
    rows = json.loads(run("report", "disclosures", "--json").stdout)
    assert rows[0]["follow_up"] == "resolved: judicial review sought"
    assert refusals(run) == [
        "LRCA-EMERGENCY-REPRESENTATIONS", "LRCA-EMERGENCY-FORM", "POLICY-DIRECTOR-DECIDES",
        "POLICY-DIRECTOR-DECIDES", "LRCA-EMERGENCY-SCOPE", "LRCA-EMERGENCY-RECIPIENT",
    ]  # fmt: skip
    # The Appendix 9 form, prefilled.
    out = tmp_path / "form.pdf"
    run("request", "form", ref, "--out", str(out), "--as", D)
    assert out.read_bytes().startswith(b"%PDF")


def test_an_order_issued_in_1850_is_refused_naming_issued(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Red team (session 22): an order "issued 1850-01-01" was recorded. More than ten
    years before it is recorded is a slip: exit 1, --issued named, nothing recorded."""
    ref = open_req(run, "court", "registration", "--patron", CARD)
    doc = tmp_path / "order.pdf"
    doc.write_bytes(b"%PDF-1.7 the order")
    before = json.loads(run("status", "--json").stdout)["events"]
    r = run(
        "request", "court-order", ref, "--kind", "order", "--signed-by-judge", "--court",
        "Circuit", "--judge", "Hon. J", "--case", "2026-CF-1", "--issued", "1850-01-01",
        "--served-at", "2026-11-02T08:30", "--served-by", "Det. Ray", "--scope-patron", CARD,
        "--scope-records", "registration", "--document", str(doc), "--as", S, code=1,
    )  # fmt: skip
    assert "the order's issued date (1850-01-01) is more than ten years before today" in r.stderr
    assert "check --issued" in r.stderr and "nothing was recorded" in r.stderr
    assert json.loads(run("status", "--json").stdout)["events"] == before


def test_a_court_order_with_counsel_review(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ref = open_req(run, "court", "registration,circulation", "--patron", CARD)
    order = [
        "request", "court-order", ref, "--kind", "order", "--signed-by-judge", "--court", "Circuit",
        "--judge", "Hon. J", "--case", "2026-CF-1", "--issued", "2026-11-01T09:00",
        "--served-at", "2026-11-02T08:30", "--served-by", "Det. Ray #42 Mahomet PD",
        "--scope-patron", CARD, "--scope-records", "registration",
        "--scope-note", "the patron's registration record", "--as", S,
    ]  # fmt: skip
    r = run(*order, "--document", str(tmp_path / "missing.pdf"), code=1)
    assert "the document" in r.stderr and "does not exist" in r.stderr
    # Red team (session 13): an empty file or plain text was recorded as the scan; the
    # dashboard refused both. Nothing is recorded.
    before = refusals(run)
    (tmp_path / "empty.pdf").write_bytes(b"")
    r = run(*order, "--document", str(tmp_path / "empty.pdf"), code=1)
    assert "the file of the document (empty.pdf) is empty; nothing recorded" in r.stderr
    (tmp_path / "typed.pdf").write_text("order scan\n")
    r = run(*order, "--document", str(tmp_path / "typed.pdf"), code=1)
    assert "(typed.pdf) is not a PDF or an image" in r.stderr
    assert refusals(run) == before
    assert (
        json.loads(run("request", "show", ref, "--json", "--as", D).stdout)["court_order"] is None
    )
    doc = tmp_path / "order.pdf"
    doc.write_bytes(b"%PDF-1.7 the order")
    r = run(*order, "--document", str(doc))
    expected = hashlib.sha256(b"%PDF-1.7 the order").hexdigest()
    assert f"(document sha256 {expected})" in r.stderr
    # R6: counsel's review is recorded (counsel only); the Director is the gate.
    run("request", "counsel-review", ref, "--result", "sufficient", "--as", D, code=1)
    run("request", "counsel-review", ref, "--result", "sufficient", "--notes", "ok", "--as", C)
    # a reference typed with spaces and in lower case is echoed as recorded (red team)
    decided = run("request", "decide", f" {ref.lower()} ", "--approve", "--reason",
                  "valid order", "--as", D)  # fmt: skip
    assert f"Approved {ref}: releasable" in decided.stderr
    # R7: only the order's scope.
    r = run("request", "release", ref, "--fields", "titles", "--to", "Clerk", "--method", "mail",
            "--as", D, code=1)  # fmt: skip
    assert "LRCA-COURT-ORDER-SCOPE" in r.stderr
    run("request", "release", ref, "--fields", "name", "--to", "Clerk", "--method", "mail",
        "--as", D)  # fmt: skip
    shown = json.loads(run("request", "show", ref, "--json", "--as", D).stdout)
    assert (
        shown["court_order"]["document_sha256"]
        == __import__("hashlib").sha256(b"%PDF-1.7 the order").hexdigest()
    )
    assert shown["counsel_review"]["by"] == C


def test_guardian_foia_and_deny_by_default(run) -> None:  # type: ignore[no-untyped-def]
    # R4: a minor's fines and fees amounts only, told by staff without a decision.
    g = open_req(run, "parent_guardian", "fines_fees,circulation", "--patron", CARD, "--minor",
                 "--guardianship", "birth-certificate")  # fmt: skip
    run("request", "release", g, "--fields", "fines_total", "--to", "Someone", "--method", "desk",
        "--as", S)  # fmt: skip
    r = run("request", "release", g, "--fields", "titles", "--to", "Someone", "--method", "desk",
            "--as", S, code=1)  # fmt: skip
    assert "POLICY-MINOR-FINES" in r.stderr
    # R20: FOIA clock; patron records exempt.
    f = open_req(run, "public", "circulation")
    shown = json.loads(run("request", "show", f, "--json", "--as", D).stdout)
    assert shown["foia"]["due_at"] == "2026-11-10T05:59:59.999999+00:00"
    r = run("request", "decide", f, "--approve", "--reason", "x", "--as", D, code=1)
    assert "FOIA-7.5B (5 ILCS 140/7.5(b))" in r.stderr
    run("request", "decide", f, "--deny", "--reason", "exempt under 7.5(b)", "--as", D)
    # R2: no basis, nothing released.
    o = open_req(run, "other", "registration")
    r = run("request", "decide", o, "--approve", "--reason", "x", "--as", D, code=1)
    assert "POLICY-DENY-BY-DEFAULT" in r.stderr
    table = run("report", "disclosures", "--from", "2026-11-01", "--to", "2026-12-01").stdout
    # Received Monday 2 November (09:00 CST): due the end of Monday 9 November, site time.
    assert "FOIA due" in table and "2026-11-09 23:59 CST" in table
    rows = list(csv.DictReader(io.StringIO(run("report", "disclosures", "--csv").stdout)))
    assert [(row["ref"], row["decision"]) for row in rows] == [
        (g, "not needed"), (f, "denied"), (o, "pending")
    ]  # fmt: skip
    assert rows[0]["released_fields"] == "fines_total"
    assert json.loads(run("report", "disclosures", "--from", "2026-12-01", "--json").stdout) == []


def test_bad_input_is_refused_with_a_clear_message(run) -> None:  # type: ignore[no-untyped-def]
    r = run("request", "show", "R-2026-0404", "--as", D, code=1)
    assert r.stderr == "Error: request 'R-2026-0404' does not exist (see: custodes request list)\n"
    r = run("patron", "forget", "123", "--as", D, code=1)
    assert "no patron with that card number is on file" in r.stderr
    run("request", "open", "--requester-kind", "public", "--requester", "x", "--received-by", S,
        "--records", "bogus", "--description", "x", "--as", S, code=2)  # fmt: skip
    r = run("request", "open", "--requester-kind", "public", "--requester", "x", "--received-by",
            "Nobody", "--records", "circulation", "--description", "x", "--as", S, code=1)  # fmt: skip
    assert "'Nobody' is not an active staff member" in r.stderr
    r = run("request", "open", "--requester-kind", "public", "--requester", "x", "--received-by",
            S, "--records", "circulation", "--minor", "--description", "x", "--as", S, code=1)  # fmt: skip
    assert "need the patron's card" in r.stderr
    ref = open_req(run, "patron", "circulation")
    r = emergency(run, ref, *REPS, code=1)  # not law enforcement: refused and recorded
    assert "only a sworn law enforcement officer" in r.stderr
    assert refusals(run) == ["LRCA-EMERGENCY-REPRESENTATIONS"]
    assert json.loads(run("request", "list", "--json").stdout)[0]["released_fields"] == []


def test_patron_details_are_never_in_the_database_and_forget_erases_them(run) -> None:  # type: ignore[no-untyped-def]
    ref = open_req(run, "law_enforcement", "registration", "--patron", CARD, "--patron-name",
                   NAME, "--patron-address", "77 Elm Street")  # fmt: skip
    emergency(run, ref, *REPS)
    run("request", "decide", ref, "--approve", "--reason", "emergency", "--as", D)
    run("request", "release", ref, "--fields", "name", "--to", "Lee", "--badge", "4471",
        "--method", "in person", "--as", D)  # fmt: skip
    run("report", "disclosures")  # the register is written too
    raw = every_stored_byte(run.data)
    for secret in (NAME, "Zebulon", CARD, CARD.replace("-", ""), "77 Elm"):
        assert secret.encode() not in raw
    shown = json.loads(run("request", "show", ref, "--json", "--as", D).stdout)
    assert shown["patron"]["details"]["name"] == NAME
    r = run("patron", "forget", CARD, "--as", S, code=1)
    assert "PATRON-ERASURE" in r.stderr
    r = run("patron", "forget", CARD, "--reason", "patron asked", "--as", D)
    assert "Erased the details of patron p-" in r.stderr
    shown = json.loads(run("request", "show", ref, "--json", "--as", D).stdout)
    assert shown["patron"]["details"] == "erased"
    assert "(erased)" in run("report", "disclosures").stdout
    assert json.loads(run("report", "disclosures", "--json").stdout)[0]["patron_erased"] is True
    run("verify")


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    if group is custodes:
        custodes.load()  # every command module, as a run of each command would
    out = []
    for name, cmd in group.commands.items():
        out.append((f"{prefix}{name}", cmd))
        if isinstance(cmd, click.Group):
            out += _commands(cmd, f"{prefix}{name} ")
    return out


def test_every_disclosure_command_has_help_with_an_example() -> None:
    mine = [
        (n, c) for n, c in _commands(custodes)
        if n.startswith(("request", "patron", "report disclosures"))
    ]  # fmt: skip
    assert len(mine) == 17  # 2 groups, 13 request commands, forget, the report
    for name, cmd in mine:
        assert "Example:" in (cmd.help or ""), name


def test_a_request_a_member_may_not_read_answers_as_a_missing_one(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """No existence oracle: to a member of staff who did not take it in, a request answers
    exactly as a reference that does not exist (exit code and words); the attempt on the
    existing one is recorded, the missing one records nothing."""
    run("staff", "add", "Tia Staff", "--role", "staff", "--as", D)
    ref, missing = open_req(run, "public", "registration"), "R-2099-9999"
    out = tmp_path / "form.pdf"
    for command in (["show"], ["form", "--out", str(out), "--force"]):
        before = len(refusals(run))
        answers = []
        for r in (ref, missing):
            result = run("request", command[0], r, *command[1:], "--as", "Tia Staff", code=1)
            answers.append((result.stdout, result.stderr.replace(r, "REF")))
        assert answers[0] == answers[1]
        assert "does not exist" in answers[0][1]
        assert refusals(run)[before:] == ["READ-CONFIDENTIAL"]
        assert not out.exists()
    run("request", "show", ref, "--as", S)  # the member who took it in reads it


def test_the_form_as_printed_is_not_taken_for_the_officers_signed_form(run) -> None:  # type: ignore[no-untyped-def]
    """Red-team (redteam9): `request emergency --signed-form` took the PDF `request form`
    had just printed, unsigned, as the officer's signed Appendix 9 (the two files lie side
    by side), and the Director could decide on it (R10)."""
    ref = open_req(run, "law_enforcement", "registration", "--patron", CARD)
    printed = Path(run.data).parent / "appendix9.pdf"
    run("request", "form", ref, "--out", str(printed), "--as", S)
    r = run(
        "request", "emergency", ref, "--signed-form", str(printed), "--officer-name",
        "Lee Officer", "--badge", "4471", "--agency", "Mahomet PD", "--id-examined",
        "--role-sought", "suspect", "--description", "a threat", "--as", S, *REPS, code=1,
    )  # fmt: skip
    assert r.stderr.startswith("Error: LRCA-EMERGENCY-FORM (75 ILCS 70/1(a)(2)")
    assert "the form as Custodes printed it" in r.stderr
    assert refusals(run)[-1] == "LRCA-EMERGENCY-FORM"
    r = run("request", "decide", ref, "--approve", "--reason", "ok", "--as", D, code=1)
    assert "LRCA-EMERGENCY-FORM" in r.stderr  # still no signed form before her
    assert emergency(run, ref, *REPS).exit_code == 0  # the scan of the signed form
