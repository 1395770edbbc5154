"""The legal review's footage findings (issue 12: 6-13) tried through the command line as
a hostile staff member would: each attempt exits 1, its first line names the rule, and
the refusal is in the log under that rule; nothing else is recorded. Then the viewing
copies (R16b) from `footage view` to `verify`, `footage done` and the sweep. Runs on
SQLite and PostgreSQL (tests/cli/conftest.py)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
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
SOON = "2026-11-02T18:00:00Z"  # after a viewing copy's two-hour session
LATER = "2026-12-20T15:00:00Z"  # past a 1 November segment's 30 days
D, M, S = "Dana Director", "Bo Manager", "Sam Staff"


class Cli:
    def __init__(self, tmp: Path) -> None:
        self.tmp, self.data, self.runner = tmp, tmp / "data", CustodesRunner()

    def __call__(self, *args: str, code: int = 0, now: str = NOW) -> Result:
        clock = ManualClock(datetime.fromisoformat(now))
        result = self.runner.invoke(custodes, ["--data-dir", str(self.data), *args], obj=clock)
        assert result.exit_code == code, (args, result.stdout, result.stderr)
        return result

    def log(self, kind: str, now: str = NOW) -> list[dict[str, Any]]:
        return json.loads(self("log", "--kind", kind, "--json", "--as", D, now=now).stdout)

    def events(self, now: str = NOW) -> list[dict[str, Any]]:
        return json.loads(self("log", "--json", "--limit", "100000", "--as", D, now=now).stdout)

    def segment(self, n: int = 0, start: datetime | None = None) -> str:
        inbox = self.tmp / f"inbox-{n}"
        clip(inbox, n, **({"start": start} if start else {}))
        out = self("footage", "ingest", str(inbox), "--camera", CAMERA, "--as", S, "--json")
        return json.loads(out.stdout)[0]["segment_id"]


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    c = Cli(tmp_path)
    setup = SETUP.isoformat()
    c("init", "--director", D, "--library", "Test Library", now=setup)
    c("staff", "add", S, "--role", "staff", "--as", D, now=setup)
    c("staff", "add", M, "--role", "business_manager", "--as", D, now=setup)
    c("camera", "add", CAMERA, "--location", "Main lobby", "--zone", "public",
      "--signage-posted", "--as", D, now=setup)  # fmt: skip
    return c


Attempt = Callable[[Cli], tuple[tuple[str, ...], str]]  # (the command, when)


def staff_views_a_fresh_segment(c: Cli) -> tuple[tuple[str, ...], str]:
    seg = c.segment(start=datetime.fromisoformat(NOW) - timedelta(minutes=2))
    return ("footage", "view", seg, "--reason", "check the lobby", "--purpose", "safety",
            "--as", S), NOW  # fmt: skip


def director_views_past_the_deadline(c: Cli) -> tuple[tuple[str, ...], str]:
    return ("footage", "view", c.segment(), "--reason", "one more look", "--purpose", "safety",
            "--as", D), LATER  # fmt: skip


def retention_cut_to_two_days(c: Cli) -> tuple[tuple[str, ...], str]:
    return ("retention", "settings", "--retention-days", "2", "--reason", "disk", "--as", D), NOW


def staff_views_without_a_reason(c: Cli) -> tuple[tuple[str, ...], str]:
    return ("footage", "view", c.segment(), "--as", S), NOW


def flag_until_9999(c: Cli) -> tuple[tuple[str, ...], str]:
    return ("footage", "flag", c.segment(), "--incident", "board", "--reason",
            "keep for the board", "--until", "9998-12-31", "--as", S), NOW  # fmt: skip


def staff_extends_a_flag(c: Cli) -> tuple[tuple[str, ...], str]:
    seg = c.segment()
    c("footage", "flag", seg, "--incident", "IR-114", "--reason", "wallet taken", "--as", S)
    flag = json.loads(c("footage", "list", "--json", "--as", D).stdout)[0]["flags"][0]
    return ("footage", "extend-flag", seg, flag, "--until", "2027-01-20", "--reason", "longer",
            "--as", S), NOW  # fmt: skip


def whether_sam_left_early(c: Cli) -> tuple[tuple[str, ...], str]:
    return ("footage", "view", c.segment(), "--reason",
            "see whether Sam left the circulation desk early", "--as", D), NOW  # fmt: skip


def camera_in_the_mens_restroom(c: Cli) -> tuple[tuple[str, ...], str]:
    return ("camera", "add", "rr-1", "--location", "Men's restroom near sinks", "--zone",
            "public", "--signage-posted", "--as", D), NOW  # fmt: skip


CASES: list[tuple[str, Attempt, str, str]] = [
    ("6", staff_views_a_fresh_segment, "FOOTAGE-ARCHIVE-ACCESS", "archived footage"),
    ("8", director_views_past_the_deadline, "FOOTAGE-PAST-DEADLINE", "no hold covers it"),
    ("9", retention_cut_to_two_days, "FOOTAGE-RETENTION", "policy's 30 days"),
    ("10", staff_views_without_a_reason, "FOOTAGE-VIEW-REASON", "a reason is required"),
    ("11", flag_until_9999, "FOOTAGE-FLAG-BOUND", "at most 90 days ahead"),
    ("11", staff_extends_a_flag, "FOOTAGE-FLAG-BOUND", "only the Director extends"),
    ("12", whether_sam_left_early, "FOOTAGE-NO-STAFF-MONITORING", "'Sam Staff'"),
    ("13", camera_in_the_mens_restroom, "CAMERA-PRIVACY-ZONE", "'restroom'"),
]


@pytest.mark.parametrize(("finding", "attempt", "rule_id", "says"), CASES,
                         ids=[f"{c[0]}-{c[1].__name__}" for c in CASES])  # fmt: skip
def test_each_footage_finding_exits_1_naming_its_rule_and_is_recorded(
    cli: Cli, finding: str, attempt: Attempt, rule_id: str, says: str
) -> None:
    args, when = attempt(cli)
    before = len(cli.events(now=when))
    refused = cli(*args, code=1, now=when)
    assert refused.stderr.startswith(f"Error: {rule_id} ("), refused.stderr
    assert says in refused.stderr
    assert cli.log("AccessDenied", now=when)[-1]["details"]["rule_id"] == rule_id
    added = [row["kind"] for row in cli.events(now=when)[before:]]
    assert set(added) <= {"AccessDenied", "ConfidentialRecordRead"}, added
    assert added.count("AccessDenied") == 1
    assert not (cli.data / "viewing").exists() or not any((cli.data / "viewing").iterdir())


def test_there_is_no_live_window_to_set_and_retention_shows_per_segment(cli: Cli) -> None:
    for command in (("retention", "settings"), ("init", "--director", D)):
        gone = cli(*command, "--live-window-hours", "720", "--as", D, code=2)
        assert "No such option '--live-window-hours'" in gone.stderr
    settings = json.loads(cli("retention", "settings", "--json").stdout)
    assert settings == {"retention_days": 30, "policy_version": 1, "schedule_authority": None}
    seg = cli.segment()
    (row,) = json.loads(cli("footage", "list", "--json", "--as", D).stdout)
    assert (row["segment_id"], row["status"], row["retention_days"]) == (seg, "retained", 30)


def test_a_directors_note_lets_a_purpose_naming_staff_through(cli: Cli) -> None:
    seg = cli.segment()
    cli("footage", "view", seg, "--reason", "Sam reported a patron's fall", "--purpose",
        "safety", "--not-staff-monitoring", "Sam is the witness, not the subject", "--as", D)  # fmt: skip
    viewed = cli.log("FootageViewed")[-1]["details"]
    assert viewed["staff_note"] == "Sam is the witness, not the subject"
    cli("camera", "add", "hall-2", "--location", "Hallway outside the restrooms", "--zone",
        "public", "--signage-posted", "--not-private", "faces away from the doors", "--as", D)  # fmt: skip
    cams = json.loads(cli("camera", "list", "--json", "--as", D).stdout)
    assert [c["privacy_note"] for c in cams if c["camera_id"] == "hall-2"] == [
        "faces away from the doors"
    ]


def test_viewing_copies_are_tracked_reported_and_destroyed(cli: Cli) -> None:
    seg, other = cli.segment(0), cli.segment(1)
    copy = Path(cli("footage", "view", seg, "--reason", "patron fell", "--purpose", "safety",
                    "--as", M).stdout.strip())  # fmt: skip
    assert copy.exists()
    listed = json.loads(cli("footage", "copies", "--json", "--as", D).stdout)
    assert [(c["segment_id"], c["path"]) for c in listed["copies"]] == [(seg, str(copy))]
    cli("footage", "done", seg, "--as", M)
    assert not copy.exists()
    assert cli.log("ViewingCopiesDestroyed")[-1]["details"]["why"] == "ended"

    kept = Path(cli("footage", "view", other, "--reason", "patron fell", "--purpose", "safety",
                    "--as", D).stdout.strip())  # fmt: skip
    stray = cli.data / "viewing" / "copied-by-hand.mp4"
    stray.write_bytes(b"plain video")
    verified = cli("verify", now=SOON)
    assert f"warning: stray viewing copy {stray}" in verified.stderr
    assert f"warning: viewing copy {kept} of segment {other} outlived its session" in (
        verified.stderr
    )
    swept = cli("retention", "sweep", "--yes", "--service", now=SOON)
    assert f"copy: destroyed viewing copy {kept}" in swept.stderr
    assert f"stray: removed {stray}" in swept.stderr
    assert not kept.exists() and not stray.exists()
    assert "warning" not in cli("verify", now=SOON).stderr


@pytest.mark.sqlite_only  # SQLite's scratch files
def test_footage_list_while_a_rebuild_fills_its_scratch_files_is_exit_75(cli: Cli) -> None:
    """A rebuild on SQLite keeps some read models in scratch files until it ends: a
    command reading them meanwhile says so and exits 75 (try again), then works."""
    from sqlalchemy import create_engine, make_url

    from ledger.datadir import DataDir
    from projections import scratch
    from projections.base import most_rows_first, rebuild_groups, rebuild_lock
    from projections.registry import all_projections

    seg = cli.segment()
    url = DataDir.open(cli.data).database_url
    database = str(make_url(url).database)
    engine = create_engine(url)
    with rebuild_lock(engine):  # as the rebuild's process holds it
        made = scratch.create(database, most_rows_first(rebuild_groups(all_projections(), 2))[1])
        busy = cli("footage", "list", "--json", "--as", D, code=75)
        assert "being rebuilt right now" in busy.stderr
        assert "try again when it has finished" in busy.stderr.lower()
        scratch.remove(made)  # as the rebuild's merge does
    engine.dispose()
    (row,) = json.loads(cli("footage", "list", "--json", "--as", D).stdout)
    assert row["segment_id"] == seg
