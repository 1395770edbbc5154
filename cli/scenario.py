"""A month at a small library, recorded through the real use-cases (for `custodes demo`).

Every step goes through the same command methods and use-cases the CLI uses; refusals
are real refusals (recorded). With a ``profile`` (``custodes demo --profile NAME``) the
library adopts that shipped policy as version 1 and the month is adapted to it: the
retention sweep runs every night (a 7-day policy purges within the month), where counsel's
review gates a court-order release the Director first tries to decide before it (refused),
the FOIA request also names the 13 October clip, which a short retention has already
purged, and the staff member's refused viewing asks for a clip two days old. Everything else is the same month, so the outcomes differ only by the policy. Time is simulated through the Python API: the ledger's clock is a ``ManualClock`` set before
each step (the installed command has no way to set it).
"""

from __future__ import annotations

import hashlib
import heapq
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from capture.export import export_footage
from capture.ingest import ingest_paths, open_vault
from capture.sweep import sweep
from capture.synthetic import write_clip
from capture.viewing import end_viewing, sweep_copies, view_segment
from ledger import sitetime
from ledger.app import Ledger, open_ledger
from ledger.clock import ManualClock
from ledger.datadir import DataDir
from ledger.disclosure_intake import OrderScope
from ledger.errors import InvalidInput, NotPermitted
from ledger.integrity import open_chain
from ledger.policy_params import DEFAULT_PROFILE, PolicyParams, parse_params, profile_files
from ledger.record_package import write_disclosure_record
from ledger.witness.ledger_side import witnessed_checkpoint
from projections.access import live_copies
from projections.appendix9 import render_appendix9
from projections.compliance import compile_compliance_report, record_issued
from projections.registry import read_views
from projections.render_html import write_html
from projections.render_pdf import write_pdf
from projections.report_document import report_sections
from projections.report_summary import period_words
from projections.retention import due_segment_ids

LIBRARY = "Mahomet Public Library"


def library_of(profile: str) -> str:
    """The demo library's name under a shipped profile: the profile's place name
    ("riverbend-7-day" is Riverbend Public Library); the classic demo's is LIBRARY."""
    place = profile.split("-")[0]
    return LIBRARY if place == "mahomet" else f"{place.title()} Public Library"


DIRECTOR = "Dana Director"
MANAGER = "Bo Business"
STAFF = "Sam Staff"
COUNSEL = "Casey Counsel"
# Demo passphrases, printed by `custodes demo` so a reader can sign in to the demo ledger.
PASSPHRASES = {
    DIRECTOR: "demo dana director",
    MANAGER: "demo bo business",
    STAFF: "demo sam staff",
    COUNSEL: "demo casey counsel",
}
# The demo's days are the library's days (R24): it lives through October in Chicago.
SITE_ZONE = ZoneInfo("America/Chicago")
MONTH = datetime(2026, 10, 1, tzinfo=SITE_ZONE)  # the month the demo lives through
SET_UP = MONTH - timedelta(days=2)  # staff and cameras, before the month begins
END = datetime(2026, 11, 1, 3, 15, tzinfo=SITE_ZONE)  # the nightly sweep after the month
REPORTED = datetime(2026, 11, 3, 9, 0, tzinfo=SITE_ZONE)  # the Director runs the report
# With --profile, the sweep runs every night until the report (site time, 03:15).
LAST_NIGHT = datetime(2026, 11, 3, 3, 15, tzinfo=SITE_ZONE)

CAMERAS = [
    ("front-door", "Main entrance, inside the vestibule", "public"),
    ("circ-desk", "Circulation desk, facing the patrons' side", "public"),
    ("kids-room", "Children's room entrance", "public"),
    ("lot-north", "North parking lot", "public"),
    ("makerspace", "Makerspace, door and 3D-printer bench", "public"),
]
REFUSED_CAMERA = ("restroom-1", "Ground floor restroom corridor", "restroom")


