"""Footage, red team of session 13: each way a reviewer got past the policy, refused by
its rule and recorded (nothing else recorded), on real SQLite (and PostgreSQL in CI)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from capture.ingest import ingest_paths
from capture.viewing import frame_of_segment
from ledger.app import Ledger
from ledger.errors import InvalidInput, NotPermitted
from projections.access import access_report
from projections.registry import read_views
from tests.integration.footage_helpers import CAMERA, DIRECTOR, MANAGER, STAFF, clip, last_id
from tests.integration.test_disclosure_ledger import refused
from tests.integration.test_footage_fidelity import PAST_DEADLINE, segment
from tests.integration.test_footage_fidelity import ledger as ledger  # noqa: F401 (fixture)


def test_staff_cannot_rescue_overdue_footage_with_a_hold_the_director_can(
    ledger: Ledger,
) -> None:
    sid = segment(ledger)
    ledger.clock.set(PAST_DEADLINE + timedelta(days=30))
    before = last_id(ledger)
    with pytest.raises(NotPermitted, match="^FOOTAGE-PAST-DEADLINE .*unless the Director holds"):
        ledger.place_hold([sid], kind="investigation", reason="wallet theft at the door",
                          reference="IR-1", actor=STAFF)  # fmt: skip
    assert refused(ledger)[-1] == ("footage hold place", sid, "FOOTAGE-PAST-DEADLINE")
    assert last_id(ledger) == before + 1  # the refusal, nothing else
    hold = ledger.place_hold([sid], kind="legal", reason="suit filed over the theft",
                             reference="2026-L-12", actor=DIRECTOR)  # fmt: skip
    assert hold.startswith("H-")


def test_no_hold_keeps_footage_to_watch_staff(ledger: Ledger) -> None:
    sid = segment(ledger)
    for reason in ("check whether Bo Manager left early on her shift, for her evaluation",
                   "see if Sаm was at the desk"):  # a Cyrillic а  # fmt: skip
        with pytest.raises(NotPermitted, match="^FOOTAGE-NO-STAFF-MONITORING .*hold's reason"):
            ledger.place_hold([sid], kind="investigation", reason=reason, reference="HR-1",
                              actor=DIRECTOR)  # fmt: skip
        assert refused(ledger)[-1] == ("footage hold place", sid, "FOOTAGE-NO-STAFF-MONITORING")
    assert not list(ledger.read_log(kinds=["HoldPlaced"]))


@pytest.mark.parametrize(
    "reason",
    [
        "check whether S\u0430m left the desk",
        "check whether S\u200bam left the desk",
        "check whether S\u00adam left the desk",
        "check whether S.a.m left the desk",
        "check whether Ｓａｍ left the desk",
    ],  # fmt: skip
)
def test_a_disguised_staff_name_in_a_viewing_reason_is_the_name(
    ledger: Ledger, reason: str
) -> None:
    sid = segment(ledger)
    with pytest.raises(NotPermitted, match="^FOOTAGE-NO-STAFF-MONITORING .*'Sam Staff'"):
        ledger.check_viewing(sid, reason=reason, purpose="other", actor=MANAGER)
    assert refused(ledger)[-1] == ("footage view", sid, "FOOTAGE-NO-STAFF-MONITORING")


@pytest.mark.parametrize("reason", ["no reason", "none", "xxx", "a\u200bb\u200bc", "N/A"])
def test_a_placeholder_is_not_a_reason_for_viewing(ledger: Ledger, reason: str) -> None:
    sid = segment(ledger)
    with pytest.raises(NotPermitted, match="^FOOTAGE-VIEW-REASON .*is not a reason"):
        ledger.check_viewing(sid, reason=reason, purpose="safety", actor=MANAGER)


def test_footage_past_its_days_is_not_ingested_and_the_attempt_is_recorded(
    ledger: Ledger,
) -> None:
    ledger.clock.set(PAST_DEADLINE)
    before = last_id(ledger)
    outcome = ingest_paths(ledger, [clip(ledger.tmp, 7)], camera=CAMERA, actor=STAFF)  # type: ignore[attr-defined]
    (one,) = outcome.outcomes
    assert one.segment_id is None and "FOOTAGE-PAST-DEADLINE" in one.message
    assert "destroyed where it is, not archived" in one.message
    assert last_id(ledger) == before + 1  # the refusal only
    assert refused(ledger)[-1][2] == "FOOTAGE-PAST-DEADLINE"


def test_a_refused_still_is_recorded_as_a_still_not_a_viewing(ledger: Ledger) -> None:
    sid = segment(ledger)
    with pytest.raises(NotPermitted, match="^FOOTAGE-ARCHIVE-ACCESS"):
        frame_of_segment(ledger, sid, at_seconds=0.5, out_png=ledger.tmp / "still.png",  # type: ignore[attr-defined]
                         reason="identify the vehicle", purpose="incident_investigation",
                         remote=False, actor=STAFF)  # fmt: skip
    assert refused(ledger)[-1] == ("footage frame", sid, "FOOTAGE-ARCHIVE-ACCESS")
    # and listed in the access log's refused attempts (policy red team, session 16: the
    # access log listed refused viewings and exports, not refused stills)
    report = read_views(ledger, access_report)
    assert [(r.action, r.subject) for r in report.refused][-1:] == [("footage frame", sid)]


def test_footage_is_released_segment_by_segment(ledger: Ledger) -> None:
    sid = segment(ledger)
    ref = ledger.open_request(
        requester_kind="law_enforcement", requester="Officer Lee", received_by=STAFF,
        records=["footage"], description="lobby clip", actor=STAFF, footage=[sid],
        case_number="MPD-26-2000",
    )  # fmt: skip
    ledger.decide(ref, approve=True, reason="active investigation", actor=DIRECTOR)
    before = last_id(ledger)
    with pytest.raises(InvalidInput, match="segment by segment: name each with --footage"):
        ledger.release(ref, fields=["footage"], to="Officer Lee", method="USB", actor=DIRECTOR)
    assert last_id(ledger) == before


def test_a_staff_flag_without_an_end_on_held_footage_past_its_deadline_takes_the_bound(
    ledger: Ledger,
) -> None:
    """Red team (session 13, dashboard): the form's "empty: the policy's limit" was now +
    90 days, past what anyone but the Director may set for footage past its deadline, so
    staff who left it empty were refused and the refusal recorded against them."""
    sid = segment(ledger)
    ledger.place_hold([sid], kind="legal", reason="suit over the theft", reference="L-1",
                      actor=DIRECTOR)  # fmt: skip
    ledger.clock.set(PAST_DEADLINE + timedelta(days=10))
    ledger.flag(sid, incident="IR-7 theft", reason="wallet taken at the door", actor=STAFF)
    flagged = list(ledger.read_log(kinds=["FootageFlagged"]))[-1].details
    deadline = ledger.segment_info(sid).retention_deadline
    assert flagged["retain_until"] == deadline + timedelta(days=90)


@pytest.mark.parametrize(
    ("reason", "reference"),
    [("keep just in case", "none"), ("keep just in case", "INC-7"),
     ("wallet theft at the door", "n/a"), ("no particular reason", "INC-7"),
     ("assault in the lobby", "pending")],
)  # fmt: skip
def test_a_hold_by_anyone_but_the_director_names_its_grounds(
    ledger: Ledger, reason: str, reference: str
) -> None:
    """Policy red team (session 16): staff kept ordinary footage past its 30 days with a
    hold "keep just in case", reference "none"; the policy keeps footage longer only for
    "evidence of suspected misbehavior" (and the law's holds). Refused and recorded; the
    Director may still hold footage on a legal duty in her own words."""
    sid = segment(ledger)
    before = last_id(ledger)
    with pytest.raises(NotPermitted, match="^FOOTAGE-RETENTION.*names"):
        ledger.place_hold([sid], kind="investigation", reason=reason, reference=reference,
                          actor=STAFF)  # fmt: skip
    assert last_id(ledger) == before + 1  # the refusal only
    assert refused(ledger)[-1] == ("footage hold place", sid, "FOOTAGE-RETENTION")
    assert ledger.place_hold([sid], kind="investigation", reason="wallet theft at the door",
                             reference="L-9", actor=STAFF)  # fmt: skip


@pytest.mark.parametrize(
    ("reason", "incident"),
    [("just in case", "n/a"), ("none", "xxx"), ("keep just in case", "INC-7"),
     ("wallet theft at the door", "pending")],
)  # fmt: skip
def test_a_flag_by_anyone_but_the_director_names_its_grounds_as_a_hold_does(
    ledger: Ledger, reason: str, incident: str
) -> None:
    """Red team (session 17): staff flags "just in case", incident "n/a", kept ordinary
    footage some 90 days more, where the same words were refused for a hold."""
    sid = segment(ledger)
    before = last_id(ledger)
    with pytest.raises(NotPermitted, match="^FOOTAGE-(RETENTION|VIEW-REASON)"):
        ledger.flag(sid, incident=incident, reason=reason, actor=STAFF)
    assert last_id(ledger) == before + 1  # the refusal only
    assert ledger.flag(sid, incident="IR-7 theft", reason="wallet taken at the door", actor=STAFF)


def test_the_directors_not_staff_monitoring_note_is_a_reason_in_words(ledger: Ledger) -> None:
    """Red team (session 17): "." was taken as her note."""
    sid = segment(ledger)
    for note in (".", "-", "n/a"):
        with pytest.raises(NotPermitted, match="^FOOTAGE-NO-STAFF-MONITORING"):
            ledger.flag(sid, incident="IR-9", reason="check whether Sam left early",
                        actor=DIRECTOR, not_staff_monitoring=note)  # fmt: skip
    assert ledger.flag(sid, incident="IR-9", reason="check whether Sam left early",
                       actor=DIRECTOR,
                       not_staff_monitoring="Sam reported a stalker who followed her out")  # fmt: skip


@pytest.mark.parametrize(
    "reason",
    [  # the session's own review: these were refused by a first version of the check
        "Police preservation letter: footage may be needed as evidence in the assault case",
        "Theft of a laptop; detective said the footage could be useful to identify the suspect",
        "Preserve for later review by police: assault in the parking lot",
    ],
)
def test_a_police_hold_in_ordinary_words_names_its_grounds(ledger: Ledger, reason: str) -> None:
    sid = segment(ledger)
    assert ledger.place_hold([sid], kind="law_enforcement_preservation", reason=reason,
                             reference="MPD-26-1187", actor=STAFF)  # fmt: skip
