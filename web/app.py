"""The Flask application: security around every request, then the pages (web.pages).

One ``Ledger`` serves every browser; each request that touches it holds the gate (one
request at a time in the ledger), admits the signed-in member's key for that request
only (``Ledger.unlock_with``: a reset, revoked or locked-out key ends the session and the
refusal is recorded) and forgets it after. Every act is so signed by the member whose
browser asked for it.
"""

from __future__ import annotations

import gc
import re
import secrets
import threading
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from eventsourcing.persistence import IntegrityError
from flask import Flask, Response, current_app, g, redirect, render_template, request, session
from flask_wtf.csrf import CSRFError, CSRFProtect
from markupsafe import Markup
from werkzeug.exceptions import HTTPException

from ledger import sitetime
from ledger.app import Ledger, open_ledger
from ledger.clock import Clock
from ledger.datadir import DataDir
from ledger.errors import (
    ClockBehind,
    InvalidInput,
    LedgerBusy,
    LedgerError,
    NotAuthenticated,
    NotFound,
    NotPermitted,
)
from ledger.release_rules import EMERGENCY_HOURS, release_numbers
from ledger.text import counted
from projections.base import ReadModelsOutdated, ReadModelsRebuilding, keep_engine
from projections.seal import ReadModelTampered
from web.sessions import SessionStore, WebSession

DEFAULT_IDLE_MINUTES = 15
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
ROLE_NAMES = {
    "director": "Director",
    "business_manager": "Business Manager",
    "staff": "staff",
    "counsel": "counsel",
}
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "media-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
OPEN_ENDPOINTS = {"pages.login", "static"}


class SignInThrottle:
    """Failed sign-ins per client address, in memory. One computer gets one attempt fewer
    in the site's failure window than it takes to lock a member out, then waits for the
    window: so nobody at one computer can lock a member out (the Director least of all),
    nor write refusals into the ledger as fast as it can post. A lockout takes guesses
    from two computers; every guess is recorded as before. A sign-in that succeeds forgets
    only the failures under the name it signed in as (red team, session 13: signing in as
    oneself forgot the guesses at the Director's passphrase too, and two more locked her
    out)."""

    def __init__(self) -> None:
        self._failures: dict[str, list[tuple[datetime, str]]] = {}
        self._lock = threading.Lock()

    def attempt(
        self, client: str, now: datetime, limit: int, window: timedelta, name: str
    ) -> datetime | None:
        """Count a sign-in from ``client`` as failed before it is tried, and return None;
        or, when the client has no try left in the window, when it may try again (nothing
        counted). Checked and counted under one lock (web red team, session 16: the
        check came first and the count after the passphrase's check, so eight sign-ins
        posted at once all passed the check, and one computer locked a member out); a
        sign-in that succeeds takes its count back (``succeeded``)."""
        with self._lock:
            recent = [(t, n) for t, n in self._failures.get(client, []) if now - t < window]
            if len(recent) >= max(1, limit):
                self._failures[client] = recent
                return recent[0][0] + window
            self._failures[client] = [*recent, (now, _folded(name))]
            if len(self._failures) > 10_000:  # bounded: forget the oldest clients
                for stale in list(self._failures)[:1_000]:
                    del self._failures[stale]
            return None

    def succeeded(self, client: str, name: str) -> None:
        """``name`` signed in from ``client``: its own earlier failures are forgotten."""
        with self._lock:
            left = [(t, n) for t, n in self._failures.get(client, []) if n != _folded(name)]
            if left:
                self._failures[client] = left
            else:
                self._failures.pop(client, None)


def _folded(name: str) -> str:
    """A typed name as the throttle compares it: NFKC, case folded, spaces collapsed."""
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


@dataclass
class Desk:
    """What the application keeps between requests."""

    ledger: Ledger
    datadir: DataDir
    sessions: SessionStore
    tls: bool
    gate: threading.RLock = field(default_factory=threading.RLock)
    # clips made playable for a viewing just recorded: token -> (session id, WebM, until)
    clips: dict[str, tuple[str, bytes, datetime]] = field(default_factory=dict)
    # failed sign-ins per client address, for the throttle (``SignInThrottle``)
    throttle: SignInThrottle = field(default_factory=SignInThrottle)
    _zone: ZoneInfo | None = None

    def now(self) -> datetime:
        return self.ledger.clock()

    def zone(self) -> ZoneInfo:
        """The site's time zone (fixed when the ledger was initialised; read once)."""
        if self._zone is None:
            self._zone = self.ledger.site().zone
        return self._zone


