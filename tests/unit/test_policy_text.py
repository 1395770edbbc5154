"""A policy version's parameters against its own words (ledger.policy_text)."""

from __future__ import annotations

import dataclasses

import pytest

from ledger.policy_params import parse_params, profile_files
from ledger.policy_text import check_text, day_counts

PROFILES = ("mahomet-30-day", "riverbend-7-day", "prairie-90-day")


@pytest.mark.parametrize(
    ("sentence", "days"),
    [
        ("recorded footage is secured in a controlled area for thirty days.", [30]),
        ("footage is kept thirty (30) days", [30]),
        ("footage is kept 14 days", [14]),
        ("footage is kept for 365 calendar days", [365]),
        ("footage is kept for three hundred sixty-five days", [365]),
        ("footage is kept one hundred and twenty days", [120]),
        ("footage is kept for a hundred days", [100]),
        ("footage is kept thirty-one days", [31]),
        ("footage is kept for one day", [1]),
        ("the director answers within five business days", []),
        ("footage is kept thirty (60) days", [30, 60]),  # the text contradicts itself
        ("footage is kept for a month", []),
        ("footage is kept for a thirty-day period", [30]),
        ("footage is kept on a 30-day cycle", [30]),
        ("footage is kept four weeks", [28]),
        ("footage is kept for 2 weeks", [14]),
    ],
)
def test_day_counts(sentence: str, days: list[int]) -> None:
    assert day_counts(sentence) == days


@pytest.mark.parametrize("profile", PROFILES)
def test_every_shipped_profile_agrees_with_its_text(profile: str) -> None:
    text, params = profile_files(profile)
    check = check_text(text, parse_params(params))
    assert check.disagreements == [] and check.unchecked == []
    assert len(check.agreed) == 2


def _mahomet() -> tuple[str, object]:
    text, params = profile_files("mahomet-30-day")
    return text, parse_params(params)


def test_a_number_the_text_does_not_say_is_a_disagreement() -> None:
    text, params = _mahomet()
    check = check_text(text, dataclasses.replace(params, retention_days=365))  # type: ignore[type-var]
    [why] = check.disagreements
    assert why.startswith("footage.retention_days = 365, but the text says 30 days")
    assert "secured in a controlled area for thirty days" in why


def test_archive_viewers_must_be_those_the_text_names() -> None:
    text, params = _mahomet()
    narrowed = dataclasses.replace(params, archive_viewer_roles=("director",))  # type: ignore[type-var]
    [why] = check_text(text, narrowed).disagreements
    assert "the text names business_manager, director" in why
    seven, params7 = profile_files("riverbend-7-day")
    widened = dataclasses.replace(
        parse_params(params7), archive_viewer_roles=("business_manager", "director")
    )
    [why] = check_text(seven, widened).disagreements
    assert why.startswith("footage.archive_viewer_roles = business_manager, director, but")


def test_a_text_that_states_neither_is_not_checked() -> None:
    _, params = _mahomet()
    check = check_text("Footage is kept for a month. Staff may not watch it.", params)  # type: ignore[arg-type]
    assert check.disagreements == [] and len(check.unchecked) == 2


MAHOMET_ROLES = ("business_manager", "director")


@pytest.mark.parametrize(
    ("text", "days", "roles", "refused"),
    [
        # red team, session 15: wordings that slipped past or were taken loosely
        ("The library retains recorded footage for thirty days.", 365, MAHOMET_ROLES, True),
        ("Recorded footage (e.g. from the lobby) is kept approx. thirty days.", 365,
         MAHOMET_ROLES, True),
        ("Recorded footage shows the lobby. It is kept for thirty days.", 365, MAHOMET_ROLES,
         True),
        ("Recorded footage is secured for thirty days. Images that show evidence of "
         "misbehavior will be saved up to 365 days.", 365, MAHOMET_ROLES, True),
        ("Recorded footage is kept thirty days, and never for 365 days.", 365,
         MAHOMET_ROLES, True),
        ("Recorded footage is secured for thirty days. Images that show evidence of "
         "misbehavior will be saved up to 365 days.", 30, MAHOMET_ROLES, False),
        ("Questions about archived footage go only to the director or the business manager. "
         "Access to the archived footage is restricted to the library director.", 30,
         MAHOMET_ROLES, True),
        ("Access to the archived footage is restricted to the director and library staff.",
         30, ("director",), True),
        ("Access to the archived footage is restricted to the director and the "
         "Business-Manager.", 30, MAHOMET_ROLES, False),
    ],
)  # fmt: skip
def test_red_team_wordings(text: str, days: int, roles: tuple[str, ...], refused: bool) -> None:
    _, params = _mahomet()
    params = dataclasses.replace(params, retention_days=days, archive_viewer_roles=roles)  # type: ignore[type-var]
    check = check_text(text, params)  # type: ignore[arg-type]
    assert bool(check.disagreements) is refused, (check.disagreements, check.agreed)
