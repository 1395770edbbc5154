"""Evidence exports for an approved request, in the browser (R17, R18): the same use-case
as ``custodes footage export`` (``capture.export.export_footage``: only the Director or
the Business Manager, only segments the Director approved; the release, the export and
each viewing recorded), after the member's passphrase again (sudo mode, as for a
release). It runs in the request (a few segments take seconds; redaction
longer). The package is written, as on the command line, into the data directory under
``exports/web/`` (0700) and offered for download as one zip; the download itself is
checked by the ledger again (refusals recorded) and recorded as a read of the package
(``ConfidentialRecordRead``, record "evidence export").
"""

from __future__ import annotations

import io
import json
import re
import secrets
import shutil
import zipfile
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, redirect, request

from ledger import rules
from ledger.errors import InvalidInput, NotFound, NotPermitted
from ledger.evidence import EvidenceInvalid, verify_package
from ledger.outfiles import PRIVATE_DIR
from web.app import acting, desk, not_recorded
from web.command import is_loopback
from web.forms import DownloadForm, ExportForm, RecordForm, options

bp = Blueprint("exports", __name__)
PACKAGE = re.compile(r"R-\d{4}-\d{4,}-\d{8}T\d{6}Z-[0-9a-f]{6}")


def packages_dir() -> Path:
    return desk().datadir.path / "exports" / "web"


def packages_of(ref: str) -> list[str]:
    """The packages made from the browser for this request, oldest first."""
    where = packages_dir()
    if not where.is_dir():
        return []
    return sorted(
        p.name
        for p in where.iterdir()
        if p.is_dir() and PACKAGE.fullmatch(p.name) and p.name.startswith(f"{ref}-")
    )


def export_form(view: dict[str, Any], formdata: Any = None) -> ExportForm:
    form = ExportForm(formdata=formdata)
    approved = (view.get("decision") or {}).get("approved_footage") or []
    form.segments.choices = options((s, s) for s in approved)
    return form


@bp.route("/requests/<ref>/export", methods=["POST"])
def export(ref: str) -> Response:
    from capture.export import export_footage
    from web.pages import _request_page, _sudo, _version

    d = desk()
    with acting() as (ledger, me):
        ref = ledger.request_for(ref, actor=me, action="export footage")  # else 404
        ledger.authorize(  # a member who may not export is refused (recorded) first
            me, "export footage", ledger.policy_params().archive_viewer_roles,
            rules.FOOTAGE_ARCHIVE_ACCESS, subject=ref,
        )  # fmt: skip
        # the request's details are read (recorded; refused and recorded for a member who
        # may not read request records), as on its page: the form quotes the decision
        shown = ledger.read_request(ref, actor=me, detail="web export")
        view = ledger.request_view(ref)
        form = ExportForm()
        form.segments.choices = options(
            (s, s) for s in (view.get("decision") or {}).get("approved_footage") or []
        )

        def again(status: int, message: str) -> Response:
            return _request_page(
                shown, _version(ledger, ref), status=status, message=message, export=form
            )

        if not form.validate_on_submit() or not form.segments.data:
            form.passphrase.data = ""
            return again(
                400, "Choose the segments to export and give your passphrase. Nothing was exported."
            )
        try:  # sudo mode: a release of footage (a wrong passphrase recorded, as elsewhere)
            _sudo(ledger, me, form.passphrase.data or "")
        except NotPermitted as e:
            form.passphrase.data = ""
            return again(403, f"{e}. Nothing was exported.")
        form.passphrase.data = ""
        encrypted = d.datadir.signing_key_is_encrypted()
        secret = (form.signing_passphrase.data or "").encode() if encrypted else None
        try:
            key = d.datadir.signing_key(secret)
        except Exception as e:  # a wrong signing passphrase: say so, record nothing
            return again(400, f"The checkpoint signing key cannot be used: {e}. Nothing was "
                         "recorded.")  # fmt: skip
        where = packages_dir()
        where.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
        stamp = d.now().strftime("%Y%m%dT%H%M%SZ")
        target = where / f"{ref}-{stamp}-{secrets.token_hex(3)}"
        try:
            export_footage(
                ledger,
                form.segments.data,
                request_ref=ref,
                to=target,
                actor=me,
                remote=not is_loopback(request.remote_addr or ""),
                signing_key=key,
                redact_faces=bool(form.redact_faces.data),
            )  # fmt: skip (a refusal is recorded and shown as 403)
        except InvalidInput as e:
            return again(400, not_recorded(e))
    return redirect(f"/requests/{ref}#exports")  # type: ignore[return-value]


def record_form(view: dict[str, Any], *, posted: bool = False) -> RecordForm:
    """The form for the page (empty), or as posted (``posted``: from the request)."""
    form = RecordForm() if posted else RecordForm(formdata=None)
    form.release.choices = [
        (n, f"release {n}: {', '.join(r['fields'] + [f['segment_id'] for f in r['footage']])} "
            f"to {r['to']}")
        for n, r in enumerate(view.get("releases") or [], 1)
    ][::-1]  # the last release first: the one usually wanted  # fmt: skip
    return form