@dataclass(frozen=True)
class Variant:
    """How the month is adapted to a profile (None: the classic demo, unchanged)."""

    profile: str
    params: PolicyParams
    nightly_sweep: bool

    @classmethod
    def of(cls, profile: str | None) -> Variant:
        name = profile or DEFAULT_PROFILE
        params = parse_params(profile_files(name)[1], where=f"profile {name}")
        return cls(name, params, nightly_sweep=profile is not None)


@dataclass
class DemoSummary:
    data_dir: Path
    steps: list[str] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)
    refused_rules: list[str] = field(default_factory=list)  # the rule id of each refusal
    segments: int = 0
    purged: int = 0
    purged_segments: list[str] = field(default_factory=list)
    by_camera: dict[str, list[str]] = field(default_factory=dict)  # segment ids, in order
    profile: str = DEFAULT_PROFILE
    checkpoint: str = ""
    checkpoint_size: int = 0
    evidence: Path | None = None
    record: Path | None = None  # the disclosure record of the court order's release
    reports: list[Path] = field(default_factory=list)
    period: tuple[date, date] | None = None  # site-local days the report covers

    def note(self, text: str) -> None:
        self.steps.append(text)


def run_month(
    out: Path,
    *,
    say: Callable[[str], None] = lambda _t: None,
    profile: str | None = None,
    database_url: str | None = None,
) -> DemoSummary:
    """Record the month in a fresh data directory under ``out``; returns what happened.

    ``profile``: a shipped policy profile adopted as version 1, the month adapted to it
    (module docstring). ``database_url``: another database than the embedded SQLite
    (the tests run the profiles on PostgreSQL too)."""
    variant = Variant.of(profile)
    datadir = DataDir.create(out / "data", database_url=database_url)
    summary = DemoSummary(datadir.path, profile=variant.profile)
    ledger = open_ledger(datadir, clock=ManualClock(MONTH))
    try:
        _staff_and_cameras(ledger, summary, say, variant.profile)
        segments: dict[str, list[str]] = {cam: [] for cam, _, _ in CAMERAS}
        summary.by_camera = segments
        _in_time_order(
            ledger,
            _footage(ledger, out / "incoming", segments, summary, say),
            _flags_holds_and_viewings(ledger, segments, summary, say, variant),
            _requests(ledger, segments, out, summary, say, variant),
            _law_enforcement(ledger, segments, out, summary, say),
            _nightly_sweeps(ledger, summary, say)
            if variant.nightly_sweep
            else _sweep(ledger, summary, say),
        )
        made = witnessed_checkpoint(  # as `custodes checkpoint`, kept for the dashboard
            open_chain(datadir),
            origin=ledger.site().log_origin,
            signing_key=datadir.signing_key(None),
            public_key=datadir.public_key(),
            policy=None,
            now=REPORTED,
            keep_in=datadir.path,
        )
        cp, summary.checkpoint = made.checkpoint, made.note
        summary.checkpoint_size = cp.size
        say(f"Signed a checkpoint of {cp.size} entries")
        summary.period = _period(ledger)
        summary.reports = _reports(ledger, out, *summary.period)
        say(
            "Wrote the Director's compliance report for the whole demo, "
            f"{period_words(*summary.period)} (HTML and PDF)"
        )
    finally:
        ledger.close()
    return summary


Steps = Iterator[datetime]


def _in_time_order(ledger: Ledger, *threads: Steps) -> None:
    """Run the month's threads of work interleaved in time order: each yields the time of
    its next step and is resumed when the clock reaches it (recorded times only move
    forward, R26)."""
    queue: list[tuple[datetime, int, Steps]] = []
    for n, thread in enumerate(threads):
        first = next(thread, None)
        if first is not None:
            heapq.heappush(queue, (first, n, thread))
    while queue:
        moment, n, thread = heapq.heappop(queue)
        ledger.clock.set(moment)
        following = next(thread, None)
        if following is not None:
            if following < moment:
                raise ValueError(f"demo step {n} goes back in time to {following}")
            heapq.heappush(queue, (following, n, thread))


