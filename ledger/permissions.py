"""Which role may sign an act that records which kind of event (R3, R16, R23, R25).

Data, used twice: ``verify`` checks every signed act against it (an act whose signer's
role could not have recorded one of its events is damage of kind "not permitted"), and
``tests/unit/test_permissions.py`` checks that every event class of the ledger is listed,
so a new kind of event cannot slip through unchecked.

The commands check far more (the policy engine decides each request field by field);
this table is the coarse rule a verifier can apply years later from the signed acts and
the event kinds alone, without the events key. ``director`` includes an acting Director
within a recorded delegation (R3). ``service`` is the unattended sweep's identity: it
records the sweep's purges, the attempts of people who could not authenticate and
unattended verifications of the chain, nothing else.
"""

from __future__ import annotations

from types import MappingProxyType

STAFF_ROLES = ("director", "business_manager", "staff", "counsel")
SERVICE = "service"
ALL_ROLES = (*STAFF_ROLES, SERVICE)

_ANYONE = STAFF_ROLES
_DIRECTOR = ("director",)
_ARCHIVE = ("director", "business_manager")  # archived footage (R16)
REPORT_ROLES = ("director", "business_manager", "counsel")  # who reads and issues reports

_TABLE: dict[str, tuple[str, ...]] = {
    # refusals are recorded for whoever attempted the act (R23)
    "ledger.refusals:Refusal.AccessDenied": (*STAFF_ROLES, SERVICE),
    "ledger.reads:Reading.ConfidentialRecordRead": _ANYONE,
    # the site and the staff directory (R3, R25)
    "ledger.site:Site.SiteInitialised": _DIRECTOR,
    "ledger.site:Site.SiteSettingsChanged": _DIRECTOR,
    "ledger.site:Site.SecuritySettingsChanged": _DIRECTOR,
    "ledger.site:Site.PolicyAdopted": _DIRECTOR,  # the policy in force (R28)
    "ledger.site:Site.WitnessPolicySet": _DIRECTOR,
    "ledger.site:Site.ClockCorrected": _DIRECTOR,  # never an acting Director (act_check)
    "ledger.staff:StaffMember.StaffMemberAdded": _DIRECTOR,
    "ledger.staff:StaffMember.StaffMemberDeactivated": _DIRECTOR,
    "ledger.staff:StaffMember.KeyEnrolled": _DIRECTOR,
    "ledger.staff:StaffMember.KeyRevoked": _DIRECTOR,
    "ledger.staff:StaffMember.PassphraseChanged": _ANYONE,
    "ledger.staff:StaffMember.SessionsEnded": _ANYONE,  # the member's own (act_check)
    # with the member's own key, never a session's (act_check)
    "ledger.staff:StaffMember.SessionKeyVouched": _ANYONE,
    "ledger.staff:StaffMember.AuthenticationFailed": (SERVICE,),
    "ledger.staff:StaffMember.LockedOut": (SERVICE,),
    "ledger.staff:StaffMember.LockoutCleared": _DIRECTOR,
    "ledger.staff:StaffMember.DirectorDelegated": _DIRECTOR,
    "ledger.staff:StaffMember.DelegationEnded": _DIRECTOR,
    # disclosure requests (R2-R11, R20)
    "ledger.disclosure:Request.RequestOpened": _ANYONE,
    "ledger.disclosure:Request.RequestRoutedToDirector": _ANYONE,
    "ledger.disclosure:Request.FoiaClockStarted": _ANYONE,
    "ledger.disclosure:Request.PreservationHoldLinked": _ANYONE,
    "ledger.disclosure:Request.CourtOrderRecorded": _ANYONE,
    "ledger.disclosure:Request.CounselReviewRecorded": ("counsel",),
    "ledger.disclosure:Request.EmergencyRequestRecorded": _ANYONE,
    "ledger.disclosure:Request.FoiaExtensionTaken": _DIRECTOR,
    "ledger.disclosure:Request.DisclosureDecided": _DIRECTOR,
    "ledger.disclosure:Request.DisclosureReleased": _ANYONE,
    "ledger.disclosure:Request.AcknowledgementRecorded": _ANYONE,
    "ledger.disclosure:Request.FollowUpOpened": _ANYONE,
    "ledger.disclosure:Request.FollowUpResolved": _DIRECTOR,
    # a release's verifiable record: the Director, the Business Manager or whoever
    # recorded the release (any role), so the coarse table allows every staff role
    "ledger.disclosure_records:DisclosureRecord.RecordIssued": _ANYONE,
    "ledger.patrons:Patron.PatronRecorded": _ANYONE,
    "ledger.patrons:Patron.PatronDetailsRecorded": _ANYONE,
    "ledger.patrons:Patron.PatronForgotten": _DIRECTOR,
    # cameras and footage (R12-R19)
    "ledger.footage:Camera.CameraRegistered": _DIRECTOR,
    "ledger.footage:Camera.CameraRetired": _DIRECTOR,
    "ledger.footage:Segment.FootageCaptured": _ANYONE,
    "ledger.footage:Segment.FootageFlagged": _ANYONE,
    "ledger.footage:Segment.FlagExtended": _DIRECTOR,
    "ledger.footage:Segment.FlagCleared": _ARCHIVE,
    "ledger.footage:Segment.HoldApplied": _ANYONE,
    "ledger.footage:Segment.HoldLifted": _DIRECTOR,
    # every recorded segment is archived footage: no live window for staff (R16)
    "ledger.footage:Segment.FootageViewed": _ARCHIVE,
    "ledger.footage:Segment.ViewingCopiesDestroyed": (*_ARCHIVE, SERVICE),
    "ledger.footage:Segment.FootagePurged": (SERVICE, "director"),
    "ledger.footage:Segment.FootageFoundMissing": (SERVICE, "director"),
    "ledger.footage:FootageHold.HoldPlaced": _ANYONE,
    "ledger.footage:FootageHold.HoldReleased": _DIRECTOR,
    "ledger.exports:EvidenceExport.EvidenceExported": _ARCHIVE,
    "ledger.exports:EvidenceExport.ClipDerived": _ARCHIVE,
    # reports and registers handed out (R23): by the members who read them
    "ledger.report_records:IssuedReport.ComplianceReportIssued": REPORT_ROLES,
    "ledger.report_records:IssuedRegister.DisclosureRegisterIssued": REPORT_ROLES,
    # a whole-chain verification's outcome: whoever ran it, cron's as the service (R21)
    "ledger.verification_records:VerificationRecord.LedgerVerified": ALL_ROLES,
}

SIGNERS = MappingProxyType(_TABLE)

# Records of an attempt by someone who did not authenticate (a refusal, a wrong
# passphrase, the lockout it leads to): the service identity attests them, and the event
# names whoever tried, not the signer (R23, R25).
GATE_TOPICS = frozenset(
    {
        "ledger.refusals:Refusal.AccessDenied",
        "ledger.staff:StaffMember.AuthenticationFailed",
        "ledger.staff:StaffMember.LockedOut",
    }
)


def may_sign(role: str, topic: str) -> bool:
    return role in SIGNERS.get(topic, ())
