"""Footage pages: cameras, segments filtered by camera, status and day, a segment's page,
and viewing with a purpose and a reason (R16, R16a): the viewing is checked and recorded
like ``custodes footage view``, and the clip is decrypted and made playable in memory
(WebM), then streamed to the browser; no plaintext copy is written to disk."""

from __future__ import annotations

import io
import secrets
from datetime import timedelta

from flask import Blueprint, Response, abort, g, request, send_file, session

from capture.ingest import open_vault
from capture.stream import webm_of
from ledger import sitetime
from ledger.errors import InvalidInput
from web.app import acting, desk
from web.command import is_loopback
from web.forms import SegmentFilter, ViewForm
from web.pages import page

bp = Blueprint("footage", __name__)
CLIP_LIFETIME = timedelta(minutes=10)
LIST_LIMIT = 500


@bp.route("/footage")
def footage_list() -> Response:
    from projections.registry import read_views
    from projections.retention import segment_rows

    form = SegmentFilter(request.args)
    d = desk()
    with acting() as (ledger, _me):
        cameras = ledger.cameras()
        form.camera.choices = [("", "all cameras"), *((c.camera_id, c.camera_id) for c in cameras)]
        form.validate()
        camera = form.camera.data or None
        status = form.status.data or None
        day = form.day.data if not form.day.errors else None
        if camera is not None:
            ledger.camera_info(camera)  # an unknown camera is named, not an empty list
        start, end = sitetime.days(day, day, d.zone()) if day else (None, None)
        now = d.now()
        rows = read_views(
            ledger,
            lambda conn: segment_rows(
                conn, now, status=status, camera=camera, limit=LIST_LIMIT + 1,
                recorded_from=start, recorded_until=end,
            ),
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
    form = ViewForm()
    d = desk()
    clip = ""
    message = ""
    with acting() as (ledger, me):
        info = ledger.segment_info(segment_id)
        if request.method == "POST":
            if not form.validate_on_submit():
                message = "Choose a purpose and say why you view it."
            else:
                try:
                    permit = ledger.check_viewing(
                        segment_id,
                        reason=form.reason.data or "",
                        purpose=form.purpose.data or "",
                        actor=me,
                    )  # fmt: skip (a refusal is recorded and shown as 403)
                except InvalidInput as e:
                    message = f"{e}"
                else:
                    playable = webm_of(
                        open_vault(ledger).decrypt_bytes(permit.segment.sha256),
                        name=f"segment {segment_id}",
                    )
                    remote = not is_loopback(request.remote_addr or "")
                    ledger.record_viewing(permit, kind="view", remote=remote)
                    clip = secrets.token_urlsafe(24)
                    _forget_old_clips()
                    d.clips[clip] = (session["sid"], playable, d.now() + CLIP_LIFETIME)
                    info = ledger.segment_info(segment_id)
    return page(
        "segment.html",
        400 if message else 200,
        info=info,
        form=form,
        clip=clip,
        message=message,
        role=g.web.signer.role,
    )


@bp.route("/clips/<token>.webm")
def clip(token: str) -> Response:
    """The clip of a viewing this browser session just recorded (byte ranges served, as
    a <video> element asks); another session's token, or an old one, is not found."""
    d = desk()
    with d.gate:
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
