"""What follows a request's intake, in the browser: the court order with its structured
scope (R6, R7), Appendix 9 printed for the officer and the signed scan recorded (R8-R10),
the recipient's signed receipt (R10) and the follow-up of an emergency release (R11).

Each form calls the same ledger use-case as ``custodes request court-order``,
``request form``, ``request emergency``, ``request acknowledge`` and ``request
follow-up``: the ledger authorizes (a refusal is recorded and shown as 403), checks and
records. Scans are hashed as they are read (web.uploads) and not kept: only their name
and SHA-256 are recorded, as on the command line.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, redirect, request

from ledger.errors import InvalidInput, NotFound
from web.app import acting, desk, not_recorded
from web.forms import (
    AcknowledgeForm,
    CounselReviewForm,
    CourtOrderForm,
    EmergencyForm,
    FoiaExtendForm,
    FollowUpForm,
)
from web.pages import page, site_time, zone_labels
from web.uploads import scan_digest

bp = Blueprint("request_steps", __name__)


def _cards(text: str | None) -> list[str]:
    return [c.strip() for c in (text or "").replace(",", "\n").splitlines() if c.strip()]


def _step(template: str, ref: str, form: Any, status: int = 200, message: str = "") -> Response:
    return page(template, status, ref=ref.upper(), form=form, message=message,
                zone=desk().zone().key)  # fmt: skip


def _known(ref: str, action: str) -> str:
    """The request's reference as recorded, for a member who may know of it
    (``Ledger.request_for``); a request they may not see is answered exactly as one that
    does not exist (404, the same page), its refusal recorded."""
    with acting() as (ledger, me):
        return str(ledger.request_for(ref, actor=me, action=action))


# ---- the court order ----------------------------------------------------------------------


@bp.route("/requests/<ref>/court-order", methods=["GET", "POST"])
def court_order(ref: str) -> Response:
    from ledger.disclosure_intake import OrderScope

    form = CourtOrderForm()
    zone_labels(form, "issued", "served_at")
    ref = _known(ref, "request court-order")
    if request.method == "GET":
        return _step("court_order.html", ref, form)
    if not form.validate_on_submit():
        return _step("court_order.html", ref, form, 400, "Some fields need attention.")
    try:
        name, sha = scan_digest(form.document.data, "the order")
        scope = OrderScope(
            patron_cards=_cards(form.scope_patrons.data),
            records=form.scope_records.data or [],
            fields=form.scope_fields.data or [],
            date_from=form.scope_from.data,
            date_to=form.scope_to.data,
            exclude_records=form.exclude_records.data or [],
            exclude_fields=form.exclude_fields.data or [],
        )
        assert form.issued.data is not None and form.served_at.data is not None
        issued, served = site_time(form.issued.data), site_time(form.served_at.data)
        with acting() as (ledger, me):
            ledger.record_court_order(
                ref,
                kind=form.kind.data or "",
                signed_by_judge=form.signed_by_judge.data == "yes",
                court=form.court.data or "",
                judge=form.judge.data or "",
                case=form.case.data or "",
                issued=issued,
                served_at=served,
                served_by=form.served_by.data or "",
                scope=scope,
                scope_note=form.scope_note.data or "",
                document_name=name,
                document_sha256=sha,
                nondisclosure=form.nondisclosure.data or "",
                actor=me,
            )  # a refusal (e.g. a time in the future) is recorded and shown as 403
    except (InvalidInput, NotFound) as e:  # what was typed stays in the form
        return _step("court_order.html", ref, form, 400, not_recorded(e))
    return redirect(f"/requests/{ref}")  # type: ignore[return-value]


@bp.route("/requests/<ref>/counsel-review", methods=["GET", "POST"])
def counsel_review(ref: str) -> Response:
    """Counsel's review of the court order (R6; counsel only: others refused, recorded)."""
    form = CounselReviewForm()
    ref = _known(ref, "request counsel-review")
    if request.method == "GET":
        return _step("counsel_review.html", ref, form)
    if not form.validate_on_submit():
        return _step("counsel_review.html", ref, form, 400, "Say whether the order is sufficient.")
    try:
        with acting() as (ledger, me):
            ledger.record_counsel_review(
                ref, result=form.result.data or "", notes=form.notes.data or "", actor=me
            )
    except (InvalidInput, NotFound) as e:
        return _step("counsel_review.html", ref, form, 400, not_recorded(e))
    return redirect(f"/requests/{ref}")  # type: ignore[return-value]


