"""The registers the Director, the Business Manager and counsel read besides the
compliance report: the disclosure register (``custodes report disclosures``), the
footage access log (``report access``) and the anonymized statistics (``report
statistics``); and, for legal review, a signed checkpoint (``custodes checkpoint``), an
inclusion proof (``custodes prove``) and the public key (``keys export-public``) to
download. Each reads the same projections as the command line; who may read them is
checked by the ledger (``authorize``: a refusal is recorded and shown as 403).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, request

from ledger import rules, sitetime
from ledger.errors import InvalidInput
from ledger.reads import READERS
from ledger.text import register_cell
from web.app import acting, desk
from web.forms import CheckpointForm, PeriodFilter, ProofForm, StatisticsForm, day_problem
from web.pages import page

bp = Blueprint("registers", __name__)
LEGAL = READERS["history"]  # who reads histories: the Director and counsel


def _report_roles() -> tuple[str, ...]:
    from projections.compliance import REPORT_ROLES

    return tuple(REPORT_ROLES)


def _period_problem(form: Any) -> str | None:
    """What is wrong with a period filter, in words for the form (None: it reads)."""
    if not form.validate():
        return "The dates are site days (YYYY-MM-DD)."
    first, last = form.first.data, form.last.data
    if first and last and first > last:
        return f"The period runs from {first} to {last}: swap them."
    return day_problem(first) or day_problem(last)


def _period(form: Any) -> tuple[datetime | None, datetime | None]:
    """[start, end) of whole site days; either end may be open (``_period_problem`` first)."""
    zone = desk().zone()
    first, last = form.first.data, form.last.data
    start = sitetime.day_start(first, zone) if first else None
    end = sitetime.days(last, last, zone)[1] if last else None
    return start, end


def _download(data: bytes, mimetype: str, name: str) -> Response:
    return Response(
        data, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


# ---- the disclosure register --------------------------------------------------------------


@bp.route("/reports/disclosures")
def disclosures() -> Response:
    from projections.disclosures import DisclosureRow
    from projections.disclosures import disclosures as register
    from projections.registry import read_views

    form = PeriodFilter(request.args)
    fmt = request.args.get("format", "page")
    problem = _period_problem(form)
    if problem:
        return page("disclosures.html", 400, form=form, rows=None, message=problem)
    start, end = _period(form)
    with acting() as (ledger, me):
        ledger.authorize(me, "report disclosures", _report_roles(), rules.STAFF_ROLE)
        # a request opened by a clock a correction set aside: by when it was really opened
        spans = ledger.set_aside_spans() if start or end else []
        rows = read_views(
            ledger, lambda conn: register(conn, start, end, set_aside=spans), checked=True
        )
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        columns = [f.name for f in dataclasses.fields(DisclosureRow)]
        writer.writerow(columns)
        for r in rows:
            writer.writerow([register_cell(getattr(r, c)) for c in columns])
        return _download(out.getvalue().encode(), "text/csv", "disclosure-register.csv")
    return page("disclosures.html", form=form, rows=rows, message="")


# ---- the footage access log ---------------------------------------------------------------


@bp.route("/reports/access")
def access() -> Response:
    from projections.access import access_report
    from projections.compliance import acting_lookup, with_acting
    from projections.registry import read_views

    form = PeriodFilter(request.args)
    problem = _period_problem(form)
    if problem:
        return page("access.html", 400, form=form, report=None, message=problem)
    start, end = _period(form)
    with acting() as (ledger, me):
        ledger.authorize(me, "report access", _report_roles(), rules.STAFF_ROLE)
        report = read_views(ledger, lambda conn: access_report(conn, start, end), checked=True)
        report = with_acting(report, acting_lookup(ledger))
    return page("access.html", form=form, report=report, message="")


# ---- statistics ---------------------------------------------------------------------------


@bp.route("/reports/statistics")
def statistics() -> Response:
    from projections.registry import read_views
    from projections.statistics import statistics as compute

    form = StatisticsForm(request.args)
    d = desk()
    today = sitetime.local_day(d.now(), d.zone())
    if not request.args:
        form.first.data, form.last.data = today.replace(month=1, day=1), today
        return page("statistics.html", form=form, stats=None, message="")
    if not form.validate():
        return page("statistics.html", 400, form=form, stats=None,
                    message="Give the first and last site day; the threshold is a whole "
                    "number from 1 to 1,000.")  # fmt: skip
    first, last = form.first.data, form.last.data
    assert first is not None and last is not None
    if first > last or last > today:
        problem = _period_problem(form) or (
            f"The period ends on {last}, after today ({today}): statistics cover days that "
            "have begun."
        )
        return page("statistics.html", 400, form=form, stats=None, message=problem)
    start, end = sitetime.days(first, last, d.zone())
    with acting() as (ledger, me):
        ledger.authorize(me, "report statistics", _report_roles(), rules.STAFF_ROLE)
        # R28: the adopted policy version's threshold unless one is given (as the CLI)
        policy_cut = ledger.policy_params().small_cell_threshold
        cut = form.threshold.data or policy_cut
        if cut < policy_cut:  # counts that identify people: the Director's, never published
            ledger.authorize(me, "report statistics below the policy's threshold",
                             ("director",), rules.LRCA_STATISTICS)  # fmt: skip
        spans = ledger.set_aside_spans()  # requests by when they were really opened
        stats = read_views(
            ledger,
            lambda conn: compute(conn, start, end, threshold=cut, set_aside=spans),
            checked=True,
        )
    return page("statistics.html", form=form, stats=stats, message="", policy_cut=policy_cut)


# ---- legal review: checkpoint, proof, public key -------------------------------------------


def _signing_key(passphrase: str | None) -> Any:
    d = desk()
    secret = (passphrase or "").encode() if d.datadir.signing_key_is_encrypted() else None
    try:
        return d.datadir.signing_key(secret)
    except Exception as e:  # a wrong signing passphrase: say so, record nothing
        raise InvalidInput(f"the checkpoint signing key cannot be used: {e}") from None


@bp.route("/legal")
def legal() -> Response:
    with acting() as (ledger, me):
        ledger.authorize(
            me, "download checkpoints and proofs for legal review", LEGAL, rules.STAFF_ROLE
        )
    return _legal_page()


def _legal_page(status: int = 200, message: str = "", **forms: Any) -> Response:
    return page(
        "legal.html", status,
        checkpoint_form=forms.get("checkpoint") or CheckpointForm(formdata=None),
        proof_form=forms.get("proof") or ProofForm(formdata=None),
        encrypted=desk().datadir.signing_key_is_encrypted(), message=message,
    )  # fmt: skip


@bp.route("/legal/checkpoint", methods=["POST"])
def checkpoint() -> Response:
    form = CheckpointForm()
    with acting() as (ledger, me):
        ledger.authorize(me, "checkpoint", LEGAL, rules.STAFF_ROLE)
        if not form.validate_on_submit():
            return _legal_page(400, "The form was incomplete.", checkpoint=form)
        try:
            made, _reader = _witnessed_checkpoint(ledger, form.signing_passphrase.data)
        except InvalidInput as e:
            return _legal_page(400, f"{e}.", checkpoint=form)
    if made.evidence:
        return _rewritten(made, checkpoint=form)
    return _download(
        made.note.encode(), "text/plain", f"custodes-{made.checkpoint.size}.checkpoint"
    )


def _witnessed_checkpoint(ledger: Any, passphrase: str | None) -> tuple[Any, Any]:
    """``custodes checkpoint``'s path (``witnessed_checkpoint``), for the checkpoint and
    the proof downloads alike: the witness policy the ledger keeps must list this ledger
    with its key, the chain is verified and its tree head signed, the policy's witnesses
    are asked to cosign it, and it is kept as the last signed checkpoint (the home
    page). With the chain it was read from, for a proof."""
    from ledger.integrity import open_chain
    from ledger.witness.ledger_side import recorded_policy, witnessed_checkpoint

    d = desk()
    site = ledger.site()
    reader = open_chain(d.datadir, warm_up=True)
    made = witnessed_checkpoint(
        reader, origin=site.log_origin, signing_key=_signing_key(passphrase),
        public_key=d.datadir.public_key(), policy=recorded_policy(site.witness_policy),
        now=d.now(), keep_in=d.datadir.path,
    )  # fmt: skip
    return made, reader


def _rewritten(made: Any, **forms: Any) -> Response:
    """A witness holds a checkpoint the ledger no longer extends: no download (409), as
    ``custodes checkpoint`` exits 3."""
    return _legal_page(
        409,
        "A witness holds a checkpoint of this ledger that the ledger no longer extends "
        "(entries were rewritten or lost since): " + "; ".join(made.evidence),
        **forms,
    )


@bp.route("/legal/proof", methods=["POST"])
def proof() -> Response:
    """An inclusion proof against a checkpoint made now by ``custodes checkpoint``'s path
    (witnessed, as ``custodes prove N --checkpoint`` takes one), as ``custodes prove``."""
    from ledger.errors import NotFound
    from ledger.integrity import prove

    form = ProofForm()
    with acting() as (ledger, me):
        ledger.authorize(me, "prove", LEGAL, rules.STAFF_ROLE)
        if not form.validate_on_submit():
            return _legal_page(400, "Give the event's number.", proof=form)
        event = int(form.event.data or 0)
        try:
            made, reader = _witnessed_checkpoint(ledger, form.signing_passphrase.data)
            if made.evidence:
                return _rewritten(made, proof=form)
            proven = prove(reader, event, made.checkpoint, made.note)
        except (InvalidInput, NotFound) as e:
            return _legal_page(400, f"{e}.", proof=form)
    data = (json.dumps(proven.to_json(), indent=2) + "\n").encode()
    return _download(data, "application/json", f"proof-event-{event}.json")


@bp.route("/legal/public-key.pem")
def public_key() -> Response:
    """The library's public key: it checks checkpoints, proofs and exports; public."""
    with acting() as (ledger, me):
        ledger.authorize(me, "keys export-public", LEGAL, rules.STAFF_ROLE)
    return _download(desk().datadir.public_key_pem(), "application/x-pem-file",
                     "custodes-public.pem")  # fmt: skip
