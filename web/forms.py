"""The forms (Flask-WTF: every form carries a CSRF token; every field has a label)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ledger.disclosure import RECORD_CLASSES, REQUESTER_KINDS
from ledger.footage_policy import PURPOSES
from projections.retention import STATUSES


def _choices(values: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(v, v.replace("_", " ")) for v in values]


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


class IntakeForm(FlaskForm):
    requester_kind = SelectField("Who is asking", choices=_choices(REQUESTER_KINDS))
    requester = StringField(
        "Requester (name, agency)", validators=[DataRequired(), Length(max=200)]
    )
    received_by = StringField(
        "Received by (staff member)", validators=[DataRequired(), Length(max=200)]
    )
    records = Checkboxes("Records asked for", choices=_choices(RECORD_CLASSES))
    description = TextAreaField("What they ask for", validators=[DataRequired(), Length(max=2000)])
    patron_card = StringField("Patron's card number", validators=[Optional(), Length(max=40)])
    patron_name = StringField("Patron's name", validators=[Optional(), Length(max=200)])
    minor = BooleanField("The patron is a minor")
    footage = StringField(
        "Footage segment ids (comma-separated)", validators=[Optional(), Length(max=2000)]
    )
    case_number = StringField("Case number", validators=[Optional(), Length(max=100)])


class DecisionForm(FlaskForm):
    decision = RadioField(
        "Decision", choices=[("approve", "Approve"), ("deny", "Deny")], validators=[DataRequired()]
    )
    reason = TextAreaField("Reason", validators=[DataRequired(), Length(max=2000)])
    passphrase = PasswordField(
        "Your passphrase again (confirms it is you)", validators=[DataRequired()]
    )
    seen = HiddenField()


class ReleaseForm(FlaskForm):
    fields = Checkboxes("Fields released")
    footage = Checkboxes("Footage released")
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


class ViewForm(FlaskForm):
    purpose = SelectField(
        "Purpose (R16a: never to monitor staff)",
        choices=_choices(tuple(sorted(PURPOSES))),
        validators=[DataRequired()],
    )
    reason = TextAreaField(
        "Why you view it (recorded)", validators=[DataRequired(), Length(max=2000)]
    )


class SegmentFilter(FlaskForm):
    class Meta:
        csrf = False  # a GET filter records nothing

    camera = SelectField("Camera", choices=[("", "all cameras")], validate_choice=False)
    status = SelectField(
        "Status",
        choices=[
            ("", "any status"),
            *((s, s) for s in STATUSES),
        ],
        validate_choice=False,
    )
    day = DateField("Recorded on (site day)", validators=[Optional()])


class ReportForm(FlaskForm):
    first = DateField("From (site day)", validators=[DataRequired()])
    last = DateField("To (site day)", validators=[DataRequired()])
    fmt = RadioField(
        "Show as",
        choices=[("page", "this page"), ("pdf", "PDF download"), ("json", "JSON download")],
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