def _refused(summary: DemoSummary, e: NotPermitted) -> None:
    summary.refusals.append(str(e))
    summary.refused_rules.append(e.rule.id)


def _staff_and_cameras(
    ledger: Ledger, summary: DemoSummary, say: Callable[[str], None], profile: str
) -> None:
    t = SET_UP
    ledger.clock.set(t)
    ledger.initialise(
        director=DIRECTOR,
        library=library_of(profile),
        timezone=SITE_ZONE.key,
        passphrase=PASSPHRASES[DIRECTOR].encode(),
        profile=profile,
    )
    ledger.clock.set(t + timedelta(minutes=5))
    for name, role in [(MANAGER, "business_manager"), (STAFF, "staff"), (COUNSEL, "counsel")]:
        key = Ed25519PrivateKey.generate()  # the demo holds every key: one process, five people
        ledger.add_staff(name, role, actor=DIRECTOR, passphrase=PASSPHRASES[name].encode(), key=key)
        ledger.admit(name, key)
    for cam, where, zone in CAMERAS:
        ledger.clock.set(t + timedelta(hours=1))
        ledger.register_camera(
            cam,
            location=where,
            zone=zone,
            signage_posted=True,
            actor=DIRECTOR,
        )
    try:
        cam, where, zone = REFUSED_CAMERA
        ledger.register_camera(
            cam,
            location=where,
            zone=zone,
            signage_posted=True,
            actor=DIRECTOR,
        )
    except NotPermitted as e:
        _refused(summary, e)
    try:  # a staff member tries to add a director: refused and recorded
        ledger.clock.set(t + timedelta(hours=2))
        ledger.add_staff("Eve Extra", "director", actor=STAFF)
    except NotPermitted as e:
        _refused(summary, e)
    summary.note(f"Staff: {DIRECTOR} (director), {MANAGER}, {STAFF}, {COUNSEL}")
    summary.note(f"Cameras: {len(CAMERAS)} registered; a sixth, in a restroom, refused")
    say("Registered staff and cameras (a restroom camera was refused)")


def _footage(
    ledger: Ledger,
    incoming: Path,
    by_camera: dict[str, list[str]],
    summary: DemoSummary,
    say: Callable[[str], None],
) -> Steps:
    """Two short clips per camera every few days of the month, ingested the next morning."""
    for day in range(0, 31, 3):
        for n, (cam, _, _) in enumerate(CAMERAS):
            for hour in (10, 16):
                start = MONTH + timedelta(days=day, hours=hour, minutes=7 * n)
                folder = incoming / f"{start:%Y%m%d}"
                folder.mkdir(parents=True, exist_ok=True)
                path = folder / f"{cam}_{start.astimezone(UTC):%Y%m%dT%H%M%SZ}.mp4"
                write_clip(
                    path,
                    seconds=1,
                    fps=5,
                    size=(192, 108),
                    start=start,
                    seed=day * 10 + n,
                    faces=(cam == "front-door" and hour == 10),
                )
        yield MONTH + timedelta(days=day + 1, hours=7)
        for cam, _, _ in CAMERAS:
            files = sorted(
                (incoming / f"{MONTH + timedelta(days=day):%Y%m%d}").glob(f"{cam}_*.mp4")
            )
            result = ingest_paths(ledger, files, camera=cam, actor=STAFF)
            by_camera[cam] += [o.segment_id for o in result.outcomes if o.segment_id]
    summary.segments = sum(len(v) for v in by_camera.values())
    summary.note(f"Footage: {summary.segments} segments ingested, encrypted at rest")
    say(f"Ingested {summary.segments} synthetic clips")


