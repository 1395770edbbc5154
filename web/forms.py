"""The forms (Flask-WTF: every form carries a CSRF token; every field has a label)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ledger.disclosure import ORDER_KINDS, RECORD_CLASSES, REQUESTER_KINDS, ROLES_SOUGHT
from ledger.footage import HOLD_KINDS
from ledger.footage_policy import PURPOSES
from ledger.policy import FIELD_CLASS, GUARDIANSHIP_DOCUMENTS
from projections.retention import STATUSES


def options(pairs: Iterable[tuple[str, str]]) -> list[SelectChoice]:
    """(value, label) pairs as WTForms' choices (plain tuples are deprecated in WTForms 3.3
    and go in 3.4)."""
    return [SelectChoice(value, label) for value, label in pairs]


def _choices(values: Iterable[str]) -> list[SelectChoice]:
    return options((v, v.replace("_", " ")) for v in values)


def day_problem(day: date | None) -> str | None:
    """A site day typed in a filter that no ledger can hold (the site day's end would run
    past the calendar): said in words, not a server error."""
    if day is not None and not 1900 <= day.year <= 9998:
        return f"{day} is outside the dates a ledger can hold (years 1900 to 9998)."
    return None


MINUTES = "%Y-%m-%dT%H:%M"  # a datetime-local field


class Checkboxes(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class LoginForm(FlaskForm):
    name = StringField("Your name", validators=[DataRequired(), Length(max=200)])
    passphrase = PasswordField("Passphrase", validators=[DataRequired(), Length(max=1024)])
    code = StringField(
        "One-time code (only if you set one up)", validators=[Optional(), Length(max=12)]
    )
    next = HiddenField()


class LogoutForm(FlaskForm):
    pass


class ClockCorrectForm(FlaskForm):
    """The Director sets aside the time a clock set ahead recorded (R26)."""

    reason = TextAreaField(
        "Why: what set the clock ahead, and when (kept in clear: no patron details)",
        validators=[DataRequired(), Length(max=2000)],
    )
    passphrase = PasswordField(
        "Your passphrase again", validators=[DataRequired(), Length(max=1024)]
    )


class IntakeForm(FlaskForm):
    requester_kind = SelectField("Who is asking", choices=_choices(REQUESTER_KINDS))
    requester = StringField(
        "Requester (name, agency)", validators=[DataRequired(), Length(max=200)]
    )
    received_by = StringField(
        "Received by (staff member)", validators=[DataRequired(), Length(max=200)]
    )
    received_at = DateTimeLocalField(
        "Received at, if before now (e.g. a letter opened yesterday)",
        format=MINUTES,
        validators=[Optional()],
    )
    records = Checkboxes("Records asked for", choices=_choices(RECORD_CLASSES))
    description = TextAreaField("What they ask for", validators=[DataRequired(), Length(max=2000)])
    patron_card = StringField("Patron's card number", validators=[Optional(), Length(max=40)])
    patron_name = StringField("Patron's name", validators=[Optional(), Length(max=200)])
    minor = BooleanField("The patron is a minor")
    guardianship = SelectField(
        "The document seen that confirms the parent or guardian (a minor's fines)",
        choices=[
            ("", "none seen / not a guardian's request"),
            *((k, v) for k, v in GUARDIANSHIP_DOCUMENTS.items()),
        ],  # fmt: skip
        validators=[Optional()],
    )
    guardianship_note = StringField(
        "A note on it (optional, e.g. the name on it matches)",
        validators=[Optional(), Length(max=400)],
    )
    footage = StringField(
        "Footage segment ids (comma-separated)", validators=[Optional(), Length(max=2000)]
    )
    case_number = StringField("Case number", validators=[Optional(), Length(max=100)])


class DecisionForm(FlaskForm):
    decision = RadioField(
        "Decision",
        choices=options([("approve", "Approve"), ("deny", "Deny")]),
        validators=[DataRequired()],
    )
    reason = TextAreaField("Reason", validators=[DataRequired(), Length(max=2000)])
    passphrase = PasswordField(
        "Your passphrase again (confirms it is you)", validators=[DataRequired()]
    )
    seen = HiddenField()


class ReleaseForm(FlaskForm):
    # The boxes offer what the Director approved; whatever a form posts beyond them goes
    # to the ledger, which refuses it and records the refusal as on the command line (R23)
    fields = Checkboxes("Fields released", validate_choice=False)
    footage = Checkboxes("Footage released", validate_choice=False)
    to = StringField("Released to", validators=[DataRequired(), Length(max=200)])
    method = StringField(
        "How (in person, mail, secure link...)", validators=[DataRequired(), Length(max=200)]
    )
    badge = StringField(
        "Officer's badge number (emergency requests)", validators=[Optional(), Length(max=40)]
    )
    passphrase = PasswordField(
        "Your passphrase again (confirms it is you)", validators=[DataRequired()]
    )
    seen = HiddenField()


def _purpose() -> SelectField:
    return SelectField(
        "Purpose (R16a: never to monitor staff)",
        choices=_choices(tuple(sorted(PURPOSES))),
        validators=[DataRequired()],
    )


def _reason(label: str) -> TextAreaField:
    # a blank reason is the ledger's to refuse, and record (R16)
    return TextAreaField(label, validators=[Optional(), Length(max=2000)])


class ViewForm(FlaskForm):
    purpose = _purpose()
    reason = _reason("Why you view it (recorded)")
    not_staff_monitoring = TextAreaField(
        "Director: why a reason that names staff is not staff monitoring",
        validators=[Optional(), Length(max=2000)],
    )


class SegmentFilter(FlaskForm):
    class Meta:
        csrf = False  # a GET filter records nothing

    camera = SelectField("Camera", choices=options([("", "all cameras")]), validate_choice=False)
    status = SelectField(
        "Status",
        choices=options([("", "any status"), *((s, s) for s in STATUSES)]),
        validate_choice=False,
    )
    day = DateField("Recorded on (site day)", validators=[Optional()])


class ReportForm(FlaskForm):
    first = DateField("From (site day)", validators=[DataRequired()])
    last = DateField("To (site day)", validators=[DataRequired()])
    fmt = RadioField(
        "Show as",
        choices=options(
            [
                ("page", "this page"),
                ("pdf", "PDF download"),
                ("csv", "CSV download (a zip, one file per table)"),
                ("json", "JSON download"),
            ]
        ),
        default="page",
    )
    signing_passphrase = PasswordField(
        "Checkpoint signing key passphrase (only if the key has one)",
        validators=[Optional(), Length(max=1024)],
    )


class HistoryForm(FlaskForm):
    class Meta:
        csrf = False

    subject = StringField("Subject (request, segment, camera, patron pseudonym, staff name)",
                          validators=[DataRequired(), Length(max=200)])  # fmt: skip
    as_of = DateField("As of the end of (site day; empty: now)", validators=[Optional()])


# ---- what follows intake: court orders, Appendix 9, receipts, follow-ups ---------------------

SCOPE_CLASSES = (*RECORD_CLASSES, "non_patron")
FIELDS = tuple(FIELD_CLASS)
YES_NO = options([("yes", "Yes"), ("no", "No")])


class CourtOrderForm(FlaskForm):
    kind = SelectField("Kind of document", choices=_choices(ORDER_KINDS))
    signed_by_judge = RadioField("Signed by a judge", choices=YES_NO, validators=[InputRequired()])
    court = StringField("Court", validators=[DataRequired(), Length(max=200)])
    judge = StringField("Judge", validators=[DataRequired(), Length(max=200)])
    case = StringField("Case or docket number", validators=[DataRequired(), Length(max=100)])
    issued = DateTimeLocalField("Issued", format=MINUTES, validators=[DataRequired()])
    served_at = DateTimeLocalField("Served", format=MINUTES, validators=[DataRequired()])
    served_by = StringField(
        "Served by (name, badge, agency)", validators=[DataRequired(), Length(max=200)]
    )
    scope_patrons = TextAreaField(
        "Card numbers of the patrons the order names (one a line)",
        validators=[Optional(), Length(max=2000)],
    )
    scope_records = Checkboxes("Record classes the order covers", choices=_choices(SCOPE_CLASSES))
    scope_fields = Checkboxes(
        "Fields the order names (a field narrows its record class: registration with "
        "name only releases the name)",
        choices=_choices(FIELDS),
    )
    scope_from = DateField("Records from (site day)", validators=[Optional()])
    scope_to = DateField("Records to (site day, inclusive)", validators=[Optional()])
    exclude_records = Checkboxes(
        "Record classes the order expressly excludes", choices=_choices(SCOPE_CLASSES)
    )
    exclude_fields = Checkboxes("Fields the order expressly excludes", choices=_choices(FIELDS))
    scope_note = TextAreaField(
        "The order's own words on its scope (a note; no card numbers)",
        validators=[Optional(), Length(max=2000)],
    )
    nondisclosure = TextAreaField(
        "Nondisclosure order served with it: its terms", validators=[Optional(), Length(max=2000)]
    )
    document = FileField("The order's scan (PDF or image)")


class EmergencyForm(FlaskForm):
    signed_form = FileField("The scan of the signed Appendix 9 form (PDF or image)")
    officer_name = StringField("Officer's name", validators=[DataRequired(), Length(max=200)])
    officer_rank = StringField("Rank", validators=[Optional(), Length(max=100)])
    badge_number = StringField("Badge or ID number", validators=[DataRequired(), Length(max=40)])
    agency = StringField("Agency", validators=[DataRequired(), Length(max=200)])
    agency_phone = StringField("Agency's phone", validators=[Optional(), Length(max=40)])
    id_examined = RadioField(
        "The officer's identification was examined", choices=YES_NO, validators=[InputRequired()]
    )
    sworn_officer = BooleanField("Ticked: I am a sworn law enforcement officer")
    court_order_impractical = BooleanField("Ticked: obtaining a court order is impractical")
    imminent_danger = BooleanField("Ticked: there is an imminent danger of physical harm")
    identification_purpose = BooleanField(
        "Ticked: the information is needed to identify a suspect, witness or victim"
    )
    role_sought = SelectField(
        "The person to be identified is a",
        choices=[SelectChoice("", "not ticked on the form"), *_choices(ROLES_SOUGHT)],
        validators=[Optional()],
    )
    emergency_description = TextAreaField(
        "The emergency, as described on the form", validators=[DataRequired(), Length(max=2000)]
    )


class CounselReviewForm(FlaskForm):
    result = RadioField(
        "The order is",
        choices=options([("sufficient", "sufficient"), ("defective", "defective")]),
        validators=[InputRequired()],
    )
    notes = TextAreaField(
        "Defects and their cure, or remarks (required if defective)",
        validators=[Optional(), Length(max=2000)],
    )


class FoiaExtendForm(FlaskForm):
    reason = TextAreaField(
        "The reason given to the requester (5 ILCS 140/3(e))",
        validators=[DataRequired(), Length(max=2000)],
    )


class AcknowledgeForm(FlaskForm):
    signed_receipt = FileField("The scan of the receipt the recipient signed (PDF or image)")


class FollowUpForm(FlaskForm):
    resolution = RadioField(
        "How the follow-up is resolved",
        choices=options(
            [
                ("court_order", "A later court order (another request) covers it"),
                ("judicial_review", "Judicial review was sought"),
                ("closed", "Closed without either (give the reason)"),
            ]
        ),
        validators=[InputRequired()],
    )
    court_order_request = StringField(
        "The request holding the later court order (e.g. R-2026-0004)",
        validators=[Optional(), Length(max=40)],
    )
    reason = TextAreaField("Reason", validators=[Optional(), Length(max=2000)])


# ---- footage: flags and holds ------------------------------------------------------------------


class FlagForm(FlaskForm):
    incident = StringField(
        "Incident (e.g. IR-2026-114 wallet theft)", validators=[DataRequired(), Length(max=200)]
    )
    reason = TextAreaField(
        "The suspected misbehavior seen", validators=[DataRequired(), Length(max=2000)]
    )
    until = DateField("Keep through (site day; empty: the policy's limit)", validators=[Optional()])
    not_staff_monitoring = TextAreaField(
        "Director: why a reason that names staff is not staff monitoring",
        validators=[Optional(), Length(max=2000)],
    )


class FlagExtendForm(FlaskForm):
    until = DateField("Keep through (site day)", validators=[DataRequired()])
    reason = TextAreaField("Why longer", validators=[DataRequired(), Length(max=2000)])


class FlagClearForm(FlaskForm):
    reason = TextAreaField("Why the flag ends", validators=[DataRequired(), Length(max=2000)])


class HoldForm(FlaskForm):
    kind = SelectField("Kind of hold", choices=_choices(HOLD_KINDS))
    reason = TextAreaField("Why", validators=[DataRequired(), Length(max=2000)])
    reference = StringField(
        "Case, order or request number", validators=[DataRequired(), Length(max=100)]
    )
    review_by = DateField("Review by (site day)", validators=[Optional()])


class HoldReleaseForm(FlaskForm):
    reason = TextAreaField("Why the hold ends", validators=[DataRequired(), Length(max=2000)])
    passphrase = PasswordField(
        "Your passphrase again (confirms it is you)", validators=[DataRequired()]
    )


# ---- reports and legal review ------------------------------------------------------------------


class PeriodFilter(FlaskForm):
    class Meta:
        csrf = False  # a GET filter; the reading is what is recorded, if anything

    first = DateField("From (site day)", validators=[Optional()])
    last = DateField("To (site day, inclusive)", validators=[Optional()])


class StatisticsForm(FlaskForm):
    class Meta:
        csrf = False

    first = DateField("From (site day)", validators=[DataRequired()])
    last = DateField("To (site day, inclusive)", validators=[DataRequired()])
    threshold = IntegerField(
        "Suppress counts below (empty: the adopted policy's threshold)",
        validators=[Optional(), NumberRange(min=1, max=1000)],
    )


class CheckpointForm(FlaskForm):
    signing_passphrase = PasswordField(
        "Checkpoint signing key passphrase (only if the key has one)",
        validators=[Optional(), Length(max=1024)],
    )


class ProofForm(FlaskForm):
    event = IntegerField(
        "Event number (the Event # column of a history)",
        validators=[DataRequired(), NumberRange(min=1)],
    )
    signing_passphrase = PasswordField(
        "Checkpoint signing key passphrase (only if the key has one)",
        validators=[Optional(), Length(max=1024)],
    )


class ExportForm(FlaskForm):
    segments = Checkboxes("Segments to export (those the Director approved)", validate_choice=False)
    # Ticked until the Director unticks it: a clip leaves the library blurred unless
    # someone decides otherwise (over-disclosure cannot be taken back).
    redact_faces = BooleanField("Blur faces (detection only: check the result, R19)", default=True)
    # an export records a release of footage: sudo mode, as a release (web red team,
    # session 16: an unattended signed-in browser could release unblurred footage)
    passphrase = PasswordField(
        "Your passphrase again (confirms it is you)", validators=[DataRequired(), Length(max=1024)]
    )
    signing_passphrase = PasswordField(
        "Checkpoint signing key passphrase (only if the key has one)",
        validators=[Optional(), Length(max=1024)],
    )


class DownloadForm(FlaskForm):
    """An evidence package's download: clear footage, so a viewing of each of its segments
    with a purpose and a reason, as the access log requires (R16)."""

    package = SelectField("Package", validate_choice=False)
    purpose = _purpose()
    reason = _reason("Why you download it (recorded)")


class RecordForm(FlaskForm):
    """The disclosure record of a release (``custodes request record``)."""

    release = SelectField("Release", coerce=int, validate_choice=True)
    signing_passphrase = PasswordField(
        "Checkpoint signing key passphrase (only if the key has one)",
        validators=[Optional(), Length(max=1024)],
    )
