"""The camera and footage rules (R12-R17): placement, audio, signage, who may view
archived footage and why, retention, purge and the release of holds.

Pure functions like the rest of the policy engine (``ledger.policy``): no I/O, no clock
(``now`` is passed in), standard library only; each returns a :class:`Decision`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from ledger import rules as r
from ledger import sitetime
from ledger.policy import Decision, Flag, Hold, allow, refuse
from ledger.rules import Rule

PRIVACY_ZONES: frozenset[str] = frozenset(
    {"restroom", "locker_room", "changing_room", "private_office"}
)
ARCHIVE_ROLES: frozenset[str] = frozenset({"director", "business_manager"})
_ROLE_ORDER = ("director", "business_manager", "staff", "counsel")
Purpose = Literal[
    "incident_investigation",
    "safety",
    "law_enforcement_request",
    "legal_hold_review",
    "foia_review",
    "other",
]
PURPOSES: frozenset[str] = frozenset(
    {
        "incident_investigation",
        "safety",
        "law_enforcement_request",
        "legal_hold_review",
        "foia_review",
        "other",
    }
)
_STAFF = r"(?:staff|employees?|workers?|personnel|clerks?|co-?workers?|librarians?|shelvers?|pages)"
_EVAL = (
    r"(?:monitor\w*|watch\w*|evaluat\w*|apprais\w*|performance|productiv\w*|attendance"
    r"|punctual\w*|timekeeping|tardiness|late(?:ness)?|breaks?|disciplin\w*|conduct review"
    r"|doing (?:their|his|her) jobs?)"
)
_STAFF_MONITORING = re.compile(
    rf"\b{_STAFF}\b(?:\W+\w+){{0,5}}?\W+{_EVAL}|\b{_EVAL}(?:\W+\w+){{0,5}}?\W+{_STAFF}\b",
    re.IGNORECASE,
)


def mentions_staff_monitoring(text: str) -> bool:
    """True when a stated purpose reads as watching or evaluating staff (R16a). Errs on the
    side of refusing: a refusal is recorded and the viewer can restate a real purpose."""
    normal = text.replace("_", " ")
    return bool(_STAFF_MONITORING.search(normal))


# Cameras and recorders keep their own clocks: a few minutes' drift is not a false claim.
CLAIM_TOLERANCE = timedelta(minutes=5)


def check_recording_claim(
    start: datetime,
    end: datetime,
    camera_registered: datetime,
    now: datetime,
    zone: ZoneInfo = sitetime.UTC_ZONE,
) -> Decision:
    """When footage says it was recorded is a claim (R26): not in the future, not before
    its camera was registered in the ledger. ``zone`` is the site's, for the words."""

    def shown(moment: datetime) -> str:
        return sitetime.show(moment, zone, seconds=True)

    if end > now + CLAIM_TOLERANCE:
        return refuse(
            r.CLAIMED_TIMES,
            f"the footage claims to be recorded until {shown(end)}, after now "
            f"({shown(now)}); check the camera's clock",
        )
    if start < camera_registered:
        return refuse(
            r.CLAIMED_TIMES,
            f"the footage claims to start at {shown(start)}, before its camera was "
            f"registered ({shown(camera_registered)})",
        )
    return allow(
        r.CLAIMED_TIMES, "recorded within the camera's registered life, not later than now"
    )


def check_camera_zone(zone: str, refused: Iterable[str] = PRIVACY_ZONES) -> Decision:
    """``refused``: the zones of the policy version in force (R28)."""
    if zone in PRIVACY_ZONES or zone in refused:
        return refuse(
            r.CAMERA_PRIVACY_ZONE,
            f"no camera may be placed in a {zone.replace('_', ' ')}",
        )
    return allow(r.CAMERA_PRIVACY_ZONE, f"{zone.replace('_', ' ')} is not a privacy zone")


def check_audio(has_audio: bool) -> Decision:
    if has_audio:
        return refuse(r.CAMERA_NO_AUDIO, "footage carries an audio stream; audio is never recorded")
    return allow(r.CAMERA_NO_AUDIO, "no audio stream")


def check_signage(attested: bool) -> Decision:
    if not attested:
        return refuse(r.CAMERA_SIGNAGE, "entrance signage for this camera is not attested")
    return allow(r.CAMERA_SIGNAGE, "entrance signage attested")


