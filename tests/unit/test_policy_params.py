"""Policy files (R28): the shipped profiles, the schema, the law's limits, canonical bytes."""

from __future__ import annotations

import tomllib

import pytest

from ledger import foia, policy
from ledger.footage_policy import check_archive_access, check_camera_zone, check_view_purpose
from ledger.policy_params import (
    DEFAULT_PROFILE,
    PolicyFileError,
    PolicyParams,
    canonical_text,
    legal_refusals,
    parse_params,
    profile_files,
    profiles,
    text_sha256,
)

SEED_SENTENCE = "Recorded footage is secured in a controlled area for thirty days."


def test_every_shipped_profile_parses_and_the_law_allows_it() -> None:
    assert profiles() == ["mahomet-30-day", "prairie-90-day", "riverbend-7-day"]
    days = {}
    for name in profiles():
        text, params = profile_files(name)
        parsed = parse_params(params)
        assert legal_refusals(parsed) == [], name
        days[name] = parsed.retention_days
        assert text.startswith("# V. Patron Confidentiality")
    assert days == {"mahomet-30-day": 30, "prairie-90-day": 90, "riverbend-7-day": 7}
    assert SEED_SENTENCE in profile_files(DEFAULT_PROFILE)[0]


def test_the_parameters_round_trip_through_json_and_hash_independently_of_order() -> None:
    params = parse_params(profile_files()[1])
    assert PolicyParams.from_json(params.to_json()) == params
    reordered = profile_files()[1].replace(
        'archive_viewer_roles = ["director", "business_manager"]',
        'archive_viewer_roles = ["business_manager", "director"]',
    )
    assert reordered != profile_files()[1]
    assert parse_params(reordered).sha256() == params.sha256()
    changed = parse_params(reordered.replace("retention_days = 30", "retention_days = 31"))
    assert changed.sha256() != params.sha256()
    assert params.changes(changed) == [("footage.retention_days", 30, 31)]


def test_the_text_hash_ignores_line_ends_and_trailing_blanks_only() -> None:
    text = profile_files()[0]
    assert text_sha256(text.replace("\n", "\r\n")) == text_sha256(text)
    assert text_sha256(text.replace("\n", "   \n") + "\n\n") == text_sha256(text)
    assert text_sha256(text.replace("thirty", "sixty")) != text_sha256(text)
    assert canonical_text("cafe\u0301\r\n") == "café\n".encode()


@pytest.mark.parametrize(
    ("edit", "says"),
    [
        (("[foia]", "[foia]\nlate_days = 3"), "unknown key foia.late_days"),
        (("[statistics]", "[stats]"), "unknown section or key 'stats'"),
        (("retention_days = 30", "retention_days = 30.5"), "footage.retention_days must be a whole number"),
        (("retention_days = 30", "retention_days = true"), "footage.retention_days must be a whole number"),
        (("retention_days = 30", "retention_days = 4000"), "footage.retention_days = 4000 is outside 1..3650"),
        (("audio_recording = false", "audio_recording = 0"), "footage.audio_recording must be true or false"),
        (('"private_office"]', '"attic"]'), "footage.refused_camera_zones has 'attic'"),
        (('["director", "business_manager"]', '["director", "staff"]'), "footage.archive_viewer_roles has 'staff'"),
        (('["director", "business_manager"]', '"director"'), "footage.archive_viewer_roles must be a list"),
        (("small_cell_threshold = 5", "small_cell_threshold = 2"), "statistics.small_cell_threshold = 2 is outside"),
        (("small_cell_threshold = 5", ""), "statistics.small_cell_threshold is missing"),
        (('"staff performance", ', '"staff performance", "staff performance", '), "lists an item twice"),
    ],
)  # fmt: skip
def test_a_malformed_file_names_its_key(edit: tuple[str, str], says: str) -> None:
    text = profile_files()[1]
    assert edit[0] in text
    with pytest.raises(PolicyFileError, match=None) as err:
        parse_params(text.replace(edit[0], edit[1], 1))
    assert says in str(err.value)


@pytest.mark.parametrize(
    ("edit", "rule"),
    [
        (("audio_recording = false", "audio_recording = true"), "CAMERA-NO-AUDIO"),
        (('["restroom", "locker_room", "changing_room", "private_office"]', '["private_office"]'), "CAMERA-PRIVACY-ZONE"),
        (('emergency_releasable_fields = ["name"', 'emergency_releasable_fields = ["titles", "name"'), "LRCA-EMERGENCY-SCOPE"),
        (('guardian_disclosable_fields = ["itemized_fines"', 'guardian_disclosable_fields = ["titles", "itemized_fines"'), "POLICY-MINOR-FINES"),
        (("extension_business_days = 5", "extension_business_days = 10"), "FOIA-CLOCK"),
        (('archive_viewer_roles = ["director", "business_manager"]', 'archive_viewer_roles = ["business_manager"]'), "POLICY-DIRECTOR-DECIDES"),
    ],
)  # fmt: skip
def test_what_the_law_does_not_allow_is_refused_whatever_the_file_says(
    edit: tuple[str, str], rule: str
) -> None:
    text = profile_files()[1]
    assert edit[0] in text
    parsed = parse_params(text.replace(edit[0], edit[1], 1))  # well-formed ...
    assert [r.id for r, _ in legal_refusals(parsed)] == [rule]  # ... but unlawful


def test_the_rules_read_the_parameters_they_are_given() -> None:
    seven = parse_params(profile_files("riverbend-7-day")[1])
    assert check_camera_zone("staff_area").allowed
    assert not check_camera_zone("staff_area", seven.refused_camera_zones).allowed
    assert not check_camera_zone("restroom", ()).allowed  # the law's zones, whatever
    assert check_archive_access("business_manager").allowed
    refused = check_archive_access("business_manager", roles=seven.archive_viewer_roles)
    assert not refused.allowed and "only by the Director (" in refused.reason
    assert check_view_purpose("safety", "check the timekeeping kiosk").allowed
    assert not check_view_purpose(
        "safety", "check the timekeeping kiosk", phrases=seven.staff_monitoring_purposes
    ).allowed
    facts = policy.RequestFacts("parent_guardian", frozenset({"itemized_fines"}), minor=True,
                                guardianship_confirmation="birth certificate")  # fmt: skip
    assert policy.releasable_fields(facts).allowed_fields == {"itemized_fines"}
    assert policy.releasable_fields(policy.with_policy(facts, seven)).allowed_fields == set()
    from datetime import UTC, datetime

    tuesday = datetime(2026, 12, 1, 18, tzinfo=UTC)
    short = PolicyParams(**{**seven.__dict__, "response_business_days": 3})
    due = foia.foia_deadline(tuesday, _chicago(), extended=False)
    assert due.astimezone(_chicago()).date().isoformat() == "2026-12-08"  # 5 business days
    due = foia.foia_deadline(tuesday, _chicago(), False, params=short)
    assert due.astimezone(_chicago()).date().isoformat() == "2026-12-04"  # 3
    assert tomllib.loads(profile_files()[1])["footage"]["retention_days"] == 30


def _chicago():  # type: ignore[no-untyped-def]
    from zoneinfo import ZoneInfo

    return ZoneInfo("America/Chicago")
