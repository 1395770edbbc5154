"""Signing in to the dashboard: passphrase, lockout, one-time codes, cookies, CSRF and
same-origin checks, idle timeout, sign-out, error pages (issue 17, items 1-2)."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pyotp
from flask import Flask

from ledger.app import open_ledger
from ledger.clock import ManualClock
from ledger.datadir import DataDir
from tests.conftest import NOW as NOW_UTC
from tests.identity import DIRECTOR, passphrase, passphrase_file
from tests.web.conftest import STAFF, head, kinds_since, post, sign_in, token


def _login(
    app: Flask, name: str, secret: str, *, client_addr: str = "127.0.0.1", **extra: str
) -> Any:
    client = app.test_client()
    environ = {"REMOTE_ADDR": client_addr}
    html = client.get("/login", environ_base=environ).get_data(as_text=True)
    return client.post(
        "/login",
        data={"name": name, "passphrase": secret, "csrf_token": token(html), **extra},
        environ_base=environ,
    )


def test_the_login_page_is_locked_down(app: Flask) -> None:
    response = app.test_client().get("/login")
    html = response.get_data(as_text=True)
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "<script" not in html  # no inline script anywhere
    assert response.headers["X-Frame-Options"] == "DENY"
    assert '<label for="passphrase">Passphrase</label>' in html


def test_signing_in_sets_a_strict_httponly_cookie_and_shows_home(app: Flask) -> None:
    client = app.test_client()
    html = client.get("/login").get_data(as_text=True)
    response = client.post(
        "/login",
        data={"name": DIRECTOR, "passphrase": passphrase(DIRECTOR), "csrf_token": token(html)},
    )
    assert response.status_code == 302 and response.headers["Location"] == "/"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert "Secure" not in cookie  # plain HTTP on 127.0.0.1; Secure under TLS (below)
    home = client.get("/").get_data(as_text=True)
    assert "Needs your attention" in home and DIRECTOR in home


def test_under_tls_the_cookie_is_secure(library: dict[str, Any], clock: ManualClock) -> None:
    from web.app import create_app

    app = create_app(library["data_dir"], clock=clock, tls=True)
    client = app.test_client()
    html = client.get("/login", base_url="https://localhost").get_data(as_text=True)
    response = client.post(
        "/login",
        base_url="https://localhost",
        data={"name": DIRECTOR, "passphrase": passphrase(DIRECTOR), "csrf_token": token(html)},
        headers={"Referer": "https://localhost/login"},
    )
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-custodes=") and "Secure" in cookie
    assert "Strict-Transport-Security" in response.headers


def test_a_wrong_passphrase_is_recorded_and_five_lock_the_member_out(
    app: Flask, library: dict[str, Any]
) -> None:
    start = head(library["data_dir"])
    for n in range(4):
        response = _login(app, STAFF, "not the passphrase at all")
        assert response.status_code == 401
        assert f"{n + 1} of 5" in response.get_data(as_text=True)
    # One computer may not lock a member out (web red-team F2): its fifth try waits for
    # the window, and nothing is tried or recorded.
    waits = _login(app, STAFF, "not the passphrase at all")
    assert waits.status_code == 429 and "Too many failed sign-ins" in waits.get_data(as_text=True)
    assert kinds_since(library["data_dir"], start).count("AuthenticationFailed") == 4
    response = _login(app, STAFF, "not it either", client_addr="192.0.2.7")  # another computer
    assert response.status_code == 401 and "5 of 5" in response.get_data(as_text=True)
    kinds = kinds_since(library["data_dir"], start)
    assert kinds.count("AuthenticationFailed") == 5 and kinds[-1] == "LockedOut"
    response = _login(app, STAFF, passphrase(STAFF), client_addr="192.0.2.8")  # too late
    assert response.status_code == 401 and "locked out" in response.get_data(as_text=True)


def test_sign_ins_posted_at_once_get_no_more_tries_than_one_at_a_time(
    app: Flask, library: dict[str, Any]
) -> None:
    """Web red team (session 16, HIGH): the throttle was checked before the passphrase and
    counted after it, so eight wrong sign-ins posted at once all passed the check, and one
    computer locked a member (the Director too) out. Now a try is counted as it begins."""
    import threading

    start = head(library["data_dir"])
    barrier = threading.Barrier(8)
    codes: list[int] = []

    def guess() -> None:
        client = app.test_client()
        html = client.get("/login").get_data(as_text=True)
        barrier.wait()
        response = client.post(
            "/login", data={"name": STAFF, "passphrase": "a guess", "csrf_token": token(html)}
        )
        codes.append(response.status_code)

    threads = [threading.Thread(target=guess) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [401] * 4 + [429] * 4
    kinds = kinds_since(library["data_dir"], start)
    assert kinds.count("AuthenticationFailed") == 4 and "LockedOut" not in kinds


def test_the_throttle_counts_a_try_as_it_begins() -> None:
    from web.app import SignInThrottle

    throttle, now, window = SignInThrottle(), NOW_UTC, timedelta(minutes=15)
    assert [throttle.attempt("c", now, 4, window, "Sam") for _ in range(4)] == [None] * 4
    assert throttle.attempt("c", now, 4, window, "Sam") == now + window  # none decided yet
    assert throttle.attempt("another", now, 4, window, "Sam") is None
    throttle.succeeded("c", "sam")  # a success takes back that name's counts
    assert throttle.attempt("c", now, 4, window, "Sam") is None


def test_signing_in_as_oneself_does_not_forget_the_guesses_at_someone_else(
    app: Flask, library: dict[str, Any]
) -> None:
    """Red team (session 13): three guesses at the Director's passphrase, one sign-in as
    oneself (which forgot this computer's failures), two more guesses: she was locked out,
    and again every 15 minutes."""
    start = head(library["data_dir"])
    for _ in range(3):
        assert _login(app, DIRECTOR, "a guess").status_code == 401
    assert _login(app, STAFF, passphrase(STAFF)).status_code == 302
    assert _login(app, "dana  DIRECTOR", "a guess").status_code == 401  # 4 of 5
    waits = _login(app, DIRECTOR, "a guess")
    assert waits.status_code == 429  # this computer's last try is not given
    kinds = kinds_since(library["data_dir"], start)
    assert kinds.count("AuthenticationFailed") == 4 and "LockedOut" not in kinds
    assert _login(app, DIRECTOR, passphrase(DIRECTOR), client_addr="192.0.2.9").status_code == 302
    # a member's own mistakes are forgotten when they sign in
    for _ in range(3):
        _login(app, STAFF, "typo", client_addr="192.0.2.20")
    assert _login(app, STAFF, passphrase(STAFF), client_addr="192.0.2.20").status_code == 302
    for _ in range(3):
        assert _login(app, STAFF, "typo", client_addr="192.0.2.20").status_code == 401


def test_wrong_one_time_codes_count_towards_the_lockout(
    app: Flask, library: dict[str, Any]
) -> None:
    """Web red-team F1: a wrong code said "1 of 5" every time, so whoever had the
    passphrase could guess codes without end."""
    from web import totp

    ledger = open_ledger(DataDir.open(library["data_dir"]), clock=ManualClock(
        app.extensions["custodes"].now()))  # fmt: skip
    totp.enrol(
        DataDir.open(library["data_dir"]), ledger.authenticate(STAFF, passphrase(STAFF).encode())
    )
    ledger.close()
    said = [
        _login(app, STAFF, passphrase(STAFF), code="000000", client_addr=f"192.0.2.{n}").get_data(
            as_text=True
        )
        for n in range(5)
    ]
    assert [f"{n} of 5" in text for n, text in enumerate(said, 1)] == [True] * 5
    assert "now locked out" in said[-1]
    # Red team (session 13): the right passphrase with a wrong code said "wrong one-time
    # code", confirming the guessed passphrase; now both read the same.
    wrong_pass = _login(app, DIRECTOR, "a guess", code="000000", client_addr="192.0.2.50")
    assert "wrong passphrase or one-time code for" in said[0]
    assert "wrong passphrase or one-time code for" in wrong_pass.get_data(as_text=True)
    assert not any("wrong one-time code for" in text for text in said)


def test_the_directors_own_lockout_lapses_after_the_window(
    app: Flask, library: dict[str, Any]
) -> None:
    """Web red-team F2: only the Director lifts a lockout, so five posts by anyone locked
    her out for good and stopped every decision."""
    for n in range(5):
        _login(app, DIRECTOR, "a guess by someone else", client_addr=f"192.0.2.{n}")
    locked = _login(app, DIRECTOR, passphrase(DIRECTOR), client_addr="192.0.2.99")
    assert locked.status_code == 401 and "sign in again after" in locked.get_data(as_text=True)
    clock = app.extensions["custodes"].ledger.clock
    clock.set(clock() + timedelta(minutes=15))
    assert _login(app, DIRECTOR, passphrase(DIRECTOR), client_addr="192.0.2.99").status_code == 302


def test_an_unknown_name_is_refused_and_recorded(app: Flask, library: dict[str, Any]) -> None:
    start = head(library["data_dir"])
    response = _login(app, "Mallory", "whatever it is she types")
    assert response.status_code == 401
    assert kinds_since(library["data_dir"], start) == ["AccessDenied"]
    near = _login(app, "Dana Directr", "whatever", client_addr="192.0.2.1")  # web red-team F2
    assert "did you mean" not in near.get_data(as_text=True)  # no names to strangers


def test_what_a_stranger_types_as_a_name_is_never_kept(app: Flask, library: dict[str, Any]) -> None:
    """Web red-team F3: a card number, or any message, typed in the name box went into
    the chain for good and onto the Director's page. Web red team (session 16): so did a
    passphrase of a few words (as IDENTITY.md advises), since it reads as a name; now no
    typed unknown name is kept, only its length and the member it is near."""
    from ledger.app import open_ledger as open_

    typed = [
        "Jane Patron card 2100012345",
        "URGENT: call IT 217-555-0199",
        "demo dana director",  # the Director's passphrase, typed in the name box
        "Mallory",
        "Sam Staf",
    ]
    for n, name in enumerate(typed):
        response = _login(app, name, "whatever", client_addr=f"192.0.2.{n}")
        shown = html.unescape(response.get_data(as_text=True))  # told, on their own screen
        assert f"{name!r} is not a registered staff member" in shown
    ledger = open_(DataDir.open(library["data_dir"]))
    refused = [(e.actor, repr(e.details)) for e in ledger.read_log(kinds=["AccessDenied"])][-5:]
    ledger.close()
    assert [actor for actor, _ in refused] == [
        "(an unknown name of 27 characters: not recorded)",
        "(an unknown name of 28 characters: not recorded)",
        "(an unknown name of 18 characters: not recorded)",
        "(an unknown name of 7 characters: not recorded)",
        f"(an unknown name of 8 characters, near {STAFF!r}: not recorded)",
    ]
    kept = [m.replace(f"near {STAFF!r}", "") for _, m in refused]  # the member it is near
    assert not [(name, m) for name in typed for m in kept if name in m]


def test_a_login_without_the_csrf_token_is_refused_and_nothing_recorded(
    app: Flask, library: dict[str, Any]
) -> None:
    start = head(library["data_dir"])
    response = app.test_client().post("/login", data={"name": STAFF, "passphrase": "wrong one"})
    assert response.status_code == 400
    assert "security token" in response.get_data(as_text=True)
    assert head(library["data_dir"]) == start


def test_a_form_posted_from_another_site_is_refused_before_anything_runs(
    app: Flask, library: dict[str, Any]
) -> None:
    client = sign_in(app, DIRECTOR)
    start = head(library["data_dir"])
    html = client.get("/").get_data(as_text=True)
    for headers in ({"Sec-Fetch-Site": "cross-site"}, {"Origin": "https://evil.example"}):
        response = client.post("/verify", data={"csrf_token": token(html)}, headers=headers)
        assert response.status_code == 400
        assert "another site" in response.get_data(as_text=True)
    assert head(library["data_dir"]) == start


def test_an_idle_session_ends_and_sends_the_browser_back_to_sign_in(
    app: Flask, clock: ManualClock
) -> None:
    client = sign_in(app, DIRECTOR)
    assert client.get("/requests").status_code == 200
    clock.advance(minutes=16)
    response = client.get("/requests")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/requests&expired=1"
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "without use" in html and 'value="/requests"' in html


def test_signing_out_ends_the_session(app: Flask) -> None:
    client = sign_in(app, DIRECTOR)
    response = post(client, "/logout", {}, form_page="/")
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_sign_in_goes_back_only_to_a_page_of_this_site(app: Flask) -> None:
    # (a browser drops tabs and newlines: "/\t/evil.example" would be "//evil.example")
    for target, landed in (("/requests", "/requests"), ("//evil.example/x", "/"),
                           ("https://evil.example", "/"), ("/\t/evil.example", "/"),
                           ("/\n/evil.example", "/")):  # fmt: skip
        client = app.test_client()
        html = client.get("/login", query_string={"next": target}).get_data(as_text=True)
        response = client.post(
            "/login",
            data={"name": DIRECTOR, "passphrase": passphrase(DIRECTOR), "next": target,
                  "csrf_token": token(html)},
        )  # fmt: skip
        assert response.headers["Location"] == landed


def test_a_key_reset_meanwhile_ends_the_session_and_is_recorded(
    app: Flask, library: dict[str, Any]
) -> None:
    client = sign_in(app, STAFF)
    from tests.identity import open_test_ledger

    ledger = open_test_ledger(DataDir.open(library["data_dir"]), clock=ManualClock(
        app.extensions["custodes"].now()))  # fmt: skip
    ledger.reset_staff(
        STAFF, actor=DIRECTOR, reason="forgot it", passphrase=b"a brand new passphrase"
    )
    ledger.close()
    start = head(library["data_dir"])
    response = client.get("/requests/new")  # a page that shows a form and signs nothing
    assert response.status_code == 403 and "requester" not in response.get_data(as_text=True)
    assert kinds_since(library["data_dir"], start) == ["AccessDenied"]
    assert client.get("/").status_code == 302  # signed out


def test_changing_ones_passphrase_ends_the_sessions_begun_before(
    app: Flask, library: dict[str, Any]
) -> None:
    """Red team (session 13): a browser signed in before the member changed their
    passphrase (perhaps because someone knew it) went on working."""
    client = sign_in(app, STAFF)
    from tests.identity import open_test_ledger

    clock = app.extensions["custodes"].ledger.clock
    clock.set(clock() + timedelta(minutes=1))
    ledger = open_test_ledger(DataDir.open(library["data_dir"]), clock=ManualClock(clock()))
    ledger.change_passphrase(
        actor=STAFF, current=passphrase(STAFF).encode(), new=b"a brand new passphrase here"
    )
    ledger.close()
    response = client.get("/requests")
    assert response.status_code == 302 and "/login?expired=1" in response.headers["Location"]
    assert client.get("/requests").status_code == 302  # and it stays ended
    clock.set(clock() + timedelta(minutes=1))
    fresh = sign_in(app, STAFF, "a brand new passphrase here")
    assert fresh.get("/requests").status_code == 200


def test_error_pages_say_what_happened_without_a_stack_trace(app: Flask) -> None:
    client = sign_in(app, DIRECTOR)
    response = client.get("/requests/R-2099-9999")
    html = response.get_data(as_text=True)
    assert response.status_code == 404 and "does not exist" in html
    assert "Traceback" not in html and 'File "' not in html
    assert client.get("/no/such/page").status_code == 404


def test_one_time_codes_once_enrolled_are_asked_for_and_a_wrong_one_recorded(
    app: Flask, library: dict[str, Any]
) -> None:
    from web import totp

    ledger = open_ledger(DataDir.open(library["data_dir"]), clock=ManualClock(
        app.extensions["custodes"].now()))  # fmt: skip
    signer = ledger.authenticate(DIRECTOR, passphrase(DIRECTOR).encode())
    uri = totp.enrol(DataDir.open(library["data_dir"]), signer)
    ledger.close()
    secret = pyotp.parse_uri(uri).secret
    assert (library["data_dir"] / "keys" / "totp").stat().st_mode & 0o077 == 0
    start = head(library["data_dir"])
    response = _login(app, DIRECTOR, passphrase(DIRECTOR))  # no code
    assert response.status_code == 401 and "one-time code" in response.get_data(as_text=True)
    assert kinds_since(library["data_dir"], start) == ["AuthenticationFailed"]
    good = pyotp.TOTP(secret).now()
    assert _login(app, DIRECTOR, passphrase(DIRECTOR), code=good).status_code == 302
    replay = _login(app, DIRECTOR, passphrase(DIRECTOR), code=good)
    assert replay.status_code == 401  # a code is good once


def test_a_huge_upload_is_refused_before_it_is_read(app: Flask) -> None:
    client = sign_in(app, DIRECTOR)
    response = client.post(
        "/requests/new", data=b"x" * (21 * 1024 * 1024), content_type="application/octet-stream"
    )
    assert response.status_code == 413


def test_serve_refuses_a_network_address_without_tls() -> None:
    from click.testing import CliRunner

    from cli.main import custodes

    result = CliRunner().invoke(custodes, ["serve", "--host", "0.0.0.0"])
    assert result.exit_code == 2 and "without TLS" in result.output


def test_loopback_addresses_are_told_from_the_network() -> None:
    from web.command import is_loopback

    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.0.2.10")


__all__ = ["timedelta"]


def test_totp_enrol_on_the_command_line_then_the_sign_in_asks_for_the_code(
    app: Flask, library: dict[str, Any]
) -> None:
    from cli.main import custodes
    from tests.identity import CustodesRunner

    data = str(library["data_dir"])
    own = {"CUSTODES_PASSPHRASE_FILE": str(passphrase_file(STAFF))}
    result = CustodesRunner().invoke(
        custodes, ["--data-dir", data, "totp", "enrol", STAFF], env=own
    )
    assert result.exit_code == 0, result.output
    uri = result.output.split("  ", 1)[1].strip()
    assert uri.startswith("otpauth://totp/")
    assert _login(app, STAFF, passphrase(STAFF)).status_code == 401
    code = pyotp.parse_uri(uri).now()  # type: ignore[union-attr]
    assert _login(app, STAFF, passphrase(STAFF), code=code).status_code == 302
    wrong = CustodesRunner().invoke(
        custodes,
        ["--data-dir", data, "totp", "remove", STAFF],
        env={"CUSTODES_PASSPHRASE_FILE": str(passphrase_file(DIRECTOR))},
    )  # fmt: skip (another member's passphrase: refused, recorded)
    assert wrong.exit_code == 1 and "wrong passphrase" in wrong.output
    done = CustodesRunner().invoke(custodes, ["--data-dir", data, "totp", "remove", STAFF], env=own)
    assert done.exit_code == 0 and "removed" in done.output
    assert _login(app, STAFF, passphrase(STAFF)).status_code == 302


def test_after_a_key_reset_the_old_one_time_codes_refuse_as_a_wrong_code_and_say_so(
    app: Flask, library: dict[str, Any], clock: ManualClock
) -> None:
    """Web red team (session 16): the codes' secret is sealed under the member's key, so
    after a reset the sign-in failed with a 500 for a right passphrase only (unrecorded, and
    telling a right passphrase from a wrong one), and the member was stuck."""
    from cli.main import custodes
    from tests.identity import CustodesRunner

    data = str(library["data_dir"])
    own = {"CUSTODES_PASSPHRASE_FILE": str(passphrase_file(STAFF))}
    enrolled = CustodesRunner().invoke(
        custodes, ["--data-dir", data, "totp", "enrol", STAFF], env=own
    )
    assert enrolled.exit_code == 0, enrolled.output
    reset = CustodesRunner().invoke(
        custodes, ["--data-dir", data, "staff", "reset", STAFF, "--reason", "lost laptop"]
    )
    assert reset.exit_code == 0, reset.output
    assert f'custodes totp enrol "{STAFF}"' in reset.output
    clock.advance(seconds=(datetime.now(UTC) - clock()).total_seconds() + 60)  # the CLI's time
    start = head(library["data_dir"])
    right, wrong = (
        _login(app, STAFF, secret, code="123456", client_addr=addr)
        for secret, addr in ((passphrase(STAFF), "192.0.2.30"), ("not it", "192.0.2.31"))
    )
    assert right.status_code == wrong.status_code == 401
    said = [  # the page without its CSRF token and the count of tries
        re.sub(r'value="[^"]*"|\(\d of 5[^)]*\)', "", r.get_data(as_text=True))
        for r in (right, wrong)
    ]
    assert said[0] == said[1] and "wrong passphrase or one-time code" in said[0]
    assert kinds_since(library["data_dir"], start) == ["AuthenticationFailed"] * 2
    again = CustodesRunner().invoke(custodes, ["--data-dir", data, "totp", "enrol", STAFF], env=own)
    uri = again.output.split("  ", 1)[1].strip()
    code = pyotp.parse_uri(uri).now()  # type: ignore[union-attr]
    assert _login(app, STAFF, passphrase(STAFF), code=code).status_code == 302


def test_behind_the_proxy_a_request_that_does_not_say_its_client_counts_as_remote() -> None:
    """Web red-team F4: behind an nginx that did not set X-Forwarded-For, every viewing
    was recorded as made on this machine."""
    from web.command import behind_proxy, is_loopback

    seen = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.append(environ["REMOTE_ADDR"])
        return []

    wrapped = behind_proxy(app)
    wrapped({"REMOTE_ADDR": "127.0.0.1", "wsgi.url_scheme": "http"}, None)
    wrapped({"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "192.0.2.5",
             "wsgi.url_scheme": "http"}, None)  # fmt: skip
    assert seen[1] == "192.0.2.5"
    assert not is_loopback(seen[0])  # the proxy's own 127.0.0.1 is not the client


def test_served_by_waitress_behind_the_proxy_the_client_is_the_one_the_proxy_names() -> None:
    """Web red team (session 16, HIGH): waitress removed X-Forwarded-For before the
    application saw it, so behind the proxy every client was 0.0.0.0: four typos anywhere
    kept everyone from signing in (one throttle for all), and every viewing was remote."""
    import http.client
    import threading

    from waitress.server import create_server

    from web.app import waitress_options
    from web.command import behind_proxy

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [f"{environ['REMOTE_ADDR']} {environ['wsgi.url_scheme']}".encode()]

    srv: Any = create_server(
        behind_proxy(app), host="127.0.0.1", port=0, asyncore_use_poll=True,
        **waitress_options(1, behind_tls_proxy=True),
    )  # fmt: skip
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    seen = []
    try:
        for headers in (
            {"X-Forwarded-For": "192.0.2.5", "X-Forwarded-Proto": "https"},
            {"X-Forwarded-For": "198.51.100.7", "X-Forwarded-Proto": "https"},
            {},  # a proxy that does not say who the client is
        ):
            conn = http.client.HTTPConnection("127.0.0.1", srv.effective_port, timeout=10)
            conn.request("GET", "/", headers=headers)
            seen.append(conn.getresponse().read().decode())
            conn.close()
    finally:
        srv.close()
        thread.join(timeout=5)
    assert seen == ["192.0.2.5 https", "198.51.100.7 https", "0.0.0.0 http"]