@bp.route("/requests/<ref>/foia-extend", methods=["GET", "POST"])
def foia_extend(ref: str) -> Response:
    """The one FOIA extension (Director only, before the first deadline; others and a
    late extension refused and recorded)."""
    form = FoiaExtendForm()
    ref = _known(ref, "request foia-extend")
    if request.method == "GET":
        return _step("foia_extend.html", ref, form)
    if not form.validate_on_submit():
        return _step("foia_extend.html", ref, form, 400, "Give the reason for the requester.")
    try:
        with acting() as (ledger, me):
            ledger.extend_foia(ref, reason=form.reason.data or "", actor=me)
    except (InvalidInput, NotFound) as e:
        return _step("foia_extend.html", ref, form, 400, not_recorded(e))
    return redirect(f"/requests/{ref}")  # type: ignore[return-value]


# ---- Appendix 9: printed for the officer, the signed scan recorded ---------------------------


@bp.route("/requests/<ref>/appendix9.pdf")
def appendix9(ref: str) -> Response:
    """The Officer's Request for Confidential Information, prefilled (R10); the printing
    is recorded as a reading (R27), a member who may not read it is refused (recorded)."""
    from projections.appendix9 import appendix9_pdf

    ref = _known(ref, "request form")
    with acting() as (ledger, me):
        form = ledger.read_appendix9(ref, actor=me)
    data = appendix9_pdf(form)
    return Response(
        data, mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{form["form_id"]}-appendix9.pdf"'},
    )  # fmt: skip


@bp.route("/requests/<ref>/emergency", methods=["GET", "POST"])
def emergency(ref: str) -> Response:
    form = EmergencyForm()
    ref = _known(ref, "request emergency")
    if request.method == "GET":
        return _step("emergency.html", ref, form)
    if not form.validate_on_submit():
        return _step("emergency.html", ref, form, 400, "Some fields need attention.")
    try:
        from projections.appendix9 import printed_sha256

        name, sha = scan_digest(form.signed_form.data, "the signed Appendix 9 form")
        with acting() as (ledger, me):
            ledger.record_emergency(
                ref,
                officer_name=form.officer_name.data or "",
                officer_rank=form.officer_rank.data or "",
                badge_number=form.badge_number.data or "",
                agency=form.agency.data or "",
                agency_phone=form.agency_phone.data or "",
                id_examined=form.id_examined.data == "yes",
                sworn_officer=bool(form.sworn_officer.data),
                court_order_impractical=bool(form.court_order_impractical.data),
                imminent_danger=bool(form.imminent_danger.data),
                identification_purpose=bool(form.identification_purpose.data),
                role_sought=form.role_sought.data or None,
                emergency_description=form.emergency_description.data or "",
                signed_form_sha256=sha,
                signed_form_name=name,
                actor=me,
                printed_form_sha256=printed_sha256(ledger.appendix9_form(ref)),
            )  # missing representations are refused (recorded, 403)
    except (InvalidInput, NotFound) as e:
        return _step("emergency.html", ref, form, 400, not_recorded(e))
    return redirect(f"/requests/{ref}")  # type: ignore[return-value]


# ---- after the release: the signed receipt, the follow-up ------------------------------------


@bp.route("/requests/<ref>/acknowledge", methods=["GET", "POST"])
def acknowledge(ref: str) -> Response:
    form = AcknowledgeForm()
    ref = _known(ref, "request acknowledge")
    if request.method == "GET":
        return _step("acknowledge.html", ref, form)
    if not form.validate_on_submit():
        return _step("acknowledge.html", ref, form, 400, "Choose the scan of the receipt.")
    try:
        _name, sha = scan_digest(form.signed_receipt.data, "the signed receipt")
        with acting() as (ledger, me):
            ledger.acknowledge(ref, signed_receipt_sha256=sha, actor=me)
    except (InvalidInput, NotFound) as e:
        return _step("acknowledge.html", ref, form, 400, not_recorded(e))
    return redirect(f"/requests/{ref}")  # type: ignore[return-value]


@bp.route("/requests/<ref>/follow-up", methods=["GET", "POST"])
def follow_up(ref: str) -> Response:
    form = FollowUpForm()
    ref = _known(ref, "request follow-up")
    if request.method == "GET":
        return _step("follow_up.html", ref, form)
    if not form.validate_on_submit():
        return _step("follow_up.html", ref, form, 400, "Choose how the follow-up is resolved.")
    how = form.resolution.data
    other = (form.court_order_request.data or "").strip()
    try:
        with acting() as (ledger, me):
            ledger.resolve_follow_up(
                ref,
                actor=me,
                court_order_request=other if how == "court_order" and other else None,
                judicial_review_sought=how == "judicial_review",
                closed=how == "closed",
                reason=form.reason.data or "",
            )  # fmt: skip (Director only: others are refused, recorded)
    except (InvalidInput, NotFound) as e:
        return _step("follow_up.html", ref, form, 400, not_recorded(e))
    return redirect(f"/requests/{ref}")  # type: ignore[return-value]