def waitress_options(threads: int, *, behind_tls_proxy: bool = False) -> dict[str, Any]:
    """How ``custodes serve`` runs waitress: a request body longer than the upload limit
    is refused (413) by waitress from its Content-Length, before the body is read at all
    (waitress would otherwise buffer it, up to 1 GiB, before the application sees it).

    Behind a TLS proxy the proxy's ``X-Forwarded-*`` headers reach the application, which
    reads them in one place (``web.command.behind_proxy``; the server listens on this
    machine only). Waitress removes them by default (web red team, session 16: every
    client then counted as one unknown address, so four typos anywhere kept everyone
    from signing in, and every viewing was logged remote)."""
    options = {"threads": threads, "ident": "custodes", "max_request_body_size": MAX_UPLOAD_BYTES}
    if behind_tls_proxy:
        options["clear_untrusted_proxy_headers"] = False
    return options


def freeze_startup_heap() -> None:
    """What the server loaded to start (modules, SQLAlchemy's and eventsourcing's tables
    and classes, the ledger, the application) lives as long as it does: moved out of the
    cyclic garbage collector's reach (``gc.freeze``), so the collector's full passes,
    every ten pages or so, no longer walk all of it (each took ~130 ms, the home page's
    p95, at 100k events on a quiet machine)."""
    gc.collect()
    gc.freeze()


def desk() -> Desk:
    return current_app.extensions["custodes"]  # type: ignore[no-any-return]


def create_app(
    data_dir: Path,
    *,
    tls: bool = False,
    idle_minutes: int = DEFAULT_IDLE_MINUTES,
    clock: Clock | None = None,
) -> Flask:
    datadir = DataDir.open(data_dir)
    ledger = open_ledger(datadir, clock=clock, pre_ping=True)  # idle for hours at night
    keep_engine(ledger)  # one read-model pool for every page (issue 17)
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=secrets.token_bytes(32),  # a restart signs every browser out
        SESSION_COOKIE_NAME="__Host-custodes" if tls else "custodes",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_SECURE=tls,
        MAX_CONTENT_LENGTH=MAX_UPLOAD_BYTES,  # refused before it is read whole
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
        WTF_CSRF_SSL_STRICT=tls,
    )
    app.extensions["custodes"] = Desk(
        ledger, datadir, SessionStore(timedelta(minutes=idle_minutes)), tls
    )
    app.before_request(_same_origin)  # before the CSRF token check and any page
    CSRFProtect(app)
    app.before_request(_signed_in)
    app.after_request(_headers)
    _error_pages(app)
    from web import exports, footage, pages, registers, reports, request_steps

    app.register_blueprint(pages.bp)
    app.register_blueprint(request_steps.bp)
    app.register_blueprint(footage.bp)
    app.register_blueprint(reports.bp)
    app.register_blueprint(registers.bp)
    app.register_blueprint(exports.bp)
    app.jinja_env.globals.update(
        role_name=_role_name,
        show_time=_show_time,
        site_zone=lambda: desk().zone().key,
        counted=counted,
        emergency_hours=EMERGENCY_HOURS,
    )
    app.jinja_env.filters["as_notice"] = as_notice
    app.jinja_env.filters["release_numbers"] = release_numbers
    app.teardown_appcontext(lambda _e: None)
    return app


# ---- every request ------------------------------------------------------------------------


def _same_origin() -> Response | None:
    """A state-changing request from another site is refused before anything else runs:
    the browser's Sec-Fetch-Site, else its Origin, must name this site."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return None
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        if site not in ("same-origin", "none"):
            return _error(400, "This form came from another site; nothing was recorded.")
        return None
    origin = request.headers.get("Origin")  # older browsers: the Origin header
    if origin is not None and (origin == "null" or urlsplit(origin).netloc != request.host):
        return _error(400, "This form came from another site; nothing was recorded.")
    return None


@dataclass(frozen=True)
class Me:
    """The signed-in member as pages show her: ``role`` is the one the ledger gives her
    acts now, the Director's while she holds a delegation (``delegation``, R3)."""

    name: str
    role: str
    delegation: str | None = None


def me() -> Me | None:
    web = g.get("web")
    if web is None:
        return None
    return Me(web.signer.name, g.get("role", web.signer.role), g.get("delegation"))


