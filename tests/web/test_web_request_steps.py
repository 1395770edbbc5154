"""What follows intake, in the browser: the court order with its structured scope and its
scan, Appendix 9 printed and the officer's signed scan recorded, the signed receipt and
the follow-up; the decision page's field-by-field rules. Allowed, refused and recorded,
CSRF missing (nothing recorded), uploads that are not a PDF or an image, huge uploads."""

from __future__ import annotations

import hashlib
import io
import re
from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from ledger import sitetime
from tests.identity import DIRECTOR, passphrase
from tests.web.conftest import COUNSEL, MANAGER, STAFF, head, kinds_since, reader, sign_in, token

CARD = "2100012345"
PDF = b"%PDF-1.4\n% a scanned court order\n" + b"0" * 5000
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 2000
SCRIPT = "<script>alert('x')</script>"


def _open(client: FlaskClient, **over: str) -> str:
    html = client.get("/requests/new").get_data(as_text=True)
    data = {
        "requester_kind": "law_enforcement",
        "requester": "Det. Ray, Mahomet PD",
        "received_by": STAFF,
        "records": ["registration"],
        "description": "who holds this card",
        "patron_card": CARD,
        "patron_name": "Pat Patron",
        "csrf_token": token(html),
        **over,
    }
    response = client.post("/requests/new", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    found = re.fullmatch(r"/requests/(R-\d{4}-\d{4})", response.headers["Location"])
    assert found
    return found.group(1)


def _submit(client: FlaskClient, path: str, data: dict[str, Any], *, csrf: bool = True) -> Any:
    html = client.get(path).get_data(as_text=True)
    body = dict(data)
    if csrf:
        body["csrf_token"] = token(html)
    return client.post(path, data=body, content_type="multipart/form-data")


def _decide(client: FlaskClient, name: str, ref: str, reason: str) -> Any:
    """Approve ``ref`` from its page as a browser does: the page's version and token, the
    member's passphrase again."""
    html = client.get(f"/requests/{ref}").get_data(as_text=True)
    seen = re.search(r'name="seen" type="hidden" value="(\d+)"', html)
    assert seen
    return client.post(
        f"/requests/{ref}/decide",
        data={"decision": "approve", "reason": reason, "seen": seen.group(1),
              "passphrase": passphrase(name), "csrf_token": token(html)},
    )  # fmt: skip


def _order(**over: Any) -> dict[str, Any]:
    return {
        "kind": "order",
        "signed_by_judge": "yes",
        "court": "Champaign County Circuit Court",
        "judge": "Hon. A. Judge",
        "case": "2026-CF-123",
        "issued": "2026-11-01T09:00",
        "served_at": "2026-11-02T08:30",
        "served_by": "Det. Ray, #42, Mahomet PD",
        "scope_patrons": CARD,
        "scope_records": ["registration"],
        "scope_from": "2026-10-01",
        "scope_to": "2026-10-31",
        "exclude_fields": ["phone"],
        "document": (io.BytesIO(PDF), "scans/order 2026-CF-123.pdf"),
        **over,
    }


def _emergency(**over: Any) -> dict[str, Any]:
    return {
        "signed_form": (io.BytesIO(PNG), "appendix9-signed.png"),
        "officer_name": "Lee Officer",
        "officer_rank": "Sgt",
        "badge_number": "4471",
        "agency": "Mahomet PD",
        "id_examined": "yes",
        "sworn_officer": "y",
        "court_order_impractical": "y",
        "imminent_danger": "y",
        "identification_purpose": "y",
        "role_sought": "suspect",
        "emergency_description": "a threat made at the library today",
        **over,
    }


def _view(library: dict[str, Any], ref: str) -> dict[str, Any]:
    ledger = reader(library["data_dir"])
    try:
        return ledger.request_view(ref)
    finally:
        ledger.close()


def test_a_court_order_is_entered_with_its_scope_and_its_scan_hashed(
    app: Flask, library: dict[str, Any]
) -> None:
    ref = _open(sign_in(app, STAFF))
    director = sign_in(app, DIRECTOR)
    form = director.get(f"/requests/{ref}/court-order").get_data(as_text=True)
    assert "site time, " in form and 'for="issued"' in form and 'enctype="multipart' in form
    start = head(library["data_dir"])
    response = _submit(director, f"/requests/{ref}/court-order", _order())
    assert response.status_code == 302, response.get_data(as_text=True)
    assert kinds_since(library["data_dir"], start) == ["CourtOrderRecorded"]
    order = _view(library, ref)["court_order"]
    assert order["document_sha256"] == hashlib.sha256(PDF).hexdigest()
    assert order["document_name"] == "order 2026-CF-123.pdf"  # no folder kept
    assert order["scope_records"] == ["registration"] and order["exclude_fields"] == ["phone"]
    assert order["scope_from"] == "2026-10-01" and order["issued"].hour == 15  # 09:00 CST
    html = director.get(f"/requests/{ref}").get_data(as_text=True)
    # the decision page: each field with the rule that allows or refuses it
    assert "Field by field" in html and "LRCA-COURT-ORDER" in html
    assert re.search(r"<td>name</td><td>may be released</td>", html)
    assert re.search(r'<tr class="refused"><td>phone</td><td>refused</td>', html)


def test_a_court_order_scan_that_is_not_a_pdf_or_an_image_is_refused_and_nothing_recorded(
    app: Flask, library: dict[str, Any]
) -> None:
    ref = _open(sign_in(app, STAFF))
    director = sign_in(app, DIRECTOR)
    start = head(library["data_dir"])
    for upload in (
        (io.BytesIO(b"MZ\x90\x00 an executable"), "order.pdf"),  # the name lies
        (io.BytesIO(b"<html>" + SCRIPT.encode()), "order.html"),
        (io.BytesIO(b""), "empty.pdf"),
    ):
        response = _submit(director, f"/requests/{ref}/court-order", _order(document=upload))
        html = response.get_data(as_text=True)
        assert response.status_code == 400 and "Nothing was recorded" in html
        assert "Champaign County Circuit Court" in html  # what was typed stays
    response = _submit(director, f"/requests/{ref}/court-order", _order(document=None))
    assert response.status_code == 400
    assert head(library["data_dir"]) == start


def test_a_huge_scan_is_refused_before_it_is_read_and_nothing_recorded(
    app: Flask, library: dict[str, Any]
) -> None:
    ref = _open(sign_in(app, STAFF))
    director = sign_in(app, DIRECTOR)
    start = head(library["data_dir"])
    huge = io.BytesIO(b"%PDF-1.4\n" + b"0" * (21 * 1024 * 1024))
    response = _submit(director, f"/requests/{ref}/court-order", _order(document=(huge, "o.pdf")))
    assert response.status_code == 413
    assert head(library["data_dir"]) == start


def test_a_court_order_form_without_the_csrf_token_records_nothing(
    app: Flask, library: dict[str, Any]
) -> None:
    ref = _open(sign_in(app, STAFF))
    director = sign_in(app, DIRECTOR)
    start = head(library["data_dir"])
    response = _submit(director, f"/requests/{ref}/court-order", _order(), csrf=False)
    assert response.status_code == 400 and "security token" in response.get_data(as_text=True)
    assert head(library["data_dir"]) == start


def test_a_court_order_served_in_the_future_is_refused_and_recorded(
    app: Flask, library: dict[str, Any]
) -> None:
    ref = _open(sign_in(app, STAFF))
    staff = sign_in(app, STAFF)
    start = head(library["data_dir"])
    response = _submit(staff, f"/requests/{ref}/court-order", _order(served_at="2026-12-24T09:00"))
    assert response.status_code == 403 and "was recorded" in response.get_data(as_text=True)
    assert kinds_since(library["data_dir"], start) == ["AccessDenied"]


def test_html_in_the_court_orders_text_is_shown_inert(app: Flask, library: dict[str, Any]) -> None:
    ref = _open(sign_in(app, STAFF))
    director = sign_in(app, DIRECTOR)
    response = _submit(
        director, f"/requests/{ref}/court-order", _order(court=SCRIPT, served_by=SCRIPT)
    )
    assert response.status_code == 302
    html = director.get(f"/requests/{ref}").get_data(as_text=True)
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_appendix9_is_printed_for_whoever_may_read_it_and_each_printing_recorded(
    app: Flask, library: dict[str, Any]
) -> None:
    staff = sign_in(app, STAFF)
    ref = _open(staff)
    assert "Print Appendix 9" in staff.get(f"/requests/{ref}").get_data(as_text=True)
    for client in (staff, sign_in(app, DIRECTOR), sign_in(app, COUNSEL)):
        start = head(library["data_dir"])
        response = client.get(f"/requests/{ref}/appendix9.pdf")
        assert response.status_code == 200 and response.mimetype == "application/pdf"
        assert response.data.startswith(b"%PDF-")
        assert f"{ref}-appendix9.pdf" in response.headers["Content-Disposition"]
        assert kinds_since(library["data_dir"], start) == ["ConfidentialRecordRead"]
    manager = sign_in(app, MANAGER)
    start = head(library["data_dir"])
    response = manager.get(f"/requests/{ref}/appendix9.pdf")
    assert response.status_code == 403 and "READ-CONFIDENTIAL" in response.get_data(as_text=True)
    assert kinds_since(library["data_dir"], start) == ["AccessDenied"]


def test_the_officers_signed_scan_is_recorded_then_decided_released_acknowledged_followed_up(
    app: Flask, library: dict[str, Any]
) -> None:
    staff = sign_in(app, STAFF)
    ref = _open(staff, records=["registration", "circulation"])
    start = head(library["data_dir"])
    response = _submit(staff, f"/requests/{ref}/emergency", _emergency())
    assert response.status_code == 302, response.get_data(as_text=True)
    assert kinds_since(library["data_dir"], start) == ["EmergencyRequestRecorded"]
    emergency = _view(library, ref)["emergency"]
    assert emergency["signed_form_sha256"] == hashlib.sha256(PNG).hexdigest()
    assert emergency["badge_number"] == "4471"

    director = sign_in(app, DIRECTOR)
    html = director.get(f"/requests/{ref}").get_data(as_text=True)
    assert re.search(r"<tr><td>name</td><td>may be released</td><td>LRCA-EMERGENCY-SCOPE", html)
    refused = r'<tr class="refused"><td>circulation history</td><td>refused at intake</td><td>LRCA-'
    assert re.search(refused, html)
    decided = _decide(director, DIRECTOR, ref, "all four representations")
    assert decided.status_code == 302
    html = director.get(f"/requests/{ref}").get_data(as_text=True)
    seen = re.search(r'name="seen" type="hidden" value="(\d+)"', html)
    assert seen
    released = director.post(
        f"/requests/{ref}/release",
        data={"fields": "name", "to": "Lee Officer", "method": "in person", "badge": "4471",
              "passphrase": passphrase(DIRECTOR), "seen": seen.group(1),
              "csrf_token": token(html)},
    )  # fmt: skip
    assert released.status_code == 302, released.get_data(as_text=True)
    html = director.get(f"/requests/{ref}").get_data(as_text=True)
    assert "Record the recipient's signed receipt" in html and "Resolve the follow-up" in html

    start = head(library["data_dir"])
    receipt = (io.BytesIO(b"\xff\xd8\xff\xe0 a photo of the receipt"), "receipt.jpg")
    response = _submit(staff, f"/requests/{ref}/acknowledge", {"signed_receipt": receipt})
    assert response.status_code == 302, response.get_data(as_text=True)
    assert kinds_since(library["data_dir"], start) == ["AcknowledgementRecorded"]
    html = director.get(f"/requests/{ref}").get_data(as_text=True)
    assert "Record the recipient's signed receipt" not in html
    # a second release (the page offers one; the command line more) asks for its own
    # receipt (R10; red team, session 21)
    ledger = reader(library["data_dir"])
    version = ledger._request(ref).version
    ledger.close()
    released = director.post(
        f"/requests/{ref}/release",
        data={"fields": "phone", "to": "Lee Officer", "method": "in person", "badge": "4471",
              "passphrase": passphrase(DIRECTOR), "seen": str(version),
              "csrf_token": token(html)},
    )  # fmt: skip
    assert released.status_code == 302, released.get_data(as_text=True)
    html = director.get(f"/requests/{ref}").get_data(as_text=True)
    assert "Record the recipient's signed receipt of release 2" in html

    start = head(library["data_dir"])
    follow = {"resolution": "closed", "reason": "the threat was withdrawn"}
    response = _submit(staff, f"/requests/{ref}/follow-up", follow)
    assert response.status_code == 403 and "was recorded" in response.get_data(as_text=True)
    assert kinds_since(library["data_dir"], start) == ["AccessDenied"]
    response = _submit(director, f"/requests/{ref}/follow-up", follow, csrf=False)
    assert response.status_code == 400
    assert head(library["data_dir"]) == start + 1
    response = _submit(director, f"/requests/{ref}/follow-up", follow)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert kinds_since(library["data_dir"], start + 1) == ["FollowUpResolved"]
    html = director.get(f"/requests/{ref}").get_data(as_text=True)
    assert "Resolve the follow-up" not in html and "the threat was withdrawn" in html


def test_an_emergency_request_past_its_window_offers_no_release(
    app: Flask, library: dict[str, Any], clock: Any
) -> None:
    """96 hours from the request the emergency path has closed (release_rules): the page
    says so, with the time it closed, and offers no release form to be refused."""
    staff = sign_in(app, STAFF)
    ref = _open(staff)
    assert _submit(staff, f"/requests/{ref}/emergency", _emergency()).status_code == 302
    director = sign_in(app, DIRECTOR)
    assert _decide(director, DIRECTOR, ref, "all four representations").status_code == 302
    html = director.get(f"/requests/{ref}").get_data(as_text=True)
    assert "Record the release" in html and "The emergency path held until" not in html
    clock.set(clock() + timedelta(hours=97))
    director = sign_in(app, DIRECTOR)  # days later: a new sign-in
    html = director.get(f"/requests/{ref}").get_data(as_text=True)
    assert "The emergency path held until" in html and "Record the release" not in html
    assert "96 hours from the request (passed: nothing more is released on it)" in html


def test_an_emergency_form_without_every_representation_is_refused_and_recorded(
    app: Flask, library: dict[str, Any]
) -> None:
    staff = sign_in(app, STAFF)
    ref = _open(staff)
    start = head(library["data_dir"])
    response = _submit(staff, f"/requests/{ref}/emergency", _emergency(imminent_danger=""))
    assert response.status_code == 403 and "was recorded" in response.get_data(as_text=True)
    assert kinds_since(library["data_dir"], start) == ["AccessDenied"]
    start = head(library["data_dir"])
    text = (io.BytesIO(b"just some text"), "scan.pdf")
    response = _submit(staff, f"/requests/{ref}/emergency", _emergency(signed_form=text))
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "not a PDF or an image" in html
    assert "Lee Officer" in html  # what was typed stays
    response = _submit(staff, f"/requests/{ref}/emergency", _emergency(), csrf=False)
    assert response.status_code == 400
    assert head(library["data_dir"]) == start


def test_a_receipt_for_nothing_released_is_not_recorded(
    app: Flask, library: dict[str, Any]
) -> None:
    staff = sign_in(app, STAFF)
    ref = _open(staff)
    start = head(library["data_dir"])
    response = _submit(
        staff, f"/requests/{ref}/acknowledge", {"signed_receipt": (io.BytesIO(PDF), "r.pdf")}
    )
    assert response.status_code == 400 and "Nothing has been released" in response.get_data(
        as_text=True
    )
    assert head(library["data_dir"]) == start
    assert staff.get("/requests/R-2099-0001/court-order").status_code == 404


def test_served_by_waitress_a_huge_upload_is_refused_before_its_body_is_sent(
    app: Flask, library: dict[str, Any]
) -> None:
    """As `custodes serve` runs it: the declared length alone gets the 413; the server
    does not wait for (or buffer) the 25 MB that would follow."""
    import socket
    import threading

    from waitress.server import create_server

    from web.app import waitress_options

    ref = _open(sign_in(app, STAFF))
    start = head(library["data_dir"])
    srv: Any = create_server(
        app, host="127.0.0.1", port=0, asyncore_use_poll=True, **waitress_options(1)
    )  # poll: closing it from this thread ends its loop without a select() on a closed fd
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    try:
        with socket.create_connection(("127.0.0.1", srv.effective_port), timeout=10) as s:
            s.sendall(
                f"POST /requests/{ref}/court-order HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                "Content-Type: multipart/form-data; boundary=x\r\n"
                f"Content-Length: {25 * 1024 * 1024}\r\n\r\n".encode()
            )  # and not one byte of the body
            answer = s.recv(200).decode("latin-1")
    finally:
        srv.close()
        thread.join(timeout=5)
    assert answer.startswith("HTTP/1.1 413")
    assert head(library["data_dir"]) == start


def test_counsel_reviews_the_order_and_no_one_else_may(app: Flask, library: dict[str, Any]) -> None:
    ref = _open(sign_in(app, STAFF))
    director = sign_in(app, DIRECTOR)
    assert _submit(director, f"/requests/{ref}/court-order", _order()).status_code == 302
    review = {"result": "sufficient", "notes": f"signed; scope clear {SCRIPT}"}
    start = head(library["data_dir"])
    response = _submit(director, f"/requests/{ref}/counsel-review", review)
    assert response.status_code == 403 and "was recorded" in response.get_data(as_text=True)
    assert kinds_since(library["data_dir"], start) == ["AccessDenied"]
    counsel = sign_in(app, COUNSEL)
    assert "Record counsel's review" in counsel.get(f"/requests/{ref}").get_data(as_text=True)
    start = head(library["data_dir"])
    assert (
        _submit(counsel, f"/requests/{ref}/counsel-review", review, csrf=False).status_code == 400
    )
    assert head(library["data_dir"]) == start
    defective = _submit(counsel, f"/requests/{ref}/counsel-review", {"result": "defective"})
    assert defective.status_code == 400 and "what is defective" in defective.get_data(as_text=True)
    response = _submit(counsel, f"/requests/{ref}/counsel-review", review)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert kinds_since(library["data_dir"], start) == ["CounselReviewRecorded"]
    html = counsel.get(f"/requests/{ref}").get_data(as_text=True)
    assert "&lt;script&gt;" in html and "<script>" not in html


def test_the_director_takes_the_foia_extension_once(app: Flask, library: dict[str, Any]) -> None:
    staff = sign_in(app, STAFF)
    ref = _open(staff, requester_kind="public", requester="Reporter", patron_card="",
                patron_name="")  # fmt: skip
    start = head(library["data_dir"])
    why = {"reason": "the footage must be reviewed and redacted"}
    response = _submit(staff, f"/requests/{ref}/foia-extend", why)
    assert response.status_code == 403
    assert kinds_since(library["data_dir"], start) == ["AccessDenied"]
    director = sign_in(app, DIRECTOR)
    html = director.get(f"/requests/{ref}").get_data(as_text=True)
    text = re.sub(r"<[^>]+>", "", html)  # times are <time> elements
    assert "Take the FOIA extension" in html and "(once, before 2026-11-" in text
    start = head(library["data_dir"])
    assert _submit(director, f"/requests/{ref}/foia-extend", why, csrf=False).status_code == 400
    assert head(library["data_dir"]) == start
    assert _submit(director, f"/requests/{ref}/foia-extend", why).status_code == 302
    assert kinds_since(library["data_dir"], start) == ["FoiaExtensionTaken"]
    again = _submit(director, f"/requests/{ref}/foia-extend", why)
    assert again.status_code == 400 and "once only" in again.get_data(as_text=True)
    assert "Take the FOIA extension" not in director.get(f"/requests/{ref}").get_data(as_text=True)


def test_an_order_recorded_after_the_decision_hides_the_release_until_decided_again(
    app: Flask, library: dict[str, Any]
) -> None:
    """Red-team H2 in the browser: the page says the decision predates the order and
    offers no release form until the Director decides again."""
    staff = sign_in(app, STAFF)
    ref = _open(staff)
    assert _submit(staff, f"/requests/{ref}/emergency", _emergency()).status_code == 302
    director = sign_in(app, DIRECTOR)

    def decide() -> str:
        decided = _decide(director, DIRECTOR, ref, "on what is recorded")
        assert decided.status_code == 302, decided.get_data(as_text=True)
        return director.get(f"/requests/{ref}").get_data(as_text=True)

    assert 'id="release"' in decide()
    assert _submit(staff, f"/requests/{ref}/court-order", _order()).status_code == 302
    html = director.get(f"/requests/{ref}").get_data(as_text=True)
    assert "was recorded after the decision" in html and 'id="release"' not in html
    html = decide()
    assert "was recorded after the decision" not in html and 'id="release"' in html


def test_a_request_received_before_it_is_entered_starts_its_foia_clock_then(
    app: Flask, library: dict[str, Any]
) -> None:
    staff = sign_in(app, STAFF)
    html = staff.get("/requests/new").get_data(as_text=True)
    assert "Received at, if before now (e.g. a letter opened yesterday) (site time," in html
    ref = _open(staff, requester_kind="public", records=["circulation"], patron_card="",
                patron_name="", received_at="2026-10-29T16:00")  # fmt: skip
    foia = _view(library, ref)["foia"]
    assert sitetime.iso_utc(foia["received_at"]) == "2026-10-29T21:00:00Z"  # 16:00 in Chicago
    html = sign_in(app, DIRECTOR).get(f"/requests/{ref}").get_data(as_text=True)
    assert re.search(r"Received \(claimed\)</dt>\s*<dd>2026-10-29 16:00 CDT", html), html


def test_the_acting_director_decides_in_the_browser(
    app: Flask, library: dict[str, Any], clock: Any
) -> None:
    """The pages gave an acting Director her own role's: no Decide form, no Director's
    menu. Under a delegation she is shown, and acts, as the Director, citing it (R3)."""
    from web.app import desk

    with app.app_context():
        ledger = desk().ledger
        ledger.authenticate(DIRECTOR, passphrase(DIRECTOR).encode())
        delegation = ledger.delegate_director(
            MANAGER, start=clock(), until=clock() + timedelta(days=3),
            authority="board minutes item 4", actor=DIRECTOR,
        )  # fmt: skip
        ledger.forget_unlocked()
    ref = _open(sign_in(app, STAFF))
    _submit(sign_in(app, STAFF), f"/requests/{ref}/emergency", _emergency())
    acting = sign_in(app, MANAGER)
    html = acting.get(f"/requests/{ref}").get_data(as_text=True)
    assert f"(Director, acting, delegation {delegation})" in html and 'id="decide"' in html
    decided = _decide(acting, MANAGER, ref, "all four representations")
    assert decided.status_code == 302, decided.get_data(as_text=True)
    assert _view(library, ref)["decision"]["by"] == MANAGER
    clock.set(clock() + timedelta(days=3, minutes=1))  # the delegation has ended
    html = sign_in(app, MANAGER).get(f"/requests/{ref}").get_data(as_text=True)
    assert "acting" not in html and 'id="decide"' not in html


def test_the_appendix9_as_downloaded_is_not_taken_for_the_officers_signed_form(
    app: Flask, library: dict[str, Any]
) -> None:
    """Red-team (redteam9): the form the dashboard printed, uploaded back unsigned, was
    recorded as the officer's signed Appendix 9 (R10); it is refused and recorded."""
    staff = sign_in(app, STAFF)
    ref = _open(staff)
    printed = staff.get(f"/requests/{ref}/appendix9.pdf").get_data()
    start = head(library["data_dir"])
    upload = (io.BytesIO(printed), "appendix9.pdf")
    response = _submit(staff, f"/requests/{ref}/emergency", _emergency(signed_form=upload))
    html = response.get_data(as_text=True)
    assert response.status_code == 403 and "LRCA-EMERGENCY-FORM" in html, html
    assert kinds_since(library["data_dir"], start)[-1] == "AccessDenied"
    assert _view(library, ref)["emergency"] is None
