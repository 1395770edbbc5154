"""The policy engine, one row per rule: expected outcome and the exact rule id cited."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from ledger import rules, sitetime
from ledger.foia import foia_deadline
from ledger.footage_policy import (
    check_archive_access,
    check_audio,
    check_camera_placement,
    check_camera_zone,
    check_flag_end,
    check_hold_release,
    check_not_past_deadline,
    check_purge,
    check_reason,
    check_retention_days,
    check_signage,
    check_view_purpose,
)
from ledger.policy import (
    GUARDIANSHIP_DOCUMENTS,
    CourtOrderFacts,
    Decision,
    EmergencyRepresentations,
    Flag,
    Hold,
    RequestFacts,
    check_actor,
    check_decider,
    check_emergency_representations,
    check_law_enforcement_footage,
    check_release,
    explain_refusals,
    guardianship_document,
    guardianship_text,
    releasable_fields,
)
from ledger.statistics_policy import suppress_small_cells

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
ALL_FOUR = EmergencyRepresentations(True, True, True, True, "victim")
NO_DANGER = EmergencyRepresentations(True, True, False, True, "victim")
PATRON = "p-0123456789abcdef"
ORDER = CourtOrderFacts(
    "order", True, "sufficient", scope_fields=frozenset({"name", "address"}),
    scope_patrons=frozenset({PATRON}),
)  # fmt: skip


def release(facts: RequestFacts, field: str) -> Decision:
    decision = releasable_fields(facts).decision(field)
    assert decision is not None
    return decision


def emergency(field: str, rep: EmergencyRepresentations = ALL_FOUR) -> Decision:
    return release(RequestFacts("law_enforcement", frozenset({field}), emergency=rep), field)


def court(field: str, order: CourtOrderFacts = ORDER, patron: str | None = PATRON) -> Decision:
    return release(
        RequestFacts("court", frozenset({field}), court_order=order, patron=patron), field
    )


def order_of(
    kind: str, judge: bool, review: str, classes: set[str], **kw: object
) -> CourtOrderFacts:
    return CourtOrderFacts(
        kind,
        judge,
        review,
        frozenset(classes),
        scope_patrons=frozenset({PATRON}),
        **kw,  # type: ignore[arg-type]
    )


def guardian(field: str, minor: bool = True, how: str | None = "birth certificate") -> Decision:
    facts = RequestFacts(
        "parent_guardian", frozenset({field}), minor=minor, guardianship_confirmation=how
    )
    return release(facts, field)


def public(field: str) -> Decision:
    return release(RequestFacts("public", frozenset({field}), foia=True), field)


ROWS: list[tuple[str, Callable[[], Decision], bool, str]] = [
    # R2 deny by default
    (
        "a patron record with no court order or emergency is refused by default",
        lambda: release(RequestFacts("other", frozenset({"address"})), "address"),
        False,
        "POLICY-DENY-BY-DEFAULT",
    ),
    (
        "an officer with neither order nor signed Appendix 9 gets nothing decided",
        lambda: release(RequestFacts("law_enforcement", frozenset({"name"})), "name"),
        False,
        "LRCA-EMERGENCY-FORM",
    ),
    (
        # red team (session 13): it said the signed form was missing, as if one would do
        "an officer asking for titles without an order is told no form releases them",
        lambda: release(RequestFacts("law_enforcement", frozenset({"titles"})), "titles"),
        False,
        "LRCA-EMERGENCY-SCOPE",
    ),
    (
        "an unknown field is refused by default even on a valid emergency",
        lambda: emergency("shoe_size"),
        False,
        "POLICY-DENY-BY-DEFAULT",
    ),
    # R3 only the director decides
    (
        "the director decides a disclosure request",
        lambda: check_decider("director"),
        True,
        "POLICY-DIRECTOR-DECIDES",
    ),
    (
        "the business manager may not decide a disclosure request",
        lambda: check_decider("business_manager"),
        False,
        "POLICY-DIRECTOR-DECIDES",
    ),
    (
        "counsel may not decide a disclosure request",
        lambda: check_decider("counsel"),
        False,
        "POLICY-DIRECTOR-DECIDES",
    ),
    ("an unknown role cannot decide", lambda: check_decider("janitor"), False, "STAFF-ROLE"),
    (
        "a deactivated staff member cannot act",
        lambda: check_actor("director", active=False),
        False,
        "STAFF-ACTIVE",
    ),
    # R4 minors
    (
        "a guardian may hear a minor's fines total",
        lambda: guardian("fines_total"),
        True,
        "POLICY-MINOR-FINES",
    ),
    (
        "a guardian may not see the titles of a minor's loans",
        lambda: guardian("titles"),
        False,
        "POLICY-MINOR-FINES",
    ),
    (
        "a guardian may hear itemized fine amounts: fines information, without titles",
        lambda: guardian("itemized_fines"),
        True,
        "POLICY-MINOR-FINES",
    ),
    (
        "a guardian hears nothing until the guardianship confirmation is recorded",
        lambda: guardian("fines_total", how=" "),
        False,
        "POLICY-MINOR-FINES",
    ),
    (
        "a parent hears nothing about an adult patron's fines",
        lambda: guardian("fines_total", minor=False),
        False,
        "POLICY-MINOR-FINES",
    ),
    # R5 statistics: see test_suppress_small_cells
    # R6 court orders
    (
        "a subpoena not signed by a judge releases nothing even if counsel liked it",
        lambda: court("name", order_of("subpoena", False, "sufficient", {"registration"})),
        False,
        "LRCA-COURT-ORDER",
    ),
    (
        # red team (session 17): released as a court order; the follow-up said it is none
        "a subpoena a judge signed is not a court order either",
        lambda: court("name", order_of("subpoena", True, "sufficient", {"registration"})),
        False,
        "LRCA-COURT-ORDER",
    ),
    (
        "counsel's review is not a gate under this policy: the Director decides (R6)",
        lambda: court("name", order_of("order", True, "pending", {"registration"})),
        True,
        "LRCA-COURT-ORDER-SCOPE",
    ),
    (
        "where the adopted policy makes counsel a gate, an unreviewed order releases nothing",
        lambda: court(
            "name",
            order_of("warrant", True, "insufficient", {"registration"}, counsel_gates_release=True),
        ),
        False,
        "LRCA-COUNSEL-REVIEW",
    ),
    # R7 scope
    (
        "a sufficient court order releases a field it names",
        lambda: court("address"),
        True,
        "LRCA-COURT-ORDER-SCOPE",
    ),
    (
        "a court order releases nothing beyond its scope",
        lambda: court("titles"),
        False,
        "LRCA-COURT-ORDER-SCOPE",
    ),
    (
        "a court order scoped to circulation records covers holds",
        lambda: court("holds", order_of("order", True, "sufficient", {"circulation"})),
        True,
        "LRCA-COURT-ORDER-SCOPE",
    ),
    (
        "a court order naming another patron releases nothing of this one",
        lambda: court("name", patron="p-someone-else-0000"),
        False,
        "LRCA-COURT-ORDER-SCOPE",
    ),
    (
        "a class the order expressly excludes is refused even if another item covers it",
        lambda: court(
            "titles",
            order_of(
                "order",
                True,
                "sufficient",
                {"registration", "circulation"},
                exclude_record_classes=frozenset({"circulation"}),
            ),
        ),
        False,
        "LRCA-COURT-ORDER-SCOPE",
    ),
    # R8 four representations
    (
        "an emergency with all four representations passes",
        lambda: check_emergency_representations(ALL_FOUR),
        True,
        "LRCA-EMERGENCY-REPRESENTATIONS",
    ),
    (
        "an emergency missing the imminent danger representation is refused",
        lambda: emergency("name", NO_DANGER),
        False,
        "LRCA-EMERGENCY-REPRESENTATIONS",
    ),
    (
        "an emergency not saying whether a suspect witness or victim is sought is refused",
        lambda: check_emergency_representations(EmergencyRepresentations(True, True, True, True)),
        False,
        "LRCA-EMERGENCY-REPRESENTATIONS",
    ),
    (
        "only a law enforcement officer may make an emergency request",
        lambda: release(RequestFacts("other", frozenset({"name"}), emergency=ALL_FOUR), "name"),
        False,
        "LRCA-EMERGENCY-REPRESENTATIONS",
    ),
    # R9 emergency scope
    (
        "an emergency may obtain the patron's card number",
        lambda: emergency("card_number"),
        True,
        "LRCA-EMERGENCY-SCOPE",
    ),
    (
        "an emergency may not obtain titles",
        lambda: emergency("titles"),
        False,
        "LRCA-EMERGENCY-SCOPE",
    ),
    (
        "an emergency may not obtain computer sessions",
        lambda: emergency("computer_sessions"),
        False,
        "LRCA-EMERGENCY-SCOPE",
    ),
    (
        "an emergency may not obtain itemized fines",
        lambda: emergency("itemized_fines"),
        False,
        "LRCA-EMERGENCY-SCOPE",
    ),
    # R10, R11 are recorded by the ledger; the refusal to release beyond the plan is here
    (
        "releasing a field the emergency plan did not allow is refused",
        lambda: check_release(
            releasable_fields(
                RequestFacts("law_enforcement", frozenset({"name", "titles"}), emergency=ALL_FOUR)
            ),
            ["titles"],
        )[0],
        False,
        "LRCA-EMERGENCY-SCOPE",
    ),
    (
        "releasing a field nobody requested under a court order is refused",
        lambda: check_release(
            releasable_fields(RequestFacts("court", frozenset({"name"}), court_order=ORDER)),
            ["phone"],
        )[0],
        False,
        "LRCA-COURT-ORDER-SCOPE",
    ),
    (
        "releasing an unapproved footage segment is refused",
        lambda: check_release(
            releasable_fields(RequestFacts("public", frozenset({"footage"}))),
            [],
            ["seg-2"],
            ["seg-1"],
        )[0],
        False,
        "FOIA-7-1C",
    ),
    (
        "releasing an approved footage segment on the FOIA path is allowed",
        lambda: check_release(
            releasable_fields(RequestFacts("public", frozenset({"footage"}))),
            [],
            ["seg-1"],
            ["seg-1"],
        )[0],
        True,
        "FOIA-7-1C",
    ),
    # R12 cameras
    (
        "a camera in a restroom is refused",
        lambda: check_camera_zone("restroom"),
        False,
        "CAMERA-PRIVACY-ZONE",
    ),
    (
        "a camera in a private office is refused",
        lambda: check_camera_zone("private_office"),
        False,
        "CAMERA-PRIVACY-ZONE",
    ),
    (
        "a camera in the lobby is allowed",
        lambda: check_camera_zone("lobby"),
        True,
        "CAMERA-PRIVACY-ZONE",
    ),
    ("footage carrying audio is refused", lambda: check_audio(True), False, "CAMERA-NO-AUDIO"),
    (
        "a camera without attested signage is refused",
        lambda: check_signage(False),
        False,
        "CAMERA-SIGNAGE",
    ),
    # R13, R14 retention and holds
    (
        "footage inside its 30 days is not purged",
        lambda: check_purge(NOW - timedelta(days=29), 30, (), (), NOW),
        False,
        "FOOTAGE-RETENTION",
    ),
    (
        "footage past its 30 days is purged",
        lambda: check_purge(NOW - timedelta(days=30), 30, (), (), NOW),
        True,
        "FOOTAGE-RETENTION",
    ),
    (
        "flagged footage is kept past 30 days until the flag's retention",
        lambda: check_purge(
            NOW - timedelta(days=40), 30, [Flag("f1", NOW + timedelta(days=1))], (), NOW
        ),
        False,
        "FOOTAGE-RETENTION",
    ),
    (
        "an active legal hold blocks purge of expired footage",
        lambda: check_purge(NOW - timedelta(days=90), 30, (), [Hold("h1", "legal_hold")], NOW),
        False,
        "FOOTAGE-HOLD-BLOCKS-PURGE",
    ),
    (
        "a released hold no longer blocks purge",
        lambda: check_purge(
            NOW - timedelta(days=90), 30, (), [Hold("h1", "foia", NOW - timedelta(hours=1))], NOW
        ),
        True,
        "FOOTAGE-RETENTION",
    ),
    (
        "the business manager may not release a hold",
        lambda: check_hold_release("business_manager", "case closed"),
        False,
        "FOOTAGE-HOLD-RELEASE-DIRECTOR",
    ),
    (
        "the director may not release a hold without a reason",
        lambda: check_hold_release("director", ""),
        False,
        "FOOTAGE-HOLD-RELEASE-DIRECTOR",
    ),
    (
        "the director releases a hold with a reason",
        lambda: check_hold_release("director", "litigation settled"),
        True,
        "FOOTAGE-HOLD-RELEASE-DIRECTOR",
    ),
    # R16 archive access and reasons
    (
        "staff may not view recorded footage, however recent (no live window)",
        lambda: check_archive_access("staff"),
        False,
        "FOOTAGE-ARCHIVE-ACCESS",
    ),
    (
        "the business manager may view archived footage",
        lambda: check_archive_access("business_manager"),
        True,
        "FOOTAGE-ARCHIVE-ACCESS",
    ),
    # R13 retention floor, deadline, flags
    (
        "a retention shorter than the policy's 30 days is refused",
        lambda: check_retention_days(29),
        False,
        "FOOTAGE-RETENTION",
    ),
    (
        "a longer retention is allowed",
        lambda: check_retention_days(45),
        True,
        "FOOTAGE-RETENTION",
    ),
    (
        "footage past its deadline without a hold is not viewed",
        lambda: check_not_past_deadline(NOW - timedelta(seconds=1), (), NOW),
        False,
        "FOOTAGE-PAST-DEADLINE",
    ),
    (
        "footage past its deadline under a hold may be viewed",
        lambda: check_not_past_deadline(NOW - timedelta(days=9), ("H-1",), NOW),
        True,
        "FOOTAGE-PAST-DEADLINE",
    ),
    (
        "a flag ending more than 90 days ahead is refused",
        lambda: check_flag_end(NOW + timedelta(days=90, seconds=1), NOW),
        False,
        "FOOTAGE-FLAG-BOUND",
    ),
    (
        "a staff flag on flagged footage ends within 90 days of the segment's deadline",
        lambda: check_flag_end(
            NOW + timedelta(days=60), NOW, base_deadline=NOW - timedelta(days=40), role="staff"
        ),  # fmt: skip
        False,
        "FOOTAGE-FLAG-BOUND",
    ),
    (
        "the Director may keep flagged footage longer, 90 days at a time",
        lambda: check_flag_end(
            NOW + timedelta(days=60), NOW, base_deadline=NOW - timedelta(days=40), role="director"
        ),  # fmt: skip
        True,
        "FOOTAGE-FLAG-BOUND",
    ),
    # R12 placement by the location's words
    (
        "a location naming a restroom is refused whatever the zone",
        lambda: check_camera_placement("public", "Men's restroom near sinks"),
        False,
        "CAMERA-PRIVACY-ZONE",
    ),
    (
        "a location naming a private place passes on the Director's note",
        lambda: check_camera_placement("public", "Hallway outside the restrooms", "faces away"),
        True,
        "CAMERA-PRIVACY-ZONE",
    ),
    (
        "a viewing without a reason is refused",
        lambda: check_reason("  "),
        False,
        "FOOTAGE-VIEW-REASON",
    ),
    (
        "purpose other without text is refused",
        lambda: check_view_purpose("other", ""),
        False,
        "FOOTAGE-VIEW-REASON",
    ),
    (
        "incident investigation is a valid purpose",
        lambda: check_view_purpose("incident_investigation", "fall near the stairs"),
        True,
        "FOOTAGE-VIEW-REASON",
    ),
    # R16a no staff monitoring
    (
        "a purpose of staff monitoring is refused",
        lambda: check_view_purpose("staff_monitoring"),
        False,
        "FOOTAGE-NO-STAFF-MONITORING",
    ),
    (
        "free text about an employee's performance review is refused",
        lambda: check_view_purpose("other", "Check the performance of the evening clerk"),
        False,
        "FOOTAGE-NO-STAFF-MONITORING",
    ),
    (
        "free text evaluating staff attendance is refused even under safety",
        lambda: check_view_purpose("safety", "see whether staff take long breaks"),
        False,
        "FOOTAGE-NO-STAFF-MONITORING",
    ),
    *(
        (
            f"watching staff at work is staff monitoring: {text!r}",
            lambda text=text: check_view_purpose("other", text),
            False,
            "FOOTAGE-NO-STAFF-MONITORING",
        )
        for text in (
            "check whether staff are working",
            "see if the clerks were really working",
            "were the employees at their desks",
            "keep an eye on the pages",
            "checking up on staff",
            # policy red team, session 16: staff evaluation in other words passed
            "annual review of the desk team",
            "assess customer service quality of the desk team",
            "see if the new hire is greeting patrons properly",
            "check staff dress code compliance",
            "review how the circulation clerk handled the checkout line",
            "see who was covering the front desk between 2 and 4",
            # red team, session 17: job titles and HR wording the lists lacked
            "count how many patrons the desk assistant served per hour",
            "see how often the front desk person uses her mobile",
            "check whether the closer left before closing time",
            "document the desk assistant's rudeness for HR",
            "for the HR file of the circulation assistant, grievance hearing",
            "coaching the circulation assistant",
            # red team, session 18: being on time, a post left, a task done as assigned
            "confirm the shelver was at work on time",
            "when did the librarian leave her post",
            "see when the circ desk clerk left her post on Tuesday",
            "was the circ desk left unattended by the clerk",
            "whether the desk clerk followed the cash handling procedure",
            "whether the custodian cleaned the entrance as assigned",
            "the shelver's arrival time on Saturday",
            # the narrower session 18 words must still catch these
            "did the clerk do her assigned duties",
            "check if staff followed the closing checklist",
            "review the departure times of the evening clerks",
            "did the shelver abandon the desk during the storm",
            # this session's own look at the narrower words
            "check staff arrival times",
            "clerk arrival time on Monday",
            "did the clerk leave the desk unattended",
            "check when the librarian left the desk",
            "was the clerk at the desk on time",
            "Incident review. Did the clerk leave her post?",
            "how often does the clerk leave her post",
            # the session 19 review: asking after a comma, a quote or a new line, and
            # asking with other words
            "Patron complaint, did the clerk leave her post?",
            'Complaint: "did the clerk leave her post?"',
            "Patron complaint\nDid the clerk leave her post?",
            "Patron complaint.  Did the clerk leave her post?",
            "Determine which clerk did not arrive on time",
            "Show the clerk abandoning her post",
            "Look at how often the librarian leaves her desk",
            "Find out which staff member left their post on Tuesday",
            "how long was the clerk away from her desk",
            "identify which volunteer left the desk unattended",
            # the session's own red team of the asked words
            "Verify that the evening librarian locked the doors on time",
            "How many times did the shelver leave the floor today",
            "Whether the assistant opened the building sharp",
            "Check that the librarian counted the cash drawer correctly",
            # helper-75's red team of the session 20 words, and this session's own look:
            # questions in other words, asked with a dash, of a named member of staff
            "Are staff actually working?",
            "Were the clerks really working?",
            "Was the clerk at the desk on Tuesday at 4?",
            "Patron complaint - did the clerk leave her post?",
            "Patron complaint — did the clerk leave her post?",
            "Did the librarian leave the reference desk?",
            "What time did the clerk get in this morning?",
            "Did the clerk follow policy?",
            "Did the clerk follow the rules?",
            "Did the evening clerk follow the closing routine?",
            "Was the clerk rude to the patron at checkout?",
            "How did the clerk treat the patron?",
            "How long was the librarian gone from the reference desk?",
            "Did the clerk stay until close?",
            "Which librarian was on the desk at 2pm?",
            "Did staff complete the closing routine?",
            "Check whether on Tuesday afternoon the new evening clerk left her post",
            "Did Ms. Lopez, the clerk, leave her post?",
            "Was the clerk on Facebook at the desk?",
            "Did the clerk take a smoke break?",
            "gather evidence for the clerk's write-up",
            "Footage of the clerk leaving her post",
            "monitoring staff",
            "watch the clerks",
            "Monitoring of the desk team",
            "the staff being monitored at the desk",
            "Review the footage for the clerk leaving her post",
            "Check the tape: did the clerk leave her post?",
            "I need to know if the clerk was at her desk",
            "Was our clerk Maria at her desk?",
            "Show me the clerk leaving her post",
            "Did anyone from staff leave the desk?",
            "did the clerk on the evening shift leave her post",
            "Didn't the clerk leave her post?",
            "Is the clerk ever away from the desk?",
            "staff monitoring",
            "Were the pages on their phones?",
            "Check when the clerk arrived",
            "the clerk's warning letter",
            # helper-76's red team of the session 21 words: other job titles, yes/no
            # questions with a time, told as a complaint, slacking, HR words
            "Did the clerk leave at 4:30 instead of 5?",
            "Did the clerk arrive at 9?",
            "Did the clerk go home at 3?",
            "Did the clerk leave the building before 5?",
            "Confirm the clerk stayed until 8",
            "Did the page show up for work Saturday?",
            "Patron says clerk was rude, check footage",
            "Patron complaint that the clerk was rude; please verify",
            "Complaint: clerk rude to patron",
            "Clerk away from desk too much",
            "Clerk left her post?",
            "The clerk abandoned the desk for 40 minutes",
            "Clerk abandoning post",
            "Staff not at the desk at opening",
            "Clerk absent from desk for 30 min Tuesday",
            "Clerk unprofessional at desk",
            "Staff chatting at desk instead of working",
            "Was the page at her post?",
            "Did the page leave the floor?",
            "Was the security guard at his post?",
            "Was the guard asleep at the desk?",
            "Was the receptionist at her desk at 9?",
            "Did the library associate leave the desk?",
            "Did the branch manager leave before 5?",
            "Was the supervisor in the building Sunday?",
            "Was the IT tech at his desk?",
            "See if the teen services coordinator is doing her job",
            "Was the clerk asleep at the desk?",
            "Was the clerk sleeping on the job?",
            "Was the clerk on a personal call?",
            "Was the clerk using the computer for personal stuff?",
            "Was the clerk on her laptop watching Netflix?",
            "Was the clerk reading a book at the desk instead of helping patrons?",
            "Did the clerk yell at a patron?",
            "Check whether the clerk ignored patrons waiting in line",
            "Did the librarian ignore the patron?",
            "How much time does the clerk spend chatting with coworkers?",
            "Has the new hire been socializing too much?",
            "Is the clerk wasting time at the desk?",
            "Check if the clerk is stealing time",
            "Is the clerk goofing off?",
            "Are my staff pulling their weight?",
            "Is the clerk doing anything at all?",
            "Did the clerk work her full hours?",
            "How many hours did the clerk actually work on Saturday?",
            "Verify the hours on the clerk's overtime request",
            "Is the clerk taking too many bathroom trips?",
            "How often is the clerk in the back room?",
            "How long was the clerk in the staff room?",
            "Did the clerk count the drawer at close?",
            "Did the evening clerk close out the register?",
            "How fast does the clerk process returns?",
            "How does the clerk handle difficult patrons?",
            "Was the clerk wearing earbuds at the desk?",
            "Did the clerk eat at the desk?",
            "Gather evidence to fire the clerk",
            "Evidence for the clerk's termination",
            "Building a case against the custodian",
            "Investigate the clerk's conduct at the desk",
            "Check the clerk's behavior at the desk",
            "Employee misconduct investigation - the clerk",
            "Who was working the desk at 3pm?",
            "Was anyone at the front desk between 2 and 3?",
            "Was the desk empty at 3pm?",
            "Was the clerk at the desk?",
            "Was the clerk late?",
            "Is the clerk always late?",
            "Was the clerk on his phone?",
            "Is the clerk rude to patrons?",
            "Check footage: was clerk rude?",
            "Was the librarian helpful to the patron?",
            "How long was the clerk gone?",
            "Did the aide leave her post?",
            "Check if the clerk's been leaving her post",
            "Did the shelver finish her rounds?",
            "Check if staff are on their phones",
            "Check whether the front desk lady was on her phone",
            "See if staff are at their desks",
            "Watch the desk staff",
            "Review the volunteer's performance",
            "Check the clerk's attendance",
            "Clerk's long lunches",
            "Clerk leaving early on Fridays",
            "Did the circ supervisor leave early?",
            "Page on phone during shift",
            "Did the clerk take a long lunch?",
            "Is the evening shift doing their job?",
            "Did the clerk get in on time?",
            "When did the clerk leave at 5?",
            "How much time did the clerk spend away from the desk?",
            "Did the clerk spend time away from her desk?",
            "Was there a clerk at the desk at 2pm?",
            "Confirm the desk was staffed at 2pm",
            "What exactly was the clerk doing at the desk? Was she working?",
        )
    ),
    *(
        (
            f"staff named in a safety purpose is not staff monitoring: {text!r}",
            lambda text=text: check_view_purpose("safety", text),
            True,
            "FOOTAGE-VIEW-REASON",
        )
        for text in (
            "staff reported the elevator not working",
            "check on staff safety after the assault",
            "staff member injured on the job",
            # what the session 16 patterns must still let through
            "a patron was rude to the clerk and threatened her",
            "Patron reported a stolen bicycle",
            "Child separated from parent; confirm who left",
            "identify the vehicle that hit the book drop",
            "a volunteer reported a man exposing himself in the stacks",
            "review the lobby clip for the theft reported by staff",
            # the session's own review: refused by a first version of the new words
            "Patron refused to comply with staff instructions to leave; trespass notice",
            "Disruptive patron handled by staff at closing; police called",
            # what the session 17 words must still let through
            "a patron left a bag unattended in the lobby",
            "patron fell near the desk; the assistant called 911",
            "fight in the parking lot at closing",
            "Patron assaulted a clerk; assess injuries for the police report",
            "Patron threatened a volunteer; police will handle it",
            "Patron was rude and aggressive to staff who greeted him at the door",
            "Man wearing a staff uniform entered the back office; possible impersonation",
            "Patron removed pages from a periodical; assess damage",
            "Patron fell on the stairs; the security guard on duty called 911",
            "Child separated from parent; who was covering the desk saw the child leave?",
            "Patron punched a wall, staff intervened properly",
            # what the session 18 words must still let through
            "patron struck the clerk at the desk",
            "fire drill: check that patrons followed the evacuation procedure",
            "a man left his bag unattended by the desk; staff called the police",
            "suspect arrived at 3 pm and argued with the librarian",
            # the session 18 review: real incidents the first session 18 words refused
            "staff member injured while performing her duties",
            "patron threatened the clerk when asked to leave the desk",
            "confirm the departure time of the suspect",
            "clerk robbed during cash handling",
            "staff followed the lockdown protocol",
            "ambulance arrived on time for the injured custodian",
            "laptop at the study desk was left unattended and stolen, staff reported",
            "the clerk saw the suspect's arrival time",
            "suspect left the desk area with a laptop; librarian called police",
            "did the patron threaten the clerk when asked to leave the desk",
            "when the clerk left the desk a man grabbed the laptop",
            "a man was yelling at the clerk who left her post to call police",
            "staff reported the suspect's arrival time",
            # the session 19 review: an asking word in one sentence and a member of staff
            # in the next
            "Review incident. When the clerk left the desk a man grabbed a laptop",
            "Theft review. The clerk left her post to help a patron who fell",
            "Check the lobby camera; the clerk left her desk to help a patron who fell",
            "a patron who hit the clerk who left her post to call for help",
            "Identify the man who attacked the clerk at her desk",
            "Identify who attacked the clerk at her desk",
            "Find out who stole the laptop the clerk left at her station",
            "Look at the entrance; was the clerk hurt when she left the desk?",
            "Did the ambulance arrive on time for the injured custodian?",
            "Patron found asleep in the stacks; staff could not wake him, called 911",
            "Check whether the patron showed up after the clerk banned him",
            "Review the patron's interaction with the clerk before the assault",
            "a man turned up at the desk and threatened the clerk",
            "Patron slipped; the custodian had just mopped the floor",
            # helper-75's red team of the session 20 words
            "Possible overdose: check when staff found the man asleep in the restroom",
            "Did staff see the banned patron turn up again?",
            "See if the staff door was closed properly; possible intrusion",
            "Review the clerk's interaction with the patron who assaulted her",
            # helper-75's red team of the session 20 words: the member of staff is not the
            # one asked about, watched or evaluated, or a signal's word means something else
            "The clerk was working alone at the desk when a man threatened her",
            "Staff member monitoring the children's area noticed a child missing",
            "Police request: the clerk watched the suspect pocket a laptop",
            "Did the man approach the clerk at her desk before the robbery?",
            "Was the clerk injured at her station when the shelf fell?",
            "Did the librarian faint at her desk? medical emergency",
            "Patron threw a chair at the customer service desk; clerk injured",
            "Officer wants to see the suspect's demeanor toward staff",
            "Stalking concern: the man seems to know the clerk's finish time",
            "Patron disputes a late fee; says the clerk threatened him",
            "staff member's phone was stolen from the desk",
            "break-in at the staff entrance overnight",
            "During the evening shift a patron assaulted the clerk",
            "Review whether the man approached the clerk at her desk",
            "Review footage of the man approaching the clerk at her desk",
            "Monitor the man who threatened staff",
            "Did someone attack the clerk at her desk?",
            "Was the man at the desk a staff member?",
            "Did the patron and the clerk argue at the counter?",
            "Was the clerk hurt when she left the desk?",
            "Were the clerks safe at their desks during the lockdown?",
            "a page monitoring the entrance saw the man leave",
            "Did the clerk see the man leave the desk with a laptop?",
            "Which patron threatened the clerk at the desk?",
            # helper-76's red team of the session 21 words: a member of staff described by
            # where they were, a stalker watching, a signal's word used of something else
            "Did the clerk at the reference desk see the man with the knife?",
            "Check whether the clerk at the desk saw the suspect",
            "Identify the clerk at the front desk who witnessed the theft",
            "Was the librarian on duty hurt?",
            "Was the clerk on duty injured in the robbery?",
            "Did the staff member on duty call 911?",
            "Footage of the clerk at the desk during the robbery",
            "Police need footage of the clerk at the counter when the robbery happened",
            "Footage of the custodian on the floor after he fell",
            "Was the clerk on the floor after the patron pushed her?",
            "Was the custodian on the floor long before anyone found him?",
            "Confirm the clerk was on the phone with 911 when the man attacked",
            "Find out which clerk was on duty so police can interview her",
            "Which employee was on duty when the child went missing? Police want to interview them",
            "Which staff member was at the desk when the man threatened her? Police need a statement",
            "Identify which librarian was working when the patron collapsed; witness for the incident report",
            "Was the clerk working alone when the robbery happened?",
            "Was the clerk at the desk alone when the man came in?",
            "Workers' comp: confirm the custodian was on duty when he was injured",
            "Check if the clerk was on duty when the fire started, fire marshal request",
            "If the clerk was at the desk, she would have seen the fight; check the lobby camera",
            "Monitoring the staff parking lot after car break-ins",
            "Watch the staff entrance for the banned patron",
            "Man snooping around the staff entrance",
            "Ex-husband of the clerk has been watching the staff entrance",
            "Patron was watching the clerk all evening; possible stalker",
            "Man has been watching staff from the parking lot",
            "Identify the man who was watching the clerks",
            "Man spying on staff through the window",
            "Suspect was monitoring the librarian's movements",
            "Man keeps an eye on the young clerks and follows them out; stalking concern",
            "Break in at the staff entrance overnight",
            "Someone tried to break into the staff entrance overnight",
            "Patron attacked the clerk late Tuesday night",
            "Late last night someone vandalized the staff entrance",
            "Patron stole the clerk's phone",
            "Man grabbed the clerk's phone and ran",
            "Someone took the librarian's cell phone from her desk",
            "Patron kicked the clerk and broke her phone",
            "During her shift, the clerk was assaulted by a patron",
            "Clerk was followed to her car at the end of her shift",
            "Man waited for the clerk after her shift",
            "Clerk injured on the night shift",
            "Patron threatened staff at shift change",
            "Patron exposed himself to a clerk at the end of the day shift",
            "Patron upset about being charged for a late book, threw it at the clerk",
            "Patron called the library phone and threatened staff",
            "Bomb threat called in on the desk phone; staff evacuated",
            "Clerk used her phone to call 911 during the fight",
            "Man texting threats to the clerk",
            "Fight broke out during the children's performance; staff injured",
            "Mobile crisis team called for a patron; staff safe",
            "Man in black slacks grabbed the clerk's purse",
            "Clerk taken to hospital for evaluation after the assault",
            "Paramedics evaluated the injured custodian",
            "Clerk was handling the checkout line when a man grabbed the cash box",
            "The clerk was greeting patrons at the door when she was attacked",
            "Did the clerk trip over the cord when leaving her desk?",
            "Did the clerk fall when she left the desk?",
            "Did the patron follow the clerk to her car?",
            "Man followed the librarian into the parking lot",
            "Did the man who attacked the clerk leave the building?",
            "Employee injured on the job; confirm time of injury for workers comp",
            "Patron threatened a volunteer; police will handle it",
            "Patron punched the clerk at the circulation desk",
            "Police request: robbery at the front desk, clerk assaulted",
            "Child missing; staff searched the building",
            "Fire alarm; confirm all staff evacuated",
            "Suspicious package near the staff entrance",
            "Staff member's car was broken into while she was at work",
        )
    ),
    (
        "a reason naming a staff member in the directory is refused",
        lambda: check_view_purpose(
            "other", "see whether Sam left the circulation desk early", staff_names=["Sam Staff"]
        ),
        False,
        "FOOTAGE-NO-STAFF-MONITORING",
    ),
    *(
        (
            f"a directory name with or without its accents or hyphen is the name: {text!r}",
            lambda text=text, name=name: check_view_purpose("other", text, staff_names=[name]),
            False,
            "FOOTAGE-NO-STAFF-MONITORING",
        )
        for text, name in (
            ("Was Jose at the desk at 4?", "José García"),
            ("Was José at the desk at 4?", "Jose Garcia"),
            ("Was Garcia seen by the door?", "José García"),
            ("Did Mary Jo see the fall?", "Mary-Jo Lee"),
        )
    ),
    (
        "lateness for a shift is staff monitoring, named or not",
        lambda: check_view_purpose("other", "check if Sofia arrived late for her shift"),
        False,
        "FOOTAGE-NO-STAFF-MONITORING",
    ),
    (
        "the Business Manager cannot record why it is not staff monitoring",
        lambda: check_view_purpose(
            "safety",
            "Sam saw the fall",
            staff_names=["Sam Staff"],
            role="business_manager",
            director_note="a witness",
        ),  # fmt: skip
        False,
        "FOOTAGE-NO-STAFF-MONITORING",
    ),
    (
        "the Director's note lets a purpose naming staff through",
        lambda: check_view_purpose(
            "safety",
            "Sam saw the fall",
            staff_names=["Sam Staff"],
            role="director",
            director_note="a witness",
        ),  # fmt: skip
        True,
        "FOOTAGE-NO-STAFF-MONITORING",
    ),
    (
        "an incident in which a staff member was injured is not staff monitoring",
        lambda: check_view_purpose(
            "incident_investigation", "staff member injured by a falling shelf"
        ),
        True,
        "FOOTAGE-VIEW-REASON",
    ),
    # R17 law enforcement footage
    (
        "footage goes to police only with an active investigation case number",
        lambda: check_law_enforcement_footage(None),
        False,
        "FOOTAGE-LE-ACTIVE-INVESTIGATION",
    ),
    (
        "footage goes to police for an active investigation",
        lambda: release(
            RequestFacts(
                "law_enforcement", frozenset({"footage"}), investigation_case_number="24-1187"
            ),
            "footage",
        ),
        True,
        "FOOTAGE-LE-ACTIVE-INVESTIGATION",
    ),
    # R20 FOIA
    (
        "the public asking for circulation records is refused under 7.5(b)",
        lambda: public("circulation_history"),
        False,
        "FOIA-7.5B",
    ),
    (
        "the public asking for a patron's address is refused as a confidential record",
        lambda: public("address"),
        False,
        "FOIA-7-1A",
    ),
    (
        "footage on the FOIA path may be released redacted or withheld",
        lambda: public("footage"),
        True,
        "FOIA-7-1C",
    ),
]


@pytest.mark.parametrize(
    ("check", "allowed", "rule_id"), [row[1:] for row in ROWS], ids=[row[0] for row in ROWS]
)
def test_rule(check: Callable[[], Decision], allowed: bool, rule_id: str) -> None:
    decision = check()
    assert (decision.allowed, decision.rule.id) == (allowed, rule_id)
    assert decision.rule is rules.RULES[rule_id]
    assert decision.message().startswith(rules.RULES[rule_id].cite() + ": ")


MESSAGES: list[tuple[str, Callable[[], Decision], str]] = [
    (
        "emergency asking for titles names the statute and circulation records",
        lambda: emergency("titles"),
        "LRCA-EMERGENCY-SCOPE (75 ILCS 70/1(a)(2)): circulation records may not be released "
        "on an emergency request",
    ),
    (
        "emergency missing one representation names the missing one",
        lambda: emergency("name", NO_DANGER),
        "LRCA-EMERGENCY-REPRESENTATIONS (75 ILCS 70/1(a)(2); Policy V-A, Appendix 9): missing "
        "officer representation: probable cause to believe there is an imminent danger of "
        "physical harm",
    ),
    (
        "a subpoena not signed by a judge is not a court order",
        lambda: court("name", order_of("subpoena", False, "sufficient", {"registration"})),
        "LRCA-COURT-ORDER (75 ILCS 70/1(a)(1)): a subpoena not signed by a judge is not a "
        "court order; nothing is released",
    ),
    (
        "court order beyond scope names the field",
        lambda: court("titles"),
        "LRCA-COURT-ORDER-SCOPE (75 ILCS 70/1(a)(1)): circulation records is outside the "
        "order's scope (scope item: record classes and fields)",
    ),
    (
        "court order naming another patron says which scope item",
        lambda: court("name", patron="p-someone-else-0000"),
        "LRCA-COURT-ORDER-SCOPE (75 ILCS 70/1(a)(1)): name: the order names other patrons, "
        "not this request's (scope item: patrons)",
    ),
    (
        "non-director deciding",
        lambda: check_decider("business_manager"),
        "POLICY-DIRECTOR-DECIDES (Policy V-A): only the Director decides a disclosure request, "
        "not the business manager",
    ),
    (
        "guardian asking for titles",
        lambda: guardian("titles"),
        "POLICY-MINOR-FINES (Policy V-A): titles may not be given to a parent or guardian; "
        "fines and fees amounts only, no titles or circulation information",
    ),
    (
        "public asking for circulation",
        lambda: public("circulation_history"),
        "FOIA-7.5B (5 ILCS 140/7.5(b)): circulation records are exempt from FOIA disclosure",
    ),
]


@pytest.mark.parametrize(
    ("check", "message"), [row[1:] for row in MESSAGES], ids=[row[0] for row in MESSAGES]
)
def test_refusal_message_is_exact(check: Callable[[], Decision], message: str) -> None:
    assert check().message() == message


def test_emergency_plan_releases_identifying_fields_only() -> None:
    requested = frozenset({"name", "address", "phone", "card_number", "titles", "holds"})
    plan = releasable_fields(RequestFacts("law_enforcement", requested, emergency=ALL_FOUR))
    assert plan.basis == "emergency"
    assert plan.allowed_fields == {"name", "address", "phone", "card_number"}
    assert set(plan.refused) == {"titles", "holds"}


def test_missing_representation_refuses_every_field_of_the_request() -> None:
    plan = releasable_fields(
        RequestFacts("law_enforcement", frozenset({"name", "phone"}), emergency=NO_DANGER)
    )
    assert plan.allowed_fields == frozenset()


CHICAGO = ZoneInfo("America/Chicago")


@pytest.mark.parametrize(
    ("received", "extended", "holidays", "due"),
    [
        # Thursday: Fri, Mon, Tue, Wed, Thu -> the following Thursday.
        (datetime(2026, 6, 4, 16, 30, tzinfo=CHICAGO), False, frozenset(), date(2026, 6, 11)),
        # Received on a Saturday: Mon..Fri of the next week.
        (datetime(2026, 6, 6, 9, 0, tzinfo=CHICAGO), False, frozenset(), date(2026, 6, 12)),
        # Extension adds 5 business days to the original due date.
        (datetime(2026, 6, 4, 16, 30, tzinfo=CHICAGO), True, frozenset(), date(2026, 6, 18)),
        # A holiday (Friday 3 July 2026, Independence Day observed) is not a business day.
        (
            datetime(2026, 7, 1, 10, 0, tzinfo=CHICAGO),
            False,
            frozenset({date(2026, 7, 3)}),
            date(2026, 7, 9),
        ),
        # Tuesday evening in Chicago is already Wednesday in UTC: the site's day counts.
        (datetime(2026, 12, 2, 3, 0, tzinfo=UTC), False, frozenset(), date(2026, 12, 8)),
        # Received the Friday before clocks go back (1 Nov 2026): due the next Friday.
        (datetime(2026, 10, 30, 12, 0, tzinfo=UTC), False, frozenset(), date(2026, 11, 6)),
    ],
    ids=[
        "a request received on Thursday is due the next Thursday across the weekend",
        "a request received on Saturday counts from Monday",
        "an extension adds five more business days",
        "a holiday is skipped",
        "a request received Tuesday evening site time counts from Tuesday, not Wednesday",
        "the clock runs across the end of daylight saving time",
    ],
)
def test_foia_deadline_is_the_end_of_a_site_day(
    received: datetime, extended: bool, holidays: frozenset[date], due: date
) -> None:
    deadline = foia_deadline(received, CHICAGO, extended, holidays)
    assert deadline.tzinfo is UTC
    local = deadline.astimezone(CHICAGO)
    assert local.date() == due
    assert (local.hour, local.minute, local.second) == (23, 59, 59)
    assert (deadline + timedelta(microseconds=1)).astimezone(CHICAGO).date() == due + timedelta(
        days=1
    )


def test_a_foia_request_received_tuesday_in_chicago_is_due_end_of_the_next_tuesday() -> None:
    received = datetime(2026, 12, 1, 10, 0, tzinfo=CHICAGO)
    deadline = foia_deadline(received, CHICAGO, extended=False)
    assert deadline == datetime(2026, 12, 9, 5, 59, 59, 999999, tzinfo=UTC)
    assert sitetime.show(deadline, CHICAGO) == "2026-12-08 23:59 CST"


def test_foia_deadline_refuses_a_naive_time() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        foia_deadline(datetime(2026, 6, 4), CHICAGO, False)


def test_suppress_small_cells_hides_a_one_and_shows_zero_and_five() -> None:
    counts = {"adult": 12, "teen": 1, "senior": 4, "child": 0, "staff": 5}
    assert suppress_small_cells(counts) == {
        "adult": 12,
        "teen": None,
        "senior": None,
        "child": 0,
        "staff": 5,
    }


def test_suppress_small_cells_threshold_is_configurable() -> None:
    assert suppress_small_cells({"a": 9, "b": 10}, threshold=10) == {"a": None, "b": 10}


def test_every_rule_cites_its_source_and_requirement() -> None:
    for rule_id, rule in rules.RULES.items():
        assert rule.id == rule_id
        assert rule.cite() == f"{rule_id} ({rule.source})"
        assert rule.requirements and all(req.startswith("R") for req in rule.requirements)
    assert rules.LRCA_EMERGENCY_SCOPE.cite() == "LRCA-EMERGENCY-SCOPE (75 ILCS 70/1(a)(2))"


FOIA_PATRON = RequestFacts("public", frozenset({"name", "address", "titles", "holds"}), foia=True)
NO_BASIS = RequestFacts("other", frozenset({"name", "phone", "titles"}))


@pytest.mark.parametrize(
    ("facts", "message"),
    [
        (
            FOIA_PATRON,
            "nothing in this request may be released: confidential patron records (address, "
            "name); FOIA-7.5B (5 ILCS 140/7.5(b)): circulation records are exempt from FOIA "
            "disclosure (holds, titles)",
        ),
        (
            NO_BASIS,
            "nothing in this request may be released: no court order or emergency request "
            "covers these fields (name, phone, titles)",
        ),
        (
            RequestFacts("other", frozenset({"phone"})),
            "nothing in this request may be released: no court order or emergency request "
            "covers phone",
        ),
    ],
    ids=[
        "two rules, each cited once, their fields listed together",
        "one rule for every field: one line",
        "one field: its own words",
    ],
)
def test_a_refusal_of_several_fields_names_each_rule_once(
    facts: RequestFacts, message: str
) -> None:
    plan = releasable_fields(facts)
    refused = [d for _, d in sorted(plan.refused.items())]
    rule, text = explain_refusals(refused, "nothing in this request may be released: ")
    assert rule == refused[0].rule
    assert text == message
    shown = f"{rule.cite()}: {text}"  # as NotPermitted prints it
    assert all(shown.count(d.rule.cite()) == 1 for d in refused), shown


def test_itemized_fines_told_to_a_guardian_come_with_the_words_never_the_title() -> None:
    allowed = guardian("itemized_fines")
    assert allowed.allowed and allowed.rule.id == "POLICY-MINOR-FINES"
    assert "never the title" in allowed.reason
    assert guardian("fines_total").reason == "fines total is a fines/fees amount"
    assert not guardian("titles").allowed


@pytest.mark.parametrize(
    "location",
    [
        "R\u0435stroom",  # a Cyrillic е
        "Men\u2019s room",  # a curly apostrophe
        "Urinals",
        "Loo",
        "Powder room",
        "Ladies",
        "Gents",
        "Women's",
        "Family changing station",
        "R.e.s.t.r.o.o.m",
        "Rest\u200broom",  # a zero-width space
    ],
)
def test_a_private_place_spelled_another_way_is_still_named(location: str) -> None:
    """Red-team finding: look-alike letters, curly quotes, spelled-out letters and other
    words for the same rooms got a camera past the location check (R12)."""
    decision = check_camera_placement("public", location)
    assert not decision.allowed and decision.rule.id == "CAMERA-PRIVACY-ZONE", location


@pytest.mark.parametrize(
    "location",
    [
        "Mother's room, 2nd floor",
        "Wellness room",
        "Breastfeeding room",
        "Pumping room",
        "Water closet by the stairs",
        "Latrine",
        "Privy",
        "Dressing area",
        # policy red team, session 16
        "Director's study",
        "First aid room",
        "Quiet study room (private study carrel)",
        "Nurse's office",
        "Prayer room",
    ],
)
def test_a_lactation_room_or_an_old_word_for_a_toilet_is_named_private(location: str) -> None:
    """Red-team (redteam9): a camera registered in the "Mother's room" (the usual sign on
    a library's lactation room) or the "Water closet" passed the location check (R12)."""
    decision = check_camera_placement("public", location)
    assert not decision.allowed and decision.rule.id == "CAMERA-PRIVACY-ZONE", location


@pytest.mark.parametrize(
    "location",
    ["Main lobby", "Circulation desk", "Children's room", "Meeting room B", "Stacks east"],
)
def test_ordinary_public_places_are_not_named_private(location: str) -> None:
    assert check_camera_placement("public", location).allowed


@pytest.mark.parametrize("reason", [".", "-", "\u200b", "x", " \u200b . "])
def test_a_viewing_reason_is_words_not_a_mark(reason: str) -> None:
    """Red-team finding: ".", "-" and a zero-width space were recorded as the reason for
    viewing archived footage; the policy's log keeps a reason (Policy V-B)."""
    decision = check_reason(reason)
    assert not decision.allowed and decision.rule.id == "FOOTAGE-VIEW-REASON"
    assert check_reason("patron reported a stolen bicycle").allowed


@pytest.mark.parametrize(
    "case",
    ["-", ".", "n/a", "none", "x", "pending", "to follow", "TBD",
     # red team (session 13): a digit made these "case numbers"
     "no case yet 1", "none 1", "n/a 0", "CLOSED 2024-17", "N/A 12", "no 44"],
)  # fmt: skip
def test_footage_for_law_enforcement_needs_a_case_number_that_names_a_case(case: str) -> None:
    """Red-team findings: footage was exported to law enforcement with case number "-",
    and then "pending"."""
    decision = check_law_enforcement_footage(case)
    assert not decision.allowed and decision.rule.id == "FOOTAGE-LE-ACTIVE-INVESTIGATION"
    assert check_law_enforcement_footage("MPD-26-1187").allowed


@pytest.mark.parametrize(
    "case", ["MPD-26-1187", "Case No. 2026-44", "No: 44", "2026-CF-9", "INV 2026/44", "CNA-2026-1"]
)
def test_a_case_number_written_with_no_or_letters_that_are_not_words_names_a_case(
    case: str,
) -> None:
    assert check_law_enforcement_footage(case).allowed


@pytest.mark.parametrize(
    "reason",
    ["no reason", "none", "xxx", "AAA", "N/A", "a\u200bb\u200bc",
     # red team (session 18): placeholders strung together, fillers, numbers, key runs
     "no reason at all", "n/a n/a", "idk", "123", "asdfgh", "lol", "x y z", "ok ok",
     "just looking", "bored", "curious", "checking"],
)  # fmt: skip
def test_a_placeholder_is_not_a_viewing_reason(reason: str) -> None:
    assert not check_reason(reason).allowed


@pytest.mark.parametrize(
    "reason",
    ["theft", "fight", "safety", "lost wallet", "suit", "IR-2026-114", "check the lobby door",
     "police asked for the 3 pm clip", "patron fell near the entrance"],
)  # fmt: skip
def test_a_short_reason_in_words_is_a_reason(reason: str) -> None:
    assert check_reason(reason).allowed


@pytest.mark.parametrize(
    "location", ["Director's suite", "Business manager's room", "Lunchroom", "Baby care room"]
)
def test_offices_and_rooms_by_other_names_are_private_places(location: str) -> None:
    """Red team (session 13): these were registered as public cameras."""
    assert not check_camera_placement("public", location).allowed
    assert check_camera_placement("public", location, "it is the public reading area now").allowed
    assert not check_camera_placement("public", location, "x").allowed  # not a reason


NARROWED = CourtOrderFacts(
    "order", True, "sufficient", scope_record_classes=frozenset({"registration", "circulation"}),
    scope_fields=frozenset({"name"}), scope_patrons=frozenset({PATRON}),
)  # fmt: skip


@pytest.mark.parametrize(
    ("field", "allowed"),
    [
        ("name", True),  # named
        ("address", False),  # its class is named, but so is a field of it: that field only
        ("phone", False),
        ("card_number", False),
        ("titles", True),  # circulation named and no field of it: the whole class
        ("holds", True),
        ("fines_total", False),  # neither its class nor itself
    ],
)
def test_a_field_named_with_its_record_class_narrows_that_class(field: str, allowed: bool) -> None:
    """Red-team finding 6: `--scope-records registration --scope-fields name` released the
    address and phone too (the scope was the union of classes and fields)."""
    decision = court(field, NARROWED)
    assert decision.allowed is allowed
    if not allowed:
        assert decision.rule.id == "LRCA-COURT-ORDER-SCOPE"
        assert "scope item: record classes and fields" in decision.reason


def test_a_field_of_a_class_the_order_does_not_name_is_covered_on_its_own() -> None:
    order = CourtOrderFacts(
        "order", True, "sufficient", scope_record_classes=frozenset({"circulation"}),
        scope_fields=frozenset({"name"}), scope_patrons=frozenset({PATRON}),
    )  # fmt: skip
    assert court("name", order).allowed and court("titles", order).allowed
    assert not court("address", order).allowed


def test_an_officers_request_without_a_form_is_refused_in_one_line_per_rule() -> None:
    """Red team (session 13): the decision's refusal repeated the reason once per field."""
    facts = RequestFacts(
        "law_enforcement", frozenset({"name", "address", "card_number", "titles", "holds"})
    )
    plan = releasable_fields(facts)
    refused = [d for _, d in sorted(plan.refused.items())]
    _rule, message = explain_refusals(refused, "nothing in this request may be released: ")
    assert message.count("Appendix 9") == 1 and message.count("court order, never") == 1
    assert "(address, card number, name)" in message
    assert "never on an officer's form (holds, titles)" in message


@pytest.mark.parametrize(
    "how", ["not confirmed - she forgot her ID", "unverified", "none", "N/A", "No ID",
            "could not verify", "she did not have it",
            # policy red team, session 16: a guardian's own word passed
            "took her word for it", "she said she is the mother",
            "caller on the phone said she is mom", "self-reported", "verbally",
            # red team, session 17: lists of phrases let other words through
            "ID not presented", "without ID", "ID requested but not provided", "none shown",
            "all in order", "confirmed", "ID left at home", "ID: N/A", "ID wasnt shown",
            "Will bring birth certificate tomorrow", "Photo ID unavailable", "lost her ID",
            # a document's words, but not first: the note is not read for one
            "no birth certificate", "she has a birth certificate at home",
            "birth certificates"],
)  # fmt: skip
def test_a_confirmation_that_does_not_name_a_document_first_confirms_nothing(how: str) -> None:
    """Red team (session 13): "not confirmed - she forgot her ID" was taken as confirmed;
    (session 17) free text judged by lists of words let "ID left at home" through and
    refused "Birth cert shown": the confirmation names the document seen first, from a
    closed list, and staff attest it under their own act."""
    decision = guardian("fines_total", how=how)
    assert not decision.allowed and decision.rule.id == "POLICY-MINOR-FINES"
    assert "names none of the documents that confirm it" in decision.reason


@pytest.mark.parametrize("document", sorted(GUARDIANSHIP_DOCUMENTS))
@pytest.mark.parametrize("note", ["", "the mother's name matches the card application",
                                  "no photocopy kept", "nothing unusual"])  # fmt: skip
def test_a_confirmation_that_names_the_document_seen_confirms(document: str, note: str) -> None:
    how = guardianship_text(document, note)
    assert guardian("fines_total", how=how).allowed
    assert guardian("fines_total", how=how.upper()).allowed  # as typed, in any case
    assert guardianship_document(how) == GUARDIANSHIP_DOCUMENTS[document]
