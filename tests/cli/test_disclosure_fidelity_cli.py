"""The legal review's disclosure findings (issue 12: 1-5, 6 for releases, 14, 15) tried
through the command line as a user would: each attempt exits 1, its first line names the
rule, and the refusal is in the log under that rule; nothing else is recorded. Runs on
SQLite and PostgreSQL (tests/cli/conftest.py)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from cli.main import custodes
from ledger.clock import ManualClock
from tests.conftest import SETUP
from tests.identity import CustodesRunner
from tests.integration.footage_helpers import CAMERA, clip

NOW = "2026-11-02T15:00:00Z"
LATER = "2026-12-20T15:00:00Z"
D, S = "Dana Director", "Sam Staff"
CARD, OTHER_CARD = "2100012345", "2100099999"
REPS = ("--sworn-officer", "--court-order-impractical", "--imminent-danger",
        "--identification-purpose")  # fmt: skip


class Cli:
    def __init__(self, tmp: Path) -> None:
        self.tmp, self.data, self.runner = tmp, tmp / "data", CustodesRunner()

    def __call__(self, *args: str, code: int = 0, now: str = NOW) -> Result:
        clock = ManualClock(datetime.fromisoformat(now))
        result = self.runner.invoke(custodes, ["--data-dir", str(self.data), *args], obj=clock)
        assert result.exit_code == code, (args, result.stdout, result.stderr)
        return result

    def log(self, kind: str) -> list[dict[str, Any]]:
        return json.loads(self("log", "--kind", kind, "--json", "--as", D).stdout)

    def events(self, now: str = NOW) -> list[dict[str, Any]]:
        out = self("log", "--json", "--limit", "100000", "--as", D, now=now).stdout
        return json.loads(out)

    def open(self, kind: str, records: str, *extra: str) -> str:
        out = self("request", "open", "--requester-kind", kind, "--requester", "Someone",
                   "--received-by", S, "--records", records, "--description", "asked",
                   "--as", S, "--json", *extra).stdout  # fmt: skip
        return json.loads(out)["ref"]

    def order(self, ref: str, *scope: str, kind: str = "order", judge: bool = True) -> None:
        doc = self.tmp / f"{ref}-order.pdf"
        doc.write_bytes(b"%PDF-1.7 the order " + ref.encode())
        self("request", "court-order", ref, "--kind", kind,
             "--signed-by-judge" if judge else "--not-signed-by-judge", "--court", "Circuit",
             "--judge", "Hon. J", "--case", "2026-CF-9", "--issued", "2026-11-01T09:00",
             "--served-at", "2026-11-02T08:00", "--served-by", "Det. Ray #42",
             "--document", str(doc), *scope, "--as", S)  # fmt: skip

    def form(self, ref: str) -> None:
        printed = self.tmp / f"{ref}-appendix9.pdf"
        self("request", "form", ref, "--out", str(printed), "--as", D)
        signed = self.tmp / f"{ref}-signed.pdf"
        signed.write_bytes(printed.read_bytes() + b"% signed by the officer")
        self("request", "emergency", ref, "--signed-form", str(signed), "--officer-name",
             "Lee Officer", "--badge", "4471", "--agency", "Mahomet PD", "--id-examined",
             "--role-sought", "suspect", "--description", "a threat", *REPS, "--as", S)  # fmt: skip

    def approve(self, ref: str) -> None:
        self("request", "decide", ref, "--approve", "--reason", "checked", "--as", D)

    def emergency_approved(self) -> str:
        ref = self.open("law_enforcement", "registration", "--patron", CARD)
        self.form(ref)
        self.approve(ref)
        return ref

    def segment(self) -> str:
        inbox = self.tmp / "inbox"
        clip(inbox, 0)
        out = self("footage", "ingest", str(inbox), "--camera", CAMERA, "--as", S, "--json")
        return json.loads(out.stdout)[0]["segment_id"]


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    c = Cli(tmp_path)
    setup = SETUP.isoformat()
    c("init", "--director", D, "--library", "Test Library", now=setup)
    c("staff", "add", S, "--role", "staff", "--as", D, now=setup)
    c("camera", "add", CAMERA, "--location", "Main lobby", "--zone", "public",
      "--signage-posted", "--as", D, now=setup)  # fmt: skip
    return c


# Each case: set up (every step must succeed), then the one attempt that must be refused.
Attempt = Callable[[Cli], tuple[str, ...]]


def order_for_another_card(c: Cli) -> tuple[str, ...]:
    ref = c.open("court", "registration,circulation", "--patron", CARD)
    c.order(ref, "--scope-patron", OTHER_CARD, "--scope-records", "registration",
            "--scope-records", "circulation")  # fmt: skip
    return ("request", "decide", ref, "--approve", "--reason", "an order", "--as", D)


def circulation_expressly_excluded(c: Cli) -> tuple[str, ...]:
    ref = c.open("court", "registration,circulation", "--patron", CARD)
    c.order(ref, "--scope-patron", CARD, "--scope-records", "registration", "--scope-records",
            "circulation", "--exclude-records", "circulation",
            "--scope-note", "circulation records are expressly excluded")  # fmt: skip
    c.approve(ref)
    return ("request", "release", ref, "--fields", "titles", "--to", "Clerk", "--method", "mail",
            "--as", D)  # fmt: skip


def records_outside_the_orders_dates(c: Cli) -> tuple[str, ...]:
    ref = c.open("court", "registration", "--patron", CARD)
    c.order(ref, "--scope-patron", CARD, "--scope-records", "registration",
            "--scope-from", "2026-10-01", "--scope-to", "2026-10-31")  # fmt: skip
    c.approve(ref)
    return ("request", "release", ref, "--fields", "name", "--to", "Clerk", "--method", "mail",
            "--records-from", "2026-09-01", "--records-to", "2026-10-31", "--as", D)  # fmt: skip


def decided_before_the_signed_form(c: Cli) -> tuple[str, ...]:
    ref = c.open("law_enforcement", "registration", "--patron", CARD)
    return ("request", "decide", ref, "--approve", "--reason", "ticked", "--as", D)


def released_to_somebody_else_by_email(c: Cli) -> tuple[str, ...]:
    ref = c.emergency_approved()
    return ("request", "release", ref, "--fields", "phone", "--to", "Somebody Else",
            "--method", "email", "--as", D)  # fmt: skip


def right_badge_but_by_email(c: Cli) -> tuple[str, ...]:
    ref = c.emergency_approved()
    return ("request", "release", ref, "--fields", "phone", "--to", "Lee Officer", "--badge",
            "4471", "--method", "email", "--as", D)  # fmt: skip


def circulation_on_an_emergency_request(c: Cli) -> tuple[str, ...]:
    ref = c.open("law_enforcement", "registration,circulation", "--patron", CARD)
    c.form(ref)
    c.approve(ref)
    return ("request", "release", ref, "--fields", "titles", "--to", "Lee Officer", "--badge",
            "4471", "--method", "in person", "--as", D)  # fmt: skip


def follow_up_closed_by_an_attorney_subpoena(c: Cli) -> tuple[str, ...]:
    ref = c.emergency_approved()
    c("request", "release", ref, "--fields", "name", "--to", "Lee Officer", "--badge", "4471",
      "--method", "in person", "--as", D)  # fmt: skip
    other = c.open("court", "registration", "--patron", CARD)
    c.order(other, "--scope-patron", CARD, "--scope-records", "registration",
            kind="subpoena", judge=False)  # fmt: skip
    return ("request", "follow-up", ref, "--court-order", other, "--as", D)


def staff_releasing_footage(c: Cli) -> tuple[str, ...]:
    seg = c.segment()
    ref = c.open("law_enforcement", "footage", "--footage", seg, "--case-number", "MPD-1")
    c.approve(ref)
    return ("request", "release", ref, "--footage", seg, "--to", "Det. Chen", "--method", "usb",
            "--as", S)  # fmt: skip


def foia_footage_unredacted(c: Cli) -> tuple[str, ...]:
    seg = c.segment()
    ref = c.open("public", "footage", "--footage", seg)
    c.approve(ref)
    return ("request", "release", ref, "--footage", seg, "--to", "A reporter", "--method",
            "download", "--as", D)  # fmt: skip


CASES: list[tuple[str, Attempt, str, str]] = [
    ("1", order_for_another_card, "LRCA-COURT-ORDER-SCOPE", "(scope item: patrons)"),
    ("1", circulation_expressly_excluded, "LRCA-COURT-ORDER-SCOPE", "(scope item: exclusions)"),
    ("1", records_outside_the_orders_dates, "LRCA-COURT-ORDER-SCOPE", "(scope item: dates)"),
    ("2", decided_before_the_signed_form, "LRCA-EMERGENCY-FORM", "signed Appendix 9"),
    ("3", released_to_somebody_else_by_email, "LRCA-EMERGENCY-RECIPIENT", "badge 4471"),
    ("3", right_badge_but_by_email, "LRCA-EMERGENCY-RECIPIENT", "in person"),
    ("4", circulation_on_an_emergency_request, "LRCA-EMERGENCY-SCOPE", "refused when"),
    ("5", follow_up_closed_by_an_attorney_subpoena, "LRCA-COURT-ORDER", "not signed by a judge"),
    ("6", staff_releasing_footage, "FOOTAGE-ARCHIVE-ACCESS", "may not release footage"),
    ("15", foia_footage_unredacted, "FOIA-7-1C", "redacted"),
]


@pytest.mark.parametrize(("finding", "attempt", "rule_id", "says"), CASES,
                         ids=[f"{c[0]}-{c[1].__name__}" for c in CASES])  # fmt: skip
def test_each_finding_exits_1_naming_its_rule_and_is_recorded(
    cli: Cli, finding: str, attempt: Attempt, rule_id: str, says: str
) -> None:
    args = attempt(cli)
    before = len(cli.events())
    refused = cli(*args, code=1)
    assert refused.stderr.startswith(f"Error: {rule_id} ("), refused.stderr
    assert says in refused.stderr
    assert cli.log("AccessDenied")[-1]["details"]["rule_id"] == rule_id
    # The refusal, and the reads of the log made to check it, are all that was added.
    added = [row["kind"] for row in cli.events()[before:]]
    assert set(added) <= {"AccessDenied", "ConfidentialRecordRead"}, added
    assert added.count("AccessDenied") == 1


def test_a_request_naming_purged_footage_records_nothing(cli: Cli) -> None:
    """Finding 14: the request used to be recorded, its FOIA clock started, and then the
    command failed."""
    seg = cli.segment()
    cli("retention", "sweep", "--yes", "--service", now=LATER)
    assert json.loads(cli("footage", "list", "--json", "--as", D, now=LATER).stdout)[0]["status"] \
        == "purged"  # fmt: skip
    before = len(cli.events(now=LATER))
    refused = cli("request", "open", "--requester-kind", "public", "--requester", "A reporter",
                  "--received-by", S, "--records", "footage", "--footage", seg,
                  "--description", "the lobby", "--as", S, code=1, now=LATER)  # fmt: skip
    assert "was purged" in refused.stderr
    assert json.loads(cli("request", "list", "--json", "--as", D, now=LATER).stdout) == []
    after = [row["kind"] for row in cli.events(now=LATER)[before:]]
    assert set(after) <= {"ConfidentialRecordRead"}, after


def test_the_register_and_the_report_show_scope_items_and_the_signed_forms_hash(
    cli: Cli,
) -> None:
    """Issue 12's tests: the new facts appear in the disclosure register (text, JSON and
    CSV) and in `report compliance`."""
    order = cli.open("court", "registration", "--patron", CARD)
    cli.order(order, "--scope-patron", CARD, "--scope-fields", "name",
              "--exclude-records", "circulation")  # fmt: skip
    emergency = cli.emergency_approved()
    signed = (cli.tmp / f"{emergency}-signed.pdf").read_bytes()
    form = "signed Appendix 9 sha256:" + hashlib.sha256(signed).hexdigest()[:16]
    text = cli("report", "disclosures", "--as", D).stdout
    rows = {
        r["ref"]: r for r in json.loads(cli("report", "disclosures", "--json", "--as", D).stdout)
    }
    scope = rows[order]["scope"]
    assert scope.startswith("patrons p-") and "records name" in scope
    assert "excluding circulation" in scope
    assert f"{order}: order 2026-CF-9" in text and f"scope: {scope}" in text
    assert f"{emergency}: {form}" in text and rows[emergency]["signed_form"] == form
    csv_text = cli("report", "disclosures", "--csv", "--as", D).stdout
    assert scope in csv_text and form in csv_text
    out = cli.tmp / "report.json"
    cli("report", "compliance", "--from", "2026-11-01", "--to", "2026-11-02", "--format",
        "json", "--out", str(out), "--as", D)  # fmt: skip
    basis = {
        r["request_id"]: r["legal_basis"]
        for r in json.loads(out.read_text())["disclosures"]["rows"]
    }
    assert f"scope: {scope}" in basis[order] and basis[emergency] == form


def test_request_list_shows_staff_the_requests_they_took_in_by_their_signed_intake(
    cli: Cli,
) -> None:
    """The members who read the disclosure register list every request; other staff only
    those whose intake they signed: the typed "received by" does not decide it (one
    rule, ``request_list_scope``, for the command line and the dashboard)."""
    other = "Omar Other"
    cli("staff", "add", other, "--role", "staff", "--as", D, now=SETUP.isoformat())
    mine = cli.open("public", "circulation")  # taken in by Sam, "received by" Sam
    typed = json.loads(cli("request", "open", "--requester-kind", "public", "--requester",
                           "Someone", "--received-by", other, "--records", "circulation",
                           "--description", "asked", "--as", S, "--json").stdout)["ref"]  # fmt: skip

    def listed(who: str) -> list[str]:
        out = cli("request", "list", "--json", "--as", who).stdout
        return [row["ref"] for row in json.loads(out)]

    assert listed(D) == [mine, typed]
    assert listed(S) == [mine, typed]  # Sam took both in, whatever was typed
    assert listed(other) == []  # named as "received by", but did not take it in