def check_archive_access(
    role: str,
    recorded_end: datetime,
    now: datetime,
    live_window: timedelta = timedelta(hours=24),
    roles: Iterable[str] = ARCHIVE_ROLES,
) -> Decision:
    """``roles``: who views archived footage under the policy version in force (R28)."""
    roles = frozenset(roles)
    if now - recorded_end <= live_window:
        return allow(r.FOOTAGE_ARCHIVE_ACCESS, "footage is within the live window")
    if role in roles:
        return allow(
            r.FOOTAGE_ARCHIVE_ACCESS, f"archived footage, viewed by the {role.replace('_', ' ')}"
        )
    return refuse(
        r.FOOTAGE_ARCHIVE_ACCESS,
        "archived footage may be viewed only by the "
        + " or the ".join(x.replace("_", " ").title() for x in _ROLE_ORDER if x in roles),
    )


def check_reason(reason: str | None, rule: Rule = r.FOOTAGE_VIEW_REASON) -> Decision:
    if not (reason or "").strip():
        return refuse(rule, "a reason is required")
    return allow(rule, "reason stated")


def check_view_purpose(purpose: str, text: str = "", phrases: Iterable[str] = ()) -> Decision:
    """Purpose chosen from the list plus free text (R16, R16a); applies to viewing,
    exporting and flagging. ``phrases``: the staff-monitoring purposes the policy version
    in force names (R28), refused besides what the built-in detector finds."""
    said = f"{purpose} {text}".replace("_", " ").casefold()
    if mentions_staff_monitoring(said) or any(p.casefold() in said for p in phrases):
        return refuse(
            r.FOOTAGE_NO_STAFF_MONITORING,
            "cameras are not used to monitor staff performance or to evaluate staff",
        )
    if purpose not in PURPOSES:
        return refuse(r.FOOTAGE_VIEW_REASON, f"unknown purpose {purpose!r}")
    if purpose == "other" and not text.strip():
        return refuse(r.FOOTAGE_VIEW_REASON, "purpose 'other' needs a stated reason")
    return allow(r.FOOTAGE_VIEW_REASON, f"purpose {purpose.replace('_', ' ')}")


@dataclass(frozen=True)
class Retention:
    base_deadline: datetime  # recording end + retention days
    keep_until: datetime | None  # None: kept indefinitely by an open-ended flag
    active_holds: tuple[str, ...]
    due: bool  # may (and must) be purged now


def retention_deadline(
    recorded_end: datetime,
    retention_days: int,
    flags: Iterable[Flag],
    holds: Iterable[Hold],
    now: datetime,
) -> Retention:
    """When footage falls due for purge (R13, R14). Flags extend retention; active holds
    block purge without changing the deadline."""
    base = recorded_end + timedelta(days=retention_days)
    keep: datetime | None = base
    for flag in flags:
        if flag.retain_until is None:
            keep = None
            break
        keep = max(keep, flag.retain_until) if keep else flag.retain_until
    active = tuple(sorted(h.hold_id for h in holds if h.active(now)))
    return Retention(base, keep, active, keep is not None and now >= keep and not active)


def check_purge(
    recorded_end: datetime,
    retention_days: int,
    flags: Iterable[Flag],
    holds: Iterable[Hold],
    now: datetime,
    zone: ZoneInfo = sitetime.UTC_ZONE,
) -> Decision:
    """May the segment be purged now? ``zone`` is the site's, for the deadline's words."""
    ret = retention_deadline(recorded_end, retention_days, flags, holds, now)
    if ret.active_holds:
        return refuse(
            r.FOOTAGE_HOLD_BLOCKS_PURGE,
            "active hold(s) block purge: " + ", ".join(ret.active_holds),
        )
    if ret.keep_until is None:
        return refuse(r.FOOTAGE_RETENTION, "flagged footage is kept until the flag is cleared")
    if now < ret.keep_until:
        return refuse(
            r.FOOTAGE_RETENTION, f"footage is retained until {sitetime.show(ret.keep_until, zone)}"
        )
    return allow(r.FOOTAGE_RETENTION, f"retention ended {sitetime.show(ret.keep_until, zone)}")


def check_hold_release(role: str, reason: str | None) -> Decision:
    if role != "director":
        return refuse(
            r.FOOTAGE_HOLD_RELEASE_DIRECTOR,
            f"only the Director may release a hold, not the {role.replace('_', ' ')}",
        )
    why = check_reason(reason, r.FOOTAGE_HOLD_RELEASE_DIRECTOR)
    return (
        why
        if not why.allowed
        else allow(r.FOOTAGE_HOLD_RELEASE_DIRECTOR, "released by the Director")
    )