def _signed_in() -> Response | None:
    if request.endpoint in OPEN_ENDPOINTS or request.endpoint is None:
        return None
    d = desk()
    web = d.sessions.get(session.get("sid"), d.now())
    if web is None:
        expired = "sid" in session
        session.clear()
        target = request.full_path if request.method == "GET" else request.path
        return redirect(  # type: ignore[return-value]
            f"/login?next={_quote(target.rstrip('?'))}" + ("&expired=1" if expired else "")
        )
    with d.gate:
        member = d.ledger.member(web.signer.name)
    changed = getattr(member, "passphrase_changed_at", None)
    if changed is not None and changed > web.started:
        # the member changed their passphrase (perhaps suspecting it was known): every
        # session begun before ends, as a reset's or a lockout's does
        d.sessions.drop(session.get("sid"))
        session.clear()
        return redirect("/login?expired=1")  # type: ignore[return-value]
    g.web = web
    g.role, g.delegation = web.signer.role, None
    if member is None or not member.active or member.key_id != web.signer.key_id:
        # a key reset or revoked meanwhile: every page refuses the session (recorded) and
        # ends it, whether or not the page signs anything (web red team, session 16: the
        # pages that only show a form were still shown)
        with acting():
            pass
    if web.signer.role != "director":  # an acting Director acts as the Director (R3)
        delegation = member.delegation_at(d.now()) if member is not None else None
        if delegation is not None:
            g.role, g.delegation = "director", delegation
    return None


def _headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    # same-origin: Flask-WTF checks the Referer under TLS; other sites get none
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    if request.endpoint != "static":
        response.headers["Cache-Control"] = "no-store"
    if desk().tls:
        response.headers["Strict-Transport-Security"] = "max-age=31536000"
    return response


@contextmanager
def acting() -> Iterator[tuple[Ledger, str]]:
    """The ledger with the signed-in member's key admitted for this request only; their
    name. A key no longer in force ends the session (the refusal is recorded)."""
    d = desk()
    web: WebSession = g.web
    with d.gate:
        d.ledger.forget_unlocked()
        try:
            name = d.ledger.unlock_with(web.signer).name
        except NotPermitted:
            d.sessions.drop(session.get("sid"))
            session.clear()
            g.pop("web", None)  # the error page shows no menu of a session that has ended
            raise
        try:
            yield d.ledger, name
        finally:
            d.ledger.forget_unlocked()


# ---- error pages: a sentence, never a stack trace -------------------------------------------


# A ledger message's pointer to a command ("(see: custodes request list)") is for a
# terminal; in a browser the menu leads there.
_COMMAND_HINT = re.compile(
    r" \((?:see: )?custodes [^)]*\)"  # (see: custodes request list), (custodes verify ...)
    r"| \(--[a-z-]+\)"  # "the reason (--reason)"
    r"|;? pass --[a-z-]+(?: [A-Z_]+)?"  # "a reason is required; pass --reason TEXT"
)


def for_browser(message: str) -> str:
    """A ledger message without its pointers to command-line options and commands: in a
    browser the form's own fields and the menu lead there."""
    return _COMMAND_HINT.sub("", message)


# A command, option or file a ledger message names in backticks ("no `patron forget` is
# recorded"): a terminal shows the backticks, a page sets it as code.
_CODE = re.compile(r"`([^`\n]+)`")
# A refusal's rule, cited before its message (``Rule.cite``).
_CITE = re.compile(r"[A-Z][A-Z0-9.-]+ \([^)]*\): ")


def as_notice(message: str) -> Markup:
    """A ledger message as a page shows it (``for_browser``), as a sentence: its first
    letter a capital ("cameras are not used to monitor staff..." starts most refusals,
    written to follow "refused: " in a terminal), and what it names in backticks set as
    code. Escaped: the message may quote what someone typed."""
    text = for_browser(message).strip()
    cite = _CITE.match(text)  # "FOOTAGE-NO-STAFF-MONITORING (Policy V-B): cameras..."
    at = cite.end() if cite else 0
    text = text[:at] + text[at : at + 1].upper() + text[at + 1 :]
    parts = _CODE.split(text)  # odd places: the text between a pair of backticks
    return Markup("").join(
        Markup("<code>{}</code>").format(part) if i % 2 else part for i, part in enumerate(parts)
    )


def _error(status: int, message: str, *, rule: str = "", recorded: bool = False) -> Response:
    from web.forms import LogoutForm

    web = g.get("web")
    signed_in = {"me": me(), "logout_form": LogoutForm()} if web is not None else {}
    body = render_template(
        "error.html", status=status, message=message, rule=rule,
        recorded=recorded, **signed_in,
    )  # fmt: skip
    return Response(body, status=status, mimetype="text/html")


