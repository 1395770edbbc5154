"""The pages. Each calls the ledger's use-cases (which authorize, record refusals and
reads) or the projections; nothing here decides what the policy allows."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, Response, g, redirect, render_template, request, session

from ledger import rules, sitetime
from ledger.disclosure import request_id
from ledger.errors import (
    InvalidInput,
    LedgerBusy,
    LedgerError,
    NotFound,
    NotPermitted,
    StaleForm,
)
from ledger.policy import guardianship_text
from ledger.staff import COUNTED_FAILURES
from projections.request_record import request_sections
from web import totp
from web.app import acting, desk, me, not_recorded, safe_next
from web.forms import (
    ClockCorrectForm,
    DecisionForm,
    IntakeForm,
    LoginForm,
    LogoutForm,
    ReleaseForm,
    options,
)

bp = Blueprint("pages", __name__)

OVERSIGHT = ("director", "business_manager", "counsel")
ATTENTION_SHOWN = 5  # items of one kind shown on the home page; the rest are counted


def page(template: str, status: int = 200, **context: Any) -> Response:
    context.setdefault("me", me())
    context.setdefault("logout_form", LogoutForm())
    return Response(render_template(template, **context), status=status, mimetype="text/html")


# ---- signing in and out ---------------------------------------------------------------------


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response:
    form = LoginForm()
    message = ""
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next"))
        if request.args.get("expired"):
            message = "Your session ended after a while without use; please sign in again."
        return page("login.html", form=form, message=message)
    if not form.validate_on_submit():
        return page("login.html", 400, form=form, message="Type your name and passphrase.")
    d = desk()
    passphrase = (form.passphrase.data or "").encode()
    client, now = request.remote_addr or "?", d.now()
    site = d.ledger.site()
    form.passphrase.data = ""
    wait = d.throttle.attempt(
        client, now, site.max_failures - 1, timedelta(minutes=site.failure_window_minutes),
        form.name.data or "",
    )  # fmt: skip
    if wait is not None:  # nothing is tried, so nothing is recorded
        return page(
            "login.html",
            429,
            form=form,
            message="Too many failed sign-ins from this computer: try again after "
            f"{sitetime.show(wait, d.zone())}.",
        )
    with d.gate:
        d.ledger.forget_unlocked()
        try:
            signer = d.ledger.authenticate(form.name.data or "", passphrase, suggest=False)
            if totp.enrolled(d.datadir, signer) and not totp.check(
                d.datadir, signer, form.code.data or ""
            ):
                d.ledger.second_factor_failed(signer)
        except (NotPermitted, NotFound, InvalidInput) as e:  # counted by ``attempt``
            # one message for a wrong passphrase and a wrong code, so the code step never
            # confirms a guessed passphrase (red team, session 13); the ledger records which
            said = str(e)
            for wrong in COUNTED_FAILURES:  # the causes the ledger words its refusal by
                said = said.replace(f"{wrong} for", "wrong passphrase or one-time code for")
            return page("login.html", 401, form=form, message=said)
        finally:
            d.ledger.forget_unlocked()
    d.throttle.succeeded(client, signer.name)
    d.sessions.drop(session.get("sid"))  # a browser signing in again leaves its old session
    session.clear()  # a new session id at every sign-in (no fixation)
    session["sid"] = d.sessions.new(signer, d.now())
    return redirect(safe_next(form.next.data))  # type: ignore[return-value]


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    desk().sessions.drop(session.get("sid"))
    session.clear()
    return redirect("/login")  # type: ignore[return-value]


# ---- home: what needs attention -------------------------------------------------------------


@bp.route("/")
def home() -> Response:
    from ledger.verification_commands import last_outcome
    from projections.compliance import desk as desk_summary
    from projections.disclosures import disclosures
    from projections.registry import read_views

    d = desk()
    with acting() as (ledger, me):
        role = g.role
        # one checked read of the register for the attention list and the member's own
        # and only the overdue segments it shows, the others counted
        summary = (
            desk_summary(ledger, d.now(), entered_by=me, shown=ATTENTION_SHOWN)
            if role in OVERSIGHT
            else None
        )
        position, head = ledger.chain_head()
        issued = ledger.last_report_issued() if role in OVERSIGHT else None
        verified = last_outcome(ledger, d.datadir.path, d.now()) if role in OVERSIGHT else None
        kept, kept_problem = _last_checkpoint(ledger) if role in OVERSIGHT else (None, "")
        clock = ledger.clock_state()  # a clock set ahead blocks every act: say so first
        # the requests this member took in: the signed intake, not the typed "received by"
        mine = (
            summary.mine
            if summary is not None
            else read_views(ledger, lambda conn: disclosures(conn, entered_by=me), checked=True)
        )
    groups: dict[tuple[str, str], list[Any]] = {}
    for item in summary.attention if summary is not None else ():
        groups.setdefault((item.severity, item.rule_id), []).append(item)  # most serious first
    unlisted = summary.overdue_unlisted if summary is not None else 0
    shown = [(items[:ATTENTION_SHOWN], _more(items, unlisted)) for items in groups.values()]
    return page(
        "home.html",
        groups=shown,
        attention_count=sum(len(items) for items in groups.values()) + unlisted,
        oversight=role in OVERSIGHT or role == "director",
        summary=summary,
        mine=mine,
        chain={"entries": position, "head": head.hex()},
        issued=issued,
        verify=verified,
        kept=kept,
        kept_problem=kept_problem,
        clock=clock,
        clock_form=ClockCorrectForm() if clock.blocked and role == "director" else None,
    )


@bp.route("/clock/correct", methods=["POST"])
def clock_correct() -> Response:
    """The Director sets aside the recorded time of the acts a clock set ahead recorded
    (``custodes clock correct``): her passphrase again (sudo mode), a reason, one act."""
    form = ClockCorrectForm()
    with acting() as (ledger, me):
        if not form.validate_on_submit():
            raise InvalidInput("give the reason and your passphrase; nothing was recorded")
        _sudo(ledger, me, form.passphrase.data or "")
        ledger.correct_clock(reason=form.reason.data or "", actor=me)
    return redirect("/")  # type: ignore[return-value]


def _more(items: list[Any], unlisted: int) -> int:
    """How many of a group's items the home page does not show: past ATTENTION_SHOWN, and
    the overdue segments ``desk`` counted without listing (FOOTAGE-RETENTION violations)."""
    more = max(0, len(items) - ATTENTION_SHOWN)
    if (items[0].severity, items[0].rule_id) == ("violation", rules.FOOTAGE_RETENTION.id):
        more += unlisted
    return more


def _last_checkpoint(ledger: Any) -> tuple[Any, str]:
    """The last checkpoint signed by ``custodes checkpoint``'s path (the command line's
    and the legal page's), its cosignatures judged under the witness policy the ledger
    keeps, as ``verify --against`` judges them; or why it cannot be shown."""
    from ledger.witness.ledger_side import kept_checkpoint, recorded_policy

    d = desk()
    site = ledger.site()
    try:
        kept = kept_checkpoint(
            d.datadir.path, origin=site.log_origin, public_key=d.datadir.public_key(),
            policy=recorded_policy(site.witness_policy),
        )  # fmt: skip
    except InvalidInput as e:  # its signature fails: say so, never show it as signed
        return None, str(e)
    return kept, ""


@bp.route("/verify", methods=["POST"])
def verify_now() -> Response:
    """Check the whole chain now (no key needed). One that passes is recorded in the
    ledger, signed by this member, so the home page shows it after a restart and
    ``custodes verify --record`` from cron sees the same record; a failure is kept in the data
    directory instead, never appended to the chain it found damaged (``keep_failure``)."""
    from ledger.act_check import ActChecker
    from ledger.integrity import open_chain, verify_chain
    from ledger.verification_commands import keep_failure

    d = desk()
    with acting() as (ledger, me):
        ledger.authorize(me, "verify the ledger", OVERSIGHT, rules.STAFF_ROLE)
        # with the server's clock: an act recorded ahead of it is damage, as in verify
        result = verify_chain(open_chain(d.datadir), acts=ActChecker(now=d.now()))
        if not result.ok:
            keep_failure(d.datadir.path, result, by=me, via="web", at=d.now())
            return redirect("/")  # type: ignore[return-value]
        try:
            ledger.record_verification(result, deep=False, via="web", actor=me)
        except (NotPermitted, LedgerBusy):
            raise  # their own pages (a refusal is recorded; busy: try again)
        except Exception as e:  # the database refused the record: the outcome still stands
            return _verified_unrecorded(result.count, e)
    return redirect("/")  # type: ignore[return-value]


def _verified_unrecorded(entries: int, e: Exception) -> Response:
    """The chain verified but the database would not take the record of it (a database
    that refuses writes, a full disk): say both, as ``custodes verify --record`` warns,
    rather than an unexplained error (or a "changed by someone else" that is not so)."""
    from flask import current_app

    current_app.logger.warning("a verification that passed was not recorded", exc_info=e)
    reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    body = render_template(
        "error.html",
        status=503,
        rule="",
        recorded=False,
        message=f"OK: the {entries} entries verify. This verification was not recorded in "
        f"the ledger: the database refused it ({reason}). The home page still shows the last "
        "one recorded; try again, or run custodes verify --record where the ledger can be "
        "written.",
    )
    return Response(body, status=503, mimetype="text/html")


# ---- requests -------------------------------------------------------------------------------


@bp.route("/requests")
def requests_list() -> Response:
    """The requests this member may list (``listed_requests``, as ``request list``)."""
    from projections.disclosures import listed_requests

    with acting() as (ledger, me):
        rows = listed_requests(ledger, me)
    return page("requests.html", rows=rows)


def site_time(typed: datetime) -> datetime:
    """A date and time typed in site time (a datetime-local field), read by the same code
    as the command line's options (a time that does not exist on the site's clock, or
    happens twice, is refused the same way)."""
    return sitetime.parse(typed.strftime("%Y-%m-%dT%H:%M")).start(desk().zone())


def zone_labels(form: Any, *names: str) -> None:
    zone = desk().zone().key
    for name in names:
        field = getattr(form, name)
        if zone not in field.label.text:
            field.label.text = f"{field.label.text} (site time, {zone})"


@bp.route("/requests/new", methods=["GET", "POST"])
def request_new() -> Response:
    form = IntakeForm()
    zone_labels(form, "received_at")
    if request.method == "GET":
        form.received_by.data = g.web.signer.name
        return page("intake.html", form=form, message="")
    if not form.validate_on_submit():
        return page("intake.html", 400, form=form, message="Some fields need attention.")
    footage = [s.strip() for s in (form.footage.data or "").split(",") if s.strip()]
    try:
        with acting() as (ledger, me):
            ref = ledger.open_request(
                requester_kind=form.requester_kind.data or "",
                requester=form.requester.data or "",
                received_by=form.received_by.data or "",
                records=form.records.data or [],
                description=form.description.data or "",
                actor=me,
                patron_card=(form.patron_card.data or "").strip() or None,
                patron_name=form.patron_name.data or "",
                minor=bool(form.minor.data),
                guardianship=guardianship_text(
                    form.guardianship.data, form.guardianship_note.data or ""
                ),
                footage=footage,
                case_number=(form.case_number.data or "").strip() or None,
                received_at=site_time(form.received_at.data) if form.received_at.data else None,
            )
    except (InvalidInput, NotFound) as e:  # what was typed stays in the form
        return page("intake.html", 400, form=form, message=not_recorded(e))
    return redirect(f"/requests/{ref}")  # type: ignore[return-value]


def _version(ledger: Any, ref: str) -> int:
    return int(ledger.repository.get(request_id(ref)).version)


@bp.route("/requests/<ref>")
def request_page(ref: str) -> Response:
    with acting() as (ledger, me):
        ref = ledger.request_for(ref, actor=me, action="request show")  # else 404 (no oracle)
        view = ledger.read_request(ref, actor=me, detail="web")  # the read is recorded (R27)
        seen = _version(ledger, ref)
    return _request_page(view, seen)


def _request_page(
    view: dict[str, Any],
    seen: int,
    *,
    decision: DecisionForm | None = None,
    release: ReleaseForm | None = None,
    export: Any = None,
    record: Any = None,
    download: Any = None,
    message: str = "",
    status: int = 200,
) -> Response:
    from web.exports import download_form, export_form, packages_of, record_form

    packages = packages_of(view["ref"])
    decision = decision or DecisionForm(formdata=None)
    release = release or ReleaseForm(formdata=None)
    # a guardian is told a minor's fines by staff without a decision (R4): the plan's fields
    guardian = view["plan"]["basis"] == "guardian" and not view.get("decision")
    allowed = (
        view["plan"]["allowed_fields"]
        if guardian
        else (view.get("decision") or {}).get("allowed_fields") or []
    )
    release.fields.choices = options((f, f.replace("_", " ")) for f in allowed if f != "footage")
    if guardian and not release.to.data:
        release.to.data = view["requester"]  # told only to the guardian who asked
    release.footage.choices = options(
        (s, s) for s in (view.get("decision") or {}).get("approved_footage") or []
    )
    decision.seen.data = release.seen.data = str(seen)
    title, sections = request_sections(view, desk().zone())
    return page(
        "request.html",
        status,
        title=title,
        sections=sections,
        view=view,
        decision_form=decision,
        release_form=release,
        export_form=export or export_form(view),
        record_form=record or record_form(view),
        packages=packages,
        download_form=download or download_form(packages),
        encrypted=desk().datadir.signing_key_is_encrypted(),
        message=message,
        role=g.role,
    )


def _sudo(ledger: Any, me: str, passphrase: str) -> None:
    """Sudo mode: the passphrase again before a decision or a release (a wrong one is
    recorded and counts towards the lockout, as on the command line)."""
    ledger.authenticate(me, passphrase.encode())


def opened_at(seen: str | None) -> int:
    """The request's version a form was opened on; 0 when the form does not say (no
    request is at version 0: the ledger treats it as stale once the member is
    authorized, so a refused attempt is still refused and recorded first)."""
    return int(seen) if seen is not None and seen.isdigit() else 0


def _conflict(ledger: Any, ref: str, seen: str | None) -> str:
    """Why a form was stale: the form did not say when it was opened, or the request
    changed since the page was opened (another browser decided or released first)."""
    if not opened_at(seen):
        return (
            f"This form does not say which version of {ref} it was opened on, so it was not "
            "recorded. The request is shown again below: act on it from here."
        )
    view = ledger.request_view(ref)
    d = view.get("decision") or {}
    last = (view.get("releases") or [None])[-1]
    if last is not None:
        return (
            f"{ref} has changed since this page was opened: it was released "
            f"({last.get('by')}, {sitetime.show(last.get('at'), desk().zone())}). Your form "
            "was not recorded; read the request below."
        )
    if d:
        verdict = "approved" if d.get("approved") else "denied"
        return (
            f"{d.get('by')} {verdict} {ref} while you had this page open; your form was not "
            "recorded. Read the decision below and act again if you still need to."
        )
    return (
        f"{ref} changed while you had this page open; your form was not recorded. "
        "Read it again below."
    )


@bp.route("/requests/<ref>/decide", methods=["POST"])
def request_decide(ref: str) -> Response:
    form = DecisionForm()

    def decide(ledger: Any, me: str, _view: dict[str, Any]) -> None:
        ledger.decide(
            ref, approve=form.decision.data == "approve", reason=form.reason.data or "",
            actor=me, opened_at=opened_at(form.seen.data),
        )  # fmt: skip

    return _confirmed_act(
        ref, form, "decision", decide,
        "Choose approve or deny, give a reason and your passphrase.", "Nothing was decided.",
    )  # fmt: skip


@bp.route("/requests/<ref>/release", methods=["POST"])
def request_release(ref: str) -> Response:
    form = ReleaseForm()

    def choices(view: dict[str, Any]) -> None:
        decision = view.get("decision") or {}
        form.fields.choices = options((f, f) for f in decision.get("allowed_fields") or [])
        form.footage.choices = options((s, s) for s in decision.get("approved_footage") or [])

    def release(ledger: Any, me: str, _view: dict[str, Any]) -> None:
        ledger.release(
            ref, fields=form.fields.data or [], footage=form.footage.data or [],
            to=form.to.data or "", method=form.method.data or "",
            badge=form.badge.data or "", actor=me, opened_at=opened_at(form.seen.data),
        )  # fmt: skip

    return _confirmed_act(
        ref, form, "release", release,
        "Say what is released, to whom and how, and give your passphrase.",
        "Nothing was released.", prepare=choices,
    )  # fmt: skip


def _confirmed_act(
    ref: str,
    form: Any,
    which: str,
    act: Any,
    incomplete: str,
    not_done: str,
    *,
    prepare: Any = None,
) -> Response:
    """A decision or a release: the record read (R27), the form checked, the passphrase
    again (sudo mode; a wrong one recorded), then the act, which the ledger authorizes
    (a refusal recorded, 403) and then refuses if the request changed since the page was
    opened or the form does not say when (409, nothing recorded: ``StaleForm``).
    ``which`` names the form re-shown on a problem."""
    with acting() as (ledger, me):
        ref = ledger.request_for(ref, actor=me, action=f"request {which}")  # else 404
        view = ledger.read_request(ref, actor=me, detail=f"web {which}")
        if prepare is not None:
            prepare(view)

        def again(status: int, message: str, *, keep: bool = True) -> Response:
            if not keep:
                form.passphrase.data = ""
            return _request_page(
                view, _version(ledger, ref), status=status, message=message, **{which: form}
            )

        if not form.validate_on_submit():
            return again(400, incomplete)
        try:
            _sudo(ledger, me, form.passphrase.data or "")
        except NotPermitted as e:
            return again(403, f"{e}. {not_done}", keep=False)
        try:
            act(ledger, me, view)
        except StaleForm as e:
            return _request_page(view, e.version,
                                 message=_conflict(ledger, ref, getattr(form, "seen", None) and form.seen.data), status=409)  # fmt: skip
        except InvalidInput as e:
            return again(400, not_recorded(e), keep=False)
    return redirect(f"/requests/{ref}")  # type: ignore[return-value]


__all__ = ["bp", "LedgerError"]
