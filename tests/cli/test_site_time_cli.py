"""Dates a Director can trust (R24), through the CLI: what is typed without a zone is site
time, a date is its whole local day, ``--from``/``--to`` are inclusive in every command,
and every time shown carries its zone label. The site is in America/Chicago; the clock is
a ManualClock (the DST cases use fixed dates around 8 March and 1 November 2026)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import Result

from cli.main import custodes
from ledger.clock import ManualClock
from tests.identity import CustodesRunner
from tests.integration.footage_helpers import CAMERA, clip

D, S = "Dana Director", "Sam Staff"
TUESDAY = datetime(2026, 12, 1, 16, 0, tzinfo=UTC)  # Tuesday 1 December, 10:00 CST


@pytest.fixture
def run(tmp_path: Path):  # type: ignore[no-untyped-def]
    data = tmp_path / "data"
    runner = CustodesRunner()

    def invoke(*args: str, code: int = 0, at: datetime = TUESDAY) -> Result:
        result = runner.invoke(custodes, ["--data-dir", str(data), *args], obj=ManualClock(at))
        assert result.exit_code == code, (result.stdout, result.stderr)
        return result

    early = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)
    invoke("init", "--director", D, "--timezone", "America/Chicago", at=early)
    invoke("staff", "add", S, "--role", "staff", "--as", D, at=early)
    invoke("camera", "add", CAMERA, "--location", "Lobby", "--zone", "public",
           "--signage-posted", "--as", D, at=early)  # fmt: skip
    invoke.data = data  # type: ignore[attr-defined]
    return invoke


def foia(run, *, at: datetime = TUESDAY) -> str:  # type: ignore[no-untyped-def]
    result = run(
        "request", "open", "--requester-kind", "public", "--requester", "A reporter",
        "--received-by", S, "--records", "footage", "--description", "lobby footage",
        "--as", S, at=at,
    )  # fmt: skip
    return result.stdout.strip()


def test_the_foia_deadline_is_the_end_of_the_fifth_business_day_in_site_time(run) -> None:  # type: ignore[no-untyped-def]
    opened = run(
        "request", "open", "--requester-kind", "public", "--requester", "A reporter",
        "--received-by", S, "--records", "footage", "--description", "lobby footage",
        "--as", S,
    )  # fmt: skip
    ref = opened.stdout.strip()
    assert "FOIA: respond by 2026-12-08 23:59 CST (5 ILCS 140/3(d))." in opened.stderr
    listed = run("request", "list").stdout
    assert re.search(rf"{ref} .*2026-12-08 23:59 CST", listed), listed
    extended = run("request", "foia-extend", ref, "--reason", "review", "--as", D)
    assert "respond by 2026-12-15 23:59 CST" in extended.stderr
    shown = json.loads(run("request", "show", ref, "--json").stdout)
    assert shown["foia"]["due_at"] == "2026-12-09T05:59:59.999999+00:00"  # UTC for machines


@pytest.mark.parametrize(
    ("since", "until", "found"),
    [
        ("2026-12-01", "2026-12-01", True),
        ("2026-12-01", "2026-12-02", True),
        ("2026-11-30", "2026-11-30", False),
        ("2026-12-02", "2026-12-02", False),
        ("2026-12-01T10:00", "2026-12-01T10:00", True),
        ("2026-12-01T10:01", "2026-12-01", False),
    ],
    ids=[
        "a one-day period holds the day's request",
        "--to includes its whole day",
        "the day before holds nothing",
        "the day after holds nothing",
        "a minute includes everything in it",
        "--from a later minute",
    ],
)
def test_report_disclosures_from_and_to_are_inclusive_site_days(  # type: ignore[no-untyped-def]
    run, since: str, until: str, found: bool
) -> None:
    ref = foia(run)
    rows = json.loads(run("report", "disclosures", "--from", since, "--to", until, "--json").stdout)
    assert [r["ref"] for r in rows] == ([ref] if found else [])


def test_a_court_orders_times_typed_without_a_zone_are_site_time(  # type: ignore[no-untyped-def]
    run, tmp_path: Path
) -> None:
    ref = json.loads(
        run(
            "request", "open", "--requester-kind", "court", "--requester", "Circuit Court",
            "--received-by", S, "--records", "registration", "--patron", "2100",
            "--description", "order", "--as", S, "--json",
        ).stdout
    )["ref"]  # fmt: skip
    scan = tmp_path / "order.pdf"
    scan.write_bytes(b"%PDF-1.7 order")
    run(
        "request", "court-order", ref, "--kind", "order", "--signed-by-judge",
        "--court", "Circuit Court", "--judge", "Hon. A. Judge", "--case", "26-CF-1",
        "--issued", "2026-11-30", "--served-at", "2026-12-01T09:30", "--served-by", "Det. Ray",
        "--scope-patron", "2100", "--scope-records", "registration", "--document", str(scan), "--as", D,
    )  # fmt: skip
    order = json.loads(run("request", "show", ref, "--json").stdout)["court_order"]
    assert order["issued"] == "2026-11-30T06:00:00+00:00"  # the start of that Chicago day
    assert order["served_at"] == "2026-12-01T15:30:00+00:00"  # 09:30 CST


def test_a_time_that_does_not_exist_in_site_time_is_a_usage_error(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    before = json.loads(run("status", "--json").stdout)["events"]
    result = run(
        "footage", "ingest", str(clip(tmp_path / "in")), "--camera", CAMERA,
        "--recorded-at", "2026-03-08T02:30", "--as", S, code=2,
    )  # fmt: skip
    assert (
        "Error: --recorded-at 2026-03-08T02:30: there is no 02:30 on 2026-03-08 in "
        "America/Chicago (the clocks skip that hour when daylight saving time begins)"
    ) in result.stderr
    assert json.loads(run("status", "--json").stdout)["events"] == before


def test_ingest_and_footage_list_show_recording_times_in_site_time(  # type: ignore[no-untyped-def]
    run, tmp_path: Path
) -> None:
    result = run(
        "footage", "ingest", str(clip(tmp_path / "in", start=datetime(2026, 11, 20, 14, 29, tzinfo=UTC))),
        "--camera", CAMERA, "--recorded-at", "2026-11-20T08:30", "--as", S,
    )  # fmt: skip
    assert "(recorded 2026-11-20 08:30:00\u201308:30:01 CST, 1.0 s, 160x120)" in result.stderr
    listed = run("footage", "list").stdout
    assert "2026-11-20 08:30 CST" in listed
    assert "2026-12-20 08:30 CST" in listed  # deadline: 30 days after the recording ended
    assert "Z" not in listed.split("\n", 2)[2]


def test_the_sweep_shows_the_deadline_footage_list_shows(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run(
        "footage", "ingest", str(clip(tmp_path / "in", start=datetime(2026, 10, 15, 2, tzinfo=UTC))),
        "--camera", CAMERA, "--recorded-at", "2026-10-14T21:00", "--as", S,
        at=datetime(2026, 10, 15, 12, tzinfo=UTC),
    )  # fmt: skip
    listed = run("footage", "list").stdout
    swept = run("retention", "sweep", "--dry-run", "--as", D).stderr
    # 30 days of 24 hours after 21:00 CDT is 20:00 CST: the label says which hour.
    assert "2026-10-14 21:00 CDT  30 days  2026-11-13 20:00 CST" in listed
    assert "deadline 2026-11-13 20:00 CST" in swept


def test_recorded_at_moves_a_clip_from_its_own_time_by_a_day_at_most(  # type: ignore[no-untyped-def]
    run, tmp_path: Path
) -> None:
    """Red team (session 17): --recorded-at a month after the clip's own time (its name
    and creation_time) kept it a month longer, and took in a clip past its deadline."""
    before = json.loads(run("status", "--json").stdout)["events"]
    late = run(
        "footage", "ingest", str(clip(tmp_path / "in")), "--camera", CAMERA,
        "--recorded-at", "2026-11-21T08:30", "--as", S, code=1,
    )  # fmt: skip
    assert "is more than a day from that" in late.stderr and "nothing was recorded" in late.stderr
    assert json.loads(run("status", "--json").stdout)["events"] == before
    # within a day of the clip's own time: test_ingest_and_footage_list_show_recording_times_in_site_time


def test_a_hold_reviewed_by_a_date_shows_that_date(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ingested = run(
        "footage",
        "ingest",
        str(clip(tmp_path / "in")),
        "--camera",
        CAMERA,
        "--as",
        S,
        "--json",
        at=datetime(2026, 11, 1, 12, 0, tzinfo=UTC),  # as it was recorded, not past its days
    )
    segment = json.loads(ingested.stdout)[0]["segment_id"]
    hold = run(
        "footage", "hold", "place", segment, "--kind", "legal", "--reason", "claim",
        "--reference", "L-1", "--review-by", "2027-03-01", "--as", D,
    ).stdout.strip()  # fmt: skip
    listed = run("footage", "hold", "list").stdout
    assert re.search(rf"^{hold} .* 2027-03-01$", listed, re.MULTILINE), listed
    stored = json.loads(run("footage", "hold", "list", "--json").stdout)[0]["review_by"]
    assert stored == "2027-03-02T05:59:59.999999+00:00"  # through the end of 1 March, CST
    report = tmp_path / "report.html"
    run("report", "compliance", "--from", "2026-12-01", "--to", "2026-12-01", "--format",
        "html", "--out", str(report), "--as", D)  # fmt: skip
    html = report.read_text()
    assert "<td>2027-03-01</td>" in html and "2027-02-28" not in html


# Staff added at these instants: the night clocks go back (1 November 2026) is 25 hours.
ADDED = {
    "S-before": datetime(2026, 11, 1, 4, 59, tzinfo=UTC),  # 31 Oct 23:59 CDT
    "S-first": datetime(2026, 11, 1, 5, 0, tzinfo=UTC),  # 1 Nov 00:00 CDT
    "S-repeat": datetime(2026, 11, 1, 7, 30, tzinfo=UTC),  # 1 Nov 01:30 CST, the second one
    "S-last": datetime(2026, 11, 2, 5, 59, tzinfo=UTC),  # 1 Nov 23:59 CST
    "S-after": datetime(2026, 11, 2, 6, 0, tzinfo=UTC),  # 2 Nov 00:00 CST
}


@pytest.mark.parametrize(
    ("since", "until", "names"),
    [
        ("2026-11-01", "2026-11-01", ["S-first", "S-repeat", "S-last"]),
        ("2026-10-31", "2026-10-31", ["S-before"]),
        ("2026-11-01 01:30 CST", "2026-11-01", ["S-repeat", "S-last"]),
        ("2026-11-01T05:00Z", "2026-11-01 00:00", ["S-first"]),
    ],
    ids=[
        "the 25-hour day, whole",
        "the day before",
        "from the second 01:30, named by its label",
        "an instant in UTC to a site-time minute",
    ],
)
def test_log_ranges_cover_whole_site_days_across_the_end_of_dst(  # type: ignore[no-untyped-def]
    run, since: str, until: str, names: list[str]
) -> None:
    for name, at in ADDED.items():
        run("staff", "add", name, "--role", "staff", "--as", D, at=at)
    rows = json.loads(
        run("log", "--kind", "StaffMemberAdded", "--from", since, "--to", until, "--json").stdout
    )
    assert [r["details"]["name"] for r in rows] == names


def test_log_and_history_label_every_time_with_the_zone_in_force(run) -> None:  # type: ignore[no-untyped-def]
    for name, at in ADDED.items():
        run("staff", "add", name, "--role", "staff", "--as", D, at=at)
    table = run("log", "--kind", "StaffMemberAdded", "--from", "2026-11-01", "--to", "2026-11-01")
    assert table.stdout.splitlines()[0].split()[:3] == ["#", "recorded", "kind"]
    for shown in ("2026-11-01 00:00:00 CDT", "2026-11-01 01:30:00 CST", "2026-11-01 23:59:00 CST"):
        assert shown in table.stdout
    ref = foia(run)
    history = run("history", ref).stdout
    assert "UTC" not in history
    assert "FOIA clock started: due 2026-12-08 23:59 CST (extended 2026-12-15 23:59 CST)" in history
    assert "2026-12-01 10:00 CST" in history