def _flags_holds_and_viewings(
    ledger: Ledger,
    segs: dict[str, list[str]],
    summary: DemoSummary,
    say: Callable[[str], None],
    variant: Variant,
) -> Steps:
    t = MONTH + timedelta(days=4, hours=15)
    refused = 0  # of the viewings below (other threads' refusals interleave in time)
    yield t
    ledger.flag(
        segs["lot-north"][2],
        incident="IR-2026-031 vehicle struck in the north lot",
        reason="Patron reported a vehicle struck in the lot; keep for the insurer",
        actor=STAFF,
        retain_until=sitetime.end_of_day(date(2026, 12, 14), SITE_ZONE),
    )
    ledger.place_hold(
        [segs["circ-desk"][1], segs["circ-desk"][2]],
        kind="legal",
        reason="Preservation letter from the library's counsel (slip-and-fall claim)",
        reference="Counsel letter 2026-10-04",
        actor=DIRECTOR,
        review_by=sitetime.end_of_day(date(2026, 11, 14), SITE_ZONE),
    )
    yield t + timedelta(hours=1)
    view_segment(
        ledger, segs["front-door"][0], reason="Patron reported a stolen bicycle",
        purpose="incident_investigation", remote=False, actor=DIRECTOR,
    )  # fmt: skip
    end_viewing(ledger, segs["front-door"][0], actor=DIRECTOR)  # R16b: no copy left behind
    yield t + timedelta(days=6)
    try:  # refused where the policy version lets only the Director view (R16, R28)
        view_segment(
            ledger, segs["kids-room"][3], reason="Child separated from parent; confirm who left",
            purpose="safety", remote=True, actor=MANAGER,
        )  # fmt: skip
    except NotPermitted as e:
        _refused(summary, e)
        refused += 1
    try:  # archived footage is for the Director and the Business Manager only (R16)
        yield t + timedelta(days=7)
        # adapted: a clip of two days before, which even a 7-day policy still keeps
        clip = segs["makerspace"][6 if variant.nightly_sweep else 1]
        view_segment(
            ledger, clip, reason="Curious about the 3D printer", purpose="other",
            remote=False, actor=STAFF,
        )  # fmt: skip
    except NotPermitted as e:
        _refused(summary, e)
        refused += 1
    try:  # cameras are not used to evaluate staff (R16a)
        yield t + timedelta(days=8)
        view_segment(
            ledger, segs["circ-desk"][5], reason="Check how long staff take on breaks",
            purpose="other", remote=False, actor=MANAGER,
        )  # fmt: skip
    except NotPermitted as e:
        _refused(summary, e)
        refused += 1
    summary.note(
        f"A flag, a legal hold, {_count(4 - refused, 'logged viewing')}, "
        f"{_count(refused, 'refused viewing')}"
    )
    say(f"Flagged a segment, placed a hold, logged viewings ({refused} refused)")


def _count(n: int, what: str) -> str:
    words = {0: "no", 1: "one", 2: "two", 3: "three"}
    return f"{words.get(n, str(n))} {what}{'' if n == 1 else 's'}"


