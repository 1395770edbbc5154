"""Footage pages: cameras, segments filtered by camera, status and day, a segment's page,
and viewing with a purpose and a reason (R16, R16a): the viewing is checked and recorded
like ``custodes footage view``, and the clip is decrypted and made playable in memory
(WebM), then streamed to the browser; no plaintext copy is written to disk."""

from __future__ import annotations

import io
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from typing import Any

from flask import Blueprint, Response, abort, g, redirect, request, send_file, session

from capture.stream import webm_of
from capture.viewing import play_segment
from ledger import sitetime
from ledger.errors import InvalidInput, NotFound, NotPermitted
from web.app import acting, desk, not_recorded
from web.command import is_loopback
from web.forms import (
    FlagClearForm,
    FlagExtendForm,
    FlagForm,
    HoldForm,
    HoldReleaseForm,
    SegmentFilter,
    ViewForm,
    day_problem,
    options,
)
from web.pages import page

bp = Blueprint("footage", __name__)
CLIP_LIFETIME = timedelta(minutes=10)
LIST_LIMIT = 500


@bp.route("/footage")
def footage_list() -> Response:
    from projections.retention import STATUSES, listed_segments

    form = SegmentFilter(request.args)
    d = desk()
    with acting() as (ledger, _me):
        cameras = ledger.cameras()
        form.camera.choices = options(
            [("", "all cameras"), *((c.camera_id, c.camera_id) for c in cameras)]
        )
        form.validate()
        if form.status.data and form.status.data not in STATUSES:
            form.status.errors = [f"Choose one of: {', '.join(STATUSES)}."]
        if problem := day_problem(form.day.data):
            form.day.errors = [problem]
        if any(f.errors for f in form):
            # a filter that cannot be read lists nothing: a full list under a bad filter
            # would look like its result
            return page("footage.html", 400, form=form, cameras=cameras, rows=None)
        day = form.day.data
        start, end = sitetime.days(day, day, d.zone()) if day else (None, None)
        # as `custodes footage list`: checked against the seals (R29), an unknown camera
        # named (404), not an empty list
        rows = listed_segments(
            ledger, d.now(), status=form.status.data or None, camera=form.camera.data or None,
            limit=LIST_LIMIT + 1, recorded_from=start, recorded_until=end,
        )  # fmt: skip
    return page(
        "footage.html",
        form=form,
        cameras=cameras,
        rows=rows[:LIST_LIMIT],
        more=len(rows) > LIST_LIMIT,
    )


@bp.route("/footage/<segment_id>", methods=["GET", "POST"])
def segment_page(segment_id: str) -> Response:
    """A segment's page; POST views it by the application's viewing use-case
    (``capture.viewing.play_segment``, as ``custodes footage view``: the same check, the
    Director's note, the same recorded event). The ledger is held only to check and to
    record: the clip is decrypted and transcoded in memory between the two."""
    form = ViewForm()
    d = desk()
    clip = ""
    message = ""
    if request.method == "POST" and form.validate_on_submit():
        try:
            played = play_segment(
                _step,
                segment_id,
                reason=form.reason.data or "",
                purpose=form.purpose.data or "",
                remote=not is_loopback(request.remote_addr or ""),
                actor=g.web.signer.name,
                render=lambda plaintext, sid: webm_of(plaintext, name=f"segment {sid}"),
                not_staff_monitoring=(form.not_staff_monitoring.data or "").strip() or None,
            )  # fmt: skip (a refusal is recorded and shown as 403)
        except InvalidInput as e:
            message = f"{e}"
        else:
            clip = secrets.token_urlsafe(24)
            with d.gate:
                _forget_old_clips()
                d.clips[clip] = (session["sid"], played.media, d.now() + CLIP_LIFETIME)
    elif request.method == "POST":
        message = "Choose a purpose and say why you view it."
    with acting() as (ledger, _me):
        info = ledger.segment_info(segment_id)
    return _segment_page(info, 400 if message else 200, form=form, clip=clip, message=message)


@contextmanager
def _step() -> Iterator[Any]:
    """One step of a use-case on the ledger, as the signed-in member (``acting``)."""
    with acting() as (ledger, _me):
        yield ledger


def _segment_page(info: Any, status: int = 200, *, message: str = "", **forms: Any) -> Response:
    d = desk()
    with d.gate:  # the policy's bound and viewers, to say them on the form (no key needed)
        params = d.ledger.policy_params()
        max_days, viewers = params.flag_max_days, params.archive_viewer_roles
    return page(
        "segment.html",
        status,
        info=info,
        form=forms.get("form") or ViewForm(formdata=None),
        flag_form=forms.get("flag") or FlagForm(formdata=None),
        hold_form=forms.get("hold") or HoldForm(formdata=None),
        release_form=forms.get("release") or HoldReleaseForm(formdata=None),
        extend_form=forms.get("extend") or FlagExtendForm(formdata=None),
        clear_form=forms.get("clear") or FlagClearForm(formdata=None),
        clip=forms.get("clip", ""),
        message=message,
        role=g.role,
        flag_max_days=max_days,
        archive_viewers=viewers,
        zone=d.zone().key,
    )


def _last_instant(day: date | None) -> datetime | None:
    """The end of a site day typed in a date field (as ``--until DAY`` on the command
    line: that whole day)."""
    if day is None:
        return None
    return sitetime.parse(day.isoformat()).last_instant(desk().zone())