@bp.route("/requests/<ref>/record", methods=["POST"])
def record(ref: str) -> Response:
    """The disclosure record of one release, issued (and recorded) now and handed over as
    one zip; no copy stays in the data directory (each record issued is in the ledger,
    so a lost download is issued again)."""
    from ledger.record_package import write_disclosure_record
    from web.pages import _request_page, _version

    d = desk()
    with acting() as (ledger, me):
        ref = ledger.request_for(ref, actor=me, action="request record")  # else 404
        # the record holds the request's details: read (recorded) as on its page, and
        # refused (recorded) to a member who may not read request records (web red-team F7)
        shown = ledger.read_request(ref, actor=me, detail="web disclosure record")
        view = ledger.request_view(ref)
        form = record_form(view, posted=True)

        def again(status: int, message: str) -> Response:
            return _request_page(
                shown, _version(ledger, ref), status=status, message=message, record=form
            )

        if not form.validate_on_submit():
            return again(400, "Choose the release whose record to issue.")
        encrypted = d.datadir.signing_key_is_encrypted()
        secret = (form.signing_passphrase.data or "").encode() if encrypted else None
        try:
            key = d.datadir.signing_key(secret)
        except Exception as e:  # a wrong signing passphrase: say so, record nothing
            return again(400, f"The checkpoint signing key cannot be used: {e}. Nothing was "
                         "recorded.")  # fmt: skip
        work = packages_dir().parent / "records-in-progress"
        work.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
        name = f"record-{ref}-{d.now():%Y%m%dT%H%M%SZ}"
        target = work / f"{name}-{secrets.token_hex(3)}"
        try:
            write_disclosure_record(
                ledger, ref, to=target, actor=me, signing_key=key, release=form.release.data
            )  # a refusal is recorded and shown as 403
            body = _zipped(target, name)
        except InvalidInput as e:
            return again(400, not_recorded(e))
        finally:
            shutil.rmtree(target, ignore_errors=True)
    return Response(
        body, mimetype="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{name}.zip"'},
    )  # fmt: skip


def _zipped(root: Path, name: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as z:
        for path in sorted(root.rglob("*")):
            if path.is_file() and not path.is_symlink():
                z.write(path, f"{name}/{path.relative_to(root)}")
    return buffer.getvalue()


def download_form(packages: list[str], formdata: Any = None) -> DownloadForm:
    form = DownloadForm(formdata=formdata)
    form.package.choices = [(p, f"{p}.zip") for p in reversed(packages)]  # the last first
    return form


def _package_segments(root: Path) -> list[str]:
    """The segments whose clips a package holds (its manifest, written by the export)."""
    try:
        manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
        return sorted({str(c["segment_id"]) for c in manifest["clips"]})
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise InvalidInput(f"the package's manifest cannot be read ({e})") from e


@bp.route("/requests/<ref>/exports/download", methods=["POST"])
def download(ref: str) -> Response:
    """One package as a zip (clips stored as they are; the recipient checks the package
    with its README.txt and verify.py, or ``custodes verify-export``). Clear footage: each
    download records a viewing of each of its segments with the purpose and reason given
    (kind "download", in the access log, R16; refusals recorded and listed there too),
    and a read of the package (R27). Before session 16 it was a link: no reason was asked
    and the access log did not show it (web red team)."""
    from web.pages import _request_page, _version

    with acting() as (ledger, me):
        ref = ledger.request_for(ref, actor=me, action="download an evidence export")
        ledger.authorize(
            me, "download an evidence export", ledger.policy_params().archive_viewer_roles,
            rules.FOOTAGE_ARCHIVE_ACCESS, subject=ref,
        )  # fmt: skip
        # the package holds the request's details (case number, recipient): read as on its
        # page, refused (recorded) to a member who may not read request records
        shown = ledger.read_request(ref, actor=me, detail="web evidence download")
        packages = packages_of(ref)
        form = download_form(packages, request.form)
        name = form.package.data or ""
        if not form.validate_on_submit() or name not in packages:
            return _request_page(
                shown, _version(ledger, ref), status=400, download=form,
                message="Choose the package and a purpose, and say why. Nothing was recorded.",
            )  # fmt: skip
    root = packages_dir() / name
    if root.is_symlink() or not root.is_dir():
        raise NotFound(f"no package {name} for {ref}")
    try:  # the export the ledger recorded, checked as its recipient will: the viewings
        # recorded are of the segments it holds, not of what a file edited on disk says
        verify_package(root, desk().datadir.public_key())
    except EvidenceInvalid as e:
        raise EvidenceInvalid(f"package {name} does not check out, so it is not sent: {e}") from e
    segments = _package_segments(root)
    remote = not is_loopback(request.remote_addr or "")
    with acting() as (ledger, me):
        permits = [
            ledger.check_viewing(
                s, reason=form.reason.data or "", purpose=form.purpose.data or "", actor=me,
                action="download an evidence export",
            )  # refused (recorded, 403) as a viewing would be: no reason, staff, past its days
            for s in segments
        ]  # fmt: skip
        for permit in permits:
            ledger.record_viewing(permit, kind="download", remote=remote)
        ledger.record_read("evidence export", ref, actor=me, detail=name)
    return Response(
        _zipped(root, name), mimetype="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{name}.zip"'},
    )  # fmt: skip