def _requests(
    ledger: Ledger,
    segs: dict[str, list[str]],
    out: Path,
    summary: DemoSummary,
    say: Callable[[str], None],
    variant: Variant,
) -> Steps:
    day = MONTH + timedelta(days=9, hours=14)
    # A court order for a patron's registration record, reviewed by counsel.
    yield day
    court = ledger.open_request(
        requester_kind="court", requester="Champaign County Circuit Court", received_by=STAFF,
        records=["registration"], description="Order for a patron's registration record",
        patron_card="2 1234 00567 8901", patron_name="Pat Q. Patron",
        patron_address="12 Elm St, Mahomet IL", actor=STAFF,
    )  # fmt: skip
    order = out / "court-order-2026-CF-311.pdf"
    order.write_bytes(b"%PDF-1.4 scanned order 2026-CF-311 (demo)")
    ledger.record_court_order(
        court, kind="order", signed_by_judge=True, court="Champaign County Circuit Court",
        judge="Hon. R. Alvarez", case="2026-CF-311", issued=day - timedelta(days=1),
        served_at=day, served_by="Dep. K. Moore #218, Champaign County Sheriff",
        scope=OrderScope(patron_cards=["2 1234 00567 8901"], fields=["name", "address"],
                         exclude_records=["circulation"]),
        scope_note="the patron's name and address; circulation records are expressly excluded",
        document_name=order.name, document_sha256=hashlib.sha256(order.read_bytes()).hexdigest(),
        actor=STAFF,
    )  # fmt: skip
    if variant.nightly_sweep and variant.params.counsel_review_gates_release:
        # This library's policy makes counsel's review a gate (R6, R28): deciding before
        # it is refused and recorded.
        yield day + timedelta(hours=3)
        try:
            ledger.decide(court, approve=True, reason="Valid court order within scope",
                          actor=DIRECTOR)  # fmt: skip
        except NotPermitted as e:
            _refused(summary, e)
    yield day + timedelta(days=1)
    ledger.record_counsel_review(
        court, result="sufficient", notes="Signed by a judge; scope is clear",
        actor=COUNSEL,
    )  # fmt: skip
    yield day + timedelta(days=1, hours=2)
    ledger.decide(court, approve=True, reason="Valid court order within scope",
                  actor=DIRECTOR)  # fmt: skip
    yield day + timedelta(days=1, hours=3)
    ledger.release(court, fields=["name", "address"], to="Dep. K. Moore #218",
                   method="sealed envelope, in person", actor=DIRECTOR)  # fmt: skip
    # With the envelope, the record the deputy keeps: what was released on which order,
    # checkable without Custodes (its proof leads to a signed checkpoint).
    yield day + timedelta(days=1, hours=3, minutes=5)
    assert ledger.datadir is not None
    summary.record = write_disclosure_record(
        ledger, court, to=out / f"record-{court}", actor=DIRECTOR,
        signing_key=ledger.datadir.signing_key(None),
    ).path  # fmt: skip
    say(f"Issued the disclosure record of {court} for the deputy, with its proof")

    # An emergency request: identifying fields only, then a follow-up.
    em_day = MONTH + timedelta(days=14, hours=21)
    yield em_day
    emergency = ledger.open_request(
        requester_kind="law_enforcement", requester="Ofc. J. Rivera, Mahomet Police",
        received_by=MANAGER, records=["registration", "circulation"],
        description="Missing-person emergency: identify the holder of a found library card",
        patron_card="2 1234 00999 1111", patron_name="Alex Sample", actor=MANAGER,
    )  # fmt: skip
    # The form is printed from the request; the officer completes and signs it; its scan is
    # recorded, and only then may the Director decide (R10). Circulation, which an
    # emergency request cannot obtain, is refused at intake.
    render_appendix9(
        ledger.read_appendix9(emergency, actor=MANAGER), out / f"appendix9-{emergency}.pdf"
    )
    signed = out / f"appendix9-{emergency}-signed.pdf"
    signed.write_bytes(b"%PDF-1.4 the officer's completed and signed Appendix 9 (demo scan)")
    ledger.record_emergency(
        emergency, officer_name="J. Rivera", officer_rank="Officer", badge_number="4471",
        agency="Mahomet Police Department", agency_phone="217-555-0142", id_examined=True,
        sworn_officer=True, court_order_impractical=True, imminent_danger=True,
        identification_purpose=True, role_sought="victim",
        emergency_description="Person missing overnight in freezing weather; card found at scene",
        signed_form_sha256=hashlib.sha256(signed.read_bytes()).hexdigest(),
        signed_form_name=signed.name, actor=MANAGER,
    )  # fmt: skip
    yield em_day + timedelta(minutes=40)
    ledger.decide(emergency, approve=True, reason="All four representations made; identifying fields only",
                  actor=DIRECTOR)  # fmt: skip
    try:  # circulation is never released on an emergency request (R9)
        yield em_day + timedelta(minutes=50)
        ledger.release(emergency, fields=["name", "titles"], to="Ofc. J. Rivera",
                       badge="4471", method="in person", actor=DIRECTOR)  # fmt: skip
    except NotPermitted as e:
        _refused(summary, e)
    yield em_day + timedelta(minutes=55)
    ledger.release(emergency, fields=["name", "phone"], to="Ofc. J. Rivera", badge="4471",
                   method="in person", actor=DIRECTOR)  # fmt: skip
    yield em_day + timedelta(hours=1)
    receipt = out / f"receipt-{emergency}-signed.pdf"
    receipt.write_bytes(b"%PDF-1.4 the officer's signed receipt (demo scan)")
    ledger.acknowledge(emergency, actor=DIRECTOR,
                       signed_receipt_sha256=hashlib.sha256(receipt.read_bytes()).hexdigest())  # fmt: skip
    yield em_day + timedelta(days=3)
    ledger.resolve_follow_up(emergency, judicial_review_sought=True, reason="Asked counsel to seek review",
                             actor=DIRECTOR)  # fmt: skip

    # A guardian asks about a minor's account: fines yes, titles never (R4).
    g_day = MONTH + timedelta(days=18, hours=16)
    yield g_day
    guardian = ledger.open_request(
        requester_kind="parent_guardian", requester="Parent of a minor patron", received_by=STAFF,
        records=["fines_fees", "circulation"], description="What does my child owe, and for what books?",
        patron_card="2 1234 00777 2222", patron_name="Minor Patron", minor=True,
        guardianship="Birth certificate and parent's ID examined at the desk",
        actor=STAFF,
    )  # fmt: skip
    # Authorized staff answer the parent at once: amounts only (R4); no decision needed.
    yield g_day + timedelta(minutes=10)
    ledger.release(guardian, fields=["fines_total", "fees_total"],
                   to="Parent of a minor patron", method="spoken at the desk",
                   actor=STAFF)  # fmt: skip

    # A FOIA request for lot footage: clock started, responsive footage held.
    f_day = MONTH + timedelta(days=26, hours=11)
    yield f_day
    asked = [segs["lot-north"][8]]
    if variant.nightly_sweep:  # also the 25 October clip, and one a short policy purged
        asked.append(segs["lot-north"][16])
        try:
            _foia(ledger, asked)
            asked = []
        except InvalidInput as e:  # bad input: nothing recorded, the request made again
            summary.note(f"FOIA: {e}")
            asked = asked[1:]
    if asked:
        _foia(ledger, asked)

    summary.note(
        f"Requests: court order {court}, emergency {emergency} (follow-up), "
        f"guardian {guardian}, a FOIA request"
    )
    say("Recorded a court order, an emergency request, a guardian inquiry and a FOIA request")


