"""The demo's month under each shipped profile (issue 15): `custodes demo --profile NAME`
adopts the profile as version 1 and runs the same month adapted to it (nightly sweeps),
on SQLite and PostgreSQL. Each profile's outcomes follow from its own parameters: which
clips its retention purges (a 7-day policy purges the 13 October clip a 30-day one keeps,
so the FOIA request cannot hold it), whether the Business Manager's viewing is refused,
whether a decision before counsel's review is refused."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from cli.scenario import CAMERAS, LAST_NIGHT, MONTH, run_month
from ledger.app import open_ledger
from ledger.datadir import DataDir
from ledger.policy_params import parse_params, profile_files

PROFILES = ["mahomet-30-day", "riverbend-7-day", "prairie-90-day"]


def _recorded_end(cam: str, index: int) -> object:
    """When the demo's clip ``index`` of camera ``cam`` ends: two one-second clips (10:00
    and 16:00, seven minutes later per camera) every third day of October."""
    n = [c for c, _, _ in CAMERAS].index(cam)
    day, hour = 3 * (index // 2), (10, 16)[index % 2]
    return MONTH + timedelta(days=day, hours=hour, minutes=7 * n, seconds=1)


@pytest.mark.parametrize("profile", PROFILES)
def test_each_profile_runs_the_month_with_its_own_outcomes(
    tmp_path: Path, database_url: str, profile: str
) -> None:
    params = parse_params(profile_files(profile)[1])
    summary = run_month(tmp_path / "run", profile=profile, database_url=database_url)
    segs = summary.by_camera
    assert summary.profile == profile and sum(map(len, segs.values())) == 110

    # Purged: exactly the clips whose deadline under this profile's days came by the last
    # nightly sweep, less those a hold or the flag kept.
    kept_by_holds = {
        segs["front-door"][0],  # law-enforcement preservation
        segs["circ-desk"][1], segs["circ-desk"][2],  # the legal hold
        segs["lot-north"][2],  # the flag
        segs["lot-north"][16],  # FOIA hold (the 25 October clip)
    }  # fmt: skip
    due = {
        sid
        for cam, ids in segs.items()
        for i, sid in enumerate(ids)
        if _recorded_end(cam, i) + timedelta(days=params.retention_days) <= LAST_NIGHT  # type: ignore[operator]
    }
    foia_clip = segs["lot-north"][8]  # recorded 13 October
    if foia_clip not in due:
        kept_by_holds.add(foia_clip)  # still there on 27 October: the FOIA request holds it
    assert set(summary.purged_segments) == due - kept_by_holds
    assert len(summary.purged_segments) == {"mahomet-30-day": 8, "riverbend-7-day": 85,
                                            "prairie-90-day": 0}[profile]  # fmt: skip

    # Refusals: the classic ones, and those this profile's parameters add.
    expected = ["CAMERA-PRIVACY-ZONE", "STAFF-KEY-ENROLMENT"]
    if params.counsel_review_gates_release:
        expected.append("LRCA-COUNSEL-REVIEW")  # decided before counsel's review
    manager_may_view = "business_manager" in params.archive_viewer_roles
    if not manager_may_view:
        expected.append("FOOTAGE-ARCHIVE-ACCESS")  # the Business Manager's viewing
    expected.append("FOOTAGE-ARCHIVE-ACCESS")  # the staff member's, always
    # the Business Manager asking about breaks: staff monitoring, or not hers to view
    expected.append("FOOTAGE-NO-STAFF-MONITORING" if manager_may_view else "FOOTAGE-ARCHIVE-ACCESS")
    expected.append("LRCA-EMERGENCY-SCOPE")
    assert summary.refused_rules == expected

    ledger = open_ledger(DataDir.open(summary.data_dir))
    try:
        (foia,) = [
            e.details for e in ledger.read_log(kinds=["RequestOpened"])
            if e.details["requester_kind"] == "public"
        ]  # fmt: skip
        assert sorted(foia["footage"]) == sorted({segs["lot-north"][16]} | ({foia_clip} - due)), (
            foia["footage"]
        )
        versions = ledger.policy_history()
        assert [(v.version, v.profile) for v in versions] == [(1, profile)]
        captured = {e.details["retention_days"] for e in ledger.read_log(kinds=["FootageCaptured"])}
        assert captured == {params.retention_days}
        purges = {e.details["retention_days"] for e in ledger.read_log(kinds=["FootagePurged"])}
        assert purges <= {params.retention_days}
    finally:
        ledger.close()
    html = next((tmp_path / "run").glob("compliance-*.html")).read_text()
    assert f"{params.retention_days} days from the end of recording (policy version 1" in html
    assert f"end within {params.flag_max_days} days (policy version 1)" in html
    library = {"mahomet-30-day": "Mahomet", "riverbend-7-day": "Riverbend",
               "prairie-90-day": "Prairie"}[profile]  # fmt: skip
    assert f"{library} Public Library" in html
    assert profile == "mahomet-30-day" or "Mahomet" not in html  # each profile its own library