@bp.route("/footage/<segment_id>/flag", methods=["POST"])
def flag(segment_id: str) -> Response:
    """Flag a segment for a named incident (R13): kept until the day given, within the
    policy's bound (the ledger checks it, and R16a: never to monitor staff)."""
    form = FlagForm()
    with acting() as (ledger, me):
        info = ledger.segment_info(segment_id)
    if not form.validate_on_submit():
        return _segment_page(info, 400, message="Name the incident and what was seen.", flag=form)
    try:
        with acting() as (ledger, me):
            ledger.flag(
                segment_id,
                incident=form.incident.data or "",
                reason=form.reason.data or "",
                retain_until=_last_instant(form.until.data),
                not_staff_monitoring=(form.not_staff_monitoring.data or "").strip() or None,
                actor=me,
            )  # a refusal (past the bound, staff monitoring) is recorded and shown as 403
    except InvalidInput as e:
        return _segment_page(info, 400, message=not_recorded(e), flag=form)
    return redirect(f"/footage/{segment_id}")  # type: ignore[return-value]


@bp.route("/footage/<segment_id>/flags/<flag_id>/extend", methods=["POST"])
def extend_flag(segment_id: str, flag_id: str) -> Response:
    """Keep flagged footage longer (the Director, with a reason; R13)."""
    form = FlagExtendForm()
    with acting() as (ledger, me):
        info = ledger.segment_info(segment_id)
        if not form.validate_on_submit():
            return _segment_page(info, 400, message="Give the day and the reason.", extend=form)
        until = _last_instant(form.until.data)
        assert until is not None
        try:
            ledger.extend_flag(
                segment_id, flag_id, until=until, reason=form.reason.data or "", actor=me
            )
        except (InvalidInput, NotFound) as e:
            return _segment_page(info, 400, message=not_recorded(e), extend=form)
    return redirect(f"/footage/{segment_id}")  # type: ignore[return-value]


@bp.route("/footage/<segment_id>/flags/<flag_id>/clear", methods=["POST"])
def clear_flag(segment_id: str, flag_id: str) -> Response:
    """End a flag (the Director or the Business Manager, with a reason)."""
    form = FlagClearForm()
    with acting() as (ledger, me):
        info = ledger.segment_info(segment_id)
        if not form.validate_on_submit():
            return _segment_page(info, 400, message="Say why the flag ends.", clear=form)
        try:
            ledger.clear_flag(segment_id, flag_id, reason=form.reason.data or "", actor=me)
        except (InvalidInput, NotFound) as e:
            return _segment_page(info, 400, message=not_recorded(e), clear=form)
    return redirect(f"/footage/{segment_id}")  # type: ignore[return-value]


@bp.route("/footage/<segment_id>/hold", methods=["POST"])
def hold(segment_id: str) -> Response:
    """Hold a segment from purge (R14): any member may preserve footage."""
    form = HoldForm()
    with acting() as (ledger, me):
        info = ledger.segment_info(segment_id)
    if not form.validate_on_submit():
        return _segment_page(info, 400, message="Say why and give a reference.", hold=form)
    try:
        with acting() as (ledger, me):
            ledger.place_hold(
                [segment_id],
                kind=form.kind.data or "",
                reason=form.reason.data or "",
                reference=form.reference.data or "",
                review_by=_last_instant(form.review_by.data),
                actor=me,
            )
    except InvalidInput as e:
        return _segment_page(info, 400, message=not_recorded(e), hold=form)
    return redirect(f"/footage/{segment_id}")  # type: ignore[return-value]


@bp.route("/footage/<segment_id>/holds/<hold_id>/release", methods=["POST"])
def release_hold(segment_id: str, hold_id: str) -> Response:
    """The Director releases a hold, with a reason and her passphrase again (sudo mode;
    a wrong one is recorded and counts towards the lockout). Others are refused by the
    ledger, and the refusal is recorded."""
    form = HoldReleaseForm()
    with acting() as (ledger, me):
        info = ledger.segment_info(segment_id)
        if not form.validate_on_submit():
            return _segment_page(info, 400, message="Give the reason and your passphrase.",
                                 release=form)  # fmt: skip
        try:
            ledger.authenticate(me, (form.passphrase.data or "").encode())
        except NotPermitted as e:
            form.passphrase.data = ""
            return _segment_page(info, 403, message=f"{e}. The hold was not released.",
                                 release=form)  # fmt: skip
        try:
            ledger.release_hold(hold_id, reason=form.reason.data or "", actor=me)
        except (InvalidInput, NotFound) as e:
            form.passphrase.data = ""
            return _segment_page(info, 400, message=not_recorded(e), release=form)
    return redirect(f"/footage/{segment_id}")  # type: ignore[return-value]


@bp.route("/clips/<token>.webm")
def clip(token: str) -> Response:
    """The clip of a viewing this browser session just recorded (byte ranges served, as
    a <video> element asks); another session's token, or an old one, is not found."""
    d = desk()
    with acting():  # the member's key still in force: a deactivation stops the clip too
        _forget_old_clips()
        held = d.clips.get(token)
    if held is None or held[0] != session.get("sid"):
        abort(404)
    response = send_file(
        io.BytesIO(held[1]), mimetype="video/webm", conditional=True, max_age=0,
        download_name="segment.webm",
    )  # fmt: skip
    response.headers["Cache-Control"] = "no-store"
    return response


def _forget_old_clips() -> None:
    """Drop clips past their time (the caller holds the gate)."""
    d = desk()
    now = d.now()
    for token in [t for t, (_s, _b, until) in d.clips.items() if until <= now]:
        del d.clips[token]