def _foia(ledger: Ledger, footage: list[str]) -> None:
    ledger.open_request(
        requester_kind="public", requester="Reporter, Mahomet Citizen", received_by=STAFF,
        records=["footage"], description="FOIA: north-lot footage of the Oct 25 fender-bender",
        footage=footage, actor=STAFF,
    )  # fmt: skip


def _law_enforcement(
    ledger: Ledger,
    segs: dict[str, list[str]],
    out: Path,
    summary: DemoSummary,
    say: Callable[[str], None],
) -> Steps:
    # Law enforcement footage for an active investigation, exported with redaction later.
    yield MONTH + timedelta(days=5, hours=10)
    le = ledger.open_request(
        requester_kind="law_enforcement", requester="Det. M. Chen, Mahomet Police",
        received_by=DIRECTOR, records=["footage"], description="Bicycle theft at the front door",
        footage=[segs["front-door"][0]], case_number="MPD-26-1187", actor=DIRECTOR,
    )  # fmt: skip
    yield MONTH + timedelta(days=5, hours=12)
    ledger.decide(le, approve=True, reason="Active investigation; redact bystanders",
                  actor=DIRECTOR)  # fmt: skip
    ledger.place_hold(
        [segs["front-door"][0]], kind="law_enforcement_preservation",
        reason="Preserve until the case closes", reference="MPD-26-1187",
        actor=DIRECTOR,
    )  # fmt: skip
    assert ledger.datadir is not None
    yield MONTH + timedelta(days=5, hours=13)
    package = export_footage(
        ledger, [segs["front-door"][0]], request_ref=le, to=out / "evidence-MPD-26-1187",
        actor=DIRECTOR, remote=False, signing_key=ledger.datadir.signing_key(None),
        redact_faces=True,
    )  # fmt: skip
    summary.evidence = package.path
    summary.note(f"Law enforcement {le}: footage exported, faces redacted")
    say("Exported redacted footage for the police, with its proof")