def _error_pages(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf(e: CSRFError) -> Response:
        return _error(
            400,
            "The form's security token is missing or out of date (reload the page and try "
            "again); nothing was recorded.",
        )

    @app.errorhandler(NotPermitted)
    def refused(e: NotPermitted) -> Response:
        # the page cites the rule below the message, with its summary: not twice
        message = str(e).removeprefix(f"{e.rule.cite()}: ")
        return _error(403, message, rule=f"{e.rule.cite()}: {e.rule.summary}", recorded=e.recorded)

    @app.errorhandler(NotFound)
    def not_found(e: NotFound) -> Response:
        return _error(404, str(e))

    @app.errorhandler(InvalidInput)
    def invalid(e: InvalidInput) -> Response:
        return _error(400, f"{e}; nothing was recorded.")

    @app.errorhandler(IntegrityError)
    def conflict(e: IntegrityError) -> Response:
        return _error(
            409,
            "Someone else changed the same record at the same moment; nothing was recorded. "
            "Open the page again to see their change.",
        )

    @app.errorhandler(LedgerBusy)
    def busy(e: LedgerBusy) -> Response:
        return _error(503, f"{e}; nothing was recorded. Try again in a moment.")

    @app.errorhandler(ReadModelsRebuilding)
    def rebuilding(e: ReadModelsRebuilding) -> Response:
        # the read models are in a rebuild's scratch files until it ends (SQLite)
        return _error(
            503,
            "This page cannot be shown yet: its read models are being rebuilt right now "
            "(whoever looks after this server is running `custodes projections rebuild`). "
            "Reload the page when the rebuild has finished.",
        )

    @app.errorhandler(NotAuthenticated)
    def not_signed(e: NotAuthenticated) -> Response:
        return _error(401, "Please sign in again; nothing was recorded.")

    @app.errorhandler(ReadModelTampered)
    def tampered(e: ReadModelTampered) -> Response:
        # as the command line's exit 3: a read model that does not match its seal is
        # never shown (R29); the message names each table and row
        app.logger.error("read models do not match the ledger: %s", e)
        return _error(500, str(e))

    @app.errorhandler(ReadModelsOutdated)
    def outdated(e: ReadModelsOutdated) -> Response:
        # an upgrade step for whoever looks after the server, not the reader's mistake
        app.logger.error("read models of an earlier version: %s", ", ".join(e.tables))
        return _error(
            503,
            f"The dashboard cannot show this yet: its read models ({', '.join(e.tables)}) "
            "were made by an earlier version of Custodes. Whoever looks after this server "
            "runs `custodes projections rebuild` once, as the database owner; then reload "
            "this page. The ledger itself is unchanged, and nothing was recorded.",
        )

    @app.errorhandler(ClockBehind)
    def clock_behind(e: ClockBehind) -> Response:
        # a clock set ahead blocks every act (R26): say what to do in the browser's words
        return _error(
            503,
            f"Nothing was recorded: the ledger's last act is timed "
            f"{e.last.isoformat(timespec='minutes')} UTC, ahead of this server's clock. "
            "Every act is refused until that time comes or the Director sets it aside (her "
            "home page, or custodes clock correct). If this server's clock is wrong, have "
            "it corrected (NTP) first.",
        )

    @app.errorhandler(LedgerError)
    def ledger_error(e: LedgerError) -> Response:
        return _error(400, str(e))

    @app.errorhandler(HTTPException)
    def http(e: HTTPException) -> Response:
        return _error(e.code or 500, e.description or e.name)

    @app.errorhandler(Exception)
    def crash(e: Exception) -> Response:
        app.logger.exception("unexpected error")  # the server's log, not the page
        return _error(500, "Something went wrong on the server; it is in the server's log.")


# ---- template helpers ---------------------------------------------------------------------


def _role_name(role: str) -> str:
    return ROLE_NAMES.get(role, role.replace("_", " "))


def _show_time(moment: datetime | None) -> Markup | str:
    """Site time with its label, in a ``<time>`` element (its machine-readable UTC
    instant; the stylesheet keeps it on one line, so a narrow cell does not break a date
    at its hyphens)."""
    if moment is None:
        return ""
    instant = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return Markup('<time datetime="{}">{}</time>').format(
        instant, sitetime.show(moment, desk().zone())
    )


def _quote(path: str) -> str:
    from urllib.parse import quote

    return quote(path, safe="/")


def not_recorded(e: Exception) -> str:
    """A refusal's message for a form: the error, then that nothing was recorded, said
    once (most of the ledger's messages say it already)."""
    text = str(e).rstrip(". ")
    return (
        f"{text}."
        if "nothing was recorded" in text.casefold()
        else f"{text}. Nothing was recorded."
    )


def safe_next(target: str | None) -> str:
    """A path on this site to go back to after signing in; anything else goes home.
    Browsers drop tabs and newlines from a URL, so ``/\t/evil.example`` would become
    ``//evil.example``: control characters are refused too."""
    if (
        not target
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or any(ord(c) < 0x20 or ord(c) == 0x7F for c in target)
    ):
        return "/"
    return target
