"""The catalogue of rules Custodes enforces, as data.

Every refusal (and every permission) names one of these rules: its id, the statute or
policy section it rests on, and the requirement items (R1..R29) it implements. Ids
are stable: they are written into recorded events and reports, so never rename one.

Sources are as far as they could be checked; confirm with counsel (not legal advice).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    id: str
    source: str
    summary: str
    requirements: tuple[str, ...] = ()

    def cite(self) -> str:
        """``LRCA-EMERGENCY-SCOPE (75 ILCS 70/1(a)(2))``."""
        return f"{self.id} ({self.source})"


# --- Patron records (Policy V-A; Library Records Confidentiality Act) -------------------
LRCA_CONFIDENTIAL = Rule(
    "LRCA-CONFIDENTIAL",
    "75 ILCS 70/1(a)",
    "Registration and circulation records are confidential; Policy V-A protects all "
    "patron records alike.",
    ("R1",),
)
POLICY_DENY_BY_DEFAULT = Rule(
    "POLICY-DENY-BY-DEFAULT",
    "Policy V-A; 75 ILCS 70/1(a)",
    "No patron record is released without a court order, a qualifying emergency request "
    "or an authorized staff duty.",
    ("R2",),
)
POLICY_DIRECTOR_DECIDES = Rule(
    "POLICY-DIRECTOR-DECIDES",
    "Policy V-A",
    "Requests for confidential information go to the Director; only the Director decides.",
    ("R3",),
)
POLICY_MINOR_FINES = Rule(
    "POLICY-MINOR-FINES",
    "Policy V-A",
    "A parent or legal guardian may be told a minor's fines and fees amounts only; no "
    "titles, no circulation information; guardianship confirmation is recorded.",
    ("R4",),
)
LRCA_STATISTICS = Rule(
    "LRCA-STATISTICS",
    "75 ILCS 70/1(b)",
    "Statistical reports may be published only when no individual can be identified; "
    "small cells are suppressed.",
    ("R5",),
)
LRCA_COURT_ORDER = Rule(
    "LRCA-COURT-ORDER",
    "75 ILCS 70/1(a)(1)",
    "Records may be released under a court order; a document not signed by a judge "
    "(e.g. an attorney-issued subpoena) is not a court order, nor is a subpoena a judge "
    "signed.",
    ("R6",),
)
LRCA_COURT_ORDER_SCOPE = Rule(
    "LRCA-COURT-ORDER-SCOPE",
    "75 ILCS 70/1(a)(1)",
    "Only what the order's scope covers is released: the patrons it names, its record "
    "classes and fields (a class named with some of its fields covers those fields only), "
    "its dates, less what it expressly excludes; each release is checked patron by patron "
    "and field by field, and the released inventory is logged.",
    ("R7",),
)
LRCA_COUNSEL_REVIEW = Rule(
    "LRCA-COUNSEL-REVIEW",
    "75 ILCS 70/1(a)(1); Policy V-A",
    "Counsel's review of an order is recorded when made; it gates release only where the "
    "adopted policy says so (the Director is the policy's gate).",
    ("R6",),
)
LRCA_EMERGENCY_REPRESENTATIONS = Rule(
    "LRCA-EMERGENCY-REPRESENTATIONS",
    "75 ILCS 70/1(a)(2); Policy V-A, Appendix 9",
    "A sworn officer must make all four representations, each attested separately; they "
    "hold for the emergency only: nothing is released on them more than 96 hours after "
    "the request was received.",
    ("R8",),
)
LRCA_EMERGENCY_SCOPE = Rule(
    "LRCA-EMERGENCY-SCOPE",
    "75 ILCS 70/1(a)(2)",
    "On an emergency request only identifying fields (name, address, phone, card number) "
    "are released; nothing showing materials borrowed, resources reviewed or services used.",
    ("R9",),
)
LRCA_EMERGENCY_FORM = Rule(
    "LRCA-EMERGENCY-FORM",
    "75 ILCS 70/1(a)(2); Policy V-A, Appendix 9",
    "The officer completes and signs the Officer's Request for Confidential Information "
    "(Appendix 9) and it is submitted to the Director before anything is decided; the "
    "representations and the officer's identity are those on the signed form.",
    ("R10",),
)
LRCA_EMERGENCY_RECIPIENT = Rule(
    "LRCA-EMERGENCY-RECIPIENT",
    "75 ILCS 70/1(a)(2); Policy V-A, Appendix 9",
    "What is released on an emergency request goes only to the officer of the signed form "
    "(the same badge), in person.",
    ("R10",),
)
LRCA_EMERGENCY_ACK = Rule(
    "LRCA-EMERGENCY-ACK",
    "75 ILCS 70/1(a)(2); Policy V-A, Appendix 9",
    "The officer's signed receipt of what was released is recorded.",
    ("R10",),
)
LRCA_EMERGENCY_FOLLOWUP = Rule(
    "LRCA-EMERGENCY-FOLLOWUP",
    "75 ILCS 70/1(a)(2)",
    "After an emergency release the Director seeks judicial review or links a later "
    "court order; open until resolved.",
    ("R11",),
)

# --- FOIA (5 ILCS 140) -------------------------------------------------------------------
FOIA_PUBLIC_RECORD = Rule(
    "FOIA-PUBLIC-RECORD",
    "5 ILCS 140/1.2",
    "Public records are presumed open to inspection unless an exemption applies.",
    ("R20",),
)
FOIA_7_5B = Rule(
    "FOIA-7.5B",
    "5 ILCS 140/7.5(b)",
    "Library circulation and registration records are exempt from FOIA disclosure.",
    ("R20",),
)
FOIA_7_1A = Rule(
    "FOIA-7-1A",
    "5 ILCS 140/7(1)(a); 75 ILCS 70/1",
    "Registration and other patron records are exempt as prohibited from disclosure by "
    "State law (Library Records Confidentiality Act).",
    ("R20",),
)
FOIA_7_1C = Rule(
    "FOIA-7-1C",
    "5 ILCS 140/7(1)(c)",
    "Footage may be withheld, or released with identifiable people redacted, as an "
    "unwarranted invasion of personal privacy.",
    ("R20",),
)
FOIA_CLOCK = Rule(
    "FOIA-CLOCK",
    "5 ILCS 140/3(d),(e)",
    "Respond within 5 business days after receipt, extendable once by 5 business days.",
    ("R20",),
)
FOIA_PRESERVE = Rule(
    "FOIA-PRESERVE",
    "5 ILCS 140/3; 50 ILCS 205",
    "Responsive footage is held from purge while a FOIA request is pending.",
    ("R14", "R20"),
)

# --- Cameras and footage (Policy V-B) ----------------------------------------------------
CAMERA_PRIVACY_ZONE = Rule(
    "CAMERA-PRIVACY-ZONE",
    "720 ILCS 5/26-4; Policy V-B",
    "No camera where people expect privacy: restrooms, locker or changing rooms, private "
    "offices, break rooms. The location's words count as well as its declared zone: a "
    "location naming such a place is refused unless the Director records why it is not one.",
    ("R12",),
)
CAMERA_NO_AUDIO = Rule(
    "CAMERA-NO-AUDIO",
    "720 ILCS 5/14-2; Policy V-B",
    "Cameras record no audio; footage carrying an audio stream is refused.",
    ("R12",),
)
CAMERA_SIGNAGE = Rule(
    "CAMERA-SIGNAGE",
    "Policy V-B",
    "Signs at all entrances say cameras are in use; signage is attested per camera.",
    ("R12",),
)
FOOTAGE_RETENTION = Rule(
    "FOOTAGE-RETENTION",
    "Policy V-B; 50 ILCS 205",
    "Footage is kept the retention days of the policy version in force when its recording "
    "began (30 in the seed library's policy; only an adopted version changes them), from "
    "its recording end, longer when flagged or held, then purged under the approved "
    "retention schedule; each purge records the retention it applied. A hold placed by "
    "anyone but the Director names the incident, case, order or request it keeps footage "
    "for.",
    ("R13", "R15"),
)
FOOTAGE_FOUND_MISSING = Rule(
    "FOOTAGE-FOUND-MISSING",
    "Policy V-B; 50 ILCS 205",
    "Footage is destroyed only by the retention sweep under the approved schedule, which "
    "records what it destroyed; a segment's file or key found gone without a purge in "
    "progress was destroyed outside it and is recorded and reported, never as a purge.",
    ("R15",),
)
FOOTAGE_PAST_DEADLINE = Rule(
    "FOOTAGE-PAST-DEADLINE",
    "Policy V-B; 50 ILCS 205",
    "Footage past its retention deadline is due for destruction: it is not viewed, copied "
    "or exported unless an active hold covers it, held by anyone but the Director, or "
    "ingested.",
    ("R13",),
)
FOOTAGE_FLAG_BOUND = Rule(
    "FOOTAGE-FLAG-BOUND",
    "Policy V-B",
    "A flag for suspected misbehavior names the incident and ends within the policy "
    "version's flag bound (90 days in the seed library's policy); only the Director "
    "extends it, with a reason, by at most that bound at a time.",
    ("R13",),
)
FOOTAGE_HOLD_BLOCKS_PURGE = Rule(
    "FOOTAGE-HOLD-BLOCKS-PURGE",
    "Policy V-B; 50 ILCS 205",
    "Any active hold (legal, law-enforcement preservation, investigation, FOIA) blocks purge.",
    ("R14",),
)
FOOTAGE_HOLD_RELEASE_DIRECTOR = Rule(
    "FOOTAGE-HOLD-RELEASE-DIRECTOR",
    "Policy V-A, V-B",
    "Only the Director releases a hold, with a stated reason; a hold anyone else places "
    "comes before her for review within the policy version's flag bound (90 days in the seed "
    "library's policy), and only she sets a later review date.",
    ("R14",),
)
FOOTAGE_ARCHIVE_ACCESS = Rule(
    "FOOTAGE-ARCHIVE-ACCESS",
    "Policy V-B",
    "Every recorded segment is archived footage (real-time images are the live view on the "
    "camera system): only the roles the policy version names view, copy, export or release "
    "it (the Director and the Business Manager in the seed library's policy; never "
    "anyone else).",
    ("R16",),
)
FOOTAGE_VIEW_REASON = Rule(
    "FOOTAGE-VIEW-REASON",
    "Policy V-B",
    "Every viewing of archived footage records name, date, time, reason and whether it was "
    "remote; an attempt without a reason is refused and recorded.",
    ("R16",),
)
FOOTAGE_NO_STAFF_MONITORING = Rule(
    "FOOTAGE-NO-STAFF-MONITORING",
    "Policy V-B",
    "Cameras are not used to monitor staff performance or to evaluate staff: a purpose that "
    "names a staff member, speaks of shifts, breaks, lateness, phones or performance, or "
    "asks whether a member of staff was at their post, on time or did their work as told, is "
    "refused unless the Director records why it is not staff monitoring.",
    ("R16a",),
)
FOOTAGE_VIEWING_COPY = Rule(
    "FOOTAGE-VIEWING-COPY",
    "Policy V-B; 50 ILCS 205",
    "A decrypted viewing copy is tracked and destroyed at the end of its viewing session "
    "and at the latest with its segment's purge; any other copy found is a stray, removed "
    "and reported. A tracked copy that is not there to destroy (moved or deleted outside "
    "Custodes) is recorded as not found, never as destroyed, and named in the compliance "
    "report.",
    ("R16b",),
)
FOOTAGE_LE_ACTIVE_INVESTIGATION = Rule(
    "FOOTAGE-LE-ACTIVE-INVESTIGATION",
    "Policy V-B",
    "Recordings are shared with law enforcement only in support of an active "
    "investigation (agency, officer, badge, case number recorded).",
    ("R17",),
)

# --- Staff --------------------------------------------------------------------------------
STAFF_ACTIVE = Rule(
    "STAFF-ACTIVE",
    "Policy V-A, V-B",
    "Every action is attributed to a registered, active staff member.",
    ("R23",),
)
STAFF_ROLE = Rule(
    "STAFF-ROLE",
    "Policy V-A, V-B",
    "Staff roles are director, business_manager, staff, counsel.",
    ("R23",),
)

# --- Who and when (identity, time, reads) --------------------------------------------------
STAFF_AUTHENTICATED = Rule(
    "STAFF-AUTHENTICATED",
    "Policy V-A, V-B (attribution)",
    "A name proves nothing: every act and every read of confidential details is by a member "
    "who unlocked their own signing key with their passphrase, and every act carries that "
    "key's signature.",
    ("R25", "R27"),
)
STAFF_LOCKOUT = Rule(
    "STAFF-LOCKOUT",
    "Policy V-A, V-B (attribution)",
    "After too many wrong passphrases or one-time codes in a short time a member is locked "
    "out until the Director unlocks them (the Director's own lockout lapses after the "
    "window); each failure is recorded.",
    ("R25",),
)
STAFF_KEY_ENROLMENT = Rule(
    "STAFF-KEY-ENROLMENT",
    "Policy V-A, V-B (attribution)",
    "A member's key is enrolled, reset and revoked only by the Director, and each member "
    "holds one key at a time.",
    ("R25",),
)
STAFF_NAMES = Rule(
    "STAFF-NAMES",
    "Policy V-A, V-B (attribution)",
    "A staff name means one person: names are normalized, may not mix scripts in a word and "
    "may not look like another member's name.",
    ("R25",),
)
ONE_DIRECTOR = Rule(
    "ONE-DIRECTOR",
    'Policy V-A ("directed to the Director")',
    "The policy names one Director: at most one active Director at a time; an acting "
    "Director only through a recorded delegation (who, from, until, on whose authority), "
    "cited by each act done under it, who acts for the Director but does not change the "
    "staff, their keys, the sign-in settings or the witness policy.",
    ("R3",),
)
SERVICE_SCOPE = Rule(
    "SERVICE-SCOPE",
    "Policy V-B; 50 ILCS 205 (scheduled disposal)",
    "The unattended service identity records the retention sweep and its own verifications "
    "of the chain, nothing else.",
    ("R25",),
)
CLAIMED_TIMES = Rule(
    "CLAIMED-TIMES",
    "Policy V-B; 75 ILCS 70/1(a)(1)",
    "Times a person states (when footage was recorded, when an order was issued or served) "
    "are claims beside the recorded time: not in the future, footage not before its camera "
    "was registered, an order not served before it was issued.",
    ("R26",),
)
RECORDED_TIME = Rule(
    "RECORDED-TIME",
    "Policy V-B (a log with name, date, time and reason for viewing)",
    "An act's time is the clock when it is recorded, never more than 2 minutes before the "
    "act preceding it. When a clock set ahead has recorded acts that would block every "
    "later one, only the Director (not an acting Director) may set their time aside, with "
    "a reason, in an act of its own that verify lists; a purge among them is reported as "
    "footage that may have been destroyed early. The retention sweep destroys nothing by "
    "a clock the ledger would not record by, or that the database server's clock "
    "contradicts.",
    ("R26",),
)
READ_CONFIDENTIAL = Rule(
    "READ-CONFIDENTIAL",
    "75 ILCS 70/1(a); Policy V-A",
    "Reading confidential details (a request's record, a patron's details, the Appendix 9 "
    "form, a history with details) needs a member whose role may see them; each read is "
    "recorded.",
    ("R27",),
)

# --- The ledger itself ----------------------------------------------------------------
PATRON_ERASURE = Rule(
    "PATRON-ERASURE",
    "Policy V-A",
    "Only the Director erases a patron's details (the key is destroyed; the record of the "
    "erasure stays).",
    ("R22",),
)

# --- The policy in force (R28) ------------------------------------------------------
POLICY_ADOPTION = Rule(
    "POLICY-ADOPTION",
    "Policy (board approval); 50 ILCS 205",
    "The policy in force changes only by adopting a new version: the Director records the "
    "board-approved text and parameters with the approval reference and an effective date "
    "that is not in the past; every decision cites the version in force.",
    ("R28",),
)
POLICY_PARAMETERS = Rule(
    "POLICY-PARAMETERS",
    "Policy (board approval)",
    "A policy version's parameters file fits the schema (docs/POLICY.md): valid TOML, "
    "every key known and present, each value of its type and within its bounds; a file "
    "that does not is refused, naming the key, and nothing is adopted.",
    ("R28",),
)

# The rule a decision applied, for the kinds of event that do not name it themselves
# (``LedgerBase._cite_policy`` stamps it beside the policy version, R28).
DECISION_RULES: dict[str, str] = {
    "ledger.footage:Camera.CameraRegistered": CAMERA_PRIVACY_ZONE.id,
    "ledger.footage:Segment.FootageCaptured": FOOTAGE_RETENTION.id,
    "ledger.footage:Segment.FootageFlagged": FOOTAGE_RETENTION.id,
    "ledger.footage:Segment.FlagCleared": FOOTAGE_RETENTION.id,
    "ledger.footage:Segment.FootageViewed": FOOTAGE_ARCHIVE_ACCESS.id,
    "ledger.footage:Segment.HoldApplied": FOOTAGE_HOLD_BLOCKS_PURGE.id,
    "ledger.footage:Segment.HoldLifted": FOOTAGE_HOLD_RELEASE_DIRECTOR.id,
    "ledger.footage:FootageHold.HoldPlaced": FOOTAGE_HOLD_BLOCKS_PURGE.id,
    "ledger.footage:FootageHold.HoldReleased": FOOTAGE_HOLD_RELEASE_DIRECTOR.id,
    "ledger.exports:EvidenceExport.EvidenceExported": FOOTAGE_ARCHIVE_ACCESS.id,
    "ledger.disclosure:Request.DisclosureDecided": POLICY_DIRECTOR_DECIDES.id,
    "ledger.disclosure:Request.DisclosureReleased": POLICY_DENY_BY_DEFAULT.id,
    "ledger.disclosure:Request.FoiaClockStarted": FOIA_CLOCK.id,
    "ledger.disclosure:Request.FoiaExtensionTaken": FOIA_CLOCK.id,
    "ledger.disclosure:Request.PreservationHoldLinked": FOIA_PRESERVE.id,
    "ledger.disclosure:Request.FollowUpOpened": LRCA_EMERGENCY_FOLLOWUP.id,
    "ledger.patrons:Patron.PatronForgotten": PATRON_ERASURE.id,
}

WITNESS_POLICY = Rule(
    "WITNESS-POLICY",
    "Policy V-B (records kept intact)",
    "Only the Director sets the witness policy: which outside witnesses' keys cosign the "
    "ledger's checkpoints and how many are needed. Each version is recorded; checkpoints "
    "and checks against a kept checkpoint use the one in force.",
    ("R21",),
)

# The requirement ids the rules cite, in our own words (docs/RULES.md is generated from
# these two tables by ``custodes rules --markdown``).
REQUIREMENTS: dict[str, str] = {
    "R1": "Every patron-related record is classified (registration, circulation, fines and "
    "fees, footage, other patron records, not a patron record).",
    "R2": "Deny by default: a confidential record leaves only under a court order, a "
    "qualifying emergency request or an authorized staff duty.",
    "R3": "Every request goes to the Director, and only the Director decides; one Director "
    "at a time, an acting Director only through a recorded delegation.",
    "R4": "A parent or guardian may learn a minor's fines and fees, never what the minor "
    "borrowed; how guardianship was confirmed is recorded.",
    "R5": "Published statistics identify no one: small cells are suppressed.",
    "R6": "A court order is recorded with its court, judge, case, dates, server and document "
    "hash; only a judge-signed order or warrant counts.",
    "R7": "An order's scope is structured (patrons, record classes, dates, exclusions) and "
    "every release is checked against it, patron by patron and field by field.",
    "R8": "An emergency request needs all four of the officer's representations.",
    "R9": "On an emergency request only identifying fields may be released.",
    "R10": "The officer's signed Appendix 9 form is recorded before the Director decides; "
    "release goes only to that officer, in person.",
    "R11": "An emergency release opens a follow-up (judicial review or a later court order).",
    "R12": "No camera where people expect privacy; no audio; signage at the entrances.",
    "R13": "Footage is kept for the retention days of the adopted policy version in force "
    "when its recording began (30 in the seed library's policy; only adopting a new "
    "version changes them, never a setting), longer when flagged for a named incident up "
    "to a bounded end, and then purged; footage past its deadline is not viewed or "
    "exported unless held.",
    "R14": "Holds (legal, law enforcement, investigation, FOIA) block purges; only the "
    "Director releases one, with a reason.",
    "R15": "A purge records what was destroyed, how, by whom and under which schedule.",
    "R16": "Recorded footage is archived footage: only the Director and the Business Manager "
    "view, copy or export it, and every viewing is logged with name, date, time and reason.",
    "R16a": "Cameras are not used to monitor or evaluate staff; purposes come from a list.",
    "R16b": "Viewing leaves no plaintext copy of footage behind: each copy is tracked and "
    "destroyed at the end of its session, at the latest with the purge.",
    "R17": "Law enforcement receives footage only for an active investigation.",
    "R18": "Every export keeps its chain of custody (hashes, redaction, hand-offs).",
    "R19": "No facial recognition: faces are detected only to blur bystanders.",
    "R20": "A FOIA request starts its clock and holds the responsive footage.",
    "R21": "The ledger is append-only and any change to it is found and located.",
    "R22": "Patrons are pseudonymous in the ledger and their details can be erased.",
    "R23": "Every act is attributed, and every refusal is recorded with its rule.",
    "R24": "Times are kept in UTC and shown in the library's time zone.",
    "R25": "Each member signs in with a passphrase and signs every act with their own key.",
    "R26": "An act's time is the system clock when it is recorded; times people state are "
    "claims, bounded and shown as such.",
    "R27": "Reading confidential details needs a role that may, and is recorded.",
    "R28": "The policy in force is an adopted, versioned record every decision cites.",
    "R29": "What a report, listing or the sweep read from the read models is checked "
    "against the chain first; a mismatch is named (exit 3), never printed or signed.",
}

RULES: dict[str, Rule] = {
    r.id: r
    for r in (
        LRCA_CONFIDENTIAL,
        POLICY_DENY_BY_DEFAULT,
        POLICY_DIRECTOR_DECIDES,
        POLICY_MINOR_FINES,
        LRCA_STATISTICS,
        LRCA_COURT_ORDER,
        LRCA_COURT_ORDER_SCOPE,
        LRCA_COUNSEL_REVIEW,
        LRCA_EMERGENCY_REPRESENTATIONS,
        LRCA_EMERGENCY_SCOPE,
        LRCA_EMERGENCY_FORM,
        LRCA_EMERGENCY_RECIPIENT,
        LRCA_EMERGENCY_ACK,
        LRCA_EMERGENCY_FOLLOWUP,
        FOIA_PUBLIC_RECORD,
        FOIA_7_5B,
        FOIA_7_1A,
        FOIA_7_1C,
        FOIA_CLOCK,
        FOIA_PRESERVE,
        CAMERA_PRIVACY_ZONE,
        CAMERA_NO_AUDIO,
        CAMERA_SIGNAGE,
        FOOTAGE_RETENTION,
        FOOTAGE_FOUND_MISSING,
        FOOTAGE_PAST_DEADLINE,
        FOOTAGE_FLAG_BOUND,
        FOOTAGE_HOLD_BLOCKS_PURGE,
        FOOTAGE_HOLD_RELEASE_DIRECTOR,
        FOOTAGE_ARCHIVE_ACCESS,
        FOOTAGE_VIEW_REASON,
        FOOTAGE_NO_STAFF_MONITORING,
        FOOTAGE_VIEWING_COPY,
        FOOTAGE_LE_ACTIVE_INVESTIGATION,
        STAFF_ACTIVE,
        STAFF_ROLE,
        STAFF_AUTHENTICATED,
        STAFF_LOCKOUT,
        STAFF_KEY_ENROLMENT,
        STAFF_NAMES,
        ONE_DIRECTOR,
        SERVICE_SCOPE,
        CLAIMED_TIMES,
        RECORDED_TIME,
        READ_CONFIDENTIAL,
        PATRON_ERASURE,
        POLICY_ADOPTION,
        POLICY_PARAMETERS,
        WITNESS_POLICY,
    )
}