def _sweep(ledger: Ledger, summary: DemoSummary, say: Callable[[str], None]) -> Steps:
    yield END  # the nightly run after the month: on time for the first day's footage
    due, copies = read_views(ledger, lambda conn: (due_segment_ids(conn, END), live_copies(conn)))
    service = ledger.act_as_service()
    sweep_copies(ledger, copies, now=END, actor=service)  # viewing sessions long over (R16b)
    result = sweep(ledger, open_vault(ledger), due, actor=service)
    summary.purged_segments = [o.segment_id for o in result.outcomes if o.status == "purged"]
    summary.purged = len(summary.purged_segments)
    summary.note(f"Retention sweep {result.run_id}: {summary.purged} segments purged")
    say(f"Retention sweep purged {summary.purged} segments past 30 days")


def _nightly_sweeps(ledger: Ledger, summary: DemoSummary, say: Callable[[str], None]) -> Steps:
    """The daily cron sweep (docs/FOOTAGE.md) every night of the month and on until the
    report is run: whatever the policy version's days make due is purged on time."""
    service = None
    runs = 0
    night = MONTH + timedelta(days=1, hours=3, minutes=15)
    while night <= LAST_NIGHT:
        yield night
        due, copies = read_views(
            ledger, lambda conn, at=night: (due_segment_ids(conn, at), live_copies(conn))
        )
        service = service or ledger.act_as_service()
        sweep_copies(ledger, copies, now=night, actor=service)
        result = sweep(ledger, open_vault(ledger), due, actor=service)
        summary.purged_segments += [o.segment_id for o in result.outcomes if o.status == "purged"]
        runs += 1
        night += timedelta(days=1)
    summary.purged = len(summary.purged_segments)
    summary.note(f"Retention sweeps: {runs} nightly runs, {summary.purged} segments purged")
    say(f"Nightly retention sweeps purged {summary.purged} segments")


def _period(ledger: Ledger) -> tuple[date, date]:
    """Every site-local day the demo recorded something: set-up to the report itself, so
    the report shows what the demo did (the refused camera, the sweep's purges)."""
    zone = ledger.site().zone
    return sitetime.local_day(SET_UP, zone), sitetime.local_day(REPORTED, zone)


def _reports(ledger: Ledger, out: Path, first: date, last: date) -> list[Path]:
    assert ledger.datadir is not None
    ledger.clock.set(REPORTED)
    report, _note = compile_compliance_report(
        ledger,
        period_from=first,
        period_to=last,
        actor=DIRECTOR,
        now=REPORTED,
        signing_key=ledger.datadir.signing_key(None),
    )
    name = f"compliance-{first}-to-{last}"
    html, pdf = out / f"{name}.html", out / f"{name}.pdf"
    sections = report_sections(report)  # the charts drawn once for both files
    write_html(report, html, sections=sections)
    write_pdf(report, pdf, sections=sections)
    for fmt, path in (("html", html), ("pdf", pdf)):
        ledger.clock.set(REPORTED + timedelta(minutes=1))
        record_issued(ledger, report, fmt, path, actor=DIRECTOR)
    return [html, pdf]
