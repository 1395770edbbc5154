"""Reports: the Director's compliance report for a period (verified ledger, signed
checkpoint; recorded as issued like ``custodes report compliance``) shown on the page or
downloaded as PDF or JSON; and legal review, a subject's history as of a site day (each
reading recorded, R27)."""

from __future__ import annotations

import hashlib
import io
import zipfile
from datetime import date, timedelta
from typing import Any

from flask import Blueprint, Response, request
from markupsafe import Markup

from ledger import sitetime
from ledger.errors import InvalidInput
from ledger.text import counted
from web.app import acting, desk
from web.forms import HistoryForm, ReportForm
from web.pages import page

bp = Blueprint("reports", __name__)


@bp.route("/reports", methods=["GET", "POST"])
def compliance() -> Response:
    from capture.audit import record_findings, unrecorded_findings
    from projections.compliance import compile_compliance_report, record_issued_digest
    from projections.registry import read_views
    from projections.render_data import to_json
    from projections.render_html import report_body
    from projections.render_pdf import render_pdf
    from projections.retention import stored_segments

    d = desk()
    form = ReportForm()
    encrypted = d.datadir.signing_key_is_encrypted()
    if request.method == "GET":
        today = sitetime.local_day(d.now(), d.zone())
        form.first.data = today.replace(day=1) if today.day > 1 else _month_before(today)
        form.last.data = today
        return page("reports.html", form=form, encrypted=encrypted, body=None)
    if not form.validate_on_submit():
        return page("reports.html", 400, form=form, encrypted=encrypted, body=None,
                    message="Give the first and last day of the period.")  # fmt: skip
    first, last = form.first.data, form.last.data
    assert first is not None and last is not None
    if last < first or last > sitetime.local_day(d.now(), d.zone()):
        return page("reports.html", 400, form=form, encrypted=encrypted, body=None,
                    message="The period runs from a day to the same or a later day, up to "
                    "today.")  # fmt: skip
    secret = (form.signing_passphrase.data or "").encode() if encrypted else None
    with acting() as (ledger, me):

        def vault_audit() -> list[tuple[str, str]]:  # the vault now, as the CLI audits it
            found = unrecorded_findings(ledger, read_views(ledger, stored_segments))
            return [(f.segment_id, f.describe()) for f in found]

        recorded: list[str] = []

        def findings_recorded() -> None:  # recorded when she may, as the CLI does
            stored = lambda: read_views(ledger, stored_segments, checked=True)  # noqa: E731
            recorded.extend(record_findings(ledger, stored, actor=me,
                            found_by=f"compliance report {first} to {last}"))  # fmt: skip

        try:
            signing_key = d.datadir.signing_key(secret)
        except Exception as e:  # a wrong signing passphrase: say so, record nothing
            raise InvalidInput(f"the checkpoint signing key cannot be used: {e}") from None
        report, _note = compile_compliance_report(
            ledger,
            period_from=first,
            period_to=last,
            actor=me,
            now=d.now(),
            signing_key=signing_key,
            vault_audit=vault_audit,
            record_findings=findings_recorded,
        )  # fmt: skip (verifies first; a refusal is recorded)
        fmt = form.fmt.data or "page"
        if fmt == "pdf":
            data, mimetype = render_pdf(report), "application/pdf"
        elif fmt == "json":
            data, mimetype = to_json(report).encode(), "application/json"
        elif fmt == "csv":
            data, mimetype = _csv_zip(report), "application/zip"
        else:
            body = report_body(report, landmark="div")
            data, mimetype = body.encode(), "text/html"
        record_issued_digest(
            ledger, report, "html" if fmt == "page" else fmt,
            hashlib.sha256(data).hexdigest(), actor=me,
        )  # fmt: skip
    if fmt == "page":
        said = (
            f"{counted(len(recorded), 'segment')} found missing from the vault with no purge "
            f"in progress: recorded FootageFoundMissing while the report was made "
            f"(FOOTAGE-FOUND-MISSING): {', '.join(recorded)}. Find out how."
            if recorded
            else ""
        )
        return page("reports.html", form=form, encrypted=encrypted, body=Markup(body),  # noqa: S704 - report_body escapes every text
                    message=said)  # fmt: skip
    name = f"compliance-{first}-to-{last}.{'zip' if fmt == 'csv' else fmt}"
    return Response(
        data, mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )  # fmt: skip


def _csv_zip(report: Any) -> bytes:
    """The report's tables as CSV, one file per table (as ``report compliance --format
    csv`` writes them into a directory), in one zip; its SHA-256 is what is recorded."""
    from projections.render_data import CSV_TABLES, csv_text

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for name, (header, rows) in CSV_TABLES.items():
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            z.writestr(info, csv_text(header, rows(report)))
    return buffer.getvalue()


def _month_before(day: date) -> date:
    return (day.replace(day=1) - timedelta(days=1)).replace(day=1)


@bp.route("/history")
def history() -> Response:
    from projections.history import read_history

    form = HistoryForm(request.args)
    d = desk()
    if not request.args:
        return page("history.html", form=form, entries=None, key="")
    if not form.validate():
        return page("history.html", 400, form=form, entries=None, key="",
                    message="Name a subject; the date is a site day.")  # fmt: skip
    as_of = sitetime.end_of_day(form.as_of.data, d.zone()) if form.as_of.data else None
    with acting() as (ledger, me):
        key, entries = read_history(
            ledger, form.subject.data or "", actor=me, as_of=as_of,
            detail=f"web, as of {form.as_of.data}" if as_of else "web",
        )  # fmt: skip
    return page("history.html", form=form, entries=entries, key=key, as_of=as_of)
